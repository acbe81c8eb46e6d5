#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two strongSwan charons, one per namespace, negotiate IKEv2 with
# if_id_in/if_id_out bound to their ipsec devices; routes come from the
# ipsecif updown helper.
#   - site-to-site, IPv4 and IPv6 subnets: updown's routes, pings as ESP,
#     none in clear, `ipsecif show` lists the SAs; terminate: routes gone
#   - host-to-host, the peer routed into ipsec1: no fwmark rule or mark,
#     ping as ESP
#   - ... IKE and CHILD_SA rekeys: IKE itself, routed into ipsec1, passed
#     in clear by the daemon's socket bypass policy
#   - ... veth0 deleted and re-created under the tunnel: ipsec1 attaches
#     again by itself, ping and IKE rekey resume; terminate
#   - rekeying under 30 s of pings (IKE every 12 s, CHILD every 8 s): the
#     pings answered, none in clear
#   - NAT traversal, the initiator behind a masquerading router: ESP only
#     in UDP 4500
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0), each an ike_site():
# ipsec1 (if_id 1) on veth0, LAN dummy lan0: A 10.1.0.1/24 fd01::1/64,
# B 10.2.0.1/24 fd02::1/64. NAT-T: C 192.168.7.2 -- 192.168.7.1 N
# 10.0.7.1 -- 10.0.7.2 S; lan0 C 10.1.0.1/24, S 10.2.0.1/24.
source "$(dirname "$0")/lib.sh"

[ -x "$CHARON" ] && command -v swanctl >/dev/null ||
	ksft_skip_all "strongSwan (charon, swanctl) not installed"
UPDOWN=/usr/lib/ipsecif/updown
[ -x "$UPDOWN" ] || ksft_skip_all "ipsecif updown helper not installed"
load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
WORK=$(mktemp -d /tmp/ipsecif-ike.XXXXXX)
trap 'cleanup; keep_artifacts "$WORK"; rm -rf "$WORK"' EXIT

ike_sites

# conf ME LOCAL REMOTE LOCAL_TS REMOTE_TS [REKEY]: swanctl.conf of one side
conf() {
	local me=$1 l=$2 r=$3 lts=$4 rts=$5 rekey=${6:-0}
	local peer=a ike_rekey= child_rekey=
	[ "$me" = a ] && peer=b
	# Short rekey times with room to finish before the SAs expire; none
	# (strongSwan's hour-long defaults) when REKEY is 0.
	if [ "$rekey" != 0 ]; then
		# rand_time defaults to the margin (30 s), which would pull the
		# rekeys to the very start: keep the jitter small.
		ike_rekey=$(printf '\t\trekey_time = %ss\n\t\tover_time = 30s\n\t\trand_time = 2s\n' \
			"$rekey")
		child_rekey=$(printf '\t\t\t\trekey_time = %ss\n\t\t\t\tlife_time = %ss\n\t\t\t\trand_time = 2s\n' \
			$((rekey * 2 / 3)) $((rekey * 2 / 3 + 30)))
	fi
	cat <<CONF
connections {
	$me {
		version = 2
		local_addrs = $l
		remote_addrs = $r
		proposals = aes128gcm16-prfsha256-ecp256
$ike_rekey
		local {
			auth = psk
			id = $me
		}
		remote {
			auth = psk
			id = $peer
		}
		children {
			net {
				local_ts = $lts
				remote_ts = $rts
				esp_proposals = aes128gcm16
				if_id_in = 1
				if_id_out = 1
				updown = $UPDOWN
$child_rekey
				start_action = none
			}
		}
	}
}
secrets {
	ike {
		id-a = a
		id-b = b
		secret = "ipsecif selftest secret"
	}
}
CONF
}

