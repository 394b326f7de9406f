/**
 * Conformance to the iptables project's own extension tests: every rule of extensions/*.t that
 * iptables-legacy and iptables-nft load into this kernel, IPv4 and IPv6, as iptables-save printed
 * it (testdata/conformance/iptables/, made by scripts/conformance/iptables.sh; README.md there
 * names the upstream commit).
 *
 * Input:  testdata/conformance/iptables/{legacy,nft}-{ipv4,ipv6}.save
 * Output: every line read without a problem; at least 95 % of the rules with every match, option
 *         and the target understood (the figures and what is still text, by extension, are
 *         printed); lint reports no rule as shadowed by a rule whose target lets the walk go on.
 */
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {lintRulesets} from '../src/model/findings/lint.js';
import {notUnderstood} from '../src/parser/rule-data.js';
import {parseRuleset, type Rule, type Ruleset} from '../src/parser/ruleset.js';
import {ROOT} from './support/replay.js';

const DUMPS = ['legacy-ipv4.save', 'legacy-ipv6.save', 'nft-ipv4.save', 'nft-ipv6.save'];
const dir = `${ROOT}/testdata/conformance/iptables`;

const rulesets: Ruleset[] = DUMPS.map(name => parseRuleset(readFileSync(`${dir}/${name}`, 'utf8'), `testdata/conformance/iptables/${name}`));

function rulesOf(rs: Ruleset): Rule[] {
	return [...rs.tables.values()].flatMap(t => [...t.chains.values()].flatMap(c => c.rules));
}

/** The extensions a rule uses: its match modules and its target. */
function extensions(rule: Rule): string[] {
	return [...rule.parsed.matches.filter(m => m.load === 'explicit').map(m => `-m ${m.module}`), ...(rule.parsed.target ? [`-j ${rule.parsed.target.name}`] : [])];
}

describe('iptables conformance corpus (extensions/*.t, loaded and saved by the real tools)', () => {
	it('every line of every dump is read without a problem', () => {
		for (const rs of rulesets) {
			expect(rs.problems, rs.path).toEqual([]);
			expect(rs.format).toBe('save');
			expect(rulesOf(rs).length, rs.path).toBeGreaterThan(1000);
		}
	});

	it('at least 95 % of the rules are fully structured; the figures and what is still text are printed', () => {
		let total = 0;
		let full = 0;
		const text = new Map<string, {rules: number; example: string}>();
		const lines: string[] = [];
		for (const rs of rulesets) {
			const rules = rulesOf(rs);
			let understood = 0;
			for (const rule of rules) {
				const missing = notUnderstood(rule.parsed);
				if (missing.length === 0) {
					understood++;
					continue;
				}
				for (const ext of extensions(rule).length > 0 ? extensions(rule) : ['(basic)']) {
					const e = text.get(ext);
					if (e) e.rules++;
					else text.set(ext, {rules: 1, example: `${rule.text}  [${missing.join('; ')}]`});
				}
			}
			total += rules.length;
			full += understood;
			lines.push(`  ${rs.path}: ${understood}/${rules.length} rules fully structured (${((100 * understood) / rules.length).toFixed(1)} %)`);
		}
		lines.push(`  all: ${full}/${total} (${((100 * full) / total).toFixed(1)} %)`);
		for (const [ext, {rules, example}] of [...text].sort((a, b) => b[1].rules - a[1].rules)) lines.push(`  still text: ${ext} in ${rules} rule(s), e.g. ${example}`);
		console.log(`iptables conformance:\n${lines.join('\n')}`);
		expect(full / total).toBeGreaterThanOrEqual(0.95);
	});

	it('lint: no rule is reported shadowed by a rule whose target lets the walk go on', () => {
		const findings = lintRulesets(rulesets);
		const byLine = new Map(rulesets.flatMap(rs => rulesOf(rs).map(r => [`${rs.path}:${r.line}`, r] as const)));
		const wrong = findings
			.filter(f => f.kind === 'shadowed-rule')
			.filter(f => {
				const first = f.rules[0];
				const rule = first?.line === undefined ? undefined : byLine.get(`${first.file}:${first.line}`);
				return rule !== undefined && rule.parsed.target?.walk !== 'ends' && !rule.parsed.target?.goto;
			});
		expect(wrong.map(f => f.message)).toEqual([]);
	});
});
