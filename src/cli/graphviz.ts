/**
 * Graphviz, compiled to WebAssembly (@viz-js/viz), for the HTML report and --format svg: the graph
 * is laid out by the tool made for it. Loaded only by the formats that draw (about 0.2 s).
 */
import type {DotToSvg} from '../ui/html.js';

export async function loadGraphviz(): Promise<DotToSvg> {
	const {instance} = await import('@viz-js/viz');
	const viz = await instance();
	return dot => viz.renderString(dot, {format: 'svg'});
}
