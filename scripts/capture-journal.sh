#!/usr/bin/env bash
# capture-journal.sh — real `dmesg -J` and journald output (json, json-pretty, export) of kernel
# TRACE and LOG lines from two hosts, and a central journal of both hosts exported as one.
#
# Usage: scripts/capture-journal.sh OUTDIR
#
# Needs root, iproute2, iptables-legacy, systemd-journald and journalctl (Debian's systemd
# package; no systemd need run as init), python3.
#
# Two network namespaces, tw-formats-a and tw-formats-b (set TW_PREFIX to name them otherwise),
# joined by a veth pair (tw-fj-a0 / tw-fj-b0, 198.18.147.0/24 and 2001:db8:147::/64). Each has a
# TRACE rule for ICMP in raw PREROUTING and OUTPUT and a LOG rule in filter INPUT (prefix
# "tw-fj-in: "); net.netfilter.nf_log_all_netns=1 sends their lines to the kernel log.
#
# Each host gets a journald of its own: systemd-journald run by hand in a private mount and UTS
# namespace (unshare), with the host name node-a or node-b, a private /run, and its journal files
# written to OUTDIR's work directory. Both read the kernel log (/dev/kmsg), which the hosts share,
# so each journal is then cut to its own host's lines (those naming its interface) when exported.
# The central journal is both hosts' journal files read together (`journalctl --file A --file B`,
# what reading a journal-remote store gives), cut the same way.
#
# Writes to OUTDIR: dmesg.log, dmesg-J.json (our records only, in dmesg's own framing), and for
# each host node-X.dmesg.log, node-X.journal-{json,json-pretty,export}, and central.export,
# central.json. The kernel log is shared with whatever else runs on the machine: only records
# naming tw-fj- interfaces are kept. A trap deletes the namespaces, stops the journalds and
# restores the sysctl.

set -Eeuo pipefail
[ $# -eq 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "capture-journal.sh must run as root (network namespaces, journald)" >&2; exit 2; }
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || { echo "systemd-journald not found (apt-get install systemd)" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/capture-common.sh
. "$HERE/lib/capture-common.sh"

OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PREFIX=${TW_PREFIX:-formats}
A="$PREFIX-a"
B="$PREFIX-b"
TW_TMP=$(mktemp -d /tmp/tw-journal.XXXXXX)
JPIDS=()

stop_journalds() {
  local pid
  # journald itself is the child of unshare (which waits for it): it is asked to stop first.
  for pid in "${JPIDS[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; done
  for pid in "${JPIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${JPIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  JPIDS=()
}
tw_install_traps
trap 'stop_journalds; tw_cleanup' EXIT
tw_enable_netns_log

# ---- two hosts --------------------------------------------------------------------------------
ns "$A"
ns "$B"
veth "$A" tw-fj-a0 "$B" tw-fj-b0
addr "$A" tw-fj-a0 198.18.147.1/24
addr "$B" tw-fj-b0 198.18.147.2/24
addr "$A" tw-fj-a0 2001:db8:147::1/64
addr "$B" tw-fj-b0 2001:db8:147::2/64
for n in "$A" "$B"; do
  for cmd in iptables-legacy ip6tables-legacy; do
    p=icmp; [ "$cmd" = ip6tables-legacy ] && p=ipv6-icmp
    nsx "$n" "$cmd" -t raw -A PREROUTING -p "$p" -j TRACE
    nsx "$n" "$cmd" -t raw -A OUTPUT -p "$p" -j TRACE
    nsx "$n" "$cmd" -t filter -A INPUT -p "$p" -j LOG --log-prefix "tw-fj-in: "
  done
done

# ---- a journald per host ----------------------------------------------------------------------
# Its own /run (sockets, the runtime journal, bound to a directory of ours) and host name.
start_journald() {
  local host=$1 dir=$TW_TMP/$1
  mkdir -p "$dir/journal"
  unshare --mount --uts --fork --kill-child=TERM sh -c '
    set -e
    hostname "$1"
    mount -t tmpfs tw-journal /run
    mkdir -p /run/systemd/journal /run/log/journal
    mount --bind "$2/journal" /run/log/journal
    # No persistent journal: what journald writes stays in the runtime directory above.
    mount -t tmpfs tw-journal-var /var/log/journal
    exec "$3"
  ' journald "$host" "$dir" "$JOURNALD" >"$dir/journald.out" 2>&1 &
  JPIDS+=("$!")
}
start_journald node-a
start_journald node-b
# bounded wait until both have written a journal file
for _ in $(seq 1 50); do
  n=$(find "$TW_TMP/node-a/journal" "$TW_TMP/node-b/journal" -name '*.journal' 2>/dev/null | wc -l)
  [ "$n" -ge 2 ] && break
  sleep 0.1
done
[ "$n" -ge 2 ] || die "journald wrote no journal (see $TW_TMP/node-*/journald.out)"
SINCE=$(date '+%Y-%m-%d %H:%M:%S')
sleep 1

# ---- traffic ----------------------------------------------------------------------------------
traffic "$A" ping -c 2 -i 0.2 -W 1 198.18.147.2
traffic "$B" ping -c 1 -W 1 198.18.147.1
traffic "$A" ping -6 -c 1 -W 1 2001:db8:147::2
sleep 1.5
# No more lines from here on (neighbour discovery goes on): the journals and dmesg then agree.
for n in "$A" "$B"; do
  for cmd in iptables-legacy ip6tables-legacy; do nsx "$n" "$cmd" -t raw -F; nsx "$n" "$cmd" -t filter -F; done
done
sleep 0.5
stop_journalds

# ---- what each tool printed, cut to our records -----------------------------------------------
dmesg --color=never --nopager | grep -a 'tw-fj-' >"$OUT/dmesg.log"
dmesg -J | python3 "$HERE/lib/cut-records.py" dmesg-json 'tw-fj-' >"$OUT/dmesg-J.json"
for host in node-a node-b; do
  own=tw-fj-${host#node-}0
  grep -a -- "$own" "$OUT/dmesg.log" >"$OUT/$host.dmesg.log" || true
  files=("$TW_TMP/$host"/journal/*/*.journal)
  for o in json json-pretty export; do
    journalctl --file "${files[0]}" -k -o "$o" --no-pager --since "$SINCE" |
      python3 "$HERE/lib/cut-records.py" "journal-$o" "$own" >"$OUT/$host.journal-$o"
  done
done
# The central journal: both hosts' files read together; each host's records of its own lines.
a=("$TW_TMP"/node-a/journal/*/*.journal)
b=("$TW_TMP"/node-b/journal/*/*.journal)
for o in export json; do
  journalctl --file "${a[0]}" --file "${b[0]}" -k -o "$o" --no-pager --since "$SINCE" |
    python3 "$HERE/lib/cut-records.py" "journal-$o" 'node-a=tw-fj-a0' 'node-b=tw-fj-b0' >"$OUT/central.$o"
done
log "wrote $(ls "$OUT" | wc -l) files to $OUT"
