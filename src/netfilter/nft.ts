/**
 * nftables' words: families, hooks, the names of standard priorities, and the selectors whose
 * values tracewatch reads.
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
 * Selectors whose values tracewatch reads without an iptables equivalent (nft(8) EXPRESSIONS):
 * the value is structured (a number, a name, a list, a set), the meaning is nft's.
 */
export const NFT_SELECTORS: ReadonlySet<string> = new Set([
	'th dport', 'th sport', 'meta nfproto', 'meta iiftype', 'meta oiftype', 'meta iifgroup', 'meta oifgroup', 'meta skgid', 'meta cpu', 'meta cgroup', 'meta priority',
	'meta ibrname', 'meta obrname', 'meta length', 'meta protocol', 'meta secmark', 'meta time', 'meta day', 'meta hour',
	'ip ttl', 'ip length', 'ip id', 'ip dscp', 'ip ecn', 'ip version', 'ip hdrlength', 'ip6 hoplimit', 'ip6 flowlabel', 'ip6 dscp', 'ip6 ecn', 'ip6 length', 'ip6 version',
	'ether saddr', 'ether daddr', 'ether type', 'vlan id', 'vlan pcp', 'vlan type', 'arp operation', 'arp htype', 'arp ptype', 'arp saddr ip', 'arp daddr ip',
	'tcp sequence', 'tcp window', 'tcp urgptr', 'tcp doff', 'udp length', 'icmp code', 'icmp id', 'icmp sequence', 'icmpv6 code', 'icmpv6 id', 'icmpv6 sequence', 'icmpv6 mtu',
	'ct zone', 'ct expiration', 'ct label', 'ct bytes', 'ct packets', 'ct avgpkt', 'ct l3proto', 'ct protocol', 'ct helper', 'ct count', 'ct id',
	'ct original saddr', 'ct original daddr', 'ct reply saddr', 'ct reply daddr', 'ct original proto-src', 'ct original proto-dst', 'ct reply proto-src', 'ct reply proto-dst',
	'ct reply ip saddr', 'ct reply ip daddr', 'ct original ip6 saddr', 'ct original ip6 daddr', 'ct reply ip6 saddr', 'ct reply ip6 daddr',
	'fib saddr . iif oif', 'fib daddr . iif oif', 'fib saddr oif', 'fib daddr oif', 'fib daddr . iif type', 'fib saddr . iif type', 'socket transparent', 'socket mark', 'socket wildcard', 'rt nexthop', 'rt mtu', 'rt classid',
]);
