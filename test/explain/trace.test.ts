/**
 * `explain --trace` on every bundled real trace, in every format, with the dump saved with it:
 * each traced packet predicted from its first trace line must reproduce the traced hop list and
 * final hop. The agreement is printed per folder and format; the disagreements left are pinned
 * here with their reasons (docs/explain.md lists them).
 */
import {readdirSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {explainTrace, predictForPacket, compareWithTrace, TraceKnowledge, type TraceExplained} from '../../src/model/explain/index.js';
import {explainPacket, explainReply} from '../../src/model/explain/predict.js';
import {RuleIndex} from '../../src/model/join.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {explainDocument, renderAgreement, renderExplained, type ExplainedPacket} from '../../src/ui/explain.js';
import {packetLiteral} from '../support/packet.js';
import {exists, read, ROOT, rules} from '../support/replay.js';

/** The folders of captures with the dumps saved with them (the IPv6 captures are kept apart). */
const TOPS = ['testdata/dmesg', 'testdata/nft', 'testdata/ipv6-captures/dmesg', 'testdata/ipv6-captures/nft'].filter(d => exists(`${d}`));

const FORMS = ['dmesg.log', 'dmesg-T.log', 'dmesg-r.log', 'dmesg-x.log', 'dmesg-iso.log', 'kmsg.log', 'xtables-monitor.log', 'nft-monitor.log'];

function scenarios(dir: string): string[] {
	return readdirSync(new URL(dir, `file://${ROOT}`))
		.filter(n => exists(`${dir}/${n}/README.md`))
		.sort();
}

function dumpsOf(dir: string): string[] {
	return ['iptables.save', 'ip6tables.save'].map(f => `${dir}/${f}`).filter(f => exists(f) && read(f).trim() !== '');
}

/** A trace through the pipeline as replay rebuilds it, then every packet predicted and compared. */
function explainFile(trace: string, dumps: string[]): {results: TraceExplained[]; inputs: Array<{path: string}>} {
	const rs = rules(...dumps);
	const {packets, summary} = collect([{path: trace, lines: parseTraceText(read(trace))}], {rules: rs});
	return {results: explainTrace(packets, new RuleIndex(rs)), inputs: [...summary.inputs]};
}

/** The disagreements left, each with its reason (docs/explain.md, "Agreement"). */
const EXPECTED: Readonly<Record<string, ReadonlyArray<[number, string]>>> = {
	// xtables-monitor 1.8.9 exited mid-line on the IPv6 TCP SYN ("unsupported layer 4 protocol
	// value", xtables-monitor.stderr): the trace stops in nat:TW-SERVICES, the packet went on.
	'testdata/nft/ipv6/xtables-monitor.log': [[3, 'trace-ended']],
	// The same on the IPv6 port-forward's SYN (README there: "unsupported layer 4 protocol value").
	'testdata/ipv6-captures/nft/nat-replies6/xtables-monitor.log': [[25, 'trace-ended']],
	// The SYN to port 8081 is dropped by a bridge rule (ebtables -A FORWARD … --ip-dport 8081 -j DROP),
	// which no iptables dump holds: its IP hooks' trace stops after PREROUTING (README there).
	...Object.fromEntries(['dmesg.log', 'dmesg-T.log', 'dmesg-r.log', 'dmesg-x.log', 'dmesg-iso.log', 'kmsg.log'].map(f => [`testdata/dmesg/bridge-ebtables/${f}`, [[26, 'trace-ended']]])),
	'testdata/nft/bridge-ebtables/xtables-monitor.log': [[25, 'trace-ended']],
	'testdata/nft/bridge-ebtables/nft-monitor.log': [[25, 'trace-ended']],
};

interface Row {
	folder: string;
	form: string;
	files: number;
	packets: number;
	agree: number;
}

describe('explain --trace reproduces every bundled real trace', () => {
	const rows = new Map<string, Row>();
	const cases: Array<[string, string, string[]]> = [];
	for (const top of TOPS) {
		for (const name of scenarios(top)) {
			const dir = `${top}/${name}`;
			for (const form of FORMS) if (exists(`${dir}/${form}`)) cases.push([top, `${dir}/${form}`, dumpsOf(dir)]);
		}
	}

	it('covers every scenario in both backends and every log form', () => {
		expect(cases.length).toBeGreaterThanOrEqual(74);
	});

	it.each(cases)('%s: %s', (top, trace, dumps) => {
		expect(dumps.length).toBeGreaterThan(0);
		const {results} = explainFile(trace, dumps);
		expect(results.length).toBeGreaterThan(0);
		const form = trace.split('/').pop()!;
		const key = `${top}|${form}`;
		const row = rows.get(key) ?? {folder: top.replace('testdata/', ''), form, files: 0, packets: 0, agree: 0};
		row.files++;
		row.packets += results.length;
		row.agree += results.filter(r => r.divergence === null).length;
		rows.set(key, row);
		const parted = results.filter(r => r.divergence).map(r => [r.packet.id, r.divergence!.reason] as [number, string]);
		expect(parted, results.filter(r => r.divergence).map(r => `#${r.packet.id} ${r.divergence!.message}`).join('\n')).toEqual(EXPECTED[trace] ?? []);
	});

	it('corpus/: the published traces come without the dump saved with them', () => {
		let files = 0;
		let packets = 0;
		for (const dir of ['trace-legacy', 'trace-xtables-monitor', 'trace-nft', 'log-target']) {
			for (const f of readdirSync(new URL(`testdata/corpus/${dir}`, `file://${ROOT}`))) {
				const {packets: p} = collect([{path: f, lines: parseTraceText(read(`testdata/corpus/${dir}/${f}`))}]);
				files++;
				packets += p.length;
			}
		}
		rows.set('corpus', {folder: 'corpus', form: '(no dump bundled: not predicted)', files, packets, agree: 0});
		expect(files).toBeGreaterThan(40);
	});

	it('prints the agreement', () => {
		const table = [...rows.values()];
		const total = table.filter(r => r.folder !== 'corpus').reduce((a, r) => ({packets: a.packets + r.packets, agree: a.agree + r.agree}), {packets: 0, agree: 0});
		const lines = ['explain --trace agreement (folder, format: files, packets, agreeing)'];
		for (const r of table) lines.push(`  ${r.folder.padEnd(19)} ${r.form.padEnd(34)} ${String(r.files).padStart(3)} file(s) ${String(r.packets).padStart(4)} packet(s) ${r.folder === 'corpus' ? '' : `${String(r.agree).padStart(4)} agree (${((r.agree / r.packets) * 100).toFixed(1)} %)`}`);
		lines.push(`  total: ${total.agree} of ${total.packets} packet(s) agree (${((total.agree / total.packets) * 100).toFixed(2)} %)`);
		console.log(lines.join('\n'));
		expect(total.packets - total.agree).toBe(cases.reduce((n, [, trace]) => n + (EXPECTED[trace]?.length ?? 0), 0));
	});
});

describe('a dump taken after the rules changed', () => {
	// testdata/formats: xtables-monitor traced a ping after a rule was inserted at the top of
	// filter INPUT; xtmon-iptables-nft-v4.save was saved before the insertion, -end.save after.
	const TRACE = 'testdata/formats/xtables-monitor-1.8.9-trace-4.log';

	it.each([
		['testdata/formats/rules/xtmon-iptables-nft-v4.save', 8, /the trace shows the rule -A INPUT -p icmp -m comment --comment "added later" -j ACCEPT, which filter:INPUT in the dump does not have/],
		['testdata/formats/rules/xtmon-iptables-nft-v4-end.save', 1, /rule 1 of filter:INPUT in the dump \(-A INPUT -p icmp -m comment --comment "added later" -j ACCEPT\) matches the packet, yet the kernel did not run it/],
	])('%s: every packet agrees but the one that met the other rules', (dump, packet, why) => {
		const {results} = explainFile(TRACE, [dump]);
		expect(results).toHaveLength(8);
		const parted = results.filter(r => r.divergence);
		expect(parted.map(r => [r.packet.id, r.divergence!.reason])).toEqual([[packet, 'rules-changed']]);
		expect(parted[0]!.divergence!.message).toMatch(why);
	});

	it('rules moved in a legacy dump: the traced rule number cannot be the rule the dump has there', () => {
		// The dump lost TW-FORWARD's first rule: the SYN's traced rule:2 is now the ICMP rule.
		const text = read('testdata/dmesg/fwd-dnat-masq/iptables.save');
		const stale = parseRuleset(text.replace('[0:0] -A TW-FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\n', ''), 'stale.save');
		const {packets} = collect([{path: 'dmesg.log', lines: parseTraceText(read('testdata/dmesg/fwd-dnat-masq/dmesg.log'))}], {rules: [stale]});
		const results = explainTrace(packets, new RuleIndex([stale]));
		const first = results[0]!.divergence!;
		expect(first.reason).toBe('rules-changed');
		expect(first.message).toMatch(/rule 2 of filter:TW-FORWARD in the dump \(-A TW-FORWARD -p icmp .*\) cannot match the packet the trace shows there \(-p icmp\)/);
		expect(results.slice(1).every(r => r.divergence === null)).toBe(true);
	});
});

describe('the functions replay and the interactive view can call', () => {
	it('predictForPacket with one TraceKnowledge per run, fed in id order, gives what explainTrace gives', () => {
		const dumps = dumpsOf('testdata/dmesg/wifi-masquerade');
		const rs = rules(...dumps);
		const index = new RuleIndex(rs);
		const {packets} = collect([{path: 'x', lines: parseTraceText(read('testdata/dmesg/wifi-masquerade/dmesg.log'))}], {rules: rs});
		const knowledge = new TraceKnowledge();
		for (const p of packets) knowledge.learn(p);
		const batch = explainTrace(packets, index);
		packets.forEach((p, i) => {
			const prediction = predictForPacket(p, index, knowledge);
			knowledge.recordCtmark(p.id, prediction.ctmarkAfter);
			expect(prediction.hops).toEqual(batch[i]!.prediction.hops);
			expect(compareWithTrace(p, prediction)).toBeNull();
		});
	});
});

describe('views of a prediction', () => {
	const {results, inputs} = explainFile('testdata/dmesg/fwd-dnat-masq/dmesg.log', dumpsOf('testdata/dmesg/fwd-dnat-masq'));
	const entries: ExplainedPacket[] = results.map(r => ({
		proto: r.packet.proto,
		src: r.packet.src,
		dst: r.packet.dst,
		...(r.packet.spt === undefined ? {} : {spt: r.packet.spt}),
		...(r.packet.dpt === undefined ? {} : {dpt: r.packet.dpt}),
		...(r.packet.ipId === undefined ? {} : {ipId: r.packet.ipId}),
		...(r.packet.tcpFlags ? {tcpFlags: r.packet.tcpFlags} : {}),
		prediction: r.prediction,
		traced: {packet: r.packet, divergence: r.divergence},
	}));

	it('JSON: the contract names, hops as replay writes them', () => {
		const doc = JSON.parse(explainDocument(entries, inputs, {path: 'dmesg.log'})) as {tracewatch: number; explained: Array<Record<string, unknown>>; agreement: unknown};
		expect(doc.tracewatch).toBe(1);
		expect(doc.agreement).toEqual({trace: 'dmesg.log', packets: 10, agree: 10});
		const first = doc.explained[0]!;
		expect(Object.keys(first)).toEqual(expect.arrayContaining(['src', 'dst', 'proto', 'spt', 'dpt', 'ipId', 'in', 'out', 'hops', 'final', 'verdict', 'nat', 'uncertain', 'traced', 'agrees', 'divergence']));
		expect(first).toMatchObject({src: '198.18.10.2', dst: '198.18.30.10', proto: 'TCP', spt: 40990, dpt: 80, ipId: 38824, in: 'eth0', out: 'eth1', verdict: 'ACCEPT', traced: 1, agrees: true, divergence: null});
		expect(first['final']).toEqual({table: 'nat', chain: 'POSTROUTING', kind: 'rule', num: 1});
		expect((first['hops'] as unknown[])[0]).toEqual({
			table: 'raw', chain: 'PREROUTING', kind: 'policy', num: 3, line: null, file: null, in: 'eth0', out: '', src: '198.18.10.2', dst: '198.18.30.10', spt: 40990, dpt: 80, mark: null,
			rule: '-P PREROUTING ACCEPT', target: 'ACCEPT', hook: 'PREROUTING', ruleFrom: 'dump', ruleLine: 40,
		});
		expect(first['nat']).toEqual([
			{type: 'DNAT', at: 'nat:TW-SERVICES:rule:1', from: '198.18.30.10:80', to: '198.18.20.2:8080', seen: 'rule'},
			{type: 'MASQUERADE', at: 'nat:POSTROUTING:rule:1', from: '198.18.10.2:40990', to: 'address of eth1', seen: 'rule'},
		]);
		// The reply: conntrack restores the masqueraded destination before routing.
		expect(doc.explained[1]).toMatchObject({state: 'established', nat: [{type: 'conntrack', from: '198.18.20.1:40990', to: '198.18.10.2:40990', seen: 'connection'}, {type: 'conntrack', from: '198.18.20.2:8080', to: '198.18.30.10:80'}]});
	});

	it('text: replay\'s layout, the agreement at the end', () => {
		const text = renderExplained(entries[0]!, inputs);
		expect(text.split('\n').slice(0, 4)).toEqual([
			'#1  TCP 198.18.10.2:40990 → 198.18.30.10:80 [SYN] ID=38824   predicted from testdata/dmesg/fwd-dnat-masq/dmesg.log:1 (traced packet #1)',
			'    in eth0 → out eth1   verdict ACCEPT   state new (the first packet of its connection in the trace)',
			'    route forward out eth1 (the trace shows packets to 198.18.20.2 leaving by eth1)',
			'    NAT  DNAT 198.18.30.10:80 → 198.18.20.2:8080 at nat:TW-SERVICES:rule:1',
		]);
		expect(text).toContain('      nat:TW-SERVICES:rule:1       DNAT        -A TW-SERVICES -d 198.18.30.10/32');
		expect(text).toContain('    trace agrees: 11 hop(s), the same final hop');
		expect(renderAgreement(entries)).toBe("10 of 10 traced packet(s) agree with the dump's prediction (100 %)");
	});
});

describe('the reply of a connection described on the command line (--reply)', () => {
	it('takes the path the traced reply took, its NAT undone by conntrack', () => {
		const rs = rules('testdata/dmesg/fwd-dnat-masq/iptables.save');
		const index = new RuleIndex(rs);
		const input = {family: 'ipv4', proto: 'TCP', src: '198.18.10.2', spt: 40990, dst: '198.18.30.10', dpt: 80, in: 'eth0', out: 'eth1', fromHost: false, tcpFlags: ['SYN'], state: 'new', mark: 0, locals: []} as const;
		const reply = explainReply(index, input, explainPacket(index, input));
		const {packets} = collect([{path: 'dmesg.log', lines: parseTraceText(read('testdata/dmesg/fwd-dnat-masq/dmesg.log'))}], {rules: rs});
		const traced = packets[1]!;
		expect(traced.replyTo).toBe(1);
		const names = (hops: readonly {table: string; chain: string; kind: string; num: number | null}[]) => hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num}`);
		// The kernel prints nothing before the TRACE rule that matched the reply.
		expect(reply.hops[0]).toMatchObject({table: 'raw', chain: 'PREROUTING', target: 'TRACE'});
		expect(names(reply.hops.slice(1))).toEqual(names(traced.hops));
		// From FORWARD on the packet is the same on both sides: conntrack restored the client's address.
		const fields = (h: {src?: string; spt?: number; dst?: string; dpt?: number; in: string; out: string}) => [h.src, h.spt, h.dst, h.dpt, h.in, h.out];
		expect(reply.hops.slice(1).filter(h => h.hook !== 'PREROUTING').map(fields)).toEqual(traced.hops.filter(h => h.hook !== 'PREROUTING').map(fields));
		expect(reply.ct).toMatchObject({state: 'established', dir: 'reply'});
		expect(reply.nat).toEqual([{type: 'conntrack', at: 'POSTROUTING (conntrack)', from: '198.18.20.2:8080', to: '198.18.30.10:80', seen: 'connection'}]);
		// Before that, the trace shows eth1's own address, which MASQUERADE chose and no dump holds.
		expect(traced.hops[0]!.dst).toBe('198.18.20.1');
		expect(reply.uncertain[0]).toMatchObject({kind: 'packet', match: "the reply's destination (address of eth1)"});
	});
});

describe('a native nftables listing (nft list ruleset)', () => {
	// testdata/formats: an inet table made with nft -f, traced by nft monitor and xtables-monitor at
	// once; nft-inet-list-ruleset-a.nft is `nft -a list ruleset` taken with it (SOURCES.md).
	const DUMP = 'testdata/formats/rules/nft-inet-list-ruleset-a.nft';

	it.each(['testdata/formats/nft-monitor-trace-1.0.6-inet.log', 'testdata/formats/xtables-monitor-1.8.9-trace-nft-inet.log'])('%s: base chains at their own hooks and priorities, every packet agrees', trace => {
		const {results} = explainFile(trace, [DUMP]);
		expect(results).toHaveLength(4);
		expect(results.filter(r => r.divergence).map(r => r.divergence!.message)).toEqual([]);
		// The TCP SYN: `tcp dport 8080 jump web` in input (priority filter), `meta mark set 0x10` there,
		// then the second input base chain, in2 (priority 10), accepts it.
		const syn = results.find(r => r.packet.proto === 'TCP')!;
		expect(syn.prediction.hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num} ${h.target} ${h.hook} ${h.mark ?? '0'}`)).toEqual([
			'twfmt:pre:rule:3 TRACE PREROUTING 0',
			'twfmt:pre:policy:5 ACCEPT PREROUTING 0',
			'twfmt:input:rule:2 web INPUT 0',
			'twfmt:web:rule:1 LOG INPUT 0',
			'twfmt:web:rule:2 MARK INPUT 0',
			'twfmt:input:policy:5 ACCEPT INPUT 0x10',
			'twfmt:in2:rule:2 ACCEPT INPUT 0x10',
		]);
		// A base chain's end is its policy, written as nft writes it.
		expect(syn.prediction.hops[1]!.rule).toBe('policy accept');
	});
});

