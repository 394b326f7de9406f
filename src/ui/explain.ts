/**
 * How `tracewatch explain` shows a prediction: text in the layout of replay's packet view, and
 * JSON whose hops are replay's hop objects (docs/explain.md has the contract).
 *
 * Output (text, shape):
 *   #1  TCP 198.18.10.2:40990 → 198.18.30.10:80 [SYN] ID=38824   predicted from dmesg.log:1 (traced packet #1)
 *       in eth0 → out eth1   verdict ACCEPT   state new (the first packet of its connection in the trace)
 *       route forward out eth1 (the trace shows packets to 198.18.20.2 leaving by eth1)
 *       NAT  DNAT 198.18.30.10:80 → 198.18.20.2:8080 at nat:TW-SERVICES:rule:1
 *       path PREROUTING   raw · mangle · nat (TW-SERVICES)
 *            FORWARD      mangle · filter (TW-USER, TW-FORWARD)
 *            POSTROUTING  mangle · nat
 *         raw:PREROUTING:policy:3      ACCEPT      -P PREROUTING ACCEPT
 *         …
 *       final nat:POSTROUTING:rule:1 → ACCEPT (every chain on the way accepted it: forwarded out eth1)
 *       trace agrees: 11 hops, the same final hop
 * JSON:  {"tracewatch": 1, "explained": [{src, dst, proto, spt, dpt, ipId, in, out, hops, final, verdict, nat, uncertain, …}]}
 */
import type {InputNames} from '../model/inputs.js';
import type {Divergence, Prediction, Uncertain} from '../model/explain/types.js';
import type {Hop, Packet} from '../model/types.js';
import {hopJson, JSON_VERSION} from './json.js';
import {changesAt, endpoint, foldedPath, hopName, icmpName, plain, type Style} from './text.js';
import {jsonText, visibleDeep} from './visible.js';

/** What a prediction is of: a packet described on the command line, or a traced packet. */
export interface ExplainedPacket {
	readonly proto: string;
	readonly src: string;
	readonly dst: string;
	readonly spt?: number;
	readonly dpt?: number;
	readonly ipId?: number;
	readonly tcpFlags?: readonly string[];
	readonly icmp?: {readonly type: number; readonly code?: number};
	readonly prediction: Prediction;
	/** With --trace: the traced packet and how the prediction compares with it. */
	readonly traced?: {readonly packet: Packet; readonly divergence: Divergence | null};
}

function uncertainJson(u: Uncertain): Record<string, unknown> {
	return {
		hop: `${u.table}:${u.chain}:rule:${u.num}`,
		table: u.table,
		chain: u.chain,
		num: u.num,
		rule: u.rule || null,
		match: u.match,
		kind: u.kind,
		why: u.why,
		assumed: u.assumed,
		...(u.probability === undefined ? {} : {probability: round(u.probability)}),
	};
}

function round(p: number): number {
	return Math.round(p * 1e6) / 1e6;
}

/** A predicted hop: replay's hop object, with no trace line (`line` and `file` null). */
function predictedHopJson(h: Hop): Record<string, unknown> {
	return {...hopJson(h, []), line: null, file: null};
}

function ends(hops: readonly Hop[]): {in: string; out: string} {
	let i = '';
	let o = '';
	for (const h of hops) {
		if (!i && h.in) i = h.in;
		if (h.out) o = h.out;
	}
	return {in: i, out: o};
}

/** `{table, chain, kind, num}` of the last hop, as replay's `final`. */
function finalJson(hops: readonly Hop[]): Record<string, unknown> | null {
	const last = hops.at(-1);
	return last ? {table: last.table, chain: last.chain, kind: last.kind, num: last.num} : null;
}

