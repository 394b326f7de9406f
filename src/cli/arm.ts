/**
 * `tracewatch arm [filters]` and `tracewatch disarm`.
 *
 * arm inserts tagged, rate-limited TRACE rules rule by rule with the backend's own tool, stays in
 * the foreground, and removes exactly its rules when it stops: at the end of --for, on SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT, on an uncaught error, and at process exit. disarm removes every
 * tagged rule any run left behind (after kill -9, a reboot of the process, a lost terminal).
 */
import {parseArgs} from 'node:util';
import {chooseBackend, type BackendRequest} from '../ops/backend.js';
import {formatCommand, shellQuote, systemRunner} from '../ops/exec.js';
import {describeFilter, FilterError, formatDuration, isUnfiltered, parseDuration, parseFilter, parseLimit, type IpFamily, type RateLimit, type TraceFilter} from '../ops/filters.js';
import {describeRule, disarmAll, TraceArm, type Removal} from '../ops/firewall.js';
import {inspectHost, nfLogFor, runState, type HostFacts} from '../ops/host.js';
import {CAP_NET_ADMIN, hasCap, systemProbe, type Probe} from '../ops/probe.js';
import {buildTraceRules, deleteArgs, familyName, insertArgs, iptablesTool, makeRunId, runIdOf, type Backend, type TraceRuleSpec} from '../ops/rules.js';
import {argumentError, EXIT, stdout, UsageError, warn} from './terminal.js';

export const FILTER_HELP = `Filters (at least one, or --all):
  --src CIDR          source address or network (198.18.0.10, 2001:db8::/64); no host names
  --dst CIDR          destination address or network
  -p, --proto PROTO   tcp, udp, icmp, icmpv6, sctp, dccp, udplite, esp, ah, gre, or a number
  --dport PORT        destination port or range 8000:8080 (needs -p tcp, udp, sctp or dccp)
  --sport PORT        source port or range
  -i, --iface IF      interface: incoming in PREROUTING, outgoing in OUTPUT ("eth+": every eth*)
  --both              also trace the way back (addresses and ports swapped): requests and replies
  --all               no filter at all: every packet is traced (rate-limited still)

Backend and safety:
  --backend B         auto (default), legacy or nft. auto takes the backend that holds the rules
                      and refuses to guess when both legacy and nft do
  -6, --ipv6          IPv6 (ip6tables-legacy / ip6tables-nft); implied by IPv6 addresses
  --limit RATE        trace at most RATE packets per rule: 10/s (default), 100/min, or none
  --burst N           packets traced at once before the limit applies (default: twice the rate)
  --dry-run           print the exact commands, change nothing (works without root)`;

export const ARM_HELP = `Usage: sudo tracewatch arm [filters] [options]

Inserts TRACE rules at the top of raw PREROUTING (packets arriving) and raw OUTPUT (packets this
host sends), one rule at a time with the backend's own tool (iptables-legacy or iptables-nft,
never "iptables" and never a whole-ruleset restore). Each rule carries the comment
"tracewatch:<run id>" and a rate limit. arm stays in the foreground, prints how to watch the
trace, and removes exactly its rules at the end of --for, on Ctrl-C, SIGTERM or SIGHUP, and on
any error. "tracewatch live" does arm + watch + disarm in one command.

${FILTER_HELP}
  --for DURATION      remove the rules after 90s, 5m, 1h… (default 10m; 0: until stopped)
  -h, --help

Examples:
  sudo tracewatch arm --src 198.18.0.10 -p tcp --dport 443 --for 2m
  sudo tracewatch arm --backend legacy --dst 10.96.0.10 -p udp --dport 53 --both --dry-run
  sudo tracewatch disarm          # after a kill -9: removes every rule any run left

Exit status: 0 done; 1 a rule could not be inserted or removed (the message gives the command to
remove it by hand); 2 usage error, not root, or both backends hold rules and --backend is missing.`;

