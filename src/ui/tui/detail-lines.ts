/**
 * The detail view's text for one packet, laid out as styled lines: a header (tuple, interfaces,
 * verdict, reply, NAT, final hop) and the hop list grouped by hook, each hop with table:chain,
 * kind:num, target and rule, and under it what changed at that hop, highlighted.
 *
 * Input:  packet #1 of testdata/dmesg/fwd-dnat-masq (with its iptables.save)
 * Output (as text):
 *   #1  TCP 198.18.10.2:56044 → 198.18.30.10:80 [SYN] ID=22124   dmesg-T.log:1-11  [Sun Nov 22 05:28:08 2026]
 *   in eth0 → out eth1   verdict ACCEPT   reply ✓ seen
 *   NAT DNAT 198.18.30.10:80 → 198.18.20.2:8080 at nat:TW-SERVICES:rule:1
 *   …
 *   PREROUTING
 *     raw:PREROUTING      policy:3  ACCEPT       -P PREROUTING ACCEPT
 *     nat:TW-SERVICES     rule:1    DNAT         -A TW-SERVICES -d 198.18.30.10/32 … -j DNAT --to-destination 198.18.20.2:8080
 *   FORWARD
 *     mangle:FORWARD      policy:1  ACCEPT       -P FORWARD ACCEPT
 *         ↳ DST 198.18.30.10:80 → 198.18.20.2:8080   OUT=eth1
 */
import {expectsReply} from '../../model/pairing.js';
import type {InputInfo} from '../../model/inputs.js';
import {chainLabel, type Packet} from '../../model/types.js';
import {connectionText, describeTuple, endpoint, hopName, lineRange, mldNote, protoNote, replyUnknownText} from '../text.js';
import {cell, truncateMiddle, width} from './format.js';
import {groupHops, kindNum} from './hop-groups.js';
import {seg, type Seg, type StyledLine, type Tone} from './styled.js';

export interface DetailLines {
	readonly header: StyledLine[];
	readonly hops: StyledLine[];
	/** Line (in `hops`) of each hop, by hop index. */
	readonly hopLine: number[];
}

const verdictTone = (v: Packet['verdict']): Tone => (v === 'ACCEPT' ? 'ok' : v === 'DROP' || v === 'REJECT' ? 'bad' : 'warn');

export function detailLines(p: Packet, inputs: readonly InputInfo[]): DetailLines {
	const header: StyledLine[] = [];
	const time = p.hops[0]?.time?.text;
	header.push([seg(`${p.node ? `${p.node} ` : ''}#${p.id}  `, 'bold'), seg(describeTuple(p), 'bold'), seg(`   ${lineRange(p, inputs)}${time ? `  ${time}` : ''}`, 'dim')]);
	const reply: Seg[] = [];
	if (p.replyTo !== null) reply.push(seg(`answers #${p.replyTo}`));
	if (p.mayAnswer !== undefined) reply.push(...(reply.length > 0 ? [seg(', ')] : []), seg(`may answer #${p.mayAnswer}`, 'warn'));
	const status = p.replySeen
		? seg('reply ✓ seen', 'ok')
		: p.replyUnknown
			? seg(`reply ? unknown (${replyUnknownText(p.replyUnknown)})`, 'warn')
			: expectsReply(p)
				? seg('reply ✗ none seen', 'warn')
				: p.replyTo === null && p.mayAnswer === undefined
					? seg('no reply expected', 'dim')
					: undefined;
	if (status) reply.push(...(reply.length > 0 ? [seg(', ')] : []), status);
	const uid = p.uid !== undefined ? `   uid ${p.uid}${p.gid !== undefined ? ` gid ${p.gid}` : ''}` : '';
	header.push([seg(`in ${p.in || '-'} → out ${p.out || '-'}   verdict `), seg(p.verdict, verdictTone(p.verdict)), seg('   '), ...reply, seg(uid)]);
	// --names: what its addresses, service ports and interfaces are.
	const names = Object.entries(p.names ?? {});
	if (names.length > 0) header.push([seg('names ', 'dim'), seg(names.map(([k, v]) => `${k} ${v}`).join(' · '))]);
	const conn = connectionText(p);
	if (conn) header.push([seg('conntrack ', 'bold'), seg(conn, 'changed')]);
	if (p.cutAtStart) header.push([seg('cut at the start ', 'bold'), seg(p.cutAtStart, 'warn')]);
	for (const note of [protoNote(p), mldNote(p)]) if (note) header.push([seg(note, 'dim')]);
	for (const n of p.nat) {
		if (conn && n.seen === 'connection') continue;
		header.push([seg('NAT ', 'bold'), seg(`${n.type} ${n.from} → ${n.to}`, 'changed'), seg(` at ${n.at}${n.seen === 'rule' ? ' (from the rule: SNAT happens after the last trace point)' : ''}`, 'dim')]);
	}
	if (p.quoted) {
		const q = p.quoted;
		header.push([seg(`quotes ${q.proto ?? '?'} ${endpoint(q.src, q.spt)} → ${endpoint(q.dst, q.dpt)}${p.quotes ? ` (packet #${p.quotes})` : ''}`)]);
	}
	const last = p.hops[p.hops.length - 1];
	header.push([seg('final ', 'dim'), seg(last ? hopName(last) : '-'), seg(' → '), seg(p.verdict, verdictTone(p.verdict)), seg(` (${p.verdictBasis})`, 'dim')]);

	const hops: StyledLine[] = [];
	const hopLine: number[] = [];
	const chainW = Math.min(36, Math.max(0, ...p.hops.map(h => width(chainLabel(h)))));
	const kindW = Math.max(0, ...p.hops.map(h => kindNum(h).length));
	const targetW = Math.min(14, Math.max(0, ...p.hops.map(h => width(h.target ?? h.traceVerdict ?? ''))));
	for (const g of groupHops(p)) {
		hops.push([seg(g.hook ?? 'hook unknown', 'head')]);
		for (const e of g.hops) {
			const h = e.hop;
			hopLine[e.index] = hops.length;
			const name = chainLabel(h);
			const target = h.target ?? h.traceVerdict ?? '';
			const rule = h.kind === 'log' ? `"${h.logPrefix ?? ''}"` : (h.rule ?? '');
			hops.push([
				seg(`  ${cell(truncateMiddle(name, chainW), chainW)}  `),
				seg(cell(kindNum(h), kindW), 'dim'),
				seg('  '),
				seg(cell(target, targetW), targetTone(target)),
				seg('  '),
				seg(rule, 'dim'),
			]);
			const indent = ' '.repeat(4 + chainW);
			if (e.changes.length > 0) hops.push([seg(`${indent}↳ `, 'changed'), seg(e.changes.join('   '), 'changed')]);
			if (h.logPrefix !== undefined && h.kind !== 'log') hops.push([seg(`${indent}logged "${h.logPrefix}"`, 'dim')]);
			if (h.note) hops.push([seg(`${indent}note: ${h.note}`, 'warn')]);
		}
	}
	return {header, hops, hopLine};
}

function targetTone(target: string): Tone {
	const t = target.toUpperCase();
	if (t === 'ACCEPT') return 'ok';
	if (t === 'DROP' || t === 'REJECT') return 'bad';
	if (['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'MARK', 'CONNMARK'].includes(t)) return 'changed';
	return 'plain';
}
