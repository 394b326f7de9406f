/**
 * diagnose: HostFacts → DoctorReport, the plain-words answer to "why does TRACE show nothing
 * here, and what do I run instead". Pure: no I/O.
 *
 * Input:  facts from inspectHost (a kind node: legacy rules, not the initial namespace,
 *         host nf_log_all_netns=0)
 * Output: {problems: [{id:'netns-log-dropped', severity:'error', message:'…', fix:'sysctl -w net.netfilter.nf_log_all_netns=1 …'}],
 *          capture: {command:'tracewatch live --backend legacy --src ADDRESS', before:[…]}, …}
 */
import type {Style} from '../ui/text.js';
import {backendUse, chooseBackend, describeNftUse, type BackendChoice} from './backend.js';
import {formatCommand} from './exec.js';
import type {IpFamily} from './filters.js';
import {nfLogFor, type BackendView, type HostFacts, type NfLogEntry, type RunState, type Support} from './host.js';
import {BACKENDS, deleteArgs, FAMILIES, familyName, iptablesTool, runIdOf, type Backend, type ListedRule} from './rules.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
	/** Stable identifier, e.g. `netns-log-dropped`. */
	readonly id: string;
	/** error: a trace will be empty (or tracing cannot start); warning: likely confusing; info: worth knowing. */
	readonly severity: Severity;
	readonly message: string;
	/** The command or step that fixes it. */
	readonly fix?: string;
}

export interface TraceRuleReport {
	readonly backend: Backend | 'nftables';
	readonly family: IpFamily | string;
	readonly table: string;
	readonly chain: string;
	readonly pos?: number;
	readonly rule: string;
	readonly packets?: number;
	readonly bytes?: number;
	/** Run id when tracewatch made it. */
	readonly run?: string;
	readonly running?: boolean;
}

