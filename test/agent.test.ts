/**
 * The unattended agent (docs/shipping.md): `--follow FILE`, `--follow` of a kernel log record
 * device, and `journalctl -o json` on stdin, each with `--state`. An agent fed the lines of a real
 * capture (testdata/nodes/working/node-a/kmsg.log: two pings and a TCP connection, 120 records),
 * killed with SIGKILL part-way and started again with its state, writes exactly the records of
 * one run that was never interrupted: the same packets with the same ids and contents, the same
 * revisions, none twice, none missing.
 *
 * Every run is a child process driven by its output (the records it writes, the state file it
 * renames into place), never by the clock.
 */
import {execFileSync, spawn} from 'node:child_process';
import {appendFileSync, createWriteStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, watch, writeFileSync, type WriteStream} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {bootTimeMs, readKmsg} from '../src/ops/kmsg.js';
import {read, ROOT} from './support/replay.js';
import {skipWhen, unreadableForNobody} from './support/skip.js';
import {completeRecords, OutputWatch} from './support/wait.js';

const BIN = join(ROOT, 'bin/tracewatch.js');
const NODE = 'testdata/nodes/working/node-a';
const RECORDS = read(`${NODE}/kmsg.log`).trimEnd().split('\n');
/** The first part ends after packet 9 (the TCP SYN-ACK's last line): its ACK (#12), in the second part, answers it. */
const CUT = 60;
const LAST = 20;
const base = mkdtempSync(join(tmpdir(), 'tracewatch-agent-'));
afterAll(() => rmSync(base, {recursive: true, force: true}));

type Record_ = Record<string, unknown>;

/**
 * `--settle 3600`: a packet written can learn later facts for an hour on the clock, so whether the
 * ACK of part two revises packet 9 depends on the lines alone, not on how long a loaded machine
 * takes between the two parts (a restart included).
 */
function start(args: string[], cwd: string): OutputWatch {
	const child = spawn(process.execPath, [BIN, ...args, '--settle', '3600', '--rules', join(ROOT, NODE, 'iptables.save'), '--node', 'node-a', '--format', 'ndjson'], {cwd, env: {...process.env, NO_COLOR: '1'}, timeout: 120_000, killSignal: 'SIGKILL'});
	return new OutputWatch(child);
}

const records = completeRecords;

const wrotePacket = (id: number) => (out: string) => records(out).some(r => r['id'] === id);

/** Waits until the state file (renamed into place by the agent) satisfies `check`: on the directory's change events, no clock. */
async function stateWhere(path: string, check: (s: {emitted: number; id: number; line: number}) => boolean): Promise<void> {
	const dir = join(path, '..');
	await new Promise<void>((resolve, reject) => {
		const look = () => {
			try {
				if (existsSync(path) && check(JSON.parse(readFileSync(path, 'utf8')) as {emitted: number; id: number; line: number})) {
					watcher.close();
					resolve();
				}
			} catch (error) {
				// Renamed into place whole: a half-written state is never seen.
				watcher.close();
				reject(error as Error);
			}
		};
		const watcher = watch(dir, look);
		look();
	});
}

async function stop(agent: OutputWatch): Promise<void> {
	agent.child.kill('SIGTERM');
	await agent.exited;
}

/** The records of an uninterrupted run and of one killed after packet 9, with `feed` giving the agent its input. */
interface Feeder {
	/** Starts the agent on its input (`state`: the state file). */
	start(state: string): OutputWatch;
	/** The first part of the records; then the rest (`again`: after a restart, as the source gives them again). */
	first(): void | Promise<void>;
	rest(again: boolean): void | Promise<void>;
	close(): void;
}

/** The packet the first part ends with, and the last one (their ids: an agent that began later numbers from its first packet). */
interface Marks {
	readonly wait: number;
	readonly last: number;
}

