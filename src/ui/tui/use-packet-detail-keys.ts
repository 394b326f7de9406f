/**
 * Keys of the detail view: j/k move between hops, g/G first/last hop, PgUp/PgDn, [ and ] the
 * previous / next packet (in the list's order and filter), e the dump's prediction beside the trace;
 * for a packet that crossed between nodes, o the same packet at the other node, w the outer
 * packet that carried it, r the reply's way back (or the request's way there).
 *
 * Registered with the App's key router (keys.ts), active only while this view has the focus.
 */
import type {Dispatch} from 'react';
import {motionOf, useViewInput, type KeyRouter} from './keys.js';
import type {DetailAction} from './use-packet-detail-state.js';

export interface PacketDetailKeysOptions {
	/** The App's key router (useKeyRouter). */
	readonly router: KeyRouter;
	readonly isActive: boolean;
	/** The packet shown, and its number of hops. */
	readonly packetId: number | undefined;
	readonly hops: number;
	readonly pageSize: number;
	readonly dispatch: Dispatch<DetailAction>;
	/** `[` / `]`: another packet. */
	readonly onPacket: (by: -1 | 1) => void;
	/** `o` / `w` / `r`: along the packet's way between nodes. */
	readonly onJump?: (to: 'other' | 'outer' | 'back') => void;
}

export function usePacketDetailKeys({router, isActive, packetId, hops, pageSize, dispatch, onPacket, onJump}: PacketDetailKeysOptions): void {
	useViewInput(router, (input, key) => {
		if (onJump && (input === 'o' || input === 'w' || input === 'r')) return onJump(input === 'o' ? 'other' : input === 'w' ? 'outer' : 'back');
		if (input === '[' || input === 'p' || key.leftArrow) return onPacket(-1);
		if (input === ']' || input === 'n' || key.rightArrow) return onPacket(1);
		if (input === 'e') return dispatch({type: 'toggleExplain'});
		if (packetId === undefined) return;
		const motion = motionOf(input, key);
		if (motion === 'down') dispatch({type: 'move', by: 1, packetId, count: hops});
		else if (motion === 'up') dispatch({type: 'move', by: -1, packetId, count: hops});
		else if (motion === 'pageDown') dispatch({type: 'move', by: Math.max(1, pageSize - 1), packetId, count: hops});
		else if (motion === 'pageUp') dispatch({type: 'move', by: -Math.max(1, pageSize - 1), packetId, count: hops});
		else if (motion === 'first') dispatch({type: 'first', packetId});
		else if (motion === 'last') dispatch({type: 'last', packetId, count: hops});
	}, isActive);
}
