#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send UDP datagrams the way an IKE daemon does: from a socket that may
carry a per-socket xfrm policy (IP_XFRM_POLICY / IPV6_XFRM_POLICY).

  ikesock.py DST PORT COUNT {none|bypass|other}

bypass: an outbound "allow, no transform" policy for every address, as
charon and pluto give their IKE sockets; other: the same, but whose
selector matches only 203.0.113.0/24 or 2001:db8:99::/48 (not DST)."""
import socket
import struct
import sys

IP_XFRM_POLICY = 17
IPV6_XFRM_POLICY = 35
XFRM_POLICY_OUT = 1
XFRM_POLICY_ALLOW = 0
XFRM_INF = (1 << 64) - 1


def userpolicy(family, net=None, plen=0):
    daddr = bytes(16)
    if net:
        daddr = socket.inet_pton(family, net).ljust(16, b"\0")
    # struct xfrm_selector: daddr saddr dport dport_mask sport sport_mask
    # family prefixlen_d prefixlen_s proto (pad) ifindex user
    sel = struct.pack("=16s16sHHHHHBBB3xiI", daddr, bytes(16), 0, 0, 0, 0,
                      family, plen, 0, 0, 0, 0)
    lft = struct.pack("=8Q", *([XFRM_INF] * 8))
    cur = struct.pack("=4Q", 0, 0, 0, 0)
    # priority index dir action flags share, then padding to 8 bytes
    tail = struct.pack("=IIBBBB4x", 0, 0, XFRM_POLICY_OUT, XFRM_POLICY_ALLOW,
                       0, 0)
    return sel + lft + cur + tail


def main():
    dst, port, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if mode != "none":
        if mode == "bypass":
            pol = userpolicy(family)
        elif family == socket.AF_INET:
            pol = userpolicy(family, "203.0.113.0", 24)
        else:
            pol = userpolicy(family, "2001:db8:99::", 48)
        if family == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_XFRM_POLICY, pol)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_XFRM_POLICY, pol)
    for i in range(count):
        s.sendto(b"ike-%d" % i, (dst, port))


if __name__ == "__main__":
    main()
