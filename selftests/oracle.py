#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The differential test of oracle.sh: ipsecif's bundle cache against
xfrm_interface, which looks a bundle up afresh for every packet.

  oracle.py gen SEED DIR FLOWS CHURN
      A random configuration of if_id 1 (peers, outbound policies, SAs),
      churn mutations and flows, all from SEED: DIR/plan.json, and the
      ip -batch files DIR/config.batch, DIR/config2.batch (the second SAs
      of templates, added a second later) and DIR/churn-K.batch that are
      applied to both namespaces alike.
  oracle.py run DIR DEV OUT
      In a namespace: the plan's steps (mutation, then passes over flows,
      each pass in its own order), every flow injected into DEV with a
      packet socket; for each, which SA carried it (the SPI of the ESP
      packet that left through dummy0 with the flow's tag), "none" (the
      device dropped it), "loop" (xfrm_interface's local routing loop, its
      collisions counter) or "lost". With DEV an ipsec device, between the
      first and second pass of each step, waits until the device's mask is
      current (probes, see mask_probe()). One line per send in OUT.
  oracle.py compare DIR NX.out NI.out
      Flow by flow: lines "eq|DESC|EXPECTED|ACTUAL", "ge|DESC|MIN|ACTUAL"
      and "info|TEXT" for oracle.sh to turn into TAP.
