/**
 * Loads grammar/trace.ohm, the only definition of the syntax tracewatch reads.
 * Every other module gets its grammars from here.
 */
import {readFileSync} from 'node:fs';
import * as ohm from 'ohm-js';

const source = readFileSync(new URL('../../grammar/trace.ohm', import.meta.url), 'utf8');
const grammars = ohm.grammars(source);

/** One line of trace text: kernel TRACE/LOG (any prefix), xtables-monitor, nft monitor trace. */
export const traceGrammar: ohm.Grammar = grammars.Trace!;
/** One line of iptables-save / ip6tables-save / iptables -S. */
export const rulesetGrammar: ohm.Grammar = grammars.Ruleset!;
