/**
 * The structured rule: what a rule matches on and what it does, read once by the Ruleset
 * grammar's semantics, so that nothing downstream reads rule words again.
 *
 * Input:  the items the grammar read from `-s 10.0.0.0/8 -p tcp -m conntrack ! --ctstate NEW --dport 22 -j DNAT --to-destination 10.0.0.2:2222`
 *         (semantics/to-rule-item.ts): [option -s, option -p, module conntrack, option ! --ctstate, option --dport, target DNAT, option --to-destination]
 * Output: {matches: [{module:'basic', options:[-s {addrs:[10.0.0.0/8]}, -p {proto:'tcp', number:6}]},
 *                    {module:'conntrack', options:[--ctstate negated {list:['NEW']}]},
 *                    {module:'tcp', load:'implicit', options:[--dport {ports:[{from:22, to:22}]}]}],
 *          target: {name:'DNAT', kind:'extension', terminates:true, options:[--to-destination {nat:{minAddr:'10.0.0.2', minPort:2222, …}}]},
 *          pieces: [every match load, option and the target, in the order written]}
 *
 * Which match an option belongs to follows iptables: the latest loaded match that has the
 * option, else the protocol match `-p` loads implicitly (`-p tcp --dport 22` without `-m tcp`),
 * else the latest match. Modules and targets tracewatch does not model keep their options as
 * words, marked `unknown`; nothing is dropped and nothing is an error.
 * This module is the parser's: it imports nothing from src/model (data flows parser → model).
 */
import type {Cidr} from '../netfilter/addr.js';
import {implicitMatch, matchHasOption, matchInfo} from '../netfilter/matches.js';
import {targetInfo, type Walk} from '../netfilter/targets.js';

export interface Counters {
	readonly packets: number;
	readonly bytes: number;
}

/** An address or network as a rule names it (`-s 10.0.0.0/8`, `-d fd00::1`). */
export interface AddrPrefix {
	/** As written: `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `fd00::1`. */
	readonly text: string;
	/** The address part in its one printed form (canonicalIp). */
	readonly addr: string;
	readonly v6: boolean;
	/** Prefix length: 32 / 128 for a bare address. */
	readonly bits: number;
	/** A length or mask was written (`/32`), as iptables-save always does. */
	readonly masked: boolean;
	readonly cidr: Cidr;
}

/** Inclusive: `--dport 80` is {80, 80}; `--sport 1024:` is {1024, 65535}. */
export interface PortRange {
	readonly from: number;
	readonly to: number;
}

/** `--mark 0x4000/0x4000`; a mark without a mask compares all 32 bits. */
export interface Mark {
	readonly value: number;
	readonly mask?: number;
}

/** `--to-destination 10.0.0.1-10.0.0.9:1024-2000`, `[fd00::2]:80`, `:8080`, `10.0.0.1:1000-2000/3000`. */
export interface NatRange {
	readonly minAddr?: string;
	readonly maxAddr?: string;
	readonly v6?: boolean;
	readonly minPort?: number;
	readonly maxPort?: number;
	/** `…:1000-2000/3000`: the ports are shifted, 1000 → 3000 (DNAT's port offset, iptables 1.8.6+). */
	readonly basePort?: number;
}

/** `-s 10.0.12.0/255.0.255.0`: an address with a mask that is no prefix length. */
export interface AddrMask {
	/** As written. */
	readonly text: string;
	readonly addr: string;
	readonly mask: string;
	readonly v6: boolean;
}

/** `-i eth0`, `-o cali+` (a trailing `+` matches every name that starts with the rest). */
export interface Iface {
	/** As written, with the `+`. */
	readonly text: string;
	/** Without the `+`. */
	readonly name: string;
	readonly wildcard: boolean;
}

