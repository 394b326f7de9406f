/**
 * Hostile text stays harmless: control sequences put into every field that comes from input —
 * a rule's comment and chain name in a dump, a LOG prefix, an interface and a chain name in a
 * trace, the trace's file name — never reach a text, graph or DOT output, stderr, the
 * interactive view's screen or its title; JSON keeps the exact strings, escaped.
 */
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {render} from 'ink-testing-library';
import fc from 'fast-check';
import {createElement} from 'react';
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {Pipeline, type PipelineEvent} from '../../src/model/pipeline.js';
import {TraceStore} from '../../src/model/store.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {outputView, type OutputFormat} from '../../src/ui/output.js';
import {colors, plain} from '../../src/ui/text.js';
import {App} from '../../src/ui/tui/app.js';
import {hasHidden, jsonText, terminalSafe, visible} from '../../src/ui/visible.js';
import {ROOT} from '../support/replay.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin/tracewatch.js');

/** What attackers put in names and comments: terminal escapes, C1, bidi overrides, zero-width characters. */
const NASTY = ['\u001b]0;pwned\u0007', '\u001b[2J', '\u001b]52;c;cHduZWQ=\u0007', '\u009b31m', '\u202e', '\u2066', '\u200b', '\ufeff', '\u0000', '\u007f', '\u0085', '\u2028', '\r', '\t', '\n'];
/** Only characters the grammar can read inside a field value or a chain name (no C0: those end a field). */
const IN_NAMES = ['\u009b', '\u0085', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', '\u00ad'];

const nasty = fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({maxLength: 3})), {minLength: 1, maxLength: 4}).map(parts => parts.join(''));
const inName = fc.array(fc.oneof(fc.constantFrom(...IN_NAMES), fc.constantFrom('a', 'b', '0')), {minLength: 1, maxLength: 4}).map(parts => `x${parts.join('')}`);

/** A dump with a user chain and a LOG rule whose comment and prefix are hostile. */
function dump(comment: string, chain: string, prefix: string): string {
	const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
	return [
		'*filter',
		':INPUT ACCEPT [0:0]',
		':FORWARD ACCEPT [0:0]',
		':OUTPUT ACCEPT [0:0]',
		`:${chain} - [0:0]`,
		`-A INPUT -m comment --comment ${q(comment)} -j ${chain}`,
		`-A ${chain} -j LOG --log-prefix ${q(prefix)}`,
		'COMMIT',
		'',
	].join('\n');
}

/** A packet's TRACE lines through that chain, the LOG line between them, on a hostile interface. */
function trace(iface: string, chain: string, prefix: string): string {
	const fields = `IN=${iface} OUT= MAC= SRC=198.18.0.1 DST=198.18.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0`;
	return [
		`[  10.000001] TRACE: filter:INPUT:rule:1 ${fields}`,
		`[  10.000002] TRACE: filter:${chain}:rule:1 ${fields}`,
		`[  10.000003] ${prefix}${fields}`,
		`[  10.000004] TRACE: filter:${chain}:return:2 ${fields}`,
		`[  10.000005] TRACE: filter:INPUT:policy:2 ${fields}`,
		`[  10.000006] TRACE: filter:INPUT:policy:x ${fields}`,
	].join('\n');
}

