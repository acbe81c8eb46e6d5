#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: counts SA frees with a kprobe (any test's SAs would count)
# The per-CPU bundle cache of the transmit path: a cached bundle never
# outlives what made it (SA rekeyed or deleted, policy deleted, if_id
# changed), and never keeps a device from going away.
#   - a flow of pings, always from CPU 0, through ipsec1, IPv4 and IPv6
#   - rekey: a newer outbound SA 0x101 (same reqid) takes the flow over
#   - the outbound SAs deleted, then the out policy: the flow stops,
#     counted as tx_no_sa, nothing of it in clear on the wire
#   - if_id changed to 9: the flow cached under if_id 1 stops; back to 1
#   - A's SAs flushed, ipsec1 idle: every one is freed (a kprobe counts
#     __xfrm_state_destroy)
#   - ipsec1 under ipsec2's bundle (tunnel in tunnel), then veth0 under
#     ipsec1's, deleted at once
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0); ipsec1 (if_id 1) on
# each end attached to veth0, 172.16.1.1 / 172.16.1.2, fd01::1 / fd01::2,
# SAs of tunnel_pair 1 (0x10002 A to B, 0x10003 B to A). On A only, ipsec2
# (if_id 2, detached, 172.16.3.1) with SAs from 172.16.1.1 to 172.16.1.2,
# through ipsec1.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

# Three pings of one flow (ICMP echo keys the cache by type and code),
# always sent from CPU 0 so that they meet the entry the last ones left.
pings() {
	ip netns exec "$A" taskset -c 0 ping -q -c 3 -i 0.2 -W 1 "${1:-172.16.1.2}" \
		>/dev/null 2>&1
}
ab_pk() { sa_pk "$A" $UNDER4_A $UNDER4_B "$1"; }

ipsec_end "$A" 1 1
ipsec_end "$B" 1 2
require "tunnel pair of if_id 1" tunnel_pair 1
pair_spis 1

check "a flow goes through ipsec1" pings
check "... IPv6 too" pings fd01::2
check_ge "... encrypted with SA $SPI_AB" 6 "$(ab_pk $SPI_AB)"

# --- rekey: a newer SA of the same reqid replaces the cached bundle ------
rekey() {
	local ns
	for ns in "$A" "$B"; do
		ip -n "$ns" xfrm state add src $UNDER4_A dst $UNDER4_B proto esp \
			spi 0x101 reqid $SPI_AB mode tunnel \
			aead 'rfc4106(gcm(aes))' 0x00112233445566778899aabbccddeeff00112233 128 \
			if_id 1 flag af-unspec || return 1
	done
}
check "rekey: a new outbound SA 0x101 (the old one stays)" rekey
# Read after the rekey: before it, ipsec1's own MLD or router solicitation
# may still have used the old SA; after it, only a stale cached bundle can.
old=$(ab_pk $SPI_AB)
check "rekey: the same flow goes on" pings
check_ge "rekey: ... now with the new SA" 3 "$(ab_pk 0x101)"
check_eq "rekey: ... and no longer with the old one" "$old" "$(ab_pk $SPI_AB)"

# --- SAs deleted: the cached bundle goes with them -----------------------
check "the flow is cached on the new SA" pings
nosa0=$(counter "$A" ipsec1 tx_no_sa)
capture_start "$B" veth0
ip -n "$A" xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp spi $SPI_AB
ip -n "$A" xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp spi 0x101
check_fail "SAs deleted: the flow stops" pings
check_ge "SAs deleted: ... counted as tx_no_sa" $((nosa0 + 3)) \
	"$(counter "$A" ipsec1 tx_no_sa)"

# --- policy deleted -------------------------------------------------------
sa "$A" $UNDER4_A $UNDER4_B $SPI_AB $KEY_AB 1
check "SA back: the flow goes on" pings
nosa0=$(counter "$A" ipsec1 tx_no_sa)
ip -n "$A" xfrm policy delete dir out src 0.0.0.0/0 dst 0.0.0.0/0 if_id 1
check_fail "policy deleted: the flow stops" pings
check_ge "policy deleted: ... counted as tx_no_sa" $((nosa0 + 3)) \
	"$(counter "$A" ipsec1 tx_no_sa)"
