#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What routing daemons need from an ipsecN device, with no configuration:
#   - flags POINTOPOINT, MULTICAST, NOARP (FRR takes it for a
#     point-to-point network); uevent DEVTYPE=ipsec
#   - link-scope multicast (224.0.0.5, ff02::5, as OSPF's hellos) goes
#     into the tunnel, encrypted, and comes out of the peer's device to a
#     socket joined there; nothing of it in clear on the wire
#   - link-scope multicast of a family no policy takes (the MLD reports
#     and router solicitations IPv6 sends by itself into an IPv4-only
#     tunnel, say) is discarded quietly: tx_link_scope_no_policy, not
#     tx_no_sa, tx_dropped or an error to the sender; wider multicast with
#     no policy is still a drop (tx_no_sa)
#   - the IPv6 link-local address: the same across down/up; with ipsecif
#     add (or stable-ll) the same when the device is made again, as after
#     a reboot, and different for another device or another machine ID;
#     without, new each time (why the tool does it); errors said clearly
#   - the udev rule runs stable-ll for a device ip link add made
#
# Topology: wire() A -- B. ipsec1 (if_id 1) both families; ipsec2 (if_id
# 2) IPv4 policies only; ipsec3 (if_id 3) IPv6 policies only; all
# attached to veth0, 172.16.N.1/2, fd0N::1/2.
source "$(dirname "$0")/lib.sh"

