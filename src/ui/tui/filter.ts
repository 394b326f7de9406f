/**
 * The packet filter typed after `/`: space-separated terms that must all match; `!` before a term
 * negates it. Pure: text in, a predicate out.
 *
 * Input:  `tcp 198.18.0.0/16 !port:22 out:eth1 verdict:drop`
 * Output: {text, terms: [proto TCP, addr 198.18.0.0/16, not port 22, out eth1, verdict DROP], errors: []}
 *
 * Addresses, ports and interfaces match the packet as first seen and at every hop, so an address
 * matches before and after NAT. A bare word is read by its shape: a number is a port, an address
 * (or CIDR, or a prefix ending in `.`/`:`/`*`) an address, tcp/udp/icmp… a protocol,
 * accept/drop/reject/unknown a verdict, `table:chain` a chain; anything else matches an
 * interface (`cali+` or `cali*` as a prefix), a chain name containing it, the node the packet
 * was traced on, or a pod, service or node the packet carries the name of (--names).
 *
 * Input:  `node:node-b pod:default/pod-a !svc:kube-system/kube-dns`
 * Output: packets traced on node-b that touch pod default/pod-a and not the service kube-dns
 */
import type {Packet} from '../../model/types.js';

export interface FilterTerm {
	/** What the term tests, for the help line: `proto`, `addr`, `port`, … */
	readonly key: string;
	readonly value: string;
	readonly negate: boolean;
	readonly test: (p: Packet) => boolean;
}

export interface PacketFilter {
	/** The text as typed. */
	readonly text: string;
	readonly terms: readonly FilterTerm[];
	/** Terms that could not be read; they are left out. */
	readonly errors: readonly string[];
}

export const EMPTY_FILTER: PacketFilter = Object.freeze({text: '', terms: [], errors: []});

const PROTOS = ['tcp', 'udp', 'udplite', 'icmp', 'icmpv6', 'sctp', 'esp', 'ah', 'gre', 'igmp'];
const VERDICTS = ['accept', 'drop', 'reject', 'queue', 'stolen', 'unknown'];
const TABLES = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Keys a term may name, and what each does (shown in help). */
export const FILTER_KEYS: ReadonlyArray<readonly [string, string]> = [
	['addr: src: dst:', 'address, CIDR or prefix: 10.0.0.0/8 fd00::/64 10.1.'],
	['port: sport: dport:', 'port, either side or one side'],
	['proto:', 'tcp udp icmp icmpv6 …'],
	['if: in: out:', 'interface; cali+ or cali* for a prefix'],
	['chain:', 'a hop in a chain: KUBE-SVC, nat:PREROUTING'],
	['verdict:', 'accept drop reject unknown'],
	['id:', 'packet ids: id:3,7'],
	['node:', 'the node it was traced on: node:node-b (several nodes, a central log)'],
	['pod: svc:', 'a pod or service it touches (--names): pod:default/web-0 svc:kubernetes'],
	['name:', 'any name it carries (--names) containing the text: name:coredns'],
	['nat reply noreply', 'was rewritten; a reply was seen or not'],
];

export function parseFilter(text: string): PacketFilter {
	const terms: FilterTerm[] = [];
	const errors: string[] = [];
	for (const raw of text.trim().split(/\s+/)) {
		if (!raw) continue;
		const negate = raw.startsWith('!') && raw.length > 1;
		const word = negate ? raw.slice(1) : raw;
		const term = parseTerm(word);
		if (typeof term === 'string') errors.push(term);
		else terms.push({...term, negate});
	}
	return {text, terms, errors};
}

export function matchesFilter(f: PacketFilter, p: Packet): boolean {
	for (const t of f.terms) if (t.test(p) === t.negate) return false;
	return true;
}

/** Packets that pass the filter, in order (the same array when the filter is empty). */
export function applyFilter(f: PacketFilter, packets: readonly Packet[]): readonly Packet[] {
	if (f.terms.length === 0) return packets;
	return packets.filter(p => matchesFilter(f, p));
}

