/**
 * The model's view of a trace: packets, each with the hops it took.
 * Field names here are the JSON contract (docs/json.md); keep them stable.
 */
import type {ArpInfo, Family, IcmpInfo, LineFormat, LineRef, PacketFields, Stamp} from '../parser/types.js';

import type {Hook} from '../netfilter/hooks.js';

export type {Hook} from '../netfilter/hooks.js';

/** How a hop's chain was left or a rule matched: the kernel's words, plus `log` for -j LOG lines and nft's `verdict`. */
export type HopKind = 'rule' | 'return' | 'policy' | 'verdict' | 'log';

export interface Hop {
	table: string;
	chain: string;
	kind: HopKind;
	/** Position in the chain (kernel `rule:N`), or the position found in the dump for xtables-monitor / nft hops; null when unknown. */
	num: number | null;
	/** Where the line is: input index and 1-based line number. */
	ref: LineRef;
	time?: Stamp;
	/** The hook this hop ran in, when known (from the chain, or inherited from the calling chain). */
	hook?: Hook;
	in: string;
	out: string;
	src?: string;
	dst?: string;
	spt?: number;
	dpt?: number;
	mark?: string;
	ttl?: number;
	/** The rule: from the joined dump (kernel), or as the trace printed it (xtables-monitor, nft). */
	rule?: string;
	/** The rule's target (`-j`/`-g`), the chain policy, or the verdict the trace printed. */
	target?: string;
	/** Where `rule` comes from. */
	ruleFrom?: 'dump' | 'trace';
	/** Line of the rule in the dump. */
	ruleLine?: number;
	/** nft rule handle (xtables-monitor, nft). */
	handle?: number;
	/** Verdict printed by xtables-monitor / nft for this hop (ACCEPT, DROP, CONTINUE, JUMP, RETURN…). */
	traceVerdict?: string;
	/** The --log-prefix of a -j LOG line. */
	logPrefix?: string;
	/** Something about this hop that a person should know (dump does not match the trace, …). */
	note?: string;
	/**
	 * A bridge-family hop: a line of ebtables' log watcher (ebtables has no TRACE target). With a
	 * `TRACE: eb:TABLE:CHAIN` prefix its `table` is `eb:TABLE` and its `chain` CHAIN; with another
	 * prefix both are empty and `logPrefix` says which rule logged. Its kind is `log`; `in`/`out`
	 * are bridge ports; it shows no TTL, mark or IP length.
	 */
	bridge?: true;
}

/** The header fields whose changes along a packet's path are recorded (Packet.changes). */
export type ChangedField = 'mark' | 'src' | 'dst' | 'out' | 'ttl';

/**
 * A header field that a hop shows changed from the hops before it, and what changed it.
 * A trace line is printed before its rule's target runs, so a rule's change shows from the next
 * line on: `at` is the hop whose rule did it, `seen` the first hop that shows the new value.
 */
export interface FieldChange {
	field: ChangedField;
	/** Before and after, as the trace shows them: `addr:port` (`[v6]:port`) for src and dst, the interface for out (`''` when none yet), the mark in hex (`''` when none), the TTL or hop limit as a number in a string. */
	from: string;
	to: string;
	/**
	 * What made it: `rule` — the target of the rule of hop `at` (MARK, CONNMARK, DNAT, SNAT, TTL, …);
	 * `routing` — the routing decision between hop `at` and hop `seen` (the OUT interface; the TTL
	 * decrement of a forwarded packet; a re-route after OUTPUT); `conntrack` — an established
	 * connection's NAT, applied or undone by conntrack at the nat hook without any nat rule running
	 * (see Packet.connection for which).
	 */
	by: 'rule' | 'routing' | 'conntrack';
	/** Index in `hops` of the hop whose rule made it (`rule`), or of the last hop before it happened (`routing`, `conntrack`). */
	at: number;
	/** Index in `hops` of the first hop that shows the new value. */
	seen: number;
}

