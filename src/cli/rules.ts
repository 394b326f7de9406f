/**
 * `tracewatch rules FILE...`: lint saved rulesets.
 */
import {lazyList, visibleDeep, writeJsonText} from '../ui/visible.js';
import {parseArgs} from 'node:util';
import {lintRulesets, RULE_KINDS} from '../model/findings/lint.js';
import type {Finding} from '../model/findings/types.js';
import {notUnderstood, rulesetTables, valueText} from '../parser/rule-data.js';
import type {Chain, Rule, RuleOption, Ruleset} from '../parser/ruleset.js';
import {colors, plain, renderFindings, type Style} from '../ui/text.js';
import {visible} from '../ui/visible.js';
import {loadRules, reportRulesetProblems} from './io.js';
import {argumentError, EXIT, stdout, UsageError} from './terminal.js';

export const RULES_HELP = `Usage: tracewatch rules FILE... [options]

Reads saved rulesets (iptables-save, ip6tables-save, iptables -S; legacy or nft; and native
nftables: nft list ruleset, with or without -a) and reports what is stale or wrong: chains
nothing jumps to (leftovers such as OLD_CILIUM_*), jumps to empty or missing chains, loops of
jumps, duplicate rules, rules that can never match, TRACE/LOG rules and meta nftrace left behind,
legacy and nft rules on one host, nft sets nothing reads, nft base chains whose order is not
defined, and (with counters, iptables-save -c) rules that never matched.

Options:
  --format text|json   json prints every dump's tables, chains and rules as data, then the
                       findings: {"rulesets":[{…, "tables":[…]}], "findings":[…]} (docs/json.md)
  -v, --verbose        text: every rule, with its matches, options and target as tracewatch
                       reads them, and what it does not understand
  --kind KIND          only these kinds (repeatable, or comma-separated): unreferenced-chain,
                       empty-chain-jump, missing-chain, jump-loop, duplicate-rule, shadowed-rule,
                       trace-rule-left, mixed-backends, zero-hit, unreferenced-set, hook-order
  --min-severity S     info (default), warning or error
  --fail-on S          exit 4 when a finding of severity S or worse is reported (for CI)
  --color / --no-color
  -h, --help

Examples:
  tracewatch rules node.save
  iptables-save -c > node.save; ip6tables-save -c > node6.save; tracewatch rules node.save node6.save
  tracewatch rules --kind unreferenced-chain,trace-rule-left --format json node.save | jq '.findings[].message'
  tracewatch rules node.save --format json | jq '.rulesets[].tables[].chains[].rules[] | select(.understood | not)'
  tracewatch rules -v node.save

Exit status: 0 done; 1 a dump had lines that could not be read; 2 usage error; 4 --fail-on matched.`;

const RANK = {info: 0, warning: 1, error: 2} as const;
type Severity = keyof typeof RANK;

function severity(name: string | undefined, flag: string): Severity | undefined {
	if (name === undefined) return undefined;
	if (!(name in RANK)) throw new UsageError(`${flag} must be info, warning or error, not "${name}"`);
	return name as Severity;
}

export function describeRuleset(rs: Ruleset): string {
	let chains = 0;
	let rules = 0;
	for (const t of rs.tables.values()) {
		for (const c of t.chains.values()) {
			chains++;
			rules += c.rules.length;
		}
	}
	const by = rs.generatedBy ? `${rs.generatedBy.replace(/ on .*$/, '')}, ` : '';
	return `${rs.path}: ${by}${rs.format === 'list-rules' ? 'iptables -S form, ' : rs.format === 'nft' ? 'nft list ruleset, ' : rs.format === 'nft-json' ? 'nft -j list ruleset, ' : ''}${rs.family === 'ipv6' ? 'IPv6, ' : ''}${rs.tables.size} table(s), ${chains} chain(s), ${rules} rule(s)`;
}

/**
 * An option as written, then what it means when that says more than the words (`0x4000/0x4000`
 * needs nothing; `cali+` says it is a prefix), or that it was not understood.
 */
