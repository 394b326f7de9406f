/**
 * Semantics of the Trace grammar: a matched line, or a piece of one, → TraceEvent and the
 * values it is built from. The segment parser (segments.ts) builds its events from the same
 * operations and helpers, so a line read in pieces gives what the line matched whole gives.
 *
 * Input:  ` TRACE: 2 8aefe197 nat:PREROUTING:rule:0x18:JUMP:DOCKER  -4 -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER`
 * Output: {type:'xt-hop', nfproto:2, traceId:'8aefe197', table:'nat', chain:'PREROUTING', hop:'rule', handle:24,
 *          verdict:'JUMP', target:'DOCKER', ruleText:'-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER'}
 */
import type * as ohm from 'ohm-js';
import {canonicalIp, interpretFields, interpretNftItems, type RawField} from '../fields.js';
import {kernelLogNames, kernelProtoName} from '../../netfilter/protocols.js';
import type {TraceSemantics} from '../grammar.js';
import type {Family, HopType, KernelBridgeEvent, LogNotice, PacketFields, Stamp, TraceEvent} from '../types.js';
import {addOperation, op} from './ops.js';

type Node = ohm.Node;

/** What the leads in front of a kernel record say, gathered lead by lead (applyLead). */
export interface LeadInfo {
	mono?: number;
	wall?: number;
	host?: string;
	stamps: string[];
}

/** What kind of lead a part of a line's prefix is, and where the text it is read from lies in the matched input. */
export interface LeadPart {
	readonly kind: 'kmsg' | 'monotonic' | 'ctime' | 'relative' | 'iso' | 'syslog' | 'weekday' | 'unix' | 'rfc5424' | 'host';
	readonly start: number;
	readonly end: number;
}

export interface HopValue {
	readonly table: string;
	readonly chain: string;
	readonly hop: HopType;
	readonly num: number;
}

export interface XtVerdictValue {
	readonly verdict: string;
	readonly target?: string;
}

/** An xtables-monitor hop without its line's family number and trace id. */
export type XtHopValue =
	| {readonly table: string; readonly chain: string; readonly hop: 'rule'; readonly handle: number; readonly verdict: string; readonly target?: string; readonly ruleText?: string}
	| {readonly table: string; readonly chain: string; readonly hop: 'return'; readonly verdict: 'RETURN'; readonly target?: string}
	| {readonly table: string; readonly chain: string; readonly hop: 'policy'; readonly verdict: string; readonly target?: string};

export interface NftVerdictValue {
	readonly verdict: string;
	readonly target?: string;
}

/** `selector value` of an nft packet line: ['ip saddr', '198.18.0.1']. */
export type NftItem = readonly [string, string];

/** The trace id, family, table and chain an nft line puts in front of its event. */
export interface NftBase {
	readonly family: Family;
	readonly traceId: string;
	readonly table: string;
	readonly chain: string;
}

/** An nft event without its line's NftBase (nftEventWith adds it). */
export type NftEventValue =
	| {readonly type: 'nft-packet'; readonly items: readonly NftItem[]}
	| {readonly type: 'nft-hop'; readonly hop: Omit<Extract<TraceEvent, {type: 'nft-hop'}>, 'type' | keyof NftBase>}
	| {readonly type: 'nft-conntrack'; readonly text: string};

const MONTHS: Record<string, number> = {Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11};

/** Wall-clock stamps without a zone are local time of the node that wrote them; tracewatch keeps them as written (treated as UTC) so ordering and display stay exact. */
function wallFromParts(year: number, month: number, day: number, clock: string, fraction = ''): number | undefined {
	const [h, m, s] = clock.split(':').map(Number);
	const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
	const t = Date.UTC(year, month, day, h, m, s, ms);
	return Number.isFinite(t) ? t : undefined;
}

