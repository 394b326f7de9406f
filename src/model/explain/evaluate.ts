/**
 * One condition of a rule against the packet as the walk has it: true, false, or not known (and
 * then what to assume, and why).
 *
 * Input:  {kind:'ctstate', states:['related','established']} with the packet's connection established
 * Output: {known: true, value: true}
 * Input:  {kind:'unknowable', why:'set', …} (`-m set --match-set KUBE-LB src`)
 * Output: {known: false, kind: 'set', why: 'the contents of ipset KUBE-LB are not in the dump', assume: true}
 *
 * What a dump cannot tell is assumed to hold as written (the rule was written for the traffic it
 * names), except the reverse-path check, which is assumed to pass (a packet is not assumed to be
 * spoofed). What the input does not say about the packet (a trace format that prints no
 * protocol, no UID) is assumed to hold too, and listed; an interface not given (no `--in`, no
 * `--out`) is taken to be none of those the rules name, and an address not known to be local
 * not local.
 */
import {inCidr, parseAddr} from '../../netfilter/addr.js';
import type {Hook} from '../../netfilter/hooks.js';
import {ifaceMatches} from '../../netfilter/iface.js';
import {hasPorts} from '../../netfilter/protocols.js';
import type {Condition} from './source.js';
import type {CtInput, CtState, PacketView, Probe, Routing, UnknownKind} from './types.js';

export type Decision =
	| {readonly known: true; readonly value: boolean}
	| {readonly known: false; readonly kind: UnknownKind; readonly why: string; readonly assume: boolean; readonly probability?: number};

/** What a condition is checked against. */
export interface EvalContext {
	readonly probe: Probe;
	readonly pkt: PacketView;
	readonly ct: CtInput;
	/** The state conntrack gives the packet at this point: before conntrack ran (raw), a packet has none (INVALID). */
	readonly ctState: CtState | undefined;
	readonly ctmark: number;
	readonly snatDone: boolean;
	readonly dnatDone: boolean;
	readonly routing: Routing;
	readonly hook: Hook;
}

const known = (value: boolean): Decision => ({known: true, value});

/** Parsed addresses: a walk looks at the same few addresses for every rule. Bounded. */
const parsed = new Map<string, ReturnType<typeof parseAddr>>();

function addrOf(text: string): ReturnType<typeof parseAddr> {
	if (parsed.has(text)) return parsed.get(text);
	const a = parseAddr(text);
	if (parsed.size >= 4096) parsed.clear();
	parsed.set(text, a);
	return a;
}

/** `ALL` and `NONE` in --tcp-flags, as iptables spells them. */
function expandFlags(flags: readonly string[]): string[] {
	const out: string[] = [];
	for (const f of flags) {
		if (f === 'ALL') out.push('FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR');
		else if (f !== 'NONE') out.push(f);
	}
	return out;
}

function isMulticast(addr: string): boolean {
	const a = parseAddr(addr);
	if (!a) return false;
	return a.v6 ? a.value >> 120n === 0xffn : a.value >> 28n === 0xen;
}

function addrType(addr: string, ctx: EvalContext): {types: Set<string>} | {unknown: string} {
	const types = new Set<string>();
	if (isMulticast(addr)) return {types: new Set(['MULTICAST'])};
	if (addr === '255.255.255.255') return {types: new Set(['BROADCAST'])};
	const local = ctx.routing.isLocal(addr);
	if (local === true) types.add('LOCAL');
	else if (!ctx.routing.knowsLocals) return {unknown: `no local address is known (give --local) to tell whether ${addr} is this host's`};
	else types.add('UNICAST');
	return {types};
}

/** Decides one condition; `!` is applied here. */
export function evaluate(c: Condition, ctx: EvalContext): Decision {
	const d = decide(c, ctx);
	if (!d.known) return d;
	return known(c.negated ? !d.value : d.value);
}

function unknown(kind: UnknownKind, why: string, assume = true, probability?: number): Decision {
	return {known: false, kind, why, assume, ...(probability === undefined ? {} : {probability})};
}

