/**
 * Bytes → physical lines → the texts to read: plain lines as they are, and the kernel's message
 * unpacked from each record of the containers log tools write around it.
 *
 * Input:  bytes, in chunks cut anywhere (a file, a pipe from `journalctl -k -f -o export`)
 * Output: for each plain line, {kind:'line', text, line}; for each record of a container, the
 *         message with its time and host, at the line its message is on:
 *
 *   dmesg -J (util-linux, one document over many lines)        {"dmesg": [ {"pri": 4, "time":  1615.720017, "msg": "TRACE: …"},{ … } ]}
 *     → {kind:'record', text:'[ 1615.720017] TRACE: …', line: 6, container:'dmesg-json'}
 *       (the time is written back as dmesg prints it, so the grammar reads it as any dmesg stamp)
 *   journalctl -o json (one object a line), -o json-pretty (one object over many lines)
 *   journalctl -o export (KEY=VALUE lines, a blank line after each record; a value that is not
 *     printable text is written `KEY\n`, its length as 64-bit little-endian, the bytes, `\n`)
 *     → {kind:'record', text: MESSAGE, time:{mono: _SOURCE_MONOTONIC_TIMESTAMP, wall: __REALTIME_TIMESTAMP}, host: _HOSTNAME}
 *
 * The message itself is read by the grammar as any other line (trace-line.ts); only the container
 * is taken apart here (JSON with JSON.parse, export by its framing). A record that cannot be taken
 * apart is `bad`: reported with its line, counted, and the records after it are read.
 *
 * Memory: a line is kept up to MAX_LINE characters (a longer one is counted, not kept); a record
 * up to MAX_RECORD bytes, and of an export record only the fields read (MESSAGE, the times, the
 * host). Records are handed on as soon as they end: live input (`journalctl -f -o export`) is
 * not held back.
 */
import {excerptAt, MAX_LINE} from './trace-line.js';
import type {Container, Stamp} from './types.js';

/** The containers unpacked, as inputs[].container names them (docs/json.md). */
export type {Container} from './types.js';

export type Framed =
	/** A line of plain text. `chars` is its length; over MAX_LINE, `text` is only its head. */
	| {readonly kind: 'line'; readonly text: string; readonly line: number; readonly chars: number}
	/** The message of a record, at the line it is on; `span` is the record's lines. */
	| {readonly kind: 'record'; readonly text: string; readonly line: number; readonly span: number; readonly container: Container; readonly time?: Stamp; readonly host?: string}
	/** Lines of a container that hold no message (a document's opening lines, a record without MESSAGE). */
	| {readonly kind: 'framing'; readonly line: number; readonly span: number; readonly container: Container}
	/** A record that could not be taken apart. */
	| {readonly kind: 'bad'; readonly line: number; readonly span: number; readonly container: Container; readonly reason: string; readonly excerpt: string};

/** The most bytes of one JSON record kept (a kernel record is well under 2 KB; a journal record with all its fields a few KB). */
export const MAX_RECORD = 1 << 20;
/** A binary export field longer than this is taken for a damaged length (journald stores at most 768 MiB in one field, never near this for a log line). */
const MAX_BINARY = 64 << 20;
/** Bytes of a line kept: enough for MAX_LINE characters of any UTF-8. */
const KEEP_BYTES = MAX_LINE * 4;

/**
 * Cuts bytes into lines at LF (a CR before it is dropped), counting every LF for line numbers,
 * and hands a run of raw bytes to whoever asks for it (export's binary fields) instead.
 */
export class LineSplitter {
	private parts: Buffer[] = [];
	private kept = 0;
	/** Bytes of the current line not kept (past KEEP_BYTES), and the characters they hold. */
	private overBytes = 0;
	private overChars = 0;
	private want = 0;
	private rawParts: Buffer[] = [];
	private rawKeep = false;
	private rawDone: ((data: Buffer | undefined, cut: boolean) => void) | undefined;
	/** Line feeds read so far: the current line is number `lfs + 1`. */
	lfs = 0;

