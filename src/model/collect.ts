/**
 * A whole trace through the pipeline at once, its settled packets collected: for tests, for
 * `diff --trace-working/--trace-broken`, and for other small inputs held in memory.
 *
 * Input:  [{path: 'trace.log', lines: parseTraceText(text)}], {rules}
 * Output: {packets: the settled packets in id order, summary: inputs, counts, graph, findings}
 */
import type {ParsedLine} from '../parser/types.js';
import {Pipeline, type PipelineOptions, type Summary} from './pipeline.js';
import type {Packet} from './types.js';

export interface CollectInput {
	readonly path: string;
	/** The input's parsed lines; their `ref.input` is set to the input's index here. */
	readonly lines: Iterable<ParsedLine>;
}

export function collect(inputs: readonly CollectInput[], options: PipelineOptions = {}): {packets: Packet[]; summary: Summary; pipeline: Pipeline} {
	const pipeline = new Pipeline(options);
	const packets: Packet[] = [];
	let summary: Summary | undefined;
	pipeline.on(e => {
		if (e.type === 'settled') packets.push(e.packet);
		else if (e.type === 'end') summary = e.summary;
	});
	for (const input of inputs) {
		const index = pipeline.addInput(input.path);
		for (const line of input.lines) pipeline.push(line.ref.input === index ? line : {...line, ref: {...line.ref, input: index}});
	}
	pipeline.end();
	return {packets, summary: summary!, pipeline};
}
