#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ipsecif benchmark, run inside one VM boot by `make bench`: the
# endpoint (traffic sent and received by the tunnel's two ends) and the
# gateway (a LAN's traffic forwarded through the tunnel), IPv4 and IPv6
# inner flows over an IPv4 tunnel, both measured by forward.sh, side by
# side in rounds whose order of variants rotates:
#   policy   policy-based xfrm, no device (what Linux does without one)
#   xfrmi    Linux's xfrm_interface device, if_id bound SAs
#   ipsecif  an ipsecN device of this project, if_id bound SAs
# Every variant uses the same AES-GCM tunnel-mode SA pair and must show
# afterwards that its outbound SA carried the traffic, or the benchmark
# fails: a figure for traffic that was not encrypted would be a lie.
#
#   bench.sh [--only endpoint|gateway|scale|idle] [ROUNDS [SECONDS [VARIANT|LOAD...]]]
#   (both topologies, 3 rounds of 5 s, all variants and loads: tcp1 tcp16
#   udp1 udp16 udp16v6 flood flood6; the floods are gateway loads only.
#   Only when asked for: scale, 10,000 devices of each kind created,
#   scale.sh; idle, the gateway's rate for xfrmi and ipsecif with and
#   without 10,000 idle devices of their kind, by default the flood in 5
#   rounds, forward.sh --idle)
set -u
cd "$(dirname "$0")" || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ONLY=
if [ "${1:-}" = --only ]; then
	ONLY=$2
	shift 2
fi
ROUNDS=3
[ "$ONLY" = idle ] && ROUNDS=5
ROUNDS=${1:-$ROUNDS}
SECS=${2:-5}
shift $(($# < 2 ? $# : 2))
# shellcheck source=lib.sh source-path=SCRIPTDIR
. ./lib.sh

for tool in iperf3 jq ip ethtool; do
	command -v $tool >/dev/null || fail "$tool is not installed"
done
modprobe ipsecif || fail "cannot load ipsecif"
modprobe xfrm_interface || fail "cannot load xfrm_interface"

# The first user of an algorithm may get a slower implementation while the
# crypto API still sets up the best one: make that happen before any
# variant is set up, in a namespace of its own.
warm_crypto() {
	ip netns add bench-warm || return 1
	sa bench-warm 10.0.0.1 10.0.0.2 0x999 $KEY_AB
	ip netns del bench-warm
	sleep 2
}

echo "bench: kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds of ${SECS}s per test"
if [ "${BENCH_CLOCK:-}" = instructions ]; then
	echo "bench: clock: instructions (make bench ICOUNT=1): a second is 10^9 instructions" \
		"of the two vCPUs together; the figures compare instructions per packet, not speed"
fi
warm_crypto || fail "crypto warm-up"
grep -A3 'rfc4106(gcm(aes))' /proc/crypto | sed -n 's/^driver *: /bench: AES-GCM driver: /p' |
	sort -u
# The endpoint takes every load asked for but the floods; asked for
# floods alone, it has none (and is skipped, not run with all its loads).
args=() loads=0
for x in "$@"; do
	case $x in
	flood | flood6) ;;
	tcp* | udp*) args+=("$x") loads=$((loads + 1)) ;;
	*) args+=("$x") ;;
	esac
done
# Device creation at scale (scale.sh): asked for by name only.
if [ "$ONLY" = scale ]; then
	bash ./scale.sh "$ROUNDS" "${SCALE_COUNT:-10000}" || exit 1
	echo "bench: DONE"
	exit 0
fi
# The gateway's rate beside idle devices (forward.sh --idle): asked for by
# name only.
if [ "$ONLY" = idle ]; then
	bash ./forward.sh --idle "$ROUNDS" "$SECS" "$@" || exit 1
	echo "bench: DONE"
	exit 0
fi
if [ "$ONLY" != gateway ] && [ $loads = 0 ] && [[ " $* " = *" flood"* ]]; then
	echo "bench: endpoint: skipped, the floods are gateway loads"
elif [ "$ONLY" != gateway ]; then
	bash ./forward.sh --endpoint "$ROUNDS" "$SECS" "${args[@]}" || exit 1
	echo
fi
if [ "$ONLY" != endpoint ]; then
	bash ./forward.sh "$ROUNDS" "$SECS" "$@" || exit 1
fi
echo "bench: DONE"
