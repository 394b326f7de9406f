/**
 * A bounded map for the segment caches: at most `limit` entries, recently used ones kept.
 *
 * Input:  get('TTL=64 ') / set('TTL=64 ', value), millions of times, with keys that repeat a lot
 * Output: the value last set for the key while it is still held; memory never above `limit` entries
 *
 * Two generations of plain Maps: new entries and hits go to the young one; when it is full the
 * old one is dropped and the young one becomes old. That is an approximate LRU at the cost of a
 * Map lookup or two, with no per-entry bookkeeping.
 *
 * A cache whose keys do not repeat (the microsecond stamps of raw dmesg lines) would only churn
 * memory: when fewer than 1 in 16 lookups of the last 4096 hit, only 1 in 64 new keys is kept
 * until they start repeating again, and when none hit, the old generation is let go (a key that
 * holds a slice of its line holds the whole line: a thousand of them are a megabyte kept for
 * nothing, per cache).
 */
import type * as ohm from 'ohm-js';

export class SegmentCache<V> {
	private young = new Map<string, V>();
	private old = new Map<string, V>();
	private readonly half: number;
	hits = 0;
	misses = 0;
	private window = 0;
	private windowHits = 0;
	private admitAll = true;
	private skipped = 0;

	constructor(readonly limit: number) {
		this.half = Math.max(1, Math.floor(limit / 2));
	}

	get(key: string): V | undefined {
		if (++this.window === 4096) {
			this.admitAll = this.windowHits * 16 >= this.window;
			if (this.windowHits === 0 && this.old.size > 0) this.old = new Map();
			this.window = 0;
			this.windowHits = 0;
		}
		const v = this.young.get(key);
		if (v !== undefined) {
			this.hits++;
			this.windowHits++;
			return v;
		}
		const o = this.old.get(key);
		if (o !== undefined) {
			this.hits++;
			this.windowHits++;
			this.keep(key, o);
			return o;
		}
		this.misses++;
		return undefined;
	}

	/** Whether a new key would be kept now (callers skip the work of preparing one that would not). */
	get admitting(): boolean {
		return this.admitAll || (this.skipped & 63) === 0;
	}

	set(key: string, value: V): void {
		if (!this.admitAll && (this.skipped++ & 63) !== 0) return;
		this.keep(key, value);
	}

	private keep(key: string, value: V): void {
		this.young.set(key, value);
		if (this.young.size >= this.half) {
			this.old = this.young;
			this.young = new Map();
		}
	}

	get size(): number {
		return this.young.size + this.old.size;
	}

	clear(): void {
		this.young = new Map();
		this.old = new Map();
		this.hits = 0;
		this.misses = 0;
		this.window = 0;
		this.windowHits = 0;
		this.admitAll = true;
		this.skipped = 0;
	}
}

/**
 * A value fit to be kept in a cache: every string it holds copied (ownString) and everything
 * frozen. Values built from a line hold slices of it, and a slice keeps its whole line alive —
 * and the line the whole chunk it was read in (64 KB) — for as long as the cache keeps the
 * value. Parts already frozen were made keepable when they were cached.
 */
export function keepable<T>(value: T): T {
	if (typeof value === 'string') return ownString(value) as T;
	if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
	const o = value as Record<string, unknown>;
	for (const k of Object.keys(o)) o[k] = keepable(o[k]);
	return Object.freeze(value);
}

/** Freezes a value and everything it holds: cached results are shared by every line that repeats them. */
export function deepFreeze<T>(value: T): T {
	if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
	for (const v of Object.values(value as object)) deepFreeze(v);
	return Object.freeze(value);
}

/**
 * A copy of `s` that does not keep alive the (possibly much longer) string it was sliced from:
 * V8 represents a slice as a view of its parent, so a cached key or a kept excerpt sliced from
 * a line would otherwise hold the whole line, or the whole chunk it was read in.
 */
export function ownString(s: string): string {
	return ` ${s}`.slice(1);
}

/**
 * Ohm's match of a text as an edit of the text matched before it on the same matcher. Ohm's
 * incremental matcher keeps its memo of what the edit does not touch (replaceInputRange) and
 * matches the edited text with the grammar as a fresh match would: the same result, for a
 * fraction of the work when the two texts share most of their characters (a line's head whose
 * stamp changed; `-s 10.244.3.7/32` after `-s 10.244.3.6/32`). Callers keep one per kind of
 * text, so that what they match next resembles what was matched last.
 */
export class EditingMatcher {
	private readonly matcher: ohm.Matcher;
	private started = false;

	constructor(grammar: ohm.Grammar) {
		this.matcher = grammar.matcher();
	}

	match(text: string, rule: string): ohm.MatchResult {
		// The matcher's own input, not a copy: asking a failed result for its message makes Ohm re-set it.
		const old = this.matcher.getInput();
		if (!this.started) {
			this.started = true;
			this.matcher.setInput(text);
		} else {
			const limit = Math.min(old.length, text.length);
			let head = 0;
			while (head < limit && old.charCodeAt(head) === text.charCodeAt(head)) head++;
			let tail = 0;
			while (tail < limit - head && old.charCodeAt(old.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
			this.matcher.replaceInputRange(head, old.length - tail, text.slice(head, text.length - tail));
		}
		return this.matcher.match(rule);
	}
}
