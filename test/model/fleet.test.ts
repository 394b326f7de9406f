/**
 * Two nodes followed as one path (src/model/fleet.ts) on real captures: pod A on node A to pod B
 * on node B over a flannel-style VXLAN (testdata/nodes, scripts/capture-two-nodes.sh), in every
 * trace form captured. Where a case has no capture of its own (a log cut short, a node whose
 * TRACE rule misses the inner packet), the test derives it from the real lines and says how.
 */
import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {Fleet, type FleetSummary, type Journey} from '../../src/model/fleet.js';
import {Names} from '../../src/model/names.js';
import type {Packet} from '../../src/model/types.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {read, ROOT} from '../support/replay.js';

const exec = promisify(execFile);
const NODES = ['node-a', 'node-b'] as const;
const FORMS: Array<[string, string, string]> = [
	['dmesg -T', 'dmesg-T.log', 'iptables.save'],
	['/dev/kmsg', 'kmsg.log', 'iptables.save'],
	['xtables-monitor', 'xtables-monitor.log', 'iptables-nft.save'],
	['nft monitor', 'nft-monitor.log', 'iptables-nft.save'],
];

/**
 * Replays both nodes' traces of a variant, each through `edit` first (the lines as read), with
 * each node's `ip` file (`ip-link.json`, `ip-addr.json`) as its names when given.
 */
function fleet(variant: string, trace: string, dump: string, edit: (node: string, lines: string[]) => string[] = (_n, l) => l, ip?: string): {summary: FleetSummary; packets: Packet[]} {
	const dir = `testdata/nodes/${variant}`;
	const namesOf = (n: string) => {
		if (!ip) return {};
		const names = new Names();
		names.read(read(`${dir}/${n}/${ip}`), `${n}/${ip}`, n);
		return {names};
	};
	const f = new Fleet({nodes: NODES.map(n => ({name: n, rules: [parseRuleset(read(`${dir}/${n}/${dump}`), `${n}/${dump}`)], ...namesOf(n)}))});
	let summary: FleetSummary | undefined;
	const packets: Packet[] = [];
	f.on(e => {
		if (e.type === 'settled') packets.push(e.packet);
		if (e.type === 'end') summary = e.summary as FleetSummary;
	});
	for (const n of NODES) {
		const input = f.addInput(`${n}/${trace}`, n);
		const text = edit(n, read(`${dir}/${n}/${trace}`).split('\n')).join('\n');
		for (const line of parseTraceText(text, input)) f.push(line);
	}
	f.end();
	return {summary: summary!, packets};
}

const ref = (r: {node: string; id: number} | undefined) => (r ? `${r.node}#${r.id}` : '-');
const line = (j: Journey) => `${ref(j.from)} ${ref(j.wire.outer?.sent)}>${ref(j.wire.outer?.received)} ${ref(j.to)} ${j.verdict}`;

