/**
 * `tracewatch [replay] [FILE...] [--rules FILE]... [--format text|json|ndjson]`
 *
 * Reads trace text from files or stdin, rebuilds packets, joins them to the saved rulesets and
 * prints them: text blocks or ndjson as packets complete, or one JSON document at the end.
 */
import {parseArgs} from 'node:util';
import {readTraceLines} from '../parser/line-stream.js';
import type {Ruleset} from '../parser/ruleset.js';
import {TraceSession} from '../model/session.js';
import type {Packet} from '../model/types.js';
import {packetJson, reportJson} from '../ui/json.js';
import {colors, plain, renderPacket, renderSummary} from '../ui/text.js';
import {EXIT, InputError, loadRules, openInput, reportRulesetProblems, stdout, UsageError, warn} from './io.js';

export const REPLAY_HELP = `Usage: tracewatch [replay] [FILE...] [options]

Rebuilds each packet from netfilter trace text and shows the path it took through tables and
chains, the rule that matched at each hop, its NAT, final chain, verdict, IN/OUT interfaces, and
whether a reply was seen. Reads FILE(s), or standard input when no FILE (or "-") is given.

Trace text it reads, in any mix, line by line:
  kernel TRACE and -j LOG lines: dmesg, dmesg -T/-r/-x/-d/--time-format iso, /dev/kmsg,
    journalctl -k (-o short, short-precise, short-iso, short-iso-precise, short-monotonic…),
    kern.log / syslog (RFC 3164 and RFC 3339), IPv4 and IPv6
  xtables-monitor --trace (iptables-nft), nft monitor trace
  .gz files are read transparently

Options:
  --rules FILE        an iptables-save / ip6tables-save / iptables -S dump taken when the trace
                      was (repeatable: one per family or table). Joins rule:N to the rule text.
  --format FORMAT     text (default), json (one document at the end), ndjson (one packet per
                      line as packets complete)
  --window SECONDS    longest gap between two lines of one packet (default 1)
  --strict            exit 1 when any trace line could not be parsed
  --color / --no-color
  -h, --help

Examples:
  tracewatch replay trace.log --rules node.save
  dmesg -wT | grep --line-buffered TRACE | tracewatch --format text
  journalctl -k -o short-precise | tracewatch --format json > packets.json
  tracewatch kern.log.1.gz --rules iptables.save --rules ip6tables.save --format ndjson | jq .verdict

Exit status: 0 done; 1 input problems (with --strict: any unparsed line; always: a rules dump
with unreadable lines); 2 usage error (unknown option, missing file).`;

type Format = 'text' | 'json' | 'ndjson';

export async function replay(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				rules: {type: 'string', multiple: true},
				format: {type: 'string'},
				window: {type: 'string'},
				strict: {type: 'boolean'},
				color: {type: 'boolean'},
				'no-color': {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
			},
		});
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const {values, positionals} = parsed;
	if (values.help) {
		stdout.write(`${REPLAY_HELP}\n`);
		return EXIT.ok;
	}
	const format = (values.format ?? 'text') as Format;
	if (!['text', 'json', 'ndjson'].includes(format)) throw new UsageError(`--format must be text, json or ndjson, not "${values.format}"`);
	const windowSeconds = values.window === undefined ? 1 : Number(values.window);
	if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw new UsageError(`--window must be a positive number of seconds, not "${values.window}"`);
	const color = values['no-color'] ? false : values.color ? true : stdout.color;
	const style = color ? colors : plain;

	const rulesets: Ruleset[] = (values.rules ?? []).map(loadRules);
	let ruleProblems = 0;
	for (const rs of rulesets) {
		ruleProblems += reportRulesetProblems(rs);
		if (rs.format === 'empty' && rs.problems.length === 0) warn(`${rs.path}: no tables, chains or rules found: is it an iptables-save or iptables -S dump?`);
	}

	const files = positionals.length > 0 ? positionals : ['-'];
	// Open every input before reading any, so a missing file is a usage error before output starts.
	const opened = files.map(f => ({path: f === '-' ? '(stdin)' : f, ...openInput(f)}));
	if (opened.some(o => o.path === '(stdin)') && process.stdin.isTTY) {
		warn('tracewatch: reading trace lines from the terminal; pipe them in (dmesg -wT | grep --line-buffered TRACE | tracewatch) or give a FILE. --help shows more.');
	}

	const session = new TraceSession({rules: rulesets, windowSeconds});
	const all: Packet[] = [];
	const emit = (packets: Packet[]) => {
		for (const p of packets) {
			if (format === 'ndjson') stdout.write(`${JSON.stringify(packetJson(p, session.inputs))}\n`);
			else if (format === 'text') stdout.write(`${renderPacket(p, session.inputs, style)}\n\n`);
			else all.push(p);
		}
	};

	for (const input of opened) {
		const index = session.addInput(input.path);
		const live = input.path === '(stdin)';
		let lastLine = Date.now();
		let dirty = false;
		// Live input: a packet is complete once its lines stop coming; flush 50 ms after the last line.
		const timer = live
			? setInterval(() => {
					if (dirty && Date.now() - lastLine >= 50) {
						dirty = false;
						emit(session.quiet());
					}
				}, 25)
			: undefined;
		try {
			await readTraceLines(input.stream, index, line => {
				emit(session.ingest(line));
				if (line.kind === 'unparsed' && format !== 'json') {
					const u = session.unparsed[session.unparsed.length - 1];
					if (u && session.unparsedCount <= 20) warn(`${u.path}:${u.line}:${u.column}: ${u.reason}`);
				}
				lastLine = Date.now();
				dirty = true;
			});
		} catch (error) {
			throw new InputError(`${input.path}: ${(error as Error).message}`);
		} finally {
			if (timer) clearInterval(timer);
		}
	}
	emit(session.end());

	if (format === 'json') {
		all.sort((a, b) => a.id - b.id);
		stdout.write(`${JSON.stringify(reportJson({inputs: session.inputs, packets: all, graph: session.graph(), findings: [], unparsed: session.unparsed}), null, 2)}\n`);
	} else if (format === 'text') {
		stdout.write(
			`${renderSummary({inputs: session.inputs, completed: session.completed, unparsed: session.unparsed, unparsedCount: session.unparsedCount, rulesLoaded: rulesets.length}, style)}\n`,
		);
	} else if (session.unparsedCount > 20) {
		warn(`… ${session.unparsedCount - 20} more unparsed line(s)`);
	}

	if (values.strict && session.unparsedCount > 0) return EXIT.inputErrors;
	if (ruleProblems > 0) return EXIT.inputErrors;
	return EXIT.ok;
}
