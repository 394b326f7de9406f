/**
 * Keys of the packet list: j/k ↓/↑, g/G Home/End, PgUp/PgDn (Ctrl-B/F), f or Space to follow
 * or pause, Enter to open the selected packet.
 *
 * Registered with the App's key router (keys.ts), active only while this view has the focus.
 */
import type {Dispatch} from 'react';
import {motionOf, useViewInput, type KeyRouter} from './keys.js';
import type {SelectionAction} from './use-packet-list-state.js';

export interface PacketListKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	/** Only the focused view reacts. */
	readonly isActive: boolean;
	/** Ids of the rows, in order. */
	readonly ids: readonly number[];
	/** Rows per page. */
	readonly pageSize: number;
	readonly dispatch: Dispatch<SelectionAction>;
	/** Enter on a packet. */
	readonly onOpen: () => void;
}

export function usePacketListKeys({router, isActive, ids, pageSize, dispatch, onOpen}: PacketListKeysOptions): void {
	useViewInput(router, (input, key) => {
		const motion = motionOf(input, key);
		if (motion === 'down') dispatch({type: 'move', by: 1, ids});
		else if (motion === 'up') dispatch({type: 'move', by: -1, ids});
		else if (motion === 'pageDown') dispatch({type: 'move', by: Math.max(1, pageSize - 1), ids});
		else if (motion === 'pageUp') dispatch({type: 'move', by: -Math.max(1, pageSize - 1), ids});
		else if (motion === 'first') dispatch({type: 'first', ids});
		else if (motion === 'last') dispatch({type: 'last', ids});
		else if (input === 'f' || input === ' ') dispatch({type: 'toggleFollow', ids});
		else if (key.return && ids.length > 0) onOpen();
	}, isActive);
}
