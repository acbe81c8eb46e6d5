#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: loads xfrm_interface
# Differential test of the bundle cache (module/bundle.c, module/tx.c)
# against Linux's own xfrm_interface, which looks a bundle up afresh for
# every packet: a flow must get exactly the SA a fresh
# xfrm_lookup_with_ifid() gives it.
#
# Twin namespaces, each with a dummy0 underlay (10.0.0.1/24, fd00::1/64):
#   NX: xfrm1 (kind xfrm, if_id 1, dev dummy0), routes "default dev xfrm1"
#   NI: ipsec1 (kind ipsec, if_id 1, link dummy0), routes "default dev
#       dummy0" (ipsecif looks the inner destination up through its link)
# The same random configuration goes into both (oracle.py gen, from the
# seed): 2 to 4 tunnel peers (10.0.0.2-.5, fd00::2-::5), SAs of if_id 1
# with null encryption and flag af-unspec (either inner family through
# either outer one), some templates with two SAs or none, some SAs with a
# selector; outbound policies of if_id 1 of both inner families, prefixes
# of every length around small pools of addresses, optional protocol,
# ports or ICMP type, mark, random (and tied) priorities.
#
# Flows of both families (UDP, TCP, ICMP, ICMPv6; addresses, ports and
# marks from the same pools) are injected with a packet socket into xfrm1
# and ipsec1 alike; a packet socket on dummy0 reads the SPI of the ESP
# packet that carried each (its payload is tagged with a send number), or
# the device counted it dropped. One python process per namespace
# (oracle.py run), the outputs compared flow by flow (oracle.py compare).
#   - static: 3 passes over all flows, each in its own order. Between
#     the first and the second, ipsec1's masks are made current (the
#     first packets after a change are keyed by their whole flow while a
#     worker computes the mask; later ones by the masked flow): a flow
#     that differs from a carried one only where the mask does not look
#     must find the bundle cached (tx_bundle_lookups unchanged), polled.
#   - churn: ORACLE_CHURN times, the same mutation in both namespaces (an
#     SA replaced, added or deleted, a policy added or deleted, a
#     priority changed), then 2 passes over 30% of the flows, likewise.
# Per family and phase, every flow must be carried by the same SA as
# xfrm_interface carried it, or dropped by both; and a tenth of the sends
# at least carried, by more than one SA, so that the test cannot pass on
# nothing.
#
# Transport mode is compared only in part. Some seeds add, per inner
# family, a transport-mode SA and policy from the underlay address to a
# peer, and flows between those two addresses (they make the mask take
# whole addresses). xfrm_interface cannot send IPv4 transport mode: the
# bundle's route leads back into xfrm1 ("Local routing loop detected",
# counted as collisions); for those flows only "ipsec1 used a
# transport-mode SA" is checked, not which one. IPv6 transport flows it
# did send on 6.12, and those are compared like any other.
#
# xfrm prefers the newest of two SAs of a template by their times of
# addition in seconds, and breaks a tie by the order of a hash chain that
# a resize of the table reverses: the two namespaces could then disagree
# with no cache involved. So a second SA of a template is always added in
# a later second than the others (in both namespaces).
#
# The configuration generator rejects (and draws again, from the same
# seed) configurations in which a rough model of xfrm's choice gives a
# family few carried flows or fewer than 3 SAs; the model decides nothing
# else, the kernels are compared with each other.
#
# Not covered: one CPU only (the sender is pinned; the cache is per CPU),
# packets with a route of their own (forwarded or locally routed traffic),
# security contexts, NAT-T, SA marks, outbound policies of other if_ids,
# templates of more than one SA (bundles of several transforms), and
# inner packets over the path MTU.
#
# ORACLE_SEED=N replays a run (its seed is printed first). ORACLE_FLOWS
# (default 1200, half of each family) and ORACLE_CHURN (default 10) size it.
source "$(dirname "$0")/lib.sh"

SEED=${ORACLE_SEED:-$((RANDOM * 32768 + RANDOM))}
FLOWS=${ORACLE_FLOWS:-1200}
CHURN=${ORACLE_CHURN:-10}
echo "# seed $SEED (ORACLE_SEED=$SEED replays it), $FLOWS flows, $CHURN mutations"

