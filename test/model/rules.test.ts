/**
 * The structured rule the Ruleset grammar reads (src/parser/rule.ts), on small literal rules:
 * every match module and target it models, negation in both positions, values read by their
 * syntax, and what it does not model kept as words.
 */
import {describe, expect, it} from 'vitest';
import {parseRuleset, type Match, type OptionValue, type Rule, type Target} from '../../src/parser/ruleset.js';

/** The rules of a one-table dump written as `-A` lines. */
function rules(...lines: string[]): Rule[] {
	const rs = parseRuleset(`*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n${lines.join('\n')}\nCOMMIT\n`, 'test.save');
	expect(rs.problems).toEqual([]);
	return [...rs.tables.get('filter')!.chains.values()].flatMap(c => c.rules);
}

function rule(line: string): Rule {
	return rules(line)[0]!;
}

/** `module name(!)=value` per option, for compact expectations. */
function shape(r: Rule): Array<[string, string, Array<[string, boolean, OptionValue]>]> {
	return r.parsed.matches.map(m => [m.module, m.load, m.options.map(o => [o.name, o.negated, o.value] as [string, boolean, OptionValue])]);
}

function value(r: Rule, name: string): OptionValue | undefined {
	for (const m of r.parsed.matches) for (const o of m.options) if (o.name === name) return o.value;
	return r.parsed.target?.options.find(o => o.name === name)?.value;
}

function target(r: Rule): Target {
	return r.parsed.target!;
}

describe('basic options', () => {
	it('addresses, protocol, interfaces, fragments; aliases in iptables-save spelling', () => {
		const r = rule('-A INPUT --source 10.0.0.0/8 -d 198.18.1.50 -p tcp -i eth0 --out-interface cali+ -f -j ACCEPT');
		const [basic] = r.parsed.matches as [Match];
		expect(basic.module).toBe('basic');
		expect(basic.options.map(o => [o.flag, o.name])).toEqual([['--source', '-s'], ['-d', '-d'], ['-p', '-p'], ['-i', '-i'], ['--out-interface', '-o'], ['-f', '-f']]);
		expect(value(r, '-s')).toMatchObject({kind: 'addrs', addrs: [{text: '10.0.0.0/8', addr: '10.0.0.0', bits: 8, v6: false, masked: true}]});
		expect(value(r, '-d')).toMatchObject({kind: 'addrs', addrs: [{text: '198.18.1.50', bits: 32, masked: false}]});
		expect(value(r, '-p')).toEqual({kind: 'proto', proto: 'tcp', number: 6});
		expect(value(r, '-i')).toEqual({kind: 'iface', iface: {text: 'eth0', name: 'eth0', wildcard: false}});
		expect(value(r, '-o')).toEqual({kind: 'iface', iface: {text: 'cali+', name: 'cali', wildcard: true}});
		expect(value(r, '-f')).toEqual({kind: 'flag'});
	});

	it('IPv6 prefixes in their one printed form; a dotted mask; protocol numbers and names tracewatch does not know', () => {
		const r = rule('-A INPUT -s 2001:0db8:0000::1/64 -d 10.0.0.0/255.255.0.0 -p 4 -j ACCEPT');
		expect(value(r, '-s')).toMatchObject({kind: 'addrs', addrs: [{addr: '2001:db8::1', bits: 64, v6: true}]});
		expect(value(r, '-d')).toMatchObject({kind: 'addrs', addrs: [{text: '10.0.0.0/255.255.0.0', bits: 16}]});
		expect(value(rule('-A INPUT -p ipencap -j ACCEPT'), '-p')).toEqual({kind: 'proto', proto: 'ipencap'});
	});

	it('negation in both positions: `! -s` and the old `-s !`', () => {
		for (const line of ['-A INPUT ! -s 10.0.0.0/8 -j DROP', '-A INPUT -s ! 10.0.0.0/8 -j DROP']) {
			const o = rule(line).parsed.matches[0]!.options[0]!;
			expect(o.negated, line).toBe(true);
			expect(o.value).toMatchObject({kind: 'addrs', addrs: [{text: '10.0.0.0/8'}]});
		}
		expect(rule('-A INPUT -s ! 10.0.0.0/8 -j DROP').args).toEqual(['-s', '!', '10.0.0.0/8', '-j', 'DROP']);
	});

	it('basic options after -m or after the target still belong to the basic match', () => {
		const r = rule('-A INPUT -m comment --comment x -s 10.0.0.1 -j ACCEPT -i eth0');
		expect(shape(r).map(([m, , o]) => [m, o.map(x => x[0])])).toEqual([['basic', ['-s', '-i']], ['comment', ['--comment']]]);
		expect(target(r).options).toEqual([]);
	});
});

