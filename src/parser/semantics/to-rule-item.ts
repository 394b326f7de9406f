/**
 * Semantics of the Ruleset grammar: one matched rule word or option → RuleItem, its value read.
 *
 * Input:  `! --ctstate NEW`            `--to-destination 198.18.1.50:6443`        `-m tcp`
 * Output: {item:'option', option:{flag:'--ctstate', name:'--ctstate', negated:true, value:{kind:'list', items:['NEW']}, words:['!','--ctstate','NEW']}}
 *         {item:'option', option:{…, value:{kind:'nat', nat:{minAddr:'198.18.1.50', maxAddr:'198.18.1.50', minPort:6443, maxPort:6443}}}}
 *         {item:'module', module:'tcp', words:['-m','tcp']}
 *
 * Values are checked as well as read: an address whose groups are out of range, a port above
 * 65535, turn the option's value into `unknown` (its words kept), as an option the grammar does
 * not read would be. src/parser/rule.ts groups the items into matches and a target.
 */
import type {IterationNode, Node} from 'ohm-js';
import {canonicalIp, parseAddr, parseCidr} from '../../netfilter/addr.js';
import {icmpTypeNumber} from '../../netfilter/icmp.js';
import {protoNumber} from '../../netfilter/protocols.js';
import type {RulesetSemantics} from '../grammar.js';
import {canonicalOption, type AddrMask, type AddrPrefix, type NatRange, type OptionValue, type PortRange, type RuleItem, type RuleOption} from '../rule.js';

const MAX_PORT = 65_535;
/** `cali:` and 16 characters. */
const CALICO_ID_LENGTH = 5 + 16;

function present(iter: IterationNode): boolean {
	return iter.numChildren > 0;
}

function int(node: Node): number {
	return Number(node.sourceString);
}

/**
 * The one copy of a name that recurs on every line (`--comment`, `-m`, `tcp`, `KUBE-MARK-MASQ`):
 * a dump of tens of thousands of rules would otherwise hold a copy per rule. Bounded, so that a
 * dump of unique words cannot grow it without end.
 */
const names = new Map<string, string>();

function intern(word: string): string {
	const known = names.get(word);
	if (known !== undefined) return known;
	if (names.size < 4096) names.set(word, word);
	return word;
}

/**
 * An option's words: the flag, the old-style `!` after it, the value. Built to size: a rule
 * holds a few of these, and a spread array literal reserves room for more.
 */
function wordsOf(flag: string, negated: boolean, values: readonly string[]): string[] {
	return (negated ? [flag, '!'] : [flag]).concat(values);
}

/** A typed option: its value, or `unknown` when `value` is undefined (read but not valid). */
function option(flag: Node, negated: boolean, valueWords: readonly string[], value: OptionValue | undefined): {readonly item: 'option'; readonly option: RuleOption} {
	const f = intern(flag.sourceString);
	return {
		item: 'option',
		option: {
			piece: 'option',
			flag: f,
			name: canonicalOption(f),
			negated,
			value: value ?? {kind: 'unknown', values: valueWords},
			values: valueWords,
			words: wordsOf(f, negated, valueWords),
		},
	};
}

function portRange(from: number, to: number): PortRange | undefined {
	return from <= to && to <= MAX_PORT ? {from, to} : undefined;
}

function all<T>(list: ReadonlyArray<T | undefined>): T[] | undefined {
	return list.every(x => x !== undefined) ? (list as T[]) : undefined;
}

/** A `first ("," rest)*` list: its elements in order. */
function listOf(first: Node, rest: IterationNode): Node[] {
	return [first, ...rest.children];
}

function natAddrs(first: Node, second: IterationNode, v6: boolean): Pick<NatRange, 'minAddr' | 'maxAddr' | 'v6'> | undefined {
	const min = first.sourceString;
	const max = present(second) ? second.child(0).sourceString : min;
	const a = parseAddr(min);
	const b = parseAddr(max);
	if (!a || !b || a.v6 !== v6 || b.v6 !== v6 || a.value > b.value) return undefined;
	return {minAddr: canonicalIp(min), maxAddr: canonicalIp(max), v6};
}

