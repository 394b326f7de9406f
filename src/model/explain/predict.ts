/**
 * Predictions: a packet described on the command line, or each packet of a trace predicted from
 * its first trace line, walked through the dump (walk.ts) and shown as the trace would show it;
 * and where a trace parts from its prediction, with the likely reason.
 *
 * Input:  explainPacket(index, {proto:'TCP', src:'198.18.10.2', spt:40990, dst:'198.18.30.10', dpt:80, in:'eth0', state:'new', …})
 * Output: Prediction {hops: [raw:PREROUTING:rule:1 (TRACE), raw:PREROUTING:policy:3, …, nat:POSTROUTING:rule:1 (MASQUERADE)], verdict:'ACCEPT', …}
 * Input:  predictForPacket(packet #1 of testdata/dmesg/fwd-dnat-masq/dmesg.log, index, knowledge)
 * Output: the same walk from the first trace line, as the kernel prints it (nothing before the
 *         TRACE rule, `return:1` for TW-USER's unconditional RETURN); compareWithTrace → null (agrees)
 *
 * With a trace, a random pick (statistic) and a condition on what the trace shows but the input
 * to the walk does not (the socket's owner, a protocol xtables-monitor does not print, the route
 * back for rpfilter) follow the trace: of the two ways, the one whose hops agree longer with the
 * traced hops. What only the dump could tell (ipset contents, rate limits, payload matches) is
 * assumed, never followed: a trace that disagrees there says so in its divergence.
 */
import {ipFamily, type RuleIndex} from '../join.js';
import {endpoint} from '../../netfilter/addr.js';
import type {Hop, HopKind, Packet} from '../types.js';
import {evaluate} from './evaluate.js';
import {sentByHost, TraceKnowledge} from './learn.js';
import {iptablesSource, protoName, type Condition, type RuleSource, type WalkRule} from './source.js';
import type {Branch, BranchChoice, CtInput, CtState, Divergence, DivergenceReason, Evaluation, PacketView, Prediction, Probe, RouteResult, Routing, Step, TraceStyle, Uncertain, UnknownKind} from './types.js';
import {walk, type WalkResult} from './walk.js';

/** IPv6 extension headers as protocol numbers: hop-by-hop options, routing, fragment, destination options. */
const IPV6_EXTENSION: ReadonlySet<string> = new Set(['0', '43', '44', '60']);

/** With a trace: the kinds of unknown the trace decides. */
const FOLLOW: ReadonlySet<UnknownKind> = new Set(['statistic', 'packet', 'owner', 'routing']);
/** Following a trace: candidates kept at each branch point, and walks at most. */
const BEAM = 4;
const MAX_WALKS = 64;
/** Branches enumerated for random picks without a trace. */
const MAX_BRANCHES = 64;

/** A packet described on the command line. */
export interface ExplainInput {
	readonly family: 'ipv4' | 'ipv6';
	/** Kernel spelling: TCP, UDP, ICMP, ICMPv6, or a number. */
	readonly proto: string;
	readonly src: string;
	readonly dst: string;
	readonly spt?: number;
	readonly dpt?: number;
	readonly in?: string;
	readonly out?: string;
	readonly fromHost: boolean;
	readonly tcpFlags?: readonly string[];
	readonly icmp?: {readonly type: number; readonly code?: number};
	readonly state: CtState;
	readonly mark: number;
	readonly locals: readonly string[];
	readonly len?: number;
	/** A bridged packet: the bridge ports it came in and goes out by (`-m physdev`). */
	readonly physin?: string;
	readonly physout?: string;
}

/** `0x4000`, or undefined for 0 (the kernel prints MARK= only when it is not 0). */
function markText(mark: number): string | undefined {
	return mark === 0 ? undefined : `0x${mark.toString(16)}`;
}

function tailRule(s: Step): string {
	if (s.base) return s.nft ? `policy ${s.target.toLowerCase()}` : `-P ${s.chain} ${s.target}`;
	return `(end of ${s.chain}: return to the calling chain)`;
}

function kindOf(s: Step, style: TraceStyle | 'all'): HopKind {
	if (s.kind === 'tail') return s.base ? 'policy' : 'return';
	if (style === 'nft') return 'rule';
	return s.rule?.standardTail ? (s.base ? 'policy' : 'return') : 'rule';
}

function hopOf(s: Step, style: TraceStyle | 'all'): Hop {
	const p = s.packet;
	const mark = markText(p.mark);
	return {
		table: s.table,
		chain: s.chain,
		kind: kindOf(s, style),
		num: s.pos,
		ref: {input: -1, line: 0},
		hook: s.hook,
		in: p.in ?? '',
		out: p.out ?? '',
		src: p.src,
		dst: p.dst,
		...(p.spt === undefined ? {} : {spt: p.spt}),
		...(p.dpt === undefined ? {} : {dpt: p.dpt}),
		...(mark ? {mark} : {}),
		rule: s.rule ? s.rule.text : tailRule(s),
		target: s.target,
		ruleFrom: 'dump',
		...(s.line === undefined ? {} : {ruleLine: s.line}),
		...(s.note ? {note: s.note} : {}),
	};
}

