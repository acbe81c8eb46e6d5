#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ipsecif benchmark, run inside one VM boot by `make bench`.
#
# Four ways to carry the same traffic between two namespaces over a veth,
# measured side by side, in interleaved rounds so that drift of the
# emulated machine hits every variant alike:
#   clear    plain routing, no IPsec (the ceiling)
#   policy   policy-based xfrm, no device (what Linux does without one)
#   xfrmi    Linux's xfrm_interface device, if_id bound SAs
#   ipsecif  an ipsecN device of this project, if_id bound SAs
#   unattached  the same device without a physical device (no link route)
# Every IPsec variant uses the same AES-GCM tunnel-mode SA pair.
# Measured with iperf3: TCP throughput, and UDP 64-byte datagrams per second
# received. After the runs each IPsec variant must show that its outbound
# SA carried the traffic, or the benchmark fails: a figure for traffic that
# was not encrypted would be a lie.
#
#   bench.sh [--only endpoint|gateway] [ROUNDS [SECONDS [VARIANT...]]]
#   (both topologies, 3 rounds of 5 s, all variants)
set -u
cd "$(dirname "$0")" || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ONLY=
if [ "${1:-}" = --only ]; then
	ONLY=$2
	shift 2
fi
ROUNDS=${1:-3}
SECS=${2:-5}
shift $(($# < 2 ? $# : 2))
VARIANTS=${*:-clear policy xfrmi ipsecif unattached}
W=$(mktemp -d /tmp/ipsecif-bench.XXXXXX)
BENCH_TAG=
. ./lib.sh
cleanup() {
	local v
	cat "$W"/*.pid 2>/dev/null | xargs -r kill 2>/dev/null
	for v in $VARIANTS; do
		ip netns del "bench-$v-a" 2>/dev/null
		ip netns del "bench-$v-b" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT

for tool in iperf3 jq ip; do
	command -v $tool >/dev/null || fail "$tool is not installed"
done
modprobe ipsecif || fail "cannot load ipsecif"
modprobe xfrm_interface || fail "cannot load xfrm_interface"

# pols NS LOCAL REMOTE SPI_OUT SPI_IN SEL_L SEL_R [IF_ID]
pols() {
	local ns=$1 l=$2 r=$3 so=$4 si=$5 sl=$6 sr=$7 id=()
	[ -n "${8:-}" ] && id=(if_id "$8")
	ip -n "$ns" xfrm policy add dir out src "$sl" dst "$sr" "${id[@]}" \
		tmpl src "$l" dst "$r" proto esp reqid "$so" mode tunnel &&
	ip -n "$ns" xfrm policy add dir in src "$sr" dst "$sl" "${id[@]}" \
		tmpl src "$r" dst "$l" proto esp reqid "$si" mode tunnel
}

# end VARIANT NS LOCAL REMOTE INNER_L INNER_R SPI_OUT SPI_IN KEY_OUT KEY_IN
end() {
	local v=$1 ns=$2 l=$3 r=$4 il=$5 ir=$6 so=$7 si=$8 ko=$9 ki=${10} id=7
	ip -n "$ns" addr add "$il/32" dev lo
	case $v in
	clear)
		ip -n "$ns" route add "$ir/32" via "$r" src "$il" ;;
	policy)
		sa "$ns" "$l" "$r" "$so" "$ko" && sa "$ns" "$r" "$l" "$si" "$ki" &&
		pols "$ns" "$l" "$r" "$so" "$si" "$il/32" "$ir/32" &&
		ip -n "$ns" route add "$ir/32" via "$r" src "$il" ;;
	xfrmi|ipsecif|unattached)
		case $v in
		xfrmi) ip -n "$ns" link add tun0 type xfrm dev veth0 if_id $id ;;
		ipsecif) ip -n "$ns" link add tun0 type ipsec dev veth0 if_id $id ;;
		unattached) ip -n "$ns" link add tun0 type ipsec if_id $id ;;
		esac &&
		ip -n "$ns" link set tun0 up &&
		sa "$ns" "$l" "$r" "$so" "$ko" $id && sa "$ns" "$r" "$l" "$si" "$ki" $id &&
		pols "$ns" "$l" "$r" "$so" "$si" 0.0.0.0/0 0.0.0.0/0 $id &&
		ip -n "$ns" route add "$ir/32" dev tun0 src "$il" ;;
	esac
}

# setup VARIANT: namespaces bench-V-a and bench-V-b, an iperf3 server on b
setup() {
	local v=$1 a=bench-$1-a b=bench-$1-b
	ip netns add "$a" && ip netns add "$b" || return 1
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip link add veth0 netns "$a" type veth peer name veth0 netns "$b" || return 1
	ip -n "$a" addr add 10.0.0.1/24 dev veth0
	ip -n "$b" addr add 10.0.0.2/24 dev veth0
	ip -n "$a" link set veth0 up
	ip -n "$b" link set veth0 up
	end "$v" "$a" 10.0.0.1 10.0.0.2 10.1.0.1 10.1.0.2 0x101 0x202 $KEY_AB $KEY_BA &&
	end "$v" "$b" 10.0.0.2 10.0.0.1 10.1.0.2 10.1.0.1 0x202 0x101 $KEY_BA $KEY_AB ||
		return 1
	ip netns exec "$b" iperf3 -s -D -B 10.1.0.2 --pidfile "$W/$v.pid" || return 1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		ip netns exec "$a" ping -q -c 1 -W 1 10.1.0.2 >/dev/null 2>&1 && return 0
	done
	return 1
}

# tcp V: bits/s received; udp V: 64-byte datagrams/s received
tcp() {
	ip netns exec "bench-$1-a" iperf3 -c 10.1.0.2 -B 10.1.0.1 -t "$SECS" -J \
		>"$W/out.json" 2>&1 &&
	jq -e '.end.sum_received.bits_per_second | floor' "$W/out.json"
}
udp() {
	ip netns exec "bench-$1-a" iperf3 -c 10.1.0.2 -B 10.1.0.1 -t "$SECS" -u -b 0 \
		-l 64 -J >"$W/out.json" 2>&1 &&
	jq -e '.end.sum_received | .bytes / 64 / .seconds | floor' "$W/out.json"
}


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
warm_crypto || fail "crypto warm-up"
grep -A3 'rfc4106(gcm(aes))' /proc/crypto | sed -n 's/^driver *: /bench: AES-GCM driver: /p' |
	sort -u
if [ "$ONLY" = gateway ]; then	# VARIANTS: the gateway's variants and loads
	bash ./forward.sh "$ROUNDS" "$SECS" ${*:-} || exit 1
	echo "bench: DONE"
	exit 0
fi
for v in $VARIANTS; do
	setup "$v" || fail "setting up $v"
done

# Each round starts with the next variant, so none is always first.
read -ra vs <<<"$VARIANTS"
for ((i = 1; i <= ROUNDS; i++)); do
	for ((j = 0; j < ${#vs[@]}; j++)); do
		v=${vs[(i - 1 + j) % ${#vs[@]}]}
		for t in tcp udp; do
			r=$(measure "$t" "$v") || { cat "$W/out.json"; fail "$t over $v, round $i"; }
			echo "$r" >>"$W/$v.$t"
			echo "bench: round $i $v $t $r"
		done
	done
done

# The IPsec variants must really have encrypted: the outbound SA counted it.
for v in $VARIANTS; do
	[ $v = clear ] && continue
	pk=$(sa_packets "bench-$v-a" 10.0.0.1 10.0.0.2 0x101)
	[ "${pk:-0}" -gt 1000 ] || fail "$v: the outbound SA counted ${pk:-no} packets"
	echo "bench: $v outbound SA carried $pk packets"
done

echo
printf '%-12s %14s %16s\n' variant "TCP Mbit/s" "UDP 64B pkt/s"
for v in $VARIANTS; do
	tm=$(stats "$W/$v.tcp" | cut -d' ' -f1)
	um=$(stats "$W/$v.udp" | cut -d' ' -f1)
	echo "$tm $um" >"$W/$v.med"
	printf '%-12s %14.1f %16d\n' "$v" "$(echo "$tm" | awk '{ print $1 / 1e6 }')" "$um"
done
# ratio A B: A's medians as a share of B's
ratio() {
	[ -f "$W/$1.med" ] && [ -f "$W/$2.med" ] || return 0
	awk -v a="$(cat "$W/$1.med")" -v b="$(cat "$W/$2.med")" -v n="$1/$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "bench: %s: TCP %.0f%%, UDP %.0f%%\n", n, 100 * x[1] / y[1], 100 * x[2] / y[2]
	}'
}
echo
echo "bench: medians of $ROUNDS rounds"
ratio ipsecif xfrmi
ratio unattached xfrmi
ratio ipsecif policy
echo
# The gateway: forwarded traffic, many flows, a flow flood (its own setup).
[ "$ONLY" = endpoint ] || bash ./forward.sh "$ROUNDS" "$SECS" || exit 1
echo "bench: DONE"
