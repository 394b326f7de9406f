/**
 * `tracewatch diff WORKING BROKEN`: what differs in meaning between two nodes' rulesets.
 */
import {jsonText, visibleDeep} from '../ui/visible.js';
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {diffRulesets, type Difference, type RuleDiff} from '../model/diff.js';
import {findDivergence, pickPair, type Divergence} from '../model/divergence.js';
import {collect} from '../model/collect.js';
import {ruleMentions} from '../model/rule-query.js';
import type {Packet} from '../model/types.js';
import {parseTraceText} from '../parser/line-stream.js';
import type {Ruleset} from '../parser/ruleset.js';
import {colors, plain, type Style} from '../ui/text.js';
import {loadRules, openInput, reportRulesetProblems} from './io.js';
import {argumentError, EXIT, stdout, UsageError, warn} from './terminal.js';

export const DIFF_HELP = `Usage: tracewatch diff WORKING BROKEN [options]

Compares the saved rulesets of a node that works and one that does not (iptables-save or
iptables -S form, legacy or nft; or two native nftables listings, nft list ruleset with or
without -a) and shows only what differs in meaning: per table and chain, rules only on one node,
changed rules, policy changes, and order changes that matter; for nft listings also base chains
whose type, hook or priority differ and sets or maps only one node has. An iptables dump against
an nft listing (iptables-nft-save beside nft list ruleset) compares the listing's iptables-nft
tables rule by rule by what the rules match and do, leaving native tables out.

Node-specific noise is mapped away and listed once as "treated as the same": counters, header
comments, interface names in the same role (wlp59s0 ↔ enp3s0, cali1a2b… ↔ cali7c9d…), chains
named after them (cali-fw-<veth>), generated chain names and rule ids (KUBE-SEP-<hash>,
cali:<id>), the node's own addresses and pod block; in nft listings also handles and the
elements of sets and maps. Fixes are iptables commands, or nft commands for nft listings.

Options:
  --same A=B                 treat working name/address A and broken B as the same (repeatable)
  --trace-working FILE       a trace of a request on the working node (needs the same request
  --trace-broken FILE        traced on the broken node): says where the broken path parts and
                             which difference explains it
  --format text|json         json: {"differences":[…], "mappings":[…], …} (docs/json.md)
  --color / --no-color
  -h, --help

Examples:
  tracewatch diff <(ssh node1 sudo iptables-save) <(ssh node2 sudo iptables-save)
  tracewatch diff working.save broken.save --same eth0=ens5
  tracewatch diff <(ssh node1 sudo nft -a list ruleset) <(ssh node2 sudo nft -a list ruleset)
  tracewatch diff working.save broken.save --trace-working ok.log --trace-broken bad.log

Exit status: 0 no differences in meaning; 1 differences found (like diff(1)); 2 usage error.`;

function parseSame(values: readonly string[]): Array<[string, string]> {
	return values.map(v => {
		const i = v.indexOf('=');
		if (i <= 0 || i === v.length - 1) throw new UsageError(`--same takes WORKING=BROKEN, not "${v}"`);
		return [v.slice(0, i), v.slice(i + 1)];
	});
}

/** The packets of a node's trace, rebuilt and joined to its ruleset. */
function tracePackets(path: string, rules: Ruleset): Packet[] {
	openInput(path); // same error messages as replay for a missing file
	const text = readFileSync(path, 'utf8');
	return collect([{path, lines: parseTraceText(text)}], {rules: [rules]}).packets;
}

const LABEL: Record<Difference['kind'], string> = {
	'only-in-working': 'only on the working node',
	'only-in-broken': 'only on the broken node',
	changed: 'changed',
	policy: 'policy differs',
	order: 'order differs',
};

