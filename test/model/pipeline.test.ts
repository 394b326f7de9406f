/**
 * The pipeline on small literal traces: what it emits and in which order, that emitted packets
 * never change, how later facts travel, and that it keeps only its window.
 */
import {describe, expect, it} from 'vitest';
import {Pipeline, type PipelineEvent, type PipelineOptions} from '../../src/model/pipeline.js';
import type {Packet} from '../../src/model/types.js';
import {matchTraceLine} from '../../src/parser/trace-line.js';

/** One kernel TRACE line of a TCP segment. */
function tcp(o: {t: number; hop: string; in?: string; out?: string; src: string; dst: string; spt: number; dpt: number; id: number; seq: number; ack?: number; flags: string; ttl?: number}): string {
	const stamp = `[${o.t.toFixed(6).padStart(12)}]`;
	return `${stamp} TRACE: ${o.hop} IN=${o.in ?? ''} OUT=${o.out ?? ''} SRC=${o.src} DST=${o.dst} LEN=60 TOS=0x00 PREC=0x00 TTL=${o.ttl ?? 64} ID=${o.id} DF PROTO=TCP SPT=${o.spt} DPT=${o.dpt} SEQ=${o.seq} ACK=${o.ack ?? 0} WINDOW=64240 RES=0x00 ${o.flags} URGP=0`;
}

/** A SYN from 198.18.0.1 to this host's port 80, seen in raw PREROUTING and filter INPUT. */
function syn(t: number, id: number, spt = 40000): string[] {
	const base = {in: 'eth0', src: '198.18.0.1', dst: '198.18.0.2', spt, dpt: 80, id, seq: 1000 + id, flags: 'SYN'};
	return [tcp({...base, t, hop: 'raw:PREROUTING:policy:2'}), tcp({...base, t: t + 0.000001, hop: 'filter:INPUT:policy:1'})];
}

/** This host's SYN-ACK back, seen in raw OUTPUT and filter OUTPUT. */
function synAck(t: number, spt = 40000, id = 0): string[] {
	const base = {out: 'eth0', src: '198.18.0.2', dst: '198.18.0.1', spt: 80, dpt: spt, id, seq: 5000, ack: 1001, flags: 'ACK SYN'};
	return [tcp({...base, t, hop: 'raw:OUTPUT:policy:2'}), tcp({...base, t: t + 0.000001, hop: 'filter:OUTPUT:policy:1'})];
}

interface Run {
	pipeline: Pipeline;
	events: PipelineEvent[];
	push(lines: readonly string[]): void;
	/** Moves the injected clock on. */
	advance(ms: number): void;
}

function run(options: PipelineOptions = {}): Run {
	let clock = 0;
	const pipeline = new Pipeline({now: () => clock, ...options});
	const events: PipelineEvent[] = [];
	pipeline.on(e => events.push(e));
	const input = pipeline.addInput('trace.log');
	let n = 0;
	return {
		pipeline,
		events,
		push(lines) {
			for (const text of lines) pipeline.push(matchTraceLine(text, {input, line: ++n}));
		},
		advance(ms) {
			clock += ms;
			pipeline.tick(clock);
		},
	};
}

const kinds = (events: readonly PipelineEvent[]) => events.filter(e => e.type !== 'progress').map(e => (e.type === 'packet' || e.type === 'settled' ? `${e.type} #${e.packet.id}` : e.type === 'revised' ? `revised #${e.fact.id} ${e.fact.fact}` : e.type));

