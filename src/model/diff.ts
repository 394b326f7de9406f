/**
 * Rule diff of two nodes: what differs in meaning, with node-specific names mapped away.
 *
 * Input:  the working node's and the broken node's saved rulesets.
 * Output: {mappings:[{working:'enp3s0', broken:'wlp59s0', why:'interface: same role in 3 rules'}, …],
 *          differences:[{table:'nat', chain:'POSTROUTING', kind:'only-in-working', working:'-A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE', broken:null}, …]}
 *
 * How names are paired: every interface, user chain and address is a "variable" token. A token
 * that appears on one side only is described by the rules it appears in, with all variable tokens
 * replaced by their class (its context). Tokens of the same class whose contexts agree are
 * treated as the same (greedy, best agreement first, at least half of their contexts shared).
 * Chains named after a mapped interface (cali-fw-<veth>) follow their interface. Generated rule
 * ids (Calico's `cali:<id>` comments) and counters are ignored.
 */
import type {Chain, Rule, RuleOption, Ruleset, Table} from '../parser/ruleset.js';
import {ruleCommand, ruleSpec} from './command.js';
import {valueText} from '../parser/rule-data.js';
import {formatNatRange, matchOptions, basicOption} from './rule-query.js';

export type DiffKind = 'only-in-working' | 'only-in-broken' | 'changed' | 'policy' | 'order';

export interface Difference {
	table: string;
	chain: string;
	kind: DiffKind;
	/** The rule (or chain declaration / policy) on the working node, as written there; null when absent. */
	working: string | null;
	broken: string | null;
	workingPos?: number;
	brokenPos?: number;
	workingLine?: number;
	brokenLine?: number;
	/** For chain-level differences: how many rules the chain has. */
	rules?: number;
	/** The same difference this many times (repeated copies of one rule). */
	count?: number;
	/** The command that would make the broken node like the working one here. */
	fix?: string;
}

export interface Mapping {
	working: string;
	broken: string;
	why: string;
}

export interface RuleDiff {
	differences: Difference[];
	mappings: Mapping[];
	/** Everything else ignored as node noise, in words (counters, header timestamps, rule ids). */
	ignored: string[];
}

type TokenClass = 'iface' | 'chain' | 'addr';

interface Side {
	rs: Ruleset;
	/** Order of first appearance of each variable token (class|value). */
	firstSeen: Map<string, number>;
	/** Every user chain, per table. */
	chains: Map<string, Set<string>>;
	/** Occurrences of variable tokens: class|value → context strings. */
	contexts: Map<string, string[]>;
	/** The shape of each address token that can pair. */
	shapes: Map<string, AddrShape>;
}

/** `cali-fw-cali7f3e9a1b2c4` → `cali-fw-*`; `KUBE-SEP-Z3LGBHLMGXKUBZ2Z` → `KUBE-SEP-*`; names without a generated tail stay as they are. */
function chainShape(name: string): string {
	const m = /^(.*?[-_.])([A-Za-z0-9]*\d[A-Za-z0-9]*)$/.exec(name);
	return m ? `${m[1]}*` : name;
}

/**
 * One word of a rule as diff compares it. Node-specific names (an interface, a user chain, an
 * address) carry their class; the rest must be equal on both nodes.
 */
interface Token {
	/** What is compared: iptables-save's spelling of options (`--source` → `-s`), generated rule ids blanked (`cali:<id>`). */
	readonly key: string;
	/** As written, for the commands diff suggests. */
	readonly written: string;
	readonly cls?: TokenClass;
	/** An address with a port (`--to-destination 10.0.0.2:8080`): the address alone, which names the same thing. */
	readonly bare?: string;
	/** The value written with its bare address renamed. */
	readonly withBare?: (to: string) => string;
	/** A list's elements, renamed one by one (`-s 10.0.0.1/32,10.0.0.2/32`, `--ctstate NEW,RELATED`). */
	readonly parts?: readonly string[];
	/** For an address: what it must share with an address on the other node to be paired with it. */
	readonly addr?: AddrShape;
}

/** Same family, the same prefix length, both with a port or both without: a /26 pod block pairs with a /26, a host with a host. */
interface AddrShape {
	readonly v6: boolean;
	/** Prefix length as written; undefined when none was. */
	readonly bits?: number;
	readonly port: boolean;
}

function plain(word: string, key = word): Token {
	return {key, written: word};
}

