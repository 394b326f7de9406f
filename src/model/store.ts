/**
 * A batching store over a TraceSession, for views that re-render (the TUI).
 *
 * Input:  parsed lines, pushed as fast as they arrive (`push`), and `end()` when input ends.
 * Output: immutable snapshots (`getSnapshot`) that change at most every `batchMs` milliseconds,
 *         and `subscribe(listener)`, the pair React's useSyncExternalStore expects.
 *
 * Rendering per line is far too slow for a live stream; the store collects lines and publishes
 * one snapshot per batch. No React or Ink here.
 */
import type {ParsedLine} from '../parser/types.js';
import type {Finding} from './findings/types.js';
import type {Graph} from './graph.js';
import type {InputInfo, TraceSession, UnparsedLine} from './session.js';
import type {Packet} from './types.js';

export interface Snapshot {
	/** Completed packets, oldest first (at most the session's `keep`). */
	readonly packets: readonly Packet[];
	/** Packets completed since the start, including those no longer kept. */
	readonly completed: number;
	/** Packets dropped from `packets` to stay within `keep`. */
	readonly dropped: number;
	/** Packets still being assembled. */
	readonly open: number;
	readonly inputs: readonly InputInfo[];
	readonly linesRead: number;
	readonly unparsedCount: number;
	readonly unparsed: readonly UnparsedLine[];
	readonly graph: Graph;
	/** Findings so far (trace and rule lint), as the findings module produces them. */
	readonly findings: readonly Finding[];
	/** Lines per second over the last few seconds. */
	readonly rate: number;
	/** Bytes read and total bytes, when the input is a file of known size (progress). */
	readonly bytesRead?: number;
	readonly bytesTotal?: number;
	/** Input has ended. */
	readonly ended: boolean;
	/** Increases with every published snapshot. */
	readonly version: number;
}

export interface StoreOptions {
	/** Publish at most this often. Default 100 ms. */
	readonly batchMs?: number;
	/** Complete packets whose lines stopped coming this long ago (live input). Default 50 ms. */
	readonly idleMs?: number;
	/** Findings for the packets so far (`ended`: the input has ended); called when a snapshot is built. */
	readonly findings?: (session: TraceSession, ended: boolean) => readonly Finding[];
	/** Clock, for tests. */
	readonly now?: () => number;
}

export class TraceStore {
	private readonly session: TraceSession;
	private readonly listeners = new Set<() => void>();
	private snapshot: Snapshot;
	private dirty = false;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private readonly batchMs: number;
	private readonly idleMs: number;
	private readonly now: () => number;
	private lastLineAt = 0;
	private linesRead = 0;
	private ended = false;
	private version = 0;
	private readonly rateWindow: Array<[number, number]> = [];
	private bytes: {read: number; total?: number} = {read: 0};
	private readonly findingsOf: ((session: TraceSession, ended: boolean) => readonly Finding[]) | undefined;
	private idleTimer: ReturnType<typeof setInterval> | undefined;
	private findingsCache: readonly Finding[] = [];
	private findingsAt = Number.NEGATIVE_INFINITY;

	constructor(session: TraceSession, options: StoreOptions = {}) {
		this.session = session;
		this.batchMs = options.batchMs ?? 100;
		this.idleMs = options.idleMs ?? 50;
		this.now = options.now ?? Date.now;
		this.findingsOf = options.findings;
		this.snapshot = this.build();
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	readonly getSnapshot = (): Snapshot => this.snapshot;

	/** Feeds one parsed line. */
	push(line: ParsedLine): void {
		this.session.ingest(line);
		this.linesRead++;
		this.lastLineAt = this.now();
		this.schedule();
	}

	/** Reports read progress of a file input. */
	progress(read: number, total?: number): void {
		this.bytes = total === undefined ? {read} : {read, total};
		this.schedule();
	}

	/** Live input: completes packets whose lines stopped coming. Call from a timer. */
	tick(): void {
		if (this.session.open > 0 && this.now() - this.lastLineAt >= this.idleMs) {
			if (this.session.quiet().length > 0) this.schedule();
		}
	}

	/** Starts a timer that calls tick(); stopped by end() or stop(). */
	startIdleTimer(): void {
		this.idleTimer ??= setInterval(() => this.tick(), Math.max(10, Math.floor(this.idleMs / 2)));
		this.idleTimer.unref?.();
	}

	end(): void {
		this.session.end();
		this.ended = true;
		this.stop();
		this.publish();
	}

	stop(): void {
		if (this.idleTimer) clearInterval(this.idleTimer);
		this.idleTimer = undefined;
	}

	/** Publishes now (tests, end of input). */
	flush(): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		this.publish();
	}

	private schedule(): void {
		this.dirty = true;
		if (this.timer) return;
		this.timer = setTimeout(() => {
			this.timer = undefined;
			if (this.dirty) this.publish();
		}, this.batchMs);
		this.timer.unref?.();
	}

	private publish(): void {
		this.dirty = false;
		this.snapshot = this.build();
		for (const l of this.listeners) l();
	}

	/** Findings look at every packet: worked out at most once a second, and at the end. */
	private currentFindings(now: number): readonly Finding[] {
		if (!this.findingsOf) return [];
		if (this.ended || now - this.findingsAt >= 1000) {
			this.findingsCache = this.findingsOf(this.session, this.ended);
			this.findingsAt = now;
		}
		return this.findingsCache;
	}

	private build(): Snapshot {
		const t = this.now();
		this.rateWindow.push([t, this.linesRead]);
		while (this.rateWindow.length > 2 && t - this.rateWindow[0]![0] > 3000) this.rateWindow.shift();
		const [t0, n0] = this.rateWindow[0]!;
		const rate = t > t0 ? ((this.linesRead - n0) * 1000) / (t - t0) : 0;
		const s = this.session;
		return Object.freeze({
			packets: [...s.packets],
			completed: s.completed,
			dropped: s.dropped,
			open: s.open,
			inputs: s.inputs.map(i => ({...i})),
			linesRead: this.linesRead,
			unparsedCount: s.unparsedCount,
			unparsed: [...s.unparsed],
			graph: s.graph(),
			findings: this.currentFindings(t),
			rate,
			...(this.bytes.read ? {bytesRead: this.bytes.read} : {}),
			...(this.bytes.total !== undefined ? {bytesTotal: this.bytes.total} : {}),
			ended: this.ended,
			version: ++this.version,
		});
	}
}