function hopKey(h: Pick<Hop, 'table' | 'chain' | 'kind' | 'num'>): string {
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}`;
}

/**
 * Do a predicted hop and a traced one name the same place? A traced hop whose position was not
 * found in the dump agrees on the chain and kind, unless the trace printed the rule in
 * iptables-save syntax (xtables-monitor) and it is not the predicted rule: a rule the dump does not have.
 */
export function sameHop(p: Pick<Hop, 'table' | 'chain' | 'kind' | 'num' | 'rule'>, t: Hop): boolean {
	if (p.table !== t.table || p.chain !== t.chain || p.kind !== t.kind) return false;
	if (t.num !== null) return p.num === t.num;
	return !(t.ruleFrom === 'trace' && t.rule && /^-A /.test(t.rule) && p.rule && ruleWords(t.rule) !== ruleWords(p.rule));
}

/** A rule's words, quotes and spacing aside. */
function ruleWords(text: string): string {
	return text.replace(/"/g, '').split(/\s+/).filter(Boolean).join(' ');
}

/** A frame only the bridge family's hooks saw (ARP, or IPv6 without br_netfilter): nothing of its path is in an iptables dump. */
export function bridgeOnly(packet: Packet): boolean {
	return packet.hops.length > 0 && packet.hops.every(h => h.bridge || h.kind === 'log') && packet.hops.some(h => h.bridge);
}

/** The traced hops a prediction is compared with: -j LOG lines are not part of the path, and the bridge family's hops are in no iptables dump. */
export function tracedHops(packet: Packet): Hop[] {
	return packet.hops.filter(h => h.kind !== 'log' && !h.bridge);
}

/** The steps a trace of this style shows: from where TRACE turned tracing on; nft shows no implicit return from a user chain. */
function visibleSteps(steps: readonly Step[], style: TraceStyle | 'all', traced?: readonly Hop[]): Step[] {
	if (style === 'all') return [...steps];
	let start = style === 'kernel' ? steps.findIndex(s => s.tracing) : steps.findIndex(s => s.startsTrace || s.tracing);
	// A kernel trace prints the TRACE rule that turned tracing on only for a packet traced already
	// (the looped-back copy of a multicast packet the host sent keeps its trace flag).
	const first = traced?.[0];
	if (style === 'kernel' && first?.kind === 'rule' && first.target === 'TRACE' && !(start !== -1 && sameHop(hopOf(steps[start]!, style), first))) {
		const at = steps.findIndex(s => s.startsTrace && sameHop(hopOf(s, style), first));
		if (at !== -1) start = at;
	}
	if (start === -1) {
		// No TRACE rule on the predicted path: start where the trace starts.
		const first = traced?.[0];
		start = first ? steps.findIndex(s => sameHop(hopOf(s, style), first)) : -1;
		if (start === -1) start = 0;
	}
	const out = steps.slice(start);
	return style === 'nft' ? out.filter(s => s.kind === 'rule' || s.base) : out;
}

/** How far a predicted path agrees with the traced one: hops in common from the start, FULL_AGREEMENT and more when it is the whole path. */
const FULL_AGREEMENT = 1_000_000;

/** The step as sameHop sees a hop: where it is and, for a rule, its text. */
function stepAsHop(s: Step, style: TraceStyle | 'all'): Pick<Hop, 'table' | 'chain' | 'kind' | 'num' | 'rule'> {
	return {table: s.table, chain: s.chain, kind: kindOf(s, style), num: s.pos, rule: s.rule ? s.rule.text : tailRule(s)};
}

function stepAgreement(steps: readonly Step[], style: TraceStyle | 'all', traced: readonly Hop[]): number {
	let i = 0;
	while (i < steps.length && i < traced.length && sameHop(stepAsHop(steps[i]!, style), traced[i]!)) i++;
	return i === steps.length && i === traced.length ? i + FULL_AGREEMENT : i;
}

function dedupe(list: readonly Uncertain[]): Uncertain[] {
	const seen = new Set<string>();
	const out: Uncertain[] = [];
	for (const u of list) {
		const k = `${u.table}:${u.chain}:${u.num}|${u.match}|${u.assumed}`;
		if (!seen.has(k)) {
			seen.add(k);
			out.push(u);
		}
	}
	return out;
}

function choicesOf(r: WalkResult): BranchChoice[] {
	return r.points.map(({point, taken}) => ({
		table: point.table,
		chain: point.chain,
		num: point.num,
		matched: taken,
		...(point.probability === undefined ? {} : {probability: taken ? point.probability : 1 - point.probability}),
	}));
}

/**
 * A dump can list a chain the kernel did not have while tracing. iptables-nft creates a built-in
 * chain only when a rule or a policy needs it, and iptables-nft-save lists every built-in chain
 * of a table anyway; legacy tables exist in a network namespace once something uses them, and
 * iptables-legacy-save run after the traffic is such a use (the dump then lists a table with
 * every counter 0 that no trace line shows). An empty chain with policy ACCEPT changes nothing, so
 * with a trace that does not show it (nft), or shows nothing of its table (kernel), the
 * prediction leaves it out too.
 */
function withoutAbsentChains(steps: Step[], style: TraceStyle | 'all', traced?: readonly Hop[]): Step[] {
	if (style === 'all' || !traced) return steps;
	const seen = new Set(traced.map(h => (style === 'nft' ? `${h.table}:${h.chain}` : h.table)));
	return steps.filter(s => !(s.kind === 'tail' && s.base && s.pos === 1 && s.target === 'ACCEPT' && !seen.has(style === 'nft' ? `${s.table}:${s.chain}` : s.table)));
}

function toPrediction(r: WalkResult, ct: CtInput, style: TraceStyle | 'all', traced?: readonly Hop[]): Prediction {
	const steps = withoutAbsentChains(visibleSteps(r.steps, style, traced), style, traced);
	return {
		hops: steps.map(s => hopOf(s, style)),
		steps,
		verdict: r.verdict,
		verdictBasis: r.verdictBasis,
		route: r.route,
		nat: r.nat,
		uncertain: dedupe(r.uncertain),
		ct,
		ctmarkAfter: r.ctmark,
		after: r.packet,
		choices: choicesOf(r),
		evaluated: r.evaluated,
		style,
	};
}

/** Routing as the command line gives it: `--out`, `--local`. */
export function givenRouting(input: {readonly out?: string; readonly locals: readonly string[]; readonly fromHost: boolean; readonly src: string; readonly outBasis?: string}): Routing {
	const locals = new Set(input.locals);
	if (input.fromHost) locals.add(input.src);
	return {
		knowsLocals: locals.size > 0,
		isLocal: addr => (locals.has(addr) ? true : locals.size > 0 ? false : undefined),
		outFor: () => undefined,
		route(dst): RouteResult {
			if (input.out !== undefined && !(input.fromHost && locals.has(dst))) return {kind: 'forward', out: input.out, basis: input.outBasis ?? `--out ${input.out}`};
			if (locals.has(dst)) return {kind: 'local', basis: `${dst} is a local address (--local)`};
			return {kind: 'forward', out: undefined, basis: locals.size > 0 ? `${dst} is not a local address; no --out given` : 'no --local and no --out given: taken as forwarded, out an interface not known'};
		},
	};
}

/** A packet described on the command line, through the dump. */
export function explainPacket(index: RuleIndex, input: ExplainInput): Prediction {
	const source = iptablesSource(index, input.family);
	const probe: Probe = {
		family: input.family,
		proto: input.proto,
		src: input.src,
		dst: input.dst,
		...(input.spt === undefined ? {} : {spt: input.spt}),
		...(input.dpt === undefined ? {} : {dpt: input.dpt}),
		...(input.tcpFlags ? {tcpFlags: input.tcpFlags} : {}),
		...(input.icmp ? {icmp: input.icmp} : {}),
		...(input.fromHost ? {in: ''} : input.in === undefined ? {} : {in: input.in}),
		...(input.out === undefined ? {} : {out: input.out}),
		mark: input.mark,
		...(input.fromHost ? {} : {uid: null, gid: null}),
		...(input.len === undefined ? {} : {len: input.len}),
		...(input.physin === undefined ? {} : {physin: input.physin}),
		...(input.physout === undefined ? {} : {physout: input.physout}),
		df: true,
	};
	const ct = ctFromState(input.state, input.src, input.dst, input.spt, input.dpt);
	const routing = givenRouting(input);
	const run = (script: readonly boolean[]) => walk({source, probe, from: input.fromHost ? 'host' : 'in', ct, routing, loopback: true, choose: (_p, i) => script[i]});

	// Every way the random picks can go, most likely first.
	const results: Array<{r: WalkResult; probability: number}> = [];
	const queue: boolean[][] = [[]];
	while (queue.length > 0 && results.length < MAX_BRANCHES) {
		const script = queue.shift()!;
		const r = run(script);
		const probability = r.points.reduce((p, {point, taken}) => (point.probability === undefined ? p : p * (taken ? point.probability : 1 - point.probability)), 1);
		results.push({r, probability});
		for (let j = script.length; j < r.points.length; j++) {
			const alt = r.points[j]!;
			if (alt.point.probability === undefined) continue;
			queue.push([...r.points.slice(0, j).map(x => x.taken), !alt.taken]);
		}
	}
	results.sort((a, b) => b.probability - a.probability);
	const best = results[0]!;
	const prediction = toPrediction(best.r, ct, 'all');
	if (results.length === 1) return prediction;
	const branches: Branch[] = results.map(({r, probability}) => {
		const p = toPrediction(r, ct, 'all');
		return {probability, choices: p.choices, hops: p.hops, verdict: p.verdict, verdictBasis: p.verdictBasis, nat: p.nat};
	});
	return {...prediction, branches};
}

/** The ICMP type of the answer to a query (echo, timestamp, …), or the type itself. */
export function replyIcmp(proto: string, icmp: {readonly type: number; readonly code?: number}): {type: number; code?: number} {
	const v4: Record<number, number> = {8: 0, 13: 14, 15: 16, 17: 18};
	const v6: Record<number, number> = {128: 129};
	const t = (proto === 'ICMPv6' ? v6 : v4)[icmp.type];
	return t === undefined ? {...icmp} : {type: t, code: 0};
}

/**
 * The reply of the connection `input` opens, after `original` (its first packet, explainPacket):
 * from where the first packet went (after its DNAT) back to where it came from, arriving on the
 * interface it left by; conntrack gives it state established and undoes the connection's NAT
 * (its SNAT in PREROUTING, its DNAT in POSTROUTING or INPUT). With random picks, the reply of the
 * most likely branch.
 */
export function explainReply(index: RuleIndex, input: ExplainInput, original: Prediction): Prediction {
	const source = iptablesSource(index, input.family);
	const a = original.after;
	const dnat = a.dst !== input.dst || a.dpt !== input.dpt;
	const snatted = original.nat.find(n => n.type === 'SNAT' || n.type === 'MASQUERADE' || (n.type === 'NETMAP' && a.src !== input.src));
	// MASQUERADE's address is the OUT interface's, which a dump does not hold: the reply is shown
	// arriving for the original source, the address conntrack restores at nat's priority (raw and
	// mangle PREROUTING, before it, would see the interface's address; listed as uncertain).
	const replyDst = a.src;
	const origIn = input.fromHost ? '' : (input.in ?? undefined);
	const origOut = original.route?.kind === 'forward' ? original.route.out : input.out;
	const probe: Probe = {
		family: input.family,
		proto: input.proto,
		src: a.dst,
		dst: replyDst,
		...(a.dpt === undefined ? {} : {spt: a.dpt}),
		...(a.spt === undefined ? {} : {dpt: a.spt}),
		...(input.tcpFlags ? {tcpFlags: input.tcpFlags.includes('SYN') ? ['SYN', 'ACK'] : ['ACK']} : {}),
		...(input.icmp ? {icmp: replyIcmp(input.proto, input.icmp)} : {}),
		...(origOut === undefined ? {} : {in: origOut}),
		mark: 0,
		uid: null,
		gid: null,
		df: true,
	};
	const orig = {src: input.src, dst: input.dst, ...(input.spt === undefined ? {} : {spt: input.spt}), ...(input.dpt === undefined ? {} : {dpt: input.dpt})};
	const ct: CtInput = {
		state: 'established',
		dir: 'reply',
		first: false,
		seenReply: true,
		orig,
		ctmark: original.ctmarkAfter,
		snatDone: Boolean(snatted),
		dnatDone: dnat,
		...(dnat ? {dnat: {addr: a.dst, ...(a.dpt === undefined ? {} : {port: a.dpt})}} : {}),
		...(snatted ? {unsnat: {addr: input.src, ...(input.spt === undefined ? {} : {port: input.spt})}} : {}),
		basis: `the reply of the connection ${endpoint(input.src, input.spt)} → ${endpoint(input.dst, input.dpt)} (--reply)${original.branches ? ', its most likely branch' : ''}`,
	};
	const locals = new Set(input.locals);
	if (input.fromHost) locals.add(input.src);
	const routing = givenRouting({...(origIn ? {out: origIn, outBasis: `back out ${origIn}, where the connection's first packet came in`} : {}), locals: [...locals], fromHost: false, src: probe.src});
	const r = walk({source, probe, from: 'in', ct, routing});
	const prediction = toPrediction(r, ct, 'all');
	if (!snatted || snatted.type !== 'MASQUERADE') return prediction;
	const note: Uncertain = {
		table: 'nat',
		chain: 'POSTROUTING',
		num: 0,
		rule: '',
		match: `the reply's destination (${snatted.to})`,
		kind: 'packet',
		why: `the reply comes back to the address MASQUERADE chose (${snatted.to}), which a dump does not hold; it is shown arriving for ${replyDst}, the address conntrack restores`,
		assumed: 'match',
	};
	return {...prediction, uncertain: [note, ...prediction.uncertain]};
}

