/**
 * An nft rule's statements (read by the NftRuleset grammar) → the structured rule every part of
 * tracewatch reads (src/parser/rule.ts), so that lint, diff, join and explain read native rules
 * as they read iptables rules.
 *
 * Input:  `ip saddr != 198.19.64.0/19 tcp dport 443 ct state new counter packets 3 bytes 180 jump mark-for-masquerade`
 * Output: {matches: [{module:'basic', options:[-s negated {addrs:[198.19.64.0/19]}], nft:'ip saddr'},
 *                    {module:'tcp', options:[--dport {ports:[443]}]}, {module:'conntrack', options:[--ctstate {list:['NEW']}]}],
 *          target: {name:'mark-for-masquerade', kind:'chain', walk:'jump'}, counters:{packets:3, bytes:180}}
 *
 * A selector with an iptables equivalent reads as that match and option (`ip saddr` → `-s`,
 * `tcp dport` → tcp `--dport`, `ct state` → conntrack `--ctstate`, `meta mark` → mark `--mark`,
 * `fib daddr type` → addrtype `--dst-type`), the nft expression kept in `flag` and the match's
 * `nft`; one without reads as a match of module `nft`, its value read by its syntax. A statement
 * tracewatch does not read (`tproxy to :8080`) is kept in `unread`, as written, and the rule is
 * then not understood; nothing is dropped.
 */
import {nftActionInfo} from '../netfilter/nft.js';
import {protoNumber} from '../netfilter/protocols.js';
import {newMatch, targetOf, type AddrPrefix, type Counters, type Match, type OptionValue, type ParsedRule, type RuleOption, type RulePiece, type Target} from './rule.js';
import type {Chain, Rule} from './ruleset.js';
import type {NftAtom, NftSelector, NftStatement, NftValue} from './semantics/to-nft-line.js';

const VERDICTS: Readonly<Record<string, string>> = {accept: 'ACCEPT', drop: 'DROP', return: 'RETURN', queue: 'QUEUE'};

/** What a selector reads as: the iptables match and option, or nft's own. */
interface Reading {
	readonly module: string;
	readonly name: string;
	readonly value: OptionValue;
}

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

function words(text: string): string[] {
	return text.split(/\s+/).filter(Boolean);
}

function atomText(a: NftAtom): string {
	return a.a === 'quoted' ? a.string : a.text;
}

/** The single atoms of a value: `80`, `{ 80, 443 }`, `80,443`; undefined for concatenations, maps and references. */
function atomsOf(v: NftValue): NftAtom[] | undefined {
	switch (v.v) {
		case 'concat':
			return v.atoms.length === 1 ? [v.atoms[0]!] : undefined;
		case 'list':
			return v.items.every(i => i.length === 1) ? v.items.map(i => i[0]!) : undefined;
		case 'anonymous':
			return v.elements.every(e => e.key.length === 1 && !e.verdict && !e.value) ? v.elements.map(e => e.key[0]!) : undefined;
		default:
			return undefined;
	}
}

/** `nft -n` prints conntrack states and status as bit masks: include/uapi/linux/netfilter/nf_conntrack_common.h. */
const CT_STATE_BITS: ReadonlyArray<[number, string]> = [[1, 'INVALID'], [2, 'ESTABLISHED'], [4, 'RELATED'], [8, 'NEW'], [64, 'UNTRACKED']];
const CT_STATUS_BITS: ReadonlyArray<[number, string]> = [[1, 'EXPECTED'], [2, 'SEEN_REPLY'], [4, 'ASSURED'], [8, 'CONFIRMED'], [16, 'SNAT'], [32, 'DNAT'], [512, 'DYING']];

/** A number (or numbers) standing for named bits, read back into their names; undefined when a bit has no name. */
function bits(v: NftValue, names: ReadonlyArray<[number, string]>): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (!atoms || atoms.some(a => a.a !== 'number')) return undefined;
	const items: string[] = [];
	for (const a of atoms) {
		let n = (a as {number: number}).number;
		for (const [bit, name] of names) {
			if (n & bit) {
				items.push(name);
				n &= ~bit;
			}
		}
		if (n !== 0) return undefined;
	}
	return {kind: 'list', items};
}

