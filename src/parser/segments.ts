/**
 * The segment parser: reads a trace line as the pieces it repeats, with a cache of Ohm's result
 * for each piece, and gives the same ParsedLine as matching the whole line with `traceLine`.
 *
 * Input:  `[ 3341.290281] TRACE: mangle:PREROUTING:rule:1 IN=cali1a2b3c4d5e6 OUT= MAC=… SRC=198.19.88.69 … MARK=0x40000 `
 * Pieces: `[ 3341.290281] T` (kernelLeadItemSeg: a lead and the character after it; a kern.log
 *         line has three: `Nov 22 05:35:21 n`, `node-1 kernel: [`, `[ 3341.290281] T`) |
 *         `TRACE: mangle:PREROUTING:rule:1 ` (kernelHopSeg) |
 *         `IN=cali1a2b3c4d5e6 OUT= MAC=… MARK=0x40000 ` (the field list: one cache entry for the
 *         whole list, and on a miss one entry per field: `IN=cali1a2b3c4d5e6 `, `OUT= `, …)
 * Output: {kind:'event', format:'kernel', event:{type:'kernel-hop', table:'mangle', …}, ref}, or
 *         undefined when the line does not come apart this way (the caller then matches it whole).
 *
 * Why a piece's cached result is the result the whole line would give: Ohm's result for a rule
 * applied at a position depends only on the characters it examined from there, and Ohm records
 * that length for each application (its incremental re-parsing relies on the same fact). A
 * piece is matched with a segment rule of the grammar (end of grammar/trace.ohm) that restates
 * what the line rules apply at that point, including the alternatives that must fail first; the
 * result is used only when Ohm reports that the rule looked at no character beyond the piece,
 * or when the piece runs to the end of the line. Pieces are cut where the grammar's tokens end
 * (at spaces), the spaces between them are skipped as `gap` skips them, and anything else —
 * a piece that fails, looks past its end, or a line of another shape — sends the line to one
 * whole-line match, so the language accepted and every result are those of `traceLine`.
 * test/parser/segments.test.ts checks the two ways agree on every line of testdata and on a
 * generated corpus.
 *
 * Results are frozen: they are shared by every line that repeats the piece, and the model keeps them.
 */
import type * as ohm from 'ohm-js';
import {interpretFields, interpretNftItems, type RawField} from './fields.js';
import {traceGrammar} from './grammar.js';
import {deepFreeze, ownString as own, SegmentCache} from './segment-cache.js';
import {traceSemantics} from './semantics/trace.js';
import type {FieldsValue, HopValue, NftChainValue, NftEventValue, XtHeadValue} from './semantics/to-segment.js';
import {kernelHopEvent, type LeadInfo, leadValue, type LeadValue} from './semantics/to-trace-event.js';
import type {Family, LineFormat, LineRef, PacketFields, ParsedLine, TraceEvent} from './types.js';

type Piece<V> = {readonly ok: true; readonly value: V} | {readonly ok: false; readonly beyond: boolean};

const FAILED: Piece<never> = Object.freeze({ok: false, beyond: false});
const LOOKED_BEYOND: Piece<never> = Object.freeze({ok: false, beyond: true});

/** Segment rules whose piece ends before the line does: Ohm must not have looked past the piece. */
const BOUNDED = new Set(['kernelGuardSeg', 'kernelLeadItemSeg', 'kernelLeadSeg', 'kernelHeadSeg', 'kernelHopSeg', 'fieldSeg', 'xtPacketHeadSeg', 'xtTraceHeadSeg', 'nftIdSeg', 'nftChainSeg', 'nftPacketKeySeg', 'nftItemSeg']);

/**
 * Entries per cache: room for the pieces of the packets in flight on a busy node and for every
 * hop word of a Calico + kube-proxy ruleset, and together a few tens of MB at most (memory must
 * stay flat on an endless live stream).
 */
