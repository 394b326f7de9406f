/**
 * parseNftRuleset: the text of `nft list ruleset` (or a file written for `nft -f`) → Ruleset.
 *
 * Input:  "table ip kube-proxy { # handle 3\n\tchain services { # handle 20\n\t\tip daddr . meta l4proto . th dport vmap @service-ips # handle 41\n\t}\n}\n"
 * Output: {format:'nft', tables: {'ip kube-proxy': {family:'ip', name:'kube-proxy', chains: {services: {rules: [{pos:1, handle:41,
 *           text:'ip daddr . meta l4proto . th dport vmap @service-ips', syntax:'nft', parsed:{target:{name:'vmap', kind:'map', map:'service-ips'}, …}}]}}}}}
 *
 * Each line is matched by the NftRuleset grammar on its own (a set's `elements = { … }`, which nft
 * spreads over lines, is joined first), in the block it is in: a table, a chain, a set or map, or
 * another object. A line that does not read is a problem with its line and column, and the rest
 * still loads. Tables are keyed `family name` (`ip filter`, `inet firewalld`).
 */
import {excerptAt} from './trace-line.js';
import {nftRulesetGrammar} from './grammar.js';
import {assembleNftRule, nftRule} from './nft-rule.js';
import type {Chain, NftSet, Ruleset, RulesetProblem, Table} from './ruleset.js';
import {nftRulesetSemantics} from './semantics/nft-ruleset.js';
import type {NftLine, NftSetLine} from './semantics/to-nft-line.js';
import {nftPriority} from '../netfilter/nft.js';

/** The names iptables-nft gives its tables; with `xt` expressions or its comment, they say the table is iptables-nft's. */
const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);

/** Does the text look like an nft listing rather than an iptables dump? */
export function looksLikeNft(text: string): boolean {
	for (const line of text.split('\n', 200)) {
		const t = line.trim();
		if (t === '' || t.startsWith('#')) continue;
		return /^(?:table\s|define\s|include\s|flush\s+ruleset|add\s+table\s)/.test(t);
	}
	return false;
}

