/**
 * Why a trace is empty: the input ended and held no trace line at all. The usual causes are on the
 * node, not in the input (see docs/findings.md, `empty-trace`); a saved ruleset narrows them down:
 * no TRACE rule, TRACE rules on iptables-nft (which trace to netlink, never to the kernel log), or
 * TRACE rules that counted no packet.
 */
import type {Rule, Ruleset} from '../../parser/ruleset.js';
import type {RuleIndex} from '../join.js';
import type {InputInfo} from '../inputs.js';
import type {Finding} from './types.js';

const CAUSES =
	'Usual causes: no -j TRACE rule matches the traffic; iptables-nft sends TRACE to netlink, not to the kernel log (read it with `xtables-monitor --trace`); ' +
	'the kernel has no log backend bound for the family (`cat /proc/net/netfilter/nf_log`; `modprobe nf_log_syslog`); the packets were in a container or kind node ' +
	'namespace, whose TRACE lines the kernel drops unless `sysctl net.netfilter.nf_log_all_netns=1`. `tracewatch doctor` on the node checks each of these.';

/** An `empty-trace` finding when no input held a trace line; none otherwise. */
export function emptyTraceFindings(inputs: readonly InputInfo[], index: RuleIndex): Finding[] {
	if (inputs.length === 0 || inputs.some(i => i.traceLines > 0)) return [];
	const lines = inputs.reduce((n, i) => n + i.lines, 0);
	const names = inputs.map(i => i.path).join(', ');
	const message =
		lines === 0
			? `${names}: no lines at all, so no packet was traced`
			: `${names}: none of the ${lines} line(s) is a netfilter TRACE or LOG line, xtables-monitor --trace or nft monitor trace output`;

	const traceRules: Array<{rs: Ruleset; rule: Rule}> = [];
	for (const rs of index.rulesets) {
		for (const table of rs.tables.values()) {
			for (const chain of table.chains.values()) for (const rule of chain.rules) if (rule.target === 'TRACE') traceRules.push({rs, rule});
		}
	}
	const rules = traceRules.map(({rs, rule}) => ({file: rs.path, table: rule.table, chain: rule.chain, pos: rule.pos, text: rule.text, line: rule.line}));

	let hint: string;
	if (index.empty) {
		hint = `${CAUSES} Give the node's ruleset (--rules node.save) and tracewatch can say which one applies.`;
	} else if (traceRules.length === 0) {
		hint =
			'The ruleset has no -j TRACE rule, so nothing was traced. Add one in raw PREROUTING (and OUTPUT for local traffic) for the packets you want, ' +
			'e.g. iptables -t raw -I PREROUTING -s ADDR -j TRACE; `tracewatch live --src ADDR` adds tagged rules, shows the packets and removes the rules afterwards.';
	} else if (traceRules.some(({rs}) => rs.backend === 'nft')) {
		hint =
			'The TRACE rules are in an iptables-nft ruleset: nf_tables sends their output to netlink, never to dmesg or the kernel log. ' +
			'Read it with `xtables-monitor --trace` (or `nft monitor trace`) and give that output to tracewatch, or run `tracewatch live`.';
	} else if (traceRules.every(({rule}) => rule.counters?.packets === 0)) {
		hint =
			'The TRACE rules counted no packet: the traffic did not match them (check -s/-d/-p/--dport and that they sit in raw PREROUTING/OUTPUT, ' +
			'which every packet passes before conntrack), or it never reached this node.';
	} else {
		hint =
			`The ruleset has TRACE rules${traceRules.some(({rule}) => rule.counters?.packets) ? ' that counted packets' : ''}, so lines were written somewhere else: ` +
			'the kernel has no log backend bound for the family (`cat /proc/net/netfilter/nf_log`; `modprobe nf_log_syslog`), or the packets were in a container ' +
			'or kind node namespace (`sysctl net.netfilter.nf_log_all_netns=1` on the host), or the log was read before or after the traffic. `tracewatch doctor` checks these.';
	}
	return [{kind: 'empty-trace', severity: 'warning', message, hint, packets: [], rules}];
}
