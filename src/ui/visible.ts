/**
 * Text from a trace or a dump, made safe to show on a terminal: every control or invisible
 * formatting character becomes a visible escape. Rule comments, log prefixes, chain, set and
 * interface names and file names come from whoever wrote the rules, named the device or shared the
 * trace; printed raw, `ESC ]0;pwned BEL` retitles the terminal, `ESC [2J` clears it, `ESC ]52;c;…`
 * writes the clipboard, and a right-to-left override makes a rule read backwards.
 *
 * Input:  'cali:\u001b]0;pwned\u0007 \u202eevil'
 * Output: 'cali:\x1b]0;pwned\x07 \u202eevil' (the escapes as plain characters: backslash, x, 1, b …)
 *
 * Made visible: C0 controls (U+0000–U+001F, tab and newline included: a value never spans lines),
 * DEL (U+007F), C1 controls (U+0080–U+009F), every format character (Unicode category Cf:
 * bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, marks
 * U+200E/U+200F/U+061C, zero-width U+200B–U+200D and U+2060–U+2064, U+FEFF, soft hyphen U+00AD,
 * interlinear annotation U+FFF9–U+FFFB …), and the line and paragraph separators U+2028/U+2029.
 * JSON and NDJSON output keep strings exactly as read (JSON escaping makes them safe); every
 * other view shows input text through this module.
 */

/** Characters that never reach a terminal as themselves. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const HIDDEN_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function escape(c: string): string {
	const n = c.codePointAt(0)!;
	return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** `s` with every control or invisible formatting character shown as `\xNN` or `\uNNNN`. */
export function visible(s: string): string {
	return HIDDEN.test(s) ? s.replace(HIDDEN_ALL, escape) : s;
}

/** Whether `s` holds a character visible() would escape. */
export function hasHidden(s: string): boolean {
	return HIDDEN.test(s);
}

const done = new WeakMap<object, unknown>();

/**
 * A copy of `value` with every string in it made visible (the value itself when nothing needed
 * it). For the views that show model data (packets, findings, the graph, the summary): one call
 * at the view's door, and nothing inside can reach the terminal raw. Frozen values (every packet
 * the pipeline emits) are done once and remembered.
 */
export function visibleDeep<T>(value: T): T {
	if (typeof value === 'string') return visible(value) as T;
	if (value === null || typeof value !== 'object') return value;
	const cached = done.get(value);
	if (cached !== undefined) return cached as T;
	let changed = false;
	let out: unknown;
	if (Array.isArray(value)) {
		const copy = value.map(v => {
			const w = visibleDeep(v);
			if (w !== v) changed = true;
			return w;
		});
		out = changed ? copy : value;
	} else {
		const copy: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value)) {
			const w = visibleDeep(v);
			if (w !== v) changed = true;
			copy[k] = w;
		}
		out = changed ? (Object.isFrozen(value) ? Object.freeze(copy) : copy) : value;
	}
	if (Object.isFrozen(value)) done.set(value, out);
	return out as T;
}

