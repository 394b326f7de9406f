/**
 * The Trace semantics' operations, typed: what each returns, how an action dictionary is
 * checked against the grammar, and the one place where Ohm's untyped node members are called.
 *
 * Input:  addOperation(semantics, 'rawField', {fieldWord_keyValue(key, _eq, value) {…}, …}); op(node, 'rawField')
 * Output: the operation added, its actions checked by `tsc` against the generated TraceActionDict
 *         (a rule that does not exist, or an action with one argument too many or too few, fails
 *         the build); op(…) typed as RawField
 *
 * Ohm's typings give every node member as `any` (an operation is a member of the node it runs
 * on) and accept an action with fewer arguments than its rule has, as TypeScript does for any
 * callback. TraceOps names each operation's result, and Exact<> compares each action's number
 * of parameters with the rule's.
 */
import type * as ohm from 'ohm-js';
import type {RawField} from '../fields.js';
import type {TraceActionDict, TraceSemantics} from '../grammar.js';
import type {Family, LineFormat, LogNotice, PacketFields, TraceEvent} from '../types.js';
import type {FieldShape, HopValue, LeadPart, NftEventValue, NftItem, NftVerdictValue, XtHopValue, XtVerdictValue} from './to-trace-event.js';

/** Every operation of the Trace semantics and its result. */
export interface TraceOps {
	/** traceLine: the format and the events of a line (several when kernel records were pasted together). */
	events: {format: LineFormat; events: TraceEvent[]};
	/** kernelLine: its records' events. */
	kernelRecords: TraceEvent[];
	/** One kernel record. */
	kernel: TraceEvent;
	/** kernelHead, kernelLeads: what the leads say, as positions in the matched input. */
	leadParts: LeadPart[];
	/** One lead; undefined for leads that say nothing (colour codes, `kernel:`). */
	leadPart: LeadPart | undefined;
	/** packet: its fields. */
	rawFields: RawField[];
	/** kernelFields, xtFields: the fields they hold. */
	fieldList: RawField[];
	/** kernelFields: the kernel records after the first record's fields. */
	records: TraceEvent[];
	rawField: RawField;
	/** fieldWord: where its parts lie. */
	fieldShape: FieldShape;
	/** hop: table:chain:type:N. */
	hopValue: HopValue;
	/** dec (xtables-monitor's family number). */
	nfproto: number;
	/** traceId, in lower case. */
	traceIdValue: string;
	/** nftFamily, as tracewatch names it. */
	familyValue: Family;
	xt: TraceEvent;
	xtHop: XtHopValue;
	xtVerdict: XtVerdictValue;
	nft: TraceEvent;
	/** nftEvent, without the trace id, family, table and chain its line gives it. */
	nftEvent: NftEventValue;
	/** nftPacket, nftItems: their items. */
	nftItems: NftItem[];
	nftItem: NftItem;
	nftVerdict: NftVerdictValue;
	/** bridgePrefix_named: the ebtables table and chain a `TRACE: eb:TABLE:CHAIN` prefix names. */
	bridgeChain: {table: string; chain: string};
	/** bridgeNetwork, bridgePorts, bridgeArp: what ebt_log prints of the frame's network header. */
	bridgeNetwork: Partial<PacketFields>;
	/** bridgeArp: the ARP payload's hardware addresses. */
	bridgeArpHw: {sha?: string; tha?: string};
	/** noticeLine: what it says about the log. */
	notice: LogNotice;
}

/** Calls operation `name` on a node. */
export function op<K extends keyof TraceOps>(node: ohm.Node, name: K): TraceOps[K] {
	return node[name]();
}

/** Calls operation `name` on the root of a match (the start rule's node). */
export function opOf<K extends keyof TraceOps>(semantics: TraceSemantics, m: ohm.MatchResult, name: K): TraceOps[K] {
	return semantics(m)[name]();
}

type Actions = TraceActionDict<unknown>;
type Arity<F> = F extends (...args: infer A) => unknown ? A['length'] : never;

/**
 * The action dictionary `I` with every action that takes a different number of arguments than
 * its rule replaced by an error marker (an action that takes too many is already refused by
 * TraceActionDict; one that takes too few is not), and every key that is no rule of the grammar too.
 */
export type Exact<I> = {
	[K in keyof I]: K extends keyof Actions ? (Arity<I[K]> extends Arity<NonNullable<Actions[K]>> ? I[K] : {wrongArity: K}) : {notARuleOfTrace: K};
};

/** Adds operation `name` to the Trace semantics, its actions checked against the grammar (see Exact). */
export function addOperation<K extends keyof TraceOps, I extends TraceActionDict<TraceOps[K]>>(semantics: TraceSemantics, name: K, actions: I & Exact<I>): void {
	semantics.addOperation<TraceOps[K]>(name, actions);
}
