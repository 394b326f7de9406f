/**
 * Bytes → lines → ParsedLine, streaming, for files and stdin alike.
 *
 * Input:  a readable byte stream, e.g. `dmesg -wT | grep --line-buffered TRACE` on stdin
 * Output: one ParsedLine per line, in order, with its 1-based line number. split2 cuts the
 *         lines (LF or CRLF). A line longer than MAX_LINE is reported as unparsed without being
 *         parsed (split2 holds it whole for a moment: a 10 MB line costs 10 MB, once).
 */
import {statSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import type {Readable} from 'node:stream';
import {Worker} from 'node:worker_threads';
import split2 from 'split2';
import type {LineBatch, ParsedBatch} from './parse-worker.js';
import {deepFreeze} from './segment-cache.js';
import {matchTraceLine, MAX_LINE, tooLongLine} from './trace-line.js';

import {ownString} from './segment-cache.js';
import type {ParsedLine} from './types.js';

/**
 * The stream's lines, as split2 cuts them. Each is copied out of the chunk it was cut from: a
 * line is a slice of a 64 KB chunk, and any value sliced from the line (an address, a stamp)
 * that the model keeps for a while (findings keep a few per flow) would otherwise keep the whole
 * chunk alive.
 */
function lines(stream: Readable): AsyncIterable<string> {
	const out = split2((line: string) => ownString(line));
	stream.on('error', error => out.destroy(error));
	return stream.pipe(out) as AsyncIterable<string>;
}

/** Regular files from this size up are parsed on worker threads (below it, starting them costs more than it saves). */
export const PARALLEL_MIN_BYTES = 8 << 20;
/**
 * Young-generation size of a parser thread's heap, in MB. Ohm allocates a node per character it
 * matches, all of it garbage by the end of the line; 16 MB collects it cheaply and keeps the
 * thread's memory small (96 MB was measured no faster once lines came apart into cached pieces).
 */
const YOUNG_GENERATION_MB = 16;
/** Lines per batch sent to a parser thread (a batch also ends when no more input is waiting, so live input is not held back). */
const BATCH_LINES = 1000;
/** Batches per parser thread that may be in flight: enough that a thread never waits for the main thread. */
const IN_FLIGHT = 4;

/** How readTraceLines may parse. */
export interface ReadOptions {
	/**
	 * Parse on worker threads (one per core but the main thread's): worth it for a large file
	 * (PARALLEL_MIN_BYTES or more), not for live input. Default: only when `stream` is a file
	 * stream of a regular file that large. TRACEWATCH_PARSE_THREADS, when set, wins (0: never).
	 */
	readonly parallel?: boolean;
	/**
	 * Called after each chunk's lines were handed to `onLine`; reading waits for the promise it
	 * returns. For the output's backpressure: `() => out.writableNeedDrain ? once(out, 'drain') : undefined`
	 * keeps a slow reader of the output (a pipe into jq) from making tracewatch queue its output.
	 */
	readonly pace?: () => Promise<unknown> | undefined;
}

/** Parser threads for this input (see ReadOptions.parallel). */
export function parserThreads(stream: Readable, options: ReadOptions = {}): number {
	const env = process.env['TRACEWATCH_PARSE_THREADS'];
	if (env !== undefined && env !== '') return Math.max(0, Math.min(16, Math.trunc(Number(env)) || 0));
	const threads = Math.max(1, Math.min(4, availableParallelism() - 1));
	if (options.parallel !== undefined) return options.parallel ? threads : 0;
	const path = (stream as {path?: unknown}).path;
	if (typeof path !== 'string') return 0;
	try {
		const st = statSync(path);
		return st.isFile() && st.size >= PARALLEL_MIN_BYTES ? threads : 0;
	} catch {
		return 0;
	}
}

/**
 * Reads `stream` line by line and calls `onLine` for each parsed line, in order. Resolves at end
 * of input with the number of lines. Large files are parsed on worker threads (ReadOptions).
 */
export async function readTraceLines(stream: Readable, input: number, onLine: (line: ParsedLine) => void, signal?: AbortSignal, options: ReadOptions = {}): Promise<number> {
	const threads = parserThreads(stream, options);
	if (threads > 0) return readInParallel(stream, input, onLine, signal, threads, options.pace);
	let n = 0;
	for await (const text of lines(stream)) {
		if (signal?.aborted) break;
		n++;
		onLine(text.length > MAX_LINE ? tooLongLine(text.slice(0, MAX_LINE), text.length, {input, line: n}) : matchTraceLine(text, {input, line: n}));
		const wait = options.pace?.();
		if (wait) await wait;
	}
	return n;
}

/**
 * The main thread reads and splits lines and hands batches to `threads` parser threads; results
 * come back per batch and are delivered in line order. At most IN_FLIGHT batches per thread are
 * in flight, so memory stays flat however long the input is.
 */
async function readInParallel(stream: Readable, input: number, onLine: (line: ParsedLine) => void, signal: AbortSignal | undefined, threads: number, pace: ReadOptions['pace']): Promise<number> {
	// Built (dist/): the compiled worker; from the sources: an entry that registers the TypeScript loader first.
	const entry = import.meta.url.endsWith('.ts') ? new URL('parse-worker-entry.mjs', import.meta.url) : new URL('parse-worker.js', import.meta.url);
	const workers = Array.from({length: threads}, () => new Worker(entry, {resourceLimits: {maxYoungGenerationSizeMb: YOUNG_GENERATION_MB}}));
	const done = new Map<number, readonly ParsedLine[]>();
	let failure: Error | undefined;
	let wake: (() => void) | undefined;
	for (const w of workers) {
		w.on('message', (b: ParsedBatch) => {
			done.set(b.seq, b.results);
			wake?.();
		});
		w.on('error', (error: Error) => {
			failure = error;
			wake?.();
		});
		w.on('exit', code => {
			if (closing) return;
			failure ??= new Error(`a parser thread stopped (exit code ${code})`);
			wake?.();
		});
	}
	let closing = false;
	let sent = 0;
	let delivered = 0;
	let n = 0;
	let lines_: string[] = [];
	let long: Record<number, number> | undefined;
	let first = 1;
	const send = (): void => {
		if (lines_.length === 0) return;
		const batch: LineBatch = {seq: sent, input, first, lines: lines_, ...(long ? {long} : {})};
		workers[sent % threads]!.postMessage(batch);
		sent++;
		first += lines_.length;
		lines_ = [];
		long = undefined;
	};
	const deliver = (): void => {
		for (let r = done.get(delivered); r !== undefined && !signal?.aborted; r = done.get(delivered)) {
			done.delete(delivered);
			delivered++;
			for (const line of r) onLine(freezeShared(line));
		}
	};
	const next = async (): Promise<void> => {
		if (failure) throw failure;
		if (!done.has(delivered)) {
			await new Promise<void>(resolve => {
				wake = resolve;
			});
			wake = undefined;
		}
		if (failure) throw failure;
		deliver();
	};
	const source = stream as Readable;
	try {
		for await (const text of lines(source)) {
			if (signal?.aborted) break;
			if (text.length > MAX_LINE) (long ??= {})[lines_.length] = text.length;
			lines_.push(text.length > MAX_LINE ? text.slice(0, MAX_LINE) : text);
			n++;
			// A full batch, or no more input already read: send it (live input is not held back).
			if (lines_.length >= BATCH_LINES || source.readableLength === 0) {
				send();
				deliver();
				while (sent - delivered > IN_FLIGHT * threads && !signal?.aborted) await next();
				const wait = pace?.();
				if (wait) await wait;
			}
		}
		send();
		while (delivered < sent && !signal?.aborted) await next();
	} finally {
		closing = true;
		for (const w of workers) void w.terminate();
	}
	return n;
}

/**
 * Results from a parser thread arrive as copies, with the pieces lines shared there (a packet's
 * fields, a stamp) shared again within the batch: frozen again here, as the parser's own are.
 */
function freezeShared(line: ParsedLine): ParsedLine {
	if (line.kind !== 'event') return line;
	for (const e of line.rest ? [line.event, ...line.rest] : [line.event]) {
		if ('pkt' in e) deepFreeze(e.pkt);
		if ('time' in e) deepFreeze(e.time);
	}
	return line;
}

/** Parses a whole text at once: for tests and small inputs. Same core as the stream. */
export function parseTraceText(text: string, input = 0): ParsedLine[] {
	const lines = text.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	return lines.map((line, i) => matchTraceLine(line, {input, line: i + 1}));
}
