#!/usr/bin/env bash
# capture-two-nodes.sh — two nodes joined by a flannel-style VXLAN overlay, traced on both
# nodes at once, on this machine's kernel: the testdata of the cross-node features.
#
# Usage: scripts/capture-two-nodes.sh [--out DIR] [VARIANT…]    (default DIR=testdata/nodes,
#        every variant)      TW_NODES_PREFIX=x- names the namespaces tw-x-node-a, … (default tw-node-a, …)
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
# The variants below use addresses of their own (underlay 198.18.173.0/24, pods 198.19.174.0/24
# on node A and 198.19.175.0/24 on node B), so their kernel log lines are told from any other:
#   mtu/      node B's underlay eth0 has MTU 1400, node A's 1500, flannel.1 1450 on both (the pods
#             1450, as flannel sets them): pod A pings pod B with small packets, then with
#             1428-byte packets with DF (the outer packet is 1478 bytes), then sends 4000 bytes
#             over TCP. The outer packets over 1400 bytes leave A and are dropped by B's eth0.
#   mtu-frag/ the same with both nodes' eth0 at 1400 (the underlay link itself is smaller): node A
#             sends the outer packets over 1400 bytes in fragments (VXLAN sets no DF on them),
#             node B reassembles them; everything arrives.
#   vip-asym/ a client (tw-client, 198.18.173.10) on the underlay LAN (a bridge in the client's
#             namespace joins it to both nodes' eth0) connects to a load-balancer address
#             198.18.173.100:80 that node A answers for (MetalLB's layer-2 mode: the client's
#             neighbour entry for it is A's eth0). kube-proxy-style rules on A DNAT it to pod B
#             198.19.175.2:8080 without the masquerade mark (and flanneld runs without
#             --ip-masq: no FLANNEL-POSTRTG), so the SYN reaches B with the client's address and
#             B sends the SYN-ACK straight to the client on the LAN, from pod B's address.
#   vip-snat/ the same with KUBE-MARK-MASQ in the service's chain (externalTrafficPolicy:
#             Cluster as kube-proxy writes it): A masquerades the SYN and the answer comes back
#             through A, which undoes both rewrites; the connection completes.
#   calico/   working's traffic and rules over Calico's VXLAN device instead: vxlan.calico,
#             VNI 4096, UDP 4789 (the IANA port). (Geneve, WireGuard and IP-in-IP devices need
#             kernel modules a kernel may not have; this script uses VXLAN only.)
#   calico-v6/ the same over IPv6: underlay 2001:db8:173::/64, pods 2001:db8:174::/64 and
#             2001:db8:175::/64, Calico's vxlan-v6.calico (VNI 4096, port 4789, MTU 1430), the rules
#             in ip6tables (static neighbours: no neighbour discovery in the trace).
#
# Two captures per variant:
#   legacy (iptables-legacy, -j TRACE): both nodes log into this one kernel's log. Real nodes have
#     a kernel each, so the lines are split into each node's own dmesg: a line belongs to the node
#     whose pod veth it names (they are named per node); an outer packet (UDP to the overlay port) to the
#     node owning its source when it goes out, its destination when it comes in; any other line
#     to the node owning the destination MAC of its MAC= field (the interface it came in on), or
#     without MAC= (sent by the node itself) to the node owning its source. Both files keep the
#     shared clock.
#   nft (iptables-nft): xtables-monitor --trace and nft monitor trace run inside each node, so
#     each node's file holds that node's trace only, as on real nodes.
# A trap deletes every namespace and stops every process it started, on every exit path.

set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=testdata/nodes
VARIANTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,60p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    working|broken|mtu|mtu-frag|vip-asym|vip-snat|calico|calico-v6) VARIANTS+=("$1"); shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(working broken mtu mtu-frag vip-asym vip-snat calico calico-v6)
[ "$(id -u)" = 0 ] || { echo "capture-two-nodes.sh must run as root (network namespaces, iptables, the kernel log)" >&2; exit 2; }
for c in ip bridge iptables-legacy-restore iptables-nft-restore iptables-legacy-save iptables-nft-save xtables-monitor nft ping nc dmesg sysctl timeout stdbuf awk; do
  command -v "$c" >/dev/null 2>&1 || { echo "missing command: $c (apt-get install iptables nftables iproute2 iputils-ping netcat-openbsd util-linux procps)" >&2; exit 2; }
