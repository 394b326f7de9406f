/**
 * What a trace teaches about the host that a dump cannot: its own addresses, where it routes
 * each destination, which destinations it refused to forward (too big, no route), and, per
 * packet, the connection it belongs to as conntrack saw it so far.
 *
 * Input:  the trace's packets, in id order (`learn`), e.g.
 *           #1 TCP 198.18.10.2:40990 → 198.18.30.10:80 SYN, DNATed to 198.18.20.2:8080, out eth1, MASQUERADE
 *           #2 TCP 198.18.20.2:8080 → 198.18.20.1:40990 SYN ACK (replyTo 1)
 * Output: route('198.18.20.2') → forward out eth1; stateFor(#1) → {state:'new', first:true};
 *         stateFor(#2) → {state:'established', dir:'reply', unsnat:{addr:'198.18.10.2', port:40990}}
 *
 * A packet's connection: the packet it answers (pairing's replyTo: the other direction), the
 * packet an ICMP error quotes (related), or an earlier packet with the same addresses and ports
 * in the same direction (a retransmission, the next echo request). Its state is as of the packet
 * before it: a connection exists once a packet of it was accepted (conntrack confirms it), it
 * is established once a packet went the other way. A TCP connection whose first traced packet
 * is no SYN began before the trace: established. The NAT a connection got is read from its first
 * packet's hops. Routes and local addresses come from every packet of the trace: the trace is
 * the only routing table there is. Everything kept is bounded (`limit` connections, routes,
 * local addresses and refusals, the most recent kept), so a run over an endless trace stays small.
 */
import type {Hook} from '../../netfilter/hooks.js';
import {endpoint, parseAddr} from '../../netfilter/addr.js';
import {isFragNeeded, isIcmpError} from '../../netfilter/icmp.js';
import {isIcmp} from '../../netfilter/protocols.js';
import {parseRuleText} from '../../parser/ruleset.js';
import type {PacketFields} from '../../parser/types.js';
import {nodePart} from '../bounds.js';
import {mapKey} from '../keys.js';
import type {Hop, Packet} from '../types.js';
import {compileRule, type WalkRule} from './source.js';
import type {CtInput, NatMapping, Probe, RouteResult, Routing} from './types.js';

interface Member {
	readonly id: number;
	readonly dir: 'original' | 'reply';
	readonly accepted: boolean;
}

interface Conn {
	readonly orig: {readonly src: string; readonly dst: string; readonly spt?: number; readonly dpt?: number};
	/** The first packet that went through (its NAT is the connection's). */
	natFrom?: number;
	dnat?: NatMapping;
	snat: boolean;
	/** Began before the trace (TCP without a SYN): established from the start. */
	readonly preexisting: boolean;
	/** Its most recent packets (at most MEMBERS_KEPT), oldest first, each packed into one number (packMember). */
	readonly members: number[];
	/** What the packets no longer in `members` showed (a connection of ten thousand packets keeps 64). */
	before?: Before;
	/** Marks its recent packets left with (at most MEMBERS_KEPT), oldest first. */
	readonly ctmarks: Array<{id: number; ctmark: number}>;
}

/** The first of a connection's packets dropped from its list, of each kind that stateFor asks about. */
interface Before {
	readonly first: Member;
	count: number;
	accepted?: Member;
	original?: Member;
	reply?: Member;
}

/**
 * Packets of one connection kept in full. A connection lives as long as its key is among the
 * bounded recent ones, and every ICMP packet between two hosts without an id is one connection,
 * so its list must be bounded too; the packet whose state is asked is always among the last few.
 */
const MEMBERS_KEPT = 64;

/**
 * A member as one number: id × 4, + 2 for a reply, + 1 when accepted. A connection's packets are
 * most of what the knowledge keeps (tens of thousands on a busy node), and a number in an array
 * costs a tenth of an object: no header, no fields.
 */
function packMember(m: Member): number {
	return m.id * 4 + (m.dir === 'reply' ? 2 : 0) + (m.accepted ? 1 : 0);
}

function unpackMember(n: number): Member {
	const low = n % 4;
	return {id: (n - low) / 4, dir: low >= 2 ? 'reply' : 'original', accepted: low % 2 === 1};
}

