/**
 * The facts the segment parser's soundness rests on (src/parser/segments.ts), checked on the
 * grammar itself: every word piece's rule can never match a space or a tab, nor use `end` or
 * `any`; the kernel head never reads past the line's first TRACE:; the line rules still have
 * the shapes segments.ts walks. These fail when someone
 * later adds such a thing to a piece's rule (or to a rule it applies); the checks themselves
 * are shown to catch it on small grammars built for the purpose.
 */
import {createRequire} from 'node:module';
import type * as ohm from 'ohm-js';
import {describe, expect, it} from 'vitest';
import {traceGrammar} from '../../src/parser/grammar.js';
import {PIECES, type PieceRule, WALKED} from '../../src/parser/segments.js';
import {readsPast, wordUnsafe} from './grammar-analysis.js';

const {grammar} = createRequire(new URL('../../grammar/', import.meta.url))('ohm-js') as typeof ohm;

const rules = (cut: string): PieceRule[] => (Object.keys(PIECES) as PieceRule[]).filter(r => PIECES[r].cut === cut);

describe('word pieces', () => {
	it('there are some', () => {
		expect(rules('word')).toEqual(expect.arrayContaining(['hop', 'fieldWord', 'dec', 'traceId', 'nftFamily', 'nftName', 'nftMetaKey', 'nftRawKey', 'nftWordValue']));
	});

	it.each(rules('word'))('%s never looks at a space, a tab or the end of the line', rule => {
		expect(wordUnsafe(traceGrammar, rule)).toEqual([]);
	});

	it('the check finds what would break one', () => {
		const g = grammar(String.raw`
			G {
				good = "A".."Z" ("a".."z")* ~"OPT" ("=" | ":")?
				spaceInRange = (" ".."~")+
				spaceInTerminal = "OPT ("
				tabInRange = ("\u{0}".."Z")+
				lookaheadAtSpace = "x" ~" "
				usesEnd = "x" (")" | end)
				usesAny = "x" any
				deep = "x" good inner
				inner = ("a" | gapRule)?
				gapRule = ("\t" | "\n")+
			}`);
		expect(wordUnsafe(g, 'good')).toEqual([]);
		for (const rule of ['spaceInRange', 'spaceInTerminal', 'tabInRange', 'lookaheadAtSpace', 'usesEnd', 'usesAny']) expect(wordUnsafe(g, rule), rule).not.toEqual([]);
		expect(wordUnsafe(g, 'deep')).toEqual(['gapRule: "\\t"']);
	});

	it('the rules that span words are no word pieces', () => {
		for (const rule of ['field', 'fieldGroup', 'nftValue', 'nftItem', 'packet', 'hostTag', 'kernelHead']) expect(wordUnsafe(traceGrammar, rule), rule).not.toEqual([]);
	});
});

describe('the kernel head', () => {
	it('is the one head piece', () => {
		expect(rules('head')).toEqual(['kernelHead']);
	});

	it('never reads past the line’s first TRACE: when a space follows it', () => {
		expect(readsPast(traceGrammar, 'kernelHead', 'TRACE:')).toEqual([]);
	});

	it('the checks find what would break it', () => {
		const g = grammar(String.raw`
			G {
				head = (~"TRACE:" lead)* "TRACE:"
				lead
					= host " kernel: "        -- host
					| "[" ("0".."9")+ "] "   -- stamp
					| letters " "            -- word
				host = (~"TRACE:" ("!".."~"))+
				letters = ("A".."Z")+
				unguarded = (~"TRACE:" lead2)* "TRACE:"
				lead2 = ("!".."~")+ " kernel: "
				peeks = (~"TRACE:" lead3)* "TRACE:"
				lead3 = "x" ~("TRACE: " "y")
				atEnd = (~"TRACE:" lead4)* "TRACE:"
				lead4 = ("!".."~")+ end
				refined = (~"TRACE:" lead5)* "TRACE:"
				lead5 = (~("TRACE:" ~("!".."~")) ("!".."~"))+ " kernel: "
				wrongGuard = (~"TRACE:" lead6)* "TRACE:"
				lead6 = (~("TRACE:" ~(" ".."~")) ("!".."~"))+ " kernel: "
			}`);
		expect(readsPast(g, 'head', 'TRACE:')).toEqual([]);
		// A host name that may hold TRACE: reads on after it ("myTRACE: kernel: TRACE: …").
		expect(readsPast(g, 'unguarded', 'TRACE:')).not.toEqual([]);
		// So does a lookahead that looks past it, and `end` right after it.
		expect(readsPast(g, 'peeks', 'TRACE:')).not.toEqual([]);
		expect(readsPast(g, 'atEnd', 'TRACE:')).not.toEqual([]);
		// A host name may hold TRACE: when no space follows it ("myTRACE:host") …
		expect(readsPast(g, 'refined', 'TRACE:')).toEqual([]);
		// … but not when the test of what follows can match a space.
		expect(readsPast(g, 'wrongGuard', 'TRACE:')).not.toEqual([]);
	});
});

describe('the line rules', () => {
	it.each(Object.entries(WALKED))('%s has the shape segments.ts walks', (rule, shape) => {
		expect(traceGrammar.rules[rule]?.body.toString()).toBe(shape);
	});

	it('every piece is a rule of the grammar, matched on its own', () => {
		for (const rule of Object.keys(PIECES)) expect(traceGrammar.rules[rule], rule).toBeDefined();
		for (const rule of Object.keys(traceGrammar.rules)) expect(rule).not.toMatch(/Seg$/);
	});
});
