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