/** The tokens of one option: its flag (and `!`) as written, then its value. */
function optionTokens(o: RuleOption): Token[] {
	const head = o.words.slice(0, o.words.length - o.values.length).map(w => plain(w, w === o.flag ? o.name : w));
	const v = o.value;
	const [word = ''] = o.values;
	switch (v.kind) {
		case 'iface':
			// iptables' spelling (`eth0`, `cali+`), also for nft's `"eth0"`, `"cali*"`.
			return [...head, {key: v.iface.text, written: word, cls: 'iface'}];
		case 'addrs': {
			if (o.name !== '-s' && o.name !== '-d' && o.name !== '--to') break;
			const one = v.addrs.length === 1 ? v.addrs[0] : undefined;
			const shape = one ? {v6: one.v6, ...(one.masked ? {bits: one.bits} : {}), port: false} : undefined;
			return [...head, {key: word, written: word, cls: 'addr', ...(one ? {} : {parts: v.addrs.map(a => a.text)}), ...(shape ? {addr: shape} : {})}];
		}
		case 'addrRange':
			return [...head, {key: word, written: word, cls: 'addr'}];
		case 'nat': {
			const nat = v.nat;
			if (nat.minAddr === undefined) break;
			const single = nat.minAddr === nat.maxAddr;
			const port = nat.minPort !== undefined;
			if (!single) return [...head, {key: word, written: word, cls: 'addr'}];
			return [
				...head,
				{
					key: word,
					written: word,
					cls: 'addr',
					addr: {v6: nat.v6 ?? false, port: port && !nat.v6},
					...(port ? {bare: nat.minAddr, withBare: (to: string) => formatNatRange({...nat, minAddr: to, maxAddr: to})} : {}),
				},
			];
		}
		case 'text':
			if (v.generated) return [...head, plain(word, 'cali:<id>')];
			break;
		case 'list':
			return [...head, {...plain(word), parts: v.items}];
	}
	return [...head, ...o.values.map(w => plain(w))];
}

const tokenCache = new WeakMap<Rule, Token[]>();

/**
 * A rule's tokens, counters left out, read once per rule. `chains`: the user chains of its
 * table (a jump to one names a node-specific chain); they are known when the tokens are first
 * needed (buildSide), and only the classes depend on them.
 */
function tokensOf(rule: Rule, chains: ReadonlySet<string> = new Set()): Token[] {
	let tokens = tokenCache.get(rule);
	if (!tokens) tokenCache.set(rule, (tokens = ruleTokens(rule, chains)));
	return tokens;
}

function ruleTokens(rule: Rule, chains: ReadonlySet<string>): Token[] {
	const out: Token[] = [];
	for (const p of rule.parsed.pieces) {
		switch (p.piece) {
			case 'match':
				out.push(plain(p.words[0]!, '-m'), plain(p.module));
				break;
			case 'target':
				out.push(plain(p.goto ? '-g' : '-j'), {key: p.name, written: p.name, ...(p.kind === 'chain' && chains.has(p.name) ? {cls: 'chain' as const} : {})});
				break;
			case 'option':
				out.push(...optionTokens(p));
				break;
			case 'stray':
				out.push(plain(p.words[0]));
				break;
		}
	}
	return out;
}

function tokenKey(cls: TokenClass, value: string): string {
	return `${cls}|${value}`;
}

function buildSide(rs: Ruleset): Side {
	const chains = new Map<string, Set<string>>();
	for (const t of rs.tables.values()) chains.set(t.name, new Set([...t.chains.values()].filter(c => !c.builtin).map(c => c.name)));
	const contexts = new Map<string, string[]>();
	const firstSeen = new Map<string, number>();
	const shapes = new Map<string, AddrShape>();
	const add = (k: string, ctx: string) => {
		if (!firstSeen.has(k)) firstSeen.set(k, firstSeen.size);
		const list = contexts.get(k);
		if (list) list.push(ctx);
		else contexts.set(k, [ctx]);
	};
	for (const t of rs.tables.values()) {
		const user = chains.get(t.name)!;
		for (const c of t.chains.values()) {
			const chainCtx = c.builtin ? c.name : chainShape(c.name);
			for (const rule of c.rules) {
				const tokens = tokensOf(rule, user);
				const skeleton = tokens.map(x => (x.cls ? `<${x.cls}>` : x.key));
				tokens.forEach((x, i) => {
					if (!x.cls) return;
					const marked = [...skeleton];
					marked[i] = '@';
					const context = `${t.name}:${chainCtx} ${marked.join(' ')}`;
					add(tokenKey(x.cls, x.key), context);
					if (x.addr) shapes.set(x.key, x.addr);
					// Addresses with ports (--to-destination 10.0.0.2:8080) also count for the bare address.
					if (x.bare !== undefined) {
						add(tokenKey(x.cls, x.bare), context);
						shapes.set(x.bare, {v6: x.addr?.v6 ?? false, port: false});
					}
				});
			}
			if (!c.builtin) {
				// A chain is also described by its own rules' shapes.
				for (const rule of c.rules) {
					add(tokenKey('chain', c.name), `${t.name}:in ${tokensOf(rule, user).map(x => (x.cls ? `<${x.cls}>` : x.key)).join(' ')}`);
				}
				if (c.rules.length === 0) add(tokenKey('chain', c.name), `${t.name}:empty`);
			}
		}
	}
	return {rs, chains, contexts, firstSeen, shapes};
}