describe('a working pair of nodes', () => {
	it.each(FORMS)('%s: every packet that crossed is linked, with the outer packet that carried it; no finding', (_form, trace, dump) => {
		const {summary, packets} = fleet('working', trace, dump);
		expect(summary.findings).toEqual([]);
		// Ping (2 requests, 2 replies) and a TCP connection (SYN, SYN-ACK, ACK, FIN, FIN, ACK): 10 crossings.
		expect(summary.journeys).toHaveLength(10);
		const byRef = new Map(packets.map(p => [`${p.node}#${p.id}`, p]));
		for (const j of summary.journeys) {
			expect(j.verdict).toBe('ACCEPT');
			expect(j.wire).toMatchObject({kind: 'vxlan', device: 'flannel.1'});
			const from = byRef.get(ref(j.from))!;
			const to = byRef.get(ref(j.to))!;
			// The same packet: addresses, ports and IP ID kept; one hop further, the TTL one lower.
			expect([to.src, to.dst, to.spt, to.dpt, to.ipId]).toEqual([from.src, from.dst, from.spt, from.dpt, from.ipId]);
			expect(to.hops[0]!.ttl).toBe(from.hops.at(-1)!.ttl);
			expect(from.out).toBe('flannel.1');
			expect(to.in).toBe('flannel.1');
			expect(j.to!.node).not.toBe(j.from.node);
			// The outer packet: sent by the node the packet left, received by the node it reached.
			const sent = byRef.get(ref(j.wire.outer!.sent))!;
			const received = byRef.get(ref(j.wire.outer!.received))!;
			expect(sent.node).toBe(j.from.node);
			expect(received.node).toBe(j.to!.node);
			expect([sent.src, sent.dst, sent.dpt, sent.ipId]).toEqual([received.src, received.dst, 8472, received.ipId]);
			expect(sent.id).toBe(j.from.id + 1);
		}
		// Both ways: requests from A to B, answers from B to A.
		expect(summary.journeys.filter(j => j.from.node === 'node-a')).toHaveLength(6);
		expect(summary.journeys.filter(j => j.from.node === 'node-b')).toHaveLength(4);
		expect(summary.nodes.map(n => [n.name, n.packets])).toEqual([
			['node-a', 20],
			['node-b', 20],
		]);
	});

	it('clocks: -T stamps are wall time on both nodes; the monitors print none', () => {
		expect(fleet('working', 'dmesg-T.log', 'iptables.save').summary.nodes.map(n => n.clock)).toEqual(['reference', 'wall']);
		expect(fleet('working', 'nft-monitor.log', 'iptables-nft.save').summary.nodes.map(n => n.clock)).toEqual(['reference', 'unknown']);
		// /dev/kmsg stamps are seconds since boot: the two nodes are aligned on the first packet that crossed.
		const kmsg = fleet('working', 'kmsg.log', 'iptables.save').summary.nodes[1]!;
		expect(kmsg.clock).toBe('linked');
		// Both "nodes" ran on one kernel: the offset is the time the packet took to cross, under a millisecond.
		expect(Math.abs(kmsg.offset!)).toBeLessThan(0.001);
	});

	it('--offset: a clock given is used and reported instead of aligning; linking does not depend on clocks', async () => {
		const base = NODES.map(n => ['--node', `${n}=testdata/nodes/working/${n}/kmsg.log,testdata/nodes/working/${n}/iptables.save`]).flat();
		const run = async (...extra: string[]) => JSON.parse((await exec(process.execPath, [join(ROOT, 'bin/tracewatch.js'), 'replay', ...base, ...extra, '--format', 'json'], {cwd: ROOT})).stdout) as FleetSummary & {findings: Array<{kind: string}>};
		const given = await run('--offset', 'node-b=-3600');
		expect(given.nodes[1]).toEqual({name: 'node-b', packets: 20, clock: 'given', offset: -3600});
		// node-b's clock an hour behind: its whole trace ended before node-a sent anything, yet packets are linked (by content, not time).
		expect(given.journeys.filter(j => j.to)).toHaveLength(10);
		expect(given.findings).toEqual([]);
	});
});

// calico-v6 has no xtables-monitor log: xtables-monitor 1.8.9 exits at the first ip6tables-nft packet (its README).
const V6_FORMS = FORMS.filter(([form]) => form !== 'xtables-monitor').map(([form, trace, dump]): [string, string, string] => [form, trace, dump.replace('iptables', 'ip6tables')]);

describe.each([
	['calico', 'vxlan.calico', FORMS],
	['calico-v6', 'vxlan-v6.calico', V6_FORMS],
] as const)("Calico's VXLAN device on the IANA port (%s)", (variant, device, forms) => {
	it.each(forms)(`%s: every packet sent into ${device} is linked to its arrival, through an outer packet to 4789; no finding`, (_form, trace, dump) => {
		const {summary, packets} = fleet(variant, trace, dump);
		expect(summary.findings).toEqual([]);
		const sent = packets.filter(p => p.out === device && p.in !== device);
		// Two pings and their replies, and a TCP connection (its ACKs as the monitors or the kernel log saw them).
		expect(sent.length).toBeGreaterThanOrEqual(10);
		expect(summary.journeys.map(j => ref(j.from)).sort()).toEqual(sent.map(p => `${p.node}#${p.id}`).sort());
		const byRef = new Map(packets.map(p => [`${p.node}#${p.id}`, p]));
		for (const j of summary.journeys) {
			expect([j.verdict, j.wire.kind, j.wire.device]).toEqual(['ACCEPT', 'vxlan', device]);
			const outer = byRef.get(ref(j.wire.outer!.received))!;
			expect([outer.proto, outer.dpt, outer.in, outer.family]).toEqual(['UDP', 4789, 'eth0', variant === 'calico' ? 'ipv4' : 'ipv6']);
			const [from, to] = [byRef.get(ref(j.from))!, byRef.get(ref(j.to))!];
			expect(to.in).toBe(device);
			// The same packet: addresses, ports, ICMP id and sequence (IPv6 has no IP ID to go by).
			expect([to.src, to.dst, to.spt, to.dpt, to.icmp?.id, to.icmp?.seq]).toEqual([from.src, from.dst, from.spt, from.dpt, from.icmp?.id, from.icmp?.seq]);
		}
	});
});

