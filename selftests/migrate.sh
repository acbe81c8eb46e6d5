#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# MOBIKE: an IKE daemon (libreswan, strongSwan) moves a tunnel's SAs to
# new addresses, or behind a NAT, with XFRM_MSG_MIGRATE. xfrm replaces the
# SAs and tells the key managers with their .migrate callback, with no SA
# notification: the device's automatic MTU, headroom and cached bundles
# must follow all the same.
#
# Topology: wire() A -- veth0 -- B; ipsec1 (if_id 1) on A attached to
# veth0 (automatic MTU), tunnel_pair 1. A's outbound SA is migrated twice
# (migrate.py): NAT-T added at the same IPv4 addresses (8 bytes more of
# overhead), then to the IPv6 addresses of the wire, NAT-T asked for again
# (7.2 drops an SA's encapsulation when a migration names none), the MTU
# that ipsec2 gets from such an SA of its own. After each, ipsec1's MTU follows, and
# 32 flows of each inner family are encrypted with the migrated SA. (Only
# A's SAs move: B does not decrypt them.)
# Linux 7.2 also has XFRM_MSG_MIGRATE_STATE, which moves one SA and tells
# no key manager at all (the daemon then moves the templates of the
# policies, XFRM_MSG_UPDPOLICY): the device learns of it from its bundles.
# Back to
# IPv4 without NAT-T while bundles of the old SA are cached (the first
# packet finds its SA dead), then NAT-T again with none cached (a policy of
# another if_id makes the masks stale: the first packet's new bundle has an
# SA that needs more room than measured). Skipped where there is no such
# message.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"

require "ipsec1 on A, attached to veth0" ipsec_end "$A" 1 1
require "tunnel_pair 1: SAs and policies of both inner families" tunnel_pair 1
pair_spis 1
mtu() { ip -n "$A" -j link show ipsec1 | jq -r '.[0].mtu'; }
mtu_is() { [ "$(mtu)" = "$1" ]; }
flows() { taskset -c 0 python3 "$SELFTESTS/flows.py" "$A" ipsec1 1 32 "$1"; }
# migrate OLD_SRC OLD_DST NEW_SRC NEW_DST [natt]: A's outbound SA
migrate() {
	ip netns exec "$A" python3 "$SELFTESTS/migrate.py" 1 "$1" "$2" "$3" "$4" \
		"$SPI_AB" "${@:5}"
}
out=$(migrate $UNDER4_A $UNDER4_B $UNDER4_A $UNDER4_B 2>&1)
[ $? = 4 ] && ksft_skip_all "$out"
[ -z "$out" ] || { info "$out"; ksft_skip_all "XFRM_MSG_MIGRATE with if_id is refused"; }
# (that migration changed nothing: the same addresses, no NAT-T)
before=$(mtu)
require "ipsec1's MTU counts the tunnel's SAs" mtu_is "$before"
require "ipsec1: 32 flows of each family find their bundles cached" flows warm

# The MTU an SA at the IPv6 addresses with NAT-T gives (xfrm_state_mtu()
# differs between kernels): ipsec2's, with only such an SA of its if_id.
ref6() {
	ip -n "$A" link add ipsec2 link veth0 type ipsec &&
	ip -n "$A" xfrm state add src $UNDER6_A dst $UNDER6_B proto esp spi 0x900 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 2 flag af-unspec \
		encap espinudp 4500 4500 ::
}
mtu2() { ip -n "$A" -j link show ipsec2 | jq -r '.[0].mtu'; }
mtu2_below() { [ "$(mtu2)" -lt "$1" ]; }
require "ipsec2 (if_id 2), with an SA at the IPv6 addresses with NAT-T" ref6
require "... its MTU counts it" wait_for 100 mtu2_below $((before - 8))
with6=$(mtu2)

# step DESC OLD_SRC OLD_DST NEW_SRC NEW_DST MTU [natt]
step() {
	local desc=$1 ns=$4 nd=$5 want=$6 p0 mig
	mig=$(migrate "$2" "$3" "$ns" "$nd" "${@:7}")
	check "$desc: A's outbound SA migrated" test -z "$mig"
	[ -z "$mig" ] || info "$mig"
	check "$desc: ... it is at $ns to $nd" \
		test -n "$(ip -n "$A" xfrm state get src "$ns" dst "$nd" proto esp spi "$SPI_AB")"
	check "$desc: ipsec1's MTU follows ($want)" wait_for 100 mtu_is "$want"
	[ "$(mtu)" = "$want" ] || info "ipsec1's MTU is $(mtu)"
	p0=$(sa_pk "$A" "$ns" "$nd" "$SPI_AB")
	check "$desc: a pass over 64 flows into ipsec1" flows pass
	check_ge "$desc: ... all encrypted with the migrated SA" $((${p0:-0} + 64)) \
		"$(sa_pk "$A" "$ns" "$nd" "$SPI_AB")"
}
step "NAT-T" $UNDER4_A $UNDER4_B $UNDER4_A $UNDER4_B $((before - 8)) natt
step "to IPv6" $UNDER4_A $UNDER4_B $UNDER6_A $UNDER6_B "$with6" natt

# templates_to SRC DST: A's outbound policies of if_id 1 send to SRC-DST
templates_to() {
	local sel
	for sel in 0.0.0.0/0 ::/0; do
		ip -n "$A" xfrm policy update dir out src $sel dst $sel if_id 1 \
			tmpl src "$1" dst "$2" proto esp reqid "$SPI_AB" mode tunnel || return 1
	done
}
# state_step DESC OLD_DST NEW_SRC NEW_DST MTU PREP [natt]: the same with
# XFRM_MSG_MIGRATE_STATE and the templates moved, PREP run then
state_step() {
	local desc=$1 ns=$3 nd=$4 want=$5 p0 mig rc
	mig=$(ip netns exec "$A" python3 "$SELFTESTS/migrate.py" state "$SPI_AB" \
		"$SPI_AB" "$2" "$ns" "$nd" "${@:7}")
	rc=$?
	if [ $rc = 4 ]; then
		skip "$desc" "$mig"
		return
	fi
	check "$desc: A's outbound SA migrated (XFRM_MSG_MIGRATE_STATE)" test $rc = 0
	[ -z "$mig" ] || info "$mig"
	check "$desc: ... it is at $ns to $nd" \
		test -n "$(ip -n "$A" xfrm state get src "$ns" dst "$nd" proto esp spi "$SPI_AB")"
	check "$desc: the policies' templates moved with it" templates_to "$ns" "$nd"
	$6
	p0=$(sa_pk "$A" "$ns" "$nd" "$SPI_AB")
	check "$desc: a pass over 64 flows into ipsec1" flows pass
	check "$desc: ipsec1's MTU follows ($want)" wait_for 100 mtu_is "$want"
	[ "$(mtu)" = "$want" ] || info "ipsec1's MTU is $(mtu)"
	check "$desc: a second pass" flows pass
	check_ge "$desc: ... all encrypted with the migrated SA" $((${p0:-0} + 128)) \
		"$(sa_pk "$A" "$ns" "$nd" "$SPI_AB")"
}
other_policy() {
	ip -n "$A" xfrm policy add dir out src 192.0.2.0/24 dst 198.51.100.0/24 \
		if_id 99 tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid 99 mode tunnel
}
state_step "MIGRATE_STATE to IPv4, bundles cached" $UNDER6_B $UNDER4_A $UNDER4_B "$before" :
state_step "MIGRATE_STATE NAT-T, no bundle cached" $UNDER4_B $UNDER4_A $UNDER4_B \
	$((before - 8)) other_policy natt

ksft_exit
