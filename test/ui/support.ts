/**
 * Helpers for the interactive view's tests: real testdata replayed into a TraceStore (the way
 * the CLI feeds the view), and frames made comparable.
 */
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import type {Finding} from '../../src/model/findings/types.js';
import {Pipeline} from '../../src/model/pipeline.js';
import {TraceStore} from '../../src/model/store.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import type {ParsedLine} from '../../src/parser/types.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');
export const exists = (path: string): boolean => existsSync(`${ROOT}${path}`);

/** Kernel TRACE lines of TCP, UDP and an ICMP error, with the dump taken with them (in git, stable). */
export const LEGACY = {trace: 'testdata/formats/dmesg-legacy-tcp-udp-icmperr.log', rules: 'testdata/formats/rules/trace-tcp-udp-legacy-b.save'};
/** xtables-monitor trace of a k3s ClusterIP connection, DNAT through KUBE-SERVICES (in git, stable). */
export const K3S = {trace: 'testdata/corpus/trace-xtables-monitor/k3s-calico-vxlan-clusterip-dnat-futoneng.txt'};
/** A capture: forwarded TCP through DNAT and MASQUERADE. */
export const FWD = {trace: 'testdata/dmesg/fwd-dnat-masq/dmesg-T.log', rules: 'testdata/dmesg/fwd-dnat-masq/iptables.save'};
/** A capture: a pod's SYNs leave unmasqueraded and get no reply (a finding). */
export const WIFI = {trace: 'testdata/dmesg/wifi-no-reply/dmesg-T.log', rules: 'testdata/dmesg/wifi-no-reply/iptables.save'};

export interface StoreFrom {
	readonly trace: string;
	readonly rules?: string;
	/** Findings as the CLI computes them (true), none (false), or these. @default true */
	readonly findings?: boolean | (() => readonly Finding[]);
	readonly keep?: number;
	/** Feed only the first N lines; the input does not end. */
	readonly lines?: number;
}

/**
 * A store fed a real trace file; ended unless `lines` is given. The clock stands still (rate 0)
 * until `quiet()` moves it on, as a live input going quiet does, so open packets complete.
 */
export function storeFrom(o: StoreFrom): {store: TraceStore; pipeline: Pipeline; lines: ParsedLine[]; quiet: () => void} {
	let clock = 0;
	const now = () => clock;
	const pipeline = new Pipeline({rules: o.rules ? [parseRuleset(read(o.rules), o.rules)] : [], windowSeconds: 1, now});
	const findings = o.findings === false ? () => [] : typeof o.findings === 'function' ? o.findings : undefined;
	const store = new TraceStore(pipeline, {now, ...(o.keep ? {keep: o.keep} : {}), ...(findings ? {findings} : {})});
	const index = pipeline.addInput(o.trace);
	const lines = parseTraceText(read(o.trace), index);
	for (const line of lines.slice(0, o.lines ?? lines.length)) store.push(line);
	if (o.lines === undefined) store.end();
	else store.flush();
	const quiet = () => {
		clock += 1000;
		store.tick();
		store.flush();
	};
	return {store, pipeline, lines, quiet};
}

/** The frame without trailing spaces, so it can be compared as text. */
export function clean(frame: string | undefined): string {
	return (frame ?? '')
		.split('\n')
		.map(l => l.trimEnd())
		.join('\n');
}

/** Waits for Ink: effects attach input handlers a tick after render, frames follow input. */
export const tick = (ms = 30) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** Arrow keys and friends as a terminal sends them. */
export const KEY = {
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	shiftTab: '\u001B[Z',
	up: '\u001B[A',
	down: '\u001B[B',
	pageDown: '\u001B[6~',
	pageUp: '\u001B[5~',
	backspace: '\u007F',
	ctrlU: '\u0015',
} as const;
