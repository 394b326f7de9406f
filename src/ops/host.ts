/**
 * inspectHost: what this host (this network namespace) looks like to a tracer. Read-only.
 *
 * Input:  a Probe (files and commands)
 * Output: HostFacts: which iptables backends hold rules, where TRACE output goes (nf_log
 *         bindings, nf_log_all_netns, initial namespace or not), which TRACE rules exist and
 *         what they counted, kernel support, and what could not be checked and why.
 *
 * It never instantiates a table: legacy tables are saved only when the kernel already lists them
 * in /proc/net/ip{,6}_tables_names (listing a missing legacy table would create it), and the
 * -save tools of nft only read.
 */
import {parseRuleset, type Ruleset} from '../parser/ruleset.js';
import {failureText} from './exec.js';
import type {IpFamily} from './filters.js';
import {CAP_NET_ADMIN, hasCap, type Probe} from './probe.js';
import {BACKENDS, commentOf, countForeignRules, FAMILIES, familyName, iptablesTool, parseRunId, runIdOf, saveTool, TAG_PREFIX, taggedRules, traceRules, type Backend, type ListedRule} from './rules.js';

export type SupportState = 'loaded' | 'built-in' | 'module' | 'missing' | 'unknown';

export interface Support {
	readonly state: SupportState;
	/** How it was found out: `/proc/config.gz: CONFIG_NETFILTER_XT_TARGET_TRACE=y`. */
	readonly detail: string;
}

/** One line of /proc/net/netfilter/nf_log: ` 2 nf_log_ipv4 (nf_log_ipv4,nfnetlink_log)`. */
export interface NfLogEntry {
	/** Protocol family: 2 IPv4, 10 IPv6. */
	readonly pf: number;
	/** The logger bound in this namespace, or NONE. */
	readonly bound: string;
	/** Loggers registered for the family (loaded modules). */
	readonly registered: readonly string[];
}

export interface NetnsFacts {
	/** Inode of /proc/self/ns/net. */
	readonly inode?: number;
	/** True in the host's initial network namespace; undefined when it could not be told. */
	readonly initial?: boolean;
	/** Name under /run/netns (`ip netns`), when it has one. */
	readonly name?: string;
	readonly how: string;
}

export interface AllNetnsFact {
	/** net.netfilter.nf_log_all_netns (host-wide), when it could be read. */
	readonly value?: number;
	readonly how: string;
}

export interface TableSummary {
	readonly name: string;
	readonly chains: number;
	/** Rules other than tracewatch's own. */
	readonly rules: number;
}

export interface BackendView {
	readonly backend: Backend;
	readonly family: IpFamily;
	readonly tool: string;
	/** `read`: the tables below are what the kernel has; `unchecked`: see `why`. */
	readonly state: 'read' | 'unchecked';
	readonly why?: string;
	readonly tables: readonly TableSummary[];
	/** Rules other than tracewatch's own, all tables. */
	readonly rules: number;
	/** Every -j TRACE rule (tracewatch's or not), with counters. */
	readonly trace: readonly ListedRule[];
	/** Every rule tagged by tracewatch. */
	readonly tagged: readonly ListedRule[];
	readonly ruleset?: Ruleset;
}

export interface NativeNftTable {
	readonly family: string;
	readonly name: string;
	readonly rules: number;
	/** Rules that set `meta nftrace`. */
	readonly traceRules: number;
}

export interface NativeNft {
	readonly state: 'read' | 'unchecked';
	readonly why?: string;
	/** nftables tables that iptables-nft does not manage (nftables.service, firewalld, kube-proxy nftables mode). */
	readonly tables: readonly NativeNftTable[];
}

export interface RunState {
	readonly runId: string;
	readonly armedAt?: Date;
	readonly pid?: number;
	/** Whether the process that armed the rules is still running (as far as this pid namespace shows). */
	readonly running?: boolean;
}

