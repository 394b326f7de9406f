/**
 * writeJsonText (src/ui/visible.ts) writes exactly what jsonText builds, in pieces, lists made
 * as they are written (lazyList) included: checked on every ruleset of testdata as `rules --format json` prints it, a kube-proxy dump, and values
 * with the corners of JSON.stringify (undefined members, empty containers, nulls in arrays,
 * control characters, a Map).
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {kubeDump} from '../../scripts/bench/kube-dump.js';
import {rulesetTables} from '../../src/parser/rule-data.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {jsonText, lazyList, writeJsonText} from '../../src/ui/visible.js';

function streamed(value: unknown, depth?: number): {text: string; pieces: number} {
	const pieces: string[] = [];
	writeJsonText(value, 2, t => pieces.push(t), depth);
	return {text: pieces.join(''), pieces: pieces.length};
}

function dumps(dir: string): string[] {
	return readdirSync(dir).flatMap(name => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return dumps(path);
		return /\.(save|nft|rules|json)$|iptables|nft-ruleset|-S/.test(name) ? [path] : [];
	});
}

describe('writeJsonText', () => {
	it('writes what jsonText builds, on the corners of JSON.stringify', () => {
		const value = {
			a: undefined,
			b: [1, undefined, () => 0, null, 'x\u001b]0;t\u0007'],
			c: {},
			d: [],
			e: {f: {g: [{h: 1, i: undefined}], j: 'line\nbreak \u202e'}},
			k: new Map([[1, 2]]),
			l: {toJSON: () => 'custom'},
			m: -0,
			n: Number.NaN,
			o: [1, , 3],
			p: [{toJSON: () => undefined}],
		};
		for (const depth of [0, 1, 2, 3, 10]) expect(streamed(value, depth).text).toBe(jsonText(value, 2));
	});

	it('writes every testdata ruleset (the conformance suites aside) as rules --format json did', () => {
		const files = dumps('testdata').filter(f => !f.startsWith('testdata/conformance/') && (!f.endsWith('.json') || readFileSync(f, 'utf8').includes('"nftables"')));
		expect(files.length).toBeGreaterThan(50);
		for (const path of files) {
			const rs = parseRuleset(readFileSync(path, 'utf8'), path);
			const doc = {tracewatch: 1, rulesets: [{path, format: rs.format, problems: rs.problems, tables: rulesetTables(rs)}], findings: []};
			const lazy = {tracewatch: 1, rulesets: [{path, format: rs.format, problems: rs.problems, tables: rulesetTables(rs, lazyList)}], findings: []};
			expect(streamed(lazy).text, path).toBe(jsonText(doc, 2));
			expect(jsonText(lazy, 2), path).toBe(jsonText(doc, 2));
		}
	});

	it('hands a large document over in many pieces, never as one string', () => {
		const rs = parseRuleset(kubeDump({services: 40, endpoints: 5}), 'kube.save');
		const doc = {tracewatch: 1, rulesets: [{tables: rulesetTables(rs)}]};
		const {text, pieces} = streamed(doc);
		expect(text).toBe(jsonText(doc, 2));
		expect(pieces).toBeGreaterThan(5);
	});
});
