/**
 * doctor, arm and disarm without a kernel: filters, the rules built from them, host inspection
 * over a fake probe (which must never create a legacy table), the backend choice, the doctor's
 * explanations, and inserting / removing rules with a recording runner.
 */
import {describe, expect, it} from 'vitest';
import {chooseBackend} from '../../src/ops/backend.js';
import {diagnose, renderDoctor} from '../../src/ops/doctor.js';
import {formatCommand, shellQuote} from '../../src/ops/exec.js';
import {FilterError, isUnfiltered, parseDuration, parseFilter, parseLimit} from '../../src/ops/filters.js';
import {disarmAll, TraceArm} from '../../src/ops/firewall.js';
import {inspectHost, parseNfLog, parseNftRuleset} from '../../src/ops/host.js';
import {isTraceMessage} from '../../src/ops/kmsg.js';
import {buildTraceRules, deleteArgs, insertArgs, makeRunId, parseRunId} from '../../src/ops/rules.js';
import {planArm, traceRequest} from '../../src/cli/tracing.js';
import {plain} from '../../src/ui/text.js';
import {fakeProbe, nfLogText, saveText, type FakeHost} from './fake-probe.js';

const RUN = '20261122T053112-4242';
const TAG = `tracewatch:${RUN}`;
const LIMIT = {rate: '10/second', burst: 20};

describe('filters', () => {
	it('turns addresses into CIDRs and works out the family', () => {
		expect(parseFilter({src: '198.18.0.1'})).toEqual({family: 'ipv4', src: '198.18.0.1/32', both: false});
		expect(parseFilter({dst: '2001:db8::/64', proto: 'icmp'})).toEqual({family: 'ipv6', dst: '2001:db8::/64', proto: 'ipv6-icmp', both: false});
		expect(parseFilter({ipv6: true, proto: 'tcp', dport: '443'})).toMatchObject({family: 'ipv6', proto: 'tcp', dport: '443'});
		expect(parseFilter({iface: 'eth+', sport: '1000:2000', proto: 'udp'})).toMatchObject({iface: 'eth+', sport: '1000:2000'});
	});

	it.each([
		[{src: 'example.com'}, /host names are not resolved/],
		[{src: '198.18.0.1/33'}, /prefix length must be 0 to 32/],
		[{src: '198.18.0.1', dst: '2001:db8::1'}, /different address families/],
		[{src: '198.18.0.1', ipv6: true}, /--ipv6 was given with an IPv4 address/],
		[{dport: '80'}, /--dport needs -p tcp, udp, sctp or dccp/],
		[{proto: 'icmp', dport: '80'}, /--dport needs/],
		[{proto: 'tcp', dport: '70000'}, /port \(0-65535\)/],
		[{proto: 'tcp', dport: '90:80'}, /port/],
		[{proto: 'bogus'}, /-p must be/],
		[{proto: 'icmpv6'}, /add --ipv6/],
		[{iface: '-j ACCEPT'}, /--iface must be an interface name/],
		[{iface: 'averyveryverylongname'}, /--iface/],
		[{src: '198.18.0.1 -j DROP'}, /--src must be/],
	])('refuses %j', (input, message) => {
		expect(() => parseFilter(input)).toThrow(FilterError);
		expect(() => parseFilter(input)).toThrow(message);
	});

	it('knows an unfiltered request', () => {
		expect(isUnfiltered(parseFilter({}))).toBe(true);
		expect(isUnfiltered(parseFilter({proto: 'all'}))).toBe(true);
		expect(isUnfiltered(parseFilter({ipv6: true}))).toBe(true);
		expect(isUnfiltered(parseFilter({proto: 'tcp'}))).toBe(false);
	});

	it('parses rate limits and durations', () => {
		expect(parseLimit(undefined, undefined)).toEqual({rate: '10/second', burst: 20});
		expect(parseLimit('100/min', undefined)).toEqual({rate: '100/minute', burst: 200});
		expect(parseLimit('1/s', '3')).toEqual({rate: '1/second', burst: 3});
		expect(parseLimit('none', undefined)).toEqual({});
		expect(() => parseLimit('fast', undefined)).toThrow(/--limit must be/);
		expect(() => parseLimit('20000/s', undefined)).toThrow(/at most 10000/);
		expect(parseDuration('90')).toBe(90_000);
		expect(parseDuration('1h30m')).toBe(5_400_000);
		expect(parseDuration('250ms')).toBe(250);
		expect(parseDuration('0')).toBe(0);
		expect(() => parseDuration('soon')).toThrow(/duration/);
		expect(() => parseDuration('5x')).toThrow(/duration/);
	});
});

