/**
 * The grammar, line by line: every log prefix, every packet field, both monitor tools, and the
 * lines it must refuse. Lines are real (testdata/formats, captured on a real kernel, and the
 * public corpus) unless marked otherwise.
 */
import {describe, expect, it} from 'vitest';
import {matchTraceLine} from '../../src/parser/trace-line.js';
import type {KernelBridgeEvent, KernelHopEvent, KernelLogEvent, NftHopEvent, NftPacketEvent, ParsedLine, TraceEvent, XtHopEvent, XtPacketEvent} from '../../src/parser/types.js';

const REF = {input: 0, line: 1};

function parse(line: string): ParsedLine {
	return matchTraceLine(line, REF);
}

function event(line: string): TraceEvent {
	const r = parse(line);
	if (r.kind !== 'event') throw new Error(`expected an event, got ${r.kind}${r.kind === 'unparsed' ? `: ${r.reason}` : ''}\n${line}`);
	return r.event;
}

function hop(line: string): KernelHopEvent {
	const e = event(line);
	if (e.type !== 'kernel-hop') throw new Error(`expected kernel-hop, got ${e.type}`);
	return e;
}

const PKT = 'IN=twfb0 OUT= MAC=22:dc:57:da:39:43:a6:4e:de:26:9f:f7:08:00 SRC=198.19.250.1 DST=198.19.250.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=53985 DF PROTO=ICMP TYPE=8 CODE=0 ID=4725 SEQ=1 ';
const HOP = `TRACE: raw:PREROUTING:policy:2 ${PKT}`;

describe('log prefixes in front of a kernel TRACE line', () => {
	// [prefix as captured, expected stamp fields]
	const cases: Array<[string, string, {mono?: number; wall?: string; host?: string}]> = [
		['bare (dmesg -t, journalctl -o cat)', '', {}],
		['dmesg', '[ 1615.720017] ', {mono: 1615.720017}],
		['dmesg, 8-digit uptime', '[31925184.693562] ', {mono: 31925184.693562}],
		['dmesg, padded', '[    5.000001] ', {mono: 5.000001}],
		['dmesg -T', '[Sun Nov 22 05:06:35 2026] ', {wall: '2026-11-22T05:06:35.000Z'}],
		['dmesg -T, space-padded day', '[Mon Nov  2 05:06:35 2026] ', {wall: '2026-11-02T05:06:35.000Z'}],
		['dmesg -r', '<4>[ 1615.720017] ', {mono: 1615.720017}],
		['dmesg -x', 'kern  :warn  : [ 1615.720017] ', {mono: 1615.720017}],
		['dmesg --time-format iso', '2026-11-22T05:06:35,720017+00:00 ', {wall: '2026-11-22T05:06:35.720Z'}],
		['dmesg -d', '[ 1615.720017 <   22.693632>] ', {mono: 1615.720017}],
		['dmesg --time-format delta', '[<   22.693632>] ', {}],
		['dmesg -H / -e', '[ +22.693632] ', {}],
		['dmesg -e minute header', '[Nov22 05:09] ', {}],
		['/dev/kmsg', '4,358,1615720017,-;', {mono: 1615.720017}],
		['/dev/kmsg with extra fields', '4,358,1615720017,-,caller=T1234;', {mono: 1615.720017}],
		['journalctl -o short', 'Nov 22 05:06:36 vm kernel: ', {host: 'vm'}],
		['journalctl -o short-precise', 'Nov 22 05:06:36.350773 vm kernel: ', {host: 'vm'}],
		['journalctl -o short-iso', '2026-11-22T05:06:36+0000 vm kernel: ', {wall: '2026-11-22T05:06:36.000Z', host: 'vm'}],
		['journalctl -o short-iso-precise', '2026-11-22T05:06:36.350773+0000 vm kernel: ', {wall: '2026-11-22T05:06:36.351Z', host: 'vm'}],
		['journalctl -o short-monotonic', '[ 1615.720017] vm kernel: ', {mono: 1615.720017, host: 'vm'}],
		['journalctl -o short-delta', '[ 1615.720017 <   22.693632 >] vm kernel: ', {mono: 1615.720017, host: 'vm'}],
		['journalctl -o short-full', 'Sun 2026-11-22 05:06:36 UTC vm kernel: ', {wall: '2026-11-22T05:06:36.000Z', host: 'vm'}],
		['journalctl -o short-unix', '1795323996.350773 vm kernel: ', {wall: '2026-11-22T05:06:36.351Z', host: 'vm'}],
		['syslog RFC 3164 with the kernel stamp (kern.log)', 'Nov 22 05:06:36 vm kernel: [ 1615.720017] ', {mono: 1615.720017, host: 'vm'}],
		['syslog RFC 3164, padded day', 'Nov  2 05:06:36 node-2 kernel: ', {host: 'node-2'}],
		['syslog RFC 3339 (RSYSLOG_FileFormat)', '2026-11-22T05:06:36.352923+00:00 vm kernel: [ 1615.720017] ', {mono: 1615.720017, wall: '2026-11-22T05:06:36.353Z', host: 'vm'}],
		['syslog RFC 5424', '<4>1 2026-11-22T05:06:36.352923+00:00 vm kernel - - - [ 1615.720017] ', {mono: 1615.720017, host: 'vm'}],
		['busybox syslogd', 'Nov 22 05:09:00 vm kern.warn kernel: [ 1760.175933] ', {mono: 1760.175933, host: 'vm'}],
		['AWS host name', 'Jun 24 17:49:09 ip-172-27-223-103 kernel: ', {host: 'ip-172-27-223-103'}],
		['indented (pasted as markdown code)', '    [ 1615.720017] ', {mono: 1615.720017}],
		['dmesg --color=always', '\u001B[32m[ +22.693632] \u001B[0m\u001B[33m', {}],
	];
	it.each(cases)('%s', (_name, prefix, expected) => {
		const e = hop(prefix + HOP);
		expect(e).toMatchObject({table: 'raw', chain: 'PREROUTING', hop: 'policy', num: 2});
		expect(e.pkt.icmp).toEqual({type: 8, code: 0, id: 4725, seq: 1});
		if (expected.mono !== undefined) expect(e.time?.mono).toBeCloseTo(expected.mono, 6);
		else expect(e.time?.mono).toBeUndefined();
		if (expected.wall) expect(new Date(e.time!.wall!).toISOString()).toBe(expected.wall);
		if (expected.host) expect(e.host).toBe(expected.host);
	});
});

