/**
 * parseRuleset: the text of an iptables-save / ip6tables-save / iptables -S dump → Ruleset.
 *
 * Input:  "*nat\n:PREROUTING ACCEPT [0:0]\n[4:240] -A PREROUTING -d 198.19.96.1/32 -j DNAT --to-destination 198.18.1.50\nCOMMIT\n"
 * Output: {tables: {nat: {chains: {PREROUTING: {policy:'ACCEPT', rules:[{pos:1, target:'DNAT',
 *           parsed:{matches:[{module:'basic', options:[-d 198.19.96.1/32]}], target:{name:'DNAT', options:[--to-destination …]}}, …}]}}}}, problems: []}
 *
 * An `nft list ruleset` listing goes to parseNftRuleset (src/parser/nft-ruleset.ts), `nft -j
 * list ruleset` to parseNftJson (src/parser/nft-json.ts); both come back in the same model. Every line is matched by the Ruleset grammar on its own, so one bad line (a stderr message
 * pasted into the dump, a line cut by a copy) is reported with its line and column and the rest
 * of the dump still loads. Each rule is read into its structure (src/parser/rule.ts) once, here;
 * its words (`args`, `matches`, `targetArgs`) stay for the few who need the rule as written.
 */
import {rulesetGrammar} from './grammar.js';
import {looksLikeNftJson, parseNftJson} from './nft-json.js';
import {matchRulesetPieces} from './rule-segments.js';
import {looksLikeNft, parseNftRuleset} from './nft-ruleset.js';
import type {ParsedRule, RuleItem} from './rule.js';
import {rulesetSemantics} from './semantics/ruleset.js';
import type {Counters, RulesetLine, RuleSpecRead} from './semantics/to-ruleset-line.js';
import {excerptAt} from './trace-line.js';
import {isBuiltinChain} from '../netfilter/hooks.js';

export type {Counters} from './semantics/to-ruleset-line.js';
export type * from './rule.js';

export {BUILTIN_CHAINS, isBuiltinChain} from '../netfilter/hooks.js';

export interface Rule {
	readonly table: string;
	readonly chain: string;
	/** 1-based position in the chain: the N of `rule:N` in a TRACE line. */
	readonly pos: number;
	/** The rule as written, `-A CHAIN …`, without counters. */
	readonly text: string;
	/** The rule, structured: its matches with their options, its target with its options. */
	readonly parsed: ParsedRule;
	/** Arguments after `-A CHAIN`, quotes removed (counters `-c p b` included). */
	readonly args: readonly string[];
	/** The match part: every argument before `-j`/`-g`, counters left out. */
	readonly matches: readonly string[];
	/** Target of `-j` or `-g`; undefined for a rule without one (it only counts). */
	readonly target?: string;
	readonly targetArgs: readonly string[];
	readonly goto: boolean;
	readonly counters?: Counters;
	/** Line in the dump. */
	readonly line: number;
	/** nft listings: the rule's handle (`# handle 12`, nft -a). */
	readonly handle?: number;
	/** The rule is in nft syntax (an `nft list ruleset` listing): `text` is nft's, not iptables'. */
	readonly syntax?: 'nft';
}

export interface Chain {
	readonly table: string;
	readonly name: string;
	readonly builtin: boolean;
	/** ACCEPT / DROP for built-in chains; undefined for user chains (`-`). */
	policy?: string;
	policyCounters?: Counters;
	readonly rules: Rule[];
	/** Line of the `:CHAIN` / `-N` / `-P` declaration; undefined when only rules name it. */
	declaredAt?: number;
	/** nft base chains: `type filter hook input priority filter + 10; policy drop;`. */
	nft?: NftChainInfo;
	/** nft listings: the chain's handle. */
	handle?: number;
}

/** What an nft base chain declares. */
export interface NftChainInfo {
	readonly type: string;
	/** nft's hook name: `prerouting`, `input`, `forward`, `output`, `postrouting`, `ingress`, `egress`. */
	readonly hook: string;
	readonly device?: string;
	/** The priority as a number (`filter + 10` → 10, `dstnat` → -100), when nft's names say it. */
	readonly priority?: number;
	/** As written: `filter + 10`. */
	readonly priorityText: string;
}

