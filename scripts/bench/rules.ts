/**
 * The ruleset benchmark: `tracewatch rules DUMP --format json` on kube-proxy-shaped dumps of
 * 10^3 … 1.6·10^5 rules, beside `iptables-legacy-restore --test` on the same dump.
 *
 * Input:  node --import tsx scripts/bench/rules.ts [--quick]      (the built code: npm run build first)
 * Output: | services × endpoints | rules | tracewatch s | peak RSS MB | restore --test s | ratio |
 *         |  30 × 10 |   983 | 0.31 | 90 | 0.01 | 31.0 |
 *         …
 *         target: 1000×10 ≤ 2× iptables-legacy-restore --test: met|not met (ratio); 5000×10 ≤ 10 s and ≤ 300 MB: …
 *
 * Each run is a fresh process; its time and peak RSS are what GNU time (/usr/bin/time -f '%M %e')
 * reports for it (the time alone without GNU time). Without iptables-legacy-restore the
 * baseline column is empty and the target gives the time only. `--test` only parses the dump;
 * it changes no firewall. benchRules() gives the report's lines for scripts/bench.ts.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {countRules, kubeDump} from './kube-dump.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchRulesOptions {
	/** Fewer and smaller dumps. */
	readonly quick?: boolean;
	/** Runs per size; the fastest counts. */
	readonly runs?: number;
}

interface Row {
	readonly services: number;
	readonly endpoints: number;
	readonly rules: number;
	readonly seconds: number;
	readonly rssMb: number;
	readonly restore?: number;
}

/** Runs `node bin/tracewatch.js rules DUMP --format json > /dev/null` in a fresh process: its wall time and peak RSS (GNU time's %M). */
function runTracewatch(dump: string): {seconds: number; rssMb: number} {
	const args = [join(ROOT, 'bin/tracewatch.js'), 'rules', dump, '--format', 'json'];
	const time = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, ...args], {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'});
	// `rules` exits 0, or 1 when a dump has lines it could not read; anything else (a crash, out of memory) is no time at all.
	if (!time.error && time.status !== 0 && time.status !== 1) return {seconds: Number.NaN, rssMb: Number.NaN};
	const m = time.error ? null : /(\d+) ([\d.]+)\s*$/.exec(time.stderr);
	if (m) return {seconds: Number(m[2]), rssMb: Number(m[1]) / 1024};
	// No GNU time: the wall time alone.
	const t = process.hrtime.bigint();
	spawnSync(process.execPath, args, {stdio: ['ignore', 'ignore', 'inherit']});
	return {seconds: Number(process.hrtime.bigint() - t) / 1e9, rssMb: Number.NaN};
}

function restoreBinary(): string | undefined {
	for (const p of ['/usr/sbin/iptables-legacy-restore', '/sbin/iptables-legacy-restore', '/usr/bin/iptables-legacy-restore']) {
		const r = spawnSync(p, ['--version'], {stdio: 'ignore'});
		if (!r.error && r.status === 0) return p;
	}
	return undefined;
}

/** `iptables-legacy-restore --test < DUMP`: parses the dump, loads nothing. Undefined when it fails or is absent. */
function runRestore(bin: string, dumpText: string): number | undefined {
	const t = process.hrtime.bigint();
	const r = spawnSync(bin, ['--test'], {input: dumpText, stdio: ['pipe', 'ignore', 'ignore']});
	const seconds = Number(process.hrtime.bigint() - t) / 1e9;
	return r.status === 0 ? seconds : undefined;
}

const fmt = (n: number | undefined, digits = 2): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));

/** The benchmark's report, as lines of markdown. */
/** A target of the issue, met or not, in words. */
export interface RulesTarget {
	readonly met: boolean;
	readonly text: string;
}

export async function benchRules(opts: BenchRulesOptions = {}): Promise<{lines: string[]; targets: RulesTarget[]}> {
	const sizes: Array<[number, number]> = opts.quick ? [[30, 10], [300, 10], [1000, 10]] : [[30, 10], [100, 10], [300, 10], [1000, 10], [2000, 10], [5000, 10]];
	const runs = opts.runs ?? (opts.quick ? 1 : 2);
	const dir = mkdtempSync(join(tmpdir(), 'tracewatch-rules-'));
	const bin = restoreBinary();
	const rows: Row[] = [];
	try {
		for (const [services, endpoints] of sizes) {
			const text = kubeDump({services, endpoints, seed: 1});
			const path = join(dir, `kube-${services}x${endpoints}.save`);
			writeFileSync(path, text);
			let best: {seconds: number; rssMb: number} | undefined;
			let restore: number | undefined;
			for (let i = 0; i < runs; i++) {
				const r = runTracewatch(path);
				if (!best || r.seconds < best.seconds) best = r;
				const b = bin ? runRestore(bin, text) : undefined;
				if (b !== undefined && (restore === undefined || b < restore)) restore = b;
			}
			rows.push({services, endpoints, rules: countRules(text), seconds: best!.seconds, rssMb: best!.rssMb, ...(restore === undefined ? {} : {restore})});
			await Promise.resolve();
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
	const lines = [
		'| services × endpoints | rules | tracewatch rules --format json (s) | peak RSS (MB) | iptables-legacy-restore --test (s) | ratio |',
		'|---|---:|---:|---:|---:|---:|',
		...rows.map(r => `| ${r.services} × ${r.endpoints} | ${r.rules} | ${fmt(r.seconds)} | ${fmt(r.rssMb, 0)} | ${fmt(r.restore)} | ${r.restore ? fmt(r.seconds / r.restore, 1) : '–'} |`),
	];
	const k1 = rows.find(r => r.services === 1000 && r.endpoints === 10);
	const k5 = rows.find(r => r.services === 5000 && r.endpoints === 10);
	const targets: RulesTarget[] = [];
	if (k1) {
		if (k1.restore !== undefined) targets.push({met: k1.seconds <= 2 * k1.restore, text: `rules --format json on 1000×10 services ≤ 2× iptables-legacy-restore --test: ${fmt(k1.seconds)} s vs ${fmt(k1.restore)} s, ${fmt(k1.seconds / k1.restore, 1)}×`});
		else targets.push({met: false, text: `rules --format json on 1000×10 services: ${fmt(k1.seconds)} s (no iptables-legacy-restore here to compare with)`});
	}
	if (k5) targets.push({met: k5.seconds <= 10 && k5.rssMb <= 300, text: `rules --format json on 5000×10 services (${k5.rules} rules) ≤ 10 s and ≤ 300 MB: ${fmt(k5.seconds)} s, ${fmt(k5.rssMb, 0)} MB`});
	return {lines, targets};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const {lines, targets} = await benchRules({quick: process.argv.includes('--quick')});
	process.stdout.write(`${[...lines, '', ...targets.map(t => `${t.met ? 'MET    ' : 'NOT MET'} ${t.text}`)].join('\n')}\n`);
}
