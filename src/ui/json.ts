/**
 * The JSON contract (docs/json.md). Field names here are fixed: scripts rely on them.
 *
 * Output: the records of {"tracewatch":1, "packets":[…], "inputs":[…], "graph":{nodes,edges}, "findings":[], "unparsed":[…]}
 *         (written by src/ui/output.ts), and of the ndjson stream
 */
import type {Fact} from '../model/facts.js';
import type {Graph} from '../model/graph.js';
import type {InputInfo, InputNames, UnparsedLine} from '../model/inputs.js';
import {finalOf, type Packet} from '../model/types.js';

export const JSON_VERSION = 1;

export function hopJson(h: Packet['hops'][number], inputs: InputNames): Record<string, unknown> {
	return {
		table: h.table,
		chain: h.chain,
		kind: h.kind,
		num: h.num,
		line: h.ref.line,
		file: inputs[h.ref.input]?.path ?? null,
		in: h.in,
		out: h.out,
		src: h.src ?? null,
		dst: h.dst ?? null,
		spt: h.spt ?? null,
		dpt: h.dpt ?? null,
		mark: h.mark ?? null,
		rule: h.rule ?? null,
		target: h.target ?? null,
		...(h.hook ? {hook: h.hook} : {}),
		...(h.ttl !== undefined ? {ttl: h.ttl} : {}),
		...(h.time ? {time: h.time.text} : {}),
		...(h.time?.mono !== undefined ? {mono: h.time.mono} : {}),
		...(h.time?.wall !== undefined ? {wall: h.time.wall} : {}),
		...(h.ruleFrom ? {ruleFrom: h.ruleFrom} : {}),
		...(h.ruleLine !== undefined ? {ruleLine: h.ruleLine} : {}),
		...(h.handle !== undefined ? {handle: h.handle} : {}),
		...(h.traceVerdict ? {traceVerdict: h.traceVerdict} : {}),
		...(h.logPrefix !== undefined ? {logPrefix: h.logPrefix} : {}),
		...(h.note ? {note: h.note} : {}),
		...(h.bridge ? {bridge: true} : {}),
	};
}

export function packetJson(p: Packet, inputs: InputNames): Record<string, unknown> {
	return {
		id: p.id,
		...(p.node !== undefined ? {node: p.node} : {}),
		family: p.family,
		proto: p.proto,
		src: p.src,
		dst: p.dst,
		spt: p.spt ?? null,
		dpt: p.dpt ?? null,
		ipId: p.ipId ?? null,
		icmp: p.icmp ? {type: p.icmp.type, code: p.icmp.code ?? null, id: p.icmp.id ?? null, seq: p.icmp.seq ?? null, ...(p.icmp.mtu !== undefined ? {mtu: p.icmp.mtu} : {}), ...(p.icmp.mld ? {mld: {...p.icmp.mld}} : {})} : null,
		tcpFlags: p.tcpFlags ?? [],
		hops: p.hops.map(h => hopJson(h, inputs)),
		final: finalOf(p),
		verdict: p.verdict,
		verdictBasis: p.verdictBasis,
		in: p.in,
		out: p.out,
		nat: p.nat.map(n => ({type: n.type, at: n.at, from: n.from, to: n.to, seen: n.seen})),
		replyTo: p.replyTo,
		replySeen: p.replySeen,
		format: p.format,
		...(p.traceId ? {traceId: p.traceId} : {}),
		...(p.traceIds ? {traceIds: p.traceIds} : {}),
		...(p.len !== undefined ? {len: p.len} : {}),
		...(p.names ? {names: p.names} : {}),
		...(p.uid !== undefined ? {uid: p.uid} : {}),
		...(p.gid !== undefined ? {gid: p.gid} : {}),
		...(p.refusedBy !== undefined ? {refusedBy: p.refusedBy} : {}),
		...(p.replyUnknown !== undefined ? {replyUnknown: p.replyUnknown} : {}),
		...(p.mayAnswer !== undefined ? {mayAnswer: p.mayAnswer} : {}),
		...(p.cutAtStart !== undefined ? {cutAtStart: p.cutAtStart} : {}),
		...(p.changes && p.changes.length > 0 ? {changes: p.changes.map(c => ({field: c.field, from: c.from, to: c.to, by: c.by, at: c.at, seen: c.seen}))} : {}),
		...(p.connection ? {connection: {direction: p.connection.direction, first: p.connection.first, conntrack: p.connection.conntrack.map(r => ({...r}))}} : {}),
		...(p.protoFrom ? {protoFrom: p.protoFrom} : {}),
		...(p.extHeader ? {extHeader: p.extHeader} : {}),
		...(p.ether ? {ether: {src: p.ether.src, dst: p.ether.dst, type: `0x${p.ether.type.toString(16).padStart(4, '0')}`}} : {}),
		...(p.arp ? {arp: {op: p.arp.op, sha: p.arp.sha ?? null, tha: p.arp.tha ?? null}} : {}),
		...(p.quoted
			? {quoted: {proto: p.quoted.proto ?? null, src: p.quoted.src ?? null, dst: p.quoted.dst ?? null, spt: p.quoted.spt ?? null, dpt: p.quoted.dpt ?? null}, quotes: p.quotes ?? null}
			: {}),
	};
}

export function inputJson(i: InputInfo): Record<string, unknown> {
	return {path: i.path, format: i.format, lines: i.lines, traceLines: i.traceLines, skipped: i.skipped, unparsed: i.unparsed, ...(i.joined ? {joined: i.joined} : {}), ...(i.container ? {container: i.container} : {})};
}

export function unparsedJson(u: UnparsedLine): Record<string, unknown> {
	return {path: u.path, line: u.line, column: u.column, reason: u.reason, excerpt: u.excerpt};
}

/** The chain graph: nodes with the hook they ran in (when known), edges. */
export function graphJson(g: Graph): Record<string, unknown> {
	return {
		nodes: g.nodes.map(n => ({id: n.id, packets: n.packets, final: n.final, ...(n.hook ? {hook: n.hook} : {})})),
		edges: g.edges.map(e => ({from: e.from, to: e.to, packets: e.packets})),
	};
}

/** A later fact about a packet already written (ndjson, live): {"revised": 3, "fact": "reply-seen", "by": 7}. */
export function revisionJson(f: Fact): Record<string, unknown> {
	if (f.node !== undefined) {
		const {node, ...rest} = f;
		return {...revisionJson(rest), node};
	}
	switch (f.fact) {
		case 'reply-seen':
			return {revised: f.id, fact: f.fact, by: f.by, replySeen: true};
		case 'reply-to':
			return {revised: f.id, fact: f.fact, replyTo: f.to};
		case 'refused':
			return {revised: f.id, fact: f.fact, by: f.by, refusedBy: f.by, verdict: f.verdict, verdictBasis: f.verdictBasis};
		case 'reply-unknown':
			return {revised: f.id, fact: f.fact, by: f.by, replyUnknown: f.why};
	}
}
