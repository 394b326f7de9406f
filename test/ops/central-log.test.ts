/**
 * A fleet's logs as one: two nodes' real kernel trace lines (testdata/nodes) forwarded by real
 * rsyslogds over TCP to a central rsyslogd (scripts/central-log.sh, in tw- network namespaces),
 * and tracewatch on the central file: per node, the same packets and hops as on the node's own
 * file, and the same journeys and findings as the two nodes' own files given together.
 * Needs root, rsyslog and iproute2; skips with the reason otherwise.
 */
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ROOT} from '../support/replay.js';
import {skipWhen} from '../support/skip.js';
import {labUnavailable, missingTools} from './netns-lab.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin/tracewatch.js');
const unavailable = labUnavailable([]) ?? missingTools(['rsyslogd', 'ss']);

interface Doc {
	packets: Array<{node?: string; id: number; src: string; dst: string; ipId: number | null; verdict: string; hops: Array<{table: string; chain: string; kind: string; num: number | null}>}>;
	journeys?: unknown[];
	findings: Array<{kind: string; node?: string; packets: number[]; message: string}>;
}

async function replay(...args: string[]): Promise<Doc> {
	const {stdout} = await exec(process.execPath, [BIN, 'replay', ...args, '--format', 'json'], {cwd: ROOT, maxBuffer: 32 << 20});
	return JSON.parse(stdout) as Doc;
}

const hops = (p: Doc['packets'][number]) => `${p.src}>${p.dst} ${p.ipId} ${p.verdict}: ${p.hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num}`).join(' ')}`;

// One capture (both directions cross; the broken pair's findings are checked on the nodes' own files in test/model/fleet.test.ts).
describe.each(['working'])('a central rsyslog log of two nodes (%s)', variant => {
	const dir = mkdtempSync(join(tmpdir(), 'tw-central-'));
	const own = (node: string, file: string) => `testdata/nodes/${variant}/${node}/${file}`;
	beforeAll(async () => {
		if (unavailable) return;
		await exec('bash', [join(ROOT, 'scripts/central-log.sh'), dir, `node-a=${own('node-a', 'kmsg.log')}`, `node-b=${own('node-b', 'kmsg.log')}`], {cwd: ROOT, timeout: 90_000});
	}, 100_000);
	afterAll(() => rmSync(dir, {recursive: true, force: true}));

	it('per node, the same packets and hops as the node\'s own file', skipWhen(unavailable, 'rsyslog central-log test'), async () => {
		const central = await replay(join(dir, 'kern.log'));
		for (const node of ['node-a', 'node-b']) {
			const alone = await replay(own(node, 'kmsg.log'));
			const mine = central.packets.filter(p => p.node === node);
			expect(mine.length).toBeGreaterThan(0);
			expect(mine.map(hops)).toEqual(alone.packets.map(hops));
		}
		expect(central.packets.every(p => p.node === 'node-a' || p.node === 'node-b')).toBe(true);
	});

	it('with each node\'s ruleset: the journeys and findings of the two own files given together', skipWhen(unavailable, 'rsyslog central-log test'), async () => {
		const rules = ['--node', `node-a=${own('node-a', 'iptables.save')}`, '--node', `node-b=${own('node-b', 'iptables.save')}`];
		const central = await replay(join(dir, 'kern.log'), ...rules);
		const together = await replay('--node', `node-a=${own('node-a', 'kmsg.log')},${own('node-a', 'iptables.save')}`, '--node', `node-b=${own('node-b', 'kmsg.log')},${own('node-b', 'iptables.save')}`);
		expect(central.journeys).toEqual(together.journeys);
		expect(central.journeys!.length).toBe(variant === 'working' ? 10 : 4);
		const findings = (d: Doc) => d.findings.map(f => `${f.node} ${f.kind} ${f.packets.join(',')}`);
		expect(findings(central)).toEqual(findings(together));
		expect(findings(central)).toEqual(variant === 'working' ? [] : ['node-b dropped-at-peer 2,4', 'node-b dropped-at-peer 6,8']);
	});
});
