/**
 * The chain-traversal graph: which table:chain nodes packets passed and in which order.
 *
 * Input:  packets whose hops run raw:PREROUTING → nat:PREROUTING → nat:KUBE-SERVICES → nat:PREROUTING → filter:FORWARD
 * Output: nodes [{id:'raw:PREROUTING', packets:1}, …], edges [{from:'nat:PREROUTING', to:'nat:KUBE-SERVICES', packets:1}, …]
 * A node or edge counts each packet once, however often the packet passed it. Memory grows
 * with the number of chains and jumps, never with the number of packets.
 */
import type {Hook, Packet} from './types.js';

export interface GraphNode {
	id: string;
	packets: number;
	/** Packets whose path ended here. */
	final: number;
	/** The hook the chain ran in, as the first packet through it saw it (user chains run in their caller's hook). */
	hook?: Hook;
}

export interface GraphEdge {
	from: string;
	to: string;
	packets: number;
}

export interface Graph {
	nodes: GraphNode[];
	edges: GraphEdge[];
}

export class GraphBuilder {
	private readonly nodes = new Map<string, GraphNode>();
	private readonly edges = new Map<string, GraphEdge>();

	add(p: Packet): void {
		const seenNodes = new Set<string>();
		const seenEdges = new Set<string>();
		let prev: string | undefined;
		for (const hop of p.hops) {
			if (hop.kind === 'log') continue;
			const id = `${hop.table}:${hop.chain}`;
			if (!seenNodes.has(id)) {
				seenNodes.add(id);
				const n = this.nodes.get(id) ?? {id, packets: 0, final: 0};
				if (n.hook === undefined && hop.hook) n.hook = hop.hook;
				n.packets++;
				this.nodes.set(id, n);
			}
			if (prev && prev !== id) {
				const k = `${prev}\u0000${id}`;
				if (!seenEdges.has(k)) {
					seenEdges.add(k);
					const e = this.edges.get(k) ?? {from: prev, to: id, packets: 0};
					e.packets++;
					this.edges.set(k, e);
				}
			}
			prev = id;
		}
		if (prev) this.nodes.get(prev)!.final++;
	}

	snapshot(): Graph {
		return {nodes: [...this.nodes.values()].map(n => ({...n})), edges: [...this.edges.values()].map(e => ({...e}))};
	}
}