/** Everything a terminal would be sent, minus newlines and (with colours) tracewatch's own styles. */
function leaks(text: string, ownStyle = false): boolean {
	const rest = (ownStyle ? text.replace(/\u001B\[(?:0|1|2|31|32|33|36)m/g, '') : text).replace(/\n/g, '');
	return hasHidden(rest);
}

function run(file: string, dumpText: string, traceText: string, format: OutputFormat, color: boolean): string {
	const rules = [parseRuleset(dumpText, file.replace('trace', 'rules'))];
	const p = new Pipeline({rules});
	let out = '';
	p.on(outputView({format, live: false, write: t => (out += t), style: color ? colors : plain, inputs: p.inputNames}));
	const input = p.addInput(file);
	for (const line of parseTraceText(traceText, input)) p.push(line);
	p.end();
	return out;
}

describe('hostile text from input', () => {
	it('never reaches text, graph or DOT output; JSON keeps it exactly, escaped', () => {
		fc.assert(
			fc.property(nasty, inName, nasty, inName, nasty, (comment, chain, prefix, iface, file) => {
				const d = dump(comment, `TW-${chain}`, prefix);
				const t = trace(iface, `TW-${chain}`, prefix);
				for (const format of ['text', 'graph', 'dot'] as const) {
					for (const color of [false, true]) {
						const out = run(`trace${file}.log`, d, t, format, color);
						if (leaks(out, color)) throw new Error(`${format}${color ? ' (colour)' : ''} let a control character through:\n${JSON.stringify(out)}`);
					}
				}
				for (const format of ['json', 'ndjson'] as const) {
					const out = run(`trace${file}.log`, d, t, format, false);
					expect(leaks(out)).toBe(false);
					// The exact strings come back out of the JSON.
					const text = format === 'json' ? out : `[${out.trim().split('\n').join(',')}]`;
					const json = JSON.stringify(JSON.parse(text));
					if (iface.length > 0) expect(json).toContain(JSON.stringify(iface).slice(1, -1));
				}
			}),
			{numRuns: 30, seed: 7},
		);
	});

	it('never reaches the terminal through the commands: replay, rules, diff, on stdout and stderr', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'tw-hostile-'));
		try {
			const samples = fc.sample(fc.tuple(nasty, inName, nasty, inName), {numRuns: 3, seed: 5});
			const runs: Array<Promise<{stdout: string; stderr: string}>> = [];
			samples.forEach(([comment, chain, prefix, iface], i) => {
				const rules = join(dir, `rules${i}.save`);
				const other = join(dir, `other${i}.save`);
				const log = join(dir, `trace${i}.log`);
				writeFileSync(rules, dump(comment, `TW-${chain}`, prefix));
				writeFileSync(other, dump(`${comment}x`, `TW-${chain}`, prefix).replace(':FORWARD ACCEPT', ':FORWARD DROP'));
				writeFileSync(log, `${trace(iface, `TW-${chain}`, prefix)}\n${prefix}\u001b[2J not a trace IN=\n`);
				for (const args of [['replay', log, '--rules', rules, '--format', 'text'], ['replay', log, '--rules', rules, '--format', 'graph', '--color'], ['rules', rules, other], ['diff', rules, other, '--color']]) {
					runs.push(exec(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: ''}}).catch((e: {stdout: string; stderr: string}) => e));
				}
			});
			for (const r of await Promise.all(runs)) {
				if (leaks(r.stdout, true)) throw new Error(`stdout let a control character through:\n${JSON.stringify(r.stdout)}`);
				if (leaks(r.stderr)) throw new Error(`stderr let a control character through:\n${JSON.stringify(r.stderr)}`);
				expect(r.stdout.length).toBeGreaterThan(0);
			}
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it('never reaches the interactive view: its screen and its title', async () => {
		const samples = fc.sample(fc.tuple(nasty, inName, nasty, inName, nasty), {numRuns: 12, seed: 3});
		for (const [comment, chain, prefix, iface, title] of samples) {
			const d = dump(comment, `TW-${chain}`, prefix);
			const {pipeline} = collect([{path: `trace${title}.log`, lines: parseTraceText(trace(iface, `TW-${chain}`, prefix))}], {rules: [parseRuleset(d, 'rules.save')]});
			// The store over a pipeline replayed the same way, ended.
			const p = new Pipeline({rules: [parseRuleset(d, 'rules.save')]});
			const store = new TraceStore(p, {now: () => 0});
			const input = p.addInput(`trace${title}.log`);
			for (const line of parseTraceText(trace(iface, `TW-${chain}`, prefix), input)) store.push(line);
			store.end();
			for (const view of ['1', '2', '3', '4']) {
				const ui = render(createElement(App, {source: store, title: `trace${title}.log`, size: {columns: 120, rows: 30}}));
				ui.stdin.write(view);
				const frames = ui.frames.join('\n');
				ui.unmount();
				if (leaks(frames)) throw new Error(`view ${view} let a control character through:\n${JSON.stringify(frames)}`);
			}
			expect(pipeline.summary().completed).toBeGreaterThan(0);
		}
	});

	it('stderr: an unparsed line is quoted with its control characters visible and the caret under the column', async () => {
		const {describeUnparsed} = await import('../../src/cli/io.js');
		const text = describeUnparsed({path: 'a\u001b[2Jb.log', line: 3, column: 5, reason: 'kernel log line: expected a field', excerpt: 'ab\u001bcd'});
		expect(leaks(text)).toBe(false);
		expect(text).toContain('a\\x1b[2Jb.log:3:5');
		const [, excerpt, caret] = text.split('\n');
		expect(excerpt).toBe('    ab\\x1bcd');
		expect(caret!.indexOf('^')).toBe(excerpt!.indexOf('d'));
	});

	it('visible() escapes what it must and nothing else', () => {
		expect(visible('cali:\u001b]0;pwned\u0007 \u202eevil')).toBe('cali:\\x1b]0;pwned\\x07 \\u202eevil');
		expect(visible('KUBE-SVC-NPX46M4PTMTKRN6Y → 198.18.1.50:6443 (pod default/api-0, ünïcödé)')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y → 198.18.1.50:6443 (pod default/api-0, ünïcödé)');
		expect(jsonText({s: 'a\u009bb\u2028c'})).toBe('{"s":"a\\u009bb\\u2028c"}');
		expect(JSON.parse(jsonText({s: 'a\u009bb\u2028c\ud83d\ude00'}))).toEqual({s: 'a\u009bb\u2028c\ud83d\ude00'});
		expect(terminalSafe('\u001b[31mred\u001b[0m \u001b]0;x\u0007', true)).toBe('\u001b[31mred\u001b[0m \\x1b]0;x\\x07');
	});
});

// The events type is used only to make sure the pipeline's vocabulary stays what these tests rely on.
export type {PipelineEvent};
