/**
 * Lint for saved rulesets: rules and chains that are stale, duplicated, can never match, or were
 * left behind.
 *
 * Input:  parsed dumps, e.g. a Cilium node whose `OLD_CILIUM_POST_nat` chain nothing jumps to
 * Output: [{kind:'unreferenced-chain', severity:'warning', message:'nat:OLD_CILIUM_POST_nat has 3 rules but no rule jumps to it …', …}]
 * Kinds and their meaning: docs/findings.md.
 */
import {notUnderstood} from '../../parser/rule-data.js';
import type {Chain, Rule, Ruleset, Table} from '../../parser/ruleset.js';
import {nftFamilyCovers} from '../../netfilter/nft.js';
import {ruleCommand, ruleSpec} from '../command.js';
import {conditionGroups, isUnconditional, loadsModule, matchesOnState, matchVariesOverTime, specWords} from '../rule-query.js';
import type {Finding, RuleRef} from './types.js';

/** Chains that are unreferenced on purpose: kube-proxy's canaries and its backend hint. */
const UNREFERENCED_BY_DESIGN = /-CANARY$|^KUBE-IPTABLES-HINT$/;

/** Every kind lintRulesets reports (docs/findings.md). */
export const RULE_KINDS: readonly string[] = ['unreferenced-chain', 'empty-chain-jump', 'missing-chain', 'jump-loop', 'jump-depth', 'duplicate-rule', 'shadowed-rule', 'trace-rule-left', 'mixed-backends', 'zero-hit', 'unreferenced-set', 'hook-order'];

function ref(rs: Ruleset, rule: Rule): RuleRef {
	return {file: rs.path, table: rule.table, chain: rule.chain, pos: rule.pos, text: rule.text, line: rule.line};
}

function chainRef(rs: Ruleset, chain: Chain): RuleRef {
	const text = chain.nft || chain.handle !== undefined || rs.format === 'nft' ? `chain ${chain.name}` : `:${chain.name} ${chain.policy ?? '-'}`;
	return {file: rs.path, table: chain.table, chain: chain.name, pos: null, text, ...(chain.declaredAt ? {line: chain.declaredAt} : {})};
}

/** The chain a rule jumps or goes to, if its target is one (not a target extension). */
function jumpsTo(rule: Rule): string | undefined {
	return rule.parsed.target?.kind === 'chain' ? rule.parsed.target.name : undefined;
}

/** Every chain a rule can send the walk to: its jump or goto, and the chains of a verdict map (anonymous, or named and in `table`). */
function chainsNamed(rule: Rule, table?: Pick<Table, 'sets'>): string[] {
	const out: string[] = [];
	for (const t of rule.parsed.actions ?? (rule.parsed.target ? [rule.parsed.target] : [])) {
		if (t.kind === 'chain') out.push(t.name);
		if (t.chains) out.push(...t.chains);
		if (t.map) for (const e of table?.sets?.get(t.map)?.elements ?? []) if (e.chain) out.push(e.chain);
	}
	return out;
}

/** An nft listing (native or iptables-nft's tables): its commands are nft's. */
function isNft(rs: Ruleset): boolean {
	return rs.format === 'nft' || rs.format === 'nft-json';
}

/** `inet firewalld`: how nft names a table in its commands. */
function nftTable(table: Pick<Table, 'family' | 'name'>): string {
	return `${table.family ?? 'ip'} ${table.name}`;
}

/** The command that deletes a rule: nft's by handle, iptables' by position. */
function deleteRule(rs: Ruleset, table: Table, rule: Rule): string {
	if (!isNft(rs)) return ruleCommand(rs.family, table.name, '-D', rule.chain, [String(rule.pos)]);
	return rule.handle === undefined ? `nft -a list chain ${nftTable(table)} ${rule.chain} (to see its handle), then nft delete rule ${nftTable(table)} ${rule.chain} handle N` : `nft delete rule ${nftTable(table)} ${rule.chain} handle ${rule.handle}`;
}

