/**
 * Rebuilds packets from trace events.
 *
 * Input:  events in line order, e.g. for one forwarded SYN (legacy TRACE, no packet id):
 *   raw:PREROUTING:policy:2   IN=eth0 OUT=     SRC=198.19.88.69 DST=198.19.96.1 … TTL=64 ID=41 SPT=40312 DPT=443 SEQ=7 SYN
 *   nat:PREROUTING:rule:1     IN=eth0 OUT=     … DST=198.19.96.1 …
 *   filter:FORWARD:policy:3   IN=eth0 OUT=wlp59s0 … DST=198.18.1.50 … TTL=63 … DPT=6443 …
 * Output: one Packet with three hops; the DNAT is visible as the change of DST/DPT.
 *
 * Grouping rules for kernel lines (which carry no packet id; see docs/grouping.md):
 *  - Lines of one packet share what no hook changes: family, protocol, IP length, IP ID (IPv4)
 *    or flow label (IPv6), TCP sequence/ack/flags/window, UDP length, ICMP type/code/id/seq.
 *  - The next line of a packet must be a step forward on a possible path: a hook that can follow
 *    (PREROUTING → INPUT|FORWARD → POSTROUTING, OUTPUT → POSTROUTING), a table of equal or later
 *    priority at the same hook, a higher position in a built-in chain not yet left by its policy,
 *    or a user chain of the table being walked.
 *  - Addresses: SRC/SPT never change on a traced path; DST/DPT only past the nat DNAT point.
 *    IN stays the same (empty at POSTROUTING); TTL drops by one from PREROUTING to FORWARD.
 *  - Lines of one packet are logged within microseconds: a line more than `windowSeconds` after
 *    a packet's last line starts a new packet.
 *  - Among several candidates the most recently updated wins (interleaved packets).
 * xtables-monitor and nft lines carry a trace id; the id can be reused by a later packet, so a
 * new packet also starts when a base chain the packet has already passed is entered again, or
 * when its PACKET line shows a different IP ID or length.
 */
import type {LineRef, PacketFields, ParsedLine, TraceEvent} from '../parser/types.js';
import {BUILTIN_CHAINS, canFollow, isBuiltinChain, isHook, tablePriority} from '../netfilter/hooks.js';
import {printsIcmpSequence} from '../netfilter/icmp.js';
import {bridgeHookOrder, crossesDestinationNat, guessHook, ruleEffects} from './hooks.js';
import type {ChangedField, FieldChange, Hook, HopKind, Hop, Packet} from './types.js';

export interface AssembleOptions {
	/** Seconds between two lines of one packet, at most (log timestamps). Default 1. */
	readonly windowSeconds?: number;
	/** Lines without news after which an open packet is considered complete. Default 2000. */
	readonly idleLines?: number;
	/** The first packet's id (a restarted agent goes on where it stopped). Default 1. */
	readonly firstId?: number;
}

type EventLine = Extract<ParsedLine, {kind: 'event'}>;

interface Open {
	packet: Packet;
	sig: string;
	/** Current hook and table, when known. */
	hook?: Hook;
	table?: string;
	/** Per `hook:table`: last position seen in the built-in chain, and whether it was left. */
	builtin: Map<string, {num: number; closed: boolean}>;
	/** Current header values (after rewrites seen so far). */
	cur: PacketFields;
	/** TTL seen at PREROUTING, to check the decrement at FORWARD. */
	preTtl?: number;
	lastTime?: number;
	lastSeq: number;
	/** xtables-monitor / nft: the trace id, the latest PACKET fields not yet attached to a hop. */
	traceId?: string;
	pending?: PacketFields;
	/** nft: base chains (`table chain`) already entered. */
	entered?: Set<string>;
	/** The latest value of each tracked header field (Packet.changes), from full lines only. */
	known: Partial<Record<ChangedField, string>>;
	/** Index of the hop that last showed each tracked field. */
	knownAt: Partial<Record<ChangedField, number>>;
	/** Index of the last hop that shows the packet's IP header (not a bridge hop), or -1. */
	lastIp: number;
	/** xtables-monitor / nft: index of the first hop that took its fields from the latest packet line (hops of one base chain share them). */
	group: number;
	/** Index of the first hop of the group before it. */
	prevGroup: number;
	/** The key it is indexed under in byLoose (TCP kernel packets). */
	loose?: string;
	/** nft: a `verdict continue` or `policy` line, the only ones that print the mark, was seen. */
	markKnown?: boolean;
	/** ebtables hops: the position reached on the bridge's own path, and the bridge ports seen. */
	bridgeAt?: number;
	ports?: {in?: string; out?: string};
}

/** Parsed fields are frozen and shared by a packet's lines: work out their signature once. */
const signatures = new WeakMap<PacketFields, string>();
const partials = new WeakMap<PacketFields, boolean>();

function signature(p: PacketFields): string {
	if (!Object.isFrozen(p)) return computeSignature(p);
	let s = signatures.get(p);
	if (s === undefined) signatures.set(p, (s = computeSignature(p)));
	return s;
}

function computeSignature(p: PacketFields): string {
	const parts: Array<string | number | undefined> = [p.family, p.proto, p.len, p.ipId, p.flowLabel];
	if (p.proto === 'TCP') parts.push(p.seq, p.ack, p.window, p.tcpFlags?.join(''));
	else if (p.proto === 'UDP' || p.proto === 'UDPLITE') parts.push(p.udpLen);
	// The quoted packet's id and protocol, not its addresses: conntrack rewrites those along with
	// the outer ones when it undoes a connection's NAT on an ICMP error (fitsFields checks them).
	else if (p.icmp) parts.push(p.icmp.type, p.icmp.code, p.icmp.id, p.icmp.seq, p.quoted?.ipId, p.quoted?.proto);
	return parts.map(v => v ?? '').join('|');
}

