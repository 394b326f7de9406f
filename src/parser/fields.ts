/**
 * Turns the field lists the grammar matched into a PacketFields record.
 *
 * The kernel repeats keys (LEN, ID, SEQ) and their meaning depends on position: the first LEN is
 * the IP length, a LEN after PROTO=UDP is the UDP length; an ID after PROTO=ICMP is the echo id.
 * The grammar matches the list; this walk gives each field its meaning.
 *
 * Input:  [{k:'kv',key:'SRC',value:'10.0.0.1'}, …, {k:'kv',key:'PROTO',value:'ICMP'}, {k:'kv',key:'ID',value:'7'}]
 * Output: {family:'ipv4', src:'10.0.0.1', …, proto:'ICMP', icmp:{type:…, id:7}}
 */
import {canonicalIp} from '../netfilter/addr.js';
import {icmpCodeNumber, icmpTypeNumber, isIcmpError} from '../netfilter/icmp.js';
import {ipv6ExtensionHeader, kernelLogNames, kernelProtoName} from '../netfilter/protocols.js';
import type {Family, IcmpInfo, PacketFields} from './types.js';

/** One field as the grammar matched it. */
export type RawField =
	| {readonly k: 'kv'; readonly key: string; readonly value: string}
	| {readonly k: 'flag'; readonly text: string}
	| {readonly k: 'quoted'; readonly fields: readonly RawField[]; readonly closed: boolean}
	| {readonly k: 'options'; readonly text: string; readonly closed: boolean}
	| {readonly k: 'incomplete'; readonly bytes: number}
	| {readonly k: 'fragment'; readonly offset: number}
	| {readonly k: 'unknownExt'; readonly header: number};

const TCP_FLAGS = new Set(['AE', 'CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN']);
const IP_FLAGS = new Set(['CE', 'DF', 'MF']);
const LINK_KEYS: Record<string, 'in' | 'out' | 'physin' | 'physout' | 'mac' | 'macsrc' | 'macdst'> = {
	IN: 'in',
	OUT: 'out',
	PHYSIN: 'physin',
	PHYSOUT: 'physout',
	MAC: 'mac',
	MACSRC: 'macsrc',
	MACDST: 'macdst',
};

export {canonicalIp} from '../netfilter/addr.js';

function num(value: string): number | undefined {
	if (value === '') return undefined;
	const n = value.startsWith('0x') || value.startsWith('0X') ? Number.parseInt(value.slice(2), 16) : Number(value);
	return Number.isFinite(n) ? n : undefined;
}

function extra(p: PacketFields, key: string, value: string): void {
	p.extra ??= {};
	// A key seen twice where tracewatch expects it once: keep both, the second with a suffix.
	let name = key;
	for (let i = 2; name in p.extra; i++) name = `${key}#${i}`;
	p.extra[name] = value;
}

/** Words the kernel prints on their own after a field (flags), never as a field's value. */
const BARE_WORDS = new Set([...IP_FLAGS, ...TCP_FLAGS, 'TRUNCATED', 'ARP']);

/**
 * The field list as the kernel wrote it, when a paste or a column alignment put spaces inside a
 * field: `SRC=     110.110.110.108` is matched as `SRC=` (empty) and a stray word, and is read
 * as `SRC=110.110.110.108`; `OPT (0204     05B4…)` as `OPT (020405B4…)`. The kernel never
 * follows an empty field with a word of its own (an empty IN=, OUT= or MAC= is followed by the
 * next KEY=), so only words that are no kernel flag are taken back into the field before them.
 */
function unspaced(fields: readonly RawField[]): readonly RawField[] {
	let out: RawField[] | undefined;
	for (let i = 0; i < fields.length; i++) {
		const f = fields[i]!;
		const next = fields[i + 1];
		if (f.k === 'kv' && f.value === '' && next?.k === 'flag' && !BARE_WORDS.has(next.text)) {
			(out ??= fields.slice(0, i)).push({k: 'kv', key: f.key, value: next.text});
			i++;
			continue;
		}
		if (f.k === 'options' && /\s/.test(f.text) && /^[\s0-9A-Fa-f]*[0-9A-Fa-f][\s0-9A-Fa-f]*$/.test(f.text)) {
			(out ??= fields.slice(0, i)).push({...f, text: f.text.replace(/\s+/g, '')});
			continue;
		}
		out?.push(f);
	}
	return out ?? fields;
}

