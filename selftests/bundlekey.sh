#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bundle cache's key (module/bundle.c): flows share a cached bundle
# only when a fresh xfrm lookup would give them the same one.
#
# Topology: wire() A -- veth0 -- B; ipsec1 (if_id 1) attached to veth0 on A,
# 172.16.1.1/24 and fd01::1/64 on it. Only A's outbound SAs matter: every
# check counts the packets each SA of A encrypted.
#
# Cases:
#  - one 0.0.0.0/0 policy: datagrams from 300 source ports (a flow flood)
#    share one bundle (lookups counted by tx_bundle_lookups), IPv4 and IPv6
#  - two policies that differ only by destination port, each with its own
#    SA: interleaved flows each take their own SA
#  - the same by protocol (ICMP vs UDP), by address prefix (a /25 inside
#    the /0, a /121 inside ::/0), and with a policy added while the flows
#    share one bundle
#  - an SA that names a port, added while the flows share one bundle
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"

ip -n "$A" link add ipsec1 link veth0 type ipsec
ip -n "$A" link set ipsec1 up
ip -n "$A" addr add 172.16.1.1/24 dev ipsec1
ip -n "$A" addr add fd01::1/64 dev ipsec1 nodad

# a_pk SPI: packets A's outbound SA SPI has encrypted
a_pk() { sa_pk "$A" $UNDER4_A $UNDER4_B "$1"; }
lookups() { counter "$A" ipsec1 tx_bundle_lookups; }
# (at_most: a route or SA change elsewhere in the namespace may make the
# device compute its mask again: a lookup or two)

# out_sa SPI [SELECTOR...]: an outbound SA of its own reqid, and a policy of
# if_id 1 with the selector (priority 100: before the wide ones)
out_sa() {
	local spi=$1
	shift
	sa "$A" $UNDER4_A $UNDER4_B "$spi" $KEY_AB 1 &&
	ip -n "$A" xfrm policy add dir out "$@" if_id 1 priority 100 \
		tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid "$spi" mode tunnel
}

# One sender script for every check (python starts slowly under TCG):
#  send DST SPORT ROUNDS DPORT...: ROUNDS rounds of one datagram to each
#    DPORT, each from the next source port. Nothing answers: only what A
#    encrypts counts.
#  shared DST SPORT: the device's mask for DST's family comes into force
#    (until the worker has computed it, packets are keyed by the whole
#    flow): a datagram from a new source port then finds the bundle cached,
#    with no lookup (tx_bundle_lookups unchanged). Polled, bounded.
# All from CPU 0: the cache is per CPU.
SENDER=$(mktemp)
trap 'cleanup; rm -f "$SENDER"' EXIT
cat >"$SENDER" <<'PY'
import socket, subprocess, sys, time
mode, dst, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET

def send(dport):
    global sport
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", sport))
    sport += 1
    s.sendto(b"ipsecif", (dst, dport))
    s.close()

