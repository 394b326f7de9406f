/**
 * Packets that carry other packets between nodes: the outer packet of an overlay or a tunnel.
 * Such a packet is not a request: nothing answers it, the packets inside it are answered.
 *
 * Input:  a packet's protocol and ports as the trace shows them
 * Output: overlayOf({proto: 'UDP', dpt: 8472}) → {kind: 'vxlan', name: 'VXLAN'}; undefined for
 *         anything else
 *
 * Ports are the registered ones and the defaults of the CNIs people run: VXLAN 4789 (IANA) and
 * 8472 (the Linux kernel's default, flannel's and Cilium's), Geneve 6081, WireGuard 51820
 * (Tailscale uses 41641 for the same protocol), Calico's VXLAN 4789 and WireGuard 51820, and
 * the IP protocols of IP-in-IP (4, 41), GRE (47) and ESP (50).
 */

export interface Overlay {
	readonly kind: 'vxlan' | 'geneve' | 'wireguard' | 'ipip' | 'gre' | 'esp';
	/** How a person names it. */
	readonly name: string;
}

const UDP_PORTS: ReadonlyMap<number, Overlay> = new Map<number, Overlay>([
	[4789, {kind: 'vxlan', name: 'VXLAN'}],
	[8472, {kind: 'vxlan', name: 'VXLAN'}],
	[6081, {kind: 'geneve', name: 'Geneve'}],
	[51820, {kind: 'wireguard', name: 'WireGuard'}],
	[41641, {kind: 'wireguard', name: 'WireGuard (Tailscale)'}],
]);

const IP_PROTOCOLS: ReadonlyMap<string, Overlay> = new Map<string, Overlay>([
	['4', {kind: 'ipip', name: 'IP-in-IP'}],
	['41', {kind: 'ipip', name: 'IPv6-in-IP'}],
	['47', {kind: 'gre', name: 'GRE'}],
	['GRE', {kind: 'gre', name: 'GRE'}],
	['ESP', {kind: 'esp', name: 'ESP'}],
]);

/** The overlay a packet is the outer packet of, or undefined. */
export function overlayOf(p: {readonly proto: string; readonly spt?: number | undefined; readonly dpt?: number | undefined}): Overlay | undefined {
	if (p.proto === 'UDP') return (p.dpt === undefined ? undefined : UDP_PORTS.get(p.dpt)) ?? (p.spt === undefined ? undefined : UDP_PORTS.get(p.spt));
	return IP_PROTOCOLS.get(p.proto);
}

/**
 * Interface names of overlay and tunnel devices as CNIs and VPNs create them: a packet routed
 * out of one goes to another node inside an outer packet, keeping its pod addresses.
 * flannel.1 / flannel-wg (flannel), vxlan.calico / vxlan-v6.calico / tunl0 / wireguard.cali
 * (Calico), cilium_vxlan / cilium_geneve / cilium_wg0 (Cilium), weave / vxlan-6784 (Weave),
 * tailscale0, wg0…, genev_sys_6081 (OVN), nebula1, zt… (ZeroTier).
 */
const DEVICE = /^(?:flannel[.-]|vxlan|cilium_(?:vxlan|geneve|wg)|tunl\d|wireguard\.cali|weave$|tailscale\d|wg\d|genev_sys_|nebula\d|zt[a-z0-9]{8}$|ip6tnl\d|sit\d|gre\d|gretap|erspan)/;

/** The device is an overlay or a tunnel to other nodes (by the names CNIs and VPNs give them). */
export function isOverlayDevice(name: string): boolean {
	return DEVICE.test(name);
}
