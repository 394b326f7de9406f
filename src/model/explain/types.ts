/**
 * The prediction model's words: the packet a walk starts with (Probe), what conntrack and
 * routing tell it (CtInput, Routing), what it produces (Step, Prediction) and how a prediction
 * parts from a trace (Divergence).
 *
 * Input:  a Probe {family:'ipv4', proto:'TCP', src:'198.18.10.2', spt:40990, dst:'198.18.30.10', dpt:80, tcpFlags:['SYN'], in:'eth0', mark:0}
 *         with CtInput {state:'new', dir:'original', first:true}
 * Output: a Prediction whose hops are `raw:PREROUTING:policy:3 … nat:TW-SERVICES:rule:1 (DNAT) … filter:TW-FORWARD:rule:2 (ACCEPT)`,
 *         verdict ACCEPT, nat [{type:'DNAT', from:'198.18.30.10:80', to:'198.18.20.2:8080'}], uncertain []
 *
 * Hops are the model's Hop (src/model/types.ts), so every view that shows a traced path shows a
 * predicted one the same way; a predicted hop has no trace line (`ref.line` 0, `ref.input` -1).
 */
import type {Hook} from '../../netfilter/hooks.js';
import type {Hop, NatRewrite, Verdict} from '../types.js';
import type {WalkRule} from './source.js';

/** What a walk knows of the packet. A field left undefined is not known (a condition on it cannot be decided). */
export interface Probe {
	readonly family: 'ipv4' | 'ipv6';
	/** The kernel log's name: TCP, UDP, ICMP, ICMPv6, … or the number; undefined when the input does not say. */
	readonly proto?: string;
	/** Known to carry no ports (xtables-monitor prints ports for TCP and UDP, nothing for other protocols). */
	readonly portless?: boolean;
	readonly src: string;
	readonly dst: string;
	readonly spt?: number;
	readonly dpt?: number;
	readonly tcpFlags?: readonly string[];
	readonly icmp?: {readonly type: number; readonly code?: number};
	/** `''`: no input interface (locally generated); undefined: not known. */
	readonly in?: string;
	/** The interface the packet leaves by, when the input says (a trace's first line, `--out`). */
	readonly out?: string;
	readonly physin?: string;
	readonly physout?: string;
	/** The packet mark as it enters the walk (0 when none). */
	readonly mark: number;
	/** Owner of the sending socket: a uid, `null` when the packet has no socket, undefined when not known. */
	readonly uid?: number | null;
	readonly gid?: number | null;
	readonly macsrc?: string;
	/** IP length. */
	readonly len?: number;
	/** Don't Fragment set (always for IPv6, where routers do not fragment). */
	readonly df?: boolean;
	readonly fragment?: boolean;
}

/** Conntrack's states, as `--ctstate` names them (lower case). */
export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';

/** A connection's address rewrite, as conntrack applies it to the packets after the first. */
export interface NatMapping {
	readonly addr: string;
	readonly port?: number;
}

/** What conntrack knows when the packet arrives. */
export interface CtInput {
	/** undefined: not known (a trace that shows neither the ICMP type nor a connection the packet belongs to). */
	readonly state: CtState | undefined;
	readonly dir: 'original' | 'reply';
	/** The connection's first packet: the nat chains run for it, and only for it. */
	readonly first: boolean;
	/** Original-direction packets after the first: the destination conntrack rewrites them to (the connection's DNAT). */
	readonly dnat?: NatMapping;
	/** Reply-direction packets: the destination conntrack restores (the connection's SNAT/MASQUERADE undone). */
	readonly unsnat?: NatMapping;
	/** Status bits `--ctstate SNAT/DNAT` and `--ctstatus` look at. */
	readonly snatDone?: boolean;
	readonly dnatDone?: boolean;
	readonly seenReply?: boolean;
	/** The connection mark (CONNMARK). */
	readonly ctmark?: number;
	/** The connection's original tuple, for `--ctorigsrc`/`--ctorigdst`. */
	readonly orig?: {readonly src: string; readonly dst: string; readonly spt?: number; readonly dpt?: number};
	/** Why the state is what it is, in words (`the trace saw a reply (packet #2)`). */
	readonly basis?: string;
}