def lookups():
    out = subprocess.run(["ethtool", "-S", "ipsec1"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        k, _, v = line.strip().partition(":")
        if k == "tx_bundle_lookups":
            return int(v)
    return None

if mode == "send":
    for _ in range(int(sys.argv[4])):
        for dport in sys.argv[5:]:
            send(int(dport))
    sys.exit(0)
for _ in range(150):
    send(9)
    n = lookups()
    send(9)
    if n is not None and lookups() == n:
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PY
send() { ip netns exec "$A" taskset -c 0 python3 "$SENDER" send "$@"; }
# shared DST BASE: see above (from BASE on, each call its own source ports)
shared() { ip netns exec "$A" taskset -c 0 python3 "$SENDER" shared "$1" "$2"; }
SPORT=20000

# The wide policies rank last (priority 1000): the narrower ones below
# (priority 100) come first wherever they match.
wide() { out_pair 0x100 1000 0.0.0.0/0 ::/0; }
check "SA 0x100, outbound policies 0.0.0.0/0 and ::/0 of if_id 1" wide

# --- a flow flood shares one bundle --------------------------------------
check "0.0.0.0/0: new source ports find the bundle cached" shared 172.16.1.2 40000
l0=$(lookups) p0=$(a_pk 0x100)
send 172.16.1.2 30000 300 9
at_most "0.0.0.0/0: 300 datagrams from 300 source ports: at most 2 bundle lookups" \
	$((l0 + 2)) "$(lookups)"
check_ge "0.0.0.0/0: ... all 300 encrypted with SA 0x100" $((p0 + 300)) "$(a_pk 0x100)"
check "::/0: the same for IPv6" shared fd01::2 41000
l0=$(lookups) p0=$(a_pk 0x100)
send fd01::2 30000 300 9
at_most "::/0: 300 datagrams from 300 source ports: at most 2 bundle lookups" \
	$((l0 + 2)) "$(lookups)"
# (an IPv6 flow masked to nothing but its if_id once took the cached IPv4
# bundle: the lookups alone did not show it)
check_ge "::/0: ... all 300 encrypted with SA 0x100" $((p0 + 300)) "$(a_pk 0x100)"

# --- policies that differ by port, protocol, prefix ----------------------
# carried DESC SPI N: SA SPI has carried N packets; at least N for 0x100,
# which the device's own IPv6 packets (MLD, router solicitations) share.
carried() {
	if [ "$2" = 0x100 ]; then
		check_ge "$1" "$3" "$(a_pk "$2")"
	else
		check_eq "$1" "$3" "$(a_pk "$2")"
	fi
}

# interleaved NAME SPI_A DPORT_A SPI_B DPORT_B [DST]: 50 rounds of one
# datagram to each port; each SA carries exactly its port's 50.
interleaved() {
	local a0 b0
	a0=$(a_pk "$2") b0=$(a_pk "$4")
	send "${6:-172.16.1.2}" $SPORT 50 "$3" "$5"
	SPORT=$((SPORT + 100))
	carried "$1: SA $2 carried the 50 to port $3" "$2" $((a0 + 50))
	carried "$1: SA $4 carried the 50 to port $5" "$4" $((b0 + 50))
}

check "ports: a policy for UDP port 5001 (SA 0x301)" out_sa 0x301 proto udp dport 5001
check "ports: a policy for UDP port 5002 (SA 0x302)" out_sa 0x302 proto udp dport 5002
interleaved "ports" 0x301 5001 0x302 5002
interleaved "ports, another port beside" 0x301 5001 0x100 5003
ip -n "$A" xfrm policy delete dir out proto udp dport 5001 if_id 1
ip -n "$A" xfrm policy delete dir out proto udp dport 5002 if_id 1

check "protocol: a policy for ICMP only (SA 0x303)" out_sa 0x303 proto icmp
a0=$(a_pk 0x303) b0=$(a_pk 0x100)
for _ in 1 2 3; do
	ip netns exec "$A" taskset -c 0 ping -q -c 1 -W 1 172.16.1.2 >/dev/null 2>&1
	send 172.16.1.2 $SPORT 1 9
	SPORT=$((SPORT + 1))
done
check_eq "protocol: SA 0x303 carried the 3 pings" $((a0 + 3)) "$(a_pk 0x303)"
carried "protocol: SA 0x100 carried the 3 datagrams" 0x100 $((b0 + 3))
ip -n "$A" xfrm policy delete dir out proto icmp if_id 1

check "prefix: a policy for 172.16.1.128/25 (SA 0x304)" \
	out_sa 0x304 dst 172.16.1.128/25
check "prefix: new source ports to .200 find the bundle cached" \
	shared 172.16.1.200 42000
a0=$(a_pk 0x304) b0=$(a_pk 0x100)
send 172.16.1.200 $SPORT 50 9
send 172.16.1.100 $((SPORT + 50)) 50 9
send 172.16.1.201 $((SPORT + 100)) 50 9
SPORT=$((SPORT + 150))
check_eq "prefix: SA 0x304 carried the 100 to .200 and .201" $((a0 + 100)) "$(a_pk 0x304)"
carried "prefix: SA 0x100 carried the 50 to .100" 0x100 $((b0 + 50))
ip -n "$A" xfrm policy delete dir out dst 172.16.1.128/25 if_id 1

# The same for IPv6: once the mask was current, every IPv6 flow once took
# the bundle of the first one cached (the masked addresses were all ::).
check "prefix6: a policy for fd01::80/121 (SA 0x307)" \
	out_sa 0x307 src ::/0 dst fd01::80/121
check "prefix6: new source ports to fd01::c8 find the bundle cached" \
	shared fd01::c8 45000
a0=$(a_pk 0x307) b0=$(a_pk 0x100)
send fd01::c8 $SPORT 50 9
send fd01::64 $((SPORT + 50)) 50 9
send fd01::c9 $((SPORT + 100)) 50 9
SPORT=$((SPORT + 150))
check_eq "prefix6: SA 0x307 carried the 100 to fd01::c8 and fd01::c9" $((a0 + 100)) "$(a_pk 0x307)"
carried "prefix6: SA 0x100 carried the 50 to fd01::64" 0x100 $((b0 + 50))
ip -n "$A" xfrm policy delete dir out src ::/0 dst fd01::80/121 if_id 1

# --- changes while flows share a bundle ----------------------------------
check "while shared: ports 5004 and 5005 share one bundle" \
	shared 172.16.1.2 43000
l0=$(lookups)
send 172.16.1.2 $SPORT 10 5004 5005
SPORT=$((SPORT + 20))
at_most "while shared: ... at most 1 lookup for 20 datagrams" $((l0 + 1)) "$(lookups)"
check "while shared: a policy for port 5005 (SA 0x305) added" \
	out_sa 0x305 proto udp dport 5005
interleaved "policy added" 0x100 5004 0x305 5005
ip -n "$A" xfrm policy delete dir out proto udp dport 5005 if_id 1

check "while shared: again" shared 172.16.1.2 44000
# The newer of two SAs of one template wins for the flows its selector takes.
check "while shared: a newer SA for the same template, selector port 5007 only" \
	ip -n "$A" xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x306 \
	reqid 0x100 mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 1 \
	sel src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 5007
interleaved "SA added" 0x100 5006 0x306 5007

ksft_exit
