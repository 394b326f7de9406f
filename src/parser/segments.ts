/**
 * The segment parser: reads a trace line as the pieces it repeats, with a cache of Ohm's result
 * for each piece, and gives the same ParsedLine as matching the whole line with `traceLine`.
 *
 * Input:  `[ 3341.290281] TRACE: mangle:PREROUTING:rule:1 IN=cali1a2b3c4d5e6 OUT= MAC=… SRC=198.19.88.69 … MARK=0x40000 `
 * Pieces: `[ 3341.290281] TRACE:` (kernelHead) | `mangle:PREROUTING:rule:1` (hop) |
 *         `IN=cali1a2b3c4d5e6`, `OUT=`, … `MARK=0x40000` (fieldWord, one piece per word; the
 *         whole field list is also kept as one entry) | ` ` (kernelFields)
 * Output: {kind:'event', format:'kernel', event:{type:'kernel-hop', table:'mangle', …}, ref}, or
 *         undefined when the line does not come apart this way (the caller then matches it whole).
 *
 * The pieces are rules of the Trace grammar, and its line rules are written as sequences of
 * them (grammar/trace.ohm: kernelLine_trace, xtLine_packet, xtLine_trace, nftLine, nftItem), so
 * reading a line piece by piece follows what `traceLine` does with it. PIECES says which rules
 * are pieces and how each is cut from a line. A piece's result is the one the whole line would
 * give at that point because of where it is cut, never because of anything Ohm reports:
 *
 * - A suffix piece runs to the end of the line: nothing follows it that could change it.
 * - A word piece is one word (up to a space, a tab or the end of the line), matched with a rule
 *   none of whose parts, lookaheads and alternatives included, can match a space or a tab or
 *   uses `end` or `any`. Such a rule sees the same thing after the word whether the line goes on
 *   with a space or ends there, so it gives the same result in the line as on the word alone;
 *   and when it refuses the word, the grammar's rule at that point (`R gap`, or an alternative
 *   that starts with R) fails in the line too, since R can stop neither past the word nor just
 *   before a space inside it.
 * - The kernel head runs from the start of the line to its first `TRACE:`, which a space or tab
 *   follows. No part of kernelHead can take in that `TRACE:` and then look at what follows it
 *   (host names and header words refuse the keyword where a space follows it), so it sees the
 *   same thing as on the head alone.
 *
 * A piece is looked up by its exact text: a result is reused only for the same text. (A raw
 * dmesg stamp never repeats, so each such line costs one match of its head; the caches admit
 * few of them while they do not repeat. That match is made as an edit of the previous head with
 * Ohm's incremental matcher, which re-reads only what the edit touches: a kern.log or journalctl
 * head, whose host and tags repeat around a new stamp, costs a quarter of a fresh match.)
 *
 * test/parser/piece-rules.test.ts checks each of these facts on the grammar itself, and that the
 * line rules still have the shapes this file walks; test/parser/segments.test.ts checks that the
 * two ways agree on every line of testdata, a generated corpus and mutations. The spaces between
 * pieces are skipped as `gap` and `sp*` skip them (every space and tab). A word that fieldWord or
 * an nft item refuses, or a field or value that spans words (OPT (…), the packet quoted in an
 * ICMP error, a quoted nft value with spaces), sends the rest of the line to the suffix piece
 * for that point; anything else (a colour code before the fields, a line of another shape)
 * sends the line to one whole-line match, so the language accepted and every result stay those
 * of `traceLine`.
 *
 * Above the pieces, a few caches keep what is built from them by the text it was built from (a
 * prefix's leads, a whole field list, an nft event, an nft item of two to four words): each is
 * a function of that text alone. Results are frozen: they are shared by every line that repeats
 * the piece, and the model keeps them.
 */
