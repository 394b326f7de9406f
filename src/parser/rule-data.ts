/**
 * A ruleset as plain data: what `tracewatch rules --format json` prints for each dump (its
 * tables, chains, and every rule with its matches and target), and what of a rule tracewatch
 * did not understand.
 *
 * Input:  the rule `-A PREROUTING -d 198.19.96.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 198.18.1.50:6443` (line 7)
 * Output: {pos:1, line:7, text:'-A PREROUTING …', understood:true,
 *          matches:[{module:'basic', load:'basic', options:[{name:'-d', negated:false, text:'-d 198.19.96.1/32',
 *                      value:{kind:'addrs', addrs:[{text:'198.19.96.1/32', addr:'198.19.96.1', bits:32, v6:false}]}}, …]},
 *                   {module:'tcp', load:'explicit', options:[{name:'--dport', …, value:{kind:'ports', ports:[{from:443, to:443}]}}]}],
 *          target:{name:'DNAT', kind:'extension', goto:false, walk:'ends', options:[{name:'--to-destination', …, value:{kind:'nat', nat:{…}}}]}}
 *
 * The data is what the parser read (src/parser/rule.ts) with the parts JSON cannot hold left
 * out (an address's numeric value) and what was not understood marked: a match module
 * tracewatch does not model, an option no modelled match or target takes, a value that is not in
 * its option's syntax, a word that is no option. docs/json.md documents the shape.
 */
import {isHook, tablePriority} from '../netfilter/hooks.js';
import {matchHasOption} from '../netfilter/matches.js';
import {targetInfo} from '../netfilter/targets.js';
import type {Counters, Match, OptionValue, ParsedRule, RuleOption, Target} from './rule.js';
import type {Chain, NftSet, Rule, Ruleset, Table} from './ruleset.js';

export interface OptionData {
	/** iptables-save's spelling: `--dport` (`--destination-port` is read as `--dport`). */
	readonly name: string;
	readonly negated: boolean;
	/** The value as read: `{kind:'ports', ports:[…]}`; `{kind:'unknown', values:[…]}` when not read. */
	readonly value: unknown;
	/** The option as written, `! --dport 22`. */
	readonly text: string;
	/** Present (false) when tracewatch did not understand it: a value not in its syntax, or an option its match or target does not take. */
	readonly understood?: false;
	/** nft rules: the expression as nft wrote it (`ip saddr`, `tcp dport`), whatever option it reads as. */
	readonly expr?: string;
}

export interface MatchData {
	readonly module: string;
	readonly load: Match['load'];
	readonly options: readonly OptionData[];
	/** Present (false) for a module tracewatch does not model, or an `xt match` whose options nft does not show. */
	readonly understood?: false;
	/** `xt match NAME` in an nft listing of iptables-nft's tables: the options are not in the listing. */
	readonly hidden?: true;
}

export interface TargetData {
	readonly name: string;
	readonly kind: Target['kind'];
	readonly goto: boolean;
	readonly walk: Target['walk'];
	readonly options: readonly OptionData[];
	/** nft rules: the statement as written (`masquerade fully-random`). */
	readonly nft?: string;
	/** A verdict map: the chains its elements name, and the named map it reads. */
	readonly chains?: readonly string[];
	readonly map?: string;
	/** `xt target NAME`: the options are not in the listing. */
	readonly hidden?: true;
}

export interface RuleData {
	readonly pos: number;
	readonly line: number;
	readonly text: string;
	readonly counters?: Counters;
	readonly matches: readonly MatchData[];
	readonly target?: TargetData;
	/** Words that are no option (iptables would refuse the rule), as written. */
	readonly stray?: readonly string[];
	readonly understood: boolean;
	/** What was not understood, in words: `match geoip`, `--src-cc (geoip)`, `value of --dport (tcp): ssh`. */
	readonly notUnderstood?: readonly string[];
	/** nft listings: the rule's handle (nft -a). */
	readonly handle?: number;
	/** nft rules: every statement that acts, in order (a log, a mark, then the verdict); `target` is the one that decides the walk. */
	readonly actions?: readonly TargetData[];
	/** nft rules: the named sets and maps it reads. */
	readonly sets?: readonly string[];
}