/** Does the walk of the chain end at this rule when it matches (ACCEPT, DROP, DNAT, …)? A goto aside. */
function terminates(rule: Rule): boolean {
	return rule.parsed.target?.terminates ?? false;
}

/** The rule's conditions and action, comments and spelling of the target flag aside. */
function normalisedText(rule: Rule): string {
	const t = rule.parsed.target;
	return [...groupsOf(rule), t?.goto ? '-g' : '-j', t?.name ?? '', ...(t?.options.flatMap(o => o.words) ?? [])].join(' ');
}

const groups = new WeakMap<Rule, readonly string[]>();

/** A rule's condition groups, worked out once: findShadow compares each rule with every earlier one. */
function groupsOf(rule: Rule): readonly string[] {
	let g = groups.get(rule);
	if (!g) groups.set(rule, (g = conditionGroups(rule)));
	return g;
}

const copyKeys = new WeakMap<Rule, string>();

/** Two copies of one rule have the same words (counters and spacing aside). */
function copyKey(rule: Rule): string {
	let key = copyKeys.get(rule);
	if (key === undefined) copyKeys.set(rule, (key = specWords(rule).join('\u0000')));
	return key;
}

/** Lints each dump on its own, then looks across dumps (mixed backends). */
export function lintRulesets(rulesets: readonly Ruleset[]): Finding[] {
	const findings: Finding[] = [];
	for (const rs of rulesets) findings.push(...lintOne(rs));

	// Legacy and nft dumps given together, both with rules: the classic broken kube-proxy / Calico node.
	const withRules = rulesets.filter(rs => [...rs.tables.values()].some(t => [...t.chains.values()].some(c => c.rules.length > 0)));
	const legacy = withRules.filter(rs => rs.backend === 'legacy');
	const nft = withRules.filter(rs => rs.backend === 'nft');
	if (legacy.length > 0 && nft.length > 0) {
		findings.push({
			kind: 'mixed-backends',
			severity: 'error',
			message: `rules are loaded in both iptables backends: ${legacy.map(r => r.path).join(', ')} (legacy) and ${nft.map(r => r.path).join(', ')} (nf_tables); the kernel runs both, and each tool sees only its own half`,
			hint: 'Pick one backend (update-alternatives --set iptables /usr/sbin/iptables-nft or -legacy) for every component that writes rules (kube-proxy, the CNI, Docker, the host firewall), then flush the other: iptables-legacy -F / -X per table.',
			packets: [],
			rules: [],
		});
	}
	return findings;
}

