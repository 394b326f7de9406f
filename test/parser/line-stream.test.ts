/**
 * Reading lines from a stream: chunk boundaries anywhere (inside a UTF-8 character, between CR
 * and LF), lines too long to be trace output, and parser threads for large files all give what
 * parsing the text at once gives.
 */
import {createReadStream} from 'node:fs';
import {Readable} from 'node:stream';
import {afterEach, describe, expect, it} from 'vitest';
import {parseTraceText, readTraceLines} from '../../src/parser/line-stream.js';
import {matchTraceLine, MAX_LINE} from '../../src/parser/trace-line.js';
import type {ParsedLine} from '../../src/parser/types.js';

const ROOT = new URL('../../', import.meta.url);

async function read(stream: Readable): Promise<ParsedLine[]> {
	const out: ParsedLine[] = [];
	await readTraceLines(stream, 0, l => out.push(l));
	return out;
}

const SAMPLE = [
	'[ 3341.290254] TRACE: raw:PREROUTING:policy:4 IN=cali1a2b3c4d5e6 OUT= SRC=198.19.88.69 DST=198.19.96.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=44384 DF PROTO=TCP SPT=52382 DPT=443 SEQ=2359236302 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 ',
	'Nov 22 05:06:36 nœud-é kernel: [ 1615.720017] TRACE: filter:INPUT:rule:1 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 ',
	'',
	'an unrelated line 😀',
	'trace id 981dccdf ip raw PREROUTING policy accept ',
].join('\r\n');

describe('readTraceLines', () => {
	afterEach(() => {
		delete process.env['TRACEWATCH_PARSE_THREADS'];
	});

	it('gives the same lines whatever the chunk boundaries (CRLF, multi-byte characters, no final LF)', async () => {
		const expected = JSON.stringify(parseTraceText(SAMPLE.replaceAll('\r\n', '\n')));
		const bytes = Buffer.from(SAMPLE, 'utf8');
		for (const size of [1, 2, 3, 7, 64, bytes.length]) {
			const chunks: Buffer[] = [];
			for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
			expect(JSON.stringify(await read(Readable.from(chunks)))).toBe(expected);
		}
		expect(JSON.stringify(await read(Readable.from([SAMPLE])))).toBe(expected); // string chunks
	});

	it('reports a line too long to be trace output without parsing it (a 10 MB line)', async () => {
		const mb = Buffer.alloc(1 << 20, 'x');
		const chunks = [...Array.from({length: 10}, () => mb), Buffer.from('\n[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 \n')];
		const lines = await read(Readable.from(chunks));
		expect(lines).toHaveLength(2);
		expect(lines[0]).toMatchObject({kind: 'unparsed', ref: {line: 1}, column: 1});
		expect(lines[0]!.kind === 'unparsed' && lines[0]!.reason).toBe(`line of ${10 << 20} characters, longer than a trace line can be (${MAX_LINE}): not read`);
		expect(lines[1]).toMatchObject({kind: 'event', ref: {line: 2}});
	});

	it('matchTraceLine refuses an over-long string without reading it', () => {
		const r = matchTraceLine(`TRACE: ${'IN=x '.repeat(2_000_000)}`, {input: 0, line: 1});
		expect(r).toMatchObject({kind: 'unparsed', column: 1, reason: `line of 10000007 characters, longer than a trace line can be (${MAX_LINE}): not read`});
	});

	it('waits for `pace` after each line (the output\'s backpressure)', async () => {
		const events: string[] = [];
		let release: (() => void) | undefined;
		// A complete line: one cut short would wait for the next line, which may continue it (wrapped.ts).
		const chunks = ['[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1 \n', 'another line\n'];
		const reading = readTraceLines(Readable.from(chunks), 0, l => events.push(`line ${l.ref.line}`), undefined, {
			pace: () =>
				events.length === 1
					? new Promise<void>(resolve => {
							events.push('paused');
							release = resolve;
						})
					: undefined,
		});
		await new Promise(resolve => setTimeout(resolve, 20));
		expect(events).toEqual(['line 1', 'paused']);
		release!();
		await reading;
		expect(events).toEqual(['line 1', 'paused', 'line 2']);
	});

	it('parser threads give the same results for records and wrapped lines (framed and joined on the main thread)', async () => {
		for (const path of ['testdata/formats/journal/central.export', 'testdata/formats/wrapped/frag-needed-dmesg.wrap72.log']) {
			const file = new URL(path, ROOT);
			delete process.env['TRACEWATCH_PARSE_THREADS'];
			const sequential = await read(createReadStream(file));
			process.env['TRACEWATCH_PARSE_THREADS'] = '2';
			const parallel = await read(createReadStream(file));
			expect(parallel.length).toBeGreaterThan(80);
			expect(JSON.stringify(parallel)).toBe(JSON.stringify(sequential));
		}
	});

	it('parser threads give the same results, in order', async () => {
		const file = new URL('testdata/dmesg/wifi-masquerade/dmesg.log', ROOT);
		const sequential = await read(createReadStream(file));
		process.env['TRACEWATCH_PARSE_THREADS'] = '2';
		const parallel = await read(createReadStream(file));
		expect(parallel).toHaveLength(201);
		expect(JSON.stringify(parallel)).toBe(JSON.stringify(sequential));
		const first = parallel[0]!;
		expect(first.kind === 'event' && first.event.type === 'kernel-hop' && Object.isFrozen(first.event.pkt)).toBe(true);
	});
});
