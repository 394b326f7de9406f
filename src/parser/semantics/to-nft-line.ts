/**
 * Semantics of the NftRuleset grammar: one line of `nft list ruleset` → NftLine.
 *
 * Input:  `		ip saddr != 198.19.64.0/19 tcp dport { 80, 443 } counter packets 3 bytes 180 jump mark-for-masquerade # handle 12`
 * Output: {kind:'rule', handle:12, text:'ip saddr != 198.19.64.0/19 tcp dport { 80, 443 } counter packets 3 bytes 180 jump mark-for-masquerade',
 *          statements:[{s:'match', expr:[{text:'ip saddr', …}], op:'!=', value:{v:'concat', atoms:[{a:'prefix', …}]}, words:[…]},
 *                      {s:'match', expr:[{text:'tcp dport'}], value:{v:'anonymous', elements:[…]}, …},
 *                      {s:'counter', counters:{packets:3, bytes:180}}, {s:'verdict', verdict:'jump', chain:'mark-for-masquerade'}]}
 *
 * What a statement means for the rule model (which match, which target) is decided in
 * src/parser/nft-rule.ts; here each statement is read by its syntax only.
 */
import type {IterationNode, Node} from 'ohm-js';
import type {NftRulesetSemantics} from '../grammar.js';
import type {AddrPrefix, Counters, NatRange} from '../rule.js';

/** One value: `198.18.0.0/15`, `1000-2000`, `0x4000`, `"eth0"`, `established`. */
export type NftAtom =
	| {readonly a: 'prefix'; readonly text: string; readonly prefix?: AddrPrefix}
	| {readonly a: 'addrRange'; readonly text: string; readonly from?: AddrPrefix; readonly to?: AddrPrefix}
	| {readonly a: 'range'; readonly text: string; readonly from: number; readonly to: number}
	| {readonly a: 'number'; readonly text: string; readonly number: number}
	| {readonly a: 'quoted'; readonly text: string; readonly string: string}
	| {readonly a: 'name'; readonly text: string};

export type NftVerdictWord = 'accept' | 'drop' | 'return' | 'continue' | 'queue' | 'stolen' | 'jump' | 'goto';

export interface NftVerdict {
	readonly verdict: NftVerdictWord;
	readonly chain?: string;
}

/** A set or map element: `198.19.96.1 . tcp . 443 : goto service-X`. */
export interface NftElement {
	readonly text: string;
	readonly key: readonly NftAtom[];
	readonly verdict?: NftVerdict;
	readonly value?: readonly NftAtom[];
}

export type NftValue =
	| {readonly v: 'setRef'; readonly text: string; readonly set: string}
	| {readonly v: 'anonymous'; readonly text: string; readonly elements: readonly NftElement[]}
	| {readonly v: 'paren'; readonly text: string}
	| {readonly v: 'flagMask'; readonly text: string; readonly flags: readonly string[]; readonly mask: readonly string[]}
	| {readonly v: 'list'; readonly text: string; readonly items: ReadonlyArray<readonly NftAtom[]>}
	| {readonly v: 'concat'; readonly text: string; readonly atoms: readonly NftAtom[]};

/** `ip saddr`, `meta l4proto`, `ct original ip daddr`, `numgen random mod 2`. */
export interface NftSelector {
	readonly text: string;
	/** `ip`, `tcp`, `meta`, `ct`, `fib`, `numgen`, …; `meta` for iifname and the other bare meta keys. */
	readonly base: string;
	/** `saddr`, `l4proto`, `state`; `daddr type` for fib. */
	readonly field: string;
}

