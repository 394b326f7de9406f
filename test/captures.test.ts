/**
 * Real captures from this project's kernel tests (scripts/capture-testdata.sh): every log form of
 * one run rebuilds the same packets, and the rebuilt packets match their golden files, which were
 * read and checked by a person (regenerate with scripts/update-goldens.ts only on purpose).
 */
import {createReadStream, readdirSync} from 'node:fs';
import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {runPipeline} from '../src/cli/replay.js';
import {collect} from '../src/model/collect.js';
import {parseTraceText} from '../src/parser/line-stream.js';
import {packetJson} from '../src/ui/json.js';
import {exists, read, replayFiles, ROOT, rules} from './support/replay.js';

const LEGACY_FORMS = ['dmesg.log', 'dmesg-T.log', 'dmesg-r.log', 'dmesg-x.log', 'dmesg-iso.log', 'kmsg.log'];

function scenarios(dir: string): string[] {
	return readdirSync(new URL(dir, `file://${ROOT}`)).filter(n => exists(`${dir}/${n}/README.md`));
}

function rulesOf(dir: string): string[] {
	return ['iptables.save', 'ip6tables.save'].map(f => `${dir}/${f}`).filter(f => exists(f) && read(f).trim() !== '');
}

/** The packets as JSON without what differs between log forms (time stamps as written and as read, and the file name). */
function comparable(trace: string, rulePaths: string[]): unknown[] {
	const {inputs, packets} = replayFiles([trace], rulePaths);
	return packets.map(p => {
		const j = packetJson(p, inputs) as {hops: Array<Record<string, unknown>>};
		return {...j, hops: j.hops.map(({time: _t, mono: _m, wall: _w, file: _f, ...h}) => h)};
	});
}

async function replayText(trace: string, rulePaths: string[]): Promise<string> {
	let out = '';
	await runPipeline([{path: trace, stream: createReadStream(new URL(trace, `file://${ROOT}`)), live: false}], {
		format: 'text',
		rules: rules(...rulePaths),
		out: {write: t => (out += t), isTTY: false, color: false},
		warn: () => {},
	});
	return out;
}

describe('legacy captures: every kernel log form rebuilds the same packets', () => {
	const legacy = ['testdata/dmesg', 'testdata/ipv6-captures/dmesg'].flatMap(top => scenarios(top).map(n => `${top}/${n}`));
	it.each(legacy.filter(dir => exists(`${dir}/dmesg.log`)))('%s', dir => {
		const forms = LEGACY_FORMS.filter(f => exists(`${dir}/${f}`));
		expect(forms).toEqual(LEGACY_FORMS);
		const reference = comparable(`${dir}/dmesg.log`, rulesOf(dir));
		expect(reference.length).toBeGreaterThan(0);
		for (const form of forms.slice(1)) expect(comparable(`${dir}/${form}`, rulesOf(dir)), form).toEqual(reference);
	});
});

describe('golden files of the rebuilt packets', () => {
	const cases: Array<[string, string]> = [];
	for (const top of ['testdata/dmesg', 'testdata/nft', 'testdata/ipv6-captures/dmesg', 'testdata/ipv6-captures/nft']) {
		for (const name of scenarios(top)) {
			for (const form of ['dmesg.log', 'dmesg-T.log', 'xtables-monitor.log', 'nft-monitor.log']) {
				if (exists(`${top}/${name}/${form}.golden.txt`)) cases.push([`${top}/${name}`, form]);
			}
		}
	}
	it('covers every scenario in both backends', () => {
		expect(cases.length).toBeGreaterThanOrEqual(29);
	});
	it.each(cases)('%s/%s', async (dir, form) => {
		expect(await replayText(`${dir}/${form}`, rulesOf(dir))).toBe(read(`${dir}/${form}.golden.txt`));
	});
});