export interface ChainData {
	readonly name: string;
	readonly builtin: boolean;
	readonly policy?: string;
	readonly counters?: Counters;
	/** Line of the chain's declaration. */
	readonly line?: number;
	/** For a built-in chain: the hook it is called at, and its table's priority there; for an nft base chain what it declares (`hook` as nft names it). */
	readonly hook?: string;
	readonly priority?: number;
	/** nft base chains: `filter`, `nat`, `route`; the priority as written (`filter + 10`); the device of an ingress or egress chain. */
	readonly type?: string;
	readonly priorityText?: string;
	readonly device?: string;
	readonly handle?: number;
	readonly rules: readonly RuleData[];
}

export interface SetData {
	readonly name: string;
	readonly map: boolean;
	readonly line: number;
	readonly type?: string;
	readonly flags: readonly string[];
	readonly comment?: string;
	readonly handle?: number;
	/** Each element as written; for a verdict map, the chain it jumps or goes to. */
	readonly elements: ReadonlyArray<{readonly text: string; readonly chain?: string}>;
}

export interface TableData {
	readonly name: string;
	/** nft listings: `ip`, `ip6`, `inet`, `arp`, `bridge`, `netdev`. */
	readonly family?: string;
	readonly line?: number;
	readonly handle?: number;
	/** nft listings: the table is iptables-nft's (xt expressions, or iptables' table and chain names). */
	readonly iptablesNft?: boolean;
	readonly chains: readonly ChainData[];
	readonly sets?: readonly SetData[];
}

/** A value as JSON holds it: an address's numeric value (a bigint) left out. */
function valueData(v: OptionValue): unknown {
	switch (v.kind) {
		case 'addrs':
			return {kind: 'addrs', addrs: v.addrs.map(a => ({text: a.text, addr: a.addr, bits: a.bits, v6: a.v6}))};
		default:
			return v;
	}
}

function optionData(o: RuleOption, understood: boolean, nft: boolean): OptionData {
	return {name: o.name, negated: o.negated, value: valueData(o.value), text: o.words.join(' '), ...(understood ? {} : {understood: false as const}), ...(nft ? {expr: o.flag} : {})};
}

/** Does the match take this option (a module tracewatch does not model takes none it knows of), and was its value read? nft's own selectors take what they read. */
function matchOptionUnderstood(m: Match, o: RuleOption): boolean {
	return o.value.kind !== 'unknown' && (m.module === 'nft' || matchHasOption(m.module, o.name));
}

/** An iptables target takes the options its extension has; an nft statement's options are its own, understood when their value was read. */
function targetOptionUnderstood(t: Target, o: RuleOption): boolean {
	return o.value.kind !== 'unknown' && (t.nft !== undefined || (targetInfo(t.name)?.options.includes(o.name) ?? false));
}

function targetData(t: Target): TargetData {
	return {
		name: t.name,
		kind: t.kind,
		goto: t.goto,
		walk: t.walk,
		options: t.options.map(o => optionData(o, targetOptionUnderstood(t, o), t.nft !== undefined)),
		...(t.nft ? {nft: t.nft} : {}),
		...(t.chains ? {chains: t.chains} : {}),
		...(t.map ? {map: t.map} : {}),
		...(t.hidden ? {hidden: true as const} : {}),
	};
}

