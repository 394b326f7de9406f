/**
 * Streams as they happen: compressed and cut logs, a file that grows and rotates, a pipe that
 * is stopped, a line of 10 MB, a dump that is cut or wrong. Every run of the CLI is a child
 * process the test does not block on, so the tests of this file run side by side, and each
 * waits for the output it needs, never for a time.
 */
import {spawn} from 'node:child_process';
import {appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, describe, it} from 'vitest';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {ROOT} from '../support/replay.js';
import {completeRecords, OutputWatch, within} from '../support/wait.js';

const BIN = 'bin/tracewatch.js';
const env = {...process.env, NO_COLOR: '1'};
const dir = mkdtempSync(join(tmpdir(), 'tracewatch-streams-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

const TRACE = readFileSync(join(ROOT, 'testdata/dmesg/fwd-dnat-masq/dmesg.log'), 'utf8');
const LINES = TRACE.trimEnd().split('\n');

/** Starts tracewatch ARGS (stdin: `input`, then closed; or left open when `input` is undefined). */
function start(args: string[], input?: string): OutputWatch {
	const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env, timeout: 60_000, killSignal: 'SIGKILL'});
	if (input !== undefined) child.stdin.end(input);
	return new OutputWatch(child);
}

/** Runs tracewatch ARGS with `input` on stdin to its end, allowing it `timeoutMs` to exit. */
async function run(args: string[], input = '', timeoutMs = 60_000) {
	const watch = start(args, input);
	const {code} = await within(watch.exited, {what: `tracewatch ${args.join(' ')} to exit`, timeoutMs, show: () => watch.show()});
	return {code, stdout: watch.stdout(), stderr: watch.stderr()};
}

const ndjson = completeRecords;

/** Packet records (revisions of earlier packets are records with `revised` instead of `id`). */
const packets = (stdout: string) => ndjson(stdout).filter(r => 'id' in r);

