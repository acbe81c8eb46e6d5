#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module walks xfrm's policies and SAs in chunks (IPSECIF_WALK_CHUNK,
# 512 entries), letting xfrm's lock go and rescheduling between them: the
# walk must resume where it stopped, skipping nothing.
#
# Topology: wire() A -- veth0 -- B; ipsec1 (if_id 1) on A attached to
# veth0, 172.16.1.1/24 and fd01::1/64. Policies of if_id 1: 0.0.0.0/0 and
# ::/0 to SA 0x100 (priority 1000), and the narrower 172.16.1.128/25 and
# fd01::80/121 to SA 0x200 (priority 100), inserted first: xfrm lists
# policies newest first, so they come last in a walk, after 1,500
# policies and 1,500 SAs of if_id 9 (no device's) inserted later. A
# kprobe counts xfrm_policy_walk() calls: a walk of them in one go would
# make one. Then, once ipsec1's masks are current, 32 flows of each family
# to each side of the narrow prefixes: each SA carries exactly its own.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
command -v python3 >/dev/null || ksft_skip_all "python3 is not installed"
probe_add walk p xfrm_policy_walk && probe_add swalk p xfrm_state_walk &&
	probe_add mask p ipsecif:ipsecif_mask_work ||
	ksft_skip_all "kprobes are not available"
MANY=${CHUNKS_MANY:-1500}

narrow() { out_pair 0x200 100 172.16.1.128/25 fd01::80/121; }
wide() { out_pair 0x100 1000 0.0.0.0/0 ::/0; }
# MANY policies (both families) and MANY SAs of if_id 9, one ip -batch
many() {
	local i f
	f=$(mktemp)
	for ((i = 0; i < MANY; i++)); do
		if ((i % 2)); then
			echo "xfrm policy add dir out src ::/0 dst fd09:$((i / 256)):$((i % 256))::/64 if_id 9" \
				"tmpl src $UNDER4_A dst $UNDER4_B proto esp mode tunnel"
		else
			echo "xfrm policy add dir out src 0.0.0.0/0 dst 10.$((i / 256)).$((i % 256)).0/24 if_id 9" \
				"tmpl src $UNDER4_A dst $UNDER4_B proto esp mode tunnel"
		fi
		echo "xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi $((0x10000 + i))" \
			"mode tunnel aead rfc4106(gcm(aes)) $KEY_AB 128 if_id 9"
	done >"$f"
	ip -n "$A" -batch "$f"
	local rc=$?
	rm -f "$f"
	return $rc
}
require "ipsec1 on A, attached to veth0" ipsec_end "$A" 1 1
require "A: the narrow policies of if_id 1 (SA 0x200), first" narrow
require "A: $MANY policies and $MANY SAs of if_id 9" many
require "A: the wide policies of if_id 1 (SA 0x100)" wide
check_ge "A has $((MANY + 4)) outbound policies" $((MANY + 4)) \
	"$(ip -n "$A" xfrm policy list dir out | grep -c '^src')"

flows() { taskset -c 0 python3 "$SELFTESTS/flows.py" "$A" ipsec1 1 32 "$@"; }
walks0=$(probe_count walk) swalks0=$(probe_count swalk) mask0=$(probe_count mask)
# An SA of if_id 1 makes ipsec1's masks stale: a computation runs (walking
# the policies and the SAs), and flows.py warm waits until it is done.
require "A: one more SA of if_id 1" sa "$A" $UNDER4_A $UNDER4_B 0x300 $KEY_AB 1
require "ipsec1's masks are current" flows warm
runs=$(($(probe_count mask) - mask0))
walks=$(($(probe_count walk) - walks0))
swalks=$(($(probe_count swalk) - swalks0))
info "mask worker runs $runs, xfrm_policy_walk calls $walks, xfrm_state_walk calls $swalks"
check_ge "the mask worker ran" 1 "$runs"
check_ge "the policies were walked in chunks: at least 3 calls of xfrm_policy_walk a run" \
	$((3 * runs)) "$walks"
check_ge "... and the SAs: at least 3 calls of xfrm_state_walk a run" $((3 * runs)) "$swalks"

# send DST N: one datagram from each of N flows, from source ports 40000 on
send() {
	ip netns exec "$A" taskset -c 0 python3 -c '
import socket, sys
dst, n = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
for port in range(40000, 40000 + n):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("", port))
    s.sendto(b"ipsecif", (dst, 9))
    s.close()' "$1" "$2"
}
a_pk() { sa_pk "$A" $UNDER4_A $UNDER4_B "$1"; }
for d in "172.16.1.200 172.16.1.100" "fd01::c8 fd01::64"; do
	read -r in out <<<"$d"
	n0=$(a_pk 0x200) w0=$(a_pk 0x100)
	send "$in" 32
	send "$out" 32
	check_eq "$in: its 32 flows carried by SA 0x200 (the narrow policy, last walked)" \
		$((n0 + 32)) "$(a_pk 0x200)"
	check_ge "$out: its 32 flows by SA 0x100 (the wide one)" $((w0 + 32)) "$(a_pk 0x100)"
done

ksft_exit