const LIMITS: Record<string, number> = {
	kernelGuardSeg: 256,
	kernelLeadItemSeg: 4096,
	kernelLeadSeg: 2048,
	kernelHeadSeg: 2048,
	kernelHopSeg: 4096,
	fieldSeg: 16_384,
	fieldEndSeg: 2048,
	kernelFieldsSeg: 2048,
	xtFieldsSeg: 2048,
	xtPacketHeadSeg: 2048,
	xtTraceHeadSeg: 2048,
	xtHopSeg: 4096,
	nftIdSeg: 2048,
	nftChainSeg: 1024,
	nftEventSeg: 4096,
	nftPacketKeySeg: 64,
	nftItemSeg: 8192,
	nftItemEndSeg: 2048,
	nftItemsSeg: 2048,
};

const pieces = new Map<string, SegmentCache<Piece<unknown>>>(Object.entries(LIMITS).map(([rule, limit]) => [rule, new SegmentCache<Piece<unknown>>(limit)]));

/** A kernel line's leads and "TRACE:" → what the leads say (when and where it was logged). */
const prefixes = new SegmentCache<LeadValue>(2048);
/** Whole field lists → the packet they describe (and records pasted after them). */
const kernelTails = new SegmentCache<{pkt: PacketFields; records: readonly TraceEvent[]}>(1024);
const xtTails = new SegmentCache<PacketFields>(1024);
/** nft packet lines: family + items text → the packet (the items' meaning depends on the family). */
const nftPackets = new SegmentCache<PacketFields>(1024);

/**
 * Longest piece kept in a cache, in characters. Kernel lines are at most about 1 KB; longer
 * pieces (a monitor line with a large inline set, a damaged line) rarely repeat, and keeping
 * them would let a few thousand entries hold tens of MB.
 */
const MAX_KEPT = 2048;

/** A field spanning several space-separated words (`OPT (…)`, `INCOMPLETE [8 bytes]`) is read by extending the piece this many words at most. */
const MAX_EXTEND = 3;

/**
 * How many characters of its input the start rule's application examined, as Ohm recorded it in
 * the match's memo table (the record its incremental re-parsing uses). ohm-js 17.5 keeps it in
 * `matcher._memoTable[0].memo[rule].examinedLength`; test/parser/segments.test.ts pins that.
 */
export function examinedLength(m: ohm.MatchResult, rule: string): number {
	const table = (m.matcher as unknown as {_memoTable?: Array<{memo: Record<string, {examinedLength?: number} | undefined>} | undefined>})._memoTable;
	const n = table?.[0]?.memo[rule]?.examinedLength;
	return typeof n === 'number' ? n : Number.POSITIVE_INFINITY;
}

/** Ohm's result for one piece, from the cache or from a match of the segment rule. */
function piece<V>(rule: string, text: string): Piece<V> {
	const cache = pieces.get(rule)!;
	const hit = cache.get(text);
	if (hit !== undefined) return hit as Piece<V>;
	const keep = text.length <= MAX_KEPT && cache.admitting;
	// A kept piece is copied, so that neither the key nor the strings Ohm slices from it keep the line alive.
	const key = keep ? own(text) : text;
	const m = traceGrammar.match(key, rule);
	let result: Piece<unknown>;
	if (BOUNDED.has(rule) && examinedLength(m, rule) > key.length) result = LOOKED_BEYOND;
	else if (m.failed()) result = FAILED;
	else result = Object.freeze({ok: true, value: deepFreeze(traceSemantics(m)['segment']())});
	if (keep) cache.set(key, result);
	return result as Piece<V>;
}

function isSp(c: number): boolean {
	return c === 32 || c === 9;
}

/** First index at or after `i` that is not a space or tab (what `gap` and `sp*` skip). */
function skipSp(text: string, i: number): number {
	while (i < text.length && isSp(text.charCodeAt(i))) i++;
	return i;
}

/** Index of the space that ends the n-th word from `i` (words separated by spaces), or -1. */
function wordsEnd(text: string, i: number, n: number): number {
	let p = skipSp(text, i);
	for (let k = 1; ; k++) {
		const e = text.indexOf(' ', p);
		if (e < 0) return -1;
		if (k === n) return e;
		p = skipSp(text, e + 1);
	}
}