/** Shared fraction of two context multisets. */
function agreement(a: readonly string[], b: readonly string[]): {score: number; shared: number} {
	const counts = new Map<string, number>();
	for (const x of a) counts.set(x, (counts.get(x) ?? 0) + 1);
	let shared = 0;
	for (const x of b) {
		const n = counts.get(x) ?? 0;
		if (n > 0) {
			shared++;
			counts.set(x, n - 1);
		}
	}
	return {score: (2 * shared) / (a.length + b.length), shared};
}

export interface DiffOptions {
	/** User-declared equivalences, `working=broken` names or addresses. */
	readonly same?: ReadonlyArray<readonly [string, string]>;
}

/** Pairs the tokens that only one side has, class by class. */
function pairTokens(w: Side, b: Side, options: DiffOptions): {map: Map<string, string>; mappings: Mapping[]} {
	const map = new Map<string, string>();
	const mappings: Mapping[] = [];
	const mappedBroken = new Set<string>();
	for (const [from, to] of options.same ?? []) {
		map.set(from, to);
		mappedBroken.add(to);
		mappings.push({working: from, broken: to, why: 'declared with --same'});
	}
	const values = (s: Side, cls: TokenClass) => [...s.contexts.keys()].filter(k => k.startsWith(`${cls}|`)).map(k => k.slice(cls.length + 1));

	for (const cls of ['iface', 'addr', 'chain'] as const) {
		const wv = values(w, cls);
		const bv = new Set(values(b, cls));
		const onlyW = wv.filter(v => !bv.has(v) && !map.has(v));
		const wSet = new Set(wv);
		const onlyB = [...bv].filter(v => !wSet.has(v) && !mappedBroken.has(v));

		// Chains named after a mapped token follow it: cali-fw-<veth> ↔ cali-fw-<veth'>.
		if (cls === 'chain') {
			for (const v of onlyW) {
				for (const [from, to] of map) {
					if (!v.includes(from)) continue;
					const renamed = v.split(from).join(to);
					if (onlyB.includes(renamed) && !mappedBroken.has(renamed)) {
						map.set(v, renamed);
						mappedBroken.add(renamed);
						mappings.push({working: v, broken: renamed, why: `chain named after ${from} ↔ ${to}`});
					}
				}
			}
		}

		// Equally good pairs are broken by order of appearance, so interchangeable workloads pair in order.
		const rank = (s: Side, list: readonly string[]) => new Map([...list].sort((p, q) => (s.firstSeen.get(tokenKey(cls, p)) ?? 0) - (s.firstSeen.get(tokenKey(cls, q)) ?? 0)).map((v, i) => [v, i]));
		const rankW = rank(w, onlyW);
		const rankB = rank(b, onlyB);
		const candidates: Array<{w: string; b: string; score: number; shared: number; distance: number}> = [];
		for (const x of onlyW) {
			if (map.has(x)) continue;
			const cx = w.contexts.get(tokenKey(cls, x))!;
			for (const y of onlyB) {
				if (mappedBroken.has(y)) continue;
				if (cls === 'chain' && chainShape(x) !== chainShape(y)) continue;
				if (cls === 'addr' && !compatibleAddresses(w.shapes.get(x), b.shapes.get(y))) continue;
				const {score, shared} = agreement(cx, b.contexts.get(tokenKey(cls, y))!);
				if (score >= 0.5) candidates.push({w: x, b: y, score, shared, distance: Math.abs(rankW.get(x)! - rankB.get(y)!)});
			}
		}
		candidates.sort((p, q) => q.score - p.score || q.shared - p.shared || p.distance - q.distance || p.w.localeCompare(q.w) || p.b.localeCompare(q.b));
		for (const c of candidates) {
			if (map.has(c.w) || mappedBroken.has(c.b)) continue;
			map.set(c.w, c.b);
			mappedBroken.add(c.b);
			const what = cls === 'iface' ? 'interface' : cls === 'addr' ? 'address' : 'chain';
			mappings.push({working: c.w, broken: c.b, why: `${what} in the same role in ${c.shared} rule(s)`});
		}
	}
	return {map, mappings};
}

/** Same family and, for prefixes, the same length: a /26 pod block maps to a /26, a host to a host. */
function compatibleAddresses(x: AddrShape | undefined, y: AddrShape | undefined): boolean {
	if (!x || !y) return false;
	return x.v6 === y.v6 && x.bits === y.bits && x.port === y.port;
}

/** A token written with working names renamed to their broken counterparts (`which`: the compared or the written form). */
function mapToken(t: Token, map: ReadonlyMap<string, string>, which: 'key' | 'written'): string {
	const word = t[which];
	const direct = map.get(word);
	if (direct !== undefined) return direct;
	if (t.bare !== undefined && t.withBare) {
		const to = map.get(t.bare);
		if (to !== undefined) return t.withBare(to);
	}
	if (t.parts && t.parts.some(x => map.has(x))) return t.parts.map(x => map.get(x) ?? x).join(',');
	return word;
}

/**
 * A rule as diff compares it across nodes, working names renamed by `map` (RuleDiff.mappings):
 * two rules that read the same here differ only in node noise.
 */