type Parsed = Omit<FilterTerm, 'negate'> | string;

function parseTerm(word: string): Parsed {
	const colon = word.indexOf(':');
	const key = colon > 0 ? word.slice(0, colon).toLowerCase() : '';
	const value = colon > 0 ? word.slice(colon + 1) : word;
	// `nat:PREROUTING`, `filter:KUBE-FORWARD`: a table:chain, not a key.
	if (TABLES.includes(key) && value !== '' && !['yes', 'no'].includes(value.toLowerCase())) return chainTerm(word);
	if (colon > 0 && isAddressLike(word)) return addressTerm('addr', word);
	switch (key) {
		case '':
			return bareTerm(word);
		case 'addr':
		case 'ip':
		case 'host':
			return addressTerm('addr', value);
		case 'src':
		case 'dst':
			return addressTerm(key, value);
		case 'port':
		case 'sport':
		case 'dport':
		case 'spt':
		case 'dpt':
			return portTerm(key === 'spt' ? 'sport' : key === 'dpt' ? 'dport' : key, value);
		case 'proto':
		case 'p':
			return protoTerm(value);
		case 'if':
		case 'iface':
		case 'dev':
		case 'in':
		case 'out':
			return ifaceTerm(key === 'in' || key === 'out' ? key : 'if', value);
		case 'chain':
			return chainTerm(value);
		case 'verdict':
		case 'v':
			return VERDICTS.includes(value.toLowerCase()) ? verdictTerm(value) : `verdict:${value}: not one of ${VERDICTS.join(' ')}`;
		case 'id':
			return idTerm(value);
		case 'nat':
			return yesNo('nat', value, p => p.nat.length > 0);
		case 'reply':
			return yesNo('reply', value, p => p.replySeen);
		case 'node':
			return nodeTerm(value);
		case 'pod':
		case 'svc':
		case 'service':
			return entityTerm(key === 'pod' ? 'pod' : 'svc', value);
		case 'name':
			return value ? {key: 'name', value, test: nameContains(value)} : 'name: needs the text of a name';
		default:
			return `${key}: unknown key (addr src dst port sport dport proto if in out chain verdict id nat reply node pod svc name)`;
	}
}

function bareTerm(word: string): Parsed {
	const lower = word.toLowerCase();
	if (/^\d+$/.test(word)) return portTerm('port', word);
	if (PROTOS.includes(lower)) return protoTerm(word);
	if (VERDICTS.includes(lower)) return verdictTerm(word);
	if (lower === 'nat') return yesNo('nat', 'yes', p => p.nat.length > 0);
	if (lower === 'reply') return yesNo('reply', 'yes', p => p.replySeen);
	if (lower === 'noreply') return yesNo('reply', 'no', p => p.replySeen);
	if (isAddressLike(word)) return addressTerm('addr', word);
	const iface = ifaceTest(word);
	const chain = chainTest(word);
	const named = namedTest(word);
	return {key: 'word', value: word, test: p => iface(p) || chain(p) || p.node === word || named(p)};
}

/** A name or a prefix of it (`node-*`, `web-+`). */
function nameMatcher(value: string): (name: string) => boolean {
	const prefix = value.endsWith('*') || value.endsWith('+');
	const v = prefix ? value.slice(0, -1) : value;
	return prefix ? n => n.startsWith(v) : n => n === v;
}

function nodeTerm(value: string): Parsed {
	if (!value) return 'node: needs a node name';
	const is = nameMatcher(value);
	return {key: 'node', value, test: p => p.node !== undefined && is(p.node)};
}

