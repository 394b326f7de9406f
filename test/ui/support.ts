/**
 * Helpers for the interactive view's tests: real testdata replayed into a TraceStore (the way
 * the CLI feeds the view), the view mounted and driven by keys, each key awaited by what it does
 * to the frame (never by a fixed time), and frames made comparable.
 */
import {existsSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import type {ReactElement} from 'react';
import {render} from 'ink-testing-library';
import type {Finding} from '../../src/model/findings/types.js';
import {Fleet} from '../../src/model/fleet.js';
import {Names} from '../../src/model/names.js';
import {Pipeline} from '../../src/model/pipeline.js';
import {TraceStore} from '../../src/model/store.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import type {ParsedLine} from '../../src/parser/types.js';
import {until, type Deadline} from '../support/wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A file of the repository; testdata named here is in git, so a missing file is an error that says so. */
export const read = (path: string): string => {
	if (!existsSync(`${ROOT}${path}`)) throw new Error(`${path} is missing: it is in git, is the checkout complete?`);
	return readFileSync(`${ROOT}${path}`, 'utf8');
};

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

/** The two-node captures (testdata/nodes): pod A on node-a pings pod B on node-b and opens TCP to it over a flannel VXLAN. */
export const NODES = ['node-a', 'node-b'] as const;
export type NodesVariant = 'working' | 'broken';

export interface FleetFrom {
	readonly variant: NodesVariant;
	/** Each node's own file (`dmesg-T.log`, `kmsg.log`), or the central rsyslog file of both (`central-kern.log`). @default 'dmesg-T.log' */
	readonly file?: string;
	/** Join each node's iptables.save. @default true */
	readonly rules?: boolean;
	/** Read testdata/nodes/cluster.json as --names. @default false */
	readonly names?: boolean;
	readonly keep?: number;
	/** Changes each file's text before it is read (hostile names). */
	readonly edit?: (text: string) => string;
}

/**
 * A store fed the two-node captures through a fleet, as `replay --node node-a=…,… --node
 * node-b=…,…` (or a central log with each node's ruleset) feeds the view; ended.
 */
export function fleetFrom(o: FleetFrom): {store: TraceStore; fleet: Fleet} {
	const dir = `testdata/nodes/${o.variant}`;
	const file = o.file ?? 'dmesg-T.log';
	let names: Names | undefined;
	if (o.names) {
		names = new Names();
		names.read(read('testdata/nodes/cluster.json'), 'testdata/nodes/cluster.json');
	}
	const nodes = NODES.map(name => ({name, rules: o.rules === false ? [] : [parseRuleset(read(`${dir}/${name}/iptables.save`), `${dir}/${name}/iptables.save`)]}));
	const fleet = new Fleet({nodes, windowSeconds: 1, now: () => 0, ...(names ? {names} : {})});
	const store = new TraceStore(fleet, {now: () => 0, ...(o.keep ? {keep: o.keep} : {})});
	const files = file.startsWith('central') ? [{path: `${dir}/${file}`, node: undefined}] : NODES.map(n => ({path: `${dir}/${n}/${file}`, node: n}));
	for (const f of files) {
		const index = fleet.addInput(f.path, f.node);
		for (const line of parseTraceText((o.edit ?? (t => t))(read(f.path)), index)) store.push(line);
	}
	store.end();
	return {store, fleet};
}

/** The frame without trailing spaces, so it can be compared as text. */
export function clean(frame: string | undefined): string {
	return (frame ?? '')
		.split('\n')
		.map(l => l.trimEnd())
		.join('\n');
}

/*
 * When has the view taken a key? Ink (legacy root) renders synchronously when a key or a store
 * publish updates state, so the frame is there when `stdin.write` returns, except for a lone Esc,
 * which Ink's input parser holds for one turn of the event loop. But React runs effects later,
 * from its scheduler: a view that just appeared registers its key handler there, and "the detail
 * keeps its packet" is such an effect. A key sent before they ran goes to the wrong view. So a
 * key is done when the frame has changed and then React's scheduler has run what was queued:
 * a task of the lowest priority, queued in React's own scheduler, runs after all of it.
 */
const inkRequire = createRequire(`${ROOT}node_modules/ink/package.json`);
const scheduler = createRequire(inkRequire.resolve('react-reconciler'))('scheduler') as {
	unstable_scheduleCallback(priority: number, callback: () => null): unknown;
	unstable_IdlePriority: number;
};

/** Resolves once React has run every render and effect queued so far (and any they queued). */
export const reactSettled = (): Promise<void> =>
	new Promise(resolve =>
		scheduler.unstable_scheduleCallback(scheduler.unstable_IdlePriority, () => {
			resolve();
			return null;
		}),
	);

export interface Mounted {
	/** The frame as text, trailing spaces cut. */
	frame(): string;
	/**
	 * Presses keys one at a time; each is done when the frame has changed and React has run its
	 * effects. A key that changes nothing on screen fails here: `send` it and wait for what it
	 * does. Returns the last frame.
	 */
	press(...keys: string[]): Promise<string>;
	/** Writes `text` to the view's stdin as one read (keys that arrive together), without waiting. */
	send(text: string): void;
	/** Waits until the frame matches (then for React's effects); returns it. */
	waitFor(test: RegExp | ((frame: string) => boolean), what?: string, timeoutMs?: number): Promise<string>;
	unmount(): void;
	readonly stdin: {listenerCount(event: string): number};
}

const mounted: Mounted[] = [];

/** Unmounts every view mounted by `mount` (call in afterEach). */
export function unmountAll(): void {
	for (const m of mounted.splice(0)) m.unmount();
}

/**
 * Renders `tree` with ink-testing-library and waits until it is ready: the first frame drawn,
 * React's effects run, and (with `keys`) Ink reading stdin, so the first key is not lost.
 */
export async function mount(tree: ReactElement, o: {keys?: boolean} = {}): Promise<Mounted> {
	const r = render(tree);
	const frame = () => clean(r.lastFrame());
	const show = () => r.lastFrame() ?? '(no frame drawn)';
	const wait = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
		await until(check, {what, timeoutMs, show} satisfies Deadline);
		await reactSettled();
	};
	const m: Mounted = {
		frame,
		async press(...keys) {
			for (const k of keys) {
				const before = r.lastFrame();
				r.stdin.write(k);
				await wait(() => r.lastFrame() !== before, `the frame to change after the key ${JSON.stringify(k)}`);
			}
			return frame();
		},
		send(text) {
			r.stdin.write(text);
		},
		async waitFor(test, what, timeoutMs) {
			const ok = typeof test === 'function' ? test : (f: string) => test.test(f);
			await wait(() => ok(frame()), what ?? String(test), timeoutMs);
			return frame();
		},
		unmount: () => r.unmount(),
		stdin: r.stdin,
	};
	mounted.push(m);
	await wait(() => r.lastFrame() !== undefined, 'the first frame');
	if (o.keys !== false && r.stdin.listenerCount('readable') === 0) throw new Error(`the view does not read keys after its first frame:\n${show()}`);
	return m;
}

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