function ctFromState(state: CtState, src: string, dst: string, spt?: number, dpt?: number): CtInput {
	const orig = {src, dst, ...(spt === undefined ? {} : {spt}), ...(dpt === undefined ? {} : {dpt})};
	switch (state) {
		case 'new':
			return {state, dir: 'original', first: true, orig, basis: '--state new: a connection\'s first packet'};
		case 'established':
			return {state, dir: 'original', first: false, seenReply: true, orig, basis: '--state established: a later packet of a connection that saw a reply (original direction)'};
		default:
			return {state, dir: 'original', first: false, orig, basis: `--state ${state}`};
	}
}

/** The packet as its first trace line shows it. */
export function probeOf(packet: Packet): Probe {
	const f = packet.first;
	// A frame the bridge hooks saw first: the walk starts at its first IP hook, and its bridge
	// ports are what -m physdev sees (br_netfilter).
	const bridged = packet.hops.some(h => h.bridge);
	const first = bridged ? (packet.hops.find(h => !h.bridge && h.kind !== 'log') ?? packet.hops[0]) : packet.hops[0];
	const physin = f.physin ?? (bridged ? packet.hops.find(h => h.bridge && h.in)?.in : undefined);
	const physout = f.physout ?? (bridged ? packet.hops.findLast(h => h.bridge && h.out)?.out : undefined);
	// An IPv6 packet whose first next header is an extension header (nft monitor prints `nexthdr ip`
	// for the hop-by-hop header of an MLD message): ip6tables' -p matches the protocol after the
	// extension headers, which the trace does not show.
	const extension = packet.family === 'ipv6' && IPV6_EXTENSION.has(protoName(packet.proto) ?? '');
	const proto = packet.proto === 'unknown' || extension ? undefined : packet.proto;
	const mark = f.mark ? Number.parseInt(f.mark.replace(/^0x/, ''), 16) >>> 0 : 0;
	const macsrc = f.macsrc ?? (f.mac && /^([\da-f]{2}:){13}[\da-f]{2}$/i.test(f.mac) ? f.mac.split(':').slice(6, 12).join(':') : undefined);
	// The kernel prints UID=/GID= for every packet with a socket: a kernel line without them has none.
	// xtables-monitor and nft print no owner: not known.
	const uid = f.uid ?? (packet.format === 'kernel' ? null : undefined);
	const gid = f.gid ?? (packet.format === 'kernel' ? null : undefined);
	// nft monitor prints no IP flags; the kernel and xtables-monitor print DF when set.
	const df = packet.family === 'ipv6' ? true : f.ipFlags ? f.ipFlags.includes('DF') : packet.format === 'nft-monitor' ? undefined : false;
	return {
		family: ipFamily(packet) === 'ipv6' ? 'ipv6' : 'ipv4',
		...(proto ? {proto} : {}),
		...(proto === undefined && f.spt === undefined && f.dpt === undefined ? {portless: true} : {}),
		src: first?.src ?? packet.src,
		dst: first?.dst ?? packet.dst,
		...((first?.spt ?? packet.spt) === undefined ? {} : {spt: first?.spt ?? packet.spt}),
		...((first?.dpt ?? packet.dpt) === undefined ? {} : {dpt: first?.dpt ?? packet.dpt}),
		...(packet.tcpFlags && proto === 'TCP' ? {tcpFlags: packet.tcpFlags} : {}),
		...(packet.icmp ? {icmp: {type: packet.icmp.type, ...(packet.icmp.code === undefined ? {} : {code: packet.icmp.code})}} : {}),
		in: first?.in ?? f.in ?? '',
		...((first?.out ?? f.out) ? {out: first?.out ?? f.out} : {}),
		...(physin ? {physin} : {}),
		...(physout ? {physout} : {}),
		mark,
		...(uid === undefined ? {} : {uid}),
		...(gid === undefined ? {} : {gid}),
		...(macsrc ? {macsrc} : {}),
		...(f.len === undefined ? {} : {len: f.len}),
		...(df === undefined ? {} : {df}),
		...(f.fragOffset ? {fragment: true} : {}),
	};
}

