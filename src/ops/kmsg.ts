/**
 * Reading the kernel log device, /dev/kmsg (Documentation/ABI/testing/dev-kmsg): records for
 * `--follow /dev/kmsg` (readKmsg), and the new TRACE lines for `tracewatch live` (followKmsg).
 *
 * Input:  /dev/kmsg records, one per read: `4,8204,3080798255,-;TRACE: raw:PREROUTING:policy:2 IN=vb …\n`
 *         (continuation lines ` SUBSYSTEM=…` may follow inside the record)
 * Output: the records' first lines, which the trace grammar reads as they are.
 *
 * The device is opened non-blocking and polled every `pollMs` when it has nothing new (EAGAIN):
 * no worker thread stays blocked in read(), so stop() ends the stream at once.
 */
import {closeSync, constants, openSync, read, readFileSync} from 'node:fs';
import {Readable, Transform} from 'node:stream';

export interface KmsgFollower {
	/** Text: the kept records' first lines, one a line. */
	readonly stream: Readable;
	/** Records the kernel overwrote before they were read, so lost. */
	lost(): number;
	/** Ends the stream and closes the device. */
	stop(): void;
}

export interface KmsgOptions {
	readonly path?: string;
	/** Which records to pass on, by message text (after the `;`). Default: `TRACE:` lines. */
	readonly keep?: (message: string) => boolean;
	readonly pollMs?: number;
}

/** One record is at most about 8 KiB (PRINTKRB_RECORD_MAX plus the header); reads into a smaller buffer fail with EINVAL. */
const RECORD_MAX = 64 * 1024;

export function isTraceMessage(message: string): boolean {
	return message.startsWith('TRACE: ');
}

/**
 * The records logged from now on that pass `keep` (TRACE lines by default), as text: readKmsg
 * from the end of the buffer. Resolves once the records already in the buffer (old TRACE lines
 * of earlier runs) were read past, so that nothing logged after it resolves is missed. Rejects
 * with the open error (EACCES/EPERM without root or CAP_SYSLOG).
 */
export async function followKmsg(options: KmsgOptions = {}): Promise<KmsgFollower> {
	const keep = options.keep ?? isTraceMessage;
	const reader = readKmsg(options.path ?? '/dev/kmsg', {from: 'end', ...(options.pollMs !== undefined ? {pollMs: options.pollMs} : {})});
	const stream = new Transform({
		writableObjectMode: true,
		transform(record: KmsgRecord, _encoding, done) {
			const semi = record.line.indexOf(';');
			done(null, semi !== -1 && keep(record.line.slice(semi + 1)) ? `${record.line}\n` : undefined);
		},
	});
	reader.stream.on('error', error => stream.destroy(error));
	reader.stream.pipe(stream);
	await reader.caughtUp;
	return {stream, lost: reader.lost, stop: () => reader.stop()};
}

/** One record of the kernel's log device: `pri,seq,usec,flags[,…];message`, its continuation lines dropped. */
export interface KmsgRecord {
	/** The record's sequence number; undefined for a line that does not have the record form. */
	readonly seq?: number;
	/** The record's first line as the device gave it (the trace grammar reads its `pri,seq,usec,flags;` head). */
	readonly line: string;
}

export interface KmsgReaderOptions {
	/**
	 * Where to begin: `start` (the oldest record still in the buffer, as `dmesg -w` does), `end`
	 * (only records logged from now on), or after a record (a restart: records with a higher
	 * sequence number; those the kernel overwrote meanwhile are counted as lost).
	 */
	readonly from: 'start' | 'end' | {readonly after: number};
	/** Told each time records were lost: overwritten by the kernel before they were read. */
	readonly onLost?: (count: number, firstSeq: number) => void;
	readonly pollMs?: number;
}

export interface KmsgReader {
	/** Object mode: KmsgRecord, in order. */
	readonly stream: Readable;
	/** Records lost so far (sequence numbers skipped). */
	lost(): number;
	/** Resolves once every record the buffer held when it was opened was read (handed on, or read past with `end`). */
	readonly caughtUp: Promise<void>;
	/** The sequence number of the last record read (handed on or read past), if any. */
	lastSeq(): number | undefined;
	stop(): void;
}