export interface HostFacts {
	/** Has CAP_NET_ADMIN: the firewall could be read (and changed). */
	readonly privileged: boolean;
	readonly uid: number;
	readonly release: string;
	readonly netns: NetnsFacts;
	readonly allNetns: AllNetnsFact;
	readonly nfLog?: readonly NfLogEntry[];
	readonly nfLogError?: string;
	readonly kernel: {readonly xtTrace: Support; readonly nfLog: Support; readonly nfTables: Support};
	/** What the `iptables` command (the Debian alternative) runs. */
	readonly iptablesDefault?: Backend;
	readonly views: readonly BackendView[];
	readonly nft: NativeNft;
	/** Installed tools, by name. */
	readonly tools: Readonly<Record<string, boolean>>;
	readonly dmesgRestrict?: number;
	/** tracewatch runs whose tagged rules exist now. */
	readonly runs: readonly RunState[];
	/** What could not be checked, in words. */
	readonly unchecked: readonly string[];
}

/** PROC_NET_INIT_INO: the initial network namespace's fixed inode on recent kernels. */
export const INIT_NET_INODE = 0xeffffff9;
const ALL_NETNS = '/proc/sys/net/netfilter/nf_log_all_netns';

export const TOOLS = [
	'iptables-legacy',
	'iptables-legacy-save',
	'ip6tables-legacy',
	'ip6tables-legacy-save',
	'iptables-nft',
	'iptables-nft-save',
	'ip6tables-nft',
	'ip6tables-nft-save',
	'xtables-monitor',
	'nft',
	'nsenter',
] as const;

export function parseNfLog(text: string): NfLogEntry[] {
	const out: NfLogEntry[] = [];
	for (const line of text.split('\n')) {
		const m = /^\s*(\d+)\s+(\S+)\s+\(([^)]*)\)/.exec(line);
		if (m) out.push({pf: Number(m[1]), bound: m[2]!, registered: m[3]!.split(',').filter(Boolean)});
	}
	return out;
}

export function nfLogFor(facts: Pick<HostFacts, 'nfLog'>, family: IpFamily): NfLogEntry | undefined {
	return facts.nfLog?.find(e => e.pf === (family === 'ipv6' ? 10 : 2));
}

/** Tables and rules of the nftables ruleset (`nft list ruleset`), counted per table. */
export function parseNftRuleset(text: string): NativeNftTable[] {
	const tables: Array<{family: string; name: string; rules: number; traceRules: number}> = [];
	let depth = 0;
	let table: (typeof tables)[number] | undefined;
	let inChain = false;
	for (const raw of text.split('\n')) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) continue;
		const noStrings = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
		const opens = (noStrings.match(/{/g) ?? []).length;
		const closes = (noStrings.match(/}/g) ?? []).length;
		if (depth === 0) {
			const m = /^table\s+(\S+)\s+(\S+)\s*{/.exec(line);
			if (m) {
				table = {family: m[1]!, name: m[2]!, rules: 0, traceRules: 0};
				tables.push(table);
			}
		} else if (depth === 1) {
			inChain = /^chain\s+\S+\s*{/.test(line);
		} else if (depth === 2 && inChain && table && !/^(type|policy|comment|devices)\b/.test(line) && line !== '}') {
			table.rules++;
			if (/\bnftrace set 1\b/.test(line)) table.traceRules++;
		}
		depth = Math.max(0, depth + opens - closes);
	}
	return tables;
}

/** Tables iptables-nft, ip6tables-nft, ebtables-nft and arptables-nft create. */
const XTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security', 'broute']);
const XTABLES_FAMILIES = new Set(['ip', 'ip6', 'arp', 'bridge']);

export function isXtablesTable(family: string, name: string): boolean {
	return XTABLES_FAMILIES.has(family) && XTABLES_TABLES.has(name);
}

function kernelConfig(probe: Probe): {values: Map<string, string>; source: string} | undefined {
	for (const path of ['/proc/config.gz', `/boot/config-${probe.release}`]) {
		const r = probe.read(path);
		if (r.text === undefined) continue;
		const values = new Map<string, string>();
		for (const line of r.text.split('\n')) {
			const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
			if (m) values.set(m[1]!, m[2]!);
		}
		return {values, source: path};
	}
	return undefined;
}