/** A named nft set or map (`set allowed { … }`, `map service-ips { … }`). */
export interface NftSet {
	readonly name: string;
	readonly map: boolean;
	type?: string;
	flags: string[];
	/** Each element as written, and the chains a verdict map's element jumps or goes to. */
	elements: Array<{readonly text: string; readonly chain?: string}>;
	readonly line: number;
	readonly handle?: number;
	comment?: string;
}

export interface Table {
	readonly name: string;
	readonly chains: Map<string, Chain>;
	/** Line of `*table`, or undefined for -S dumps. */
	readonly line?: number;
	committed: boolean;
	/** nft listings: the table's family (`ip`, `ip6`, `inet`, `arp`, `bridge`, `netdev`); the map key is `family name`. */
	readonly family?: string;
	readonly handle?: number;
	/** nft listings: named sets and maps. */
	readonly sets?: Map<string, NftSet>;
	/** nft listings: written by iptables-nft (its `xt` expressions or its tables' names), not native. */
	iptablesNft?: boolean;
}

export interface RulesetProblem {
	readonly line: number;
	readonly column?: number;
	readonly message: string;
	readonly excerpt?: string;
}

export interface Ruleset {
	/** File name, as the user gave it. */
	readonly path: string;
	family: 'ipv4' | 'ipv6' | 'unknown';
	backend: 'legacy' | 'nft' | 'unknown';
	/** `nft`: `nft list ruleset`; `nft-json`: `nft -j list ruleset`. */
	readonly format: 'save' | 'list-rules' | 'empty' | 'nft' | 'nft-json';
	readonly tables: Map<string, Table>;
	/** `# Generated by iptables-save v1.8.9 (nf_tables) on …` */
	readonly generatedBy?: string;
	/** The dump carries iptables-nft-save's `# Warning: iptables-legacy tables present` line. */
	readonly legacyTablesPresent: boolean;
	/** Lines that did not load, and structural warnings (missing COMMIT, undeclared chain). */
	readonly problems: RulesetProblem[];
	/** Number of lines in the dump. */
	readonly lines: number;
}

function wordsOf(item: RuleItem): readonly string[] {
	switch (item.item) {
		case 'option':
			return item.option.words;
		case 'stray':
			return [item.word];
		default:
			return item.words;
	}
}

/** A rule from what the grammar read of its arguments (`spec`); `counters` from `[p:b]` before it, if any. */
export function makeRule(table: string, chain: string, pos: number, text: string, spec: Pick<RuleSpecRead, 'items' | 'rule'>, line: number, counters?: Counters): Rule {
	// Word lists are joined with concat, which sizes them exactly: a dump holds three per rule.
	const all: Array<readonly string[]> = [];
	const before: Array<readonly string[]> = [];
	const after: Array<readonly string[]> = [];
	let atTarget = false;
	for (const item of spec.items) {
		const words = wordsOf(item);
		all.push(words);
		if (item.item === 'counters') continue;
		if (item.item === 'target' && !atTarget) {
			atTarget = true;
			continue;
		}
		(atTarget ? after : before).push(words);
	}
	const none: string[] = [];
	const args = none.concat(...all);
	const matches = none.concat(...before);
	const targetArgs = none.concat(...after);
	const target = spec.rule.target;
	const count = spec.rule.counters ?? counters;
	return {
		table,
		chain,
		pos,
		text,
		parsed: spec.rule,
		args,
		matches,
		...(target ? {target: target.name} : {}),
		targetArgs,
		goto: target?.goto ?? false,
		...(count ? {counters: count} : {}),
		line,
	};
}

/**
 * One rule as a tool printed it outside a dump (xtables-monitor: `-A INPUT -p tcp -j ACCEPT`),
 * read by the same grammar; undefined when the text is no `-A`/`-I` rule. Its pos and line are 0.
 */
export function parseRuleText(text: string, table = ''): Rule | undefined {
	const m = rulesetGrammar.match(text, 'rulesetLine');
	if (m.failed()) return undefined;
	const value = rulesetSemantics(m)['line']() as RulesetLine;
	return value.kind === 'append' ? makeRule(table, value.chain, 0, value.text, value, 0, value.counters) : undefined;
}

