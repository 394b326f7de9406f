/**
 * Pairs packets with the packets that answer them.
 *
 * Input:  #1 TCP 198.19.88.69:40312 → 198.19.96.1:443 SYN, DNATed to 198.18.1.50:6443
 *         #2 TCP 198.18.1.50:6443 → 198.19.88.69:40312 SYN ACK
 * Output: adding #2 sets #2.replyTo = 1 and returns the fact {id: 1, fact: 'reply-seen', by: 2}.
 *
 * A packet answers another when one of the address/port tuples it was seen with (before and
 * after NAT) is the reverse of one the other was seen with: replies travel the post-DNAT tuple
 * back, and are un-SNATed on the way in. ICMP echo pairs by id; an ICMP error is tied to the
 * packet it quotes (`quotes`).
 *
 * The matcher changes only the packet being added (not yet handed on); what it learns about
 * other packets it returns as facts, which the pipeline applies (src/model/pipeline.ts). It
 * keeps what pairing needs of a packet, not the packet, for a bounded number of recent tuples.
 */
import type {PacketFields} from '../parser/types.js';
import {answerType, isIcmpError, isIcmpQuery} from '../netfilter/icmp.js';
import type {Fact} from './facts.js';
import type {Packet} from './types.js';

/** What pairing needs of a packet, without the packet: a long stream keeps only these, for recent tuples. */
interface Entry {
	readonly id: number;
	readonly proto: string;
	readonly src: string;
	readonly ipId: number | undefined;
	readonly len: number | undefined;
	readonly icmpType: number | undefined;
	readonly icmpSeq: number | undefined;
	readonly opens: boolean;
}

function entryOf(p: Packet): Entry {
	return {id: p.id, proto: p.proto, src: p.src, ipId: p.ipId, len: p.len, icmpType: p.icmp?.type, icmpSeq: p.icmp?.seq, opens: opens(p)};
}

function key(proto: string, src: string, spt: number | string | undefined, dst: string, dpt: number | string | undefined): string {
	return `${proto}|${src}|${spt ?? ''}|${dst}|${dpt ?? ''}`;
}

/** The tuples a packet was seen with, in its own direction. */
function tuples(p: Packet): string[] {
	const out = new Set<string>();
	const icmpId = p.icmp?.id;
	const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';
	// Packets whose protocol or ports are not printed (xtables-monitor shows no ICMP header) pair by addresses.
	const portless = isIcmp || p.proto === 'unknown';
	for (const hop of p.hops.length > 0 ? p.hops : [{src: p.src, dst: p.dst, spt: p.spt, dpt: p.dpt}]) {
		if (!hop.src || !hop.dst) continue;
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

/** Whether anything comes back for this packet: not for an ICMP echo reply or error, nor for a UDP answer. */
export function expectsReply(p: Pick<Packet, 'proto' | 'icmp' | 'replyTo'>): boolean {
	if (p.proto === 'ICMP' || p.proto === 'ICMPv6') return p.icmp === undefined || isQuery(p);
	if (p.proto === 'UDP') return p.replyTo === null;
	return true;
}

/** TCP SYNs and ICMP queries start an exchange; they answer nothing. */
export function opens(p: Pick<Packet, 'proto' | 'icmp' | 'tcpFlags'>): boolean {
	if (p.proto === 'TCP') return Boolean(p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK'));
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

/** Remembers recent packets by tuple; bounded so an endless stream stays in constant memory. */
export class ReplyMatcher {
	private readonly byTuple = new Map<string, Entry[]>();
	private readonly limit: number;
	/** Entries in all lists: bounded, so an endless stream keeps only recent packets reachable. */
	private entries = 0;

	constructor(limit = 10_000) {
		this.limit = limit;
	}

	/**
	 * Links `p`, a packet not yet handed on, with the packets seen before it: sets its `replyTo`,
	 * `replySeen` and `quotes`, and returns what it says about other packets (that their reply
	 * was seen; that it is the reply of a packet completed after it).
	 */
	add(p: Packet): Fact[] {
		const facts: Fact[] = [];
		const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';

		if (isIcmp && p.icmp && isIcmpError(p.proto, p.icmp.type)) {
			const k = p.quoted ? quotedKey(p.quoted) : undefined;
			const hit = k ? this.latest(k, p.id, p.quoted) : this.quotedById(p);
			p.quotes = hit ? hit.id : null;
		}

		const mine = tuples(p);
		let answers: number | undefined;
		const earlier = new Set<number>();
		const pOpens = opens(p);
		for (const t of mine) {
			for (const q of this.byTuple.get(reverse(t)) ?? []) {
				if (q.id === p.id) continue;
				if (isIcmp && p.icmp && q.icmpType !== undefined) {
					// An echo reply answers the request with its id; two requests do not answer each other.
					const answersQ = q.proto === p.proto && answerType(q.proto, q.icmpType) === p.icmp.type && q.icmpSeq === p.icmp.seq;
					const qAnswersMe = q.proto === p.proto && answerType(p.proto, p.icmp.type) === q.icmpType && q.icmpSeq === p.icmp.seq;
					if (!answersQ && !qAnswersMe) continue;
				}
				if (q.id < p.id) {
					// A SYN or an echo request answers nothing.
					if (pOpens) continue;
					earlier.add(q.id);
					if (answers === undefined || q.id > answers) answers = q.id;
				} else if (!q.opens) {
					// Completed out of order: a later packet answered this one (it answers the latest earlier one).
					p.replySeen = true;
					facts.push({id: q.id, fact: 'reply-to', to: p.id});
				}
			}
		}
		if (answers !== undefined) p.replyTo = answers;
		// Every earlier packet going the other way has now seen a reply.
		for (const id of earlier) facts.push({id, fact: 'reply-seen', by: p.id});
		const entry = entryOf(p);
		for (const t of mine) this.remember(t, entry);
		return facts;
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
				if (c.id >= p.id || c.src !== p.dst || (best && best.id >= c.id)) continue;
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
			this.entries++;
		}
		// Forget the connections not seen for longest (Map keeps insertion order).
		while (this.entries > this.limit) {
			const oldest = this.byTuple.keys().next().value;
			if (oldest === undefined) break;
			this.entries -= this.byTuple.get(oldest)!.length;
			this.byTuple.delete(oldest);
		}
	}
}
