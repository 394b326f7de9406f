/**
 * Key names shared by the views (k9s-like): what counts as down, up, first, last, page.
 *
 * Input:  ('j', key) / ('', {downArrow: true}) / ('', {pageDown: true}) / ('f', {ctrl: true})
 * Output: 'down' / 'down' / 'pageDown' / 'pageDown'
 */
import {useEffect, useMemo, useRef} from 'react';
import {useInput, type Key} from 'ink';

export type Motion = 'down' | 'up' | 'first' | 'last' | 'pageDown' | 'pageUp';

export function motionOf(input: string, key: Key): Motion | undefined {
	if (key.ctrl) {
		if (input === 'f' || input === 'd') return 'pageDown';
		if (input === 'b' || input === 'u') return 'pageUp';
		if (input === 'n') return 'down';
		if (input === 'p') return 'up';
		return undefined;
	}
	if (key.downArrow || input === 'j') return 'down';
	if (key.upArrow || input === 'k') return 'up';
	if (key.home || input === 'g') return 'first';
	if (key.end || input === 'G') return 'last';
	if (key.pageDown) return 'pageDown';
	if (key.pageUp) return 'pageUp';
	return undefined;
}

const NO_KEY: Key = {
	upArrow: false,
	downArrow: false,
	leftArrow: false,
	rightArrow: false,
	pageDown: false,
	pageUp: false,
	home: false,
	end: false,
	return: false,
	escape: false,
	ctrl: false,
	shift: false,
	tab: false,
	backspace: false,
	delete: false,
	meta: false,
	super: false,
	hyper: false,
	capsLock: false,
	numLock: false,
};

/**
 * Ink hands over keys that arrived in one read as one string (`jjj` while a key repeats,
 * `kk\r` from a fast typist or a terminal multiplexer); this splits such a string back into
 * single keys, so none is lost. Special keys (arrows, Esc, …) come alone and pass through.
 *
 * Input:  ('kk\r', plain key)
 * Output: [['k', …], ['k', …], ['', {return: true, …}]]
 */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
	const chars = [...input];
	if (chars.length <= 1 || key.ctrl || key.meta || key.escape) return [[input, key]];
	return chars.map((c): [string, Key] => {
		if (c === '\r' || c === '\n') return ['', {...NO_KEY, return: true}];
		if (c === '\t') return ['', {...NO_KEY, tab: true}];
		if (c === '\u007F' || c === '\b') return ['', {...NO_KEY, backspace: true}];
		return [c, {...NO_KEY, shift: /[A-Z]/.test(c)}];
	});
}

/** A view's key handler and whether it has the keys now (refs: read when a key arrives, set on render). */
interface Route {
	readonly handler: {current: (input: string, key: Key) => void};
	readonly active: {current: boolean};
}

/** Where the views' key hooks register. One per App. */
export interface KeyRouter {
	add(route: Route): () => void;
}

/**
 * The one `useInput` of the App: it stays subscribed for the whole session, so raw mode never
 * flips off and on when the focus moves (which would let the terminal echo a key typed in
 * between, or hold it in its line buffer), and hands every key to the views whose hooks are
 * active at that moment. A view's activity is read from a ref set while rendering, so a key
 * typed right after `/` already goes to the filter, before React has run any effect.
 */
export function useKeyRouter(enabled: boolean): KeyRouter {
	const routes = useRef(new Set<Route>()).current;
	const router = useMemo<KeyRouter>(
		() => ({
			add(route) {
				routes.add(route);
				return () => {
					routes.delete(route);
				};
			},
		}),
		[routes],
	);
	// Keys that came together are handed over one per turn of the event loop, so React renders
	// (and the focus moves) between them: `/udp` in one read types "udp" into the filter.
	const queue = useRef<Array<[string, Key]>>([]).current;
	const draining = useRef(false);
	const mounted = useRef(true);
	useEffect(
		() => () => {
			mounted.current = false;
		},
		[],
	);
	const deliver = ([input, key]: [string, Key]) => {
		// Decide who gets the key before any handler runs: a handler may move the focus.
		const targets = [...routes].filter(r => r.active.current);
		for (const r of targets) r.handler.current(input, key);
	};
	const drain = () => {
		const next = queue.shift();
		if (!next || !mounted.current) {
			draining.current = false;
			queue.length = 0;
			return;
		}
		deliver(next);
		setImmediate(drain);
	};
	useInput(
		(input, key) => {
			const keys = splitKeys(input, key);
			if (!draining.current && keys.length === 1) return deliver(keys[0]!);
			queue.push(...keys);
			if (!draining.current) {
				draining.current = true;
				drain();
			}
		},
		{isActive: enabled},
	);
	return router;
}

/**
 * A view's keys: `handler` gets every key while `isActive` (only the focused view and the
 * global keys are active, so one key acts once).
 */
export function useViewInput(router: KeyRouter, handler: (input: string, key: Key) => void, isActive: boolean): void {
	const route = useRef<Route>({handler: {current: handler}, active: {current: isActive}}).current;
	route.handler.current = handler;
	route.active.current = isActive;
	useEffect(() => router.add(route), [router, route]);
}
