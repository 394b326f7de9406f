/**
 * The ruleset piece parser: reads a saved rule or chain line as the pieces it repeats, with a
 * cache of Ohm's result for each piece text, and gives the same RulesetLine as matching the
 * whole line with `rulesetLine` (src/parser/ruleset.ts matchRulesetLine does that when a line
 * does not come apart this way).
 *
 * Input:  `-A KUBE-SEP-3QBCH2WYX6AHNQ5Z -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080`
 * Pieces: `KUBE-SEP-3QBCH2WYX6AHNQ5Z` (chainName) | `-p tcp` | `-m comment` | `--comment "ns/svc:http"` |
 *         `-m tcp` | `-j DNAT` | `--to-destination 10.244.1.5:8080` (ruleItem, one piece per item)
 * Input:  `:KUBE-SERVICES - [0:0]`    Pieces: `KUBE-SERVICES` (chainName) | `-` (policyName) | `[0:0]` (counters)
 * Output: {kind:'append', chain:'KUBE-SEP-3QBCH2WYX6AHNQ5Z', items:[…], rule:{…}, text:'-A KUBE-SEP-…'} / {kind:'chain', …},
 *         or undefined when the line does not come apart (the caller then matches it whole).
 *
 * The pieces are rules of the Ruleset grammar and the line rules are sequences of them
 * (RULESET_WALKED; test/parser/ruleset-piece-rules.test.ts compares the shapes with the grammar):
 *   rulesetContent_chain  = ":" chainName gap policyName (gap counters)?
 *   rulesetContent_command = (counters gap)? ruleCommand, ruleCommand_append = ("--append" | "-A") gap chainName ruleSpec
 *   ruleSpec = (gap ruleItem)*
 * Why a piece's result is the one the whole line gives at that point:
 *
 * - chainName, policyName and counters are word pieces: one word, matched with a rule that can
 *   never match a space or a tab nor use `end` or `any` (checked on the grammar), so it sees
 *   the same thing after the word whether the line goes on or ends there.
 * - A rule item runs from a word that starts another item (a word that starts with "-", or a
 *   "!" alone that such a word follows) up to the gap before the next such word, or to the end
 *   of the line; a word that opens a quote runs to its closing quote, as ruleArg_quoted reads
 *   it, so no cut falls inside a quoted value. The grammar lets no value take a word that
 *   starts another item (`~flagAhead` before each value that could: grammar/ruleset.ohm), so
 *   whatever an alternative of ruleItem tries at the cut fails in the line (a gap, then a value
 *   refused, an optional value left out) just as it fails at the end of the piece alone (no
 *   gap), and what it reads up to the cut is the same. The item therefore ends at the cut in
 *   the line exactly when ruleItem takes the whole piece alone; a piece it does not take whole
 *   (a stray word after a complete item, a quote glued to a word) sends the line to the
 *   whole-line match.
 *
 * A piece is looked up by its exact text. Results are frozen and shared by every line that
 * repeats the piece; the model keeps them. test/parser/ruleset-segments.test.ts checks that the
 * two ways agree on every ruleset line of testdata, generated kube-proxy dumps and mutations
 * built to tempt a wrong cut.
 */
import type * as ohm from 'ohm-js';
import {rulesetGrammar} from './grammar.js';
import type {Counters, RuleItem} from './rule.js';
import {EditingMatcher, keepable, ownString, SegmentCache} from './segment-cache.js';
import {rulesetSemantics} from './semantics/ruleset.js';
import {appendLine, chainLine, type RulesetLine, specRead, withLineCounters} from './semantics/to-ruleset-line.js';

interface PieceSpec<V> {
	readonly keep: number;
	readonly value: (m: ohm.MatchResult) => V;
}

/** The pieces: rules of the Ruleset grammar matched on their own, and how many results each cache keeps. */
export const RULESET_PIECES = {
	chainName: {keep: 16_384, value: () => true},
	policyName: {keep: 64, value: () => true},
	counters: {keep: 4096, value: m => rulesetSemantics(m)['countersValue']() as Counters},
	ruleItem: {keep: 32_768, value: m => rulesetSemantics(m)['item']() as RuleItem},
} as const satisfies Record<string, PieceSpec<unknown>>;

export type RulesetPieceRule = keyof typeof RULESET_PIECES;

/**
 * The line rules this file walks, as it walks them; test/parser/ruleset-piece-rules.test.ts
 * compares them with the grammar, so a change to one must come with a change here.
 */
