/**
 * The semantics of the NftRuleset grammar: the Ruleset grammar's operations (addresses,
 * prefixes, NAT ranges, numbers), which it builds on, and its own. Built the first time an nft
 * listing is read, so that a command that reads none (`rules` on an iptables dump, `--help`)
 * does not pay for checking its action dictionaries at start.
 */
import {nftRulesetGrammar, type NftRulesetSemantics} from '../grammar.js';
import {rulesetSemantics} from './ruleset.js';
import {addToNftLine} from './to-nft-line.js';

let built: NftRulesetSemantics | undefined;

export function nftRulesetSemantics(...args: Parameters<NftRulesetSemantics>): ReturnType<NftRulesetSemantics> {
	if (!built) {
		built = nftRulesetGrammar.extendSemantics(rulesetSemantics as unknown as NftRulesetSemantics);
		addToNftLine(built);
	}
	return built(...args);
}
