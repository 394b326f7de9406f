/**
 * IP addresses and prefixes: parsing, the one printed form, containment, private ranges.
 *
 * Input:  '198.19.88.69', '198.19.88.0/24', '2001:0db8:0250:0000:0000:0000:0000:0001', 'fd00::/8'
 * Output: canonicalIp('2001:0db8:0250:0000:0000:0000:0000:0001') === '2001:db8:250::1';
 *         inCidr('198.19.88.69', '198.19.88.0/24') === true; isPrivate('10.1.2.3') === true
 *
 * The kernel log prints IPv6 addresses in full; nft, iptables and tracewatch print them in RFC
 * 5952 form, so every address is compared and shown in that form.
 */

/** An address as a number with its family, or undefined when the text is not an address. */
export interface ParsedAddr {
	readonly v6: boolean;
	readonly value: bigint;
}

function parseV4(text: string): bigint | undefined {
	const parts = text.split('.');
	if (parts.length !== 4) return undefined;
	let value = 0n;
	for (const p of parts) {
		if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
		value = (value << 8n) | BigInt(Number(p));
	}
	return value;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or undefined. */
function v6Groups(text: string): number[] | undefined {
	const halves = text.split('::');
	if (halves.length > 2) return undefined;
	const head = halves[0] ? halves[0].split(':') : [];
	const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
	const last = (tail.length > 0 ? tail : head).at(-1);
	let v4: number[] = [];
	if (last?.includes('.')) {
		const n = parseV4(last);
		if (n === undefined) return undefined;
		v4 = [Number((n >> 16n) & 0xffffn), Number(n & 0xffffn)];
		(tail.length > 0 ? tail : head).pop();
	}
	const fill = 8 - head.length - tail.length - v4.length;
	if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
	const words = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
	const groups: number[] = [];
	for (const w of words) {
		if (!/^[\da-fA-F]{1,4}$/.test(w)) return undefined;
		groups.push(Number.parseInt(w, 16));
	}
	groups.push(...v4);
	return groups.length === 8 ? groups : undefined;
}

export function parseAddr(text: string): ParsedAddr | undefined {
	if (text.includes(':')) {
		const groups = v6Groups(text);
		if (!groups) return undefined;
		let value = 0n;
		for (const g of groups) value = (value << 16n) | BigInt(g);
		return {v6: true, value};
	}
	const v4 = parseV4(text);
	return v4 === undefined ? undefined : {v6: false, value: v4};
}

/**
 * An address in its one printed form: IPv6 in RFC 5952 form (lower case, zeros dropped, the
 * longest run of zero groups as `::`); IPv4 and anything that is not an address as written.
 */
export function canonicalIp(addr: string): string {
	if (!addr.includes(':')) return addr;
	const groups = v6Groups(addr);
	if (!groups) return addr;
	const words = groups.map(g => g.toString(16));
	// Longest run of two or more zero groups becomes "::" (the first, on a tie).
	let bestStart = -1;
	let bestLen = 1;
	for (let i = 0; i < 8; ) {
		if (words[i] !== '0') {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && words[j] === '0') j++;
		if (j - i > bestLen) {
			bestStart = i;
			bestLen = j - i;
		}
		i = j;
	}
	if (bestStart === -1) return words.join(':');
	return `${words.slice(0, bestStart).join(':')}::${words.slice(bestStart + bestLen).join(':')}`;
}

/** A prefix: `a.b.c.d/n`, `x::/n`, or a bare address (/32, /128). */
export interface Cidr {
	readonly v6: boolean;
	readonly value: bigint;
	readonly bits: number;
}

export function parseCidr(text: string): Cidr | undefined {
	const slash = text.indexOf('/');
	const a = parseAddr(slash === -1 ? text : text.slice(0, slash));
	if (!a) return undefined;
	const width = a.v6 ? 128 : 32;
	if (slash === -1) return {...a, bits: width};
	const rest = text.slice(slash + 1);
	if (/^\d{1,3}$/.test(rest)) {
		const bits = Number(rest);
		return bits <= width ? {...a, bits} : undefined;
	}
	// iptables -S prints IPv4 masks as prefix lengths, but hand-written rules may carry a dotted mask.
	const mask = parseV4(rest);
	if (a.v6 || mask === undefined) return undefined;
	const bits = mask.toString(2).padStart(32, '0').indexOf('0');
	const n = bits === -1 ? 32 : bits;
	return (mask >> BigInt(32 - n)) << BigInt(32 - n) === mask ? {...a, bits: n} : undefined;
}

/** Is `addr` inside `cidr` (text or parsed)? Different families never are. */
export function inCidr(addr: string | ParsedAddr, cidr: string | Cidr): boolean {
	const a = typeof addr === 'string' ? parseAddr(addr) : addr;
	const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
	if (!a || !c || a.v6 !== c.v6) return false;
	const shift = BigInt((a.v6 ? 128 : 32) - c.bits);
	return a.value >> shift === c.value >> shift;
}

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '198.18.0.0/15', 'fc00::/7', 'fe80::/10', '2001:db8::/32'].map(c => parseCidr(c)!);

/**
 * Addresses a router on the way would not know how to reach unless told: RFC 1918, CGNAT
 * (Tailscale), link-local, benchmarking and documentation ranges, IPv6 ULA.
 */
export function isPrivate(addr: string): boolean {
	const a = parseAddr(addr);
	return a !== undefined && PRIVATE.some(c => inCidr(a, c));
}

/** `10.0.0.1:80`, `[2001:db8::1]:80`, or the bare address when there is no port; '' when there is no address. */
export function endpoint(addr: string | undefined, port: number | undefined): string {
	if (!addr) return '';
	if (port === undefined) return addr;
	return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * The solicited-node multicast address of an IPv6 address (RFC 4291 2.7.1: ff02::1:ff00:0/104
 * and its low 24 bits), to which a neighbour solicitation for it is sent; undefined for IPv4.
 */
export function solicitedNode(addr: string): string | undefined {
	const a = parseAddr(addr);
	if (!a?.v6) return undefined;
	const low = a.value & 0xffffffn;
	return canonicalIp(`ff02::1:ff${((low >> 16n) & 0xffn).toString(16).padStart(2, '0')}:${(low & 0xffffn).toString(16)}`);
}
