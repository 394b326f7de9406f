#!/usr/bin/env bash
# capture-testdata.sh — produce real netfilter trace captures from this
# machine's kernel for tracewatch's golden tests.
#
# Usage: scripts/capture-testdata.sh [--out DIR] [--list] [SCENARIO...]
#   default: all scenarios, DIR=testdata
#
# Needs root (network namespaces, iptables, /dev/kmsg, dmesg).
#
# Debian packages needed (bookworm names):
#   iptables        iptables-legacy{,-save,-restore}, ip6tables-legacy*,
#                   iptables-nft{,-save,-restore}, ip6tables-nft*, xtables-monitor (>= 1.8.7)
#   nftables        nft (nft monitor trace)
#   iproute2        ip (netns, veth, bridge), ss, tc (tbf pacing in frag-needed)
#   iputils-ping    ping (-M do)
#   netcat-openbsd  nc (-N, -w, -z)
#   socat           listeners and clients
#   util-linux      dmesg, setpriv
#   procps          sysctl
#   coreutils       timeout, stdbuf, dd, od, md5sum, sha256sum, base32, base64
#   mawk|gawk, sed, grep
#
# What it does (and nothing else):
#   * creates network namespaces named tw-* (veth ends are created directly in
#     them, bridges only inside them), addresses from 198.18.0.0/15 and
#     2001:db8::/32 only;
#   * sets net.netfilter.nf_log_all_netns=1 (legacy TRACE lines from a netns
#     reach the kernel log only then) and restores the old value on exit;
#   * writes a begin and an end marker line per capture window to /dev/kmsg
#     and cuts the TRACE lines between the markers out of dmesg / /dev/kmsg
#     (it never clears the log, but the TRACE volume of a full run, ~1200
#     records, does push older records out of a small ring buffer);
#   * never touches the root namespace's firewall, routes or interfaces and
#     never clears or reconfigures the kernel log.
# A trap deletes every namespace it made and stops every process it started.
#
# Output: DIR/dmesg/NAME/  (iptables-legacy run: kernel log forms + save + README)
#         DIR/nft/NAME/    (iptables-nft run: xtables-monitor, nft monitor, save, README)
#         DIR/rules/       (rulesets: cilium-leftovers, node-working, node-broken)

set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ALL_SCENARIOS=(fwd-dnat-masq drop-user-chain local-output ipv6 wifi-no-reply
  wifi-masquerade asymmetric-route frag-needed cilium-leftovers node-pair
  nat-replies nat-replies6 ipv6-nd bridge-ebtables mld2)

usage() {
  cat <<EOF
usage: $0 [--out DIR] [--list] [SCENARIO...]
scenarios (default: all, in this order):
  ${ALL_SCENARIOS[*]}
EOF
}

OUT=testdata
SCENARIOS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --list) printf '%s\n' "${ALL_SCENARIOS[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *)
      ok=0; for s in "${ALL_SCENARIOS[@]}"; do [ "$s" = "$1" ] && ok=1; done
      [ $ok = 1 ] || { echo "unknown scenario: $1" >&2; usage >&2; exit 2; }
      SCENARIOS+=("$1"); shift ;;
  esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL_SCENARIOS[@]}")

if [ "$(id -u)" != 0 ]; then
  cat >&2 <<'EOF'
capture-testdata.sh must run as root. It needs:
  - CAP_SYS_ADMIN + CAP_NET_ADMIN to create network namespaces (tw-*), veth
    pairs and bridges inside them, and to load iptables/nftables rules there;
  - write access to /dev/kmsg (capture markers) and read access to the kernel
    log (dmesg, /dev/kmsg);
  - the sysctl net.netfilter.nf_log_all_netns=1 while it runs (restored after).
Run it as: sudo scripts/capture-testdata.sh [--out DIR] [SCENARIO...]
EOF
  exit 2
fi

missing=()
for c in ip ss tc iptables-legacy iptables-legacy-save iptables-legacy-restore \
  ip6tables-legacy ip6tables-legacy-save ip6tables-legacy-restore \
  iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft \
  ip6tables-nft-save ip6tables-nft-restore xtables-monitor nft ping nc socat \
  dmesg setpriv sysctl timeout stdbuf dd od md5sum sha256sum base32 base64 awk sed grep; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing commands: ${missing[*]}" >&2
  echo "install: apt-get install iptables nftables iproute2 iputils-ping netcat-openbsd socat util-linux procps coreutils" >&2
  exit 2
fi
if ! nc -h 2>&1 | grep -q -- '-N'; then
  echo "nc must be the OpenBSD netcat (apt-get install netcat-openbsd)" >&2; exit 2
fi
[ -w /dev/kmsg ] || { echo "/dev/kmsg is not writable" >&2; exit 2; }

# shellcheck source=lib/capture-common.sh
. "$HERE/lib/capture-common.sh"
# shellcheck source=lib/rulesets.sh
. "$HERE/lib/rulesets.sh"

TW_TMP=$(mktemp -d /tmp/tw-capture.XXXXXX)
tw_install_traps
tw_enable_netns_log
mkdir -p "$OUT"

# ============================================================ drivers ==
# capture window around traffic: legacy = kernel-log markers, nft = monitors
cap_begin() { # BACKEND NAME TRACED_NS DIR
  if [ "$1" = legacy ]; then kmark_begin "$2"
  else mon_start "$3" "$4"; mon_ready; fi
}
cap_end() { # BACKEND DIR REGEX
  if [ "$1" = legacy ]; then kmark_end; kextract "$2" "$3" plain T r x iso kmsg
  else mon_stop; fi
}

# Fresh output directory for one capture
fresh_dir() { rm -rf "$1"; mkdir -p "$1"; }