/** An option's value, read by its syntax. */
export type OptionValue =
	| {readonly kind: 'addrs'; readonly addrs: readonly AddrPrefix[]}
	| {readonly kind: 'addrRange'; readonly from: string; readonly to: string; readonly v6: boolean}
	| {readonly kind: 'iface'; readonly iface: Iface}
	/** `-p tcp`: the name as written; its number when it is one tracewatch knows (src/netfilter/protocols.ts). */
	| {readonly kind: 'proto'; readonly proto: string; readonly number?: number}
	| {readonly kind: 'ports'; readonly ports: readonly PortRange[]}
	/** `--tcp-flags FIN,SYN,RST,ACK SYN`: the flags looked at, and those of them that must be set. */
	| {readonly kind: 'tcpFlags'; readonly mask: readonly string[]; readonly comp: readonly string[]}
	/** `--icmp-type 8`, `3/4`, `echo-request`, `any` (type undefined); `--icmpv6-type`. */
	| {readonly kind: 'icmpType'; readonly proto: 'ICMP' | 'ICMPv6'; readonly type?: number; readonly code?: number; readonly name?: string}
	/** Comma lists of names: conntrack states and status, address types, CT events. */
	| {readonly kind: 'list'; readonly items: readonly string[]}
	| {readonly kind: 'mark'; readonly mark: Mark}
	/** Free text: a comment, a log prefix. `generated`: a per-rule id a tool made up (Calico's `cali:` and 16 characters), not words a person wrote. */
	| {readonly kind: 'text'; readonly text: string; readonly generated?: true}
	/** `--queue-num 3`, `--set-dscp 0x2e`, `--hmark-rnd 0x00000004`. `exact`: the decimal as written when it is above 2^53 (`--quota 18446744073709551615`), which `number` only approximates. */
	| {readonly kind: 'number'; readonly number: number; readonly exact?: string}
	/** `--length 0:1000`, `--espspi 1`, `--queue-balance 0:6`, `--connbytes 10:` (inclusive; a single value is a range of one; an open end is the largest value). */
	| {readonly kind: 'range'; readonly from: number; readonly to: number}
	/** `--limit 5/min` (iptables' default unit is per second); `--hashlimit-upto 4kb/s` (unit bytes, `count` in bytes); `--rateest-bps 8bit` (unit bits). Packets when `unit` is absent. */
	| {readonly kind: 'rate'; readonly count: number; readonly per: 'second' | 'minute' | 'hour' | 'day'; readonly unit?: 'bytes' | 'bits'}
	/** `--hashlimit-burst 400kb`: a size in bytes. */
	| {readonly kind: 'bytes'; readonly bytes: number}
	/** `-s 10.0.12.0/255.0.255.0`: addresses under a mask that is no prefix length. */
	| {readonly kind: 'addrMasks'; readonly addrs: readonly AddrMask[]}
	/** `--chunk-types all DATA:Be,INIT` (sctp). */
	| {readonly kind: 'chunks'; readonly match: string; readonly chunks: ReadonlyArray<{readonly name: string; readonly flags?: string}>}
	/** `--dst-opts 149:92,12` (IPv6 dst/hbh): option types and lengths. */
	| {readonly kind: 'ip6Options'; readonly options: ReadonlyArray<{readonly type: number; readonly length?: number}>}
	/** `--set-class 0001:0010` (CLASSIFY): a traffic-control class, hexadecimal major and minor. */
	| {readonly kind: 'class'; readonly major: number; readonly minor: number}
	/** `--timestart 01:02:03`: a time of day, in seconds after midnight. */
	| {readonly kind: 'time'; readonly time: string; readonly seconds: number}
	/** `--datestart 2001-02-03T04:05:06`, as written (ISO 8601, the zone `--kerneltz` says). */
	| {readonly kind: 'date'; readonly date: string}
	/** `--rateest-interval 250.0ms`. */
	| {readonly kind: 'duration'; readonly seconds: number}
	/** `--probability 0.25000000000`. */
	| {readonly kind: 'probability'; readonly probability: number}
	/** `--match-set NAME src,dst`; SET's `--add-set`, `--del-set`, `--map-set`. */
	| {readonly kind: 'set'; readonly set: string; readonly dirs: ReadonlyArray<'src' | 'dst'>}
	| {readonly kind: 'mac'; readonly mac: string}
	/** `--uid-owner 1000`, `1000-1999`, or a user name. */
	| {readonly kind: 'owner'; readonly from?: number; readonly to?: number; readonly name?: string}
	| {readonly kind: 'nat'; readonly nat: NatRange}
	/** One word from a small vocabulary or a name: `--reject-with tcp-reset`, `--ctdir REPLY`, `--mode random`, `--log-level 4`, `--hashlimit-name ssh`. */
	| {readonly kind: 'word'; readonly word: string}
	/** An option without a value: `--syn`, `--random-fully`, `--clamp-mss-to-pmtu`. */
	| {readonly kind: 'flag'}
	/** Not read: an option tracewatch does not model, or a value not in the option's syntax (`-s host.example`). */
	| {readonly kind: 'unknown'; readonly values: readonly string[]};

