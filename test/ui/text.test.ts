/**
 * The text view of a packet (src/ui/text.ts): the path folded by hook, the levels of detail, and
 * lines that fold to a terminal's width.
 */
import {describe, expect, it} from 'vitest';
import {foldedPath, renderPacket} from '../../src/ui/text.js';
import {columns, wrapLine} from '../../src/ui/wrap.js';
import {replayFiles} from '../support/replay.js';

const WIFI = replayFiles(['testdata/dmesg/wifi-no-reply/dmesg-T.log'], ['testdata/dmesg/wifi-no-reply/iptables.save']);
const first = WIFI.packets[0]!;

describe('foldedPath', () => {
	it('one step per hook; user chains nested under the chain that called them, shown once per visit', () => {
		expect(foldedPath(first)).toEqual([
			{hook: 'PREROUTING', text: 'raw · mangle (cali-PREROUTING (cali-from-host-endpoint)) · nat (cali-PREROUTING (cali-fip-dnat), KUBE-SERVICES (KUBE-SVC-NPX46M4PTMTKRN6Y (KUBE-SEP-MQ2DQMRXMYZTEZLC)))'},
			{hook: 'FORWARD', text: 'mangle · filter (cali-FORWARD (cali-from-hep-forward, cali-from-wl-dispatch (cali-fw-cali1a2b3c4d5e6 (cali-pro-kns.default)), cali-to-hep-forward, cali-cidr-block), KUBE-FORWARD, KUBE-SERVICES)'},
			{hook: 'POSTROUTING', text: 'mangle (cali-POSTROUTING) · nat (cali-POSTROUTING (cali-fip-snat, cali-nat-outgoing), KUBE-POSTROUTING)'},
		]);
	});
});

describe('renderPacket', () => {
	it('summary: what the packet is and what became of it, no path and no hops', () => {
		const text = renderPacket(first, WIFI.inputs, undefined, {hops: 'summary'});
		expect(text.split('\n')).toHaveLength(4);
		expect(text).toContain('verdict ACCEPT');
		expect(text).toContain('NAT  DNAT 198.19.96.1:443 → 198.18.1.50:6443');
		expect(text).toContain('final nat:POSTROUTING:policy:3 → ACCEPT');
		expect(text).not.toContain('path');
	});

	it('path: adds the folded path, one line per hook', () => {
		const text = renderPacket(first, WIFI.inputs, undefined, {hops: 'path'});
		expect(text).toMatch(/^ {4}path PREROUTING {3}raw · mangle/m);
		expect(text).toMatch(/^ {9}FORWARD {6}mangle · filter/m);
		expect(text).not.toContain('-A cali-FORWARD');
	});

	it('all: every hop with its rule', () => {
		const text = renderPacket(first, WIFI.inputs, undefined, {hops: 'all'});
		expect(text).toContain('nat:KUBE-SEP-MQ2DQMRXMYZTEZLC:rule:2');
		expect(text).toContain('-j DNAT --to-destination 198.18.1.50:6443');
	});

	it('on an 80-column terminal: no line is wider, and rules go under their hop', () => {
		const text = renderPacket(first, WIFI.inputs, undefined, {hops: 'all', width: 80});
		for (const line of text.split('\n')) expect(columns(line), line).toBeLessThanOrEqual(80);
		expect(text).toMatch(/^ {6}nat:KUBE-SEP-MQ2DQMRXMYZTEZLC:rule:2 {2}DNAT\n {10}-A KUBE-SEP-MQ2DQMRXMYZTEZLC/m);
		// Without a width (a file, a pipe) lines stay whole.
		expect(Math.max(...renderPacket(first, WIFI.inputs).split('\n').map(l => l.length))).toBeGreaterThan(120);
	});
});

describe('wrapLine', () => {
	it('folds at spaces under a hanging indent, keeps the line\'s own indent and style', () => {
		expect(wrapLine('    one two three four five six', 20, 8)).toEqual(['    one two three', '        four five', '        six']);
		expect(wrapLine('\u001B[2m    dim words here\u001B[0m', 14, 4)).toEqual(['\u001B[2m    dim words', '    here\u001B[0m']);
		expect(wrapLine('short', 80, 4)).toEqual(['short']);
	});

	it('cuts a word wider than the line', () => {
		expect(wrapLine('x abcdefghijklmnopqrstuvwxyz', 14, 2)).toEqual(['x', '  abcdefghijkl', '  mnopqrstuvwx', '  yz']);
	});
});