describe('TRACE rules', () => {
	it('puts one tagged, rate-limited rule in raw PREROUTING and one in raw OUTPUT', () => {
		const rules = buildTraceRules(parseFilter({src: '198.18.0.1', proto: 'tcp', dport: '443', iface: 'eth0'}), 'nft', RUN, LIMIT);
		expect(rules.map(r => [r.chain, r.spec.join(' ')])).toEqual([
			['PREROUTING', `-s 198.18.0.1/32 -i eth0 -p tcp -m tcp --dport 443 -m comment --comment ${TAG} -m limit --limit 10/second --limit-burst 20 -j TRACE`],
			['OUTPUT', `-s 198.18.0.1/32 -o eth0 -p tcp -m tcp --dport 443 -m comment --comment ${TAG} -m limit --limit 10/second --limit-burst 20 -j TRACE`],
		]);
		expect(insertArgs(rules[0]!)).toEqual(['-w', '5', '-t', 'raw', '-I', 'PREROUTING', '1', ...rules[0]!.spec]);
		expect(deleteArgs(rules[1]!)).toEqual(['-w', '5', '-t', 'raw', '-D', 'OUTPUT', ...rules[1]!.spec]);
	});

	it('--both adds the way back, and only when it differs', () => {
		const both = buildTraceRules(parseFilter({src: '198.18.0.1', proto: 'udp', dport: '53', both: true}), 'legacy', RUN, {});
		expect(both.map(r => `${r.chain} ${r.spec.slice(0, 8).join(' ')}`)).toEqual([
			'PREROUTING -s 198.18.0.1/32 -p udp -m udp --dport 53',
			'PREROUTING -d 198.18.0.1/32 -p udp -m udp --sport 53',
			'OUTPUT -s 198.18.0.1/32 -p udp -m udp --dport 53',
			'OUTPUT -d 198.18.0.1/32 -p udp -m udp --sport 53',
		]);
		expect(both[0]!.spec).not.toContain('limit');
		expect(buildTraceRules(parseFilter({proto: 'icmp', both: true}), 'legacy', RUN, LIMIT)).toHaveLength(2);
	});

	it('names runs by time and process', () => {
		expect(makeRunId(new Date('2026-11-22T05:31:12.345Z'), 4242)).toBe(RUN);
		expect(parseRunId(RUN)).toEqual({runId: RUN, armedAt: new Date('2026-11-22T05:31:12Z'), pid: 4242});
		expect(parseRunId('manual')).toEqual({runId: 'manual'});
	});

	it('prints commands that paste into a shell', () => {
		expect(shellQuote('tracewatch:x')).toBe('tracewatch:x');
		expect(shellQuote('a b')).toBe("'a b'");
		expect(shellQuote("it's")).toBe(`'it'\\''s'`);
		expect(formatCommand('iptables-nft', ['-m', 'comment', '--comment', 'two words'])).toBe("iptables-nft -m comment --comment 'two words'");
	});

	it('reads only TRACE records from the kernel log', () => {
		expect(isTraceMessage('TRACE: raw:PREROUTING:policy:2 IN=vb')).toBe(true);
		expect(isTraceMessage('IPTables-Dropped: IN=eth0 OUT=')).toBe(false);
	});
});

const TAGGED_V4 = `[3:252] -A PREROUTING -s 198.18.0.1/32 -m comment --comment "${TAG}" -m limit --limit 10/sec --limit-burst 20 -j TRACE`;
const OLD_RUN = '20261121T000000-999999';
const TAGGED_OLD = `[0:0] -A OUTPUT -d 198.18.0.9/32 -m comment --comment "tracewatch:${OLD_RUN}" -j TRACE`;
const FOREIGN = '[12:1008] -A PREROUTING -p icmp -j TRACE';

