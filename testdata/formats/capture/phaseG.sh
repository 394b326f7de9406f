#!/bin/bash
# Phase G: ruleset dumps (iptables -S / -S CHAIN / -v -S / -save -c, ip6tables-save -c) for both
# backends, and iptables-nft-save / iptables-legacy-save warnings when the other backend has tables.
set -u
W=/tmp/tw-fmt
R=$W/rawG
rm -rf "$R"; mkdir -p "$R"
cleanup() { set +e; ip netns del tw-fmt-a 2>/dev/null; ip netns del tw-fmt-b 2>/dev/null; echo "cleanup done"; }
trap cleanup EXIT INT TERM
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
CMT='say "hi" it'"'"'s web'
rules4() { # $1 = iptables binary
  local T=$1
  $B $T -N TW-CHAIN
  $B $T -N TW-GOTO
  $B $T -A INPUT -i twfb0 -p tcp -m multiport --dports 80,443,8080 -m comment --comment "$CMT" -j TW-CHAIN
  $B $T -A INPUT ! -s 198.19.250.99/32 -p icmp -m icmp --icmp-type 8 -j ACCEPT
  $B $T -A INPUT -p udp ! --dport 53 -g TW-GOTO
  $B $T -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  $B $T -A TW-CHAIN -p tcp --syn -m limit --limit 5/sec -j LOG --log-prefix "tw web: " --log-level 6
  $B $T -A TW-CHAIN -j RETURN
  $B $T -A TW-GOTO -j REJECT --reject-with icmp-port-unreachable
}
rules6() {
  local T=$1
  $B $T -N TW6-CHAIN
  $B $T -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -m comment --comment "$CMT" -j TW6-CHAIN
  $B $T -A INPUT ! -s 2001:db8:250::99/128 -p udp -g TW6-CHAIN
  $B $T -A TW6-CHAIN -j ACCEPT
}
traffic() {
  $A ping -c2 -i0.2 -W2 198.19.250.2 >/dev/null 2>&1
  $A ping -6 -c2 -i0.2 -W2 2001:db8:250::2 >/dev/null 2>&1
  $A timeout 3 bash -c 'echo x | socat -u - UDP:198.19.250.2:9998' >/dev/null 2>&1
  $A timeout 3 bash -c 'echo x | socat -u - UDP6:[2001:db8:250::2]:9998' >/dev/null 2>&1
  sleep 0.5
}
for be in legacy nft; do
  rules4 iptables-$be
  rules6 ip6tables-$be
  traffic
  $B iptables-$be -S                > "$R/iptables-$be-S.txt" 2>&1
  $B iptables-$be -S TW-CHAIN       > "$R/iptables-$be-S-TW-CHAIN.txt" 2>&1
  $B iptables-$be -S INPUT 2        > "$R/iptables-$be-S-INPUT-2.txt" 2>&1
  $B iptables-$be -v -S             > "$R/iptables-$be-v-S.txt" 2>&1
  $B iptables-$be-save              > "$R/iptables-$be-save.txt" 2>&1
  $B iptables-$be-save -c           > "$R/iptables-$be-save-c.txt" 2>&1
  $B ip6tables-$be -S               > "$R/ip6tables-$be-S.txt" 2>&1
  $B ip6tables-$be-save -c          > "$R/ip6tables-$be-save-c.txt" 2>&1
  $B iptables-$be -L -n -v --line-numbers > "$R/iptables-$be-L-n-v-line-numbers.txt" 2>&1
  $B iptables-$be -L INPUT --line-numbers > "$R/iptables-$be-L-INPUT-line-numbers.txt" 2>&1
  if [ $be = legacy ]; then
    # legacy tables exist (and no nft ones): what iptables-nft-save / ip6tables-nft-save say
    $B iptables-nft-save  > "$R/iptables-nft-save-with-legacy-tables.stdout" 2> "$R/iptables-nft-save-with-legacy-tables.stderr"
    echo "rc=$?" >> "$R/iptables-nft-save-with-legacy-tables.stderr"
    $B ip6tables-nft-save > "$R/ip6tables-nft-save-with-legacy-tables.stdout" 2> "$R/ip6tables-nft-save-with-legacy-tables.stderr"
    $B iptables-nft -L -n > "$R/iptables-nft-L-with-legacy-tables.stdout" 2> "$R/iptables-nft-L-with-legacy-tables.stderr"
    $B iptables-nft -S    > "$R/iptables-nft-S-with-legacy-tables.stdout" 2> "$R/iptables-nft-S-with-legacy-tables.stderr"
  fi
done
# now both backends have tables in tw-fmt-b
$B iptables-nft-save     > "$R/iptables-nft-save-both.stdout" 2> "$R/iptables-nft-save-both.stderr"
$B iptables-legacy-save  > "$R/iptables-legacy-save-both.stdout" 2> "$R/iptables-legacy-save-both.stderr"
$B iptables-nft -L -n >/dev/null 2> "$R/iptables-nft-L-both.stderr"
$B nft list ruleset > "$R/nft-list-ruleset.txt" 2>&1
echo "phase G done"
