/**
 * One full replay, in a process of its own: `node scripts/bench/replay-child.mjs FILE [--rules F]... [--format ndjson|json|text]`
 *
 * Runs the replay pipeline (src/cli/replay.ts runPipeline: read, parse, rebuild packets, JSON
 * out) on FILE exactly as `tracewatch FILE --format ndjson` does — the built code (dist/, which
 * `npm run bench` builds first), with the collector paced the same way — with the output written
 * to /dev/null, and prints one JSON line: lines, bytes, ms (pipeline only, not process start),
 * packets, output bytes, peak RSS, and the parser's cache counters.
 *
 * Plain JavaScript run by plain `node`, like bin/tracewatch.js: under tsx, its loader thread (a
 * second V8 heap) added about 55 MB to every peak RSS measured here, memory the CLI never uses.
 */
import {closeSync, existsSync, openSync, statSync, writeSync} from 'node:fs';
import {parseArgs} from 'node:util';

const dist = new URL('../../dist/', import.meta.url);
if (!existsSync(new URL('cli/replay.js', dist))) {
	process.stderr.write('replay-child: no build in dist/ (run `npm run build`)\n');
	process.exit(2);
}
(await import(new URL('cli/collector.js', dist).href)).paceCollector();
const {loadRules, openInput} = await import(new URL('cli/io.js', dist).href);
const {runPipeline} = await import(new URL('cli/replay.js', dist).href);
const {segmentStats} = await import(new URL('parser/segments.js', dist).href);

const {values, positionals} = parseArgs({allowPositionals: true, options: {rules: {type: 'string', multiple: true}, format: {type: 'string'}}});
const path = positionals[0];
const format = values.format ?? 'ndjson';
const rules = (values.rules ?? []).map(path => loadRules(path, {progress: false}));

/**
 * Output written to /dev/null as it comes, as the CLI writes to a file: the JSON is built and
 * written without a disk in the measurement. (Gathered into 1 MB writes, the held strings
 * lived long enough to reach V8's old space, and the heap grew by a fifth for it.)
 */
const fd = openSync('/dev/null', 'w');
let outBytes = 0;
const out = {
	write(text) {
		outBytes += text.length;
		writeSync(fd, text);
	},
	isTTY: false,
	color: false,
};

const input = openInput(path);
const start = performance.now();
const {summary} = await runPipeline([{path, stream: input.stream, live: false, ...(input.size !== undefined ? {size: input.size} : {})}], {
	format,
	rules,
	out,
	warn: () => {},
});
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
