/**
 * The one hook over the model's store: React re-renders when the store publishes a snapshot
 * (at most every batch, ~100 ms), never per line.
 *
 * Input:  a TraceStore (or anything with subscribe/getSnapshot, e.g. a fixed snapshot in tests)
 * Output: the current Snapshot
 */
import {useMemo, useSyncExternalStore} from 'react';
import type {Snapshot} from '../../../model/store.js';
import type {Packet} from '../../../model/types.js';
import {visible, visibleDeep} from '../../visible.js';

/** What the view reads: TraceStore has this shape. */
export interface SnapshotSource {
	/** Calls `listener` after each published snapshot; returns the unsubscribe function. */
	readonly subscribe: (listener: () => void) => () => void;
	/** The latest snapshot; the same object until the next publish. */
	readonly getSnapshot: () => Snapshot;
}

/**
 * The current snapshot, with every string read from input (rule text, comments, log prefixes,
 * chain and interface names, file names) made visible: the view never writes them to the
 * terminal raw. Packets are frozen, so each is done once.
 */
export function useTraceStore(source: SnapshotSource): Snapshot {
	const snapshot = useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot);
	return useMemo(() => visibleSnapshot(snapshot), [snapshot]);
}

/**
 * The snapshot made visible. Its lookups (a packet's row, its journey, its prediction) are the
 * model's, keyed by the packets' own strings (a node named by a hostile host name): they are
 * called with the packet as the model emitted it, and what they answer is made visible too.
 */
export function visibleSnapshot(snapshot: Snapshot): Snapshot {
	const safe = visibleDeep(snapshot);
	if (safe === snapshot) return snapshot;
	const raw = new Map<Packet, Packet>();
	snapshot.packets.forEach((p, i) => raw.set(safe.packets[i]!, p));
	const original = (p: Packet) => raw.get(p) ?? p;
	const {rowId, crossing, explain, graphs} = snapshot;
	return {
		...safe,
		...(rowId ? {rowId: (p: Packet) => rowId(original(p))} : {}),
		...(crossing ? {crossing: (p: Packet) => visibleDeep(crossing(original(p)))} : {}),
		...(explain ? {explain: (p: Packet) => explain(original(p))} : {}),
		...(graphs ? {graphs: Object.fromEntries(Object.entries(safe.graphs ?? graphs).map(([node, g]) => [visible(node), g]))} : {}),
	};
}

/** A source that never changes: for tests and for showing a finished session. */
export function fixedSource(snapshot: Snapshot): SnapshotSource {
	return {subscribe: () => () => {}, getSnapshot: () => snapshot};
}
