/**
 * Values pasted with spaces (src/parser/fields.ts, unspaced): runs of spaces a copy or a column
 * alignment put inside a field are read as the kernel wrote the field. Real published lines
 * (testdata/corpus: kubernetes#107965 as pasted, a column-aligned GKE trace).
 */
import {describe, expect, it} from 'vitest';
import {matchTraceLine, matchWholeLine} from '../../src/parser/trace-line.js';
import type {ParsedLine} from '../../src/parser/types.js';
import {read} from '../support/replay.js';

const pkt = (line: ParsedLine) => (line.kind === 'event' && 'pkt' in line.event ? line.event.pkt : undefined);
const at = {input: 0, line: 1};

describe('values pasted with spaces', () => {
	const pasted = read('testdata/corpus/trace-legacy/k8s-issue107965-nft-vs-legacy-embedded-run-of-spaces-TRUNCATED.txt').split('\n').slice(0, 2);

	it.each(pasted.map((l, i) => [i + 1, l]))('line %i reads as the kernel wrote it', (_n, line) => {
		// The kernel's own form: no spaces after `=`, none inside OPT's hex, one between fields.
		const kernel = line.replace(/= {2,}/g, '=').replace(/OPT \( *([0-9A-F]+) +([0-9A-F]+)\)/, 'OPT ($1$2)').replace(/\( +/, '(').replace(/ {2,}/g, ' ');
		expect(kernel).not.toBe(line);
		const read = pkt(matchTraceLine(line, at));
		expect(read).toEqual(pkt(matchTraceLine(kernel, at)));
		expect(read).toMatchObject({src: '110.110.110.108', dst: '110.110.110.111', extra: {OPT: '020405B40402080AD3ADA6050000000001030307'}});
		expect(read?.extra).not.toHaveProperty('110.110.110.108');
		expect(matchWholeLine(line, at)).toEqual(matchTraceLine(line, at));
	});

	it('an empty field before the next field stays empty (a column-aligned trace)', () => {
		const line = read('testdata/corpus/trace-legacy/dmesg-gke-kubedns-column-aligned-no-mac.txt').split('\n')[0]!;
		expect(pkt(matchTraceLine(line, at))).toMatchObject({in: 'cbr0', out: '', physin: 'veth4a3719bc', src: '10.24.12.40', proto: 'UDP', udpLen: 62});
	});

	it('a flag after an empty field is a flag; OPT ( ) of only spaces is kept as printed', () => {
		const p = pkt(matchTraceLine('TRACE: raw:OUTPUT:policy:2 IN= OUT=tw-fj-a0 SRC=fe80:0000:0000:0000:0027:bbff:fee4:8f31 DST=ff02:0000:0000:0000:0000:0000:0000:0016 LEN=96 TC=0 HOPLIMIT=1 FLOWLBL=0 OPT ( ) PROTO=ICMPv6 TYPE=143 CODE=0 ', at));
		expect(p).toMatchObject({in: '', out: 'tw-fj-a0', extra: {IPOPT: ' '}});
		expect(pkt(matchTraceLine('TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID= DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ', at))).toMatchObject({ipFlags: ['DF']});
	});
});
