/**
 * Lint and join on native nftables listings, on the real captures of testdata/nft-rulesets/
 * (each traced with `nft monitor trace` and listed with `nft -a list ruleset`).
 *
 * Input:  ruleset-a.nft (and nft-monitor.log) of firewalld/, kube-proxy/, docker/
 * Output: lint findings with nft's commands; trace hops joined to the listing's rules with their
 *         positions and lines, hooks from the base chains' declarations, REJECT for nft's reject.
 */
import {describe, expect, it} from 'vitest';
import {lintRulesets} from '../../src/model/findings/lint.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {read, replayFiles} from '../support/replay.js';

const dir = (n: string) => `testdata/nft-rulesets/${n}`;
const listing = (n: string, text?: string) => parseRuleset(text ?? read(`${dir(n)}/ruleset-a.nft`), `${dir(n)}/ruleset-a.nft`);

describe('lint of native rulesets', () => {
	it('firewalld style: the zone chain nothing jumps to, the trace rule left, jumps to empty zone chains; nft commands in hints', () => {
		const findings = lintRulesets([listing('firewalld')]);
		expect(findings.map(f => `${f.kind} ${f.rules[0]?.chain}`)).toEqual([
			'empty-chain-jump filter_IN_public',
			'empty-chain-jump filter_IN_public',
			'empty-chain-jump filter_IN_public',
			'unreferenced-chain filter_IN_old_home',
			'trace-rule-left pre',
		]);
		const [unreferenced, trace] = findings.slice(3);
		expect(unreferenced!.hint).toMatch(/^If nothing should use it, remove it: nft flush chain inet firewalld filter_IN_old_home && nft delete chain inet firewalld filter_IN_old_home\./);
		expect(trace!.message).toMatch(/is a `meta nftrace set 1` rule/);
		expect(trace!.hint).toMatch(/^Remove it when you are done: nft delete rule ip tw-trace pre handle \d+\.$/);
	});

	it('kube-proxy style: chains reached only through verdict maps (named or anonymous) are referenced; no shadowing claimed', () => {
		const findings = lintRulesets([listing('kube-proxy')]);
		expect(findings.map(f => f.kind)).toEqual(['trace-rule-left']);
	});

	it('a chain a map names is unreferenced when no rule reads the map; a set nothing reads is reported', () => {
		const text = read(`${dir('kube-proxy')}/ruleset-a.nft`).replace(/\t\tip daddr \. meta l4proto \. th dport vmap @no-endpoint-services # handle \d+\n/, '');
		const findings = lintRulesets([listing('kube-proxy', text)]);
		expect(findings.map(f => `${f.kind} ${f.rules[0]?.chain || f.rules[0]?.text}`).sort()).toEqual([
			// The chain that held the rule is empty now, and three base chains jump to it.
			'empty-chain-jump filter-forward',
			'empty-chain-jump filter-input',
			'empty-chain-jump filter-output',
			'trace-rule-left pre',
			'unreferenced-chain reject-chain',
			'unreferenced-set map no-endpoint-services',
		]);
	});

	it('two base chains at one hook with the same priority: their order is not defined', () => {
		// The trace table's prerouting chain moved to kube-proxy's filter-prerouting priority.
		const text = read(`${dir('kube-proxy')}/ruleset-a.nft`).replace('type filter hook prerouting priority -400;', 'type filter hook prerouting priority dstnat - 10;');
		const [order] = lintRulesets([listing('kube-proxy', text)]).filter(f => f.kind === 'hook-order');
		expect(order?.severity).toBe('warning');
		expect(order?.message).toBe(
			'ip kube-proxy filter-prerouting and ip tw-trace pre are both at hook prerouting with priority -110: the order in which the kernel runs them is not defined, so which one sees the packet first can change when the rules are reloaded',
		);
	});

	it("firewalld's native table beside Docker's iptables-nft tables: which filter chain runs first at each hook, by priority", () => {
		const findings = lintRulesets([listing('firewalld-docker')]).filter(f => f.kind === 'hook-order');
		expect(findings.map(f => f.message)).toEqual(
			['input', 'forward', 'output'].map(
				(hook, i) =>
					`native nftables and iptables-nft rules at hook ${hook}: ip filter ${['INPUT', 'FORWARD', 'OUTPUT'][i]} (priority 0) runs before inet firewalld filter_${['INPUT', 'FORWARD', 'OUTPUT'][i]} (priority 10); a packet one of them accepts still goes through the other, a drop in either is final`,
			),
		);
		expect(findings.every(f => f.severity === 'info')).toBe(true);
	});

	it('a loop through a verdict map is a jump loop', () => {
		const text = read(`${dir('kube-proxy')}/ruleset-a.nft`).replace(/(\t\tmeta l4proto tcp dnat to 198\.18\.1\.50:6443)/, '\t\tjump services\n$1');
		const [loop] = lintRulesets([listing('kube-proxy', text)]).filter(f => f.kind === 'jump-loop');
		expect(loop?.message).toMatch(/^kube-proxy:services → service-2QRHZV4L-default\/kubernetes\/tcp\/https → endpoint-GTK6MW7G-default\/kubernetes\/tcp\/https__198\.18\.1\.50\/6443 → services: /);
		expect(loop?.hint).toMatch(/nft -a list table ip kube-proxy/);
	});
});

describe('replay --rules with an nft listing', () => {
	it('kube-proxy: every hop finds its rule, vmap rules too; hooks from the base chains; DNAT and MASQUERADE from the statements; reject is REJECT', () => {
		const {packets, findings} = replayFiles([`${dir('kube-proxy')}/nft-monitor.log`], [`${dir('kube-proxy')}/ruleset-a.nft`]);
		const [svc, noEndpoints] = packets;
		expect(svc!.hops.filter(h => h.kind === 'rule').every(h => h.ruleFrom === 'dump' && h.num !== undefined && h.ruleLine !== undefined)).toBe(true);
		const services = svc!.hops.find(h => h.chain === 'services')!;
		expect(services).toMatchObject({num: 1, target: 'vmap', rule: 'ip daddr . meta l4proto . th dport vmap @service-ips'});
		expect(services.note).toBeUndefined();
		expect(svc!.hops.filter(h => h.chain === 'nat-postrouting' || h.chain === 'masquerading').map(h => h.hook)).toEqual(['POSTROUTING', 'POSTROUTING', 'POSTROUTING']);
		expect(svc!.hops.find(h => h.chain === 'nat-prerouting')!.hook).toBe('PREROUTING');
		expect(svc!.nat.map(n => `${n.type} ${n.from} → ${n.to}`)).toEqual(['DNAT 198.19.96.1:443 → 198.18.1.50:6443', 'MASQUERADE 198.18.100.2:' + svc!.spt + ' → address of tw-upl0']);
		expect(noEndpoints!.verdict).toBe('REJECT');
		expect(noEndpoints!.verdictBasis).toMatch(/nft prints verdict drop for reject/);
		expect(findings.filter(f => f.kind === 'rules-changed')).toEqual([]);
		expect(findings.find(f => f.kind === 'dropped')?.message).toMatch(/rejected at kube-proxy:reject-chain:rule:1/);
	});

	it("firewalld and Docker's iptables-nft tables in one listing: the published port's SYN is joined hop by hop in both, DNAT found, both FORWARD chains accept", () => {
		const {packets} = replayFiles([`${dir('firewalld-docker')}/nft-monitor.log`], [`${dir('firewalld-docker')}/ruleset-a.nft`]);
		const syn = packets[0]!;
		expect(syn.hops.filter(h => h.kind === 'rule').map(h => `${h.table}:${h.chain}:${h.num}`)).toEqual([
			'tw-trace:pre:1',
			'nat:PREROUTING:1',
			'nat:DOCKER:2',
			'filter:FORWARD:1',
			'filter:DOCKER-USER:1',
			'filter:FORWARD:2',
			'filter:DOCKER-ISOLATION-STAGE-1:2',
			'filter:FORWARD:4',
			'filter:DOCKER:1',
			'firewalld:filter_FORWARD:2',
		]);
		expect(syn.nat.map(n => `${n.type} ${n.at}`)).toEqual(['DNAT nat:DOCKER:rule:2']);
		expect(syn.hops.filter(h => h.chain === 'FORWARD' || h.chain === 'filter_FORWARD').every(h => h.hook === 'FORWARD')).toBe(true);
		expect(syn.verdict).toBe('ACCEPT');
	});

	it('firewalld: an inet table joins IPv4 packets; the reject with icmpx is REJECT; the accept of the allow chain is found by position', () => {
		const {packets} = replayFiles([`${dir('firewalld')}/nft-monitor.log`], [`${dir('firewalld')}/ruleset-a.nft`]);
		expect(packets.map(p => `${p.dpt ?? p.proto} ${p.verdict} ${p.hops.at(-1)!.chain}:${p.hops.at(-1)!.num}`)).toEqual(['22 ACCEPT filter_IN_public_allow:1', '631 REJECT filter_INPUT:6', 'ICMP ACCEPT filter_IN_public:6']);
		expect(packets.every(p => p.hops.filter(h => h.table === 'firewalld').every(h => h.hook === 'PREROUTING' || h.hook === 'INPUT'))).toBe(true);
	});

	it("xtables-monitor hops of an iptables-nft node join nft -a's listing of its tables by handle; an xt match is said to hide its options", () => {
		const {packets} = replayFiles(['testdata/formats/xtables-monitor-1.8.9-trace-4.log'], ['testdata/formats/rules/xtmon-nft-list-ruleset-a.nft']);
		const ping = packets[0]!;
		expect(ping.hops.filter(h => h.kind === 'rule').map(h => `${h.table}:${h.chain}:${h.num} line ${h.ruleLine}`)).toEqual(['raw:PREROUTING:1 line 4', 'mangle:PREROUTING:1 line 18', 'mangle:PREROUTING:2 line 19', 'filter:INPUT:2 line 36']);
		expect(ping.hops.find(h => h.chain === 'INPUT')!.note).toBe(
			"the nft listing shows xt match recent without options (iptables-nft-save shows them): meta l4proto icmp xt match recent counter packets 0 bytes 0 accept",
		);
	});
});
