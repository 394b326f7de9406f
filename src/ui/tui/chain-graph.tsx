/**
 * The chain graph view: every table:chain the packets went through, hooks left to right, user
 * chains under the chain that jumped to them, packet counts on the edges; the selected packet's
 * path drawn in the path tone and marked `●`; counts are packets.
 */
import type {ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Packet} from '../../model/types.js';
import {fitTuple} from './format.js';
import type {GraphLayout} from './graph-layout.js';
import {Line} from './line.js';
import {clamp} from './scroll.js';
import {fitSegs} from './styled.js';

export interface ChainGraphProps {
	/** The laid-out graph (layoutGraph). */
	readonly layout: GraphLayout;
	/** The packet whose path is highlighted. */
	readonly packet: Packet | undefined;
	/** First graph line to show. */
	readonly top: number;
	/** Lines this view may use. */
	readonly height: number;
	/** Terminal columns. */
	readonly width: number;
}

/** Lines above the graph itself. */
export const GRAPH_HEADER_LINES = 1;

export function ChainGraph({layout, packet, top, height, width}: ChainGraphProps) {
	const rows = Math.max(1, height - GRAPH_HEADER_LINES);
	const start = clamp(top, 0, Math.max(0, layout.lines.length - rows));
	const scroll = layout.lines.length > rows ? ` · lines ${start + 1}-${Math.min(layout.lines.length, start + rows)}/${layout.lines.length}` : '';
	const lines: ReactNode[] = [];
	lines.push(
		<Text key="title" wrap="truncate-end">
			{packet ? (
				<>
					<Text dimColor>● path of </Text>
					<Text bold>{packet.node ? `${packet.node} ` : ''}#{packet.id}</Text> {packet.proto} {fitTuple(packet, 60)}
					{packet.node ? <Text dimColor>{` · ${packet.node}'s chains`}</Text> : null}
					<Text dimColor>{`${scroll} · [ ] other packet`}</Text>
				</>
			) : (
				<Text dimColor>{`no packet selected${scroll}`}</Text>
			)}
		</Text>,
	);
	if (layout.lines.length === 0) lines.push(<Text key="empty" dimColor> no chains yet: the graph grows as packets complete</Text>);
	layout.lines.slice(start, start + rows).forEach((l, i) => lines.push(<Line key={start + i} segs={fitSegs(l, width)} />));
	while (lines.length < height) lines.push(<Text key={`pad${lines.length}`}> </Text>);
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			{lines}
		</Box>
	);
}
