/**
 * `tracewatch rules` and `tracewatch diff` as a user runs them.
 */
import {spawnSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {ROOT} from './support/replay.js';

function run(args: string[]) {
	const r = spawnSync(process.execPath, ['bin/tracewatch.js', ...args], {cwd: ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 60_000});
	return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

describe('tracewatch rules', () => {
	it('text: describes each dump, then the findings, most severe first', () => {
		const r = run(['rules', 'testdata/rules/cilium-leftovers.save']);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^testdata\/rules\/cilium-leftovers\.save: iptables-save v1\.8\.9, 4 table\(s\), \d+ chain\(s\), \d+ rule\(s\)/);
		expect(r.stdout).toContain('Findings (13)');
		expect(r.stdout.indexOf('warning')).toBeLessThan(r.stdout.indexOf('info'));
		expect(r.stdout).toContain('nat:OLD_CILIUM_POST_nat has 5 rule(s) but no rule jumps to it');
	});

	it('json: {findings:[…]} with the fixed shape; --kind and --fail-on for scripts', () => {
		const r = run(['rules', 'testdata/rules/cilium-leftovers.save', '--format', 'json', '--kind', 'trace-rule-left']);
		const doc = JSON.parse(r.stdout) as {findings: Array<Record<string, unknown>>};
		expect(doc.findings).toHaveLength(2);
		for (const f of doc.findings) expect(Object.keys(f).sort()).toEqual(['hint', 'kind', 'message', 'packets', 'rules', 'severity']);
		expect(run(['rules', 'testdata/rules/cilium-leftovers.save', '--fail-on', 'warning']).code).toBe(4);
		expect(run(['rules', 'testdata/rules/cilium-leftovers.save', '--fail-on', 'error']).code).toBe(0);
	});

	it('both backends given, and the iptables-legacy warning line: mixed-backends', () => {
		const r = run(['rules', 'testdata/corpus/rules/killersh-cka-iptables-save-grep-service-with-legacy-warning-at-end.txt', '--format', 'json']);
		expect((JSON.parse(r.stdout) as {findings: Array<{kind: string}>}).findings.map(f => f.kind)).toEqual(['mixed-backends']);
		const both = run(['rules', 'testdata/dmesg/fwd-dnat-masq/iptables.save', 'testdata/nft/fwd-dnat-masq/iptables.save', '--kind', 'mixed-backends']);
		expect(both.stdout).toContain('rules are loaded in both iptables backends');
	});

	it('usage errors exit 2', () => {
		expect(run(['rules']).code).toBe(2);
		expect(run(['rules', 'x.save', '--min-severity', 'loud']).code).toBe(2);
	});
});

describe('tracewatch diff', () => {
	it('reads like a review, exits 1 when the nodes differ', () => {
		const r = run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-broken.save']);
		expect(r.code).toBe(1);
		expect(r.stdout).toContain('Treated as the same (node-specific):\n  cali0c9d8e7f6a5 ↔ cali5e6f7a8b9c0');
		expect(r.stdout).toContain('  enp3s0 ↔ wlp59s0  (interface in the same role in 2 rule(s))');
		expect(r.stdout).toContain('Differences in meaning (2):');
		expect(r.stdout).toContain('    - only on the working node: -A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE');
		expect(r.stdout).toContain('        to add it on the broken node: iptables -t nat -I POSTROUTING 3 -s 198.19.64.0/19 -o wlp59s0 -j MASQUERADE');
	});

	it('json: differences and mappings with the fixed names', () => {
		const r = run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-broken.save', '--format', 'json']);
		const doc = JSON.parse(r.stdout) as {differences: Array<Record<string, unknown>>; mappings: Array<Record<string, unknown>>};
		for (const d of doc.differences) for (const k of ['table', 'chain', 'kind', 'working', 'broken']) expect(d).toHaveProperty(k);
		for (const m of doc.mappings) expect(Object.keys(m).sort()).toEqual(['broken', 'why', 'working']);
	});

	it('with both traces: where the broken packet parts and why', () => {
		const r = run([
			'diff',
			'testdata/rules/node-working.save',
			'testdata/rules/node-broken.save',
			'--trace-working',
			'testdata/dmesg/node-working/dmesg-T.log',
			'--trace-broken',
			'testdata/dmesg/node-broken/dmesg-T.log',
		]);
		expect(r.stdout).toContain('Where the traced packet parts:');
		expect(r.stdout).toMatch(/the paths part at hop \d+: working packet #1 went to nat:POSTROUTING:rule:3 -A POSTROUTING -s 198\.19\.64\.0\/19 -o enp3s0 -j MASQUERADE, broken packet #1 went to nat:POSTROUTING:policy:3; explained by a difference in nat:POSTROUTING/);
	});

	it('the same ruleset against itself: no differences, exit 0', () => {
		const r = run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-working.save']);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('No differences in meaning.');
	});

	it('usage errors exit 2', () => {
		expect(run(['diff', 'one.save']).code).toBe(2);
		expect(run(['diff', 'a', 'b', '--same', 'nope']).code).toBe(2);
		expect(run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-broken.save', '--trace-working', 'x.log']).code).toBe(2);
	});

	it('--same with a name one dump does not have: warns (a typo would silently do nothing)', () => {
		const typo = run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-broken.save', '--same', 'enp3s0=eth9']);
		expect(typo.stderr).toContain('--same enp3s0=eth9: eth9 does not appear in testdata/rules/node-broken.save');
		const fine = run(['diff', 'testdata/rules/node-working.save', 'testdata/rules/node-broken.save', '--same', 'enp3s0=wlp59s0', '--same', '198.18.1.104=198.18.1.105']);
		expect(fine.stderr).toBe('');
	});
});
