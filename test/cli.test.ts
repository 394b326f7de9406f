/**
 * The shipped command, run as a user runs it: exit codes, formats, stdin streaming, pipes.
 */
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/tracewatch.js';
const env = {...process.env, NO_COLOR: '', FORCE_COLOR: ''};

function run(args: string[], input?: string, extraEnv: Record<string, string> = {}) {
	const r = spawnSync(process.execPath, [BIN, ...args], {cwd: root, input, encoding: 'utf8', env: {...env, ...extraEnv}, timeout: 60_000});
	return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

const TRACE = 'testdata/formats/dmesg-legacy-tcp-udp-icmperr.log';
const RULES = 'testdata/formats/rules/trace-tcp-udp-legacy-b.save';

describe('tracewatch CLI', () => {
	it('--help teaches, with examples, and exits 0', () => {
		const r = run(['--help']);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('Usage:');
		expect(r.stdout).toContain('dmesg -W | grep --line-buffered TRACE: | tracewatch');
		expect(r.stdout).toContain('tracewatch doctor');
		const replay = run(['replay', '--help']);
		expect(replay.code).toBe(0);
		expect(replay.stdout).toContain('--rules FILE');
		expect(replay.stdout).toContain('Exit status');
	});

	it('exits 2 on usage errors, with a message on stderr', () => {
		expect(run(['--bogus']).code).toBe(2);
		const typo = run(['replay', TRACE, '--rule', RULES]);
		expect(typo.code).toBe(2);
		expect(typo.stderr).toBe('tracewatch: unknown option --rule: did you mean --rules?\nRun "tracewatch replay --help" for usage.\n');
		const missing = run(['replay', 'no/such/file.log']);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('no/such/file.log');
		expect(run(['replay', TRACE, '--format', 'xml']).code).toBe(2);
		expect(run(['replay', TRACE, '--rules', 'no/such.save']).code).toBe(2);
	});

	it('prints text blocks and a summary when stdout is not a terminal', () => {
		const r = run(['replay', TRACE, '--rules', RULES]);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^#1 {2}TCP 198\.19\.250\.1:40664 → 198\.19\.250\.2:8080 \[SYN\]/m);
		expect(r.stdout).toContain('path raw:PREROUTING → filter:INPUT → filter:TW-CHAIN → filter:INPUT');
		expect(r.stdout).toMatch(/packet\(s\) from 14 trace line\(s\)/);
		expect(r.stdout).not.toContain('\u001B[');
	});

	it('writes the JSON contract', () => {
		const r = run(['replay', TRACE, '--rules', RULES, '--format', 'json']);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout) as {tracewatch: number; inputs: unknown[]; packets: Array<Record<string, unknown>>; graph: {nodes: unknown[]; edges: unknown[]}; findings: unknown[]; unparsed: unknown[]};
		expect(doc.tracewatch).toBe(1);
		expect(doc.inputs).toEqual([{path: TRACE, format: 'kernel', lines: 14, traceLines: 14, skipped: 0, unparsed: 0}]);
		const p = doc.packets[0]!;
		for (const key of ['id', 'family', 'proto', 'src', 'dst', 'spt', 'dpt', 'ipId', 'icmp', 'tcpFlags', 'hops', 'final', 'verdict', 'in', 'out', 'nat', 'replyTo', 'replySeen']) expect(p).toHaveProperty(key);
		const hop = (p['hops'] as Array<Record<string, unknown>>)[0]!;
		for (const key of ['table', 'chain', 'kind', 'num', 'line', 'in', 'out', 'src', 'dst', 'spt', 'dpt', 'mark', 'rule', 'target']) expect(hop).toHaveProperty(key);
		expect(doc.graph.nodes.length).toBeGreaterThan(0);
		expect(Array.isArray(doc.findings)).toBe(true);
		expect(doc.unparsed).toEqual([]);
	});

	it('streams ndjson: one packet object per line', () => {
		const r = run(['replay', TRACE, '--format', 'ndjson']);
		const lines = r.stdout.trim().split('\n');
		expect(lines.length).toBeGreaterThan(1);
		for (const l of lines) expect(JSON.parse(l)).toHaveProperty('hops');
	});

	it('reads stdin and prints a packet as soon as its lines stop coming, before input ends', async () => {
		const child = spawn(process.execPath, [BIN, '--format', 'ndjson'], {cwd: root, env});
		const lines = (await import('node:fs')).readFileSync(new URL(`../${TRACE}`, import.meta.url), 'utf8').split('\n').slice(0, 7);
		let out = '';
		child.stdout.setEncoding('utf8');
		const first = new Promise<string>(resolve => {
			child.stdout.on('data', (d: string) => {
				out += d;
				if (out.includes('\n')) resolve(out);
			});
		});
		child.stdin.write(`${lines.join('\n')}\n`);
		const got = await Promise.race([first, new Promise<string>(resolve => setTimeout(() => resolve('timeout'), 5000))]);
		expect(got).not.toBe('timeout');
		expect(JSON.parse(got.split('\n')[0]!)).toMatchObject({proto: 'TCP', dpt: 8080});
		child.stdin.end();
		await new Promise(resolve => child.on('close', resolve));
	});

	it('exits 0 quietly when the reader of its output goes away (| head)', () => {
		const r = spawnSync('bash', ['-c', `node ${BIN} testdata/corpus/trace-xtables-monitor/k3s-calico-vxlan-clusterip-dnat-futoneng.txt | head -1`], {cwd: root, encoding: 'utf8', env});
		expect(r.status).toBe(0);
		expect(r.stderr).toBe('');
		const status = spawnSync('bash', ['-c', `set -o pipefail; node ${BIN} testdata/corpus/trace-xtables-monitor/k3s-calico-vxlan-clusterip-dnat-futoneng.txt | head -1 >/dev/null`], {cwd: root, env});
		expect(status.status).toBe(0);
	});

	it('reports unparsed lines with file:line:column; --strict makes them exit 1', () => {
		const file = 'testdata/corpus/trace-nft/openwrt-fw4-wan-syn-raw-prerouting-REDACTED-TRUNCATED.txt';
		const r = run(['replay', file]);
		expect(r.code).toBe(0);
		expect(r.stderr).toContain(`${file}:6:43: nft monitor trace line: expected`);
		expect(r.stdout).toContain('1 unparsed');
		expect(run(['replay', file, '--strict']).code).toBe(1);
	});

	it('uses colour only when asked and never with NO_COLOR', () => {
		expect(run(['replay', TRACE, '--color']).stdout).toContain('\u001B[');
		expect(run(['replay', TRACE], undefined, {FORCE_COLOR: '1'}).stdout).toContain('\u001B[');
		expect(run(['replay', TRACE], undefined, {FORCE_COLOR: '1', NO_COLOR: '1'}).stdout).not.toContain('\u001B[');
	});
});

