/**
 * The interactive view's detail with the dump's prediction beside the trace (key `e`), on
 * stores fed real testdata the way the CLI feeds the view, driven by keys.
 */
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../src/ui/tui/app.js';
import {FWD, KEY, mount, storeFrom, unmountAll} from '../ui/support.js';

afterEach(unmountAll);

/** The bundled xtables-monitor trace with the dump saved before a rule was inserted (testdata/formats/SOURCES.md). */
const STALE = {trace: 'testdata/formats/xtables-monitor-1.8.9-trace-4.log', rules: 'testdata/formats/rules/xtmon-iptables-nft-v4.save'};

function show(store: ReturnType<typeof storeFrom>['store'], rows = 40) {
	return mount(<App source={store} title="trace.log" size={{columns: 120, rows}} />);
}

describe('detail: e shows the prediction beside the trace', () => {
	it('a packet that agrees: every row the same on both sides, the verdict and state the walk gave', async () => {
		const {store} = storeFrom({...FWD, findings: false});
		const ui = await show(store);
		const frame = await ui.press('g', KEY.enter, 'e');
		expect(frame).toMatch(/^#1 {2}TCP 198\.18\.10\.2:\d+ → 198\.18\.30\.10:80 \[SYN\]/m);
		expect(frame).toMatch(/^prediction {2}agrees: 11 hops, the same final hop$/m);
		expect(frame).toMatch(/^ {2}TRACE +│ PREDICTED FROM THE DUMP$/m);
		expect(frame).toMatch(/^ {2}nat:TW-SERVICES +rule:1 +DNAT +│ nat:TW-SERVICES +rule:1 +DNAT/m);
		expect(frame).not.toContain('≠');
		expect(frame).toMatch(/^predicted verdict ACCEPT \(every chain on the way accepted it: forwarded out eth1\)$/m);
		expect(frame).toMatch(/^state new \(the first packet of its connection in the trace\)$/m);
		expect(frame).toContain('row 1/11  · e: back to the hops');
		// j moves the row; the footer shows both rules of it.
		const second = await ui.press('j');
		expect(second).toContain('row 2/11');
		expect(second).toMatch(/^trace: {5}-P PREROUTING ACCEPT$/m);
		// The mode stays on from packet to packet; e again shows the hops.
		expect(await ui.press(']')).toMatch(/^#2 .*\n(?:.*\n)*prediction {2}agrees/m);
		const hops = await ui.press('e');
		expect(hops).not.toContain('PREDICTED FROM THE DUMP');
		expect(hops).toMatch(/^PREROUTING$/m);
	});

	it('a packet that met a rule the dump does not have: ≠ marks the first hop where they part, and why', async () => {
		const {store} = storeFrom({...STALE, findings: false});
		const ui = await show(store);
		// The list follows the newest packet: #8 is selected.
		const frame = await ui.press(KEY.enter, 'e');
		expect(frame).toMatch(/^#8 /m);
		// Where and why, wrapped under the heading.
		expect(frame).toMatch(/^prediction {2}parts at hop 6: predicted filter:INPUT:rule:2 \(ACCEPT\), traced filter:INPUT:rule:\? \(ACCEPT\); likely a stale\n {12}dump: the trace shows the rule -A INPUT -p icmp -m comment --comment "added later" -j ACCEPT, which\n {12}filter:INPUT in the dump does not have: it was added since the dump$/m);
		const parts = frame.split('\n').filter(l => l.startsWith('≠'));
		expect(parts).toHaveLength(1);
		expect(parts[0]).toMatch(/^≠ filter:INPUT +rule\S* +ACCEPT +│ filter:INPUT +rule:2 +ACCEPT/);
		// The rows before it agree; the footer of that row shows the rule the dump lacks.
		const at = await ui.press('j', 'j', 'j', 'j', 'j');
		expect(at).toContain('row 6/');
		expect(at).toContain('≠ first hop where trace and prediction part');
		expect(at).toMatch(/^trace: {5}-A INPUT -p icmp -m comment --comment "added later" -j ACCEPT$/m);
	});

	it('without --rules it says what is needed', async () => {
		const {store} = storeFrom({trace: FWD.trace, findings: false});
		const ui = await show(store, 24);
		const frame = await ui.press(KEY.enter, 'e');
		expect(frame).toContain('no prediction: the dump is needed (replay with --rules node.save)');
		expect(frame).toContain('e: back to the hops');
	});

	it('the help lists the key', async () => {
		const {store} = storeFrom({...FWD, findings: false});
		const ui = await show(store);
		expect(await ui.press('?')).toMatch(/^ {2}detail +j\/k hop · \[ \] previous \/ next packet · e the dump’s prediction beside it \(≠ parts\)$/m);
	});
});
