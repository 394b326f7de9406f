/**
 * Several nodes' traces read together: one pipeline per node (its own rules, windows, pairing and
 * findings), their packets labelled with the node, and a packet that leaves one node into an
 * overlay linked to the same packet arriving at the other node, through the outer packets that
 * carried it.
 *
 * Input:  new Fleet({nodes: [{name: 'node-a', rules}, {name: 'node-b', rules}]});
 *         fleet.addInput('a/dmesg.log', 'node-a'); fleet.push(line) …; fleet.end()
 * Output: the pipeline's events (src/model/pipeline.ts), packets carrying `node`; the summary
 *         adds `nodes` (each node's counts and clock) and `journeys`:
 *         {from: {node: 'node-a', id: 1}, wire: {kind: 'vxlan', outer: […]}, to: {node: 'node-b', id: 2}, …}
 *         and the findings across nodes (lost-between-nodes, dropped-at-peer).
 *
 * Linking. A packet routed out of an overlay device (flannel.1, vxlan.calico, …) on node A is the
 * packet that comes in on an overlay device at node B with the same addresses, ports, IP ID and
 * ICMP id/sequence (after A's NAT; the TTL is lower). The outer packet A sends right after it
 * (UDP to a VXLAN/Geneve port, from A's underlay address) is the one B receives with the same
 * outer addresses, ports and IP ID. Packet ids are per node: a packet is named by node and id.
 *
 * Clocks. Each node's stamps are its own (seconds since its boot, or wall time with `-T` or
 * syslog). The first linked packet gives each node's offset to the first node; `clock` says
 * whether the nodes shared wall time or were aligned on a linked packet.
 */
import type {ParsedLine, TraceEvent} from '../parser/types.js';
import type {Ruleset} from '../parser/ruleset.js';
import {endpoint} from '../netfilter/addr.js';
import {icmpName} from '../netfilter/icmp.js';
import {isOverlayDevice, overlayOf, type Overlay} from '../netfilter/overlay.js';
import {refKey} from './crossing.js';
import {ruleRef} from './findings/trace.js';
import type {Finding, RuleRef} from './findings/types.js';
import type {Names} from './names.js';
import type {Graph} from './graph.js';
import type {InputInfo} from './inputs.js';
import {mapKey} from './keys.js';
import {RuleIndex} from './join.js';
import {Pipeline, type PipelineEvent, type PipelineOptions, type Progress, type Summary} from './pipeline.js';
import type {Hop, Packet} from './types.js';

/** A packet named across nodes. */
export interface PacketRef {
	readonly node: string;
	readonly id: number;
}

/** One packet's way from a node, over the wire, to another node. */
export interface Journey {
	/** The packet as it left the first node (routed out of the overlay device). */
	readonly from: PacketRef;
	/** The overlay: its kind and the outer packets seen carrying it (sent, received). */
	readonly wire: {readonly kind: Overlay['kind']; readonly device: string; readonly outer?: {readonly src: string; readonly dst: string; readonly sent?: PacketRef; readonly received?: PacketRef}};
	/** The same packet at the other node, when it arrived there. */
	readonly to?: PacketRef;
	/** What became of it at the other node; `lost` when it never arrived, `trace-ended` when it left after the other node's trace ended. */
	readonly verdict: Packet['verdict'] | 'lost' | 'trace-ended' | 'carried';
	/** A short description: `ICMP 198.19.1.2 → 198.19.2.2 echo-request seq=1`. */
	readonly what: string;
	/** The node it went to (known from the outer packet or the destination), when known. */
	readonly toward?: string;
}

export interface NodeInfo {
	readonly name: string;
	readonly packets: number;
	/** Seconds to add to this node's stamps to put them on the first node's clock. */
	readonly offset?: number;
	/** How the clocks were put side by side: shared wall time, or a linked packet. */
	readonly clock: 'wall' | 'linked' | 'given' | 'unknown' | 'reference';
}

export interface FleetSummary extends Summary {
	readonly nodes: readonly NodeInfo[];
	readonly journeys: readonly Journey[];
}

export interface NodeSpec {
	readonly name: string;
	readonly rules: readonly Ruleset[];
	/** The names this node's packets are given (the cluster's and this node's own interfaces). */
	readonly names?: Names;
}

export interface FleetOptions extends Omit<PipelineOptions, 'node'> {
	/** Nodes named up front (--node), each with its rules. Others appear as lines name their host. */
	readonly nodes?: readonly NodeSpec[];
	/** The rules of every node that has none of its own (--rules beside a central log). */
	readonly rules?: readonly Ruleset[];
	/** Seconds to add to a node's stamps to put them on the first node's clock (--offset), instead of aligning them. */
	readonly offsets?: Readonly<Record<string, number>>;
	/** Journeys kept for the summary, at most (the findings count them all). @default 10000 */
	readonly maxJourneys?: number;
}

type Listener = (event: PipelineEvent) => void;

/** A packet that left a node into an overlay, waiting for its arrival at another node. */
interface Leaving {
	readonly ref: PacketRef;
	readonly device: string;
	readonly what: string;
	/** What the packets of its flow have in common (no ICMP sequence), for grouping findings. */
	readonly flow: string;
	readonly dst: string;
	readonly time: number | undefined;
	/** Its IP length (LEN=) as it left. */
	readonly len: number | undefined;
	/** The interface it came in on at this node (empty when this node sent it). */
	readonly in: string;
	/** Its source as it came in, before this node's NAT. */
	readonly src: string;
	/** This node rewrote its destination (a service address to a pod): from, to, where, and the rule. */
	readonly dnat?: {readonly from: string; readonly to: string; readonly at: string; readonly rule?: RuleRef};
	/** This node rewrote its source after its last trace point (SNAT, MASQUERADE). */
	readonly snat: boolean;
	/** The outer packet: `len` its IP length, `dev` the underlay device it was sent by. */
	outer?: {src: string; dst: string; sent?: PacketRef; received?: PacketRef; key: string; kind: Overlay['kind']; len?: number; dev?: string};
	journey?: Journey;
}

function overlayKind(l: Leaving): Overlay['kind'] {
	return l.outer?.kind ?? 'vxlan';
}

/** An arrival seen before the packet that left (the nodes' files are read one after the other). */
interface Arrival {
	readonly ref: PacketRef;
	/** Linked already (it waits under two keys: as it is, and without its source). */
	linked?: boolean;
	readonly verdict: Packet['verdict'];
	readonly where: string;
	readonly rule: string | undefined;
	readonly time: number | undefined;
}

const LIMIT = 50_000;