export type NftStatement =
	| ({readonly s: 'verdict'; readonly text: string} & NftVerdict)
	| {readonly s: 'counter'; readonly text: string; readonly counters?: Counters}
	| {readonly s: 'comment'; readonly text: string; readonly comment: string}
	| {readonly s: 'log'; readonly text: string; readonly prefix?: string; readonly level?: string; readonly group?: number}
	| {readonly s: 'reject'; readonly text: string; readonly with?: string}
	| {readonly s: 'nat'; readonly text: string; readonly nat: 'dnat' | 'snat' | 'masquerade' | 'redirect'; readonly to?: NatRange; readonly toText?: string; readonly flags: readonly string[]; readonly map?: NftValue; readonly prefix?: AddrPrefix}
	/** `add @meter { ip saddr timeout 30s }`, `update @set { … }`, `delete @set { … }`. */
	| {readonly s: 'dynset'; readonly text: string; readonly op: 'add' | 'update' | 'delete'; readonly set: string}
	/** `counter name "c1"`, `quota name ip saddr map { … }`: a named stateful object, or one a map picks. */
	| {readonly s: 'objref'; readonly text: string; readonly object: string; readonly name?: string; readonly map?: NftValue}
	| {readonly s: 'xt'; readonly text: string; readonly xt: 'match' | 'target'; readonly name: string}
	/** `limit rate over 10 mbytes/second`: `unit` for a byte rate. */
	| {readonly s: 'limit'; readonly text: string; readonly over: boolean; readonly count: number; readonly unit?: string; readonly per: string; readonly burst?: number}
	| {readonly s: 'quota'; readonly text: string}
	| {readonly s: 'synproxy'; readonly text: string; readonly mss?: number; readonly wscale?: number; readonly flags: readonly string[]}
	| {readonly s: 'tproxy'; readonly text: string; readonly to?: NatRange}
	/** `fwd to "eth0"`, `dup to 10.0.0.1 device "eth0"`. */
	| {readonly s: 'forward'; readonly text: string; readonly how: 'fwd' | 'dup'; readonly to: NftValue}
	| {readonly s: 'notrack'; readonly text: string}
	| {readonly s: 'vmap'; readonly text: string; readonly expr: readonly NftSelector[]; readonly map: NftValue}
	| {readonly s: 'set'; readonly text: string; readonly expr: readonly NftSelector[]; readonly value: NftValue; readonly ops: ReadonlyArray<{readonly op: string; readonly value: NftValue}>}
	| {readonly s: 'match'; readonly text: string; readonly expr: readonly NftSelector[]; readonly bitOp?: {readonly op: string; readonly value: NftValue}; readonly op?: string; readonly value: NftValue}
	| {readonly s: 'other'; readonly text: string};

export interface NftBaseChain {
	readonly type: string;
	readonly hook: string;
	readonly device?: string;
	/** As written: `filter + 10`, `-110`, `dstnat`. */
	readonly priorityText: string;
	readonly priorityBase: string | number;
	readonly priorityOffset: number;
	readonly policy?: string;
}

export type NftLine =
	| {readonly kind: 'blank'}
	| {readonly kind: 'table'; readonly family: string; readonly name: string; readonly handle?: number}
	| {readonly kind: 'chain'; readonly name: string; readonly handle?: number}
	| {readonly kind: 'set'; readonly name: string; readonly map: boolean; readonly handle?: number}
	| {readonly kind: 'object'; readonly what: string; readonly name: string; readonly handle?: number}
	| {readonly kind: 'close'}
	| ({readonly kind: 'baseChain'} & NftBaseChain)
	| {readonly kind: 'policy'; readonly policy: string}
	| {readonly kind: 'define'; readonly name: string; readonly value: string}
	| {readonly kind: 'include'; readonly file: string}
	| {readonly kind: 'comment'; readonly text: string}
	| {readonly kind: 'rule'; readonly text: string; readonly statements: readonly NftStatement[]; readonly handle?: number};

export type NftSetLine =
	| {readonly kind: 'blank'}
	| {readonly kind: 'elements'; readonly elements: readonly NftElement[]}
	| {readonly kind: 'type'; readonly text: string}
	| {readonly kind: 'flags'; readonly flags: readonly string[]}
	| {readonly kind: 'close'}
	| {readonly kind: 'other'; readonly text: string};

function present(node: IterationNode): boolean {
	return node.children.length > 0;
}

function unquote(text: string): string {
	return text.startsWith('"') && text.endsWith('"') && text.length >= 2 ? text.slice(1, -1).replaceAll('\\"', '"') : text;
}

/** The nodes of `first (sep x)*`: first, then each x. */
function listOf(first: Node, rest: IterationNode): Node[] {
	return [first, ...rest.children];
}

function handleOf(node: IterationNode): number | undefined {
	const h = node.children[0];
	return h ? Number(h.child(4).sourceString) : undefined;
}

