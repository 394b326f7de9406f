/**
 * Where a packet can be next, for rebuilding packets from lines without ids: model-level rules
 * over netfilter's hooks and tables (src/netfilter/hooks.ts holds the facts themselves).
 */
import {tablePriority, type Hook} from '../netfilter/hooks.js';

/** True when the packet's destination may have been rewritten (DNAT, or conntrack undoing SNAT) between the two points. */
export function crossesDestinationNat(from: {hook: Hook; table: string}, to: {hook: Hook; table: string}): boolean {
	if (from.hook !== 'PREROUTING' && from.hook !== 'OUTPUT') return false;
	if (to.hook !== from.hook) return true;
	return tablePriority(from.hook, from.table) <= -100 && tablePriority(to.hook, to.table) > -100;
}

/** The hook a packet is most likely in when a line of a user chain is all we have, from which of IN/OUT are set. */
export function guessHook(table: string, inIf: string, outIf: string): Hook | undefined {
	if (inIf && outIf) return 'FORWARD';
	if (inIf) return table === 'raw' || table === 'nat' ? 'PREROUTING' : undefined;
	if (outIf) return table === 'raw' ? 'OUTPUT' : undefined;
	return undefined;
}

/**
 * The bridge family's hooks in the order a frame meets them (ebtables chains: broute BROUTING,
 * nat PREROUTING, filter INPUT / FORWARD, nat and filter OUTPUT, nat POSTROUTING); undefined
 * for a chain that is not one of them (a user chain).
 */
export function bridgeHookOrder(chain: string): number | undefined {
	return BRIDGE_ORDER[chain];
}

const BRIDGE_ORDER: Readonly<Record<string, number>> = {BROUTING: 0, PREROUTING: 1, INPUT: 2, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4};

/** What the target of a rule can change in a packet's header: the fields Packet.changes tracks. */
export type RuleEffect = 'dst' | 'src' | 'mark' | 'ttl';

/**
 * The header field a hop's rule changes, from the rule as the trace printed it (xtables-monitor:
 * iptables-save syntax; nft: nft syntax) or, for kernel lines whose rule text is not known while
 * packets are rebuilt, from the table: a nat rule that is followed by a new destination is the
 * DNAT (a nat chain runs only for a connection's first packet, and its NAT targets end it).
 */
export function ruleEffects(hop: {table: string; kind: string; rule?: string; target?: string}): readonly RuleEffect[] {
	if (hop.kind !== 'rule') return [];
	const text = hop.rule;
	if (text === undefined) return hop.table === 'nat' ? ['dst', 'src'] : [];
	const out: RuleEffect[] = [];
	if (/(?:^|\s)-j\s+(?:DNAT|REDIRECT|NETMAP)\b|\b(?:dnat|redirect)\b(?:\s+ip6?)?\s+to\b|\bredirect\b/.test(text)) out.push('dst');
	if (/(?:^|\s)-j\s+(?:SNAT|MASQUERADE|NETMAP)\b|\bsnat\b(?:\s+ip6?)?\s+to\b|\bmasquerade\b/.test(text)) out.push('src');
	if (/(?:^|\s)-j\s+(?:MARK|CONNMARK|TPROXY)\b|\bmeta\s+mark\s+set\b|(?:^|\s)mark\s+set\b|\btproxy\b/.test(text)) out.push('mark');
	if (/(?:^|\s)-j\s+(?:TTL|HL)\b|\bip\s+ttl\s+set\b|\bip6\s+hoplimit\s+set\b/.test(text)) out.push('ttl');
	return out;
}
