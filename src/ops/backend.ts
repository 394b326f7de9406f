/**
 * Which iptables backend to trace with: the one that holds the rules, refusing to guess when
 * both legacy and nft do.
 *
 * Input:  HostFacts, the family, and --backend (auto|legacy|nft)
 * Output: {backend:'nft', reason:'iptables-nft holds the rules (42 rules in 3 tables)'}
 *         or {ambiguous:true, reason:'…'} when both backends hold rules and --backend was not given.
 */
import type {IpFamily} from './filters.js';
import {nativeTablesFor, viewOf, type HostFacts} from './host.js';
import {familyName, iptablesTool, type Backend} from './rules.js';

export type BackendRequest = Backend | 'auto';

export interface BackendChoice {
	readonly backend?: Backend;
	readonly reason: string;
	/** Both backends hold rules: the user must choose with --backend. */
	readonly ambiguous?: boolean;
}

export interface BackendUse {
	/** Rules (other than tracewatch's) in iptables-legacy; undefined when they could not be read. */
	readonly legacy?: number;
	/** Rules in iptables-nft tables; undefined when they could not be read. */
	readonly nft?: number;
	/** Rules in native nftables tables that see this family. */
	readonly native: number;
	readonly legacyInUse: boolean;
	readonly nftInUse: boolean;
}

export function backendUse(facts: Pick<HostFacts, 'views' | 'nft'>, family: IpFamily): BackendUse {
	const lv = viewOf(facts, 'legacy', family);
	const nv = viewOf(facts, 'nft', family);
	const legacy = lv?.state === 'read' ? lv.rules : undefined;
	const nft = nv?.state === 'read' ? nv.rules : undefined;
	const native = nativeTablesFor(facts, family).reduce((n, t) => n + t.rules, 0);
	return {...(legacy !== undefined ? {legacy} : {}), ...(nft !== undefined ? {nft} : {}), native, legacyInUse: (legacy ?? 0) > 0, nftInUse: (nft ?? 0) > 0 || native > 0};
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function describeNftUse(u: BackendUse): string {
	const parts: string[] = [];
	if ((u.nft ?? 0) > 0) parts.push(`${plural(u.nft!, 'rule')} in iptables-nft tables`);
	if (u.native > 0) parts.push(`${plural(u.native, 'rule')} in native nftables tables`);
	return parts.join(' and ');
}

export function chooseBackend(facts: Pick<HostFacts, 'views' | 'nft' | 'tools' | 'iptablesDefault'>, family: IpFamily, requested: BackendRequest): BackendChoice {
	const installed = (b: Backend) => facts.tools[iptablesTool(b, family)] !== false;
	if (requested !== 'auto') {
		if (!installed(requested)) return {reason: `${iptablesTool(requested, family)} is not installed`};
		return {backend: requested, reason: 'chosen with --backend'};
	}
	const u = backendUse(facts, family);
	if (u.legacyInUse && u.nftInUse) {
		return {
			ambiguous: true,
			reason: `both backends hold ${familyName(family)} rules: iptables-legacy ${plural(u.legacy!, 'rule')}, nftables ${describeNftUse(u)}. Every packet passes through both, and their trace output goes to different places; choose the one whose rules you are debugging with --backend legacy or --backend nft ("tracewatch doctor" explains)`,
		};
	}
	let backend: Backend;
	let reason: string;
	if (u.legacyInUse) {
		backend = 'legacy';
		reason = `iptables-legacy holds the ${familyName(family)} rules (${plural(u.legacy!, 'rule')})`;
	} else if (u.nftInUse) {
		backend = 'nft';
		reason = `nftables holds the ${familyName(family)} rules (${describeNftUse(u)})`;
	} else {
		backend = facts.iptablesDefault ?? 'nft';
		const unread = u.legacy === undefined || u.nft === undefined;
		reason = `${unread ? 'the rules could not be read' : `no ${familyName(family)} rules in either backend yet`}; ${facts.iptablesDefault ? `the iptables command on this host is iptables-${facts.iptablesDefault}` : 'nft is the default of current distributions'}`;
	}
	if (!installed(backend)) {
		const other: Backend = backend === 'nft' ? 'legacy' : 'nft';
		if (!installed(other)) return {reason: `neither ${iptablesTool('legacy', family)} nor ${iptablesTool('nft', family)} is installed`};
		if (u.legacyInUse || u.nftInUse) return {reason: `${reason}, but ${iptablesTool(backend, family)} is not installed`};
		return {backend: other, reason: `${iptablesTool(backend, family)} is not installed; using ${iptablesTool(other, family)}`};
	}
	return {backend, reason};
}
