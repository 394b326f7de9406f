/**
 * Pairs packets with the packets that answer them.
 *
 * Input:  #1 TCP 198.19.88.69:40312 → 198.19.96.1:443 SYN, DNATed to 198.18.1.50:6443
 *         #2 TCP 198.18.1.50:6443 → 198.19.88.69:40312 SYN ACK
 * Output: #2.replyTo = 1, #1.replySeen = true.
 *
 * A packet answers another when one of the address/port tuples it was seen with (before and
 * after NAT) is the reverse of one the other was seen with: replies travel the post-DNAT tuple
 * back, and are un-SNATed on the way in. ICMP echo pairs by id; an ICMP error is tied to the
 * packet it quotes (`quotes`).
 */
import type {PacketFields} from '../parser/types.js';
import type {Packet} from './types.js';

/**
 * What pairing needs of a packet, without the packet: it is held weakly, so a long stream does not
 * keep thousands of whole packets (with their hops) alive for the sake of pairing.
 */
interface Entry {
	readonly id: number;
	readonly proto: string;
	readonly src: string;
	readonly ipId: number | undefined;
	readonly len: number | undefined;
	readonly icmpType: number | undefined;
	readonly icmpSeq: number | undefined;
	readonly opens: boolean;
	readonly ref: WeakRef<Packet>;
}

function entryOf(p: Packet): Entry {
	return {id: p.id, proto: p.proto, src: p.src, ipId: p.ipId, len: p.len, icmpType: p.icmp?.type, icmpSeq: p.icmp?.seq, opens: opens(p), ref: new WeakRef(p)};
}

/** Types of ICMP/ICMPv6 messages that answer a request of the same id. */
const ICMP_ANSWER: Record<string, number> = {'ICMP:0': 8, 'ICMP:14': 13, 'ICMP:16': 15, 'ICMP:18': 17, 'ICMPv6:129': 128};
const ICMP_ERRORS = new Set(['ICMP:3', 'ICMP:4', 'ICMP:5', 'ICMP:11', 'ICMP:12', 'ICMPv6:1', 'ICMPv6:2', 'ICMPv6:3', 'ICMPv6:4']);

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
function isIcmpQuery(p: Pick<Packet, 'proto' | 'icmp'>): boolean {
	if (p.proto === 'ICMP') return p.icmp !== undefined && [8, 13, 15, 17].includes(p.icmp.type);
	return p.proto === 'ICMPv6' && p.icmp?.type === 128;
}

/** Whether anything comes back for this packet: not for an ICMP echo reply or error, nor for a UDP answer. */
export function expectsReply(p: Pick<Packet, 'proto' | 'icmp' | 'replyTo'>): boolean {
	if (p.proto === 'ICMP' || p.proto === 'ICMPv6') return p.icmp === undefined || isIcmpQuery(p);
	if (p.proto === 'UDP') return p.replyTo === null;
	return true;
}

/** TCP SYNs and ICMP queries start an exchange; they answer nothing. */
export function opens(p: Pick<Packet, 'proto' | 'icmp' | 'tcpFlags'>): boolean {
	if (p.proto === 'TCP') return Boolean(p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK'));
	return isIcmpQuery(p);
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

	constructor(limit = 20_000) {
		this.limit = limit;
	}

	/**
	 * Links `p` with packets seen before it. Returns the earlier packets whose `replySeen` changed,
	 * so streaming views can update them.
	 */
	add(p: Packet): Packet[] {
		const changed: Packet[] = [];
		const isIcmp = p.proto === 'ICMP' || p.proto === 'ICMPv6';
		const icmpKind = isIcmp && p.icmp ? `${p.proto}:${p.icmp.type}` : '';

		if (icmpKind && ICMP_ERRORS.has(icmpKind)) {
			const k = p.quoted ? quotedKey(p.quoted) : undefined;
			const hit = k ? this.latest(k, p.id, p.quoted) : this.quotedById(p);
			p.quotes = hit ? hit.id : null;
		}

		const mine = tuples(p);
		let answers: number | undefined;
		const earlier: Entry[] = [];
		const pOpens = opens(p);
		for (const t of mine) {
			for (const q of this.byTuple.get(reverse(t)) ?? []) {
				if (q.id === p.id) continue;
				if (isIcmp && p.icmp && q.icmpType !== undefined) {
					// An echo reply answers the request with its id; two requests do not answer each other.
					const wanted = ICMP_ANSWER[icmpKind];
					const qKind = `${q.proto}:${q.icmpType}`;
					const answersQ = wanted !== undefined && q.icmpType === wanted && q.icmpSeq === p.icmp.seq;
					const qAnswersMe = ICMP_ANSWER[qKind] !== undefined && ICMP_ANSWER[qKind] === p.icmp.type && q.icmpSeq === p.icmp.seq;
					if (!answersQ && !qAnswersMe) continue;
				}
				if (q.id < p.id) {
					// A SYN or an echo request answers nothing.
					if (pOpens) continue;
					earlier.push(q);
					if (answers === undefined || q.id > answers) answers = q.id;
				} else if (!q.opens) {
					// Completed out of order: a later packet answered this one (it answers the latest earlier one).
					p.replySeen = true;
					const later = q.ref.deref();
					if (later && (later.replyTo === null || later.replyTo < p.id)) later.replyTo = p.id;
				}
			}
		}
		if (answers !== undefined) p.replyTo = answers;
		// Every earlier packet going the other way has now seen a reply.
		for (const q of earlier) {
			const packet = q.ref.deref();
			if (packet && !packet.replySeen) {
				packet.replySeen = true;
				changed.push(packet);
			}
		}
		const entry = entryOf(p);
		for (const t of mine) this.remember(t, entry);
		return changed;
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