/** How the packet's trace format prints a path. */
export function styleOf(packet: Packet): TraceStyle {
	return packet.format === 'kernel' ? 'kernel' : 'nft';
}

/**
 * A traced packet predicted from its first trace line: its state from the connection seen so far
 * (`knowledge` has learned the trace's packets up to this one, at least), routing and local
 * addresses from the whole trace as far as `knowledge` has seen it. Without `knowledge`, from
 * this packet alone (a first packet; routing from its own hops).
 */
export function predictForPacket(packet: Packet, index: RuleIndex, knowledge?: TraceKnowledge, source?: RuleSource): Prediction {
	const k = knowledge ?? new TraceKnowledge();
	k.learn(packet);
	return predictWith(source ?? iptablesSource(index, ipFamily(packet) === 'ipv6' ? 'ipv6' : 'ipv4'), packet, k);
}

function predictWith(source: RuleSource, packet: Packet, k: TraceKnowledge): Prediction {
	const probe = probeOf(packet);
	const ct = k.stateFor(packet);
	const style = styleOf(packet);
	const traced = tracedHops(packet);
	const from = sentByHost(packet) ? 'host' : 'in';
	// Sent here and first seen in POSTROUTING: the copy of a multicast packet the host loops back.
	const firstHook = packet.hops[0]?.hook ?? packet.hops[0]?.chain;
	const start = from === 'host' && firstHook === 'POSTROUTING' ? ('POSTROUTING' as const) : undefined;
	const run = (script: readonly boolean[]) => walk({source, probe, from, ct, routing: k, follow: FOLLOW, ...(start ? {start} : {}), choose: (_p, i) => script[i]});
	// Compared step by step (a hop object is made only for the prediction kept).
	const score = (r: WalkResult) => stepAgreement(withoutAbsentChains(visibleSteps(r.steps, style, traced), style, traced), style, traced);
	// Every branch point its preferred way: when that agrees with the trace, no other way can do better.
	const first = run([]);
	let best = {script: [] as boolean[], r: first, score: score(first)};
	// Else a narrow search over the branch points in order: each candidate's next point both ways,
	// the BEAM that agree longest with the trace kept (on a tie, the preferred ways first). Two
	// points may have to change together (a state not known, then a protocol not known).
	let beam = [best];
	let walks = 1;
	while (best.score < FULL_AGREEMENT && walks < MAX_WALKS) {
		const next: typeof beam = [];
		for (const c of beam) {
			const point = c.r.points[c.script.length];
			if (!point || c.script.length >= 64) {
				next.push(c);
				continue;
			}
			next.push({script: [...c.script, point.taken], r: c.r, score: c.score});
			const alt = run([...c.script, !point.taken]);
			walks++;
			next.push({script: [...c.script, !point.taken], r: alt, score: score(alt)});
		}
		next.sort((a, b) => b.score - a.score);
		beam = next.slice(0, BEAM);
		if (beam[0]!.score > best.score) best = beam[0]!;
		if (beam.every(c => !c.r.points[c.script.length] || c.script.length >= 64)) break;
	}
	const r = best.r;
	return toPrediction(r, ct, style, traced);
}

