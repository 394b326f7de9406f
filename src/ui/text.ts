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
import {ruleEffects} from '../model/hooks.js';
import {expectsReply} from '../model/pairing.js';
import {isBuiltinChain, isHook} from '../netfilter/hooks.js';
import {wrapText} from './wrap.js';
import {endpoint as hostPort} from '../netfilter/addr.js';
import {icmpName as icmpShortName, MLD_RECORD_TYPES} from '../netfilter/icmp.js';
import {chainLabel, isLogObservation, type Hop, type Packet} from '../model/types.js';
import type {InputInfo, InputNames, UnparsedLine} from '../model/inputs.js';
import type {NoticeInfo} from '../model/pipeline.js';

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
	// A -j LOG line names no chain; a bridge-family log line whose prefix names one (`TRACE: eb:filter:FORWARD`) does.
	if (h.kind === 'log') return chainLabel(h);
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}`;
}

/** `TCP 10.0.0.1:1234 → 10.0.0.2:80 [SYN]` / `ICMP 10.0.0.1 → 10.0.0.2 echo-request id=7 seq=1` */
export function describeTuple(p: Packet): string {
	if (p.arp) {
		// `ARP request 198.18.233.1 → 198.18.233.2`: who asks, for whom.
		const op = p.arp.op === 1 ? 'request' : p.arp.op === 2 ? 'reply' : `op=${p.arp.op}`;
		return `ARP ${op} ${p.src || '?'} → ${p.dst || '?'}${p.ether ? ` ${etherText(p.ether)}` : ''}`;
	}
	// A frame whose network header the bridge's log did not show: its Ethernet header.
	if (p.ether && !p.src) return `ether ${etherText(p.ether)}`;
	const base = `${p.proto} ${endpoint(p.src, p.spt)} → ${endpoint(p.dst, p.dpt)}`;
	const parts = [base];
	if (p.tcpFlags?.length) parts.push(`[${p.tcpFlags.join(' ')}]`);
	if (p.icmp) {
		parts.push(icmpName(p.proto, p.icmp.type, p.icmp.code));
		if (p.icmp.id !== undefined) parts.push(`id=${p.icmp.id} seq=${p.icmp.seq ?? '?'}`);
		if (p.icmp.mtu !== undefined) parts.push(`mtu=${p.icmp.mtu}`);
	}
	if (p.ipId !== undefined) parts.push(`ID=${p.ipId}`);
	if (p.ether) parts.push(etherText(p.ether));
	return parts.join(' ');
}

/**
 * How the packet's protocol is known when the trace did not print it, in words; undefined when
 * it did. "protocol not printed by the trace: ICMPv6, from a rule it matched, behind an IPv6
 * hop-by-hop header (its header read from the bytes nft printed raw)".
 */
export function protoNote(p: Packet): string | undefined {
	const behind = p.extHeader ? `behind an IPv6 ${p.extHeader} header` : '';
	if (!p.protoFrom) return p.extHeader && p.proto === 'unknown' ? `protocol not printed by the trace: it comes ${behind}, and no rule it matched names it` : undefined;
	const how = p.protoFrom === 'answer' ? 'as the packet it answers' : p.protoFrom === 'ports' ? 'from its ports and no TCP flags' : 'from a rule it matched';
	const header = p.extHeader ? (p.icmp ? ' (its header read from the bytes nft printed raw)' : ' (nft printed no header nft could read)') : '';
	return `protocol not printed by the trace: ${p.proto}, ${how}${behind ? `, ${behind}` : ''}${header}`;
}

/**
 * What an MLD message says beyond its type, as far as the trace shows it; undefined for other
 * packets and when the trace shows nothing of its body (kernel log, xtables-monitor).
 * "MLD general query, max delay 1000 ms"; "MLDv2 report, 1 record, the first change-to-exclude
 * for ff02:0000:0000:0000… (the rest not printed)".
 */
export function mldNote(p: Packet): string | undefined {
	const m = p.icmp?.mld;
	if (!m || !p.icmp) return undefined;
	const group = m.group !== undefined ? m.group : m.groupStart !== undefined ? `${m.groupStart}… (the rest not printed)` : 'an address not printed';
	switch (p.icmp.type) {
		case 130: {
			const what = m.group === '::' ? 'general query' : `query for ${group}`;
			return `MLD ${what}, ${m.maxDelay === undefined ? 'max delay not known (its code needs the MLD version, which the trace does not show)' : `max delay ${m.maxDelay} ms`}`;
		}
		case 131:
			return `MLDv1 report for ${group}`;
		case 132:
			return `MLD done for ${group}`;
		case 143: {
			if (m.records === undefined) return 'MLDv2 report, records not printed';
			const first = m.recordType === undefined ? '' : `, the first ${MLD_RECORD_TYPES[m.recordType] ?? `of type ${m.recordType}`} for ${group}`;
			return `MLDv2 report, ${m.records} record${m.records === 1 ? '' : 's'}${first}`;
		}
		default:
			return undefined;
	}
}

/** `[02:17:93:48:95:44 → 96:f4:44:56:4e:49 0x0800]`: a bridged frame's Ethernet header. */
function etherText(e: NonNullable<Packet['ether']>): string {
	return `[${e.src} → ${e.dst} 0x${e.type.toString(16).padStart(4, '0')}]`;
}

/** `frag-needed`, `echo-request`, … or `type=42 code=0` for a message without a name. */
export function icmpName(proto: string, type: number, code?: number): string {
	return icmpShortName(proto, type, code) ?? `type=${type}${code !== undefined ? ` code=${code}` : ''}`;
}

/** One hook of a packet's path: its tables in order, each with the user chains it called nested under it. */
export interface PathStep {
	/** PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING, or `?` when the trace does not say. */
	readonly hook: string;
	/** `raw · mangle (cali-PREROUTING (cali-from-host-endpoint)) · nat (KUBE-SERVICES (KUBE-SVC-X (KUBE-SEP-Y)))` */
	readonly text: string;
}

interface ChainNode {
	readonly name: string;
	readonly calls: ChainNode[];
}

function nested(n: ChainNode): string {
	return n.calls.length === 0 ? n.name : `${n.name} (${n.calls.map(nested).join(', ')})`;
}

/**
 * The path folded: one step per hook, the tables of that hook in the order the packet met them,
 * and under each table the user chains its base chain jumped to, nested as they called each
 * other. A chain entered and returned from shows once; entered again later, again.
 *
 * Input:  hops raw:PREROUTING → mangle:PREROUTING → mangle:cali-PREROUTING → mangle:cali-from-host-endpoint
 *         → mangle:cali-PREROUTING → mangle:PREROUTING → nat:PREROUTING → nat:KUBE-SERVICES → nat:KUBE-SVC-X → …
 * Output: [{hook: 'PREROUTING', text: 'raw · mangle (cali-PREROUTING (cali-from-host-endpoint)) · nat (KUBE-SERVICES (KUBE-SVC-X))'}, …]
 */
export function foldedPath(p: Packet): PathStep[] {
	const steps: Array<{hook: string; tables: Array<{table: string; chain: string; root: ChainNode}>}> = [];
	let stack: ChainNode[] = [];
	for (const h of p.hops) {
		// A bridge-family hop whose prefix names its chain is a step of the path; a -j LOG line is not.
		const bridgeHop = h.bridge === true && h.table !== '';
		if (h.kind === 'log' && !bridgeHop) continue;
		// The bridge family's hooks are named like IP ones, and BROUTING is its own.
		const hook = h.hook ?? (isHook(h.chain) || (bridgeHop && h.chain === 'BROUTING') ? h.chain : '?');
		let step = steps.at(-1);
		if (!step || step.hook !== hook) {
			step = {hook, tables: []};
			steps.push(step);
			stack = [];
		}
		let table = step.tables.at(-1);
		const base = bridgeHop || (isBuiltinChain(h.table, h.chain) && h.chain === hook);
		if (!table || table.table !== h.table || (base && table.chain !== h.chain)) {
			table = {table: h.table, chain: base ? h.chain : '', root: {name: base ? h.table : `${h.table} ${h.chain}`, calls: []}};
			step.tables.push(table);
			stack = [table.root];
			if (!base) continue;
		}
		if (base) {
			stack = [table.root];
			continue;
		}
		// A user chain: back in one that called it, or entered from the chain on top.
		const at = stack.findIndex((n, i) => i > 0 && n.name === h.chain);
		if (at > 0) {
			stack = stack.slice(0, at + 1);
			continue;
		}
		const node: ChainNode = {name: h.chain, calls: []};
		stack.at(-1)!.calls.push(node);
		stack.push(node);
	}
	return steps.map(s => ({hook: s.hook, text: s.tables.map(t => nested(t.root)).join(' · ')}));
}

/** The chains in order, each once per visit: raw:PREROUTING → nat:PREROUTING → … */
export function compactPath(p: Packet): string[] {
	const path: string[] = [];
	for (const h of p.hops) {
		if (h.kind === 'log' && !(h.bridge && h.table)) continue;
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

/**
 * What changed at each hop of a packet (index = hop index), from Packet.changes: a rule's change
 * under the hop of that rule (its line shows the packet before its target ran); a change by
 * routing or conntrack under the first hop that shows it, saying so. The TTL is shown only when
 * a rule changed it. A packet without `changes` (made elsewhere) falls back to comparing hops.
 */
export function hopChanges(p: Packet): string[][] {
	const out: string[][] = p.hops.map(() => []);
	if (!p.changes) {
		let prev: Hop | undefined;
		p.hops.forEach((h, i) => {
			if (h.kind === 'log') return;
			out[i] = changesAt(prev, h);
			prev = h;
		});
		return out;
	}
	for (const c of p.changes) {
		// Under the rule only when its text says it does that (the dump joined, or the trace printed
		// it); otherwise where it is first seen, as a person reading the lines would find it.
		const ruleDid = c.by === 'rule' && p.hops[c.at] !== undefined && (ruleEffects(p.hops[c.at]!) as readonly string[]).includes(c.field);
		if (c.field === 'ttl' && !ruleDid) continue;
		const at = ruleDid ? c.at : c.seen;
		const by = c.by === 'conntrack' ? ' (conntrack)' : c.by === 'routing' && c.field !== 'out' ? ' (routing)' : '';
		const text =
			c.field === 'out'
				? `OUT=${c.to}`
				: c.field === 'mark'
					? `MARK ${c.from || '0'} → ${c.to || '0'}`
					: `${c.field.toUpperCase()} ${c.from} → ${c.to}`;
		out[at]?.push(text + by);
	}
	return out;
}

/**
 * What conntrack did to a packet of a traced connection, in words: "reply of #1, destination
 * restored by conntrack 198.18.61.1:40000 → 198.18.60.2:40000". Empty when it did nothing.
 */
export function connectionText(p: Packet): string {
	const c = p.connection;
	if (!c || c.conntrack.length === 0) return '';
	const parts = c.conntrack.map(r => {
		const field = r.field === 'dst' ? 'destination' : 'source';
		const what = r.did === 'restored' ? 'restored' : 'rewritten';
		const inferred = r.seen === 'inferred' ? ` (after the last trace point, from #${r.of}'s NAT)` : '';
		return `${field} ${what} by conntrack ${r.from} → ${r.to}${inferred}`;
	});
	return `${c.direction === 'reply' ? 'reply' : 'later packet'} of #${c.first}, ${parts.join(', ')}`;
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
	if (p.mayAnswer !== undefined) parts.push(s.yellow(`may answer #${p.mayAnswer}`));
	if (p.replySeen) parts.push(s.green('reply ✓ seen'));
	else if (p.replyUnknown) parts.push(s.yellow(`reply ? unknown (${replyUnknownText(p.replyUnknown)})`));
	else if (expectsReply(p)) parts.push(s.yellow('reply ✗ none seen'));
	else if (p.replyTo === null && p.mayAnswer === undefined) parts.push(s.dim('no reply expected'));
	return parts.join(', ');
}

