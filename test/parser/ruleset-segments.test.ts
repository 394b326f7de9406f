/**
 * The ruleset piece parser never changes a result: every line read in cached pieces
 * (matchRulesetPieces) gives exactly what one whole-line match with `rulesetLine` gives
 * (matchWholeRulesetLine), compared as JSON (key order counts), on every line of testdata,
 * on generated kube-proxy dumps, and on lines built to tempt a wrong cut: every option the
 * grammar names with no value, one value, a value that looks like an option, a "!" before the
 * next option, quoted values holding spaces and dashes. Why it holds: src/parser/rule-segments.ts;
 * the facts it rests on are checked on the grammar in ruleset-piece-rules.test.ts.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import type * as ohm from 'ohm-js';
import {beforeAll, describe, expect, it} from 'vitest';
import {kubeDump} from '../../scripts/bench/kube-dump.js';
import {rulesetGrammar} from '../../src/parser/grammar.js';
import {clearRulesetSegmentCaches, matchRulesetPieces, rulesetSegmentStats} from '../../src/parser/rule-segments.js';
import {matchWholeRulesetLine} from '../../src/parser/ruleset.js';
import {ROOT, testdataFiles} from '../support/segments.js';

const {pexprs} = createRequire(new URL('../../grammar/', import.meta.url))('ohm-js') as typeof ohm;

/** As JSON, key order included (a Cidr holds BigInts). */
function json(value: unknown): string {
	return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Both ways; returns whether the line came apart in pieces. */
function agree(line: string): boolean {
	const pieces = matchRulesetPieces(line);
	if (pieces === undefined) return false;
	const whole = matchWholeRulesetLine(line);
	expect(whole, line).toBeDefined();
	if (json(pieces) !== json(whole)) expect({line, pieces: JSON.parse(json(pieces)) as unknown}).toEqual({line, pieces: JSON.parse(json(whole)) as unknown});
	return true;
}

/** Every option name the grammar reads (the terminals of ruleOption that start with "-"). */
function optionNames(): string[] {
	const names = new Set<string>();
	const go = (e: ohm.PExpr): void => {
		const x = e as ohm.PExpr & {obj?: string; terms?: ohm.PExpr[]; factors?: ohm.PExpr[]; expr?: ohm.PExpr};
		if (e instanceof pexprs.Terminal && x.obj!.startsWith('-')) names.add(x.obj!);
		for (const t of x.terms ?? []) go(t);
		for (const f of x.factors ?? []) go(f);
		if (x.expr) go(x.expr);
	};
	for (const [rule, info] of Object.entries(rulesetGrammar.rules)) if (rule.startsWith('ruleOption') || rule.startsWith('ruleItem')) go(info.body);
	return [...names].sort();
}

describe('ruleset lines read in pieces and whole agree', () => {
	beforeAll(() => clearRulesetSegmentCaches());

	it('on every line of every file in testdata (twice: caches cold, then warm)', () => {
		// Each distinct line once: dumps copied side by side (conformance's pairs) repeat theirs.
		// npm test: every fourth distinct line; npm run fuzz: all.
		const distinct = [...new Set(testdataFiles().flatMap(f => readFileSync(new URL(f, ROOT), 'utf8').split('\n')))];
		const lines = process.env['TRACEWATCH_FUZZ_RUNS'] ? distinct : distinct.filter((_l, i) => i % 4 === 0);
		let inPieces = 0;
		for (let pass = 0; pass < 2; pass++) for (const line of lines) if (agree(line)) inPieces++;
		// The rulesets of testdata hold thousands of rules and chains; most come apart.
		expect(inPieces).toBeGreaterThan(1500);
		const stats = rulesetSegmentStats();
		expect(stats['ruleItem']!.hits).toBeGreaterThan(3000);
		expect(stats['chainName']!.hits).toBeGreaterThan(1000);
	}, 180_000);

	it('on generated kube-proxy dumps', () => {
		clearRulesetSegmentCaches();
		for (const [services, endpoints, seed] of [[150, 3, 1], [40, 12, 2], [5, 1, 3]] as const) {
			const lines = kubeDump({services, endpoints, seed}).split('\n');
			const rules = lines.filter(l => l.startsWith('-A ') || l.startsWith(':'));
			for (const line of rules) expect(agree(line), line).toBe(true);
		}
		// The same comments, matches and targets recur on every service: the caches hit.
		const stats = rulesetSegmentStats();
		expect(stats['ruleItem']!.hits).toBeGreaterThan(stats['ruleItem']!.misses);
	});

	const names = optionNames();
	it('the grammar names the options tried below', () => {
		expect(names.length).toBeGreaterThan(250);
		expect(names).toEqual(expect.arrayContaining(['-j', '-m', '-p', '-s', '--comment', '--tcp-flags', '--match-set', '--chunk-types', '-c']));
	});

	// After FLAG: what may come, and what may follow it.
	const values = ['', ' 1', ' tcp', ' ! 1', ' 10.0.0.1/32', ' -x', ' ! -x', ' !', ' ! x', ' "a -b c"', ' "a\\" -b"', ' a b', ' a -b', ' FIN,SYN SYN', ' x src,dst', ' all DATA', ' 1 2', ' -', ' - -'];
	const after = ['', ' -j ACCEPT', ' ! -p tcp', ' -m comment --comment "x -y"', ' --dport 1', ' ! --syn', ' !', ' x'];
	// `npm test` pairs each value with no follower and one other, in turn (every follower comes
	// after every option with some value); `npm run fuzz` tries every value with every follower.
	const every = Boolean(process.env['TRACEWATCH_FUZZ_RUNS']);
	const followers = (name: number, value: number): readonly string[] => (every ? after : [after[0]!, after[1 + ((name + value) % (after.length - 1))]!]);
	it.each(names.map((name, n) => [name, n] as const))('on %s with values and followers built to tempt a wrong cut', (name, n) => {
		clearRulesetSegmentCaches();
		// Cold caches; `npm run fuzz` reads each line again with warm ones (the testdata case above does both).
		for (let pass = 0; pass < (every ? 2 : 1); pass++) {
			for (const [i, v] of values.entries()) {
				for (const a of followers(n, i)) {
					agree(`-A X ${name}${v}${a}`);
					agree(`[1:2] -A X -p tcp ! ${name}${v}${a}`);
				}
			}
		}
	});

	const tempting: Array<[string, string]> = [
		['a negated first option', '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'],
		['old-style negation', '-A INPUT -s ! 10.0.0.0/8 -p ! tcp -j ACCEPT'],
		['a quoted comment with dashes and an escaped quote', '-A INPUT -m comment --comment "a \\"-j\\" -m x" -j ACCEPT'],
		['a quote that does not close', '-A INPUT -m comment --comment "a -j ACCEPT'],
		['a quote glued to a word', '-A INPUT -m comment --comment "a b"c -j ACCEPT'],
		['a -j with nothing after it', '-A INPUT -p tcp -j'],
		['a -j before another option', '-A INPUT -j -p tcp'],
		['a stray word after a target', '-A INPUT -j ACCEPT extra'],
		['counters in the rule and before it', '[5:300] -A INPUT -c 1 2 -p tcp -c 3 4 -j ACCEPT'],
		['tabs and runs of spaces', '-A\tINPUT  -p\ttcp   -j  ACCEPT'],
		['a trailing space', '-A INPUT -j ACCEPT '],
		['a CR at the end', '-A INPUT -j ACCEPT\r'],
		['--append', '--append INPUT -j ACCEPT'],
		['no options', '-A INPUT'],
		['a chain with counters', ':KUBE-SERVICES - [10:600]'],
		['a chain without counters', ':INPUT ACCEPT'],
		['a chain with a word too many', ':INPUT ACCEPT [0:0] x'],
		['a chain with bad counters', ':INPUT ACCEPT [0:x]'],
		['an empty chain name', ': ACCEPT [0:0]'],
		['a lone !', '-A INPUT -p tcp !'],
		['a ! glued to an option', '-A INPUT !-p tcp'],
		['tcp flags with one list', '-A INPUT -p tcp --tcp-flags SYN -j DROP'],
		['a generic option with a ! and a value', '-A INPUT -m foo --bar ! baz -j ACCEPT'],
	];
	it.each(tempting)('on a line built to tempt a wrong cut: %s', (_name, line) => {
		clearRulesetSegmentCaches();
		agree(line);
		agree(line);
	});

	it('the comparison tells a wrong cut: an item cut inside a quote, or a "!" cut from its option, reads differently', () => {
		const item = (text: string): unknown => {
			const m = matchWholeRulesetLine(`-A X ${text}`);
			return m?.kind === 'append' ? m.items : undefined;
		};
		expect(item('--comment "a -b"')).not.toEqual(item('--comment "a'));
		expect(item('! -s 1.2.3.4')).not.toEqual([...(item('!') as unknown[]), ...(item('-s 1.2.3.4') as unknown[])]);
		// The piece parser does not cut them so.
		expect(agree('-A X -m comment --comment "a -b" ! -s 1.2.3.4')).toBe(true);
	});
});

describe('what the cache keeps', () => {
	it('items are frozen and shared by the lines that repeat them', () => {
		clearRulesetSegmentCaches();
		const a = matchRulesetPieces('-A A -p tcp -m comment --comment "x" -j ACCEPT');
		const b = matchRulesetPieces('-A B -p tcp -m comment --comment "x" -j DROP');
		expect(a?.kind === 'append' && b?.kind === 'append').toBe(true);
		if (a?.kind !== 'append' || b?.kind !== 'append') return;
		expect(a.items[0]).toBe(b.items[0]);
		expect(Object.isFrozen(a.items[0])).toBe(true);
	});
});
