/**
 * The `rules-changed` finding: traced packets whose path the dump cannot give, in a way that
 * means the kernel ran other rules than the dump holds (the rules changed between the trace and
 * the dump). Each settled packet is predicted from its first trace line through the dump (the
 * prediction model, src/model/explain/) and compared hop by hop with its trace.
 *
 * Input:  add(p) for each settled packet, in id order, with the run's RuleIndex, then
 *         findings(true) at the end; e.g. packet #8
 *         of testdata/formats/xtables-monitor-1.8.9-trace-4.log traced at
 *         `filter:INPUT:rule … -A INPUT -p icmp -m comment --comment "added later" -j ACCEPT`
 *         with a dump saved before that rule was inserted
 * Output: findings() → [{kind:'rules-changed', severity:'warning',
 *           message:'1 traced packet took a path the dump cannot give; the first, #8, parts from the
 *                    prediction at hop 8: predicted filter:INPUT:policy:1 (ACCEPT), traced filter:INPUT:rule:? (ACCEPT); …',
 *           packets:[8], rules:[{file, table:'filter', chain:'INPUT', …}]}]
 *         comparison(id) → the packet's prediction and divergence, for the views (the last `keep`)
 *
 * Packets whose hops the join already found impossible in the dump (a rule number past the
 * chain's end, a policy that is not the tail: `rules-mismatch`) are not counted again here; this
 * finding covers what only the walk shows: each hop exists in the dump, yet no walk through it
 * gives the traced path (a rule that cannot match the packet there, a rule that should have
 * matched first, a chain or rule text the dump lacks). Divergences with another likely reason
 * (ipset contents, rate limits, routing, the trace cut short) are not findings.
 */
import type {Packet} from '../types.js';
import {ipFamily, type RuleIndex} from '../join.js';
import {bridgeOnly, compareWithTrace, predictForPacket} from '../explain/predict.js';
import {TraceKnowledge} from '../explain/learn.js';
import {iptablesSource, type RuleSource} from '../explain/source.js';
import type {Comparison, Divergence} from '../explain/types.js';
import type {Finding, RuleRef} from './types.js';

/** Packets learned before a packet is predicted: an ICMP error about it comes a few packets later. */
const LOOKAHEAD = 8;

/** The walk's view of a dump, per family, built once per rule index. */
const SOURCES = new WeakMap<RuleIndex, Map<string, RuleSource>>();

/** Packets listed in the finding, at most (the message counts them all). */
const MAX_IDS = 10_000;

/**
 * The rule a divergence is about: the traced hop (what the kernel ran), else the predicted one.
 * A rule known only from the trace (xtables-monitor prints its text; the dump lacks it) names no
 * dump file: it is not in one.
 */
function ruleRefOf(index: RuleIndex, family: string, d: Divergence): RuleRef[] {
	const hop = d.traced ?? d.predicted;
	if (!hop) return [];
	const chain = index.chain(family, hop.table, hop.chain);
	const inDump = hop.ruleFrom !== 'trace' || hop.ruleLine !== undefined;
	const file = chain && inDump ? index.rulesets.find(rs => rs.tables.get(hop.table)?.chains.get(hop.chain) === chain)?.path : undefined;
	return [
		{
			...(file ? {file} : {}),
			table: hop.table,
			chain: hop.chain,
			pos: hop.kind === 'rule' ? hop.num : null,
			text: hop.rule ?? '',
			...(hop.ruleLine === undefined ? {} : {line: hop.ruleLine}),
		},
	];
}

/** The join already found this packet's hops impossible in the dump (the rules-mismatch finding). */
function joinMismatch(p: Packet): boolean {
	return p.hops.some(h => h.note?.includes('ruleset changed'));
}

export interface RulesChangedOptions {
	/** Comparisons kept for the views (the most recent packets). Default 2000. */
	readonly keep?: number;
	/** This node's part of what is remembered of the trace (src/model/fleet.ts). */
	readonly share?: () => number;
}

/**
 * Predictions of settled packets and the rules-changed finding, packet by packet. Memory: the
 * prediction model's bounded knowledge of the trace, the last `keep` comparisons, and the ids of
 * the packets the finding names.
 */
export class RulesChangedFindings {
	private readonly knowledge: TraceKnowledge;
	private readonly kept = new Map<number, Comparison>();
	/** Settled packets learned but not predicted yet (at most LOOKAHEAD). */
	private readonly waiting: Packet[] = [];
	private readonly keep: number;
	/** The first packet that parted from its prediction: its id and family, not the packet (a node each in a fleet). */
	private first: {id: number; family: string; divergence: Divergence} | undefined;
	private readonly ids: number[] = [];
	private count = 0;