import type * as ohm from 'ohm-js';
import {interpretFields, interpretNftItems, type RawField} from './fields.js';
import {traceGrammar} from './grammar.js';
import {deepFreeze, EditingMatcher, keepable, ownString as own, SegmentCache} from './segment-cache.js';
import {opOf} from './semantics/ops.js';
import {traceSemantics} from './semantics/trace.js';
import {fieldOf, kernelHopEvent, leadValueOf, type LeadValue, type NftBase, type NftEventValue, type NftItem, nftEventWith, xtHopEvent} from './semantics/to-trace-event.js';
import type {LineFormat, LineRef, PacketFields, ParsedLine, TraceEvent} from './types.js';

/** How a piece is cut from a line (see the header). */
type Cut = 'word' | 'suffix' | 'head';

interface PieceSpec<V> {
	readonly cut: Cut;
	/** Entries its cache holds. */
	readonly keep: number;
	/** The piece's value, from Ohm's match of its rule. */
	readonly value: (m: ohm.MatchResult) => V;
}

function spec<V>(cut: Cut, keep: number, value: (m: ohm.MatchResult) => V): PieceSpec<V> {
	return {cut, keep, value};
}

const word = (): true => true;

/**
 * The pieces: rules of the Trace grammar the parser matches on their own, how each is cut, and
 * how many results each cache keeps (room for the pieces of the packets in flight on a busy node
 * and for every hop word of a Calico + kube-proxy ruleset; together a few tens of MB at most, so
 * memory stays flat on an endless live stream). Word pieces whose value is their own text (an
 * nft table name) only say whether the rule takes the word.
 */
export const PIECES = {
	// kernelLine_trace = kernelHead (sp | ansi)* hop (sp | ansi)* field kernelFields
	kernelHead: spec('head', 2048, m => opOf(traceSemantics, m, 'leadParts')),
	hop: spec('word', 4096, m => opOf(traceSemantics, m, 'hopValue')),
	fieldWord: spec('word', 8192, m => opOf(traceSemantics, m, 'fieldShape')),
	kernelFields: spec('suffix', 2048, m => ({fields: opOf(traceSemantics, m, 'fieldList'), records: opOf(traceSemantics, m, 'records')})),
	// xtLine_packet = sp* "PACKET:" gap dec gap traceId gap field xtFields
	// xtLine_trace = sp* "TRACE:" gap dec gap traceId gap xtHop
	dec: spec('word', 64, m => opOf(traceSemantics, m, 'nfproto')),
	traceId: spec('word', 4096, m => opOf(traceSemantics, m, 'traceIdValue')),
	xtFields: spec('suffix', 2048, m => opOf(traceSemantics, m, 'fieldList')),
	xtHop: spec('suffix', 4096, m => opOf(traceSemantics, m, 'xtHop')),
	// nftLine = "trace id " traceId gap (nftFamily gap)? nftName gap nftName gap nftEvent
	// nftEvent_packet = "packet:" gap? nftPacket, nftPacket = nftItem nftItems, and nftItem (readItem)
	nftFamily: spec('word', 64, m => opOf(traceSemantics, m, 'familyValue')),
	nftName: spec('word', 2048, word),
	nftEvent: spec('suffix', 4096, m => opOf(traceSemantics, m, 'nftEvent')),
	nftItems: spec('suffix', 2048, m => opOf(traceSemantics, m, 'nftItems')),
	nftMetaKey: spec('word', 64, word),
	nftRawKey: spec('word', 256, word),
	nftWordValue: spec('word', 8192, word),
} as const;

/**
 * The line rules this file walks, as it walks them (each function below follows one of these,
 * factor by factor). test/parser/piece-rules.test.ts compares them with the grammar: a change
 * to one of these rules must come with a change here and in the function that walks it.
 */
