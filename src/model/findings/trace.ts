/**
 * Findings from rebuilt packets: what a person reading the trace should notice.
 *
 * Input:  settled packets (rules joined where a dump was given), one at a time, in id order
 * Output: e.g. {kind:'no-reply', severity:'warning',
 *               message:'3 TCP SYN(s) 198.19.88.69:40312 → 198.19.96.1:443 (DNAT to 198.18.1.50:6443) left by wlp59s0 with the private source 198.19.88.69 not SNATed, and no reply was seen',
 *               hint:'…MASQUERADE…', packets:[1,3,5], rules:[…]}
 * Kinds and their meaning: docs/findings.md.
 *
 * The findings of a trace of any length are kept as counts per flow, per rule, per ICMP
 * message, each with a bounded list of example packets (TraceFindings): memory grows with the
 * number of distinct flows and rules still of interest, never with the number of packets.
 */
import type {Chain} from '../../parser/ruleset.js';
import type {RuleIndex} from '../join.js';
import {inCidr, isPrivate, parseAddr} from '../../netfilter/addr.js';
import {mayMatch, ruleCidrs, sourceNatFor} from '../rule-query.js';
import {endpoint} from '../../netfilter/addr.js';
import {icmpName, isDeliveryError, isFragNeeded, isIcmpError, isTimeExceeded} from '../../netfilter/icmp.js';
import {isOverlayDevice, overlayOf} from '../../netfilter/overlay.js';
import {nodePart} from '../bounds.js';
import {mapKey} from '../keys.js';
import {opens} from '../pairing.js';
import type {Hop, NatRewrite, Packet} from '../types.js';
import type {Finding, RuleRef} from './types.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('y') ? '' : 's'}`.replace(/y$/, n === 1 ? 'y' : 'ies');

function ep(addr: string | undefined, port: number | undefined): string {
	return addr ? endpoint(addr, port) : '?';
}

