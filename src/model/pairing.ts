/**
 * Pairs packets with the packets that answer them.
 *
 * Input:  #1 TCP 198.19.88.69:40312 → 198.19.96.1:443 SYN SEQ=7, DNATed to 198.18.1.50:6443
 *         #2 TCP 198.18.1.50:6443 → 198.19.88.69:40312 SYN ACK ACK=8
 * Output: adding #2 sets #2.replyTo = 1, #2.connection = {direction: 'reply', first: 1, …} and
 *         returns the fact {id: 1, fact: 'reply-seen', by: 2}.
 *
 * A packet answers another going the other way in the same connection: one of the address/port
 * tuples it was seen with (before and after NAT) is the reverse of one the other was seen with —
 * replies travel the post-DNAT tuple back, and are un-SNATed on the way in. What counts as an
 * answer:
 *  - TCP, when the trace shows sequence numbers (kernel lines): a SYN is answered by the SYN-ACK
 *    or RST that acknowledges it; a segment with data (or a FIN) when an ACK from the peer covers
 *    its last byte; a pure ACK expects nothing. An answer goes to the latest copy of a segment: a
 *    retransmission and its original each get only what answers them. Without sequence numbers
 *    (xtables-monitor, nft) any later packet going the other way answers, SYNs only by SYN-ACK or RST.
 *  - ICMP echo (and the other queries): the reply with the same id and sequence.
 *  - ICMPv6 neighbour discovery and MLD, which are multicast and so have no reverse tuple: a
 *    neighbour advertisement from the solicited address (or to ff02::1 for a solicitation from ::)
 *    answers the latest solicitation for it on the same link; a router advertisement to the
 *    soliciting host or to all nodes answers the latest router solicitation on the link; a
 *    listener report answers the latest listener query on the link.
 *  - UDP and the rest: any later packet going the other way.
 * An ICMP error is tied to the packet it quotes (`quotes`); when the trace shows only the start of
 * the quoted header (nft), the quoted addresses are filled in from that packet.
 *
 * Pairing also says how a packet relates to its connection (Packet.connection): which way it
 * goes, the connection's first traced packet, and what conntrack restored on it (a reply's
 * destination put back before routing, seen in the trace as a change by conntrack; a reply's
 * source put back after the last trace point, inferred from the connection's DNAT) or applied.
 *
 * The matcher changes only the packet being added (not yet handed on); what it learns about
 * other packets it returns as facts, which the pipeline applies (src/model/pipeline.ts). It
 * keeps what pairing needs of a packet, not the packet, for a bounded number of recent tuples.
 */
import type {PacketFields} from '../parser/types.js';
import {endpoint, solicitedNode} from '../netfilter/addr.js';
import {overlayOf} from '../netfilter/overlay.js';
import {answerType, isIcmpError, isIcmpQuery, ndAnswerTypes, ndRequestType} from '../netfilter/icmp.js';
import type {Fact} from './facts.js';
import {nodePart} from './bounds.js';
import {mapKey} from './keys.js';
import type {ConntrackRewrite, Packet} from './types.js';

/** What TCP pairing needs of a segment: its sequence space. */
interface TcpInfo {
	readonly seq: number;
	/** The sequence number after it: seq + payload (+1 for SYN, +1 for FIN). */
	readonly end: number;
	readonly ack: number | undefined;
	readonly syn: boolean;
	readonly fin: boolean;
	readonly rst: boolean;
	readonly hasAck: boolean;
}

/** What pairing needs of a packet, without the packet: a long stream keeps only these, for recent tuples. */
interface Entry {
	readonly id: number;
	readonly proto: string;
	readonly src: string;
	readonly dst: string;
	readonly ipId: number | undefined;
	readonly len: number | undefined;
	readonly icmpType: number | undefined;
	readonly icmpSeq: number | undefined;
	readonly opens: boolean;
	/** TCP with sequence numbers (kernel lines); undefined otherwise. */
	readonly tcp: TcpInfo | undefined;
	/** The interface it was seen on: where it came in, else where it went out. */
	readonly link: string;
	/** Its addresses and ports as it left (its last hop), for an ICMP error that quotes it without them. */
	readonly last: {readonly src?: string; readonly dst?: string; readonly spt?: number; readonly dpt?: number};
	/** Going the way its connection was opened: the destination NAT it got (by a rule, or applied by conntrack). */
	readonly dnat: {readonly from: string; readonly to: string} | undefined;
	/** Going the reply way: the destination conntrack restored (from the NAT address to the original sender). */
	readonly denat: {readonly from: string; readonly to: string} | undefined;
	/** The id of its connection's first traced packet (its own when it is that packet). */
	readonly conn: number;
	/** TCP with sequence numbers: an answer was seen (a later ACK covering it again answers nothing). */
	answered: boolean;
	/** Log time of its first line, in seconds, when the trace has time stamps. */
	readonly time: number | undefined;
	/** An MLD listener query: the address it asks about (`::` for all) and its maximum response delay in ms, when known. */
	readonly query?: {readonly group: string | undefined; readonly maxDelay: number | undefined};
}

