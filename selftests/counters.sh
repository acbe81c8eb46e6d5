#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Counters that say why: each per-cause counter of `ethtool -S ipsecN`
# rises for its cause, and no other counter of the device moves with it
# (tx_bundle_lookups excepted where a bundle is looked up). `ipsecif show`
# and its JSON show the same names and values.
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0). IPv6 is off on the
# ipsec devices so that no background packet (MLD, RS) disturbs a count.
# Cases, each on a device of its own (ipsecN, if_id N):
#   1  host-to-host tunnel mode, peer routed in: tx_own_esp, tx_ike_bypass
#   2  a working subnet tunnel: tx_bundle_lookups only, then tx_too_big,
#      tx_malformed (AF_PACKET), rx_device_down (B sends while it is down)
#   3  B's key is wrong: rx_xfrm_errors
#   4  detached, the SA's outer route leads into the device: tx_looped_route
#   5  attached, no policy for the if_id: tx_no_sa
#   6  detached, a packet socket's packet has no route: tx_no_route
#   7  an SA whose hard packet limit runs out in output: tx_output_errors
#   8  moved to namespace C, no inbound policy: rx_policy_rejected
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
command -v ethtool >/dev/null || ksft_skip_all "ethtool not installed"
wire || ksft_skip_all "cannot create namespaces and veth"
mkns C || ksft_skip_all "cannot create a namespace"
for ns in "$A" "$B" "$C"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done

NAMES="tx_malformed tx_no_route tx_no_sa tx_looped_route tx_too_big
	tx_output_errors tx_ike_bypass tx_own_esp tx_bundle_lookups
	rx_xfrm_errors rx_policy_rejected rx_device_down tx_link_scope_no_policy"
check "ethtool -S lists every per-cause counter" bash -c \
	"ip -n $A link add ipsec9 type ipsec && out=\$(ip netns exec $A ethtool -S ipsec9) &&
	 for n in $(echo $NAMES); do grep -q \"^ *\$n: 0\$\" <<<\"\$out\" || exit 1; done"
check_eq "... and nothing else" "$(echo $NAMES | wc -w)" "$(counters "$A" ipsec9 | wc -l)"
ip -n "$A" link del ipsec9

# rises NS DEV CAUSE MIN ALSO CMD...: run CMD (its status is not checked);
# CAUSE then rose by at least MIN, and no counter but CAUSE and those in
# ALSO ("" or a space-separated list) changed.
rises() {
	local ns=$1 dev=$2 cause=$3 min=$4 also=" $3 $5 " before after moved
	shift 5
	before=$(counters "$ns" "$dev")
	"$@" >/dev/null 2>&1
	after=$(counters "$ns" "$dev")
	moved=$(join <(sort <<<"$before") <(sort <<<"$after") |
		awk -v also="$also" '$2 != $3 && index(also, " " $1 " ") == 0 { printf "%s %s>%s ", $1, $2, $3 }')
	check_ge "$cause: rises by at least $min" \
		$(($(awk -v k="$cause" '$1 == k { print $2 }' <<<"$before") + min)) \
		"$(awk -v k="$cause" '$1 == k { print $2 }' <<<"$after")"
	check_eq "$cause: no other counter of $dev moves" "" "$moved"
}

ipa() { ip -n "$A" "$@"; }
ipb() { ip -n "$B" "$@"; }
pings() { ip netns exec "$1" ping -q -c "${3:-3}" -i 0.2 -W 1 "$2"; }

# subnet N [KEY_B_SENDS]: ipsecN on both ends, attached, 172.16.N.1 and
# .2, a tunnel-mode SA pair and policies of if_id N (SPIs 0xN00, 0xN01).
subnet() {
	local n=$1 kb=${2:-$KEY_BA} ns dev
	for ns in "$A" "$B"; do
		ip -n "$ns" link add ipsec$n link veth0 type ipsec || return 1
	done
	ipa addr add 172.16.$n.1/32 peer 172.16.$n.2/32 dev ipsec$n &&
	ipb addr add 172.16.$n.2/32 peer 172.16.$n.1/32 dev ipsec$n &&
	ipa link set ipsec$n up && ipb link set ipsec$n up &&
	tunnel "$A" $UNDER4_A $UNDER4_B 0x${n}00 0x${n}01 $KEY_AB $KEY_BA $n tunnel \
		172.16.$n.0/24 - &&
	tunnel "$B" $UNDER4_B $UNDER4_A 0x${n}01 0x${n}00 "$kb" $KEY_AB $n tunnel \
		172.16.$n.0/24 -
}

# --- 1: host-to-host, tunnel mode: our own ESP and the IKE bypass ---------
# h2h4 NS LOCAL REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN: IPv4 host-to-host in
# tunnel mode on ipsec1 (if_id 1), attached, the peer routed into it.
h2h4() {
	ip -n "$1" link add ipsec1 link veth0 type ipsec &&
	ip -n "$1" link set ipsec1 up &&
	sa "$1" "$2" "$3" "$4" "$6" 1 && sa "$1" "$3" "$2" "$5" "$7" 1 &&
	pol "$1" out "$2/32" "$3/32" "$2" "$3" "$4" 1 &&
	pol "$1" in "$3/32" "$2/32" "$3" "$2" "$5" 1 &&
	ip -n "$1" route replace "$3/32" dev ipsec1 src "$2"
}
check "h2h: A's end on ipsec1" h2h4 "$A" $UNDER4_A $UNDER4_B 0x100 0x101 $KEY_AB $KEY_BA
check "h2h: B's end" h2h4 "$B" $UNDER4_B $UNDER4_A 0x101 0x100 $KEY_BA $KEY_AB
rises "$A" ipsec1 tx_own_esp 2 tx_bundle_lookups pings "$A" $UNDER4_B
check "h2h: ... the pings were answered" pings "$A" $UNDER4_B 1
rises "$A" ipsec1 tx_ike_bypass 3 "" \
	ip netns exec "$A" python3 "$SELFTESTS/ikesock.py" $UNDER4_B 500 3 bypass
