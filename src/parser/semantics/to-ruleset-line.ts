/**
 * Semantics of the Ruleset grammar: one matched dump line → RulesetLine.
 *
 * Input:  `[4:240] -A PREROUTING -d 198.19.96.1/32 -p tcp -m comment --comment "api vip" -j DNAT --to-destination 198.18.1.50:6443`
 * Output: {kind:'append', chain:'PREROUTING', counters:{packets:4, bytes:240},
 *          items:[{item:'option', option:{name:'-d', value:{kind:'addrs', …}, …}}, …, {item:'target', name:'DNAT', …}, …],
 *          rule:{matches:[…], target:{name:'DNAT', …}, pieces:[…]},
 *          text:'-A PREROUTING -d 198.19.96.1/32 -p tcp -m comment --comment "api vip" -j DNAT --to-destination 198.18.1.50:6443'}
 *
 * The rule's text is the line as written, from the verb on, without counters (`[p:b]` before
 * it, `-c p b` in it); `-I CHAIN N` is written `-A CHAIN`, as the rule reads once in the dump.
 */
import type {NonterminalNode} from 'ohm-js';
import type {RulesetSemantics} from '../grammar.js';
import {assembleRule, type Counters, type ParsedRule, type RuleItem} from '../rule.js';

export type {Counters} from '../rule.js';

/** What a rule's arguments hold, read once. */
export interface RuleSpecRead {
	readonly items: readonly RuleItem[];
	readonly rule: ParsedRule;
	/** The spec as written (from the space before its first word), counters cut out. */
	readonly text: string;
}

export type RulesetLine =
	| {readonly kind: 'table'; readonly name: string}
	| {readonly kind: 'chain'; readonly name: string; readonly policy: string; readonly counters?: Counters}
	| {readonly kind: 'commit'}
	| {readonly kind: 'comment'; readonly text: string}
	| ({readonly kind: 'append'; readonly chain: string; readonly text: string; readonly counters?: Counters; readonly insert: boolean; readonly position?: number} & RuleSpecRead)
	| {readonly kind: 'policy'; readonly chain: string; readonly policy: string; readonly counters?: Counters}
	| {readonly kind: 'newChain'; readonly chain: string}
	| {readonly kind: 'blank'};

export function counters(node: NonterminalNode): Counters {
	// counters = "[" dec ":" dec "]"
	return {packets: Number(node.child(1).sourceString), bytes: Number(node.child(3).sourceString)};
}

export function addToRulesetLine(semantics: RulesetSemantics): void {
	semantics.addOperation<RulesetLine>('line', {
		rulesetLine_blank(_sp, _eol) {
			return {kind: 'blank'};
		},
		rulesetLine_content(_sp, content, _eol) {
			return content['line']();
		},
		rulesetContent_table(_star, name) {
			return {kind: 'table', name: name.sourceString};
		},
		rulesetContent_chain(_colon, name, _g, policy, _g2, count) {
			const c = count.children[0];
			return chainLine(name.sourceString, policy.sourceString, c ? counters(c as NonterminalNode) : undefined);
		},
		rulesetContent_commit(_c) {
			return {kind: 'commit'};
		},
		rulesetContent_comment(_hash, text) {
			return {kind: 'comment', text: text.sourceString};
		},
		rulesetContent_command(count, _g, command) {
			const c = count.children[0];
			return withLineCounters(command['line']() as RulesetLine, c ? counters(c as NonterminalNode) : undefined);
		},
		ruleCommand_append(verb, _g, chain, spec) {
			return appendLine(verb.sourceString, _g.sourceString, chain.sourceString, spec['spec']() as RuleSpecRead);
		},
		ruleCommand_insert(_verb, _g, chain, _g2, num, spec) {
			const read = spec['spec']() as RuleSpecRead;
			const n = num.children[0];
			return {
				kind: 'append',
				chain: chain.sourceString,
				insert: true,
				...(n ? {position: Number(n.sourceString)} : {}),
				...read,
				text: `-A ${chain.sourceString}${read.text}`,
				...countersOf(read),
			};
		},
		ruleCommand_policy(_verb, _g, chain, _g2, policy, spec) {
			const read = spec['spec']() as RuleSpecRead;
			return {kind: 'policy', chain: chain.sourceString, policy: policy.sourceString, ...countersOf(read)};
		},
		ruleCommand_newChain(_verb, _g, chain) {
			return {kind: 'newChain', chain: chain.sourceString};
		},
	});

	// The counters piece alone (src/parser/rule-segments.ts).
	semantics.addOperation<Counters>('countersValue', {
		counters(_open, _p, _colon, _b, _close) {
			return counters(this as unknown as NonterminalNode);
		},
	});

	semantics.addOperation<RuleSpecRead>('spec', {
		ruleSpec(gaps, itemNodes) {
			const items = itemNodes.children.map(n => n['item']() as RuleItem);
			const base = this.source.startIdx;
			const spans = items.map((_, i) => [gaps.child(i).source.startIdx - base, itemNodes.child(i).source.endIdx - base] as const);
			return specRead(items, this.sourceString, spans);
		},
	});
}

/**
 * What a rule's arguments hold, from its items and its text (`source`, from the space before the
 * first item); `spans[i]` is where item i's gap starts and where the item ends in `source`. The
 * text leaves out `-c p b`: each counters item and the gap before it are cut out. The one
 * definition for the whole-line semantics and the piece parser (src/parser/rule-segments.ts).
 */
export function specRead(items: readonly RuleItem[], source: string, spans: ReadonlyArray<readonly [number, number]>): RuleSpecRead {
	let text = '';
	let from = 0;
	items.forEach((item, i) => {
		if (item.item !== 'counters') return;
		text += source.slice(from, spans[i]![0]);
		from = spans[i]![1];
	});
	text += source.slice(from);
	return {items, rule: assembleRule(items), text};
}

/** The append line of a rule (`-A CHAIN …`, `--append CHAIN …`) from its verb, the gap after it, its chain and its spec. */
export function appendLine(verb: string, gap: string, chain: string, read: RuleSpecRead): RulesetLine {
	return {kind: 'append', chain, insert: false, ...read, text: `${verb}${gap}${chain}${read.text}`, ...countersOf(read)};
}

/** A `:CHAIN POLICY [p:b]` line. */
export function chainLine(name: string, policy: string, count: Counters | undefined): RulesetLine {
	return {kind: 'chain', name, policy, ...(count ? {counters: count} : {})};
}

/** `[p:b]` before a command: its counters, unless `-c p b` in the rule gave them (that is what iptables would load). */
export function withLineCounters(line: RulesetLine, count: Counters | undefined): RulesetLine {
	return count && line.kind === 'append' && !line.counters ? {...line, counters: count} : line;
}

function countersOf(read: RuleSpecRead): {counters?: Counters} {
	return read.rule.counters ? {counters: read.rule.counters} : {};
}
