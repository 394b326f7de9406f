/**
 * The kernel's walk of one packet through the hooks, tables and chains of a ruleset.
 *
 * Input:  a RuleSource (source.ts), the packet (Probe), where it starts (`in`: it arrives on an
 *         interface; `host`: this host sends it), what conntrack knows (CtInput) and routing
 * Output: the steps it takes (each rule that matches, each chain end), its verdict, its NAT,
 *         every rule looked at and every condition that could not be decided
 *
 * The order is the kernel's (net/netfilter, include/uapi/linux/netfilter_ipv4.h):
 *   arriving:  PREROUTING (raw -300, conntrack -200, mangle -150, nat -100), routing, then
 *              INPUT (mangle, filter, security, nat 100) or FORWARD (mangle, filter, security)
 *              and POSTROUTING (mangle, nat 100);
 *   sent here: routing, OUTPUT (raw, conntrack, mangle, nat -100, filter, security), POSTROUTING.
 * nat chains run for a connection's first packet only; later packets are rewritten by conntrack
 * at the same priorities (DNAT at -100; replies have their SNAT undone there and their DNAT undone
 * at 100). A rule's target acts after the rule's trace line: MARK changes what later rules see,
 * DNAT what the rest of the path sees and where routing sends the packet.
 *
 * A rule whose conditions cannot all be decided either takes the assumption (evaluate.ts) or,
 * for a random pick (statistic) and for what `follow` names, is a branch point: `choose` says
 * which way it goes (the caller enumerates branches, or follows a trace).
 */
import {endpoint, parseAddr, type Cidr} from '../../netfilter/addr.js';
import type {Hook} from '../../netfilter/hooks.js';
import {hasPorts} from '../../netfilter/protocols.js';
import type {NatRewrite, Verdict} from '../types.js';
import {evaluate, type Decision, type EvalContext} from './evaluate.js';
import type {Condition, HookChain, RuleSource, WalkChain, WalkRule} from './source.js';
import type {CtInput, CtState, Evaluation, PacketView, Probe, RouteResult, Routing, Step, Uncertain, UnknownKind} from './types.js';

export interface BranchPoint {
	readonly table: string;
	readonly chain: string;
	readonly num: number;
	/** The probability that the rule matches (a random pick); undefined for a condition followed from a trace. */
	readonly probability?: number;
	/** What the walk does when nobody chooses. */
	readonly preferred: boolean;
}

export interface WalkOptions {
	readonly source: RuleSource;
	readonly probe: Probe;
	readonly from: 'in' | 'host';
	readonly ct: CtInput;
	readonly routing: Routing;
	/** Kinds of unknown that are branch points (besides statistic, always one): with a trace, what the trace shows and the dump cannot. */
	readonly follow?: ReadonlySet<UnknownKind>;
	/** Which way branch point number `index` goes; undefined: the preferred way. */
	readonly choose?: (point: BranchPoint, index: number) => boolean | undefined;
	/**
	 * A packet this host sends to one of its own addresses goes out `lo` and comes back in:
	 * follow it through PREROUTING and INPUT (without the nat chains: its connection exists).
	 * A trace shows that second half as a packet of its own, so only a described packet loops.
	 */
	readonly loopback?: boolean;
	/**
	 * The hook a packet sent here is first seen at: POSTROUTING for the copy of a multicast packet
	 * the host loops back to itself (ip6_finish_output2 sends the clone through POSTROUTING only,
	 * with the connection the original already has).
	 */
	readonly start?: 'POSTROUTING';
}

export interface WalkResult {
	readonly steps: Step[];
	readonly evaluated: Evaluation[];
	readonly verdict: Verdict;
	readonly verdictBasis: string;
	readonly route: RouteResult | undefined;
	readonly nat: NatRewrite[];
	readonly uncertain: Uncertain[];
	readonly points: Array<{readonly point: BranchPoint; readonly taken: boolean}>;
	readonly ctmark: number;
	readonly packet: PacketView;
}

/** ICMPv6 types conntrack never tracks: MLD query, report, done, MLDv2 report; router and neighbour solicitation and advertisement. */
const UNTRACKED_ICMPV6: ReadonlySet<number> = new Set([130, 131, 132, 133, 134, 135, 136, 143]);

/** The kernel's table walk gives up on loops; so does this one, well before memory does. */
const MAX_STEPS = 20_000;
const MAX_DEPTH = 64;

type Mutable<T> = {-readonly [K in keyof T]: T[K]};

