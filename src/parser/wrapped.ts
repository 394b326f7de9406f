/**
 * Hard-wrapped kernel lines joined again: a terminal, an e-mail or a paste site breaks a long
 * TRACE or LOG line at a fixed width (`fold -w 80`) or at a space (`fold -s`, `fmt`), and the
 * pieces after the first carry no log head.
 *
 * Input:  parsed lines in order, each with its text:
 *           `[ 1615.720017] TRACE: raw:PREROUTING:policy:2 IN=twfb0 OUT= MAC=22:dc:57:da:39:43:a6:4e:`
 *           `de:26:9f:f7:08:00 SRC=198.19.250.1 DST=198.19.250.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=`
 *           `53985 DF PROTO=ICMP TYPE=8 CODE=0 ID=4725 SEQ=1 `
 * Output: the same lines, but a line and its continuations as one, read again as one line, with
 *         `joined: 2` (and its first line's number).
 *
 * A line is joined to the next only when both are certain:
 * - the line is a kernel trace line cut short: it does not parse, or its packet stops before the
 *   fields its protocol always ends with (TCP's URGP, UDP's second LEN, ICMP's CODE and an echo's
 *   SEQ, the PROTO of an IP packet, a closing bracket); once an input has shown a wrapped line,
 *   a complete line is also joined to a continuation that holds nothing but packet fields
 *   (`UID=0 GID=0 MARK=0x1` wrapped onto a line of their own);
 * - the next line is not a line of its own: it has no log head (grammar/trace.ohm, ownLine), and
 *   in a log without heads (dmesg -t) it is not a complete trace line on its own either.
 * The joined line must then read as a trace line whose every field is one the kernel prints
 * (a headless line of another message is not taken in). A break inside a word is joined as it is; at a
 * break with no space on either side, the line is read both ways (`PRO`+`TO=TCP` → `PROTO=TCP`,
 * `DF`+`PROTO=TCP` → `DF PROTO=TCP`) and the reading with fewer unknown fields wins; between
 * two readings as good, a continuation that starts with a whole word of the kernel's (`OUT=` then
 * `MAC=…`) takes the space back.
 *
 * Only a line held for a possible continuation waits for the next line (or the end of the input,
 * or `release()` when live input goes quiet); every other line is handed on at once.
 */
import {traceGrammar} from './grammar.js';
import {looksLikeTrace, matchTraceLine, MAX_LINE} from './trace-line.js';
import type {PacketFields, ParsedLine} from './types.js';

interface Held {
	readonly parsed: ParsedLine;
	readonly text: string;
	readonly joined: number;
}

/** The packet of a kernel trace line (the last record on it), if it is one. */
function kernelPacket(parsed: ParsedLine): PacketFields | undefined {
	if (parsed.kind !== 'event' || parsed.format !== 'kernel') return undefined;
	const e = parsed.rest?.at(-1) ?? parsed.event;
	return e.type === 'kernel-hop' || e.type === 'kernel-log' ? e.pkt : undefined;
}

const ECHO = new Set(['ICMP:0', 'ICMP:8', 'ICMPv6:128', 'ICMPv6:129']);

/** A packet that stops before the fields the kernel always prints last for it (nf_log_syslog.c). */
export function packetCutShort(p: PacketFields): boolean {
	if (p.cut) return true;
	if (p.incomplete !== undefined || p.fragOffset) return false;
	if (p.src === undefined || p.dst === undefined) return !(p.extra && ('ARP' in p.extra || 'HTYPE' in p.extra));
	if (p.proto === undefined) return true;
	switch (p.proto) {
		case 'TCP':
			return p.urgp === undefined;
		case 'UDP':
		case 'UDPLITE':
			return p.udpLen === undefined;
		case 'ICMP':
		case 'ICMPv6':
			return p.icmp?.code === undefined || (ECHO.has(`${p.proto}:${p.icmp.type}`) && p.icmp.seq === undefined);
		default:
			return false;
	}
}

/** Words and keys nf_log_syslog.c prints that tracewatch keeps as they are (PacketFields.extra). */
const KERNEL_WORDS = new Set(['RES', 'SPI', 'MACPROTO', 'HTYPE', 'PTYPE', 'OPCODE', 'IPSRC', 'IPDST', 'EXTHDR', 'OPT', 'IPOPT', 'LEN', 'ID', 'SEQ', 'SRC', 'DST', 'ARP', 'TRUNCATED', 'CE', 'DF', 'MF', 'AE', 'CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN']);