function support(
	probe: Probe,
	config: ReturnType<typeof kernelConfig>,
	loaded: Set<string>,
	modules: {builtin?: string; dep?: string},
	what: {configs: readonly string[]; modules: readonly string[]; registered?: string},
): Support {
	if (what.registered) return {state: 'loaded', detail: what.registered};
	for (const m of what.modules) if (loaded.has(m)) return {state: 'loaded', detail: `module ${m} loaded (/proc/modules)`};
	if (config) {
		for (const key of what.configs) {
			const v = config.values.get(key);
			if (v === 'y') return {state: 'built-in', detail: `${config.source}: ${key}=y`};
			if (v === 'm') return {state: 'module', detail: `${config.source}: ${key}=m (loaded on first use)`};
		}
	}
	for (const m of what.modules) {
		if (modules.builtin?.includes(`/${m}.ko`)) return {state: 'built-in', detail: `modules.builtin lists ${m}`};
		if (modules.dep && new RegExp(`/${m}\\.ko(\\.\\w+)?:`).test(modules.dep)) return {state: 'module', detail: `module ${m} available (loaded on first use)`};
	}
	if (config) return {state: 'missing', detail: `${config.source}: ${what.configs.join(' / ')} not set`};
	if (modules.dep !== undefined) return {state: 'missing', detail: `no ${what.modules.join(' / ')} module in /lib/modules/${probe.release}`};
	return {state: 'unknown', detail: 'no kernel config or module list to read'};
}

function inspectKernel(probe: Probe, nfLog: readonly NfLogEntry[] | undefined, privileged: boolean): HostFacts['kernel'] {
	const config = kernelConfig(probe);
	const loaded = new Set((probe.read('/proc/modules').text ?? '').split('\n').map(l => l.split(' ')[0]!).filter(Boolean));
	const builtin = probe.read(`/lib/modules/${probe.release}/modules.builtin`).text;
	const dep = probe.read(`/lib/modules/${probe.release}/modules.dep`).text;
	const modules = {...(builtin !== undefined ? {builtin} : {}), ...(dep !== undefined ? {dep} : {})};
	const targets = privileged ? probe.read('/proc/net/ip_tables_targets').text : undefined;
	const traceRegistered = targets?.split('\n').includes('TRACE') ? 'TRACE target registered (/proc/net/ip_tables_targets)' : undefined;
	const ipv4Logger = nfLog?.find(e => e.pf === 2)?.registered.includes('nf_log_ipv4');
	return {
		xtTrace: support(probe, config, loaded, modules, {configs: ['CONFIG_NETFILTER_XT_TARGET_TRACE'], modules: ['xt_TRACE'], ...(traceRegistered ? {registered: traceRegistered} : {})}),
		nfLog: support(probe, config, loaded, modules, {
			configs: ['CONFIG_NF_LOG_SYSLOG', 'CONFIG_NF_LOG_IPV4'],
			modules: ['nf_log_syslog', 'nf_log_ipv4'],
			...(ipv4Logger ? {registered: 'nf_log_ipv4 registered (/proc/net/netfilter/nf_log)'} : {}),
		}),
		nfTables: support(probe, config, loaded, modules, {configs: ['CONFIG_NF_TABLES'], modules: ['nf_tables']}),
	};
}

/** Finds the network namespace: its inode, its `ip netns` name, and whether it is the host's initial one. */
function inspectNetns(probe: Probe): NetnsFacts {
	const self = probe.ident('/proc/self/ns/net');
	let name: string | undefined;
	if (self) {
		for (const entry of probe.readdir('/run/netns') ?? []) {
			const id = probe.ident(`/run/netns/${entry}`);
			if (id && id.ino === self.ino && id.dev === self.dev) {
				name = entry;
				break;
			}
		}
	}
	const base = {...(self ? {inode: self.ino} : {}), ...(name ? {name} : {})};
	const kernel = /^(\d+)\.(\d+)/.exec(probe.release);
	const hasSysctl = kernel ? Number(kernel[1]) > 4 || (Number(kernel[1]) === 4 && Number(kernel[2]) >= 11) : true;
	// nf_log_all_netns is registered in the initial namespace only: its presence tells where we are.
	const sysctls = probe.readdir('/proc/sys/net/netfilter');
	if (hasSysctl && sysctls?.includes('nf_log')) {
		const present = sysctls.includes('nf_log_all_netns');
		return {
			...base,
			initial: present,
			how: present ? 'net.netfilter.nf_log_all_netns is visible, which it is only in the initial namespace' : 'net.netfilter.nf_log_all_netns is not visible here: it is only in the initial namespace',
		};
	}
	if (self?.ino === INIT_NET_INODE) return {...base, initial: true, how: 'inode of the initial namespace'};
	const one = probe.ident('/proc/1/ns/net');
	if (one && self) return {...base, initial: one.ino === self.ino, how: 'compared with process 1'};
	return {...base, how: 'could not be told'};
}