function host(options: Partial<FakeHost> & {legacy4?: string; nft4?: string; nftRuleset?: string} = {}): FakeHost {
	const {files, dirs, command, legacy4, nft4, nftRuleset, ...rest} = options;
	const over = {files, dirs, legacy4, nft4, nftRuleset};
	return {
		files: {
			'/proc/net/netfilter/nf_log': nfLogText(),
			'/proc/sys/net/netfilter/nf_log_all_netns': '0\n',
			'/proc/net/ip_tables_names': over.legacy4 ? 'raw\nfilter\n' : '',
			'/proc/sys/kernel/dmesg_restrict': '1\n',
			'/proc/config.gz': 'CONFIG_NETFILTER_XT_TARGET_TRACE=m\nCONFIG_NF_LOG_SYSLOG=m\nCONFIG_NF_TABLES=m\n',
			'/proc/modules': 'nf_tables 1 0 - Live 0x0\n',
			...over.files,
		},
		dirs: {'/proc/sys/net/netfilter': ['nf_log', 'nf_log_all_netns'], ...over.dirs},
		realpaths: {'/usr/sbin/iptables': '/usr/sbin/xtables-nft-multi'},
		command:
			command ??
			((file, args) => {
				if (file === 'iptables-legacy-save') return {stdout: over.legacy4 ?? ''};
				if (file === 'iptables-nft-save') return {stdout: over.nft4 ?? ''};
				if (file === 'nft' && args[0] === 'list') return {stdout: over.nftRuleset ?? ''};
				return undefined;
			}),
		...rest,
	};
}

describe('inspecting the host', () => {
	it('parses nf_log bindings and the nftables ruleset', () => {
		const e = parseNfLog(nfLogText('NONE', 'nfnetlink_log'));
		expect(e.find(x => x.pf === 2)).toEqual({pf: 2, bound: 'NONE', registered: ['nf_log_ipv4', 'nfnetlink_log']});
		expect(e.find(x => x.pf === 10)?.bound).toBe('nfnetlink_log');
		const ruleset = [
			'table inet filter {',
			'\tset allowed {',
			'\t\ttype ipv4_addr',
			'\t\telements = { 198.18.0.1, 198.18.0.2 }',
			'\t}',
			'\tchain input {',
			'\t\ttype filter hook input priority filter; policy drop;',
			'\t\tct state established,related accept',
			'\t\tip saddr @allowed tcp dport { 22, 443 } accept comment "ssh {and} web"',
			'\t\tmeta nftrace set 1',
			'\t}',
			'}',
			'table ip raw {',
			'\tchain PREROUTING {',
			'\t\ttype filter hook prerouting priority raw; policy accept;',
			'\t\tip saddr 198.18.0.1 counter packets 0 bytes 0 meta nftrace set 1',
			'\t}',
			'}',
		].join('\n');
		expect(parseNftRuleset(ruleset)).toEqual([
			{family: 'inet', name: 'filter', rules: 3, traceRules: 1},
			{family: 'ip', name: 'raw', rules: 1, traceRules: 1},
		]);
	});

	it('never lists a legacy table the kernel does not already have', () => {
		const probe = fakeProbe(host({files: {'/proc/net/ip_tables_names': ''}}));
		const facts = inspectHost(probe);
		expect(probe.commands().filter(c => c.startsWith('iptables-legacy') || c.startsWith('ip6tables-legacy'))).toEqual([]);
		expect(facts.views.find(v => v.backend === 'legacy' && v.family === 'ipv4')).toMatchObject({state: 'read', tables: [], rules: 0});
		// Only reading commands are run.
		for (const c of probe.commands()) expect(c).toMatch(/^(ip6?tables-nft-save -c|nft list ruleset)$/);
	});

	it('does not load nf_tables just to find it has no tables', () => {
		const probe = fakeProbe(host({files: {'/proc/modules': ''}}));
		const facts = inspectHost(probe);
		expect(facts.kernel.nfTables.state).toBe('module');
		expect(probe.commands()).toEqual([]);
		expect(facts.views.filter(v => v.backend === 'nft').map(v => v.state)).toEqual(['read', 'read']);
	});

	it('counts rules per backend, apart from tracewatch’s own', () => {
		const probe = fakeProbe(host({legacy4: saveText({raw: [TAGGED_V4, FOREIGN], filter: ['[0:0] -A INPUT -s 198.18.0.9/32 -j DROP']})}));
		const facts = inspectHost(probe);
		const v = facts.views.find(x => x.backend === 'legacy' && x.family === 'ipv4')!;
		expect(v.rules).toBe(2);
		expect(v.tables).toEqual([
			{name: 'raw', chains: 2, rules: 1},
			{name: 'filter', chains: 3, rules: 1},
		]);
		expect(v.tagged.map(r => r.tag)).toEqual([TAG]);
		expect(v.trace.map(r => [r.pos, r.counters?.packets, r.tag])).toEqual([
			[1, 3, TAG],
			[2, 12, undefined],
		]);
		expect(facts.runs).toEqual([{runId: RUN, armedAt: new Date('2026-11-22T05:31:12Z'), pid: 4242, running: true}]);
		expect(facts.kernel.xtTrace).toEqual({state: 'module', detail: '/proc/config.gz: CONFIG_NETFILTER_XT_TARGET_TRACE=m (loaded on first use)'});
		expect(facts.kernel.nfLog.state).toBe('loaded');
		expect(facts.kernel.nfTables.state).toBe('loaded');
		expect(facts.iptablesDefault).toBe('nft');
	});

	it('tells the initial namespace from another, and reads the host setting through nsenter', () => {
		const inNs = fakeProbe(
			host({
				files: {'/proc/sys/net/netfilter/nf_log_all_netns': undefined as unknown as string},
				dirs: {'/proc/sys/net/netfilter': ['nf_log'], '/run/netns': ['blue', 'red'], '/proc': ['1', '77', 'self']},
				idents: {'/proc/self/ns/net': {dev: 4, ino: 4026532300}, '/run/netns/blue': {dev: 4, ino: 1}, '/run/netns/red': {dev: 4, ino: 4026532300}},
				links: {'/proc/77/ns/net': 'net:[4026531833]'},
				command: (file, args) => (file === 'nsenter' ? (args[0] === '--net=/proc/77/ns/net' ? {stdout: '0\n'} : {code: 1, stderr: 'no'}) : undefined),
			}),
		);
		const facts = inspectHost(inNs);
		expect(facts.netns).toMatchObject({inode: 4026532300, name: 'red', initial: false});
		expect(facts.allNetns).toEqual({value: 0, how: 'read in the initial namespace, through process 77'});
		expect(inNs.commands()).toContain('nsenter --net=/proc/77/ns/net -- cat /proc/sys/net/netfilter/nf_log_all_netns');

		const init = inspectHost(fakeProbe(host()));
		expect(init.netns.initial).toBe(true);
		expect(init.allNetns.value).toBe(0);
	});

	it('without root: reads what it can, runs nothing privileged, says what it skipped', () => {
		const probe = fakeProbe({...host(), root: false});
		const facts = inspectHost(probe);
		expect(probe.commands()).toEqual([]);
		expect(facts.privileged).toBe(false);
		expect(facts.unchecked.join('\n')).toMatch(/legacy IPv4 rules: reading the rules needs root/);
		expect(facts.unchecked.join('\n')).toMatch(/native nftables tables: reading the nftables ruleset needs root/);
		const report = diagnose(facts);
		expect(report.problems.map(p => p.id)).toContain('not-root');
		expect(report.backends.inUse).toBe('unknown');
		expect(renderDoctor(report, plain)).toMatch(/Not checked[\s\S]*sudo tracewatch doctor/);
	});
});

