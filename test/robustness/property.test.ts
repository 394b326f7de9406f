/**
 * Bad input never crashes and never loses a line: real trace lines from testdata and the public
 * corpus, mutated the way logs get damaged (cut anywhere, spaces lost or doubled, bytes flipped,
 * NUL and binary junk, CRLF, huge fields, invalid numbers and addresses, lines of different
 * packets and formats interleaved), checked with fast-check.
 *
 * TRACEWATCH_FUZZ_RUNS sets the number of single-line cases (default 2500 in `npm test`;
 * `npm run fuzz` runs 100,000); the sequence property runs a tenth of that many sequences of up
 * to 24 lines.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {matchTraceLine} from '../../src/parser/trace-line.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {renderPacket} from '../../src/ui/text.js';
import {packetJson} from '../../src/ui/json.js';
import {ROOT} from '../support/replay.js';

const RUNS = Number(process.env['TRACEWATCH_FUZZ_RUNS'] ?? 2500);

function files(dir: string): string[] {
	const out: string[] = [];
	for (const name of readdirSync(dir)) {
		const p = `${dir}/${name}`;
		if (statSync(p).isDirectory()) out.push(...files(p));
		else if (/\.(log|txt)$/.test(name) && !name.endsWith('.golden.txt') && !p.includes('/rules/')) out.push(p);
	}
	return out;
}

const lines = [
	...new Set(
		[`${ROOT}testdata/dmesg`, `${ROOT}testdata/nft`, `${ROOT}testdata/corpus`, `${ROOT}testdata/formats`]
			.flatMap(files)
			.flatMap(f => readFileSync(f, 'utf8').split('\n'))
			.filter(l => l.length > 0),
	),
];
const ruleLines = [...new Set(files(`${ROOT}testdata`).length ? readFileSync(`${ROOT}testdata/rules/node-working.save`, 'utf8').split('\n') : [])];

/** One way a log line gets damaged. */
const mutation = fc.oneof(
	fc.record({kind: fc.constant('truncate'), at: fc.nat()}),
	fc.record({kind: fc.constant('drop-space'), at: fc.nat()}),
	fc.record({kind: fc.constant('double-space'), at: fc.nat()}),
	fc.record({kind: fc.constant('flip'), at: fc.nat(), byte: fc.integer({min: 0, max: 255})}),
	fc.record({kind: fc.constant('insert'), at: fc.nat(), junk: fc.oneof(fc.constant('\u0000'), fc.constant('\r'), fc.constant('\u001B[31m'), fc.string({unit: 'binary', maxLength: 8}))}),
	fc.record({kind: fc.constant('crlf')}),
	fc.record({kind: fc.constant('huge-field'), at: fc.nat(), times: fc.integer({min: 100, max: 4000})}),
	fc.record({kind: fc.constant('bad-number'), at: fc.nat(), value: fc.oneof(fc.constant('99999999999999999999999'), fc.constant('-1'), fc.constant('0x'), fc.constant('NaN'), fc.constant(''))}),
	fc.record({kind: fc.constant('bad-address'), value: fc.oneof(fc.constant('444.333.222.111'), fc.constant('1.2.3'), fc.constant('::::'), fc.constant('2001:db8::g'), fc.constant(''))}),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(line: string, m: Mutation): string {
	const at = 'at' in m ? m.at % (line.length + 1) : 0;
	switch (m.kind) {
		case 'truncate':
			return line.slice(0, at);
		case 'drop-space': {
			const i = line.indexOf(' ', at);
			return i === -1 ? line : line.slice(0, i) + line.slice(i + 1);
		}
		case 'double-space':
			return line.slice(0, at) + line.slice(at).replace(' ', '  ');
		case 'flip':
			return line.slice(0, at) + String.fromCharCode(m.byte) + line.slice(at + 1);
		case 'insert':
			return line.slice(0, at) + m.junk + line.slice(at);
		case 'crlf':
			return `${line}\r`;
		case 'huge-field': {
			const eq = line.indexOf('=', at);
			return eq === -1 ? line : line.slice(0, eq + 1) + 'x'.repeat(m.times) + line.slice(eq + 1);
		}
		case 'bad-number':
			return line.slice(0, at) + line.slice(at).replace(/\d+/, m.value);
		case 'bad-address':
			return line.replace(/(SRC=|DST=|saddr |daddr )[\d.:a-f]+/, `$1${m.value}`);
	}
}

const damagedLine = fc.tuple(fc.constantFrom(...lines), fc.array(mutation, {minLength: 1, maxLength: 3})).map(([l, ms]) => ms.reduce(apply, l));

describe('damaged trace lines', () => {
	it(`never throw, and each is an event, skipped, a notice, or unparsed with a reason and column (${RUNS} cases)`, () => {
		fc.assert(
			fc.property(damagedLine, fc.integer({min: 1, max: 1_000_000}), (line, n) => {
				const r = matchTraceLine(line, {input: 0, line: n});
				expect(r.ref.line).toBe(n);
				if (r.kind === 'unparsed') {
					expect(r.reason.length).toBeGreaterThan(0);
					expect(r.column).toBeGreaterThanOrEqual(1);
				} else expect(['event', 'skipped', 'notice']).toContain(r.kind);
			}),
			{numRuns: RUNS},
		);
	}, 600_000);

	it(`sequences of damaged and interleaved lines of several packets and formats: every line accounted for, nothing throws down the pipeline (${Math.ceil(RUNS / 10)} sequences)`, () => {
		const rules = [parseRuleset(ruleLines.join('\n'), 'node-working.save')];
		fc.assert(
			fc.property(fc.array(fc.oneof({weight: 3, arbitrary: fc.constantFrom(...lines)}, {weight: 1, arbitrary: damagedLine}), {minLength: 1, maxLength: 24}), seq => {
				const {packets: done, summary} = collect([{path: 'fuzz', lines: seq.map((l, i) => matchTraceLine(l, {input: 0, line: i + 1}))}], {rules});
				const input = summary.inputs[0]!;
				expect(input.lines).toBe(seq.length);
				expect(input.traceLines + input.skipped + input.unparsed).toBe(seq.length);
				for (const p of done) {
					renderPacket(p, summary.inputs);
					JSON.stringify(packetJson(p, summary.inputs));
				}
			}),
			{numRuns: Math.ceil(RUNS / 10)},
		);
	}, 600_000);
});

describe('damaged rulesets', () => {
	it('load with problems reported, never throw', () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(fc.constantFrom(...ruleLines), fc.array(mutation, {maxLength: 2})), {maxLength: 60}), picked => {
				const text = picked.map(([l, ms]) => ms.reduce(apply, l)).join('\n');
				const rs = parseRuleset(text, 'fuzz.save');
				for (const p of rs.problems) expect(p.line).toBeGreaterThanOrEqual(0);
			}),
			{numRuns: Math.ceil(RUNS / 50)},
		);
	});
});