/** A process in the initial network namespace, to read the host-wide sysctl from there. */
function initNetnsPid(probe: Probe): number | undefined {
	const one = probe.readlink('/proc/1/ns/net');
	if (one === `net:[${INIT_NET_INODE}]`) return 1;
	let checked = 0;
	for (const entry of probe.readdir('/proc') ?? []) {
		if (!/^\d+$/.test(entry)) continue;
		if (++checked > 5000) break;
		if (probe.readlink(`/proc/${entry}/ns/net`) === `net:[${INIT_NET_INODE}]`) return Number(entry);
	}
	return one !== undefined ? 1 : undefined;
}

function inspectAllNetns(probe: Probe, netns: NetnsFacts, privileged: boolean, hasNsenter: boolean): AllNetnsFact {
	const here = probe.read(ALL_NETNS);
	if (here.text !== undefined) return {value: Number(here.text.trim()), how: `read from ${ALL_NETNS}`};
	if (netns.initial === true) return {how: `${ALL_NETNS}: ${here.error ?? 'unreadable'} (kernel older than 4.11?)`};
	if (!privileged) return {how: 'it is a host-wide setting visible only from the initial namespace; reading it from here needs root'};
	if (!hasNsenter) return {how: 'it is visible only from the initial namespace, and nsenter (util-linux) is not installed to read it there'};
	const pid = initNetnsPid(probe);
	if (pid === undefined) return {how: 'it is visible only from the initial namespace, and no process of that namespace is visible here (a container?)'};
	const r = probe.run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'cat', ALL_NETNS], {timeoutMs: 5000});
	if (r.code === 0 && /^\d+\s*$/.test(r.stdout)) return {value: Number(r.stdout.trim()), how: `read in the initial namespace, through process ${pid}`};
	return {how: `could not be read in the initial namespace: ${failureText(r)}`};
}

/** nf_tables is a module that is not loaded: no nftables table can exist, and asking would load it. */
function nfTablesUnloaded(kernel: HostFacts['kernel']): boolean {
	return kernel.nfTables.state === 'module';
}

function inspectView(probe: Probe, backend: Backend, family: IpFamily, privileged: boolean, tools: Record<string, boolean>, kernel: HostFacts['kernel']): BackendView {
	const tool = iptablesTool(backend, family);
	const save = saveTool(backend, family);
	const empty = {backend, family, tool, tables: [], rules: 0, trace: [], tagged: []};
	if (!tools[save]) return {...empty, state: 'unchecked', why: `${save} is not installed`};
	if (!privileged) return {...empty, state: 'unchecked', why: 'reading the rules needs root'};
	if (backend === 'legacy') {
		const names = probe.read(family === 'ipv6' ? '/proc/net/ip6_tables_names' : '/proc/net/ip_tables_names');
		if (names.text === undefined && names.error === 'no such file') return {...empty, state: 'read'};
		if (names.text === undefined) return {...empty, state: 'unchecked', why: `cannot read the legacy table list: ${names.error}`};
		if (names.text.trim() === '') return {...empty, state: 'read'};
	}
	if (backend === 'nft' && nfTablesUnloaded(kernel)) return {...empty, state: 'read'};
	const r = probe.run(save, ['-c']);
	if (r.code !== 0) return {...empty, state: 'unchecked', why: `${save} failed: ${failureText(r)}`};
	const ruleset = parseRuleset(r.stdout, save);
	const tables: TableSummary[] = [];
	for (const t of ruleset.tables.values()) {
		let rules = 0;
		for (const c of t.chains.values()) rules += c.rules.filter(x => !commentOf(x)?.startsWith(TAG_PREFIX)).length;
		tables.push({name: t.name, chains: t.chains.size, rules});
	}
	return {...empty, state: 'read', tables, rules: countForeignRules(ruleset), trace: traceRules(ruleset, backend, family), tagged: taggedRules(ruleset, backend, family), ruleset};
}

