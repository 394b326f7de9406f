/**
 * A packet's hops grouped by the hook they ran in, with what changed at each hop: the detail
 * view's content, before it is laid out.
 *
 * Input:  hops raw:PREROUTING:policy:3, nat:PREROUTING:rule:1, nat:TW-SERVICES:rule:1, mangle:FORWARD:policy:1 (DST now 198.18.20.2:8080, OUT=eth1), …
 * Output: [{hook:'PREROUTING', hops:[…, {hop: nat:TW-SERVICES:rule:1, index:2, changes:['DST 198.18.30.10:80 → 198.18.20.2:8080']}]}, {hook:'FORWARD', hops:[{hop, index:3, changes:['OUT=eth1']}, …]}, …]
 */
import type {Hook, Hop, Packet} from '../../model/types.js';
import {hopChanges} from '../text.js';

export interface HopEntry {
	readonly hop: Hop;
	/** Position in `packet.hops`. */
	readonly index: number;
	/** Fields this hop's rule changed, or that routing or conntrack changed just before it (text.ts hopChanges): `DST a → b`, `SRC a → b (conntrack)`, `OUT=eth1`, `MARK 0 → 0x4000`. */
	readonly changes: readonly string[];
}

export interface HopGroup {
	/** The hook, or undefined when the trace does not tell (nft chains, a user chain with no base chain seen). */
	readonly hook: Hook | undefined;
	readonly hops: readonly HopEntry[];
}

/** Consecutive hops with the same hook form one group; a hop with no hook joins the group before it. */
export function groupHops(p: Packet): HopGroup[] {
	const groups: Array<{hook: Hook | undefined; hops: HopEntry[]}> = [];
	const changed = hopChanges(p);
	p.hops.forEach((hop, index) => {
		const entry: HopEntry = {hop, index, changes: changed[index] ?? []};
		const last = groups[groups.length - 1];
		const hook = hop.hook ?? last?.hook;
		if (last && last.hook === hook) last.hops.push(entry);
		else groups.push({hook, hops: [entry]});
	});
	return groups;
}

/** `rule:3`, `policy:2`, `return:1`, `verdict`, `log`: the hop's kind and number, as the detail view shows it. */
export function kindNum(h: Pick<Hop, 'kind' | 'num'>): string {
	if (h.kind === 'log') return 'log';
	return h.num === null ? h.kind : `${h.kind}:${h.num}`;
}