/** A NAT port range with its optional base port (`1000-2000/3000`). */
type NatPorts = PortRange & {readonly base?: number};

function natPorts(range: IterationNode): NatPorts | undefined | null {
	if (!present(range)) return null;
	return range.child(0)['portRange']() as NatPorts | undefined;
}

function nat(addrs: Pick<NatRange, 'minAddr' | 'maxAddr' | 'v6'> | undefined, ports: NatPorts | undefined | null): NatRange | undefined {
	if (!addrs || ports === undefined) return undefined;
	return {...addrs, ...(ports ? natPortFields(ports) : {})};
}

function natPortFields(ports: NatPorts): Pick<NatRange, 'minPort' | 'maxPort' | 'basePort'> {
	return {minPort: ports.from, maxPort: ports.to, ...(ports.base === undefined ? {} : {basePort: ports.base})};
}

/** A number as written, decimal or 0x hexadecimal: exact up to 2^53, with the decimal kept above that. */
function numberValue(text: string): OptionValue {
	const hex = text.startsWith('0x') || text.startsWith('0X');
	const n = hex ? Number.parseInt(text.slice(2), 16) : Number(text);
	if (Number.isSafeInteger(n)) return {kind: 'number', number: n};
	return {kind: 'number', number: n, exact: hex ? BigInt(text).toString() : text.replace(/^0+(?=\d)/, '')};
}

/** 2^64 - 1: the largest counter or byte count an option holds. */
const MAX_U64 = 18_446_744_073_709_551_615;

/** hashlimit's byte units (iptables' extensions/libxt_hashlimit.c parse_bytes). */
const BYTE_UNIT: Readonly<Record<string, number>> = {b: 1, kb: 1024, mb: 1024 * 1024};

/** tc's rate units (iproute2's get_rate, as xtables prints rates): bits or bytes per second. */
const BIT_UNIT: Readonly<Record<string, number>> = {
	bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, kibit: 1024, mibit: 1024 ** 2, gibit: 1024 ** 3, tibit: 1024 ** 4,
	bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12, kibps: 8 * 1024, mibps: 8 * 1024 ** 2, gibps: 8 * 1024 ** 3, tibps: 8 * 1024 ** 4,
};

const TIME_UNIT: Readonly<Record<string, number>> = {us: 1e-6, ms: 1e-3, s: 1};

/** `255.0.255.0` → its prefix length, or undefined when it is no prefix (a non-contiguous mask). */
function dottedMask(addrs: string, text: string): AddrMask[] | undefined {
	const out: AddrMask[] = [];
	for (const one of addrs.split(',')) {
		const [addr = '', mask = ''] = one.split('/');
		const a = parseAddr(addr);
		const m = parseAddr(mask);
		if (!a || !m || a.v6 !== m.v6) return undefined;
		out.push({text: text.includes(',') ? one : text, addr: canonicalIp(addr), mask: canonicalIp(mask), v6: a.v6});
	}
	return out;
}

const PER: Readonly<Record<string, 'second' | 'minute' | 'hour' | 'day'>> = {second: 'second', sec: 'second', s: 'second', minute: 'minute', min: 'minute', m: 'minute', hour: 'hour', h: 'hour', day: 'day', d: 'day'};