export function addToNftLine(semantics: NftRulesetSemantics): void {
	semantics.addOperation<NftLine>('nftLine', {
		nftLine_blank(_sp, _eol) {
			return {kind: 'blank'};
		},
		nftLine_content(_sp, content, _sp2, handle, _eol) {
			const line = content['nftLine']() as NftLine;
			const h = handleOf(handle);
			return h === undefined || !('name' in line || line.kind === 'rule') ? line : {...line, handle: h};
		},
		nftContent_table(_kw, _g1, family, _g2, name, _g3, _brace) {
			return {kind: 'table', family: family.sourceString, name: unquote(name.sourceString)};
		},
		nftContent_tableIp(_kw, _g, name, _g2, _brace) {
			return {kind: 'table', family: 'ip', name: unquote(name.sourceString)};
		},
		nftContent_chain(_kw, _g, name, _g2, _brace) {
			return {kind: 'chain', name: unquote(name.sourceString)};
		},
		nftContent_set(kw, _g, name, _g2, _brace) {
			return {kind: 'set', name: unquote(name.sourceString), map: kw.sourceString === 'map'};
		},
		nftContent_object(what, _g, name, _g2, _brace) {
			return {kind: 'object', what: what.sourceString, name: unquote(name.sourceString)};
		},
		nftContent_close(_b) {
			return {kind: 'close'};
		},
		nftContent_baseChain(_t, _g1, type, _g2, _h, _g3, hook, device, _g4, _p, _g5, priority, _sp, _semi, _sp2, _pk, _g6, policy, _sp3, _semi2) {
			const d = device.children[0];
			const dev = d ? unquote(d.sourceString.replace(/^\s*devices?\s*=?\s*/, '').trim()) : undefined;
			const p = priority['priority']() as {base: string | number; offset: number};
			const pol = policy.children[0]?.sourceString;
			return {kind: 'baseChain', type: type.sourceString, hook: hook.sourceString, ...(dev ? {device: dev} : {}), priorityText: priority.sourceString, priorityBase: p.base, priorityOffset: p.offset, ...(pol ? {policy: pol} : {})};
		},
		nftContent_policy(_kw, _g, policy, _sp, _semi) {
			return {kind: 'policy', policy: policy.sourceString};
		},
		nftContent_define(_kw, _g, name, _sp, _eq, _sp2, value) {
			return {kind: 'define', name: name.sourceString, value: value.sourceString.trim()};
		},
		nftContent_include(_kw, _g, file) {
			return {kind: 'include', file: unquote(file.sourceString)};
		},
		nftContent_comment(_hash, text) {
			return {kind: 'comment', text: text.sourceString};
		},
		nftContent_rule(statements) {
			return {kind: 'rule', text: statements.sourceString, statements: statements['statements']() as NftStatement[]};
		},
	});

	semantics.addOperation<{base: string | number; offset: number}>('priority', {
		nftPriority(base, _g, sign, _g2, n) {
			const b = base.child(0);
			const value = b.ctorName === 'nftPriorityBase_number' ? Number(base.sourceString) : base.sourceString;
			const offset = present(n) ? Number(n.children[0]!.sourceString) * (sign.children[0]!.sourceString === '-' ? -1 : 1) : 0;
			return {base: value, offset};
		},
	});

	semantics.addOperation<NftSetLine>('nftSetLine', {
		nftSetLine_blank(_sp, _eol) {
			return {kind: 'blank'};
		},
		nftSetLine_content(_sp, content, _sp2, _handle, _eol) {
			return content['nftSetLine']() as NftSetLine;
		},
		nftSetContent_elements(_kw, _sp, _eq, _sp2, elements) {
			return {kind: 'elements', elements: elements['elements']() as NftElement[]};
		},
		nftSetContent_type(_kw, _g, rest) {
			return {kind: 'type', text: rest.sourceString.trim()};
		},
		nftSetContent_flags(_kw, _g, rest) {
			return {kind: 'flags', flags: rest.sourceString.split(/[\s,]+/).filter(Boolean)};
		},
		nftSetContent_close(_b) {
			return {kind: 'close'};
		},
		nftSetContent_other(_w, _rest) {
			return {kind: 'other', text: this.sourceString.trim()};
		},
	});

	semantics.addOperation<NftElement[]>('elements', {
		nftElements_some(_open, _sp, first, _sp2, _commas, _sp3, rest, _sp4, _comma, _sp5, _close) {
			return listOf(first, rest).map(e => e['element']() as NftElement);
		},
		nftElements_none(_open, _sp, _close) {
			return [];
		},
	});

	semantics.addOperation<NftElement>('element', {
		nftElement(key, _g0, _before, _sp, _colon, _sp2, value, _g, _options) {
			const v = value.children[0];
			const mapped = v ? (v['mapValue']() as {verdict?: NftVerdict; value?: NftAtom[]}) : {};
			return {text: this.sourceString, key: key['atoms']() as NftAtom[], ...mapped};
		},
	});

	semantics.addOperation<{verdict?: NftVerdict; value?: NftAtom[]}>('mapValue', {
		nftMapValue_verdict(v) {
			return {verdict: v['verdict']() as NftVerdict};
		},
		nftMapValue_value(v) {
			return {value: v['atoms']() as NftAtom[]};
		},
	});

	semantics.addOperation<NftVerdict>('verdict', {
		nftVerdict_binding(kw, _g, _open, _sp, _end) {
			return {verdict: kw.sourceString as NftVerdictWord, chain: '{'};
		},
		nftVerdict_chain(kw, _g, name) {
			return {verdict: kw.sourceString as NftVerdictWord, chain: unquote(name.sourceString)};
		},
		nftVerdict_plain(kw, _end) {
			return {verdict: kw.sourceString as NftVerdictWord};
		},
	});

	semantics.addOperation<NftAtom[]>('atoms', {
		nftConcat(first, _sp, _dots, _sp2, rest) {
			return listOf(first, rest).map(a => a['atom']() as NftAtom);
		},
		nftElementKey(first, _sp, _bars, _sp2, rest) {
			return listOf(first, rest).flatMap(a => a['atoms']() as NftAtom[]);
		},
	});

	semantics.addOperation<NftAtom>('atom', {
		nftAtom_addrRange(from, _dash, to, _end) {
			const f = from['prefix']() as AddrPrefix | undefined;
			const t = to['prefix']() as AddrPrefix | undefined;
			return {a: 'addrRange', text: this.sourceString, ...(f ? {from: f} : {}), ...(t ? {to: t} : {})};
		},
		nftAtom_prefix(prefix, _end) {
			const p = prefix['prefix']() as AddrPrefix | undefined;
			return p ? {a: 'prefix', text: this.sourceString, prefix: p} : {a: 'name', text: this.sourceString};
		},
		nftAtom_range(from, _dash, to, _end) {
			return {a: 'range', text: this.sourceString, from: from['number']() as number, to: to['number']() as number};
		},
		nftAtom_number(n, _end) {
			return {a: 'number', text: this.sourceString, number: n['number']() as number};
		},
		nftAtom_quoted(q) {
			return {a: 'quoted', text: this.sourceString, string: unquote(q.sourceString)};
		},
		nftAtom_name(_chars) {
			return {a: 'name', text: this.sourceString};
		},
	});

	semantics.addOperation<NftValue>('value', {
		nftValue_setRef(_at, name) {
			return {v: 'setRef', text: this.sourceString, set: unquote(name.sourceString)};
		},
		nftValue_anonymous(elements) {
			return {v: 'anonymous', text: this.sourceString, elements: elements['elements']() as NftElement[]};
		},
		nftValue_paren(_open, _chars, _close) {
			return {v: 'paren', text: this.sourceString};
		},
		nftValue_flagMask(flags, _sp, _slash, _sp2, mask) {
			return {v: 'flagMask', text: this.sourceString, flags: flags.sourceString.split(','), mask: mask.sourceString.split(',')};
		},
		nftValue_list(first, _commas, rest) {
			return {v: 'list', text: this.sourceString, items: listOf(first, rest).map(c => c['atoms']() as NftAtom[])};
		},
		nftValue_concat(c) {
			return {v: 'concat', text: this.sourceString, atoms: c['atoms']() as NftAtom[]};
		},
	});

	semantics.addOperation<NftSelector[]>('selectors', {
		nftExpression(first, _g, _dots, _g2, rest) {
			return listOf(first, rest).map(s => s['selector']() as NftSelector);
		},
	});

	const selector = (node: Node, base: string, field: string): NftSelector => ({text: node.sourceString, base, field});
	semantics.addOperation<NftSelector>('selector', {
		nftSelector_tcpOption(_tcp, _g, _opt, _g2, name, _g3, field) {
			return selector(this, 'tcp option', `${name.sourceString}${present(field) ? ` ${field.children[0]!.sourceString}` : ''}`);
		},
		nftSelector_sctpChunk(_sctp, _g, _chunk, _g2, chunk, _g3, field) {
			return selector(this, 'sctp chunk', `${chunk.sourceString}${present(field) ? ` ${field.children[0]!.sourceString}` : ''}`);
		},
		nftSelector_exthdr(_kw, _g, header, _g2, field) {
			return selector(this, 'exthdr', `${header.sourceString}${present(field) ? ` ${field.children[0]!.sourceString}` : ''}`);
		},
		nftSelector_arpAddr(_arp, _g, dir, _g2, kind, _end) {
			return selector(this, 'arp', `${dir.sourceString} ${kind.sourceString}`);
		},
		nftSelector_payload(proto, _g, field) {
			return selector(this, proto.sourceString, field.sourceString);
		},
		nftSelector_meta(_meta, _g, field) {
			return selector(this, 'meta', field.sourceString);
		},
		nftSelector_bareMeta(key, _end) {
			return selector(this, 'meta', key.sourceString);
		},
		nftSelector_ct(_ct, _g, dir, _g2, proto, _end, _g3, field) {
			const d = dir.children[0]?.sourceString;
			const p = proto.children[0]?.sourceString;
			return selector(this, 'ct', [d, p, field.sourceString].filter(Boolean).join(' '));
		},
		nftSelector_fib(_fib, _g, first, _g2, _dots, _g3, rest, _g4, result, _end) {
			return selector(this, 'fib', `${[first, ...rest.children].map(n => n.sourceString).join(' . ')} ${result.sourceString}`);
		},
		nftSelector_numgen(_kw, _g, mode, _g2, _mod, _g3, n, _g4, _off, _g5, _offset) {
			return selector(this, 'numgen', `${mode.sourceString} mod ${n.sourceString}`);
		},
		nftSelector_hash(kw, _a, _b, _c, _d, _e, _f, _g, _h, _i, _j, _k, _l, _m, _n) {
			return selector(this, kw.sourceString, this.sourceString.slice(kw.sourceString.length).trim());
		},
		nftSelector_osf(_kw, _g, _ttl, _g2, _mode, _g3, key, _end) {
			return selector(this, 'osf', key.sourceString);
		},
		nftSelector_socket(_kw, _g, key) {
			return selector(this, 'socket', key.sourceString);
		},
		nftSelector_rt(_kw, _g, _fam, _end, _g2, key, _end2) {
			return selector(this, 'rt', key.sourceString);
		},
		nftSelector_ipsec(_kw, _g, dir, _g2, _spnum, _g3, _n, _g4, fam, _end, _g5, key) {
			return selector(this, 'ipsec', `${dir.sourceString} ${present(fam) ? `${fam.children[0]!.sourceString} ` : ''}${key.sourceString}`);
		},
		nftSelector_raw(_at, base, _c, offset, _c2, len) {
			return selector(this, 'raw', `${base.sourceString},${offset.sourceString},${len.sourceString}`);
		},
	});

	semantics.addOperation<NftStatement[]>('statements', {
		nftStatements(first, _g, rest) {
			return listOf(first, rest).map(s => s['statement']() as NftStatement);
		},
	});

	semantics.addOperation<NftStatement>('statement', {
		nftStatement_verdict(v) {
			return {s: 'verdict', text: this.sourceString, ...(v['verdict']() as NftVerdict)};
		},
		nftStatement_counter(_kw, _g, _p, _g2, packets, _g3, _b, _g4, bytes, _end) {
			const p = packets.children[0];
			const b = bytes.children[0];
			return {s: 'counter', text: this.sourceString, ...(p && b ? {counters: {packets: Number(p.sourceString), bytes: Number(b.sourceString)}} : {})};
		},
		nftStatement_comment(_kw, _g, text) {
			return {s: 'comment', text: this.sourceString, comment: unquote(text.sourceString)};
		},
		nftStatement_log(_kw, _g, options, _end) {
			let out: {prefix?: string; level?: string; group?: number} = {};
			for (const o of options.children) out = {...out, ...(o['logOption']() as typeof out)};
			return {s: 'log', text: this.sourceString, ...out};
		},
		nftStatement_reject(_kw, _g, _with, _g2, how, _end) {
			const h = how.children[0];
			return {s: 'reject', text: this.sourceString, ...(h ? {with: h['rejectWith']() as string} : {})};
		},
		nftStatement_nat(kind, _g, _fam, _end, _g2, _prefix, _g3, _to, _g4, to, _g5, flags) {
			const how = to.child(0);
			const range = how.ctorName === 'nftNatTo_range' ? (how.child(0)['nat']() as NatRange | undefined) : undefined;
			const map = how.ctorName === 'nftNatTo_map' ? (how.child(4)['mapRef']() as NftValue) : undefined;
			const prefix = how.ctorName === 'nftNatTo_prefix' ? (how.child(0)['prefix']() as AddrPrefix | undefined) : undefined;
			return {s: 'nat', text: this.sourceString, nat: kind.sourceString as 'dnat' | 'snat', ...(range ? {to: range} : {}), ...(map ? {map} : {}), ...(prefix ? {prefix} : {}), toText: to.sourceString, flags: flags.children.flatMap(f => f.sourceString.split(','))};
		},
		nftStatement_quota(_q) {
			return {s: 'quota', text: this.sourceString};
		},
		nftStatement_synproxy(_kw, _g, options, _end) {
			let out: {mss?: number; wscale?: number; flags: string[]} = {flags: []};
			for (const o of options.children) {
				const [name, value] = o.sourceString.split(/\s+/);
				if (name === 'mss' || name === 'wscale') out = {...out, [name]: Number(value)};
				else out.flags.push(name!);
			}
			return {s: 'synproxy', text: this.sourceString, ...out};
		},
		nftStatement_tproxy(_kw, _g, _fam, _end, _g2, _to, _g3, range, _end2) {
			const to = range['nat']() as NatRange | undefined;
			return {s: 'tproxy', text: this.sourceString, ...(to ? {to} : {})};
		},
		nftStatement_forward(how, _g, _fam, _end, _g2, _to, _g3, to, _g4, _dev, _g5, _device) {
			return {s: 'forward', text: this.sourceString, how: how.sourceString as 'fwd' | 'dup', to: to['operand']() as NftValue};
		},
		nftStatement_objref(kind, _g, _name, _g2, ref) {
			const r = ref.child(0);
			return {s: 'objref', text: this.sourceString, object: kind.sourceString, ...(r.ctorName === 'nftObjectRef_map' ? {map: r.child(4)['mapRef']() as NftValue} : {name: unquote(r.sourceString)})};
		},
		nftStatement_dynset(op, _g, _at, name, _g2, _body) {
			return {s: 'dynset', text: this.sourceString, op: op.sourceString as 'add' | 'update' | 'delete', set: unquote(name.sourceString)};
		},
		nftStatement_masquerade(_kw, _g, _to, _g2, _colon, ports, _g3, flags, _end) {
			const p = ports.children[0];
			return {s: 'nat', text: this.sourceString, nat: 'masquerade', ...(p ? {toText: `:${p.sourceString}`} : {}), flags: flags.children.flatMap(f => f.sourceString.split(','))};
		},
		nftStatement_redirect(_kw, _g, _to, _g2, _colon, ports, _g3, flags, _end) {
			const p = ports.children[0];
			return {s: 'nat', text: this.sourceString, nat: 'redirect', ...(p ? {toText: `:${p.sourceString}`} : {}), flags: flags.children.flatMap(f => f.sourceString.split(','))};
		},
		nftStatement_xt(_kw, _g, which, _g2, name) {
			return {s: 'xt', text: this.sourceString, xt: which.sourceString as 'match' | 'target', name: unquote(name.sourceString)};
		},
		nftStatement_limit(limit) {
			return limit['limit']() as NftStatement;
		},
		nftStatement_notrack(_kw, _end) {
			return {s: 'notrack', text: this.sourceString};
		},
		nftStatement_vmap(expr, _g, _kw, _g2, map) {
			const m = map.child(0);
			const value: NftValue = m.ctorName === 'nftMapRef_named' ? {v: 'setRef', text: m.sourceString, set: unquote(m.child(1).sourceString)} : {v: 'anonymous', text: m.sourceString, elements: m.child(0)['elements']() as NftElement[]};
			return {s: 'vmap', text: this.sourceString, expr: expr['selectors']() as NftSelector[], map: value};
		},
		nftStatement_set(expr, _g, _kw, _g2, value) {
			const [first, ...ops] = value['setValue']() as Array<{op: string; value: NftValue}>;
			return {s: 'set', text: this.sourceString, expr: expr['selectors']() as NftSelector[], value: first!.value, ops};
		},
		nftStatement_match(expr, _g, bitOp, _g2, mask, _g3, cmp, _g4, value) {
			const b = bitOp.children[0];
			const c = cmp.children[0];
			return {
				s: 'match',
				text: this.sourceString,
				expr: expr['selectors']() as NftSelector[],
				...(b ? {bitOp: {op: b.sourceString, value: mask.children[0]!['value']() as NftValue}} : {}),
				...(c ? {op: c.sourceString} : {}),
				value: value['value']() as NftValue,
			};
		},
		nftStatement_braces(_b) {
			return {s: 'other', text: this.sourceString};
		},
		nftStatement_other(_w) {
			return {s: 'other', text: this.sourceString};
		},
	});

	semantics.addOperation<NftStatement>('limit', {
		nftLimit(_kw, _g, _rate, _g2, over, _g3, count, _g4, unit, _sp, _slash, _sp2, per, _g5, _burst, _g6, burst, _g7, _bunit) {
			const b = burst.children[0];
			const u = unit.children[0]?.sourceString;
			return {s: 'limit', text: this.sourceString, over: present(over), count: Number(count.sourceString), ...(u ? {unit: u} : {}), per: per.sourceString, ...(b ? {burst: Number(b.sourceString)} : {})};
		},
	});

	semantics.addOperation<NftValue>('mapRef', {
		nftMapRef_named(_at, name) {
			return {v: 'setRef', text: this.sourceString, set: unquote(name.sourceString)};
		},
		nftMapRef_anonymous(elements) {
			return {v: 'anonymous', text: this.sourceString, elements: elements['elements']() as NftElement[]};
		},
	});

	semantics.addOperation<Array<{op: string; value: NftValue}>>('setValue', {
		nftSetValue(first, _g, ops, _g2, values) {
			return [{op: '', value: first['operand']() as NftValue}, ...ops.children.map((o, i) => ({op: o.sourceString, value: values.children[i]!['operand']() as NftValue}))];
		},
	});

	// A selector as an operand is kept as its text (`meta mark`), a value as read.
	semantics.addOperation<NftValue>('operand', {
		// `ct mark set osf name map @m1`: the map is what decides the value.
		nftSetOperand_map(_e, _g, _kw, _g2, map) {
			return map['mapRef']() as NftValue;
		},
		nftSetOperand_expression(e) {
			return {v: 'concat', text: e.sourceString, atoms: [{a: 'name', text: e.sourceString}]};
		},
		nftSetOperand_value(v) {
			return v['value']() as NftValue;
		},
	});

	semantics.addOperation<{prefix?: string; level?: string; group?: number}>('logOption', {
		nftLogOption_prefix(_kw, _g, text) {
			return {prefix: unquote(text.sourceString)};
		},
		nftLogOption_level(_kw, _g, level) {
			return {level: level.sourceString};
		},
		nftLogOption_group(_kw, _g, n) {
			return {group: Number(n.sourceString)};
		},
		nftLogOption_number(_kw, _g, _n) {
			return {};
		},
		nftLogOption_flags(_kw, _g, _which) {
			return {};
		},
	});

	semantics.addOperation<string>('rejectWith', {
		nftRejectWith_icmp(proto, _g, _type, _g2, name) {
			return `${proto.sourceString === 'icmpv6' ? 'icmp6' : proto.sourceString}-${name.sourceString}`;
		},
		nftRejectWith_tcpReset(_tcp, _g, _reset) {
			return 'tcp-reset';
		},
	});
}
