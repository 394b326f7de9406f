/**
 * The view state reducers: pure, so each transition is checked without rendering.
 */
import {describe, expect, it} from 'vitest';
import {appReducer, initialApp} from '../../src/ui/tui/use-app-state.js';
import {graphReducer} from '../../src/ui/tui/use-chain-graph-state.js';
import {activeFilterText, filterReducer, initialFilter} from '../../src/ui/tui/use-filter-state.js';
import {findingsReducer} from '../../src/ui/tui/use-findings-state.js';
import {detailReducer, hopIndex, initialDetail} from '../../src/ui/tui/use-packet-detail-state.js';
import {cursorIndex, initialSelection, selectionReducer} from '../../src/ui/tui/use-packet-list-state.js';
import {windowStart} from '../../src/ui/tui/scroll.js';

describe('packet selection', () => {
	const ids = [3, 4, 7, 9];
	it('follows the newest packet until the user moves', () => {
		expect(cursorIndex(initialSelection, ids)).toBe(3);
		expect(cursorIndex(initialSelection, [...ids, 12])).toBe(4);
		const up = selectionReducer(initialSelection, {type: 'move', by: -1, ids});
		expect(up).toEqual({selectedId: 7, following: false});
		// New packets arrive: the selected one stays selected.
		expect(cursorIndex(up, [...ids, 12, 13])).toBe(2);
		expect(selectionReducer(up, {type: 'last', ids})).toEqual({selectedId: 9, following: true});
	});
	it('keeps its place when the selected packet is filtered out or leaves the --keep window', () => {
		const at = {selectedId: 5, following: false};
		expect(cursorIndex(at, ids)).toBe(2);
		expect(cursorIndex({selectedId: 1, following: false}, ids)).toBe(0);
		expect(cursorIndex({selectedId: 99, following: false}, ids)).toBe(3);
		expect(cursorIndex(at, [])).toBe(-1);
	});
	it('moves by rows and pages, clamped', () => {
		const top = selectionReducer(initialSelection, {type: 'first', ids});
		expect(top).toEqual({selectedId: 3, following: false});
		expect(selectionReducer(top, {type: 'move', by: -1, ids})).toBe(top);
		expect(selectionReducer(top, {type: 'move', by: 10, ids})).toEqual({selectedId: 9, following: false});
		expect(selectionReducer(top, {type: 'select', id: 7})).toEqual({selectedId: 7, following: false});
	});
	it('pauses and resumes following', () => {
		const paused = selectionReducer(initialSelection, {type: 'toggleFollow', ids});
		expect(paused).toEqual({selectedId: 9, following: false});
		expect(selectionReducer(paused, {type: 'toggleFollow', ids}).following).toBe(true);
	});
});

describe('scrolling', () => {
	it('moves the window just enough to show the cursor', () => {
		expect(windowStart(0, 5, 10, 50)).toBe(0);
		expect(windowStart(0, 30, 10, 50)).toBe(21);
		expect(windowStart(21, 25, 10, 50)).toBe(21);
		expect(windowStart(21, 3, 10, 50)).toBe(3);
		expect(windowStart(40, 45, 10, 12)).toBe(2);
		expect(windowStart(7, 2, 10, 5)).toBe(0);
	});
});

describe('detail hop cursor', () => {
	it('belongs to one packet', () => {
		const s = detailReducer(initialDetail, {type: 'move', by: 2, packetId: 4, count: 7});
		expect(hopIndex(s, 4, 7)).toBe(2);
		expect(hopIndex(s, 5, 7)).toBe(0);
		expect(hopIndex(detailReducer(s, {type: 'last', packetId: 4, count: 7}), 4, 7)).toBe(6);
		expect(hopIndex(detailReducer(s, {type: 'move', by: 99, packetId: 4, count: 7}), 4, 7)).toBe(6);
		expect(hopIndex(detailReducer(s, {type: 'first', packetId: 4}), 4, 7)).toBe(0);
	});
});

describe('graph scroll and findings cursor', () => {
	it('clamp', () => {
		expect(graphReducer({top: 0}, {type: 'scroll', by: 10, max: 4})).toEqual({top: 4});
		expect(graphReducer({top: 4}, {type: 'scroll', by: -10, max: 4})).toEqual({top: 0});
		expect(graphReducer({top: 2}, {type: 'to', top: 9, max: 5})).toEqual({top: 5});
		expect(findingsReducer({cursor: 0}, {type: 'move', by: 5, count: 3})).toEqual({cursor: 2});
		expect(findingsReducer({cursor: 2}, {type: 'first'})).toEqual({cursor: 0});
	});
});

describe('filter typing', () => {
	it('shows the draft while typing, keeps the applied filter on Esc', () => {
		let s = filterReducer(initialFilter, {type: 'set', text: 'udp'});
		s = filterReducer(s, {type: 'open'});
		expect(s).toEqual({applied: 'udp', draft: 'udp', editing: true});
		s = filterReducer(s, {type: 'type', text: ' 99'});
		s = filterReducer(s, {type: 'backspace'});
		expect(activeFilterText(s)).toBe('udp 9');
		expect(filterReducer(s, {type: 'cancel'})).toEqual({applied: 'udp', draft: '', editing: false});
		expect(filterReducer(s, {type: 'submit'})).toEqual({applied: 'udp 9', draft: '', editing: false});
		expect(filterReducer(s, {type: 'deleteWord'}).draft).toBe('udp ');
		expect(filterReducer(s, {type: 'clearDraft'}).draft).toBe('');
		expect(filterReducer(s, {type: 'clear'})).toEqual(initialFilter);
	});
});

describe('views', () => {
	it('Tab cycles, Esc goes back, help closes first', () => {
		const next = appReducer(initialApp, {type: 'next'});
		expect(next.view).toBe('detail');
		expect(appReducer(initialApp, {type: 'previous'}).view).toBe('findings');
		const help = appReducer(next, {type: 'toggleHelp'});
		expect(appReducer(help, {type: 'back'})).toEqual({...next, help: false});
		expect(appReducer(next, {type: 'back'}).view).toBe('packets');
		const marked = appReducer(initialApp, {type: 'mark', chains: ['filter:X'], view: 'graph', notice: 'n'});
		expect(appReducer(marked, {type: 'back'})).toEqual({...initialApp});
	});
});
