/**
 * matchTraceLine: one line of text → ParsedLine. The core every entry point (files, stdin,
 * tests) goes through.
 *
 * Input:  `Nov 22 05:01:07 node1 kernel: [ 1214.7] TRACE: raw:PREROUTING:policy:2 IN=eth0 …`, {input:0, line:12}
 * Output: {kind:'event', format:'kernel', event:{type:'kernel-hop', …}, ref:{input:0, line:12}}
 *
 * Lines that cannot be trace output (no `TRACE:`, `IN=`, `PACKET:`, `EVENT:` or `trace id`) are
 * `skipped` without running the grammar: unrelated kernel and syslog lines are the common case
 * in a saved kern.log. Among them, a line that says the log lost lines (`callbacks suppressed`,
 * journald's `Suppressed N messages`, xtables-monitor's `Error:`) is a `notice`. Lines that look like trace output but do not match are `unparsed`, with
 * the column and what the grammar expected there. Lines longer than MAX_LINE are `unparsed`
 * without being read.
 *
 * The records of dmesg -J and of the journal's JSON and export forms are unpacked before this
 * (framing.ts): what comes here is the kernel's text.
 *
 * A line is first read in pieces with cached results (segments.ts), which gives the same
 * result as matching it whole (`matchWholeLine`) and is what makes long logs fast; a line that
 * does not come apart that way is matched whole.
 */
import type * as ohm from 'ohm-js';
import {traceGrammar} from './grammar.js';
import {ownString} from './segment-cache.js';
import {matchBySegments} from './segments.js';
import {opOf} from './semantics/ops.js';
import {traceSemantics} from './semantics/trace.js';
import type {LineFormat, LineRef, ParsedLine, TraceEvent} from './types.js';

/**
 * The longest line read, in characters. The kernel cuts its log lines at 1019 bytes (a syslog
 * header adds well under 100); xtables-monitor and nft print the matched rule, a few KB at most
 * even with large inline sets. 16 KiB leaves room for all of them and caps the time Ohm can
 * spend on one line (about 10 ms); longer lines are not trace output (a binary file, a JSON
 * blob) and are reported without being read.
 */
export const MAX_LINE = 16_384;

/** The result for a line over MAX_LINE characters (or bytes, as the line reader counts). */
export function tooLongLine(head: string, length: number, ref: LineRef, unit: 'characters' | 'bytes' = 'characters'): ParsedLine {
	return {
		kind: 'unparsed',
		ref,
		column: 1,
		reason: `line of ${length} ${unit}, longer than a trace line can be (${MAX_LINE}): not read`,
		excerpt: excerptAt(head.slice(0, EXCERPT + 1), 1),
	};
}

/** True when a line may be trace output; everything else is skipped unread. */
export function looksLikeTrace(text: string): boolean {
	return text.includes('TRACE:') || text.includes('IN=') || text.includes('trace id ') || text.includes('PACKET:') || text.includes('EVENT:');
}

/** True when a line may say that the log lost lines (noticeLine); checked only on lines that are not trace output. */
export function looksLikeNotice(text: string): boolean {
	return text.includes('suppressed') || text.includes('Suppressed') || text.includes('messages dropped') || text.includes('Error:') || text.includes('xtables-monitor');
}

/** A line that is not trace output: a notice that the log lost lines, or skipped. */
function notTrace(text: string, ref: LineRef): ParsedLine {
	if (!looksLikeNotice(text)) return {kind: 'skipped', ref};
	const m = traceGrammar.match(text, 'noticeLine');
	return m.succeeded() ? {kind: 'notice', ref, notice: opOf(traceSemantics, m, 'notice')} : {kind: 'skipped', ref};
}

/** Characters of the line quoted in error messages. */
const EXCERPT = 60;

export function excerptAt(text: string, column: number): string {
	const start = Math.max(0, column - 1 - 20);
	const piece = text.slice(start, start + EXCERPT);
	// Copied, so that the excerpts a session keeps do not keep whole lines alive.
	return ownString((start > 0 ? '…' : '') + piece + (start + EXCERPT < text.length ? '…' : ''));
}

/**
 * Explains a line the grammar rejected: each format's top rule is tried on its own and the one
 * that read furthest names what was expected, so a cut nft line is reported in nft terms.
 * (Only that one's message is built: Ohm matches the line again to collect what it expected.)
 */
function unparsed(text: string, ref: LineRef, tries: ReadonlyArray<readonly [ohm.MatchResult, string]>): ParsedLine {
	let best: {column: number; message?: () => string} = {column: 0};
	for (const [m, what] of tries) {
		if (!m.failed()) continue;
		const column = m.getRightmostFailurePosition() + 1;
		if (column > best.column) best = {column, message: () => `${what}: ${(m.shortMessage ?? '').replace(/^Line \d+, col \d+: /, '')}`};
	}
	const reason = best.message ? best.message() : 'not a trace line';
	return {kind: 'unparsed', ref, column: best.column, reason, excerpt: excerptAt(text, best.column)};
}

/** The three formats, as `traceLine` tries them: the top rule, its name in messages, and its operation. */
const FORMATS: ReadonlyArray<readonly [string, string, LineFormat, (m: ohm.MatchResult) => TraceEvent[]]> = [
	['nftLine', 'nft monitor trace line', 'nft-monitor', m => [opOf(traceSemantics, m, 'nft')]],
	['xtLine', 'xtables-monitor line', 'xtables-monitor', m => [opOf(traceSemantics, m, 'xt')]],
	['kernelLine', 'kernel log line', 'kernel', m => opOf(traceSemantics, m, 'kernelRecords')],
];

export function matchTraceLine(text: string, ref: LineRef): ParsedLine {
	if (text.length > MAX_LINE) return tooLongLine(text, text.length, ref);
	if (!looksLikeTrace(text)) return notTrace(text, ref);
	return matchBySegments(text, ref) ?? matchWhole(text, ref);
}

/**
 * The whole line, format by format: the same as matching `traceLine = nftLine | xtLine |
 * kernelLine`, because each of the three either fails or reads to the end of the line, and it
 * leaves the three results at hand to explain a failure.
 */
function matchWhole(text: string, ref: LineRef): ParsedLine {
	const tries: Array<readonly [ohm.MatchResult, string]> = [];
	for (const [rule, what, format, events] of FORMATS) {
		const m = traceGrammar.match(text, rule);
		if (m.succeeded()) return eventLine(format, events(m), ref);
		tries.push([m, what]);
	}
	return unparsed(text, ref, tries);
}

/** The reference: the whole line matched with `traceLine`, no cache. matchTraceLine gives the same result. */
export function matchWholeLine(text: string, ref: LineRef): ParsedLine {
	if (text.length > MAX_LINE) return tooLongLine(text, text.length, ref);
	if (!looksLikeTrace(text)) return notTrace(text, ref);
	const m = traceGrammar.match(text, 'traceLine');
	if (m.failed()) return unparsed(text, ref, FORMATS.map(([rule, what]) => [traceGrammar.match(text, rule), what] as const));
	const {format, events} = opOf(traceSemantics, m, 'events');
	return eventLine(format, events, ref);
}

function eventLine(format: LineFormat, events: TraceEvent[], ref: LineRef): ParsedLine {
	const [event, ...rest] = events as [TraceEvent, ...TraceEvent[]];
	return rest.length > 0 ? {kind: 'event', format, event, rest, ref} : {kind: 'event', format, event, ref};
}
