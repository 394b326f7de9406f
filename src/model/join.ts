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
import {parseNftRuleset} from '../parser/nft-ruleset.js';
import {parseRuleText, type Chain, type Rule, type Ruleset} from '../parser/ruleset.js';
import {icmpv6FromBytes} from '../netfilter/icmp.js';
import {nftFamilyCovers, nftHook} from '../netfilter/nft.js';
import type {IcmpInfo, PacketFields} from '../parser/types.js';
import {formatNatRange, isUnconditional, ruleProtocol, specWords, targetOption} from './rule-query.js';
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
					// An nft listing holds tables of several families: ip's for IPv4 packets, ip6's for IPv6, inet's for both.
					if (table.family && !nftFamilyCovers(table.family, fam as 'ipv4' | 'ipv6')) continue;
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

/**
 * The dump rule each hop was joined to, for what findNat and protoFromRules read of it. A side
 * table, so that a Hop stays plain data (it is written out as JSON).
 */
const joined = new WeakMap<Hop, Rule>();

/** Rules read from trace text (xtables-monitor prints each rule on every hop): read once per text. */
const fromText = new Map<string, Rule | null>();

/** The rule a hop names: the dump rule it was joined to, else its own text read as a rule. */
function ruleOf(hop: Hop): Rule | undefined {
	const rule = joined.get(hop);
	if (rule || !hop.rule) return rule;
	let read = fromText.get(hop.rule);
	if (read === undefined) {
		if (fromText.size >= 4096) fromText.clear();
		read = parseRuleText(hop.rule, hop.table) ?? null;
		fromText.set(hop.rule, read);
	}
	return read ?? undefined;
}

/** An explicit rule with no matches and a standard target: what the kernel logs as policy/return. */
function logsAsPolicy(rule: Rule): boolean {
	return isUnconditional(rule) && (rule.parsed.target === undefined || rule.parsed.target.kind === 'verdict');
}

/**
 * The hook of each hop of a native nft chain, from the dump: a base chain's declared hook, and
 * for a regular chain the hook of the base chain the walk came from. A name says nothing about
 * the hook of an nft chain (kube-proxy's `nat-postrouting` is a postrouting chain).
 */
function nftHooks(packet: Packet, index: RuleIndex): void {
	let current: Hop['hook'];
	for (const hop of packet.hops) {
		if (!hop.table || hop.bridge) continue;
		const chain = index.chain(ipFamily(packet), hop.table, hop.chain);
		if (!chain) continue;
		if (chain.nft) current = nftHook(chain.nft.hook);
		else if (chain.handle === undefined && chain.rules[0]?.syntax !== 'nft') continue;
		if (current) hop.hook = current;
	}
}

/** The IP family whose dump a packet's IP hooks' hops join: a bridged frame's is that of the header inside. */
export function ipFamily(packet: Pick<Packet, 'family' | 'src'>): Packet['family'] {
	if (packet.family !== 'bridge') return packet.family;
	return packet.src.includes(':') ? 'ipv6' : 'ipv4';
}

/** Attaches rule text and target to each hop from the dump, noting where the dump disagrees with the trace. */
export function joinRules(packet: Packet, index: RuleIndex): void {
	if (packet.format === 'nft-monitor') nftHooks(packet, index);
	for (const hop of packet.hops) {
		// A bridge-family hop's chain is in no iptables or ip6tables dump.
		if (hop.kind === 'log' || hop.bridge || !hop.table) continue;
		const chain = index.chain(ipFamily(packet), hop.table, hop.chain);
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
			if (!logsAsPolicy(explicit)) hop.note = `the trace says ${hop.kind}:${n} but rule ${n} in the dump has matches: the ruleset changed since the trace`;
			continue;
		}
		if (n !== tail) hop.note = `the trace says ${hop.kind}:${n}, the chain's tail in the dump is ${tail}: the ruleset changed since the trace`;
		if (hop.kind === 'policy') {
			hop.target = chain.policy ?? 'ACCEPT';
			hop.rule = tailText(chain, hop.chain, 'policy');
		} else {
			hop.target = 'RETURN';
			hop.rule = tailText(chain, hop.chain, 'return');
		}
		hop.ruleFrom = 'dump';
		if (chain.declaredAt) hop.ruleLine = chain.declaredAt;
	}
}

/**
 * The text a chain's policy or end hop shows, made once per chain: every packet's hops share it
 * (written out per hop, the copies held by the packets in the window and the findings added up).
 */
