/**
 * The interactive view over several nodes, on the real two-node captures (testdata/nodes: pod A
 * on node-a pings pod B on node-b and opens TCP to it over a flannel VXLAN; in `broken` node-b's
 * FORWARD policy drops what comes out of the overlay): each packet named `node #id`, the journey
 * of a packet that crossed in its detail (o / w / r move along it), the findings across nodes
 * with their node, the node: and name filters, and a central log split by host.
 */
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../src/ui/tui/app.js';
import {fleetFrom, KEY, mount, unmountAll} from './support.js';

afterEach(unmountAll);

const rows = (frame: string) => frame.split('\n').filter(l => /^[ ›]node-[ab] +#\d+ /.test(l));
const selected = (frame: string) => frame.split('\n').find(l => l.startsWith('›'));

async function show(source: ReturnType<typeof fleetFrom>['store'], columns = 100, rows = 30) {
	return mount(<App title="two nodes" size={{columns, rows}} source={source} />);
}

describe('two nodes (broken: node-b drops what arrives over the overlay)', () => {
	it('lists each packet as node #id in a NODE column, and the findings across nodes with their node', async () => {
		const {store} = fleetFrom({variant: 'broken'});
		const ui = await show(store);
		const frame = ui.frame();
		expect(frame.split('\n')[1]).toMatch(/^ NODE {4}# PROTO SRC → DST +FINAL +VERDICT IN→OUT +NAT R$/);
		const list = rows(frame);
		expect(list).toHaveLength(16);
		expect(list.filter(l => l.includes('node-a'))).toHaveLength(8);
		expect(list).toContainEqual(expect.stringMatching(/^ node-a #1 ICMP +198\.19\.1\.2 → 198\.19\.2\.2 +nat:POSTROUTING +ACCEPT +vethpa1→flannel\.1 /));
		expect(list).toContainEqual(expect.stringMatching(/^ node-b #2 ICMP +198\.19\.1\.2 → 198\.19\.2\.2 +filter:FORWARD +DROP +flannel\.1→vethpb1 /));
		expect(selected(frame)).toMatch(/^›node-b #8 TCP +198\.19\.1\.2 → 198\.19\.2\.2:8080 +filter:FORWARD +DROP/);
		// The preview names the packet by node and id.
		expect(frame).toMatch(/^node-b #8 TCP 198\.19\.1\.2:51168 → 198\.19\.2\.2:8080 \[SYN\]/m);

		const findings = await ui.press('4');
		expect(findings).toMatch(/^›✖ error {3}dropped-at-peer node-b 2 packets ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request sent from/m);
		expect(findings).toMatch(/^ ✖ error {3}dropped-at-peer node-b 2 packets TCP 198\.19\.1\.2:51168 → 198\.19\.2\.2:8080 \[SYN\]/m);
		expect(findings).toContain(' packets node-b #2 #4   Enter: list them');
		expect(findings).toContain('rule filter:FORWARD (testdata/nodes/broken/node-b/iptables.save:13)  -P FORWARD DROP');
		// Enter: that node's packets, not node-a's of the same ids.
		const listed = await ui.press(KEY.enter);
		expect(rows(listed).map(l => l.slice(1, 10))).toEqual(['node-b #2', 'node-b #4']);
		expect(listed).toContain('filter "node:node-b id:2,4" 2/16');
	});

	it('shows a packet that crossed: its hops at node-a, the wire, its hops at node-b where it was dropped; o goes to the other end', async () => {
		const {store} = fleetFrom({variant: 'broken'});
		const ui = await show(store, 110, 50);
		const detail = await ui.press('g', KEY.enter);
		expect(detail).toMatch(/^node-a #1 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request id=28781 seq=1 ID=15340 /m);
		expect(detail).toMatch(/^crossed node-a #1 ─flannel\.1─▶ node-b #2 DROP {3}o node-b #2 · w outer node-a #2$/m);
		const body = detail.slice(detail.indexOf('▶ node-a #1'));
		// A's hops, then the wire, then B's hops ending in the policy that dropped it, then the way back.
		expect(body).toMatch(/^▶ node-a #1 {2}left by flannel\.1\nPREROUTING\n› raw:PREROUTING +policy:3 +ACCEPT/);
		expect(body).toMatch(/ {2}nat:POSTROUTING +policy:2 +ACCEPT +-P POSTROUTING ACCEPT\n═ wire {2}VXLAN over flannel\.1 {2}198\.18\.100\.1 → 198\.18\.100\.2 {2}outer node-a #2 ⇒ node-b #1\n▶ node-b #2 {2}arrived by flannel\.1 {2}DROP\nPREROUTING\n/);
		expect(body).toMatch(/ {2}filter:FORWARD +policy:2 +DROP +-P FORWARD DROP\n◀ reply {2}none crossed back\n/);
		// j moves among node-a #1's own hops only (10 of them), not node-b's.
		expect(await ui.press('G')).toContain('hop 10/10  nat:POSTROUTING:policy:2');

		const there = await ui.press('o');
		expect(there).toMatch(/^node-b #2 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request id=28781 seq=1 ID=15340 +testdata\/nodes\/broken\/node-b\//m);
		expect(there).toMatch(/^in flannel\.1 → out vethpb1 {3}verdict DROP/m);
		expect(there).toContain('hop 1/7  raw:PREROUTING:policy:3  trace line 7');
		expect(there).toContain('node-b #2: the same packet at another node');
		expect(await ui.press('o')).toMatch(/^node-a #1 {2}ICMP/m);
		// The outer packet carried it: its own hops, then what it carried.
		const outer = await ui.press('w');
		expect(outer).toMatch(/^node-a #2 {2}UDP 198\.18\.100\.1:40534 → 198\.18\.100\.2:8472 ID=54925/m);
		expect(outer).toMatch(/^▶ node-a #2 {2}the outer packet sent: it carried$/m);
		expect(outer).toMatch(/^ {2}node-a #1 ─flannel\.1─ VXLAN 198\.18\.100\.1 → 198\.18\.100\.2 \(node-a #2 ⇒ node-b #1\) ─▶ node-b #2 {2}DROP/m);
	});

	it('filters by node:, alone and with other terms, and by the names --names gives', async () => {
		const {store} = fleetFrom({variant: 'broken', names: true});
		const ui = await show(store);
		const type = async (text: string) => {
			await ui.press('/', ...text);
			return ui.press(KEY.enter);
		};
		const onB = await type('node:node-b');
		expect(rows(onB).every(l => l.slice(1).startsWith('node-b'))).toBe(true);
		expect(onB).toContain('filter "node:node-b" 8/16');
		await ui.press(KEY.escape);
		const icmpOnB = await type('node:node-b icmp');
		expect(rows(icmpOnB).map(l => l.slice(1, 10))).toEqual(['node-b #2', 'node-b #4']);
		await ui.press(KEY.escape);
		const udpNotA = await type('!node:node-a udp');
		expect(rows(udpNotA).map(l => l.slice(1, 10))).toEqual(['node-b #1', 'node-b #3', 'node-b #5', 'node-b #7']);
		await ui.press(KEY.escape);
		// 198.19.2.2 is pod default/pod-b (cluster.json): every inner packet, at both nodes.
		const toPodB = await type('pod:default/pod-b');
		expect(rows(toPodB).map(l => l.slice(1, 10))).toEqual(['node-a #1', 'node-a #3', 'node-b #2', 'node-b #4', 'node-a #5', 'node-a #7', 'node-b #6', 'node-b #8']);
		await ui.press(KEY.escape);
		// A bare name: the pod, in any namespace; with a term of the node it was dropped at.
		const bare = await type('pod-a node:node-b tcp');
		expect(rows(bare).map(l => l.slice(1, 10))).toEqual(['node-b #6', 'node-b #8']);
		await ui.press(KEY.escape);
		// The outer packets carry the nodes' underlay addresses: node node-b is 198.18.100.2.
		const underlay = await type('name:node-b udp node:node-a');
		expect(rows(underlay).map(l => l.slice(1, 10))).toEqual(['node-a #2', 'node-a #4', 'node-a #6', 'node-a #8']);
		await ui.press(KEY.escape);
		const none = await type('node:node-c');
		expect(none).toContain('no packet matches "node:node-c" (16 kept)');
	});

	it('help teaches the node and name terms and the keys along a journey', async () => {
		const {store} = fleetFrom({variant: 'broken'});
		const ui = await show(store, 120, 40);
		const help = await ui.press('?');
		expect(help).toMatch(/^ {2}node: +the node it was traced on: node:node-b/m);
		expect(help).toMatch(/^ {2}pod: svc: +a pod or service it touches \(--names\): pod:default\/web-0 svc:kubernetes/m);
		expect(help).toMatch(/^ {2}across nodes +detail of a packet that crossed: o same packet at the other node · w outer packet · r reply/m);

	});

	it('help scrolls on a terminal too short for it (80×24), its last line saying how', async () => {
		const {store} = fleetFrom({variant: 'broken'});
		const ui = await show(store, 80, 24);
		const first = (await ui.press('?')).split('\n');
		expect(first[1]).toBe(' Keys');
		expect(first.at(-2)).toMatch(/^ ↓ \d+ more line\(s\): j \/ PgDn$/);
		expect(first.join('\n')).not.toContain('typing');
		const last = await ui.press('G');
		expect(last).toMatch(/^ {2}typing +Enter apply · Esc cancel/m);
		expect(last).toMatch(/^ {2}name: +any name it carries/m);
		expect(last).not.toContain('more line(s)');
		expect((await ui.press('g')).split('\n')[1]).toBe(' Keys');
		expect(await ui.press(KEY.escape)).toMatch(/^ NODE /m);
	});
});

describe('two nodes (working: the reply comes back over the overlay)', () => {
	it('shows the reply\'s way back, and r goes to the reply at the same node', async () => {
		const {store} = fleetFrom({variant: 'working'});
		const ui = await show(store, 170, 80);
		const detail = await ui.press('g', KEY.enter);
		expect(detail).toMatch(/^node-a #1 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request id=28272 seq=1/m);
		expect(detail).toMatch(/^crossed node-a #1 ─flannel\.1─▶ node-b #2 ACCEPT {3}o node-b #2 · w outer node-a #2 · r reply node-a #4$/m);
		expect(detail).toMatch(/^◀ reply {2}node-b #3 ─flannel\.1─ VXLAN 198\.18\.100\.2 → 198\.18\.100\.1 \(node-b #4 ⇒ node-a #3\) ─▶ node-a #4 {2}ACCEPT {2}ICMP 198\.19\.2\.2 → 198\.19\.1\.2 echo-reply seq=1$/m);
		const reply = await ui.press('r');
		expect(reply).toMatch(/^node-a #4 {2}ICMP 198\.19\.2\.2 → 198\.19\.1\.2 echo-reply id=28272 seq=1/m);
		expect(reply).toMatch(/^in flannel\.1 → out vethpa1 {3}verdict ACCEPT {3}answers #1/m);
		// The reply arrived at node-a: node-b's hops first, then its own; the request's way there below.
		expect(reply).toMatch(/^▶ node-b #3 {2}left by flannel\.1$/m);
		expect(reply).toMatch(/^═ wire {2}VXLAN over flannel\.1 {2}198\.18\.100\.2 → 198\.18\.100\.1 {2}outer node-b #4 ⇒ node-a #3\n▶ node-a #4 {2}arrived by flannel\.1 {2}ACCEPT$/m);
		expect(reply).toMatch(/^◀ request {2}node-a #1 ─flannel\.1─ .* ─▶ node-b #2 {2}ACCEPT/m);
		expect(await ui.press('r')).toMatch(/^node-a #1 {2}ICMP/m);
	});
});

describe('a central log (rsyslog) of both nodes', () => {
	it('is split by the host each line names: the same packets per node as their own files, and the findings across them', async () => {
		const central = fleetFrom({variant: 'broken', file: 'central-kern.log'}).store.getSnapshot();
		const own = fleetFrom({variant: 'broken'}).store.getSnapshot();
		const byNode = (s: typeof central) => s.packets.map(p => `${p.node} #${p.id} ${p.verdict} ${p.hops.length}`).sort();
		expect(byNode(central)).toEqual(byNode(own));
		expect(central.nodes).toEqual(['node-a', 'node-b']);
		const ui = await show(fleetFrom({variant: 'broken', file: 'central-kern.log'}).store);
		const list = rows(ui.frame());
		expect(list).toHaveLength(16);
		expect(list).toContainEqual(expect.stringMatching(/^ node-b #2 .*ICMP +198\.19\.1\.2 → 198\.19\.2\.2 +filter:FORWARD +DROP/));
		const findings = await ui.press('4');
		expect(findings.match(/dropped-at-peer node-b/g)).toHaveLength(2);
		await ui.press('1', 'g', KEY.enter);
		expect(ui.frame()).toMatch(/^crossed node-a #1 ─flannel\.1─▶ node-b #2 DROP/m);
	});

	it('keeps the NODE column on a narrow terminal, cut like the others', async () => {
		const {store} = fleetFrom({variant: 'working', file: 'central-kern.log'});
		const ui = await show(store, 60, 12);
		const lines = ui.frame().split('\n');
		expect(lines).toHaveLength(11);
		for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
		expect(lines[1]).toMatch(/^ NODE {5}# PRO SRC → DST/);
		expect(lines.find(l => l.startsWith('›'))).toMatch(/^›node-b #20 TCP /);
	});
});

describe('the chain graph with several nodes', () => {
	it('is the selected packet\'s node\'s: node-b\'s FORWARD policy drop, then node-a\'s chains', async () => {
		const {store} = fleetFrom({variant: 'broken'});
		const ui = await show(store, 120, 40);
		const b = await ui.press('3');
		expect(b).toMatch(/^● path of node-b #8 TCP 198\.19\.1\.2:51168 → 198\.19\.2\.2:8080 · node-b's chains/m);
		// node-b's FLANNEL-FWD returns (no accept): the rule node-a has is missing there.
		expect(b).toMatch(/FLANNEL-FWD/);
		await ui.press('1', 'g');
		const a = await ui.press('3');
		expect(a).toMatch(/^● path of node-a #1 ICMP 198\.19\.1\.2 → 198\.19\.2\.2 · node-a's chains/m);
		expect(a).toMatch(/FLANNEL-POSTRTG/);
		expect(b).not.toMatch(/FLANNEL-POSTRTG/);
	});
});

describe('a hostile host name in a central log', () => {
	it('reaches the screen made visible, and its packets keep their own rows and journeys', async () => {
		// A host name the syslog grammar reads: C1 CSI, a bidi override, a zero-width space.
		const hostile = 'nb\u202e\u009b\u200bx';
		const {store} = fleetFrom({variant: 'broken', file: 'central-kern.log', rules: false, edit: t => t.replaceAll(' node-b kernel:', ` ${hostile} kernel:`)});
		const ui = await show(store, 120, 45);
		const frames = [ui.frame(), await ui.press('4'), await ui.press('1', 'g', KEY.enter), await ui.press('o'), await ui.press('3')];
		for (const f of frames) expect(f).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200b]/);
		const shown = frames[0]!.split('\n').filter(l => /^[ ›]nb/.test(l));
		// Eight rows of its own, none lost to node-a's rows of the same ids.
		expect(shown).toHaveLength(8);
		expect(frames[2]).toMatch(/^crossed node-a #1 ─flannel\.1─▶ nb\S+ #2 unknown {3}o nb\S+ #2 · w outer node-a #2$/m);
		expect(frames[3]).toMatch(/^nb\S+ #2 {2}ICMP 198\.19\.1\.2 → 198\.19\.2\.2 echo-request/m);
		expect(frames[3]).toMatch(/^crossed node-a #1 ─flannel\.1─▶ nb\S+ #2 unknown {3}o node-a #1/m);
		expect(frames[4]).toMatch(/^● path of nb\S+ #2 ICMP .*'s chains/m);
	});
});