export const WALKED: Readonly<Record<string, string>> = {
	// What skipSp skips.
	sp: '(" " | "\\t")',
	gap: '(" " | "\\t")+',
	traceLine: '(traceLine_nft | traceLine_xtables | traceLine_kernel)',
	kernelLine: '(kernelLine_trace | kernelLine_records)',
	kernelLine_trace: '(kernelHead (sp | ansi)* hop (sp | ansi)* field kernelFields)',
	kernelHead: '(kernelLeads "TRACE:")',
	kernelFields: '((gap nextField)* (gap kernelRecord)* eol)',
	field: '(field_word | field_group | field_flag)',
	field_word: 'fieldWord',
	nextField: '(nextField_word | nextField_other)',
	nextField_word: 'fieldWord',
	xtLine: '(xtLine_packet | xtLine_trace | xtLine_event)',
	xtLine_packet: '(sp* "PACKET:" gap dec gap traceId gap field xtFields)',
	xtLine_trace: '(sp* "TRACE:" gap dec gap traceId gap xtHop)',
	xtFields: '((gap nextField)* eol)',
	nftLine: '("trace id " traceId gap (nftFamily gap)? nftName gap nftName gap nftEvent)',
	nftEvent: '(nftEvent_packet | nftEvent_rule | nftEvent_unknownRule | nftEvent_verdict | nftEvent_policy | nftEvent_conntrack)',
	nftEvent_packet: '("packet:" gap? nftPacket)',
	nftPacket: '(nftItem nftItems)',
	nftItems: '((gap nftItem)* eol)',
	nftItem: '(nftItem_meta | nftItem_metaKey | nftItem_raw | nftItem_field)',
	nftItem_meta: '(nftMetaKey gap nftValue)',
	nftItem_metaKey: '("meta" gap nftName gap nftValue)',
	nftItem_raw: '(nftRawKey gap nftValue)',
	nftItem_field: '(nftName gap nftName gap ("==" gap)? nftValue)',
	nftValue: '(nftValue_word | nftValue_quoted | nftValue_group | nftValue_plain)',
	nftValue_word: 'nftWordValue',
};

export type PieceRule = keyof typeof PIECES;
type ValueOf<K extends PieceRule> = (typeof PIECES)[K] extends PieceSpec<infer V> ? V : never;

type Outcome<V> = {readonly ok: true; readonly value: V} | {readonly ok: false};
const FAILED: Outcome<never> = Object.freeze({ok: false});

const caches = new Map<PieceRule, SegmentCache<Outcome<unknown>>>(Object.entries(PIECES).map(([rule, s]) => [rule as PieceRule, new SegmentCache<Outcome<unknown>>(s.keep)]));

/** A kernel line's text up to and including its first TRACE: → what its leads say (repeats within a second with dmesg -T). */
const leads = new SegmentCache<LeadValue>(2048);
/** Field lists from the first field to the end of the line → the packet they describe (and records pasted after them). */
const kernelTails = new SegmentCache<{pkt: PacketFields; records: readonly TraceEvent[]}>(1024);
const xtTails = new SegmentCache<PacketFields>(1024);
/** nft events (everything after the chain) → the event without its line's trace id, family, table and chain. */
const nftEvents = new SegmentCache<NftEventValue>(4096);
/** nft packet items (two to four words) → the item (itemAt). */
const items = new SegmentCache<NftItem>(8192);
/** nft packet lines: family + items text → the packet (the items' meaning depends on the family). */
const nftPackets = new SegmentCache<PacketFields>(1024);

/**
 * Longest piece kept in a cache, in characters. Kernel lines are at most about 1 KB; longer
 * pieces (a monitor line with a large inline set, a damaged line) rarely repeat, and keeping
 * them would let a few thousand entries hold tens of MB.
 */
const MAX_KEPT = 2048;

/** Ohm's result for one piece (`text` cut from a line as PIECES says), from its cache or from a match of its rule. */
function piece<K extends PieceRule>(rule: K, text: string): ValueOf<K> | undefined {
	const spec: PieceSpec<unknown> = PIECES[rule];
	const cache = caches.get(rule)!;
	let outcome = cache.get(text);
	if (outcome === undefined) {
		const keep = text.length <= MAX_KEPT && cache.admitting;
		// A kept piece is copied, so that neither the key nor the strings Ohm slices from it keep the line alive.
		const key = keep ? own(text) : text;
		const m = spec.cut === 'head' ? heads.match(key, rule) : traceGrammar.match(key, rule);
		outcome = m.succeeded() ? Object.freeze({ok: true, value: deepFreeze(spec.value(m))}) : FAILED;
		if (keep) cache.set(key, outcome);
	}
	return outcome.ok ? (outcome.value as ValueOf<K>) : undefined;
}

