/**
 * The findings view: trace findings and rule lint findings, one row each (severity, kind,
 * message), the selected one in full below: its hint, the packets and the rules concerned.
 * Enter jumps to the packets (as a filter) or, for rule-only findings, to their chains in the graph.
 * With several nodes each row names the node whose packets it lists (for dropped-at-peer the
 * node that dropped them, for lost-between-nodes the node they left).
 */
import {useRef, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Finding} from '../../model/findings/types.js';
import {cell, wrapText} from './format.js';
import {windowStart} from './scroll.js';
import {useTheme} from './theme.js';

export interface FindingsViewProps {
	/** The snapshot's findings (trace and rule lint), in the order found. */
	readonly findings: readonly Finding[];
	/** Row of the selected finding. */
	readonly cursor: number;
	/** Lines this view may use. */
	readonly height: number;
	/** Terminal columns. */
	readonly width: number;
	/** The list has the keys. @default true */
	readonly focused?: boolean;
}

const ICON: Record<Finding['severity'], string> = {error: '✖', warning: '▲', info: '●'};

export function FindingsView({findings, cursor, height, width, focused = true}: FindingsViewProps) {
	const theme = useTheme();
	const top = useRef(0);
	if (findings.length === 0) {
		return (
			<Box flexDirection="column" height={height}>
				<Text> no findings</Text>
				<Text dimColor> trace findings (no reply, dropped, asymmetric route, …) and rule lint findings appear here as they are found</Text>
			</Box>
		);
	}
	const selected = findings[Math.min(cursor, findings.length - 1)]!;
	const detail = findingDetail(selected, width);
	const listRows = Math.max(1, Math.min(findings.length, height - 1 - Math.min(detail.length, Math.floor(height / 2))));
	const detailRows = height - listRows - 1;
	top.current = windowStart(top.current, cursor, listRows, findings.length);
	const kindW = Math.min(22, Math.max(...findings.map(f => f.kind.length)));
	const nodeW = Math.min(16, Math.max(0, ...findings.map(f => f.node?.length ?? 0)));
	const lines: ReactNode[] = [];
	findings.slice(top.current, top.current + listRows).forEach((f, i) => {
		const at = top.current + i;
		const isCursor = at === cursor;
		lines.push(
			<Text key={`f${at}`} wrap="truncate-end" {...(isCursor ? theme.selected(focused) : {})}>
				{isCursor ? '›' : ' '}
				<Text {...theme.severity(f.severity)}>{`${ICON[f.severity]} ${cell(f.severity, 7)}`}</Text> {cell(f.kind, kindW)} {nodeW > 0 ? `${cell(f.node ?? '', nodeW)} ` : ''}{f.message}
			</Text>,
		);
	});
	lines.push(<Text key="sep" dimColor>{'─'.repeat(width)}</Text>);
	detail.slice(0, detailRows).forEach((d, i) =>
		lines.push(
			<Text key={`d${i}`} wrap="truncate-end" {...(d.tone === 'dim' ? {dimColor: true} : d.tone === 'bold' ? {bold: true} : {})}>
				{d.text}
			</Text>,
		),
	);
	while (lines.length < height) lines.push(<Text key={`pad${lines.length}`}> </Text>);
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			{lines}
		</Box>
	);
}

function findingDetail(f: Finding, width: number): Array<{text: string; tone: 'plain' | 'dim' | 'bold'}> {
	const out: Array<{text: string; tone: 'plain' | 'dim' | 'bold'}> = [];
	for (const l of wrapText(`${f.node ? `${f.node}: ` : ''}${f.message}`, width - 1, 4)) out.push({text: ` ${l}`, tone: 'bold'});
	for (const l of wrapText(`hint: ${f.hint}`, width - 1, 6)) out.push({text: ` ${l}`, tone: 'plain'});
	if (f.packets.length > 0) {
		const ids = f.packets.slice(0, 20).map(id => `#${id}`).join(' ');
		out.push({text: ` packets ${f.node ? `${f.node} ` : ''}${ids}${f.packets.length > 20 ? ` … ${f.packets.length - 20} more` : ''}   Enter: list them`, tone: 'plain'});
	}
	for (const r of f.rules.slice(0, 6)) {
		const where = `${r.file ?? ''}${r.line !== undefined ? `:${r.line}` : ''}`;
		out.push({text: ` rule ${r.table}:${r.chain}${r.pos !== null ? `:${r.pos}` : ''}${where ? ` (${where})` : ''}  ${r.text}`, tone: 'dim'});
	}
	if (f.rules.length > 6) out.push({text: ` … ${f.rules.length - 6} more rule(s)`, tone: 'dim'});
	if (f.packets.length === 0 && f.rules.length > 0) out.push({text: ' Enter: show these chains in the graph', tone: 'dim'});
	return out;
}
