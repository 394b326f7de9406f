/**
 * Which view is on screen, the help, and what a finding asked to show.
 *
 * Input:  {view:'packets', help:false, marked:[]} + {type:'next'}
 * Output: {view:'detail', help:false, marked:[]}
 */
import {useReducer} from 'react';

export type View = 'packets' | 'detail' | 'graph' | 'findings';

/** Tab order. */
export const VIEWS: readonly View[] = ['packets', 'detail', 'graph', 'findings'];

export interface AppState {
	readonly view: View;
	readonly help: boolean;
	/** `table:chain` ids a finding pointed at, marked in the graph. */
	readonly marked: readonly string[];
	/** A one-line message (e.g. what Enter on a finding did); cleared by the next view change. */
	readonly notice: string;
	/** First line of the help shown (it scrolls on a short terminal). */
	readonly helpTop?: number;
}

export type AppAction =
	| {readonly type: 'show'; readonly view: View; readonly notice?: string}
	| {readonly type: 'next'}
	| {readonly type: 'previous'}
	| {readonly type: 'back'}
	| {readonly type: 'toggleHelp'}
	| {readonly type: 'closeHelp'}
	| {readonly type: 'mark'; readonly chains: readonly string[]; readonly view: View; readonly notice?: string}
	| {readonly type: 'notice'; readonly text: string}
	| {readonly type: 'scrollHelp'; readonly by: number; readonly max: number};

export const initialApp: AppState = {view: 'packets', help: false, marked: [], notice: ''};

export function appReducer(state: AppState, action: AppAction): AppState {
	switch (action.type) {
		case 'show':
			return {...state, view: action.view, help: false, notice: action.notice ?? ''};
		case 'next':
		case 'previous': {
			const i = VIEWS.indexOf(state.view);
			const n = VIEWS.length;
			return {...state, view: VIEWS[(i + (action.type === 'next' ? 1 : n - 1)) % n]!, help: false, notice: ''};
		}
		case 'back':
			if (state.help) return {...state, help: false};
			if (state.view === 'packets') return state.notice === '' ? state : {...state, notice: ''};
			return {...state, view: 'packets', marked: [], notice: ''};
		case 'toggleHelp':
			// The help opens at its top.
			return {...state, help: !state.help, ...(state.helpTop ? {helpTop: 0} : {})};
		case 'scrollHelp': {
			const top = Math.max(0, Math.min(action.max, (state.helpTop ?? 0) + action.by));
			return top === (state.helpTop ?? 0) ? state : {...state, helpTop: top};
		}
		case 'closeHelp':
			return state.help ? {...state, help: false} : state;
		case 'mark':
			return {...state, marked: action.chains, view: action.view, help: false, notice: action.notice ?? ''};
		case 'notice':
			return {...state, notice: action.text};
	}
}

export function useAppState() {
	return useReducer(appReducer, initialApp);
}