/** What routing decides after PREROUTING (or before OUTPUT). */
export type RouteResult =
	| {readonly kind: 'local'; readonly basis: string}
	| {readonly kind: 'forward'; readonly out: string | undefined; readonly basis: string}
	| {readonly kind: 'refused'; readonly basis: string};

/** Routing, as far as the input tells: a dump has no routes. */
export interface Routing {
	/** Is the address one of this host's own? undefined when not known. */
	isLocal(addr: string): boolean | undefined;
	/** The route for a packet to `dst` (after DNAT): local delivery, forwarding out an interface, or refused. */
	route(dst: string, probe: Probe): RouteResult;
	/** The interface the host routes packets to `addr` out of (for the reverse-path check), when known. */
	outFor(addr: string): string | undefined;
	/** Whether any local address is known at all (an addrtype LOCAL answer is then a real answer). */
	readonly knowsLocals: boolean;
}

/** Why a condition could not be decided. */
export type UnknownKind =
	/** An ipset's (or nft set's) contents: not in an iptables dump. */
	| 'set'
	/** A rate, a counter or recent history (limit, hashlimit, recent, quota, connlimit, connbytes, time). */
	| 'state'
	/** The payload (string, bpf, u32, tcp options). */
	| 'content'
	/** The sending socket (owner) when the input shows no UID. */
	| 'owner'
	/** A field of the packet the input does not give (no --in, a trace format that prints no protocol). */
	| 'packet'
	/** Routing: the reverse-path check, route types. */
	| 'routing'
	/** A match tracewatch does not model, or a value it could not read. */
	| 'not-modelled'
	/** A random or every-nth pick (statistic, numgen). */
	| 'statistic';

/** A condition the walk could not decide, and what it did about it. */
export interface Uncertain {
	readonly table: string;
	readonly chain: string;
	readonly num: number;
	readonly rule: string;
	/** The condition as written: `-m set --match-set KUBE-LB src`. */
	readonly match: string;
	readonly kind: UnknownKind;
	readonly why: string;
	/** `match`, `no match` (assumed), `followed the trace`, or `branch` (statistic without a trace). */
	readonly assumed: 'match' | 'no match' | 'followed the trace' | 'branch';
	/** For statistic: the probability that the condition holds. */
	readonly probability?: number;
}

/** One step of the walk: a rule that matched, or a chain's end (policy of a base chain, return of a user chain). */
export interface Step {
	/** The step's number in the whole walk (Evaluation.at counts the same way). */
	readonly index: number;
	readonly hook: Hook;
	readonly table: string;
	readonly chain: string;
	readonly base: boolean;
	/** The chain is from a native nft listing. */
	readonly nft?: boolean;
	readonly kind: 'rule' | 'tail';
	/** The rule's position; a tail's is the number of rules + 1, as the kernel counts it. */
	readonly pos: number;
	readonly rule?: WalkRule;
	/** The rule's target, the policy, or RETURN. */
	readonly target: string;
	/** The packet as the step sees it (before the rule's target runs, as a trace line shows it). */
	readonly packet: PacketView;
	/** Tracing was on before this step (a kernel TRACE line is printed for it). */
	readonly tracing: boolean;
	/** This step's target is TRACE: tracing is on from here (nft prints the rule that set it). */
	readonly startsTrace: boolean;
	readonly line?: number;
	readonly note?: string;
}

/** The fields a trace line shows of the packet. */
export interface PacketView {
	/** `''`: none; undefined: not known. */
	readonly in: string | undefined;
	readonly out: string | undefined;
	readonly src: string;
	readonly dst: string;
	readonly spt?: number;
	readonly dpt?: number;
	readonly mark: number;
}

