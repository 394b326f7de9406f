/**
 * `npm run bench`: how fast tracewatch replays trace text, against a bare regex tokenizer on the
 * same corpus, and whether the live path stays fast and memory-flat. Not part of `npm test`.
 *
 *   npm run bench                      full run (about 40 minutes on 2 cores, most of it the 10 M-line stream)
 *   npm run bench -- --quick           smaller corpus, 1 M streamed lines, 1 run (a few minutes)
 *   npm run bench -- --lines 200000 --runs 3 --stream-lines 10000000 --forms dmesg,nft-monitor --rss-ceiling 2048
 *   npm run bench -- --curves          also replay lines/s and peak RSS at 10^4 … 10^7 lines (raw dmesg), and
 *                                      ruleset time and RSS at 10^3 … 1.6·10^5 rules (about 20 more minutes)
 *   npm run bench -- --scale-lines N   the central-vs-one-host comparison at N lines (default 10^6, about
 *                                      5 minutes); --no-scale skips it
 *
 * 0. Builds tracewatch (`npm run build`): the replay and the live path measure the build, run by
 *    plain `node` as bin/tracewatch.js runs it.
 * 1. Builds the corpus (scripts/bench/corpus.ts) in a temporary directory, one file per form.
 * 2. Per form, several runs, each in a fresh process: the regex tokenizer (scripts/bench/
 *    regex-tokenizer.ts) and the full replay (scripts/bench/replay-child.mjs: read, parse, rebuild
 *    packets, join the rules, ndjson out) with the Calico + kube-proxy ruleset. Medians.
 * 3. The live path (scripts/bench/live.ts): latency of single packets through a pipe into
 *    `node bin/tracewatch.js --format ndjson`, then millions of lines streamed through it with
 *    its RSS sampled.
 * 4. Start: `tracewatch --help` and `tracewatch rules` on a small dump, against `node -e 0`.
 * 5. Rulesets (scripts/bench/rules.ts): `tracewatch rules --format json` on kube-proxy-shaped
 *    dumps (scripts/bench/kube-dump.ts) against `iptables-legacy-restore --test` on the same dump.
 * 6. Scale: a central log of 50 hosts (the `central` corpus form) and one host's (`kernlog`),
 *    10^6 lines each, one replay each: lines/s and peak RSS.
 * 7. The targets, met or not, as ratios to the baseline measured in the same run; the central log
 *    against one host's of the same size (at the scale of 6 when it ran).
 *
 * BENCH_NODE_ARGS (e.g. "--max-old-space-size=128") adds Node options to the live tracewatch process.
 */
