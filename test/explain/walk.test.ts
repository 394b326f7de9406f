/**
 * The kernel's walk on small literal dumps (src/model/explain/): hook and table order, chain
 * ends, jumps and gotos, NAT for a connection's first packet only, what targets change for the
 * rules after them, and what a dump cannot tell.
 */
import {describe, expect, it} from 'vitest';
import {TraceKnowledge} from '../../src/model/explain/learn.js';
import {explainPacket, type ExplainInput} from '../../src/model/explain/predict.js';
import type {Prediction} from '../../src/model/explain/types.js';
import {RuleIndex} from '../../src/model/join.js';
import {parseRuleset} from '../../src/parser/ruleset.js';

function index(text: string, path = 'node.save'): RuleIndex {
	const rs = parseRuleset(text.replace(/^\t+/gm, ''), path);
	expect(rs.problems).toEqual([]);
	return new RuleIndex([rs]);
}

const TCP: ExplainInput = {family: 'ipv4', proto: 'TCP', src: '198.18.10.2', spt: 40990, dst: '198.18.30.10', dpt: 80, in: 'eth0', out: 'eth1', fromHost: false, tcpFlags: ['SYN'], state: 'new', mark: 0, locals: []};

function explain(rules: RuleIndex, input: Partial<ExplainInput> = {}): Prediction {
	return explainPacket(rules, {...TCP, ...input});
}

/** `table:chain:kind:num (target)` for each hop. */
function path(p: Prediction): string[] {
	return p.hops.map(h => `${h.table}:${h.chain}:${h.kind}:${h.num}${h.target ? ` ${h.target}` : ''}`);
}

// The ruleset of testdata/dmesg/fwd-dnat-masq, as iptables-save wrote it.
const ROUTER = index(`*raw
	:PREROUTING ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	-A PREROUTING -s 198.18.10.2/32 -j TRACE
	COMMIT
	*mangle
	:PREROUTING ACCEPT [0:0]
	:INPUT ACCEPT [0:0]
	:FORWARD ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	:POSTROUTING ACCEPT [0:0]
	COMMIT
	*nat
	:PREROUTING ACCEPT [0:0]
	:INPUT ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	:POSTROUTING ACCEPT [0:0]
	:TW-SERVICES - [0:0]
	-A PREROUTING -m comment --comment "service portals" -j TW-SERVICES
	-A POSTROUTING -o eth1 -j MASQUERADE
	-A TW-SERVICES -d 198.18.30.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.18.20.2:8080
	COMMIT
	*filter
	:INPUT ACCEPT [0:0]
	:FORWARD DROP [0:0]
	:OUTPUT ACCEPT [0:0]
	:TW-FORWARD - [0:0]
	:TW-USER - [0:0]
	-A FORWARD -j TW-USER
	-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	-A FORWARD -i eth0 -o eth1 -j TW-FORWARD
	-A TW-FORWARD -p tcp -m tcp --dport 22 -j ACCEPT
	-A TW-FORWARD -d 198.18.20.2/32 -p tcp -m conntrack --ctstate NEW -m tcp --dport 8080 -j ACCEPT
	-A TW-USER -j RETURN
	COMMIT
`);

