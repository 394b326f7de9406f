/**
 * The rules-changed finding of `replay --rules` (src/model/findings/rules-changed.ts), through the
 * pipeline as replay runs it: never on a bundled trace with the dump saved with it; on the
 * bundled xtables-monitor trace with the dumps saved before and after a rule was inserted; and on
 * a bundled legacy dump edited here the way a rewrite moves rules.
 */
import {readdirSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {explainTrace} from '../../src/model/explain/index.js';
import type {Finding} from '../../src/model/findings/types.js';
import {RuleIndex} from '../../src/model/join.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset, type Ruleset} from '../../src/parser/ruleset.js';
import {exists, read, ROOT, rules} from '../support/replay.js';

function replay(trace: string, rs: Ruleset[]) {
	return collect([{path: trace, lines: parseTraceText(read(trace))}], {rules: rs});
}

function changed(findings: readonly Finding[]): Finding[] {
	return findings.filter(f => f.kind === 'rules-changed');
}

describe('rules-changed: not on a trace replayed with the dump saved with it', () => {
	const cases: Array<[string, string[]]> = [];
	for (const top of ['testdata/dmesg', 'testdata/nft', 'testdata/ipv6-captures/dmesg', 'testdata/ipv6-captures/nft'].filter(d => exists(d))) {
		for (const name of readdirSync(new URL(top, `file://${ROOT}`)).sort()) {
			const dir = `${top}/${name}`;
			if (!exists(`${dir}/README.md`)) continue;
			const dumps = ['iptables.save', 'ip6tables.save'].map(f => `${dir}/${f}`).filter(f => exists(f) && read(f).trim() !== '');
			for (const form of ['dmesg.log', 'dmesg-T.log', 'kmsg.log', 'xtables-monitor.log', 'nft-monitor.log']) if (exists(`${dir}/${form}`)) cases.push([`${dir}/${form}`, dumps]);
		}
	}

	it.each(cases)('%s', (trace, dumps) => {
		const rs = rules(...dumps);
		const {packets, summary, pipeline} = replay(trace, rs);
		expect(changed(summary.findings)).toEqual([]);
		// Packet by packet as the pipeline settles them, the prediction agrees where explain --trace's does
		// (which predicts no frame only the bridge hooks saw).
		const batch = new Map(explainTrace(packets, new RuleIndex(rs)).map(b => [b.packet.id, b.divergence === null]));
		expect(packets.map(p => pipeline.comparison(p.id)?.divergence === null)).toEqual(packets.map(p => batch.get(p.id) ?? false));
	});
});

describe('rules-changed: the dump is not the ruleset the kernel ran', () => {
	// xtables-monitor traced eight pings while a rule was inserted at the top of filter INPUT
	// (testdata/formats/SOURCES.md): xtmon-iptables-nft-v4.save is the ruleset before the
	// insertion, -end.save after it.
	const TRACE = 'testdata/formats/xtables-monitor-1.8.9-trace-4.log';

	it('a dump saved before the insertion: the packet that met the new rule, named at its first disagreeing hop', () => {
		const dump = 'testdata/formats/rules/xtmon-iptables-nft-v4.save';
		const {summary} = replay(TRACE, rules(dump));
		const [f, ...more] = changed(summary.findings);
		expect(more).toEqual([]);
		expect(f).toMatchObject({kind: 'rules-changed', severity: 'warning', packets: [8]});
		expect(f!.message).toMatch(/^1 traced packet took a path the --rules dump cannot give; the first, #8, parts from the dump's prediction at hop \d+: predicted filter:INPUT:\S+ \(ACCEPT\), traced filter:INPUT:rule:\S+ \(ACCEPT\)/);
		expect(f!.message).toMatch(/which filter:INPUT in the dump does not have: it was added since the dump/);
		// The traced rule is in no dump: the reference names its chain and text, no file.
		expect(f!.rules).toEqual([{table: 'filter', chain: 'INPUT', pos: null, text: '-A INPUT -p icmp -m comment --comment "added later" -j ACCEPT'}]);
	});

	it('a dump saved after the insertion: the packets traced before it', () => {
		const dump = 'testdata/formats/rules/xtmon-iptables-nft-v4-end.save';
		const [f] = changed(replay(TRACE, rules(dump)).summary.findings);
		expect(f).toMatchObject({packets: [1]});
		expect(f!.message).toMatch(/rule 1 of filter:INPUT in the dump \(-A INPUT -p icmp -m comment --comment "added later" -j ACCEPT\) matches the packet, yet the kernel did not run it/);
		expect(f!.rules[0]).toMatchObject({file: dump, table: 'filter', chain: 'INPUT'});
	});

	it('a legacy dump that lost a rule: the traced rule number names another rule, one the packet cannot match', () => {
		// The dump as kube-proxy-style rewrites leave it: TW-FORWARD's first rule deleted, so the
		// SYN's traced rule:2 is now the ICMP rule. Every hop still exists in the dump.
		const text = read('testdata/dmesg/fwd-dnat-masq/iptables.save');
		const edited = text.replace('[0:0] -A TW-FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\n', '');
		expect(edited).not.toBe(text);
		const stale = parseRuleset(edited, 'stale.save');
		const {summary} = replay('testdata/dmesg/fwd-dnat-masq/dmesg.log', [stale]);
		expect(summary.findings.filter(f => f.kind === 'rules-mismatch')).toEqual([]);
		const [f] = changed(summary.findings);
		expect(f).toMatchObject({packets: [1]});
		expect(f!.message).toMatch(/#1, parts from the dump's prediction at hop \d+: predicted filter:TW-FORWARD:rule:1 \(ACCEPT\), traced filter:TW-FORWARD:rule:2 \(ACCEPT\); likely a stale dump: rule 2 of filter:TW-FORWARD in the dump \(-A TW-FORWARD -p icmp/);
		expect(f!.rules[0]).toMatchObject({file: 'stale.save', table: 'filter', chain: 'TW-FORWARD', pos: 2});
	});

	it('a hop the join already finds impossible is rules-mismatch only, not counted twice', () => {
		// Both TW-FORWARD rules before the one the SYN matched are gone: the trace's rule:2 is past the chain's end.
		const text = read('testdata/dmesg/fwd-dnat-masq/iptables.save');
		const edited = text.replace('[0:0] -A TW-FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\n', '').replace(/\[\d+:\d+\] -A TW-FORWARD -p icmp[^\n]*\n/, '');
		const stale = parseRuleset(edited, 'stale.save');
		const {summary} = replay('testdata/dmesg/fwd-dnat-masq/dmesg.log', [stale]);
		expect(summary.findings.find(f => f.kind === 'rules-mismatch')?.packets).toContain(1);
		expect(changed(summary.findings).flatMap(f => f.packets)).not.toContain(1);
	});

	it('without --rules there is nothing to predict', () => {
		const {summary, pipeline, packets} = replay(TRACE, []);
		expect(changed(summary.findings)).toEqual([]);
		expect(pipeline.comparison(packets[0]!.id)).toBeUndefined();
	});
});