/** Heads of lines, each matched as an edit of the previous one (see EditingMatcher). */
let heads = new EditingMatcher(traceGrammar);

function isSp(c: number): boolean {
	return c === 32 || c === 9;
}

/** First index at or after `i` that is not a space or tab (what `gap` and `sp*` skip). */
function skipSp(text: string, i: number): number {
	while (i < text.length && isSp(text.charCodeAt(i))) i++;
	return i;
}

/** End of the word at `i`: the next space or tab, or the end of the line. */
function wordEnd(text: string, i: number): number {
	while (i < text.length && !isSp(text.charCodeAt(i))) i++;
	return i;
}

/**
 * The word after a `gap` at `i`: undefined when there is no space or tab at `i` (the grammar's
 * `gap` fails there) or nothing but spaces follow (the rule after the gap fails at the end).
 */
function gapWord(text: string, i: number): {start: number; end: number} | undefined {
	if (i >= text.length || !isSp(text.charCodeAt(i))) return undefined;
	const start = skipSp(text, i);
	return start < text.length ? {start, end: wordEnd(text, start)} : undefined;
}

function event(format: LineFormat, e: TraceEvent, ref: LineRef, rest?: readonly TraceEvent[]): ParsedLine {
	return rest && rest.length > 0 ? {kind: 'event', format, event: e, rest, ref} : {kind: 'event', format, event: e, ref};
}

/** A field of one word, or undefined when fieldWord does not take the word. */
function fieldWord(word: string): RawField | undefined {
	const shape = piece('fieldWord', word);
	return shape && fieldOf(shape, word);
}

/**
 * A field list read word by word: `field` (the first field, at `first`, which must be one word)
 * then `(gap nextField)*` with fieldWord, the first alternative of nextField, for as long as
 * words are fields of one word; the rest of the line, from the end of the last word read, is
 * the suffix piece `rest` (kernelFields or xtFields: that repetition continued, then the end of
 * the line). Undefined: the line does not come apart here.
 */
function fieldList<K extends 'kernelFields' | 'xtFields'>(text: string, first: number, rest: K): {fields: RawField[]; rest: ValueOf<K>} | undefined {
	let end = wordEnd(text, first);
	const f = fieldWord(text.slice(first, end));
	if (f === undefined) return undefined;
	const fields = [f];
	for (;;) {
		const w = gapWord(text, end);
		const next = w && fieldWord(text.slice(w.start, w.end));
		if (next === undefined) break;
		fields.push(next);
		end = w!.end;
	}
	const tail = piece(rest, text.slice(end));
	return tail === undefined ? undefined : {fields, rest: tail};
}

// ---- kernel TRACE lines: kernelLine_trace --------------------------------------------------

/** What the leads of a kernel line say, from its head (`text` up to `end`, just after its first TRACE:). */
function leadsOf(text: string, end: number): LeadValue | undefined {
	const key = text.slice(0, end);
	const hit = leads.get(key);
	if (hit) return hit;
	const parts = piece('kernelHead', key);
	if (parts === undefined) return undefined;
	const lead = leadValueOf(parts, text);
	if (key.length <= MAX_KEPT && leads.admitting) leads.set(own(key), keepable(lead));
	return lead;
}

/** The first record's fields, from `start` to the end of the line (and records pasted after them). */
function kernelTail(text: string, start: number): {pkt: PacketFields; records: readonly TraceEvent[]} | undefined {
	const key = text.slice(start);
	const hit = kernelTails.get(key);
	if (hit) return hit;
	const list = fieldList(text, start, 'kernelFields');
	if (!list) return undefined;
	const value = keepable({pkt: interpretFields([...list.fields, ...list.rest.fields]), records: list.rest.records});
	if (key.length <= MAX_KEPT) kernelTails.set(own(key), value);
	return value;
}