/** One entry of `explained[]`. */
export function explainedJson(e: ExplainedPacket, inputs: InputNames): Record<string, unknown> {
	const p = e.prediction;
	const {in: inIf, out} = ends(p.hops);
	return {
		src: e.src,
		dst: e.dst,
		proto: e.proto,
		spt: e.spt ?? null,
		dpt: e.dpt ?? null,
		ipId: e.ipId ?? null,
		in: inIf,
		out,
		hops: p.hops.map(predictedHopJson),
		final: finalJson(p.hops),
		verdict: p.verdict,
		verdictBasis: p.verdictBasis,
		nat: p.nat.map(n => ({type: n.type, at: n.at, from: n.from, to: n.to, seen: n.seen})),
		uncertain: p.uncertain.map(uncertainJson),
		state: p.ct.state ?? null,
		stateBasis: p.ct.basis ?? null,
		route: p.route ? {kind: p.route.kind, ...(p.route.kind === 'forward' ? {out: p.route.out ?? null} : {}), basis: p.route.basis} : null,
		...(p.branches
			? {
					branches: p.branches.map(b => ({
						probability: round(b.probability),
						choices: b.choices.map(c => ({hop: `${c.table}:${c.chain}:rule:${c.num}`, matched: c.matched, ...(c.probability === undefined ? {} : {probability: round(c.probability)})})),
						hops: b.hops.map(predictedHopJson),
						final: finalJson(b.hops),
						verdict: b.verdict,
						nat: b.nat.map(n => ({type: n.type, at: n.at, from: n.from, to: n.to, seen: n.seen})),
					})),
				}
			: {}),
		...(e.traced
			? {
					traced: e.traced.packet.id,
					agrees: e.traced.divergence === null,
					divergence: e.traced.divergence
						? {
								at: e.traced.divergence.at,
								predicted: e.traced.divergence.predicted ? predictedHopJson(e.traced.divergence.predicted) : null,
								traced: e.traced.divergence.traced ? hopJson(e.traced.divergence.traced, inputs) : null,
								reason: e.traced.divergence.reason,
								message: e.traced.divergence.message,
							}
						: null,
				}
			: {}),
	};
}

/** The whole document: `{"tracewatch": 1, "explained": […]}`, plus the agreement with --trace. */
export function explainDocument(entries: readonly ExplainedPacket[], inputs: InputNames, trace?: {readonly path: string}): string {
	const doc: Record<string, unknown> = {tracewatch: JSON_VERSION, explained: entries.map(e => explainedJson(e, inputs))};
	if (trace) {
		const agree = entries.filter(e => e.traced?.divergence === null).length;
		doc['agreement'] = {trace: trace.path, packets: entries.length, agree};
	}
	return `${jsonText(doc, 2)}\n`;
}

function describe(e: ExplainedPacket): string {
	const parts = [`${e.proto} ${endpoint(e.src, e.spt)} → ${endpoint(e.dst, e.dpt)}`];
	if (e.tcpFlags?.length) parts.push(`[${e.tcpFlags.join(' ')}]`);
	if (e.icmp) parts.push(icmpName(e.proto, e.icmp.type, e.icmp.code));
	if (e.ipId !== undefined) parts.push(`ID=${e.ipId}`);
	return parts.join(' ');
}

function verdictText(v: string, s: Style): string {
	return v === 'ACCEPT' ? s.green(v) : v === 'DROP' || v === 'REJECT' ? s.red(v) : s.yellow(v);
}

/** The path folded by hook, as replay prints it (foldedPath reads only the hops). */
function pathLines(hops: readonly Hop[], s: Style): string[] {
	const steps = foldedPath({hops} as unknown as Packet);
	const hookWidth = Math.max(0, ...steps.map(st => st.hook.length));
	return steps.map((st, i) => `    ${i === 0 ? 'path' : '    '} ${s.bold(st.hook.padEnd(hookWidth))}  ${st.text}`);
}

function where(h: Hop | null): string {
	return h ? `${hopName(h)}${h.target ? ` (${h.target})` : ''}` : 'nothing more';
}