/** What conntrack did to a packet of a known connection without a nat rule running. */
export interface ConntrackRewrite {
	field: 'src' | 'dst';
	/** `addr:port` before and after. */
	from: string;
	to: string;
	/**
	 * `restored`: the connection's NAT undone on a reply — a reply to a masqueraded/SNATed packet
	 * gets its destination put back before routing; a reply of a DNATed connection gets its source
	 * put back in nat POSTROUTING (or INPUT). `applied`: the connection's NAT applied again to a
	 * later packet going the way the connection was opened.
	 */
	did: 'restored' | 'applied';
	/**
	 * `trace`: the trace shows it (Packet.changes holds the same rewrite by `conntrack`, first shown
	 * at hop `seen`, after hop `at`); `inferred`: it happens after the last point a trace can show
	 * (source rewrites), known from the NAT of the connection's earlier packets.
	 */
	seen: 'trace' | 'inferred';
	at?: number;
	/** For `inferred`: the id of the earlier packet whose NAT it undoes or repeats. */
	of?: number;
}

/** How a packet relates to the connection it belongs to, when earlier packets of it were traced. */
export interface ConnectionRelation {
	/** `reply`: it goes the other way from the connection's first traced packet ("reply of #first"); `original`: the same way. */
	direction: 'original' | 'reply';
	/** Id of the connection's first traced packet (its opening packet when the opening was traced). */
	first: number;
	/** What conntrack did to this packet (restored on a reply, applied on a later packet), in path order; empty when nothing. */
	conntrack: ConntrackRewrite[];
}

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE' | 'STOLEN' | 'unknown';

export interface NatRewrite {
	/** DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP, or `conntrack` when an established connection's mapping rewrote the packet without a nat rule. */
	type: string;
	/** `table:chain:kind:num` of the rule that did it, or where the rewrite was first seen. */
	at: string;
	from: string;
	to: string;
	/** `addresses`: the trace shows the change; `rule`: inferred from the matched nat rule (SNAT happens after the last trace point). */
	seen: 'addresses' | 'rule' | 'connection';
}

