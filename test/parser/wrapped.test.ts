/**
 * Hard-wrapped lines joined again (src/parser/wrapped.ts): real captures wrapped as a terminal,
 * a paste site and an e-mail client wrap them (testdata/formats/wrapped, made by
 * scripts/wrap-lines.sh: `fold -w 80`, `fold -s -w 80`, and `fold -s -w 72` with the space at
 * each break taken away) give the packets of the capture itself; no two lines of any unwrapped
 * capture are ever joined.
 */
import {createReadStream, readdirSync} from 'node:fs';
import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {parseTraceText, readTraceLines} from '../../src/parser/line-stream.js';
import type {ParsedLine} from '../../src/parser/types.js';
import {read, ROOT} from '../support/replay.js';

const CAPTURES: Record<string, string> = {
	'nat-replies-dmesg': 'testdata/dmesg/nat-replies/dmesg.log',
	'frag-needed-dmesg': 'testdata/dmesg/frag-needed/dmesg.log',
	'journal-dmesg': 'testdata/formats/journal/dmesg.log',
	'formats-rsyslog-traditional': 'testdata/formats/rsyslog-traditional.log',
};
const VARIANTS = ['fold80', 'fold80s', 'wrap72'] as const;

/** The packets as JSON, without where their lines were (the wrapped file's line numbers differ). */
function packetsOf(lines: readonly ParsedLine[]): unknown[] {
	const {packets} = collect([{path: 'x', lines}]);
	return JSON.parse(JSON.stringify(packets, (key, value: unknown) => (key === 'ref' || key === 'lines' ? undefined : value))) as unknown[];
}

const lineCount = (text: string) => text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').length;

describe('hard-wrapped lines', () => {
	describe.each(Object.entries(CAPTURES))('%s', (name, capture) => {
		const original = parseTraceText(read(capture));
		const expected = packetsOf(original);

		it.each(VARIANTS)('%s gives the packets of the capture', variant => {
			const text = read(`testdata/formats/wrapped/${name}.${variant}.log`);
			const lines = parseTraceText(text);
			expect(lines.some(l => l.joined)).toBe(true);
			expect(packetsOf(lines)).toEqual(expected);
			// Every physical line is accounted for: read as one of the capture's lines, or joined onto one.
			const joined = lines.reduce((n, l) => n + (l.joined ?? 0), 0);
			expect(lines.length).toBe(original.length);
			expect(lines.length + joined).toBe(lineCount(text));
			expect(lines.filter(l => l.kind === 'unparsed')).toEqual([]);
			// Each joined line starts where the capture's line started in the wrapped file.
			expect(lines.map(l => l.kind)).toEqual(original.map(l => l.kind));
		});
	});

	it('the summary says how many lines were joined', () => {
		const text = read('testdata/formats/wrapped/nat-replies-dmesg.fold80.log');
		const {summary} = collect([{path: 'w', lines: parseTraceText(text)}]);
		expect(summary.inputs[0]).toMatchObject({lines: 268, traceLines: 268, joined: lineCount(text) - 268});
	});

	it('reads the same from a stream cut anywhere as from the whole text', async () => {
		const path = 'testdata/formats/wrapped/frag-needed-dmesg.wrap72.log';
		const whole = parseTraceText(read(path));
		const bytes = Buffer.from(read(path));
		const chunks: Buffer[] = [];
		for (let i = 0; i < bytes.length; i += 77) chunks.push(bytes.subarray(i, i + 77));
		const streamed: ParsedLine[] = [];
		await readTraceLines(Readable.from(chunks), 0, l => streamed.push(l));
		expect(streamed).toEqual(whole);
		const fromFile: ParsedLine[] = [];
		await readTraceLines(createReadStream(new URL(path, `file://${ROOT}`)), 0, l => fromFile.push(l));
		expect(fromFile).toEqual(whole);
	});

	it('joins no two lines of any unwrapped capture', () => {
		const files = [
			...readdirSync(new URL('testdata/dmesg/', `file://${ROOT}`), {recursive: true, encoding: 'utf8'}).filter(f => f.endsWith('.log')).map(f => `testdata/dmesg/${f}`),
			...readdirSync(new URL('testdata/formats/', `file://${ROOT}`)).filter(f => f.endsWith('.log')).map(f => `testdata/formats/${f}`),
			...readdirSync(new URL('testdata/corpus/trace-legacy/', `file://${ROOT}`)).filter(f => !f.includes('wrapped')).map(f => `testdata/corpus/trace-legacy/${f}`),
			...readdirSync(new URL('testdata/corpus/log-target/', `file://${ROOT}`)).map(f => `testdata/corpus/log-target/${f}`),
		];
		expect(files.length).toBeGreaterThan(60);
		for (const f of files) expect([f, parseTraceText(read(f)).filter(l => l.joined).map(l => l.ref.line)]).toEqual([f, []]);
	});

	const head = '[12669.117622] TRACE: raw:PREROUTING:policy:3 IN=eth0 OUT= MAC=02:cf:66:e1:29:a3:02:3d:cc:ad:95:5c:08:00 SRC=198.18.60.2';
	const tail = 'DST=198.18.61.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=29873 DF PROTO=ICMP TYPE=8 CODE=0 ID=29457 SEQ=1 ';

	it('does not join a line of its own (a head) nor a headless line of another message to a line cut short', () => {
		// The rest of the packet, but behind a head of its own: not a piece of the line before.
		const withHead = parseTraceText([head, `[12669.117642] ${tail}`].join('\n'));
		expect(withHead.map(l => [l.kind, l.joined])).toEqual([
			['event', undefined],
			['skipped', undefined],
		]);
		const unrelated = parseTraceText([head, '  call trace: some other message'].join('\n'));
		expect(unrelated.map(l => [l.kind, l.joined])).toEqual([
			['event', undefined],
			['skipped', undefined],
		]);
	});

	it('in a log without heads (dmesg -t), a complete line is a line of its own', () => {
		const cut = 'TRACE: raw:PREROUTING:policy:3 IN=eth0 OUT= MAC=02:cf:66:e1:29:a3:02:3d:cc:ad:95:5c:08:00 SRC=198.18.60.2';
		const log = `tw-in: IN=eth0 OUT= MAC=02:cf:66:e1:29:a3:02:3d:cc:ad:95:5c:08:00 SRC=198.18.60.2 ${tail}`;
		expect(parseTraceText([cut, log].join('\n')).map(l => l.joined)).toEqual([undefined, undefined]);
		// …while a piece that is not one is joined.
		expect(parseTraceText([cut, tail].join('\n')).map(l => [l.kind, l.joined])).toEqual([['event', 1]]);
	});
});
