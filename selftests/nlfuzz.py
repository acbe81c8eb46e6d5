#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Random and malformed RTM_NEWLINK/RTM_SETLINK/RTM_DELLINK for kind "ipsec".

  nlfuzz.py [COUNT]       (seed from NLFUZZ_SEED, else random; printed)

Runs in the current network namespace, which should hold no other ipsec
device. Every request is answered (ack or netlink error) within a timeout;
after each one the namespace's links are dumped and compared with a model
of what the kernel must have done: a request that was refused changes
nothing, one that succeeded changes exactly what it asked for. Requests
that are clearly valid must succeed, clearly invalid ones must fail;
malformed ones (unknown or oversized attributes, flags, duplicates) may go
either way, since validation may be lax or strict. At the end every
device is deleted and each if_id the fuzzer used must be usable again.

Attribute streams stay well-formed at the TLV level (no leftover bytes,
which the kernel logs and the harness counts as a failure); everything
inside them is fair game. The last line is "RESULT <json>".
"""
import errno
import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipsecnl import attr, u32, attrs  # noqa: E402

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLM_F_DUMP = 0x300
NLMSG_ERROR, NLMSG_DONE, NLM_F_CAPPED = 2, 3, 0x100
IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO = 3, 5, 18
IFLA_NET_NS_FD, IFLA_LINK_NETNSID, IFLA_TARGET_NETNSID = 28, 37, 46
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_IPSEC_LINK, IFLA_IPSEC_IF_ID = 1, 2
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11
IFNAMSIZ = 16
IPSEC0_IF_ID = 16384
TIMEOUT = float(os.environ.get("NLFUZZ_TIMEOUT", "10"))

MUST_OK, MUST_FAIL, EITHER = "ok", "fail", "either"


class Hang(Exception):
    pass


class Netlink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  socket.NETLINK_ROUTE)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.settimeout(TIMEOUT)
        self.seq = 0

    def _send(self, msg_type, flags, ifi, body):
        self.seq += 1
        payload = ifi + body
        hdr = struct.pack("IHHII", 16 + len(payload), msg_type,
                          flags | NLM_F_REQUEST, self.seq, 0)
        self.sock.send(hdr + payload)
        return self.seq

    def _messages(self):
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Hang("no answer within %gs" % TIMEOUT)
        while len(data) >= 16:
            length, kind, rflags, seq, _ = struct.unpack("IHHII", data[:16])
            if length < 16:
                raise OSError("bad netlink message length %d" % length)
            yield kind, rflags, seq, data[16:length]
            data = data[(length + 3) & ~3:]

    def request(self, msg_type, flags, ifi, body):
        """(errno, extack text); 0 is an ack."""
        seq = self._send(msg_type, flags | NLM_F_ACK, ifi, body)
        while True:
            for kind, rflags, rseq, msg in self._messages():
                if rseq != seq or kind != NLMSG_ERROR:
                    continue
                err = -struct.unpack("i", msg[:4])[0]
                text = ""
                if err:
                    olen = 16 if rflags & NLM_F_CAPPED else \
                        struct.unpack("I", msg[4:8])[0]
                    for k, v in attrs(msg[4 + olen:]):
                        if k == 1:
                            text = v.rstrip(b"\0").decode(errors="replace")
                return err, text

    def links(self):
        """{name: (ifindex, kind, if_id, link)} of every device."""
        ifi = struct.pack("BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
        seq = self._send(RTM_GETLINK, NLM_F_DUMP, ifi, b"")
        out = {}
        while True:
            for kind, _, rseq, msg in self._messages():
                if rseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return out
                if kind == NLMSG_ERROR:
                    raise OSError("link dump failed: %d" %
                                  struct.unpack("i", msg[:4])[0])
                index = struct.unpack("i", msg[4:8])[0]
                name, lkind, if_id, link = None, None, None, None
                for k, v in attrs(msg[16:]):
                    if k == IFLA_IFNAME:
                        name = v.rstrip(b"\0").decode()
                    elif k == IFLA_LINKINFO:
                        for ik, iv in attrs(v):
                            if ik == IFLA_INFO_KIND:
                                lkind = iv.rstrip(b"\0").decode()
                            elif ik == IFLA_INFO_DATA:
                                for dk, dv in attrs(iv):
                                    if dk == IFLA_IPSEC_IF_ID:
                                        if_id = struct.unpack("I", dv[:4])[0]
                                    elif dk == IFLA_IPSEC_LINK:
                                        link = struct.unpack("I", dv[:4])[0]
                out[name] = (index, lkind, if_id, link)


def ifinfo(index):
    return struct.pack("BxHiII", socket.AF_UNSPEC, 0, index, 0, 0)


def default_if_id(name):
    """The module's default: N for ipsecN (no leading zero), 16384 for ipsec0."""
    num = name[5:]
    if not name.startswith("ipsec") or not num[:1].isdigit():
        return 0
    if num[0] == "0" and len(num) > 1:
        return 0
    if not num.isdigit():
        return 0
    n = int(num)
    if n > 0xffffffff:
        return 0
    return n or IPSEC0_IF_ID


