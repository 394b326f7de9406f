# shellcheck shell=bash
# Ruleset generators for scripts/capture-testdata.sh (sourced).
# Every function prints a complete iptables-save / ip6tables-save text that is
# fed to iptables-{legacy,nft}-restore.  Argument "trace" adds the TRACE rules.

# Calico-style rule id ("cali:XXXXXXXXXXXXXXXX"): 16 chars of base64url, stable
# for a given seed string (real Calico hashes the chain contents).
cali_id() {
  local hex
  hex=$(printf '%s' "$1" | md5sum | cut -c1-24)
  # shellcheck disable=SC2059
  printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')" | base64 | tr '+/' '-_' | cut -c1-16
}

# kube-proxy-style endpoint chain name: KUBE-SEP-<16 chars base32(sha256)>
kube_sep() {
  printf '%s' "$1" | sha256sum | cut -c1-20 | base32 | tr -d '=' | cut -c1-16 | sed 's/^/KUBE-SEP-/'
}

# ---------------------------------------------------------------- simple --
# Scenario 1 (IPv4) and 4 (IPv6): DNAT of a service VIP + MASQUERADE + FORWARD
# with a Docker-like user chain (explicit RETURN) and a conntrack rule.
rules_fwd_dnat_masq() { # FAMILY(4|6) [trace]
  local fam=$1 tr=${2:-}
  local client server vip dnat anyc icmp
  if [ "$fam" = 4 ]; then
    client=198.18.10.2/32 server=198.18.20.2/32 vip=198.18.30.10/32
    dnat=198.18.20.2:8080 anyc=198.18.10.0/24
    icmp="-p icmp -m icmp --icmp-type 8 -j ACCEPT"
  else
    client=2001:db8:10::2/128 server=2001:db8:20::2/128 vip=2001:db8:30::10/128
    dnat='[2001:db8:20::2]:8080' anyc=2001:db8:10::/64
    icmp="-p ipv6-icmp -j ACCEPT"
  fi
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "$tr" = trace ]; then
    echo "-A PREROUTING -s $client -j TRACE"
    echo "-A PREROUTING -s $server -j TRACE"
    echo "-A OUTPUT -d $anyc -j TRACE"
  fi
  cat <<EOF
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:TW-SERVICES - [0:0]
-A PREROUTING -m comment --comment "service portals" -j TW-SERVICES
-A POSTROUTING -o eth1 -j MASQUERADE
-A TW-SERVICES -d $vip -p tcp -m comment --comment "web VIP" -m tcp --dport 80 -j DNAT --to-destination $dnat
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:TW-FORWARD - [0:0]
:TW-USER - [0:0]
-A FORWARD -j TW-USER
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j TW-FORWARD
-A TW-FORWARD -p tcp -m tcp --dport 22 -j ACCEPT
-A TW-FORWARD -d $server -p tcp -m conntrack --ctstate NEW -m tcp --dport 8080 -j ACCEPT
-A TW-FORWARD $icmp
-A TW-USER -j RETURN
COMMIT
EOF
}

# Scenario 2: forwarded traffic dropped inside a user chain.
rules_drop_user_chain() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -s 198.18.12.2/32 -j TRACE'
    echo '-A PREROUTING -s 198.18.13.2/32 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:TW-POLICY - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j TW-POLICY
-A FORWARD -i eth0 -o eth1 -j ACCEPT
-A TW-POLICY -p udp -m udp --dport 53 -j ACCEPT
-A TW-POLICY -s 198.18.12.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
-A TW-POLICY -p tcp -m tcp --dport 23 -m comment --comment "no telnet" -j DROP
-A TW-POLICY -p icmp -m icmp --icmp-type 13 -j DROP
COMMIT
EOF
}

# Scenario 3: the node's own traffic (OUTPUT path) with owner matches.
rules_local_output() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -s 198.18.40.2/32 -j TRACE'
    echo '-A OUTPUT -d 198.18.40.2/32 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -m owner --uid-owner 65534 -j MARK --set-xmark 0x1/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A OUTPUT -p tcp -m owner --uid-owner 65534 -m tcp --dport 8080 -m comment --comment "nobody may reach the app" -j ACCEPT
