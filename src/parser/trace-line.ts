/**
 * matchTraceLine: one line of text → ParsedLine. The core every entry point (files, stdin,
 * tests) goes through.
 *
 * Input:  `Nov 22 05:01:07 node1 kernel: [ 1214.7] TRACE: raw:PREROUTING:policy:2 IN=eth0 …`, {input:0, line:12}
 * Output: {kind:'event', format:'kernel', event:{type:'kernel-hop', …}, ref:{input:0, line:12}}
 *
 * Lines that cannot be trace output (no `TRACE:`, `IN=`, `PACKET:`, `EVENT:` or `trace id`) are
 * `skipped` without running the grammar: unrelated kernel and syslog lines are the common case
 * in a saved kern.log. Lines that look like trace output but do not match are `unparsed`, with
 * the column and what the grammar expected there.
 */
import {traceGrammar} from './grammar.js';
import {traceSemantics} from './semantics/index.js';
import type {LineFormat, LineRef, ParsedLine, TraceEvent} from './types.js';

/** True when a line may be trace output; everything else is skipped unread. */
export function looksLikeTrace(text: string): boolean {
	return text.includes('TRACE:') || text.includes('IN=') || text.includes('trace id ') || text.includes('PACKET:') || text.includes('EVENT:');
}

/** Characters of the line quoted in error messages. */
const EXCERPT = 60;

export function excerptAt(text: string, column: number): string {
	const start = Math.max(0, column - 1 - 20);
	const piece = text.slice(start, start + EXCERPT);
	return (start > 0 ? '…' : '') + piece + (start + EXCERPT < text.length ? '…' : '');
}

/**
 * Explains a line the grammar rejected: each format's top rule is tried on its own and the one
 * that read furthest names what was expected, so a cut nft line is reported in nft terms.
 */
function unparsed(text: string, ref: LineRef): ParsedLine {
	let best = {column: 0, reason: 'not a trace line'};
	for (const [rule, what] of FORMAT_RULES) {
		const m = traceGrammar.match(text, rule);
		if (!m.failed()) continue;
		const column = m.getRightmostFailurePosition() + 1;
		if (column > best.column) best = {column, reason: `${what}: ${(m.shortMessage ?? '').replace(/^Line \d+, col \d+: /, '')}`};
	}
	return {kind: 'unparsed', ref, column: best.column, reason: best.reason, excerpt: excerptAt(text, best.column)};
}

const FORMAT_RULES: ReadonlyArray<readonly [string, string]> = [
	['nftLine', 'nft monitor trace line'],
	['xtLine', 'xtables-monitor line'],
	['kernelLine', 'kernel log line'],
];

export function matchTraceLine(text: string, ref: LineRef): ParsedLine {
	if (!looksLikeTrace(text)) return {kind: 'skipped', ref};
	const m = traceGrammar.match(text, 'traceLine');
	if (m.failed()) return unparsed(text, ref);
	const {format, events} = traceSemantics(m)['events']() as {format: LineFormat; events: TraceEvent[]};
	const [event, ...rest] = events as [TraceEvent, ...TraceEvent[]];
	return rest.length > 0 ? {kind: 'event', format, event, rest, ref} : {kind: 'event', format, event, ref};
}
