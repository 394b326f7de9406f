/**
 * Read-only access to the host: files under /proc, /sys, /boot, /lib/modules, /run/netns, and
 * commands through a Runner. Host inspection only reads through a Probe, so tests give it a fake.
 */
import {readdirSync, readFileSync, readlinkSync, realpathSync, statSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {systemRunner, type Runner} from './exec.js';

export interface Probe extends Runner {
	/** File text, or undefined when it does not exist or cannot be read (and why, in `error`). */
	read(path: string): {text?: string; error?: string};
	readlink(path: string): string | undefined;
	realpath(path: string): string | undefined;
	readdir(path: string): string[] | undefined;
	/** Device and inode, following links; undefined when unreadable. */
	ident(path: string): {dev: number; ino: number} | undefined;
	readonly uid: number;
	readonly pid: number;
	/** Effective capability mask from /proc/self/status. */
	readonly capEff?: bigint;
	readonly release: string;
}

function code(error: unknown): string {
	const c = (error as NodeJS.ErrnoException).code;
	return c === 'ENOENT' ? 'no such file' : c === 'EACCES' || c === 'EPERM' ? 'permission denied' : (error as Error).message;
}

function capEff(): bigint | undefined {
	try {
		const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
		return m ? BigInt(`0x${m[1]}`) : undefined;
	} catch {
		return undefined;
	}
}

function release(): string {
	try {
		return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
	} catch {
		return 'unknown';
	}
}

export function systemProbe(runner: Runner = systemRunner): Probe {
	return {
		run: (file, args, options) => runner.run(file, args, options),
		which: name => runner.which(name),
		read(path) {
			try {
				const buf = readFileSync(path);
				return {text: path.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8')};
			} catch (error) {
				return {error: code(error)};
			}
		},
		readlink(path) {
			try {
				return readlinkSync(path);
			} catch {
				return undefined;
			}
		},
		realpath(path) {
			try {
				return realpathSync(path);
			} catch {
				return undefined;
			}
		},
		readdir(path) {
			try {
				return readdirSync(path);
			} catch {
				return undefined;
			}
		},
		ident(path) {
			try {
				const st = statSync(path);
				return {dev: st.dev, ino: st.ino};
			} catch {
				return undefined;
			}
		},
		uid: process.getuid?.() ?? -1,
		pid: process.pid,
		...(capEff() !== undefined ? {capEff: capEff()!} : {}),
		release: release(),
	};
}

/** CAP_NET_ADMIN (12): change and list the firewall. */
export const CAP_NET_ADMIN = 12n;

export function hasCap(probe: Pick<Probe, 'capEff' | 'uid'>, cap: bigint): boolean {
	if (probe.capEff !== undefined) return ((probe.capEff >> cap) & 1n) === 1n;
	return probe.uid === 0;
}
