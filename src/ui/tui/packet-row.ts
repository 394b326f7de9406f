/**
 * Columns of the packet list, fitted to the terminal width: every column at its natural width
 * when it fits; on a narrow terminal the time goes first, then the final chain, interfaces and
 * NAT are cut, and the addresses get what is left.
 *
 * With several nodes a NODE column comes first, so a row names its packet `node-a #3`; on a
 * narrow terminal it is cut in the middle (`wor…r-1`) like the other columns.
 *
 * Input:  width 80, packets [#1 TCP 198.18.10.2:56044 → 198.18.30.10:80 … ACCEPT eth0→eth1 DNAT+MASQ ✓]
 * Output: columns [# 3, PROTO 5, SRC → DST 29, FINAL 15, VERDICT 7, IN→OUT 9, NAT 9, R 1];
 *         rowCells(p) → ['#1', 'TCP', '198.18.10.2 → 198.18.30.10:80', 'nat:POSTROUTING', 'ACCEPT', 'eth0→eth1', 'DNAT+MASQ', '✓']
 */
import type {Packet} from '../../model/types.js';
import {cell, finalText, fitTuple, ioText, natMark, replyMark, timeText, truncateMiddle, width} from './format.js';
import {endpoint} from '../text.js';

export type ColumnKey = 'node' | 'id' | 'time' | 'proto' | 'tuple' | 'final' | 'verdict' | 'io' | 'nat' | 'reply';

export interface Column {
	readonly key: ColumnKey;
	readonly title: string;
	readonly width: number;
}

const TITLES: Record<ColumnKey, string> = {node: 'NODE', id: '#', time: 'TIME', proto: 'PROTO', tuple: 'SRC → DST', final: 'FINAL', verdict: 'VERDICT', io: 'IN→OUT', nat: 'NAT', reply: 'R'};
const ORDER: readonly ColumnKey[] = ['node', 'id', 'time', 'proto', 'tuple', 'final', 'verdict', 'io', 'nat', 'reply'];

function natural(key: ColumnKey, packets: readonly Packet[]): number {
	let w = width(TITLES[key]);
	for (const p of packets) {
		switch (key) {
			case 'node':
				w = Math.max(w, width(p.node ?? ''));
				break;
			case 'id':
				w = Math.max(w, String(p.id).length + 1);
				break;
			case 'time':
				w = Math.max(w, width(timeText(p)));
				break;
			case 'proto':
				w = Math.max(w, p.proto.length);
				break;
			case 'tuple':
				w = Math.max(w, width(`${endpoint(p.src, p.spt)} → ${endpoint(p.dst, p.dpt)}`));
				break;
			case 'final':
				w = Math.max(w, width(finalText(p)));
				break;
			case 'verdict':
				w = Math.max(w, p.verdict.length);
				break;
			case 'io':
				w = Math.max(w, width(ioText(p)));
				break;
			case 'nat':
				w = Math.max(w, width(natMark(p)));
				break;
			case 'reply':
				w = 1;
				break;
		}
	}
	return w;
}

/** Columns for `packets` (the visible ones) in `total` cells, one space between columns; the NODE column with `nodes`. */
export function fitColumns(total: number, packets: readonly Packet[], nodes = false): Column[] {
	const w = new Map<ColumnKey, number>(ORDER.map(k => [k, natural(k, packets)]));
	if (!nodes) w.delete('node');
	else w.set('node', Math.min(w.get('node')!, 20));
	const short = total < 96;
	if (short) {
		w.set('nat', Math.max(3, ...packets.map(p => natMark(p, true).length)));
		w.set('proto', Math.max(3, ...packets.map(p => p.proto.length)));
	}
	if (!packets.some(p => timeText(p) !== '')) w.delete('time');
	w.set('final', Math.min(w.get('final')!, 28));
	w.set('io', Math.min(w.get('io')!, 28));
	w.set('tuple', Math.min(w.get('tuple')!, 64));
	const sum = () => [...w.values()].reduce((a, b) => a + b, 0) + w.size - 1;
	const shrink = (key: ColumnKey, to: number) => {
		const over = sum() - total;
		if (over > 0 && w.has(key)) w.set(key, Math.max(Math.min(to, w.get(key)!), w.get(key)! - over));
	};
	// Make room, least useful first: the time, the source port, then the final chain and the
	// interfaces share what the addresses leave.
	if (sum() > total) w.delete('time');
	shrink('tuple', Math.max(20, ...packets.map(p => width(fitTuple({...p, spt: undefined}, 64)))));
	for (const [f, io] of [[20, 16], [16, 12], [14, 10], [12, 9], [10, 8]] as const) {
		shrink('final', f);
		shrink('io', io);
	}
	shrink('node', 12);
	shrink('tuple', 20);
	// Narrower than 80 columns: everything gives.
	shrink('final', 6);
	shrink('io', 5);
	shrink('node', 6);
	shrink('tuple', 12);
	// Spare room goes to the addresses so the row reaches across.
	if (sum() < total) w.set('tuple', w.get('tuple')! + (total - sum()));
	return ORDER.filter(k => w.has(k)).map(k => ({key: k, title: TITLES[k], width: w.get(k)!}));
}

export function cellText(p: Packet, c: Column): string {
	switch (c.key) {
		case 'node':
			return cell(truncateMiddle(p.node ?? '', c.width), c.width);
		case 'id':
			return cell(`#${p.id}`, c.width, 'right');
		case 'time':
			return cell(timeText(p), c.width);
		case 'proto':
			return cell(p.proto, c.width);
		case 'tuple':
			return cell(fitTuple(p, c.width), c.width);
		case 'final':
			return cell(finalText(p), c.width);
		case 'verdict':
			return cell(p.verdict, c.width);
		case 'io':
			return cell(ioText(p, c.width), c.width);
		case 'nat':
			return cell(natMark(p, c.width < 5), c.width);
		case 'reply':
			return replyMark(p);
	}
}

export function headerText(columns: readonly Column[]): string {
	// A title wider than its column is cut without an ellipsis (PROTO → PRO).
	return columns.map(c => cell([...c.title].slice(0, c.width).join(''), c.width, c.key === 'id' ? 'right' : 'left')).join(' ');
}

export function rowText(p: Packet, columns: readonly Column[]): string {
	return columns.map(c => cellText(p, c)).join(' ');
}
