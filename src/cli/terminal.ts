/**
 * The CLI's contact with the terminal: exit codes, usage errors, standard output and error.
 * Loads nothing else, so that `tracewatch --help` starts at once.
 */
import {terminalSafe} from '../ui/visible.js';

/** A problem with how tracewatch was called: exit 2. */
export class UsageError extends Error {}

/** Every long option of every command, to suggest one for a typo. */
const LONG_OPTIONS = [
	'all', 'backend', 'both', 'burst', 'color', 'dport', 'dry-run', 'dst', 'exit-at-end', 'fail-on', 'follow', 'for', 'format', 'help', 'hops', 'iface', 'ipv6', 'keep', 'kind',
	'limit', 'min-severity', 'no-color', 'proto', 'rules', 'run', 'same', 'sport', 'src', 'strict', 'trace-broken', 'trace-working', 'window',
	'from-host', 'icmp-type', 'in', 'local', 'mark', 'out', 'state', 'tcp-flags', 'trace',
];

/** A parseArgs error as a usage error a person can act on: `--rule` → did you mean --rules? */
export function argumentError(error: unknown, options: readonly string[] = LONG_OPTIONS): UsageError {
	const message = (error as Error).message;
	const unknown = /Unknown option '(--?[^']+)'/.exec(message)?.[1];
	if (!unknown) return new UsageError(message);
	const name = unknown.replace(/^-+/, '').split('=')[0]!;
	const close = options.filter(o => o !== name && (o.startsWith(name) || name.startsWith(o) || editDistance(o, name) <= 2)).sort((a, b) => editDistance(a, name) - editDistance(b, name));
	return new UsageError(`unknown option ${unknown}${close.length > 0 ? `: did you mean --${close[0]}?` : ''}`);
}

function editDistance(a: string, b: string): number {
	let prev = Array.from({length: b.length + 1}, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
		prev = row;
	}
	return prev[b.length]!;
}

/** An input that could not be read: exit 1. */
export class InputError extends Error {}

export const EXIT = {ok: 0, inputErrors: 1, usage: 2} as const;

/**
 * The status after stopping on a signal from outside (Ctrl-C in a shell, kill): 128 + its number,
 * as a shell reports a process the signal killed, so scripts can tell an interrupted run
 * (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT). tracewatch first finishes what it owes:
 * the output of what was complete, the removal of its TRACE rules.
 */
export function signalExit(signal: NodeJS.Signals): number {
	return ({SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143} as Record<string, number>)[signal] ?? 1;
}

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

/**
 * Standard output. Everything written passes terminalSafe(): text from a trace or a dump never
 * reaches the terminal as control characters, whatever a view forgot (JSON is written with
 * jsonText(), which leaves nothing for this to change).
 */
export const stdout: Output = {
	write(text: string) {
		if (!stdoutClosed) process.stdout.write(terminalSafe(text, true));
	},
	get isTTY() {
		return Boolean(process.stdout.isTTY);
	},
	get color() {
		return useColor(process.stdout);
	},
};

/** A message on standard error, input text in it made visible. */
export function warn(text: string): void {
	process.stderr.write(`${terminalSafe(text, false)}\n`);
}