export const DISARM_HELP = `Usage: sudo tracewatch disarm [--backend auto|legacy|nft] [--run ID] [--dry-run]

Removes every TRACE rule tracewatch inserted (comment "tracewatch:<run id>"), whatever run left it:
after a kill -9, a crash or a lost session. Looks in iptables-legacy and iptables-nft, IPv4 and
IPv6 (--backend narrows it), only in tables that exist (nothing is created), removes each rule by
its full specification, lists what it removed, and checks that none is left.

Options:
  --backend B   auto (default: both backends), legacy or nft
  --run ID      only the rules of this run (the part after "tracewatch:")
  --dry-run     print the commands, change nothing
  -h, --help

Exit status: 0 no tracewatch rule is left; 1 a rule could not be removed; 2 usage error or not root.`;

/** The option table shared by arm and live. */
export const TRACE_OPTIONS = {
	backend: {type: 'string'},
	src: {type: 'string'},
	dst: {type: 'string'},
	proto: {type: 'string', short: 'p'},
	dport: {type: 'string'},
	sport: {type: 'string'},
	iface: {type: 'string', short: 'i'},
	ipv6: {type: 'boolean', short: '6'},
	both: {type: 'boolean'},
	all: {type: 'boolean'},
	for: {type: 'string'},
	limit: {type: 'string'},
	burst: {type: 'string'},
	'dry-run': {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
} as const;

export interface TraceOptionValues {
	backend?: string | undefined;
	src?: string | undefined;
	dst?: string | undefined;
	proto?: string | undefined;
	dport?: string | undefined;
	sport?: string | undefined;
	iface?: string | undefined;
	ipv6?: boolean | undefined;
	both?: boolean | undefined;
	all?: boolean | undefined;
	for?: string | undefined;
	limit?: string | undefined;
	burst?: string | undefined;
	'dry-run'?: boolean | undefined;
}

export interface TraceRequest {
	readonly filter: TraceFilter;
	readonly limit: RateLimit;
	readonly backend: BackendRequest;
	/** Milliseconds; 0: until stopped. */
	readonly forMs: number;
	readonly dryRun: boolean;
}

/** Checks the filters and limits (usage errors, exit 2), before anything is inspected or changed. */
export function traceRequest(values: TraceOptionValues, defaultForMs: number, command: string): TraceRequest {
	try {
		const backend = (values.backend ?? 'auto') as BackendRequest;
		if (!['auto', 'legacy', 'nft'].includes(backend)) throw new FilterError(`--backend must be auto, legacy or nft, not "${values.backend}"`);
		const filter = parseFilter(values);
		if (isUnfiltered(filter) && !values.all) {
			throw new FilterError(
				`no filter given: every ${familyName(filter.family)} packet would be traced. Narrow it (--src, --dst, -p, --dport, --iface) or, if you mean it, add --all\n  e.g. tracewatch ${command} --src 198.18.0.10 -p tcp --dport 443`,
			);
		}
		const limit = parseLimit(values.limit, values.burst);
		const forMs = values.for === undefined ? defaultForMs : parseDuration(values.for);
		return {filter, limit, backend, forMs, dryRun: Boolean(values['dry-run'])};
	} catch (error) {
		if (error instanceof FilterError) throw new UsageError(error.message);
		throw error;
	}
}

/** `ip netns exec NAME ` when running inside a named namespace other than the host's. */
export function netnsPrefix(facts: Pick<HostFacts, 'netns'>): string {
	return facts.netns.initial === false && facts.netns.name ? `ip netns exec ${facts.netns.name} ` : '';
}

export function watchCommand(backend: Backend, family: IpFamily, facts: Pick<HostFacts, 'netns'>): string {
	return backend === 'nft' ? `${netnsPrefix(facts)}xtables-monitor --trace ${family === 'ipv6' ? '-6' : '-4'} | tracewatch` : `dmesg -W | grep --line-buffered 'TRACE:' | tracewatch`;
}

export function notRoot(command: string): number {
	warn(`tracewatch: ${command} changes the firewall and needs root (CAP_NET_ADMIN). Run it as root: sudo tracewatch ${command} …\n(--dry-run prints the commands without root; "tracewatch doctor" works without root.)`);
	return EXIT.usage;
}

export interface ArmPlan {
	readonly probe: Probe;
	readonly facts: HostFacts;
	readonly backend: Backend;
	readonly reason: string;
	readonly runId: string;
	readonly rules: readonly TraceRuleSpec[];
}

/** Inspects the host and picks the backend. Returns an exit code when it must stop here. */
export function planArm(request: TraceRequest, probe: Probe = systemProbe()): ArmPlan | number {
	const family = request.filter.family;
	const facts = inspectHost(probe, {families: [family]});
	const choice = chooseBackend(facts, family, request.backend);
	if (choice.ambiguous) {
		warn(`tracewatch: refusing to guess the backend: ${choice.reason}.`);
		return EXIT.usage;
	}
	let backend = choice.backend;
	let reason = choice.reason;
	if (!backend && request.dryRun) {
		// Show the commands anyway: a dry run is how a user learns what would happen before installing anything.
		backend = request.backend === 'auto' ? 'nft' : request.backend;
		reason = `${choice.reason}; showing ${iptablesTool(backend, family)}'s commands (install it to run them)`;
	}
	if (!backend) {
		warn(`tracewatch: cannot trace: ${choice.reason}`);
		return EXIT.inputErrors;
	}
	const runId = makeRunId(new Date(), probe.pid);
	return {probe, facts, backend, reason, runId, rules: buildTraceRules(request.filter, backend, runId, request.limit)};
}

/** Warnings worth reading before the rules go in. */
export function preflightWarnings(plan: ArmPlan, request: TraceRequest): string[] {
	const out: string[] = [];
	if (isUnfiltered(request.filter)) out.push(`WARNING: --all: every ${familyName(request.filter.family)} packet is traced${request.limit.rate ? ` (at most ${request.limit.rate} per rule)` : ', with no rate limit: this can flood the log and slow the host'}.`);
	else if (!request.limit.rate) out.push('WARNING: --limit none: every matching packet is traced; a busy flow can flood the log.');
	const left = plan.facts.runs.filter(r => r.running === false);
	if (left.length > 0) out.push(`note: TRACE rules left by earlier runs are still in place (${left.map(r => r.runId).join(', ')}); "tracewatch disarm" removes them.`);
	if (plan.backend === 'legacy') {
		const e = nfLogFor(plan.facts, request.filter.family);
		const logger = request.filter.family === 'ipv6' ? 'nf_log_ipv6' : 'nf_log_ipv4';
		if (e && e.bound !== logger && !(e.bound === 'NONE' && !e.registered.includes(logger))) {
			out.push(`WARNING: legacy TRACE lines will not reach the kernel log: net.netfilter.nf_log.${e.pf} is ${e.bound}. Fix: sysctl -w net.netfilter.nf_log.${e.pf}=${logger}`);
		}
		if (plan.facts.netns.initial === false && plan.facts.allNetns.value === 0) {
			out.push(
				"WARNING: this is not the host's initial network namespace and the host has net.netfilter.nf_log_all_netns=0: the kernel drops legacy TRACE lines from here. Fix, on the host: sysctl -w net.netfilter.nf_log_all_netns=1 (set it back afterwards).",
			);
		}
	}
	return out;
}

function ruleLine(rule: TraceRuleSpec): string {
	return `${rule.table} ${rule.chain}: ${rule.spec.map(shellQuote).join(' ')}`;
}

export function reportRemovals(removals: readonly Removal[], runId: string): number {
	const failed = removals.filter(r => r.outcome === 'failed');
	const removed = removals.filter(r => r.outcome === 'removed').length;
	const gone = removals.filter(r => r.outcome === 'gone').length;
	if (removals.length > 0) warn(`tracewatch: removed ${removed} TRACE rule${removed === 1 ? '' : 's'} of run ${runId}${gone ? ` (${gone} already gone: removed by someone else, e.g. tracewatch disarm or a ruleset restore)` : ''}.`);
	for (const f of failed) warn(`tracewatch: could not remove a TRACE rule (${f.error}). Remove it by hand:\n  ${f.command}`);
	return failed.length > 0 ? EXIT.inputErrors : EXIT.ok;
}

export interface Guard {
	/** Resolves with the signal's name on the first SIGINT/SIGTERM/SIGHUP/SIGQUIT. */
	readonly stopped: Promise<NodeJS.Signals>;
	dispose(): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const SIGNAL_EXIT: Record<string, number> = {SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143};

/**
 * Makes every exit path run `lastResort` (synchronous): the first signal asks for an orderly
 * stop, a second one removes the rules at once and exits; an uncaught error and process exit
 * remove them too.
 */
export function guardExit(lastResort: () => void): Guard {
	let resolveStop!: (s: NodeJS.Signals) => void;
	const stopped = new Promise<NodeJS.Signals>(resolve => {
		resolveStop = resolve;
	});
	let signals = 0;
	const onSignal = (sig: NodeJS.Signals) => {
		if (++signals === 1) {
			resolveStop(sig);
			return;
		}
		lastResort();
		process.exit(SIGNAL_EXIT[sig] ?? 1);
	};
	const onExit = () => lastResort();
	const onCrash = (error: unknown) => {
		warn(`tracewatch: internal error: ${(error as Error)?.stack ?? String(error)}`);
		lastResort();
		process.exit(70);
	};
	for (const s of SIGNALS) process.on(s, onSignal);
	process.on('exit', onExit);
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);
	return {
		stopped,
		dispose() {
			for (const s of SIGNALS) process.off(s, onSignal);
			process.off('exit', onExit);
			process.off('uncaughtException', onCrash);
			process.off('unhandledRejection', onCrash);
		},
	};
}

function parse<T extends Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}>>(argv: string[], options: T) {
	try {
		return parseArgs({args: argv, options, allowPositionals: false, strict: true});
	} catch (error) {
		throw argumentError(error);
	}
}