	constructor(private readonly onLine: (text: string, line: number, chars: number) => void) {}

	/** The next `n` bytes are data, not lines: `done` gets them (`undefined` when `keep` is false), or `cut` when the input ends first. */
	takeRaw(n: number, keep: boolean, done: (data: Buffer | undefined, cut: boolean) => void): void {
		if (n === 0) {
			done(keep ? Buffer.alloc(0) : undefined, false);
			return;
		}
		this.want = n;
		this.rawKeep = keep;
		this.rawParts = [];
		this.rawDone = done;
	}

	push(chunk: Buffer): void {
		let pos = 0;
		while (pos < chunk.length) {
			if (this.want > 0) {
				const n = Math.min(this.want, chunk.length - pos);
				const piece = chunk.subarray(pos, pos + n);
				for (let i = piece.indexOf(10); i !== -1; i = piece.indexOf(10, i + 1)) this.lfs++;
				if (this.rawKeep) this.rawParts.push(Buffer.from(piece));
				this.want -= n;
				pos += n;
				if (this.want === 0) {
					const done = this.rawDone!;
					const data = this.rawKeep ? Buffer.concat(this.rawParts) : undefined;
					this.rawDone = undefined;
					this.rawParts = [];
					done(data, false);
				}
				continue;
			}
			const nl = chunk.indexOf(10, pos);
			this.append(chunk, pos, nl === -1 ? chunk.length : nl);
			if (nl === -1) break;
			pos = nl + 1;
			this.lfs++;
			this.emit(this.lfs);
		}
	}

	end(): void {
		if (this.want > 0) {
			const done = this.rawDone!;
			this.want = 0;
			this.rawDone = undefined;
			done(undefined, true);
		}
		if (this.kept > 0 || this.overBytes > 0) this.emit(this.lfs + 1);
	}

	private append(chunk: Buffer, from: number, to: number): void {
		if (to <= from) return;
		const room = KEEP_BYTES - this.kept;
		const take = Math.min(room, to - from);
		if (take > 0) {
			// Copied: a line must not keep the whole chunk it was cut from alive.
			this.parts.push(Buffer.from(chunk.subarray(from, from + take)));
			this.kept += take;
		}
		for (let i = from + take; i < to; i++) {
			const b = chunk[i]!;
			this.overBytes++;
			if ((b & 0xc0) !== 0x80) this.overChars += b >= 0xf0 ? 2 : 1;
		}
	}

	private emit(line: number): void {
		let text = this.parts.length === 1 ? this.parts[0]!.toString('utf8') : Buffer.concat(this.parts).toString('utf8');
		let chars = text.length + this.overChars;
		if (this.overBytes === 0 && text.endsWith('\r')) {
			text = text.slice(0, -1);
			chars--;
		}
		this.parts = [];
		this.kept = 0;
		this.overBytes = 0;
		this.overChars = 0;
		this.onLine(text, line, chars);
	}
}

/** Export's metadata fields, one of which starts every record journalctl writes (docs/JOURNAL_EXPORT_FORMATS.md). */
const EXPORT_START = /^__(?:CURSOR|REALTIME_TIMESTAMP|MONOTONIC_TIMESTAMP|SEQNUM|SEQNUM_ID)=/;
/** A journal field name: upper-case letters, digits and underscores. */
const FIELD_NAME = /^[A-Z0-9_]+$/;
/** The fields of a journal record that are read; the others are not kept. */
const JOURNAL_KEYS = new Set(['MESSAGE', '_HOSTNAME', '__REALTIME_TIMESTAMP', '_SOURCE_MONOTONIC_TIMESTAMP']);
/**
 * A line that can be inside a pretty-printed JSON record: a key, a closing bracket, or an
 * indented value (the bytes of a binary MESSAGE). A kernel or syslog line never looks like one,
 * so a line that does not ends a record early instead of being taken into it.
 */