/** Adds a packet to its connection, folding the oldest into `before` past `kept`. */
function addMember(conn: Conn, m: Member, kept: number): void {
	conn.members.push(packMember(m));
	if (conn.members.length <= kept) return;
	const old = unpackMember(conn.members.shift()!);
	const b = (conn.before ??= {first: old, count: 0});
	b.count++;
	if (old.accepted) b.accepted ??= old;
	if (old.dir === 'original') b.original ??= old;
	else b.reply ??= old;
}

type Membership =
	/** `unsure`: it opened the connection, but the trace does not show what it is (an ICMP packet without its type). */
	| {readonly kind: 'member'; readonly conn: Conn; readonly dir: 'original' | 'reply'; readonly unsure?: true}
	| {readonly kind: 'related'; readonly conn: Conn; readonly dir: 'original' | 'reply'}
	/** An ICMP error about nothing the trace saw. */
	| {readonly kind: 'stray-error'};

/** The hook a hop ran in: the assembler's, else the chain's name when it is a hook (nft base chains are often named after theirs: `input`). */
function hookOf(h: Hop): Hook | undefined {
	// A bridge hook is no IP hook: a frame the bridge delivers to its own INPUT is not this host's address.
	if (h.bridge) return undefined;
	if (h.hook) return h.hook;
	const name = h.chain.toUpperCase();
	return ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(name) ? (name as Hook) : undefined;
}

/** Was the packet sent by this host (its first hop in OUTPUT)? */
export function sentByHost(p: Packet): boolean {
	const first = p.hops[0];
	if (!first) return false;
	const hook = hookOf(first);
	if (hook) return hook === 'OUTPUT' || (hook === 'POSTROUTING' && !first.in);
	return !first.in && Boolean(first.out);
}

function tupleKey(proto: string, src: string | undefined, spt: number | undefined, dst: string | undefined, dpt: number | undefined, icmpId?: number): string {
	if (isIcmp(proto) && icmpId !== undefined) return mapKey(proto, src, icmpId, dst, icmpId);
	if (isIcmp(proto) || proto === 'unknown' || (spt === undefined && dpt === undefined)) return mapKey('portless', src, dst);
	return mapKey(proto, src, spt, dst, dpt);
}

function firstKey(p: Packet): string {
	const h = p.hops[0];
	return tupleKey(p.proto, h?.src ?? p.src, h?.spt ?? p.spt, h?.dst ?? p.dst, h?.dpt ?? p.dpt, p.icmp?.id);
}

function quotedKeys(q: PacketFields): string[] {
	if (!q.src || !q.dst) return [];
	const proto = q.proto ?? 'unknown';
	return [tupleKey(proto, q.src, q.spt, q.dst, q.dpt, q.icmp?.id), tupleKey(proto, q.dst, q.dpt, q.src, q.spt, q.icmp?.id)];
}

const ruleCache = new Map<string, WalkRule | null>();

/**
 * The packet's ICMP type and code: as the trace prints it, else as a rule it matched names it
 * (xtables-monitor prints no ICMP header, but `-p icmp -m icmp --icmp-type 3/4 -j TRACE` says it).
 */
export function icmpOf(p: Packet): {type: number; code?: number; mtu?: number} | undefined {
	if (p.icmp) return p.icmp;
	for (const h of p.hops) {
		if (h.kind !== 'rule' || !h.rule) continue;
		let rule = ruleCache.get(h.rule);
		if (rule === undefined) {
			if (ruleCache.size > 4096) ruleCache.clear();
			const read = parseRuleText(h.rule, h.table);
			rule = read ? compileRule(read) : null;
			ruleCache.set(h.rule, rule);
		}
		const c = rule?.conditions.find(x => x.kind === 'icmpType' && !x.negated && x.type !== undefined);
		if (c?.kind === 'icmpType' && c.type !== undefined) return {type: c.type, ...(c.code === undefined ? {} : {code: c.code})};
	}
	return undefined;
}

