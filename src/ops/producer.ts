/**
 * The trace producer for iptables-nft: `xtables-monitor --trace -4|-6`, started and stopped by
 * tracewatch itself, in its own process group so a Ctrl-C reaches tracewatch only and the
 * rules are removed before the producer is stopped.
 *
 * Input:  the family
 * Output: its stdout as a stream of trace lines (` TRACE: 2 e84300a7 raw:PREROUTING:rule:0x2:CONTINUE …`,
 *         `PACKET: 2 e84300a7 IN=vb …`), ending when it is stopped or exits.
 */
import {spawn} from 'node:child_process';
import type {Readable} from 'node:stream';
import {findTool} from './exec.js';
import type {IpFamily} from './filters.js';

export interface Producer {
	readonly command: readonly string[];
	readonly stream: Readable;
	readonly pid: number | undefined;
	/** Resolves when it has exited, with what it said on stderr. */
	readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>;
	/** Asks it to stop (SIGTERM, then SIGKILL after `graceMs`); resolves when it has exited. */
	stop(graceMs?: number): Promise<void>;
	/** Last resort from an exit handler: SIGKILL now. */
	killNow(): void;
}

export function xtablesMonitorArgs(family: IpFamily): string[] {
	return ['--trace', family === 'ipv6' ? '-6' : '-4'];
}

/** Starts xtables-monitor; resolves once it is running, rejects when it cannot start. */
export async function startXtablesMonitor(family: IpFamily): Promise<Producer> {
	const path = findTool('xtables-monitor');
	if (!path) throw new Error('xtables-monitor is not installed (Debian: apt install iptables; it needs iptables 1.8.7 or newer)');
	const args = xtablesMonitorArgs(family);
	const child = spawn(path, args, {stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: {...process.env, LC_ALL: 'C'}});
	let stderr = '';
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', (s: string) => {
		stderr = (stderr + s).slice(-4096);
	});
	const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>(resolve => {
		child.on('close', (code, signal) => resolve({code, signal, stderr}));
	});
	await new Promise<void>((resolve, reject) => {
		child.once('spawn', () => resolve());
		child.once('error', error => reject(new Error(`cannot start xtables-monitor: ${error.message}`)));
	});
	let done = false;
	void exited.then(() => {
		done = true;
	});
	const signal = (sig: NodeJS.Signals) => {
		if (done || child.pid === undefined) return;
		try {
			process.kill(child.pid, sig);
		} catch {
			// already gone
		}
	};
	return {
		command: ['xtables-monitor', ...args],
		stream: child.stdout,
		pid: child.pid,
		exited,
		async stop(graceMs = 2000) {
			signal('SIGTERM');
			const timer = setTimeout(() => signal('SIGKILL'), graceMs);
			await exited;
			clearTimeout(timer);
		},
		killNow() {
			signal('SIGKILL');
		},
	};
}
