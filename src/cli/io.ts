/**
 * The CLI's contact with input files: opening traces (gzip or not, stdin), loading --rules.
 * Only src/cli touches process, fs and the terminal.
 */
import {isRecordLine} from '../model/records.js';
import {closeSync, createReadStream, openSync, readFileSync, readSync, statSync} from 'node:fs';
import {PassThrough, type Readable} from 'node:stream';
import {createGunzip, gunzipSync} from 'node:zlib';
import {parseRuleset, type Ruleset} from '../parser/ruleset.js';
import {looksLikeTrace, matchTraceLine} from '../parser/trace-line.js';
import {visible} from '../ui/visible.js';
import {progressLine} from './progress.js';
import {UsageError, warn} from './terminal.js';

/** Do these bytes start with the gzip magic? */
function gzipped(head: Uint8Array): boolean {
	return head[0] === 0x1f && head[1] === 0x8b;
}

/** The first `n` bytes of a file (fewer when it is shorter). */
function readHead(path: string, n: number): Buffer {
	const fd = openSync(path, 'r');
	try {
		const head = Buffer.alloc(n);
		return head.subarray(0, readSync(fd, head, 0, n, 0));
	} finally {
		closeSync(fd);
	}
}

/** Is the file tracewatch's own NDJSON (an agent's records), to be read back rather than parsed as a trace? */
export function looksLikeRecords(path: string): boolean {
	if (path === '-') return false;
	try {
		const first = readHead(path, 4096).toString('utf8').split('\n').find(l => l.trim() !== '');
		return first !== undefined && isRecordLine(first);
	} catch {
		return false;
	}
}

/** A whole file, decompressed when it is gzip. */
function readMaybeGzip(path: string): Buffer {
	const bytes = readFileSync(path);
	return gzipped(bytes) ? gunzipSync(bytes) : bytes;
}

/** Opens a trace input: a file (gzip when it starts with the gzip magic), or stdin for `-`. */
export function openInput(path: string): {stream: Readable; size?: number} {
	if (path === '-') return {stream: gunzipIfGzip(process.stdin)};
	let size: number;
	try {
		const st = statSync(path);
		if (st.isDirectory()) throw new UsageError(`${path} is a directory; give the trace file(s) in it`);
		size = st.size;
	} catch (error) {
		if (error instanceof UsageError) throw error;
		throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
	}
	const file = createReadStream(path);
	if (size > 0 && gzipped(readHead(path, 2))) {
		const gunzip = createGunzip();
		// A corrupt or cut .gz: report it as an input error instead of crashing.
		file.on('error', error => gunzip.destroy(error));
		return {stream: file.pipe(gunzip), size};
	}
	return {stream: file, size};
}

/** A stream that starts with the gzip magic bytes (`zcat`-less `cat trace.log.gz | tracewatch`) is decompressed. */
function gunzipIfGzip(source: Readable): Readable {
	const out = new PassThrough();
	let started = false;
	source.once('data', (first: Buffer) => {
		started = true;
		source.pause();
		let into: NodeJS.WritableStream = out;
		if (gzipped(first)) {
			const gunzip = createGunzip();
			gunzip.on('error', error => out.destroy(error));
			gunzip.pipe(out);
			into = gunzip;
		}
		into.write(first);
		source.pipe(into);
	});
	source.once('end', () => {
		if (!started) out.end();
	});
	source.on('error', error => out.destroy(error));
	// Whoever reads `out` stops (Ctrl-C, SIGTERM): let go of the source, so an open stdin does not keep the process alive.
	out.on('close', () => {
		source.unpipe();
		source.pause();
	});
	return out;
}

/**
 * `file:line:column: reason` then the excerpt with a caret under the column, and what was done:
 * an error message a person can act on.
 */
export function describeUnparsed(u: {path: string; line: number; column: number; reason: string; excerpt: string}): string {
	// excerptAt() starts 20 characters before the column, with "…" when it cut the start. The
	// excerpt is shown through visible(): the caret moves by what the escapes before it add.
	const cut = u.excerpt.startsWith('…');
	const at = Math.max(0, Math.min(u.column - 1, 20)) + (cut ? 1 : 0);
	const caret = visible(u.excerpt.slice(0, at)).length;
	return `${visible(u.path)}:${u.line}:${u.column}: ${visible(u.reason)}; line skipped\n    ${visible(u.excerpt)}\n    ${' '.repeat(caret)}^`;
}

/** Loads a --rules dump. Unreadable files are usage errors; bad lines are reported by the caller. */
export function loadRules(path: string, options: {readonly progress?: boolean} = {}): Ruleset {
	let text: string;
	try {
		text = readMaybeGzip(path).toString('utf8');
	} catch (error) {
		throw new UsageError(`cannot read --rules ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
	}
	// A large dump (a kube-proxy node's) takes seconds: say how far it got, on a terminal.
	const progress = progressLine(path, 0, {unit: 'lines', ...(options.progress === false ? {show: false} : {})});
	let rs: Ruleset;
	try {
		rs = parseRuleset(text, path, (line, lines) => progress.update(line, line, lines));
	} finally {
		progress.done();
	}
	// Trace and ruleset swapped on the command line: say so instead of 60 "not a ruleset line" errors.
	const bad = rs.problems.filter(p => p.column !== undefined).slice(0, 5);
	if (bad.length > 0) {
		const lines = text.split('\n');
		if (bad.every(p => looksLikeTrace(lines[p.line - 1] ?? '') && matchTraceLine(lines[p.line - 1]!, {input: 0, line: p.line}).kind === 'event')) {
			throw new UsageError(`${path} is trace output, not a ruleset: give it as the trace and the iptables-save dump with --rules (tracewatch replay ${path} --rules node.save)`);
		}
	}
	return rs;
}

/**
 * A trace FILE that is an iptables-save / iptables -S dump (the arguments swapped, or --rules
 * forgotten): every line reads as a ruleset line and none as trace output. Files over 4 MB are
 * not checked (an empty-trace finding still says nothing was traced).
 */
export function looksLikeRuleset(path: string): boolean {
	if (path === '-') return false;
	let text: string;
	try {
		if (statSync(path).size > 4_000_000) return false;
		// A trace shows itself in its first lines: read no further then.
		const head = readHead(path, 65_536);
		if (!gzipped(head) && head.toString('utf8').split('\n').some(l => looksLikeTrace(l))) return false;
		text = readMaybeGzip(path).toString('utf8');
	} catch {
		return false;
	}
	if (text.split('\n').some(l => looksLikeTrace(l))) return false;
	const rs = parseRuleset(text, path);
	const rules = [...rs.tables.values()].reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0);
	return rules > 0 && rs.problems.filter(p => p.column !== undefined).length === 0;
}

/** Prints a dump's problems as `file:line:column: message` and returns how many there were. */
export function reportRulesetProblems(rs: Ruleset): number {
	for (const p of rs.problems.slice(0, 20)) {
		if (p.column && p.excerpt) warn(describeUnparsed({path: rs.path, line: p.line, column: p.column, reason: p.message, excerpt: p.excerpt}));
		else warn(`${rs.path}:${p.line}: ${p.message}`);
	}
	if (rs.problems.length > 20) warn(`${rs.path}: … ${rs.problems.length - 20} more problem(s)`);
	return rs.problems.length;
}
