/**
 * The help (`?`): keys per view and the filter syntax.
 */
import {Box, Text} from 'ink';
import {FILTER_KEYS} from './filter.js';
import {cell} from './format.js';

export interface HelpProps {
	/** Lines this view may use. */
	readonly height: number;
	/** First line shown (j/k scroll a help taller than the terminal). @default 0 */
	readonly top?: number;
	/** Terminal columns. */
	readonly width: number;
}

export const HELP_LINES: ReadonlyArray<readonly [string, string]> = [
	['#', 'Keys'],
	['views', '1 packets · 2 detail · 3 graph · 4 findings'],
	['', 'Tab / Shift-Tab next / previous view · Esc back'],
	['move', 'j/↓ k/↑ · g/Home first · G/End last · PgDn PgUp'],
	['packets', 'Enter detail · f or Space follow newest / pause'],
	['detail', 'j/k hop · [ ] previous / next packet · e the dump’s prediction beside it (≠ parts)'],
	['across nodes', 'detail of a packet that crossed: o same packet at the other node · w outer packet · r reply / request'],
	['graph', 'j/k scroll · [ ] previous / next packet (● path)'],
	['findings', 'Enter: its packets, or its chains (! in the graph)'],
	['quit', 'q or Ctrl-C · ? closes this help'],
	['list columns', 'NAT: D=DNAT S=SNAT M=MASQ c=conntrack · R: ✓ reply · none expected'],
	['#', 'Filter (/): all terms must match; !term negates'],
	['words', '10.0.0.5 10.1.0.0/16 · 443 · tcp · eth0 cali+ · drop · node-b · web-0 (a node, pod or service name)'],
	...FILTER_KEYS.map(([k, v]) => [k, v] as const),
	['typing', 'Enter apply · Esc cancel · Ctrl-W word · Ctrl-U clear'],
];

/** The first line the help can start at in `height` lines (0 when it fits). */
export function helpMaxTop(height: number): number {
	return Math.max(0, HELP_LINES.length - height);
}

export function Help({height, width, top = 0}: HelpProps) {
	const keyW = Math.max(...HELP_LINES.map(([k]) => (k === '#' ? 0 : k.length))) + 2;
	const start = Math.max(0, Math.min(top, helpMaxTop(height)));
	const below = HELP_LINES.length - start - height;
	// When it does not fit, the last line says how to see the rest.
	const shown = below > 0 ? HELP_LINES.slice(start, start + height - 1) : HELP_LINES.slice(start, start + height);
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			{shown.map(([k, v], i) =>
				k === '#' ? (
					<Text key={i} bold wrap="truncate-end">
						{` ${v}`}
					</Text>
				) : (
					<Text key={i} wrap="truncate-end">
						{'  '}
						<Text bold>{cell(k, keyW)}</Text>
						{v}
					</Text>
				),
			)}
			{below > 0 ? (
				<Text key="more" dimColor wrap="truncate-end">
					{` ↓ ${below + 1} more line(s): j / PgDn${start > 0 ? ' · k / PgUp back' : ''}`}
				</Text>
			) : null}
		</Box>
	);
}