/** The packet went through (conntrack confirmed its connection): accepted, or not known to be dropped. */
function accepted(p: Packet): boolean {
	return p.verdict !== 'DROP' && p.verdict !== 'REJECT' && p.refusedBy === undefined;
}

const NAT_SOURCE = new Set(['SNAT', 'MASQUERADE', 'NETMAP']);

/** 224.0.0.0/4 or ff00::/8. */
function isMulticast(addr: string): boolean {
	const a = parseAddr(addr);
	if (!a) return false;
	return a.v6 ? a.value >> 120n === 0xffn : a.value >> 28n === 0xen;
}

export class TraceKnowledge implements Routing {
	private readonly locals = new Set<string>();
	private readonly routes = new Map<string, string>();
	/** Per destination: the MTU beyond which a packet with DF is refused; the smallest length seen refused. */
	private readonly refusals = new Map<string, {mtu?: number; len?: number; basis: string}>();
	/** The last packets, briefly: an error without its quoted header is matched to the packet it refused. */
	private readonly recent: Array<{id: number; src: string; dst: string; len?: number; stoppedAtRouting: boolean}> = [];
	private readonly members = new Map<number, Membership>();
	private readonly byKey = new Map<string, {conn: Conn; dir: 'original' | 'reply'}>();
	/** Bounded: an endless stream keeps the most recent connections. */
	private readonly base: number;
	/** This node's part of the bound, when several nodes' pipelines run in one process (src/model/fleet.ts). */
	private readonly share: () => number;

	/** Packets of a connection kept in full (MEMBERS_KEPT; a whole trace learned before it is asked about keeps them all). */
	private readonly membersKept: number;

	constructor(options: {limit?: number; locals?: Iterable<string>; share?: () => number; membersKept?: number} = {}) {
		this.base = options.limit ?? 20_000;
		this.membersKept = options.membersKept ?? MEMBERS_KEPT;
		this.share = options.share ?? (() => 1);
		for (const a of options.locals ?? []) this.locals.add(a);
	}

	private get limit(): number {
		return nodePart(this.base, this.share());
	}

	get knowsLocals(): boolean {
		return this.locals.size > 0;
	}

	/** Takes in one packet of the trace; call in id order. */
	learn(p: Packet): void {
		if (this.members.has(p.id)) return;
		const host = sentByHost(p);
		const first = p.hops[0];
		if (host && first?.src) this.addLocal(first.src);
		for (const h of p.hops) {
			const hook = hookOf(h);
			if (hook === 'INPUT' && h.dst) this.addLocal(h.dst);
			if ((hook === 'FORWARD' || hook === 'POSTROUTING' || hook === 'OUTPUT') && h.out && h.dst) {
				this.routes.delete(h.dst);
				this.routes.set(h.dst, h.out);
				if (this.routes.size > this.limit) this.routes.delete(this.routes.keys().next().value!);
			}
		}
		this.learnRefusal(p, host);
		const last = p.hops.at(-1);
		this.recent.push({id: p.id, src: first?.src ?? p.src, dst: [...p.hops].reverse().find(h => h.dst)?.dst ?? p.dst, ...(p.len === undefined ? {} : {len: p.len}), stoppedAtRouting: !host && last !== undefined && hookOf(last) === 'PREROUTING' && accepted(p)});
		if (this.recent.length > 64) this.recent.shift();
		this.join(p);
		if (this.members.size > this.limit) {
			const oldest = this.members.keys().next().value;
			if (oldest !== undefined) this.members.delete(oldest);
		}
	}