const JSON_LINE = /^\s*["}\]]|^\s+[-0-9]/;
/** The line that opens dmesg -J's array. */
const DMESG_ARRAY = /^\s*"dmesg"\s*:\s*\[\s*$/;

/**
 * A journal record's message with its time and host: MESSAGE (a string, or bytes as an array of
 * numbers in JSON), _SOURCE_MONOTONIC_TIMESTAMP (µs since boot: the dmesg stamp),
 * __REALTIME_TIMESTAMP (µs since the epoch), _HOSTNAME.
 */
function journalMessage(get: (key: string) => unknown): {text: string; time?: Stamp; host?: string} | undefined {
	const m = get('MESSAGE');
	const text = typeof m === 'string' ? m : Array.isArray(m) && m.every(b => typeof b === 'number') ? Buffer.from(m as number[]).toString('utf8') : undefined;
	if (text === undefined) return undefined;
	const micros = (key: string): number | undefined => {
		const v = get(key);
		return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
	};
	const mono = micros('_SOURCE_MONOTONIC_TIMESTAMP');
	const real = micros('__REALTIME_TIMESTAMP');
	const host = get('_HOSTNAME');
	const time: Stamp | undefined =
		mono === undefined && real === undefined
			? undefined
			: {
					text: real !== undefined ? new Date(real / 1000).toISOString() : `[${(mono! / 1e6).toFixed(6)}]`,
					...(mono !== undefined ? {mono: mono / 1e6} : {}),
					...(real !== undefined ? {wall: real / 1000} : {}),
				};
	return {text, ...(time ? {time} : {}), ...(typeof host === 'string' && host !== '' ? {host} : {})};
}

/** JSON.parse's complaint, with the line in the record it points at. */
function jsonError(error: unknown, text: string, first: number): {reason: string; line: number} {
	const message = (error as Error).message;
	const at = /position (\d+)/.exec(message);
	let line = first;
	if (at) for (let i = text.indexOf('\n'); i !== -1 && i < Number(at[1]); i = text.indexOf('\n', i + 1)) line++;
	return {reason: `not a JSON record: ${message.replace(/\s*\(line \d+ column \d+\)/, '')}`, line};
}

/** The line of a record (lines `first`…) whose text holds `key`, else `first`. */
function lineOf(lines: readonly string[], first: number, key: string): number {
	const i = lines.findIndex(l => l.includes(key));
	return i === -1 ? first : first + i;
}

/**
 * Physical lines → Framed, recognising the containers by their first lines and reading their
 * records; anything else is a plain line. A splitter feeds it (`line`), and it asks the splitter
 * for raw bytes when an export record has a binary field.
 */
export class Framer {
	private mode: 'lines' | 'object' | 'dmesg' | 'dmesg-end' | 'export' | 'export-skip' = 'lines';
	/** The lines of the JSON record being read, and where it started. */
	private buf: string[] = [];
	private bytes = 0;
	private start = 0;
	private tooBig = false;
	/** dmesg -J: inside a record (between `{` and `}`). */
	private inRecord = false;
	/** export: the fields kept of the record being read, and the line of its MESSAGE. */
	private fields = new Map<string, string>();
	private messageLine = 0;
	private broken: {reason: string; line: number} | undefined;
	readonly splitter: LineSplitter;

	constructor(private readonly out: (f: Framed) => void) {
		this.splitter = new LineSplitter((text, line, chars) => this.line(text, line, chars));
	}

	push(chunk: Buffer): void {
		this.splitter.push(chunk);
	}

	end(): void {
		this.splitter.end();
		const last = this.splitter.lfs + 1;
		switch (this.mode) {
			case 'object':
				this.bad('journal-json', this.start, last - this.start, 'the input ended inside this JSON record', this.buf[0] ?? '');
				break;
			case 'dmesg':
			case 'dmesg-end':
				if (this.inRecord) this.bad('dmesg-json', this.start, last - this.start, 'the input ended inside this dmesg -J record', this.buf[1] ?? this.buf[0] ?? '');
				break;
			case 'export':
				this.endExport(last, true);
				break;
			default:
		}
		this.mode = 'lines';
	}

	private line(text: string, n: number, chars: number): void {
		switch (this.mode) {
			case 'lines':
				this.plain(text, n, chars);
				return;
			case 'object':
				this.objectLine(text, n, chars);
				return;
			case 'dmesg':
			case 'dmesg-end':
				this.dmesgLine(text, n, chars);
				return;
			case 'export':
				this.exportLine(text, n, chars);
				return;
			case 'export-skip':
				// The rest of a broken record: its fields are passed over up to its blank line.
				if (text === '') this.mode = 'lines';
				else if (!FIELD_NAME.test(text.split('=', 1)[0]!)) {
					this.mode = 'lines';
					this.plain(text, n, chars);
				}
				return;
		}
	}

	/** A line outside any container: the start of one, or a plain line. */
	private plain(text: string, n: number, chars: number): void {
		if (chars <= MAX_LINE && text.charCodeAt(0) === 0x7b) {
			if (text.trimEnd() === '{') {
				this.mode = 'object';
				this.begin(text, n);
				return;
			}
			// journalctl -o json: a whole record on one line.
			if (text.includes('"MESSAGE"') && text.trimEnd().endsWith('}')) {
				this.jsonRecord(text, n, n, 1);
				return;
			}
		}
		if (chars <= MAX_LINE && EXPORT_START.test(text)) {
			this.mode = 'export';
			this.start = n;
			this.fields.clear();
			this.messageLine = 0;
			this.broken = undefined;
			this.exportLine(text, n, chars);
			return;
		}
		this.out({kind: 'line', text, line: n, chars});
	}

	private begin(text: string, n: number): void {
		this.buf = [text];
		this.bytes = text.length;
		this.start = n;
		this.tooBig = false;
	}

	private add(text: string, chars: number): void {
		this.bytes += chars + 1;
		if (this.bytes > MAX_RECORD || chars > MAX_LINE) this.tooBig = true;
		if (!this.tooBig) this.buf.push(text);
	}

	// ---- JSON: journalctl -o json-pretty (and a lone `{` that opens dmesg -J) ----------------------

	private objectLine(text: string, n: number, chars: number): void {
		if (this.buf.length === 1 && n === this.start + 1 && DMESG_ARRAY.test(text)) {
			this.mode = 'dmesg';
			this.inRecord = false;
			this.out({kind: 'framing', line: this.start, span: 2, container: 'dmesg-json'});
			return;
		}
		if (text === '{' || text.trimEnd() === '{') {
			// A record that never closed, then the next one: the first is reported, the second read.
			this.bad('journal-json', this.start, n - this.start, 'this JSON record does not end (no closing "}" line)', this.buf[1] ?? this.buf[0] ?? '');
			this.begin(text, n);
			return;
		}
		if (!JSON_LINE.test(text)) {
			// Not a JSON record after all (a `{` alone in a text log), or one cut off: nothing of
			// it is lost, the line is read as a line.
			this.mode = 'lines';
			if (this.buf.length === 1) this.out({kind: 'line', text: this.buf[0]!, line: this.start, chars: this.buf[0]!.length});
			else this.bad('journal-json', this.start, n - this.start, `this JSON record ends at line ${n}, which is not JSON`, this.buf[1] ?? '');
			this.plain(text, n, chars);
			return;
		}
		this.add(text, chars);
		if (text.trimEnd() !== '}' || text.charCodeAt(0) !== 0x7d) return;
		this.mode = 'lines';
		const span = n - this.start + 1;
		if (this.tooBig) {
			this.bad('journal-json', this.start, span, `JSON record longer than ${MAX_RECORD} bytes: not read`, this.buf[1] ?? '');
			return;
		}
		this.jsonRecord(this.buf.join('\n'), this.start, lineOf(this.buf, this.start, '"MESSAGE"'), span);
	}

	/** A journal record in JSON (-o json on one line, -o json-pretty over `span` lines from `first`). */
	private jsonRecord(text: string, first: number, at: number, span: number): void {
		let record: unknown;
		try {
			record = JSON.parse(text);
		} catch (error) {
			const e = jsonError(error, text, first);
			this.bad('journal-json', e.line, span, e.reason, text.split('\n', 1)[0]!);
			return;
		}
		const o = record !== null && typeof record === 'object' ? (record as Record<string, unknown>) : {};
		const m = journalMessage(key => o[key]);
		if (!m) {
			this.out({kind: 'framing', line: first, span, container: 'journal-json'});
			return;
		}
		this.out({kind: 'record', line: at, span, container: 'journal-json', ...m});
	}

	// ---- dmesg -J -----------------------------------------------------------------------------------
	// {
	//    "dmesg": [
	//       {
	//          "pri": 4,
	//          "time":  1615.720017,
	//          "msg": "TRACE: raw:PREROUTING:policy:2 IN=twfb0 …"
	//       },{
	//          …
	//       }
	//    ]
	// }

	private dmesgLine(text: string, n: number, chars: number): void {
		const t = text.trim();
		if (this.mode === 'dmesg-end') {
			// After the array's `]`: the document's closing `}`.
			this.mode = 'lines';
			if (t === '}') this.out({kind: 'framing', line: n, span: 1, container: 'dmesg-json'});
			else this.plain(text, n, chars);
			return;
		}
		if (t === '{' || t === '},{') {
			if (t === '},{' && this.inRecord) this.dmesgRecord(n);
			else if (this.inRecord) this.bad('dmesg-json', this.start, n - this.start, 'this dmesg -J record does not end', this.buf[1] ?? '');
			this.inRecord = true;
			this.begin('{', n);
			return;
		}
		if (this.inRecord && (t === '}' || t === '},')) {
			this.dmesgRecord(n);
			this.inRecord = false;
			return;
		}
		if (t === ']' || t === '],') {
			if (this.inRecord) this.bad('dmesg-json', this.start, n - this.start, 'this dmesg -J record does not end', this.buf[1] ?? '');
			this.inRecord = false;
			this.mode = 'dmesg-end';
			this.out({kind: 'framing', line: n, span: 1, container: 'dmesg-json'});
			return;
		}
		if (this.inRecord && JSON_LINE.test(text)) {
			this.add(text, chars);
			return;
		}
		if (this.inRecord) this.bad('dmesg-json', this.start, n - this.start, `this dmesg -J record ends at line ${n}, which is not JSON`, this.buf[1] ?? '');
		this.inRecord = false;
		// Not dmesg -J's shape: the document ended early; read on as plain lines.
		this.mode = 'lines';
		this.plain(text, n, chars);
	}

	/** The dmesg -J record that ends on line `n` (its `}`). */
	private dmesgRecord(n: number): void {
		const span = n - this.start + 1;
		if (this.tooBig) {
			this.bad('dmesg-json', this.start, span, `dmesg -J record longer than ${MAX_RECORD} bytes: not read`, this.buf[1] ?? '');
			return;
		}
		const text = `${this.buf.join('\n')}\n}`;
		let record: Record<string, unknown>;
		try {
			record = JSON.parse(text) as Record<string, unknown>;
		} catch (error) {
			const e = jsonError(error, text, this.start);
			this.bad('dmesg-json', e.line, span, e.reason, this.buf[1]?.trim() ?? '');
			return;
		}
		const msg = record['msg'];
		if (typeof msg !== 'string') {
			this.out({kind: 'framing', line: this.start, span, container: 'dmesg-json'});
			return;
		}
		// The time as dmesg prints it (`[%5lu.%06lu] `): seconds since boot; a string (a newer
		// dmesg's --time-format) is put in front as written. Either way the grammar reads it.
		const time = record['time'];
		const stamp = typeof time === 'number' ? `[${time.toFixed(6).padStart(12)}] ` : typeof time === 'string' && time !== '' ? `${time} ` : '';
		this.out({kind: 'record', text: stamp + msg, line: lineOf(this.buf, this.start, '"msg"'), span, container: 'dmesg-json'});
	}

	// ---- journalctl -o export -----------------------------------------------------------------------

	private exportLine(text: string, n: number, chars: number): void {
		if (text === '') {
			this.endExport(n, false);
			return;
		}
		const eq = text.indexOf('=');
		const key = eq === -1 ? text : text.slice(0, eq);
		if (!FIELD_NAME.test(key) || chars > MAX_LINE) {
			if (chars > MAX_LINE && FIELD_NAME.test(key)) {
				// A field too long to be read: kept out; the record fails only if it was the message.
				if (key === 'MESSAGE') this.broken ??= {reason: `MESSAGE of ${chars} characters, longer than a trace line can be (${MAX_LINE}): not read`, line: n};
				return;
			}
			// Not a field: the record is broken; the line is read on its own, the record's other fields are passed over.
			this.endExport(n, false, `line ${n} is not a KEY=VALUE field of an export record`);
			this.plain(text, n, chars);
			if (this.mode === 'lines') this.mode = 'export-skip';
			return;
		}
		if (eq !== -1) {
			if (JOURNAL_KEYS.has(key)) this.fields.set(key, text.slice(eq + 1));
			if (key === 'MESSAGE') this.messageLine = n;
			return;
		}
		// KEY alone: a binary field follows, its length as 64-bit little-endian, its bytes, and LF.
		const keep = JOURNAL_KEYS.has(key);
		this.splitter.takeRaw(8, true, (size, cut) => {
			if (cut || !size) {
				this.broken ??= {reason: `binary field ${key} cut short by the end of the input`, line: n};
				return;
			}
			const length = size.readBigUInt64LE(0);
			if (length > BigInt(MAX_BINARY)) {
				// A damaged length: what follows cannot be framed; lines are read again from here.
				this.broken ??= {reason: `binary field ${key} says it is ${length} bytes long: not an export record`, line: n};
				return;
			}
			const keepIt = keep && length <= BigInt(KEEP_BYTES);
			if (key === 'MESSAGE') this.messageLine = n;
			if (key === 'MESSAGE' && !keepIt) this.broken ??= {reason: `MESSAGE of ${length} bytes, longer than a trace line can be (${MAX_LINE}): not read`, line: n};
			this.splitter.takeRaw(Number(length) + 1, keepIt, (data, cut2) => {
				if (cut2) {
					this.broken ??= {reason: `binary field ${key} cut short by the end of the input`, line: n};
					return;
				}
				if (data && data[data.length - 1] !== 10) this.broken ??= {reason: `binary field ${key} does not end with a line feed where its length says`, line: n};
				else if (data) this.fields.set(key, data.subarray(0, data.length - 1).toString('utf8'));
			});
		});
	}

	/** The export record ends before line `n` (its blank line, or what cut it). */
	private endExport(n: number, atEnd: boolean, cutBy?: string): void {
		this.mode = 'lines';
		const span = n - this.start + (atEnd || cutBy ? 0 : 1);
		const broken = this.broken ?? (cutBy ? {reason: cutBy, line: this.start} : undefined);
		if (broken) {
			this.bad('journal-export', broken.line, Math.max(1, span), broken.reason, this.fields.get('MESSAGE') ?? '');
			return;
		}
		const m = journalMessage(key => this.fields.get(key));
		if (!m) this.out({kind: 'framing', line: this.start, span: Math.max(1, span), container: 'journal-export'});
		else this.out({kind: 'record', line: this.messageLine || this.start, span: Math.max(1, span), container: 'journal-export', ...m});
		this.fields.clear();
	}

	private bad(container: Container, line: number, span: number, reason: string, text: string): void {
		this.out({kind: 'bad', line, span: Math.max(1, span), container, reason, excerpt: excerptAt(text.trim(), 1)});
	}
}