export interface TraceExplained {
	readonly packet: Packet;
	readonly prediction: Prediction;
	readonly divergence: Divergence | null;
}

/**
 * Every packet of a trace (in id order) predicted and compared: what `explain --trace` does.
 * The trace is learned first (routes, local addresses: the trace is the only routing table),
 * then each packet is predicted with the state its connection had before it.
 */
export function explainTrace(packets: readonly Packet[], index: RuleIndex): TraceExplained[] {
	// Every packet of every connection kept: each is asked about after the whole trace was learned.
	const k = new TraceKnowledge({membersKept: Number.POSITIVE_INFINITY});
	for (const p of packets) k.learn(p);
	const sources = new Map<string, RuleSource>();
	const out: TraceExplained[] = [];
	for (const p of packets) {
		// A frame only the bridge family's hooks saw has no path in an iptables dump to predict.
		if (bridgeOnly(p)) continue;
		const fam = ipFamily(p) === 'ipv6' ? 'ipv6' : 'ipv4';
		let source = sources.get(fam);
		if (!source) sources.set(fam, (source = iptablesSource(index, fam)));
		const prediction = predictWith(source, p, k);
		k.recordCtmark(p.id, prediction.ctmarkAfter);
		out.push({packet: p, prediction, divergence: compareWithTrace(p, prediction, source)});
	}
	return out;
}