export function parseNftRuleset(text: string, path: string): Ruleset {
	const lines = text.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	const problems: RulesetProblem[] = [];
	const tables = new Map<string, Table>();
	let table: Table | undefined;
	let chain: Chain | undefined;
	let set: NftSet | undefined;
	let object = 0;
	const pendingBindings: Array<{outer: Chain; name: string; line: number}> = [];
	const inBinding: Chain[] = [];
	/** `define NAME = VALUE` of a file given as written: `$NAME` in later lines reads as VALUE, as nft's scanner substitutes it. */
	const defines = new Map<string, string>();
	const expand = (line: string): string => {
		if (defines.size === 0 || !line.includes('$')) return line;
		let out = line.replace(/\$([A-Za-z_][\w-]*)/g, (whole, name: string) => defines.get(name) ?? whole);
		// A set variable inside a set is merged into it, as nft does: `{ { 80, 443 }, 8443 }` is `{ 80, 443, 8443 }`.
		for (let before = ''; before !== out; ) {
			before = out;
			out = out.replace(/\{([^{}]*)\{([^{}]*)\}([^{}]*)\}/, (_m, a: string, b: string, c: string) => `{${a}${b.trim()}${c}}`);
		}
		return out;
	};

	for (let i = 0; i < lines.length; i++) {
		const lineNo = i + 1;
		let raw = lines[i]!;
		if (set || object > 0) {
			// A set's elements: nft breaks a long list over lines; read it as one.
			if (/^\s*elements\s*=\s*\{/.test(raw)) {
				let depth = braces(raw);
				while (depth > 0 && i + 1 < lines.length) {
					const next = lines[++i]!;
					raw += ` ${next.trim()}`;
					depth += braces(next);
				}
			}
			const m = nftRulesetGrammar.match(raw, 'nftSetLine');
			if (m.failed()) {
				problem(problems, raw, lineNo, m.getRightmostFailurePosition(), m.shortMessage);
				continue;
			}
			const v = nftRulesetSemantics(m)['nftSetLine']() as NftSetLine;
			if (v.kind === 'close') {
				if (object > 0) object--;
				else set = undefined;
				continue;
			}
			if (!set) continue;
			if (v.kind === 'type') set.type = v.text;
			else if (v.kind === 'flags') set.flags = [...v.flags];
			else if (v.kind === 'elements') set.elements = v.elements.map(e => ({text: e.text, ...(e.verdict?.chain ? {chain: e.verdict.chain} : {})}));
			else if (v.kind === 'other' && v.text.startsWith('comment ')) set.comment = unquote(v.text.slice(8).trim());
			continue;
		}
		// A chain binding: `jump {` opens an anonymous chain whose rules follow, up to its `}`. It
		// reads as a jump to a chain of its own, named after the line (`c.binding@12`).
		const binding = chain && table && /\b(?:jump|goto)\s+\{\s*$/.test(raw.replace(/#\s*handle\s+\d+\s*$/, ''));
		if (binding) {
			const name = `${chain!.name}.binding@${lineNo}`;
			raw = raw.replace(/\{\s*$/, name);
			pendingBindings.push({outer: chain!, name, line: lineNo});
		}
		// The line as nft reads it: variables replaced by their values (the rule's text keeps them).
		const written = raw;
		raw = expand(raw);
		const m = nftRulesetGrammar.match(raw, 'nftLine');
		if (m.failed()) {
			problem(problems, raw, lineNo, m.getRightmostFailurePosition(), m.shortMessage);
			continue;
		}
		const v = nftRulesetSemantics(m)['nftLine']() as NftLine;
		switch (v.kind) {
			case 'define':
				defines.set(v.name, v.value);
				break;
			case 'blank':
			case 'comment':
			case 'include':
				break;
			case 'table': {
				if (table) problems.push({line: lineNo, message: `table ${v.family} ${v.name} opens inside table ${table.family} ${table.name} (a missing "}")`});
				const key = `${v.family} ${v.name}`;
				table = tables.get(key) ?? {name: v.name, family: v.family, chains: new Map(), committed: true, line: lineNo, sets: new Map(), ...(v.handle === undefined ? {} : {handle: v.handle})};
				tables.set(key, table);
				chain = undefined;
				break;
			}
			case 'chain': {
				if (!table) {
					problems.push({line: lineNo, message: `chain ${v.name} outside a table`});
					break;
				}
				chain = table.chains.get(v.name) ?? {table: table.name, name: v.name, builtin: false, rules: []};
				chain.declaredAt ??= lineNo;
				if (v.handle !== undefined) chain.handle = v.handle;
				table.chains.set(v.name, chain);
				break;
			}
			case 'set': {
				if (!table) {
					problems.push({line: lineNo, message: `${v.map ? 'map' : 'set'} ${v.name} outside a table`});
					object++;
					break;
				}
				set = {name: v.name, map: v.map, flags: [], elements: [], line: lineNo, ...(v.handle === undefined ? {} : {handle: v.handle})};
				table.sets!.set(v.name, set);
				break;
			}
			case 'object':
				object++;
				break;
			case 'close':
				if (inBinding.length > 0) {
					// The end of a chain binding (`} # handle 39`): back to the chain it is in.
					chain = inBinding.pop();
					break;
				}
				if (chain) chain = undefined;
				else if (table) table = undefined;
				else problems.push({line: lineNo, message: 'a "}" that closes nothing'});
				break;
			case 'baseChain': {
				if (!chain || !table) {
					problems.push({line: lineNo, message: 'a base chain declaration outside a chain'});
					break;
				}
				const priority = nftPriority(v.priorityBase, v.priorityOffset, table.family ?? 'ip');
				chain.nft = {type: v.type, hook: v.hook, ...(v.device ? {device: v.device} : {}), ...(priority === undefined ? {} : {priority}), priorityText: v.priorityText};
				(chain as {builtin: boolean}).builtin = true;
				chain.policy = (v.policy ?? 'accept').toUpperCase();
				break;
			}
			case 'policy':
				if (chain) chain.policy = v.policy.toUpperCase();
				break;
			case 'rule': {
				if (!chain || !table) {
					// Table properties: `flags dormant`, `comment "…"`.
					if (table && /^(?:flags|comment)\s/.test(v.text)) break;
					problems.push({line: lineNo, message: `a rule outside a chain: ${v.text}`});
					break;
				}
				// A chain's own comment: `comment "…"` alone, before its rules.
				if (v.statements.length === 1 && v.statements[0]!.s === 'comment' && chain.rules.length === 0) break;
				const {rule, counters} = assembleNftRule(v.statements);
				if (rule.matches.some(x => x.hidden) || rule.target?.hidden) table.iptablesNft = true;
				const text = written === raw ? v.text.trim() : written.replace(/#\s*handle\s+\d+\s*$/, '').trim();
				const r = nftRule(table.name, chain, text, rule, counters, lineNo, v.handle);
				chain.rules.push(r);
				const bound = pendingBindings.find(x => x.line === lineNo);
				if (bound) {
					const inner: Chain = {table: table.name, name: bound.name, builtin: false, rules: [], declaredAt: lineNo};
					table.chains.set(inner.name, inner);
					inBinding.push(chain);
					chain = inner;
				}
				break;
			}
		}
	}
	if (table) problems.push({line: lines.length, message: `table ${table.family} ${table.name} has no closing "}" (listing cut?); its rules are loaded anyway`});
	for (const t of tables.values()) {
		if (t.iptablesNft !== true && (t.family === 'ip' || t.family === 'ip6') && IPTABLES_TABLES.has(t.name) && [...t.chains.values()].some(c => c.name === c.name.toUpperCase() && c.nft)) t.iptablesNft = true;
	}
	const families = new Set([...tables.values()].map(t => t.family));
	const family = families.size === 1 && families.has('ip') ? 'ipv4' : families.size === 1 && families.has('ip6') ? 'ipv6' : 'unknown';
	return {path, family, backend: 'nft', format: 'nft', tables, legacyTablesPresent: false, problems, lines: lines.length};
}

function braces(line: string): number {
	let depth = 0;
	let quoted = false;
	for (const ch of line) {
		if (ch === '"') quoted = !quoted;
		else if (!quoted && ch === '{') depth++;
		else if (!quoted && ch === '}') depth--;
	}
	return depth;
}

function unquote(text: string): string {
	return text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

function problem(problems: RulesetProblem[], raw: string, line: number, at: number, message: string | undefined): void {
	const column = at + 1;
	problems.push({line, column, message: `not an nft ruleset line: ${(message ?? '').replace(/^Line \d+, col \d+: /, '')}`, excerpt: excerptAt(raw, column)});
}
