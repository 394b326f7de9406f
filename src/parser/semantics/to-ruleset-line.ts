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

function counters(node: NonterminalNode): Counters {
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
			return {kind: 'chain', name: name.sourceString, policy: policy.sourceString, ...(c ? {counters: counters(c as NonterminalNode)} : {})};
		},
		rulesetContent_commit(_c) {
			return {kind: 'commit'};
		},
		rulesetContent_comment(_hash, text) {
			return {kind: 'comment', text: text.sourceString};
		},
		rulesetContent_command(count, _g, command) {
			const c = count.children[0];
			const line = command['line']() as RulesetLine;
			// `-c p b` in the rule, when a line has both, is what iptables would load.
			return c && line.kind === 'append' && !line.counters ? {...line, counters: counters(c as NonterminalNode)} : line;
		},
		ruleCommand_append(verb, _g, chain, spec) {
			const read = spec['spec']() as RuleSpecRead;
			const head = `${verb.sourceString}${_g.sourceString}${chain.sourceString}`;
			return {kind: 'append', chain: chain.sourceString, insert: false, ...read, text: `${head}${read.text}`, ...countersOf(read)};
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

	semantics.addOperation<RuleSpecRead>('spec', {
		ruleSpec(gaps, itemNodes) {
			const items = itemNodes.children.map(n => n['item']() as RuleItem);
			// The text without `-c p b`: the spec's source with each counters item and the gap before it cut out.
			const source = this.sourceString;
			const base = this.source.startIdx;
			let text = '';
			let from = 0;
			items.forEach((item, i) => {
				if (item.item !== 'counters') return;
				text += source.slice(from, gaps.child(i).source.startIdx - base);
				from = itemNodes.child(i).source.endIdx - base;
			});
			text += source.slice(from);
			return {items, rule: assembleRule(items), text};
		},
	});
}

function countersOf(read: RuleSpecRead): {counters?: Counters} {
	return read.rule.counters ? {counters: read.rule.counters} : {};
}
