/**
 * Inserting and removing TRACE rules, one rule at a time with the backend's own tool.
 *
 * Input:  TraceRuleSpec[] from buildTraceRules, a Runner
 * Output: the rules inserted (`iptables-nft -w 5 -t raw -I PREROUTING 1 … -j TRACE`), and on
 *         removal a report per rule: removed, already gone, or failed with the command to run.
 *
 * Never a whole-ruleset restore: a save/restore cycle races with kube-proxy and Calico rewriting
 * their rules and has locked nodes out. Everything here is synchronous (spawnSync), so removal
 * also works from a process 'exit' handler.
 */
import {parseRuleset} from '../parser/ruleset.js';
import {failureText, formatCommand, type Runner} from './exec.js';
import type {IpFamily} from './filters.js';
import type {Probe} from './probe.js';
import {BACKENDS, deleteArgs, FAMILIES, familyName, insertArgs, iptablesTool, LOCK_WAIT, runIdOf, saveTool, taggedRules, type Backend, type ListedRule, type TraceRuleSpec} from './rules.js';

export interface Removal {
	readonly tool: string;
	readonly table: string;
	readonly chain: string;
	readonly spec: readonly string[];
	readonly outcome: 'removed' | 'gone' | 'failed';
	readonly error?: string;
	/** The command that removes it (to run by hand when it failed). */
	readonly command: string;
}

/** iptables says a rule or chain is not there: the rule is already gone. */
const NOT_THERE = /Bad rule|does a matching rule exist|No chain\/target\/match|does not exist|No such file or directory/i;

/** Removes one rule by its full specification; tells "already gone" apart from a failure. */
export function removeRule(runner: Runner, tool: string, rule: {readonly table: string; readonly chain: string; readonly spec: readonly string[]}): Removal {
	const args = deleteArgs(rule);
	const base = {tool, table: rule.table, chain: rule.chain, spec: rule.spec, command: formatCommand(tool, args)};
	const r = runner.run(tool, args);
	if (r.code === 0) return {...base, outcome: 'removed'};
	// Did it fail because the rule is not there (flushed, restored over, removed by hand)?
	const check = runner.run(tool, ['-w', LOCK_WAIT, '-t', rule.table, '-C', rule.chain, ...rule.spec]);
	if (check.code === 1 && NOT_THERE.test(check.stderr)) return {...base, outcome: 'gone'};
	return {...base, outcome: 'failed', error: failureText(r)};
}

/**
 * The rules of one run: inserted in order, removed in reverse. Knows at every moment which of
 * its rules are in place, so any exit path can remove exactly those.
 */
export class TraceArm {
	private readonly placed: TraceRuleSpec[] = [];
	readonly removals: Removal[] = [];

	constructor(
		private readonly runner: Runner,
		readonly rules: readonly TraceRuleSpec[],
	) {}

	/** Rules in place now. */
	get armed(): readonly TraceRuleSpec[] {
		return this.placed;
	}

	/** Inserts every rule; on the first failure removes those already inserted and returns the error. */
	insertAll(): {ok: true} | {ok: false; error: string; command: string} {
		for (const rule of this.rules) {
			const tool = iptablesTool(rule.backend, rule.family);
			const args = insertArgs(rule);
			const r = this.runner.run(tool, args);
			if (r.code !== 0) {
				this.removeAll();
				return {ok: false, error: failureText(r), command: formatCommand(tool, args)};
			}
			this.placed.push(rule);
		}
		return {ok: true};
	}

	/** Removes every rule still in place (last inserted first). Safe to call more than once. */
	removeAll(): Removal[] {
		const done: Removal[] = [];
		while (this.placed.length > 0) {
			const rule = this.placed.pop()!;
			const removal = removeRule(this.runner, iptablesTool(rule.backend, rule.family), rule);
			done.push(removal);
			this.removals.push(removal);
		}
		return done;
	}
}

export interface TaggedListing {
	readonly backend: Backend;
	readonly family: IpFamily;
	readonly tool: string;
	/** `listed`: `rules` is complete; `skipped`: nothing to look at (no tables, tool missing); `failed`: see `error`. */
	readonly state: 'listed' | 'skipped' | 'failed';
	readonly why?: string;
	readonly rules: readonly ListedRule[];
}

/** Lists tracewatch's rules in one backend and family, without creating any table. */
export function listTagged(probe: Probe, backend: Backend, family: IpFamily): TaggedListing {
	const tool = iptablesTool(backend, family);
	const save = saveTool(backend, family);
	const base = {backend, family, tool, rules: []};
	if (probe.which(tool) === undefined || probe.which(save) === undefined) return {...base, state: 'skipped', why: `${tool} is not installed`};
	if (backend === 'legacy') {
		const names = probe.read(family === 'ipv6' ? '/proc/net/ip6_tables_names' : '/proc/net/ip_tables_names');
		if (names.text === undefined && names.error === 'no such file') return {...base, state: 'skipped', why: 'no legacy tables'};
		if (names.text === undefined) return {...base, state: 'failed', why: `cannot read the legacy table list: ${names.error}`};
		if (names.text.trim() === '') return {...base, state: 'skipped', why: 'no legacy tables'};
	}
	const r = probe.run(save, ['-c']);
	if (r.code !== 0) return {...base, state: 'failed', why: `${save} failed: ${failureText(r)}`};
	return {...base, state: 'listed', rules: taggedRules(parseRuleset(r.stdout, save), backend, family)};
}

export interface DisarmReport {
	readonly listings: readonly TaggedListing[];
	readonly removals: ReadonlyArray<Removal & {readonly rule: ListedRule}>;
	/** Tagged rules still present after removal (listed again). */
	readonly remaining: readonly ListedRule[];
}

/** Removes every tracewatch rule (of one run, with `runId`) in the given backends and families. */
export function disarmAll(
	probe: Probe,
	options: {readonly backends?: readonly Backend[]; readonly families?: readonly IpFamily[]; readonly runId?: string; readonly dryRun?: boolean} = {},
): DisarmReport {
	const listings: TaggedListing[] = [];
	const removals: Array<Removal & {rule: ListedRule}> = [];
	const remaining: ListedRule[] = [];
	const mine = (r: ListedRule) => options.runId === undefined || (r.tag !== undefined && runIdOf(r.tag) === options.runId);
	for (const backend of options.backends ?? BACKENDS) {
		for (const family of options.families ?? FAMILIES) {
			const listing = listTagged(probe, backend, family);
			listings.push(listing);
			const targets = listing.rules.filter(mine);
			if (targets.length === 0) continue;
			if (options.dryRun) {
				for (const rule of targets) removals.push({tool: listing.tool, table: rule.table, chain: rule.chain, spec: rule.spec, outcome: 'removed', command: formatCommand(listing.tool, deleteArgs(rule)), rule});
				continue;
			}
			for (const rule of targets) removals.push({...removeRule(probe, listing.tool, rule), rule});
			const again = listTagged(probe, backend, family);
			remaining.push(...again.rules.filter(mine));
		}
	}
	return {listings, removals, remaining};
}

export function describeRule(r: Pick<ListedRule, 'backend' | 'family' | 'table' | 'chain'>): string {
	return `${r.backend} ${familyName(r.family)} ${r.table} ${r.chain}`;
}
