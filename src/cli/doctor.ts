/**
 * `tracewatch doctor [--format text|json]`: read-only. Explains where TRACE output goes on this
 * host (this network namespace), why a trace would be empty, and the one command to capture.
 * Works without root where it can, and says what it could not check.
 */
import {jsonText, visibleDeep} from '../ui/visible.js';
import {parseArgs} from 'node:util';
import {diagnose, renderDoctor} from '../ops/doctor.js';
import {inspectHost} from '../ops/host.js';
import {systemProbe} from '../ops/probe.js';
import {colors, plain} from '../ui/text.js';
import {argumentError, EXIT, stdout, UsageError} from './terminal.js';

export const DOCTOR_HELP = `Usage: tracewatch doctor [--format text|json]

Looks at this host (this network namespace) and explains, in plain words:
  - which iptables backends hold rules: legacy, nft (iptables-nft), native nftables, or both,
    and what the "iptables" command runs
  - where TRACE output goes: the kernel log through nf_log (/proc/net/netfilter/nf_log), or
    netlink events (xtables-monitor --trace) for iptables-nft; whether this is the host's initial
    network namespace and whether the host lets TRACE lines out of others (nf_log_all_netns)
  - which TRACE rules exist now, who made them and how many packets they traced
  - kernel support (xt_TRACE, nf_log_syslog, nf_tables)
  - why a trace would be empty here, each with its fix, and the exact command to capture.
Changes nothing. Without root it checks what it can and lists what it could not.

Options:
  --format text|json   json: one document (host, backends, output, traceRules, kernel, problems,
                       capture, unchecked)
  --color / --no-color
  -h, --help

Exit status: 0 report printed; 2 usage error.`;

export async function doctor(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			options: {format: {type: 'string'}, color: {type: 'boolean'}, 'no-color': {type: 'boolean'}, help: {type: 'boolean', short: 'h'}},
		});
	} catch (error) {
		throw argumentError(error);
	}
	const {values} = parsed;
	if (values.help) {
		stdout.write(`${DOCTOR_HELP}\n`);
		return EXIT.ok;
	}
	const format = values.format ?? 'text';
	if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
	const report = diagnose(inspectHost(systemProbe()));
	if (format === 'json') {
		stdout.write(`${jsonText(report, 2)}\n`);
		return EXIT.ok;
	}
	const color = values['no-color'] ? false : values.color ? true : stdout.color;
	stdout.write(`${renderDoctor(visibleDeep(report), color ? colors : plain)}\n`);
	return EXIT.ok;
}
