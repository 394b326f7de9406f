/**
 * What each iptables target does to the walk of its chain, and to the packet: the one table of
 * target semantics lint, join and `explain` read (docs/architecture.md: netfilter's words).
 *
 * Input:  targetInfo('CT'), targetInfo('DNAT'), targetInfo('KUBE-SERVICES')
 * Output: {walk:'continues', changes:['conntrack'], …}; {walk:'ends', verdict:'ACCEPT', changes:['packet','conntrack'], …}; undefined (a chain)
 *
 * `walk` is what the kernel does after the target ran, read from the value the target's function
 * returns in the Linux source (net/netfilter/xt_*.c, net/ipv4/netfilter/ipt_*.c,
 * net/ipv6/netfilter/ip6t_*.c; Linux 6.x) or, for the standard verdicts, from ip_tables.c's walk
 * (ipt_do_table): `XT_CONTINUE` goes on to the next rule of the chain (`continues`); an `NF_*`
 * verdict ends the walk of this hook's table (`ends`: NF_ACCEPT, NF_DROP, NF_QUEUE, NF_STOLEN);
 * a target that returns either, depending on the packet, `may-continue`. RETURN ends the walk
 * of the chain only (the walk goes on in the calling chain, or the policy applies). A jump to a
 * user chain is no target extension (targetInfo gives undefined): the walk goes on after it
 * when the chain returns. The `cite` of each entry names the source file (or man page section)
 * that shows it.
 */

/** What happens after the target: the next rule runs, the walk ends, or either. */
export type Walk = 'ends' | 'continues' | 'may-continue';

/** What a target can change that a later rule can match on. */
export type Effect = 'packet' | 'mark' | 'conntrack' | 'ctmark' | 'secmark' | 'priority' | 'set' | 'rate';

export interface TargetInfo {
	readonly name: string;
	/** `verdict`: ACCEPT, DROP, RETURN, QUEUE (iptables' standard targets); `extension`: a target module. */
	readonly kind: 'verdict' | 'extension';
	readonly walk: Walk;
	/** When the walk ends: what the packet's fate is (RETURN: back to the calling chain). */
	readonly verdict?: 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE' | 'RETURN' | 'NAT' | 'STOLEN';
	/** What it may change that a rule after it can match on; empty: it changes nothing a rule reads (LOG, REJECT). */
	readonly changes: readonly Effect[];
	/** The options iptables-save prints for it (canonical names). */
	readonly options: readonly string[];
	/** Where the walk behaviour is documented: a kernel source file, or a man page and section. */
	readonly cite: string;
}

const NAT_OPTIONS = ['--to-destination', '--to-source', '--random', '--random-fully', '--persistent'];

