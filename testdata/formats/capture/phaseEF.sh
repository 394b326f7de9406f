#!/bin/bash
# Phase E: nft inet table with meta nftrace set 1 (nft monitor trace + xtables-monitor --trace)
# Phase F: bridge family table on a bridge in tw-fmt-b
set -u
W=/tmp/tw-fmt
R=$W/rawEF
rm -rf "$R"; mkdir -p "$R"
OLD=$(sysctl -n net.netfilter.nf_log_all_netns)
MONS=""; SRV=""
cleanup() {
  set +e
  for p in $MONS $SRV; do kill -INT "$p" 2>/dev/null; done
  sleep 1
  for p in $MONS $SRV; do kill -KILL "$p" 2>/dev/null; done
  ip netns del tw-fmt-a 2>/dev/null
  ip netns del tw-fmt-b 2>/dev/null
  sysctl -q -w net.netfilter.nf_log_all_netns="$OLD"
  echo "cleanup done"
}
trap cleanup EXIT INT TERM
mkns() {
  ip netns del tw-fmt-a 2>/dev/null; ip netns del tw-fmt-b 2>/dev/null
  ip netns add tw-fmt-a
  ip netns add tw-fmt-b
  ip link add twfa0 netns tw-fmt-a type veth peer name twfb0 netns tw-fmt-b
  ip -n tw-fmt-a addr add 198.19.250.1/24 dev twfa0
  ip -n tw-fmt-a addr add 2001:db8:250::1/64 dev twfa0 nodad
  for n in a b; do ip -n tw-fmt-$n link set lo up; done
  ip -n tw-fmt-a link set twfa0 up
  ip -n tw-fmt-b link set twfb0 up
}
startmons() { # $1 = suffix
  $B timeout 60 stdbuf -oL nft monitor trace > "$R/nft-monitor-trace-$1.raw" 2>&1 & MONS="$MONS $!"
  $B timeout 60 stdbuf -oL xtables-monitor --trace > "$R/xtables-monitor-trace-$1.raw" 2>&1 & MONS="$MONS $!"
  sleep 1.5
}
stopmons() { for p in $MONS; do kill -INT "$p" 2>/dev/null; done; sleep 1; MONS=""; }
sysctl -q -w net.netfilter.nf_log_all_netns=1
A="ip netns exec tw-fmt-a"
B="ip netns exec tw-fmt-b"

# ---------------- Phase E: inet ----------------
mkns
ip -n tw-fmt-b addr add 198.19.250.2/24 dev twfb0
ip -n tw-fmt-b addr add 2001:db8:250::2/64 dev twfb0 nodad
cat > "$R/inet.nft" <<'EOF'
table inet twfmt {
	chain pre {
		type filter hook prerouting priority -350; policy accept;
		icmp type echo-request meta nftrace set 1
		icmpv6 type echo-request meta nftrace set 1
		tcp dport 8080 tcp flags syn meta nftrace set 1
		udp dport 9999 meta nftrace set 1
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related counter accept
		tcp dport 8080 jump web
		icmp type echo-request counter accept comment "ping ok"
		icmpv6 type echo-request goto v6ping
	}
	chain web {
		tcp flags syn log prefix "tw-inet-syn: " level info
		meta mark set 0x10
	}
	chain v6ping {
		counter accept
	}
	chain in2 {
		type filter hook input priority 10; policy drop;
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 8080 accept
	}
}
EOF
$B nft -f "$R/inet.nft"
$B nft -a list ruleset > "$R/inet-list.txt"
startmons inet
$A ping -c1 -W2 198.19.250.2 > "$R/ping4.out" 2>&1
sleep 0.5
$A ping -6 -c1 -W2 2001:db8:250::2 > "$R/ping6.out" 2>&1
sleep 0.5
$B timeout 6 socat -u TCP-LISTEN:8080,reuseaddr OPEN:/dev/null & SRV=$!
sleep 1
$A timeout 4 bash -c 'echo hi | socat -u - TCP:198.19.250.2:8080' > "$R/tcp.out" 2>&1
sleep 1
wait "$SRV" 2>/dev/null; SRV=""
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9999' > "$R/udp9999.out" 2>&1
sleep 1
stopmons

# ---------------- Phase F: bridge ----------------
mkns
$B ip link add twbr0 type bridge
$B ip link set twfb0 master twbr0
$B ip link set twbr0 up
ip -n tw-fmt-b addr add 198.19.250.2/24 dev twbr0
ip -n tw-fmt-b addr add 2001:db8:250::2/64 dev twbr0 nodad
cat > "$R/bridge.nft" <<'EOF'
table bridge twbr {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ether type ip ip protocol icmp meta nftrace set 1
		icmpv6 type echo-request meta nftrace set 1
	}
	chain in {
		type filter hook input priority filter; policy accept;
		ip protocol icmp counter accept
	}
}
EOF
$B nft -f "$R/bridge.nft"
$B nft -a list ruleset > "$R/bridge-list.txt"
startmons bridge
$A ping -c1 -W2 198.19.250.2 > "$R/pingF4.out" 2>&1
sleep 0.5
$A ping -6 -c1 -W2 2001:db8:250::2 > "$R/pingF6.out" 2>&1
sleep 1
stopmons
dmesg --color=never --nopager | grep -aE 'tw-inet-syn' | tail -n 2 > "$R/dmesg-nft-log.txt"
echo "phase E/F done"