function optionLine(o: RuleOption, understood: boolean, s: Style): string {
	const written = visible(o.words.join(' '));
	if (!understood) return `${written}${s.yellow('  not understood')}`;
	const meaning = valueText(o.value);
	const said = o.values.join(' ');
	const same = meaning === said || meaning === `"${said}"` || `"${meaning}"` === said || said.endsWith(` "${meaning}"`) || said.endsWith(` ${meaning}`) || meaning === 'yes' || meaning.replaceAll(', ', ',') === said;
	return same ? written : `${written}${s.dim(`  = ${visible(meaning)}`)}`;
}

const WALK: Readonly<Record<string, string>> = {
	ends: 'the walk ends here',
	continues: 'the walk goes on to the next rule',
	'may-continue': 'the walk may end here or go on',
	jump: 'jumps, and comes back unless the chain ends the walk',
	goto: 'goes to the chain, never comes back here',
};

/** One rule as tracewatch reads it: its matches with their options, its target, what it does not understand. */
function renderRule(rule: Rule, s: Style): string[] {
	const handle = rule.handle === undefined ? '' : `  handle ${rule.handle}`;
	const out = [`    ${s.bold(String(rule.pos).padStart(3))}  ${s.dim(`line ${rule.line}${handle}`)}  ${visible(rule.text)}`];
	const missing = new Set(notUnderstood(rule.parsed));
	const unread = (o: RuleOption) => o.value.kind === 'unknown' || [...missing].some(m => m.startsWith(`${o.name} `));
	for (const m of rule.parsed.matches) {
		const label = m.nft ? m.module : m.load === 'explicit' ? `-m ${m.module}` : m.module || '(no match)';
		const note = m.hidden ? ' (xt match: its options are not in this listing)' : m.unknown ? ' (a module tracewatch does not model)' : '';
		const head = `${visible(label)}${note ? s.yellow(note) : ''}`;
		if (m.options.length === 0) out.push(`         ${head}`);
		m.options.forEach((o, i) => out.push(`         ${(i === 0 ? head : '').padEnd(14)} ${optionLine(o, !unread(o), s)}`));
	}
	const actions = rule.parsed.actions ?? (rule.parsed.target ? [rule.parsed.target] : []);
	for (const t of actions) {
		const head = t.nft ? (t.kind === 'chain' ? t.nft : t.name) : `${t.goto ? '-g' : '-j'} ${t.name}`;
		const kind = t.kind === 'chain' ? 'user chain' : t.kind === 'map' ? `verdict map${t.map ? ` @${t.map}` : ''}${t.chains && t.chains.length > 0 ? ` (${t.chains.length} chain(s))` : ''}` : t.kind;
		const decides = t === rule.parsed.target || actions.length === 1 ? WALK[t.walk] ?? t.walk : WALK.continues!;
		out.push(`         ${visible(head).padEnd(14)} ${s.dim(`${visible(kind)}: ${decides}`)}${t.hidden ? s.yellow(' (xt target: its options are not in this listing)') : ''}`);
		for (const o of t.options) out.push(`         ${''.padEnd(14)} ${optionLine(o, !unread(o), s)}`);
	}
	for (const p of rule.parsed.pieces) if (p.piece === 'stray') out.push(`         ${s.yellow(`stray word ${visible(p.words[0])}`)}`);
	if (missing.size > 0) out.push(`         ${s.yellow(`not understood: ${visible([...missing].join('; '))}`)}`);
	return out;
}

function renderChain(chain: Chain, s: Style): string[] {
	const counters = chain.policyCounters ? ` [${chain.policyCounters.packets}:${chain.policyCounters.bytes}]` : '';
	const n = chain.nft;
	const head = n
		? `chain ${chain.name}: type ${n.type} hook ${n.hook}${n.device ? ` device ${n.device}` : ''} priority ${n.priorityText}${n.priority !== undefined && String(n.priority) !== n.priorityText ? ` (${n.priority})` : ''}; policy ${(chain.policy ?? 'accept').toLowerCase()}`
		: chain.handle !== undefined || chain.table === '' ? `chain ${chain.name}` : `:${chain.name} ${chain.policy ?? '-'}${counters}`;
	const where = [chain.declaredAt ? `line ${chain.declaredAt}` : '', chain.handle === undefined ? '' : `handle ${chain.handle}`].filter(Boolean).join('  ');
	const out = [`  ${s.cyan(visible(head))}${where ? s.dim(`  ${where}`) : ''}`];
	for (const rule of chain.rules) out.push(...renderRule(rule, s));
	return out;
}

