/**
 * What a run read: its inputs, with counts of the lines in each, and the lines that could not be
 * read. Field names are the JSON contract (docs/json.md: inputs[], unparsed[]).
 */
import type {Container, LineFormat} from '../parser/types.js';

export interface InputInfo {
	path: string;
	/** The trace format(s) found: kernel, xtables-monitor, nft-monitor, mixed, or none. */
	format: LineFormat | 'mixed' | 'none';
	lines: number;
	traceLines: number;
	skipped: number;
	unparsed: number;
	/** Physical lines joined onto the line before them (hard-wrapped lines); not counted in `lines`. */
	joined?: number;
	/** The container its lines were unpacked from (dmesg -J, the journal's JSON or export form); each record counts as one line. */
	container?: Container | 'mixed';
}

export interface UnparsedLine {
	path: string;
	line: number;
	column: number;
	reason: string;
	excerpt: string;
}

/** Input names by index (LineRef.input), as views need them to say where a line is: InputInfo[] will do. */
export type InputNames = ReadonlyArray<{readonly path: string}>;