describe('the kernel order of hooks and tables', () => {
	it('forwards a first packet through DNAT and MASQUERADE; DNAT changes what later rules see', () => {
		const p = explain(ROUTER);
		expect(path(p)).toEqual([
			'raw:PREROUTING:rule:1 TRACE',
			'raw:PREROUTING:policy:2 ACCEPT',
			'mangle:PREROUTING:policy:1 ACCEPT',
			'nat:PREROUTING:rule:1 TW-SERVICES',
			'nat:TW-SERVICES:rule:1 DNAT',
			'mangle:FORWARD:policy:1 ACCEPT',
			'filter:FORWARD:rule:1 TW-USER',
			// An explicit unconditional RETURN: the kernel logs it as its chain's return.
			'filter:TW-USER:return:1 RETURN',
			'filter:FORWARD:rule:3 TW-FORWARD',
			// -d 198.18.20.2 --dport 8080: the packet as DNAT left it.
			'filter:TW-FORWARD:rule:2 ACCEPT',
			'mangle:POSTROUTING:policy:1 ACCEPT',
			'nat:POSTROUTING:rule:1 MASQUERADE',
		]);
		expect(p.verdict).toBe('ACCEPT');
		expect(p.nat.map(n => `${n.type} ${n.from} → ${n.to}`)).toEqual(['DNAT 198.18.30.10:80 → 198.18.20.2:8080', 'MASQUERADE 198.18.10.2:40990 → address of eth1']);
		expect(p.hops[5]).toMatchObject({dst: '198.18.20.2', dpt: 8080, out: 'eth1', hook: 'FORWARD'});
		expect(p.uncertain).toEqual([]);
	});

	it('runs the nat chains for a connection\'s first packet only', () => {
		const p = explain(ROUTER, {state: 'established', tcpFlags: ['ACK']});
		expect(path(p).filter(h => h.startsWith('nat:'))).toEqual([]);
		expect(path(p)).toContain('filter:FORWARD:rule:2 ACCEPT');
	});

	it('routes by the address DNAT gave: to INPUT when it is local', () => {
		const p = explain(ROUTER, {out: undefined, locals: ['198.18.20.2']});
		expect(p.route).toMatchObject({kind: 'local'});
		expect(path(p).slice(-3)).toEqual(['mangle:INPUT:policy:1 ACCEPT', 'filter:INPUT:policy:1 ACCEPT', 'nat:INPUT:policy:1 ACCEPT']);
		expect(p.verdict).toBe('ACCEPT');
	});

	it('drops by the chain policy after the last rule', () => {
		const p = explain(ROUTER, {dst: '198.18.30.11', dpt: 443});
		expect(path(p).slice(-2)).toEqual(['filter:TW-FORWARD:return:3 RETURN', 'filter:FORWARD:policy:4 DROP']);
		expect(p.verdict).toBe('DROP');
		expect(p.verdictBasis).toBe('policy DROP of filter:FORWARD');
	});

	it('sends a packet of this host through OUTPUT and POSTROUTING', () => {
		const p = explain(ROUTER, {fromHost: true, in: undefined, out: 'eth0', src: '198.18.10.1', dst: '198.18.10.2', spt: 5000, dpt: 22});
		expect(path(p)).toEqual(['raw:OUTPUT:policy:1 ACCEPT', 'mangle:OUTPUT:policy:1 ACCEPT', 'nat:OUTPUT:policy:1 ACCEPT', 'filter:OUTPUT:policy:1 ACCEPT', 'mangle:POSTROUTING:policy:1 ACCEPT', 'nat:POSTROUTING:policy:2 ACCEPT']);
		expect(p.hops[0]).toMatchObject({in: '', out: 'eth0'});
	});

	it('a packet this host sends to its own address comes back in on lo: PREROUTING and INPUT, no nat chain on the way in', () => {
		const p = explain(ROUTER, {fromHost: true, in: undefined, out: undefined, src: '198.18.10.1', dst: '198.18.20.1', spt: 5000, dpt: 22, locals: ['198.18.10.1', '198.18.20.1']});
		expect(path(p)).toEqual([
			'raw:OUTPUT:policy:1 ACCEPT',
			'mangle:OUTPUT:policy:1 ACCEPT',
			'nat:OUTPUT:policy:1 ACCEPT',
			'filter:OUTPUT:policy:1 ACCEPT',
			'mangle:POSTROUTING:policy:1 ACCEPT',
			'nat:POSTROUTING:policy:2 ACCEPT',
			// raw PREROUTING's TRACE rule is for 198.18.10.2 only; nat:PREROUTING does not run again.
			'raw:PREROUTING:policy:2 ACCEPT',
			'mangle:PREROUTING:policy:1 ACCEPT',
			'mangle:INPUT:policy:1 ACCEPT',
			'filter:INPUT:policy:1 ACCEPT',
		]);
		expect(p.hops.at(-1)).toMatchObject({in: 'lo', out: '', hook: 'INPUT'});
		expect(p.verdictBasis).toMatch(/out lo and delivered/);
		// Sent elsewhere, it stops after POSTROUTING.
		expect(path(explain(ROUTER, {fromHost: true, in: undefined, out: 'eth0', src: '198.18.10.1', dst: '198.18.10.2', spt: 5000, dpt: 22, locals: ['198.18.10.1']})).at(-1)).toBe('nat:POSTROUTING:policy:2 ACCEPT');
	});
});