async function interruptedAndNot(make: (dir: string) => Feeder, marks: Marks = {wait: 9, last: LAST}): Promise<{whole: Record_[]; resumed: Record_[]; stderr: string}> {
	const {wait, last} = marks;
	const once = async (kill: boolean) => {
		const dir = mkdtempSync(join(base, kill ? 'killed-' : 'whole-'));
		const state = join(dir, 'agent.state');
		const feed = make(dir);
		const a = feed.start(state);
		// The agent writes its state once its input is open: what comes from then on is its to read.
		await stateWhere(state, () => true);
		await feed.first();
		await a.waitFor(wrotePacket(wait), {what: `packet ${wait}`});
		if (!kill) {
			await feed.rest(false);
			await a.waitFor(wrotePacket(last), {what: `packet ${last}`});
			await stop(a);
			feed.close();
			return {out: records(a.stdout()), stderr: a.stderr()};
		}
		// Killed once the state says packet `wait` was written (the state is saved after the records).
		await stateWhere(state, s => s.emitted >= wait);
		a.child.kill('SIGKILL');
		await a.exited;
		const b = feed.start(state);
		await feed.rest(true);
		await b.waitFor(wrotePacket(last), {what: `packet ${last} after the restart`});
		await stop(b);
		feed.close();
		return {out: [...records(a.stdout()), ...records(b.stdout())], stderr: a.stderr() + b.stderr()};
	};
	const [whole, resumed] = await Promise.all([once(false), once(true)]);
	return {whole: whole.out, resumed: resumed.out, stderr: resumed.stderr};
}

function expectSameRun(whole: Record_[], resumed: Record_[], first = 1): void {
	const ids = (rs: Record_[]) => rs.filter(r => 'id' in r).map(r => r['id']);
	const id = (n: number) => n - first + 1;
	expect(ids(whole)).toEqual(Array.from({length: LAST - first + 1}, (_, i) => i + 1));
	// Packet 9 (the SYN-ACK) was written before its ACK came: the ACK's fact is a revision of it.
	expect(whole.filter(r => 'revised' in r).map(r => [r['revised'], r['fact'], r['by']])).toEqual([[id(9), 'reply-seen', id(12)]]);
	expect(ids(resumed)).toEqual(ids(whole));
	expect(resumed).toEqual(whole);
}

describe.concurrent('an agent killed and started again with its state writes what one uninterrupted run writes', () => {
	it('--follow FILE: reads on from the byte offset of the file the state names', async () => {
		const {whole, resumed} = await interruptedAndNot(dir => {
			const file = join(dir, 'kern.log');
			writeFileSync(file, '');
			return {
				start: state => start(['--follow', 'kern.log', '--state', state], dir),
				first: () => appendFileSync(file, `${RECORDS.slice(0, CUT).join('\n')}\n`),
				rest: () => appendFileSync(file, `${RECORDS.slice(CUT).join('\n')}\n`),
				close: () => {},
			};
		});
		expectSameRun(whole, resumed);
		expect(resumed[0]).toMatchObject({id: 1, node: 'node-a'});
		expect((resumed[0]!['hops'] as Record_[])[0]).toMatchObject({file: 'kern.log', line: 1, time: '4,2112,12641994643,-', mono: 12641.994643});
	});

	it('--follow FILE rotated (renamed, a new file in its place): a restart reads on in the rotated file, then the new one', async () => {
		const {whole, resumed, stderr} = await interruptedAndNot(dir => {
			const file = join(dir, 'kern.log');
			writeFileSync(file, '');
			return {
				start: state => start(['--follow', 'kern.log', '--state', state], dir),
				first: () => appendFileSync(file, `${RECORDS.slice(0, CUT).join('\n')}\n`),
				// Rotated after packet 9: while the agent runs, or while it is down.
				rest: () => {
					renameSync(file, `${file}.1`);
					writeFileSync(file, `${RECORDS.slice(CUT).join('\n')}\n`);
				},
				close: () => {},
			};
		});
		expectSameRun(whole, resumed);
		expect(stderr).toMatch(/kern\.log was rotated since .*agent\.state was saved: reading on in kern\.log\.1 from byte 0, then kern\.log from its start/);
	});

	it('--follow FILE --from-end: a restart reads on from where the first run began, not from the file\'s start', async () => {
		// The file holds the capture's first two packets (18 lines) before the agent starts: it begins after them.
		const {whole, resumed} = await interruptedAndNot(
			dir => {
				const file = join(dir, 'kern.log');
				writeFileSync(file, `${RECORDS.slice(0, 18).join('\n')}\n`);
				return {
					start: state => start(['--follow', 'kern.log', '--from-end', '--state', state], dir),
					first: () => appendFileSync(file, `${RECORDS.slice(18, CUT).join('\n')}\n`),
					rest: () => appendFileSync(file, `${RECORDS.slice(CUT).join('\n')}\n`),
					close: () => {},
				};
			},
			{wait: 7, last: LAST - 2},
		);
		expectSameRun(whole, resumed, 3);
		expect((resumed[0]!['hops'] as Record_[])[0]).toMatchObject({line: 1, time: '4,2160,12641995047,-'});
	});

	it('--follow of a record device (a FIFO giving /dev/kmsg records): reads on after the record seq the state names', async () => {
		const {whole, resumed} = await interruptedAndNot(dir => {
			const fifo = join(dir, 'kmsg');
			execFileSync('mkfifo', [fifo]);
			let writer: WriteStream | undefined;
			const write = (lines: string[]) =>
				new Promise<void>(resolve => {
					writer ??= createWriteStream(fifo);
					writer.write(`${lines.join('\n')}\n`, () => resolve());
				});
			return {
				start: state => start(['--follow', 'kmsg', '--state', state], dir),
				first: () => write(RECORDS.slice(0, CUT)),
				// After a restart the kernel's buffer gives every record again, from the oldest: those up to the state's seq are read past.
				rest: async again => {
					if (again) {
						writer?.destroy();
						writer = undefined;
					}
					await write(again ? RECORDS : RECORDS.slice(CUT));
				},
				close: () => writer?.destroy(),
			};
		});
		expectSameRun(whole, resumed);
	});

	it('journalctl -k -f -o json on stdin: reads past the records up to the state\'s cursor', async () => {
		// The capture's records as journalctl -o json gives them (cursor i= counting in hex, the monotonic time in µs).
		const journal = RECORDS.map(r => {
			const [, seq, usec, message] = /^\d+,(\d+),(\d+),[^;]*;(.*)$/.exec(r)!;
			return JSON.stringify({__CURSOR: `s=0f6e1a5d3c2b4a1988776655aabbccdd;i=${Number(seq).toString(16)};b=139644f004a04254bc435ed7e402f3c6;m=${Number(usec).toString(16)};t=0;x=0`, _SOURCE_MONOTONIC_TIMESTAMP: usec, MESSAGE: message, _TRANSPORT: 'kernel'});
		});
		const {whole, resumed} = await interruptedAndNot(() => {
			let agent: OutputWatch | undefined;
			return {
				start: state => (agent = start(['--state', state], base)),
				first: () => void agent!.child.stdin!.write(`${journal.slice(0, CUT).join('\n')}\n`),
				// Restarted, journalctl is started again from the boot's first record (-n all).
				rest: again => void agent!.child.stdin!.write(`${(again ? journal : journal.slice(CUT)).join('\n')}\n`),
				close: () => {},
			};
		});
		expectSameRun(whole, resumed);
	});
});

