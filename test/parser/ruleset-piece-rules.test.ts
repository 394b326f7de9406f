/**
 * The facts the ruleset piece parser's soundness rests on (src/parser/rule-segments.ts),
 * checked on the grammar itself: its word pieces can never match a space or a tab nor use `end`
 * or `any`; the line rules still have the shapes it walks; rule items are no word pieces (they
 * span words, which is why they are cut before the next item instead).
 */
import {describe, expect, it} from 'vitest';
import {rulesetGrammar} from '../../src/parser/grammar.js';
import {RULESET_PIECES, RULESET_WALKED} from '../../src/parser/rule-segments.js';
import {wordUnsafe} from './grammar-analysis.js';

describe('ruleset pieces', () => {
	it.each(['chainName', 'policyName', 'counters'])('%s never looks at a space, a tab or the end of the line', rule => {
		expect(wordUnsafe(rulesetGrammar, rule)).toEqual([]);
	});

	it('rule items span words: they are cut before the next item, not at a space', () => {
		expect(wordUnsafe(rulesetGrammar, 'ruleItem')).not.toEqual([]);
	});

	it('every piece is a rule of the grammar', () => {
		for (const rule of Object.keys(RULESET_PIECES)) expect(rulesetGrammar.rules[rule], rule).toBeDefined();
	});

	it.each(Object.entries(RULESET_WALKED))('%s has the shape rule-segments.ts walks', (rule, shape) => {
		expect(rulesetGrammar.rules[rule]?.body.toString()).toBe(shape);
	});
});
