/**
 * What tracewatch tells the operator, on real captures of the field reports' cases
 * (testdata/dmesg, testdata/nft: scripts/capture-testdata.sh) and on the public corpus.
 */
import {describe, expect, it} from 'vitest';
import {diffRulesets} from '../src/model/diff.js';
import {findDivergence, pickPair} from '../src/model/divergence.js';
import {lintRulesets} from '../src/model/findings/lint.js';
import type {Finding} from '../src/model/findings/types.js';
import {replayFiles, rules} from './support/replay.js';

function summary(findings: readonly Finding[]): string[] {
	return findings.map(f => `${f.severity} ${f.kind}`).sort();
}

/** The three forms of one scenario: legacy kernel log, xtables-monitor, nft monitor trace. */
function forms(name: string): Array<[string, string, string[]]> {
	return [
		['legacy', `testdata/dmesg/${name}/dmesg.log`, [`testdata/dmesg/${name}/iptables.save`]],
		['xtables-monitor', `testdata/nft/${name}/xtables-monitor.log`, [`testdata/nft/${name}/iptables.save`]],
		['nft monitor', `testdata/nft/${name}/nft-monitor.log`, [`testdata/nft/${name}/iptables.save`]],
	];
}

describe('seed 000: pods on a WiFi node, router has no route to the pod network', () => {
	it.each(forms('wifi-no-reply'))('%s: one no-reply finding naming the unSNATed pod source and the fix', (_form, trace, rulePaths) => {
		const {findings, packets} = replayFiles([trace], rulePaths);
		expect(summary(findings)).toEqual(['warning no-reply']);
		const f = findings[0]!;
		expect(f.packets).toEqual(packets.filter(p => p.tcpFlags?.includes('SYN')).map(p => p.id));
		expect(f.packets.length).toBe(2); // the SYN and its retransmission
		expect(f.message).toContain('198.19.88.69');
		expect(f.message).toContain('(DNAT to 198.18.1.50:6443) left by wlp59s0 still carrying the private source 198.19.88.69');
		expect(f.message).toContain('without MASQUERADE/SNAT');
		expect(f.hint).toContain('iptables -t nat -A POSTROUTING -s 198.19.88.0/24 -o wlp59s0 -j MASQUERADE');
		expect(f.hint).toContain('The dump has no MASQUERADE/SNAT rule for -o wlp59s0.');
	});

	it('the final chain and OUT interface are the ones the field report saw', () => {
		const {packets} = replayFiles(['testdata/dmesg/wifi-no-reply/dmesg.log'], ['testdata/dmesg/wifi-no-reply/iptables.save']);
		const retransmit = packets[1]!;
		expect(retransmit.hops.at(-1)).toMatchObject({table: 'mangle', chain: 'POSTROUTING', kind: 'policy', num: 2, out: 'wlp59s0'});
		expect(retransmit.verdict).toBe('ACCEPT');
		expect(retransmit.replySeen).toBe(false);
	});

	it.each(forms('wifi-masquerade'))('%s: fixed by MASQUERADE, no finding', (_form, trace, rulePaths) => {
		const {findings, packets} = replayFiles([trace], rulePaths);
		expect(findings).toEqual([]);
		expect(packets[0]!.nat.map(n => n.type)).toEqual(['DNAT', 'MASQUERADE']);
		expect(packets[0]!.replySeen).toBe(true);
	});
});

describe('seed 004: request in on eth1, reply out on eth0', () => {
	it.each(forms('asymmetric-route'))('%s', (_form, trace, rulePaths) => {
		const {findings} = replayFiles([trace], rulePaths);
		expect(summary(findings)).toEqual(['warning asymmetric-route']);
		expect(findings[0]!.message).toMatch(/^TCP SYN 198\.19\.5\.10:\d+ → 198\.18\.1\.240:443: the request came in on eth1 and the reply left by eth0 \(3 replies\)$/);
		expect(findings[0]!.packets).toHaveLength(4);
	});
});

