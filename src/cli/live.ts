/**
 * `tracewatch live [filters]`: arm + watch + disarm in one command.
 *
 * Inserts the same tagged, rate-limited TRACE rules as `arm`, starts the trace source that fits
 * the backend itself (legacy: /dev/kmsg from its end; nft: `xtables-monitor --trace -4|-6`),
 * shows the packets through the shared pipeline (TUI, text, json or ndjson), and on every exit
 * path removes the rules first, then stops the source. Because tracewatch owns the producer,
 * Ctrl-C (or q in the interactive view) stops everything.
 */
import {parseArgs} from 'node:util';
import {formatCommand, systemRunner} from '../ops/exec.js';
import {describeFilter, formatDuration} from '../ops/filters.js';
import {TraceArm} from '../ops/firewall.js';
import {nfLogFor} from '../ops/host.js';
import {followKmsg} from '../ops/kmsg.js';
import {CAP_NET_ADMIN, hasCap, systemProbe} from '../ops/probe.js';
import {startXtablesMonitor, xtablesMonitorArgs} from '../ops/producer.js';
import {deleteArgs, insertArgs, iptablesTool, saveTool} from '../ops/rules.js';
import {parseRuleset, type Ruleset} from '../parser/ruleset.js';
import {colors, plain} from '../ui/text.js';
import {FILTER_HELP, guardExit, notRoot, planArm, preflightWarnings, reportRemovals, TRACE_OPTIONS, traceRequest, type ArmPlan, type TraceRequest} from './tracing.js';
import {argumentError, EXIT, signalExit, stdout, UsageError, warn} from './terminal.js';
import {runPipeline, type Format, type PipelineInput} from './replay.js';

export const LIVE_HELP = `Usage: sudo tracewatch live [filters] [options]

Arms TRACE rules (as "tracewatch arm" does: tagged, rate-limited, rule by rule), follows the
trace itself, shows each packet's path as it happens, and removes the rules when you stop it
(Ctrl-C, q, SIGTERM, SIGHUP, --for, or an error):
  legacy backend: reads the kernel log from /dev/kmsg, starting at its end (no old lines)
  nft backend:    runs xtables-monitor --trace -4 (or -6) and stops it on exit
Refuses to start when the trace would be empty (see "tracewatch doctor") and says how to fix it.

${FILTER_HELP}
  --for DURATION      stop after 90s, 5m, 1h… (default: until stopped)

Output:
  --format FORMAT     tui (default on a terminal), text (default otherwise), json (one document
                      at the end), ndjson (one packet per line)
  --window SECONDS    longest gap between two lines of one packet (default 1)
  --keep N            packets the interactive view keeps (default 5000)
  --color / --no-color
  -h, --help

Examples:
  sudo tracewatch live --src 198.18.0.10
  sudo tracewatch live --dst 10.96.0.10 -p udp --dport 53 --both --format text
  sudo tracewatch live --backend legacy --src 2001:db8::10 --for 30s --format ndjson > trace.ndjson
  sudo ip netns exec NS tracewatch live --src 198.18.0.10     # inside a network namespace

Exit status: 0 done (the rules are gone: --for is over, q or Ctrl-C in the interactive view, the
trace source ended); 1 the trace could not start, the producer failed, or a rule could not be
removed (the message gives the command); 2 usage error, not root, or both backends hold rules and
--backend is missing; 128+N after signal N from outside (130 Ctrl-C in a shell, 143 SIGTERM), once
the rules are gone.`;

interface Source {
	readonly input: PipelineInput;
	readonly describe: string;
	stop(): Promise<void>;
	/** From an exit handler: stop at once. */
	kill(): void;
	/** Why the source ended before it was asked to stop, if it did. */
	failure(): Promise<string | undefined>;
}