def valid_name(name):
    return (0 < len(name) < IFNAMSIZ and name not in (".", "..") and
            not any(c in name for c in "/: \t\n\r\v\f"))


def resolve_template(name, names):
    """What dev_alloc_name() makes of NAME, or None if invalid."""
    p = name.find("%")
    if p < 0:
        return name
    if name[p + 1:p + 2] != "d" or "%" in name[p + 2:]:
        return None
    for i in range(1 << 15):
        cand = name[:p] + str(i) + name[p + 2:]
        if cand not in names:
            return cand if len(cand) < IFNAMSIZ else None
    return None


class Fuzzer:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.nl = Netlink()
        self.nsfd = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.stats = dict(requests=0, acked=0, refused=0, mismatches=0,
                          unexpected_ok=0, unexpected_fail=0, hangs=0,
                          sock_errors=0, reuse_tried=0, reuse_failed=0,
                          leftovers=0, leftover_names=[], bad_errno=0,
                          mismatches_move=0)
        self.move = False
        self.shown = 0
        self.used_ids = set()
        self.sync()

    # --- state ---------------------------------------------------------
    def sync(self, links=None):
        """Read the kernel's state into the model."""
        if links is None:
            links = self.nl.links()
        self.model = {n: (i, l) for n, (_, k, i, l) in links.items()
                      if k == "ipsec"}
        self.index = {n: v[0] for n, v in links.items()}
        self.others = {n: v[0] for n, v in links.items() if v[1] != "ipsec"}
        return links

    def observed(self, links):
        return {n: (i, l) for n, (_, k, i, l) in links.items() if k == "ipsec"}

    def expected(self):
        return {n: (i, l) for n, (i, l) in self.model.items()}

    # --- generation ----------------------------------------------------
    def pick_if_id(self):
        r = self.rng.random()
        if r < 0.6:
            v = self.rng.randint(1, 24)
        elif r < 0.7:
            v = self.rng.choice([0, 0xffffffff, 0x80000000, IPSEC0_IF_ID])
        else:
            v = self.rng.getrandbits(32)
        return v

    def pick_link(self):
        r = self.rng.random()
        ipsec_idx = [self.index[n] for n in self.model if n in self.index]
        if r < 0.3:
            return 0
        if r < 0.6 and self.others:
            return self.rng.choice(list(self.others.values()))
        if r < 0.75 and ipsec_idx:
            return self.rng.choice(ipsec_idx)
        if r < 0.9:
            return self.rng.choice([99999, 0x7fffffff, 0xffffffff, 0x80000000])
        return self.rng.getrandbits(32)

    def pick_name(self):
        r = self.rng.random()
        rng = self.rng
        if r < 0.35 and self.model:
            return rng.choice(list(self.model))
        if r < 0.4 and self.others:
            return rng.choice(list(self.others))
        if r < 0.6:
            return "ipsec%d" % rng.choice([0, 1, 2, 3, 5, 7, 10, 16, 24, 42,
                                           16384, 4096, 65535, 4294967295,
                                           4294967296, 99999999999])
        if r < 0.8:
            return "fz%d" % rng.randint(0, 15)
        if r < 0.88:
            return rng.choice(["ipsec%d", "fz%d", "", "ipsec01", "ipsec0x1",
                               "ipsec-1", "ipsec1 ", "IPSEC1"])
        if r < 0.95:
            return rng.choice(["a" * 16, "b" * 40, ".", "..", "a/b", "a:b",
                               "a b", "x%d%d", "%s", "y%", "\t"])
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.%:/ "
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 17)))

    def u32_attr(self, kind, value, notes):
        """A u32 attribute, sometimes malformed: (bytes, effective value or None)."""
        r = self.rng.random()
        flags = 0
        if self.rng.random() < 0.05:
            flags = self.rng.choice([NLA_F_NESTED, NLA_F_NET_BYTEORDER])
            notes.add("flag")
        if r < 0.8:
            return attr(kind | flags, struct.pack("I", value)), value
        if r < 0.9:	# truncated
            notes.add("short")
            return attr(kind | flags, struct.pack("I", value)[:self.rng.randint(0, 3)]), None
        notes.add("long")	# oversized: lax parsers read the first 4 bytes
        extra = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(1, 12)))
        return attr(kind | flags, struct.pack("I", value) + extra), value

    def garbage(self, avoid=(1, 2), depth=0):
        """Well-formed TLVs with random types (none of AVOID) and contents."""
        out = b""
        for _ in range(self.rng.randint(1, 3)):
            t = self.rng.choice([0, 3, 4, 7, 100, 0x3fff, self.rng.getrandbits(14)])
            if t in avoid:
                t = 3 if 3 not in avoid else 6
            t |= self.rng.choice([0, 0, NLA_F_NESTED, NLA_F_NET_BYTEORDER])
            if depth < 2 and self.rng.random() < 0.3:
                out += attr(t | NLA_F_NESTED, self.garbage((), depth + 1))
            else:
                out += attr(t, bytes(self.rng.getrandbits(8)
                                     for _ in range(self.rng.randint(0, 20))))
        return out

    def gen(self):
        """A request and the model's verdict: (desc, type, flags, ifi, body,
        expect, state if it succeeds)."""
        rng = self.rng
        notes = set()
        desc = []
        # Keep the population bounded: delete now and then.
        if self.model and (rng.random() < 0.08 or len(self.model) > 30):
            name = rng.choice(list(self.model))
            self.move = False
            return ("DELLINK %s" % name, RTM_DELLINK, 0, ifinfo(0),
                    attr(IFLA_IFNAME, name.encode() + b"\0"), MUST_OK,
                    {n: v for n, v in self.model.items() if n != name})

        msg_type = RTM_SETLINK if rng.random() < 0.08 else RTM_NEWLINK
        flags = rng.choice([0, NLM_F_CREATE, NLM_F_CREATE | NLM_F_EXCL,
                            NLM_F_CREATE | NLM_F_EXCL, NLM_F_EXCL])
        if msg_type == RTM_SETLINK:
            flags = 0
        body = b""
        index = 0
        name = None
        r = rng.random()
        if r < 0.12 and not flags & NLM_F_CREATE:
            index = rng.choice([self.index[n] for n in self.model] +
                               [1, 99999, -5])
            desc.append("index %d" % index)
        elif flags & NLM_F_CREATE and r < 0.17:
            desc.append("no name")	# the kernel makes it "ipsec%d"
        else:
            name = self.pick_name()
            if len(name) >= IFNAMSIZ or rng.random() < 0.97:
                body += attr(IFLA_IFNAME, name.encode() + b"\0")
                desc.append("name %r" % name)
            else:	# not NUL-terminated
                body += attr(IFLA_IFNAME, name.encode())
                desc.append("name %r (no NUL)" % name)
            if name == "" or len(name) >= IFNAMSIZ:
                pass
        top_link = None
        if rng.random() < 0.15:
            v = self.pick_link()
            a, top_link = self.u32_attr(IFLA_LINK, v, notes)
            body += a
            desc.append("IFLA_LINK %s" % (top_link if top_link is not None else "short"))
            if top_link is None:
                notes.add("top_short")
        netns = []
        self.move = False
        if rng.random() < 0.1:
            which = rng.choice([IFLA_NET_NS_FD, IFLA_TARGET_NETNSID,
                                IFLA_LINK_NETNSID])
            if which == IFLA_NET_NS_FD and rng.random() < 0.4:
                v, good = self.nsfd, True
            else:
                v, good = rng.choice([0, 1, 2, 3, 7, 255, 1000, 0x7fffffff,
                                      0xffffffff, rng.getrandbits(32)]), False
            netns.append((which, good))
            self.move = which != IFLA_LINK_NETNSID
            body += attr(which, struct.pack("I", v))
            desc.append("attr%d %d%s" % (which, v, " (own netns)" if good else ""))

        # IFLA_LINKINFO
        kind = "ipsec"
        data = None	# None: no IFLA_INFO_DATA; else {type: value or None}
        data_bad = False
        r = rng.random()
        if r < 0.05:
            info = None
            desc.append("no linkinfo")
        else:
            info = b""
            r = rng.random()
            if r < 0.04:
                kind = None
                desc.append("no kind")
            elif r < 0.08:
                kind = rng.choice(["ipse", "ipsecx", "nosuchkind"])
                info += attr(IFLA_INFO_KIND, kind.encode() + b"\0")
                desc.append("kind %s" % kind)
            else:
                info += attr(IFLA_INFO_KIND, b"ipsec\0")
            if rng.random() < 0.8:
                data = {}
                dbody = b""
                items = []
                if rng.random() < 0.7:
                    items.append(IFLA_IPSEC_IF_ID)
                if rng.random() < 0.45:
                    items.append(IFLA_IPSEC_LINK)
                if rng.random() < 0.1 and items:
                    items.append(rng.choice(items))
                    notes.add("duplicate")
                rng.shuffle(items)
                dd = []
                for t in items:
                    v = self.pick_if_id() if t == IFLA_IPSEC_IF_ID else self.pick_link()
                    a, eff = self.u32_attr(t, v, notes)
                    if t == IFLA_IPSEC_IF_ID and v:
                        self.used_ids.add(v)
                    if eff is None:
                        data_bad = True
                    data[t] = eff
                    dbody += a
                    dd.append("%s=%s" % ("if_id" if t == 2 else "link",
                                         "short" if eff is None else hex(eff)))
                if rng.random() < 0.12:
                    g = self.garbage()
                    if rng.random() < 0.5:
                        dbody += g
                    else:
                        dbody = g + dbody
                    notes.add("unknown")
                    dd.append("garbage")
                flag = NLA_F_NESTED
                if rng.random() < 0.1:
                    flag = 0
                    notes.add("unflagged")
                info += attr(IFLA_INFO_DATA | flag, dbody)
                desc.append("data{%s}" % ",".join(dd))
            if rng.random() < 0.03:
                info += self.garbage((1, 2, 4, 5))	# 5: slave data
                notes.add("unknown")
                desc.append("linkinfo garbage")
            body += attr(IFLA_LINKINFO | NLA_F_NESTED, info)

        tname = {RTM_NEWLINK: "NEWLINK", RTM_SETLINK: "SETLINK"}[msg_type]
        fl = "".join(c for c, f in (("C", NLM_F_CREATE), ("X", NLM_F_EXCL)) if flags & f)
        text = "%s/%s %s" % (tname, fl or "-", " ".join(desc))
        if notes:
            text += " [%s]" % ",".join(sorted(notes))
        expect, after = self.predict(msg_type, flags, index, name, top_link,
                                     netns, info, kind, data, data_bad, notes)
        return (text, msg_type, flags, ifinfo(index), body, expect, after)

    def predict(self, msg_type, flags, index, name, top_link, netns, info,
                kind, data, data_bad, notes):
        model = self.model
        weird = bool(notes - {"short", "top_short"})
        bad = data_bad or "top_short" in notes
        unchanged = dict(model)

        def fail():
            return MUST_FAIL, unchanged

        if name is not None and len(name) >= IFNAMSIZ:
            return fail()	# IFLA_IFNAME longer than the policy allows
        if index < 0 and msg_type == RTM_NEWLINK:
            return fail()
        dev = None
        if index > 0:
            dev = next((n for n, i in self.index.items() if i == index), None)
            if dev is None:
                return fail()
        elif name:
            dev = name if name in self.index else None
        # A move to a namespace that does not exist fails; LINK_NETNSID
        # means something only at creation.
        bad_move = any(not g and w != IFLA_LINK_NETNSID for w, g in netns)
        if msg_type == RTM_SETLINK:
            # IFLA_LINKINFO means nothing to setlink (not even parsed):
            # never a change.
            if dev is None or "top_short" in notes or bad_move:
                return fail()
            return EITHER, unchanged
        if bad:
            return fail()
        bad_ns = any(not g for _, g in netns)

        if dev is not None:
            if flags & NLM_F_EXCL:
                return fail()
            if data is None:
                if bad_move:
                    return fail()
                # 7.x refuses an unknown IFLA_LINK_NETNSID even for an
                # existing device; 6.x ignores it: either is right.
                sure = not weird and kind == "ipsec" and dev in model and not bad_ns
                return (MUST_OK if sure else EITHER), unchanged
            if kind != "ipsec" or dev not in model:
                return fail()
            if_id, link = model[dev]
            if IFLA_IPSEC_IF_ID in data:
                if_id = data[IFLA_IPSEC_IF_ID]
            if IFLA_IPSEC_LINK in data:
                link = data[IFLA_IPSEC_LINK]
            if not self.link_ok(link, dev) or not self.if_id_ok(if_id, dev):
                return fail()
            if any(w != IFLA_LINK_NETNSID for w, _ in netns):
                # ipsecif refuses its attributes together with a move,
                # which rtnetlink would run after changelink and not undo.
                return fail()
            if any(w == IFLA_LINK_NETNSID for w, _ in netns):
                return EITHER, self.with_dev(dev, if_id, link)
            return (EITHER if weird else MUST_OK), self.with_dev(dev, if_id, link)

        # creation
        if not flags & NLM_F_CREATE or kind != "ipsec" or info is None:
            return fail()
        if bad_ns:
            return fail()
        tmpl = name if name is not None else "ipsec%d"	# "" is invalid
        new = resolve_template(tmpl, self.index)
        if new is None or not valid_name(new):
            return fail()
        if data and IFLA_IPSEC_IF_ID in data:
            if_id = data[IFLA_IPSEC_IF_ID]
        else:
            if_id = default_if_id(new)
        link = 0
        if top_link is not None:
            link = top_link
        if data and IFLA_IPSEC_LINK in data:
            link = data[IFLA_IPSEC_LINK]
        if not if_id or not self.if_id_ok(if_id, None) or not self.link_ok(link, None):
            return fail()
        if if_id:
            self.used_ids.add(if_id)
        return (EITHER if weird else MUST_OK), self.with_dev(new, if_id, link)

    def with_dev(self, name, if_id, link):
        m = dict(self.model)
        m[name] = (if_id, link)
        return m

    def if_id_ok(self, if_id, self_name):
        if not if_id:
            return False
        return all(v[0] != if_id for n, v in self.model.items() if n != self_name)

    def link_ok(self, link, self_name):
        if link == 0:
            return True
        return link < 0x80000000 and link in self.others.values()

    # --- running -------------------------------------------------------
    def report(self, what, text, err, msg, before, after, want):
        self.shown += 1
        if self.shown > 12:
            return
        print("# %s: %s" % (what, text))
        print("#   answer: %s%s" % (errno.errorcode.get(err, err) if err else "ack",
                                    " (%s)" % msg if msg else ""))
        keys = sorted(set(before) | set(after) | set(want))
        for k in keys:
            b, a, w = before.get(k), after.get(k), want.get(k)
            if a != w or b != a:
                print("#   %s: before %s, now %s, expected %s" % (k, b, a, w))

    def one(self):
        text, mt, flags, ifi, body, expect, after = self.gen()
        before = self.expected()
        self.stats["requests"] += 1
        try:
            err, msg = self.nl.request(mt, flags, ifi, body)
        except Hang as e:
            self.stats["hangs"] += 1
            print("# hang: %s: %s" % (text, e))
            raise
        except OSError as e:
            self.stats["sock_errors"] += 1
            print("# socket error: %s: %s" % (text, e))
            self.nl = Netlink()
            self.sync()
            return
        if err and (err < 0 or err > 4095):
            self.stats["bad_errno"] += 1
        want = {n: v for n, v in (after if not err else self.model).items()}
        self.stats["acked" if not err else "refused"] += 1
        if not err and expect == MUST_FAIL:
            self.stats["unexpected_ok"] += 1
            self.report("accepted, should have been refused", text, err, msg,
                        before, before, {})
        if err and expect == MUST_OK:
            self.stats["unexpected_fail"] += 1
            self.report("refused, should have been accepted", text, err, msg,
                        before, before, {})
        if not err:
            self.model = {n: tuple(v) for n, v in want.items()}
        links = self.sync_check(text, err, msg, before)
        return links

    def sync_check(self, text, err, msg, before):
        want = self.expected()
        links = self.nl.links()
        got = self.observed(links)
        if got != want and self.move:
            # IFLA_NET_NS_FD/IFLA_TARGET_NETNSID: a move that fails
            self.stats["mismatches_move"] += 1
            self.report("state differs from the model (request with a netns move)",
                        text, err, msg, before, got, want)
        elif got != want:
            self.stats["mismatches"] += 1
            self.report("state differs from the model", text, err, msg,
                        before, got, want)
        self.sync(links)
        return links

    def reuse(self):
        """Delete everything, then one device per used if_id."""
        for name in list(self.model):
            self.nl.request(RTM_DELLINK, 0, ifinfo(0),
                            attr(IFLA_IFNAME, name.encode() + b"\0"))
        self.sync()
        if self.model:
            self.stats["leftovers"] = len(self.model)
            self.stats["leftover_names"] = sorted(self.model)[:5]
        ids = sorted(self.used_ids)
        failed = []
        for i, v in enumerate(ids):
            name = "r%d" % i
            body = attr(IFLA_IFNAME, name.encode() + b"\0") + attr(
                IFLA_LINKINFO | NLA_F_NESTED, attr(IFLA_INFO_KIND, b"ipsec\0") +
                attr(IFLA_INFO_DATA | NLA_F_NESTED, u32(IFLA_IPSEC_IF_ID, v)))
            err, msg = self.nl.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                                       ifinfo(0), body)
            if err:
                failed.append((v, err, msg))
        self.stats["reuse_tried"] = len(ids)
        self.stats["reuse_failed"] = len(failed)
        for v, err, msg in failed[:5]:
            print("# if_id %#x not reusable: %s %s" % (v, errno.errorcode.get(err, err), msg))
        got = self.observed(self.nl.links())
        self.stats["reuse_present"] = sum(1 for n in got if n.startswith("r"))
        for i in range(len(ids)):
            self.nl.request(RTM_DELLINK, 0, ifinfo(0),
                            attr(IFLA_IFNAME, ("r%d" % i).encode() + b"\0"))
        self.stats["final_devices"] = len(self.observed(self.nl.links()))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(os.environ.get("NLFUZZ_SEED") or random.SystemRandom().getrandbits(32))
    print("# nlfuzz: seed %d (NLFUZZ_SEED=%d to reproduce), %d requests, uid %d"
          % (seed, seed, count, os.getuid()), flush=True)
    fz = Fuzzer(seed)
    if fz.model:
        print("# nlfuzz: the namespace already has ipsec devices: %s" % sorted(fz.model))
    # Things to link to: lo is always there; make two dummies if we can.
    try:
        for n in range(count):
            fz.one()
    except Hang:
        pass
    if not fz.stats["hangs"]:
        fz.reuse()
    print("RESULT " + json.dumps(fz.stats), flush=True)


if __name__ == "__main__":
    main()
