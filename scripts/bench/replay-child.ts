/**
 * One full replay, in a process of its own: `node --import tsx scripts/bench/replay-child.ts FILE [--rules F]... [--format ndjson|json|text]`
 *
 * Runs the replay pipeline (src/cli/replay.ts runPipeline: read, parse, rebuild packets, JSON
 * out) on FILE exactly as `tracewatch FILE --format ndjson` does — the built code (dist/) when
 * there is one, as bin/tracewatch.js runs it, with the collector paced the same way — with the
 * output written to /dev/null, and prints one JSON line: lines, bytes, ms (pipeline only, not
 * process start), packets, output bytes, peak RSS, and the parser's cache counters.
 */
import {closeSync, existsSync, openSync, statSync, writeSync} from 'node:fs';
import {parseArgs} from 'node:util';
import type * as Collector from '../../src/cli/collector.js';
import type * as Io from '../../src/cli/io.js';
import type * as Replay from '../../src/cli/replay.js';
import type * as Segments from '../../src/parser/segments.js';

/** A module of the program: the built one when there is a build, else the source (run by tsx). */
async function load<T>(path: string): Promise<T> {
	const built = new URL(`../../dist/${path}.js`, import.meta.url);
	return (await import(existsSync(built) ? built.href : new URL(`../../src/${path}.js`, import.meta.url).href)) as T;
}
(await load<typeof Collector>('cli/collector')).paceCollector();
const {loadRules, openInput} = await load<typeof Io>('cli/io');
const {runPipeline} = await load<typeof Replay>('cli/replay');
const {segmentStats} = await load<typeof Segments>('parser/segments');
type Format = Replay.Format;

const {values, positionals} = parseArgs({allowPositionals: true, options: {rules: {type: 'string', multiple: true}, format: {type: 'string'}}});
const path = positionals[0]!;
const format = (values.format ?? 'ndjson') as Format;
const rules = (values.rules ?? []).map(path => loadRules(path, {progress: false}));

/** Output in 1 MB writes to /dev/null: the JSON is built and written as the CLI does, without a disk in the measurement. */
const fd = openSync('/dev/null', 'w');
let pending: string[] = [];
let pendingBytes = 0;
let outBytes = 0;
const out = {
	write(text: string) {
		pending.push(text);
		pendingBytes += text.length;
		outBytes += text.length;
		if (pendingBytes > 1 << 20) flush();
	},
	isTTY: false,
	color: false,
};
function flush(): void {
	if (pending.length > 0) writeSync(fd, pending.join(''));
	pending = [];
	pendingBytes = 0;
}

const input = openInput(path);
const start = performance.now();
const {summary} = await runPipeline([{path, stream: input.stream, live: false, ...(input.size !== undefined ? {size: input.size} : {})}], {
	format,
	rules,
	out,
	warn: () => {},
});
flush();
const ms = performance.now() - start;
closeSync(fd);
const lines = summary.inputs.reduce((n, i) => n + i.lines, 0);
const stats = segmentStats();
process.stdout.write(
	`${JSON.stringify({
		lines,
		bytes: statSync(path).size,
		ms,
		packets: summary.completed,
		unparsed: summary.unparsedCount,
		outBytes,
		maxRssMB: process.resourceUsage().maxRSS / 1024,
		cache: Object.fromEntries(Object.entries(stats).filter(([, v]) => v.hits + v.misses > 0)),
	})}\n`,
);