const SEQ_SPACE = 2 ** 32;

/** Is `a` at or after `b` in TCP sequence space? */
function seqGE(a: number, b: number): boolean {
	return (a - b + SEQ_SPACE) % SEQ_SPACE < SEQ_SPACE / 2;
}

/** Bytes of a hex string printed by nf_log (`OPT (020405B4…)`), or undefined when it is not whole hex. */
function hexBytes(text: string | undefined): number | undefined {
	if (text === undefined) return 0;
	const hex = text.replace(/\s+/g, '');
	return /^(?:[\da-fA-F]{2})*$/.test(hex) ? hex.length / 2 : undefined;
}

/**
 * A TCP segment's sequence space, from the fields of its first line: the kernel prints SEQ=, ACK=,
 * the IP length and the IP and TCP options (TRACE always; LOG with --log-tcp-sequence and
 * --log-tcp-options), which give the payload. Undefined when any of it is missing or cut.
 */
function tcpInfo(p: Pick<Packet, 'proto' | 'first' | 'tcpFlags'> & {hops?: ReadonlyArray<{kind: string}>}): TcpInfo | undefined {
	const f: PacketFields = p.first;
	if (p.proto !== 'TCP' || f.seq === undefined || f.len === undefined || f.cut || f.incomplete !== undefined) return undefined;
	// A -j LOG line prints TCP options only with --log-tcp-options: its payload is not known.
	if (p.hops?.[0]?.kind === 'log') return undefined;
	const flags = f.tcpFlags ?? p.tcpFlags ?? [];
	const tcpOpt = hexBytes(f.extra?.['OPT']);
	const ipOpt = f.family === 'ipv6' ? (f.extra?.['IPOPT'] === undefined ? 0 : undefined) : hexBytes(f.extra?.['IPOPT']);
	if (tcpOpt === undefined || ipOpt === undefined) return undefined;
	const payload = f.len - (f.family === 'ipv6' ? 40 : 20 + ipOpt) - (20 + tcpOpt);
	if (payload < 0) return undefined;
	const syn = flags.includes('SYN');
	const fin = flags.includes('FIN');
	return {
		seq: f.seq,
		end: (f.seq + payload + (syn ? 1 : 0) + (fin ? 1 : 0)) % SEQ_SPACE,
		ack: f.ack,
		syn,
		fin,
		rst: flags.includes('RST'),
		hasAck: flags.includes('ACK'),
	};
}

/** Does segment `a` answer segment `q` (the other way, earlier)? Undefined when the trace does not tell. */
function tcpAnswers(q: TcpInfo | undefined, a: TcpInfo | undefined): boolean | undefined {
	if (!q || !a) return undefined;
	// A SYN is answered by the SYN-ACK or the RST of its connection (a retransmitted SYN has the
	// same sequence number: which copy is answered is decided by superseded()).
	if (q.syn && !q.hasAck) return (a.syn && a.hasAck) || a.rst;
	if (a.rst) return (a.hasAck && a.ack !== undefined && seqGE(a.ack, q.end) && q.end !== q.seq) || (!a.hasAck && q.ack !== undefined && a.seq === q.ack);
	// A pure ACK carries nothing to acknowledge.
	if (q.end === q.seq) return false;
	return a.hasAck && a.ack !== undefined && seqGE(a.ack, q.end);
}

/** The endpoint a hop shows, as Packet.changes writes it. */
function hopEndpoint(addr: string | undefined, port: number | undefined): string {
	return endpoint(addr, port);
}

