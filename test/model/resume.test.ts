/**
 * Taking up where a run stopped (Pipeline.resumePoint, Resume; src/cli/agent.ts): a run stopped
 * after any line of a real capture, and a second run that reads again from the first line of the
 * oldest packet the first had not settled, with what the first had written, together write the
 * records of one run that never stopped — at every line it could have stopped after.
 */
import {describe, expect, it} from 'vitest';
import {unwritten} from '../../src/cli/agent.js';
import {Pipeline, type PipelineOptions, type Resume} from '../../src/model/pipeline.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {matchTraceLine} from '../../src/parser/trace-line.js';
import {outputView} from '../../src/ui/output.js';
import {plain} from '../../src/ui/text.js';
import {read} from '../support/replay.js';

/**
 * A pipeline fed `lines` (numbered from `first`), writing ndjson records as a live agent does:
 * after each line in `quiet` (the last of a packet) the input is quiet for a moment and the clock
 * ticks, so the packet is complete and written then, as live. The clock is the pipeline's `now`,
 * moved by hand: no time passes, nothing waits.
 */
function agent(lines: readonly string[], first: number, options: PipelineOptions, quiet: ReadonlySet<number>, resume?: Resume) {
	let clock = 0;
	const pipeline = new Pipeline({...options, now: () => clock, ...(resume ? {resume} : {})});
	const records: string[] = [];
	let emitted = resume?.emitted ?? 0;
	const view = outputView({format: 'ndjson', live: true, write: text => records.push(...text.split('\n').filter(Boolean)), style: plain, inputs: [{path: 'kmsg'}]});
	pipeline.on(unwritten(resume?.emitted ?? 0, view, () => {}));
	pipeline.on(e => {
		if (e.type === 'packet') emitted = Math.max(emitted, e.packet.id);
	});
	const input = pipeline.addInput('kmsg');
	lines.forEach((text, i) => {
		pipeline.push(matchTraceLine(text, {input, line: first + i}));
		clock += 1;
		if (quiet.has(first + i)) pipeline.tick((clock += 100));
	});
	return {pipeline, records, emitted: () => emitted};
}

function everyStop(trace: string, rules: string | undefined, options: PipelineOptions): {stops: number; moved: number} {
	const lines = read(trace).trimEnd().split('\n');
	const opts: PipelineOptions = {...options, ...(rules ? {rules: [parseRuleset(read(rules), rules)]} : {})};
	// Where the input can be quiet: after a line that no packet's lines span (from a replay of the whole trace).
	const spans: Array<[number, number]> = [];
	const replay = new Pipeline(opts);
	replay.on(e => e.type === 'packet' && spans.push([Math.min(...e.packet.hops.map(h => h.ref.line)), Math.max(...e.packet.hops.map(h => h.ref.line))]));
	const input = replay.addInput('kmsg');
	lines.forEach((text, i) => replay.push(matchTraceLine(text, {input, line: i + 1})));
	replay.end();
	const ends = new Set(spans.map(([, last]) => last).filter(k => spans.every(([a, b]) => !(a <= k && k < b))));
	const whole = agent(lines, 1, opts, ends);
	whole.pipeline.end();
	let moved = 0;
	for (let stop = 1; stop <= lines.length; stop++) {
		const before = agent(lines.slice(0, stop), 1, opts, ends);
		const point = before.pipeline.resumePoint();
		const from = point.line ?? stop + 1;
		if (from > 1) moved++;
		// As the state file keeps it: JSON.
		const resume = JSON.parse(JSON.stringify({firstId: point.id, linesBefore: from - 1, emitted: before.emitted(), views: before.pipeline.handedOn()})) as Resume;
		// Restarted, it reads what it read before at once (the input was not quiet in between), then as it comes.
		const after = agent(lines.slice(from - 1), from, opts, new Set([...ends].filter(l => l >= stop)), resume);
		after.pipeline.end();
		// What a restart cannot know (docs/shipping.md): a packet that answers one settled before the
		// resume point does not name it (`replyTo` null), and one of a connection whose first packet
		// settled before it names as the connection's first the first of its packets read again.
		const known = (r: string, i: number, resumed: boolean): string => {
			if (i < before.records.length) return r;
			const w = JSON.parse(whole.records[i] ?? '{}') as {connection?: {first: number}; replyTo?: number | null};
			const o = JSON.parse(r) as {connection?: {first: number}; replyTo?: number | null};
			let changed = false;
			if (w.connection && w.connection.first < point.id) {
				if (resumed && o.connection) expect(o.connection.first).toBeGreaterThanOrEqual(point.id);
				delete o.connection;
				changed = true;
			}
			if (typeof w.replyTo === 'number' && w.replyTo < point.id) {
				if (resumed) expect(o.replyTo).toBeNull();
				delete o.replyTo;
				changed = true;
			}
			return changed ? JSON.stringify(o) : r;
		};
		const got = [...before.records, ...after.records].map((r, i) => known(r, i, true));
		const expected = whole.records.map((r, i) => (i < got.length ? known(r, i, false) : r));
		expect(got, `stopped after line ${stop}, read again from line ${from}`).toEqual(expected);
	}
	return {stops: lines.length, moved};
}

describe('a run stopped after any line and taken up from its resume point writes what one run writes', () => {
	it('two pings and a TCP connection through a node (testdata/nodes/working, /dev/kmsg form)', () => {
		// Settled after 12 lines: the resume point moves on as packets settle.
		const r = everyStop('testdata/nodes/working/node-a/kmsg.log', 'testdata/nodes/working/node-a/iptables.save', {settleLines: 12});
		expect(r.moved).toBeGreaterThan(90);
	});

	it('the same with the default settle window (nothing settles: every restart reads from the first line)', () => {
		const r = everyStop('testdata/nodes/working/node-a/kmsg.log', undefined, {});
		expect(r.moved).toBe(0);
		expect(r.stops).toBe(120);
	});

	it('DNAT, masquerade and their replies (testdata/dmesg/fwd-dnat-masq)', () => {
		const r = everyStop('testdata/dmesg/fwd-dnat-masq/dmesg.log', 'testdata/dmesg/fwd-dnat-masq/iptables.save', {settleLines: 6});
		expect(r.moved).toBeGreaterThan(20);
	});

	it('a drop on the way and ICMP errors (testdata/nodes/broken)', () => {
		everyStop('testdata/nodes/broken/node-b/kmsg.log', 'testdata/nodes/broken/node-b/iptables.save', {settleLines: 10});
	});
});