describe('match modules', () => {
	it('tcp and udp: ports, ranges and open ranges, flags and --syn; -p loads them when -m does not', () => {
		const r = rule('-A INPUT -p tcp -m tcp --sport 1024: --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN ! --syn -j ACCEPT');
		expect(shape(r)[1]).toEqual([
			'tcp',
			'explicit',
			[
				['--sport', false, {kind: 'ports', ports: [{from: 1024, to: 65535}]}],
				['--dport', false, {kind: 'ports', ports: [{from: 22, to: 22}]}],
				['--tcp-flags', false, {kind: 'tcpFlags', mask: ['FIN', 'SYN', 'RST', 'ACK'], comp: ['SYN']}],
				['--syn', true, {kind: 'flag'}],
			],
		]);
		const implicit = rule('-A INPUT -p udp -m comment --comment dns --destination-port :1023 -j ACCEPT');
		expect(shape(implicit)).toEqual([
			['basic', 'basic', [['-p', false, {kind: 'proto', proto: 'udp', number: 17}]]],
			['comment', 'explicit', [['--comment', false, {kind: 'text', text: 'dns'}]]],
			['udp', 'implicit', [['--dport', false, {kind: 'ports', ports: [{from: 0, to: 1023}]}]]],
		]);
	});

	it('multiport lists with ranges', () => {
		expect(value(rule('-A INPUT -p tcp -m multiport --dports 80,443,1000:2000 -j ACCEPT'), '--dports')).toEqual({kind: 'ports', ports: [{from: 80, to: 80}, {from: 443, to: 443}, {from: 1000, to: 2000}]});
		expect(rule('-A INPUT -p tcp -m multiport --sports 22 -j ACCEPT').parsed.matches[1]!.module).toBe('multiport');
	});

	it('icmp and icmp6: numbers, type/code, names', () => {
		expect(value(rule('-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT'), '--icmp-type')).toEqual({kind: 'icmpType', proto: 'ICMP', type: 8});
		expect(value(rule('-A INPUT -p icmp -m icmp --icmp-type 3/4 -j ACCEPT'), '--icmp-type')).toEqual({kind: 'icmpType', proto: 'ICMP', type: 3, code: 4});
		expect(value(rule('-A INPUT -p icmp --icmp-type echo-request -j ACCEPT'), '--icmp-type')).toEqual({kind: 'icmpType', proto: 'ICMP', type: 8, name: 'echo-request'});
		expect(value(rule('-A INPUT -p icmp --icmp-type any -j ACCEPT'), '--icmp-type')).toEqual({kind: 'icmpType', proto: 'ICMP', name: 'any'});
		const v6 = rule('-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT');
		expect(shape(v6)[1]).toEqual(['icmp6', 'explicit', [['--icmpv6-type', false, {kind: 'icmpType', proto: 'ICMPv6', type: 128}]]]);
		expect(rule('-A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT').parsed.matches[1]).toMatchObject({module: 'icmp6', load: 'implicit'});
	});

	it('conntrack and state: states, status, direction, original addresses; negated', () => {
		const r = rule('-A INPUT -m conntrack ! --ctstate NEW,INVALID --ctstatus DNAT --ctdir REPLY --ctorigdst 10.96.0.1 -m state --state RELATED,ESTABLISHED -j ACCEPT');
		expect(shape(r)).toEqual([
			[
				'conntrack',
				'explicit',
				[
					['--ctstate', true, {kind: 'list', items: ['NEW', 'INVALID']}],
					['--ctstatus', false, {kind: 'list', items: ['DNAT']}],
					['--ctdir', false, {kind: 'word', word: 'REPLY'}],
					['--ctorigdst', false, expect.objectContaining({kind: 'addrs'})],
				],
			],
			['state', 'explicit', [['--state', false, {kind: 'list', items: ['RELATED', 'ESTABLISHED']}]]],
		]);
		expect(rule('-A INPUT -m conntrack --ctstate ! NEW -j ACCEPT').parsed.matches[0]!.options[0]!.negated).toBe(true);
	});

	it('mark and connmark: value and mask', () => {
		expect(value(rule('-A INPUT -m mark --mark 0x4000/0x4000 -j ACCEPT'), '--mark')).toEqual({kind: 'mark', mark: {value: 0x4000, mask: 0x4000}});
		expect(value(rule('-A INPUT -m mark ! --mark 1 -j ACCEPT'), '--mark')).toEqual({kind: 'mark', mark: {value: 1}});
		expect(shape(rule('-A INPUT -m connmark --mark 0x10/0xff -j ACCEPT'))[0]![0]).toBe('connmark');
	});

	it('comment: quoted with escapes; a generated Calico rule id', () => {
		expect(value(rule('-A INPUT -m comment --comment "say \\"hi\\" it\'s web" -j ACCEPT'), '--comment')).toEqual({kind: 'text', text: 'say "hi" it\'s web'});
		expect(value(rule('-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j ACCEPT'), '--comment')).toEqual({kind: 'text', text: 'cali:Cz_u1IQiXIMmKD4c', generated: true});
		expect(value(rule('-A INPUT -m comment --comment cali:short -j ACCEPT'), '--comment')).toEqual({kind: 'text', text: 'cali:short'});
	});

	it('addrtype, set, limit, physdev, mac, iprange, owner, statistic', () => {
		const r = rules(
			'-A INPUT -m addrtype --src-type LOCAL --dst-type LOCAL,UNICAST --limit-iface-in -j ACCEPT',
			'-A INPUT -m set ! --match-set blocked src,dst -j DROP',
			'-A INPUT -m limit --limit 5/min --limit-burst 10 -j LOG',
			'-A INPUT -m limit --limit 3 -j LOG',
			'-A INPUT -m physdev --physdev-in veth1 --physdev-is-bridged -j ACCEPT',
			'-A INPUT -m mac --mac-source 52:54:00:AB:cd:01 -j ACCEPT',
			'-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT',
			'-A INPUT -m owner --uid-owner 1000-1999 --gid-owner www-data --socket-exists -j ACCEPT',
			'-A INPUT -m statistic --mode random --probability 0.25000000000 -j ACCEPT',
			'-A INPUT -m statistic --mode nth --every 3 --packet 0 -j ACCEPT',
		);
		expect(shape(r[0]!)[0]![2]).toEqual([
			['--src-type', false, {kind: 'list', items: ['LOCAL']}],
			['--dst-type', false, {kind: 'list', items: ['LOCAL', 'UNICAST']}],
			['--limit-iface-in', false, {kind: 'flag'}],
		]);
		expect(shape(r[1]!)[0]).toEqual(['set', 'explicit', [['--match-set', true, {kind: 'set', set: 'blocked', dirs: ['src', 'dst']}]]]);
		expect(shape(r[2]!)[0]![2]).toEqual([['--limit', false, {kind: 'rate', count: 5, per: 'minute'}], ['--limit-burst', false, {kind: 'number', number: 10}]]);
		expect(value(r[3]!, '--limit')).toEqual({kind: 'rate', count: 3, per: 'second'});
		expect(shape(r[4]!)[0]![2]).toEqual([['--physdev-in', false, {kind: 'iface', iface: {text: 'veth1', name: 'veth1', wildcard: false}}], ['--physdev-is-bridged', false, {kind: 'flag'}]]);
		expect(value(r[5]!, '--mac-source')).toEqual({kind: 'mac', mac: '52:54:00:ab:cd:01'});
		expect(value(r[6]!, '--src-range')).toEqual({kind: 'addrRange', from: '10.0.0.1', to: '10.0.0.9', v6: false});
		expect(shape(r[7]!)[0]![2]).toEqual([['--uid-owner', false, {kind: 'owner', from: 1000, to: 1999}], ['--gid-owner', false, {kind: 'owner', name: 'www-data'}], ['--socket-exists', false, {kind: 'flag'}]]);
		expect(shape(r[8]!)[0]![2]).toEqual([['--mode', false, {kind: 'word', word: 'random'}], ['--probability', false, {kind: 'probability', probability: 0.25}]]);
		expect(shape(r[9]!)[0]![2]).toEqual([['--mode', false, {kind: 'word', word: 'nth'}], ['--every', false, {kind: 'number', number: 3}], ['--packet', false, {kind: 'number', number: 0}]]);
		for (const x of r) expect(x.parsed.matches.every(m => !m.unknown)).toBe(true);
	});
});