/** Where a rule is, in the kernel's words: `nat:KUBE-SEP-X:rule:2`. */
function where(table: string, chain: string, kind: string, num: number): string {
	return `${table}:${chain}:${kind}:${num}`;
}

function netmapAddr(addr: string, to: Cidr): string | undefined {
	const a = parseAddr(addr);
	if (!a || a.v6 !== to.v6) return undefined;
	const width = a.v6 ? 128 : 32;
	const hostBits = BigInt(width - to.bits);
	const hostMask = (1n << hostBits) - 1n;
	const value = (to.value & ~hostMask) | (a.value & hostMask);
	if (!a.v6) return [24n, 16n, 8n, 0n].map(s => String((value >> s) & 0xffn)).join('.');
	const groups: string[] = [];
	for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
	return groups.join(':');
}

class Walker {
	private readonly o: WalkOptions;
	private readonly pkt: Mutable<PacketView>;
	private readonly steps: Step[] = [];
	private readonly evaluated: Evaluation[] = [];
	private readonly uncertain: Uncertain[] = [];
	private readonly nat: NatRewrite[] = [];
	private readonly points: Array<{point: BranchPoint; taken: boolean}> = [];
	private tracing = false;
	private untracked = false;
	private ctAttached = false;
	private ctmark: number;
	private snatDone: boolean;
	private dnatDone: boolean;
	/** REDIRECT or TPROXY sent the packet to this host. */
	private toHost = false;
	private verdict: Verdict | undefined;
	private basis = '';
	private route: RouteResult | undefined;
	private count = 0;
	private firstDecided: boolean | undefined;
	/** Came back in on lo after leaving this host: conntrack already has its connection and NAT. */
	private looped = false;

	constructor(o: WalkOptions) {
		this.o = o;
		const p = o.probe;
		this.pkt = {in: p.in, out: p.out, src: p.src, dst: p.dst, ...(p.spt === undefined ? {} : {spt: p.spt}), ...(p.dpt === undefined ? {} : {dpt: p.dpt}), mark: p.mark};
		this.ctmark = o.ct.ctmark ?? 0;
		this.snatDone = Boolean(o.ct.snatDone);
		this.dnatDone = Boolean(o.ct.dnatDone);
	}

	run(): WalkResult {
		if (this.o.from === 'host') this.fromHost();
		else this.arriving();
		return {
			steps: this.steps,
			evaluated: this.evaluated,
			verdict: this.verdict ?? 'unknown',
			verdictBasis: this.basis,
			route: this.route,
			nat: this.nat,
			uncertain: this.uncertain,
			points: this.points,
			ctmark: this.ctmark,
			packet: {...this.pkt},
		};
	}

	private arriving(): void {
		if (this.pkt.in === '') this.pkt.in = undefined;
		this.pkt.out = '';
		if (!this.hook('PREROUTING')) return;
		const route: RouteResult = this.toHost ? {kind: 'local', basis: 'REDIRECT/TPROXY hands it to this host'} : this.o.routing.route(this.pkt.dst, this.o.probe);
		this.route = route;
		if (route.kind === 'refused') return this.finish('DROP', `not forwarded: ${route.basis}`);
		if (route.kind === 'local') {
			if (!this.hook('INPUT')) return;
			return this.finish('ACCEPT', 'every chain on the way accepted it: delivered to this host (INPUT)');
		}
		this.pkt.out = route.out;
		if (!this.hook('FORWARD') || !this.hook('POSTROUTING')) return;
		this.finish('ACCEPT', `every chain on the way accepted it: forwarded${route.out ? ` out ${route.out}` : ''}`);
	}

	private fromHost(): void {
		this.pkt.in = '';
		const route = this.o.routing.route(this.pkt.dst, this.o.probe);
		this.route = route;
		if (route.kind === 'forward' && route.out !== undefined && !this.pkt.out) this.pkt.out = route.out;
		if (route.kind === 'local' && !this.pkt.out) this.pkt.out = 'lo';
		if (this.o.start === 'POSTROUTING') {
			// The looped-back copy of a multicast packet: its connection (if any) is the original's.
			this.ctAttached = true;
			this.looped = true;
			if (!this.hook('POSTROUTING')) return;
			return this.finish('ACCEPT', 'every chain on the way accepted it: the copy of a multicast packet this host loops back to itself');
		}
		if (!this.hook('OUTPUT') || !this.hook('POSTROUTING')) return;
		const back = this.o.loopback ? this.o.routing.route(this.pkt.dst, this.o.probe) : undefined;
		if (back?.kind === 'local') {
			// Out lo and in again: the same connection, so no nat chain runs on the way in.
			this.looped = true;
			this.pkt.in = 'lo';
			this.pkt.out = '';
			if (!this.hook('PREROUTING') || !this.hook('INPUT')) return;
			return this.finish('ACCEPT', `every chain on the way accepted it: sent to this host's own ${this.pkt.dst} out lo and delivered (INPUT)`);
		}
		this.finish('ACCEPT', `every chain on the way accepted it: sent${this.pkt.out ? ` out ${this.pkt.out}` : ''}`);
	}

