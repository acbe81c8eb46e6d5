#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libreswan's pluto over ipsec devices: one pluto per namespace, each with
# its own config, secrets, NSS database and run directory, using the
# existing ipsec1 (ipsec-interface=1, ipsec-interface-managed=no) and the
# ipsecif updown helper for its routes. Site-to-site (IPv4 and IPv6
# subnets), rekeys of IKE and IPsec SAs under traffic with no cleartext on
# the wire, down means nothing leaves, host-to-host with the peer routed
# into the device.
#
# Needs libreswan 5.2 or later (ipsec-interface-managed=no): LIBRESWAN
# names its root (default /opt/libreswan, where scripts/setup-host.sh
# unpacks sid's package beside strongSwan, then /).
source "$(dirname "$0")/lib.sh"

lsw_find() {
	local root v
	for root in ${LIBRESWAN:-/opt/libreswan /}; do
		root=${root%/}
		[ -x "$root/usr/libexec/ipsec/pluto" ] || continue
		v=$("$root/usr/libexec/ipsec/pluto" --version 2>/dev/null |
			sed -n 's/^Libreswan \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
		set -- $v
		[ -n "${1:-}" ] || continue
		if [ "$1" -gt 5 ] || { [ "$1" = 5 ] && [ "$2" -ge 2 ]; }; then
			LSW=$root/usr/libexec/ipsec
			return 0
		fi
		LSW_OLD="libreswan $1.$2 at ${root:-/}"
	done
	return 1
}
lsw_find || ksft_skip_all "no libreswan 5.2 or later (pluto with ipsec-interface-managed)${LSW_OLD:+; found $LSW_OLD}"
# pluto runs addconn and its updown from /usr/libexec/ipsec
[ "$(readlink -f /usr/libexec/ipsec/addconn)" = "$(readlink -f "$LSW/addconn")" ] ||
	ksft_skip_all "/usr/libexec/ipsec is not the libreswan of $LSW (pluto runs its helpers from there)"
command -v certutil >/dev/null || ksft_skip_all "certutil (libnss3-tools) not installed"
UPDOWN=/usr/lib/ipsecif/updown
[ -x "$UPDOWN" ] || ksft_skip_all "ipsecif updown helper not installed"
load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
WORK=$(mktemp -d /tmp/ipsecif-lsw.XXXXXX)
# The plutos join strongswan.sh's IKE_PIDS: cleanup()'s ike_stop ends them.
trap 'cleanup; keep_artifacts "$WORK"; rm -rf "$WORK"' EXIT

ike_sites

# conf ME PEER_ID LEFT RIGHT: ipsec.conf of one side. Connections net4 and
# net6 (the LANs), h2h (the hosts themselves); each on ipsec1. No auto=:
# addconn loads them once pluto is up, whack brings them up.
conf() {
	local me=$1 peer=$2 l=$3 r=$4 lan=1 rlan=2
	[ "$me" = a ] || lan=2 rlan=1
	cat <<CONF
config setup
	ipsec-interface-managed=no
	logfile=$WORK/$me/pluto.log
	logappend=no
	plutodebug=base
	dumpdir=$WORK/$me

conn base
	left=$l
	right=$r
	leftid=@$me
	rightid=@$peer
	authby=secret
	keyexchange=ikev2
	ike=aes_gcm128-sha2_256-dh19
	esp=aes_gcm128
	ipsec-interface=1
	leftupdown="$UPDOWN"

conn net4
	also=base
	leftsubnet=10.$lan.0.0/24
	rightsubnet=10.$rlan.0.0/24

conn net6
	also=base
	leftsubnet=fd0$lan::/64
	rightsubnet=fd0$rlan::/64

conn h2h
	also=base
CONF
}

# lsw_start NS ME PEER LEFT RIGHT: a pluto in NS with its own everything
# under $WORK/ME; returns once its control socket answers (bounded).
lsw_start() {
	local ns=$1 me=$2 dir=$WORK/$2 i
	mkdir -p "$dir/nss" "$dir/run"
	certutil -N -d "sql:$dir/nss" --empty-password >/dev/null || return 1
	conf "$me" "$3" "$4" "$5" >"$dir/ipsec.conf"
	echo "@$me @$3 : PSK \"ipsecif selftest secret\"" >"$dir/ipsec.secrets"
	echo "@$3 @$me : PSK \"ipsecif selftest secret\"" >>"$dir/ipsec.secrets"
	ip netns exec "$ns" timeout --foreground -k 5 ${IKE_TIMEOUT:-1200} \
		unshare -m sh -c "mount -t tmpfs tmpfs /run && exec $LSW/pluto \
		--nofork --config $dir/ipsec.conf --rundir $dir/run \
		--nssdir $dir/nss --secretsfile $dir/ipsec.secrets --ipsecdir $dir \
		--no-dnssec" >"$dir/pluto.out" 2>&1 </dev/null &
	IKE_PIDS+=($!)
	for ((i = 0; i < 300; i++)); do
		whack "$me" --status >/dev/null 2>&1 && return 0
		kill -0 "${IKE_PIDS[-1]}" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
whack() {	# whack ME ARGS...: whack against ME's pluto
	local me=$1
	shift
	timeout 90 "$LSW/whack" --ctlsocket "$WORK/$me/run/pluto.ctl" "$@"
}
addconn() {	# addconn ME NAME...: load connections into ME's pluto
	local me=$1
	shift
	"$LSW/addconn" --config "$WORK/$me/ipsec.conf" \
		--ctlsocket "$WORK/$me/run/pluto.ctl" "$@"
}

# check_lsw DESC: both plutos started and loaded their connections (here,
# not in a subshell: they stay children of this shell)
check_lsw() {
	if lsw_start "$A" a b $UNDER4_A $UNDER4_B >"$WORK/start.log" 2>&1 &&
	   lsw_start "$B" b a $UNDER4_B $UNDER4_A >>"$WORK/start.log" 2>&1 &&
	   addconn a net4 net6 h2h >>"$WORK/start.log" 2>&1 &&
	   addconn b net4 net6 h2h >>"$WORK/start.log" 2>&1; then
		ok "$1"
	else
		nok "$1"
		tail -n 10 "$WORK/start.log" "$WORK"/[ab]/pluto.out "$WORK"/[ab]/pluto.log \
			2>/dev/null | sed 's/^/#   /'
	fi
}

check_up() {	# check_up DESC CONN: initiate CONN from "a"; logs on failure
	if whack a --name "$2" --initiate >"$WORK/initiate.log" 2>&1; then
		ok "$1"
	else
		nok "$1"
		tail -n 20 "$WORK/initiate.log" "$WORK"/[ab]/pluto.log 2>&1 |
			sed 's/^/#   /'
		return 1
	fi
}

# spis NS: the SPIs of the SAs of if_id 1 in NS, sorted, on one line
spis() {
	ip -n "$1" xfrm state | awk '/^src/ { spi = "" } / spi / { for (i = 1; i < NF; i++) if ($i == "spi") spi = $(i + 1) }
		/if_id 0x1$/ && spi != "" { print spi }' | sort | tr '\n' ' '
}

kind() { ip -n "$1" -d -j link show "$2" | jq -r '.[0].linkinfo.info_kind'; }

check_lsw "plutos start (ipsec-interface-managed=no) and load net4, net6, h2h"

# --- site-to-site ----------------------------------------------------------
capture_start "$B" veth0
check_up "site-to-site: IKEv2 and the IPv4 IPsec SA come up" net4
check_up "site-to-site: the IPv6 IPsec SA comes up" net6
check "site-to-site: pluto's SAs carry if_id 1 (ipsec-interface=1)" \
	xfrm_state_has "$A" 'if_id 0x1$'
check "site-to-site: pluto's policies carry if_id 1" xfrm_policy_has "$A" 'if_id 0x1$'
check_eq "site-to-site: ipsec1 is still an ipsec device (pluto left it alone)" \
	ipsec "$(kind "$A" ipsec1)"
check "site-to-site: no device of kind xfrm appeared" no_link_of_kind "$A" xfrm
check_site_to_site
check_eq "site-to-site: pluto reported no device mismatch" 0 \
	"$(cat "$WORK"/[ab]/pluto.log | grep -c 'do not match expected type')"

# --- rekeys under traffic ----------------------------------------------------
capture_start "$B" veth0
old=$(spis "$A")
ip netns exec "$A" ping -q -i 0.1 -c 400 -W 1 -I 10.1.0.1 10.2.0.1 \
	>"$WORK/bgping.log" 2>&1 &
BG_PIDS+=($!)
check "rekey: the IPsec SA of net4, under traffic" whack a --name net4 --rekey-child
# rekeyed: net4's new pair replaced its old one (net6's stays): 4 SAs again,
# not the same SPIs
rekeyed() {
	[ "$(ip -n "$A" xfrm state | grep -c 'if_id 0x1$')" = 4 ] &&
	[ "$(spis "$A")" != "$old" ]
}
check "rekey: ... a new pair of SAs replaced the old one" wait_for 100 rekeyed
check "rekey: the IKE SA, under traffic" whack a --name net4 --rekey-ike
# new_ike CONN: an IKE SA of CONN other than #1 is established
new_ike() {
	whack a --showstates | grep -Eq "#([2-9]|[1-9][0-9]+): \"$1\".*ESTABLISHED_IKE_SA"
}
check "rekey: ... a new IKE SA is established" wait_for 100 new_ike net4
check "rekey: IPv4 subnet ping after the rekeys" \
	ip netns exec "$A" ping -q -c 3 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1
kill -INT "${BG_PIDS[-1]}" 2>/dev/null	# ping prints its summary on SIGINT
wait "${BG_PIDS[-1]}" 2>/dev/null
BG_PIDS=()
check_ge "rekey: the background ping got replies" 1 \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/bgping.log")"
capture_stop
check_no_clear_ping "rekey: no ping in clear on the wire during the rekeys" "$B"

# --- down: nothing leaves ---------------------------------------------------
terminate() { whack a --name "$1" --terminate >/dev/null; }
check "down: terminate net4" terminate net4
check "down: terminate net6" terminate net6
check "down: no SA of if_id 1 is left" wait_for 100 xfrm_state_lacks "$A" 'if_id 0x1$'
check "down: updown removed the routes" \
	wait_for 50 no_route "$A" 10.2.0.0/24 fd02::/64
# An administrator's static route into the device (KLIPS style) stays:
ip -n "$A" route add 10.2.0.0/24 dev ipsec1
capture_start "$B" veth0
check_fail "down: a ping routed into ipsec1 gets nothing back" \
	ip netns exec "$A" ping -q -c 3 -i 0.3 -W 1 -I 10.1.0.1 10.2.0.1
capture_stop
check_none "down: ... and nothing of it left on the wire" "$B" veth0 'icmp or ip proto 50'
ip -n "$A" route del 10.2.0.0/24 dev ipsec1

# --- host-to-host: the IKE peer routed into ipsec1 --------------------------
capture_start "$B" veth0
check_up "host-to-host: the IPsec SA between the hosts comes up" h2h
check "host-to-host: the peer is routed into ipsec1 (by updown)" \
	wait_for 50 lookup_via "$A" $UNDER4_B ipsec1
check "host-to-host: updown put A's address on ipsec1, the route's source" \
	all lookup_via "$A" $UNDER4_B ipsec1 $UNDER4_A -- addr4_has "$A" ipsec1 "inet $UNDER4_A/32"
check_eq "host-to-host: no fwmark rule, only the default routing rules" 3 \
	"$(ip -n "$A" rule show | wc -l)"
# pluto gives its SAs an output mark equal to their if_id (no rule reads it)
check_eq "host-to-host: no mark on any policy" 0 \
	"$(ip -n "$A" xfrm policy | grep -c mark)"
check "host-to-host: ping the peer through ipsec1" ping_ok "$A" $UNDER4_B
check "host-to-host: IKE rekey with the peer routed into ipsec1" \
	whack a --name h2h --rekey-ike
check "host-to-host: IPsec SA rekey" whack a --name h2h --rekey-child
check "host-to-host: ping the peer after the rekeys" ping_ok "$A" $UNDER4_B
capture_stop
check_no_clear_ping "host-to-host: no ping in clear on the wire" "$B"
check_ge "host-to-host: ESP on the wire" 4 "$(capture_count "$B" veth0 'ip proto 50')"
check_ge "host-to-host: the rekeys' IKE messages went in clear (bypass)" 4 \
	"$(capture_count "$B" veth0 'udp port 500 or udp port 4500')"
check "host-to-host: terminate" whack a --name h2h --terminate
check "host-to-host: updown removed the peer's route and A's address" \
	wait_for 50 all no_lookup_via "$A" $UNDER4_B ipsec1 -- no_addr4 "$A" ipsec1

ike_stop
ksft_exit
