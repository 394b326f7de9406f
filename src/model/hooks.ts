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