function unknown(v: NftValue): OptionValue {
	return {kind: 'unknown', values: [v.text]};
}

function addrs(v: NftValue): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (!atoms?.every(a => a.a === 'prefix' && a.prefix)) return undefined;
	return {kind: 'addrs', addrs: atoms.map(a => (a as {prefix: AddrPrefix}).prefix)};
}

function ports(v: NftValue): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (!atoms) return undefined;
	const out: Array<{from: number; to: number}> = [];
	for (const a of atoms) {
		if (a.a === 'number' && a.number <= 65535) out.push({from: a.number, to: a.number});
		else if (a.a === 'range' && a.to <= 65535 && a.from <= a.to) out.push({from: a.from, to: a.to});
		else return undefined;
	}
	return {kind: 'ports', ports: out};
}

function names(v: NftValue, upper = false): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (!atoms || atoms.some(a => a.a !== 'name' && a.a !== 'quoted')) return undefined;
	return {kind: 'list', items: atoms.map(a => (upper ? atomText(a).toUpperCase() : atomText(a)))};
}

/** `"eth0"`, `"cali*"` (nft's wildcard is a trailing `*`, iptables' a `+`: `text` is iptables', as the rest of tracewatch compares it). */
function iface(v: NftValue): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (atoms?.length !== 1) return names(v);
	const text = atomText(atoms[0]!);
	const wildcard = text.endsWith('*') && !text.endsWith('\\*');
	const name = wildcard ? text.slice(0, -1) : text;
	return {kind: 'iface', iface: {text: wildcard ? `${name}+` : name, name, wildcard}};
}

function proto(v: NftValue): OptionValue | undefined {
	const atoms = atomsOf(v);
	if (atoms?.length !== 1) return names(v);
	const a = atoms[0]!;
	const p = a.a === 'number' ? String(a.number) : atomText(a);
	const n = a.a === 'number' ? a.number : protoNumber(p);
	return {kind: 'proto', proto: p, ...(n === undefined ? {} : {number: n})};
}

function markValue(value: NftValue, mask?: NftValue): OptionValue | undefined {
	const v = atomsOf(value);
	const m = mask ? atomsOf(mask) : undefined;
	if (v?.length !== 1 || v[0]!.a !== 'number') return undefined;
	if (mask && (m?.length !== 1 || m[0]!.a !== 'number')) return undefined;
	return {kind: 'mark', mark: m ? {value: v[0]!.number, mask: (m[0] as {number: number}).number} : {value: v[0]!.number}};
}

/** A value read by its syntax alone (for nft's own selectors). */
function generic(v: NftValue): OptionValue {
	if (v.v === 'setRef') return {kind: 'set', set: v.set, dirs: []};
	// Concatenations and maps: each element as written (`1.1.1.1 . 0x14`, `80 : "http-traffic"`).
	if (v.v === 'anonymous') return {kind: 'list', items: v.elements.map(e => e.text)};
	if (v.v === 'concat' && v.atoms.length > 1) return {kind: 'word', word: v.text};
	const atoms = atomsOf(v);
	if (!atoms) return unknown(v);
	if (atoms.length === 1) {
		const a = atoms[0]!;
		if (a.a === 'number') return {kind: 'number', number: a.number};
		if (a.a === 'range') return {kind: 'range', from: a.from, to: a.to};
		if (a.a === 'prefix' && a.prefix) return {kind: 'addrs', addrs: [a.prefix]};
		return {kind: 'word', word: atomText(a)};
	}
	if (atoms.every(a => a.a === 'number' || a.a === 'range')) return ports(v) ?? {kind: 'list', items: atoms.map(atomText)};
	if (atoms.every(a => a.a === 'prefix' && a.prefix)) return addrs(v)!;
	return {kind: 'list', items: atoms.map(atomText)};
}

function setRef(v: NftValue, dir?: 'src' | 'dst'): OptionValue | undefined {
	return v.v === 'setRef' ? {kind: 'set', set: v.set, dirs: dir ? [dir] : []} : undefined;
}