# write_readme DIR BACKEND NAME TITLE ABOUT_FILE RULES_DESC NS...
# ABOUT_FILE holds the scenario text (markdown); rule files are listed in
# README_RULES (array of "label|file").
README_RULES=()
write_readme() {
  local dir=$1 be=$2 name=$3 title=$4 about=$5; shift 5
  local f label file
  {
    echo "# $name — $title"
    echo
    if [ "$be" = legacy ]; then
      echo "Captured by \`scripts/capture-testdata.sh $name\` with **iptables-legacy** rules and"
      echo "\`-j TRACE\`: the kernel printed one \`TRACE:\` line per matched rule to the kernel log."
      echo "The same records are stored in several forms: \`dmesg\` (\`dmesg.log\`), \`dmesg -T\`,"
      echo "\`dmesg -r\`, \`dmesg -x\`, \`dmesg --time-format iso\` and the raw \`/dev/kmsg\` records"
      echo "(\`kmsg.log\`). Only the TRACE lines of this scenario between the capture markers are"
      echo "kept, byte for byte. \`iptables.save\` is \`iptables-legacy-save -c\` run in the traced"
      echo "namespace right after the traffic (rule numbers in \`rule:N\` refer to it)."
    elif [ "$be" = nft ]; then
      echo "Captured by \`scripts/capture-testdata.sh $name\` with the same rules loaded through"
      echo "**iptables-nft** (\`-j TRACE\` becomes \`meta nftrace set 1\`; nothing goes to the kernel"
      echo "log). \`xtables-monitor.log\` is \`xtables-monitor --trace\` and \`nft-monitor.log\` is"
      echo "\`nft monitor trace\`, both run inside the traced namespace at the same time, output"
      echo "kept byte for byte. \`iptables.save\` is \`iptables-nft-save -c\` right after the traffic."
      echo "Packet IDs, sequence numbers, ports and timestamps differ from the legacy run in"
      echo "\`testdata/dmesg/$name/\` (a separate run in fresh namespaces)."
    fi
    echo
    cat "$about"
    echo
    if [ "$be" = nft ]; then
      cat <<'EOT'
## Reading the netlink traces (how they differ from the legacy capture)

The "what the trace shows" notes above are written in terms of the legacy `table:chain:type:N`
lines. In this directory the same path appears as follows (observed on this kernel with
iptables 1.8.9 and nftables 1.0.6):

- Events are per matched rule and per base-chain policy. Rules are identified by their nft
  **handle** (`rule:0x6:JUMP:TW-USER` in xtables-monitor, the rule text in nft monitor), not by
  position. The **TRACE rule itself is reported** (`raw:PREROUTING:rule:0x3:CONTINUE … -j TRACE`
  / `meta nftrace set 1 (verdict continue)`), unlike in the kernel log.
- A `PACKET:` line (xtables-monitor) / `packet:` line (nft monitor) precedes the events of each
  table the packet enters, showing the addresses as they are at that point (so DNAT shows up
  as a changed `DST=`/`ip daddr` in the next table). Each packet has its own trace id; the
  reply of a connection gets new ids.
- There is **no event when a user chain runs out** (legacy `return:N`): the next event is
  simply the caller's next matching rule. An explicit `-j RETURN` is shown as verdict
  `0xfffffffb` by xtables-monitor and `return (verdict return)` by nft.
- xtables-monitor prints the rule in iptables-save syntax with the 1.8.9 `-4 -t TABLE -A …`
  prefix, two spaces after the verdict, MAC bytes without zero padding (`MACSRC=2:30:59:…`),
  `SPORT=/DPORT=`, and no ICMP type/code. nft monitor prints nft syntax without the
  `-m comment` text (a double space is left where it was), counters always `0`, and trailing
  spaces on `packet:` and `policy` lines.
EOT
      echo
    fi
    echo "## Topology (as captured)"
    echo
    echo "Every namespace was created by the script; interfaces are veth pairs. MACs are"
    echo "fixed per (namespace, interface) so \`MAC=\` fields are stable between runs."
    echo
    topo_dump "$@"
    echo
    echo "## Rules loaded (iptables-restore input)"
    echo
    for f in "${README_RULES[@]}"; do
      label=${f%%|*}; file=${f#*|}
      echo "$label"
      echo
      echo '```'
      cat "$file"
      echo '```'
      echo
    done
    echo "## Traffic generated"
    echo
    echo '```'
    printf '%s\n' "${TW_TRAFFIC[@]}"
    echo '```'
    echo
    echo "## Files"
    echo
    file_table "$dir"
    echo
    echo "## Captured with"
    echo
    tool_versions
  } >"$dir/README.md"
}

# ============================================================ scenarios ==

# ---------------------------------------------------------- topology: 3 ns
# client --eth0/eth0-- node --eth1/eth0-- server
topo_triple() { # CLIENT_CIDR CLIENT_GW NODE_IF0 NODE_IF1 SERVER_CIDR [SERVER_GW]
  ns client; ns node; ns server
  veth client eth0 node eth0
  veth node eth1 server eth0
  addr client eth0 "$1"
  addr node eth0 "$3"
  addr node eth1 "$4"
  addr server eth0 "$5"
  fwd_on node
  if [[ $1 == *:* ]]; then
    route6 client default via "$2"
    [ -n "${6:-}" ] && route6 server default via "$6"
  else
    route client default via "$2"
    [ -n "${6:-}" ] && route server default via "$6"
  fi
  return 0
}

# ------------------------------------------------------------ 1 fwd-dnat-masq
about_fwd_dnat_masq() {
  cat <<'EOF'
## What happens

A client (`tw-client`, 198.18.10.2) opens a TCP connection to a "service VIP"
198.18.30.10:80 through a router (`tw-node`, the traced node). The node DNATs the VIP to the
backend 198.18.20.2:8080 (`nat:TW-SERVICES`) and MASQUERADEs everything leaving `eth1`, so the
server (`tw-server`, no default route!) sees the node's address 198.18.20.1 as source and can
answer. One full TCP connection: SYN, SYN-ACK, ACK, `hello\n` from the client, `world\n` from
the server, FIN/ACK from both sides.

## What the trace shows / what to conclude

- The client's SYN arrives `IN=eth0` with `DST=198.18.30.10 DPT=80`; the `nat:PREROUTING` →
  `nat:TW-SERVICES:rule:1` line is the DNAT; from `mangle:FORWARD` on the same packet (same
  `ID=`) shows `DST=198.18.20.2 DPT=8080` and `OUT=eth1`.
- In `filter:FORWARD` every packet first jumps to `TW-USER`, which returns at once through its
  explicit unconditional `-j RETURN` (`filter:TW-USER:return:1`). The SYN then takes
  `filter:FORWARD:rule:3` → `filter:TW-FORWARD:rule:2` (ACCEPT, ctstate NEW to 8080); every
  later packet (both directions) is accepted by `filter:FORWARD:rule:2` (RELATED,ESTABLISHED).
- `nat:POSTROUTING:rule:1` (MASQUERADE) appears for the SYN only: nat chains are evaluated
  for the first packet of a connection only.
- `nat:POSTROUTING:rule:1` is printed before MASQUERADE runs, so no traced line of the request
  shows the new source 198.18.20.1: the SNAT is only visible in the replies.
- Replies come in `IN=eth1` from `SRC=198.18.20.2 SPT=8080` to `DST=198.18.20.1` (the
  masqueraded address) at `raw:PREROUTING`/`mangle:PREROUTING`. From `mangle:FORWARD` on the
  destination is restored (`DST=198.18.10.2`, `OUT=eth0`) but the source still reads
  `SRC=198.18.20.2 SPT=8080`: the reverse of the DNAT (source back to 198.18.30.10:80) is done
  in nat POSTROUTING, after the last traced line, so the VIP never appears as the source of a
  traced reply. A tool must use the request's DNAT to pair them.
- The TTL is one lower from `mangle:FORWARD` on (forwarding decrements it before FORWARD).
- Verdict: connection works; DNAT + MASQUERADE both applied; nothing dropped.
EOF
}
scn_fwd_dnat_masq() {
  local be=$1 dir=$2
  topo_triple 198.18.10.2/24 198.18.10.1 198.18.10.1/24 198.18.20.1/24 198.18.20.2/24
  rules_fwd_dnat_masq 4 trace >"$TW_TMP/node.rules"
  README_RULES=("tw-node (traced), \`iptables-$be-restore\`:|$TW_TMP/node.rules")
  load_rules node "$be" 4 "$TW_TMP/node.rules"
  bgrun server timeout 20 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'
  wait_listen server 8080
  traffic_note "server: timeout 20 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'"
  cap_begin "$be" fwd-dnat-masq node "$dir"
  traffic_in client $'hello\n' timeout 5 socat -T2 - TCP:198.18.30.10:80
  sleep 0.5
  cap_end "$be" "$dir" '(SRC|DST)=198\.18\.(10|20|30)\.'
  save_rules node "$be" 4 "$dir/iptables.save"
  about_fwd_dnat_masq >"$TW_TMP/about"
  write_readme "$dir" "$be" fwd-dnat-masq "forwarded TCP through DNAT + MASQUERADE" \
    "$TW_TMP/about" client node server
}

# ---------------------------------------------------------- 2 drop-user-chain
about_drop_user_chain() {
  cat <<'EOF'
## What happens

A client (`tw-client`, 198.18.12.2) behind a router (`tw-node`, traced) tries to reach the
server (`tw-server`, 198.18.13.2, default route via the node; no NAT):

1. a TCP connection to port 23 (telnet) — one SYN (the client gives up after 0.6 s, before the
   first retransmission);
2. one ICMP echo request (`ping -c 1`).

`filter:FORWARD` jumps to the user chain `TW-POLICY` for new traffic from `eth0` to `eth1`.
`TW-POLICY` has four rules and no explicit RETURN at the end.

## What the trace shows / what to conclude

- The SYN to port 23: `filter:FORWARD:rule:2` (jump) → `filter:TW-POLICY:rule:3` and nothing
  after it: **dropped** by `-A TW-POLICY -p tcp -m tcp --dport 23 -m comment --comment "no telnet" -j DROP`
  (the third rule of TW-POLICY). No `mangle:POSTROUTING` line follows, so the packet never left
  the node. No reply of course.
- The echo request: `filter:FORWARD:rule:2` → `filter:TW-POLICY:return:5` (the implicit end of
  the 4-rule chain) → `filter:FORWARD:rule:3` (ACCEPT) → leaves `OUT=eth1`.
- The echo reply comes back `IN=eth1` and is accepted by `filter:FORWARD:rule:1`
  (RELATED,ESTABLISHED).
- Lines at `raw:PREROUTING` start at `policy:3`: the TRACE rules are rules 1–2 and the TRACE
  rule itself is never logged.
EOF
}
scn_drop_user_chain() {
  local be=$1 dir=$2
  topo_triple 198.18.12.2/24 198.18.12.1 198.18.12.1/24 198.18.13.1/24 198.18.13.2/24 198.18.13.1
  rules_drop_user_chain trace >"$TW_TMP/node.rules"
  README_RULES=("tw-node (traced), \`iptables-$be-restore\`:|$TW_TMP/node.rules")
  load_rules node "$be" 4 "$TW_TMP/node.rules"
  cap_begin "$be" drop-user-chain node "$dir"
  traffic client timeout 0.6 nc -z 198.18.13.2 23
  traffic client ping -c 1 -W 1 198.18.13.2
  cap_end "$be" "$dir" '(SRC|DST)=198\.18\.1[23]\.'
  save_rules node "$be" 4 "$dir/iptables.save"
  about_drop_user_chain >"$TW_TMP/about"
  write_readme "$dir" "$be" drop-user-chain "DROP inside a user chain, and a RETURN" \
    "$TW_TMP/about" client node server
}

# ------------------------------------------------------------ 3 local-output
about_local_output() {
  cat <<'EOF'
## What happens

The traced node (`tw-node`, 198.18.40.1 on `eth0`) itself talks to a neighbour (`tw-server`,
198.18.40.2):

1. `ping -c 2` run as root (ICMP echo, locally generated → `raw:OUTPUT` path);
2. a TCP connection to 198.18.40.2:8080 made by uid/gid 65534 (`setpriv --reuid=65534
   --regid=65534 --clear-groups nc …`), sending `hello\n`, receiving `world\n`.

Replies come back in through PREROUTING/INPUT. The node's INPUT policy is DROP (replies pass by
conntrack), `mangle:OUTPUT` marks packets of uid 65534 with 0x1 (`-m owner`), and
`filter:OUTPUT` allows uid 65534 only to port 8080.

## What the trace shows / what to conclude

- Outgoing packets have `IN=` empty, `OUT=eth0`, no `MAC=` field, and carry the owning socket:
  `UID=0 GID=0` for ping, `UID=65534 GID=65534` for the nc connection.
- The nc packets get `MARK=0x1` from `mangle:OUTPUT:rule:1` on: the line of
  `mangle:OUTPUT:rule:1` itself still shows the old (absent) mark — a line is printed before
  the rule's target runs — and later lines (`filter:OUTPUT`, `mangle:POSTROUTING`, …) show `MARK=0x1`.
- `filter:OUTPUT:rule:1` (owner 65534, dport 8080) ACCEPTs the nc packets; the ping packets
  fall through to `filter:OUTPUT:policy:3`.
- Incoming replies (`IN=eth0 OUT=`, with `MAC=`) are accepted by `filter:INPUT:rule:2`
  (RELATED,ESTABLISHED). The TCP replies carry `UID=65534 GID=65534` from `mangle:INPUT` on
  (the receiving socket is looked up between PREROUTING and INPUT), not at
  `raw`/`mangle:PREROUTING`; the ICMP echo replies carry no UID at all.
- Only the first packet of each flow shows `nat:OUTPUT`/`nat:POSTROUTING` lines.
- Verdict: all traffic allowed; the local origin is visible by the empty `IN=` and the UID/GID.
EOF
}
scn_local_output() {
  local be=$1 dir=$2
  ns node; ns server
  veth node eth0 server eth0
  addr node eth0 198.18.40.1/24
  addr server eth0 198.18.40.2/24
  rules_local_output trace >"$TW_TMP/node.rules"
  README_RULES=("tw-node (traced), \`iptables-$be-restore\`:|$TW_TMP/node.rules")
  load_rules node "$be" 4 "$TW_TMP/node.rules"
  bgrun server timeout 20 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'
  wait_listen server 8080
  traffic_note "server: timeout 20 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'"
  cap_begin "$be" local-output node "$dir"
  traffic node ping -c 2 -i 0.2 -W 1 198.18.40.2
  traffic_in node $'hello\n' timeout 5 setpriv --reuid=65534 --regid=65534 --clear-groups nc -N -w 2 198.18.40.2 8080
  sleep 0.3
  cap_end "$be" "$dir" '(SRC|DST)=198\.18\.40\.'
  save_rules node "$be" 4 "$dir/iptables.save"
  about_local_output >"$TW_TMP/about"
  write_readme "$dir" "$be" local-output "locally generated traffic (OUTPUT), with UID/GID" \
    "$TW_TMP/about" node server
}