/** Tables whose built-in chain sets and typical targets identify an `iptables -S` dump that has no `*table` line. */
function guessTable(policyChains: Set<string>, targets: Set<string>, path: string): string {
	const hint = /(?:^|[^a-z])(raw|mangle|nat|filter|security)(?:[^a-z]|$)/i.exec(path.split('/').pop() ?? '');
	if (hint) return hint[1]!.toLowerCase();
	if (['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT'].some(t => targets.has(t))) return 'nat';
	if (['TRACE', 'NOTRACK', 'CT'].some(t => targets.has(t))) return 'raw';
	if (['MARK', 'TPROXY', 'TCPMSS', 'CHECKSUM', 'CONNMARK', 'TOS', 'DSCP', 'TTL', 'HL'].some(t => targets.has(t))) return 'mangle';
	if (policyChains.has('POSTROUTING') && policyChains.has('FORWARD')) return 'mangle';
	if (policyChains.has('POSTROUTING')) return 'nat';
	if (policyChains.has('PREROUTING') && !policyChains.has('INPUT')) return 'raw';
	return 'filter';
}

/**
 * One dump line as the Ruleset grammar reads it whole (`rulesetLine`), or undefined when it does
 * not match: the reference the piece parser (src/parser/rule-segments.ts) is tested against.
 */
export function matchWholeRulesetLine(raw: string): RulesetLine | undefined {
	const m = rulesetGrammar.match(raw, 'rulesetLine');
	return m.failed() ? undefined : (rulesetSemantics(m)['line']() as RulesetLine);
}

/** How far parseRuleset got: `line` of `lines` (called every few thousand lines). */
export type RulesetProgress = (line: number, lines: number) => void;

/** Parses one dump. Never throws on content: what cannot be read is in `problems`. */
export function parseRuleset(text: string, path: string, progress?: RulesetProgress): Ruleset {
	if (looksLikeNft(text)) return parseNftRuleset(text, path);
	if (looksLikeNftJson(text)) return parseNftJson(text, path);
	const lines = text.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	const problems: RulesetProblem[] = [];
	const parsed: Array<{line: number; value: RulesetLine}> = [];
	let sawTableLine = false;
	let sawCommand = false;

	let listing = 0;
	for (let i = 0; i < lines.length; i++) {
		const raw = lines[i]!;
		if (progress && (i & 4095) === 0) progress(i, lines.length);
		const pieces = matchRulesetPieces(raw);
		if (pieces) {
			if (pieces.kind === 'append' || pieces.kind === 'chain') sawCommand = true;
			parsed.push({line: i + 1, value: pieces});
			continue;
		}
		const m = rulesetGrammar.match(raw, 'rulesetLine');
		if (m.failed() && rulesetGrammar.match(raw, 'listingLine').succeeded()) {
			// `iptables -L` output: say so once instead of once per line.
			if (listing++ === 0) problems.push({line: i + 1, message: 'this is `iptables -L` output, which has no rule positions or full matches; save the rules with `iptables-save` (or `iptables -S`) instead'});
			continue;
		}
		if (m.failed()) {
			const column = m.getRightmostFailurePosition() + 1;
			problems.push({line: i + 1, column, message: `not a ruleset line: ${(m.shortMessage ?? '').replace(/^Line \d+, col \d+: /, '')}`, excerpt: excerptAt(raw, column)});
			continue;
		}
		const value = rulesetSemantics(m)['line']() as RulesetLine;
		if (value.kind === 'table') sawTableLine = true;
		if (value.kind === 'append' || value.kind === 'policy' || value.kind === 'newChain' || value.kind === 'chain') sawCommand = true;
		parsed.push({line: i + 1, value});
	}

	const format: Ruleset['format'] = sawTableLine ? 'save' : sawCommand ? 'list-rules' : 'empty';
	const tables = new Map<string, Table>();
	let generatedBy: string | undefined;
	let legacyTablesPresent = false;

	// -S dumps name no table: pick one from what the dump contains.
	let defaultTable = 'filter';
	if (format === 'list-rules') {
		const policyChains = new Set<string>();
		const targets = new Set<string>();
		for (const {value} of parsed) {
			if (value.kind === 'policy') policyChains.add(value.chain);
			if (value.kind === 'append' && value.rule.target) targets.add(value.rule.target.name);
		}
		defaultTable = guessTable(policyChains, targets, path);
	}

	let current: Table | undefined;
	const tableFor = (line: number): Table => {
		if (current) return current;
		if (format === 'save') problems.push({line, message: 'rule before any *table line; assuming the filter table'});
		current = ensureTable(tables, format === 'save' ? 'filter' : defaultTable);
		return current;
	};

	for (const {line, value} of parsed) {
		switch (value.kind) {
			case 'comment': {
				const t = value.text.trim();
				if (/^Generated by /.test(t) && !generatedBy) generatedBy = t.replace(/^Generated by /, '');
				if (/iptables-legacy tables present/.test(t)) legacyTablesPresent = true;
				break;
			}
			case 'table': {
				if (current && !current.committed) problems.push({line, message: `table ${current.name} has no COMMIT before *${value.name}; its rules are loaded anyway`});
				current = ensureTable(tables, value.name, line);
				current.committed = false;
				break;
			}
			case 'commit': {
				if (current) current.committed = true;
				else problems.push({line, message: 'COMMIT outside a table'});
				current = format === 'save' ? undefined : current;
				break;
			}
			case 'chain': {
				const t = tableFor(line);
				const chain = ensureChain(t, value.name);
				chain.declaredAt ??= line;
				if (value.policy !== '-') chain.policy = value.policy;
				if (value.counters) chain.policyCounters = value.counters;
				break;
			}
			case 'policy': {
				const t = tableFor(line);
				const chain = ensureChain(t, value.chain);
				chain.declaredAt ??= line;
				chain.policy = value.policy;
				if (value.counters) chain.policyCounters = value.counters;
				break;
			}
			case 'newChain': {
				const chain = ensureChain(tableFor(line), value.chain);
				chain.declaredAt ??= line;
				break;
			}
			case 'append': {
				const t = tableFor(line);
				const chain = ensureChain(t, value.chain);
				// -I CHAIN [N] inserts at N (default 1); the rules after it move down.
				const index = value.insert ? Math.min(Math.max((value.position ?? 1) - 1, 0), chain.rules.length) : chain.rules.length;
				const rule = makeRule(t.name, chain.name, index + 1, value.text, value, line, value.counters);
				chain.rules.splice(index, 0, rule);
				if (value.insert) renumber(chain);
				break;
			}
			case 'blank': {
				break;
			}
		}
	}
	if (current && format === 'save' && !current.committed) {
		problems.push({line: lines.length, message: `table ${current.name} ends without COMMIT (dump cut?); its rules are loaded anyway`});
	}

	// Chains that rules jump to or fill but that were never declared.
	for (const table of tables.values()) {
		for (const chain of table.chains.values()) {
			if (chain.declaredAt === undefined && !chain.builtin && format === 'save') {
				const first = chain.rules[0];
				problems.push({line: first?.line ?? 0, message: `chain ${table.name}:${chain.name} has rules but no ":${chain.name}" declaration`});
			}
		}
	}

	const header = generatedBy ?? '';
	const family = /ip6tables/.test(header) ? 'ipv6' : /iptables/.test(header) ? 'ipv4' : guessFamily(tables, path);
	const backend = /nf_tables/.test(header) ? 'nft' : /legacy/.test(header) ? 'legacy' : header ? 'legacy' : 'unknown';

	return {
		path,
		family,
		backend,
		format,
		tables,
		...(generatedBy ? {generatedBy} : {}),
		legacyTablesPresent,
		problems,
		lines: lines.length,
	};
}