const tailTexts = new WeakMap<Chain, Map<string, string>>();
function tailText(chain: Chain, name: string, kind: 'policy' | 'return'): string {
	let texts = tailTexts.get(chain);
	if (!texts) tailTexts.set(chain, (texts = new Map()));
	const key = kind === 'policy' ? `P${name}` : `R${name}`;
	let text = texts.get(key);
	if (text === undefined) texts.set(key, (text = kind === 'policy' ? ['-P', name, chain.policy ?? '-'].join(' ') : `(end of ${name}: return to the calling chain)`));
	return text;
}

function setRule(hop: Hop, rule: Rule): void {
	hop.rule = rule.text;
	hop.ruleFrom = 'dump';
	hop.ruleLine = rule.line;
	if (rule.parsed.target) hop.target = rule.parsed.target.name;
	joined.set(hop, rule);
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
/** An nft rule as nft prints it in a trace and in a listing: counters' values aside. */
function nftText(text: string): string {
	return text.replace(/\bcounter packets \d+ bytes \d+/g, 'counter').replace(/\s+/g, ' ').trim();
}

/**
 * The rule of an nft listing a trace hop names: by its handle when both have one, else the rule
 * nft prints the same (counters aside); of several the same, the first.
 */
function sameNftRule(chain: Chain, text: string, handle: number | undefined): Rule | undefined {
	if (handle !== undefined) {
		const byHandle = chain.rules.find(r => r.handle === handle);
		if (byHandle) return byHandle;
	}
	const want = nftText(text);
	return chain.rules.find(r => nftText(r.text) === want);
}

function matchNftRule(chain: Chain, text: string, target: string | undefined): Rule | undefined {
	const words = new Set(text.toLowerCase().split(/[\s"',{}]+/).filter(Boolean));
	const candidates: Array<{rule: Rule; tokens: number}> = [];
	for (const rule of chain.rules) {
		let tokens = nftTokenCache.get(rule);
		if (!tokens) nftTokenCache.set(rule, (tokens = nftTokens(rule)));
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

/** Each dump rule's nft words, worked out once (nft hops are matched against whole chains, hop after hop). */
const nftTokenCache = new WeakMap<Rule, string[]>();

/**
 * The words nft would print for a rule's addresses, ports, interfaces, protocol, conntrack
 * states and target: `-s 10.0.0.1/32` → 10.0.0.1, `--dport 1000:2000` → 1000-2000, `-i cali+` → cali*.
 */
function nftTokens(rule: Rule): string[] {
	const tokens: string[] = [];
	for (const p of rule.parsed.pieces) {
		if (p.piece !== 'option') continue;
		const v = p.value;
		switch (p.name) {
			case '-s':
			case '-d': {
				if (v.kind === 'addrs') tokens.push(...v.addrs.map(a => (a.bits === (a.v6 ? 128 : 32) ? a.addr : a.text)));
				break;
			}
			case '--dport':
			case '--sport':
			case '--dports':
			case '--sports': {
				if (v.kind === 'ports') tokens.push(...v.ports.map(r => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)));
				break;
			}
			case '--to-ports':
			case '--to-destination':
			case '--to-source': {
				if (v.kind === 'nat') tokens.push(formatNatRange(v.nat));
				break;
			}
			case '-i':
			case '-o': {
				if (v.kind === 'iface') tokens.push(v.iface.wildcard ? `${v.iface.name}*` : v.iface.name);
				break;
			}
			case '-p': {
				if (v.kind === 'proto') tokens.push(v.proto);
				break;
			}
			case '--ctstate':
			case '--state': {
				if (v.kind === 'list') tokens.push(...v.items.map(x => x.toLowerCase()));
				break;
			}
		}
		// What tracewatch did not read is compared as written.
		if (v.kind === 'unknown' && NFT_COMPARED.has(p.name)) tokens.push(...v.values);
	}
	const target = rule.parsed.target?.name.toLowerCase();
	if (target) tokens.push(NFT_WORD[target] ?? target);
	return tokens;
}

/** The options whose values nft prints in its rule text. */
const NFT_COMPARED = new Set(['-s', '-d', '--dport', '--sport', '--dports', '--sports', '--to-ports', '--to-destination', '--to-source', '-i', '-o', '-p', '--ctstate', '--state']);

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
	// xtables-monitor prints the rule in iptables-save syntax: its -j/-g says the target.
	const printed = hop.rule && hop.ruleFrom === 'trace' ? ruleOf(hop) : undefined;
	if (printed?.parsed.target) hop.target = printed.parsed.target.name;
	if (hop.kind === 'policy') {
		hop.target = hop.traceVerdict ?? chain?.policy ?? hop.target ?? '';
		if (chain) hop.num = chain.rules.length + 1;
		return;
	}
	// `unknown rule handle N`: nft's cache did not have it; a listing with handles may.
	if (chain && !hop.rule && hop.handle !== undefined && format === 'nft-monitor') {
		const rule = chain.rules.find(r => r.handle === hop.handle);
		if (rule) {
			hop.num = rule.pos;
			hop.ruleLine = rule.line;
			hop.rule = rule.text;
			hop.ruleFrom = 'dump';
			hop.note = `nft printed only the handle ${hop.handle}; the rule is the dump's`;
			if (rule.parsed.target) hop.target = rule.parsed.target.name;
			joined.set(hop, rule);
		}
		return;
	}
	// xtables-monitor names a rule by its handle: an nft listing with handles (nft -a) of the
	// iptables-nft tables holds the same rule under that handle, in nft's words.
	if (chain && format === 'xtables-monitor' && hop.handle !== undefined && chain.rules.some(r => r.syntax === 'nft')) {
		const rule = chain.rules.find(r => r.handle === hop.handle);
		if (rule) {
			hop.num = rule.pos;
			hop.ruleLine = rule.line;
			joined.set(hop, rule);
			const hidden = [...rule.parsed.matches.filter(m => m.hidden).map(m => `xt match ${m.module}`), ...(rule.parsed.actions ?? []).filter(a => a.hidden).map(a => `xt target ${a.name}`)];
			if (hidden.length > 0) hop.note = `the nft listing shows ${hidden.join(', ')} without options (iptables-nft-save shows them): ${rule.text}`;
		}
		return;
	}
	if (!chain || !hop.rule) return;
	if (format === 'nft-monitor') {
		const native = chain.rules.some(r => r.syntax === 'nft');
		const rule = native ? sameNftRule(chain, hop.rule, hop.handle) : matchNftRule(chain, hop.rule, hop.target);
		if (rule) {
			hop.num = rule.pos;
			hop.ruleLine = rule.line;
			if (!native) hop.note = `nft printed: ${hop.rule}`;
			hop.rule = rule.text;
			hop.ruleFrom = 'dump';
			if (rule.parsed.target) hop.target = rule.parsed.target.name;
			joined.set(hop, rule);
		}
		return;
	}
	// The dump rule with the same words (quotes and spacing aside) in the chain of the same name.
	if (!printed || printed.chain !== chain.name) return;
	const key = specKey(printed);
	const i = chain.rules.findIndex(r => specKey(r) === key);
	if (i !== -1) {
		hop.num = i + 1;
		hop.ruleLine = chain.rules[i]!.line;
		joined.set(hop, chain.rules[i]!);
	}
}

const keys = new WeakMap<Rule, string>();

/** A rule's words as one string: two rules with the same key are written the same. */
function specKey(rule: Rule): string {
	let k = keys.get(rule);
	if (k === undefined) keys.set(rule, (k = specWords(rule).join('\u0000')));
	return k;
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
	// NAT is the IP hooks' business: a bridged frame's bridge hops (which may show no ports) are left out.
	const hops = packet.hops.some(h => h.bridge) && packet.hops.some(h => !h.bridge) ? packet.hops.filter(h => !h.bridge) : packet.hops;
	for (let i = 0; i < hops.length; i++) {
		const hop = hops[i]!;
		const prev = hops[i - 1];
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
		// iptables' NAT targets live in its nat table; nft's NAT statements in any chain of type nat.
		if (hop.kind === 'rule' && hop.target && NAT_TARGETS.has(hop.target)) byTarget = hop;
		else if (hop.table === 'nat' && hop.kind === 'rule' && !hop.target) byRule = hop;
		if ((hop.target === 'SNAT' || hop.target === 'MASQUERADE') && hop.kind === 'rule') {
			const rule = ruleOf(hop);
			const option = rule && targetOption(rule, '--to-source');
			const to = option && (option.value.kind === 'nat' ? formatNatRange(option.value.nat) : option.words.at(-1));
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
	if (last.bridge && last.kind === 'log') return bridgeVerdict(last);
	if (last.kind === 'log') return {verdict: 'unknown', basis: `a -j LOG line ("${last.logPrefix ?? ''}"): LOG does not decide`};

	// xtables-monitor and nft print the verdict.
	if (last.traceVerdict) {
		const v = last.traceVerdict.toUpperCase();
		// nft prints `verdict drop` for reject (the kernel's reject expression ends in NF_DROP after
		// sending the ICMP error or TCP reset); the packet was rejected, and the sender hears of it.
		if (v === 'DROP' && last.target === 'REJECT') return {verdict: 'REJECT', basis: `${where(last)} rejects (nft prints verdict drop for reject: the packet is dropped and an ICMP error or TCP reset goes back)`};
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

/**
 * The fate of a frame whose last line is a bridge-family log line: logging decides nothing, but a
 * frame logged at the bridge's last hook (POSTROUTING with an output port, or INPUT for the host
 * itself) was on its way out of that port or up to the host; one whose lines stop at an earlier
 * hook went no further that the log shows.
 */
function bridgeVerdict(last: Hop): {verdict: Verdict; basis: string} {
	const at = last.table ? `${last.table}:${last.chain}` : `the log line "${last.logPrefix ?? ''}"`;
	if (last.chain === 'POSTROUTING' && last.out)
		return {verdict: 'ACCEPT', basis: `logged at ${at}, the bridge's last hook, on its way out of ${last.out} (only a rule after the log rule in that chain could still drop it)`};
	if (last.chain === 'INPUT')
		return {verdict: 'ACCEPT', basis: `logged at ${at}, the bridge's last hook for a frame to the host itself (only a rule after the log rule in that chain could still drop it)`};
	if (last.table)
		return {verdict: 'unknown', basis: `the trace ends at ${at}, an ebtables log line: the frame was logged at no later bridge hook, so a rule after the log rule dropped it, or the hooks after it log nothing`};
	return {verdict: 'unknown', basis: `a bridge log line ("${last.logPrefix ?? ''}"): logging does not decide`};
}

/** Fills in in/out, verdict and NAT once a packet is complete. */
export function finishPacket(packet: Packet, index: RuleIndex): void {
	joinRules(packet, index);
	// A packet this host sent (its path begins at OUTPUT) came in on no interface. The kernel
	// passes the skb's device as IN= to POSTROUTING all the same (ip6_output: `indev = skb->dev`,
	// set before routing for neighbour discovery and MLD, which choose their interface), so a
	// local IPv6 ND packet prints `IN=eth0 OUT=eth0` there, as a forwarded one would.
	const local = packet.hops.find(h => !h.bridge)?.hook === 'OUTPUT';
	// A frame the bridge hooks saw came in (and, when bridged, went out) by bridge ports: those,
	// not the bridge device its IP hooks (br_netfilter) name, are its way in and out. A frame
	// routed out of another interface has no bridge output port: that interface is its way out.
	const inPort = packet.hops.find(h => h.bridge && h.in)?.in;
	const outPort = packet.hops.findLast(h => h.bridge && h.out)?.out;
	for (const hop of packet.hops) {
		if (!packet.in && hop.in && !(local && hop.hook === 'POSTROUTING')) packet.in = hop.in;
		if (hop.out) packet.out = hop.out;
	}
	if (inPort) packet.in = inPort;
	if (outPort) packet.out = outPort;
	const {verdict, basis} = findVerdict(packet);
	packet.verdict = verdict;
	packet.verdictBasis = basis;
	packet.nat = findNat(packet);
	if (packet.proto === 'unknown' && packet.first.proto) packet.proto = packet.first.proto;
	if (packet.proto === 'unknown') {
		const proto = protoFromRules(packet);
		if (proto) {
			packet.proto = proto;
			packet.protoFrom = 'rule';
		}
	}
	// ICMPv6 to a multicast group from a trace that prints no ICMPv6 header (xtables-monitor):
	// neighbour or router solicitation, MLD query or report, router advertisement. Some ask for an
	// answer and some do not; which one this is the trace does not say, so no reply is expected of
	// it (and none is missed) unless one comes.
	if (packet.proto === 'ICMPv6' && !packet.icmp && !packet.first.extHeader && packet.dst.toLowerCase().startsWith('ff')) packet.replyUnknown = 'no ICMPv6 type in the trace: a message to a multicast group (neighbour discovery, MLD) may ask for no answer';
	if (packet.first.extHeader) {
		packet.extHeader = packet.first.extHeader;
		if (packet.proto === 'ICMPv6' && !packet.icmp) {
			const icmp = icmpBehindExtension(packet.first, packet.dst);
			if (icmp) packet.icmp = icmp;
		}
	}
}

/**
 * The ICMPv6 header of a packet whose first next header is an extension header, from the bytes
 * nft printed raw (`@th,0,160 0x8200…`): the kernel's trace holds the transport header at the
 * offset it found past the extension headers (nf_tables_trace.c, `nft_thoff`), but not which
 * protocol it is, so nft cannot decode it. Read only when a matched rule says it is ICMPv6.
 */
function icmpBehindExtension(f: PacketFields, dst: string): IcmpInfo | undefined {
	const key = Object.keys(f.extra ?? {}).find(k => /^@th,0,\d+$/.test(k));
	if (!key) return undefined;
	// nft prints the IPv6 payload length: the ICMPv6 message is that less the extension headers
	// (a multiple of 8 bytes, at least 8). An MLD query is 24 bytes in version 1, 28 or more in 2.
	const payload = f.len;
	let icmpLen: number | undefined;
	if (payload !== undefined) {
		const v1 = payload >= 32 && (payload - 24) % 8 === 0;
		const v2 = payload - 8 >= 28;
		icmpLen = v1 && !v2 ? 24 : v2 && !v1 ? 28 : undefined;
	}
	return icmpv6FromBytes(f.extra![key]!, dst, icmpLen);
}

/**
 * xtables-monitor prints no protocol for ICMP packets, nft none behind an IPv6 extension header;
 * a matched rule with `-p icmp` (`meta l4proto ipv6-icmp`) says it: both match the protocol past
 * the extension headers.
 */
function protoFromRules(packet: Packet): string | undefined {
	for (const hop of packet.hops) {
		if (!hop.rule || hop.traceVerdict === undefined && hop.ruleFrom !== 'dump') continue;
		const rule = ruleOf(hop) ?? (packet.format === 'nft-monitor' && hop.ruleFrom !== 'dump' ? nftRuleOf(hop.rule) : undefined);
		const proto = rule && ruleProtocol(rule);
		if (proto) return proto;
	}
	return undefined;
}

/** Rules nft monitor printed, read with the nft grammar (as a rule of a listing): read once per text. */
const fromNftText = new Map<string, Rule | null>();

function nftRuleOf(text: string): Rule | undefined {
	let read = fromNftText.get(text);
	if (read === undefined) {
		if (fromNftText.size >= 4096) fromNftText.clear();
		const listing = parseNftRuleset(`table inet trace {\n\tchain rule {\n\t\t${text}\n\t}\n}\n`, '-');
		read = [...listing.tables.values()][0]?.chains.get('rule')?.rules[0] ?? null;
		fromNftText.set(text, read);
	}
	return read ?? undefined;
}

/**
 * Does the packet's trace begin where a traced packet enters it? A kernel TRACE trace begins in
 * the raw table of PREROUTING or OUTPUT (the TRACE target is allowed there only; a user chain
 * called from there shows no hook); an xtables-monitor or nft trace begins with the event of the
 * rule that set the trace flag (`-j TRACE`, `meta nftrace set 1`: printed, unlike in the kernel
 * log). True when the trace cannot tell (no traced hop: LOG lines, bridge log lines; a monitor's
 * first rule without text tracewatch can read).
 */
export function startsWhereTraced(packet: Packet): boolean {
	const first = packet.hops.find(h => h.kind !== 'log' && !h.bridge);
	if (!first) return true;
	if (packet.format === 'kernel') return first.table === 'raw' && (first.hook === undefined || first.hook === 'PREROUTING' || first.hook === 'OUTPUT');
	if (first.target === 'TRACE') return true;
	// No rule text (xtables-monitor prints none for a native nft rule), or text it cannot read: it cannot tell.
	const rule = first.rule === undefined || first.rule.trim() === '' ? undefined : (ruleOf(first) ?? (packet.format === 'nft-monitor' ? nftRuleOf(first.rule) : undefined));
	if (!rule) return true;
	return rule.parsed.target?.name === 'TRACE' || (rule.parsed.actions ?? []).some(a => a.name === 'TRACE');
}