function parseIso(text: string): number | undefined {
	const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(text);
	if (!m) return undefined;
	const base = wallFromParts(Number(m[1]), Number(m[2]) - 1, Number(m[3]), m[4]!, m[5]);
	if (base === undefined) return undefined;
	const zone = m[6];
	if (!zone || zone === 'Z') return base;
	const sign = zone.startsWith('-') ? -1 : 1;
	const digits = zone.slice(1).replace(':', '');
	return base - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

function parseSyslog(text: string): number | undefined {
	const m = /^([A-Za-z]{3})\s+(\d{1,2})\s+(\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
	if (!m) return undefined;
	const month = MONTHS[m[1]!];
	if (month === undefined) return undefined;
	return wallFromParts(new Date().getUTCFullYear(), month, Number(m[2]), m[3]!, m[4]);
}

function parseCtime(text: string): number | undefined {
	const m = /^\[[A-Za-z]+\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d\d:\d\d:\d\d)\s+(\d{4})\]$/.exec(text);
	if (!m) return undefined;
	const month = MONTHS[m[1]!];
	if (month === undefined) return undefined;
	return wallFromParts(Number(m[4]), month, Number(m[2]), m[3]!);
}

function parseWeekday(text: string): number | undefined {
	const m = /^[A-Za-z]+\s+(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(text);
	return m ? parseIso(`${m[1]}T${m[2]}${m[3] ? `.${m[3]}` : ''}`) : undefined;
}

function monoFrom(text: string): number | undefined {
	const m = /^\[\s*(\d+\.\d+)/.exec(text);
	return m ? Number(m[1]) : undefined;
}

export function stampOf(info: LeadInfo): Stamp | undefined {
	if (info.stamps.length === 0 && info.mono === undefined && info.wall === undefined) return undefined;
	const s: {mono?: number; wall?: number; text: string} = {text: info.stamps.join(' ')};
	if (info.mono !== undefined) s.mono = info.mono;
	if (info.wall !== undefined) s.wall = info.wall;
	return s;
}

const FAMILY_BY_NFT: Record<string, Family> = {ip: 'ipv4', ip6: 'ipv6', inet: 'inet', arp: 'arp', bridge: 'bridge', netdev: 'netdev'};

/** Removes the `-4 -t raw ` (≤ 1.8.10) or `iptables -t raw ` (1.8.11) prefix xtables-monitor puts before the rule. */
function stripXtPrefix(text: string): string {
	return text
		.trim()
		.replace(/^(?:(?:ip6?tables|arptables|ebtables)(?:-nft)?\s+|-[46]\s+|-0\s+)?(?:-t\s+\S+\s+)?/, '')
		.trim();
}

/** Adds the operations that build a line's events (TraceOps) to the semantics of the Trace grammar. */
export function addToTraceEvent(semantics: TraceSemantics): void {
	addOperation(semantics, 'events', {
		traceLine_nft(line) {
			return {format: 'nft-monitor', events: [op(line, 'nft')]};
		},
		traceLine_xtables(line) {
			return {format: 'xtables-monitor', events: [op(line, 'xt')]};
		},
		traceLine_kernel(line) {
			return {format: 'kernel', events: op(line, 'kernelRecords')};
		},
	});

	// ---- kernel lines -----------------------------------------------------------------------
	addOperation(semantics, 'kernelRecords', {
		kernelLine_trace(head, _sp1, hop, _sp2, first, fields) {
			const pkt = interpretFields([op(first, 'rawField'), ...op(fields, 'fieldList')]);
			const event = withLead(kernelHopEvent(op(hop, 'hopValue'), pkt), leadValueOf(op(head, 'leadParts'), head.source.sourceString));
			return [event, ...op(fields, 'records')];
		},
		kernelLine_records(first, _gaps, rest, _eol) {
			return [op(first, 'kernel'), ...rest.children.map(r => op(r, 'kernel'))];
		},
	});

	addOperation(semantics, 'kernel', {
		kernelRecord_known(leads, message) {
			return withLead(op(message, 'kernel'), leadValueOf(op(leads, 'leadParts'), leads.source.sourceString));
		},
		kernelRecord_unknown(_lead, message) {
			return op(message, 'kernel');
		},
		kernelMessage_trace(m) {
			return op(m, 'kernel');
		},
		kernelMessage_bridge(m) {
			return op(m, 'kernel');
		},
		bridgeMessage(prefix, _in, inPort, _g1, _out, outPort, _g2, _ms, _g3, macsrc, _g4, _md, _g5, macdst, _g6, _pr, _g7, ethertype, network) {
			const pkt: PacketFields = {family: 'bridge', in: inPort.sourceString, out: outPort.sourceString, macsrc: macsrc.sourceString, macdst: macdst.sourceString};
			pkt.ethertype = Number.parseInt(ethertype.sourceString.slice(2), 16);
			const n = network.children[0];
			if (n) Object.assign(pkt, op(n, 'bridgeNetwork'));
			const named = prefix.child(0).ctorName === 'bridgePrefix_named' ? op(prefix.child(0), 'bridgeChain') : undefined;
			const event: KernelBridgeEvent = {type: 'kernel-bridge', prefix: stripColour(prefix.sourceString).trim(), ...(named ?? {}), pkt};
			return event;
		},
		kernelMessage_log(m) {
			return op(m, 'kernel');
		},
		traceMessage_keyword(_kw, _g1, hop, _g2, packet) {
			return kernelHopEvent(op(hop, 'hopValue'), interpretFields(op(packet, 'rawFields')));
		},
		traceMessage_bare(hop, _g, packet) {
			return kernelHopEvent(op(hop, 'hopValue'), interpretFields(op(packet, 'rawFields')));
		},
		logMessage(prefix, _ahead, packet) {
			return {type: 'kernel-log', prefix: stripColour(prefix.sourceString).trim(), pkt: interpretFields(op(packet, 'rawFields'))};
		},
	});

	addOperation(semantics, 'bridgeChain', {
		bridgePrefix_named(_kw, _g1, _eb, table, _c, chain, _g2) {
			return {table: table.sourceString, chain: chain.sourceString};
		},
	});

	/** The protocol number ebt_log prints in the kernel log's spelling (Packet.proto). */
	const bridgeProto = (n: Node): string => {
		const v = Number(n.sourceString);
		return kernelLogNames(v) ? (kernelProtoName(String(v)) ?? String(v)) : String(v);
	};
	const ports = (p: Node): Partial<PacketFields> => {
		const c = p.children[0];
		return c ? op(c, 'bridgeNetwork') : {};
	};
	addOperation(semantics, 'bridgeNetwork', {
		bridgeNetwork_ip(_g1, _s, src, _g2, _d, dst, _c1, _g3, _t, tos, _c2, _g4, _p, proto, p) {
			return {src: canonicalIp(src.sourceString), dst: canonicalIp(dst.sourceString), tos: Number.parseInt(tos.sourceString.slice(2), 16), proto: bridgeProto(proto), ...ports(p)};
		},
		bridgeNetwork_ip6(_g1, _s, src, _g2, _d, dst, _c1, _g3, _t, prio, _c2, _g4, _n, next, p) {
			// The priority is the top four bits of the traffic class (struct ipv6hdr's priority).
			return {src: canonicalIp(src.sourceString), dst: canonicalIp(dst.sourceString), tc: Number.parseInt(prio.sourceString.slice(2), 16) << 4, proto: bridgeProto(next), ...ports(p)};
		},
		bridgeNetwork_arp(_g1, _h, htype, _c1, _g2, _p, ptype, _c2, _g3, _o, opcode, payload) {
			const arp: {op: number; htype: number; ptype: number} = {op: Number(opcode.sourceString), htype: Number(htype.sourceString), ptype: Number.parseInt(ptype.sourceString.slice(2), 16)};
			const c = payload.children[0];
			return {proto: 'ARP', ...(c ? op(c, 'bridgeNetwork') : {}), arp: {...arp, ...(c ? op(c, 'bridgeArpHw') : {})}};
		},
		bridgeNetwork_incomplete(_g, _kw, _what, _h) {
			return {cut: true};
		},
		bridgePorts_ports(_g1, _s, spt, _g2, _d, dpt) {
			return {spt: Number(spt.sourceString), dpt: Number(dpt.sourceString)};
		},
		bridgePorts_incomplete(_g, _kw) {
			return {cut: true};
		},
		bridgeArp_payload(_g1, _ms, _sha, _g2, _is, spa, _g3, _md, _tha, _g4, _id, tpa) {
			return {src: canonicalIp(spa.sourceString), dst: canonicalIp(tpa.sourceString)};
		},
		bridgeArp_incomplete(_g, _kw) {
			return {cut: true};
		},
	});
	addOperation(semantics, 'bridgeArpHw', {
		bridgeArp_payload(_g1, _ms, sha, _g2, _is, _spa, _g3, _md, tha, _g4, _id, _tpa) {
			return {sha: sha.sourceString, tha: tha.sourceString};
		},
		bridgeArp_incomplete(_g, _kw) {
			return {};
		},
	});

	// ---- lines that say the log lost lines -------------------------------------------------
	const notice = (what: LogNotice['what'], node: Node, count: Node | undefined, leads?: Node): LogNotice => {
		const time = leads ? leadValueOf(op(leads, 'leadParts'), leads.source.sourceString).time : undefined;
		return {what, ...(count ? {count: Number(count.sourceString)} : {}), text: stripColour(node.sourceString).trim(), ...(time ? {time} : {})};
	};
	addOperation(semantics, 'notice', {
		noticeLine_kernel(leads, message, _eol) {
			const m = message.child(0);
			const what = m.ctorName === 'kernelNotice_dropped' ? 'dropped' : 'suppressed';
			const count = m.children.find(c => c.ctorName === 'dec');
			return notice(what, message, count, leads);
		},
		noticeLine_journal(leads, _tag, message) {
			return notice('suppressed', message, message.children.find(c => c.ctorName === 'dec'), leads);
		},
		noticeLine_tool(message) {
			return notice('tool-error', message, undefined);
		},
	});

	addOperation(semantics, 'leadParts', {
		kernelHead(leads, _kw) {
			return op(leads, 'leadParts');
		},
		kernelLeads(leads) {
			const parts: LeadPart[] = [];
			for (const lead of leads.children) {
				const part = op(lead, 'leadPart');
				if (part) parts.push(part);
			}
			return parts;
		},
	});

	/** The part of a lead that says something, and which kind of thing. */
	const part = (kind: LeadPart['kind'], node: Node): LeadPart => ({kind, start: node.source.startIdx, end: node.source.endIdx});
	addOperation(semantics, 'leadPart', {
		lead_kmsg: h => part('kmsg', h),
		lead_colour: _c => undefined,
		lead_priority: (_a, _b, _c) => undefined,
		lead_facility: _f => undefined,
		lead_monotonic: (stamp, _g) => part('monotonic', stamp),
		lead_ctime: (stamp, _g) => part('ctime', stamp),
		lead_relative: (stamp, _g) => part('relative', stamp),
		lead_iso: (stamp, _g) => part('iso', stamp),
		lead_syslog: (stamp, _g) => part('syslog', stamp),
		lead_weekday: (stamp, _g) => part('weekday', stamp),
		lead_unix: (stamp, _g) => part('unix', stamp),
		lead_rfc5424: header => part('rfc5424', header),
		lead_host: tag => part('host', tag),
		lead_kernel: (_k, _g) => undefined,
		lead_indent: _g => undefined,
	});

	addOperation(semantics, 'fieldShape', {
		fieldWord_keyValue: keyValueShape,
		fieldWord_fragment: fragmentShape,
		fieldWord_flag: flagShape,
	});

	addOperation(semantics, 'hopValue', {
		hop(table, _c1, chain, _c2, type, _c3, n) {
			// hopType is "rule", "return" or "policy".
			return {table: table.sourceString, chain: chain.sourceString, hop: type.sourceString as HopType, num: Number(n.sourceString)};
		},
	});

	// ---- packet fields (kernel and xtables-monitor) ------------------------------------------
	addOperation(semantics, 'rawFields', {
		packet(first, _gaps, rest) {
			return [op(first, 'rawField'), ...rest.children.map(f => op(f, 'rawField'))];
		},
	});

	addOperation(semantics, 'fieldList', {
		kernelFields(_gaps, fields, _gaps2, _records, _eol) {
			return fields.children.map(f => op(f, 'rawField'));
		},
		xtFields(_gaps, fields, _eol) {
			return fields.children.map(f => op(f, 'rawField'));
		},
	});

	addOperation(semantics, 'records', {
		kernelFields(_gaps, _fields, _gaps2, records, _eol) {
			return records.children.map(r => op(r, 'kernel'));
		},
	});

	const quoted = (_open: Node, _g1: Node, first: Node, _gaps: Node, rest: Node, _g2: Node, close: Node): RawField => ({
		k: 'quoted',
		fields: [op(first, 'rawField'), ...rest.children.map(f => op(f, 'rawField'))],
		closed: close.sourceString === ']',
	});
	const options = (_open: Node, body: Node, close: Node): RawField => ({k: 'options', text: body.sourceString, closed: close.sourceString === ')'});
	const incomplete = (_a: Node, n: Node, _b: Node): RawField => ({k: 'incomplete', bytes: Number(n.sourceString)});
	// KEY=value, FRAG:n and flags are built from where their parts lie (FieldShape), the way the
	// segment parser builds them from a word it looked up with its digits read as 0.
	const fragment = (_a: Node, n: Node): RawField => fieldOf(fragmentShape(_a, n), n.source.sourceString);
	const keyValue = (key: Node, eq: Node, value: Node): RawField => fieldOf(keyValueShape(key, eq, value), key.source.sourceString);
	const flag = (f: Node): RawField => fieldOf(flagShape(f), f.source.sourceString);

	addOperation(semantics, 'rawField', {
		nextField_word: f => op(f, 'rawField'),
		nextField_other: f => op(f, 'rawField'),
		field_word: f => op(f, 'rawField'),
		field_group: f => op(f, 'rawField'),
		field_flag: flag,
		fieldWord_keyValue: keyValue,
		fieldWord_fragment: fragment,
		fieldWord_flag: flag,
		fieldGroup_quoted: quoted,
		fieldGroup_options: options,
		fieldGroup_incomplete: incomplete,
		fieldGroup_unknownExt: (_a, n) => ({k: 'unknownExt', header: Number(n.sourceString)}),
		quotedField_options: options,
		quotedField_incomplete: incomplete,
		quotedField_fragment: fragment,
		quotedField_keyValue: keyValue,
		quotedField_flag: flag,
	});

	// ---- xtables-monitor ----------------------------------------------------------------------
	addOperation(semantics, 'nfproto', {
		dec: digits => Number(digits.sourceString),
	});
	addOperation(semantics, 'traceIdValue', {
		traceId: digits => digits.sourceString.toLowerCase(),
	});

	addOperation(semantics, 'xt', {
		xtLine_packet(_sp, _kw, _g1, nfproto, _g2, id, _g3, first, fields) {
			const pkt = interpretFields([op(first, 'rawField'), ...op(fields, 'fieldList')]);
			return {type: 'xt-packet', nfproto: op(nfproto, 'nfproto'), traceId: op(id, 'traceIdValue'), pkt};
		},
		xtLine_trace(_sp, _kw, _g1, nfproto, _g2, id, _g3, hop) {
			return xtHopEvent(op(nfproto, 'nfproto'), op(id, 'traceIdValue'), op(hop, 'xtHop'));
		},
		xtLine_event(_sp, _kw, _rest) {
			return {type: 'ignored', what: 'xtables-event'};
		},
	});

	addOperation(semantics, 'xtHop', {
		xtHop_rule(table, _c1, chain, _kw, handle, _c2, verdict, text) {
			const ruleText = stripXtPrefix(text.sourceString);
			return {
				table: table.sourceString,
				chain: chain.sourceString,
				hop: 'rule',
				handle: Number.parseInt(handle.sourceString.slice(2), 16),
				...op(verdict, 'xtVerdict'),
				...(ruleText ? {ruleText} : {}),
			};
		},
		xtHop_return(table, _c1, chain, _kw, target, _eol) {
			const t = target.sourceString;
			return {table: table.sourceString, chain: chain.sourceString, hop: 'return', verdict: 'RETURN', ...(t ? {target: t} : {})};
		},
		xtHop_policy(table, _c1, chain, _kw, verdict, _eol) {
			return {table: table.sourceString, chain: chain.sourceString, hop: 'policy', ...op(verdict, 'xtVerdict')};
		},
	});

	addOperation(semantics, 'xtVerdict', {
		xtVerdict_named(name, _colon, chain) {
			const target = chain.children[0]?.sourceString;
			return target ? {verdict: name.sourceString, target} : {verdict: name.sourceString};
		},
		xtVerdict_number(n) {
			// print_verdict() has no RETURN case: NFT_RETURN (-5) prints as 0xfffffffb.
			const value = Number.parseInt(n.sourceString.slice(2), 16) | 0;
			const named: Record<number, string> = {[-5]: 'RETURN', [-1]: 'CONTINUE', [-2]: 'BREAK', [-3]: 'JUMP', [-4]: 'GOTO'};
			return {verdict: named[value] ?? n.sourceString};
		},
	});

	// ---- nft monitor trace --------------------------------------------------------------------
	addOperation(semantics, 'familyValue', {
		nftFamily: name => FAMILY_BY_NFT[name.sourceString] ?? 'unknown',
	});

	addOperation(semantics, 'nft', {
		nftLine(_kw, id, _g1, family, _g2, table, _g3, chain, _g4, ev) {
			const f = family.children[0];
			const base: NftBase = {family: f ? op(f, 'familyValue') : 'unknown', traceId: op(id, 'traceIdValue'), table: table.sourceString, chain: chain.sourceString};
			return nftEventWith(base, op(ev, 'nftEvent'));
		},
	});

	addOperation(semantics, 'nftEvent', {
		nftEvent_packet(_kw, _g, items) {
			return {type: 'nft-packet', items: op(items, 'nftItems')};
		},
		nftEvent_rule(_kw, text, tail) {
			return {type: 'nft-hop', hop: {hop: 'rule', ruleText: text.sourceString.trim(), ...op(tail, 'nftVerdict')}};
		},
		nftEvent_unknownRule(_kw, handle, tail) {
			return {type: 'nft-hop', hop: {hop: 'unknown-rule', handle: Number(handle.sourceString), ...op(tail, 'nftVerdict')}};
		},
		nftEvent_verdict(_kw, verdict, mark, _eol) {
			return {type: 'nft-hop', hop: {hop: 'verdict', ...op(verdict, 'nftVerdict'), ...markOf(mark)}};
		},
		nftEvent_policy(_kw, verdict, mark, _eol) {
			return {type: 'nft-hop', hop: {hop: 'policy', ...op(verdict, 'nftVerdict'), ...markOf(mark)}};
		},
		nftEvent_conntrack(_kw, rest) {
			return {type: 'nft-conntrack', text: rest.sourceString.trim()};
		},
	});

	addOperation(semantics, 'nftVerdict', {
		nftVerdictTail(_g, _kw, verdict, _close, _eol) {
			return op(verdict, 'nftVerdict');
		},
		nftVerdict_jump(kind, _g, chain) {
			return {verdict: kind.sourceString, target: chain.sourceString};
		},
		nftVerdict_plain(word) {
			return {verdict: word.sourceString};
		},
	});

	addOperation(semantics, 'nftItems', {
		nftPacket(first, rest) {
			return [op(first, 'nftItem'), ...op(rest, 'nftItems')];
		},
		nftItems(_gaps, items, _eol) {
			return items.children.map(i => op(i, 'nftItem'));
		},
	});

	addOperation(semantics, 'nftItem', {
		nftItem_meta(key, _g, value) {
			return [key.sourceString, value.sourceString] as const;
		},
		nftItem_metaKey(_kw, _g1, key, _g2, value) {
			return [`meta ${key.sourceString}`, value.sourceString] as const;
		},
		nftItem_raw(key, _g, value) {
			return [key.sourceString, value.sourceString] as const;
		},
		nftItem_field(proto, _g1, field, _g2, _eq, _g3, value) {
			return [`${proto.sourceString} ${field.sourceString}`, value.sourceString] as const;
		},
	});
}

/** Where the parts of a field of one word lie in the matched input (fieldOf reads them). */
export type FieldShape =
	| {readonly k: 'kv'; readonly key: number; readonly eq: number; readonly end: number}
	| {readonly k: 'fragment'; readonly start: number; readonly end: number}
	| {readonly k: 'flag'; readonly start: number; readonly end: number};

function keyValueShape(key: Node, eq: Node, value: Node): FieldShape {
	return {k: 'kv', key: key.source.startIdx, eq: eq.source.startIdx, end: value.source.endIdx};
}

function fragmentShape(_kw: Node, n: Node): FieldShape {
	return {k: 'fragment', start: n.source.startIdx, end: n.source.endIdx};
}

function flagShape(f: Node): FieldShape {
	return {k: 'flag', start: f.source.startIdx, end: f.source.endIdx};
}

/** The field whose parts lie in `input` where `shape` says. */
export function fieldOf(shape: FieldShape, input: string): RawField {
	switch (shape.k) {
		case 'kv': {
			return {k: 'kv', key: input.slice(shape.key, shape.eq), value: input.slice(shape.eq + 1, shape.end)};
		}
		case 'fragment': {
			return {k: 'fragment', offset: Number(input.slice(shape.start, shape.end))};
		}
		case 'flag': {
			return {k: 'flag', text: input.slice(shape.start, shape.end)};
		}
	}
}

function stripColour(text: string): string {
	return text.replace(/\u001B\[[\d;]*m/g, '');
}

function markOf(mark: Node): {mark?: string} {
	const m = mark.children[0];
	return m ? {mark: m.sourceString.trim().replace(/^meta mark /, '')} : {};
}

/** The event of a kernel TRACE record. */
export function kernelHopEvent(h: HopValue, pkt: PacketFields): TraceEvent {
	return {type: 'kernel-hop', table: h.table, chain: h.chain, hop: h.hop, num: h.num, pkt};
}

export function xtHopEvent(nfproto: number, traceId: string, hop: XtHopValue): TraceEvent {
	return {type: 'xt-hop', nfproto, traceId, ...hop};
}

/** An nft event with its line's trace id, family, table and chain. */
export function nftEventWith(base: NftBase, ev: NftEventValue): TraceEvent {
	switch (ev.type) {
		case 'nft-packet': {
			return {type: 'nft-packet', ...base, pkt: interpretNftItems(ev.items, base.family)};
		}
		case 'nft-hop': {
			return {type: 'nft-hop', ...base, ...ev.hop};
		}
		case 'nft-conntrack': {
			return {type: 'nft-conntrack', ...base, text: ev.text};
		}
	}
}

/** What the leads of a record add to its event: when it was logged, and on which host. */
export interface LeadValue {
	readonly time?: Stamp;
	readonly host?: string;
}

/** Adds what one lead says to `info`; `text` is the lead part's text (LeadPart). The first stamp of each kind and the first host win. */
export function applyLead(info: LeadInfo, kind: LeadPart['kind'], text: string): void {
	switch (kind) {
		case 'kmsg': {
			const [, , usec] = text.split(',');
			info.mono ??= Number(usec) / 1e6;
			info.stamps.push(text.replace(/;$/, ''));
			break;
		}
		case 'monotonic': {
			info.mono ??= monoFrom(text);
			info.stamps.push(text);
			break;
		}
		case 'ctime': {
			info.wall ??= parseCtime(text);
			info.stamps.push(text);
			break;
		}
		case 'relative': {
			info.stamps.push(text);
			break;
		}
		case 'iso': {
			info.wall ??= parseIso(text);
			info.stamps.push(text);
			break;
		}
		case 'syslog': {
			info.wall ??= parseSyslog(text);
			info.stamps.push(text);
			break;
		}
		case 'weekday': {
			info.wall ??= parseWeekday(text);
			info.stamps.push(text);
			break;
		}
		case 'unix': {
			info.wall ??= Math.round(Number(text) * 1000);
			info.stamps.push(text);
			break;
		}
		case 'rfc5424': {
			const parts = text.trim().split(/\s+/);
			info.wall ??= parseIso(parts[1] ?? '');
			info.host ??= parts[2];
			info.stamps.push(parts[1] ?? '');
			break;
		}
		case 'host': {
			info.host ??= text.split(/\s+/)[0];
			break;
		}
	}
}

/** What a record's leads say, from their parts (positions in `input`). */
export function leadValueOf(parts: readonly LeadPart[], input: string): LeadValue {
	const info: LeadInfo = {stamps: []};
	for (const p of parts) applyLead(info, p.kind, input.slice(p.start, p.end));
	return leadValue(info);
}

export function leadValue(info: LeadInfo): LeadValue {
	const time = stampOf(info);
	return {...(time ? {time} : {}), ...(info.host ? {host: info.host} : {})};
}

export function withLead(event: TraceEvent, lead: LeadValue): TraceEvent {
	if (event.type !== 'kernel-hop' && event.type !== 'kernel-log' && event.type !== 'kernel-bridge') return event;
	if (!lead.time && !lead.host) return event;
	return {...event, ...(lead.time ? {time: lead.time} : {}), ...(lead.host ? {host: lead.host} : {})};
}