-A OUTPUT -m owner --uid-owner 65534 -j REJECT --reject-with icmp-port-unreachable
COMMIT
EOF
}

# Scenario 7: node with a MetalLB-like VIP on eth1, default route via eth0.
rules_asym_node() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -d 198.18.1.240/32 -j TRACE'
    echo '-A OUTPUT -s 198.18.1.240/32 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -d 198.18.1.240/32 -p tcp -m tcp --dport 443 -m comment --comment "metallb vip traefik/websecure" -j ACCEPT
COMMIT
EOF
}

# the "Vagrant management network" gateway: a stateful firewall that drops
# packets of connections it never saw start (asymmetric replies are INVALID).
rules_asym_mgmt() {
  cat <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
EOF
}

# Scenario 8: client with a stateful INPUT policy (ICMP errors are RELATED).
rules_frag_client() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -s 198.18.50.1/32 -p icmp -j TRACE'
    echo '-A PREROUTING -s 198.18.51.2/32 -j TRACE'
    echo '-A OUTPUT -d 198.18.51.2/32 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
EOF
}

rules_frag_router() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -s 198.18.50.2/32 -j TRACE'
    echo '-A PREROUTING -s 198.18.51.2/32 -j TRACE'
    echo '-A OUTPUT -p icmp -m icmp --icmp-type 3/4 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
EOF
}