"""

import ipaddress
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

import random

W = {4: 32, 6: 128}
LOCAL = {4: "10.0.0.1", 6: "fd00::1"}
PEERS = {4: ["10.0.0.%d" % i for i in range(2, 6)],
         6: ["fd00::%d" % i for i in range(2, 6)]}
# Null encryption: the inner packet is readable in the ESP payload.
ALG = 'enc "ecb(cipher_null)" "" auth-trunc "hmac(sha1)" 0x%s 96' % ("5a" * 20)
ICV = 12
PORTS = [53, 80, 443, 1000, 4500, 5001]
ICMP_TYPES = {4: [8, 0, 13], 6: [128, 129]}
PROTO_NUM = {"udp": 17, "tcp": 6, "icmp": 1, "ipv6-icmp": 58}
MARKS = [0, 0, 0, 1, 2, 3]
POL_MARKS = [(1, 1), (0, 1), (2, 3), (1, 3), (3, 3)]
PRIOS = [0, 10, 20, 30, 50, 100, 100, 200]


def fam_of(addr):
    return 6 if ":" in addr else 4


def net(addr, plen):
    return str(ipaddress.ip_network("%s/%d" % (addr, plen), strict=False))


# --- the plan -------------------------------------------------------------

class Gen:
    def __init__(self, seed, nflows, nchurn):
        self.r = random.Random(seed)
        self.nflows, self.nchurn = nflows, nchurn
        self.spi = 0x1000
        self.pols = []		# in insertion order, as dicts
        self.sas = []
        self.pools = {f: self.pool(f) for f in (4, 6)}
        self.tpeer = {}
        self.late = []		# SAs added a second later: config2.batch

    def pool(self, f):
        """Clusters of addresses a few bit flips apart, in 172.16.0.0/12
        and fd01::/16 (away from the underlay), so that prefixes of every
        length split them differently."""
        r, out = self.r, []
        base_net, free = ((int(ipaddress.ip_address("172.16.0.0")), 20) if f == 4
                          else (int(ipaddress.ip_address("fd01::")), 112))
        for _ in range(3):
            base = base_net | r.getrandbits(free)
            out.append(base)
            for _ in range(3):
                out.append(base ^ (1 << r.randrange(free)))
            out.append(base ^ r.getrandbits(r.randrange(1, free)))
        cls = ipaddress.IPv4Address if f == 4 else ipaddress.IPv6Address
        return sorted({str(cls(a)) for a in out if a & 0xff})

    def setup(self):
        r = self.r
        peers = [r.choice(PEERS[4]), r.choice(PEERS[6])]
        rest = [p for f in (4, 6) for p in PEERS[f] if p not in peers]
        peers += r.sample(rest, r.randint(0, 2))
        self.peers = peers
        self.tmpls = []
        for i, p in enumerate(peers):
            for j in range(r.randint(1, 2)):
                self.tmpls.append((p, 0x10 * (i + 1) + j))
        # Per inner family: transport mode or not, and one dimension of the
        # flow no selector reads in full (the mask's slack, for the probe).
        self.transport = {f: r.random() < 0.35 for f in (4, 6)}
        self.slack, self.cap = {}, {}
        for f in (4, 6):
            s = "ports" if self.transport[f] else r.choice(["src", "dst", "ports"])
            self.slack[f] = s
            self.cap[f] = {"src": W[f], "dst": W[f]}
            if s in ("src", "dst"):
                self.cap[f][s] = r.randint(W[f] // 4, W[f] - 1)
        cmds = []
        for t in self.tmpls:
            n = r.choice([0, 1, 1, 1, 1, 1, 2, 2, 2, 2]) if len(self.tmpls) > 1 else 1
            for j in range(n):
                # The newer of two SAs wins a tie, by its time of addition
                # in seconds: the second goes in later (oracle.sh).
                (self.late if j else cmds).append(self.sa_add(t, r.random() < 0.25))
        for f in (4, 6):
            for _ in range(r.randint(5, 12)):
                c = self.pol_add(f)
                if c:
                    cmds.append(c)
            if r.random() < 0.8:	# a wide one, last (or tied)
                sel = {"fam": f, "proto": None,
                       "src": net(r.choice(self.pools[f]), r.choice([0, 0, 4, 8])),
                       "dst": net(r.choice(self.pools[f]), r.choice([0, 0, 4, 8]))}
                c = self.pol_add(f, sel, prio=r.choice([200, 500, 1000]))
                if c:
                    cmds.append(c)
            if self.transport[f]:
                cmds += self.transport_pair(f)
        return cmds

    # SAs ---------------------------------------------------------------
    def sel_str(self, s):
        out = "src %s dst %s" % (s["src"], s["dst"])
        if s["proto"]:
            out += " proto %s" % s["proto"]
            if s.get("type") is not None:
                out += " type %d code %d" % (s["type"], s["code"])
            if s.get("sport") is not None:
                out += " sport %d" % s["sport"]
            if s.get("dport") is not None:
                out += " dport %d" % s["dport"]
        return out

    def rand_sel(self, f, ports_ok=True):
        r = self.r
        s = {"fam": f, "proto": None}
        for side in ("src", "dst"):
            cap = self.cap[f][side]
            # mostly where the pool's addresses differ (past /12, /16)
            low = min(cap, 12 if f == 4 else 16)
            plen = r.choice([r.randint(0, cap), r.randint(low, cap),
                             r.randint(low, cap), r.randint(max(0, cap - 8), cap)])
            s[side] = net(r.choice(self.pools[f]), plen)
        if r.random() < 0.4:
            p = r.choice(["udp", "tcp", "udp", "icmp" if f == 4 else "ipv6-icmp"])
            s["proto"] = p
            if ports_ok and self.slack[f] != "ports" and r.random() < 0.6:
                if p in ("udp", "tcp"):
                    for k in r.choice([["dport"], ["sport"], ["sport", "dport"]]):
                        s[k] = r.choice(PORTS)
                else:
                    s["type"] = r.choice(ICMP_TYPES[f])
                    s["code"] = 0
        return s

    def sa_add(self, t, with_sel, mode="tunnel", src=None):
        peer, reqid = t
        f = fam_of(peer)
        self.spi += 1
        sa = {"spi": self.spi, "src": src or LOCAL[f], "dst": peer,
              "reqid": reqid, "mode": mode, "sel": None}
        cmd = ("xfrm state add src %s dst %s proto esp spi 0x%x reqid %d mode %s %s if_id 1"
               % (sa["src"], peer, sa["spi"], reqid, mode, ALG))
        if mode == "tunnel":
            cmd += " flag af-unspec"
            if with_sel:
                sa["sel"] = self.rand_sel(self.r.choice([4, 6]))
                cmd += " sel " + self.sel_str(sa["sel"])
        self.sas.append(sa)
        return cmd

    def sa_del(self, sa):
        self.sas.remove(sa)
        return "xfrm state delete src %s dst %s proto esp spi 0x%x" % (
            sa["src"], sa["dst"], sa["spi"])

    # policies -------------------------------------------------------------
    def pol_id(self, p):
        return (self.sel_str(p["sel"]), p["mark"])

    def pol_cmd(self, verb, p):
        c = "xfrm policy %s dir out %s" % (verb, self.sel_str(p["sel"]))
        if p["mark"]:
            c += " mark %d mask %d" % tuple(p["mark"])
        c += " if_id 1"
        if verb == "delete":
            return c
        peer, reqid = p["tmpl"]
        return c + " priority %d tmpl src %s dst %s proto esp reqid %d mode %s" % (
            p["prio"], LOCAL[fam_of(peer)], peer, reqid, p["mode"])

    def pol_add(self, f, sel=None, tmpl=None, mode="tunnel", prio=None):
        r = self.r
        p = {"sel": sel or self.rand_sel(f),
             "mark": list(r.choice(POL_MARKS)) if r.random() < 0.25 else None,
             "prio": r.choice(PRIOS) if prio is None else prio,
             "tmpl": tmpl or r.choice(self.tmpls),
             "mode": mode}
        if any(self.pol_id(q) == self.pol_id(p) for q in self.pols):
            return None	# xfrm refuses a second policy of the same selector
        self.pols.append(p)
        return self.pol_cmd("add", p)

    def transport_pair(self, f):
        """A transport-mode SA from the underlay address to a peer of the
        family, and a policy for flows between those two addresses."""
        peers = [p for p in self.peers if fam_of(p) == f]
        peer = self.r.choice(peers)
        reqid = 0x80 + f
        cmds = [self.sa_add((peer, reqid), False, "transport")]
        sel = {"fam": f, "src": net(LOCAL[f], W[f]), "dst": net(peer, W[f]),
               "proto": self.r.choice([None, "udp"])}
        cmds.append(self.pol_add(f, sel, (peer, reqid), "transport",
                                 self.r.choice([0, 10])))
        self.tpeer[f] = peer
        return [c for c in cmds if c]

    def mutate(self):
        r = self.r
        tunnel_sas = [s for s in self.sas if s["mode"] == "tunnel"]
        tunnel_pols = [p for p in self.pols if p["mode"] == "tunnel"]
        kinds = ["sa_replace", "pol_add", "pol_del", "prio", "sa_add", "sa_del"]
        for _ in range(20):
            k = r.choice(kinds)
            if k == "sa_replace" and tunnel_sas:
                old = r.choice(tunnel_sas)
                t = (old["dst"], old["reqid"])
                add = self.sa_add(t, r.random() < 0.3)
                return k, [add, self.sa_del(old)]
            if k == "sa_add":
                return k, [self.sa_add(r.choice(self.tmpls), r.random() < 0.5)]
            if k == "sa_del" and len(tunnel_sas) > 2:
                return k, [self.sa_del(r.choice(tunnel_sas))]
            if k == "pol_add":
                c = self.pol_add(r.choice([4, 6]))
                if c:
                    return k, [c]
            # ip xfrm policy delete cannot name a policy of mark 0 under a
            # non-zero mask: iproute2 leaves the mark out when v & m is 0
            # (ENOENT); such policies stay.
            deletable = [q for q in tunnel_pols
                         if not q["mark"] or q["mark"][0] & q["mark"][1]]
            if k == "pol_del" and len(tunnel_pols) > 3 and deletable:
                p = r.choice(deletable)
                self.pols.remove(p)
                return k, [self.pol_cmd("delete", p)]
            if k == "prio" and tunnel_pols:
                p = r.choice(tunnel_pols)
                p["prio"] = r.choice([q for q in PRIOS if q != p["prio"]])
                return k, [self.pol_cmd("update", p)]
        return "none", []

    def mask(self, f):
        """The mask bundle.c should derive for family f (for the probe)."""
        m = {"src": 0, "dst": 0, "ports": False}
        sels = [p["sel"] for p in self.pols if p["sel"]["fam"] == f]
        sels += [s["sel"] for s in self.sas if s["sel"] and s["sel"]["fam"] == f]
        for s in sels:
            for side in ("src", "dst"):
                m[side] = max(m[side], int(s[side].split("/")[1]))
            if any(s.get(k) is not None for k in ("sport", "dport", "type")):
                m["ports"] = True
        if any(p["mode"] == "transport" and p["sel"]["fam"] == f for p in self.pols):
            m["src"] = m["dst"] = W[f]
        return m

    def flow(self, f):
        r = self.r
        pool = self.pools[f]
        fl = {"fam": f, "src": r.choice(pool), "dst": r.choice(pool),
              "mark": r.choice(MARKS), "tos": r.choice([0, 0, 0x10, 0xb8]),
              "proto": r.choice(["udp", "udp", "tcp", "icmp"])}
        if f == 6 and fl["proto"] == "icmp":
            fl["proto"] = "ipv6-icmp"
        if r.random() < 0.1:	# outside the pool's clusters
            side = r.choice(["src", "dst"])
            a = int(ipaddress.ip_address(fl[side])) ^ r.getrandbits(20 if f == 4 else 100)
            fl[side] = str(ipaddress.ip_address(a))
        if self.transport[f] and r.random() < 0.12:
            fl["src"], fl["dst"] = LOCAL[f], self.tpeer[f]
        if fl["proto"] in ("udp", "tcp"):
            fl["sport"] = r.choice(PORTS) if r.random() < 0.5 else r.randint(1024, 65535)
            fl["dport"] = r.choice(PORTS) if r.random() < 0.7 else r.randint(1, 65535)
        else:
            fl["type"] = r.choice(ICMP_TYPES[f])
            fl["code"] = 0
        return fl


# A rough model of xfrm's choice (best priority; the newest SA of the
# template whose selector matches), only to reject configurations in which
# a family would have almost nothing to compare: never the oracle.
def sel_match(s, fl):
    a = ipaddress.ip_address
    n = ipaddress.ip_network
    return (s["fam"] == fl["fam"] and a(fl["src"]) in n(s["src"])
            and a(fl["dst"]) in n(s["dst"])
            and (not s["proto"] or s["proto"] == fl["proto"])
            and all(s.get(k) is None or s[k] == fl.get(k)
                    for k in ("sport", "dport", "type", "code")))


def predict(g, fl):
    best = None
    for p in g.pols:
        if p["mark"] and fl["mark"] & p["mark"][1] != p["mark"][0]:
            continue
        if sel_match(p["sel"], fl) and (best is None or p["prio"] < best["prio"]):
            best = p
    if best is None:
        return None
    peer, reqid = best["tmpl"]
    for sa in reversed(g.sas):
        if (sa["dst"], sa["reqid"]) == (peer, reqid) and (
                not sa["sel"] or sel_match(sa["sel"], fl)) and (
                sa["mode"] == "tunnel" or (fl["src"], fl["dst"]) == (sa["src"], peer)):
            return sa["spi"]
    return None


def meaningful(g, flows):
    for f in (4, 6):
        res = [predict(g, fl) for fl in flows if fl["fam"] == f]
        if sum(x is not None for x in res) < len(res) // 4 or \
                len({x for x in res if x is not None}) < 3:
            return False
    return True


def gen(seed, d, nflows, nchurn):
    rr = random.Random(seed)
    for _ in range(100):
        g = Gen(rr.getrandbits(64), nflows, nchurn)
        config = g.setup()
        flows = [g.flow(4 if i % 2 == 0 else 6) for i in range(nflows)]
        if meaningful(g, flows[:400]):
            break
    r = g.r
    idx = list(range(nflows))

    def order(sub):
        o = list(sub)
        r.shuffle(o)
        return o

    steps = [{"name": "static", "batch": None,
              "passes": [order(idx), order(idx), order(idx)],
              "mask": {f: g.mask(f) for f in (4, 6)}, "slack": g.slack}]
    initial = {"pols": json.loads(json.dumps(g.pols)), "sas": json.loads(json.dumps(g.sas))}
    muts = []
    for k in range(1, nchurn + 1):
        kind, cmds = g.mutate()
        with open(os.path.join(d, "churn-%d.batch" % k), "w") as fh:
            fh.write("".join(c + "\n" for c in cmds))
        muts.append({"kind": kind, "cmds": cmds})
        sub = sorted(r.sample(idx, max(2, nflows * 3 // 10)))
        steps.append({"name": "churn %d (%s)" % (k, kind), "batch": "churn-%d.batch" % k,
                      "passes": [order(sub), order(sub)],
                      "mask": {f: g.mask(f) for f in (4, 6)}, "slack": g.slack})
    with open(os.path.join(d, "config.batch"), "w") as fh:
        fh.write("".join(c + "\n" for c in config))
    with open(os.path.join(d, "config2.batch"), "w") as fh:
        fh.write("".join(c + "\n" for c in g.late))
    spis = {}
    for sa in initial["sas"] + [s for s in g.sas]:
        spis[str(sa["spi"])] = sa
    for m in muts:	# SAs added and deleted again are in no list: from the commands
        for c in m["cmds"]:
            w = c.split()
            if w[:3] == ["xfrm", "state", "add"]:
                spi = int(w[w.index("spi") + 1], 16)
                spis.setdefault(str(spi), {"spi": spi, "dst": w[w.index("dst") + 1],
                                           "reqid": int(w[w.index("reqid") + 1]),
                                           "mode": w[w.index("mode") + 1], "sel": None})
    plan = {"seed": seed, "flows": flows, "steps": steps, "initial": initial,
            "muts": muts, "spis": spis, "slack": g.slack, "transport": g.transport}
    with open(os.path.join(d, "plan.json"), "w") as fh:
        json.dump(plan, fh)


# --- packets --------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(fl, n, tweak=None):
    """The inner packet of flow fl, its payload tagged with send number n."""
    fl = dict(fl, **(tweak or {}))
    f = fl["fam"]
    proto = PROTO_NUM[fl["proto"]]
    payload = b"OR" + struct.pack("!I", n) + b"ipsecif-oracle"
    src = ipaddress.ip_address(fl["src"]).packed
    dst = ipaddress.ip_address(fl["dst"]).packed
    if proto == 17:
        l4 = struct.pack("!HHHH", fl["sport"], fl["dport"], 8 + len(payload), 0) + payload
    elif proto == 6:
        l4 = struct.pack("!HHIIBBHHH", fl["sport"], fl["dport"], n, 0, 0x50, 0x02,
                         8192, 0, 0) + payload
    else:
        l4 = struct.pack("!BBHHH", fl["type"], fl["code"], 0, 0x1234, n & 0xffff) + payload
    if f == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(l4), proto)
    coff = {17: 6, 6: 16, 1: 2, 58: 2}[proto]
    c = csum((pseudo if proto != 1 else b"") + l4)
    if proto == 17 and c == 0:
        c = 0xffff
    l4 = l4[:coff] + struct.pack("!H", c) + l4[coff + 2:]
    if f == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, fl["tos"], 20 + len(l4), n & 0xffff,
                        0x4000, 64, proto, 0, src, dst)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    else:
        h = struct.pack("!IHBB16s16s", (6 << 28) | (fl["tos"] << 20) | (n & 0xfffff),
                        len(l4), proto, 64, src, dst)
    return h + l4


L4_HDR = {17: 8, 6: 20, 1: 8, 58: 8}


def esp_tag(pkt):
    """(SPI, send number) of an ESP packet carrying one of our flows, or None."""
    if not pkt:
        return None
    v = pkt[0] >> 4
    if v == 4:
        proto, off = pkt[9], (pkt[0] & 15) * 4
    elif v == 6:
        proto, off = pkt[6], 40
    else:
        return None
    if proto != 50 or len(pkt) < off + 8 + ICV + 2:
        return None
    spi = struct.unpack("!I", pkt[off:off + 4])[0]
    body = pkt[off + 8:]
    nh, padlen = body[-ICV - 1], body[-ICV - 2]
    inner = body[:len(body) - ICV - 2 - padlen]
    if nh == 4 and inner and inner[0] >> 4 == 4:
        l4p, inner = inner[9], inner[(inner[0] & 15) * 4:]
    elif nh == 41 and inner and inner[0] >> 4 == 6:
        l4p, inner = inner[6], inner[40:]
    else:
        l4p = nh	# transport mode
    hs = L4_HDR.get(l4p)
    if hs is None or inner[hs:hs + 2] != b"OR":
        return None
    return spi, struct.unpack("!I", inner[hs + 2:hs + 6])[0]


# --- running the plan in a namespace --------------------------------------

SO_MARK = 36
SOL_PACKET = 263
PACKET_QDISC_BYPASS = 20
ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 3, 0x0800, 0x86DD


class Runner:
    def __init__(self, d, dev, out):
        self.d, self.dev = d, dev
        with open(os.path.join(d, "plan.json")) as fh:
            self.plan = json.load(fh)
        self.out = open(out, "w")
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.rx.bind(("dummy0", ETH_P_ALL))
        self.rx.setblocking(False)
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
        self.tx.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
        self.mark = None
        self.fd_drop = os.open("/sys/class/net/%s/statistics/tx_dropped" % dev, os.O_RDONLY)
        self.fd_coll = os.open("/sys/class/net/%s/statistics/collisions" % dev, os.O_RDONLY)
        self.dropped, self.coll = self.stat(self.fd_drop), self.stat(self.fd_coll)
        self.n = 0
        self.last_sa = int(time.time())	# oracle.sh added the SAs before
        self.ipsec = self.kind() == "ipsec"

    def kind(self):
        out = subprocess.run(["ip", "-d", "-j", "link", "show", self.dev],
                             capture_output=True, text=True).stdout
        return json.loads(out)[0].get("linkinfo", {}).get("info_kind")

    @staticmethod
    def stat(fd):
        return int(os.pread(fd, 64, 0))

    def drain(self, want):
        found = None
        while True:
            try:
                pkt = self.rx.recv(4096)
            except BlockingIOError:
                return found
            t = esp_tag(pkt)
            if t and t[1] == want:
                found = "0x%x" % t[0]

    def send(self, fl, tweak=None):
        """Inject one packet of flow fl; what became of it."""
        self.n += 1
        n = self.n
        mark = (tweak or {}).get("mark", fl["mark"])
        if mark != self.mark:
            self.tx.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
            self.mark = mark
        self.tx.sendto(packet(fl, n, tweak),
                       (self.dev, ETH_P_IP if fl["fam"] == 4 else ETH_P_IPV6))
        deadline = None
        while True:
            res = self.drain(n)
            d, c = self.stat(self.fd_drop), self.stat(self.fd_coll)
            if res is None and d != self.dropped:
                res = "loop" if c != self.coll else "none"
            self.dropped, self.coll = d, c
            if res:
                return res
            # Not synchronous after all: wait, bounded.
            now = time.monotonic()
            if deadline is None:
                deadline = now + 2
            elif now > deadline:
                return "lost"
            select.select([self.rx], [], [], 0.05)

    def lookups(self):
        out = subprocess.run(["ethtool", "-S", self.dev], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            k, _, v = line.strip().partition(":")
            if k == "tx_bundle_lookups":
                return int(v)
        return None

    def mask_probe(self, step, results):
        """Wait until the device's mask of each family is current: a flow
        that differs from a carried one only where the mask (as computed
        from the plan) does not look finds the bundle cached, with no new
        lookup. Until the worker has computed the mask, packets are keyed
        by their whole flow and the second one misses. Bounded."""
        flows = self.plan["flows"]
        for f in (4, 6):
            m, slack = step["mask"][str(f)], step["slack"][str(f)]
            cands = [i for i, res in results if flows[i]["fam"] == f
                     and res.startswith("0x")]
            tweak = None
            for i in cands:
                fl = flows[i]
                if slack == "ports" and m["ports"]:
                    continue	# the plan's mask has no slack after all
                if slack in ("src", "dst"):
                    if m[slack] >= W[f]:
                        continue
                    a = ipaddress.ip_address(fl[slack])
                    tweak = {slack: str(ipaddress.ip_address(int(a) ^ 1))}
                elif fl["proto"] in ("udp", "tcp"):
                    tweak = {"sport": fl["sport"] ^ 1}
                else:
                    tweak = {"code": fl["code"] ^ 1}
                break
            if tweak is None:
                print("P %s %d skip" % (step["name"].split()[0], f), file=self.out)
                continue
            status = "timeout"
            for _ in range(60):
                self.send(fl)
                n0 = self.lookups()
                self.send(fl, tweak)
                if n0 is not None and self.lookups() == n0:
                    status = "ok"
                    break
                time.sleep(0.1)
            print("P %s %d %s" % (step["name"].split()[0], f, status), file=self.out)

    def run(self):
        flows = self.plan["flows"]
        t0 = time.monotonic()
        for k, step in enumerate(self.plan["steps"]):
            if step["batch"]:
                # xfrm prefers the newest SA of a template by its time of
                # addition in seconds, and breaks a tie by its hash chain:
                # a new SA comes a second after the others, in both
                # namespaces alike (not a wait for anything to happen).
                batch = os.path.join(self.d, step["batch"])
                with open(batch) as fh:
                    adds_sa = "state add" in fh.read()
                while adds_sa and int(time.time()) <= self.last_sa:
                    time.sleep(0.05)
                subprocess.run(["ip", "-batch", batch], check=True)
                if adds_sa:
                    self.last_sa = int(time.time())
            for p, order in enumerate(step["passes"]):
                results = []
                for i in order:
                    res = self.send(flows[i])
                    results.append((i, res))
                    print("R %d %d %d %s" % (k, p, i, res), file=self.out)
                if p == 0 and self.ipsec:
                    self.mask_probe(step, results)
        print("T %.1f %d" % (time.monotonic() - t0, self.n), file=self.out)
        self.out.close()


# --- comparing ------------------------------------------------------------

def flow_str(fl):
    s = "%s %s > %s %s" % ("IPv%d" % fl["fam"], fl["src"], fl["dst"], fl["proto"])
    if "sport" in fl:
        s += " %d > %d" % (fl["sport"], fl["dport"])
    else:
        s += " type %d code %d" % (fl["type"], fl["code"])
    return s + " mark %d tos 0x%x" % (fl["mark"], fl["tos"])


def sa_str(plan, res):
    sa = plan["spis"].get(str(int(res, 16))) if res.startswith("0x") else None
    if not sa:
        return res
    s = "%s (%s reqid 0x%x %s" % (res, sa["dst"], sa["reqid"], sa["mode"])
    if sa.get("sel"):
        s += ", sel %s > %s" % (sa["sel"]["src"], sa["sel"]["dst"])
    return s + ")"


def load(path):
    res, probes, t = {}, [], None
    with open(path) as fh:
        for line in fh:
            w = line.split()
            if w[0] == "R":
                res.setdefault((int(w[1]), int(w[2])), []).append((int(w[3]), w[4]))
            elif w[0] == "P":
                probes.append(w[1:])
            elif w[0] == "T":
                t = w[1:]
    return res, probes, t


def compare(d, nx_path, ni_path):
    with open(os.path.join(d, "plan.json")) as fh:
        plan = json.load(fh)
    flows = plan["flows"]
    nx, _, nx_t = load(nx_path)
    ni, probes, ni_t = load(ni_path)
    transport_spis = {s for s, sa in plan["spis"].items() if sa["mode"] == "transport"}
    out = []
    say = lambda *a: out.append("|".join(str(x) for x in a))
    say("info", "xfrm_interface: %s s for %s sends; ipsec: %s s for %s sends"
        % (nx_t[0] if nx_t else "?", nx_t[1] if nx_t else "?",
           ni_t[0] if ni_t else "?", ni_t[1] if ni_t else "?"))
    # phase -> family -> counters
    groups = {}
    carried = {4: [0, 0], 6: [0, 0]}
    spis_used = {4: set(), 6: set()}
    loops = {4: 0, 6: 0}
    lost = [0, 0]
    mism_lines = []
    for (k, p), nx_list in sorted(nx.items()):
        ni_list = ni.get((k, p), [])
        phase = ("static, pass %d" % (p + 1)) if k == 0 else "churn, pass %d" % (p + 1)
        step = plan["steps"][k]["name"]
        for j, (i, a) in enumerate(nx_list):
            b = ni_list[j][1] if j < len(ni_list) and ni_list[j][0] == i else "missing"
            f = flows[i]["fam"]
            g = groups.setdefault((phase, f), [0, 0])
            g[0] += 1
            carried[f][1] += 1
            lost[0] += a == "lost"
            lost[1] += b == "lost"
            if a.startswith("0x"):
                carried[f][0] += 1
                spis_used[f].add(a)
            if a == "loop":
                loops[f] += 1
                same = b.startswith("0x") and str(int(b, 16)) in transport_spis
            else:
                same = a == b and a != "lost"
            if not same:
                g[1] += 1
                mism_lines.append("%s %s: %s: xfrm_interface %s, ipsec %s"
                                  % (step, "pass %d" % (p + 1), flow_str(flows[i]),
                                     sa_str(plan, a), sa_str(plan, b)))
    for f in (4, 6):
        tr = {}
        for who, res in (("xfrm_interface", nx), ("ipsec", ni)):
            c = {}
            for lst in res.values():
                for i, x in lst:
                    if flows[i]["fam"] == f and flows[i]["src"] == LOCAL[f]:
                        if x.startswith("0x"):
                            x = "transport SA" if str(int(x, 16)) in transport_spis else "tunnel SA"
                        c[x] = c.get(x, 0) + 1
            tr[who] = ", ".join("%s %d" % kv for kv in sorted(c.items())) or "none sent"
        if plan["transport"][str(f)]:
            say("info", "IPv%d: sends from %s (transport mode): xfrm_interface: %s; ipsec: %s"
                % (f, LOCAL[f], tr["xfrm_interface"], tr["ipsec"]))
    for (phase, f), (n, m) in sorted(groups.items(), key=lambda x: (x[0][1], x[0][0])):
        say("eq", "IPv%d, %s: all %d flows carried by the same SA as xfrm_interface, "
            "or both dropped (%d mismatches)" % (f, phase, n, m), 0, m)
    for f in (4, 6):
        c, n = carried[f]
        say("ge", "IPv%d: xfrm_interface carried a meaningful share of the %d sends "
            "(%d, at least a tenth)" % (f, n, c), n // 10, c)
        say("ge", "IPv%d: more than one SA carried flows (%s)"
            % (f, " ".join(sorted(spis_used[f])) or "none"), 2, len(spis_used[f]))
        say("info", "IPv%d: %d sends to transport-mode SAs: xfrm_interface loops "
            "(\"Local routing loop\"); compared only as 'ipsec used a transport SA'"
            % (f, loops[f]))
    say("eq", "no packet lost (neither sent nor counted as dropped): "
        "xfrm_interface %d, ipsec %d" % tuple(lost), 0, lost[0] + lost[1])
    for f in (4, 6):
        pr = [x for x in probes if x[1] == str(f)]
        hit = sum(x[2] == "ok" for x in pr)
        skipped = sum(x[2] == "skip" for x in pr)
        if len(pr) - skipped:
            say("eq", "IPv%d: the ipsec device's mask became current after the first "
                "pass of a step (%d probes, %d skipped)" % (f, len(pr), skipped),
                len(pr) - skipped, hit)
        else:
            say("info", "IPv%d: mask probes all skipped (no carried flow to probe)" % f)
    if mism_lines:
        say("info", "%d mismatches; the first ones:" % len(mism_lines))
        for line in mism_lines[:12]:
            say("info", "  " + line)
        say("info", "slack %s, transport %s; the initial policies (priority order):"
            % (plan["slack"], plan["transport"]))
        pols = sorted(plan["initial"]["pols"], key=lambda p: p["prio"])
        for p in pols:
            s = p["sel"]
            say("info", "  prio %d %s > %s%s%s -> %s reqid 0x%x %s" % (
                p["prio"], s["src"], s["dst"],
                " " + s["proto"] if s["proto"] else "",
                "".join(" %s %s" % (k, s[k]) for k in ("sport", "dport", "type")
                        if s.get(k) is not None),
                p["tmpl"][0], p["tmpl"][1], p["mode"]))
        for sa in plan["initial"]["sas"]:
            say("info", "  SA " + sa_str(plan, "0x%x" % sa["spi"]))
        for k, m in enumerate(plan["muts"], 1):
            for c in m["cmds"]:
                say("info", "  churn %d: %s" % (k, c.replace(ALG + " ", "")))
    print("\n".join(out))


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "run":
        Runner(sys.argv[2], sys.argv[3], sys.argv[4]).run()
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: oracle.py gen|run|compare ...")


if __name__ == "__main__":
    main()