/** Every target tracewatch knows, by name. */
const TARGETS: readonly TargetInfo[] = [
	// ---- The standard targets: verdicts (iptables(8) TARGETS; ipt_do_table in net/ipv4/netfilter/ip_tables.c).
	{name: 'ACCEPT', kind: 'verdict', walk: 'ends', verdict: 'ACCEPT', changes: [], options: [], cite: 'iptables(8) TARGETS; net/ipv4/netfilter/ip_tables.c ipt_do_table (verdict NF_ACCEPT)'},
	{name: 'DROP', kind: 'verdict', walk: 'ends', verdict: 'DROP', changes: [], options: [], cite: 'iptables(8) TARGETS; net/ipv4/netfilter/ip_tables.c ipt_do_table (verdict NF_DROP)'},
	{name: 'RETURN', kind: 'verdict', walk: 'ends', verdict: 'RETURN', changes: [], options: [], cite: 'iptables(8) TARGETS: "stop traversing this chain and resume at the next rule in the previous (calling) chain"'},
	{name: 'QUEUE', kind: 'verdict', walk: 'ends', verdict: 'QUEUE', changes: [], options: [], cite: 'iptables(8) TARGETS; verdict NF_QUEUE'},
	// ---- Targets that end the walk.
	{name: 'REJECT', kind: 'extension', walk: 'ends', verdict: 'REJECT', changes: [], options: ['--reject-with'], cite: 'net/ipv4/netfilter/ipt_REJECT.c, net/ipv6/netfilter/ip6t_REJECT.c: reject_tg returns NF_DROP after sending the error'},
	{name: 'NFQUEUE', kind: 'extension', walk: 'ends', verdict: 'QUEUE', changes: [], options: ['--queue-num', '--queue-balance', '--queue-bypass', '--fail-open', '--queue-cpu-fanout'], cite: 'net/netfilter/xt_NFQUEUE.c: nfqueue_tg returns NF_QUEUE_NR(queue) (with --queue-bypass the packet is accepted when no program listens, the walk still ends)'},
	{name: 'DNAT', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: NAT_OPTIONS, cite: 'net/netfilter/xt_nat.c: xt_dnat_target_v* returns nf_nat_setup_info() (NF_ACCEPT)'},
	{name: 'SNAT', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: NAT_OPTIONS, cite: 'net/netfilter/xt_nat.c: xt_snat_target_v* returns nf_nat_setup_info() (NF_ACCEPT)'},
	{name: 'MASQUERADE', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: ['--to-ports', '--random', '--random-fully'], cite: 'net/netfilter/xt_MASQUERADE.c: masquerade_tg returns nf_nat_masquerade_ipv4() (NF_ACCEPT, or NF_DROP without an address)'},
	{name: 'REDIRECT', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: ['--to-ports', '--random'], cite: 'net/netfilter/xt_REDIRECT.c: redirect_tg4 returns nf_nat_redirect_ipv4() (NF_ACCEPT)'},
	{name: 'NETMAP', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: ['--to'], cite: 'net/netfilter/xt_NETMAP.c: netmap_tg4 returns nf_nat_setup_info() (NF_ACCEPT)'},
	{name: 'TPROXY', kind: 'extension', walk: 'ends', verdict: 'ACCEPT', changes: ['mark'], options: ['--on-port', '--on-ip', '--tproxy-mark'], cite: 'net/netfilter/xt_TPROXY.c: tproxy_tg4 returns NF_ACCEPT when it assigned a socket, NF_DROP otherwise'},
	{name: 'TARPIT', kind: 'extension', walk: 'ends', verdict: 'DROP', changes: [], options: ['--tarpit', '--honeypot', '--reset'], cite: 'xtables-addons extensions/xt_TARPIT.c: returns NF_DROP'},
	{name: 'CHAOS', kind: 'extension', walk: 'ends', verdict: 'DROP', changes: [], options: ['--delude', '--tarpit'], cite: 'xtables-addons extensions/xt_CHAOS.c: returns NF_DROP'},
	{name: 'DELUDE', kind: 'extension', walk: 'ends', verdict: 'DROP', changes: [], options: [], cite: 'xtables-addons extensions/xt_DELUDE.c: returns NF_DROP'},
	{name: 'MIRROR', kind: 'extension', walk: 'ends', verdict: 'STOLEN', changes: [], options: [], cite: 'net/ipv4/netfilter/ipt_MIRROR.c (Linux 2.4, removed): returned NF_STOLEN'},
	{name: 'SAME', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: ['--to', '--nodst', '--random'], cite: 'net/ipv4/netfilter/ipt_SAME.c (removed in Linux 2.6.24): a NAT target'},
	{name: 'BALANCE', kind: 'extension', walk: 'ends', verdict: 'NAT', changes: ['packet', 'conntrack'], options: ['--to-destination'], cite: 'ipt_BALANCE (patch-o-matic, never in Linux): a NAT target'},
	// ---- Targets that may end the walk or go on, depending on the packet.
	{name: 'SYNPROXY', kind: 'extension', walk: 'may-continue', verdict: 'STOLEN', changes: ['conntrack'], options: ['--mss', '--wscale', '--sack-perm', '--timestamp', '--ecn'], cite: 'net/ipv4/netfilter/ipt_SYNPROXY.c: synproxy_tg4 returns NF_STOLEN for a SYN, NF_DROP for a bad packet, XT_CONTINUE otherwise'},
	{name: 'CLUSTERIP', kind: 'extension', walk: 'may-continue', verdict: 'DROP', changes: ['ctmark'], options: ['--new', '--hashmode', '--clustermac', '--total-nodes', '--local-node', '--hash-init'], cite: 'net/ipv4/netfilter/ipt_CLUSTERIP.c (removed in Linux 6.3): clusterip_tg returns NF_DROP for packets of another node, XT_CONTINUE otherwise'},
	// ---- Targets that go on to the next rule.
	{name: 'LOG', kind: 'extension', walk: 'continues', changes: [], options: ['--log-level', '--log-prefix', '--log-tcp-sequence', '--log-tcp-options', '--log-ip-options', '--log-uid', '--log-macdecode'], cite: 'net/netfilter/xt_LOG.c: log_tg returns XT_CONTINUE'},
	{name: 'NFLOG', kind: 'extension', walk: 'continues', changes: [], options: ['--nflog-group', '--nflog-prefix', '--nflog-range', '--nflog-size', '--nflog-threshold'], cite: 'net/netfilter/xt_NFLOG.c: nflog_tg returns XT_CONTINUE'},
	{name: 'ULOG', kind: 'extension', walk: 'continues', changes: [], options: ['--ulog-nlgroup', '--ulog-prefix', '--ulog-cprange', '--ulog-qthreshold'], cite: 'net/ipv4/netfilter/ipt_ULOG.c (removed in Linux 3.17): ipt_ulog_target returns XT_CONTINUE'},
	{name: 'TRACE', kind: 'extension', walk: 'continues', changes: [], options: [], cite: 'net/netfilter/xt_TRACE.c: trace_tg sets skb->nf_trace (which no iptables match reads), returns XT_CONTINUE'},
	{name: 'AUDIT', kind: 'extension', walk: 'continues', changes: [], options: ['--type'], cite: 'net/netfilter/xt_AUDIT.c: audit_tg returns XT_CONTINUE'},
	{name: 'MARK', kind: 'extension', walk: 'continues', changes: ['mark'], options: ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark'], cite: 'net/netfilter/xt_mark.c: mark_tg sets skb->mark, returns XT_CONTINUE'},
	{name: 'CONNMARK', kind: 'extension', walk: 'continues', changes: ['mark', 'ctmark'], options: ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark', '--save-mark', '--restore-mark', '--nfmask', '--ctmask', '--mask', '--left-shift-mark', '--right-shift-mark'], cite: 'net/netfilter/xt_connmark.c: connmark_tg returns XT_CONTINUE'},
	{name: 'SECMARK', kind: 'extension', walk: 'continues', changes: ['secmark'], options: ['--selctx'], cite: 'net/netfilter/xt_SECMARK.c: secmark_tg returns XT_CONTINUE'},
	{name: 'CONNSECMARK', kind: 'extension', walk: 'continues', changes: ['secmark'], options: ['--save', '--restore'], cite: 'net/netfilter/xt_CONNSECMARK.c: connsecmark_tg returns XT_CONTINUE'},
	{name: 'CT', kind: 'extension', walk: 'continues', changes: ['conntrack'], options: ['--notrack', '--helper', '--ctevents', '--expevents', '--zone', '--zone-orig', '--zone-reply', '--timeout'], cite: 'net/netfilter/xt_CT.c: xt_ct_target_v0/v1 return XT_CONTINUE'},
	{name: 'NOTRACK', kind: 'extension', walk: 'continues', changes: ['conntrack'], options: [], cite: 'net/netfilter/xt_CT.c: notrack_tg returns XT_CONTINUE'},
	{name: 'TCPMSS', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--set-mss', '--clamp-mss-to-pmtu'], cite: 'net/netfilter/xt_TCPMSS.c: tcpmss_tg4 returns XT_CONTINUE (NF_DROP only for a packet it cannot change)'},
	{name: 'TCPOPTSTRIP', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--strip-options'], cite: 'net/netfilter/xt_TCPOPTSTRIP.c: tcpoptstrip_mangle_packet returns XT_CONTINUE'},
	{name: 'CHECKSUM', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--checksum-fill'], cite: 'net/netfilter/xt_CHECKSUM.c: checksum_tg returns XT_CONTINUE'},
	{name: 'TOS', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--set-tos', '--and-tos', '--or-tos', '--xor-tos'], cite: 'net/netfilter/xt_DSCP.c: tos_tg returns XT_CONTINUE'},
	{name: 'DSCP', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--set-dscp', '--set-dscp-class'], cite: 'net/netfilter/xt_DSCP.c: dscp_tg returns XT_CONTINUE'},
	{name: 'TTL', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--ttl-set', '--ttl-dec', '--ttl-inc'], cite: 'net/netfilter/xt_HL.c: ttl_tg returns XT_CONTINUE'},
	{name: 'HL', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--hl-set', '--hl-dec', '--hl-inc'], cite: 'net/netfilter/xt_HL.c: hl_tg6 returns XT_CONTINUE'},
	{name: 'ECN', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--ecn-tcp-remove', '--ecn-tcp-cwr', '--ecn-tcp-ece', '--ecn-ip-ect'], cite: 'net/ipv4/netfilter/ipt_ECN.c: ecn_tg returns XT_CONTINUE'},
	{name: 'SET', kind: 'extension', walk: 'continues', changes: ['set', 'mark', 'priority'], options: ['--add-set', '--del-set', '--map-set', '--timeout', '--exist', '--map-mark', '--map-prio', '--map-queue'], cite: 'net/netfilter/xt_set.c: set_target_v* return XT_CONTINUE'},
	{name: 'CLASSIFY', kind: 'extension', walk: 'continues', changes: ['priority'], options: ['--set-class'], cite: 'net/netfilter/xt_CLASSIFY.c: classify_tg sets skb->priority, returns XT_CONTINUE'},
	{name: 'HMARK', kind: 'extension', walk: 'continues', changes: ['mark'], options: ['--hmark-tuple', '--hmark-src-prefix', '--hmark-dst-prefix', '--hmark-sport-mask', '--hmark-dport-mask', '--hmark-spi-mask', '--hmark-proto-mask', '--hmark-rnd', '--hmark-mod', '--hmark-offset'], cite: 'net/netfilter/xt_HMARK.c: hmark_tg_v4 sets skb->mark, returns XT_CONTINUE'},
	{name: 'IDLETIMER', kind: 'extension', walk: 'continues', changes: [], options: ['--timeout', '--label', '--alarm'], cite: 'net/netfilter/xt_IDLETIMER.c: idletimer_tg_target returns XT_CONTINUE'},
	{name: 'LED', kind: 'extension', walk: 'continues', changes: [], options: ['--led-trigger-id', '--led-delay', '--led-always-blink'], cite: 'net/netfilter/xt_LED.c: led_tg returns XT_CONTINUE'},
	{name: 'RATEEST', kind: 'extension', walk: 'continues', changes: ['rate'], options: ['--rateest-name', '--rateest-interval', '--rateest-ewmalog'], cite: 'net/netfilter/xt_RATEEST.c: xt_rateest_tg returns XT_CONTINUE'},
	{name: 'TEE', kind: 'extension', walk: 'continues', changes: [], options: ['--gateway', '--oif'], cite: 'net/netfilter/xt_TEE.c: tee_tg4 sends a copy, returns XT_CONTINUE'},
	{name: 'DNPT', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--src-pfx', '--dst-pfx'], cite: 'net/ipv6/netfilter/ip6t_NPT.c: ip6t_dnpt_tg returns XT_CONTINUE (NF_DROP when it cannot translate)'},
	{name: 'SNPT', kind: 'extension', walk: 'continues', changes: ['packet'], options: ['--src-pfx', '--dst-pfx'], cite: 'net/ipv6/netfilter/ip6t_NPT.c: ip6t_snpt_tg returns XT_CONTINUE (NF_DROP when it cannot translate)'},
	{name: 'IPV4OPTSSTRIP', kind: 'extension', walk: 'continues', changes: ['packet'], options: [], cite: 'xtables-addons extensions/xt_IPV4OPTSSTRIP.c: returns XT_CONTINUE'},
];

const BY_NAME: ReadonlyMap<string, TargetInfo> = new Map(TARGETS.map(t => [t.name, t]));

/** What the target `name` does; undefined for a name that is no target tracewatch knows (a user chain, or an extension it does not). */
export function targetInfo(name: string): TargetInfo | undefined {
	return BY_NAME.get(name);
}

/** Every target tracewatch knows. */
export function knownTargets(): readonly TargetInfo[] {
	return TARGETS;
}

/** Is `-j NAME` a target extension (or a verdict) rather than a jump to a user chain? */
export function isTargetName(name: string): boolean {
	return BY_NAME.has(name);
}
