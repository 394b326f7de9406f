/**
 * The commands' contract that needs no root and no kernel: help, usage errors (exit 2, before the
 * host is inspected), and the exit guard that removes rules on every way out of the process.
 */
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = {...process.env, NO_COLOR: '1', FORCE_COLOR: ''};

/** Runs tracewatch without blocking, so several run at once. */
function run(args: string[], tracewatch = true): Promise<{code: number | null; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		// stdin stays open (a pipe nobody writes): a script that waits for a signal waits on it.
		const child = spawn(process.execPath, tracewatch ? ['bin/tracewatch.js', ...args] : args, {cwd: root, env, timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
		child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
		child.on('close', code => resolve({code, stdout, stderr}));
	});
}

/** The exit guard as the CLI runs it: the build (as bin/tracewatch.js does), else the source through tsx. */
const GUARD = existsSync(`${root}dist/cli/tracing.js`) ? {from: './dist/cli/tracing.js', node: []} : {from: './src/cli/tracing.ts', node: ['--import', 'tsx']};

/**
 * Runs a script that installs the exit guard, then leaves the process in the way `how` says
 * (on the next turn of the event loop, once the guard is in place).
 */
function guarded(how: string): Promise<{code: number | null; stdout: string; stderr: string}> {
	const script = `
		import {guardExit} from '${GUARD.from}';
		let n = 0;
		guardExit(() => { if (n++ === 0) process.stdout.write('rules removed\\n'); });
		${how}
	`;
	return run([...GUARD.node, '--input-type=module', '-e', script], false);
}

describe.concurrent('arm, disarm, live, doctor: usage', () => {
	it('help for each command, with the exit statuses', async () => {
		const [arm, disarm, live, doctor] = await Promise.all(['arm', 'disarm', 'live', 'doctor'].map(cmd => run([cmd, '--help'])));
		for (const r of [arm!, disarm!, live!, doctor!]) {
			expect(r.code).toBe(0);
			expect(r.stdout).toMatch(/^Usage: /);
			expect(r.stdout).toContain('Exit status');
		}
		expect(arm!.stdout).toContain('--dry-run');
		expect(live!.stdout).toContain('xtables-monitor --trace');
	});

	it('refuses bad filters and options with exit 2 before looking at the host', async () => {
		const cases: Array<[string[], RegExp]> = [
			[['arm'], /no filter given: every IPv4 packet would be traced[\s\S]*--all/],
			[['live', '--ipv6'], /no filter given: every IPv6 packet/],
			[['arm', '--src', '198.18.0.1', '--backend', 'iptables'], /--backend must be auto, legacy or nft/],
			[['arm', '--src', '198.18.0.1', '--frobnicate'], /unknown option --frobnicate/],
			[['live', '--src', '198.18.0.1', '--format', 'xml'], /--format must be tui, text, json or ndjson/],
			[['disarm', '--run', 'x y'], /--run must be a run id/],
			[['doctor', '--format', 'yaml'], /--format must be text or json/],
		];
		const results = await Promise.all(cases.map(([args]) => run(args)));
		for (const [i, [args, message]] of cases.entries()) {
			const r = results[i]!;
			expect(r.code, args.join(' ')).toBe(2);
			expect(r.stderr, args.join(' ')).toMatch(message);
		}
	});
});

describe.concurrent('the exit guard', () => {
	it('removes the rules on an uncaught exception, then exits 70', async () => {
		const r = await guarded(`setImmediate(() => { throw new Error('boom'); });`);
		expect(r.stdout).toBe('rules removed\n');
		expect(r.stderr).toMatch(/internal error: Error: boom/);
		expect(r.code).toBe(70);
	});

	it('removes them on an unhandled rejection', async () => {
		const r = await guarded(`setImmediate(() => { Promise.reject(new Error('nope')); });`);
		expect(r.stdout).toBe('rules removed\n');
		expect(r.code).toBe(70);
	});

	it('removes them at process.exit, e.g. when stdout is closed', async () => {
		const r = await guarded(`setImmediate(() => process.exit(0));`);
		expect(r.stdout).toBe('rules removed\n');
		expect(r.code).toBe(0);
	});

	it('a first signal asks for an orderly stop; a second one removes them at once and exits', async () => {
		const r = await guarded(`
			const g = guardExit(() => {});
			g.stopped.then(sig => { process.stdout.write('stop requested: ' + sig + '\\n'); process.kill(process.pid, 'SIGTERM'); });
			process.stdin.resume(); // alive until the signals end it
			setImmediate(() => process.kill(process.pid, 'SIGINT'));
		`);
		expect(r.stdout).toBe('stop requested: SIGINT\nrules removed\n');
		expect(r.code).toBe(143);
	});
});
