/**
 * A node's part of a bound, when several nodes' pipelines run in one process (src/model/fleet.ts):
 * the nodes of a central log together remember what one pipeline would, so 50 hosts in one file
 * take the memory of one host's file, not fifty times it.
 *
 * Input:  the bound of one pipeline (10,000 flows), this node's share (1/50)
 * Output: its part (200), never below `least` (64): a node of a very large fleet still keeps a
 *         few dozen of each thing. Up to bound/least nodes (128 for a bound of 8,192) the parts
 *         add up to the bound.
 */
export function nodePart(bound: number, share: number, least = 64): number {
	return share >= 1 ? bound : Math.max(least, Math.floor(bound * share));
}
