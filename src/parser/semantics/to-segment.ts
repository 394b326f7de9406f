/**
 * Semantics of the segment rules (the end of the Trace grammar): one matched piece of a line →
 * the value the segment parser caches for that exact text.
 *
 * Input:  `[ 3341.290254] T` (kernelLeadItemSeg), `TRACE: raw:PREROUTING:policy:4 ` (kernelHopSeg), `TTL=64 ` (fieldSeg)
 * Output: {stamps:['[ 3341.290254]'], mono:3341.290254}, {table:'raw', chain:'PREROUTING', hop:'policy', num:4},
 *         {k:'kv', key:'TTL', value:'64'}
 *
 * Each value is built by the same operations as a whole line's event, so a line read in pieces
 * gives the same event as the line read at once.
 */
import type * as ohm from 'ohm-js';
import type {RawField} from '../fields.js';
import type {Family, HopType, TraceEvent} from '../types.js';
import {hopOf, type LeadInfo, leadValue, type LeadValue} from './to-trace-event.js';

type Node = ohm.Node;

export interface HopValue {
	readonly table: string;
	readonly chain: string;
	readonly hop: HopType;
	readonly num: number;
}

/** A packet's fields from a point of the line to its end, and any kernel record pasted after them. */
export interface FieldsValue {
	readonly fields: readonly RawField[];
	readonly records: readonly TraceEvent[];
}

export interface XtHeadValue {
	readonly nfproto: number;
	readonly traceId: string;
}

export interface NftChainValue {
	readonly family: Family;
	readonly table: string;
	readonly chain: string;
}

/** An nft event without the line's trace id, family, table and chain (filled in per line). */
export type NftEventValue =
	| {readonly type: 'nft-packet'; readonly items: ReadonlyArray<readonly [string, string]>}
	| {readonly type: 'other'; readonly event: TraceEvent};

export type SegmentValue =
	| LeadValue
	| LeadInfo
	| {lead: LeadValue; hop: HopValue}
	| HopValue
	| RawField
	| FieldsValue
	| XtHeadValue
	| Record<string, unknown>
	| string
	| NftChainValue
	| NftEventValue
	| readonly [string, string]
	| ReadonlyArray<readonly [string, string]>
	| true;

const FAMILY_BY_NFT: Record<string, Family> = {ip: 'ipv4', ip6: 'ipv6', inet: 'inet', arp: 'arp', bridge: 'bridge', netdev: 'netdev'};

/** Placeholder base for nft events cached without their line's own trace id, family, table and chain. */
export const NFT_BASE_PLACEHOLDER = Object.freeze({family: 'unknown' as Family, traceId: '', table: '', chain: ''});

function leadsOf(leads: Node): LeadValue {
	const info: LeadInfo = {stamps: []};
	for (const lead of leads.children) lead['lead'](info);
	return leadValue(info);
}

function fieldsOf(packet: Node, records?: Node): FieldsValue {
	return {fields: packet['rawFields'](), records: records ? records.children.map(r => r['kernel']()) : []};
}

/** Adds operation `segment` to a semantics of the Trace grammar (after addToTraceEvent). */
export function addToSegment(semantics: ohm.Semantics): void {
	semantics.addOperation<SegmentValue>('segment', {
		kernelGuardSeg(_first) {
			return true;
		},
		kernelLeadItemSeg(lead, _next) {
			const info: LeadInfo = {stamps: []};
			lead['lead'](info);
			return info;
		},
		kernelLeadSeg(leads, _kw) {
			return leadsOf(leads);
		},
		kernelHeadSeg(leads, _kw, _space, hop, _sp) {
			return {lead: leadsOf(leads), hop: hopOf(hop)};
		},
		kernelHopSeg(_kw, _space, hop, _sp) {
			return hopOf(hop);
		},
		fieldSeg(field, _sp) {
			return field['rawField']();
		},
		fieldEndSeg(field) {
			return field['rawField']();
		},
		kernelFieldsSeg(packet, _gaps, records, _eol) {
			return fieldsOf(packet, records);
		},
		xtFieldsSeg(packet, _eol) {
			return fieldsOf(packet);
		},
		xtPacketHeadSeg(_sp, _kw, _g1, nfproto, _g2, id, _sp2) {
			return {nfproto: Number(nfproto.sourceString), traceId: id.sourceString.toLowerCase()};
		},
		xtTraceHeadSeg(_sp, _kw, _g1, nfproto, _g2, id, _sp2) {
			return {nfproto: Number(nfproto.sourceString), traceId: id.sourceString.toLowerCase()};
		},
		xtHopSeg(hop) {
			return hop['xtHop']();
		},
		nftIdSeg(_kw, id, _sp) {
			return id.sourceString.toLowerCase();
		},
		nftChainSeg(family, _g1, table, _g2, chain, _sp) {
			return {family: FAMILY_BY_NFT[family.children[0]?.sourceString ?? ''] ?? 'unknown', table: table.sourceString, chain: chain.sourceString};
		},
		nftEventSeg(ev) {
			const alt = ev.children[0]!;
			if (alt.ctorName === 'nftEvent_packet') return {type: 'nft-packet', items: alt.children[2]!['nftItems']()};
			return {type: 'other', event: ev['nftEvent'](NFT_BASE_PLACEHOLDER)};
		},
		nftPacketKeySeg(_kw, _sp) {
			return true;
		},
		nftItemSeg(item, _sp) {
			return item['nftItem']();
		},
		nftItemEndSeg(item, _eol) {
			return item['nftItem']();
		},
		nftItemsSeg(first, _gaps, rest, _eol) {
			return [first['nftItem'](), ...rest.children.map(i => i['nftItem']())];
		},
	});
}