/** What of a rule tracewatch did not understand, in words; empty when every match, option and the target were. */
export function notUnderstood(rule: ParsedRule): string[] {
	const out: string[] = [];
	for (const m of rule.matches) {
		if (m.hidden) out.push(`xt match ${m.module}: its options are not in nft's listing (iptables-nft-save prints them)`);
		else if (m.unknown) out.push(`match ${m.module}`);
		for (const o of m.options) {
			if (o.value.kind === 'unknown') out.push(m.nft ? `${o.flag}: ${o.values.join(' ')}` : `${o.name} (${m.module || 'no match'})${o.values.length > 0 ? `: ${o.values.join(' ')}` : ''}`);
			else if (!m.unknown && !matchOptionUnderstood(m, o)) out.push(`${o.name} is no option of ${m.module}`);
		}
	}
	for (const t of rule.actions ?? (rule.target ? [rule.target] : [])) {
		if (t.hidden) out.push(`xt target ${t.name}: its options are not in nft's listing (iptables-nft-save prints them)`);
		else if (t.unknown) out.push(t.nft ? `statement ${t.nft}` : `target ${t.name}`);
		for (const o of t.options) {
			if (o.value.kind === 'unknown') out.push(t.nft ? `${t.nft}` : `${o.name} (${t.name})${o.values.length > 0 ? `: ${o.values.join(' ')}` : ''}`);
			else if (!targetOptionUnderstood(t, o)) out.push(`${o.name} is no option of ${t.name}`);
		}
	}
	for (const u of rule.unread ?? []) out.push(`statement ${u}`);
	for (const p of rule.pieces) if (p.piece === 'stray') out.push(`stray word ${p.words[0]}`);
	return out;
}

export function ruleData(rule: Rule): RuleData {
	const p = rule.parsed;
	const missing = notUnderstood(p);
	const stray = p.pieces.flatMap(x => (x.piece === 'stray' ? x.words : []));
	const t = p.target;
	return {
		pos: rule.pos,
		line: rule.line,
		text: rule.text,
		...(rule.counters ? {counters: rule.counters} : {}),
		matches: p.matches.map(m => ({
			module: m.module,
			load: m.load,
			options: m.options.map(o => optionData(o, matchOptionUnderstood(m, o), m.nft !== undefined)),
			...(m.unknown || m.hidden ? {understood: false as const} : {}),
			...(m.hidden ? {hidden: true as const} : {}),
		})),
		...(t ? {target: targetData(t)} : {}),
		...(stray.length > 0 ? {stray} : {}),
		understood: missing.length === 0,
		...(missing.length > 0 ? {notUnderstood: missing} : {}),
		...(rule.handle === undefined ? {} : {handle: rule.handle}),
		...(p.actions && p.actions.length > 1 ? {actions: p.actions.map(targetData)} : {}),
		...(p.sets ? {sets: p.sets} : {}),
	};
}

/** How a list of data is made: at once (default), or as it is written (ui/visible.ts lazyList). */
export type ListOf = <T, U>(items: Iterable<T>, map: (item: T) => U) => readonly U[];

const eager: ListOf = (items, map) => Array.from(items, map);

export function chainData(chain: Chain, list: ListOf = eager): ChainData {
	const hook = chain.builtin && !chain.nft && isHook(chain.name) ? chain.name : undefined;
	const n = chain.nft;
	return {
		name: chain.name,
		builtin: chain.builtin,
		...(chain.policy ? {policy: chain.policy} : {}),
		...(chain.policyCounters ? {counters: chain.policyCounters} : {}),
		...(chain.declaredAt ? {line: chain.declaredAt} : {}),
		...(hook ? {hook, priority: tablePriority(hook, chain.table)} : {}),
		...(n ? {type: n.type, hook: n.hook, ...(n.priority === undefined ? {} : {priority: n.priority}), priorityText: n.priorityText, ...(n.device ? {device: n.device} : {})} : {}),
		...(chain.handle === undefined ? {} : {handle: chain.handle}),
		rules: list(chain.rules, ruleData),
	};
}

function setData(set: NftSet): SetData {
	return {
		name: set.name,
		map: set.map,
		line: set.line,
		...(set.type ? {type: set.type} : {}),
		flags: set.flags,
		...(set.comment ? {comment: set.comment} : {}),
		...(set.handle === undefined ? {} : {handle: set.handle}),
		elements: set.elements,
	};
}

export function tableData(table: Table, list: ListOf = eager): TableData {
	return {
		name: table.name,
		...(table.family ? {family: table.family} : {}),
		...(table.line ? {line: table.line} : {}),
		...(table.handle === undefined ? {} : {handle: table.handle}),
		...(table.family ? {iptablesNft: table.iptablesNft === true} : {}),
		chains: list([...table.chains.values()], c => chainData(c, list)),
		...(table.sets && table.sets.size > 0 ? {sets: [...table.sets.values()].map(setData)} : {}),
	};
}

