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
import {kernelLogNames, kernelProtoName} from '../netfilter/protocols.js';
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
				switch (key) {
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
			case 'ip saddr':
			case 'ip6 saddr': {
				p.src = canonicalIp(v);
				p.family = key === 'ip saddr' ? 'ipv4' : 'ipv6';
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
			case 'ip protocol':
			case 'ip6 nexthdr':
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
