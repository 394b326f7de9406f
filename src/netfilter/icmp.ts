/**
 * ICMP and ICMPv6 message types: their numbers, the names tools print, and what each message is
 * for (a query that expects an answer, the answer, an error that quotes a packet).
 *
 * Input:  ('ICMP', 3, 4), ('ICMPv6', 'nd-neighbor-solicit')
 * Output: icmpName('ICMP', 3, 4) === 'frag-needed'; icmpTypeNumber('ICMPv6', 'nd-neighbor-solicit') === 135;
 *         answerType('ICMP', 8) === 0; isIcmpError('ICMPv6', 2) === true
 *
 * Numbers: RFC 792 / RFC 4443 and the IANA registries; names as nft and iptables print them
 * (nftables src/proto.c, iptables extensions/libxt_icmp.c).
 */
import {canonicalIp} from './addr.js';

export type IcmpProto = 'ICMP' | 'ICMPv6';

/** nft / iptables type names → number. */
const TYPE_NUMBER: Readonly<Record<IcmpProto, Readonly<Record<string, number>>>> = {
	ICMP: {
		'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9,
		'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14,
		'info-request': 15, 'info-reply': 16, 'address-mask-request': 17, 'address-mask-reply': 18,
	},
	ICMPv6: {
		'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3, 'parameter-problem': 4, 'echo-request': 128, 'echo-reply': 129,
		'mld-listener-query': 130, 'mld-listener-report': 131, 'mld-listener-done': 132, 'mld-listener-reduction': 132, 'nd-router-solicit': 133,
		'nd-router-advert': 134, 'nd-neighbor-solicit': 135, 'nd-neighbor-advert': 136, 'nd-redirect': 137, 'router-renumbering': 138,
		'ind-neighbor-solicit': 141, 'ind-neighbor-advert': 142, 'mld2-listener-report': 143,
	},
};

/** nft / iptables code names → number (unreachable codes of both families). */
const CODE_NUMBER: Readonly<Record<string, number>> = {
	'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'frag-needed': 4, 'net-prohibited': 9,
	'host-prohibited': 10, 'admin-prohibited': 13, 'no-route': 0, 'addr-unreachable': 3, 'policy-fail': 5, 'reject-route': 6,
};

/** Short names tracewatch shows. */
const SHOWN: Readonly<Record<IcmpProto, Readonly<Record<number, string>>>> = {
	ICMP: {0: 'echo-reply', 3: 'unreachable', 4: 'source-quench', 5: 'redirect', 8: 'echo-request', 11: 'time-exceeded', 12: 'parameter-problem'},
	ICMPv6: {
		1: 'unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem', 128: 'echo-request', 129: 'echo-reply', 133: 'router-solicit',
		130: 'mld-query', 131: 'mld-report', 132: 'mld-done', 134: 'router-advert', 135: 'neighbor-solicit', 136: 'neighbor-advert', 143: 'mld2-report',
	},
};