function entryOf(p: Packet, direction: 'original' | 'reply' | undefined): Entry {
	const last = p.hops.at(-1);
	const changes = p.changes ?? [];
	const dstRule = changes.find(c => c.field === 'dst' && (c.by === 'rule' || (c.by === 'conntrack' && direction === 'original')));
	const dstBack = direction === 'reply' ? changes.find(c => c.field === 'dst' && c.by === 'conntrack') : undefined;
	return {
		id: p.id,
		proto: p.proto,
		src: p.src,
		dst: p.dst,
		ipId: p.ipId,
		len: p.len,
		icmpType: p.icmp?.type,
		icmpSeq: p.icmp?.seq,
		opens: opens(p),
		tcp: tcpInfo(p),
		link: p.hops.find(h => !h.bridge && h.in)?.in || p.hops.find(h => !h.bridge && h.out)?.out || '',
		last: last ? {src: last.src, dst: last.dst, spt: last.spt, dpt: last.dpt} : {},
		dnat: dstRule ? {from: dstRule.from, to: dstRule.to} : undefined,
		denat: dstBack ? {from: dstBack.from, to: dstBack.to} : undefined,
		conn: p.connection?.first ?? p.id,
		answered: p.replySeen,
		time: timeOf(p),
		...(p.proto === 'ICMPv6' && p.icmp?.type === 130 ? {query: {group: queriedGroup(p), maxDelay: p.icmp.mld?.maxDelay}} : {}),
	};
}

/** The log time of a packet's first line in seconds, when stamped. */
function timeOf(p: Packet): number | undefined {
	const t = p.hops[0]?.time;
	return t?.mono ?? (t?.wall === undefined ? undefined : t.wall / 1000);
}

/**
 * The address an MLD listener query asks about: `::` for a general query (sent to all nodes,
 * ff02::1), else the address it is sent to (RFC 2710 5, RFC 3810 6.1). Undefined when not known.
 */
function queriedGroup(p: Packet): string | undefined {
	const m = p.icmp?.mld;
	if (m?.group !== undefined) return m.group;
	if (p.dst === 'ff02::1') return '::';
	return p.dst.startsWith('ff') ? p.dst : undefined;
}

function key(proto: string, src: string, spt: number | string | undefined, dst: string, dpt: number | string | undefined): string {
	return mapKey(proto, src, spt, dst, dpt);
}

/** The tuples a packet was seen with, in its own direction. */
function tuples(p: Packet): string[] {
	const out = new Set<string>();
	const icmpId = p.icmp?.id;
	const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';
	// Packets whose protocol or ports are not printed (xtables-monitor shows no ICMP header) pair by addresses.
	const portless = isIcmp || p.proto === 'unknown';
	for (const hop of p.hops.length > 0 ? p.hops : [{src: p.src, dst: p.dst, spt: p.spt, dpt: p.dpt, bridge: undefined}]) {
		if (!hop.src || !hop.dst) continue;
		// A bridge hook's line may show the frame's IP header without its ports (xtables-monitor's bridge family).
		if (hop.bridge && !portless && hop.spt === undefined && p.spt !== undefined) continue;
		if (isIcmp && icmpId !== undefined) out.add(key(p.proto, hop.src, icmpId, hop.dst, icmpId));
		else if (!portless) out.add(key(p.proto, hop.src, hop.spt, hop.dst, hop.dpt));
		if (portless) out.add(key('portless', hop.src, undefined, hop.dst, undefined));
	}
	return [...out];
}

/** ICMP echo, timestamp, information and address-mask requests; ICMPv6 echo request. */
function isQuery(p: Pick<Packet, 'proto' | 'icmp'>): boolean {
	return p.icmp !== undefined && isIcmpQuery(p.proto, p.icmp.type);
}

/** An ICMPv6 neighbour-discovery or MLD request: router or neighbour solicitation, listener query. */
function isNdRequest(p: Pick<Packet, 'proto' | 'icmp'>): boolean {
	return p.proto === 'ICMPv6' && p.icmp !== undefined && ndAnswerTypes(p.icmp.type) !== undefined;
}

/** A neighbour solicitation from the unspecified address: duplicate address detection, answered only when the address is taken. */
function isDad(p: Pick<Packet, 'proto' | 'icmp' | 'src'>): boolean {
	return p.proto === 'ICMPv6' && p.icmp?.type === 135 && p.src === '::';
}

/**
 * Whether anything comes back for this packet: not for an ICMP echo reply, error or advertisement,
 * a duplicate-address probe, a UDP answer or an overlay's outer packet, a TCP pure ACK or RST (when the trace shows sequence
 * numbers: kernel lines; otherwise only RST is known to expect nothing).
 */