	constructor(
		private readonly index: RuleIndex,
		options: RulesChangedOptions = {},
	) {
		this.keep = options.keep ?? 2000;
		this.knowledge = new TraceKnowledge(options.share ? {share: options.share} : {});
	}

	/**
	 * Takes one settled packet (in id order). It is predicted once LOOKAHEAD more packets came
	 * (or at the end): what a later packet teaches about routing (an ICMP error saying the host
	 * refused it) counts for it, as it does for `explain --trace`, which learns the whole trace first.
	 */
	add(p: Packet): void {
		// A -j LOG line shows no path; an ebtables log line is the first hop of a bridged frame's.
		if (this.index.empty || p.hops.length === 0 || (p.hops[0]!.kind === 'log' && !p.hops[0]!.bridge)) return;
		// A frame only the bridge hooks saw has no path in an iptables dump.
		if (bridgeOnly(p)) return;
		// The prediction walks iptables' tables; a native nft listing is not predicted (yet): no finding rather than a false one.
		if (this.index.rulesets.every(rs => rs.format === 'nft' || rs.format === 'nft-json')) return;
		this.knowledge.learn(p);
		this.waiting.push(p);
		while (this.waiting.length > LOOKAHEAD) this.predict(this.waiting.shift()!);
	}

	/** Predicts the packets still waiting for later ones: the input ended. */
	flush(): void {
		for (const p of this.waiting.splice(0)) this.predict(p);
	}

	private compare(p: Packet, record: boolean): Comparison {
		const family = ipFamily(p) === 'ipv6' ? 'ipv6' : 'ipv4';
		// One compiled source per dump and family, shared by every node's pipeline that reads the same dump.
		let sources = SOURCES.get(this.index);
		if (!sources) SOURCES.set(this.index, (sources = new Map()));
		let source = sources.get(family);
		if (!source) sources.set(family, (source = iptablesSource(this.index, family)));
		const prediction = predictForPacket(p, this.index, this.knowledge, source);
		if (record) this.knowledge.recordCtmark(p.id, prediction.ctmarkAfter);
		return {
			packetId: p.id,
			hops: prediction.hops,
			verdict: prediction.verdict,
			verdictBasis: prediction.verdictBasis,
			nat: prediction.nat,
			uncertain: prediction.uncertain,
			state: prediction.ct.state,
			stateBasis: prediction.ct.basis ?? '',
			divergence: compareWithTrace(p, prediction, source),
		};
	}

	private predict(p: Packet): void {
		const c = this.compare(p, true);
		this.kept.set(p.id, c);
		if (this.kept.size > this.keep) this.kept.delete(this.kept.keys().next().value!);
		const divergence = c.divergence;
		if (divergence?.reason === 'rules-changed' && !joinMismatch(p)) {
			this.first ??= {id: p.id, family: p.family, divergence};
			this.count++;
			if (this.ids.length < MAX_IDS) this.ids.push(p.id);
		}
	}

	/**
	 * The prediction of a settled packet, while it is among the last `keep`; for one still
	 * waiting for later packets, a prediction from what is known so far (not kept).
	 */
	comparison(id: number): Comparison | undefined {
		const kept = this.kept.get(id);
		if (kept) return kept;
		const waiting = this.waiting.find(p => p.id === id);
		return waiting ? this.compare(waiting, false) : undefined;
	}

	/** The finding so far; `final`: the input ended, every packet is predicted first. */
	findings(final = false): Finding[] {
		if (final) this.flush();
		if (!this.first) return [];
		const {id, family, divergence: d} = this.first;
		const n = this.count;
		return [
			{
				kind: 'rules-changed',
				severity: 'warning',
				message: `${n} traced packet${n === 1 ? '' : 's'} took a path the --rules dump cannot give; the first, #${id}, parts from the dump's prediction at ${d.message}`,
				hint: 'The rules changed between the trace and the dump (kube-proxy and CNIs rewrite them all the time): save the ruleset while tracing (iptables-save -c > node.save) and replay again. `tracewatch explain --rules node.save --trace trace.log` shows every packet beside its prediction.',
				packets: [...this.ids],
				rules: ruleRefOf(this.index, family, d),
			},
		];
	}
}

/** The finding for a whole trace at once (tests, small inputs): the packets settled, in id order. */
export function rulesChangedFindings(packets: readonly Packet[], index: RuleIndex): Finding[] {
	const f = new RulesChangedFindings(index);
	for (const p of [...packets].sort((a, b) => a.id - b.id)) f.add(p);
	return f.findings(true);
}
