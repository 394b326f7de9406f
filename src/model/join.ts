/**
 * Joins packets to saved rulesets, then works out each packet's verdict and NAT.
 *
 * Input:  a Packet whose hop is `nat:PREROUTING:rule:1`, and the dump line
 *         `-A PREROUTING -d 198.19.96.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 198.18.1.50:6443`
 * Output: the hop gets {rule:'-A PREROUTING …', target:'DNAT', ruleFrom:'dump', ruleLine:7};
 *         the packet gets nat:[{type:'DNAT', at:'nat:PREROUTING:rule:1', from:'198.19.96.1:443', to:'198.18.1.50:6443'}].
 *
 * The kernel's `rule:N` is the N-th rule of the chain, counting the TRACE rule. `policy:N` and
 * `return:N` name the chain's tail (N = rules + 1) or, as ip_tables.c does, an unconditional
 * standard-target rule at position N (`-A INPUT -j DROP` logs as `policy:N`).
 */
import type {Chain, Rule, Ruleset} from '../parser/ruleset.js';
import type {Hop, NatRewrite, Packet, Verdict} from './types.js';

const NAT_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP']);
const VERDICT_TARGETS: Record<string, Verdict> = {ACCEPT: 'ACCEPT', DROP: 'DROP', REJECT: 'REJECT', QUEUE: 'QUEUE', NFQUEUE: 'QUEUE'};

/** The dumps given with --rules, looked up by family, table and chain. */
export class RuleIndex {
	private readonly byFamily = new Map<string, Map<string, Chain>>();
	readonly rulesets: readonly Ruleset[];

	constructor(rulesets: readonly Ruleset[]) {
		this.rulesets = rulesets;
		for (const rs of rulesets) {
			const families = rs.family === 'unknown' ? ['ipv4', 'ipv6'] : [rs.family];
			for (const fam of families) {
				let chains = this.byFamily.get(fam);
				if (!chains) this.byFamily.set(fam, (chains = new Map()));
				for (const table of rs.tables.values()) {
					for (const chain of table.chains.values()) {
						const key = `${table.name}:${chain.name}`;
						if (!chains.has(key)) chains.set(key, chain);
					}
				}
			}
		}
	}

	get empty(): boolean {
		return this.rulesets.length === 0;
	}

	chain(family: string, table: string, chain: string): Chain | undefined {
		const fam = family === 'ipv6' ? 'ipv6' : 'ipv4';
		return this.byFamily.get(fam)?.get(`${table}:${chain}`);
	}
}