/**
 * What a -j LOG line shows of a packet: LOG prints TCP sequence numbers and options only with
 * --log-tcp-sequence / --log-tcp-options (TRACE always prints them), so a LOG line of a TCP
 * segment is looked up without them.
 */
function looseSignature(p: PacketFields): string {
	if (p.proto !== 'TCP') return signature(p);
	return [p.family, p.proto, p.len, p.ipId, p.flowLabel, p.window, p.tcpFlags?.join('')].map(v => v ?? '').join('|');
}

const L4_NAMES = ['TCP', 'UDP', 'UDPLITE', 'ICMP', 'ICMPv6', 'SCTP', 'ESP', 'AH'];

/**
 * A line cut short (by a copy, or the kernel's 1019-byte limit) lacks fields the kernel always
 * prints for its protocol; it can still belong to a packet whose fields agree with what it has.
 */
export function isPartial(p: PacketFields): boolean {
	if (!Object.isFrozen(p)) return computePartial(p);
	let v = partials.get(p);
	if (v === undefined) partials.set(p, (v = computePartial(p)));
	return v;
}

function computePartial(p: PacketFields): boolean {
	if (p.cut) return true;
	if (!p.src || !p.dst || p.len === undefined) return true;
	if (!p.proto) return true;
	switch (p.proto) {
		case 'TCP':
			// The kernel ends the TCP header with URGP=; a line without it was cut.
			return p.incomplete === undefined && (p.spt === undefined || p.dpt === undefined || p.urgp === undefined);
		case 'UDP':
		case 'UDPLITE':
			return p.incomplete === undefined && (p.spt === undefined || p.dpt === undefined || p.udpLen === undefined);
		case 'ICMP':
		case 'ICMPv6':
			return p.icmp === undefined || p.icmp.code === undefined || (printsIcmpSequence(p.proto, p.icmp.type) && p.icmp.seq === undefined);
		default:
			return !/^\d+$/.test(p.proto) && !L4_NAMES.includes(p.proto) && L4_NAMES.some(n => n.startsWith(p.proto!));
	}
}

/** Do the fields a partial line has agree with the packet's? The last value of a cut line may itself be cut: a prefix agrees. */
function agrees(c: PacketFields, p: PacketFields): boolean {
	const same = <T>(a: T | undefined, b: T | undefined) => a === undefined || b === undefined || String(a).startsWith(String(b));
	return (
		same(c.family === 'unknown' ? undefined : c.family, p.family === 'unknown' ? undefined : p.family) &&
		same(c.len, p.len) &&
		same(c.ipId, p.ipId) &&
		same(c.flowLabel, p.flowLabel) &&
		same(c.src, p.src) &&
		same(c.spt, p.spt) &&
		same(c.seq, p.seq) &&
		(p.proto === undefined || c.proto === undefined || c.proto.startsWith(p.proto)) &&
		(c.in === undefined || p.in === undefined || c.in === p.in || p.in === '' || c.in === '')
	);
}

function seconds(e: TraceEvent): number | undefined {
	if (e.type !== 'kernel-hop' && e.type !== 'kernel-log') return undefined;
	if (e.time?.mono !== undefined) return e.time.mono;
	if (e.time?.wall !== undefined) return e.time.wall / 1000;
	return undefined;
}

function hopFrom(e: {table: string; chain: string}, kind: HopKind, num: number | null, ref: LineRef, pkt: PacketFields, hook: Hook | undefined): Hop {
	const hop: Hop = {table: e.table, chain: e.chain, kind, num, ref, in: pkt.in ?? '', out: pkt.out ?? ''};
	if (hook) hop.hook = hook;
	if (pkt.src !== undefined) hop.src = pkt.src;
	if (pkt.dst !== undefined) hop.dst = pkt.dst;
	if (pkt.spt !== undefined) hop.spt = pkt.spt;
	if (pkt.dpt !== undefined) hop.dpt = pkt.dpt;
	if (pkt.mark !== undefined) hop.mark = pkt.mark;
	if (pkt.ttl !== undefined) hop.ttl = pkt.ttl;
	return hop;
}

function endpoint(addr: string, port: number | undefined): string {
	const a = addr.includes(':') && port !== undefined ? `[${addr}]` : addr;
	return port === undefined ? a : `${a}:${port}`;
}

/** A mark as the kernel prints it (`0x10`): nft pads it (`0x00000010`); no mark and mark 0 are both `''`. */
function normalMark(mark: string | undefined): string {
	if (mark === undefined) return '';
	const n = Number.parseInt(mark.replace(/^0x/i, ''), 16);
	return Number.isFinite(n) && n !== 0 ? `0x${n.toString(16)}` : n === 0 ? '' : mark;
}

const FAMILY_BY_NFPROTO: Record<number, PacketFields['family']> = {2: 'ipv4', 10: 'ipv6', 3: 'arp', 7: 'bridge', 1: 'inet', 5: 'netdev'};

