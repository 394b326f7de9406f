/**
 * The packets followed from node to node (src/model/fleet.ts), as text: one line per packet
 * that crossed, from the node it left to the node it reached, through the outer packets.
 *
 * Input:  a fleet summary (nodes, journeys)
 * Output: Across nodes: 10 packet(s) crossed; node-b's clock: the same wall time as node-a
 *           node-a #1 ─flannel.1─ VXLAN 198.18.100.1 → 198.18.100.2 (node-a #2 ⇒ node-b #1) ─▶ node-b #2  ACCEPT  ICMP 198.19.1.2 → 198.19.2.2 type 8 seq=1
 */
import type {FleetSummary, Journey, NodeInfo} from '../model/fleet.js';
import type {Summary} from '../model/pipeline.js';
import type {Style} from './text.js';
import {visible} from './visible.js';

/** Lines of journeys printed at most; JSON lists every one kept. */
const SHOWN = 200;

export function isFleet(summary: Summary): summary is FleetSummary {
	return 'journeys' in summary && 'nodes' in summary;
}

function clock(n: NodeInfo, reference: string): string {
	switch (n.clock) {
		case 'reference':
			return `${n.name}: the reference clock`;
		case 'wall':
			return `${n.name}: wall time, as ${reference}`;
		case 'linked':
			return `${n.name}: aligned on the first packet that crossed (${n.offset! >= 0 ? '+' : ''}${n.offset} s)`;
		case 'given':
			return `${n.name}: ${n.offset! >= 0 ? '+' : ''}${n.offset} s, as given (--offset)`;
		case 'unknown':
			return `${n.name}: no stamps to align (monitor output has none)`;
	}
}

function journeyLine(j: Journey, s: Style): string {
	const v = (verdict: Journey['verdict']) => (verdict === 'ACCEPT' ? s.green(verdict) : verdict === 'lost' ? s.red('never arrived') : verdict === 'trace-ended' ? s.yellow('not known: the other trace had ended') : s.red(verdict));
	const ref = (r: {node: string; id: number}) => `${visible(r.node)} #${r.id}`;
	const o = j.wire.outer;
	const outer = o
		? ` ${j.wire.kind.toUpperCase()} ${visible(o.src)} → ${visible(o.dst)}${o.sent || o.received ? ` (${o.sent ? ref(o.sent) : '?'} ⇒ ${o.received ? ref(o.received) : s.red('not received')})` : ''}`
		: '';
	const to = j.to ? s.bold(ref(j.to)) : s.red(j.toward ? `${visible(j.toward)} ?` : '?');
	return `  ${s.bold(ref(j.from))} ─${visible(j.wire.device)}─${outer} ─▶ ${to}  ${v(j.verdict)}  ${visible(j.what)}`;
}

/** One node's packets into and out of an overlay, with the outer packets that carried them. */
function renderOverlay(summary: FleetSummary, s: Style): string {
	const ref = (r: {id: number}) => `#${r.id}`;
	const out = [`${s.bold('Through the overlay')}: ${summary.journeys.length} packet(s), each with the outer packet that carried it`];
	for (const j of summary.journeys.slice(0, SHOWN)) {
		const o = j.wire.outer!;
		const outer = `${j.wire.kind.toUpperCase()} ${visible(o.src)} → ${visible(o.dst)}`;
		out.push(j.verdict === 'carried' ? `  ${s.bold(ref(j.from))} ─${visible(j.wire.device)}─▶ inside ${ref(o.sent!)} (${outer})  ${visible(j.what)}` : `  ${ref(o.received!)} (${outer}) ─${visible(j.wire.device)}─▶ ${s.bold(ref(j.to!))}  ${j.verdict === 'ACCEPT' ? s.green(j.verdict) : s.red(j.verdict)}  ${visible(j.what)}`);
	}
	if (summary.journeys.length > SHOWN) out.push(`  … and ${summary.journeys.length - SHOWN} more (--format json lists them)`);
	return `${out.join('\n')}\n\n`;
}

/** The "Across nodes" section of the text view (one node: what went through its overlay). */
export function renderJourneys(summary: FleetSummary, s: Style): string {
	if (summary.nodes.length <= 1) return renderOverlay(summary, s);
	const reference = summary.nodes[0]?.name ?? '';
	const crossed = summary.journeys.filter(j => j.to).length;
	const lost = summary.journeys.filter(j => j.verdict === 'lost').length;
	const out = [
		`${s.bold('Across nodes')}: ${crossed} packet(s) crossed${lost > 0 ? s.red(`, ${lost} never arrived`) : ''}; clocks: ${visible(summary.nodes.map(n => clock(n, reference)).join('; '))}`,
	];
	if (summary.journeys.length === 0) out.push(`  none: no packet left one of these nodes into an overlay device and arrived at another`);
	for (const j of summary.journeys.slice(0, SHOWN)) out.push(journeyLine(j, s));
	if (summary.journeys.length > SHOWN) out.push(`  … and ${summary.journeys.length - SHOWN} more (--format json lists them)`);
	return `${out.join('\n')}\n\n`;
}