export function expectsReply(p: Pick<Packet, 'proto' | 'icmp' | 'replyTo'> & Partial<Pick<Packet, 'first' | 'tcpFlags' | 'src' | 'hops' | 'spt' | 'dpt'>>): boolean {
	if (p.proto === 'ICMP' || p.proto === 'ICMPv6') {
		// A trace that prints no ICMP header (xtables-monitor): an answer expects nothing back.
		if (p.icmp === undefined) return p.replyTo === null || p.replyTo === undefined;
		if (isDad({proto: p.proto, icmp: p.icmp, src: p.src ?? ''})) return false;
		return isQuery(p) || isNdRequest(p);
	}
	// The outer packet of an overlay (VXLAN, Geneve, WireGuard) carries packets both ways: the
	// packets inside it ask for answers, not it.
	if (p.proto === 'UDP') return p.replyTo === null && overlayOf(p) === undefined;
	// Protocol not printed (xtables-monitor's ICMP): an answer expects nothing back.
	if (p.proto === 'unknown' && p.replyTo !== null && p.replyTo !== undefined) return false;
	if (p.proto === 'TCP') {
		if (p.tcpFlags?.includes('RST')) return false;
		const tcp = p.first ? tcpInfo({proto: p.proto, first: p.first, ...(p.tcpFlags ? {tcpFlags: p.tcpFlags} : {}), ...(p.hops ? {hops: p.hops} : {})}) : undefined;
		if (tcp) return tcp.end !== tcp.seq;
	}
	return true;
}

