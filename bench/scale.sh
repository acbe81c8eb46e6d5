#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Creating many devices: COUNT ipsec devices, and as many of Linux's xfrm
# devices, each kind with one `ip -batch` in a namespace of its own, side
# by side in rounds whose order alternates. Creation holds RTNL: a cost
# per device that grows with the devices already there makes it
# quadratic. Prints each kind's seconds (median [min-max]) and ipsec's
# time over xfrm's per round.
#
#   scale.sh [ROUNDS [COUNT]]   (3 rounds of 10,000 devices)
set -u
cd "$(dirname "$0")" || exit 1
# shellcheck source=lib.sh source-path=SCRIPTDIR
. ./lib.sh
ROUNDS=${1:-3}
COUNT=${2:-10000}
W=$(mktemp -d)
trap 'rm -rf "$W"; ip netns del bench-scale 2>/dev/null' EXIT

for kind in ipsec xfrm; do
	for ((i = 0; i < COUNT; i++)); do
		echo "link add ${kind:0:1}$i group 7 type $kind if_id $((i + 1))"
	done >"$W/$kind.batch"
done

# create KIND: seconds to create the devices (they are deleted after)
create() {
	local t0 t1 n
	ip netns add bench-scale || return 1
	t0=$(date +%s%N)
	ip -n bench-scale -batch "$W/$1.batch" >/dev/null || return 1
	t1=$(date +%s%N)
	n=$(ip -n bench-scale -o link show group 7 | wc -l)
	[ "$n" = "$COUNT" ] || { echo "bench: scale: $n $1 devices, not $COUNT" >&2; return 1; }
	# One RTNL operation for all of them, then an empty namespace.
	ip -n bench-scale link del group 7 && ip netns del bench-scale || return 1
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f\n", d / 1e9 }'
}

# A warm-up, not measured: the first devices of a boot (slab caches, the
# first namespaces) cost more whichever kind comes first.
for kind in ipsec xfrm; do
	create $kind >/dev/null || fail "scale: warming up with $kind devices"
done
echo "bench: scale: $COUNT devices created with one ip -batch, $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	order="ipsec xfrm"
	[ $((r % 2)) = 0 ] && order="xfrm ipsec"
	for kind in $order; do
		s=$(create "$kind") || fail "scale: creating $COUNT $kind devices"
		echo "$s" >>"$W/$kind.s"
		eval "t_$kind=$s"
	done
	# shellcheck disable=SC2154 # set by the eval above
	awk -v a="$t_ipsec" -v b="$t_xfrm" 'BEGIN { printf "%.3f\n", a / b }' >>"$W/ratio"
	echo "bench: scale: round $r: ipsec ${t_ipsec}s, xfrm ${t_xfrm}s"
done
read -r im imin imax < <(stats "$W/ipsec.s")
read -r xm xmin xmax < <(stats "$W/xfrm.s")
read -r rm rmin rmax < <(stats "$W/ratio")
echo "bench: scale: create $COUNT devices (s, median [min-max]): ipsec $im [$imin-$imax]," \
	"xfrm $xm [$xmin-$xmax]; ipsec/xfrm $rm [$rmin-$rmax]"