export interface DoctorReport {
	readonly tracewatch: 1;
	readonly host: {
		readonly root: boolean;
		readonly uid: number;
		readonly kernel: string;
		readonly netns: HostFacts['netns'];
		readonly nfLogAllNetns: HostFacts['allNetns'];
		readonly dmesgRestrict?: number;
	};
	readonly backends: {
		/** Which backends hold rules (any family). `unknown` when the rules could not be read. */
		readonly inUse: 'legacy' | 'nft' | 'both' | 'none' | 'unknown';
		/** What the `iptables` command runs. */
		readonly iptablesCommand?: Backend;
		readonly views: ReadonlyArray<{backend: Backend; family: IpFamily; state: 'read' | 'unchecked'; why?: string; tables: BackendView['tables']; rules: number}>;
		readonly nftables: HostFacts['nft'];
		/** What `tracewatch live` would use for IPv4, and why. */
		readonly choice: BackendChoice;
	};
	readonly output: {
		/** Legacy TRACE lines: the nf_log binding per family, and whether lines from here reach the kernel log. */
		readonly legacy: {readonly ipv4?: NfLogEntry; readonly ipv6?: NfLogEntry; readonly reachesKernelLog: boolean | null; readonly explanation: string};
		readonly nft: {readonly explanation: string};
	};
	readonly traceRules: readonly TraceRuleReport[];
	readonly kernel: {readonly xt_TRACE: Support; readonly nf_log_syslog: Support; readonly nf_tables: Support};
	readonly problems: readonly Problem[];
	readonly capture: {
		/** Steps before the command (a sysctl on the host). */
		readonly before: readonly string[];
		/** The one command to run. */
		readonly command: string;
		/** Watch only, when TRACE rules are already in place. */
		readonly watchOnly: string;
		/** Alternatives when the backend is ambiguous. */
		readonly alternatives?: readonly string[];
	};
	readonly unchecked: readonly string[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function inUse(facts: HostFacts): DoctorReport['backends']['inUse'] {
	const uses = FAMILIES.map(f => backendUse(facts, f));
	const legacy = uses.some(u => u.legacyInUse);
	const nft = uses.some(u => u.nftInUse);
	if (legacy && nft) return 'both';
	if (legacy) return 'legacy';
	if (nft) return 'nft';
	if (facts.views.some(v => v.state === 'unchecked') || facts.nft.state === 'unchecked') return 'unknown';
	return 'none';
}

function runOf(facts: HostFacts, r: ListedRule): RunState | undefined {
	return r.tag ? facts.runs.find(x => x.runId === runIdOf(r.tag!)) : undefined;
}

function listTraceRules(facts: HostFacts): TraceRuleReport[] {
	const out: TraceRuleReport[] = [];
	for (const v of facts.views) {
		for (const r of v.trace) {
			const run = runOf(facts, r);
			out.push({
				backend: r.backend,
				family: r.family,
				table: r.table,
				chain: r.chain,
				pos: r.pos,
				rule: r.text,
				...(r.counters ? {packets: r.counters.packets, bytes: r.counters.bytes} : {}),
				...(r.tag ? {run: runIdOf(r.tag)} : {}),
				...(run?.running !== undefined ? {running: run.running} : {}),
			});
		}
	}
	for (const t of facts.nft.tables) {
		if (t.traceRules > 0) out.push({backend: 'nftables', family: t.family, table: t.name, chain: '*', rule: `${plural(t.traceRules, 'rule')} setting meta nftrace`});
	}
	return out;
}

function legacyOutput(facts: HostFacts): DoctorReport['output']['legacy'] {
	const ipv4 = nfLogFor(facts, 'ipv4');
	const ipv6 = nfLogFor(facts, 'ipv6');
	const bound = ipv4?.bound;
	const base = {...(ipv4 ? {ipv4} : {}), ...(ipv6 ? {ipv6} : {})};
	if (facts.nfLog === undefined) return {...base, reachesKernelLog: null, explanation: `the nf_log bindings could not be read (${facts.nfLogError})`};
	let explanation: string;
	let reaches: boolean | null;
	if (bound === 'nfnetlink_log') {
		reaches = false;
		explanation = 'IPv4 TRACE lines go to nfnetlink_log (NFLOG group 0), not the kernel log';
	} else if (bound === 'NONE' && ipv4?.registered.includes('nf_log_ipv4')) {
		reaches = false;
		explanation = 'no logger is bound for IPv4: TRACE lines are thrown away';
	} else {
		reaches = true;
		explanation = bound === 'NONE' ? 'the kernel log, once the first TRACE rule loads nf_log_syslog' : `the kernel log through ${bound}`;
	}
	if (reaches && facts.netns.initial === false) {
		if (facts.allNetns.value === 0) {
			reaches = false;
			explanation += ', but the host drops them: this is not the initial network namespace and nf_log_all_netns=0';
		} else if (facts.allNetns.value === undefined) {
			reaches = null;
			explanation += `, if the host allows it: this is not the initial network namespace, and nf_log_all_netns (${facts.allNetns.how}) decides`;
		} else {
			explanation += ' (from this namespace too: the host has nf_log_all_netns=1)';
		}
	}
	return {...base, reachesKernelLog: reaches, explanation};
}

function supportWord(s: Support): string {
	return s.state === 'module' ? 'available as a module' : s.state === 'unknown' ? 'unknown' : s.state;
}

export function diagnose(facts: HostFacts): DoctorReport {
	const problems: Problem[] = [];
	const add = (p: Problem) => problems.push(p);
	const choice = chooseBackend(facts, 'ipv4', 'auto');
	const use = inUse(facts);
	const uses = {ipv4: backendUse(facts, 'ipv4'), ipv6: backendUse(facts, 'ipv6')};
	const legacyRelevant = use === 'legacy' || use === 'both' || choice.backend === 'legacy';
	const nftRelevant = use === 'nft' || use === 'both' || choice.backend === 'nft' || choice.ambiguous === true;
	const output = legacyOutput(facts);
	const prefix = facts.netns.initial === false && facts.netns.name ? `ip netns exec ${facts.netns.name} ` : '';

	if (!facts.privileged) add({id: 'not-root', severity: 'info', message: 'not running as root: the rules themselves (backends in use, TRACE rules and their counters) were not read', fix: 'sudo tracewatch doctor'});

	// Backends.
	if (use === 'both') {
		const legacyN = (uses.ipv4.legacy ?? 0) + (uses.ipv6.legacy ?? 0);
		add({
			id: 'both-backends',
			severity: 'warning',
			message: `both iptables-legacy (${plural(legacyN, 'rule')}) and nftables (${describeNftUse(uses.ipv4) || describeNftUse(uses.ipv6)}) hold rules. Every packet passes through both, and TRACE output is split: legacy tables write to the kernel log, nftables send netlink events. This mix is also the classic cause of "rules that do nothing" (kube-proxy or a CNI on one backend, the host on the other)`,
			fix: 'trace one backend at a time: tracewatch live --backend legacy … or --backend nft …',
		});
	}
	const iptablesNftRules = (uses.ipv4.nft ?? 0) + (uses.ipv6.nft ?? 0);
	const legacyRules = (uses.ipv4.legacy ?? 0) + (uses.ipv6.legacy ?? 0);
	if (facts.iptablesDefault === 'nft' && legacyRules > 0 && iptablesNftRules === 0) {
		add({
			id: 'iptables-command-mismatch',
			severity: 'warning',
			message: 'the iptables command here runs iptables-nft, but the rules are in iptables-legacy: "iptables -L", "iptables-save" and "iptables -t raw -I … -j TRACE" work on the other, empty set of tables',
			fix: 'use iptables-legacy and iptables-legacy-save explicitly (tracewatch does)',
		});
	} else if (facts.iptablesDefault === 'legacy' && iptablesNftRules > 0 && legacyRules === 0) {
		add({
			id: 'iptables-command-mismatch',
			severity: 'warning',
			message: 'the iptables command here runs iptables-legacy, but the rules are in iptables-nft: "iptables -L" and "iptables-save" show the other, empty set of tables',
			fix: 'use iptables-nft and iptables-nft-save explicitly (tracewatch does)',
		});
	}

	// Where the output goes.
	if (legacyRelevant) {
		for (const family of FAMILIES) {
			const e = nfLogFor(facts, family);
			if (!e) continue;
			const logger = family === 'ipv6' ? 'nf_log_ipv6' : 'nf_log_ipv4';
			const sysctl = `net.netfilter.nf_log.${e.pf}`;
			if (e.bound === 'NONE' && e.registered.includes(logger)) {
				add({
					id: 'nf-log-unbound',
					severity: family === 'ipv4' ? 'error' : 'warning',
					message: `no logger is bound for ${familyName(family)} in this namespace (${sysctl} = NONE) although ${logger} is loaded: legacy ${familyName(family)} TRACE lines are thrown away`,
					fix: `sysctl -w ${sysctl}=${logger}`,
				});
			} else if (e.bound === 'nfnetlink_log') {
				add({
					id: 'nf-log-nflog',
					severity: family === 'ipv4' ? 'error' : 'warning',
					message: `${familyName(family)} TRACE lines go to nfnetlink_log (NFLOG group 0), not to the kernel log: a tracing tool bound it (${sysctl} = nfnetlink_log). dmesg stays empty`,
					fix: `sysctl -w ${sysctl}=${logger}   (changes what that other tool receives)`,
				});
			} else if (e.bound === 'NONE' && family === 'ipv4') {
				add({id: 'nf-log-not-loaded', severity: 'info', message: 'nf_log_syslog is not loaded yet; the first TRACE rule loads it and binds it'});
			}
		}
		if (facts.netns.initial === false) {
			if (facts.allNetns.value === 0) {
				add({
					id: 'netns-log-dropped',
					severity: 'error',
					message:
						"this is not the host's initial network namespace, and the host has net.netfilter.nf_log_all_netns=0: the kernel drops legacy TRACE lines from here before they reach the kernel log (kind, k3d and minikube nodes and pods hit this)",
					fix: 'on the host: sysctl -w net.netfilter.nf_log_all_netns=1   (host-wide: set it back to 0 when done)',
				});
			} else if (facts.allNetns.value === undefined) {
				add({
					id: 'netns-log-unknown',
					severity: 'warning',
					message: `this is not the host's initial network namespace: legacy TRACE lines from here reach the kernel log only if the host has net.netfilter.nf_log_all_netns=1, which could not be read (${facts.allNetns.how})`,
					fix: 'on the host: sysctl net.netfilter.nf_log_all_netns   (and -w …=1 if it is 0)',
				});
			}
		}
		if (facts.dmesgRestrict === 1 && !facts.privileged) add({id: 'dmesg-restricted', severity: 'info', message: 'reading the kernel log needs root here (kernel.dmesg_restrict=1)'});
	}
	if (nftRelevant) {
		add({
			id: 'nft-no-kernel-log',
			severity: 'info',
			message:
				'with iptables-nft (and nftables), TRACE never writes to the kernel log: the kernel sends trace events over netlink to xtables-monitor --trace or nft monitor trace. An empty dmesg is expected there: it is the most common "TRACE shows nothing"',
		});
		if (facts.tools['xtables-monitor'] === false) add({id: 'no-xtables-monitor', severity: 'error', message: 'xtables-monitor is not installed: nothing can read iptables-nft trace events', fix: 'apt install iptables   (1.8.7 or newer ships xtables-monitor)'});
	}

	const noIptables = facts.tools['iptables-legacy'] === false && facts.tools['iptables-nft'] === false;
	if (noIptables) {
		add({
			id: 'no-iptables',
			severity: 'error',
			message: 'neither iptables-legacy nor iptables-nft is installed: nothing here can add TRACE rules (or read the rules to check them)',
			fix: 'apt install iptables   (Debian/Ubuntu: brings iptables-nft, iptables-legacy and xtables-monitor)',
		});
	}

	// TRACE rules in place.
	const traceRules = listTraceRules(facts);
	const anyRead = facts.views.some(v => v.state === 'read');
	if (anyRead && traceRules.length === 0) {
		add({id: 'no-trace-rules', severity: 'info', message: 'no TRACE rule exists, so nothing is traced yet. "tracewatch live" inserts rate-limited TRACE rules and removes them when it stops'});
	}
	const left = facts.runs.filter(r => r.running === false || r.running === undefined);
	for (const run of left) {
		const n = facts.views.reduce((k, v) => k + v.tagged.filter(r => r.tag && runIdOf(r.tag) === run.runId).length, 0);
		add({
			id: 'left-behind',
			severity: 'warning',
			message: `${plural(n, 'rule')} left behind by tracewatch run ${run.runId}${run.pid !== undefined ? ` (process ${run.pid} is ${run.running === false ? 'gone' : 'unknown here'})` : ''}`,
			fix: 'tracewatch disarm',
		});
	}
	for (const v of facts.views) {
		for (const r of v.trace) {
			if (r.tag) continue;
			add({
				id: 'foreign-trace-rule',
				severity: 'warning',
				message: `a TRACE rule not made by tracewatch is in place (${r.backend} ${familyName(r.family)} ${r.table} ${r.chain} #${r.pos}${r.counters ? `, ${plural(r.counters.packets, 'packet')} traced` : ''}${r.spec.includes('limit') ? '' : ', no rate limit'}): left behind it floods the log`,
				fix: formatCommand(iptablesTool(r.backend, r.family), deleteArgs({table: r.table, chain: r.chain, spec: r.spec})),
			});
		}
	}
	for (const r of traceRules) {
		if (r.packets === 0 && (r.run === undefined || r.running !== false)) {
			add({
				id: 'trace-rule-idle',
				severity: 'info',
				message: `the TRACE rule in ${r.backend} ${r.family === 'ipv6' ? 'IPv6' : 'IPv4'} ${r.table} ${r.chain} #${r.pos} has matched no packet yet: check its addresses and ports, and any earlier raw rule that accepts packets first`,
			});
		}
	}

	// Kernel.
	if (facts.kernel.xtTrace.state === 'missing') add({id: 'kernel-no-trace', severity: 'error', message: `the kernel has no TRACE target (xt_TRACE): ${facts.kernel.xtTrace.detail}`});
	if (legacyRelevant && facts.kernel.nfLog.state === 'missing') add({id: 'kernel-no-nf-log', severity: 'error', message: `the kernel has no syslog logger for TRACE (nf_log_syslog): ${facts.kernel.nfLog.detail}`});
	if (nftRelevant && facts.kernel.nfTables.state === 'missing') add({id: 'kernel-no-nf-tables', severity: 'error', message: `the kernel has no nf_tables: ${facts.kernel.nfTables.detail}`});

	// The command to run.
	const before: string[] = [];
	for (const p of problems) if ((p.id === 'netns-log-dropped' || p.id === 'nf-log-unbound' || p.id === 'nf-log-nflog' || p.id === 'no-iptables') && p.severity === 'error' && p.fix) before.push(p.fix);
	const live = (b: Backend) => `${prefix}tracewatch live --backend ${b} --src ADDRESS`;
	const watch = (b: Backend) => (b === 'nft' ? `${prefix}xtables-monitor --trace -4 | tracewatch` : `dmesg -W | grep --line-buffered 'TRACE:' | tracewatch`);
	const backend = choice.backend ?? (choice.ambiguous ? 'legacy' : 'nft');
	const capture: DoctorReport['capture'] = {
		before: choice.ambiguous || backend === 'legacy' || noIptables ? before : [],
		command: live(backend),
		watchOnly: choice.ambiguous ? `legacy: ${watch('legacy')}   nft: ${watch('nft')}` : watch(backend),
		...(choice.ambiguous ? {alternatives: [live('nft')]} : {}),
	};

	const order: Record<Severity, number> = {error: 0, warning: 1, info: 2};
	problems.sort((a, b) => order[a.severity] - order[b.severity]);
	return {
		tracewatch: 1,
		host: {
			root: facts.privileged,
			uid: facts.uid,
			kernel: facts.release,
			netns: facts.netns,
			nfLogAllNetns: facts.allNetns,
			...(facts.dmesgRestrict !== undefined ? {dmesgRestrict: facts.dmesgRestrict} : {}),
		},
		backends: {
			inUse: use,
			...(facts.iptablesDefault ? {iptablesCommand: facts.iptablesDefault} : {}),
			views: facts.views.map(v => ({backend: v.backend, family: v.family, state: v.state, ...(v.why ? {why: v.why} : {}), tables: v.tables, rules: v.rules})),
			nftables: facts.nft,
			choice,
		},
		output: {
			legacy: output,
			nft: {explanation: 'netlink trace events: xtables-monitor --trace (what tracewatch live runs) or nft monitor trace; never the kernel log'},
		},
		traceRules,
		kernel: {xt_TRACE: facts.kernel.xtTrace, nf_log_syslog: facts.kernel.nfLog, nf_tables: facts.kernel.nfTables},
		problems,
		capture,
		unchecked: facts.unchecked,
	};
}

function viewLine(v: DoctorReport['backends']['views'][number]): string {
	if (v.state === 'unchecked') return `not checked (${v.why})`;
	if (v.tables.length === 0) return 'no tables';
	return v.tables.map(t => `${t.name} (${plural(t.rules, 'rule')})`).join(', ');
}

/** The report as text for a terminal or a ticket. */
export function renderDoctor(r: DoctorReport, style: Style): string {
	const out: string[] = [];
	const head = (s: string) => out.push('', style.bold(s));
	const row = (k: string, v: string) => out.push(`  ${k.padEnd(22)}${v}`);
	out.push(style.bold('tracewatch doctor'));

	head('Host');
	const ns = r.host.netns;
	const where = ns.initial === true ? "the host's initial namespace" : ns.initial === false ? "not the host's initial namespace" : 'initial or not: could not be told';
	row('network namespace', `${ns.name ? `${ns.name} ` : ''}${ns.inode !== undefined ? `(inode ${ns.inode}) ` : ''}— ${where}`);
	row('privileges', r.host.root ? 'root (CAP_NET_ADMIN)' : `uid ${r.host.uid}, not root: some checks skipped`);
	row('kernel', `${r.host.kernel}: xt_TRACE ${supportWord(r.kernel.xt_TRACE)}, nf_log_syslog ${supportWord(r.kernel.nf_log_syslog)}, nf_tables ${supportWord(r.kernel.nf_tables)}`);

	head('iptables backends');
	for (const b of BACKENDS) {
		const views = r.backends.views.filter(v => v.backend === b);
		for (const v of views) row(`${b} ${familyName(v.family)}`, viewLine(v));
	}
	const nt = r.backends.nftables;
	row('native nftables', nt.state === 'unchecked' ? `not checked (${nt.why})` : nt.tables.length === 0 ? 'no tables' : nt.tables.map(t => `${t.family} ${t.name} (${plural(t.rules, 'rule')})`).join(', '));
	if (r.backends.iptablesCommand) row('"iptables" runs', `iptables-${r.backends.iptablesCommand}`);
	const inUse = {legacy: 'legacy', nft: 'nft', both: style.yellow('both legacy and nft'), none: 'neither holds rules yet', unknown: 'unknown (rules not read)'}[r.backends.inUse];
	row('in use', inUse);
	row('tracewatch would use', r.backends.choice.backend ? `${r.backends.choice.backend}: ${r.backends.choice.reason}` : style.yellow(r.backends.choice.ambiguous ? 'no default: both backends hold rules, so live and arm need --backend legacy or --backend nft' : `none: ${r.backends.choice.reason}`));

	head('Where TRACE output goes');
	const lg = r.output.legacy;
	const bind = (e?: NfLogEntry) => (e ? `${e.bound}${e.bound === 'NONE' ? ` (loaded: ${e.registered.join(', ') || 'none'})` : ''}` : '?');
	row('legacy', `${lg.reachesKernelLog === false ? style.red(lg.explanation) : lg.explanation}`);
	row('  nf_log binding', `IPv4 ${bind(lg.ipv4)}, IPv6 ${bind(lg.ipv6)}`);
	const all = r.host.nfLogAllNetns;
	row('  nf_log_all_netns', all.value !== undefined ? `${all.value} (${all.how})` : `unknown: ${all.how}`);
	row('nft', r.output.nft.explanation);

	head('TRACE rules now');
	if (r.traceRules.length === 0) {
		const why = r.backends.views.find(v => v.state !== 'read')?.why;
		out.push(r.backends.views.some(v => v.state === 'read') ? '  none' : `  not checked (${r.host.root ? (why ?? 'no rules could be read') : 'needs root'})`);
	}
	for (const t of r.traceRules) {
		const fam = t.family === 'ipv6' ? 'IPv6' : t.family === 'ipv4' ? 'IPv4' : t.family;
		const count = t.packets !== undefined ? `${plural(t.packets, 'packet')}` : '';
		const who = t.run ? `tracewatch run ${t.run}${t.running === false ? ' (process gone)' : t.running ? ' (running)' : ''}` : 'not tracewatch';
		out.push(`  ${t.backend} ${fam} ${t.table} ${t.chain}${t.pos !== undefined ? ` #${t.pos}` : ''}  ${count ? `${count}  ` : ''}${who}`);
		out.push(`    ${style.dim(t.rule)}`);
	}

	head('Why a trace would be empty here');
	const shown = r.problems.filter(p => p.id !== 'not-root');
	if (!shown.some(p => p.severity !== 'info')) out.push(`  ${style.green('nothing here would keep a trace empty')}${shown.length ? '; worth knowing:' : ''}`);
	for (const p of shown) {
		const mark = p.severity === 'error' ? style.red('✗') : p.severity === 'warning' ? style.yellow('!') : '·';
		out.push(`  ${mark} ${p.message}`);
		if (p.fix) out.push(`      fix: ${style.cyan(p.fix)}`);
	}

	head('Capture on this host');
	for (const b of r.capture.before) out.push(`  first, ${b}`);
	out.push(`  ${style.cyan(r.capture.command)}`);
	for (const a of r.capture.alternatives ?? []) out.push(`  or ${style.cyan(a)}`);
	out.push(`  (ADDRESS: the client or server you are debugging; add -p tcp --dport PORT to narrow it, --ipv6 for IPv6, --dry-run to see the commands)`);
	out.push(`  TRACE rules already in place? Watch only: ${r.capture.watchOnly}`);

	if (r.unchecked.length > 0) {
		head('Not checked');
		for (const u of r.unchecked) out.push(`  ${u}`);
		if (!r.host.root) out.push('  run "sudo tracewatch doctor" to check everything');
	}
	return out.join('\n');
}