/** The number of a type given by name (nft, iptables) or number; undefined when neither. */
export function icmpTypeNumber(proto: IcmpProto, name: string): number | undefined {
	const n = TYPE_NUMBER[proto][name];
	if (n !== undefined) return n;
	return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** The number of a code given by name or number; undefined when neither. */
export function icmpCodeNumber(name: string): number | undefined {
	const n = CODE_NUMBER[name];
	if (n !== undefined) return n;
	return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** The short name tracewatch shows for a message (`frag-needed`, `echo-request`), or undefined for a type it has no name for. */
export function icmpName(proto: string, type: number, code?: number): string | undefined {
	if (proto === 'ICMP' && type === 3 && code === 4) return 'frag-needed';
	if (proto !== 'ICMP' && proto !== 'ICMPv6') return undefined;
	return SHOWN[proto][type];
}

/** Queries and the type that answers each: echo, timestamp, information, address mask; ICMPv6 echo. */
const ANSWER: Readonly<Record<IcmpProto, Readonly<Record<number, number>>>> = {
	ICMP: {8: 0, 13: 14, 15: 16, 17: 18},
	ICMPv6: {128: 129},
};

/** The type that answers a query of type `type`, or undefined when `type` is not a query. */
export function answerType(proto: string, type: number): number | undefined {
	return proto === 'ICMP' || proto === 'ICMPv6' ? ANSWER[proto][type] : undefined;
}

/** The query type that `type` answers, or undefined when `type` is not an answer. */
export function queryType(proto: string, type: number): number | undefined {
	if (proto !== 'ICMP' && proto !== 'ICMPv6') return undefined;
	for (const [q, a] of Object.entries(ANSWER[proto])) if (a === type) return Number(q);
	return undefined;
}

/** A query: a message that asks for an answer of the same id and sequence. */
export function isIcmpQuery(proto: string, type: number): boolean {
	return answerType(proto, type) !== undefined;
}

/** Messages that quote the packet they are about: unreachable, source quench, redirect, time exceeded, parameter problem; ICMPv6 1–4. */
export function isIcmpError(proto: string, type: number): boolean {
	if (proto === 'ICMP') return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
	return proto === 'ICMPv6' && type >= 1 && type <= 4;
}

/** Errors that say a packet could not be delivered: unreachable (and too big), time exceeded, parameter problem; not redirect or source quench. */
export function isDeliveryError(proto: string, type: number): boolean {
	if (proto === 'ICMP') return type === 3 || type === 11 || type === 12;
	return proto === 'ICMPv6' && type >= 1 && type <= 4;
}

/** "Fragmentation needed" (ICMP 3/4) or "packet too big" (ICMPv6 2): the path MTU is smaller than the packet. */
export function isFragNeeded(proto: string, type: number, code: number | undefined): boolean {
	return (proto === 'ICMP' && type === 3 && code === 4) || (proto === 'ICMPv6' && type === 2);
}

/** "Time exceeded": the TTL or hop limit ran out on the way. */
export function isTimeExceeded(proto: string, type: number): boolean {
	return (proto === 'ICMP' && type === 11) || (proto === 'ICMPv6' && type === 3);
}

/** Echo request and reply: the kernel log prints their identifier and sequence (ID= SEQ=), so a line without SEQ= was cut. */
export function printsIcmpSequence(proto: string, type: number): boolean {
	return proto === 'ICMP' ? type === 0 || type === 8 : proto === 'ICMPv6' && (type === 128 || type === 129);
}

/**
 * ICMPv6 neighbour discovery (RFC 4861) and multicast listener discovery (RFC 2710, RFC 3810):
 * the messages that ask (router and neighbour solicitation, listener query) and the types that
 * answer each (router and neighbour advertisement, listener reports of version 1 and 2).
 */
const ND_ANSWERS: Readonly<Record<number, readonly number[]>> = {133: [134], 135: [136], 130: [131, 143]};

/** The ICMPv6 types that answer a neighbour-discovery or MLD request of type `type`, or undefined when it is not one. */
export function ndAnswerTypes(type: number): readonly number[] | undefined {
	return ND_ANSWERS[type];
}

/** The neighbour-discovery or MLD request type that an ICMPv6 message of type `type` answers, or undefined. */
export function ndRequestType(type: number): number | undefined {
	for (const [q, answers] of Object.entries(ND_ANSWERS)) if (answers.includes(type)) return Number(q);
	return undefined;
}

/**
 * What an MLD message (RFC 2710, RFC 3810) says beyond its type, read from the bytes nft prints
 * for an ICMPv6 header behind a hop-by-hop header (`@th,0,160 0x8200…`: its first 20 bytes).
 * The kernel log and xtables-monitor print none of it. A field absent is not known.
 */
export interface MldInfo {
	/** A query's Maximum Response Delay in milliseconds: how long a listener may wait before it reports (MLDv2's Maximum Response Code decoded). */
	readonly maxDelay?: number;
	/** The multicast address it is about, when shown whole: `::` for a general query. */
	readonly group?: string;
	/** The start of that address when only its first bytes are shown, as hex groups (`ff02:0000:0000:0000`). */
	readonly groupStart?: string;
	/** An MLDv2 report: how many address records it holds. */
	readonly records?: number;
	/** An MLDv2 report: the type of its first record (1, 2: current state, sent in answer to a query; 3–6: a change of state, sent unsolicited). */
	readonly recordType?: number;
}

/** MLD message types: listener query, version 1 report and done, version 2 report. */
export function isMld(type: number): boolean {
	return type === 130 || type === 131 || type === 132 || type === 143;
}

/** Names of MLDv2 address record types (RFC 3810 5.2.12). */
export const MLD_RECORD_TYPES: Readonly<Record<number, string>> = {
	1: 'mode-is-include', 2: 'mode-is-exclude', 3: 'change-to-include', 4: 'change-to-exclude', 5: 'allow-new-sources', 6: 'block-old-sources',
};

/** The address bytes as IPv6 text (16 bytes), or the hex groups of the bytes shown (fewer). */
function addressBytes(bytes: readonly number[]): {whole?: string; start?: string} {
	const groups: string[] = [];
	for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).padStart(4, '0'));
	if (bytes.length === 16) return {whole: canonicalIp(groups.join(':'))};
	return groups.length > 0 ? {start: groups.join(':')} : {};
}