/** A rule the walk looked at, matched or not, and how it decided. */
export interface Evaluation {
	readonly hook: Hook;
	readonly table: string;
	readonly chain: string;
	readonly pos: number;
	readonly matched: boolean;
	/** How: every condition decided, some assumed, a branch taken (statistic, or the trace followed). */
	readonly by: 'decided' | 'assumed' | 'branch';
	/** For a rule that did not match on a decided condition: that condition, as written. */
	readonly failed?: string;
	readonly unknowns: readonly Uncertain[];
	/** Index of the next step (the step of this rule when it matched). */
	readonly at: number;
}

/** A choice at a branch point: a random pick (statistic), or a condition followed from the trace. */
export interface BranchChoice {
	readonly table: string;
	readonly chain: string;
	readonly num: number;
	readonly matched: boolean;
	/** The probability of this choice (statistic); undefined for a followed condition. */
	readonly probability?: number;
}

/** What a trace format prints: the kernel's words (`policy`/`return` for unconditional standard rules and chain ends; nothing before TRACE), or nft's (iptables-nft: every matched rule, the TRACE rule too, no implicit return). */
export type TraceStyle = 'kernel' | 'nft';

/** A predicted walk, as a trace would show it. */
export interface Prediction {
	/** The predicted path: replay's Hop objects. */
	readonly hops: Hop[];
	/** The walk's steps behind the hops (one per hop). */
	readonly steps: readonly Step[];
	readonly verdict: Verdict;
	readonly verdictBasis: string;
	readonly route: RouteResult | undefined;
	readonly nat: NatRewrite[];
	readonly uncertain: readonly Uncertain[];
	readonly ct: CtInput;
	/** The conntrack mark the packet leaves the connection with (CONNMARK). */
	readonly ctmarkAfter: number;
	/** The packet as the walk leaves it: after its DNAT and SNAT (MASQUERADE leaves the source: its address is not known). */
	readonly after: PacketView;
	/** With statistic and no trace: every branch, the most likely first; the prediction is the first. */
	readonly branches?: readonly Branch[];
	/** Choices made at branch points (statistic picks, conditions followed from the trace). */
	readonly choices: readonly BranchChoice[];
	/** Every rule looked at (for telling why a trace parts from the prediction). */
	readonly evaluated: readonly Evaluation[];
	readonly style: TraceStyle | 'all';
}

export interface Branch {
	readonly probability: number;
	readonly choices: readonly BranchChoice[];
	readonly hops: Hop[];
	readonly verdict: Verdict;
	readonly verdictBasis: string;
	readonly nat: NatRewrite[];
}

/** Why a trace parts from the prediction, most telling first. */
export type DivergenceReason =
	/** The dump is not the ruleset the kernel ran: the traced rule does not fit the packet at that hop, or a rule number or chain end the dump does not have. */
	| 'rules-changed'
	/** An ipset's contents. */
	| 'set-contents'
	/** A rate limit, recent list, quota or counter. */
	| 'match-state'
	/** A match or target tracewatch does not model. */
	| 'not-modelled'
	/** Something the trace does not show about the packet or the connection (owner, conntrack history before the trace). */
	| 'packet-unknown'
	/** Routing: local addresses, the route, the MTU or the reverse path were not what the trace taught. */
	| 'routing'
	/** Conntrack state or marks differ from what the trace's history gave. */
	| 'state'
	/** The trace stops before the walk does (the tracer exited, the input was cut). */
	| 'trace-ended'
	| 'unknown';

export interface Divergence {
	/** Index in both hop lists (0-based) where they part; the shorter length when one is a prefix of the other. */
	readonly at: number;
	readonly predicted: Hop | null;
	readonly traced: Hop | null;
	readonly reason: DivergenceReason;
	/** The likely reason in words, with the rule concerned. */
	readonly message: string;
}

/** What the views need of a traced packet's prediction: the predicted path and how the trace compares (src/model/findings/rules-changed.ts keeps them). */
export interface Comparison {
	readonly packetId: number;
	readonly hops: readonly Hop[];
	readonly verdict: Verdict;
	readonly verdictBasis: string;
	readonly nat: readonly NatRewrite[];
	readonly uncertain: readonly Uncertain[];
	readonly state: CtState | undefined;
	readonly stateBasis: string;
	/** null: the trace agrees hop for hop. */
	readonly divergence: Divergence | null;
}