export function addToRuleItem(semantics: RulesetSemantics): void {
	semantics.addOperation<RuleItem>('item', {
		ruleItem_counters(flag, _g, p, _g2, b, _end) {
			return {item: 'counters', counters: {packets: int(p), bytes: int(b)}, words: [flag.sourceString, p.sourceString, b.sourceString]};
		},
		ruleItem_target(flag, _g, name) {
			const f = intern(flag.sourceString);
			// A `-j` that ends the line (a cut dump) names no target.
			const word = name.children[0]?.sourceString;
			const n = word === undefined ? undefined : intern(word);
			return {item: 'target', ...(n === undefined ? {} : {name: n}), goto: f === '-g' || f === '--goto', words: n === undefined ? [f] : [f, n]};
		},
		ruleItem_module(flag, _g, name) {
			const module = intern(name.sourceString);
			return {item: 'module', module, words: [intern(flag.sourceString), module]};
		},
		ruleItem_negated(_not, _g, opt) {
			const {option: o} = opt['item']() as {option: RuleOption};
			return {item: 'option', option: {...o, negated: true, words: ['!'].concat(o.words)}};
		},
		ruleItem_option(opt) {
			return opt['item']();
		},
		ruleItem_stray(arg) {
			return {item: 'stray', word: arg['arg']() as string};
		},

		ruleOption_addresses(flag, _g, not, list, _end) {
			const addrs = list['addrs']() as AddrPrefix[] | undefined;
			if (addrs) return option(flag, present(not), [list.sourceString], {kind: 'addrs', addrs});
			// `10.0.12.0/255.0.255.0`: a mask that is no prefix length (iptables-save prints such masks dotted).
			const masked = list.sourceString.includes('/') ? dottedMask(list.sourceString, list.sourceString) : undefined;
			return option(flag, present(not), [list.sourceString], masked && {kind: 'addrMasks', addrs: masked});
		},
		ruleOption_interface(flag, _g, not, name) {
			const text = name.sourceString;
			const wildcard = text.endsWith('+');
			return option(flag, present(not), [text], {kind: 'iface', iface: {text, name: wildcard ? text.slice(0, -1) : text, wildcard}});
		},
		ruleOption_protocol(flag, _g, not, name) {
			const proto = name.sourceString;
			const number = protoNumber(proto);
			return option(flag, present(not), [proto], {kind: 'proto', proto, ...(number === undefined ? {} : {number})});
		},
		ruleOption_ports(flag, _g, not, list, _end) {
			const ports = all(list['spans']() as Array<PortRange | undefined>);
			return option(flag, present(not), [list.sourceString], ports && {kind: 'ports', ports});
		},
		ruleOption_tcpFlags(flag, _g, not, mask, _g2, comp, _end) {
			return option(flag, present(not), [mask.sourceString, comp.sourceString], {kind: 'tcpFlags', mask: mask['names'](), comp: comp['names']()});
		},
		ruleOption_icmpType(flag, _g, not, type, _end) {
			const proto = flag.sourceString === '--icmpv6-type' ? 'ICMPv6' : 'ICMP';
			const read = type['icmp'](proto) as {type?: number; code?: number; name?: string};
			return option(flag, present(not), [type.sourceString], {kind: 'icmpType', proto, ...read});
		},
		ruleOption_list(flag, _g, not, list, _end) {
			return option(flag, present(not), [list.sourceString], {kind: 'list', items: list['names']()});
		},
		ruleOption_mark(flag, _g, not, mark, _end) {
			return option(flag, present(not), [mark.sourceString], mark['mark']());
		},
		ruleOption_ruleId(flag, _g, not, id, _end) {
			// `cali:` and the 16 characters Calico generates; other lengths are comments a person may have written.
			const text = id['arg']() as string;
			return option(flag, present(not), [text], {kind: 'text', text, ...(text.length === CALICO_ID_LENGTH ? {generated: true as const} : {})});
		},
		ruleOption_text(flag, _g, not, arg, _end) {
			const text = arg['arg']() as string;
			return option(flag, present(not), [text], {kind: 'text', text});
		},
		ruleOption_number(flag, _g, not, n, _end) {
			const value = numberValue(n.sourceString);
			return option(flag, present(not), [n.sourceString], value.kind === 'number' && value.number <= MAX_U64 ? value : undefined);
		},
		ruleOption_name(flag, _g, not, word) {
			return option(flag, present(not), [word.sourceString], {kind: 'word', word: word.sourceString});
		},
		ruleOption_range(flag, _g, not, range, _end) {
			const r = range['numRange']() as {from: number; to: number} | undefined;
			return option(flag, present(not), [range.sourceString], r && {kind: 'range', from: r.from, to: r.to});
		},
		ruleOption_rate(flag, _g, not, n, bytes, _slash, unit, _end) {
			const per = present(unit) ? PER[unit.child(0).sourceString]! : 'second';
			const factor = present(bytes) ? BYTE_UNIT[bytes.child(0).sourceString]! : undefined;
			const text = this.sourceString.slice(n.source.startIdx - this.source.startIdx);
			return option(flag, present(not), [text], {kind: 'rate', count: int(n) * (factor ?? 1), per, ...(factor === undefined ? {} : {unit: 'bytes' as const})});
		},
		ruleOption_burst(flag, _g, not, n, bytes, _end) {
			const text = this.sourceString.slice(n.source.startIdx - this.source.startIdx);
			const factor = present(bytes) ? BYTE_UNIT[bytes.child(0).sourceString]! : undefined;
			return option(flag, present(not), [text], factor === undefined ? {kind: 'number', number: int(n)} : {kind: 'bytes', bytes: int(n) * factor});
		},
		ruleOption_bitRate(flag, _g, not, whole, _dot, fraction, unit, _end) {
			const text = this.sourceString.slice(whole.source.startIdx - this.source.startIdx);
			const factor = BIT_UNIT[unit.sourceString.toLowerCase()];
			const count = Number(`${whole.sourceString}${present(fraction) ? `.${fraction.child(0).sourceString}` : ''}`);
			return option(flag, present(not), [text], factor === undefined ? undefined : {kind: 'rate', count: count * factor, per: 'second', unit: 'bits'});
		},
		ruleOption_chunks(flag, _g, not, match, _g2, first, _commas, rest, _end) {
			const chunks = listOf(first, rest).map(c => {
				const [name = '', flags] = c.sourceString.split(':');
				return flags === undefined ? {name} : {name, flags};
			});
			const text = this.sourceString.slice(match.source.startIdx - this.source.startIdx);
			return option(flag, present(not), text.split(/\s+/), {kind: 'chunks', match: match.sourceString, chunks});
		},
		ruleOption_ip6Options(flag, _g, not, first, _commas, rest, _end) {
			const options = listOf(first, rest).map(o => {
				const [type = '', length] = o.sourceString.split(':');
				return length === undefined ? {type: Number(type)} : {type: Number(type), length: Number(length)};
			});
			const text = this.sourceString.slice(first.source.startIdx - this.source.startIdx);
			return option(flag, present(not), [text], options.every(o => o.type <= 255 && (o.length ?? 0) <= 255) ? {kind: 'ip6Options', options} : undefined);
		},
		ruleOption_class(flag, _g, major, _colon, minor, _end) {
			const text = `${major.sourceString}:${minor.sourceString}`;
			const a = Number.parseInt(major.sourceString, 16);
			const b = Number.parseInt(minor.sourceString, 16);
			return option(flag, false, [text], a <= 0xffff && b <= 0xffff ? {kind: 'class', major: a, minor: b} : undefined);
		},
		ruleOption_time(flag, _g, not, h, _c, m, _c2, sec, _end) {
			const text = this.sourceString.slice(h.source.startIdx - this.source.startIdx);
			const hours = int(h);
			const minutes = int(m);
			const secs = present(sec) ? int(sec.child(0)) : 0;
			return option(flag, present(not), [text], hours <= 23 && minutes <= 59 && secs <= 59 ? {kind: 'time', time: text, seconds: hours * 3600 + minutes * 60 + secs} : undefined);
		},
		ruleOption_date(flag, _g, not, year, _d, _month, _d2, _day, _t, _h, _c, _m, _c2, _s, _end) {
			const text = this.sourceString.slice(year.source.startIdx - this.source.startIdx);
			return option(flag, present(not), [text], {kind: 'date', date: text});
		},
		ruleOption_duration(flag, _g, whole, _dot, fraction, unit, _end) {
			const text = this.sourceString.slice(whole.source.startIdx - this.source.startIdx);
			const n = Number(`${whole.sourceString}${present(fraction) ? `.${fraction.child(0).sourceString}` : ''}`);
			return option(flag, false, [text], {kind: 'duration', seconds: n * (present(unit) ? TIME_UNIT[unit.child(0).sourceString]! : 1)});
		},
		ruleOption_probability(flag, _g, not, whole, _dot, fraction, _end) {
			const text = `${whole.sourceString}${present(fraction) ? `.${fraction.child(0).sourceString}` : ''}`;
			const probability = Number(text);
			return option(flag, present(not), [text], probability <= 1 ? {kind: 'probability', probability} : undefined);
		},
		ruleOption_set(flag, _g, not, name, _g2, first, _commas, rest, _end) {
			const dirs = listOf(first, rest).map(d => d.sourceString as 'src' | 'dst');
			return option(flag, present(not), [name.sourceString, dirs.join(',')], {kind: 'set', set: name.sourceString, dirs});
		},
		ruleOption_mac(flag, _g, not, mac, _end) {
			return option(flag, present(not), [mac.sourceString], {kind: 'mac', mac: mac.sourceString.toLowerCase()});
		},
		ruleOption_addressRange(flag, _g, not, from, _dash, to, _end) {
			const a = parseAddr(from.sourceString);
			const b = parseAddr(to.sourceString);
			const ok = a && b && a.v6 === b.v6 && a.value <= b.value;
			const text = `${from.sourceString}-${to.sourceString}`;
			return option(flag, present(not), [text], ok ? {kind: 'addrRange', from: canonicalIp(from.sourceString), to: canonicalIp(to.sourceString), v6: a.v6} : undefined);
		},
		ruleOption_owner(flag, _g, not, owner) {
			return option(flag, present(not), [owner.sourceString], owner['owner']());
		},
		ruleOption_nat(flag, _g, range, _end) {
			const value = range['nat']() as NatRange | undefined;
			return option(flag, false, [range.sourceString], value && {kind: 'nat', nat: value});
		},
		ruleOption_toPorts(flag, _g, range, _end) {
			const ports = range['portRange']() as NatPorts | undefined;
			return option(flag, false, [range.sourceString], ports && {kind: 'nat', nat: natPortFields(ports)});
		},
		ruleOption_netmap(flag, _g, prefix, _end) {
			const p = prefix['prefix']() as AddrPrefix | undefined;
			return option(flag, false, [prefix.sourceString], p && {kind: 'addrs', addrs: [p]});
		},
		ruleOption_word(flag, _g, not, word) {
			return option(flag, present(not), [word.sourceString], {kind: 'word', word: word.sourceString});
		},
		ruleOption_flag(flag, _end) {
			return option(flag, false, [], {kind: 'flag'});
		},
		ruleOption_generic(name, _g, not, _ahead, _gaps, values) {
			const f = intern(name.sourceString);
			const words = values.children.map(v => v['arg']() as string);
			const negated = present(not);
			return {
				item: 'option',
				option: {piece: 'option', flag: f, name: canonicalOption(f), negated, value: {kind: 'unknown', values: words}, values: words, words: wordsOf(f, negated, words)},
			};
		},
	});

	semantics.addOperation<AddrPrefix[] | undefined>('addrs', {
		addrList(first, _commas, rest) {
			return all(listOf(first, rest).map(p => p['prefix']() as AddrPrefix | undefined));
		},
	});

	semantics.addOperation<AddrPrefix | undefined>('prefix', {
		addrPrefix(_ip, _slash, _mask) {
			const text = this.sourceString;
			const cidr = parseCidr(text);
			if (!cidr) return undefined;
			const addr = canonicalIp(_ip.sourceString);
			return {text, addr, v6: cidr.v6, bits: cidr.bits, masked: present(_slash), cidr};
		},
	});

	semantics.addOperation<Array<PortRange | undefined>>('spans', {
		portList(first, _commas, rest) {
			return listOf(first, rest).map(s => s['span']() as PortRange | undefined);
		},
	});

	semantics.addOperation<PortRange | undefined>('span', {
		portSpan_range(from, _colon, to) {
			return portRange(present(from) ? int(from.child(0)) : 0, present(to) ? int(to.child(0)) : MAX_PORT);
		},
		portSpan_single(port) {
			return portRange(int(port), int(port));
		},
	});

	semantics.addOperation<NatPorts | undefined>('portRange', {
		portDashRange(from, _dash, to, _slash, base) {
			const r = portRange(int(from), present(to) ? int(to.child(0)) : int(from));
			if (!r || !present(base)) return r;
			const b = int(base.child(0));
			return b <= MAX_PORT ? {...r, base: b} : undefined;
		},
	});

	semantics.addOperation<{from: number; to: number} | undefined>('numRange', {
		numRange_span(from, _colon, to) {
			const a = present(from) ? (from.child(0)['number']() as number) : 0;
			const b = present(to) ? (to.child(0)['number']() as number) : MAX_U64;
			return a <= b ? {from: a, to: b} : undefined;
		},
		numRange_single(n) {
			const v = n['number']() as number;
			return {from: v, to: v};
		},
	});

	semantics.addOperation<NatRange | undefined>('nat', {
		natRange_bracketed(_open, first, _dash, second, _close, _colon, ports) {
			return nat(natAddrs(first, second, true), natPorts(ports));
		},
		natRange_ipv4(first, _dash, second, _colon, ports) {
			return nat(natAddrs(first, second, false), natPorts(ports));
		},
		natRange_ports(_colon, ports) {
			const p = ports['portRange']() as NatPorts | undefined;
			return p && natPortFields(p);
		},
		natRange_ipv6(first, _dash, second) {
			return nat(natAddrs(first, second, true), null);
		},
	});

	semantics.addOperation<OptionValue | undefined>('mark', {
		markValue(value, _slash, mask) {
			const v = value['number']() as number;
			const m = present(mask) ? (mask.child(0)['number']() as number) : undefined;
			if (v > 0xffffffff || (m !== undefined && m > 0xffffffff)) return undefined;
			return {kind: 'mark', mark: m === undefined ? {value: v} : {value: v, mask: m}};
		},
	});

	semantics.addOperation<number>('number', {
		markNumber(n) {
			const text = n.sourceString;
			return text.startsWith('0x') ? Number.parseInt(text.slice(2), 16) : Number(text);
		},
	});

	semantics.addOperation<{type?: number; code?: number; name?: string}>('icmp(proto)', {
		icmpType_numeric(type, _slash, code) {
			return {type: int(type), ...(present(code) ? {code: int(code.child(0))} : {})};
		},
		icmpType_named(_letters) {
			const name = this.sourceString;
			const type = icmpTypeNumber(this.args['proto'] as 'ICMP' | 'ICMPv6', name);
			return {name, ...(type === undefined ? {} : {type})};
		},
	});

	semantics.addOperation<string[]>('names', {
		nameList(first, _commas, rest) {
			return listOf(first, rest).map(n => n.sourceString);
		},
	});

	semantics.addOperation<OptionValue>('owner', {
		ownerValue_ids(from, _dash, to, _end) {
			return {kind: 'owner', from: int(from), to: present(to) ? int(to.child(0)) : int(from)};
		},
		ownerValue_name(name) {
			return {kind: 'owner', name: name.sourceString};
		},
	});

	semantics.addOperation<string>('arg', {
		ruleArg_quoted(_open, chars, _close) {
			// Most quoted words (kube-proxy's comments) have no escape: take them whole rather than character by character.
			const inner = this.sourceString.slice(1, -1);
			return inner.includes('\\') ? chars.children.map(c => c['arg']()).join('') : inner;
		},
		ruleArg_bare(_t) {
			return this.sourceString;
		},
		optionValue(arg) {
			return arg['arg']();
		},
		ruleIdComment_quoted(_open, _chars, _close) {
			return this.sourceString.slice(1, -1);
		},
		ruleIdComment_bare(_cali, _chars) {
			return this.sourceString;
		},
		quotedChar_escaped(_bs, ch) {
			return ch.sourceString;
		},
		quotedChar_plain(ch) {
			return ch.sourceString;
		},
	});
}
