#!/bin/bash
# Phase D: iptables-nft rules in tw-fmt-b; xtables-monitor --trace, xtables-monitor --trace -e,
#          nft monitor trace and nft monitor (all) captured at the same time.
set -u
W=/tmp/tw-fmt
R=$W/rawD
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
sysctl -q -w net.netfilter.nf_log_all_netns=1
ip netns add tw-fmt-a
ip netns add tw-fmt-b
ip link add twfa0 netns tw-fmt-a type veth peer name twfb0 netns tw-fmt-b
ip -n tw-fmt-a addr add 198.19.250.1/24 dev twfa0
ip -n tw-fmt-b addr add 198.19.250.2/24 dev twfb0
ip -n tw-fmt-a addr add 2001:db8:250::1/64 dev twfa0 nodad
ip -n tw-fmt-b addr add 2001:db8:250::2/64 dev twfb0 nodad
for n in a b; do ip -n tw-fmt-$n link set lo up; done
ip -n tw-fmt-a link set twfa0 up
ip -n tw-fmt-b link set twfb0 up
A="ip netns exec tw-fmt-a"
B="ip netns exec tw-fmt-b"

$B iptables-nft -t raw -A PREROUTING -p icmp -j TRACE
$B iptables-nft -t raw -A PREROUTING -p tcp --dport 8080 -j TRACE
$B iptables-nft -t raw -A PREROUTING -p udp --dport 9999 -j TRACE
$B ip6tables-nft -t raw -A PREROUTING -p ipv6-icmp --icmpv6-type echo-request -j TRACE
$B iptables-nft -t mangle -A PREROUTING -p icmp -j MARK --set-mark 0x2a
$B iptables-nft -t mangle -A PREROUTING -p icmp -j CONNMARK --set-mark 0x7
$B iptables-nft -N TW-CHAIN
$B iptables-nft -N TW-DROP
$B iptables-nft -A INPUT -p tcp --dport 8080 -m comment --comment "tw fmt web" -j TW-CHAIN
$B iptables-nft -A INPUT -p icmp -m recent --name twfmt --set -j ACCEPT
$B iptables-nft -A INPUT -p udp --dport 9999 -g TW-DROP
$B iptables-nft -A TW-CHAIN -p tcp --syn -j LOG --log-prefix "tw-nft-syn: "
$B iptables-nft -A TW-CHAIN -m conntrack --ctstate ESTABLISHED -j ACCEPT
$B iptables-nft -A TW-CHAIN -j RETURN
$B iptables-nft -A TW-DROP -j DROP
$B ip6tables-nft -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT
$B iptables-nft-save > "$R/rules-v4.txt"
$B ip6tables-nft-save > "$R/rules-v6.txt"
$B nft -a list ruleset > "$R/nft-list-ruleset.txt"

$B timeout 90 stdbuf -oL xtables-monitor --trace -4 > "$R/xtables-monitor-trace-4.raw" 2>&1 & MONS="$MONS $!"
$B timeout 90 stdbuf -oL xtables-monitor --trace -6 > "$R/xtables-monitor-trace-6.raw" 2>&1 & MONS="$MONS $!"
$B timeout 90 stdbuf -oL xtables-monitor --trace -e > "$R/xtables-monitor-trace-e.raw" 2>&1 & MONS="$MONS $!"
$B timeout 90 stdbuf -oL xtables-monitor -e > "$R/xtables-monitor-e.raw" 2>&1 & MONS="$MONS $!"
$B timeout 90 stdbuf -oL nft monitor trace > "$R/nft-monitor-trace.raw" 2>&1 & MONS="$MONS $!"
$B timeout 90 stdbuf -oL nft monitor > "$R/nft-monitor-all.raw" 2>&1 & MONS="$MONS $!"
sleep 1.5
step() { echo "== $*" >> "$R/steps.txt"; for f in "$R"/*.raw; do echo "### STEP: $*" >> "$f.steps"; done; }
step ping4
$A ping -c1 -W2 198.19.250.2 > "$R/ping4.out" 2>&1
sleep 0.5
step tcp
$B timeout 8 socat -u TCP-LISTEN:8080,reuseaddr OPEN:/dev/null & SRV=$!
sleep 1
$A timeout 5 bash -c 'echo hi | socat -u - TCP:198.19.250.2:8080' > "$R/tcp.out" 2>&1
sleep 1
wait "$SRV" 2>/dev/null; SRV=""
step udp9999
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9999' > "$R/udp9999.out" 2>&1
sleep 0.5
step add/delete rule
$B iptables-nft -A INPUT -p udp --dport 5353 -m comment --comment "tw tmp" -j DROP
sleep 0.5
$B iptables-nft -D INPUT -p udp --dport 5353 -m comment --comment "tw tmp" -j DROP
sleep 0.5
$B ip6tables-nft -I INPUT 1 -p udp --dport 5353 -j DROP
sleep 0.5
$B ip6tables-nft -D INPUT 1
sleep 0.5
step insert rule after monitors started, then ping4
$B iptables-nft -I INPUT 1 -p icmp -m comment --comment "added later" -j ACCEPT
sleep 0.5
$A ping -c1 -W2 198.19.250.2 > "$R/ping4b.out" 2>&1
sleep 1
step ping6
$A ping -6 -c1 -W2 2001:db8:250::2 > "$R/ping6.out" 2>&1
sleep 1
$B iptables-nft-save > "$R/rules-v4-end.txt"
$B nft -a list ruleset > "$R/nft-list-ruleset-end.txt"
for p in $MONS; do kill -INT "$p" 2>/dev/null; done
sleep 1
MONS=""
dmesg --color=never --nopager | grep -aE '198\.19\.250\.|2001:0db8:0250:' | tail -n 20 > "$R/dmesg-tail.txt"
echo "phase D done"
