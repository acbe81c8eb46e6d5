#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An MTU that fits the tunnel: an attached device's MTU is its link's MTU
# minus the largest overhead of its SAs (a conservative 121 bytes before
# any SA), kept current when the link's MTU changes and SAs come and go;
# `mtu N` pins it, `mtu auto` / `mtu_auto on` turns it back on.
#   - values: no SA, plain ESP, NAT-T (8 bytes less), link 1500 -> 1400
#   - pinned: neither the link nor SAs change it; back to automatic
#   - headroom for the SAs' headers: 100 pings from A and their replies
#     are not copied to larger buffers on the way out (kprobe count); its
#     value detached and with an IPv6 outer header (IFLA_HEADROOM: 7.2, not 6.1 or 6.12)
#   - a 1 MB upload from a LAN host whose ICMP is dropped, through a
#     gateway clamping MSS to the route MTU: crosses with no ESP fragment;
#     with the MTU pinned at 1500 (negative control) it stalls
#   - 50 more devices: one walk over the SAs per change of the link's MTU
#     or of the SAs, not one per device (kprobe count)
#
# Topology: L 10.8.0.2 -- A 10.8.0.1 (veth8, forwards) ; wire() A -- B;
# ipsec1 (if_id 1) on A and B attached to veth0: 172.16.1.1 / 172.16.1.2.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
mkns L || ksft_skip_all "cannot create a namespace"
veth "$L" veth8 10.8.0.2/24 "$A" veth8 10.8.0.1/24 || ksft_skip_all "no veth"
ip -n "$L" route add default via 10.8.0.1
ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=1
WORK=$(mktemp -d)
ipa() { ip -n "$A" "$@"; }
mtu() { ip -n "$1" -j link show "$2" | jq -r '.[0].mtu'; }
mtu_is() { [ "$(mtu "$1" "$2")" = "$3" ]; }
mtu_gt() { [ "$(mtu "$1" "$2")" -gt "$3" ]; }
auto() { ip -n "$1" -d -j link show "$2" | jq -r '.[0].linkinfo.info_data.mtu_auto'; }

for ns in "$A" "$B"; do
	ip -n "$ns" link add ipsec1 link veth0 type ipsec
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.ipsec1.disable_ipv6=1
done
check_eq "no SA yet: link MTU minus 121" 1379 "$(mtu "$A" ipsec1)"
check_eq "... automatic mode (ip -d link: mtu_auto on)" on "$(auto "$A" ipsec1)"
check "... ipsecif show says (auto)" ipsecif_shows "$A" ipsec1 'mtu: 1379 (auto)'

require "tunnel pair of if_id 1" tunnel_pair 1
check "SAs added: the MTU follows (AES-GCM, IPv4 outer)" wait_for 50 mtu_gt "$A" ipsec1 1379
plain=$(mtu "$A" ipsec1)
check_ge "... at most 1500 - 52 (outer, ESP, IV, ICV)" "$plain" 1448
check_ge "... and at least 1440" 1440 "$plain"
check_eq "B's device too" "$plain" "$(mtu "$B" ipsec1)"

# NAT-T on ipsec2 (if_id 2) over the same link: 8 bytes of UDP less.
ipa link add ipsec2 link veth0 type ipsec
for spi in 0x200 0x201; do
	ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi $spi reqid $spi \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 2 \
		encap espinudp 4500 4500 0.0.0.0
done
check "NAT-T SAs: an MTU 8 bytes smaller than plain ESP" wait_for 50 \
	mtu_is "$A" ipsec2 $((plain - 8))

ipa link set veth0 mtu 1400
check_eq "link MTU 1500 -> 1400: the device follows" $((plain - 100)) "$(mtu "$A" ipsec1)"
ipa link set veth0 mtu 1500
check_eq "... and back" "$plain" "$(mtu "$A" ipsec1)"

