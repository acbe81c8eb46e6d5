#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-to-host tunnels whose traffic selector is the IKE/ESP peer itself,
# with the peer's address routed into the ipsec device, in transport and
# tunnel mode. Attached to the physical device, this needs no fwmark and
# no extra routing rule (Linux's xfrm interfaces drop it as a routing
# loop). Detached, it is a loop: dropped.
# Cases, in transport mode, then in tunnel mode:
#   - both ends configured: no fwmark rule, only the default rules
#   - IPv4 and IPv6 pings to the peer through ipsec1
#   - on the wire ESP over IPv4 and IPv6, no echo in clear; no
#     tx_looped_route counted
#   - ipsec1 detached: the ping fails, counted in tx_looped_route, nothing
#     in clear (B's echo to A, seen as ESP, is the capture's control)
#
# Topology: wire() A 10.0.0.1 fd00::1 -- B 10.0.0.2 fd00::2 (veth0);
# ipsec1 (if_id 1) on each end attached to veth0, the peer's address
# routed into it (h2h).
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

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
	# Exact on purpose: attached, nothing (background packets included)
	# can loop, so any count is a bug.
	check_eq "$mode: no routing loop counted" 0 "$(counter "$A" ipsec1 tx_looped_route)"

	# Detached, the SA's route leads back into the device: a loop, dropped.
	check "$mode: detach ipsec1 (link 0)" ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" set ipsec1 link 0
	capture_start "$B" veth0
	check_fail "$mode: detached, ping to the peer fails" ping_ok "$A" $UNDER4_B
	loops=$(counter "$A" ipsec1 tx_looped_route)
	# A control, so that "nothing" cannot come from a capture that saw
	# nothing: B's own echo to A leaves B as ESP (A's reply is dropped).
	ip netns exec "$B" ping -q -c 1 -W 1 $UNDER4_A >/dev/null 2>&1
	capture_stop
	check_ge "$mode: ... counted as a loop (tx_looped_route)" 1 "$loops"
	check_eq "$mode: ... and nothing left in clear" 0 \
		"$(capture_count "$B" veth0 'icmp and icmp[0]==8')"
	check_ge "$mode: ... the capture saw B's control echo as ESP" 1 \
		"$(capture_count "$B" veth0 "src host $UNDER4_B and ip proto 50")"
	ip -n "$A" link del ipsec1
done

ksft_exit
