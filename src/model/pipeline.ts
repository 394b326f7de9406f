/**
 * The pipeline: the one way from parsed lines to answers. File replay, stdin and live capture,
 * the interactive view, `diff --trace-*` and the benchmark all push lines into one of these and
 * listen to what it emits; none of them decides how long a packet waits or what it is paired with.
 *
 * Input:  ParsedLine values in order (`push`), `tick(now)` while live input is quiet, then `end()`
 *   [ 3341.290254] TRACE: raw:PREROUTING:policy:4 IN=cali1a2b3c4d5e6 … SRC=198.19.88.69 DST=198.19.96.1 … SYN …
 *   … (47 more lines of that SYN)
 *   [ 3341.311009] TRACE: raw:PREROUTING:policy:4 IN=wlp59s0 … SRC=198.18.1.50 DST=198.19.88.69 … SYN ACK …
 * Output: events, in this order for each packet:
 *   {type:'packet', packet}      the packet is complete: hops joined to the rules, verdict, NAT;
 *                                deeply frozen, never changed afterwards; packets come in id order
 *   {type:'revised', fact}       a later fact about a packet already handed on (src/model/facts.ts):
 *                                {id: 1, fact: 'reply-seen', by: 2}
 *   {type:'settled', packet}     the packet in its final state, once nothing can change it any more:
 *                                the same object as its 'packet' event when no fact came, else a new
 *                                frozen copy with the facts applied; settled packets come in id order
 *   {type:'unparsed', line}      a line that looks like trace output but could not be read
 *   {type:'progress', progress}  counts, every PROGRESS_LINES lines and at each tick
 *   {type:'end', summary}        inputs, counts, graph and findings, once
 *
 * Views that show packets as they happen (the live text, ndjson and the interactive view) take
 * 'packet' and 'revised'; views that show the final state (file replay as text, JSON, graph) take
 * 'settled'. Findings are worked out from settled packets.
 *
 * Memory is bounded by the window, not by the input: what is kept is what can still change —
 * packets still being assembled (src/model/assemble.ts), complete packets waiting for older ones
 * or for their settle window, recent tuples for pairing (src/model/pairing.ts), and the findings'
 * and graph's counts (src/model/findings/trace.ts, src/model/graph.ts).
 */
import type {LineFormat, LogNotice, ParsedLine, TraceEvent} from '../parser/types.js';
import type {Ruleset} from '../parser/ruleset.js';
import {PacketAssembler} from './assemble.js';
import {applyFactToDraft, changes, type Fact} from './facts.js';
import {emptyTraceFindings} from './findings/empty.js';
import type {Comparison} from './explain/types.js';
import {RulesChangedFindings} from './findings/rules-changed.js';
import {TraceFindings} from './findings/trace.js';
import type {Finding} from './findings/types.js';
import {GraphBuilder, type Graph} from './graph.js';
import type {InputInfo, UnparsedLine} from './inputs.js';
import {finishPacket, RuleIndex, startsWhereTraced} from './join.js';
import {expectsReply, ReplyMatcher} from './pairing.js';
import type {Names} from './names.js';
import type {Packet} from './types.js';
import type {Journey} from './fleet.js';

export type {InputInfo, UnparsedLine} from './inputs.js';

export interface Progress {
	/** Lines pushed so far, of every input. */
	readonly lines: number;
	/** Packets handed on so far. */
	readonly packets: number;
	/** Packets still being assembled or waiting for older ones. */
	readonly open: number;
	readonly unparsed: number;
}

export interface Summary {
	readonly inputs: readonly InputInfo[];
	/** Packets rebuilt. */
	readonly completed: number;
	readonly unparsedCount: number;
	/** The first unparsed lines with their reasons (at most keepUnparsed); unparsedCount counts them all. */
	readonly unparsed: readonly UnparsedLine[];
	readonly graph: Graph;
	/** Trace findings, then why a trace is empty (when it is). */
	readonly findings: readonly Finding[];
	/** Rulesets given that hold rules. */
	readonly rulesLoaded: number;
	/** Lines saying the log lost lines or its program failed (the first 100; consecutive lines of one message as one), and how many there were. */
	readonly notices?: readonly NoticeInfo[];
	readonly noticeCount?: number;
}

