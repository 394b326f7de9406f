/**
 * The unattended agent's input and its place in it: `--follow /dev/kmsg`, `--follow FILE`, and
 * `journalctl -o json` on standard input, each line with where it is in its source, and
 * `--state FILE`, where the agent keeps how far it got so that a restart writes nothing twice and
 * loses nothing (docs/shipping.md, "Restarts").
 *
 * Input:  lines with their position: `4,2113,12641994665,-;TRACE: mangle:PREROUTING:policy:1 …` at
 *         seq 2113 of /dev/kmsg; a kern.log line ending at byte 30388 of inode 1234; a journal
 *         record with its `__CURSOR`
 * Output: the same lines for the pipeline, numbered on from where the last run stopped; and
 *         after each batch of records written, the state file:
 *         {"tracewatch":1,"input":"/dev/kmsg","after":{"kind":"kmsg","boot":"…","seq":2111},
 *          "line":3,"id":2,"emitted":4,"told":[{"id":2,"replySeen":true,…}]}
 *
 * The design: packets are handed on in id order, and an id is given at a packet's first line. So
 * the oldest packet not settled yet (still being assembled, or handed on and still able to learn
 * that a reply came) marks a line from which reading again rebuilds it and every packet after it,
 * the same as the first time (Pipeline.resumePoint). The state names the line before it (`after`,
 * a position the source can be read on from), that packet's id, the last id written, and what was
 * written about the packets still learning facts. A restart reads on after `after`, rebuilds the
 * packets from `id` on with the same ids, writes none of those up to `emitted` again, and writes a
 * later fact about them only when it is news to the reader (Pipeline Resume). The state is
 * written after the records (renamed into place whole): killed between the two, a restart writes
 * the last records again, the same records with the same node and id.
 */
