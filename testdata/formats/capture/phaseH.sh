#!/bin/bash
# Phase H: kernel LOG lines with ufw's exact log prefixes (from ufw src/backend_iptables.py) and
# non-default log levels, legacy iptables in tw-fmt-b. dmesg / dmesg -x / dmesg -r capture.
set -u
W=/tmp/tw-fmt
R=$W/rawH
rm -rf "$R"; mkdir -p "$R"
RE='198\.19\.250\.|2001:db8:250:|2001:0db8:0250:'
OLD=$(sysctl -n net.netfilter.nf_log_all_netns)
cleanup() { set +e; ip netns del tw-fmt-a 2>/dev/null; ip netns del tw-fmt-b 2>/dev/null; sysctl -q -w net.netfilter.nf_log_all_netns="$OLD"; echo "cleanup done"; }
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
$B iptables-legacy -A INPUT -p icmp -j LOG --log-prefix "[UFW AUDIT] " --log-level info
$B iptables-legacy -A INPUT -p udp --dport 9998 -j LOG --log-prefix "[UFW ALLOW] "
$B iptables-legacy -A INPUT -p tcp --dport 8080 -j LOG --log-prefix "[UFW LIMIT BLOCK] "
$B iptables-legacy -A INPUT -p tcp --dport 8080 -j REJECT --reject-with tcp-reset
$B iptables-legacy -A INPUT -p udp --dport 9999 -j LOG --log-prefix "[UFW BLOCK] "
$B iptables-legacy -A INPUT -p udp --dport 9999 -j DROP
$B ip6tables-legacy -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j LOG --log-prefix "[UFW AUDIT] " --log-level debug
$B iptables-legacy-save > "$R/rules.txt"
$B ip6tables-legacy-save > "$R/rules6.txt"
$A ping -c1 -W2 198.19.250.2 >/dev/null 2>&1
$A ping -6 -c1 -W2 2001:db8:250::2 >/dev/null 2>&1
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9998' >/dev/null 2>&1
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9999' >/dev/null 2>&1
$A timeout 3 bash -c 'echo x | socat -u - TCP:198.19.250.2:8080' >/dev/null 2>&1
sleep 1
D="dmesg --color=never --nopager"
$D    | grep -aE "$RE" | grep -a 'UFW' > "$R/dmesg.log"
$D -x | grep -aE "$RE" | grep -a 'UFW' > "$R/dmesg-x.log"
dmesg --nopager -r | grep -aE "$RE" | grep -a 'UFW' > "$R/dmesg-r.log"
echo "phase H done"
