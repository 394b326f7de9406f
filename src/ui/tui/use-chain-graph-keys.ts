/**
 * Keys of the chain graph: j/k scroll a line, PgUp/PgDn a page, g/G top/bottom, [ and ] the
 * previous / next packet (whose path is highlighted).
 *
 * Registered with the App's key router (keys.ts), active only while this view has the focus.
 */
import type {Dispatch} from 'react';
import {motionOf, useViewInput, type KeyRouter} from './keys.js';
import type {GraphAction} from './use-chain-graph-state.js';

export interface ChainGraphKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	readonly isActive: boolean;
	/** Highest first line (lines − rows). */
	readonly max: number;
	readonly pageSize: number;
	readonly dispatch: Dispatch<GraphAction>;
	readonly onPacket: (by: -1 | 1) => void;
}

export function useChainGraphKeys({router, isActive, max, pageSize, dispatch, onPacket}: ChainGraphKeysOptions): void {
	useViewInput(router, (input, key) => {
		if (input === '[' || input === 'p' || key.leftArrow) return onPacket(-1);
		if (input === ']' || input === 'n' || key.rightArrow) return onPacket(1);
		const motion = motionOf(input, key);
		if (motion === 'down') dispatch({type: 'scroll', by: 1, max});
		else if (motion === 'up') dispatch({type: 'scroll', by: -1, max});
		else if (motion === 'pageDown') dispatch({type: 'scroll', by: Math.max(1, pageSize - 1), max});
		else if (motion === 'pageUp') dispatch({type: 'scroll', by: -Math.max(1, pageSize - 1), max});
		else if (motion === 'first') dispatch({type: 'home'});
		else if (motion === 'last') dispatch({type: 'end', max});
	}, isActive);
}