function decide(c: Condition, ctx: EvalContext): Decision {
	const {probe, pkt} = ctx;
	switch (c.kind) {
		case 'addr': {
			const a = addrOf(c.dir === 'src' ? pkt.src : pkt.dst);
			return known(a !== undefined && c.cidrs.some(x => inCidr(a, x)));
		}
		case 'addrRange': {
			const a = addrOf(c.dir === 'src' ? pkt.src : pkt.dst);
			return known(a !== undefined && a.v6 === c.v6 && a.value >= c.from && a.value <= c.to);
		}
		case 'iface': {
			const name = c.dir === 'in' ? pkt.in : pkt.out;
			// Not known: taken to be none of the interfaces rules name (else every `-o cali+` of a dispatch chain would match).
			if (name === undefined) return unknown('packet', c.dir === 'in' ? 'the input interface is not known (--in): taken to be another' : 'the output interface is not known (--out): taken to be another', c.negated);
			return known(ifaceMatches(c.pattern, name));
		}
		case 'proto': {
			if (c.proto === undefined) return known(true);
			if (probe.proto !== undefined) return known(probe.proto === c.proto);
			if (probe.portless && hasPorts(c.proto)) return known(false);
			return unknown('packet', 'the trace does not show the protocol');
		}
		case 'protoIn': {
			if (probe.proto !== undefined) return known(c.protos.includes(probe.proto));
			if (probe.portless && c.protos.every(hasPorts)) return known(false);
			return unknown('packet', 'the trace does not show the protocol');
		}
		case 'ports': {
			if (probe.portless) return known(false);
			const ports = c.which === 'sport' ? [pkt.spt] : c.which === 'dport' ? [pkt.dpt] : [pkt.spt, pkt.dpt];
			if (ports.every(p => p === undefined)) return unknown('packet', 'the ports are not known');
			return known(ports.some(p => p !== undefined && c.ranges.some(r => p >= r.from && p <= r.to)));
		}
		case 'tcpFlags': {
			if (probe.proto !== undefined && probe.proto !== 'TCP') return known(false);
			if (!probe.tcpFlags) return unknown('packet', 'the TCP flags are not known');
			const set = new Set(probe.tcpFlags.map(f => f.toUpperCase()));
			const comp = new Set(expandFlags(c.comp));
			return known(expandFlags(c.mask).every(f => set.has(f) === comp.has(f)));
		}
		case 'icmpType': {
			if (probe.proto !== undefined && probe.proto !== c.proto) return known(false);
			if (c.type === undefined) return known(true);
			if (!probe.icmp) return unknown('packet', `the trace does not show the ${c.proto} type`);
			return known(probe.icmp.type === c.type && (c.code === undefined || probe.icmp.code === c.code));
		}
		case 'ctstate': {
			const s = ctx.ctState;
			if (s === undefined) return unknown('packet', 'the trace does not show whether the packet starts a connection, belongs to one or is an error about one');
			return known(c.states.some(x => x === s || (x === 'snat' && ctx.snatDone) || (x === 'dnat' && ctx.dnatDone)));
		}
		case 'ctstatus': {
			if (ctx.ctState === undefined) return unknown('packet', "the packet's connection is not known");
			if (ctx.ctState === 'invalid' || ctx.ctState === 'untracked') return known(false);
			const confirmed = !ctx.ct.first;
			const has = (s: string) =>
				s === 'SEEN_REPLY' ? Boolean(ctx.ct.seenReply) : s === 'ASSURED' ? Boolean(ctx.ct.seenReply) && confirmed : s === 'CONFIRMED' ? confirmed : s === 'NONE' ? !ctx.ct.seenReply && !confirmed : false;
			return known(c.statuses.some(has));
		}
		case 'ctdir': {
			if (ctx.ctState === undefined) return unknown('packet', "the packet's connection is not known");
			if (ctx.ctState === 'invalid' || ctx.ctState === 'untracked') return known(false);
			return known(ctx.ct.dir === c.dir);
		}
		case 'ctproto': {
			if (c.proto === undefined) return known(true);
			if (probe.proto === undefined) return unknown('packet', 'the trace does not show the protocol');
			return known(probe.proto === c.proto);
		}
		case 'ctaddr': {
			const o = ctx.ct.orig;
			if (!o) return unknown('packet', "the connection's original addresses are not known");
			const addr = c.which === 'origsrc' ? o.src : c.which === 'origdst' ? o.dst : c.which === 'replsrc' ? (ctx.ct.dnat?.addr ?? o.dst) : (ctx.ct.unsnat ? undefined : o.src);
			if (addr === undefined) return unknown('packet', "the connection's reply addresses are not known");
			const a = parseAddr(addr);
			return known(a !== undefined && c.cidrs.some(x => inCidr(a, x)));
		}
		case 'mark':
			return known(((pkt.mark & c.mask) >>> 0) === c.value);
		case 'connmark':
			return known(((ctx.ctmark & c.mask) >>> 0) === c.value);
		case 'addrtype': {
			const t = addrType(c.dir === 'src' ? pkt.src : pkt.dst, ctx);
			if ('unknown' in t) {
				// Only LOCAL needs the host's addresses; a list without it is decided by what the address is.
				if (!c.types.includes('LOCAL')) return known(c.types.includes('UNICAST'));
				// Assumed not local: the condition as written holds only when negated.
				return unknown('routing', t.unknown, c.negated);
			}
			const other = c.types.filter(x => !['LOCAL', 'UNICAST', 'MULTICAST', 'BROADCAST'].includes(x));
			if (c.types.some(x => t.types.has(x))) return known(true);
			if (other.length > 0) return unknown('routing', `route types ${other.join(',')} depend on the routing table`, c.negated);
			return known(false);
		}
		case 'physdev': {
			const bridged = probe.physin !== undefined || probe.physout !== undefined;
			if (!bridged) return known(false);
			switch (c.option) {
				case 'in':
					return known(probe.physin !== undefined && ifaceMatches(c.pattern ?? '', probe.physin));
				case 'out':
					return known(probe.physout !== undefined && ifaceMatches(c.pattern ?? '', probe.physout));
				case 'is-in':
					return known(probe.physin !== undefined);
				case 'is-out':
				case 'is-bridged':
					return known(probe.physout !== undefined);
			}
			return known(false);
		}
		case 'owner': {
			const id = c.what === 'gid' ? probe.gid : probe.uid;
			if (id === null) return known(false);
			if (id === undefined) return unknown('owner', 'the sending socket is not known (the input shows no UID)');
			if (c.what === 'socket') return known(true);
			if (c.from === undefined) return unknown('owner', `the user or group name ${c.name ?? '?'} is not known as a number`);
			return known(id >= c.from && id <= (c.to ?? c.from));
		}
		case 'mac': {
			if (!probe.macsrc) return unknown('packet', 'the source MAC address is not known');
			return known(probe.macsrc.toLowerCase() === c.mac);
		}
		case 'fragment':
			return known(Boolean(probe.fragment));
		case 'statistic': {
			// A certain pick is no pick (the last entry of a numgen map, --probability 1).
			if (c.probability >= 1) return known(true);
			if (c.probability <= 0) return known(false);
			const p = c.negated ? 1 - c.probability : c.probability;
			// The negation is part of the pick: what is returned is already the condition as written.
			return unknown('statistic', c.mode === 'nth' ? `every-nth pick (1 in ${Math.round(1 / c.probability)}): the counter is not in the dump` : `random pick with probability ${round(c.probability)}`, p >= 0.5, p);
		}
		case 'rpfilter': {
			if (pkt.in === '' || pkt.in === undefined) return unknown('routing', 'the reverse-path check needs the input interface (taken to pass)', !c.negated);
			const back = ctx.routing.outFor(pkt.src);
			if (back === undefined) return unknown('routing', `the route back to ${pkt.src} is not known (taken to pass the reverse-path check)`, !c.negated);
			return known(back === pkt.in);
		}
		case 'unknowable':
			return unknown(c.why, c.reason, c.assume);
	}
}

function round(p: number): string {
	return String(Math.round(p * 10000) / 10000);
}
