#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two sites, two ISPs, a tunnel over each, strongSwan bringing them up:
# the kernel alone fails over between them (linkstate carrier), measured.
#   - ipsec0 over ISP 1 and ipsec1 over ISP 2, each with its own IKE SA
#     (DPD on); routes to the other LAN via ipsec0 (metric 10) and ipsec1
#     (metric 20), both families, ignore_routes_with_linkdown=1
#   - the peer deletes ipsec0's CHILD_SA: traffic moves to ipsec1, and
#     back once it is up again
#   - ISP 1 cut on the router (everything dropped): DPD on each gateway
#     declares the path dead and deletes the SAs: traffic moves to
#     ipsec1; restored: back to ipsec0
#   - figures (median and max over the cuts): the outage from the delete
#     or the cut to the first answer, and from the SAs' deletion (the
#     daemon declaring the path dead) to the first answer
#   - no packet of either LAN in clear on any underlay, through every
#     transition (captures on the router)
#   - negative control: linkstate always, the same cut: the route stays
#     on ipsec0 and traffic stops
#
# Topology: A isp1 10.0.1.1 -- R -- 10.0.3.1 isp1 B; A isp2 10.0.2.1 --
# R -- 10.0.4.1 isp2 B. LANs (dummy lan0): A 10.1.0.1/24 fd01::1/64, B
# 10.2.0.1/24 fd02::1/64. ipsec0 (if_id 16384) on isp1, ipsec1 (if_id 1)
# on isp2, on both gateways. CUTS cuts per case (default 3).
source "$(dirname "$0")/lib.sh"

[ -x "$CHARON" ] && command -v swanctl >/dev/null ||
	ksft_skip_all "strongSwan (charon, swanctl) not installed"
command -v tcpdump >/dev/null || ksft_skip_all "tcpdump not installed"
load_module || ksft_skip_all "ipsecif module not available"
mkns A B R || ksft_skip_all "cannot create namespaces"
WORK=$(mktemp -d /tmp/ipsecif-failover.XXXXXX)
trap 'cleanup; keep_artifacts "$WORK"; rm -rf "$WORK"' EXIT
CUTS=${CUTS:-3}
# DPD gives a silent peer up after 2 + 2.8 + 3.9 + 5.5 s: a busy TCG guest
# may take over a second to answer (the first SA loads the kernel's AES-GCM).
export IKE_RETRANSMIT_TIMEOUT=2 IKE_RETRANSMIT_BASE=1.4 IKE_RETRANSMIT_TRIES=3

ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
for side in "A 1 isp1 a1 1" "A 2 isp2 a2 2" "B 3 isp1 b1 1" "B 4 isp2 b2 2"; do
	read -r ns net dev rdev _ <<<"$side"
	veth "${!ns}" $dev 10.0.$net.1/24 "$R" $rdev 10.0.$net.254/24 ||
		ksft_skip_all "cannot create veth"
done
ip -n "$A" route add 10.0.3.0/24 via 10.0.1.254 dev isp1
ip -n "$A" route add 10.0.4.0/24 via 10.0.2.254 dev isp2
ip -n "$B" route add 10.0.1.0/24 via 10.0.3.254 dev isp1
ip -n "$B" route add 10.0.2.0/24 via 10.0.4.254 dev isp2
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1 \
		net.ipv4.conf.default.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.all.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.default.ignore_routes_with_linkdown=1
done
ike_site_lan() {	# ike_site_lan NS LAN4 LAN6
	ip -n "$1" link add lan0 type dummy &&
	ip -n "$1" link set lan0 up &&
	ip -n "$1" addr add "$2" dev lan0 &&
	ip -n "$1" addr add "$3" dev lan0 nodad
}
ike_site_lan "$A" 10.1.0.1/24 fd01::1/64
ike_site_lan "$B" 10.2.0.1/24 fd02::1/64