# setup_ike LOCAL REMOTE LTS RTS [REKEY]: (re)start the charons of $L
# (initiator "a") and $R (responder "b") and load their configs.
L=$A R=$B
setup_ike() {
	ike_stop
	# Keep each phase's logs (artifacts after a failure).
	PHASE=$((${PHASE:-0} + 1))
	[ -d "$WORK/a" ] && mv "$WORK/a" "$WORK/a.$PHASE" && mv "$WORK/b" "$WORK/b.$PHASE"
	ike_start "$L" "$WORK/a" && ike_start "$R" "$WORK/b" || return 1
	conf a "$1" "$2" "$3" "$4" "${5:-0}" >"$WORK/a/swanctl.conf"
	conf b "$2" "${RESPONDER_REMOTE:-$1}" "$4" "$3" "${5:-0}" >"$WORK/b/swanctl.conf"
	swan "$WORK/a" --load-all --file "$WORK/a/swanctl.conf" >/dev/null &&
	swan "$WORK/b" --load-all --file "$WORK/b/swanctl.conf" >/dev/null
}

# check_setup DESC ARGS...: setup_ike in this shell (the charons must stay
# its children, so not inside check's command substitution).
check_setup() {
	local desc=$1
	shift
	if setup_ike "$@" >"$WORK/setup.log" 2>&1; then
		ok "$desc"
	else
		nok "$desc"
		grep -v "plugin '" "$WORK/setup.log" | tail -n 5 | sed 's/^/#   /'
	fi
}

check_up() {	# check_up DESC: initiate from "a"; on failure show the logs
	if swan "$WORK/a" --initiate --child net --timeout 120 >"$WORK/initiate.log" 2>&1; then
		ok "$1"
	else
		nok "$1"
		tail -n 20 "$WORK/initiate.log" "$WORK/a/charon.log" "$WORK/b/charon.log" \
			2>&1 | grep -v "plugin '" | sed 's/^/#   /'
		return 1
	fi
}

sas_match() {	# sas_match ERE: the initiator's SA list matches
	swan "$WORK/a" --list-sas 2>/dev/null | grep -Eq "$1"
}

# --- site-to-site, IPv4 and IPv6 subnets ------------------------------------
check_setup "site-to-site: charons start and load their configs" \
	$UNDER4_A $UNDER4_B "10.1.0.0/24,fd01::/64" "10.2.0.0/24,fd02::/64"
capture_start "$B" veth0
check_up "site-to-site: IKEv2 and the CHILD_SA come up"
check "site-to-site: the daemon's SAs carry if_id 1" xfrm_state_has "$A" 'if_id 0x1'
check_site_to_site
# charon 5.9 may set up more than one CHILD_SA pair: compare with the kernel
n=$(ip netns exec "$A" ipsecif -j show ipsec1 | jq '.[0].sas | length')
check_eq "site-to-site: ipsecif show lists the daemon's SAs (those of if_id 1)" \
	"$(ip -n "$A" xfrm state | grep -c 'if_id 0x1$')" "$n"
check_ge "site-to-site: ... at least one pair" 2 "$n"
[ -z "${IKE_DEBUG:-}" ] ||
	grep -E 'CHILD_SA|acquire|ACQUIRE|creating|initiat|establish' "$WORK/a/charon.log" |
	head -40 | sed 's/^/#   /' 
check "site-to-site: terminate" swan "$WORK/a" --terminate --ike a --timeout 60
check "site-to-site: updown removed the routes" no_route "$A" 10.2.0.0/24 fd02::/64

# --- host-to-host: the IKE peer itself routed into ipsec1 -------------------
check_setup "host-to-host: charons start, selectors are the peers themselves" \
	$UNDER4_A $UNDER4_B dynamic dynamic
capture_start "$B" veth0
check_up "host-to-host: IKEv2 and the CHILD_SA come up"
check "host-to-host: the peer is routed into ipsec1 (by updown)" \
	wait_for 50 lookup_via "$A" $UNDER4_B ipsec1
check_eq "host-to-host: no fwmark rule, only the default routing rules" 3 \
	"$(ip -n "$A" rule show | wc -l)"