	/**
	 * Destinations this host would not forward to: a "fragmentation needed" or "no route" it sent
	 * (with the MTU, when the trace shows it), and packets the pipeline found refused (refusedBy).
	 * Without the error's type and quoted header (xtables-monitor prints neither), the rule that
	 * traced the error names its type, and the refused packet is the latest one from the error's
	 * destination whose trace stopped at routing.
	 */
	private learnRefusal(p: Packet, host: boolean): void {
		if (p.refusedBy !== undefined) {
			const dst = [...p.hops].reverse().find(h => h.dst)?.dst ?? p.dst;
			this.refuse(dst, {...(p.len === undefined ? {} : {len: p.len}), basis: `the trace shows routing refused packet #${p.id} (the host answered with the ICMP error #${p.refusedBy})`});
		}
		const icmp = icmpOf(p);
		const proto = p.proto === 'ICMPv6' || (p.proto === 'unknown' && p.family === 'ipv6') ? 'ICMPv6' : 'ICMP';
		if (!host || !icmp || !isIcmpError(proto, icmp.type)) return;
		const frag = isFragNeeded(proto, icmp.type, icmp.code);
		const noRoute = icmp.code === 0 && ((proto === 'ICMP' && icmp.type === 3) || (proto === 'ICMPv6' && icmp.type === 1));
		if (!frag && !noRoute) return;
		const what = frag ? '"fragmentation needed"' : '"no route"';
		if (p.quoted?.dst) {
			this.refuse(p.quoted.dst, {...(frag && icmp.mtu !== undefined ? {mtu: icmp.mtu} : {}), ...(noRoute ? {len: 0} : {}), basis: `this host sent ${what} for ${p.quoted.dst} (packet #${p.id})`});
			return;
		}
		const refused = this.recent.filter(q => q.src === p.dst && q.stoppedAtRouting && q.id < p.id).at(-1);
		if (refused) this.refuse(refused.dst, {...(refused.len === undefined ? {} : {len: noRoute ? 0 : refused.len}), basis: `this host sent ${what} (packet #${p.id}) to ${p.dst} after packet #${refused.id} stopped at routing`});
	}

	/** The host's own addresses: few, but bounded all the same (an endless trace may name many). */
	private addLocal(addr: string): void {
		if (this.locals.has(addr)) return;
		this.locals.add(addr);
		if (this.locals.size > this.limit) this.locals.delete(this.locals.values().next().value!);
	}

	private refuse(dst: string, r: {mtu?: number; len?: number; basis: string}): void {
		if (this.refusals.size >= this.limit && !this.refusals.has(dst)) this.refusals.delete(this.refusals.keys().next().value!);
		const had = this.refusals.get(dst);
		this.refusals.set(dst, {
			...(r.mtu ?? had?.mtu) !== undefined ? {mtu: (r.mtu ?? had?.mtu)!} : {},
			...(r.len !== undefined || had?.len !== undefined ? {len: Math.min(r.len ?? Infinity, had?.len ?? Infinity)} : {}),
			basis: had?.basis ?? r.basis,
		});
	}

	/**
	 * Records the connection mark a packet left with (from its prediction), for the packets after
	 * it. Only changes are kept (a connection's mark is 0 until a rule sets it): the mark a later
	 * packet finds is the last change before it, so most connections keep none.
	 */
	recordCtmark(id: number, ctmark: number): void {
		const m = this.members.get(id);
		if (m && (m.kind === 'member' || m.kind === 'related')) {
			const marks = m.conn.ctmarks;
			if ((marks.at(-1)?.ctmark ?? 0) === ctmark) return;
			marks.push({id, ctmark});
			if (marks.length > this.membersKept) marks.shift();
		}
	}