describe('TRACE position words', () => {
	it.each([
		['TRACE: raw:PREROUTING:rule:2 ', 'rule', 2],
		['TRACE: filter:DOCKER-USER:return:1 ', 'return', 1],
		['TRACE: filter:INPUT:policy:4294967295 ', 'policy', 4294967295],
		['TRACE: nat:KUBE-SEP-Z3LGBHLMGXKUBZ2Z:rule:2 ', 'rule', 2],
		['raw:PREROUTING:policy:2 ', 'policy', 2], // published without "TRACE: "
	] as const)('%s', (head, kind, num) => {
		const e = hop(head + PKT);
		expect(e.hop).toBe(kind);
		expect(e.num).toBe(num);
	});
});

describe('packet fields (nf_log_syslog.c)', () => {
	it('reads the IPv4 header, flags without values and empty values', () => {
		const e = hop(`[ 1.0] ${HOP}`);
		expect(e.pkt).toMatchObject({family: 'ipv4', in: 'twfb0', out: '', mac: '22:dc:57:da:39:43:a6:4e:de:26:9f:f7:08:00', src: '198.19.250.1', dst: '198.19.250.2', len: 84, tos: 0, ttl: 64, ipId: 53985, ipFlags: ['DF'], proto: 'ICMP'});
	});

	it('reads TCP: ports, SEQ/ACK, flags, options, UID/GID', () => {
		const e = hop(
			'[ 1764.322058] TRACE: raw:OUTPUT:policy:2 IN= OUT=twfa0 SRC=198.19.250.1 DST=198.19.250.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=43801 DF PROTO=TCP SPT=40664 DPT=8080 SEQ=1180740189 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B40402080A235F7E09000000000103030A) UID=0 GID=0 ',
		);
		expect(e.pkt).toMatchObject({proto: 'TCP', spt: 40664, dpt: 8080, seq: 1180740189, ack: 0, window: 64240, tcpFlags: ['SYN'], uid: 0, gid: 0, in: '', out: 'twfa0'});
		expect(e.pkt.extra?.['OPT']).toBe('020405B40402080A235F7E09000000000103030A');
	});

	it('tells the UDP length (second LEN) from the IP length', () => {
		const e = hop('[ 1764.635674] TRACE: raw:PREROUTING:policy:3 IN=twfb0 OUT= MAC=26:63:bc:ac:6d:ac:7e:82:3e:ad:f7:cc:08:00 SRC=198.19.250.1 DST=198.19.250.2 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=53994 DF PROTO=UDP SPT=48909 DPT=9998 LEN=10 ');
		expect(e.pkt).toMatchObject({proto: 'UDP', len: 30, udpLen: 10, spt: 48909, dpt: 9998});
	});

	it('reads the packet quoted in an ICMP error', () => {
		const e = hop(
			'[ 1764.635904] TRACE: raw:OUTPUT:policy:2 IN= OUT=twfb0 SRC=198.19.250.2 DST=198.19.250.1 LEN=58 TOS=0x00 PREC=0xC0 TTL=64 ID=44224 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.19.250.1 DST=198.19.250.2 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=53994 DF PROTO=UDP SPT=48909 DPT=9998 LEN=10 ] ',
		);
		expect(e.pkt.icmp).toMatchObject({type: 3, code: 3});
		expect(e.pkt.quoted).toMatchObject({src: '198.19.250.1', dst: '198.19.250.2', ipId: 53994, proto: 'UDP', spt: 48909, dpt: 9998, udpLen: 10});
		expect(e.pkt.ipId).toBe(44224);
	});

	it('reads frag-needed with MTU after the quote and INCOMPLETE inside it (corpus: dmesg-Inbound-frag-needed)', () => {
		const r = parse(
			'[  565.446371] Inbound IN=ppp0 OUT= MAC= SRC=222.222.222.222 DST=111.111.111.111 LEN=576 TOS=0x00 PREC=0xC0 TTL=242 ID=31416 PROTO=ICMP TYPE=3 CODE=4 [SRC=111.111.111.111 DST=222.222.222.222 LEN=1500 TOS=0x00 PREC=0x00 TTL=54 ID=54690 DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1492 ',
		);
		expect(r.kind).toBe('event');
		const e = (r as Extract<ParsedLine, {kind: 'event'}>).event as KernelLogEvent;
		expect(e.type).toBe('kernel-log');
		expect(e.prefix).toBe('Inbound');
		expect(e.pkt.mac).toBe('');
		expect(e.pkt.icmp).toMatchObject({type: 3, code: 4, mtu: 1492});
		expect(e.pkt.quoted).toMatchObject({proto: 'TCP', incomplete: 8, len: 1500, ipId: 54690});
	});

	it('reads FRAG:, MF, IP options, MARK, PHYSIN/PHYSOUT and numeric PROTO', () => {
		const e = hop('TRACE: filter:FORWARD:rule:1 IN=br0 OUT=br0 PHYSIN=veth1 PHYSOUT=veth2 SRC=198.18.0.1 DST=198.18.0.2 LEN=1500 TOS=0x00 PREC=0x00 TTL=64 ID=7 MF FRAG:185 OPT (94040000) PROTO=2 MARK=0x4000 ');
		expect(e.pkt).toMatchObject({physin: 'veth1', physout: 'veth2', ipFlags: ['MF'], fragOffset: 185, proto: '2', mark: '0x4000'});
		expect(e.pkt.extra?.['IPOPT']).toBe('94040000');
	});

	it('reads IPv6 (TC, HOPLIMIT, FLOWLBL; full-length addresses are compressed)', () => {
		const e = hop(
			'[ 1620.977125] TRACE: raw:PREROUTING:policy:2 IN=twfb0 OUT= MAC=22:dc:57:da:39:43:a6:4e:de:26:9f:f7:86:dd SRC=2001:0db8:0250:0000:0000:0000:0000:0001 DST=2001:0db8:0250:0000:0000:0000:0000:0002 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=604186 PROTO=ICMPv6 TYPE=128 CODE=0 ID=4726 SEQ=1 ',
		);
		expect(e.pkt).toMatchObject({family: 'ipv6', src: '2001:db8:250::1', dst: '2001:db8:250::2', len: 104, tc: 0, ttl: 64, flowLabel: 604186, proto: 'ICMPv6', icmp: {type: 128, code: 0, id: 4726, seq: 1}});
		expect(e.pkt.ipId).toBeUndefined();
	});

	it('keeps unknown KEY=value fields', () => {
		const e = hop(`TRACE: raw:PREROUTING:policy:2 ${PKT}FUTURE=42 NEWFLAG`);
		expect(e.pkt.extra).toMatchObject({FUTURE: '42', NEWFLAG: ''});
	});

	it('accepts a line cut by the 1019-byte limit inside brackets, and says so', () => {
		const e = hop('[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 SEQ=3 ACK=0 WINDOW=1 RES=0x00 SYN URGP=0 OPT (020405B4040');
		expect(e.pkt.cut).toBe(true);
	});
});