describe('targets', () => {
	it('verdicts, jumps and gotos', () => {
		const [accept, drop, ret, queue, jump, go] = ['-A INPUT -j ACCEPT', '-A INPUT -j DROP', '-A X -j RETURN', '-A INPUT -j QUEUE', '-A INPUT -j X', '-A INPUT -g X'].map(rule);
		for (const r of [accept, drop, ret, queue]) expect(target(r!)).toMatchObject({kind: 'verdict', terminates: true, goto: false});
		expect(target(jump!)).toMatchObject({name: 'X', kind: 'chain', terminates: false, goto: false, inert: false});
		expect(target(go!)).toMatchObject({name: 'X', kind: 'chain', goto: true});
		expect(go!.goto).toBe(true);
	});

	it('REJECT, NFQUEUE', () => {
		expect(target(rule('-A INPUT -p tcp -j REJECT --reject-with tcp-reset')).options.map(o => [o.name, o.value])).toEqual([['--reject-with', {kind: 'word', word: 'tcp-reset'}]]);
		expect(target(rule('-A INPUT -j NFQUEUE --queue-num 3 --queue-bypass')).options.map(o => [o.name, o.value])).toEqual([['--queue-num', {kind: 'number', number: 3}], ['--queue-bypass', {kind: 'flag'}]]);
	});

	it('DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP: addresses, ranges and ports', () => {
		const nat = (line: string, name: string) => value(rule(line), name);
		expect(nat('-A X -p tcp -j DNAT --to-destination 198.18.1.50:6443', '--to-destination')).toEqual({kind: 'nat', nat: {minAddr: '198.18.1.50', maxAddr: '198.18.1.50', v6: false, minPort: 6443, maxPort: 6443}});
		expect(nat('-A X -j DNAT --to-destination [fd00::0002]:80', '--to-destination')).toEqual({kind: 'nat', nat: {minAddr: 'fd00::2', maxAddr: 'fd00::2', v6: true, minPort: 80, maxPort: 80}});
		expect(nat('-A X -j DNAT --to-destination fd00::2', '--to-destination')).toEqual({kind: 'nat', nat: {minAddr: 'fd00::2', maxAddr: 'fd00::2', v6: true}});
		expect(nat('-A X -p tcp -j DNAT --to-destination :8080', '--to-destination')).toEqual({kind: 'nat', nat: {minPort: 8080, maxPort: 8080}});
		const snat = rule('-A X -j SNAT --to-source 10.0.0.1-10.0.0.9:1024-2000 --random --persistent');
		expect(target(snat).options.map(o => [o.name, o.value])).toEqual([
			['--to-source', {kind: 'nat', nat: {minAddr: '10.0.0.1', maxAddr: '10.0.0.9', v6: false, minPort: 1024, maxPort: 2000}}],
			['--random', {kind: 'flag'}],
			['--persistent', {kind: 'flag'}],
		]);
		expect(target(rule('-A X -j MASQUERADE --to-ports 1024-65535 --random-fully')).options.map(o => o.value)).toEqual([{kind: 'nat', nat: {minPort: 1024, maxPort: 65535}}, {kind: 'flag'}]);
		expect(nat('-A X -p tcp -j REDIRECT --to-ports 8080', '--to-ports')).toEqual({kind: 'nat', nat: {minPort: 8080, maxPort: 8080}});
		expect(nat('-A X -j NETMAP --to 10.1.0.0/24', '--to')).toMatchObject({kind: 'addrs', addrs: [{text: '10.1.0.0/24', bits: 24}]});
		for (const t of ['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP']) expect(target(rule(`-A X -j ${t}`))).toMatchObject({kind: 'extension', terminates: true, inert: false});
	});

	it('MARK and CONNMARK', () => {
		expect(target(rule('-A X -j MARK --set-xmark 0x4000/0x4000')).options[0]!.value).toEqual({kind: 'mark', mark: {value: 0x4000, mask: 0x4000}});
		expect(target(rule('-A X -j MARK --set-mark 1')).options[0]!.value).toEqual({kind: 'mark', mark: {value: 1}});
		expect(target(rule('-A X -j MARK --or-mark 0x10')).options[0]!.value).toEqual({kind: 'mark', mark: {value: 16}});
		expect(target(rule('-A X -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff')).options.map(o => [o.name, o.value])).toEqual([
			['--save-mark', {kind: 'flag'}],
			['--nfmask', {kind: 'mark', mark: {value: 0xffffffff}}],
			['--ctmask', {kind: 'mark', mark: {value: 0xffffffff}}],
		]);
		expect(target(rule('-A X -j CONNMARK --restore-mark')).options[0]).toMatchObject({name: '--restore-mark', value: {kind: 'flag'}});
		expect(target(rule('-A X -j MARK --set-xmark 0x1/0x1'))).toMatchObject({terminates: false, inert: false});
	});

	it('LOG, NFLOG, TRACE, CT, NOTRACK, TCPMSS', () => {
		const log = target(rule('-A INPUT -j LOG --log-prefix "tw web: " --log-level 6 --log-uid'));
		expect(log).toMatchObject({kind: 'extension', terminates: false, inert: true});
		expect(log.options.map(o => [o.name, o.value])).toEqual([['--log-prefix', {kind: 'text', text: 'tw web: '}], ['--log-level', {kind: 'word', word: '6'}], ['--log-uid', {kind: 'flag'}]]);
		expect(target(rule('-A INPUT -j NFLOG --nflog-group 5 --nflog-prefix x')).options.map(o => o.value)).toEqual([{kind: 'number', number: 5}, {kind: 'text', text: 'x'}]);
		expect(target(rule('-A INPUT -j TRACE'))).toMatchObject({kind: 'extension', terminates: false, inert: true, options: []});
		// CT and NOTRACK set up the conntrack entry and go on to the next rule (xt_CT returns XT_CONTINUE).
		expect(target(rule('-A INPUT -p udp -j CT --notrack'))).toMatchObject({terminates: false, options: [{name: '--notrack', value: {kind: 'flag'}}]});
		expect(target(rule('-A INPUT -j CT --zone 1')).options[0]!.value).toEqual({kind: 'number', number: 1});
		expect(target(rule('-A INPUT -j NOTRACK'))).toMatchObject({terminates: false});
		expect(target(rule('-A INPUT -p tcp -j TCPMSS --clamp-mss-to-pmtu')).options[0]!.value).toEqual({kind: 'flag'});
		expect(target(rule('-A INPUT -p tcp -j TCPMSS --set-mss 1400')).options[0]!.value).toEqual({kind: 'number', number: 1400});
		for (const t of ['LOG', 'NFLOG', 'TRACE', 'CT', 'NOTRACK', 'TCPMSS', 'REJECT', 'NFQUEUE', 'MARK', 'CONNMARK']) expect(target(rule(`-A INPUT -j ${t}`)).unknown, t).toBeUndefined();
	});
});

