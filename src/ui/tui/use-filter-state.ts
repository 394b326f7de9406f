/**
 * The packet filter: the one applied to the list, and the one being typed after `/`.
 * While typing, the list already shows what the draft matches; Esc puts the applied one back.
 *
 * Input:  {applied:'', draft:'tc', editing:true} + {type:'type', text:'p'}
 * Output: {applied:'', draft:'tcp', editing:true}
 */
import {useReducer} from 'react';

export interface FilterState {
	readonly applied: string;
	readonly draft: string;
	readonly editing: boolean;
}

export type FilterAction =
	| {readonly type: 'open'}
	| {readonly type: 'type'; readonly text: string}
	| {readonly type: 'backspace'}
	| {readonly type: 'deleteWord'}
	| {readonly type: 'clearDraft'}
	| {readonly type: 'submit'}
	| {readonly type: 'cancel'}
	/** Sets the applied filter directly (a finding's packets). */
	| {readonly type: 'set'; readonly text: string}
	| {readonly type: 'clear'};

export const initialFilter: FilterState = {applied: '', draft: '', editing: false};

/** The filter the list uses now: the draft while typing. */
export function activeFilterText(s: FilterState): string {
	return s.editing ? s.draft : s.applied;
}

export function filterReducer(state: FilterState, action: FilterAction): FilterState {
	switch (action.type) {
		case 'open':
			return {applied: state.applied, draft: state.applied, editing: true};
		case 'type':
			return {...state, draft: state.draft + action.text.replace(/[\r\n\t]/g, ' ')};
		case 'backspace':
			return {...state, draft: [...state.draft].slice(0, -1).join('')};
		case 'deleteWord':
			return {...state, draft: state.draft.replace(/\S*\s*$/, '')};
		case 'clearDraft':
			return {...state, draft: ''};
		case 'submit':
			return {applied: state.draft.trim(), draft: '', editing: false};
		case 'cancel':
			return {applied: state.applied, draft: '', editing: false};
		case 'set':
			return {applied: action.text, draft: '', editing: false};
		case 'clear':
			return state.applied === '' && !state.editing ? state : initialFilter;
	}
}

export function useFilterState() {
	return useReducer(filterReducer, initialFilter);
}