describe('-j LOG lines', () => {
	it.each([
		['[UFW BLOCK] IN=eth0 OUT= MAC=00:00 SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=1 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0 ', '[UFW BLOCK]'],
		['Nov 22 05:06:36 vm kernel: [ 1615.720043] tw-fmt-in: IN=twfb0 OUT= SRC=198.19.250.1 DST=198.19.250.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', 'tw-fmt-in:'],
		['kernel: IN=virbr0 OUT=eth0 SRC=192.168.122.2 DST=8.8.8.8 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', ''],
		['<4>1 2026-11-22T05:06:36.352956+00:00 vm kernel - - - [ 1615.720043] tw-fmt-in: IN=twfb0 OUT= SRC=198.19.250.1 DST=198.19.250.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', 'tw-fmt-in:'],
	])('%s', (line, prefix) => {
		const e = event(line) as KernelLogEvent;
		expect(e.type).toBe('kernel-log');
		expect(e.prefix).toBe(prefix);
	});
});

describe('xtables-monitor --trace', () => {
	it('PACKET line (1.8.9), with the 1.8.6 "ID=43751DF" quirk', () => {
		const p = event('PACKET: 2 8aefe197 IN=br-406f2a425e0c MACSRC=2:42:ac:14:0:2 MACDST=2:42:a4:c7:f1:f1 MACPROTO=0800 SRC=172.20.0.2 DST=172.20.0.1 LEN=84 TOS=0x0 TTL=64 ID=43254DF ') as XtPacketEvent;
		expect(p).toMatchObject({type: 'xt-packet', nfproto: 2, traceId: '8aefe197'});
		expect(p.pkt).toMatchObject({in: 'br-406f2a425e0c', macsrc: '2:42:ac:14:0:2', src: '172.20.0.2', ipId: 43254, ipFlags: ['DF'], ttl: 64});
		const q = event('PACKET: 2 92c5aa84 IN=twfb0 MACSRC=52:6a:94:63:7d:8c MACDST=26:a4:7a:c7:0:f5 MACPROTO=0800 SRC=198.19.250.1 DST=198.19.250.2 LEN=60 TOS=0x0 TTL=64 ID=39439 DF SPORT=47304 DPORT=8080 SYN ') as XtPacketEvent;
		expect(q.pkt).toMatchObject({ipId: 39439, spt: 47304, dpt: 8080, tcpFlags: ['SYN']});
	});

	it('loopback PACKET line before 1.8.7 (LL=0x304 …)', () => {
		const p = event('PACKET: 0 fc475095 IN=lo LL=0x304 0000000000000000000000000800 SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=38349DF') as XtPacketEvent;
		expect(p.pkt).toMatchObject({in: 'lo', src: '127.0.0.1', ipId: 38349});
	});

	it.each([
		[' TRACE: 2 8aefe197 raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw -A PREROUTING -p icmp -j TRACE', {hop: 'rule', handle: 4, verdict: 'CONTINUE', ruleText: '-A PREROUTING -p icmp -j TRACE'}],
		[' TRACE: 2 8aefe197 nat:PREROUTING:rule:0x18:JUMP:DOCKER  -4 -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', {hop: 'rule', handle: 24, verdict: 'JUMP', target: 'DOCKER'}],
		[' TRACE: 2 92c5aa84 filter:TW-CHAIN:rule:0x9:0xfffffffb  iptables -t filter -A TW-CHAIN -j RETURN', {hop: 'rule', verdict: 'RETURN', ruleText: '-A TW-CHAIN -j RETURN'}],
		[' TRACE: 2 101e8eb3 filter:INPUT:rule:0x6:GOTO:TW-DROP  -4 -t filter -A INPUT -p udp -m udp --dport 9999 -g TW-DROP', {verdict: 'GOTO', target: 'TW-DROP'}],
		[' TRACE: 2 8aefe197 nat:DOCKER:return:', {hop: 'return', chain: 'DOCKER'}],
		[' TRACE: 2 8aefe197 raw:PREROUTING:policy:ACCEPT ', {hop: 'policy', verdict: 'ACCEPT'}],
		['TRACE: 2 8aefe197 filter:FORWARD:rule:0x4:DROP  -4 -t filter -A FORWARD -j DROP', {verdict: 'DROP'}], // no leading space (test fixture)
	] as const)('%s', (line, expected) => {
		const e = event(line) as XtHopEvent;
		expect(e.type).toBe('xt-hop');
		expect(e).toMatchObject(expected);
	});

	it('EVENT lines are recognised and not modelled', () => {
		expect(event(' EVENT: iptables -t filter -A FORWARD -j ACCEPT')).toEqual({type: 'ignored', what: 'xtables-event'});
	});
});