describe('seed 001: an MTU-reducing hop (ICMP frag-needed)', () => {
	it('legacy: both the TCP segments and the ping get frag-needed with MTU 1450 and the quoted packet', () => {
		const {findings} = replayFiles(['testdata/dmesg/frag-needed/dmesg.log'], ['testdata/dmesg/frag-needed/iptables.save']);
		expect(summary(findings)).toEqual(['warning frag-needed', 'warning frag-needed']);
		expect(findings[0]!.message).toMatch(/^2 times: 198\.18\.50\.1 says TCP 198\.18\.50\.2:\d+ → 198\.18\.51\.2:9000 \(1500 bytes, DF\) is too big for the next hop: MTU 1450/);
		expect(findings[1]!.message).toMatch(/^198\.18\.50\.1 says ICMP 198\.18\.50\.2 → 198\.18\.51\.2 \(1500 bytes, DF\) is too big for the next hop: MTU 1450/);
		expect(findings[0]!.hint).toContain('--clamp-mss-to-pmtu');
	});

	it('each error names the segment it quotes (by IP id), not the flow\'s latest packet', () => {
		for (const trace of ['testdata/dmesg/frag-needed/dmesg.log', 'testdata/nft/frag-needed/nft-monitor.log']) {
			const {packets} = replayFiles([trace], ['testdata/dmesg/frag-needed/iptables.save']);
			const errors = packets.filter(p => p.icmp?.type === 3 && p.icmp.code === 4 && p.quoted?.proto === 'TCP');
			expect(errors.length).toBe(2);
			for (const e of errors) {
				const quoted = packets.find(p => p.id === e.quotes);
				expect(quoted, trace).toBeDefined();
				expect(quoted!.ipId).toBe(e.quoted!.ipId);
				expect(quoted!.len).toBe(1500);
			}
		}
	});

	it('nft monitor: the MTU nft shows as "icmp sequence" and the quoted header in @th,64,96 are read', () => {
		const {findings} = replayFiles(['testdata/nft/frag-needed/nft-monitor.log'], ['testdata/nft/frag-needed/iptables.save']);
		expect(summary(findings)).toEqual(['warning frag-needed', 'warning frag-needed']);
		expect(findings[0]!.message).toContain('(1500 bytes, DF) is too big for the next hop: MTU 1450');
	});

	it('xtables-monitor prints no ICMP header, so it cannot tell (documented limitation)', () => {
		const {findings} = replayFiles(['testdata/nft/frag-needed/xtables-monitor.log'], ['testdata/nft/frag-needed/iptables.save']);
		expect(findings.filter(f => f.kind === 'frag-needed')).toEqual([]);
	});
});

describe('a drop in a user chain', () => {
	it.each(forms('drop-user-chain'))('%s: names the rule, its chain and position', (form, trace, rulePaths) => {
		const {findings} = replayFiles([trace], rulePaths);
		expect(summary(findings)).toEqual(['error dropped']);
		const f = findings[0]!;
		expect(f.message).toMatch(/^1 packet TCP SYN 198\.18\.12\.2:\d+ → 198\.18\.13\.2:23 dropped at filter:TW-POLICY:rule:3: -A TW-POLICY -p tcp -m tcp --dport 23 -m comment --comment "no telnet" -j DROP$/);
		expect(f.rules).toEqual([expect.objectContaining({table: 'filter', chain: 'TW-POLICY', pos: 3, text: '-A TW-POLICY -p tcp -m tcp --dport 23 -m comment --comment "no telnet" -j DROP', file: rulePaths[0]})]);
		if (form === 'legacy') expect(f.rules[0]!.line).toBe(12);
	});
});

