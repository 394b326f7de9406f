/**
 * Cached pieces and whole-line matches agree on damaged and generated lines (the rest of the
 * equivalence is test/parser/segments.test.ts; split so that both run on two workers at once).
 */
import {readFileSync} from 'node:fs';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {clearSegmentCaches} from '../../src/parser/segments.js';
import {agree, ROOT, testdataFiles} from '../support/segments.js';

describe('cached pieces and whole-line matches agree', () => {
	it('on testdata trace lines damaged the ways logs get damaged', () => {
		// Each distinct line once (the same captures in several log forms repeat them word for word).
		const lines = [...new Set(testdataFiles().flatMap(f => readFileSync(new URL(f, ROOT), 'utf8').split('\n')))].filter(l => /TRACE:|IN=|trace id |PACKET:/.test(l));
		// npm test damages one line in 97 (about 200), `npm run fuzz` one in 23.
		const sample = lines.filter((_l, i) => i % (process.env['TRACEWATCH_FUZZ_RUNS'] ? 23 : 97) === 0);
		expect(sample.length).toBeGreaterThan(150);
		// A kernel line cut by the kernel's 1019-byte limit: pad a real one past it, then cut.
		const cut1019 = (l: string): string => Buffer.from(`${l} ${'OPT (0101080A0BEC1D3A0BEC1D3A) '.repeat(40)}`).subarray(0, 1019).toString();
		const mutations: Array<(l: string, next: string) => string> = [
			l => `${l}\r`,
			l => l.replaceAll(' ', '\t'),
			l => l.replaceAll(' ', '  '),
			l => l.trimEnd(),
			cut1019,
			l => l.slice(0, Math.floor(l.length / 2)),
			l => l.slice(0, l.lastIndexOf(' ', l.length - 2) + 2),
			(l, next) => `${l.trimEnd()} ${next}`,
			(l, next) => `${l}${next}`,
			l => l.replace(/\d/g, d => String((Number(d) + 7) % 10)),
			l => l.replace(/\[\s*\d+\.\d+\]/, '[31925184.693562]'),
		];
		clearSegmentCaches();
		let n = 0;
		sample.forEach((line, i) => {
			for (const mutate of mutations) agree(mutate(line, sample[(i + 1) % sample.length]!), ++n);
		});
	}, 180_000);

	it('on generated lines and mutations of real ones (property)', () => {
		const real = readFileSync(new URL('testdata/dmesg/wifi-masquerade/dmesg.log', ROOT), 'utf8').split('\n').slice(0, 40);
		real.push(...readFileSync(new URL('testdata/nft/frag-needed/nft-monitor.log', ROOT), 'utf8').split('\n').slice(0, 30));
		real.push(...readFileSync(new URL('testdata/nft/frag-needed/xtables-monitor.log', ROOT), 'utf8').split('\n').slice(0, 30));
		const words = ['TRACE:', 'PACKET:', 'trace id', 'IN=', 'OPT (', ')', '[', ']', ' ', '  ', '\t', '\r', ':', '=', 'SRC=1.2.3.4', 'DF', 'kernel:', 'packet:', '"', 'ip saddr', '(verdict accept)', '\u001B[0m', 'é', '😀'];
		const mutation = fc.tuple(fc.constantFrom(...real), fc.nat(), fc.nat(), fc.constantFrom('cut', 'insert', 'delete', 'swap'), fc.constantFrom(...words));
		fc.assert(
			fc.property(mutation, ([line, a, b, kind, word]) => {
				const i = a % (line.length + 1);
				const j = Math.min(line.length, i + (b % 12));
				const mutated = kind === 'cut' ? line.slice(0, i) : kind === 'insert' ? line.slice(0, i) + word + line.slice(i) : kind === 'delete' ? line.slice(0, i) + line.slice(j) : line.slice(0, i) + word + line.slice(j);
				agree(mutated);
			}),
			{numRuns: process.env['TRACEWATCH_FUZZ_RUNS'] ? 30_000 : 1000, seed: 42},
		);
	});
});