function where(h: Pick<Hop, 'table' | 'chain' | 'kind' | 'num' | 'bridge'>): string {
	// An ebtables log line names its chain only, and no rule.
	if (h.bridge && h.kind === 'log') return h.table ? `${h.table}:${h.chain} (an ebtables log line)` : 'an ebtables log line';
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}`;
}

/** `TCP SYN`, `ICMP echo-request`, `UDP`. */
function kindOf(p: Packet): string {
	if (p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK')) return 'TCP SYN';
	return p.icmp ? `${p.proto} ${icmpWord(p)}` : p.proto;
}

function describe(p: Pick<Brief, 'kind' | 'src' | 'spt' | 'dst' | 'dpt'>): string {
	return `${p.kind} ${ep(p.src, p.spt)} → ${ep(p.dst, p.dpt)}`;
}

function icmpWord(p: Packet): string {
	const t = p.icmp?.type;
	return (t === undefined ? undefined : icmpName(p.proto, t, p.icmp?.code)) ?? `type ${t}`;
}

/** What tells two requests apart, in words: `destination 198.18.9.9:443, not 198.18.7.7:443`. */
function differences(a: Brief, b: Brief): string {
	const out: string[] = [];
	if (a.proto !== b.proto) out.push(`protocol ${a.proto}, not ${b.proto}`);
	if (a.dst !== b.dst || a.dpt !== b.dpt) out.push(`destination ${ep(a.dst, a.dpt)}, not ${ep(b.dst, b.dpt)}`);
	if (a.src !== b.src) out.push(`source ${a.src}, not ${b.src}`);
	else if (a.spt !== b.spt) out.push(`source port ${a.spt ?? '?'}, not ${b.spt ?? '?'}`);
	return out.length > 0 ? out.join('; ') : 'nothing this trace shows but the time';
}

/** A packet that asks for an answer: a TCP SYN, an ICMP echo or other query, or UDP that answers nothing. */
export function isRequest(p: Packet): boolean {
	// The outer packet of an overlay (VXLAN, Geneve, WireGuard, IP-in-IP, …) is nobody's request:
	// the packets inside it are, and they are traced on their own.
	if (overlayOf(p)) return false;
	return opens(p) || (p.proto === 'UDP' && p.replyTo === null);
}

/**
 * The packet was routed through this host (a FORWARD hop), not sent by it. A packet the host sent
 * may still show an IN interface: the outer packet of a VXLAN device shows the overlay device as
 * IN in POSTROUTING.
 */
function forwardedThrough(p: Packet): boolean {
	const first = p.hops[0];
	return p.hops.some(h => (h.hook ?? h.chain) === 'FORWARD') || (first !== undefined && (first.hook ?? first.chain) === 'PREROUTING');
}

function lastHook(p: Packet): string | undefined {
	const last = p.hops[p.hops.length - 1];
	return last?.hook ?? (last?.chain === 'POSTROUTING' || last?.chain === 'FORWARD' || last?.chain === 'OUTPUT' ? last.chain : undefined);
}

/** The packet was sent on its way out of an interface (forwarded or locally generated), not delivered here. */
function leftBy(p: Packet): string | undefined {
	if (!p.out || p.verdict === 'DROP' || p.verdict === 'REJECT') return undefined;
	const hook = lastHook(p);
	if (hook === 'INPUT' || hook === 'PREROUTING') return undefined;
	return p.out;
}

/**
 * Without the ruleset a trace that stops in FORWARD or OUTPUT does not say whether the packet
 * left: the last rule may have dropped it. Only POSTROUTING, or a known ACCEPT, says it did.
 */
function surelyLeft(p: Packet): boolean {
	return lastHook(p) === 'POSTROUTING' || p.verdict !== 'unknown';
}

/** A flow direction (joined, not a template: one flat string, see mapKey). */
function flowKey(p: Packet): string {
	return mapKey(p.proto, p.src, p.spt ?? p.icmp?.id, p.dst, p.dpt);
}

/** The rule of a hop as findings name it: dump, table, chain, position, text and line. */
export function ruleRef(index: RuleIndex, family: string, hop: Hop): RuleRef | undefined {
	if (!hop.rule) return undefined;
	const chain = index.chain(family, hop.table, hop.chain);
	const file = index.rulesets.find(rs => rs.tables.get(hop.table)?.chains.get(hop.chain) === chain)?.path;
	return {
		...(file ? {file} : {}),
		table: hop.table,
		chain: hop.chain,
		pos: hop.kind === 'rule' || hop.rule.startsWith('-A') ? hop.num : null,
		text: hop.rule,
		...(hop.ruleLine !== undefined ? {line: hop.ruleLine} : {}),
	};
}

function timeOf(p: Packet): number | undefined {
	const t = p.hops[0]?.time;
	return t?.mono ?? (t?.wall === undefined ? undefined : t.wall / 1000);
}

/** Would the TRACE rules in the dump's raw PREROUTING have traced a reply from `src` to `dst`? */
function repliesTraced(index: RuleIndex, family: string, replySrc: string, replyDst: string, replyIn: string): {traced: boolean | undefined; rule?: string} {
	const chain: Chain | undefined = index.chain(family, 'raw', 'PREROUTING');
	if (!chain) return {traced: undefined};
	const traceRules = chain.rules.filter(r => r.target === 'TRACE');
	if (traceRules.length === 0) return {traced: undefined};
	// replyDst '' (the request was SNATed: the reply's destination is an address of this host, not known here) matches no -d.
	if (traceRules.some(r => mayMatch(r, {src: replySrc, dst: replyDst, in: replyIn}))) return {traced: true};
	return {traced: false, rule: traceRules.map(r => r.text).join('; ')};
}

/** Packets listed per finding, at most; the messages count them all. */
const MAX_IDS = 10_000;
/** Quoted packets remembered: well beyond the flows kept (10,000) and their requests. */
const QUOTED_KEPT = 65_536;
/** Requests of a flow kept with their details (the first one not answered by an ICMP error speaks for the flow). */
const MAX_REQUESTS = 4;

/** What a finding needs to say about a packet, without keeping the packet. */
interface Brief {
	readonly id: number;
	readonly family: string;
	readonly proto: string;
	readonly src: string;
	readonly dst: string;
	readonly spt?: number;
	readonly dpt?: number;
	readonly in: string;
	readonly out: string;
	readonly kind: string;
	readonly flow: string;
}

function brief(p: Packet): Brief {
	return {id: p.id, family: p.family, proto: p.proto, src: p.src, dst: p.dst, ...(p.spt !== undefined ? {spt: p.spt} : {}), ...(p.dpt !== undefined ? {dpt: p.dpt} : {}), in: p.in, out: p.out, kind: kindOf(p), flow: flowKey(p)};
}

/**
 * The way a packet went through this host: its interfaces and every hop, rule by rule. Two
 * requests with the same path met the same rules and the same NAT (or lack of it).
 */
function pathKey(p: Packet): string {
	return mapKey(p.family, p.in, p.out, p.hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num ?? ''}`).join(' '));
}