/** Bytes an overlay adds to a packet over an IPv4 underlay (IPv6: 20 more): outer IP, UDP and the overlay's header, and the inner Ethernet header where it carries one. */
const OVERHEAD: Record<Overlay['kind'], number> = {vxlan: 50, geneve: 50, wireguard: 60, ipip: 20, gre: 24, esp: 73};
const OVERLAY_NAME: Record<Overlay['kind'], string> = {vxlan: 'VXLAN', geneve: 'Geneve', wireguard: 'WireGuard', ipip: 'IP-in-IP', gre: 'GRE', esp: 'ESP'};

/** The packet's fields at its last hop (after this node's NAT), or at its first. */
function fields(p: Packet, at: 'first' | 'last'): {src: string; dst: string; spt?: number; dpt?: number} {
	const h: Hop | undefined = at === 'first' ? p.hops[0] : p.hops.at(-1);
	return {src: h?.src ?? p.src, dst: h?.dst ?? p.dst, ...(h?.spt ?? p.spt) !== undefined ? {spt: (h?.spt ?? p.spt)!} : {}, ...(h?.dpt ?? p.dpt) !== undefined ? {dpt: (h?.dpt ?? p.dpt)!} : {}};
}

/** `198.19.174.0:16849`, `[2001:db8::1]:80` → address and port. */
function splitEndpoint(text: string): {addr: string; port?: number} | undefined {
	const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
	return m ? {addr: m[1]!, ...(m[2] ? {port: Number(m[2])} : {})} : undefined;
}

/**
 * Its source as it left, when rewritten after the last trace point: an established connection's
 * SNAT or MASQUERADE applied by conntrack (known from the connection's reply), `unknown` when a
 * nat rule rewrote it there (SNAT and MASQUERADE run in nat POSTROUTING, after the last hop a
 * trace shows; MASQUERADE --random-fully picks the port then), undefined when it kept its source.
 */
function sourceAfterTrace(p: Packet): {addr: string; port?: number} | 'unknown' | undefined {
	const rewrite = p.connection?.conntrack.find(c => c.field === 'src' && c.seen === 'inferred');
	const known = rewrite ? splitEndpoint(rewrite.to) : undefined;
	if (known) return known;
	return p.nat.some(n => (n.type === 'SNAT' || n.type === 'MASQUERADE') && n.seen === 'rule') ? 'unknown' : undefined;
}

/** What stays the same of a packet between two nodes: addresses, ports, IP ID, ICMP id and sequence. */
function innerKey(p: Packet, at: 'first' | 'last', source?: {addr: string; port?: number}): string {
	const f = source ? {...fields(p, at), src: source.addr, spt: source.port} : fields(p, at);
	return mapKey(p.proto, f.src, f.spt, f.dst, f.dpt, p.ipId, p.icmp?.type, p.icmp?.id, p.icmp?.seq);
}

/**
 * The same without the source (and the ICMP id, which NAT may change): what a packet source-NATed
 * after the sending node's last trace point keeps. SNAT and MASQUERADE run in nat POSTROUTING,
 * after the last hop a trace shows, and MASQUERADE --random-fully picks the port then.
 */
function sourcelessKey(p: Packet, at: 'first' | 'last'): string {
	const f = fields(p, at);
	return mapKey(p.proto, '?', f.dst, f.dpt, p.ipId, p.icmp?.type, p.icmp?.seq);
}

function describe(p: Packet, withSeq = true): string {
	const f = fields(p, 'first');
	// With --names: what each end is (`198.19.1.2 (pod default/pod-a (node-a))`).
	const named = (a: string, port?: number) => {
		const name = (port === undefined ? undefined : p.names?.[`${a}:${port}`]) ?? p.names?.[a];
		return name ? ` (${name})` : '';
	};
	const ep = (a: string, port?: number) => `${endpoint(a, port)}${named(a, port)}`;
	const icmp = p.icmp ? ` ${icmpName(p.proto, p.icmp.type, p.icmp.code) ?? `type ${p.icmp.type}`}${p.icmp.seq === undefined || !withSeq ? '' : ` seq=${p.icmp.seq}`}` : '';
	const flags = p.tcpFlags && p.tcpFlags.length > 0 ? ` [${p.tcpFlags.join(' ')}]` : '';
	return `${p.proto} ${ep(f.src, f.spt)} → ${ep(f.dst, f.dpt)}${icmp}${flags}`;
}

/** The host a line names (syslog, journal), if any. */
function hostOf(e: TraceEvent): string | undefined {
	return 'host' in e ? e.host : undefined;
}

function timeOf(p: Packet): {wall?: number; mono?: number} {
	const t = p.hops[0]?.time;
	return {...(t?.wall !== undefined ? {wall: t.wall / 1000} : {}), ...(t?.mono !== undefined ? {mono: t.mono} : {})};
}

function hopText(h: Hop | undefined): string {
	return h ? `${h.table}:${h.chain}:${h.kind}${h.num === null ? '' : `:${h.num}`}` : '?';
}

/** Adds one node's counts of the inputs to the fleet's (the same inputs, by index). */
function addInputCounts(sums: InputInfo[], infos: readonly InputInfo[]): void {
	infos.forEach((info, i) => {
		const sum = sums[i];
		if (!sum) return;
		sum.lines += info.lines;
		sum.traceLines += info.traceLines;
		sum.skipped += info.skipped;
		sum.unparsed += info.unparsed;
		if (info.format !== 'none') sum.format = sum.format === 'none' || sum.format === info.format ? info.format : 'mixed';
		if (info.joined) sum.joined = (sum.joined ?? 0) + info.joined;
		if (info.container) sum.container = sum.container === undefined || sum.container === info.container ? info.container : 'mixed';
	});
}

class FifoMap<T> {
	private readonly map = new Map<string, T[]>();
	private size = 0;
	push(key: string, value: T): void {
		const list = this.map.get(key);
		if (list) list.push(value);
		else this.map.set(key, [value]);
		if (++this.size > LIMIT) {
			const first = this.map.keys().next().value!;
			const l = this.map.get(first)!;
			l.shift();
			this.size--;
			if (l.length === 0) this.map.delete(first);
		}
	}
	take(key: string, accept: (value: T) => boolean = () => true): T | undefined {
		const list = this.map.get(key);
		if (!list) return undefined;
		const i = list.findIndex(accept);
		if (i === -1) return undefined;
		const [value] = list.splice(i, 1);
		this.size--;
		if (list.length === 0) this.map.delete(key);
		return value;
	}
}

