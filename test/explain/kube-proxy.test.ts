/**
 * kube-proxy's own packet-flow tests as a second reference for the walk: the rulesets of the
 * tests that write their ruleset out, and their cases (testdata/kube-proxy/: where each comes
 * from and what was added). kube-proxy's tracer answers with the DNAT destinations a new TCP
 * connection may get (every endpoint of a random pick), or ACCEPT/DROP/REJECT, and whether it is
 * masqueraded; `explain` must give the same from the kernel's walk: the packet arrives on an
 * interface (sent by this host when its source is one of the node's addresses), routing follows
 * the destination after DNAT, and the nat chains run for the connection's first packet.
 */
import {describe, expect, it} from 'vitest';
import {explainPacket} from '../../src/model/explain/predict.js';
import type {Prediction} from '../../src/model/explain/types.js';
import {RuleIndex} from '../../src/model/join.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {read} from '../support/replay.js';

interface Case {
	readonly name: string;
	readonly sourceIP: string;
	readonly protocol: string;
	readonly destIP: string;
	readonly destPort: number;
	readonly output: string;
	readonly masq: boolean;
}

interface Suite {
	readonly rules: string;
	readonly test: string;
	readonly nodeIPs: readonly string[];
	readonly cases: readonly Case[];
}

const DIR = 'testdata/kube-proxy';
const {rulesets} = JSON.parse(read(`${DIR}/cases.json`)) as {rulesets: Suite[]};

/** What kube-proxy's tracer reports, read from a prediction and its branches. */
function outcome(p: Prediction): {output: string; masq: boolean} {
	const ways = p.branches ?? [{nat: p.nat, verdict: p.verdict, hops: p.hops}];
	const dnat = [...new Set(ways.flatMap(w => w.nat.filter(n => n.type === 'DNAT').map(n => n.to)))].sort();
	const masq = ways.map(w => w.nat.some(n => n.type === 'MASQUERADE'));
	expect(new Set(masq).size, 'every branch masquerades, or none').toBe(1);
	if (dnat.length > 0) return {output: dnat.join(', '), masq: masq[0]!};
	// kube-proxy's ACCEPT is a filter rule that accepts (the health-check node port), not a policy.
	const accepted = p.hops.some(h => h.table === 'filter' && h.kind === 'rule' && h.target === 'ACCEPT');
	const verdict = p.verdict === 'DROP' || p.verdict === 'REJECT' ? p.verdict : p.verdict === 'ACCEPT' && accepted ? 'ACCEPT' : '';
	return {output: verdict, masq: masq[0]!};
}

describe("kube-proxy's packet-flow tests", () => {
	it('cover the tests whose ruleset is written out', () => {
		expect(rulesets.map(r => r.test)).toEqual(['TestTracePacket', 'TestLoadBalancer', 'TestNodePort', 'TestHealthCheckNodePort', 'TestExternalTrafficPolicyLocal', 'TestNonLocalExternalIPs']);
		expect(rulesets.reduce((n, r) => n + r.cases.length, 0)).toBe(31);
	});

	for (const suite of rulesets) {
		describe(`${suite.test} (${suite.rules})`, () => {
			const rs = parseRuleset(read(`${DIR}/${suite.rules}`), suite.rules);
			const index = new RuleIndex([rs]);
			// The node's addresses, and loopback (kube-proxy's tracer counts 127.0.0.1 as LOCAL too).
			const locals = [...suite.nodeIPs, '127.0.0.1'];

			it.each(suite.cases.map(c => [c.name, c] as const))('%s', (_name, c) => {
				const fromHost = locals.includes(c.sourceIP);
				const p = explainPacket(index, {
					family: 'ipv4',
					proto: c.protocol,
					src: c.sourceIP,
					dst: c.destIP,
					dpt: c.destPort,
					...(fromHost ? {} : {in: 'eth0'}),
					fromHost,
					tcpFlags: ['SYN'],
					state: 'new',
					mark: 0,
					locals,
				});
				expect(outcome(p)).toEqual({output: c.output, masq: c.masq});
			});
		});
	}

	it('TestTracePacket: a random pick shows both endpoints with their probability; the health-check port is accepted on the way back in over lo', () => {
		const rs = parseRuleset(read(`${DIR}/trace-packet.rules`), 'trace-packet.rules');
		const index = new RuleIndex([rs]);
		const locals = ['192.168.0.2', '192.168.1.2', '192.168.99.11', '127.0.0.1'];
		const base = {family: 'ipv4', proto: 'TCP', tcpFlags: ['SYN'], state: 'new', mark: 0, locals} as const;
		const multi = explainPacket(index, {...base, src: '10.0.0.2', dst: '172.30.0.44', dpt: 80, in: 'eth0', fromHost: false});
		expect(multi.branches?.map(b => [b.nat.find(n => n.type === 'DNAT')?.to, b.probability])).toEqual([
			['10.180.0.4:80', 0.5],
			['10.180.0.5:80', 0.5],
		]);
		const health = explainPacket(index, {...base, src: '192.168.0.2', dst: '192.168.0.2', dpt: 30000, fromHost: true});
		expect(health.hops.at(-1)).toMatchObject({table: 'filter', chain: 'KUBE-NODEPORTS', kind: 'rule', num: 1, target: 'ACCEPT', in: 'lo', hook: 'INPUT'});
		// kube-proxy writes `--comment kubernetes health check service ports` unquoted there: the
		// words after the first are no iptables option, taken to match and listed.
		expect(health.uncertain.map(u => u.match)).toContain('health');
	});
});