describe('node B without its FORWARD accept', () => {
	it.each(FORMS)('%s: one finding per flow, at node B, naming its FORWARD policy; nothing blamed on node A', (form, trace, dump) => {
		const {summary} = fleet('broken', trace, dump);
		expect(summary.journeys.map(j => j.verdict)).toEqual(['DROP', 'DROP', 'DROP', 'DROP']);
		const kinds = summary.findings.map(f => `${f.node} ${f.severity} ${f.kind}`);
		// xtables-monitor does not print ICMP's type: its pings are not grouped as a flow of requests.
		expect(kinds).toEqual(['node-b error dropped-at-peer', 'node-b error dropped-at-peer']);
		const tcp = summary.findings.find(f => f.message.includes('TCP'))!;
		expect(tcp.message).toMatch(/^2 packets TCP 198\.19\.1\.2:\d+ → 198\.19\.2\.2:8080 \[SYN\] sent from node-a over flannel\.1 arrived at node-b and were dropped there at filter:FORWARD:policy:2/);
		expect(tcp.hint).toContain("Fix node-b's rules");
		expect(tcp.packets).toEqual(summary.journeys.filter(j => j.what.startsWith('TCP')).map(j => j.to!.id));
		if (form.startsWith('dmesg') || form === '/dev/kmsg') expect(tcp.rules.map(r => `${r.file}:${r.line} ${r.text}`)).toEqual(['node-b/iptables.save:13 -P FORWARD DROP']);
	});
});

describe('packets that never arrive', () => {
	it("node B's log cut short: what left node A after it ended is not known, not lost", () => {
		// The real node-b log (/dev/kmsg: microsecond stamps, aligned on the first ping) up to its
		// last ping line; the TCP connection came after.
		const {summary} = fleet('working', 'kmsg.log', 'iptables.save', (n, lines) => (n === 'node-b' ? lines.slice(0, lines.findLastIndex(l => l.includes('PROTO=ICMP')) + 1) : lines));
		const tcp = summary.journeys.filter(j => j.what.startsWith('TCP'));
		expect(tcp.filter(j => j.from.node === 'node-a').map(j => j.verdict)).toEqual(['trace-ended', 'trace-ended', 'trace-ended', 'trace-ended']);
		const f = summary.findings.filter(x => x.kind === 'lost-between-nodes');
		expect(f.map(x => x.severity)).toEqual(['info', 'info', 'info']);
		expect(f[0]!.message).toContain("after node-b's trace ended");
	});

	it("node B's TRACE rule misses the inner packet: the outer packet arrived, the packet inside was never traced there", () => {
		// The real node-b log without its lines of pod traffic (198.19.x), as if its TRACE rule matched only the overlay's port.
		const {summary} = fleet('broken', 'dmesg-T.log', 'iptables.save', (n, lines) => (n === 'node-b' ? lines.filter(l => !/SRC=198\.19\./.test(l)) : lines));
		expect(summary.journeys.map(line)).toEqual(['node-a#1 node-a#2>node-b#1 - lost', 'node-a#3 node-a#4>node-b#2 - lost', 'node-a#5 node-a#6>node-b#3 - lost', 'node-a#7 node-a#8>node-b#4 - lost']);
		const f = summary.findings.filter(x => x.kind === 'lost-between-nodes');
		expect(f).toHaveLength(2);
		for (const x of f) {
			expect(x).toMatchObject({node: 'node-a', severity: 'error'});
			expect(x.message).toContain('arrived, but the packet inside was never traced at node-b');
		}
	});

	it('the outer packets dropped on the way: never arrived at node B, and the underlay is named', () => {
		// The real node-b log without the outer packets' and the pod packets' lines: nothing came in.
		const {summary} = fleet('broken', 'dmesg-T.log', 'iptables.save', (n, lines) => (n === 'node-b' ? lines.filter(l => !/SRC=198\.19\.|DPT=8472/.test(l) || /IN= /.test(l)) : lines));
		const f = summary.findings.filter(x => x.kind === 'lost-between-nodes');
		expect(f.map(x => x.message.replace(/:\d+ →/, ':P →'))).toEqual([
			'2 packets ICMP 198.19.1.2 → 198.19.2.2 echo-request left node-a by flannel.1 (outer 198.18.100.1 → 198.18.100.2) and never arrived at a traced node',
			'2 packets TCP 198.19.1.2:P → 198.19.2.2:8080 [SYN] left node-a by flannel.1 (outer 198.18.100.1 → 198.18.100.2) and never arrived at a traced node',
		]);
	});
});

