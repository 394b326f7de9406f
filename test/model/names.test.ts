/**
 * Names from saved state (--names): kubectl JSON written for the bundled scenarios
 * (testdata/names, testdata/nodes/cluster.json) and the nodes' own `ip -j` output taken by the
 * capture script, on the real traces.
 */
import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {calicoVeth, Names} from '../../src/model/names.js';
import {Pipeline} from '../../src/model/pipeline.js';
import type {Packet} from '../../src/model/types.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {read, ROOT} from '../support/replay.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin/tracewatch.js');

function replay(trace: string, dump: string, names: Names): Packet[] {
	const p = new Pipeline({rules: [parseRuleset(read(dump), dump)], names});
	const packets: Packet[] = [];
	p.on(e => {
		if (e.type === 'settled') packets.push(e.packet);
	});
	const input = p.addInput(trace);
	for (const line of parseTraceText(read(trace), input)) p.push(line);
	p.end();
	return packets;
}

describe('names from kubectl JSON', () => {
	it('seed 000: the pod, the service port it asked for, and the API server endpoint behind the DNAT', () => {
		const names = new Names();
		const file = names.read(read('testdata/names/wifi-no-reply.json'), 'wifi-no-reply.json');
		expect(file).toMatchObject({kind: 'kubectl', problems: []});
		for (const trace of ['testdata/dmesg/wifi-no-reply/dmesg-T.log', 'testdata/nft/wifi-no-reply/nft-monitor.log']) {
			const dump = trace.replace(/[^/]+$/, 'iptables.save');
			const packets = replay(trace, dump, names);
			expect(packets.length).toBeGreaterThan(0);
			for (const p of packets) {
				expect(p.names).toEqual({
					'198.19.88.69': 'pod default/wifi-client-7d9f (laptop-node)',
					'198.19.96.1:443': 'svc default/kubernetes:https',
					'198.18.1.50': 'endpoint of svc default/kubernetes, node cp-1',
				});
				expect(Object.isFrozen(p.names)).toBe(true);
			}
		}
	});

	it('a host-network pod is named by its node, not as a pod; a headless service has no address', () => {
		const names = new Names();
		names.read(
			JSON.stringify({
				kind: 'List',
				items: [
					{kind: 'Pod', metadata: {namespace: 'kube-system', name: 'kube-proxy-x'}, spec: {nodeName: 'n1', hostNetwork: true}, status: {podIP: '198.18.5.1'}},
					{kind: 'Node', metadata: {name: 'n1'}, status: {addresses: [{type: 'InternalIP', address: '198.18.5.1'}]}},
					{kind: 'Service', metadata: {namespace: 'db', name: 'pg'}, spec: {clusterIP: 'None', ports: [{port: 5432}]}},
				],
			}),
			'c.json',
		);
		const p = {src: '198.18.5.1', dst: '198.18.9.9', spt: 1, dpt: 5432, hops: [], nat: [], in: '', out: ''} as unknown as Packet;
		expect(names.forPacket(p)).toEqual({'198.18.5.1': 'node n1'});
	});

	it("Calico's veth of a pod is named without a host file", () => {
		expect(calicoVeth('kube-system', 'coredns-5d78c9869d-abcde')).toBe('cali4d5f75c480c');
		const names = new Names();
		names.read(JSON.stringify({kind: 'Pod', metadata: {namespace: 'kube-system', name: 'coredns-5d78c9869d-abcde'}, spec: {nodeName: 'n1'}, status: {podIP: '198.19.7.7'}}), 'pod.json');
		const p = {src: '198.19.7.7', dst: '198.19.7.8', hops: [], nat: [], in: 'cali4d5f75c480c', out: ''} as unknown as Packet;
		expect(names.forPacket(p)).toEqual({'198.19.7.7': 'pod kube-system/coredns-5d78c9869d-abcde (n1)', cali4d5f75c480c: 'veth of pod kube-system/coredns-5d78c9869d-abcde (n1)'});
	});

	it('says what a file is not', () => {
		expect(() => new Names().read('{"a": 1}', 'x.json')).toThrow(/x\.json: neither kubectl JSON .* nor ip -j addr\/link output/);
		expect(() => new Names().read('TRACE: raw', 'y.json')).toThrow(/y\.json: not JSON/);
	});
});

