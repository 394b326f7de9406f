/**
 * The CLI's contact with the outside: opening inputs, loading --rules, writing output.
 * Only src/cli touches process, fs and the terminal.
 */
import {closeSync, createReadStream, openSync, readFileSync, readSync, statSync} from 'node:fs';
import type {Readable} from 'node:stream';
import {createGunzip} from 'node:zlib';
import {parseRuleset, type Ruleset} from '../parser/ruleset.js';

/** A problem with how tracewatch was called: exit 2. */
export class UsageError extends Error {}

/** An input that could not be read: exit 1. */
export class InputError extends Error {}

export const EXIT = {ok: 0, inputErrors: 1, usage: 2} as const;

export interface Output {
	write(text: string): void;
	readonly isTTY: boolean;
	readonly color: boolean;
}

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org), always with FORCE_COLOR. */
export function useColor(stream: {isTTY?: boolean}): boolean {
	if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false;
	const force = process.env['FORCE_COLOR'];
	if (force && force !== '0' && force !== 'false') return true;
	return Boolean(stream.isTTY) && process.env['TERM'] !== 'dumb';
}

let stdoutClosed = false;

/** `tracewatch … | head`: when the reader goes away, stop quietly with exit 0. */
export function guardStdout(): void {
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') {
			stdoutClosed = true;
			process.exit(EXIT.ok);
		}
		throw error;
	});
}

export const stdout: Output = {
	write(text: string) {
		if (!stdoutClosed) process.stdout.write(text);
	},
	get isTTY() {
		return Boolean(process.stdout.isTTY);
	},
	get color() {
		return useColor(process.stdout);
	},
};

export function warn(text: string): void {
	process.stderr.write(`${text}\n`);
}

/** Does the file start with the gzip magic bytes? */
function isGzip(path: string): boolean {
	const fd = openSync(path, 'r');
	try {
		const head = Buffer.alloc(2);
		return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
	} finally {
		closeSync(fd);
	}
}

/** Opens a trace input: a file (gzip when it starts with the gzip magic), or stdin for `-`. */
export function openInput(path: string): {stream: Readable; size?: number} {
	if (path === '-') return {stream: process.stdin};
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
	if (size > 0 && isGzip(path)) {
		const gunzip = createGunzip();
		// A corrupt or cut .gz: report it as an input error instead of crashing.
		file.on('error', error => gunzip.destroy(error));
		return {stream: file.pipe(gunzip), size};
	}
	return {stream: file, size};
}

/**
 * `file:line:column: reason` then the excerpt with a caret under the column, and what was done:
 * an error message a person can act on.
 */
export function describeUnparsed(u: {path: string; line: number; column: number; reason: string; excerpt: string}): string {
	// excerptAt() starts 20 characters before the column, with "…" when it cut the start.
	const cut = u.excerpt.startsWith('…');
	const caret = Math.max(0, Math.min(u.column - 1, 20)) + (cut ? 1 : 0);
	return `${u.path}:${u.line}:${u.column}: ${u.reason}; line skipped\n    ${u.excerpt}\n    ${' '.repeat(caret)}^`;
}

/** Loads a --rules dump. Unreadable files are usage errors; bad lines are reported by the caller. */
export function loadRules(path: string): Ruleset {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new UsageError(`cannot read --rules ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
	}
	return parseRuleset(text, path);
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
