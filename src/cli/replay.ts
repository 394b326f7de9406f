/**
 * `tracewatch [replay] [FILE...] [--rules FILE]... [--format tui|text|json|ndjson]`
 *
 * Reads trace text from files or stdin, rebuilds packets, joins them to the saved rulesets and
 * shows them: the TUI on a terminal, text blocks or ndjson as packets complete, or one JSON
 * document at the end.
 */
import {closeSync, openSync, readFileSync, readSync, statSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {PassThrough, type Readable} from 'node:stream';
import {once} from 'node:events';
import {readTraceLines, SourceLineReader} from '../parser/line-stream.js';
import type {Ruleset} from '../parser/ruleset.js';
import type {Summary} from '../model/pipeline.js';
import {TraceStore} from '../model/store.js';
import {outputView, type OutputFormat} from '../ui/output.js';
import {colors, cutStartText, plain, type HopDetail, type Style} from '../ui/text.js';
import {bootId} from '../ops/kmsg.js';
import {asText, fileInput, freshAfter, rotatedTo, isRecordDevice, kmsgInput, loadState, resumeOf, StateKeeper, stdinInput, unwritten, type AgentInput, type AgentState, type SourceLine} from './agent.js';
import type {Resume} from '../model/pipeline.js';
import {Fleet, type NodeSpec} from '../model/fleet.js';
import {Names} from '../model/names.js';
import {loadGraphviz} from './graphviz.js';
import {describeUnparsed, loadRules, looksLikeRecords, looksLikeRuleset, openInput, reportRulesetProblems} from './io.js';
import {RecordReader} from '../model/records.js';
import split2 from 'split2';
import {progressLine, type ProgressLine} from './progress.js';
import {argumentError, EXIT, signalExit, stdout as standardOut, UsageError, warn as standardWarn, type Output} from './terminal.js';

export const REPLAY_HELP = `Usage: tracewatch [replay] [FILE...] [options]

Rebuilds each packet from netfilter trace text and shows the path it took through tables and
chains, the rule that matched at each hop, its NAT, final chain, verdict, IN/OUT interfaces, and
whether a reply was seen. Reads FILE(s), or standard input when no FILE (or "-") is given.
On a terminal it opens an interactive view; otherwise it prints text.

Trace text it reads, in any mix, line by line:
  kernel TRACE and -j LOG lines: dmesg, dmesg -T/-r/-x/-d/-e/--time-format iso, /dev/kmsg,
    journalctl -k (-o short, short-precise, short-iso, short-iso-precise, short-monotonic…),
    kern.log / syslog (RFC 3164, RFC 3339, RFC 5424), IPv4 and IPv6
  xtables-monitor --trace (iptables-nft), nft monitor trace
  .gz files are read transparently

Options:
  --rules FILE        an iptables-save / ip6tables-save / iptables -S dump taken when the trace
                      was (repeatable: one per family or table). Joins rule:N to the rule text.
  --node NAME         the node the FILEs or stdin come from: every packet and record carries it
                      (an agent on each node: ids are unique per node, so node and id together
                      name a packet across a fleet; docs/shipping.md)
  --node NAME=TRACE[,FILE…]
                      several nodes' traces together (repeatable, one per node): each node's
                      trace(s) and ruleset(s), told apart by their content. Packets are named by
                      node and id (node-a #3); a packet that left one node into an overlay
                      (flannel.1, vxlan.calico, …) is followed to the node it reached, through
                      the outer packet that carried it; findings say at which node it stopped
                      (docs/nodes.md). A central log (syslog, journal; a FILE or piped in) is
                      split by the host its lines name without --node; --node NAME=RULES gives
                      that host its ruleset. The interactive view shows all of it: a NODE
                      column, a packet's way across the nodes in its detail (o, w, r)
  --offset NODE=S     seconds to add to NODE's stamps to put them on the first node's clock,
                      when neither wall time nor a packet that crossed aligns them
  --names FILE        what the trace's addresses and interfaces are, from saved state
                      (repeatable): kubectl get pods,services,endpointslices,nodes -A -o json,
                      ip -j addr / ip -j link (a node's own go in its --node). Each packet then
                      names the pods, services, nodes and devices it touches (text, JSON, HTML)
  --format FORMAT     tui (default on a terminal), text (default otherwise), json (one document
                      at the end), ndjson (one packet per line as packets complete), graph (the
                      chain-traversal graph as text), dot (the same for Graphviz), html (a report
                      to share: one self-contained page with the findings, the graph drawn and
                      every packet), svg (the graph drawn)
  --hops LEVEL        how much of each packet text shows: summary (what it is, in/out, verdict,
                      reply, NAT, final hop), path (also its path: one line per hook, each
                      table with the user chains it called nested under it), all (also every hop
                      with the rule it matched; the default). -v is --hops all
  --window SECONDS    longest gap between two lines of one packet (default 1)
  --settle SECONDS    live input: how long a packet already written can still learn later facts
                      (its reply, a revision) on the clock; after that it is settled (default 3)
  --keep N            packets the interactive view keeps (default 5000); older ones are counted
  --exit-at-end       interactive view: quit when the input ends
  --follow, -f        keep reading FILE as it grows (like tail -F; survives log rotation).
                      --follow /dev/kmsg reads the kernel's log records itself (root or
                      CAP_SYSLOG), from the oldest record in its buffer, as dmesg -w does;
                      records the kernel overwrote before they were read are counted and said
  --from-end          with --follow: begin at the end of the file or of the kernel's buffer
                      (only what is logged from now on)
  --state FILE        an agent's place, kept in FILE across restarts (--format ndjson, one
                      input: --follow /dev/kmsg, --follow FILE, or journalctl -k -f -o json on
                      standard input). A restart with the same FILE reads on where the last
                      run stopped: nothing lost, packets in flight read again whole, ids going
                      on, nothing written twice (after a crash, at most the records of its
                      last 100 ms again, the same records; docs/shipping.md)
  --strict            exit 1 when any trace line could not be parsed
  --color / --no-color
  -h, --help

Examples:
  tracewatch replay trace.log --rules node.save
  dmesg -wT | grep --line-buffered TRACE | tracewatch
  dmesg -wT | grep --line-buffered TRACE | tracewatch --format text
  journalctl -k -o short-precise | tracewatch --format json > packets.json
  tracewatch kern.log.1.gz --rules iptables.save --rules ip6tables.save --format ndjson | jq .verdict
  tracewatch --follow /dev/kmsg --node "$(hostname)" --state /var/lib/tracewatch/kmsg.state --format ndjson
  journalctl -k -f -o json -n all | tracewatch --state /var/lib/tracewatch/journal.state --format ndjson
  tracewatch trace.log --format dot | dot -Tsvg > chains.svg
  tracewatch replay trace.log --rules node.save --format html > report.html
  tracewatch replay --node a=a/kern.log,a/iptables.save --node b=b/kern.log,b/iptables.save
  tracewatch replay /var/log/central/kern.log --node node-a=a.save --node node-b=b.save
  kubectl get pods,services,endpointslices,nodes -A -o json > cluster.json
  tracewatch replay trace.log --rules node.save --names cluster.json

Lines that are not trace output are skipped and counted; trace lines that cannot be read are
reported on stderr as file:line:column with what was expected, skipped, and counted.
Ctrl-C or SIGTERM stops reading; complete packets and the summary are still printed. In the
interactive view, q and Ctrl-C are keys that close it.

Exit status: 0 done (also when the reader of the output goes away, and after q or Ctrl-C in the
interactive view); 1 input problems (with --strict: any unparsed line; always: an unreadable or
corrupt input, a rules dump with unreadable lines); 2 usage error (unknown option, missing file);
128+N after signal N from outside, once the output is complete (130 Ctrl-C in a shell, 143 SIGTERM).`;

export type Format = 'tui' | OutputFormat;

export interface PipelineInput {
	/** Name shown to the user: the file, or `(stdin)`. */
	readonly path: string;
	readonly stream: Readable;
	readonly size?: number;
	/** Lines keep coming (stdin, a follow source): packets are shown as they complete. */
	readonly live: boolean;
	/** The node whose trace it is (--node). */
	readonly node?: string;
	/** tracewatch's own NDJSON records to read back, not trace lines (src/model/records.ts). */
	readonly records?: boolean;
	/** Lines with their place in the source (--follow, /dev/kmsg, journal JSON), read instead of `stream` (src/cli/agent.ts). */
	readonly agent?: AgentInput;
}

export interface PipelineOptions {
	readonly format: Format;
	readonly rules: readonly Ruleset[];
	readonly windowSeconds?: number;
	/** Live input: seconds on the clock a packet handed on can still learn facts. @default 3 */
	readonly settleSeconds?: number;
	readonly keep?: number;
	readonly exitAtEnd?: boolean;
	readonly style?: Style;
	/** Shown in the interactive view's title. */
	readonly title?: string;
	/** Where text, JSON and ndjson go (default: standard output). */
	readonly out?: Output;
	/** Where unparsed-line warnings and progress go (default: standard error). */
	readonly warn?: (text: string) => void;
	/** Stop reading (Ctrl-C, SIGTERM): complete packets are still shown. */
	readonly signal?: AbortSignal;
	/** How much of each packet the text format shows. @default 'all' */
	readonly hops?: HopDetail;
	/** Several nodes (--node): one pipeline each, packets followed across them (src/model/fleet.ts). */
	readonly nodes?: readonly NodeSpec[];
	/** What addresses and interfaces are (--names), for every node without names of its own. */
	readonly names?: Names;
	/** Seconds to add to a node's stamps (--offset). */
	readonly offsets?: Readonly<Record<string, number>>;
	/** An agent's place (--state): where the last run stopped, and the keeper of the state file. */
	readonly state?: {readonly resume?: Resume; readonly keeper: StateKeeper};
}

export interface PipelineResult {
	readonly summary: Summary;
	/** Inputs that failed part-way (I/O error, corrupt compression): what was read before is in the summary. */
	readonly readErrors?: readonly string[];
}

/** Unparsed lines reported on stderr as they come; the rest are counted (and listed by --format json). */
const SHOWN_UNPARSED = 20;

/**
 * Reads the inputs in order into one pipeline (src/model/pipeline.ts) and shows what it emits in
 * the chosen format. Shared by `replay` and `live`. This function only wires: inputs to the
 * pipeline, the pipeline's events to a view, the clock to the pipeline while input is live.
 */
export async function runPipeline(inputs: readonly PipelineInput[], options: PipelineOptions): Promise<PipelineResult> {
	const format = options.format;
	const live = inputs.some(i => i.live);
	// Lines of one packet come in one burst: 40 ms of quiet completes it; the interactive view
	// waits a quarter second, quick for a person and safe for slow feeders.
	const settings = {windowSeconds: options.windowSeconds ?? 1, ...(options.settleSeconds === undefined ? {} : {settleSeconds: options.settleSeconds}), idleMs: format === 'tui' ? 250 : 40};
	// Every format reads through a fleet: one pipeline per node, named by --node or by the host a
	// central log's lines name; a trace of one host is one pipeline, as it always was. The
	// interactive view keeps each packet's prediction for its `e` (as one pipeline does).
	const names = options.names ? {names: options.names} : {};
	const resume = options.state?.resume;
	const fleet = new Fleet({
		...settings,
		...names,
		rules: options.rules,
		...(options.nodes ? {nodes: options.nodes} : {}),
		...(options.offsets ? {offsets: options.offsets} : {}),
		...(resume ? {resume} : {}),
		...(format === 'tui' ? {keepComparisons: KEPT_COMPARISONS} : {}),
	});
	let summary: Summary | undefined;
	fleet.on(e => {
		if (e.type === 'end') summary = e.summary;
	});

	if (format === 'tui') {
		const store = new TraceStore(fleet, {keep: options.keep ?? 5000});
		const {runTui} = await import('./tui.js');
		const quit = new AbortController();
		options.signal?.addEventListener('abort', () => quit.abort());
		const ui = runTui(store, {
			exitAtEnd: options.exitAtEnd ?? false,
			title: options.title ?? inputs.map(i => i.path).join(' '),
			signal: quit.signal,
			...(options.style ? {color: options.style === colors} : {}),
		});
		// Said on stderr once the view has given the terminal back.
		const afterView: string[] = [];
		const reading = (async () => {
			for (const input of inputs) {
				let read = 0;
				if (input.size !== undefined) input.stream.on('data', (chunk: Buffer | string) => store.progress((read += chunk.length), input.size));
				if (input.records) {
					const skipped = await readRecords(input, fleet, quit.signal, () => store.countLine());
					if (skipped > 0) afterView.push(`${input.path}: ${skipped} line(s) that are not tracewatch records skipped`);
					continue;
				}
				const index = fleet.addInput(input.path, input.node);
				if (input.live) store.startIdleTimer();
				await readTraceLines(input.stream, index, line => store.push(line), quit.signal);
				store.stop();
			}
			store.end();
		})();
		try {
			await Promise.race([ui, reading.then(() => ui)]);
		} finally {
			// Whatever happened (a read error, q), close the view before anything else is printed.
			quit.abort();
			await ui.catch(() => {});
			for (const input of inputs) input.stream.destroy();
		}
		for (const w of afterView) (options.warn ?? standardWarn)(w);
		return {summary: summary ?? fleet.summary()};
	}

	const stdout = options.out ?? standardOut;
	const warn = options.warn ?? standardWarn;
	// Progress on a terminal, never when standard error is a pipe, nor for JSON written to a file.
	const showProgress = Boolean(process.stderr.isTTY) && warn === standardWarn && !((format === 'json' || format === 'ndjson') && !process.stdout.isTTY);
	let progress: ProgressLine | undefined;
	// Text folds its lines to the terminal's width; in a file or a pipe, lines stay whole.
	const textWidth = options.out === undefined && process.stdout.isTTY ? process.stdout.columns : undefined;
	const dotToSvg = format === 'html' || format === 'svg' ? await loadGraphviz() : undefined;
	const keeper = options.state?.keeper;
	// Written since the state was last saved: the state is saved after the records it describes.
	let wrote = false;
	const view = outputView({
			format,
			live,
			write: text => stdout.write(text),
			style: options.style ?? plain,
			inputs: fleet.inputNames,
			width: graphWidth(),
			hops: options.hops ?? 'all',
			...(textWidth ? {textWidth} : {}),
			...(dotToSvg ? {dotToSvg} : {}),
			title: options.title ?? inputs.map(i => i.path).join(' '),
		});
	// A restarted agent writes nothing it wrote before (src/cli/agent.ts).
	fleet.on(
		keeper
			? unwritten(resume?.emitted ?? 0, view, () => {
					wrote = true;
				})
			: view,
	);
	if (keeper)
		fleet.on(e => {
			if (e.type === 'packet') keeper.wrote(e.packet.id);
			// A packet settled (its window passed on the clock while the input was quiet): the place to read on from moved.
			if (e.type === 'settled') wrote = true;
		});
	// At most every 100 ms while records are written (and when it stops): a state holds up to a
	// settle window's packets, and a crash between two saves writes at most those records again.
	let savedAt = Number.NEGATIVE_INFINITY;
	const save = (force = false) => {
		if (!keeper || !fleet || !(wrote || force)) return;
		const now = Date.now();
		if (!force && now - savedAt < 100) return;
		keeper.save(fleet.only());
		savedAt = now;
		wrote = false;
	};
	fleet.on(e => {
		if (e.type === 'unparsed' && format !== 'json' && e.count <= SHOWN_UNPARSED) {
			if (progress) progress.above(describeUnparsed(e.line));
			else warn(describeUnparsed(e.line));
		}
	});
	const readErrors: string[] = [];

	for (const input of inputs) {
		if (input.records) {
			const skipped = await readRecords(input, fleet, options.signal);
			if (skipped > 0) warn(`${input.path}: ${skipped} line(s) that are not tracewatch records skipped`);
			continue;
		}
		const index = fleet.addInput(input.path, input.node);
		// Live input: the pipeline completes a packet once its lines stop coming; it reads the clock here.
		// A line the reader holds for a possible continuation goes to the model first (ReadOptions.release).
		let releaseHeld: (() => void) | undefined;
		const clock = input.live
			? setInterval(() => {
					releaseHeld?.();
					fleet.tick();
					save();
				}, 10)
			: undefined;
		if (input.agent) {
			// Lines with their place in the source: numbered on from where the last run stopped.
			let n = resume?.linesBefore ?? 0;
			const {lines, stamp, begun} = input.agent;
			options.signal?.addEventListener('abort', () => input.agent?.stop());
			// The state is written once the input is open: killed before any packet, a restart still reads on from where this run began.
			if (keeper)
				void (begun ?? Promise.resolve(undefined)).then(pos => {
					keeper.begin(pos);
					save(true);
				});
			// Read as any input is (records unpacked, wrapped lines joined), numbered on from `n`.
			const reader = new SourceLineReader(index, n, parsed => fleet.push(stamp ? stamp(parsed) : parsed));
			releaseHeld = () => reader.releaseIfQuiet();
			try {
				for await (const l of lines as AsyncIterable<SourceLine>) {
					if (options.signal?.aborted) break;
					n++;
					keeper?.read(n, l.pos, l.before);
					reader.line(l.text);
					// The state is saved on the clock's turn (below), not per line: a burst of lines is
					// one save, and a run of lines that writes nothing still lets go of their positions.
					if (keeper && keeper.held > 4096 && n % 1024 === 0) save(true);
					if (options.out === undefined && process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
				}
			} catch (error) {
				readErrors.push(`${input.path}: ${(error as Error).message}`);
			} finally {
				if (!options.signal?.aborted) reader.end();
				if (clock) clearInterval(clock);
			}
			continue;
		}
		let read = 0;
		let lines = 0;
		progress = input.size !== undefined && input.size > 0 ? progressLine(input.path, input.size, {unit: 'bytes', show: showProgress, warn}) : undefined;
		if (progress) input.stream.on('data', (chunk: Buffer | string) => progress?.update((read += chunk.length), lines));
		try {
			const source = guarded(input.stream, options.signal);
			await readTraceLines(source.stream, index, line => {
				lines++;
				if (!options.signal?.aborted) fleet.push(line);
			}, undefined, {
				// Parsed on the main thread: on two cores V8's collector keeps the second core busy
				// already, and a parser thread beside the model (TRACEWATCH_PARSE_THREADS=1) saved no
				// time for 30 MB more (docs/performance.md).
				parallel: false,
				...(clock ? {release: (fn: () => void) => (releaseHeld = fn)} : {}),
				// Stop reading while the reader of the output (a pipe into jq) is behind, instead of queueing output.
				...(options.out === undefined ? {pace: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain') : undefined)} : {}),
			});
			const failed = source.error();
			if (failed) readErrors.push(`${input.path}: ${failed.message}${(failed as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /gzip|header|end of file/i.test(failed.message) ? ' (the compressed file is cut or corrupt; lines before the damage were read)' : ''}`);
		} catch (error) {
			readErrors.push(`${input.path}: ${(error as Error).message}`);
		} finally {
			if (clock) clearInterval(clock);
			progress?.done();
			progress = undefined;
		}
	}
	// An agent stopped by a signal keeps the packets still in flight for its next run: they are
	// read again whole then, not written now cut short.
	if (keeper && options.signal?.aborted) {
		save(true);
		return {summary: fleet.summary() as Summary, readErrors};
	}
	fleet.end();
	save(true);
	const done = summary ?? fleet.summary();
	if (done.unparsedCount > SHOWN_UNPARSED && format !== 'json' && format !== 'text' && format !== 'graph') warn(`… ${done.unparsedCount - SHOWN_UNPARSED} more unparsed line(s)`);
	// Formats without a summary say on stderr where an input begins in the middle of packets.
	if (format !== 'json' && format !== 'text' && format !== 'graph') for (const n of done.notices ?? []) if (n.what === 'cut-start') warn(`tracewatch: ${cutStartText(n)}`);
	for (const e of readErrors) warn(`tracewatch: ${e}`);
	return {summary: done, readErrors};
}

/** Predictions kept for the interactive view's `e`, per node (what one pipeline keeps). */
const KEPT_COMPARISONS = 2000;

/**
 * An agent's records (tracewatch's own NDJSON) read back into the fleet: packets again, without
 * their raw lines; each hop's file is an input. Returns the count of lines that were not records.
 */
async function readRecords(input: PipelineInput, fleet: Fleet, signal: AbortSignal | undefined, onLine?: () => void): Promise<number> {
	const files = new Map<string, number>();
	const reader = new RecordReader(
		p => fleet.pushRebuilt(p, input.node),
		file => files.get(file) ?? (files.set(file, fleet.addInput(file, input.node)), files.get(file)!),
	);
	for await (const line of input.stream.pipe(split2())) {
		if (signal?.aborted) break;
		reader.push(String(line));
		onLine?.();
	}
	reader.end();
	return reader.skipped;
}

/**
 * The input as the line reader sees it: ends when the caller stops (Ctrl-C) even if the source
 * never would (a silent `dmesg -w`), and carries the source's errors (a corrupt .gz).
 */
function guarded(source: Readable, signal: AbortSignal | undefined): {stream: Readable; error: () => Error | undefined} {
	const out = new PassThrough();
	let failed: Error | undefined;
	// What was read before the error is kept; the error is reported after it.
	source.on('error', error => {
		failed = error;
		source.unpipe(out);
		out.end();
	});
	source.pipe(out);
	signal?.addEventListener('abort', () => {
		source.unpipe(out);
		out.end();
		source.destroy();
	});
	return {stream: out, error: () => failed};
}

/** Columns for --format graph: the terminal's, else $COLUMNS, else wide enough for two or three hooks side by side. */
function graphWidth(): number {
	return process.stdout.columns || Number(process.env['COLUMNS']) || 160;
}

/** What `tracewatch replay` takes (also: the suggestions for a mistyped option). */
const REPLAY_OPTIONS = {
	rules: {type: 'string', multiple: true},
	format: {type: 'string'},
	window: {type: 'string'},
	settle: {type: 'string'},
	keep: {type: 'string'},
	'exit-at-end': {type: 'boolean'},
	node: {type: 'string', multiple: true},
	names: {type: 'string', multiple: true},
	offset: {type: 'string', multiple: true},
	hops: {type: 'string'},
	verbose: {type: 'boolean', short: 'v'},
	follow: {type: 'boolean', short: 'f'},
	'from-end': {type: 'boolean'},
	state: {type: 'string'},
	strict: {type: 'boolean'},
	color: {type: 'boolean'},
	'no-color': {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
} as const;

export async function replay(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: REPLAY_OPTIONS,
		});
	} catch (error) {
		throw argumentError(error, Object.keys(REPLAY_OPTIONS));
	}
	const {values, positionals} = parsed;
	if (values.help) {
		standardOut.write(`${REPLAY_HELP}\n`);
		return EXIT.ok;
	}
	const format = (values.format ?? (standardOut.isTTY && !process.env['CI'] ? 'tui' : 'text')) as Format;
	if (!['tui', 'text', 'json', 'ndjson', 'graph', 'dot', 'html', 'svg'].includes(format)) throw new UsageError(`--format must be tui, text, json, ndjson, graph, dot, html or svg, not "${values.format}"`);
	const windowSeconds = values.window === undefined ? 1 : Number(values.window);
	if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw new UsageError(`--window must be a positive number of seconds, not "${values.window}"`);
	const settleSeconds = values.settle === undefined ? undefined : Number(values.settle);
	if (settleSeconds !== undefined && (!Number.isFinite(settleSeconds) || settleSeconds <= 0)) throw new UsageError(`--settle must be a positive number of seconds, not "${values.settle}"`);
	const keep = values.keep === undefined ? undefined : Number(values.keep);
	if (keep !== undefined && (!Number.isInteger(keep) || keep < 1)) throw new UsageError(`--keep must be a positive whole number, not "${values.keep}"`);
	const color = values['no-color'] ? false : values.color ? true : standardOut.color;
	const hops = (values.hops ?? 'all') as HopDetail;
	if (!['summary', 'path', 'all'].includes(hops)) throw new UsageError(`--hops must be summary, path or all, not "${values.hops}"`);
	if (values.verbose && values.hops && hops !== 'all') throw new UsageError(`-v shows every hop; it does not go with --hops ${hops}`);

	// No progress while a script waits for JSON in a file.
	const progress = !((format === 'json' || format === 'ndjson') && !standardOut.isTTY);
	const rulesets: Ruleset[] = (values.rules ?? []).map(path => loadRules(path, {progress}));
	let ruleProblems = 0;
	for (const rs of rulesets) {
		ruleProblems += reportRulesetProblems(rs);
		if (rs.format === 'empty' && rs.problems.length === 0) standardWarn(`${rs.path}: no tables, chains or rules found: is it an iptables-save or iptables -S dump?`);
	}

	// `--node NAME` alone names the node the FILEs (or stdin) come from: an agent on one node labels its records.
	const self = (values.node ?? []).filter(n => !n.includes('='));
	if (self.length > 1) throw new UsageError(`one --node NAME names this node; give other nodes as --node NAME=TRACE (got ${self.join(', ')})`);
	const selfNode = self[0];
	const nodes = (values.node ?? []).filter(n => n.includes('=')).map(parseNode);
	if (nodes.length > 0) {
		if (rulesets.length > 0) throw new UsageError('with --node, give each node\'s ruleset in its --node: --node a=a.log,a.save');
		if (values.follow) throw new UsageError('--follow reads one file; --node NAME=… reads saved traces');
		const seen = new Set<string>();
		for (const n of nodes) {
			if (seen.has(n.name)) throw new UsageError(`--node ${n.name} given twice: give all of a node's files in one --node, separated by commas`);
			seen.add(n.name);
		}
	}
	// --names: what addresses and interfaces are (kubectl JSON, ip -j); a node's own ip -j files go in its --node.
	const namesFiles = (values.names ?? []).map(f => ({path: f, text: readNamesFile(f)}));
	const namesOf = (own: ReadonlyArray<{path: string; text: string}>, node?: string): Names | undefined => {
		if (namesFiles.length === 0 && own.length === 0) return undefined;
		const names = new Names();
		try {
			for (const f of namesFiles) names.read(f.text, f.path);
			for (const f of own) names.read(f.text, f.path, node);
		} catch (error) {
			throw new UsageError((error as Error).message);
		}
		for (const file of names.files) for (const problem of file.problems) standardWarn(problem);
		return names;
	};
	const nodeOf = new Map<string, string>();
	const nodeSpecs = nodes.map(n => {
		const rules: Ruleset[] = [];
		const own: Array<{path: string; text: string}> = [];
		for (const f of n.files) {
			const json = jsonNames(f);
			if (json !== undefined) own.push({path: f, text: json});
			else if (looksLikeRuleset(f)) {
				const rs = loadRules(f, {progress});
				ruleProblems += reportRulesetProblems(rs);
				rules.push(rs);
			} else nodeOf.set(f, n.name);
		}
		// A node given only its rulesets reads its lines from a central log (FILE, or piped in), by host name.
		if (![...nodeOf.values()].includes(n.name) && positionals.length === 0 && process.stdin.isTTY) throw new UsageError(`--node ${n.name}: no trace among ${n.files.join(', ')} (the files there are rulesets); give its trace in the --node, or a central log as FILE whose lines name ${n.name} as their host`);
		const names = namesOf(own, n.name);
		return {name: n.name, rules, ...(names ? {names} : {})};
	});
	const globalNames = namesOf([]);
	const offsets: Record<string, number> = {};
	for (const spec of values.offset ?? []) {
		const m = /^([^=]+)=([+-]?\d+(?:\.\d+)?)$/.exec(spec);
		if (!m) throw new UsageError(`--offset takes NODE=SECONDS (what to add to the node's stamps to put them on the first node's clock), e.g. --offset node-b=-3.25; not "${spec}"`);
		offsets[m[1]!] = Number(m[2]);
	}

	const files = [...nodeOf.keys(), ...positionals];
	if (files.length === 0) files.push('-');
	if (values.follow && (files.length !== 1 || files[0] === '-')) throw new UsageError('--follow reads one FILE as it grows; for stdin just pipe into tracewatch');
	if (values['from-end'] && !values.follow) throw new UsageError('--from-end goes with --follow: where to begin in the followed file or /dev/kmsg');
	const stop = new AbortController();
	// --state: an agent's place in its one live input, kept across restarts (src/cli/agent.ts).
	const statePath = values.state;
	let state: AgentState | undefined;
	let resume: Resume | undefined;
	/** The state's place cannot be read on from (a new boot, another file): a new start, with ids going on. */
	let fresh = false;
	if (statePath !== undefined) {
		if (format !== 'ndjson' && format !== 'text') throw new UsageError('--state keeps the place of an agent writing records: use it with --format ndjson (or text)');
		if (nodes.length > 0 || files.length !== 1 || (!values.follow && files[0] !== '-')) throw new UsageError('--state keeps the place in one live input: --follow /dev/kmsg, --follow FILE, or journalctl -k -f -o json on standard input');
		state = loadState(statePath);
		StateKeeper.checkWritable(statePath);
		const input = files[0] === '-' ? '(stdin)' : files[0]!;
		if (state && state.input !== input) throw new UsageError(`--state ${statePath} is the state of ${state.input}, not of ${input}: give each input its own state file`);
		if (state && selfNode !== undefined && state.node !== undefined && state.node !== selfNode) throw new UsageError(`--state ${statePath} is the state of node ${state.node}, not ${selfNode}`);
		resume = state ? resumeOf(state) : undefined;
	}
	const warnRestart = (text: string) => standardWarn(`tracewatch: ${text}`);
	/** A --follow input, as lines with their place: where the state says, else from the start (or the end). */
	const followed = (f: string): AgentInput => {
		const after = state?.after ?? null;
		if (isRecordDevice(f)) {
			if (state && after && after.kind === 'kmsg') {
				if (after.boot !== undefined && f === '/dev/kmsg' && after.boot !== bootId()) {
					warnRestart(`${f}: the system booted since ${statePath} was saved: reading this boot's log from its start; packet ids go on after ${state.emitted}`);
					resume = freshAfter(state);
					fresh = true;
					return kmsgInput(f, 'start', standardWarn);
				}
				return kmsgInput(f, {after: after.seq}, standardWarn);
			}
			return kmsgInput(f, state || !values['from-end'] ? 'start' : 'end', standardWarn);
		}
		if (state && after && after.kind === 'file') {
			let st;
			try {
				st = statSync(f);
			} catch {
				st = undefined;
			}
			if (st && st.dev === after.dev && st.ino === after.ino && st.size >= after.offset) return fileInput(f, after.offset, standardWarn, stop.signal);
			// Rotated while tracewatch was not running: the rest of the old file first, if it is still there.
			const old = st && (st.dev !== after.dev || st.ino !== after.ino) ? rotatedTo(f, after) : undefined;
			if (old && statSync(old).size >= after.offset) {
				warnRestart(`${f} was rotated since ${statePath} was saved: reading on in ${old} from byte ${after.offset}, then ${f} from its start`);
				return fileInput(f, after.offset, standardWarn, stop.signal, old);
			}
			warnRestart(`${f} is ${st && st.dev === after.dev && st.ino === after.ino ? 'shorter than when' : 'not the file it was when'} ${statePath} was saved (rotated or truncated meanwhile): reading it from its start; what the old file got after byte ${after.offset} was not read; packet ids go on after ${state.emitted}`);
			resume = freshAfter(state);
			fresh = true;
			return fileInput(f, 0, standardWarn, stop.signal);
		}
		return fileInput(f, state || !values['from-end'] ? 0 : 'end', standardWarn, stop.signal);
	};
	// Open every input before reading any, so a missing file is a usage error before output starts.
	const inputs: PipelineInput[] = files.map(f => {
		if (values.follow && isRecordDevice(f)) {
			const agent = followed(f);
			return {path: f, stream: format === 'tui' ? asText(agent) : new PassThrough(), live: true, ...(format === 'tui' ? {} : {agent}), ...(selfNode ? {node: selfNode} : {})};
		}
		const o = openInput(f);
		if (looksLikeRuleset(f)) {
			o.stream.destroy();
			throw new UsageError(`${f} is a saved ruleset, not a trace: give it with --rules ${f} next to the trace file, or check it with \`tracewatch rules ${f}\``);
		}
		if (values.follow) {
			o.stream.destroy();
			const agent = followed(f);
			return {path: f, stream: format === 'tui' ? asText(agent) : new PassThrough(), live: true, ...(format === 'tui' ? {} : {agent}), ...(selfNode ? {node: selfNode} : {})};
		}
		if (statePath !== undefined && f === '-') {
			const after = state?.after;
			return {path: '(stdin)', stream: new PassThrough(), live: true, agent: stdinInput(o.stream, after?.kind === 'journal' ? after : undefined), ...(selfNode ? {node: selfNode} : {})};
		}
		const node = nodeOf.get(f) ?? selfNode;
		const records = looksLikeRecords(f);
		return {path: f === '-' ? '(stdin)' : f, stream: o.stream, live: f === '-', ...(o.size !== undefined ? {size: o.size} : {}), ...(node ? {node} : {}), ...(records ? {records} : {})};
	});
	if (files.includes('-') && process.stdin.isTTY) {
		throw new UsageError('no trace to read: pipe trace lines in (dmesg -W | grep --line-buffered TRACE: | tracewatch), give a FILE (tracewatch replay trace.log --rules node.save), or let tracewatch capture them (sudo tracewatch live --src ADDRESS)');
	}

	// Ctrl-C / SIGTERM: stop reading, show what is complete, then exit 128+N (the interactive view
	// handles its own keys: q and Ctrl-C there are keys, not signals). A second signal exits at once.
	let signalled: NodeJS.Signals | undefined;
	const onSignal = (sig: NodeJS.Signals) => {
		if (stop.signal.aborted) process.exit(signalExit(sig));
		signalled = sig;
		stop.abort();
	};
	if (format !== 'tui') {
		process.once('SIGINT', onSignal);
		process.once('SIGTERM', onSignal);
	}

	const {summary, readErrors} = await runPipeline(inputs, {
		signal: stop.signal,
		format,
		rules: rulesets,
		windowSeconds,
		...(settleSeconds !== undefined ? {settleSeconds} : {}),
		...(keep !== undefined ? {keep} : {}),
		exitAtEnd: values['exit-at-end'] ?? false,
		style: color ? colors : plain,
		hops,
		...(nodeSpecs.length > 0 ? {nodes: nodeSpecs} : {}),
		...(globalNames ? {names: globalNames} : {}),
		...(Object.keys(offsets).length > 0 ? {offsets} : {}),
		...(statePath !== undefined ? {state: {...(resume ? {resume} : {}), keeper: new StateKeeper(statePath, files[0] === '-' ? '(stdin)' : files[0]!, selfNode, {after: fresh ? null : (state?.after ?? null), line: resume?.linesBefore ?? 0, emitted: resume?.emitted ?? 0}, standardWarn)}} : {}),
	});

	if (signalled) return signalExit(signalled);
	if (readErrors && readErrors.length > 0) return EXIT.inputErrors;
	if (values.strict && summary.unparsedCount > 0) return EXIT.inputErrors;
	if (ruleProblems > 0) return EXIT.inputErrors;
	return EXIT.ok;
}

/** `--node NAME=FILE[,FILE…]`: a node's name and its files (traces and rulesets, told apart by their content). */
function parseNode(spec: string): {name: string; files: string[]} {
	const eq = spec.indexOf('=');
	const name = eq === -1 ? '' : spec.slice(0, eq);
	const files = eq === -1 ? [] : spec.slice(eq + 1).split(',').filter(f => f !== '');
	if (!name || files.length === 0) throw new UsageError(`--node takes NAME=TRACE[,RULES…], e.g. --node node-a=a/dmesg.log,a/iptables.save; not "${spec}"`);
	return {name, files};
}

/** The text of a --names file, or a usage error that says why it cannot be read. */
function readNamesFile(path: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`--names ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
	}
}

/** A --node file that is saved state (kubectl JSON, ip -j): its text; undefined for a trace or a dump. */
function jsonNames(path: string): string | undefined {
	let text: string;
	try {
		if (statSync(path).size > 64_000_000) return undefined;
		// A trace or a dump shows itself in its first bytes; only JSON is read whole.
		const head = Buffer.alloc(256);
		const fd = openSync(path, 'r');
		const n = readSync(fd, head, 0, head.length, 0);
		closeSync(fd);
		if (!/^\s*[[{]/.test(head.subarray(0, n).toString('utf8'))) return undefined;
		text = readFileSync(path, 'utf8');
	} catch {
		return undefined;
	}
	try {
		new Names().read(text, path);
		return text;
	} catch {
		return undefined;
	}
}
