/**
 * Test helpers: replay real testdata through the same path the CLI uses, without spawning it.
 */
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {traceFindings} from '../../src/model/findings/trace.js';
import type {Finding} from '../../src/model/findings/types.js';
import {TraceSession} from '../../src/model/session.js';
import type {Packet} from '../../src/model/types.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset, type Ruleset} from '../../src/parser/ruleset.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function read(path: string): string {
	return readFileSync(new URL(path, `file://${ROOT}`), 'utf8');
}

export function exists(path: string): boolean {
	return existsSync(new URL(path, `file://${ROOT}`));
}

export function rules(...paths: string[]): Ruleset[] {
	return paths.filter(p => exists(p) && read(p).trim() !== '').map(p => parseRuleset(read(p), p));
}

/** Replays files (paths relative to the repository) as `tracewatch replay` does. */
export function replayFiles(traces: string[], rulePaths: string[] = []): {session: TraceSession; packets: Packet[]; findings: Finding[]} {
	const session = new TraceSession({rules: rules(...rulePaths)});
	const packets: Packet[] = [];
	for (const t of traces) {
		const index = session.addInput(t);
		for (const line of parseTraceText(read(t), index)) packets.push(...session.ingest(line));
	}
	packets.push(...session.end());
	packets.sort((a, b) => a.id - b.id);
	return {session, packets, findings: traceFindings(session.packets, session.index)};
}
