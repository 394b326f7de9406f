# shellcheck shell=bash
# Helpers for scripts/capture-testdata.sh (sourced, not executed).
#
# Everything here works only inside network namespaces named tw-*, created by
# this script.  Nothing is created in, or changed on, the root namespace except
# the sysctl net.netfilter.nf_log_all_netns (saved and restored on exit).

# ---------------------------------------------------------------- state --
# Namespace names are ${TW_NS_PREFIX}NAME; the prefix must start with tw- (several people may
# capture on one machine at once: give each run its own, e.g. TW_NS_PREFIX=tw-me-).
TW_NS_PREFIX=${TW_NS_PREFIX:-tw-}
case "$TW_NS_PREFIX" in tw-*) ;; *) echo "TW_NS_PREFIX must start with tw- (got $TW_NS_PREFIX)" >&2; exit 2 ;; esac
TW_NS=()          # namespaces created by this process (full names, tw-*)
TW_PIDS=()        # background processes started by this process
TW_SYSCTL_OLD=""  # previous value of net.netfilter.nf_log_all_netns
TW_SYSCTL_SET=0
TW_TMP=""         # private temp dir (removed on exit)

log()  { printf '[capture] %s\n' "$*" >&2; }
warn() { printf '[capture] WARNING: %s\n' "$*" >&2; }
die()  { printf '[capture] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ cleanup --
tw_kill_bg() {
  local pid
  for pid in "${TW_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${TW_PIDS[@]}"; do
    # bounded wait: at most ~2 s per process, then SIGKILL
    local i
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  TW_PIDS=()
}

# Delete every namespace this process created.  Processes still running inside
# them were started by this script (in our own namespaces); end them by pid.
tw_teardown() {
  tw_kill_bg
  local ns pid
  for ns in "${TW_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
  done
  for ns in "${TW_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || warn "could not delete netns $ns"
  done
  TW_NS=()
}

tw_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  tw_teardown
  if [ "$TW_SYSCTL_SET" = 1 ] && [ -n "$TW_SYSCTL_OLD" ]; then
    sysctl -qw net.netfilter.nf_log_all_netns="$TW_SYSCTL_OLD" >/dev/null 2>&1 ||
      warn "could not restore net.netfilter.nf_log_all_netns=$TW_SYSCTL_OLD"
  fi
  [ -n "$TW_TMP" ] && rm -rf "$TW_TMP"
  exit "$rc"
}

tw_install_traps() {
  trap tw_cleanup EXIT
  trap 'warn "command failed (line $LINENO): $BASH_COMMAND"' ERR
  trap 'warn "interrupted"; exit 130' INT
  trap 'warn "terminated"; exit 143' TERM
}

tw_enable_netns_log() {
  TW_SYSCTL_OLD=$(sysctl -n net.netfilter.nf_log_all_netns) ||
    die "sysctl net.netfilter.nf_log_all_netns not available (kernel too old?)"
  TW_SYSCTL_SET=1
  if [ "$TW_SYSCTL_OLD" != 1 ]; then
    sysctl -qw net.netfilter.nf_log_all_netns=1 >/dev/null
  fi
}

# ------------------------------------------------------------ topology --
# ns NAME : create netns tw-NAME (lo up, DAD off, no forwarding)
ns() {
  local n="${TW_NS_PREFIX}$1"
  if ip netns list | awk '{print $1}' | grep -qx -- "$n"; then
    die "netns $n already exists (left over from an earlier run?). Remove it with: ip netns del $n"
  fi
  ip netns add "$n"
  TW_NS+=("$n")
  ip -n "$n" link set lo up
  nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0 >/dev/null
  nsx "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
}

# nsx NAME CMD... : run CMD inside tw-NAME
nsx() { local n="${TW_NS_PREFIX}$1"; shift; ip netns exec "$n" "$@"; }

# deterministic locally administered MAC for (netns, ifname)
mac_for() {
  local h
  h=$(printf '%s/%s' "$1" "$2" | md5sum | cut -c1-10)
  printf '02:%s:%s:%s:%s:%s\n' "${h:0:2}" "${h:2:2}" "${h:4:2}" "${h:6:2}" "${h:8:2}"
}