/** `tcp flags syn / fin,syn,rst,ack`, `tcp flags == syn`, `tcp flags & (syn | ack) == syn`, `tcp flags syn`. */
function tcpFlags(st: Extract<NftStatement, {s: 'match'}>): OptionValue | undefined {
	const up = (xs: readonly string[]) => xs.map(x => x.trim().toUpperCase()).filter(Boolean);
	const v = st.value;
	if (v.v === 'flagMask') return {kind: 'tcpFlags', mask: up(v.mask), comp: up(v.flags)};
	// `tcp flags == 0xff`: the flags as a number, bit by bit (FIN is bit 0 … CWR bit 7).
	const atoms = atomsOf(v);
	const numeric = atoms?.length === 1 && atoms[0]!.a === 'number' ? TCP_FLAGS.filter((_f, i) => ((atoms[0] as {number: number}).number >> i) & 1) : undefined;
	const flags = numeric ? ({kind: 'list', items: numeric} as const) : names(v);
	if (!flags || flags.kind !== 'list') return undefined;
	if (st.bitOp?.op === '&' && st.bitOp.value.v === 'paren') return {kind: 'tcpFlags', mask: up(st.bitOp.value.text.slice(1, -1).split('|')), comp: up(flags.items)};
	// `tcp flags & syn != syn`, `tcp flags & fin,syn == fin`: the mask written as a list.
	const mask = st.bitOp?.op === '&' ? names(st.bitOp.value) : undefined;
	if (mask?.kind === 'list') return {kind: 'tcpFlags', mask: up(mask.items), comp: up(flags.items)};
	if (st.bitOp) return undefined;
	if (st.op === '==' || (numeric && st.op === undefined)) return {kind: 'tcpFlags', mask: TCP_FLAGS, comp: up(flags.items)};
	if ((st.op === undefined || st.op === '!') && flags.items.length === 1) return {kind: 'tcpFlags', mask: up(flags.items), comp: up(flags.items)};
	// `tcp flags ! syn,ack`: none of them set.
	if (st.op === '!') return {kind: 'tcpFlags', mask: up(flags.items), comp: []};
	return undefined;
}

