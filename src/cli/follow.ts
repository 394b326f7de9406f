/**
 * `--follow`: read a file to its end, then keep reading what is appended (like `tail -F`),
 * starting over when the file is truncated or replaced (log rotation).
 */
import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs';
import {Readable} from 'node:stream';

export interface FollowOptions {
	/** How often to look for new data, ms. Default 200. */
	readonly intervalMs?: number;
	readonly signal?: AbortSignal;
	/** Told when the file was replaced (rotated) or truncated, and reading starts over. */
	readonly onRestart?: (what: 'rotated' | 'truncated') => void;
}

export function followFile(path: string, options: FollowOptions = {}): Readable {
	const interval = options.intervalMs ?? 200;
	let fd = openSync(path, 'r');
	let ino = fstatSync(fd).ino;
	let offset = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const buffer = Buffer.allocUnsafe(1 << 16);

	const stream = new Readable({
		read() {
			pump();
		},
		destroy(error, callback) {
			if (timer) clearTimeout(timer);
			try {
				closeSync(fd);
			} catch {
				// already closed
			}
			callback(error);
		},
	});

	function reopenIfRotated(): void {
		try {
			const st = statSync(path);
			if (st.ino !== ino) {
				closeSync(fd);
				fd = openSync(path, 'r');
				ino = st.ino;
				offset = 0;
				options.onRestart?.('rotated');
			} else if (st.size < offset) {
				offset = 0; // truncated in place
				options.onRestart?.('truncated');
			}
		} catch {
			// The file is gone for a moment during rotation: keep the old descriptor and try again.
		}
	}

	function pump(): void {
		if (stream.destroyed) return;
		if (options.signal?.aborted) {
			stream.push(null);
			return;
		}
		const n = readSync(fd, buffer, 0, buffer.length, offset);
		if (n > 0) {
			offset += n;
			stream.push(Buffer.from(buffer.subarray(0, n)));
			return;
		}
		reopenIfRotated();
		timer = setTimeout(pump, interval);
	}

	options.signal?.addEventListener('abort', () => {
		if (timer) clearTimeout(timer);
		if (!stream.destroyed) stream.push(null);
	});
	return stream;
}
