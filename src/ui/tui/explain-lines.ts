/**
 * The detail view with the dump's prediction beside the trace (key `e`): the rows the model
 * worked out (src/model/explain/side-by-side.ts) laid out as styled lines, the first hop where
 * the two part marked ≠.
 *
 * Input:  SideBySide of packet #8 of testdata/formats/xtables-monitor-1.8.9-trace-4.log with a dump saved before a rule was inserted
 * Output (as text):
 *   prediction  parts at hop 6: predicted filter:INPUT:rule:2 (ACCEPT), traced filter:INPUT:rule:? (ACCEPT); likely a stale dump: …
 *     TRACE                                  │ PREDICTED FROM THE DUMP
 *     raw:PREROUTING   rule      TRACE       │ raw:PREROUTING   rule:1    TRACE
 *   ≠ filter:INPUT     rule      ACCEPT      │ filter:INPUT     rule:2    ACCEPT
 *   predicted verdict ACCEPT (every chain on the way accepted it: delivered to this host (INPUT))
 */
import type {SideBySide, SideHop, SideRow} from '../../model/explain/side-by-side.js';
import {cell, truncateMiddle, width, wrapText} from './format.js';
import {seg, type Seg, type StyledLine, type Tone} from './styled.js';

export interface ExplainLines {
	readonly lines: StyledLine[];
	/** Line (in `lines`) of each row. */
	readonly rowLine: number[];
}

const targetTone = (t: string): Tone => (t === 'ACCEPT' ? 'ok' : t === 'DROP' || t === 'REJECT' ? 'bad' : 'plain');

function hopSegs(h: SideHop | null, nameW: number, kindW: number, targetW: number, dim: boolean): Seg[] {
	if (!h) return [seg(cell('—', nameW + kindW + targetW + 4), 'dim')];
	return [
		seg(`${cell(truncateMiddle(h.name, nameW), nameW)}  `, dim ? 'dim' : 'plain'),
		seg(`${cell(h.kindNum, kindW)}  `, 'dim'),
		seg(cell(h.target, targetW), dim ? 'dim' : targetTone(h.target)),
		seg(h.assumed ? '?' : ' ', 'warn'),
	];
}

export function explainLines(e: Extract<SideBySide, {kind: 'ready'}>, columns: number): ExplainLines {
	const lines: StyledLine[] = [];
	// Where and why they part, over up to three lines.
	wrapText(e.summary, Math.max(20, columns - 12), 3).forEach((text, i) => lines.push([seg(i === 0 ? 'prediction  ' : ' '.repeat(12), 'bold'), seg(text, e.agrees ? 'ok' : 'warn')]));
	// Two columns of `half` cells each, after a 2-cell marker, with ` │ ` between them.
	const half = Math.max(20, Math.floor((columns - 5) / 2));
	const hops = e.rows.flatMap(r => [r.traced, r.predicted]).filter((h): h is SideHop => h !== null);
	const kindW = Math.min(10, Math.max(4, ...hops.map(h => width(h.kindNum))));
	const targetW = Math.min(12, Math.max(6, ...hops.map(h => width(h.target))));
	const nameW = Math.max(8, half - kindW - targetW - 5);
	lines.push([seg(`  ${cell('TRACE', half)} │ PREDICTED FROM THE DUMP`, 'head')]);
	const rowLine: number[] = [];
	e.rows.forEach((r: SideRow, i) => {
		rowLine[i] = lines.length;
		const after = r.status === 'after';
		const marker = r.status === 'parts' ? seg('≠ ', 'bad') : seg('  ');
		lines.push([marker, ...hopSegs(r.traced, nameW, kindW, targetW, after), seg(' │ ', 'dim'), ...hopSegs(r.predicted, nameW, kindW, targetW, after)]);
	});
	lines.push([seg('predicted verdict ', 'dim'), seg(e.verdict, targetTone(e.verdict)), seg(` (${e.verdictBasis})`, 'dim')]);
	lines.push([seg(`state ${e.state}`, 'dim')]);
	for (const u of e.uncertain) lines.push([seg('? ', 'warn'), seg(u, 'dim')]);
	return {lines, rowLine};
}