# ------------------------------------------------------- Calico + kube-proxy --
# rules_k8s_node : a Calico (iptables dataplane) + kube-proxy (iptables mode)
# worker ruleset.  Parameters come from variables:
#   K_UPLINK     uplink interface (wlp59s0, enp3s0)
#   K_WL1 K_WL2  the two workload (pod) interfaces, cali + 11 hex
#   K_MASQ_SRC   if set: "-A POSTROUTING -s $K_MASQ_SRC -o $K_UPLINK -j MASQUERADE"
#   K_EXTRA_DROP if 1: "-A FORWARD -d 198.18.1.0/24 -p tcp -m tcp --dport 10250 -j DROP"
#   K_TRACE      if 1: TRACE rules appended to raw PREROUTING/OUTPUT for K_TRACE_SRC
#   K_TRACE_SRC  the pod CIDR traced (as in the field report)
#   K_NODE_IP    if set: host firewall rules (chain TW-HOST) naming the node's own address,
#   K_POD_BLOCK  its uplink and its pod block: node-specific noise for rule diffs
# Cluster: pod CIDR 198.19.64.0/19, service CIDR 198.19.96.0/20, API server
# 198.18.1.50:6443 behind service 198.19.96.1:443, kube-dns 198.19.96.10.
rules_k8s_node() {
  local wl w
  local sep_api sep_dns1 sep_dns2 sep_dnst1 sep_dnst2
  sep_api=$(kube_sep "default/kubernetes:https/tcp/198.18.1.50:6443")
  sep_dns1=$(kube_sep "kube-system/kube-dns:dns/udp/198.19.72.3:53")
  sep_dns2=$(kube_sep "kube-system/kube-dns:dns/udp/198.19.88.70:53")
  sep_dnst1=$(kube_sep "kube-system/kube-dns:dns-tcp/tcp/198.19.72.3:53")
  sep_dnst2=$(kube_sep "kube-system/kube-dns:dns-tcp/tcp/198.19.88.70:53")

  # ---- raw
  cat <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:cali-OUTPUT - [0:0]
:cali-PREROUTING - [0:0]
:cali-from-host-endpoint - [0:0]
:cali-rpf-skip - [0:0]
:cali-to-host-endpoint - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
EOF
  [ "${K_TRACE:-0}" = 1 ] && cat <<EOF
-A PREROUTING -s $K_TRACE_SRC -j TRACE
-A PREROUTING -s 198.18.1.50/32 -p tcp -m tcp --sport 6443 -j TRACE
EOF
  echo '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT'
  [ "${K_TRACE:-0}" = 1 ] && echo "-A OUTPUT -s $K_TRACE_SRC -j TRACE"
  cat <<EOF
-A cali-OUTPUT -m comment --comment "cali:njdnLwYeGqBJyMxW" -j MARK --set-xmark 0x0/0xf0000
-A cali-OUTPUT -m comment --comment "cali:rz86uTUcEZAfFsh7" -j cali-to-host-endpoint
-A cali-OUTPUT -m comment --comment "cali:pN0F5zD0b8yf9W1Z" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000
-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000
-A cali-PREROUTING -m comment --comment "cali:PWuxTAIaFCtsg5Qa" -m mark --mark 0x40000/0x40000 -j cali-rpf-skip
-A cali-PREROUTING -m comment --comment "cali:fSSbGND7dgyemWU7" -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP
-A cali-PREROUTING -m comment --comment "cali:ImU0-4Rl2WoOI9Ou" -m mark --mark 0x0/0x40000 -j cali-from-host-endpoint
-A cali-PREROUTING -m comment --comment "cali:lV4V2MPoMBf0hl9T" -m mark --mark 0x10000/0x10000 -j ACCEPT
COMMIT
EOF

  # ---- mangle
  cat <<EOF
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-IPTABLES-HINT - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:cali-POSTROUTING - [0:0]
:cali-PREROUTING - [0:0]
:cali-from-host-endpoint - [0:0]
:cali-to-host-endpoint - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
-A cali-POSTROUTING -m comment --comment "cali:NX-7roTexQ3fGRfU" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-POSTROUTING -m comment --comment "cali:nnqPh8lh2VOogSzX" -j MARK --set-xmark 0x0/0xf0000
-A cali-POSTROUTING -m comment --comment "cali:nquN8Jw8Tz72pcBW" -m conntrack --ctstate DNAT -j cali-to-host-endpoint
-A cali-POSTROUTING -m comment --comment "cali:jWrgvDQqP6-3wUEa" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-PREROUTING -m comment --comment "cali:6BJqBjBC7crtA-7-" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-PREROUTING -m comment --comment "cali:KX7AGNd6rMcDUai6" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-PREROUTING -m comment --comment "cali:wNH7KsA3ILKJBsY9" -j cali-from-host-endpoint
-A cali-PREROUTING -m comment --comment "cali:Cg96MgVuoPm7UMRo" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
COMMIT
EOF

  # ---- nat
  cat <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:$sep_api - [0:0]
:$sep_dns1 - [0:0]
:$sep_dns2 - [0:0]
:$sep_dnst1 - [0:0]
:$sep_dnst2 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
:cali-OUTPUT - [0:0]
:cali-POSTROUTING - [0:0]
:cali-PREROUTING - [0:0]
:cali-fip-dnat - [0:0]
:cali-fip-snat - [0:0]
:cali-nat-outgoing - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
EOF
  [ -n "${K_MASQ_SRC:-}" ] && echo "-A POSTROUTING -s $K_MASQ_SRC -o $K_UPLINK -j MASQUERADE"
  cat <<EOF
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A $sep_api -s 198.18.1.50/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ
-A $sep_api -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 198.18.1.50:6443
-A $sep_dns1 -s 198.19.72.3/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A $sep_dns1 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 198.19.72.3:53
-A $sep_dns2 -s 198.19.88.70/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A $sep_dns2 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 198.19.88.70:53
-A $sep_dnst1 -s 198.19.72.3/32 -m comment --comment "kube-system/kube-dns:dns-tcp" -j KUBE-MARK-MASQ
-A $sep_dnst1 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination 198.19.72.3:53
-A $sep_dnst2 -s 198.19.88.70/32 -m comment --comment "kube-system/kube-dns:dns-tcp" -j KUBE-MARK-MASQ
-A $sep_dnst2 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination 198.19.88.70:53
-A KUBE-SERVICES -d 198.19.96.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SERVICES -d 198.19.96.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-SERVICES -d 198.19.96.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-ERIFXISQEP7F7OF4 ! -s 198.19.64.0/19 -d 198.19.96.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment "kube-system/kube-dns:dns-tcp -> 198.19.72.3:53" -m statistic --mode random --probability 0.50000000000 -j $sep_dnst1
-A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment "kube-system/kube-dns:dns-tcp -> 198.19.88.70:53" -j $sep_dnst2
-A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 198.19.64.0/19 -d 198.19.96.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ
-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 198.18.1.50:6443" -j $sep_api
-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s 198.19.64.0/19 -d 198.19.96.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 198.19.72.3:53" -m statistic --mode random --probability 0.50000000000 -j $sep_dns1
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 198.19.88.70:53" -j $sep_dns2
-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat
-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat
-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing
-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat
COMMIT
EOF

  # ---- filter
  cat <<EOF
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SERVICES - [0:0]
:cali-FORWARD - [0:0]
:cali-INPUT - [0:0]
:cali-OUTPUT - [0:0]
:cali-cidr-block - [0:0]
:cali-from-hep-forward - [0:0]
:cali-from-wl-dispatch - [0:0]
:cali-fw-$K_WL1 - [0:0]
:cali-fw-$K_WL2 - [0:0]
:cali-pri-kns.default - [0:0]
:cali-pro-kns.default - [0:0]
:cali-to-hep-forward - [0:0]
:cali-to-wl-dispatch - [0:0]
:cali-tw-$K_WL1 - [0:0]
:cali-tw-$K_WL2 - [0:0]
:cali-wl-to-host - [0:0]
EOF
  [ -n "${K_NODE_IP:-}" ] && echo ':TW-HOST - [0:0]'
  cat <<EOF
-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -j KUBE-FIREWALL
EOF
  [ -n "${K_NODE_IP:-}" ] && cat <<EOF
-A INPUT -m comment --comment "host firewall" -j TW-HOST
-A TW-HOST -d $K_NODE_IP/32 -i $K_UPLINK -p tcp -m tcp --dport 10250 -m comment --comment "kubelet API" -j ACCEPT
-A TW-HOST -d $K_NODE_IP/32 -i $K_UPLINK -p udp -m udp --dport 4789 -m comment --comment "VXLAN from peers" -j ACCEPT
-A TW-HOST -s $K_POD_BLOCK -i cali+ -m comment --comment "pods on this node to the host" -j ACCEPT
EOF
  cat <<EOF
-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
EOF
  [ "${K_EXTRA_DROP:-0}" = 1 ] && echo '-A FORWARD -d 198.18.1.0/24 -p tcp -m tcp --dport 10250 -j DROP'
  cat <<EOF
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000
-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-SERVICES -d 198.19.101.20/32 -p tcp -m comment --comment "default/legacy-web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000
-A cali-FORWARD -m comment --comment "cali:A_sPAO0mcxbT9mOV" -m mark --mark 0x0/0x10000 -j cali-from-hep-forward
-A cali-FORWARD -i cali+ -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch
-A cali-FORWARD -o cali+ -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch
-A cali-FORWARD -m comment --comment "cali:12bc6HljsMKsmfr-" -j cali-to-hep-forward
-A cali-FORWARD -m comment --comment "cali:NOSxoaGx8OIstr1z" -j cali-cidr-block
-A cali-INPUT -i cali+ -m comment --comment "cali:FewJpBykm9iJ-YNH" -g cali-wl-to-host
-A cali-INPUT -m comment --comment "cali:hder3ARWznqqv8Va" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-INPUT -m comment --comment "cali:msRIDfJRWnYwzW4g" -j MARK --set-xmark 0x0/0xf0000
-A cali-OUTPUT -m comment --comment "cali:Mq1_rAdXXH3YkrzW" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-OUTPUT -o cali+ -m comment --comment "cali:69FkRTJDvD5Vu6Vl" -j RETURN
-A cali-OUTPUT -m comment --comment "cali:Fskumj4SGQtDV6GC" -j MARK --set-xmark 0x0/0xf0000
EOF
  for w in "$K_WL1" "$K_WL2"; do
    echo "-A cali-from-wl-dispatch -i $w -m comment --comment \"cali:$(cali_id "fwd-$w")\" -g cali-fw-$w"
  done
  echo '-A cali-from-wl-dispatch -m comment --comment "cali:zTj6P0TIgYvgz-md" -m comment --comment "Unknown interface" -j DROP'
  for w in "$K_WL1" "$K_WL2"; do
    cat <<EOF
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw1-$w")" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw2-$w")" -m conntrack --ctstate INVALID -j DROP
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw3-$w")" -j MARK --set-xmark 0x0/0x10000
-A cali-fw-$w -p udp -m comment --comment "cali:$(cali_id "fw4-$w")" -m comment --comment "Drop VXLAN encapped packets originating in workloads" -m multiport --dports 4789 -j DROP
-A cali-fw-$w -p ipencap -m comment --comment "cali:$(cali_id "fw5-$w")" -m comment --comment "Drop IPinIP encapped packets originating in workloads" -j DROP
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw6-$w")" -j cali-pro-kns.default
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw7-$w")" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-$w -m comment --comment "cali:$(cali_id "fw8-$w")" -m comment --comment "Drop if no profiles matched" -j DROP
EOF
  done
  cat <<'EOF'
-A cali-pri-kns.default -m comment --comment "cali:7Fnh7Pv3_98FtLW7" -j MARK --set-xmark 0x10000/0x10000
-A cali-pri-kns.default -m comment --comment "cali:ZbV6bJXWSRefjK0u" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-pro-kns.default -m comment --comment "cali:oLzzje5WExbgfib5" -j MARK --set-xmark 0x10000/0x10000
-A cali-pro-kns.default -m comment --comment "cali:4goskqvxh5xcGw3s" -m mark --mark 0x10000/0x10000 -j RETURN
EOF
  for w in "$K_WL1" "$K_WL2"; do
    echo "-A cali-to-wl-dispatch -o $w -m comment --comment \"cali:$(cali_id "twd-$w")\" -g cali-tw-$w"
  done
  echo '-A cali-to-wl-dispatch -m comment --comment "cali:7KNphB1nNHw80nIO" -m comment --comment "Unknown interface" -j DROP'
  for w in "$K_WL1" "$K_WL2"; do
    cat <<EOF
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw1-$w")" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw2-$w")" -m conntrack --ctstate INVALID -j DROP
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw3-$w")" -j MARK --set-xmark 0x0/0x10000
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw4-$w")" -j cali-pri-kns.default
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw5-$w")" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-$w -m comment --comment "cali:$(cali_id "tw6-$w")" -m comment --comment "Drop if no profiles matched" -j DROP
EOF
  done
  cat <<'EOF'
-A cali-wl-to-host -m comment --comment "cali:Ee9Sbo10IpVujdIY" -j cali-from-wl-dispatch
-A cali-wl-to-host -m comment --comment "cali:nSZbcOoG1xPONxb8" -m comment --comment "Configured DefaultEndpointToHostAction" -j ACCEPT
COMMIT
EOF
}