# devices MODE: ipsec0 on isp1, ipsec1 on isp2, in linkstate MODE, on both
# gateways, with the routes to the other LAN (metric 10 and 20)
devices() {
	local ns lan4 lan6 n
	for ns in "$A" "$B"; do
		lan4=10.2.0.0/24 lan6=fd02::/64
		[ "$ns" = "$B" ] && lan4=10.1.0.0/24 lan6=fd01::/64
		for n in 0 1; do
			ip -n "$ns" link del ipsec$n 2>/dev/null
			ip -n "$ns" link add ipsec$n type ipsec dev isp$((n + 1)) linkstate "$1" &&
			ip -n "$ns" link set ipsec$n up &&
			ip -n "$ns" route add $lan4 dev ipsec$n metric $((n * 10 + 10)) &&
			ip -n "$ns" -6 route add $lan6 dev ipsec$n metric $((n * 10 + 10)) ||
				return 1
		done
	done
}

# conf ME: swanctl.conf of gateway ME (a initiates and restarts, b answers)
conf() {
	local me=$1 peer=b lts="10.1.0.0/24,fd01::/64" rts="10.2.0.0/24,fd02::/64"
	local dpd=restart start=start n if_id
	[ "$me" = b ] && peer=a dpd=clear start=none lts=$rts rts="10.1.0.0/24,fd01::/64"
	echo "connections {"
	for n in 1 2; do
		if_id=16384
		[ $n = 2 ] && if_id=1
		local la=10.0.$n.1 ra=10.0.$((n + 2)).1
		[ "$me" = b ] && la=10.0.$((n + 2)).1 ra=10.0.$n.1
		cat <<CONF
	isp$n {
		version = 2
		local_addrs = $la
		remote_addrs = $ra
		proposals = aes128gcm16-prfsha256-ecp256
		dpd_delay = 2s
		keyingtries = 0
		local {
			auth = psk
			id = $me-isp$n
		}
		remote {
			auth = psk
			id = $peer-isp$n
		}
		children {
			net$n {
				local_ts = $lts
				remote_ts = $rts
				esp_proposals = aes128gcm16
				if_id_in = $if_id
				if_id_out = $if_id
				dpd_action = $dpd
				start_action = $start
			}
		}
	}
CONF
	done
	cat <<CONF
}
secrets {
	ike {
		id-a1 = a-isp1
		id-a2 = a-isp2
		id-b1 = b-isp1
		id-b2 = b-isp2
		secret = "ipsecif failover secret"
	}
}
CONF
}

# ike_up: both charons (re)started with their configs; a initiates both
ike_up() {
	ike_stop
	PHASE=$((${PHASE:-0} + 1))
	local me
	for me in a b; do
		[ -d "$WORK/$me" ] && mv "$WORK/$me" "$WORK/$me.$PHASE"
	done
	ike_start "$B" "$WORK/b" && ike_start "$A" "$WORK/a" || return 1
	conf b >"$WORK/b/swanctl.conf"
	conf a >"$WORK/a/swanctl.conf"
	swan "$WORK/b" --load-all --file "$WORK/b/swanctl.conf" >/dev/null &&
	swan "$WORK/a" --load-all --file "$WORK/a/swanctl.conf" >/dev/null
}
# up NS DEV: DEV's tunnel is up in NS
up() { [ "$(ip -n "$1" -d -j link show "$2" | jq -r '.[0].linkinfo.info_data.tunnel')" = up ]; }
both_up() { up "$A" ipsec0 && up "$A" ipsec1 && up "$B" ipsec0 && up "$B" ipsec1; }
# via DEV: both families from A's LAN to B's route into DEV, on A and B
via() {
	lookup_via "$A" 10.2.0.1 "$1" && lookup_via "$A" fd02::1 "$1" &&
	lookup_via "$B" 10.1.0.1 "$1" && lookup_via "$B" fd01::1 "$1"
}