/** One option of a match or target, e.g. `! --ctstate NEW`. */
export interface RuleOption {
	readonly piece: 'option';
	/** As written: `--destination-port`. */
	readonly flag: string;
	/** iptables-save's spelling: `--dport` (aliases such as `--source`, `--src` → `-s`). */
	readonly name: string;
	/** `! --dport 22`, or the old `--dport ! 22`. */
	readonly negated: boolean;
	readonly value: OptionValue;
	/** The value's words as written, quotes removed: `['NEW']`; `[]` for a flag. */
	readonly values: readonly string[];
	/** All the option's words as written, quotes removed: `['!', '--ctstate', 'NEW']`. */
	readonly words: readonly string[];
}

/**
 * A match: the basic options (`-s -d -p -i -o -f`, always there when a rule has one of them),
 * a match loaded with `-m`, or the protocol match `-p tcp` loads for `--dport` without `-m tcp`.
 */
export interface Match {
	readonly piece: 'match';
	/** `basic`, `tcp`, `conntrack`, `comment`, …; `` for words before any match that none would take. */
	readonly module: string;
	readonly load: 'basic' | 'explicit' | 'implicit';
	readonly options: readonly RuleOption[];
	/** A module tracewatch does not model: its options are kept, as `unknown` values where not read. */
	readonly unknown?: true;
	/** `['-m', 'tcp']` for an explicit load; empty otherwise. */
	readonly words: readonly string[];
	/** nft rules: the selector as nft wrote it (`ip saddr`, `ct state`), whatever match it reads as. */
	readonly nft?: string;
	/** iptables-nft's `xt match NAME` in an nft listing: the match is there, its options are not shown. */
	readonly hidden?: true;
}

/** A word that is no option (iptables would refuse the rule): kept where it was. */
export interface StrayWord {
	readonly piece: 'stray';
	readonly words: readonly [string];
}

/** `map`: an nft verdict map (`vmap`): a jump, goto or verdict chosen by the packet, or none. */
export type TargetKind = 'verdict' | 'chain' | 'extension' | 'map';

export interface Target {
	readonly piece: 'target';
	/** `ACCEPT`, `DNAT`, `KUBE-SERVICES`. */
	readonly name: string;
	/** `-g`: the chain's walk does not come back here. */
	readonly goto: boolean;
	/**
	 * `verdict`: ACCEPT, DROP, RETURN, QUEUE (the kernel's standard verdicts); `chain`: a jump or
	 * goto to a user chain (any name that is no target extension); `extension`: a target module.
	 */
	readonly kind: TargetKind;
	/**
	 * What the walk does after the target (src/netfilter/targets.ts): `ends` (ACCEPT, DROP, DNAT, NFQUEUE, …),
	 * `continues` to the next rule (LOG, MARK, CT, …), `may-continue` (SYNPROXY, CLUSTERIP); `jump` to a
	 * user chain (the walk comes back unless that chain ends it), `goto` one (it does not come back).
	 */
	readonly walk: Walk | 'jump' | 'goto';
	/** The walk of the chain ends here when the target runs (ACCEPT, DROP, DNAT, NFQUEUE, …); goto aside. */
	readonly terminates: boolean;
	/** The target changes nothing a later rule can match on: packet, marks and conntrack stay as they were (ACCEPT, LOG, TRACE, …). */
	readonly inert: boolean;
	readonly options: readonly RuleOption[];
	/** Not a target tracewatch knows the options of (kept for dumps made by other tools; every iptables target is known). */
	readonly unknown?: true;
	/** `['-j', 'DNAT']` as written (`--jump` stays `--jump`). */
	readonly words: readonly string[];
	/** nft rules: the statement as nft wrote it (`masquerade fully-random`, `meta mark set meta mark | 0x4000`). */
	readonly nft?: string;
	/** iptables-nft's `xt target NAME` in an nft listing: the target is there, its options are not shown. */
	readonly hidden?: true;
	/** A verdict map: the chains its elements jump or go to, and the named map it reads (`@service-ips`). */
	readonly chains?: readonly string[];
	readonly map?: string;
}