/** Interprets the kernel's (nf_log_syslog.c) and xtables-monitor's KEY=value field list. */
export function interpretFields(raw: readonly RawField[], nested = false): PacketFields {
	const fields = unspaced(raw);
	const p: PacketFields = {family: 'unknown'};
	let stage: 'link' | 'ip' | 'l4' | 'tail' = 'link';
	const icmp: {type?: number; code?: number; id?: number; seq?: number; mtu?: number; gateway?: string; parameter?: number} = {};
	let sawIcmp = false;
	let linkHeaderNext = false;
	// nf_log's ARP header (dump_arp_packet: the arp and bridge families' LOG): `ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=… IPSRC=… MACDST=… IPDST=…`.
	let arp: {op?: number; htype?: number; ptype?: number; sha?: string; tha?: string} | undefined;

	for (const f of fields) {
		switch (f.k) {
			case 'quoted': {
				p.quoted = interpretFields(f.fields, true);
				if (!f.closed) p.cut = true;
				break;
			}
			case 'options': {
				if (!f.closed) p.cut = true;
				extra(p, stage === 'l4' ? 'OPT' : 'IPOPT', f.text);
				break;
			}
			case 'incomplete': {
				p.incomplete = f.bytes;
				break;
			}
			case 'fragment': {
				p.fragOffset = f.offset;
				break;
			}
			case 'unknownExt': {
				extra(p, 'EXTHDR', String(f.header));
				break;
			}
			case 'flag': {
				const t = f.text;
				if (t === 'ARP' && stage === 'link' && !nested) {
					arp = {};
					p.proto = 'ARP';
					stage = 'ip';
					break;
				}
				if (linkHeaderNext) {
					// xtables-monitor's bridge family after POSTROUTING: `LL=0x0 <the link header in hex>`.
					linkHeaderNext = false;
					const ll = linkHeader(t);
					if (ll) {
						p.macdst ??= ll.macdst;
						p.macsrc ??= ll.macsrc;
						p.ethertype ??= ll.ethertype;
						break;
					}
				}
				if (stage !== 'l4' && IP_FLAGS.has(t)) (p.ipFlags ??= []).push(t);
				else if (TCP_FLAGS.has(t) && (p.proto === 'TCP' || p.proto === undefined)) (p.tcpFlags ??= []).push(t);
				else if (t === 'TRUNCATED') p.cut = true;
				else extra(p, t, '');
				break;
			}
			case 'kv': {
				const {key, value} = f;
				const link = LINK_KEYS[key];
				if (link && stage === 'link') {
					p[link] = value;
					break;
				}
				if (arp) {
					const done = arpField(arp, p, key, value);
					if (done) break;
				}
				switch (key) {
					case 'MACPROTO': {
						// --log-macdecode and xtables-monitor: the Ethernet type, in hex without 0x.
						const n = Number.parseInt(value, 16);
						if (Number.isFinite(n)) p.ethertype = n;
						else extra(p, key, value);
						break;
					}
					case 'LL': {
						linkHeaderNext = true;
						extra(p, key, value);
						break;
					}
					case 'NH': {
						// xtables-monitor's bridge family (nfproto 7): the network header as hex bytes, not as fields.
						const header = networkHeader(value, p.ethertype);
						if (header) Object.assign(p, header);
						else extra(p, key, value);
						break;
					}
					case 'SRC':
					case 'DST': {
						if (stage === 'l4' || stage === 'tail') {
							extra(p, key, value);
							break;
						}
						stage = 'ip';
						if (key === 'SRC') p.src = canonicalIp(value);
						else p.dst = canonicalIp(value);
						if (p.family === 'unknown') p.family = value.includes(':') ? 'ipv6' : value.includes('.') ? 'ipv4' : 'unknown';
						break;
					}
					case 'LEN': {
						if (stage === 'l4' && (p.proto === 'UDP' || p.proto === 'UDPLITE')) p.udpLen = num(value);
						else if (p.len === undefined) p.len = num(value);
						else extra(p, key, value);
						break;
					}
					case 'TOS':
					case 'PREC': {
						if (key === 'TOS') p.tos = num(value);
						break;
					}
					case 'TC': {
						p.tc = num(value);
						break;
					}
					case 'TTL':
					case 'HOPLIMIT': {
						p.ttl = num(value);
						break;
					}
					case 'FLOWLBL': {
						p.flowLabel = num(value);
						break;
					}
					case 'ID': {
						if (stage === 'l4' && sawIcmp) {
							icmp.id = num(value);
						} else if (p.ipId === undefined) {
							// xtables-monitor before 1.8.9 printed "ID=43254DF": no space before the flag.
							const glued = /^(\d+)(DF|MF|CE)$/.exec(value);
							if (glued) {
								p.ipId = Number(glued[1]);
								(p.ipFlags ??= []).push(glued[2]!);
							} else {
								p.ipId = num(value);
							}
						} else {
							extra(p, key, value);
						}
						break;
					}
					case 'PROTO': {
						stage = 'l4';
						p.proto = value;
						if (p.family === 'unknown') p.family = value === 'ICMPv6' ? 'ipv6' : 'ipv4';
						if (value === 'ICMP' || value === 'ICMPv6') sawIcmp = true;
						break;
					}
					case 'SPT':
					case 'SPORT': {
						p.spt = num(value);
						break;
					}
					case 'DPT':
					case 'DPORT': {
						p.dpt = num(value);
						break;
					}
					case 'SEQ': {
						if (sawIcmp) icmp.seq = num(value);
						else p.seq = num(value);
						break;
					}
					case 'ACK': {
						p.ack = num(value);
						break;
					}
					case 'URGP': {
						p.urgp = num(value);
						break;
					}
					case 'WINDOW': {
						p.window = num(value);
						break;
					}
					case 'TYPE': {
						if (sawIcmp) icmp.type = num(value);
						else extra(p, key, value);
						break;
					}
					case 'CODE': {
						if (sawIcmp) icmp.code = num(value);
						else extra(p, key, value);
						break;
					}
					case 'MTU': {
						icmp.mtu = num(value);
						break;
					}
					case 'GATEWAY': {
						icmp.gateway = value;
						break;
					}
					case 'PARAMETER':
					case 'POINTER': {
						icmp.parameter = num(value);
						break;
					}
					case 'UID': {
						stage = 'tail';
						p.uid = num(value);
						break;
					}
					case 'GID': {
						p.gid = num(value);
						break;
					}
					case 'MARK': {
						p.mark = value;
						break;
					}
					default: {
						extra(p, key, value);
					}
				}
				break;
			}
		}
	}

	if (sawIcmp && icmp.type !== undefined) {
		const info: IcmpInfo = {type: icmp.type, ...pick(icmp)};
		p.icmp = info;
	}
	if (nested) delete p.uid;
	if (arp?.op !== undefined) p.arp = {op: arp.op, ...(arp.htype === undefined ? {} : {htype: arp.htype}), ...(arp.ptype === undefined ? {} : {ptype: arp.ptype}), ...(arp.sha ? {sha: arp.sha} : {}), ...(arp.tha ? {tha: arp.tha} : {})};
	return p;
}

