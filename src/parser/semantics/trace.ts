/**
 * The semantics of the Trace grammar, built once at module load from one file per operation group.
 */
import {traceGrammar} from '../grammar.js';
import {addToSegment} from './to-segment.js';
import {addToTraceEvent} from './to-trace-event.js';

export const traceSemantics = traceGrammar.createSemantics();
addToTraceEvent(traceSemantics);
addToSegment(traceSemantics);