describe('nft monitor trace', () => {
	it('packet line: ip, with decoded ICMP names and the raw payload expression', () => {
		const e = event(
			'trace id 981dccdf ip raw PREROUTING packet: iif "tw-vb" ether saddr de:88:c5:75:bd:83 ether daddr 9a:d9:91:ab:0c:0c ip saddr 198.18.0.1 ip daddr 198.18.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 21956 ip length 84 icmp type echo-request icmp code net-unreachable icmp id 2484 icmp sequence 1 @th,64,96 0xb77026b0000000033530700 ',
		) as NftPacketEvent;
		expect(e).toMatchObject({type: 'nft-packet', family: 'ipv4', traceId: '981dccdf', table: 'raw', chain: 'PREROUTING'});
		expect(e.pkt).toMatchObject({in: 'tw-vb', src: '198.18.0.1', dst: '198.18.0.2', ttl: 64, ipId: 21956, len: 84, proto: 'ICMP', icmp: {type: 8, code: 0, id: 2484, seq: 1}});
	});

	it('packet line: inet family, TCP flags and trailing space (corpus: openwrt fw4)', () => {
		const e = event(
			'trace id efb1d592 inet fw4 raw_prerouting packet: iif "eth0.2" ether saddr 00:00:5E:00:53:b8 ether daddr 00:00:5E:00:53:e0 ip saddr 165.227.75.125 ip daddr 192.0.2.16 ip dscp cs0 ip ecn not-ect ip ttl 56 ip id 42100 ip protocol tcp ip length 60 tcp sport 40066 tcp dport 1234 tcp flags == syn tcp window 64240',
		) as NftPacketEvent;
		expect(e.family).toBe('inet');
		expect(e.pkt).toMatchObject({proto: 'TCP', spt: 40066, dpt: 1234, tcpFlags: ['SYN'], window: 64240});
	});

	it('packet line printed by nft -nn (numeric)', () => {
		const e = event('trace id 7c8a4b2d ip filter INPUT packet: iif "eth0" ip saddr 10.0.0.1 ip daddr 10.0.0.2 ip dscp 0x00 ip ecn 0x0 ip ttl 64 ip id 1 ip protocol 6 ip length 60 tcp sport 1 tcp dport 2 tcp flags == 0x12 tcp window 1 ') as NftPacketEvent;
		expect(e.pkt).toMatchObject({proto: 'TCP', tcpFlags: ['ACK', 'SYN']});
	});

	it.each([
		['trace id 981dccdf ip raw PREROUTING rule meta l4proto icmp counter packets 1 bytes 84 meta nftrace set 1 (verdict continue)', {hop: 'rule', verdict: 'continue', ruleText: 'meta l4proto icmp counter packets 1 bytes 84 meta nftrace set 1'}],
		['trace id 11223344 inet twfmt input rule ip6 nexthdr ipv6-icmp goto v6ping (verdict goto v6ping)', {hop: 'rule', verdict: 'goto', target: 'v6ping'}],
		['trace id c0a03b73 ip filter INPUT unknown rule handle 12 (verdict accept)', {hop: 'unknown-rule', handle: 12, verdict: 'accept'}],
		['trace id efb1d592 inet fw4 raw_prerouting verdict continue', {hop: 'verdict', verdict: 'continue'}],
		['trace id 981dccdf ip raw PREROUTING policy accept ', {hop: 'policy', verdict: 'accept'}],
		['trace id 981dccdf ip filter FORWARD policy drop meta mark 0x00004000', {hop: 'policy', verdict: 'drop', mark: '0x00004000'}],
		['trace id 7875d32f bridge twbr pre policy accept ', {family: 'bridge', hop: 'policy'}],
	] as const)('%s', (line, expected) => {
		const e = event(line) as NftHopEvent;
		expect(e.type).toBe('nft-hop');
		expect(e).toMatchObject(expected);
	});

	it('conntrack line (nft ≥ 1.0.7)', () => {
		expect(event('trace id 32 t PRE_MANGLE conntrack: ct direction original ct state new ct id 2641368242')).toMatchObject({type: 'nft-conntrack', table: 't', chain: 'PRE_MANGLE'});
	});
});

