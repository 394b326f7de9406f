/**
 * One progress line on standard error for work that takes a while: a file replayed, a large
 * ruleset read. Shown only on a terminal, only once the work has taken a second, at most five
 * times a second, and cleared when the work is done or a message must be printed above it.
 *
 * Input:  const p = progressLine('node.log', 360_900_988, {unit: 'bytes'}); p.update(bytesRead, linesRead) …; p.done()
 * Output: on stderr, rewritten in place:
 *         `node.log: 42% of 360.9 MB · 1,104,212 lines · 18,204 lines/s · about 1m05s left`
 *
 * Written with writeSync, so that a synchronous loop (a ruleset being parsed) can show it too.
 * The path is made safe for a terminal like any text from the input.
 */
import {writeSync} from 'node:fs';
import {terminalSafe} from '../ui/visible.js';

export interface ProgressLine {
	/** `done`: bytes (or lines) of `total` so far; `lines`: lines read so far; `total`, when it became known only now. */
	update(done: number, lines: number, total?: number): void;
	/** Clears the line, prints `text` (a warning) and lets the line come back on the next update. */
	above(text: string): void;
	/** Clears the line for good. */
	done(): void;
}

export interface ProgressOptions {
	/** What `total` counts: bytes of a file, or lines of a dump. */
	readonly unit: 'bytes' | 'lines';
	/** Show it at all (the caller's conditions: a terminal, a format that is not written to a file …). Default: standard error is a terminal. */
	readonly show?: boolean;
	/** The clock in ms (tests). Default performance.now. */
	readonly now?: () => number;
	/** Where the line goes (tests). Default standard error. */
	readonly write?: (text: string) => void;
	/** Where `above` prints its text. Default: a line on standard error. */
	readonly warn?: (text: string) => void;
}

/** Work shorter than this shows no progress. */
const AFTER_MS = 1000;
/** At most this often. */
const EVERY_MS = 200;

function writeStderr(text: string): void {
	try {
		writeSync(2, text);
	} catch {
		// A closed or full stderr: progress is not worth failing for.
	}
}

function count(n: number): string {
	return Math.round(n).toLocaleString('en-US');
}

function size(bytes: number): string {
	return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
}

/** `1m05s`, `12s`, `2h03m`. */
export function duration(seconds: number): string {
	const s = Math.max(0, Math.round(seconds));
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
	return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress text for `done` of `total` after `elapsedMs`, `lines` lines read. */
export function progressText(label: string, done: number, total: number, lines: number, elapsedMs: number, unit: ProgressOptions['unit']): string {
	const fraction = total > 0 ? Math.min(1, done / total) : 0;
	const parts = [`${terminalSafe(label, false)}: ${Math.floor(fraction * 100)}% of ${unit === 'bytes' ? size(total) : `${count(total)} lines`}`];
	if (unit === 'bytes') parts.push(`${count(lines)} lines`);
	const seconds = elapsedMs / 1000;
	if (seconds > 0) parts.push(`${count(lines / seconds)} lines/s`);
	if (fraction > 0 && fraction < 1) parts.push(`about ${duration((seconds * (1 - fraction)) / fraction)} left`);
	return parts.join(' · ');
}

export function progressLine(label: string, total: number, options: ProgressOptions): ProgressLine {
	const show = options.show ?? Boolean(process.stderr.isTTY);
	const now = options.now ?? (() => performance.now());
	const write = options.write ?? writeStderr;
	const warn = options.warn ?? ((text: string) => writeStderr(`${terminalSafe(text, false)}\n`));
	const started = now();
	let last = -Infinity;
	let shown = false;
	const clear = (): void => {
		if (shown) write('\r\u001B[K');
		shown = false;
	};
	return {
		update(done, lines, known) {
			if (known !== undefined) total = known;
			if (!show) return;
			const t = now();
			if (t - started < AFTER_MS || t - last < EVERY_MS) return;
			last = t;
			const columns = process.stderr.columns || 100;
			const text = progressText(label, done, total, lines, t - started, options.unit);
			write(`\r\u001B[K${text.length < columns ? text : `${text.slice(0, columns - 2)}…`}`);
			shown = true;
		},
		above(text) {
			clear();
			warn(text);
		},
		done: clear,
	};
}
