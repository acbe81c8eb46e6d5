#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw rtnetlink requests for the ipsecif selftests (Python stdlib only).

Sends exactly what it is told, including malformed attributes that real
tools never send, and prints the kernel's extack message on error.

  ipsecnl.py add NAME [link IFINDEX] [if_id N] [iflink IFINDEX] [if_id_u16 N]
                    [if_id_u64 N] [link_u64 N] [link_netnsid N]
  ipsecnl.py set NAME [link IFINDEX] [if_id N] [link_name DEV]
                    [linkstate N] [tunnel N] [tunnel_changes N]
                    [last_rx N] [last_tx N]
  ipsecnl.py show NAME        -> "kind K link L if_id I"
  ipsecnl.py link_name NAME   -> the link's name the kernel keeps, or "-"
  ipsecnl.py headroom NAME    -> the device's needed headroom (IFLA_HEADROOM),
                                 or "-" from a kernel that does not report it
"""
import os
import socket
import struct
import sys

RTM_NEWLINK, RTM_GETLINK = 16, 18
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLMSG_ERROR, NLM_F_CAPPED = 2, 0x100
IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO, IFLA_LINK_NETNSID = 3, 5, 18, 37
IFLA_HEADROOM = 68
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_IPSEC_LINK, IFLA_IPSEC_IF_ID, IFLA_IPSEC_LINK_NAME = 1, 2, 3
IFLA_IPSEC_LINK_STATE, IFLA_IPSEC_TUNNEL, IFLA_IPSEC_TUNNEL_CHANGES = 5, 6, 7
IFLA_IPSEC_LAST_RX, IFLA_IPSEC_LAST_TX = 8, 9
NLA_F_NESTED = 0x8000
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11


def attr(kind, payload):
    data = struct.pack("HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def u32(kind, value):
    return attr(kind, struct.pack("I", value))


def attrs(data):
    while len(data) >= 4:
        length, kind = struct.unpack("HH", data[:4])
        if length < 4:
            break
        yield kind & ~NLA_F_NESTED, data[4:length]
        data = data[(length + 3) & ~3:]


def request(msg_type, flags, body):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    ifi = struct.pack("BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
    payload = ifi + body
    hdr = struct.pack("IHHII", 16 + len(payload), msg_type,
                      flags | NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    sock.send(hdr + payload)
    replies = []
    while True:
        data = sock.recv(65536)
        while data:
            length, kind, rflags, _, _ = struct.unpack("IHHII", data[:16])
            msg = data[16:length]
            data = data[(length + 3) & ~3:]
            if kind != NLMSG_ERROR:
                replies.append(msg)
                continue
            err = struct.unpack("i", msg[:4])[0]
            if err == 0:
                return replies
            orig_len = 16 if rflags & NLM_F_CAPPED else struct.unpack("I", msg[4:8])[0]
            text = ""
            for k, v in attrs(msg[4 + orig_len:]):
                if k == 1:
                    text = v.rstrip(b"\0").decode()
            print("Error: %s (%s)" % (text or os.strerror(-err), os.strerror(-err)),
                  file=sys.stderr)
            sys.exit(1)


def parse_opts(args):
    data, extra = b"", b""
    it = iter(args)
    for key in it:
        if key == "link_name":
            data += attr(IFLA_IPSEC_LINK_NAME, next(it).encode() + b"\0")
            continue
        value = int(next(it), 0)
        if key == "link":
            data += u32(IFLA_IPSEC_LINK, value)
        elif key == "if_id":
            data += u32(IFLA_IPSEC_IF_ID, value)
        elif key == "if_id_u16":
            data += attr(IFLA_IPSEC_IF_ID, struct.pack("H", value))
        elif key == "if_id_u64":
            data += attr(IFLA_IPSEC_IF_ID, struct.pack("Q", value))
        elif key == "link_u64":
            data += attr(IFLA_IPSEC_LINK, struct.pack("Q", value))
        elif key == "linkstate":
            data += attr(IFLA_IPSEC_LINK_STATE, struct.pack("B", value))
        elif key == "tunnel":
            data += attr(IFLA_IPSEC_TUNNEL, struct.pack("B", value))
        elif key == "tunnel_changes":
            data += u32(IFLA_IPSEC_TUNNEL_CHANGES, value)
        elif key == "last_rx":
            data += u32(IFLA_IPSEC_LAST_RX, value)
        elif key == "last_tx":
            data += u32(IFLA_IPSEC_LAST_TX, value)
        elif key == "link_netnsid":
            extra += attr(IFLA_LINK_NETNSID, struct.pack("i", value))
        elif key == "iflink":
            extra += u32(IFLA_LINK, value)
        else:
            sys.exit("unknown option " + key)
    return data, extra


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, name, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    ifname = attr(IFLA_IFNAME, name.encode() + b"\0")
    if cmd in ("add", "set"):
        data, extra = parse_opts(rest)
        info = attr(IFLA_INFO_KIND, b"ipsec\0")
        if data:
            info += attr(IFLA_INFO_DATA | NLA_F_NESTED, data)
        body = ifname + extra + attr(IFLA_LINKINFO | NLA_F_NESTED, info)
        flags = NLM_F_CREATE | NLM_F_EXCL if cmd == "add" else 0
        request(RTM_NEWLINK, flags, body)
    elif cmd == "show":
        for msg in request(RTM_GETLINK, 0, ifname):
            out = {"kind": "-", "link": "-", "if_id": "-"}
            for k, v in attrs(msg[16:]):
                if k != IFLA_LINKINFO:
                    continue
                for ik, iv in attrs(v):
                    if ik == IFLA_INFO_KIND:
                        out["kind"] = iv.rstrip(b"\0").decode()
                    elif ik == IFLA_INFO_DATA:
                        for dk, dv in attrs(iv):
                            key = {IFLA_IPSEC_LINK: "link", IFLA_IPSEC_IF_ID: "if_id"}.get(dk)
                            if key:
                                out[key] = struct.unpack("I", dv[:4])[0]
            print("kind %(kind)s link %(link)s if_id %(if_id)s" % out)
    elif cmd == "link_name":
        for msg in request(RTM_GETLINK, 0, ifname):
            found = "-"
            for k, v in attrs(msg[16:]):
                for ik, iv in attrs(v) if k == IFLA_LINKINFO else ():
                    for dk, dv in attrs(iv) if ik == IFLA_INFO_DATA else ():
                        if dk == IFLA_IPSEC_LINK_NAME:
                            found = dv.rstrip(b"\0").decode()
            print(found)
    elif cmd == "headroom":
        for msg in request(RTM_GETLINK, 0, ifname):
            found = "-"
            for k, v in attrs(msg[16:]):
                if k == IFLA_HEADROOM:
                    found = struct.unpack("H", v[:2])[0]
            print(found)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
