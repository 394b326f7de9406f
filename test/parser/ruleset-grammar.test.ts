/**
 * Static checks of the Ruleset grammar's option lists.
 *
 * Input:  the `ruleOption` rule of grammar/ruleset.ohm, read from Ohm's parsing expressions
 * Output: every list of option names `("--a" | "--b" | …)` in which a name comes after a shorter
 *         name it starts with: PEG choice is ordered, so `"--src" | "--src-pfx"` takes `--src` from
 *         `--src-pfx`, and the option then never reads as its own syntax
 */
import {createRequire} from 'node:module';
import type * as ohm from 'ohm-js';
import {describe, expect, it} from 'vitest';
import {rulesetGrammar} from '../../src/parser/grammar.js';

const {pexprs} = createRequire(new URL('../../grammar/', import.meta.url))('ohm-js') as typeof ohm;

type PExpr = ohm.PExpr & {obj?: string; terms?: PExpr[]; factors?: PExpr[]; expr?: PExpr; ruleName?: string};

/** Every choice among literals in the rule `name` and its inline cases (`name_case`). */
function literalChoices(grammar: ohm.Grammar, name: string): string[][] {
	const out: string[][] = [];
	const visit = (e: PExpr): void => {
		if (e instanceof pexprs.Alt) {
			const terms = e.terms as PExpr[];
			if (terms.every(t => t instanceof pexprs.Terminal)) out.push(terms.map(t => t.obj!));
			else terms.forEach(visit);
		} else if (e instanceof pexprs.Seq) (e.factors as PExpr[]).forEach(visit);
		else if (e.expr) visit(e.expr);
	};
	for (const rule of Object.keys(grammar.rules)) if (rule === name || rule.startsWith(`${name}_`)) visit(grammar.rules[rule]!.body as PExpr);
	return out;
}

describe('Ruleset grammar', () => {
	it('no option name in a list comes after a shorter name it starts with', () => {
		const choices = literalChoices(rulesetGrammar, 'ruleOption');
		expect(choices.length).toBeGreaterThan(10);
		const shadowed: string[] = [];
		for (const list of choices) list.forEach((name, i) => list.slice(0, i).forEach(earlier => name.startsWith(earlier) && shadowed.push(`${earlier} before ${name}`)));
		expect(shadowed).toEqual([]);
	});
});
