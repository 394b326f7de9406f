/**
 * The `/` filter on packets rebuilt from real traces: each kind of term, bare words read by
 * their shape, negation, and terms that cannot be read.
 */
import {describe, expect, it} from 'vitest';
import {addressBits, addressMatcher, matchesFilter, parseFilter} from '../../src/ui/tui/filter.js';
import {FWD, LEGACY, storeFrom} from './support.js';

const packets = storeFrom(LEGACY).store.getSnapshot().packets;
const ids = (text: string) => packets.filter(p => matchesFilter(parseFilter(text), p)).map(p => p.id);

describe('filter on the legacy TCP/UDP/ICMP trace', () => {
	it('has the packets the tests expect', () => {
		expect(packets.map(p => `${p.id} ${p.proto} ${p.verdict}`)).toEqual(['1 TCP ACCEPT', '2 TCP ACCEPT', '3 UDP ACCEPT', '4 ICMP ACCEPT', '5 UDP DROP']);
	});

	it.each([
		['', [1, 2, 3, 4, 5]],
		['tcp', [1, 2]],
		['proto:udp', [3, 5]],
		['UDP', [3, 5]],
		['9999', [5]],
		['port:8080', [1, 2]],
		['dport:9998', [3]],
		['sport:9998', []],
		['drop', [5]],
		['verdict:accept', [1, 2, 3, 4]],
		['!drop', [1, 2, 3, 4]],
		['udp !drop', [3]],
		['in:twfb0', [2, 3, 5]],
		['out:twfa0', [1]],
		['twf+', [1, 2, 3, 4, 5]],
		['if:twfa*', [1]],
		['TW-DROP', [5]],
		['chain:tw-', [2, 5]],
		['filter:TW-CHAIN', [2]],
		['filter:INPUT', [2, 3, 5]],
		['198.19.250.1', [1, 2, 3, 4, 5]],
		['src:198.19.250.2', [4]],
		['dst:198.19.250.0/24', [1, 2, 3, 4, 5]],
		['198.19.250.0/31', [1, 2, 3, 4, 5]],
		['10.0.0.0/8', []],
		['198.19.*', [1, 2, 3, 4, 5]],
		['id:2,4', [2, 4]],
		['noreply', [1, 2, 3, 4, 5]],
		['reply', []],
		['nat:no', [1, 2, 3, 4, 5]],
	])('%j → %j', (text, expected) => {
		expect(ids(text)).toEqual(expected);
	});

	it('reports terms it cannot read and leaves them out', () => {
		const f = parseFilter('tcp colour:red port:99999 verdict:maybe id:x');
		expect(f.terms.map(t => t.key)).toEqual(['proto']);
		expect(f.errors).toEqual([
			'colour: unknown key (addr src dst port sport dport proto if in out chain verdict id nat reply node pod svc name)',
			'port:99999: not a port number',
			'verdict:maybe: not one of accept drop reject queue stolen unknown',
			'id:x: give packet numbers, e.g. id:3,7',
		]);
	});
});

describe('filter across NAT (fwd-dnat-masq capture)', () => {
	const fwd = storeFrom(FWD).store.getSnapshot().packets;
	it('an address matches before and after DNAT', () => {
		const vip = fwd.filter(p => matchesFilter(parseFilter('198.18.30.10'), p)).map(p => p.id);
		const backend = fwd.filter(p => matchesFilter(parseFilter('198.18.20.2'), p)).map(p => p.id);
		expect(vip.length).toBeGreaterThan(0);
		// Every packet sent to the VIP reaches the backend (after DNAT), so it matches both.
		for (const id of vip) expect(backend).toContain(id);
		expect(fwd.filter(p => matchesFilter(parseFilter('nat:yes DNAT'), p)).length).toBe(0);
		expect(fwd.filter(p => matchesFilter(parseFilter('nat'), p)).length).toBeGreaterThan(0);
	});
});

describe('addresses', () => {
	it('reads IPv4 and IPv6 into bits', () => {
		expect(addressBits('10.0.0.1')?.length).toBe(32);
		expect(addressBits('2001:db8::1')?.length).toBe(128);
		expect(addressBits('2001:db8::1')?.join('')).toBe(addressBits('2001:0db8:0:0:0:0:0:1')?.join(''));
		expect(addressBits('10.0.0')).toBeUndefined();
		expect(addressBits('1:2:3')).toBeUndefined();
	});
	it('matches exact, CIDR and prefixes', () => {
		expect(addressMatcher('2001:db8::/32')!('2001:db8:20::2')).toBe(true);
		expect(addressMatcher('2001:db8::/32')!('2001:db9::2')).toBe(false);
		expect(addressMatcher('2001:DB8::2')!('2001:db8:0::2')).toBe(true);
		expect(addressMatcher('10.1.')!('10.1.2.3')).toBe(true);
		expect(addressMatcher('10.1.')!('10.10.2.3')).toBe(false);
		expect(addressMatcher('10.0.0.0/33')).toBeUndefined();
	});
});
