/**
 * Keys of the findings view: j/k, g/G, PgUp/PgDn, Enter to jump to what the finding is about.
 *
 * Registered with the App's key router (keys.ts), active only while this view has the focus.
 */
import type {Dispatch} from 'react';
import {motionOf, useViewInput, type KeyRouter} from './keys.js';
import type {FindingsAction} from './use-findings-state.js';

export interface FindingsKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	readonly isActive: boolean;
	readonly count: number;
	readonly pageSize: number;
	readonly dispatch: Dispatch<FindingsAction>;
	/** Enter on the selected finding. */
	readonly onOpen: () => void;
}

export function useFindingsKeys({router, isActive, count, pageSize, dispatch, onOpen}: FindingsKeysOptions): void {
	useViewInput(router, (input, key) => {
		const motion = motionOf(input, key);
		if (motion === 'down') dispatch({type: 'move', by: 1, count});
		else if (motion === 'up') dispatch({type: 'move', by: -1, count});
		else if (motion === 'pageDown') dispatch({type: 'move', by: Math.max(1, pageSize - 1), count});
		else if (motion === 'pageUp') dispatch({type: 'move', by: -Math.max(1, pageSize - 1), count});
		else if (motion === 'first') dispatch({type: 'first'});
		else if (motion === 'last') dispatch({type: 'last', count});
		else if (key.return && count > 0) onOpen();
	}, isActive);
}