export const RULESET_WALKED: Readonly<Record<string, string>> = {
	gap: '(" " | "\\t")+',
	rulesetLine: '(rulesetLine_blank | rulesetLine_content)',
	rulesetLine_content: '(sp* rulesetContent eol)',
	rulesetContent: '(rulesetContent_table | rulesetContent_chain | rulesetContent_commit | rulesetContent_comment | rulesetContent_command)',
	rulesetContent_chain: '(":" chainName gap policyName (gap counters)?)',
	rulesetContent_command: '((counters gap)? ruleCommand)',
	ruleCommand: '(ruleCommand_append | ruleCommand_insert | ruleCommand_policy | ruleCommand_newChain)',
	ruleCommand_append: '(("--append" | "-A") gap chainName ruleSpec)',
	ruleSpec: '(gap ruleItem)*',
	flagAhead: '(flagAhead_flag | flagAhead_not)',
	flagAhead_flag: '"-"',
	flagAhead_not: '("!" wordEnd)',
};

const caches = Object.fromEntries(Object.entries(RULESET_PIECES).map(([rule, spec]) => [rule, new SegmentCache<unknown>(spec.keep)])) as {[K in RulesetPieceRule]: SegmentCache<unknown>};

/** Cache hits and misses per piece, for tests and the benchmark. */
export function rulesetSegmentStats(): Record<string, {hits: number; misses: number; size: number}> {
	return Object.fromEntries(Object.entries(caches).map(([rule, c]) => [rule, {hits: c.hits, misses: c.misses, size: c.size}]));
}

export function clearRulesetSegmentCaches(): void {
	for (const c of Object.values(caches)) c.clear();
	editors.clear();
}

/**
 * Matchers that match a piece as an edit of the last piece of its kind (EditingMatcher): one per
 * rule and first word, so that `-s 10.244.3.7/32` is matched as an edit of the `-s` item before
 * it and `-j KUBE-SEP-…` of the last `-j`. At most MAX_EDITORS kinds are held.
 */
const editors = new Map<string, EditingMatcher>();
const MAX_EDITORS = 256;

function editorFor(rule: RulesetPieceRule, text: string): EditingMatcher {
	const space = text.search(/[ \t]/);
	const key = `${rule} ${space < 0 ? '' : text.slice(0, space)}`;
	let m = editors.get(key);
	if (!m) {
		if (editors.size >= MAX_EDITORS) editors.clear();
		editors.set(ownString(key), (m = new EditingMatcher(rulesetGrammar)));
	}
	return m;
}

/** Marks a piece the rule refuses (a cached `undefined` would read as a miss). */
const REFUSED = Symbol('refused');

type PieceValue<R extends RulesetPieceRule> = ReturnType<(typeof RULESET_PIECES)[R]['value']>;