describe('tracewatch replay --names', () => {
	it('two nodes: pods, nodes and each node\'s own devices, in text and JSON', async () => {
		const dir = 'testdata/nodes/broken';
		const args = ['replay', '--names', 'testdata/nodes/cluster.json', ...['node-a', 'node-b'].flatMap(n => ['--node', `${n}=${dir}/${n}/dmesg-T.log,${dir}/${n}/iptables.save,${dir}/${n}/ip-addr.json,${dir}/${n}/ip-link.json`])];
		const text = (await exec(process.execPath, [BIN, ...args, '--hops', 'summary'], {cwd: ROOT})).stdout;
		expect(text).toContain('    names  198.19.1.2 pod default/pod-a (node-a) · 198.19.2.2 pod default/pod-b (node-b) · vethpa1 node-a\'s interface · flannel.1 node-a\'s vxlan device');
		// What crossed, and the finding at node B, say which pods.
		expect(text).toContain('─▶ node-b #2  DROP  ICMP 198.19.1.2 (pod default/pod-a (node-a)) → 198.19.2.2 (pod default/pod-b (node-b)) echo-request seq=1');
		expect(text).toMatch(/dropped-at-peer: 2 packets TCP 198\.19\.1\.2:\d+ \(pod default\/pod-a \(node-a\)\) → 198\.19\.2\.2:8080 \(pod default\/pod-b \(node-b\)\) \[SYN\] sent from node-a/);
		const doc = JSON.parse((await exec(process.execPath, [BIN, ...args, '--format', 'json'], {cwd: ROOT})).stdout) as {packets: Array<{node: string; names?: Record<string, string>}>};
		const outerB = doc.packets.find(p => p.node === 'node-b' && p.names?.['198.18.100.1'])!;
		// node-b's packets name node-b's devices, not node-a's.
		expect(outerB.names).toEqual({'198.18.100.1': 'node node-a', '198.18.100.2': 'node node-b (eth0)', eth0: "node-b's interface"});
	});

	it('a file that is not saved state is a usage error naming it', async () => {
		const r = await exec(process.execPath, [BIN, 'replay', 'testdata/dmesg/wifi-no-reply/dmesg-T.log', '--names', 'testdata/dmesg/wifi-no-reply/iptables.save'], {cwd: ROOT}).then(
			() => ({code: 0, stderr: ''}),
			(e: {code: number; stderr: string}) => e,
		);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain('testdata/dmesg/wifi-no-reply/iptables.save: not JSON');
	});
});

describe("a node's MTUs and devices from its ip -j files", () => {
	it('ip -j link and ip -j addr read for a node give each device its MTU, and ip -j addr each address its device', () => {
		const link = new Names();
		link.read(read('testdata/nodes/mtu/node-b/ip-link.json'), 'ip-link.json', 'node-b');
		expect(['eth0', 'vethpb1', 'flannel.1', 'wg0'].map(d => link.mtu(d))).toEqual([1400, 1450, 1450, undefined]);
		expect(link.deviceOf('198.18.173.2')).toBeUndefined();
		const addr = new Names();
		addr.read(read('testdata/nodes/mtu/node-b/ip-addr.json'), 'ip-addr.json', 'node-b');
		expect([addr.mtu('eth0'), addr.deviceOf('198.18.173.2'), addr.deviceOf('198.19.175.0')]).toEqual([1400, 'eth0', 'flannel.1']);
	});

	it('a file given for every node (--names, no node) names no node its MTUs', () => {
		const names = new Names();
		names.read(read('testdata/nodes/mtu/node-b/ip-addr.json'), 'ip-addr.json');
		expect([names.mtu('eth0'), names.deviceOf('198.18.173.2')]).toEqual([undefined, undefined]);
	});
});
