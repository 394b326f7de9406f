/**
 * An agent's records read back: each node's NDJSON (`--node NAME --format ndjson`, from a file or
 * live from stdin with its revisions), concatenated as a log pipeline stores them, replays into
 * the same packets, journeys and findings as the nodes' traces themselves (testdata/nodes).
 */
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {isRecordLine, RecordReader} from '../../src/model/records.js';
import {read, ROOT} from '../support/replay.js';

const BIN = join(ROOT, 'bin/tracewatch.js');
const DIR = 'testdata/nodes/broken';

interface Doc {
	packets: Array<Record<string, unknown>>;
	journeys?: unknown[];
	findings: Array<{kind: string; node?: string; packets: number[]; message: string}>;
}

async function tracewatch(args: string[], input?: string): Promise<string> {
	const child = execFile(process.execPath, [BIN, ...args], {cwd: ROOT, maxBuffer: 32 << 20});
	if (input !== undefined) child.stdin!.end(input);
	return new Promise((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
		child.on('close', code => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
	});
}

describe('records read back', () => {
	it('concatenated agents\' NDJSON (one replayed from a file, one live from stdin) gives what the traces give', async () => {
		const a = await tracewatch(['replay', `${DIR}/node-a/dmesg-T.log`, '--rules', `${DIR}/node-a/iptables.save`, '--node', 'node-a', '--format', 'ndjson']);
		const b = await tracewatch(['--node', 'node-b', '--rules', `${DIR}/node-b/iptables.save`, '--format', 'ndjson'], read(`${DIR}/node-b/dmesg-T.log`));
		expect(a.split('\n').filter(Boolean).every(isRecordLine)).toBe(true);
		const dir = mkdtempSync(join(tmpdir(), 'tw-records-'));
		try {
			const file = join(dir, 'fleet.ndjson');
			writeFileSync(file, a + b);
			// node-b's agent read stdin: its hops name "(stdin)" where the trace names the file.
			const back = JSON.parse((await tracewatch(['replay', file, '--format', 'json'])).replaceAll('"(stdin)"', JSON.stringify(`${DIR}/node-b/dmesg-T.log`))) as Doc;
			const direct = JSON.parse(await tracewatch(['replay', ...['node-a', 'node-b'].flatMap(n => ['--node', `${n}=${DIR}/${n}/dmesg-T.log,${DIR}/${n}/iptables.save`]), '--format', 'json'])) as Doc;
			expect(back.packets).toHaveLength(16);
			expect(back.packets).toEqual(direct.packets);
			expect(back.journeys).toEqual(direct.journeys);
			expect(back.findings.map(f => `${f.node} ${f.kind} ${f.packets.join(',')} ${f.message}`)).toEqual(direct.findings.map(f => `${f.node} ${f.kind} ${f.packets.join(',')} ${f.message}`));
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it('brings each hop\'s stamp back, so the nodes\' clocks are aligned from records as from the traces', async () => {
		// /dev/kmsg stamps are seconds since each node booted: only a packet that crossed aligns them.
		const dir = 'testdata/nodes/working';
		const agents = await Promise.all(['node-a', 'node-b'].map(n => tracewatch(['replay', `${dir}/${n}/kmsg.log`, '--rules', `${dir}/${n}/iptables.save`, '--node', n, '--format', 'ndjson'])));
		const first = JSON.parse(agents[0]!.split('\n')[0]!) as {hops: Array<{time: string; mono: number}>};
		expect(first.hops[0]).toMatchObject({time: '4,2112,12641994643,-', mono: 12641.994643});
		const tmp = mkdtempSync(join(tmpdir(), 'tw-records-'));
		try {
			const file = join(tmp, 'fleet.ndjson');
			writeFileSync(file, agents.join(''));
			const back = JSON.parse(await tracewatch(['replay', file, '--format', 'json'])) as Doc & {nodes: unknown[]};
			const direct = JSON.parse(await tracewatch(['replay', ...['node-a', 'node-b'].flatMap(n => ['--node', `${n}=${dir}/${n}/kmsg.log,${dir}/${n}/iptables.save`]), '--format', 'json'])) as Doc & {nodes: unknown[]};
			expect(direct.nodes).toEqual([{name: 'node-a', packets: 20, clock: 'reference'}, {name: 'node-b', packets: 20, clock: 'linked', offset: -0.000228}]);
			expect(back.nodes).toEqual(direct.nodes);
			expect(back.packets).toEqual(direct.packets);
		} finally {
			rmSync(tmp, {recursive: true, force: true});
		}
	});

	it('applies a revision to the packet it names, on its node, and skips what is not a record', () => {
		const out: Array<{id: number; node?: string; replySeen: boolean}> = [];
		const reader = new RecordReader(p => out.push(p), () => 0);
		const packet = (node: string, id: number) => JSON.stringify({tracewatch: 1, id, node, family: 'ipv4', proto: 'ICMP', src: '198.18.0.1', dst: '198.18.0.2', hops: [], verdict: 'ACCEPT', verdictBasis: '', in: '', out: '', nat: [], replyTo: null, replySeen: false, format: 'kernel'});
		reader.push(packet('a', 1));
		reader.push(packet('b', 1));
		reader.push(JSON.stringify({tracewatch: 1, revised: 1, fact: 'reply-seen', by: 2, replySeen: true, node: 'b'}));
		reader.push('not json');
		reader.push(JSON.stringify({tracewatch: 1, journey: {}}));
		reader.end();
		expect(out.map(p => `${p.node}#${p.id} ${p.replySeen}`)).toEqual(['a#1 false', 'b#1 true']);
		expect([reader.skipped, reader.journeys]).toEqual([1, 1]);
	});
});