	private finish(verdict: Verdict, basis: string): void {
		this.verdict = verdict;
		this.basis = basis;
	}

	/** Runs a hook's chains and conntrack's work between them; false when the packet went no further. */
	private hook(hook: Hook): boolean {
		const chains = this.o.source.hookChains(hook);
		const events: Array<{priority: number; run: () => void}> = [];
		if (hook === 'PREROUTING' || hook === 'OUTPUT') {
			events.push({priority: -200, run: () => this.attach()});
			events.push({priority: -100, run: () => this.connectionDnat(hook)});
		}
		if (hook === 'POSTROUTING' || hook === 'INPUT') events.push({priority: 100, run: () => this.connectionSnat(hook)});
		let e = 0;
		for (const hc of chains) {
			while (e < events.length && events[e]!.priority <= hc.priority) events[e++]!.run();
			if (hc.type === 'nat' && !this.natRuns(hook)) continue;
			if (!this.table(hc, hook)) return false;
		}
		while (e < events.length) events[e++]!.run();
		return true;
	}

	/** nat chains see a tracked connection's first packet only. */
	private natRuns(hook: Hook): boolean {
		if (this.untracked || !this.ctAttached || this.looped) return false;
		if (this.o.ct.state !== undefined) return this.o.ct.first;
		// Whether it is a first packet is not known: one branch point, decided once for the walk.
		if (this.firstDecided === undefined) {
			const point: BranchPoint = {table: 'nat', chain: hook, num: 0, preferred: true};
			this.firstDecided = this.o.choose?.(point, this.points.length) ?? point.preferred;
			this.points.push({point, taken: this.firstDecided});
			this.uncertain.push({
				table: 'nat',
				chain: hook,
				num: 0,
				rule: '',
				match: 'the nat chains',
				kind: 'packet',
				why: "the trace does not show whether the packet is a connection's first (the nat chains run for it) or belongs to one",
				assumed: this.o.follow?.has('packet') && this.o.choose ? 'followed the trace' : this.firstDecided ? 'match' : 'no match',
			});
		}
		return this.firstDecided;
	}

	private attach(): void {
		this.ctAttached = true;
		// Conntrack leaves neighbour discovery and multicast listener messages untracked
		// (nf_conntrack_proto_icmpv6.c, noct_valid_new): no connection, no nat chain.
		const p = this.o.probe;
		if (p.proto === 'ICMPv6' && p.icmp) {
			if (UNTRACKED_ICMPV6.has(p.icmp.type)) this.untracked = true;
			return;
		}
		// An IPv6 packet that may be one of those (ICMPv6, or a protocol the trace hides behind an
		// extension header) and whose type the trace does not show: one branch point, as for a
		// connection's first packet; the preferred way is tracked.
		if (p.family === 'ipv6' && (p.proto === 'ICMPv6' || p.proto === undefined)) {
			const point: BranchPoint = {table: 'raw', chain: 'conntrack', num: 0, preferred: false};
			const untracked = this.o.choose?.(point, this.points.length) ?? point.preferred;
			this.points.push({point, taken: untracked});
			this.uncertain.push({
				table: 'raw',
				chain: 'conntrack',
				num: 0,
				rule: '',
				match: 'conntrack (untracked?)',
				kind: 'packet',
				why: 'the trace does not show the ICMPv6 type: neighbour discovery and MLD messages are left untracked by conntrack (no nat chain runs), other ICMPv6 messages are tracked',
				assumed: this.o.follow?.has('packet') && this.o.choose ? 'followed the trace' : untracked ? 'match' : 'no match',
			});
			if (untracked) this.untracked = true;
		}
	}

	/** The state conntrack gives the packet now. */
	private ctState(): CtState | undefined {
		if (this.untracked) return 'untracked';
		if (!this.ctAttached) return 'invalid';
		return this.o.ct.state;
	}

