/**
 * A parser thread: parses batches of lines for readTraceLines (line-stream.ts) when a large file
 * is replayed, so that Ohm runs beside the model instead of before it.
 *
 * Input:  {seq, input, lines: ['[ 3341.290254] TRACE: …', …], refs: [12, …]} (texts framed and
 *         not too long, framing.ts; refs: the line number of each)
 * Output: {seq, results: ParsedLine[]} (the same objects matchTraceLine returns; results shared
 *         by several lines of a batch, such as a packet's field list, arrive shared)
 */
import {parentPort} from 'node:worker_threads';
import {matchTraceLine} from './trace-line.js';
import type {ParsedLine} from './types.js';

export interface LineBatch {
	readonly seq: number;
	readonly input: number;
	readonly lines: readonly string[];
	/** The line number of each text. */
	readonly refs: readonly number[];
}

export interface ParsedBatch {
	readonly seq: number;
	readonly results: readonly ParsedLine[];
}

export function parseBatch(batch: LineBatch): ParsedBatch {
	const results: ParsedLine[] = new Array(batch.lines.length);
	for (let i = 0; i < batch.lines.length; i++) {
		results[i] = matchTraceLine(batch.lines[i]!, {input: batch.input, line: batch.refs[i]!});
	}
	return {seq: batch.seq, results};
}

parentPort?.on('message', (batch: LineBatch) => {
	parentPort!.postMessage(parseBatch(batch));
});
