/**
 * Bytes → lines → ParsedLine, streaming, for files and stdin alike.
 *
 * Input:  a readable byte stream, e.g. `dmesg -wT | grep --line-buffered TRACE` on stdin, or
 *         `journalctl -k -f -o export`
 * Output: one ParsedLine per line, in order, with its 1-based line number. framing.ts cuts the
 *         lines (LF or CRLF) and unpacks the records of dmesg -J and the journal's JSON and
 *         export forms (one ParsedLine per record, at the line of its message); wrapped.ts joins
 *         hard-wrapped lines again. A line longer than MAX_LINE is reported as unparsed without
 *         being parsed or kept.
 */
import {statSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import type {Readable} from 'node:stream';
import {Worker} from 'node:worker_threads';
import {type Framed, Framer} from './framing.js';
import type {LineBatch, ParsedBatch} from './parse-worker.js';
import {deepFreeze} from './segment-cache.js';
import {matchTraceLine, MAX_LINE, tooLongLine} from './trace-line.js';
import type {LineRef, ParsedLine, Stamp, TraceEvent} from './types.js';
import {WrapJoiner} from './wrapped.js';

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
	/**
	 * Live input whose reader also drives a clock (the pipeline's tick): given, readTraceLines
	 * sets no timer of its own for a line held for a possible continuation; it hands `release`
	 * a function to call on each turn of that clock, before the pipeline's tick, which hands the
	 * line on once the input has been quiet WRAP_WAIT_MS. Called in that order, a held line always
	 * reaches the pipeline before the pipeline's idle time (longer) can end its packet without it,
	 * however late a loaded machine runs the clock.
	 */
	readonly release?: (releaseIfQuiet: () => void) => void;
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

/** The line with `f` applied to each of its events (a line of records pasted together holds several). */
export function mapEvents(line: ParsedLine, f: (e: TraceEvent) => TraceEvent): ParsedLine {
	return line.kind === 'event' ? {...line, event: f(line.event), ...(line.rest ? {rest: line.rest.map(f)} : {})} : line;
}

/** A record's time and host, given to the events of its message that do not say their own. */
function withRecord(line: ParsedLine, time: Stamp | undefined, host: string | undefined): ParsedLine {
	if (!time && !host) return line;
	const give = (e: TraceEvent): TraceEvent =>
		(e.type === 'kernel-hop' || e.type === 'kernel-log' || e.type === 'kernel-bridge') && ((time && !e.time) || (host && !e.host)) ? {...e, ...(time && !e.time ? {time} : {}), ...(host && !e.host ? {host} : {})} : e;
	if (line.kind === 'event') return mapEvents(line, give);
	if (line.kind === 'notice' && time && !line.notice.time) return {...line, notice: {...line.notice, time}};
	return line;
}

/** The text a framed item gives the grammar, if any (a plain line not too long, a record's message). */
function textOf(f: Framed): string | undefined {
	if (f.kind === 'record') return f.text.length > MAX_LINE ? undefined : f.text;
	if (f.kind === 'line') return f.chars > MAX_LINE ? undefined : f.text;
	return undefined;
}

/** A framed item and its parse (`parsed`, for the items textOf gives a text) → the joiner. */
function deliver(f: Framed, input: number, parsed: ParsedLine | undefined, joiner: WrapJoiner): void {
	const ref: LineRef = {input, line: f.line};
	switch (f.kind) {
		case 'line':
			if (f.chars > MAX_LINE) joiner.other(tooLongLine(f.text.slice(0, MAX_LINE), f.chars, ref));
			else joiner.line(parsed!, f.text);
			return;
		case 'record': {
			const line = f.text.length > MAX_LINE ? tooLongLine(f.text.slice(0, MAX_LINE), f.text.length, ref) : withRecord(parsed!, f.time, f.host);
			joiner.other({...line, container: f.container});
			return;
		}
		case 'framing':
			joiner.other({kind: 'skipped', ref, container: f.container});
			return;
		case 'bad':
			joiner.other({kind: 'unparsed', ref, column: 1, reason: f.reason, excerpt: f.excerpt, container: f.container});
			return;
	}
}

/**
 * The one core every entry point reads through: bytes in (`push`, `end`), ParsedLines out
 * (`onLine`), in order. Parses on this thread; readInParallel shares its framing and joining.
 */
class TraceReader {
	readonly framer: Framer;
	readonly joiner: WrapJoiner;

	constructor(input: number, onLine: (line: ParsedLine) => void) {
		this.joiner = new WrapJoiner(onLine);
		this.framer = new Framer(f => {
			const text = textOf(f);
			deliver(f, input, text === undefined ? undefined : matchTraceLine(text, {input, line: f.line}), this.joiner);
		});
	}

	push(chunk: Buffer | string): void {
		this.framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
	}

	end(): void {
		this.framer.end();
		this.joiner.release();
	}
}

/**
 * How long live input may be quiet before a line held for a continuation is handed on: shorter
 * than the pipeline's idle time (40 ms) that ends a packet whose lines stopped coming.
 */
const WRAP_WAIT_MS = 20;

/**
 * Lines a source has already cut (an agent's: `--follow`, /dev/kmsg, standard input with
 * `--state`, src/cli/agent.ts), read through the same framing and joining as bytes are: records
 * unpacked (journal JSON and export, dmesg -J), wrapped lines joined. Line numbers go on from
 * `base` (a restarted agent numbers on from where the last run stopped). The source is live: a
 * line held for a possible continuation is handed on once it has been quiet WRAP_WAIT_MS.
 */
export class SourceLineReader {
	private readonly reader: TraceReader;
	private lastAt = 0;

	constructor(input: number, base: number, onLine: (line: ParsedLine) => void) {
		this.reader = new TraceReader(input, onLine);
		this.reader.framer.splitter.lfs = base;
	}

	line(text: string): void {
		this.lastAt = performance.now();
		this.reader.push(`${text}\n`);
	}

	/** On each turn of the pipeline's clock, before its tick (ReadOptions.release). */
	releaseIfQuiet(now = performance.now()): void {
		if (this.reader.joiner.holding && now - this.lastAt >= WRAP_WAIT_MS) this.reader.joiner.release();
	}

	end(): void {
		this.reader.end();
	}
}

/** A regular file (its reader never waits for a writer). */
function isRegularFile(stream: Readable): boolean {
	const path = (stream as {path?: unknown}).path;
	if (typeof path !== 'string') return false;
	try {
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

/**
 * Reads `stream` and calls `onLine` for each parsed line, in order. Resolves at end of input
 * with the number of physical lines. Large files are parsed on worker threads (ReadOptions).
 */
export async function readTraceLines(stream: Readable, input: number, onLine: (line: ParsedLine) => void, signal?: AbortSignal, options: ReadOptions = {}): Promise<number> {
	const threads = parserThreads(stream, options);
	if (threads > 0) return readInParallel(stream, input, onLine, signal, threads, options.pace);
	const reader = new TraceReader(input, line => {
		if (!signal?.aborted) onLine(line);
	});
	// A line held for a possible continuation is handed on when a pipe goes quiet (live input):
	// on the caller's clock when it has one (ReadOptions.release), else on a timer of its own.
	const live = !isRegularFile(stream);
	let quiet: NodeJS.Timeout | undefined;
	let lastAt = 0;
	options.release?.(() => {
		if (reader.joiner.holding && performance.now() - lastAt >= WRAP_WAIT_MS) reader.joiner.release();
	});
	try {
		for await (const chunk of stream as AsyncIterable<Buffer | string>) {
			if (quiet) clearTimeout(quiet);
			quiet = undefined;
			if (signal?.aborted) break;
			lastAt = performance.now();
			reader.push(chunk);
			if (live && !options.release && reader.joiner.holding) quiet = setTimeout(() => reader.joiner.release(), WRAP_WAIT_MS);
			const wait = options.pace?.();
			if (wait) await wait;
		}
	} finally {
		if (quiet) clearTimeout(quiet);
	}
	if (!signal?.aborted) reader.end();
	return reader.framer.splitter.lfs;
}

/**
 * The main thread reads and frames lines and hands batches of texts to `threads` parser
 * threads; results come back per batch and are delivered in line order. At most IN_FLIGHT
 * batches per thread are in flight, so memory stays flat however long the input is.
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
	const joiner = new WrapJoiner(line => {
		if (!signal?.aborted) onLine(freezeShared(line));
	});
	// The framed items of each batch sent, kept here; the threads get only their texts.
	const items = new Map<number, Framed[]>();
	let batch: Framed[] = [];
	let texts: string[] = [];
	let lines: number[] = [];
	const framer = new Framer(f => {
		batch.push(f);
		const text = textOf(f);
		if (text !== undefined) {
			texts.push(text);
			lines.push(f.line);
		}
	});
	const send = (): void => {
		if (batch.length === 0) return;
		const b: LineBatch = {seq: sent, input, lines: texts, refs: lines};
		items.set(sent, batch);
		workers[sent % threads]!.postMessage(b);
		sent++;
		batch = [];
		texts = [];
		lines = [];
	};
	const deliverDone = (): void => {
		for (let r = done.get(delivered); r !== undefined && !signal?.aborted; r = done.get(delivered)) {
			const framed = items.get(delivered)!;
			done.delete(delivered);
			items.delete(delivered);
			delivered++;
			let i = 0;
			for (const f of framed) deliver(f, input, textOf(f) === undefined ? undefined : r[i++], joiner);
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
		deliverDone();
	};
	const source = stream as Readable;
	try {
		for await (const chunk of source as AsyncIterable<Buffer | string>) {
			if (signal?.aborted) break;
			framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
			// A full batch, or no more input already read: send it (live input is not held back).
			if (batch.length >= BATCH_LINES || source.readableLength === 0) {
				send();
				deliverDone();
				while (sent - delivered > IN_FLIGHT * threads && !signal?.aborted) await next();
				const wait = pace?.();
				if (wait) await wait;
			}
		}
		framer.end();
		send();
		while (delivered < sent && !signal?.aborted) await next();
		if (!signal?.aborted) joiner.release();
	} finally {
		closing = true;
		for (const w of workers) void w.terminate();
	}
	return framer.splitter.lfs;
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
	const out: ParsedLine[] = [];
	const reader = new TraceReader(input, line => out.push(line));
	reader.push(text);
	reader.end();
	return out;
}