	private connectionDnat(hook: Hook): void {
		if (this.o.ct.first || this.untracked || this.looped || this.o.ct.state === undefined) return;
		const m = this.o.ct.dir === 'original' ? this.o.ct.dnat : this.o.ct.unsnat;
		if (!m) return;
		if (m.addr === this.pkt.dst && (m.port === undefined || m.port === this.pkt.dpt)) return;
		this.nat.push({type: 'conntrack', at: `${hook} (conntrack)`, from: endpoint(this.pkt.dst, this.pkt.dpt), to: endpoint(m.addr, m.port ?? this.pkt.dpt), seen: 'connection'});
		this.pkt.dst = m.addr;
		if (m.port !== undefined) this.pkt.dpt = m.port;
		if (hook === 'OUTPUT') this.reroute();
	}

	private connectionSnat(hook: Hook): void {
		if (this.o.ct.first || this.untracked || this.looped || this.o.ct.state === undefined) return;
		// A reply leaves with its source the original destination again (the DNAT undone).
		const orig = this.o.ct.orig;
		if (this.o.ct.dir !== 'reply' || !orig || !this.o.ct.dnat) return;
		if (orig.dst === this.pkt.src && (orig.dpt === undefined || orig.dpt === this.pkt.spt)) return;
		this.nat.push({type: 'conntrack', at: `${hook} (conntrack)`, from: endpoint(this.pkt.src, this.pkt.spt), to: endpoint(orig.dst, orig.dpt ?? this.pkt.spt), seen: 'connection'});
		this.pkt.src = orig.dst;
		if (orig.dpt !== undefined) this.pkt.spt = orig.dpt;
	}

	/** A locally sent packet whose destination changed is routed again. */
	private reroute(): void {
		const r = this.o.routing.route(this.pkt.dst, this.o.probe);
		if (r.kind === 'forward' && r.out !== undefined) this.pkt.out = r.out;
		if (r.kind === 'local') this.pkt.out = 'lo';
	}

	private context(hook: Hook): EvalContext {
		return {
			probe: this.o.probe,
			pkt: this.pkt,
			ct: this.o.ct,
			ctState: this.ctState(),
			ctmark: this.ctmark,
			snatDone: this.snatDone,
			dnatDone: this.dnatDone,
			routing: this.o.routing,
			hook,
		};
	}

	private step(hook: Hook, chain: WalkChain, kind: 'rule' | 'tail', pos: number, target: string, rule?: WalkRule, note?: string): void {
		const line = rule ? rule.line : chain.line;
		this.steps.push({
			index: this.steps.length,
			hook,
			table: chain.table,
			chain: chain.name,
			base: chain.base,
			...(chain.nft ? {nft: true} : {}),
			kind,
			pos,
			...(rule ? {rule} : {}),
			target,
			packet: {...this.pkt},
			tracing: this.tracing,
			startsTrace: rule?.action.kind === 'trace',
			...(line === undefined ? {} : {line}),
			...(note ? {note} : {}),
		});
	}