/** A request of a flow that left and saw no reply, with what the no-reply message says about it. */
interface Request extends Brief {
	/** The way it went: interfaces and every hop (pathKey). */
	readonly path: string;
	readonly leftBy: string;
	readonly surelyLeft: boolean;
	readonly lastHop: Hop;
	readonly lastHook: string | undefined;
	readonly time: number | undefined;
	readonly forwarded: boolean;
}

interface Flow {
	/** Every packet of this flow direction, counted. */
	packets: number;
	answered: boolean;
	/** Ids of requests that left and saw no reply (in id order), and the first few in full. */
	requestIds: number[];
	requests: Request[];
	dnat?: NatRewrite;
	snat?: NatRewrite;
	/** The last nat POSTROUTING hop of the flow's packets. */
	natEnd?: Hop;
}

/** A packet an ICMP error or a reply may name later: a bounded map of recent packets. */
class Recent {
	private readonly map = new Map<number, Brief>();
	constructor(private readonly limit: () => number) {}
	set(b: Brief): void {
		this.map.set(b.id, b);
		while (this.map.size > this.limit()) this.map.delete(this.map.keys().next().value!);
	}
	get(id: number): Brief | undefined {
		return this.map.get(id);
	}
}

/** A flow that got an answer reports nothing: only the fact is kept. */
function answer(flow: Flow): void {
	flow.answered = true;
	flow.requestIds = [];
	flow.requests = [];
	delete flow.dnat;
	delete flow.snat;
	delete flow.natEnd;
}

function pushId(ids: number[], id: number): void {
	if (ids.length < MAX_IDS) ids.push(id);
}

export interface TraceFindingsOptions {
	/** Flows followed at once; the least recently seen beyond this are concluded early. Default 10,000. */
	readonly maxFlows?: number;
	/** This node's part of every bound, when several nodes' pipelines run in one process (src/model/fleet.ts). Default: all of it. */
	readonly share?: () => number;
}

/**
 * The findings of a trace, kept up to date packet by packet.
 *
 * Input:  add(p) for each settled packet in id order; replyAfterSettling(id) when a reply came
 *         for a packet after it was settled (its flow was answered after all)
 * Output: findings() at any time: the same findings as looking at every packet at once
 */
export class TraceFindings {
	private readonly flows = new Map<string, Flow>();
	/** No-reply findings of flows concluded early (more flows than maxFlows at once). */
	private readonly concluded: Finding[] = [];
	/** At least 256 a node, as the pairing keeps (src/model/pairing.ts): a reply names the packet it answers from there. */
	private readonly recent = new Recent(() => this.cap(8192, 256));
	/** Ids of packets an ICMP error quoted (the most recent QUOTED_KEPT): such a request had its answer. */
	private readonly quoted = new Set<number>();
	private readonly flowOf = new Map<number, string>();
	/** Requests that were answered, by their path: one per path, the first. */
	private readonly answeredPaths = new Map<string, Brief>();
	/** Recent requests' paths, for a reply that comes after they settled. */
	private readonly pathOf = new Map<number, {path: string; brief: Brief}>();
	private readonly paths = new Map<string, string>();
	private readonly asym = new Map<string, {req: Brief; replies: number[]; count: number; detail: string}>();
	private readonly icmp = new Map<string, {finding: Finding; count: number}>();
	private readonly drops = new Map<string, {first: Packet; ids: number[]; count: number; hop: Hop}>();
	private mismatch: {hops: number; ids: number[]; packets: number; first: {p: Brief; hop: Hop}} | undefined;
	private lastTime = Number.NEGATIVE_INFINITY;
	private readonly baseFlows: number;
	private readonly share: () => number;

	constructor(
		private readonly index: RuleIndex,
		options: TraceFindingsOptions = {},
	) {
		this.baseFlows = options.maxFlows ?? 10_000;
		this.share = options.share ?? (() => 1);
	}

