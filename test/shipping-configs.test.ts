/**
 * The configurations docs/shipping.md gives for shipping the agent's records, read from the doc's
 * fenced ```yaml blocks: the Kubernetes DaemonSet and its journal variant ("## A DaemonSet"),
 * Fluent Bit's fluent-bit.yaml ("## Fluent Bit") and Vector's configuration ("## Vector").
 *
 * - Syntax: each block parses with the `yaml` package without an error or a warning (duplicate
 *   keys included). The tools' own validators (`fluent-bit --dry-run`, `vector validate`,
 *   `kubectl apply --dry-run=server`) are not run: none is available offline here.
 * - Cross-references: the DaemonSet's selector selects its pods, its containers mount volumes it
 *   defines, of hostPath types Kubernetes knows, and name no path off those mounts nor a variable
 *   their env does not set; Fluent Bit's tail reads the log file the kubelet names after this
 *   DaemonSet's pod, and its filter and output match the tail's tag; Vector's components take
 *   their inputs from components it defines, its label selector selects the DaemonSet's pods, and
 *   every field its sink's templates name is on every record the agent wrote.
 * - The commands work: the DaemonSet's container commands run, with `tracewatch` on PATH, the node's
 *   name in NODE_NAME, the state in a scratch directory and the real capture
 *   testdata/nodes/working/node-a/kmsg.log (kmsg records) in place of /dev/kmsg, and for the
 *   journal variant as `journalctl -o json` gives it; both write the capture's packets, labelled
 *   with the node.
 *
 * The runs are child processes driven by their output and their exit, never by the clock.
 */
import {spawn} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parseDocument} from 'yaml';
import {read, replayFiles, ROOT} from './support/replay.js';
import {completeRecords, OutputWatch} from './support/wait.js';

const DOC = 'docs/shipping.md';
const CAPTURE = 'testdata/nodes/working/node-a/kmsg.log';
const NODE = 'node-a';
const base = mkdtempSync(join(tmpdir(), 'tracewatch-shipping-'));
afterAll(() => rmSync(base, {recursive: true, force: true}));

/** A ```yaml block of the doc: its section, the doc's line its first line is on, its text. */
interface Block {
	readonly section: string;
	readonly line: number;
	readonly text: string;
}

/** The ```yaml blocks of the section `## heading`, up to the next `## ` heading. */
function yamlBlocks(heading: string, doc = read(DOC)): Block[] {
	const lines = doc.split('\n');
	const start = lines.indexOf(`## ${heading}`);
	if (start === -1) throw new Error(`${DOC} has no "## ${heading}" section`);
	const blocks: Block[] = [];
	for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
		if (lines[i] !== '```yaml') continue;
		const end = lines.indexOf('```', i + 1);
		if (end === -1) throw new Error(`${DOC}:${i + 1} (## ${heading}): the yaml block is not closed`);
		blocks.push({section: heading, line: i + 2, text: `${lines.slice(i + 1, end).join('\n')}\n`});
		i = end;
	}
	return blocks;
}

