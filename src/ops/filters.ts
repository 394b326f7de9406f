/**
 * What to trace: the command-line filters, checked before anything touches the firewall.
 *
 * Input:  {src: '198.18.0.1', proto: 'tcp', dport: '443'}   (strings as typed)
 * Output: {family: 'ipv4', src: '198.18.0.1/32', proto: 'tcp', dport: '443', …}
 *
 * Every value ends up as an argument of an iptables command, so each is checked against a
 * strict pattern here: nothing the user types can add an option to the command.
 */
import {isIPv4, isIPv6} from 'node:net';
import {protoNumber} from '../netfilter/protocols.js';

export type IpFamily = 'ipv4' | 'ipv6';

export class FilterError extends Error {}

export interface TraceFilter {
	readonly family: IpFamily;
	/** CIDR with an explicit prefix length. */
	readonly src?: string;
	readonly dst?: string;
	/** As iptables names it for the family: tcp, udp, icmp, ipv6-icmp, sctp, … or a number. */
	readonly proto?: string;
	/** Port or `lo:hi` range. */
	readonly dport?: string;
	readonly sport?: string;
	/** Interface name; `eth+` matches every eth*. In PREROUTING it is `-i`, in OUTPUT `-o`. */
	readonly iface?: string;
	/** Also trace the way back: src/dst and sport/dport swapped. */
	readonly both: boolean;
}

export interface RateLimit {
	/** iptables `--limit` value, e.g. `10/second`; undefined when not limited. */
	readonly rate?: string;
	readonly burst?: number;
}

export interface FilterInput {
	src?: string | undefined;
	dst?: string | undefined;
	proto?: string | undefined;
	dport?: string | undefined;
	sport?: string | undefined;
	iface?: string | undefined;
	ipv6?: boolean | undefined;
	both?: boolean | undefined;
}

function cidr(value: string, flag: string): {family: IpFamily; cidr: string} {
	const [addr = '', len, ...extra] = value.split('/');
	if (extra.length > 0) throw new FilterError(`${flag} must be an address or CIDR such as 198.18.0.1 or 2001:db8::/64, not "${value}"`);
	const family: IpFamily | undefined = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
	if (!family) {
		throw new FilterError(
			`${flag} must be an address or CIDR such as 198.18.0.1 or 2001:db8::/64, not "${value}"${/[a-z]/i.test(addr) && !addr.includes(':') ? ' (host names are not resolved: give the address)' : ''}`,
		);
	}
	const max = family === 'ipv4' ? 32 : 128;
	if (len !== undefined && (!/^\d{1,3}$/.test(len) || Number(len) > max)) throw new FilterError(`${flag}: prefix length must be 0 to ${max}, not "/${len}"`);
	return {family, cidr: `${addr}/${len ?? max}`};
}

const PORT_PROTOS = new Set(['tcp', 'udp', 'sctp', 'dccp']);

function proto(value: string, family: IpFamily): string {
	const p = value.toLowerCase();
	if (/^\d{1,3}$/.test(p) && Number(p) <= 255) return p;
	if (p !== 'all' && protoNumber(p) === undefined) throw new FilterError(`-p must be tcp, udp, icmp, icmpv6, sctp, dccp, udplite, esp, ah, gre, all or a protocol number, not "${value}"`);
	if (family === 'ipv6' && p === 'icmp') return 'ipv6-icmp';
	if (family === 'ipv6' && p === 'icmpv6') return 'ipv6-icmp';
	if (family === 'ipv4' && (p === 'icmpv6' || p === 'ipv6-icmp')) throw new FilterError(`-p ${value} is IPv6: add --ipv6 (and IPv6 addresses)`);
	return p;
}

function port(value: string, flag: string): string {
	const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(value);
	const lo = m ? Number(m[1]) : -1;
	const hi = m?.[2] === undefined ? lo : Number(m[2]);
	if (!m || lo < 0 || hi > 65535 || lo > hi) throw new FilterError(`${flag} must be a port (0-65535) or a range such as 8000:8080, not "${value}"`);
	return value;
}

function iface(value: string): string {
	if (!/^[A-Za-z0-9_.:@-]{1,15}\+?$/.test(value) || value.startsWith('-')) throw new FilterError(`--iface must be an interface name (up to 15 characters, "eth+" for every eth*), not "${value}"`);
	return value;
}

