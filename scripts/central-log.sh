#!/usr/bin/env bash
# central-log.sh — two nodes' kernel trace lines forwarded by rsyslog over TCP to a central
# rsyslog, as a fleet's logs are collected; the central file is what tracewatch then reads.
#
# Usage: scripts/central-log.sh OUTDIR NODE=KMSG_FILE...
#   e.g. scripts/central-log.sh /tmp/central node-a=testdata/nodes/working/node-a/kmsg.log \
#                                            node-b=testdata/nodes/working/node-b/kmsg.log
#
# Needs root, rsyslog (Debian's package; its service need not run) and iproute2.
#
# Each NODE gets a network namespace tw-rs-N (TW_NS_PREFIX=tw-x gives tw-x-N and tw-x-central, for
# runs side by side on one machine) with an rsyslogd whose host name is NODE; it reads
# the node's kernel lines (a /dev/kmsg capture, turned into the "[ seconds] message" text the
# kernel log has) from a file as facility kern with the tag "kernel:", and forwards them over TCP
# to a central rsyslogd in $P-central, which writes them in rsyslog's traditional file format
# to OUTDIR/kern.log. Each rsyslogd runs in the foreground with its own config, work directory
# and pid file, and loads no input but imfile / imtcp: none reads this machine's log.
# Addresses are from 198.18.110.0/24. A trap stops every rsyslogd and deletes every namespace.

set -Eeuo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "central-log.sh must run as root (network namespaces)" >&2; exit 2; }
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || { echo "rsyslogd not found (apt-get install rsyslog)" >&2; exit 2; }

P=${TW_NS_PREFIX:-tw-rs}
case $P in tw-*) ;; *) echo "TW_NS_PREFIX must start with tw- (got $P)" >&2; exit 2 ;; esac
OUT=$1; shift
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/tw-rsyslog.XXXXXX)
NS=()
PIDS=()
cleanup() {
  local rc=$? pid n
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

netns() {
  if ip netns list | awk '{print $1}' | grep -qx -- "$1"; then echo "netns $1 exists (left over?): ip netns del $1" >&2; exit 1; fi
  ip netns add "$1"; NS+=("$1"); ip -n "$1" link set lo up
}

netns $P-central
cat >"$WORK/central.conf" <<EOF
global(workDirectory="$WORK/central" localHostName="central")
module(load="imtcp")
input(type="imtcp" address="198.18.110.1" port="10514")
kern.* action(type="omfile" file="$OUT/kern.log" template="RSYSLOG_TraditionalFileFormat")
EOF
mkdir -p "$WORK/central"

i=0
for spec in "$@"; do
  i=$((i + 1))
  node=${spec%%=*} kmsg=${spec#*=}
  [ -r "$kmsg" ] || { echo "cannot read $kmsg" >&2; exit 2; }
  ns=$P-$i
  netns "$ns"
  ip link add "rs$i" netns $P-central type veth peer name eth0 netns "$ns"
  ip -n $P-central addr add "198.18.110.1/32" dev "rs$i" 2>/dev/null || true
  ip -n $P-central link set "rs$i" up
  ip -n $P-central route add "198.18.110.$((i + 1))/32" dev "rs$i"
  ip -n "$ns" addr add "198.18.110.$((i + 1))/32" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add 198.18.110.1/32 dev eth0
  mkdir -p "$WORK/$node"; : >"$WORK/$node/kern.txt"
  # /dev/kmsg records "prio,seq,usec,flags;message" as the kernel log's "[ seconds.micros] message".
  awk -F';' '/^[0-9]+,[0-9]+,[0-9]+,/ { split($1, h, ","); sub(/^[^;]*;/, ""); printf "[%5d.%06d] %s\n", h[3] / 1000000, h[3] % 1000000, $0 }' "$kmsg" >"$WORK/$node/lines"
  cat >"$WORK/$node.conf" <<EOF
global(workDirectory="$WORK/$node" localHostName="$node")
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" file="$WORK/$node/kern.txt" tag="kernel:" facility="kern" severity="warning" readMode="0")
kern.* action(type="omfwd" target="198.18.110.1" port="10514" protocol="tcp" template="RSYSLOG_ForwardFormat"
              queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
EOF
done
ip -n $P-central link set lo up

ip netns exec $P-central timeout 120 "$RSYSLOGD" -n -f "$WORK/central.conf" -i "$WORK/central.pid" &
PIDS+=("$!")
# The central listener first; bounded wait.
for _ in $(seq 1 50); do ip netns exec $P-central ss -Hltn 'sport = :10514' | grep -q LISTEN && break; sleep 0.1; done
ip netns exec $P-central ss -Hltn 'sport = :10514' | grep -q LISTEN || { echo "central rsyslogd does not listen" >&2; exit 1; }

i=0
expected=0
for spec in "$@"; do
  i=$((i + 1))
  node=${spec%%=*}
  ip netns exec "$P-$i" timeout 120 "$RSYSLOGD" -n -f "$WORK/$node.conf" -i "$WORK/$node.pid" &
  PIDS+=("$!")
  expected=$((expected + $(wc -l <"$WORK/$node/lines")))
done
sleep 1
# The nodes' kernel lines appear as they would: appended to the file each rsyslogd follows.
for spec in "$@"; do node=${spec%%=*}; cat "$WORK/$node/lines" >>"$WORK/$node/kern.txt"; done

# Until every line reached the central file (bounded: 60 s).
for _ in $(seq 1 600); do
  [ -f "$OUT/kern.log" ] && [ "$(wc -l <"$OUT/kern.log")" -ge "$expected" ] && break
  sleep 0.1
done
got=$( [ -f "$OUT/kern.log" ] && wc -l <"$OUT/kern.log" || echo 0)
[ "$got" -ge "$expected" ] || { echo "central log has $got of $expected lines" >&2; exit 1; }
echo "$got lines from $# nodes in $OUT/kern.log"