# Pings from A's LAN to B's, both families, 50 a second, each answer
# stamped (ping -D): the outage is the gap in the answers.
pings_start() {
	local f
	for f in 4 6; do
		local src=10.1.0.1 dst=10.2.0.1
		[ $f = 6 ] && src=fd01::1 dst=fd02::1
		ip netns exec "$A" ping -D -n -i 0.02 -W 1 -I $src $dst >"$WORK/ping$f.log" 2>&1 &
		BG_PIDS+=($!)
	done
}
# answered_after T: each family has an answer stamped after T (epoch s)
answered_after() {
	local f
	for f in 4 6; do
		awk -v t="$1" -F'[][]' '/bytes from/ && $2 > t { ok = 1 } END { exit !ok }' \
			"$WORK/ping$f.log" || return 1
	done
}
# first_answer T: the first answer after T, the later of the two families
first_answer() {
	local f a=0 x
	for f in 4 6; do
		x=$(awk -v t="$1" -F'[][]' '/bytes from/ && $2 > t { print $2; exit }' "$WORK/ping$f.log")
		[ -n "$x" ] || return 1
		a=$(echo "$a $x" | awk '{ print ($2 > $1) ? $2 : $1 }')
	done
	echo "$a"
}
# deleted_after NS T SRC: when ipsec0's outbound SA from SRC was deleted in
# NS after T, from the stamped xfrm monitor of NS (epoch s)
deleted_after() {
	local stamp e
	stamp=$(awk -v src="$3" '/Deleted src/ && $0 ~ "src " src " " { print $1 }' "$WORK/sa-$1.log" |
		tr -d '[]' | while read -r stamp; do
			e=$(date -d "$stamp" +%s.%N)
			awk -v e="$e" -v t="$2" 'BEGIN { if (e > t) print e }'
		done | head -1)
	[ -n "$stamp" ] && echo "$stamp"
}
now() { date +%s.%N; }
# diag WHAT: the state of both gateways into $WORK/diag-WHAT.txt (kept with
# the logs after a failure); its xfrm errors into the TAP output
diag() {
	local ns f=$WORK/diag-$1.txt
	for ns in "$A" "$B"; do
		{
			echo "== $ns"
			ip -n "$ns" -s -d link show ipsec0
			ip -n "$ns" -s -d link show ipsec1
			ip netns exec "$ns" ethtool -S ipsec0
			ip netns exec "$ns" ethtool -S ipsec1
			ip -n "$ns" route show
			ip -n "$ns" -6 route show
			ip -n "$ns" xfrm state | grep -v 'aead\|enc \|auth'
			ip -n "$ns" xfrm policy
			ip netns exec "$ns" cat /proc/net/xfrm_stat
		} >>"$f" 2>&1
		info "$1: $ns xfrm errors: $(ip netns exec "$ns" awk '$2 != 0' /proc/net/xfrm_stat | tr '\n' ' ')"
	done
}
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# stats LIST: "median max" of the numbers in LIST
stats() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'; }

require "devices in linkstate carrier" devices carrier
require "charons start and load their configs" ike_up
require "both tunnels come up on both gateways" wait_for 300 both_up
check "both families route into ipsec0 (metric 10)" via ipsec0
for ns in A B; do
	ip -n "${!ns}" -ts xfrm monitor SA >"$WORK/sa-${!ns}.log" 2>&1 &
	BG_PIDS+=($!)
done
capture_start "$R" a1
capture_start "$R" a2
capture_start "$R" b1
capture_start "$R" b2
pings_start
check "pings answered through ipsec0" wait_for 50 answered_after "$(now)"

# --- the peer deletes the CHILD_SA ----------------------------------------------
gaps=() dead=()
for ((i = 1; i <= CUTS; i++)); do
	t0=$(now)
	swan "$WORK/b" --terminate --child net1 --timeout 30 >/dev/null 2>&1
	check "delete $i: ipsec0 down on A and B, routes via ipsec1" \
		wait_for 100 via ipsec1
	td=$(deleted_after "$A" "$t0" 10.0.1.1)
	if check "delete $i: answers through ipsec1 after the SA's deletion" \
		wait_for 100 answered_after "${td:-$t0}" && [ -n "$td" ] &&
		ta=$(first_answer "$td"); then
		gaps+=("$(ms "$t0" "$ta")")
		dead+=("$(ms "$td" "$ta")")
	else
		diag delete$i
	fi
	swan "$WORK/a" --initiate --child net1 --timeout 60 >/dev/null 2>&1
	check "delete $i: re-initiated, routes back via ipsec0" wait_for 300 all both_up -- via ipsec0