# --------------------------------------------------------------------- 4 ipv6
about_ipv6() {
  cat <<'EOF'
## What happens

The IPv6 twin of `fwd-dnat-masq`. A client (`tw-client`, 2001:db8:10::2) reaches the service
VIP [2001:db8:30::10]:80 through the traced router `tw-node`; ip6tables nat DNATs it to
[2001:db8:20::2]:8080 and MASQUERADEs out of `eth1` (the server has no default route).
Traffic: `ping -6 -c 1` to the server's own address 2001:db8:20::2 (forwarded, masqueraded),
then one TCP connection to the VIP (`hello\n` / `world\n`, FIN both ways). Neighbour entries
are static, so no NDP appears.

## What the trace shows / what to conclude

- IPv6 lines: the kernel prints addresses **in full, uncompressed form**
  (`SRC=2001:0db8:0010:0000:0000:0000:0000:0002`), then `LEN= TC= HOPLIMIT= FLOWLBL=`; there is no
  IP `ID=` (IPv6 has none); `PROTO=ICMPv6 TYPE=128 CODE=0 ID= SEQ=` for the echo request and
  `TYPE=129` for the reply. (The netlink monitors in `testdata/nft/ipv6/` print compressed
  addresses.)
- The echo request is NEW: `nat:PREROUTING:rule:1` → `nat:TW-SERVICES:return:2` (no match) →
  `nat:PREROUTING:policy:2`, then `filter:FORWARD:rule:3` → `filter:TW-FORWARD:rule:3`
  (`-p ipv6-icmp -j ACCEPT`) and `nat:POSTROUTING:rule:1` (MASQUERADE); the echo reply arrives for
  `DST=2001:0db8:0020:…:0001` and is accepted as ESTABLISHED (`filter:FORWARD:rule:2`).
- The TCP SYN: `nat:TW-SERVICES:rule:1` DNAT; afterwards `DST=2001:0db8:0020:…:0002 DPT=8080
  OUT=eth1`; `nat:POSTROUTING:rule:1` MASQUERADE. Replies arrive with `DST=2001:0db8:0020:…:0001`;
  from `mangle:FORWARD` on their destination is the client again, while the source stays the
  real server `[2001:db8:20::2]:8080` (the reverse DNAT happens after the last traced line).
- `HOPLIMIT` is one lower from `mangle:FORWARD` on.
- `ip6tables.save` holds the traced ruleset; `iptables.save` is the (empty) IPv4 side.
- **xtables-monitor 1.8.9 and IPv6 (the nft run, `testdata/nft/ipv6/`)**: xtables-monitor
  cannot print the ip6tables-nft DNAT rule. At the first trace event that hits
  `nat:TW-SERVICES` it prints `… nat:TW-SERVICES:rule:0x8:ACCEPT  -6 -t nat ` (no newline) and
  exits with `Error: unsupported layer 4 protocol value` / `Parsing nftables rule failed`
  (kept in `xtables-monitor.stderr`). So `xtables-monitor.log` there covers the ping and ends
  truncated at the TCP SYN; `nft-monitor.log` is complete. The ICMPv6 rule deliberately has no
  `-m icmp6 --icmpv6-type 128` match: with one, xtables-monitor already aborts at the echo
  request (`Error: match extension not found`).
EOF
}
scn_ipv6() {
  local be=$1 dir=$2
  topo_triple 2001:db8:10::2/64 2001:db8:10::1 2001:db8:10::1/64 2001:db8:20::1/64 2001:db8:20::2/64
  neigh6 client eth0 2001:db8:10::1 "$(mac_for node eth0)"
  neigh6 node eth0 2001:db8:10::2 "$(mac_for client eth0)"
  neigh6 node eth1 2001:db8:20::2 "$(mac_for server eth0)"
  neigh6 server eth0 2001:db8:20::1 "$(mac_for node eth1)"
  rules_fwd_dnat_masq 6 trace >"$TW_TMP/node6.rules"
  README_RULES=("tw-node (traced), \`ip6tables-$be-restore\`:|$TW_TMP/node6.rules")
  load_rules node "$be" 6 "$TW_TMP/node6.rules"
  bgrun server timeout 20 socat -T3 TCP6-LISTEN:8080,reuseaddr SYSTEM:'echo world'
  wait_listen server 8080
  traffic_note "server: timeout 20 socat -T3 TCP6-LISTEN:8080,reuseaddr SYSTEM:'echo world'"
  cap_begin "$be" ipv6 node "$dir"
  traffic client ping -6 -c 1 -W 1 2001:db8:20::2
  traffic_in client $'hello\n' timeout 5 socat -T2 - 'TCP6:[2001:db8:30::10]:80'
  sleep 0.5
  cap_end "$be" "$dir" '(SRC|DST)=2001:0db8:00(10|20|30):'
  save_rules node "$be" 4 "$dir/iptables.save"
  save_rules node "$be" 6 "$dir/ip6tables.save"
  about_ipv6 >"$TW_TMP/about"
  write_readme "$dir" "$be" ipv6 "IPv6 forwarded TCP + ICMPv6 through DNAT + MASQUERADE" \
    "$TW_TMP/about" client node server
}

# ------------------------------------------------------- 5/6 wifi scenarios
# pod --(eth0 | caliXXX)-- node --(wlp59s0)-- LAN bridge -- master, router
# K8S_* variables select node-specific values (see rules_k8s_node).
topo_k8s_lan() { # creates lan, master, router
  ns lan; ns master; ns router
  bridge lan br0
  veth master enp1s0 lan port-master; brport lan br0 port-master
  veth router eth0 lan port-router; brport lan br0 port-router
  addr master enp1s0 198.18.1.50/24
  route master default via 198.18.1.1
  addr router eth0 198.18.1.1/24
  fwd_on router
  # the home router knows only 198.18.1.0/24: no route to any pod CIDR, no default route.
}
# topo_k8s_node NODE UPLINK NODE_IP POD POD_IP POD_BLOCK CALI_IF
topo_k8s_node() {
  local node=$1 up=$2 nip=$3 pod=$4 pip=$5 block=$6 cif=$7
  ns "$node"; ns "$pod"
  veth "$node" "$up" lan "port-$node"; brport lan br0 "port-$node"
  addr "$node" "$up" "$nip/24"
  route "$node" default via 198.18.1.1
  fwd_on "$node"
  # Calico-style workload: the pod has a /32 and a fake next hop that the
  # host answers by proxy ARP (Calico uses 169.254.1.1; here 198.18.255.1,
  # outside every subnet in use), host side MAC ee:ee:ee:ee:ee:ee, a /32 route
  # and a static neighbour entry on the host, a blackhole route for the block.
  veth "$pod" eth0 "$node" "$cif" "" ee:ee:ee:ee:ee:ee
  local gw=198.18.255.1
  addr "$pod" eth0 "$pip/32"
  route "$pod" "$gw" dev eth0 scope link
  route "$pod" default via "$gw" dev eth0
  nsx "$node" sysctl -qw "net.ipv4.conf.$cif.proxy_arp=1" "net.ipv4.neigh.$cif.proxy_delay=0" >/dev/null
  route "$node" "$pip/32" dev "$cif" scope link
  ip -n "${TW_NS_PREFIX}$node" neigh replace "$pip" lladdr "$(mac_for "$pod" eth0)" dev "$cif" nud permanent
  route "$node" blackhole "$block" proto static
}