done

# shellcheck source=lib/capture-common.sh
. "$HERE/lib/capture-common.sh"
TW_TMP=$(mktemp -d /tmp/tw-capture.XXXXXX)
tw_install_traps
tw_enable_netns_log

# Namespaces are tw-$P<name>; MACs are made from <name> alone, so a prefix changes no byte captured.
P=${TW_NODES_PREFIX:-}

# plan VARIANT : the addresses of a variant. NET_x is a node's pod network without its last part;
# SPLIT_x are the prefixes (and SPLIT_Ux the underlay addresses) as the kernel log writes them.
plan() {
  FAM=4 ULEN=24 NLEN=24 CLUSTER=198.19.0.0/16 MCAST=224.0.0.0/4 OMTU=1450
  case "$1" in
    working|broken)
      UNDER_A=198.18.100.1 UNDER_B=198.18.100.2 NET_A=198.19.1 NET_B=198.19.2
      UNDER_NET=198.18.100 MATCH='' ;;
    calico-v6)
      FAM=6 ULEN=64 NLEN=64 CLUSTER=2001:db8:174::/47 MCAST=ff00::/8 OMTU=1430
      UNDER_A=2001:db8:173::1 UNDER_B=2001:db8:173::2 NET_A=2001:db8:174: NET_B=2001:db8:175:
      MATCH='SRC=2001:0db8:017[345]:' ;;
    *)
      UNDER_A=198.18.173.1 UNDER_B=198.18.173.2 NET_A=198.19.174 NET_B=198.19.175
      UNDER_NET=198.18.173 MATCH='SRC=198\.(18\.173|19\.17[45])\.' ;;
  esac
  if [ $FAM = 6 ]; then
    # Pods ::2, their gateway ::1, the overlay device ::ff (Calico gives it an address of the block).
    POD_A=$NET_A:2 POD_B=$NET_B:2 GW_A=$NET_A:1 GW_B=$NET_B:1 OV_A=$NET_A:ff OV_B=$NET_B:ff OVLEN=128
    SPLIT_A=2001:0db8:0174: SPLIT_B=2001:0db8:0175:
    SPLIT_UA=2001:0db8:0173:0000:0000:0000:0000:0001 SPLIT_UB=2001:0db8:0173:0000:0000:0000:0000:0002
  else
    POD_A=$NET_A.2 POD_B=$NET_B.2 GW_A=$NET_A.1 GW_B=$NET_B.1 OV_A=$NET_A.0 OV_B=$NET_B.0 OVLEN=32
    SPLIT_A=$NET_A. SPLIT_B=$NET_B. SPLIT_UA=$UNDER_A SPLIT_UB=$UNDER_B
    CLIENT=$UNDER_NET.10 VIP=$UNDER_NET.100
  fi
  # The overlay device, its VXLAN id and port: flannel's, or Calico's (the IANA port).
  case "$1" in
    calico) OVL=vxlan.calico VNI=4096 PORT=4789 ;;
    calico-v6) OVL=vxlan-v6.calico VNI=4096 PORT=4789 ;;
    *) OVL=flannel.1 VNI=1 PORT=8472 ;;
  esac
}

# rules NODE(a|b) VARIANT : the node's ruleset, iptables-save syntax, with TRACE
rules() {
  local node=$1 variant=$2 own
  if [ $FAM = 6 ]; then [ "$node" = a ] && own=$NET_A:/64 || own=$NET_B:/64
  else [ "$node" = a ] && own=$NET_A.0/24 || own=$NET_B.0/24; fi
  cat <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -s $CLUSTER -d $CLUSTER -j TRACE
EOF
  case "$variant" in vip-*) cat <<EOF
-A PREROUTING -s $CLIENT/32 -j TRACE
-A PREROUTING -d $CLIENT/32 -j TRACE
EOF
  esac
  cat <<EOF
-A PREROUTING -p udp -m udp --dport $PORT -j TRACE
-A OUTPUT -p udp -m udp --dport $PORT -j TRACE
COMMIT
EOF
  case "$variant" in
    vip-*) kube_nat "$variant" ;;
    *) cat <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:FLANNEL-POSTRTG - [0:0]
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $own -d $CLUSTER -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $CLUSTER -d $own -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG ! -s $CLUSTER -d $own -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $CLUSTER ! -d $MCAST -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
-A FLANNEL-POSTRTG ! -s $CLUSTER -d $CLUSTER -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
EOF
  esac
  cat <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