/** The pods, services and nodes a packet's names speak of: `pod default/web-0 (node-a)` → pod default/web-0 and node node-a. */
export function namedEntities(p: Packet): Array<{kind: 'pod' | 'svc' | 'node'; name: string}> {
	const out: Array<{kind: 'pod' | 'svc' | 'node'; name: string}> = [];
	for (const text of Object.values(p.names ?? {})) {
		for (const m of text.matchAll(/\b(pod|svc|node) ([^\s,():]+)/g)) out.push({kind: m[1] as 'pod' | 'svc' | 'node', name: m[2]!});
		// A pod's node, in brackets after it: `pod default/web-0 (node-a)`.
		for (const m of text.matchAll(/\bpod [^\s,()]+ \(([^\s,()]+)\)/g)) out.push({kind: 'node', name: m[1]!});
	}
	return out;
}

/** `pod:default/web-0`, `pod:web-0` (any namespace), `svc:kube-system/kube-dns`, `svc:kube-dns`; `*` at the end for a prefix. */
function entityTerm(kind: 'pod' | 'svc', value: string): Parsed {
	if (!value) return `${kind}: needs a name: ${kind}:NAMESPACE/NAME or ${kind}:NAME`;
	const is = nameMatcher(value);
	const qualified = value.includes('/');
	return {key: kind, value, test: p => namedEntities(p).some(e => e.kind === kind && is(qualified ? e.name : e.name.slice(e.name.indexOf('/') + 1)))};
}

function nameContains(value: string): (p: Packet) => boolean {
	const v = value.toLowerCase();
	return p => Object.values(p.names ?? {}).some(n => n.toLowerCase().includes(v));
}

/** A bare word naming a pod, service or node the packet carries: `web-0`, `default/web-0`, `node-a`. */
function namedTest(word: string): (p: Packet) => boolean {
	return p => {
		if (!p.names) return false;
		return namedEntities(p).some(e => e.name === word || (e.kind !== 'node' && e.name.slice(e.name.indexOf('/') + 1) === word));
	};
}

function isAddressLike(word: string): boolean {
	return /^\d{1,3}(\.\d{1,3}){0,3}\.?(\*|\/\d{1,2})?$/.test(word) && word.includes('.')
		|| /^[0-9a-f]*:[0-9a-f:]*:[0-9a-f:]*(\*|\/\d{1,3})?$/i.test(word);
}

function yesNo(key: string, value: string, test: (p: Packet) => boolean): Parsed {
	const v = value.toLowerCase();
	if (v === '' || v === 'yes' || v === 'y' || v === 'true') return {key, value: 'yes', test};
	if (v === 'no' || v === 'n' || v === 'false') return {key, value: 'no', test: p => !test(p)};
	return `${key}:${value}: use ${key}:yes or ${key}:no`;
}

function protoTerm(value: string): Parsed {
	const v = value.toLowerCase();
	if (!v) return 'proto: needs a protocol';
	return {key: 'proto', value: v, test: p => p.proto.toLowerCase() === v};
}

function verdictTerm(value: string): Parsed {
	const v = value.toLowerCase();
	return {key: 'verdict', value: v, test: p => p.verdict.toLowerCase() === v};
}

function idTerm(value: string): Parsed {
	const ids = value.split(',').filter(Boolean).map(Number);
	if (ids.length === 0 || ids.some(n => !Number.isInteger(n))) return `id:${value}: give packet numbers, e.g. id:3,7`;
	const set = new Set(ids);
	return {key: 'id', value, test: p => set.has(p.id)};
}

function portTerm(key: 'port' | 'sport' | 'dport', value: string): Parsed {
	const n = Number(value);
	if (!/^\d+$/.test(value) || n > 65535) return `${key}:${value}: not a port number`;
	const sides = key === 'port' ? (['spt', 'dpt'] as const) : key === 'sport' ? (['spt'] as const) : (['dpt'] as const);
	return {
		key,
		value,
		test: p => sides.some(s => p[s] === n) || p.hops.some(h => sides.some(s => h[s] === n)),
	};
}