load_module || ksft_skip_all "ipsecif module not available"
modprobe xfrm_interface 2>/dev/null
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"
command -v ethtool >/dev/null || ksft_skip_all "ethtool is not installed"
mkns NX NI || ksft_skip_all "cannot create namespaces"
ip -n "$NX" link add dummy0 type dummy 2>/dev/null || ksft_skip_all "no dummy devices"
ip -n "$NX" link add xfrm1 type xfrm dev dummy0 if_id 1 2>/dev/null ||
	ksft_skip_all "xfrm_interface is not available"

WORK=$(mktemp -d)
trap 'keep_artifacts "$WORK"; cleanup; rm -rf "$WORK"' EXIT

# underlay NS: dummy0 up with the underlay addresses, no IPv6 of its own
underlay() {
	ip -n "$1" link show dummy0 >/dev/null 2>&1 || ip -n "$1" link add dummy0 type dummy
	ip -n "$1" link set dummy0 addrgenmode none &&
	ip -n "$1" addr add 10.0.0.1/24 dev dummy0 &&
	ip -n "$1" addr add fd00::1/64 dev dummy0 nodad &&
	ip -n "$1" link set dummy0 up
}

setup_nx() {
	underlay "$NX" &&
	ip -n "$NX" link set xfrm1 addrgenmode none &&
	ip -n "$NX" link set xfrm1 up &&
	ip -n "$NX" route add default dev xfrm1 metric 2000 &&
	ip -n "$NX" -6 route add default dev xfrm1 metric 2000
}

setup_ni() {
	underlay "$NI" &&
	ip -n "$NI" link add ipsec1 link dummy0 type ipsec &&
	ip -n "$NI" link set ipsec1 addrgenmode none &&
	ip -n "$NI" link set ipsec1 up &&
	ip -n "$NI" route add default dev dummy0 &&
	ip -n "$NI" -6 route add default dev dummy0
}

require "NX: xfrm1 (xfrm_interface, if_id 1) on dummy0, default routes into it" setup_nx
require "NI: ipsec1 (if_id 1) on dummy0, default routes through dummy0" setup_ni
require "configuration and flows generated from seed $SEED" \
	python3 "$SELFTESTS/oracle.py" gen "$SEED" "$WORK" "$FLOWS" "$CHURN"
info "$(grep -c 'policy add' "$WORK/config.batch") policies and" \
	"$(cat "$WORK"/config*.batch | grep -c 'state add') SAs of if_id 1"
require "the same configuration in NX" ip -n "$NX" -batch "$WORK/config.batch"
require "the same configuration in NI" ip -n "$NI" -batch "$WORK/config.batch"
# The second SAs of templates: xfrm prefers the newer of two SAs by their
# times of addition in seconds (a tie goes by the order of a hash chain,
# which a resize of the table reverses), so they come a second later in
# both namespaces. Waiting for the clock, not for anything to happen.
later() { [ "$(date +%s)" -gt "$1" ]; }
if [ -s "$WORK/config2.batch" ]; then
	t=$(date +%s)
	wait_for 25 later "$t"
	require "second SAs of templates, a second later, in NX" \
		ip -n "$NX" -batch "$WORK/config2.batch"
	require "... and in NI" ip -n "$NI" -batch "$WORK/config2.batch"
fi

# run NS DEV: the plan in NS, from CPU 0 (the cache is per CPU); bounded
run() {
	timeout "$LIFE" ip netns exec "$1" taskset -c 0 \
		python3 "$SELFTESTS/oracle.py" run "$WORK" "$2" "$WORK/$2.out"
}
require "the flows through xfrm1 (xfrm_interface)" run "$NX" xfrm1
require "the flows through ipsec1" run "$NI" ipsec1

require "xfrm_interface and ipsec1 compared flow by flow" eval \
	'python3 "$SELFTESTS/oracle.py" compare "$WORK" "$WORK/xfrm1.out" "$WORK/ipsec1.out" >"$WORK/compare"'
while IFS='|' read -r kind desc a b; do
	case $kind in
	eq) check_eq "$desc" "$a" "$b" ;;
	ge) check_ge "$desc" "$a" "$b" ;;
	*) info "$desc" ;;
	esac
done <"$WORK/compare"

# shellcheck disable=SC2154 # lib.sh counts the failures
[ "$_fail" = 0 ] || info "replay: ORACLE_SEED=$SEED ORACLE_FLOWS=$FLOWS ORACLE_CHURN=$CHURN"
ksft_exit
