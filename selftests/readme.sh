#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's worked example, run as written on "left", and mirrored
# (addresses, SPIs and keys swapped) on "right", two namespaces joined
# by an eth0 wire. It must end with a ping answered through the tunnel.
#   - the example's keys are the ones the mirror swaps
#   - right runs the mirrored example (its ping left out)
#   - left runs it as written, its ping answered
#   - left's ipsec1 received packets
#
# Topology: L 192.0.2.1 -- R 192.0.2.2 (eth0, a veth pair); the example
# puts ipsec1 (if_id 1) on eth0: 10.1.0.1 on L, 10.2.0.1 on R, each
# routing the other's /16 into it.
source "$(dirname "$0")/lib.sh"

readme=$SELFTESTS/../README.md
[ -f "$readme" ] || ksft_skip_all "README.md not found"
load_module || ksft_skip_all "ipsecif module not available"

example=$(awk '/^## Worked example/ { w = 1 } w && /^```sh/ { on = 1; next }
	on && /^```/ { exit } on { print }' "$readme")
[ -n "$example" ] || ksft_skip_all "no worked example in README.md"

KL=0x0123456789abcdef0123456789abcdef01234567
KR=0x89abcdef0123456789abcdef0123456789abcdef
mirror() {
	sed -e 's/192\.0\.2\.1/@L@/g; s/192\.0\.2\.2/192.0.2.1/g; s/@L@/192.0.2.2/g' \
	    -e 's/0x1001/@S@/g; s/0x2001/0x1001/g; s/@S@/0x2001/g' \
	    -e "s/$KL/@K@/g; s/$KR/$KL/g; s/@K@/$KR/g" \
	    -e 's/10\.1\.0\.1/10.2.0.1/g; s/10\.2\.0\.0\/16/10.1.0.0\/16/g' \
	    -e '/^ping /d'
}

mkns L R
veth "$L" eth0 192.0.2.1/24 "$R" eth0 192.0.2.2/24

check "the example's keys are the ones this test mirrors" \
	grep -q "$KL" <<<"$example"
check "right: the mirrored example runs" \
	ip netns exec "$R" bash -e -c "$(mirror <<<"$example")"
check "left: the example runs as written, its ping answered" \
	ip netns exec "$L" bash -e -c "$(sed 's/^ping /ping -c 2 -W 3 /' <<<"$example")"
check_ge "left: ipsec1 sent the pings" 2 "$(dev_stat "$L" ipsec1 tx_packets)"
check_ge "left: ipsec1 received the answers" 2 "$(dev_stat "$L" ipsec1 rx_packets)"

ksft_exit
