/**
 * The chain-traversal graph for output that is not the interactive view: the same text layout
 * as the graph screen (`--format graph`), or Graphviz DOT (`--format dot`, for `dot -Tsvg`).
 *
 * Input:  the pipeline's graph (nodes with packet counts and the hook each ran in, edges with
 *         packet counts), the findings (chains they point at).
 * Output (dot, shape):
 *   digraph tracewatch {
 *     subgraph "cluster_PREROUTING" { label="PREROUTING"; "raw:PREROUTING" [label="raw:PREROUTING\n2 packets"]; … }
 *     "nat:PREROUTING" -> "nat:KUBE-SERVICES" [label="1"];
 *   }
 */
import type {Finding} from '../model/findings/types.js';
import type {Graph} from '../model/graph.js';
import {HOOKS} from '../netfilter/hooks.js';
import type {Style} from './text.js';
import {hooksOfNodes, layoutGraph} from './tui/graph-layout.js';
import type {Tone} from './tui/styled.js';

/** `table:chain` ids the findings point at (the dropping rule's chain, a rule a finding names). */
function findingChains(findings: readonly Finding[]): Set<string> {
	const out = new Set<string>();
	for (const f of findings) for (const r of f.rules) out.add(`${r.table}:${r.chain}`);
	return out;
}

function toneStyle(s: Style, tone: Tone): (text: string) => string {
	switch (tone) {
		case 'dim':
			return s.dim;
		case 'mark':
		case 'bad':
			return s.red;
		case 'head':
		case 'headPath':
		case 'bold':
			return s.bold;
		case 'warn':
			return s.yellow;
		case 'ok':
			return s.green;
		case 'info':
			return s.cyan;
		default:
			return text => text;
	}
}

/** The graph as text, hooks left to right (wrapping at `width`), `!` on chains findings point at. */
export function renderGraphText(graph: Graph, findings: readonly Finding[], s: Style, width: number): string {
	if (graph.nodes.length === 0) return s.dim('Chain graph: no packets');
	const all = new Set(graph.nodes.map(n => n.id));
	const layout = layoutGraph({
		graph,
		hookOf: hooksOfNodes(graph),
		// Every chain was passed by some packet: drawn as on a path, the counts say how many.
		pathNodes: all,
		pathEdges: new Set(graph.edges.map(e => `${e.from}→${e.to}`)),
		marked: findingChains(findings),
		width,
		maxColumn: 64,
	});
	const lines = [s.bold('Chain graph') + s.dim(' (packets through each chain and along each jump; ends N: paths that ended there; ! a finding points here)')];
	for (const line of layout.lines) lines.push(line.map(seg => toneStyle(s, seg.tone)(seg.text)).join('').trimEnd());
	return lines.join('\n');
}

const quote = (s: string) => `"${s.replace(/["\\]/g, c => `\\${c}`)}"`;

/** The graph in Graphviz DOT: one cluster per hook, packet counts on nodes and edges. */
export function renderDot(graph: Graph, findings: readonly Finding[]): string {
	const hookOf = hooksOfNodes(graph);
	const marked = findingChains(findings);
	const out = ['digraph tracewatch {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];', '  edge [fontname="monospace"];'];
	const node = (n: Graph['nodes'][number]) => {
		const label = `${n.id}\\n${n.packets} packet${n.packets === 1 ? '' : 's'}${n.final ? `, ${n.final} ended here` : ''}`;
		const attrs = [`label="${label.replace(/"/g, '\\"')}"`];
		if (marked.has(n.id)) attrs.push('color=red', 'penwidth=2');
		return `${quote(n.id)} [${attrs.join(', ')}];`;
	};
	const placed = new Set<string>();
	for (const hook of HOOKS) {
		const members = graph.nodes.filter(n => hookOf.get(n.id) === hook);
		if (members.length === 0) continue;
		out.push(`  subgraph ${quote(`cluster_${hook}`)} {`, `    label=${quote(hook)};`);
		for (const n of members) {
			out.push(`    ${node(n)}`);
			placed.add(n.id);
		}
		out.push('  }');
	}
	for (const n of graph.nodes) if (!placed.has(n.id)) out.push(`  ${node(n)}`);
	for (const e of graph.edges) out.push(`  ${quote(e.from)} -> ${quote(e.to)} [label="${e.packets}"];`);
	out.push('}');
	return out.join('\n');
}