EOF
  if [ "$node" = a ] || [ "$variant" != broken ]; then
    cat <<EOF
-A FLANNEL-FWD -s $CLUSTER -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d $CLUSTER -m comment --comment "flanneld forward" -j ACCEPT
EOF
  fi
  echo COMMIT
}

# kube_nat VARIANT : kube-proxy's nat rules (iptables mode) for a LoadBalancer service
# default/web at $VIP:80 whose one endpoint is pod B's 8080, as on every node. vip-snat's
# KUBE-EXT chain marks the packet for masquerade (externalTrafficPolicy: Cluster); vip-asym's
# does not.
kube_nat() {
  cat <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-WEB - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-WEB - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-WEB - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
EOF
  [ "$1" = vip-snat ] && echo '-A KUBE-EXT-WEB -m comment --comment "masquerade traffic for default/web external destinations" -j KUBE-MARK-MASQ'
  cat <<EOF
-A KUBE-EXT-WEB -j KUBE-SVC-WEB
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-WEB -s $POD_B/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-WEB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination $POD_B:8080
-A KUBE-SERVICES -d $VIP/32 -p tcp -m comment --comment "default/web:http loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-WEB
-A KUBE-SVC-WEB -m comment --comment "default/web:http -> $POD_B:8080" -j KUBE-SEP-WEB
COMMIT
EOF
}

# Each namespace (short name without the prefix) and the MACs of its interfaces.
pns() { ns "$P$1"; }
pnsx() { local n=$1; shift; nsx "$P$n" "$@"; }
pveth() { veth "$P$1" "$2" "$P$3" "$4" "$(mac_for "$1" "$2")" "$(mac_for "$3" "$4")"; }
pip() { local n=$1; shift; ip -n "tw-$P$n" "$@"; }
paddr() { addr "$P$1" "$2" "$3"; }   # IPv6 addresses without DAD

# build VARIANT : the namespaces, the underlay, the overlay and the pods (and the client)
build() {
  local variant=$1
  pns node-a; pns node-b; pns pod-a; pns pod-b
  case "$variant" in
    vip-*)
      # The LAN: a bridge in the client's namespace, one port to each node's eth0.
      pns client
      pveth client lana node-a eth0; pveth client lanb node-b eth0
      pip client link add br0 address "$(mac_for client br0)" type bridge
      pip client link set lana master br0; pip client link set lanb master br0
      pip client link set br0 up
      pip client addr add "$CLIENT/24" dev br0
      # MetalLB's speaker on node A answers ARP for the load-balancer address.
      pip client neigh replace "$VIP" lladdr "$(mac_for node-a eth0)" dev br0 nud permanent
      ;;
    *) pveth node-a eth0 node-b eth0 ;;
  esac
  paddr node-a eth0 "$UNDER_A/$ULEN"; paddr node-b eth0 "$UNDER_B/$ULEN"
  pveth pod-a eth0 node-a vethpa1; pveth pod-b eth0 node-b vethpb1
  paddr pod-a eth0 "$POD_A/$NLEN"; paddr node-a vethpa1 "$GW_A/$NLEN"
  paddr pod-b eth0 "$POD_B/$NLEN"; paddr node-b vethpb1 "$GW_B/$NLEN"
  pip pod-a -$FAM route add default via "$GW_A"; pip pod-b -$FAM route add default via "$GW_B"
  if [ $FAM = 6 ]; then
    # Static neighbours on every link: no neighbour discovery in the trace.
    pip pod-a neigh replace "$GW_A" lladdr "$(mac_for node-a vethpa1)" dev eth0 nud permanent
    pip node-a neigh replace "$POD_A" lladdr "$(mac_for pod-a eth0)" dev vethpa1 nud permanent
    pip pod-b neigh replace "$GW_B" lladdr "$(mac_for node-b vethpb1)" dev eth0 nud permanent
    pip node-b neigh replace "$POD_B" lladdr "$(mac_for pod-b eth0)" dev vethpb1 nud permanent
    pip node-a neigh replace "$UNDER_B" lladdr "$(mac_for node-b eth0)" dev eth0 nud permanent
    pip node-b neigh replace "$UNDER_A" lladdr "$(mac_for node-a eth0)" dev eth0 nud permanent
  fi
  fwd_on "${P}node-a"; fwd_on "${P}node-b"
  local n local_ip peer peer_ip peer_net peer_gw peer_mac
  for n in a b; do
    if [ $n = a ]; then local_ip=$UNDER_A; else local_ip=$UNDER_B; fi
    pip "node-$n" link add "$OVL" address "$(mac_for "node-$n" "$OVL")" type vxlan \
      id $VNI local "$local_ip" dev eth0 dstport $PORT nolearning
    pip "node-$n" link set "$OVL" mtu $OMTU up
  done
  for n in a b; do
    if [ $n = a ]; then peer=b peer_ip=$UNDER_B peer_gw=$OV_B
    else peer=a peer_ip=$UNDER_A peer_gw=$OV_A; fi
    if [ $FAM = 6 ]; then [ $n = a ] && peer_net=$NET_B:/64 || peer_net=$NET_A:/64
    else [ $n = a ] && peer_net=$NET_B.0/24 || peer_net=$NET_A.0/24; fi
    [ $n = a ] && paddr node-a "$OVL" "$OV_A/$OVLEN" || paddr node-b "$OVL" "$OV_B/$OVLEN"
    peer_mac=$(mac_for "node-$peer" "$OVL")
    pip "node-$n" neigh replace "$peer_gw" lladdr "$peer_mac" dev "$OVL" nud permanent
    pnsx "node-$n" bridge fdb append "$peer_mac" dev "$OVL" dst "$peer_ip"
    pip "node-$n" route add "$peer_net" via "$peer_gw" dev "$OVL" onlink
  done
  if [ "$variant" = mtu ] || [ "$variant" = mtu-frag ]; then
    [ "$variant" = mtu-frag ] && pip node-a link set eth0 mtu 1400
    # Node B's NIC has a lower MTU than the overlay was sized for; flannel gives pods its own MTU.
    pip node-b link set eth0 mtu 1400
    pip pod-a link set eth0 mtu 1450; pip node-a link set vethpa1 mtu 1450
    pip pod-b link set eth0 mtu 1450; pip node-b link set vethpb1 mtu 1450
    # One TCP segment per packet, as on a NIC: a veth carries a GSO packet of several segments
    # whole, and would let a 4000-byte one through an MTU of 1400.
    pip pod-a link set eth0 gso_max_segs 1
  fi
}

