/**
 * A finding: something in a trace or a ruleset a person should look at. The JSON shape is part of
 * the contract (docs/json.md, docs/findings.md).
 */

export type Severity = 'error' | 'warning' | 'info';

/** A rule a finding is about: where it is and what it says. */
export interface RuleRef {
	/** The dump it is in, as the user named it. */
	file?: string;
	table: string;
	chain: string;
	/** 1-based position in the chain; null for a chain-level finding or a policy. */
	pos: number | null;
	/** The rule as written (`-A CHAIN …`), or the chain's declaration. */
	text: string;
	/** Line in the dump. */
	line?: number;
}

export interface Finding {
	/** Stable name scripts can rely on: no-reply, asymmetric-route, frag-needed, dropped, unreferenced-chain, … */
	kind: string;
	severity: Severity;
	/** What is wrong, in one sentence with the specifics. */
	message: string;
	/** What to do about it. */
	hint: string;
	/** Ids of the packets concerned (of `node`'s trace when several nodes are replayed). */
	packets: number[];
	rules: RuleRef[];
	/** The node it is about, when several nodes are replayed together; absent for one node. */
	node?: string;
}