export function comparableRule(rule: Rule, map?: ReadonlyMap<string, string>): string {
	return keyOf(tokensOf(rule), map);
}

/** The tokens' compared forms, renamed when a map is given. */
function keyOf(tokens: readonly Token[], map?: ReadonlyMap<string, string>): string {
	return tokens.map(t => (map ? mapToken(t, map, 'key') : t.key)).join(' ');
}

/** Longest common subsequence of two key lists: index pairs. */
function lcs(a: readonly string[], b: readonly string[]): Array<[number, number]> {
	const n = a.length;
	const m = b.length;
	const dp: number[][] = Array.from({length: n + 1}, () => new Array<number>(m + 1).fill(0));
	for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
	const pairs: Array<[number, number]> = [];
	for (let i = 0, j = 0; i < n && j < m; ) {
		if (a[i] === b[j]) {
			pairs.push([i, j]);
			i++;
			j++;
		} else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) i++;
		else j++;
	}
	return pairs;
}

function tokenSimilarity(a: string, b: string): number {
	return agreement(a.split(' '), b.split(' ')).score;
}

/** nft listings: a chain as nft declares it (`chain input: type filter hook input priority filter; policy drop`). */
function nftDeclaration(c: Chain): string {
	const n = c.nft;
	return n ? `chain ${c.name} { type ${n.type} hook ${n.hook}${n.device ? ` device ${n.device}` : ''} priority ${n.priorityText}; policy ${(c.policy ?? 'accept').toLowerCase()}; }` : `chain ${c.name}`;
}

function declaration(rs: Ruleset, c: Chain): string {
	return isNftListing(rs) ? nftDeclaration(c) : `:${c.name} ${c.policy ?? '-'}`;
}

function isNftListing(rs: Ruleset): boolean {
	return rs.format === 'nft' || rs.format === 'nft-json';
}

/**
 * An iptables dump against an nft listing of the same node (iptables-nft-save beside nft list
 * ruleset): the listing's iptables-nft tables of the dump's family, compared rule by rule by
 * meaning; native tables, which an iptables dump cannot hold, are listed as left out.
 */
function diffAcrossSyntaxes(working: Ruleset, broken: Ruleset): RuleDiff {
	const nftSide = isNftListing(working) ? working : broken;
	const dump = nftSide === working ? broken : working;
	const family = dump.family === 'ipv6' ? 'ip6' : 'ip';
	const view = new Map<string, Table>();
	const left: string[] = [];
	for (const t of nftSide.tables.values()) {
		if (t.family === family && dump.tables.has(t.name)) view.set(t.name, t);
		else left.push(`${t.family ?? ''} ${t.name}`.trim());
	}
	const differences: Difference[] & {ignoredOrder?: number; hiddenCompared?: number} = [];
	const sides = nftSide === working ? {w: view, b: dump.tables} : {w: dump.tables, b: view};
	for (const name of new Set([...sides.w.keys(), ...sides.b.keys()])) {
		const wt = sides.w.get(name);
		const bt = sides.b.get(name);
		for (const wc of wt?.chains.values() ?? []) {
			const bc = bt?.chains.get(wc.name);
			if (!bc) {
				differences.push({table: name, chain: wc.name, kind: 'only-in-working', working: declaration(working, wc), broken: null, rules: wc.rules.length, ...(wc.declaredAt ? {workingLine: wc.declaredAt} : {})});
				continue;
			}
			if (wc.builtin && bc.builtin && (wc.policy ?? 'ACCEPT') !== (bc.policy ?? 'ACCEPT')) differences.push({table: name, chain: wc.name, kind: 'policy', working: `policy ${wc.policy ?? '-'}`, broken: `policy ${bc.policy ?? '-'}`});
			diffChain('', name, {...wc, builtin: false}, {...bc, builtin: false}, new Map(), differences, true);
		}
		for (const bc of bt?.chains.values() ?? []) {
			if (!wt?.chains.has(bc.name)) differences.push({table: name, chain: bc.name, kind: 'only-in-broken', working: null, broken: declaration(broken, bc), rules: bc.rules.length, ...(bc.declaredAt ? {brokenLine: bc.declaredAt} : {})});
		}
	}
	const ignored = [
		'packet and byte counters',
		'how each tool writes a rule (iptables options against nft statements, compared by what they match and do)',
		...(left.length > 0 ? [`tables of the nft listing an iptables dump cannot hold: ${left.join(', ')}`] : []),
	];
	if (differences.hiddenCompared) ignored.push(`the options of iptables-nft's xt matches and targets, which nft's listing does not show (${differences.hiddenCompared} rule(s) paired without them)`);
	if (differences.ignoredOrder) ignored.push(`the order of ${differences.ignoredOrder} rule(s) that cannot match the same packets as the rules they moved past`);
	return {differences, mappings: [], ignored};
}

