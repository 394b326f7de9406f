/**
 * The CLI's contact with the outside: opening inputs, loading --rules, writing output.
 * Only src/cli touches process, fs and the terminal.
 */
import {createReadStream, readFileSync, statSync} from 'node:fs';
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

/** Opens a trace input: a file (gzip when it ends in .gz or starts with the gzip magic), or stdin for `-`. */
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
	if (path.endsWith('.gz')) return {stream: file.pipe(createGunzip()), size};
	return {stream: file, size};
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
		warn(`${rs.path}:${p.line}${p.column ? `:${p.column}` : ''}: ${p.message}${p.excerpt ? `\n    ${p.excerpt}` : ''}`);
	}
	if (rs.problems.length > 20) warn(`${rs.path}: … ${rs.problems.length - 20} more problem(s)`);
	return rs.problems.length;
}
