#!/bin/bash
# Phase B: busybox syslogd+klogd capture of a v4+v6 ping (legacy TRACE), aligned to a new minute
# Phase C: legacy TRACE of TCP SYN / UDP / ICMP error with user chains, explicit RETURN/ACCEPT/DROP,
#          and a LOG rule with all log options. dmesg capture only.
set -u
W=/tmp/tw-fmt
R=$W/rawBC
rm -rf "$R" "$W/busybox"; mkdir -p "$R" "$W/busybox"
RE='198\.19\.250\.|2001:db8:250:|2001:0db8:0250:'
OLD=$(sysctl -n net.netfilter.nf_log_all_netns)
SPID=""; KPID=""; SRV=""
HAD_DEVLOG=0; [ -e /dev/log ] && HAD_DEVLOG=1
cleanup() {
  set +e
  [ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
  [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
  sleep 0.5
  [ "$HAD_DEVLOG" = 0 ] && [ -S /dev/log ] && rm -f /dev/log
  ip netns del tw-fmt-a 2>/dev/null
  ip netns del tw-fmt-b 2>/dev/null
  sysctl -q -w net.netfilter.nf_log_all_netns="$OLD"
  echo "cleanup done (nf_log_all_netns=$(sysctl -n net.netfilter.nf_log_all_netns)) printk=$(cat /proc/sys/kernel/printk)"
}
trap cleanup EXIT INT TERM
echo "printk before: $(cat /proc/sys/kernel/printk)"

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

# ---------------- Phase B ----------------
$B iptables-legacy -t raw -A PREROUTING -p icmp -j TRACE
$B ip6tables-legacy -t raw -A PREROUTING -p ipv6-icmp --icmpv6-type echo-request -j TRACE
if [ "$HAD_DEVLOG" = 0 ]; then
  busybox syslogd -n -O "$W/busybox/messages" >"$R/bb-syslogd.out" 2>&1 &
  SPID=$!
  sleep 0.5
  busybox klogd -n >"$R/bb-klogd.out" 2>&1 &
  KPID=$!
  sleep 1
fi
# wait (bounded) for the start of a new minute so dmesg -e/-H prints its [Mon DD HH:MM] header
for i in $(seq 1 70); do s=$(date +%S); [ "$s" = "00" ] || [ "$s" = "01" ] && break; sleep 1; done
$A ping -c1 -W2 198.19.250.2 > "$R/pingB4.out" 2>&1
$A ping -6 -c1 -W2 2001:db8:250::2 > "$R/pingB6.out" 2>&1
sleep 2
[ -n "$KPID" ] && kill -KILL "$KPID"; KPID=""
sleep 0.5
[ -n "$SPID" ] && kill "$SPID"; SPID=""
sleep 0.5
[ "$HAD_DEVLOG" = 0 ] && [ -S /dev/log ] && rm -f /dev/log
grep -aE "$RE" "$W/busybox/messages" > "$R/busybox-syslogd-messages.log"
grep -aE "klogd" "$W/busybox/messages" > "$R/busybox-syslogd-klogd-banner.txt"
D="dmesg --color=never --nopager"
$D    | grep -aE "$RE" | tail -n 4 > "$R/dmesgB.log"
$D -e | grep -aE "$RE" | tail -n 4 > "$R/dmesgB-e.log"
$D -e | grep -aE -B3 "$RE" | tail -n 12 > "$R/dmesgB-e-context.txt"
$B iptables-legacy -t raw -F; $B ip6tables-legacy -t raw -F

# ---------------- Phase C ----------------
$A iptables-legacy -t raw -A OUTPUT -p tcp --syn -j TRACE
$B iptables-legacy -t raw -A PREROUTING -p tcp --syn -j TRACE
$B iptables-legacy -t raw -A PREROUTING -p udp -j TRACE
$B iptables-legacy -t raw -A OUTPUT -p icmp -j TRACE
$B iptables-legacy -N TW-CHAIN
$B iptables-legacy -N TW-DROP
$B iptables-legacy -A INPUT -p tcp --dport 8080 -m comment --comment "tw fmt web" -j TW-CHAIN
$B iptables-legacy -A INPUT -p udp --dport 9999 -j TW-DROP
$B iptables-legacy -A INPUT -j ACCEPT
$B iptables-legacy -A TW-CHAIN -p tcp --syn -j LOG --log-prefix "tw-syn: " --log-macdecode --log-uid --log-tcp-options --log-tcp-sequence --log-ip-options
$B iptables-legacy -A TW-CHAIN -j RETURN
$B iptables-legacy -A TW-DROP -j DROP
$B iptables-legacy-save > "$R/phaseC-rules-b.txt"
$A iptables-legacy-save > "$R/phaseC-rules-a.txt"
$B timeout 8 socat -u TCP-LISTEN:8080,reuseaddr OPEN:/dev/null &
SRV=$!
sleep 1
$A timeout 5 bash -c 'echo hi | socat -u - TCP:198.19.250.2:8080' > "$R/tcp.out" 2>&1
sleep 0.3
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9998' > "$R/udp9998.out" 2>&1
sleep 0.3
$A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9999' > "$R/udp9999.out" 2>&1
sleep 1
wait "$SRV" 2>/dev/null; SRV=""
$B iptables-legacy -L -n -v --line-numbers > "$R/phaseC-rules-b-L.txt"
$D | grep -aE "$RE" | grep -avE 'ICMP TYPE=8|ICMPv6 TYPE=128' > "$R/dmesgC.log"
echo "phase B/C done"
