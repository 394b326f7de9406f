/**
 * `diff A B` and `diff B A` mirror each other: the same pairings (working=broken read the other
 * way), the same differences from the other side, on every pair of real dumps bundled in testdata.
 */
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {diffRulesets} from '../../src/model/diff.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {read, ROOT} from '../support/replay.js';

function dumps(): string[] {
	const out: string[] = [];
	for (const top of ['testdata/dmesg', 'testdata/nft', 'testdata/rules']) {
		for (const name of readdirSync(join(ROOT, top))) {
			const inDir = `${top}/${name}/iptables.save`;
			if (existsSync(join(ROOT, inDir)) && read(inDir).trim() !== '') out.push(inDir);
			if (name.endsWith('.save')) out.push(`${top}/${name}`);
		}
	}
	return out.sort();
}

describe('diff is the same read from either side', () => {
	it('on every pair of real dumps: mirrored pairings, mirrored differences', () => {
		const all = dumps().map(p => parseRuleset(read(p), p));
		expect(all.length).toBeGreaterThan(15);
		let pairs = 0;
		for (const [i, a] of all.entries()) {
			for (const b of all.slice(i + 1)) {
				const ab = diffRulesets(a, b);
				const ba = diffRulesets(b, a);
				expect(ab.mappings.map(m => `${m.working}=${m.broken}`).sort()).toEqual(ba.mappings.map(m => `${m.broken}=${m.working}`).sort());
				expect(ab.differences.map(d => `${d.table}:${d.chain}:${d.kind}:${d.working}|${d.broken}`).sort().length).toBe(ba.differences.length);
				expect(ab.differences.map(d => `${d.table}:${d.chain}:${d.working}|${d.broken}`).sort()).toEqual(ba.differences.map(d => `${d.table}:${d.chain}:${d.broken}|${d.working}`).sort());
				pairs++;
			}
		}
		expect(pairs).toBeGreaterThan(100);
	});
});
