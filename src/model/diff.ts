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
import type {Chain, Rule, Ruleset} from '../parser/ruleset.js';
import {parseAddr} from './net.js';
import {ruleCommand, ruleSpec} from './command.js';

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

const IFACE_FLAGS = new Set(['-i', '-o', '--in-interface', '--out-interface', '--physdev-in', '--physdev-out']);
const ADDR_FLAGS = new Set(['-s', '-d', '--source', '--destination', '--to-destination', '--to-source', '--to', '--src-range', '--dst-range']);
const ALIASES: Record<string, string> = {
	'--jump': '-j',
	'--goto': '-g',
	'--protocol': '-p',
	'--source': '-s',
	'--destination': '-d',
	'--in-interface': '-i',
	'--out-interface': '-o',
	'--match': '-m',
	'--append': '-A',
	'--fragment': '-f',
	'--src': '-s',
	'--dst': '-d',
};
/** Generated per-rule ids: Calico `cali:` followed by 16 characters. */
const GENERATED_ID = /^cali:[\w-]{16}$/;

interface Side {
	rs: Ruleset;
	/** Order of first appearance of each variable token (class|value). */
	firstSeen: Map<string, number>;
	/** Every user chain, per table. */
	chains: Map<string, Set<string>>;
	/** Occurrences of variable tokens: class|value → context strings. */
	contexts: Map<string, string[]>;
}

/** `cali-fw-cali7f3e9a1b2c4` → `cali-fw-*`; `KUBE-SEP-Z3LGBHLMGXKUBZ2Z` → `KUBE-SEP-*`; names without a generated tail stay as they are. */
function chainShape(name: string): string {
	const m = /^(.*?[-_.])([A-Za-z0-9]*\d[A-Za-z0-9]*)$/.exec(name);
	return m ? `${m[1]}*` : name;
}

function addrPart(token: string): string {
	// 198.18.20.2:8080 → 198.18.20.2; [2001:db8::1]:80 → 2001:db8::1; ranges and lists stay whole.
	const v6 = /^\[(.+)\](?::\d+(?:-\d+)?)?$/.exec(token);
	if (v6) return v6[1]!;
	const v4 = /^(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)(?::\d+(?:-\d+)?)?$/.exec(token);
	return v4 ? v4[1]! : token;
}

/** The rule's arguments with aliases normalised, counters removed and generated ids blanked. */
function normalisedArgs(rule: Rule): string[] {
	const out: string[] = [];
	for (let i = 0; i < rule.args.length; i++) {
		const a = rule.args[i]!;
		if (a === '-c' && /^\d+$/.test(rule.args[i + 1] ?? '')) {
			i += 2;
			continue;
		}
		const prev = out[out.length - 1];
		if (prev === '--comment' && GENERATED_ID.test(a)) {
			out.push('cali:<id>');
			continue;
		}
		out.push(ALIASES[a] ?? a);
	}
	return out;
}

/** Classifies each argument: which are interface names, chain names or addresses. */
function classify(args: readonly string[], chains: Set<string>): Array<TokenClass | undefined> {
	return args.map((a, i) => {
		const flag = args[i - 1] ?? '';
		if (IFACE_FLAGS.has(flag)) return 'iface';
		if ((flag === '-j' || flag === '-g') && chains.has(a)) return 'chain';
		if (ADDR_FLAGS.has(flag) && a.split(',').every(x => parseAddr(addrPart(x).split('/')[0]!.split('-')[0]!))) return 'addr';
		return undefined;
	});
}

function tokenKey(cls: TokenClass, value: string): string {
	return `${cls}|${value}`;
}

function buildSide(rs: Ruleset): Side {
	const chains = new Map<string, Set<string>>();
	for (const t of rs.tables.values()) chains.set(t.name, new Set([...t.chains.values()].filter(c => !c.builtin).map(c => c.name)));
	const contexts = new Map<string, string[]>();
	const firstSeen = new Map<string, number>();
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
				const args = normalisedArgs(rule);
				const classes = classify(args, user);
				const skeleton = args.map((a, i) => (classes[i] ? `<${classes[i]}>` : a));
				classes.forEach((cls, i) => {
					if (!cls) return;
					const marked = [...skeleton];
					marked[i] = '@';
					const value = cls === 'addr' ? args[i]! : args[i]!;
					add(tokenKey(cls, value), `${t.name}:${chainCtx} ${marked.join(' ')}`);
					if (cls === 'addr') {
						// Addresses with ports (--to-destination 10.0.0.2:8080) also count for the bare address.
						const bare = addrPart(value);
						if (bare !== value) add(tokenKey(cls, bare), `${t.name}:${chainCtx} ${marked.join(' ')}`);
					}
				});
			}
			if (!c.builtin) {
				// A chain is also described by its own rules' shapes.
				for (const rule of c.rules) {
					const args = normalisedArgs(rule);
					const classes = classify(args, user);
					add(tokenKey('chain', c.name), `${t.name}:in ${args.map((a, i) => (classes[i] ? `<${classes[i]}>` : a)).join(' ')}`);
				}
				if (c.rules.length === 0) add(tokenKey('chain', c.name), `${t.name}:empty`);
			}
		}
	}
	return {rs, chains, contexts, firstSeen};
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
				if (cls === 'addr' && !compatibleAddresses(x, y)) continue;
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
function compatibleAddresses(x: string, y: string): boolean {
	const px = addrPart(x);
	const py = addrPart(y);
	const [ax, lx] = px.split('/');
	const [ay, ly] = py.split('/');
	const fx = parseAddr(ax ?? '');
	const fy = parseAddr(ay ?? '');
	if (!fx || !fy || fx.v6 !== fy.v6) return false;
	return (lx ?? '') === (ly ?? '') && x.includes(':') === y.includes(':');
}