describe.skipIf(!exists('testdata/nft-rulesets/kube-proxy/nft-monitor.log'))('native nftables rulesets traced with nft monitor (kube-proxy nftables mode, firewalld, docker)', () => {
	it.each([
		['kube-proxy', []],
		['firewalld', []],
		// Docker's second packet: the trace stops after FORWARD's vmap lookups, before its policy.
		['docker', [[2, 'trace-ended']]],
	] as const)('%s: nft list ruleset and nft -j list ruleset predict the same', (name, expected) => {
		for (const dump of ['ruleset.nft', 'ruleset.json']) {
			const {results} = explainFile(`testdata/nft-rulesets/${name}/nft-monitor.log`, [`testdata/nft-rulesets/${name}/${dump}`]);
			expect(results.length).toBeGreaterThan(1);
			expect(results.filter(r => r.divergence).map(r => [r.packet.id, r.divergence!.reason])).toEqual(expected);
		}
	});
});

describe('what the trace teaches stays bounded', () => {
	const ping = (id: number, verdict: 'ACCEPT' | 'DROP', dir: 'there' | 'back' = 'there') =>
		packetLiteral({id, proto: 'ICMP', src: dir === 'there' ? '198.18.0.1' : '198.18.0.2', dst: dir === 'there' ? '198.18.0.2' : '198.18.0.1', verdict, in: 'eth0'});

	it('a connection of thousands of packets keeps its last 64, and its state from all of them', () => {
		const k = new TraceKnowledge();
		// UDP between two fixed ports, answered packet by packet: one connection.
		const packets = Array.from({length: 3000}, (_, i) => ({...(i % 2 === 0 ? ping(i + 1, 'ACCEPT') : {...ping(i + 1, 'ACCEPT', 'back'), replyTo: i}), proto: 'UDP', spt: 5353, dpt: 5353}));
		for (const p of packets) k.learn(p);
		const conn = (k as unknown as {members: Map<number, {conn: {members: unknown[]; ctmarks: unknown[]}}>}).members.get(3000)!.conn;
		expect(conn.members.length).toBeLessThanOrEqual(64);
		for (const p of packets.slice(-64)) k.recordCtmark(p.id, 1);
		for (const p of packets) k.recordCtmark(p.id, 2);
		expect(conn.ctmarks.length).toBeLessThanOrEqual(64);
		const last = k.stateFor(packets.at(-1)!);
		expect(last.dir).toBe('reply');
		expect(last.state).toBe('established');
		expect(last.basis).toBe('a reply: the connection was opened by #1');
		const request = k.stateFor(packets.at(-2)!);
		expect(request).toMatchObject({state: 'established', dir: 'original', ctmark: 2});
		expect(request.basis).toBe('the connection saw a reply (#2)');
	});

	it('a packet asked about after its connection went on (a whole trace learned first) keeps its own state', () => {
		const k = new TraceKnowledge();
		const packets = Array.from({length: 200}, (_, i) => ({...ping(i + 1, 'ACCEPT'), proto: 'UDP', spt: 5353, dpt: 5353}));
		for (const p of packets) k.learn(p);
		expect(k.stateFor(packets[0]!)).toMatchObject({state: 'new', first: true});
		expect(k.stateFor(packets[1]!)).toMatchObject({state: 'new', first: false, basis: 'the connection exists (#1 got through) and saw no reply yet'});
	});

	it('a connection none of whose packets got through names a few of them, and how many', () => {
		const k = new TraceKnowledge();
		const packets = Array.from({length: 500}, (_, i) => ({...ping(i + 1, 'DROP'), proto: 'UDP', spt: 5353, dpt: 5353}));
		for (const p of packets) k.learn(p);
		const s = k.stateFor(packets.at(-1)!);
		expect(s.state).toBe('new');
		expect(s.basis).toBe('the first packet of its connection in the trace (the earlier packets #1 #437 #438 … #499, 499 in all, did not get through)');
	});
});
