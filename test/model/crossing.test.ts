/**
 * Where a packet stands on its way between nodes, as the view store answers it, on the real
 * two-node capture (testdata/nodes/working: pings and a TCP connection from pod A on node-a to
 * pod B on node-b, every reply back over the same VXLAN), and the store's bounds.
 */
import {describe, expect, it} from 'vitest';
import type {FleetSummary, Journey} from '../../src/model/fleet.js';
import type {Packet} from '../../src/model/types.js';
import {Fleet} from '../../src/model/fleet.js';
import {TraceStore} from '../../src/model/store.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {fleetFrom, NODES, read} from '../ui/support.js';

const name = (r: {node: string; id: number} | undefined) => (r ? `${r.node} #${r.id}` : '-');
const line = (j: Journey) => `${name(j.from)} (${name(j.wire.outer?.sent)} ⇒ ${name(j.wire.outer?.received)}) ${name(j.to)} ${j.verdict}`;

describe('the store over a fleet of two nodes', () => {
	const {store, fleet} = fleetFrom({variant: 'working'});
	const s = store.getSnapshot();
	const packet = (node: string, id: number) => s.packets.find(p => p.node === node && p.id === id)!;

	it('keeps every packet by node and id, in the order they came, and every journey', () => {
		expect(s.packets).toHaveLength(40);
		expect(s.nodes).toEqual(['node-a', 'node-b']);
		expect(new Set(s.packets.map(p => s.rowId!(p))).size).toBe(40);
		expect(s.journeys!.map(line)).toEqual([
			'node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT',
			'node-b #3 (node-b #4 ⇒ node-a #3) node-a #4 ACCEPT',
			'node-a #5 (node-a #6 ⇒ node-b #5) node-b #6 ACCEPT',
			'node-b #7 (node-b #8 ⇒ node-a #7) node-a #8 ACCEPT',
			'node-a #9 (node-a #10 ⇒ node-b #9) node-b #10 ACCEPT',
			'node-b #11 (node-b #12 ⇒ node-a #11) node-a #12 ACCEPT',
			'node-a #13 (node-a #14 ⇒ node-b #13) node-b #14 ACCEPT',
			'node-a #15 (node-a #16 ⇒ node-b #15) node-b #16 ACCEPT',
			'node-b #17 (node-b #18 ⇒ node-a #17) node-a #18 ACCEPT',
			'node-a #19 (node-a #20 ⇒ node-b #19) node-b #20 ACCEPT',
		]);
		// The same as the summary's, which the printed formats show.
		expect(s.journeys!.map(line)).toEqual((fleet.summary() as FleetSummary).journeys.map(line));
	});

	it('answers the journey a packet is part of, how, and the other direction\'s', () => {
		const at = (p: Packet) => {
			const c = s.crossing!(p);
			return c ? `${c.role} ${line(c.journey)}${c.other ? ` | ${c.other.is} ${line(c.other.journey)}` : ''}` : 'none';
		};
		// The echo request that left node-a, the same packet at node-b, and the outer packets at each end.
		expect(at(packet('node-a', 1))).toBe('from node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT | reply node-b #3 (node-b #4 ⇒ node-a #3) node-a #4 ACCEPT');
		expect(at(packet('node-b', 2))).toBe('to node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT | reply node-b #3 (node-b #4 ⇒ node-a #3) node-a #4 ACCEPT');
		expect(at(packet('node-a', 2))).toBe('sent node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT');
		expect(at(packet('node-b', 1))).toBe('received node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT');
		// The echo reply: its way back, and the request's way there.
		expect(at(packet('node-a', 4))).toBe('to node-b #3 (node-b #4 ⇒ node-a #3) node-a #4 ACCEPT | request node-a #1 (node-a #2 ⇒ node-b #1) node-b #2 ACCEPT');
		// The SYN-ACK answers the SYN and is answered by the ACK (node-b #14 answers #11): the reply's way is shown.
		expect(at(packet('node-b', 11))).toBe('from node-b #11 (node-b #12 ⇒ node-a #11) node-a #12 ACCEPT | reply node-a #13 (node-a #14 ⇒ node-b #13) node-b #14 ACCEPT');
		// The last ACK answers the FIN that came back; nothing answers it.
		expect(at(packet('node-a', 19))).toBe('from node-a #19 (node-a #20 ⇒ node-b #19) node-b #20 ACCEPT | request node-b #17 (node-b #18 ⇒ node-a #17) node-a #18 ACCEPT');
	});

	it('has each journey as the fleet links it, before the input ends', () => {
		const nodes = NODES.map(n => ({name: n, rules: []}));
		let clock = 0;
		const f = new Fleet({nodes, windowSeconds: 1, idleMs: 40, now: () => clock});
		const live = new TraceStore(f, {now: () => clock});
		const linked: Journey[] = [];
		f.on(e => e.type === 'journey' && linked.push(e.journey));
		for (const n of NODES) {
			const path = `testdata/nodes/working/${n}/dmesg-T.log`;
			const index = f.addInput(path, n);
			for (const l of parseTraceText(read(path), index)) live.push(l);
		}
		live.flush();
		// All within one second of log time: nothing has settled, so nothing is linked yet.
		expect(live.getSnapshot().journeys ?? []).toEqual([]);
		// The input goes quiet (as a live pipe does): the packets settle on the clock and are linked, input not ended.
		// The clock is the test's own (`now`), moved by hand: no time passes, nothing waits.
		for (let i = 0; i < 3; i++) {
			clock += 10_000;
			live.tick();
		}
		live.flush();
		const before = live.getSnapshot();
		expect(before.ended).toBe(false);
		expect(before.journeys!.map(line)).toEqual(s.journeys!.map(line));
		expect(new Set(linked.map(j => name(j.from))).size).toBe(10);
		live.end();
		expect(live.getSnapshot().journeys).toHaveLength(10);
	});

	it('keeps at most --keep packets and as many journeys', () => {
		const {store: small} = fleetFrom({variant: 'working', keep: 4});
		const k = small.getSnapshot();
		expect(k.packets).toHaveLength(4);
		expect(k.journeys!.length).toBeLessThanOrEqual(4);
		expect(k.journeys!.map(line).at(-1)).toBe('node-a #19 (node-a #20 ⇒ node-b #19) node-b #20 ACCEPT');
		expect(k.dropped).toBe(36);
	});
});