async function openSource(plan: ArmPlan, request: TraceRequest): Promise<Source> {
	if (plan.backend === 'legacy') {
		const k = await followKmsg();
		return {
			input: {path: '/dev/kmsg', stream: k.stream, live: true},
			describe: 'the kernel log (/dev/kmsg, new lines only)',
			stop: async () => k.stop(),
			kill: () => k.stop(),
			failure: async () => (k.lost() > 0 ? `${k.lost()} kernel log record(s) were overwritten before they could be read` : undefined),
		};
	}
	const p = await startXtablesMonitor(request.filter.family);
	let stopRequested = false;
	let early: Awaited<typeof p.exited> | undefined;
	void p.exited.then(r => {
		if (!stopRequested) early = r;
	});
	return {
		input: {path: p.command.join(' '), stream: p.stream, live: true},
		describe: p.command.join(' '),
		stop: () => {
			stopRequested = true;
			return p.stop();
		},
		kill: () => p.killNow(),
		failure: async () => {
			const r = early;
			if (!r) return undefined;
			return `xtables-monitor exited${r.code !== null ? ` with status ${r.code}` : ` on ${r.signal}`}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`;
		},
	};
}

/** Conditions under which a legacy trace would certainly be empty: refuse, with the fix. */
function emptyTraceReason(plan: ArmPlan, request: TraceRequest): string | undefined {
	if (plan.backend !== 'legacy') return undefined;
	const facts = plan.facts;
	if (facts.netns.initial === false && facts.allNetns.value === 0) {
		return "this is not the host's initial network namespace, and the host has net.netfilter.nf_log_all_netns=0: the kernel drops legacy TRACE lines from here.\nFix, on the host: sysctl -w net.netfilter.nf_log_all_netns=1   (host-wide: set it back to 0 when done)";
	}
	const e = nfLogFor(facts, request.filter.family);
	const logger = request.filter.family === 'ipv6' ? 'nf_log_ipv6' : 'nf_log_ipv4';
	if (e && (e.bound === 'nfnetlink_log' || (e.bound === 'NONE' && e.registered.includes(logger)))) {
		return `legacy TRACE lines do not go to the kernel log here: net.netfilter.nf_log.${e.pf} is ${e.bound}.\nFix: sysctl -w net.netfilter.nf_log.${e.pf}=${logger}`;
	}
	return undefined;
}

