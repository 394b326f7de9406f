/**
 * Addresses and prefixes: parsing, containment, and which ranges are private.
 *
 * Input:  '198.19.88.69', '198.19.88.0/24', '2001:db8:250::1', 'fd00::/8'
 * Output: inCidr('198.19.88.69', '198.19.88.0/24') === true; isPrivate('10.1.2.3') === true
 */

/** An address as a bigint with its family, or undefined when the text is not an address. */
export function parseAddr(text: string): {v6: boolean; value: bigint} | undefined {
	if (text.includes(':')) {
		const halves = text.split('::');
		if (halves.length > 2) return undefined;
		const head = halves[0] ? halves[0].split(':') : [];
		const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
		let extra: string[] = [];
		const last = (tail.length > 0 ? tail : head).at(-1);
		if (last?.includes('.')) {
			const v4 = parseAddr(last);
			if (!v4 || v4.v6) return undefined;
			extra = [((v4.value >> 16n) & 0xffffn).toString(16), (v4.value & 0xffffn).toString(16)];
			(tail.length > 0 ? tail : head).pop();
		}
		const fill = 8 - head.length - tail.length - extra.length;
		if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
		const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail, ...extra];
		let value = 0n;
		for (const g of groups) {
			if (!/^[\da-f]{1,4}$/i.test(g)) return undefined;
			value = (value << 16n) | BigInt(Number.parseInt(g, 16));
		}
		return {v6: true, value};
	}
	const parts = text.split('.');
	if (parts.length !== 4) return undefined;
	let value = 0n;
	for (const p of parts) {
		if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
		value = (value << 8n) | BigInt(Number(p));
	}
	return {v6: false, value};
}

/** `addr` is inside `cidr` (`a.b.c.d/n`, `x::/n`, or a bare address meaning /32 or /128). */
export function inCidr(addr: string, cidr: string): boolean {
	const [net, bits] = cidr.split('/');
	const a = parseAddr(addr);
	const n = parseAddr(net ?? '');
	if (!a || !n || a.v6 !== n.v6) return false;
	const width = a.v6 ? 128n : 32n;
	const len = bits === undefined ? width : BigInt(Number(bits));
	if (len < 0n || len > width) return false;
	const shift = width - len;
	return a.value >> shift === n.value >> shift;
}

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '198.18.0.0/15', 'fc00::/7', 'fe80::/10', '2001:db8::/32'];

/**
 * Addresses a router on the way would not know how to reach unless told: RFC 1918, CGNAT
 * (Tailscale), link-local, benchmarking and documentation ranges, IPv6 ULA.
 */
export function isPrivate(addr: string): boolean {
	return PRIVATE.some(c => inCidr(addr, c));
}

/** A matched rule's `-s`/`-d` condition (with `!` negation) as it applies to an address. */
export function ruleMatchesAddress(args: readonly string[], flag: 'src' | 'dst', addr: string): boolean | undefined {
	const names = flag === 'src' ? ['-s', '--source', '--src'] : ['-d', '--destination', '--dst'];
	for (let i = 0; i < args.length; i++) {
		if (!names.includes(args[i]!)) continue;
		const negated = args[i - 1] === '!';
		const value = args[i + 1] ?? '';
		const hit = value.split(',').some(c => inCidr(addr, c));
		return negated ? !hit : hit;
	}
	return undefined;
}
