/**
 * Lines made of styled segments, measured and cut without React: views that lay text out
 * themselves (the chain graph, the hop list) build these, then render each segment as a <Text>.
 *
 * Input:  [{text:'● ', tone:'path'}, {text:'nat:PREROUTING', tone:'path'}, {text:' 1', tone:'dim'}]
 * Output: fitSegs(line, 12) → [{text:'● ', …}, {text:'nat:PREROU…', …}] (exactly 12 cells)
 */
import {width} from './format.js';

/** How a segment looks; the theme turns a tone into colours (or none, with NO_COLOR). */
export type Tone = 'plain' | 'dim' | 'bold' | 'path' | 'mark' | 'changed' | 'head' | 'headPath' | 'ok' | 'bad' | 'warn' | 'info';

export interface Seg {
	readonly text: string;
	readonly tone: Tone;
}

export type StyledLine = readonly Seg[];

export function seg(text: string, tone: Tone = 'plain'): Seg {
	return {text, tone};
}

export function lineWidth(line: StyledLine): number {
	let n = 0;
	for (const s of line) n += width(s.text);
	return n;
}

/** Cuts a line to `w` cells (ending in `…` when cut); with `pad`, fills it up to `w` with spaces. */
export function fitSegs(line: StyledLine, w: number, pad = false): Seg[] {
	const total = lineWidth(line);
	const out: Seg[] = [];
	if (total <= w) {
		out.push(...line);
		if (pad && total < w) out.push(seg(' '.repeat(w - total)));
		return out;
	}
	let room = Math.max(0, w - 1);
	for (const s of line) {
		if (room <= 0) break;
		const chars = [...s.text];
		if (chars.length <= room) {
			out.push(s);
			room -= chars.length;
		} else {
			out.push(seg(chars.slice(0, room).join(''), s.tone));
			room = 0;
		}
	}
	if (w > 0) out.push(seg('…', line[line.length - 1]?.tone ?? 'plain'));
	return out;
}
