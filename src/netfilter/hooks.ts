/**
 * Netfilter's hooks and tables: their names, the order a packet meets them, and which chains a
 * table builds in. The one place these facts live (docs/architecture.md).
 *
 * Input:  'nat', 'PREROUTING'
 * Output: tablePriority('PREROUTING', 'nat') === -100; isBuiltinChain('nat', 'FORWARD') === false
 *
 * Priorities as in include/uapi/linux/netfilter_ipv4.h (and _ipv6.h): raw -300, mangle -150,
 * nat (destination) -100, filter 0, security 50, nat (source) 100.
 */

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** The hooks in the order a packet can meet them. */
export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

export function isHook(name: string): name is Hook {
	return (HOOKS as readonly string[]).includes(name);
}

/**
 * Which hooks can come later on one packet's path. A hook with no traced chain prints nothing
 * (legacy tables load on first use; iptables-nft creates base chains only for rules), so
 * PREROUTING can be followed directly by POSTROUTING.
 */
const NEXT: Readonly<Record<Hook, readonly Hook[]>> = {
	PREROUTING: ['INPUT', 'FORWARD', 'POSTROUTING'],
	INPUT: [],
	FORWARD: ['POSTROUTING'],
	OUTPUT: ['POSTROUTING'],
	POSTROUTING: [],
};

/** Can a packet at hook `from` be at hook `to` later (or still)? */
export function canFollow(from: Hook, to: Hook): boolean {
	return from === to || NEXT[from].includes(to);
}

/** The iptables tables and the hooks each one has a built-in chain at. */
export const BUILTIN_CHAINS: Readonly<Record<string, readonly Hook[]>> = {
	raw: ['PREROUTING', 'OUTPUT'],
	mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
	nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
	filter: ['INPUT', 'FORWARD', 'OUTPUT'],
	security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Is `chain` a built-in chain of `table`? For a table tracewatch does not know, any hook name is. */
export function isBuiltinChain(table: string, chain: string): boolean {
	const builtins = BUILTIN_CHAINS[table];
	return builtins ? (builtins as readonly string[]).includes(chain) : isHook(chain);
}

const TABLE_PRIORITY: Readonly<Record<string, number>> = {raw: -300, mangle: -150, filter: 0, security: 50};

/** Priority of a table at a hook; nat is -100 where it rewrites the destination, 100 where it rewrites the source. */
export function tablePriority(hook: Hook, table: string): number {
	if (table === 'nat') return hook === 'PREROUTING' || hook === 'OUTPUT' ? -100 : 100;
	return TABLE_PRIORITY[table] ?? 0;
}

/** The tables of a hook in the order the kernel runs them. */
export function tablesAt(hook: Hook): string[] {
	return Object.keys(BUILTIN_CHAINS)
		.filter(t => BUILTIN_CHAINS[t]!.includes(hook))
		.sort((a, b) => tablePriority(hook, a) - tablePriority(hook, b));
}