# ------------------------------------------------------ Cilium leftovers --
# A Cilium (iptables mode) + kube-proxy node after a failed Cilium upgrade.
# The planted defects are documented in testdata/rules/README.md (written by
# write_rules_readme in capture-testdata.sh); keep both in sync.
rules_cilium_leftovers() {
  cat <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:CILIUM_OUTPUT_raw - [0:0]
:CILIUM_PRE_raw - [0:0]
:OLD_CILIUM_OUTPUT_raw - [0:0]
:OLD_CILIUM_PRE_raw - [0:0]
-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_raw" -j CILIUM_PRE_raw
-A PREROUTING -s 198.19.0.0/24 -j TRACE
-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT_raw" -j CILIUM_OUTPUT_raw
-A CILIUM_OUTPUT_raw -o lxc+ -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" -j CT --notrack
-A CILIUM_OUTPUT_raw -o cilium_host -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" -j CT --notrack
-A CILIUM_PRE_raw -m mark --mark 0x200/0xf00 -m comment --comment "cilium: NOTRACK for proxy traffic" -j CT --notrack
-A OLD_CILIUM_OUTPUT_raw -o lxc+ -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" -j CT --notrack
-A OLD_CILIUM_OUTPUT_raw -o cilium_host -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: NOTRACK for proxy return traffic" -j CT --notrack
-A OLD_CILIUM_PRE_raw -m mark --mark 0x200/0xf00 -m comment --comment "cilium: NOTRACK for proxy traffic" -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CILIUM_POST_mangle - [0:0]
:CILIUM_PRE_mangle - [0:0]
:KUBE-IPTABLES-HINT - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:OLD_CILIUM_PRE_mangle - [0:0]
-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_mangle" -j CILIUM_PRE_mangle
-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_mangle" -j CILIUM_POST_mangle
-A CILIUM_POST_mangle -o lxc+ -p tcp -m mark --mark 0x200/0xf00 -m comment --comment "cilium: clear proxy mark" -j MARK --set-xmark 0x0/0xf00
-A CILIUM_PRE_mangle ! -o lo -m socket --transparent -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0x800/0xf00 -m comment --comment "cilium: any->pod redirect proxied traffic to host proxy" -j MARK --set-xmark 0x200/0xffffffff
-A CILIUM_PRE_mangle -p tcp -m mark --mark 0x91c90200 -m comment --comment "cilium: TPROXY to host cilium-dns-egress proxy" -j TPROXY --on-port 37321 --on-ip 127.0.0.1 --tproxy-mark 0x200/0xffffffff
-A OLD_CILIUM_PRE_mangle ! -o lo -m socket --transparent -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0x800/0xf00 -m comment --comment "cilium: any->pod redirect proxied traffic to host proxy" -j MARK --set-xmark 0x200/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CILIUM_OUTPUT_nat - [0:0]
:CILIUM_POST_nat - [0:0]
:CILIUM_PRE_nat - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SEP-IHGQTSNRIUFNFOUO - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
:OLD_CILIUM_OUTPUT_nat - [0:0]
:OLD_CILIUM_POST_nat - [0:0]
:OLD_CILIUM_PRE_nat - [0:0]
-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_nat" -j CILIUM_PRE_nat
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT_nat" -j CILIUM_OUTPUT_nat
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A CILIUM_POST_nat -s 198.19.0.0/24 ! -d 198.19.0.0/24 ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE
-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "exclude proxy return traffic from masquerade" -j ACCEPT
-A CILIUM_POST_nat ! -s 198.19.0.0/24 ! -d 198.19.0.0/24 -o cilium_host -m comment --comment "cilium host->cluster masquerade" -j SNAT --to-source 198.19.0.167
-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1 masquerade" -j SNAT --to-source 198.19.0.167
-A CILIUM_POST_nat -o cilium_host -m mark --mark 0xf00/0xf00 -m conntrack --ctstate DNAT -m comment --comment "hairpin traffic that originated from a local pod" -j SNAT --to-source 198.19.0.167
-A CILIUM_PRE_nat -d 198.19.0.167/32 -p udp -m comment --comment "cilium: node-local dns" -m udp --dport 53 -j DNAT --to-destination 198.19.0.10:53
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-IHGQTSNRIUFNFOUO -s 198.18.7.10/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ
-A KUBE-SEP-IHGQTSNRIUFNFOUO -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 198.18.7.10:6443
-A KUBE-SERVICES -d 198.19.128.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 198.19.0.0/16 -d 198.19.128.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ
-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 198.18.7.10:6443" -j KUBE-SEP-IHGQTSNRIUFNFOUO
-A OLD_CILIUM_OUTPUT_nat -d 198.19.0.167/32 -p udp -m comment --comment "cilium: node-local dns" -m udp --dport 53 -j DNAT --to-destination 198.19.0.10:53
-A OLD_CILIUM_POST_nat -s 198.19.0.0/24 ! -d 198.19.0.0/24 ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE
-A OLD_CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment "exclude proxy return traffic from masquerade" -j ACCEPT
-A OLD_CILIUM_POST_nat ! -s 198.19.0.0/24 ! -d 198.19.0.0/24 -o cilium_host -m comment --comment "cilium host->cluster masquerade" -j SNAT --to-source 198.19.0.167
-A OLD_CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "cilium host->cluster from 127.0.0.1 masquerade" -j SNAT --to-source 198.19.0.167
-A OLD_CILIUM_POST_nat -o cilium_host -m mark --mark 0xf00/0xf00 -m conntrack --ctstate DNAT -m comment --comment "hairpin traffic that originated from a local pod" -j SNAT --to-source 198.19.0.167
-A OLD_CILIUM_PRE_nat -d 198.19.0.167/32 -p udp -m comment --comment "cilium: node-local dns" -m udp --dport 53 -j DNAT --to-destination 198.19.0.10:53
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:CILIUM_FORWARD - [0:0]
:CILIUM_INPUT - [0:0]
:CILIUM_OUTPUT - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:OLD_CILIUM_FORWARD - [0:0]
:OLD_CILIUM_INPUT - [0:0]
-A INPUT -m comment --comment "cilium-feeder: CILIUM_INPUT" -j CILIUM_INPUT
-A INPUT -j KUBE-FIREWALL
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -j ACCEPT
-A INPUT -p tcp -m tcp --dport 4240 -m comment --comment "cilium-health" -j ACCEPT
-A FORWARD -m comment --comment "cilium-feeder: CILIUM_FORWARD" -j CILIUM_FORWARD
-A FORWARD -m comment --comment "cilium-feeder: CILIUM_FORWARD" -j CILIUM_FORWARD
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -s 198.19.0.0/24 -j LOG --log-prefix "pod-egress: " --log-level 4
-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT" -j CILIUM_OUTPUT
-A OUTPUT -j KUBE-FIREWALL
-A CILIUM_FORWARD -o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT
-A CILIUM_FORWARD -i cilium_host -m comment --comment "cilium: cluster->any on cilium_host forward accept (nodeport)" -j ACCEPT
-A CILIUM_FORWARD -i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept" -j ACCEPT
-A CILIUM_FORWARD -i cilium_net -m comment --comment "cilium: cluster->any on cilium_net forward accept (nodeport)" -j ACCEPT
-A CILIUM_FORWARD -o lxc+ -m comment --comment "cilium: any->cluster on lxc+ forward accept" -j ACCEPT
-A CILIUM_INPUT -m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT
-A CILIUM_OUTPUT -m mark --mark 0xa00/0xfffffeff -m comment --comment "cilium: ACCEPT for proxy return traffic" -j ACCEPT
-A CILIUM_OUTPUT -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 -m mark ! --mark 0xa00/0xe00 -m mark ! --mark 0x800/0xe00 -m mark ! --mark 0xf00/0xf00 -m comment --comment "cilium: host->any mark as from host" -j MARK --set-xmark 0xc00/0xf00
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OLD_CILIUM_FORWARD -o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT
-A OLD_CILIUM_FORWARD -i cilium_host -m comment --comment "cilium: cluster->any on cilium_host forward accept (nodeport)" -j ACCEPT
-A OLD_CILIUM_FORWARD -i lxc+ -m comment --comment "cilium: cluster->any on lxc+ forward accept" -j ACCEPT
-A OLD_CILIUM_INPUT -m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT
COMMIT
EOF
}

