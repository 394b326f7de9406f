/**
 * `tracewatch explain` run as a user runs it (the built program): the command contract of
 * issue 16, its text and JSON, usage errors and exit codes.
 */
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'vitest';
import {OutputWatch, within} from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = {...process.env, NO_COLOR: '1', FORCE_COLOR: ''};

async function run(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
	const watch = new OutputWatch(spawn(process.execPath, ['bin/tracewatch.js', 'explain', ...args], {cwd: root, env, timeout: 60_000, killSignal: 'SIGKILL'}));
	watch.child.stdin!.end();
	const {code} = await within(watch.exited, {what: `explain ${args.join(' ')} to exit`, timeoutMs: 60_000, show: () => watch.show()});
	return {code, stdout: watch.stdout(), stderr: watch.stderr()};
}

const DIR = 'testdata/dmesg/fwd-dnat-masq';
const SYN = ['--rules', `${DIR}/iptables.save`, '--proto', 'tcp', '--src', '198.18.10.2:40990', '--dst', '198.18.30.10:80', '--in', 'eth0', '--out', 'eth1'];

describe.concurrent('tracewatch explain', () => {
	it('--help shows both forms of the command, and the top-level help lists it', async ({expect}) => {
		const [help, top] = await Promise.all([run(['--help']), new Promise<string>((resolve, reject) => {
			const child = spawn(process.execPath, ['bin/tracewatch.js', '--help'], {cwd: root, env});
			let out = '';
			child.stdout.on('data', (d: Buffer) => (out += d.toString()));
			child.on('error', reject);
			child.on('close', () => resolve(out));
		})]);
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('tracewatch explain --rules FILE --trace TRACEFILE [--format text|json]');
		expect(help.stdout).toContain('--from-host');
		expect(top).toMatch(/^ {2}explain {4}predict a packet's path/m);
	});

	it('every example of --help on bundled data runs as written', async ({expect}) => {
		const help = (await run(['--help'])).stdout;
		const commands = help
			.replace(/ \\\n\s+/g, ' ')
			.split('\n')
			.map(l => l.trim())
			.filter(l => l.startsWith('tracewatch explain ') && l.includes('testdata/'));
		expect(commands).toHaveLength(4);
		const results = await Promise.all(commands.map(c => run(c.split(/\s+/).slice(2))));
		results.forEach((r, i) => {
			expect(r.code, commands[i]).toBe(0);
			expect(r.stderr, commands[i]).toBe('');
		});
		expect(results[0]!.stdout).toContain('final nat:POSTROUTING:policy:3 → ACCEPT');
		expect(results[1]!.stdout).toMatch(/^#2 {2}TCP 198\.18\.20\.2:8080 → 198\.18\.10\.2:40990 \[SYN ACK\]/m);
		expect(results[2]!.stdout).toContain('branches (2)');
		expect(results[3]!.stdout).toContain('7 of 8 traced packet(s) agree');
	});

	it('text: the path, the NAT, the final hop and verdict', async ({expect}) => {
		const r = await run(SYN);
		expect(r.code).toBe(0);
		expect(r.stderr).toBe('');
		expect(r.stdout).toContain('#1  TCP 198.18.10.2:40990 → 198.18.30.10:80 [SYN]   predicted from the dump');
		expect(r.stdout).toContain('    NAT  DNAT 198.18.30.10:80 → 198.18.20.2:8080 at nat:TW-SERVICES:rule:1');
		expect(r.stdout).toContain('      filter:TW-FORWARD:rule:2     ACCEPT');
		expect(r.stdout).toContain('    final nat:POSTROUTING:rule:1 → ACCEPT');
	});

	it('JSON: {"tracewatch": 1, "explained": […]} with the contract names', async ({expect}) => {
		const r = await run([...SYN, '--format', 'json']);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout) as {tracewatch: number; explained: Array<Record<string, unknown>>};
		expect(doc.tracewatch).toBe(1);
		expect(doc.explained).toHaveLength(1);
		expect(doc.explained[0]).toMatchObject({src: '198.18.10.2', dst: '198.18.30.10', proto: 'TCP', spt: 40990, dpt: 80, ipId: null, in: 'eth0', out: 'eth1', verdict: 'ACCEPT', uncertain: []});
		expect(doc.explained[0]!['final']).toEqual({table: 'nat', chain: 'POSTROUTING', kind: 'rule', num: 1});
		expect(doc.explained[0]).not.toHaveProperty('agrees');
	});

	it('--reply: the connection\'s first packet, then its reply with the NAT undone', async ({expect}) => {
		const r = await run([...SYN, '--reply', '--format', 'json']);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout) as {explained: Array<Record<string, unknown>>};
		expect(doc.explained).toHaveLength(2);
		expect(doc.explained[1]).toMatchObject({src: '198.18.20.2', spt: 8080, dst: '198.18.10.2', dpt: 40990, in: 'eth1', out: 'eth0', verdict: 'ACCEPT', state: 'established'});
		expect(doc.explained[1]!['nat']).toEqual([{type: 'conntrack', at: 'POSTROUTING (conntrack)', from: '198.18.20.2:8080', to: '198.18.30.10:80', seen: 'connection'}]);
		expect(doc.explained[1]!['final']).toEqual({table: 'mangle', chain: 'POSTROUTING', kind: 'policy', num: 1});
	});

	it('--trace: every packet predicted and compared, the agreement at the end', async ({expect}) => {
		const [text, json] = await Promise.all([run(['--rules', `${DIR}/iptables.save`, '--trace', `${DIR}/dmesg-T.log`]), run(['--rules', `${DIR}/iptables.save`, '--trace', `${DIR}/dmesg-T.log`, '--format', 'json'])]);
		expect(text.code).toBe(0);
		expect(text.stdout.trimEnd().split('\n').at(-1)).toBe("10 of 10 traced packet(s) agree with the dump's prediction (100 %)");
		const doc = JSON.parse(json.stdout) as {explained: Array<{traced: number; agrees: boolean; divergence: unknown}>; agreement: unknown};
		expect(doc.explained.map(e => [e.traced, e.agrees, e.divergence])).toEqual(Array.from({length: 10}, (_, i) => [i + 1, true, null]));
		expect(doc.agreement).toEqual({trace: `${DIR}/dmesg-T.log`, packets: 10, agree: 10});
	});

	it.for<[string[], RegExp]>([
		[[], /explain needs the saved ruleset: --rules/],
		[['--rules', `${DIR}/iptables.save`, '--proto', 'tcp', '--src', '1.2.3.4'], /--dst is missing/],
		[['--rules', `${DIR}/iptables.save`, '--trace', `${DIR}/dmesg.log`, '--src', '1.2.3.4'], /--src describes one packet: give one or the other/],
		[[...SYN.slice(0, 4), '--src', '1.2.3.4:99999', '--dst', '5.6.7.8'], /99999 is no port/],
		[['--rules', `${DIR}/iptables.save`, '--proto', 'icmp', '--src', '1.2.3.4:5', '--dst', '5.6.7.8'], /ICMP has no ports/],
		[[...SYN, '--state', 'open'], /--state must be new, established, related, invalid, untracked/],
		[[...SYN, '--tarce', 'x'], /unknown option --tarce: did you mean --trace\?/],
		[['--rules', `${DIR}/iptables.save`, '--trace', `${DIR}/iptables.save`], /is a saved ruleset, not a trace/],
		[[...SYN, '--reply', '--state', 'established'], /--reply walks the reply of the connection a first packet opens/],
	])('usage error %#: exit 2 and says what to do', async ([args, message], {expect}) => {
		const r = await run(args);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(message);
	});
});