/** TCP SYNs, ICMP queries and neighbour-discovery / MLD requests (but duplicate-address probes) start an exchange; they answer nothing. */
export function opens(p: Pick<Packet, 'proto' | 'icmp' | 'tcpFlags'> & Partial<Pick<Packet, 'src'>>): boolean {
	if (p.proto === 'TCP') return Boolean(p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK'));
	if (isNdRequest(p)) return !isDad({proto: p.proto, icmp: p.icmp, src: p.src ?? ''});
	return isQuery(p);
}

function reverse(k: string): string {
	const [proto, src, spt, dst, dpt] = k.split('|');
	return `${proto}|${dst}|${dpt}|${src}|${spt}`;
}

function quotedKey(q: PacketFields): string | undefined {
	if (!q.src || !q.dst || !q.proto) return undefined;
	if (q.proto === 'ICMP' || q.proto === 'ICMPv6') return key(q.proto, q.src, q.icmp?.id, q.dst, q.icmp?.id);
	return key(q.proto, q.src, q.spt, q.dst, q.dpt);
}

/** Neighbour-discovery and MLD requests kept for their answers (they are multicast: no reverse tuple). */
const ND_KEEP = 256;

/** Remembers recent packets by tuple; bounded so an endless stream stays in constant memory. */
export class ReplyMatcher {
	private readonly byTuple = new Map<string, Entry[]>();
	/** The first packet seen with each tuple (while the tuple is remembered): which way its connection was opened. */
	private readonly firstOf = new Map<string, Entry>();
	private readonly nd: Entry[] = [];
	/** MLD listener queries, in id order (listen()). */
	private readonly queries: Entry[] = [];
	private readonly base: number;
	/** Entries in all lists: bounded, so an endless stream keeps only recent packets reachable. */
	private entries = 0;

	/** `share`: this matcher's part of the bound when several nodes' pipelines run in one process (src/model/fleet.ts). */
	constructor(
		limit = 10_000,
		private readonly share: () => number = () => 1,
	) {
		this.base = limit;
	}

	private get limit(): number {
		// At least 256 a node: the pairing of a node's packets, and the NAT its replies undo, should not
		// depend on how many other nodes share the log.
		return nodePart(this.base, this.share(), 256);
	}

	/**
	 * Links `p`, a packet not yet handed on, with the packets seen before it: sets its `replyTo`,
	 * `replySeen`, `quotes` and `connection`, and returns what it says about other packets (that
	 * their reply was seen; that it is the reply of a packet completed after it).
	 */
	add(p: Packet): Fact[] {
		const facts: Fact[] = [];
		const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';
		if (p.proto === 'unknown' && p.first.spt !== undefined && !p.tcpFlags?.length && p.family !== 'bridge') {
			// xtables-monitor prints ports, and no protocol, for UDP, UDP-Lite, SCTP and DCCP (TCP gets its flags).
			p.proto = 'UDP';
			p.protoFrom = 'ports';
		}

		let quoted: Entry | undefined;
		if (isIcmp && p.icmp && isIcmpError(p.proto, p.icmp.type)) {
			const k = p.quoted ? quotedKey(p.quoted) : undefined;
			quoted = k ? this.latest(k, p.id, p.quoted) : this.quotedById(p);
			if (!quoted && p.quoted) {
				// An error about a masqueraded packet quotes it as it left (the masquerade address as
				// its source); conntrack puts back the error's destination and the quoted source
				// together: the packet it quotes was traced with the source put back.
				const back = restoredQuote(p);
				const kb = back ? quotedKey(back) : undefined;
				if (kb) quoted = this.latest(kb, p.id, back);
			}
			p.quotes = quoted ? quoted.id : null;
			if (quoted && p.quoted && p.quoted.src === undefined) {
				// nft shows only the first 12 bytes of the quoted header: the rest is the packet it quotes, as it left.
				const l = quoted.last;
				p.quoted = {...p.quoted, ...(l.src !== undefined ? {src: l.src} : {}), ...(l.dst !== undefined ? {dst: l.dst} : {}), ...(l.spt !== undefined ? {spt: l.spt} : {}), ...(l.dpt !== undefined ? {dpt: l.dpt} : {}), proto: p.quoted.proto ?? quoted.proto};
			}
		}

		const mine = tuples(p);
		if (isNdRequest(p) || (p.proto === 'ICMPv6' && p.icmp && ndRequestType(p.icmp.type) !== undefined)) {
			this.neighbour(p, facts);
		} else {
			this.answer(p, mine, facts);
		}
		const direction = this.relate(p, mine, quoted);
		const entry = entryOf(p, direction);
		for (const t of mine) this.remember(t, entry);
		if (isNdRequest(p)) {
			this.nd.push(entry);
			if (this.nd.length > ND_KEEP) this.nd.shift();
		}
		return facts;
	}

	/** Request/answer pairing by reverse tuples (TCP, UDP, ICMP queries, the rest). */
	private answer(p: Packet, mine: readonly string[], facts: Fact[]): void {
		const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';
		const pOpens = opens(p);
		const pTcp = p.proto === 'TCP' ? tcpInfo(p) : undefined;
		const earlier = new Map<number, Entry>();
		const later = new Map<number, Entry>();
		for (const t of mine) {
			const list = this.byTuple.get(reverse(t)) ?? [];
			for (const q of list) {
				if (q.id === p.id) continue;
				if (isIcmp && p.icmp && q.icmpType !== undefined) {
					// An echo reply answers the request with its id; two requests do not answer each other.
					const answersQ = q.proto === p.proto && answerType(q.proto, q.icmpType) === p.icmp.type && q.icmpSeq === p.icmp.seq;
					const qAnswersMe = q.proto === p.proto && answerType(p.proto, p.icmp.type) === q.icmpType && q.icmpSeq === p.icmp.seq;
					if (!answersQ && !qAnswersMe) continue;
				}
				if (q.id < p.id) {
					// A SYN or an echo request answers nothing.
					if (pOpens || earlier.has(q.id)) continue;
					const known = p.proto === 'TCP' && q.proto === 'TCP' ? tcpAnswers(q.tcp, pTcp) : undefined;
					if (known === false) continue;
					// Without sequence numbers: a SYN is answered by a SYN-ACK or a RST only.
					if (known === undefined && q.proto === 'TCP' && q.opens && !p.tcpFlags?.includes('RST') && !(p.tcpFlags?.includes('SYN') && p.tcpFlags.includes('ACK'))) continue;
					// A retransmission inherits nothing: bytes sent again after q (and before this
					// answer) were answered in that copy, not in q. An ACK that covers bytes already
					// answered answers nothing more; a SYN-ACK sent again still answers its SYN.
					if (known === true && ((q.answered && !(q.tcp?.syn && !q.tcp.hasAck)) || superseded(q, list, p.id))) continue;
					earlier.set(q.id, q);
				} else if (!q.opens && !later.has(q.id)) {
					const known = p.proto === 'TCP' && q.proto === 'TCP' ? tcpAnswers(pTcp, q.tcp) : undefined;
					if (known !== false) later.set(q.id, q);
				}
			}
		}
		// Completed out of order: a later packet answered this one (it answers the latest earlier one).
		for (const q of later.values()) {
			p.replySeen = true;
			facts.push({id: q.id, fact: 'reply-to', to: p.id});
		}
		let answers: Entry | undefined;
		for (const q of earlier.values()) {
			if (q.tcp && pTcp) q.answered = true;
			if (!answers || q.id > answers.id) answers = q;
			// Every earlier packet it answers has now seen its reply.
			facts.push({id: q.id, fact: 'reply-seen', by: p.id});
		}
		if (answers) {
			p.replyTo = answers.id;
			if (p.proto === 'unknown' && (answers.proto === 'ICMP' || answers.proto === 'ICMPv6')) {
				// xtables-monitor prints no ICMP header: what answers an ICMP packet by its addresses is ICMP.
				p.proto = answers.proto;
				p.protoFrom = 'answer';
			}
		}
	}

	/** Neighbour discovery and MLD: an advertisement or report answers the latest request for it on the same link. */
	private neighbour(p: Packet, facts: Fact[]): void {
		const type = p.icmp?.type;
		if (type === undefined) return;
		const request = ndRequestType(type);
		if (request === undefined) return;
		// MLD reports are paired in id order, as packets are handed on (listen()).
		if (request === 130) return;
		const link = entryLink(p);
		for (let i = this.nd.length - 1; i >= 0; i--) {
			const q = this.nd[i]!;
			if (q.id >= p.id || q.icmpType !== request) continue;
			if (link && q.link && link !== q.link) continue;
			if (request === 135) {
				const forMe = q.dst === p.src || q.dst === solicitedNode(p.src);
				const toThem = p.dst === q.src || (q.src === '::' && p.dst === 'ff02::1');
				if (!forMe || !toThem) continue;
			} else if (request === 133) {
				if (p.dst !== q.src && p.dst !== 'ff02::1') continue;
			}
			p.replyTo = q.id;
			facts.push({id: q.id, fact: 'reply-seen', by: p.id});
			return;
		}
	}

	/**
	 * MLD: a listener report answers a query only when it says so. An MLDv2 report of current-state
	 * records (MODE_IS_INCLUDE, MODE_IS_EXCLUDE) is sent only in answer to a query; one of
	 * state-change records (CHANGE_TO_*, ALLOW_*, BLOCK_*) only unsolicited, when a listener joins,
	 * leaves or changes its sources (RFC 3810 5.2.12, 6.1). An MLDv1 report is the same message
	 * either way (RFC 2710 4: a listener that joins sends it unsolicited), and the kernel log and
	 * xtables-monitor show no record types: such a report may answer the queries it could answer
	 * (on its link, earlier, within their maximum response delay when the trace shows it and time
	 * stamps, about all addresses or its own), and those queries' answer is then unknown.
	 * A current-state report answers the one query it could answer; with several, which is unknown.
	 *
	 * Called with every packet in id order, as the pipeline hands them on (a host's own report,
	 * traced only at OUTPUT, is complete before the query that came in before it): `p` is not handed
	 * on yet; what it says about queries comes back as facts.
	 */
	listen(p: Packet): Fact[] {
		const facts: Fact[] = [];
		if (p.proto !== 'ICMPv6' || !p.icmp) return facts;
		if (p.icmp.type === 130) {
			this.queries.push(entryOf(p, undefined));
			if (this.queries.length > ND_KEEP) this.queries.shift();
		} else if (p.icmp.type === 131 || p.icmp.type === 143) {
			this.listener(p, facts);
		}
		return facts;
	}

	private listener(p: Packet, facts: Fact[]): void {
		const m = p.icmp?.mld;
		const recordType = p.icmp?.type === 143 ? m?.recordType : undefined;
		// A change of state: sent on its own, it answers nothing.
		if (recordType !== undefined && recordType >= 3 && recordType <= 6) return;
		const answers = recordType === 1 || recordType === 2;
		const link = entryLink(p);
		const time = timeOf(p);
		// An MLDv1 report is sent to the address it reports; an MLDv2 report's first address shows only its start.
		const group = p.icmp?.type === 131 ? (m?.group ?? p.dst) : m?.group;
		const start = group === undefined ? m?.groupStart : undefined;
		const candidates: Entry[] = [];
		// A querier's Query Response Interval is shorter than its Query Interval (RFC 2710 7.3,
		// RFC 3810 9.3): once it sent its next general query, the answers to the one before are due.
		const superseded = new Set<string>();
		for (let i = this.queries.length - 1; i >= 0; i--) {
			const q = this.queries[i]!;
			if (q.id >= p.id || !q.query) continue;
			if (link && q.link && link !== q.link) continue;
			const asked = q.query.group;
			if (asked === '::') {
				const key = `${q.link}|${q.src}`;
				if (superseded.has(key)) continue;
				superseded.add(key);
			} else if (asked !== undefined) {
				// A query about one address is answered by a report about it.
				if (group !== undefined && group !== asked) continue;
				if (start !== undefined && !expandAddress(asked).startsWith(start)) continue;
			}
			if (q.query.maxDelay !== undefined && q.time !== undefined && time !== undefined && (time < q.time || time - q.time > q.query.maxDelay / 1000)) continue;
			candidates.push(q);
		}
		if (candidates.length === 0) return;
		if (answers && candidates.length === 1) {
			const q = candidates[0]!;
			p.replyTo = q.id;
			facts.push({id: q.id, fact: 'reply-seen', by: p.id});
			return;
		}
		p.mayAnswer = candidates[0]!.id;
		const kind = answers
			? `an MLDv2 report of current state, which answers one query, and ${candidates.length} queries it could answer were seen`
			: p.icmp?.type === 131
				? 'an MLDv1 report, which is the same whether it answers or was sent unsolicited'
				: 'an MLDv2 report whose record types the trace does not show (current state answers a query; a change of state is sent unsolicited)';
		for (const q of candidates) facts.push({id: q.id, fact: 'reply-unknown', by: p.id, why: `#${p.id} may answer it: ${kind}`});
	}

	/**
	 * Which way `p` goes in its connection (the way of the connection's first packet remembered, or
	 * back), and what conntrack did to it: sets `p.connection`. ICMP errors belong to the
	 * connection of the packet they quote and go back.
	 */
	private relate(p: Packet, mine: readonly string[], quoted: Entry | undefined): 'original' | 'reply' | undefined {
		let first: Entry | undefined;
		let direction: 'original' | 'reply' | undefined;
		if (quoted) {
			first = quoted;
			direction = 'reply';
		} else if (p.icmp && isIcmpError(p.proto, p.icmp.type)) {
			// An error belongs to the connection of the packet it quotes, and to none when that is unknown.
			return undefined;
		} else if (mine.length > 0 && mine.every(t => t.startsWith('portless|'))) {
			// Addresses only (xtables-monitor prints no ICMP header): all traffic between two hosts
			// shares them; the connection is known only through the packet it answers.
			if (p.replyTo === null || p.replyTo === undefined) return undefined;
			for (const t of mine) for (const q of this.byTuple.get(reverse(t)) ?? []) if (q.id === p.replyTo) first = q;
			direction = 'reply';
		} else {
			for (const t of specific(mine)) {
				const same = this.firstOf.get(t);
				const back = this.firstOf.get(reverse(t));
				if (same && same.id < p.id && (!first || same.id < first.id)) {
					first = same;
					direction = 'original';
				}
				if (back && back.id < p.id && (!first || back.id < first.id)) {
					first = back;
					direction = 'reply';
				}
			}
		}
		if (!first || !direction) return undefined;
		const conntrack: ConntrackRewrite[] = [];
		const seenFields = new Set<string>();
		for (const c of p.changes ?? []) {
			if (c.by !== 'conntrack' || (c.field !== 'src' && c.field !== 'dst')) continue;
			seenFields.add(c.field);
			conntrack.push({field: c.field, from: c.from, to: c.to, did: direction === 'reply' ? 'restored' : 'applied', seen: 'trace', at: c.at});
		}
		if (!seenFields.has('src') && !quoted) {
			// Source NAT happens after the last point a trace shows: what the connection's other
			// packets say about it. A reply of a DNATed connection leaves with the address the
			// client asked for; a later packet of a masqueraded one with the masquerade address.
			const last = p.hops.at(-1);
			const src = last ? hopEndpoint(last.src, last.spt) : '';
			const other = this.otherWay(mine, p.id, direction === 'reply' ? 'dnat' : 'denat');
			const nat = other?.[direction === 'reply' ? 'dnat' : 'denat'];
			if (other && nat && src && nat.to === src) {
				conntrack.push({field: 'src', from: nat.to, to: nat.from, did: direction === 'reply' ? 'restored' : 'applied', seen: 'inferred', of: other.id});
			}
		}
		p.connection = {direction, first: first.conn, conntrack};
		return direction;
	}

	/** The latest earlier packet going the other way with a DNAT (or a restored destination) remembered. */
	private otherWay(mine: readonly string[], before: number, what: 'dnat' | 'denat'): Entry | undefined {
		let best: Entry | undefined;
		for (const t of specific(mine)) {
			for (const q of this.byTuple.get(reverse(t)) ?? []) {
				if (q.id < before && q[what] && (!best || q.id > best.id)) best = q;
			}
		}
		return best;
	}

	/**
	 * An ICMP error without the quoted addresses (nft prints only the start of the quoted header):
	 * the latest earlier packet from the error's destination with the quoted IP id and length.
	 * Without even that, the latest request from the error's destination.
	 */
	private quotedById(p: Packet): Entry | undefined {
		const q = p.quoted;
		let best: Entry | undefined;
		for (const list of this.byTuple.values()) {
			for (const c of list) {
				// The error goes to the quoted packet's sender: its destination as first seen, or as
				// conntrack put it back (the error for a masqueraded packet).
				if (c.id >= p.id || (c.src !== p.dst && c.src !== p.hops.at(-1)?.dst) || (best && best.id >= c.id)) continue;
				if (q?.ipId !== undefined ? c.ipId === q.ipId && c.len === q.len : !q && c.proto !== p.proto) best = c;
			}
		}
		return best;
	}

	/**
	 * The latest earlier packet of a tuple; for an ICMP error, the latest one with the quoted IP id
	 * (and length) when there is one: a flow's later packets have left before the error comes back.
	 */
	private latest(k: string, before: number, quoted?: PacketFields): Entry | undefined {
		let best: Entry | undefined;
		let same: Entry | undefined;
		for (const e of this.byTuple.get(k) ?? []) {
			if (e.id >= before) continue;
			if (!best || e.id > best.id) best = e;
			if (quoted?.ipId !== undefined && e.ipId === quoted.ipId && (quoted.len === undefined || e.len === quoted.len) && (!same || e.id > same.id)) same = e;
		}
		return same ?? best;
	}

	private remember(k: string, e: Entry): void {
		const list = this.byTuple.get(k);
		if (list) {
			list.push(e);
			this.entries++;
			if (list.length > 64) {
				list.shift();
				this.entries--;
			}
		} else {
			this.byTuple.set(k, [e]);
			this.firstOf.set(k, e);
			this.entries++;
		}
		// Forget the connections not seen for longest (Map keeps insertion order).
		while (this.entries > this.limit) {
			const oldest = this.byTuple.keys().next().value;
			if (oldest === undefined) break;
			this.entries -= this.byTuple.get(oldest)!.length;
			this.byTuple.delete(oldest);
			this.firstOf.delete(oldest);
		}
	}
}

/**
 * Was segment `q` sent again, in part or whole, by a later segment of its list (same way, same
 * tuple) before the answer `before`? Then the answer belongs to the retransmission.
 */
function superseded(q: Entry, list: readonly Entry[], before: number): boolean {
	const a = q.tcp;
	if (!a) return false;
	for (const r of list) {
		const b = r.tcp;
		if (r.id <= q.id || r.id >= before || !b || b.end === b.seq) continue;
		// Ranges [seq, end) overlap in sequence space.
		if (seqGE(b.end - 1, a.seq) && seqGE(a.end - 1, b.seq)) return true;
	}
	return false;
}

/**
 * The tuples that name one connection: with ports or ICMP ids when the packet has them (the
 * address-only tuples every ICMP packet also gets, for traces that print no ICMP header, are
 * shared by all ICMP between two hosts).
 */
function specific(mine: readonly string[]): readonly string[] {
	const out = mine.filter(t => !t.startsWith('portless|'));
	return out.length > 0 ? out : mine;
}

/** An IPv6 address with every group written in four digits (`ff02:0000:…`), as MldInfo.groupStart is. */
function expandAddress(addr: string): string {
	const [head = '', tail] = addr.split('::');
	const a = head === '' ? [] : head.split(':');
	const c = tail === undefined || tail === '' ? [] : tail.split(':');
	const middle = tail === undefined ? [] : Array.from({length: Math.max(0, 8 - a.length - c.length)}, () => '0');
	return [...a, ...middle, ...c].map(g => g.padStart(4, '0')).join(':');
}

/** The link a packet was seen on, as Entry.link says it. */
function entryLink(p: Packet): string {
	return p.hops.find(h => !h.bridge && h.in)?.in || p.hops.find(h => !h.bridge && h.out)?.out || '';
}

/**
 * The packet an ICMP error quotes with its source put back the way conntrack puts back the
 * error's destination (from the masquerade address to the original sender), or undefined when
 * conntrack restored no destination of that address.
 */
function restoredQuote(p: Packet): PacketFields | undefined {
	const q = p.quoted;
	if (!q?.src) return undefined;
	for (const c of p.changes ?? []) {
		if (c.field !== 'dst' || c.by !== 'conntrack') continue;
		if (bareAddr(c.from) === q.src) return {...q, src: bareAddr(c.to)};
	}
	return undefined;
}

/** The address of an endpoint as Packet.changes writes it (`addr`, `addr:port`, `[v6]:port`). */
function bareAddr(e: string): string {
	if (e.startsWith('[')) return e.slice(1, e.indexOf(']'));
	const colon = e.lastIndexOf(':');
	return colon !== -1 && e.indexOf(':') === colon ? e.slice(0, colon) : e;
}
