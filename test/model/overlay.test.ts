/**
 * Each node of a flannel-style VXLAN overlay read on its own (testdata/nodes, real captures by
 * scripts/capture-two-nodes.sh): the outer packets are carriers, not requests, and a packet that
 * went into the overlay is not missing a MASQUERADE.
 */
import {describe, expect, it} from 'vitest';
import {isOverlayDevice, overlayOf} from '../../src/netfilter/overlay.js';
import {expectsReply} from '../../src/model/pairing.js';
import {Fleet, type FleetSummary} from '../../src/model/fleet.js';
import type {Summary} from '../../src/model/pipeline.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {isFleet} from '../../src/ui/journeys.js';
import {read, replayFiles, rules} from '../support/replay.js';

/** Each node's trace in every form captured, with the ruleset saved with it. */
function forms(variant: string, node: string): Array<[string, string, string]> {
	const dir = `testdata/nodes/${variant}/node-${node}`;
	return [
		['dmesg -T', `${dir}/dmesg-T.log`, `${dir}/iptables.save`],
		['/dev/kmsg', `${dir}/kmsg.log`, `${dir}/iptables.save`],
		['xtables-monitor', `${dir}/xtables-monitor.log`, `${dir}/iptables-nft.save`],
		['nft monitor', `${dir}/nft-monitor.log`, `${dir}/iptables-nft.save`],
	];
}

describe('the outer packets of an overlay', () => {
	it.each([...forms('working', 'a'), ...forms('working', 'b')])('%s: a working pair of nodes has no finding, though no VXLAN packet is answered', (_form, trace, dump) => {
		const {packets, findings} = replayFiles([trace], [dump]);
		const carriers = packets.filter(p => overlayOf(p));
		expect(carriers.length).toBeGreaterThanOrEqual(6);
		expect(carriers.every(p => p.proto === 'UDP' && p.dpt === 8472)).toBe(true);
		// They carry packets both ways: none asks for an answer of its own ("no reply expected", not "✗ none seen").
		expect(carriers.filter(p => expectsReply(p)).map(p => p.id)).toEqual([]);
		expect(findings).toEqual([]);
	});

	it.each(forms('broken', 'a'))('%s: node A says the packets went into the overlay unanswered, not that a MASQUERADE is missing', (_form, trace, dump) => {
		const {packets, findings} = replayFiles([trace], [dump]);
		// The TCP SYNs in every form; the pings too where the trace names ICMP's type (xtables-monitor does not).
		expect(findings.map(f => f.kind)).toEqual(_form === 'xtables-monitor' ? ['no-reply'] : ['no-reply', 'no-reply']);
		expect(findings.some(f => f.message.includes('TCP SYNs 198.19.1.2:'))).toBe(true);
		for (const f of findings) {
			expect(f.message).toContain('left by flannel.1 (an overlay to another node)');
			expect(f.message).not.toContain('private source');
			expect(f.hint).toContain('no SNAT is expected there');
			expect(f.hint).toContain('198.19.2.2');
			expect(f.rules).toEqual([]);
			for (const id of f.packets) expect(packets.find(p => p.id === id)!.out).toBe('flannel.1');
		}
	});

	it.each(forms('broken', 'b'))('%s: node B names the FORWARD policy that drops what the overlay delivers', (_form, trace, dump) => {
		const {findings} = replayFiles([trace], [dump]);
		expect(findings.map(f => `${f.severity} ${f.kind}`)).toEqual(['error dropped', 'error dropped']);
		for (const f of findings) {
			expect(f.message).toContain('dropped by the DROP policy of filter:FORWARD');
			if (!dump.endsWith('-nft.save')) {
				expect(f.rules.map(r => `${r.table}:${r.chain} ${r.text}`)).toEqual(['filter:FORWARD -P FORWARD DROP']);
				expect(f.rules[0]!.line).toBe(13);
			}
		}
	});
});

describe('one node: each packet through the overlay with the outer packet that carried it', () => {
	it.each(forms('working', 'a'))('%s', (_form, trace, dump) => {
		// As the printed formats replay a file: through the fleet, one node.
		const fleet = new Fleet({rules: rules(dump)});
		let summary: Summary | undefined;
		fleet.on(e => {
			if (e.type === 'end') summary = e.summary;
		});
		const input = fleet.addInput(trace);
		for (const line of parseTraceText(read(trace), input)) fleet.push(line);
		fleet.end();
		expect(isFleet(summary!)).toBe(true);
		const journeys = (summary as FleetSummary).journeys;
		// Pod A's 6 packets left inside an outer packet to node B, the 4 answers came in inside one from it.
		const left = journeys.filter(j => j.verdict === 'carried');
		const came = journeys.filter(j => j.verdict !== 'carried');
		expect([left.length, came.length]).toEqual([6, 4]);
		for (const j of left) expect(j.wire).toMatchObject({device: 'flannel.1', outer: {src: '198.18.100.1', dst: '198.18.100.2', sent: {id: j.from.id + 1}}});
		for (const j of came) {
			expect(j.wire).toMatchObject({device: 'flannel.1', outer: {src: '198.18.100.2', dst: '198.18.100.1', received: {id: j.from.id}}});
			expect(j.to!.id).toBe(j.from.id + 1);
			expect(j.verdict).toBe('ACCEPT');
		}
	});
});

describe('overlay vocabulary', () => {
	it('knows the outer packets and the devices of the overlays people run', () => {
		expect(overlayOf({proto: 'UDP', spt: 40534, dpt: 8472})?.kind).toBe('vxlan');
		expect(overlayOf({proto: 'UDP', spt: 4789, dpt: 33000})?.kind).toBe('vxlan');
		expect(overlayOf({proto: 'UDP', dpt: 6081})?.kind).toBe('geneve');
		expect(overlayOf({proto: 'UDP', dpt: 41641})?.kind).toBe('wireguard');
		expect(overlayOf({proto: '4'})?.kind).toBe('ipip');
		expect(overlayOf({proto: 'UDP', spt: 53, dpt: 40000})).toBeUndefined();
		expect(overlayOf({proto: 'TCP', spt: 4789, dpt: 8472})).toBeUndefined();
		for (const dev of ['flannel.1', 'flannel-wg', 'vxlan.calico', 'tunl0', 'cilium_vxlan', 'tailscale0', 'wg0', 'wireguard.cali']) expect(isOverlayDevice(dev), dev).toBe(true);
		for (const dev of ['eth0', 'cali1a2b3c4d5e6', 'vethpa1', 'cni0', 'wlp59s0', 'docker0', 'weave0x']) expect(isOverlayDevice(dev), dev).toBe(false);
	});
});

describe('one node of the load-balancer case read alone (vip-asym)', () => {
	it.each(forms('vip-asym', 'b'))("%s: node B's asymmetric-route says the request came from another node without SNAT, and to replay both", (_form, trace, dump) => {
		const {findings} = replayFiles([trace], [dump]);
		expect(findings.map(f => `${f.severity} ${f.kind}`)).toEqual(['warning asymmetric-route']);
		const f = findings[0]!;
		expect(f.message).toMatch(/^TCP SYN 198\.18\.173\.10:\d+ → 198\.19\.175\.2:8080: the request came in on flannel\.1 and the reply left by eth0 \(3 replies\)$/);
		expect(f.hint).toMatch(/^The request came from another node over flannel\.1 still carrying its client's address 198\.18\.173\.10: that node forwarded it without SNAT/);
		expect(f.hint).toContain('Replay both nodes\' traces together (tracewatch replay --node');
		expect(f.hint).not.toContain('ip rule add');
	});
});
