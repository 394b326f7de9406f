/**
 * The semantics of the NftRuleset grammar, built once at module load: the Ruleset grammar's
 * operations (addresses, prefixes, NAT ranges, numbers), which it builds on, and its own.
 */
import {nftRulesetGrammar, type NftRulesetSemantics} from '../grammar.js';
import {rulesetSemantics} from './ruleset.js';
import {addToNftLine} from './to-nft-line.js';

export const nftRulesetSemantics = nftRulesetGrammar.extendSemantics(rulesetSemantics as unknown as NftRulesetSemantics);
addToNftLine(nftRulesetSemantics);
