#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send raw frames into an ipsec device with a packet socket, as any user
with CAP_NET_RAW in the device's namespace can (an unprivileged user in its
own user+net namespace included).

  inject.py DEV bad    -> every malformed frame once; prints how many were sent
  inject.py DEV good   -> one well-formed IPv4 UDP packet
  inject.py DEV crash  -> the frame that crashed 0.1: IPv4, ESP, ihl 15, 28 bytes
  inject.py DEV esp SRC DST SPI  -> crafted ESP (SRC > DST, SPI) whose payload
                       carries the marker CRAFTED-ESP; DEV "-" sends it with a
                       raw IP socket (routed) instead of into a device
"""
import socket
import struct
import sys

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SRC6 = bytes.fromhex("fd000000000000000000000000000001")
DST6 = bytes.fromhex("fd000000000000000000000000000002")


def ip4(payload=b"x" * 8, ihl=5, tot_len=None, proto=17, version=4, frag=0,
        options=b""):
    hlen = 20 + len(options)
    if tot_len is None:
        tot_len = hlen + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot_len, 1,
                      frag, 64, proto, 0, SRC4, DST4)
    return hdr + options + payload


def ip6(payload=b"y" * 8, plen=None, nexthdr=17, version=6):
    if plen is None:
        plen = len(payload)
    hdr = struct.pack("!IHBB16s16s", version << 28, plen, nexthdr, 64, SRC6, DST6)
    return hdr + payload


def bad_frames():
    """(protocol, frame): each must be dropped before xfrm sees it."""
    return [
        (ETH_P_IP, ip4(b"\0" * 8, ihl=15, proto=50)),           # ihl past the end
        (ETH_P_IP, ip4()[:10]),                                 # truncated header
        (ETH_P_IP, b""),                                        # nothing at all
        (ETH_P_IP, ip4(ihl=4)),                                 # ihl below 5
        (ETH_P_IP, ip4(ihl=0)),
        (ETH_P_IP, ip4(tot_len=1400)),                          # longer than the packet
        (ETH_P_IP, ip4(tot_len=12)),                            # shorter than its header
        (ETH_P_IP, ip4(ihl=6, tot_len=22, options=b"\1\1\1\1")[:22]),  # header > total
        (ETH_P_IP, ip6()),                                      # IPv6 labelled IPv4
        (ETH_P_IPV6, ip4()),                                    # IPv4 labelled IPv6
        (ETH_P_IP, ip4(version=5)),                             # no such version
        (ETH_P_IPV6, ip6(plen=1000)),                           # payload past the end
        (ETH_P_IPV6, ip6()[:30]),                               # truncated header
        (ETH_P_IPV6, ip6(version=7)),
        (ETH_P_ARP, ip4()),                                     # not IP at all
    ]


def odd_frames():
    """Well-formed but unusual: sent on, encrypted; must not upset anything."""
    return [
        (ETH_P_IP, ip4(b"\0\0\1\0" + b"junk" * 6, proto=50)),   # ESP-looking junk
        (ETH_P_IP, ip4(b"z" * 16, frag=0x2000)),                # first fragment
        (ETH_P_IP, ip4(b"z" * 16, frag=0x0003)),                # last fragment
        (ETH_P_IP, ip4(b"\0\0\0\0" * 4, proto=4)),              # IP-in-IP of nothing
        (ETH_P_IPV6, ip6(b"\0" * 8, nexthdr=44)),               # IPv6 fragment header
        (ETH_P_IPV6, ip6(b"\0\0\1\0" + b"junk" * 4, nexthdr=50)),
        (ETH_P_IPV6, ip6(b"", plen=0, nexthdr=59)),             # no next header
    ]


def send(dev, frames):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sent = 0
    for proto, frame in frames:
        try:
            sock.sendto(frame, (dev, proto))
            sent += 1
        except OSError as err:      # refused before the device: not counted
            print("# not sent (%s): %s" % (err.strerror, frame.hex()[:40]),
                  file=sys.stderr)
    return sent


MARKER = b"CRAFTED-ESP!"


def crafted_esp(src, dst, spi):
    payload = struct.pack("!II", spi, 1) + MARKER * 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, 64, 50,
                      0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + payload


def main():
    dev, what = sys.argv[1], sys.argv[2]
    if what == "esp":
        frame = crafted_esp(sys.argv[3], sys.argv[4], int(sys.argv[5], 0))
        if dev != "-":
            print(send(dev, [(ETH_P_IP, frame)]))
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        sock.sendto(frame, (sys.argv[4], 0))
        print(1)
        return
    if what == "bad":
        print(send(dev, bad_frames()))
    elif what == "odd":
        print(send(dev, odd_frames()))
    elif what == "good":
        print(send(dev, [(ETH_P_IP, ip4(b"g" * 32))]))
    elif what == "crash":
        print(send(dev, [(ETH_P_IP, ip4(b"\0" * 8, ihl=15, proto=50))]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
