#!/bin/bash
# Phase A: legacy TRACE + LOG lines in tw-fmt-a/tw-fmt-b, captured via dmesg,
# /dev/kmsg, journald (run by hand), rsyslog imklog. Everything is cleaned on exit.
set -u
W=/tmp/tw-fmt
R=$W/rawA
rm -rf "$R"; mkdir -p "$R" "$W/rsyslog/state"
RE='198\.19\.250\.|2001:db8:250:|2001:0db8:0250:'
OLD=$(sysctl -n net.netfilter.nf_log_all_netns)
echo "$OLD" > "$R/old_nf_log_all_netns"
JPID=""; RPID=""
HAD_RUN_JOURNAL=0; [ -e /run/systemd/journal ] && HAD_RUN_JOURNAL=1
cleanup() {
  set +e
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && sleep 1
  [ -n "$JPID" ] && kill "$JPID" 2>/dev/null && sleep 1
  ip netns del tw-fmt-a 2>/dev/null
  ip netns del tw-fmt-b 2>/dev/null
  sysctl -q -w net.netfilter.nf_log_all_netns="$OLD"
  echo "cleanup done (nf_log_all_netns=$(sysctl -n net.netfilter.nf_log_all_netns))"
}
trap cleanup EXIT INT TERM

# --- journald by hand (reads /dev/kmsg) ---
if [ "$HAD_RUN_JOURNAL" = 0 ]; then
  /lib/systemd/systemd-journald >"$R/journald.out" 2>&1 &
  JPID=$!
  for i in $(seq 1 20); do [ -S /run/systemd/journal/socket ] && break; sleep 0.25; done
  echo "journald pid $JPID alive: $(kill -0 $JPID 2>/dev/null && echo yes || echo no)"
fi

# --- rsyslog with own config ---
cat > "$W/rsyslog/tw-fmt.conf" <<EOF
global(workDirectory="$W/rsyslog/state")
module(load="imklog")
if \$syslogfacility-text == 'kern' then {
  action(type="omfile" file="$W/rsyslog/kern-traditional.log" template="RSYSLOG_TraditionalFileFormat")
  action(type="omfile" file="$W/rsyslog/kern-fileformat.log" template="RSYSLOG_FileFormat")
  action(type="omfile" file="$W/rsyslog/kern-proto23.log" template="RSYSLOG_SyslogProtocol23Format")
  action(type="omfile" file="$W/rsyslog/kern-default.log")
}
EOF
rm -f "$W"/rsyslog/kern-*.log
rsyslogd -v | head -1 > "$R/rsyslog.version"
rsyslogd -n -f "$W/rsyslog/tw-fmt.conf" -i "$W/rsyslog/rsyslogd.pid" >"$R/rsyslogd.out" 2>&1 &
RPID=$!
sleep 2
echo "rsyslogd pid $RPID alive: $(kill -0 $RPID 2>/dev/null && echo yes || echo no)"

# --- namespaces ---
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
B="ip netns exec tw-fmt-b"
$B iptables-legacy -t raw -A PREROUTING -p icmp -j TRACE
$B iptables-legacy -A INPUT -p icmp -j LOG --log-prefix "tw-fmt-in: "
$B ip6tables-legacy -t raw -A PREROUTING -p ipv6-icmp --icmpv6-type echo-request -j TRACE
$B ip6tables-legacy -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j LOG --log-prefix "tw-fmt-in6: "
sleep 1
ip netns exec tw-fmt-a ping -c1 -W2 198.19.250.2 > "$R/ping4.out" 2>&1
ip netns exec tw-fmt-a ping -6 -c1 -W2 2001:db8:250::2 > "$R/ping6.out" 2>&1
sleep 2
$B iptables-legacy-save -c > "$R/iptables-legacy-save.txt"
$B ip6tables-legacy-save -c > "$R/ip6tables-legacy-save.txt"

# --- dmesg variants ---
D="dmesg --color=never --nopager"
$D                         | grep -aE "$RE" > "$R/dmesg.log"
$D -T                      | grep -aE "$RE" > "$R/dmesg-T.log"
dmesg --nopager -r         | grep -aE "$RE" > "$R/dmesg-r.log"
$D -x                      | grep -aE "$RE" > "$R/dmesg-x.log"
$D --time-format iso       | grep -aE "$RE" > "$R/dmesg-time-format-iso.log"
$D -d                      | grep -aE "$RE" > "$R/dmesg-d.log"
$D -H                      | grep -aE "$RE" > "$R/dmesg-H.log"
$D -e                      | grep -aE "$RE" > "$R/dmesg-e.log"
$D -t                      | grep -aE "$RE" > "$R/dmesg-t.log"
$D -S                      | grep -aE "$RE" > "$R/dmesg-S.log"
$D -J                      > "$R/dmesg-J.full"
$D --time-format ctime     | grep -aE "$RE" > "$R/dmesg-time-format-ctime.log"
$D --time-format reltime   | grep -aE "$RE" > "$R/dmesg-time-format-reltime.log"
$D --time-format delta     | grep -aE "$RE" > "$R/dmesg-time-format-delta.log"
TERM=xterm script -qc "dmesg -H --color=never --nopager" /dev/null | grep -aE "$RE" > "$R/dmesg-H-pty.log"
TERM=xterm script -qc "dmesg -H --nopager" /dev/null | grep -aE "$RE" > "$R/dmesg-H-pty-color.log"
busybox dmesg              | grep -aE "$RE" > "$R/busybox-dmesg.log"
busybox dmesg -r           | grep -aE "$RE" > "$R/busybox-dmesg-r.log"

# --- /dev/kmsg raw records ---
python3 - "$RE" > "$R/dev-kmsg.log" <<'PY'
import os, re, sys, errno
rx = re.compile(sys.argv[1].encode())
fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
out = sys.stdout.buffer
for _ in range(200000):
    try:
        rec = os.read(fd, 8192)
    except OSError as e:
        if e.errno == errno.EAGAIN: break
        if e.errno == errno.EPIPE: continue
        raise
    if not rec: break
    if rx.search(rec): out.write(rec)
os.close(fd)
PY

# --- journald ---
if [ -n "$JPID" ]; then
  sleep 1
  for o in short short-precise short-iso short-iso-precise short-monotonic short-full short-unix cat with-unit json verbose export; do
    journalctl -k -o $o --no-pager 2>"$R/journalctl-$o.err" > "$R/journalctl-$o.full"
  done
  journalctl -k --no-pager -n 3 > "$R/journalctl-tail.txt" 2>&1
  ls -laR /run/log/journal > "$R/journal-files.txt" 2>&1
fi

# --- rsyslog ---
sleep 1
kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=""
for f in "$W"/rsyslog/kern-*.log; do
  grep -aE "$RE" "$f" > "$R/rsyslog-$(basename "$f")" || true
done
echo "phase A done"
