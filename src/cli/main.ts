/**
 * tracewatch command line: picks the command and turns errors into exit codes.
 */
import {readFileSync} from 'node:fs';
import {EXIT, guardStdout, InputError, stdout, UsageError, warn} from './io.js';
import {replay} from './replay.js';

const HELP = `tracewatch: turn netfilter packet traces into answers

Usage:
  tracewatch [replay] [FILE...] [--rules FILE]... [--format text|json|ndjson]
  tracewatch COMMAND --help

Commands:
  replay     rebuild packets from trace text (the default command)

Start with the bundled example (a pod on a WiFi node whose requests never get a reply):
  tracewatch replay testdata/dmesg/wifi-no-reply/dmesg-T.log --rules testdata/dmesg/wifi-no-reply/iptables.save

Live, on a node with iptables-legacy and a TRACE rule in place:
  dmesg -wT | grep --line-buffered TRACE | tracewatch

Run "tracewatch replay --help" for every option. NO_COLOR is respected.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {replay};

async function main(argv: string[]): Promise<number> {
	const [first, ...rest] = argv;
	if (first === '-h' || first === '--help' || first === 'help') {
		stdout.write(`${HELP}\n`);
		return EXIT.ok;
	}
	if (first === '--version' || first === '-V') {
		const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string};
		stdout.write(`tracewatch ${pkg.version}\n`);
		return EXIT.ok;
	}
	if (first !== undefined && COMMANDS[first]) return COMMANDS[first](rest);
	// No command word: replay FILE... / stdin.
	return replay(argv);
}

guardStdout();
main(process.argv.slice(2)).then(
	code => {
		process.exitCode = code;
	},
	(error: unknown) => {
		if (error instanceof UsageError) {
			warn(`tracewatch: ${error.message}\nRun "tracewatch --help" for usage.`);
			process.exitCode = EXIT.usage;
		} else if (error instanceof InputError) {
			warn(`tracewatch: ${error.message}`);
			process.exitCode = EXIT.inputErrors;
		} else {
			warn(`tracewatch: internal error: ${(error as Error).stack ?? String(error)}`);
			process.exitCode = 70;
		}
	},
);
