/**
 * The semantics of the Trace grammar, built once at module load (to-trace-event.ts holds its
 * operations; ops.ts says what each returns).
 */
import {traceGrammar} from '../grammar.js';
import {addToTraceEvent} from './to-trace-event.js';

export const traceSemantics = traceGrammar.createSemantics();
addToTraceEvent(traceSemantics);
