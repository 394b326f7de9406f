/**
 * Plain-text view: one block per packet, then a summary. Used when stdout is not a terminal,
 * or with --format text.
 *
 * Output (shape):
 *   #1  TCP 198.19.88.69:40312 → 198.19.96.1:443 [SYN] ID=41   trace.log:3-11
 *       in cali1a2b3c4d5e6 → out wlp59s0   verdict ACCEPT   reply ✗ none seen
 *       NAT  DNAT 198.19.96.1:443 → 198.18.1.50:6443 at nat:PREROUTING:rule:1
 *       path raw:PREROUTING → nat:PREROUTING → filter:FORWARD → mangle:POSTROUTING
 *         raw:PREROUTING:policy:2      ACCEPT      -P PREROUTING ACCEPT
 *         nat:PREROUTING:rule:1        DNAT        -A PREROUTING -d 198.19.96.1/32 … -j DNAT …
 *                                                  DST 198.19.96.1:443 → 198.18.1.50:6443
 *       final mangle:POSTROUTING:policy:2 → ACCEPT (assumed: mangle policy)
 */
import type {Finding} from '../model/findings/types.js';
import {expectsReply} from '../model/pairing.js';
import {endpoint as hostPort} from '../netfilter/addr.js';
import {icmpName as icmpShortName} from '../netfilter/icmp.js';
import type {Hop, Packet} from '../model/types.js';
import type {InputInfo, InputNames, UnparsedLine} from '../model/inputs.js';

export interface Style {
	bold(s: string): string;
	dim(s: string): string;
	red(s: string): string;
	green(s: string): string;
	yellow(s: string): string;
	cyan(s: string): string;
}

const ansi = (code: number) => (s: string) => `\u001B[${code}m${s}\u001B[0m`;
export const colors: Style = {bold: ansi(1), dim: ansi(2), red: ansi(31), green: ansi(32), yellow: ansi(33), cyan: ansi(36)};
const id = (s: string) => s;
export const plain: Style = {bold: id, dim: id, red: id, green: id, yellow: id, cyan: id};

/** `10.0.0.1:80`, `[2001:db8::1]:80`, `?` when the address is not known. */
export function endpoint(addr: string | undefined, port: number | undefined): string {
	return addr ? hostPort(addr, port) : '?';
}

export function hopName(h: Pick<Hop, 'table' | 'chain' | 'kind' | 'num'>): string {
	if (h.kind === 'log') return 'LOG';
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}`;
}

/** `TCP 10.0.0.1:1234 → 10.0.0.2:80 [SYN]` / `ICMP 10.0.0.1 → 10.0.0.2 echo-request id=7 seq=1` */
export function describeTuple(p: Packet): string {
	const base = `${p.proto} ${endpoint(p.src, p.spt)} → ${endpoint(p.dst, p.dpt)}`;
	const parts = [base];
	if (p.tcpFlags?.length) parts.push(`[${p.tcpFlags.join(' ')}]`);
	if (p.icmp) {
		parts.push(icmpName(p.proto, p.icmp.type, p.icmp.code));
		if (p.icmp.id !== undefined) parts.push(`id=${p.icmp.id} seq=${p.icmp.seq ?? '?'}`);
		if (p.icmp.mtu !== undefined) parts.push(`mtu=${p.icmp.mtu}`);
	}
	if (p.ipId !== undefined) parts.push(`ID=${p.ipId}`);
	return parts.join(' ');
}

/** `frag-needed`, `echo-request`, … or `type=42 code=0` for a message without a name. */
export function icmpName(proto: string, type: number, code?: number): string {
	return icmpShortName(proto, type, code) ?? `type=${type}${code !== undefined ? ` code=${code}` : ''}`;
}

/** The chains in order, each once per visit: raw:PREROUTING → nat:PREROUTING → … */
export function compactPath(p: Packet): string[] {
	const path: string[] = [];
	for (const h of p.hops) {
		if (h.kind === 'log') continue;
		const name = `${h.table}:${h.chain}`;
		if (path[path.length - 1] !== name) path.push(name);
	}
	return path;
}

/** What changed on the packet at this hop compared with the hop before. */
export function changesAt(prev: Hop | undefined, h: Hop): string[] {
	if (!prev) return [];
	const out: string[] = [];
	if (prev.dst !== h.dst || prev.dpt !== h.dpt) out.push(`DST ${endpoint(prev.dst, prev.dpt)} → ${endpoint(h.dst, h.dpt)}`);
	if (prev.src !== h.src || prev.spt !== h.spt) out.push(`SRC ${endpoint(prev.src, prev.spt)} → ${endpoint(h.src, h.spt)}`);
	if (h.out && prev.out !== h.out) out.push(`OUT=${h.out}`);
	if ((prev.mark ?? '') !== (h.mark ?? '')) out.push(`MARK ${prev.mark ?? '0'} → ${h.mark ?? '0'}`);
	return out;
}

function verdictStyled(p: Packet, s: Style): string {
	switch (p.verdict) {
		case 'ACCEPT':
			return s.green(p.verdict);
		case 'DROP':
		case 'REJECT':
			return s.red(p.verdict);
		default:
			return s.yellow(p.verdict);
	}
}

export function lineRange(p: Packet, inputs: InputNames): string {
	const first = p.hops[0]?.ref;
	const last = p.hops[p.hops.length - 1]?.ref;
	if (!first || !last) return '';
	const name = inputs[first.input]?.path ?? '-';
	return first.line === last.line ? `${name}:${first.line}` : `${name}:${first.line}-${last.line}`;
}

export function replyText(p: Packet, s: Style): string {
	const parts: string[] = [];
	if (p.replyTo !== null) parts.push(`answers #${p.replyTo}`);
	if (p.replySeen) parts.push(s.green('reply ✓ seen'));
	else if (expectsReply(p)) parts.push(s.yellow('reply ✗ none seen'));
	else if (p.replyTo === null) parts.push(s.dim('no reply expected'));
	return parts.join(', ');
}

