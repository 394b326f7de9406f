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
