/**
 * The NDJSON schema in the docs and the records tracewatch writes agree: every field a record has
 * on the bundled traces is documented (docs/json.md, docs/nodes.md), every field the docs list is
 * written on some trace, and every field docs/shipping.md maps onto ECS and OpenTelemetry exists.
 */
import {existsSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {Fleet} from '../../src/model/fleet.js';
import {Names} from '../../src/model/names.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {outputView} from '../../src/ui/output.js';
import {plain} from '../../src/ui/text.js';
import {read, ROOT} from '../support/replay.js';

/** The backticked names in the first column of every table under `heading`, up to the next heading. */
function documented(doc: string, heading: string): Set<string> {
	const start = doc.indexOf(`\n${heading}\n`);
	if (start === -1) throw new Error(`no "${heading}" in the docs`);
	const rest = doc.slice(start + heading.length + 2);
	const end = rest.search(/\n#+ /);
	const section = end === -1 ? rest : rest.slice(0, end);
	const names = new Set<string>();
	for (const line of section.split('\n')) {
		const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
		if (!cell || cell.startsWith('field') || cell.startsWith('---')) continue;
		for (const m of cell.matchAll(/`([A-Za-z][\w]*)`/g)) names.add(m[1]!);
	}
	return names;
}

/** Every trace file bundled (kernel logs, monitors, the nodes), as [path, text]. */
function traces(): string[] {
	const out: string[] = [];
	const walk = (dir: string) => {
		for (const name of readdirSync(join(ROOT, dir))) {
			const path = `${dir}/${name}`;
			if (statSync(join(ROOT, path)).isDirectory()) walk(path);
			else if (/\.(log|txt)$/.test(name) && !/golden|README|stderr/.test(name)) out.push(path);
		}
	};
	for (const dir of ['testdata/dmesg', 'testdata/nft', 'testdata/ipv6-captures', 'testdata/nodes', 'testdata/formats']) walk(dir);
	return out;
}

/** The NDJSON records of every bundled trace, as the live agent writes them (revisions too), one node each, plus the two-node journeys. */
function records(): Array<Record<string, unknown>> {
	const all: Array<Record<string, unknown>> = [];
	const names = new Names();
	names.read(read('testdata/names/wifi-no-reply.json'), 'wifi-no-reply.json');
	names.read(read('testdata/nodes/cluster.json'), 'cluster.json');
	const write = (text: string) => {
		for (const line of text.split('\n')) if (line) all.push(JSON.parse(line) as Record<string, unknown>);
	};
	// Replayed (packets in final form) and live (packets as they complete, then revisions).
	for (const live of [false, true]) {
		for (const file of traces()) {
			// With the dump saved beside the trace, when there is one: hops then name their rule's line.
			const dump = file.replace(/[^/]+$/, 'iptables.save');
			const fleet = new Fleet({names, rules: existsSync(join(ROOT, dump)) ? [parseRuleset(read(dump), dump)] : []});
			fleet.on(outputView({format: 'ndjson', live, write, style: plain, inputs: fleet.inputNames}));
			const input = fleet.addInput(file, 'node-a');
			for (const line of parseTraceText(read(file), input)) fleet.push(line);
			fleet.end();
		}
	}
	const two = new Fleet({});
	two.on(outputView({format: 'ndjson', live: false, write, style: plain, inputs: two.inputNames}));
	for (const n of ['node-a', 'node-b']) {
		const input = two.addInput(`testdata/nodes/working/${n}/dmesg-T.log`, n);
		for (const line of parseTraceText(read(`testdata/nodes/working/${n}/dmesg-T.log`), input)) two.push(line);
	}
	two.end();
	return all;
}

describe('the NDJSON records and their docs', () => {
	const json = read('docs/json.md');
	const packetFields = documented(json, '## packets[]');
	const hopFields = documented(json, '### hops[]');
	const journeyFields = documented(read('docs/nodes.md'), '## JSON');
	const all = records();
	const packets = all.filter(r => 'id' in r);
	const revisions = all.filter(r => 'revised' in r);
	const journeys = all.filter(r => 'journey' in r);

	it('every record says its schema version, and is a packet, a revision or a journey', () => {
		expect(packets.length).toBeGreaterThan(500);
		expect(revisions.length).toBeGreaterThan(5);
		// The two-node run's 10 crossings, and each overlay capture's packets through its node's overlay.
		expect(journeys.length).toBeGreaterThan(10);
		for (const r of all) {
			expect(r['tracewatch']).toBe(1);
			expect(['id' in r, 'revised' in r, 'journey' in r].filter(Boolean)).toHaveLength(1);
		}
	});

	it('every field written is documented, and every documented field is written on some trace', () => {
		const written = new Set(packets.flatMap(r => Object.keys(r)).concat(revisions.flatMap(r => Object.keys(r))));
		written.delete('tracewatch');
		expect([...written].filter(f => !packetFields.has(f)).sort()).toEqual([]);
		expect([...packetFields].filter(f => !written.has(f)).sort()).toEqual([]);
		const hopKeys = new Set(packets.flatMap(r => (r['hops'] as Array<Record<string, unknown>>).flatMap(h => Object.keys(h))));
		expect([...hopKeys].filter(f => !hopFields.has(f)).sort()).toEqual([]);
		expect([...hopFields].filter(f => !hopKeys.has(f)).sort()).toEqual([]);
		const journeyKeys = new Set(journeys.flatMap(r => Object.keys(r['journey'] as object)));
		expect([...journeyKeys].filter(f => !journeyFields.has(f) && !['from', 'wire', 'to', 'verdict', 'what', 'toward'].includes(f))).toEqual([]);
	});

	it('every field docs/shipping.md maps onto ECS and OpenTelemetry is a field of the packet records', () => {
		const mapped = documented(read('docs/shipping.md'), '## Fields onto the Elastic Common Schema and OpenTelemetry');
		expect(mapped.size).toBeGreaterThan(10);
		const written = new Set(packets.flatMap(r => Object.keys(r)));
		expect([...mapped].filter(f => !written.has(f))).toEqual([]);
	});
});