/** Why a reply state is unknown, short: a later packet that may answer says so itself; a log that lost lines is said in the summary. */
export function replyUnknownText(why: string): string {
	return why.startsWith('#') || why.startsWith('no ICMPv6 type') ? why : 'the log may have lost it';
}

/**
 * How much of a packet the text view shows: `summary` (what it is, in and out, verdict, reply,
 * NAT, final hop), `path` (also the folded path), `all` (also every hop with its rule).
 */
export type HopDetail = 'summary' | 'path' | 'all';

export interface PacketTextOptions {
	/** @default 'all' */
	readonly hops?: HopDetail;
	/** Terminal columns to fold long lines to; none (the default) leaves lines whole, as for a file or a pipe. */
	readonly width?: number;
}

export function renderPacket(p: Packet, inputs: InputNames, s: Style = plain, options: PacketTextOptions = {}): string {
	const detail = options.hops ?? 'all';
	const lines: string[] = [];
	const time = p.hops[0]?.time?.text;
	lines.push(`${s.bold(`#${p.id}`)}  ${s.bold(describeTuple(p))}   ${s.dim(lineRange(p, inputs))}${time ? s.dim(`  ${time}`) : ''}`);
	const uid = p.uid !== undefined ? `   uid ${p.uid}${p.gid !== undefined ? ` gid ${p.gid}` : ''}` : '';
	lines.push(`    in ${p.in || '-'} → out ${p.out || '-'}   verdict ${verdictStyled(p, s)}   ${replyText(p, s)}${uid}`);
	if (p.cutAtStart) lines.push(`    ${s.yellow(`cut at the start: ${p.cutAtStart}`)}`);
	const conn = connectionText(p);
	if (conn) lines.push(`    conntrack  ${conn}`);
	const proto = protoNote(p);
	if (proto) lines.push(`    ${s.dim(proto)}`);
	const mld = mldNote(p);
	if (mld) lines.push(`    ${s.dim(mld)}`);
	for (const n of p.nat) {
		if (conn && n.seen === 'connection') continue;
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
	if (isLogObservation(p)) {
		lines.push(`    LOG "${p.hops[0]!.logPrefix ?? ''}"`);
	} else {
		if (detail !== 'summary') {
			const steps = foldedPath(p);
			const hookWidth = Math.max(0, ...steps.map(st => st.hook.length));
			steps.forEach((st, i) => lines.push(`    ${i === 0 ? 'path' : '    '} ${s.bold(st.hook.padEnd(hookWidth))}  ${st.text}`));
		}
		const width = Math.min(44, Math.max(0, ...p.hops.map(h => hopName(h).length)) + 2);
		// Beside the hop when the terminal leaves the rule 50 columns or more; else under it.
		const stacked = options.width !== undefined && options.width > 0 && options.width - (6 + width + 12) < 50;
		const under = stacked ? ' '.repeat(10) : ' '.repeat(6 + width + 12);
		const changed = hopChanges(p);
		for (const [i, h] of (detail === 'all' ? p.hops : []).entries()) {
			const target = h.target ?? h.traceVerdict ?? '';
			if (stacked) {
				lines.push(`      ${hopName(h)}  ${target}`.trimEnd());
				if (h.rule) lines.push(`${under}${s.dim(h.rule)}`);
			} else lines.push(`      ${hopName(h).padEnd(width)}${target.padEnd(11)} ${s.dim(h.rule ?? '')}`.trimEnd());
			for (const c of changed[i] ?? []) lines.push(`${under}${s.cyan(c)}`);
			if (h.logPrefix !== undefined && h.kind !== 'log') lines.push(`${under}${s.dim(`logged "${h.logPrefix}"`)}`);
			if (h.note) lines.push(`${under}${s.yellow(`note: ${h.note}`)}`);
		}
		const last = p.hops[p.hops.length - 1];
		if (last) lines.push(`    final ${hopName(last)} → ${verdictStyled(p, s)} ${s.dim(`(${p.verdictBasis})`)}`);
	}
	return wrapText(lines.join('\n'), options.width ?? 0, packetIndent);
}

/** Where a folded line of the packet view continues: under the rule of a hop, the chains of a path step, the text of the other lines. */
function packetIndent(line: string): number {
	const plain = columnsText(line);
	const path = /^ {4}(?:path|    ) [A-Z?]+\s+/.exec(plain);
	if (path) return path[0].length;
	if (/^ {10}\S/.test(plain)) return 10;
	const hop = /^ {6}\S+\s+\S*\s+/.exec(plain);
	if (hop && /^ {6}[^ ]+:[^ ]+:/.test(plain)) return Math.min(hop[0].length, 57);
	if (/^ {7,}\S/.test(plain)) return /^ */.exec(plain)![0].length;
	return 6;
}

/** The line without tracewatch's own style sequences, to measure its columns. */
function columnsText(line: string): string {
	return line.replace(/\u001B\[[0-9;]*m/g, '');
}

export function renderSummary(
	info: {inputs: readonly InputInfo[]; completed: number; unparsed: readonly UnparsedLine[]; unparsedCount: number; rulesLoaded: number; notices?: readonly NoticeInfo[]; noticeCount?: number},
	s: Style = plain,
): string {
	const lines: string[] = [];
	const totals = info.inputs.reduce((a, i) => ({lines: a.lines + i.lines, trace: a.trace + i.traceLines, skipped: a.skipped + i.skipped, joined: a.joined + (i.joined ?? 0)}), {lines: 0, trace: 0, skipped: 0, joined: 0});
	lines.push(
		s.bold(`${info.completed} packet(s)`) +
			` from ${totals.trace} trace line(s); ${totals.lines} line(s) read, ${totals.skipped} skipped (not trace output), ${info.unparsedCount} unparsed` +
			(totals.joined ? `; ${totals.joined} wrapped line(s) joined to the line they continue` : '') +
			(info.rulesLoaded ? `; ${info.rulesLoaded} ruleset(s) joined` : '; no --rules given: rule text and most verdicts need a saved iptables-save dump'),
	);
	for (const u of info.unparsed.slice(0, 20)) lines.push(s.yellow(`  ${u.path}:${u.line}:${u.column}: ${u.reason}`) + s.dim(`\n      ${u.excerpt}`));
	if (info.unparsedCount > 20) lines.push(s.dim(`  … ${info.unparsedCount - 20} more unparsed line(s) (--format json lists them)`));
	const cuts = (info.notices ?? []).filter(n => n.what === 'cut-start');
	const logged = (info.noticeCount ?? 0) - cuts.length;
	if (logged > 0) {
		lines.push(s.yellow(`${logged} line(s) say the log may be incomplete; packets before them with no reply seen have reply state "unknown":`));
		for (const n of (info.notices ?? []).filter(n => n.what !== 'cut-start').slice(0, 20)) lines.push(s.yellow(`  ${n.path}:${n.line}: ${n.text}${n.lines > 1 ? ` (+${n.lines - 1} line(s))` : ''}`));
	}
	for (const n of cuts) lines.push(s.yellow(cutStartText(n)));
	return lines.join('\n');
}

/** A `cut-start` notice in words: where the input begins, and in the middle of which packets. */
export function cutStartText(n: NoticeInfo): string {
	const count = n.packetCount ?? n.packets?.length ?? 0;
	const ids = (n.packets ?? []).slice(0, 12).map(id => `#${id}`).join(' ') + (count > 12 ? ' …' : '');
	return `${n.path}:${n.line}: the input begins in the middle of ${count} packet(s) (${ids}): their earlier lines are not in it (the kernel's ring buffer wrapped, or the capture started while they were on their way); their paths are cut at the start, and no finding is drawn from them`;
}

const SEVERITY_ORDER = {error: 0, warning: 1, info: 2} as const;

/** Findings, most severe first, each with what to do and the packets or rules concerned. */
/** Findings, most severe first; lines folded to `width` columns when one is given (a terminal). */
export function renderFindings(findings: readonly Finding[], s: Style = plain, title = 'Findings', width = 0): string {
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
	return wrapText(lines.join('\n'), width, line => (/^ {10}→ /.test(line) ? 12 : 10));
}
