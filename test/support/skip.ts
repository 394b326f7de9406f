/**
 * Tests that cannot run on this machine (no root, no tmux, no iptables, …) say why: the reason
 * is printed once when the file loads, and attached to every test it skips (`meta.skipReason` in
 * vitest's JSON report), where .ci/run reads it to list each skip with its reason.
 *
 * Input:  skipWhen('not root (network namespaces need root)', 'real-kernel tests of doctor/arm/live')
 * Output: {skip: true, meta: {skipReason: 'real-kernel tests of doctor/arm/live: not root (…)'}},
 *         or {} when the reason is undefined; use as the options of describe() or it()
 */
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