# ------------------------------------------------------------- nat-replies --
# Scenarios nat-replies (4) and nat-replies6 (6): a home router (tw-gw) that
# MASQUERADEs the LAN out of eth1, forwards WAN port 2222 to a LAN host (DNAT),
# DNATs a VIP for its own traffic (nat OUTPUT), marks what comes in from the
# LAN, and LOGs in the middle of the traced path (mangle FORWARD and INPUT).
# The IPv6 variant also traces every ICMPv6 packet (neighbour discovery, MLD).
rules_nat_replies() { # FAMILY(4|6) [trace]
  local fam=$1 tr=${2:-}
  local lan wan vip lannet dnat_host dnat_vip icmp
  if [ "$fam" = 4 ]; then
    lan=198.18.60.2/32 wan=198.18.61.2/32 vip=198.18.62.10/32 lannet=198.18.60.0/24
    dnat_host=198.18.60.2:8022 dnat_vip=198.18.61.2:8080
    icmp=icmp
  else
    lan=2001:db8:60::2/128 wan=2001:db8:61::2/128 vip=2001:db8:62::10/128 lannet=2001:db8:60::/64
    dnat_host='[2001:db8:60::2]:8022' dnat_vip='[2001:db8:61::2]:8080'
    icmp=ipv6-icmp
  fi
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "$tr" = trace ]; then
    echo "-A PREROUTING -s $lan -j TRACE"
    echo "-A PREROUTING -s $wan -j TRACE"
    echo "-A OUTPUT -d $wan -j TRACE"
    echo "-A OUTPUT -d $vip -j TRACE"
    if [ "$fam" = 6 ]; then
      echo "-A PREROUTING -p $icmp -j TRACE"
      echo "-A OUTPUT -p $icmp -j TRACE"
    fi
  fi
  cat <<EOF
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -s $lannet -j MARK --set-xmark 0x10/0xffffffff
-A INPUT -j LOG --log-prefix "tw-log-in: "
-A FORWARD -j LOG --log-prefix "tw-log-fwd: "
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:TW-PORTFWD - [0:0]
-A PREROUTING -i eth1 -j TW-PORTFWD
-A OUTPUT -d $vip -p tcp -m tcp --dport 80 -j DNAT --to-destination $dnat_vip
-A POSTROUTING -o eth1 -j MASQUERADE
-A TW-PORTFWD -p tcp -m tcp --dport 2222 -m comment --comment "ssh to the NAS" -j DNAT --to-destination $dnat_host
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j ACCEPT
-A FORWARD -i eth1 -o eth0 -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
EOF
}