capture_stop
check_none "nothing of it in clear on the wire" "$B" veth0 icmp
# ... on a capture that saw the flow while it went ("SA back": 3 ESP from A)
check_ge "... the capture saw the flow that went on as ESP" 3 \
	"$(capture_count "$B" veth0 "src host $UNDER4_A and ip proto 50")"
pol "$A" out 0.0.0.0/0 0.0.0.0/0 $UNDER4_A $UNDER4_B $SPI_AB 1
check "policy back: the flow goes on" pings

# --- if_id changed ---------------------------------------------------------
nosa0=$(counter "$A" ipsec1 tx_no_sa)
ip -n "$A" link set ipsec1 type ipsec if_id 9
# Read once ipsec1 is if_id 9: before, its own background packets may
# still use the SA of if_id 1; after, only a bundle cached under if_id 1 can.
old=$(ab_pk $SPI_AB)
check_fail "if_id 9: the flow cached under if_id 1 stops" pings
check_eq "if_id 9: ... the SA of if_id 1 carried none of it" "$old" "$(ab_pk $SPI_AB)"
check_ge "if_id 9: ... counted as tx_no_sa" $((nosa0 + 3)) \
	"$(counter "$A" ipsec1 tx_no_sa)"
ip -n "$A" link set ipsec1 type ipsec if_id 1
check "if_id 1 again: it goes on" pings

# --- no key material kept alive: deleted SAs are freed, the device idle ---
# A kprobe counts __xfrm_state_destroy(), which runs when an SA's last
# reference goes: a bundle still cached would hold the outbound one.
if probe_add destroy p __xfrm_state_destroy; then
	check "the flow is cached again" pings
	n=$(ip -n "$A" xfrm state | grep -c '^src')
	d0=$(probe_count destroy)
	ip -n "$A" xfrm state flush
	check "A's $n SAs flushed, ipsec1 idle: every one is freed (none kept by the cache)" \
		wait_for 50 probe_reaches destroy $((d0 + n))
	probe_del destroy
	ip -n "$A" xfrm policy flush
	check "the SAs and policies again" \
		tunnel "$A" $UNDER4_A $UNDER4_B $SPI_AB $SPI_BA $KEY_AB $KEY_BA 1
	check "... the flow goes on" pings
else
	skip "deleted SAs are freed with the device idle" "no kprobes on __xfrm_state_destroy"
fi

# --- a device under the bundle goes away ----------------------------------
# ipsec2 carries its ESP to 172.16.1.2, routed into ipsec1: the bundle
# ipsec2 caches has ipsec1 as its device. When a device goes, the kernel
# moves the device reference of every bundle away from it, cached or not;
# a leaked reference would keep `ip link del` waiting forever.
ip -n "$A" link add ipsec2 type ipsec
ip -n "$A" link set ipsec2 up
ip -n "$A" addr add 172.16.3.1/24 dev ipsec2
check "tunnel in tunnel: SAs of ipsec2 over ipsec1" \
	tunnel "$A" 172.16.1.1 172.16.1.2 0x300 0x400 $KEY_AB $KEY_BA 2 tunnel 0.0.0.0/0 -
ip netns exec "$A" ping -q -c 2 -W 1 172.16.3.2 >/dev/null 2>&1
check_ge "tunnel in tunnel: ipsec2 sent through ipsec1" 2 "$(dev_stat "$A" ipsec2 tx_packets)"
check "ipsec1, under ipsec2's bundle, is deleted at once" \
	timeout 20 ip -n "$A" link del ipsec1
check "ipsec2 is still there" ip -n "$A" link show ipsec2

ip -n "$A" link add ipsec1 link veth0 type ipsec
ip -n "$A" link set ipsec1 up
ip -n "$A" addr add 172.16.1.1/24 dev ipsec1
check "ipsec1 again: the flow goes on (bundle cached)" pings
check "veth0, under ipsec1's cached bundle, is deleted at once" \
	timeout 20 ip -n "$A" link del veth0
check_eq "... and ipsec1 is detached" "kind ipsec link 0 if_id 1" \
	"$(ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" show ipsec1)"

ksft_exit