function newPacket(id: number, pkt: PacketFields, format: Packet['format'], traceId?: string): Packet {
	const p: Packet = {
		id,
		family: pkt.family,
		proto: pkt.proto ?? (pkt.tcpFlags?.length ? 'TCP' : pkt.family === 'arp' ? 'ARP' : 'unknown'),
		src: pkt.src ?? '',
		dst: pkt.dst ?? '',
		hops: [],
		verdict: 'unknown',
		verdictBasis: '',
		in: '',
		out: '',
		nat: [],
		replyTo: null,
		replySeen: false,
		format,
		first: pkt,
		changes: [],
	};
	if (traceId) p.traceId = traceId;
	if (pkt.spt !== undefined) p.spt = pkt.spt;
	if (pkt.dpt !== undefined) p.dpt = pkt.dpt;
	if (pkt.ipId !== undefined) p.ipId = pkt.ipId;
	if (pkt.icmp) p.icmp = pkt.icmp;
	if (pkt.tcpFlags) p.tcpFlags = pkt.tcpFlags;
	if (pkt.len !== undefined) p.len = pkt.len;
	if (pkt.quoted) p.quoted = pkt.quoted;
	if (pkt.uid !== undefined) p.uid = pkt.uid;
	if (pkt.gid !== undefined) p.gid = pkt.gid;
	if (pkt.arp) p.arp = pkt.arp;
	return p;
}

/**
 * Stateful, but pure of I/O: feed it parsed lines in order, collect the packets it completes.
 * `push` returns packets that became complete (idle) because of this line; `flush` returns the rest.
 */
export class PacketAssembler {
	/** Open packets by id, in the order they started. */
	private readonly open = new Map<number, Open>();
	/** Open kernel packets by signature. */
	private readonly bySig = new Map<string, Open[]>();
	/** Open kernel TCP packets by their signature without sequence numbers, for -j LOG lines (which print none by default). */
	private readonly byLoose = new Map<string, Open[]>();
	private readonly byTraceId = new Map<string, Open>();
	private lastSweep = 0;
	/** Packets completed since the last push returned. */
	private ready: Packet[] = [];
	private lastSweepTime: number | undefined;
	private nextId = 1;
	private seq = 0;
	private readonly window: number;
	private readonly idleLines: number;

	constructor(options: AssembleOptions = {}) {
		this.window = options.windowSeconds ?? 1;
		this.idleLines = options.idleLines ?? 2000;
		this.nextId = options.firstId ?? 1;
	}

	/** The id the next packet will get: every packet started so far has a lower one. */
	get nextPacketId(): number {
		return this.nextId;
	}

	/** Id of the oldest packet still open, or undefined when none is. */
	get oldestOpenId(): number | undefined {
		return this.open.keys().next().value;
	}

	/** The oldest packet still open (a draft: read, never change it), or undefined when none is. */
	get oldestOpen(): Packet | undefined {
		return this.open.values().next().value?.packet;
	}

	/** Number of packets not yet complete. */
	get pending(): number {
		return this.open.size;
	}

	push(line: EventLine): Packet[] {
		this.seq++;
		const e = line.event;
		switch (e.type) {
			case 'kernel-hop': {
				this.kernelHop(e, line.ref);
				break;
			}
			case 'kernel-log': {
				// A LOG rule's line for a packet being traced: the kernel prints it right after the
				// TRACE line of the LOG rule (a line is printed before its rule's target runs), so it
				// is noted on that hop, the packet's last.
				const traced = this.loggedPacket(e.pkt, seconds(e));
				if (traced) {
					traced.packet.hops[traced.lastIp]!.logPrefix = e.prefix;
					traced.lastSeq = this.seq;
					break;
				}
				const p = newPacket(this.nextId++, e.pkt, 'kernel');
				const hop = hopFrom({table: '', chain: ''}, 'log', null, line.ref, e.pkt, undefined);
				if (e.time) hop.time = e.time;
				hop.logPrefix = e.prefix;
				p.hops.push(hop);
				// A LOG line is one observation of one packet: complete at once.
				return [p];
			}
			case 'kernel-bridge': {
				this.bridgeHop(e, line.ref);
				break;
			}
			case 'xt-packet': {
				this.xtPacket(e.traceId, {...e.pkt, family: e.pkt.family === 'unknown' ? (FAMILY_BY_NFPROTO[e.nfproto] ?? 'unknown') : e.pkt.family});
				break;
			}
			case 'xt-hop': {
				this.traceIdHop('xtables-monitor', e.traceId, e.table, e.chain, e.hop, line.ref, {
					...(e.nfproto === 7 ? {bridge: true} : {}),
					...(e.handle !== undefined ? {handle: e.handle} : {}),
					...(e.verdict ? {verdict: e.verdict} : {}),
					...(e.target ? {target: e.target} : {}),
					...(e.ruleText ? {ruleText: e.ruleText} : {}),
				});
				break;
			}
			case 'nft-packet': {
				this.nftPacket(e.traceId, e.family, e.table, e.chain, e.pkt);
				break;
			}
			case 'nft-hop': {
				const kind: HopKind = e.hop === 'unknown-rule' ? 'rule' : e.hop;
				this.traceIdHop('nft-monitor', e.traceId, e.table, e.chain, kind, line.ref, {
					...(e.family === 'bridge' ? {bridge: true} : {}),
					...(e.handle !== undefined ? {handle: e.handle} : {}),
					verdict: e.verdict.toUpperCase(),
					...(e.target ? {target: e.target} : {}),
					...(e.ruleText ? {ruleText: e.ruleText} : {}),
					...(e.hop === 'unknown-rule' ? {note: `rule handle ${e.handle} was deleted or nft's cache was stale`} : {}),
					...(e.mark ? {mark: e.mark} : {}),
				});
				break;
			}
			default: {
				break;
			}
		}
		const swept = this.sweep(seconds(e));
		if (this.ready.length === 0) return swept;
		const out = [...this.ready, ...swept];
		this.ready = [];
		return out;
	}

	/** A packet whose trace id was taken over by a new packet is complete. */
	private retire(o: Open): void {
		this.close(o);
		this.ready.push(o.packet);
	}

	/** All packets still open, in the order they started. */
	flush(): Packet[] {
		const out = [...this.ready, ...[...this.open.values()].map(o => o.packet)];
		this.ready = [];
		this.open.clear();
		this.bySig.clear();
		this.byLoose.clear();
		this.byTraceId.clear();
		return out;
	}

