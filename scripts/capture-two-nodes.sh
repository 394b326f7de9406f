#!/usr/bin/env bash
# capture-two-nodes.sh — two nodes joined by a flannel-style VXLAN overlay, traced on both
# nodes at once, on this machine's kernel: the testdata of the cross-node features.
#
# Usage: scripts/capture-two-nodes.sh [--out DIR]      (default DIR=testdata/nodes)
#
# Needs root, and the Debian packages iptables, nftables, iproute2, iputils-ping,
# netcat-openbsd, util-linux, procps.
#
# Topology (every namespace is tw-*, every address from 198.18.0.0/15):
#
#   tw-pod-a  eth0 198.19.1.2/24                          tw-pod-b  eth0 198.19.2.2/24
#      |  veth                                                  |  veth
#   tw-node-a vethpa1 198.19.1.1/24                       tw-node-b vethpb1 198.19.2.1/24
#             flannel.1 198.19.1.0/32  == VXLAN 8472 ==             flannel.1 198.19.2.0/32
#             eth0 198.18.100.1/24  ------- veth underlay -------  eth0 198.18.100.2/24
#
# Each node has flannel's own rules (FLANNEL-FWD accepting the pod network in FORWARD,
# FLANNEL-POSTRTG masquerading what leaves it) with the filter FORWARD policy DROP, as on a
# Kubernetes node. Pod A pings pod B and opens a TCP connection to it.
#   working/  both nodes complete
#   broken/   node B lacks the FLANNEL-FWD accept: B drops the packet in FORWARD
#
# Two captures per variant:
#   legacy (iptables-legacy, -j TRACE): both nodes log into this one kernel's log. Real nodes have
#     a kernel each, so the lines are split into each node's own dmesg: a line belongs to the node
#     whose pod veth it names (they are named per node); a line with no IN (sent by the node
#     itself) or going out on eth0 (an encapsulated packet) to the node owning its source; any
#     other line (arriving on eth0 or flannel.1, named alike on both) to the node owning its
#     destination. Both files keep the shared clock.
#   nft (iptables-nft): xtables-monitor --trace and nft monitor trace run inside each node, so
#     each node's file holds that node's trace only, as on real nodes.
# A trap deletes every namespace and stops every process it started, on every exit path.

set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=testdata/nodes
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "capture-two-nodes.sh must run as root (network namespaces, iptables, the kernel log)" >&2; exit 2; }
for c in ip iptables-legacy-restore iptables-nft-restore iptables-legacy-save iptables-nft-save xtables-monitor nft ping nc dmesg sysctl timeout stdbuf awk; do
  command -v "$c" >/dev/null 2>&1 || { echo "missing command: $c (apt-get install iptables nftables iproute2 iputils-ping netcat-openbsd util-linux procps)" >&2; exit 2; }
done

# shellcheck source=lib/capture-common.sh
. "$HERE/lib/capture-common.sh"
TW_TMP=$(mktemp -d /tmp/tw-capture.XXXXXX)
tw_install_traps
tw_enable_netns_log

UNDER_A=198.18.100.1 UNDER_B=198.18.100.2
POD_A=198.19.1.2 POD_B=198.19.2.2
VNI=1 PORT=8472

# rules NODE(a|b) VARIANT(working|broken) : the node's ruleset, iptables-save syntax, with TRACE
rules() {
  local node=$1 variant=$2 own
  [ "$node" = a ] && own=198.19.1.0/24 || own=198.19.2.0/24
  cat <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -s 198.19.0.0/16 -d 198.19.0.0/16 -j TRACE
-A PREROUTING -p udp -m udp --dport $PORT -j TRACE
-A OUTPUT -p udp -m udp --dport $PORT -j TRACE
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:FLANNEL-POSTRTG - [0:0]
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $own -d 198.19.0.0/16 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 198.19.0.0/16 -d $own -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG ! -s 198.19.0.0/16 -d $own -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 198.19.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
-A FLANNEL-POSTRTG ! -s 198.19.0.0/16 -d 198.19.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
EOF
  if [ "$node" = a ] || [ "$variant" = working ]; then
    cat <<EOF
-A FLANNEL-FWD -s 198.19.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d 198.19.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
EOF
  fi
  echo COMMIT
}

# build : the four namespaces, the underlay, the overlay and the pods
build() {
  ns node-a; ns node-b; ns pod-a; ns pod-b
  veth node-a eth0 node-b eth0
  addr node-a eth0 "$UNDER_A/24"; addr node-b eth0 "$UNDER_B/24"
  veth pod-a eth0 node-a vethpa1; veth pod-b eth0 node-b vethpb1
  addr pod-a eth0 "$POD_A/24"; addr node-a vethpa1 198.19.1.1/24
  addr pod-b eth0 "$POD_B/24"; addr node-b vethpb1 198.19.2.1/24
  route pod-a default via 198.19.1.1; route pod-b default via 198.19.2.1
  fwd_on node-a; fwd_on node-b
  local n local_ip peer_ip peer_net peer_gw
  for n in a b; do
    if [ $n = a ]; then local_ip=$UNDER_A peer_ip=$UNDER_B peer_net=198.19.2.0/24 peer_gw=198.19.2.0
    else local_ip=$UNDER_B peer_ip=$UNDER_A peer_net=198.19.1.0/24 peer_gw=198.19.1.0; fi
    ip -n "tw-node-$n" link add flannel.1 address "$(mac_for "node-$n" flannel.1)" type vxlan \
      id $VNI local "$local_ip" dev eth0 dstport $PORT nolearning
    ip -n "tw-node-$n" link set flannel.1 mtu 1450 up
  done
  for n in a b; do
    local peer
    if [ $n = a ]; then peer=b peer_ip=$UNDER_B peer_net=198.19.2.0/24 peer_gw=198.19.2.0
    else peer=a peer_ip=$UNDER_A peer_net=198.19.1.0/24 peer_gw=198.19.1.0; fi
    [ $n = a ] && addr node-a flannel.1 198.19.1.0/32 || addr node-b flannel.1 198.19.2.0/32
    local peer_mac
    peer_mac=$(mac_for "node-$peer" flannel.1)
    ip -n "tw-node-$n" neigh replace "$peer_gw" lladdr "$peer_mac" dev flannel.1 nud permanent
    nsx "node-$n" bridge fdb append "$peer_mac" dev flannel.1 dst "$peer_ip"
    route "node-$n" "$peer_net" via "$peer_gw" dev flannel.1 onlink
  done
}

