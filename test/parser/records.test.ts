/**
 * The kernel's lines unpacked from the records of dmesg -J and of the journal's JSON, JSON-pretty
 * and export forms (src/parser/framing.ts), on real output captured by scripts/capture-journal.sh
 * (testdata/formats/journal: two hosts in tw- namespaces, each with its own journald, and the
 * central journal of both exported as one): the same packets as dmesg gives for the same lines,
 * with each record's time and host; a central export split into its hosts; broken records
 * reported at their line and skipped; records handed on as they end when read live.
 */
import {PassThrough, Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {Fleet, type FleetSummary} from '../../src/model/fleet.js';
import type {Packet} from '../../src/model/types.js';
import {parseTraceText, readTraceLines} from '../../src/parser/line-stream.js';
import type {ParsedLine} from '../../src/parser/types.js';
import {read} from '../support/replay.js';

const J = 'testdata/formats/journal';

/** Each packet as what tracewatch saw of it: its tuple and its hops with their uptime stamps. */
function shape(packets: readonly Packet[]): unknown[] {
	return packets.map(p => ({
		tuple: [p.proto, p.src, p.dst, p.icmp?.type, p.icmp?.seq],
		hops: p.hops.map(h => [`${h.table}:${h.chain}:${h.kind}:${h.num}`, h.logPrefix, h.in, h.out, h.time?.mono]),
	}));
}
const packetsOf = (path: string) => collect([{path, lines: parseTraceText(read(path))}]).packets;

describe('dmesg -J', () => {
	it.each([
		[`${J}/dmesg-J.json`, `${J}/dmesg.log`, 57],
		['testdata/formats/dmesg-J.json', 'testdata/formats/dmesg.log', 2],
	])('%s gives the packets of plain dmesg, at the same times', (json, plain, count) => {
		const packets = packetsOf(json);
		expect(packets).toHaveLength(count);
		expect(shape(packets)).toEqual(shape(packetsOf(plain)));
	});

	it('names the line of each record\'s message; the document\'s own lines are skipped', () => {
		const lines = parseTraceText(read('testdata/formats/dmesg-J.json'));
		expect(lines.map(l => [l.kind, l.ref.line])).toEqual([['skipped', 1], ...[6, 10, 14, 18, 22, 26, 30, 34].map(n => ['event', n]), ['skipped', 36], ['skipped', 37]]);
		expect(lines[1]).toMatchObject({container: 'dmesg-json', event: {type: 'kernel-hop', time: {mono: 1615.720017}}});
	});

	it('a broken record is reported at its line and skipped; the records after it are read', () => {
		const text = read('testdata/formats/dmesg-J.json').replace('"time":  1615.720035,', '"time":  1615.720035');
		const lines = parseTraceText(text);
		expect(lines.filter(l => l.kind === 'event')).toHaveLength(7);
		const bad = lines.find(l => l.kind === 'unparsed');
		// Where JSON.parse stopped: the line after the missing comma.
		expect(bad).toMatchObject({ref: {line: 10}, container: 'dmesg-json'});
		expect(bad?.kind === 'unparsed' && bad.reason).toMatch(/^not a JSON record: /);
	});
});

describe('journalctl -o json, json-pretty, export', () => {
	const forms = ['journal-json', 'journal-json-pretty', 'journal-export'] as const;

	it.each(forms)('node-a.%s gives the packets of its dmesg, with each record\'s wall time and host', form => {
		const path = `${J}/node-a.${form}`;
		const lines = parseTraceText(read(path));
		expect(lines).toHaveLength(83);
		expect(lines.every(l => l.kind === 'event' && 'host' in l.event && l.event.host === 'node-a' && l.event.time?.wall !== undefined)).toBe(true);
		const packets = collect([{path, lines}]).packets;
		expect(packets).toHaveLength(29);
		expect(shape(packets)).toEqual(shape(packetsOf(`${J}/node-a.dmesg.log`)));
	});

	it('the three forms give the same events, at the line of each MESSAGE', () => {
		const events = (form: string) => parseTraceText(read(`${J}/node-a.${form}`)).map(l => (l.kind === 'event' ? l.event : l));
		expect(events('journal-json-pretty')).toEqual(events('journal-json'));
		expect(events('journal-export')).toEqual(events('journal-json'));
		const text = read(`${J}/node-a.journal-export`).split('\n');
		for (const l of parseTraceText(read(`${J}/node-a.journal-export`))) expect(text[l.ref.line - 1]).toMatch(/^MESSAGE=/);
		const pretty = read(`${J}/node-a.journal-json-pretty`).split('\n');
		for (const l of parseTraceText(read(`${J}/node-a.journal-json-pretty`))) expect(pretty[l.ref.line - 1]).toMatch(/^\t"MESSAGE" : /);
	});

	it('a central export of two hosts is split into them: per host, the packets of its own dmesg', () => {
		const fleet = new Fleet({});
		const byNode = new Map<string, Packet[]>();
		let summary: FleetSummary | undefined;
		fleet.on(e => {
			if (e.type === 'settled') byNode.set(e.packet.node ?? '', [...(byNode.get(e.packet.node ?? '') ?? []), e.packet]);
			if (e.type === 'end') summary = e.summary as FleetSummary;
		});
		const input = fleet.addInput(`${J}/central.export`);
		for (const line of parseTraceText(read(`${J}/central.export`), input)) fleet.push(line);
		fleet.end();
		expect(summary!.nodes.map(n => [n.name, n.packets]).sort()).toEqual([
			['node-a', 29],
			['node-b', 28],
		]);
		expect(summary!.inputs[0]).toMatchObject({lines: 163, traceLines: 163, unparsed: 0, container: 'journal-export'});
		expect(shape(byNode.get('node-a')!)).toEqual(shape(packetsOf(`${J}/node-a.dmesg.log`)));
		expect(shape(byNode.get('node-b')!)).toEqual(shape(packetsOf(`${J}/node-b.dmesg.log`)));
	});

	/** The first record of node-a's export, and its MESSAGE. */
	const exported = read(`${J}/node-a.journal-export`);
	const first = exported.slice(0, exported.indexOf('\n\n') + 2);
	const message = /^MESSAGE=(.*)$/m.exec(first)![1]!;
	/** `first` with its MESSAGE written the binary way (as journalctl writes a value that is not printable text) and another binary field before it. */
	function binary(extra: Buffer): Buffer {
		const field = (key: string, data: Buffer) => {
			const size = Buffer.alloc(8);
			size.writeBigUInt64LE(BigInt(data.length));
			return Buffer.concat([Buffer.from(`${key}\n`), size, data, Buffer.from('\n')]);
		};
		const [before, after] = first.split(`MESSAGE=${message}\n`) as [string, string];
		return Buffer.concat([Buffer.from(before), field('_CMDLINE', extra), field('MESSAGE', Buffer.from(message)), Buffer.from(after)]);
	}

	const readBytes = async (bytes: Buffer): Promise<ParsedLine[]> => {
		const out: ParsedLine[] = [];
		await readTraceLines(Readable.from([bytes]), 0, l => out.push(l));
		return out;
	};

	it('export: binary fields are read by their length, a large one without being kept', async () => {
		const expected = parseTraceText(first);
		const big = Buffer.alloc(5 << 20, 0x0a); // 5 MB of line feeds: not lines
		const record = binary(big);
		const lines = await readBytes(Buffer.concat([record, Buffer.from(first)]));
		expect(lines.map(l => l.kind)).toEqual(['event', 'event']);
		expect(lines[0]!.kind === 'event' && lines[0]!.event).toEqual(expected[0]!.kind === 'event' && expected[0]!.event);
		// The second record's MESSAGE is where the file's line count says (every LF counted).
		const lfs = record.filter(b => b === 0x0a).length;
		expect(lines[1]!.ref.line).toBe(lfs + expected[0]!.ref.line);
	});

	it('export: a record cut short is reported at its line; the records after it are read', async () => {
		const cut = first.replace(/^MESSAGE=.*\n/m, 'MESSAGE\n\u0001\u0002');
		const lines = await readBytes(Buffer.from(`${first}${cut}`));
		expect(lines.map(l => l.kind)).toEqual(['event', 'unparsed']);
		expect(lines[1]).toMatchObject({ref: {line: first.split('\n').length - 1 + first.split('\n').findIndex(l => l.startsWith('MESSAGE=')) + 1}, container: 'journal-export'});
		expect(lines[1]!.kind === 'unparsed' && lines[1]!.reason).toBe('binary field MESSAGE cut short by the end of the input');
		const notAField = parseTraceText(`${first}${first.replace('_TRANSPORT=kernel', 'a line that is no field')}${first}`);
		// The broken record is reported once (its line that is no field read as a line of its own), its other fields passed over.
		expect(notAField.map(l => [l.kind, l.ref.line])).toEqual([
			['event', 13],
			['unparsed', 15],
			['skipped', 22],
			['event', 41],
		]);
	});

	it.each([1, 7, 100, 4096])('a stream cut every %i bytes gives the lines of the whole text', async size => {
		const bytes = Buffer.from(read(`${J}/central.export`).slice(0, 20_000));
		const chunks: Buffer[] = [];
		for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
		const out: ParsedLine[] = [];
		await readTraceLines(Readable.from(chunks), 0, l => out.push(l));
		expect(out).toEqual(parseTraceText(bytes.toString('utf8')));
	});

	it('live: each record is handed on as soon as its blank line is read', async () => {
		const records = read(`${J}/node-a.journal-export`).split(/(?<=\n\n)/);
		const live = new PassThrough();
		const seen: ParsedLine[] = [];
		let next: (() => void) | undefined;
		const reading = readTraceLines(live, 0, l => {
			seen.push(l);
			next?.();
		});
		for (const [i, r] of records.slice(0, 5).entries()) {
			const arrived = new Promise<void>(resolve => {
				next = resolve;
			});
			live.write(r);
			await arrived;
			expect(seen).toHaveLength(i + 1);
		}
		live.end();
		await reading;
		expect(seen.map(l => l.kind)).toEqual(['event', 'event', 'event', 'event', 'event']);
	});

	it('a `{` alone in a text log takes no line of it in', () => {
		const dmesg = read(`${J}/node-a.dmesg.log`).split('\n');
		const text = [dmesg[0], '{', ...dmesg.slice(1, 5), '{', '\t"MESSAGE" : "cut here', ...dmesg.slice(5)].join('\n');
		const lines = parseTraceText(text);
		expect(lines.filter(l => l.kind === 'event')).toHaveLength(83);
		expect(lines.filter(l => l.kind !== 'event').map(l => [l.kind, l.ref.line])).toEqual([
			['skipped', 2],
			['unparsed', 7],
		]);
	});

	it('json-pretty: a record that never ends is reported, and the next one read', () => {
		const pretty = read(`${J}/node-a.journal-json-pretty`).split('\n');
		const end = pretty.indexOf('}');
		const text = [...pretty.slice(0, end), ...pretty.slice(end + 1)].join('\n');
		const lines = parseTraceText(text);
		expect(lines[0]).toMatchObject({kind: 'unparsed', ref: {line: 1}, container: 'journal-json'});
		expect(lines.slice(1).every(l => l.kind === 'event')).toBe(true);
		expect(lines).toHaveLength(83);
	});
});