/** Where the trace parts from the prediction, and the likely reason; null when they agree hop for hop. */
export function compareWithTrace(packet: Packet, prediction: Prediction, source?: RuleSource): Divergence | null {
	const traced = tracedHops(packet);
	const pred = prediction.hops;
	let i = 0;
	while (i < pred.length && i < traced.length && sameHop(pred[i]!, traced[i]!)) i++;
	if (i === pred.length && i === traced.length) return null;
	const p = pred[i] ?? null;
	const t = traced[i] ?? null;
	const {reason, why} = likelyReason(packet, prediction, i, source);
	const said = (h: Hop | null, what: string) => (h ? `${what} ${hopKey(h)}${h.target ? ` (${h.target})` : ''}` : `${what} nothing more`);
	const message = `hop ${i + 1}: ${said(p, 'predicted')}, ${said(t, 'traced')}; likely ${REASON_WORDS[reason]}: ${why}`;
	return {at: i, predicted: p, traced: t, reason, message};
}

const REASON_WORDS: Readonly<Record<DivergenceReason, string>> = {
	'rules-changed': 'a stale dump',
	'set-contents': "a set's contents unknown",
	'match-state': 'a rate limit or counter',
	'not-modelled': 'a match not modelled',
	'packet-unknown': 'something the trace does not show',
	routing: 'routing',
	state: 'connection state or marks',
	'trace-ended': 'the trace ended',
	unknown: 'not known',
};