export async function arm(argv: string[]): Promise<number> {
	const {values} = parse(argv, TRACE_OPTIONS);
	if (values.help) {
		stdout.write(`${ARM_HELP}\n`);
		return EXIT.ok;
	}
	const request = traceRequest(values, 10 * 60_000, 'arm');
	const probe = systemProbe();
	if (!request.dryRun && !hasCap(probe, CAP_NET_ADMIN)) return notRoot('arm');
	const plan = planArm(request, probe);
	if (typeof plan === 'number') return plan;
	const family = request.filter.family;
	const tool = iptablesTool(plan.backend, family);
	const until = request.forMs > 0 ? `after ${formatDuration(request.forMs)}, ` : '';

	if (request.dryRun) {
		const lines = [
			`# tracewatch arm --dry-run: ${describeFilter(request.filter)}`,
			`# backend ${plan.backend}: ${plan.reason}`,
			`# run ${plan.runId}; nothing below has been run`,
			'# insert:',
			...plan.rules.map(r => formatCommand(tool, insertArgs(r))),
			'# watch, in another terminal:',
			watchCommand(plan.backend, family, plan.facts),
			`# remove (arm does it ${until}on Ctrl-C, SIGTERM or SIGHUP; after a kill -9: tracewatch disarm):`,
			...[...plan.rules].reverse().map(r => formatCommand(tool, deleteArgs(r))),
		];
		stdout.write(`${lines.join('\n')}\n`);
		for (const w of preflightWarnings(plan, request)) warn(`tracewatch: ${w}`);
		return EXIT.ok;
	}

	for (const w of preflightWarnings(plan, request)) warn(`tracewatch: ${w}`);
	const armed = new TraceArm(systemRunner, plan.rules);
	const guard = guardExit(() => {
		const removed = armed.removeAll();
		if (removed.length > 0) reportRemovals(removed, plan.runId);
	});
	try {
		const inserted = armed.insertAll();
		if (!inserted.ok) {
			warn(`tracewatch: could not insert a TRACE rule: ${inserted.error}\n  ${inserted.command}\nNothing is left in place.`);
			reportRemovals(armed.removals, plan.runId);
			return EXIT.inputErrors;
		}
		stdout.write(
			[
				`tracewatch: tracing ${describeFilter(request.filter)} with ${tool} (${plan.reason})`,
				`run ${plan.runId}; inserted:`,
				...plan.rules.map(r => `  ${ruleLine(r)}`),
				'Watch it in another terminal:',
				`  ${watchCommand(plan.backend, family, plan.facts)}`,
				`The rules are removed ${until}on Ctrl-C, SIGTERM or SIGHUP. After a kill -9: tracewatch disarm`,
				'',
			].join('\n'),
		);
		let timer: NodeJS.Timeout | undefined;
		const expired = new Promise<'expired'>(resolve => {
			if (request.forMs > 0) timer = setTimeout(() => resolve('expired'), request.forMs);
		});
		const why = await Promise.race([guard.stopped, expired]);
		if (timer) clearTimeout(timer);
		warn(`tracewatch: ${why === 'expired' ? `--for ${formatDuration(request.forMs)} is over` : `${why}`}: removing the TRACE rules.`);
		return reportRemovals(armed.removeAll(), plan.runId);
	} finally {
		armed.removeAll();
		guard.dispose();
	}
}

