/**
 * The grammars, ready-made: scripts/build-grammar.mjs compiles grammar/*.ohm into one bundle at
 * build time (`npm run build`), so loading them costs no grammar compilation. Every other module
 * gets its grammars from here.
 */
import grammars from '../../grammar/tracewatch.ohm-bundle.js';

export type {NftRulesetSemantics, RulesetActionDict, RulesetSemantics, TraceActionDict, TraceSemantics} from '../../grammar/tracewatch.ohm-bundle.js';

/** One line of trace text: kernel TRACE/LOG (any prefix), xtables-monitor, nft monitor trace. */
export const traceGrammar = grammars.Trace;
/** One line of iptables-save / ip6tables-save / iptables -S. */
export const rulesetGrammar = grammars.Ruleset;
/** One line of `nft list ruleset` (any family, with or without handles). */
export const nftRulesetGrammar = grammars.NftRuleset;
