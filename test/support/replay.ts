/**
 * Test helpers: replay real testdata through the same path the CLI uses, without spawning it.
 */
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {collect} from '../../src/model/collect.js';
import type {Finding} from '../../src/model/findings/types.js';
import type {InputInfo} from '../../src/model/inputs.js';
import type {Summary} from '../../src/model/pipeline.js';
import type {Packet} from '../../src/model/types.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset, type Ruleset} from '../../src/parser/ruleset.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A file of the repository (testdata is in git: a missing file is an error that says so). */
export function read(path: string): string {
	if (!exists(path)) throw new Error(`${path} is missing: it is in git, is the checkout complete?`);
	return readFileSync(new URL(path, `file://${ROOT}`), 'utf8');
}

export function exists(path: string): boolean {
	return existsSync(new URL(path, `file://${ROOT}`));
}

/** The rulesets saved in these files; an empty file (a capture without IPv6 rules) gives none. */
export function rules(...paths: string[]): Ruleset[] {
	return paths.filter(p => read(p).trim() !== '').map(p => parseRuleset(read(p), p));
}

/** Replays files (paths relative to the repository) as `tracewatch replay` does: the settled packets in id order. */
export function replayFiles(traces: string[], rulePaths: string[] = []): {summary: Summary; inputs: InputInfo[]; packets: Packet[]; findings: Finding[]} {
	const {packets, summary} = collect(
		traces.map(t => ({path: t, lines: parseTraceText(read(t))})),
		{rules: rules(...rulePaths)},
	);
	return {summary, inputs: [...summary.inputs], packets, findings: summary.findings.filter(f => f.kind !== 'empty-trace')};
}