describe.concurrent('compressed logs', () => {
	it('reads gzip by its magic bytes, whatever the name', async ({expect}) => {
		const f = join(dir, 'kern.log.1');
		writeFileSync(f, gzipSync(TRACE));
		const r = await run([f, '--format', 'ndjson']);
		expect(r.code).toBe(0);
		expect(packets(r.stdout).map(p => p['id'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	});

	it('a cut .gz: the lines before the damage are read, the damage is reported, exit 1', async ({expect}) => {
		const f = join(dir, 'cut.log.gz');
		const gz = gzipSync(TRACE.repeat(20));
		writeFileSync(f, gz.subarray(0, Math.floor(gz.length * 0.6)));
		const r = await run([f, '--format', 'ndjson']);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain('cut.log.gz: unexpected end of file (the compressed file is cut or corrupt; lines before the damage were read)');
		expect(packets(r.stdout).length).toBeGreaterThan(50);
	});
});

describe.concurrent('--follow', () => {
	it('reads what is appended, and starts over when the file is rotated', async ({expect}) => {
		const f = join(dir, 'grow.log');
		writeFileSync(f, `${LINES.slice(0, 18).join('\n')}\n`);
		const follow = start(['--follow', f, '--format', 'ndjson', '--node', 'node-a']);
		const count = (n: number, what: string) => follow.waitFor(out => packets(out).length >= n, {what: `${n} packets ${what}`});
		try {
			await count(2, 'from the first 18 lines');
			appendFileSync(f, `${LINES.slice(18, 39).join('\n')}\n`);
			await count(5, 'after lines were appended');
			renameSync(f, `${f}.1`);
			writeFileSync(f, `${LINES.slice(39).join('\n')}\n`);
			await count(10, 'from the new file after the rotation');
		} finally {
			follow.child.kill('SIGTERM');
			await follow.exited;
		}
		const records = ndjson(follow.stdout());
		expect(packets(follow.stdout()).map(p => p['id'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
		// An agent's operator learns of the rotation.
		expect(follow.stderr()).toContain(`tracewatch: ${f} was rotated (a new file took its name): reading it from its start`);
		// Every record says its schema and its node.
		for (const r of records) expect(r).toMatchObject({tracewatch: 1, node: 'node-a'});
		// What was learnt later comes as revisions of packets already written, never before them.
		for (const [i, r] of records.entries()) {
			if (!('revised' in r)) continue;
			expect(records.slice(0, i).map(p => p['id'])).toContain(r['revised']);
		}
	});
});

describe.concurrent('stopping a live pipe', () => {
	it('SIGTERM while stdin is still open: complete packets and the summary are printed, then exit 143', async ({expect}) => {
		const live = start(['--format', 'text']);
		live.child.stdin!.write(TRACE);
		await live.waitFor(/^#10 /m, {where: 'stdout', what: 'packet #10 (the last one) before stdin ends'});
		live.child.kill('SIGTERM');
		expect(await within(live.exited, {what: 'the exit after SIGTERM', show: () => live.show()})).toEqual({code: 143, signal: null});
		expect(live.stdout()).toMatch(/10 packet\(s\) from 74 trace line\(s\)/);
	});
});

describe.concurrent('huge and odd lines', () => {
	it('a 10 MB line is reported as unparsed, and the lines around it still count', async ({expect}) => {
		const huge = `[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= ${'X'.repeat(10 * 1024 * 1024)}`;
		const r = await run(['--format', 'json'], `${LINES.slice(0, 11).join('\n')}\n${huge}\n${LINES.slice(11, 18).join('\n')}\n`);
		const doc = JSON.parse(r.stdout) as {inputs: Array<{lines: number; traceLines: number; unparsed: number}>; packets: unknown[]};
		expect(doc.inputs[0]).toMatchObject({lines: 19, traceLines: 18, unparsed: 1});
		expect(doc.packets).toHaveLength(2);
	});

	it('CRLF line ends and unrelated kernel lines in between', async ({expect}) => {
		const mixed = LINES.slice(0, 11).flatMap(l => [`${l}\r`, '[ 3315.1] eth0: renamed from veth1234\r']).join('\n');
		const r = await run(['--format', 'json'], `${mixed}\n`);
		const doc = JSON.parse(r.stdout) as {inputs: Array<{lines: number; traceLines: number; skipped: number}>; packets: Array<{hops: unknown[]}>};
		expect(doc.inputs[0]).toMatchObject({lines: 22, traceLines: 11, skipped: 11});
		expect(doc.packets[0]!.hops).toHaveLength(11);
	});
});

describe.concurrent('rulesets that are cut or wrong load with warnings, never silently wrong', () => {
	const good = readFileSync(join(ROOT, 'testdata/dmesg/fwd-dnat-masq/iptables.save'), 'utf8');

	it('a truncated save: the tables read so far are loaded, the cut is reported', ({expect}) => {
		const cut = good.slice(0, good.indexOf('*raw') + 60);
		const rs = parseRuleset(cut, 'cut.save');
		expect([...rs.tables.keys()]).toEqual(['filter', 'nat', 'mangle', 'raw']);
		expect(rs.problems.map(p => p.message)).toContainEqual(expect.stringMatching(/^table raw ends without COMMIT \(dump cut\?\)/));
	});

	it('COMMIT missing between tables', ({expect}) => {
		const rs = parseRuleset(good.replace('COMMIT\n', ''), 'nocommit.save');
		expect(rs.problems.some(p => /has no COMMIT before/.test(p.message))).toBe(true);
	});

	it('a rule in an undeclared chain, and an unknown target, are reported', async ({expect}) => {
		const rs = parseRuleset(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NOSUCH-CHAIN\n-A GHOST -j ACCEPT\nCOMMIT\n`, 'odd.save');
		expect(rs.problems.map(p => p.message)).toEqual(['chain filter:GHOST has rules but no ":GHOST" declaration']);
		const lint = await run(['rules', '-']);
		expect(lint.code).toBe(2); // rules reads files, not stdin
	});

	it('a stderr line pasted into a dump is reported with its line and column, the rest loads', async ({expect}) => {
		const f = join(dir, 'pasted.save');
		writeFileSync(f, `iptables-save: invalid option -- 'L'\n${good}`);
		const r = await run(['rules', f]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain(`${f}:1:1: not a ruleset line`);
		expect(r.stderr).toContain('expected *table, :CHAIN, -A/-I/-P/-N, COMMIT or # comment');
		expect(r.stdout).toContain('4 table(s)');
	});
});