describe('lines that are not trace output, or are broken', () => {
	it.each([
		['an unrelated kernel line', '[    0.000000] Linux version 6.18.44'],
		['a pppd syslog line', 'Jan 10 10:00:00 leon-server pppd[123]: local  IP address 1.2.3.4'],
		['empty', ''],
	])('skips %s', (_n, line) => {
		expect(parse(line).kind).toBe('skipped');
	});

	it.each([
		['an nft line cut after the chain name', 'trace id efb1d592 inet fw4 mangle_prerouti', 'nft monitor trace line'],
		['an nft packet line cut after "packet:"', 'trace id cb6bc762 inet firewalld filter_PREROUTING packet:', 'nft monitor trace line'],
		['a TRACE header without the packet', '[ 1.0] TRACE: raw:PREROUTING:policy:', 'kernel log line'],
		['an xtables-monitor PACKET line without fields', 'PACKET: 2 8aefe197', 'xtables-monitor line'],
	])('reports %s with the column and what was expected', (_n, line, format) => {
		const r = parse(line);
		expect(r.kind).toBe('unparsed');
		if (r.kind !== 'unparsed') return;
		expect(r.reason.startsWith(format)).toBe(true);
		expect(r.reason).toContain('expected');
		expect(r.column).toBeGreaterThan(1);
	});

	it('reads records pasted onto one line one by one (corpus: regit, collapsed by HTML)', () => {
		const r = parse(
			'[ 5281.733217] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= MAC=08:00 SRC=192.168.56.1 DST=1.2.3.4 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=12114 SEQ=1 [ 5281.737057] TRACE: nat:PREROUTING:rule:1 IN=eth0 OUT= MAC=08:00 SRC=192.168.56.1 DST=1.2.3.4 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=12114 SEQ=1',
		);
		expect(r.kind).toBe('event');
		if (r.kind !== 'event') return;
		expect((r.event as KernelHopEvent).table).toBe('raw');
		expect(r.rest).toHaveLength(1);
		expect(r.rest![0]).toMatchObject({table: 'nat', chain: 'PREROUTING', hop: 'rule', num: 1, time: {mono: 5281.737057}});
	});
});

