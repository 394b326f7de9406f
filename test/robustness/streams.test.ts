/**
 * Streams as they happen: compressed and cut logs, a file that grows and rotates, a pipe that
 * is stopped, a line of 10 MB, a dump that is cut or wrong.
 */
import {spawn, spawnSync} from 'node:child_process';
import {appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, describe, expect, it} from 'vitest';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {ROOT} from '../support/replay.js';

const BIN = 'bin/tracewatch.js';
const env = {...process.env, NO_COLOR: '1'};
const dir = mkdtempSync(join(tmpdir(), 'tracewatch-streams-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

const TRACE = readFileSync(join(ROOT, 'testdata/dmesg/fwd-dnat-masq/dmesg.log'), 'utf8');
const LINES = TRACE.trimEnd().split('\n');

function run(args: string[], input?: string) {
	const r = spawnSync(process.execPath, [BIN, ...args], {cwd: ROOT, input, encoding: 'utf8', env, timeout: 60_000, maxBuffer: 64 << 20});
	return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

function ndjson(stdout: string): Array<Record<string, unknown>> {
	return stdout
		.trim()
		.split('\n')
		.filter(Boolean)
		.map(l => JSON.parse(l) as Record<string, unknown>);
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise(r => setTimeout(r, 50));
	}
}

describe('compressed logs', () => {
	it('reads gzip by its magic bytes, whatever the name', () => {
		const f = join(dir, 'kern.log.1');
		writeFileSync(f, gzipSync(TRACE));
		const r = run([f, '--format', 'ndjson']);
		expect(r.code).toBe(0);
		expect(ndjson(r.stdout)).toHaveLength(10);
	});

	it('a cut .gz: the lines before the damage are read, the damage is reported, exit 1', () => {
		const f = join(dir, 'cut.log.gz');
		const gz = gzipSync(TRACE.repeat(20));
		writeFileSync(f, gz.subarray(0, Math.floor(gz.length * 0.6)));
		const r = run([f, '--format', 'ndjson']);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain('cut.log.gz: unexpected end of file (the compressed file is cut or corrupt; lines before the damage were read)');
		expect(ndjson(r.stdout).length).toBeGreaterThan(50);
	});
});

describe('--follow', () => {
	it('reads what is appended, and starts over when the file is rotated', async () => {
		const f = join(dir, 'grow.log');
		writeFileSync(f, `${LINES.slice(0, 18).join('\n')}\n`);
		const child = spawn(process.execPath, [BIN, '--follow', f, '--format', 'ndjson'], {cwd: ROOT, env});
		let out = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
		try {
			await until(() => ndjson(out).length >= 2);
			appendFileSync(f, `${LINES.slice(18, 39).join('\n')}\n`);
			await until(() => ndjson(out).length >= 5);
			renameSync(f, `${f}.1`);
			writeFileSync(f, `${LINES.slice(39).join('\n')}\n`);
			await until(() => ndjson(out).length >= 10);
		} finally {
			child.kill('SIGTERM');
			await new Promise(r => child.on('close', r));
		}
		expect(ndjson(out).map(p => p['id'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	});
});

describe('stopping a live pipe', () => {
	it('SIGTERM while stdin is still open: complete packets and the summary are printed, exit 0', async () => {
		const child = spawn(process.execPath, [BIN, '--format', 'text'], {cwd: ROOT, env});
		let out = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
		child.stdin.write(TRACE);
		await until(() => out.includes('#10'));
		child.kill('SIGTERM');
		const code = await new Promise<number | null>(r => child.on('close', r));
		expect(code).toBe(0);
		expect(out).toMatch(/10 packet\(s\) from 74 trace line\(s\)/);
	});
});

describe('huge and odd lines', () => {
	it('a 10 MB line is reported as unparsed, quickly, and the lines around it still count', () => {
		const huge = `[ 1.0] TRACE: raw:PREROUTING:policy:2 IN=eth0 OUT= ${'X'.repeat(10 * 1024 * 1024)}`;
		const started = Date.now();
		const r = run(['--format', 'json'], `${LINES.slice(0, 11).join('\n')}\n${huge}\n${LINES.slice(11, 18).join('\n')}\n`);
		expect(Date.now() - started).toBeLessThan(30_000);
		const doc = JSON.parse(r.stdout) as {inputs: Array<{lines: number; traceLines: number; unparsed: number}>; packets: unknown[]};
		expect(doc.inputs[0]).toMatchObject({lines: 19, traceLines: 18, unparsed: 1});
		expect(doc.packets).toHaveLength(2);
	});

	it('CRLF line ends and unrelated kernel lines in between', () => {
		const mixed = LINES.slice(0, 11).flatMap(l => [`${l}\r`, '[ 3315.1] eth0: renamed from veth1234\r']).join('\n');
		const r = run(['--format', 'json'], `${mixed}\n`);
		const doc = JSON.parse(r.stdout) as {inputs: Array<{lines: number; traceLines: number; skipped: number}>; packets: Array<{hops: unknown[]}>};
		expect(doc.inputs[0]).toMatchObject({lines: 22, traceLines: 11, skipped: 11});
		expect(doc.packets[0]!.hops).toHaveLength(11);
	});
});

describe('rulesets that are cut or wrong load with warnings, never silently wrong', () => {
	const good = readFileSync(join(ROOT, 'testdata/dmesg/fwd-dnat-masq/iptables.save'), 'utf8');

	it('a truncated save: the tables read so far are loaded, the cut is reported', () => {
		const cut = good.slice(0, good.indexOf('*raw') + 60);
		const rs = parseRuleset(cut, 'cut.save');
		expect([...rs.tables.keys()]).toEqual(['filter', 'nat', 'mangle', 'raw']);
		expect(rs.problems.map(p => p.message)).toContainEqual(expect.stringMatching(/^table raw ends without COMMIT \(dump cut\?\)/));
	});

	it('COMMIT missing between tables', () => {
		const rs = parseRuleset(good.replace('COMMIT\n', ''), 'nocommit.save');
		expect(rs.problems.some(p => /has no COMMIT before/.test(p.message))).toBe(true);
	});

	it('a rule in an undeclared chain, and an unknown target, are reported', () => {
		const rs = parseRuleset(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NOSUCH-CHAIN\n-A GHOST -j ACCEPT\nCOMMIT\n`, 'odd.save');
		expect(rs.problems.map(p => p.message)).toEqual(['chain filter:GHOST has rules but no ":GHOST" declaration']);
		const lint = spawnSync(process.execPath, [BIN, 'rules', '-'], {cwd: ROOT, encoding: 'utf8', env});
		expect(lint.status).toBe(2); // rules reads files, not stdin
	});

	it('a stderr line pasted into a dump is reported with its line and column, the rest loads', () => {
		const f = join(dir, 'pasted.save');
		writeFileSync(f, `iptables-save: invalid option -- 'L'\n${good}`);
		const r = run(['rules', f]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain(`${f}:1:1: not a ruleset line`);
		expect(r.stderr).toContain('expected *table, :CHAIN, -A/-I/-P/-N, COMMIT or # comment');
		expect(r.stdout).toContain('4 table(s)');
	});
});
