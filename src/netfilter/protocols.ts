/**
 * IP protocol numbers and their names, as each tool spells them.
 *
 * Input:  'tcp' (iptables -p), 'ipv6-icmp' (iptables -p, IPv6), 'icmpv6' (nft), '6', 'TCP' (kernel log)
 * Output: kernelProtoName('ipv6-icmp') === 'ICMPv6'; protoNumber('udp') === 17
 *
 * The kernel log prints TCP, UDP, UDPLITE, ICMP, ICMPv6, SCTP, ESP, AH, or the number; that
 * spelling is tracewatch's own (Packet.proto).
 */

/** Protocol number → the kernel log's name. */
const KERNEL_NAME: Readonly<Record<number, string>> = {1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 33: 'DCCP', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6', 132: 'SCTP', 136: 'UDPLITE'};

/** Lower-case names iptables, /etc/protocols and nft use → protocol number. */
const NUMBER: Readonly<Record<string, number>> = {
	icmp: 1, igmp: 2, tcp: 6, udp: 17, dccp: 33, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, udplite: 136,
};

/** The protocol number of a name or number in any tool's spelling, or undefined. */
export function protoNumber(name: string): number | undefined {
	if (/^\d+$/.test(name)) return Number(name);
	return NUMBER[name.toLowerCase()];
}

/**
 * The kernel log's name for a protocol given in any spelling ('tcp', 'ipv6-icmp', '6', 'TCP');
 * a number the kernel log would print as a number stays one; undefined for what is not a protocol.
 */
export function kernelProtoName(name: string): string | undefined {
	const n = protoNumber(name);
	if (n === undefined) return undefined;
	return KERNEL_NAME[n] ?? String(n);
}

/**
 * Protocols the kernel log prints by name after PROTO= (net/netfilter/nf_log_syslog.c: TCP, UDP,
 * UDPLITE, ICMP, ICMPv6, AH, ESP); it prints every other protocol as its number.
 */
export function kernelLogNames(n: number): boolean {
	return n === 6 || n === 17 || n === 136 || n === 1 || n === 58 || n === 50 || n === 51;
}

/** Protocols whose packets carry ports. */
export function hasPorts(proto: string): boolean {
	return proto === 'TCP' || proto === 'UDP' || proto === 'UDPLITE' || proto === 'SCTP' || proto === 'DCCP';
}

/** ICMP or ICMPv6. */
export function isIcmp(proto: string): proto is 'ICMP' | 'ICMPv6' {
	return proto === 'ICMP' || proto === 'ICMPv6';
}

/** IPv6 extension headers by number and by the names nft and /etc/protocols give them (nft prints 0 as `ip`). */
const IPV6_EXTENSIONS: Readonly<Record<string, string>> = {
	0: 'hop-by-hop', ip: 'hop-by-hop', hopopt: 'hop-by-hop', 43: 'routing', 'ipv6-route': 'routing', 44: 'fragment', 'ipv6-frag': 'fragment', 60: 'destination-options', 'ipv6-opts': 'destination-options',
};

/** The IPv6 extension header a next-header value names (`hop-by-hop`, `routing`, `fragment`, `destination-options`), or undefined when it names a protocol. */
export function ipv6ExtensionHeader(v: string): string | undefined {
	return Object.hasOwn(IPV6_EXTENSIONS, v.toLowerCase()) ? IPV6_EXTENSIONS[v.toLowerCase()] : undefined;
}