for ns in "$A" "$B"; do
	ip -n "$ns" link del ipsec1
	ip -n "$ns" xfrm policy flush
	ip -n "$ns" xfrm state flush
done

# --- 2: a working tunnel -------------------------------------------------
check "subnet tunnel on ipsec2" subnet 2
rises "$A" ipsec2 tx_bundle_lookups 1 "" pings "$A" 172.16.2.2
check "... the pings were answered" pings "$A" 172.16.2.2 1
check_ge "... fewer bundle lookups than packets" 1 \
	$(($(dev_stat "$A" ipsec2 tx_packets) - $(counter "$A" ipsec2 tx_bundle_lookups)))
ipa link set ipsec2 mtu 1500	# pinned: a packet that fits it, not the tunnel
rises "$A" ipsec2 tx_too_big 1 tx_bundle_lookups \
	ip netns exec "$A" ping -q -c 1 -M do -s 1460 -W 1 172.16.2.2
sent=$(ip netns exec "$A" python3 "$SELFTESTS/inject.py" ipsec2 bad)
check_ge "malformed frames sent into ipsec2" 10 "${sent:-0}"
rises "$A" ipsec2 tx_malformed "${sent:-1}" "" \
	ip netns exec "$A" python3 "$SELFTESTS/inject.py" ipsec2 bad
ipa link set ipsec2 down
rises "$A" ipsec2 rx_device_down 3 "" pings "$B" 172.16.2.1
ipa link set ipsec2 up

# --- 3: B encrypts with the wrong key ------------------------------------
check "ipsec3: B's outbound key is wrong" subnet 3 $KEY_AB
rises "$A" ipsec3 rx_xfrm_errors 3 "" pings "$B" 172.16.3.1
check_ge "... counted as rx_errors too" 3 "$(dev_stat "$A" ipsec3 rx_errors)"

# --- 4: detached, the outer route leads back into the device --------------
ipa link add ipsec4 type ipsec
ipa addr add 172.16.4.1/32 dev ipsec4
ipa link set ipsec4 up
ipa route add 172.16.4.0/24 dev ipsec4
ipa route add 192.0.2.99/32 dev ipsec4
sa "$A" 172.16.4.1 192.0.2.99 0x400 $KEY_AB 4
pol "$A" out 172.16.4.0/24 172.16.4.0/24 172.16.4.1 192.0.2.99 0x400 4
rises "$A" ipsec4 tx_looped_route 3 tx_bundle_lookups pings "$A" 172.16.4.2

# --- 5: no policy for the if_id ------------------------------------------
ipa link add ipsec5 link veth0 type ipsec
ipa addr add 172.16.5.1/32 peer 172.16.5.2/32 dev ipsec5
ipa link set ipsec5 up
drop0=$(dev_stat "$A" ipsec5 tx_dropped)
rises "$A" ipsec5 tx_no_sa 3 tx_bundle_lookups pings "$A" 172.16.5.2
check_ge "... and tx_dropped" $((drop0 + 3)) "$(dev_stat "$A" ipsec5 tx_dropped)"
check_eq "... tx_carrier_errors keeps its meaning (0)" 0 "$(dev_stat "$A" ipsec5 tx_carrier_errors)"

# --- 6: detached, no route for a packet socket's packet -------------------
ipa link add ipsec6 type ipsec
ipa link set ipsec6 up
rises "$A" ipsec6 tx_no_route 1 tx_bundle_lookups \
	ip netns exec "$A" python3 "$SELFTESTS/inject.py" ipsec6 good

# --- 7: the SA's hard packet limit runs out in xfrm's output ---------------
check "ipsec7: tunnel" subnet 7
ipa xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp spi 0x700
ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x700 reqid 0x700 \
	mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 7 flag af-unspec \
	limit packet-hard 2
rises "$A" ipsec7 tx_output_errors 1 "tx_bundle_lookups tx_no_sa" pings "$A" 172.16.7.2 3
check_eq "... exactly the one packet that crossed the limit" 1 \
	"$(counter "$A" ipsec7 tx_output_errors)"

# --- 8: moved to C, no inbound policy in A --------------------------------
check "ipsec8: tunnel" subnet 8
ipa xfrm policy delete dir in src 172.16.8.0/24 dst 172.16.8.0/24 if_id 8
ipa link set ipsec8 netns "$C"
ip -n "$C" addr add 172.16.8.1/32 peer 172.16.8.2/32 dev ipsec8
ip -n "$C" link set ipsec8 up
rises "$C" ipsec8 rx_policy_rejected 3 "" pings "$B" 172.16.8.1

# --- ipsecif show: the same names and values ------------------------------
if command -v ipsecif >/dev/null; then
	json=$(ip netns exec "$A" ipsecif -j show ipsec5)
	check_eq "ipsecif -j show: counters.tx_no_sa as ethtool -S" \
		"$(counter "$A" ipsec5 tx_no_sa)" "$(jq -r '.[0].counters.tx_no_sa' <<<"$json")"
	check_eq "... every name of ethtool -S, in order" \
		"$(counters "$A" ipsec5 | awk '{print $1}' | tr '\n' ' ')" \
		"$(jq -r '.[0].counters | keys_unsorted | join(" ")' <<<"$json") "
	check "ipsecif show: the counters that are not zero" \
		ipsecif_shows "$A" ipsec5 'counters: .*tx_no_sa [1-9]'
else
	skip "ipsecif show: the same counters" "ipsecif tool not installed"
fi
ksft_exit