describe('a router that refuses to forward a packet too big for the next hop', () => {
	it.each(forms('frag-needed-router').filter(([form]) => form !== 'xtables-monitor'))('%s: the refused packets are DROP, refused by the ICMP error, and not reported as dropped by a policy', (_form, trace, rulePaths) => {
		const {packets, findings} = replayFiles([trace], rulePaths);
		const refused = packets.filter(p => p.refusedBy !== undefined);
		expect(refused.map(p => [p.proto, p.verdict, packets.find(e => e.id === p.refusedBy)?.icmp?.mtu])).toEqual([
			['TCP', 'DROP', 1450],
			['TCP', 'DROP', 1450],
			['ICMP', 'DROP', 1450],
		]);
		for (const p of refused) expect(packets.find(e => e.id === p.refusedBy)!.quotes).toBe(p.id);
		expect(summary(findings)).toEqual(['warning frag-needed', 'warning frag-needed']);
	});
});

describe('a trace that stops before POSTROUTING, without --rules', () => {
	it('does not claim the packet left, nor suggest MASQUERADE: it says where the trace stops', () => {
		const {findings} = replayFiles(['testdata/dmesg/drop-user-chain/dmesg.log']);
		const f = findings.find(x => x.kind === 'no-reply')!;
		expect(f.message).toMatch(/^1 TCP SYN 198\.18\.12\.2:\d+ → 198\.18\.13\.2:23 routed to eth1 was last seen at filter:TW-POLICY:rule:3, and no reply was seen$/);
		expect(f.hint).toContain('probably dropped it');
		expect(f.hint).not.toContain('MASQUERADE');
	});
});

describe('seed 002: Cilium leftovers (tracewatch rules)', () => {
	it('reports exactly the planted defects (testdata/rules/README.md)', () => {
		const findings = lintRulesets(rules('testdata/rules/cilium-leftovers.save'));
		const got = findings.map(f => `${f.kind} ${f.rules.map(r => `${r.table}:${r.chain}${r.pos ? `#${r.pos}` : ''}`).join(' ')}`).sort();
		expect(got).toEqual(
			[
				'duplicate-rule filter:FORWARD#1 filter:FORWARD#2',
				'empty-chain-jump nat:OUTPUT#1',
				'shadowed-rule filter:INPUT#4 filter:INPUT#5',
				'trace-rule-left filter:FORWARD#4',
				'trace-rule-left raw:PREROUTING#2',
				'unreferenced-chain filter:OLD_CILIUM_FORWARD',
				'unreferenced-chain filter:OLD_CILIUM_INPUT',
				'unreferenced-chain mangle:OLD_CILIUM_PRE_mangle',
				'unreferenced-chain nat:OLD_CILIUM_OUTPUT_nat',
				'unreferenced-chain nat:OLD_CILIUM_POST_nat',
				'unreferenced-chain nat:OLD_CILIUM_PRE_nat',
				'unreferenced-chain raw:OLD_CILIUM_OUTPUT_raw',
				'unreferenced-chain raw:OLD_CILIUM_PRE_raw',
			].sort(),
		);
		const post = findings.find(f => f.rules[0]?.chain === 'OLD_CILIUM_POST_nat')!;
		expect(post.message).toBe('nat:OLD_CILIUM_POST_nat has 5 rule(s) but no rule jumps to it: a leftover from an upgrade or a failed cleanup');
		expect(post.severity).toBe('warning');
	});
});