/** A continuation that starts with a whole field or flag of the kernel's (nf_log_syslog.c), not the rest of one. */
const WHOLE_WORD = /^(?:(?:IN|OUT|PHYSIN|PHYSOUT|MAC|MACSRC|MACDST|MACPROTO|SRC|DST|LEN|TOS|PREC|TTL|ID|PROTO|SPT|DPT|SEQ|ACK|WINDOW|RES|URGP|TYPE|CODE|PARAMETER|GATEWAY|MTU|UID|GID|MARK|TC|HOPLIMIT|FLOWLBL|SPI)=|(?:CE|DF|MF|AE|CWR|ECE|URG|ACK|PSH|RST|SYN|FIN)(?:[ \t]|$)|OPT \(|\[|FRAG:|INCOMPLETE \[)/;

/** Fields that are no words of the kernel's (a stray word, a piece of one), the quoted packet's included. */
function unknownFields(p: PacketFields | undefined): number {
	if (!p) return 0;
	return Object.keys(p.extra ?? {}).filter(k => !KERNEL_WORDS.has(k.replace(/#\d+$/, ''))).length + unknownFields(p.quoted);
}

/**
 * Unknown fields of a line, but for its last word: that word may be the first piece of one the
 * next line ends (`HOPLIM` then `IT=64`, `GID` then `=0`).
 */
function unknownBeforeEnd(parsed: ParsedLine, text: string): number {
	const p = kernelPacket(parsed);
	const n = unknownFields(p);
	if (n === 0) return n;
	const last = text.trimEnd().split(/[ \t]+/).at(-1) ?? '';
	const key = last.replace(/^\[/, '').split('=', 1)[0]!;
	const has = (q: PacketFields | undefined): boolean => q !== undefined && (Object.keys(q.extra ?? {}).some(k => k.replace(/#\d+$/, '') === key) || has(q.quoted));
	return has(p) && !KERNEL_WORDS.has(key) ? n - 1 : n;
}

/** A kernel trace line cut short: one that looks like one and does not parse, or whose packet is cut short. */
function cutShort(parsed: ParsedLine, text: string): boolean {
	if (parsed.kind === 'unparsed') return looksLikeTrace(text) && !/^\s*(?:PACKET:|EVENT:|TRACE: \d|trace id )/.test(text);
	const p = kernelPacket(parsed);
	return p !== undefined && packetCutShort(p);
}

const matches = (text: string, rule: string): boolean => traceGrammar.match(text, rule).succeeded();

export class WrapJoiner {
	private held: Held | undefined;
	/** A line of this input was found wrapped: complete lines may have continuations too. */
	private wrapped = false;

	constructor(private readonly out: (line: ParsedLine) => void) {}

	get holding(): boolean {
		return this.held !== undefined;
	}

	/** A plain line, parsed on its own. */
	line(parsed: ParsedLine, text: string): void {
		if (this.held) {
			const joined = this.continues(this.held, parsed, text) ? this.join(this.held, text) : undefined;
			if (joined) {
				this.held = joined;
				this.wrapped = true;
				return;
			}
			this.release();
		}
		if (parsed.kind === 'event' && (cutShort(parsed, text) || (this.wrapped && kernelPacket(parsed))) || (parsed.kind === 'unparsed' && cutShort(parsed, text))) {
			this.held = {parsed, text, joined: 0};
			return;
		}
		this.out(parsed);
	}

	/** Anything but a plain line (a record unpacked from a container): a held line ends first. */
	other(parsed: ParsedLine): void {
		this.release();
		this.out(parsed);
	}

	/** Hands on the line held for a continuation (at the end of input, or when live input goes quiet). */
	release(): void {
		const h = this.held;
		if (!h) return;
		this.held = undefined;
		this.out(h.joined > 0 ? {...h.parsed, joined: h.joined} : h.parsed);
	}

	/** Whether `text` (parsed as `parsed`) may continue the held line. */
	private continues(h: Held, parsed: ParsedLine, text: string): boolean {
		if (text === '' || h.text.length + text.length + 1 > MAX_LINE) return false;
		// The space that ends a kernel line, wrapped onto a line of its own (in an input seen wrapped:
		// elsewhere a line of spaces is a blank line between entries).
		if (/^[ \t]+$/.test(text)) return this.wrapped;
		// A line with `TRACE:` in it is a line of its own (the grammar's ownLine_trace), found without a match.
		if (text.includes('TRACE:') || matches(text, 'ownLine')) return false;
		// In a log whose lines have no heads, a complete trace line is a line of its own.
		if (parsed.kind === 'event' && !cutShort(parsed, text) && !matches(h.text, 'headedLine')) return false;
		return true;
	}

	/** The held line with `text` joined on, read again; undefined when that is not a better reading. */
	private join(h: Held, text: string): Held | undefined {
		const ref = h.parsed.ref;
		if (/^[ \t]+$/.test(text)) return {parsed: h.parsed, text: h.text + text, joined: h.joined + 1};
		const spaced = /[ \t]$/.test(h.text) || /^[ \t]/.test(text);
		const texts = spaced ? [h.text + text] : [h.text + text, `${h.text} ${text}`];
		// Between two whole words of the kernel's (`OUT=` then `MAC=…`) the break was a space the wrap took.
		const wordBreak = WHOLE_WORD.test(text) ? 1 : 0;
		let best: {parsed: ParsedLine; text: string; score: number[]} | undefined;
		for (const [i, t] of texts.entries()) {
			const parsed = matchTraceLine(t, ref);
			const score = [parsed.kind === 'event' ? 0 : 1, unknownBeforeEnd(parsed, t), i === 0 ? wordBreak : 1 - wordBreak, cutShort(parsed, t) ? 1 : 0];
			if (!best || better(score, best.score)) best = {parsed, text: t, score};
		}
		const b = best!;
		// The joined line must read as a trace line, and every word the continuation brings must
		// be one the kernel prints: an unrelated line (a headless line of another message) is not taken.
		if (b.parsed.kind !== 'event' || !kernelPacket(b.parsed)) return undefined;
		if (unknownBeforeEnd(b.parsed, b.text) > unknownBeforeEnd(h.parsed, h.text)) return undefined;
		return {parsed: b.parsed, text: b.text, joined: h.joined + 1};
	}
}

/** True when score `a` is better (lower) than `b`, element by element. */
function better(a: readonly number[], b: readonly number[]): boolean {
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
	return false;
}