/** Every table of a dump as data, in the order of the dump. */
export function rulesetTables(rs: Ruleset, list: ListOf = eager): TableData[] {
	return [...rs.tables.values()].map(t => tableData(t, list));
}

function span(from: number, to: number, sep = '-'): string {
	return from === to ? `${from}` : `${from}${sep}${to}`;
}

function hex(n: number): string {
	return `0x${n.toString(16)}`;
}

/**
 * What a value means, in a few words, for `tracewatch rules -v`: `198.19.96.1/32`, `443`,
 * `tcp (6)`, `cali+ (every name that starts with cali)`, `SYN set among FIN,SYN,RST,ACK`,
 * `not understood: ssh`.
 */
export function valueText(v: OptionValue): string {
	switch (v.kind) {
		case 'addrs':
			return v.addrs.map(a => (a.masked ? `${a.addr}/${a.bits}` : a.addr)).join(', ');
		case 'addrMasks':
			return v.addrs.map(a => `${a.addr} under mask ${a.mask}`).join(', ');
		case 'addrRange':
			return `${v.from} to ${v.to}`;
		case 'iface':
			return v.iface.wildcard ? `${v.iface.text} (every name that starts with ${v.iface.name})` : v.iface.name;
		case 'proto':
			return v.number === undefined ? v.proto : `${v.proto} (${v.number})`;
		case 'ports':
			return v.ports.map(p => span(p.from, p.to)).join(', ');
		case 'tcpFlags':
			return `${v.comp.length > 0 ? v.comp.join(',') : 'none'} set among ${v.mask.join(',')}`;
		case 'icmpType':
			return `${v.proto} ${v.name ?? ''}${v.type === undefined ? (v.name === undefined ? 'any' : '') : `${v.name === undefined ? '' : ' '}type ${v.type}`}${v.code === undefined ? '' : ` code ${v.code}`}`.trim();
		case 'list':
			return v.items.join(', ');
		case 'mark':
			return v.mark.mask === undefined ? hex(v.mark.value) : `${hex(v.mark.value)}/${hex(v.mark.mask)}`;
		case 'text':
			return `"${v.text}"${v.generated ? ' (a generated id)' : ''}`;
		case 'number':
			return v.exact ?? `${v.number}`;
		case 'range':
			return span(v.from, v.to, ':');
		case 'rate':
			return `${v.count}${v.unit === 'bytes' ? ' bytes' : v.unit === 'bits' ? ' bits' : ''}/${v.per}`;
		case 'bytes':
			return `${v.bytes} bytes`;
		case 'probability':
			return `${v.probability}`;
		case 'set':
			return `set ${v.set} (${v.dirs.join(',')})`;
		case 'mac':
			return v.mac;
		case 'owner':
			return v.name ?? span(v.from ?? 0, v.to ?? 0);
		case 'nat': {
			const n = v.nat;
			const addrs = n.minAddr === undefined ? '' : n.minAddr === n.maxAddr ? n.minAddr : `${n.minAddr}-${n.maxAddr}`;
			const ports = n.minPort === undefined ? '' : `${addrs ? ' ' : ''}port ${span(n.minPort, n.maxPort ?? n.minPort)}${n.basePort === undefined ? '' : ` shifted to start at ${n.basePort}`}`;
			return `${addrs}${ports}` || 'the same';
		}
		case 'chunks':
			return `${v.match} of ${v.chunks.map(c => (c.flags ? `${c.name}:${c.flags}` : c.name)).join(',')}`;
		case 'ip6Options':
			return v.options.map(o => (o.length === undefined ? `type ${o.type}` : `type ${o.type} length ${o.length}`)).join(', ');
		case 'class':
			return `${v.major.toString(16)}:${v.minor.toString(16)}`;
		case 'time':
			return v.time;
		case 'date':
			return v.date;
		case 'duration':
			return `${v.seconds} s`;
		case 'word':
			return v.word;
		case 'flag':
			return 'yes';
		case 'unknown':
			return `not understood${v.values.length > 0 ? `: ${v.values.join(' ')}` : ''}`;
	}
}