	// ---- kernel TRACE lines -------------------------------------------------------------------

	private kernelHop(e: Extract<TraceEvent, {type: 'kernel-hop'}>, ref: LineRef): void {
		const sig = signature(e.pkt);
		const t = seconds(e);
		const builtin = isHook(e.chain) && isBuiltinChain(e.table, e.chain);
		let best: Open | undefined;
		const partial = isPartial(e.pkt);
		for (const o of partial ? this.open.values() : (this.bySig.get(sig) ?? [])) {
			if (o.traceId !== undefined) continue;
			if (t !== undefined && o.lastTime !== undefined && Math.abs(t - o.lastTime) > this.window) continue;
			if (partial ? !agrees(o.cur, e.pkt) || !this.fitsPath(o, e, builtin) : !this.fits(o, e, builtin)) continue;
			if (!best || o.lastSeq > best.lastSeq) best = o;
		}
		const o = best ?? this.bridged(e.pkt, sig, t) ?? this.start(e.pkt, sig, 'kernel');
		this.advance(o, e.table, e.chain, e.hop, e.num, builtin, e.pkt);
		const hop = hopFrom(e, e.hop, e.num, ref, e.pkt, o.hook);
		if (e.time) hop.time = e.time;
		o.packet.hops.push(hop);
		this.recordChanges(o, partial);
		// A cut line says less than the packet's earlier lines: keep what they said.
		if (!partial || !best) o.cur = e.pkt;
		if (t !== undefined) o.lastTime = t;
		o.lastSeq = this.seq;
	}

	/**
	 * The traced packet a -j LOG line belongs to: the latest open kernel packet with the same
	 * signature (for TCP without sequence numbers, which LOG prints only when asked to) whose last
	 * line shows what the LOG line shows and has no LOG line yet.
	 */
	private loggedPacket(pkt: PacketFields, t: number | undefined): Open | undefined {
		const loose = pkt.proto === 'TCP' && pkt.seq === undefined;
		let best: Open | undefined;
		for (const o of (loose ? this.byLoose.get(looseSignature(pkt)) : this.bySig.get(signature(pkt))) ?? []) {
			if (this.seq - o.lastSeq > 64 || (t !== undefined && o.lastTime !== undefined && Math.abs(t - o.lastTime) > this.window)) continue;
			const last = o.packet.hops[o.lastIp];
			if (!last || last.logPrefix !== undefined || last.kind === 'log') continue;
			if (last.src !== pkt.src || last.dst !== pkt.dst || last.spt !== pkt.spt || last.dpt !== pkt.dpt) continue;
			if (last.in !== (pkt.in ?? '') || last.out !== (pkt.out ?? '')) continue;
			if (last.ttl !== undefined && pkt.ttl !== undefined && last.ttl !== pkt.ttl) continue;
			if (!best || o.lastSeq > best.lastSeq) best = o;
		}
		return best;
	}

	/**
	 * An IP line (br_netfilter: PHYSIN set) of a frame whose ebtables lines started a packet: the
	 * open bridge packet with the same addresses, protocol, ports and TOS that came in on that port.
	 */
	private bridged(pkt: PacketFields, sig: string, t: number | undefined): Open | undefined {
		if (!pkt.physin) return undefined;
		let best: Open | undefined;
		for (const o of this.open.values()) {
			if (o.traceId !== undefined || o.hook !== undefined || o.bridgeAt === undefined || o.ports?.in !== pkt.physin) continue;
			if (this.seq - o.lastSeq > 64 || (t !== undefined && o.lastTime !== undefined && Math.abs(t - o.lastTime) > this.window)) continue;
			if (!sameFrame(o.cur, pkt)) continue;
			if (!best || o.lastSeq > best.lastSeq) best = o;
		}
		if (best) {
			best.sig = sig;
			this.index(best, pkt);
			fillIn(best.packet, pkt);
		}
		return best;
	}

	/**
	 * An ebtables line (`TRACE: eb:nat:PREROUTING …`, the --log watcher): a hop of the frame it
	 * shows. It joins the open packet of the same frame (addresses, protocol, ports, TOS) whose
	 * bridge path it continues — its bridge hooks in order, the same bridge ports; with
	 * br_netfilter, the IP lines of a bridged frame (PHYSIN) or of a packet routed into the bridge —
	 * else it starts a packet of its own.
	 */
	private bridgeHop(e: Extract<TraceEvent, {type: 'kernel-bridge'}>, ref: LineRef): void {
		const t = seconds(e);
		// A prefix that names no chain (any other --log-prefix) says nothing of the hook.
		const order = e.chain === undefined ? undefined : bridgeHookOrder(e.chain);
		const inPort = e.pkt.in ?? '';
		const outPort = e.pkt.out ?? '';
		let best: Open | undefined;
		for (const o of this.open.values()) {
			if (o.traceId !== undefined || this.seq - o.lastSeq > 64) continue;
			if (t !== undefined && o.lastTime !== undefined && Math.abs(t - o.lastTime) > this.window) continue;
			if (!sameFrame(o.cur, e.pkt)) continue;
			// The bridge hooks in order (tables of one hook in any order: filter OUTPUT logs before nat OUTPUT).
			if (order !== undefined && o.bridgeAt !== undefined && order < o.bridgeAt) continue;
			if (inPort && o.ports?.in !== undefined && o.ports.in !== inPort) continue;
			if (outPort && o.ports?.out !== undefined && o.ports.out !== outPort) continue;
			if (o.hook !== undefined) {
				// A frame whose IP lines came first: bridged in on this port (br_netfilter sets
				// PHYSIN), or routed into the bridge (the bridge's own OUTPUT, no input port).
				if (inPort ? o.cur.physin !== inPort : o.hook === 'PREROUTING' || o.hook === 'INPUT') continue;
			} else if (o.bridgeAt === undefined) continue;
			if (!best || o.lastSeq > best.lastSeq) best = o;
		}
		const o = best ?? this.start(e.pkt, '', 'kernel', undefined, false);
		const hop: Hop = {table: e.table === undefined ? '' : `eb:${e.table}`, chain: e.chain ?? '', kind: 'log', num: null, ref, in: inPort, out: outPort, bridge: true, logPrefix: e.prefix};
		if (e.chain !== undefined && isHook(e.chain)) hop.hook = e.chain;
		if (e.pkt.src !== undefined) hop.src = e.pkt.src;
		if (e.pkt.dst !== undefined) hop.dst = e.pkt.dst;
		if (e.pkt.spt !== undefined) hop.spt = e.pkt.spt;
		if (e.pkt.dpt !== undefined) hop.dpt = e.pkt.dpt;
		if (e.time) hop.time = e.time;
		o.packet.hops.push(hop);
		etherOf(o.packet, e.pkt);
		if (order !== undefined) o.bridgeAt = Math.max(order, o.bridgeAt ?? order);
		else o.bridgeAt ??= -1;
		o.ports ??= {};
		if (inPort) o.ports.in ??= inPort;
		if (outPort) o.ports.out = outPort;
		if (t !== undefined) o.lastTime = t;
		o.lastSeq = this.seq;
	}