import {readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {Readable} from 'node:stream';
import split2 from 'split2';
import type {HandedOn, Pipeline, PipelineEvent, Resume} from '../model/pipeline.js';
import type {ParsedLine, Stamp} from '../parser/types.js';
import {mapEvents} from '../parser/line-stream.js';
import {bootId, bootTimeMs, readKmsg, type KmsgRecord} from '../ops/kmsg.js';
import {followLines, type FileLine} from './follow.js';
import {UsageError} from './terminal.js';

/** Where a line is in its source: what a restart reads on after. */
export type Position =
	| {readonly kind: 'kmsg'; readonly boot?: string; readonly seq: number}
	| {readonly kind: 'file'; readonly dev: number; readonly ino: number; readonly offset: number}
	| {readonly kind: 'journal'; readonly cursor: string; readonly including?: true};

/** A line of an agent's input. `pos` is undefined for a line whose place cannot be told (stdin text). */
export interface SourceLine {
	readonly text: string;
	readonly pos?: Position;
	/**
	 * The place just before it, given with the first line a source hands on: where a state with no
	 * line done yet reads on from (past the records --from-end left behind). A journal cursor
	 * names no place between records: its first record's, `including` it.
	 */
	readonly before?: Position;
}

/** The state file (docs/shipping.md). */
export interface AgentState {
	readonly tracewatch: 1;
	/** The input it is the state of: `/dev/kmsg`, the followed file, `(stdin)`. */
	readonly input: string;
	readonly node?: string;
	/** Every line up to this one is done with: a restart reads on after it. null: from the start. */
	readonly after: Position | null;
	/** Lines read up to `after` (the next line is numbered line + 1). */
	readonly line: number;
	/** The id of the first packet from there. */
	readonly id: number;
	/** Packets up to this id were written. */
	readonly emitted: number;
	/** What was written about the packets that could still learn facts. */
	readonly told: readonly HandedOn[];
}

export interface AgentInput {
	/** The lines, object mode (SourceLine). */
	readonly lines: Readable;
	/** Gives a line's stamp what the source knows beyond its text (the wall time of a /dev/kmsg record). */
	readonly stamp?: (line: ParsedLine) => ParsedLine;
	/** Resolves once the source knows where it begins: the place before its first line (--from-end: past what it left behind), if it can tell. */
	readonly begun?: Promise<Position | undefined>;
	stop(): void;
}

/** An object stream of SourceLine fed from `source`'s own objects by `map`, ending when `source` ends or is closed. */
function relay<T>(source: Readable, map: (item: T) => SourceLine | undefined): Readable {
	let ended = false;
	const out = new Readable({
		objectMode: true,
		read() {
			source.resume();
		},
	});
	const end = () => {
		if (ended) return;
		ended = true;
		out.push(null);
	};
	source.on('data', (item: T) => {
		const line = map(item);
		if (line && !ended && !out.push(line)) source.pause();
	});
	source.on('end', end);
	source.on('close', end);
	source.on('error', error => out.destroy(error));
	return out;
}

/** A character device or a FIFO given to --follow is read as a kernel log record device (/dev/kmsg). */
export function isRecordDevice(path: string): boolean {
	try {
		const st = statSync(path);
		return st.isCharacterDevice() || st.isFIFO();
	} catch {
		return false;
	}
}

/**
 * `--follow /dev/kmsg` (or a FIFO that gives records): from the buffer's start (or its end), or
 * after the record the state names. On the running kernel's own /dev/kmsg each record's stamp
 * also gets its wall time, from the boot time.
 */
export function kmsgInput(path: string, from: 'start' | 'end' | {after: number}, warn: (text: string) => void): AgentInput {
	let reader;
	try {
		reader = readKmsg(path, {from, onLost: (n, first) => warn(`tracewatch: ${path}: ${n} record(s) from seq ${first} on were overwritten by the kernel before they could be read (lost)`)});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`cannot read ${path}: not allowed (${code}). Reading the kernel log needs root or CAP_SYSLOG while kernel.dmesg_restrict is 1 (sysctl kernel.dmesg_restrict); or pipe it in: journalctl -k -f -o json | tracewatch --state FILE`);
		if (code === 'ENOENT') throw new UsageError(`${path}: no such file or device`);
		throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
	}
	const own = path === '/dev/kmsg';
	const boot = own ? bootId() : undefined;
	const bootMs = own ? bootTimeMs() : undefined;
	let first = true;
	const out = relay<KmsgRecord>(reader.stream, r => {
		if (r.seq === undefined) return {text: r.line};
		const pos: Position = {kind: 'kmsg', ...(boot ? {boot} : {}), seq: r.seq};
		const before = first ? {before: {...pos, seq: r.seq - 1}} : {};
		first = false;
		return {text: r.line, pos, ...before};
	});
	const begun = reader.caughtUp.then((): Position | undefined => {
		const seq = reader.lastSeq();
		return from === 'end' && seq !== undefined ? {kind: 'kmsg', ...(boot ? {boot} : {}), seq} : undefined;
	});
	return {
		lines: out,
		begun,
		...(bootMs !== undefined ? {stamp: (line: ParsedLine) => withWall(line, bootMs)} : {}),
		stop: () => reader.stop(),
	};
}

/**
 * The file a rotated log went to (`kern.log.1`, `kern.log-20261207`: a name beside it that begins
 * with its name), found by its device and inode; undefined when it is gone (compressed, removed).
 */
export function rotatedTo(path: string, id: {readonly dev: number; readonly ino: number}): string | undefined {
	const dir = dirname(path);
	const name = basename(path);
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch {
		return undefined;
	}
	for (const n of names) {
		if (n === name || !n.startsWith(name)) continue;
		try {
			const st = statSync(join(dir, n));
			if (st.isFile() && st.dev === id.dev && st.ino === id.ino) return join(dir, n);
		} catch {
			// gone meanwhile
		}
	}
	return undefined;
}

/** `--follow FILE`: from a byte offset of the file the state names, or its start (its end with --from-end). */
export function fileInput(path: string, start: number | 'end', warn: (text: string) => void, signal: AbortSignal, rotatedFrom?: string): AgentInput {
	const onRestart = (what: 'rotated' | 'truncated') => warn(`tracewatch: ${path} was ${what === 'rotated' ? 'rotated (a new file took its name)' : 'truncated'}: reading it from its start`);
	const source = followLines(path, {start, signal, onRestart, ...(rotatedFrom ? {rotatedFrom} : {})});
	let first = true;
	const out = relay<FileLine>(source, l => {
		const before = first ? {before: {kind: 'file', dev: l.file.dev, ino: l.file.ino, offset: l.start} as const} : {};
		first = false;
		return {text: l.text, pos: {kind: 'file', dev: l.file.dev, ino: l.file.ino, offset: l.end}, ...before};
	});
	const {file, offset} = source.begins;
	return {lines: out, begun: Promise.resolve({kind: 'file', dev: file.dev, ino: file.ino, offset}), stop: () => source.destroy()};
}

