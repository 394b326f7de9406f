/**
 * Tests that cannot run on this machine (no root, no tmux, no iptables, …) say why: the reason
 * is printed once when the file loads, and attached to every test it skips (`meta.skipReason` in
 * vitest's JSON report), where .ci/run reads it to list each skip with its reason.
 *
 * Input:  skipWhen('not root (network namespaces need root)', 'real-kernel tests of doctor/arm/live')
 * Output: {skip: true, meta: {skipReason: 'real-kernel tests of doctor/arm/live: not root (…)'}},
 *         or {} when the reason is undefined; use as the options of describe() or it()
 */
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import type {TestOptions} from 'vitest';

declare module 'vitest' {
	interface TaskMeta {
		/** Why the test was skipped on this machine. */
		skipReason?: string;
	}
}

const printed = new Set<string>();

/** Options that skip a suite or test when `reason` is given, printing `skip: WHAT: REASON` once. */
export function skipWhen(reason: string | undefined, what: string): TestOptions {
	if (!reason) return {};
	const line = `${what}: ${reason}`;
	if (!printed.has(line)) {
		printed.add(line);
		console.log(`skip: ${line}`);
	}
	return {skip: true, meta: {skipReason: line}};
}

/**
 * Why a test that runs the CLI as uid 65534 cannot run here: that user must be able to read this
 * checkout (not so under a private `mktemp -d`), and `setpriv` must be there to check it.
 */
export function unreadableForNobody(): string | undefined {
	const bin = fileURLToPath(new URL('../../bin/tracewatch.js', import.meta.url));
	const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', bin], {timeout: 10_000});
	return r.status === 0 ? undefined : `uid 65534 cannot read ${bin} (a parent directory is private to its owner); clone into a directory others can read to run it`;
}