describe("node B's underlay MTU lower than the overlay needs (mtu)", () => {
	// Node B's eth0 is 1400, flannel.1 1450 on both: pings of 1428 bytes (1478 outer) and full TCP
	// segments of 1450 (1500 outer) leave node A and are dropped by B's eth0; small ones arrive.
	const lost = (j: Journey) => j.from.node === 'node-a' && !j.to;

	it.each(FORMS)("%s, with each node's ip -j link: one error per flow, naming B's eth0 and its MTU, the sizes and the MTU to set", (_form, trace, dump) => {
		const {summary} = fleet('mtu', trace, dump, undefined, 'ip-link.json');
		expect(summary.findings.map(f => `${f.node} ${f.severity} ${f.kind}`)).toEqual(['node-a error overlay-mtu', 'node-a error overlay-mtu']);
		const [ping, tcp] = summary.findings;
		expect(ping!.message).toMatch(/^2 packets .* 198\.19\.174\.2 → 198\.19\.175\.2.* \(1428 bytes, 1478 with the VXLAN header\) left node-a by flannel\.1 \(outer 198\.18\.173\.1 → 198\.18\.173\.2\) and never arrived at node-b: their outer packets are bigger than the MTU of node-b's eth0, 1400 \(the largest outer packet from node-a that arrived was 1306 bytes\)$/);
		expect(tcp!.message).toMatch(/^7 packets TCP 198\.19\.174\.2:\d+ → 198\.19\.175\.2:8080 \[ACK\] \(1450 bytes, 1500 with the VXLAN header\) left node-a/);
		for (const f of [ping!, tcp!]) {
			expect(f.hint).toContain("VXLAN adds 50 bytes to every packet: node-a's flannel.1 has MTU 1450, which needs 1500 on the underlay, and node-b's eth0 has 1400.");
			expect(f.hint).toContain('Set the overlay MTU to 1350 (1400 − 50) on every node');
			expect(f.hint).toContain("or raise node-b's eth0 to 1500.");
		}
		// The packets named are the ones that never arrived; every other one crossed.
		expect([...ping!.packets, ...tcp!.packets].sort((a, b) => a - b)).toEqual(summary.journeys.filter(lost).map(j => j.from.id).sort((a, b) => a - b));
		expect(summary.journeys.filter(j => j.to).map(j => j.verdict)).toEqual(Array(9).fill('ACCEPT'));
	});

	it('without the MTUs: a warning by size alone, the largest outer packet that arrived and the MTU under it', () => {
		const {summary} = fleet('mtu', 'dmesg-T.log', 'iptables.save');
		expect(summary.findings.map(f => `${f.node} ${f.severity} ${f.kind}`)).toEqual(['node-a warning overlay-mtu', 'node-a warning overlay-mtu']);
		expect(summary.findings[0]!.message).toContain('their outer packets are bigger than any that arrived (the largest outer packet from node-a that arrived was 1306 bytes)');
		expect(summary.findings[0]!.hint).toContain('Set the overlay MTU to 1256 or less');
		expect(summary.findings[0]!.hint).toContain("Give each node's ip -j link in its --node");
	});

	it('ip -j addr names the MTUs as well; the working and broken pairs give no overlay-mtu with theirs', () => {
		expect(fleet('mtu', 'dmesg-T.log', 'iptables.save', undefined, 'ip-addr.json').summary.findings.map(f => f.severity)).toEqual(['error', 'error']);
		expect(fleet('working', 'dmesg-T.log', 'iptables.save', undefined, 'ip-link.json').summary.findings).toEqual([]);
		expect(fleet('broken', 'kmsg.log', 'iptables.save', undefined, 'ip-link.json').summary.findings.map(f => f.kind)).toEqual(['dropped-at-peer', 'dropped-at-peer']);
	});
});

describe('an underlay link with a lower MTU than the overlay needs (mtu-frag)', () => {
	// Both eth0 at 1400, flannel.1 at 1450: the outer packets over 1400 bytes leave in fragments
	// (VXLAN sets no DF on them) and are reassembled at the other node; everything arrives.
	it.each(FORMS)("%s, with each node's ip -j link: a warning per flow and direction, naming the sending node's eth0 and its MTU", (_form, trace, dump) => {
		const {summary} = fleet('mtu-frag', trace, dump, undefined, 'ip-link.json');
		expect(summary.journeys.every(j => j.to && j.verdict === 'ACCEPT')).toBe(true);
		expect(summary.findings.map(f => `${f.node} ${f.severity} ${f.kind}`)).toEqual(['node-a warning overlay-mtu', 'node-a warning overlay-mtu', 'node-b warning overlay-mtu']);
		const [ping, tcp, reply] = summary.findings;
		expect(ping!.message).toMatch(/^2 packets .* 198\.19\.174\.2 → 198\.19\.175\.2.* \(1428 bytes, 1478 with the VXLAN header\) crossed from node-a to node-b by flannel\.1 in fragments: their outer packets are bigger than the MTU of node-a's eth0, 1400$/);
		expect(tcp!.message).toMatch(/^2 packets TCP 198\.19\.174\.2:\d+ → 198\.19\.175\.2:8080 \[ACK\] \(1450 bytes, 1500 with the VXLAN header\) crossed from node-a to node-b/);
		expect(reply!.message).toMatch(/198\.19\.175\.2 → 198\.19\.174\.2.* \(1428 bytes, 1478 with the VXLAN header\) crossed from node-b to node-a by flannel\.1 in fragments: their outer packets are bigger than the MTU of node-b's eth0, 1400$/);
		for (const f of summary.findings) expect(f.hint).toContain("flannel.1 has MTU 1450, which needs 1500 on the underlay, and its eth0 has 1400. Linux sends VXLAN outer packets without DF, so each bigger one leaves in two fragments");
		expect(ping!.hint).toContain('Set the overlay MTU to 1350 (1400 − 50) on every node');
	});

	it('without the MTUs nothing is said: fragments reassembled before the first trace point leave no trace of their own', () => {
		expect(fleet('mtu-frag', 'dmesg-T.log', 'iptables.save').summary.findings).toEqual([]);
	});
});

describe('a load-balancer address on node A, masqueraded to its endpoint on node B (vip-snat)', () => {
	it.each(FORMS)('%s: the SYN is linked though node A masqueraded it after its last trace point; no finding', (_form, trace, dump) => {
		const {summary, packets} = fleet('vip-snat', trace, dump);
		expect(summary.findings).toEqual([]);
		// SYN, ACK, FIN, ACK from the client through node A; SYN-ACK, ACK, FIN from pod B back through it.
		expect(summary.journeys.map(j => `${j.from.node} ${j.verdict}`)).toEqual(['node-a ACCEPT', 'node-b ACCEPT', 'node-a ACCEPT', 'node-a ACCEPT', 'node-b ACCEPT', 'node-b ACCEPT', 'node-a ACCEPT']);
		const byRef = new Map(packets.map(p => [`${p.node}#${p.id}`, p]));
		const syn = summary.journeys[0]!;
		const [a, b] = [byRef.get(ref(syn.from))!, byRef.get(ref(syn.to))!];
		// As node A traced it: the client to the pod (after the DNAT), MASQUERADE still to come.
		expect([a.in, a.hops.at(-1)!.src, a.hops.at(-1)!.dst, a.nat.map(n => n.type)]).toEqual(['eth0', '198.18.173.10', '198.19.175.2', ['DNAT', 'MASQUERADE']]);
		// As node B received it: from node A's flannel.1 address and another port, the same IP ID.
		expect([b.src, b.dst, b.ipId]).toEqual(['198.19.174.0', '198.19.175.2', a.ipId]);
		expect(b.spt).not.toBe(a.spt);
	});
});

describe('a load-balancer address on node A, DNATed to node B without masquerade (vip-asym)', () => {
	it.each(FORMS)('%s: one error at node A naming both nodes, the DNAT rule and the way the replies took; no no-reply, no asymmetric-route', (_form, trace, dump) => {
		const {summary} = fleet('vip-asym', trace, dump);
		// The client's SYN and its retransmission; node B answered each by its eth0 (a SYN-ACK, and one again).
		expect(summary.findings.map(f => `${f.node} ${f.severity} ${f.kind}`)).toEqual(['node-a error asymmetric-nodes']);
		const f = summary.findings[0]!;
		expect(f.message).toMatch(
			/^2 requests TCP 198\.18\.173\.10:\d+ → 198\.18\.173\.100:80 \[SYN\] came in to node-a on eth0, were DNATed there to 198\.19\.175\.2:8080 \(nat:KUBE-SEP-WEB:rule:2\) and went over flannel\.1 to node-b without SNAT; node-b sent the 3 replies \(node-b #3 #4 #7\) by its eth0 straight to 198\.18\.173\.10, not back through node-a: from 198\.19\.175\.2:8080, not from 198\.18\.173\.100:80, which 198\.18\.173\.10 asked$/,
		);
		expect(f.packets).toEqual([1, 3]);
		expect(f.rules.map(r => `${r.file}:${r.line} ${r.table}:${r.chain} ${r.pos}`)).toEqual([`node-a/${dump}:${dump === 'iptables.save' ? 42 : 44} nat:KUBE-SEP-WEB 2`]);
		expect(f.rules[0]!.text).toBe('-A KUBE-SEP-WEB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 198.19.175.2:8080');
		expect(f.hint).toContain('masquerade there what it DNATs to another node (kube-proxy does it for externalTrafficPolicy: Cluster: the service\'s chain jumps to KUBE-MARK-MASQ');
		expect(f.hint).toContain('or set externalTrafficPolicy: Local on the Service, so that only nodes with a local endpoint announce 198.18.173.100 (MetalLB then announces it from node-b)');
		// Both SYNs crossed and were accepted at node B: nothing was dropped or lost.
		expect(summary.journeys.map(j => `${j.from.node} ${j.verdict}`)).toEqual(['node-a ACCEPT', 'node-a ACCEPT']);
	});
});

describe('tracewatch replay --node', () => {
	const BIN = join(ROOT, 'bin/tracewatch.js');
	const args = (variant: string) => NODES.map(n => ['--node', `${n}=testdata/nodes/${variant}/${n}/dmesg-T.log,testdata/nodes/${variant}/${n}/iptables.save`]).flat();

	it('text: packets named by node, what crossed, and the finding at the node that dropped', async () => {
		const {stdout} = await exec(process.execPath, [BIN, 'replay', ...args('broken'), '--hops', 'summary'], {cwd: ROOT});
		expect(stdout).toMatch(/^node-a #1 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request/);
		expect(stdout).toContain('\nnode-b #2  ICMP 198.19.1.2 → 198.19.2.2 echo-request');
		expect(stdout).toContain('Across nodes: 4 packet(s) crossed; clocks: node-a: the reference clock; node-b: wall time, as node-a');
		expect(stdout).toContain('  node-a #1 ─flannel.1─ VXLAN 198.18.100.1 → 198.18.100.2 (node-a #2 ⇒ node-b #1) ─▶ node-b #2  DROP  ICMP 198.19.1.2 → 198.19.2.2 echo-request seq=1');
		expect(stdout).toContain('error   dropped-at-peer:');
		expect(stdout).toContain('testdata/nodes/broken/node-b/iptables.save:13 filter:FORWARD  -P FORWARD DROP');
		expect(stdout).not.toContain('no-reply');
	});

	it('json: node on every packet and finding, the nodes and the journeys', async () => {
		const {stdout} = await exec(process.execPath, [BIN, 'replay', ...args('working'), '--format', 'json'], {cwd: ROOT});
		const doc = JSON.parse(stdout) as {packets: Array<{node: string; id: number}>; nodes: unknown[]; journeys: Journey[]; findings: unknown[]};
		expect(doc.packets.map(p => p.node)).toEqual([...Array(20).fill('node-a'), ...Array(20).fill('node-b')]);
		expect(doc.nodes).toEqual([
			{name: 'node-a', packets: 20, clock: 'reference'},
			{name: 'node-b', packets: 20, clock: 'wall', offset: 0},
		]);
		expect(doc.journeys).toHaveLength(10);
		expect(doc.journeys[0]).toEqual({
			from: {node: 'node-a', id: 1},
			wire: {kind: 'vxlan', device: 'flannel.1', outer: {src: '198.18.100.1', dst: '198.18.100.2', sent: {node: 'node-a', id: 2}, received: {node: 'node-b', id: 1}}},
			to: {node: 'node-b', id: 2},
			verdict: 'ACCEPT',
			what: expect.stringMatching(/^ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request seq=1$/),
			toward: 'node-b',
		});
		expect(doc.findings).toEqual([]);
	});

	it('json and html: the findings across nodes with their node and rule', async () => {
		const [json, html] = await Promise.all([
			exec(process.execPath, [BIN, 'replay', ...args('vip-asym'), '--format', 'json'], {cwd: ROOT}),
			exec(process.execPath, [BIN, 'replay', ...NODES.map(n => ['--node', `${n}=testdata/nodes/mtu/${n}/dmesg-T.log,testdata/nodes/mtu/${n}/iptables.save,testdata/nodes/mtu/${n}/ip-link.json`]).flat(), '--format', 'html'], {cwd: ROOT}),
		]);
		const doc = JSON.parse(json.stdout) as {findings: Array<{kind: string; node: string; packets: number[]; rules: Array<{file: string; line: number}>}>};
		expect(doc.findings.map(f => [f.kind, f.node, f.packets, f.rules.map(r => `${r.file}:${r.line}`)])).toEqual([['asymmetric-nodes', 'node-a', [1, 3], ['testdata/nodes/vip-asym/node-a/iptables.save:42']]]);
		expect(html.stdout.match(/<b>overlay-mtu<\/b>/g)).toHaveLength(2);
		expect(html.stdout).toContain('bigger than the MTU of node-b&#39;s eth0, 1400');
	});

	it('says what is wrong with a --node', async () => {
		const fail = (extra: string[]) => exec(process.execPath, [BIN, 'replay', ...extra], {cwd: ROOT}).then(() => '', (e: {stderr: string; code: number}) => `${e.code} ${e.stderr}`);
		const [empty] = await Promise.all([fail(['--node', 'a=', '--node', 'b=x'])]);
		expect(empty).toMatch(/^2 .*--node takes NAME=TRACE\[,RULES…\]/);
		// Nodes given only their rulesets, with no FILE and nothing piped in, are refused on a
		// terminal (test/e2e/tui.test.ts); piped in, the input is the central log they name.
	});

	it('reads a central log piped in, each node given its ruleset with --node NAME=RULES', async () => {
		const child = execFile(process.execPath, [BIN, 'replay', '--format', 'json', ...['node-a', 'node-b'].flatMap(n => ['--node', `${n}=testdata/nodes/broken/${n}/iptables.save`])], {cwd: ROOT, maxBuffer: 32 << 20});
		const out = new Promise<string>((resolve, reject) => {
			let text = '';
			child.stdout!.on('data', (d: Buffer) => (text += String(d)));
			child.on('close', code => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
		});
		child.stdin!.end(read('testdata/nodes/broken/central-kern.log'));
		const doc = JSON.parse(await out) as {packets: Array<{node: string}>; findings: Array<{kind: string; node: string; packets: number[]}>};
		expect(doc.packets.filter(p => p.node === 'node-a')).toHaveLength(8);
		expect(doc.packets.filter(p => p.node === 'node-b')).toHaveLength(8);
		expect(doc.findings.map(f => `${f.node} ${f.kind} ${f.packets.join(',')}`)).toEqual(['node-b dropped-at-peer 2,4', 'node-b dropped-at-peer 6,8']);
	});
});