describe('chains: jumps, gotos, returns, policies', () => {
	const CHAINS = index(`*filter
		:INPUT ACCEPT [0:0]
		:FORWARD ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		:A - [0:0]
		:B - [0:0]
		:C - [0:0]
		-A FORWARD -j A
		-A FORWARD -p tcp -j RETURN
		-A FORWARD -j DROP
		-A A -j B
		-A A -p udp -j ACCEPT
		-A B -g C
		-A C -p tcp --dport 80 -j ACCEPT
		COMMIT
	`);

	it('a goto returns to the chain before the one that went, and an unconditional DROP logs as the policy', () => {
		const p = explain(CHAINS, {dpt: 81});
		expect(path(p)).toEqual(['filter:FORWARD:rule:1 A', 'filter:A:rule:1 B', 'filter:B:rule:1 C', 'filter:C:return:2 RETURN', 'filter:A:return:3 RETURN', 'filter:FORWARD:rule:2 RETURN', 'filter:FORWARD:policy:4 ACCEPT']);
		expect(p.verdict).toBe('ACCEPT');
		// After C's end the walk goes on in A (B went to C), where the UDP rule accepts.
		const udp = explain(CHAINS, {proto: 'UDP', tcpFlags: undefined, dpt: 53});
		expect(path(udp)).toEqual(['filter:FORWARD:rule:1 A', 'filter:A:rule:1 B', 'filter:B:rule:1 C', 'filter:C:return:2 RETURN', 'filter:A:rule:2 ACCEPT']);
		const icmp = explain(CHAINS, {proto: 'ICMP', tcpFlags: undefined, spt: undefined, dpt: undefined, icmp: {type: 8}});
		expect(path(icmp).at(-1)).toBe('filter:FORWARD:policy:3 DROP');
		expect(icmp.verdict).toBe('DROP');
	});
});

describe('what targets change for the rules after them', () => {
	const MARKS = index(`*mangle
		:PREROUTING ACCEPT [0:0]
		:INPUT ACCEPT [0:0]
		:FORWARD ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		:POSTROUTING ACCEPT [0:0]
		-A PREROUTING -i eth0 -j MARK --set-xmark 0x40000/0x40000
		-A PREROUTING -m mark --mark 0x40000/0x40000 -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
		-A PREROUTING -j MARK --set-xmark 0x0/0xffffffff
		-A PREROUTING -m connmark --mark 0x40000 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
		-A FORWARD -m mark --mark 0x40000/0x40000 -j DROP
		COMMIT
	`);

	it('MARK and CONNMARK: set, saved to the connection, cleared, restored, matched', () => {
		const p = explain(MARKS);
		expect(path(p)).toEqual(['mangle:PREROUTING:rule:1 MARK', 'mangle:PREROUTING:rule:2 CONNMARK', 'mangle:PREROUTING:rule:3 MARK', 'mangle:PREROUTING:rule:4 CONNMARK', 'mangle:PREROUTING:policy:5 ACCEPT', 'mangle:FORWARD:rule:1 DROP']);
		expect(p.hops.map(h => h.mark ?? '0')).toEqual(['0', '0x40000', '0x40000', '0', '0x40000', '0x40000']);
		expect(p.ctmarkAfter).toBe(0x40000);
		expect(explain(MARKS, {in: 'eth9'}).verdict).toBe('ACCEPT');
	});

	it('NOTRACK: the packet is untracked, no nat chain sees it', () => {
		const rules = index(`*raw
			:PREROUTING ACCEPT [0:0]
			:OUTPUT ACCEPT [0:0]
			-A PREROUTING -m conntrack --ctstate INVALID -j LOG
			-A PREROUTING -p tcp --dport 80 -j CT --notrack
			COMMIT
			*nat
			:PREROUTING ACCEPT [0:0]
			:POSTROUTING ACCEPT [0:0]
			-A PREROUTING -j DNAT --to-destination 10.0.0.1
			COMMIT
			*filter
			:FORWARD DROP [0:0]
			-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT
			COMMIT
		`);
		const p = explain(rules);
		// In raw, before conntrack, a packet has no connection: INVALID.
		expect(path(p)).toEqual(['raw:PREROUTING:rule:1 LOG', 'raw:PREROUTING:rule:2 CT', 'raw:PREROUTING:policy:3 ACCEPT', 'filter:FORWARD:rule:1 ACCEPT']);
		expect(p.nat).toEqual([]);
	});

	it('REJECT ends the walk with its verdict', () => {
		const rules = index(`*filter
			:INPUT ACCEPT [0:0]
			:FORWARD ACCEPT [0:0]
			-A FORWARD -p tcp -m multiport --dports 22,80:90 -j REJECT --reject-with tcp-reset
			COMMIT
		`);
		expect(explain(rules).verdict).toBe('REJECT');
		expect(explain(rules, {dpt: 91}).verdict).toBe('ACCEPT');
	});
});

