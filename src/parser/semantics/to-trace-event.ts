/**
 * Semantics of the Trace grammar: a matched line → TraceEvent.
 *
 * Input:  ` TRACE: 2 8aefe197 nat:PREROUTING:rule:0x18:JUMP:DOCKER  -4 -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER`
 * Output: {type:'xt-hop', nfproto:2, traceId:'8aefe197', table:'nat', chain:'PREROUTING', hop:'rule', handle:24,
 *          verdict:'JUMP', target:'DOCKER', ruleText:'-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER'}
 */
import type * as ohm from 'ohm-js';
import {interpretFields, interpretNftItems, type RawField} from '../fields.js';
import type {Family, HopType, LineFormat, PacketFields, Stamp, TraceEvent} from '../types.js';

type Node = ohm.Node;

/** What the leads in front of a kernel record say: filled in by operation `lead(info)`. */
export interface LeadInfo {
	mono?: number;
	wall?: number;
	host?: string;
	stamps: string[];
}

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

/** Adds operation `event` (and its helpers) to a semantics of the Trace grammar. */
export function addToTraceEvent(semantics: ohm.Semantics): void {
	semantics.addOperation<{format: LineFormat; events: TraceEvent[]}>('events', {
		traceLine_nft(line) {
			return {format: 'nft-monitor', events: [line['nft']()]};
		},
		traceLine_xtables(line) {
			return {format: 'xtables-monitor', events: [line['xt']()]};
		},
		traceLine_kernel(line) {
			return {format: 'kernel', events: line['kernelRecords']()};
		},
	});

	semantics.addOperation<TraceEvent[]>('kernelRecords', {
		kernelLine(first, _gaps, rest, _eol) {
			return [first['kernel'](), ...rest.children.map(r => r['kernel']())];
		},
	});

	// ---- kernel lines -----------------------------------------------------------------------
	semantics.addOperation<TraceEvent>('kernel', {
		kernelRecord_known(leads, message) {
			const info: LeadInfo = {stamps: []};
			for (const lead of leads.children) lead['lead'](info);
			return withStamp(message['kernel'](), info);
		},
		kernelRecord_unknown(_lead, message) {
			return message['kernel']();
		},
		kernelMessage_trace(m) {
			return m['kernel']();
		},
		kernelMessage_ebtables(_m) {
			return {type: 'ignored', what: 'ebtables'};
		},
		kernelMessage_log(m) {
			return m['kernel']();
		},
		traceMessage_keyword(_kw, _g1, hop, _g2, packet) {
			return hopEvent(hop, packet);
		},
		traceMessage_bare(hop, _g, packet) {
			return hopEvent(hop, packet);
		},
		logMessage(prefix, _ahead, packet) {
			return {type: 'kernel-log', prefix: stripColour(prefix.sourceString).trim(), pkt: interpretFields(packet['rawFields']())};
		},
	});

	semantics.addOperation<void>('lead(info)', {
		lead_kmsg(h) {
			const info = this.args['info'] as LeadInfo;
			const [, , usec] = h.sourceString.split(',');
			info.mono ??= Number(usec) / 1e6;
			info.stamps.push(h.sourceString.replace(/;$/, ''));
		},
		lead_colour(_c) {},
		lead_priority(_a, _b, _c) {},
		lead_facility(_f) {},
		lead_monotonic(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.mono ??= monoFrom(stamp.sourceString);
			info.stamps.push(stamp.sourceString);
		},
		lead_ctime(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.wall ??= parseCtime(stamp.sourceString);
			info.stamps.push(stamp.sourceString);
		},
		lead_relative(stamp, _g) {
			(this.args['info'] as LeadInfo).stamps.push(stamp.sourceString);
		},
		lead_iso(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.wall ??= parseIso(stamp.sourceString);
			info.stamps.push(stamp.sourceString);
		},
		lead_syslog(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.wall ??= parseSyslog(stamp.sourceString);
			info.stamps.push(stamp.sourceString);
		},
		lead_weekday(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.wall ??= parseWeekday(stamp.sourceString);
			info.stamps.push(stamp.sourceString);
		},
		lead_unix(stamp, _g) {
			const info = this.args['info'] as LeadInfo;
			info.wall ??= Math.round(Number(stamp.sourceString) * 1000);
			info.stamps.push(stamp.sourceString);
		},
		lead_rfc5424(header) {
			const info = this.args['info'] as LeadInfo;
			const parts = header.sourceString.trim().split(/\s+/);
			info.wall ??= parseIso(parts[1] ?? '');
			info.host ??= parts[2];
			info.stamps.push(parts[1] ?? '');
		},
		lead_host(tag) {
			const info = this.args['info'] as LeadInfo;
			info.host ??= tag.sourceString.split(/\s+/)[0];
		},
		lead_kernel(_k, _g) {},
		lead_indent(_g) {},
	});

	// ---- packet fields (kernel and xtables-monitor) ------------------------------------------
	semantics.addOperation<RawField[]>('rawFields', {
		packet(first, _gaps, rest) {
			return [first['rawField'](), ...rest.children.map(f => f['rawField']())];
		},
	});

	const quoted = (_open: Node, _g1: Node, first: Node, _gaps: Node, rest: Node, _g2: Node, close: Node): RawField => ({
		k: 'quoted',
		fields: [first['rawField'](), ...rest.children.map(f => f['rawField']())],
		closed: close.sourceString === ']',
	});
	const options = (_open: Node, body: Node, close: Node): RawField => ({k: 'options', text: body.sourceString, closed: close.sourceString === ')'});
	const incomplete = (_a: Node, n: Node, _b: Node): RawField => ({k: 'incomplete', bytes: Number(n.sourceString)});
	const fragment = (_a: Node, n: Node): RawField => ({k: 'fragment', offset: Number(n.sourceString)});
	const keyValue = (key: Node, _eq: Node, value: Node): RawField => ({k: 'kv', key: key.sourceString, value: value.sourceString});
	const flag = (f: Node): RawField => ({k: 'flag', text: f.sourceString});

	semantics.addOperation<RawField>('rawField', {
		field_quoted: quoted,
		field_options: options,
		field_incomplete: incomplete,
		field_fragment: fragment,
		field_unknownExt: (_a, n) => ({k: 'unknownExt', header: Number(n.sourceString)}),
		field_keyValue: keyValue,
		field_flag: flag,
		quotedField_options: options,
		quotedField_incomplete: incomplete,
		quotedField_fragment: fragment,
		quotedField_keyValue: keyValue,
		quotedField_flag: flag,
	});

	// ---- xtables-monitor ----------------------------------------------------------------------
	semantics.addOperation<TraceEvent>('xt', {
		xtLine_packet(_sp, _kw, _g1, nfproto, _g2, id, _g3, packet, _eol) {
			return {type: 'xt-packet', nfproto: Number(nfproto.sourceString), traceId: id.sourceString.toLowerCase(), pkt: interpretFields(packet['rawFields']())};
		},
		xtLine_trace(_sp, _kw, _g1, nfproto, _g2, id, _g3, hop) {
			return {type: 'xt-hop', nfproto: Number(nfproto.sourceString), traceId: id.sourceString.toLowerCase(), ...hop['xtHop']()};
		},
		xtLine_event(_sp, _kw, _rest) {
			return {type: 'ignored', what: 'xtables-event'};
		},
	});

	semantics.addOperation<Record<string, unknown>>('xtHop', {
		xtHop_rule(table, _c1, chain, _kw, handle, _c2, verdict, text) {
			const v = verdict['xtVerdict']() as {verdict: string; target?: string};
			const ruleText = stripXtPrefix(text.sourceString);
			return {
				table: table.sourceString,
				chain: chain.sourceString,
				hop: 'rule' satisfies HopType,
				handle: Number.parseInt(handle.sourceString.slice(2), 16),
				...v,
				...(ruleText ? {ruleText} : {}),
			};
		},
		xtHop_return(table, _c1, chain, _kw, target, _eol) {
			const t = target.sourceString;
			return {table: table.sourceString, chain: chain.sourceString, hop: 'return' satisfies HopType, verdict: 'RETURN', ...(t ? {target: t} : {})};
		},
		xtHop_policy(table, _c1, chain, _kw, verdict, _eol) {
			return {table: table.sourceString, chain: chain.sourceString, hop: 'policy' satisfies HopType, ...verdict['xtVerdict']()};
		},
	});

	semantics.addOperation<{verdict: string; target?: string}>('xtVerdict', {
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
	semantics.addOperation<TraceEvent>('nft', {
		nftLine(_kw, id, _g1, family, _g2, table, _g3, chain, _g4, ev) {
			const fam = FAMILY_BY_NFT[family.children[0]?.sourceString ?? ''] ?? 'unknown';
			const base = {family: fam, traceId: id.sourceString.toLowerCase(), table: table.sourceString, chain: chain.sourceString};
			return ev['nftEvent'](base);
		},
	});

	semantics.addOperation<TraceEvent>('nftEvent(base)', {
		nftEvent_packet(_kw, _g, items) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-packet', ...base, pkt: interpretNftItems(items['nftItems'](), base.family)};
		},
		nftEvent_rule(_kw, text, tail) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-hop', ...base, hop: 'rule', ruleText: text.sourceString.trim(), ...tail['nftVerdict']()};
		},
		nftEvent_unknownRule(_kw, handle, tail) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-hop', ...base, hop: 'unknown-rule', handle: Number(handle.sourceString), ...tail['nftVerdict']()};
		},
		nftEvent_verdict(_kw, verdict, mark, _eol) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-hop', ...base, hop: 'verdict', ...verdict['nftVerdict'](), ...markOf(mark)};
		},
		nftEvent_policy(_kw, verdict, mark, _eol) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-hop', ...base, hop: 'policy', ...verdict['nftVerdict'](), ...markOf(mark)};
		},
		nftEvent_conntrack(_kw, rest) {
			const base = this.args['base'] as {family: Family; traceId: string; table: string; chain: string};
			return {type: 'nft-conntrack', ...base, text: rest.sourceString.trim()};
		},
	});

	semantics.addOperation<{verdict: string; target?: string}>('nftVerdict', {
		nftVerdictTail(_g, _kw, verdict, _close, _eol) {
			return verdict['nftVerdict']();
		},
		nftVerdict_jump(kind, _g, chain) {
			return {verdict: kind.sourceString, target: chain.sourceString};
		},
		nftVerdict_plain(word) {
			return {verdict: word.sourceString};
		},
	});

	semantics.addOperation<Array<readonly [string, string]>>('nftItems', {
		nftPacket(first, _gaps, rest, _eol) {
			return [first['nftItem'](), ...rest.children.map(i => i['nftItem']())];
		},
	});

	semantics.addOperation<readonly [string, string]>('nftItem', {
		nftItem_meta(key, _g, value) {
			return [key.sourceString, value.sourceString] as const;
		},
		nftItem_metaKey(_kw, _g1, key, _g2, value) {
			return [`meta ${key.sourceString}`, value.sourceString] as const;
		},
		nftItem_raw(_at, expr, _g, value) {
			return [`@${expr.sourceString}`, value.sourceString] as const;
		},
		nftItem_field(proto, _g1, field, _g2, _eq, _g3, value) {
			return [`${proto.sourceString} ${field.sourceString}`, value.sourceString] as const;
		},
	});
}