/** A line saying the log around it may be incomplete (parser/types.ts LogNotice), where it was. */
export interface NoticeInfo extends LogNotice {
	readonly path: string;
	readonly line: number;
	/** Lines of one message (xtables-monitor prints its error on three). */
	readonly lines: number;
	/** `cut-start`: the packets the input begins in the middle of (the first 100), and how many. */
	readonly packets?: readonly number[];
	readonly packetCount?: number;
}

export type PipelineEvent =
	| {readonly type: 'packet'; readonly packet: Packet}
	| {readonly type: 'revised'; readonly fact: Fact}
	| {readonly type: 'settled'; readonly packet: Packet}
	| {readonly type: 'unparsed'; readonly line: UnparsedLine; readonly count: number}
	| {readonly type: 'progress'; readonly progress: Progress}
	| {readonly type: 'end'; readonly summary: Summary}
	/** Several nodes (src/model/fleet.ts): a packet's way from one node to another, new or with its outer packet learned later (same `from`). */
	| {readonly type: 'journey'; readonly journey: Journey};

export interface PipelineOptions {
	/** The dumps given with --rules. */
	readonly rules?: readonly Ruleset[];
	/** The node this pipeline reads the trace of (src/model/fleet.ts): set on every packet. */
	readonly node?: string;
	/** Saved cluster and host state (--names): each packet carries the names of what it touches. */
	readonly names?: Names;
	/**
	 * This pipeline's part of the bounds on what is remembered (recent packets for pairing, flows
	 * for findings), read as it runs: a fleet of N nodes gives each 1/N, so memory is bounded by
	 * the window, not by the number of nodes. Default: all of it.
	 */
	readonly share?: () => number;
	/** Settled packets whose prediction (--rules) is kept for a view to show beside them (the interactive view). Default 2000; printed formats need none. */
	readonly keepComparisons?: number;
	/** The rules, indexed, when several pipelines read the same dump (a fleet): built once. */
	readonly index?: RuleIndex;
	/** Seconds between two lines of one packet, at most (log time). Default 1. */
	readonly windowSeconds?: number;
	/**
	 * How long a complete packet can still learn facts (its reply, that routing refused it)
	 * before it is settled: seconds of log time, lines read, and — while live input is quiet —
	 * milliseconds of the clock. Default 3 s, 2000 lines.
	 */
	readonly settleSeconds?: number;
	readonly settleLines?: number;
	/** Live input: packets whose lines stopped coming this long ago (by `tick`) are complete. Default 50 ms. */
	readonly idleMs?: number;
	/** Unparsed lines kept with their reasons (all are counted). Default 1000. */
	readonly keepUnparsed?: number;
	/** The clock, in milliseconds (tests pass their own). Default Date.now. */
	readonly now?: () => number;
	/** Taking up where an earlier run stopped (a restarted agent, src/cli/agent.ts): what it had done. */
	readonly resume?: Resume;
}

/**
 * What an earlier run had done, for a run that reads again from the first line of the oldest
 * packet that run had not settled (Pipeline.resumePoint): the packets it rebuilds get the ids they
 * got then, and those it had handed on are handed on again with what their reader was told of
 * them, so that a later fact becomes a revision exactly when it is news to that reader.
 */
export interface Resume {
	/** The id of the first packet started (the oldest the earlier run had not settled). */
	readonly firstId: number;
	/** Lines the earlier run had read before the first line pushed now: settle windows count on from there. */
	readonly linesBefore: number;
	/** Packets up to this id were handed on by the earlier run (their 'packet' events come again: a view writes none of them). */
	readonly emitted: number;
	/** What was said of those handed on and not settled then (Pipeline.handedOn). */
	readonly views: readonly HandedOn[];
}

/** A packet handed on and not settled: when it settles, and what its reader was told of the fields later facts change. */
export interface HandedOn {
	readonly id: number;
	/** It settles once this many lines were read, or the log's time reaches `untilTime` (seconds), as it would have. */
	readonly untilLine: number;
	readonly untilTime?: number;
	/** What was said of it, when a fact changed it (else its lines, read again, say it). */
	readonly said?: {
		readonly replySeen: boolean;
		readonly replyTo: number | null;
		readonly refusedBy?: number;
		readonly verdict: Packet['verdict'];
		readonly verdictBasis: string;
	};
}

/** Lines between two progress events. */
const PROGRESS_LINES = 16_384;