/** A block parsed as YAML; any error or warning fails, naming the section and the doc's line. */
function parse(block: Block): unknown {
	const doc = parseDocument(block.text);
	const problems = [...doc.errors, ...doc.warnings];
	if (problems.length > 0) {
		const at = (line: number | undefined) => `${DOC}:${block.line + (line ?? 1) - 1} (## ${block.section})`;
		throw new Error(problems.map(p => `${at(p.linePos?.[0].line)}: ${p.code}: ${p.message}`).join('\n'));
	}
	return doc.toJS();
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

interface EnvVar {
	name: string;
	value?: string;
	valueFrom?: {fieldRef?: {fieldPath?: string}};
}
interface Container {
	name: string;
	command: string[];
	env?: EnvVar[];
	securityContext?: {privileged?: boolean};
	volumeMounts?: Array<{name: string; mountPath: string; readOnly?: boolean}>;
}
interface Volume {
	name: string;
	hostPath?: {path: string; type?: string};
}
interface PodSpec {
	containers: Container[];
	volumes?: Volume[];
}
interface DaemonSet {
	apiVersion: string;
	kind: string;
	metadata: {name: string; namespace?: string};
	spec: {selector: {matchLabels: Record<string, string>}; template: {metadata: {labels: Record<string, string>}; spec: PodSpec}};
}

/** Kubernetes' HostPathType values (core/v1 HostPathVolumeSource.type). */
const HOST_PATH_TYPES = new Set(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']);

/** The DaemonSet (the section's first block) and its journal variant (the second: the pod's `containers` and `volumes`). */
function daemonSets(): {kmsg: DaemonSet; journal: DaemonSet; fragment: Record<string, unknown>} {
	const blocks = yamlBlocks('A DaemonSet');
	expect(blocks.length, 'the DaemonSet and its journal variant').toBe(2);
	const kmsg = parse(blocks[0]!) as DaemonSet;
	const fragment = parse(blocks[1]!) as Record<string, unknown>;
	const journal = structuredClone(kmsg);
	journal.spec.template.spec = {...journal.spec.template.spec, ...(fragment as Partial<PodSpec>)};
	return {kmsg, journal, fragment};
}

/** The shell script a container runs (`command: [sh, -c, SCRIPT]`). */
function script(c: Container): {shell: string; text: string} {
	const [shell, flag, text, ...rest] = c.command;
	expect(['sh', 'bash'], `container ${c.name}: command runs a shell`).toContain(shell);
	expect([flag, rest], `container ${c.name}: command is [${shell}, -c, SCRIPT]`).toEqual(['-c', []]);
	return {shell: shell!, text: text!};
}

/** The absolute paths a script names (arguments, redirections, process substitutions). */
const pathsIn = (text: string) => text.match(/(?<=^|[\s(<="'])\/[^\s"')]+/g) ?? [];

/** What is wrong in a DaemonSet, as sentences (none: nothing found). */
function daemonSetProblems(ds: DaemonSet, what: string): string[] {
	const problems: string[] = [];
	const say = (s: string) => problems.push(`${what}: ${s}`);
	if (ds.apiVersion !== 'apps/v1') say(`apiVersion is ${ds.apiVersion}, not apps/v1`);
	if (ds.kind !== 'DaemonSet') say(`kind is ${ds.kind}, not DaemonSet`);
	const selector = Object.entries(ds.spec.selector.matchLabels ?? {});
	const labels = ds.spec.template.metadata.labels ?? {};
	if (selector.length === 0) say('spec.selector.matchLabels is empty');
	for (const [k, v] of selector) if (labels[k] !== v) say(`the selector's ${k}=${v} is not among the pod template's labels ${JSON.stringify(labels)}`);
	const pod = ds.spec.template.spec;
	const volumes = new Map((pod.volumes ?? []).map(v => [v.name, v]));
	if (volumes.size !== (pod.volumes ?? []).length) say('two volumes have the same name');
	for (const v of volumes.values()) {
		if (v.hostPath && !HOST_PATH_TYPES.has(v.hostPath.type ?? '')) say(`volume ${v.name}: hostPath type ${v.hostPath.type} is none of Kubernetes' (${[...HOST_PATH_TYPES].filter(Boolean).join(', ')})`);
	}
	if (pod.containers.length === 0) say('no container');
	for (const c of pod.containers) {
		const mounts = c.volumeMounts ?? [];
		for (const m of mounts) if (!volumes.has(m.name)) say(`container ${c.name} mounts volume ${m.name}, which spec.template.spec.volumes does not define`);
		const {text} = script(c);
		for (const path of pathsIn(text)) {
			if (!mounts.some(m => path === m.mountPath || path.startsWith(`${m.mountPath}/`))) say(`container ${c.name}'s command names ${path}, on none of its mounts (${mounts.map(m => m.mountPath).join(', ')})`);
		}
		const env = new Set((c.env ?? []).map(e => e.name));
		for (const [, name] of text.matchAll(/\$\{?([A-Za-z_]\w*)/g)) if (!env.has(name!)) say(`container ${c.name}'s command uses $${name}, which its env does not set`);
	}
	return problems;
}

// ---------------------------------------------------------------------------------------------
// Running the containers' commands

type Rec = Record<string, unknown>;

const records = completeRecords;
const packets = (rs: Rec[]) => rs.filter(r => 'id' in r);

/** A directory holding `tracewatch`: this checkout's CLI, as the image has it on PATH. */
function shims(): string {
	const dir = join(base, 'bin');
	if (!existsSync(dir)) {
		mkdirSync(dir);
		writeFileSync(join(dir, 'tracewatch'), `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, 'bin/tracewatch.js')}' "$@"\n`);
		chmodSync(join(dir, 'tracewatch'), 0o755);
	}
	return dir;
}

/** The node's stand-in for each of a container's mounts (mountPath → local path): /dev/kmsg is the capture, a directory a scratch one. */
function standIns(ds: DaemonSet, c: Container, dir: string): Map<string, string> {
	const volumes = new Map((ds.spec.template.spec.volumes ?? []).map(v => [v.name, v]));
	const stand = new Map<string, string>();
	for (const m of c.volumeMounts ?? []) {
		const host = volumes.get(m.name)?.hostPath;
		if (host?.path === '/dev/kmsg') stand.set(m.mountPath, join(ROOT, CAPTURE));
		else if (host?.type === 'Directory' || host?.type === 'DirectoryOrCreate') stand.set(m.mountPath, mkdtempSync(join(dir, `${m.name}-`)));
		else throw new Error(`no stand-in for volume ${m.name} (${JSON.stringify(host)}) mounted at ${m.mountPath}`);
	}
	return stand;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Starts a container's command as its pod would on node-a: the script with `edit` applied, then
 * each mount's path replaced by its stand-in, NODE_NAME set where the env takes it from the node.
 */
function runContainer(c: Container, stand: Map<string, string>, edit: (text: string) => string = t => t): OutputWatch {
	const {shell, text} = script(c);
	let run = edit(text);
	for (const [mount, local] of [...stand].sort((a, b) => b[0].length - a[0].length)) {
		run = run.replace(new RegExp(`${escapeRe(mount)}(?=[/\\s"')]|$)`, 'g'), local);
	}
	const env: NodeJS.ProcessEnv = {...process.env, PATH: `${shims()}:${process.env['PATH']}`, NO_COLOR: '1'};
	for (const e of c.env ?? []) if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env[e.name] = NODE;
	return new OutputWatch(spawn(shell, ['-c', run], {env, timeout: 120_000, killSignal: 'SIGKILL'}));
}

/** The capture's records as `journalctl -o json` gives them (as in test/agent.test.ts). */
function journalLines(): string {
	return read(CAPTURE)
		.trimEnd()
		.split('\n')
		.map(r => {
			const [, seq, usec, message] = /^\d+,(\d+),(\d+),[^;]*;(.*)$/.exec(r)!;
			return `${JSON.stringify({__CURSOR: `s=0f6e1a5d3c2b4a1988776655aabbccdd;i=${Number(seq).toString(16)};b=139644f004a04254bc435ed7e402f3c6;m=${Number(usec).toString(16)};t=0;x=0`, _SOURCE_MONOTONIC_TIMESTAMP: usec, MESSAGE: message, _TRANSPORT: 'kernel'})}\n`;
		})
		.join('');
}

interface Run {
	readonly records: Rec[];
	readonly stderr: string;
	readonly exit: {code: number | null; signal: NodeJS.Signals | null};
	/** The scratch directories standing for the mounts (mountPath → local path). */
	readonly stand: Map<string, string>;
}

/**
 * Both variants run at once. The journal one ends with its input (`cat` ends where journalctl
 * follows); the kmsg one follows the capture for ever, so it is stopped (SIGTERM, as the kubelet
 * stops a pod) once it has written every packet the journal run wrote.
 */
async function runBoth(): Promise<{kmsg: Run; journal: Run}> {
	const {kmsg, journal} = daemonSets();
	const kc = kmsg.spec.template.spec.containers[0]!;
	const jc = journal.spec.template.spec.containers[0]!;
	const kStand = standIns(kmsg, kc, mkdtempSync(join(base, 'kmsg-')));
	const jDir = mkdtempSync(join(base, 'journal-'));
	const jStand = standIns(journal, jc, jDir);
	const file = join(jDir, 'journal.json');
	writeFileSync(file, journalLines());
	const k = runContainer(kc, kStand);
	try {
		const j = runContainer(jc, jStand, text => {
			const calls = text.match(/journalctl\b[^|)]*/g) ?? [];
			expect(calls.length, `the journal variant's command runs journalctl once: ${text}`).toBe(1);
			return text.replace(calls[0]!, `cat '${file}' `);
		});
		const jExit = await j.exited;
		const want = packets(records(j.stdout())).map(r => r['id']);
		await k.waitFor(out => {
			const ids = new Set(packets(records(out)).map(r => r['id']));
			return want.every(id => ids.has(id));
		}, {what: `packets ${want.join(', ')} from the kmsg variant`, where: 'stdout'});
		k.child.kill('SIGTERM');
		const kExit = await k.exited;
		return {
			kmsg: {records: records(k.stdout()), stderr: k.stderr(), exit: kExit, stand: kStand},
			journal: {records: records(j.stdout()), stderr: j.stderr(), exit: jExit, stand: jStand},
		};
	} finally {
		if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
	}
}

let ran: Promise<{kmsg: Run; journal: Run}> | undefined;
/** The runs, started once for the tests that look at them. */
const runs = () => (ran ??= runBoth());

// ---------------------------------------------------------------------------------------------
// Fluent Bit and Vector

/** A glob's regex: `*` any run of characters (but `/` where `path`), `?` one. */
function globRe(glob: string, path: boolean): RegExp {
	const any = path ? '[^/]' : '.';
	return new RegExp(`^${glob.split('').map(ch => (ch === '*' ? `${any}*` : ch === '?' ? any : escapeRe(ch))).join('')}$`);
}

/** The log file the kubelet links in /var/log/containers for a DaemonSet's container: `<pod>_<namespace>_<container>-<container id>.log`. */
function kubeletLogFile(ds: DaemonSet, container: string): string {
	return `/var/log/containers/${ds.metadata.name}-x7k2p_${ds.metadata.namespace ?? 'default'}_${container}-${'0123456789abcdef'.repeat(4)}.log`;
}

/** Whether a Kubernetes equality-based label selector (`a=b,c!=d,e,!f`) selects these labels. */
function selects(selector: string, labels: Record<string, string>): boolean {
	return selector
		.split(',')
		.map(s => s.trim())
		.every(req => {
			let m: RegExpExecArray | null;
			if ((m = /^([\w./-]+)\s*!=\s*([\w.-]*)$/.exec(req))) return labels[m[1]!] !== m[2];
			if ((m = /^([\w./-]+)\s*==?\s*([\w.-]*)$/.exec(req))) return labels[m[1]!] === m[2];
			if ((m = /^!([\w./-]+)$/.exec(req))) return !(m[1]! in labels);
			if ((m = /^([\w./-]+)$/.exec(req))) return m[1]! in labels;
			throw new Error(`label selector requirement "${req}": set-based requirements (in, notin) are not checked here`);
		});
}

/** Every `{{ field }}` in the strings (keys too) of a value. */
function templateFields(v: unknown): string[] {
	if (typeof v === 'string') return [...v.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map(m => m[1]!);
	if (Array.isArray(v)) return v.flatMap(templateFields);
	if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [...templateFields(k), ...templateFields(x)]);
	return [];
}

/** A record's field at a dotted path (`node`, `kubernetes.pod_name`; Vector's leading `.` allowed). */
function field(r: Rec, path: string): unknown {
	return path
		.replace(/^\./, '')
		.split('.')
		.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Rec)[k] : undefined), r);
}

// ---------------------------------------------------------------------------------------------

describe(`${DOC}: the DaemonSet, Fluent Bit and Vector configurations`, () => {
	it('each yaml block parses without an error or a warning (and a broken one is reported with its section and line)', () => {
		const blocks = ['A DaemonSet', 'Fluent Bit', 'Vector'].flatMap(s => yamlBlocks(s));
		expect(blocks.map(b => b.section)).toEqual(['A DaemonSet', 'A DaemonSet', 'Fluent Bit', 'Vector']);
		const problems = blocks.flatMap(b => {
			try {
				parse(b);
				return [];
			} catch (error) {
				return [(error as Error).message];
			}
		});
		expect(problems).toEqual([]);
		// The check itself: a duplicate key on the block's third line is reported at the doc's line.
		expect(() => parse({section: 'Vector', line: 100, text: 'sinks:\n  a: 1\n  a: 2\n'})).toThrow(/docs\/shipping\.md:102 \(## Vector\): DUPLICATE_KEY/);
	});

	it('the DaemonSet: its selector selects its pods, it mounts volumes it defines (hostPath types Kubernetes knows), its command names paths on them and variables its env sets', () => {
		const {kmsg} = daemonSets();
		expect(daemonSetProblems(kmsg, 'the DaemonSet')).toEqual([]);
		const c = kmsg.spec.template.spec.containers[0]!;
		expect(c.env?.find(e => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'NODE_NAME is the node the pod runs on').toBe('spec.nodeName');
		expect(script(c).text).toMatch(/^exec tracewatch /);
		// The check itself: a typo in the selector, a volume or a path is found.
		const typo = structuredClone(kmsg);
		typo.spec.selector.matchLabels = {app: 'tracewach'};
		typo.spec.template.spec.volumes![0]!.name = 'kmesg';
		typo.spec.template.spec.volumes![1]!.hostPath!.type = 'DirectoryOrCreated';
		typo.spec.template.spec.containers[0]!.command[2] = script(c).text.replace('/var/lib/tracewatch/', '/var/lib/tracewach/');
		expect(daemonSetProblems(typo, 'typo')).toEqual([
			'typo: the selector\'s app=tracewach is not among the pod template\'s labels {"app":"tracewatch"}',
			`typo: volume state: hostPath type DirectoryOrCreated is none of Kubernetes' (${[...HOST_PATH_TYPES].filter(Boolean).join(', ')})`,
			'typo: container tracewatch mounts volume kmsg, which spec.template.spec.volumes does not define',
			'typo: container tracewatch\'s command names /var/lib/tracewach/kmsg.state, on none of its mounts (/dev/kmsg, /var/lib/tracewatch)',
		]);
	});

	it('the journal variant (the pod\'s containers and volumes, indented as they sit in the DaemonSet) checks as the DaemonSet does, and needs no privilege nor host device', () => {
		const {journal, fragment} = daemonSets();
		expect(Object.keys(fragment).sort()).toEqual(['containers', 'volumes']);
		expect(daemonSetProblems(journal, 'the journal variant')).toEqual([]);
		const pod = journal.spec.template.spec;
		expect(pod.containers.map(c => c.securityContext?.privileged ?? false)).toEqual(pod.containers.map(() => false));
		expect((pod.volumes ?? []).filter(v => /Device$/.test(v.hostPath?.type ?? '')), 'host devices mounted').toEqual([]);
		expect(script(pod.containers[0]!).text).toMatch(/^exec tracewatch .*< <\(journalctl .*-o json/);
	});

	it('the commands run: with /dev/kmsg a real capture and the journal as journalctl -o json gives it, both write its packets labelled with the node', async () => {
		const {kmsg, journal} = await runs();
		const want = replayFiles([CAPTURE]).packets.map(p => p.id);
		expect(want.length).toBeGreaterThan(10);
		expect(journal.exit).toEqual({code: 0, signal: null});
		for (const [what, run] of [['kmsg', kmsg], ['journal', journal]] as const) {
			expect(run.stderr, `${what} variant's standard error`).toBe('');
			expect(packets(run.records).map(r => r['id']), `${what} variant's packets`).toEqual(want);
			// Packets and revisions name the node; journeys (written when the input ends: the journal run's) name it in theirs.
			for (const r of run.records) expect(r, `${what} variant's record`).toMatchObject('journey' in r ? {tracewatch: 1, journey: {from: {node: NODE}}} : {tracewatch: 1, node: NODE});
		}
		const same = (r: Rec) => ({id: r['id'], node: r['node'], proto: r['proto'], src: r['src'], dst: r['dst'], spt: r['spt'], dpt: r['dpt'], verdict: r['verdict']});
		expect(packets(journal.records).map(same)).toEqual(packets(kmsg.records).map(same));
		// Each kept its place in the state file its command names, in the state volume.
		for (const [run, name] of [[kmsg, 'kmsg.state'], [journal, 'journal.state']] as const) {
			const state = JSON.parse(readFileSync(join(run.stand.get('/var/lib/tracewatch')!, name), 'utf8')) as Rec;
			expect(state).toMatchObject({node: NODE, emitted: want.at(-1)});
		}
	});

	it('Fluent Bit: the tail reads the kubelet\'s log file of the DaemonSet\'s container, and each filter and output matches its tag', () => {
		const [block, ...more] = yamlBlocks('Fluent Bit');
		expect(more).toEqual([]);
		const conf = parse(block!) as {service?: Record<string, unknown>; parsers?: Array<{name: string}>; pipeline: Record<'inputs' | 'filters' | 'outputs', Array<Record<string, unknown>>>};
		const {inputs, filters = [], outputs} = conf.pipeline;
		for (const [what, list] of Object.entries(conf.pipeline)) {
			for (const entry of list) expect(Object.keys(entry).filter(k => k !== k.toLowerCase()), `${what} ${String(entry['name'])}: keys in lower case`).toEqual([]);
		}
		const tails = inputs.filter(i => i['name'] === 'tail');
		expect(tails.length, 'one tail input').toBe(1);
		const tail = tails[0]!;
		const {kmsg, journal} = daemonSets();
		const files = [kmsg, journal].flatMap(ds => ds.spec.template.spec.containers.map(c => kubeletLogFile(ds, c.name)));
		const paths = String(tail['path']).split(',').map(p => globRe(p.trim(), true));
		for (const file of files) expect(paths.some(p => p.test(file)), `the tail's path ${String(tail['path'])} matches ${file}`).toBe(true);
		expect(paths.some(p => p.test(kubeletLogFile({...kmsg, metadata: {...kmsg.metadata, name: 'fluent-bit'}}, 'fluent-bit'))), 'the tail reads another pod\'s log').toBe(false);
		expect(String(tail['multiline.parser']).split(',').map(s => s.trim()), 'the runtime\'s log format').toContain('cri');
		const tag = String(tail['tag']);
		for (const x of [...filters, ...outputs]) {
			const match = x['match_regex'] !== undefined ? new RegExp(String(x['match_regex'])) : globRe(String(x['match']), false);
			expect(match.test(tag), `${String(x['name'])} (match ${String(x['match'] ?? x['match_regex'])}) selects the tail's tag ${tag}`).toBe(true);
		}
		expect(outputs.length).toBeGreaterThan(0);
		for (const f of filters.filter(x => x['name'] === 'parser')) {
			// The cri multiline parser puts the line the runtime wrote in `log`.
			expect(f['key_name'], 'the parser filter parses the line').toBe('log');
			const own = (conf.parsers ?? []).some(p => p.name === f['parser']);
			expect(own || typeof conf.service?.['parsers_file'] === 'string', `parser ${String(f['parser'])} is defined here, or in the parsers_file the service loads`).toBe(true);
		}
	});

	it('Vector: inputs name components it defines, the label selector selects the DaemonSet\'s pods, and the sinks\' templates name fields of every record the agent wrote', async () => {
		const [block, ...more] = yamlBlocks('Vector');
		expect(more).toEqual([]);
		const conf = parse(block!) as Record<'sources' | 'transforms' | 'sinks', Record<string, Record<string, unknown>> | undefined>;
		const sources = conf.sources ?? {};
		const transforms = conf.transforms ?? {};
		const sinks = conf.sinks ?? {};
		const ids = [...Object.keys(sources), ...Object.keys(transforms)];
		const inputsOf = (c: Record<string, unknown>) => (c['inputs'] as string[] | undefined) ?? [];
		const resolve = (input: string) => ids.filter(id => globRe(input, false).test(id));
		for (const [id, c] of Object.entries({...transforms, ...sinks})) {
			expect(inputsOf(c).length, `${id} has inputs`).toBeGreaterThan(0);
			for (const input of inputsOf(c)) expect(resolve(input), `${id}'s input ${input} is a source or transform`).not.toEqual([]);
		}
		// Every sink is fed, through the transforms, by a source.
		const reaches = (id: string, seen = new Set<string>()): boolean =>
			id in sources || (!seen.has(id) && seen.add(id) && inputsOf(transforms[id] ?? {}).flatMap(resolve).some(i => reaches(i, seen)));
		for (const [id, sink] of Object.entries(sinks)) expect(inputsOf(sink).flatMap(resolve).some(i => reaches(i)), `sink ${id} is fed by a source`).toBe(true);
		const {kmsg} = daemonSets();
		const labels = kmsg.spec.template.metadata.labels;
		const k8s = Object.entries(sources).filter(([, s]) => s['type'] === 'kubernetes_logs');
		expect(k8s.length).toBe(1);
		for (const [id, s] of k8s) {
			expect(s['extra_field_selector'], `${id}: a field selector is not checked here`).toBeUndefined();
			expect(typeof s['extra_label_selector'], `${id} selects the agent's pods`).toBe('string');
			expect(selects(String(s['extra_label_selector']), labels), `${id}'s extra_label_selector ${String(s['extra_label_selector'])} selects ${JSON.stringify(labels)}`).toBe(true);
		}
		// The check itself.
		expect(selects('app=tracewach', labels)).toBe(false);
		const fields = [...new Set(templateFields(sinks))];
		const {kmsg: run} = await runs();
		expect(run.records.length).toBeGreaterThan(0);
		for (const f of fields) {
			const without = run.records.filter(r => field(r, f) === undefined || field(r, f) === null);
			expect(without.map(r => r['id'] ?? r['revised']), `records without {{ ${f} }}`).toEqual([]);
		}
	});
});
