/**
 * Questions about one rule answered from its structure (src/model/rule-query.ts), and the
 * rule comparisons lint and diff make with them.
 */
import {describe, expect, it} from 'vitest';
import {disjoint} from '../../src/model/diff.js';
import {ruleSpec} from '../../src/model/command.js';
import {
	addressMatch,
	conditionGroups,
	formatNatRange,
	interfaceMatch,
	isSourceNat,
	isUnconditional,
	mayMatch,
	natTo,
	outInterface,
	ruleCidrs,
	ruleMentions,
	ruleProtocol,
	sourceNatFor,
	specWords,
	targetOptionText,
} from '../../src/model/rule-query.js';
import {parseRuleset, parseRuleText, type Rule} from '../../src/parser/ruleset.js';

function rule(line: string): Rule {
	const rs = parseRuleset(`${line}\n`, 'test.S');
	expect(rs.problems).toEqual([]);
	return [...rs.tables.values()][0]!.chains.values().next().value!.rules[0]!;
}

describe('addresses and interfaces', () => {
	const masq = rule('-A POSTROUTING -s 198.19.88.0/24 ! -d 198.19.88.0/24 -o wlp59s0 -j MASQUERADE');

	it('addressMatch: in or out of the prefix, with !; undefined without the condition', () => {
		expect(addressMatch(masq, 'src', '198.19.88.69')).toBe(true);
		expect(addressMatch(masq, 'src', '10.0.0.1')).toBe(false);
		expect(addressMatch(masq, 'dst', '198.19.88.7')).toBe(false);
		expect(addressMatch(masq, 'dst', '1.1.1.1')).toBe(true);
		expect(addressMatch(rule('-A INPUT -j ACCEPT'), 'src', '10.0.0.1')).toBeUndefined();
		expect(addressMatch(rule('-A INPUT -s fd00::/64 -j ACCEPT'), 'src', 'fd00:0000::5')).toBe(true);
		expect(addressMatch(rule('-A INPUT -s fd00::/64 -j ACCEPT'), 'src', '10.0.0.1')).toBe(false);
		// A host name is not read: no answer rather than a wrong one.
		expect(addressMatch(rule('-A INPUT -s example.com -j ACCEPT'), 'src', '10.0.0.1')).toBeUndefined();
	});

	it('interfaceMatch and outInterface: + wildcards, !', () => {
		expect(interfaceMatch(masq, 'out', 'wlp59s0')).toBe(true);
		expect(interfaceMatch(masq, 'out', 'eth0')).toBe(false);
		expect(interfaceMatch(masq, 'in', 'eth0')).toBeUndefined();
		const cali = rule('-A FORWARD -i cali+ ! -o lo -j ACCEPT');
		expect(interfaceMatch(cali, 'in', 'cali1a2b3c4d5e6')).toBe(true);
		expect(interfaceMatch(cali, 'out', 'lo')).toBe(false);
		expect(outInterface(masq)).toEqual({text: 'wlp59s0', name: 'wlp59s0', wildcard: false});
		expect(outInterface(cali)).toBeUndefined();
	});

	it('mayMatch: false only when a condition it can check fails', () => {
		expect(mayMatch(masq, {src: '198.19.88.69', dst: '198.18.1.50', out: 'wlp59s0'})).toBe(true);
		expect(mayMatch(masq, {src: '198.19.88.69', out: 'eth0'})).toBe(false);
		expect(mayMatch(masq, {src: '10.1.1.1'})).toBe(false);
		const trace = rule('-A PREROUTING -s 198.19.88.0/24 -i cali+ -p tcp -m tcp --dport 443 -j TRACE');
		expect(mayMatch(trace, {src: '198.19.88.69', in: 'cali1'})).toBe(true);
		expect(mayMatch(trace, {src: '198.19.88.69', in: 'eth0'})).toBe(false);
		// An empty IN= (a locally generated packet) is not checked.
		expect(mayMatch(trace, {src: '198.19.88.69', in: ''})).toBe(true);
	});

	it('ruleCidrs: the prefixes -s and -d name, negated ones too', () => {
		expect(ruleCidrs(masq).map(p => p.text)).toEqual(['198.19.88.0/24', '198.19.88.0/24']);
		expect(ruleCidrs(masq, 'src').map(p => [p.addr, p.bits])).toEqual([['198.19.88.0', 24]]);
		expect(ruleCidrs(rule('-A X -m conntrack --ctorigdst 10.0.0.1 -j ACCEPT'))).toEqual([]);
	});
});