# ------------------------------------------------------------------ ipv6-nd --
# Scenario ipv6-nd: a host that traces every ICMPv6 packet it sends and receives.
rules_ipv6_nd() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -p ipv6-icmp -j TRACE'
    echo '-A OUTPUT -p ipv6-icmp -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p ipv6-icmp -j ACCEPT
COMMIT
EOF
}

# ---------------------------------------------------------- bridge-ebtables --
# Scenario bridge-ebtables: iptables TRACE on a bridge host (br_netfilter) ...
rules_bridge_ip() { # [trace]
  echo '*raw'
  echo ':PREROUTING ACCEPT [0:0]'
  echo ':OUTPUT ACCEPT [0:0]'
  if [ "${1:-}" = trace ]; then
    echo '-A PREROUTING -s 198.18.233.0/24 -j TRACE'
    echo '-A OUTPUT -d 198.18.233.0/24 -j TRACE'
  fi
  cat <<'EOF'
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m physdev --physdev-in p-a --physdev-out p-b -j ACCEPT
COMMIT
EOF
}
# ... the ebtables commands that log each bridge chain with a "TRACE: eb:TABLE:CHAIN" prefix,
# and a bridge rule that drops TCP to port 8081 (after the FORWARD logging rule) ...
rules_bridge_eb() {
  local t c
  for t in nat:PREROUTING filter:INPUT filter:FORWARD filter:OUTPUT nat:OUTPUT nat:POSTROUTING; do
    c=${t#*:}
    printf 'ebtables -t %s -A %s --log-level 4 --log-ip --log-ip6 --log-arp --log-prefix "TRACE: eb:%s" -j CONTINUE\n' "${t%%:*}" "$c" "$t"
  done
  echo 'ebtables -t filter -A FORWARD -p IPv4 --ip-proto tcp --ip-dport 8081 -j DROP'
}
# ... and, in the nft run, nftrace for the bridge family (frames of the scenario's networks, and ARP).
rules_bridge_nftrace() {
  cat <<'EOF'
table bridge tw_trace {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		ip saddr 198.18.233.0/24 meta nftrace set 1
		ip6 saddr 2001:db8:233::/64 meta nftrace set 1
		ether type arp meta nftrace set 1
	}
}
EOF
}
