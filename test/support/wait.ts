/**
 * Waiting in tests without the wall clock: wait for the thing itself (a frame's text, a line of
 * output, a process's exit), bounded by a deadline that only decides when to give up and say
 * what was seen. Nothing here sleeps a fixed time: a test is as fast as the code under it.
 *
 * Input:  a check (`() => frame.includes('ended')`) or an event source (a child's output)
 * Output: the check's value as soon as it holds, or an Error naming what was awaited and showing
 *         the last state (frame, screen, output)
 */
import type {ChildProcess} from 'node:child_process';
import {EventEmitter} from 'node:events';

export interface Deadline {
	/** What is awaited, for the error: `the detail view`, `/tracing ICMP/ on stderr`. */
	readonly what: string;
	/** Give up after this long. @default 30_000 */
	readonly timeoutMs?: number;
	/** The last state, for the error (the frame, the screen, the output so far). */
	readonly show?: () => string;
}

/** The error a deadline throws: what was awaited, how long, and what was there instead. */
export function timedOut(o: Deadline, timeoutMs: number, extra = ''): Error {
	const shown = o.show?.();
	return new Error(`timed out after ${timeoutMs} ms waiting for ${o.what}${extra}${shown === undefined ? '' : `; last seen:\n${shown}`}`);
}

const turn = () => new Promise<void>(resolve => setImmediate(resolve));

/**
 * Checks on every turn of the event loop (after the I/O, timers and immediates queued before it)
 * until `check` returns a truthy value, and returns it. For state that changes in this process
 * (an Ink frame, a store); output of other processes is awaited with `OutputWatch` instead.
 */
export async function until<T>(check: () => T, o: Deadline): Promise<NonNullable<T>> {
	const timeoutMs = o.timeoutMs ?? 30_000;
	const end = performance.now() + timeoutMs;
	for (;;) {
		const v = check();
		if (v) return v as NonNullable<T>;
		if (performance.now() > end) throw timedOut(o, timeoutMs);
		await turn();
	}
}

/** `promise`, or an error after `timeoutMs` naming what it was (the deadline of an event). */
export function within<T>(promise: Promise<T>, o: Deadline): Promise<T> {
	const timeoutMs = o.timeoutMs ?? 30_000;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(timedOut(o, timeoutMs)), timeoutMs);
	});
	return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A child's stdout and stderr as they arrive, and waits on them: each wait is checked when
 * output arrives (never by polling), fails at once when the child exits without it, and after
 * its deadline otherwise, showing the output so far.
 */
export class OutputWatch {
	private out = '';
	private err = '';
	private readonly changed = new EventEmitter();
	private exit: {code: number | null; signal: NodeJS.Signals | null} | undefined;
	/** Resolves when the child has exited and its output is closed. */
	readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;

	constructor(readonly child: ChildProcess) {
		this.changed.setMaxListeners(Infinity);
		child.stdout?.setEncoding('utf8').on('data', (s: string) => {
			this.out += s;
			this.changed.emit('change');
		});
		child.stderr?.setEncoding('utf8').on('data', (s: string) => {
			this.err += s;
			this.changed.emit('change');
		});
		this.exited = new Promise(resolve => {
			child.on('error', error => {
				this.err += `\n${error.message}`;
			});
			child.on('close', (code, signal) => {
				this.exit = {code, signal};
				this.changed.emit('change');
				resolve(this.exit);
			});
		});
	}

	stdout(): string {
		return this.out;
	}

	stderr(): string {
		return this.err;
	}

	/** The output so far, for error messages (the end of each stream). */
	show(): string {
		return `stdout: ${this.out.slice(-1500)}\nstderr: ${this.err.slice(-1500)}`;
	}

	/**
	 * Waits until `check(stdout, stderr)` holds. A RegExp is looked for in stdout and stderr
	 * (or only in `where`). No clock at all: it ends when the output comes or the process exits
	 * without it, and the test's own timeout bounds the rest (a slow, loaded machine then waits
	 * longer instead of failing).
	 */
	waitFor(test: RegExp | ((stdout: string, stderr: string) => boolean), o: {what?: string; where?: 'stdout' | 'stderr'} = {}): Promise<void> {
		const check =
			typeof test === 'function'
				? () => test(this.out, this.err)
				: () => test.test(o.where === 'stdout' ? this.out : o.where === 'stderr' ? this.err : `${this.out}\n${this.err}`);
		const what = o.what ?? (typeof test === 'function' ? 'the expected output' : `${test}${o.where ? ` on ${o.where}` : ''}`);
		return new Promise<void>((resolve, reject) => {
			const done = (error?: Error) => {
				this.changed.off('change', onChange);
				if (error) reject(error);
				else resolve();
			};
			const onChange = () => {
				if (check()) done();
				else if (this.exit) done(new Error(`the process exited (${this.exit.signal ?? `code ${this.exit.code}`}) before ${what}\n${this.show()}`));
			};
			this.changed.on('change', onChange);
			onChange();
		});
	}
}

/** The complete NDJSON records in a child's output so far: a last line still being written (or cut by a signal) is not a record. */
export function completeRecords(stdout: string): Array<Record<string, unknown>> {
	return stdout
		.split('\n')
		.slice(0, -1)
		.filter(Boolean)
		.map(l => JSON.parse(l) as Record<string, unknown>);
}