function snapshot(plan: ArmPlan, request: TraceRequest): Ruleset[] {
	// Legacy TRACE lines name rules by position: join them to the ruleset as it is once armed.
	const save = saveTool(plan.backend, request.filter.family);
	const r = systemRunner.run(save, []);
	if (r.code !== 0) return [];
	return [parseRuleset(r.stdout, `${save} (when armed)`)];
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export async function live(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			options: {
				...TRACE_OPTIONS,
				format: {type: 'string'},
				window: {type: 'string'},
				keep: {type: 'string'},
				color: {type: 'boolean'},
				'no-color': {type: 'boolean'},
			},
		});
	} catch (error) {
		throw argumentError(error);
	}
	const {values} = parsed;
	if (values.help) {
		stdout.write(`${LIVE_HELP}\n`);
		return EXIT.ok;
	}
	const request = traceRequest(values, 0, 'live');
	const format = (values.format ?? (stdout.isTTY && !process.env['CI'] ? 'tui' : 'text')) as Format;
	if (!['tui', 'text', 'json', 'ndjson'].includes(format)) throw new UsageError(`--format must be tui, text, json or ndjson, not "${values.format}"`);
	const windowSeconds = values.window === undefined ? 1 : Number(values.window);
	if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw new UsageError(`--window must be a positive number of seconds, not "${values.window}"`);
	const keep = values.keep === undefined ? undefined : Number(values.keep);
	if (keep !== undefined && (!Number.isInteger(keep) || keep < 1)) throw new UsageError(`--keep must be a positive whole number, not "${values.keep}"`);
	const color = values['no-color'] ? false : values.color ? true : stdout.color;

	const probe = systemProbe();
	if (!request.dryRun && !hasCap(probe, CAP_NET_ADMIN)) return notRoot('live');
	const plan = planArm(request, probe);
	if (typeof plan === 'number') return plan;
	const family = request.filter.family;
	const tool = iptablesTool(plan.backend, family);

	if (request.dryRun) {
		const lines = [
			`# tracewatch live --dry-run: ${describeFilter(request.filter)}`,
			`# backend ${plan.backend}: ${plan.reason}`,
			`# run ${plan.runId}; nothing below has been run`,
			'# insert:',
			...plan.rules.map(r => formatCommand(tool, insertArgs(r))),
			'# follow:',
			plan.backend === 'nft' ? formatCommand('xtables-monitor', xtablesMonitorArgs(family)) : 'read /dev/kmsg from its end (TRACE: records only)',
			'# remove, on exit:',
			...[...plan.rules].reverse().map(r => formatCommand(tool, deleteArgs(r))),
		];
		stdout.write(`${lines.join('\n')}\n`);
		return EXIT.ok;
	}

	const empty = emptyTraceReason(plan, request);
	if (empty) {
		warn(`tracewatch: not starting, the trace would be empty: ${empty}\nThen run this again. "tracewatch doctor" explains more.`);
		return EXIT.inputErrors;
	}
	for (const w of preflightWarnings(plan, request)) warn(`tracewatch: ${w}`);

	let source: Source;
	try {
		source = await openSource(plan, request);
	} catch (error) {
		const e = error as NodeJS.ErrnoException;
		warn(`tracewatch: cannot follow the trace: ${e.code === 'EACCES' || e.code === 'EPERM' ? `/dev/kmsg: permission denied (needs root or CAP_SYSLOG)` : e.message}`);
		return EXIT.inputErrors;
	}

	const armed = new TraceArm(systemRunner, plan.rules);
	const guard = guardExit(() => {
		const removed = armed.removeAll();
		if (removed.length > 0) reportRemovals(removed, plan.runId);
		source.kill();
	});
	let timer: NodeJS.Timeout | undefined;
	let stopping: Promise<void> | undefined;
	// While the interactive view is up, messages would land inside it: say them when it is gone.
	let viewUp = false;
	const later: string[] = [];
	const say = (text: string) => (viewUp ? later.push(text) : warn(text));
	const stop = (why: string, sourceEnded = false) => {
		stopping ??= (async () => {
			say(`tracewatch: ${why}: removing the TRACE rules${sourceEnded ? '' : `, then stopping ${source.describe}`}.`);
			armed.removeAll();
			await sleep(300); // lines of packets already in flight
			await source.stop();
		})();
		return stopping;
	};
	try {
		if (plan.backend === 'nft') await sleep(150); // let xtables-monitor subscribe before packets are traced
		const inserted = armed.insertAll();
		if (!inserted.ok) {
			warn(`tracewatch: could not insert a TRACE rule: ${inserted.error}\n  ${inserted.command}\nNothing is left in place.`);
			await source.stop();
			return EXIT.inputErrors;
		}
		const rules = snapshot(plan, request);
		warn(
			`tracewatch: tracing ${describeFilter(request.filter)} with ${tool} (${plan.reason}); run ${plan.runId}, ${armed.armed.length} rule(s); reading ${source.describe}. ${request.forMs > 0 ? `Stops after ${formatDuration(request.forMs)}; ` : ''}Ctrl-C stops and removes the rules.`,
		);
		let signalled: NodeJS.Signals | undefined;
		void guard.stopped.then(sig => {
			signalled = sig;
			return stop(sig);
		});
		if (request.forMs > 0) timer = setTimeout(() => void stop(`--for ${formatDuration(request.forMs)} is over`), request.forMs);

		viewUp = format === 'tui';
		await runPipeline([source.input], {
			format,
			rules,
			windowSeconds,
			...(keep !== undefined ? {keep} : {}),
			exitAtEnd: true,
			style: color ? colors : plain,
			title: `live: ${describeFilter(request.filter)} (${tool})`,
		});

		viewUp = false;
		for (const text of later.splice(0)) warn(text);
		// The pipeline ended: we stopped the source, the view was closed, or the producer died.
		const endedByItself = stopping === undefined;
		if (endedByItself) await stop(format === 'tui' ? 'the view was closed' : `${source.describe} ended`, format !== 'tui');
		else await stopping;
		const failure = await source.failure();
		if (failure) warn(`tracewatch: ${failure}`);
		const code = reportRemovals(armed.removals, plan.runId);
		if (failure && plan.backend === 'nft') return EXIT.inputErrors;
		return code === EXIT.ok && signalled ? signalExit(signalled) : code;
	} finally {
		if (timer) clearTimeout(timer);
		armed.removeAll();
		source.kill();
		guard.dispose();
	}
}
