/**
 * Where a packet's path on the broken node leaves the path of the same request on the working
 * node, and which rule difference explains it.
 *
 * Input:  packets traced on each node (rules joined), and the rule diff of the two nodes.
 * Output: {working:{packet:1, hop:'nat:POSTROUTING:rule:3 -A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE'},
 *          broken:{packet:1, hop:'nat:POSTROUTING:policy:3'}, at:11, explainedBy:{kind:'only-in-working', …}}
 */
import {parseRuleText, type Rule} from '../parser/ruleset.js';
import {comparableRule, type Difference, type RuleDiff} from './diff.js';
import type {Hop, Packet} from './types.js';

export interface Divergence {
	/** Index in the hop lists where the paths part (0-based); equal to the shorter length when one path is a prefix of the other. */
	at: number;
	working: {packet: number; hop: string | null};
	broken: {packet: number; hop: string | null};
	/** Hops both paths share before they part. */
	shared: number;
	explainedBy: Difference | null;
	message: string;
}

/** The rule a hop or a difference names (`-A CHAIN …`), read by the Ruleset grammar; undefined for policies and chain ends. */
function ruleIn(text: string | null | undefined): Rule | undefined {
	return text ? parseRuleText(text) : undefined;
}

function hopText(h: Hop | undefined): string | null {
	if (!h) return null;
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}${ruleIn(h.rule) ? ` ${h.rule}` : ''}`;
}

/** A hop as comparable across nodes: chain names mapped, the rule compared as diff compares rules, positions ignored. */
function key(h: Hop, map: ReadonlyMap<string, string>): string {
	const chain = map.get(h.chain) ?? h.chain;
	const rule = ruleIn(h.rule);
	if (rule) return `${h.table}:${chain}|rule|${comparableRule(rule, map)}`;
	return `${h.table}:${chain}|${h.kind}`;
}

function shape(p: Packet): string {
	const what = p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK') ? 'syn' : p.icmp ? `icmp${p.icmp.type}` : '';
	return `${p.proto}|${p.dst}|${p.dpt ?? ''}|${what}`;
}

/** Picks the broken node's most telling packet and the working node's packet of the same request. */
export function pickPair(working: readonly Packet[], broken: readonly Packet[]): [Packet, Packet] | undefined {
	const bad = broken.find(p => p.verdict === 'DROP' || p.verdict === 'REJECT') ?? broken.find(p => !p.replySeen && p.replyTo === null) ?? broken[0];
	if (!bad) return undefined;
	const good = working.find(p => shape(p) === shape(bad)) ?? working.find(p => p.proto === bad.proto && p.dpt === bad.dpt && p.dst === bad.dst) ?? working.find(p => p.proto === bad.proto && p.dpt === bad.dpt);
	return good ? [good, bad] : undefined;
}

export function findDivergence(working: Packet, broken: Packet, diff: RuleDiff): Divergence {
	// Working names → broken names, for chains and interfaces.
	const map = new Map(diff.mappings.map(m => [m.working, m.broken]));
	const wk = working.hops.map(h => key(h, map));
	const bk = broken.hops.map(h => key(h, new Map()));
	let i = 0;
	while (i < wk.length && i < bk.length && wk[i] === bk[i]) i++;
	const wh = working.hops[i];
	const bh = broken.hops[i];
	const same = i >= wk.length && i >= bk.length;

	let explainedBy: Difference | null = null;
	if (!same) {
		const chains = new Set([wh ? `${wh.table}:${map.get(wh.chain) ?? wh.chain}` : '', bh ? `${bh.table}:${bh.chain}` : '']);
		const candidates = diff.differences.filter(d => chains.has(`${d.table}:${d.chain}`) || chains.has(`${d.table}:${map.get(d.chain) ?? d.chain}`));
		const matches = (a: string | null | undefined, b: string | undefined) => {
			const x = ruleIn(a);
			const y = ruleIn(b);
			return Boolean(x && y && comparableRule(x, map) === comparableRule(y, map));
		};
		explainedBy =
			candidates.find(d => matches(d.working, wh?.rule) || matches(d.broken, bh?.rule)) ??
			candidates.find(d => d.kind === 'policy') ??
			candidates[0] ??
			null;
	}

	const w = hopText(wh);
	const b = hopText(bh);
	let message: string;
	if (same) message = `packet #${broken.id} on the broken node took the same path as packet #${working.id} on the working node (${wk.length} hops)`;
	else {
		message = `the paths part at hop ${i + 1}: working packet #${working.id} ${w ? `went to ${w}` : 'ended there'}, broken packet #${broken.id} ${b ? `went to ${b}` : 'ended there'}`;
		if (explainedBy) message += `; explained by a difference in ${explainedBy.table}:${explainedBy.chain} (${explainedBy.kind}: ${explainedBy.working ?? explainedBy.broken})`;
	}
	return {at: i, working: {packet: working.id, hop: w}, broken: {packet: broken.id, hop: b}, shared: i, explainedBy, message};
}
