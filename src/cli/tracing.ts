/**
 * Arming TRACE rules, as `tracewatch arm` and `tracewatch live` both do: the filter options and
 * what they ask for, the plan (which backend, which rules, what to warn about), the report of
 * what was removed, and the guard that removes the rules on every way out of the process.
 *
 * Input:  `--src 198.18.0.10 -p tcp --dport 443` (parsed option values)
 * Output: a TraceRequest, then an ArmPlan: backend, run id, the tagged rules to insert
 */
import {chooseBackend, type BackendRequest} from '../ops/backend.js';
import {FilterError, isUnfiltered, parseDuration, parseFilter, parseLimit, type IpFamily, type RateLimit, type TraceFilter} from '../ops/filters.js';
import type {Removal} from '../ops/firewall.js';
import {inspectHost, nfLogFor, type HostFacts} from '../ops/host.js';
import {systemProbe, type Probe} from '../ops/probe.js';
import {buildTraceRules, familyName, iptablesTool, makeRunId, type Backend, type TraceRuleSpec} from '../ops/rules.js';
import {EXIT, signalExit, UsageError, warn} from './terminal.js';

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
		process.exit(signalExit(sig));
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