function ifaceTest(value: string, sides: ReadonlyArray<'in' | 'out'> = ['in', 'out']): (p: Packet) => boolean {
	const prefix = value.endsWith('+') || value.endsWith('*');
	const name = prefix ? value.slice(0, -1) : value;
	const is = (i: string | undefined) => Boolean(i) && (prefix ? i!.startsWith(name) : i === name);
	return p => sides.some(s => is(p[s])) || p.hops.some(h => sides.some(s => is(h[s])));
}

function ifaceTerm(key: 'if' | 'in' | 'out', value: string): Parsed {
	if (!value) return `${key}: needs an interface name`;
	return {key, value, test: ifaceTest(value, key === 'if' ? ['in', 'out'] : [key])};
}

function chainTest(value: string): (p: Packet) => boolean {
	const v = value.toLowerCase();
	const qualified = v.includes(':');
	return p =>
		p.hops.some(h => {
			if (h.kind === 'log' && !h.table) return false;
			return qualified ? `${h.table}:${h.chain}`.toLowerCase() === v : h.chain.toLowerCase().includes(v);
		});
}

function chainTerm(value: string): Parsed {
	if (!value) return 'chain: needs a chain name';
	return {key: 'chain', value, test: chainTest(value)};
}

function addressTerm(key: 'addr' | 'src' | 'dst', value: string): Parsed {
	const match = addressMatcher(value);
	if (!match) return `${key}:${value}: not an address, CIDR or prefix`;
	const sides = key === 'addr' ? (['src', 'dst'] as const) : ([key] as const);
	return {key, value, test: p => sides.some(s => match(p[s])) || p.hops.some(h => sides.some(s => match(h[s])))};
}

/** A test for one address: exact, CIDR (IPv4 and IPv6), or a prefix (`10.1.`, `fd00:`, `10.*`). */
export function addressMatcher(value: string): ((addr: string | undefined) => boolean) | undefined {
	const v = value.toLowerCase();
	if (!v) return undefined;
	if (v.endsWith('*')) {
		const prefix = v.slice(0, -1);
		return a => a !== undefined && a.toLowerCase().startsWith(prefix);
	}
	const slash = v.indexOf('/');
	if (slash > 0) {
		const bits = Number(v.slice(slash + 1));
		const net = addressBits(v.slice(0, slash));
		if (!net || !Number.isInteger(bits) || bits > net.length) return undefined;
		return a => {
			const b = a === undefined ? undefined : addressBits(a);
			if (!b || b.length !== net.length) return false;
			for (let i = 0; i < bits; i++) if (b[i] !== net[i]) return false;
			return true;
		};
	}
	if ((v.endsWith('.') || v.endsWith(':')) && !v.endsWith('::')) return a => a !== undefined && a.toLowerCase().startsWith(v);
	const exact = addressBits(v);
	if (exact) return a => a !== undefined && addressBits(a)?.join('') === exact.join('');
	return undefined;
}

/** An address as a list of bits (32 for IPv4, 128 for IPv6), or undefined when it is not one. */
export function addressBits(addr: string): number[] | undefined {
	if (addr.includes('.') && !addr.includes(':')) {
		const parts = addr.split('.');
		if (parts.length !== 4 || parts.some(x => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
		return parts.flatMap(x => bitsOf(Number(x), 8));
	}
	if (!addr.includes(':')) return undefined;
	const halves = addr.toLowerCase().split('::');
	if (halves.length > 2) return undefined;
	const head = halves[0] ? halves[0].split(':') : [];
	const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
	const missing = 8 - head.length - tail.length;
	if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined;
	const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
	if (groups.some(g => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
	return groups.flatMap(g => bitsOf(Number.parseInt(g, 16), 16));
}

function bitsOf(n: number, count: number): number[] {
	const out: number[] = [];
	for (let i = count - 1; i >= 0; i--) out.push((n >> i) & 1);
	return out;
}
