/**
 * Rebuilding packets from lines without ids (src/model/assemble.ts), on small literal traces:
 * each grouping rule of docs/grouping.md, and the trace-id formats' reuse of ids.
 */
import {describe, expect, it} from 'vitest';
import {PacketAssembler} from '../../src/model/assemble.js';
import type {Packet} from '../../src/model/types.js';
import {matchTraceLine} from '../../src/parser/trace-line.js';
import type {ParsedLine} from '../../src/parser/types.js';

type EventLine = Extract<ParsedLine, {kind: 'event'}>;

/** Assembles the lines and returns the packets as `table:chain:kind:num` paths, in id order. */
function assemble(lines: readonly string[], windowSeconds = 1): Packet[] {
	const a = new PacketAssembler({windowSeconds});
	const out: Packet[] = [];
	lines.forEach((text, i) => {
		const parsed = matchTraceLine(text, {input: 0, line: i + 1});
		if (parsed.kind !== 'event') throw new Error(`line ${i + 1} does not parse: ${JSON.stringify(parsed)}`);
		out.push(...a.push(parsed as EventLine));
	});
	out.push(...a.flush());
	return out.sort((x, y) => x.id - y.id);
}

const paths = (packets: readonly Packet[]) => packets.map(p => p.hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num}`).join(' '));

/** A kernel TRACE line of a TCP segment, the fields as nf_log prints them. */
function k(t: number, hop: string, o: {in?: string; out?: string; src?: string; dst?: string; spt?: number; dpt?: number; id?: number; ttl?: number; seq?: number; flags?: string} = {}): string {
	return `[${t.toFixed(6).padStart(12)}] TRACE: ${hop} IN=${o.in ?? 'eth0'} OUT=${o.out ?? ''} SRC=${o.src ?? '198.18.0.1'} DST=${o.dst ?? '198.18.9.9'} LEN=60 TOS=0x00 PREC=0x00 TTL=${o.ttl ?? 64} ID=${o.id ?? 1} DF PROTO=TCP SPT=${o.spt ?? 40000} DPT=${o.dpt ?? 80} SEQ=${o.seq ?? 1000} ACK=0 WINDOW=64240 RES=0x00 ${o.flags ?? 'SYN'} URGP=0`;
}

describe('kernel lines (no packet id)', () => {
	it('joins the lines of one forwarded packet: DNAT after nat PREROUTING, TTL one lower in FORWARD', () => {
		const packets = assemble([
			k(1, 'raw:PREROUTING:policy:2'),
			k(1.000001, 'nat:PREROUTING:rule:1'),
			k(1.000002, 'filter:FORWARD:policy:1', {out: 'eth1', dst: '198.18.20.2', dpt: 8080, ttl: 63}),
			k(1.000003, 'nat:POSTROUTING:policy:1', {in: '', out: 'eth1', dst: '198.18.20.2', dpt: 8080, ttl: 63}),
		]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 nat:PREROUTING:rule:1 filter:FORWARD:policy:1 nat:POSTROUTING:policy:1']);
		expect(packets[0]!.hops.map(h => h.hook)).toEqual(['PREROUTING', 'PREROUTING', 'FORWARD', 'POSTROUTING']);
	});

	it('starts a new packet when the destination changes before nat PREROUTING could have rewritten it', () => {
		const packets = assemble([k(1, 'raw:PREROUTING:policy:2'), k(1.000001, 'mangle:PREROUTING:policy:1', {dst: '198.18.20.2'})]);
		expect(packets).toHaveLength(2);
	});

	it('tells apart two packets that share addresses, ports and IP id 0 by their TCP sequence numbers', () => {
		const packets = assemble([
			k(1, 'raw:PREROUTING:policy:2', {id: 0, seq: 5}),
			k(1.000001, 'raw:PREROUTING:policy:2', {id: 0, seq: 6}),
			k(1.000002, 'filter:INPUT:policy:1', {id: 0, seq: 5}),
			k(1.000003, 'filter:INPUT:policy:1', {id: 0, seq: 6}),
		]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 filter:INPUT:policy:1', 'raw:PREROUTING:policy:2 filter:INPUT:policy:1']);
		expect(packets.map(p => p.hops.map(h => h.ref.line))).toEqual([
			[1, 3],
			[2, 4],
		]);
	});

	it('starts a new packet when a line goes back in the path (a base chain already left by its policy)', () => {
		const packets = assemble([k(1, 'raw:PREROUTING:policy:2'), k(1.000001, 'filter:INPUT:policy:1'), k(1.000002, 'raw:PREROUTING:policy:2')]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 filter:INPUT:policy:1', 'raw:PREROUTING:policy:2']);
	});

	it('follows a user chain inside the table being walked, and its return', () => {
		const packets = assemble([k(1, 'filter:INPUT:rule:2'), k(1.000001, 'filter:TW-POLICY:return:2'), k(1.000002, 'filter:INPUT:policy:4')]);
		expect(paths(packets)).toEqual(['filter:INPUT:rule:2 filter:TW-POLICY:return:2 filter:INPUT:policy:4']);
		expect(packets[0]!.hops[1]!.hook).toBe('INPUT');
	});

	it('starts a new packet for a line more than the window after the last one', () => {
		expect(assemble([k(1, 'raw:PREROUTING:policy:2'), k(2.5, 'filter:INPUT:policy:1')])).toHaveLength(2);
		expect(assemble([k(1, 'raw:PREROUTING:policy:2'), k(2.5, 'filter:INPUT:policy:1')], 5)).toHaveLength(1);
	});

	it('joins a line cut short (the kernel cuts at 1019 bytes) to the packet whose fields it agrees with', () => {
		const whole = k(1.000001, 'filter:INPUT:policy:1');
		const packets = assemble([k(1, 'raw:PREROUTING:policy:2'), whole.slice(0, whole.indexOf(' PROTO=') + 10)]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 filter:INPUT:policy:1']);
	});

	it('puts a -j LOG line for a traced packet on the hop that logged it, and a lone LOG line in a packet of its own', () => {
		const log = (t: number, o: {src?: string} = {}) => `[${t.toFixed(6).padStart(12)}] tw-syn: IN=eth0 OUT= SRC=${o.src ?? '198.18.0.1'} DST=198.18.9.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 SEQ=1000 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0`;
		const packets = assemble([k(1, 'raw:PREROUTING:rule:1'), log(1.000001), k(1.000002, 'filter:INPUT:policy:1'), log(1.5, {src: '198.18.7.7'})]);
		// A LOG line is not a hop of a chain: no table or chain, kind log.
		expect(paths(packets)).toEqual(['raw:PREROUTING:rule:1 filter:INPUT:policy:1', '::log:null']);
		expect(packets[0]!.hops[0]!.logPrefix).toBe('tw-syn:');
		expect(packets[1]).toMatchObject({src: '198.18.7.7', hops: [{kind: 'log', logPrefix: 'tw-syn:'}]});
	});
});

describe('-j LOG lines inside a traced packet', () => {
	/** A LOG line as nf_log prints it by default: no TCP sequence numbers, no options. */
	const logTcp = (t: number, prefix: string, o: {out?: string; ttl?: number} = {}) =>
		`[${t.toFixed(6).padStart(12)}] ${prefix} IN=eth0 OUT=${o.out ?? ''} SRC=198.18.0.1 DST=198.18.9.9 LEN=60 TOS=0x00 PREC=0x00 TTL=${o.ttl ?? 64} ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 `;

	it('a TCP LOG line (no SEQ=, which TRACE prints) between the TRACE lines of its packet stays in that packet', () => {
		const packets = assemble([
			k(1, 'raw:PREROUTING:policy:2'),
			k(1.000001, 'mangle:FORWARD:rule:1', {out: 'eth1', ttl: 63}),
			logTcp(1.000002, 'tw-log-fwd:', {out: 'eth1', ttl: 63}),
			k(1.000003, 'filter:FORWARD:policy:1', {out: 'eth1', ttl: 63}),
		]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 mangle:FORWARD:rule:1 filter:FORWARD:policy:1']);
		expect(packets[0]!.hops.map(h => h.logPrefix)).toEqual([undefined, 'tw-log-fwd:', undefined]);
	});

	it('an IPv6 LOG line stays in its packet too', () => {
		const v6 = (t: number, prefix: string) =>
			`[${t.toFixed(6).padStart(12)}] ${prefix} IN=eth0 OUT= MAC=02:00:00:00:00:02:02:00:00:00:00:01:86:dd SRC=2001:0db8:0060:0000:0000:0000:0000:0002 DST=ff02:0000:0000:0000:0000:0001:ff00:0001 LEN=72 TC=0 HOPLIMIT=255 FLOWLBL=0 PROTO=ICMPv6 TYPE=135 CODE=0 `;
		const packets = assemble([v6(1, 'TRACE: raw:PREROUTING:policy:2'), v6(1.000001, 'TRACE: mangle:INPUT:rule:1'), v6(1.000002, 'tw-log-in:'), v6(1.000003, 'TRACE: filter:INPUT:policy:1')]);
		expect(paths(packets)).toEqual(['raw:PREROUTING:policy:2 mangle:INPUT:rule:1 filter:INPUT:policy:1']);
		expect(packets[0]!.hops[1]!.logPrefix).toBe('tw-log-in:');
	});

	it('a LOG line that does not show what the last line of the packet shows is a packet of its own', () => {
		const packets = assemble([k(1, 'raw:PREROUTING:policy:2'), logTcp(1.000001, 'tw-log-fwd:', {out: 'eth1', ttl: 63})]);
		expect(packets).toHaveLength(2);
	});
});

describe('what changed, and what changed it (Packet.changes)', () => {
	it('a mark shows from the line after the rule that set it: the rule of the hop before', () => {
		const line = (t: number, hop: string, mark?: string) => `${k(t, hop)}${mark ? ` MARK=${mark}` : ''}`;
		const [p] = assemble([line(1, 'raw:PREROUTING:policy:2'), line(1.000001, 'mangle:PREROUTING:rule:1'), line(1.000002, 'mangle:PREROUTING:policy:2', '0x10'), line(1.000003, 'filter:INPUT:policy:1', '0x10')]);
		expect(p!.changes).toEqual([{field: 'mark', from: '', to: '0x10', by: 'rule', at: 1, seen: 2}]);
	});

	it('DNAT by a nat rule, then OUT and the TTL by routing, at the hop before the first line that shows them', () => {
		const [p] = assemble([
			k(1, 'raw:PREROUTING:policy:2'),
			k(1.000001, 'nat:PREROUTING:rule:1'),
			k(1.000002, 'mangle:FORWARD:policy:1', {out: 'eth1', dst: '198.18.20.2', dpt: 8080, ttl: 63}),
		]);
		expect(p!.changes).toEqual([
			{field: 'dst', from: '198.18.9.9:80', to: '198.18.20.2:8080', by: 'rule', at: 1, seen: 2},
			{field: 'out', from: '', to: 'eth1', by: 'routing', at: 1, seen: 2},
			{field: 'ttl', from: '64', to: '63', by: 'routing', at: 1, seen: 2},
		]);
	});

	it("a reply's destination put back without a nat rule (conntrack undoing the masquerade) is one packet, changed by conntrack", () => {
		const reply = {in: 'eth1', src: '198.18.9.9', spt: 80, dpt: 40000, flags: 'ACK SYN'};
		const packets = assemble([
			k(1, 'raw:PREROUTING:policy:2', {...reply, dst: '198.18.61.1'}),
			k(1.000001, 'mangle:PREROUTING:policy:1', {...reply, dst: '198.18.61.1'}),
			k(1.000002, 'mangle:FORWARD:policy:1', {...reply, dst: '198.18.0.1', out: 'eth0', ttl: 63}),
		]);
		expect(packets).toHaveLength(1);
		expect(packets[0]!.changes![0]).toEqual({field: 'dst', from: '198.18.61.1:40000', to: '198.18.0.1:40000', by: 'conntrack', at: 1, seen: 2});
	});

	it("an ICMP error for a masqueraded packet, whose destination and quoted source conntrack put back, is one packet", () => {
		const err = (t: number, hop: string, dst: string, ttl = 64, out = '') =>
			`[${t.toFixed(6).padStart(12)}] TRACE: ${hop} IN=eth1 OUT=${out} SRC=198.18.9.9 DST=${dst} LEN=57 TOS=0x00 PREC=0xC0 TTL=${ttl} ID=7 PROTO=ICMP TYPE=3 CODE=3 [SRC=${dst} DST=198.18.9.9 LEN=29 TOS=0x00 PREC=0x00 TTL=63 ID=5 DF PROTO=UDP SPT=40000 DPT=9 LEN=9 ] `;
		const packets = assemble([err(1, 'raw:PREROUTING:policy:2', '198.18.61.1'), err(1.000001, 'mangle:PREROUTING:policy:1', '198.18.61.1'), err(1.000002, 'mangle:FORWARD:policy:1', '198.18.0.1', 63, 'eth0')]);
		expect(packets).toHaveLength(1);
		expect(packets[0]!.changes![0]).toMatchObject({field: 'dst', by: 'conntrack', at: 1, seen: 2});
	});
});

describe('trace-id formats', () => {
	const xtPacket = (id: string, ipId: number) => `PACKET: 2 ${id} IN=eth0 OUT= MACSRC=02:00:00:00:00:01 MACDST=02:00:00:00:00:02 MACPROTO=0800 SRC=198.18.0.1 DST=198.18.9.9 LEN=84 TOS=0x0 TTL=64 ID=${ipId}DF `;
	const xtTrace = (id: string, hop: string) => ` TRACE: 2 ${id} ${hop}`;

	it('xtables-monitor: a packet per trace id, its PACKET line giving the fields of the hops after it', () => {
		const packets = assemble([xtPacket('8aefe197', 7), xtTrace('8aefe197', 'raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -s 198.18.0.1/32 -j TRACE'), xtTrace('8aefe197', 'filter:INPUT:policy:ACCEPT')]);
		expect(packets).toHaveLength(1);
		expect(packets[0]).toMatchObject({format: 'xtables-monitor', traceId: '8aefe197', ipId: 7, src: '198.18.0.1'});
		expect(packets[0]!.hops.map(h => `${h.table}:${h.chain}:${h.kind} ${h.traceVerdict}`)).toEqual(['raw:PREROUTING:rule CONTINUE', 'filter:INPUT:policy ACCEPT']);
	});

	it('xtables-monitor: a trace id used again by a later packet (its PACKET line shows another IP id) starts a new packet', () => {
		const packets = assemble([xtPacket('8aefe197', 7), xtTrace('8aefe197', 'filter:INPUT:policy:ACCEPT'), xtPacket('8aefe197', 8), xtTrace('8aefe197', 'filter:INPUT:policy:ACCEPT')]);
		expect(packets.map(p => p.ipId)).toEqual([7, 8]);
	});

	it('nft monitor trace: the packet line of each base chain, rules and the policy in between', () => {
		const packets = assemble([
			'trace id 4aa1c827 ip raw PREROUTING packet: iif "eth0" ip saddr 198.18.0.1 ip daddr 198.18.9.9 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 7 ip length 84 icmp type echo-request icmp code 0 icmp id 9 icmp sequence 1 ',
			'trace id 4aa1c827 ip raw PREROUTING rule meta l4proto icmp meta nftrace set 1 (verdict continue)',
			'trace id 4aa1c827 ip raw PREROUTING policy accept ',
			'trace id 4aa1c827 ip filter INPUT packet: iif "eth0" ip saddr 198.18.0.1 ip daddr 198.18.9.9 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 7 ip length 84 icmp type echo-request icmp code 0 icmp id 9 icmp sequence 1 ',
			'trace id 4aa1c827 ip filter INPUT policy drop ',
		]);
		expect(packets).toHaveLength(1);
		expect(packets[0]).toMatchObject({format: 'nft-monitor', proto: 'ICMP', icmp: {type: 8, id: 9, seq: 1}});
		expect(packets[0]!.hops.map(h => `${h.table}:${h.chain}:${h.kind} ${h.traceVerdict}`)).toEqual(['raw:PREROUTING:rule CONTINUE', 'raw:PREROUTING:policy ACCEPT', 'filter:INPUT:policy DROP']);
	});

	it("nft monitor trace: a mark a rule set shows on the chain's policy line and carries over to the next chains (rule lines print none)", () => {
		const pkt = (chain: string) => `trace id 94654c78 ip ${chain} packet: oif "eth0" ip saddr 198.18.40.1 ip daddr 198.18.40.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 7 ip length 60 tcp sport 45340 tcp dport 8080 tcp flags == syn tcp window 64240 `;
		const [p] = assemble([
			pkt('mangle OUTPUT'),
			'trace id 94654c78 ip mangle OUTPUT rule skuid 65534 counter packets 0 bytes 0 meta mark set 0x1 (verdict continue)',
			'trace id 94654c78 ip mangle OUTPUT policy accept meta mark 0x00000001 ',
			pkt('filter OUTPUT'),
			'trace id 94654c78 ip filter OUTPUT rule meta l4proto tcp skuid 65534 tcp dport 8080  counter packets 0 bytes 0 accept (verdict accept)',
		]);
		expect(p!.hops.map(h => h.mark)).toEqual([undefined, '0x00000001', '0x00000001']);
		expect(p!.changes).toEqual([{field: 'mark', from: '', to: '0x1', by: 'rule', at: 0, seen: 1}]);
	});
});
