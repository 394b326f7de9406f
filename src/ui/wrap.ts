/**
 * Lines folded to a terminal's width at spaces, continuing under a hanging indent, so that long
 * rule text, paths and findings read on 80 columns.
 *
 * Input:  wrapLine('      filter:FORWARD:rule:2  TW-POLICY  -A FORWARD -i eth0 -o eth1 -m comment --comment "…" -j TW-POLICY', 60, 30)
 * Output: ['      filter:FORWARD:rule:2  TW-POLICY  -A FORWARD -i eth0 -o eth1',
 *          '                              -m comment --comment "…" -j TW-POLICY']
 *
 * Widths count characters as a terminal shows them: tracewatch's own style sequences take no
 * room (the only escape sequences in its text output; input text is shown through visible()).
 * A word longer than the room left is cut where the line ends.
 */

const STYLE = /\u001B\[[0-9;]*m/g;

/** How many columns `text` takes on a terminal. */
export function columns(text: string): number {
	return text.replace(STYLE, '').length;
}

/** One line folded to `width` columns; continuation lines start with `indent` spaces. No width (0 or Infinity): the line as it is. */
export function wrapLine(line: string, width: number, indent: number): string[] {
	if (!Number.isFinite(width) || width <= 0 || columns(line) <= width) return [line];
	const room = Math.max(10, width - indent);
	const pad = ' '.repeat(Math.min(indent, width - 10));
	const out: string[] = [];
	// Split into words, keeping the line's leading style and spaces, and each style sequence with its word.
	const m = /^((?:\u001B\[[0-9;]*m)*)( *)/.exec(line)!;
	const lead = m[0];
	const leadWidth = m[2]!.length;
	const words = line.slice(lead.length).split(' ');
	let cur = lead;
	let curWidth = leadWidth;
	let limit = width;
	let started = false;
	for (const w of words) {
		const ww = columns(w);
		const sep = started ? 1 : 0;
		started = true;
		if (curWidth + sep + ww <= limit) {
			cur += (sep ? ' ' : '') + w;
			curWidth += sep + ww;
			continue;
		}
		out.push(cur);
		cur = pad;
		curWidth = pad.length;
		limit = pad.length + room;
		started = true;
		// A word wider than a whole line: cut it.
		let rest = w;
		while (columns(rest) > room) {
			out.push(pad + rest.slice(0, room));
			rest = rest.slice(room);
		}
		cur += rest;
		curWidth += columns(rest);
	}
	out.push(cur);
	return out;
}

/** Every line of `text` folded (see wrapLine); each line's continuation indent from `indentOf`. */
export function wrapText(text: string, width: number, indentOf: (line: string) => number): string {
	if (!Number.isFinite(width) || width <= 0) return text;
	return text
		.split('\n')
		.flatMap(l => wrapLine(l, width, indentOf(l)))
		.join('\n');
}