describe("ebtables' log watcher (bridge family, net/bridge/netfilter/ebt_log.c)", () => {
	// Lines from testdata/dmesg/bridge-ebtables (ebtables-nft --log on a 6.18 kernel) and the
	// corpus (testdata/corpus/trace-legacy/tonybai-*), unless marked otherwise.
	const bridge = (line: string): KernelBridgeEvent => {
		const e = event(line);
		if (e.type !== 'kernel-bridge') throw new Error(`expected kernel-bridge, got ${e.type}`);
		return e;
	};
	const MACS = 'MAC source = 02:7a:13:ff:bf:2b MAC dest = 02:3d:86:b7:cb:6f';

	it.each([
		[
			'IPv4 with ports (--log-ip), dmesg',
			`[30595.133202] TRACE: eb:nat:PREROUTING IN=p-a OUT= ${MACS} proto = 0x0800 IP SRC=198.18.233.1 IP DST=198.18.233.2, IP tos=0x00, IP proto=6 SPT=55348 DPT=8080`,
			{table: 'nat', chain: 'PREROUTING', prefix: 'TRACE: eb:nat:PREROUTING', time: {mono: 30595.133202}},
			{family: 'bridge', in: 'p-a', out: '', macsrc: '02:7a:13:ff:bf:2b', macdst: '02:3d:86:b7:cb:6f', ethertype: 0x0800, src: '198.18.233.1', dst: '198.18.233.2', tos: 0, proto: 'TCP', spt: 55348, dpt: 8080},
		],
		[
			'IPv4 ICMP, no ports, both ports named (corpus, no log prefix in front)',
			'TRACE: eb:filter:FORWARD IN=veth0594f4b OUT=veth57a3dec MAC source = 02:42:c0:a8:00:02 MAC dest = 02:42:c0:a8:00:03 proto = 0x0800 IP SRC=192.168.0.2 IP DST=192.168.0.3, IP tos=0x00, IP proto=1',
			{table: 'filter', chain: 'FORWARD'},
			{in: 'veth0594f4b', out: 'veth57a3dec', src: '192.168.0.2', dst: '192.168.0.3', proto: 'ICMP'},
		],
		[
			'IPv6 (--log-ip6), printed in full, dmesg -T',
			`[Mon Dec  7 21:43:30 2026] TRACE: eb:filter:FORWARD IN=p-a OUT=p-b ${MACS} proto = 0x86dd IPv6 SRC=2001:0db8:0233:0000:0000:0000:0000:0001 IPv6 DST=2001:0db8:0233:0000:0000:0000:0000:0002, IPv6 priority=0x0, Next Header=58`,
			{table: 'filter', chain: 'FORWARD'},
			{ethertype: 0x86dd, src: '2001:db8:233::1', dst: '2001:db8:233::2', proto: 'ICMPv6', tc: 0},
		],
		[
			'ARP (--log-arp), /dev/kmsg',
			'4,91234,30594937310,-;TRACE: eb:nat:PREROUTING IN=p-a OUT= MAC source = 02:7a:13:ff:bf:2b MAC dest = ff:ff:ff:ff:ff:ff proto = 0x0806 ARP HTYPE=1, PTYPE=0x0800, OPCODE=1 ARP MAC SRC=02:7a:13:ff:bf:2b ARP IP SRC=198.18.233.1 ARP MAC DST=00:00:00:00:00:00 ARP IP DST=198.18.233.2',
			{table: 'nat', chain: 'PREROUTING'},
			{ethertype: 0x0806, proto: 'ARP', src: '198.18.233.1', dst: '198.18.233.2', arp: {op: 1, htype: 1, ptype: 0x0800, sha: '02:7a:13:ff:bf:2b', tha: '00:00:00:00:00:00'}},
		],
		[
			'ARP as older kernels printed it: a space after each MAC (made up from ebt_log.c of 2.6)',
			'TRACE: eb:filter:INPUT IN=eth1 OUT= MAC source = 00:16:3e:00:00:01 MAC dest = ff:ff:ff:ff:ff:ff proto = 0x0806 ARP HTYPE=1, PTYPE=0x0800, OPCODE=2 ARP MAC SRC=00:16:3e:00:00:01  ARP IP SRC=10.0.0.1 ARP MAC DST=00:16:3e:00:00:02  ARP IP DST=10.0.0.2',
			{table: 'filter', chain: 'INPUT'},
			{proto: 'ARP', src: '10.0.0.1', dst: '10.0.0.2', arp: {op: 2}},
		],
		[
			'no network header asked for (IPv6 without --log-ip6), another prefix, journalctl',
			'Dec 07 21:43:30 brh kernel: tw-ebt-fwd IN=p-b OUT=p-a MAC source = 96:f4:44:56:4e:49 MAC dest = 33:33:ff:56:4e:49 proto = 0x86dd',
			{prefix: 'tw-ebt-fwd', host: 'brh'},
			{family: 'bridge', in: 'p-b', out: 'p-a', macsrc: '96:f4:44:56:4e:49', macdst: '33:33:ff:56:4e:49', ethertype: 0x86dd},
		],
		[
			'a header cut short (made up from ebt_log.c)',
			'TRACE: eb:nat:PREROUTING IN=p-a OUT= MAC source = 02:7a:13:ff:bf:2b MAC dest = 02:3d:86:b7:cb:6f proto = 0x0800 IP SRC=198.18.233.1 IP DST=198.18.233.2, IP tos=0x10, IP proto=17 INCOMPLETE TCP/UDP header',
			{table: 'nat'},
			{proto: 'UDP', tos: 0x10, cut: true},
		],
	] as const)('%s', (_what, line, event, pkt) => {
		const e = bridge(line);
		expect(e).toMatchObject(event);
		expect(e.pkt).toMatchObject(pkt);
	});

	it('a prefix that names no chain leaves table and chain out', () => {
		const e = bridge(`tw-ebt-fwd IN=p-a OUT=p-b ${MACS} proto = 0x0800 IP SRC=198.18.233.1 IP DST=198.18.233.2, IP tos=0x00, IP proto=1`);
		expect(e.table).toBeUndefined();
		expect(e.chain).toBeUndefined();
		expect(e.prefix).toBe('tw-ebt-fwd');
	});

	it('nft bridge-family `log` lines are the ip family format: read as -j LOG lines', () => {
		// nf_log_syslog.c: the bridge logger prints IPv4 as nf_log_ip_packet does (captured with `nft add rule bridge t fw log prefix "tw-ebt-nft "`).
		const e = event('[30303.869540] tw-ebt-nft IN=p-b OUT=p-a MAC=33:33:00:00:00:16:a6:f8:76:12:6c:a1:86:dd SRC=fe80:0000:0000:0000:a4f8:76ff:fe12:6ca1 DST=ff02:0000:0000:0000:0000:0000:0000:0016 LEN=76 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=ICMPv6 TYPE=143 CODE=0 ');
		expect(e).toMatchObject({type: 'kernel-log', prefix: 'tw-ebt-nft', pkt: {in: 'p-b', out: 'p-a', family: 'ipv6'}});
	});

	it("nf_log's ARP header (nft bridge `log`, arptables): the operation and the addresses", () => {
		// Captured with `nft add rule bridge t fw log prefix "tw-ebt-nft "`, and with `flags ether` (which decodes the MAC header first).
		const plain = event('[30308.765484] tw-ebt-nft IN=p-b OUT=p-a ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=a6:f8:76:12:6c:a1 IPSRC=198.18.233.2 MACDST=00:00:00:00:00:00 IPDST=198.18.233.1');
		expect(plain).toMatchObject({type: 'kernel-log', pkt: {in: 'p-b', out: 'p-a', proto: 'ARP', src: '198.18.233.2', dst: '198.18.233.1', arp: {op: 1, htype: 1, ptype: 0x0800, sha: 'a6:f8:76:12:6c:a1', tha: '00:00:00:00:00:00'}}});
		const ether = event('[30308.765469] tw-ebt-nfp IN=p-b OUT= MACSRC=a6:f8:76:12:6c:a1 MACDST=7a:d4:11:44:29:a9 MACPROTO=0806 ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=a6:f8:76:12:6c:a1 IPSRC=198.18.233.2 MACDST=00:00:00:00:00:00 IPDST=198.18.233.1');
		expect(ether).toMatchObject({pkt: {macsrc: 'a6:f8:76:12:6c:a1', macdst: '7a:d4:11:44:29:a9', ethertype: 0x0806, proto: 'ARP', src: '198.18.233.2', arp: {op: 1, tha: '00:00:00:00:00:00'}}});
	});

	it('a line that only looks like one is not read as one', () => {
		// `proto =` without a hex number: not ebt_log's; still a -j LOG line of unknown fields.
		expect(event(`tw-x IN=p-a OUT= ${MACS} proto = IPv4`).type).toBe('kernel-log');
	});
});