/** How one match statement reads; `reading.value.kind === 'unknown'` when its value is not read. */
function readMatch(st: Extract<NftStatement, {s: 'match'}>): Reading {
	const sel = st.expr;
	const key = sel.length === 1 ? `${sel[0]!.base} ${sel[0]!.field}` : sel.map(s => s.text).join(' . ');
	const v = st.value;
	const one = sel.length === 1 ? sel[0]! : undefined;
	// A value that does not read as the option's kind: a set or list of mixed elements (addresses and ranges, marks) is kept element by element; anything else is not understood.
	const or = (value: OptionValue | undefined): OptionValue => value ?? (v.v === 'anonymous' || v.v === 'list' ? generic(v) : unknown(v));
	// A named set of ports, protocols, interfaces…: iptables has ipset only for addresses; nft's own.
	if (!st.bitOp && v.v === 'setRef' && !(one && (one.base === 'ip' || one.base === 'ip6') && (one.field === 'saddr' || one.field === 'daddr'))) return {module: 'nft', name: key, value: generic(v)};
	if (one && !st.bitOp) {
		const p = one.base;
		const f = one.field;
		if ((p === 'ip' || p === 'ip6') && (f === 'saddr' || f === 'daddr')) {
			const dir = f === 'saddr' ? 'src' : 'dst';
			const ref = setRef(v, dir);
			if (ref) return {module: 'set', name: '--match-set', value: ref};
			const atoms = atomsOf(v);
			if (atoms?.length === 1 && atoms[0]!.a === 'addrRange' && atoms[0]!.from && atoms[0]!.to) {
				const a = atoms[0]!;
				return {module: 'iprange', name: dir === 'src' ? '--src-range' : '--dst-range', value: {kind: 'addrRange', from: a.from!.addr, to: a.to!.addr, v6: a.from!.v6}};
			}
			return {module: 'basic', name: dir === 'src' ? '-s' : '-d', value: or(addrs(v))};
		}
		if (p === 'meta' && (f === 'iifname' || f === 'iif')) return {module: 'basic', name: '-i', value: or(iface(v))};
		if (p === 'meta' && (f === 'oifname' || f === 'oif')) return {module: 'basic', name: '-o', value: or(iface(v))};
		if ((p === 'meta' && f === 'l4proto') || (p === 'ip' && f === 'protocol') || (p === 'ip6' && f === 'nexthdr')) return {module: 'basic', name: '-p', value: or(proto(v))};
		if (['tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th'].includes(p) && (f === 'dport' || f === 'sport')) return {module: p === 'th' ? 'nft' : p, name: p === 'th' ? key : `--${f}`, value: or(ports(v))};
		if (p === 'tcp' && f === 'flags') return {module: 'tcp', name: '--tcp-flags', value: or(tcpFlags(st))};
		if ((p === 'icmp' || p === 'icmpv6') && f === 'type') {
			const atoms = atomsOf(v);
			if (atoms?.length === 1) {
				const a = atoms[0]!;
				const value: OptionValue = a.a === 'number' ? {kind: 'icmpType', proto: p === 'icmp' ? 'ICMP' : 'ICMPv6', type: a.number} : {kind: 'icmpType', proto: p === 'icmp' ? 'ICMP' : 'ICMPv6', name: atomText(a)};
				return {module: p === 'icmp' ? 'icmp' : 'icmp6', name: p === 'icmp' ? '--icmp-type' : '--icmpv6-type', value};
			}
			return {module: 'nft', name: key, value: generic(v)};
		}
		if (p === 'ct' && f === 'state') return {module: 'conntrack', name: '--ctstate', value: names(v, true) ?? bits(v, CT_STATE_BITS) ?? or(undefined)};
		if (p === 'ct' && f === 'status') return {module: 'conntrack', name: '--ctstatus', value: names(v, true) ?? bits(v, CT_STATUS_BITS) ?? or(undefined)};
		if (p === 'ct' && f === 'direction') {
			const n = names(v, true);
			return {module: 'conntrack', name: '--ctdir', value: n?.kind === 'list' && n.items.length === 1 ? {kind: 'word', word: n.items[0]!} : or(undefined)};
		}
		if (p === 'ct' && f === 'mark') return {module: 'connmark', name: '--mark', value: or(markValue(v))};
		if (p === 'meta' && f === 'mark') return {module: 'mark', name: '--mark', value: or(markValue(v))};
		if (p === 'ct' && /^original (ip6? )?(saddr|daddr)$/.test(f)) return {module: 'conntrack', name: f.endsWith('saddr') ? '--ctorigsrc' : '--ctorigdst', value: or(addrs(v))};
		if (p === 'fib' && /^(saddr|daddr) type$/.test(f)) return {module: 'addrtype', name: f.startsWith('saddr') ? '--src-type' : '--dst-type', value: or(names(v, true))};
		if (p === 'meta' && f === 'pkttype') {
			const n = names(v);
			return {module: 'pkttype', name: '--pkt-type', value: n?.kind === 'list' && n.items.length === 1 ? {kind: 'word', word: n.items[0]!} : or(undefined)};
		}
		if (p === 'meta' && f === 'skuid') {
			const atoms = atomsOf(v);
			const a = atoms?.length === 1 ? atoms[0]! : undefined;
			return {module: 'owner', name: '--uid-owner', value: a?.a === 'number' ? {kind: 'owner', from: a.number, to: a.number} : a?.a === 'range' ? {kind: 'owner', from: a.from, to: a.to} : a ? {kind: 'owner', name: atomText(a)} : or(undefined)};
		}
	}
	if (one?.base === 'tcp' && one.field === 'flags') return {module: 'tcp', name: '--tcp-flags', value: or(tcpFlags(st))};
	// `meta mark & 0x4000 == 0x4000`, `ct mark & 0xff != 0`.
	if (one && st.bitOp?.op === '&' && ((one.base === 'meta' && one.field === 'mark') || (one.base === 'ct' && one.field === 'mark'))) {
		return {module: one.base === 'ct' ? 'connmark' : 'mark', name: '--mark', value: or(markValue(v, st.bitOp.value))};
	}
	if (one && !st.bitOp && one.base === 'ether' && (one.field === 'saddr' || one.field === 'daddr')) {
		const atoms = atomsOf(v);
		const mac = atoms?.length === 1 ? atomText(atoms[0]!) : '';
		if (/^[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}$/i.test(mac)) return {module: 'nft', name: key, value: {kind: 'mac', mac: mac.toLowerCase()}};
	}
	// Any other selector the grammar reads (`ip ttl`, `th dport`, `ether type`, concatenations, `numgen`): nft's own, its value read by its syntax.
	if (!st.bitOp) return {module: 'nft', name: key, value: generic(v)};
	const masked = {kind: 'word' as const, word: `${st.bitOp.op} ${st.bitOp.value.text}${st.op ? ` ${st.op}` : ''} ${v.text}`};
	return {module: 'nft', name: key, value: st.bitOp.value.v === 'paren' || atomsOf(st.bitOp.value) ? masked : unknown(v)};
}