function renumber(chain: Chain): void {
	chain.rules.forEach((rule, i) => {
		if (rule.pos !== i + 1) chain.rules[i] = {...rule, pos: i + 1};
	});
}

function ensureTable(tables: Map<string, Table>, name: string, line?: number): Table {
	let t = tables.get(name);
	if (!t) {
		t = {name, chains: new Map(), committed: false, ...(line ? {line} : {})};
		tables.set(name, t);
	}
	return t;
}

function ensureChain(table: Table, name: string): Chain {
	let c = table.chains.get(name);
	if (!c) {
		c = {table: table.name, name, builtin: isBuiltinChain(table.name, name), rules: []};
		table.chains.set(name, c);
	}
	return c;
}

function guessFamily(tables: Map<string, Table>, path: string): 'ipv4' | 'ipv6' | 'unknown' {
	for (const t of tables.values()) {
		for (const c of t.chains.values()) {
			for (const r of c.rules) {
				// The first rule that names an address says which family the dump is.
				const o = r.parsed.matches[0]?.load === 'basic' ? r.parsed.matches[0].options.find(x => x.name === '-s' || x.name === '-d') : undefined;
				if (o) return o.value.kind === 'addrs' && o.value.addrs[0]?.v6 ? 'ipv6' : 'ipv4';
			}
		}
	}
	if (/ip6|v6/i.test(path)) return 'ipv6';
	return tables.size > 0 ? 'ipv4' : 'unknown';
}