function inspectNative(probe: Probe, privileged: boolean, tools: Record<string, boolean>, kernel: HostFacts['kernel']): NativeNft {
	if (!tools['nft']) return {state: 'unchecked', why: 'nft is not installed', tables: []};
	if (!privileged) return {state: 'unchecked', why: 'reading the nftables ruleset needs root', tables: []};
	if (nfTablesUnloaded(kernel)) return {state: 'read', tables: []};
	const r = probe.run('nft', ['list', 'ruleset']);
	if (r.code !== 0) return {state: 'unchecked', why: `nft list ruleset failed: ${failureText(r)}`, tables: []};
	return {state: 'read', tables: parseNftRuleset(r.stdout).filter(t => !isXtablesTable(t.family, t.name))};
}

/** A run's id, when it armed, and whether its process still runs (as far as this pid namespace shows). */
export function runState(probe: Pick<Probe, 'read' | 'pid'>, runId: string): RunState {
	const info = parseRunId(runId);
	if (info.pid === undefined) return info;
	const cmd = probe.read(`/proc/${info.pid}/cmdline`).text;
	return {...info, running: info.pid === probe.pid || (cmd !== undefined && cmd.includes('tracewatch'))};
}

function runStates(probe: Probe, views: readonly BackendView[]): RunState[] {
	const ids = new Set<string>();
	for (const v of views) for (const r of v.tagged) ids.add(runIdOf(r.tag!));
	return [...ids].sort().map(runId => runState(probe, runId));
}

export interface InspectOptions {
	readonly families?: readonly IpFamily[];
	readonly backends?: readonly Backend[];
}

export function inspectHost(probe: Probe, options: InspectOptions = {}): HostFacts {
	const privileged = hasCap(probe, CAP_NET_ADMIN);
	const tools: Record<string, boolean> = {};
	for (const t of TOOLS) tools[t] = probe.which(t) !== undefined;
	const unchecked: string[] = [];

	const nfLogRead = probe.read('/proc/net/netfilter/nf_log');
	const nfLog = nfLogRead.text !== undefined ? parseNfLog(nfLogRead.text) : undefined;
	if (!nfLog) unchecked.push(`nf_log bindings: /proc/net/netfilter/nf_log: ${nfLogRead.error}`);

	const netns = inspectNetns(probe);
	const allNetns = inspectAllNetns(probe, netns, privileged, tools['nsenter'] ?? false);
	if (allNetns.value === undefined && netns.initial !== true) unchecked.push(`net.netfilter.nf_log_all_netns: ${allNetns.how}`);

	const kernel = inspectKernel(probe, nfLog, privileged);
	const views: BackendView[] = [];
	for (const backend of options.backends ?? BACKENDS) {
		for (const family of options.families ?? FAMILIES) {
			const v = inspectView(probe, backend, family, privileged, tools, kernel);
			if (v.state === 'unchecked') unchecked.push(`${backend} ${familyName(family)} rules: ${v.why}`);
			views.push(v);
		}
	}
	const nft = inspectNative(probe, privileged, tools, kernel);
	if (nft.state === 'unchecked') unchecked.push(`native nftables tables: ${nft.why}`);

	const alt = probe.realpath(probe.which('iptables') ?? '/nonexistent');
	const iptablesDefault: Backend | undefined = alt === undefined ? undefined : /nft/.test(alt) ? 'nft' : /legacy/.test(alt) ? 'legacy' : undefined;

	const restrict = probe.read('/proc/sys/kernel/dmesg_restrict').text;
	return {
		privileged,
		uid: probe.uid,
		release: probe.release,
		netns,
		allNetns,
		...(nfLog ? {nfLog} : {nfLogError: nfLogRead.error ?? 'unreadable'}),
		kernel,
		...(iptablesDefault ? {iptablesDefault} : {}),
		views,
		nft,
		tools,
		...(restrict !== undefined ? {dmesgRestrict: Number(restrict.trim())} : {}),
		runs: runStates(probe, views),
		unchecked,
	};
}

/** The view for one backend and family. */
export function viewOf(facts: Pick<HostFacts, 'views'>, backend: Backend, family: IpFamily): BackendView | undefined {
	return facts.views.find(v => v.backend === backend && v.family === family);
}

/** Native nftables tables that see packets of the family (inet sees both). */
export function nativeTablesFor(facts: Pick<HostFacts, 'nft'>, family: IpFamily): NativeNftTable[] {
	return facts.nft.tables.filter(t => t.rules > 0 && (t.family === 'inet' || t.family === (family === 'ipv6' ? 'ip6' : 'ip')));
}
