/**
 * The interactive view rendered with ink-testing-library on stores fed real testdata, driven by
 * keys the way a person would: list, detail, graph, findings, help, filter, following a live
 * input, and what the status bar says.
 */
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {Finding} from '../../src/model/findings/types.js';
import {App, type AppProps} from '../../src/ui/tui/app.js';
import {createTheme} from '../../src/ui/tui/theme.js';
import {until} from '../support/wait.js';
import {K3S, KEY, LEGACY, mount, storeFrom, unmountAll, WIFI} from './support.js';

afterEach(unmountAll);

function show(props: Partial<AppProps> & Pick<AppProps, 'source'>, size = {columns: 100, rows: 24}) {
	return mount(<App title="trace.log" size={size} {...props} />, {keys: props.keys !== false});
}

describe('packet list', () => {
	it('shows one row per packet, the newest selected, and a preview of it', async () => {
		const {store} = storeFrom({...LEGACY, findings: false});
		const ui = await show({source: store});
		expect(ui.frame()).toMatchInlineSnapshot(`
			" tracewatch  trace.log                                  1 packets  2 detail  3 graph  4 findings 0
			  # TIME     PROTO SRC → DST                                    FINAL          VERDICT IN→OUT  NAT R
			 #1 1764.322 TCP   198.19.250.1:40664 → 198.19.250.2:8080       raw:OUTPUT     ACCEPT  -→twfa0     ✗
			 #2 1764.322 TCP   198.19.250.1:40664 → 198.19.250.2:8080       filter:INPUT   ACCEPT  twfb0→-     ✗
			 #3 1764.636 UDP   198.19.250.1:48909 → 198.19.250.2:9998       filter:INPUT   ACCEPT  twfb0→-     ✗
			 #4 1764.636 ICMP  198.19.250.2 → 198.19.250.1                  filter:OUTPUT  ACCEPT  -→twfb0     ·
			›#5 1764.954 UDP   198.19.250.1:52485 → 198.19.250.2:9999       filter:TW-DROP DROP    twfb0→-     ✗











			────────────────────────────────────────────────────────────────────────────────────────────────────
			#5 UDP 198.19.250.1:52485 → 198.19.250.2:9999 ID=17748 testdata/formats/dmesg-legacy-tcp-udp-icmper…
			path PREROUTING raw  ▸ INPUT filter (TW-DROP)
			final filter:TW-DROP:return:1 → DROP (filter:TW-DROP:return:1 -j DROP)
			 lines 14 · packets 5 · unparsed 0 · ▶ following · ended · ? help"
		`);
	});

	it.each([
		[80, 24],
		[100, 35],
		[60, 12],
	])('fits a %i×%i terminal: rows − 1 lines, none wider than it', async (columns, rows) => {
		const {store} = storeFrom(K3S);
		const ui = await show({source: store}, {columns, rows});
		for (const keys of [[], [KEY.enter], ['3'], ['4'], ['?'], [KEY.escape, '1', '/', 't', 'c', 'p']]) {
			const frame = await ui.press(...keys);
			const lines = frame.split('\n');
			expect(lines.length).toBe(rows - 1);
			for (const l of lines) expect([...l].length).toBeLessThanOrEqual(columns);
		}
	});

	it('moves with j/k, g/G and pages, and says when it stops following', async () => {
		const {store} = storeFrom({...LEGACY, findings: false});
		const ui = await show({source: store});
		expect(await ui.press('k', 'k')).toMatch(/^›#3 .*UDP/m);
		expect(ui.frame()).toContain('❚❚ paused (2 below)');
		expect(await ui.press('g')).toMatch(/^›#1 /m);
		expect(await ui.press(KEY.down)).toMatch(/^›#2 /m);
		expect(await ui.press(KEY.pageDown)).toMatch(/^›#5 /m);
		expect(await ui.press(KEY.pageUp)).toMatch(/^›#1 /m);
		const following = await ui.press('G');
		expect(following).toMatch(/^›#5 /m);
		expect(following).toContain('▶ following');
	});

	it('keeps the selected packet while a live input goes on, and follows again with G', async () => {
		// Cut the input after the last line of packet #3, as if the rest had not been logged yet.
		const cut = storeFrom(LEGACY).store.getSnapshot().packets[2]!.hops.at(-1)!.ref.line;
		const {store, lines, quiet} = storeFrom({...LEGACY, findings: false, lines: cut});
		quiet();
		const ui = await show({source: store});
		expect(ui.frame()).toMatch(/^›#3 /m);
		expect(ui.frame()).not.toContain('ended');
		await ui.press('k');
		for (const line of lines.slice(cut)) store.push(line);
		store.end();
		const all = await ui.waitFor(/ · ended · /, 'the rest of the input');
		expect(all).toMatch(/^›#2 /m);
		expect(all).toMatch(/^ #5 /m);
		expect(all).toContain('❚❚ paused (3 below)');
		expect(await ui.press('G')).toMatch(/^›#5 /m);
		expect(await ui.press('f')).toContain('❚❚ paused');
		expect(await ui.press(' ')).toContain('▶ following');
	});

	it('stops following when the detail opens, so the detail stays on its packet', async () => {
		const cut = storeFrom(LEGACY).store.getSnapshot().packets[2]!.hops.at(-1)!.ref.line;
		const {store, lines, quiet} = storeFrom({...LEGACY, findings: false, lines: cut});
		quiet();
		const ui = await show({source: store});
		expect(await ui.press(KEY.enter)).toMatch(/^#3 {2}UDP/m);
		for (const line of lines.slice(cut)) store.push(line);
		store.end();
		const after = await ui.waitFor(/ · ended · /, 'the rest of the input');
		expect(after).toMatch(/^#3 {2}UDP/m);
		expect(after).toContain('❚❚ paused (2 below)');
	});

	it('says how much is not kept (--keep) and how far a large file is read', async () => {
		const kept = storeFrom({...LEGACY, keep: 2}).store;
		const ui = await show({source: kept});
		expect(ui.frame()).toContain('packets 5 (3 older dropped)');
		expect(ui.frame()).toMatch(/^ #4 [^]*^›#5 /m);
		expect(ui.frame()).not.toMatch(/#3 /);

		const reading = storeFrom({...LEGACY, lines: 6}).store;
		reading.progress(420, 1000);
		reading.flush();
		const live = await show({source: reading});
		expect(live.frame()).toContain('reading 42% [####......]');
	});

	it('waits for input, then tells when nothing in it was a trace line', async () => {
		const {store} = storeFrom({trace: LEGACY.trace, lines: 0});
		expect((await show({source: store})).frame()).toContain('waiting for trace lines…');
		const none = storeFrom({trace: 'testdata/formats/rules/trace-tcp-udp-legacy-b.save'}).store;
		expect((await show({source: none})).frame()).toMatch(/no packets in \d+ line\(s\): no TRACE or LOG lines found/);
	});
});

describe('packet detail', () => {
	it('opens with Enter: hops by hook with kind:num, target and rule; j moves between hops; [ ] change packet; Esc goes back', async () => {
		const {store} = storeFrom({...LEGACY, findings: false});
		const ui = await show({source: store});
		const detail = await ui.press('k', 'k', 'k', KEY.enter);
		expect(detail).toMatchInlineSnapshot(`
			" tracewatch  trace.log                                  1 packets  2 detail  3 graph  4 findings 0
			#2  TCP 198.19.250.1:40664 → 198.19.250.2:8080 [SYN] ID=43801   testdata/formats/dmesg-legacy-tcp-u…
			in twfb0 → out -   verdict ACCEPT   reply ✗ none seen
			final filter:INPUT:policy:3 → ACCEPT (filter:INPUT:policy:3 -j ACCEPT)
			────────────────────────────────────────────────────────────────────────────────────────────────────
			PREROUTING
			› raw:PREROUTING   policy:3  ACCEPT    -P PREROUTING ACCEPT
			INPUT
			  filter:INPUT     rule:1    TW-CHAIN  -A INPUT -p tcp -m tcp --dport 8080 -m comment --comment "tw…
			  filter:TW-CHAIN  rule:1    LOG       -A TW-CHAIN -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j…
			                   logged "tw-syn:"
			  filter:TW-CHAIN  return:2  RETURN    -A TW-CHAIN -j RETURN
			  filter:INPUT     policy:3  ACCEPT    -A INPUT -j ACCEPT







			hop 1/5  raw:PREROUTING:policy:3  trace line 2  [ 1764.322089]
			dump line 18: -P PREROUTING ACCEPT
			 lines 14 · packets 5 · unparsed 0 · ❚❚ paused (3 below) · ended · ? help"
		`);
		const third = await ui.press('j', 'j');
		expect(third).toMatch(/^› filter:TW-CHAIN +rule:1 +LOG +-A TW-CHAIN/m);
		expect(third).toContain('hop 3/5  filter:TW-CHAIN:rule:1');
		expect(await ui.press('G')).toContain('hop 5/5  filter:INPUT:policy:3');
		expect(await ui.press(']')).toMatch(/^#3 {2}UDP 198\.19\.250\.1:48909/m);
		expect(await ui.press('[', '[')).toMatch(/^#1 {2}TCP .* \[SYN\]/m);
		expect(await ui.press(KEY.escape)).toMatch(/^›#1 /m);
	});

	it('highlights what changed at a hop: the mark and the DNAT under their rules, OUT after routing', async () => {
		const {store} = storeFrom(K3S);
		const ui = await show({source: store}, {columns: 100, rows: 40});
		const detail = await ui.press('g', KEY.enter);
		expect(detail).toMatch(/^#1 {2}TCP 192\.168\.1\.88:49058 → 10\.43\.156\.98:9898 \[SYN\]/m);
		expect(detail).toMatch(/^NAT DNAT 10\.43\.156\.98:9898 → 10\.42\.54\.194:9898 at nat:KUBE-SEP-OYNVDBAPYJ623W6H/m);
		expect(detail).toMatch(/^OUTPUT\n/m);
		expect(detail).toMatch(/^ {2}nat:KUBE-MARK-MASQ +rule +MARK +-A KUBE-MARK-MASQ .*\n +↳ MARK 0 → 0x4000$/m);
		expect(detail).toContain('as traced handle 24: -A OUTPUT -p tcp -m tcp --dport 9898 -j TRACE');
		const end = await ui.press('G');
		expect(end).toMatch(/^POSTROUTING\n/m);
		expect(end).toMatch(/^ +↳ OUT=vxlan\.calico$/m);
		expect(end).toMatch(/^› nat:cali-POSTROUTING +rule +MASQUERADE +-A cali-POSTROUTING -o vxlan\.calico/m);
		expect(end).toContain('hop 40/40');
	});
});

describe('chain graph', () => {
	it('draws the chains the packets took, the selected packet on its path, and follows [ ]', async () => {
		const {store} = storeFrom({...LEGACY, findings: false});
		const ui = await show({source: store});
		// How the graph is laid out is layout.test.ts's golden; here: the view shows it for the selected packet.
		const graph = await ui.press('3');
		expect(graph).toMatch(/^ tracewatch .* 3 graph /m);
		expect(graph).toMatch(/^● path of #5 UDP 198\.19\.250\.1:52485 → 198\.19\.250\.2:9999 · \[ \] other packet$/m);
		expect(graph).toMatch(/^PREROUTING +INPUT +OUTPUT$/m);
		expect(graph).toMatch(/^● raw:PREROUTING 3 +● filter:INPUT 3 ends 2 +○ raw:OUTPUT 2 ends 1$/m);
		expect(graph).toContain('└─1→ ● filter:TW-DROP 1 ends 1');
		expect(graph).toContain('├─1→ ○ filter:TW-CHAIN 1');
		const other = await ui.press('[');
		expect(other).toContain('● path of #4 ICMP');
		expect(other).toMatch(/○ raw:PREROUTING 3 .*● raw:OUTPUT 2/);
	});

	it('scrolls a graph taller than the screen', async () => {
		const {store} = storeFrom(WIFI);
		const ui = await show({source: store}, {columns: 80, rows: 14});
		const shownLines = (frame: string) => frame.match(/ · lines (\d+)-(\d+)\/(\d+) · /)?.slice(1).map(Number);
		const top = await ui.press('3');
		const [first, last, total] = shownLines(top) ?? [];
		expect(first).toBe(1);
		expect(total).toBeGreaterThan(last!);
		expect(top).toMatch(/^PREROUTING\n● raw:PREROUTING 2$/m);
		const down = await ui.press(KEY.pageDown);
		expect(shownLines(down)?.[0]).toBeGreaterThan(1);
		expect(down).not.toMatch(/^● raw:PREROUTING/m);
		expect(down).toMatch(/^FORWARD$/m);
		const back = await ui.press('g');
		expect(shownLines(back)).toEqual([first, last, total]);
		expect(back).toMatch(/^PREROUTING\n● raw:PREROUTING 2$/m);
	});
});

describe('findings', () => {
	const findings = (packets: number[]): Finding[] => [
		{kind: 'dropped', severity: 'error', message: '1 packet UDP 198.19.250.1:52485 → 198.19.250.2:9999 dropped at filter:TW-DROP:return:1', hint: 'Look at the rule.', packets, rules: [{file: 'trace.save', table: 'filter', chain: 'TW-DROP', pos: 1, text: '-A TW-DROP -j DROP', line: 12}]},
		{kind: 'unreferenced-chain', severity: 'info', message: 'filter:TW-CHAIN is never jumped to', hint: 'Remove it.', packets: [], rules: [{table: 'filter', chain: 'TW-CHAIN', pos: null, text: ':TW-CHAIN - [0:0]'}]},
	];

	it('lists them with the selected one in full; Enter shows its packets as a filter, Esc clears it', async () => {
		const {store} = storeFrom({...LEGACY, findings: () => findings([5])});
		const ui = await show({source: store});
		const view = await ui.press('4');
		expect(view).toMatch(/^ tracewatch .* 4 findings 2$/m);
		expect(view).toMatch(/^›✖ error {3}dropped {12}1 packet UDP/m);
		expect(view).toMatch(/^ ● info {4}unreferenced-chain filter:TW-CHAIN is never jumped to/m);
		expect(view).toContain(' hint: Look at the rule.');
		expect(view).toContain(' packets #5   Enter: list them');
		expect(view).toContain(' rule filter:TW-DROP:1 (trace.save:12)  -A TW-DROP -j DROP');
		const list = await ui.press(KEY.enter);
		expect(list).toMatch(/^›#5 .*DROP/m);
		expect(list).not.toMatch(/#4 /);
		expect(list).toContain('dropped: 1 packet(s) · Esc clears the filter');
		expect(list).toContain('filter "id:5" 1/5');
		const all = await ui.press(KEY.escape);
		expect(all).toMatch(/^ #4 /m);
		expect(all).not.toContain('Esc clears the filter');
	});

	it('Enter on a rule finding marks its chains in the graph', async () => {
		const {store} = storeFrom({...LEGACY, findings: () => findings([5])});
		const ui = await show({source: store});
		const graph = await ui.press('4', 'j', KEY.enter);
		expect(graph).toContain('├─1→ ! filter:TW-CHAIN 1');
		expect(graph).toContain('unreferenced-chain: filter:TW-CHAIN marked !');
		expect(await ui.press(KEY.escape)).toMatch(/^›#5 /m);
	});

	it('says so when there are none', async () => {
		const {store} = storeFrom({...LEGACY, findings: () => []});
		const ui = await show({source: store});
		expect(await ui.press('4')).toMatch(/^ no findings$/m);
	});

	it('renders what the trace findings find in a real trace', async () => {
		const {store} = storeFrom(LEGACY);
		const ui = await show({source: store});
		const view = await ui.press('4');
		const n = store.getSnapshot().findings.length;
		expect(view).toMatch(new RegExp(`4 findings ${n}$`, 'm'));
		for (const f of store.getSnapshot().findings) expect(view).toContain(` ${f.kind} `);
	});
});

describe('help, filter, tabs, quitting', () => {
	it('? shows the keys and the filter syntax; Esc closes it', async () => {
		const {store} = storeFrom(LEGACY);
		const ui = await show({source: store});
		const help = await ui.press('?');
		expect(help).toMatch(/^ Keys$/m);
		expect(help).toMatch(/^ {2}views +1 packets · 2 detail · 3 graph · 4 findings$/m);
		expect(help).toMatch(/^ Filter \(\/\): all terms must match; !term negates$/m);
		expect(help).toMatch(/^ {2}port: sport: dport: +port, either side or one side$/m);
		expect(await ui.press(KEY.escape)).toMatch(/^›#5 /m);
	});

	it('/ filters as you type, Enter applies, / again edits, Esc cancels the edit, Esc in the list clears', async () => {
		const {store} = storeFrom({...LEGACY, findings: false});
		const ui = await show({source: store});
		const typing = await ui.press('/', 'u', 'd', 'p');
		expect(typing).toMatch(/^\/ udp {4}2 of 5 packets · Enter apply · Esc cancel$/m);
		expect(typing).toMatch(/^ #3 .*UDP/m);
		expect(typing).not.toMatch(/#1 /);
		const applied = await ui.press(KEY.enter);
		expect(applied).toContain('filter "udp" 2/5');
		// While typing, q and j are text, not keys.
		const edit = await ui.press('/', ' ', 'q', 'j');
		expect(edit).toMatch(/^\/ udp qj {3}0 of 5 packets .* {3}qj: unknown key|^\/ udp qj /m);
		expect(edit).toContain('no packet matches "udp qj"');
		expect(await ui.press(KEY.escape)).toContain('filter "udp" 2/5');
		const cleared = await ui.press(KEY.escape);
		expect(cleared).toMatch(/^ #1 /m);
		expect(cleared).not.toContain('filter "');
		expect(await ui.press('/', 'b', 'o', 'g', 'u', 's', ':', 'x')).toContain('bogus: unknown key');
		expect(await ui.press(KEY.ctrlU, 'd', 'r', 'o', 'p', KEY.backspace, KEY.backspace, KEY.backspace, 'r', 'o', 'p', KEY.enter)).toContain('filter "drop" 1/5');
	});

	it('Tab and Shift-Tab go through the views; the title bar shows which', async () => {
		const {store} = storeFrom(LEGACY);
		const ui = await show({source: store});
		expect(await ui.press(KEY.tab)).toMatch(/^#5 {2}UDP/m);
		expect(await ui.press(KEY.tab)).toContain('● path of #5');
		expect(await ui.press(KEY.tab)).toMatch(/^›. (info|warning|error) /m);
		expect(await ui.press(KEY.tab)).toMatch(/^›#5 /m);
		expect(await ui.press(KEY.shiftTab)).toMatch(/^›. (info|warning|error) /m);
	});

	it('q quits; keys that arrive together are each handled', async () => {
		const {store} = storeFrom(LEGACY);
		const onQuit = vi.fn();
		const ui = await show({source: store, onQuit});
		ui.send('kk');
		await ui.waitFor(/^›#3 /m, 'both k keys of one read to move the selection');
		ui.send('q');
		await until(() => onQuit.mock.calls.length > 0, {what: 'q to call onQuit', show: ui.frame});
		expect(onQuit).toHaveBeenCalledTimes(1);
	});

	it('ends with the input when asked (or when there are no keys), and says there are no keys', async () => {
		const {store, lines} = storeFrom({...LEGACY, lines: 4});
		const onQuit = vi.fn();
		const ui = await show({source: store, onQuit, exitAtEnd: true, keys: false, noKeysReason: 'no terminal'});
		expect(ui.frame()).toContain('no keys: no terminal');
		expect(onQuit).not.toHaveBeenCalled();
		for (const line of lines.slice(4)) store.push(line);
		store.end();
		await until(() => onQuit.mock.calls.length > 0, {what: 'the end of the input to call onQuit', show: ui.frame});
		expect(onQuit).toHaveBeenCalledTimes(1);
	});

	it('asks for a bigger terminal below 8 rows', async () => {
		const {store} = storeFrom(LEGACY);
		expect((await show({source: store}, {columns: 80, rows: 6})).frame()).toContain('the terminal is too small (80×6); it needs 8 rows');
	});
});

describe('theme', () => {
	it('colours verdicts and tones only when colour is on (NO_COLOR)', () => {
		const on = createTheme({color: true});
		const off = createTheme({color: false});
		expect(on.verdict('DROP')).toEqual({color: 'red', bold: true});
		expect(on.verdict('ACCEPT')).toEqual({color: 'green'});
		expect(on.tone('changed')).toEqual({color: 'yellow', bold: true});
		for (const v of ['ACCEPT', 'DROP', 'REJECT', 'unknown'] as const) expect(off.verdict(v)).not.toHaveProperty('color');
		for (const t of ['plain', 'dim', 'bold', 'path', 'mark', 'changed', 'head', 'headPath', 'ok', 'bad', 'warn', 'info'] as const) expect(off.tone(t)).not.toHaveProperty('color');
		expect(off.status()).toEqual({inverse: true});
		expect(off.severity('error')).not.toHaveProperty('color');
	});
});
