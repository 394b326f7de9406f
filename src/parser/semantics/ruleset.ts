/**
 * The semantics of the Ruleset grammar, built once at module load from one file per operation group.
 */
import {rulesetGrammar} from '../grammar.js';
import {addToRuleItem} from './to-rule-item.js';
import {addToRulesetLine} from './to-ruleset-line.js';

export const rulesetSemantics = rulesetGrammar.createSemantics();
addToRulesetLine(rulesetSemantics);
addToRuleItem(rulesetSemantics);