describe.concurrent('a state that says where the last run stopped (written as the docs describe it)', () => {
	// Lines 1 to 60 done with (packets 1 to 9, settled), packet 10 next: the run reads on from line 61.
	const state = (after: unknown) => `${JSON.stringify({tracewatch: 1, input: 'IN', node: 'node-a', after, line: 60, id: 10, emitted: 9, told: []})}\n`;
	// Numbered as the node's own log would be (the capture left out the other node's records): no gap to report.
	const own = RECORDS.map((r, i) => r.replace(/^(\d+),\d+,/, `$1,${1000 + i},`));

	async function readsOn(dir: string, args: string[], feed: (agent: OutputWatch) => void): Promise<Record_[]> {
		const agent = start(args, dir);
		feed(agent);
		await agent.waitFor(wrotePacket(LAST), {what: `packet ${LAST}`});
		await stop(agent);
		expect(agent.stderr()).toBe('');
		return records(agent.stdout());
	}

	const expected = async (): Promise<Record_[]> => {
		const dir = mkdtempSync(join(base, 'one-'));
		writeFileSync(join(dir, 'in'), `${own.join('\n')}\n`);
		const all = await readsOn(dir, ['--follow', 'in'], () => {});
		return all
			.filter(r => (r['id'] as number) >= 10 || (r['revised'] as number) >= 10)
			.map(r => (r['replyTo'] === 9 ? {...r, replyTo: null} : r));
	};

	it('--follow FILE: from the byte offset, /dev/kmsg form: after the seq, journal: after the cursor', async () => {
		const want = await expected();
		expect(want.map(r => r['id'] ?? `r${r['revised']}`)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
		const text = `${own.join('\n')}\n`;
		const offset = Buffer.byteLength(`${own.slice(0, 60).join('\n')}\n`);
		const seq = Number(own[59]!.split(',')[1]);
		const journal = own.map(r => {
			const [, n, usec, message] = /^\d+,(\d+),(\d+),[^;]*;(.*)$/.exec(r)!;
			return JSON.stringify({__CURSOR: `s=0f6e1a5d3c2b4a1988776655aabbccdd;i=${Number(n).toString(16)};b=1;m=0;t=0;x=0`, _SOURCE_MONOTONIC_TIMESTAMP: usec, MESSAGE: message});
		});
		const runs = await Promise.all([
			(async () => {
				const dir = mkdtempSync(join(base, 'offset-'));
				writeFileSync(join(dir, 'in'), text);
				const {dev, ino} = statSync(join(dir, 'in'));
				writeFileSync(join(dir, 'state'), state({kind: 'file', dev, ino, offset}).replace('"IN"', '"in"'));
				return readsOn(dir, ['--follow', 'in', '--state', 'state'], () => {});
			})(),
			(async () => {
				const dir = mkdtempSync(join(base, 'seq-'));
				execFileSync('mkfifo', [join(dir, 'in')]);
				writeFileSync(join(dir, 'state'), state({kind: 'kmsg', seq}).replace('"IN"', '"in"'));
				let writer: WriteStream | undefined;
				const out = await readsOn(dir, ['--follow', 'in', '--state', 'state'], () => {
					writer = createWriteStream(join(dir, 'in'));
					writer.write(text);
				});
				writer?.destroy();
				return out;
			})(),
			(async () => {
				const dir = mkdtempSync(join(base, 'cursor-'));
				writeFileSync(join(dir, 'state'), state({kind: 'journal', cursor: JSON.parse(journal[59]!).__CURSOR as string}).replace('"IN"', '"(stdin)"'));
				return readsOn(dir, ['--state', 'state'], agent => void agent.child.stdin!.write(`${journal.join('\n')}\n`));
			})(),
		]);
		// Nor which packets before 10 a connection began with (`connection.first`): those are left out of both.
		const before = new Set(want.filter(r => ((r['connection'] as {first?: number} | undefined)?.first ?? 10) < 10).map(r => r['id']));
		expect(before.size).toBeGreaterThan(0);
		const known = (rs: Record_[]) => rs.map(r => (before.has(r['id']) ? {...r, connection: undefined} : r));
		// The journal's records are read from standard input, their stamps written as the journal gives them (the same `mono`).
		const asRead = (rs: Record_[], journal: boolean) => (journal ? rs.map(r => ('hops' in r ? {...r, hops: (r['hops'] as Record_[]).map(h => ({...h, file: 'in', time: 'as read'}))} : r)) : rs);
		for (const [i, got] of runs.entries()) {
			expect(asRead(known(got), i === 2)).toEqual(asRead(known(want), i === 2));
			expect((got[0]!['hops'] as Record_[])[0]).toMatchObject({line: 61});
		}
	});
});

describe.concurrent('a record device', () => {
	it('says how many records the kernel overwrote before they were read (the gap in sequence numbers) and goes on', async () => {
		const dir = mkdtempSync(join(base, 'lost-'));
		const fifo = join(dir, 'kmsg');
		execFileSync('mkfifo', [fifo]);
		const agent = start(['--follow', 'kmsg'], dir);
		const writer = createWriteStream(fifo);
		// The capture's records numbered as the node's own log would number them (the capture
		// left out the other node's), with 10 of them (records 31 to 40, packets 5 and 6) overwritten.
		const own = RECORDS.map((r, i) => r.replace(/^(\d+),\d+,/, `$1,${1000 + i},`));
		const gap = [...own.slice(0, 30), ...own.slice(40)];
		writer.write(`${gap.join('\n')}\n`);
		await agent.waitFor(/10 record\(s\) from seq 1030 on were overwritten by the kernel before they could be read \(lost\)/, {where: 'stderr'});
		await agent.waitFor(wrotePacket(LAST - 2), {what: 'the packets after the gap'});
		writer.destroy();
		await stop(agent);
		expect(agent.stderr().match(/overwritten/g)).toHaveLength(1);
	});

	it('--follow FILE begins at its start, or with --from-end at what is written from now on', async () => {
		const dir = mkdtempSync(join(base, 'from-'));
		writeFileSync(join(dir, 'kmsg.log'), `${RECORDS.slice(0, CUT).join('\n')}\n`);
		// Its state, written once the file is open, says when it began.
		const fromEnd = start(['--follow', 'kmsg.log', '--from-end', '--state', 'end.state'], dir);
		const fromStart = start(['--follow', 'kmsg.log'], dir);
		await fromStart.waitFor(wrotePacket(9), {what: 'packet 9 from the start'});
		await stateWhere(join(dir, 'end.state'), () => true);
		appendFileSync(join(dir, 'kmsg.log'), `${RECORDS.slice(CUT).join('\n')}\n`);
		await fromEnd.waitFor(wrotePacket(11), {what: 'the packets appended'});
		await Promise.all([stop(fromEnd), stop(fromStart)]);
		// From the end: the first packet read is the capture's 10th, numbered 1.
		const first = records(fromEnd.stdout())[0]!;
		expect(first).toMatchObject({id: 1});
		expect((first['hops'] as Array<{line: number}>)[0]!.line).toBe(1);
		expect(records(fromStart.stdout()).filter(r => 'id' in r)).toHaveLength(LAST);
	});
});

describe.concurrent('a state that cannot be used is refused before anything is read, exit 2', () => {
	const cases: Array<[string, string | undefined, string[], string]> = [
		['a file that is not a state', 'kern.log: no\n', ['--follow', 'in.log', '--state', 'bad.state'], '--state bad.state is not a tracewatch state file (not JSON); move it away to start afresh'],
		['the state of another input', `${JSON.stringify({tracewatch: 1, input: '/dev/kmsg', after: null, line: 0, id: 1, emitted: 0, told: []})}\n`, ['--follow', 'in.log', '--state', 'bad.state'], '--state bad.state is the state of /dev/kmsg, not of in.log: give each input its own state file'],
		['a format that writes at the end', undefined, ['--follow', 'in.log', '--state', 'new.state', '--format', 'json'], '--state keeps the place of an agent writing records: use it with --format ndjson (or text)'],
		['a saved file, not a live input', undefined, ['in.log', '--state', 'new.state'], '--state keeps the place in one live input: --follow /dev/kmsg, --follow FILE, or journalctl -k -f -o json on standard input'],
		['a state that cannot be written', undefined, ['--follow', 'in.log', '--state', 'no/such/new.state'], '--state no/such/new.state cannot be written: no such directory'],
	];
	for (const [what, content, args, message] of cases) {
		it(what, async () => {
			const dir = mkdtempSync(join(base, 'refused-'));
			writeFileSync(join(dir, 'in.log'), `${RECORDS.slice(0, 10).join('\n')}\n`);
			if (content !== undefined) writeFileSync(join(dir, 'bad.state'), content);
			const agent = new OutputWatch(spawn(process.execPath, [BIN, ...args, ...(args.includes('--format') ? [] : ['--format', 'ndjson'])], {cwd: dir}));
			expect(await agent.exited).toEqual({code: 2, signal: null});
			expect(agent.stderr()).toContain(`tracewatch: ${message}`);
			expect(agent.stdout()).toBe('');
			expect(existsSync(join(dir, 'new.state'))).toBe(false);
		});
	}
});

const notRoot = process.getuid?.() === 0 ? undefined : 'not root (reading /dev/kmsg needs root or CAP_SYSLOG)';

describe('the real /dev/kmsg', skipWhen(notRoot, 'reading the kernel log device'), () => {
	it('reads a record written now, with its sequence number and time since boot', async () => {
		const marker = `tw-test agent ${process.pid} ${Math.random().toString(36).slice(2)}`;
		const reader = readKmsg('/dev/kmsg', {from: 'end'});
		try {
			const seen = new Promise<{seq?: number; line: string}>(resolve => {
				reader.stream.on('data', (r: {seq?: number; line: string}) => {
					if (r.line.endsWith(marker)) resolve(r);
				});
			});
			// Written once the backlog was read past: the marker is new.
			await reader.caughtUp;
			const writtenAt = Date.now();
			writeFileSync('/dev/kmsg', `<6>${marker}\n`);
			const record = await seen;
			expect(record.seq).toBeGreaterThan(0);
			const usec = Number(new RegExp(`^\\d+,${record.seq},(\\d+),[^;]*;${marker}$`).exec(record.line)?.[1]);
			// Its wall time, from the boot time, is when it was written (the clocks' drift since boot aside).
			expect(Math.abs(bootTimeMs() + usec / 1000 - writtenAt)).toBeLessThan(1000);
		} finally {
			reader.stop();
		}
	});

	it('without the right to read it: a message that says why and what to do, exit 2', skipWhen(notRoot ? undefined : unreadableForNobody(), 'the CLI as uid 65534'), async () => {
		const child = spawn(process.execPath, [BIN, '--follow', '/dev/kmsg', '--format', 'ndjson'], {cwd: ROOT, uid: 65534, gid: 65534});
		const agent = new OutputWatch(child);
		const {code} = await agent.exited;
		if (readFileSync('/proc/sys/kernel/dmesg_restrict', 'utf8').trim() !== '1') return;
		expect(code).toBe(2);
		expect(agent.stderr()).toContain('cannot read /dev/kmsg: not allowed (EPERM). Reading the kernel log needs root or CAP_SYSLOG while kernel.dmesg_restrict is 1');
	});
});