export type RulePiece = Match | RuleOption | Target | StrayWord;

/** A rule, structured. */
export interface ParsedRule {
	/** In the order they were first named; the basic match first when the rule has basic options. */
	readonly matches: readonly Match[];
	readonly target?: Target;
	/** `-c PACKETS BYTES` (iptables -v -S). */
	readonly counters?: Counters;
	/** Every explicit match load, option, the target and stray word, in the order written; counters left out. */
	readonly pieces: readonly RulePiece[];
	/** nft rules: every statement that acts (log, mark, NAT, a verdict, …), in order; `target` is the one that decides the walk. */
	readonly actions?: readonly Target[];
	/** nft rules: the named sets and maps the rule reads (`@allowed`, `@service-ips`). */
	readonly sets?: readonly string[];
	/** nft rules: statements tracewatch keeps as written only (`tproxy to :8080`, `queue num 1 bypass`). */
	readonly unread?: readonly string[];
}

/** What the grammar's semantics reads from one rule word or option (src/parser/semantics/to-rule-item.ts). */
export type RuleItem =
	| {readonly item: 'counters'; readonly counters: Counters; readonly words: readonly string[]}
	/** `name` is undefined for a `-j` that ends the line (a cut dump). */
	| {readonly item: 'target'; readonly name?: string; readonly goto: boolean; readonly words: readonly string[]}
	| {readonly item: 'module'; readonly module: string; readonly words: readonly string[]}
	| {readonly item: 'option'; readonly option: RuleOption}
	| {readonly item: 'stray'; readonly word: string};

// ---- What tracewatch knows of iptables' matches and targets (iptables-extensions(8)) ----------

/** iptables-save's spelling of each alias. getopt would also take unique prefixes; iptables-save never prints them. */
const CANONICAL: Readonly<Record<string, string>> = {
	'--source': '-s', '--src': '-s', '--destination': '-d', '--dst': '-d', '--protocol': '-p', '--in-interface': '-i', '--out-interface': '-o',
	'--fragment': '-f', '--destination-port': '--dport', '--source-port': '--sport', '--destination-ports': '--dports', '--source-ports': '--sports',
};

export function canonicalOption(flag: string): string {
	return CANONICAL[flag] ?? flag;
}

/** Matches tracewatch knows by name but does not read the options of: older modules whose options are kept as words. */
const LEGACY_VARIES = new Set(['nth', 'random', 'numgen']);

/** Does the match look at something a rule earlier on the way can change (a mark, conntrack state, TOS, TTL)? */
export function isStatefulMatch(match: Match): boolean {
	return matchInfo(match.module)?.stateful === true;
}

/** Can the same packet match at one time and not at another (a rate limit, a random pick, an ipset), or can tracewatch not compare it (u32, bpf, string)? */
export function matchVaries(match: Match): boolean {
	return matchInfo(match.module)?.varies === true || LEGACY_VARIES.has(match.module);
}

export function targetOf(name: string, goto: boolean, words: readonly string[]): Target {
	const info = targetInfo(name);
	const kind: TargetKind = info ? info.kind : 'chain';
	const walk = info ? info.walk : goto ? 'goto' : 'jump';
	return {
		piece: 'target',
		name,
		goto,
		kind,
		walk,
		terminates: walk === 'ends',
		inert: info !== undefined && info.changes.length === 0,
		options: [],
		words,
	};
}

