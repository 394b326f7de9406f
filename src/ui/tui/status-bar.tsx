/**
 * The status bar: lines read, packets (open, dropped from the --keep window), unparsed lines,
 * the rate, following or paused, read progress or end of input, the filter, and `? help`. Parts
 * that do not fit are left out, least important first.
 *
 * Output: ` lines 72 · packets 10 · unparsed 0 · ▶ following · ended · ? help `
 */
import {Text} from 'ink';
import type {Snapshot} from '../../model/store.js';
import {cell, shortCount, width as cells} from './format.js';
import {useTheme} from './theme.js';

export interface StatusBarProps {
	/** The store's latest snapshot: counts, rate, progress, end of input. */
	readonly snapshot: Snapshot;
	/** Terminal columns. */
	readonly width: number;
	/** The list follows the newest packet. */
	readonly following: boolean;
	/** Rows below the cursor while paused (new packets waiting). */
	readonly below: number;
	/** The applied filter (empty: none). */
	readonly filter: string;
	/** Packets the filter lets through. */
	readonly shown: number;
	/** Why there are no keys, when there are none (e.g. `no terminal`). */
	readonly noKeys?: string;
}

interface Part {
	/** What is shown. */
	readonly text: string;
	/** Lower goes first when space is short. */
	readonly priority: number;
}

/** The parts of the status line, in display order. */
export function statusParts(p: Omit<StatusBarProps, 'width'>): Part[] {
	const s = p.snapshot;
	const parts: Part[] = [];
	parts.push({text: `lines ${shortCount(s.linesRead)}`, priority: 6});
	const extra = [s.open > 0 ? `${s.open} open` : '', s.dropped > 0 ? `${shortCount(s.dropped)} older dropped` : ''].filter(Boolean).join(', ');
	parts.push({text: `packets ${shortCount(s.completed)}${extra ? ` (${extra})` : ''}`, priority: 9});
	parts.push({text: `unparsed ${shortCount(s.unparsedCount)}`, priority: s.unparsedCount > 0 ? 7 : 2});
	if (!s.ended) parts.push({text: `${shortCount(s.rate)} lines/s`, priority: 5});
	parts.push({text: p.following ? '▶ following' : `❚❚ paused${p.below > 0 ? ` (${p.below} below)` : ''}`, priority: 8});
	if (s.bytesTotal !== undefined && s.bytesTotal > 0 && !s.ended) {
		const pct = Math.min(100, Math.floor(((s.bytesRead ?? 0) / s.bytesTotal) * 100));
		const bar = Math.round(pct / 10);
		parts.push({text: `reading ${pct}% [${'#'.repeat(bar)}${'.'.repeat(10 - bar)}]`, priority: 8});
	} else if (s.ended) parts.push({text: 'ended', priority: 5});
	if (p.filter) parts.push({text: `filter "${p.filter}" ${p.shown}/${s.packets.length}`, priority: 9});
	if (p.noKeys) parts.push({text: `no keys: ${p.noKeys}`, priority: 10});
	else parts.push({text: '? help', priority: 3});
	return parts;
}

/** The status line fitted to `width`: drops the least important parts until it fits. */
export function statusText(p: Omit<StatusBarProps, 'width'>, width: number): string {
	const parts = statusParts(p);
	const join = (list: Part[]) => ` ${list.map(x => x.text).join(' · ')} `;
	let list = parts;
	while (list.length > 1 && cells(join(list)) > width) {
		const lowest = Math.min(...list.map(x => x.priority));
		const i = list.findIndex(x => x.priority === lowest);
		list = [...list.slice(0, i), ...list.slice(i + 1)];
	}
	return cell(join(list), width);
}

export function StatusBar(props: StatusBarProps) {
	const theme = useTheme();
	return (
		<Text wrap="truncate-end" {...theme.status()}>
			{statusText(props, props.width)}
		</Text>
	);
}
