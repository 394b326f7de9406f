/**
 * The detail view's hop list for a packet that crossed between nodes: the packet that left with
 * its hops at the first node, the wire (the overlay, the outer packet that carried it, `A #n ⇒
 * B #m`), the same packet's hops at the node it reached, and the way the other direction took
 * (the reply's way back, or the request's way there). Only the shown packet's own hops can be
 * selected; the other node's are there to read.
 *
 * Input:  node-a #1 of testdata/nodes/broken (left by flannel.1, dropped at node-b as node-b #2)
 * Output (as text):
 *   ▶ node-a #1  left by flannel.1
 *   PREROUTING
 *     raw:PREROUTING  policy:3  ACCEPT  -P PREROUTING ACCEPT
 *   …
 *   ═ wire  VXLAN over flannel.1  198.18.100.1 → 198.18.100.2  outer node-a #2 ⇒ node-b #1
 *   ▶ node-b #2  arrived by flannel.1  DROP
 *   PREROUTING
 *     raw:PREROUTING  policy:3  ACCEPT  -P PREROUTING ACCEPT
 *   …
 *   ◀ reply  none seen
 */
import type {Crossing} from '../../model/crossing.js';
import type {Journey, PacketRef} from '../../model/fleet.js';
import type {InputInfo} from '../../model/inputs.js';
import type {Packet} from '../../model/types.js';
import {detailLines} from './detail-lines.js';
import {seg, type Seg, type StyledLine, type Tone} from './styled.js';

/** A packet named across nodes: `node-a #3`, or `#3` for a packet of no named node. */
export function refName(r: {readonly node?: string | undefined; readonly id: number}): string {
	return r.node ? `${r.node} #${r.id}` : `#${r.id}`;
}

const same = (a: PacketRef | undefined, b: {node?: string | undefined; id: number}) => a !== undefined && a.id === b.id && (a.node || undefined) === (b.node || undefined);

function verdictTone(v: Journey['verdict']): Tone {
	return v === 'ACCEPT' ? 'ok' : v === 'carried' ? 'plain' : v === 'trace-ended' ? 'warn' : 'bad';
}

function verdictText(j: Journey): string {
	if (j.verdict === 'lost') return `never arrived${j.toward ? ` at ${j.toward}` : ''}: lost between the nodes`;
	if (j.verdict === 'trace-ended') return `not known: ${j.toward ?? 'the other node'}'s trace had ended`;
	if (j.verdict === 'carried') return 'the node it went to was not given';
	return j.verdict;
}

/** The wire: overlay kind and device, the outer packet's addresses, and which packets carried it at each end. */
export function wireLine(j: Journey): StyledLine {
	const o = j.wire.outer;
	const carriers = o && (o.sent || o.received) ? `  outer ${o.sent ? refName(o.sent) : '?'} ⇒ ${o.received ? refName(o.received) : 'not received'}` : '';
	return [seg('═ wire  ', 'head'), seg(`${j.wire.kind.toUpperCase()} over ${j.wire.device}`, 'info'), seg(o ? `  ${o.src} → ${o.dst}` : '  no outer packet seen'), seg(carriers, o?.received || !o?.sent ? 'plain' : 'bad')];
}

/** One journey on one line: `node-a #1 ─flannel.1─ VXLAN … (node-a #2 ⇒ node-b #1) ─▶ node-b #2  ACCEPT  ICMP …`. */
export function journeyLine(j: Journey): Seg[] {
	const o = j.wire.outer;
	const outer = o ? ` ${j.wire.kind.toUpperCase()} ${o.src} → ${o.dst}${o.sent || o.received ? ` (${o.sent ? refName(o.sent) : '?'} ⇒ ${o.received ? refName(o.received) : 'not received'})` : ''}` : '';
	return [
		seg(refName(j.from), 'bold'),
		seg(` ─${j.wire.device}─${outer} ─▶ `),
		seg(j.to ? refName(j.to) : `${j.toward ?? '?'} ?`, j.to ? 'bold' : 'bad'),
		seg('  '),
		seg(verdictText(j), verdictTone(j.verdict)),
		seg(`  ${j.what}`, 'dim'),
	];
}

export interface JourneyDetail {
	readonly hops: StyledLine[];
	/** Line (in `hops`) of each of the shown packet's hops, by hop index. */
	readonly hopLine: number[];
	/** One line for the header: where this packet stands on the journey, and the keys to move along it. */
	readonly summary: StyledLine;
}

