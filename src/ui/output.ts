/**
 * The views that print (everything but the interactive view): text, ndjson, a JSON document,
 * the chain graph as text or DOT. Each is a listener of the pipeline's events (src/model/pipeline.ts)
 * that writes as it goes, so nothing is kept that the output does not need any more.
 *
 * Input:  pipeline events, e.g. {type:'settled', packet:#1}, then {type:'end', summary}
 * Output: text: one block per packet, then the findings and a summary line;
 *         ndjson: one packet object per line (live: also {"revised": 1, "fact": "reply-seen", "by": 2});
 *         json: {"tracewatch":1, "packets":[…], "inputs":[…], "graph":{…}, "findings":[…], "unparsed":[…]},
 *               the packets written one by one as they settle;
 *         graph / dot / svg: the chain graph at the end; html: the report (src/ui/html.ts).
 *
 * `live`: print each packet when it is complete (and, in ndjson, each later fact as its own
 * record) instead of when it is settled, for input that may never end.
 */
import type {PipelineEvent, Summary} from '../model/pipeline.js';
import type {InputNames} from '../model/inputs.js';
import type {Packet} from '../model/types.js';
import {renderDot, renderGraphText} from './graph.js';
import {graphSvg, htmlView, type DotToSvg} from './html.js';
import {graphJson, inputJson, JSON_VERSION, packetJson, revisionJson, unparsedJson} from './json.js';
import {renderFindings, renderPacket, renderSummary, type HopDetail, type Style} from './text.js';
import {isFleet, renderJourneys} from './journeys.js';
import {jsonText, visible, visibleDeep} from './visible.js';
import {wrapText} from './wrap.js';

export type OutputFormat = 'text' | 'json' | 'ndjson' | 'graph' | 'dot' | 'html' | 'svg';

export interface OutputOptions {
	readonly format: OutputFormat;
	/** Print packets as they complete instead of as they settle. */
	readonly live: boolean;
	readonly write: (text: string) => void;
	readonly style: Style;
	/** The pipeline's input names, for file:line references. */
	readonly inputs: InputNames;
	/** Columns for --format graph. */
	readonly width?: number;
	/** How much of each packet text shows. @default 'all' */
	readonly hops?: HopDetail;
	/** Columns to fold text lines to (a terminal's); none for a file or a pipe. */
	readonly textWidth?: number;
	/** Graphviz, for html and svg (the CLI loads it only for them). */
	readonly dotToSvg?: DotToSvg;
	/** What was replayed (file names), for the HTML page's title. */
	readonly title?: string;
}

/** A listener that prints the pipeline's events in the chosen format. */
export function outputView(options: OutputOptions): (event: PipelineEvent) => void {
	const {format, live, write, style, inputs} = options;
	if (format === 'html') {
		if (!options.dotToSvg) throw new Error('outputView: html needs dotToSvg');
		return htmlView({write, inputs, title: options.title ?? '', dotToSvg: options.dotToSvg, live});
	}
	let packets = 0;
	const packet = (p: Packet): void => {
		if (format === 'text') {
			const text = renderPacket(visibleDeep(p), visibleDeep(inputs), style, {hops: options.hops ?? 'all', ...(options.textWidth ? {width: options.textWidth} : {})});
			// Several nodes: each packet is named by its node and its id (`node-a #3`).
			const named = p.node === undefined ? text : `${style.bold(visible(p.node))} ${text}`;
			write(`${named}${p.names ? `\n${namesLine(p.names, style, options.textWidth)}` : ''}\n\n`);
		}
		// Each NDJSON record says its schema's version, so a log pipeline can route on it.
		else if (format === 'ndjson') write(`${jsonText({tracewatch: JSON_VERSION, ...packetJson(p, inputs)})}\n`);
		else if (format === 'json') write(`${packets === 0 ? '' : ',\n'}${indent(jsonText(packetJson(p, inputs), 2), '    ')}`);
		packets++;
	};
	if (format === 'json') write(`{\n  "tracewatch": ${JSON_VERSION},\n  "packets": [\n`);
	return event => {
		switch (event.type) {
			case 'packet': {
				if (live) packet(event.packet);
				break;
			}
			case 'settled': {
				if (!live) packet(event.packet);
				break;
			}
			case 'revised': {
				if (live && format === 'ndjson') write(`${jsonText({tracewatch: JSON_VERSION, ...revisionJson(event.fact)})}\n`);
				break;
			}
			case 'end': {
				finish(event.summary);
				break;
			}
			default: {
				break;
			}
		}
	};

	function finish(done: Summary): void {
		// Text, graph and DOT show what was read through visible(); JSON keeps it exactly (jsonText escapes it).
		const summary = format === 'json' ? done : visibleDeep(done);
		const line = `${wrapText(renderSummary(summary, style), options.textWidth ?? 0, l => (/^ {6}/.test(l) ? 6 : 2))}\n`;
		switch (format) {
			case 'text': {
				if (isFleet(summary)) write(renderJourneys(summary, style));
				write(`${renderFindings(summary.findings, style, 'Findings', options.textWidth ?? 0)}\n\n`);
				write(line);
				break;
			}
			case 'json': {
				const rest = {
					...(isFleet(summary) ? {nodes: summary.nodes, journeys: summary.journeys} : {}),
					inputs: summary.inputs.map(inputJson),
					graph: graphJson(summary.graph),
					findings: summary.findings,
					unparsed: summary.unparsed.map(unparsedJson),
					// Lines that said the log lost lines or its program failed (docs/json.md).
					...(summary.noticeCount ? {notices: summary.notices, noticeCount: summary.noticeCount} : {}),
				};
				const body = jsonText(rest, 2).slice(1, -2);
				write(`${packets === 0 ? '' : '\n'}  ],${body}\n}\n`);
				break;
			}
			case 'graph': {
				write(`${renderGraphText(summary.graph, summary.findings, style, options.width ?? 160)}\n\n`);
				write(line);
				break;
			}
			case 'dot': {
				write(`${renderDot(summary.graph, summary.findings)}\n`);
				break;
			}
			case 'ndjson': {
				// Several nodes: what crossed between them, one record each, after the packets.
				if (isFleet(done)) for (const journey of done.journeys) write(`${jsonText({tracewatch: JSON_VERSION, journey})}\n`);
				break;
			}
			case 'svg': {
				if (!options.dotToSvg) throw new Error('outputView: svg needs dotToSvg');
				write(`${graphSvg(summary, options.dotToSvg)}\n`);
				break;
			}
			default: {
				break;
			}
		}
	}
}

/** What a packet's addresses and interfaces are (--names), on one line under it (folded to the terminal). */
function namesLine(names: Readonly<Record<string, string>>, style: Style, width: number | undefined): string {
	const line = `    ${style.dim('names')}  ${Object.entries(names)
		.map(([what, name]) => `${visible(what)} ${style.cyan(visible(name))}`)
		.join(' · ')}`;
	return wrapText(line, width ?? 0, () => 11);
}

function indent(text: string, pad: string): string {
	return pad + text.replace(/\n/g, `\n${pad}`);
}