function kernelLine(text: string, ref: LineRef): ParsedLine | undefined {
	// kernelHead: up to the first TRACE:, which a space or tab must follow.
	const t = text.indexOf('TRACE:');
	if (t < 0 || !isSp(text.charCodeAt(t + 6))) return undefined;
	const lead = leadsOf(text, t + 6);
	if (!lead) return undefined;
	// (sp | ansi)* hop: the spaces after TRACE:, then the hop word.
	const h = gapWord(text, t + 6);
	const hop = h && piece('hop', text.slice(h.start, h.end));
	if (!hop) return undefined;
	// (sp | ansi)* field kernelFields. A colour code here would be taken by `ansi`: match the line whole.
	const f = gapWord(text, h!.end);
	if (!f || text.charCodeAt(f.start) === 0x1b) return undefined;
	const tail = kernelTail(text, f.start);
	if (!tail) return undefined;
	// What withLead(kernelHopEvent(hop, pkt), lead) builds, in one object.
	const e: TraceEvent = lead.time || lead.host ? {type: 'kernel-hop', table: hop.table, chain: hop.chain, hop: hop.hop, num: hop.num, pkt: tail.pkt, ...(lead.time ? {time: lead.time} : {}), ...(lead.host ? {host: lead.host} : {})} : kernelHopEvent(hop, tail.pkt);
	return event('kernel', e, ref, tail.records);
}

// ---- xtables-monitor: xtLine_packet, xtLine_trace -------------------------------------------

/** `gap dec gap traceId gap` after the keyword that ends at `i`: the family number, the trace id and where the next word starts. */
function xtHead(text: string, i: number): {nfproto: number; traceId: string; next: number} | undefined {
	const n = gapWord(text, i);
	const nfproto = n && piece('dec', text.slice(n.start, n.end));
	if (nfproto === undefined) return undefined;
	const id = gapWord(text, n!.end);
	const traceId = id && piece('traceId', text.slice(id.start, id.end));
	if (traceId === undefined) return undefined;
	const next = gapWord(text, id!.end);
	return next && {nfproto, traceId, next: next.start};
}

function xtPacketLine(text: string, keywordEnd: number, ref: LineRef): ParsedLine | undefined {
	const head = xtHead(text, keywordEnd);
	if (!head) return undefined;
	const key = text.slice(head.next);
	let pkt = xtTails.get(key);
	if (!pkt) {
		const list = fieldList(text, head.next, 'xtFields');
		if (!list) return undefined;
		pkt = keepable(interpretFields([...list.fields, ...list.rest]));
		if (key.length <= MAX_KEPT) xtTails.set(own(key), pkt);
	}
	return event('xtables-monitor', {type: 'xt-packet', nfproto: head.nfproto, traceId: head.traceId, pkt}, ref);
}

function xtTraceLine(text: string, keywordEnd: number, ref: LineRef): ParsedLine | undefined {
	const head = xtHead(text, keywordEnd);
	if (!head) return undefined;
	const hop = piece('xtHop', text.slice(head.next));
	return hop && event('xtables-monitor', xtHopEvent(head.nfproto, head.traceId, hop), ref);
}

// ---- nft monitor trace: nftLine -------------------------------------------------------------

/** What reading one alternative of nftItem from its words came to. */
type Read = {readonly item: NftItem; readonly end: number} | 'refused' | 'undecided';

/**
 * `gap nftValue` after the key that ends at `i`, when the value is one word (nftWordValue, the
 * first alternative of nftValue). 'refused': no gap, or nothing after it (nftValue fails at the
 * end of the line); 'undecided': a quoted value or a group that spans words.
 */
function readValue(text: string, i: number, key: string): Read {
	const v = gapWord(text, i);
	if (!v) return 'refused';
	const value = text.slice(v.start, v.end);
	return piece('nftWordValue', value) ? {item: [key, value], end: v.end} : 'undecided';
}

