/**
 * nftables' words: families, hooks and the names of standard priorities.
 *
 * Input:  nftPriority('filter + 10', 'inet'), nftHook('postrouting')
 * Output: 10; 'POSTROUTING'
 *
 * Priority names and values: nft(8) "CHAINS", table "Standard priority names, family and hook
 * compatibility matrix" (nftables 1.0.x): raw -300, mangle -150, dstnat -100, filter 0,
 * security 50, srcnat 100; in the bridge family dstnat -300, filter -200, out 100, srcnat 300.
 */
import type {Hook} from './hooks.js';

export const NFT_FAMILIES = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'] as const;

const PRIORITY: Readonly<Record<string, number>> = {raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100};
const BRIDGE_PRIORITY: Readonly<Record<string, number>> = {dstnat: -300, filter: -200, out: 100, srcnat: 300};

/** A priority's number: a number as written, or a standard name plus its offset; undefined for a name nft does not define. */
export function nftPriority(base: string | number, offset: number, family: string): number | undefined {
	if (typeof base === 'number') return base + offset;
	const value = (family === 'bridge' ? BRIDGE_PRIORITY : PRIORITY)[base];
	return value === undefined ? undefined : value + offset;
}

const HOOKS: Readonly<Record<string, Hook>> = {prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING'};

/** The netfilter hook of an nft hook name (ingress and egress have none of the five). */
export function nftHook(hook: string): Hook | undefined {
	return HOOKS[hook];
}

/** Does a packet of this family (`ipv4`/`ipv6`) go through tables of this nft family? */
export function nftFamilyCovers(nftFamily: string, family: 'ipv4' | 'ipv6'): boolean {
	if (nftFamily === 'ip') return family === 'ipv4';
	if (nftFamily === 'ip6') return family === 'ipv6';
	return nftFamily === 'inet' || nftFamily === 'bridge' || nftFamily === 'netdev';
}

/**
 * What nft's statements that have no iptables target of the same behaviour do to the walk, with
 * the kernel source that shows it (net/netfilter/nft_*.c, Linux 6.x). The other statements read
 * as the iptables target that does the same (src/netfilter/targets.ts): accept, drop, reject,
 * dnat, snat, masquerade, redirect, log, meta mark set, ct mark set, notrack, synproxy.
 */
export interface NftActionInfo {
	readonly name: string;
	readonly walk: 'ends' | 'continues';
	/** It changes what a later rule can match on (the packet, its mark, its conntrack entry). */
	readonly changes: boolean;
	readonly cite: string;
}

const NFT_ACTIONS: readonly NftActionInfo[] = [
	{name: 'MANGLE', walk: 'continues', changes: true, cite: 'net/netfilter/nft_payload.c, nft_meta.c, nft_ct.c: the set statements write the field and leave the verdict NFT_CONTINUE'},
	{name: 'DUP', walk: 'continues', changes: false, cite: 'net/ipv4/netfilter/nft_dup_ipv4.c, net/ipv6/netfilter/nft_dup_ipv6.c: a copy is sent, the verdict stays NFT_CONTINUE'},
	{name: 'FWD', walk: 'ends', changes: false, cite: 'net/netfilter/nft_fwd_netdev.c: nft_fwd_netdev_eval sends the packet out of the device and sets NF_STOLEN'},
	{name: 'TPROXY', walk: 'continues', changes: true, cite: 'net/netfilter/nft_tproxy.c: assigns the socket and marks the packet, NFT_BREAK only when no socket is found (iptables TPROXY accepts)'},
];

const ACTIONS_BY_NAME: ReadonlyMap<string, NftActionInfo> = new Map(NFT_ACTIONS.map(a => [a.name, a]));

/** What an nft statement named this way does to the walk; undefined for one that reads as an iptables target. */
export function nftActionInfo(name: string): NftActionInfo | undefined {
	return ACTIONS_BY_NAME.get(name);
}
