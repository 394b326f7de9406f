/**
 * tracewatch's own NDJSON read back (docs/json.md, docs/shipping.md): the packet records an agent
 * wrote, with the later facts (`revised`) applied, become packets again, so that the records of
 * several agents — concatenated, or as a log pipeline stored them — replay into every view
 * without the raw lines. Journey records are not read: the fleet links the packets again. Each
 * hop's stamp comes back as it was read (`mono`, `wall`), so the nodes' clocks are aligned from
 * records as from the traces.
 *
 * Input:  records, one JSON object per line: {"tracewatch":1,"id":1,"node":"node-a",…}, {"tracewatch":1,"revised":1,…}
 * Output: packets, in the order their records came, each once every fact about it that came
 *         within the next `window` records is applied.
 */
import type {Hop, Packet} from './types.js';

type Json = Record<string, unknown>;

/** Is this line a record tracewatch wrote (a packet, a revision or a journey)? */
export function isRecordLine(line: string): boolean {
	return /^\s*\{"tracewatch":\s*1,\s*"(?:id|revised|journey)"/.test(line);
}

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

function hopOf(h: Json, inputOf: (file: string) => number): Hop {
	const hop: Hop = {
		table: String(h['table']),
		chain: String(h['chain']),
		kind: h['kind'] as Hop['kind'],
		num: (h['num'] as number | null) ?? null,
		ref: {input: inputOf(String(h['file'] ?? '-')), line: Number(h['line'] ?? 0)},
		in: String(h['in'] ?? ''),
		out: String(h['out'] ?? ''),
	} as Hop;
	for (const k of ['src', 'dst', 'spt', 'dpt', 'mark', 'rule', 'target', 'hook', 'ttl', 'ruleFrom', 'ruleLine', 'handle', 'traceVerdict', 'logPrefix', 'note'] as const) {
		const v = opt(h[k]);
		if (v !== undefined) (hop as unknown as Json)[k] = v;
	}
	// The stamp as written, and as read (seconds since boot, wall-clock ms): a fleet aligns the nodes' clocks on them.
	if (typeof h['time'] === 'string') {
		const mono = typeof h['mono'] === 'number' ? h['mono'] : undefined;
		const wall = typeof h['wall'] === 'number' ? h['wall'] : undefined;
		hop.time = {text: h['time'], ...(mono !== undefined ? {mono} : {}), ...(wall !== undefined ? {wall} : {})};
	}
	return hop;
}

/** The packet a packet record describes. */
export function packetOf(r: Json, inputOf: (file: string) => number): Packet {
	const icmp = opt<Json>(r['icmp']);
	const p = {
		id: Number(r['id']),
		family: r['family'],
		proto: String(r['proto']),
		src: String(r['src']),
		dst: String(r['dst']),
		hops: ((r['hops'] as Json[]) ?? []).map(h => hopOf(h, inputOf)),
		verdict: r['verdict'],
		verdictBasis: String(r['verdictBasis'] ?? ''),
		in: String(r['in'] ?? ''),
		out: String(r['out'] ?? ''),
		nat: (r['nat'] as Packet['nat']) ?? [],
		replyTo: (r['replyTo'] as number | null) ?? null,
		replySeen: Boolean(r['replySeen']),
		format: r['format'],
		first: {},
		tcpFlags: (r['tcpFlags'] as string[]) ?? [],
	} as unknown as Packet;
	if (icmp) p.icmp = {type: Number(icmp['type']), ...(icmp['code'] !== null ? {code: Number(icmp['code'])} : {}), ...(icmp['id'] !== null ? {id: Number(icmp['id'])} : {}), ...(icmp['seq'] !== null ? {seq: Number(icmp['seq'])} : {}), ...(icmp['mtu'] !== undefined ? {mtu: Number(icmp['mtu'])} : {}), ...(icmp['mld'] !== undefined && icmp['mld'] !== null ? {mld: icmp['mld']} : {})} as Packet['icmp'];
	for (const k of ['node', 'spt', 'dpt', 'ipId', 'len', 'names', 'uid', 'gid', 'refusedBy', 'replyUnknown', 'mayAnswer', 'cutAtStart', 'changes', 'connection', 'protoFrom', 'extHeader', 'traceId', 'traceIds', 'quoted', 'quotes'] as const) {
		const v = opt(r[k]);
		if (v !== undefined) (p as unknown as Json)[k] = v;
	}
	return p;
}

/** Applies a revision record to the packet it names. */
function revise(p: Packet, r: Json): void {
	if ('replySeen' in r) p.replySeen = Boolean(r['replySeen']);
	if ('replyTo' in r) p.replyTo = (r['replyTo'] as number | null) ?? null;
	if ('refusedBy' in r) p.refusedBy = Number(r['refusedBy']);
	if (typeof r['replyUnknown'] === 'string' && !p.replySeen) p.replyUnknown = r['replyUnknown'];
	if (typeof r['verdict'] === 'string') p.verdict = r['verdict'] as Packet['verdict'];
	if (typeof r['verdictBasis'] === 'string') p.verdictBasis = r['verdictBasis'];
}

/**
 * Reads records one line at a time; hands on each packet once `window` more records came (a
 * revision about it comes right after the packet that revealed it), the rest at `end`.
 */
export class RecordReader {
	private readonly held: Packet[] = [];
	private readonly byKey = new Map<string, Packet>();
	private skippedLines = 0;
	private journeyLines = 0;

	constructor(
		private readonly onPacket: (p: Packet) => void,
		private readonly inputOf: (file: string) => number,
		private readonly window = 2000,
	) {}

	/** Journey records read past: the fleet links the packets again. */
	get journeys(): number {
		return this.journeyLines;
	}

	/** Lines that were not a record (other JSON, damaged lines). */
	get skipped(): number {
		return this.skippedLines;
	}

	push(line: string): void {
		let r: Json;
		try {
			r = JSON.parse(line) as Json;
		} catch {
			this.skippedLines++;
			return;
		}
		if (typeof r['id'] === 'number' && Array.isArray(r['hops'])) {
			const p = packetOf(r, this.inputOf);
			this.held.push(p);
			this.byKey.set(`${p.node ?? ''}#${p.id}`, p);
			while (this.held.length > this.window) this.release();
		} else if (typeof r['revised'] === 'number') {
			const p = this.byKey.get(`${typeof r['node'] === 'string' ? r['node'] : ''}#${r['revised']}`);
			if (p) revise(p, r);
		} else if (r['journey'] !== undefined) this.journeyLines++;
		else this.skippedLines++;
	}

	end(): void {
		while (this.held.length > 0) this.release();
	}

	private release(): void {
		const p = this.held.shift()!;
		this.byKey.delete(`${p.node ?? ''}#${p.id}`);
		this.onPacket(p);
	}
}
