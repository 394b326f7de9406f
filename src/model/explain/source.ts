/**
 * The walk's view of a ruleset: the chains a hook runs, in the kernel's order, and each rule as
 * conditions and one action. The walk (walk.ts) knows nothing else of a ruleset, so another
 * ruleset form plugs in by building these shapes: iptables dumps are compiled here
 * (iptablesSource); native nftables rulesets will bring base chains at any priority, sets with
 * their contents (a `set` condition that can be decided), verdict maps (an action that picks a
 * chain by a key) and `numgen` (a `statistic` condition).
 *
 * Input:  the dump rule `-A TW-FORWARD -d 198.18.20.2/32 -p tcp -m conntrack --ctstate NEW -m tcp --dport 8080 -j ACCEPT`
 * Output: {pos: 2, conditions: [{kind:'addr', dir:'dst', …}, {kind:'proto', proto:'TCP'}, {kind:'ctstate', states:['new']},
 *          {kind:'ports', which:'dport', ranges:[{from:8080, to:8080}]}], action: {kind:'verdict', verdict:'ACCEPT'}, standardTail: false}
 */
import {parseAddr, parseCidr, type Cidr} from '../../netfilter/addr.js';
import {tablePriority, tablesAt, type Hook} from '../../netfilter/hooks.js';
import {nftFamilyCovers} from '../../netfilter/nft.js';
import {icmpTypeNumber} from '../../netfilter/icmp.js';
import {kernelProtoName} from '../../netfilter/protocols.js';
import type {Chain, Match, NatRange, NftSet, Rule, RuleOption} from '../../parser/ruleset.js';
import {isUnconditional} from '../rule-query.js';
import type {RuleIndex} from '../join.js';
import type {UnknownKind} from './types.js';

/** How the kernel treats a chain's table: nat chains see only a connection's first packet; `route` chains (mangle OUTPUT) reroute when they change the packet. */
export type ChainType = 'filter' | 'nat' | 'route';

/** A base chain attached to a hook. */
export interface HookChain {
	readonly table: string;
	readonly chain: WalkChain;
	/** Lower runs first; conntrack runs at -200, its destination NAT at -100, its source NAT at 100. */
	readonly priority: number;
	readonly type: ChainType;
}

export interface WalkChain {
	readonly table: string;
	readonly name: string;
	/** A base (built-in) chain: its end is its policy; a user chain's end returns to the caller. */
	readonly base: boolean;
	/** From a native nft listing: its policy is written nft's way (`policy drop`). */
	readonly nft?: true;
	readonly policy?: string;
	/** Line of the chain's declaration in the dump. */
	readonly line?: number;
	readonly rules: readonly WalkRule[];
}

export interface WalkRule {
	/** 1-based position in the chain (the N of `rule:N`). */
	readonly pos: number;
	/** As written (`-A CHAIN …`). */
	readonly text: string;
	readonly line?: number;
	/** All must hold for the rule to match. */
	readonly conditions: readonly Condition[];
	readonly action: Action;
	/** No condition and a standard verdict (ACCEPT, DROP, RETURN): the kernel logs it as its chain's policy/return. */
	readonly standardTail: boolean;
	/** The target's name as written (`DNAT`, `KUBE-SERVICES`), or '' for a rule without one. */
	readonly target: string;
}

/** A ruleset as the walk reads it: one family. */
export interface RuleSource {
	readonly family: 'ipv4' | 'ipv6';
	/** The base chains at a hook, in the order the kernel runs them. */
	hookChains(hook: Hook): readonly HookChain[];
	chain(table: string, name: string): WalkChain | undefined;
}

export interface PortSpan {
	readonly from: number;
	readonly to: number;
}

