/**
 * The data the parser hands to the model: one result per input line.
 *
 * Input:  `[ 1214.704789] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= MAC=… SRC=198.18.0.1 DST=198.18.0.2 LEN=84 … PROTO=ICMP TYPE=8 CODE=0 ID=2419 SEQ=1`
 * Output: `{kind:'event', event:{type:'kernel-hop', table:'raw', chain:'PREROUTING', hop:'policy', num:2,
 *           time:{mono:1214.704789}, pkt:{family:'ipv4', in:'eth0', src:'198.18.0.1', …, icmp:{type:8, code:0, id:2419, seq:1}}}}`
 */

import type {MldInfo} from '../netfilter/icmp.js';

/** The three words the kernel prints in `table:chain:TYPE:N`. */
export type HopType = 'rule' | 'return' | 'policy';

export type Family = 'ipv4' | 'ipv6' | 'arp' | 'bridge' | 'inet' | 'netdev' | 'unknown';

/** When a line was logged, as far as its prefix tells. */
export interface Stamp {
	/** Seconds since boot (dmesg `[  123.456789]`, /dev/kmsg, journalctl short-monotonic). */
	readonly mono?: number;
	/** Wall-clock milliseconds since the epoch (dmesg -T, iso, syslog, journalctl). Years missing from syslog stamps are taken as the current year. */
	readonly wall?: number;
	/** The stamp as written. */
	readonly text: string;
}

export interface IcmpInfo {
	readonly type: number;
	readonly code?: number;
	readonly id?: number;
	readonly seq?: number;
	/** Next-hop MTU of a "fragmentation needed" / "packet too big" error. */
	readonly mtu?: number;
	readonly gateway?: string;
	readonly parameter?: number;
	/** A multicast listener discovery message (ICMPv6 130, 131, 132, 143): what its body says, as far as the trace shows it. */
	readonly mld?: MldInfo;
}

export interface ArpInfo {
	/** 1 request, 2 reply (RFC 826 opcodes). */
	readonly op: number;
	readonly htype?: number;
	readonly ptype?: number;
	/** Sender and target hardware addresses, as the ARP payload carries them. */
	readonly sha?: string;
	readonly tha?: string;
}

/** What a trace line says about the packet at that point of its path. */
export interface PacketFields {
	family: Family;
	in?: string;
	out?: string;
	physin?: string;
	physout?: string;
	/** Raw MAC header hex (kernel `MAC=`); empty string when the device has no link header. */
	mac?: string;
	macsrc?: string;
	macdst?: string;
	src?: string;
	dst?: string;
	/** IP total length (IPv4) or payload + 40 (IPv6). */
	len?: number;
	tos?: number;
	/** TTL (IPv4) or hop limit (IPv6). */
	ttl?: number;
	/** IPv4 identification. IPv6 has none. */
	ipId?: number;
	/** IPv6 traffic class and flow label. */
	tc?: number;
	flowLabel?: number;
	/** IPv4 flags present: DF, MF, CE. */
	ipFlags?: string[];
	fragOffset?: number;
	/** Transport protocol as the kernel names it: TCP, UDP, UDPLITE, ICMP, ICMPv6, AH, ESP, SCTP, or a number. */
	proto?: string;
	spt?: number;
	dpt?: number;
	seq?: number;
	ack?: number;
	window?: number;
	/** TCP urgent pointer; the kernel prints it last in the TCP header, so a line without it was cut. */
	urgp?: number;
	tcpFlags?: string[];
	udpLen?: number;
	icmp?: IcmpInfo;
	/** The packet quoted inside an ICMP error. */
	quoted?: PacketFields;
	uid?: number;
	gid?: number;
	/** Packet mark in hex (`0x4000`), only when non-zero. */
	mark?: string;
	/** Bytes the kernel could not read (`INCOMPLETE [8 bytes]`). */
	incomplete?: number;
	/** The line ended inside brackets or parentheses: cut by the kernel's 1019-byte limit or by a copy. */
	cut?: boolean;
	/**
	 * IPv6: the extension header nft printed as the next header (`ip6 nexthdr ip` is protocol 0,
	 * the hop-by-hop header MLD messages carry): `hop-by-hop`, `routing`, `fragment`,
	 * `destination-options`. nft then prints neither the protocol after it nor its decoded header,
	 * only the header's first bytes (`@th,0,160 0x…`, kept in `extra`).
	 */
	extHeader?: string;
	/** Ethernet type of a bridged frame (ebtables' `proto = 0x0800`): 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP. */
	ethertype?: number;
	/** An ARP frame's header (the bridge family's log): its operation (1 request, 2 reply) and the sender's and target's hardware addresses; `src`/`dst` hold the sender's and target's IP addresses. */
	arp?: ArpInfo;
	/** Fields tracewatch does not interpret, kept as written. */
	extra?: Record<string, string>;
}