/** A complete packet not settled yet. */
interface Pending {
	/** The draft (mutable) while held back for older packets; the frozen packet once handed on. */
	packet: Packet;
	emitted: boolean;
	/** Handed on: the facts learned since, applied to a private copy (never the frozen packet). */
	view?: Packet;
	/** Facts this packet revealed about packets already handed on: emitted right after it. */
	revisions?: Fact[];
	/** A fact changed it (before or after it was handed on): what was said of it is more than its rebuilt lines say. */
	learnt?: true;
	/** When it settles: line count, log time (seconds), clock (ms). */
	untilLine: number;
	untilTime: number | undefined;
	untilClock: number;
}

type Listener = (event: PipelineEvent) => void;

export class Pipeline {
	readonly index: RuleIndex;
	/** The inputs' names, by index (LineRef.input): what views print as file names. */
	readonly inputNames: Array<{readonly path: string}> = [];
	private readonly inputs: InputInfo[] = [];
	private readonly formats: Array<Set<string>> = [];
	private readonly unparsed: UnparsedLine[] = [];
	private unparsedCount = 0;
	private readonly listeners = new Set<Listener>();
	private readonly assembler: PacketAssembler;
	private readonly replies: ReplyMatcher;
	private readonly graphBuilder = new GraphBuilder();
	private readonly traceFindings: TraceFindings;
	/** With --rules: each settled packet beside the dump's prediction (the rules-changed finding). */
	private readonly predictions: RulesChangedFindings | undefined;
	/** Complete packets by id, until settled. */
	private readonly pending = new Map<number, Pending>();
	/** Complete drafts waiting for an older packet to complete (ascending id). */
	private held: Packet[] = [];
	/** Handed-on packets not settled yet (ascending id). */
	private unsettled: Pending[] = [];
	private lines = 0;
	private completed = 0;
	private logTime: number | undefined;
	private lastLineAt = Number.NEGATIVE_INFINITY;
	private ended = false;
	private readonly settleSeconds: number;
	private readonly settleLines: number;
	private readonly share: () => number;
	private readonly idleMs: number;
	private readonly keepUnparsed: number;
	private readonly now: () => number;
	private readonly rulesLoaded: number;
	private readonly notices: NoticeInfo[] = [];
	private noticeCount = 0;
	/** Inputs in which a packet was seen starting where traced packets enter: later packets of it are not cut at the start. */
	private readonly entered = new Set<number>();
	/** Per input, its `cut-start` notice's index in `notices`, while it still names packets. */
	private readonly cutStart = new Map<number, number>();
	/** The latest line saying the log lost lines: packets with an id below `below` were started before it. */
	private cut: {below: number; why: string} | undefined;
	private readonly node: string | undefined;
	private readonly names: Names | undefined;
	/** Taking up an earlier run: the packets it handed on (up to `emitted`), by id, with what was said of them. */
	private readonly told: {emitted: number; views: Map<number, HandedOn>} | undefined;

	constructor(options: PipelineOptions = {}) {
		const rules = options.rules ?? [];
		this.index = options.index ?? new RuleIndex(rules);
		this.rulesLoaded = rules.filter(rs => rs.format !== 'empty').length;
		this.assembler = new PacketAssembler({windowSeconds: options.windowSeconds ?? 1, ...(options.resume ? {firstId: options.resume.firstId} : {})});
		if (options.resume) {
			this.lines = options.resume.linesBefore;
			this.told = {emitted: options.resume.emitted, views: new Map(options.resume.views.map(v => [v.id, v]))};
		}
		this.replies = new ReplyMatcher(undefined, options.share);
		this.traceFindings = new TraceFindings(this.index, options.share ? {share: options.share} : {});
		this.predictions = this.index.empty ? undefined : new RulesChangedFindings(this.index, {...(options.keepComparisons === undefined ? {} : {keep: options.keepComparisons}), ...(options.share ? {share: options.share} : {})});
		this.settleSeconds = options.settleSeconds ?? 3;
		this.settleLines = options.settleLines ?? 2000;
		this.share = options.share ?? (() => 1);
		this.idleMs = options.idleMs ?? 50;
		this.keepUnparsed = options.keepUnparsed ?? 1000;
		this.now = options.now ?? Date.now;
		this.node = options.node;
		this.names = options.names?.empty ? undefined : options.names;
	}

