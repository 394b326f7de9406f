/**
 * TraceSession: everything known about one run, fed parsed lines in order.
 *
 * Input:  ParsedLine values from any number of inputs (files, stdin), plus the --rules dumps.
 * Output: completed packets (rules joined, verdict, NAT, replies paired) as they complete, and
 *         at any time the counts, the graph and the unparsed lines for views.
 *
 * No I/O and no UI here: the CLI feeds it, views read it.
 */
import type {LineFormat, ParsedLine} from '../parser/types.js';
import type {Ruleset} from '../parser/ruleset.js';
import {PacketAssembler, type AssembleOptions} from './assemble.js';
import {GraphBuilder, type Graph} from './graph.js';
import {finishPacket, RuleIndex} from './join.js';
import {ReplyMatcher} from './pairing.js';
import type {Packet} from './types.js';

export interface InputInfo {
	path: string;
	/** The trace format(s) found: kernel, xtables-monitor, nft-monitor, mixed, or none. */
	format: LineFormat | 'mixed' | 'none';
	lines: number;
	traceLines: number;
	skipped: number;
	unparsed: number;
}

export interface UnparsedLine {
	path: string;
	line: number;
	column: number;
	reason: string;
	excerpt: string;
}

export interface SessionOptions extends AssembleOptions {
	readonly rules?: readonly Ruleset[];
	/** Keep at most this many completed packets for views (oldest are dropped, counts stay). Default: all. */
	readonly keep?: number;
	/** Keep at most this many unparsed lines with their reasons (the count is exact). Default 1000. */
	readonly keepUnparsed?: number;
}

export class TraceSession {
	readonly inputs: InputInfo[] = [];
	readonly unparsed: UnparsedLine[] = [];
	/** Completed packets, in completion order (at most `keep`). */
	readonly packets: Packet[] = [];
	readonly index: RuleIndex;
	/** Packets completed so far, including those no longer kept. */
	completed = 0;
	dropped = 0;
	private readonly assembler: PacketAssembler;
	private readonly replies = new ReplyMatcher();
	private readonly graphBuilder = new GraphBuilder();
	private readonly keep: number;
	private readonly keepUnparsed: number;
	private readonly formats: Array<Set<LineFormat>> = [];
	/** Completed packets waiting for an older packet to complete, so output stays in packet order. */
	private held: Packet[] = [];
	unparsedCount = 0;

	constructor(options: SessionOptions = {}) {
		this.index = new RuleIndex(options.rules ?? []);
		this.assembler = new PacketAssembler(options);
		this.keep = options.keep ?? Number.POSITIVE_INFINITY;
		this.keepUnparsed = options.keepUnparsed ?? 1000;
	}

	addInput(path: string): number {
		this.inputs.push({path, format: 'none', lines: 0, traceLines: 0, skipped: 0, unparsed: 0});
		this.formats.push(new Set());
		return this.inputs.length - 1;
	}

	/** Feeds one line; returns the packets this line completed (finished: joined, paired). */
	ingest(line: ParsedLine): Packet[] {
		const input = this.inputs[line.ref.input];
		if (input) input.lines++;
		switch (line.kind) {
			case 'skipped': {
				if (input) input.skipped++;
				return [];
			}
			case 'unparsed': {
				this.unparsedCount++;
				if (input) input.unparsed++;
				if (this.unparsed.length < this.keepUnparsed) {
					this.unparsed.push({path: input?.path ?? '-', line: line.ref.line, column: line.column, reason: line.reason, excerpt: line.excerpt});
				}
				return [];
			}
			case 'event': {
				if (input) {
					input.traceLines++;
					const f = this.formats[line.ref.input]!;
					if (!f.has(line.format)) {
						f.add(line.format);
						input.format = f.size > 1 ? 'mixed' : line.format;
					}
				}
				if (!line.rest) return this.finish(this.assembler.push(line));
				const done = this.assembler.push(line);
				for (const event of line.rest) done.push(...this.assembler.push({...line, event}));
				return this.finish(done);
			}
		}
	}

	/** Input ended: completes every open packet. */
	end(): Packet[] {
		return this.finish(this.assembler.flush());
	}

	/** Live input went quiet: completes packets whose last line is at least `lines` lines old. */
	quiet(lines = 0): Packet[] {
		return this.finish(this.assembler.flushOlderThan(lines));
	}

	/** Packets still being assembled. */
	get open(): number {
		return this.assembler.pending;
	}

	graph(): Graph {
		return this.graphBuilder.snapshot();
	}

	/**
	 * An ICMP error this host sent about a packet it was routing (frag-needed, unreachable, time
	 * exceeded): the quoted packet's trace ends in PREROUTING because routing refused it, not
	 * because it was accepted. Its verdict says so.
	 */
	private refusedBy(p: Packet): void {
		if (p.quotes === undefined || p.quotes === null || p.in !== '' || !p.icmp) return;
		const id = p.quotes;
		let q: Packet | undefined;
		for (let i = this.packets.length - 1; i >= 0 && !q; i--) if (this.packets[i]!.id === id) q = this.packets[i];
		if (!q || q.hops.at(-1)?.hook !== 'PREROUTING' || q.verdict === 'DROP' || q.verdict === 'REJECT') return;
		const t = p.icmp.type;
		const v6 = p.proto === 'ICMPv6';
		const why =
			(!v6 && t === 3 && p.icmp.code === 4) || (v6 && t === 2)
				? `too big for the next hop${p.icmp.mtu ? ` (MTU ${p.icmp.mtu})` : ''}${v6 ? '' : ' with DF set'}`
				: (!v6 && t === 11) || (v6 && t === 3)
					? 'its TTL ran out'
					: 'no way to deliver it';
		q.verdict = 'DROP';
		q.refusedBy = p.id;
		q.verdictBasis = `not forwarded: ${why}; this host answered with an ICMP error (packet #${p.id})`;
	}

	/**
	 * Finishes completed packets and returns those that can be shown now: a packet waits until
	 * every packet that started before it is complete, so views list packets in trace order.
	 */
	private finish(packets: Packet[]): Packet[] {
		if (packets.length === 0 && this.held.length === 0) return packets;
		for (const p of packets) {
			finishPacket(p, this.index);
			this.replies.add(p);
			this.refusedBy(p);
			this.graphBuilder.add(p);
			this.completed++;
			this.packets.push(p);
			if (this.packets.length > this.keep) {
				this.packets.shift();
				this.dropped++;
			}
		}
		if (packets.length > 0) {
			this.held.push(...packets);
			this.held.sort((a, b) => a.id - b.id);
		}
		const oldest = this.assembler.oldestOpenId;
		if (oldest === undefined) {
			const out = this.held;
			this.held = [];
			return out;
		}
		let n = 0;
		while (n < this.held.length && this.held[n]!.id < oldest) n++;
		return n === 0 ? [] : this.held.splice(0, n);
	}
}