/** The styles src/ui/text.ts writes (bold, dim, red, green, yellow, cyan, reset): the only escape sequences tracewatch itself prints in text. */
const OWN_STYLE = /\u001B\[(?:0|1|2|31|32|33|36)m/y;

/**
 * The last guard before text reaches a terminal or a pipe read by one: like visible(), but
 * newlines stay (they separate lines of the output) and, when `ownStyle`, so do the exact style
 * sequences tracewatch writes. Every text, graph and DOT output and every message on stderr
 * passes through it; the views also show input through visible(), so text read from a trace
 * can never pass for tracewatch's own style either.
 */
export function terminalSafe(text: string, ownStyle: boolean): string {
	if (!HIDDEN.test(text)) return text;
	let out = '';
	let last = 0;
	HIDDEN_ALL.lastIndex = 0;
	for (let m = HIDDEN_ALL.exec(text); m; m = HIDDEN_ALL.exec(text)) {
		const c = m[0];
		const at = m.index;
		if (c === '\n') continue;
		if (ownStyle && c === '\u001B') {
			OWN_STYLE.lastIndex = at;
			if (OWN_STYLE.test(text)) {
				HIDDEN_ALL.lastIndex = OWN_STYLE.lastIndex;
				continue;
			}
		}
		out += text.slice(last, at) + escape(c);
		last = at + c.length;
	}
	return out + text.slice(last);
}

/**
 * JSON text with every control or invisible formatting character escaped as `\uXXXX`: the same
 * strings to a JSON reader, nothing a terminal acts on. JSON.stringify escapes only C0 controls;
 * this adds DEL, C1 (U+009B is CSI to some terminals), format characters and U+2028/U+2029.
 * Newlines between tokens (indented output) stay.
 */
export function jsonText(value: unknown, indent?: number): string {
	const text = JSON.stringify(value, null, indent);
	if (!HIDDEN.test(text)) return text;
	return text.replace(HIDDEN_ALL, c => {
		if (c === '\n') return c;
		let out = '';
		for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
		return out;
	});
}

/**
 * A list whose members are made as writeJsonText writes them (`lazyList(rules, ruleData)`): the
 * JSON of a 160k-rule dump without a second copy of every rule as data. Anything else that
 * reads it sees the mapped array (its toJSON), so it stands for the array it describes.
 */
export class LazyList<T, U> {
	constructor(
		/** Iterable more than once (an array): toJSON may read it after writeJsonText did. */
		readonly items: Iterable<T>,
		readonly map: (item: T) => U,
	) {}

	toJSON(): U[] {
		return Array.from(this.items, this.map);
	}
}

/** `items` mapped by `map`, typed as the array it stands for (see LazyList). */
export function lazyList<T, U>(items: Iterable<T>, map: (item: T) => U): readonly U[] {
	return new LazyList(items, map) as unknown as readonly U[];
}

/** Pieces of at least this many characters are handed to `write` (fewer, larger writes). */
const STREAM_CHUNK = 1 << 16;

/**
 * jsonText(value, indent) written in pieces instead of built as one string: the same characters,
 * but a document of hundreds of MB (`rules --format json` on a large dump) never exists whole.
 * Objects and arrays down to `depth` levels are written member by member; below that each
 * member is one JSON.stringify, indented to where it stands. Values JSON.stringify would leave
 * out of an object (undefined, functions) are left out; anything not a plain object or array
 * (a Map, a value with toJSON) is stringified whole.
 */
export function writeJsonText(value: unknown, indent: number, write: (text: string) => void, depth = 6): void {
	let buffer = '';
	const put = (text: string): void => {
		buffer += text;
		if (buffer.length >= STREAM_CHUNK) {
			write(buffer);
			buffer = '';
		}
	};
	const pad = (level: number): string => ' '.repeat(indent * level);
	const leaf = (v: unknown, level: number): string => {
		// What JSON.stringify cannot write (a toJSON that gives undefined) is null, as in an array.
		const text = jsonText(v, indent) ?? 'null';
		return level === 0 ? text : text.replaceAll('\n', `\n${pad(level)}`);
	};
	const plain = (v: unknown): v is Record<string, unknown> | unknown[] =>
		v !== null && typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype) && typeof (v as {toJSON?: unknown}).toJSON !== 'function';
	const walk = (v: unknown, level: number): void => {
		if (v instanceof LazyList) {
			let k = 0;
			for (const item of v.items as Iterable<unknown>) {
				put(`${k === 0 ? '[' : ','}\n${pad(level + 1)}`);
				walk((v.map as (x: unknown) => unknown)(item), level + 1);
				k++;
			}
			return put(k === 0 ? '[]' : `\n${pad(level)}]`);
		}
		if (level >= depth || !plain(v)) {
			put(leaf(v, level));
			return;
		}
		const inner = pad(level + 1);
		if (Array.isArray(v)) {
			if (v.length === 0) return put('[]');
			put('[');
			// Indexed: a hole in the array is null, as JSON.stringify writes it.
			for (let k = 0; k < v.length; k++) {
				const item: unknown = v[k];
				put(`${k === 0 ? '' : ','}\n${inner}`);
				// JSON.stringify writes null for what it cannot write in an array.
				walk(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item, level + 1);
			}
			return put(`\n${pad(level)}]`);
		}
		const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function' && typeof x !== 'symbol');
		if (entries.length === 0) return put('{}');
		put('{');
		entries.forEach(([k, x], n) => {
			put(`${n === 0 ? '' : ','}\n${inner}${jsonText(k)}: `);
			walk(x, level + 1);
		});
		put(`\n${pad(level)}}`);
	};
	walk(value, 0);
	if (buffer) write(buffer);
}
