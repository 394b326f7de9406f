/**
 * A packet literal for model tests: what every packet has, empty, with the fields a test cares
 * about given; `verdict` starts `unknown`, as the assembler leaves it.
 */
import type {Packet} from '../../src/model/types.js';

export function packetLiteral(fields: Partial<Packet> & Pick<Packet, 'id' | 'src' | 'dst'>): Packet {
	return {
		family: 'ipv4',
		proto: 'TCP',
		hops: [],
		verdict: 'unknown',
		verdictBasis: '',
		in: '',
		out: '',
		nat: [],
		replyTo: null,
		replySeen: false,
		format: 'kernel',
		first: {family: 'ipv4'},
		...fields,
	};
}
