#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Many flows into one ipsec device, and its bundle lookups.

flows.py NS DEV N COUNT warm|pass

From COUNT UDP source ports (30000 on) of each family, one datagram each
to 172.16.N.2 and fdNN::2 port 9 (the peer of ipsec_end N in lib.sh), all
routed into DEV in namespace NS. Nothing answers: what counts is what DEV
encrypts and its tx_bundle_lookups.
  warm: polls (bounded) until a pass over the flows costs DEV no bundle
        lookup: its masks are current and its bundles cached (exit 1 if
        they never are)
  pass: one pass; prints the lookups it cost
Also a module: ptbflood.py makes its flows with Flows and in_netns().
Run it pinned to one CPU (taskset): the bundle cache is per CPU.
"""
import ctypes
import os
import socket
import subprocess
import sys

CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def _setns(fd, what):
    if LIBC.setns(fd, CLONE_NEWNET):
        sys.exit(f"setns {what}: {os.strerror(ctypes.get_errno())}")


def in_netns(ns, make):
    """make(), with the sockets it opens in namespace ns"""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        _setns(target, ns)
        try:
            return make()
        finally:
            _setns(home, "back")
    finally:
        os.close(target)
        os.close(home)


class Flows:
    def __init__(self, ns, dev, n, count):
        self.ns, self.dev = ns, dev
        self.socks = in_netns(ns, lambda: self._open(n, count))

    @staticmethod
    def _open(n, count):
        socks = []
        for fam, dst in ((socket.AF_INET, f"172.16.{n}.2"),
                         (socket.AF_INET6, f"fd{n:02d}::2")):
            for port in range(30000, 30000 + count):
                s = socket.socket(fam, socket.SOCK_DGRAM)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind(("", port))
                socks.append((s, dst))
        return socks

    def __len__(self):
        return len(self.socks)

    def send(self):
        for s, dst in self.socks:
            s.sendto(b"ipsecif", (dst, 9))

    def lookups(self):
        out = subprocess.run(["ip", "netns", "exec", self.ns, "ethtool", "-S",
                              self.dev], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            key, _, val = line.strip().partition(":")
            if key == "tx_bundle_lookups":
                return int(val)
        sys.exit(f"{self.dev} has no tx_bundle_lookups counter")

    def warm(self, tries=100):
        for _ in range(tries):
            n = self.lookups()
            self.send()
            if self.lookups() == n:
                return True
            self.send()
        return False


if __name__ == "__main__":
    ns, dev, n, count, mode = sys.argv[1:6]
    flows = Flows(ns, dev, int(n), int(count))
    if mode == "warm":
        sys.exit(0 if flows.warm() else f"{dev}'s masks never became current")
    before = flows.lookups()
    flows.send()
    print(flows.lookups() - before)