# traffic_run VARIANT : what pod A (or the client) does
traffic_run() {
  bgrun "${P}pod-b" timeout 20 nc -$FAM -l -k 8080
  wait_listen "${P}pod-b" 8080
  case "$1" in
    mtu|mtu-frag)
      traffic "${P}pod-a" ping -c 2 -i 0.3 -W 1 "$POD_B"
      traffic "${P}pod-a" ping -c 2 -i 0.3 -W 1 -M do -s 1400 "$POD_B"
      traffic_in "${P}pod-a" "$(head -c 4000 /dev/zero | tr '\0' x)" timeout 4 nc -N -w 2 "$POD_B" 8080 ;;
    vip-*)
      traffic "${P}client" timeout 4 nc -N -w 2 "$VIP" 80 </dev/null ;;
    *)
      traffic "${P}pod-a" ping -c 2 -i 0.3 -W 1 "$POD_B"
      traffic "${P}pod-a" timeout 4 nc -N -w 2 "$POD_B" 8080 </dev/null ;;
  esac
}

# split_nodes IN OUT_A OUT_B : one kernel log's TRACE lines into each node's own
split_nodes() {
  awk -v a="$2" -v b="$3" -v port="$PORT" -v ua="$SPLIT_UA" -v ub="$SPLIT_UB" -v na="$SPLIT_A" -v nb="$SPLIT_B" \
      -v macs_a="$(mac_for node-a eth0) $(mac_for node-a vethpa1) $(mac_for node-a "$OVL")" \
      -v macs_b="$(mac_for node-b eth0) $(mac_for node-b vethpb1) $(mac_for node-b "$OVL")" '
    function field(name,   m) { return match($0, " " name "=[^ ]*") ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2) : "" }
    function owner(ip) { return index(ip, na) == 1 || ip == ua ? "a" : index(ip, nb) == 1 || ip == ub ? "b" : "" }
    /^ / { if (last != "") print > last; next }
    {
      inif = field("IN"); outif = field("OUT"); mac = substr(field("MAC"), 1, 17); node = ""
      if (inif == "vethpa1" || outif == "vethpa1") node = "a"
      else if (inif == "vethpb1" || outif == "vethpb1") node = "b"
      else if (field("DPT") == port) node = outif != "" ? owner(field("SRC")) : owner(field("DST"))
      else if (mac != "" && index(" " macs_a " ", " " mac " ")) node = "a"
      else if (mac != "" && index(" " macs_b " ", " " mac " ")) node = "b"
      else node = owner(field("SRC"))
      last = node == "a" ? a : node == "b" ? b : ""
      if (last == "") { print "unassigned line: " $0 > "/dev/stderr"; exit 1 }
      print > last
    }' "$1"
}

