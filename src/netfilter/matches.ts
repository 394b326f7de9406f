/**
 * iptables' match modules: the options each one takes (as iptables-save prints them), which
 * protocol loads one by itself, and what kind of condition it is.
 *
 * Input:  matchOptions('conntrack'), implicitMatch('tcp'), matchInfo('hashlimit')
 * Output: ['--ctstate', '--ctproto', …]; 'tcp' (`-p tcp --dport 22` needs no `-m tcp`);
 *         {stateful:false, varies:true}
 *
 * From iptables-extensions(8) (iptables 1.8) and the save functions of iptables' extensions/
 * libxt_*.c, libipt_*.c, libip6t_*.c. A module not listed is one tracewatch does not model.
 */

export interface MatchInfo {
	readonly module: string;
	/** The options it takes, canonical names (`--dport`, not `--destination-port`). */
	readonly options: readonly string[];
	/** It looks at something a rule on the way can change (marks, conntrack, TOS, TTL, sets). */
	readonly stateful?: true;
	/** The same packet can match at one time and not at another (a rate, a random pick, a socket, a set). */
	readonly varies?: true;
}

const M = (module: string, options: readonly string[], flags: {stateful?: true; varies?: true} = {}): MatchInfo => ({module, options, ...flags});

const MATCHES: readonly MatchInfo[] = [
	M('basic', ['-s', '-d', '-p', '-i', '-o', '-f']),
	M('tcp', ['--sport', '--dport', '--tcp-flags', '--syn', '--tcp-option']),
	M('udp', ['--sport', '--dport']),
	M('udplite', ['--sport', '--dport']),
	M('sctp', ['--sport', '--dport', '--chunk-types']),
	M('dccp', ['--sport', '--dport', '--dccp-types', '--dccp-option']),
	M('icmp', ['--icmp-type']),
	M('icmp6', ['--icmpv6-type']),
	M('multiport', ['--sports', '--dports', '--ports']),
	M('conntrack', ['--ctstate', '--ctproto', '--ctorigsrc', '--ctorigdst', '--ctreplsrc', '--ctrepldst', '--ctorigsrcport', '--ctorigdstport', '--ctreplsrcport', '--ctrepldstport', '--ctstatus', '--ctexpire', '--ctdir'], {stateful: true}),
	M('state', ['--state'], {stateful: true}),
	M('mark', ['--mark'], {stateful: true}),
	M('connmark', ['--mark'], {stateful: true}),
	M('comment', ['--comment']),
	M('addrtype', ['--src-type', '--dst-type', '--limit-iface-in', '--limit-iface-out']),
	M('set', ['--match-set', '--return-nomatch', '--update-counters', '--update-subcounters', '--packets-eq', '--packets-lt', '--packets-gt', '--bytes-eq', '--bytes-lt', '--bytes-gt'], {stateful: true, varies: true}),
	M('limit', ['--limit', '--limit-burst'], {varies: true}),
	M('hashlimit', ['--hashlimit-upto', '--hashlimit-above', '--hashlimit-burst', '--hashlimit-mode', '--hashlimit-srcmask', '--hashlimit-dstmask', '--hashlimit-name', '--hashlimit-htable-size', '--hashlimit-htable-max', '--hashlimit-htable-expire', '--hashlimit-htable-gcinterval', '--hashlimit-rate-match', '--hashlimit-rate-interval'], {varies: true}),
	M('physdev', ['--physdev-in', '--physdev-out', '--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged']),
	M('mac', ['--mac-source']),
	M('iprange', ['--src-range', '--dst-range']),
	M('owner', ['--uid-owner', '--gid-owner', '--socket-exists', '--suppl-groups'], {varies: true}),
	M('statistic', ['--mode', '--probability', '--every', '--packet'], {varies: true}),
	M('tos', ['--tos'], {stateful: true}),
	M('dscp', ['--dscp', '--dscp-class'], {stateful: true}),
	M('ttl', ['--ttl-eq', '--ttl-gt', '--ttl-lt'], {stateful: true}),
	M('hl', ['--hl-eq', '--hl-gt', '--hl-lt'], {stateful: true}),
	M('ecn', ['--ecn-tcp-cwr', '--ecn-tcp-ece', '--ecn-ip-ect'], {stateful: true}),
	M('length', ['--length']),
	M('pkttype', ['--pkt-type']),
	M('connbytes', ['--connbytes', '--connbytes-dir', '--connbytes-mode'], {stateful: true, varies: true}),
	M('connlimit', ['--connlimit-upto', '--connlimit-above', '--connlimit-mask', '--connlimit-saddr', '--connlimit-daddr'], {varies: true}),
	M('connlabel', ['--label', '--set'], {stateful: true}),
	M('helper', ['--helper'], {stateful: true}),
	M('recent', ['--name', '--set', '--rsource', '--rdest', '--mask', '--rcheck', '--update', '--remove', '--seconds', '--reap', '--hitcount', '--rttl'], {varies: true}),
	M('string', ['--algo', '--from', '--to', '--string', '--hex-string', '--icase']),
	M('time', ['--datestart', '--datestop', '--timestart', '--timestop', '--monthdays', '--weekdays', '--contiguous', '--kerneltz', '--utc', '--localtz'], {varies: true}),
	M('quota', ['--quota'], {varies: true}),
	M('rateest', ['--rateest', '--rateest1', '--rateest2', '--rateest-delta', '--rateest-bps', '--rateest-pps', '--rateest-bps1', '--rateest-pps1', '--rateest-bps2', '--rateest-pps2', '--rateest-lt', '--rateest-gt', '--rateest-eq'], {varies: true}),
	M('cpu', ['--cpu'], {varies: true}),
	M('cgroup', ['--cgroup', '--path'], {varies: true}),
	M('cluster', ['--cluster-total-nodes', '--cluster-local-node', '--cluster-local-nodemask', '--cluster-hash-seed']),
	M('socket', ['--transparent', '--nowildcard', '--restore-skmark'], {varies: true}),
	M('policy', ['--dir', '--pol', '--strict', '--reqid', '--spi', '--proto', '--mode', '--tunnel-src', '--tunnel-dst', '--next']),
	M('realm', ['--realm']),
	M('rpfilter', ['--loose', '--validmark', '--accept-local', '--invert']),
	M('tcpmss', ['--mss']),
	M('u32', ['--u32']),
	M('bpf', ['--bytecode', '--object-pinned'], {varies: true}),
	M('osf', ['--genre', '--ttl', '--log']),
	M('nfacct', ['--nfacct-name'], {varies: true}),
	M('devgroup', ['--src-group', '--dst-group']),
	M('ipvs', ['--ipvs', '--vproto', '--vaddr', '--vport', '--vdir', '--vmethod', '--vportctl'], {stateful: true}),
	M('l2tp', ['--tid', '--sid', '--type', '--version']),
	M('esp', ['--espspi']),
	M('ah', ['--ahspi', '--ahlen', '--ahres']),
	M('ipcomp', ['--ipcompspi', '--compres']),
	M('frag', ['--fragid', '--fraglen', '--fragres', '--fragfirst', '--fragmore', '--fraglast']),
	M('dst', ['--dst-len', '--dst-opts']),
	M('hbh', ['--hbh-len', '--hbh-opts']),
	M('rt', ['--rt-type', '--rt-segsleft', '--rt-len', '--rt-0-res', '--rt-0-addrs', '--rt-0-not-strict']),
	M('mh', ['--mh-type']),
	M('ipv6header', ['--header', '--soft']),
	M('eui64', []),
	M('srh', ['--srh-next-hdr', '--srh-hdr-len-eq', '--srh-hdr-len-gt', '--srh-hdr-len-lt', '--srh-segs-left-eq', '--srh-segs-left-gt', '--srh-segs-left-lt', '--srh-last-entry-eq', '--srh-last-entry-gt', '--srh-last-entry-lt', '--srh-tag', '--srh-psid', '--srh-nsid', '--srh-lsid']),
];

const BY_MODULE: ReadonlyMap<string, MatchInfo> = new Map(MATCHES.map(m => [m.module, m]));

/** The module `-m NAME` loads; undefined for one tracewatch does not model. */
export function matchInfo(module: string): MatchInfo | undefined {
	return BY_MODULE.get(module);
}

/** Does match `module` take the option `name` (canonical)? */
export function matchHasOption(module: string, name: string): boolean {
	return BY_MODULE.get(module)?.options.includes(name) ?? false;
}

/** The protocols whose match `-p NAME` loads by itself: their options need no `-m`. */
const IMPLICIT: Readonly<Record<string, string>> = {
	tcp: 'tcp', '6': 'tcp', udp: 'udp', '17': 'udp', udplite: 'udplite', '136': 'udplite', sctp: 'sctp', '132': 'sctp', dccp: 'dccp', '33': 'dccp',
	icmp: 'icmp', '1': 'icmp', 'ipv6-icmp': 'icmp6', icmpv6: 'icmp6', '58': 'icmp6',
};

/** The match `-p NAME` loads by itself (`tcp` for `-p tcp`), if any. */
export function implicitMatch(proto: string): string | undefined {
	return IMPLICIT[proto];
}
