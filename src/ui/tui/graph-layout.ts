/**
 * The chain-traversal graph laid out as text: one column per hook, left to right in packet
 * order; in each column the base chains by table priority, joined by the count of packets that
 * went from one to the next; user chains hang under the chain that jumped to them. Columns that
 * do not fit side by side wrap into bands below.
 *
 * Input:  graph {nodes:[raw:PREROUTING 10, …, nat:TW-SERVICES 1], edges:[nat:PREROUTING→nat:TW-SERVICES 1, …]}
 * Output (as text; each line is styled segments):
 *   PREROUTING               FORWARD
 *   ● raw:PREROUTING 10      ● mangle:FORWARD 10
 *   │ 10                     │ 10
 *   ● mangle:PREROUTING 10   ● filter:FORWARD 10
 *   │ 1                      │ ├─10→ ● filter:TW-USER 10
 *   ● nat:PREROUTING 1       │ └─1→ ○ filter:TW-FORWARD 1
 *   │ └─1→ ● nat:TW-SERVICES 1 ⇒ POSTROUTING 10
 *   ⇒ FORWARD 10
 * `●` marks the chains on the selected packet's path (and their edges are drawn in the path tone),
 * `!` the chains a finding points at.
 */
import type {Graph, GraphEdge, GraphNode} from '../../model/graph.js';
import {HOOKS, isHook, tablePriority} from '../../netfilter/hooks.js';
import type {Hook, Packet} from '../../model/types.js';
import {seg, fitSegs, lineWidth, type Seg, type StyledLine} from './styled.js';

export interface GraphLayoutInput {
	readonly graph: Graph;
	/** Hook of each `table:chain` (hooksOfNodes); user chains are placed by it. */
	readonly hookOf: ReadonlyMap<string, Hook>;
	/** `table:chain` ids on the selected packet's path. */
	readonly pathNodes: ReadonlySet<string>;
	/** `from→to` pairs on the selected packet's path. */
	readonly pathEdges: ReadonlySet<string>;
	/** Chains a finding points at. */
	readonly marked?: ReadonlySet<string>;
	/** Screen width. */
	readonly width: number;
	/** Widest a column may be. @default 44 */
	readonly maxColumn?: number;
}

export interface GraphLayout {
	readonly lines: StyledLine[];
	/** Line of each node's first appearance (to scroll to a chain). */
	readonly lineOf: ReadonlyMap<string, number>;
}

interface Column {
	readonly title: string;
	readonly onPath: boolean;
	readonly lines: Seg[][];
	/** Node id drawn on each line, if any. */
	readonly nodes: Array<string | undefined>;
}

const chainOf = (id: string) => id.slice(id.indexOf(':') + 1);
const tableOf = (id: string) => id.slice(0, id.indexOf(':'));
const isBase = (id: string) => isHook(chainOf(id));

/** The hook each `table:chain` of the graph ran in (as the first packet through it saw it). */
export function hooksOfNodes(graph: Graph): Map<string, Hook> {
	const out = new Map<string, Hook>();
	for (const n of graph.nodes) if (n.hook) out.set(n.id, n.hook);
	return out;
}

/** The selected packet's path as graph node ids and `from→to` edges. */
export function pathOf(p: Packet | undefined): {nodes: Set<string>; edges: Set<string>} {
	const nodes = new Set<string>();
	const edges = new Set<string>();
	let prev: string | undefined;
	for (const h of p?.hops ?? []) {
		if (h.kind === 'log') continue;
		const id = `${h.table}:${h.chain}`;
		nodes.add(id);
		if (prev && prev !== id) edges.add(`${prev}→${id}`);
		prev = id;
	}
	return {nodes, edges};
}

