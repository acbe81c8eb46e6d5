#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-to-host tunnels whose traffic selector is the IKE/ESP peer itself,
# with the peer's address routed into the ipsec device, in transport and
# tunnel mode. Attached to the
# physical device, this needs no fwmark and no extra routing rule (Linux's
# xfrm interfaces drop it as a routing loop). Detached, it is a loop: drop.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

# h2h NS LOCAL4 REMOTE4 LOCAL6 REMOTE6 SPI_OUT SPI_IN KEY_OUT KEY_IN MODE
h2h() {
	local ns=$1 l4=$2 r4=$3 l6=$4 r6=$5 so=$6 si=$7 ko=$8 ki=$9 mode=${10}
	ip -n "$ns" link add ipsec1 link veth0 type ipsec 2>/dev/null
	ip -n "$ns" link set ipsec1 up
	ip -n "$ns" xfrm state flush
	ip -n "$ns" xfrm policy flush
	sa "$ns" "$l4" "$r4" "$so" "$ko" 1 "$mode" &&
	sa "$ns" "$r4" "$l4" "$si" "$ki" 1 "$mode" &&
	pol "$ns" out "$l4/32" "$r4/32" "$l4" "$r4" "$so" 1 "$mode" &&
	pol "$ns" in "$r4/32" "$l4/32" "$r4" "$l4" "$si" 1 "$mode" &&
	sa "$ns" "$l6" "$r6" "$((so + 1))" "$ko" 1 "$mode" &&
	sa "$ns" "$r6" "$l6" "$((si + 1))" "$ki" 1 "$mode" &&
	pol "$ns" out "$l6/128" "$r6/128" "$l6" "$r6" "$((so + 1))" 1 "$mode" &&
	pol "$ns" in "$r6/128" "$l6/128" "$r6" "$l6" "$((si + 1))" 1 "$mode" &&
	ip -n "$ns" route replace "$r4/32" dev ipsec1 src "$l4" &&
	ip -n "$ns" -6 route replace "$r6/128" dev ipsec1 src "$l6"
}

both_ends() {
	h2h "$A" $UNDER4_A $UNDER4_B $UNDER6_A $UNDER6_B 0x500 0x600 $KEY_AB $KEY_BA "$1" &&
	h2h "$B" $UNDER4_B $UNDER4_A $UNDER6_B $UNDER6_A 0x600 0x500 $KEY_BA $KEY_AB "$1"
}

for mode in transport tunnel; do
	check "$mode: both ends configured, peer address routed into ipsec1" both_ends $mode
	check_eq "$mode: no fwmark rule, only the default routing rules" 3 \
		"$(ip -n "$A" rule show | wc -l)"
	capture_start "$B" veth0
	check "$mode: IPv4 ping to the peer through ipsec1" ping_ok "$A" $UNDER4_B
	check "$mode: IPv6 ping to the peer through ipsec1" ping_ok "$A" $UNDER6_B
	capture_stop
	check_eq "$mode: no echo in clear on the wire" 0 "$(capture_count "$B" veth0 \
		'(icmp and (icmp[0]==8 or icmp[0]==0)) or (icmp6 and (ip6[40]==128 or ip6[40]==129))')"
	check_ge "$mode: ESP over IPv4 on the wire" 4 "$(capture_count "$B" veth0 'ip proto 50')"
	check_ge "$mode: ESP over IPv6 on the wire" 4 "$(capture_count "$B" veth0 'ip6 proto 50')"
	check_eq "$mode: no routing loop counted" 0 "$(stat "$A" ipsec1 collisions)"

	# Detached, the SA's route leads back into the device: a loop, dropped.
	check "$mode: detach ipsec1 (link 0)" ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" set ipsec1 link 0
	capture_start "$B" veth0
	check_fail "$mode: detached, ping to the peer fails" ping_ok "$A" $UNDER4_B
	capture_stop
	check_ge "$mode: ... counted as a loop (collisions)" 1 "$(stat "$A" ipsec1 collisions)"
	check_eq "$mode: ... and nothing left in clear" 0 \
		"$(capture_count "$B" veth0 'icmp and icmp[0]==8')"
	ip -n "$A" link del ipsec1
done

ksft_exit