	private join(p: Packet): void {
		const key = firstKey(p);
		const icmp = icmpOf(p);
		if (icmp && isIcmpError('ICMP' === p.proto || p.proto === 'ICMPv6' ? p.proto : p.family === 'ipv6' ? 'ICMPv6' : 'ICMP', icmp.type)) {
			const quoted = p.quotes != null ? this.members.get(p.quotes) : undefined;
			let conn = quoted && (quoted.kind === 'member' || quoted.kind === 'related') ? quoted.conn : undefined;
			if (!conn && p.quoted) for (const k of quotedKeys(p.quoted)) conn ??= this.byKey.get(k)?.conn;
			if (!conn) return void this.members.set(p.id, {kind: 'stray-error'});
			// An error travelling towards the connection's originator goes the reply way.
			const dir = p.dst === conn.orig.src || (p.hops.at(-1)?.dst ?? p.dst) === conn.orig.src ? 'reply' : 'original';
			return void this.members.set(p.id, {kind: 'related', conn, dir});
		}
		let found: {conn: Conn; dir: 'original' | 'reply'} | undefined;
		if (p.replyTo !== null) {
			const q = this.members.get(p.replyTo);
			if (q?.kind === 'member') found = {conn: q.conn, dir: q.dir === 'original' ? 'reply' : 'original'};
		}
		// Two ICMP packets between the same hosts are not one connection unless their ids say so: without the type and id, only pairing joins them.
		const typeless = (isIcmp(p.proto) || p.proto === 'unknown') && icmpOf(p) === undefined;
		if (!typeless) found ??= this.byKey.get(key);
		let unsure = false;
		if (!found) {
			unsure = typeless;
			const h = p.hops[0];
			const preexisting = p.proto === 'TCP' && Boolean(p.tcpFlags) && !p.tcpFlags!.includes('SYN');
			const conn: Conn = {
				orig: {src: h?.src ?? p.src, dst: h?.dst ?? p.dst, ...(p.spt === undefined ? {} : {spt: p.spt}), ...(p.dpt === undefined ? {} : {dpt: p.dpt})},
				snat: false,
				preexisting,
				members: [],
				ctmarks: [],
			};
			found = {conn, dir: 'original'};
		}
		const {conn, dir} = found;
		if (!this.byKey.has(key)) this.byKey.set(key, {conn, dir});
		const confirmed = conn.preexisting || conn.before?.accepted !== undefined || conn.members.some(n => n % 2 === 1);
		if (!confirmed && dir === 'original') this.natOf(conn, p);
		addMember(conn, {id: p.id, dir, accepted: accepted(p)}, this.membersKept);
		this.members.set(p.id, {kind: 'member', conn, dir, ...(unsure ? {unsure: true as const} : {})});
		if (this.byKey.size > this.limit) {
			const oldest = this.byKey.keys().next().value;
			if (oldest !== undefined) this.byKey.delete(oldest);
		}
	}

	/** The NAT the connection's first packet got: its destination changed on the way; a source NAT rule matched. */
	private natOf(conn: Conn, p: Packet): void {
		conn.natFrom = p.id;
		const first = p.hops[0];
		const last = [...p.hops].reverse().find(h => h.dst !== undefined);
		if (first?.dst && last?.dst && (last.dst !== first.dst || last.dpt !== first.dpt)) conn.dnat = {addr: last.dst, ...(last.dpt === undefined ? {} : {port: last.dpt})};
		else delete conn.dnat;
		conn.snat = p.hops.some(h => h.table === 'nat' && h.kind === 'rule' && h.target !== undefined && NAT_SOURCE.has(h.target));
	}

