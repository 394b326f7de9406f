/**
 * Where a packet stands on its way between nodes: the journey it is part of (it left, it
 * arrived, or it is the outer packet that carried one), and the way the other direction took
 * (the reply's way back, or for a reply the request's way there), for the views that show one
 * packet at a time.
 *
 * Input:  journeys [{from: node-a #1, wire: {…outer: {sent: node-a #2, received: node-b #1}}, to: node-b #2},
 *                   {from: node-b #3, …, to: node-a #4}], packets (node-b #3 answers node-b #2)
 * Output: crossing(node-a #1) → {journey: the first, role: 'from', other: {journey: the second, is: 'reply'}}
 *         crossing(node-b #1) → {journey: the first, role: 'received'}
 */
import type {Journey, PacketRef} from './fleet.js';
import type {Packet} from './types.js';

export interface Crossing {
	/** The journey this packet is part of. */
	readonly journey: Journey;
	/** How: the packet that left, the packet that arrived, or the outer packet sent or received. */
	readonly role: 'from' | 'to' | 'sent' | 'received';
	/** The other direction: the reply's way back (for a request), or the request's way there (for a reply). */
	readonly other?: {readonly journey: Journey; readonly is: 'reply' | 'request'};
}

/** A packet's key across nodes: `node-a#3`, or `#3` for a packet of no named node. */
export function refKey(node: string | undefined, id: number): string {
	return `${node ?? ''}#${id}`;
}

const keyOf = (r: PacketRef) => refKey(r.node || undefined, r.id);

/**
 * A lookup over `journeys`: for a packet, the crossing it is part of. `packet(node, id)` gives a
 * packet still kept (for the replies); the index is built on the first call.
 */
export function crossings(journeys: readonly Journey[], packet: (node: string | undefined, id: number) => Packet | undefined): (p: Packet) => Crossing | undefined {
	let by: Map<string, {journey: Journey; role: Crossing['role']}> | undefined;
	let replyOf: Map<string, Packet> | undefined;
	const index = () => {
		by = new Map();
		for (const j of journeys) {
			by.set(keyOf(j.from), {journey: j, role: 'from'});
			if (j.to) by.set(keyOf(j.to), {journey: j, role: 'to'});
			const o = j.wire.outer;
			// A node's own packet that came in from the overlay names the outer packet as its `from`: the inner packet wins.
			if (o?.sent && !by.has(keyOf(o.sent))) by.set(keyOf(o.sent), {journey: j, role: 'sent'});
			if (o?.received && !by.has(keyOf(o.received))) by.set(keyOf(o.received), {journey: j, role: 'received'});
		}
		return by;
	};
	const replyIndex = () => {
		if (!replyOf) {
			replyOf = new Map();
			for (const ref of journeys.flatMap(j => (j.to ? [j.from, j.to] : [j.from]))) {
				const p = packet(ref.node || undefined, ref.id);
				if (p && p.replyTo !== null) replyOf.set(refKey(p.node, p.replyTo), p);
			}
		}
		return replyOf;
	};
	return (p: Packet) => {
		const at = (by ?? index()).get(refKey(p.node, p.id));
		if (!at) return undefined;
		const j = at.journey;
		if (at.role === 'sent' || at.role === 'received') return at;
		const table = by!;
		// A request: its reply left where this one arrived (or answered where it left).
		for (const end of j.to ? [j.to, j.from] : [j.from]) {
			const reply = replyIndex().get(keyOf(end));
			const way = reply ? table.get(refKey(reply.node, reply.id)) : undefined;
			if (way && way.journey !== j && (way.role === 'from' || way.role === 'to')) return {...at, other: {journey: way.journey, is: 'reply'}};
		}
		// A reply: the request it answers came the other way.
		for (const end of j.to ? [j.from, j.to] : [j.from]) {
			const q = packet(end.node || undefined, end.id);
			const way = q && q.replyTo !== null ? table.get(refKey(q.node, q.replyTo)) : undefined;
			if (way && way.journey !== j && (way.role === 'from' || way.role === 'to')) return {...at, other: {journey: way.journey, is: 'request'}};
		}
		return at;
	};
}