	/** A bound, this node's part of it (never below `least`). */
	private cap(n: number, least?: number): number {
		return nodePart(n, this.share(), least);
	}

	private get maxFlows(): number {
		return this.cap(this.baseFlows);
	}

	add(p: Packet): void {
		const t = timeOf(p);
		if (t !== undefined && t > this.lastTime) this.lastTime = t;
		const b = brief(p);
		this.recent.set(b);
		if (p.quotes) {
			this.quoted.add(p.quotes);
			// Bounded like everything kept: an id this old belongs to no flow still kept.
			if (this.quoted.size > this.cap(QUOTED_KEPT)) this.quoted.delete(this.quoted.values().next().value!);
		}
		this.addToFlow(p, b);
		if (p.replyTo !== null) this.addReply(p, b);
		this.addIcmp(p);
		this.addDrop(p);
		this.addMismatch(p, b);
	}

	/** A reply came for packet `id` after it was settled: its flow did get an answer. */
	replyAfterSettling(id: number): void {
		const key = this.flowOf.get(id);
		const flow = key === undefined ? undefined : this.flows.get(key);
		if (flow) answer(flow);
		const seen = this.pathOf.get(id);
		if (seen) this.noteAnswered(seen.path, seen.brief);
	}

	/** One copy of each recent path (a flow's requests mostly go the same way; a path is a few hundred bytes). */
	private samePath(path: string): string {
		const had = this.paths.get(path);
		if (had !== undefined) return had;
		this.paths.set(path, path);
		if (this.paths.size > this.cap(1024, 16)) this.paths.delete(this.paths.keys().next().value!);
		return path;
	}

	private noteAnswered(path: string, b: Brief): void {
		if (this.answeredPaths.has(path)) return;
		this.answeredPaths.set(path, b);
		if (this.answeredPaths.size > this.cap(4096)) this.answeredPaths.delete(this.answeredPaths.keys().next().value!);
	}

	private addToFlow(p: Packet, b: Brief): void {
		const key = b.flow;
		let flow = this.flows.get(key);
		if (flow) {
			// Most recently seen last: the flows concluded early are those idle longest.
			this.flows.delete(key);
			this.flows.set(key, flow);
		} else {
			flow = {packets: 0, answered: false, requestIds: [], requests: []};
			this.flows.set(key, flow);
			while (this.flows.size > this.maxFlows) this.conclude();
		}
		flow.packets++;
		this.flowOf.set(p.id, key);
		while (this.flowOf.size > this.cap(8192)) this.flowOf.delete(this.flowOf.keys().next().value!);
		const request = isRequest(p);
		const path = request ? this.samePath(pathKey(p)) : '';
		if (request) {
			if (p.replySeen) this.noteAnswered(path, b);
			else {
				this.pathOf.set(p.id, {path, brief: b});
				while (this.pathOf.size > this.cap(8192)) this.pathOf.delete(this.pathOf.keys().next().value!);
			}
		}
		if (p.replySeen) answer(flow);
		if (flow.answered) return;
		for (const n of p.nat) {
			if (!flow.dnat && (n.type === 'DNAT' || n.type === 'REDIRECT' || n.type === 'NETMAP')) flow.dnat = n;
			if (!flow.snat && (n.type === 'SNAT' || n.type === 'MASQUERADE')) flow.snat = n;
		}
		for (const h of p.hops) if (h.table === 'nat' && (h.chain === 'POSTROUTING' || h.hook === 'POSTROUTING')) flow.natEnd = h;
		const out = leftBy(p);
		// A packet whose reply the log may have lost (Packet.replyUnknown) blames nothing.
		if (request && out && !p.replySeen && !p.replyUnknown) {
			pushId(flow.requestIds, p.id);
			if (flow.requests.length < MAX_REQUESTS) flow.requests.push({...b, path, leftBy: out, surelyLeft: surelyLeft(p), lastHop: p.hops.at(-1)!, lastHook: lastHook(p), time: timeOf(p), forwarded: forwardedThrough(p)});
		}
	}

	/** The flow followed longest without news is concluded: its finding, if any, is kept as it is now. */
	private conclude(): void {
		const key = this.flows.keys().next().value!;
		const flow = this.flows.get(key)!;
		this.flows.delete(key);
		if (this.concluded.length < this.cap(1000, 16)) this.concluded.push(...this.noReply(flow));
	}

