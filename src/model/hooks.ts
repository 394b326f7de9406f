/**
 * Where netfilter hooks and tables sit on a packet's path, by hook priority
 * (include/uapi/linux/netfilter_ipv4.h: raw -300, mangle -150, nat dst -100, filter 0,
 * security 50, nat src 100). Used to decide whether a trace line can be the next step of a
 * packet already seen.
 */
import type {Hook} from './types.js';

export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

export function isHook(name: string): name is Hook {
	return (HOOKS as readonly string[]).includes(name);
}

/**
 * Which hooks can come later on one packet's path. A hook with no traced chain prints nothing
 * (legacy tables load on first use; iptables-nft creates base chains only for rules), so
 * PREROUTING can be followed directly by POSTROUTING.
 */
const NEXT: Record<Hook, readonly Hook[]> = {
	PREROUTING: ['INPUT', 'FORWARD', 'POSTROUTING'],
	INPUT: [],
	FORWARD: ['POSTROUTING'],
	OUTPUT: ['POSTROUTING'],
	POSTROUTING: [],
};

export function canFollow(from: Hook, to: Hook): boolean {
	return from === to || NEXT[from].includes(to);
}

const TABLE_PRIORITY: Record<string, number> = {raw: -300, mangle: -150, filter: 0, security: 50};

/** Priority of a table at a hook; nat is -100 where it rewrites the destination, 100 where it rewrites the source. */
export function tablePriority(hook: Hook, table: string): number {
	if (table === 'nat') return hook === 'PREROUTING' || hook === 'OUTPUT' ? -100 : 100;
	return TABLE_PRIORITY[table] ?? 0;
}

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
