/**
 * tracewatch command line: picks the command and turns errors into exit codes.
 */
import {readFileSync} from 'node:fs';
import {EXIT, guardStdout, InputError, stdout, UsageError, warn} from './terminal.js';

const HELP = `tracewatch: turn netfilter packet traces into answers

Usage:
  tracewatch [replay] [FILE...] [--rules FILE]... [--format text|json|ndjson|graph|dot|html|svg]
  tracewatch COMMAND --help

Commands:
  replay     rebuild packets from trace text (the default command)
  rules      lint saved rulesets: stale, duplicate, shadowed, unreferenced rules, TRACE left behind
  diff       compare two nodes' saved rulesets, hiding node-specific noise
  explain    predict a packet's path through a saved ruleset without tracing; --trace compares
  doctor     explain where TRACE output goes on this host and why a trace may be empty
  arm        insert tagged, rate-limited TRACE rules (root); disarm removes them
  disarm     remove every TRACE rule tracewatch inserted
  live       arm + watch + disarm in one command (root)

Start with the bundled example (a pod on a WiFi node whose requests never get a reply):
  tracewatch replay testdata/dmesg/wifi-no-reply/dmesg-T.log --rules testdata/dmesg/wifi-no-reply/iptables.save

Live (root), either backend: arms rate-limited TRACE rules, shows packets, removes the rules on exit:
  sudo tracewatch live --src 198.18.0.10
A TRACE rule already in place (iptables-legacy): dmesg -W | grep --line-buffered TRACE: | tracewatch
TRACE shows nothing? tracewatch doctor

Run "tracewatch replay --help" for every option. NO_COLOR is respected.`;

/** Each command in its own module, loaded only when used. */
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
	replay: async () => (await import('./replay.js')).replay,
	rules: async () => (await import('./rules.js')).rules,
	diff: async () => (await import('./diff.js')).diff,
	explain: async () => (await import('./explain.js')).explain,
	doctor: async () => (await import('./doctor.js')).doctor,
	arm: async () => (await import('./arm.js')).arm,
	disarm: async () => (await import('./arm.js')).disarm,
	live: async () => (await import('./live.js')).live,
};

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
	const command = first === undefined ? undefined : COMMANDS[first];
	if (command) return (await command())(rest);
	// No command word: replay FILE... / stdin.
	return (await COMMANDS['replay']!())(argv);
}

guardStdout();
const words = process.argv.slice(2);
const helpFor = words[0] !== undefined && words[0] in COMMANDS ? `tracewatch ${words[0]} --help` : 'tracewatch --help';
main(words).then(
	code => {
		process.exitCode = code;
	},
	(error: unknown) => {
		if (error instanceof UsageError) {
			warn(`tracewatch: ${error.message}\nRun "${helpFor}" for usage.`);
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
