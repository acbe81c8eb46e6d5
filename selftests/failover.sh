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
source "$SELFTESTS/twosites.sh"

twosites_init failover
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1 \
		net.ipv4.conf.default.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.all.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.default.ignore_routes_with_linkdown=1
done

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

# via DEV: both families from A's LAN to B's route into DEV, on A and B
via() {
	lookup_via "$A" 10.2.0.1 "$1" && lookup_via "$A" fd02::1 "$1" &&
	lookup_via "$B" 10.1.0.1 "$1" && lookup_via "$B" fd01::1 "$1"
}

require "devices in linkstate carrier" devices carrier
here "charons start and load their configs" ike_up
require "both tunnels come up on both gateways" wait_for 300 both_up
check "both families route into ipsec0 (metric 10)" via ipsec0
sa_monitors
here "captures on the router" captures_start
pings_start pings
check "pings answered through ipsec0" wait_for 50 answered_after "$(now)"

# --- the peer deletes the CHILD_SA ----------------------------------------------
GAPS=() DEAD=()
for ((i = 1; i <= CUTS; i++)); do
	t0=$(now)
	swan "$WORK/b" --terminate --child net1 --timeout 30 >/dev/null 2>&1
	check "delete $i: ipsec0 down on A and B, routes via ipsec1" \
		wait_for 100 via ipsec1
	outage delete$i "$t0" "$(deleted_after "$A" "$t0" 10.0.1.1)" \
		"delete $i: answers through ipsec1 after the SA's deletion"
	swan "$WORK/a" --initiate --child net1 --timeout 60 >/dev/null 2>&1
	check "delete $i: re-initiated, routes back via ipsec0" wait_for 300 all both_up -- via ipsec0
done
outage_report "peer deletes the SA" "the delete" "A's SA deletion"
check_eq "delete: an outage figure for every delete" "$CUTS" "${#GAPS[@]}"
at_most "delete: traffic on ipsec1 within 1 s of the SA's deletion (max, ms)" 1000 "${DMAX:-99999}"

# --- ISP 1 cut on the router: DPD ----------------------------------------------
GAPS=() DEAD=()
for ((i = 1; i <= CUTS; i++)); do
	t0=$(now)
	require "cut $i: ISP 1 dropped on the router" isp1_cut
	check "cut $i: DPD takes ipsec0 down on A and B, routes via ipsec1" \
		wait_for 200 via ipsec1
	# The path is dead for both once both gateways deleted their SAs.
	outage cut$i "$t0" \
		"$(latest 2 "$(deleted_after "$A" "$t0" 10.0.1.1)" "$(deleted_after "$B" "$t0" 10.0.3.1)")" \
		"cut $i: answers through ipsec1 after both deletions"
	isp1_restore
	check "cut $i: restored, routes back via ipsec0" wait_for 300 all both_up -- via ipsec0
done
outage_report DPD "the cut" "the later SA deletion (path declared dead)"
check_eq "DPD: an outage figure for every cut" "$CUTS" "${#GAPS[@]}"
at_most "DPD: traffic on ipsec1 within 1 s of the path declared dead (max, ms)" 1000 "${DMAX:-99999}"

captures_stop
check_no_clear
check_ge "ESP on ISP 2 (the backup carried traffic)" 1 "$(capture_count "$R" a2 'ip proto 50')"

# --- negative control: linkstate always ----------------------------------------
pings_stop
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