/**
 * Reads a kernel log record device (Documentation/ABI/testing/dev-kmsg) as records, for
 * `--follow /dev/kmsg`. One read returns one record; a read that fails with EPIPE says the kernel
 * overwrote records before they were read, and the next read returns the oldest one left: how
 * many were lost is the gap in sequence numbers. Opened non-blocking and polled (EAGAIN: nothing
 * new), so stop() ends it at once. The reading is by lines, so a FIFO or a file holding records
 * (several per read) is read the same way; at their end (a read of 0 bytes) it waits for more.
 *
 * Throws the open error (EACCES/EPERM: kernel.dmesg_restrict and no CAP_SYSLOG).
 */
export function readKmsg(path: string, options: KmsgReaderOptions): KmsgReader {
	const pollMs = options.pollMs ?? 50;
	const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
	const buf = Buffer.alloc(RECORD_MAX);
	let tail = '';
	let lastSeq: number | undefined;
	let lost = 0;
	let stopped = false;
	let closed = false;
	let timer: NodeJS.Timeout | undefined;
	let reading = false;
	/** Stopped because the reader of the stream is full: its next read() starts reading again (one read at a time). */
	let paused = true;
	// `end`: what the buffer holds now is read past before anything is handed on.
	let skipping = options.from === 'end';
	const after = typeof options.from === 'object' ? options.from.after : undefined;
	let caughtUp!: () => void;
	const backlogRead = new Promise<void>(resolve => {
		caughtUp = resolve;
	});

	const close = () => {
		if (closed) return;
		closed = true;
		try {
			closeSync(fd);
		} catch {
			// already closed
		}
	};
	const stream = new Readable({
		objectMode: true,
		highWaterMark: 256,
		read() {
			if (!paused) return;
			paused = false;
			pump();
		},
		destroy(error, callback) {
			stopped = true;
			if (timer) clearTimeout(timer);
			if (!reading) close();
			callback(error);
		},
	});

	/** Hands on the complete lines of `text`; returns false when the reader should wait. */
	const take = (text: string): boolean => {
		tail += text;
		let more = true;
		for (let nl = tail.indexOf('\n'); nl !== -1; nl = tail.indexOf('\n')) {
			const line = tail.slice(0, nl);
			tail = tail.slice(nl + 1);
			// Continuation lines (` SUBSYSTEM=net`, ` DEVICE=+net:eth0`) describe the record above.
			if (line === '' || line.startsWith(' ')) continue;
			const m = /^\d+,(\d+),/.exec(line);
			const seq = m ? Number(m[1]) : undefined;
			if (seq !== undefined) {
				if (after !== undefined && seq <= after && lastSeq === undefined) continue;
				const expected = lastSeq !== undefined ? lastSeq + 1 : after !== undefined ? after + 1 : undefined;
				if (expected !== undefined && seq > expected && !skipping) {
					lost += seq - expected;
					options.onLost?.(seq - expected, expected);
				}
				lastSeq = seq;
			}
			if (skipping) continue;
			if (!stream.push(seq !== undefined ? {seq, line} : {line})) more = false;
		}
		return more;
	};

	const pump = (): void => {
		timer = undefined;
		if (stopped) return;
		reading = true;
		read(fd, buf, 0, buf.length, null, (error, n) => {
			reading = false;
			if (stopped) {
				close();
				return;
			}
			if (error && error.code === 'EPIPE') {
				// Overwritten before being read: the next read returns the oldest record left, and the gap says how many.
				setImmediate(pump);
				return;
			}
			if (error && error.code !== 'EAGAIN') {
				stopped = true;
				close();
				stream.destroy(error);
				return;
			}
			if (error || n === 0) {
				// Nothing new: the backlog is behind us.
				skipping = false;
				caughtUp();
				timer = setTimeout(pump, pollMs);
				return;
			}
			if (take(buf.toString('utf8', 0, n))) setImmediate(pump);
			else paused = true;
		});
	};

	return {
		stream,
		lost: () => lost,
		caughtUp: backlogRead,
		lastSeq: () => lastSeq,
		stop() {
			if (stopped) return;
			stopped = true;
			caughtUp();
			if (timer) clearTimeout(timer);
			timer = undefined;
			if (!reading) close();
			stream.push(null);
		},
	};
}

/**
 * The wall-clock time the system booted, in milliseconds since the epoch, as far as the clocks
 * tell: now minus the monotonic clock (which /dev/kmsg's microseconds count, suspend aside).
 */
export function bootTimeMs(): number {
	return Date.now() - Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** The running kernel's boot id (a new one at each boot), or undefined where it cannot be read. */
export function bootId(): string | undefined {
	try {
		return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	} catch {
		return undefined;
	}
}
