/**
 * A parser thread: parses batches of lines for readTraceLines (line-stream.ts) when a large file
 * is replayed, so that Ohm runs beside the model instead of before it.
 *
 * Input:  {seq, input, first, lines: ['[ 3341.290254] TRACE: …', …], long: {index: length}}
 * Output: {seq, results: ParsedLine[]} (the same objects matchTraceLine returns; results shared
 *         by several lines of a batch, such as a packet's field list, arrive shared)
 */
import {parentPort} from 'node:worker_threads';
import {matchTraceLine, tooLongLine} from './trace-line.js';
import type {ParsedLine} from './types.js';

export interface LineBatch {
	readonly seq: number;
	readonly input: number;
	/** Line number of lines[0]. */
	readonly first: number;
	readonly lines: readonly string[];
	/** Lines cut by the reader because they were too long: index in `lines` → length in characters. */
	readonly long?: Readonly<Record<number, number>>;
}

export interface ParsedBatch {
	readonly seq: number;
	readonly results: readonly ParsedLine[];
}

export function parseBatch(batch: LineBatch): ParsedBatch {
	const results: ParsedLine[] = new Array(batch.lines.length);
	for (let i = 0; i < batch.lines.length; i++) {
		const ref = {input: batch.input, line: batch.first + i};
		const long = batch.long?.[i];
		results[i] = long === undefined ? matchTraceLine(batch.lines[i]!, ref) : tooLongLine(batch.lines[i]!, long, ref);
	}
	return {seq: batch.seq, results};
}

parentPort?.on('message', (batch: LineBatch) => {
	parentPort!.postMessage(parseBatch(batch));
});
