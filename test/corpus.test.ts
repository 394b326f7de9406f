/**
 * Every published sample in testdata/corpus (see its SOURCES.md) is read without a crash, and
 * what becomes of its lines is pinned per file: trace lines, lines skipped as not trace output,
 * lines that could not be parsed, and the packets rebuilt. The numbers were checked by hand
 * against each file (truncated excerpts end in a cut line that still joins its packet; the
 * unparsed lines are the cut nft lines and the k8s#107965 line whose spaces were mangled in the paste).
 */
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {parseTraceText} from '../src/parser/line-stream.js';
import {parseRuleset} from '../src/parser/ruleset.js';
import {collect} from '../src/model/collect.js';

const root = new URL('../testdata/corpus/', import.meta.url);

const traces: Array<[string, {traceLines: number; skipped: number; unparsed: number; packets: number}]> = [
  ['log-target/dmesg-Inbound-frag-needed-MTU-INCOMPLETE.txt', {traceLines: 2, skipped: 0, unparsed: 0, packets: 2}],
  ['log-target/dmesg-Inbound-ppp0-empty-MAC-icmp-embedded.txt', {traceLines: 2, skipped: 0, unparsed: 0, packets: 2}],
  ['log-target/grep-prefixed-rsyslog-iso-timestamp-REDACTED-icmp-frag-needed.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/journal-dfw-forward-LOG-no-prefix-REDACTED-filtered-MARK.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/kernlog-Inbound-icmp-unreach-embedded-tcp-INCOMPLETE.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/lua-syslog-test-ufw-block-icmpv6-and-reject.txt', {traceLines: 3, skipped: 0, unparsed: 0, packets: 3}],
  ['log-target/messages-nat-postrouting-log-no-prefix.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/plaso-issue4204-ubuntu-wiki-ufw-INVALID-IP-OCTETS.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/syslog-ufw-allow-block-icmp-embedded-with-pppd-lines.txt', {traceLines: 2, skipped: 6, unparsed: 0, packets: 2}],
  ['log-target/test-fixture-SDC-prefix-ppp0-icmp-embedded-tcp.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/wazuh-issue645-ufw-block-udp-syslog.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/wazuh-pr649-ufw-block-igmp-numeric-PROTO-2-SANITIZED.txt', {traceLines: 2, skipped: 0, unparsed: 0, packets: 2}],
  ['log-target/wazuh-qa3422-ufw-block-cwr-ece-syn-out-ppp0-SANITIZED.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['log-target/weave-issue450-ufw-block-bridge-physin-physout-no-header.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/calico-issue2322-iptables18-padded-dmesg-mark40000-TRUNCATED.txt', {traceLines: 6, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/calico-issue2375-pod-to-node-cali-wl-to-host-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/calico-issue4520-nft-backend-forward-kube-services-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/calico-legacy-docker-container-to-host-master-blank-line-groups.txt', {traceLines: 22, skipped: 5, unparsed: 0, packets: 2}],
  ['trace-legacy/calico-legacy-host-to-container-CORRUPTED-columns-PARTIAL.txt', {traceLines: 20, skipped: 3, unparsed: 0, packets: 3}],
  ['trace-legacy/calico-legacy-remote-host-to-pod-dropped-by-profile-ends-cali-tw-rule6.txt', {traceLines: 13, skipped: 1, unparsed: 0, packets: 1}],
  ['trace-legacy/demystifying-kube-proxy-single-line-trailing-space.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/dmesg-gke-kubedns-column-aligned-no-mac.txt', {traceLines: 22, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/firewall-node-rst-indented-lo-6443-with-ellipsis.txt', {traceLines: 3, skipped: 1, unparsed: 0, packets: 1}],
  ['trace-legacy/flannel-issue636-vxlan-flannel1-to-cni0-syslog-padded-stamp-TRUNCATED.txt', {traceLines: 5, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/k8s-issue107965-nft-vs-legacy-embedded-run-of-spaces-TRUNCATED.txt', {traceLines: 2, skipped: 0, unparsed: 1, packets: 1}],
  ['trace-legacy/k8s-issue24350-indented-dmesg-docker0-kube-services-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/k8s-issue24350-part2-indented-dmesg-docker0-bridged-forward-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/k8s-issue28038-pod-to-hostIP-broken-trace-aws-hostname-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/kernlog-calico-clusterip-output-dnat-uid-gid.txt', {traceLines: 14, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/kernlog-openstack-quantum-mangled-whitespace.txt', {traceLines: 13, skipped: 12, unparsed: 0, packets: 1}],
  ['trace-legacy/kernlog-wrapped-lines-enterprise.txt', {traceLines: 2, skipped: 1, unparsed: 0, packets: 1}],
  ['trace-legacy/libnetwork-pr1963-docker-hairpin-userland-proxy-off-TRUNCATED.txt', {traceLines: 3, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/lua-syslog-test-icmp-8digit-uptime-trailing-space.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/no-prefix-flannel-cni0-nodeport-dnat-forward.txt', {traceLines: 14, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-legacy/regit-icmp-nat-collapsed-one-line-padded-stamp.txt', {traceLines: 1, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/ss-tproxy-issue104-docker0-sstp-prerouting-TRUNCATED.txt', {traceLines: 3, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/syslog-calico-kubeproxy-dnat-port80-to-52000-accept.txt', {traceLines: 20, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/tonybai-docker0-container-to-container-bridged-physin-physout-ebtables.txt', {traceLines: 14, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/tonybai-docker0-container-to-container-reply-no-nat-established.txt', {traceLines: 10, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/tonybai-docker0-container-to-container-seq2-established.txt', {traceLines: 10, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-legacy/tonybai-docker0-container-to-external-ebtables-interleaved.txt', {traceLines: 25, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-legacy/tonybai-docker0-reply-to-host-ebtables-interleaved.txt', {traceLines: 7, skipped: 0, unparsed: 0, packets: 1}],
  // The bridge floods the echo request to both ports: each copy (a clone of the frame) is a packet of its own.
  ['trace-legacy/tonybai-host-ping-container-output-uid-then-ebtables-flood-two-veths.txt', {traceLines: 12, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-legacy/tonybai-host-ping-output-uid-gid-and-reply.txt', {traceLines: 10, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-nft/dhcp-broadcast-inet-filter-input-raw-payload-expr.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-nft/docker-firewalld-internal-net-bridge-arp-and-syn-part1-TRUNCATED.txt', {traceLines: 15, skipped: 1, unparsed: 0, packets: 3}],
  ['trace-nft/firewalld-issue527-calico-pod-ip-filter-trace-chain-then-inet-firewalld-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 1, packets: 1}],
  ['trace-nft/nfproxy-issue47-nft-nn-numeric-output-duplicate-rules-TRUNCATED.txt', {traceLines: 5, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-nft/openwrt-fw4-forward-same-iface-ack-TRUNCATED.txt', {traceLines: 4, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-nft/openwrt-fw4-wan-syn-raw-prerouting-REDACTED-TRUNCATED.txt', {traceLines: 5, skipped: 0, unparsed: 1, packets: 1}],
  ['trace-xtables-monitor/docker-bridge-ping-to-gateway-local.txt', {traceLines: 13, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-xtables-monitor/docker-user-bridge-newnet-icmp-forward.txt', {traceLines: 14, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-xtables-monitor/docker0-icmp-forward-masquerade-and-return.txt', {traceLines: 26, skipped: 0, unparsed: 0, packets: 2}],
  ['trace-xtables-monitor/iptables-labs-tcp-handshake-duplicate-trace-rules.txt', {traceLines: 13, skipped: 0, unparsed: 0, packets: 3}],
  ['trace-xtables-monitor/k3s-calico-vxlan-clusterip-dnat-futoneng.txt', {traceLines: 155, skipped: 0, unparsed: 0, packets: 6}],
  ['trace-xtables-monitor/polykey-netns-router-udp-nat-TRUNCATED-excerpt.txt', {traceLines: 14, skipped: 0, unparsed: 0, packets: 3}],
  ['trace-xtables-monitor/rust-test-fixture-dns-redirect-SIMPLIFIED.txt', {traceLines: 7, skipped: 0, unparsed: 0, packets: 1}],
  ['trace-xtables-monitor/rust-test-fixture-forward-drop-no-leading-space-SIMPLIFIED.txt', {traceLines: 5, skipped: 0, unparsed: 0, packets: 1}],
];

const dumps: Array<[string, {format: string; tables: number; chains: number; rules: number; problems: number}]> = [
  ['rules/aks-kubenet-calico-node0-iptables-list-rules-filter.txt', {format: 'list-rules', tables: 1, chains: 48, rules: 194, problems: 0}],
  ['rules/arter97-firewall-AFTER-ipset-geoip-nft-iptables-save.txt', {format: 'save', tables: 2, chains: 8, rules: 21, problems: 0}],
  ['rules/arter97-firewall-BEFORE-empty-nft-iptables-save.txt', {format: 'save', tables: 2, chains: 8, rules: 0, problems: 0}],
  ['rules/cilium-OLD_CILIUM-leftover-grep-fragment.txt', {format: 'list-rules', tables: 1, chains: 3, rules: 2, problems: 1}],
  ['rules/cilium-kubeproxy-ipvs-docker-nodelocaldns-filter.txt', {format: 'save', tables: 1, chains: 17, rules: 50, problems: 0}],
  ['rules/flannel-issue1702-kubespray-centos7-iptables-v1.4.21-huge-counters-TRUNCATED.txt', {format: 'save', tables: 2, chains: 19, rules: 6, problems: 1}],
  ['rules/homeassistant-docker-hassio-ip6tables-save-nft.txt', {format: 'save', tables: 2, chains: 12, rules: 9, problems: 0}],
  ['rules/homeassistant-docker-hassio-iptables-rules-hand-edited-comments-nft.txt', {format: 'save', tables: 2, chains: 15, rules: 50, problems: 0}],
  ['rules/ip6tables-save-sshguard-hostA-jalapeno-rules.v6.txt', {format: 'save', tables: 1, chains: 4, rules: 1, problems: 0}],
  ['rules/ip6tables-save-sshguard-hostB-testbed-rules.v6.txt', {format: 'save', tables: 1, chains: 4, rules: 1, problems: 0}],
  ['rules/k8s-1.6-issue44963-onlylocal-xlb-flannel-iptables-v1.4.21-TRUNCATED.txt', {format: 'save', tables: 1, chains: 21, rules: 9, problems: 1}],
  ['rules/k8s-2015-kubeproxy-iptables-v1.4.21-mark-0x4d415351-TRUNCATED.txt', {format: 'save', tables: 1, chains: 13, rules: 9, problems: 1}],
  ['rules/k8s-2016-kubeproxy-iptables-v1.6.0-invalid-option-L-TRUNCATED.txt', {format: 'save', tables: 1, chains: 16, rules: 6, problems: 3}],
  ['rules/killersh-cka-iptables-save-grep-service-with-legacy-warning-at-end.txt', {format: 'list-rules', tables: 1, chains: 3, rules: 5, problems: 0}],
  ['rules/kubeadm-flannel-kubeproxy-nft-k8s-ctr-iptables-S-filter.txt', {format: 'list-rules', tables: 1, chains: 12, rules: 18, problems: 0}],
  ['rules/kubeadm-flannel-kubeproxy-nft-k8s-ctr-iptables-S-nat.txt', {format: 'list-rules', tables: 1, chains: 22, rules: 44, problems: 0}],
  ['rules/kubeadm-flannel-kubeproxy-nft-k8s-ctr-iptables-save.txt', {format: 'save', tables: 3, chains: 42, rules: 62, problems: 0}],
  ['rules/libvirt-sshguard-duplicated-rules-hostA-jalapeno-rules.v4.txt', {format: 'save', tables: 3, chains: 13, rules: 120, problems: 0}],
  ['rules/libvirt-sshguard-duplicated-rules-hostB-testbed-rules.v4.txt', {format: 'save', tables: 3, chains: 13, rules: 67, problems: 0}],
  ['rules/openshift-origin-issue14195-firewalld-IN_public-tail-fragment.txt', {format: 'list-rules', tables: 1, chains: 3, rules: 17, problems: 0}],
  ['rules/tailscale-in-pod-iptables-save-ts-chains-cilium-issue26847-TRUNCATED.txt', {format: 'save', tables: 2, chains: 10, rules: 7, problems: 1}],
  ['rules/ufw-docker-libvirt-multipass-iptables-L-listing.txt', {format: 'empty', tables: 0, chains: 0, rules: 0, problems: 1}],
  ['rules/weave-issue3568-worker01-grep-nginx-ext-xlb-no-local-endpoints.txt', {format: 'list-rules', tables: 1, chains: 5, rules: 8, problems: 0}],
];

describe('published traces', () => {
	it.each(traces)('%s', (file, expected) => {
		const {packets: settled, summary} = collect([{path: file, lines: parseTraceText(readFileSync(new URL(file, root), 'utf8'))}]);
		const packets = settled.length;
		const input = summary.inputs[0]!;
		expect({traceLines: input.traceLines, skipped: input.skipped, unparsed: input.unparsed, packets}).toEqual(expected);
		// Every line is accounted for.
		expect(input.traceLines + input.skipped + input.unparsed).toBe(input.lines);
	});
});

describe('published rule dumps', () => {
	it.each(dumps)('%s', (file, expected) => {
		const rs = parseRuleset(readFileSync(new URL(file, root), 'utf8'), file);
		let chains = 0;
		let rules = 0;
		for (const t of rs.tables.values()) {
			for (const c of t.chains.values()) {
				chains++;
				rules += c.rules.length;
			}
		}
		expect({format: rs.format, tables: rs.tables.size, chains, rules, problems: rs.problems.length}).toEqual(expected);
		for (const p of rs.problems) expect(p.line).toBeGreaterThan(0);
	});
});