/**
 * One item of an nft packet line at `p`, read as nftItem reads it: its four alternatives in the
 * grammar's order, each read from its words. An alternative is refused where one of its word
 * pieces refuses a word or a gap is missing (the grammar's alternative then fails too, so the
 * next is tried); a value that is not one word leaves the item undecided.
 */
function readItem(text: string, p: number): Read {
	const e1 = wordEnd(text, p);
	const w1 = text.slice(p, e1);
	// nftMetaKey gap nftValue
	if (piece('nftMetaKey', w1)) {
		const r = readValue(text, e1, w1);
		if (r !== 'refused') return r;
	}
	// "meta" gap nftName gap nftValue
	if (w1 === 'meta') {
		const k = gapWord(text, e1);
		if (k && piece('nftName', text.slice(k.start, k.end))) {
			const r = readValue(text, k.end, `meta ${text.slice(k.start, k.end)}`);
			if (r !== 'refused') return r;
		}
	}
	// nftRawKey gap nftValue
	if (piece('nftRawKey', w1)) {
		const r = readValue(text, e1, w1);
		if (r !== 'refused') return r;
	}
	// nftName gap nftName gap ("==" gap)? nftValue
	if (!piece('nftName', w1)) return 'refused';
	const k = gapWord(text, e1);
	if (!k || !piece('nftName', text.slice(k.start, k.end))) return 'refused';
	const key = `${w1} ${text.slice(k.start, k.end)}`;
	// ("==" gap)? is there when the next word is exactly == and a gap follows it; the value is then the word after that.
	const v = gapWord(text, k.end);
	if (v && text.slice(v.start, v.end) === '==' && v.end < text.length) return readValue(text, v.end, key);
	return readValue(text, k.end, key);
}

/**
 * readItem with its results kept by the item's text: an item of two, three or four words. What
 * readItem gives for an item depends on those words alone: it reads no further, but for `==` as
 * the last word of a line (then the value), so items that end the line are not kept. Items whose
 * words recur (`ip saddr 198.18.50.2`, `tcp flags == syn`) cost a lookup or two.
 */
function itemAt(text: string, p: number): Read {
	const e1 = wordEnd(text, p);
	const e2 = wordEnd(text, skipSp(text, e1));
	const e3 = wordEnd(text, skipSp(text, e2));
	for (const e of [e3, e2]) {
		if (e === p || e === e1) continue;
		const hit = items.get(text.slice(p, e));
		if (hit) return {item: hit, end: e};
	}
	const e4 = wordEnd(text, skipSp(text, e3));
	if (e4 > e3) {
		const hit = items.get(text.slice(p, e4));
		if (hit) return {item: hit, end: e4};
	}
	const r = readItem(text, p);
	if (typeof r === 'object' && r.end < text.length && r.end - p <= MAX_KEPT) items.set(own(text.slice(p, r.end)), keepable(r.item));
	return r;
}

/** An nft event from `start` to the end of the line; a packet's items read one at a time. */
function nftEvent(text: string, start: number): NftEventValue | undefined {
	const key = text.slice(start);
	const hit = nftEvents.get(key);
	if (hit) return hit;
	let value: NftEventValue | undefined;
	if (text.startsWith('packet:', start)) {
		// "packet:" gap? nftItem nftItems
		const first = skipSp(text, start + 7);
		const r = first < text.length ? itemAt(text, first) : 'refused';
		if (typeof r === 'object') {
			const items = [r.item];
			let end = r.end;
			for (;;) {
				const w = gapWord(text, end);
				const next = w ? itemAt(text, w.start) : 'refused';
				if (typeof next !== 'object') break;
				items.push(next.item);
				end = next.end;
			}
			const rest = piece('nftItems', text.slice(end));
			if (rest) value = keepable({type: 'nft-packet', items: [...items, ...rest]});
		}
	}
	value ??= piece('nftEvent', key);
	if (value && key.length <= MAX_KEPT) nftEvents.set(own(key), value);
	return value;
}