about_wifi() { # no-reply|masquerade
  if [ "$1" = no-reply ]; then
    cat <<'EOF'
## What happens (field report 000)

A pod (`tw-pod`, 198.19.88.69/32, default route via the fake next hop 198.18.255.1 that the
node answers by proxy ARP, like Calico's 169.254.1.1) on a WiFi worker (`tw-node`, uplink
`wlp59s0` 198.18.1.105/24, Calico-style workload interface `cali1a2b3c4d5e6`, host-side MAC
`ee:ee:ee:ee:ee:ee`, blackhole route for its block 198.19.88.64/26) connects to the Kubernetes API service VIP
198.19.96.1:443. kube-proxy's `KUBE-SERVICES` → `KUBE-SVC-NPX46M4PTMTKRN6Y` → `KUBE-SEP-…`
chain DNATs it to the API server `tw-master` 198.18.1.50:6443 on the same LAN. There is **no
MASQUERADE** for pod traffic leaving `wlp59s0` (Calico `cali-nat-outgoing` is empty, natOutgoing
off), so the SYN leaves with the pod source address. The master answers via its default route,
the home router `tw-router` 198.18.1.1, which has **no route to 198.19.88.0/24** (nor a default
route) and drops the SYN-ACK (answering the master with ICMP net unreachable). The node never
sees a reply; the pod's `nc` retransmits its SYN once and gives up (1.5 s).

The TRACE rules are appended to raw PREROUTING/OUTPUT exactly as in the field report
(`-A PREROUTING -s <pod-cidr> -j TRACE`), after Calico's `cali-PREROUTING` jump, so the first
line of each packet is `raw:PREROUTING:policy:4`; a second TRACE rule would catch any reply
from the master (`-s 198.18.1.50/32 -p tcp --sport 6443`).

## What the trace shows / what to conclude

- Two SYNs from 198.19.88.69 to 198.19.96.1:443 (same `SEQ=`, different `ID=`: the second is the
  retransmission), `IN=cali1a2b3c4d5e6`, `MARK=0x40000` (set by Calico's raw chain) on the first lines.
- First SYN only: `nat:PREROUTING:rule:2` → `nat:KUBE-SERVICES:rule:1` →
  `nat:KUBE-SVC-NPX46M4PTMTKRN6Y:rule:2` → `nat:KUBE-SEP-…:rule:2` (DNAT); from then on
  `DST=198.18.1.50 DPT=6443`.
- Both SYNs: `filter:FORWARD:rule:1` → `filter:cali-FORWARD:rule:1` (clears the 0x40000 mark)
  … `rule:3` → `filter:cali-from-wl-dispatch:rule:1` (goto `cali-fw-cali1a2b3c4d5e6`) →
  `cali-fw-…:rule:3`, `rule:6` → `cali-pro-kns.default:rule:1` (sets `MARK=0x10000`), `rule:2`
  (RETURN) → `cali-fw-…:rule:7` (RETURN; because of the goto, control returns to
  `cali-FORWARD`, rules 5 and 6, `return:7`) → `filter:FORWARD:rule:2` (`KUBE-FORWARD`,
  `return:4`), `rule:3` (`KUBE-SERVICES`, `return:2`) → `filter:FORWARD:rule:4` ACCEPT →
  `mangle:POSTROUTING:rule:1` → `mangle:cali-POSTROUTING:rule:1` (RETURN) →
  `mangle:POSTROUTING:policy:2` with `OUT=wlp59s0` — exactly the last line quoted in the field
  report — and, for the first SYN, `nat:cali-POSTROUTING` (empty `cali-nat-outgoing`),
  `nat:KUBE-POSTROUTING:rule:1` (RETURN, no 0x4000 mark) and `nat:POSTROUTING:policy:3`:
  no SNAT anywhere, **the packet leaves with SRC=198.19.88.69**.
- No line with `SRC=198.18.1.50` at all: **no SYN-ACK ever comes back**.
- Conclusion: "request left unNATed from a pod source via wlp59s0, no reply seen" → the return
  path (a router without a route to the pod CIDR) is broken; fix with MASQUERADE
  (see `wifi-masquerade`).
EOF
  else
    cat <<'EOF'
## What happens (field report 000, after the fix)

Same topology and rules as `wifi-no-reply`, plus the fix from the field report:
`-t nat -A POSTROUTING -s 198.19.88.0/24 -o wlp59s0 -j MASQUERADE` (nat POSTROUTING rule 3).
The pod (198.19.88.69) connects to the API VIP 198.19.96.1:443, sends `hello\n`, the API
server stand-in on `tw-master` (198.18.1.50:6443) answers `ok\n`, both sides close.

## What the trace shows / what to conclude

- SYN: DNAT 198.19.96.1:443 → 198.18.1.50:6443 (`nat:KUBE-SEP-…:rule:2`), accepted through
  `cali-FORWARD`/`cali-fw-cali1a2b3c4d5e6`, then `nat:POSTROUTING:rule:3` (**MASQUERADE**) —
  the SYN leaves `OUT=wlp59s0` (the line itself still shows the pod source: SNAT happens after
  the rule's line is printed).
- Replies from 198.18.1.50:6443 arrive `IN=wlp59s0` with `DST=198.18.1.105` (the node's
  address) at `raw:PREROUTING` (caught by the second TRACE rule); from `mangle:FORWARD` on the
  destination is the pod again (`DST=198.19.88.69`, `OUT=cali1a2b3c4d5e6`), while the source
  stays `198.18.1.50:6443` (the reverse DNAT to 198.19.96.1:443 happens in nat POSTROUTING,
  after the last traced line). They pass `cali-FORWARD:rule:4` → `cali-to-wl-dispatch` (goto)
  → `cali-tw-cali1a2b3c4d5e6:rule:1` (ESTABLISHED ACCEPT).
- Later packets of the pod side are ESTABLISHED: accepted in `cali-fw-cali1a2b3c4d5e6:rule:1`.
- Conclusion: with MASQUERADE the reply is seen and delivered; compare with `wifi-no-reply`.
EOF
  fi
}
scn_wifi() { # BACKEND DIR no-reply|masquerade
  local be=$1 dir=$2 kind=$3 name=wifi-$3
  topo_k8s_lan
  topo_k8s_node node wlp59s0 198.18.1.105 pod 198.19.88.69 198.19.88.64/26 cali1a2b3c4d5e6
  K_UPLINK=wlp59s0 K_WL1=cali1a2b3c4d5e6 K_WL2=cali5e6f7a8b9c0 K_EXTRA_DROP=0 \
    K_TRACE=1 K_TRACE_SRC=198.19.88.0/24 K_MASQ_SRC=$([ "$kind" = masquerade ] && echo 198.19.88.0/24 || true) \
    rules_k8s_node >"$TW_TMP/node.rules"
  README_RULES=("tw-node (traced), \`iptables-$be-restore\`:|$TW_TMP/node.rules")
  load_rules node "$be" 4 "$TW_TMP/node.rules"
  bgrun master timeout 20 socat -T3 TCP-LISTEN:6443,reuseaddr SYSTEM:'echo ok'
  wait_listen master 6443
  traffic_note "master: timeout 20 socat -T3 TCP-LISTEN:6443,reuseaddr SYSTEM:'echo ok'"
  cap_begin "$be" "$name" node "$dir"
  if [ "$kind" = no-reply ]; then
    traffic pod timeout 1.5 nc 198.19.96.1 443
  else
    traffic_in pod $'hello\n' timeout 5 nc -N -w 2 198.19.96.1 443
  fi
  sleep 0.5
  cap_end "$be" "$dir" '(SRC|DST)=198\.(19\.88\.69|18\.1\.50|18\.1\.105|19\.96\.1) '
  save_rules node "$be" 4 "$dir/iptables.save"
  about_wifi "$kind" >"$TW_TMP/about"
  local title="pod → API VIP from a WiFi node, no MASQUERADE, no reply"
  [ "$kind" = masquerade ] && title="pod → API VIP from a WiFi node with MASQUERADE, reply un-NATed"
  write_readme "$dir" "$be" "$name" "$title" "$TW_TMP/about" pod node lan master router
}
scn_wifi_no_reply() { scn_wifi "$1" "$2" no-reply; }
scn_wifi_masquerade() { scn_wifi "$1" "$2" masquerade; }

# -------------------------------------------------------- 7 asymmetric-route
about_asym() {
  cat <<'EOF'
## What happens (field report 004)

The traced node (`tw-node`) has two interfaces: `eth1` on the LAN (198.18.1.20/24, plus the
MetalLB-like VIP 198.18.1.240/32) and `eth0` on a Vagrant-style management network
(198.18.121.10/24) that carries the **default route** (via 198.18.121.1, `tw-mgmt`). A client
in another subnet (`tw-client`, 198.19.5.10) reaches the VIP through the LAN router
`tw-router` (198.19.5.1 / 198.18.1.254): the SYN arrives on `eth1`. The node's SYN-ACK to
198.19.5.10 follows the default route and leaves by `eth0`, where the management gateway's
stateful firewall drops it as INVALID (`-m conntrack --ctstate INVALID -j DROP`). The client
retransmits its SYN once and gives up after 2 s; the node retransmits its SYN-ACK.

## What the trace shows / what to conclude

- Requests (`DST=198.18.1.240 DPT=443`, SYN) arrive `IN=eth1` and are accepted by
  `filter:INPUT:rule:2` (the VIP rule; the retransmitted SYN is `filter:INPUT:rule:1`,
  already known to conntrack).
- Replies (`SRC=198.18.1.240 SPT=443`, SYN-ACK, locally generated, so no `IN=`) go
  `raw:OUTPUT` → … → `mangle:POSTROUTING:policy:1` with **`OUT=eth0`**.
- No ACK from the client ever arrives: the handshake never completes.
- Conclusion: "request in on eth1, reply out on eth0" — asymmetric routing (fix: default route
  via eth1, or policy routing for the VIP).
EOF
}
scn_asymmetric_route() {
  local be=$1 dir=$2
  ns client; ns router; ns node; ns mgmt
  veth client eth0 router eth0
  veth router eth1 node eth1
  veth node eth0 mgmt eth0
  addr client eth0 198.19.5.10/24; route client default via 198.19.5.1
  addr router eth0 198.19.5.1/24; addr router eth1 198.18.1.254/24; fwd_on router
  addr node eth1 198.18.1.20/24; addr node eth1 198.18.1.240/32
  addr node eth0 198.18.121.10/24; route node default via 198.18.121.1
  addr mgmt eth0 198.18.121.1/24; fwd_on mgmt
  nsx node sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth1.rp_filter=2 >/dev/null
  rules_asym_node trace >"$TW_TMP/node.rules"
  rules_asym_mgmt >"$TW_TMP/mgmt.rules"
  README_RULES=("tw-node (traced), \`iptables-$be-restore\`:|$TW_TMP/node.rules"
    "tw-mgmt (not traced), \`iptables-$be-restore\`:|$TW_TMP/mgmt.rules")
  load_rules node "$be" 4 "$TW_TMP/node.rules"
  load_rules mgmt "$be" 4 "$TW_TMP/mgmt.rules"
  bgrun node timeout 20 socat TCP-LISTEN:443,bind=198.18.1.240,reuseaddr SYSTEM:'echo hi'
  wait_listen node 443
  traffic_note "node: timeout 20 socat TCP-LISTEN:443,bind=198.18.1.240,reuseaddr SYSTEM:'echo hi'"
  cap_begin "$be" asymmetric-route node "$dir"
  traffic client timeout 2 nc 198.18.1.240 443
  sleep 0.3
  cap_end "$be" "$dir" '(SRC|DST)=198\.18\.1\.240 '
  save_rules node "$be" 4 "$dir/iptables.save"
  about_asym >"$TW_TMP/about"
  write_readme "$dir" "$be" asymmetric-route "request in on eth1, reply out on eth0" \
    "$TW_TMP/about" client router node mgmt
}

# ------------------------------------------------------------ 8 frag-needed
about_frag() { # client|router
  cat <<'EOF'
## What happens

`tw-client` (198.18.50.2) → `tw-router` (198.18.50.1 | 198.18.51.1) → `tw-server`
(198.18.51.2). The router's link towards the server (`eth1`) has **MTU 1450**; everything else
is 1500. Traffic, in this order:

1. a TCP upload of 4000 bytes to 198.18.51.2:9000. The server announces MSS 1460, so the
   client's first full-size segments are 1500 bytes with DF; the router answers with ICMP
   type 3 code 4 (fragmentation needed) `MTU=1450`, the client lowers its path MTU and resends
   the data in smaller segments. (GSO is limited to one segment per packet on the client's
   `eth0` — `ip link set eth0 gso_max_segs 1` — otherwise veth would carry the 4000 bytes as
   one 4052-byte GSO packet and every trace line and ICMP quote would say `LEN=4052`. The
   client's egress is also paced to 1 Mbit/s with `tbf`, so that xtables-monitor keeps up in
   the iptables-nft run; only the timing changes.)
2. `ip route flush cache` on the client (forget the learned path MTU), then
   `ping -M do -s 1472 -c 1` (a 1500-byte DF echo request): another ICMP frag-needed.

EOF
  if [ "$1" = client ]; then
    cat <<'EOF'
This capture traces the **client** (`tw-client`): raw PREROUTING traces ICMP from the router
and everything from the server, raw OUTPUT everything to the server. The client's INPUT
policy is DROP; the ICMP errors are accepted as RELATED.

## What the trace shows / what to conclude

- Outgoing full-size segments (`LEN=1500 … DF PROTO=TCP … ACK`, `UID=0 GID=0`) on `raw:OUTPUT` …
  `mangle:POSTROUTING` with `OUT=eth0`.
- Incoming `SRC=198.18.50.1 … PROTO=ICMP TYPE=3 CODE=4 [SRC=198.18.50.2 DST=198.18.51.2
  LEN=1500 … ] MTU=1450`: the router's frag-needed, quoting the offending packet inside
  `[…]`; accepted by `filter:INPUT:rule:2` (RELATED).
- Each 1500-byte segment is answered by its own frag-needed (the `ID=` inside the brackets
  is the segment's `ID=`); a segment that fits (`LEN=1156`) gets through. The lost data is
  resent as `LEN=1450` + `LEN=102` segments, and the server's ACKs carry SACK blocks
  (`LEN=64`) until the hole is filled.
- The ping: echo request `LEN=1500 … DF`, answered by the same kind of ICMP error whose
  quote is the ICMP echo (`PROTO=ICMP TYPE=8 …` inside the brackets).
- Conclusion: path MTU 1450 somewhere behind 198.18.50.1 ("need to frag (mtu 1450)").
EOF
  else
    cat <<'EOF'
This capture traces the **router** (`tw-router`): raw PREROUTING traces everything from the
client and from the server, raw OUTPUT traces the router's own ICMP frag-needed messages.

## What the trace shows / what to conclude

- The 1500-byte DF packets from the client go through `raw`/`mangle`/(`nat`)`:PREROUTING`
  and then **stop**: there is no `mangle:FORWARD` line for them, because the MTU check in
  the forwarding path happens before the FORWARD hook and drops them.
- Right after each of them the router's own ICMP error appears on `raw:OUTPUT` →
  `mangle:POSTROUTING`: `SRC=198.18.50.1 DST=198.18.50.2 … PROTO=ICMP TYPE=3 CODE=4 [SRC=198.18.50.2
  DST=198.18.51.2 LEN=1500 … ] MTU=1450`, `OUT=eth0`.
- Smaller packets (handshake, the re-sent ≤1450-byte segments, ACKs from the server) are
  forwarded normally (`mangle:FORWARD` … `OUT=eth1` / `OUT=eth0`).
EOF
  fi
}
# scn_frag BACKEND DIR TRACED(client|router)
scn_frag() {
  local be=$1 dir=$2 traced=$3
  ns client; ns router; ns server
  veth client eth0 router eth0
  veth router eth1 server eth0
  ip -n tw-router link set eth1 mtu 1450
  # veth does TSO/GSO: without this the client's TCP segments would show up as
  # one 4052-byte GSO packet (and be quoted that way in the ICMP error), which
  # never happens on a real wire.  One segment per skb, as on a NIC link:
  ip -n tw-client link set eth0 gso_max_segs 1
  # Pace the client (1 Mbit/s, ~12 ms per full-size packet): with back-to-back
  # segments xtables-monitor on the router falls behind and dies ("No buffer
  # space available").  Only the timing changes, not the packets.
  tc -n tw-client qdisc add dev eth0 root tbf rate 1mbit burst 1600 latency 1s
  addr client eth0 198.18.50.2/24; route client default via 198.18.50.1
  addr router eth0 198.18.50.1/24; addr router eth1 198.18.51.1/24; fwd_on router
  addr server eth0 198.18.51.2/24; route server default via 198.18.51.1
  local ct="" rt="" name=frag-needed
  if [ "$traced" = client ]; then ct=trace; else rt=trace; name=frag-needed-router; fi
  rules_frag_client $ct >"$TW_TMP/client.rules"
  rules_frag_router $rt >"$TW_TMP/router.rules"
  local cl="tw-client" rl="tw-router"
  if [ "$traced" = client ]; then cl="$cl (traced)"; else rl="$rl (traced)"; fi
  README_RULES=("$cl, \`iptables-$be-restore\`:|$TW_TMP/client.rules"
    "$rl, \`iptables-$be-restore\`:|$TW_TMP/router.rules")
  load_rules client "$be" 4 "$TW_TMP/client.rules"
  load_rules router "$be" 4 "$TW_TMP/router.rules"
  bgrun server timeout 20 socat -u TCP-LISTEN:9000,reuseaddr OPEN:/dev/null
  wait_listen server 9000
  traffic_note "server: timeout 20 socat -u TCP-LISTEN:9000,reuseaddr OPEN:/dev/null"
  traffic_note "client: ip link set eth0 gso_max_segs 1; tc qdisc add dev eth0 root tbf rate 1mbit burst 1600 latency 1s"
  cap_begin "$be" "$name" "$traced" "$dir"
  traffic client timeout 5 sh -c 'head -c 4000 /dev/zero | nc -N -w 2 198.18.51.2 9000'
  traffic client ip route flush cache
  traffic client ping -M do -s 1472 -c 1 -W 1 198.18.51.2
  sleep 0.3
  cap_end "$be" "$dir" '(SRC|DST)=198\.18\.5[01]\.'
  save_rules "$traced" "$be" 4 "$dir/iptables.save"
  about_frag "$traced" >"$TW_TMP/about"
  write_readme "$dir" "$be" "$name" "ICMP fragmentation needed (MTU 1450), traced on the $traced" \
    "$TW_TMP/about" client router server
}

# -------------------------------------------------- 11/12 nat-replies(6)
about_nat_replies() { # 4|6
  local v=IPv4 a=198.18.60.2 w=198.18.61.2 g=198.18.61.1 l=198.18.60.1 vip=198.18.62.10
  if [ "$1" = 6 ]; then v=IPv6; a=2001:db8:60::2 w=2001:db8:61::2 g=2001:db8:61::1 l=2001:db8:60::1 vip=2001:db8:62::10; fi
  cat <<EOF
## What happens

A home router (\`tw-gw\`, the traced node, $v) between a LAN (\`tw-lan\`, $a, on \`eth0\`) and
a WAN (\`tw-wan\`, $w, on \`eth1\`; the WAN host has **no route** to the LAN). The router
MASQUERADEs everything leaving \`eth1\`, forwards WAN port 2222 to the LAN host's port 8022
(\`nat:TW-PORTFWD\`, DNAT), DNATs a VIP $vip:80 of its own traffic to the WAN host's port 8080
(\`nat:OUTPUT\`), marks what comes in from the LAN with 0x10 (\`mangle:PREROUTING\`), and LOGs
every forwarded packet (\`mangle:FORWARD\`, prefix \`tw-log-fwd: \`) and every packet delivered
to itself (\`mangle:INPUT\`, prefix \`tw-log-in: \`) in the middle of the traced path.

Traffic, in this order:
1. the LAN host pings the WAN host (masqueraded; the echo reply is un-masqueraded by conntrack);
2. the LAN host opens a TCP connection to the WAN host's port 8080 (\`hello\` / \`world\`);
3. the WAN host connects to the router's port 2222 ($g), forwarded to the LAN host's 8022;
4. the router pings the WAN host **from its LAN address** $l (\`ping -I\`): MASQUERADE rewrites
   the source to $g, and the echo reply, addressed to $g, is delivered to the router itself
   after conntrack restored its destination to $l;
5. the router connects to the VIP $vip:80 (DNAT in nat OUTPUT to the WAN host's 8080).

Between 3 and 4 the LAN host also sends one UDP datagram to the WAN host's port 9 and opens a
TCP connection to its port 9, where nothing listens: the WAN host answers with an ICMP port
unreachable and a TCP RST, both addressed to the router's masquerade address.

## What the trace shows / what to conclude

- Replies to masqueraded packets (1, 2, 4) arrive for the router's WAN address $g and are
  traced in \`raw\`/\`mangle:PREROUTING\` with that destination. No nat line follows (nat chains
  see only the first packet of a connection); from the next traced line on (\`mangle:FORWARD\`,
  or \`mangle:INPUT\` for 4) the destination is the original sender again: conntrack restored it
  between \`mangle:PREROUTING\` and routing. Each reply is one packet.
- Replies of the DNATed connections (3, 5) keep the real server as their source on every traced
  line: conntrack puts the public address back in nat POSTROUTING (3) or nat INPUT (5), after the
  last trace point.
- A \`tw-log-fwd: \` line follows each forwarded packet's \`mangle:FORWARD:rule:N\` line and a
  \`tw-log-in: \` line each \`mangle:INPUT:rule:1\` line, between the TRACE lines of the same packet.
  LOG prints no TCP sequence numbers and no TCP options by default (TRACE does).
- Packets from the LAN carry \`MARK=0x10\` from the line after \`mangle:PREROUTING:rule:1\` on.
- The ICMP port unreachable for the UDP datagram is un-masqueraded like any reply: its
  destination and the source of the packet it quotes (\`[SRC=… ]\`) both change from the router's
  address to the LAN host's between \`mangle:PREROUTING\` and \`mangle:FORWARD\`. The RST answers
  the SYN.
EOF
  if [ "$1" = 6 ]; then
    cat <<'EOF'
- Neighbour discovery is not static here: every ICMPv6 packet is traced. The router's first
  packet to each neighbour is preceded by a neighbour solicitation to the solicited-node
  multicast address (`ff02::1:ff00:2`), answered by a unicast neighbour advertisement; the
  hosts solicit the router the same way.
EOF
  fi
}
# scn_nat_replies BACKEND DIR FAMILY
scn_nat_replies() {
  local be=$1 dir=$2 fam=$3 name=nat-replies
  ns lan; ns gw; ns wan
  veth lan eth0 gw eth0
  veth gw eth1 wan eth0
  fwd_on gw
  local a w g l vip p="" tcp=TCP re
  if [ "$fam" = 4 ]; then
    addr lan eth0 198.18.60.2/24; route lan default via 198.18.60.1
    addr gw eth0 198.18.60.1/24; addr gw eth1 198.18.61.1/24
    addr wan eth0 198.18.61.2/24; route gw default via 198.18.61.2
    a=198.18.60.2 w=198.18.61.2 g=198.18.61.1 l=198.18.60.1 vip=198.18.62.10
    re='(SRC|DST)=198\.18\.6[012]\.'
  else
    name=nat-replies6 p=-6 tcp=TCP6
    addr lan eth0 2001:db8:60::2/64; route6 lan default via 2001:db8:60::1
    addr gw eth0 2001:db8:60::1/64; addr gw eth1 2001:db8:61::1/64
    addr wan eth0 2001:db8:61::2/64; route6 gw default via 2001:db8:61::2
    a=2001:db8:60::2 w=2001:db8:61::2 g=2001:db8:61::1 l=2001:db8:60::1 vip=2001:db8:62::10
    re='(SRC|DST)=(2001:0db8:006[012]:|fe80:|ff02:)'
  fi
  rules_nat_replies "$fam" trace >"$TW_TMP/gw.rules"
  local six=""; [ "$fam" = 6 ] && six=6
  README_RULES=("tw-gw (traced), \`ip${six}tables-$be-restore\`:|$TW_TMP/gw.rules")
  load_rules gw "$be" "$fam" "$TW_TMP/gw.rules"
  local hw=$w hl=$a
  [ "$fam" = 6 ] && hw="[$w]" hl="[$a]"
  bgrun wan timeout 30 socat -T3 "$tcp-LISTEN:8080,reuseaddr,fork" SYSTEM:'echo world'
  bgrun lan timeout 30 socat -T3 "$tcp-LISTEN:8022,reuseaddr" SYSTEM:'echo SSH-2.0-tw'
  wait_listen wan 8080; wait_listen lan 8022
  traffic_note "wan: timeout 30 socat -T3 $tcp-LISTEN:8080,reuseaddr,fork SYSTEM:'echo world'"
  traffic_note "lan: timeout 30 socat -T3 $tcp-LISTEN:8022,reuseaddr SYSTEM:'echo SSH-2.0-tw'"
  cap_begin "$be" "$name" gw "$dir"
  traffic lan ping $p -c 1 -W 1 "$w"
  traffic_in lan $'hello\n' timeout 5 socat -T2 - "$tcp:$hw:8080"
  local hg=$g; [ "$fam" = 6 ] && hg="[$g]"
  traffic_in wan $'hello\n' timeout 5 socat -T2 - "$tcp:$hg:2222"
  traffic lan sh -c "printf x | timeout 2 socat -T1 - UDP$six:$hw:9"
  traffic lan timeout 2 socat - "$tcp:$hw:9"
  traffic gw ping $p -c 1 -W 1 -I "$l" "$w"
  local hv=$vip; [ "$fam" = 6 ] && hv="[$vip]"
  traffic_in gw $'hello\n' timeout 5 socat -T2 - "$tcp:$hv:80"
  sleep 0.5
  cap_end "$be" "$dir" "$re"
  save_rules gw "$be" 4 "$dir/iptables.save"
  if [ "$fam" = 6 ]; then save_rules gw "$be" 6 "$dir/ip6tables.save"; fi
  about_nat_replies "$fam" >"$TW_TMP/about"
  write_readme "$dir" "$be" "$name" "replies of masqueraded and DNATed connections, with LOG lines inside the trace" \
    "$TW_TMP/about" lan gw wan
}
scn_nat_replies4() { scn_nat_replies "$1" "$2" 4; }
scn_nat_replies6() { TW_MON_MERGED=1 scn_nat_replies "$1" "$2" 6; }

# ------------------------------------------------------------ 13 ipv6-nd
about_ipv6_nd() {
  cat <<'EOF'
## What happens

IPv6 neighbour discovery and multicast listener discovery on one link, traced on a host. The
host (`tw-host`, traced) and a router (`tw-rtr`, 2001:db8:70::1/64) are ports of a switch
(`tw-sw`, a Linux bridge with multicast snooping and its own MLD querier). Neighbour entries are
not static and duplicate address detection is on for the host's `eth0`.

In the capture window:
1. the host's `eth0` is taken down and up again: the host checks its link-local address (DAD:
   a neighbour solicitation from `::` to the address's solicited-node group, never answered when
   the address is free), joins groups (MLDv2 reports to `ff02::16`) and sends a router
   solicitation to `ff02::2`;
2. the router answers the solicitation with a router advertisement to `ff02::1` (sent by
   `scripts/lib/send-ra.py`: radvd is not installed) offering 2001:db8:70::/64; the host
   configures an address from it (DAD again, MLD again);
3. the switch's querier asks for listeners (an MLD general query to `ff02::1`) and the host
   reports its groups;
4. the host pings the router's global address: a neighbour solicitation to the router's
   solicited-node group `ff02::1:ff00:1`, answered by a unicast neighbour advertisement, then the
   echo request and reply.

Every ICMPv6 packet the host sends or receives is traced (`-p ipv6-icmp -j TRACE` in raw
PREROUTING and OUTPUT).

## What the trace shows / what to conclude

- `TYPE=135` (neighbour solicitation) from the host to `ff02::1:ff00:1` and `TYPE=136`
  (advertisement) from 2001:db8:70::1 back to the host: the advertisement answers the
  solicitation although the two are not the reverse of each other (the solicitation is
  multicast).
- `TYPE=133` (router solicitation) to `ff02::2`, answered by `TYPE=134` to `ff02::1` from the
  router's link-local address.
- `TYPE=130` (an MLDv1 general listener query, maximum response delay 1000 ms) from the
  switch to `ff02::1`, followed by MLDv1 reports (`TYPE=131`, each to the address it reports)
  and MLDv2 reports (`TYPE=143` to `ff02::16`). An MLDv1 report is the same message whether it
  answers the query or was sent unsolicited on joining the address (RFC 2710), and the kernel
  log shows no MLDv2 record types: the query's answer is unknown, and each such report "may
  answer" it. nft monitor shows the MLDv2 reports' first record, CHANGE_TO_EXCLUDE: a change of
  state, sent unsolicited (RFC 3810), answering nothing. Reports with no query before them
  answer nothing.
- The DAD solicitations (`SRC=::`) get no answer, as they should.
EOF
}
scn_ipv6_nd() {
  local be=$1 dir=$2
  ns host; ns sw; ns rtr
  bridge sw br0
  ip -n tw-sw link set br0 type bridge mcast_snooping 1 mcast_querier 1 \
    mcast_startup_query_count 1 mcast_query_interval 300 mcast_query_response_interval 100
  veth host eth0 sw p-host; brport sw br0 p-host
  veth rtr eth0 sw p-rtr; brport sw br0 p-rtr
  # Both ports are permanent multicast router ports: the switch floods them every multicast
  # (solicitations to ff02::2 and to solicited-node groups) while its snooping and querier run.
  ip -n tw-sw link set p-host type bridge_slave mcast_router 2
  ip -n tw-sw link set p-rtr type bridge_slave mcast_router 2
  addr rtr eth0 2001:db8:70::1/64
  nsx rtr sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null
  nsx host sysctl -qw net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.router_solicitations=1 \
    net.ipv6.conf.eth0.router_solicitation_delay=0 net.ipv6.conf.eth0.accept_ra=2 >/dev/null
  local six=6
  rules_ipv6_nd trace >"$TW_TMP/host6.rules"
  README_RULES=("tw-host (traced), \`ip${six}tables-$be-restore\`:|$TW_TMP/host6.rules")
  load_rules host "$be" 6 "$TW_TMP/host6.rules"
  sleep 2
  cap_begin "$be" ipv6-nd host "$dir"
  bgrun rtr timeout 8 python3 "$HERE/lib/send-ra.py" eth0 2001:db8:70:: 6
  traffic_note "rtr: timeout 8 python3 scripts/lib/send-ra.py eth0 2001:db8:70:: 6 (answers one router solicitation)"
  sleep 0.3
  traffic host ip link set eth0 down
  traffic host ip link set eth0 up
  sleep 3
  traffic host ping -6 -c 1 -W 1 2001:db8:70::1
  sleep 1.5
  cap_end "$be" "$dir" '(SRC|DST)=(fe80:|ff02:|2001:0db8:0070:|0000:0000:0000:0000:0000:0000:0000:0000)'
  save_rules host "$be" 4 "$dir/iptables.save"
  save_rules host "$be" 6 "$dir/ip6tables.save"
  about_ipv6_nd >"$TW_TMP/about"
  write_readme "$dir" "$be" ipv6-nd "IPv6 neighbour discovery, router discovery and MLD" \
    "$TW_TMP/about" host sw rtr
}

# ------------------------------------------------------------------- mld2
about_mld2() {
  cat <<'EOF'
## What happens

MLDv2 on one link, traced on a host: only the nft backend (the record types that tell an answer
from an unsolicited report are in the ICMPv6 body, which nft monitor alone prints: the kernel log
shows the type, xtables-monitor nothing of ICMPv6). The host (`tw-host`, traced) is a port of a
switch (`tw-sw`, a Linux bridge with multicast snooping and its own querier, speaking MLDv2:
`mcast_mld_version 2`, a general query every 3 s, maximum response delay 1 s).

In the capture window the querier sends general queries to `ff02::1`, and the host answers each
with an MLDv2 report to `ff02::16` of current-state records (MODE_IS_EXCLUDE for each address it
listens to), sent within the maximum response delay. Between two queries the host gets a new
address, 2001:db8:76::5, and joins its solicited-node address: it sends, unsolicited, reports of
state-change records (CHANGE_TO_EXCLUDE), which answer no query.

Every ICMPv6 packet the host sends or receives is traced (`-p ipv6-icmp -j TRACE` in raw
PREROUTING and OUTPUT).

## What the trace shows / what to conclude

- ICMPv6 packets behind a hop-by-hop header (`ip6 nexthdr ip`), their ICMPv6 header printed
  raw (`@th,0,160 0x8200…`): type 130, the general query, maximum response code 1000 ms; type 143
  from the host, its first record of type 2 (MODE_IS_EXCLUDE): the answer to the query before it.
- The host's reports after it got the new address have records of type 4 (CHANGE_TO_EXCLUDE):
  sent on their own, answering nothing, although a query came shortly before.
EOF
}
scn_mld2() {
  local be=$1 dir=$2
  ns host; ns sw
  bridge sw br0
  ip -n "${TW_NS_PREFIX}sw" link set br0 type bridge mcast_snooping 1 mcast_querier 1 mcast_mld_version 2 \
    mcast_startup_query_count 1 mcast_query_interval 300 mcast_query_response_interval 100
  veth host eth0 sw p-host; brport sw br0 p-host
  ip -n "${TW_NS_PREFIX}sw" link set p-host type bridge_slave mcast_router 2
  addr host eth0 2001:db8:76::2/64
  local six=6
  rules_ipv6_nd trace >"$TW_TMP/host6.rules"
  README_RULES=("tw-host (traced), \`ip${six}tables-$be-restore\`:|$TW_TMP/host6.rules")
  load_rules host "$be" 6 "$TW_TMP/host6.rules"
  sleep 2
  cap_begin "$be" mld2 host "$dir"
  sleep 4
  traffic host ip -6 addr add 2001:db8:76::5/64 dev eth0 nodad
  sleep 5
  cap_end "$be" "$dir" '(SRC|DST)=(fe80:|ff02:|2001:0db8:0076:)'
  save_rules host "$be" 4 "$dir/iptables.save"
  save_rules host "$be" 6 "$dir/ip6tables.save"
  about_mld2 >"$TW_TMP/about"
  write_readme "$dir" "$be" mld2 "MLDv2: a listener query, its answers, and reports sent on their own" \
    "$TW_TMP/about" host sw
}

# ----------------------------------------------------- 14 bridge-ebtables
about_bridge_ebtables() {
  cat <<'EOF'
## What happens

A bridge host (`brh`, traced) bridges two hosts, `a` (198.18.233.1, 2001:db8:233::1) and `b`
(198.18.233.2, 2001:db8:233::2), through `br0` (ports `p-a`, `p-b`); `br0` itself has
198.18.233.254. ebtables has no TRACE target, so — as published guides do — every ebtables
chain gets a logging rule whose prefix names it: `ebtables -t nat -A PREROUTING --log-level 4
--log-ip --log-ip6 --log-arp --log-prefix "TRACE: eb:nat:PREROUTING" -j CONTINUE`, and so on for
filter INPUT/FORWARD/OUTPUT and nat OUTPUT/POSTROUTING. ebtables is `ebtables-nft` (nft lists
the watcher as `log … flags ether`, but the kernel prints ebt_log's own format:
`MAC source = … proto = 0x0800 IP SRC=…, IP tos=0x00, IP proto=1`). A bridge rule drops TCP to
port 8081: `ebtables -A FORWARD -p IPv4 --ip-proto tcp --ip-dport 8081 -j DROP`, after the
FORWARD logging rule.

br_netfilter is on for IPv4 only (`bridge-nf-call-iptables=1`, `bridge-nf-call-ip6tables=0`):
bridged IPv4 also passes the iptables chains, traced with `-j TRACE`; bridged IPv6 passes only
the bridge hooks.

In the nft run (`testdata/nft/bridge-ebtables`) the same ebtables rules are loaded, iptables-nft
traces IPv4 with `-j TRACE`, and a table of its own, `table bridge tw_trace`, sets
`meta nftrace set 1` at bridge prerouting (priority -400) for frames of 198.18.233.0/24 and
2001:db8:233::/64 and ARP, so nft monitor trace prints the bridge family's hooks and, for IPv4,
the ip family's after them.

Traffic (ARP and neighbour discovery are left in the window: nothing is pinged before):
`a` pings `b` (bridged), pings `br0`'s address (delivered to the bridge host, which answers),
pings `b` over IPv6 (bridged, bridge hooks only), opens a TCP connection to `b`'s port 8080
(bridged), and tries `b`'s port 8081 (dropped by the bridge rule: the SYN is sent twice).

## What the trace shows / what to conclude

- An ARP request from `a`: `eb:nat:PREROUTING` (IN=p-a), `eb:filter:FORWARD` (flooded to p-b),
  `eb:nat:POSTROUTING` (OUT=p-b), and, for the bridge host itself, `eb:filter:INPUT`; its reply
  the other way. Each ARP frame is a packet of its own (`ARP request 198.18.233.1 → …`).
- A bridged IPv4 frame: `eb:nat:PREROUTING` (IN=p-a), then the iptables PREROUTING lines
  (`IN=br0 PHYSIN=p-a`), `eb:filter:FORWARD` (IN=p-a OUT=p-b), iptables FORWARD
  (`PHYSOUT=p-b`), `eb:nat:POSTROUTING`, iptables POSTROUTING: one packet, in that order.
- A frame for the bridge host itself: `eb:nat:PREROUTING`, iptables PREROUTING, `eb:filter:INPUT`,
  iptables INPUT. Its reply, generated by the host: iptables OUTPUT/POSTROUTING (`OUT=br0`),
  then `eb:filter:OUTPUT`, `eb:nat:OUTPUT`, `eb:nat:POSTROUTING` with `OUT=p-a`.
- A bridged IPv6 frame: only `eb:` lines (br_netfilter is off for IPv6).
- The SYNs to port 8081: `eb:nat:PREROUTING`, iptables PREROUTING, `eb:filter:FORWARD`, and
  nothing after: the bridge rule dropped them in filter FORWARD. No reply.
- The ebtables lines carry no IP length, id or TTL: they join their frame's packet by addresses,
  protocol, ports, TOS, MACs and bridge port.
EOF
}
scn_bridge_ebtables() {
  local be=$1 dir=$2
  ns brh; ns a; ns b
  bridge brh br0
  veth a eth0 brh p-a; brport brh br0 p-a
  veth b eth0 brh p-b; brport brh br0 p-b
  addr a eth0 198.18.233.1/24; addr b eth0 198.18.233.2/24; addr brh br0 198.18.233.254/24
  addr a eth0 2001:db8:233::1/64; addr b eth0 2001:db8:233::2/64
  nsx brh sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=0 >/dev/null
  rules_bridge_ip trace >"$TW_TMP/brh.rules"
  rules_bridge_eb >"$TW_TMP/brh.eb"
  README_RULES=("${TW_NS_PREFIX}brh (traced), \`iptables-$be-restore\`:|$TW_TMP/brh.rules"
    "${TW_NS_PREFIX}brh, ebtables commands:|$TW_TMP/brh.eb")
  load_rules brh "$be" 4 "$TW_TMP/brh.rules"
  local cmd
  while read -r cmd; do
    [ -n "$cmd" ] || continue
    # shellcheck disable=SC2086
    eval "nsx brh $cmd"
  done <"$TW_TMP/brh.eb"
  if [ "$be" = nft ]; then
    rules_bridge_nftrace >"$TW_TMP/brh.nft"
    README_RULES+=("${TW_NS_PREFIX}brh, \`nft -f\` (nftrace for the bridge family):|$TW_TMP/brh.nft")
    nsx brh nft -f "$TW_TMP/brh.nft"
  fi
  bgrun b timeout 30 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'
  wait_listen b 8080
  traffic_note "b: timeout 30 socat -T3 TCP-LISTEN:8080,reuseaddr SYSTEM:'echo world'"
  sleep 0.5
  cap_begin "$be" bridge-ebtables brh "$dir"
  traffic a ping -c 1 -W 1 198.18.233.2
  traffic a ping -c 1 -W 1 198.18.233.254
  traffic a ping -6 -c 1 -W 1 2001:db8:233::2
  traffic_in a $'hello\n' timeout 5 socat -T2 - TCP:198.18.233.2:8080
  traffic a timeout 1.5 socat -T1 - TCP:198.18.233.2:8081,connect-timeout=1
  sleep 0.5
  cap_end "$be" "$dir" '(SRC|DST)=(198\.18\.233\.|2001:0db8:0233:)'
  save_rules brh "$be" 4 "$dir/iptables.save"
  nsx brh ebtables-save >"$dir/ebtables.save" 2>/dev/null || true
  if [ "$be" = nft ]; then nsx brh nft list ruleset >"$dir/ruleset.nft"; fi
  about_bridge_ebtables >"$TW_TMP/about"
  write_readme "$dir" "$be" bridge-ebtables "ebtables' log lines (bridge family) around bridged frames" \
    "$TW_TMP/about" brh a b
}

# ------------------------------------------------------- 9 cilium-leftovers
scn_cilium_leftovers() {
  local dir=$OUT/rules
  mkdir -p "$dir"
  ns node
  rules_cilium_leftovers >"$TW_TMP/cilium.rules"
  load_rules node legacy 4 "$TW_TMP/cilium.rules"
  save_rules node legacy 4 "$dir/cilium-leftovers.save"
  log "  -> $dir/cilium-leftovers.save"
}

# --------------------------------------------------------------- 10 node-pair
about_node() { # working|broken
  if [ "$1" = working ]; then
    cat <<'EOF'
## What happens

Half of the `node-pair` scenario (see `testdata/rules/README.md`). `tw-node-ok` is the
**working** node: uplink `enp3s0` 198.18.1.104/24, pod block 198.19.72.0/26, pod
`tw-pod-ok` 198.19.72.5 behind `cali7f3e9a1b2c4`, Calico + kube-proxy rules, and
`-A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE` in nat. The pod connects to the API
VIP 198.19.96.1:443 (DNAT to 198.18.1.50:6443 on `tw-master`), sends `hello\n`, gets `ok\n`.
Only the `dmesg -T` form is kept here.

## What the trace shows / what to conclude

- SYN: DNAT by `nat:KUBE-SEP-…:rule:2`, accepted via `cali-FORWARD`, MASQUERADE by
  `nat:POSTROUTING:rule:3`, leaves `OUT=enp3s0`.
- Replies from 198.18.1.50:6443 arrive `IN=enp3s0 DST=198.18.1.104` and, with the destination
  restored to the pod, leave `OUT=cali7f3e9a1b2c4`. The connection completes (data and FIN
  both ways).
EOF
  else
    cat <<'EOF'
## What happens

Half of the `node-pair` scenario (see `testdata/rules/README.md`). `tw-node-bad` is the
**broken** node: uplink `wlp59s0` 198.18.1.105/24, pod block 198.19.88.64/26, pod `tw-pod-bad`
198.19.88.69 behind `cali1a2b3c4d5e6`. Its rules differ from the working node's by the
missing nat POSTROUTING MASQUERADE rule and one extra `filter:FORWARD` DROP rule (position 2,
TCP to 198.18.1.0/24 port 10250 — not hit by this request). The same request as on the working
node: the pod connects to 198.19.96.1:443. Only the `dmesg -T` form is kept here.

## What the trace shows / what to conclude

- SYN (and its retransmission): DNAT to 198.18.1.50:6443, accepted via `cali-FORWARD`,
  `filter:FORWARD:rule:2` is **not** matched (port 443), `nat:POSTROUTING:policy:3` — no
  MASQUERADE — so it leaves `OUT=wlp59s0` with `SRC=198.19.88.69`.
- No reply: the router has no route to the pod CIDR.
- Conclusion: compared with `node-working`, the request is not masqueraded on this node.
EOF
  fi
}
scn_node_pair() {
  local rdir=$OUT/rules wdir=$OUT/dmesg/node-working bdir=$OUT/dmesg/node-broken
  mkdir -p "$rdir"; fresh_dir "$wdir"; fresh_dir "$bdir"
  topo_k8s_lan
  topo_k8s_node node-ok enp3s0 198.18.1.104 pod-ok 198.19.72.5 198.19.72.0/26 cali7f3e9a1b2c4
  topo_k8s_node node-bad wlp59s0 198.18.1.105 pod-bad 198.19.88.69 198.19.88.64/26 cali1a2b3c4d5e6
  K_UPLINK=enp3s0 K_WL1=cali7f3e9a1b2c4 K_WL2=cali0c9d8e7f6a5 K_EXTRA_DROP=0 \
    K_TRACE=1 K_TRACE_SRC=198.19.72.0/26 K_MASQ_SRC=198.19.64.0/19 K_NODE_IP=198.18.1.104 K_POD_BLOCK=198.19.72.0/26 \
    rules_k8s_node >"$TW_TMP/node-ok.rules"
  K_UPLINK=wlp59s0 K_WL1=cali1a2b3c4d5e6 K_WL2=cali5e6f7a8b9c0 K_EXTRA_DROP=1 \
    K_TRACE=1 K_TRACE_SRC=198.19.88.64/26 K_MASQ_SRC='' K_NODE_IP=198.18.1.105 K_POD_BLOCK=198.19.88.64/26 \
    rules_k8s_node >"$TW_TMP/node-bad.rules"
  load_rules node-ok legacy 4 "$TW_TMP/node-ok.rules"
  load_rules node-bad legacy 4 "$TW_TMP/node-bad.rules"
  bgrun master timeout 30 socat -T3 TCP-LISTEN:6443,reuseaddr,fork SYSTEM:'echo ok'
  bgrun master timeout 30 socat -T3 TCP-LISTEN:10250,reuseaddr,fork SYSTEM:'echo kubelet'
  wait_listen master 6443; wait_listen master 10250
  local srv="master: timeout 30 socat -T3 TCP-LISTEN:6443,reuseaddr,fork SYSTEM:'echo ok' (and the same on 10250 with 'echo kubelet')"

  # traced request on the working node
  TW_TRAFFIC=(); traffic_note "$srv"
  kmark_begin node-working
  traffic_in pod-ok $'hello\n' timeout 5 nc -N -w 2 198.19.96.1 443
  sleep 0.5; kmark_end
  kextract "$wdir" '(SRC|DST)=198\.(19\.72\.5|18\.1\.50|18\.1\.104|19\.96\.1) ' T
  save_rules node-ok legacy 4 "$wdir/iptables.save"
  README_RULES=("tw-node-ok (traced), \`iptables-legacy-restore\`:|$TW_TMP/node-ok.rules")
  about_node working >"$TW_TMP/about"
  write_readme "$wdir" legacy node-working "the working node of node-pair: pod → API VIP, masqueraded" \
    "$TW_TMP/about" pod-ok node-ok lan master router
  local wtraffic=("${TW_TRAFFIC[@]}")

  # the same request on the broken node
  TW_TRAFFIC=(); traffic_note "$srv"
  kmark_begin node-broken
  traffic pod-bad timeout 1.5 nc 198.19.96.1 443
  sleep 0.5; kmark_end
  kextract "$bdir" '(SRC|DST)=198\.(19\.88\.69|18\.1\.50|18\.1\.105|19\.96\.1) ' T
  save_rules node-bad legacy 4 "$bdir/iptables.save"
  README_RULES=("tw-node-bad (traced), \`iptables-legacy-restore\`:|$TW_TMP/node-bad.rules")
  about_node broken >"$TW_TMP/about"
  write_readme "$bdir" legacy node-broken "the broken node of node-pair: pod → API VIP, not masqueraded" \
    "$TW_TMP/about" pod-bad node-bad lan master router

  # remove the TRACE rules, then more (untraced) traffic so counters differ
  local n
  for n in node-ok node-bad; do
    while nsx "$n" iptables-legacy -t raw -S PREROUTING | grep -q -- '-j TRACE'; do
      local r; r=$(nsx "$n" iptables-legacy -t raw -S PREROUTING | grep -- '-j TRACE' | head -1 | sed 's/^-A /-D /')
      # shellcheck disable=SC2086
      nsx "$n" iptables-legacy -t raw $r
    done
    while nsx "$n" iptables-legacy -t raw -S OUTPUT | grep -q -- '-j TRACE'; do
      local r; r=$(nsx "$n" iptables-legacy -t raw -S OUTPUT | grep -- '-j TRACE' | head -1 | sed 's/^-A /-D /')
      # shellcheck disable=SC2086
      nsx "$n" iptables-legacy -t raw $r
    done
  done
  local p
  for p in pod-ok pod-bad; do
    traffic "$p" ping -c 2 -i 0.2 -W 1 198.18.1.50
    traffic_in "$p" $'GET /healthz\n' timeout 3 nc -N -w 1 198.18.1.50 10250
    traffic_in "$p" $'hello\n' timeout 3 nc -N -w 1 198.19.96.1 443
  done
  sleep 0.5
  save_rules node-ok legacy 4 "$rdir/node-working.save"
  save_rules node-bad legacy 4 "$rdir/node-broken.save"
  log "  -> $rdir/node-working.save, $rdir/node-broken.save"
}

write_rules_readme() {
  local dir=$OUT/rules
  mkdir -p "$dir"
  cat >"$dir/README.md" <<'EOF'
# Rulesets (iptables-legacy-save -c)

Produced by `scripts/capture-testdata.sh cilium-leftovers node-pair` on a real kernel: each
ruleset was loaded with `iptables-legacy-restore` into a private network namespace and saved
with `iptables-legacy-save -c`, so the text is exactly what iptables-save prints (header
comments with version/date, counters `[packets:bytes]`, canonical option order).
Addresses are from 198.18.0.0/15 (documentation/benchmark range).

## cilium-leftovers.save

A Cilium (iptables mode) + kube-proxy node after a failed Cilium upgrade (field report 002).
No traffic was passed, all counters are 0. Chain positions below are 1-based positions within
the chain (the N-th `-A CHAIN` line of that table), as `iptables -L --line-numbers` counts.

Planted defects — this list is complete; anything not listed is meant to be normal:

1. **Unreferenced leftover chains with rules** (no `-j`/`-g` to them anywhere):
   - raw `OLD_CILIUM_OUTPUT_raw` (2 rules), raw `OLD_CILIUM_PRE_raw` (1 rule)
   - mangle `OLD_CILIUM_PRE_mangle` (1 rule)
   - nat `OLD_CILIUM_POST_nat` (5 rules; rule 1 is
     `-A OLD_CILIUM_POST_nat -s 198.19.0.0/24 ! -d 198.19.0.0/24 ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE`,
     the rule Cilium failed to delete in the report), nat `OLD_CILIUM_PRE_nat` (1 rule),
     nat `OLD_CILIUM_OUTPUT_nat` (1 rule)
   - filter `OLD_CILIUM_FORWARD` (3 rules), filter `OLD_CILIUM_INPUT` (1 rule)
2. **Duplicated rule**: filter `FORWARD` rules 1 and 2 are identical:
   `-A FORWARD -m comment --comment "cilium-feeder: CILIUM_FORWARD" -j CILIUM_FORWARD`.
3. **Shadowed rule**: filter `INPUT` rule 4 is an unconditional `-A INPUT -j ACCEPT`; rule 5
   `-A INPUT -p tcp -m tcp --dport 4240 -m comment --comment cilium-health -j ACCEPT` can never
   be reached (in a trace, rule 4 would print as `filter:INPUT:policy:4`).
4. **Jump to an empty chain**: nat `OUTPUT` rule 1
   `-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT_nat" -j CILIUM_OUTPUT_nat`;
   `CILIUM_OUTPUT_nat` has no rules (its old copy `OLD_CILIUM_OUTPUT_nat` has one).
5. **TRACE rule left behind**: raw `PREROUTING` rule 2 `-A PREROUTING -s 198.19.0.0/24 -j TRACE`.
6. **LOG rule left behind**: filter `FORWARD` rule 4
   `-A FORWARD -s 198.19.0.0/24 -j LOG --log-prefix "pod-egress: "` (loaded with
   `--log-level 4`, which iptables-save omits as the default).

Normal, not defects: the empty, unreferenced `KUBE-KUBELET-CANARY` and `KUBE-PROXY-CANARY`
chains (mangle, nat, filter) and `KUBE-IPTABLES-HINT` (mangle) are created on purpose by the
kubelet / kube-proxy. The two `CILIUM_FORWARD` rules with `(nodeport)` comments match different
interfaces from the rules before them and are not duplicates.

## node-working.save / node-broken.save

Two Kubernetes workers with the same Calico (iptables dataplane) + kube-proxy (iptables mode)
ruleset template, loaded into `tw-node-ok` and `tw-node-bad`, with real traffic passed through
both (pod → API VIP 198.19.96.1:443, pod → 198.18.1.50 ping, pod → 198.18.1.50:10250), so
counters differ. The TRACE rules used for `testdata/dmesg/node-working/` and
`testdata/dmesg/node-broken/` were deleted (`iptables-legacy -t raw -D …`) before saving, so
these files contain no TRACE rules (the `iptables.save` files next to the traces do).

Node-specific values (expected noise, not a difference in meaning):

| | node-working | node-broken |
|---|---|---|
| uplink | `enp3s0` 198.18.1.104/24 | `wlp59s0` 198.18.1.105/24 |
| pod block | 198.19.72.0/26 (pod 198.19.72.5) | 198.19.88.64/26 (pod 198.19.88.69) |
| workload interfaces | `cali7f3e9a1b2c4`, `cali0c9d8e7f6a5` | `cali1a2b3c4d5e6`, `cali5e6f7a8b9c0` |
| per-workload chains | `cali-fw-cali7f3e9a1b2c4`, `cali-tw-cali7f3e9a1b2c4`, `cali-fw-cali0c9d8e7f6a5`, `cali-tw-cali0c9d8e7f6a5` | `cali-fw-cali1a2b3c4d5e6`, `cali-tw-cali1a2b3c4d5e6`, `cali-fw-cali5e6f7a8b9c0`, `cali-tw-cali5e6f7a8b9c0` |
| per-workload rule ids | `--comment "cali:…"` in those chains and in the `cali-from-wl-dispatch` / `cali-to-wl-dispatch` entries differ | |
| host firewall (`TW-HOST`) | `-d 198.18.1.104/32 -i enp3s0 … --dport 10250`, `… --dport 4789`, `-s 198.19.72.0/26 -i cali+` | the same rules with `198.18.1.105/32`, `wlp59s0`, `198.19.88.64/26` |
| counters | differ everywhere | |
| chain order | iptables-save lists user chains sorted by name, so the per-workload chains (and their rules) come in a different order | |

Everything else (kube-proxy chains and hashes `KUBE-SVC-*`/`KUBE-SEP-*`, Calico's static chains
and ids) is identical.

The planted differences in meaning — exactly two:

1. **Missing MASQUERADE** (nat `POSTROUTING`): node-working has rule 3
   `-A POSTROUTING -s 198.19.64.0/19 -o enp3s0 -j MASQUERADE`; node-broken has no such rule
   (its nat `POSTROUTING` has only the two jumps to `cali-POSTROUTING` and `KUBE-POSTROUTING`).
   Effect: pod traffic leaves node-broken with the pod source address and no reply comes back.
2. **Extra DROP** (filter `FORWARD`): node-broken has rule 2
   `-A FORWARD -d 198.18.1.0/24 -p tcp -m tcp --dport 10250 -j DROP`; node-working has no such
   rule, so its filter `FORWARD` rules 2–5 correspond to node-broken's rules 3–6.
   Effect: pods on node-broken cannot reach port 10250 (kubelet) on the LAN; its counter is
   non-zero from the test traffic.
EOF
}

# ============================================================== main ==
# run_one NAME BACKEND DIR FUNC [ARGS...] : one capture in fresh namespaces.
# xtables-monitor sometimes dies with "No buffer space available" when a burst
# of trace events arrives; a capture whose monitor died is retried (3 tries).
run_one() {
  local name=$1 be=$2 dir=$3 fn=$4 try
  shift 4
  for try in 1 2 3; do
    if [ "$try" = 1 ]; then log "$name ($be)"; else log "$name ($be), attempt $try"; fi
    TW_TRAFFIC=(); README_RULES=(); TW_MON_FAILED=0
    fresh_dir "$dir"
    "$fn" "$be" "$dir" "$@"
    tw_teardown
    [ "$TW_MON_FAILED" = 0 ] && return 0
    warn "$name ($be): a trace monitor failed (attempt $try of 3)"
  done
  warn "$name ($be): the monitors kept failing; the files of the last attempt are incomplete"
}
run_pair() { # NAME FUNC : legacy run then nft run, each in fresh namespaces
  run_one "$1" legacy "$OUT/dmesg/$1" "$2"
  run_one "$1" nft "$OUT/nft/$1" "$2"
}

for s in "${SCENARIOS[@]}"; do
  case "$s" in
    fwd-dnat-masq) run_pair "$s" scn_fwd_dnat_masq ;;
    drop-user-chain) run_pair "$s" scn_drop_user_chain ;;
    local-output) run_pair "$s" scn_local_output ;;
    ipv6) run_pair "$s" scn_ipv6 ;;
    wifi-no-reply) run_pair "$s" scn_wifi_no_reply ;;
    wifi-masquerade) run_pair "$s" scn_wifi_masquerade ;;
    asymmetric-route) run_pair "$s" scn_asymmetric_route ;;
    nat-replies) run_pair "$s" scn_nat_replies4 ;;
    nat-replies6) run_pair "$s" scn_nat_replies6 ;;
    ipv6-nd) run_pair "$s" scn_ipv6_nd ;;
    # nft only: what tells an MLD answer from an unsolicited report is printed by nft monitor alone.
    mld2) run_one "$s" nft "$OUT/nft/$s" scn_mld2 ;;
    bridge-ebtables) run_pair "$s" scn_bridge_ebtables ;;
    frag-needed)
      run_one frag-needed legacy "$OUT/dmesg/frag-needed" scn_frag client
      run_one frag-needed-router legacy "$OUT/dmesg/frag-needed-router" scn_frag router
      run_one frag-needed nft "$OUT/nft/frag-needed" scn_frag client
      run_one frag-needed-router nft "$OUT/nft/frag-needed-router" scn_frag router
      ;;
    cilium-leftovers)
      log "cilium-leftovers"
      scn_cilium_leftovers; tw_teardown; write_rules_readme ;;
    node-pair)
      log "node-pair (legacy)"
      TW_TRAFFIC=(); scn_node_pair; tw_teardown; write_rules_readme ;;
  esac
done
log "done; output in $OUT"