/** A prediction as text, in replay's layout: the hops, what changed, what was assumed, and where the trace parts from it. */
export function renderExplained(entry: ExplainedPacket, inputs: InputNames, s: Style = plain, index = 1): string {
	const e = visibleDeep(entry);
	const p = e.prediction;
	const lines: string[] = [];
	const from = e.traced
		? `predicted from ${visibleDeep(inputs[e.traced.packet.hops[0]?.ref.input ?? 0]?.path ?? '-')}:${e.traced.packet.hops[0]?.ref.line ?? '?'} (traced packet #${e.traced.packet.id})`
		: 'predicted from the dump';
	lines.push(`${s.bold(`#${e.traced ? e.traced.packet.id : index}`)}  ${s.bold(describe(e))}   ${s.dim(from)}`);
	const {in: inIf, out} = ends(p.hops);
	lines.push(`    in ${inIf || '-'} → out ${out || '-'}   verdict ${verdictText(p.verdict, s)}   state ${p.ct.state ?? '?'} ${s.dim(`(${p.ct.basis ?? ''})`)}`);
	if (p.route) lines.push(`    route ${p.route.kind}${p.route.kind === 'forward' ? ` out ${p.route.out ?? '?'}` : ''} ${s.dim(`(${p.route.basis})`)}`);
	for (const n of p.nat) lines.push(`    NAT  ${n.type} ${n.from} → ${n.to} ${s.dim(`at ${n.at}`)}`);
	lines.push(...pathLines(p.hops, s));
	const assumed = new Set(p.uncertain.map(u => `${u.table}:${u.chain}:${u.num}`));
	const width = Math.min(44, Math.max(0, ...p.hops.map(h => hopName(h).length)) + 2);
	const pad = ' '.repeat(width + 12);
	const d = e.traced?.divergence ?? null;
	let prev: Hop | undefined;
	p.hops.forEach((h, i) => {
		if (d && d.at === i) lines.push(`     ${s.red('≠')}${s.red(`the trace has ${where(d.traced)} instead:`)}`);
		const mark = assumed.has(`${h.table}:${h.chain}:${h.num}`) && h.kind === 'rule' ? s.yellow('?') : ' ';
		lines.push(`     ${mark}${hopName(h).padEnd(width)}${(h.target ?? '').padEnd(11)} ${s.dim(h.rule ?? '')}`.trimEnd());
		for (const c of changesAt(prev, h)) lines.push(`      ${pad}${s.cyan(c)}`);
		if (h.note) lines.push(`      ${pad}${s.yellow(`note: ${h.note}`)}`);
		prev = h;
	});
	if (d && d.at >= p.hops.length) lines.push(`     ${s.red('≠')}${s.red(`the trace goes on: ${where(d.traced)}`)}`);
	const last = p.hops.at(-1);
	if (last) lines.push(`    final ${hopName(last)} → ${verdictText(p.verdict, s)} ${s.dim(`(${p.verdictBasis})`)}`);
	else lines.push(`    final (no hop) → ${verdictText(p.verdict, s)} ${s.dim(`(${p.verdictBasis})`)}`);
	if (p.uncertain.length > 0) {
		lines.push(`    uncertain (${p.uncertain.length})`);
		for (const u of p.uncertain) lines.push(`      ${s.yellow('?')} ${u.table}:${u.chain}:rule:${u.num}  ${u.match}  ${s.dim(`${u.why}; ${u.assumed}${u.probability === undefined ? '' : ` (p=${round(u.probability)})`}`)}`);
	}
	if (p.branches) {
		lines.push(`    branches (${p.branches.length})`);
		for (const b of p.branches) {
			const picks = b.choices.map(c => `${c.table}:${c.chain}:rule:${c.num} ${c.matched ? '✓' : '✗'}`).join(', ');
			const end = b.hops.at(-1);
			const nat = b.nat.filter(n => n.type !== 'conntrack').map(n => `${n.type} → ${n.to}`).join(', ');
			lines.push(`      ${`${Math.round(b.probability * 1000) / 10}%`.padStart(6)}  ${picks}  ${s.dim('→')} ${end ? hopName(end) : '-'} ${verdictText(b.verdict, s)}${nat ? `  ${nat}` : ''}`);
		}
	}
	if (e.traced) {
		if (!d) lines.push(`    trace ${s.green('agrees')}: ${p.hops.length} hop(s), the same final hop`);
		else lines.push(`    trace ${s.red('parts')} at hop ${d.at + 1}: ${d.message.replace(/^hop \d+: /, '')}`);
	}
	return lines.join('\n');
}

/** The closing line of `explain --trace`: how many predictions the trace bears out. */
export function renderAgreement(entries: readonly ExplainedPacket[], s: Style = plain): string {
	const agree = entries.filter(e => e.traced?.divergence === null).length;
	const reasons = new Map<string, number>();
	for (const e of entries) {
		const r = e.traced?.divergence?.reason;
		if (r) reasons.set(r, (reasons.get(r) ?? 0) + 1);
	}
	const pct = entries.length === 0 ? 100 : Math.round((agree / entries.length) * 1000) / 10;
	const why = [...reasons].map(([r, n]) => `${n} ${r}`).join(', ');
	return s.bold(`${agree} of ${entries.length} traced packet(s) agree with the dump's prediction (${pct} %)`) + (why ? `; the others part: ${why}` : '');
}