export class Fleet {
	/** The inputs' names, by index (LineRef.input), over all nodes. */
	readonly inputNames: Array<{readonly path: string}> = [];
	private readonly pipelines = new Map<string, Pipeline>();
	private readonly indexes = new Map<readonly Ruleset[], RuleIndex>();
	private readonly order: string[] = [];
	/** Nodes named up front (--node). */
	private readonly named = new Set<string>();
	private readonly inputNode: string[] = [];
	private readonly listeners = new Set<Listener>();
	private readonly ended = new Set<string>();
	private readonly summaries = new Map<string, Summary>();
	private readonly packets = new Map<string, number>();
	private readonly journeys: Journey[] = [];
	private journeyCount = 0;
	private readonly maxJourneys: number;
	/** Inner packets that left into an overlay, by inner key; and per node the last one, for its outer packet. */
	private readonly leaving = new FifoMap<Leaving>();
	private readonly lastLeaving = new Map<string, Leaving[]>();
	/** Inner packets that arrived from an overlay before the packet that left was read. */
	private readonly arrived = new FifoMap<Arrival>();
	/** Outer packets sent, by outer key; outer packets received before they were sent (read order). */
	private readonly outerSent = new FifoMap<Leaving>();
	private readonly outerReceived = new FifoMap<PacketRef>();
	/** Underlay addresses seen as a node's own (sent from in OUTPUT, received in INPUT). */
	private readonly owner = new Map<string, string>();
	/** Leaving packets whose arrival is not known yet, in order (for lost-between-nodes at the end). */
	private readonly open: Leaving[] = [];
	/** The first linked pair's times, for the clocks. */
	private readonly offsets = new Map<string, {offset: number; clock: NodeInfo['clock']}>();
	private readonly walls = new Set<string>();
	/** One node: the last outer packet received, for the inner packet that comes out of the overlay next. */
	private readonly lastReceived = new Map<string, {ref: PacketRef; src: string; dst: string; kind: Overlay['kind']}>();
	/** One node: inner packets that came in from the overlay, each with the outer packet that carried it. */
	private readonly local: Journey[] = [];
	/** Each node's last stamp (its own clock). */
	private readonly lastTime = new Map<string, number>();
	private readonly drops = new Map<string, {journey: Journey; flow: string; ids: number[]; from: number[]; where: string; rule: string | undefined; count: number}>();
	/** Outer packets received, by receiving node and sender: the device they came in on, the largest. */
	private readonly underlay = new Map<string, {dev: string; largest: number}>();
	/** Each node's names (its `ip -j` files: MTUs, the devices of its addresses), and its rules' index. */
	private readonly namesOf = new Map<string, Names>();
	private readonly nodeIndex = new Map<string, RuleIndex>();
	/** Packets that came in from the overlay (`node#id`), and the packet that left another node for each one linked. */
	private readonly fromOverlay = new Set<string>();
	private readonly arrivedFrom = new Map<string, Leaving>();
	/** Packets whose outer packets were bigger than the underlay device that sent them, by node, flow and device. */
	private readonly oversize = new Map<string, Leaving[]>();
	/** Replies sent by another way than the overlay to a request that came in from it (asymmetric-nodes). */
	private readonly bypass: Array<{node: string; id: number; request: number; out: string; src: string}> = [];

	constructor(private readonly options: FleetOptions) {
		this.maxJourneys = options.maxJourneys ?? 10_000;
		for (const [node, offset] of Object.entries(options.offsets ?? {})) this.offsets.set(node, {offset, clock: 'given'});
		for (const spec of options.nodes ?? []) {
			this.named.add(spec.name);
			this.pipeline(spec.name, spec.rules, spec.names);
		}
	}

