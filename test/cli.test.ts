/**
 * The shipped command, run as a user runs it: exit codes, formats, stdin streaming, pipes.
 * Every run is a child process the test does not block on, so the tests run side by side; a
 * run that several tests read is made once.
 */
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import {describe, it} from 'vitest';
import {OutputWatch, within} from './support/wait.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/tracewatch.js';
const env = {...process.env, NO_COLOR: '', FORCE_COLOR: ''};

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Runs `file args` with `input` (text or bytes) on stdin, to its exit. */
async function spawnRun(file: string, args: string[], input: string | Buffer = '', extraEnv: Record<string, string> = {}): Promise<Run> {
	const watch = new OutputWatch(spawn(file, args, {cwd: root, env: {...env, ...extraEnv}, timeout: 60_000, killSignal: 'SIGKILL'}));
	watch.child.stdin!.on('error', () => {}); // a command that does not read its input
	watch.child.stdin!.end(input);
	const {code} = await within(watch.exited, {what: `${args.join(' ')} to exit`, timeoutMs: 60_000, show: () => watch.show()});
	return {code, stdout: watch.stdout(), stderr: watch.stderr()};
}

const run = (args: string[], input?: string, extraEnv: Record<string, string> = {}) => spawnRun(process.execPath, [BIN, ...args], input, extraEnv);

/** A run made once, when a test first asks for it, and shared by the tests that read it. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
	let made: Promise<T> | undefined;
	return () => (made ??= make());
}

const TRACE = 'testdata/formats/dmesg-legacy-tcp-udp-icmperr.log';
const RULES = 'testdata/formats/rules/trace-tcp-udp-legacy-b.save';

/** `replay TRACE --rules RULES --format json`: the JSON contract, and no empty-trace finding. */
const replayJson = once(() => run(['replay', TRACE, '--rules', RULES, '--format', 'json']));

