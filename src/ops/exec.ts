/**
 * Running host tools: always an argument array, never a shell; bounded in time; C locale.
 *
 * Input:  run('iptables-nft', ['-w', '5', '-t', 'raw', '-S', 'PREROUTING'])
 * Output: {code: 0, stdout: '-P PREROUTING ACCEPT\n…', stderr: ''}
 *
 * Everything that inspects or changes the host goes through a Runner, so unit tests replace it
 * with a fake that records the commands and answers from fixtures.
 */
import {spawnSync} from 'node:child_process';
import {accessSync, constants} from 'node:fs';
import {delimiter, join} from 'node:path';
import {shellQuote} from '../model/command.js';

export interface CommandResult {
	/** Exit status; null when the command could not start or was killed (see `error`). */
	readonly code: number | null;
	readonly stdout: string;
	readonly stderr: string;
	/** Why the command did not run to an exit status: `not found`, `timed out after 15 s`, … */
	readonly error?: string;
}

export interface Runner {
	run(file: string, args: readonly string[], options?: {readonly timeoutMs?: number}): CommandResult;
	/** Absolute path of a tool, or undefined when it is not installed. */
	which(name: string): string | undefined;
}

/** Where Debian keeps iptables, nft and ip: searched even when PATH lacks them (sudo without sbin). */
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findTool(name: string, path = process.env['PATH'] ?? ''): string | undefined {
	if (name.includes('/')) return name;
	const dirs = [...path.split(delimiter).filter(Boolean), ...SYSTEM_DIRS];
	for (const dir of dirs) {
		const candidate = join(dir, name);
		try {
			accessSync(candidate, constants.X_OK);
			return candidate;
		} catch {
			// not here
		}
	}
	return undefined;
}

/** Runs real commands with spawnSync (no shell). Default time limit 15 s. */
export const systemRunner: Runner = {
	run(file, args, options = {}) {
		const path = findTool(file);
		if (!path) return {code: null, stdout: '', stderr: '', error: `${file}: not found`};
		const timeout = options.timeoutMs ?? 15_000;
		const r = spawnSync(path, [...args], {
			encoding: 'utf8',
			timeout,
			killSignal: 'SIGKILL',
			maxBuffer: 64 * 1024 * 1024,
			shell: false,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {...process.env, LC_ALL: 'C'},
		});
		if (r.error) {
			const code = (r.error as NodeJS.ErrnoException).code;
			const error = code === 'ETIMEDOUT' ? `${file}: timed out after ${Math.round(timeout / 1000)} s` : `${file}: ${r.error.message}`;
			return {code: null, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error};
		}
		return {code: r.status, stdout: r.stdout, stderr: r.stderr, ...(r.signal ? {error: `${file}: killed by ${r.signal}`} : {})};
	},
	which: name => findTool(name),
};

/** Shell-quotes one word for display, so a printed command can be pasted as is. */
export {shellQuote};

/** `iptables-nft -w 5 -t raw -I PREROUTING 1 -s 198.18.0.1/32 …`, ready to paste. */
export function formatCommand(file: string, args: readonly string[]): string {
	return [file, ...args].map(shellQuote).join(' ');
}

/** The first line of a failed command's complaint, for messages. */
export function failureText(r: CommandResult): string {
	if (r.error) return r.error;
	const text = (r.stderr || r.stdout).trim().split('\n').find(l => l.trim() !== '' && !l.startsWith('#'));
	return text ? text.trim() : `exit status ${r.code}`;
}
