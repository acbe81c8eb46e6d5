#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A namespace with SAs of an ipsec device's if_id deleted while ESP for
# those SAs keeps arriving: the receive callback must not look into the
# namespace's state once it is going away (the if_id table was once freed
# while ESP still reached the callback: a use-after-free in softirq, a
# kernel panic on the debug kernel).
#
# A floods B over a veth with ESP of four SAs of B (if_id 1): IPv4 and
# IPv6 outer headers, each with the right key and with a wrong one (ICV
# failures reach the callback too). Each round makes a new B, waits until
# B's ipsec1 has received both good and bad packets, moves a second device
# created in B to A, deletes B under the flood and waits until its devices
# are gone. The proof is the kernel log: nothing may be reported (checked
# here and by the harness); the debug kernel (KASAN, 2 vCPUs) runs more
# rounds. TEARDOWN_ROUNDS overrides the count.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"
mkns A || ksft_skip_all "cannot create namespaces"

case $(uname -r) in
*debug*) ROUNDS=${TEARDOWN_ROUNDS:-20} ;;
*) ROUNDS=${TEARDOWN_ROUNDS:-6} ;;
esac
KEY_WRONG=0xfedcba9876543210fedcba9876543210fedcba98
LOG0=$(dmesg | wc -l)

# A's side, kept for every round: plain policy-based SAs towards B, one
# inner /32 (/128) per SA.
a_sa() {	# a_sa SRC DST SPI KEY INNER
	ip -n "$A" xfrm state add src "$1" dst "$2" proto esp spi "$3" reqid "$3" \
		mode tunnel aead 'rfc4106(gcm(aes))' "$4" 128 flag af-unspec &&
	ip -n "$A" xfrm policy add dir out dst "$5" \
		tmpl src "$1" dst "$2" proto esp reqid "$3" mode tunnel
}
a_side() {
	a_sa $UNDER4_A $UNDER4_B 0x100 $KEY_AB 172.16.1.2/32 &&
	a_sa $UNDER4_A $UNDER4_B 0x101 $KEY_WRONG 172.16.1.3/32 &&
	a_sa $UNDER6_A $UNDER6_B 0x102 $KEY_AB fd01::2/128 &&
	a_sa $UNDER6_A $UNDER6_B 0x103 $KEY_WRONG fd01::3/128
}
require "A: four outbound SAs and policies (IPv4 and IPv6 outer, right and wrong key)" a_side

# B's side, new each round: ipsec1 (if_id 1) and the four inbound SAs,
# all with the right key; ipsec2 created in B and moved to A.
b_side() {
	local ns=$1
	veth "$A" veth0 $UNDER4_A/24 "$ns" veth0 $UNDER4_B/24 &&
	ip -n "$A" addr add $UNDER6_A/64 dev veth0 nodad &&
	ip -n "$ns" addr add $UNDER6_B/64 dev veth0 nodad &&
	ip -n "$A" route add 172.16.1.0/24 dev veth0 &&
	ip -n "$A" route add fd01::/64 dev veth0 &&
	ip -n "$ns" link add ipsec1 link veth0 type ipsec &&
	ip -n "$ns" link set ipsec1 up &&
	ip -n "$ns" link add ipsec2 type ipsec &&
	ip -n "$ns" link set ipsec2 netns "$A" &&
	sa "$ns" $UNDER4_A $UNDER4_B 0x100 $KEY_AB 1 &&
	sa "$ns" $UNDER4_A $UNDER4_B 0x101 $KEY_AB 1 &&
	sa "$ns" $UNDER6_A $UNDER6_B 0x102 $KEY_AB 1 &&
	sa "$ns" $UNDER6_A $UNDER6_B 0x103 $KEY_AB 1
}

# The flood: UDP to the four inner addresses, as fast as A can, whether
# or not a route exists at the moment (between rounds it does not).
timeout "$LIFE" ip netns exec "$A" python3 -c '
import socket
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
dsts = [(s4, ("172.16.1.2", 9)), (s4, ("172.16.1.3", 9)),
        (s6, ("fd01::2", 9)), (s6, ("fd01::3", 9))]
while True:
    for s, d in dsts:
        try:
            s.sendto(b"teardown", d)
        except OSError:
            pass
' &
BG_PIDS+=($!)

# got NS: B's ipsec1 has received good packets and counted bad ones, of
# both outer families (the SAs' own counters say which arrived).
got() {
	local ns=$1 spi
	[ "$(dev_stat "$ns" ipsec1 rx_packets)" -gt 0 ] &&
	[ "$(dev_stat "$ns" ipsec1 rx_errors)" -gt 0 ] || return 1
	for spi in 0x100 0x102; do
		local src=$UNDER4_A dst=$UNDER4_B
		[ $spi = 0x102 ] && src=$UNDER6_A dst=$UNDER6_B
		[ "$(sa_pk "$ns" $src $dst $spi)" -gt 0 ] || return 1
	done
}
a_clean() { ! ip -n "$A" link show veth0 && ! ip -n "$A" link show ipsec2; } >/dev/null 2>&1

reached=0 gone=0 built=0
for ((r = 1; r <= ROUNDS; r++)); do
	B=ipsecif-teardown-$r-$RANDOM$RANDOM
	ip netns add "$B" || break
	NSLIST+=("$B")
	ip -n "$B" link set lo up
	if ! b_side "$B"; then
		info "round $r: setting up B failed"
		ip netns del "$B"
		wait_for 150 a_clean
		continue
	fi
	built=$((built + 1))
	wait_for 150 got "$B" && reached=$((reached + 1))
	ip netns del "$B"
	wait_for 300 a_clean && gone=$((gone + 1))
done
info "$ROUNDS rounds: $built set up, $reached with good and bad ESP through ipsec1, $gone gone"
check_eq "every round set up B (devices, four SAs of if_id 1)" "$ROUNDS" "$built"
check_eq "every round: good and bad ESP of both families reached ipsec1 before B was deleted" \
	"$ROUNDS" "$reached"
check_eq "every round: B's devices went with it, ipsec2 moved to A included" "$ROUNDS" "$gone"

# Each namespace's devices went in its exit, after the module's pre_exit
# and before it freed the table; the flood went on. The module still works,
# and the kernel said nothing (the harness reads the whole log again at the
# end of the run, after the last exits).
check "the module still makes devices" ip -n "$A" link add ipsec3 type ipsec
reports=$(dmesg | tail -n +"$((LOG0 + 1))" |
	grep -E 'BUG:|KASAN|UBSAN|general protection|Oops|WARNING:|Call Trace' | head -5)
check_eq "kernel log: no fault reported during the rounds" "" "$reports"

ksft_exit