function stripColour(text: string): string {
	return text.replace(/\u001B\[[\d;]*m/g, '');
}

function markOf(mark: Node): {mark?: string} {
	const m = mark.children[0];
	return m ? {mark: m.sourceString.trim().replace(/^meta mark /, '')} : {};
}

/** table, chain, type and position of a `hop` node. */
export function hopOf(hop: Node): {table: string; chain: string; hop: HopType; num: number} {
	const [table, chain, hopType, n] = hop.sourceString.split(':') as [string, string, HopType, string];
	return {table, chain, hop: hopType, num: Number(n)};
}

/** The event of a kernel TRACE record. The segment parser builds the same object from cached pieces. */
export function kernelHopEvent(h: {table: string; chain: string; hop: HopType; num: number}, pkt: PacketFields): TraceEvent {
	return {type: 'kernel-hop', table: h.table, chain: h.chain, hop: h.hop, num: h.num, pkt};
}

function hopEvent(hop: Node, packet: Node): TraceEvent {
	return kernelHopEvent(hopOf(hop), interpretFields(packet['rawFields']()));
}

/** What the leads of a record add to its event: when it was logged, and on which host. */
export interface LeadValue {
	readonly time?: Stamp;
	readonly host?: string;
}

export function leadValue(info: LeadInfo): LeadValue {
	const time = stampOf(info);
	return {...(time ? {time} : {}), ...(info.host ? {host: info.host} : {})};
}

export function withLead(event: TraceEvent, lead: LeadValue): TraceEvent {
	if (event.type !== 'kernel-hop' && event.type !== 'kernel-log') return event;
	if (!lead.time && !lead.host) return event;
	return {...event, ...(lead.time ? {time: lead.time} : {}), ...(lead.host ? {host: lead.host} : {})};
}

function withStamp(event: TraceEvent, info: LeadInfo): TraceEvent {
	return withLead(event, leadValue(info));
}