export function layoutGraph(input: GraphLayoutInput): GraphLayout {
	const {graph, hookOf, pathNodes, pathEdges} = input;
	const marked = input.marked ?? new Set<string>();
	const nodeById = new Map<string, GraphNode>(graph.nodes.map(n => [n.id, n]));
	const out = new Map<string, GraphEdge[]>();
	for (const e of graph.edges) {
		const list = out.get(e.from) ?? [];
		list.push(e);
		out.set(e.from, list);
	}
	const placedHook = new Map<string, Hook | 'other'>();
	const drawn = new Set<string>();

	const nodeSegs = (id: string): Seg[] => {
		const n = nodeById.get(id);
		const on = pathNodes.has(id);
		const mark = marked.has(id);
		const segs = [seg(mark ? '! ' : on ? '● ' : '○ ', mark ? 'mark' : on ? 'path' : 'dim'), seg(id, mark ? 'mark' : on ? 'path' : 'plain')];
		if (n) segs.push(seg(` ${n.packets}`, 'dim'));
		if (n && n.final > 0) segs.push(seg(` ends ${n.final}`, 'dim'));
		return segs;
	};

	const subtree = (col: Column, id: string, prefix: string, ancestors: readonly string[], hook: Hook | 'other', global: boolean) => {
		if (ancestors.length > 12) return;
		const children = (out.get(id) ?? []).filter(e => !isBase(e.to) && !ancestors.includes(e.to) && nodeById.has(e.to) && !(global && drawn.has(e.to)));
		children.forEach((e, i) => {
			const last = i === children.length - 1;
			const tone = pathEdges.has(`${e.from}→${e.to}`) ? 'path' : 'dim';
			col.lines.push([seg(prefix, 'dim'), seg(`${last ? '└' : '├'}─${e.packets}→ `, tone), ...nodeSegs(e.to)]);
			col.nodes.push(e.to);
			drawn.add(e.to);
			if (!placedHook.has(e.to)) placedHook.set(e.to, hook);
			subtree(col, e.to, prefix + (last ? '  ' : '│ '), [...ancestors, e.to], hook, global);
		});
	};

	const columns: Column[] = [];
	const order = new Map(graph.nodes.map((n, i) => [n.id, i]));
	for (const hook of HOOKS) {
		const bases = graph.nodes
			.filter(n => chainOf(n.id) === hook)
			.map(n => n.id)
			.sort((a, b) => tablePriority(hook, tableOf(a)) - tablePriority(hook, tableOf(b)) || order.get(a)! - order.get(b)!);
		// User chains seen in this hook that no base chain here led to (their base chain was not traced).
		const orphans = () => graph.nodes.filter(n => !isBase(n.id) && !drawn.has(n.id) && hookOf.get(n.id) === hook).map(n => n.id);
		if (bases.length === 0 && orphans().length === 0) continue;
		const col: Column = {title: hook, onPath: false, lines: [], nodes: []};
		bases.forEach((id, i) => {
			if (i > 0) {
				const e = graph.edges.find(x => x.from === bases[i - 1] && x.to === id);
				const tone = e && pathEdges.has(`${e.from}→${e.to}`) ? 'path' : 'dim';
				col.lines.push([seg(e ? `│ ${e.packets}` : '┆', tone)]);
				col.nodes.push(undefined);
			}
			col.lines.push(nodeSegs(id));
			col.nodes.push(id);
			drawn.add(id);
			placedHook.set(id, hook);
			subtree(col, id, i < bases.length - 1 ? '│ ' : '  ', [id], hook, false);
		});
		for (const id of orphans()) {
			if (drawn.has(id)) continue;
			col.lines.push(nodeSegs(id));
			col.nodes.push(id);
			drawn.add(id);
			placedHook.set(id, hook);
			subtree(col, id, '  ', [id], hook, false);
		}
		(col as {onPath: boolean}).onPath = col.nodes.some(n => n !== undefined && pathNodes.has(n));
		columns.push(col);
	}
	// Chains whose hook is unknown (nft chains, or never reached from a base chain).
	const rest = graph.nodes.filter(n => !drawn.has(n.id));
	if (rest.length > 0) {
		const col: Column = {title: 'hook unknown', onPath: false, lines: [], nodes: []};
		for (const n of rest) {
			if (drawn.has(n.id)) continue;
			col.lines.push(nodeSegs(n.id));
			col.nodes.push(n.id);
			drawn.add(n.id);
			placedHook.set(n.id, 'other');
			subtree(col, n.id, '  ', [n.id], 'other', true);
		}
		(col as {onPath: boolean}).onPath = col.nodes.some(n => n !== undefined && pathNodes.has(n));
		columns.push(col);
	}
	// Where packets went next: edges into another hook's column.
	for (const col of columns) {
		if (col.title === 'hook unknown') continue;
		const next = new Map<string, {packets: number; onPath: boolean}>();
		for (const e of graph.edges) {
			const from = placedHook.get(e.from);
			const to = placedHook.get(e.to);
			if (from !== col.title || !to || to === from || to === 'other') continue;
			const n = next.get(to) ?? {packets: 0, onPath: false};
			n.packets += e.packets;
			n.onPath ||= pathEdges.has(`${e.from}→${e.to}`);
			next.set(to, n);
		}
		const targets = HOOKS.filter(h => next.has(h));
		if (targets.length > 0) {
			const segs: Seg[] = [seg('⇒ ', 'dim')];
			targets.forEach((h, i) => {
				const n = next.get(h)!;
				if (i > 0) segs.push(seg(', ', 'dim'));
				segs.push(seg(`${h} ${n.packets}`, n.onPath ? 'path' : 'dim'));
			});
			col.lines.push(segs);
			col.nodes.push(undefined);
		}
	}
	return arrange(columns, input.width, input.maxColumn ?? 44);
}

/** Puts the columns side by side, wrapping into bands when they do not fit. */
function arrange(columns: readonly Column[], screen: number, maxColumn: number): GraphLayout {
	const gap = 3;
	const widths = columns.map(c => Math.min(maxColumn, screen, Math.max(c.title.length, ...c.lines.map(l => lineWidth(l)))));
	const lines: StyledLine[] = [];
	const lineOf = new Map<string, number>();
	let i = 0;
	while (i < columns.length) {
		const band: number[] = [i];
		let used = widths[i]!;
		while (i + band.length < columns.length && used + gap + widths[i + band.length]! <= screen) {
			used += gap + widths[i + band.length]!;
			band.push(i + band.length);
		}
		if (lines.length > 0) lines.push([]);
		const head: Seg[] = [];
		band.forEach((c, k) => {
			const col = columns[c]!;
			head.push(...fitSegs([seg(col.title, col.onPath ? 'headPath' : 'head')], widths[c]!, k < band.length - 1));
			if (k < band.length - 1) head.push(seg(' '.repeat(gap)));
		});
		lines.push(head);
		const height = Math.max(...band.map(c => columns[c]!.lines.length));
		for (let r = 0; r < height; r++) {
			const row: Seg[] = [];
			band.forEach((c, k) => {
				const col = columns[c]!;
				const id = col.nodes[r];
				if (id !== undefined && !lineOf.has(id)) lineOf.set(id, lines.length);
				row.push(...fitSegs(col.lines[r] ?? [], widths[c]!, k < band.length - 1));
				if (k < band.length - 1) row.push(seg(' '.repeat(gap)));
			});
			lines.push(row);
		}
		i += band.length;
	}
	return {lines, lineOf};
}
