/**
 * Scroll position of the chain graph.
 *
 * Input:  state {top: 0}, action {type:'scroll', by: 10, max: 4}
 * Output: {top: 4}
 */
import {useReducer} from 'react';
import {clamp} from './scroll.js';

export interface GraphState {
	/** First graph line shown. */
	readonly top: number;
}

export type GraphAction =
	| {readonly type: 'scroll'; readonly by: number; readonly max: number}
	| {readonly type: 'home'}
	| {readonly type: 'end'; readonly max: number}
	| {readonly type: 'to'; readonly top: number; readonly max: number};

export const initialGraph: GraphState = {top: 0};

export function graphReducer(state: GraphState, action: GraphAction): GraphState {
	switch (action.type) {
		case 'scroll': {
			const top = clamp(state.top + action.by, 0, Math.max(0, action.max));
			return top === state.top ? state : {top};
		}
		case 'home':
			return state.top === 0 ? state : {top: 0};
		case 'end':
			return {top: Math.max(0, action.max)};
		case 'to': {
			const top = clamp(action.top, 0, Math.max(0, action.max));
			return top === state.top ? state : {top};
		}
	}
}

export function useChainGraphState() {
	return useReducer(graphReducer, initialGraph);
}
