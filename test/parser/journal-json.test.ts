/**
 * journalctl -o json (testdata/formats/journalctl-json.log, the same 8 records as the other
 * journalctl forms): each line's MESSAGE is read as the kernel's text, with the record's time.
 */
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {matchTraceLine, matchWholeLine} from '../../src/parser/trace-line.js';
import {read} from '../support/replay.js';

const packetsOf = (path: string) => collect([{path, lines: parseTraceText(read(path))}]).packets;

describe('journalctl -o json', () => {
	it('reads each record with its monotonic and wall-clock time', () => {
		const lines = read('testdata/formats/journalctl-json.log').split('\n').filter(l => l !== '');
		for (const [i, text] of lines.entries()) {
			const line = matchTraceLine(text, {input: 0, line: i + 1});
			expect(line.kind).toBe('event');
			expect(matchWholeLine(text, {input: 0, line: i + 1})).toEqual(line);
		}
		expect(matchTraceLine(lines[0]!, {input: 0, line: 1})).toMatchObject({event: {type: 'kernel-hop', time: {mono: 1615.720017, wall: 1795323996350.773}}});
	});

	it('rebuilds the same packets as journalctl -o short-monotonic, at the same times', () => {
		const json = packetsOf('testdata/formats/journalctl-json.log');
		const mono = packetsOf('testdata/formats/journalctl-short-monotonic.log');
		expect(json.length).toBe(2);
		const shape = (ps: typeof json) => ps.map(p => ({tuple: [p.src, p.dst, p.proto], hops: p.hops.map(h => [`${h.table}:${h.chain}:${h.kind}:${h.num}`, h.logPrefix, h.time?.mono])}));
		expect(shape(json)).toEqual(shape(mono));
	});

	it('a line that is not such an object is read as any other', () => {
		expect(matchTraceLine('{"MESSAGE": 3}', {input: 0, line: 1})).toEqual({kind: 'skipped', ref: {input: 0, line: 1}});
		expect(matchTraceLine('{not json "MESSAGE"', {input: 0, line: 1}).kind).toBe('skipped');
	});
});
