/**
 * Small, pure text helpers for the interactive view: cell widths, truncation, the short forms
 * a packet row needs (time, NAT mark, interfaces, reply).
 *
 * Input:  a Packet rebuilt from `[Sun Nov 22 05:28:08 2026] TRACE: raw:PREROUTING:policy:3 IN=eth0 OUT= … SRC=198.18.10.2 DST=198.18.30.10 … SPT=56044 DPT=80 …`
 * Output: timeText → `05:28:08`, natMark → `DNAT+MASQ`, ioText → `eth0→eth1`,
 *         fitTuple(p, 30) → `198.18.10.2 → 198.18.30.10:80` (the source port goes first when space is short)
 */
import {chainLabel, type Packet} from '../../model/types.js';
import {expectsReply} from '../../model/pairing.js';
import {endpoint} from '../text.js';

/** Display width of a string: every code point counts one (the view uses no wide characters). */
export function width(s: string): number {
	let n = 0;
	for (const _ of s) n++;
	return n;
}

/** Cuts `s` to `w` cells, ending in `…` when cut. */
export function truncate(s: string, w: number): string {
	if (w <= 0) return '';
	if (width(s) <= w) return s;
	if (w === 1) return '…';
	return `${[...s].slice(0, w - 1).join('')}…`;
}

/** Cuts the middle of `s` to fit `w` cells: `cali1a2b…e6`. */
export function truncateMiddle(s: string, w: number): string {
	if (w <= 0) return '';
	const chars = [...s];
	if (chars.length <= w) return s;
	if (w <= 2) return truncate(s, w);
	const head = Math.ceil((w - 1) / 2);
	const tail = w - 1 - head;
	return `${chars.slice(0, head).join('')}…${tail > 0 ? chars.slice(chars.length - tail).join('') : ''}`;
}

/** Pads (or cuts) to exactly `w` cells. */
export function cell(s: string, w: number, align: 'left' | 'right' = 'left'): string {
	const t = truncate(s, w);
	const pad = ' '.repeat(Math.max(0, w - width(t)));
	return align === 'left' ? t + pad : pad + t;
}

/**
 * The time of a packet's first line, short: the clock time the log printed (`05:28:08`,
 * `05:28:08.123`) or the seconds since boot (`1214.705`); empty when the line had no stamp.
 */
export function timeText(p: Packet): string {
	const stamp = p.hops[0]?.time;
	if (!stamp) return '';
	const clock = /(\d\d:\d\d:\d\d)(?:[.,](\d{1,3}))?/.exec(stamp.text);
	if (clock) return clock[2] ? `${clock[1]}.${clock[2]}` : clock[1]!;
	if (stamp.mono !== undefined) return stamp.mono.toFixed(3);
	return truncate(stamp.text.replace(/^\[|\]$/g, '').trim(), 12);
}

const NAT_SHORT: Record<string, string> = {MASQUERADE: 'MASQ', REDIRECT: 'REDIR', conntrack: 'ct'};
const NAT_LETTER: Record<string, string> = {DNAT: 'D', SNAT: 'S', MASQUERADE: 'M', REDIRECT: 'R', NETMAP: 'N', conntrack: 'c'};

/**
 * `DNAT`, `DNAT+MASQ`, `ct` (a connection's existing mapping), or empty when nothing was
 * rewritten; `compact`: one letter per rewrite (`DM`, `c`) for narrow terminals.
 */
export function natMark(p: Packet, compact = false): string {
	const seen: string[] = [];
	for (const n of p.nat) {
		const s = compact ? (NAT_LETTER[n.type] ?? n.type.slice(0, 1)) : (NAT_SHORT[n.type] ?? n.type);
		if (!seen.includes(s)) seen.push(s);
	}
	return seen.join(compact ? '' : '+');
}

/** `eth0→eth1`, `-→eth0` (locally generated), `eth0→-` (delivered locally), each side cut to fit. */
export function ioText(p: Packet, w = Number.POSITIVE_INFINITY): string {
	const [a, b] = fitPair(p.in || '-', p.out || '-', w - 1, truncate);
	return `${a}→${b}`;
}

/** Cuts two strings so that together they take at most `room` cells, the shorter one kept whole when it can be. */
export function fitPair(a: string, b: string, room: number, cut: (s: string, w: number) => string = truncateMiddle): [string, string] {
	let la = width(a);
	let lb = width(b);
	if (la + lb > room) {
		// The shorter one stays whole while the longer one keeps at least 5 cells; else both are cut.
		if (la <= lb && la <= room - 5) lb = room - la;
		else if (lb < la && lb <= room - 5) la = room - lb;
		else {
			la = Math.floor(room / 2);
			lb = room - la;
		}
	}
	return [cut(a, Math.max(1, la)), cut(b, Math.max(1, lb))];
}

/** `✓` when a reply was seen, `✗` when not. */
export function replyMark(p: Packet): string {
	return p.replySeen ? '✓' : expectsReply(p) ? '✗' : '·';
}

/** The final chain: `nat:POSTROUTING`, or `LOG` for a -j LOG line, `-` when there are no hops. */
export function finalText(p: Packet): string {
	const last = p.hops[p.hops.length - 1];
	if (!last) return '-';
	return chainLabel(last);
}

/**
 * `SRC → DST` with ports, made to fit `w` cells: first the source port goes (it is usually
 * ephemeral), then both addresses are cut in the middle.
 */
export function fitTuple(p: Pick<Packet, 'src' | 'dst' | 'spt' | 'dpt'>, w: number): string {
	const dst = endpoint(p.dst, p.dpt);
	const full = `${endpoint(p.src, p.spt)} → ${dst}`;
	if (width(full) <= w) return full;
	const noSport = `${endpoint(p.src, undefined)} → ${dst}`;
	if (width(noSport) <= w) return noSport;
	const [a, b] = fitPair(p.src || '?', dst, Math.max(2, w - 3));
	return `${a} → ${b}`;
}

/** `12`, `1.2k`, `3.4M`: counts in a status bar. */
export function shortCount(n: number): string {
	if (n < 1000) return String(Math.round(n));
	if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
	return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

/** Cuts text into lines of at most `w` cells, at spaces where possible. */
export function wrapText(text: string, w: number, maxLines = Number.POSITIVE_INFINITY): string[] {
	if (w <= 0) return [];
	const lines: string[] = [];
	let rest = text;
	while (rest.length > 0 && lines.length < maxLines) {
		if (width(rest) <= w) {
			lines.push(rest);
			rest = '';
			break;
		}
		const chars = [...rest];
		let cut = chars.slice(0, w + 1).join('').lastIndexOf(' ');
		if (cut <= 0) cut = w;
		lines.push(chars.slice(0, cut).join('').trimEnd());
		rest = chars.slice(cut).join('').trimStart();
	}
	if (rest.length > 0 && lines.length > 0) lines[lines.length - 1] = truncate(`${lines[lines.length - 1]!} ${rest}`, w);
	return lines;
}
