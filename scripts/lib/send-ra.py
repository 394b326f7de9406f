#!/usr/bin/env python3
"""send-ra.py IFACE PREFIX SECONDS: answer the first IPv6 router solicitation seen on IFACE
within SECONDS with one router advertisement (to ff02::1, as radvd does) that offers PREFIX/64.

Used by scripts/capture-testdata.sh (scenario ipv6-nd) inside a tw-* network namespace, where
radvd is not available. The packet is built by hand but sent by the kernel through a raw
ICMPv6 socket (the kernel fills in the checksum and the hop limit of 255 set here), so it
passes the sender's OUTPUT and POSTROUTING hooks like any other locally generated packet.
"""
import socket
import struct
import sys
import time


def main() -> int:
    iface, prefix, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    index = socket.if_nametoindex(iface)
    with open(f'/sys/class/net/{iface}/address') as f:
        mac = bytes.fromhex(f.read().strip().replace(':', ''))
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 1
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            return 1
        if data and data[0] == 133:  # router solicitation
            break
    # RFC 4861 4.2: type, code, checksum, cur hop limit, flags, router lifetime, reachable, retrans
    ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
    # prefix information (type 3, 4 × 8 bytes): /64, on-link and autonomous, lifetimes
    ra += struct.pack('!BBBBIII', 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, prefix)
    # source link-layer address (type 1, 1 × 8 bytes)
    ra += struct.pack('!BB', 1, 1) + mac
    s.sendto(ra, ('ff02::1', 0, 0, index))
    return 0


if __name__ == '__main__':
    sys.exit(main())
