/**
 * `tracewatch arm [filters]` and `tracewatch disarm`.
 *
 * arm inserts tagged, rate-limited TRACE rules rule by rule with the backend's own tool, stays in
 * the foreground, and removes exactly its rules when it stops: at the end of --for, on SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT, on an uncaught error, and at process exit. disarm removes every
 * tagged rule any run left behind (after kill -9, a reboot of the process, a lost terminal).
 */
import {parseArgs} from 'node:util';
import {formatCommand, shellQuote, systemRunner} from '../ops/exec.js';
import {describeFilter, formatDuration} from '../ops/filters.js';
import {describeRule, disarmAll, TraceArm} from '../ops/firewall.js';
import {runState} from '../ops/host.js';
import {CAP_NET_ADMIN, hasCap, systemProbe} from '../ops/probe.js';
import {deleteArgs, familyName, insertArgs, iptablesTool, runIdOf, type Backend, type TraceRuleSpec} from '../ops/rules.js';
import {argumentError, EXIT, signalExit, stdout, UsageError, warn} from './terminal.js';
import {FILTER_HELP, guardExit, notRoot, planArm, preflightWarnings, reportRemovals, TRACE_OPTIONS, traceRequest, watchCommand} from './tracing.js';

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

Exit status: 0 done (--for is over and the rules are gone); 1 a rule could not be inserted or
removed (the message gives the command to remove it by hand); 2 usage error, not root, or both
backends hold rules and --backend is missing; 128+N after signal N (130 Ctrl-C, 143 SIGTERM), once
the rules are gone.`;

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

function ruleLine(rule: TraceRuleSpec): string {
	return `${rule.table} ${rule.chain}: ${rule.spec.map(shellQuote).join(' ')}`;
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
		const code = reportRemovals(armed.removeAll(), plan.runId);
		return code === EXIT.ok && why !== 'expired' ? signalExit(why) : code;
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
