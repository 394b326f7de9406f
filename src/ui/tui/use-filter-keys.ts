/**
 * Keys while typing a filter: printable text is typed, Backspace deletes a character, Ctrl-W a
 * word, Ctrl-U everything, Enter applies, Esc cancels. Every other key is swallowed, so typing
 * `q` or `j` does not quit or move.
 *
 * Registered with the App's key router (keys.ts), active only while `isActive`.
 */
import {useViewInput, type KeyRouter} from './keys.js';
import type {Dispatch} from 'react';
import type {FilterAction} from './use-filter-state.js';

export interface FilterKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	/** True while the filter line is open. */
	readonly isActive: boolean;
	readonly dispatch: Dispatch<FilterAction>;
}

export function useFilterKeys({router, isActive, dispatch}: FilterKeysOptions): void {
	useViewInput(router, (input, key) => {
		if (key.return) dispatch({type: 'submit'});
		else if (key.escape) dispatch({type: 'cancel'});
		else if (key.backspace || key.delete) dispatch({type: 'backspace'});
		else if (key.ctrl && input === 'u') dispatch({type: 'clearDraft'});
		else if (key.ctrl && input === 'w') dispatch({type: 'deleteWord'});
		else if (!key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && input && /^[\x20-\x7e\u00a0-\uffff]+$/.test(input)) {
			dispatch({type: 'type', text: input});
		}
	}, isActive);
}