/** The words of a match that no `-m` loaded (the basic and the implicit protocol match): none, shared. */
const NO_WORDS: readonly string[] = Object.freeze([]);

export function newMatch(module: string, load: Match['load'], words: readonly string[]): Match {
	return {piece: 'match', module, load, options: [], ...(matchInfo(module) ? {} : {unknown: true as const}), words};
}

/** A match or target being put together: options are added, then sealed to size. */
type Building = {options: readonly RuleOption[]};

function add(owner: Match | Target, o: RuleOption): void {
	(owner.options as RuleOption[]).push(o);
}

/** Sizes each options list to what it holds (pushing leaves room for more; a dump holds these for every rule). */
function seal(owners: ReadonlyArray<Match | Target | undefined>): void {
	for (const o of owners) if (o && o.options.length > 0) (o as Building).options = o.options.slice();
}

function knows(module: string, option: string): boolean {
	return matchHasOption(module, option);
}

/** Groups the items of one rule into its matches and target. */
export function assembleRule(items: readonly RuleItem[]): ParsedRule {
	const matches: Match[] = [];
	const pieces: RulePiece[] = [];
	let basic: Match | undefined;
	let implicit: Match | undefined;
	let latest: Match | undefined;
	let target: Target | undefined;
	let counters: Counters | undefined;
	let proto: string | undefined;

	for (const it of items) {
		switch (it.item) {
			case 'counters': {
				counters = it.counters;
				break;
			}
			case 'target': {
				// A `-j` that ends a cut line: no target, no condition; the rule's text and args keep it.
				if (it.name === undefined) break;
				if (target) {
					// A second -j (iptables refuses the rule): kept as words of the first target.
					const again: RuleOption = {piece: 'option', flag: it.words[0]!, name: it.words[0]!, negated: false, value: {kind: 'unknown', values: [it.name]}, values: [it.name], words: it.words};
					add(target, again);
					pieces.push(again);
					break;
				}
				target = targetOf(it.name, it.goto, it.words);
				pieces.push(target);
				break;
			}
			case 'module': {
				latest = newMatch(it.module, 'explicit', it.words);
				matches.push(latest);
				pieces.push(latest);
				break;
			}
			case 'stray': {
				pieces.push({piece: 'stray', words: [it.word]});
				break;
			}
			case 'option': {
				const o = it.option;
				pieces.push(o);
				// -s, -d, -p, -i, -o, -f are iptables' own options wherever they are written.
				if (knows('basic', o.name)) {
					if (!basic) {
						basic = newMatch('basic', 'basic', NO_WORDS);
						matches.unshift(basic);
					}
					add(basic, o);
					if (o.name === '-p' && o.value.kind === 'proto' && !o.negated) proto = o.value.proto.toLowerCase();
					break;
				}
				if (target) {
					add(target, o);
					break;
				}
				const owner = ownerOf(matches, o.name) ?? implicitFor(proto, o.name) ?? latest;
				if (owner) {
					add(owner, o);
					break;
				}
				// `--dport` with no -p and no -m: iptables refuses it; keep it, in a match of its own.
				latest = newMatch('', 'implicit', NO_WORDS);
				matches.push(latest);
				add(latest, o);
				break;
			}
		}
	}

	function implicitFor(p: string | undefined, name: string): Match | undefined {
		const module = p === undefined ? undefined : implicitMatch(p);
		if (!module || !knows(module, name)) return undefined;
		if (!implicit) {
			implicit = newMatch(module, 'implicit', NO_WORDS);
			matches.push(implicit);
		}
		return implicit;
	}

	seal(matches);
	seal([target]);
	// Sized to what they hold, as the options are.
	return {matches: matches.slice(), ...(target ? {target} : {}), ...(counters ? {counters} : {}), pieces: pieces.slice()};
}

/** The latest loaded match that has the option. */
function ownerOf(matches: readonly Match[], name: string): Match | undefined {
	for (let i = matches.length - 1; i >= 0; i--) if (knows(matches[i]!.module, name)) return matches[i];
	return undefined;
}
