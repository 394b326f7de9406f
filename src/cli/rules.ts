/**
 * `tracewatch rules FILE...`: lint saved rulesets.
 */
import {jsonText, visibleDeep} from '../ui/visible.js';
import {parseArgs} from 'node:util';
import {lintRulesets, RULE_KINDS} from '../model/findings/lint.js';
import type {Finding} from '../model/findings/types.js';
import type {Ruleset} from '../parser/ruleset.js';
import {colors, plain, renderFindings} from '../ui/text.js';
import {loadRules, reportRulesetProblems} from './io.js';
import {argumentError, EXIT, stdout, UsageError} from './terminal.js';

export const RULES_HELP = `Usage: tracewatch rules FILE... [options]

Reads saved rulesets (iptables-save, ip6tables-save, iptables -S; legacy or nft) and reports what
is stale or wrong: chains nothing jumps to (leftovers such as OLD_CILIUM_*), jumps to empty or
missing chains, duplicate rules, rules that can never match, TRACE/LOG rules left behind, legacy
and nft rules on one host, and (with counters, iptables-save -c) rules that never matched.

Options:
  --format text|json   json prints {"findings":[…]} (see docs/findings.md)
  --kind KIND          only these kinds (repeatable, or comma-separated): unreferenced-chain,
                       empty-chain-jump, missing-chain, duplicate-rule, shadowed-rule,
                       trace-rule-left, mixed-backends, zero-hit
  --min-severity S     info (default), warning or error
  --fail-on S          exit 4 when a finding of severity S or worse is reported (for CI)
  --color / --no-color
  -h, --help

Examples:
  tracewatch rules node.save
  iptables-save -c > node.save; ip6tables-save -c > node6.save; tracewatch rules node.save node6.save
  tracewatch rules --kind unreferenced-chain,trace-rule-left --format json node.save | jq '.findings[].message'

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
	return `${rs.path}: ${by}${rs.format === 'list-rules' ? 'iptables -S form, ' : ''}${rs.family === 'ipv6' ? 'IPv6, ' : ''}${rs.tables.size} table(s), ${chains} chain(s), ${rules} rule(s)`;
}

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

	const rulesets = positionals.map(loadRules);
	let problems = 0;
	for (const rs of rulesets) problems += reportRulesetProblems(rs);

	const findings: Finding[] = lintRulesets(rulesets).filter(f => RANK[f.severity] >= RANK[min] && (kinds.size === 0 || kinds.has(f.kind)));

	if (format === 'json') {
		stdout.write(
			`${jsonText(
				{
					tracewatch: 1,
					rulesets: rulesets.map(rs => ({path: rs.path, format: rs.format, family: rs.family, backend: rs.backend, problems: rs.problems})),
					findings,
				},
				2,
			)}\n`,
		);
	} else {
		for (const rs of rulesets) stdout.write(`${describeRuleset(visibleDeep(rs))}\n`);
		stdout.write(`\n${renderFindings(visibleDeep(findings), style)}\n`);
	}
	if (failOn && findings.some(f => RANK[f.severity] >= RANK[failOn])) return 4;
	return problems > 0 ? EXIT.inputErrors : EXIT.ok;
}