describe.concurrent('tracewatch CLI', () => {
	it('--help teaches, with examples, and exits 0', async ({expect}) => {
		const [r, replay] = await Promise.all([run(['--help']), run(['replay', '--help'])]);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('Usage:');
		expect(r.stdout).toContain('dmesg -W | grep --line-buffered TRACE: | tracewatch');
		expect(r.stdout).toContain('tracewatch doctor');
		expect(replay.code).toBe(0);
		expect(replay.stdout).toContain('--rules FILE');
		expect(replay.stdout).toContain('Exit status');
	});

	it('exits 2 on usage errors, with a message on stderr', async ({expect}) => {
		const [bogus, typo, missing, xml, noRules] = await Promise.all([
			run(['--bogus']),
			run(['replay', TRACE, '--rule', RULES]),
			run(['replay', 'no/such/file.log']),
			run(['replay', TRACE, '--format', 'xml']),
			run(['replay', TRACE, '--rules', 'no/such.save']),
		]);
		expect(bogus.code).toBe(2);
		expect(typo.code).toBe(2);
		expect(typo.stderr).toBe('tracewatch: unknown option --rule: did you mean --rules?\nRun "tracewatch replay --help" for usage.\n');
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('no/such/file.log');
		expect(xml.code).toBe(2);
		expect(noRules.code).toBe(2);
	});

	it('prints text blocks and a summary when stdout is not a terminal', async ({expect}) => {
		const r = await run(['replay', TRACE, '--rules', RULES]);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/^#1 {2}TCP 198\.19\.250\.1:40664 → 198\.19\.250\.2:8080 \[SYN\]/m);
		// The path folded by hook, the user chain under the chain that called it.
		expect(r.stdout).toContain('    path PREROUTING  raw\n         INPUT       filter (TW-CHAIN)\n');
		expect(r.stdout).toMatch(/packet\(s\) from 14 trace line\(s\)/);
		expect(r.stdout).not.toContain('\u001B[');
	});

	it('writes the JSON contract', async ({expect}) => {
		const r = await replayJson();
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

	it('streams ndjson: one packet object per line', async ({expect}) => {
		const r = await run(['replay', TRACE, '--format', 'ndjson']);
		const lines = r.stdout.trim().split('\n');
		expect(lines.length).toBeGreaterThan(1);
		for (const l of lines) expect(JSON.parse(l)).toHaveProperty('hops');
	});

	it('reads stdin and prints a packet as soon as its lines stop coming, before input ends', async ({expect}) => {
		const live = new OutputWatch(spawn(process.execPath, [BIN, '--format', 'ndjson'], {cwd: root, env}));
		const lines = readFileSync(join(root, TRACE), 'utf8').split('\n').slice(0, 7);
		try {
			live.child.stdin!.write(`${lines.join('\n')}\n`);
			// No deadline of its own: the test is that the packet comes while stdin is still open.
			await live.waitFor(out => out.includes('\n'), {what: 'the first packet while stdin is still open'});
			expect(JSON.parse(live.stdout().split('\n')[0]!)).toMatchObject({proto: 'TCP', dpt: 8080});
		} finally {
			live.child.stdin!.end();
			await live.exited;
		}
	});

	it('exits 0 quietly when the reader of its output goes away (| head)', async ({expect}) => {
		// pipefail: the status is tracewatch's, not head's.
		const r = await spawnRun('bash', ['-c', `set -o pipefail; node ${BIN} testdata/corpus/trace-xtables-monitor/k3s-calico-vxlan-clusterip-dnat-futoneng.txt | head -1`]);
		expect(r.stdout).toMatch(/^#1 .*\n$/);
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
	});

	it('reports unparsed lines with file:line:column; --strict makes them exit 1', async ({expect}) => {
		const file = 'testdata/corpus/trace-nft/openwrt-fw4-wan-syn-raw-prerouting-REDACTED-TRUNCATED.txt';
		const [r, strict] = await Promise.all([run(['replay', file]), run(['replay', file, '--strict'])]);
		expect(r.code).toBe(0);
		expect(r.stderr).toContain(`${file}:6:43: nft monitor trace line: expected`);
		expect(r.stdout).toContain('1 unparsed');
		expect(strict.code).toBe(1);
	});

	it('uses colour only when asked and never with NO_COLOR', async ({expect}) => {
		const [asked, forced, no] = await Promise.all([run(['replay', TRACE, '--color']), run(['replay', TRACE], undefined, {FORCE_COLOR: '1'}), run(['replay', TRACE], undefined, {FORCE_COLOR: '1', NO_COLOR: '1'})]);
		expect(asked.stdout).toContain('\u001B[');
		expect(forced.stdout).toContain('\u001B[');
		expect(no.stdout).not.toContain('\u001B[');
		expect(no.stdout).toMatch(/^#1 {2}TCP /m);
	});
});

type EmptyFindings = Array<{kind: string; message: string; hint: string; rules: Array<{chain: string; pos: number}>}>;

/** The findings of `replay ARGS --format json`, which must exit 0. */
async function findingsOf(r: Promise<Run>): Promise<EmptyFindings> {
	const {code, stdout, stderr} = await r;
	if (code !== 0) throw new Error(`exit ${code}: ${stderr}`);
	return (JSON.parse(stdout) as {findings: EmptyFindings}).findings;
}

describe.concurrent('why a trace is empty', () => {
	const empty = (args: string[], input?: string) => findingsOf(run(['replay', ...args, '--format', 'json'], input));

	it('says so when no line is trace output (a ruleset given as the trace), with the usual causes', async ({expect}) => {
		const file = 'testdata/corpus/rules/arter97-firewall-BEFORE-empty-nft-iptables-save.txt';
		const findings = await empty([file]);
		expect(findings.map(f => f.kind)).toEqual(['empty-trace']);
		expect(findings[0]!.message).toBe(`${file}: none of the 16 line(s) is a netfilter TRACE or LOG line, xtables-monitor --trace or nft monitor trace output`);
		expect(findings[0]!.hint).toContain('nf_log_all_netns=1');
		expect(findings[0]!.hint).toContain('tracewatch doctor');
	});

	it('with an iptables-nft ruleset holding TRACE rules: their output went to netlink', async ({expect}) => {
		const [f] = await empty(['--rules', 'testdata/nft/wifi-no-reply/iptables.save'], '');
		expect(f!.kind).toBe('empty-trace');
		expect(f!.message).toContain('no lines at all');
		expect(f!.hint).toMatch(/^The TRACE rules are in an iptables-nft ruleset: nf_tables sends their output to netlink/);
		expect(f!.rules.map(r => `${r.chain}#${r.pos}`)).toEqual(['PREROUTING#2', 'PREROUTING#3', 'OUTPUT#2']);
	});

	it('with a legacy ruleset without TRACE rules: nothing was traced', async ({expect}) => {
		const [f] = await empty(['--rules', 'testdata/dmesg/ipv6/iptables.save'], 'eth0: link up\n');
		expect(f!.hint).toMatch(/^The ruleset has no -j TRACE rule, so nothing was traced/);
	});

	it('with legacy TRACE rules that counted packets: the lines went elsewhere', async ({expect}) => {
		const [f] = await empty(['--rules', 'testdata/dmesg/wifi-no-reply/iptables.save'], '');
		expect(f!.hint).toMatch(/^The ruleset has TRACE rules that counted packets, so lines were written somewhere else/);
	});

	it('is not reported when there are trace lines', async ({expect}) => {
		const findings = await findingsOf(replayJson());
		expect(findings.map(f => f.kind)).not.toContain('empty-trace');
	});
});

describe.concurrent('the chain graph as output (--format graph, --format dot)', () => {
	const args = ['testdata/dmesg/drop-user-chain/dmesg.log', '--rules', 'testdata/dmesg/drop-user-chain/iptables.save'];

	it('graph: hooks side by side, counts on chains and jumps, ! where a finding points', async ({expect}) => {
		const r = await run([...args, '--format', 'graph'], undefined, {COLUMNS: '100'});
		expect(r.code).toBe(0);
		const lines = r.stdout.split('\n');
		expect(lines[1]).toMatch(/^PREROUTING +FORWARD +POSTROUTING$/);
		expect(r.stdout).toContain('● raw:PREROUTING 3');
		expect(r.stdout).toContain('● nat:PREROUTING 2');
		expect(r.stdout).toContain('└─2→ ! filter:TW-POLICY 2 ends 1');
		expect(r.stdout).toContain('● nat:POSTROUTING 1 ends 1');
		expect(r.stdout).toContain('3 packet(s) from 20 trace line(s)');
	});

	it('dot: one cluster per hook, every jump with its packet count, the dropping chain in red', async ({expect}) => {
		const r = await run([...args, '--format', 'dot']);
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

describe.concurrent('common mix-ups', () => {
	it('a saved ruleset given as the trace: exit 2, saying to use --rules or `tracewatch rules`', async ({expect}) => {
		const r = await run(['replay', 'testdata/rules/node-broken.save']);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain('testdata/rules/node-broken.save is a saved ruleset, not a trace: give it with --rules testdata/rules/node-broken.save');
	});

	it('a trace given as --rules: exit 2, instead of a screen of "not a ruleset line"', async ({expect}) => {
		const r = await run(['replay', 'testdata/dmesg/wifi-no-reply/iptables.save', '--rules', 'testdata/dmesg/wifi-no-reply/dmesg-T.log']);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain('testdata/dmesg/wifi-no-reply/dmesg-T.log is trace output, not a ruleset');
		expect(r.stderr).not.toContain('not a ruleset line');
	});

	it('gzip data on stdin and a gzip --rules dump are read like plain text', async ({expect}) => {
		const trace = gzipSync(readFileSync(join(root, 'testdata/dmesg/wifi-no-reply/dmesg-T.log')));
		const dir = mkdtempSync(join(tmpdir(), 'tw-cli-'));
		try {
			const rules = join(dir, 'node.save.gz');
			writeFileSync(rules, gzipSync(readFileSync(join(root, 'testdata/dmesg/wifi-no-reply/iptables.save'))));
			const r = await spawnRun(process.execPath, [BIN, '--format', 'text', '--rules', rules], trace);
			expect(r.code).toBe(0);
			expect(r.stdout).toContain('2 packet(s) from 79 trace line(s); 79 line(s) read, 0 skipped');
			expect(r.stdout).toContain('1 ruleset(s) joined');
			expect(r.stdout).toContain('nat:KUBE-SEP-MQ2DQMRXMYZTEZLC:rule:2     DNAT');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