/** An option from a statement: `text` is all of it as written, `valueText` the part that is its value (`!=` and masks aside). */
function option(flag: string, name: string, negated: boolean, value: OptionValue, text: string, valueText = value.kind === 'flag' ? '' : text.slice(flag.length).trim()): RuleOption {
	return {piece: 'option', flag, name, negated, value, values: words(valueText), words: words(text)};
}

/** What a statement that acts reads as: its target, with options. */
function actionOf(st: NftStatement): Target | undefined {
	const t = (name: string, opts: RuleOption[] = [], extra: Partial<Target> = {}): Target => ({...targetOf(name, false, words(st.text)), options: opts, nft: st.text, ...extra});
	switch (st.s) {
		case 'verdict': {
			if (st.verdict === 'jump' || st.verdict === 'goto') return {...targetOf(st.chain!, st.verdict === 'goto', words(st.text)), nft: st.text};
			const name = VERDICTS[st.verdict];
			return name ? t(name) : undefined;
		}
		case 'log': {
			if (st.group !== undefined) return t('NFLOG', [option('group', '--nflog-group', false, {kind: 'number', number: st.group}, `group ${st.group}`), ...(st.prefix === undefined ? [] : [option('prefix', '--nflog-prefix', false, {kind: 'text', text: st.prefix}, `prefix "${st.prefix}"`)])]);
			return t('LOG', [
				...(st.prefix === undefined ? [] : [option('prefix', '--log-prefix', false, {kind: 'text', text: st.prefix}, `prefix "${st.prefix}"`)]),
				...(st.level === undefined ? [] : [option('level', '--log-level', false, {kind: 'word', word: st.level}, `level ${st.level}`)]),
			]);
		}
		case 'reject':
			return t('REJECT', st.with ? [option('with', '--reject-with', false, {kind: 'word', word: st.with}, st.text.replace(/^reject\s+/, ''))] : []);
		case 'nat': {
			const flags = st.flags.map(f => option(f, f === 'fully-random' ? '--random-fully' : `--${f}`, false, {kind: 'flag'}, f));
			if (st.nat === 'dnat' || st.nat === 'snat') {
				// `dnat to ip saddr map @ipportmap`: the address comes from a map (named: a set reference; anonymous: its elements).
				const mapped: OptionValue | undefined = st.map ? (st.map.v === 'setRef' ? {kind: 'set', set: st.map.set, dirs: []} : generic(st.map)) : undefined;
				const value: OptionValue = st.to ? {kind: 'nat', nat: st.to} : st.prefix ? {kind: 'addrs', addrs: [st.prefix]} : (mapped ?? {kind: 'unknown', values: [st.toText ?? '']});
				const to = option('to', st.nat === 'dnat' ? '--to-destination' : '--to-source', false, value, `to ${st.toText ?? ''}`);
				return t(st.nat === 'dnat' ? 'DNAT' : 'SNAT', [to, ...flags]);
			}
			const ports = st.toText ? [option('to', '--to-ports', false, portsValue(st.toText.slice(1)), `to ${st.toText}`)] : [];
			return t(st.nat === 'masquerade' ? 'MASQUERADE' : 'REDIRECT', [...ports, ...flags]);
		}
		case 'xt':
			return st.xt === 'target' ? t(st.name, [], {hidden: true}) : undefined;
		case 'dynset':
			return t('SET', [option(st.op, st.op === 'delete' ? '--del-set' : '--add-set', false, {kind: 'set', set: st.set, dirs: []}, st.text, `@${st.set}`)]);
		case 'notrack':
			return t('NOTRACK');
		case 'synproxy':
			return t('SYNPROXY', [
				...(st.mss === undefined ? [] : [option('mss', '--mss', false, {kind: 'number', number: st.mss}, `mss ${st.mss}`)]),
				...(st.wscale === undefined ? [] : [option('wscale', '--wscale', false, {kind: 'number', number: st.wscale}, `wscale ${st.wscale}`)]),
				...st.flags.map(f => option(f, `--${f}`, false, {kind: 'flag'}, f)),
			]);
		case 'tproxy': {
			const opts = [
				...(st.to?.minAddr === undefined ? [] : [option('to', '--on-ip', false, {kind: 'word', word: st.to.minAddr}, st.text)]),
				...(st.to?.minPort === undefined ? [] : [option('to', '--on-port', false, {kind: 'number', number: st.to.minPort}, st.text)]),
			];
			return nftAction('TPROXY', st.text, opts);
		}
		case 'forward':
			return nftAction(st.how === 'dup' ? 'DUP' : 'FWD', st.text, [option('to', 'to', false, generic(st.to), st.text, st.to.text)]);
		case 'set':
			return setAction(st, t);
		case 'vmap': {
			const chains = st.map.v === 'anonymous' ? st.map.elements.flatMap(e => (e.verdict?.chain ? [e.verdict.chain] : [])) : [];
			return {...targetOf('vmap', false, words(st.text)), kind: 'map', walk: 'may-continue', terminates: false, inert: true, nft: st.text, chains, ...(st.map.v === 'setRef' ? {map: st.map.set} : {})};
		}
		default:
			return undefined;
	}
}

