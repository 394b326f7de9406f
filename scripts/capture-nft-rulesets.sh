#!/usr/bin/env bash
# Real native-nftables captures for testdata/nft-rulesets/: each ruleset of scripts/nft-captures/
# is loaded into a fresh network namespace (tw-nftr-NAME, a host, with a client namespace
# tw-nftr-NAMEc on a veth), a client's packets are traced with `nft monitor trace`, and the
# ruleset is listed the ways nft lists it: `nft list ruleset`, `nft -a list ruleset`,
# `nft -j list ruleset`. Root only; only addresses of 198.18.0.0/15; the namespaces are removed
# on exit. Usage: scripts/capture-nft-rulesets.sh [NAME…]   (default: firewalld kube-proxy kube-proxy-broken docker firewalld-docker)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../testdata/nft-rulesets"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(firewalld kube-proxy kube-proxy-broken docker firewalld-docker)

cleanup() {
	for n in "${names[@]}"; do
		ip netns del "tw-nftr-$n" 2>/dev/null || true
		ip netns del "tw-nftr-${n}c" 2>/dev/null || true
	done
}
trap cleanup EXIT

# The client's packets: a TCP SYN to each HOST:PORT (nothing need answer) and one ping.
send() {
	local ns=$1; shift
	for dst in "$@"; do
		ip netns exec "$ns" python3 - "$dst" <<'PY' || true
import socket, sys
host, port = sys.argv[1].rsplit(':', 1)
s = socket.socket()
s.settimeout(0.3)
try:
    s.connect((host, int(port)))
except OSError:
    pass
PY
	done
}

for n in "${names[@]}"; do
	h="tw-nftr-$n" c="tw-nftr-${n}c"
	ip netns add "$h"; ip netns add "$c"
	ip -n "$h" link set lo up; ip -n "$c" link set lo up
	ip link add tw-pub0 netns "$h" type veth peer name eth0 netns "$c"
	ip -n "$h" addr add 198.18.100.1/24 dev tw-pub0; ip -n "$h" link set tw-pub0 up
	ip -n "$c" addr add 198.18.100.2/24 dev eth0; ip -n "$c" link set eth0 up
	ip -n "$c" route add 198.19.0.0/16 via 198.18.100.1
	ip netns exec "$h" sysctl -qw net.ipv4.ip_forward=1
	targets=()
	case $n in
	firewalld) targets=(198.18.100.1:22 198.18.100.1:631) ;;
	kube-proxy | kube-proxy-broken)
		ip -n "$h" link add tw-upl0 type veth peer name tw-upl1; ip -n "$h" link set tw-upl1 up; ip -n "$h" addr add 198.18.1.1/24 dev tw-upl0; ip -n "$h" link set tw-upl0 up; ip -n "$h" route add default dev tw-upl0
		targets=(198.19.96.1:443 198.19.101.20:80) ;;
	docker | firewalld-docker)
		ip -n "$h" link add docker0 type bridge; ip -n "$h" addr add 198.19.0.1/16 dev docker0; ip -n "$h" link set docker0 up
		targets=(198.18.100.1:8080) ;;
	esac
	# firewalld-docker: firewalld's native table, and Docker's rules through iptables-nft beside it.
	ip netns exec "$h" nft -f "$here/nft-captures/${n%-docker}.nft"
	if [ -f "$here/nft-captures/$n.iptables" ]; then
		ip netns exec "$h" iptables-nft-restore --noflush < "$here/nft-captures/$n.iptables"
	fi
	# The trace rule: in a table of its own, before every other prerouting chain.
	ip netns exec "$h" nft -f - <<'NFT'
table ip tw-trace {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		ip saddr 198.18.100.2 meta nftrace set 1
	}
}
NFT
	mkdir -p "$out/$n"
	ip netns exec "$h" nft monitor trace > "$out/$n/nft-monitor.log" &
	mon=$!
	sleep 0.5
	send "$c" "${targets[@]}"
	ip netns exec "$c" ping -c 1 -W 1 198.18.100.1 >/dev/null || true
	sleep 0.5
	kill "$mon"; wait "$mon" 2>/dev/null || true
	ip netns exec "$h" nft list ruleset > "$out/$n/ruleset.nft"
	ip netns exec "$h" nft -a list ruleset > "$out/$n/ruleset-a.nft"
	ip netns exec "$h" nft -j list ruleset > "$out/$n/ruleset.json"
	# The other ways nft lists: stateless (-s), numeric (-n, -nn), numeric priorities (-y).
	for opt in s n nn y; do ip netns exec "$h" nft -"$opt" list ruleset > "$out/$n/ruleset-$opt.nft"; done
	if [ -f "$here/nft-captures/$n.iptables" ]; then ip netns exec "$h" iptables-nft-save > "$out/$n/iptables-nft.save"; fi
	echo "$n: $(wc -l < "$out/$n/nft-monitor.log") trace line(s), $(wc -l < "$out/$n/ruleset.nft") ruleset line(s)"
done
