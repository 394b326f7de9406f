/**
 * The one hook over the model's store: React re-renders when the store publishes a snapshot
 * (at most every batch, ~100 ms), never per line.
 *
 * Input:  a TraceStore (or anything with subscribe/getSnapshot, e.g. a fixed snapshot in tests)
 * Output: the current Snapshot
 */
import {useMemo, useSyncExternalStore} from 'react';
import type {Snapshot} from '../../../model/store.js';
import {visibleDeep} from '../../visible.js';

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
	return useMemo(() => visibleDeep(snapshot), [snapshot]);
}

/** A source that never changes: for tests and for showing a finished session. */
export function fixedSource(snapshot: Snapshot): SnapshotSource {
	return {subscribe: () => () => {}, getSnapshot: () => snapshot};
}
