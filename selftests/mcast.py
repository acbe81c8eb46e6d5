#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Multicast over one device, as routing daemons send their hellos.

  mcast.py send GROUP DEV PORT TEXT
      one UDP datagram of TEXT to GROUP:PORT out of DEV (hop limit 1);
      exit 0 when the kernel took it
  mcast.py recv GROUP DEV PORT READY
      join GROUP on DEV, create the file READY, wait (60 s at most) for a
      datagram that came in on DEV and print "SOURCE TEXT"; exit 1 if none
"""
import socket
import struct
import sys

SO_BINDTODEVICE = 25


def family(group):
    return socket.AF_INET6 if ":" in group else socket.AF_INET


def send(group, dev, port, text):
    fam = family(group)
    ifindex = socket.if_nametoindex(dev)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     struct.pack("4s4si", bytes(4), bytes(4), ifindex))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        s.sendto(text.encode(), (group, port))
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        s.sendto(text.encode(), (group, port, 0, ifindex))
    return 0


def recv(group, dev, port, ready):
    fam = family(group)
    ifindex = socket.if_nametoindex(dev)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev.encode())
    if fam == socket.AF_INET:
        s.bind(("0.0.0.0", port))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(group) + bytes(4) +
                     struct.pack("i", ifindex))
    else:
        s.bind(("::", port))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(fam, group) + struct.pack("i", ifindex))
    open(ready, "w").close()
    s.settimeout(60)
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        print(f"nothing to {group} on {dev} in 60 s", file=sys.stderr)
        return 1
    print(src[0].split("%")[0], data.decode(errors="replace"))
    return 0


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("send", "recv"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, group, dev, port, arg = sys.argv[1:]
    fn = send if cmd == "send" else recv
    return fn(group, dev, int(port), arg)


if __name__ == "__main__":
    sys.exit(main())
