/**
 * The packet cursor, shared by the list, the detail and the graph: which packet is selected,
 * and whether the view follows the newest packet as input arrives.
 *
 * The cursor is a packet id, not a row number: packets arrive, old ones leave the --keep
 * window and the filter changes the rows, and the selected packet must stay selected.
 *
 * Input:  state {selectedId: null, following: true}, action {type:'move', by:-1, ids:[1,2,3]}
 * Output: {selectedId: 2, following: false}   (moving up stops following)
 */
import {useReducer} from 'react';

export interface SelectionState {
	/** The selected packet; null before the user moved (then the newest is selected while following). */
	readonly selectedId: number | null;
	/** Keep the newest packet selected as packets arrive. */
	readonly following: boolean;
}

export type SelectionAction =
	| {readonly type: 'move'; readonly by: number; readonly ids: readonly number[]}
	| {readonly type: 'first'; readonly ids: readonly number[]}
	| {readonly type: 'last'; readonly ids: readonly number[]}
	| {readonly type: 'select'; readonly id: number}
	| {readonly type: 'toggleFollow'; readonly ids: readonly number[]};

export const initialSelection: SelectionState = {selectedId: null, following: true};

/** Row of the selected packet among `ids` (sorted ascending); -1 when there are none. */
export function cursorIndex(state: SelectionState, ids: readonly number[]): number {
	if (ids.length === 0) return -1;
	if (state.following || state.selectedId === null) return ids.length - 1;
	// The first packet at or after the selected one: it stays put when it is filtered out or dropped.
	let lo = 0;
	let hi = ids.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (ids[mid]! < state.selectedId) lo = mid + 1;
		else hi = mid;
	}
	return Math.min(lo, ids.length - 1);
}

export function selectionReducer(state: SelectionState, action: SelectionAction): SelectionState {
	switch (action.type) {
		case 'move': {
			const {ids} = action;
			if (ids.length === 0 || action.by === 0) return state;
			const at = cursorIndex(state, ids);
			const to = Math.max(0, Math.min(ids.length - 1, at + action.by));
			if (to === at && !state.following) return state;
			return {selectedId: ids[to]!, following: false};
		}
		case 'first':
			return action.ids.length === 0 ? state : {selectedId: action.ids[0]!, following: false};
		case 'last':
			return {selectedId: action.ids[action.ids.length - 1] ?? state.selectedId, following: true};
		case 'select':
			return state.selectedId === action.id && !state.following ? state : {selectedId: action.id, following: false};
		case 'toggleFollow': {
			if (state.following) {
				const at = cursorIndex(state, action.ids);
				return {selectedId: at >= 0 ? action.ids[at]! : state.selectedId, following: false};
			}
			return {selectedId: state.selectedId, following: true};
		}
	}
}

export function usePacketListState() {
	return useReducer(selectionReducer, initialSelection);
}
