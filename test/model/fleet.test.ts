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

/** Replays both nodes' traces of a variant, each through `edit` first (the lines as read). */
function fleet(variant: string, trace: string, dump: string, edit: (node: string, lines: string[]) => string[] = (_n, l) => l): {summary: FleetSummary; packets: Packet[]} {
	const dir = `testdata/nodes/${variant}`;
	const f = new Fleet({nodes: NODES.map(n => ({name: n, rules: [parseRuleset(read(`${dir}/${n}/${dump}`), `${n}/${dump}`)]}))});
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
