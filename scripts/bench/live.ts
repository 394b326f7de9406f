/**
 * The live path, measured from outside: `node bin/tracewatch.js --format ndjson` as a child
 * process, trace lines written into its stdin through a real pipe, ndjson read from its stdout.
 *
 * Latency: one packet at a time, its lines written at once with the dmesg stamp set to the
 *   bench's clock at that moment; when the packet's ndjson object arrives, arrival time minus the
 *   stamp of its last hop is how long it took to leave.
 * Memory:  millions of corpus lines (dmesg form, stamps and ids moving on) streamed as fast as
 *   tracewatch reads them; its RSS sampled from /proc/PID/status.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {corpusLines, kernelLineIn} from './corpus.js';

export interface LatencyResult {
	packets: number;
	/** The first packet after tracewatch started (code not yet compiled by the JIT, caches empty). */
	firstMs: number;
	medianMs: number;
	p95Ms: number;
	maxMs: number;
}

export interface StreamResult {
	/** Lines written (fewer than asked when the RSS ceiling stopped the stream). */
	lines: number;
	/** The stream was stopped because tracewatch's RSS passed the ceiling. */
	stopped: boolean;
	seconds: number;
	packetsOut: number;
	/** [lines written, RSS MB] samples. */
	samples: Array<[number, number]>;
	peakMB: number;
	/** RSS when the last line had been read. */
	endMB: number;
	/**
	 * RSS growth over the second half of the stream (the tenth around its middle to its last
	 * tenth), MB per million lines. The first half is left out: the bounded stores (20,000
	 * connections remembered, the caches) fill during the first few hundred thousand lines.
	 */
	slopeMBPerMillion: number;
}

/** Resident memory of a process and its children (any it starts), MB. */
function rssMB(pid: number): number {
	let total = 0;
	const stack = [pid];
	while (stack.length > 0) {
		const p = stack.pop()!;
		try {
			const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
			if (m) total += Number(m[1]) / 1024;
			for (const task of readdirSync(`/proc/${p}/task`)) {
				const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
				if (kids) stack.push(...kids.split(/\s+/).map(Number));
			}
		} catch {
			// gone
		}
	}
	return total > 0 ? total : Number.NaN;
}

function start(root: string, args: string[]): ChildProcessWithoutNullStreams {
	return spawn(process.execPath, [...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean), join(root, 'bin/tracewatch.js'), '--format', 'ndjson', ...args], {cwd: root, stdio: ['pipe', 'pipe', 'pipe']});
}

/** Calls `onLine` for each line the child writes to stdout. */
function readLines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void): void {
	let carry = '';
	child.stdout.setEncoding('utf8');
	child.stdout.on('data', (chunk: string) => {
		const parts = (carry + chunk).split('\n');
		carry = parts.pop()!;
		for (const p of parts) onLine(p);
	});
	child.stderr.resume();
}

/**
 * Writes into the child's stdin, waiting when the pipe is full; between writes the event loop
 * turns, so the child's output keeps being read (a reader that falls behind makes the child
 * queue its output, which is not what is measured here).
 */
function write(child: ChildProcessWithoutNullStreams, text: string): Promise<void> {
	if (child.stdin.write(text)) return new Promise(resolve => setImmediate(resolve));
	return new Promise(resolve => child.stdin.once('drain', () => resolve()));
}

function sleep(ms: number): Promise<void> {
	return new Promise(resolve => setTimeout(resolve, ms));
}

function quantile(sorted: number[], q: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * One ICMP echo request through a Calico node's chains (the first packet of
 * testdata/dmesg/wifi-masquerade is TCP; this uses the raw capture's lines of one packet).
 */
function probePacket(root: string): string[] {
	const lines = readFileSync(join(root, 'testdata/dmesg/wifi-masquerade/dmesg.log'), 'utf8').split('\n');
	const first = /ID=(\d+)/.exec(lines[0]!)![1];
	return lines.filter(l => l.includes(`ID=${first} `)).map(l => l.replace(/^\[[^\]]*\] /, ''));
}