# --- pinned, then automatic again ----------------------------------------------
ipa link set ipsec1 mtu 1300
check_eq "mtu 1300 pins it (mtu_auto off)" off "$(auto "$A" ipsec1)"
check "... ipsecif show says (pinned)" ipsecif_shows "$A" ipsec1 'mtu: 1300 (pinned)'
ipa link set veth0 mtu 1400
check_eq "... the link's MTU no longer changes it" 1300 "$(mtu "$A" ipsec1)"
ipa link set veth0 mtu 1500
check "ipsecif set ipsec1 mtu auto" ip netns exec "$A" ipsecif set ipsec1 mtu auto
check_eq "... automatic again, the value of its SAs" "$plain" "$(mtu "$A" ipsec1)"
err_is "an MTU and mtu_auto on in one request are refused" "together" \
	ipa link set ipsec1 mtu 1300 type ipsec mtu_auto on
check_eq "... and change nothing" "$plain" "$(mtu "$A" ipsec1)"
check "ip link add ... mtu 1400 creates it pinned" \
	sh -c "ip -n $A link add ipsec3 mtu 1400 link veth0 type ipsec &&
	       [ \"\$(ip -n $A -d -j link show ipsec3 | jq -r '.[0].linkinfo.info_data.mtu_auto')\" = off ] &&
	       [ \"\$(ip -n $A -j link show ipsec3 | jq -r '.[0].mtu')\" = 1400 ]"
ipa link add ipsec4 type ipsec
check_eq "a detached device keeps 1500" 1500 "$(mtu "$A" ipsec4)"

# --- a 1 MB upload from L, whose ICMP is dropped, through A clamping MSS -------
check "L drops ICMP destination unreachable (nft)" ip netns exec "$L" nft -f - <<'NFT'
table inet f {
	chain in { type filter hook input priority 0; icmp type destination-unreachable drop; }
}
NFT
check "A clamps the MSS of forwarded SYNs to the route MTU (nft)" \
	ip netns exec "$A" nft -f - <<'NFT'
table inet clamp {
	chain mss {
		type filter hook forward priority mangle;
		oifname "ipsec1" tcp flags syn tcp option maxseg size set rt mtu
	}
}
NFT
ipa addr add 172.16.1.1/32 dev ipsec1
ip -n "$B" addr add 172.16.1.2/32 dev ipsec1
ipa link set ipsec1 up
ip -n "$B" link set ipsec1 up
ipa route add 172.16.1.2/32 dev ipsec1
ip -n "$B" route add 10.8.0.0/24 dev ipsec1 src 172.16.1.2
head -c 1048576 /dev/urandom >"$WORK/1m"

upload() {	# upload PORT LIMIT: 1 MB from L to B; true if all arrived
	rm -f "$WORK/up"
	timeout $(($2 + 10)) ip netns exec "$B" socat -u TCP-LISTEN:$1,reuseaddr \
		CREATE:"$WORK/up" 2>/dev/null &
	BG_PIDS+=($!)
	wait_for 50 listens "$B" tcp "$1" || return 1
	timeout "$2" ip netns exec "$L" socat -u OPEN:"$WORK/1m" TCP:172.16.1.2:$1 2>/dev/null
	wait_for 25 cmp -s "$WORK/1m" "$WORK/up"
}
check "L reaches B through the tunnel" ping_ok "$L" 172.16.1.2

# --- headroom: a packet sent from the host is not copied on its way out ------
# The device reserves room for its SAs' headers and the link's; without it
# xfrm_output() copies every packet a socket sends into a larger buffer
# (pskb_expand_head(), counted by a kprobe). Echo requests from A (its
# address on veth8) and B's replies: both sent by the host into ipsec1.
if probe_add expand p pskb_expand_head; then
	pair_spis 1
	e0=$(probe_count expand) s0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
	check "100 echo requests from A and their replies cross" \
		ip netns exec "$A" ping -q -c 100 -i 0.01 -W 5 -I 10.8.0.1 172.16.1.2
	check_ge "... through A's SA" $((s0 + 100)) "$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"
	at_most "... with at most 10 packets copied for headroom (was 2 per ping)" \
		10 $(($(probe_count expand) - e0))
	probe_del expand
else
	skip "packets sent from the host are not copied for headroom" "no kprobes"
fi

# The headroom's value, where the kernel reports it (IFLA_HEADROOM): the
# largest SA header (AES-GCM: ESP 8 + IV 8 + outer IPv4 20 or IPv6 40)
# plus the link's reserved space (Ethernet: 16, also taken when detached),
# capped at NET_SKB_PAD (64 on x86), minus 1 (rounded up again to 16).
hr() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" headroom "$1"; }
hr_is() { [ "$(hr "$1")" = "$2" ]; }
if [ "$(hr ipsec4)" = - ]; then
	skip "the headroom's value, detached and with an IPv6 outer header" \
		"the kernel does not report IFLA_HEADROOM"
else
	check_eq "headroom: detached ipsec4 with no SA: 0" 0 "$(hr ipsec4)"
	ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x400 reqid 0x400 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 4
	check "... with an SA, IPv4 outer: 36 + 16 - 1 (Ethernet's room when detached)" \
		wait_for 50 hr_is ipsec4 51
	ipa xfrm state add src fd00::1 dst fd00::2 proto esp spi 0x401 reqid 0x401 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 3
	check "ipsec3 on veth0, an IPv6 outer SA: 56 + 16 capped at 64, minus 1" \
		wait_for 50 hr_is ipsec3 63
	ipa xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp spi 0x400
	check "ipsec4's SA deleted: 0 again" \
		wait_for 50 hr_is ipsec4 0
fi

capture_start "$B" veth0
check "automatic MTU: the 1 MB upload crosses" upload 5001 120
capture_stop
check_ge "... as ESP" 700 "$(capture_count "$B" veth0 'ip proto 50')"
check_none "... with no ESP fragment on the wire" "$B" veth0 \
	'ip proto 50 and (ip[6:2] & 0x3fff != 0)'
check_none "... and no IP fragment at all" "$B" veth0 '(ip[6:2] & 0x3fff != 0)'

# Negative control: both ends pinned at 1500 (the old fixed MTU).
for ns in "$A" "$B"; do ip -n "$ns" link set ipsec1 mtu 1500; done
check_fail "pinned at 1500: the same upload stalls (ICMP dropped at L)" upload 5002 30
check_ge "... A answered with 'fragmentation needed' (tx_too_big)" 1 \
	"$(counter "$A" ipsec1 tx_too_big)"

# --- many devices: one walk over the SAs per change, however many ------------
# 50 more devices on veth0. A change of the link's MTU, or of the SAs,
# brings them all up to date with one walk over the namespace's SAs
# (xfrm_state_walk(), counted by a kprobe), not one walk per device; the
# bundle keys' worker walks them once per pass too (kretprobes count the
# passes of both workers; one more walk is allowed for a pass under way).
for i in $(seq 100 149); do
	ipa link add ipsec$i link veth0 type ipsec || break
done
check_eq "50 more devices on veth0, no SA: link MTU minus 121" 1379 "$(mtu "$A" ipsec149)"
if probe_add walks p xfrm_state_walk && probe_add sa_work r ipsecif:ipsecif_mtu_work &&
   probe_add mask_work r ipsecif:ipsecif_mask_work; then
	w0=$(probe_count walks) m0=$(probe_count mask_work)
	ipa link set veth0 mtu 1400
	check_eq "link MTU 1500 -> 1400 under 52 devices: they follow" 1279 "$(mtu "$A" ipsec100)"
	at_most "... after one walk over the SAs (was one per device)" \
		$((2 + $(probe_count mask_work) - m0)) $(($(probe_count walks) - w0))
	ipa link set veth0 mtu 1500
	w0=$(probe_count walks) m0=$(probe_count mask_work) p0=$(probe_count sa_work)
	ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x300 reqid 0x300 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 149
	check "an SA of ipsec149 added: its MTU follows" wait_for 50 \
		mtu_is "$A" ipsec149 "$plain"
	passes() { probe_reaches sa_work $((p0 + 1)) && probe_reaches mask_work $((m0 + 1)); }
	check "... after a pass of each worker" wait_for 50 passes
	at_most "... which walked the SAs once each (was once per device)" \
		$((1 + $(probe_count sa_work) - p0 + $(probe_count mask_work) - m0)) \
		$(($(probe_count walks) - w0))
	check_eq "... the others keep theirs" 1379 "$(mtu "$A" ipsec148)"
else
	skip "one walk over the SAs for many devices" "no kprobes"
fi
rm -rf "$WORK"
ksft_exit
