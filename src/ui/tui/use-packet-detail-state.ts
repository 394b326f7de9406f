/**
 * The hop cursor of the detail view. It belongs to one packet: selecting another packet starts
 * again at its first hop.
 *
 * Input:  state {packetId: 4, hop: 2}, action {type:'move', by: 1, packetId: 4, count: 7}
 * Output: {packetId: 4, hop: 3}
 */
import {useReducer} from 'react';
import {clamp} from './scroll.js';

export interface DetailState {
	readonly packetId: number | null;
	/** Index into the packet's hops (into the rows of the prediction beside them while `explain`). */
	readonly hop: number;
	/** The dump's prediction is shown beside the trace (key `e`); it stays on from packet to packet. */
	readonly explain?: boolean;
}

export type DetailAction =
	| {readonly type: 'move'; readonly by: number; readonly packetId: number; readonly count: number}
	| {readonly type: 'first'; readonly packetId: number}
	| {readonly type: 'last'; readonly packetId: number; readonly count: number}
	| {readonly type: 'toggleExplain'};

export const initialDetail: DetailState = {packetId: null, hop: 0};

/** The selected hop of `packetId` (0 when the state is about another packet). */
export function hopIndex(state: DetailState, packetId: number, count: number): number {
	if (state.packetId !== packetId || count === 0) return 0;
	return clamp(state.hop, 0, count - 1);
}

export function detailReducer(state: DetailState, action: DetailAction): DetailState {
	switch (action.type) {
		case 'move': {
			const at = hopIndex(state, action.packetId, action.count);
			const hop = clamp(at + action.by, 0, Math.max(0, action.count - 1));
			return hop === state.hop && state.packetId === action.packetId ? state : {...state, packetId: action.packetId, hop};
		}
		case 'first':
			return {...state, packetId: action.packetId, hop: 0};
		case 'last':
			return {...state, packetId: action.packetId, hop: Math.max(0, action.count - 1)};
		case 'toggleExplain':
			return {...state, explain: !state.explain};
	}
}

export function usePacketDetailState() {
	return useReducer(detailReducer, initialDetail);
}
