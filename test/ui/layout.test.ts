/**
 * The text the views are made of, without React: packet rows fitted to a width, hops grouped by
 * hook with their changes, the chain graph laid out, the status line.
 */
import {describe, expect, it} from 'vitest';
import {detailLines} from '../../src/ui/tui/detail-lines.js';
import {fitTuple, ioText, natMark, timeText, truncate, truncateMiddle, width, wrapText} from '../../src/ui/tui/format.js';
import {hooksOfNodes, layoutGraph, pathOf} from '../../src/ui/tui/graph-layout.js';
import {groupHops, kindNum} from '../../src/ui/tui/hop-groups.js';
import {fitColumns, headerText, rowText} from '../../src/ui/tui/packet-row.js';
import {statusText} from '../../src/ui/tui/status-bar.js';
import {lineWidth} from '../../src/ui/tui/styled.js';
import {FWD, K3S, LEGACY, WIFI, storeFrom} from './support.js';

const legacy = storeFrom(LEGACY).store.getSnapshot();
const k3s = storeFrom(K3S).store.getSnapshot();
const text = (lines: ReadonlyArray<ReadonlyArray<{text: string}>>) => lines.map(l => l.map(s => s.text).join('').trimEnd()).join('\n');

describe('format', () => {
	it('cuts and fits', () => {
		expect(truncate('nat:POSTROUTING', 8)).toBe('nat:POS…');
		expect(truncateMiddle('cali1a2b3c4d5e6', 7)).toBe('cal…5e6');
		expect(wrapText('-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', 30)).toEqual(['-A FORWARD -m conntrack', '--ctstate RELATED,ESTABLISHED', '-j ACCEPT']);
		expect(wrapText('a b c d e f g h', 3, 2)).toEqual(['a b', 'c …']);
	});

	it('shortens a tuple: the source port goes first', () => {
		const p = {src: '198.19.88.69', spt: 54318, dst: '198.19.96.1', dpt: 443};
		expect(fitTuple(p, 40)).toBe('198.19.88.69:54318 → 198.19.96.1:443');
		expect(fitTuple(p, 30)).toBe('198.19.88.69 → 198.19.96.1:443');
		expect(width(fitTuple(p, 20))).toBeLessThanOrEqual(20);
	});

	it('reads time, NAT and interfaces off real packets', () => {
		expect(legacy.packets.map(timeText)).toEqual(['1764.322', '1764.322', '1764.636', '1764.636', '1764.954']);
		expect(k3s.packets.map(p => natMark(p))).toEqual(['DNAT+MASQ', 'ct', 'ct', 'ct', 'ct', 'ct']);
		expect(natMark(k3s.packets[0]!, true)).toBe('DM');
		expect(ioText(legacy.packets[1]!)).toBe('twfb0→-');
		expect(ioText({...legacy.packets[1]!, in: 'cali1a2b3c4d5e6', out: 'wlp59s0'}, 13)).toBe('cali…→wlp59s0');
	});
});