describe('why a trace is empty', () => {
	const empty = (args: string[], input?: string) => {
		const r = run(['replay', ...args, '--format', 'json'], input);
		expect(r.code).toBe(0);
		return (JSON.parse(r.stdout) as {findings: Array<{kind: string; message: string; hint: string; rules: Array<{chain: string; pos: number}>}>}).findings;
	};

	it('says so when no line is trace output (a ruleset given as the trace), with the usual causes', () => {
		const file = 'testdata/corpus/rules/arter97-firewall-BEFORE-empty-nft-iptables-save.txt';
		const findings = empty([file]);
		expect(findings.map(f => f.kind)).toEqual(['empty-trace']);
		expect(findings[0]!.message).toBe(`${file}: none of the 16 line(s) is a netfilter TRACE or LOG line, xtables-monitor --trace or nft monitor trace output`);
		expect(findings[0]!.hint).toContain('nf_log_all_netns=1');
		expect(findings[0]!.hint).toContain('tracewatch doctor');
	});

	it('with an iptables-nft ruleset holding TRACE rules: their output went to netlink', () => {
		const [f] = empty(['--rules', 'testdata/nft/wifi-no-reply/iptables.save'], '');
		expect(f!.kind).toBe('empty-trace');
		expect(f!.message).toContain('no lines at all');
		expect(f!.hint).toMatch(/^The TRACE rules are in an iptables-nft ruleset: nf_tables sends their output to netlink/);
		expect(f!.rules.map(r => `${r.chain}#${r.pos}`)).toEqual(['PREROUTING#2', 'PREROUTING#3', 'OUTPUT#2']);
	});

	it('with a legacy ruleset without TRACE rules: nothing was traced', () => {
		const [f] = empty(['--rules', 'testdata/dmesg/ipv6/iptables.save'], 'eth0: link up\n');
		expect(f!.hint).toMatch(/^The ruleset has no -j TRACE rule, so nothing was traced/);
	});

	it('with legacy TRACE rules that counted packets: the lines went elsewhere', () => {
		const [f] = empty(['--rules', 'testdata/dmesg/wifi-no-reply/iptables.save'], '');
		expect(f!.hint).toMatch(/^The ruleset has TRACE rules that counted packets, so lines were written somewhere else/);
	});

	it('is not reported when there are trace lines', () => {
		expect(empty([TRACE, '--rules', RULES]).map(f => f.kind)).not.toContain('empty-trace');
	});
});