export async function measureLatency(root: string, packets: number, gapMs: number): Promise<LatencyResult> {
	const child = start(root, []);
	const origin = performance.now();
	/** The bench clock as a kernel uptime, so the stamp says when the line was written. */
	const mono = () => 5000 + (performance.now() - origin) / 1000;
	const latencies: number[] = [];
	let waiting: ((line: string) => void) | undefined;
	readLines(child, line => waiting?.(line));
	const template = probePacket(root);
	await sleep(1500); // tracewatch starting up
	for (let i = 0; i < packets; i++) {
		// Another packet each time: its own IP ID and source port.
		const msgs = template.map(m => m.replace(/ ID=\d+ /, ` ID=${10_000 + i} `).replace(/SPT=\d+/, `SPT=${40_000 + i}`));
		const ipId = 10_000 + i;
		const arrived = new Promise<string>(resolve => {
			waiting = line => {
				if ((JSON.parse(line) as {ipId?: number}).ipId === ipId) resolve(line);
			};
		});
		const text = `${msgs.map(m => kernelLineIn('dmesg', mono(), m)).join('\n')}\n`;
		await write(child, text);
		const line = await arrived;
		const now = mono();
		const json = JSON.parse(line) as {hops: Array<{time?: string}>};
		const stamp = Number(/\[\s*([\d.]+)\]/.exec(json.hops.at(-1)?.time ?? '')?.[1]);
		latencies.push((now - stamp) * 1000);
		await sleep(gapMs);
	}
	child.stdin.end();
	await new Promise(resolve => child.on('close', resolve));
	const firstMs = latencies[0]!;
	latencies.sort((a, b) => a - b);
	return {packets: latencies.length, firstMs, medianMs: quantile(latencies, 0.5), p95Ms: quantile(latencies, 0.95), maxMs: latencies.at(-1)!};
}

/** Streams `total` lines, or until tracewatch's RSS passes `ceilingMB` (so a leak cannot take the machine down). */
export async function measureStream(root: string, total: number, ceilingMB: number, onProgress?: (written: number, mb: number) => void): Promise<StreamResult> {
	const child = start(root, []);
	let packetsOut = 0;
	readLines(child, () => packetsOut++);
	const samples: Array<[number, number]> = [];
	let written = 0;
	let peak = 0;
	let stopped = false;
	const sampler = setInterval(() => {
		const mb = rssMB(child.pid!);
		if (Number.isFinite(mb)) {
			samples.push([written, mb]);
			peak = Math.max(peak, mb);
			if (mb > ceilingMB) stopped = true;
			onProgress?.(written, mb);
		}
	}, 500);
	const started = performance.now();
	const lines = corpusLines(root, 'dmesg', 11);
	const CHUNK = 256;
	while (written < total && !stopped) {
		const batch: string[] = [];
		for (let i = 0; i < CHUNK && written < total; i++, written++) batch.push(lines.next().value!);
		await write(child, `${batch.join('\n')}\n`);
	}
	// Everything written: wait until tracewatch has read it (its stdin drained and it went quiet).
	await new Promise<void>(resolve => {
		if (child.stdin.writableLength === 0) resolve();
		else child.stdin.once('drain', () => resolve());
	});
	let last = -1;
	while (packetsOut !== last) {
		last = packetsOut;
		await sleep(1000);
	}
	const endMB = rssMB(child.pid!);
	peak = Math.max(peak, endMB);
	const seconds = (performance.now() - started) / 1000;
	clearInterval(sampler);
	child.stdin.end();
	await new Promise(resolve => child.on('close', resolve));
	const middle = samples.filter(([w]) => w >= written * 0.45 && w <= written * 0.55);
	const lastTenth = samples.filter(([w]) => w >= written * 0.9);
	const avg = (xs: Array<[number, number]>) => xs.reduce((n, [, mb]) => n + mb, 0) / Math.max(1, xs.length);
	const slope = middle.length > 0 && lastTenth.length > 0 ? (avg(lastTenth) - avg(middle)) / ((written * 0.45) / 1e6) : Number.NaN;
	return {lines: written, stopped, seconds, packetsOut, samples, peakMB: peak, endMB, slopeMBPerMillion: slope};
}