describe('the other match modules and targets of iptables-extensions(8)', () => {
	it('numbers in decimal and hexadecimal, ranges with open ends, flags', () => {
		expect(value(rule('-A INPUT -m length --length 4:'), '--length')).toEqual({kind: 'range', from: 4, to: 18_446_744_073_709_551_615});
		expect(value(rule('-A INPUT -m length --length 1'), '--length')).toEqual({kind: 'range', from: 1, to: 1});
		expect(value(rule('-A INPUT -p esp -m esp --espspi 0:4294967294'), '--espspi')).toEqual({kind: 'range', from: 0, to: 4_294_967_294});
		expect(value(rule('-A INPUT -m dscp --dscp 0x2e'), '--dscp')).toEqual({kind: 'number', number: 0x2e});
		expect(value(rule('-A INPUT -m quota --quota 18446744073709551615'), '--quota')).toEqual({kind: 'number', number: 18_446_744_073_709_551_615, exact: '18446744073709551615'});
		expect(value(rule('-A INPUT -m frag --fragfirst'), '--fragfirst')).toEqual({kind: 'flag'});
		expect(shape(rule('-A INPUT -m ttl ! --ttl-eq 5 -m tos --tos 0x10/0x3f'))).toEqual([
			['ttl', 'explicit', [['--ttl-eq', true, {kind: 'number', number: 5}]]],
			['tos', 'explicit', [['--tos', false, {kind: 'mark', mark: {value: 0x10, mask: 0x3f}}]]],
		]);
	});

	it('rates: packets per unit, bytes (hashlimit), bits (rateest); bursts in bytes', () => {
		expect(value(rule('-A INPUT -m hashlimit --hashlimit-upto 4kb/s --hashlimit-burst 1mb --hashlimit-name x'), '--hashlimit-upto')).toEqual({kind: 'rate', count: 4096, per: 'second', unit: 'bytes'});
		expect(value(rule('-A INPUT -m hashlimit --hashlimit-above 1/min --hashlimit-burst 1mb --hashlimit-name x'), '--hashlimit-burst')).toEqual({kind: 'bytes', bytes: 1_048_576});
		expect(value(rule('-A INPUT -m hashlimit --hashlimit-above 1/min --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name x'), '--hashlimit-mode')).toEqual({kind: 'list', items: ['srcip', 'dstport']});
		expect(value(rule('-A INPUT -m rateest --rateest RE1 --rateest-lt --rateest-bps 5000bit'), '--rateest-bps')).toEqual({kind: 'rate', count: 5000, per: 'second', unit: 'bits'});
		expect(value(rule('-A INPUT -j RATEEST --rateest-name RE1 --rateest-interval 250.0ms --rateest-ewmalog 500.0ms'), '--rateest-interval')).toEqual({kind: 'duration', seconds: 0.25});
	});

	it('time, dates, sctp chunks, IPv6 options, classes, text, masked addresses, NAT port offsets', () => {
		const t = rule('-A INPUT -m time --timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2 --weekdays Mon,Fri --datestart 2001-02-03T04:05:06 --kerneltz');
		expect(value(t, '--timestart')).toEqual({kind: 'time', time: '01:02:03', seconds: 3723});
		expect(value(t, '--datestart')).toEqual({kind: 'date', date: '2001-02-03T04:05:06'});
		expect(value(t, '--weekdays')).toEqual({kind: 'list', items: ['Mon', 'Fri']});
		expect(value(rule('-A INPUT -p sctp -m sctp --chunk-types only DATA:Be,INIT'), '--chunk-types')).toEqual({kind: 'chunks', match: 'only', chunks: [{name: 'DATA', flags: 'Be'}, {name: 'INIT'}]});
		expect(value(rule('-A INPUT -m dst --dst-opts 149:92,12'), '--dst-opts')).toEqual({kind: 'ip6Options', options: [{type: 149, length: 92}, {type: 12}]});
		expect(value(rule('-A FORWARD -j CLASSIFY --set-class 0001:0010'), '--set-class')).toEqual({kind: 'class', major: 1, minor: 16});
		expect(value(rule('-A INPUT -m string --hex-string "|0a0a|" --algo bm'), '--hex-string')).toEqual({kind: 'text', text: '|0a0a|'});
		expect(value(rule('-A INPUT -s 10.0.12.0/255.0.255.0'), '-s')).toEqual({kind: 'addrMasks', addrs: [{text: '10.0.12.0/255.0.255.0', addr: '10.0.12.0', mask: '255.0.255.0', v6: false}]});
		expect(value(rule('-A INPUT -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000'), '--to-destination')).toEqual({kind: 'nat', nat: {minAddr: '1.1.1.1', maxAddr: '1.1.1.1', v6: false, minPort: 1000, maxPort: 2000, basePort: 3000}});
	});

	it('options go to the module that takes them: policy --mode, recent --set and --mask, connlabel --set', () => {
		expect(shape(rule('-A INPUT -m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8'))).toEqual([
			[
				'policy',
				'explicit',
				[
					['--dir', false, {kind: 'word', word: 'in'}],
					['--pol', false, {kind: 'word', word: 'ipsec'}],
					['--strict', false, {kind: 'flag'}],
					['--reqid', false, {kind: 'number', number: 1}],
					['--spi', false, {kind: 'number', number: 1}],
					['--proto', false, {kind: 'word', word: 'esp'}],
					['--mode', false, {kind: 'word', word: 'tunnel'}],
					['--tunnel-dst', false, expect.objectContaining({kind: 'addrs'}) as OptionValue],
				],
			],
		]);
		const recent = rule('-A INPUT -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource');
		expect(recent.parsed.matches.map(m => [m.module, m.unknown, m.options.map(o => o.value.kind)])).toEqual([['recent', undefined, ['flag', 'word', 'addrs', 'flag']]]);
		expect(rule('-A INPUT -m connlabel --label "40" --set').parsed.matches.map(m => m.options.map(o => [o.name, o.value]))).toEqual([
			[
				['--label', {kind: 'text', text: '40'}],
				['--set', {kind: 'flag'}],
			],
		]);
	});

	it('every target says what the walk does after it (src/netfilter/targets.ts)', () => {
		const walk = (line: string) => target(rule(line)).walk;
		expect(walk('-A INPUT -j CT --notrack')).toBe('continues');
		expect(walk('-A INPUT -j LOG')).toBe('continues');
		expect(walk('-A INPUT -j REJECT')).toBe('ends');
		expect(walk('-A INPUT -p tcp -j SYNPROXY --sack-perm')).toBe('may-continue');
		expect(walk('-A INPUT -j X')).toBe('jump');
		expect(walk('-A INPUT -g X')).toBe('goto');
		expect(target(rule('-A INPUT -j CT --notrack'))).toMatchObject({terminates: false, inert: false});
		expect(target(rule('-A INPUT -j TEE --gateway 10.0.0.1'))).toMatchObject({terminates: false, inert: true});
	});
});