	private addReply(r: Packet, rb: Brief): void {
		const q = this.recent.get(r.replyTo!);
		if (!q) return;
		let detail: string | undefined;
		if (q.in && r.out && q.in !== r.out) detail = `the request came in on ${q.in} and the reply left by ${r.out}`;
		else if (q.out && r.in && q.out !== r.in && q.in) detail = `the request left by ${q.out} and the reply came back in on ${r.in}`;
		if (!detail) return;
		const k = `${q.flow}|${detail}`;
		const entry = this.asym.get(k);
		if (entry) {
			entry.count++;
			pushId(entry.replies, rb.id);
		} else if (this.asym.size < this.cap(10_000)) this.asym.set(k, {req: q, replies: [rb.id], count: 1, detail});
	}

	private addIcmp(p: Packet): void {
		if (!p.icmp || !isIcmpError(p.proto, p.icmp.type)) return;
		if (!isDeliveryError(p.proto, p.icmp.type)) return;
		const fragNeeded = isFragNeeded(p.proto, p.icmp.type, p.icmp.code);
		const q = p.quoted;
		const original = p.quotes ? this.recent.get(p.quotes) : undefined;
		const src = q?.src ?? original?.src;
		const dst = q?.dst ?? original?.dst;
		const size = q?.len ? ` (${q.len} bytes${q.ipFlags?.includes('DF') ? ', DF' : ''})` : '';
		const quoted = q || original ? `${q?.proto ?? original?.proto ?? '?'} ${ep(src, q?.spt ?? original?.spt)} → ${ep(dst, q?.dpt ?? original?.dpt)}${size}` : 'a packet';
		const ids = [p.id, ...(p.quotes ? [p.quotes] : [])];
		const dropped = p.verdict === 'DROP' || p.verdict === 'REJECT';
		// One finding per sender, message and quoted flow; repeats add their packets.
		const key = `${p.src}|${p.proto}|${p.icmp.type}|${p.icmp.code}|${p.icmp.mtu}|${q ? `${q.proto}|${q.src}|${q.spt}|${q.dst}|${q.dpt}` : ''}|${dropped}`;
		const seen = this.icmp.get(key);
		if (seen) {
			seen.count++;
			for (const id of ids) pushId(seen.finding.packets, id);
			return;
		}
		if (this.icmp.size >= 10_000) return;
		let finding: Finding;
		if (fragNeeded) {
			const mtu = p.icmp.mtu;
			finding = {
				kind: 'frag-needed',
				severity: dropped ? 'error' : 'warning',
				message: `${p.src} says ${quoted} is too big for the next hop${mtu ? `: MTU ${mtu}` : ''}${p.quotes ? ` (packet #${p.quotes})` : ''}${dropped ? `; this ICMP message was ${p.verdict === 'DROP' ? 'dropped' : 'rejected'} here (${p.verdictBasis}), so path MTU discovery cannot work` : ''}`,
				hint: `Lower the MTU on the way${mtu ? ` to ${mtu} or less` : ''} (tunnels: VXLAN needs 50 bytes, WireGuard 60–80), or clamp TCP MSS: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu. Never drop ICMP ${p.proto === 'ICMP' ? 'type 3 code 4' : 'type 2 (packet too big)'}.`,
				packets: ids,
				rules: [],
			};
		} else {
			finding = {
				kind: 'icmp-error',
				severity: 'info',
				message: `${p.src} sent ${p.proto} ${icmpWord(p)}${p.icmp.code !== undefined ? ` (code ${p.icmp.code})` : ''} about ${quoted}${p.quotes ? ` (packet #${p.quotes})` : ''}`,
				hint: isTimeExceeded(p.proto, p.icmp.type) ? 'TTL ran out on the way: look for a routing loop.' : 'The destination or a router on the way refused the packet: a REJECT rule, a closed port, or no route.',
				packets: ids,
				rules: [],
			};
		}
		this.icmp.set(key, {finding, count: 1});
	}

	private addDrop(p: Packet): void {
		// Refused by routing: the ICMP error that says why is its own finding.
		if ((p.verdict !== 'DROP' && p.verdict !== 'REJECT') || p.refusedBy !== undefined) return;
		const hop = p.hops[p.hops.length - 1]!;
		const k = `${where(hop)}|${flowKey(p)}`;
		const entry = this.drops.get(k);
		if (entry) {
			entry.count++;
			pushId(entry.ids, p.id);
		} else if (this.drops.size < this.cap(10_000)) this.drops.set(k, {first: p, ids: [p.id], count: 1, hop});
	}

	private addMismatch(p: Packet, b: Brief): void {
		let hops = 0;
		let first: Hop | undefined;
		for (const h of p.hops) {
			if (!h.note?.includes('ruleset changed')) continue;
			hops++;
			first ??= h;
		}
		if (!first) return;
		if (!this.mismatch) this.mismatch = {hops: 0, ids: [], packets: 0, first: {p: b, hop: first}};
		this.mismatch.hops += hops;
		this.mismatch.packets++;
		pushId(this.mismatch.ids, p.id);
	}

	/** The no-reply (and nat-no-reply-path) findings of one flow, as things stand. */
	private noReply(flow: Flow): Finding[] {
		const index = this.index;
		if (flow.answered) return [];
		const requests = flow.requests.filter(r => !this.quoted.has(r.id));
		if (requests.length === 0) return [];
		const ids = flow.requestIds.filter(id => !this.quoted.has(id));
		const first = requests[0]!;
		const out = first.leftBy;
		const {dnat, snat} = flow;
		const forwarded = first.forwarded;
		const finalDst = first.lastHop.dst ?? first.dst;
		const finalDpt = first.lastHop.dpt ?? first.dpt;
		const rules: RuleRef[] = [];
		let message = `${plural(ids.length, first.kind)} ${ep(first.src, first.spt)} → ${ep(first.dst, first.dpt)}`;
		if (dnat) message += ` (DNAT to ${dnat.to})`;
		const left = requests.some(r => r.surelyLeft);
		const lastHop = first.lastHop;
		message += left ? ` left by ${out}` : ` ${lastHop.bridge ? 'bridged' : 'routed'} to ${out} ${ids.length > 1 ? 'were' : 'was'} last seen at ${where(lastHop)}`;
		let hint: string;
		let severity: Finding['severity'] = 'warning';

		if (!left && lastHop.bridge && lastHop.kind === 'log') {
			message += ', and no reply was seen';
			hint =
				`The bridge logged ${ids.length > 1 ? 'them' : 'it'} at ${where(lastHop)} and at no later bridge hook: a rule after the log rule in that chain probably dropped ${ids.length > 1 ? 'them' : 'it'}. ` +
				`ebtables' log lines name no rule: list the chain with its counters (ebtables -t ${lastHop.table.replace(/^eb:/, '') || 'filter'} -L ${lastHop.chain || 'FORWARD'} --Lc), or trace the bridge with nft monitor trace (meta nftrace set 1 in a table bridge), which prints the rule and its verdict.`;
		} else if (!left) {
			message += ', and no reply was seen';
			hint =
				`The trace stops in ${first.lastHook}, before POSTROUTING: the rule at ${where(lastHop)} probably dropped ${ids.length > 1 ? 'them' : 'it'} ` +
				`(or this host has no mangle/nat table to trace in POSTROUTING). Give the ruleset saved with the trace (--rules node.save) to know what that rule does.`;
		} else if (isOverlayDevice(out)) {
			// Into an overlay the pod source is kept on purpose: the node at the other end delivers it.
			message += ` (an overlay to another node), and no reply came back through it`;
			hint =
				`${out} carries it to another node inside an outer packet, with its pod addresses kept (no SNAT is expected there). ` +
				`Follow it on the node that owns ${finalDst}: replay both nodes' traces together (tracewatch replay --node a=a.log,a.save --node b=b.log,b.save) to see where it stopped, ` +
				`and check that the outer packets between the two nodes pass (the underlay's firewall, its MTU).`;
		} else if (!snat && forwarded && isPrivate(first.src) && this.answeredTwin(first)) {
			// Another request went the same way — same interfaces, same rules, no SNAT either — and was
			// answered: the missing SNAT is not why. Say what differs.
			const twin = this.answeredTwin(first)!;
			message += `, and no reply was seen, though ${describe(twin)} (packet #${twin.id}) went the same way through the same rules and was answered`;
			hint =
				`The rules treated both alike, so a missing MASQUERADE/SNAT is not what stops this one. What differs: ${differences(first, twin)}. ` +
				`Check that ${ep(finalDst, finalDpt)} answers (tcpdump on ${out}), and what lies between this node and it: a firewall on the way, or a route back that the other destination does not need.`;
		} else if (!snat && forwarded && isPrivate(first.src)) {
			const natEnd = flow.natEnd;
			const how = natEnd ? `nat:POSTROUTING ended at ${where(natEnd)} without MASQUERADE/SNAT` : 'no SNAT was traced';
			message += ` still carrying the private source ${first.src} (came in on ${first.in}; ${how}), and no reply was seen`;
			const masq = index.empty ? undefined : findMasquerade(index, first.family, out);
			hint =
				`Whatever is behind ${out} must route ${first.src} back to this node, and a home or cloud router usually has no route to a pod/container network. ` +
				`Masquerade it on this node: iptables -t nat -A POSTROUTING -s ${networkOf(index, first.src)} -o ${out} -j MASQUERADE, ` +
				`or add a route to that network on the next hop.` +
				(index.empty ? '' : masq ? ` The dump has ${masq} but it did not match this packet.` : ` The dump has no MASQUERADE/SNAT rule for -o ${out}.`);
			if (natEnd) {
				const ref = ruleRef(index, first.family, natEnd);
				if (ref) rules.push(ref);
			}
		} else {
			message += `, and no reply was seen in the trace`;
			hint = `Check the way back: does ${ep(finalDst, finalDpt)} answer (tcpdump on ${out}), does a firewall on the path drop the reply, does the reply come back in on another interface (asymmetric routing), or is the reply not traced at all?`;
		}

		// Could replies have been traced? A TRACE rule limited to the request's source never sees them.
		if (!index.empty) {
			const {traced, rule} = repliesTraced(index, first.family, finalDst, snat ? '' : first.src, out);
			if (traced === false) {
				severity = 'info';
				hint += ` Note: the TRACE rules in raw:PREROUTING (${rule}) do not match replies from ${finalDst}, so replies would not show in this trace even if they came.`;
			}
		}
		const t = first.time;
		if (t !== undefined && Number.isFinite(this.lastTime) && this.lastTime - t < 1) {
			severity = 'info';
			hint += ' The trace ends less than a second after this request: a reply may have come later.';
		}
		const out_: Finding[] = [{kind: 'no-reply', severity, message, hint, packets: ids, rules}];

		if (dnat && !snat && first.in && first.in === out) {
			out_.push({
				kind: 'nat-no-reply-path',
				severity: 'warning',
				message: `${describe(first)} was DNATed to ${dnat.to} and sent back out ${out}, the interface it came in on, without SNAT: ${ep(finalDst, undefined)} will answer ${first.src} directly, and ${first.src} drops a reply that does not come from ${ep(first.dst, first.dpt)}`,
				hint: `Hairpin NAT needs SNAT too: iptables -t nat -A POSTROUTING -s ${first.src} -d ${finalDst} -j MASQUERADE (Docker: enable the userland proxy or hairpin mode on the bridge).`,
				packets: ids,
				rules: [],
			});
		}
		return out_;
	}

	/** An answered request that went the way `r` went (not of r's own flow), if any. */
	private answeredTwin(r: Request): Brief | undefined {
		const twin = this.answeredPaths.get(r.path);
		return twin && twin.flow !== r.flow ? twin : undefined;
	}

	/** The findings so far. */
	findings(): Finding[] {
		const index = this.index;
		const findings: Finding[] = [...this.concluded];
		for (const flow of this.flows.values()) findings.push(...this.noReply(flow));

		for (const {req, replies, count, detail} of this.asym.values()) {
			findings.push({
				kind: 'asymmetric-route',
				severity: 'warning',
				message: `${describe(req)}: ${detail} (${plural(count, 'reply')})`,
				hint:
					req.in && isOverlayDevice(req.in) && detail.startsWith('the request came in')
						? // From another node over the overlay, with its client's address kept: that node forwarded it without SNAT (the MetalLB case).
							`The request came from another node over ${req.in} still carrying its client's address ${req.src}: that node forwarded it without SNAT (a service or load-balancer address DNATed there, with no masquerade), so this node answers ${req.src} by its own route, around that node, and the client gets an answer it did not ask for. Replay both nodes' traces together (tracewatch replay --node a=a.log,a.save --node b=b.log,b.save) to name that node and its DNAT rule; the fix is there: masquerade what it DNATs to another node (externalTrafficPolicy: Cluster), or externalTrafficPolicy: Local.`
						: `Replies follow the routing table, not the interface the request used. A stateful firewall or rp_filter on the other path drops them. Route replies from ${req.dst} back out ${req.in || req.out}: ip rule add from ${req.dst} table 100; ip route add default via <gateway on ${req.in || req.out}> dev ${req.in || req.out} table 100.`,
				packets: [req.id, ...replies],
				rules: [],
			});
		}

		for (const {finding, count} of this.icmp.values()) {
			findings.push({...finding, message: count > 1 ? `${count} times: ${finding.message}` : finding.message, packets: [...finding.packets]});
		}

		for (const {first: p, ids, count, hop} of this.drops.values()) {
			const byPolicy = hop.kind === 'policy' && !hop.rule?.startsWith('-A');
			const ref = ruleRef(index, p.family, hop);
			findings.push({
				kind: 'dropped',
				severity: 'error',
				message: `${plural(count, 'packet')} ${describe(brief(p))} ${p.verdict === 'REJECT' ? 'rejected' : 'dropped'} ${byPolicy ? `by the ${hop.target ?? 'DROP'} policy of ${hop.table}:${hop.chain} (no rule accepted ${count === 1 ? 'it' : 'them'})` : `at ${where(hop)}${hop.rule ? `: ${hop.rule}` : ''}`}`,
				hint: byPolicy
					? `Add a rule that accepts this traffic to ${hop.table}:${hop.chain} (or to the chain that should have), or check why the expected ACCEPT rule did not match.`
					: `This rule matched; if the traffic should pass, change or delete it, or accept the traffic earlier in ${hop.table}:${hop.chain}.`,
				packets: [...ids],
				rules: ref ? [ref] : [],
			});
		}

		// ---- the dump does not match the trace --------------------------------------------------------
		const m = this.mismatch;
		if (m) {
			findings.push({
				kind: 'rules-mismatch',
				severity: 'warning',
				message: `the --rules dump does not match the trace at ${plural(m.hops, 'hop')} in ${plural(m.packets, 'packet')} (first: ${where(m.first.hop)}: ${m.first.hop.note})`,
				hint: 'Rule positions shift whenever a rule is inserted or deleted (kube-proxy and Calico rewrite rules all the time). Save the ruleset while tracing: iptables-save -c > node.save, and replay with --rules node.save.',
				packets: [...m.ids],
				rules: [],
			});
		}
		return findings;
	}
}

/** The findings of a whole trace at once (tests, small inputs): the packets in id order, settled. */
export function traceFindings(packets: readonly Packet[], index: RuleIndex): Finding[] {
	const f = new TraceFindings(index);
	for (const p of [...packets].sort((a, b) => a.id - b.id)) f.add(p);
	return f.findings();
}

/** The narrowest network (not a single address) named in the dump that holds `addr`: the pod or bridge CIDR, usually. */
function networkOf(index: RuleIndex, addr: string): string {
	const a = parseAddr(addr);
	const v6 = addr.includes(':');
	let best: {text: string; bits: number} | undefined;
	for (const rs of index.rulesets) {
		for (const table of rs.tables.values()) {
			for (const chain of table.chains.values()) {
				for (const r of chain.rules) {
					for (const p of ruleCidrs(r)) {
						if (!a || p.bits >= (v6 ? 128 : 32) || p.bits < (v6 ? 16 : 8) || !inCidr(a, p.cidr)) continue;
						if (!best || p.bits > best.bits) best = {text: p.text, bits: p.bits};
					}
				}
			}
		}
	}
	return best ? best.text : `${addr}/${v6 ? 128 : 32} (or the whole pod/bridge network)`;
}

function findMasquerade(index: RuleIndex, family: string, out: string): string | undefined {
	const chain = index.chain(family, 'nat', 'POSTROUTING');
	if (!chain) return undefined;
	const rule = chain.rules.find(r => sourceNatFor(r, out));
	return rule ? `"${rule.text}"` : undefined;
}
