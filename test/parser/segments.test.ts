/**
 * The segment cache never changes a result: every line read in cached pieces (matchTraceLine)
 * gives exactly what one whole-line match with `traceLine` gives (matchWholeLine) — same
 * kinds, same events, same key order, same unparsed reasons — on all of testdata (real
 * captures and the public corpus), on the benchmark's generated corpus, on lines built to
 * tempt a wrong split (damaged and generated lines: segments-damaged.test.ts). (Why it holds: src/parser/segments.ts; the facts it rests on are checked
 * on the grammar in piece-rules.test.ts.)
 */
import {readFileSync} from 'node:fs';
import {beforeAll, describe, expect, it} from 'vitest';
import {corpusLines, FORMS} from '../../scripts/bench/corpus.js';
import {clearSegmentCaches, segmentStats} from '../../src/parser/segments.js';
import {matchTraceLine, matchWholeLine} from '../../src/parser/trace-line.js';
import type {ParsedLine} from '../../src/parser/types.js';
import {agree, ROOT, testdataFiles} from '../support/segments.js';

describe('cached pieces and whole-line matches agree', () => {
	beforeAll(() => clearSegmentCaches());

	it('on every line of every file in testdata (twice: caches cold, then warm)', () => {
		const files = testdataFiles();
		expect(files.length).toBeGreaterThan(300);
		// Each distinct line once: the same capture in several log forms, goldens quoting their
		// trace and dumps copied side by side repeat half of testdata's 90,000 lines word for word.
		// npm test reads every tenth of them (about 4,000 lines), `npm run fuzz` all of them.
		const distinct = [...new Set(files.flatMap(f => readFileSync(new URL(f, ROOT), 'utf8').split('\n')))];
		expect(distinct.length).toBeGreaterThan(40_000);
		const lines = process.env['TRACEWATCH_FUZZ_RUNS'] ? distinct : distinct.filter((_l, i) => i % 10 === 0);
		const whole = lines.map((line, i) => JSON.stringify(matchWholeLine(line, {input: 0, line: i + 1})));
		for (let pass = 0; pass < 2; pass++) {
			lines.forEach((line, i) => {
				const cached = JSON.stringify(matchTraceLine(line, {input: 0, line: i + 1}));
				if (cached !== whole[i]) expect({line, cached: JSON.parse(cached) as ParsedLine}).toEqual({line, cached: JSON.parse(whole[i]!) as ParsedLine});
			});
		}
		// The pieces were used, not bypassed.
		const stats = segmentStats();
		// Heads repeat with -T, journal and syslog stamps and on the warm pass; raw uptime stamps never do.
		expect(stats['kernelHead']!.hits).toBeGreaterThan(10);
		expect(stats['hop']!.hits).toBeGreaterThan(1000);
		expect(stats['fieldWord']!.hits).toBeGreaterThan(5000);
		expect(stats['kernelFields']!.hits).toBeGreaterThan(100);
		expect(stats['xtHop']!.hits).toBeGreaterThan(100);
		expect(stats['nftItemTexts']!.hits).toBeGreaterThan(1000);
		expect(stats['nftWordValue']!.hits).toBeGreaterThan(10);
		expect(stats['nftItems']!.hits).toBeGreaterThan(100);
		// Each line matched three times: about 3 s alone for npm test's fifth, 15 s for all of them.
	}, 180_000);

	it.each(FORMS)('on the benchmark corpus, %s form', form => {
		const lines = corpusLines(new URL('.', ROOT).pathname, form, 7);
		for (let i = 1; i <= 500; i++) agree(lines.next().value!, i);
	});

	const tempting: Array<[string, string]> = [
		['a table named like the kernel tag', '[ 1.0] TRACE: kernel:INPUT:rule:1 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 SYN URGP=0 '],
		['a short-full stamp whose zone looks like a word', 'Sun 2026-11-22 05:06:36 TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 '],
		['a host name with TRACE: in it', 'Nov 22 05:06:36 myTRACE:host kernel: TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 '],
		['tabs between fields', '[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0\tOUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 '],
		['runs of spaces', '[ 1.0]   TRACE:   raw:PREROUTING:policy:2    IN=eth0  OUT=  SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1   '],
		['CR at the end', '[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 \r'],
		['CR without the trailing space', '[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1\r'],
		['colour codes around the stamp', '\u001B[32m[ +22.693632] \u001B[0m\u001B[33mTRACE: raw:PREROUTING:policy:2 \u001B[0mIN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 '],
		['TCP options split over words', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 SEQ=3 ACK=0 WINDOW=1 RES=0x00 SYN URGP=0 OPT (0204 05B4) MARK=0x1 '],
		['a line cut inside the options', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 SEQ=3 ACK=0 WINDOW=1 RES=0x00 SYN URGP=0 OPT (020405B4040'],
		['a line cut inside the quoted packet', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=58 TTL=64 ID=2 PROTO=ICMP TYPE=3 CODE=3 [SRC=5.6.7.8 DST=1.2.3.4 LEN=30 TOS=0x00'],
		['INCOMPLETE and Unknown Ext Hdr', '[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=576 TTL=242 ID=3 PROTO=ICMP TYPE=3 CODE=4 [SRC=5.6.7.8 DST=1.2.3.4 LEN=1500 TTL=54 ID=4 DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1492 Unknown Ext Hdr 43 '],
		['records pasted onto one line', '[ 5281.733217] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=192.168.56.1 DST=1.2.3.4 LEN=84 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=12114 SEQ=1 [ 5281.737057] TRACE: nat:PREROUTING:rule:1 IN=eth0 OUT= SRC=192.168.56.1 DST=1.2.3.4 LEN=84 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=12114 SEQ=1'],
		['a second TRACE: right after the hop', '[ 1.0] TRACE: raw:PREROUTING:policy:2 TRACE: nat:PREROUTING:rule:1 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['no fields', '[ 1.0] TRACE: raw:PREROUTING:policy:2 '],
		['no prefix, digits after TRACE:', 'TRACE: 2 raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['/dev/kmsg with extra fields', '4,358,1615720017,-,caller=T1234;TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 '],
		['dmesg -r and -x', '<4>[ 1615.720017] kern  :warn  : TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['RFC 5424', '<4>1 2026-11-22T05:06:36.352923+00:00 vm kernel - - - [ 1615.720017] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['a LOG line with TRACE: in its prefix', '[ 1.0] TRACE: my prefix IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['xtables-monitor with the ID quirk, no trailing space', 'PACKET: 2 8aefe197 IN=br0 MACSRC=2:42:ac:14:0:2 SRC=172.20.0.2 DST=172.20.0.1 LEN=84 TOS=0x0 TTL=64 ID=43254DF'],
		['xtables-monitor PACKET with spaces in a value', 'PACKET: 0 fc475095 IN=lo LL=0x304 0000000000000000000000000800 SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=38349DF'],
		['xtables-monitor TRACE with double spaces', '  TRACE:  2  8aefe197  nat:PREROUTING:rule:0x18:JUMP:DOCKER  -4 -t nat -A PREROUTING -j DOCKER'],
		['nft without a family', 'trace id 32 t PRE_MANGLE conntrack: ct direction original ct state new ct id 2641368242'],
		['nft with a table named like a family', 'trace id 11223344 ip ip input rule ip saddr 1.2.3.4 accept (verdict accept)'],
		['nft packet with a quoted value holding spaces', 'trace id 981dccdf ip raw PREROUTING packet: iif "my if" ip saddr 198.18.0.1 ip daddr 198.18.0.2 ip length 84 icmp type echo-request '],
		['nft packet with a group value', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0" ip saddr 198.18.0.1 tcp flags == (syn | ack) tcp window 1'],
		['nft packet cut after an item name', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0" ip saddr 198.18.0.1 ip daddr'],
		['nft packet with no space after "packet:"', 'trace id 981dccdf ip raw PREROUTING packet:iif "eth0" ip saddr 198.18.0.1 '],
		['nft rule with "(verdict " inside the rule', 'trace id 1 ip filter INPUT rule meta comment "(verdict x" accept (verdict accept)'],
		['a lone OPT at the end of a line', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=60 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 SEQ=3 ACK=0 WINDOW=1 RES=0x00 SYN URGP=0 OPT'],
		['OPT, INCOMPLETE and Unknown as flags', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 OPT] INCOMPLETE Unknown OPTX OPT[ SRC=1.2.3.4 '],
		['a fragment glued to a word', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=60 FRAG:12x MF PROTO=UDP '],
		['a CR inside the field list', '[ 1.0] TRACE: raw:OUTPUT:policy:2 IN= OUT=eth0\rSRC=1.2.3.4 DST=5.6.7.8 LEN=60 '],
		['a tab after TRACE:', '[ 1.0] TRACE:\traw:PREROUTING:policy:2\tIN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['TRACE: at the end of the line', '[ 1.0] TRACE:'],
		['TRACE: glued to the hop', '[ 1.0] TRACE:raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['a kernel: tag glued to TRACE:, and a hop named like the tag', 'kernel:TRACE: kernel:INPUT:rule:1 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['an RFC 5424 header one word short', '<4>1 2026-11-22T05:06:36.352923+00:00 vm kernel - - TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['a host name ending in TRACE:', 'Nov 22 05:06:36 myTRACE: kernel: TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['stamps of every width', '[    5.000001] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 [31925184.693562] TRACE: raw:PREROUTING:policy:3 IN=eth0 '],
		['digits in a host name', 'Nov  2 05:06:36 node-12 kernel: [ 1615.720017] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 '],
		['xtables-monitor PACKET with a tab and a CR', 'PACKET: 2 8aefe197\tIN=br0 SRC=172.20.0.2 DST=172.20.0.1 LEN=84 TOS=0x0 TTL=64 ID=43254DF\r'],
		['xtables-monitor TRACE whose id is no hex number', ' TRACE: 2 8aefg197 nat:PREROUTING:rule:0x18:JUMP:DOCKER  -4 -t nat -A PREROUTING -j DOCKER'],
		['nft packet with a meta item and a raw item', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0" meta mark 0x00000001 @th,64,96 0x450005dc3bc3000040063a9a ip saddr 198.18.0.1 '],
		['nft packet with == at the end', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0" tcp flags =='],
		['nft packet with == and nothing after', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0" tcp flags == '],
		['nft packet with a value glued to a quote', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0"x ip saddr 198.18.0.1 '],
		['nft packet with an unclosed quote', 'trace id 981dccdf ip raw PREROUTING packet: iif "eth0 ip saddr 198.18.0.1 '],
		['nft packet with a meta key and no value', 'trace id 981dccdf ip raw PREROUTING packet: iif '],
		['nft with a family and nothing after', 'trace id 981dccdf ip '],
		['nft with spaces after the family', 'trace id 981dccdf ip   raw PREROUTING policy accept '],
		['nft with a trace id in capitals', 'trace id 981DCCDF ip raw PREROUTING policy accept '],
	];
	it.each(tempting)('on a line built to tempt a wrong split: %s', (_name, line) => {
		clearSegmentCaches();
		agree(line);
		agree(line); // again, from the caches
	});

	it('on nft items whose words recur with other words after them (caches warm)', () => {
		clearSegmentCaches();
		const head = 'trace id 981dccdf ip raw PREROUTING packet: ';
		const items = [
			'iif "eth0" tcp flags == syn tcp window 1 ',
			'iif "eth0" tcp flags ==',
			'iif "eth0" tcp flags == ',
			'iif "eth0" tcp flags == (syn | ack) tcp window 1',
			'iif "eth0"x tcp flags == syn ',
			'iif "eth0" tcp flags ==  syn',
			'iif "eth0" tcp flags syn tcp window 1',
			'iif "eth0" tcp flags == syn\ttcp window 1\r',
			'meta mark 0x1 meta mark',
			'iif "eth0" @th,64,96 0x4500 @th,64,96',
		];
		for (let pass = 0; pass < 2; pass++) items.forEach((line, i) => agree(head + line, i + 1));
	});

});

describe('what the cache keeps', () => {
	it('cached results are frozen, and shared by the lines that repeat them', () => {
		clearSegmentCaches();
		const a = matchTraceLine('[ 1.000001] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', {input: 0, line: 1});
		const b = matchTraceLine('[ 1.000002] TRACE: nat:PREROUTING:rule:1 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', {input: 0, line: 2});
		const pkt = (r: ParsedLine) => (r.kind === 'event' && r.event.type === 'kernel-hop' ? r.event.pkt : undefined);
		expect(pkt(a)).toBeDefined();
		expect(pkt(a)).toBe(pkt(b));
		expect(Object.isFrozen(pkt(a))).toBe(true);
		expect(Object.isFrozen(pkt(a)!.icmp)).toBe(true);
		expect(() => {
			(pkt(a) as {src?: string}).src = 'changed';
		}).toThrow(TypeError);
	});
});