export function diffRulesets(working: Ruleset, broken: Ruleset, options: DiffOptions = {}): RuleDiff {
	if (isNftListing(working) !== isNftListing(broken)) return diffAcrossSyntaxes(working, broken);
	const w = buildSide(working);
	const b = buildSide(broken);
	const {map, mappings} = pairTokens(w, b, options);
	const differences: Difference[] & {ignoredOrder?: number} = [];
	const nft = isNftListing(working) && isNftListing(broken);
	const ignored = nft ? ['packet and byte counters', 'rule, chain and table handles', 'the elements of sets and maps (addresses and ports of the node, its services and pods)'] : ['packet and byte counters', 'header comments (tool version, date)'];
	const usesIds = [working, broken].some(rs => [...rs.tables.values()].some(t => [...t.chains.values()].some(c => c.rules.some(hasGeneratedId))));
	if (usesIds) ignored.push('Calico rule ids (--comment "cali:…")');

	const tableNames = [...new Set([...working.tables.keys(), ...broken.tables.keys()])];
	for (const tname of tableNames) {
		const wt = working.tables.get(tname);
		const bt = broken.tables.get(tname);
		const wChains = wt ? [...wt.chains.values()] : [];
		const bChains = new Map((bt ? [...bt.chains.values()] : []).map(c => [c.name, c]));
		const matchedB = new Set<string>();
		for (const wc of wChains) {
			const bName = wc.builtin ? wc.name : (map.get(wc.name) ?? wc.name);
			const bc = bChains.get(bName);
			if (!bc) {
				differences.push({table: tname, chain: wc.name, kind: 'only-in-working', working: declaration(working, wc), broken: null, rules: wc.rules.length, ...(wc.declaredAt ? {workingLine: wc.declaredAt} : {})});
				continue;
			}
			matchedB.add(bName);
			if (nft) diffNftChain(tname, wc, bc, bt!, map, differences);
			else diffChain(broken.family, tname, wc, bc, map, differences);
		}
		for (const bc of bChains.values()) {
			if (matchedB.has(bc.name)) continue;
			differences.push({table: tname, chain: bc.name, kind: 'only-in-broken', working: null, broken: declaration(broken, bc), rules: bc.rules.length, ...(bc.declaredAt ? {brokenLine: bc.declaredAt} : {})});
		}
		// nft: named sets and maps, by name and type (their elements are the node's).
		if (nft) {
			for (const [name, ws] of wt?.sets ?? []) {
				const bs = bt?.sets?.get(name);
				const text = (x: {map: boolean; name: string; type?: string}) => `${x.map ? 'map' : 'set'} ${x.name}${x.type ? ` { type ${x.type} }` : ''}`;
				if (!bs) differences.push({table: tname, chain: '', kind: 'only-in-working', working: text(ws), broken: null, workingLine: ws.line});
				else if ((ws.type ?? '') !== (bs.type ?? '') || ws.map !== bs.map) differences.push({table: tname, chain: '', kind: 'changed', working: text(ws), broken: text(bs), workingLine: ws.line, brokenLine: bs.line});
			}
			for (const [name, bs] of bt?.sets ?? []) {
				if (!wt?.sets?.has(name)) differences.push({table: tname, chain: '', kind: 'only-in-broken', working: null, broken: `${bs.map ? 'map' : 'set'} ${bs.name}`, brokenLine: bs.line});
			}
		}
	}
	// Repeated copies of one rule (a service that re-adds its rules) are one difference, counted.
	const merged: Difference[] = [];
	for (const d of differences) {
		const same = merged.find(m => m.table === d.table && m.chain === d.chain && m.kind === d.kind && m.working === d.working && m.broken === d.broken && d.kind.startsWith('only-in'));
		if (same) same.count = (same.count ?? 1) + 1;
		else merged.push(d);
	}
	if (differences.ignoredOrder) ignored.push(`the order of ${differences.ignoredOrder} rule(s) that cannot match the same packets as the rules they moved past`);
	return {differences: merged, mappings, ignored};
}

/** A generated rule id (Calico's `--comment "cali:…"`): node noise, ignored. */
function hasGeneratedId(rule: Rule): boolean {
	return rule.parsed.pieces.some(p => p.piece === 'option' && p.value.kind === 'text' && p.value.generated === true);
}

/** The first option of this name the rule requires (not one it negates). */
function required(rule: Rule, name: '-i' | '-o' | '-p' | '-s' | '-d' | '--dport' | '--sport'): RuleOption | undefined {
	if (name === '--dport' || name === '--sport') return matchOptions(rule, name).find(o => !o.negated);
	const o = basicOption(rule, name);
	return o && !o.negated ? o : undefined;
}

