/**
 * A traced packet beside the dump's prediction, row by row, for the interactive view's detail
 * (key `e`): the view draws these rows and nothing else of the prediction model.
 *
 * Input:  packet #8 of testdata/formats/xtables-monitor-1.8.9-trace-4.log and its Comparison
 *         (pipeline.comparison(8)) with a dump saved before a rule was inserted into filter INPUT
 * Output: {kind:'ready', agrees:false, rows:[
 *            {traced:{name:'raw:PREROUTING', kindNum:'rule', target:'TRACE'}, predicted:{…same…}, status:'same'},
 *            …,
 *            {traced:{name:'filter:INPUT', kindNum:'rule', target:'ACCEPT', rule:'-A INPUT -p icmp … "added later" -j ACCEPT'},
 *             predicted:{name:'filter:INPUT', kindNum:'rule:2', target:'ACCEPT', …}, status:'parts'}],
 *          summary:'parts at hop 6: … likely a stale dump: …'}
 */
import type {Hop, Packet, Verdict} from '../types.js';
import {bridgeOnly, sameHop, tracedHops} from './predict.js';
import type {Comparison} from './types.js';

/** One side of a row: a hop as the view prints it. */
export interface SideHop {
	/** `table:chain`. */
	readonly name: string;
	/** `rule:3`, `policy:1`, `rule` (a traced rule whose position the dump did not give). */
	readonly kindNum: string;
	readonly target: string;
	readonly rule: string;
	/** The walk assumed a condition of this rule (an ipset, a rate, …): it may not be so. */
	readonly assumed: boolean;
}

export interface SideRow {
	readonly traced: SideHop | null;
	readonly predicted: SideHop | null;
	/** `same` before the divergence, `parts` at it, `after` beyond it (the two paths no longer line up). */
	readonly status: 'same' | 'parts' | 'after';
}

export type SideBySide =
	| {readonly kind: 'none'; readonly why: string}
	| {
			readonly kind: 'ready';
			readonly packetId: number;
			readonly agrees: boolean;
			/** `agrees: 11 hops, the same final hop`, or where and why they part. */
			readonly summary: string;
			readonly rows: readonly SideRow[];
			readonly verdict: Verdict;
			readonly verdictBasis: string;
			/** The state the walk gave the packet's connection, and why. */
			readonly state: string;
			/** What the walk could not decide, one line each. */
			readonly uncertain: readonly string[];
	  };

function side(h: Hop | undefined, assumed: ReadonlySet<string>): SideHop | null {
	if (!h) return null;
	return {
		name: `${h.table}:${h.chain}`,
		kindNum: h.num === null ? h.kind : `${h.kind}:${h.num}`,
		target: h.target ?? h.traceVerdict ?? '',
		rule: h.rule ?? '',
		assumed: h.kind === 'rule' && assumed.has(`${h.table}:${h.chain}:${h.num}`),
	};
}

/** The rows of a packet and its prediction; `comparison` undefined: why there is none. */
export function sideBySide(packet: Packet, comparison: Comparison | undefined, context: {readonly rules: boolean}): SideBySide {
	if (!context.rules) return {kind: 'none', why: 'no prediction: the dump is needed (replay with --rules node.save)'};
	if (bridgeOnly(packet)) return {kind: 'none', why: "no prediction: only the bridge family's hooks saw this frame, and an iptables dump holds none of their rules"};
	if (packet.hops.length > 0 && packet.hops.every(h => h.kind === 'log')) return {kind: 'none', why: 'no prediction: a -j LOG line shows no path to predict'};
	if (!comparison) return {kind: 'none', why: 'no prediction yet: a packet is predicted once it is settled (3 s of log time after its last line, or at the end of the input)'};
	const traced = tracedHops(packet);
	const predicted = comparison.hops;
	const d = comparison.divergence;
	const assumed = new Set(comparison.uncertain.map(u => `${u.table}:${u.chain}:${u.num}`));
	const rows: SideRow[] = [];
	for (let i = 0; i < Math.max(traced.length, predicted.length); i++) {
		const t = traced[i];
		const p = predicted[i];
		const status = d === null || i < d.at ? (t && p && sameHop(p, t) ? 'same' : 'parts') : i === d.at ? 'parts' : 'after';
		rows.push({traced: side(t, new Set()), predicted: side(p, assumed), status});
	}
	const summary = d === null ? `agrees: ${traced.length} hop${traced.length === 1 ? '' : 's'}, the same final hop` : `parts at ${d.message}`;
	return {
		kind: 'ready',
		packetId: packet.id,
		agrees: d === null,
		summary,
		rows,
		verdict: comparison.verdict,
		verdictBasis: comparison.verdictBasis,
		state: `${comparison.state ?? 'not known'} (${comparison.stateBasis})`,
		uncertain: comparison.uncertain.map(u => `${u.table}:${u.chain}:rule:${u.num} ${u.match}: ${u.why}; ${u.assumed}`),
	};
}
