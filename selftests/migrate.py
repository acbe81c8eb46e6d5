#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""XFRM_MSG_MIGRATE, as an IKE daemon sends it for MOBIKE (stdlib only).

migrate.py IF_ID OLD_SRC OLD_DST NEW_SRC NEW_DST REQID [natt]
migrate.py state SPI REQID OLD_DST NEW_SRC NEW_DST [natt]

Moves the tunnel-mode ESP SAs from OLD_SRC to OLD_DST (reqid REQID, if_id
IF_ID) to NEW_SRC and NEW_DST, and the templates of the outbound policies
0.0.0.0/0 and ::/0 of IF_ID with them; natt: the SAs get ESP-in-UDP
encapsulation (ports 4500). Run in the namespace (ip netns exec). Prints
the kernel's error and exits 1 if it refuses; exit 4 if the kernel has no
XFRM_MSG_MIGRATE (CONFIG_XFRM_MIGRATE).

state: XFRM_MSG_MIGRATE_STATE (Linux 7.2), which moves the one ESP SA
of SPI to OLD_DST to NEW_SRC and NEW_DST, its reqid REQID, with
ESP-in-UDP (natt) or without, and tells no key manager (the daemon moves
the policies' templates itself); exit 4 if the kernel has no such
message.
"""
import errno
import os
import socket
import struct
import sys

NETLINK_XFRM = 6
XFRM_MSG_MIGRATE = 0x21
XFRM_MSG_MIGRATE_STATE = 0x29
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
XFRMA_ENCAP, XFRMA_MIGRATE, XFRMA_IF_ID = 4, 17, 31
XFRM_POLICY_OUT, XFRM_POLICY_TYPE_MAIN = 1, 0
XFRM_MODE_TUNNEL, UDP_ENCAP_ESPINUDP = 1, 2
IPSEC_ULPROTO_ANY = 255  # the policy is found by its addresses and prefixes


def attr(kind, payload):
    data = struct.pack("HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def xaddr(addr):
    """xfrm_address_t: 16 bytes"""
    return socket.inet_pton(family(addr), addr).ljust(16, b"\0")


def selector(fam):
    """struct xfrm_selector of 0.0.0.0/0 or ::/0, any protocol: 56 bytes"""
    return (xaddr("::") * 2 + struct.pack("HHHH", 0, 0, 0, 0) +
            struct.pack("HBBBxxx", fam, 0, 0, IPSEC_ULPROTO_ANY) +
            struct.pack("iI", 0, 0))


def user_migrate(old_src, old_dst, new_src, new_dst, reqid):
    """struct xfrm_user_migrate: 76 bytes"""
    return (xaddr(old_dst) + xaddr(old_src) + xaddr(new_dst) + xaddr(new_src) +
            struct.pack("BBHIHH", socket.IPPROTO_ESP, XFRM_MODE_TUNNEL, 0,
                        reqid, family(old_src), family(new_src)))


def encap_tmpl():
    """struct xfrm_encap_tmpl: ESP in UDP, from 4500 to 4500"""
    return (struct.pack("=H", UDP_ENCAP_ESPINUDP) + struct.pack("!HH", 4500, 4500) +
            b"\0\0" + xaddr("::"))


def migrate(sock, fam, if_id, mig, natt):
    body = selector(fam) + struct.pack("IBxxx", 0, XFRM_POLICY_OUT)
    body += attr(XFRMA_MIGRATE, mig) + attr(XFRMA_IF_ID, struct.pack("I", if_id))
    if natt:
        body += attr(XFRMA_ENCAP, encap_tmpl())
    hdr = struct.pack("IHHII", 16 + len(body), XFRM_MSG_MIGRATE,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    sock.send(hdr + body)
    data = sock.recv(65536)
    kind = struct.unpack("H", data[4:6])[0]
    if kind != NLMSG_ERROR:
        sys.exit(f"unexpected reply {kind}")
    return -struct.unpack("i", data[16:20])[0]


def user_migrate_state(spi, reqid, old_dst, new_src, new_dst):
    """struct xfrm_user_migrate_state: 132 bytes; the selector is kept"""
    usersa_id = xaddr(old_dst) + struct.pack("!I", spi) + \
        struct.pack("HBx", family(old_dst), socket.IPPROTO_ESP)
    return (usersa_id + xaddr(new_dst) + xaddr(new_src) +
            struct.pack("II", 0, 0) + bytes(56) +
            struct.pack("IIHH", reqid, 0, family(new_src), 0))


def migrate_state(sock, spi, reqid, old_dst, new_src, new_dst, natt):
    body = user_migrate_state(spi, reqid, old_dst, new_src, new_dst)
    # XFRMA_ENCAP of type 0 removes the encapsulation; none keeps it
    tmpl = encap_tmpl() if natt else b"\0" * len(encap_tmpl())
    body += attr(XFRMA_ENCAP, tmpl)
    hdr = struct.pack("IHHII", 16 + len(body), XFRM_MSG_MIGRATE_STATE,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    sock.send(hdr + body)
    data = sock.recv(65536)
    err, why = -struct.unpack("i", data[16:20])[0], ""
    off = 36    # the acknowledgement's TLVs: NETLINK_CAP_ACK, no echo
    while off + 4 <= len(data):
        alen, kind = struct.unpack("HH", data[off:off + 4])
        if alen < 4:
            break
        if kind == 1:   # NLMSGERR_ATTR_MSG
            why = data[off + 4:off + alen].rstrip(b"\0").decode()
        off += (alen + 3) & ~3
    return err, why


def main_state():
    spi, reqid, old_dst, new_src, new_dst = sys.argv[2:7]
    natt = sys.argv[7:] == ["natt"]
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
    sock.setsockopt(270, 10, 1)     # SOL_NETLINK, NETLINK_CAP_ACK
    sock.setsockopt(270, 11, 1)     # NETLINK_EXT_ACK
    err, why = migrate_state(sock, int(spi, 0), int(reqid, 0), old_dst,
                             new_src, new_dst, natt)
    # A kernel without the message refuses its type, saying nothing more.
    if err in (errno.EINVAL, errno.ENOPROTOOPT, errno.EOPNOTSUPP) and not why:
        print(f"the kernel has no XFRM_MSG_MIGRATE_STATE ({errno.errorcode[err]})")
        sys.exit(4)
    if err:
        print(f"XFRM_MSG_MIGRATE_STATE: {errno.errorcode.get(err, err)}: "
              f"{os.strerror(err)}{': ' + why if why else ''}")
        sys.exit(1)


def main():
    if sys.argv[1] == "state":
        main_state()
        return
    if_id, old_src, old_dst, new_src, new_dst, reqid = sys.argv[1:7]
    natt = sys.argv[7:] == ["natt"]
    mig = user_migrate(old_src, old_dst, new_src, new_dst, int(reqid, 0))
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
    for fam in (socket.AF_INET, socket.AF_INET6):
        err = migrate(sock, fam, int(if_id), mig, natt)
        if err == errno.ENOPROTOOPT or err == errno.EOPNOTSUPP:
            print("the kernel has no XFRM_MSG_MIGRATE")
            sys.exit(4)
        if err:
            print(f"XFRM_MSG_MIGRATE of the {'IPv6' if fam == socket.AF_INET6 else 'IPv4'}"
                  f" policy: {errno.errorcode.get(err, err)}: {os.strerror(err)}")
            sys.exit(1)


if __name__ == "__main__":
    main()