# veth NS1 IF1 NS2 IF2 [MAC1] [MAC2] : veth pair created directly inside the two
# namespaces (never visible in the root namespace), both ends up.
veth() {
  local n1=$1 i1=$2 n2=$3 i2=$4
  local m1=${5:-$(mac_for "$1" "$2")} m2=${6:-$(mac_for "$3" "$4")}
  ip link add "$i1" netns "${TW_NS_PREFIX}$n1" address "$m1" type veth \
    peer name "$i2" netns "${TW_NS_PREFIX}$n2" address "$m2"
  ip -n "${TW_NS_PREFIX}$n1" link set "$i1" up
  ip -n "${TW_NS_PREFIX}$n2" link set "$i2" up
}

# bridge NS BR : a bridge inside NS
bridge() {
  ip -n "${TW_NS_PREFIX}$1" link add "$2" address "$(mac_for "$1" "$2")" type bridge
  ip -n "${TW_NS_PREFIX}$1" link set "$2" up
}
brport() { ip -n "${TW_NS_PREFIX}$1" link set "$3" master "$2"; }

addr() { # addr NS IF CIDR  (IPv6 addresses get nodad)
  if [[ $3 == *:* ]]; then ip -n "${TW_NS_PREFIX}$1" -6 addr add "$3" dev "$2" nodad
  else ip -n "${TW_NS_PREFIX}$1" addr add "$3" dev "$2"; fi
}
route() { local n=$1; shift; ip -n "${TW_NS_PREFIX}$n" route add "$@"; }
route6() { local n=$1; shift; ip -n "${TW_NS_PREFIX}$n" -6 route add "$@"; }
fwd_on() {
  nsx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
}
# static IPv6 neighbour (keeps NDP out of the trace)
neigh6() { ip -n "${TW_NS_PREFIX}$1" -6 neigh replace "$3" lladdr "$4" dev "$2" nud permanent; }

# ------------------------------------------------------------ processes --
# bgrun NS CMD... : background process inside tw-NS (always wrap CMD in timeout)
bgrun() {
  local n=$1; shift
  ip netns exec "${TW_NS_PREFIX}$n" "$@" </dev/null >/dev/null 2>&1 &
  TW_PIDS+=("$!")
}

# wait_listen NS PORT [tcp|udp] : bounded wait (5 s) until something listens
wait_listen() {
  local n=$1 port=$2 i
  for i in $(seq 1 50); do
    if nsx "$n" ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then return 0; fi
    sleep 0.1
  done
  die "nothing listens on port $port in ${TW_NS_PREFIX}$n"
}

# traffic NS CMD... : foreground traffic command, logged for the README.  Its
# exit status is ignored (a failing connection is often the point).
TW_TRAFFIC=()
traffic() {
  local n=$1; shift
  TW_TRAFFIC+=("ip netns exec ${TW_NS_PREFIX}$n $*")
  ip netns exec "${TW_NS_PREFIX}$n" "$@" </dev/null >/dev/null 2>&1 || true
}
# traffic_in NS INPUT CMD... : same, with INPUT (a string) on stdin
traffic_in() {
  local n=$1 in=$2; shift 2
  TW_TRAFFIC+=("printf '%s' '${in//$'\n'/\\n}' | ip netns exec ${TW_NS_PREFIX}$n $*")
  printf '%s' "$in" | ip netns exec "${TW_NS_PREFIX}$n" "$@" >/dev/null 2>&1 || true
}
traffic_note() { TW_TRAFFIC+=("# $*"); }

# ------------------------------------------------------------ rulesets --
# load_rules NS BACKEND FAMILY FILE : restore FILE (iptables-save syntax) into
# tw-NS with iptables-legacy-restore / iptables-nft-restore (or ip6tables-*),
# then touch every table so legacy tables exist and are traversed.
load_rules() {
  local n=$1 be=$2 fam=$3 f=$4 cmd
  case "$fam" in 4) cmd=iptables ;; 6) cmd=ip6tables ;; *) die "family $fam" ;; esac
  nsx "$n" "$cmd-$be-restore" <"$f" || die "$cmd-$be-restore failed for $f"
  local t
  for t in raw mangle nat filter; do
    nsx "$n" "$cmd-$be" -t "$t" -S >/dev/null
  done
}

# save_rules NS BACKEND FAMILY OUTFILE
save_rules() {
  local n=$1 be=$2 fam=$3 out=$4 cmd
  case "$fam" in 4) cmd=iptables ;; 6) cmd=ip6tables ;; esac
  nsx "$n" "$cmd-$be-save" -c >"$out"
}

# ------------------------------------------------------- kernel log (legacy) --
TW_MARK_TOKEN=""
TW_MARK_NAME=""
kmark_begin() {
  TW_MARK_NAME=$1
  TW_MARK_TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  echo "tracewatch-capture $TW_MARK_NAME begin $TW_MARK_TOKEN" >/dev/kmsg
  sleep 0.2
}
kmark_end() {
  sleep 0.3
  echo "tracewatch-capture $TW_MARK_NAME end $TW_MARK_TOKEN" >/dev/kmsg
}