function nftLine(text: string, ref: LineRef): ParsedLine | undefined {
	// "trace id " traceId
	const idEnd = wordEnd(text, 9);
	const traceId = idEnd > 9 ? piece('traceId', text.slice(9, idEnd)) : undefined;
	if (traceId === undefined) return undefined;
	// gap (nftFamily gap)? nftName gap nftName gap
	let w = gapWord(text, idEnd);
	if (!w) return undefined;
	const family = piece('nftFamily', text.slice(w.start, w.end));
	const afterFamily = family === undefined ? undefined : gapWord(text, w.end);
	if (afterFamily) w = afterFamily;
	const table = w;
	const chain = gapWord(text, table.end);
	if (!piece('nftName', text.slice(table.start, table.end)) || !chain || !piece('nftName', text.slice(chain.start, chain.end))) return undefined;
	const start = gapWord(text, chain.end);
	if (!start) return undefined;
	const ev = nftEvent(text, start.start);
	if (!ev) return undefined;
	const base: NftBase = {family: afterFamily ? family! : 'unknown', traceId, table: text.slice(table.start, table.end), chain: text.slice(chain.start, chain.end)};
	if (ev.type !== 'nft-packet') return event('nft-monitor', nftEventWith(base, ev), ref);
	const pktKey = `${base.family}\n${text.slice(start.start)}`;
	let pkt = nftPackets.get(pktKey);
	if (!pkt) {
		pkt = keepable(interpretNftItems(ev.items, base.family));
		if (pktKey.length <= MAX_KEPT) nftPackets.set(own(pktKey), pkt);
	}
	return event('nft-monitor', {type: 'nft-packet', ...base, pkt}, ref);
}

// ---- entry point ----------------------------------------------------------------------------

/**
 * The line read piece by piece, or undefined when it must be matched whole. The line rules are
 * tried as `traceLine = nftLine | xtLine | kernelLine` tries them: a line that does not start
 * with "trace id " is no nft line; after its spaces, one that starts with neither PACKET:,
 * EVENT: nor TRACE: and a number is no xtables-monitor line.
 */
export function matchBySegments(text: string, ref: LineRef): ParsedLine | undefined {
	if (text.startsWith('trace id ')) return nftLine(text, ref);
	const c = skipSp(text, 0);
	if (text.startsWith('PACKET:', c)) return xtPacketLine(text, c + 7, ref);
	if (text.startsWith('EVENT:', c)) return undefined;
	if (text.startsWith('TRACE:', c)) {
		// xtLine_trace is `sp* "TRACE:" gap dec gap …`: it fails unless the word after TRACE: is a number.
		const n = gapWord(text, c + 6);
		if (n && piece('dec', text.slice(n.start, n.end)) !== undefined) return xtTraceLine(text, c + 6, ref);
	}
	return kernelLine(text, ref);
}

/** Hits and misses per cache, and entries held: for the benchmark and `--debug`. */
export function segmentStats(): Record<string, {hits: number; misses: number; size: number}> {
	const out: Record<string, {hits: number; misses: number; size: number}> = {};
	for (const [rule, c] of caches) out[rule] = {hits: c.hits, misses: c.misses, size: c.size};
	for (const [name, c] of [
		['leads', leads],
		['kernelTails', kernelTails],
		['xtTails', xtTails],
		['nftEvents', nftEvents],
		['nftItemTexts', items],
		['nftPackets', nftPackets],
	] as const) {
		out[name] = {hits: c.hits, misses: c.misses, size: c.size};
	}
	return out;
}

/** Empties every cache (tests). */
export function clearSegmentCaches(): void {
	for (const c of caches.values()) c.clear();
	heads = new EditingMatcher(traceGrammar);
	leads.clear();
	kernelTails.clear();
	xtTails.clear();
	nftEvents.clear();
	items.clear();
	nftPackets.clear();
}