export async function disarm(argv: string[]): Promise<number> {
	const {values} = parse(argv, {
		backend: {type: 'string'},
		run: {type: 'string'},
		'dry-run': {type: 'boolean'},
		help: {type: 'boolean', short: 'h'},
	});
	if (values.help) {
		stdout.write(`${DISARM_HELP}\n`);
		return EXIT.ok;
	}
	const backend = values.backend ?? 'auto';
	if (!['auto', 'legacy', 'nft'].includes(backend)) throw new UsageError(`--backend must be auto, legacy or nft, not "${backend}"`);
	if (values.run !== undefined && !/^[\w.:-]+$/.test(values.run)) throw new UsageError(`--run must be a run id such as 20261122T053112-4242, not "${values.run}"`);
	const probe = systemProbe();
	if (!hasCap(probe, CAP_NET_ADMIN)) {
		warn('tracewatch: disarm lists and removes firewall rules and needs root (CAP_NET_ADMIN). Run it as root: sudo tracewatch disarm');
		return EXIT.usage;
	}
	const report = disarmAll(probe, {
		...(backend === 'auto' ? {} : {backends: [backend as Backend]}),
		...(values.run !== undefined ? {runId: values.run} : {}),
		dryRun: Boolean(values['dry-run']),
	});
	const out: string[] = [];
	const byRun = new Map<string, typeof report.removals>();
	for (const r of report.removals) {
		const id = runIdOf(r.rule.tag!);
		byRun.set(id, [...(byRun.get(id) ?? []), r]);
	}
	for (const [id, removals] of byRun) {
		const info = runState(probe, id);
		const by = info.pid !== undefined ? ` by process ${info.pid}${info.running ? ', which is still running: it will find its rules gone' : ''}` : '';
		const when = info.armedAt ? `armed ${info.armedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC${by}` : '';
		out.push(`run ${id}${when ? ` (${when})` : ''}:`);
		for (const r of removals) {
			const verb = values['dry-run'] ? 'would remove' : r.outcome === 'removed' ? 'removed' : r.outcome === 'gone' ? 'already gone' : 'FAILED';
			const count = r.rule.counters ? `, ${r.rule.counters.packets} packet${r.rule.counters.packets === 1 ? '' : 's'} traced` : '';
			out.push(`  ${verb}: ${describeRule(r.rule)} #${r.rule.pos}${count}`);
			out.push(`    ${values['dry-run'] ? r.command : r.rule.text}`);
			if (r.outcome === 'failed') out.push(`    ${r.error}; by hand: ${r.command}`);
		}
	}
	const checked = report.listings.map(l => `${l.backend} ${familyName(l.family)}${l.state === 'listed' ? '' : ` (${l.state === 'skipped' ? l.why : `not checked: ${l.why}`})`}`);
	const removed = report.removals.filter(r => r.outcome === 'removed').length;
	if (report.removals.length === 0) out.push(`no tracewatch rules found${values.run ? ` for run ${values.run}` : ''}.`);
	else if (values['dry-run']) out.push(`${report.removals.length} rule${report.removals.length === 1 ? '' : 's'} would be removed (dry run: nothing changed).`);
	else out.push(`removed ${removed} rule${removed === 1 ? '' : 's'}${report.remaining.length ? `; ${report.remaining.length} still in place` : '; none left'}.`);
	out.push(`checked: ${checked.join(', ')}`);
	stdout.write(`${out.join('\n')}\n`);
	const failedListing = report.listings.filter(l => l.state === 'failed');
	for (const l of failedListing) warn(`tracewatch: could not list ${l.backend} ${familyName(l.family)} rules: ${l.why}`);
	if (report.remaining.length > 0 || report.removals.some(r => r.outcome === 'failed') || failedListing.length > 0) return EXIT.inputErrors;
	return EXIT.ok;
}
