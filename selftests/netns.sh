#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads ipsecif with devices and SAs present
# A device moved to another namespace keeps encrypting in the namespace it
# was created in (its SAs and policies live there), like WireGuard. Namespace
# teardown deletes devices; the module unloads with devices and SAs present.
#   - A's ipsec1 moved into C, which has no SAs: ip -d link and ipsecif
#     show (text, JSON, fields as ipsecif.8 lists) name its link in A
#   - IPv4 and IPv6 pings from C: ESP on the wire, nothing in clear; the
#     if_id stays taken in A
#   - A's inbound policy removed: decrypted packets dropped; back: traffic
#   - pings C marks 5 (IPv4, IPv6) ignore A's policy for mark 5
#   - ipsec5 moved into a net namespace of another user namespace: its
#     root may bring it up, not change its if_id or link
#   - C deleted: the device goes, its if_id is free in A
#   - A, the birth namespace, deleted: a device moved to D goes with it
#   - rmmod with devices (one moved to E, one in the initial namespace)
#     and SAs present: devices gone, SAs stay; the module loads again
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0); ipsec1 (if_id 1) on
# each end attached to veth0, SAs of tunnel_pair 1; A's moved into
# C, 172.16.1.1 / fd01::1 there; B's 172.16.1.2 / fd01::2. D, E: more
# namespaces; A's ipsec5 goes into a user+net namespace unshare makes.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
mkns C

require "A: ipsec1 attached to veth0" ip -n "$A" link add ipsec1 link veth0 type ipsec
require "B: ipsec1 attached to veth0" ip -n "$B" link add ipsec1 link veth0 type ipsec
require "tunnel pair of if_id 1" tunnel_pair 1
pair_spis 1
ip -n "$B" addr add 172.16.1.2/24 dev ipsec1
ip -n "$B" addr add fd01::2/64 dev ipsec1 nodad
ip -n "$B" link set ipsec1 up

check "move A's ipsec1 into namespace C" ip -n "$A" link set ipsec1 netns "$C"
check_fail "... it left A" ip -n "$A" link show ipsec1
ip -n "$C" addr add 172.16.1.1/24 dev ipsec1
ip -n "$C" addr add fd01::1/64 dev ipsec1 nodad
ip -n "$C" link set ipsec1 up
check_eq "C has no SAs of its own" 0 "$(ip -n "$C" xfrm state | wc -l)"
check "ip -d link in C shows the link namespace" \
	link_info_has "$C" ipsec1 link-netns
# Its link is veth0 of A: a name of C would be another device, so the
# tool's JSON has no name for it, only the index and the netnsid.
if command -v ipsecif >/dev/null && command -v jq >/dev/null; then
	check "ipsecif -j show in C: link null, link_index and link_netnsid set" sh -c \
		"ip netns exec $C ipsecif -j show ipsec1 | jq -e '.[0] | .link == null and .link_index > 0 and (.link_netnsid | type) == \"number\" and .link_state == \"present\"'"
	check "ipsecif show in C gives the link's name with its netnsid" \
		ipsecif_shows "$C" ipsec1 'link: veth0 (netnsid [0-9]*)'
	if [ -f "$SELFTESTS/../userspace/ipsecif.8" ]; then
		check "... its tunnel is up: measured with A's SAs and policies" wait_for 50 sh -c \
			"ip netns exec $C ipsecif -j show ipsec1 | jq -e '.[0].tunnel == \"up\"'"
		# So no tunnel_down_reason (tool.sh's device has one).
		check_eq "... its JSON fields are all those ipsecif.8 documents" \
			"$(man_json_fields "Device object" | grep -vx tunnel_down_reason | tr '\n' ' ')" \
			"$(ip netns exec "$C" ipsecif -j show ipsec1 | jq '.[0]' | json_fields | tr '\n' ' ')"
	else
		skip "JSON fields against ipsecif.8" "no userspace/ipsecif.8 beside selftests/"
	fi
else
	skip "ipsecif show of the moved device" "ipsecif or jq not installed"
fi
capture_start "$B" veth0
check "IPv4 ping from C through the moved device" ping_ok "$C" 172.16.1.2
check "IPv6 ping from C through the moved device" ping_ok "$C" fd01::2
capture_stop
check_ge "encrypted on A's wire" 4 "$(capture_count "$B" veth0 'ip proto 50')"
check_eq "nothing in clear" 0 "$(capture_count "$B" veth0 'icmp or (icmp6 and ip6[40]==128)')"
check_ge "counters of the moved device" 4 "$(dev_stat "$C" ipsec1 rx_packets)"

# Its if_id and link select SAs and devices of A: they change only there,
# whoever asks from C (changelink cannot check the credentials of the
# socket that sent the request, as rtnetlink does for C's own namespace).
cnl() { ip netns exec "$C" python3 "$SELFTESTS/ipsecnl.py" "$@" 2>&1; }
refused() {	# refused DESC DEV ARGS...: EPERM with the message that says why
	local out
	if out=$(cnl set "${@:2}"); then
		nok "$1"
	elif grep -q "move it back" <<<"$out"; then
		ok "$1"
	else
		nok "$1"
		echo "#   $out"
	fi
}
refused "C's root may not change the moved device's if_id" ipsec1 if_id 2
refused "... nor its link" ipsec1 link 1
refused "... nor its link by name" ipsec1 link_name lo
anl() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
if ip -n "$A" link add ipsec6 type ipsec && anl set ipsec6 link_name nosuch0 >/dev/null &&
	ip -n "$A" link set ipsec6 netns "$C"; then
	refused "... nor make one that waits for its link (nosuch0) forget it" ipsec6 link 0
	check_eq "... it still waits for nosuch0" nosuch0 "$(cnl link_name ipsec6)"
	ip -n "$C" link del ipsec6