function lintOne(rs: Ruleset): Finding[] {
	const findings: Finding[] = [];
	const partial = (rs.format !== 'save' && !isNft(rs)) || rs.problems.length > 0 || ![...rs.tables.values()].some(t => t.line !== undefined);

	if (rs.legacyTablesPresent) {
		findings.push({
			kind: 'mixed-backends',
			severity: 'error',
			message: `${rs.path} was saved by iptables-nft, and the host also has iptables-legacy tables ("# Warning: iptables-legacy tables present")`,
			hint: 'Save those too (iptables-legacy-save) and check which component still writes legacy rules; a node should use one backend (see calico#2322).',
			packets: [],
			rules: [],
		});
	}

	if (isNft(rs)) findings.push(...hookOrder(rs));

	for (const table of rs.tables.values()) {
		// ---- jump-loop
		for (const loop of jumpLoops(table.chains, table)) {
			const nft = isNft(rs);
			const names = [...loop.map(r => r.chain), loop[0]!.chain];
			findings.push({
				kind: 'jump-loop',
				severity: 'error',
				message: `${table.name}:${names.join(' → ')}: ${loop.length === 1 ? 'the chain jumps to itself' : 'the chains jump back into the first through each other'}; the kernel refuses to load a loop (ip_tables.c mark_source_chains: ELOOP; nf_tables_check_loops: EMLINK), so this dump cannot be what a kernel held: it was edited by hand or tracewatch misread it`,
				hint: nft
					? `Check the rules named here against the node (nft -a list table ${nftTable(table)}); loading this file with nft -f fails ("Too many links").`
					: `Check the rules named here against the node (${ruleCommand(rs.family, table.name, '-S', loop[0]!.chain, [])}); restoring this file fails: iptables-legacy-restore says "line N failed", iptables-nft-restore "RULE_APPEND failed (Too many links)".`,
				packets: [],
				rules: loop.map(r => ref(rs, r)),
			});
		}

		// ---- jump-depth: nf_tables (iptables-nft, nft) refuses a path of NFT_JUMP_STACK_SIZE (16)
		// jumps or gotos from a base chain (nft_chain_validate: EMLINK); iptables-legacy has no such limit.
		const deep = jumpLoops(table.chains, table).length === 0 ? deepestJumps(table.chains, table) : [];
		if (deep.length >= NFT_JUMP_STACK_SIZE && rs.backend !== 'legacy') {
			const names = [deep[0]!.chain, ...deep.map(r => jumpsTo(r) ?? '?')];
			const sure = rs.backend === 'nft' || isNft(rs);
			findings.push({
				kind: 'jump-depth',
				severity: sure ? 'error' : 'warning',
				message: `${table.name}:${names.join(' → ')}: ${deep.length} jumps deep from a base chain; nf_tables allows at most ${NFT_JUMP_STACK_SIZE - 1} (nft_chain_validate: EMLINK), so ${sure ? 'this dump cannot be what the kernel held' : 'this ruleset loads with iptables-legacy only'}`,
				hint: `iptables-nft-restore refuses it ("RULE_APPEND failed (Too many links)" at the ${NFT_JUMP_STACK_SIZE}th jump, in ${deep[NFT_JUMP_STACK_SIZE - 1]!.chain}); flatten the chain of jumps (a goto does not return, but counts too), or stay on iptables-legacy.`,
				packets: [],
				rules: deep.slice(0, NFT_JUMP_STACK_SIZE).map(r => ref(rs, r)),
			});
		}

		const referenced = new Map<string, Rule[]>();
		for (const chain of table.chains.values()) {
			for (const rule of chain.rules) {
				for (const to of chainsNamed(rule)) {
					const list = referenced.get(to) ?? [];
					list.push(rule);
					referenced.set(to, list);
				}
			}
		}
		// nft: chains a named verdict map's elements name are referenced by the rules that read the map.
		const usedSets = new Set(table.chains.size > 0 ? [...table.chains.values()].flatMap(c => c.rules.flatMap(r => [...(r.parsed.sets ?? [])])) : []);
		for (const set of table.sets?.values() ?? []) {
			for (const e of set.elements) if (e.chain && usedSets.has(set.name) && !referenced.has(e.chain)) referenced.set(e.chain, []);
		}

		// ---- unreferenced-set
		for (const set of table.sets?.values() ?? []) {
			if (usedSets.has(set.name) || partial) continue;
			findings.push({
				kind: 'unreferenced-set',
				severity: 'info',
				message: `${nftTable(table)}: ${set.map ? 'map' : 'set'} ${set.name} (${set.elements.length} element(s)) is read by no rule`,
				hint: `If nothing should use it, remove it: nft delete ${set.map ? 'map' : 'set'} ${nftTable(table)} ${set.name}. If something should, the rule that reads @${set.name} is missing.`,
				packets: [],
				rules: [{file: rs.path, table: table.name, chain: '', pos: null, text: `${set.map ? 'map' : 'set'} ${set.name}`, line: set.line}],
			});
		}

		for (const chain of table.chains.values()) {
			// ---- unreferenced-chain
			if (!chain.builtin && !referenced.has(chain.name) && !partial && !UNREFERENCED_BY_DESIGN.test(chain.name)) {
				const stale = /^OLD_|^old-|-old$|_OLD$|\.old$|backup|^TMP_|-tmp$/i.test(chain.name);
				const remove = isNft(rs) ? `nft flush chain ${nftTable(table)} ${chain.name} && nft delete chain ${nftTable(table)} ${chain.name}` : `iptables -t ${table.name} -F ${chain.name} && iptables -t ${table.name} -X ${chain.name}`;
				findings.push({
					kind: 'unreferenced-chain',
					severity: chain.rules.length > 0 ? 'warning' : 'info',
					message: `${table.name}:${chain.name} ${chain.rules.length > 0 ? `has ${chain.rules.length} rule(s) but` : 'is empty and'} no rule jumps to it${isNft(rs) ? ' (nor a verdict map that a rule reads)' : ''}${stale ? ': a leftover from an upgrade or a failed cleanup' : ''}`,
					hint: `If nothing should use it, remove it: ${remove}. If something should, the jump to it is missing.`,
					packets: [],
					rules: [chainRef(rs, chain)],
				});
			}

			const copies = new Map<string, Rule[]>();
			let unconditional: Rule | undefined;
			for (const rule of chain.rules) {
				// ---- missing-chain / empty-chain-jump
				const to = jumpsTo(rule);
				if (to) {
					const target = table.chains.get(to);
					if (!target) {
						if (!partial || rs.format === 'save') {
							findings.push({
								kind: 'missing-chain',
								severity: partial ? 'info' : 'error',
								message: `${table.name}:${chain.name} rule ${rule.pos} jumps to ${to}, which the dump does not declare${partial ? ' (the dump looks partial)' : ''}`,
								hint: `iptables-restore refuses this rule; either the chain was deleted while something still jumps to it, or the dump is cut. Create it or remove the rule.`,
								packets: [],
								rules: [ref(rs, rule)],
							});
						}
					} else if (target.rules.length === 0 && !target.builtin) {
						findings.push({
							kind: 'empty-chain-jump',
							severity: 'info',
							message: `${table.name}:${chain.name} rule ${rule.pos} jumps to ${to}, which has no rules: every packet returns at once`,
							hint: `Fine if the chain is a hook kept empty on purpose (kube-proxy's KUBE-NODEPORTS, Docker's DOCKER-USER); otherwise the rules that should be in ${to} are missing.`,
							packets: [],
							rules: [ref(rs, rule)],
						});
					}
				}

				// ---- trace-rule-left
				const action = rule.parsed.target?.name;
				const acts = rule.parsed.actions?.map(a => a.name) ?? (action ? [action] : []);
				if (acts.includes('TRACE')) {
					const hits = rule.counters?.packets;
					const nft = isNft(rs) && rule.syntax === 'nft';
					findings.push({
						kind: 'trace-rule-left',
						severity: hits ? 'error' : 'warning',
						message: `${table.name}:${chain.name} rule ${rule.pos} is a ${nft ? '`meta nftrace set 1`' : 'TRACE'} rule${hits ? ` that has traced ${hits} packet(s)` : ''}: ${nft ? 'every matching packet sends one trace event per rule it passes to nft monitor trace' : 'every matching packet writes one log line per rule it passes'}`,
						hint: nft ? `Remove it when you are done: ${deleteRule(rs, table, rule)}.` : `Remove it when you are done: ${ruleCommand(rs.family, table.name, '-D', chain.name, ruleSpec(rule))} (tracewatch disarm removes the rules tracewatch arm added).`,
						packets: [],
						rules: [ref(rs, rule)],
					});
				} else if ((acts.includes('LOG') || acts.includes('NFLOG')) && !loadsModule(rule, 'limit') && !loadsModule(rule, 'hashlimit') && !rule.parsed.matches.some(m => m.module === 'limit')) {
					findings.push({
						kind: 'trace-rule-left',
						severity: 'info',
						message: `${table.name}:${chain.name} rule ${rule.pos} logs without a rate limit${rule.counters?.packets ? ` (${rule.counters.packets} packet(s) logged so far)` : ''}`,
						hint: isNft(rs) && rule.syntax === 'nft' ? 'A log statement without a limit can flood the kernel log; put limit rate 5/minute before it, or remove it if it was for debugging.' : 'A LOG rule without -m limit can flood the kernel log; add -m limit --limit 5/min, or remove it if it was for debugging.',
						packets: [],
						rules: [ref(rs, rule)],
					});
				}

				// ---- shadowed-rule (unconditional terminating rule earlier)
				if (unconditional) {
					findings.push({
						kind: 'shadowed-rule',
						severity: 'warning',
						message: `${table.name}:${chain.name} rule ${rule.pos} can never match: rule ${unconditional.pos} (${unconditional.text}) takes every packet before it`,
						hint: `Move rule ${rule.pos} above rule ${unconditional.pos}, or delete it.`,
						packets: [],
						rules: [ref(rs, unconditional), ref(rs, rule)],
					});
					continue;
				}

				// ---- duplicate-rule (reported per chain below), shadowed-rule
				const text = copyKey(rule);
				const same = copies.get(text);
				if (same) same.push(rule);
				else {
					copies.set(text, [rule]);
					// ---- shadowed-rule (an earlier terminating rule with a subset of the matches)
					const shadow = findShadow(chain, rule);
					if (shadow) {
						findings.push({
							kind: 'shadowed-rule',
							severity: 'warning',
							message: `${table.name}:${chain.name} rule ${rule.pos} can never match: rule ${shadow.pos} matches every packet it would (${groupsOf(shadow).join(' ') || 'no conditions'}) and ends with -j ${shadow.target}`,
							hint: `Move rule ${rule.pos} above rule ${shadow.pos}, or delete it if it is obsolete.`,
							packets: [],
							rules: [ref(rs, shadow), ref(rs, rule)],
						});
					}
				}

				if (isUnconditional(rule) && (terminates(rule) || rule.parsed.target?.goto)) unconditional = rule;
			}

			for (const list of copies.values()) {
				if (list.length < 2) continue;
				const [first, ...rest] = list as [Rule, ...Rule[]];
				const terminating = terminates(first);
				const never = rest.filter(r => !stateCanChange(chain, first, r) && terminating);
				const counted = list.every(r => r.counters);
				const zero = counted ? rest.filter(r => r.counters!.packets === 0) : [];
				findings.push({
					kind: 'duplicate-rule',
					severity: 'warning',
					message:
						`${table.name}:${chain.name} rule ${first.pos} appears ${list.length} times (positions ${list.map(r => r.pos).join(', ')})` +
						(never.length > 0 ? `; ${never.length === rest.length ? 'the copies' : `the copies at ${never.map(r => r.pos).join(', ')}`} can never match` : '') +
						(counted ? `; counters: ${list.map(r => `#${r.pos} ${r.counters!.packets}`).join(', ')} packets${zero.length > 0 ? ` (${zero.length === rest.length ? 'no copy' : `copies ${zero.map(r => r.pos).join(', ')}`} ever counted)` : ''}` : ''),
					hint: `Delete the copies (highest position first): ${rest
						.slice()
						.reverse()
						.map(r => deleteRule(rs, table, r))
						.join('; ')}. Repeated copies usually come from a service or script that adds its rules again on every start (libvirt, Docker, firewall scripts) without checking with iptables -C.`,
					packets: [],
					rules: list.map(r => ref(rs, r)),
				});
			}

			// ---- zero-hit
			const chainHit = chainWasHit(chain, referenced.get(chain.name) ?? []);
			if (chainHit) {
				const reachable = chain.rules.slice(0, unconditional ? unconditional.pos : chain.rules.length);
				for (const rule of reachable) {
					if (rule.counters && rule.counters.packets === 0 && rule.parsed.target?.name !== 'TRACE') {
						findings.push({
							kind: 'zero-hit',
							severity: 'info',
							message: `${table.name}:${chain.name} rule ${rule.pos} has never matched (0 packets) while ${chainHit}`,
							hint: 'Counters count since the rules were loaded or zeroed (iptables -Z). A rule that never matches may be stale (old addresses, renamed interfaces) or written for traffic that does not happen.',
							packets: [],
							rules: [ref(rs, rule)],
						});
					}
				}
			}
		}
	}
	return findings;
}

/** The families of packets a table's base chains see, as one layer of hooks: ip, ip6 and inet share the IP hooks. */
function layerOf(table: Table, chain: Chain): {layer: string; v4: boolean; v6: boolean} {
	const f = table.family ?? 'ip';
	if (f === 'bridge' || f === 'arp') return {layer: f, v4: true, v6: true};
	if (f === 'netdev') return {layer: `netdev ${chain.nft?.device ?? ''}`, v4: true, v6: true};
	return {layer: 'ip', v4: nftFamilyCovers(f, 'ipv4'), v6: nftFamilyCovers(f, 'ipv6')};
}

/**
 * nft base chains at one hook: two with the same priority run in an order nft does not define
 * (nft(8): "the ordering is undefined"); a native table and iptables-nft's at the same hook run
 * by priority, lower first, and a verdict of the first does not stop the second from running
 * unless it drops.
 */
function hookOrder(rs: Ruleset): Finding[] {
	const findings: Finding[] = [];
	const bases: Array<{table: Table; chain: Chain; layer: string; v4: boolean; v6: boolean}> = [];
	for (const table of rs.tables.values()) for (const chain of table.chains.values()) if (chain.nft) bases.push({table, chain, ...layerOf(table, chain)});
	const name = (b: (typeof bases)[0]) => `${nftTable(b.table)} ${b.chain.name}`;
	const seen = new Set<string>();
	for (let i = 0; i < bases.length; i++) {
		for (let j = i + 1; j < bases.length; j++) {
			const a = bases[i]!;
			const b = bases[j]!;
			if (a.layer !== b.layer || a.chain.nft!.hook !== b.chain.nft!.hook || !((a.v4 && b.v4) || (a.v6 && b.v6))) continue;
			const pa = a.chain.nft!.priority;
			const pb = b.chain.nft!.priority;
			if (pa === undefined || pb === undefined) continue;
			const refs = [chainRef(rs, a.chain), chainRef(rs, b.chain)];
			if (pa === pb && a.table !== b.table) {
				findings.push({
					kind: 'hook-order',
					severity: 'warning',
					message: `${name(a)} and ${name(b)} are both at hook ${a.chain.nft!.hook} with priority ${pa}: the order in which the kernel runs them is not defined, so which one sees the packet first can change when the rules are reloaded`,
					hint: `Give one of them another priority (nft's priority is the only order between base chains), e.g. priority ${a.chain.nft!.priorityText} + 1.`,
					packets: [],
					rules: refs,
				});
				continue;
			}
			const key = [a.table, b.table].map(t => nftTable(t)).sort().join('\u0000') + a.chain.nft!.hook;
			// Chains of the same type (filter beside filter, nat beside nat): where a verdict of one does not settle the other.
			if (a.table.iptablesNft !== b.table.iptablesNft && pa !== pb && a.chain.nft!.type === b.chain.nft!.type && !seen.has(key)) {
				seen.add(key);
				const [first, second] = pa < pb ? [a, b] : [b, a];
				findings.push({
					kind: 'hook-order',
					severity: 'info',
					message: `native nftables and iptables-nft rules at hook ${a.chain.nft!.hook}: ${name(first)} (priority ${first.chain.nft!.priority}) runs before ${name(second)} (priority ${second.chain.nft!.priority}); a packet one of them accepts still goes through the other, a drop in either is final`,
					hint: 'iptables-nft shows only its own tables (iptables-nft-save); read both with nft list ruleset when a packet is dropped where neither ruleset alone explains it.',
					packets: [],
					rules: pa < pb ? refs : [refs[1]!, refs[0]!],
				});
			}
		}
	}
	return findings;
}

/**
 * Loops of jumps and gotos among a table's chains: the rules that form each. A depth-first walk
 * from each chain in dump order; a jump back to a chain still on the walk closes a loop. Every
 * set of chains that reach each other yields at least one loop (not every loop through it).
 */
export function jumpLoops(chains: ReadonlyMap<string, Chain>, table?: Pick<Table, 'sets'>): Rule[][] {
	const loops: Rule[][] = [];
	const seen = new Set<string>();
	const state = new Map<string, 'open' | 'done'>();
	const path: Rule[] = [];
	const onPath: string[] = [];
	const visit = (name: string): void => {
		state.set(name, 'open');
		onPath.push(name);
		for (const rule of chains.get(name)?.rules ?? []) {
			for (const to of chainsNamed(rule, table)) {
			if (!chains.has(to)) continue;
			if (state.get(to) === 'open') {
				const start = onPath.indexOf(to);
				const loop = [...path.slice(start), rule];
				const key = loop.map(r => `${r.chain}\u0000${r.pos}`).sort().join('\u0001');
				if (!seen.has(key)) {
					seen.add(key);
					loops.push(loop);
				}
				continue;
			}
			if (state.get(to) === 'done') continue;
			path.push(rule);
			visit(to);
			path.pop();
			}
		}
		onPath.pop();
		state.set(name, 'done');
	};
	for (const name of chains.keys()) if (!state.has(name)) visit(name);
	return loops;
}

/** nf_tables' jump stack: a path of this many jumps or gotos from a base chain does not load. */
const NFT_JUMP_STACK_SIZE = 16;

/** The longest path of jumps and gotos from a built-in chain (the table has no loop), as the rules that jump. */
export function deepestJumps(chains: ReadonlyMap<string, Chain>, table?: Pick<Table, 'sets'>): Rule[] {
	const memo = new Map<string, Rule[]>();
	const longest = (name: string): Rule[] => {
		const known = memo.get(name);
		if (known) return known;
		memo.set(name, []);
		let best: Rule[] = [];
		for (const rule of chains.get(name)?.rules ?? []) {
			for (const to of chainsNamed(rule, table)) {
				if (!chains.has(to)) continue;
				const path = [rule, ...longest(to)];
				if (path.length > best.length) best = path;
			}
		}
		memo.set(name, best);
		return best;
	};
	let deepest: Rule[] = [];
	for (const chain of chains.values()) {
		if (!chain.builtin) continue;
		const path = longest(chain.name);
		if (path.length > deepest.length) deepest = path;
	}
	return deepest;
}

/** Can a rule between `a` and `b` change what `b` matches on (a mark, conntrack state…)? */
function stateCanChange(chain: Chain, a: Rule, b: Rule): boolean {
	if (!matchesOnState(b)) return false;
	return chain.rules.some(r => r.pos > a.pos && r.pos < b.pos && r.parsed.target !== undefined && !r.parsed.target.inert);
}

/** An earlier terminating rule whose conditions are a subset of this rule's conditions. */
function findShadow(chain: Chain, rule: Rule): Rule | undefined {
	const mine = new Set(groupsOf(rule));
	for (const earlier of chain.rules) {
		if (earlier.pos >= rule.pos) break;
		if (!terminates(earlier) && !earlier.parsed.target?.goto) continue;
		if (matchVariesOverTime(earlier)) continue;
		// A match tracewatch cannot read (an xt match whose options nft hides, a statement kept as text) proves nothing.
		if (notUnderstood(earlier.parsed).length > 0 || notUnderstood(rule.parsed).length > 0) continue;
		const theirs = groupsOf(earlier);
		if (theirs.length === 0) continue; // handled as unconditional
		if (!theirs.every(g => mine.has(g))) continue;
		if (stateCanChange(chain, earlier, rule)) continue;
		if (theirs.length === mine.size && normalisedText(earlier) === normalisedText(rule) && copyKey(earlier) === copyKey(rule)) continue;
		return earlier;
	}
	return undefined;
}

/** Did packets go through this chain (by the counters)? Returns the reason in words, or undefined. */
function chainWasHit(chain: Chain, jumps: readonly Rule[]): string | undefined {
	if (chain.policyCounters && chain.policyCounters.packets > 0) return `${chain.table}:${chain.name}'s policy counted ${chain.policyCounters.packets} packet(s)`;
	const jumped = jumps.reduce((n, r) => n + (r.counters?.packets ?? 0), 0);
	if (jumped > 0) return `${jumped} packet(s) jumped to ${chain.name}`;
	const counted = chain.rules.find(r => (r.counters?.packets ?? 0) > 0);
	if (counted) return `rule ${counted.pos} of the same chain counted ${counted.counters!.packets} packet(s)`;
	return undefined;
}
