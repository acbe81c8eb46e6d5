#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An IKE daemon's own packets to a peer that is routed into the ipsec
# device (host-to-host): sockets that carry an outbound "allow, no
# transform" per-socket policy, as charon and pluto set on their IKE
# sockets, leave in clear through the attached physical device. Nothing
# else does: a plain socket, or one whose policy does not match, is
# encrypted; a detached device sends nothing in clear.
# Cases, in tunnel mode, then in transport mode:
#   - host-to-host, each end's peer routed into its ipsec1
#   - IPv4, then IPv6: 3 datagrams to UDP 500 from a bypass socket leave
#     in clear, not as ESP, counted as sent by ipsec1
#   - the same from a plain socket and from one whose policy does not
#     match the peer: all encrypted, nothing in clear
#   - ipsec1 detached: a bypass socket sends nothing in clear (B's own
#     bypass datagrams to A are the capture's control)
#
# Topology: wire() A 10.0.0.1 fd00::1 -- B 10.0.0.2 fd00::2 (veth0);
# ipsec1 (if_id 1) on each end attached to veth0, the peer's address
# routed into it (h2h: SAs 0x500 A to B, 0x600 B to A, +1 for IPv6).
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

send() {	# send DST {none|bypass|other}: 3 datagrams to port 500 from A
	ip netns exec "$A" python3 "$SELFTESTS/ikesock.py" "$1" 500 3 "$2"
}
clear500() {	# cleartext UDP to port 500 in the capture on B
	capture_count "$B" veth0 "udp dst port 500"
}

for mode in tunnel transport; do
	check "$mode: host-to-host, peer routed into ipsec1" both_ends $mode
	for dst in $UNDER4_B $UNDER6_B; do
		fam=IPv4; [ "$dst" = "$UNDER6_B" ] && fam=IPv6
		# ESP from A (B answers the datagrams with encrypted ICMP errors)
		esp="src host $UNDER4_A and ip proto 50"
		[ $fam = IPv6 ] && esp="src host $UNDER6_A and ip6 proto 50"
		tx0=$(dev_stat "$A" ipsec1 tx_packets)
		capture_start "$B" veth0
		check "$mode $fam: send from a bypass socket" send "$dst" bypass
		capture_stop
		check_eq "$mode $fam: ... the 3 datagrams leave in clear" 3 "$(clear500)"
		check_eq "$mode $fam: ... no ESP for them" 0 "$(capture_count "$B" veth0 "$esp")"
		check_ge "$mode $fam: ... counted as sent by ipsec1" $((tx0 + 3)) \
			"$(dev_stat "$A" ipsec1 tx_packets)"

		capture_start "$B" veth0
		check "$mode $fam: send from a plain socket" send "$dst" none
		check "$mode $fam: send from a socket whose policy does not match" \
			send "$dst" other
		capture_stop
		check_eq "$mode $fam: ... nothing in clear" 0 "$(clear500)"
		check_ge "$mode $fam: ... all 6 encrypted" 6 "$(capture_count "$B" veth0 "$esp")"
	done

	check "$mode: detach ipsec1" ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" \
		set ipsec1 link 0
	capture_start "$B" veth0
	send $UNDER4_B bypass
	send $UNDER6_B bypass
	# A control, so that "nothing" cannot come from a capture that saw
	# nothing: B's own bypass socket sends 3 datagrams to A in clear.
	ip netns exec "$B" python3 "$SELFTESTS/ikesock.py" $UNDER4_A 500 3 bypass
	capture_stop
	check_eq "$mode: detached, a bypass socket sends nothing in clear" 0 \
		"$(capture_count "$B" veth0 "udp dst port 500 and not src host $UNDER4_B")"
	check_eq "$mode: ... the capture saw B's 3 control datagrams" 3 \
		"$(capture_count "$B" veth0 "udp dst port 500 and src host $UNDER4_B")"
	ip -n "$A" link del ipsec1
	ip -n "$B" link del ipsec1
done
ksft_exit