check_eq "host-to-host: no mark on any SA or policy" 0 \
	"$({ ip -n "$A" xfrm state; ip -n "$A" xfrm policy; } | grep -c mark)"
check "host-to-host: ping the peer through ipsec1" ping_ok "$A" $UNDER4_B
capture_stop
check_no_clear_ping "host-to-host: no ping in clear on the wire" "$R"
check_ge "host-to-host: ESP on the wire" 4 "$(capture_count "$B" veth0 'ip proto 50')"

# Now IKE itself is routed into ipsec1 on both sides: rekeying must work,
# its packets passed in clear (UDP 500/4500: strongSwan moves to 4500 for
# MOBIKE) thanks to the daemon's socket bypass policy.
capture_start "$B" veth0
check "host-to-host: IKE rekey with the peer routed into ipsec1" \
	swan "$WORK/a" --rekey --ike a
check "host-to-host: ... a new IKE_SA is established" wait_for 100 \
	sas_match '^a: #([2-9]|[1-9][0-9]+),.*ESTABLISHED'
check "host-to-host: CHILD_SA rekey" swan "$WORK/a" --rekey --child net
check "host-to-host: ... a new CHILD_SA is installed" wait_for 100 \
	sas_match 'net: #([2-9]|[1-9][0-9]+),.*INSTALLED'
check "host-to-host: ping the peer after the rekeys" ping_ok "$A" $UNDER4_B
capture_stop
check_ge "host-to-host: the rekeys' IKE messages went in clear (bypass)" 4 \
	"$(capture_count "$B" veth0 'udp port 500 or udp port 4500')"
check_no_clear_ping "host-to-host: still no ping in clear" "$R"
check_ge "host-to-host: ... the ping after the rekeys went as ESP" 2 \
	"$(capture_count "$B" veth0 "src host $UNDER4_A and ip proto 50")"

# The physical link re-created under the running tunnel (PPPoE, LTE): both
# ipsec1 wait for veth0 and attach again by themselves; traffic and IKE
# rekeying resume with no command to ipsecif or charon.
check "host-to-host: the wire deleted under the tunnel" ip -n "$A" link del veth0
check "host-to-host: ... A's ipsec1 waits for veth0" \
	link_info_has "$A" ipsec1 'dev veth0 (absent)'
# The updown helper put A's IKE address on ipsec1 (up-host): the route to
# the peer, which takes it as source, outlives the link, and packets A
# sends to B keep the source the selector names even though veth0 now
# comes after lan0 (without it the kernel picks lan0's 10.1.0.1 for a
# device with no address: no policy matches, and MOBIKE probes from it).
check "host-to-host: A's IKE address stayed on ipsec1" \
	addr4_has "$A" ipsec1 "inet $UNDER4_A/32"
check "host-to-host: ... and the route to the peer through ipsec1" \
	lookup_via "$A" $UNDER4_B ipsec1 $UNDER4_A
check "host-to-host: the wire re-created, same names, both families" wire_link
check "host-to-host: ... A's ipsec1 attached again by itself" \
	all link_info_has "$A" ipsec1 'dev veth0 ' -- link_info_lacks "$A" ipsec1 absent
capture_start "$B" veth0
check "host-to-host: ping the peer again" wait_for 25 ping_ok "$A" $UNDER4_B
check "host-to-host: IKE rekey over the re-created link" \
	swan "$WORK/a" --rekey --ike a
check "host-to-host: ... a new IKE_SA is established" wait_for 100 \
	sas_match '^a: #([3-9]|[1-9][0-9]+),.*ESTABLISHED'
check "host-to-host: ping the peer after that rekey" ping_ok "$A" $UNDER4_B
capture_stop
check_no_clear_ping "host-to-host: no ping in clear over the re-created link" "$R"
check "host-to-host: terminate" swan "$WORK/a" --terminate --ike a --timeout 60
check "host-to-host: updown removed the route and A's address from ipsec1" \
	wait_for 50 all no_lookup_via "$A" $UNDER4_B ipsec1 -- no_addr4 "$A" ipsec1