/** Every table, chain and rule of a dump, each rule with its structure (`rules -v`). */
export function renderRuleset(rs: Ruleset, s: Style = plain): string {
	const out: string[] = [];
	for (const table of rs.tables.values()) {
		out.push(s.bold(visible(table.family ? `table ${table.family} ${table.name}${table.iptablesNft ? ' (iptables-nft)' : ''}` : `*${table.name}`)));
		for (const set of table.sets?.values() ?? []) {
			out.push(`  ${s.cyan(visible(`${set.map ? 'map' : 'set'} ${set.name}${set.type ? `: ${set.type}` : ''}`))}${s.dim(`  line ${set.line}, ${set.elements.length} element(s)${set.flags.length > 0 ? `, flags ${set.flags.join(',')}` : ''}`)}`);
		}
		for (const chain of table.chains.values()) out.push(...renderChain(chain, s));
	}
	return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** The options `tracewatch rules` takes, for the suggestions of a mistyped one. */
const RULES_OPTIONS = ['format', 'kind', 'min-severity', 'fail-on', 'verbose', 'color', 'no-color', 'help'];

export async function rules(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				format: {type: 'string'},
				kind: {type: 'string', multiple: true},
				'min-severity': {type: 'string'},
				'fail-on': {type: 'string'},
				verbose: {type: 'boolean', short: 'v'},
				color: {type: 'boolean'},
				'no-color': {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
			},
		});
	} catch (error) {
		throw argumentError(error, RULES_OPTIONS);
	}
	const {values, positionals} = parsed;
	if (values.help) {
		stdout.write(`${RULES_HELP}\n`);
		return EXIT.ok;
	}
	if (positionals.length === 0) throw new UsageError('give one or more saved rulesets: tracewatch rules node.save');
	const format = values.format ?? 'text';
	if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
	const min = severity(values['min-severity'], '--min-severity') ?? 'info';
	const failOn = severity(values['fail-on'], '--fail-on');
	const kinds = new Set((values.kind ?? []).flatMap(k => k.split(',')).filter(Boolean));
	const unknown = [...kinds].filter(k => !RULE_KINDS.includes(k));
	if (unknown.length > 0) throw new UsageError(`unknown --kind ${unknown.join(', ')}; the kinds are ${RULE_KINDS.join(', ')}`);
	const style = values['no-color'] ? plain : values.color || stdout.color ? colors : plain;

	// No progress while a script waits for JSON in a file.
	const rulesets = positionals.map(path => loadRules(path, {progress: !(format === 'json' && !stdout.isTTY)}));
	let problems = 0;
	for (const rs of rulesets) problems += reportRulesetProblems(rs);

	const findings: Finding[] = lintRulesets(rulesets).filter(f => RANK[f.severity] >= RANK[min] && (kinds.size === 0 || kinds.has(f.kind)));

	if (format === 'json') {
		// Written as it is serialised: the document of a large dump is hundreds of MB as one string.
		writeJsonText(
			{
				tracewatch: 1,
				rulesets: rulesets.map(rs => ({
					path: rs.path,
					format: rs.format,
					family: rs.family,
					backend: rs.backend,
					...(rs.generatedBy ? {generatedBy: rs.generatedBy} : {}),
					problems: rs.problems,
					// Each rule made as data when it is written, not all of them first.
					tables: rulesetTables(rs, lazyList),
				})),
				findings,
			},
			2,
			text => stdout.write(text),
			// Down to each rule (document, rulesets, a ruleset, tables, a table, chains, a chain, rules, a rule).
			8,
		);
		stdout.write('\n');
	} else {
		for (const rs of rulesets) {
			stdout.write(`${describeRuleset(visibleDeep(rs))}\n`);
			if (values.verbose) stdout.write(`${renderRuleset(rs, style)}\n`);
		}
		stdout.write(`\n${renderFindings(visibleDeep(findings), style)}\n`);
	}
	if (failOn && findings.some(f => RANK[f.severity] >= RANK[failOn])) return 4;
	return problems > 0 ? EXIT.inputErrors : EXIT.ok;
}