done
read -r med max <<<"$(stats "${gaps[*]}")"
info "peer deletes the SA: outage from the delete ${med}ms median, ${max}ms max (${gaps[*]})"
read -r dmed dmax <<<"$(stats "${dead[*]}")"
info "... from A's SA deletion to the first answer ${dmed}ms median, ${dmax}ms max"
check_eq "delete: an outage figure for every delete" "$CUTS" "${#gaps[@]}"
at_most "delete: traffic on ipsec1 within 1 s of the SA's deletion (max, ms)" 1000 "${dmax:-99999}"

# --- ISP 1 cut on the router: DPD ----------------------------------------------
isp1_cut() { ip netns exec "$R" nft -f - <<'NFT'
table inet cut {
	chain cutter {
		type filter hook forward priority 0; policy accept;
		iifname "a1" drop
		iifname "b1" drop
	}
}
NFT
}
isp1_restore() { ip netns exec "$R" nft delete table inet cut; }
gaps=() dead=()
for ((i = 1; i <= CUTS; i++)); do
	t0=$(now)
	require "cut $i: ISP 1 dropped on the router" isp1_cut
	check "cut $i: DPD takes ipsec0 down on A and B, routes via ipsec1" \
		wait_for 200 via ipsec1
	# The path is dead for both once both gateways deleted their SAs.
	td=$(printf '%s\n' "$(deleted_after "$A" "$t0" 10.0.1.1)" \
		"$(deleted_after "$B" "$t0" 10.0.3.1)" | sort -n | awk 'NF { n++; t = $1 } END { if (n == 2) print t }')
	if check "cut $i: answers through ipsec1 after both deletions" \
		wait_for 100 answered_after "${td:-$t0}" && [ -n "$td" ] &&
		ta=$(first_answer "$td"); then
		gaps+=("$(ms "$t0" "$ta")")
		dead+=("$(ms "$td" "$ta")")
	else
		diag cut$i
	fi
	isp1_restore
	check "cut $i: restored, routes back via ipsec0" wait_for 300 all both_up -- via ipsec0
done
read -r med max <<<"$(stats "${gaps[*]}")"
info "DPD: outage from the cut ${med}ms median, ${max}ms max (${gaps[*]})"
read -r dmed dmax <<<"$(stats "${dead[*]}")"
info "... from the later SA deletion (path declared dead) to the first answer ${dmed}ms median, ${dmax}ms max"
check_eq "DPD: an outage figure for every cut" "$CUTS" "${#gaps[@]}"
at_most "DPD: traffic on ipsec1 within 1 s of the path declared dead (max, ms)" 1000 "${dmax:-99999}"

capture_stop
for dev in a1 a2 b1 b2; do
	check_none "no LAN packet in clear on $dev" "$R" $dev \
		'net 10.1.0.0/24 or net 10.2.0.0/24 or net fd01::/64 or net fd02::/64'
done
check_ge "ESP on ISP 2 (the backup carried traffic)" 1 "$(capture_count "$R" a2 'ip proto 50')"

# --- negative control: linkstate always ----------------------------------------
for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
BG_PIDS=()
for ns in "$A" "$B"; do
	ip -n "$ns" link set ipsec0 type ipsec linkstate always
	ip -n "$ns" link set ipsec1 type ipsec linkstate always
done
require "control: cut again, linkstate always" isp1_cut
check "control: DPD deletes the SAs (tunnel down)" wait_for 200 sh -c \
	"! ip -n $A -d -j link show ipsec0 | jq -e '.[0].linkinfo.info_data.tunnel == \"up\"' >/dev/null"
check "control: lookups stay on ipsec0" via ipsec0
check_fail "control: no answer" ip netns exec "$A" ping -q -c 3 -i 0.3 -W 1 -I 10.1.0.1 10.2.0.1
isp1_restore

ksft_exit