	/**
	 * Records what the hop just added shows changed (Packet.changes): each tracked field compared
	 * with the packet's latest full line, and what changed it — the rule of the hop before (whose
	 * target ran after its line was printed), routing, or conntrack (see hooks.ts ruleEffects).
	 */
	private recordChanges(o: Open, partial: boolean): void {
		const hops = o.packet.hops;
		const seen = hops.length - 1;
		const hop = hops[seen]!;
		const prev = o.lastIp;
		o.lastIp = seen;
		// A cut line may end inside a value; a line without addresses shows nothing to compare.
		if (partial || hop.src === undefined || hop.dst === undefined) return;
		const values: ReadonlyArray<readonly [ChangedField, string | undefined]> = [
			['dst', endpoint(hop.dst, hop.dpt)],
			['src', endpoint(hop.src, hop.spt)],
			['out', hop.out],
			['mark', normalMark(hop.mark)],
			['ttl', hop.ttl === undefined ? undefined : String(hop.ttl)],
		];
		// nft: the mark is not known before the first line that prints it.
		const markUnknown = o.packet.format === 'nft-monitor' && !o.markKnown;
		for (const [field, value] of values) {
			if (value === undefined || (field === 'mark' && markUnknown)) continue;
			const old = o.known[field];
			// No OUT interface is where a packet has not been routed yet, never a change (an nft packet line may just not print it).
			if (field === 'out' && value === '' && old !== undefined) continue;
			const shownAt = o.knownAt[field] ?? prev;
			o.known[field] = value;
			o.knownAt[field] = seen;
			if (old === undefined || old === value || prev < 0) continue;
			const {by, at} = this.cause(o, field, old, value, prev, seen, shownAt);
			o.packet.changes!.push({field, from: old, to: value, by, at, seen});
		}
	}

	/** What changed `field` between hop `prev` and hop `seen`, and at which hop. */
	private cause(o: Open, field: ChangedField, old: string, value: string, prev: number, seen: number, shownAt: number): Pick<FieldChange, 'by' | 'at'> {
		if (field === 'out') return {by: 'routing', at: prev};
		// Kernel lines each show the packet as it is: the rule that changed it is the hop before.
		// xtables-monitor and nft show it once per base chain: any rule of the chain before may have.
		// nft prints the mark only on some lines: any rule since the last line that printed it may have.
		const lo = o.traceId === undefined ? prev : field === 'mark' && o.packet.format === 'nft-monitor' ? shownAt : seen === o.group ? o.prevGroup : o.group;
		let rule: number | undefined;
		for (let i = prev; i >= lo && i >= 0; i--) {
			if (ruleEffects(o.packet.hops[i]!).includes(field as 'dst')) {
				rule = i;
				break;
			}
		}
		if (rule !== undefined) return {by: 'rule', at: rule};
		if (field === 'dst' || field === 'src') return {by: 'conntrack', at: prev};
		if (field === 'ttl' && Number(value) === Number(old) - 1) {
			const from = o.packet.hops[prev]!.hook;
			const to = o.packet.hops[seen]!.hook;
			// Forwarding decrements the TTL before the FORWARD hook.
			if (from === 'PREROUTING' && to !== 'PREROUTING' && to !== 'INPUT') return {by: 'routing', at: prev};
			if (from === undefined || to === undefined) return {by: 'routing', at: prev};
		}
		return {by: 'rule', at: prev};
	}

	/** Can this line be the next step of the open packet? */
	private fits(o: Open, e: {table: string; chain: string; hop: HopKind; num: number; pkt: PacketFields}, builtin: boolean): boolean {
		if (!this.fitsPath(o, e, builtin)) return false;
		const hook = builtin ? (e.chain as Hook) : o.hook;
		return this.fitsFields(o, e.table, hook, e.pkt);
	}

