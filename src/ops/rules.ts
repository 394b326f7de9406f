/**
 * The TRACE rules tracewatch inserts, and how it finds them again.
 *
 * Input:  filter {family:'ipv4', src:'198.18.0.1/32', proto:'tcp', dport:'443'}, run id `20261122T053112-4242`
 * Output: one rule per chain (two with --both), each as the argument list after `-I CHAIN 1`:
 *         ['-s','198.18.0.1/32','-p','tcp','-m','tcp','--dport','443','-m','comment','--comment','tracewatch:20261122T053112-4242',
 *          '-m','limit','--limit','10/second','--limit-burst','20','-j','TRACE']
 *
 * A rule is tracewatch's when its comment starts with `tracewatch:`; the rest of the comment is
 * the run id. Removal is always by the rule's full specification (`-D CHAIN <spec>`), never by
 * position, so a rule another tool inserted in between can never be the one removed.
 */
import {matchOptions} from '../model/rule-query.js';
import type {Counters, Rule, Ruleset} from '../parser/ruleset.js';
import type {IpFamily, RateLimit, TraceFilter} from './filters.js';

export type Backend = 'legacy' | 'nft';
export const BACKENDS: readonly Backend[] = ['legacy', 'nft'];
export const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];

export const TAG_PREFIX = 'tracewatch:';
/** Seconds iptables waits for the xtables lock held by another program (kube-proxy, Calico). */
export const LOCK_WAIT = '5';
export const TRACE_CHAINS = ['PREROUTING', 'OUTPUT'] as const;
export type TraceChain = (typeof TRACE_CHAINS)[number];

/** `iptables-nft`, `ip6tables-legacy`, … : always the backend's own binary, never the `iptables` alternative. */
export function iptablesTool(backend: Backend, family: IpFamily): string {
	return `${family === 'ipv6' ? 'ip6tables' : 'iptables'}-${backend}`;
}

export function saveTool(backend: Backend, family: IpFamily): string {
	return `${iptablesTool(backend, family)}-save`;
}

export function familyName(family: IpFamily): string {
	return family === 'ipv6' ? 'IPv6' : 'IPv4';
}

/** A run id: when (UTC) and which process armed the rules: `20261122T053112-4242`. */
export function makeRunId(now: Date, pid: number): string {
	return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${pid}`;
}

export interface RunInfo {
	readonly runId: string;
	/** When the run armed its rules, if the id says. */
	readonly armedAt?: Date;
	readonly pid?: number;
}

export function parseRunId(runId: string): RunInfo {
	const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)-(\d+)$/.exec(runId);
	if (!m) return {runId};
	const [, y, mo, d, h, mi, s, pid] = m;
	return {runId, armedAt: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`), pid: Number(pid)};
}

export interface TraceRuleSpec {
	readonly backend: Backend;
	readonly family: IpFamily;
	readonly table: 'raw';
	readonly chain: TraceChain;
	/** Everything after `-I CHAIN 1` / `-D CHAIN`. */
	readonly spec: readonly string[];
	readonly tag: string;
}

/** The TRACE rules for a filter: raw PREROUTING (packets arriving) and raw OUTPUT (packets this host sends). */
export function buildTraceRules(filter: TraceFilter, backend: Backend, runId: string, limit: RateLimit): TraceRuleSpec[] {
	const tag = `${TAG_PREFIX}${runId}`;
	const directions = [{src: filter.src, dst: filter.dst, sport: filter.sport, dport: filter.dport}];
	if (filter.both) directions.push({src: filter.dst, dst: filter.src, sport: filter.dport, dport: filter.sport});
	const out: TraceRuleSpec[] = [];
	for (const chain of TRACE_CHAINS) {
		const seen = new Set<string>();
		for (const d of directions) {
			const spec: string[] = [];
			if (d.src) spec.push('-s', d.src);
			if (d.dst) spec.push('-d', d.dst);
			if (filter.iface) spec.push(chain === 'PREROUTING' ? '-i' : '-o', filter.iface);
			if (filter.proto && filter.proto !== 'all') {
				spec.push('-p', filter.proto);
				if (d.sport !== undefined || d.dport !== undefined) {
					spec.push('-m', filter.proto);
					if (d.sport !== undefined) spec.push('--sport', d.sport);
					if (d.dport !== undefined) spec.push('--dport', d.dport);
				}
			}
			spec.push('-m', 'comment', '--comment', tag);
			if (limit.rate) spec.push('-m', 'limit', '--limit', limit.rate, '--limit-burst', String(limit.burst ?? 5));
			spec.push('-j', 'TRACE');
			const key = spec.join('\u0000');
			if (seen.has(key)) continue;
			seen.add(key);
			out.push({backend, family: filter.family, table: 'raw', chain, spec, tag});
		}
	}
	return out;
}

