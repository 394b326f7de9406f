/**
 * What the addresses and interfaces of a trace are, from saved cluster and host state: pods,
 * services, endpoints and nodes from `kubectl get pods,services,endpointslices,nodes -A -o json`,
 * a node's interfaces and addresses from `ip -j addr` (and `ip -j link`). Packets then carry the
 * names of what they touch: `198.19.1.2` is `pod default/web-0 (node-a)`, `198.19.96.1:443` is
 * `svc default/kubernetes:https`, `cali1a2b3c4d5e6` is the veth of `pod kube-system/coredns-…`.
 *
 * Input:  readNames(text, path, node?) for each file; names.forPacket(p) for each packet
 * Output: {"198.19.1.2": "pod default/pod-a (node-a)", "flannel.1": "node-a's vxlan device", …}
 *
 * Calico names a pod's host-side veth `cali` + the first 11 hex digits of sha1("namespace.pod")
 * (libcalico-go VethNameForWorkload), so pods name their veths without any host file.
 */
import {createHash} from 'node:crypto';
import type {Packet} from './types.js';

/** A file's names, and what in it could not be read. */
export interface NamesFile {
	readonly path: string;
	readonly kind: 'kubectl' | 'ip-addr' | 'ip-link';
	readonly count: number;
	readonly problems: readonly string[];
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
	return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function arr(v: unknown): unknown[] {
	return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
	return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Calico's host-side veth name of a pod. */
export function calicoVeth(namespace: string, pod: string, prefix = 'cali'): string {
	return `${prefix}${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

export class Names {
	private readonly addrs = new Map<string, string>();
	private readonly ifaces = new Map<string, string>();
	/** `ip:port` of a service port → the service and port name. */
	private readonly ports = new Map<string, string>();
	/**
	 * Each interface's MTU and each address's interface, from `ip -j link` / `ip -j addr` files
	 * read for a node (`--node NAME=…,ip-link.json`): a file given for every node (`--names`)
	 * names no node's devices.
	 */
	private readonly mtus = new Map<string, number>();
	private readonly devices = new Map<string, string>();
	readonly files: NamesFile[] = [];

	get empty(): boolean {
		return this.addrs.size === 0 && this.ifaces.size === 0 && this.ports.size === 0;
	}

	/**
	 * Reads one saved file: kubectl JSON (a List, or one object), `ip -j addr` or `ip -j link`.
	 * `node` is the node an `ip -j` file was taken on. Throws with a clear message for a file that
	 * is none of these.
	 */
	read(text: string, path: string, node?: string): NamesFile {
		let doc: unknown;
		try {
			doc = JSON.parse(text);
		} catch (error) {
			throw new Error(`${path}: not JSON (${(error as Error).message}); give kubectl get pods,services,endpointslices,nodes -A -o json or ip -j addr output`);
		}
		const problems: string[] = [];
		let count = 0;
		let kind: NamesFile['kind'];
		if (Array.isArray(doc) && doc.every(x => obj(x) && 'ifname' in obj(x)!)) {
			kind = doc.some(x => 'addr_info' in obj(x)!) ? 'ip-addr' : 'ip-link';
			count = this.readIp(doc as Json[], node);
		} else if (obj(doc) && (str(obj(doc)!['kind']) !== undefined || Array.isArray(obj(doc)!['items']))) {
			kind = 'kubectl';
			const items = Array.isArray(obj(doc)!['items']) ? arr(obj(doc)!['items']) : [doc];
			items.forEach((item, i) => {
				const o = obj(item);
				if (!o) {
					problems.push(`${path}: item ${i} is not an object`);
					return;
				}
				count += this.readObject(o);
			});
		} else {
			throw new Error(`${path}: neither kubectl JSON (an object with "kind"/"items") nor ip -j addr/link output (an array of interfaces)`);
		}
		const file = {path, kind, count, problems};
		this.files.push(file);
		return file;
	}

	/** An interface's MTU, when an `ip -j link` or `ip -j addr` file gave it. */
	mtu(ifname: string): number | undefined {
		return this.mtus.get(ifname);
	}

	/** The interface that holds an address, when an `ip -j addr` file gave it. */
	deviceOf(addr: string): string | undefined {
		return this.devices.get(addr);
	}

	/** The names of what a packet touches: its addresses (and service ports) and interfaces, with what they are. */
	forPacket(p: Packet): Record<string, string> | undefined {
		if (this.empty) return undefined;
		const out: Record<string, string> = {};
		const addr = (a: string | undefined, port?: number) => {
			if (!a) return;
			// A service port says more than the service's address alone.
			const service = port === undefined ? undefined : this.ports.get(`${a}:${port}`);
			if (service) out[`${a}:${port}`] = service;
			const name = this.addrs.get(a);
			if (name && !service && !(`${a}` in out)) out[a] = name;
		};
		const iface = (i: string | undefined) => {
			if (!i) return;
			const name = this.ifaces.get(i) ?? this.ifaces.get(i.replace(/\+$/, ''));
			if (name) out[i] = name;
		};
		addr(p.src, p.spt);
		addr(p.dst, p.dpt);
		for (const h of p.hops) {
			addr(h.src, h.spt);
			addr(h.dst, h.dpt);
			iface(h.in);
			iface(h.out);
		}
		for (const n of p.nat) {
			const [a, port] = splitEndpoint(n.to);
			addr(a, port);
		}
		iface(p.in);
		iface(p.out);
		return Object.keys(out).length > 0 ? out : undefined;
	}

	// ---- inside ------------------------------------------------------------------------------------

	/** An address may be several things (a node and a service's endpoint): each is said once. */
	private setAddr(a: string | undefined, name: string): void {
		if (!a) return;
		const known = this.addrs.get(a);
		if (known === undefined) {
			this.addrs.set(a, name);
			return;
		}
		const parts = known.split(', ');
		// `node n1 (eth0)` says more than `node n1`: the longer of the two is kept.
		const i = parts.findIndex(x => name.startsWith(x) || x.startsWith(name));
		if (i === -1) parts.push(name);
		else if (name.length > parts[i]!.length) parts[i] = name;
		this.addrs.set(a, parts.join(', '));
	}

	private readObject(o: Json): number {
		const meta = obj(o['metadata']) ?? {};
		const ns = str(meta['namespace']);
		const name = str(meta['name']);
		const spec = obj(o['spec']) ?? {};
		const status = obj(o['status']) ?? {};
		switch (o['kind']) {
			case 'Pod': {
				if (!name) return 0;
				const node = str(spec['nodeName']);
				// A host-network pod has its node's address: the node's name says more.
				if (spec['hostNetwork'] === true) return 0;
				const label = `pod ${ns ?? 'default'}/${name}${node ? ` (${node})` : ''}`;
				const ips = new Set([str(status['podIP']), ...arr(status['podIPs']).map(x => str(obj(x)?.['ip']))].filter((x): x is string => x !== undefined));
				for (const ip of ips) this.setAddr(ip, label);
				this.ifaces.set(calicoVeth(ns ?? 'default', name), `veth of ${label}`);
				return ips.size;
			}
			case 'Service': {
				if (!name) return 0;
				const label = `svc ${ns ?? 'default'}/${name}`;
				const ips = new Set(
					[str(spec['clusterIP']), ...arr(spec['clusterIPs']).map(str), ...arr(spec['externalIPs']).map(str), str(spec['loadBalancerIP']), ...arr(obj(status['loadBalancer'])?.['ingress']).map(x => str(obj(x)?.['ip']))].filter(
						(x): x is string => x !== undefined && x !== 'None',
					),
				);
				for (const ip of ips) {
					this.setAddr(ip, label);
					for (const port of arr(spec['ports'])) {
						const p = obj(port);
						if (typeof p?.['port'] === 'number') this.ports.set(`${ip}:${p['port']}`, `${label}:${str(p['name']) ?? p['port']}`);
					}
				}
				return ips.size;
			}
			case 'EndpointSlice': {
				let n = 0;
				const service = str(obj(meta['labels'])?.['kubernetes.io/service-name']);
				for (const e of arr(o['endpoints'])) {
					const ep = obj(e);
					const ref = obj(ep?.['targetRef']);
					const target = ref && str(ref['name']) ? `${String(ref['kind'] ?? 'pod').toLowerCase()} ${str(ref['namespace']) ?? ns ?? 'default'}/${str(ref['name'])}` : undefined;
					const node = str(ep?.['nodeName']);
					const label = target ? `${target}${node ? ` (${node})` : ''}` : service ? `endpoint of svc ${ns ?? 'default'}/${service}` : undefined;
					if (!label) continue;
					for (const a of arr(ep?.['addresses'])) {
						this.setAddr(str(a), label);
						n++;
					}
				}
				return n;
			}
			case 'Node': {
				if (!name) return 0;
				let n = 0;
				for (const a of arr(status['addresses'])) {
					const x = obj(a);
					if (x?.['type'] === 'Hostname') continue;
					this.setAddr(str(x?.['address']), `node ${name}`);
					n++;
				}
				return n;
			}
			default:
				return 0;
		}
	}

	private readIp(links: Json[], node: string | undefined): number {
		let n = 0;
		const on = node ? `${node}'s` : 'the node\'s';
		for (const l of links) {
			const ifname = str(l['ifname']);
			if (!ifname || ifname === 'lo') continue;
			const info = obj(l['linkinfo']);
			const kind = str(info?.['info_kind']) ?? (ifname.includes('.') && /^(flannel|vxlan)/.test(ifname) ? 'vxlan' : undefined);
			if (!this.ifaces.has(ifname)) this.ifaces.set(ifname, `${on} ${kind ? `${kind} device` : 'interface'}`);
			const mtu = l['mtu'];
			if (node && typeof mtu === 'number' && Number.isInteger(mtu) && mtu > 0) this.mtus.set(ifname, mtu);
			for (const a of arr(l['addr_info'])) {
				const local = str(obj(a)?.['local']);
				if (!local || local.startsWith('fe80:')) continue;
				if (node) this.devices.set(local, ifname);
				this.setAddr(local, `${node ? `node ${node}` : 'this node'} (${ifname})`);
				n++;
			}
			n++;
		}
		return n;
	}
}

/** `10.0.0.5:80`, `[2001:db8::1]:80`, `10.0.0.5` → address and port. */
function splitEndpoint(text: string): [string, number | undefined] {
	const v6 = /^\[([^\]]+)\](?::(\d+))?/.exec(text);
	if (v6) return [v6[1]!, v6[2] ? Number(v6[2]) : undefined];
	const m = /^([^:]+)(?::(\d+))?/.exec(text);
	return m ? [m[1]!, m[2] ? Number(m[2]) : undefined] : [text, undefined];
}