	/** What conntrack knows when packet `p` arrives: from the packets of its connection before it. */
	stateFor(p: Packet): CtInput {
		this.learn(p);
		const m = this.members.get(p.id);
		if (!m) return {state: undefined, dir: 'original', first: false, basis: 'the packet is no longer remembered'};
		if (m.kind === 'member' && m.unsure) return {state: undefined, dir: 'original', first: false, basis: 'the trace does not show what this packet is (no ICMP type, no earlier packet of its connection)'};
		if (m.kind === 'stray-error') return {state: 'invalid', dir: 'original', first: false, basis: 'an ICMP error about no connection the trace saw'};
		const conn = m.conn;
		const orig = conn.orig;
		const unsnat = conn.snat ? {addr: orig.src, ...(orig.spt === undefined ? {} : {port: orig.spt})} : undefined;
		const ctmark = conn.ctmarks.filter(c => c.id < p.id).at(-1)?.ctmark ?? 0;
		const common = {
			orig,
			ctmark,
			snatDone: conn.snat,
			dnatDone: Boolean(conn.dnat),
			...(conn.dnat ? {dnat: conn.dnat} : {}),
			...(unsnat ? {unsnat} : {}),
		};
		if (m.kind === 'related') {
			return {...common, state: 'related', dir: m.dir, first: false, seenReply: true, basis: `an ICMP error about the connection of ${endpoint(orig.src, orig.spt)} → ${endpoint(orig.dst, orig.dpt)}`};
		}
		// The packets before this one: those folded into `before` (all older than any kept), then
		// the kept ones. Of `before`, only what came before this packet counts (a packet asked
		// about late may be among the folded ones itself).
		const folded = conn.before;
		const b = folded && folded.first.id < p.id ? {...folded, ...(folded.accepted && folded.accepted.id < p.id ? {} : {accepted: undefined}), ...(folded.reply && folded.reply.id < p.id ? {} : {reply: undefined})} : undefined;
		const earlier = conn.members.filter(n => n < p.id * 4).map(unpackMember);
		const firstAccepted = b?.accepted ?? earlier.find(x => x.accepted);
		const confirmed = conn.preexisting || firstAccepted !== undefined;
		if (!confirmed) {
			const ids = [...(b ? [b.first.id] : []), ...earlier.map(x => x.id)];
			const n = ids.length + (b ? b.count - 1 : 0);
			const shown = b && ids.length > 6 ? `#${ids.slice(0, 3).join(' #')} … #${ids.at(-1)}` : `#${ids.join(' #')}`;
			const dropped = n > 0 ? ` (the earlier packet${n > 1 ? 's' : ''} ${shown}${n > ids.length ? `, ${n} in all,` : ''} did not get through)` : '';
			return {state: 'new', dir: m.dir, first: true, orig, ctmark: 0, basis: `the first packet of its connection in the trace${dropped}`};
		}
		// The first earlier packet that went the other way, or any reply.
		const reply = conn.preexisting ? undefined : m.dir === 'reply' ? (b?.first ?? earlier[0]) : (b?.reply ?? earlier.find(x => x.dir === 'reply'));
		// A TCP ACK from the side that sent the SYN proves the SYN-ACK came back, traced or not.
		const acked = p.proto === 'TCP' && m.dir === 'original' && Boolean(p.tcpFlags?.includes('ACK')) && !p.tcpFlags?.includes('SYN');
		const seenReply = conn.preexisting || m.dir === 'reply' || b?.reply !== undefined || earlier.some(x => x.dir === 'reply') || acked;
		const basis = conn.preexisting
			? 'a TCP packet without SYN whose connection began before the trace'
			: m.dir === 'reply'
				? `a reply: the connection was opened by #${b?.first.id ?? (conn.members.length > 0 ? unpackMember(conn.members[0]!).id : '?')}`
				: seenReply
					? reply
						? `the connection saw a reply (#${reply.id})`
						: 'an ACK of the side that opened the connection: its SYN was answered'
					: `the connection exists (#${firstAccepted?.id ?? '?'} got through) and saw no reply yet`;
		return {...common, state: seenReply ? 'established' : 'new', dir: m.dir, first: false, seenReply, basis};
	}

	isLocal(addr: string): boolean | undefined {
		if (this.locals.has(addr)) return true;
		return this.locals.size > 0 ? false : undefined;
	}

	outFor(addr: string): string | undefined {
		return this.routes.get(addr);
	}

	route(dst: string, probe: Probe): RouteResult {
		if (this.locals.has(dst)) return {kind: 'local', basis: `${dst} is this host's (the trace shows it delivered or sent here)`};
		// Without multicast routing a multicast packet is delivered to the groups the host is in, never forwarded.
		if (isMulticast(dst)) return {kind: 'refused', basis: `${dst} is a multicast group the trace never shows delivered here, and multicast is not forwarded (no multicast routing)`};
		const refused = this.refusals.get(dst);
		if (refused) {
			if (refused.len !== undefined && (probe.len ?? 0) >= refused.len) return {kind: 'refused', basis: refused.len === 0 ? refused.basis : `${probe.len} bytes, as big as packets routing refused: ${refused.basis}`};
			if (refused.mtu !== undefined && probe.len !== undefined && probe.len > refused.mtu && (probe.df ?? probe.family === 'ipv6')) {
				return {kind: 'refused', basis: `too big for the next hop (${probe.len} bytes, MTU ${refused.mtu}) with DF set: ${refused.basis}`};
			}
		}
		const out = this.routes.get(dst);
		return out === undefined
			? {kind: 'forward', out: undefined, basis: `no packet of the trace shows where ${dst} is routed`}
			: {kind: 'forward', out, basis: `the trace shows packets to ${dst} leaving by ${out}`};
	}
}