# --- rekeying under traffic, zero cleartext ---------------------------------
check_setup "rekeying: charons start, IKE rekey every 12s, CHILD every 8s" \
	$UNDER4_A $UNDER4_B "10.1.0.0/24" "10.2.0.0/24" 12
capture_start "$B" veth0
check_up "rekeying: tunnel comes up"
# updown runs after the CHILD_SA is up: wait for its route before traffic
check "rekeying: updown routed 10.2.0.0/24 into ipsec1" \
	wait_for 50 route_via "$A" 10.2.0.0/24 ipsec1
ip netns exec "$A" ping -q -i 0.2 -w 30 -I 10.1.0.1 10.2.0.1 >"$WORK/ping.log" 2>&1
capture_stop
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.log")
check_ge "rekeying: pings answered during 30s of rekeys" 100 "${received:-0}"
# The list may be read while a rekey is under way: ask again, bounded.
check "rekeying: the CHILD_SA was rekeyed at least twice" \
	wait_for 100 sas_match 'net: #([3-9]|[1-9][0-9]+),'
check "rekeying: the IKE_SA was rekeyed" wait_for 100 sas_match '^a: #([2-9]|[1-9][0-9]+),'
check_no_clear_ping "rekeying: no ping in clear on the wire, in the whole run" "$R"
check_ge "rekeying: ESP on the wire" 200 "$(capture_count "$B" veth0 'ip proto 50')"
ike_stop

# --- NAT traversal: the initiator behind a masquerading router --------------
# C 192.168.7.2 -- 192.168.7.1 NAT 10.0.7.1 -- 10.0.7.2 S, ESP in UDP 4500
mkns C N S
veth "$C" veth0 192.168.7.2/24 "$N" in0 192.168.7.1/24
veth "$S" veth0 10.0.7.2/24 "$N" out0 10.0.7.1/24
ip -n "$C" route add default via 192.168.7.1
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$N" nft -f - <<'NFT'
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "out0" masquerade
	}
}
NFT
ike_site "$C" 10.1.0.1/24
ike_site "$S" 10.2.0.1/24
L=$C R=$S
RESPONDER_REMOTE=%any	# the initiator arrives from the NAT's address
check_setup "NAT-T: charons start (initiator behind NAT)" \
	192.168.7.2 10.0.7.2 "10.1.0.0/24" "10.2.0.0/24"
capture_start "$S" veth0
check_up "NAT-T: the tunnel comes up through the NAT"
check "NAT-T: the SAs use UDP encapsulation" xfrm_state_has "$S" 'encap type espinudp'
check "NAT-T: updown routed 10.2.0.0/24 into ipsec1" \
	wait_for 50 route_via "$C" 10.2.0.0/24 ipsec1
check "NAT-T: subnet ping through the NAT, all 5 answered" sh -c \
	"ip netns exec $C ping -q -c 5 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1 | grep -q ' 5 received'"
capture_stop
check_no_clear_ping "NAT-T: no ping in clear at the responder" "$R"
check_eq "NAT-T: no plain ESP (all of it in UDP)" 0 \
	"$(capture_count "$S" veth0 'ip proto 50')"
check_ge "NAT-T: ESP in UDP 4500 on the wire" 10 \
	"$(capture_count "$S" veth0 'udp port 4500')"
check_ge "NAT-T: the responder's ipsec1 received the pings" 5 \
	"$(dev_stat "$S" ipsec1 rx_packets)"
if [ "$(dev_stat "$S" ipsec1 rx_packets)" -lt 5 ]; then
	ip -n "$S" -s link show ipsec1 | sed 's/^/#   /'
	ip -n "$S" -s xfrm state | sed 's/^/#   /' | head -40
fi
ksft_exit