/** Renames working tokens to their broken counterparts. */
function mapArgs(args: readonly string[], map: ReadonlyMap<string, string>): string[] {
	return args.map(a => {
		const direct = map.get(a);
		if (direct !== undefined) return direct;
		const bare = addrPart(a);
		if (bare !== a && map.has(bare)) return a.replace(bare, map.get(bare)!);
		if (a.includes(',')) return a
			.split(',')
			.map(x => map.get(x) ?? x)
			.join(',');
		return a;
	});
}

function ruleKey(rule: Rule, map?: ReadonlyMap<string, string>): string {
	const args = normalisedArgs(rule);
	return (map ? mapArgs(args, map) : args).join(' ');
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

export function diffRulesets(working: Ruleset, broken: Ruleset, options: DiffOptions = {}): RuleDiff {
	const w = buildSide(working);
	const b = buildSide(broken);
	const {map, mappings} = pairTokens(w, b, options);
	const differences: Difference[] & {ignoredOrder?: number} = [];
	const ignored = ['packet and byte counters', 'header comments (tool version, date)'];
	const usesIds = [working, broken].some(rs => [...rs.tables.values()].some(t => [...t.chains.values()].some(c => c.rules.some(r => normalisedArgs(r).includes('cali:<id>')))));
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
				differences.push({table: tname, chain: wc.name, kind: 'only-in-working', working: `:${wc.name} ${wc.policy ?? '-'}`, broken: null, rules: wc.rules.length, ...(wc.declaredAt ? {workingLine: wc.declaredAt} : {})});
				continue;
			}
			matchedB.add(bName);
			diffChain(broken.family, tname, wc, bc, map, differences);
		}
		for (const bc of bChains.values()) {
			if (matchedB.has(bc.name)) continue;
			differences.push({table: tname, chain: bc.name, kind: 'only-in-broken', working: null, broken: `:${bc.name} ${bc.policy ?? '-'}`, rules: bc.rules.length, ...(bc.declaredAt ? {brokenLine: bc.declaredAt} : {})});
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

/** The single value of an option in a rule's matches (not negated), or undefined. */
function optionValue(rule: Rule, flags: readonly string[]): string | undefined {
	for (let i = 0; i < rule.matches.length; i++) {
		if (flags.includes(rule.matches[i]!) && rule.matches[i - 1] !== '!') return rule.matches[i + 1];
	}
	return undefined;
}

/** Can the two rules never match the same packet? Only what is certain: different interfaces, protocols, ports, or non-overlapping addresses. */
export function disjoint(a: Rule, b: Rule): boolean {
	for (const flags of [['-i', '--in-interface'], ['-o', '--out-interface'], ['-p', '--protocol'], ['--dport', '--destination-port'], ['--sport', '--source-port']]) {
		const x = optionValue(a, flags);
		const y = optionValue(b, flags);
		if (x === undefined || y === undefined || x === y) continue;
		const wildcard = (v: string) => v.endsWith('+');
		if (flags[0] === '-i' || flags[0] === '-o') {
			if ((wildcard(x) && y.startsWith(x.slice(0, -1))) || (wildcard(y) && x.startsWith(y.slice(0, -1)))) continue;
		}
		if (/[:,]/.test(x) || /[:,]/.test(y)) continue;
		return true;
	}
	for (const flags of [['-s', '--source'], ['-d', '--destination']]) {
		const x = optionValue(a, flags);
		const y = optionValue(b, flags);
		if (!x || !y || x.includes(',') || y.includes(',')) continue;
		if (!cidrOverlap(x, y)) return true;
	}
	return false;
}

function cidrOverlap(x: string, y: string): boolean {
	const [ax, lx] = x.split('/');
	const [ay, ly] = y.split('/');
	const px = parseAddr(ax ?? '');
	const py = parseAddr(ay ?? '');
	if (!px || !py) return true;
	if (px.v6 !== py.v6) return false;
	const width = px.v6 ? 128 : 32;
	const len = BigInt(Math.min(Number(lx ?? width), Number(ly ?? width)));
	const shift = BigInt(width) - len;
	return px.value >> shift === py.value >> shift;
}

function diffChain(family: string, table: string, wc: Chain, bc: Chain, map: ReadonlyMap<string, string>, out: Difference[] & {ignoredOrder?: number}): void {
	const chain = bc.name;
	if (wc.builtin && (wc.policy ?? '') !== (bc.policy ?? '')) {
		out.push({table, chain, kind: 'policy', working: `-P ${wc.name} ${wc.policy ?? '-'}`, broken: `-P ${bc.name} ${bc.policy ?? '-'}`});
	}
	const wk = wc.rules.map(r => ruleKey(r, map));
	const bk = bc.rules.map(r => ruleKey(r));
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
		const spec = mapArgs(ruleSpec(x.r), map);
		out.push({table, chain, kind: 'only-in-working', working: x.r.text, broken: null, workingPos: x.r.pos, workingLine: x.r.line, fix: ruleCommand(family, table, '-I', chain, [String(before + 1), ...spec])});
	}
	for (const y of restB) {
		out.push({table, chain, kind: 'only-in-broken', working: null, broken: y.r.text, brokenPos: y.r.pos, brokenLine: y.r.line, fix: ruleCommand(family, table, '-D', chain, ruleSpec(y.r))});
	}
}