describe('choosing the backend', () => {
	const legacyRules = saveText({filter: ['[0:0] -A INPUT -s 198.18.0.9/32 -j DROP']});
	const nftRules = saveText({filter: ['[0:0] -A INPUT -s 198.18.0.8/32 -j DROP'], generatedBy: 'iptables-nft-save v1.8.9 (nf_tables)'});

	it('takes the backend that holds the rules', () => {
		expect(chooseBackend(inspectHost(fakeProbe(host({legacy4: legacyRules}))), 'ipv4', 'auto')).toMatchObject({backend: 'legacy'});
		expect(chooseBackend(inspectHost(fakeProbe(host({nft4: nftRules}))), 'ipv4', 'auto')).toMatchObject({backend: 'nft'});
		const native = host({nftRuleset: 'table inet fw {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tct state invalid drop\n\t}\n}\n'});
		expect(chooseBackend(inspectHost(fakeProbe(native)), 'ipv4', 'auto')).toMatchObject({backend: 'nft', reason: expect.stringMatching(/native nftables/)});
	});

	it('refuses to guess when both hold rules, unless told', () => {
		const facts = inspectHost(fakeProbe(host({legacy4: legacyRules, nft4: nftRules})));
		const c = chooseBackend(facts, 'ipv4', 'auto');
		expect(c.ambiguous).toBe(true);
		expect(c.backend).toBeUndefined();
		expect(c.reason).toMatch(/--backend legacy or --backend nft/);
		expect(chooseBackend(facts, 'ipv4', 'legacy')).toEqual({backend: 'legacy', reason: 'chosen with --backend'});
	});

	it('with no rules anywhere, follows the iptables command, and falls back to what is installed', () => {
		expect(chooseBackend(inspectHost(fakeProbe(host())), 'ipv4', 'auto')).toMatchObject({backend: 'nft', reason: expect.stringMatching(/iptables command on this host is iptables-nft/)});
		const legacyOnly = fakeProbe({...host(), tools: ['iptables-legacy', 'iptables-legacy-save']});
		expect(chooseBackend(inspectHost(legacyOnly), 'ipv4', 'auto')).toMatchObject({backend: 'legacy'});
		expect(chooseBackend(inspectHost(legacyOnly), 'ipv4', 'nft')).toEqual({reason: 'iptables-nft is not installed'});
	});
});