readme() { # VARIANT
  case "$1" in
    working|broken)
      echo "# two nodes, $1 — pod A (node A) to pod B (node B) over a flannel-style VXLAN"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log of both nodes was split into each node's own file are"
      echo "described at the top of that script. Pod A pings pod B twice and opens a TCP connection to"
      echo "port 8080."
      [ "$1" = broken ] && { echo; echo "Node B has no FLANNEL-FWD accept: its filter FORWARD policy (DROP) drops what arrives over the overlay."; } ;;
    mtu)
      echo "# two nodes, mtu — node B's underlay MTU is lower than the overlay needs"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh mtu\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log was split are described at the top of that script."
      echo "Node B's eth0 has MTU 1400, node A's 1500; flannel.1 is 1450 on both (VXLAN adds 50 bytes:"
      echo "1450 needs a 1500-byte underlay) and the pods' eth0 1450. Pod A pings pod B twice with"
      echo "small packets (they arrive), twice with 1428-byte packets and DF (\`ping -M do -s 1400\`:"
      echo "their outer packets are 1478 bytes; node A sends them, node B's eth0 drops them, no ICMP"
      echo "error is sent), then opens a TCP connection to port 8080 and sends 4000 bytes (the"
      echo "handshake passes, the full-size segments never arrive and are retransmitted)." ;;
    calico)
      echo "# two nodes, calico — pod A (node A) to pod B (node B) over Calico's VXLAN device"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh calico\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log was split are described at the top of that script. As"
      echo "\`working\` (the same rules), over the device Calico creates for VXLAN: \`vxlan.calico\`, VNI"
      echo "4096, UDP port 4789. Pod A pings pod B twice and opens a TCP connection to port 8080." ;;
    mtu-frag)
      echo "# two nodes, mtu-frag — an underlay link with a lower MTU than the overlay needs"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh mtu-frag\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log was split are described at the top of that script."
      echo "Both nodes' eth0 have MTU 1400; flannel.1 is 1450 on both and the pods' eth0 1450. The traffic"
      echo "of \`mtu\`: small pings, pings of 1428 bytes with DF (outer packets of 1478 bytes), 4000 bytes"
      echo "over TCP. Node A sends the outer packets bigger than 1400 bytes in two fragments (Linux's VXLAN"
      echo "sets no DF on outer packets), node B reassembles them before its first trace point: every"
      echo "packet arrives." ;;
    calico-v6)
      echo "# two nodes, calico-v6 — pod A (node A) to pod B (node B) over Calico's IPv6 VXLAN device"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh calico-v6\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log was split are described at the top of that script. As"
      echo "\`calico\`, over IPv6: the underlay 2001:db8:173::/64, pods 2001:db8:174::2 and 2001:db8:175::2,"
      echo "\`vxlan-v6.calico\` (VNI 4096, UDP 4789, MTU 1430), the rules in ip6tables (\`ip6tables.save\`,"
      echo "\`ip6tables-nft.save\`). Pod A pings pod B twice and opens a TCP connection to port 8080."
      echo "No \`xtables-monitor.log\`: xtables-monitor 1.8.9 cannot print ip6tables-nft's udp match"
      echo "(\"unsupported layer 4 protocol value\") and exits at the first packet; \`nft-monitor.log\` has it all." ;;
    vip-asym|vip-snat)
      echo "# two nodes, $1 — a load-balancer address on node A, its endpoint on node B"
      echo
      echo "Captured by \`scripts/capture-two-nodes.sh $1\` on a real kernel ($(uname -r)); the topology,"
      echo "the rules and how the kernel log was split are described at the top of that script."
      echo "A client on the LAN (198.18.173.10, not traced) opens a TCP connection to 198.18.173.100:80,"
      echo "the load-balancer address node A answers for; kube-proxy-style rules on node A DNAT it to"
      echo "pod B 198.19.175.2:8080 on node B, over the overlay."
      echo
      if [ "$1" = vip-asym ]; then
        echo "The service's KUBE-EXT chain has no KUBE-MARK-MASQ jump and flanneld runs without"
        echo "--ip-masq: node A does not masquerade the SYN, node B sees the client's address and sends"
        echo "pod B's SYN-ACK straight to the client on the LAN, from 198.19.175.2:8080. Node A never"
        echo "sees an answer; the client (which asked 198.18.173.100:80) does not take it."
      else
        echo "The service's KUBE-EXT chain jumps to KUBE-MARK-MASQ (externalTrafficPolicy: Cluster):"
        echo "node A masquerades the SYN to its flannel.1 address, the answers come back through node A"
        echo "and the connection completes."
      fi ;;
  esac
  echo
  echo "Files per node: \`dmesg-T.log\`, \`kmsg.log\` (iptables-legacy, -j TRACE, the node's lines of"
  echo "the shared kernel log), \`iptables.save\`; \`xtables-monitor.log\`, \`nft-monitor.log\`"
  echo "(iptables-nft, monitors run inside the node), \`iptables-nft.save\`; \`ip-addr.json\`,"
  echo "\`ip-link.json\` (\`ip -j addr\`, \`ip -j link\` inside the node)."
  echo
  cat "$TW_TMP/topo-$1"
  echo
  echo "Tools: $(iptables-legacy --version), $(nft --version), dmesg $(dmesg --version | awk '{print $NF}')."
}

