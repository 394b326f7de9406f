/**
 * The ruleset as data (`tracewatch rules --format json`), each rule's structure as text
 * (`tracewatch rules -v`), and the jump-loop lint, on real dumps from testdata/.
 *
 * Input:  testdata/rules/node-working.save (iptables-legacy-save -c of a Calico + kube-proxy node),
 *         testdata/conformance/iptables/*.save (the iptables project's extension tests, saved)
 * Output: tables, chains (policy, counters, hook, priority) and rules with their matches and
 *         targets; what is not understood marked; loops of jumps reported as impossible dumps.
 */
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {renderRuleset} from '../../src/cli/rules.js';
import {lintRulesets} from '../../src/model/findings/lint.js';
import {rulesetTables, type ChainData, type RuleData} from '../../src/parser/rule-data.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {ROOT} from '../support/replay.js';

const NODE = 'testdata/rules/node-working.save';
const nodeText = readFileSync(`${ROOT}/${NODE}`, 'utf8');
const node = parseRuleset(nodeText, NODE);

function chainOf(table: string, chain: string): ChainData {
	const t = rulesetTables(node).find(x => x.name === table)!;
	return t.chains.find(c => c.name === chain)!;
}

describe('rules --format json: the dump as data', () => {
	const tables = rulesetTables(node);

	it('tables in the order of the dump, each with its line; built-in chains with hook, priority, policy and counters', () => {
		expect(tables.map(t => [t.name, t.line])).toEqual([
			['filter', 2],
			['nat', 102],
			['mangle', 167],
			['raw', 193],
		]);
		expect(chainOf('nat', 'PREROUTING')).toMatchObject({builtin: true, policy: 'ACCEPT', counters: {packets: 2, bytes: 144}, line: 103, hook: 'PREROUTING', priority: -100});
		expect(chainOf('nat', 'POSTROUTING')).toMatchObject({hook: 'POSTROUTING', priority: 100});
		expect(chainOf('filter', 'FORWARD')).toMatchObject({hook: 'FORWARD', priority: 0});
		const user = chainOf('nat', 'KUBE-SERVICES');
		expect(user.builtin).toBe(false);
		expect(user).not.toHaveProperty('hook');
		expect(user).not.toHaveProperty('policy');
	});

	it('a DNAT rule: position, line, counters, every match with its options read, the target with its NAT range', () => {
		const rule = chainOf('nat', 'KUBE-SEP-MQ2DQMRXMYZTEZLC').rules[1]!;
		expect(rule).toMatchObject({pos: 2, line: 147, counters: {packets: 2, bytes: 120}, understood: true});
		expect(rule.text).toBe('-A KUBE-SEP-MQ2DQMRXMYZTEZLC -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 198.18.1.50:6443');
		expect(rule.matches.map(m => [m.module, m.load])).toEqual([['basic', 'basic'], ['comment', 'explicit'], ['tcp', 'explicit']]);
		expect(rule.matches[0]!.options[0]).toEqual({name: '-p', negated: false, value: {kind: 'proto', proto: 'tcp', number: 6}, text: '-p tcp'});
		expect(rule.matches[1]!.options[0]!.value).toEqual({kind: 'text', text: 'default/kubernetes:https'});
		expect(rule.target).toEqual({
			name: 'DNAT',
			kind: 'extension',
			goto: false,
			walk: 'ends',
			options: [{name: '--to-destination', negated: false, value: {kind: 'nat', nat: {minAddr: '198.18.1.50', maxAddr: '198.18.1.50', v6: false, minPort: 6443, maxPort: 6443}}, text: '--to-destination 198.18.1.50:6443'}],
		});
	});

	it('negation per option; addresses without their numeric form; jumps and gotos to user chains', () => {
		const [drop] = chainOf('filter', 'KUBE-FIREWALL').rules as [RuleData];
		const basic = drop.matches[0]!.options;
		expect(basic[0]).toMatchObject({name: '-s', negated: true, value: {kind: 'addrs', addrs: [{text: '127.0.0.0/8', addr: '127.0.0.0', bits: 8, v6: false}]}});
		expect(drop.matches.find(m => m.module === 'conntrack')!.options[0]).toMatchObject({name: '--ctstate', negated: true, value: {kind: 'list', items: ['RELATED', 'ESTABLISHED', 'DNAT']}});
		const gotos = chainOf('filter', 'cali-from-wl-dispatch').rules.filter(r => r.target?.goto);
		expect(gotos.length).toBeGreaterThan(0);
		expect(gotos[0]!.target).toMatchObject({kind: 'chain', goto: true, walk: 'goto'});
		expect(chainOf('filter', 'INPUT').rules[0]!.target).toMatchObject({name: 'cali-INPUT', kind: 'chain', walk: 'jump'});
	});

	it('every rule of the iptables conformance corpus is data JSON can hold, each with its text and structure', () => {
		for (const name of ['legacy-ipv4.save', 'nft-ipv6.save']) {
			const rs = parseRuleset(readFileSync(`${ROOT}/testdata/conformance/iptables/${name}`, 'utf8'), name);
			const back = JSON.parse(JSON.stringify(rulesetTables(rs))) as Array<{chains: ChainData[]}>;
			const rules = back.flatMap(t => t.chains.flatMap(c => c.rules));
			expect(rules.length).toBeGreaterThan(1300);
			expect(rules.every(r => r.text.startsWith('-A ') && r.understood)).toBe(true);
		}
	});

	it('what is not understood is kept as text and marked: a module tracewatch does not model, a value outside its syntax', () => {
		const edited = nodeText.replace('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', '-A KUBE-FORWARD -m geoip --src-cc CN -p tcp --dport ssh -j DROP');
		const [rule] = rulesetTables(parseRuleset(edited, NODE))
			.find(t => t.name === 'filter')!
			.chains.find(c => c.name === 'KUBE-FORWARD')!.rules as [RuleData];
		expect(rule.understood).toBe(false);
		expect(rule.notUnderstood).toEqual(['match geoip', '--src-cc (geoip): CN', '--dport (tcp): ssh']);
		expect(rule.matches.find(m => m.module === 'geoip')).toMatchObject({understood: false, options: [{name: '--src-cc', text: '--src-cc CN', understood: false}]});
		expect(rule.matches.find(m => m.module === 'tcp')!.options[0]).toMatchObject({text: '--dport ssh', understood: false, value: {kind: 'unknown', values: ['ssh']}});
	});
});