/** Can the two rules never match the same packet? Only what is certain: different interfaces, protocols, ports, or non-overlapping addresses. */
export function disjoint(a: Rule, b: Rule): boolean {
	for (const name of ['-i', '-o'] as const) {
		const x = required(a, name)?.value;
		const y = required(b, name)?.value;
		if (x?.kind !== 'iface' || y?.kind !== 'iface') continue;
		const p = x.iface;
		const q = y.iface;
		if (p.text === q.text || (p.wildcard && q.name.startsWith(p.name)) || (q.wildcard && p.name.startsWith(q.name))) continue;
		return true;
	}
	{
		const x = required(a, '-p')?.value;
		const y = required(b, '-p')?.value;
		if (x?.kind === 'proto' && y?.kind === 'proto') {
			const same = x.number !== undefined && y.number !== undefined ? x.number === y.number : x.proto.toLowerCase() === y.proto.toLowerCase();
			if (!same) return true;
		}
	}
	for (const name of ['--dport', '--sport'] as const) {
		const x = required(a, name)?.value;
		const y = required(b, name)?.value;
		// Ranges and lists may overlap: only single ports are compared.
		if (x?.kind !== 'ports' || y?.kind !== 'ports' || x.ports.length !== 1 || y.ports.length !== 1) continue;
		const p = x.ports[0]!;
		const q = y.ports[0]!;
		if (p.from !== p.to || q.from !== q.to) continue;
		if (p.from !== q.from) return true;
	}
	for (const name of ['-s', '-d'] as const) {
		const x = required(a, name)?.value;
		const y = required(b, name)?.value;
		if (x?.kind !== 'addrs' || y?.kind !== 'addrs' || x.addrs.length !== 1 || y.addrs.length !== 1) continue;
		const p = x.addrs[0]!;
		const q = y.addrs[0]!;
		if (p.v6 !== q.v6) return true;
		const shift = BigInt((p.v6 ? 128 : 32) - Math.min(p.bits, q.bits));
		if (p.cidr.value >> shift !== q.cidr.value >> shift) return true;
	}
	return false;
}

/**
 * nft listings: a chain's declaration (base chain type, hook, priority, policy) and its rules,
 * compared as for iptables, with nft's commands as fixes (`nft insert rule … position HANDLE`,
 * `nft delete rule … handle N`).
 */
function diffNftChain(table: string, wc: Chain, bc: Chain, bt: Table, map: ReadonlyMap<string, string>, out: Difference[] & {ignoredOrder?: number; hiddenCompared?: number}): void {
	const where = `${bt.family ?? 'ip'} ${bt.name} ${bc.name}`;
	const wn = wc.nft;
	const bn = bc.nft;
	if ((wn || bn) && (wn?.type !== bn?.type || wn?.hook !== bn?.hook || wn?.priority !== bn?.priority || (wn?.device ?? '') !== (bn?.device ?? ''))) {
		out.push({table, chain: bc.name, kind: 'changed', working: nftDeclaration(wc), broken: nftDeclaration(bc), ...(wc.declaredAt ? {workingLine: wc.declaredAt} : {}), ...(bc.declaredAt ? {brokenLine: bc.declaredAt} : {})});
	} else if (wn && bn && (wc.policy ?? '') !== (bc.policy ?? '')) {
		out.push({table, chain: bc.name, kind: 'policy', working: `policy ${(wc.policy ?? '').toLowerCase()}`, broken: `policy ${(bc.policy ?? '').toLowerCase()}`, fix: `nft chain ${where} '{ policy ${(wc.policy ?? 'accept').toLowerCase()}; }'`});
	}
	const before = out.length;
	diffChain('', table, {...wc, builtin: false}, {...bc, builtin: false}, map, out);
	for (const d of out.slice(before)) {
		if (d.kind === 'only-in-working' && d.working !== null) {
			const at = d.workingPos === undefined ? undefined : nextInBroken(wc, bc, d.workingPos, map);
			const text = d.working
				.replace(/\bcounter packets \d+ bytes \d+/g, 'counter')
				.split(' ')
				.map(w => {
					const bare = /^"(.*)"$/.exec(w)?.[1];
					const to = map.get(bare ?? w);
					return to === undefined ? w : bare === undefined ? to : `"${to}"`;
				})
				.join(' ');
			d.fix = at?.handle !== undefined ? `nft insert rule ${where} position ${at.handle} ${text}` : `nft add rule ${where} ${text}`;
		} else if (d.kind === 'only-in-broken') {
			const rule = d.brokenPos === undefined ? undefined : bc.rules[d.brokenPos - 1];
			d.fix = rule?.handle !== undefined ? `nft delete rule ${where} handle ${rule.handle}` : `nft -a list chain ${where} (for the rule's handle), then nft delete rule ${where} handle N`;
		}
	}
}

/** The broken node's rule that the working node's rule at `pos` goes before: the next working rule both nodes have. */
function nextInBroken(wc: Chain, bc: Chain, pos: number, map: ReadonlyMap<string, string>): Rule | undefined {
	const keys = new Map(bc.rules.map(r => [keyOf(tokensOf(r)), r]));
	for (const r of wc.rules.slice(pos)) {
		const hit = keys.get(keyOf(tokensOf(r), map));
		if (hit) return hit;
	}
	return undefined;
}

/** A value as both syntaxes mean it: addresses always with their prefix length, lists in one order and case. */
function meaningOf(v: RuleOption['value']): string {
	if (v.kind === 'addrs') return v.addrs.map(a => `${a.addr}/${a.bits}`).sort().join(',');
	if (v.kind === 'list') return [...v.items].map(x => x.toUpperCase()).sort().join(',');
	return valueText(v);
}