/** The packets a key moves to from a packet on a journey: the other end, the outer packet, the other direction. */
export function journeyTargets(p: Packet, c: Crossing): {readonly other?: PacketRef; readonly outer?: PacketRef; readonly back?: PacketRef} {
	const j = c.journey;
	const o = j.wire.outer;
	const local = same(o?.received, j.from) && j.to !== undefined && j.from.node === j.to.node;
	const atFrom = c.role === 'from' || c.role === 'sent';
	const other = c.role === 'from' ? j.to : c.role === 'to' ? (local ? undefined : j.from) : j.from.node === (p.node ?? '') && !local ? j.from : j.to;
	const outer = c.role === 'sent' ? o?.received : c.role === 'received' ? o?.sent : atFrom ? (o?.sent ?? o?.received) : (o?.received ?? o?.sent);
	// The other direction, at this packet's node when it was traced there.
	const b = c.other?.journey;
	const back = b ? ([b.from, b.to].find(r => r !== undefined && (r.node || undefined) === (p.node || undefined)) ?? b.from) : undefined;
	return {...(other ? {other} : {}), ...(outer ? {outer} : {}), ...(back ? {back} : {})};
}

/**
 * The hop list of `p` on its way between nodes. `packet(ref)` gives another packet still kept
 * (the same packet at the other node), undefined when it is no longer kept or was never seen.
 */
export function journeyDetail(p: Packet, c: Crossing, inputs: readonly InputInfo[], packet: (ref: PacketRef) => Packet | undefined): JourneyDetail {
	const j = c.journey;
	const o = j.wire.outer;
	const own = detailLines(p, inputs);
	const hops: StyledLine[] = [];
	const hopLine: number[] = [];
	const mine = (heading: StyledLine) => {
		hops.push(heading);
		const at = hops.length;
		own.hopLine.forEach((l, i) => (hopLine[i] = l + at));
		hops.push(...own.hops);
	};
	const theirs = (heading: StyledLine, ref: PacketRef | undefined) => {
		hops.push(heading);
		const q = ref ? packet(ref) : undefined;
		if (q) hops.push(...detailLines(q, inputs).hops);
		else if (ref) hops.push([seg(`  ${refName(ref)} is no longer kept (--keep)`, 'dim')]);
	};
	// A packet that came in from the overlay on a node replayed alone: its `from` is the outer packet.
	const local = same(o?.received, j.from) && j.to !== undefined && j.from.node === j.to.node;
	const leftHeading: StyledLine = [seg(`▶ ${refName(j.from)}`, 'head'), seg(`  left by ${j.wire.device}`)];
	const arrivedHeading: StyledLine = j.to
		? [seg(`▶ ${refName(j.to)}`, 'head'), seg(`  arrived by ${j.wire.device}  `), seg(j.verdict, verdictTone(j.verdict))]
		: [seg(`▶ ${j.toward ?? 'the other node'}`, 'head'), seg('  '), seg(verdictText(j), verdictTone(j.verdict))];
	if (c.role === 'from') {
		mine(leftHeading);
		hops.push(wireLine(j));
		if (j.to) theirs(arrivedHeading, j.to);
		else hops.push(arrivedHeading);
	} else if (c.role === 'to') {
		if (!local) theirs(leftHeading, j.from);
		hops.push(wireLine(j));
		mine(arrivedHeading);
	} else {
		// The outer packet itself: its hops, then what it carried.
		mine([seg(`▶ ${refName(p)}`, 'head'), seg(`  the outer packet ${c.role === 'sent' ? 'sent' : 'received'}: it carried`)]);
		hops.push([seg('  '), ...journeyLine(j)]);
	}
	const b = c.other;
	if (b) hops.push([seg(b.is === 'reply' ? '◀ reply  ' : '◀ request  ', 'head'), ...journeyLine(b.journey)]);
	else if (c.role === 'from' || c.role === 'to') hops.push([seg('◀ reply  ', 'head'), seg(p.replyTo !== null ? 'this packet is a reply; its request did not cross a traced overlay' : p.replySeen ? 'seen, but not on its way across the nodes' : 'none crossed back', 'dim')]);

	const t = journeyTargets(p, c);
	const keys = [t.other ? `o ${refName(t.other)}` : '', t.outer ? `w outer ${refName(t.outer)}` : '', t.back ? `r ${c.other?.is ?? 'reply'} ${refName(t.back)}` : ''].filter(Boolean).join(' · ');
	const summary: StyledLine = [
		seg('crossed ', 'bold'),
		seg(refName(j.from)),
		seg(` ─${j.wire.device}─▶ `),
		seg(j.to ? refName(j.to) : `${j.toward ?? '?'} ?`, j.to ? 'plain' : 'bad'),
		seg(' '),
		seg(verdictText(j), verdictTone(j.verdict)),
		...(keys ? [seg(`   ${keys}`, 'dim')] : []),
	];
	return {hops, hopLine, summary};
}