# Read all /dev/kmsg records without blocking: every read() returns exactly one
# record ("prio,seq,usec,flags;message\n" plus " KEY=value\n" continuation
# lines); dd stops at EAGAIN once the reader caught up.
read_kmsg() {
  dd if=/dev/kmsg iflag=nonblock bs=65536 status=none 2>/dev/null || true
}

# cut_window FILE REGEX [kmsg] : print TRACE lines (and -j LOG lines whose
# prefix is tw-log-NAME:) between the begin and end marker of the current
# window that match REGEX (byte-exact; marker lines and unrelated lines dropped).  With "kmsg", continuation lines of a kept record
# are kept as well.
cut_window() {
  local f=$1 re=$2 mode=${3:-}
  TW_RE=$re awk -v b="tracewatch-capture $TW_MARK_NAME begin $TW_MARK_TOKEN" \
      -v e="tracewatch-capture $TW_MARK_NAME end $TW_MARK_TOKEN" \
      -v mode="$mode" '
    BEGIN { re = ENVIRON["TW_RE"] }
    mode == "kmsg" && /^ / { if (keep) print; next }
    { keep = 0 }
    index($0, e) { exit }
    index($0, b) { inwin = 1; next }
    inwin && (index($0, "TRACE: ") || $0 ~ /tw-log-[a-z]+: IN=/) && $0 ~ re { keep = 1; print }
  ' "$f"
}

# kextract DIR REGEX FORMS... : snapshot the kernel log in several forms and
# keep this window's TRACE lines.  FORMS: plain T r x iso kmsg
kextract() {
  local dir=$1 re=$2; shift 2
  local raw="$TW_TMP/klog" form out
  mkdir -p "$raw" "$dir"
  read_kmsg >"$raw/kmsg"
  dmesg >"$raw/plain"
  dmesg -T >"$raw/T"
  dmesg -r >"$raw/r"
  dmesg -x >"$raw/x"
  dmesg --time-format iso >"$raw/iso"
  for form in "$@"; do
    case "$form" in
      plain) out=dmesg.log ;; T) out=dmesg-T.log ;; r) out=dmesg-r.log ;;
      x) out=dmesg-x.log ;; iso) out=dmesg-iso.log ;; kmsg) out=kmsg.log ;;
    esac
    if ! grep -qF "tracewatch-capture $TW_MARK_NAME begin $TW_MARK_TOKEN" "$raw/$form"; then
      die "begin marker missing from the $form snapshot (kernel ring buffer wrapped?); capture less traffic"
    fi
    if [ "$form" = kmsg ]; then
      cut_window "$raw/$form" "$re" kmsg >"$dir/$out"
    else
      cut_window "$raw/$form" "$re" >"$dir/$out"
    fi
  done
  # consistency: every form must carry the same messages in the same order
  local ref="" cur
  for form in "$@"; do
    case "$form" in
      plain) out=dmesg.log ;; T) out=dmesg-T.log ;; r) out=dmesg-r.log ;;
      x) out=dmesg-x.log ;; iso) out=dmesg-iso.log ;; kmsg) out=kmsg.log ;;
    esac
    cur=$({ grep -v '^ ' "$dir/$out" || true; } | sed -E 's/^[^;]*;(TRACE: |tw-log-)/\1/; s/^.*\] (TRACE: |tw-log-)/\1/; s/^[0-9T:,.+-]* (TRACE: |tw-log-)/\1/' | md5sum)
    if [ -z "$ref" ]; then ref=$cur
    elif [ "$cur" != "$ref" ]; then die "kernel log forms disagree in $dir ($out)"; fi
  done
  local n
  n=$(grep -c 'TRACE: ' "$dir/${out}" || true)
  [ "$n" -gt 0 ] || die "no TRACE lines captured for $TW_MARK_NAME (is net.netfilter.nf_log_all_netns=1 honoured?)"
  log "  $n TRACE lines -> $dir"
}