/** One condition of a rule, as written (`text`), with `!` applied by `negated`. */
export type Condition = {readonly text: string; readonly negated: boolean} & (
	| {readonly kind: 'addr'; readonly dir: 'src' | 'dst'; readonly cidrs: readonly Cidr[]}
	| {readonly kind: 'addrRange'; readonly dir: 'src' | 'dst'; readonly from: bigint; readonly to: bigint; readonly v6: boolean}
	| {readonly kind: 'iface'; readonly dir: 'in' | 'out'; readonly pattern: string}
	/** `proto` in the kernel log's spelling; undefined for `-p all`. */
	| {readonly kind: 'proto'; readonly proto: string | undefined}
	/** One of these protocols (an nft set of them). */
	| {readonly kind: 'protoIn'; readonly protos: readonly string[]}
	| {readonly kind: 'ports'; readonly which: 'sport' | 'dport' | 'any'; readonly ranges: readonly PortSpan[]}
	| {readonly kind: 'tcpFlags'; readonly mask: readonly string[]; readonly comp: readonly string[]}
	/** type undefined: `any`. */
	| {readonly kind: 'icmpType'; readonly proto: 'ICMP' | 'ICMPv6'; readonly type?: number; readonly code?: number}
	| {readonly kind: 'ctstate'; readonly states: readonly string[]}
	| {readonly kind: 'ctstatus'; readonly statuses: readonly string[]}
	| {readonly kind: 'ctdir'; readonly dir: 'original' | 'reply'}
	| {readonly kind: 'ctproto'; readonly proto: string | undefined}
	| {readonly kind: 'ctaddr'; readonly which: 'origsrc' | 'origdst' | 'replsrc' | 'repldst'; readonly cidrs: readonly Cidr[]}
	| {readonly kind: 'mark'; readonly value: number; readonly mask: number}
	| {readonly kind: 'connmark'; readonly value: number; readonly mask: number}
	| {readonly kind: 'addrtype'; readonly dir: 'src' | 'dst'; readonly types: readonly string[]; readonly limitIn: boolean; readonly limitOut: boolean}
	| {readonly kind: 'physdev'; readonly option: 'in' | 'out' | 'is-in' | 'is-out' | 'is-bridged'; readonly pattern?: string}
	| {readonly kind: 'owner'; readonly what: 'uid' | 'gid' | 'socket'; readonly from?: number; readonly to?: number; readonly name?: string}
	| {readonly kind: 'mac'; readonly mac: string}
	| {readonly kind: 'fragment'}
	/** A random or every-nth pick: holds with this probability. */
	| {readonly kind: 'statistic'; readonly probability: number; readonly mode: string}
	/** The reverse-path check (rpfilter): holds when the source is routed back out of the input interface. */
	| {readonly kind: 'rpfilter'}
	/** What cannot be decided from a dump: holds, by assumption (`assume`). */
	| {readonly kind: 'unknowable'; readonly why: UnknownKind; readonly module: string; readonly reason: string; readonly assume: boolean}
);