export interface Packet {
	/** Unique within its node: a packet is named by node and id when several nodes are replayed (`node-a #3`). */
	id: number;
	/** The node whose trace it comes from, when several nodes are replayed together (--node, or a central log's host names). */
	node?: string;
	/** What its addresses, service ports and interfaces are (--names: pods, services, nodes, devices): `{"198.19.1.2": "pod default/web-0 (node-a)"}`. */
	names?: Record<string, string>;
	family: Family;
	proto: string;
	/** The packet as first seen (before any DNAT). */
	src: string;
	dst: string;
	spt?: number;
	dpt?: number;
	ipId?: number;
	icmp?: IcmpInfo;
	tcpFlags?: string[];
	len?: number;
	hops: Hop[];
	verdict: Verdict;
	/** Why the verdict is what it is, in words. */
	verdictBasis: string;
	in: string;
	out: string;
	nat: NatRewrite[];
	/** Id of the earlier packet of the other direction of the same connection that this one answers. */
	replyTo: number | null;
	/** A packet going the other way in the same connection was seen after this one. */
	replySeen: boolean;
	/** The format the packet was read from. */
	format: LineFormat;
	/** xtables-monitor / nft trace id. */
	traceId?: string;
	/** All trace ids the packet was seen under, when the id changed on the way (the kernel's id hashes the skb's flow hash, which may be set mid-path). */
	traceIds?: string[];
	/** The fields of the first line, for views that show more. */
	first: PacketFields;
	/** For an ICMP error: the id of the packet it quotes, when seen. */
	quotes?: number | null;
	/** The fields of the packet quoted in an ICMP error. */
	quoted?: PacketFields;
	/** The id of the ICMP error this host sent instead of forwarding the packet (routing refused it). */
	refusedBy?: number;
	/**
	 * No reply was seen, but one may have come: the log may have lost it (a line saying lines were
	 * left out — a rate limit, the kernel's log buffer — or that the tracing program failed came
	 * while this packet was recent: says which line), or a later packet may be its answer and the
	 * trace cannot tell (an MLD report after a listener query: starts with that packet's `#id`).
	 * Its reply state is then "unknown", and no finding blames the rules.
	 */
	replyUnknown?: string;
	/**
	 * The input begins in the middle of this packet: its first traced hop is not where a traced
	 * packet enters (raw PREROUTING or OUTPUT for kernel TRACE lines; the rule that set the trace
	 * flag for xtables-monitor and nft), and no packet of its input started there before it — the
	 * kernel's ring buffer wrapped, or the capture started while it was on its way. Says so, with
	 * its first hop. Its path is cut at the start: no finding is drawn from it.
	 */
	cutAtStart?: string;
	/**
	 * An MLD report that may answer this earlier listener query, or may have been sent unsolicited:
	 * the trace cannot tell which (an MLDv1 report; an MLDv2 report whose record types it does not
	 * show). The query's reply state is then unknown (`replyUnknown` says why); nothing claims it.
	 */
	mayAnswer?: number;
	/** Header fields the hops show changed, each with what changed it (rule, routing, conntrack), in path order. Set by the assembler (empty when nothing changed). */
	changes?: FieldChange[];
	/** Its relation to the connection whose earlier packets were traced: which way it goes, and what conntrack restored or applied. Set by pairing; absent for a connection's first packet and for packets of connections not seen before. */
	connection?: ConnectionRelation;
	/** How `proto` is known when the trace does not print it (xtables-monitor prints no protocol for ICMP, ICMPv6 and IPv6 extension headers; nft none behind an IPv6 extension header): `rule` (a rule it matched names the protocol: `-p ipv6-icmp`, `meta l4proto ipv6-icmp`), `ports` (ports without TCP flags: UDP, UDP-Lite, SCTP or DCCP), `answer` (the protocol of the packet it answers). Absent when the trace printed it. */
	protoFrom?: 'rule' | 'ports' | 'answer';
	/**
	 * IPv6: the extension header the trace showed as the first next header (`hop-by-hop`, as every
	 * MLD message has; `routing`, `fragment`, `destination-options`). nft prints neither the
	 * protocol after it nor its decoded header: `proto` then comes from a rule (`protoFrom`), and an
	 * ICMPv6 header is read from the raw bytes nft printed; what those bytes do not show is absent.
	 */
	extHeader?: string;
	uid?: number;
	gid?: number;
	/** A frame a bridge hook saw (ebtables' log, or nft's bridge family): its Ethernet source, destination and type (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP), as first seen. */
	ether?: {src: string; dst: string; type: number};
	/** An ARP frame: its operation (1 request, 2 reply) and hardware addresses; `src`/`dst` are the sender's and target's IP addresses. */
	arp?: ArpInfo;
}

export interface Final {
	table: string;
	chain: string;
	kind: HopKind;
	num: number | null;
}

/** A packet of -j LOG lines alone (one observation): its hops name no chain. A bridge-family log line whose prefix names its chain is a hop of a path. */
export function isLogObservation(p: Pick<Packet, 'hops'>): boolean {
	return p.hops.length > 0 && p.hops.every(h => h.kind === 'log' && !h.table);
}

/** A hop's `table:chain`, or `LOG` for a -j LOG line (which names no chain). */
export function chainLabel(h: Pick<Hop, 'kind' | 'table' | 'chain'>): string {
	return h.kind === 'log' && !h.table ? 'LOG' : `${h.table}:${h.chain}`;
}

export function finalOf(p: Packet): Final | null {
	const last = p.hops[p.hops.length - 1];
	return last ? {table: last.table, chain: last.chain, kind: last.kind, num: last.num} : null;
}