else
	nok "ipsec6 waiting for nosuch0, moved to C"
fi
check "... a request that keeps them is accepted" cnl set ipsec1 if_id 1
check_eq "... they are as they were" "kind ipsec link $(ip -n "$A" -j link show veth0 | jq '.[0].ifindex') if_id 1" \
	"$(cnl show ipsec1)"
check_fail "the if_id stays taken in A, the birth namespace" \
	ip -n "$A" link add ipsec1 type ipsec

# Inbound policy is still enforced across the move: remove it in A.
ip -n "$A" xfrm policy delete dir in src 0.0.0.0/0 dst 0.0.0.0/0 if_id 1
check_fail "without A's inbound policy, decrypted packets are dropped" ping_ok "$C" 172.16.1.2
pol "$A" in 0.0.0.0/0 0.0.0.0/0 $UNDER4_B $UNDER4_A $SPI_BA 1
check "with it back, traffic flows again" ping_ok "$C" 172.16.1.2

# A mark set in C is C's: A's policies, SAs and routes never see it. A
# policy of A for mark 5 (SA 0x7001, which B does not know) must not take
# pings that C marks 5; they go by the unmarked policy and get through.
mark_pol() {	# mark_pol SEL_DST
	ip -n "$A" xfrm policy add dir out src "$2" dst "$1" mark 5 mask 0xff if_id 1 \
		priority 10 tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid 0x7001 mode tunnel
}
# (A's policies of tunnel_pair rank after it: priority 100 instead of 0.)
marked() {
	local sel
	for sel in 0.0.0.0/0 ::/0; do
		ip -n "$A" xfrm policy update dir out src $sel dst $sel if_id 1 priority 100 \
			tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid $SPI_AB mode tunnel || return 1
	done
	sa "$A" $UNDER4_A $UNDER4_B 0x7001 $KEY_AB 1 &&
	mark_pol 172.16.1.2/32 0.0.0.0/0 && mark_pol fd01::2/128 ::/0
}
check "A: SA 0x7001 and policies for mark 5 to 172.16.1.2 and fd01::2" marked
pk0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
check "IPv4 pings marked 5 in C get through" \
	ip netns exec "$C" ping -q -c 2 -i 0.3 -W 2 -m 5 172.16.1.2
check "IPv6 pings marked 5 in C get through" \
	ip netns exec "$C" ping -q -c 2 -i 0.3 -W 2 -m 5 fd01::2
check_eq "... SA 0x7001 (A's policies for mark 5) carried none of them" 0 \
	"$(sa_pk "$A" $UNDER4_A $UNDER4_B 0x7001)"
check_ge "... the unmarked policy's SA carried all four" $((pk0 + 4)) \
	"$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"
ip -n "$A" xfrm policy delete dir out src 0.0.0.0/0 dst 172.16.1.2/32 mark 5 mask 0xff if_id 1
ip -n "$A" xfrm policy delete dir out src ::/0 dst fd01::2/128 mark 5 mask 0xff if_id 1

# Root of another user namespace may use the device, not re-bind it.
if command -v unshare >/dev/null && command -v nsenter >/dev/null; then
	# sleep bounds it (LIFE), cleanup kills it; it is ready once
	# unshare has exec'd sleep in the new namespaces.
	unshare --user --map-root-user --net sleep "$LIFE" >/dev/null 2>&1 </dev/null &
	upid=$!
	BG_PIDS+=("$upid")
	wait_for 150 grep -qx sleep /proc/$upid/comm
	ip -n "$A" link add ipsec5 link veth0 type ipsec
	ip -n "$A" link set ipsec5 netns "$upid"
	uns() { nsenter -t "$upid" -U -n --preserve-credentials "$@"; }
	check "device moved into a namespace of another user namespace" \
		uns ip link show ipsec5
	check "its root may bring it up" uns ip link set ipsec5 up
	out=$(uns python3 "$SELFTESTS/ipsecnl.py" set ipsec5 if_id 1 2>&1)
	if [ $? != 0 ] && grep -q "move it back" <<<"$out"; then
		ok "its root may not change if_id (SAs of the birth namespace)"
	else
		nok "its root may not change if_id (SAs of the birth namespace)"
		echo "#   $out"
	fi
	check_fail "... nor the link" uns python3 "$SELFTESTS/ipsecnl.py" set ipsec5 link 1
	kill "$upid"
	wait "$upid" 2>/dev/null
	BG_PIDS=()
else
	skip "device in another user namespace cannot be re-bound" "no unshare/nsenter"
fi

ip netns del "$C"
check "deleting C deletes the device: if_id 1 is free in A again" \
	wait_for 150 ip -n "$A" link add ipsec1 type ipsec
check "... a new ipsec1 of if_id 1 exists in A" ip -n "$A" link show ipsec1

# A device living elsewhere goes away with its birth namespace.
mkns D
ip -n "$A" link set ipsec1 netns "$D"
ip netns del "$A"
check "deleting the birth namespace deletes a moved device" \
	wait_for 150 no_link "$D" ipsec1

# Unload with devices (one moved) and SAs present everywhere.
mkns E
ip -n "$B" link add ipsec9 type ipsec
ip -n "$B" link set ipsec9 netns "$E"
ip link add ipsec77 type ipsec
check "rmmod with devices and SAs present" unload_module
check_fail "... devices are gone from B" ip -n "$B" link show ipsec1
check_fail "... from E" ip -n "$E" link show ipsec9
check_fail "... and from the initial namespace" ip link show ipsec77
check_ge "... SAs stay in B" 2 "$(ip -n "$B" xfrm state | grep -c '^src')"
check "the module loads again" load_module
check "and works: ipsec1 in B again" ip -n "$B" link add ipsec1 type ipsec

ksft_exit