describe('rules -v: every rule with its structure', () => {
	const text = renderRuleset(node);

	it('tables, chains with policy, counters and line, then each rule with its matches, options and what the target does', () => {
		expect(text).toContain('*nat\n  :PREROUTING ACCEPT [2:144]  line 103\n');
		expect(text).toContain(
			[
				'      2  line 147  -A KUBE-SEP-MQ2DQMRXMYZTEZLC -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 198.18.1.50:6443',
				'         basic          -p tcp  = tcp (6)',
				'         -m comment     --comment default/kubernetes:https',
				'         -m tcp',
				'         -j DNAT        extension: the walk ends here',
				'                        --to-destination 198.18.1.50:6443  = 198.18.1.50 port 6443',
			].join('\n'),
		);
		expect(text).toContain('         -j KUBE-MARK-MASQ user chain: jumps, and comes back unless the chain ends the walk');
	});

	it('names what it does not understand', () => {
		const edited = parseRuleset(nodeText.replace('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', '-A KUBE-FORWARD -p tcp --dport ssh -j DROP'), NODE);
		const out = renderRuleset(edited);
		expect(out).toContain('         tcp            --dport ssh  not understood\n');
		expect(out).toContain('         not understood: --dport (tcp): ssh\n');
	});
});

describe('lint: jump loops', () => {
	it('no real dump in testdata has one', () => {
		const dumps = ['testdata/rules/node-working.save', 'testdata/rules/node-broken.save', 'testdata/rules/cilium-leftovers.save', ...['legacy-ipv4', 'legacy-ipv6', 'nft-ipv4', 'nft-ipv6'].map(n => `testdata/conformance/iptables/${n}.save`)];
		const rulesets = dumps.map(p => parseRuleset(readFileSync(`${ROOT}/${p}`, 'utf8'), p));
		expect(lintRulesets(rulesets).filter(f => f.kind === 'jump-loop')).toEqual([]);
	});

	it('a dump edited so that a chain jumps back into itself through others: one error naming the loop and its rules', () => {
		// KUBE-SVC-NPX46M4PTMTKRN6Y → KUBE-SEP-MQ2DQMRXMYZTEZLC exists; make the endpoint chain jump back to the services chain.
		const edited = nodeText.replace(
			'[0:0] -A KUBE-SEP-MQ2DQMRXMYZTEZLC -s 198.18.1.50/32',
			'[0:0] -A KUBE-SEP-MQ2DQMRXMYZTEZLC -j KUBE-SERVICES\n[0:0] -A KUBE-SEP-MQ2DQMRXMYZTEZLC -s 198.18.1.50/32',
		);
		const loops = lintRulesets([parseRuleset(edited, NODE)]).filter(f => f.kind === 'jump-loop');
		expect(loops).toHaveLength(1);
		const [loop] = loops as [(typeof loops)[0]];
		expect(loop.severity).toBe('error');
		expect(loop.message).toMatch(/^nat:KUBE-SERVICES → KUBE-SVC-NPX46M4PTMTKRN6Y → KUBE-SEP-MQ2DQMRXMYZTEZLC → KUBE-SERVICES: the chains jump back into the first through each other; the kernel refuses to load a loop/);
		expect(loop.rules.map(r => `${r.chain} ${r.pos}`)).toEqual(['KUBE-SERVICES 1', expect.stringMatching(/^KUBE-SVC-NPX46M4PTMTKRN6Y \d$/), 'KUBE-SEP-MQ2DQMRXMYZTEZLC 1']);
	});

	it('a chain that jumps to itself', () => {
		const edited = nodeText.replace('[0:0] -A KUBE-MARK-MASQ -j MARK', '[0:0] -A KUBE-MARK-MASQ -p udp -j KUBE-MARK-MASQ\n[0:0] -A KUBE-MARK-MASQ -j MARK');
		const [loop] = lintRulesets([parseRuleset(edited, NODE)]).filter(f => f.kind === 'jump-loop');
		expect(loop?.message).toMatch(/^nat:KUBE-MARK-MASQ → KUBE-MARK-MASQ: the chain jumps to itself/);
	});
});