capture() { # VARIANT
  local variant=$1 dir="$OUT/$1" be n
  plan "$variant"
  [ $FAM = 6 ] && SAVE=ip6tables || SAVE=iptables
  rm -rf "$dir"; mkdir -p "$dir/node-a" "$dir/node-b"
  for be in legacy nft; do
    log "$variant ($be)"
    build "$variant"
    for n in a b; do
      rules "$n" "$variant" >"$TW_TMP/rules-$n"
      load_rules "${P}node-$n" "$be" $FAM "$TW_TMP/rules-$n"
    done
    if [ $be = legacy ]; then
      kmark_begin "two-nodes-$variant"
      traffic_run "$variant"
      kmark_end
      kextract "$TW_TMP/k-$variant" "$MATCH" T kmsg
      split_nodes "$TW_TMP/k-$variant/dmesg-T.log" "$dir/node-a/dmesg-T.log" "$dir/node-b/dmesg-T.log"
      split_nodes "$TW_TMP/k-$variant/kmsg.log" "$dir/node-a/kmsg.log" "$dir/node-b/kmsg.log"
      for n in a b; do save_rules "${P}node-$n" legacy $FAM "$dir/node-$n/$SAVE.save"; done
    else
      TW_MON_FAILED=0
      mon_start "${P}node-a" "$TW_TMP/m-a"; mon_start "${P}node-b" "$TW_TMP/m-b"; mon_ready
      traffic_run "$variant"
      mon_stop
      [ "$TW_MON_FAILED" = 0 ] || die "a monitor lost events; run again"
      for n in a b; do
        # xtables-monitor 1.8.9 cannot print ip6tables-nft's udp match and exits at the first packet.
        [ $FAM = 6 ] || cp "$TW_TMP/m-$n/xtables-monitor.log" "$dir/node-$n/xtables-monitor.log"
        cp "$TW_TMP/m-$n/nft-monitor.log" "$dir/node-$n/nft-monitor.log"
        save_rules "${P}node-$n" nft $FAM "$dir/node-$n/$SAVE-nft.save"
      done
    fi
    {
      for n in a b; do
        echo "### tw-node-$n"; echo '```'
        pnsx "node-$n" ip -j addr show >"$dir/node-$n/ip-addr.json"
        pnsx "node-$n" ip -j link show >"$dir/node-$n/ip-link.json"
        pip "node-$n" -br addr show | grep -v '^lo '
        pip "node-$n" -$FAM route show | grep -v '^fe80\|^multicast\|^local' || true
        echo '```'
      done
    } >"$TW_TMP/topo-$variant"
    TW_TRAFFIC=()
    tw_teardown
  done
  readme "$variant" >"$dir/README.md"
}

for v in "${VARIANTS[@]}"; do capture "$v"; done
log "done: $OUT"
