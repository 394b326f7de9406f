/**
 * The hook of a native nftables chain comes from its base chain's declaration in the listing,
 * never from its name or from IN/OUT (real capture: testdata/nft-rulesets/kube-proxy, kube-proxy's
 * nftables mode, where `nat-postrouting` is a postrouting chain of a forwarded packet).
 */
import {describe, expect, it} from 'vitest';
import {replayFiles} from '../support/replay.js';

const TRACE = 'testdata/nft-rulesets/kube-proxy/nft-monitor.log';

function hooks(rules: string[]): Map<string, string> {
	const out = new Map<string, string>();
	for (const p of replayFiles([TRACE], rules).packets) for (const h of p.hops) out.set(`${h.table}:${h.chain}`, h.hook ?? '-');
	return out;
}

describe('hooks of native nft chains', () => {
	it('without the listing: not known, not guessed', () => {
		const h = hooks([]);
		expect(h.get('kube-proxy:nat-postrouting')).toBe('-');
		expect(h.get('kube-proxy:filter-forward')).toBe('-');
		expect([...h.values()].every(v => v === '-')).toBe(true);
	});

	it('with the listing (text or JSON): each base chain at its declared hook, regular chains at their caller\'s', () => {
		for (const listing of ['testdata/nft-rulesets/kube-proxy/ruleset.nft', 'testdata/nft-rulesets/kube-proxy/ruleset.json']) {
			const h = hooks([listing]);
			expect(h.get('kube-proxy:nat-prerouting')).toBe('PREROUTING');
			expect(h.get('kube-proxy:services')).toBe('PREROUTING');
			expect(h.get('kube-proxy:filter-forward')).toBe('FORWARD');
			expect(h.get('kube-proxy:nat-postrouting')).toBe('POSTROUTING');
			expect(h.get('kube-proxy:masquerading')).toBe('POSTROUTING');
			expect(h.get('kube-proxy:filter-input')).toBe('INPUT');
		}
	});
});
