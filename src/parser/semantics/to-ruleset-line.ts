/**
 * Semantics of the Ruleset grammar: one matched dump line → RulesetLine.
 *
 * Input:  `[4:240] -A PREROUTING -d 198.19.96.1/32 -p tcp -m comment --comment "api vip" -j DNAT --to-destination 198.18.1.50:6443`
 * Output: {kind:'append', chain:'PREROUTING', counters:{packets:4, bytes:240},
 *          args:['-d','198.19.96.1/32','-p','tcp','-m','comment','--comment','api vip','-j','DNAT','--to-destination','198.18.1.50:6443'],
 *          text:'-A PREROUTING -d 198.19.96.1/32 -p tcp -m comment --comment "api vip" -j DNAT --to-destination 198.18.1.50:6443'}
 */
import type * as ohm from 'ohm-js';

export interface Counters {
	readonly packets: number;
	readonly bytes: number;
}

export type RulesetLine =
	| {readonly kind: 'table'; readonly name: string}
	| {readonly kind: 'chain'; readonly name: string; readonly policy: string; readonly counters?: Counters}
	| {readonly kind: 'commit'}
	| {readonly kind: 'comment'; readonly text: string}
	| {readonly kind: 'append'; readonly chain: string; readonly args: readonly string[]; readonly text: string; readonly counters?: Counters; readonly insert: boolean}
	| {readonly kind: 'policy'; readonly chain: string; readonly policy: string; readonly args: readonly string[]}
	| {readonly kind: 'newChain'; readonly chain: string}
	| {readonly kind: 'blank'};

function counters(node: ohm.Node): Counters {
	const [p, b] = node.sourceString.slice(1, -1).split(':');
	return {packets: Number(p), bytes: Number(b)};
}

export function addToRulesetLine(semantics: ohm.Semantics): void {
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
			return {kind: 'chain', name: name.sourceString, policy: policy.sourceString, ...(c ? {counters: counters(c)} : {})};
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
			return c && line.kind === 'append' ? {...line, counters: counters(c)} : line;
		},
		ruleCommand_append(verb, _g, chain, _gaps, args) {
			const v = verb.sourceString;
			return {
				kind: 'append',
				chain: chain.sourceString,
				args: args.children.map(a => a['arg']() as string),
				text: this.sourceString,
				insert: v === '-I' || v === '--insert',
			};
		},
		ruleCommand_policy(_verb, _g, chain, _g2, policy, _gaps, args) {
			return {kind: 'policy', chain: chain.sourceString, policy: policy.sourceString, args: args.children.map(a => a['arg']() as string)};
		},
		ruleCommand_newChain(_verb, _g, chain) {
			return {kind: 'newChain', chain: chain.sourceString};
		},
	});

	semantics.addOperation<string>('arg', {
		ruleArg_quoted(_open, chars, _close) {
			return chars.children.map(c => c['arg']()).join('');
		},
		ruleArg_bare(_t) {
			return this.sourceString;
		},
		quotedChar_escaped(_bs, ch) {
			return ch.sourceString;
		},
		quotedChar_plain(ch) {
			return ch.sourceString;
		},
	});
}
