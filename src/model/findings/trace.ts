/**
 * Findings from rebuilt packets: what a person reading the trace should notice.
 *
 * Input:  the completed packets of a trace (rules joined where a dump was given)
 * Output: e.g. {kind:'no-reply', severity:'warning',
 *               message:'3 TCP SYN(s) 198.19.88.69:40312 → 198.19.96.1:443 (DNAT to 198.18.1.50:6443) left by wlp59s0 with the private source 198.19.88.69 not SNATed, and no reply was seen',
 *               hint:'…MASQUERADE…', packets:[1,3,5], rules:[…]}
 * Kinds and their meaning: docs/findings.md.
 */
import type {Chain} from '../../parser/ruleset.js';
import type {RuleIndex} from '../join.js';
import {inCidr, isPrivate, ruleMatchesAddress} from '../net.js';
import {opens} from '../pairing.js';
import type {Hop, Packet} from '../types.js';
import type {Finding, RuleRef} from './types.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('y') ? '' : 's'}`.replace(/y$/, n === 1 ? 'y' : 'ies');

function ep(addr: string | undefined, port: number | undefined): string {
	if (!addr) return '?';
	if (port === undefined) return addr;
	return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function where(h: Pick<Hop, 'table' | 'chain' | 'kind' | 'num'>): string {
	return `${h.table}:${h.chain}:${h.kind}:${h.num ?? '?'}`;
}

/** `TCP SYN`, `ICMP echo-request`, `UDP`. */
function kindOf(p: Packet): string {
	if (p.tcpFlags?.includes('SYN') && !p.tcpFlags.includes('ACK')) return 'TCP SYN';
	return p.icmp ? `${p.proto} ${icmpWord(p)}` : p.proto;
}

function describe(p: Packet): string {
	return `${kindOf(p)} ${ep(p.src, p.spt)} → ${ep(p.dst, p.dpt)}`;
}

function icmpWord(p: Packet): string {
	const t = p.icmp?.type;
	if (p.proto === 'ICMP') return t === 8 ? 'echo-request' : t === 0 ? 'echo-reply' : t === 3 ? (p.icmp?.code === 4 ? 'frag-needed' : 'unreachable') : t === 11 ? 'time-exceeded' : `type ${t}`;
	return t === 128 ? 'echo-request' : t === 129 ? 'echo-reply' : t === 2 ? 'packet-too-big' : t === 1 ? 'unreachable' : t === 3 ? 'time-exceeded' : `type ${t}`;
}

/** A packet that asks for an answer: a TCP SYN, an ICMP echo or other query, or UDP that answers nothing. */
export function isRequest(p: Packet): boolean {
	return opens(p) || (p.proto === 'UDP' && p.replyTo === null);
}

function lastHook(p: Packet): string | undefined {
	const last = p.hops[p.hops.length - 1];
	return last?.hook ?? (last?.chain === 'POSTROUTING' || last?.chain === 'FORWARD' || last?.chain === 'OUTPUT' ? last.chain : undefined);
}

/** The packet was sent on its way out of an interface (forwarded or locally generated), not delivered here. */
function leftBy(p: Packet): string | undefined {
	if (!p.out || p.verdict === 'DROP' || p.verdict === 'REJECT') return undefined;
	const hook = lastHook(p);
	if (hook === 'INPUT' || hook === 'PREROUTING') return undefined;
	return p.out;
}

/**
 * Without the ruleset a trace that stops in FORWARD or OUTPUT does not say whether the packet
 * left: the last rule may have dropped it. Only POSTROUTING, or a known ACCEPT, says it did.
 */
function surelyLeft(p: Packet): boolean {
	return lastHook(p) === 'POSTROUTING' || p.verdict !== 'unknown';
}

function flowKey(p: Packet): string {
	const id = p.icmp?.id ?? '';
	return `${p.proto}|${p.src}|${p.spt ?? id}|${p.dst}|${p.dpt ?? ''}`;
}

function ruleRef(index: RuleIndex, family: string, hop: Hop): RuleRef | undefined {
	if (!hop.rule) return undefined;
	const chain = index.chain(family, hop.table, hop.chain);
	const file = index.rulesets.find(rs => rs.tables.get(hop.table)?.chains.get(hop.chain) === chain)?.path;
	return {
		...(file ? {file} : {}),
		table: hop.table,
		chain: hop.chain,
		pos: hop.kind === 'rule' || hop.rule.startsWith('-A') ? hop.num : null,
		text: hop.rule,
		...(hop.ruleLine !== undefined ? {line: hop.ruleLine} : {}),
	};
}

function timeOf(p: Packet): number | undefined {
	const t = p.hops[0]?.time;
	return t?.mono ?? (t?.wall === undefined ? undefined : t.wall / 1000);
}

/** Would the TRACE rules in the dump's raw PREROUTING have traced a reply from `src` to `dst`? */
function repliesTraced(index: RuleIndex, family: string, replySrc: string, replyDst: string, replyIn: string): {traced: boolean | undefined; rule?: string} {
	const chain: Chain | undefined = index.chain(family, 'raw', 'PREROUTING');
	if (!chain) return {traced: undefined};
	const traceRules = chain.rules.filter(r => r.target === 'TRACE');
	if (traceRules.length === 0) return {traced: undefined};
	for (const r of traceRules) {
		const s = ruleMatchesAddress(r.args, 'src', replySrc);
		const d = ruleMatchesAddress(r.args, 'dst', replyDst);
		const i = r.args.indexOf('-i');
		const inOk = i === -1 || !replyIn || r.args[i + 1] === replyIn || (r.args[i + 1]?.endsWith('+') && replyIn.startsWith(r.args[i + 1]!.slice(0, -1)));
		if (s !== false && d !== false && inOk) return {traced: true};
	}
	return {traced: false, rule: traceRules.map(r => r.text).join('; ')};
}

export function traceFindings(packets: readonly Packet[], index: RuleIndex): Finding[] {
	const findings: Finding[] = [];
	const byId = new Map(packets.map(p => [p.id, p]));
	const lastTime = Math.max(...packets.map(p => timeOf(p) ?? Number.NEGATIVE_INFINITY));

	// Per flow: every packet of one connection direction, so retransmissions and the first
	// packet's nat lines (only the first packet of a connection traverses nat) are seen together.
	const flows = new Map<string, Packet[]>();
	for (const p of packets) {
		const k = flowKey(p);
		const list = flows.get(k);
		if (list) list.push(p);
		else flows.set(k, [p]);
	}

	// Requests answered by an ICMP error did get an answer: the error says why.
	const quotedIds = new Set(packets.flatMap(p => (p.quotes ? [p.quotes] : [])));

	// ---- no-reply and nat-no-reply-path ------------------------------------------------------
	for (const flow of flows.values()) {
		const requests = flow.filter(p => isRequest(p) && leftBy(p) && !p.replySeen && !quotedIds.has(p.id));
		if (requests.length === 0 || flow.some(p => p.replySeen)) continue;
		const first = requests[0]!;
		const out = leftBy(first)!;
		const dnat = flow.flatMap(p => p.nat).find(n => n.type === 'DNAT' || n.type === 'REDIRECT' || n.type === 'NETMAP');
		const snat = flow.flatMap(p => p.nat).find(n => n.type === 'SNAT' || n.type === 'MASQUERADE');
		const forwarded = Boolean(first.in);
		const finalDst = first.hops.at(-1)?.dst ?? first.dst;
		const finalDpt = first.hops.at(-1)?.dpt ?? first.dpt;
		const natPost = flow.flatMap(p => p.hops).filter(h => h.table === 'nat' && (h.chain === 'POSTROUTING' || h.hook === 'POSTROUTING'));
		const rules: RuleRef[] = [];
		let message = `${plural(requests.length, kindOf(first))} ${ep(first.src, first.spt)} → ${ep(first.dst, first.dpt)}`;
		if (dnat) message += ` (DNAT to ${dnat.to})`;
		const left = requests.some(surelyLeft);
		const lastHop = first.hops.at(-1)!;
		message += left ? ` left by ${out}` : ` routed to ${out} ${requests.length > 1 ? 'were' : 'was'} last seen at ${where(lastHop)}`;
		let hint: string;
		let severity: Finding['severity'] = 'warning';

		if (!left) {
			message += ', and no reply was seen';
			hint =
				`The trace stops in ${lastHook(first)}, before POSTROUTING: the rule at ${where(lastHop)} probably dropped ${requests.length > 1 ? 'them' : 'it'} ` +
				`(or this host has no mangle/nat table to trace in POSTROUTING). Give the ruleset saved with the trace (--rules node.save) to know what that rule does.`;
		} else if (!snat && forwarded && isPrivate(first.src)) {
			const natEnd = natPost.at(-1);
			const how = natEnd ? `nat:POSTROUTING ended at ${where(natEnd)} without MASQUERADE/SNAT` : 'no SNAT was traced';
			message += ` still carrying the private source ${first.src} (came in on ${first.in}; ${how}), and no reply was seen`;
			const masq = index.empty ? undefined : findMasquerade(index, first.family, out);
			hint =
				`Whatever is behind ${out} must route ${first.src} back to this node, and a home or cloud router usually has no route to a pod/container network. ` +
				`Masquerade it on this node: iptables -t nat -A POSTROUTING -s ${networkOf(index, first.src)} -o ${out} -j MASQUERADE, ` +
				`or add a route to that network on the next hop.` +
				(index.empty ? '' : masq ? ` The dump has ${masq} but it did not match this packet.` : ` The dump has no MASQUERADE/SNAT rule for -o ${out}.`);
			if (natEnd) {
				const ref = ruleRef(index, first.family, natEnd);
				if (ref) rules.push(ref);
			}
		} else {
			message += `, and no reply was seen in the trace`;
			hint = `Check the way back: does ${ep(finalDst, finalDpt)} answer (tcpdump on ${out}), does a firewall on the path drop the reply, does the reply come back in on another interface (asymmetric routing), or is the reply not traced at all?`;
		}

		// Could replies have been traced? A TRACE rule limited to the request's source never sees them.
		if (!index.empty) {
			const {traced, rule} = repliesTraced(index, first.family, finalDst, snat ? '' : first.src, out);
			if (traced === false) {
				severity = 'info';
				hint += ` Note: the TRACE rules in raw:PREROUTING (${rule}) do not match replies from ${finalDst}, so replies would not show in this trace even if they came.`;
			}
		}
		const t = timeOf(first);
		if (t !== undefined && Number.isFinite(lastTime) && lastTime - t < 1) {
			severity = 'info';
			hint += ' The trace ends less than a second after this request: a reply may have come later.';
		}
		findings.push({kind: 'no-reply', severity, message, hint, packets: requests.map(p => p.id), rules});

		if (dnat && !snat && first.in && first.in === out) {
			findings.push({
				kind: 'nat-no-reply-path',
				severity: 'warning',
				message: `${describe(first)} was DNATed to ${dnat.to} and sent back out ${out}, the interface it came in on, without SNAT: ${ep(finalDst, undefined)} will answer ${first.src} directly, and ${first.src} drops a reply that does not come from ${ep(first.dst, first.dpt)}`,
				hint: `Hairpin NAT needs SNAT too: iptables -t nat -A POSTROUTING -s ${first.src} -d ${finalDst} -j MASQUERADE (Docker: enable the userland proxy or hairpin mode on the bridge).`,
				packets: requests.map(p => p.id),
				rules: [],
			});
		}
	}

	// ---- asymmetric-route -------------------------------------------------------------------------
	const asym = new Map<string, {req: Packet; replies: Packet[]; detail: string}>();
	for (const r of packets) {
		if (r.replyTo === null) continue;
		const q = byId.get(r.replyTo);
		if (!q) continue;
		let detail: string | undefined;
		if (q.in && r.out && q.in !== r.out) detail = `the request came in on ${q.in} and the reply left by ${r.out}`;
		else if (q.out && r.in && q.out !== r.in && q.in) detail = `the request left by ${q.out} and the reply came back in on ${r.in}`;
		if (!detail) continue;
		const k = `${flowKey(q)}|${detail}`;
		const entry = asym.get(k);
		if (entry) entry.replies.push(r);
		else asym.set(k, {req: q, replies: [r], detail});
	}
	for (const {req, replies, detail} of asym.values()) {
		findings.push({
			kind: 'asymmetric-route',
			severity: 'warning',
			message: `${describe(req)}: ${detail} (${plural(replies.length, 'reply')})`,
			hint: `Replies follow the routing table, not the interface the request used. A stateful firewall or rp_filter on the other path drops them. Route replies from ${req.dst} back out ${req.in || req.out}: ip rule add from ${req.dst} table 100; ip route add default via <gateway on ${req.in || req.out}> dev ${req.in || req.out} table 100.`,
			packets: [req.id, ...replies.map(p => p.id)],
			rules: [],
		});
	}

	// ---- frag-needed and other ICMP errors ---------------------------------------------------------
	const icmpSeen = new Map<string, Finding>();
	for (const p of packets) {
		if (!p.icmp) continue;
		const fragNeeded = (p.proto === 'ICMP' && p.icmp.type === 3 && p.icmp.code === 4) || (p.proto === 'ICMPv6' && p.icmp.type === 2);
		const error = fragNeeded || (p.proto === 'ICMP' && [3, 11, 12].includes(p.icmp.type)) || (p.proto === 'ICMPv6' && [1, 3, 4].includes(p.icmp.type));
		if (!error) continue;
		const q = p.quoted;
		const original = p.quotes ? byId.get(p.quotes) : undefined;
		const src = q?.src ?? original?.src;
		const dst = q?.dst ?? original?.dst;
		const size = q?.len ? ` (${q.len} bytes${q.ipFlags?.includes('DF') ? ', DF' : ''})` : '';
		const quoted = q || original ? `${q?.proto ?? original?.proto ?? '?'} ${ep(src, q?.spt ?? original?.spt)} → ${ep(dst, q?.dpt ?? original?.dpt)}${size}` : 'a packet';
		const ids = [p.id, ...(p.quotes ? [p.quotes] : [])];
		const dropped = p.verdict === 'DROP' || p.verdict === 'REJECT';
		// One finding per sender, message and quoted flow; repeats add their packets.
		const key = `${p.src}|${p.proto}|${p.icmp.type}|${p.icmp.code}|${p.icmp.mtu}|${q ? `${q.proto}|${q.src}|${q.spt}|${q.dst}|${q.dpt}` : ''}|${dropped}`;
		const seen = icmpSeen.get(key);
		if (seen) {
			seen.packets.push(...ids);
			seen.message = seen.message.replace(/^(\d+ times: )?/, m => `${(Number.parseInt(m, 10) || 1) + 1} times: `);
			continue;
		}
		if (fragNeeded) {
			const mtu = p.icmp.mtu;
			findings.push({
				kind: 'frag-needed',
				severity: dropped ? 'error' : 'warning',
				message: `${p.src} says ${quoted} is too big for the next hop${mtu ? `: MTU ${mtu}` : ''}${p.quotes ? ` (packet #${p.quotes})` : ''}${dropped ? `; this ICMP message was ${p.verdict === 'DROP' ? 'dropped' : 'rejected'} here (${p.verdictBasis}), so path MTU discovery cannot work` : ''}`,
				hint: `Lower the MTU on the way${mtu ? ` to ${mtu} or less` : ''} (tunnels: VXLAN needs 50 bytes, WireGuard 60–80), or clamp TCP MSS: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu. Never drop ICMP ${p.proto === 'ICMP' ? 'type 3 code 4' : 'type 2 (packet too big)'}.`,
				packets: ids,
				rules: [],
			});
			icmpSeen.set(key, findings.at(-1)!);
		} else {
			findings.push({
				kind: 'icmp-error',
				severity: 'info',
				message: `${p.src} sent ${p.proto} ${icmpWord(p)}${p.icmp.code !== undefined ? ` (code ${p.icmp.code})` : ''} about ${quoted}${p.quotes ? ` (packet #${p.quotes})` : ''}`,
				hint: p.icmp.type === 11 || (p.proto === 'ICMPv6' && p.icmp.type === 3) ? 'TTL ran out on the way: look for a routing loop.' : 'The destination or a router on the way refused the packet: a REJECT rule, a closed port, or no route.',
				packets: ids,
				rules: [],
			});
			icmpSeen.set(key, findings.at(-1)!);
		}
	}

	// ---- dropped ------------------------------------------------------------------------------------
	const drops = new Map<string, {packets: Packet[]; hop: Hop; basis: string}>();
	for (const p of packets) {
		// Refused by routing: the ICMP error that says why is its own finding.
		if ((p.verdict !== 'DROP' && p.verdict !== 'REJECT') || p.refusedBy !== undefined) continue;
		const hop = p.hops[p.hops.length - 1]!;
		const k = `${where(hop)}|${flowKey(p)}`;
		const entry = drops.get(k);
		if (entry) entry.packets.push(p);
		else drops.set(k, {packets: [p], hop, basis: p.verdictBasis});
	}
	for (const {packets: ps, hop} of drops.values()) {
		const p = ps[0]!;
		const byPolicy = hop.kind === 'policy' && !hop.rule?.startsWith('-A');
		const ref = ruleRef(index, p.family, hop);
		findings.push({
			kind: 'dropped',
			severity: 'error',
			message: `${plural(ps.length, 'packet')} ${describe(p)} ${p.verdict === 'REJECT' ? 'rejected' : 'dropped'} ${byPolicy ? `by the ${hop.target ?? 'DROP'} policy of ${hop.table}:${hop.chain} (no rule accepted ${ps.length === 1 ? 'it' : 'them'})` : `at ${where(hop)}${hop.rule ? `: ${hop.rule}` : ''}`}`,
			hint: byPolicy
				? `Add a rule that accepts this traffic to ${hop.table}:${hop.chain} (or to the chain that should have), or check why the expected ACCEPT rule did not match.`
				: `This rule matched; if the traffic should pass, change or delete it, or accept the traffic earlier in ${hop.table}:${hop.chain}.`,
			packets: ps.map(x => x.id),
			rules: ref ? [ref] : [],
		});
	}

	// ---- the dump does not match the trace --------------------------------------------------------
	const mismatched = packets.flatMap(p => p.hops.filter(h => h.note?.includes('ruleset changed')).map(h => ({p, h})));
	if (mismatched.length > 0) {
		const sample = mismatched[0]!;
		findings.push({
			kind: 'rules-mismatch',
			severity: 'warning',
			message: `the --rules dump does not match the trace at ${plural(mismatched.length, 'hop')} in ${plural(new Set(mismatched.map(m => m.p.id)).size, 'packet')} (first: ${where(sample.h)}: ${sample.h.note})`,
			hint: 'Rule positions shift whenever a rule is inserted or deleted (kube-proxy and Calico rewrite rules all the time). Save the ruleset while tracing: iptables-save -c > node.save, and replay with --rules node.save.',
			packets: [...new Set(mismatched.map(m => m.p.id))],
			rules: [],
		});
	}

	return findings;
}

/** The narrowest network (not a single address) named in the dump that holds `addr`: the pod or bridge CIDR, usually. */
function networkOf(index: RuleIndex, addr: string): string {
	const v6 = addr.includes(':');
	let best: {cidr: string; bits: number} | undefined;
	for (const rs of index.rulesets) {
		for (const table of rs.tables.values()) {
			for (const chain of table.chains.values()) {
				for (const r of chain.rules) {
					for (let i = 0; i < r.args.length; i++) {
						if (!['-s', '-d', '--source', '--destination'].includes(r.args[i]!)) continue;
						for (const c of (r.args[i + 1] ?? '').split(',')) {
							const bits = Number(c.split('/')[1] ?? (v6 ? 128 : 32));
							if (bits >= (v6 ? 128 : 32) || bits < (v6 ? 16 : 8) || !inCidr(addr, c)) continue;
							if (!best || bits > best.bits) best = {cidr: c, bits};
						}
					}
				}
			}
		}
	}
	return best ? `${best.cidr}` : `${addr}/${v6 ? 128 : 32} (or the whole pod/bridge network)`;
}

function findMasquerade(index: RuleIndex, family: string, out: string): string | undefined {
	const chain = index.chain(family, 'nat', 'POSTROUTING');
	if (!chain) return undefined;
	for (const r of chain.rules) {
		if (r.target !== 'MASQUERADE' && r.target !== 'SNAT') continue;
		const o = r.args.indexOf('-o');
		if (o === -1 || r.args[o + 1] === out) return `"${r.text}"`;
	}
	return undefined;
}
