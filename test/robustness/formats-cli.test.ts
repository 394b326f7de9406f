/**
 * The containers and wrapped lines through the built CLI: from a file, from stdin, and live
 * from a pipe that stays open (records handed on as they end), with bad records reported at
 * their file and line. Real captures: testdata/formats/journal (scripts/capture-journal.sh) and
 * testdata/formats/wrapped (scripts/wrap-lines.sh). Each run is a child process; each test
 * waits for the output it needs, never for a time. The tests run one after another: a dozen CLI
 * processes at once on two cores took longer than a test may.
 */
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'vitest';
import {ROOT} from '../support/replay.js';
import {completeRecords, OutputWatch, within} from '../support/wait.js';

const BIN = 'bin/tracewatch.js';
const env = {...process.env, NO_COLOR: '1'};
const J = 'testdata/formats/journal';

function start(args: string[], input?: string | Buffer): OutputWatch {
	const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env, timeout: 60_000, killSignal: 'SIGKILL'});
	if (input !== undefined) child.stdin.end(input);
	return new OutputWatch(child);
}

async function run(args: string[], input?: string | Buffer) {
	const watch = start(args, input ?? '');
	const {code} = await within(watch.exited, {what: `tracewatch ${args.join(' ')} to exit`, timeoutMs: 60_000, show: () => watch.show()});
	return {code, stdout: watch.stdout(), stderr: watch.stderr()};
}

/** `tracewatch FILE --format ndjson`, run once per file for the tests that compare with it. */
const ndjsonRuns = new Map<string, ReturnType<typeof run>>();
function ndjsonOf(path: string): ReturnType<typeof run> {
	if (!ndjsonRuns.has(path)) ndjsonRuns.set(path, run([path, '--format', 'ndjson']));
	return ndjsonRuns.get(path)!;
}

const packets = (stdout: string) => completeRecords(stdout).filter(r => 'id' in r);

describe('records and wrapped lines, through the CLI', () => {
	it.for([
		[`${J}/dmesg-J.json`, 57],
		[`${J}/node-a.journal-export`, 29],
		['testdata/formats/wrapped/nat-replies-dmesg.fold80.log', 38],
	] as const)('%s: the same packets from the file and from stdin', async ([path, count], {expect}) => {
		const file = await ndjsonOf(path);
		const stdin = await run(['-', '--format', 'ndjson'], readFileSync(join(ROOT, path)));
		expect([file.code, stdin.code]).toEqual([0, 0]);
		expect(packets(file.stdout)).toHaveLength(count);
		const strip = (ps: Array<Record<string, unknown>>) => JSON.stringify(ps, (k, v: unknown) => (k === 'file' ? undefined : v));
		expect(strip(packets(stdin.stdout))).toBe(strip(packets(file.stdout)));
	});

	it.for([
		[`${J}/node-a.journal-export`, 29],
		['testdata/formats/wrapped/nat-replies-dmesg.fold80.log', 38],
	] as const)('%s: followed (--follow, an agent\'s input), the same packets as the file read whole', async ([path, count], {expect}) => {
		const file = await ndjsonOf(path);
		const follow = start(['--follow', path, '--format', 'ndjson']);
		await follow.waitFor(out => packets(out).length >= count, {what: `${count} packets`});
		follow.child.kill('SIGTERM');
		await follow.exited;
		const strip = (ps: Array<Record<string, unknown>>) => JSON.stringify(ps, (k, v: unknown) => (k === 'file' ? undefined : v));
		expect(packets(follow.stdout())).toHaveLength(count);
		expect(strip(packets(follow.stdout()))).toBe(strip(packets(file.stdout)));
	});

	it('a central export: split into its hosts, the summary says what it was', async ({expect}) => {
		const r = await run([`${J}/central.export`, '--format', 'json']);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout) as {nodes: Array<{name: string; packets: number}>; inputs: unknown[]};
		expect(doc.nodes.map(n => [n.name, n.packets]).sort()).toEqual([
			['node-a', 29],
			['node-b', 28],
		]);
		expect(doc.inputs).toEqual([{path: `${J}/central.export`, format: 'kernel', lines: 163, traceLines: 163, skipped: 0, unparsed: 0, container: 'journal-export'}]);
	});

	it('wrapped lines: the summary says how many were joined', async ({expect}) => {
		const path = 'testdata/formats/wrapped/frag-needed-dmesg.fold80s.log';
		const r = await run([path, '--format', 'text']);
		const physical = readFileSync(join(ROOT, path), 'utf8').trimEnd().split('\n').length;
		expect(r.stdout).toContain(`88 line(s) read, 0 skipped (not trace output), 0 unparsed; ${physical - 88} wrapped line(s) joined to the line they continue`);
	});

	it('a broken record on stdin: reported with its line, counted, the rest read', async ({expect}) => {
		const pretty = readFileSync(join(ROOT, `${J}/node-a.journal-json-pretty`), 'utf8').split('\n');
		// The second record's MESSAGE line loses its closing quote.
		const second = pretty.indexOf('{', 1);
		const message = pretty.findIndex((l, i) => i > second && l.startsWith('\t"MESSAGE" : '));
		pretty[message] = pretty[message]!.replace(/",$/, ',');
		const r = await run(['-', '--format', 'ndjson'], pretty.join('\n'));
		expect(r.stderr).toContain(`(stdin):${message + 1}:1: not a JSON record: `);
		expect(packets(r.stdout).length).toBeGreaterThanOrEqual(28);
	});

	it('live: `journalctl -f -o export | tracewatch` prints a packet while the pipe is still open', async ({expect}) => {
		const records = readFileSync(join(ROOT, `${J}/node-a.journal-export`), 'utf8').split(/(?<=\n\n)/);
		const live = start(['--format', 'ndjson']);
		try {
			// The first packet's records, then nothing more: the packet is printed once its lines stop coming.
			live.child.stdin!.write(records.slice(0, 3).join(''));
			await live.waitFor(out => packets(out).length >= 1, {what: 'the first packet while stdin is open'});
			expect(live.child.exitCode).toBeNull();
			live.child.stdin!.write(records.slice(3).join(''));
			live.child.stdin!.end();
			await live.exited;
			expect(packets(live.stdout())).toHaveLength(29);
		} finally {
			live.child.kill('SIGKILL');
		}
	});
});