function normalise(text: string): string {
	return text.replace(/\s+/g, ' ').replace(/"/g, '').trim();
}

/** An explicit rule with no matches and a standard target: what the kernel logs as policy/return. */
function isUnconditional(rule: Rule): boolean {
	return rule.matches.length === 0 && (rule.target === undefined || ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'].includes(rule.target));
}

/** Attaches rule text and target to each hop from the dump, noting where the dump disagrees with the trace. */
export function joinRules(packet: Packet, index: RuleIndex): void {
	for (const hop of packet.hops) {
		if (hop.kind === 'log' || !hop.table) continue;
		const chain = index.chain(packet.family, hop.table, hop.chain);
		if (packet.format !== 'kernel') {
			joinByText(hop, chain, packet.format);
			continue;
		}
		if (!chain) {
			if (!index.empty) hop.note = `chain ${hop.table}:${hop.chain} is not in the ${familyName(packet.family)} dump`;
			continue;
		}
		const n = hop.num ?? 0;
		if (hop.kind === 'rule') {
			const rule = chain.rules[n - 1];
			if (!rule) {
				hop.note = `the dump has ${chain.rules.length} rule(s) in ${hop.table}:${hop.chain}, the trace names rule ${n}: the ruleset changed since the trace`;
				continue;
			}
			setRule(hop, rule);
			continue;
		}
		// policy:N / return:N
		const tail = chain.rules.length + 1;
		const explicit = n >= 1 && n <= chain.rules.length ? chain.rules[n - 1] : undefined;
		if (explicit) {
			setRule(hop, explicit);
			if (!isUnconditional(explicit)) hop.note = `the trace says ${hop.kind}:${n} but rule ${n} in the dump has matches: the ruleset changed since the trace`;
			continue;
		}
		if (n !== tail) hop.note = `the trace says ${hop.kind}:${n}, the chain's tail in the dump is ${tail}: the ruleset changed since the trace`;
		if (hop.kind === 'policy') {
			hop.target = chain.policy ?? 'ACCEPT';
			hop.rule = `-P ${hop.chain} ${chain.policy ?? '-'}`;
		} else {
			hop.target = 'RETURN';
			hop.rule = `(end of ${hop.chain}: return to the calling chain)`;
		}
		hop.ruleFrom = 'dump';
		if (chain.declaredAt) hop.ruleLine = chain.declaredAt;
	}
}

function setRule(hop: Hop, rule: Rule): void {
	hop.rule = rule.text;
	hop.ruleFrom = 'dump';
	hop.ruleLine = rule.line;
	if (rule.target) hop.target = rule.target;
}

/** What an nft rule does, from its statements: `… dnat to 10.0.0.2:80` → DNAT. */
export function nftTarget(text: string): string | undefined {
	const rules: Array<[RegExp, string]> = [
		[/\bdnat\b(?: ip6?)? to\b/, 'DNAT'],
		[/\bsnat\b(?: ip6?)? to\b/, 'SNAT'],
		[/\bmasquerade\b/, 'MASQUERADE'],
		[/\bredirect\b/, 'REDIRECT'],
		[/\breject\b/, 'REJECT'],
		[/\bdrop\s*$/, 'DROP'],
		[/\baccept\s*$/, 'ACCEPT'],
		[/\breturn\s*$/, 'RETURN'],
		[/\bqueue\b/, 'QUEUE'],
		[/\bxt target "?(\w+)"?/, '$1'],
		[/\b(?:jump|goto) (\S+)\s*$/, '$1'],
	];
	for (const [re, target] of rules) {
		const m = re.exec(text);
		if (m) return target.startsWith('$') ? m[1] : target;
	}
	return undefined;
}

/**
 * nft prints iptables-nft rules in nft syntax, without their comments. The dump rule it is: the
 * only rule of the chain whose addresses, ports, interfaces, protocol and target all appear in the
 * nft text.
 */
function matchNftRule(chain: Chain, text: string, target: string | undefined): Rule | undefined {
	const words = new Set(text.toLowerCase().split(/[\s"',{}]+/).filter(Boolean));
	const candidates: Array<{rule: Rule; tokens: number}> = [];
	for (const rule of chain.rules) {
		const tokens: string[] = [];
		for (let i = 0; i < rule.args.length; i++) {
			const a = rule.args[i]!;
			const v = rule.args[i + 1];
			if (v === undefined) continue;
			if (['-s', '-d', '--source', '--destination'].includes(a)) tokens.push(...v.split(',').map(x => x.replace(/\/(32|128)$/, '')));
			else if (['--dport', '--sport', '--dports', '--sports', '--to-ports'].includes(a)) tokens.push(...v.split(',').map(x => x.replace(':', '-')));
			else if (['--to-destination', '--to-source'].includes(a)) tokens.push(v);
			else if (['-i', '-o', '--in-interface', '--out-interface'].includes(a)) tokens.push(v.replace(/\+$/, '*'));
			else if (a === '-p' || a === '--protocol') tokens.push(v);
			else if (a === '--ctstate' || a === '--state') tokens.push(...v.toLowerCase().split(','));
		}
		const target = rule.target?.toLowerCase();
		if (target) tokens.push(NFT_WORD[target] ?? target);
		if (tokens.length === 0 || !tokens.every(t => words.has(t.toLowerCase()))) continue;
		candidates.push({rule, tokens: tokens.length});
	}
	// The most specific rule whose every condition shows in the text; among equals, the one with
	// the target nft printed; otherwise no guess.
	const best = Math.max(0, ...candidates.map(c => c.tokens));
	let top = candidates.filter(c => c.tokens === best);
	if (top.length > 1 && target) top = top.filter(c => c.rule.target?.toUpperCase() === target.toUpperCase());
	return top.length === 1 ? top[0]!.rule : undefined;
}

/** How nft spells iptables targets. */
const NFT_WORD: Record<string, string> = {trace: 'nftrace', log: 'log', mark: 'mark', connmark: 'ct', notrack: 'notrack', ct: 'ct'};

/** xtables-monitor and nft hops carry rule text and verdict; find the position in the dump by text. */
function joinByText(hop: Hop, chain: Chain | undefined, format: Packet['format']): void {
	if (format === 'nft-monitor' && hop.rule && !hop.target) {
		const t = nftTarget(hop.rule);
		if (t) hop.target = t;
	}
	if (hop.target === undefined && hop.traceVerdict) {
		const v = hop.traceVerdict;
		if (['JUMP', 'GOTO'].includes(v)) hop.target = hop.target ?? '';
		else if (v !== 'CONTINUE') hop.target = v;
	}
	if (hop.rule) {
		const m = /(?:^|\s)-[jg]\s+(\S+)/.exec(hop.rule);
		if (m && hop.ruleFrom === 'trace' && /^-A\s/.test(hop.rule)) hop.target = m[1]!;
	}
	if (hop.kind === 'policy') {
		hop.target = hop.traceVerdict ?? chain?.policy ?? hop.target ?? '';
		if (chain) hop.num = chain.rules.length + 1;
		return;
	}
	if (!chain || !hop.rule) return;
	if (format === 'nft-monitor') {
		const rule = matchNftRule(chain, hop.rule, hop.target);
		if (rule) {
			hop.num = rule.pos;
			hop.ruleLine = rule.line;
			hop.note = `nft printed: ${hop.rule}`;
			hop.rule = rule.text;
			hop.ruleFrom = 'dump';
			if (rule.target) hop.target = rule.target;
		}
		return;
	}
	const text = normalise(hop.rule);
	const i = chain.rules.findIndex(r => normalise(r.text) === text);
	if (i !== -1) {
		hop.num = i + 1;
		hop.ruleLine = chain.rules[i]!.line;
	}
}

function familyName(f: string): string {
	return f === 'ipv6' ? 'IPv6' : 'IPv4';
}

function endpoint(addr: string | undefined, port: number | undefined): string {
	if (!addr) return '';
	const a = addr.includes(':') && port !== undefined ? `[${addr}]` : addr;
	return port === undefined ? a : `${a}:${port}`;
}

function where(hop: Hop): string {
	return `${hop.table}:${hop.chain}:${hop.kind}:${hop.num ?? '?'}`;
}

/** NAT seen in the addresses between hops, plus SNAT/MASQUERADE inferred from matched nat rules. */
export function findNat(packet: Packet): NatRewrite[] {
	const nat: NatRewrite[] = [];
	// The nat hops since the last rewrite: the one with a NAT target did it; without rules, the last nat rule hop.
	let byTarget: Hop | undefined;
	let byRule: Hop | undefined;
	for (let i = 0; i < packet.hops.length; i++) {
		const hop = packet.hops[i]!;
		const prev = packet.hops[i - 1];
		const responsible = byTarget ?? byRule;
		if (prev && hop.dst !== undefined && prev.dst !== undefined && (hop.dst !== prev.dst || hop.dpt !== prev.dpt)) {
			nat.push({
				type: responsible ? (responsible.target && NAT_TARGETS.has(responsible.target) ? responsible.target : 'DNAT') : 'conntrack',
				at: responsible ? where(responsible) : where(hop),
				from: endpoint(prev.dst, prev.dpt),
				to: endpoint(hop.dst, hop.dpt),
				seen: responsible ? 'addresses' : 'connection',
			});
			byTarget = byRule = undefined;
		}
		if (prev && hop.src !== undefined && prev.src !== undefined && (hop.src !== prev.src || hop.spt !== prev.spt)) {
			nat.push({
				type: responsible?.target && NAT_TARGETS.has(responsible.target) ? responsible.target : responsible ? 'SNAT' : 'conntrack',
				at: responsible ? where(responsible) : where(hop),
				from: endpoint(prev.src, prev.spt),
				to: endpoint(hop.src, hop.spt),
				seen: responsible ? 'addresses' : 'connection',
			});
			byTarget = byRule = undefined;
		}
		if (hop.table === 'nat' && hop.kind === 'rule') {
			if (hop.target && NAT_TARGETS.has(hop.target)) byTarget = hop;
			else if (!hop.target) byRule = hop;
		}
		if ((hop.target === 'SNAT' || hop.target === 'MASQUERADE') && hop.table === 'nat' && hop.kind === 'rule') {
			const to = hop.rule ? /--to-source\s+(\S+)/.exec(hop.rule)?.[1] : undefined;
			nat.push({
				type: hop.target,
				at: where(hop),
				from: endpoint(hop.src, hop.spt),
				to: to ?? (hop.target === 'MASQUERADE' ? `address of ${hop.out || 'the OUT interface'}` : 'the --to-source address'),
				seen: 'rule',
			});
		}
	}
	return nat;
}

/** The packet's fate, from its last hop. */
export function findVerdict(packet: Packet): {verdict: Verdict; basis: string} {
	const last = packet.hops[packet.hops.length - 1];
	if (!last) return {verdict: 'unknown', basis: 'no hops'};
	if (last.kind === 'log') return {verdict: 'unknown', basis: `a -j LOG line ("${last.logPrefix ?? ''}"): LOG does not decide`};

	// xtables-monitor and nft print the verdict.
	if (last.traceVerdict) {
		const v = last.traceVerdict.toUpperCase();
		if (VERDICT_TARGETS[v]) return {verdict: VERDICT_TARGETS[v], basis: `${where(last)} printed ${v}`};
		if (v === 'STOLEN') return {verdict: 'STOLEN', basis: `${where(last)} printed STOLEN`};
		if (last.target && VERDICT_TARGETS[last.target]) return {verdict: VERDICT_TARGETS[last.target]!, basis: `${where(last)} -j ${last.target}`};
		if (last.target && NAT_TARGETS.has(last.target)) return {verdict: 'ACCEPT', basis: `${where(last)} -j ${last.target}; nat targets accept`};
		return {verdict: 'unknown', basis: `the trace ends at ${where(last)} with ${v}`};
	}

	const t = last.target;
	if (t && VERDICT_TARGETS[t]) {
		const what = last.kind === 'policy' && !last.rule?.startsWith('-A') ? `policy ${t} of ${last.table}:${last.chain}` : `${where(last)} -j ${t}`;
		return {verdict: VERDICT_TARGETS[t]!, basis: what};
	}
	if (t && NAT_TARGETS.has(t)) return {verdict: 'ACCEPT', basis: `${where(last)} -j ${t}; nat targets accept`};
	if (last.kind === 'policy' && !t) {
		if (last.table === 'nat') return {verdict: 'ACCEPT', basis: `nat chains cannot drop: ${last.table}:${last.chain} policy accepts`};
		if (last.table === 'raw' || last.table === 'mangle') return {verdict: 'ACCEPT', basis: `assumed: ${last.table}:${last.chain} policy is ACCEPT unless changed (give --rules to be sure)`};
		return {verdict: 'unknown', basis: `${last.table}:${last.chain} policy is not known without --rules`};
	}
	if (!t) return {verdict: 'unknown', basis: `the trace ends at ${where(last)}; its target is not known without --rules`};
	return {verdict: 'unknown', basis: `the trace ends at ${where(last)} -j ${t}, which does not decide`};
}

/** Fills in in/out, verdict and NAT once a packet is complete. */
export function finishPacket(packet: Packet, index: RuleIndex): void {
	joinRules(packet, index);
	for (const hop of packet.hops) {
		if (!packet.in && hop.in) packet.in = hop.in;
		if (hop.out) packet.out = hop.out;
	}
	const {verdict, basis} = findVerdict(packet);
	packet.verdict = verdict;
	packet.verdictBasis = basis;
	packet.nat = findNat(packet);
	if (packet.proto === 'unknown' && packet.first.proto) packet.proto = packet.first.proto;
	if (packet.proto === 'unknown') packet.proto = protoFromRules(packet) ?? 'unknown';
}

const PROTO_NAMES: Record<string, string> = {tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', 'ipv6-icmp': 'ICMPv6', icmpv6: 'ICMPv6', sctp: 'SCTP', udplite: 'UDPLITE'};

/**
 * xtables-monitor prints no protocol for ICMP packets; a matched rule with `-p icmp` says it.
 */
function protoFromRules(packet: Packet): string | undefined {
	for (const hop of packet.hops) {
		if (!hop.rule || hop.traceVerdict === undefined && hop.ruleFrom !== 'dump') continue;
		const m = /(?:^|\s)(!\s+)?(?:-p|--protocol)\s+(\S+)/.exec(hop.rule);
		if (m && !m[1]) {
			const name = PROTO_NAMES[m[2]!.toLowerCase()];
			if (name) return name;
		}
	}
	return undefined;
}
