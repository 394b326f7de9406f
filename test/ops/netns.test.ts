/**
 * doctor, arm, disarm and live on the real kernel, inside network namespaces this test creates.
 * Needs root and iptables (legacy and nft), xtables-monitor, ping; skips with the reason otherwise.
 *
 * The only host-wide setting touched is net.netfilter.nf_log_all_netns (legacy TRACE lines leave
 * a non-initial namespace only when it is 1): saved first, restored in afterAll even on failure.
 * The kernel log is only read (from its end); the packets asserted on are filtered by this run's
 * own addresses, since other activity on the machine shows up there too.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {skipWhen, unreadableForNobody} from '../support/skip.js';
import {within} from '../support/wait.js';
import {Lab, labUnavailable, missingTools, readAllNetns, writeAllNetns} from './netns-lab.js';

const NEEDS = ['iptables-legacy', 'iptables-legacy-save', 'iptables-nft', 'iptables-nft-save', 'ip6tables-legacy-save', 'ip6tables-nft-save', 'ping', 'nsenter'];
const unavailable = labUnavailable(NEEDS);
// Each reason is checked only where the lab itself can run (else the whole file skips, for its own reason).
const noMonitor = unavailable ? undefined : missingTools(['xtables-monitor']);
const noSetpriv = unavailable ? undefined : (missingTools(['setpriv']) ?? unreadableForNobody());


interface PacketJson {
	src: string;
	dst: string;
	proto: string;
	hops: Array<{table: string; chain: string}>;
	verdict: string;
}

function packets(ndjson: string): PacketJson[] {
	return ndjson
		.split('\n')
		.filter(l => l.startsWith('{'))
		.map(l => JSON.parse(l) as PacketJson);
}

interface DoctorJson {
	host: {netns: {initial?: boolean; name?: string}; nfLogAllNetns: {value?: number}};
	backends: {inUse: string; choice: {backend?: string; ambiguous?: boolean}};
	output: {legacy: {reachesKernelLog: boolean | null}};
	traceRules: Array<{run?: string; running?: boolean}>;
	problems: Array<{id: string; severity: string; fix?: string}>;
	capture: {command: string; before: string[]};
	unchecked: string[];
}

describe('doctor, arm, disarm and live on the real kernel', skipWhen(unavailable, 'real-kernel tests of doctor/arm/disarm/live'), () => {
	const lab = new Lab();
	let saved: string | undefined;

	beforeAll(() => {
		saved = readAllNetns();
		writeAllNetns('1');
	});

	afterAll(async () => {
		await lab.cleanup();
		if (saved !== undefined) writeAllNetns(saved);
	});

	async function doctor(ns: string): Promise<DoctorJson> {
		const r = await lab.tracewatch(ns, ['doctor', '--format', 'json']);
		expect(r.code, r.stderr).toBe(0);
		return JSON.parse(r.stdout) as DoctorJson;
	}

	it('doctor tells a namespace whose legacy TRACE lines the host drops (nf_log_all_netns=0) from one it lets out (=1); live refuses the first', async () => {
		const ns = lab.ns('sysctl');
		expect((await lab.run(ns, 'iptables-legacy', ['-w', '5', '-A', 'INPUT', '-s', `${lab.net}.250/32`, '-j', 'DROP'])).code).toBe(0);
		// The setting is host-wide: another program may flip it meanwhile. Retry a few times when it did.
		let checked = false;
		for (let attempt = 0; attempt < 3 && !checked; attempt++) {
			try {
				writeAllNetns('0');
				const [off, refused] = await Promise.all([doctor(ns), lab.tracewatch(ns, ['live', '--src', `${lab.net}.251`, '--format', 'ndjson', '--for', '2s'])]);
				if (readAllNetns() !== '0') continue;
				writeAllNetns('1');
				const on = await doctor(ns);
				if (readAllNetns() !== '1') continue;

				expect(off.host.netns).toMatchObject({initial: false, name: ns});
				expect(off.host.nfLogAllNetns.value).toBe(0);
				expect(off.backends.inUse).toBe('legacy');
				expect(off.output.legacy.reachesKernelLog).toBe(false);
				expect(off.problems[0]).toMatchObject({id: 'netns-log-dropped', severity: 'error'});
				expect(off.capture.before).toEqual(['on the host: sysctl -w net.netfilter.nf_log_all_netns=1   (host-wide: set it back to 0 when done)']);
				expect(off.capture.command).toBe(`ip netns exec ${ns} tracewatch live --backend legacy --src ADDRESS`);
				expect(refused.code, refused.stderr).toBe(1);
				expect(refused.stderr).toMatch(/not starting, the trace would be empty[\s\S]*sysctl -w net\.netfilter\.nf_log_all_netns=1/);

				expect(on.host.nfLogAllNetns.value).toBe(1);
				expect(on.output.legacy.reachesKernelLog).toBe(true);
				expect(on.problems.map(p => p.id)).not.toContain('netns-log-dropped');
				expect(on.capture.before).toEqual([]);
				checked = true;
			} finally {
				writeAllNetns('1');
			}
		}
		expect(checked, 'net.netfilter.nf_log_all_netns kept changing under the test (another program sets it)').toBe(true);
		expect(await lab.tagged(ns)).toEqual([]);
	});

	describe.concurrent('in parallel', () => {
		it('doctor reports none, legacy, nft and both; arm refuses to guess on both and obeys --backend', async () => {
			// One namespace per state, set up with iptables directly, then every command at once.
			const [none, legacyNs, bothNs] = ['bnone', 'bleg', 'bboth'].map(tag => lab.ns(tag)) as [string, string, string];
			const iptables = async (ns: string, tool: string, args: string[]) => expect((await lab.run(ns, tool, ['-w', '5', ...args])).code).toBe(0);
			const legacyRule = ['-A', 'INPUT', '-s', `${lab.net}.240/32`, '-j', 'DROP'];
			const nftRule = ['-A', 'INPUT', '-s', `${lab.net}.241/32`, '-j', 'DROP'];
			await Promise.all([iptables(legacyNs, 'iptables-legacy', legacyRule), iptables(bothNs, 'iptables-legacy', legacyRule), iptables(bothNs, 'iptables-nft', nftRule)]);
			const [empty, legacy, both, refused, dry] = await Promise.all([
				doctor(none),
				doctor(legacyNs),
				doctor(bothNs),
				lab.tracewatch(bothNs, ['arm', '--src', `${lab.net}.242`, '--for', '1s']),
				lab.tracewatch(bothNs, ['arm', '--src', `${lab.net}.242`, '--backend', 'legacy', '--dry-run']),
			]);
			expect(empty.backends).toMatchObject({inUse: 'none', choice: {backend: 'nft'}});
			expect(legacy.backends).toMatchObject({inUse: 'legacy', choice: {backend: 'legacy'}});
			expect(legacy.problems.map(p => p.id)).toContain('iptables-command-mismatch');
			expect(both.backends).toMatchObject({inUse: 'both', choice: {ambiguous: true}});
			expect(both.problems.map(p => p.id)).toContain('both-backends');
			expect(refused.code).toBe(2);
			expect(refused.stderr).toMatch(/refusing to guess the backend: both backends hold IPv4 rules[\s\S]*--backend legacy or --backend nft/);
			expect(dry.code, dry.stderr).toBe(0);
			expect(dry.stdout).toContain('iptables-legacy -w 5 -t raw -I PREROUTING 1');

			// The legacy rule goes again: what is left is read as nft.
			await iptables(bothNs, 'iptables-legacy', ['-D', ...legacyRule.slice(1)]);
			const nft = await doctor(bothNs);
			expect(nft.backends).toMatchObject({inUse: 'nft', choice: {backend: 'nft'}});
			expect(nft.problems.map(p => p.id)).toContain('nft-no-kernel-log');
			expect(nft.capture.command).toBe(`ip netns exec ${bothNs} tracewatch live --backend nft --src ADDRESS`);
			const tagged = await Promise.all([none, legacyNs, bothNs].map(ns => lab.tagged(ns)));
			expect(tagged.flat()).toEqual([]);
		});

		it('arm --dry-run prints the exact commands and changes nothing; no filter needs --all', async () => {
			const ns = lab.ns('dry');
			const [r, all] = await Promise.all([lab.tracewatch(ns, ['arm', '--src', `${lab.net}.7`, '-p', 'tcp', '--dport', '443', '--dry-run']), lab.tracewatch(ns, ['arm', '--dry-run'])]);
			expect(r.code, r.stderr).toBe(0);
			const lines = r.stdout.split('\n').filter(l => l.startsWith('iptables-'));
			expect(lines).toHaveLength(4);
			expect(lines[0]).toMatch(
				new RegExp(`^iptables-nft -w 5 -t raw -I PREROUTING 1 -s ${lab.net.replace(/\./g, '\\.')}\\.7/32 -p tcp -m tcp --dport 443 -m comment --comment tracewatch:\\d{8}T\\d{6}-\\d+ -m limit --limit 10/second --limit-burst 20 -j TRACE$`),
			);
			expect(lines[3]).toMatch(/^iptables-nft -w 5 -t raw -D PREROUTING /);
			expect((await lab.run(ns, 'nft', ['list', 'tables'])).stdout.trim()).toBe('');
			expect(all.code).toBe(2);
			expect(all.stderr).toMatch(/no filter given: every IPv4 packet would be traced[\s\S]*--all/);
		});

		for (const backend of ['legacy', 'nft'] as const) {
			it(`${backend}: live shows the packets, and Ctrl-C leaves no tagged rule`, skipWhen(backend === 'nft' ? noMonitor : undefined, 'the nft live test'), async () => {
				const {client, server, clientAddr, serverAddr} = lab.pair(backend === 'legacy' ? 'll' : 'ln', backend === 'legacy' ? 10 : 20, backend === 'legacy' ? 11 : 21);
				const live = lab.start(server, ['live', '--backend', backend, '--src', clientAddr, '-p', 'icmp', '--format', 'ndjson']);
				try {
					await live.waitFor(/tracing ICMP from/, {where: 'stderr'});
					// Pings go on until live has shown two of them: however long arming and reading take.
					const ping = lab.spawn(client, 'ping', ['-i', '0.2', '-s', '321', serverAddr]);
					const mine = () => packets(live.stdout()).filter(p => p.src === clientAddr && p.dst === serverAddr);
					try {
						await live.waitFor(() => mine().length >= 2, {what: `two ICMP packets ${clientAddr} → ${serverAddr} in the ndjson`});
					} finally {
						ping.child.kill('SIGINT');
					}
					const seen = mine();
					expect(seen[0]!.hops[0]).toMatchObject({table: 'raw', chain: 'PREROUTING'});
					expect(seen[0]!.verdict).toBe('ACCEPT');
					expect(await lab.tagged(server)).toHaveLength(2);
				} finally {
					live.child.kill('SIGINT');
				}
				const done = await within(live.exited, {what: 'live to stop after SIGINT', timeoutMs: 30_000, show: () => live.show()});
				// 128 + SIGINT, once the rules are gone.
				expect(done).toEqual({code: 130, signal: null});
				expect(live.stderr()).toMatch(/SIGINT: removing the TRACE rules[\s\S]*removed 2 TRACE rules of run/);
				expect(await lab.tagged(server)).toEqual([]);
				// Nothing tracewatch started (xtables-monitor) is left running in the namespace.
				expect(lab.pids(server)).toEqual([]);
			});

			it(`${backend}: kill -9 of arm leaves its rules; disarm removes them and lists what it removed`, async () => {
				const ns = lab.ns(backend === 'legacy' ? 'kl' : 'kn');
				const a = lab.start(ns, ['arm', '--backend', backend, '--dst', `${lab.net}.30`, '-p', 'udp', '--dport', '53', '--both']);
				try {
					await a.waitFor(/The rules are removed/, {where: 'stdout'});
				} finally {
					a.child.kill('SIGKILL');
				}
				await a.exited;
				expect(await lab.tagged(ns)).toHaveLength(4);
				if (backend === 'legacy') {
					const doc = await doctor(ns);
					expect(doc.problems.find(p => p.id === 'left-behind')).toMatchObject({fix: 'tracewatch disarm'});
					expect(doc.traceRules.every(t => t.running === false)).toBe(true);
				}

				const r = await lab.tracewatch(ns, ['disarm']);
				expect(r.code, r.stderr).toBe(0);
				expect(r.stdout).toMatch(/^run \d{8}T\d{6}-\d+ \(armed .* UTC by process \d+\):$/m);
				expect(r.stdout.match(/^ {2}removed: /gm)).toHaveLength(4);
				expect(r.stdout).toContain(`removed 4 rules; none left.`);
				expect(await lab.tagged(ns)).toEqual([]);
				if (backend === 'nft') {
					const again = await lab.tracewatch(ns, ['disarm']);
					expect(again.code).toBe(0);
					expect(again.stdout).toContain('no tracewatch rules found.');
				}
			});
		}

		it('arm removes its rules when --for expires (legacy, IPv6) and on SIGTERM (nft)', async () => {
			const ns = lab.ns('exp');
			const timed = lab.start(ns, ['arm', '--backend', 'legacy', '--src', '2001:db8:7::1', '--for', '1s']);
			expect(await timed.exited).toEqual({code: 0, signal: null});
			expect(timed.stdout()).toMatch(/tracing all IPv6 from 2001:db8:7::1\/128 with ip6tables-legacy/);
			expect(timed.stderr()).toMatch(/--for 1s is over: removing the TRACE rules[\s\S]*removed 2 TRACE rules/);
			expect(await lab.tagged(ns)).toEqual([]);

			const term = lab.start(ns, ['arm', '--backend', 'nft', '-p', 'tcp', '--dport', '8080']);
			await term.waitFor(/The rules are removed/, {where: 'stdout'});
			expect(await lab.tagged(ns)).toHaveLength(2);
			term.child.kill('SIGTERM');
			expect(await term.exited).toEqual({code: 143, signal: null});
			expect(term.stderr()).toMatch(/SIGTERM: removing the TRACE rules[\s\S]*removed 2 TRACE rules/);
			expect(await lab.tagged(ns)).toEqual([]);
		});

		it('without root: doctor says what it could not check; arm, disarm and live refuse with exit 2', skipWhen(noSetpriv, 'the non-root test'), async () => {
			const ns = lab.ns('user');
			const [r, ...refusals] = await Promise.all([
				lab.tracewatch(ns, ['doctor', '--format', 'json'], {asUser: 65534}),
				...[['arm', '--src', '198.18.0.1'], ['live', '--src', '198.18.0.1'], ['disarm']].map(cmd => lab.tracewatch(ns, cmd, {asUser: 65534})),
			]);
			expect(r!.code, r!.stderr).toBe(0);
			const doc = JSON.parse(r!.stdout) as DoctorJson & {host: {root: boolean}};
			expect(doc.host.root).toBe(false);
			expect(doc.host.netns.initial).toBe(false);
			expect(doc.unchecked.join('\n')).toMatch(/legacy IPv4 rules: reading the rules needs root/);
			expect(doc.problems.map(p => p.id)).toContain('not-root');
			for (const refused of refusals) {
				expect(refused.code, refused.stderr).toBe(2);
				expect(refused.stderr).toMatch(/needs root \(CAP_NET_ADMIN\)/);
			}
		});
	});
});