/** A kernel `TRACE:` line (legacy iptables, or nf_tables on old kernels). */
export interface KernelHopEvent {
	readonly type: 'kernel-hop';
	readonly time?: Stamp;
	readonly host?: string;
	readonly table: string;
	readonly chain: string;
	readonly hop: HopType;
	readonly num: number;
	readonly pkt: PacketFields;
}

/** A `-j LOG` line: any --log-prefix, then the packet. */
export interface KernelLogEvent {
	readonly type: 'kernel-log';
	readonly time?: Stamp;
	readonly host?: string;
	readonly prefix: string;
	readonly pkt: PacketFields;
}

/**
 * A line of ebtables' log watcher (bridge family; net/bridge/netfilter/ebt_log.c), which
 * ebtables-nft's `--log` prints too: `PREFIX IN=p-a OUT=p-b MAC source = … MAC dest = … proto =
 * 0x0800 IP SRC=… IP DST=…, IP tos=0x00, IP proto=1`. ebtables has no TRACE target; published
 * guides log every chain with a prefix naming it (`--log-prefix "TRACE: eb:nat:PREROUTING"`),
 * and then `table` and `chain` say which. `pkt` has the family `bridge`, the bridge ports as
 * in/out, the MACs and the ethertype, and with --log-ip/--log-ip6/--log-arp the addresses, TOS,
 * protocol and ports, or the ARP header (no length, id or TTL).
 */
export interface KernelBridgeEvent {
	readonly type: 'kernel-bridge';
	readonly time?: Stamp;
	readonly host?: string;
	/** The ebtables table and chain a `TRACE: eb:TABLE:CHAIN` prefix names (`nat`, `PREROUTING`); absent for another prefix. */
	readonly table?: string;
	readonly chain?: string;
	/** The whole --log-prefix as written. */
	readonly prefix: string;
	readonly pkt: PacketFields;
}

/** xtables-monitor `PACKET:` line: the packet as it enters a base chain. */
export interface XtPacketEvent {
	readonly type: 'xt-packet';
	readonly nfproto: number;
	readonly traceId: string;
	readonly pkt: PacketFields;
}

/** xtables-monitor ` TRACE:` line. */
export interface XtHopEvent {
	readonly type: 'xt-hop';
	readonly nfproto: number;
	readonly traceId: string;
	readonly table: string;
	readonly chain: string;
	readonly hop: HopType;
	/** nft rule handle (not a position). */
	readonly handle?: number;
	/** ACCEPT, DROP, CONTINUE, JUMP, GOTO, RETURN, … */
	readonly verdict?: string;
	/** Chain named by JUMP:/GOTO:, or by `return:` in some versions. */
	readonly target?: string;
	/** The rule in iptables-save syntax, with the `-4 -t table` / `iptables -t table` prefix removed. */
	readonly ruleText?: string;
}

/** nft monitor trace `packet:` line. */
export interface NftPacketEvent {
	readonly type: 'nft-packet';
	readonly family: Family;
	readonly traceId: string;
	readonly table: string;
	readonly chain: string;
	readonly pkt: PacketFields;
}