/** What a matching rule does. */
export type Action =
	/** Nothing the walk follows (no target, LOG, NFLOG, TCPMSS, …): the next rule. */
	| {readonly kind: 'continue'; readonly name: string; readonly modelled: boolean}
	| {readonly kind: 'trace'}
	| {readonly kind: 'verdict'; readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE'}
	| {readonly kind: 'return'}
	| {readonly kind: 'jump'; readonly chain: string; readonly goto: boolean}
	| {readonly kind: 'nat'; readonly type: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT' | 'NETMAP'; readonly range?: NatRange; readonly netmap?: Cidr}
	/** mark = (mark & ~mask) ^ value, the kernel's xmark. */
	| {readonly kind: 'mark'; readonly value: number; readonly mask: number}
	| {readonly kind: 'connmark'; readonly op: 'set'; readonly value: number; readonly mask: number}
	| {readonly kind: 'connmark'; readonly op: 'save' | 'restore'; readonly nfmask: number; readonly ctmask: number}
	| {readonly kind: 'notrack'}
	/** TPROXY: hands the packet to a local socket (accepts it, marks it). */
	| {readonly kind: 'tproxy'; readonly value: number; readonly mask: number}
	/** A target that ends the walk and is not modelled (SYNPROXY, an unknown one): taken as accepting. */
	| {readonly kind: 'other'; readonly name: string}
	/** An nft verdict map: the first entry whose key the packet has gives the verdict; none, the next rule. */
	| {readonly kind: 'vmap'; readonly entries: readonly VmapEntry[]};

/** One entry of a verdict map: its key as a condition (`tcp dport 80`, a numgen pick), and its verdict. */
export interface VmapEntry {
	/** All hold for the entry to be the packet's (one per field of a concatenated key, and the protocol a selector implies). */
	readonly conditions: readonly Condition[];
	readonly action: Extract<Action, {kind: 'verdict' | 'return' | 'jump' | 'continue'}>;
}

/** One field of a map key (`ip daddr`, `meta l4proto`, `th dport`) and one element's value for it, as conditions; undefined when not decidable. */
function keyConditions(selector: string, value: string, text: string): Condition[] | undefined {
	const dir = SET_ADDR[selector];
	if (dir) {
		const cidr = parseCidr(value);
		return cidr ? [{kind: 'addr', dir, cidrs: [cidr], negated: false, text}] : undefined;
	}
	const port = SET_PORT[selector];
	if (port) {
		const p = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
		if (!p) return undefined;
		const from = Number(p[1]);
		const ports: Condition = {kind: 'ports', which: port.which, ranges: [{from, to: p[2] === undefined ? from : Number(p[2])}], negated: false, text};
		return port.proto ? [{kind: 'proto', proto: port.proto, negated: false, text: `(${port.proto} implied)`}, ports] : [ports];
	}
	if (selector === 'iifname' || selector === 'oifname' || selector === 'meta iifname' || selector === 'meta oifname') {
		const name = value.replace(/^"(.*)"$/, '$1');
		return [{kind: 'iface', dir: selector.includes('iif') ? 'in' : 'out', pattern: name.endsWith('*') ? `${name.slice(0, -1)}+` : name, negated: false, text}];
	}
	if (selector === 'meta l4proto' || selector === 'ip protocol' || selector === 'ip6 nexthdr') {
		const proto = protoName(value);
		return proto ? [{kind: 'proto', proto, negated: false, text}] : undefined;
	}
	return undefined;
}

const FULL = 0xffffffff;

/** /etc/protocols names iptables-save prints that src/netfilter/protocols.ts does not spell (`-p ipencap` is protocol 4). */
const MORE_PROTOCOLS: Readonly<Record<string, number>> = {
	ip: 0, hopopt: 0, ggp: 3, ipencap: 4, st: 5, egp: 8, igp: 9, pup: 12, hmp: 20, 'xns-idp': 22, rdp: 27, 'iso-tp4': 29, xtp: 36, ddp: 37,
	'idpr-cmtp': 38, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44, idrp: 45, rsvp: 46, skip: 57, 'ipv6-nonxt': 59, 'ipv6-opts': 60, rspf: 73,
	vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103, ipcomp: 108, vrrp: 112, l2tp: 115, isis: 124,
	fc: 133, 'mobility-header': 135, 'mpls-in-ip': 137, manet: 138, hip: 139, shim6: 140, wesp: 141, rohc: 142,
};

/** A protocol in the kernel log's spelling (TCP, ICMPv6, 4), from any tool's name or number; undefined when not a protocol. */
export function protoName(name: string): string | undefined {
	const known = kernelProtoName(name);
	if (known !== undefined) return known;
	const n = MORE_PROTOCOLS[name.toLowerCase()];
	return n === undefined ? undefined : kernelProtoName(String(n));
}

/** `! -s 10.0.0.0/8` */
function words(o: RuleOption): string {
	return o.words.join(' ');
}

function u32(n: number): number {
	return n >>> 0;
}

/** Every modelled match option as conditions; what is not modelled as `unknowable`. */
/** A named nft set's elements as addresses (CIDRs) or as ports; undefined when any element is something else. */
function setElements(set: NftSet | undefined): {cidrs: Cidr[]} | {ports: PortSpan[]} | undefined {
	if (!set || set.map || set.elements.length === 0) return undefined;
	const texts = set.elements.map(e => e.text.trim());
	const cidrs = texts.map(parseCidr);
	if (cidrs.every(c => c !== undefined)) return {cidrs: cidrs as Cidr[]};
	const ports: PortSpan[] = [];
	for (const t of texts) {
		const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(t);
		if (!m) return undefined;
		const from = Number(m[1]);
		const to = m[2] === undefined ? from : Number(m[2]);
		if (to > 65535 || from > to) return undefined;
		ports.push({from, to});
	}
	return {ports};
}

/** nft selectors a named set of addresses or ports is looked up with. */
const SET_ADDR: Readonly<Record<string, 'src' | 'dst'>> = {'ip saddr': 'src', 'ip daddr': 'dst', 'ip6 saddr': 'src', 'ip6 daddr': 'dst'};
const SET_PORT: Readonly<Record<string, {which: 'sport' | 'dport'; proto?: string}>> = {
	'tcp dport': {which: 'dport', proto: 'TCP'},
	'tcp sport': {which: 'sport', proto: 'TCP'},
	'udp dport': {which: 'dport', proto: 'UDP'},
	'udp sport': {which: 'sport', proto: 'UDP'},
	'sctp dport': {which: 'dport', proto: 'SCTP'},
	'sctp sport': {which: 'sport', proto: 'SCTP'},
	'th dport': {which: 'dport'},
	'th sport': {which: 'sport'},
};

/**
 * A lookup in a named nft set whose elements the listing gives (`ip saddr @blocked`,
 * `tcp dport @ports`): decided like an address or port match. ipset sets (`-m set`) and sets of
 * other keys stay unknowable.
 */
function compileSetLookup(m: Match, sets: ReadonlyMap<string, NftSet> | undefined, out: Condition[]): boolean {
	if (!sets || m.options.length !== 1) return false;
	const o = m.options[0]!;
	if (o.value.kind !== 'set' || !o.flag) return false;
	const elements = setElements(sets.get(o.value.set));
	if (!elements) return false;
	const text = o.words.join(' ');
	const dir = SET_ADDR[o.flag];
	if (dir && 'cidrs' in elements) {
		out.push({kind: 'addr', dir, cidrs: elements.cidrs, negated: o.negated, text});
		return true;
	}
	const port = SET_PORT[o.flag];
	if (port && 'ports' in elements) {
		if (port.proto) out.push({kind: 'proto', proto: port.proto, negated: false, text: `(${port.proto} implied)`});
		out.push({kind: 'ports', which: port.which, ranges: elements.ports, negated: o.negated, text});
		return true;
	}
	return false;
}

function compileMatch(m: Match, out: Condition[], sets?: ReadonlyMap<string, NftSet>): void {
	if ((m.module === 'set' || m.module === 'nft') && compileSetLookup(m, sets, out)) return;
	const unknowable = (o: RuleOption | undefined, why: UnknownKind, reason: string, assume = true) =>
		out.push({kind: 'unknowable', why, module: m.module, reason, assume, negated: false, text: (o ? [...m.words, ...o.words] : [...m.words, ...m.options.flatMap(x => x.words)]).join(' ')});

	switch (m.module) {
		case 'comment':
			return;
		case 'set':
			unknowable(undefined, 'set', `the contents of ipset ${m.options.find(o => o.value.kind === 'set')?.values[0] ?? '?'} are not in the dump`);
			return;
		case 'limit':
		case 'hashlimit':
		case 'recent':
		case 'quota':
		case 'connlimit':
		case 'connbytes':
		case 'time':
			unknowable(undefined, 'state', `-m ${m.module} depends on ${m.module === 'time' ? 'the time of day' : m.module === 'recent' ? 'which packets were seen recently' : 'counters kept in the kernel'}, which a dump does not hold`);
			return;
		case 'string':
		case 'bpf':
		case 'u32':
			unknowable(undefined, 'content', `-m ${m.module} looks at the payload, which neither the dump nor a trace shows`);
			return;
		case 'rpfilter': {
			const invert = m.options.some(o => o.name === '--invert');
			out.push({kind: 'rpfilter', negated: invert, text: m.words.concat(...m.options.map(o => o.words)).join(' ')});
			return;
		}
		case 'statistic': {
			const mode = m.options.find(o => o.name === '--mode')?.values[0] ?? 'random';
			const prob = m.options.find(o => o.name === '--probability');
			const every = m.options.find(o => o.name === '--every');
			const p = prob?.value.kind === 'probability' ? prob.value.probability : every?.value.kind === 'number' && every.value.number > 0 ? 1 / every.value.number : 0.5;
			const negated = Boolean(prob?.negated || every?.negated);
			out.push({kind: 'statistic', probability: p, mode, negated, text: m.words.concat(...m.options.map(o => o.words)).join(' ')});
			return;
		}
	}
	if (m.unknown || m.module === '') {
		unknowable(undefined, 'not-modelled', `-m ${m.module || '?'} is not modelled`);
		return;
	}
	for (const o of m.options) compileOption(m, o, out, unknowable);
}

function compileOption(m: Match, o: RuleOption, out: Condition[], unknowable: (o: RuleOption, why: UnknownKind, reason: string, assume?: boolean) => void): void {
	const v = o.value;
	const base = {negated: o.negated, text: m.load === 'explicit' ? `${m.words.join(' ')} ${words(o)}` : words(o)};
	if (v.kind === 'unknown') {
		unknowable(o, 'not-modelled', `${o.name} ${o.values.join(' ')} is not read`.trim());
		return;
	}
	switch (o.name) {
		case '-s':
		case '-d': {
			if (v.kind === 'addrs') out.push({...base, kind: 'addr', dir: o.name === '-s' ? 'src' : 'dst', cidrs: v.addrs.map(a => a.cidr)});
			return;
		}
		case '--src-range':
		case '--dst-range': {
			if (v.kind !== 'addrRange') break;
			const a = parseAddr(v.from);
			const b = parseAddr(v.to);
			if (a && b) out.push({...base, kind: 'addrRange', dir: o.name === '--src-range' ? 'src' : 'dst', from: a.value, to: b.value, v6: v.v6});
			return;
		}
		case '-i':
		case '-o': {
			if (v.kind === 'iface') out.push({...base, kind: 'iface', dir: o.name === '-i' ? 'in' : 'out', pattern: v.iface.text});
			return;
		}
		case '-p': {
			// nft: `meta l4proto { icmp, ipv6-icmp }`.
			if (v.kind === 'list') {
				const protos = v.items.map(protoName);
				if (protos.some(x => x === undefined)) break;
				out.push({...base, kind: 'protoIn', protos: protos as string[]});
				return;
			}
			if (v.kind !== 'proto') break;
			const proto = protoName(v.proto);
			const all = v.proto.toLowerCase() === 'all' || proto === '0';
			if (!all && proto === undefined) break;
			out.push({...base, kind: 'proto', proto: all ? undefined : proto});
			return;
		}
		case '-f':
		case '--fragment': {
			out.push({...base, kind: 'fragment'});
			return;
		}
		case '--sport':
		case '--dport':
		case '--sports':
		case '--dports':
		case '--ports': {
			if (v.kind !== 'ports') break;
			const which = o.name.startsWith('--s') ? 'sport' : o.name.startsWith('--d') ? 'dport' : 'any';
			out.push({...base, kind: 'ports', which, ranges: v.ports});
			return;
		}
		case '--tcp-flags': {
			if (v.kind === 'tcpFlags') out.push({...base, kind: 'tcpFlags', mask: v.mask.map(f => f.toUpperCase()), comp: v.comp.map(f => f.toUpperCase())});
			return;
		}
		case '--syn': {
			out.push({...base, kind: 'tcpFlags', mask: ['FIN', 'SYN', 'RST', 'ACK'], comp: ['SYN']});
			return;
		}
		case '--icmp-type':
		case '--icmpv6-type': {
			if (v.kind !== 'icmpType') break;
			// nft listings give the type by name only (`icmp type echo-request`).
			const type = v.type ?? (v.name && v.name !== 'any' ? icmpTypeNumber(v.proto, v.name) : undefined);
			if (type === undefined && v.name !== 'any') break;
			out.push({...base, kind: 'icmpType', proto: v.proto, ...(type === undefined ? {} : {type}), ...(v.code === undefined ? {} : {code: v.code})});
			return;
		}
		case '--ctstate':
		case '--state': {
			if (v.kind === 'list') out.push({...base, kind: 'ctstate', states: v.items.map(s => s.toLowerCase())});
			return;
		}
		case '--ctstatus': {
			if (v.kind === 'list') out.push({...base, kind: 'ctstatus', statuses: v.items.map(s => s.toUpperCase())});
			return;
		}
		case '--ctdir': {
			if (v.kind === 'word') out.push({...base, kind: 'ctdir', dir: v.word.toUpperCase() === 'REPLY' ? 'reply' : 'original'});
			return;
		}
		case '--ctproto': {
			if (v.kind === 'proto') out.push({...base, kind: 'ctproto', proto: v.proto.toLowerCase() === 'all' ? undefined : protoName(v.proto)});
			return;
		}
		case '--ctorigsrc':
		case '--ctorigdst':
		case '--ctreplsrc':
		case '--ctrepldst': {
			if (v.kind === 'addrs') out.push({...base, kind: 'ctaddr', which: o.name.slice(4) as 'origsrc', cidrs: v.addrs.map(a => a.cidr)});
			return;
		}
		case '--mark': {
			if (v.kind !== 'mark') break;
			out.push({...base, kind: m.module === 'connmark' ? 'connmark' : 'mark', value: u32(v.mark.value), mask: u32(v.mark.mask ?? FULL)});
			return;
		}
		case '--src-type':
		case '--dst-type': {
			if (v.kind !== 'list') break;
			const limitIn = m.options.some(x => x.name === '--limit-iface-in');
			const limitOut = m.options.some(x => x.name === '--limit-iface-out');
			out.push({...base, kind: 'addrtype', dir: o.name === '--src-type' ? 'src' : 'dst', types: v.items.map(t => t.toUpperCase()), limitIn, limitOut});
			return;
		}
		case '--limit-iface-in':
		case '--limit-iface-out':
			return;
		case '--physdev-in':
		case '--physdev-out': {
			if (v.kind === 'iface') out.push({...base, kind: 'physdev', option: o.name === '--physdev-in' ? 'in' : 'out', pattern: v.iface.text});
			return;
		}
		case '--physdev-is-in':
		case '--physdev-is-out':
		case '--physdev-is-bridged': {
			out.push({...base, kind: 'physdev', option: o.name.slice('--physdev-'.length) as 'is-in'});
			return;
		}
		case '--uid-owner':
		case '--gid-owner': {
			if (v.kind !== 'owner') break;
			out.push({...base, kind: 'owner', what: o.name === '--uid-owner' ? 'uid' : 'gid', ...(v.from === undefined ? {} : {from: v.from, to: v.to ?? v.from}), ...(v.name === undefined ? {} : {name: v.name})});
			return;
		}
		case '--socket-exists': {
			out.push({...base, kind: 'owner', what: 'socket'});
			return;
		}
		case '--mac-source': {
			if (v.kind === 'mac') out.push({...base, kind: 'mac', mac: v.mac});
			return;
		}
	}
	unknowable(o, 'not-modelled', `${o.name} is not modelled`);
}

function markOf(o: RuleOption | undefined): {value: number; mask: number} | undefined {
	return o?.value.kind === 'mark' ? {value: u32(o.value.mark.value), mask: u32(o.value.mark.mask ?? FULL)} : undefined;
}

/** The action of a rule's target (iptables-extensions(8)). */
/** An nft verdict as the walk follows it: `accept`, `drop`, `return`, `continue`, `jump X`, `goto X`. */
function nftVerdict(text: string): VmapEntry['action'] | undefined {
	const [v, chain] = text.trim().split(/\s+/);
	if (v === 'accept' || v === 'drop' || v === 'queue') return {kind: 'verdict', verdict: v === 'accept' ? 'ACCEPT' : v === 'drop' ? 'DROP' : 'QUEUE'};
	if (v === 'return') return {kind: 'return'};
	if (v === 'continue') return {kind: 'continue', name: '', modelled: true};
	if ((v === 'jump' || v === 'goto') && chain) return {kind: 'jump', chain, goto: v === 'goto'};
	return undefined;
}

/**
 * `KEY vmap { k : verdict, … }` or `KEY vmap @map`, for keys the walk can decide: an address or
 * port selector (`ip daddr`, `tcp dport`), or `numgen random mod N` (a random pick: each entry's
 * share of N, as statistic conditions). Undefined for any other key or element.
 */
function vmapOf(t: NonNullable<Rule['parsed']['target']>, sets: ReadonlyMap<string, NftSet> | undefined): Action | undefined {
	const at = t.words.indexOf('vmap');
	if (at < 1) return undefined;
	const key = t.words.slice(0, at).join(' ');
	const rest = t.words.slice(at + 1).join(' ').trim();
	const named = /^@(\S+)$/.exec(rest);
	const elements = named ? sets?.get(named[1]!)?.elements.map(e => e.text) : /^\{(.*)\}$/.exec(rest)?.[1]?.split(',');
	if (!elements) return undefined;
	// A named map the listing shows empty: no key is in it (kube-proxy's firewall-ips without LoadBalancerSourceRanges).
	if (elements.length === 0) return named ? {kind: 'vmap', entries: []} : undefined;
	const random = /^numgen random mod (\d+)(?: offset (\d+))?$/.exec(key);
	const modulus = random ? Number(random[1]) : 0;
	const offset = random?.[2] ? Number(random[2]) : 0;
	let left = modulus;
	const entries: VmapEntry[] = [];
	const fields = key.split(' . ');
	for (const e of elements) {
		const colon = e.lastIndexOf(':');
		if (colon === -1) return undefined;
		// An element may carry a comment before its verdict: `… . 80 comment "default/web:http" : goto x`.
		const k = e.slice(0, colon).replace(/\s+comment\s+"[^"]*"\s*$/, '').trim();
		const action = nftVerdict(e.slice(colon + 1));
		if (!action) return undefined;
		const text = `${key} ${k}`;
		if (random) {
			const m = /^(\d+)(?:-(\d+))?$/.exec(k);
			if (!m || left <= 0) return undefined;
			const width = (m[2] === undefined ? 0 : Number(m[2]) - Number(m[1])) + 1;
			if (Number(m[1]) < offset) return undefined;
			entries.push({conditions: [{kind: 'statistic', probability: Math.min(1, width / left), mode: 'numgen', negated: false, text}], action});
			left -= width;
			continue;
		}
		// A concatenated key (`ip daddr . meta l4proto . th dport`): every field must match.
		const values = k.split(' . ');
		if (values.length !== fields.length) return undefined;
		const conditions: Condition[] = [];
		for (let f = 0; f < fields.length; f++) {
			const c = keyConditions(fields[f]!.trim(), values[f]!.trim(), text);
			if (!c) return undefined;
			conditions.push(...c);
		}
		entries.push({conditions, action});
	}
	return {kind: 'vmap', entries};
}

export function actionOf(rule: Rule, sets?: ReadonlyMap<string, NftSet>): Action {
	const t = rule.parsed.target;
	if (!t) return {kind: 'continue', name: '', modelled: true};
	if (t.kind === 'map' && t.name === 'vmap') {
		const v = vmapOf(t, sets);
		if (v) return v;
	}
	const opt = (name: string) => t.options.find(o => o.name === name);
	switch (t.kind) {
		case 'verdict':
			return t.name === 'RETURN' ? {kind: 'return'} : {kind: 'verdict', verdict: t.name as 'ACCEPT' | 'DROP' | 'QUEUE'};
		case 'chain':
			return {kind: 'jump', chain: t.name, goto: t.goto};
	}
	switch (t.name) {
		case 'TRACE':
			return {kind: 'trace'};
		case 'REJECT':
			return {kind: 'verdict', verdict: 'REJECT'};
		case 'NFQUEUE':
			return {kind: 'verdict', verdict: 'QUEUE'};
		case 'DNAT':
		case 'SNAT': {
			const r = opt(t.name === 'DNAT' ? '--to-destination' : '--to-source');
			return {kind: 'nat', type: t.name, ...(r?.value.kind === 'nat' ? {range: r.value.nat} : {})};
		}
		case 'MASQUERADE':
		case 'REDIRECT': {
			const r = opt('--to-ports');
			return {kind: 'nat', type: t.name, ...(r?.value.kind === 'nat' ? {range: r.value.nat} : {})};
		}
		case 'NETMAP': {
			const r = opt('--to');
			const netmap = r?.value.kind === 'addrs' ? r.value.addrs[0]?.cidr : undefined;
			return {kind: 'nat', type: 'NETMAP', ...(netmap ? {netmap} : {})};
		}
		case 'MARK': {
			const x = markOf(opt('--set-xmark'));
			if (x) return {kind: 'mark', ...x};
			const s = markOf(opt('--set-mark'));
			if (s) return {kind: 'mark', value: s.value, mask: u32(s.mask | s.value)};
			const and = markOf(opt('--and-mark'));
			if (and) return {kind: 'mark', value: 0, mask: u32(~and.value)};
			const or = markOf(opt('--or-mark'));
			if (or) return {kind: 'mark', value: or.value, mask: or.value};
			const xor = markOf(opt('--xor-mark'));
			if (xor) return {kind: 'mark', value: xor.value, mask: 0};
			return {kind: 'continue', name: t.name, modelled: false};
		}
		case 'CONNMARK': {
			const nfmask = markOf(opt('--nfmask'))?.value ?? FULL;
			const ctmask = markOf(opt('--ctmask'))?.value ?? FULL;
			if (opt('--save-mark')) return {kind: 'connmark', op: 'save', nfmask, ctmask};
			if (opt('--restore-mark')) return {kind: 'connmark', op: 'restore', nfmask, ctmask};
			const x = markOf(opt('--set-xmark'));
			if (x) return {kind: 'connmark', op: 'set', ...x};
			const s = markOf(opt('--set-mark'));
			if (s) return {kind: 'connmark', op: 'set', value: s.value, mask: u32(s.mask | s.value)};
			return {kind: 'continue', name: t.name, modelled: false};
		}
		case 'NOTRACK':
			return {kind: 'notrack'};
		case 'CT':
			return opt('--notrack') ? {kind: 'notrack'} : {kind: 'continue', name: t.name, modelled: true};
		case 'TPROXY': {
			const m = markOf(opt('--tproxy-mark'));
			return {kind: 'tproxy', value: m?.value ?? 0, mask: m ? m.mask : 0};
		}
		case 'LOG':
		case 'NFLOG':
		case 'ULOG':
		case 'AUDIT':
		case 'TCPMSS':
		case 'CHECKSUM':
		case 'TOS':
		case 'DSCP':
		case 'TTL':
		case 'HL':
		case 'ECN':
		case 'CLASSIFY':
		case 'SECMARK':
		case 'CONNSECMARK':
		case 'IDLETIMER':
		case 'LED':
		case 'RATEEST':
		case 'TEE':
		case 'TCPOPTSTRIP':
			return {kind: 'continue', name: t.name, modelled: true};
	}
	if (t.terminates) return {kind: 'other', name: t.name};
	return {kind: 'continue', name: t.name, modelled: false};
}

/** The protocol an nft selector implies (`tcp dport`, `icmp type`), in the kernel log's spelling. */
const IMPLIED_PROTO: Readonly<Record<string, string>> = {tcp: 'TCP', udp: 'UDP', udplite: 'UDPLITE', sctp: 'SCTP', dccp: 'DCCP', icmp: 'ICMP', icmp6: 'ICMPv6'};

/** A dump rule as the walk reads it. */
export function compileRule(rule: Rule, sets?: ReadonlyMap<string, NftSet>): WalkRule {
	const conditions: Condition[] = [];
	for (const m of rule.parsed.matches) compileMatch(m, conditions, sets);
	for (const p of rule.parsed.pieces) {
		if (p.piece === 'stray') conditions.push({kind: 'unknowable', why: 'not-modelled', module: '', reason: `the word ${p.words[0]} is no option iptables would take`, assume: true, negated: false, text: p.words[0]});
	}
	// nft's `tcp dport 80` names the protocol it reads (iptables needs `-p tcp` for `-m tcp`).
	if (rule.syntax === 'nft' && !conditions.some(c => c.kind === 'proto' || c.kind === 'protoIn')) {
		const implied = rule.parsed.matches.map(m => IMPLIED_PROTO[m.module]).find(Boolean);
		if (implied) conditions.unshift({kind: 'proto', proto: implied, negated: false, text: `(${implied} implied)`});
	}
	const action = actionOf(rule, sets);
	const standard = action.kind === 'verdict' ? action.verdict !== 'REJECT' && action.verdict !== 'QUEUE' : action.kind === 'return';
	return {
		pos: rule.pos,
		text: rule.text,
		line: rule.line,
		conditions,
		action,
		standardTail: standard && isUnconditional(rule),
		target: rule.parsed.target?.name ?? '',
	};
}

const compiled = new WeakMap<Chain, WalkChain>();

function walkChainOf(c: Chain, sets?: ReadonlyMap<string, NftSet>): WalkChain {
	let w = compiled.get(c);
	if (!w) {
		w = {table: c.table, name: c.name, base: c.builtin, ...(c.nft || c.rules.some(r => r.syntax === 'nft') ? {nft: true as const} : {}), ...(c.policy ? {policy: c.policy} : {}), ...(c.declaredAt ? {line: c.declaredAt} : {}), rules: c.rules.map(r => compileRule(r, sets))};
		compiled.set(c, w);
	}
	return w;
}

/** The chain type of a table at a hook. */
function chainType(table: string, hook: Hook): ChainType {
	if (table === 'nat') return 'nat';
	return table === 'mangle' && hook === 'OUTPUT' ? 'route' : 'filter';
}

/** An nft base chain's type as the walk treats it. */
function nftChainType(type: string): ChainType {
	return type === 'nat' ? 'nat' : type === 'route' ? 'route' : 'filter';
}

/**
 * The dumps given with --rules (their RuleIndex), one family, as the walk reads them. A table's
 * built-in chain runs at its hook only when the dump has it: legacy tables exist once loaded,
 * iptables-nft creates the base chains it needs (and iptables-nft-save lists only those).
 * A native nftables listing (`nft list ruleset`, read into the same rules) brings base chains of
 * any name at any priority: each runs at the hook and priority it declares, its type (nat,
 * route, filter) as the kernel treats it, its rules read as iptables rules are. Chains of one
 * priority run in the order the listings give them.
 */
export function iptablesSource(index: RuleIndex, family: 'ipv4' | 'ipv6'): RuleSource {
	const hooks = new Map<Hook, HookChain[]>();
	// nft listings: each chain's table's named sets, for lookups the walk can decide.
	const setsOf = new Map<Chain, ReadonlyMap<string, NftSet>>();
	for (const rs of index.rulesets) for (const t of rs.tables.values()) if (t.sets && t.sets.size > 0) for (const c of t.chains.values()) setsOf.set(c, t.sets);
	const walkChain = (c: Chain) => walkChainOf(c, setsOf.get(c));
	return {
		family,
		hookChains(hook) {
			let list = hooks.get(hook);
			if (!list) {
				list = [];
				const seen = new Set<Chain>();
				for (const table of tablesAt(hook)) {
					const c = index.chain(family, table, hook);
					if (!c) continue;
					seen.add(c);
					list.push({table, chain: walkChain(c), priority: tablePriority(hook, table), type: c.nft ? nftChainType(c.nft.type) : chainType(table, hook)});
				}
				const name = hook.toLowerCase();
				for (const rs of index.rulesets) {
					for (const t of rs.tables.values()) {
						if (!t.family || !nftFamilyCovers(t.family, family)) continue;
						for (const c of t.chains.values()) {
							if (!c.nft || c.nft.hook !== name || seen.has(c) || index.chain(family, t.name, c.name) !== c) continue;
							seen.add(c);
							list.push({table: t.name, chain: walkChain(c), priority: c.nft.priority ?? 0, type: nftChainType(c.nft.type)});
						}
					}
				}
				// Stable: chains of one priority keep the order above.
				list.sort((a, b) => a.priority - b.priority);
				hooks.set(hook, list);
			}
			return list;
		},
		chain(table, name) {
			const c = index.chain(family, table, name);
			return c ? walkChain(c) : undefined;
		},
	};
}
