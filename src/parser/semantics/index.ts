/**
 * The semantics of both grammars, built once at module load from one file per operation group.
 */
import {rulesetGrammar, traceGrammar} from '../grammar.js';
import {addToRulesetLine} from './to-ruleset-line.js';
import {addToSegment} from './to-segment.js';
import {addToTraceEvent} from './to-trace-event.js';

export const traceSemantics = traceGrammar.createSemantics();
addToTraceEvent(traceSemantics);
addToSegment(traceSemantics);

export const rulesetSemantics = rulesetGrammar.createSemantics();
addToRulesetLine(rulesetSemantics);