export function insertArgs(rule: Pick<TraceRuleSpec, 'chain' | 'spec'>): string[] {
	return ['-w', LOCK_WAIT, '-t', 'raw', '-I', rule.chain, '1', ...rule.spec];
}

export function deleteArgs(rule: {readonly table: string; readonly chain: string; readonly spec: readonly string[]}): string[] {
	return ['-w', LOCK_WAIT, '-t', rule.table, '-D', rule.chain, ...rule.spec];
}

/** The value of a rule's `--comment`, if any. */
/** The rule's `-m comment --comment` text, if it has one. */
export function commentOf(rule: Rule): string | undefined {
	const o = matchOptions(rule, '--comment')[0];
	return o?.value.kind === 'text' ? o.value.text : undefined;
}

/** A rule found in a listing: where it is, its full spec, and its counters. */
export interface ListedRule {
	readonly backend: Backend;
	readonly family: IpFamily;
	readonly table: string;
	readonly chain: string;
	/** 1-based position in the chain. */
	readonly pos: number;
	readonly spec: readonly string[];
	/** `-A CHAIN …` as listed. */
	readonly text: string;
	readonly counters?: Counters;
	/** `tracewatch:<run id>` when tracewatch made it. */
	readonly tag?: string;
}

function listed(rule: Rule, backend: Backend, family: IpFamily): ListedRule {
	const comment = commentOf(rule);
	const tag = comment?.startsWith(TAG_PREFIX) ? comment : undefined;
	return {
		backend,
		family,
		table: rule.table,
		chain: rule.chain,
		pos: rule.pos,
		spec: rule.args,
		text: rule.text,
		...(rule.counters ? {counters: rule.counters} : {}),
		...(tag ? {tag} : {}),
	};
}

/** Every rule carrying a tracewatch tag, in any table and chain. */
export function taggedRules(rs: Ruleset, backend: Backend, family: IpFamily): ListedRule[] {
	const out: ListedRule[] = [];
	for (const t of rs.tables.values()) for (const c of t.chains.values()) for (const r of c.rules) if (commentOf(r)?.startsWith(TAG_PREFIX)) out.push(listed(r, backend, family));
	return out;
}

/** Every `-j TRACE` rule, tracewatch's or not. */
export function traceRules(rs: Ruleset, backend: Backend, family: IpFamily): ListedRule[] {
	const out: ListedRule[] = [];
	for (const t of rs.tables.values()) for (const c of t.chains.values()) for (const r of c.rules) if (r.target === 'TRACE') out.push(listed(r, backend, family));
	return out;
}

/** Rules other than tracewatch's own: what decides whether a backend is "in use". */
export function countForeignRules(rs: Ruleset): number {
	let n = 0;
	for (const t of rs.tables.values()) for (const c of t.chains.values()) for (const r of c.rules) if (!commentOf(r)?.startsWith(TAG_PREFIX)) n++;
	return n;
}

/** The run id from a tag: `tracewatch:20261122T053112-4242` → `20261122T053112-4242`. */
export function runIdOf(tag: string): string {
	return tag.slice(TAG_PREFIX.length);
}