describe('matches', () => {
	const rules = index(`*filter
		:INPUT ACCEPT [0:0]
		:FORWARD DROP [0:0]
		:OUTPUT ACCEPT [0:0]
		-A FORWARD ! -s 198.18.10.0/24 -j DROP
		-A FORWARD -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
		-A FORWARD -i cali+ -p ipencap -j ACCEPT
		-A FORWARD -m iprange --dst-range 198.18.30.1-198.18.30.20 -p tcp --syn -j ACCEPT
		-A FORWARD -p icmp -m icmp --icmp-type 3/4 -j ACCEPT
		-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT
		-A FORWARD -m physdev ! --physdev-is-bridged -p icmp -j ACCEPT
		COMMIT
	`);

	it.each([
		['an address outside a negated network', {src: '10.0.0.1'}, 'filter:FORWARD:rule:1 DROP'],
		['TCP flags other than a SYN', {tcpFlags: ['ACK']}, 'filter:FORWARD:rule:2 DROP'],
		['an interface wildcard and a protocol name from /etc/protocols', {in: 'cali123', proto: '4', tcpFlags: undefined, spt: undefined, dpt: undefined}, 'filter:FORWARD:rule:3 ACCEPT'],
		['an address range and --syn', {}, 'filter:FORWARD:rule:4 ACCEPT'],
		['an ICMP type and code', {proto: 'ICMP', tcpFlags: undefined, spt: undefined, dpt: undefined, dst: '198.18.99.1', icmp: {type: 3, code: 4}}, 'filter:FORWARD:rule:5 ACCEPT'],
		['physdev on a packet no bridge forwarded', {proto: 'ICMP', tcpFlags: undefined, spt: undefined, dpt: undefined, dst: '198.18.99.1', icmp: {type: 8}}, 'filter:FORWARD:rule:7 ACCEPT'],
		['physdev on a bridged packet', {proto: 'ICMP', tcpFlags: undefined, spt: undefined, dpt: undefined, dst: '198.18.99.1', icmp: {type: 8}, physin: 'veth1', physout: 'veth2'}, 'filter:FORWARD:rule:6 ACCEPT'],
	])('%s', (_what, input, last) => {
		expect(path(explain(rules, input)).at(-1)).toBe(last);
	});
});

