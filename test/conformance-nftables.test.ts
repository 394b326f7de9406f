/**
 * Conformance to the nftables project's own tests: every ruleset dump of
 * tests/shell/testcases/**\/dumps/*.nft and every rule of tests/py/**\/*.t that this kernel and
 * nft took, as `nft list ruleset`,
 * `nft -a list ruleset` and `nft -j list ruleset` printed it (testdata/conformance/nftables/,
 * made by scripts/conformance/nftables.sh; README.md there names the upstream commit). And
 * iptables-nft's tables as `nft -j list ruleset` prints them (testdata/conformance/iptables/):
 * their `xt` expressions hide the options.
 *
 * Input:  testdata/conformance/nftables/{,py-}list-ruleset{,-a}.nft (each dump or test file after
 *         a `# tests/…` line), {,py-}list-ruleset.ndjson (one `nft -j` document each)
 * Output: every listing read without a problem; at least 90 % of the rules with every statement
 *         understood (the figures and what is still text are printed); lint reports no rule as
 *         shadowed by a rule whose statements let the walk go on.
 */
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {lintRulesets} from '../src/model/findings/lint.js';
import {notUnderstood} from '../src/parser/rule-data.js';
import {parseRuleset, type Rule, type Ruleset} from '../src/parser/ruleset.js';
import {ROOT} from './support/replay.js';

const dir = `${ROOT}/testdata/conformance/nftables`;

/** The dumps of one listing file, each parsed on its own, named by its `# tests/…` line. */
function listings(file: string): Ruleset[] {
	const text = readFileSync(`${dir}/${file}`, 'utf8');
	return text
		.split(/^(?=# tests\/(?:shell|py)\/)/m)
		.filter(p => p.trim() !== '')
		.map(p => parseRuleset(p, `${file}: ${p.slice(2, p.indexOf('\n'))}`));
}

function documents(prefix = ''): Ruleset[] {
	const names = readFileSync(`${dir}/${prefix}list-ruleset.nft`, 'utf8')
		.split('\n')
		.filter(l => l.startsWith('# tests/'));
	const docs = readFileSync(`${dir}/${prefix}list-ruleset.ndjson`, 'utf8')
		.split('\n')
		.filter(Boolean);
	expect(docs.length).toBe(names.length);
	return docs.map((d, i) => parseRuleset(d, `${prefix}list-ruleset.ndjson: ${names[i]!.slice(2)}`));
}

function rulesOf(rs: Ruleset): Rule[] {
	return [...rs.tables.values()].flatMap(t => [...t.chains.values()].flatMap(c => c.rules));
}

const forms: Array<[string, Ruleset[]]> = [
	['tests/shell, nft list ruleset', listings('list-ruleset.nft')],
	['tests/shell, nft -a list ruleset', listings('list-ruleset-a.nft')],
	['tests/shell, nft -j list ruleset', documents()],
	['tests/py, nft list ruleset', listings('py-list-ruleset.nft')],
	['tests/py, nft -a list ruleset', listings('py-list-ruleset-a.nft')],
	['tests/py, nft -j list ruleset', documents('py-')],
];

describe('nftables conformance corpus (tests/shell dumps, loaded and listed by the real tools)', () => {
	it.each(forms)('%s: every dump is read without a problem', (_form, rulesets) => {
		expect(rulesets.length).toBeGreaterThan(100);
		expect(rulesets.flatMap(rs => rs.problems.map(p => `${rs.path}:${p.line} ${p.message}`))).toEqual([]);
		for (const rs of rulesets) expect(rs.backend).toBe('nft');
	});

	it('at least 90 % of the rules are fully structured in each form; the figures and what is still text are printed', () => {
		const lines: string[] = [];
		for (const [form, rulesets] of forms) {
			const rules = rulesets.flatMap(rulesOf);
			const text = new Map<string, {rules: number; example: string}>();
			let full = 0;
			for (const rule of rules) {
				const missing = notUnderstood(rule.parsed);
				if (missing.length === 0) {
					full++;
					continue;
				}
				for (const m of missing) {
					const family = m.split(/[\s:]/)[0] === 'statement' ? `statement ${m.split(/\s/)[1]}` : m.split(/[\s:]/).slice(0, 2).join(' ');
					const e = text.get(family);
					if (e) e.rules++;
					else text.set(family, {rules: 1, example: rule.text});
				}
			}
			lines.push(`  ${form}: ${rulesets.length} dumps, ${full}/${rules.length} rules fully structured (${((100 * full) / rules.length).toFixed(1)} %)`);
			for (const [family, {rules: n, example}] of [...text].sort((a, b) => b[1].rules - a[1].rules)) lines.push(`    still text: ${family} in ${n} rule(s), e.g. ${example}`);
			expect(full / rules.length, form).toBeGreaterThanOrEqual(0.9);
		}
		console.log(`nftables conformance:\n${lines.join('\n')}`);
	});

	it('lint: no rule is reported shadowed by a rule whose statements let the walk go on', () => {
		for (const [, rulesets] of forms) {
			for (const rs of rulesets) {
				const byLine = new Map(rulesOf(rs).map(r => [r.line, r]));
				const wrong = lintRulesets([rs])
					.filter(f => f.kind === 'shadowed-rule')
					.filter(f => {
						const first = f.rules[0]?.line === undefined ? undefined : byLine.get(f.rules[0].line);
						return first !== undefined && first.parsed.target?.walk !== 'ends' && !first.parsed.target?.goto;
					});
				expect(wrong.map(f => `${rs.path}: ${f.message}`)).toEqual([]);
			}
		}
	});
});

describe("iptables-nft's tables in nft -j list ruleset (the iptables conformance corpus)", () => {
	const rs = parseRuleset(readFileSync(`${ROOT}/testdata/conformance/iptables/nft-list-ruleset.json`, 'utf8'), 'nft-list-ruleset.json');
	const rules = rulesOf(rs);

	it('read without a problem; the tables are recognised as iptables-nft’s; every xt expression is kept and said to hide its options', () => {
		expect(rs.problems).toEqual([]);
		expect(rules.length).toBeGreaterThan(2000);
		expect([...rs.tables.values()].every(t => t.iptablesNft)).toBe(true);
		const hidden = rules.filter(r => r.parsed.matches.some(m => m.hidden) || r.parsed.actions?.some(a => a.hidden));
		expect(hidden.length).toBeGreaterThan(500);
		for (const r of hidden) expect(notUnderstood(r.parsed).some(m => /^xt (match|target) .*: its options are not in nft's listing \(iptables-nft-save prints them\)$/.test(m))).toBe(true);
		const native = rules.length - hidden.length;
		console.log(`iptables-nft in nft -j: ${rules.length} rules, ${hidden.length} with xt expressions (options hidden), ${native} in native expressions, ${rules.filter(r => notUnderstood(r.parsed).length === 0).length} fully structured`);
	});
});
