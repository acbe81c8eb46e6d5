#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ICMP errors and TCP connections from a remote host cost ipsec devices
# nothing.
# Each ICMPv6 Packet Too Big a host accepts creates a path MTU exception,
# which changes the IPv6 route generation; the bundle cache once took that
# generation for a sign that policies had changed: every accepted PTB made
# every device fall back to a bundle lookup per flow and walk all policies
# and SAs under RTNL (ipsecif_mask_work). A remote host needs only the
# port of a UDP socket (an IKE daemon's) to send them.
#
# Topology: wire() A -- veth0 -- B; ipsec1 (if_id 1) on A attached to veth0,
# tunnel_pair 1 (IPv4 outer, policies of both inner families).
# ptbflood.py: B sends A ROUNDS ICMPv6 PTBs, each creating an exception
# (counted on A), interleaved with a datagram from each of 32 IPv4 and 32
# IPv6 flows into ipsec1. Checked: the exceptions were made, no mask walk
# ran, at most 2 bundle lookups, every datagram was encrypted with
# ipsec1's SA. Then the same with ICMPv4 "fragmentation needed": an IPv4
# exception marks the routes cached for its next hop obsolete, the tunnel
# peer's among them (xfrm's bundles hold it as their outer route), so each
# costs a lookup per cached bundle, as for a socket's bundle: at most 2
# per error (one bundle per inner family), not one per packet.
# Last, B opens TCP connections to A's port 4500, which A accepts from
# listeners with per-socket bypass policies (IKE over TCP, RFC 8229): each
# accepted socket gets copies of them, linked into A's policies, which
# once made every device's masks stale: a walk and a lookup per flow for
# each connection. Checked: the connections were accepted, no mask walk,
# no bundle lookup, every datagram encrypted.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"
probe_add mask p ipsecif:ipsecif_mask_work ||
	ksft_skip_all "kprobes on the module's workers are not available"
ROUNDS=${PTB_ROUNDS:-150}	# at most 250: a wire address each
FLOWS=32

require "ipsec1 on A, attached to veth0" ipsec_end "$A" 1 1
require "tunnel_pair 1: SAs and policies of both inner families" tunnel_pair 1
pair_spis 1
exceptions6() { ip -n "$A" -6 route show cache | grep -c '^fd00::7:'; }
exceptions4() { ip -n "$A" route show cache | grep -c '^10\.0\.0\.'; }

flood() { taskset -c 0 python3 "$SELFTESTS/ptbflood.py" "$A" "$B" "$@"; }
require "ipsec1's masks are current (a pass over the flows costs no lookup)" flood warm $FLOWS

# phase ICMP TYPE DESC EXCEPTIONS MAX_LOOKUPS: one flood and its checks
phase() {
	local icmp=$1 desc=$2 exceptions=$3 max=$4 e0 walks0 sa0 l0 out rc sent l1 walks1
	e0=$($exceptions)
	walks0=$(probe_count mask)
	sa0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
	l0=$(counter "$A" ipsec1 tx_bundle_lookups)
	out=$(flood "$ROUNDS" $FLOWS "$icmp")
	rc=$?
	info "$out"
	[ $rc = 0 ] || nok "$icmp: ptbflood.py ran (exit $rc)"
	sent=$(sed -n 's/^sent //p' <<<"$out")
	l1=$(counter "$A" ipsec1 tx_bundle_lookups)
	walks1=$(probe_count mask)
	info "$icmp: lookups $l0 -> $l1, mask walks $walks0 -> $walks1"
	check_ge "$icmp: B's $ROUNDS $desc made as many path MTU exceptions on A" \
		$((e0 + ROUNDS)) "$($exceptions)"
	check_eq "$icmp: ipsec1 was sent $((ROUNDS * FLOWS * 2)) datagrams meanwhile" \
		$((ROUNDS * FLOWS * 2)) "${sent:-0}"
	check_ge "$icmp: ... all encrypted with A's SA $SPI_AB" \
		$((sa0 + ROUNDS * FLOWS * 2)) "$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"
	at_most "$icmp: bundle lookups during the flood: at most $max" $((l0 + max)) "$l1"
	at_most "$icmp: mask walks during the flood: at most 1" $((walks0 + 1)) "$walks1"
}
phase ptb6 "ICMPv6 Packet Too Big" exceptions6 2
phase frag4 "ICMPv4 fragmentation needed" exceptions4 $((2 * ROUNDS + 2))

# --- TCP connections accepted by a socket with per-socket policies --------
require "ipsec1's masks are current again" flood warm $FLOWS
walks0=$(probe_count mask)
sa0=$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)
l0=$(counter "$A" ipsec1 tx_bundle_lookups)
out=$(flood "$ROUNDS" $FLOWS accept)
rc=$?
info "$out"
[ $rc = 0 ] || nok "accept: ptbflood.py ran (exit $rc)"
l1=$(counter "$A" ipsec1 tx_bundle_lookups)
walks1=$(probe_count mask)
info "accept: lookups $l0 -> $l1, mask walks $walks0 -> $walks1"
check_eq "accept: A accepted $ROUNDS TCP connections from B on its IKE listeners" \
	"$ROUNDS" "$(sed -n 's/^accepted //p' <<<"$out")"
check_eq "accept: ipsec1 was sent $((ROUNDS * FLOWS * 2)) datagrams meanwhile" \
	$((ROUNDS * FLOWS * 2)) "$(sed -n 's/^sent //p' <<<"$out")"
check_ge "accept: ... all encrypted with A's SA $SPI_AB" \
	$((sa0 + ROUNDS * FLOWS * 2)) "$(sa_pk "$A" $UNDER4_A $UNDER4_B $SPI_AB)"
check_eq "accept: bundle lookups meanwhile" "$l0" "$l1"
check_eq "accept: mask walks meanwhile" "$walks0" "$walks1"

ksft_exit
