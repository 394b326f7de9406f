/**
 * The interactive view as a person sees it, in a real terminal (tmux): a replayed file and a
 * live pipe, the list, the detail after Enter, the graph, the findings, the help and the
 * filter; and that every way out (q, Ctrl-C, end of input without a terminal, SIGTERM) gives
 * the terminal back: the prompt returns, `stty` shows icanon and echo, no alternate screen.
 */
import {spawnSync} from 'node:child_process';
import {closeSync, constants, mkdtempSync, openSync, rmSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, it, type ExpectStatic} from 'vitest';
import {skipWhen} from '../support/skip.js';
import {childOf, PROMPT, TmuxServer, tmuxAvailable, type Terminal} from './tmux.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TRACE = 'testdata/formats/dmesg-legacy-tcp-udp-icmperr.log';
const RULES = 'testdata/formats/rules/trace-tcp-udp-legacy-b.save';
const CMD = `node bin/tracewatch.js`;
/** `--node` for each of the two-node captures (testdata/nodes): its trace and its dump. */
const nodeArgs = (variant: 'working' | 'broken') => ['node-a', 'node-b'].map(n => `--node ${n}=testdata/nodes/${variant}/${n}/dmesg-T.log,testdata/nodes/${variant}/${n}/iptables.save`).join(' ');

const tmux = tmuxAvailable();
// Checked only where the terminal tests run at all (else they all skip, for tmux's reason).
const noSetsid = !tmux.ok || spawnSync('setsid', ['--version']).status === 0 ? undefined : 'setsid is not installed (util-linux)';

/**
 * A fresh prompt is the last non-empty line: the shell waits for a command. (A line that only
 * starts with the prompt is the command typed before, which the normal screen shows again as
 * soon as the view leaves the alternate screen, before the process has exited.)
 */
const promptBack = (s: string) => s.trimEnd().split('\n').at(-1)!.trimEnd() === PROMPT.trim();
const lines = (s: string) => s.replace(/\n+$/, '').split('\n');

/** After the view closed: the prompt is back, the terminal is in cooked mode with echo, the normal screen is shown. */
async function expectRestored(expect: ExpectStatic, t: Terminal, exit = '0'): Promise<void> {
	const s = await t.waitFor(promptBack, 'the shell prompt after the view closed');
	expect(t.format('#{alternate_on}')).toBe('0');
	expect(s).not.toContain('? help');
	t.type(`echo "rc=$rc"; stty -a | tr ' ;' '\\n\\n' | grep -Ex -- '-?(icanon|echo|isig)' | sort | tr '\\n' ' '; echo`);
	const after = await t.waitFor(x => /^rc=\d+$/m.test(x) && promptBack(x), 'the exit status and stty output');
	expect(after, `the exit status; the screen:\n${after}`).toContain(`rc=${exit}`);
	expect(after, `stty; the screen:\n${after}`).toMatch(/\becho icanon isig\b/);
}

