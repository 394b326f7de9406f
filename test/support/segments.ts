/**
 * What the segment-cache tests share: a line matched both ways (cached pieces, whole line)
 * must give the same parsed line; the files of testdata.
 */
import {execFileSync} from 'node:child_process';
import {expect} from 'vitest';
import {matchTraceLine, matchWholeLine} from '../../src/parser/trace-line.js';
import type {ParsedLine} from '../../src/parser/types.js';

export const ROOT = new URL('../../', import.meta.url);

/** Both ways, compared as JSON (so key order counts too). */
export function agree(line: string, n = 1): void {
	const ref = {input: 0, line: n};
	const whole = JSON.stringify(matchWholeLine(line, ref));
	const cached = JSON.stringify(matchTraceLine(line, ref));
	if (cached !== whole) expect({line, cached: JSON.parse(cached) as ParsedLine}).toEqual({line, cached: JSON.parse(whole) as ParsedLine});
}

/**
 * The files of testdata, but copies of lines that are there already: the hard-wrapped captures
 * (pieces of testdata's lines) and the journal's record forms (whose messages are the lines of
 * testdata/formats/journal/dmesg.log). They would only make these tests longer.
 */
export function testdataFiles(): string[] {
	return execFileSync('find', ['testdata', '-type', 'f'], {cwd: ROOT, encoding: 'utf8'})
		.trim()
		.split('\n')
		.filter(f => !f.startsWith('testdata/formats/wrapped/') && !(f.startsWith('testdata/formats/journal/') && f !== 'testdata/formats/journal/dmesg.log'))
		.sort();
}