/** Checks the filter options and works out the family (from --ipv6 or the addresses given). */
export function parseFilter(input: FilterInput): TraceFilter {
	const src = input.src === undefined ? undefined : cidr(input.src, '--src');
	const dst = input.dst === undefined ? undefined : cidr(input.dst, '--dst');
	const families = new Set([src?.family, dst?.family].filter((f): f is IpFamily => f !== undefined));
	if (families.size > 1) throw new FilterError('--src and --dst are of different address families');
	const fromAddr = [...families][0];
	if (input.ipv6 && fromAddr === 'ipv4') throw new FilterError('--ipv6 was given with an IPv4 address');
	const family: IpFamily = input.ipv6 || fromAddr === 'ipv6' ? 'ipv6' : 'ipv4';
	const p = input.proto === undefined ? undefined : proto(input.proto, family);
	const dport = input.dport === undefined ? undefined : port(input.dport, '--dport');
	const sport = input.sport === undefined ? undefined : port(input.sport, '--sport');
	if ((dport !== undefined || sport !== undefined) && (p === undefined || !PORT_PROTOS.has(p))) {
		throw new FilterError(`${dport !== undefined ? '--dport' : '--sport'} needs -p tcp, udp, sctp or dccp`);
	}
	return {
		family,
		...(src ? {src: src.cidr} : {}),
		...(dst ? {dst: dst.cidr} : {}),
		...(p !== undefined ? {proto: p} : {}),
		...(dport !== undefined ? {dport} : {}),
		...(sport !== undefined ? {sport} : {}),
		...(input.iface !== undefined ? {iface: iface(input.iface)} : {}),
		both: Boolean(input.both),
	};
}

/** True when the filter selects nothing: every packet of the family would be traced. */
export function isUnfiltered(f: TraceFilter): boolean {
	return f.src === undefined && f.dst === undefined && (f.proto === undefined || f.proto === 'all') && f.dport === undefined && f.sport === undefined && f.iface === undefined;
}

/** `TCP from 198.18.0.1/32 to port 443 (and back)` */
export function describeFilter(f: TraceFilter): string {
	const parts: string[] = [];
	parts.push(f.proto && f.proto !== 'all' ? f.proto.toUpperCase() : f.family === 'ipv6' ? 'all IPv6' : 'all IPv4');
	if (f.src) parts.push(`from ${f.src}`);
	if (f.sport) parts.push(`source port ${f.sport}`);
	if (f.dst) parts.push(`to ${f.dst}`);
	if (f.dport) parts.push(f.dst ? `port ${f.dport}` : `to port ${f.dport}`);
	if (f.iface) parts.push(`via ${f.iface}`);
	if (f.both) parts.push('(and the way back)');
	return parts.join(' ');
}

const RATE_UNITS: Record<string, string> = {s: 'second', sec: 'second', second: 'second', m: 'minute', min: 'minute', minute: 'minute', h: 'hour', hour: 'hour', d: 'day', day: 'day'};

/** `--limit 10/s` → {rate: '10/second', burst: 20}; `none` → no limit. Burst defaults to twice the rate (5 to 10000). */
export function parseLimit(value: string | undefined, burst: string | undefined): RateLimit {
	if (value === 'none' || value === '0') {
		if (burst !== undefined) throw new FilterError('--burst needs a --limit');
		return {};
	}
	const m = /^(\d{1,5})\/([a-z]+)$/.exec(value ?? '10/s');
	const unit = m ? RATE_UNITS[m[2]!] : undefined;
	const n = m ? Number(m[1]) : 0;
	if (!m || !unit || n < 1 || (unit === 'second' && n > 10000)) throw new FilterError(`--limit must be N/s, N/min, N/hour or N/day (N/s at most 10000/s), or "none", not "${value}"`);
	let b = Math.min(10000, Math.max(5, 2 * n));
	if (burst !== undefined) {
		if (!/^\d{1,5}$/.test(burst) || Number(burst) < 1 || Number(burst) > 10000) throw new FilterError(`--burst must be 1 to 10000, not "${burst}"`);
		b = Number(burst);
	}
	return {rate: `${n}/${unit}`, burst: b};
}

/** `90`, `90s`, `5m`, `1h`, `1h30m` → milliseconds; `0` means no time limit. */
export function parseDuration(value: string, flag = '--for'): number {
	const v = value.trim();
	if (/^\d+$/.test(v)) return Number(v) * 1000;
	const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
	let total = 0;
	let matched = 0;
	for (const m of v.matchAll(re)) {
		const n = Number(m[1]);
		total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
		matched += m[0].length;
	}
	if (v === '' || matched !== v.length) throw new FilterError(`${flag} must be a duration such as 60s, 5m or 1h (0: until stopped), not "${value}"`);
	return Math.round(total);
}

export function formatDuration(ms: number): string {
	if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
	if (ms % 60_000 === 0) return `${ms / 60_000}m`;
	if (ms % 1000 === 0) return `${ms / 1000}s`;
	return `${ms}ms`;
}
