#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ICMP errors from a remote host, interleaved with traffic through ipsec1.

ptbflood.py NS_A NS_B warm|ROUNDS FLOWS [ptb6] [frag4]

Run from the root namespace; the sockets are made in A and B with setns().
warm: polls (bounded) until a pass over the flows costs A's ipsec1 no
bundle lookup: its masks are current. ROUNDS: ROUNDS rounds of:
B sends A one ICMPv6 Packet Too Big (ptb6) and/or one ICMPv4
"fragmentation needed" (frag4), each about a packet A sent (from a UDP
socket of A's, port 4500, as an IKE daemon has) to an address of the wire
no other round names, so that each creates a path MTU exception on A;
then A sends one datagram from each of FLOWS IPv4 and FLOWS IPv6 flows
into ipsec1 (172.16.1.2 and fd01::2).
Prints "sent N" (datagrams into ipsec1 during the flood).
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

sent = 0
for i in range(int(ROUNDS)):
    if "ptb6" in ERRORS:
        r6.sendto(ptb6(i), (A6, 0))
    if "frag4" in ERRORS:
        r4.sendto(frag4(i), (A4, 0))
    flows.send()
    sent += len(flows)
print(f"sent {sent}")
