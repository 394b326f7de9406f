/**
 * Questions about one rule, answered from its structure (Rule.parsed, src/parser/rule.ts):
 * what it names, what it requires of a packet, what it does.
 *
 * Input:  the rule `-A POSTROUTING -s 198.19.88.0/24 ! -d 198.19.88.0/24 -o wlp59s0 -j MASQUERADE`
 * Output: addressMatch(rule, 'src', '198.19.88.69') === true; addressMatch(rule, 'dst', '198.19.88.7') === false;
 *         outInterface(rule)?.name === 'wlp59s0'; sourceNatFor(rule, 'wlp59s0') === true;
 *         mayMatch(rule, {src:'198.19.88.69', dst:'1.1.1.1', out:'wlp59s0'}) === true
 *
 * A condition tracewatch cannot decide (a module it does not model, a value it could not read)
 * never makes a rule "not match": answers are `undefined` (no such condition) or lean to "may".
 */
import {inCidr, parseAddr, type ParsedAddr} from '../netfilter/addr.js';
import {ifaceMatches} from '../netfilter/iface.js';
import {kernelProtoName} from '../netfilter/protocols.js';
import type {AddrPrefix, Iface, Match, NatRange, Rule, RuleOption} from '../parser/ruleset.js';
import {isStatefulMatch, matchVaries} from '../parser/rule.js';

/** The rule's basic options (`-s -d -p -i -o -f`), in the order written. */
function basicOptions(rule: Rule): readonly RuleOption[] {
	const first = rule.parsed.matches[0];
	return first?.load === 'basic' ? first.options : [];
}

/** The first of the rule's basic options with this name (`-s`, `-d`, `-p`, `-i`, `-o`, `-f`). */
export function basicOption(rule: Rule, name: '-s' | '-d' | '-p' | '-i' | '-o' | '-f'): RuleOption | undefined {
	return basicOptions(rule).find(o => o.name === name);
}

/** Every option of the rule's matches with this name (iptables-save's spelling: `--dport`, `--ctstate`). */
export function matchOptions(rule: Rule, name: string): RuleOption[] {
	const out: RuleOption[] = [];
	for (const m of rule.parsed.matches) for (const o of m.options) if (o.name === name) out.push(o);
	return out;
}

/** An option of the rule's target (`--to-source`, `--log-prefix`). */
export function targetOption(rule: Rule, name: string): RuleOption | undefined {
	return rule.parsed.target?.options.find(o => o.name === name);
}

/** Does the rule load this match module (`-m limit`)? */
export function loadsModule(rule: Rule, module: string): boolean {
	return rule.parsed.matches.some(m => m.load === 'explicit' && m.module === module);
}

/** Does the rule have no condition at all (no match, no stray word)? Counters are no condition. */
export function isUnconditional(rule: Rule): boolean {
	return rule.parsed.matches.length === 0 && !rule.parsed.pieces.some(p => p.piece === 'stray');
}

/**
 * The rule's `-s` (src) or `-d` (dst) condition as it applies to `addr`: true or false, or
 * undefined when the rule has none, or names it in a form tracewatch does not read (a host name).
 */
export function addressMatch(rule: Rule, dir: 'src' | 'dst', addr: string | ParsedAddr): boolean | undefined {
	const o = basicOption(rule, dir === 'src' ? '-s' : '-d');
	if (!o || o.value.kind !== 'addrs') return undefined;
	const a = typeof addr === 'string' ? parseAddr(addr) : addr;
	const hit = a !== undefined && o.value.addrs.some(p => inCidr(a, p.cidr));
	return o.negated ? !hit : hit;
}

/** The rule's `-i` (in) or `-o` (out) condition as it applies to the interface `name`; undefined when it has none. */
export function interfaceMatch(rule: Rule, dir: 'in' | 'out', name: string): boolean | undefined {
	const o = basicOption(rule, dir === 'in' ? '-i' : '-o');
	if (!o || o.value.kind !== 'iface') return undefined;
	const hit = ifaceMatches(o.value.iface.text, name);
	return o.negated ? !hit : hit;
}

/** The interface the rule requires (`-o wlp59s0`, `-o cali+`); undefined when it has none or only excludes one (`! -o lo`). */
export function outInterface(rule: Rule): Iface | undefined {
	return requiredIface(rule, '-o');
}

export function inInterface(rule: Rule): Iface | undefined {
	return requiredIface(rule, '-i');
}

function requiredIface(rule: Rule, name: '-i' | '-o'): Iface | undefined {
	const o = basicOption(rule, name);
	return o && !o.negated && o.value.kind === 'iface' ? o.value.iface : undefined;
}

/** What a packet is, as far as these questions need: any field left out is not checked. */
export interface PacketFacts {
	readonly src?: string;
	readonly dst?: string;
	readonly in?: string;
	readonly out?: string;
}

/**
 * Could the rule match a packet with these addresses and interfaces? False only when one of
 * them fails its condition (`-s`, `-d`, `-i`, `-o`, with `!`); every other condition is taken
 * as matching. An empty interface (`IN=` in a trace) is not checked.
 */
export function mayMatch(rule: Rule, packet: PacketFacts): boolean {
	if (packet.src !== undefined && addressMatch(rule, 'src', packet.src) === false) return false;
	if (packet.dst !== undefined && addressMatch(rule, 'dst', packet.dst) === false) return false;
	if (packet.in && interfaceMatch(rule, 'in', packet.in) === false) return false;
	if (packet.out && interfaceMatch(rule, 'out', packet.out) === false) return false;
	return true;
}