command -v ipsecif >/dev/null || ksft_skip_all "ipsecif tool not installed"
load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
TMP=$(mktemp -d)
UDEV_DEV=ipsec19
udev_cleanup() {
	ip link del "$UDEV_DEV" 2>/dev/null
	if [ -e /run/udev/rules.d/60-ipsecif.rules ]; then
		rm -f /run/udev/rules.d/60-ipsecif.rules
		udevadm control --reload 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap 'udev_cleanup; cleanup' EXIT

for n in 1 2 3; do
	ipsec_end "$A" $n 1
	ipsec_end "$B" $n 2
done
tunnel_pair 1
tunnel_pair 2 0.0.0.0/0 -
tunnel_pair 3 - ::/0

# --- flags ------------------------------------------------------------------
check "ipsec1 is POINTOPOINT, MULTICAST and NOARP" \
	flags_are "$A" ipsec1 +POINTOPOINT +MULTICAST +NOARP -BROADCAST
check "its uevent says DEVTYPE=ipsec" \
	grep -qx DEVTYPE=ipsec <(ip netns exec "$A" cat /sys/class/net/ipsec1/uevent)

# --- link-scope multicast through the tunnel --------------------------------
# ll NS DEV: DEV's IPv6 link-local address
ll() {
	ip -n "$1" -6 -j addr show dev "$2" scope link |
		jq -r '[.[0].addr_info[]? | select(.scope == "link") | .local][0] // empty'
}
# hello GROUP: A sends to GROUP out of ipsec1, B listens on its ipsec1;
# prints what B received ("SOURCE TEXT")
hello() {
	local ready=$TMP/ready-$1 pid
	ip netns exec "$B" python3 "$SELFTESTS/mcast.py" recv "$1" ipsec1 5005 "$ready" \
		>"$TMP/got-$1" &
	pid=$!
	wait_for 150 test -e "$ready" &&
	ip netns exec "$A" python3 "$SELFTESTS/mcast.py" send "$1" ipsec1 5005 "hello $1"
	wait "$pid"
	cat "$TMP/got-$1"
}
check "A's ipsec1 has an IPv6 link-local address" wait_for 100 test -n "$(ll "$A" ipsec1)"
pair_spis 1
esp0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
capture_start "$B" veth0
check_eq "224.0.0.5 out of A's ipsec1 comes out of B's, from A's address" \
	"172.16.1.1 hello 224.0.0.5" "$(hello 224.0.0.5)"
check_eq "ff02::5 out of A's ipsec1 comes out of B's, from A's link-local" \
	"$(ll "$A" ipsec1) hello ff02::5" "$(hello ff02::5)"
capture_stop
check_ge "... both through ipsec1's SA" $((esp0 + 2)) "$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"
check_none "... and neither in clear on the wire" "$B" veth0 "udp port 5005"

# --- link-scope multicast no policy takes ------------------------------------
# quiet DEV GROUP: A sends to GROUP out of DEV; the sender sees no error
# and DEV counts it as tx_link_scope_no_policy, not as a drop
c() { counter "$A" "$1" "$2"; }
st() { dev_stat "$A" "$1" "$2"; }
quiet() {
	local dev=$1 group=$2 ls0 nosa0 drop0
	ls0=$(c "$dev" tx_link_scope_no_policy) nosa0=$(c "$dev" tx_no_sa)
	drop0=$(st "$dev" tx_dropped)
	ip netns exec "$A" python3 "$SELFTESTS/mcast.py" send "$group" "$dev" 5005 x &&
	[ "$(c "$dev" tx_link_scope_no_policy)" -gt "$ls0" ] &&
	[ "$(c "$dev" tx_no_sa)" = "$nosa0" ] && [ "$(st "$dev" tx_dropped)" = "$drop0" ]
}
# dropped DEV GROUP: the same, but counted as tx_no_sa and tx_dropped
dropped() {
	local dev=$1 group=$2 nosa0 drop0
	nosa0=$(c "$dev" tx_no_sa) drop0=$(st "$dev" tx_dropped)
	ip netns exec "$A" python3 "$SELFTESTS/mcast.py" send "$group" "$dev" 5005 x
	[ "$(c "$dev" tx_no_sa)" -gt "$nosa0" ] && [ "$(st "$dev" tx_dropped)" -gt "$drop0" ]
}
check "IPv4-only ipsec2: IPv6 sends MLD reports or solicitations by itself, counted apart" \
	wait_for 150 test "$(c ipsec2 tx_link_scope_no_policy)" -gt 0
check_eq "... and none of them as tx_no_sa or tx_dropped" "0 0" \
	"$(c ipsec2 tx_no_sa) $(st ipsec2 tx_dropped)"
check "ff02::5 into IPv4-only ipsec2: sent, counted apart, not a drop" quiet ipsec2 ff02::5
check "224.0.0.5 into IPv6-only ipsec3: sent, counted apart, not a drop" quiet ipsec3 224.0.0.5
check "ff0e::5 (global scope) into ipsec2: still a drop (tx_no_sa)" dropped ipsec2 ff0e::5
check "239.1.1.5 (not link scope) into ipsec3: still a drop (tx_no_sa)" dropped ipsec3 239.1.1.5
pair_spis 2
pk0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
ip netns exec "$A" python3 "$SELFTESTS/mcast.py" send 224.0.0.5 ipsec2 5005 x
check_eq "224.0.0.5 into ipsec2, which has IPv4 policies: into its SA" \
	$((pk0 + 1)) "$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"

# --- a stable IPv6 link-local address ----------------------------------------
# T ID ARGS...: ipsecif ARGS in A, on a host whose machine ID is ID
T() {
	local id=$1
	shift
	echo "$id" >"$TMP/machine-id"
	ip netns exec "$A" unshare -m sh -c \
		'mount --bind "$0" /etc/machine-id && exec ipsecif "$@"' "$TMP/machine-id" "$@"
}
# up_ll DEV: DEV up, then its link-local address
up_ll() {
	ip -n "$A" link set "$1" up &&
	wait_for 100 test -n "$(ll "$A" "$1")" && ll "$A" "$1"
}
# again DEV: DEV down and up; its link-local address then
again() { ip -n "$A" link set "$1" down && up_ll "$1"; }
ID1=0123456789abcdef0123456789abcdef ID2=fedcba9876543210fedcba9876543210
require "ipsecif add ipsec7: a device" T $ID1 add ipsec7 nodev
ll7=$(up_ll ipsec7)
check "... with a link-local address" grep -q '^fe80:' <<<"$ll7"
check_eq "... the same after down and up" "$ll7" "$(again ipsec7)"
ip -n "$A" link del ipsec7
T $ID1 add ipsec7 nodev
check_eq "... the same when made again (as after a reboot)" "$ll7" "$(up_ll ipsec7)"
T $ID1 add ipsec8 nodev
ll8=$(up_ll ipsec8)
check "another device (ipsec8) has another address" test -n "$ll8" -a "$ll8" != "$ll7"
ip -n "$A" link del ipsec7
T $ID2 add ipsec7 nodev
ll7b=$(up_ll ipsec7)
check "another machine ID gives ipsec7 another address" test -n "$ll7b" -a "$ll7b" != "$ll7"
ip -n "$A" link del ipsec7

ip -n "$A" link add ipsec7 type ipsec
llk=$(up_ll ipsec7)
check_eq "ip link add alone: the kernel's address, the same after down and up" \
	"$llk" "$(again ipsec7)"
ip -n "$A" link del ipsec7
ip -n "$A" link add ipsec7 type ipsec
check "... but another when made again (why ipsecif makes it stable)" \
	test "$(up_ll ipsec7)" != "$llk"
ip -n "$A" link del ipsec7
ip -n "$A" link add ipsec7 type ipsec
check "ipsecif stable-ll ipsec7 before up" T $ID1 stable-ll ipsec7
check_eq "... gives the address ipsecif add gives" "$ll7" "$(up_ll ipsec7)"

err_is --exit 1 "stable-ll of a device that does not exist: refused, saying so" \
	"nosuch0: no such device" T $ID1 stable-ll nosuch0
err_is --exit 1 "stable-ll with no machine ID: refused, saying why" \
	"/etc/machine-id is missing or not a machine ID" T "" stable-ll ipsec7
check_eq "ipsecif add with no machine ID: the device, and a note" \
	"ipsecif: note: ipsec9: its IPv6 link-local address changes at each boot: /etc/machine-id is not a machine ID" \
	"$(T "" add ipsec9 nodev 2>&1)"
check "... made" link_exists "$A" ipsec9

# --- the udev rule -------------------------------------------------------------
# udevd runs in the test VM (virtme-init starts it); it sees the uevents
# of the initial namespace only, as on a host.
rules=$SELFTESTS/../userspace/60-ipsecif.rules.in
if ! pgrep -x systemd-udevd >/dev/null && ! pgrep -x udevd >/dev/null; then
	skip "the udev rule runs stable-ll for ip link add" "no udevd running"
else
	mkdir -p /run/udev/rules.d
	sed "s|@SBINDIR@/ipsecif|$(command -v ipsecif)|" "$rules" \
		>/run/udev/rules.d/60-ipsecif.rules
	udevadm control --reload
	ip netns exec "$A" ipsecif add $UDEV_DEV nodev
	want=$(ip netns exec "$A" cat /proc/sys/net/ipv6/conf/$UDEV_DEV/stable_secret)
	ip link add $UDEV_DEV type ipsec
	udevadm settle --timeout=120
	check "udev: ip link add ipsec19 in the initial namespace is DEVTYPE=ipsec" \
		grep -qx "E: DEVTYPE=ipsec" <(udevadm info /sys/class/net/$UDEV_DEV)
	check_eq "... and the rule gave it the secret ipsecif add gives (this machine's ID)" \
		"$want" "$(cat /proc/sys/net/ipv6/conf/$UDEV_DEV/stable_secret 2>&1)"
fi

ksft_exit