/** A statement nft has and iptables does not do the same way: what it does to the walk from src/netfilter/nft.ts. */
function nftAction(name: 'MANGLE' | 'DUP' | 'FWD' | 'TPROXY', text: string, options: RuleOption[]): Target {
	const info = nftActionInfo(name)!;
	return {...targetOf(name, false, words(text)), kind: 'extension', walk: info.walk, terminates: info.walk === 'ends', inert: !info.changes, nft: text, options};
}

function portsValue(text: string): OptionValue {
	const m = /^(\d+)(?:-(\d+))?$/.exec(text);
	if (!m) return {kind: 'unknown', values: [text]};
	const from = Number(m[1]);
	const to = m[2] === undefined ? from : Number(m[2]);
	return from <= to && to <= 65535 ? {kind: 'nat', nat: {minPort: from, maxPort: to}} : {kind: 'unknown', values: [text]};
}

/** `meta nftrace set 1`, `meta mark set 0x10`, `meta mark set meta mark | 0x4000`, `ct mark set meta mark`, `ct helper set "ftp"`. */
function setAction(st: Extract<NftStatement, {s: 'set'}>, t: (name: string, opts?: RuleOption[], extra?: Partial<Target>) => Target): Target {
	const sel = st.expr.length === 1 ? st.expr[0]! : undefined;
	const key = sel ? `${sel.base} ${sel.field}` : '';
	const rhs = st.value.text;
	const num = (v: NftValue) => {
		const a = atomsOf(v);
		return a?.length === 1 && a[0]!.a === 'number' ? a[0]!.number : undefined;
	};
	if (key === 'meta nftrace') return t('TRACE');
	if (key === 'meta mark' || key === 'ct mark') {
		const name = key === 'meta mark' ? 'MARK' : 'CONNMARK';
		const op = st.ops[0];
		if (st.ops.length === 0 && num(st.value) !== undefined) return t(name, [option('set', '--set-mark', false, {kind: 'mark', mark: {value: num(st.value)!}}, `set ${rhs}`)]);
		// `meta mark set … map @marks`: the mark comes from a map.
		if (st.ops.length === 0 && (st.value.v === 'setRef' || st.value.v === 'anonymous')) return t(name, [option('set', '--set-mark', false, generic(st.value), st.text, st.value.text)]);
		if (st.ops.length === 1 && op && rhs === key && num(op.value) !== undefined) {
			const flag = {'|': '--or-mark', or: '--or-mark', '^': '--xor-mark', xor: '--xor-mark', '&': '--and-mark', and: '--and-mark'}[op.op];
			if (flag) return t(name, [option('set', flag, false, {kind: 'mark', mark: {value: num(op.value)!}}, `set ${rhs} ${op.op} ${op.value.text}`)]);
		}
		if (key === 'ct mark' && rhs === 'meta mark' && st.ops.length === 0) return t('CONNMARK', [option('set', '--save-mark', false, {kind: 'flag'}, 'set meta mark')]);
		if (key === 'meta mark' && rhs === 'ct mark' && st.ops.length === 0) return t('CONNMARK', [option('set', '--restore-mark', false, {kind: 'flag'}, 'set ct mark')]);
		// `ct mark set numgen inc mod 2 offset 100`, `meta mark set ct mark >> 8`: a value computed from the packet, kept as written.
		return t(name, [option('set', '--set-mark', false, {kind: 'word', word: [rhs, ...st.ops.map(o => `${o.op} ${o.value.text}`)].join(' ')}, st.text, st.text.replace(/^.*?\bset\s+/, ''))]);
	}
	if (key === 'ct helper') return t('CT', [option('set', '--helper', false, {kind: 'word', word: rhs.replace(/^"|"$/g, '')}, `set ${rhs}`)]);
	if (key === 'ct zone' && num(st.value) !== undefined && st.ops.length === 0) return t('CT', [option('set', '--zone', false, {kind: 'number', number: num(st.value)!}, `set ${rhs}`)]);
	// Any other field set (`ip dscp set cs1`, `ct expectation set "e"`, `meta priority set 1:2`): nft's mangle statement.
	const value: OptionValue = st.ops.length === 0 ? generic(st.value) : {kind: 'word', word: [rhs, ...st.ops.map(o => `${o.op} ${o.value.text}`)].join(' ')};
	return nftAction('MANGLE', st.text, [option(key || st.expr.map(e => e.text).join(' . '), 'set', false, value, st.text, st.text.replace(/^.*?\bset\s+/, ''))]);
}