/** The networks and addresses the rule's `-s`/`-d` name (negated ones too: `! -s 10.0.0.0/8` names 10.0.0.0/8). */
export function ruleCidrs(rule: Rule, dir?: 'src' | 'dst'): AddrPrefix[] {
	const out: AddrPrefix[] = [];
	for (const o of basicOptions(rule)) {
		if (o.value.kind !== 'addrs') continue;
		if (dir === undefined ? o.name === '-s' || o.name === '-d' : o.name === (dir === 'src' ? '-s' : '-d')) out.push(...o.value.addrs);
	}
	return out;
}

/** The protocol the rule requires, in the kernel log's spelling (`-p tcp` → TCP, `-p 47` → GRE); undefined for none, `! -p`, or one tracewatch does not know. */
export function ruleProtocol(rule: Rule): string | undefined {
	const o = basicOption(rule, '-p');
	return o && !o.negated && o.value.kind === 'proto' ? kernelProtoName(o.value.proto) : undefined;
}

/** A SNAT or MASQUERADE rule. */
export function isSourceNat(rule: Rule): boolean {
	const t = rule.parsed.target?.name;
	return t === 'SNAT' || t === 'MASQUERADE';
}

/** A SNAT or MASQUERADE rule that applies to packets leaving by `out` (no `-o`, or one that matches it). */
export function sourceNatFor(rule: Rule, out: string): boolean {
	return isSourceNat(rule) && interfaceMatch(rule, 'out', out) !== false;
}

/** Where a DNAT/SNAT/MASQUERADE/REDIRECT rule sends the packet (`--to-destination`, `--to-source`, `--to-ports`); undefined when it does not say. */
export function natTo(rule: Rule): NatRange | undefined {
	for (const o of rule.parsed.target?.options ?? []) if (o.value.kind === 'nat') return o.value.nat;
	return undefined;
}

/** A NAT range the way iptables-save prints it: `10.0.0.2:8080`, `10.0.0.1-10.0.0.9:1024-2000`, `[fd00::2]:80`, `:8080`. */
export function formatNatRange(nat: NatRange): string {
	const span = (a: string | number | undefined, b: string | number | undefined) => (a === undefined ? '' : b === undefined || b === a ? `${a}` : `${a}-${b}`);
	const addrs = span(nat.minAddr, nat.maxAddr);
	const ports = span(nat.minPort, nat.maxPort);
	if (!ports) return addrs;
	return `${nat.v6 ? `[${addrs}]` : addrs}:${ports}`;
}

/** What the rule's target option `name` says, printed: a NAT range as iptables-save prints it, an option tracewatch did not read as written. */
export function targetOptionText(rule: Rule, name: string): string | undefined {
	const o = targetOption(rule, name);
	if (!o) return undefined;
	return o.value.kind === 'nat' ? formatNatRange(o.value.nat) : o.words.slice(o.negated ? 2 : 1).join(' ');
}

/** Does a match of the rule look at state an earlier rule can change (a mark, conntrack state)? */
export function matchesOnState(rule: Rule): boolean {
	return rule.parsed.matches.some(isStatefulMatch);
}

/** Does a match of the rule not always match the same packet (a rate limit, a random pick, an ipset, a socket)? */
export function matchVariesOverTime(rule: Rule): boolean {
	return rule.parsed.matches.some(matchVaries);
}

/**
 * The rule's conditions as option groups, comments left out, each as written:
 * `-A X -p tcp -m comment --comment "ssh" -m tcp ! --dport 22` → ['-p tcp', '-m tcp', '! --dport 22'].
 * Two rules whose groups are the same sets match the same packets.
 */
export function conditionGroups(rule: Rule): string[] {
	const groups: string[] = [];
	for (const p of rule.parsed.pieces) {
		if (p.piece === 'target') break;
		if (p.piece === 'match') {
			if (p.module !== 'comment') groups.push(p.words.join(' '));
		} else if (p.piece === 'option') {
			if (p.name !== '--comment') groups.push(p.words.join(' '));
		} else groups.push(p.words.join(' '));
	}
	return groups;
}

/** The rule's words as written, counters left out: what `iptables -D CHAIN …` takes. */
export function specWords(rule: Rule): string[] {
	return rule.parsed.pieces.flatMap(p => p.words);
}

/**
 * Whether the rule names `word`: as a word of it, an address it names (with or without its
 * prefix length, with or without a NAT port), or an interface (with or without the `+`).
 */
export function ruleMentions(rule: Rule, word: string): boolean {
	for (const p of rule.parsed.pieces) {
		if (p.words.includes(word)) return true;
		if (p.piece !== 'option') continue;
		const v = p.value;
		if (v.kind === 'addrs' && v.addrs.some(a => a.addr === word || a.text === word)) return true;
		if (v.kind === 'iface' && v.iface.name === word) return true;
		if (v.kind === 'nat' && (v.nat.minAddr === word || v.nat.maxAddr === word)) return true;
		if (v.kind === 'addrRange' && (v.from === word || v.to === word)) return true;
	}
	return false;
}

/** The rule's matches that tracewatch does not model (their options kept as words). */
export function unknownMatches(rule: Rule): Match[] {
	return rule.parsed.matches.filter(m => m.unknown);
}