	/** One table's walk from its base chain; false when the packet was dropped (or queued) there. */
	private table(hc: HookChain, hook: Hook): boolean {
		const base = hc.chain;
		const frames: Array<{chain: WalkChain; next: number}> = [];
		let chain = base;
		let i = 0;
		for (;;) {
			if (++this.count > MAX_STEPS) {
				this.finish('unknown', `the walk took more than ${MAX_STEPS} steps (a loop of jumps?)`);
				return false;
			}
			if (i >= chain.rules.length) {
				const tail = chain.rules.length + 1;
				if (chain.base) {
					const policy = chain.policy ?? 'ACCEPT';
					this.step(hook, chain, 'tail', tail, policy);
					if (policy === 'DROP') {
						this.finish('DROP', `policy DROP of ${chain.table}:${chain.name}`);
						return false;
					}
					return true;
				}
				this.step(hook, chain, 'tail', tail, 'RETURN');
				const f = frames.pop();
				if (f) [chain, i] = [f.chain, f.next];
				else [chain, i] = [base, base.rules.length];
				continue;
			}
			const rule = chain.rules[i]!;
			if (!this.matches(rule, chain, hook)) {
				i++;
				continue;
			}
			let a = rule.action;
			if (a.kind === 'vmap') {
				// The first entry whose key the packet has gives the verdict; none, the next rule (and no trace line).
				const entry = a.entries.find(e => this.matches({...rule, conditions: e.conditions}, chain, hook));
				if (!entry) {
					i++;
					continue;
				}
				this.step(hook, chain, 'rule', rule.pos, rule.target, rule);
				a = entry.action;
			} else this.step(hook, chain, 'rule', rule.pos, rule.target || (a.kind === 'continue' ? '' : a.kind), rule);
			const at = where(chain.table, chain.name, 'rule', rule.pos);
			switch (a.kind) {
				case 'continue': {
					if (!a.modelled) this.note(chain, rule, 'not-modelled', `-j ${a.name}`, `the target ${a.name} is not modelled: taken as changing nothing the rules look at`);
					i++;
					break;
				}
				case 'trace': {
					this.tracing = true;
					i++;
					break;
				}
				case 'mark': {
					this.pkt.mark = ((this.pkt.mark & ~a.mask) ^ a.value) >>> 0;
					i++;
					break;
				}
				case 'connmark': {
					if (a.op === 'set') this.ctmark = ((this.ctmark & ~a.mask) ^ a.value) >>> 0;
					else if (a.op === 'save') this.ctmark = ((this.ctmark & ~a.ctmask) ^ (this.pkt.mark & a.nfmask)) >>> 0;
					else this.pkt.mark = ((this.pkt.mark & ~a.nfmask) ^ (this.ctmark & a.ctmask)) >>> 0;
					i++;
					break;
				}
				case 'notrack': {
					if (!this.ctAttached) this.untracked = true;
					i++;
					break;
				}
				case 'verdict': {
					if (a.verdict === 'ACCEPT') return true;
					this.finish(a.verdict, `${at} -j ${rule.target}`);
					return false;
				}
				case 'return': {
					if (chain.base) {
						i = chain.rules.length;
						break;
					}
					const f = frames.pop();
					if (f) [chain, i] = [f.chain, f.next];
					else [chain, i] = [base, base.rules.length];
					break;
				}
				case 'jump': {
					const next = this.o.source.chain(chain.table, a.chain);
					if (!next) {
						this.note(chain, rule, 'not-modelled', `-j ${a.chain}`, `the chain ${chain.table}:${a.chain} is not in the dump: the jump is skipped`);
						i++;
						break;
					}
					if (frames.length >= MAX_DEPTH) {
						this.finish('unknown', `jumps nest deeper than ${MAX_DEPTH} chains at ${at} (a loop?)`);
						return false;
					}
					if (!a.goto) frames.push({chain, next: i + 1});
					chain = next;
					i = 0;
					break;
				}
				case 'nat': {
					this.bind(a, hook, at, chain, rule);
					return true;
				}
				case 'tproxy': {
					this.pkt.mark = ((this.pkt.mark & ~a.mask) ^ a.value) >>> 0;
					this.toHost = true;
					this.note(chain, rule, 'not-modelled', '-j TPROXY', 'TPROXY is taken to find its socket (else the kernel drops the packet)');
					return true;
				}
				case 'other': {
					this.note(chain, rule, 'not-modelled', `-j ${a.name}`, `the target ${a.name} is not modelled: taken as accepting the packet`);
					return true;
				}
			}
		}
	}

	/** A nat rule's mapping: it applies at once (the nat hook rewrites right after its chain). */
	private bind(a: Extract<WalkRule['action'], {kind: 'nat'}>, hook: Hook, at: string, chain: WalkChain, rule: WalkRule): void {
		const destination = hook === 'PREROUTING' || hook === 'OUTPUT';
		const ports = this.o.probe.proto === undefined || hasPorts(this.o.probe.proto);
		const r = a.range;
		if (r && ((r.maxAddr !== undefined && r.maxAddr !== r.minAddr) || (r.maxPort !== undefined && r.maxPort !== r.minPort))) {
			this.note(chain, rule, 'statistic', rule.text.replace(/^.* -j /, '-j '), `${a.type} to a range: the kernel picks one; the first is shown`);
		}
		switch (a.type) {
			case 'DNAT':
			case 'REDIRECT': {
				if (!destination) return;
				const from = endpoint(this.pkt.dst, this.pkt.dpt);
				if (a.type === 'REDIRECT') this.toHost = true;
				else if (r?.minAddr) this.pkt.dst = r.minAddr;
				if (ports && r?.minPort !== undefined) this.pkt.dpt = r.minPort;
				const to = a.type === 'REDIRECT' ? `address of ${this.pkt.in || 'lo'}${r?.minPort !== undefined ? `:${r.minPort}` : ''}` : endpoint(this.pkt.dst, this.pkt.dpt);
				this.nat.push({type: a.type, at, from, to, seen: 'rule'});
				this.dnatDone = true;
				if (hook === 'OUTPUT') this.reroute();
				return;
			}
			case 'SNAT':
			case 'MASQUERADE': {
				if (destination) return;
				const from = endpoint(this.pkt.src, this.pkt.spt);
				if (a.type === 'SNAT' && r?.minAddr) this.pkt.src = r.minAddr;
				if (ports && r?.minPort !== undefined) this.pkt.spt = r.minPort;
				const to = a.type === 'MASQUERADE' ? `address of ${this.pkt.out || 'the OUT interface'}` : endpoint(this.pkt.src, this.pkt.spt);
				this.nat.push({type: a.type, at, from, to, seen: 'rule'});
				this.snatDone = true;
				return;
			}
			case 'NETMAP': {
				if (!a.netmap) return;
				const key = destination ? 'dst' : 'src';
				const mapped = netmapAddr(this.pkt[key], a.netmap);
				if (!mapped) return;
				this.nat.push({type: 'NETMAP', at, from: this.pkt[key], to: mapped, seen: 'rule'});
				this.pkt[key] = mapped;
				if (destination) this.dnatDone = true;
				else this.snatDone = true;
				return;
			}
		}
	}

