/**
 * The prediction model: what a saved ruleset does to a packet, walked the kernel's way, and how a
 * trace compares with it. `tracewatch explain` (src/cli/explain.ts) uses all of it; replay's
 * rules-changed finding (src/model/findings/rules-changed.ts), which also keeps the comparisons
 * the interactive view shows, needs only predictForPacket and compareWithTrace, with one
 * TraceKnowledge per run.
 *
 * Input:  a settled Packet of a trace, the run's RuleIndex, and a TraceKnowledge that has learned
 *         the trace's packets so far (knowledge.learn(packet) for each, in id order)
 * Output: predictForPacket → Prediction {hops, verdict, nat, uncertain, …};
 *         compareWithTrace → null (the trace agrees) or a Divergence {at, predicted, traced, reason, message}
 *
 *   walk.ts      the kernel's walk over hooks, tables and chains; conntrack's state and NAT
 *   source.ts    the walk's view of a ruleset (chains, rules as conditions and an action); iptables dumps
 *   evaluate.ts  one condition against the packet: true, false, or not known and what to assume
 *   learn.ts     what a trace teaches that a dump cannot (local addresses, routes, connections)
 *   predict.ts   predictions from the command line or from a trace, and their comparison
 */
export {compareWithTrace, explainPacket, explainReply, explainTrace, predictForPacket, probeOf, styleOf, tracedHops, type ExplainInput, type TraceExplained} from './predict.js';
export {TraceKnowledge} from './learn.js';
export {iptablesSource, type RuleSource, type WalkChain, type WalkRule, type Condition, type Action, type HookChain} from './source.js';
export type * from './types.js';