describe('what a dump cannot tell', () => {
	const KUBE = index(`*nat
		:PREROUTING ACCEPT [0:0]
		:POSTROUTING ACCEPT [0:0]
		:KUBE-SVC - [0:0]
		:KUBE-SEP-A - [0:0]
		:KUBE-SEP-B - [0:0]
		:KUBE-SEP-C - [0:0]
		-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC
		-A KUBE-SVC -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-A
		-A KUBE-SVC -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-B
		-A KUBE-SVC -j KUBE-SEP-C
		-A KUBE-SEP-A -p udp -j DNAT --to-destination 10.244.1.2:53
		-A KUBE-SEP-B -p udp -j DNAT --to-destination 10.244.2.2:53
		-A KUBE-SEP-C -p udp -j DNAT --to-destination 10.244.3.2:53
		COMMIT
		*filter
		:INPUT ACCEPT [0:0]
		:FORWARD ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		-A FORWARD -m set --match-set KUBE-BLOCKED src -j DROP
		-A FORWARD -p udp -m limit --limit 5/sec -j ACCEPT
		-A OUTPUT -m owner --uid-owner 1000 -j DROP
		-A OUTPUT -m addrtype --dst-type LOCAL -j ACCEPT
		COMMIT
	`);
	const DNS: Partial<ExplainInput> = {proto: 'UDP', tcpFlags: undefined, dst: '10.96.0.10', dpt: 53, src: '10.244.1.9', in: 'cali1', out: 'eth0'};

	it('statistic: every branch with its probability, the most likely first', () => {
		const p = explain(KUBE, {...DNS, src: '10.0.0.9'});
		expect(p.branches).toHaveLength(3);
		const byTarget = new Map(p.branches!.map(b => [b.nat[0]!.to, Math.round(b.probability * 1000) / 1000]));
		expect(byTarget).toEqual(new Map([['10.244.1.2:53', 0.333], ['10.244.2.2:53', 0.333], ['10.244.3.2:53', 0.333]]));
		expect(p.branches!.reduce((s, b) => s + b.probability, 0)).toBeCloseTo(1, 6);
		expect(p.uncertain.filter(u => u.kind === 'statistic').length).toBeGreaterThan(0);
	});

	it('an ipset and a rate limit: assumed to match, and listed', () => {
		const p = explain(KUBE, {...DNS, dst: '10.244.9.9'});
		expect(p.verdict).toBe('DROP');
		expect(p.uncertain.map(u => [u.kind, u.match, u.assumed])).toEqual([['set', '-m set --match-set KUBE-BLOCKED src', 'match']]);
	});

	it('the owner of a socket the command line does not give: assumed; LOCAL from --local', () => {
		const out = explain(KUBE, {...DNS, fromHost: true, in: undefined, src: '10.0.0.1', dst: '10.0.0.1', locals: ['10.0.0.1']});
		expect(out.verdict).toBe('DROP');
		expect(out.uncertain.map(u => u.kind)).toEqual(['owner']);
	});

	it('an interface not given is none of those the rules name', () => {
		const rules = index(`*filter
			:FORWARD ACCEPT [0:0]
			-A FORWARD -o cali+ -j DROP
			-A FORWARD ! -o lo -j ACCEPT
			COMMIT
		`);
		const p = explain(rules, {out: undefined});
		expect(path(p)).toEqual(['filter:FORWARD:rule:2 ACCEPT']);
		expect(p.uncertain.map(u => [u.match, u.assumed])).toEqual([
			['-o cali+', 'no match'],
			['! -o lo', 'match'],
		]);
	});

	it('the reverse-path check passes unless routes say otherwise', () => {
		const rules = index(`*raw
			:PREROUTING ACCEPT [0:0]
			-A PREROUTING -m rpfilter --validmark --invert -j DROP
			COMMIT
		`);
		const p = explain(rules);
		expect(p.verdict).toBe('ACCEPT');
		expect(p.uncertain[0]).toMatchObject({kind: 'routing', assumed: 'no match'});
	});
});

describe('what conntrack and routing do to IPv6 neighbour discovery and multicast', () => {
	const V6 = index(`*raw
		:PREROUTING ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		COMMIT
		*nat
		:PREROUTING ACCEPT [0:0]
		:INPUT ACCEPT [0:0]
		:OUTPUT ACCEPT [0:0]
		:POSTROUTING ACCEPT [0:0]
		-A POSTROUTING -o eth0 -j MASQUERADE
		COMMIT
		*filter
		:INPUT DROP [0:0]
		:FORWARD DROP [0:0]
		:OUTPUT ACCEPT [0:0]
		-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT
		-A INPUT -m conntrack --ctstate NEW -p ipv6-icmp -j ACCEPT
		COMMIT
	`, 'ip6tables.save');
	const NS: Partial<ExplainInput> = {family: 'ipv6', proto: 'ICMPv6', src: 'fe80::1', dst: 'fe80::2', spt: undefined, dpt: undefined, tcpFlags: undefined, out: undefined, locals: ['fe80::2']};

	it('a neighbour solicitation is untracked: no nat chain, --ctstate UNTRACKED; an echo request is tracked', () => {
		const ns = explain(V6, {...NS, icmp: {type: 135, code: 0}});
		expect(path(ns)).toEqual(['raw:PREROUTING:policy:1 ACCEPT', 'filter:INPUT:rule:1 ACCEPT']);
		const echo = explain(V6, {...NS, icmp: {type: 128, code: 0}});
		expect(path(echo)).toEqual(['raw:PREROUTING:policy:1 ACCEPT', 'nat:PREROUTING:policy:1 ACCEPT', 'filter:INPUT:rule:2 ACCEPT', 'nat:INPUT:policy:1 ACCEPT']);
	});

	it('a trace is the routing table: a multicast group it never shows delivered is not forwarded', () => {
		const k = new TraceKnowledge({locals: ['2001:db8::1']});
		const probe = {family: 'ipv6', src: 'fe80::1', dst: 'ff02::16', mark: 0} as const;
		expect(k.route('ff02::16', probe)).toMatchObject({kind: 'refused'});
		expect(k.route('2001:db8::1', probe)).toMatchObject({kind: 'local'});
		expect(k.route('2001:db8::9', probe)).toMatchObject({kind: 'forward'});
	});
});