export function renderPacket(p: Packet, inputs: InputNames, s: Style = plain): string {
	const lines: string[] = [];
	const time = p.hops[0]?.time?.text;
	lines.push(`${s.bold(`#${p.id}`)}  ${s.bold(describeTuple(p))}   ${s.dim(lineRange(p, inputs))}${time ? s.dim(`  ${time}`) : ''}`);
	const uid = p.uid !== undefined ? `   uid ${p.uid}${p.gid !== undefined ? ` gid ${p.gid}` : ''}` : '';
	lines.push(`    in ${p.in || '-'} → out ${p.out || '-'}   verdict ${verdictStyled(p, s)}   ${replyText(p, s)}${uid}`);
	for (const n of p.nat) {
		const where =
			n.seen === 'connection'
				? `first seen at ${n.at} (the connection's existing NAT mapping)`
				: n.seen === 'rule'
					? `at ${n.at} (from the rule; source NAT happens after the last trace point)`
					: `at ${n.at}`;
		lines.push(`    NAT  ${n.type} ${n.from} → ${n.to} ${s.dim(where)}`);
	}
	if (p.quoted) {
		const q = p.quoted;
		lines.push(`    quotes ${q.proto ?? '?'} ${endpoint(q.src, q.spt)} → ${endpoint(q.dst, q.dpt)}${p.quotes ? ` (packet #${p.quotes})` : ''}`);
	}
	if (p.hops[0]?.kind === 'log') {
		lines.push(`    LOG "${p.hops[0].logPrefix ?? ''}"`);
	} else {
		lines.push(`    path ${compactPath(p).join(' → ')}`);
		const width = Math.min(44, Math.max(...p.hops.map(h => hopName(h).length)) + 2);
		let prev: Hop | undefined;
		for (const h of p.hops) {
			const name = hopName(h).padEnd(width);
			const target = (h.target ?? h.traceVerdict ?? '').padEnd(11);
			lines.push(`      ${name}${target} ${s.dim(h.rule ?? '')}`.trimEnd());
			for (const c of changesAt(prev, h)) lines.push(`      ${' '.repeat(width + 12)}${s.cyan(c)}`);
			if (h.logPrefix !== undefined && h.kind !== 'log') lines.push(`      ${' '.repeat(width + 12)}${s.dim(`logged "${h.logPrefix}"`)}`);
			if (h.note) lines.push(`      ${' '.repeat(width + 12)}${s.yellow(`note: ${h.note}`)}`);
			prev = h;
		}
		const last = p.hops[p.hops.length - 1];
		if (last) lines.push(`    final ${hopName(last)} → ${verdictStyled(p, s)} ${s.dim(`(${p.verdictBasis})`)}`);
	}
	return lines.join('\n');
}

export function renderSummary(
	info: {inputs: readonly InputInfo[]; completed: number; unparsed: readonly UnparsedLine[]; unparsedCount: number; rulesLoaded: number},
	s: Style = plain,
): string {
	const lines: string[] = [];
	const totals = info.inputs.reduce((a, i) => ({lines: a.lines + i.lines, trace: a.trace + i.traceLines, skipped: a.skipped + i.skipped}), {lines: 0, trace: 0, skipped: 0});
	lines.push(
		s.bold(`${info.completed} packet(s)`) +
			` from ${totals.trace} trace line(s); ${totals.lines} line(s) read, ${totals.skipped} skipped (not trace output), ${info.unparsedCount} unparsed` +
			(info.rulesLoaded ? `; ${info.rulesLoaded} ruleset(s) joined` : '; no --rules given: rule text and most verdicts need a saved iptables-save dump'),
	);
	for (const u of info.unparsed.slice(0, 20)) lines.push(s.yellow(`  ${u.path}:${u.line}:${u.column}: ${u.reason}`) + s.dim(`\n      ${u.excerpt}`));
	if (info.unparsedCount > 20) lines.push(s.dim(`  … ${info.unparsedCount - 20} more unparsed line(s) (--format json lists them)`));
	return lines.join('\n');
}

const SEVERITY_ORDER = {error: 0, warning: 1, info: 2} as const;

/** Findings, most severe first, each with what to do and the packets or rules concerned. */
export function renderFindings(findings: readonly Finding[], s: Style = plain, title = 'Findings'): string {
	if (findings.length === 0) return s.dim(`${title}: none`);
	const sorted = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
	const lines = [s.bold(`${title} (${findings.length})`)];
	for (const f of sorted) {
		const tag = f.severity === 'error' ? s.red('error  ') : f.severity === 'warning' ? s.yellow('warning') : s.cyan('info   ');
		lines.push(`  ${tag} ${s.bold(f.kind)}: ${f.message}`);
		for (const r of f.rules) lines.push(s.dim(`          ${r.file ? `${r.file}:${r.line ?? '?'} ` : ''}${r.table}:${r.chain}${r.pos ? ` #${r.pos}` : ''}  ${r.text}`));
		if (f.packets.length > 0) lines.push(s.dim(`          packets ${f.packets.slice(0, 12).map(id => `#${id}`).join(' ')}${f.packets.length > 12 ? ` … (${f.packets.length})` : ''}`));
		lines.push(`          → ${f.hint}`);
	}
	return lines.join('\n');
}