	/** Calls `listener` with every event from now on; returns the function that stops it. */
	on(listener: Listener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Registers an input (a file, stdin) and returns its index for LineRef.input. */
	addInput(path: string): number {
		this.inputs.push({path, format: 'none', lines: 0, traceLines: 0, skipped: 0, unparsed: 0});
		this.inputNames.push({path});
		this.formats.push(new Set());
		return this.inputs.length - 1;
	}

	/** Feeds one parsed line. */
	push(line: ParsedLine): void {
		if (this.ended) throw new Error('Pipeline: push after end');
		this.lines++;
		const input = this.inputs[line.ref.input];
		if (input) {
			input.lines++;
			if (line.joined) input.joined = (input.joined ?? 0) + line.joined;
			if (line.container && input.container !== line.container) input.container = input.container ? 'mixed' : line.container;
		}
		switch (line.kind) {
			case 'skipped': {
				if (input) input.skipped++;
				break;
			}
			case 'notice': {
				if (input) input.skipped++;
				this.notice(line.notice, input?.path ?? '-', line.ref);
				break;
			}
			case 'unparsed': {
				this.unparsedCount++;
				if (input) input.unparsed++;
				const u: UnparsedLine = {path: input?.path ?? '-', line: line.ref.line, column: line.column, reason: line.reason, excerpt: line.excerpt};
				if (this.unparsed.length < this.keepUnparsed) this.unparsed.push(u);
				this.emit({type: 'unparsed', line: u, count: this.unparsedCount});
				break;
			}
			case 'event': {
				if (input) this.traceLine(input, line.ref.input, line.format);
				this.noteTime(line.event);
				this.complete(this.assembler.push(line));
				if (line.rest) for (const event of line.rest) this.complete(this.assembler.push({...line, event}));
				this.lastLineAt = this.now();
				break;
			}
		}
		this.release();
		this.settle(false);
		if (this.lines % PROGRESS_LINES === 0) this.emitProgress();
	}

	/**
	 * Live input: call every few tens of milliseconds. Packets whose lines stopped coming
	 * `idleMs` ago are complete; packets handed on `settleSeconds` ago are settled.
	 */
	tick(now = this.now()): void {
		if (this.ended) return;
		if (this.assembler.pending > 0 && now - this.lastLineAt >= this.idleMs) this.complete(this.assembler.flushOlderThan(0));
		this.release();
		this.settle(false, now);
		this.emitProgress();
	}

	/**
	 * A packet rebuilt before, read back from tracewatch's own NDJSON (an agent's records): handed
	 * on and settled as it is — its hops, verdict, NAT and reply state as recorded — and counted in
	 * the graph and the findings like a packet rebuilt here.
	 */
	pushRebuilt(packet: Packet): void {
		if (this.ended) throw new Error('Pipeline: push after end');
		const p = deepFreeze(this.node !== undefined && packet.node === undefined ? {...packet, node: this.node} : packet);
		// Its hops are the trace lines it was rebuilt from: counted for the inputs they name.
		for (const h of p.hops) {
			const input = this.inputs[h.ref.input];
			if (!input) continue;
			input.lines++;
			this.traceLine(input, h.ref.input, p.format);
		}
		this.graphBuilder.add(p);
		this.completed++;
		this.emit({type: 'packet', packet: p});
		this.traceFindings.add(p);
		this.emit({type: 'settled', packet: p});
	}

	/** Input ended: every packet is completed, handed on and settled; then the summary. */
	end(): void {
		if (this.ended) return;
		this.complete(this.assembler.flush());
		this.release();
		this.settle(true);
		this.ended = true;
		this.emitProgress();
		this.emit({type: 'end', summary: this.summary()});
	}

	/** Packets still being assembled or waiting for older ones to complete. */
	get open(): number {
		return this.assembler.pending + this.held.length;
	}

	/**
	 * Where a run that stops now would take up again: the oldest packet not settled (still being
	 * assembled, waiting for an older one, or handed on and still learning facts), its id and the
	 * line it started on; reading again from that line rebuilds it and every packet after it, and
	 * no packet before it can take a line from there on. With no such packet, the next id and
	 * no line (take up after the last line read).
	 */
	resumePoint(): {readonly id: number; readonly line?: number} {
		const candidates = [this.assembler.oldestOpen, this.held[0], this.unsettled[0]?.packet].filter((p): p is Packet => p !== undefined);
		if (candidates.length === 0) return {id: this.assembler.nextPacketId};
		const oldest = candidates.reduce((a, b) => (b.id < a.id ? b : a));
		return {id: oldest.id, line: Math.min(...oldest.hops.map(h => h.ref.line))};
	}

	/**
	 * Packets handed on and not settled (for Resume.views): when they settle, and for those a fact
	 * changed, what was said of them. Of the others, what was said is what their lines say.
	 */
	handedOn(): HandedOn[] {
		return this.unsettled.map(q => {
			const v = q.view ?? q.packet;
			const said = q.learnt ? {said: {replySeen: v.replySeen, replyTo: v.replyTo, ...(v.refusedBy !== undefined ? {refusedBy: v.refusedBy} : {}), verdict: v.verdict, verdictBasis: v.verdictBasis}} : {};
			return {id: v.id, untilLine: q.untilLine, ...(q.untilTime !== undefined ? {untilTime: q.untilTime} : {}), ...said};
		});
	}

	progress(): Progress {
		return {lines: this.lines, packets: this.completed, open: this.open, unparsed: this.unparsedCount};
	}

	/** The chain graph so far (a copy). */
	graph(): Graph {
		return this.graphBuilder.snapshot();
	}

	/** The findings so far, from settled packets; at the end also why a trace is empty. */
	findings(): Finding[] {
		return [...this.traceFindings.findings(), ...(this.predictions?.findings(this.ended) ?? []), ...(this.ended ? emptyTraceFindings(this.inputs, this.index) : [])];
	}

	/** A settled packet beside the dump's prediction (with --rules, while among the most recent). */
	comparison(id: number): Comparison | undefined {
		return this.predictions?.comparison(id);
	}

	/** The inputs with their counts so far (copies). */
	inputInfo(): InputInfo[] {
		return this.inputs.map(i => ({...i}));
	}

	summary(): Summary {
		return {
			inputs: this.inputInfo(),
			completed: this.completed,
			unparsedCount: this.unparsedCount,
			unparsed: [...this.unparsed],
			graph: this.graph(),
			findings: this.findings(),
			rulesLoaded: this.rulesLoaded,
			...(this.noticeCount > 0 ? {notices: [...this.notices], noticeCount: this.noticeCount} : {}),
		};
	}

	// ---- inside ------------------------------------------------------------------------------------

	/**
	 * A line saying the log lost lines: counted, kept (the first 100), and every packet started
	 * before it and not yet settled may have lost its reply there (Packet.replyUnknown).
	 */
	private notice(n: LogNotice, path: string, ref: {input: number; line: number}): void {
		const last = this.notices.at(-1);
		if (last && last.path === path && last.what === n.what && last.line + last.lines === ref.line) {
			this.notices[this.notices.length - 1] = {...last, lines: last.lines + 1};
		} else {
			this.noticeCount++;
			if (this.notices.length < 100) this.notices.push({...n, path, line: ref.line, lines: 1});
		}
		const what = n.what === 'tool-error' ? 'the tracing program failed' : 'the log left lines out';
		this.cut = {below: this.assembler.nextPacketId, why: `${what} at ${path}:${ref.line} (${n.text})`};
	}

	/**
	 * The first packets of an input whose trace begins past where traced packets enter (join.ts
	 * startsWhereTraced), before any packet of that input began there: the input begins in the
	 * middle of them (a dmesg ring buffer that wrapped, a capture started while they were on their
	 * way). Marked cut at the start, and said once per input as a `cut-start` notice. Called in id
	 * order (ids follow the order of first lines), before the packet is handed on.
	 */
	private startCut(p: Packet): void {
		const first = p.hops.find(h => h.kind !== 'log' && !h.bridge);
		if (!first) return;
		const input = first.ref.input;
		if (this.entered.has(input)) return;
		if (startsWhereTraced(p)) {
			this.entered.add(input);
			this.cutStart.delete(input);
			return;
		}
		const where = `${first.table}:${first.chain}${first.hook && first.hook !== first.chain ? ` (${first.hook})` : ''}`;
		const path = this.inputs[input]?.path ?? '-';
		const entry = p.format === 'kernel' ? 'raw PREROUTING or OUTPUT' : 'the rule that set its trace flag';
		p.cutAtStart = `its first line (${path}:${first.ref.line}) is at ${where}, not where a traced packet enters (${entry}), and the input begins there: its earlier lines are not in it (the kernel's ring buffer wrapped, or the capture started while it was on its way)`;
		const at = this.cutStart.get(input);
		const last = at === undefined ? undefined : this.notices[at];
		if (last) {
			const packets = last.packets!.length < 100 ? [...last.packets!, p.id] : last.packets!;
			this.notices[at!] = {...last, packets, packetCount: (last.packetCount ?? 0) + 1};
			return;
		}
		this.noticeCount++;
		if (this.notices.length >= 100) return;
		this.cutStart.set(input, this.notices.length);
		this.notices.push({what: 'cut-start', text: 'the input begins in the middle of packets: their earlier lines are not in it', path, line: first.ref.line, lines: 1, packets: [p.id], packetCount: 1});
	}

	/** A trace line of `format` read from input `index`: counted, and the input's format is that one or `mixed`. */
	private traceLine(input: InputInfo, index: number, format: LineFormat): void {
		input.traceLines++;
		const f = this.formats[index]!;
		if (!f.has(format)) {
			f.add(format);
			input.format = f.size > 1 ? 'mixed' : format;
		}
	}

	private emit(event: PipelineEvent): void {
		for (const l of this.listeners) l(event);
	}

	private emitProgress(): void {
		this.emit({type: 'progress', progress: this.progress()});
	}

	/** The log time of the line, in seconds, when it has one: settle windows are counted in it. */
	private noteTime(e: TraceEvent): void {
		if ((e.type === 'kernel-hop' || e.type === 'kernel-log') && e.time) {
			const t = e.time.mono ?? (e.time.wall === undefined ? undefined : e.time.wall / 1000);
			if (t !== undefined) this.logTime = t;
		}
	}

	/** Packets the assembler completed: join, verdict and NAT, pairing, graph; then they wait for older ones. */
	private complete(drafts: Packet[]): void {
		for (const p of drafts) {
			if (this.node !== undefined) p.node = this.node;
			finishPacket(p, this.index);
			const names = this.names?.forPacket(p);
			if (names) p.names = names;
			this.pending.set(p.id, {packet: p, emitted: false, untilLine: 0, untilTime: undefined, untilClock: 0});
			for (const fact of this.replies.add(p)) this.learn(fact, p.id);
			this.refusal(p);
			this.graphBuilder.add(p);
			this.completed++;
			insertById(this.held, p);
		}
	}

	/**
	 * An ICMP error this host sent about a packet it was routing (frag-needed, unreachable, time
	 * exceeded): the quoted packet's trace ends in PREROUTING because routing refused it, not
	 * because it was accepted.
	 */
	private refusal(p: Packet): void {
		if (p.quotes === undefined || p.quotes === null || p.in !== '' || !p.icmp) return;
		const q = this.pending.get(p.quotes);
		if (!q) return;
		const current = q.view ?? q.packet;
		if (current.hops.at(-1)?.hook !== 'PREROUTING' || current.verdict === 'DROP' || current.verdict === 'REJECT') return;
		const t = p.icmp.type;
		const v6 = p.proto === 'ICMPv6';
		const why =
			(!v6 && t === 3 && p.icmp.code === 4) || (v6 && t === 2)
				? `too big for the next hop${p.icmp.mtu ? ` (MTU ${p.icmp.mtu})` : ''}${v6 ? '' : ' with DF set'}`
				: (!v6 && t === 11) || (v6 && t === 3)
					? 'its TTL ran out'
					: 'no way to deliver it';
		this.learn({id: current.id, fact: 'refused', by: p.id, verdict: 'DROP', verdictBasis: `not forwarded: ${why}; this host answered with an ICMP error (packet #${p.id})`}, p.id);
	}

	/**
	 * A fact about packet `fact.id`, revealed by packet `cause`: applied to it while it is held
	 * back; once handed on, a revision (emitted right after `cause`, so a reader has seen both
	 * packets it names); once settled, only a late reply that the findings take into account.
	 */
	private learn(fact: Fact, cause: number): void {
		const q = this.pending.get(fact.id);
		if (!q || this.settledBefore(fact.id)) {
			if (fact.fact === 'reply-seen') this.traceFindings.replyAfterSettling(fact.id);
			return;
		}
		if (!q.emitted && !this.toldOf(q)) {
			applyFactToDraft(q.packet, fact);
			q.learnt = true;
			return;
		}
		q.view ??= {...q.packet};
		if (!changes(q.view, fact)) return;
		applyFactToDraft(q.view, fact);
		q.learnt = true;
		const by = this.pending.get(cause);
		if (by && !by.emitted) (by.revisions ??= []).push(fact);
		else this.emit({type: 'revised', fact});
	}

	/**
	 * A packet an earlier run handed on (Resume) whose settle mark has passed: it had settled by
	 * now in that run (this one hands it on later, its lines read at once), so what it learns now
	 * is no revision, as it was none then.
	 */
	private settledBefore(id: number): boolean {
		const before = this.told && id <= this.told.emitted ? this.told.views.get(id) : undefined;
		if (!before) return false;
		return this.lines >= before.untilLine || (before.untilTime !== undefined && this.logTime !== undefined && this.logTime >= before.untilTime);
	}

	/**
	 * A packet an earlier run handed on (Resume): its view becomes what that run's reader was told,
	 * so that facts are revisions when they are news to it. False for any other packet.
	 */
	private toldOf(q: Pending): boolean {
		if (!this.told || q.packet.id > this.told.emitted) return false;
		if (!q.view) {
			const said = this.told.views.get(q.packet.id)?.said;
			q.view = {...q.packet, ...(said ? {replySeen: said.replySeen, replyTo: said.replyTo, verdict: said.verdict, verdictBasis: said.verdictBasis} : {})};
			if (said?.refusedBy !== undefined) q.view.refusedBy = said.refusedBy;
			// Still news-worthy to a later restart: what was said of it came from facts.
			if (said) q.learnt = true;
		}
		return true;
	}

	/** Hands on complete packets in id order: each once no older packet is still being assembled. */
	private release(): void {
		if (this.held.length === 0) return;
		const oldest = this.assembler.oldestOpenId;
		let n = 0;
		while (n < this.held.length && (oldest === undefined || this.held[n]!.id < oldest)) n++;
		if (n === 0) return;
		const out = this.held.slice(0, n);
		this.held = this.held.slice(n);
		const clock = this.now();
		for (const draft of out) {
			const q = this.pending.get(draft.id)!;
			this.toldOf(q);
			// MLD reports and queries pair in id order (src/model/pairing.ts listen()).
			for (const fact of this.replies.listen(draft)) this.learn(fact, draft.id);
			this.startCut(draft);
			q.packet = deepFreeze(draft);
			q.emitted = true;
			// Several nodes in one log: this node sees its share of the lines, and waits its share of them.
			const share = this.share();
			q.untilLine = this.lines + (share >= 1 ? this.settleLines : Math.max(64, Math.round(this.settleLines * share)));
			q.untilTime = this.logTime === undefined ? undefined : this.logTime + this.settleSeconds;
			q.untilClock = clock + this.settleSeconds * 1000;
			// Handed on by an earlier run: it settles when it would have (Resume).
			const before = this.told && draft.id <= this.told.emitted ? this.told.views.get(draft.id) : undefined;
			if (before) {
				q.untilLine = before.untilLine;
				q.untilTime = before.untilTime;
			}
			this.unsettled.push(q);
			this.emit({type: 'packet', packet: q.packet});
			if (q.revisions) {
				for (const fact of q.revisions) this.emit({type: 'revised', fact});
				delete q.revisions;
			}
		}
	}

	/** Settles handed-on packets whose window has passed (all of them at the end), oldest first. */
	private settle(all: boolean, clock?: number): void {
		let n = 0;
		for (; n < this.unsettled.length; n++) {
			const q = this.unsettled[n]!;
			const due =
				all ||
				this.lines >= q.untilLine ||
				(q.untilTime !== undefined && this.logTime !== undefined && this.logTime >= q.untilTime) ||
				(clock !== undefined && clock >= q.untilClock);
			if (!due) break;
			let final = q.view ? deepFreeze(q.view) : q.packet;
			// Started before a line said the log lost lines: its reply may be among them.
			if (this.cut && final.id < this.cut.below && !final.replySeen && expectsReply(final)) final = deepFreeze({...final, replyUnknown: this.cut.why});
			this.pending.delete(final.id);
			// A path cut at the start shows only its end: no finding is drawn from it.
			if (final.cutAtStart === undefined) {
				this.traceFindings.add(final);
				this.predictions?.add(final);
			}
			this.emit({type: 'settled', packet: final});
		}
		if (n > 0) this.unsettled = this.unsettled.slice(n);
	}
}

function insertById(list: Packet[], p: Packet): void {
	let i = list.length;
	while (i > 0 && list[i - 1]!.id > p.id) i--;
	list.splice(i, 0, p);
}

/** Freezes a value and everything it holds. */
export function deepFreeze<T>(value: T): T {
	if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
	for (const v of Object.values(value as object)) deepFreeze(v);
	return Object.freeze(value);
}