describe('what a rule does', () => {
	it('sourceNatFor: SNAT/MASQUERADE with no -o or a matching one', () => {
		expect(sourceNatFor(rule('-A POSTROUTING -o wlp59s0 -j MASQUERADE'), 'wlp59s0')).toBe(true);
		expect(sourceNatFor(rule('-A POSTROUTING -o enp3s0 -j MASQUERADE'), 'wlp59s0')).toBe(false);
		expect(sourceNatFor(rule('-A POSTROUTING -s 10.0.0.0/8 -j SNAT --to-source 1.2.3.4'), 'eth0')).toBe(true);
		expect(sourceNatFor(rule('-A POSTROUTING -o eth+ -j SNAT --to-source 1.2.3.4'), 'eth1')).toBe(true);
		expect(isSourceNat(rule('-A PREROUTING -j DNAT --to-destination 1.2.3.4'))).toBe(false);
	});

	it('natTo, formatNatRange, targetOptionText: as iptables-save prints them', () => {
		const dnat = rule('-A X -p tcp -j DNAT --to-destination 198.18.1.50:6443');
		expect(natTo(dnat)).toEqual({minAddr: '198.18.1.50', maxAddr: '198.18.1.50', v6: false, minPort: 6443, maxPort: 6443});
		for (const text of ['198.18.1.50:6443', '10.0.0.1-10.0.0.9:1024-2000', '10.0.0.1', '[fd00::2]:80', 'fd00::2', ':8080']) {
			expect(formatNatRange(natTo(rule(`-A X -j DNAT --to-destination ${text}`))!)).toBe(text);
		}
		expect(targetOptionText(rule('-A X -j SNAT --to-source 1.2.3.4'), '--to-source')).toBe('1.2.3.4');
		expect(targetOptionText(rule('-A X -j LOG --log-prefix "a b: "'), '--log-prefix')).toBe('a b: ');
		expect(targetOptionText(rule('-A X -j ACCEPT'), '--to-source')).toBeUndefined();
	});

	it('ruleProtocol: the kernel log spelling; not for ! -p', () => {
		expect(ruleProtocol(rule('-A X -p tcp -j ACCEPT'))).toBe('TCP');
		expect(ruleProtocol(rule('-A X -p ipv6-icmp -j ACCEPT'))).toBe('ICMPv6');
		expect(ruleProtocol(rule('-A X -p 47 -j ACCEPT'))).toBe('GRE');
		expect(ruleProtocol(rule('-A X ! -p tcp -j ACCEPT'))).toBeUndefined();
		expect(ruleProtocol(rule('-A X -j ACCEPT'))).toBeUndefined();
	});

	it('isUnconditional: no match and no stray word; a comment is a match', () => {
		expect(isUnconditional(rule('-A X -j RETURN'))).toBe(true);
		expect(isUnconditional(rule('-A X -c 5 300 -j RETURN'))).toBe(true);
		expect(isUnconditional(rule('-A X -m comment --comment x -j RETURN'))).toBe(false);
		expect(isUnconditional(rule('-A X oops -j RETURN'))).toBe(false);
	});
});

describe('the rule as words', () => {
	it('conditionGroups: each option as written, comments left out, up to the target', () => {
		expect(conditionGroups(rule('-A X ! -s 10.0.0.0/8 -p tcp -m comment --comment "ssh in" -m tcp --dport 22 -m conntrack ! --ctstate NEW -j ACCEPT'))).toEqual([
			'! -s 10.0.0.0/8',
			'-p tcp',
			'-m tcp',
			'--dport 22',
			'-m conntrack',
			'! --ctstate NEW',
		]);
	});

	it('specWords and ruleSpec: what iptables -D takes (counters left out, -j for --jump)', () => {
		const r = rule('-A X -p tcp -c 1 2 --jump LOG --log-prefix "a b: "');
		expect(specWords(r)).toEqual(['-p', 'tcp', '--jump', 'LOG', '--log-prefix', 'a b: ']);
		expect(ruleSpec(r)).toEqual(['-p', 'tcp', '-j', 'LOG', '--log-prefix', 'a b: ']);
	});

	it('ruleMentions: a word, an address with or without its length or port, an interface with or without +', () => {
		const r = rule('-A X -s 10.0.0.0/24 -i cali+ -j DNAT --to-destination 10.0.0.2:8080');
		for (const w of ['10.0.0.0/24', '10.0.0.0', 'cali', 'cali+', '10.0.0.2', 'DNAT']) expect(ruleMentions(r, w), w).toBe(true);
		expect(ruleMentions(r, 'eth0')).toBe(false);
	});

	it('parseRuleText: a rule as xtables-monitor prints it', () => {
		const r = parseRuleText('-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT', 'filter')!;
		expect([r.chain, r.table, ruleProtocol(r), r.parsed.target?.name]).toEqual(['INPUT', 'filter', 'ICMP', 'ACCEPT']);
		expect(parseRuleText('-P INPUT ACCEPT')).toBeUndefined();
		expect(parseRuleText('ip saddr 10.0.0.1 counter accept')).toBeUndefined();
	});
});

describe('disjoint: rules that can never match the same packet', () => {
	const pair = (a: string, b: string) => disjoint(rule(`-A X ${a} -j ACCEPT`), rule(`-A X ${b} -j ACCEPT`));

	it('interfaces, protocols (by number), single ports, prefixes', () => {
		expect(pair('-i eth0', '-i eth1')).toBe(true);
		expect(pair('-i eth+', '-i eth1')).toBe(false);
		expect(pair('-p tcp', '-p udp')).toBe(true);
		expect(pair('-p tcp', '-p 6')).toBe(false);
		expect(pair('-p tcp --dport 80', '-p tcp --dport 443')).toBe(true);
		expect(pair('-p tcp --dport 80', '-p tcp --dport 1:1024')).toBe(false);
		expect(pair('-s 10.0.0.0/24', '-s 10.0.1.0/24')).toBe(true);
		expect(pair('-s 10.0.0.0/16', '-s 10.0.1.0/24')).toBe(false);
		expect(pair('-s 10.0.0.0/8', '-s fd00::/8')).toBe(true);
		expect(pair('! -s 10.0.0.0/24', '-s 10.0.1.0/24')).toBe(false);
	});

	it('prefixes written with a dotted mask (diff used to stop with a RangeError on them)', () => {
		expect(pair('-s 10.0.0.0/255.255.255.0', '-s 10.0.1.0/255.255.255.0')).toBe(true);
		expect(pair('-s 10.0.0.0/255.255.0.0', '-s 10.0.1.0/255.255.255.0')).toBe(false);
	});
});
