#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: reloads ipsecif with linkstate= and devices=
# A link state that follows the tunnel (linkstate always | dormant |
# carrier), and why the tunnel is down, in every interface:
#   - modes shown by ip -d (text and JSON) and ipsecif show (text, JSON);
#     always (the default) keeps the state it always had: UNKNOWN
#   - down until an outbound policy of the if_id has a valid SA: no policy,
#     a policy alone, an inbound SA alone, a larval SA (acquire): still
#     down; the outbound SA: up (dormant: DORMANT -> UP; carrier:
#     NO-CARRIER -> UP); both inner families, IPv4 and IPv6 outer
#     addresses, tunnel and transport mode (transport: the selector's host)
#   - make-before-break (new SA, then the old deleted): no change counted;
#     break-before-make: down then up, counted, logged
#   - a soft-expired SA still counts; a hard-expired one does not
#   - the link: down, absent (deleted), back; a device with no link
#   - kernel-only failover: two carrier-mode tunnels, routes of metric 10
#     and 20, ignore_routes_with_linkdown=1: the outbound SA of the first
#     deleted, lookups take the second (both families), and back; with
#     linkstate always (negative control) they stay on the first
#   - dormant still sends: an on-demand policy raises an acquire; carrier
#     sends nothing
#   - mode changes in place; bad modes refused with a message, nothing
#     changed; the read-only attributes refused
#   - linkstate= for devices at load; a bad value refused at load
#
# Topology: wire() A -- B. On A: ipsecN of if_id N attached to veth0 (all
# but ipsec4: no link; ipsec5: dummy wan9), inner 172.16.N.1, fdN::1.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
ipa() { ip -n "$A" "$@"; }
for s in all default; do
	ip netns exec "$A" sysctl -qw net.ipv4.conf.$s.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.$s.ignore_routes_with_linkdown=1
done