describe("xtables-monitor's bridge family (nfproto 7): the network header in hex", () => {
	it('an IPv4 header, bytes from 0x80 up sign-extended (testdata/nft/bridge-ebtables)', () => {
		const p = event('PACKET: 7 314f5465 IN=p-a MACSRC=2:7a:13:ff:bf:2b MACDST=2:3d:86:b7:cb:6f MACPROTO=0800 NH=450000545affffff9940004001ffffff81ffffffe6ffffffc612ffffffe901ffffffc612ffffffe902 ') as XtPacketEvent;
		expect(p.nfproto).toBe(7);
		expect(p.pkt).toMatchObject({in: 'p-a', ethertype: 0x0800, src: '198.18.233.1', dst: '198.18.233.2', len: 84, ipId: 23193, ttl: 64, proto: 'ICMP', ipFlags: ['DF']});
	});

	it('an ARP header, and the link header printed after LL= at POSTROUTING', () => {
		const p = event('PACKET: 7 911d0168 OUT=p-b LL=0x0 ffffffffffffffffffffffffffffffffffffffffffffffff027a13ffffffffffffffbf2b0806 NH=0001080006040001027a13ffffffffffffffbf2bffffffc612ffffffe901000000000000ffffffc612ffffffe902 ') as XtPacketEvent;
		expect(p.pkt).toMatchObject({out: 'p-b', macdst: 'ff:ff:ff:ff:ff:ff', macsrc: '02:7a:13:ff:bf:2b', ethertype: 0x0806, proto: 'ARP', src: '198.18.233.1', dst: '198.18.233.2', arp: {op: 1}});
	});

	it('hex that is not a header is kept as written', () => {
		const p = event('PACKET: 7 1 IN=p-a MACPROTO=0800 NH=zz ') as XtPacketEvent;
		expect(p.pkt.extra).toMatchObject({NH: 'zz'});
	});
});
