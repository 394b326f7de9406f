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
	it('reads each record with its monotonic and wall-clock time and its host', () => {
		const lines = parseTraceText(read('testdata/formats/journalctl-json.log'));
		expect(lines).toHaveLength(8);
		for (const [i, line] of lines.entries()) expect(line).toMatchObject({kind: 'event', ref: {line: i + 1}, container: 'journal-json'});
		expect(lines[0]).toMatchObject({event: {type: 'kernel-hop', host: 'vm', time: {mono: 1615.720017, wall: 1795323996350.773}}});
		// The message alone, as the grammar reads it, is the same event without the record's time and host.
		const record = JSON.parse(read('testdata/formats/journalctl-json.log').split('\n')[0]!) as {MESSAGE: string};
		const {time: _t, host: _h, ...event} = (lines[0] as {event: {time: unknown; host: unknown}}).event;
		expect(matchWholeLine(record.MESSAGE, {input: 0, line: 1})).toEqual({kind: 'event', format: 'kernel', event, ref: {input: 0, line: 1}});
		expect(matchTraceLine(record.MESSAGE, {input: 0, line: 1})).toEqual(matchWholeLine(record.MESSAGE, {input: 0, line: 1}));
	});

	it('rebuilds the same packets as journalctl -o short-monotonic, at the same times', () => {
		const json = packetsOf('testdata/formats/journalctl-json.log');
		const mono = packetsOf('testdata/formats/journalctl-short-monotonic.log');
		expect(json.length).toBe(2);
		const shape = (ps: typeof json) => ps.map(p => ({tuple: [p.src, p.dst, p.proto], hops: p.hops.map(h => [`${h.table}:${h.chain}:${h.kind}:${h.num}`, h.logPrefix, h.time?.mono])}));
		expect(shape(json)).toEqual(shape(mono));
	});

	it('a broken record is reported with its line and counted; the records after it are read', () => {
		const good = read('testdata/formats/journalctl-json.log').split('\n').filter(l => l !== '');
		const text = [good[0], '{"MESSAGE": "TRACE: raw:PREROUTING:policy:2 IN=x", "__REALTIME_TIMESTAMP": }', good[1], '{"MESSAGE": 3}'].join('\n');
		const lines = parseTraceText(text);
		expect(lines.map(l => l.kind)).toEqual(['event', 'unparsed', 'event', 'skipped']);
		expect(lines[1]).toMatchObject({ref: {line: 2}, column: 1, container: 'journal-json'});
		expect(lines[1]!.kind === 'unparsed' && lines[1]!.reason).toMatch(/^not a JSON record: /);
	});
});
