/**
 * A batching store over a Pipeline, for views that re-render (the interactive view).
 *
 * Input:  parsed lines as fast as they arrive (`push`), `tick()` from a timer while input is live,
 *         and `end()` when input ends
 * Output: immutable snapshots (`getSnapshot`) that change at most every `batchMs` milliseconds,
 *         and `subscribe(listener)`, the pair React's useSyncExternalStore expects.
 *
 * The store keeps its own rows from the pipeline's events: a 'packet' adds a row, a 'revised'
 * replaces the row it names with a copy that has the fact applied, a 'settled' puts the final
 * packet in its place. Packets themselves never change, so a row the view holds stays as it was
 * drawn until the next snapshot. Rendering per line is far too slow for a live stream; the store
 * publishes one snapshot per batch. No React or Ink here.
 */
import type {ParsedLine} from '../parser/types.js';
import {sideBySide, type SideBySide} from './explain/side-by-side.js';
import {applyFacts} from './facts.js';
import type {Finding} from './findings/types.js';
import type {Graph} from './graph.js';
import type {InputInfo, UnparsedLine} from './inputs.js';
import {crossings, refKey, type Crossing} from './crossing.js';
import {Fleet, type Journey} from './fleet.js';
import type {Pipeline} from './pipeline.js';
import type {Packet} from './types.js';

/** What the store reads: one pipeline, or a fleet of them (several nodes, a central log). */
export type StoreModel = Pipeline | Fleet;

export interface Snapshot {
	/** Packets handed on, oldest first (at most `keep`), each in its latest state. */
	readonly packets: readonly Packet[];
	/** Packets handed on since the start, including those no longer kept. */
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
	/** Findings so far (from settled packets; at the end also why a trace is empty). */
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
	/** A packet beside the dump's prediction, as the model works it out (the detail view's `e`). */
	readonly explain?: (packet: Packet) => SideBySide;
	/** The nodes the packets come from, when they are named (several nodes, a central log): in the order they came. */
	readonly nodes?: readonly string[];
	/** Each node's chain graph, when there are several nodes (`graph` is then the first node's). */
	readonly graphs?: Readonly<Record<string, Graph>>;
	/** Packets' ways between nodes (at most `keep`, the most recent). */
	readonly journeys?: readonly Journey[];
	/** Where a packet stands on its way between nodes, if it crossed (src/model/crossing.ts). */
	readonly crossing?: (packet: Packet) => Crossing | undefined;
	/** A packet's place in arrival order (its row), unique across nodes; the packet id when absent. */
	readonly rowId?: (packet: Packet) => number;
}

export interface StoreOptions {
	/** Publish at most this often. Default 100 ms. */
	readonly batchMs?: number;
	/** Packets kept for the view (older ones are counted in `dropped`). Default 5000. */
	readonly keep?: number;
	/** Work out findings at most this often (they look at every flow). Default 1000 ms. */
	readonly findingsMs?: number;
	/** Unparsed lines kept for the view. Default 1000. */
	readonly keepUnparsed?: number;
	/** Clock, for tests. */
	readonly now?: () => number;
	/** Where findings come from. Default: the model's (views under test pass their own). */
	readonly findings?: (model: StoreModel) => readonly Finding[];
}

export class TraceStore {
	private readonly listeners = new Set<() => void>();
	private snapshot: Snapshot;
	private dirty = false;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private idleTimer: ReturnType<typeof setInterval> | undefined;
	private readonly batchMs: number;
	private readonly keep: number;
	private readonly findingsMs: number;
	private readonly keepUnparsed: number;
	private readonly now: () => number;
	/** The rows: packets in the order they came (each node's in id order), oldest first, and where each is, by node and id. */
	private rows: Packet[] = [];
	private readonly rowOf = new Map<string, Packet>();
	/** Each kept row's number in arrival order. */
	private readonly seqOf = new Map<string, number>();
	private seq = 0;
	/** Journeys by the packet that left, oldest first (at most `keep`). */
	private journeys = new Map<string, Journey>();
	private completed = 0;
	private dropped = 0;
	private readonly unparsed: UnparsedLine[] = [];
	private unparsedCount = 0;
	private linesRead = 0;
	private ended = false;
	private version = 0;
	private readonly rateWindow: Array<[number, number]> = [];
	private bytes: {read: number; total?: number} = {read: 0};
	private findingsCache: readonly Finding[] = [];
	private findingsAt = Number.NEGATIVE_INFINITY;
	private readonly findingsOf: (model: StoreModel) => readonly Finding[];

