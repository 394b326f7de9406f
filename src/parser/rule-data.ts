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
import type {Chain, Rule, Ruleset, Table} from './ruleset.js';

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
}

export interface MatchData {
	readonly module: string;
	readonly load: Match['load'];
	readonly options: readonly OptionData[];
	/** Present (false) for a module tracewatch does not model. */
	readonly understood?: false;
}

export interface TargetData {
	readonly name: string;
	readonly kind: Target['kind'];
	readonly goto: boolean;
	readonly walk: Target['walk'];
	readonly options: readonly OptionData[];
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
}

export interface ChainData {
	readonly name: string;
	readonly builtin: boolean;
	readonly policy?: string;
	readonly counters?: Counters;
	/** Line of the chain's declaration. */
	readonly line?: number;
	/** For a built-in chain: the hook it is called at, and its table's priority there. */
	readonly hook?: string;
	readonly priority?: number;
	readonly rules: readonly RuleData[];
}

export interface TableData {
	readonly name: string;
	readonly line?: number;
	readonly chains: readonly ChainData[];
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

function optionData(o: RuleOption, understood: boolean): OptionData {
	return {name: o.name, negated: o.negated, value: valueData(o.value), text: o.words.join(' '), ...(understood ? {} : {understood: false as const})};
}

/** Does the match take this option (a module tracewatch does not model takes none it knows of), and was its value read? */
function matchOptionUnderstood(m: Match, o: RuleOption): boolean {
	return o.value.kind !== 'unknown' && matchHasOption(m.module, o.name);
}

function targetOptionUnderstood(t: Target, o: RuleOption): boolean {
	return o.value.kind !== 'unknown' && (targetInfo(t.name)?.options.includes(o.name) ?? false);
}

/** What of a rule tracewatch did not understand, in words; empty when every match, option and the target were. */
export function notUnderstood(rule: ParsedRule): string[] {
	const out: string[] = [];
	for (const m of rule.matches) {
		if (m.unknown) out.push(`match ${m.module}`);
		for (const o of m.options) {
			if (o.value.kind === 'unknown') out.push(`${o.name} (${m.module || 'no match'})${o.values.length > 0 ? `: ${o.values.join(' ')}` : ''}`);
			else if (!m.unknown && !matchHasOption(m.module, o.name)) out.push(`${o.name} is no option of ${m.module}`);
		}
	}
	const t = rule.target;
	if (t) {
		if (t.unknown) out.push(`target ${t.name}`);
		for (const o of t.options) {
			if (o.value.kind === 'unknown') out.push(`${o.name} (${t.name})${o.values.length > 0 ? `: ${o.values.join(' ')}` : ''}`);
			else if (!targetOptionUnderstood(t, o)) out.push(`${o.name} is no option of ${t.name}`);
		}
	}
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
			options: m.options.map(o => optionData(o, matchOptionUnderstood(m, o))),
			...(m.unknown ? {understood: false as const} : {}),
		})),
		...(t ? {target: {name: t.name, kind: t.kind, goto: t.goto, walk: t.walk, options: t.options.map(o => optionData(o, targetOptionUnderstood(t, o)))}} : {}),
		...(stray.length > 0 ? {stray} : {}),
		understood: missing.length === 0,
		...(missing.length > 0 ? {notUnderstood: missing} : {}),
	};
}

export function chainData(chain: Chain): ChainData {
	const hook = chain.builtin && isHook(chain.name) ? chain.name : undefined;
	return {
		name: chain.name,
		builtin: chain.builtin,
		...(chain.policy ? {policy: chain.policy} : {}),
		...(chain.policyCounters ? {counters: chain.policyCounters} : {}),
		...(chain.declaredAt ? {line: chain.declaredAt} : {}),
		...(hook ? {hook, priority: tablePriority(hook, chain.table)} : {}),
		rules: chain.rules.map(ruleData),
	};
}

export function tableData(table: Table): TableData {
	return {name: table.name, ...(table.line ? {line: table.line} : {}), chains: [...table.chains.values()].map(chainData)};
}

/** Every table of a dump as data, in the order of the dump. */
export function rulesetTables(rs: Ruleset): TableData[] {
	return [...rs.tables.values()].map(tableData);
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