/**
 * Standard input: lines; a `journalctl -o json` record's position is its `__CURSOR`. With a
 * state, records up to the state's cursor are read past (journalctl may be started without
 * --after-cursor, from the start of the boot).
 */
export function stdinInput(stream: Readable, after: {readonly cursor: string; readonly including?: true} | undefined): AgentInput {
	const past = after === undefined ? undefined : cursorOrder(after.cursor);
	let skipping = past !== undefined;
	let first = true;
	const lines = stream.pipe(split2());
	stream.on('error', error => lines.destroy(error));
	const out = relay<string>(lines, text => {
		const cursor = /"__CURSOR"\s*:\s*"([^"]+)"/.exec(text)?.[1];
		if (skipping && cursor !== undefined) {
			const at = cursorOrder(cursor);
			if (at && past && at.s === past.s && (at.i < past.i || (at.i === past.i && !after?.including))) return undefined;
			skipping = false;
		}
		if (cursor === undefined) return {text};
		const before = first ? {before: {kind: 'journal', cursor, including: true} as const} : {};
		first = false;
		return {text, pos: {kind: 'journal', cursor}, ...before};
	});
	return {
		lines: out,
		stop: () => {
			stream.destroy();
			lines.destroy();
		},
	};
}

/** A journal cursor's sequence number space (`s=`) and number (`i=`, hex): cursors of one space are ordered by it. */
function cursorOrder(cursor: string): {s: string; i: bigint} | undefined {
	const s = /(?:^|;)s=([0-9a-f]+)/.exec(cursor)?.[1];
	const i = /(?:^|;)i=([0-9a-f]+)/.exec(cursor)?.[1];
	return s && i ? {s, i: BigInt(`0x${i}`)} : undefined;
}

/** The line with the wall time of its events' stamps, from the boot time (ms) and their seconds since boot. */
export function withWall(line: ParsedLine, bootMs: number): ParsedLine {
	return mapEvents(line, e => {
		if ((e.type !== 'kernel-hop' && e.type !== 'kernel-log') || !e.time || e.time.mono === undefined || e.time.wall !== undefined) return e;
		const time: Stamp = {...e.time, wall: Math.round((bootMs + e.time.mono * 1000) * 1000) / 1000};
		return {...e, time};
	});
}

/** Reads a state file; undefined when there is none yet. A file that is not a state is a usage error. */
export function loadState(path: string): AgentState | undefined {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw new UsageError(`--state ${path}: ${(error as Error).message}`);
	}
	let s: AgentState;
	try {
		s = JSON.parse(text) as AgentState;
	} catch {
		throw new UsageError(`--state ${path} is not a tracewatch state file (not JSON); move it away to start afresh`);
	}
	if (s?.tracewatch !== 1 || typeof s.id !== 'number' || typeof s.emitted !== 'number' || typeof s.line !== 'number' || !Array.isArray(s.told)) throw new UsageError(`--state ${path} is not a tracewatch state file; move it away to start afresh`);
	return s;
}

/**
 * Keeps the agent's place: each line's position as it is read, and the state file, written after
 * each batch of records (and at the end).
 */
export class StateKeeper {
	/** Positions of the lines from the oldest one a restart may need on: [line number, position]. */
	private readonly positions: Array<readonly [number, Position | undefined]> = [];
	private after: Position | null;
	private afterLine: number;
	private emitted: number;
	private warned = false;
	/** A line whose place cannot be told came where a restart would read on: no state can be kept. */
	private placeless = false;

	constructor(
		private readonly path: string,
		private readonly input: string,
		private readonly node: string | undefined,
		start: {readonly after: Position | null; readonly line: number; readonly emitted: number},
		private readonly warn: (text: string) => void,
	) {
		this.after = start.after;
		this.afterLine = start.line;
		this.emitted = start.emitted;
	}

	/** A line was read: its number and position (and, for a source's first line, the place before it). */
	read(line: number, pos: Position | undefined, before?: Position): void {
		// No line done yet: a restart reads on from where this run began, not from the source's start.
		if (this.after === null && before !== undefined && this.positions.length === 0 && line === this.afterLine + 1) this.after = before;
		this.positions.push([line, pos]);
	}

