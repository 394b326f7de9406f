/**
 * Keys of the model's maps (connections, flows, paths), written as one flat string.
 *
 * A template literal gives V8 a rope: a node of 32 bytes for each joint, holding on to every
 * piece. A map keeps its key as given, so each remembered connection cost a few hundred bytes of
 * rope where its key needs forty: on a central log of 50 hosts the ropes held by the bounded maps
 * came to about a tenth of the heap. `Array.prototype.join` writes one flat string.
 *
 * Input:  the parts, e.g. ('TCP', '198.18.10.2', 40990, '198.18.30.10', 80)
 * Output: 'TCP|198.18.10.2|40990|198.18.30.10|80' (undefined and null parts are empty)
 */
export function mapKey(...parts: ReadonlyArray<string | number | undefined>): string {
	return parts.join('|');
}