/**
 * A rule by its meaning, whatever syntax wrote it: its conditions (sorted, each an option's
 * iptables name and value as read) and what it does. `-A X -s 10.0.0.0/8 ! -o eth0 -j MASQUERADE`
 * and nft's `oifname != "eth0" ip saddr 10.0.0.0/8 masquerade` read the same. A protocol that a
 * port match implies (`-p tcp` before `--dport`, which nft leaves out) is left out.
 */
export function meaningKey(rule: Rule, hidden: ReadonlySet<string> = new Set()): string {
	// Extensions whose options one side does not show (iptables-nft's xt expressions in nft's listing) compare without them.
	const options = rule.parsed.matches.filter(m => !hidden.has(m.module)).flatMap(m => m.options.map(o => ({m: m.module, o})));
	// `-p tcp` is implied by any option of the tcp match (`--dport`, `--tcp-flags`), which nft writes without it.
	const implied = new Set(rule.parsed.matches.filter(m => m.module !== 'basic' && m.options.length > 0 && !hidden.has(m.module)).map(m => (m.module === 'multiport' ? '' : m.module)));
	const ported = options.some(({o}) => o.name === '--dport' || o.name === '--sport' || o.name === '--dports' || o.name === '--sports');
	const conditions = options
		.filter(({o}) => !(o.name === '-p' && (ported || (o.value.kind === 'proto' && implied.has(o.value.proto.toLowerCase())))))
		.map(({o}) => `${o.negated ? '!' : ''}${o.name.replace(/^--(d|s)ports$/, '--$1port')}=${meaningOf(o.value)}`)
		.sort();
	for (const m of rule.parsed.matches) if (hidden.has(m.module) || (m.options.length === 0 && m.load === 'explicit' && !['tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'udplite', 'dccp'].includes(m.module))) conditions.push(`-m ${m.module}`);
	conditions.sort();
	const t = rule.parsed.target;
	const action = t ? `${t.goto ? '-g' : '-j'} ${t.name}${hidden.has(t.name) ? '' : t.options.map(o => ` ${o.name}=${meaningOf(o.value)}`).join('')}` : '';
	return `${conditions.join(' ')} ${action}`.trim();
}

/** The extensions of a rule whose options nft's listing does not show (`xt match recent`, `xt target TCPMSS`). */
function hiddenOf(rule: Rule): Set<string> {
	return new Set([...rule.parsed.matches.filter(m => m.hidden).map(m => m.module), ...(rule.parsed.actions ?? []).filter(a => a.hidden).map(a => a.name)]);
}

/**
 * One chain of an iptables dump against the same chain in an nft listing: rules paired in order
 * (longest common subsequence) when they mean the same; a rule with xt expressions equals a rule
 * that means the same once the options nft does not show are left out on both.
 */
function diffByMeaning(table: string, wc: Chain, bc: Chain, out: Difference[] & {hiddenCompared?: number}): void {
	const w = wc.rules.map(r => ({r, key: meaningKey(r), hidden: hiddenOf(r)}));
	const b = bc.rules.map(r => ({r, key: meaningKey(r), hidden: hiddenOf(r)}));
	const loose = new Map<Rule, Map<string, string>>();
	const looseKey = (r: Rule, h: ReadonlySet<string>): string => {
		const id = [...h].join(',');
		let byHidden = loose.get(r);
		if (!byHidden) loose.set(r, (byHidden = new Map()));
		let k = byHidden.get(id);
		if (k === undefined) byHidden.set(id, (k = meaningKey(r, h)));
		return k;
	};
	const same = (x: (typeof w)[number], y: (typeof b)[number]): boolean => {
		if (x.key === y.key) return true;
		const h = x.hidden.size > 0 ? x.hidden : y.hidden;
		return h.size > 0 && looseKey(x.r, h) === looseKey(y.r, h);
	};
	const n = w.length;
	const m = b.length;
	const dp: number[][] = Array.from({length: n + 1}, () => new Array<number>(m + 1).fill(0));
	for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i]![j] = same(w[i]!, b[j]!) ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
	const restW: typeof w = [];
	const restB: typeof b = [];
	let i = 0;
	let j = 0;
	while (i < n && j < m) {
		if (same(w[i]!, b[j]!)) {
			if (w[i]!.hidden.size > 0 || b[j]!.hidden.size > 0) out.hiddenCompared = (out.hiddenCompared ?? 0) + 1;
			i++;
			j++;
		} else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) restW.push(w[i++]!);
		else restB.push(b[j++]!);
	}
	restW.push(...w.slice(i));
	restB.push(...b.slice(j));
	// Left over at the same place on both sides, with the same target: changed.
	const pairs = Math.min(restW.length, restB.length);
	for (let k = 0; k < pairs; k++) {
		const x = restW[k]!;
		const y = restB[k]!;
		if (x.r.parsed.target?.name === y.r.parsed.target?.name) out.push({table, chain: bc.name, kind: 'changed', working: x.r.text, broken: y.r.text, workingPos: x.r.pos, brokenPos: y.r.pos, workingLine: x.r.line, brokenLine: y.r.line});
		else {
			out.push({table, chain: bc.name, kind: 'only-in-working', working: x.r.text, broken: null, workingPos: x.r.pos, workingLine: x.r.line});
			out.push({table, chain: bc.name, kind: 'only-in-broken', working: null, broken: y.r.text, brokenPos: y.r.pos, brokenLine: y.r.line});
		}
	}
	for (const x of restW.slice(pairs)) out.push({table, chain: bc.name, kind: 'only-in-working', working: x.r.text, broken: null, workingPos: x.r.pos, workingLine: x.r.line});
	for (const y of restB.slice(pairs)) out.push({table, chain: bc.name, kind: 'only-in-broken', working: null, broken: y.r.text, brokenPos: y.r.pos, brokenLine: y.r.line});
}

function diffChain(family: string, table: string, wc: Chain, bc: Chain, map: ReadonlyMap<string, string>, out: Difference[] & {ignoredOrder?: number; hiddenCompared?: number}, byMeaning = false): void {
	const chain = bc.name;
	if (wc.builtin && (wc.policy ?? '') !== (bc.policy ?? '')) {
		out.push({table, chain, kind: 'policy', working: `-P ${wc.name} ${wc.policy ?? '-'}`, broken: `-P ${bc.name} ${bc.policy ?? '-'}`});
	}
	if (byMeaning) {
		diffByMeaning(table, wc, bc, out);
		return;
	}
	const wk = wc.rules.map(r => keyOf(tokensOf(r), map));
	const bk = bc.rules.map(r => keyOf(tokensOf(r)));
	const pairs = lcs(wk, bk);
	const inW = new Set(pairs.map(p => p[0]));
	const inB = new Set(pairs.map(p => p[1]));
	const restW = wc.rules.map((r, i) => ({r, i, k: wk[i]!})).filter(x => !inW.has(x.i));
	const restB = bc.rules.map((r, i) => ({r, i, k: bk[i]!})).filter(x => !inB.has(x.i));

	// Present on both sides but not in the common order: moved. The move matters only if the rule
	// now passes a rule that can match the same packets (rules on different interfaces, addresses,
	// protocols or ports cannot).
	const moved: Array<{x: (typeof restW)[number]; y: (typeof restB)[number]}> = [];
	for (const x of [...restW]) {
		const y = restB.find(z => z.k === x.k);
		if (!y) continue;
		restW.splice(restW.indexOf(x), 1);
		restB.splice(restB.indexOf(y), 1);
		moved.push({x, y});
	}
	const order = new Map(bk.map((k, i) => [k, i]));
	for (const {x, y} of moved) {
		const crossed = wc.rules.filter((r, i) => {
			if (i === x.i) return false;
			const j = order.get(wk[i]!);
			return j !== undefined && i < x.i !== j < y.i;
		});
		if (crossed.every(r => disjoint(r, x.r))) {
			out.ignoredOrder = (out.ignoredOrder ?? 0) + 1;
			continue;
		}
		out.push({table, chain, kind: 'order', working: x.r.text, broken: y.r.text, workingPos: x.r.pos, brokenPos: y.r.pos, workingLine: x.r.line, brokenLine: y.r.line});
	}
	// A removed and an added rule with the same target and most arguments in common: changed.
	for (const x of [...restW]) {
		let best: (typeof restB)[number] | undefined;
		let bestScore = 0.6;
		for (const y of restB) {
			if (x.r.target !== y.r.target) continue;
			const s = tokenSimilarity(x.k, y.k);
			if (s > bestScore) {
				best = y;
				bestScore = s;
			}
		}
		if (!best) continue;
		restW.splice(restW.indexOf(x), 1);
		restB.splice(restB.indexOf(best), 1);
		out.push({table, chain, kind: 'changed', working: x.r.text, broken: best.r.text, workingPos: x.r.pos, brokenPos: best.r.pos, workingLine: x.r.line, brokenLine: best.r.line});
	}
	for (const x of restW) {
		// Insert it where it sits on the working node, with the broken node's names.
		const before = wc.rules.slice(0, x.i).filter((_r, i) => inW.has(i)).length;
		const spec = tokensOf(x.r).map(t => mapToken(t, map, 'written'));
		out.push({table, chain, kind: 'only-in-working', working: x.r.text, broken: null, workingPos: x.r.pos, workingLine: x.r.line, fix: ruleCommand(family, table, '-I', chain, [String(before + 1), ...spec])});
	}
	for (const y of restB) {
		out.push({table, chain, kind: 'only-in-broken', working: null, broken: y.r.text, brokenPos: y.r.pos, brokenLine: y.r.line, fix: ruleCommand(family, table, '-D', chain, ruleSpec(y.r))});
	}
}
