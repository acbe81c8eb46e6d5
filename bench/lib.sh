#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What bench.sh and forward.sh share: the SA keys, failing with the kernel
# log, one AES-GCM tunnel-mode SA (for both inner families), the packets an SA carried, one iperf3
# run tried again when iperf3 itself gives up, and medians.
# Sourced; a caller of measure sets W (its work directory) and BENCH_TAG
# (a prefix for its lines, may be empty).

# shellcheck disable=SC2034 # used by the scripts that source this file
KEY_AB=0x0123456789abcdef0123456789abcdef01234567
# shellcheck disable=SC2034
KEY_BA=0x89abcdef0123456789abcdef0123456789abcdef

fail() {
	echo "bench: FAILED: $*"
	dmesg | tail -20 | sed 's/^/bench: kernel: /'
	exit 1
}

# sa NS SRC DST SPI KEY [IF_ID]: one AES-GCM tunnel-mode SA that carries
# either inner family (af-unspec: without it the SA's selector takes the
# outer family, IPv4, and xfrm would not pick it for IPv6 inner flows)
sa() {
	local id=()
	[ -n "${6:-}" ] && id=(if_id "$6")
	ip -n "$1" xfrm state add src "$2" dst "$3" proto esp spi "$4" reqid "$4" \
		mode tunnel aead 'rfc4106(gcm(aes))' "$5" 128 "${id[@]}" flag af-unspec
}

# sa_packets NS SRC DST SPI: the packets that SA has carried
sa_packets() {
	ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" |
		sed -n '/lifetime current/{n;s/.* \([0-9]*\)(packets).*/\1/p}'
}

# measure LOAD V: the load's figure over V (LOAD is a function writing the
# iperf3 client's JSON to $W/out.json). When iperf3 itself gives up (its
# client starved under emulation: "server test duration expired"), the run
# measured nothing and is tried again, at most twice, and said so.
measure() {
	local n
	for n in 1 2 3; do
		"$1" "$2" && return 0
		echo "bench: ${BENCH_TAG:-}$1 over $2: try $n failed:" \
			"$(jq -r '.error // "no figure"' "$W/out.json" 2>/dev/null)" >&2
	done
	return 1
}

# stats FILE: "median min max" of the figures in FILE
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}