/**
 * Reads items from `start` to the end of the line, one piece per item (`rule`: item and the
 * space after it; `endRule`: the last item, at the end of the line). When an item cannot be
 * read on its own (the packet quoted in an ICMP error spans more words than MAX_EXTEND; a tab;
 * a record pasted after the packet), the rest of the line is one piece (`restRule`).
 * Undefined: the line does not come apart here.
 */
function readList<T>(text: string, start: number, rule: string, endRule: string, restRule: string, restItems: (rest: unknown) => readonly T[], maxExtend: number): {items: T[]; rest?: unknown} | undefined {
	const items: T[] = [];
	let i = start;
	while (i < text.length) {
		let e = text.indexOf(' ', i);
		let r: Piece<T> = e < 0 ? piece<T>(endRule, text.slice(i)) : piece<T>(rule, text.slice(i, e + 1));
		for (let n = 0; !r.ok && r.beyond && n < maxExtend; n++) {
			const next = text.indexOf(' ', e + 1);
			if (next < 0) {
				r = piece<T>(endRule, text.slice(i));
				e = -1;
				break;
			}
			e = next;
			r = piece<T>(rule, text.slice(i, e + 1));
		}
		if (!r.ok) {
			const rest = piece<unknown>(restRule, text.slice(i));
			if (!rest.ok) return undefined;
			items.push(...restItems(rest.value));
			return {items, rest: rest.value};
		}
		items.push(r.value);
		if (e < 0) break;
		i = skipSp(text, e + 1);
	}
	return items.length > 0 ? {items} : undefined;
}

const fieldsOf = (rest: unknown): readonly RawField[] => (rest as FieldsValue).fields;
const itemsOf = (rest: unknown): ReadonlyArray<readonly [string, string]> => rest as ReadonlyArray<readonly [string, string]>;

/** A kernel or xtables-monitor field list from `start` to the end of the line. */
function kernelFields(text: string, start: number): {pkt: PacketFields; records: readonly TraceEvent[]} | undefined {
	const key = text.slice(start);
	const hit = kernelTails.get(key);
	if (hit) return hit;
	const list = readList<RawField>(text, start, 'fieldSeg', 'fieldEndSeg', 'kernelFieldsSeg', fieldsOf, MAX_EXTEND);
	if (!list) return undefined;
	const value = deepFreeze({pkt: interpretFields(list.items), records: (list.rest as FieldsValue | undefined)?.records ?? []});
	if (key.length <= MAX_KEPT) kernelTails.set(own(key), value);
	return value;
}

function xtFields(text: string, start: number): PacketFields | undefined {
	const key = text.slice(start);
	const hit = xtTails.get(key);
	if (hit) return hit;
	const list = readList<RawField>(text, start, 'fieldSeg', 'fieldEndSeg', 'xtFieldsSeg', fieldsOf, MAX_EXTEND);
	if (!list) return undefined;
	const pkt = deepFreeze(interpretFields(list.items));
	if (key.length <= MAX_KEPT) xtTails.set(own(key), pkt);
	return pkt;
}

function event(format: LineFormat, e: TraceEvent, ref: LineRef, rest?: readonly TraceEvent[]): ParsedLine {
	return rest && rest.length > 0 ? {kind: 'event', format, event: e, rest, ref} : {kind: 'event', format, event: e, ref};
}

// ---- kernel TRACE lines ---------------------------------------------------------------------

/** Index of the first character after the word at `p` and the spaces after it, or -1. */
function afterWord(text: string, p: number): number {
	const e = text.indexOf(' ', p);
	if (e < 0) return -1;
	const q = skipSp(text, e);
	return q < text.length ? q : -1;
}

/**
 * The leads in front of "TRACE:" at `t`, one piece per lead (a lead and the character after
 * it), merged as operation `lead(info)` merges them; undefined when the prefix does not come
 * apart at spaces.
 */