import {execFileSync} from 'node:child_process';
import {createWriteStream, mkdtempSync, rmSync, statSync} from 'node:fs';
import {cpus, loadavg, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {corpusLines, FORMS, type Form} from './bench/corpus.js';
import {measureLatency, measureStream} from './bench/live.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULES = join(ROOT, 'testdata/dmesg/wifi-masquerade/iptables.save');

const {values} = parseArgs({
	options: {
		quick: {type: 'boolean'},
		lines: {type: 'string'},
		runs: {type: 'string'},
		'stream-lines': {type: 'string'},
		'latency-packets': {type: 'string'},
		forms: {type: 'string'},
		'rss-ceiling': {type: 'string'},
		keep: {type: 'boolean'},
		curves: {type: 'boolean'},
		'no-rules': {type: 'boolean'},
		'scale-lines': {type: 'string'},
		'no-scale': {type: 'boolean'},
	},
});
const quick = values.quick ?? false;
const LINES = Number(values.lines ?? (quick ? 100_000 : 200_000));
const RUNS = Number(values.runs ?? (quick ? 1 : 3));
const STREAM = Number(values['stream-lines'] ?? (quick ? 1_000_000 : 10_000_000));
const PROBES = Number(values['latency-packets'] ?? 40);
/** A central log of 50 hosts and one host's log of this many lines each, one run each (0: skipped). */
const SCALE = values['no-scale'] ? 0 : Number(values['scale-lines'] ?? 1_000_000);
/** The live stream stops when tracewatch's RSS passes this: a leak shows without taking the machine down. */
const CEILING = Number(values['rss-ceiling'] ?? 2048);
const forms = (values.forms ? values.forms.split(',') : [...FORMS]) as Form[];

const TARGET_RATIO = 0.5;
const STRETCH_RATIO = 0.8;
const TARGET_RSS_MB = 200;
const TARGET_LATENCY_MS = 100;
const TARGET_START_MS = 150;

function log(text = ''): void {
	process.stdout.write(`${text}\n`);
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function fmt(n: number, digits = 0): string {
	return n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
}

interface ChildResult {
	lines: number;
	bytes: number;
	ms: number;
	maxRssMB: number;
	packets?: number;
}

/** A measuring child: TypeScript ones under tsx; the replay (JavaScript, on the build) under plain node, as the CLI runs. */
function child(script: string, args: string[], env: Record<string, string> = {}): ChildResult {
	const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
	const out = execFileSync(process.execPath, [...loader, join(ROOT, 'scripts/bench', script), ...args], {cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, env: {...process.env, ...env}});
	return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

async function writeCorpus(dir: string, form: Form, lines: number, name = `${form}.log`): Promise<string> {
	const path = join(dir, name);
	const out = createWriteStream(path);
	const gen = corpusLines(ROOT, form, 1);
	for (let i = 0; i < lines; i += 1000) {
		const batch: string[] = [];
		for (let j = i; j < Math.min(lines, i + 1000); j++) batch.push(gen.next().value!);
		if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>(resolve => out.once('drain', () => resolve()));
	}
	await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
	return path;
}

// ---- the machine -------------------------------------------------------------------------------

const cpu = cpus();
log('tracewatch benchmark');
log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}, ${process.platform}`);
log(`load average at start: ${loadavg().map(l => l.toFixed(2)).join(' ')}`);
log(`corpus: ${fmt(LINES)} lines per form, ${RUNS} run(s) each (median shown); live stream: ${fmt(STREAM)} lines`);
log();

// The replay and the live path run the build, as the CLI does: built from this checkout first.
execFileSync('npm', ['run', '--silent', 'build'], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']});

// ---- corpus ------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'tracewatch-bench-'));
const files = new Map<Form, string>();
for (const form of forms) files.set(form, await writeCorpus(dir, form, LINES));

// ---- replay vs tokenizer -----------------------------------------------------------------------

interface Row {
	form: string;
	lines: number;
	mb: number;
	regex: number;
	replay: number;
	replayMBs: number;
	ratio: number;
	rss: number;
	packets: number;
}
const rows: Row[] = [];
// As the CLI runs today (it hands the line reader a pipe, so parsing stays on the main thread),
// then with one parser thread beside the model (what `readTraceLines(…, {parallel: true})` does
// for a large file).
const variants: Array<[string, Form, Record<string, string>]> = forms.map(f => [f, f, {}]);
for (const f of ['dmesg', 'nft-monitor'] as const) if (forms.includes(f)) variants.push([`${f}, 1 parser thread`, f, {TRACEWATCH_PARSE_THREADS: '1'}]);
/** Tokenizer runs per corpus file, pooled over the variants that read it (one baseline per file). */
const regexRuns = new Map<Form, number[]>();
const measured: Array<{label: string; form: Form; replay: number[]; replayMB: number[]; rss: number[]; packets: number}> = [];
for (const [label, form, env] of variants) {
	const path = files.get(form)!;
	const regex = regexRuns.get(form) ?? [];
	regexRuns.set(form, regex);
	const m = {label, form, replay: [] as number[], replayMB: [] as number[], rss: [] as number[], packets: 0};
	for (let r = 0; r < RUNS; r++) {
		const t = child('regex-tokenizer.ts', [path]);
		regex.push((t.lines / t.ms) * 1000);
		const p = child('replay-child.mjs', [path, '--rules', RULES, '--format', 'ndjson'], env);
		m.replay.push((p.lines / p.ms) * 1000);
		m.replayMB.push(p.bytes / p.ms / 1000);
		m.rss.push(p.maxRssMB);
		m.packets = p.packets ?? 0;
	}
	measured.push(m);
	log(`${label.padEnd(30)} replay ${fmt(median(m.replay)).padStart(7)} lines/s ${fmt(median(m.replayMB), 1).padStart(5)} MB/s   peak RSS ${fmt(median(m.rss))} MB   (tokenizer so far ${fmt(median(regex))} lines/s)`);
}
for (const m of measured) {
	const regex = median(regexRuns.get(m.form)!);
	rows.push({
		form: m.label,
		lines: LINES,
		mb: statSync(files.get(m.form)!).size / 1e6,
		regex,
		replay: median(m.replay),
		replayMBs: median(m.replayMB),
		ratio: median(m.replay) / regex,
		rss: median(m.rss),
		packets: m.packets,
	});
}
log();
log('Full replay (read + parse + rebuild packets + join rules + ndjson out) vs a bare regex tokenizer, same corpus, same run');
log(`(medians; the tokenizer's median over all ${RUNS}-run batches of its file):`);
log();
log('| corpus | lines | MB | regex tokenizer lines/s | replay lines/s | replay MB/s | replay ÷ regex | peak RSS MB | packets |');
log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) log(`| ${r.form} | ${fmt(r.lines)} | ${fmt(r.mb, 1)} | ${fmt(r.regex)} | ${fmt(r.replay)} | ${fmt(r.replayMBs, 1)} | ${r.ratio.toFixed(3)} | ${fmt(r.rss)} | ${fmt(r.packets)} |`);
log();

// ---- scale: a central log of 50 hosts against one host's log ---------------------------------

interface ScaleRow {
	form: Form;
	lines: number;
	replay: number;
	rss: number;
	packets: number;
}
const scale: ScaleRow[] = [];
if (SCALE > 0) {
	log(`Scale: a central log of 50 hosts (each its own host name, clock and conversations) and one host's kern.log, ${fmt(SCALE)} lines each, one run each:`);
	log();
	log('| corpus | lines | MB | replay lines/s | peak RSS MB | packets |');
	log('|---|---:|---:|---:|---:|---:|');
	for (const form of ['central', 'kernlog'] as const) {
		const path = await writeCorpus(dir, form, SCALE, `scale-${form}.log`);
		const p = child('replay-child.mjs', [path, '--rules', RULES, '--format', 'ndjson']);
		const row = {form, lines: p.lines, replay: (p.lines / p.ms) * 1000, rss: p.maxRssMB, packets: p.packets ?? 0};
		scale.push(row);
		log(`| ${form} | ${fmt(row.lines)} | ${fmt(statSync(path).size / 1e6, 1)} | ${fmt(row.replay)} | ${fmt(row.rss)} | ${fmt(row.packets)} |`);
		rmSync(path, {force: true});
	}
	log();
}

// ---- live path ---------------------------------------------------------------------------------

log(`Live path: lines written into a pipe to \`node bin/tracewatch.js --format ndjson\`:`);
const latency = await measureLatency(ROOT, PROBES, 150);
log(
	`  latency, last line of a packet written → its ndjson object read: median ${latency.medianMs.toFixed(1)} ms, p95 ${latency.p95Ms.toFixed(1)} ms, max ${latency.maxMs.toFixed(1)} ms (${latency.packets} packets, 150 ms apart; the first, right after start: ${latency.firstMs.toFixed(1)} ms)`,
);
let nextReport = 1_000_000;
const stream = await measureStream(ROOT, STREAM, CEILING, (written, mb) => {
	if (written >= nextReport) {
		log(`  ${fmt(written).padStart(11)} lines streamed, RSS ${fmt(mb)} MB`);
		nextReport += 1_000_000;
	}
});
if (stream.stopped) log(`  stopped after ${fmt(stream.lines)} of ${fmt(STREAM)} lines: RSS passed ${fmt(CEILING)} MB (--rss-ceiling)`);
log(
	`  ${fmt(stream.lines)} lines in ${fmt(stream.seconds, 1)} s (${fmt(stream.lines / stream.seconds)} lines/s), ${fmt(stream.packetsOut)} packets out; RSS peak ${fmt(stream.peakMB)} MB, at the end ${fmt(stream.endMB)} MB, growth ${Number.isNaN(stream.slopeMBPerMillion) ? 'not measured (too few samples)' : `${stream.slopeMBPerMillion.toFixed(1)} MB per million lines over the second half`}`,
);
log();

// ---- start -------------------------------------------------------------------------------------

/** Milliseconds a whole process takes, median of `n` runs. */
function processMs(args: string[], n = 7): number {
	const times: number[] = [];
	for (let i = 0; i < n; i++) {
		const t = performance.now();
		execFileSync(process.execPath, args, {cwd: ROOT, stdio: 'ignore'});
		times.push(performance.now() - t);
	}
	return median(times);
}
const startNode = processMs(['-e', '0']);
const startHelp = processMs(['bin/tracewatch.js', '--help']);
const startRules = processMs(['bin/tracewatch.js', 'rules', 'testdata/dmesg/wifi-no-reply/iptables.save', '--format', 'json']);
log(`Start (whole process, median of 7): node -e 0 ${fmt(startNode)} ms; tracewatch --help ${fmt(startHelp)} ms; tracewatch rules on a small dump ${fmt(startRules)} ms`);
log();

// ---- rulesets ----------------------------------------------------------------------------------

let rulesTargets: string[] = [];
if (!values['no-rules']) {
	// A module of the benchmark's own (kept apart so that `node --import tsx scripts/bench/rules.ts` runs it alone).
	const {benchRules} = await import('./bench/rules.js');
	// Quick: up to 1000 × 10 services; full (or --curves): up to 5000 × 10, 1.6·10^5 rules.
	log('Rulesets: `tracewatch rules DUMP --format json` on kube-proxy-shaped dumps (scripts/bench/kube-dump.ts), fresh process each, beside iptables-legacy-restore --test:');
	log();
	const r = await benchRules({quick: quick && !values.curves});
	for (const line of r.lines) log(line);
	rulesTargets = r.targets.map(t => `  ${t.met ? 'MET    ' : 'NOT MET'} ${t.text}`);
	log();
}

// ---- curves ------------------------------------------------------------------------------------

if (values.curves) {
	log('Replay of raw dmesg at growing sizes (one run each, --rules, ndjson):');
	log();
	log('| lines | replay lines/s | peak RSS MB | packets |');
	log('|---:|---:|---:|---:|');
	for (const n of [10_000, 100_000, 1_000_000, 10_000_000]) {
		const path = await writeCorpus(dir, 'dmesg', n);
		const p = child('replay-child.mjs', [path, '--rules', RULES, '--format', 'ndjson']);
		log(`| ${fmt(n)} | ${fmt((p.lines / p.ms) * 1000)} | ${fmt(p.maxRssMB)} | ${fmt(p.packets ?? 0)} |`);
		rmSync(path, {force: true});
	}
	log();
}

// ---- targets -----------------------------------------------------------------------------------

const verdict = (ok: boolean) => (ok ? 'MET    ' : 'NOT MET');
const targets: string[] = [];
/** The best variant of a form (with or without a parser thread) against its target ratio. */
for (const [form, target, what] of [
	['dmesg', TARGET_RATIO, 'raw-stamp kernel lines (dmesg)'],
	['dmesg-T', STRETCH_RATIO, 'dmesg -T stamps'],
	['xtables-monitor', TARGET_RATIO, 'xtables-monitor --trace'],
	['nft-monitor', TARGET_RATIO, 'nft monitor trace'],
] as const) {
	const of = rows.filter(r => r.form === form || r.form.startsWith(`${form}, `));
	const best = [...of].sort((a, b) => b.ratio - a.ratio)[0];
	if (!best) continue;
	const short = best.ratio >= target ? '' : `; ${(target / best.ratio).toFixed(1)}× too slow`;
	targets.push(`  ${verdict(best.ratio >= target)} full replay ≥ ${target}× the regex tokenizer on ${what}: ${best.ratio.toFixed(3)}× (${fmt(best.replay)} vs ${fmt(best.regex)} lines/s${of.length > 1 ? `; ${of.map(r => `${r.form} ${r.ratio.toFixed(3)}×`).join(', ')}` : ''}${short})`);
}
for (const r of rows) if (r.rss > TARGET_RSS_MB && r.form !== 'central') targets.push(`  ${verdict(false)} replay of ${r.form} within ${TARGET_RSS_MB} MB: peak RSS ${fmt(r.rss)} MB`);
const one = rows.filter(r => r.form !== 'central');
if (one.length > 0 && one.every(r => r.rss <= TARGET_RSS_MB)) targets.push(`  ${verdict(true)} every replay of one host within ${TARGET_RSS_MB} MB: peak RSS at most ${fmt(Math.max(...one.map(r => r.rss)))} MB`);
log('Targets (this machine, this run):');
for (const t of targets) log(t);
// A central log of 50 hosts (each host its own pipeline) against one host's log of the same size:
// at the scale the section above ran, else at the corpus's size.
const central = scale.find(r => r.form === 'central') ?? rows.find(r => r.form === 'central');
const single = scale.find(r => r.form === 'kernlog') ?? rows.find(r => r.form === 'kernlog');
if (central && single) {
	const ratio = central.replay / single.replay;
	const at = `${fmt(central.lines)} lines`;
	log(`  ${verdict(ratio >= 0.8)} a central log of 50 hosts within 20 % of one host's log (${at}): ${ratio.toFixed(3)}× (${fmt(central.replay)} vs ${fmt(single.replay)} lines/s)`);
	log(`  ${verdict(central.rss <= TARGET_RSS_MB)} the central log of ${at} within ${TARGET_RSS_MB} MB: peak RSS ${fmt(central.rss)} MB (one host: ${fmt(single.rss)} MB)`);
}
const flat = !stream.stopped && stream.peakMB <= TARGET_RSS_MB && stream.slopeMBPerMillion < 2;
log(`  ${verdict(flat)} RSS flat over ${fmt(STREAM)} live lines: ${stream.stopped ? `stopped at ${fmt(stream.lines)} lines, ` : ''}peak ${fmt(stream.peakMB)} MB (≤ ${TARGET_RSS_MB}), growth ${stream.slopeMBPerMillion.toFixed(1)} MB per million lines (< 2)`);
log(`  ${verdict(latency.maxMs <= TARGET_LATENCY_MS)} a packet leaves within ${TARGET_LATENCY_MS} ms of its last line: max ${latency.maxMs.toFixed(1)} ms (median ${latency.medianMs.toFixed(1)}, p95 ${latency.p95Ms.toFixed(1)})`);
log(`  ${verdict(startHelp <= TARGET_START_MS)} start ≤ ${TARGET_START_MS} ms: tracewatch --help ${fmt(startHelp)} ms (node -e 0: ${fmt(startNode)} ms); rules on a small dump ${fmt(startRules)} ms`);
for (const t of rulesTargets) log(t);
log(`load average at end: ${loadavg().map(l => l.toFixed(2)).join(' ')}`);

if (values.keep) log(`corpus kept in ${dir}`);
else rmSync(dir, {recursive: true, force: true});