function isDeeplyFrozen(value: unknown): boolean {
	if (value === null || typeof value !== 'object') return true;
	return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('Pipeline', () => {
	it('hands each packet on when complete, settles it at the end, then sums up', () => {
		const r = run();
		r.push([...syn(100, 1), ...synAck(100.001)]);
		r.pipeline.end();
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2', 'settled #1', 'settled #2', 'end']);
		const [syn1, reply] = r.events.filter(e => e.type === 'settled').map(e => (e as {packet: Packet}).packet);
		expect(syn1).toMatchObject({id: 1, proto: 'TCP', src: '198.18.0.1', dst: '198.18.0.2', in: 'eth0', replySeen: true});
		expect(reply).toMatchObject({id: 2, replyTo: 1});
		const end = r.events.at(-1) as Extract<PipelineEvent, {type: 'end'}>;
		expect(end.summary).toMatchObject({completed: 2, unparsedCount: 0});
		expect(end.summary.inputs[0]).toMatchObject({path: 'trace.log', lines: 4, traceLines: 4});
	});

	it('emits packets deeply frozen, and never changes one after it was emitted', () => {
		const r = run({settleLines: 1_000_000});
		const seen: Array<{packet: Packet; json: string}> = [];
		r.pipeline.on(e => {
			if (e.type === 'packet' || e.type === 'settled') seen.push({packet: e.packet, json: JSON.stringify(e.packet)});
		});
		// The request is handed on before its reply exists: the reply arrives as a later fact.
		r.push(syn(100, 1));
		r.advance(100);
		r.push(synAck(100.5));
		r.advance(100);
		r.pipeline.end();
		expect(seen.length).toBe(4);
		for (const {packet, json} of seen) {
			expect(isDeeplyFrozen(packet)).toBe(true);
			expect(JSON.stringify(packet)).toBe(json);
		}
	});

	it('sends what it learns about a packet already handed on as a revision; the settled packet carries it', () => {
		const r = run();
		r.push(syn(100, 1));
		r.advance(100); // the SYN's lines stopped: it is complete
		const first = (r.events.find(e => e.type === 'packet') as {packet: Packet}).packet;
		expect(first.replySeen).toBe(false);
		r.push(synAck(100.5));
		r.advance(100);
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2', 'revised #1 reply-seen']);
		expect(r.events.find(e => e.type === 'revised')).toMatchObject({fact: {id: 1, fact: 'reply-seen', by: 2}});
		r.pipeline.end();
		const settled = r.events.filter(e => e.type === 'settled').map(e => (e as {packet: Packet}).packet);
		expect(settled[0]).toMatchObject({id: 1, replySeen: true});
		expect(settled[0]).not.toBe(first);
		expect(first.replySeen).toBe(false);
	});

	it('hands packets on in id order when their lines interleave and a later one completes first', () => {
		const r = run();
		const a = syn(100, 1, 40001);
		const b = syn(100.0000005, 2, 40002);
		// #1 starts first but its second line comes last.
		r.push([a[0]!, b[0]!, b[1]!, a[1]!]);
		r.pipeline.end();
		const order = r.events.filter(e => e.type === 'packet').map(e => (e as {packet: Packet}).packet.id);
		expect(order).toEqual([1, 2]);
	});

	it('settles a packet once its window of lines has passed, before the input ends', () => {
		const r = run({settleLines: 4, settleSeconds: 1000});
		// A line more than a second (the grouping window) after a packet's last completes it.
		for (let i = 0; i < 4; i++) r.push(syn(100 + 1.5 * i, 10 + i, 41000 + i));
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2', 'packet #3', 'settled #1']);
	});

	it('settles by log time: three seconds after a packet was handed on, it is final', () => {
		const r = run({settleLines: 1_000_000});
		r.push(syn(100, 1, 40001));
		r.push(syn(102, 2, 40002)); // #1 is complete (a second passed) and handed on at log time 102
		expect(kinds(r.events)).toEqual(['packet #1']);
		r.push(syn(104.5, 3, 40003));
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2']);
		r.push(syn(105.5, 4, 40004));
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2', 'settled #1']);
	});

	it('settles by the clock while live input is quiet', () => {
		const r = run({settleLines: 1_000_000});
		r.push(syn(100, 1));
		r.advance(100);
		expect(kinds(r.events)).toEqual(['packet #1']);
		r.advance(2000);
		expect(kinds(r.events)).toEqual(['packet #1']);
		r.advance(1000);
		expect(kinds(r.events)).toEqual(['packet #1', 'settled #1']);
	});

	it('a reply after the window does not change the settled request, but its flow counts as answered', () => {
		const r = run({settleLines: 1_000_000});
		r.push(syn(100, 1));
		r.push(syn(102, 7, 50000)); // another flow: #1 is handed on at log time 102…
		r.push(syn(106, 8, 50001)); // … and settled at 105 without a reply
		expect(kinds(r.events)).toEqual(['packet #1', 'packet #2', 'settled #1']);
		r.push(synAck(106.5));
		r.pipeline.end();
		const settled = r.events.filter(e => e.type === 'settled').map(e => (e as {packet: Packet}).packet);
		expect(settled.find(p => p.id === 1)?.replySeen).toBe(false);
		expect(settled.find(p => p.id === 4)?.replyTo).toBe(1);
		expect(r.events.some(e => e.type === 'revised')).toBe(false);
		expect(r.pipeline.findings().filter(f => f.kind === 'no-reply').flatMap(f => f.packets)).not.toContain(1);
	});

	it('reports each unparsed line as an event and counts every line', () => {
		const r = run();
		r.push(['[  100.000000] TRACE: raw:PREROUTING:policy:two IN=eth0 OUT= SRC=198.18.0.1', 'some other kernel message', ...syn(100, 1)]);
		r.pipeline.end();
		const unparsed = r.events.filter(e => e.type === 'unparsed');
		expect(unparsed).toHaveLength(1);
		expect(unparsed[0]).toMatchObject({count: 1, line: {path: 'trace.log', line: 1}});
		const end = r.events.at(-1) as Extract<PipelineEvent, {type: 'end'}>;
		expect(end.summary.inputs[0]).toMatchObject({lines: 4, traceLines: 2, skipped: 1, unparsed: 1});
	});

	it('keeps only its window: packets open or unsettled at any time are bounded by the windows, not by the input', () => {
		const r = run({settleLines: 200});
		let unsettled = 0;
		let most = 0;
		r.pipeline.on(e => {
			if (e.type === 'packet') unsettled++;
			else if (e.type === 'settled') unsettled--;
		});
		// A SYN every 10 ms of log time: about 100 are inside the one-second grouping window, and
		// 200 lines (100 packets) inside the settle window.
		for (let i = 0; i < 2000; i++) {
			r.push(syn(100 + i * 0.01, (i % 60000) + 1, 1024 + (i % 60000)));
			most = Math.max(most, unsettled + r.pipeline.open);
		}
		r.pipeline.end();
		expect(unsettled).toBe(0);
		expect(most).toBeGreaterThan(100);
		expect(most).toBeLessThanOrEqual(250);
		expect(r.pipeline.open).toBe(0);
	});
});