function pick(icmp: {code?: number; id?: number; seq?: number; mtu?: number; gateway?: string; parameter?: number}): Omit<IcmpInfo, 'type'> {
	const out: {code?: number; id?: number; seq?: number; mtu?: number; gateway?: string; parameter?: number} = {};
	if (icmp.code !== undefined) out.code = icmp.code;
	if (icmp.id !== undefined) out.id = icmp.id;
	if (icmp.seq !== undefined) out.seq = icmp.seq;
	if (icmp.mtu !== undefined) out.mtu = icmp.mtu;
	if (icmp.gateway !== undefined) out.gateway = icmp.gateway;
	if (icmp.parameter !== undefined) out.parameter = icmp.parameter;
	return out;
}

// ---- nft monitor trace packet lines ---------------------------------------------------------

const NFT_TCP_FLAGS: Record<string, string> = {fin: 'FIN', syn: 'SYN', rst: 'RST', psh: 'PSH', ack: 'ACK', urg: 'URG', ecn: 'ECE', ece: 'ECE', cwr: 'CWR'};
const NFT_TCP_FLAG_BITS: Array<[number, string]> = [
	[0x80, 'CWR'],
	[0x40, 'ECE'],
	[0x20, 'URG'],
	[0x10, 'ACK'],
	[0x08, 'PSH'],
	[0x04, 'RST'],
	[0x02, 'SYN'],
	[0x01, 'FIN'],
];