/** nft monitor trace `rule …`, `verdict …`, `policy …` and `unknown rule handle …` lines. */
export interface NftHopEvent {
	readonly type: 'nft-hop';
	readonly family: Family;
	readonly traceId: string;
	readonly table: string;
	readonly chain: string;
	readonly hop: 'rule' | 'verdict' | 'policy' | 'unknown-rule';
	readonly ruleText?: string;
	readonly handle?: number;
	/** accept, drop, continue, return, jump, goto, queue, … */
	readonly verdict: string;
	readonly target?: string;
	readonly mark?: string;
}

/** nft monitor trace `conntrack:` line (newer nft): kept as text. */
export interface NftConntrackEvent {
	readonly type: 'nft-conntrack';
	readonly family: Family;
	readonly traceId: string;
	readonly table: string;
	readonly chain: string;
	readonly text: string;
}

/** A line recognised as trace output that tracewatch does not model (xtables-monitor EVENT). */
export interface IgnoredEvent {
	readonly type: 'ignored';
	readonly what: 'xtables-event';
}

export type TraceEvent =
	| KernelHopEvent
	| KernelLogEvent
	| KernelBridgeEvent
	| XtPacketEvent
	| XtHopEvent
	| NftPacketEvent
	| NftHopEvent
	| NftConntrackEvent
	| IgnoredEvent;

/**
 * A line that says the log around it may be incomplete: the kernel or journald dropped lines
 * (rate limits, the printk ring buffer), or the program that wrote the trace reported an error
 * (xtables-monitor stops at one). Not trace output; counted and reported on their own.
 */
export interface LogNotice {
	/**
	 * `suppressed`: lines left out by a rate limit; `dropped`: lost by the kernel's log buffer;
	 * `tool-error`: the tracing program failed (and may have stopped); `cut-start`: no line says
	 * it, but the input begins in the middle of packets (their first lines are past where a traced
	 * packet enters: the kernel's ring buffer wrapped, or the capture started while they were on
	 * their way), said by the pipeline.
	 */
	readonly what: 'suppressed' | 'dropped' | 'tool-error' | 'cut-start';
	/** How many lines were left out, when the line says. */
	readonly count?: number;
	/** The message, as written (without the log's timestamp). */
	readonly text: string;
	readonly time?: Stamp;
}

/** The trace format a line was read as. */
export type LineFormat = 'kernel' | 'xtables-monitor' | 'nft-monitor';

/** Where a line came from: input index (into the list of inputs) and 1-based line number. */
export interface LineRef {
	readonly input: number;
	readonly line: number;
}

/**
 * The containers a trace line can come unpacked from (parser/framing.ts): `dmesg -J`,
 * `journalctl -o json` / `json-pretty`, `journalctl -o export`.
 */
export type Container = 'dmesg-json' | 'journal-json' | 'journal-export';

/** What a parsed line says about how it was framed, beside what it holds. */
export interface LineFraming {
	/** Physical lines joined onto this one: a long line hard-wrapped by a terminal, an e-mail or a paste (parser/wrapped.ts). */
	readonly joined?: number;
	/** The container the line was unpacked from. */
	readonly container?: Container;
}

export type ParsedLine = LineFraming &
	(
	| {
			readonly kind: 'event';
			readonly format: LineFormat;
			readonly event: TraceEvent;
			/** Further records found on the same line (kernel records pasted onto one line). */
			readonly rest?: readonly TraceEvent[];
			readonly ref: LineRef;
	  }
	| {readonly kind: 'skipped'; readonly ref: LineRef}
	| {readonly kind: 'notice'; readonly ref: LineRef; readonly notice: LogNotice}
	| {readonly kind: 'unparsed'; readonly ref: LineRef; readonly column: number; readonly reason: string; readonly excerpt: string}
	);
