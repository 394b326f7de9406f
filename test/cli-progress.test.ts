/**
 * The progress line of long replays and large rulesets (src/cli/progress.ts): what it says, when
 * it shows, that it clears itself, and that a file name cannot reach the terminal as a control
 * sequence. The clock is the test's own.
 */
import {describe, expect, it} from 'vitest';
import {duration, progressLine, progressText} from '../src/cli/progress.js';

function harness(show = true) {
	let t = 0;
	const out: string[] = [];
	const warned: string[] = [];
	const line = progressLine('node.log', 100_000_000, {unit: 'bytes', show, now: () => t, write: s => out.push(s), warn: s => warned.push(s)});
	return {line, out, warned, at: (ms: number) => (t = ms)};
}

describe('progress line', () => {
	it('says percent of bytes, lines, lines/s and time left', () => {
		expect(progressText('node.log', 25_000_000, 100_000_000, 50_000, 2000, 'bytes')).toBe('node.log: 25% of 100.0 MB · 50,000 lines · 25,000 lines/s · about 6s left');
		expect(progressText('big.save', 16_000, 160_000, 16_000, 1000, 'lines')).toBe('big.save: 10% of 160,000 lines · 16,000 lines/s · about 9s left');
		expect(progressText('x', 100, 100, 10, 1000, 'lines')).not.toContain('left');
	});

	it('writes durations as a person reads them', () => {
		expect([duration(0.4), duration(12), duration(65), duration(3600 + 180)]).toEqual(['0s', '12s', '1m05s', '1h03m']);
	});

	it('stays quiet for the first second, then updates at most five times a second', () => {
		const h = harness();
		h.at(900);
		h.line.update(10_000_000, 1000);
		expect(h.out).toEqual([]);
		h.at(1000);
		h.line.update(20_000_000, 2000);
		h.at(1100);
		h.line.update(21_000_000, 2100);
		expect(h.out).toHaveLength(1);
		expect(h.out[0]).toBe('\r\u001B[Knode.log: 20% of 100.0 MB · 2,000 lines · 2,000 lines/s · about 4s left');
		h.at(1200);
		h.line.update(22_000_000, 2200);
		expect(h.out).toHaveLength(2);
	});

	it('clears itself when done and around a warning', () => {
		const h = harness();
		h.at(2000);
		h.line.update(50_000_000, 5000);
		h.line.above('node.log:7: unparsed line');
		expect(h.out.at(-1)).toBe('\r\u001B[K');
		expect(h.warned).toEqual(['node.log:7: unparsed line']);
		h.line.done();
		// Nothing shown since the warning: nothing to clear.
		expect(h.out.filter(s => s === '\r\u001B[K')).toHaveLength(1);
		h.at(2500);
		h.line.update(60_000_000, 6000);
		h.line.done();
		expect(h.out.at(-1)).toBe('\r\u001B[K');
	});

	it('shows nothing where it must not (a pipe, JSON to a file)', () => {
		const h = harness(false);
		h.at(5000);
		h.line.update(50_000_000, 5000);
		h.line.done();
		expect(h.out).toEqual([]);
	});

	it('never lets a file name send control characters to the terminal', () => {
		const text = progressText('evil\u001B]0;owned\u0007.log', 1, 2, 1, 1000, 'bytes');
		expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
	});
});

describe('progress of a large ruleset', () => {
	it('reports how far parseRuleset got, every few thousand lines', async () => {
		const {parseRuleset} = await import('../src/parser/ruleset.js');
		const {kubeDump} = await import('../scripts/bench/kube-dump.js');
		const text = kubeDump({services: 200, endpoints: 3});
		const lines = text.split('\n').length - 1;
		const seen: Array<[number, number]> = [];
		parseRuleset(text, 'kube.save', (line, total) => seen.push([line, total]));
		expect(seen.length).toBe(Math.ceil(lines / 4096));
		expect(seen.every(([, total]) => total === lines)).toBe(true);
		expect(seen.map(([line]) => line)).toEqual(seen.map((_, i) => i * 4096));
	});
});
