/**
 * The model's view of a trace: packets, each with the hops it took.
 * Field names here are the JSON contract (docs/json.md); keep them stable.
 */
import type {Family, IcmpInfo, LineFormat, LineRef, PacketFields, Stamp} from '../parser/types.js';

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
	id: number;
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
	uid?: number;
	gid?: number;
}

export interface Final {
	table: string;
	chain: string;
	kind: HopKind;
	num: number | null;
}

export function finalOf(p: Packet): Final | null {
	const last = p.hops[p.hops.length - 1];
	return last ? {table: last.table, chain: last.chain, kind: last.kind, num: last.num} : null;
}