describe('working/broken node pair (tracewatch diff)', () => {
	const [working, broken] = rules('testdata/rules/node-working.save', 'testdata/rules/node-broken.save') as [ReturnType<typeof rules>[number], ReturnType<typeof rules>[number]];

	it('shows exactly the missing MASQUERADE and the extra DROP', () => {
		const d = diffRulesets(working, broken);
		expect(d.differences.map(({table, chain, kind, working: w, broken: b}) => ({table, chain, kind, working: w, broken: b}))).toEqual([
			{table: 'filter', chain: 'FORWARD', kind: 'only-in-broken', working: null, broken: '-A FORWARD -d 198.18.1.0/24 -p tcp -m tcp --dport 10250 -j DROP'},
			{table: 'nat', chain: 'POSTROUTING', kind: 'only-in-working', working: '-A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE', broken: null},
		]);
		expect(d.differences[1]!.fix).toBe('iptables -t nat -I POSTROUTING 3 -s 198.19.64.0/19 -o wlp59s0 -j MASQUERADE');
		expect(d.differences[0]!.fix).toBe('iptables -t filter -D FORWARD -d 198.18.1.0/24 -p tcp -m tcp --dport 10250 -j DROP');
	});

	it('maps the node-specific names away and lists each once', () => {
		const d = diffRulesets(working, broken);
		expect(d.mappings.map(m => `${m.working} ↔ ${m.broken}`)).toEqual([
			'cali0c9d8e7f6a5 ↔ cali5e6f7a8b9c0',
			'cali7f3e9a1b2c4 ↔ cali1a2b3c4d5e6',
			'enp3s0 ↔ wlp59s0',
			'198.18.1.104/32 ↔ 198.18.1.105/32',
			'198.19.72.0/26 ↔ 198.19.88.64/26',
			'cali-fw-cali7f3e9a1b2c4 ↔ cali-fw-cali1a2b3c4d5e6',
			'cali-fw-cali0c9d8e7f6a5 ↔ cali-fw-cali5e6f7a8b9c0',
			'cali-tw-cali7f3e9a1b2c4 ↔ cali-tw-cali1a2b3c4d5e6',
			'cali-tw-cali0c9d8e7f6a5 ↔ cali-tw-cali5e6f7a8b9c0',
		]);
		expect(d.ignored).toContain('Calico rule ids (--comment "cali:…")');
	});

	it('--same declares a mapping the rules alone cannot show', () => {
		const d = diffRulesets(working, broken, {same: [['198.19.64.0/19', '198.19.64.0/19']]});
		expect(d.mappings[0]).toEqual({working: '198.19.64.0/19', broken: '198.19.64.0/19', why: 'declared with --same'});
	});

	it('says where the broken node’s packet parts from the working node’s, and which difference explains it', () => {
		const d = diffRulesets(working, broken);
		const w = replayFiles(['testdata/dmesg/node-working/dmesg-T.log'], ['testdata/rules/node-working.save']);
		const b = replayFiles(['testdata/dmesg/node-broken/dmesg-T.log'], ['testdata/rules/node-broken.save']);
		const [pw, pb] = pickPair(w.packets, b.packets)!;
		const div = findDivergence(pw, pb, d);
		expect(div.working.hop).toBe('nat:POSTROUTING:rule:3 -A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE');
		expect(div.broken.hop).toBe('nat:POSTROUTING:policy:3');
		expect(div.explainedBy).toMatchObject({table: 'nat', chain: 'POSTROUTING', kind: 'only-in-working'});
	});
});

