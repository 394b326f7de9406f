/**
 * Keys that work in every view: q quits, ? opens or closes the help, Tab / Shift-Tab and 1-4
 * switch views, / opens the filter, Esc goes back (help → view → packet list → no filter); in the
 * help, j/k, PgUp/PgDn, g/G scroll it.
 * Ctrl-C quits through Ink's exitOnCtrlC.
 *
 * Registered with the App's key router (keys.ts), active only while `isActive`.
 */
import {motionOf, useViewInput, type KeyRouter, type Motion} from './keys.js';
import type {View} from './use-app-state.js';

export interface AppKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	readonly isActive: boolean;
	/** The help is open: only ?, Esc and q act. */
	readonly help: boolean;
	readonly onQuit: () => void;
	readonly onHelp: () => void;
	readonly onView: (view: View) => void;
	readonly onNext: (by: 1 | -1) => void;
	readonly onFilter: () => void;
	readonly onBack: () => void;
	/** A motion key while the help is open. */
	readonly onHelpScroll?: (motion: Motion) => void;
}

const DIGITS: Record<string, View> = {'1': 'packets', '2': 'detail', '3': 'graph', '4': 'findings'};

export function useAppKeys({router, isActive, help, onQuit, onHelp, onView, onNext, onFilter, onBack, onHelpScroll}: AppKeysOptions): void {
	useViewInput(router, (input, key) => {
		if (input === 'q' && !key.ctrl) return onQuit();
		if (input === '?') return onHelp();
		if (key.escape) return onBack();
		if (help) {
			const motion = motionOf(input, key);
			if (motion) onHelpScroll?.(motion);
			return;
		}
		if (key.tab) return onNext(key.shift ? -1 : 1);
		if (input === '/') return onFilter();
		const view = DIGITS[input];
		if (view) onView(view);
	}, isActive);
}
