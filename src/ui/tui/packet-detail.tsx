/**
 * The detail view: one packet's header (tuple, IN/OUT, verdict, reply, NAT, final hop), its hops
 * grouped by hook with the changes at each hop highlighted, and at the bottom the selected hop
 * in full: where its line is and the whole rule. With `explained` (key `e`), the dump's
 * prediction beside the trace instead of the hop list (explain-lines.ts).
 */
import {useRef, type ReactNode} from 'react';
import {Box, Text} from 'ink';
import type {Crossing} from '../../model/crossing.js';
import type {SideBySide} from '../../model/explain/side-by-side.js';
import type {PacketRef} from '../../model/fleet.js';
import type {InputInfo} from '../../model/inputs.js';
import type {Packet} from '../../model/types.js';
import {hopName} from '../text.js';
import {detailLines} from './detail-lines.js';
import {explainLines} from './explain-lines.js';
import {journeyDetail} from './journey-lines.js';
import {wrapText} from './format.js';
import {Line} from './line.js';
import {windowStart} from './scroll.js';
import {fitSegs} from './styled.js';
import {useTheme} from './theme.js';

export interface PacketDetailProps {
	/** The packet to show; undefined shows how to pick one. */
	readonly packet: Packet | undefined;
	/** Index of the selected hop. */
	readonly hop: number;
	/** Lines this view may use. */
	readonly height: number;
	/** Terminal columns. */
	readonly width: number;
	/** The inputs, to name the file a line is in. */
	readonly inputs: readonly InputInfo[];
	/** The hop list has the keys. @default true */
	readonly focused?: boolean;
	/** The packet beside the dump's prediction, as the model worked it out: shown instead of the hop list, `hop` then selects its row. */
	readonly explained?: SideBySide;
	/** Where the packet stands on its way between nodes: its hops are then shown between the other node's (journey-lines.ts). */
	readonly crossing?: Crossing;
	/** Another packet still kept, for the other node's hops. */
	readonly packetOf?: (ref: PacketRef) => Packet | undefined;
}

export function PacketDetail({packet, hop, height, width, inputs, focused = true, explained, crossing, packetOf}: PacketDetailProps) {
	const theme = useTheme();
	const top = useRef(0);
	if (!packet) {
		return (
			<Box flexDirection="column" height={height}>
				<Text dimColor> no packet selected: pick one in the packet list (1) and press Enter</Text>
			</Box>
		);
	}
	const detail = detailLines(packet, inputs);
	let {header, hops, hopLine} = detail;
	if (crossing) {
		const j = journeyDetail(packet, crossing, inputs, packetOf ?? (() => undefined));
		hops = j.hops;
		hopLine = j.hopLine;
		// Where it stands on the journey, right under the tuple and interfaces, so it stays in sight.
		header = [...header.slice(0, 2), j.summary, ...header.slice(2)];
	}
	let footer = hopFooter(packet, hop, width);
	if (explained?.kind === 'ready') {
		const e = explainLines(explained, width);
		hops = e.lines;
		hopLine = e.rowLine;
		footer = rowFooter(explained, hop, width);
	} else if (explained) {
		hops = [[{text: `  ${explained.why}`, tone: 'dim'}]];
		hopLine = [];
		footer = ['e: back to the hops'];
	}
	const headerRows = header.slice(0, Math.max(2, Math.floor(height / 3)));
	const listRows = Math.max(1, height - headerRows.length - 1 - footer.length);
	// Nothing to select when there is no prediction to show.
	const cursorLine = explained?.kind === 'none' ? -1 : (hopLine[hop] ?? 0);
	top.current = windowStart(top.current, cursorLine, listRows, hops.length);
	// Keep the hook heading of the first visible hop in sight when scrolled by one line.
	const visible = hops.slice(top.current, top.current + listRows);
	const lines: ReactNode[] = headerRows.map((l, i) => <Line key={`h${i}`} segs={fitSegs(l, width)} />);
	lines.push(<Text key="sep" dimColor>{'─'.repeat(width)}</Text>);
	visible.forEach((l, i) => {
		const at = top.current + i;
		if (at === cursorLine) {
			lines.push(
				<Text key={`l${at}`} wrap="truncate-end" {...theme.selected(focused)}>
					{`›${fitSegs(l, width).map(s => s.text).join('').slice(1)}`}
				</Text>,
			);
		} else lines.push(<Line key={`l${at}`} segs={fitSegs(l, width)} />);
	});
	while (lines.length < height - footer.length) lines.push(<Text key={`pad${lines.length}`}> </Text>);
	footer.forEach((f, i) =>
		lines.push(
			<Text key={`f${i}`} wrap="truncate-end" dimColor={i === 0}>
				{f}
			</Text>,
		),
	);
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			{lines}
		</Box>
	);
}

/** The selected row beside the prediction: both rules in full, one line each. */
function rowFooter(e: Extract<SideBySide, {kind: 'ready'}>, index: number, width: number): string[] {
	const r = e.rows[index];
	if (!r) return [];
	return [
		`row ${index + 1}/${e.rows.length}${r.status === 'parts' ? '  ≠ first hop where trace and prediction part' : ''}  · e: back to the hops`,
		...wrapText(`trace:     ${r.traced ? r.traced.rule || `${r.traced.name}:${r.traced.kindNum}` : '(the trace shows no more)'}`, width, 1),
		...wrapText(`predicted: ${r.predicted ? r.predicted.rule || `${r.predicted.name}:${r.predicted.kindNum}` : '(the prediction ends here)'}`, width, 1),
	];
}

/** The selected hop in full: position, line, the rule wrapped to at most two lines. */
function hopFooter(p: Packet, index: number, width: number): string[] {
	const h = p.hops[index];
	if (!h) return [];
	const where = `hop ${index + 1}/${p.hops.length}  ${hopName(h)}  trace line ${h.ref.line}${h.time ? `  ${h.time.text}` : ''}`;
	let rule: string;
	if (h.kind === 'log') rule = `LOG "${h.logPrefix ?? ''}"`;
	else if (h.rule) rule = `${h.ruleFrom === 'dump' ? `dump line ${h.ruleLine ?? '?'}` : 'as traced'}${h.handle !== undefined ? ` handle ${h.handle}` : ''}: ${h.rule}`;
	else rule = 'no rule text: give --rules with the iptables-save dump taken with the trace';
	return [where, ...wrapText(rule, width, 2)];
}