	/** Is the line's table:chain a possible next step on the packet's path? */
	private fitsPath(o: Open, e: {table: string; chain: string; num: number}, builtin: boolean): boolean {
		const hook = builtin ? (e.chain as Hook) : o.hook;
		if (builtin && o.hook) {
			if (!canFollow(o.hook, hook!)) return false;
			if (hook === o.hook && o.table && tablePriority(hook, e.table) < tablePriority(hook, o.table)) return false;
			const state = o.builtin.get(`${hook}:${e.table}`);
			if (state && (state.closed || e.num <= state.num)) return false;
		} else if (!builtin) {
			// A user chain belongs to the table being walked, whose built-in chain is still open.
			if (o.table !== undefined && o.table !== e.table) return false;
			if (o.hook && o.table) {
				const state = o.builtin.get(`${o.hook}:${o.table}`);
				if (state?.closed) return false;
			}
		}
		return true;
	}

	/** Do the addresses, interfaces and TTL fit, given how far the packet has come? */
	private fitsFields(o: Open, table: string, hook: Hook | undefined, p: PacketFields): boolean {
		const c = o.cur;
		if (c.src !== p.src || c.spt !== p.spt) return false;
		const cq = c.quoted;
		const pq = p.quoted;
		// An ICMP error's quoted packet is rewritten with it: its source when conntrack puts back
		// the destination of the error (the masqueraded sender of the quoted packet).
		const quotedMoved = cq !== undefined && pq !== undefined && (cq.src !== pq.src || cq.dst !== pq.dst || cq.spt !== pq.spt || cq.dpt !== pq.dpt);
		if (c.dst !== p.dst || c.dpt !== p.dpt || quotedMoved) {
			if (!o.hook || !hook || !o.table || !crossesDestinationNat({hook: o.hook, table: o.table}, {hook, table})) return false;
		}
		if (c.in && p.in && c.in !== p.in) return false;
		if (c.out && p.out && c.out !== p.out && o.hook !== 'OUTPUT') return false;
		if (c.ttl !== undefined && p.ttl !== undefined && o.hook && hook) {
			// Routed packets lose one TTL before FORWARD; bridged ones (br_netfilter, PHYSIN set) keep it,
			// and a packet that came in on a bridge port may be either.
			const forwarded = (hook === 'FORWARD' || hook === 'POSTROUTING') && o.hook === 'PREROUTING';
			const bridgePort = Boolean(p.physin ?? c.physin);
			const ok = forwarded ? p.ttl === c.ttl - 1 || (bridgePort && p.ttl === c.ttl) : p.ttl === c.ttl;
			if (!ok) return false;
		}
		return true;
	}

	private start(pkt: PacketFields, sig: string, format: Packet['format'], traceId?: string, indexed = true): Open {
		const o: Open = {packet: newPacket(this.nextId++, pkt, format, traceId), sig, builtin: new Map(), cur: pkt, lastSeq: this.seq, known: {}, knownAt: {}, lastIp: -1, group: 0, prevGroup: 0};
		if (traceId) o.traceId = traceId;
		else if (indexed) this.index(o, pkt);
		this.open.set(o.packet.id, o);
		return o;
	}

	/** Makes an open kernel packet findable by its signature (and, for TCP, by the signature -j LOG lines show). */
	private index(o: Open, pkt: PacketFields): void {
		push(this.bySig, o.sig, o);
		if (pkt.proto === 'TCP') push(this.byLoose, (o.loose = looseSignature(pkt)), o);
	}

	/** Moves the open packet's position to this line's chain. */
	private advance(o: Open, table: string, chain: string, kind: HopKind, num: number | null, builtin: boolean, pkt: PacketFields | undefined): void {
		if (builtin) {
			const hook = chain as Hook;
			if (o.hook === 'PREROUTING' && pkt?.ttl !== undefined) o.preTtl ??= pkt.ttl;
			o.hook = hook;
			const key = `${hook}:${table}`;
			const state = o.builtin.get(key) ?? {num: 0, closed: false};
			if (num !== null) state.num = num;
			if (kind === 'policy') state.closed = true;
			o.builtin.set(key, state);
		} else if (!o.hook && pkt && BUILTIN_CHAINS[table]) {
			// A user chain of one of iptables' tables runs in a hook its table has: which one, IN
			// and OUT tell. A native nft table's chains are at the hooks their base chains declare
			// (the join reads them from the listing); a name or IN/OUT would only be a guess.
			const guess = guessHook(table, pkt.in ?? '', pkt.out ?? '');
			if (guess) o.hook = guess;
		}
		o.table = table;
	}

	// ---- xtables-monitor and nft monitor trace ---------------------------------------------------

	/**
	 * The trace id hashes the skb's address, its flow hash and input interface, so it can change
	 * on the way (the flow hash is often computed after PREROUTING). A packet line under a new id
	 * that shows the same packet as a recent open one continues it.
	 */
	private adopt(format: Packet['format'], traceId: string, pkt: PacketFields, base?: string): Open | undefined {
		let best: Open | undefined;
		for (const o of this.open.values()) {
			if (o.packet.format !== format || o.traceId === undefined || this.seq - o.lastSeq > 64) continue;
			const c = o.cur;
			if (c.ipId === undefined || c.ipId !== pkt.ipId || c.len !== pkt.len || c.src !== pkt.src) continue;
			// A bridged frame's IP header is the same seen from the bridge family or the IP one.
			if (c.family !== pkt.family && o.packet.family !== 'bridge') continue;
			// A bridged frame comes in by a bridge port (bridge hooks) and by the bridge device (IP hooks, br_netfilter).
			if (c.in && pkt.in && c.in !== pkt.in && o.packet.family !== 'bridge') continue;
			if (base && o.entered?.has(base)) continue;
			if (!best || o.lastSeq > best.lastSeq) best = o;
		}
		if (best) {
			this.byTraceId.set(traceId, best);
			(best.packet.traceIds ??= [best.traceId!]).push(traceId);
		}
		return best;
	}