describe('counters', () => {
	it('-c p b (iptables -v -S) and [p:b] (iptables-save -c); neither is in the text or the matches', () => {
		const [v, save] = rules('-A INPUT -p tcp -c 10 600 -j ACCEPT', '[4:240] -A INPUT -p tcp -j ACCEPT');
		expect(v!.parsed.counters).toEqual({packets: 10, bytes: 600});
		expect(v!.counters).toEqual({packets: 10, bytes: 600});
		expect(v!.text).toBe('-A INPUT -p tcp -j ACCEPT');
		expect(v!.matches).toEqual(['-p', 'tcp']);
		expect(v!.args).toEqual(['-p', 'tcp', '-c', '10', '600', '-j', 'ACCEPT']);
		expect(save!.counters).toEqual({packets: 4, bytes: 240});
		expect(save!.parsed.counters).toBeUndefined();
		const rs = parseRuleset('-P INPUT DROP -c 3 226\n', 'v.S');
		expect(rs.tables.get('filter')!.chains.get('INPUT')!.policyCounters).toEqual({packets: 3, bytes: 226});
	});
});

describe('what is not understood is kept, never an error', () => {
	it('an unknown match module: its options and their words', () => {
		// xtables-addons' geoip: a module tracewatch does not model. Options it reads by their
		// syntax elsewhere (--set, --mask) keep their values; the others are words.
		const r = rule('-A INPUT -m geoip --src-cc CN,RU --set --twname twfmt -j DROP');
		expect(r.parsed.matches).toHaveLength(1);
		const m = r.parsed.matches[0]!;
		expect(m).toMatchObject({module: 'geoip', unknown: true, words: ['-m', 'geoip']});
		expect(m.options.map(o => [o.name, o.value])).toEqual([
			['--src-cc', {kind: 'unknown', values: ['CN,RU']}],
			['--set', {kind: 'flag'}],
			['--twname', {kind: 'unknown', values: ['twfmt']}],
		]);
	});

	it('a value outside its syntax: a host name, a service name, a port above 65535', () => {
		expect(value(rule('-A INPUT -s example.com -j ACCEPT'), '-s')).toEqual({kind: 'unknown', values: ['example.com']});
		expect(value(rule('-A INPUT -p tcp --dport ssh -j ACCEPT'), '--dport')).toEqual({kind: 'unknown', values: ['ssh']});
		expect(value(rule('-A INPUT -p tcp --dport 70000 -j ACCEPT'), '--dport')).toEqual({kind: 'unknown', values: ['70000']});
		expect(value(rule('-A INPUT -s 10.0.0.300 -j ACCEPT'), '-s')).toEqual({kind: 'unknown', values: ['10.0.0.300']});
	});

	it('an unknown option of a known target or module; a stray word', () => {
		const tee = rule('-A INPUT -j TEE --gateway 10.0.0.9 --tw-extra 1');
		expect(target(tee)).toMatchObject({name: 'TEE', kind: 'extension', walk: 'continues'});
		expect(target(tee).unknown).toBeUndefined();
		expect(target(tee).options.map(o => [o.name, o.value.kind])).toEqual([
			['--gateway', 'addrs'],
			['--tw-extra', 'unknown'],
		]);
		expect(value(rule('-A INPUT -p tcp -m tcp --tcp-twopt 5 -j ACCEPT'), '--tcp-twopt')).toEqual({kind: 'unknown', values: ['5']});
		const stray = rule('-A INPUT -p tcp oops -j ACCEPT');
		expect(stray.parsed.pieces.map(p => p.piece)).toEqual(['option', 'stray', 'target']);
		expect(stray.matches).toEqual(['-p', 'tcp', 'oops']);
	});

	it('the pieces are the rule as written, in order: nothing dropped', () => {
		const line = '-A INPUT -i eth0 -p tcp -m multiport --dports 80,443 -m comment --comment "web in" -m foo --bar 1 2 -j LOG --log-prefix "a b: " --weird';
		const r = rule(line);
		expect(r.parsed.pieces.flatMap(p => p.words)).toEqual(r.args);
		expect(r.text).toBe(line);
	});
});

describe('rule fields the rest of tracewatch reads', () => {
	it('-I CHAIN N inserts at N and reads as -A', () => {
		const rs = parseRuleset('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n-I INPUT 1 -s 10.0.0.1 -j ACCEPT\n-I INPUT -p icmp -j ACCEPT\nCOMMIT\n', 'x');
		expect(rs.tables.get('filter')!.chains.get('INPUT')!.rules.map(r => [r.pos, r.text])).toEqual([
			[1, '-A INPUT -p icmp -j ACCEPT'],
			[2, '-A INPUT -s 10.0.0.1 -j ACCEPT'],
			[3, '-A INPUT -j DROP'],
		]);
	});

	it('target, targetArgs, goto, matches as before', () => {
		const r = rule('-A INPUT -s 10.0.0.1/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080');
		expect([r.matches, r.target, r.targetArgs, r.goto]).toEqual([['-s', '10.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80'], 'DNAT', ['--to-destination', '10.0.0.2:8080'], false]);
		// A -j that ends a cut line names no target.
		const cut = rule('-A INPUT -s 10.0.0.1 -j');
		expect([cut.target, cut.parsed.target, cut.matches]).toEqual([undefined, undefined, ['-s', '10.0.0.1']]);
	});
});