// Each test has a terminal (a tmux session) of its own: they run side by side.
describe.concurrent(`in a terminal (${tmux.reason})`, skipWhen(tmux.ok ? undefined : tmux.reason, 'the terminal tests (tmux)'), () => {
	let server: TmuxServer;
	let scratch: string;
	beforeAll(() => {
		server = new TmuxServer(root);
		scratch = mkdtempSync(join(tmpdir(), 'tw-e2e-'));
	});
	afterAll(() => {
		server?.kill();
		if (scratch) rmSync(scratch, {recursive: true, force: true});
	});

	it('replays a file: list, detail, graph, findings, help, filter, resize; q restores the terminal', async ({expect}) => {
		const t = await server.open(120, 35);
		t.type(`${CMD} ${TRACE} --rules ${RULES}; rc=$?`);
		const list = await t.waitFor(s => s.includes('▶ following · ended'), 'the packet list');
		expect(t.format('#{alternate_on}')).toBe('1');
		const rows = lines(list);
		expect(rows).toHaveLength(34);
		expect(rows[0]).toMatch(/^ tracewatch {2}testdata\/formats\/dmesg-legacy-tcp-udp-icmperr\.log +1 packets {2}2 detail {2}3 graph {2}4 findings \d+$/);
		expect(rows[1]).toMatch(/^ {2}# TIME {5}PROTO SRC → DST +FINAL +VERDICT IN→OUT +NAT R/);
		expect(rows[2]).toMatch(/^ #1 1764\.322 TCP {3}198\.19\.250\.1:40664 → 198\.19\.250\.2:8080 +raw:OUTPUT +ACCEPT +-→twfa0 +✗/);
		expect(rows[6]).toMatch(/^›#5 1764\.954 UDP {3}198\.19\.250\.1:52485 → 198\.19\.250\.2:9999 +filter:TW-DROP +DROP +twfb0→- +✗/);
		expect(rows[33]).toMatch(/^ lines 14 · packets 5 · unparsed 0 · ▶ following · ended · \? help/);
		// Colour by verdict: DROP red, ACCEPT green.
		const coloured = t.screen(true);
		expect(coloured).toMatch(/\u001B\[[0-9;]*31m[^\n]*#5 /);
		expect(coloured).toMatch(/\u001B\[[0-9;]*32m[^\n]*#1 /);

		t.keys('k', 'k', 'k', 'Enter');
		const detail = await t.waitFor(s => s.includes('hop 1/'), 'the detail view');
		expect(detail).toMatch(/^#2 {2}TCP 198\.19\.250\.1:40664 → 198\.19\.250\.2:8080 \[SYN\]/m);
		expect(detail).toMatch(/^PREROUTING\n› raw:PREROUTING +policy:3 +ACCEPT +-P PREROUTING ACCEPT\nINPUT\n {2}filter:INPUT +rule:1 +TW-CHAIN +-A INPUT -p tcp/m);
		expect(detail).toContain('❚❚ paused (3 below)');

		t.keys('3');
		const graph = await t.waitFor(s => s.includes('● path of #2'), 'the graph view');
		expect(graph).toMatch(/^PREROUTING +INPUT +OUTPUT/m);
		expect(graph).toMatch(/├─1→ ● filter:TW-CHAIN 1/);
		expect(graph).toMatch(/└─1→ ○ filter:TW-DROP 1/);

		t.keys('4');
		await t.waitFor(s => /^›. (info|warning|error) /m.test(s) || s.includes(' no findings'), 'the findings view');

		t.keys('?');
		const help = await t.waitFor(s => /^ Keys$/m.test(s), 'the help');
		expect(help).toContain('Filter (/): all terms must match');
		t.keys('Escape');
		await t.waitFor(s => !/^ Keys$/m.test(s) && s.includes('4 findings'), 'the help closed');
		t.keys('Escape');
		await t.waitFor(s => /^›#2 /m.test(s), 'the list again');

		t.keys('/', 'u', 'd', 'p');
		const typing = await t.waitFor(s => s.includes('/ udp') && s.includes('2 of 5 packets'), 'the filter line');
		expect(typing).not.toMatch(/#1 /);
		t.keys('Enter');
		await t.waitFor(s => s.includes('filter "udp" 2/5'), 'the applied filter');
		t.keys('Escape');
		await t.waitFor(s => /^ #1 /m.test(s) && !s.includes('filter "'), 'the filter cleared');

		t.resize(80, 24);
		const narrow = await t.waitFor(s => lines(s).length === 23 && /^ lines 14 · packets 5/m.test(lines(s)[22]!) && /^ tracewatch .* 4 findings \d+$/.test(lines(s)[0]!), 'the list at 80×24');
		for (const l of lines(narrow)) expect([...l].length).toBeLessThanOrEqual(80);
		expect(lines(narrow)).toHaveLength(23);

		t.keys('q');
		const after = await t.waitFor(promptBack, 'the prompt');
		expect(after).toMatch(/^tracewatch: 5 packet\(s\) from 14 line\(s\)$/m);
		await expectRestored(expect, t);
	});

	it('reads a live pipe with keys from the terminal; Ctrl-C restores it', async ({expect}) => {
		const t = await server.open(100, 30);
		// The first two packets (lines 1-7), then nothing until the test has looked (the shell
		// blocks reading a named pipe the test writes to), then the rest.
		const go = join(scratch, 'go');
		expect(spawnSync('mkfifo', [go]).status).toBe(0);
		t.type(`{ head -n 7 ${TRACE}; read -r _ < ${go}; tail -n +8 ${TRACE}; } | ${CMD} --rules ${RULES}; rc=$?`);
		const early = await t.waitFor(s => s.includes('(stdin)') && s.includes('packets 2'), 'the first packets');
		expect(early).not.toContain('ended');
		expect(early).toContain('▶ following');
		expect(early).toMatch(/^›#2 .*TCP/m);
		t.keys('g');
		await t.waitFor(s => s.includes('❚❚ paused') && /^›#1 /m.test(s), 'paused by a key from the terminal');
		// The reader is there (a non-blocking open for writing fails with ENXIO if not).
		const fifo = openSync(go, constants.O_WRONLY | constants.O_NONBLOCK);
		writeSync(fifo, 'go\n');
		closeSync(fifo);
		const all = await t.waitFor(s => s.includes('packets 5') && s.includes('ended'), 'the rest of the input');
		expect(all).toMatch(/^›#1 /m);
		expect(all).toContain('❚❚ paused (4 below)');
		t.keys('Enter');
		await t.waitFor(s => s.includes('hop 1/') && /^#1 {2}TCP/m.test(s), 'the detail of #1');
		t.keys('C-c');
		await expectRestored(expect, t);
	});

	it('without a terminal for keys: says so, ends with the input, leaves the last frame', skipWhen(noSetsid, 'the no-terminal test'), async ({expect}) => {
		const t = await server.open(100, 30);
		t.type(`cat ${TRACE} | setsid -w ${CMD} --rules ${RULES}; rc=$?`);
		const s = await t.waitFor(x => promptBack(x) && x.includes('no keys: no terminal'), 'the view to end with the input');
		expect(s).toMatch(/^›#5 .*DROP/m);
		expect(s).toContain('ended · no keys: no terminal');
		await expectRestored(expect, t);
	});

	it('SIGTERM: the terminal is restored, then the process dies of the signal', async ({expect}) => {
		const t = await server.open(100, 30);
		t.type(`${CMD} ${TRACE}; rc=$?`);
		await t.waitFor(s => s.includes('▶ following · ended'), 'the packet list');
		const pid = childOf(t.shellPid);
		expect(pid).toBeTypeOf('number');
		process.kill(pid!, 'SIGTERM');
		await expectRestored(expect, t, '143');
	});

	it('two nodes (broken): node #id in a NODE column, the journey in the detail, o to the other end', async ({expect}) => {
		const t = await server.open(120, 45);
		t.type(`${CMD} replay ${nodeArgs('broken')}; rc=$?`);
		const list = await t.waitFor(s => s.includes('▶ following · ended'), 'the packet list of both nodes');
		const rows = lines(list);
		expect(rows[0]).toMatch(/^ tracewatch .*node-a\/dmesg-T\.log .*node-b\/dmesg-T\.log +1 packets {2}2 detail {2}3 graph {2}4 findings 2$/);
		expect(rows[1]).toMatch(/^ NODE {4}# TIME {5}PROTO SRC → DST/);
		expect(list).toMatch(/^ node-a #1 16:44:12 ICMP +198\.19\.1\.2 → 198\.19\.2\.2 +nat:POSTROUTING +ACCEPT +vethpa1→flannel\.1 /m);
		expect(list).toMatch(/^ node-b #2 16:44:12 ICMP +198\.19\.1\.2 → 198\.19\.2\.2 +filter:FORWARD +DROP +flannel\.1→vethpb1 /m);
		expect(list).toMatch(/^›node-b #8 /m);
		expect(list).toContain('lines 110 · packets 16 · unparsed 0');

		t.keys('g', 'Enter');
		const detail = await t.waitFor(s => s.includes('hop 1/10'), 'the detail of node-a #1');
		expect(detail).toMatch(/^node-a #1 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request id=28781 seq=1/m);
		expect(detail).toMatch(/^crossed node-a #1 ─flannel\.1─▶ node-b #2 DROP {3}o node-b #2 · w outer node-a #2$/m);
		expect(detail).toMatch(/^═ wire {2}VXLAN over flannel\.1 {2}198\.18\.100\.1 → 198\.18\.100\.2 {2}outer node-a #2 ⇒ node-b #1\n▶ node-b #2 {2}arrived by flannel\.1 {2}DROP$/m);
		t.keys('o');
		const there = await t.waitFor(s => s.includes('hop 1/7') && s.includes('node-b #2: the same packet at another node'), 'the detail of node-b #2');
		expect(there).toMatch(/^node-b #2 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request id=28781 seq=1/m);
		expect(there).toMatch(/^ {2}filter:FORWARD +policy:2 +DROP +-P FORWARD DROP\n◀ reply {2}none crossed back$/m);
		t.keys('q');
		const after = await t.waitFor(promptBack, 'the prompt');
		expect(after).toMatch(/^tracewatch: 16 packet\(s\) from 110 line\(s\)$/m);
		await expectRestored(expect, t);
	});

	it('two nodes (broken): findings across nodes with their node, Enter to their packets, node: with another term', async ({expect}) => {
		const t = await server.open(120, 40);
		t.type(`${CMD} replay ${nodeArgs('broken')}; rc=$?`);
		await t.waitFor(s => s.includes('▶ following · ended') && s.includes('findings 2'), 'the packet list of both nodes');
		t.keys('4');
		const findings = await t.waitFor(s => /^›✖ error {3}dropped-at-peer node-b /m.test(s), 'the findings across nodes');
		expect(findings).toMatch(/^ ✖ error {3}dropped-at-peer node-b 2 packets TCP 198\.19\.1\.2:51168 → 198\.19\.2\.2:8080 \[SYN\]/m);
		t.keys('Enter');
		const peer = await t.waitFor(s => s.includes('filter "node:node-b id:2,4" 2/16'), 'the packets of the finding');
		expect(peer).toMatch(/^›node-b #2 .*DROP/m);
		expect(peer).toMatch(/^ node-b #4 .*DROP/m);
		expect(peer).not.toMatch(/^ node-a #/m);

		// Escape alone, seen to clear the filter, before '/': ESC and a key sent together read as Alt+key.
		t.keys('Escape');
		await t.waitFor(s => !s.includes('Esc clears the filter') && s.includes('packets 16'), 'the filter cleared');
		t.keys('/');
		for (const c of 'node:node-a udp') t.keys(c === ' ' ? 'Space' : c);
		await t.waitFor(s => s.includes('/ node:node-a udp') && s.includes('4 of 16 packets'), 'the filter line');
		t.keys('Enter');
		const onA = await t.waitFor(s => s.includes('filter "node:node-a udp" 4/16'), 'the applied filter');
		expect(lines(onA).filter(l => /^[ ›]node-/.test(l)).map(l => l.slice(1, 10))).toEqual(['node-a #2', 'node-a #4', 'node-a #6', 'node-a #8']);
		t.keys('q');
		await expectRestored(expect, t);
	});

	it('two nodes (working): the reply\'s way back in the detail, r to the reply', async ({expect}) => {
		const t = await server.open(170, 70);
		t.type(`${CMD} replay ${nodeArgs('working')}; rc=$?`);
		await t.waitFor(s => s.includes('▶ following · ended') && s.includes('packets 40'), 'the packet list of both nodes');
		t.keys('g', 'Enter');
		const detail = await t.waitFor(s => s.includes('hop 1/10'), 'the detail of node-a #1');
		expect(detail).toMatch(/^crossed node-a #1 ─flannel\.1─▶ node-b #2 ACCEPT {3}o node-b #2 · w outer node-a #2 · r reply node-a #4$/m);
		expect(detail).toMatch(/^◀ reply {2}node-b #3 ─flannel\.1─ VXLAN 198\.18\.100\.2 → 198\.18\.100\.1 \(node-b #4 ⇒ node-a #3\) ─▶ node-a #4 {2}ACCEPT {2}ICMP 198\.19\.2\.2 → 198\.19\.1\.2 echo-reply seq=1$/m);
		t.keys('r');
		const reply = await t.waitFor(s => /^node-a #4 {2}ICMP/m.test(s), 'the detail of the reply');
		expect(reply).toMatch(/^in flannel\.1 → out vethpa1 {3}verdict ACCEPT {3}answers #1/m);
		expect(reply).toMatch(/^◀ request {2}node-a #1 ─flannel\.1─ /m);
		t.keys('q');
		await expectRestored(expect, t);
	});

	it('a central log piped in is split by host, bounded by --keep', async ({expect}) => {
		const t = await server.open(120, 30);
		// On a terminal with nothing piped in, nodes given only their rulesets have no trace to read.
		t.type(`${CMD} replay --node node-a=testdata/nodes/broken/node-a/iptables.save; echo "rc=$?"`);
		const refused = await t.waitFor(s => /^rc=\d+$/m.test(s), 'the refusal');
		expect(refused).toContain('--node node-a: no trace among');
		expect(refused).toMatch(/^rc=2$/m);
		t.type('clear');
		await t.waitFor(s => !s.includes('rc=2'), 'the screen cleared');
		t.type(`cat testdata/nodes/broken/central-kern.log | ${CMD} --keep 5 --node node-a=testdata/nodes/broken/node-a/iptables.save --node node-b=testdata/nodes/broken/node-b/iptables.save; rc=$?`);
		const live = await t.waitFor(s => s.includes('(stdin)') && s.includes('ended') && s.includes('findings 2'), 'the central log read');
		expect(live).toContain('lines 110 · packets 16 (11 older dropped)');
		expect(lines(live).filter(l => /^[ ›]node-[ab] +#\d+ /.test(l))).toHaveLength(5);
		expect(live).toMatch(/^›node-b #8 .*DROP/m);
		t.keys('q');
		await expectRestored(expect, t);
	});

	it('agents\' records read back open as a trace, their journeys linked again', async ({expect}) => {
		const t = await server.open(120, 30);
		const records = join(scratch, 'records.ndjson');
		t.type(`${CMD} replay ${nodeArgs('broken')} --format ndjson > ${records} && ${CMD} replay ${records}; rc=$?`);
		const back = await t.waitFor(s => s.includes('▶ following · ended') && s.includes('packets 16'), 'the records read back');
		expect(back).toMatch(/^ NODE {4}# /m);
		expect(back).toMatch(/^ node-a #1 .*ICMP +198\.19\.1\.2 → 198\.19\.2\.2 /m);
		expect(back).toMatch(/^›node-b #8 .*TCP /m);
		t.keys('g', 'Enter');
		await t.waitFor(s => /^crossed node-a #1 ─flannel\.1─▶ node-b #2 /m.test(s), 'the journey linked again from the records');
		t.keys('q');
		await expectRestored(expect, t);
	});

	it('NO_COLOR: no colours, the same text', async ({expect}) => {
		const t = await server.open(100, 30);
		t.type(`NO_COLOR=1 ${CMD} ${TRACE}; rc=$?`);
		await t.waitFor(s => s.includes('▶ following · ended'), 'the packet list');
		const s = t.screen(true);
		expect(s).toContain('#5 1764.954');
		// Bold and inverse may stay; no foreground or background colour.
		expect(s).not.toMatch(/\u001B\[[0-9;]*(3[0-7]|4[0-7]|38;|48;|9[0-7])m/);
		t.keys('q');
		await expectRestored(expect, t);
	});
});