	constructor(
		readonly pipeline: StoreModel,
		options: StoreOptions = {},
	) {
		this.batchMs = options.batchMs ?? 100;
		this.keep = options.keep ?? 5000;
		this.findingsMs = options.findingsMs ?? 1000;
		this.keepUnparsed = options.keepUnparsed ?? 1000;
		this.now = options.now ?? Date.now;
		this.findingsOf = options.findings ?? (p => p.findings());
		pipeline.on(event => {
			switch (event.type) {
				case 'packet': {
					this.add(event.packet);
					break;
				}
				case 'revised': {
					const row = this.rowOf.get(refKey(event.fact.node, event.fact.id));
					if (row) this.replace(applyFacts(row, [event.fact]));
					break;
				}
				case 'settled': {
					if (this.rowOf.has(refKey(event.packet.node, event.packet.id))) this.replace(event.packet);
					break;
				}
				case 'journey': {
					this.addJourney(event.journey);
					break;
				}
				case 'unparsed': {
					this.unparsedCount = event.count;
					if (this.unparsed.length < this.keepUnparsed) this.unparsed.push(event.line);
					break;
				}
				case 'end': {
					this.ended = true;
					// The final ways: with those that never arrived (lost) and, for one node, the overlay's.
					const all = 'journeys' in event.summary ? (event.summary as {journeys: readonly Journey[]}).journeys : [];
					if (all.length > 0) {
						this.journeys = new Map();
						for (const j of all) this.addJourney(j);
					}
					break;
				}
				default: {
					break;
				}
			}
			if (event.type !== 'progress') this.schedule();
		});
		this.snapshot = this.build();
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	readonly getSnapshot = (): Snapshot => this.snapshot;

	/** Feeds one parsed line. */
	push(line: ParsedLine): void {
		this.pipeline.push(line);
		this.linesRead++;
		this.schedule();
	}

	/** Counts a line read that is not a trace line (an agent's record, read back into the model directly). */
	countLine(): void {
		this.linesRead++;
		this.schedule();
	}

	/** Reports read progress of a file input. */
	progress(read: number, total?: number): void {
		this.bytes = total === undefined ? {read} : {read, total};
		this.schedule();
	}

	/** Live input: lets the pipeline complete and settle packets whose lines stopped coming. */
	tick(): void {
		this.pipeline.tick(this.now());
	}

	/** Starts a timer that calls tick(); stopped by end() or stop(). */
	startIdleTimer(everyMs = 25): void {
		this.idleTimer ??= setInterval(() => this.tick(), everyMs);
		this.idleTimer.unref?.();
	}

	end(): void {
		this.pipeline.end();
		this.ended = true;
		this.stop();
		this.flush();
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

	private add(p: Packet): void {
		this.completed++;
		this.rows.push(p);
		const key = refKey(p.node, p.id);
		this.rowOf.set(key, p);
		this.seqOf.set(key, ++this.seq);
		if (this.rows.length > this.keep + Math.max(1, this.keep >> 4)) {
			// Drop the oldest in one go rather than one by one: shifting a long array per packet is quadratic.
			const cut = this.rows.length - this.keep;
			for (const old of this.rows.slice(0, cut)) {
				const k = refKey(old.node, old.id);
				this.rowOf.delete(k);
				this.seqOf.delete(k);
			}
			this.rows = this.rows.slice(cut);
			this.dropped += cut;
		}
	}

	private replace(p: Packet): void {
		const key = refKey(p.node, p.id);
		const old = this.rowOf.get(key);
		if (!old || old === p) return;
		const i = this.rows.lastIndexOf(old);
		if (i !== -1) this.rows[i] = p;
		this.rowOf.set(key, p);
	}

	/** A journey, new or revised (same packet that left); the oldest go beyond `keep`. */
	private addJourney(j: Journey): void {
		const key = refKey(j.from.node || undefined, j.from.id);
		this.journeys.delete(key);
		this.journeys.set(key, j);
		if (this.journeys.size > this.keep) this.journeys.delete(this.journeys.keys().next().value!);
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

	/** Findings look at every flow: worked out at most once per findingsMs, and at the end. */
	private currentFindings(now: number): readonly Finding[] {
		if (this.ended || now - this.findingsAt >= this.findingsMs) {
			this.findingsCache = this.findingsOf(this.pipeline);
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
		const kept = this.rows.length > this.keep ? this.rows.slice(this.rows.length - this.keep) : [...this.rows];
		const model = this.pipeline;
		const fleet = model instanceof Fleet ? model : undefined;
		const nodes = fleet?.nodeNames().filter(Boolean) ?? [];
		const journeys = [...this.journeys.values()];
		const rowOf = new Map(this.rowOf);
		const seqOf = new Map(this.seqOf);
		const graphs = nodes.length > 1 ? Object.fromEntries(nodes.map(n => [n, fleet!.graph(n)])) : undefined;
		return Object.freeze({
			packets: kept,
			completed: this.completed,
			dropped: this.dropped + (this.rows.length - kept.length),
			open: fleet ? fleet.pending() : (model as Pipeline).open,
			inputs: model.inputInfo(),
			linesRead: this.linesRead,
			unparsedCount: this.unparsedCount,
			unparsed: [...this.unparsed],
			graph: graphs ? graphs[nodes[0]!]! : model.graph(),
			...(graphs ? {graphs} : {}),
			...(nodes.length > 0 ? {nodes} : {}),
			...(journeys.length > 0 ? {journeys, crossing: crossings(journeys, (node, id) => rowOf.get(refKey(node, id)))} : {}),
			rowId: (p: Packet) => seqOf.get(refKey(p.node, p.id)) ?? p.id,
			findings: this.currentFindings(t),
			rate,
			...(this.bytes.read ? {bytesRead: this.bytes.read} : {}),
			...(this.bytes.total !== undefined ? {bytesTotal: this.bytes.total} : {}),
			ended: this.ended,
			version: ++this.version,
			explain: (p: Packet) =>
				fleet ? sideBySide(p, fleet.comparison(p.id, p.node), {rules: fleet.hasRules(p.node)}) : sideBySide(p, (model as Pipeline).comparison(p.id), {rules: !(model as Pipeline).index.empty}),
		});
	}
}