	private note(chain: WalkChain, rule: WalkRule, kind: UnknownKind, match: string, why: string): void {
		this.uncertain.push({table: chain.table, chain: chain.name, num: rule.pos, rule: rule.text, match, kind, why, assumed: 'match'});
	}

	/** Does the rule match? Records how it was decided, and what could not be. */
	private matches(rule: WalkRule, chain: WalkChain, hook: Hook): boolean {
		const ctx = this.context(hook);
		const unknowns: Array<{c: Condition; d: Extract<Decision, {known: false}>}> = [];
		const at = this.steps.length;
		const log = (matched: boolean, by: Evaluation['by'], extra: {failed?: string; unknowns?: Uncertain[]} = {}) =>
			this.evaluated.push({hook, table: chain.table, chain: chain.name, pos: rule.pos, matched, by, unknowns: extra.unknowns ?? [], at, ...(extra.failed ? {failed: extra.failed} : {})});
		for (const c of rule.conditions) {
			const d = evaluate(c, ctx);
			if (d.known) {
				if (!d.value) {
					log(false, 'decided', {failed: c.text});
					return false;
				}
			} else unknowns.push({c, d});
		}
		if (unknowns.length === 0) {
			log(true, 'decided');
			return true;
		}
		const follow = this.o.follow;
		const branchy = unknowns.filter(u => u.d.kind === 'statistic' || follow?.has(u.d.kind));
		const entry = (u: (typeof unknowns)[number], assumed: Uncertain['assumed']): Uncertain => ({
			table: chain.table,
			chain: chain.name,
			num: rule.pos,
			rule: rule.text,
			match: u.c.text,
			kind: u.d.kind,
			why: u.d.why,
			assumed,
			...(u.d.probability === undefined ? {} : {probability: u.d.probability}),
		});
		const others = unknowns.filter(u => !branchy.includes(u));
		const othersHold = others.every(u => u.d.assume);
		if (branchy.length === 0 || !othersHold) {
			const list = unknowns.map(u => entry(u, u.d.assume ? 'match' : 'no match'));
			this.uncertain.push(...list);
			log(othersHold && branchy.length === 0, 'assumed', {unknowns: list});
			return othersHold && branchy.length === 0;
		}
		const random = branchy.filter(u => u.d.kind === 'statistic');
		const followed = branchy.length > random.length;
		const probability = followed ? undefined : random.reduce((p, u) => p * (u.d.probability ?? 0.5), 1);
		const point: BranchPoint = {
			table: chain.table,
			chain: chain.name,
			num: rule.pos,
			...(probability === undefined ? {} : {probability}),
			preferred: probability === undefined ? branchy.every(u => u.d.assume) : probability >= 0.5,
		};
		const taken = this.o.choose?.(point, this.points.length) ?? point.preferred;
		this.points.push({point, taken});
		const list = [
			...others.map(u => entry(u, 'match')),
			...branchy.map(u => entry(u, this.o.choose && follow && follow.size > 0 ? 'followed the trace' : u.d.kind === 'statistic' ? 'branch' : taken ? 'match' : 'no match')),
		];
		this.uncertain.push(...list);
		log(taken, 'branch', {unknowns: list});
		return taken;
	}
}

/** Walks one packet. */
export function walk(o: WalkOptions): WalkResult {
	return new Walker(o).run();
}