describe('doctor', () => {
	function report(over: Parameters<typeof host>[0]) {
		return diagnose(inspectHost(fakeProbe(host(over))));
	}
	const inNamespace = {files: {'/proc/sys/net/netfilter/nf_log_all_netns': undefined as unknown as string}, dirs: {'/proc/sys/net/netfilter': ['nf_log'], '/proc': ['1']}, links: {'/proc/1/ns/net': 'net:[4026531833]'}};
	const legacy = saveText({filter: ['[0:0] -A INPUT -s 198.18.0.9/32 -j DROP']});

	it('explains a namespace whose legacy TRACE lines the host drops, and puts the fix before the command', () => {
		const r = report({
			...inNamespace,
			legacy4: legacy,
			command: (file, args) => (file === 'nsenter' ? {stdout: '0\n'} : file === 'iptables-legacy-save' ? {stdout: legacy} : args[0] === 'list' ? {stdout: ''} : undefined),
		});
		expect(r.output.legacy.reachesKernelLog).toBe(false);
		expect(r.problems[0]).toMatchObject({id: 'netns-log-dropped', severity: 'error'});
		expect(r.capture.before).toEqual(['on the host: sysctl -w net.netfilter.nf_log_all_netns=1   (host-wide: set it back to 0 when done)']);
		expect(r.capture.command).toBe('tracewatch live --backend legacy --src ADDRESS');
		const text = renderDoctor(r, plain);
		expect(text).toContain('✗ this is not the host');
		expect(text).toContain('first, on the host: sysctl -w net.netfilter.nf_log_all_netns=1');

		const allowed = report({...inNamespace, legacy4: legacy, command: (file, args) => (file === 'nsenter' ? {stdout: '1\n'} : file === 'iptables-legacy-save' ? {stdout: legacy} : args[0] === 'list' ? {stdout: ''} : undefined)});
		expect(allowed.output.legacy.reachesKernelLog).toBe(true);
		expect(allowed.problems.map(p => p.id)).not.toContain('netns-log-dropped');
		expect(allowed.capture.before).toEqual([]);
	});

	it('explains loggers bound elsewhere', () => {
		const r = report({legacy4: legacy, files: {'/proc/net/netfilter/nf_log': nfLogText('nfnetlink_log', 'NONE')}});
		expect(r.problems.find(p => p.id === 'nf-log-nflog')).toMatchObject({severity: 'error', fix: expect.stringContaining('sysctl -w net.netfilter.nf_log.2=nf_log_ipv4')});
		expect(r.problems.find(p => p.id === 'nf-log-unbound')).toMatchObject({severity: 'warning', fix: 'sysctl -w net.netfilter.nf_log.10=nf_log_ipv6'});
		const notLoaded = report({legacy4: legacy, files: {'/proc/net/netfilter/nf_log': nfLogText('NONE', 'NONE', false)}});
		expect(notLoaded.problems.map(p => p.id)).toContain('nf-log-not-loaded');
		expect(notLoaded.output.legacy.reachesKernelLog).toBe(true);
	});

	it('with no iptables installed (and root): says to install it, first, and why nothing could be checked', () => {
		const r = report({tools: ['nsenter']});
		expect(r.problems[0]).toMatchObject({id: 'no-iptables', severity: 'error', fix: expect.stringMatching(/^apt install iptables/)});
		expect(r.capture.before).toEqual([expect.stringMatching(/^apt install iptables/)]);
		const text = renderDoctor(r, plain);
		expect(text).not.toContain('nothing here would keep a trace empty');
		expect(text).not.toContain('needs root');
		expect(text).toMatch(/TRACE rules now\n {2}not checked \(iptables-legacy-save is not installed\)/);
	});

	it('says why dmesg stays empty with iptables-nft', () => {
		const r = report({});
		expect(r.backends.inUse).toBe('none');
		expect(r.problems.map(p => p.id)).toEqual(expect.arrayContaining(['nft-no-kernel-log', 'no-trace-rules']));
		expect(r.capture).toMatchObject({command: 'tracewatch live --backend nft --src ADDRESS', watchOnly: 'xtables-monitor --trace -4 | tracewatch'});
	});

	it('lists TRACE rules with their counters, who made them, and how to remove a stranger’s', () => {
		const r = report({legacy4: saveText({raw: [FOREIGN, TAGGED_OLD]})});
		expect(r.traceRules).toEqual([
			{backend: 'legacy', family: 'ipv4', table: 'raw', chain: 'PREROUTING', pos: 1, rule: '-A PREROUTING -p icmp -j TRACE', packets: 12, bytes: 1008},
			expect.objectContaining({chain: 'OUTPUT', run: OLD_RUN, running: false, packets: 0}),
		]);
		const foreign = r.problems.find(p => p.id === 'foreign-trace-rule')!;
		expect(foreign.message).toMatch(/12 packets traced, no rate limit/);
		expect(foreign.fix).toBe('iptables-legacy -w 5 -t raw -D PREROUTING -p icmp -j TRACE');
		expect(r.problems.find(p => p.id === 'left-behind')).toMatchObject({message: expect.stringContaining(`tracewatch run ${OLD_RUN} (process 999999 is gone)`), fix: 'tracewatch disarm'});
	});

	it('warns when the iptables command and the rules are on different backends, and when both hold rules', () => {
		expect(report({legacy4: legacy}).problems.map(p => p.id)).toContain('iptables-command-mismatch');
		const both = report({legacy4: legacy, nft4: saveText({filter: ['[0:0] -A INPUT -j ACCEPT']})});
		expect(both.backends.inUse).toBe('both');
		expect(both.problems.map(p => p.id)).toContain('both-backends');
		expect(both.capture.alternatives).toEqual(['tracewatch live --backend nft --src ADDRESS']);
	});

	it('reports missing kernel support', () => {
		const r = report({legacy4: legacy, files: {'/proc/config.gz': '# CONFIG_NETFILTER_XT_TARGET_TRACE is not set\n', '/proc/net/netfilter/nf_log': nfLogText('NONE', 'NONE', false)}});
		expect(r.problems.map(p => p.id)).toEqual(expect.arrayContaining(['kernel-no-trace', 'kernel-no-nf-log']));
	});
});