const REASON_OF_KIND: Readonly<Record<UnknownKind, DivergenceReason>> = {
	set: 'set-contents',
	state: 'match-state',
	content: 'not-modelled',
	owner: 'packet-unknown',
	packet: 'packet-unknown',
	routing: 'routing',
	'not-modelled': 'not-modelled',
	statistic: 'unknown',
};

/** Conditions on the packet's own fields, which a trace line shows: the ones that tell a stale dump. */
const STATIC = new Set<Condition['kind']>(['addr', 'addrRange', 'iface', 'proto', 'protoIn', 'ports', 'tcpFlags', 'icmpType']);
/** Conditions on state the walk keeps (conntrack, marks). */
const STATEFUL = new Set<Condition['kind']>(['ctstate', 'ctstatus', 'ctdir', 'ctaddr', 'mark', 'connmark']);

/** Does the dump's rule contradict the packet as the traced hop shows it (its addresses, ports, interfaces, protocol)? Names the condition. */
function contradicts(rule: WalkRule, hop: Hop, probe: Probe): string | undefined {
	const pkt: PacketView = {in: hop.in, out: hop.out, src: hop.src ?? probe.src, dst: hop.dst ?? probe.dst, ...(hop.spt === undefined ? {} : {spt: hop.spt}), ...(hop.dpt === undefined ? {} : {dpt: hop.dpt}), mark: 0};
	const ctx = {probe, pkt, ct: {state: undefined, dir: 'original' as const, first: false}, ctState: undefined, ctmark: 0, snatDone: false, dnatDone: false, routing: NO_ROUTING, hook: hop.hook ?? 'PREROUTING'} as const;
	for (const c of rule.conditions) {
		if (!STATIC.has(c.kind)) continue;
		const d = evaluate(c, ctx);
		if (d.known && !d.value) return c.text;
	}
	return undefined;
}

const NO_ROUTING: Routing = {knowsLocals: false, isLocal: () => undefined, outFor: () => undefined, route: () => ({kind: 'forward', out: undefined, basis: ''})};