# ------------------------------------------------------ netlink monitors (nft) --
TW_MON_PIDS=()
TW_MON_ERRS=()   # "stderr-file|output-dir|tool"
TW_MON_FAILED=0  # 1: a monitor lost events (ENOBUFS) -> the capture is retried
mon_start() { # mon_start NS DIR
  local n=$1 dir=$2
  mkdir -p "$dir"
  # xtables-monitor does a netlink round trip per rule event and can fall
  # behind during bursts; its socket then overruns and it exits with "No
  # buffer space available".  Run the monitors at a higher priority than the
  # traffic (mon_stop detects a lost-events exit and the capture is retried).
  ip netns exec "${TW_NS_PREFIX}$n" nice -n -10 timeout 120 stdbuf -oL xtables-monitor --trace \
    >"$dir/xtables-monitor.log" 2>"$TW_TMP/xm-$n.err" </dev/null &
  TW_PIDS+=("$!"); TW_MON_PIDS+=("$!"); TW_MON_ERRS+=("$TW_TMP/xm-$n.err|$dir|xtables-monitor")
  if [ "${TW_MON_MERGED:-0}" = 1 ]; then
    # A second xtables-monitor with stderr on stdout, as a user who runs
    # `xtables-monitor --trace 2>&1 | tee trace.log` keeps it: its own error
    # lines end up inside the trace.
    ip netns exec "${TW_NS_PREFIX}$n" nice -n -10 timeout 120 stdbuf -oL -eL xtables-monitor --trace \
      >"$dir/xtables-monitor-2to1.log" 2>&1 </dev/null &
    TW_PIDS+=("$!"); TW_MON_PIDS+=("$!")
  fi
  ip netns exec "${TW_NS_PREFIX}$n" nice -n -10 timeout 120 stdbuf -oL nft monitor trace \
    >"$dir/nft-monitor.log" 2>"$TW_TMP/nm-$n.err" </dev/null &
  TW_PIDS+=("$!"); TW_MON_PIDS+=("$!"); TW_MON_ERRS+=("$TW_TMP/nm-$n.err|$dir|nft-monitor")
}
mon_ready() { sleep 2; }
# Stop the monitors.  A monitor that died of "No buffer space available"
# (netlink receive queue overrun: events were lost) marks the capture for a
# retry.  Any other stderr output (xtables-monitor 1.8.9 aborts on rules it
# cannot print) is kept next to the log as TOOL.stderr.
mon_stop() {
  sleep 0.5
  local pid e f d t
  for pid in "${TW_MON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${TW_MON_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for e in "${TW_MON_ERRS[@]}"; do
    f=${e%%|*}; d=${e#*|}; t=${d#*|}; d=${d%%|*}
    [ -s "$f" ] || continue
    if grep -q 'No buffer space available' "$f"; then
      warn "$t lost events: $(head -c 200 "$f")"
      TW_MON_FAILED=1
    else
      warn "$t wrote to stderr (kept as $d/$t.stderr): $(head -c 300 "$f")"
      cp "$f" "$d/$t.stderr"
    fi
  done
  TW_MON_PIDS=(); TW_MON_ERRS=()
}

# ------------------------------------------------------------- README --
# topo_dump NS... : addresses, links (MACs) and routes of the given namespaces
topo_dump() {
  local n
  for n in "$@"; do
    echo "### ${TW_NS_PREFIX}$n"
    echo '```'
    ip -n "${TW_NS_PREFIX}$n" -br link show | grep -v '^lo ' | sed 's/@[^ ]*//' | awk '{printf "link  %-16s %s\n", $1, $3}'
    ip -n "${TW_NS_PREFIX}$n" -br addr show | grep -v '^lo ' | sed 's/@[^ ]*//' |
      awk '{ a=""; for (i=3;i<=NF;i++) if ($i !~ /^fe80/) a = a " " $i; if (a != "") printf "addr  %-16s%s\n", $1, a }'
    ip -n "${TW_NS_PREFIX}$n" route show | sed 's/ *$//; s/^/route4 /'
    ip -n "${TW_NS_PREFIX}$n" -6 route show 2>/dev/null | grep -v '^fe80\|^multicast\|^ff00\|^local' | sed 's/ *$//; s/^/route6 /' || true
    local fw
    fw=$(nsx "$n" sysctl -n net.ipv4.ip_forward)
    echo "ip_forward=$fw"
    echo '```'
  done
}

# file_table DIR : markdown list of files with line counts
file_table() {
  local f
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    [ "$(basename "$f")" = README.md ] && continue
    printf -- '- `%s` (%s lines)\n' "$(basename "$f")" "$(wc -l <"$f" | tr -d ' ')"
  done
}

tool_versions() {
  printf -- '- kernel: `%s`\n' "$(uname -r)"
  printf -- '- %s\n' "$(iptables-legacy --version)" "$(iptables-nft --version)" "$(nft --version)" "dmesg: $(dmesg --version)"
}