describe('packet rows', () => {
	it.each([120, 100, 80, 60])('fit %i columns', total => {
		for (const snap of [legacy, k3s]) {
			const cols = fitColumns(total - 1, snap.packets);
			expect(width(headerText(cols))).toBe(total - 1);
			for (const p of snap.packets) expect(width(rowText(p, cols))).toBe(total - 1);
		}
	});

	it('keep every column on an 80-column terminal and give the addresses room', () => {
		const cols = fitColumns(79, k3s.packets);
		expect(cols.map(c => c.key)).toEqual(['id', 'proto', 'tuple', 'final', 'verdict', 'io', 'nat', 'reply']);
		expect(rowText(k3s.packets[0]!, cols)).toMatch(/^#1 TCP 192\.168\.1\.88(:49058)? → 10\.43\.156\.98:9898 +nat:cali-POST\S* +ACCEPT +-→vxlan\.\S* +DM +✗$/);
	});

	it('show the time when there is room', () => {
		const cols = fitColumns(119, legacy.packets);
		expect(headerText(cols)).toMatch(/^ # TIME {5}PROTO SRC → DST +FINAL +VERDICT IN→OUT +NAT R$/);
		expect(rowText(legacy.packets[4]!, cols)).toMatch(/^#5 1764\.954 UDP {3}198\.19\.250\.1:52485 → 198\.19\.250\.2:9999 +filter:TW-DROP +DROP +twfb0→- +✗$/);
	});
});

describe('hops by hook', () => {
	it('groups the legacy DROP packet and names kind:num', () => {
		const groups = groupHops(legacy.packets[4]!);
		expect(groups.map(g => [g.hook, g.hops.map(e => `${e.hop.table}:${e.hop.chain} ${kindNum(e.hop)}`)])).toEqual([
			['PREROUTING', ['raw:PREROUTING policy:3']],
			['INPUT', ['filter:INPUT rule:2', 'filter:TW-DROP return:1']],
		]);
	});

	it('shows the DNAT under the rule that made it and the routing decision where it is first seen', () => {
		const fwd = storeFrom(FWD).store.getSnapshot();
		const syn = fwd.packets[0]!;
		const groups = groupHops(syn);
		const dnat = groups.find(g => g.hook === 'PREROUTING')!.hops.find(e => e.hop.chain === 'TW-SERVICES')!;
		expect(dnat.changes).toEqual([expect.stringMatching(/^DST 198\.18\.30\.10:80 → 198\.18\.20\.2:8080$/)]);
		expect(groups.find(g => g.hook === 'FORWARD')!.hops[0]!.changes).toEqual(['OUT=eth1']);
		const lines = detailLines(syn, fwd.inputs);
		const hops = text(lines.hops);
		expect(hops).toMatch(/^PREROUTING\n {2}raw:PREROUTING +policy:\d+ +ACCEPT +-P PREROUTING ACCEPT/);
		expect(hops).toMatch(/\n {2}nat:TW-SERVICES +rule:1 +DNAT +-A TW-SERVICES -d 198\.18\.30\.10\/32 .*-j DNAT --to-destination 198\.18\.20\.2:8080\n +↳ DST 198\.18\.30\.10:80 → 198\.18\.20\.2:8080\n/);
		expect(hops).toMatch(/\nFORWARD\n {2}mangle:FORWARD +policy:1 +ACCEPT +-P FORWARD ACCEPT\n +↳ OUT=eth1\n/);
		expect(text(lines.header)).toMatch(/\nNAT DNAT 198\.18\.30\.10:80 → 198\.18\.20\.2:8080 at nat:TW-SERVICES:rule:1\n/);
		// The reply: conntrack undid the masquerade (its destination) and will undo the DNAT (its source).
		const reply = fwd.packets.find(p => p.replyTo === syn.id)!;
		expect(text(detailLines(reply, fwd.inputs).header)).toMatch(/\nconntrack reply of #1, destination restored by conntrack 198\.18\.20\.1:\d+ → 198\.18\.10\.2:\d+, source restored by conntrack 198\.18\.20\.2:8080 → 198\.18\.30\.10:80 \(after the last trace point, from #1's NAT\)\n/);
		// The changed fields are in the highlight tone.
		const changed = lines.hops.find(l => l.some(s => s.text.includes('↳')))!;
		expect(changed.every(s => s.tone === 'changed')).toBe(true);
	});
});

describe('chain graph', () => {
	it('lays out the legacy trace: hooks left to right, user chains under their caller, counts on edges', () => {
		const path = pathOf(legacy.packets[4]);
		const layout = layoutGraph({graph: legacy.graph, hookOf: hooksOfNodes(legacy.graph), pathNodes: path.nodes, pathEdges: path.edges, width: 120});
		expect(text(layout.lines)).toMatchInlineSnapshot(`
			"PREROUTING           INPUT                              OUTPUT
			● raw:PREROUTING 3   ● filter:INPUT 3 ends 2            ○ raw:OUTPUT 2 ends 1
			⇒ INPUT 3              ├─1→ ○ filter:TW-CHAIN 1         │ 1
			                       └─1→ ● filter:TW-DROP 1 ends 1   ○ filter:OUTPUT 1 ends 1"
		`);
		// The selected packet's path is in the path tone, other chains are not.
		const drop = layout.lines[3]!.find(s => s.text === 'filter:TW-DROP')!;
		const other = layout.lines[2]!.find(s => s.text === 'filter:TW-CHAIN')!;
		expect([drop.tone, other.tone]).toEqual(['path', 'plain']);
		expect(layout.lineOf.get('filter:TW-DROP')).toBe(3);
	});

	it('wraps hooks into bands on a narrow terminal, no line wider than it', () => {
		const path = pathOf(k3s.packets[0]);
		for (const w of [120, 80, 50]) {
			const layout = layoutGraph({graph: k3s.graph, hookOf: hooksOfNodes(k3s.graph), pathNodes: path.nodes, pathEdges: path.edges, width: w});
			for (const l of layout.lines) expect(lineWidth(l)).toBeLessThanOrEqual(w);
			const all = text(layout.lines);
			for (const n of k3s.graph.nodes) expect(all).toContain(n.id.length > 30 ? n.id.slice(0, 20) : n.id);
		}
		const narrow = text(layoutGraph({graph: k3s.graph, hookOf: hooksOfNodes(k3s.graph), pathNodes: path.nodes, pathEdges: path.edges, width: 50}).lines);
		expect(narrow).toMatch(/^OUTPUT\n[^]*\n\nPOSTROUTING\n/);
		expect(narrow).toContain('│ └─1→ ● nat:KUBE-SERVICES 1\n│   └─1→ ● nat:KUBE-SVC-Y4T5L63IYP3YFEBS 1\n');
	});

	it('marks chains a finding points at', () => {
		const layout = layoutGraph({graph: legacy.graph, hookOf: hooksOfNodes(legacy.graph), pathNodes: new Set(), pathEdges: new Set(), marked: new Set(['filter:TW-CHAIN']), width: 120});
		expect(text(layout.lines)).toContain('├─1→ ! filter:TW-CHAIN 1');
	});

	it('draws a capture with deep user chains', () => {
		const wifi = storeFrom(WIFI).store.getSnapshot();
		const path = pathOf(wifi.packets[0]);
		const all = text(layoutGraph({graph: wifi.graph, hookOf: hooksOfNodes(wifi.graph), pathNodes: path.nodes, pathEdges: path.edges, width: 120}).lines);
		expect(all).toMatch(/└─1→ ● nat:KUBE-SERVICES 1/);
		expect(all).toMatch(/⇒ FORWARD 2/);
	});
});

describe('status line', () => {
	const base = {snapshot: legacy, following: true, below: 0, filter: '', shown: 5};
	it('says what was read and where the view is', () => {
		expect(statusText(base, 120).trimEnd()).toBe(' lines 14 · packets 5 · unparsed 0 · ▶ following · ended · ? help');
		expect(statusText({...base, following: false, below: 3, filter: 'udp', shown: 2}, 120).trimEnd()).toBe(' lines 14 · packets 5 · unparsed 0 · ❚❚ paused (3 below) · ended · filter "udp" 2/5 · ? help');
		expect(statusText({...base, noKeys: 'no terminal'}, 120)).toContain('no keys: no terminal');
	});
	it('drops the least important parts when narrow', () => {
		const s = statusText({...base, following: false, below: 3, filter: 'udp', shown: 2, noKeys: 'no terminal'}, 75);
		expect(width(s)).toBe(75);
		expect(s).toContain('packets 5');
		expect(s).toContain('paused');
		expect(s).toContain('no keys: no terminal');
		expect(s).not.toContain('unparsed');
	});
	it('shows read progress of a large file and the packets no longer kept', () => {
		const reading = {...legacy, ended: false, bytesRead: 420, bytesTotal: 1000, dropped: 1200, completed: 1205, open: 2, rate: 15300};
		expect(statusText({...base, snapshot: reading}, 140)).toContain('packets 1.2k (2 open, 1.2k older dropped) · unparsed 0 · 15k lines/s · ▶ following · reading 42% [####......]');
	});
});

describe('title', () => {
	it('shortens long paths to what identifies them', async () => {
		const {shortTitle} = await import('../../src/ui/tui/title-bar.js');
		const t = 'testdata/dmesg/wifi-no-reply/dmesg-T.log';
		expect(shortTitle(t, 60)).toBe(t);
		expect(shortTitle(t, 30)).toBe('wifi-no-reply/dmesg-T.log');
		expect(shortTitle(t, 12)).toBe('dmesg-T.log');
		expect(shortTitle(t, 8)).toBe('dmes…log');
		expect(shortTitle('x/a/b/c.log y/d/e/f.log', 15)).toBe('b/c.log e/f.log');
		expect(shortTitle('x/a/b/c.log y/d/e/f.log', 12)).toBe('c.log f.log');
	});
});