describe('real captures of the classes that used to come out wrong', () => {
	it('replies of masqueraded and DNATed connections are one packet each, restored by conntrack (nat-replies, every format)', () => {
		for (const [trace, rulePaths] of [
			['testdata/dmesg/nat-replies/dmesg.log', ['testdata/dmesg/nat-replies/iptables.save']],
			['testdata/nft/nat-replies/nft-monitor.log', ['testdata/nft/nat-replies/iptables.save']],
			['testdata/nft/nat-replies/xtables-monitor.log', ['testdata/nft/nat-replies/iptables.save']],
		] as const) {
			const {packets} = replayFiles([trace], [...rulePaths]);
			// Every reply to the LAN host came in for the router's WAN address and left for the LAN host, as one packet.
			// (The port forward's packets to 198.18.61.1:2222 are DNATed the other way: not replies.)
			const back = packets.filter(p => p.hops[0]?.dst === '198.18.61.1' && p.hops.at(-1)?.dst === '198.18.60.2' && p.hops[0]?.dpt !== 2222);
			expect(back.length, trace).toBeGreaterThanOrEqual(6);
			for (const p of back) {
				expect(p.connection, `${trace} #${p.id}`).toMatchObject({direction: 'reply', conntrack: [{field: 'dst', did: 'restored', seen: 'trace', to: expect.stringMatching(/^198\.18\.60\.2\b/)}]});
				expect(p.changes!.find(c => c.field === 'dst')).toMatchObject({by: 'conntrack'});
			}
			// No packet starts at a line that only shows the restored destination.
			expect(packets.filter(p => p.hops[0]?.src === '198.18.61.2' && p.hops[0]?.dst === '198.18.60.2' && p.hops[0]?.hook === 'FORWARD'), trace).toEqual([]);
			// The SYN-ACK of the port forward leaves with the LAN host's address; conntrack puts back the router's after the last trace point.
			const synAck = packets.find(p => p.src === '198.18.60.2' && p.spt === 8022 && p.tcpFlags?.includes('SYN'))!;
			expect(synAck.connection?.conntrack, trace).toEqual([expect.objectContaining({field: 'src', did: 'restored', seen: 'inferred', from: '198.18.60.2:8022', to: '198.18.61.1:2222'})]);
		}
	});

	it('JSON says what conntrack did and which rule changed what (nat-replies)', () => {
		const {packets, inputs} = replayFiles(['testdata/dmesg/nat-replies/dmesg.log'], ['testdata/dmesg/nat-replies/iptables.save']);
		const reply = packetJson(packets.find(p => p.proto === 'ICMP' && p.icmp?.type === 0 && p.replyTo === 1)!, inputs);
		expect(reply['connection']).toEqual({direction: 'reply', first: 1, conntrack: [{field: 'dst', from: '198.18.61.1', to: '198.18.60.2', did: 'restored', seen: 'trace', at: 1}]});
		expect(reply['changes']).toContainEqual({field: 'dst', from: '198.18.61.1', to: '198.18.60.2', by: 'conntrack', at: 1, seen: 2});
		// The MARK rule of mangle PREROUTING set the mark: the line after it shows it.
		const request = packetJson(packets[0]!, inputs) as {changes: Array<Record<string, unknown>>; hops: Array<Record<string, unknown>>};
		const mark = request.changes.find(c => c['field'] === 'mark')!;
		expect(mark).toMatchObject({from: '', to: '0x10', by: 'rule'});
		expect(request.hops[mark['at'] as number]).toMatchObject({table: 'mangle', chain: 'PREROUTING', target: 'MARK'});
	});

	it('an ICMP error about a masqueraded datagram quotes it, and belongs to its connection (nat-replies)', () => {
		for (const trace of ['testdata/dmesg/nat-replies/dmesg.log', 'testdata/nft/nat-replies/nft-monitor.log']) {
			const {packets} = replayFiles([trace], ['testdata/dmesg/nat-replies/iptables.save']);
			const udp = packets.find(p => p.proto === 'UDP' && p.dpt === 9)!;
			const err = packets.find(p => p.icmp?.type === 3 && p.icmp.code === 3)!;
			expect(err.quotes, trace).toBe(udp.id);
			expect(err.connection, trace).toMatchObject({direction: 'reply', first: udp.id});
		}
	});

	it('-j LOG lines between the TRACE lines of a packet are noted on the hop of the LOG rule (nat-replies, IPv4 and IPv6)', () => {
		for (const [dir, save] of [
			['testdata/dmesg/nat-replies', 'iptables.save'],
			['testdata/ipv6-captures/dmesg/nat-replies6', 'ip6tables.save'],
		] as const) {
			const logLines = read(`${dir}/dmesg.log`).split('\n').filter(l => / tw-log-(fwd|in): IN=/.test(l)).length;
			const {packets} = replayFiles([`${dir}/dmesg.log`], [`${dir}/${save}`]);
			const logged = packets.flatMap(p => p.hops.filter(h => h.logPrefix !== undefined));
			expect(logged.length, dir).toBe(logLines);
			expect(logged.every(h => h.kind === 'rule' && h.table === 'mangle' && (h.chain === 'FORWARD' || h.chain === 'INPUT')), dir).toBe(true);
			expect(packets.filter(p => p.hops[0]?.kind === 'log'), dir).toEqual([]);
		}
	});

	it('IPv6 neighbour and router solicitations are answered by their advertisements (nat-replies6, ipv6-nd)', () => {
		const {packets} = replayFiles(['testdata/ipv6-captures/dmesg/nat-replies6/dmesg.log'], ['testdata/ipv6-captures/dmesg/nat-replies6/ip6tables.save']);
		const solicitations = packets.filter(p => p.icmp?.type === 135 && p.src !== '::');
		expect(solicitations.length).toBeGreaterThanOrEqual(2);
		for (const ns of solicitations) {
			expect(ns.replySeen, `#${ns.id}`).toBe(true);
			const na = packets.find(p => p.replyTo === ns.id)!;
			expect(na.icmp?.type).toBe(136);
		}
		const nd = replayFiles(['testdata/ipv6-captures/dmesg/ipv6-nd/dmesg.log'], ['testdata/ipv6-captures/dmesg/ipv6-nd/ip6tables.save']).packets;
		const rs = nd.find(p => p.icmp?.type === 133 && p.replySeen)!;
		expect(nd.find(p => p.replyTo === rs.id)?.icmp?.type).toBe(134);
		// Duplicate address detection (from ::) expects no answer and gets none.
		for (const dad of nd.filter(p => p.icmp?.type === 135 && p.src === '::')) expect(dad.replySeen).toBe(false);
	});

	it('a neighbour-discovery packet this host sent reads as sent out its interface, not forwarded, though POSTROUTING printed IN= (every format)', () => {
		const traces = [
			['testdata/ipv6-captures/dmesg/ipv6-nd/dmesg.log', 'testdata/ipv6-captures/dmesg/ipv6-nd/ip6tables.save'],
			['testdata/ipv6-captures/dmesg/nat-replies6/dmesg.log', 'testdata/ipv6-captures/dmesg/nat-replies6/ip6tables.save'],
			['testdata/ipv6-captures/nft/nat-replies6/xtables-monitor.log', 'testdata/ipv6-captures/nft/nat-replies6/ip6tables.save'],
			['testdata/ipv6-captures/nft/nat-replies6/nft-monitor.log', 'testdata/ipv6-captures/nft/nat-replies6/ip6tables.save'],
		] as const;
		for (const [trace, dump] of traces) {
			const local = replayFiles([trace], [dump]).packets.filter(p => p.hops[0]?.hook === 'OUTPUT');
			// The kernel passes the skb's device to POSTROUTING as its input (ip6_output): the line says IN=eth0 OUT=eth0.
			const printedIn = local.filter(p => p.hops.some(h => h.hook === 'POSTROUTING' && h.in !== '' && h.in === h.out));
			expect(printedIn.length, trace).toBeGreaterThanOrEqual(2);
			for (const p of printedIn) expect({id: p.id, in: p.in, out: p.out}, trace).toEqual({id: p.id, in: '', out: p.hops.at(-1)!.out});
		}
	});

	it('nft monitor: ICMPv6 behind a hop-by-hop header (MLD) reads as ICMPv6 with its type, from the bytes nft printed raw (with and without the dump)', () => {
		for (const dump of [['testdata/ipv6-captures/nft/ipv6-nd/ip6tables.save'], []]) {
			const {packets} = replayFiles(['testdata/ipv6-captures/nft/ipv6-nd/nft-monitor.log'], dump);
			const behind = packets.filter(p => p.extHeader === 'hop-by-hop');
			expect(behind.length).toBeGreaterThanOrEqual(20);
			// `ip6 nexthdr ip` is protocol 0, the hop-by-hop header: never the packet's protocol.
			expect(packets.filter(p => p.proto === 'IP')).toEqual([]);
			for (const p of behind) {
				expect({id: p.id, proto: p.proto, protoFrom: p.protoFrom}).toEqual({id: p.id, proto: 'ICMPv6', protoFrom: 'rule'});
				expect([130, 131, 132, 143]).toContain(p.icmp?.type);
			}
			// Line 1: `@th,0,160 0x82005d1503e8…` from fe80::e0:b4ff:fed6:6a74 to ff02::1, ip6 length 32: an MLDv1 general query, 1000 ms.
			expect(packets[0]).toMatchObject({src: 'fe80::e0:b4ff:fed6:6a74', dst: 'ff02::1', icmp: {type: 130, code: 0, mld: {maxDelay: 1000, group: '::'}}});
			// Line 6: `0x83003162…ff0200000000000000000001` to ff02::1:ff06:652d: an MLDv1 report; the address's last 4 bytes are the destination's.
			expect(packets[1]).toMatchObject({dst: 'ff02::1:ff06:652d', icmp: {type: 131, mld: {group: 'ff02::1:ff06:652d'}}});
		}
		// An MLDv2 report (`0x8f002142 0000 0005 04 00 0000 ff02000000000000`): 5 records, the first
		// change-to-exclude; of its address only the first 8 bytes are printed, and nothing more is claimed.
		const v2 = replayFiles(['testdata/ipv6-captures/nft/nat-replies6/nft-monitor.log'], ['testdata/ipv6-captures/nft/nat-replies6/ip6tables.save']).packets[0]!;
		expect(v2.icmp).toEqual({type: 143, code: 0, mld: {records: 5, recordType: 4, groupStart: 'ff02:0000:0000:0000'}});
	});

	it('an MLD report after a listener query is its answer only when it says so; else the query\'s answer is unknown (legacy, nft)', () => {
		// Legacy: TYPE=130 from the switch's querier (line 9), then reports (TYPE=131, 143) that print no records: any may be unsolicited.
		const legacy = replayFiles(['testdata/ipv6-captures/dmesg/ipv6-nd/dmesg.log'], ['testdata/ipv6-captures/dmesg/ipv6-nd/ip6tables.save']);
		const nft = replayFiles(['testdata/ipv6-captures/nft/ipv6-nd/nft-monitor.log'], ['testdata/ipv6-captures/nft/ipv6-nd/ip6tables.save']);
		for (const {packets, findings} of [legacy, nft]) {
			const queries = packets.filter(p => p.icmp?.type === 130);
			const reports = packets.filter(p => p.icmp?.type === 131 || p.icmp?.type === 143);
			expect(queries.length).toBeGreaterThanOrEqual(2);
			expect(reports.length).toBeGreaterThanOrEqual(15);
			for (const q of queries) {
				expect(q.replySeen, `#${q.id}`).toBe(false);
				expect(q.replyUnknown, `#${q.id}`).toMatch(/^#\d+ may answer it: an MLDv[12] report/);
			}
			// No report is claimed as an answer; those that could be one say so.
			expect(reports.filter(r => r.replyTo !== null)).toEqual([]);
			expect(reports.filter(r => r.mayAnswer !== undefined).length).toBeGreaterThanOrEqual(12);
			for (const r of reports.filter(r => r.mayAnswer !== undefined)) expect(queries.map(q => q.id)).toContain(r.mayAnswer);
			// No finding says a query went unanswered.
			expect(findings.filter(f => f.kind === 'no-reply' && f.packets.some(id => queries.some(q => q.id === id)))).toEqual([]);
		}
		expect(legacy.packets.find(p => p.icmp?.type === 130)).toMatchObject({id: 3, replyUnknown: expect.stringMatching(/^#4 may answer it: an MLDv2 report whose record types the trace does not show/)});
		// nft shows the MLDv2 reports' first record: change-to-exclude (line 53, `0x8f00…0001 04…`), sent
		// unsolicited on a join: it answers nothing, though it follows query #13.
		const changes = nft.packets.filter(p => p.icmp?.type === 143);
		expect(changes.map(p => ({id: p.id, recordType: p.icmp?.mld?.recordType, replyTo: p.replyTo, mayAnswer: p.mayAnswer}))).toEqual([
			{id: 14, recordType: 4, replyTo: null, mayAnswer: undefined},
			{id: 20, recordType: 4, replyTo: null, mayAnswer: undefined},
		]);
	});

	it('MLDv2: a report of current-state records answers the latest general query before it; one of state-change records answers nothing (nft, mld2)', () => {
		const {packets, findings} = replayFiles(['testdata/ipv6-captures/nft/mld2/nft-monitor.log'], ['testdata/ipv6-captures/nft/mld2/ip6tables.save']);
		const host = 'fe80::84:59ff:fed8:9188';
		const querier = 'fe80::e0:b4ff:fed6:6a74';
		// Checked by hand against the raw bytes: `0x82005b0e03e8…`, ip6 length 36 (an MLDv2 query, 1000 ms) from the bridge's
		// querier; `0x8f00f5a7 0000 0002 02…` from the host (2 records, MODE_IS_EXCLUDE); `…0003 04…` after it got 2001:db8:76::5.
		const summary = packets.map(p => ({id: p.id, src: p.src === host ? 'host' : p.src === querier ? 'querier' : p.src, type: p.icmp?.type, record: p.icmp?.mld?.recordType, replyTo: p.replyTo, replySeen: p.replySeen, mayAnswer: p.mayAnswer}));
		expect(summary).toEqual([
			// The querier's own listener report, answering a query sent before the capture began.
			{id: 1, src: 'querier', type: 143, record: 2, replyTo: null, replySeen: false, mayAnswer: undefined},
			{id: 2, src: 'querier', type: 130, record: undefined, replyTo: null, replySeen: true, mayAnswer: undefined},
			// The host's answer is traced at OUTPUT only, complete before the query that came in before it.
			{id: 3, src: 'host', type: 143, record: 2, replyTo: 2, replySeen: false, mayAnswer: undefined},
			{id: 4, src: 'querier', type: 143, record: 2, replyTo: 2, replySeen: false, mayAnswer: undefined},
			{id: 5, src: 'querier', type: 130, record: undefined, replyTo: null, replySeen: true, mayAnswer: undefined},
			{id: 6, src: 'host', type: 143, record: 2, replyTo: 5, replySeen: false, mayAnswer: undefined},
			// The new address: state-change reports, sent on their own, though query #5 came shortly before.
			{id: 7, src: 'host', type: 143, record: 4, replyTo: null, replySeen: false, mayAnswer: undefined},
			{id: 8, src: 'querier', type: 143, record: 2, replyTo: 5, replySeen: false, mayAnswer: undefined},
			{id: 9, src: 'host', type: 143, record: 4, replyTo: null, replySeen: false, mayAnswer: undefined},
			{id: 10, src: 'querier', type: 130, record: undefined, replyTo: null, replySeen: true, mayAnswer: undefined},
			// Query #10 came after #5 from the same querier: #5's answers were due (its response interval is shorter than its query interval).
			{id: 11, src: 'host', type: 143, record: 2, replyTo: 10, replySeen: false, mayAnswer: undefined},
			{id: 12, src: 'querier', type: 143, record: 2, replyTo: 10, replySeen: false, mayAnswer: undefined},
			{id: 13, src: 'querier', type: 130, record: undefined, replyTo: null, replySeen: true, mayAnswer: undefined},
			{id: 14, src: 'host', type: 143, record: 2, replyTo: 13, replySeen: false, mayAnswer: undefined},
		]);
		expect(packets.filter(p => p.replyUnknown)).toEqual([]);
		expect(findings.filter(f => f.kind === 'no-reply')).toEqual([]);
	});

	it('a trace that begins in the middle of a packet (a wrapped ring buffer, a capture started on the way) says so, marks it cut at the start and draws no finding from it (every format)', async () => {
		// The real lines of each capture from the middle of a packet on, as dmesg shows them once the
		// ring buffer has wrapped past its first lines: the forwarded echo request from its mangle
		// PREROUTING line (legacy), the neighbour solicitation from its mangle PREROUTING event (nft).
		const cases = [
			{file: 'testdata/ipv6-captures/dmesg/nat-replies6/dmesg.log', from: 15, line: 1, first: 'mangle:PREROUTING', entry: 'raw PREROUTING or OUTPUT'},
			// A monitor's first hop is its first rule event, after the `PACKET:` / `packet:` line.
			{file: 'testdata/ipv6-captures/nft/nat-replies6/xtables-monitor.log', from: 56, line: 2, first: 'mangle:PREROUTING', entry: 'the rule that set its trace flag'},
			{file: 'testdata/ipv6-captures/nft/nat-replies6/nft-monitor.log', from: 47, line: 2, first: 'mangle:PREROUTING', entry: 'the rule that set its trace flag'},
		];
		for (const {file, from, line, first, entry} of cases) {
			const dump = rules(file.replace(/[^/]+$/, 'ip6tables.save'));
			const {packets, summary} = collect([{path: file, lines: parseTraceText(read(file).split('\n').slice(from - 1).join('\n'))}], {rules: dump});
			const whole = collect([{path: file, lines: parseTraceText(read(file))}], {rules: dump});
			// The packet the input begins in, and only it, is cut at the start; the whole capture has none.
			expect(packets.filter(p => p.cutAtStart).map(p => p.id), file).toEqual([1]);
			expect(packets[0]!.cutAtStart, file).toBe(`its first line (${file}:${line}) is at ${first}, not where a traced packet enters (${entry}), and the input begins there: its earlier lines are not in it (the kernel's ring buffer wrapped, or the capture started while it was on its way)`);
			expect(whole.packets.filter(p => p.cutAtStart), file).toEqual([]);
			// It is the end of a packet of the whole capture: the same hops from line `from` on.
			const same = whole.packets.find(p => p.hops.some(h => h.ref.line === from + line - 1))!;
			expect(packets[0]!.hops.map(h => `${h.table}:${h.chain}:${h.kind}`), file).toEqual(same.hops.filter(h => h.ref.line >= from).map(h => `${h.table}:${h.chain}:${h.kind}`));
			expect(summary.notices, file).toEqual([{what: 'cut-start', text: 'the input begins in the middle of packets: their earlier lines are not in it', path: file, line, lines: 1, packets: [1], packetCount: 1}]);
			// The dump predicts raw:PREROUTING first: read from a cut path, that would be a rules-changed finding.
			expect(summary.findings.filter(f => f.packets.includes(1)), file).toEqual([]);
		}
		// The text view says it on the packet and in the summary.
		let text = '';
		const file = cases[0]!.file;
		await runPipeline([{path: file, stream: Readable.from([read(file).split('\n').slice(14).join('\n')]), live: false}], {
			format: 'text',
			rules: rules(file.replace(/[^/]+$/, 'ip6tables.save')),
			out: {write: t => (text += t), isTTY: false, color: false},
			warn: () => {},
		});
		expect(text).toContain(`\n    cut at the start: its first line (${file}:1) is at mangle:PREROUTING, not where a traced packet enters`);
		expect(text).toContain(`\n${file}:1: the input begins in the middle of 1 packet(s) (#1): their earlier lines are not in it`);
	});

	it('a monitor log that ends in its own error: packets before it have reply state unknown, and the error is reported', () => {
		const dir = 'testdata/ipv6-captures/nft/nat-replies6';
		const cut = replayFiles([`${dir}/xtables-monitor-2to1.log`], [`${dir}/ip6tables.save`]);
		const whole = replayFiles([`${dir}/xtables-monitor.log`], [`${dir}/ip6tables.save`]);
		expect(cut.summary.noticeCount).toBe(1);
		expect(cut.summary.notices).toEqual([expect.objectContaining({what: 'tool-error', line: 273, lines: 3, text: 'Error: unsupported layer 4 protocol value'})]);
		// (Multicast ICMPv6 is unknown in both: xtables-monitor prints no ICMPv6 type.)
		const unknown = cut.packets.filter(p => p.replyUnknown && !p.replyUnknown.startsWith('no ICMPv6 type'));
		expect(unknown.length).toBeGreaterThan(0);
		for (const p of unknown) {
			expect(p.replySeen).toBe(false);
			// The same packets, read from the file without the error line, say "none seen" (or, for
			// multicast ICMPv6, that the trace prints no type): nothing about a lost log.
			expect(whole.packets.find(q => q.id === p.id)).toMatchObject({replySeen: false});
			const why = whole.packets.find(q => q.id === p.id)!.replyUnknown;
			expect(why === undefined || why.startsWith('no ICMPv6 type'), why).toBe(true);
		}
	});
});

describe('multicast ICMPv6 from a trace that prints no ICMPv6 type (xtables-monitor)', () => {
	it('ipv6-nd: solicitations, MLD and advertisements to a group have reply state unknown, and no no-reply finding names them', () => {
		const dir = 'testdata/ipv6-captures/nft/ipv6-nd';
		const {packets, findings} = replayFiles([`${dir}/xtables-monitor.log`], [`${dir}/ip6tables.save`]);
		const group = packets.filter(p => p.proto === 'ICMPv6' && p.dst.startsWith('ff') && !p.replySeen);
		expect(group.length).toBeGreaterThan(5);
		for (const p of group) expect(p.replyUnknown, `#${p.id}`).toMatch(/^no ICMPv6 type in the trace/);
		const named = new Set(findings.filter(f => f.kind === 'no-reply').flatMap(f => f.packets));
		for (const p of group) expect(named.has(p.id), `#${p.id}`).toBe(false);
	});
});

describe('the bridge family (bridge-ebtables): ebtables log lines and bridge trace events are hops of bridge packets', () => {
	const KERNEL = 'testdata/dmesg/bridge-ebtables';
	const NFT = 'testdata/nft/bridge-ebtables';
	const names = (p: {hops: ReadonlyArray<{table: string; chain: string}>}) => p.hops.map(h => `${h.table}:${h.chain}`);
	const tuple = (p: {proto: string; src: string; dst: string; spt?: number; dpt?: number}) => `${p.proto} ${p.src}:${p.spt ?? ''} ${p.dst}:${p.dpt ?? ''}`;

	it('the kernel log: ARP frames, a bridged ping, IPv6, TCP, each a packet of the bridge family (26, checked by eye)', () => {
		const {packets, summary} = replayFiles([`${KERNEL}/dmesg.log`], [`${KERNEL}/iptables.save`]);
		expect(summary.inputs[0]).toMatchObject({traceLines: 140, unparsed: 0, skipped: 0});
		expect(packets).toHaveLength(26);
		// A packet's family is its first line's: every frame the bridge saw first, not the bridge host's own IPv4 reply.
		expect(packets.filter(p => p.family !== 'bridge').map(p => [p.id, p.family])).toEqual([[10, 'ipv4']]);
		expect(packets.every(p => p.ether !== undefined)).toBe(true);
		// An ARP request flooded to p-b and delivered to the bridge itself (a clone each way), and its reply.
		expect(packets.slice(0, 3).map(p => [p.proto, p.arp?.op, p.src, p.dst, p.in, p.out])).toEqual([
			['ARP', 1, '198.18.233.1', '198.18.233.2', 'p-a', 'p-b'],
			['ARP', 1, '198.18.233.1', '198.18.233.2', 'p-a', ''],
			['ARP', 2, '198.18.233.2', '198.18.233.1', 'p-b', 'p-a'],
		]);
		expect(packets[0]!.ether).toEqual({src: '02:7a:13:ff:bf:2b', dst: 'ff:ff:ff:ff:ff:ff', type: 0x0806});
		// The bridged echo request: the bridge's hooks and the IP hooks (br_netfilter) in one packet, in the order the kernel ran them.
		const ping = packets[3]!;
		expect(tuple(ping)).toBe('ICMP 198.18.233.1: 198.18.233.2:');
		expect(ping.icmp).toMatchObject({type: 8, id: 6768, seq: 1});
		expect(names(ping)).toEqual(['eb:nat:PREROUTING', 'raw:PREROUTING', 'mangle:PREROUTING', 'eb:filter:FORWARD', 'mangle:FORWARD', 'filter:FORWARD', 'eb:nat:POSTROUTING', 'mangle:POSTROUTING']);
		expect(ping.hops.map(h => h.bridge === true)).toEqual([true, false, false, true, false, false, true, false]);
		expect(ping).toMatchObject({in: 'p-a', out: 'p-b', verdict: 'ACCEPT', replySeen: true, ipId: 59624, len: 84});
		expect(packets[4]).toMatchObject({replyTo: ping.id, in: 'p-b', out: 'p-a'});
		// The bridge host's own reply: IP OUTPUT first, then the bridge's OUTPUT and POSTROUTING out of p-a.
		const local = packets.find(p => p.src === '198.18.233.254' && p.proto === 'ICMP')!;
		expect(names(local)).toEqual(['raw:OUTPUT', 'mangle:OUTPUT', 'filter:OUTPUT', 'mangle:POSTROUTING', 'eb:filter:OUTPUT', 'eb:nat:OUTPUT', 'eb:nat:POSTROUTING']);
		expect(local).toMatchObject({in: '', out: 'p-a', verdict: 'ACCEPT'});
		// IPv6: br_netfilter is off for it, so only the bridge's hooks.
		const six = packets.filter(p => p.src.startsWith('2001:db8:233:'));
		expect(six.map(p => p.proto)).toEqual(['ICMPv6', 'ICMPv6', 'ICMPv6', 'ICMPv6', 'ICMPv6']);
		expect(six.every(p => p.hops.every(h => h.bridge))).toBe(true);
		// The SYN a bridge rule drops: logged in eb:filter:FORWARD and nowhere after; no reply.
		const dropped = packets.at(-1)!;
		expect(tuple(dropped)).toBe('TCP 198.18.233.1:58384 198.18.233.2:8081');
		expect(names(dropped)).toEqual(['eb:nat:PREROUTING', 'raw:PREROUTING', 'mangle:PREROUTING', 'eb:filter:FORWARD']);
		expect(dropped).toMatchObject({verdict: 'unknown', replySeen: false, in: 'p-a', out: 'p-b'});
		expect(dropped.verdictBasis).toMatch(/^the trace ends at eb:filter:FORWARD, an ebtables log line/);
	});

	it('the monitors print the bridge rule that dropped the SYN, and agree with each other on every packet', () => {
		const nft = replayFiles([`${NFT}/nft-monitor.log`], [`${NFT}/iptables.save`]);
		const xt = replayFiles([`${NFT}/xtables-monitor.log`], [`${NFT}/iptables.save`]);
		expect(nft.packets).toHaveLength(25);
		// The same packets (nft prints an ARP frame without its addresses), the same paths.
		expect(xt.packets.map(p => (p.proto === 'ARP' ? `ARP ${p.arp?.op}` : tuple(p)))).toEqual(nft.packets.map(p => (p.proto === 'ARP' ? `ARP ${p.arp?.op}` : tuple(p))));
		expect(xt.packets.map(names)).toEqual(nft.packets.map(names));
		for (const {packets, findings} of [nft, xt]) {
			const dropped = packets.at(-1)!;
			expect(dropped).toMatchObject({verdict: 'DROP', family: 'bridge', in: 'p-a', out: 'p-b', proto: 'TCP', dpt: 8081});
			expect(dropped.hops.at(-1)).toMatchObject({table: 'eb:filter', chain: 'FORWARD', traceVerdict: 'DROP', bridge: true});
			expect(findings.filter(f => f.kind === 'dropped').map(f => f.packets)).toEqual([[dropped.id]]);
			expect(findings.filter(f => f.kind === 'rules-changed')).toEqual([]);
			// A bridged frame's ip and bridge hooks stay one packet across the trace id's change at INPUT.
			const local = packets.find(p => p.dst === '198.18.233.254' && p.proto === 'ICMP')!;
			expect(names(local)).toEqual(['eb:tw_trace:pre', 'eb:tw_trace:pre', 'eb:nat:PREROUTING', 'eb:nat:PREROUTING', 'raw:PREROUTING', 'raw:PREROUTING', 'mangle:PREROUTING', 'eb:filter:INPUT', 'eb:filter:INPUT', 'mangle:INPUT', 'filter:INPUT']);
			expect(local.nat).toEqual([]);
		}
		// nft prints ARP frames without addresses; xtables-monitor's network header has them.
		expect(nft.packets[0]).toMatchObject({proto: 'ARP', src: '', arp: {op: 1}});
		expect(xt.packets[0]).toMatchObject({proto: 'ARP', src: '198.18.233.1', dst: '198.18.233.2', arp: {op: 1}});
	});

	it('JSON carries the Ethernet header, the ARP header and the bridge flag of each hop', () => {
		const {packets, inputs} = replayFiles([`${KERNEL}/dmesg.log`]);
		const arp = packetJson(packets[0]!, inputs);
		expect(arp).toMatchObject({family: 'bridge', proto: 'ARP', ether: {src: '02:7a:13:ff:bf:2b', dst: 'ff:ff:ff:ff:ff:ff', type: '0x0806'}, arp: {op: 1, sha: '02:7a:13:ff:bf:2b', tha: '00:00:00:00:00:00'}});
		const hops = packetJson(packets[3]!, inputs)['hops'] as Array<Record<string, unknown>>;
		expect(hops[0]).toMatchObject({table: 'eb:nat', chain: 'PREROUTING', kind: 'log', bridge: true, in: 'p-a', out: '', logPrefix: 'TRACE: eb:nat:PREROUTING'});
		expect(hops[1]).not.toHaveProperty('bridge');
	});
});

