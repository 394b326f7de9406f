/**
 * The cursor of the findings list.
 *
 * Input:  state {cursor: 0}, action {type:'move', by: 1, count: 3}
 * Output: {cursor: 1}
 */
import {useReducer} from 'react';
import {clamp} from './scroll.js';

export interface FindingsState {
	readonly cursor: number;
}

export type FindingsAction =
	| {readonly type: 'move'; readonly by: number; readonly count: number}
	| {readonly type: 'first'}
	| {readonly type: 'last'; readonly count: number};

export const initialFindings: FindingsState = {cursor: 0};

export function findingsReducer(state: FindingsState, action: FindingsAction): FindingsState {
	switch (action.type) {
		case 'move': {
			const cursor = clamp(state.cursor + action.by, 0, Math.max(0, action.count - 1));
			return cursor === state.cursor ? state : {cursor};
		}
		case 'first':
			return state.cursor === 0 ? state : {cursor: 0};
		case 'last':
			return {cursor: Math.max(0, action.count - 1)};
	}
}

export function useFindingsState() {
	return useReducer(findingsReducer, initialFindings);
}