export function renderDiff(diff: RuleDiff, names: {working: string; broken: string}, s: Style = plain, divergence?: Divergence): string {
	const out: string[] = [];
	out.push(s.bold(`Comparing ${names.working} (working) with ${names.broken} (broken)`));
	out.push('');
	out.push(s.bold('Treated as the same (node-specific):'));
	for (const m of diff.mappings) out.push(`  ${m.working} ↔ ${m.broken}  ${s.dim(`(${m.why})`)}`);
	for (const i of diff.ignored) out.push(`  ${s.dim(`ignored: ${i}`)}`);
	out.push('');
	if (diff.differences.length === 0) {
		out.push(s.green('No differences in meaning.'));
	} else {
		out.push(s.bold(`Differences in meaning (${diff.differences.length}):`));
		let last = '';
		for (const d of diff.differences) {
			const where = `${d.table}:${d.chain}`;
			if (where !== last) {
				out.push(`  ${s.cyan(where)}`);
				last = where;
			}
			const times = d.count ? ` ×${d.count}` : '';
			const chainLevel = d.rules !== undefined ? ` (chain with ${d.rules} rule(s))` : '';
			switch (d.kind) {
				case 'only-in-working':
					out.push(`    ${s.red('-')} ${LABEL[d.kind]}${times}${chainLevel}: ${d.working}${d.workingLine ? s.dim(`   ${names.working}:${d.workingLine}`) : ''}`);
					if (d.fix && !d.count) out.push(s.dim(`        to add it on the broken node: ${d.fix}`));
					break;
				case 'only-in-broken':
					out.push(`    ${s.green('+')} ${LABEL[d.kind]}${times}${chainLevel}: ${d.broken}${d.brokenLine ? s.dim(`   ${names.broken}:${d.brokenLine}`) : ''}`);
					if (d.fix && !d.count) out.push(s.dim(`        to remove it there: ${d.fix}`));
					break;
				default:
					out.push(`    ${s.yellow('~')} ${LABEL[d.kind]}:`);
					out.push(`        working: ${d.working}${d.workingPos ? s.dim(`  (position ${d.workingPos})`) : ''}`);
					out.push(`        broken:  ${d.broken}${d.brokenPos ? s.dim(`  (position ${d.brokenPos})`) : ''}`);
			}
		}
	}
	if (divergence) {
		out.push('');
		out.push(s.bold('Where the traced packet parts:'));
		out.push(`  ${divergence.message}`);
	}
	return out.join('\n');
}

export async function diff(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				same: {type: 'string', multiple: true},
				'trace-working': {type: 'string'},
				'trace-broken': {type: 'string'},
				format: {type: 'string'},
				color: {type: 'boolean'},
				'no-color': {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
			},
		});
	} catch (error) {
		throw argumentError(error);
	}
	const {values, positionals} = parsed;
	if (values.help) {
		stdout.write(`${DIFF_HELP}\n`);
		return EXIT.ok;
	}
	if (positionals.length !== 2) throw new UsageError('give two saved rulesets: tracewatch diff WORKING BROKEN');
	const format = values.format ?? 'text';
	if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
	if (Boolean(values['trace-working']) !== Boolean(values['trace-broken'])) throw new UsageError('--trace-working and --trace-broken go together');
	const style = values['no-color'] ? plain : values.color || stdout.color ? colors : plain;

	const [workingPath, brokenPath] = positionals as [string, string];
	// No progress while a script waits for JSON in a file.
	const progress = !(format === 'json' && !stdout.isTTY);
	const working = loadRules(workingPath, {progress});
	const broken = loadRules(brokenPath, {progress});
	reportRulesetProblems(working);
	reportRulesetProblems(broken);
	const same = parseSame(values.same ?? []);
	// A name that is in neither dump is a typo: the pairing would silently do nothing (or the fix would name it).
	for (const [a, b] of same) {
		for (const [name, rs] of [[a, working], [b, broken]] as const) {
			if (!mentions(rs, name)) warn(`tracewatch: --same ${a}=${b}: ${name} does not appear in ${rs.path}`);
		}
	}
	const result = diffRulesets(working, broken, {same});

	let divergence: Divergence | undefined;
	if (values['trace-working'] && values['trace-broken']) {
		const pair = pickPair(tracePackets(values['trace-working'], working), tracePackets(values['trace-broken'], broken));
		if (!pair) throw new UsageError('the two traces have no packets of the same request (same protocol, destination and port) to compare');
		divergence = findDivergence(pair[0], pair[1], result);
	}

	if (format === 'json') {
		stdout.write(`${jsonText({tracewatch: 1, working: workingPath, broken: brokenPath, ...result, ...(divergence ? {divergence} : {})}, 2)}\n`);
	} else {
		stdout.write(`${renderDiff(visibleDeep(result), visibleDeep({working: workingPath, broken: brokenPath}), style, visibleDeep(divergence))}\n`);
	}
	return result.differences.length > 0 ? EXIT.inputErrors : EXIT.ok;
}

/** Whether a dump names `word` anywhere: a chain, or a rule argument (an address with or without its prefix length). */
function mentions(rs: Ruleset, word: string): boolean {
	for (const table of rs.tables.values()) {
		for (const chain of table.chains.values()) {
			if (chain.name === word) return true;
			for (const r of chain.rules) if (ruleMentions(r, word)) return true;
		}
	}
	return false;
}