function leadsByPieces(text: string, t: number): LeadValue | undefined {
	if (!piece<true>('kernelGuardSeg', text.slice(0, 1)).ok) return undefined;
	const info: LeadInfo = {stamps: []};
	let p = 0;
	while (p < t) {
		let e = afterWord(text, p);
		if (e < 0) return undefined;
		let r = piece<LeadInfo>('kernelLeadItemSeg', text.slice(p, e + 1));
		for (let n = 0; !r.ok && r.beyond && n < 4; n++) {
			e = afterWord(text, e);
			if (e < 0) return undefined;
			r = piece<LeadInfo>('kernelLeadItemSeg', text.slice(p, e + 1));
		}
		if (!r.ok) return undefined;
		const part = r.value;
		info.mono ??= part.mono;
		info.wall ??= part.wall;
		info.host ??= part.host;
		info.stamps.push(...part.stamps);
		p = e;
	}
	return p === t ? leadValue(info) : undefined;
}

function kernelLine(text: string, ref: LineRef): ParsedLine | undefined {
	const t = text.indexOf('TRACE:');
	if (t < 0) return undefined;
	let lead: LeadValue | undefined;
	if (t > 0) {
		const key = text.slice(0, t + 6);
		lead = prefixes.get(key);
		if (!lead) {
			lead = leadsByPieces(text, t);
			if (!lead) {
				const l = piece<LeadValue>('kernelLeadSeg', key);
				if (l.ok) lead = l.value;
			}
			if (lead && key.length <= MAX_KEPT && prefixes.admitting) prefixes.set(own(key), deepFreeze(lead));
		}
	}
	const end = wordsEnd(text, t + 6, 1);
	if (end < 0) return undefined;
	let hop: HopValue;
	if (lead) {
		const h = piece<HopValue>('kernelHopSeg', text.slice(t, end + 1));
		if (!h.ok) return undefined;
		hop = h.value;
	} else {
		// No prefix (the line could also start an xtables-monitor line), or one that examines the text after TRACE:.
		const h = piece<{lead: LeadValue; hop: HopValue}>('kernelHeadSeg', text.slice(0, end + 1));
		if (!h.ok) return undefined;
		lead = h.value.lead;
		hop = h.value.hop;
	}
	const tail = kernelFields(text, skipSp(text, end + 1));
	if (!tail) return undefined;
	// What withLead(kernelHopEvent(hop, pkt), lead) builds, in one object.
	const e: TraceEvent = lead.time || lead.host ? {type: 'kernel-hop', table: hop.table, chain: hop.chain, hop: hop.hop, num: hop.num, pkt: tail.pkt, ...(lead.time ? {time: lead.time} : {}), ...(lead.host ? {host: lead.host} : {})} : kernelHopEvent(hop, tail.pkt);
	return event('kernel', e, ref, tail.records);
}

// ---- xtables-monitor ------------------------------------------------------------------------

function xtPacketLine(text: string, ref: LineRef): ParsedLine | undefined {
	const end = wordsEnd(text, 0, 3);
	if (end < 0) return undefined;
	const h = piece<XtHeadValue>('xtPacketHeadSeg', text.slice(0, end + 1));
	if (!h.ok) return undefined;
	const pkt = xtFields(text, skipSp(text, end + 1));
	if (!pkt) return undefined;
	return event('xtables-monitor', {type: 'xt-packet', nfproto: h.value.nfproto, traceId: h.value.traceId, pkt}, ref);
}

function xtTraceLine(text: string, ref: LineRef): ParsedLine | undefined {
	const end = wordsEnd(text, 0, 3);
	if (end < 0) return undefined;
	const h = piece<XtHeadValue>('xtTraceHeadSeg', text.slice(0, end + 1));
	if (!h.ok) return undefined;
	const hop = piece<Record<string, unknown>>('xtHopSeg', text.slice(skipSp(text, end + 1)));
	if (!hop.ok) return undefined;
	return event('xtables-monitor', {type: 'xt-hop', nfproto: h.value.nfproto, traceId: h.value.traceId, ...hop.value} as TraceEvent, ref);
}

// ---- nft monitor trace ----------------------------------------------------------------------

