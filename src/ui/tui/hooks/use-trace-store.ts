/**
 * The one hook over the model's store: React re-renders when the store publishes a snapshot
 * (at most every batch, ~100 ms), never per line.
 *
 * Input:  a TraceStore (or anything with subscribe/getSnapshot, e.g. a fixed snapshot in tests)
 * Output: the current Snapshot
 */
import {useSyncExternalStore} from 'react';
import type {Snapshot} from '../../../model/store.js';

/** What the view reads: TraceStore has this shape. */
export interface SnapshotSource {
	/** Calls `listener` after each published snapshot; returns the unsubscribe function. */
	readonly subscribe: (listener: () => void) => () => void;
	/** The latest snapshot; the same object until the next publish. */
	readonly getSnapshot: () => Snapshot;
}

export function useTraceStore(source: SnapshotSource): Snapshot {
	return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot);
}

/** A source that never changes: for tests and for showing a finished session. */
export function fixedSource(snapshot: Snapshot): SnapshotSource {
	return {subscribe: () => () => {}, getSnapshot: () => snapshot};
}