function likelyReason(packet: Packet, prediction: Prediction, i: number, source: RuleSource | undefined): {reason: DivergenceReason; why: string} {
	const traced = tracedHops(packet);
	const t = traced[i];
	const s = prediction.steps[i];
	const probe = probeOf(packet);
	const src = source ?? undefined;

	// 1. The trace names what the dump does not have, or a rule that cannot be the one that matched.
	if (t?.note && /ruleset changed|does not match the trace|not in the .* dump/.test(t.note)) return {reason: 'rules-changed', why: t.note};
	if (t && src) {
		const chain = src.chain(t.table, t.chain);
		if (!chain) return {reason: 'rules-changed', why: `the trace passes ${t.table}:${t.chain}, which the dump does not have`};
		if (t.kind === 'rule' && t.num === null && t.ruleFrom === 'trace' && t.rule && /^-A /.test(t.rule)) {
			return {reason: 'rules-changed', why: `the trace shows the rule ${t.rule}, which ${t.table}:${t.chain} in the dump does not have: it was added since the dump`};
		}
		if (t.kind === 'rule' && t.num !== null) {
			const rule = chain.rules[t.num - 1];
			if (!rule) return {reason: 'rules-changed', why: `the trace names rule ${t.num} of ${t.table}:${t.chain}, which has ${chain.rules.length} rule(s) in the dump`};
			const bad = contradicts(rule, t, probe);
			if (bad) return {reason: 'rules-changed', why: `rule ${t.num} of ${t.table}:${t.chain} in the dump (${rule.text}) cannot match the packet the trace shows there (${bad}): the rules moved since the dump`};
		}
	}

	// 2. The trace stops.
	if (!t) {
		if (packet.refusedBy !== undefined) return {reason: 'routing', why: `routing refused the packet (the host sent the ICMP error #${packet.refusedBy})`};
		const last = traced.at(-1);
		// xtables-monitor prints every rule as `-A CHAIN …`: a line without it was cut (the tool exited mid-line).
		if (last && packet.format === 'xtables-monitor' && last.ruleFrom === 'trace' && !/(^|\s)-A\s/.test(last.rule ?? '')) {
			return {reason: 'trace-ended', why: `the last trace line of the packet (${hopKey(last)}) is cut: xtables-monitor stopped there`};
		}
		// Its last line is a bridge hook's: the bridge family's rules, in no iptables dump, had the last word.
		const end = packet.hops.at(-1);
		if (end?.bridge) {
			const at = end.table ? `${end.table}:${end.chain}` : 'a bridge hook';
			const said = end.traceVerdict === 'DROP' ? `a bridge rule dropped it at ${at}` : `the bridge logged it last at ${at} (a bridge rule after the log rule may have dropped it)`;
			return {reason: 'trace-ended', why: `the trace shows no more of this packet: ${said}; the bridge family's rules are in no iptables dump`};
		}
		return {reason: 'trace-ended', why: 'the trace shows no more of this packet: the tracer stopped, or the kernel dropped it outside the rules (routing, rp_filter)'};
	}

	// 3. The rules the walk weighed between the last hop both agree on and this one.
	const from = i > 0 ? (prediction.steps[i - 1]?.index ?? -1) : -1;
	const to = s ? s.index : Number.POSITIVE_INFINITY;
	const window = prediction.evaluated.filter(e => e.at > from && e.at <= to);
	const tracedEval = t.kind === 'rule' ? window.find(e => e.table === t.table && e.chain === t.chain && e.pos === t.num) : undefined;
	const explainEval = (e: Evaluation, skipped: boolean): {reason: DivergenceReason; why: string} | undefined => {
		if (e.by !== 'decided' && e.unknowns.length > 0) {
			const u = e.unknowns.find(x => x.assumed !== 'followed the trace' && x.assumed !== 'branch') ?? e.unknowns[0]!;
			return {reason: REASON_OF_KIND[u.kind], why: `rule ${e.pos} of ${e.table}:${e.chain} was ${skipped ? 'taken not to match' : 'taken to match'}: ${u.match}: ${u.why}`};
		}
		return undefined;
	};
	if (tracedEval) {
		const r = explainEval(tracedEval, true);
		if (r) return r;
		if (tracedEval.failed) {
			const rule = src?.chain(t.table, t.chain)?.rules[(t.num ?? 1) - 1];
			const cond = rule?.conditions.find(c => c.text === tracedEval.failed);
			if (cond && STATEFUL.has(cond.kind)) return {reason: 'state', why: `the trace matched rule ${t.num} of ${t.table}:${t.chain}, but the walk had the packet fail ${tracedEval.failed} (${prediction.ct.basis ?? 'its state'})`};
			if (cond?.kind === 'addrtype' || cond?.kind === 'rpfilter') return {reason: 'routing', why: `the trace matched rule ${t.num} of ${t.table}:${t.chain}; the walk decided ${tracedEval.failed} otherwise`};
			return {reason: 'state', why: `the trace matched rule ${t.num} of ${t.table}:${t.chain}, but the packet as the walk had it there failed ${tracedEval.failed}`};
		}
	}
	if (s?.kind === 'rule') {
		const e = window.filter(x => x.table === s.table && x.chain === s.chain && x.pos === s.pos).at(-1);
		const r = e && explainEval(e, false);
		if (r) return r;
		const rule = s.rule;
		if (rule && rule.conditions.some(c => STATEFUL.has(c.kind))) {
			return {reason: 'state', why: `the walk matched rule ${s.pos} of ${s.table}:${s.chain} (${rule.text}) on conntrack state or marks: ${prediction.ct.basis ?? ''}`};
		}
		if (rule && t.hook === s.hook) return {reason: 'rules-changed', why: `rule ${s.pos} of ${s.table}:${s.chain} in the dump (${rule.text}) matches the packet, yet the kernel did not run it: the rules changed since the dump`};
	}
	if (s && t.hook && s.hook !== t.hook) return {reason: 'routing', why: `the walk went to ${s.hook}, the trace to ${t.hook}: ${prediction.route?.basis ?? 'routing'}`};
	if (!s) {
		if (prediction.route?.kind === 'refused') return {reason: 'routing', why: prediction.route.basis};
		const e = prediction.evaluated.at(-1);
		const r = e && explainEval(e, false);
		if (r) return r;
		return {reason: 'rules-changed', why: `the walk ends (${prediction.verdictBasis}), the trace goes on to ${hopKey(t)}`};
	}
	const any = window.map(e => explainEval(e, !e.matched)).find(Boolean);
	return any ?? {reason: 'unknown', why: `nothing the walk assumed explains it (${prediction.ct.basis ?? ''})`};
}