/** Ohm's result for one piece text, from the cache or from one match; undefined when the rule refuses it. */
function piece<R extends RulesetPieceRule>(rule: R, text: string): PieceValue<R> | undefined {
	const cache = caches[rule];
	const known = cache.get(text);
	if (known !== undefined) return known === REFUSED ? undefined : (known as PieceValue<R>);
	const m = editorFor(rule, text).match(text, rule);
	const value = m.succeeded() ? keepable(RULESET_PIECES[rule].value(m) as PieceValue<R>) : undefined;
	if (cache.admitting) cache.set(ownString(text), value === undefined ? REFUSED : value);
	return value;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

function isGap(c: number): boolean {
	return c === SPACE || c === TAB;
}

/** The end of the gap at `i` (i itself when none is there). */
function gapEnd(line: string, i: number): number {
	while (i < line.length && isGap(line.charCodeAt(i))) i++;
	return i;
}

/** The end of the word at `i`: the next space, tab or the end of the line. */
function wordEnd(line: string, i: number): number {
	while (i < line.length && !isGap(line.charCodeAt(i))) i++;
	return i;
}

/**
 * The end of the word at `i` as a rule item's words run: a word that opens a quote runs to its
 * closing quote (ruleArg_quoted: `\` takes the character after it); -1 when the quote does not
 * close, or something other than a gap or the end follows it (the line is then matched whole).
 */
function itemWordEnd(line: string, i: number): number {
	if (line.charCodeAt(i) !== QUOTE) return wordEnd(line, i);
	for (let j = i + 1; j < line.length; j++) {
		const c = line.charCodeAt(j);
		if (c === BACKSLASH) j++;
		else if (c === QUOTE) return j + 1 === line.length || isGap(line.charCodeAt(j + 1)) ? j + 1 : -1;
	}
	return -1;
}

/** Whether an item starts at `i` (flagAhead): a word that starts with "-", or a "!" alone followed by such a word. */
function startsItem(line: string, i: number): boolean {
	const c = line.charCodeAt(i);
	if (c === 45) return true;
	if (c !== 33 || (i + 1 < line.length && !isGap(line.charCodeAt(i + 1)))) return false;
	const next = gapEnd(line, i + 1);
	return next > i + 1 && line.charCodeAt(next) === 45;
}

/** ruleSpec from `from` (at a gap, or the end of the line) to the end of the line, read item by item. */
function readSpec(line: string, from: number): ReturnType<typeof specRead> | undefined {
	const items: RuleItem[] = [];
	const spans: Array<readonly [number, number]> = [];
	let i = from;
	while (i < line.length) {
		const gapStart = i;
		const start = gapEnd(line, i);
		if (start === gapStart || start === line.length) return undefined;
		if (!startsItem(line, start)) return undefined;
		// The item's words: up to the gap before the next word that starts an item.
		let end = itemWordEnd(line, start);
		if (end < 0) return undefined;
		// `! -s …`: the "!" and the word that starts the negated option are one item.
		if (line.charCodeAt(start) === 33) end = wordEnd(line, gapEnd(line, end));
		for (;;) {
			const next = gapEnd(line, end);
			if (next === line.length) {
				if (next !== end) return undefined;
				break;
			}
			if (startsItem(line, next)) break;
			end = itemWordEnd(line, next);
			if (end < 0) return undefined;
		}
		const item = piece('ruleItem', line.slice(start, end));
		if (item === undefined) return undefined;
		items.push(item);
		spans.push([gapStart - from, end - from]);
		i = end;
	}
	return specRead(items, line.slice(from), spans);
}

/**
 * A `:CHAIN POLICY [p:b]` line or an `-A CHAIN …` rule (with `[p:b]` before it or not), read in
 * pieces; undefined for any other line and for a line that does not come apart (see the header).
 */
export function matchRulesetPieces(line: string): RulesetLine | undefined {
	if (line.length === 0) return undefined;
	const last = line.charCodeAt(line.length - 1);
	// Spaces, a CR or colour codes at the end belong to `eol`: such a line is matched whole.
	if (isGap(last) || last < SPACE) return undefined;
	const first = line.charCodeAt(0);
	if (first === 58) return chainLinePieces(line);
	let i = 0;
	let count: Counters | undefined;
	if (first === 91) {
		const end = wordEnd(line, 0);
		count = piece('counters', line.slice(0, end));
		if (count === undefined) return undefined;
		i = gapEnd(line, end);
		if (i === end) return undefined;
	}
	const verbEnd = wordEnd(line, i);
	const verb = line.slice(i, verbEnd);
	if (verb !== '-A' && verb !== '--append') return undefined;
	const chainStart = gapEnd(line, verbEnd);
	if (chainStart === verbEnd) return undefined;
	const chainEnd = wordEnd(line, chainStart);
	const chain = line.slice(chainStart, chainEnd);
	if (piece('chainName', chain) === undefined) return undefined;
	const read = readSpec(line, chainEnd);
	if (read === undefined) return undefined;
	return withLineCounters(appendLine(verb, line.slice(verbEnd, chainStart), chain, read), count);
}

function chainLinePieces(line: string): RulesetLine | undefined {
	const nameEnd = wordEnd(line, 1);
	const name = line.slice(1, nameEnd);
	const policyStart = gapEnd(line, nameEnd);
	if (policyStart === nameEnd || policyStart === line.length) return undefined;
	const policyEnd = wordEnd(line, policyStart);
	let count: Counters | undefined;
	if (policyEnd < line.length) {
		const countStart = gapEnd(line, policyEnd);
		const countEnd = wordEnd(line, countStart);
		if (countEnd !== line.length) return undefined;
		count = piece('counters', line.slice(countStart, countEnd));
		if (count === undefined) return undefined;
	}
	if (piece('chainName', name) === undefined) return undefined;
	const policy = line.slice(policyStart, policyEnd);
	if (piece('policyName', policy) === undefined) return undefined;
	return chainLine(name, policy, count);
}