	private xtPacket(traceId: string, pkt: PacketFields): void {
		const o = this.byTraceId.get(traceId) ?? this.adopt('xtables-monitor', traceId, pkt);
		if (o && o.packet.hops.length > 0 && (o.cur.ipId !== pkt.ipId || o.cur.len !== pkt.len || o.cur.src !== pkt.src)) {
			// Same id, another packet: the id was reused.
			this.retire(o);
		}
		const cur = this.byTraceId.get(traceId);
		if (cur) cur.pending = pkt;
		else {
			const n = this.start(pkt, '', 'xtables-monitor', traceId);
			n.pending = pkt;
			this.byTraceId.set(traceId, n);
		}
	}

	private nftPacket(traceId: string, family: PacketFields['family'], table: string, chain: string, pkt: PacketFields): void {
		// A base chain is named by its family too: `bridge filter FORWARD` and `ip filter FORWARD` are two.
		const base = `${family} ${table} ${chain}`;
		let o = this.byTraceId.get(traceId) ?? this.adopt('nft-monitor', traceId, pkt, base);
		if (o && (o.entered?.has(base) || o.cur.ipId !== pkt.ipId || o.cur.len !== pkt.len)) {
			this.retire(o);
			o = undefined;
		}
		if (!o) {
			o = this.start(pkt, '', 'nft-monitor', traceId);
			this.byTraceId.set(traceId, o);
			// A frame first seen by a bridge hook is a packet of the bridge family (the IP header inside says its addresses).
			if (family === 'bridge') o.packet.family = 'bridge';
		}
		if (family === 'bridge') etherOf(o.packet, pkt);
		(o.entered ??= new Set()).add(base);
		o.pending = pkt;
	}

	private traceIdHop(
		format: Packet['format'],
		traceId: string,
		table: string,
		chain: string,
		kind: HopKind,
		ref: LineRef,
		info: {bridge?: boolean; handle?: number; verdict?: string; target?: string; ruleText?: string; note?: string; mark?: string},
	): void {
		let o = this.byTraceId.get(traceId);
		// A bridge-family chain (ebtables-nft's, or a `table bridge`): its hook is its own, not one of the IP hooks.
		const bridge = info.bridge === true;
		const builtin = !bridge && isHook(chain) && isBuiltinChain(table, chain);
		if (o && format === 'xtables-monitor' && builtin && o.hook) {
			// Entering a base chain the packet already left: a new packet with a reused id.
			const state = o.builtin.get(`${chain}:${table}`);
			const backwards = !canFollow(o.hook, chain as Hook) || (chain === o.hook && o.table && tablePriority(o.hook, table) < tablePriority(o.hook, o.table));
			if (state?.closed || backwards) {
				const pkt = o.pending ?? o.cur;
				delete o.pending;
				this.retire(o);
				o = this.start(pkt, '', format, traceId);
				this.byTraceId.set(traceId, o);
			}
		}
		if (!o) {
			o = this.start({family: 'unknown'}, '', format, traceId);
			this.byTraceId.set(traceId, o);
		}
		let pkt = o.pending ?? o.cur;
		if (o.pending) {
			// nft prints the mark on verdict and policy lines, never on packet lines: it carries over.
			if (format === 'nft-monitor' && pkt.mark === undefined && o.cur.mark !== undefined) pkt = {...pkt, mark: o.cur.mark};
			o.cur = pkt;
			delete o.pending;
			// The hops from here on show this packet line's fields (one base chain's worth).
			o.prevGroup = o.group;
			o.group = o.packet.hops.length;
		}
		if (format === 'nft-monitor' && (kind === 'policy' || kind === 'return')) {
			// nft prints the mark on `verdict continue` and `policy` lines only, and only when it is
			// not zero: these lines are where the mark is known. The first one of a packet shows the
			// mark it came with, unless a rule of this chain set it (then it shows that rule's work).
			const mark = normalMark(info.mark) === '' ? undefined : info.mark;
			if (!o.markKnown) {
				o.markKnown = true;
				const setHere = o.packet.hops.slice(o.group).some(h => ruleEffects(h).includes('mark'));
				if (setHere) {
					// Set by a rule of this chain: what it was before is not printed (taken as none).
					o.known.mark = '';
					o.knownAt.mark = o.group;
				} else {
					for (const h of o.packet.hops) if (mark !== undefined) h.mark = mark;
					o.known.mark = normalMark(mark);
				}
			}
			if (normalMark(mark) !== normalMark(pkt.mark)) {
				pkt = {...pkt};
				if (mark === undefined) delete pkt.mark;
				else pkt.mark = mark;
				o.cur = pkt;
			}
		}
		if (o.packet.hops.length === 0 && o.packet.src === '' && pkt.src) {
			// The trace line came before its packet line (xtables-monitor ≤ 1.8.6).
			Object.assign(o.packet, newPacket(o.packet.id, pkt, format, traceId));
		}
		if (bridge && pkt.family === 'bridge') etherOf(o.packet, pkt);
		else if (!bridge && o.packet.family === 'bridge') fillIn(o.packet, pkt);
		if (!bridge) this.advance(o, table, chain, kind, null, builtin, pkt);
		const verdict = info.verdict;
		if (builtin && verdict && ['ACCEPT', 'DROP', 'QUEUE', 'STOLEN', 'REJECT'].includes(verdict)) {
			const state = o.builtin.get(`${chain}:${table}`);
			if (state) state.closed = true;
		}
		// Bridge-family tables are named `eb:TABLE`, as ebtables' log lines name theirs.
		// A bridge chain's hook is its own: ebtables' chains are named after the bridge hooks (BROUTING aside); a native bridge chain's is in the listing only.
		const hop = hopFrom({table: bridge ? `eb:${table}` : table, chain}, kind, null, ref, pkt, bridge ? (isHook(chain) ? chain : undefined) : o.hook);
		if (bridge) hop.bridge = true;
		if (info.handle !== undefined) hop.handle = info.handle;
		if (verdict) hop.traceVerdict = verdict;
		if (info.target) hop.target = info.target;
		if (info.ruleText) {
			hop.rule = info.ruleText;
			hop.ruleFrom = 'trace';
		}
		if (info.note) hop.note = info.note;
		o.packet.hops.push(hop);
		// A bridge hook's packet line shows the frame, not always its ports (xtables-monitor prints
		// the IP header alone): the changes along the path are those the IP hooks' lines show.
		if (!bridge) this.recordChanges(o, false);
		o.lastSeq = this.seq;
	}

