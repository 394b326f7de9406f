/**
 * Bytes → lines → ParsedLine, streaming (split2), for files and stdin alike.
 *
 * Input:  a readable byte stream, e.g. `dmesg -wT | grep --line-buffered TRACE` on stdin
 * Output: one ParsedLine per line, in order, with its 1-based line number; lines of any length;
 *         CR before LF is left to the grammar (it accepts `\r` at the end of a line).
 */
import type {Readable} from 'node:stream';
import split2 from 'split2';
import {matchTraceLine} from './trace-line.js';
import type {ParsedLine} from './types.js';

/** Reads `stream` line by line and calls `onLine` for each parsed line. Resolves at end of input. */
export async function readTraceLines(stream: Readable, input: number, onLine: (line: ParsedLine) => void, signal?: AbortSignal): Promise<number> {
	let n = 0;
	for await (const text of stream.pipe(split2()) as AsyncIterable<string>) {
		if (signal?.aborted) break;
		n++;
		onLine(matchTraceLine(text, {input, line: n}));
	}
	return n;
}

/** Parses a whole text at once: for tests and small inputs. Same core as the stream. */
export function parseTraceText(text: string, input = 0): ParsedLine[] {
	const lines = text.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	return lines.map((line, i) => matchTraceLine(line, {input, line: i + 1}));
}