	/** The source found where it begins (AgentInput.begun): with no line done yet, a restart reads on from there. */
	begin(pos: Position | undefined): void {
		if (this.after === null && pos !== undefined && this.positions.length === 0) this.after = pos;
	}

	/** A packet was written. */
	wrote(id: number): void {
		if (id > this.emitted) this.emitted = id;
	}

	/** Lines kept for a save to come (bounded by the settle window: a save drops what is done). */
	get held(): number {
		return this.positions.length;
	}

	/** Writes the state as it is now: after the records it describes were written. */
	save(model: Pipeline | undefined): void {
		if (!model) {
			if (!this.warned) this.warn(`tracewatch: --state ${this.path}: lines of several hosts came in one input; no state is kept (give --node NAME)`);
			this.warned = true;
			return;
		}
		const point = model.resumePoint();
		const last = this.positions.at(-1)?.[0] ?? this.afterLine;
		// The line before the oldest packet still learning facts (or the last line read): done with.
		const doneLine = (point.line ?? last + 1) - 1;
		let i = 0;
		while (i < this.positions.length && this.positions[i]![0] <= doneLine) i++;
		if (i > 0) {
			const [line, pos] = this.positions[i - 1]!;
			this.positions.splice(0, i);
			if (pos === undefined) this.placeless = true;
			else {
				this.after = pos;
				this.afterLine = line;
			}
		}
		if (this.placeless) {
			if (!this.warned) this.warn(`tracewatch: --state ${this.path}: ${this.input}'s lines do not say where they are (journalctl -o json, --follow FILE and --follow /dev/kmsg do); no state is kept`);
			this.warned = true;
			return;
		}
		const state: AgentState = {tracewatch: 1, input: this.input, ...(this.node ? {node: this.node} : {}), after: this.after, line: this.afterLine, id: point.id, emitted: this.emitted, told: model.handedOn().filter(t => t.id <= this.emitted)};
		const tmp = `${this.path}.tmp`;
		try {
			writeFileSync(tmp, `${JSON.stringify(state)}\n`);
			renameSync(tmp, this.path);
			this.failing = undefined;
		} catch (error) {
			// A full disk: the agent goes on, says so once, and says when the state is saved again.
			const why = (error as Error).message;
			if (this.failing !== why) this.warn(`tracewatch: --state ${this.path} cannot be written (${why}): a restart now would write records again`);
			this.failing = why;
		}
	}

	/** Why the last save failed, until one succeeds. */
	private failing: string | undefined;

	/** Throws a usage error when the state file cannot be written (its directory missing or read-only). */
	static checkWritable(path: string): void {
		const tmp = `${path}.tmp`;
		try {
			writeFileSync(tmp, '');
			unlinkSync(tmp);
		} catch (error) {
			throw new UsageError(`--state ${path} cannot be written: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
		}
	}
}

/** The lines as text, for readers of byte streams (the interactive view). */
export function asText(input: AgentInput): Readable {
	const text = new Readable({
		read() {
			input.lines.resume();
		},
		destroy(error, callback) {
			input.stop();
			callback(error);
		},
	});
	input.lines.on('data', (l: SourceLine) => {
		if (!text.push(`${l.text}\n`)) input.lines.pause();
	});
	input.lines.on('end', () => text.push(null));
	input.lines.on('error', error => text.destroy(error));
	return text;
}

/** The Resume a loaded state gives the pipeline (src/model/pipeline.ts). */
export function resumeOf(state: AgentState): Resume {
	return {firstId: state.id, linesBefore: state.line, emitted: state.emitted, views: state.told};
}

/** What comes after a restart that cannot read on where the state says (a new boot, another file): new ids after the last written. */
export function freshAfter(state: AgentState): Resume {
	return {firstId: state.emitted + 1, linesBefore: state.line, emitted: state.emitted, views: []};
}

/**
 * A listener that passes on what the pipeline emits, except what a restarted agent wrote before:
 * every event up to the first packet after `emitted` (revisions come right after the packet that
 * revealed them, so those of packets written before came with them).
 */
export function unwritten(emitted: number, listener: (e: PipelineEvent) => void, wrote: () => void): (e: PipelineEvent) => void {
	let passing = emitted === 0;
	return e => {
		if (e.type === 'packet' || e.type === 'revised') {
			if (!passing && e.type === 'packet' && e.packet.id > emitted) passing = true;
			if (!passing) return;
			wrote();
		}
		listener(e);
	};
}
