/**
 * Later facts about a packet: what becomes known about it after it was complete, from packets
 * that came after it. A packet that has been handed on never changes; such a fact travels as
 * its own record that names the packet, and whoever keeps packets applies it to a copy.
 *
 * Input:  #1 (a SYN, replySeen false) and the fact {id: 1, fact: 'reply-seen', by: 2}
 * Output: applyFacts(#1, [fact]) is a new frozen #1 with replySeen true; #1 itself is unchanged.
 *
 * Kinds (docs/json.md, "revised" records):
 *   reply-seen  a packet going the other way in the same connection (`by`) answered it
 *   reply-to    it answers `to`, a packet that completed after it (lines interleaved)
 *   refused     this host did not forward it: routing refused it and sent the ICMP error `by`
 *   reply-unknown  a later packet (`by`) may be its answer or not, and the trace cannot tell which
 *               (an MLD report after a listener query): its reply state is unknown, and `why` says so
 */
import type {Packet, Verdict} from './types.js';

export type Fact = (
	| {readonly id: number; readonly fact: 'reply-seen'; readonly by: number}
	| {readonly id: number; readonly fact: 'reply-to'; readonly to: number}
	| {readonly id: number; readonly fact: 'refused'; readonly by: number; readonly verdict: Verdict; readonly verdictBasis: string}
	| {readonly id: number; readonly fact: 'reply-unknown'; readonly by: number; readonly why: string}
) & {
	/** The node of the packets it names, when several nodes are replayed (src/model/fleet.ts). */
	readonly node?: string;
};

/** Applies a fact to a packet that has not been handed on yet (a draft, still mutable). */
export function applyFactToDraft(p: Packet, f: Fact): void {
	switch (f.fact) {
		case 'reply-seen': {
			p.replySeen = true;
			// A reply seen settles what a possible one left open.
			delete p.replyUnknown;
			break;
		}
		case 'reply-unknown': {
			if (!p.replySeen && p.replyUnknown === undefined) p.replyUnknown = f.why;
			break;
		}
		case 'reply-to': {
			if (p.replyTo === null || p.replyTo < f.to) p.replyTo = f.to;
			break;
		}
		case 'refused': {
			p.verdict = f.verdict;
			p.verdictBasis = f.verdictBasis;
			p.refusedBy = f.by;
			break;
		}
	}
}

/** Would the fact change the packet? (A second reply changes nothing once one was seen.) */
export function changes(p: Packet, f: Fact): boolean {
	switch (f.fact) {
		case 'reply-seen':
			return !p.replySeen;
		case 'reply-to':
			return p.replyTo === null || p.replyTo < f.to;
		case 'refused':
			return p.refusedBy !== f.by || p.verdict !== f.verdict;
		case 'reply-unknown':
			return !p.replySeen && p.replyUnknown === undefined;
	}
}

/** A frozen copy of `p` with the facts applied (the same object when none changes it). */
export function applyFacts(p: Packet, facts: readonly Fact[]): Packet {
	const relevant = facts.filter(f => f.id === p.id);
	if (relevant.length === 0) return p;
	const copy: Packet = {...p};
	for (const f of relevant) applyFactToDraft(copy, f);
	return Object.freeze(copy);
}