describe('the chain graph as output (--format graph, --format dot)', () => {
	const args = ['testdata/dmesg/drop-user-chain/dmesg.log', '--rules', 'testdata/dmesg/drop-user-chain/iptables.save'];

	it('graph: hooks side by side, counts on chains and jumps, ! where a finding points', () => {
		const r = run([...args, '--format', 'graph'], undefined, {COLUMNS: '100'});
		expect(r.code).toBe(0);
		const lines = r.stdout.split('\n');
		expect(lines[1]).toMatch(/^PREROUTING +FORWARD +POSTROUTING$/);
		expect(r.stdout).toContain('● raw:PREROUTING 3');
		expect(r.stdout).toContain('● nat:PREROUTING 2');
		expect(r.stdout).toContain('└─2→ ! filter:TW-POLICY 2 ends 1');
		expect(r.stdout).toContain('● nat:POSTROUTING 1 ends 1');
		expect(r.stdout).toContain('3 packet(s) from 20 trace line(s)');
	});

	it('dot: one cluster per hook, every jump with its packet count, the dropping chain in red', () => {
		const r = run([...args, '--format', 'dot']);
		expect(r.code).toBe(0);
		expect(r.stdout.startsWith('digraph tracewatch {\n')).toBe(true);
		expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
		expect(r.stdout).toContain('subgraph "cluster_FORWARD" {');
		expect(r.stdout).toContain('"filter:TW-POLICY" [label="filter:TW-POLICY\\n2 packets, 1 ended here", color=red, penwidth=2];');
		const edges = r.stdout.split('\n').filter(l => l.includes(' -> ')).map(l => l.trim());
		expect(edges).toEqual([
			'"raw:PREROUTING" -> "mangle:PREROUTING" [label="3"];',
			'"mangle:PREROUTING" -> "nat:PREROUTING" [label="2"];',
			'"nat:PREROUTING" -> "mangle:FORWARD" [label="2"];',
			'"mangle:FORWARD" -> "filter:FORWARD" [label="3"];',
			'"filter:FORWARD" -> "filter:TW-POLICY" [label="2"];',
			'"filter:TW-POLICY" -> "filter:FORWARD" [label="1"];',
			'"filter:FORWARD" -> "mangle:POSTROUTING" [label="2"];',
			'"mangle:POSTROUTING" -> "nat:POSTROUTING" [label="1"];',
			'"mangle:PREROUTING" -> "mangle:FORWARD" [label="1"];',
		]);
	});
});

describe('common mix-ups', () => {
	it('a saved ruleset given as the trace: exit 2, saying to use --rules or `tracewatch rules`', () => {
		const r = run(['replay', 'testdata/rules/node-broken.save']);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain('testdata/rules/node-broken.save is a saved ruleset, not a trace: give it with --rules testdata/rules/node-broken.save');
	});

	it('a trace given as --rules: exit 2, instead of a screen of "not a ruleset line"', () => {
		const r = run(['replay', 'testdata/dmesg/wifi-no-reply/iptables.save', '--rules', 'testdata/dmesg/wifi-no-reply/dmesg-T.log']);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain('testdata/dmesg/wifi-no-reply/dmesg-T.log is trace output, not a ruleset');
		expect(r.stderr).not.toContain('not a ruleset line');
	});

	it('gzip data on stdin and a gzip --rules dump are read like plain text', () => {
		const trace = gzipSync(readFileSync(join(root, 'testdata/dmesg/wifi-no-reply/dmesg-T.log')));
		const dir = mkdtempSync(join(tmpdir(), 'tw-cli-'));
		try {
			const rules = join(dir, 'node.save.gz');
			writeFileSync(rules, gzipSync(readFileSync(join(root, 'testdata/dmesg/wifi-no-reply/iptables.save'))));
			const r = spawnSync(process.execPath, [BIN, '--format', 'text', '--rules', rules], {cwd: root, input: trace, encoding: 'utf8', env, timeout: 60_000});
			expect(r.status).toBe(0);
			expect(r.stdout).toContain('2 packet(s) from 79 trace line(s); 79 line(s) read, 0 skipped');
			expect(r.stdout).toContain('1 ruleset(s) joined');
			expect(r.stdout).toContain('nat:KUBE-SEP-MQ2DQMRXMYZTEZLC:rule:2     DNAT');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