describe('arming and disarming', () => {
	const rules = buildTraceRules(parseFilter({src: '198.18.0.1'}), 'nft', RUN, LIMIT);

	it('inserts rule by rule and removes exactly its rules, last first', () => {
		const probe = fakeProbe();
		const armed = new TraceArm(probe, rules);
		expect(armed.insertAll()).toEqual({ok: true});
		expect(armed.armed).toHaveLength(2);
		const removals = armed.removeAll();
		expect(removals.map(r => r.outcome)).toEqual(['removed', 'removed']);
		expect(armed.removeAll()).toEqual([]);
		expect(probe.commands()).toEqual([
			`iptables-nft -w 5 -t raw -I PREROUTING 1 ${rules[0]!.spec.join(' ')}`,
			`iptables-nft -w 5 -t raw -I OUTPUT 1 ${rules[1]!.spec.join(' ')}`,
			`iptables-nft -w 5 -t raw -D OUTPUT ${rules[1]!.spec.join(' ')}`,
			`iptables-nft -w 5 -t raw -D PREROUTING ${rules[0]!.spec.join(' ')}`,
		]);
		expect(probe.commands().some(c => /restore/.test(c))).toBe(false);
	});

	it('takes back what it inserted when a later insert fails', () => {
		const probe = fakeProbe({command: (_f, args) => (args.includes('-I') && args.includes('OUTPUT') ? {code: 4, stderr: 'Another app is currently holding the xtables lock.'} : undefined)});
		const armed = new TraceArm(probe, rules);
		const r = armed.insertAll();
		expect(r).toMatchObject({ok: false, error: 'Another app is currently holding the xtables lock.'});
		expect(armed.armed).toEqual([]);
		expect(probe.commands().at(-1)).toBe(`iptables-nft -w 5 -t raw -D PREROUTING ${rules[0]!.spec.join(' ')}`);
	});

	it('tells a rule already gone from one that could not be removed', () => {
		const gone = fakeProbe({command: (_f, args) => (args.includes('-D') || args.includes('-C') ? {code: 1, stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).'} : undefined)});
		const a = new TraceArm(gone, rules);
		a.insertAll();
		expect(a.removeAll().map(r => r.outcome)).toEqual(['gone', 'gone']);

		const stuck = fakeProbe({command: (_f, args) => (args.includes('-D') ? {code: 4, stderr: 'Resource temporarily unavailable'} : args.includes('-C') ? {code: 0} : undefined)});
		const b = new TraceArm(stuck, rules);
		b.insertAll();
		const removals = b.removeAll();
		expect(removals.map(r => r.outcome)).toEqual(['failed', 'failed']);
		expect(removals[0]!.command).toBe(`iptables-nft -w 5 -t raw -D OUTPUT ${rules[1]!.spec.join(' ')}`);
	});

	it('disarm removes every tagged rule of any run by its listed specification, and checks again', () => {
		let listed = saveText({raw: [TAGGED_V4, FOREIGN, TAGGED_OLD]});
		const probe = fakeProbe({
			files: {'/proc/net/ip_tables_names': 'raw\n'},
			command(file, args) {
				if (file === 'iptables-legacy-save') return {stdout: listed};
				if (file === 'iptables-legacy' && args.includes('-D')) {
					listed = saveText({raw: [FOREIGN]});
					return {};
				}
				return undefined;
			},
		});
		const report = disarmAll(probe);
		expect(report.removals.map(r => [r.rule.tag, r.outcome])).toEqual([
			[TAG, 'removed'],
			[`tracewatch:${OLD_RUN}`, 'removed'],
		]);
		expect(report.remaining).toEqual([]);
		expect(probe.commands()).toContain(`iptables-legacy -w 5 -t raw -D PREROUTING -s 198.18.0.1/32 -m comment --comment ${TAG} -m limit --limit 10/sec --limit-burst 20 -j TRACE`);
		expect(probe.commands().some(c => c.includes('-p icmp -j TRACE') && c.includes('-D'))).toBe(false);
		// ip6tables-legacy: no table list, so nothing is listed (no table gets created).
		expect(probe.commands().some(c => c.startsWith('ip6tables-legacy'))).toBe(false);
		expect(report.listings.find(l => l.backend === 'legacy' && l.family === 'ipv6')).toMatchObject({state: 'skipped'});
	});

	it('disarm --run and --dry-run', () => {
		const probe = fakeProbe({files: {'/proc/net/ip_tables_names': 'raw\n'}, command: file => (file === 'iptables-legacy-save' ? {stdout: saveText({raw: [TAGGED_V4, TAGGED_OLD]})} : undefined)});
		const report = disarmAll(probe, {runId: OLD_RUN, dryRun: true, backends: ['legacy']});
		expect(report.removals.map(r => r.command)).toEqual([`iptables-legacy -w 5 -t raw -D OUTPUT -d 198.18.0.9/32 -m comment --comment tracewatch:${OLD_RUN} -j TRACE`]);
		expect(probe.commands().every(c => c.startsWith('iptables-legacy-save') || c.startsWith('ip6tables-legacy-save'))).toBe(true);
	});
});

describe('arm --dry-run without iptables installed', () => {
	it('still shows the commands, for the backend asked for (or iptables-nft), and says it is not installed', () => {
		const probe = fakeProbe(host({tools: ['nsenter']}));
		const auto = planArm(traceRequest({src: '198.18.0.5', 'dry-run': true}, 60_000, 'arm'), probe);
		expect(typeof auto).toBe('object');
		expect(auto).toMatchObject({backend: 'nft', reason: expect.stringContaining("showing iptables-nft's commands")});
		const legacy = planArm(traceRequest({src: '198.18.0.5', backend: 'legacy', 'dry-run': true}, 60_000, 'arm'), probe);
		expect(legacy).toMatchObject({backend: 'legacy'});
		// Without --dry-run it refuses (exit 1), as before.
		expect(planArm(traceRequest({src: '198.18.0.5'}, 60_000, 'arm'), probe)).toBe(1);
	});
});