function nftEvent(text: string, start: number): Piece<NftEventValue> {
	const key = text.slice(start);
	const cache = pieces.get('nftEventSeg')!;
	const hit = cache.get(key);
	if (hit !== undefined) return hit as Piece<NftEventValue>;
	if (text.startsWith('packet:', start)) {
		// A packet line: its items, one piece each (`ip id 51585 `, `tcp sport 52392 `).
		const kw = piece<true>('nftPacketKeySeg', text.slice(start, start + 8));
		if (kw.ok) {
			const list = readList<readonly [string, string]>(text, skipSp(text, start + 8), 'nftItemSeg', 'nftItemEndSeg', 'nftItemsSeg', itemsOf, 4);
			if (list) {
				const value: Piece<NftEventValue> = deepFreeze({ok: true as const, value: {type: 'nft-packet' as const, items: list.items}});
				if (key.length <= MAX_KEPT) cache.set(own(key), value);
				return value;
			}
		}
	}
	return piece<NftEventValue>('nftEventSeg', key);
}

function nftLine(text: string, ref: LineRef): ParsedLine | undefined {
	const idEnd = wordsEnd(text, 0, 3);
	if (idEnd < 0) return undefined;
	const id = piece<string>('nftIdSeg', text.slice(0, idEnd + 1));
	if (!id.ok) return undefined;
	const p = skipSp(text, idEnd + 1);
	// family table chain, or table chain
	let end = wordsEnd(text, p, 3);
	let chain: Piece<NftChainValue> = end < 0 ? FAILED : piece<NftChainValue>('nftChainSeg', text.slice(p, end + 1));
	if (!chain.ok) {
		end = wordsEnd(text, p, 2);
		chain = end < 0 ? FAILED : piece<NftChainValue>('nftChainSeg', text.slice(p, end + 1));
	}
	if (!chain.ok) return undefined;
	const start = skipSp(text, end + 1);
	const ev = nftEvent(text, start);
	if (!ev.ok) return undefined;
	const {family, table, chain: chainName} = chain.value;
	const base = {family, traceId: id.value, table, chain: chainName};
	if (ev.value.type === 'other') return event('nft-monitor', {...ev.value.event, ...base} as TraceEvent, ref);
	const pktKey = `${family}\n${text.slice(start)}`;
	let pkt = nftPackets.get(pktKey);
	if (!pkt) {
		pkt = deepFreeze(interpretNftItems(ev.value.items, family as Family));
		if (pktKey.length <= MAX_KEPT) nftPackets.set(own(pktKey), pkt);
	}
	return event('nft-monitor', {type: 'nft-packet', ...base, pkt}, ref);
}

// ---- entry point ----------------------------------------------------------------------------

/** The line read piece by piece, or undefined when it must be matched whole. */
export function matchBySegments(text: string, ref: LineRef): ParsedLine | undefined {
	if (text.startsWith('trace id ')) return nftLine(text, ref);
	const c = skipSp(text, 0);
	if (text.startsWith('PACKET:', c)) return xtPacketLine(text, ref);
	if (text.startsWith('TRACE:', c)) {
		const d = text.charCodeAt(skipSp(text, c + 6));
		if (d >= 48 && d <= 57) return xtTraceLine(text, ref);
	}
	return kernelLine(text, ref);
}

/** Hits and misses per cache, and entries held: for the benchmark and `--debug`. */
export function segmentStats(): Record<string, {hits: number; misses: number; size: number}> {
	const out: Record<string, {hits: number; misses: number; size: number}> = {};
	for (const [rule, c] of pieces) out[rule] = {hits: c.hits, misses: c.misses, size: c.size};
	for (const [name, c] of [
		['prefixes', prefixes],
		['kernelTails', kernelTails],
		['xtTails', xtTails],
		['nftPackets', nftPackets],
	] as const) {
		out[name] = {hits: c.hits, misses: c.misses, size: c.size};
	}
	return out;
}

/** Empties every cache (tests). */
export function clearSegmentCaches(): void {
	for (const c of pieces.values()) c.clear();
	prefixes.clear();
	kernelTails.clear();
	xtTails.clear();
	nftPackets.clear();
}