	on(listener: Listener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Registers an input of `node` (every node's pipeline knows every input, so the indexes agree). */
	addInput(path: string, node = ''): number {
		const index = this.inputNames.length;
		this.pipeline(node);
		this.inputNames.push({path});
		this.inputNode.push(node);
		for (const p of this.pipelines.values()) p.addInput(path);
		return index;
	}

	/**
	 * Feeds one parsed line to its node's pipeline: the input's node (--node), else the host the
	 * line names (a central log: syslog, journal), else the unnamed node of lines without a host.
	 */
	push(line: ParsedLine): void {
		const node = this.inputNode[line.ref.input] || (line.kind === 'event' ? hostOf(line.event) : undefined) || '';
		this.pipeline(node).push(line);
	}

	/** A packet read back from an agent's NDJSON record, to its node's pipeline (its `node`, else `node`). */
	pushRebuilt(packet: Packet, node = ''): void {
		this.pipeline(packet.node ?? node).pushRebuilt(packet);
	}

	/**
	 * The one node whose lines came (an agent: src/cli/agent.ts keeps its place from it), or
	 * undefined when lines of several nodes came.
	 */
	only(): Pipeline | undefined {
		const read = [...this.pipelines.values()].filter(p => p.inputInfo().some(i => i.lines > 0));
		return read.length === 1 ? read[0] : read.length === 0 ? this.pipelines.values().next().value : undefined;
	}

	tick(now?: number): void {
		for (const p of this.pipelines.values()) p.tick(now);
	}

	end(): void {
		for (const p of this.pipelines.values()) p.end();
	}

	/** Packets still being assembled or waiting, over all nodes. */
	pending(): number {
		let open = 0;
		for (const p of this.pipelines.values()) open += p.open;
		return open;
	}

	/** The nodes so far: those named (--node) or that rebuilt a packet, in the order they came. */
	nodeNames(): string[] {
		return this.order.filter(n => this.named.has(n) || (this.packets.get(n) ?? 0) > 0);
	}

	/** The inputs with their counts so far, over all nodes (copies). */
	inputInfo(): InputInfo[] {
		const inputs: InputInfo[] = this.inputNames.map(i => ({path: i.path, format: 'none', lines: 0, traceLines: 0, skipped: 0, unparsed: 0}));
		for (const p of this.pipelines.values()) addInputCounts(inputs, p.inputInfo());
		return inputs;
	}

	/** One node's chain graph so far (its own chains); the only node's when `node` is not given. */
	graph(node?: string): Graph {
		const p = this.pipelines.get(node ?? this.nodeNames()[0] ?? '') ?? this.pipelines.values().next().value;
		return p ? p.graph() : {nodes: [], edges: []};
	}

	/**
	 * The findings so far: each node's, with `node` when there are several, and those across
	 * nodes (dropped-at-peer, lost-between-nodes once every node's input has ended).
	 */
	findings(): readonly Finding[] {
		return this.pipelines.size === 0 ? [] : this.summary().findings;
	}

	/** A settled packet of `node` beside the dump's prediction (src/model/pipeline.ts). */
	comparison(id: number, node = ''): ReturnType<Pipeline['comparison']> {
		return this.pipelines.get(node)?.comparison(id);
	}

	/** Whether the node has a ruleset to join its hops to. */
	hasRules(node = ''): boolean {
		const p = this.pipelines.get(node);
		return p !== undefined && !p.index.empty;
	}

	progress(): Progress {
		let lines = 0;
		let packets = 0;
		let open = 0;
		let unparsed = 0;
		for (const p of this.pipelines.values()) {
			const g = p.progress();
			lines += g.lines;
			packets += g.packets;
			open += g.open;
			unparsed += g.unparsed;
		}
		return {lines, packets, open, unparsed};
	}

	/** The summary: one node's as it is; several nodes' merged, with the nodes and the journeys. */
	summary(): Summary | FleetSummary {
		const all = [...this.pipelines.entries()].map(([node, p]): [string, Summary] => [node, this.summaries.get(node) ?? p.summary()]);
		if (all.length === 1) return this.withOverlay(all[0]![0], all[0]![1]);
		// Nodes are those named (--node) or that rebuilt a packet; a pipeline that only saw lines
		// without a host (a central log's own notes) is not a node of its own.
		const shown = all.filter(([node]) => this.named.has(node) || (this.packets.get(node) ?? 0) > 0);
		if (shown.length <= 1) {
			const [name, main] = shown[0] ?? all[0]!;
			const merged = this.merge(all);
			return this.withOverlay(name, {...main, inputs: merged.inputs, unparsedCount: merged.unparsedCount, unparsed: merged.unparsed});
		}
		return this.merge(all);
	}

	// ---- inside ------------------------------------------------------------------------------------

	/**
	 * One node's summary, with its packets that went into or came out of an overlay linked to the
	 * outer packets that carried them, when there are any (`verdict` `carried` for one that left).
	 */
	private withOverlay(node: string, summary: Summary): Summary | FleetSummary {
		const out: Journey[] = [];
		for (const l of this.open) {
			if (!l.outer?.sent || out.length >= this.maxJourneys) continue;
			out.push({from: l.ref, wire: {kind: overlayKind(l), device: l.device, outer: {src: l.outer.src, dst: l.outer.dst, sent: l.outer.sent}}, verdict: 'carried', what: l.what});
		}
		const journeys = [...out, ...this.local].sort((a, b) => a.from.id - b.from.id);
		if (journeys.length === 0) return summary;
		return {...summary, nodes: [{name: node, packets: this.packets.get(node) ?? 0, clock: 'reference'}], journeys};
	}

	private pipeline(node: string, rules: readonly Ruleset[] = this.options.rules ?? [], names: Names | undefined = this.options.names): Pipeline {
		let p = this.pipelines.get(node);
		if (p) return p;
		const {nodes: _nodes, maxJourneys: _max, rules: _rules, names: _names, offsets: _offsets, ...rest} = this.options;
		// The nodes share the bounds: each remembers its part of what one pipeline would.
		// No view shows a packet beside its prediction here: none is kept. Nodes reading the same
		// dump share its index.
		let index = this.indexes.get(rules);
		if (!index) this.indexes.set(rules, (index = new RuleIndex(rules)));
		p = new Pipeline({keepComparisons: 0, ...rest, rules, index, ...(node ? {node} : {}), ...(names ? {names} : {}), share: () => 1 / this.pipelines.size});
		if (names) this.namesOf.set(node, names);
		this.nodeIndex.set(node, index);
		for (const input of this.inputNames) p.addInput(input.path);
		this.pipelines.set(node, p);
		this.order.push(node);
		this.packets.set(node, 0);
		p.on(e => this.relay(node, e));
		return p;
	}

	private emit(event: PipelineEvent): void {
		for (const l of this.listeners) l(event);
	}

	private relay(node: string, e: PipelineEvent): void {
		switch (e.type) {
			case 'end': {
				this.summaries.set(node, e.summary);
				this.ended.add(node);
				if (this.ended.size === this.pipelines.size) this.emit({type: 'end', summary: this.summary()});
				return;
			}
			case 'progress': {
				this.emit({type: 'progress', progress: this.progress()});
				return;
			}
			case 'revised': {
				this.emit({type: 'revised', fact: {...e.fact, node}});
				return;
			}
			case 'settled': {
				this.packets.set(node, (this.packets.get(node) ?? 0) + 1);
				this.link(node, e.packet);
				this.emit(e);
				return;
			}
			default: {
				this.emit(e);
			}
		}
	}

	/** Learns what a settled packet says about the way between nodes. */
	private link(node: string, p: Packet): void {
		const time = timeOf(p);
		if (time.wall !== undefined) this.walls.add(node);
		const t = time.wall ?? time.mono;
		if (t !== undefined) this.lastTime.set(node, t);
		const first = p.hops[0];
		const hook = first?.hook ?? first?.chain;
		const overlay = overlayOf(p);
		if (overlay) {
			// An outer packet: sent by this node (it starts in OUTPUT), or received (PREROUTING).
			const key = mapKey(p.proto, p.src, p.spt, p.dst, p.dpt, p.ipId);
			if (hook === 'OUTPUT') {
				this.owner.set(p.src, node);
				const pending = this.lastLeaving.get(node)?.shift();
				if (pending) {
					pending.outer = {src: p.src, dst: p.dst, sent: {node, id: p.id}, key, kind: overlay.kind, ...(p.len !== undefined ? {len: p.len} : {}), ...(p.out ? {dev: p.out} : {})};
					// Bigger than the device it leaves by: sent in fragments (overlays set no DF on outer packets).
					const mtu = this.namesOf.get(node)?.mtu(p.out);
					if (mtu !== undefined && p.len !== undefined && p.len > mtu) {
						const k = `${node}|${pending.flow}|${p.out}`;
						const list = this.oversize.get(k) ?? [];
						if (list.length < 10_000 && (list.length > 0 || this.oversize.size < 10_000)) list.push(pending);
						this.oversize.set(k, list);
					}
					const received = this.outerReceived.take(key);
					if (received) pending.outer.received = received;
					else this.outerSent.push(key, pending);
					this.refresh(pending);
				}
			} else if (hook === 'PREROUTING') {
				this.owner.set(p.dst, node);
				this.lastReceived.set(node, {ref: {node, id: p.id}, src: p.src, dst: p.dst, kind: overlay.kind});
				const k = `${node}|${p.src}`;
				const seen = this.underlay.get(k);
				if (!seen) {
					if (this.underlay.size < LIMIT) this.underlay.set(k, {dev: p.in, largest: p.len ?? 0});
				} else if ((p.len ?? 0) > seen.largest) seen.largest = p.len!;
				const sent = this.outerSent.take(key);
				if (sent?.outer) {
					sent.outer.received = {node, id: p.id};
					this.refresh(sent);
				} else this.outerReceived.push(key, {node, id: p.id});
			}
			return;
		}
		// An inner packet routed (or sent) out of the overlay device, and not dropped on the way out.
		if (p.out && isOverlayDevice(p.out) && !(p.in && isOverlayDevice(p.in)) && p.verdict !== 'DROP' && p.verdict !== 'REJECT') {
			const source = sourceAfterTrace(p);
			const leaving: Leaving = {ref: {node, id: p.id}, device: p.out, what: describe(p), flow: describe(p, false), dst: fields(p, 'last').dst, time: time.wall ?? time.mono, len: p.len, in: p.in, src: p.src, ...this.dnatOf(node, p), snat: source !== undefined};
			const list = this.lastLeaving.get(node) ?? [];
			list.push(leaving);
			if (list.length > 64) list.shift();
			this.lastLeaving.set(node, list);
			// Source-NATed after the trace: it arrives with that source, or, when the source is not
			// known yet (a connection's first packet), is known by the rest.
			const key = source === 'unknown' ? sourcelessKey(p, 'last') : innerKey(p, 'last', source);
			const arrival = this.arrived.take(key, a => a.ref.node !== node && !a.linked);
			if (arrival) {
				arrival.linked = true;
				this.arrive(leaving, arrival);
			}
			else {
				this.leaving.push(key, leaving);
				this.open.push(leaving);
				if (this.open.length > LIMIT) this.open.shift();
			}
			return;
		}
		// A reply that leaves by another way than the overlay its request came in from.
		if (p.replyTo !== null && p.out && !isOverlayDevice(p.out) && this.fromOverlay.has(refKey(node, p.replyTo)) && p.verdict !== 'DROP' && p.verdict !== 'REJECT') {
			if (this.bypass.length < LIMIT) this.bypass.push({node, id: p.id, request: p.replyTo, out: p.out, src: endpoint(fields(p, 'last').src, fields(p, 'last').spt)});
		}
		if (p.in && isOverlayDevice(p.in) && hook === 'PREROUTING') {
			this.fromOverlay.add(refKey(node, p.id));
			if (this.fromOverlay.size > LIMIT) this.fromOverlay.delete(this.fromOverlay.values().next().value!);
			const last = p.hops.at(-1);
			const arrival: Arrival = {ref: {node, id: p.id}, verdict: p.verdict, where: hopText(last), rule: last?.rule, time: time.wall ?? time.mono};
			// On this node: the outer packet it came in (the last one received before it).
			const carrier = this.lastReceived.get(node);
			if (carrier) {
				this.lastReceived.delete(node);
				this.local.push({from: carrier.ref, wire: {kind: carrier.kind, device: p.in, outer: {src: carrier.src, dst: carrier.dst, received: carrier.ref}}, to: {node, id: p.id}, verdict: p.verdict, what: describe(p)});
				if (this.local.length > this.maxJourneys) this.local.shift();
			}
			const key = innerKey(p, 'first');
			const loose = sourcelessKey(p, 'first');
			const left = this.leaving.take(key, l => l.ref.node !== node) ?? this.leaving.take(loose, l => l.ref.node !== node);
			if (left) this.arrive(left, arrival);
			else {
				this.arrived.push(key, arrival);
				this.arrived.push(loose, arrival);
			}
		}
	}

	/** A packet that left one node arrived at another: its journey, the clocks, a drop there. */
	private arrive(left: Leaving, arrival: Arrival): void {
		const journey: Journey = {
			from: left.ref,
			wire: {kind: overlayKind(left), device: left.device, ...(left.outer ? {outer: {src: left.outer.src, dst: left.outer.dst, ...(left.outer.sent ? {sent: left.outer.sent} : {}), ...(left.outer.received ? {received: left.outer.received} : {})}} : {})},
			to: arrival.ref,
			verdict: arrival.verdict,
			what: left.what,
			toward: arrival.ref.node,
		};
		left.journey = journey;
		this.arrivedFrom.set(refKey(arrival.ref.node, arrival.ref.id), left);
		if (this.arrivedFrom.size > LIMIT) this.arrivedFrom.delete(this.arrivedFrom.keys().next().value!);
		const i = this.open.indexOf(left);
		if (i !== -1) this.open.splice(i, 1);
		this.record(journey);
		if (!this.offsets.has(arrival.ref.node) && left.time !== undefined && arrival.time !== undefined) {
			const base = this.offsets.get(left.ref.node)?.offset ?? 0;
			this.offsets.set(arrival.ref.node, {offset: left.time + base - arrival.time, clock: 'linked'});
		}
		if (arrival.verdict === 'DROP' || arrival.verdict === 'REJECT') {
			const k = `${arrival.ref.node}|${left.flow}|${arrival.where}`;
			const d = this.drops.get(k);
			if (d) {
				d.count++;
				if (d.ids.length < 10_000) d.ids.push(arrival.ref.id);
				if (d.from.length < 10_000) d.from.push(left.ref.id);
			} else this.drops.set(k, {journey, flow: left.flow, ids: [arrival.ref.id], from: [left.ref.id], where: arrival.where, rule: arrival.rule, count: 1});
		}
	}

	/** The DNAT a node's rules did to a packet (a service address to its endpoint), with the rule. */
	private dnatOf(node: string, p: Packet): {dnat?: NonNullable<Leaving['dnat']>} {
		const n = p.nat.find(x => x.type === 'DNAT');
		if (!n) return {};
		const hop = p.hops.find(h => hopText(h) === n.at);
		const index = this.nodeIndex.get(node);
		const rule = hop && index ? ruleRef(index, p.family, hop) : undefined;
		return {dnat: {from: n.from, to: n.to, at: n.at, ...(rule ? {rule} : {})}};
	}

	/** The outer packet of a journey was learned after the journey was recorded. */
	private refresh(left: Leaving): void {
		if (!left.journey || !left.outer) return;
		const i = this.journeys.indexOf(left.journey);
		const updated: Journey = {...left.journey, wire: {...left.journey.wire, kind: overlayKind(left), outer: {src: left.outer.src, dst: left.outer.dst, ...(left.outer.sent ? {sent: left.outer.sent} : {}), ...(left.outer.received ? {received: left.outer.received} : {})}}};
		left.journey = updated;
		if (i !== -1) this.journeys[i] = updated;
		this.emit({type: 'journey', journey: updated});
	}

	/**
	 * Packets whose outer packets never arrived, explained by their size: bigger than the MTU of
	 * the device the other node receives outer packets on (its `ip -j link`/`ip -j addr` given),
	 * or, with no MTU known, all bigger than every outer packet that did arrive from this node
	 * (not when they left after the other node's trace ended: `ended`).
	 */
	private overlayMtu(left: readonly Leaving[], toward: string, ended: boolean): Finding | undefined {
		const l = left[0]!;
		const outer = l.outer;
		if (!outer || left.some(x => x.outer?.len === undefined)) return undefined;
		const outers = left.map(x => x.outer!.len!);
		const smallest = Math.min(...outers);
		const from = l.ref.node;
		const arrived = this.underlay.get(`${toward}|${outer.src}`);
		const peer = this.namesOf.get(toward);
		const dev = arrived?.dev || peer?.deviceOf(outer.dst);
		const peerMtu = dev ? peer?.mtu(dev) : undefined;
		if (peerMtu !== undefined ? smallest <= peerMtu : ended || arrived === undefined || smallest <= arrived.largest) return undefined;
		const own = this.namesOf.get(from);
		const overlayMtu = own?.mtu(l.device);
		const inner = left.map(x => x.len).filter((n): n is number => n !== undefined);
		// What the overlay adds, as the packets show it (outer minus inner length), else by its kind.
		const overhead = inner.length > 0 && l.len !== undefined ? outer.len! - l.len : OVERHEAD[outer.kind] + (outer.src.includes(':') ? 20 : 0);
		const name = OVERLAY_NAME[outer.kind];
		const range = (ns: number[]) => {
			const [lo, hi] = [Math.min(...ns), Math.max(...ns)];
			return lo === hi ? `${lo}` : `${lo}–${hi}`;
		};
		const n = left.length;
		const sizes = `${inner.length > 0 ? `${range(inner)} bytes, ` : ''}${range(outers)} with the ${name} header`;
		const largest = arrived ? ` (the largest outer packet from ${from} that arrived was ${arrived.largest} bytes)` : '';
		const message =
			`${n === 1 ? 'a packet' : `${n} packets`} ${l.flow} (${sizes}) left ${from} by ${l.device} (outer ${outer.src} → ${outer.dst}) and never arrived at ${toward}: ` +
			(peerMtu !== undefined ? `${n === 1 ? 'its outer packet is' : 'their outer packets are'} bigger than the MTU of ${toward}'s ${dev}, ${peerMtu}${largest}` : `${n === 1 ? 'its outer packet is' : 'their outer packets are'} bigger than any that arrived${largest}: the underlay drops outer packets of that size`);
		const target = (peerMtu ?? arrived!.largest) - overhead;
		const hint =
			`${name} adds ${overhead} bytes to every packet${overlayMtu !== undefined ? `: ${from}'s ${l.device} has MTU ${overlayMtu}, which needs ${overlayMtu + overhead} on the underlay` : ''}` +
			`${peerMtu !== undefined ? `, and ${toward}'s ${dev} has ${peerMtu}` : ''}. ` +
			`A receiving interface drops a frame bigger than its MTU without an ICMP error, so path MTU discovery cannot help: pings of that size and TCP segments after the handshake vanish. ` +
			`Set the overlay MTU to ${target}${peerMtu !== undefined ? ` (${peerMtu} − ${overhead})` : ' or less'} on every node, and the pods' MTU with it (flannel: the MTU in net-conf.json, else flanneld takes its underlay's at start; Calico: veth_mtu; Cilium: --mtu)` +
			`${peerMtu !== undefined && overlayMtu !== undefined ? `, or raise ${toward}'s ${dev} to ${overlayMtu + overhead}` : ''}.` +
			(peerMtu === undefined ? ` Give each node's ip -j link in its --node (--node ${toward}=TRACE,RULES,ip-link.json) to name the device and its MTU.` : '');
		return {kind: 'overlay-mtu', severity: peerMtu !== undefined ? 'error' : 'warning', node: from, message, hint, packets: left.map(x => x.ref.id).slice(0, 10_000), rules: []};
	}

	/**
	 * Packets that crossed, whose outer packets were bigger than the MTU of the underlay device
	 * that sent them: sent in fragments and put back together by the other node (overlay-mtu).
	 */
	private fragmented(): Finding[] {
		const out: Finding[] = [];
		for (const all of this.oversize.values()) {
			const left = all.filter(l => l.journey?.to);
			if (left.length === 0) continue;
			const l = left[0]!;
			const outer = l.outer!;
			const from = l.ref.node;
			const toward = l.journey!.to!.node;
			const own = this.namesOf.get(from);
			const mtu = own!.mtu(outer.dev!)!;
			const overlayMtu = own?.mtu(l.device);
			const outers = left.map(x => x.outer!.len!);
			const inner = left.map(x => x.len).filter((n): n is number => n !== undefined);
			const overhead = l.len !== undefined ? outer.len! - l.len : OVERHEAD[outer.kind] + (outer.src.includes(':') ? 20 : 0);
			const name = OVERLAY_NAME[outer.kind];
			const range = (ns: number[]) => {
				const [lo, hi] = [Math.min(...ns), Math.max(...ns)];
				return lo === hi ? `${lo}` : `${lo}–${hi}`;
			};
			const n = left.length;
			out.push({
				kind: 'overlay-mtu',
				severity: 'warning',
				node: from,
				message: `${n === 1 ? 'a packet' : `${n} packets`} ${l.flow} (${inner.length > 0 ? `${range(inner)} bytes, ` : ''}${range(outers)} with the ${name} header) crossed from ${from} to ${toward} by ${l.device} in fragments: ${n === 1 ? 'its outer packet is' : 'their outer packets are'} bigger than the MTU of ${from}'s ${outer.dev}, ${mtu}`,
				hint:
					`${name} adds ${overhead} bytes to every packet${overlayMtu !== undefined ? `: ${from}'s ${l.device} has MTU ${overlayMtu}, which needs ${overlayMtu + overhead} on the underlay, and its ${outer.dev} has ${mtu}` : ''}. ` +
					`Linux sends ${name} outer packets without DF, so each bigger one leaves in two fragments and ${toward} puts them back together: it works, at the cost of a second packet and a reassembly for each, and where fragments are dropped (many firewalls and cloud networks) or one is lost, the whole packet is. ` +
					`Set the overlay MTU to ${mtu - overhead} (${mtu} − ${overhead}) on every node, and the pods' MTU with it (flannel: the MTU in net-conf.json, else flanneld takes its underlay's at start; Calico: veth_mtu; Cilium: --mtu).`,
				packets: left.map(x => x.ref.id),
				rules: [],
			});
		}
		return out;
	}

	/**
	 * Requests that came into the cluster at one node and went over the overlay to another, whose
	 * replies that node sent by another way (straight to the client) instead of back through the
	 * overlay: one finding per flow and pair of nodes, at the node the request came in by.
	 * `requests` are those requests' ids there, `there` the requests' and replies' ids at the other node.
	 */
	private asymmetric(): {findings: Finding[]; requests: Set<string>; there: Set<string>} {
		const groups = new Map<string, {left: Leaving[]; arrived: number[]; replies: number[]; node: string; out: string; src: string}>();
		for (const b of this.bypass) {
			const left = this.arrivedFrom.get(refKey(b.node, b.request));
			// Only a request that came into the first node from outside (not sent by it, not from the overlay).
			if (!left || !left.in || isOverlayDevice(left.in) || left.snat) continue;
			const k = `${left.ref.node}|${b.node}|${left.flow}|${b.out}`;
			const g = groups.get(k) ?? {left: [], arrived: [], replies: [], node: b.node, out: b.out, src: b.src};
			if (!g.left.includes(left)) g.left.push(left);
			if (!g.arrived.includes(b.request)) g.arrived.push(b.request);
			g.replies.push(b.id);
			groups.set(k, g);
		}
		const findings: Finding[] = [];
		const requests = new Set<string>();
		const there = new Set<string>();
		for (const g of groups.values()) {
			const l = g.left[0]!;
			const [a, b] = [l.ref.node, g.node];
			const n = g.left.length;
			const replies = g.replies.length;
			const ids = (node: string, list: number[]) => `${node} ${list.slice(0, 5).map(id => `#${id}`).join(' ')}${list.length > 5 ? ' …' : ''}`;
			const d = l.dnat;
			const message =
				`${n === 1 ? 'a request' : `${n} requests`} ${l.flow} came in to ${a} on ${l.in}${d ? `, ${n === 1 ? 'was' : 'were'} DNATed there to ${d.to} (${d.at})` : ''} and went over ${l.device} to ${b} without SNAT; ` +
				`${b} sent ${replies === 1 ? 'the reply' : `the ${replies} replies`} (${ids(b, g.replies)}) by its ${g.out} straight to ${l.src}, not back through ${a}` +
				(d ? `: from ${g.src}, not from ${d.from}, which ${l.src} asked` : '');
			const hint = d
				? `${l.src} does not take an answer from ${g.src} (a TCP client resets it), ${a}'s conntrack never sees the answer to undo its DNAT, and a stateful firewall on the way drops it. ` +
					`Make the answers come back through ${a}: masquerade there what it DNATs to another node (kube-proxy does it for externalTrafficPolicy: Cluster: the service's chain jumps to KUBE-MARK-MASQ and KUBE-POSTROUTING masquerades; by hand: iptables -t nat -A POSTROUTING -d ${d.to.replace(/:\d+$/, '')} -o ${l.device} -j MASQUERADE), ` +
					`or set externalTrafficPolicy: Local on the Service, so that only nodes with a local endpoint announce ${d.from.replace(/:\d+$/, '')} (MetalLB then announces it from ${b}) and nothing crosses to another node.`
				: `${b} routes the answers by its own table, around ${a}: a stateful firewall that saw the request pass ${a} drops them, and so does rp_filter where the answer comes in. Masquerade at ${a} what it sends over ${l.device} (iptables -t nat -A POSTROUTING -s ${l.src} -o ${l.device} -j MASQUERADE), or route ${l.src} on ${b} back through ${a}.`;
			findings.push({kind: 'asymmetric-nodes', severity: d ? 'error' : 'warning', node: a, message, hint, packets: g.left.map(x => x.ref.id).slice(0, 10_000), rules: d?.rule ? [d.rule] : []});
			for (const x of g.left) requests.add(`${a}#${x.ref.id}`);
			for (const id of [...g.arrived, ...g.replies]) there.add(`${b}#${id}`);
		}
		return {findings, requests, there};
	}

	/** A node's stamp on the first node's clock, when the clocks are known to agree or were aligned. */
	private onReference(node: string, t: number | undefined): number | undefined {
		if (t === undefined) return undefined;
		const reference = this.order.find(n => this.named.has(n) || (this.packets.get(n) ?? 0) > 0);
		if (node === reference) return t;
		const given = this.offsets.get(node);
		if (given?.clock === 'given') return t + given.offset;
		if (reference !== undefined && this.walls.has(node) && this.walls.has(reference)) return t;
		const o = this.offsets.get(node);
		return o ? t + o.offset : undefined;
	}

	private record(journey: Journey): void {
		this.journeyCount++;
		if (this.journeys.length < this.maxJourneys) this.journeys.push(journey);
		this.emit({type: 'journey', journey});
	}

	private merge(parts: Array<[string, Summary]>): FleetSummary {
		const inputs: InputInfo[] = this.inputNames.map(i => ({path: i.path, format: 'none', lines: 0, traceLines: 0, skipped: 0, unparsed: 0}));
		let completed = 0;
		let unparsedCount = 0;
		const unparsed: Summary['unparsed'][number][] = [];
		const graph: Graph = {nodes: [], edges: []};
		const findings: Finding[] = [];
		let rulesLoaded = 0;
		for (const [node, s] of parts) {
			addInputCounts(inputs, s.inputs);
			completed += s.completed;
			unparsedCount += s.unparsedCount;
			unparsed.push(...s.unparsed);
			// A pipeline that is not a node (it only saw lines without a host) adds its counts, nothing else.
			if (!this.named.has(node) && (this.packets.get(node) ?? 0) === 0) continue;
			// Each node's chains are its own: the graph names them node/table:chain.
			const rename = (id: string) => (node ? `${node}/${id}` : id);
			for (const n of s.graph.nodes) graph.nodes.push({...n, id: rename(n.id)});
			for (const e of s.graph.edges) graph.edges.push({...e, from: rename(e.from), to: rename(e.to)});
			for (const f of s.findings) findings.push(node ? {...f, node} : f);
			rulesLoaded += s.rulesLoaded;
		}
		// Journeys whose packet never arrived: lost between the nodes, when the node it went to has a trace.
		const lost = new Map<string, {left: Leaving[]; toward: string | undefined}>();
		const ended = this.ended.size === this.pipelines.size;
		if (ended) {
			for (const left of this.open) {
				if (left.journey) continue;
				const toward = left.outer ? this.owner.get(left.outer.dst) : undefined;
				const k = `${left.ref.node}|${left.flow}`;
				const entry = lost.get(k) ?? {left: [], toward};
				entry.left.push(left);
				lost.set(k, entry);
			}
		}
		const journeys = [...this.journeys];
		for (const {left, toward} of lost.values()) {
			for (const l of left) {
				if (journeys.length >= this.maxJourneys) break;
				// Sent after the other node's trace ended: not lost, unknown.
				const peerEnd = toward === undefined ? undefined : this.onReference(toward, this.lastTime.get(toward));
				const leftAt = this.onReference(l.ref.node, l.time);
				const unknown = !l.outer?.received && peerEnd !== undefined && leftAt !== undefined && peerEnd < leftAt;
				journeys.push({
					from: l.ref,
					wire: {kind: overlayKind(l), device: l.device, ...(l.outer ? {outer: {src: l.outer.src, dst: l.outer.dst, ...(l.outer.sent ? {sent: l.outer.sent} : {}), ...(l.outer.received ? {received: l.outer.received} : {})}} : {})},
					verdict: unknown ? 'trace-ended' : 'lost',
					what: l.what,
					...(toward ? {toward} : {}),
				});
			}
		}
		for (const [, d] of this.drops) {
			const j = d.journey;
			findings.push({
				kind: 'dropped-at-peer',
				severity: 'error',
				node: j.to!.node,
				message: `${d.count === 1 ? 'a packet' : `${d.count} packets`} ${d.flow} sent from ${j.from.node} over ${j.wire.device} arrived at ${j.to!.node} and ${d.count === 1 ? 'was' : 'were'} dropped there at ${d.where}${d.rule ? ` (${d.rule})` : ''}`,
				hint: `${j.from.node} did its part: the packet left by ${j.wire.device} and arrived at ${j.to!.node}${j.wire.outer ? ` inside the outer packet ${j.wire.outer.src} → ${j.wire.outer.dst}` : ''}. Fix ${j.to!.node}'s rules: ${d.where} ${d.rule?.startsWith('-P') ? 'is the chain policy: no rule accepted the packet' : 'dropped it'} (its packets ${d.ids.slice(0, 5).map(id => `#${id}`).join(' ')}; sent as ${j.from.node} ${d.from.slice(0, 5).map(id => `#${id}`).join(' ')}).`,
				packets: d.ids,
				rules: [],
			});
		}
		// Packets lost because their outer packets were too big for the underlay (overlay-mtu).
		const tooBig = new Set<string>();
		for (const {left, toward} of lost.values()) {
			const l = left[0]!;
			const peerHasTrace = toward !== undefined && (this.packets.get(toward) ?? 0) > 0;
			const received = left.some(x => x.outer?.received);
			// The other node's trace ends before these packets could arrive: nothing is known of them there.
			const peerEnd = toward === undefined ? undefined : this.onReference(toward, this.lastTime.get(toward));
			const leftAt = this.onReference(l.ref.node, l.time);
			const ended = peerHasTrace && !received && peerEnd !== undefined && leftAt !== undefined && peerEnd < leftAt;
			// Too big for the device that would receive them: they could not arrive, whenever they left.
			const mtu = peerHasTrace && !received ? this.overlayMtu(left, toward, ended) : undefined;
			if (mtu) {
				findings.push(mtu);
				for (const x of left) tooBig.add(`${x.ref.node}#${x.ref.id}`);
				continue;
			}
			if (ended) {
				findings.push({
					kind: 'lost-between-nodes',
					severity: 'info',
					node: l.ref.node,
					message: `${left.length === 1 ? 'a packet' : `${left.length} packets`} ${l.flow} left ${l.ref.node} by ${l.device} after ${toward}'s trace ended: whether ${left.length === 1 ? 'it' : 'they'} arrived is not known`,
					hint: `Trace ${toward} for as long as ${l.ref.node}, or give the rest of its log.`,
					packets: left.map(x => x.ref.id).slice(0, 10_000),
					rules: [],
				});
				continue;
			}
			findings.push({
				kind: 'lost-between-nodes',
				severity: peerHasTrace ? 'error' : 'warning',
				node: l.ref.node,
				message: `${left.length === 1 ? 'a packet' : `${left.length} packets`} ${l.flow} left ${l.ref.node} by ${l.device}${l.outer ? ` (outer ${l.outer.src} → ${l.outer.dst}${toward ? `, ${toward}` : ''})` : ''} and ${received ? `${left.length === 1 ? 'its outer packet' : 'their outer packets'} arrived, but the packet inside was never traced at ${toward ?? 'the other node'}` : `never arrived${toward ? ` at ${toward}` : ' at a traced node'}`}`,
				hint: received
					? `The outer packet reached ${toward}, so the underlay passed it; the packet inside did not come out of ${toward}'s overlay device: check that the VXLAN id and port and the device's address agree on both nodes, and that ${toward}'s TRACE rule matches the packet inside.`
					: toward
						? `Between ${l.ref.node} and ${toward} something dropped the outer packet: a firewall on the underlay (UDP to the overlay port), a lower MTU on the way (the outer packet is 50 bytes longer), or ${toward}'s INPUT chain refusing the overlay's port.`
						: `The trace of the node behind ${l.outer?.dst ?? l.device} was not given, or holds no packet from this time: add it (--node name=trace,dump).`,
				packets: left.map(x => x.ref.id).slice(0, 10_000),
				rules: [],
			});
		}
		// Replies that went around the node the request came in by.
		const around = this.asymmetric();
		findings.push(...around.findings);
		findings.push(...this.fragmented());
		// One cause, said once: a node's own no-reply for packets that were dropped at the other node,
		// and that node's own dropped finding, give way to the finding across nodes (which takes the
		// rule references of the node's finding).
		const sentDropped = new Set<string>();
		const droppedThere = new Set<string>();
		for (const d of this.drops.values()) {
			for (const id of d.from) sentDropped.add(`${d.journey.from.node}#${id}`);
			for (const id of d.ids) droppedThere.add(`${d.journey.to!.node}#${id}`);
		}
		const covered = (f: Finding, ids: Set<string>) => f.node !== undefined && f.packets.length > 0 && f.packets.every(id => ids.has(`${f.node}#${id}`));
		for (let i = findings.length - 1; i >= 0; i--) {
			const f = findings[i]!;
			if (f.kind === 'no-reply' && (covered(f, sentDropped) || covered(f, tooBig) || covered(f, around.requests))) findings.splice(i, 1);
			else if (f.kind === 'asymmetric-route' && covered(f, around.there)) findings.splice(i, 1);
			else if (f.kind === 'dropped' && covered(f, droppedThere)) {
				const peer = findings.find(x => x.kind === 'dropped-at-peer' && x.node === f.node && f.packets.every(id => x.packets.includes(id)));
				if (peer) {
					peer.rules.push(...f.rules);
					findings.splice(i, 1);
				}
			}
		}
		const shown = this.order.filter(n => this.named.has(n) || (this.packets.get(n) ?? 0) > 0);
		const nodes: NodeInfo[] = shown.map((name, i) => {
			if (i === 0) return {name, packets: this.packets.get(name) ?? 0, clock: 'reference'};
			const o = this.offsets.get(name);
			if (o?.clock === 'given') return {name, packets: this.packets.get(name) ?? 0, clock: 'given', offset: o.offset};
			if (this.walls.has(name) && this.walls.has(shown[0]!)) return {name, packets: this.packets.get(name) ?? 0, clock: 'wall', offset: 0};
			return o ? {name, packets: this.packets.get(name) ?? 0, clock: o.clock, offset: Math.round(o.offset * 1e6) / 1e6} : {name, packets: this.packets.get(name) ?? 0, clock: 'unknown'};
		});
		return {inputs, completed, unparsedCount, unparsed, graph, findings, rulesLoaded, nodes, journeys};
	}
}