/**
 * The ICMPv6 header in the bytes nft prints raw (`0x8200…`, from its first byte) when it does not
 * know the protocol (behind an IPv6 extension header): type, code, and, for MLD, what the shown
 * bytes of its body say. `dst` is the packet's destination: a query about one address and an
 * MLDv1 report are sent to that address (RFC 2710 5, RFC 3810 5.1.15), which completes the address
 * when only its start is shown. `icmpLen` is the ICMPv6 message's length when known exactly.
 * Undefined when the bytes are not whole hex or shorter than a type and code.
 */
export function icmpv6FromBytes(hex: string, dst: string | undefined, icmpLen?: number): {type: number; code: number; id?: number; seq?: number; mld?: MldInfo} | undefined {
	const h = hex.replace(/^0x/i, '');
	if (!/^(?:[\da-f]{2})+$/i.test(h) || h.length < 4) return undefined;
	const b: number[] = [];
	for (let i = 0; i < h.length; i += 2) b.push(Number.parseInt(h.slice(i, i + 2), 16));
	const type = b[0]!;
	const code = b[1]!;
	const u16 = (i: number): number | undefined => (b.length >= i + 2 ? (b[i]! << 8) | b[i + 1]! : undefined);
	if (type === 128 || type === 129) {
		const id = u16(4);
		const seq = u16(6);
		return {type, code, ...(id === undefined ? {} : {id}), ...(seq === undefined ? {} : {seq})};
	}
	if (!isMld(type)) return {type, code};
	const mld: {maxDelay?: number; group?: string; groupStart?: string; records?: number; recordType?: number} = {};
	const groupAt = type === 143 ? 12 : 8;
	const shown = b.slice(groupAt, groupAt + 16);
	if (type === 143) {
		const records = u16(6);
		if (records !== undefined) mld.records = records;
		if (records !== undefined && records > 0 && b.length > 8) mld.recordType = b[8]!;
	}
	if (type === 130) {
		const code16 = u16(4);
		// MLDv1: the delay in ms. MLDv2: the same below 32768, else a floating-point code
		// (RFC 3810 5.1.3), which needs the version: a query of 24 bytes is MLDv1.
		if (code16 !== undefined && code16 < 32_768) mld.maxDelay = code16;
		else if (code16 !== undefined && icmpLen === 24) mld.maxDelay = code16;
		else if (code16 !== undefined && icmpLen !== undefined && icmpLen >= 28) mld.maxDelay = ((code16 & 0xfff) | 0x1000) << (((code16 >> 12) & 7) + 3);
	}
	if (shown.length > 0) {
		const a = addressBytes(shown);
		if (a.whole) mld.group = a.whole;
		else if (type === 130 && shown.every(x => x === 0)) mld.group = '::';
		else if (a.start) {
			// Sent to the address it is about: a query about one address, an MLDv1 report or done
			// (done goes to all routers, ff02::2; MLDv2 reports to ff02::16).
			const full = dst && (type === 130 || type === 131) ? expand(dst) : undefined;
			if (full && full.startsWith(a.start)) mld.group = dst;
			else mld.groupStart = a.start;
		}
	}
	return {type, code, mld};
}

/** An IPv6 address with every group written in four digits (`ff02:0000:…`). */
function expand(addr: string): string | undefined {
	if (!addr.includes(':')) return undefined;
	const [head = '', tail] = addr.split('::');
	const a = head === '' ? [] : head.split(':');
	const c = tail === undefined || tail === '' ? [] : tail.split(':');
	if (tail === undefined && a.length !== 8) return undefined;
	const middle = Array.from({length: 8 - a.length - c.length}, () => '0');
	return [...a, ...middle, ...c].map(g => g.padStart(4, '0')).join(':');
}
