/**
 * Network namespaces for real-kernel tests: only namespaces this process creates
 * (`tw-ops-<pid>-<tag>`), veth ends created directly inside them, addresses from 198.18.0.0/15
 * and 2001:db8::/32. The root namespace's firewall, routes and interfaces are never touched.
 * cleanup() stops every process started here (by pid) and deletes every namespace made here.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {findTool} from '../../src/ops/exec.js';
import {OutputWatch} from '../support/wait.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV = {...process.env, NO_COLOR: '1', FORCE_COLOR: '', CI: '1'};

export interface Result {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Why real-kernel tests cannot run here, or undefined when they can. */
export function labUnavailable(tools: readonly string[]): string | undefined {
	if (process.platform !== 'linux') return 'not Linux';
	if (process.getuid?.() !== 0) return 'not root (network namespaces and firewall changes need root)';
	for (const t of ['ip', ...tools]) if (!findTool(t)) return `${t} is not installed`;
	const probe = `tw-ops-${process.pid}-probe`;
	const r = spawnSync('ip', ['netns', 'add', probe], {encoding: 'utf8', timeout: 10_000});
	if (r.status !== 0) return `cannot create a network namespace: ${(r.stderr || r.error?.message || '').trim()}`;
	spawnSync('ip', ['netns', 'del', probe], {timeout: 10_000});
	return undefined;
}

export function missingTools(tools: readonly string[]): string | undefined {
	const missing = tools.filter(t => !findTool(t));
	return missing.length ? `${missing.join(', ')} not installed` : undefined;
}

const ALL_NETNS = '/proc/sys/net/netfilter/nf_log_all_netns';

export function readAllNetns(): string {
	return readFileSync(ALL_NETNS, 'utf8').trim();
}

export function writeAllNetns(value: string): void {
	writeFileSync(ALL_NETNS, `${value}\n`);
}

/** A process started in a namespace: its output as it comes, waits on it, its exit (see OutputWatch). */
export type Running = OutputWatch;

export class Lab {
	readonly id = `tw-ops-${process.pid}`;
	/** A /24 of 198.18.0.0/15 for this run, away from other runs' addresses. */
	readonly net = `198.${18 + ((process.pid >> 8) % 2)}.${process.pid % 256}`;
	private readonly namespaces: string[] = [];
	private readonly children = new Set<ChildProcess>();

	ns(tag: string): string {
		const name = `${this.id}-${tag}`;
		const r = spawnSync('ip', ['netns', 'add', name], {encoding: 'utf8', timeout: 10_000});
		if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
		this.namespaces.push(name);
		this.ip(['-n', name, 'link', 'set', 'lo', 'up']);
		return name;
	}

	ip(args: string[]): void {
		const r = spawnSync('ip', args, {encoding: 'utf8', timeout: 10_000});
		if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
	}

	/** Two namespaces joined by a veth pair (created inside them), with host numbers a and b of this run's /24. */
	pair(tag: string, a: number, b: number): {client: string; server: string; clientAddr: string; serverAddr: string} {
		const client = this.ns(`${tag}c`);
		const server = this.ns(`${tag}s`);
		this.ip(['link', 'add', 'twc', 'netns', client, 'type', 'veth', 'peer', 'name', 'tws', 'netns', server]);
		const clientAddr = `${this.net}.${a}`;
		const serverAddr = `${this.net}.${b}`;
		this.ip(['-n', client, 'addr', 'add', `${clientAddr}/24`, 'dev', 'twc']);
		this.ip(['-n', server, 'addr', 'add', `${serverAddr}/24`, 'dev', 'tws']);
		this.ip(['-n', client, 'link', 'set', 'twc', 'up']);
		this.ip(['-n', server, 'link', 'set', 'tws', 'up']);
		return {client, server, clientAddr, serverAddr};
	}

	/** Runs a command inside `ns` without blocking (tests run side by side), killed after `timeoutMs`. */
	run(ns: string, cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<Result> {
		return new Promise(resolve => {
			const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL'});
			this.children.add(child);
			let stdout = '';
			let stderr = '';
			child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
			child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
			child.on('error', error => (stderr += `\n${error.message}`));
			child.on('close', code => {
				this.children.delete(child);
				resolve({code, stdout, stderr});
			});
		});
	}

	tracewatch(ns: string, args: readonly string[], options: {asUser?: number} = {}): Promise<Result> {
		const node = process.execPath;
		if (options.asUser !== undefined) {
			return this.run(ns, 'setpriv', [`--reuid=${options.asUser}`, `--regid=${options.asUser}`, '--clear-groups', '--inh-caps=-all', node, 'bin/tracewatch.js', ...args]);
		}
		return this.run(ns, node, ['bin/tracewatch.js', ...args]);
	}

	/** Starts `tracewatch ARGS` inside `ns`; `ip netns exec` execs node, so the child's pid is tracewatch's. */
	start(ns: string, args: readonly string[]): Running {
		return this.spawn(ns, process.execPath, ['bin/tracewatch.js', ...args]);
	}

	/** Starts a command inside `ns` without waiting for it (stopped by cleanup() at the latest). */
	spawn(ns: string, cmd: string, args: readonly string[]): Running {
		const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe']});
		this.children.add(child);
		const running = new OutputWatch(child);
		void running.exited.then(() => this.children.delete(child));
		return running;
	}

	/** Processes running inside `ns`. */
	pids(ns: string): number[] {
		const out = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8', timeout: 10_000}).stdout ?? '';
		return out.split('\n').filter(Boolean).map(Number);
	}

	/** Every rule line tagged by tracewatch in this namespace, legacy and nft, IPv4 and IPv6. */
	async tagged(ns: string): Promise<string[]> {
		const saves = ['iptables-legacy-save', 'ip6tables-legacy-save', 'iptables-nft-save', 'ip6tables-nft-save'];
		const results = await Promise.all(saves.map(save => this.run(ns, save, [])));
		return results.flatMap(r => r.stdout.split('\n').filter(l => l.includes('tracewatch:')));
	}

	async cleanup(): Promise<void> {
		for (const child of this.children) {
			if (child.pid !== undefined && child.exitCode === null) {
				try {
					process.kill(child.pid, 'SIGKILL');
				} catch {
					// gone
				}
			}
		}
		for (const ns of this.namespaces) {
			for (const pid of this.pids(ns)) {
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// gone
				}
			}
		}
		for (const ns of this.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], {timeout: 10_000});
	}
}