describe('rules --format json and -v for an nft listing', () => {
	const path = 'testdata/nft-rulesets/kube-proxy/ruleset-a.nft';
	const rs = parseRuleset(readFileSync(`${ROOT}/${path}`, 'utf8'), path);

	it('tables with family and handle; base chains with type, nft hook, priority as number and as written; sets with elements; rules with handles and nft expressions', () => {
		const [kp] = rulesetTables(rs);
		expect(kp).toMatchObject({name: 'kube-proxy', family: 'ip', handle: expect.any(Number), iptablesNft: false});
		expect(kp!.chains.find(c => c.name === 'filter-prerouting')).toMatchObject({builtin: true, policy: 'ACCEPT', type: 'filter', hook: 'prerouting', priority: -110, priorityText: 'dstnat - 10', handle: expect.any(Number)});
		expect(kp!.sets!.find(s => s.name === 'service-ips')).toMatchObject({map: true, type: 'ipv4_addr . inet_proto . inet_service : verdict', elements: expect.arrayContaining([{text: '198.19.96.1 . tcp . 443 : goto service-2QRHZV4L-default/kubernetes/tcp/https', chain: 'service-2QRHZV4L-default/kubernetes/tcp/https'}])});
		const rule = kp!.chains.find(c => c.name === 'service-2QRHZV4L-default/kubernetes/tcp/https')!.rules[0]!;
		expect(rule).toMatchObject({pos: 1, handle: expect.any(Number), understood: true, text: 'ip daddr 198.19.96.1 tcp dport 443 ip saddr != 198.19.64.0/19 jump mark-for-masquerade'});
		expect(rule.matches[0]!.options.map(o => [o.expr, o.name, o.negated, o.text])).toEqual([
			['ip daddr', '-d', false, 'ip daddr 198.19.96.1'],
			['ip saddr', '-s', true, 'ip saddr != 198.19.64.0/19'],
		]);
		expect(rule.target).toMatchObject({name: 'mark-for-masquerade', kind: 'chain', walk: 'jump', nft: 'jump mark-for-masquerade'});
		const masq = kp!.chains.find(c => c.name === 'masquerading')!.rules[1]!;
		expect(masq.target).toMatchObject({name: 'MARK', nft: 'meta mark set meta mark ^ 0x00004000', options: [{name: '--xor-mark', value: {kind: 'mark', mark: {value: 0x4000}}}]});
		expect(JSON.parse(JSON.stringify(rulesetTables(rs)))).toEqual(rulesetTables(rs));
	});

	it('-v: table, sets, base chain declaration, rules with handles and what each statement reads as', () => {
		const text = renderRuleset(rs);
		expect(text).toContain('table ip kube-proxy\n  set cluster-ips: ipv4_addr  line 3, 3 element(s)\n');
		expect(text).toMatch(/ {2}chain nat-postrouting: type nat hook postrouting priority srcnat \(100\); policy accept {2}line \d+ {2}handle \d+\n {6}1 {2}line \d+ {2}handle \d+ {2}jump masquerading\n {9}jump masquerading user chain: jumps, and comes back unless the chain ends the walk\n/);
		expect(text).toMatch(/handle \d+ {2}numgen random mod 1 vmap \{ 0 : goto endpoint-GTK6MW7G-default\/kubernetes\/tcp\/https__198\.18\.1\.50\/6443 \}\n {9}vmap {11}verdict map \(1 chain\(s\)\): the walk may end here or go on\n/);
		expect(text).toContain('         vmap           verdict map @service-ips: the walk may end here or go on\n');
	});
});