# traffic_run : what pod A does to pod B
traffic_run() {
  bgrun pod-b timeout 20 nc -l -k 8080
  wait_listen pod-b 8080
  traffic pod-a ping -c 2 -i 0.3 -W 1 "$POD_B"
  traffic pod-a timeout 4 nc -N -w 2 "$POD_B" 8080 </dev/null
}

# split_nodes IN OUT_A OUT_B : one kernel log's TRACE lines into each node's own
split_nodes() {
  awk -v a="$2" -v b="$3" '
    function field(name,   m) { return match($0, " " name "=[^ ]*") ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2) : "" }
    function owner(ip) { return ip ~ /^198\.19\.1\./ || ip == "198.18.100.1" ? "a" : ip ~ /^198\.19\.2\./ || ip == "198.18.100.2" ? "b" : "" }
    /^ / { if (last != "") print > last; next }
    {
      inif = field("IN"); outif = field("OUT"); node = ""
      if (inif == "vethpa1" || outif == "vethpa1") node = "a"
      else if (inif == "vethpb1" || outif == "vethpb1") node = "b"
      else if (inif == "" || outif == "eth0") node = owner(field("SRC"))
      else node = owner(field("DST"))
      last = node == "a" ? a : node == "b" ? b : ""
      if (last == "") { print "unassigned line: " $0 > "/dev/stderr"; exit 1 }
      print > last
    }' "$1"
}

capture() { # VARIANT
  local variant=$1 dir="$OUT/$1" be n
  rm -rf "$dir"; mkdir -p "$dir/node-a" "$dir/node-b"
  for be in legacy nft; do
    log "$variant ($be)"
    build
    for n in a b; do
      rules "$n" "$variant" >"$TW_TMP/rules-$n"
      load_rules "node-$n" "$be" 4 "$TW_TMP/rules-$n"
    done
    if [ $be = legacy ]; then
      kmark_begin "two-nodes-$variant"
      traffic_run
      kmark_end
      kextract "$TW_TMP/k-$variant" '' T kmsg
      split_nodes "$TW_TMP/k-$variant/dmesg-T.log" "$dir/node-a/dmesg-T.log" "$dir/node-b/dmesg-T.log"
      split_nodes "$TW_TMP/k-$variant/kmsg.log" "$dir/node-a/kmsg.log" "$dir/node-b/kmsg.log"
      for n in a b; do save_rules "node-$n" legacy 4 "$dir/node-$n/iptables.save"; done
    else
      TW_MON_FAILED=0
      mon_start node-a "$TW_TMP/m-a"; mon_start node-b "$TW_TMP/m-b"; mon_ready
      traffic_run
      mon_stop
      [ "$TW_MON_FAILED" = 0 ] || die "a monitor lost events; run again"
      for n in a b; do
        cp "$TW_TMP/m-$n/xtables-monitor.log" "$dir/node-$n/xtables-monitor.log"
        cp "$TW_TMP/m-$n/nft-monitor.log" "$dir/node-$n/nft-monitor.log"
        save_rules "node-$n" nft 4 "$dir/node-$n/iptables-nft.save"
      done
    fi
    {
      for n in a b; do
        echo "### tw-node-$n"; echo '```'
        nsx "node-$n" ip -j addr show >"$dir/node-$n/ip-addr.json"
        nsx "node-$n" ip -j link show >"$dir/node-$n/ip-link.json"
        ip -n "tw-node-$n" -br addr show | grep -v '^lo '
        ip -n "tw-node-$n" route show
        echo '```'
      done
    } >"$TW_TMP/topo-$variant"
    TW_TRAFFIC=()
    tw_teardown
  done
  {
    echo "# two nodes, $variant — pod A (node A) to pod B (node B) over a flannel-style VXLAN"
    echo
    echo "Captured by \`scripts/capture-two-nodes.sh\` on a real kernel ($(uname -r)); the topology,"
    echo "the rules and how the kernel log of both nodes was split into each node's own file are"
    echo "described at the top of that script. Pod A pings pod B twice and opens a TCP connection to"
    echo "port 8080."
    [ "$variant" = broken ] && { echo; echo "Node B has no FLANNEL-FWD accept: its filter FORWARD policy (DROP) drops what arrives over the overlay."; }
    echo
    echo "Files per node: \`dmesg-T.log\`, \`kmsg.log\` (iptables-legacy, -j TRACE, the node's lines of"
    echo "the shared kernel log), \`iptables.save\`; \`xtables-monitor.log\`, \`nft-monitor.log\`"
    echo "(iptables-nft, monitors run inside the node), \`iptables-nft.save\`; \`ip-addr.json\`,"
    echo "\`ip-link.json\` (\`ip -j addr\`, \`ip -j link\` inside the node)."
    echo
    cat "$TW_TMP/topo-$variant"
    echo
    echo "Tools: $(iptables-legacy --version), $(nft --version), dmesg $(dmesg --version | awk '{print $NF}')."
  } >"$dir/README.md"
}

capture working
capture broken
log "done: $OUT"