	// ---- completion ------------------------------------------------------------------------------

	private close(o: Open): void {
		this.open.delete(o.packet.id);
		if (o.traceId) {
			for (const id of o.packet.traceIds ?? [o.traceId]) if (this.byTraceId.get(id) === o) this.byTraceId.delete(id);
			return;
		}
		remove(this.bySig, o.sig, o);
		if (o.loose !== undefined) remove(this.byLoose, o.loose, o);
	}

	/** Completes packets that can get no more lines: idle for `idleLines` lines, or older than the window. Runs every 64 lines or when log time moves past the window. */
	private sweep(now: number | undefined): Packet[] {
		const timeMoved = now !== undefined && (this.lastSweepTime === undefined || now - this.lastSweepTime > this.window);
		if (!timeMoved && this.seq - this.lastSweep < 64) return [];
		this.lastSweep = this.seq;
		if (now !== undefined) this.lastSweepTime = now;
		const done: Packet[] = [];
		for (const o of this.open.values()) {
			const idle = this.seq - o.lastSeq > this.idleLines;
			const late = now !== undefined && o.lastTime !== undefined && now - o.lastTime > this.window;
			if (idle || late) {
				done.push(o.packet);
				this.close(o);
			}
		}
		return done;
	}

	/** Completes every packet whose last line is at least `lines` lines old (0: all; used when live input goes quiet). */
	flushOlderThan(lines: number): Packet[] {
		const done: Packet[] = [];
		for (const o of this.open.values()) {
			if (this.seq - o.lastSeq >= lines) {
				done.push(o.packet);
				this.close(o);
			}
		}
		return done;
	}
}

/** A MAC address with two digits a byte: xtables-monitor prints them without zero padding (`2:7a:13:ff:bf:2b`). */
function paddedMac(mac: string): string {
	return /^[\da-f]{1,2}(?::[\da-f]{1,2}){5}$/i.test(mac) ? mac.split(':').map(b => b.padStart(2, '0')).join(':') : mac;
}

/** What an IP hook's line shows of a frame that a bridge hook's line (which shows less: no length, id, flags or ICMP header) started. */
function fillIn(p: Packet, pkt: PacketFields): void {
	if (p.len === undefined && pkt.len !== undefined) p.len = pkt.len;
	if (p.ipId === undefined && pkt.ipId !== undefined) p.ipId = pkt.ipId;
	if (p.spt === undefined && pkt.spt !== undefined) p.spt = pkt.spt;
	if (p.dpt === undefined && pkt.dpt !== undefined) p.dpt = pkt.dpt;
	if (!p.tcpFlags && pkt.tcpFlags) p.tcpFlags = pkt.tcpFlags;
	if (!p.icmp && pkt.icmp) p.icmp = pkt.icmp;
	if (p.proto === 'unknown' && pkt.proto) p.proto = pkt.proto;
}

/** A bridged frame's Ethernet header and ARP header (Packet.ether, Packet.arp), from the first line that shows them. */
function etherOf(p: Packet, pkt: PacketFields): void {
	if (!p.ether && pkt.macsrc !== undefined && pkt.macdst !== undefined && pkt.ethertype !== undefined) p.ether = {src: paddedMac(pkt.macsrc), dst: paddedMac(pkt.macdst), type: pkt.ethertype};
	if (!p.arp && pkt.arp) p.arp = pkt.arp;
}

function push(map: Map<string, Open[]>, key: string, o: Open): void {
	const list = map.get(key);
	if (list) list.push(o);
	else map.set(key, [o]);
}

function remove(map: Map<string, Open[]>, key: string, o: Open): void {
	const list = map.get(key);
	if (!list) return;
	const i = list.indexOf(o);
	if (i !== -1) list.splice(i, 1);
	if (list.length === 0) map.delete(key);
}

/**
 * Could two views of a packet be the same frame, as far as an ebtables line shows it (addresses,
 * protocol, ports, TOS; no length, id or TTL)? A frame with no network header in the line (ebtables
 * logs IPv6 without --log-ip6 as the Ethernet header alone) is told by its MACs and ethertype.
 */
function sameFrame(a: PacketFields, b: PacketFields): boolean {
	if (a.macsrc !== undefined && b.macsrc !== undefined && a.family === 'bridge' && b.family === 'bridge' && (a.macsrc !== b.macsrc || a.macdst !== b.macdst || a.ethertype !== b.ethertype)) return false;
	if (a.src === undefined && b.src === undefined) return a.family === 'bridge' && b.family === 'bridge' && a.macsrc !== undefined && a.macsrc === b.macsrc;
	if (a.src === undefined || b.src === undefined || a.src !== b.src || a.dst !== b.dst) return false;
	if (a.arp?.op !== b.arp?.op) return false;
	if (a.proto !== undefined && b.proto !== undefined && a.proto !== b.proto) return false;
	if (a.spt !== undefined && b.spt !== undefined && (a.spt !== b.spt || a.dpt !== b.dpt)) return false;
	if (a.tos !== undefined && b.tos !== undefined && a.tos !== b.tos) return false;
	return true;
}
