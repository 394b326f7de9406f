/**
 * Following the kernel log from /dev/kmsg, starting at its end: records already in the buffer
 * (old TRACE lines from earlier runs) are skipped, only new ones come out.
 *
 * Input:  /dev/kmsg records, one per read: `4,8204,3080798255,-;TRACE: raw:PREROUTING:policy:2 IN=vb …\n`
 *         (continuation lines ` SUBSYSTEM=…` may follow inside the record)
 * Output: a text stream of the records' first lines that pass `keep` (by default: TRACE lines),
 *         `4,8204,3080798255,-;TRACE: raw:PREROUTING:policy:2 IN=vb …\n`, which the trace grammar reads.
 *
 * The device is opened non-blocking: the backlog is read until EAGAIN (that is the "seek to the
 * end"), then new records are read as they come, polling every `pollMs` when there are none.
 * No worker thread stays blocked in read(), so stop() ends the stream at once.
 */
import {closeSync, constants, openSync, read, readSync} from 'node:fs';
import {PassThrough, type Readable} from 'node:stream';

export interface KmsgFollower {
	readonly stream: Readable;
	/** Records skipped at the start (the backlog). */
	readonly skipped: number;
	/** Records the kernel overwrote before they were read (EPIPE), so lost. */
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

/** Opens /dev/kmsg and skips its backlog. Throws the open error (EACCES/EPERM without root or CAP_SYSLOG). */
export function followKmsg(options: KmsgOptions = {}): KmsgFollower {
	const keep = options.keep ?? isTraceMessage;
	const pollMs = options.pollMs ?? 50;
	const fd = openSync(options.path ?? '/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
	const buf = Buffer.alloc(RECORD_MAX);
	let skipped = 0;
	let lost = 0;
	// Skip the backlog: read until EAGAIN. Bounded: the ring buffer holds at most a few MB.
	for (let i = 0; i < 1_000_000; i++) {
		try {
			readSync(fd, buf, 0, buf.length, null);
			skipped++;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'EAGAIN') break;
			if (code === 'EPIPE') continue;
			closeSync(fd);
			throw error;
		}
	}

	const stream = new PassThrough();
	let stopped = false;
	let reading = false;
	let timer: NodeJS.Timeout | undefined;
	let closed = false;
	const close = () => {
		if (!closed) {
			closed = true;
			try {
				closeSync(fd);
			} catch {
				// already closed
			}
		}
	};

	const pump = () => {
		timer = undefined;
		if (stopped) return;
		reading = true;
		read(fd, buf, 0, buf.length, null, (error, n) => {
			reading = false;
			if (stopped) {
				close();
				return;
			}
			if (error) {
				if (error.code === 'EAGAIN') {
					timer = setTimeout(pump, pollMs);
					return;
				}
				if (error.code === 'EPIPE') {
					lost++;
					setImmediate(pump);
					return;
				}
				stopped = true;
				close();
				stream.destroy(error);
				return;
			}
			const record = buf.toString('utf8', 0, n);
			const nl = record.indexOf('\n');
			const line = nl === -1 ? record : record.slice(0, nl);
			const semi = line.indexOf(';');
			if (semi !== -1 && keep(line.slice(semi + 1))) stream.write(`${line}\n`);
			setImmediate(pump);
		});
	};
	pump();

	return {
		stream,
		skipped,
		lost: () => lost,
		stop() {
			if (stopped) return;
			stopped = true;
			if (timer) clearTimeout(timer);
			if (!reading) close();
			stream.end();
		},
	};
}
