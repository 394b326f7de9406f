/**
 * `--follow`: read a file to its end, then keep reading what is appended (like `tail -F`),
 * starting over when the file is truncated or replaced (log rotation).
 *
 * followLines hands on whole lines, each with where it ends in which file (the file's device and
 * inode, the byte offset after its newline): a restarted agent takes up from such a position
 * (src/cli/agent.ts).
 */
import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs';
import {Readable} from 'node:stream';

export interface FollowOptions {
	/** How often to look for new data, ms. Default 200. */
	readonly intervalMs?: number;
	readonly signal?: AbortSignal;
	/** Told when the file was replaced (rotated) or truncated, and reading starts over. */
	readonly onRestart?: (what: 'rotated' | 'truncated') => void;
	/** Where to begin in the file: a byte offset (the start of a line), or its end. Default 0. */
	readonly start?: number | 'end';
	/**
	 * Begin in this file instead (the followed file as it was before it was rotated: `kern.log.1`),
	 * at `start`, and go on to the followed file from its start once it is read to its end.
	 */
	readonly rotatedFrom?: string;
}

/** A file's identity: a rotated log is a new file under the old name. */
export interface FileId {
	readonly dev: number;
	readonly ino: number;
}

/** A line of a followed file: its text (no newline), the file, and the byte offsets where it starts and just after it. */
export interface FileLine {
	readonly text: string;
	readonly file: FileId;
	readonly start: number;
	readonly end: number;
}

/** Object mode: FileLine. A last line without its newline is held until the newline comes (or the file is rotated away). */
export function followLines(path: string, options: FollowOptions = {}): Readable & {readonly begins: {readonly file: FileId; readonly offset: number}} {
	const interval = options.intervalMs ?? 200;
	let fd = openSync(options.rotatedFrom ?? path, 'r');
	let st = fstatSync(fd);
	let file: FileId = {dev: st.dev, ino: st.ino};
	let offset = options.start === 'end' ? st.size : (options.start ?? 0);
	if (offset > st.size) offset = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const buffer = Buffer.allocUnsafe(1 << 16);
	/** Bytes read after the last newline: the start of a line still being written. */
	let partial: Buffer = Buffer.alloc(0);

	const stream = new Readable({
		objectMode: true,
		highWaterMark: 1024,
		read() {
			if (!timer && !pumping) pump();
		},
		destroy(error, callback) {
			if (timer) clearTimeout(timer);
			timer = undefined;
			try {
				closeSync(fd);
			} catch {
				// already closed
			}
			callback(error);
		},
	});

	/** Hands on the whole lines of `bytes` (read at `offset` - bytes.length); false when the reader is full. */
	function lines(bytes: Buffer): boolean {
		let data = partial.length > 0 ? Buffer.concat([partial, bytes]) : bytes;
		let base = offset - data.length;
		let more = true;
		for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a)) {
			const end = nl > 0 && data[nl - 1] === 0x0d ? nl - 1 : nl;
			const start = base;
			base += nl + 1;
			if (!stream.push({text: data.toString('utf8', 0, end), file, start, end: base} satisfies FileLine)) more = false;
			data = data.subarray(nl + 1);
		}
		partial = Buffer.from(data);
		return more;
	}

	function startOver(what: 'rotated' | 'truncated'): void {
		// A line the old file ended without its newline is still a line.
		if (partial.length > 0 && what === 'rotated') stream.push({text: partial.toString('utf8'), file, start: offset - partial.length, end: offset} satisfies FileLine);
		partial = Buffer.alloc(0);
		offset = 0;
		options.onRestart?.(what);
	}

	function reopenIfRotated(): void {
		try {
			const now = statSync(path);
			if (now.ino !== file.ino || now.dev !== file.dev) {
				closeSync(fd);
				fd = openSync(path, 'r');
				st = fstatSync(fd);
				startOver('rotated');
				file = {dev: st.dev, ino: st.ino};
			} else if (now.size < offset) startOver('truncated');
		} catch {
			// The file is gone for a moment during rotation: keep the old descriptor and try again.
		}
	}

	/** In pump (a push may ask for more at once: that is this loop's next turn). */
	let pumping = false;
	function pump(): void {
		timer = undefined;
		if (stream.destroyed) return;
		if (options.signal?.aborted) {
			stream.push(null);
			return;
		}
		pumping = true;
		try {
			for (;;) {
				const n = readSync(fd, buffer, 0, buffer.length, offset);
				if (n === 0) break;
				offset += n;
				if (!lines(buffer.subarray(0, n))) return;
			}
			reopenIfRotated();
		} finally {
			pumping = false;
		}
		timer = setTimeout(pump, interval);
	}

	options.signal?.addEventListener('abort', () => {
		if (timer) clearTimeout(timer);
		timer = undefined;
		if (!stream.destroyed) stream.push(null);
	});
	// Where it begins (its end with --from-end): a restarted agent reads on from there.
	return Object.assign(stream, {begins: {file, offset}});
}
