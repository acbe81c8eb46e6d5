#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What a remote host can make A do, interleaved with traffic through ipsec1.

ptbflood.py NS_A NS_B warm|ROUNDS FLOWS [ptb6] [frag4] [accept]

Run from the root namespace; the sockets are made in A and B with setns().
warm: polls (bounded) until a pass over the flows costs A's ipsec1 no
bundle lookup: its masks are current. ROUNDS: ROUNDS rounds of:
B sends A one ICMPv6 Packet Too Big (ptb6) and/or one ICMPv4
"fragmentation needed" (frag4), each about a packet A sent (from a UDP
socket of A's, port 4500, as an IKE daemon has) to an address of the wire
no other round names, so that each creates a path MTU exception on A;
or (accept) B opens a TCP connection to A's port 4500, alternately over
IPv4 and IPv6, which A accepts from a listening socket with per-socket
policies (bypass, in and out, as an IKE daemon gives its sockets for IKE
over TCP, RFC 8229): each accepted socket gets copies of them, which xfrm
links into the namespace's policies; then A sends one datagram from each
of FLOWS IPv4 and FLOWS IPv6 flows into ipsec1 (172.16.1.2 and fd01::2).
Prints "sent N" (datagrams into ipsec1 during the flood) and, with
accept, "accepted N".
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flows import Flows, in_netns  # noqa: E402

A, B, ROUNDS, FLOWS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ERRORS = sys.argv[5:]
A4, A6 = "10.0.0.1", "fd00::1"
IKE_PORT = 4500


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_about(dst_port):
    # the first 8 bytes of A's datagram: from the IKE port
    return struct.pack("!HHHH", IKE_PORT, dst_port, 16, 0)


def ptb6(i):
    inner = struct.pack("!IHBB", 0x60000000, 16, socket.IPPROTO_UDP, 64)
    inner += socket.inet_pton(socket.AF_INET6, A6)
    inner += socket.inet_pton(socket.AF_INET6, f"fd00::7:{i + 1:x}")
    # type 2, code 0; the kernel fills in an ICMPv6 raw socket's checksum
    return struct.pack("!BBHI", 2, 0, 0, 1280) + inner + udp_about(9)


def frag4(i):
    inner = struct.pack("!BBHHHBBH", 0x45, 0, 36, 0, 0x4000, 64,
                        socket.IPPROTO_UDP, 0)
    inner += socket.inet_aton(A4)
    inner += socket.inet_aton(f"10.0.0.{3 + i % 250}")
    inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:]
    body = struct.pack("!HH", 0, 1200) + inner + udp_about(9)
    head = struct.pack("!BBH", 3, 4, 0)
    return struct.pack("!BBH", 3, 4, csum(head + body)) + body


XFRM_INF = (1 << 64) - 1


def bypass(family, direction):
    """struct xfrm_userpolicy_info: allow, no transform, any address"""
    sel = struct.pack("=16s16sHHHHHBBB3xiI", bytes(16), bytes(16), 0, 0, 0,
                      0, family, 0, 0, 0, 0, 0)
    lft = struct.pack("=8Q", *([XFRM_INF] * 8))
    cur = struct.pack("=4Q", 0, 0, 0, 0)
    tail = struct.pack("=IIBBBB4x", 0, 0, direction, 0, 0, 0)
    return sel + lft + cur + tail


def make_listeners():
    """A's IKE-over-TCP listeners with per-socket policies, in and out"""
    socks = []
    for family, addr, level, opt in (
            (socket.AF_INET, A4, socket.IPPROTO_IP, 17),       # IP_XFRM_POLICY
            (socket.AF_INET6, A6, socket.IPPROTO_IPV6, 35)):   # IPV6_XFRM_POLICY
        s = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for direction in (0, 1):    # XFRM_POLICY_IN, XFRM_POLICY_OUT
            s.setsockopt(level, opt, bypass(family, direction))
        s.bind((addr, IKE_PORT))
        s.listen(64)
        socks.append(s)
    return socks


def connect_b(i):
    family, addr = (socket.AF_INET, A4) if i % 2 == 0 else (socket.AF_INET6, A6)
    return in_netns(B, lambda: socket.create_connection((addr, IKE_PORT), 5))


def make_b():
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    return r6, r4


def make_ike():
    ike = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    ike.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ike.bind(("::", IKE_PORT))
    return ike


r6, r4 = in_netns(B, make_b)
ike = in_netns(A, make_ike)
flows = Flows(A, "ipsec1", 1, FLOWS)
if ROUNDS == "warm":
    sys.exit(0 if flows.warm() else "ipsec1's masks never became current")

listeners = in_netns(A, make_listeners) if "accept" in ERRORS else []
sent = accepted = 0
kept = []
for i in range(int(ROUNDS)):
    if "ptb6" in ERRORS:
        r6.sendto(ptb6(i), (A6, 0))
    if "frag4" in ERRORS:
        r4.sendto(frag4(i), (A4, 0))
    if "accept" in ERRORS:
        client = connect_b(i)
        conn, _ = listeners[i % 2].accept()
        kept += [client, conn]      # open: their policies stay linked
        accepted += 1
    flows.send()
    sent += len(flows)
print(f"sent {sent}")
if "accept" in ERRORS:
    print(f"accepted {accepted}")