# st NS DEV: "OPERSTATE WHY CHANGES" (WHY: up or the reason ip gives)
st() {
	_ip "$1" -d -j link show "$2" | jq -r '.[0] | .operstate + " " +
		(.linkinfo.info_data.tunnel_down_reason // .linkinfo.info_data.tunnel) +
		" " + (.linkinfo.info_data.tunnel_changes | tostring)'
}
# is NS DEV OPERSTATE WHY [CHANGES]: the device says so. Without carrier,
# 6.1 says LOWERLAYERDOWN for any device with a link, later kernels only
# when the link has no carrier either: both are DOWN here.
is() {
	local got want="$3 $4${5:+ $5}"
	got=$(st "$1" "$2")
	got=${got/#LOWERLAYERDOWN /DOWN }
	[ -n "${5:-}" ] || got=${got% *}
	[ "$got" = "$want" ] && return 0
	echo "expected $2 in $(_nsname "$1") to be '$want', saw '$got'" >&2
	return 1
}
mtu() { ip -n "$1" -j link show "$2" | jq -r '.[0].mtu'; }
mtu_is() { [ "$(mtu "$1" "$2")" = "$3" ]; }
mtu_gt() { [ "$(mtu "$1" "$2")" -gt "$3" ]; }
info() { ip -n "$A" -d -j link show "$1" | jq -r ".[0].linkinfo.info_data.$2"; }
# xsa SRC DST SPI REQID IF_ID [MODE [ARGS...]]: an SA in A
xsa() {
	local mode=${6:-tunnel} flag=()
	[ "$mode" = tunnel ] && flag=(flag af-unspec)
	ipa xfrm state add src "$1" dst "$2" proto esp spi "$3" reqid "$4" mode "$mode" \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id "$5" "${flag[@]}" "${@:7}"
}
# osa IF_ID SPI [ARGS...]: A's outbound SA to B, reqid IF_ID; isa: B's to
# A, the same reqid
osa() { xsa $UNDER4_A $UNDER4_B "$2" "$1" "$1" tunnel "${@:3}"; }
isa() { xsa $UNDER4_B $UNDER4_A "$2" "$1" "$1" tunnel "${@:3}"; }
# opol IF_ID: A's outbound policies of IF_ID to B, both inner families
opol() {
	pol "$A" out 0.0.0.0/0 0.0.0.0/0 $UNDER4_A $UNDER4_B "$1" "$1" &&
	pol "$A" out ::/0 ::/0 $UNDER4_A $UNDER4_B "$1" "$1"
}
del_sa() { ipa xfrm state del src "$1" dst "$2" proto esp spi "$3"; }
# mkdev N [IP-LINK-ARGS...]: ipsecN on A (after "type ipsec"), up
mkdev() {
	local n=$1
	shift
	ipa link add ipsec$n type ipsec "$@" && ipa link set ipsec$n up
}

mkdev 1 dev veth0 linkstate dormant ||
	ksft_skip_all "this ipsecif has no linkstate"
mkdev 2 dev veth0 linkstate carrier
mkdev 3 dev veth0
check_eq "ip -d -j: ipsec1 linkstate dormant" dormant "$(info ipsec1 linkstate)"
check_eq "... ipsec2 carrier" carrier "$(info ipsec2 linkstate)"
check_eq "... ipsec3 always (the default)" always "$(info ipsec3 linkstate)"
check "ip -d text: 'linkstate dormant tunnel down why no-policy changes 0'" \
	link_info_has "$A" ipsec1 'linkstate dormant tunnel down why no-policy changes 0'
check_eq "ipsecif -j show: linkstate and reason" "dormant down no-policy 0" \
	"$(ip netns exec "$A" ipsecif -j show ipsec1 |
	   jq -r '.[0] | "\(.linkstate) \(.tunnel) \(.tunnel_down_reason) \(.tunnel_changes)"')"
check "ipsecif show: 'down: no outbound policy (linkstate dormant, 0 changes)'" \
	ipsecif_shows "$A" ipsec1 'tunnel: down: no outbound policy (linkstate dormant, 0 changes)'

# --- down until an outbound SA ---------------------------------------------------
check "no policy: ipsec1 DORMANT" wait_for 50 is "$A" ipsec1 DORMANT no-policy
check "... up, carrier, dormant, not running (ip: NO-CARRIER)" \
	flags_are "$A" ipsec1 +UP +LOWER_UP +DORMANT +NO-CARRIER
check "... ipsec2 (carrier) DOWN" is "$A" ipsec2 DOWN no-policy
check "... up, no carrier" flags_are "$A" ipsec2 +UP -LOWER_UP -DORMANT +NO-CARRIER
check "... ipsec3 (always) UNKNOWN, as before" is "$A" ipsec3 UNKNOWN no-policy
check "... up, carrier, running" flags_are "$A" ipsec3 +UP +LOWER_UP -DORMANT -NO-CARRIER
for n in 1 2 3; do opol $n; done
check "outbound policies alone: no-sa" wait_for 50 is "$A" ipsec1 DORMANT no-sa
# A larval SA stays only while a key manager listens for acquires.
BG=$(mktemp)
ip -n "$A" xfrm monitor acquire >"$BG.acq" &
BG_PIDS+=($!)
# ping_acquire DST: a ping to DST (into a device) raised an acquire for it
ping_acquire() {
	ip netns exec "$A" ping -q -c 1 -W 1 "$1" >/dev/null
	lines_ge "$BG.acq" "dst $1/32" 1
}
ipa addr add 172.16.1.1/24 dev ipsec1
check "a ping into ipsec1 raises an acquire" wait_for 10 ping_acquire 172.16.1.2
check "... which left a larval SA" \
	xfrm_state_has "$A" "spi 0x00000000 reqid 1 mode tunnel"
# The inbound SA with NAT-T: its MTU proves a measure after the larval SA.
isa 1 0x1100 encap espinudp 4500 4500 0.0.0.0
check "an inbound SA (to A, same reqid) is measured (MTU)" wait_for 50 mtu_gt "$A" ipsec1 1379
check "... neither it nor the larval SA counts: no-sa" is "$A" ipsec1 DORMANT no-sa
del_sa $UNDER4_B $UNDER4_A 0x1100
isa 1 0x1100
isa 2 0x2200

# The first outbound SA with NAT-T, for the rekey below.
osa 1 0x1101 encap espinudp 4500 4500 0.0.0.0
osa 2 0x22
osa 3 0x33
check "outbound SA: ipsec1 UP, one change" wait_for 50 is "$A" ipsec1 UP up 1
check "... running" flags_are "$A" ipsec1 +UP +LOWER_UP -DORMANT -NO-CARRIER
check "ipsec2 (carrier) UP" wait_for 50 is "$A" ipsec2 UP up 1
check "ipsec3 (always): tunnel up, still UNKNOWN" wait_for 50 is "$A" ipsec3 UNKNOWN up 1
check "ipsecif show: 'tunnel: up (linkstate dormant, 1 change)'" \
	ipsecif_shows "$A" ipsec1 'tunnel: up (linkstate dormant, 1 change)'
check "the kernel log: ipsec1: tunnel up" log_has "ipsec1: tunnel up"
check "... nothing for ipsec3 (always)" log_lacks "ipsec3: tunnel"

# --- rekeys ---------------------------------------------------------------------------
natt=$(mtu "$A" ipsec1)
osa 1 0x1102
del_sa $UNDER4_A $UNDER4_B 0x1101
check "make-before-break rekey: measured after the delete (NAT-T gone: MTU +8)" \
	wait_for 50 mtu_is "$A" ipsec1 $((natt + 8))
check "... no change counted: still UP, 1" is "$A" ipsec1 UP up 1
del_sa $UNDER4_A $UNDER4_B 0x1102
check "break-before-make: down (no-sa), 2 changes" wait_for 50 is "$A" ipsec1 DORMANT no-sa 2
check "... logged: 'ipsec1: tunnel down: no outbound SA'" \
	log_has "ipsec1: tunnel down: no outbound SA"
osa 1 0x1103
check "... up again, 3 changes" wait_for 50 is "$A" ipsec1 UP up 3

# --- lifetimes ----------------------------------------------------------------
ip -n "$A" xfrm monitor expire >"$BG" &
BG_PIDS+=($!)
del_sa $UNDER4_A $UNDER4_B 0x1103
osa 1 0x1104 limit time-soft 1 limit time-hard 15
check "an SA with lifetimes: up" wait_for 50 is "$A" ipsec1 UP up
check "its soft expiry is announced" wait_for 100 lines_ge "$BG" "hard 0" 1
check "... a soft-expired SA still counts: UP" is "$A" ipsec1 UP up
check "its hard expiry: down (no-sa)" wait_for 150 is "$A" ipsec1 DORMANT no-sa
osa 1 0x1105
check "... a new SA: up" wait_for 50 is "$A" ipsec1 UP up

# --- the link ------------------------------------------------------------------
ipa link set veth0 down
check "link down: ipsec1 DORMANT (link-down)" wait_for 50 is "$A" ipsec1 DORMANT link-down
check "... ipsecif show: 'down: link veth0 down'" \
	ipsecif_shows "$A" ipsec1 'tunnel: down: link veth0 down'
check "... ipsec2 (carrier) DOWN" is "$A" ipsec2 DOWN link-down
ipa link set veth0 up
check "link up again: UP" wait_for 50 is "$A" ipsec1 UP up
check "... ipsec2 UP" wait_for 50 is "$A" ipsec2 UP up
ipa link add wan9 type dummy
ipa link set wan9 up
mkdev 5 dev wan9 linkstate carrier
opol 5
osa 5 0x55
check "ipsec5 on a dummy wan9: UP" wait_for 50 is "$A" ipsec5 UP up
ipa link del wan9
check "wan9 deleted: DOWN (link-absent)" wait_for 50 is "$A" ipsec5 DOWN link-absent
check "... ipsecif show: 'down: link wan9 absent'" \
	ipsecif_shows "$A" ipsec5 'tunnel: down: link wan9 absent'
ipa link add wan9 type dummy
check "wan9 back, still down" is "$A" ipsec5 DOWN link-down
ipa link set wan9 up
check "... up: ipsec5 UP" wait_for 50 is "$A" ipsec5 UP up
mkdev 4 nodev linkstate dormant
opol 4
osa 4 0x44
check "no link (nodev): the SAs alone decide, UP" wait_for 50 is "$A" ipsec4 UP up

# --- IPv6 outer addresses, transport mode --------------------------------------------
mkdev 6 dev veth0 linkstate carrier
pol "$A" out 0.0.0.0/0 0.0.0.0/0 $UNDER6_A $UNDER6_B 6 6
pol "$A" out ::/0 ::/0 $UNDER6_A $UNDER6_B 6 6
xsa $UNDER6_B $UNDER6_A 0x6600 6 6
check "IPv6 outer: inbound SA only, DOWN (no-sa)" wait_for 50 is "$A" ipsec6 DOWN no-sa
xsa $UNDER6_A $UNDER6_B 0x66 6 6
check "... the outbound SA: UP" wait_for 50 is "$A" ipsec6 UP up
del_sa $UNDER6_A $UNDER6_B 0x66
check "... deleted: DOWN" wait_for 50 is "$A" ipsec6 DOWN no-sa 2
for fam in 4 6; do
	n=1$fam l=$UNDER4_A r=$UNDER4_B h=32
	[ $fam = 6 ] && l=$UNDER6_A r=$UNDER6_B h=128
	mkdev $n dev veth0 linkstate dormant
	pol "$A" out "$l/$h" "$r/$h" "$l" "$r" $n $n transport
	xsa "$r" "$l" 0x${n}01 $n $n transport
	check "transport, IPv$fam: inbound SA only, DORMANT" wait_for 50 is "$A" ipsec$n DORMANT no-sa
	xsa "$l" "$r" 0x${n}00 $n $n transport
	check "... outbound SA to the selector's host: UP" wait_for 50 is "$A" ipsec$n UP up
done

# --- kernel-only failover ---------------------------------------------------------
# ipsec2 (metric 10) and ipsec8 (20), both carrier, both up.
mkdev 8 dev veth0 linkstate carrier
opol 8
osa 8 0x88
check "backup tunnel ipsec8 UP" wait_for 50 is "$A" ipsec8 UP up
for m in "2 10" "8 20"; do
	read -r n metric <<<"$m"
	ipa route add 10.99.0.0/24 dev ipsec$n metric "$metric"
	ipa -6 route add fd99::/64 dev ipsec$n metric "$metric"
done
for dst in 10.99.0.1 fd99::1; do
	check "both up: $dst via ipsec2" lookup_via "$A" $dst ipsec2
done
del_sa $UNDER4_A $UNDER4_B 0x22
check "ipsec2's outbound SA deleted: DOWN" wait_for 50 is "$A" ipsec2 DOWN no-sa
for dst in 10.99.0.1 fd99::1; do
	check "... $dst via ipsec8, no daemon" wait_for 50 lookup_via "$A" $dst ipsec8
done
check "... the route through ipsec2 is linkdown" route_via "$A" 10.99.0.0/24 'ipsec2.*linkdown'
osa 2 0x22
for dst in 10.99.0.1 fd99::1; do
	check "SA back: $dst via ipsec2 again" wait_for 50 lookup_via "$A" $dst ipsec2
done
ipa link set ipsec2 type ipsec linkstate always
del_sa $UNDER4_A $UNDER4_B 0x22
check "linkstate always (control): tunnel down" wait_for 50 is "$A" ipsec2 UP no-sa
for dst in 10.99.0.1 fd99::1; do
	check "... $dst stays via ipsec2" lookup_via "$A" $dst ipsec2
done

# --- what a down device still sends --------------------------------------------------
mkdev 9 dev veth0 linkstate dormant
ipa addr add 172.16.9.1/24 dev ipsec9
opol 9
check "on-demand policy, no SA: DORMANT" wait_for 50 is "$A" ipsec9 DORMANT no-sa
check "dormant still sends: a ping into it raises an acquire" wait_for 10 ping_acquire 172.16.9.2
check_ge "... and counts in tx_no_sa" 1 "$(counter "$A" ipsec9 tx_no_sa)"
ipa link set ipsec9 type ipsec linkstate carrier
check "carrier mode: DOWN" wait_for 50 is "$A" ipsec9 DOWN no-sa
ipa xfrm state deleteall reqid 9	# the acquire's larval SA
no_sa0=$(counter "$A" ipsec9 tx_no_sa)
check_fail "... sends nothing: no acquire" ping_acquire 172.16.9.3
check_eq "... tx_no_sa unchanged" "$no_sa0" "$(counter "$A" ipsec9 tx_no_sa)"

# --- changes in place, bad input ---------------------------------------------------
check "ipsecif set ipsec9 linkstate always" ip netns exec "$A" ipsecif set ipsec9 linkstate always
check "... carrier back on, running" wait_for 50 \
	flags_are "$A" ipsec9 +UP +LOWER_UP -DORMANT -NO-CARRIER
check "ip link set ... linkstate dormant" ipa link set ipsec9 type ipsec linkstate dormant
check "... DORMANT" wait_for 50 is "$A" ipsec9 DORMANT no-sa
err_is "ip: linkstate bogus refused" "linkstate is always, dormant or carrier" \
	ipa link set ipsec9 type ipsec linkstate bogus
err_is "ipsecif: linkstate bogus refused" "invalid linkstate" \
	ip netns exec "$A" ipsecif set ipsec9 linkstate bogus
nln() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
check_fail "netlink: linkstate 3 refused" nln set ipsec9 linkstate 3
check_fail "netlink: the tunnel's state is read-only" nln set ipsec9 tunnel 0
check_fail "netlink: its changes too" nln set ipsec9 tunnel_changes 0
check_eq "... nothing changed" "dormant DORMANT" \
	"$(info ipsec9 linkstate) $(ip -n "$A" -j link show ipsec9 | jq -r '.[0].operstate')"

rm -f "$BG" "$BG.acq"

# --- devices at load ---------------------------------------------------------------
cleanup
check "module unloads" unload_module
check "modprobe ipsecif devices=2 linkstate=dormant" load_module devices=2 linkstate=dormant
check_eq "ipsec1 at load: linkstate dormant" dormant \
	"$(ip -d -j link show ipsec1 | jq -r '.[0].linkinfo.info_data.linkstate')"
ip link set ipsec1 up
check "... up, no policy: DORMANT" wait_for 50 is - ipsec1 DORMANT no-policy
ip link set ipsec1 down
check "module unloads" unload_module
check_fail "linkstate=bogus is refused at load" load_module linkstate=bogus
check "... with a message" log_has "linkstate=bogus: not always, dormant or carrier"
check "modprobe ipsecif again" load_module

ksft_exit
