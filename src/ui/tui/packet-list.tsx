/**
 * The packet list: one row per packet (id, time, proto, src → dst, final chain, verdict,
 * IN→OUT, NAT, reply ✓/✗), coloured by verdict, the cursor row inverse; under it, when there is
 * room, a preview of the selected packet (its tuple, path and final hop).
 *
 * Output (80 columns):
 *     # PROTO SRC → DST                    FINAL           VERDICT IN→OUT    NAT       R
 *    #1 TCP   198.18.10.2 → 198.18.30.10:80 nat:POSTROUTING ACCEPT  eth0→eth1 DNAT+MASQ ✓
 */
import {useRef, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {InputInfo} from '../../model/inputs.js';
import {isLogObservation, type Packet} from '../../model/types.js';
import {describeTuple, foldedPath, hopName, lineRange} from '../text.js';
import {fitColumns, headerText, rowText} from './packet-row.js';
import {windowStart} from './scroll.js';
import {useTheme, type Theme} from './theme.js';

export interface PacketListProps {
	/** The packets to list (already filtered), oldest first. */
	readonly packets: readonly Packet[];
	/** Row of the selected packet; -1 when there is none. */
	readonly cursor: number;
	/** Lines this view may use. */
	readonly height: number;
	/** Terminal columns. */
	readonly width: number;
	/** The list has the keys (the cursor row is inverse). @default true */
	readonly focused?: boolean;
	/** Shown when `packets` is empty. */
	readonly emptyText: string;
	/** The inputs, to name the file a packet's lines are in. */
	readonly inputs: readonly InputInfo[];
	/** Packets come from several nodes: a NODE column, and `node #id` in the preview. @default false */
	readonly nodes?: boolean;
}

/** Lines the preview takes under the list, for a body of `height` lines. */
export function previewHeight(height: number): number {
	return height >= 14 ? 4 : height >= 9 ? 2 : 0;
}

export function PacketList({packets, cursor, height, width, focused = true, emptyText, inputs, nodes = false}: PacketListProps) {
	const theme = useTheme();
	const top = useRef(0);
	const preview = previewHeight(height);
	const rows = Math.max(1, height - 1 - preview);
	top.current = windowStart(top.current, Math.max(0, cursor), rows, packets.length);
	const visible = packets.slice(top.current, top.current + rows);
	const columns = fitColumns(width - 1, visible, nodes);
	const selected = cursor >= 0 ? packets[cursor] : undefined;
	const lines: ReactNode[] = [];
	lines.push(
		<Text key="head" wrap="truncate-end" {...theme.heading()}>
			{' '}
			{headerText(columns)}
		</Text>,
	);
	if (packets.length === 0) {
		lines.push(
			<Text key="empty" wrap="truncate-end" dimColor>
				{' '}
				{emptyText}
			</Text>,
		);
	}
	visible.forEach((p, i) => {
		const isCursor = top.current + i === cursor;
		lines.push(
			<Text key={`${p.node ?? ''}#${p.id}`} wrap="truncate-end" {...theme.verdict(p.verdict)} {...(isCursor ? theme.selected(focused) : {})}>
				{isCursor ? '›' : ' '}
				{rowText(p, columns)}
			</Text>,
		);
	});
	while (lines.length < height - preview) lines.push(<Text key={`pad${lines.length}`}> </Text>);
	if (preview > 0) lines.push(...previewLines(selected, preview, width, inputs, theme));
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			{lines}
		</Box>
	);
}

function previewLines(p: Packet | undefined, n: number, width: number, inputs: readonly InputInfo[], theme: Theme): ReactNode[] {
	const out: ReactNode[] = [];
	if (n >= 4) out.push(<Text key="sep" dimColor>{'─'.repeat(Math.max(0, width))}</Text>);
	if (!p) {
		while (out.length < n) out.push(<Text key={`pv${out.length}`}> </Text>);
		return out;
	}
	const last = p.hops[p.hops.length - 1];
	if (n >= 4) {
		out.push(
			<Text key="pv-tuple" wrap="truncate-end">
				<Text bold>{p.node ? `${p.node} ` : ''}#{p.id}</Text> {describeTuple(p)} <Text dimColor>{lineRange(p, inputs)}</Text>
			</Text>,
		);
	}
	out.push(
		<Text key="pv-path" wrap="truncate-end">
			<Text dimColor>path </Text>
			{isLogObservation(p) ? `LOG "${p.hops[0]!.logPrefix ?? ''}"` : foldedPath(p).map(st => `${st.hook} ${st.text}`).join('  ▸ ')}
		</Text>,
	);
	out.push(
		<Text key="pv-final" wrap="truncate-end">
			<Text dimColor>final </Text>
			{last ? hopName(last) : '-'} → <Text {...theme.verdict(p.verdict)}>{p.verdict}</Text> <Text dimColor>({p.verdictBasis})</Text>
		</Text>,
	);
	while (out.length < n) out.push(<Text key={`pv${out.length}`}> </Text>);
	return out;
}