describe('the public corpus', () => {
	it('the libvirt host pair: duplicates found on both hosts, and the diff counts the extra copies', () => {
		const [a, b] = rules('testdata/corpus/rules/libvirt-sshguard-duplicated-rules-hostA-jalapeno-rules.v4.txt', 'testdata/corpus/rules/libvirt-sshguard-duplicated-rules-hostB-testbed-rules.v4.txt') as [
			ReturnType<typeof rules>[number],
			ReturnType<typeof rules>[number],
		];
		const la = lintRulesets([a]);
		expect(la.filter(f => f.kind === 'duplicate-rule')).toHaveLength(16);
		expect(la.find(f => f.kind === 'duplicate-rule')!.message).toBe('mangle:POSTROUTING rule 1 appears 7 times (positions 1, 2, 3, 4, 5, 6, 7)');
		expect(lintRulesets([b]).filter(f => f.kind === 'duplicate-rule')).toHaveLength(16);
		const d = diffRulesets(a, b);
		const masq = d.differences.find(x => x.kind === 'changed');
		expect(masq).toMatchObject({table: 'nat', chain: 'POSTROUTING', working: '-A POSTROUTING -s 10.251.251.0/24 -o ens4 -j MASQUERADE', broken: '-A POSTROUTING -o ens4 -j MASQUERADE'});
		expect(d.differences.find(x => x.working === '-A POSTROUTING -o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill')).toMatchObject({kind: 'only-in-working', count: 3});
	});

	it('the before/after pair of one host: policies and every added rule', () => {
		const [before, after] = rules('testdata/corpus/rules/arter97-firewall-BEFORE-empty-nft-iptables-save.txt', 'testdata/corpus/rules/arter97-firewall-AFTER-ipset-geoip-nft-iptables-save.txt') as [
			ReturnType<typeof rules>[number],
			ReturnType<typeof rules>[number],
		];
		const d = diffRulesets(before, after);
		expect(d.differences.filter(x => x.kind === 'policy').map(x => `${x.chain}: ${x.working} → ${x.broken}`)).toEqual(['INPUT: -P INPUT ACCEPT → -P INPUT DROP', 'FORWARD: -P FORWARD ACCEPT → -P FORWARD DROP']);
		expect(d.differences.filter(x => x.kind === 'only-in-broken')).toHaveLength(21);
		expect(d.differences.filter(x => x.kind === 'only-in-working')).toHaveLength(0);
		expect(lintRulesets([before])).toEqual([]);
	});

	it('rules: what every published dump reports (false positives reviewed; see docs/findings.md)', () => {
		const files = [
			'aks-kubenet-calico-node0-iptables-list-rules-filter.txt',
			'cilium-kubeproxy-ipvs-docker-nodelocaldns-filter.txt',
			'homeassistant-docker-hassio-ip6tables-save-nft.txt',
			'killersh-cka-iptables-save-grep-service-with-legacy-warning-at-end.txt',
			'kubeadm-flannel-kubeproxy-nft-k8s-ctr-iptables-save.txt',
		];
		const got = Object.fromEntries(files.map(f => [f, summary(lintRulesets(rules(`testdata/corpus/rules/${f}`))).join(', ')]));
		expect(got).toEqual({
			'aks-kubenet-calico-node0-iptables-list-rules-filter.txt': Array(13).fill('info empty-chain-jump').join(', '),
			'cilium-kubeproxy-ipvs-docker-nodelocaldns-filter.txt': 'info empty-chain-jump, info empty-chain-jump, warning shadowed-rule, warning shadowed-rule, warning unreferenced-chain',
			'homeassistant-docker-hassio-ip6tables-save-nft.txt': 'info unreferenced-chain, info unreferenced-chain, warning unreferenced-chain',
			'killersh-cka-iptables-save-grep-service-with-legacy-warning-at-end.txt': 'error mixed-backends',
			'kubeadm-flannel-kubeproxy-nft-k8s-ctr-iptables-save.txt': Array(9).fill('info empty-chain-jump').join(', '),
		});
	});
});

describe('suggested commands', () => {
	it('remove TRACE rules by their specification, so running the hints in order removes the right rules', () => {
		const findings = lintRulesets(rules('testdata/dmesg/wifi-no-reply/iptables.save')).filter(f => f.kind === 'trace-rule-left');
		expect(findings.map(f => /Remove it when you are done: (.*) \(tracewatch disarm/.exec(f.hint)?.[1])).toEqual([
			'iptables -t raw -D PREROUTING -s 198.19.88.0/24 -j TRACE',
			'iptables -t raw -D PREROUTING -s 198.18.1.50/32 -p tcp -m tcp --sport 6443 -j TRACE',
			'iptables -t raw -D OUTPUT -s 198.19.88.0/24 -j TRACE',
		]);
	});
});
