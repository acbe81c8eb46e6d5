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
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
mkns N M || ksft_skip_all "cannot create namespaces"
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

ksft_exit