function unquote(v: string): string {
	return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/**
 * A protocol as nft prints it (`tcp`, `ipv6-icmp`, or a number when it has no name for it) in
 * the kernel log's spelling, tracewatch's own (Packet.proto): a number stays a number unless the
 * kernel log names that protocol; a name tracewatch does not know is kept, in capitals.
 */
function protoName(v: string): string {
	if (/^\d+$/.test(v) && !kernelLogNames(Number(v))) return v;
	return kernelProtoName(v) ?? v.toUpperCase();
}

function tcpFlags(v: string): string[] {
	const t = v.replace(/^\(|\)$/g, '').trim();
	if (/^0x[\da-f]+$/i.test(t) || /^\d+$/.test(t)) {
		const bits = num(t) ?? 0;
		return NFT_TCP_FLAG_BITS.filter(([b]) => bits & b).map(([, n]) => n);
	}
	return t
		.split(/\s*[|,]\s*/)
		.map(s => NFT_TCP_FLAGS[s] ?? s.toUpperCase())
		.filter(Boolean);
}

/** Interprets the `selector value` items of an nft trace `packet:` line. */
export function interpretNftItems(items: ReadonlyArray<readonly [string, string]>, family: Family): PacketFields {
	const p: PacketFields = {family: family === 'ipv6' ? 'ipv6' : family === 'ipv4' ? 'ipv4' : 'unknown'};
	const icmp: {type?: number; code?: number; id?: number; seq?: number; mtu?: number} = {};
	let sawIcmp = false;
	for (const [key, raw] of items) {
		const v = unquote(raw);
		switch (key) {
			case 'iif':
			case 'iifname': {
				p.in = v;
				break;
			}
			case 'oif':
			case 'oifname': {
				p.out = v;
				break;
			}
			case 'ether saddr': {
				p.macsrc = v;
				break;
			}
			case 'ether daddr': {
				p.macdst = v;
				break;
			}
			case 'ether type': {
				p.ethertype = ETHER_TYPES[v] ?? num(v);
				break;
			}
			case 'arp operation': {
				// nft's bridge (and arp) family: an ARP frame, which it prints with no addresses.
				p.proto = 'ARP';
				p.ethertype ??= 0x0806;
				const op = ARP_OPERATIONS[v] ?? num(v);
				if (op !== undefined) p.arp = {op};
				break;
			}
			case 'ip saddr':
			case 'ip6 saddr': {
				p.src = canonicalIp(v);
				p.family = key === 'ip saddr' ? 'ipv4' : 'ipv6';
				if (p.macsrc !== undefined) p.ethertype ??= key === 'ip saddr' ? 0x0800 : 0x86dd;
				break;
			}
			case 'ip daddr':
			case 'ip6 daddr': {
				p.dst = canonicalIp(v);
				break;
			}
			case 'ip ttl':
			case 'ip6 hoplimit': {
				p.ttl = num(v);
				break;
			}
			case 'ip id': {
				p.ipId = num(v);
				break;
			}
			case 'ip length':
			case 'ip6 length': {
				p.len = num(v);
				break;
			}
			case 'ip6 flowlabel': {
				p.flowLabel = num(v);
				break;
			}
			case 'ip6 nexthdr': {
				// An extension header is not the packet's protocol: nft names protocol 0 (hop-by-hop) `ip`.
				const ext = ipv6ExtensionHeader(v);
				if (ext) p.extHeader = ext;
				else p.proto = protoName(v);
				break;
			}
			case 'ip protocol':
			case 'meta l4proto': {
				p.proto = protoName(v);
				break;
			}
			case 'tcp sport':
			case 'udp sport':
			case 'udplite sport':
			case 'sctp sport': {
				p.spt = num(v);
				p.proto ??= key.split(' ')[0]!.toUpperCase();
				break;
			}
			case 'tcp dport':
			case 'udp dport':
			case 'udplite dport':
			case 'sctp dport': {
				p.dpt = num(v);
				p.proto ??= key.split(' ')[0]!.toUpperCase();
				break;
			}
			case 'tcp flags': {
				p.tcpFlags = tcpFlags(raw);
				break;
			}
			case 'tcp window': {
				p.window = num(v);
				break;
			}
			case 'tcp sequence': {
				p.seq = num(v);
				break;
			}
			case 'tcp ackseq': {
				p.ack = num(v);
				break;
			}
			case 'udp length': {
				p.udpLen = num(v);
				break;
			}
			case 'icmp type':
			case 'icmpv6 type': {
				sawIcmp = true;
				const proto = key === 'icmp type' ? 'ICMP' : 'ICMPv6';
				p.proto = proto;
				icmp.type = icmpTypeNumber(proto, v) ?? num(v);
				break;
			}
			case 'icmp code':
			case 'icmpv6 code': {
				icmp.code = icmpCodeNumber(v) ?? num(v);
				break;
			}
			case 'icmp id':
			case 'icmpv6 id': {
				icmp.id = num(v);
				break;
			}
			case 'icmp sequence':
			case 'icmpv6 sequence': {
				icmp.seq = num(v);
				break;
			}
			case 'icmp mtu':
			case 'icmpv6 mtu': {
				icmp.mtu = num(v);
				break;
			}
			case 'meta mark': {
				p.mark = v;
				break;
			}
			default: {
				extra(p, key, v);
			}
		}
	}
	if (sawIcmp && icmp.type !== undefined) {
		if (isIcmpError(p.proto === 'ICMP' ? 'ICMP' : 'ICMPv6', icmp.type)) {
			// nft decodes bytes 4–7 of every ICMP header as id and sequence; in an error they are
			// unused, or hold the next-hop MTU (bytes 6–7 for frag-needed, 4–7 for packet-too-big).
			if (p.proto === 'ICMP' && icmp.type === 3 && icmp.code === 4 && icmp.seq !== undefined) icmp.mtu ??= icmp.seq;
			delete icmp.id;
			delete icmp.seq;
			const raw = items.find(([k]) => k === '@th,64,96')?.[1];
			if (raw && p.proto === 'ICMP') {
				const q = quotedFromRaw(raw);
				if (q) p.quoted = q;
			}
		}
		p.icmp = {type: icmp.type, ...pick(icmp)};
	}
	return p;
}

/** A field of nf_log's ARP header: the operation, and the sender's and target's addresses. False when the key is not one of them. */
function arpField(arp: {op?: number; htype?: number; ptype?: number; sha?: string; tha?: string}, p: PacketFields, key: string, value: string): boolean {
	switch (key) {
		case 'HTYPE':
			arp.htype = num(value);
			return true;
		case 'PTYPE':
			arp.ptype = num(value);
			return true;
		case 'OPCODE':
			arp.op = num(value);
			return true;
		case 'MACSRC':
			arp.sha = value;
			return true;
		case 'MACDST':
			arp.tha = value;
			return true;
		case 'IPSRC':
			p.src = canonicalIp(value);
			return true;
		case 'IPDST':
			p.dst = canonicalIp(value);
			return true;
		default:
			return false;
	}
}

/** Ethernet types by the names nft prints them with. */
const ETHER_TYPES: Readonly<Record<string, number>> = {ip: 0x0800, arp: 0x0806, ip6: 0x86dd, vlan: 0x8100, '8021ad': 0x88a8};
const ARP_OPERATIONS: Readonly<Record<string, number>> = {request: 1, reply: 2, 'rrequest': 3, 'rreply': 4, 'inrequest': 8, 'inreply': 9, nak: 10};

/** xtables-monitor's bytes in hex, each byte from 0x80 up sign-extended to eight digits (`ffffffc6` for 0xc6). */
function signExtendedBytes(text: string): number[] | undefined {
	const bytes: number[] = [];
	for (let i = 0; i < text.length; ) {
		const c = text[i]!;
		if (c >= '0' && c <= '7' && i + 2 <= text.length && /^[\da-f]$/i.test(text[i + 1]!)) {
			bytes.push(Number.parseInt(text.slice(i, i + 2), 16));
			i += 2;
		} else if (text.startsWith('ffffff', i) && i + 8 <= text.length && /^[89a-f][\da-f]$/i.test(text.slice(i + 6, i + 8))) {
			bytes.push(Number.parseInt(text.slice(i + 6, i + 8), 16));
			i += 8;
		} else return undefined;
	}
	return bytes;
}

/** The Ethernet header xtables-monitor prints after `LL=0x0` (destination, source, type). */
function linkHeader(text: string): {macdst: string; macsrc: string; ethertype: number} | undefined {
	const bytes = signExtendedBytes(text);
	if (!bytes || bytes.length !== 14) return undefined;
	const mac = (i: number) => bytes.slice(i, i + 6).map(b => b.toString(16).padStart(2, '0')).join(':');
	return {macdst: mac(0), macsrc: mac(6), ethertype: (bytes[12]! << 8) | bytes[13]!};
}

/**
 * The network header xtables-monitor prints for the bridge family (`NH=4500005410…`): the bytes
 * in hex, each byte from 0x80 up sign-extended to eight digits (`ffffffc6` for 0xc6), as its
 * printf of a char makes them. Read back as the fields of an IPv4, IPv6 or ARP header.
 */
export function networkHeader(text: string, ethertype: number | undefined): Partial<PacketFields> | undefined {
	const bytes = signExtendedBytes(text);
	if (!bytes) return undefined;
	const b = (i: number) => bytes[i] ?? 0;
	const word = (i: number) => (b(i) << 8) | b(i + 1);
	const v4 = (i: number) => `${b(i)}.${b(i + 1)}.${b(i + 2)}.${b(i + 3)}`;
	if ((ethertype === 0x0800 || ethertype === undefined) && bytes.length >= 20 && b(0) >> 4 === 4) {
		const flags = b(6);
		return {
			src: v4(12), dst: v4(16), len: word(2), tos: b(1), ttl: b(8), ipId: word(4), proto: protoName(String(b(9))),
			...(flags & 0x40 ? {ipFlags: ['DF']} : {}),
		};
	}
	if ((ethertype === 0x86dd || ethertype === undefined) && bytes.length >= 40 && b(0) >> 4 === 6) {
		const v6 = (i: number) => canonicalIp(Array.from({length: 8}, (_, k) => word(i + k * 2).toString(16)).join(':'));
		return {src: v6(8), dst: v6(24), len: word(4) + 40, ttl: b(7), proto: protoName(String(b(6))), flowLabel: ((b(1) & 0x0f) << 16) | word(2)};
	}
	if (ethertype === 0x0806 && bytes.length >= 8) {
		const arp = {op: word(6), htype: word(0), ptype: word(2)};
		// Ethernet and IPv4 lengths: the sender and target addresses follow.
		if (b(4) === 6 && b(5) === 4 && bytes.length >= 28) return {proto: 'ARP', src: v4(14), dst: v4(24), arp};
		return {proto: 'ARP', arp};
	}
	return undefined;
}

/**
 * The raw payload expression nft prints after an ICMP header (`@th,64,96 0x450005dc3bc3…`) is
 * the first 12 bytes of the packet an ICMP error quotes: its IPv4 length, id, flags, TTL and protocol.
 */
function quotedFromRaw(raw: string): PacketFields | undefined {
	const hex = raw.replace(/^0x/i, '').padStart(24, '0');
	if (!/^[\da-f]{24}$/i.test(hex) || hex[0] !== '4') return undefined;
	const byte = (i: number) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	const flags = byte(6);
	const protoNumber = byte(9);
	const q: PacketFields = {family: 'ipv4', len: (byte(2) << 8) | byte(3), ipId: (byte(4) << 8) | byte(5), ttl: byte(8), proto: protoName(String(protoNumber))};
	if (flags & 0x40) q.ipFlags = ['DF'];
	q.cut = true;
	return q;
}