/** The structured rule of an nft rule's statements; its counters, when it has a `counter` with values. */
export function assembleNftRule(statements: readonly NftStatement[]): {rule: ParsedRule; counters?: Counters} {
	const matches: Match[] = [];
	const pieces: RulePiece[] = [];
	const actions: Target[] = [];
	const sets = new Set<string>();
	const unread: string[] = [];
	let counters: Counters | undefined;
	const byModule = new Map<string, Match>();

	const addOption = (module: string, o: RuleOption, nft: string, load: Match['load'] = module === 'basic' ? 'basic' : 'implicit'): void => {
		let m = module === 'nft' ? undefined : byModule.get(module);
		if (!m) {
			m = {...newMatch(module, load, []), nft};
			if (module === 'nft') delete (m as {unknown?: true}).unknown;
			if (module === 'basic') matches.unshift(m);
			else matches.push(m);
			if (module !== 'nft') byModule.set(module, m);
		}
		(m.options as RuleOption[]).push(o);
		pieces.push(o);
	};

	for (const st of statements) {
		switch (st.s) {
			case 'match': {
				const r = readMatch(st);
				const negated = st.op === '!=' || st.op === 'ne' || st.op === '!';
				const sel = st.expr.map(s => s.text).join(' . ');
				if (r.value.kind === 'set') sets.add(r.value.set);
				addOption(r.module, option(sel, r.name, negated, r.value, st.text, st.value.text), sel);
				break;
			}
			case 'counter':
				if (st.counters) counters = st.counters;
				break;
			case 'comment':
				addOption('comment', option('comment', '--comment', false, {kind: 'text', text: st.comment}, st.text, st.text.slice(7).trim()), 'comment', 'explicit');
				break;
			case 'objref': {
				const value: OptionValue = st.map ? generic(st.map) : {kind: 'word', word: st.name ?? ''};
				addOption('nft', option(`${st.object} name`, `${st.object} name`, false, value, st.text), st.object);
				break;
			}
			case 'quota':
				addOption('quota', option('quota', '--quota', false, {kind: 'word', word: st.text.replace(/^quota\s+/, '')}, st.text), 'quota', 'explicit');
				break;
			case 'limit': {
				const per = st.per === 'week' ? undefined : st.per;
				const scale = st.unit === undefined ? undefined : {bytes: 1, kbytes: 1024, mbytes: 1024 * 1024}[st.unit];
				const value: OptionValue = !per
					? {kind: 'word', word: `${st.count}${st.unit ? ` ${st.unit}` : ''}/${st.per}`}
					: scale !== undefined
						? {kind: 'rate', count: st.count * scale, per: per as 'second' | 'minute' | 'hour' | 'day', unit: 'bytes'}
						: {kind: 'rate', count: st.count, per: per as 'second' | 'minute' | 'hour' | 'day'};
				addOption('limit', option('limit rate', '--limit', st.over, value, st.text), 'limit', 'explicit');
				break;
			}
			case 'xt': {
				if (st.xt === 'match') {
					const m: Match = {...newMatch(st.name, 'explicit', words(st.text)), nft: st.text, hidden: true};
					matches.push(m);
					pieces.push(m);
					break;
				}
				const a = actionOf(st);
				if (a) {
					actions.push(a);
					pieces.push(a);
				}
				break;
			}
			default: {
				if (st.s === 'verdict' && st.verdict === 'continue') break;
				const a = actionOf(st);
				if (a) {
					if (a.map) sets.add(a.map);
					actions.push(a);
					pieces.push(a);
				} else if (st.s === 'other' || st.s === 'verdict') {
					const last = unread.length > 0 && statements[statements.indexOf(st) - 1]?.s === 'other';
					if (last) unread[unread.length - 1] += ` ${st.text}`;
					else unread.push(st.text);
				}
			}
		}
	}
	// The target: the statement that decides the walk (the last verdict, NAT, reject, map), else the last action.
	const deciding = [...actions].reverse().find(a => a.kind !== 'extension' || a.walk !== 'continues') ?? actions[actions.length - 1];
	for (const m of matches) if (m.options.length > 0) (m as {options: readonly RuleOption[]}).options = m.options.slice();
	return {
		rule: {
			matches,
			...(deciding ? {target: deciding} : {}),
			pieces,
			...(actions.length > 0 ? {actions} : {}),
			...(sets.size > 0 ? {sets: [...sets]} : {}),
			...(unread.length > 0 ? {unread} : {}),
		},
		...(counters ? {counters} : {}),
	};
}

export type {NftSelector};

/** A rule of an nft listing (text or JSON) as the rule model holds it, appended at the end of `chain`. */
export function nftRule(table: string, chain: Pick<Chain, 'name' | 'rules'>, text: string, rule: Rule['parsed'], counters: Rule['counters'] | undefined, line: number, handle: number | undefined): Rule {
	return {
		table,
		chain: chain.name,
		pos: chain.rules.length + 1,
		text,
		parsed: rule,
		args: [],
		matches: [],
		...(rule.target ? {target: rule.target.name} : {}),
		targetArgs: [],
		goto: rule.target?.goto ?? false,
		...(counters ? {counters} : {}),
		line,
		...(handle === undefined ? {} : {handle}),
		syntax: 'nft',
	};
}
