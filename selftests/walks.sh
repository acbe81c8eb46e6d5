#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Work under RTNL only for SAs and policies that concern an ipsec device.
# Every SA or policy event with an if_id once queued walks of all the
# namespace's SAs and policies under RTNL (the MTU worker and the bundle
# mask worker), in any namespace, with or without ipsec devices: any
# namespace's root (a user namespace's too) could keep RTNL busy.
#
# Counted with kprobes on the two workers:
#  - N has no ipsec device: SAs (IPv4 and IPv6 outer) and policies (both
#    families) of if_id 7 added and deleted: no walk;
#  - M has ipsec1 (if_id 1): the same churn of if_id 7: no walk;
#  - then one SA of if_id 1 in M: the workers run (the probes work).
# And an SA event of one device costs another nothing: A has ipsec1 and
# ipsec2 attached to veth0 (ipsec1 moved to C, where its automatic MTU
# changes flush no route of A), tunnel_pair 2 gives ipsec2 a tunnel to B, and
# 32 flows of each family into ipsec2 find their bundles cached; SAs of
# ipsec1's if_id come and go (the workers run for ipsec1): ipsec2's next
# pass over its flows costs no bundle lookup. (Once every SA event of the
# namespace flushed every device's bundles and made its masks stale.)
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
mkns N M || ksft_skip_all "cannot create namespaces"
wire && mkns C || ksft_skip_all "cannot create namespaces and veth"
probe_add mtu p ipsecif:ipsecif_mtu_work && probe_add mask p ipsecif:ipsecif_mask_work ||
	ksft_skip_all "kprobes on the module's workers are not available"
ROUNDS=${WALKS_ROUNDS:-25}

# churn NS IF_ID: ROUNDS SAs of each outer family and ROUNDS policies of
# each inner family with IF_ID, one command each (the workers would run
# between them), then deleted one by one.
churn() {
	local ns=$1 id=$2 i
	for ((i = 1; i <= ROUNDS; i++)); do
		ip -n "$ns" xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi $((0x1000 + i)) \
			mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id "$id" || return 1
		ip -n "$ns" xfrm state add src fd00::1 dst fd00::2 proto esp spi $((0x1000 + i)) \
			mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id "$id" || return 1
		ip -n "$ns" xfrm policy add dir out src 0.0.0.0/0 dst 10.9.$i.0/24 if_id "$id" \
			tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel || return 1
		ip -n "$ns" xfrm policy add dir out src ::/0 dst fd09:$i::/64 if_id "$id" \
			tmpl src fd00::1 dst fd00::2 proto esp mode tunnel || return 1
	done
	for ((i = 1; i <= ROUNDS; i++)); do
		ip -n "$ns" xfrm state delete src 10.0.0.1 dst 10.0.0.2 proto esp spi $((0x1000 + i)) &&
		ip -n "$ns" xfrm state delete src fd00::1 dst fd00::2 proto esp spi $((0x1000 + i)) &&
		ip -n "$ns" xfrm policy delete dir out src 0.0.0.0/0 dst 10.9.$i.0/24 if_id "$id" &&
		ip -n "$ns" xfrm policy delete dir out src ::/0 dst fd09:$i::/64 if_id "$id" || return 1
	done
}

require "M: ipsec1 (if_id 1)" ip -n "$M" link add ipsec1 type ipsec
mtu0=$(probe_count mtu) mask0=$(probe_count mask)
check "N (no ipsec device): $ROUNDS SAs and policies of if_id 7 per family added and deleted" \
	churn "$N" 7
check "M (ipsec1, if_id 1): the same of if_id 7" churn "$M" 7
check "M: an SA of if_id 1 added" sa "$M" 10.0.0.1 10.0.0.2 0x2000 $KEY_AB 1
check "... the MTU worker runs for it" wait_for 100 probe_reaches mtu $((mtu0 + 1))
check "... and the mask worker" wait_for 100 probe_reaches mask $((mask0 + 1))
# The worker queued for ipsec1's SA may run once or, if it was running
# as the SA came, twice; the churn of if_id 7 ran it every time it was
# idle when an event came (a run per command or so), once in all at best.
at_most "MTU worker: no run for the $((ROUNDS * 8 * 2)) events of if_id 7 (runs in all)" \
	$((mtu0 + 2)) "$(probe_count mtu)"
at_most "mask worker: no run for them either (runs in all)" $((mask0 + 2)) "$(probe_count mask)"

# --- one device's SA events and another's bundles -------------------------
# ipsec1 lives in C: changing a device's MTU flushes its namespace's IPv4
# route cache, and with it the outer route of every bundle there.
two_devices() {
	ipsec_end "$A" 1 1 && ip -n "$A" link set ipsec1 netns "$C" &&
	ipsec_end "$A" 2 1 && tunnel_pair 2
}
flows() { taskset -c 0 python3 "$SELFTESTS/flows.py" "$A" ipsec2 2 32 "$1"; }
mtu1() { ip -n "$C" -j link show ipsec1 | jq -r '.[0].mtu'; }
require "A: ipsec1 (moved to C) and ipsec2 attached to veth0, a tunnel of ipsec2's if_id to B" two_devices
natt_add() {
	ip -n "$A" xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x3100 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 1 flag af-unspec \
		encap espinudp 4500 4500 0.0.0.0
}
natt_del() { ip -n "$A" xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp spi 0x3100; }
mtu_is() { [ "$(mtu1)" = "$1" ]; }
mtu_not() { ! mtu_is "$1"; }
no_sa=$(mtu1)
# ipsec1's MTU with a NAT-T SA, which none of the SAs below gives it
check "ipsec1: an SA with NAT-T" natt_add
check "... changes ipsec1's MTU" wait_for 100 mtu_not "$no_sa"
with_natt=$(mtu1)
check "... deleted" natt_del
check "... ipsec1's MTU is back ($no_sa)" wait_for 100 mtu_is "$no_sa"
require "ipsec2: 32 flows of each family find their bundles cached" flows warm
sa1() {
	local i
	for ((i = 1; i <= 10; i++)); do
		sa "$A" $UNDER4_A $UNDER4_B $((0x3000 + i)) $KEY_AB 1 &&
		ip -n "$A" xfrm state delete src $UNDER4_A dst $UNDER4_B proto esp \
			spi $((0x3000 + i)) || return 1
	done
	natt_add
}
check "A: 10 SAs of ipsec1's if_id added and deleted, then the NAT-T one again" sa1
# Workers run one at a time: the MTU of the NAT-T SA means that one ran
# after all those events.
check "... the MTU worker ran after the last ($with_natt)" wait_for 100 mtu_is "$with_natt"
check_eq "ipsec2: a pass over its 64 flows costs no bundle lookup" 0 "$(flows pass)"

ksft_exit