describe('a native nftables listing', () => {
	const NFT = index(`table ip edge {
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			tcp dport 80 dnat to 10.0.0.2:8080
		}
		chain fwd {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			udp dport 53 accept
			ip daddr 10.0.0.2 tcp dport 8080 accept
		}
	}
	`, 'edge.nft');
	const IN: Partial<ExplainInput> = {src: '198.18.10.2', dst: '198.18.30.10', in: 'eth0', out: 'eth1'};

	it('nat chains DNAT the first packet; a selector implies its protocol (`udp dport 53` is no TCP rule)', () => {
		const web = explain(NFT, {...IN, dpt: 80});
		expect(path(web)).toEqual(['edge:pre:rule:1 DNAT', 'edge:fwd:rule:3 ACCEPT']);
		expect(web.nat.map(n => `${n.type} ${n.from} → ${n.to}`)).toEqual(['DNAT 198.18.30.10:80 → 10.0.0.2:8080']);
		const later = explain(NFT, {...IN, dpt: 80, state: 'established', tcpFlags: ['ACK']});
		expect(path(later)).toEqual(['edge:fwd:rule:1 ACCEPT']);
		expect(explain(NFT, {...IN, dpt: 53}).verdict).toBe('DROP');
		expect(explain(NFT, {...IN, proto: 'UDP', tcpFlags: undefined, dpt: 53}).verdict).toBe('ACCEPT');
	});

	it("lookups in the listing's named sets are decided from their elements", () => {
		const sets = index(`table ip t {
			set blocked {
				type ipv4_addr
				flags interval
				elements = { 10.0.0.9, 198.18.10.0/24 }
			}
			set ports {
				type inet_service
				elements = { 22, 8000-8080 }
			}
			chain fwd {
				type filter hook forward priority filter; policy drop;
				ip saddr @blocked drop
				ip daddr != @blocked tcp dport @ports accept
			}
		}
		`, 't.nft');
		const blocked = explain(sets, {...IN, dpt: 8080});
		expect(path(blocked)).toEqual(['t:fwd:rule:1 DROP']);
		expect(blocked.uncertain).toEqual([]);
		expect(path(explain(sets, {...IN, src: '198.18.11.2', dpt: 8080}))).toEqual(['t:fwd:rule:2 ACCEPT']);
		expect(path(explain(sets, {...IN, src: '198.18.11.2', dpt: 8081}))).toEqual(['t:fwd:policy:3 DROP']);
		expect(path(explain(sets, {...IN, src: '198.18.11.2', proto: 'UDP', tcpFlags: undefined, dpt: 22}))).toEqual(['t:fwd:policy:3 DROP']);
	});

	it("verdict maps: the entry the packet's key selects; numgen picks an entry at random, each with its share", () => {
		const vmaps = index(`table ip kube {
			map svc {
				type ipv4_addr : verdict
				elements = { 198.18.30.10 : jump svc-web }
			}
			chain pre {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr vmap @svc
				tcp dport vmap { 22 : accept, 23 : drop }
			}
			chain svc-web {
				numgen random mod 3 vmap { 0 : goto ep-1, 1-2 : goto ep-2 }
			}
			chain ep-1 {
				tcp dport 80 dnat to 10.0.0.1:8080
			}
			chain ep-2 {
				tcp dport 80 dnat to 10.0.0.2:8080
			}
		}
		`, 'kube.nft');
		const web = explain(vmaps, {...IN, dpt: 80});
		expect(web.branches?.map(b => [b.nat[0]?.to, Math.round(b.probability * 1000) / 1000])).toEqual([
			['10.0.0.2:8080', 0.667],
			['10.0.0.1:8080', 0.333],
		]);
		expect(path(web)).toEqual(['kube:pre:rule:1 vmap', 'kube:svc-web:rule:1 vmap', 'kube:ep-2:rule:1 DNAT']);
		expect(path(explain(vmaps, {...IN, dst: '198.18.30.11', dpt: 23}))).toEqual(['kube:pre:rule:2 vmap']);
		expect(explain(vmaps, {...IN, dst: '198.18.30.11', dpt: 23}).verdict).toBe('DROP');
		expect(path(explain(vmaps, {...IN, dst: '198.18.30.11', dpt: 24}))).toEqual(['kube:pre:policy:3 ACCEPT']);
	});

	it('a concatenated key, as kube-proxy nftables dispatches services: every field of the element must match', () => {
		const kube = index(`table ip kube-proxy {
			map service-ips {
				type ipv4_addr . inet_proto . inet_service : verdict
				elements = { 172.30.0.41 . tcp . 80 : goto service-ns1/svc1/tcp/p80 }
			}
			chain nat-prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				jump services
			}
			chain services {
				ip daddr . meta l4proto . th dport vmap @service-ips
			}
			chain service-ns1/svc1/tcp/p80 {
				numgen random mod 2 vmap { 0 : goto endpoint-a, 1 : goto endpoint-b }
			}
			chain endpoint-a {
				meta l4proto tcp dnat to 10.180.0.1:80
			}
			chain endpoint-b {
				meta l4proto tcp dnat to 10.180.0.2:80
			}
		}
		`, 'kube-proxy.nft');
		const svc = explain(kube, {...IN, src: '10.0.0.2', dst: '172.30.0.41', dpt: 80});
		expect(svc.branches?.map(b => b.nat[0]?.to).sort()).toEqual(['10.180.0.1:80', '10.180.0.2:80']);
		expect(svc.uncertain.filter(u => u.kind !== 'statistic')).toEqual([]);
		// UDP to the same address and port is another element's key: none here.
		const udp = explain(kube, {...IN, src: '10.0.0.2', dst: '172.30.0.41', dpt: 80, proto: 'UDP', tcpFlags: undefined});
		expect(udp.nat).toEqual([]);
		expect(path(udp)).toEqual(['kube-proxy:nat-prerouting:rule:1 services', 'kube-proxy:services:return:2 RETURN', 'kube-proxy:nat-prerouting:policy:2 ACCEPT']);
	});

	it('a named map the listing shows empty holds no key; element comments and interface keys are read', () => {
		const maps = index(`table ip t {
			map firewall-ips {
				type ipv4_addr . inet_proto . inet_service : verdict
			}
			map no-endpoints {
				type ipv4_addr . inet_proto . inet_service : verdict
				elements = { 198.18.30.10 . tcp . 80 comment "default/web:http" : goto reject-chain }
			}
			map out-jumps {
				type ifname : verdict
				elements = { "eth1" : jump to-eth1 }
			}
			chain fwd {
				type filter hook forward priority filter; policy accept;
				ip daddr . meta l4proto . th dport vmap @firewall-ips
				ip daddr . meta l4proto . th dport vmap @no-endpoints
				oifname vmap @out-jumps
			}
			chain reject-chain {
				reject
			}
			chain to-eth1 {
				drop
			}
		}
		`, 't.nft');
		const noEndpoints = explain(maps, {...IN, dpt: 80});
		expect(path(noEndpoints)).toEqual(['t:fwd:rule:2 vmap', 't:reject-chain:rule:1 REJECT']);
		expect(noEndpoints.uncertain).toEqual([]);
		// An unconditional drop in a user chain is named as the kernel's TRACE names it (return:1).
		expect(path(explain(maps, {...IN, dpt: 81}))).toEqual(['t:fwd:rule:3 vmap', 't:to-eth1:return:1 DROP']);
		expect(path(explain(maps, {...IN, dpt: 81, out: 'eth2'}))).toEqual(['t:fwd:policy:4 ACCEPT']);
	});
});
