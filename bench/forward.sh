#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark's two topologies, run by bench.sh inside the same VM boot.
# The gateway: a LAN host's traffic forwarded through a tunnel, as most
# ipsecN devices carry it. The endpoint (--endpoint): the same namespaces,
# the traffic sent by A itself (from its LAN address) to B itself.
#
#   client C --- gateway A ==tunnel over veth0== gateway B --- server S
#   10.9.1.2    10.9.1.1  10.0.0.1       10.0.0.2  10.9.2.1    10.9.2.2
#
# Variants, with the same AES-GCM tunnel-mode SA pair:
#   policy   policy-based xfrm (subnet policies, no device)
#   xfrmi    Linux's xfrm_interface on A and B, 0.0.0.0/0 policies of its if_id
#   ipsecif  an ipsec device on A and B, the same policies
# Loads, from C to S (endpoint: A to B, no flood): TCP with 1 and 16 flows
# (iperf3, Mbit/s received); 64-byte UDP datagrams from 1 flow and from 16
# interleaved flows (iperf3, datagrams/s received); a flow flood: 64-byte
# UDP whose source port cycles through 10,000 values (pktgen on C's link,
# packets/s reaching S).
# Rounds rotate the order of the variants; medians with min and max, and
# the ratios of ipsecif to the others per round (median, min, max).
# Every variant must show that its SA carried the packets. For ipsecif, the
# bundle lookups per packet (tx_bundle_lookups / tx_packets of A's device).
#
#   forward.sh [--endpoint] ROUNDS SECONDS [VARIANT|LOAD...]
#   (default: all of both)
set -u
cd "$(dirname "$0")" || exit 1
TOPO=gateway CLIENT=c SERVER=s FROM=10.9.1.2 TO=10.9.2.2
if [ "${1:-}" = --endpoint ]; then
	TOPO=endpoint CLIENT=a SERVER=b FROM=10.9.1.1 TO=10.9.2.1
	shift
fi
ROUNDS=${1:-3}
SECS=${2:-5}
shift $(($# < 2 ? $# : 2))
VARIANTS= LOADS=
for a in "$@"; do
	case $a in
	policy | xfrmi | ipsecif) VARIANTS+=" $a" ;;
	tcp1 | tcp16 | udp1 | udp16 | flood) LOADS+=" $a" ;;
	*) echo "bench: FAILED: $TOPO: no variant or load \"$a\""; exit 1 ;;
	esac
done
VARIANTS=${VARIANTS:-policy xfrmi ipsecif}
if [ $TOPO = endpoint ]; then
	LOADS=${LOADS:-tcp1 tcp16 udp1 udp16}
	case " $LOADS " in *" flood "*)
		echo "bench: FAILED: the flood is forwarded traffic: a gateway load"; exit 1 ;;
	esac
fi
LOADS=${LOADS:-tcp1 tcp16 udp1 udp16 flood}
W=$(mktemp -d /tmp/ipsecif-fwd.XXXXXX)
BENCH_TAG="$TOPO "
. ./lib.sh
cleanup() {
	local v n
	cat "$W"/*.pid 2>/dev/null | xargs -r kill 2>/dev/null
	for v in $VARIANTS; do
		for n in c a b s; do
			ip netns del "fwd-$v-$n" 2>/dev/null
		done
	done
	rm -rf "$W"
}
trap cleanup EXIT
modprobe pktgen || fail "cannot load pktgen"

# pol NS DIR SEL_SRC SEL_DST TMPL_SRC TMPL_DST REQID [IF_ID]
pol() {
	local id=()
	[ -n "${8:-}" ] && id=(if_id "$8")
	ip -n "$1" xfrm policy add dir "$2" src "$3" dst "$4" "${id[@]}" \
		tmpl src "$5" dst "$6" proto esp reqid "$7" mode tunnel
}

# gateway VARIANT NS LOCAL REMOTE MY_LAN OTHER_LAN SPI_OUT SPI_IN KEY_OUT KEY_IN
gateway() {
	local v=$1 ns=$2 l=$3 r=$4 ml=$5 ol=$6 so=$7 si=$8 ko=$9 ki=${10}
	local id= sl=$ml sr=$ol
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	case $v in
	xfrmi) ip -n "$ns" link add tun0 type xfrm dev veth0 if_id 7 ;;
	ipsecif) ip -n "$ns" link add tun0 type ipsec dev veth0 if_id 7 ;;
	esac || return 1
	if [ "$v" != policy ]; then
		ip -n "$ns" link set tun0 up
		id=7 sl=0.0.0.0/0 sr=0.0.0.0/0
	fi
	sa "$ns" "$l" "$r" "$so" "$ko" $id && sa "$ns" "$r" "$l" "$si" "$ki" $id &&
	pol "$ns" out "$sl" "$sr" "$l" "$r" "$so" $id &&
	pol "$ns" in "$sr" "$sl" "$r" "$l" "$si" $id &&
	pol "$ns" fwd "$sr" "$sl" "$r" "$l" "$si" $id || return 1
	if [ "$v" = policy ]; then
		ip -n "$ns" route add "$ol" via "$r"
	else
		ip -n "$ns" route add "$ol" dev tun0
	fi
}

# link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2
link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

setup() {
	local v=$1 c=fwd-$1-c a=fwd-$1-a b=fwd-$1-b s=fwd-$1-s n
	for n in "$c" "$a" "$b" "$s"; do
		ip netns add "$n" && ip -n "$n" link set lo up || return 1
	done
	link "$c" eth0 10.9.1.2/24 "$a" lan0 10.9.1.1/24 &&
	link "$a" veth0 10.0.0.1/24 "$b" veth0 10.0.0.2/24 &&
	link "$b" lan0 10.9.2.1/24 "$s" eth0 10.9.2.2/24 || return 1
	# GRO on the underlay, as a physical NIC has it by default (veth does
	# not). xfrm hands tunnel-mode packets it decrypted to GRO unless the
	# device they arrived on has GRO off: without this, policy-based
	# IPsec's decrypted packets would skip the GRO that xfrmi's and
	# ipsecif's go through on their devices.
	ip netns exec "$a" ethtool -K veth0 gro on &&
	ip netns exec "$b" ethtool -K veth0 gro on || return 1
	ip -n "$c" route add default via 10.9.1.1
	ip -n "$s" route add default via 10.9.2.1
	gateway "$v" "$a" 10.0.0.1 10.0.0.2 10.9.1.0/24 10.9.2.0/24 0x101 0x202 $KEY_AB $KEY_BA &&
	gateway "$v" "$b" 10.0.0.2 10.0.0.1 10.9.2.0/24 10.9.1.0/24 0x202 0x101 $KEY_BA $KEY_AB ||
		return 1
	# The flood goes to 10.9.2.3: S takes it in (a static neighbour on B)
	# and drops it quietly (not its address; it does not forward).
	ip -n "$b" neigh add 10.9.2.3 lladdr \
		"$(ip -n "$s" -j link show eth0 | jq -r '.[0].address')" dev lan0
	ip netns exec "fwd-$v-$SERVER" iperf3 -s -D -B $TO --pidfile "$W/$v.pid" ||
		return 1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		ip netns exec "fwd-$v-$CLIENT" ping -q -c 1 -W 1 -I $FROM $TO \
			>/dev/null 2>&1 && return 0
	done
	return 1
}

# iperf V ARGS...: the iperf3 client's JSON (on C, or A for the endpoint)
iperf() {
	ip netns exec "fwd-$1-$CLIENT" iperf3 -c $TO -B $FROM -t "$SECS" -J "${@:2}" \
		>"$W/out.json" 2>&1
}
tcp1() { iperf "$1" && jq -e '.end.sum_received.bits_per_second | floor' "$W/out.json"; }
tcp16() { iperf "$1" -P 16 && jq -e '.end.sum_received.bits_per_second | floor' "$W/out.json"; }
udp() {
	iperf "$1" -u -b 0 -l 64 "${@:2}" &&
	jq -e '.end.sum_received // .end.sum | .bytes / 64 / .seconds | floor' "$W/out.json"
}
udp1() { udp "$1"; }
udp16() { udp "$1" -P 16; }

rx() { ip netns exec "fwd-$1-s" cat /sys/class/net/eth0/statistics/rx_packets; }
# pktgen_set V FILE CMD: one pktgen command in C's namespace
pktgen_set() { ip netns exec "fwd-$1-c" sh -c "echo '$3' >/proc/net/pktgen/$2"; }

# flood V: 64-byte UDP datagrams from 10,000 source ports; packets/s at S
flood() {
	local v=$1 mac r0 r1 t0 t1 pid
	mac=$(ip -n "fwd-$v-a" -j link show lan0 | jq -r '.[0].address')
	pktgen_set "$v" kpktgend_0 rem_device_all
	pktgen_set "$v" kpktgend_0 "add_device eth0"
	for cmd in "count 0" "delay 0" "clone_skb 0" "pkt_size 110" \
		"dst_mac $mac" "src_min 10.9.1.2" "src_max 10.9.1.2" "dst 10.9.2.3" \
		"udp_src_min 10000" "udp_src_max 19999" "udp_dst_min 9" "udp_dst_max 9"; do
		pktgen_set "$v" eth0 "$cmd" || return 1
	done
	r0=$(rx "$v") t0=$(date +%s.%N)
	ip netns exec "fwd-$v-c" sh -c 'echo start >/proc/net/pktgen/pgctrl' &
	pid=$!
	sleep "$SECS"	# the measurement's length, not a synchronisation
	pktgen_set "$v" pgctrl stop
	wait $pid
	r1=$(rx "$v") t1=$(date +%s.%N)
	# None lost: the figure is the rate at which the chain (all on
	# pktgen's CPU) forwarded, encrypted, decrypted and forwarded again
	# what pktgen made. Lost inside the chain: it depends on where.
	echo "bench: flood over $v: pktgen sent $(ip netns exec "fwd-$v-c" \
		sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p' /proc/net/pktgen/eth0), S received $((r1 - r0))" >&2
	awk -v n=$((r1 - r0)) -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d\n", n / (t1 - t0) }'
}

# lookups V: ipsecif's bundle lookups and packets sent so far on A
lookups() {
	ip netns exec "fwd-$1-a" ethtool -S tun0 | awk '$1 == "tx_bundle_lookups:" { print $2 }'
}
txpk() { ip netns exec "fwd-$1-a" cat /sys/class/net/tun0/statistics/tx_packets; }

echo "bench: $TOPO: $ROUNDS rounds of ${SECS}s per load; variants $VARIANTS"
for v in $VARIANTS; do
	setup "$v" || fail "setting up the $TOPO variant $v"
done
# Warm-up: the crypto and each path's caches, the results discarded.
for v in $VARIANTS; do
	SECS=2 udp1 "$v" >/dev/null || fail "warm-up over $v"
	case " $LOADS " in *" flood "*)
		SECS=2 flood "$v" >/dev/null 2>&1 || fail "flood warm-up over $v" ;;
	esac
done
read -ra vs <<<"$VARIANTS"
for ((i = 1; i <= ROUNDS; i++)); do
	for ((j = 0; j < ${#vs[@]}; j++)); do
		v=${vs[(i - 1 + j) % ${#vs[@]}]}
		for t in $LOADS; do
			[ "$v" = ipsecif ] && l0=$(lookups "$v") p0=$(txpk "$v")
			r=$(measure "$t" "$v") || { cat "$W/out.json"; fail "$TOPO $t over $v, round $i"; }
			echo "$r" >>"$W/$v.$t"
			if [ "$v" = ipsecif ]; then
				awk -v l=$(($(lookups "$v") - l0)) -v p=$(($(txpk "$v") - p0)) \
					'BEGIN { printf "%.3f\n", p ? l / p : 0 }' >>"$W/lookups.$t"
			fi
			echo "bench: $TOPO round $i $v $t $r"
		done
	done
done

for v in $VARIANTS; do
	pk=$(sa_packets "fwd-$v-a" 10.0.0.1 10.0.0.2 0x101)
	[ "${pk:-0}" -gt 10000 ] || fail "$TOPO $v: the outbound SA counted ${pk:-no} packets"
	echo "bench: $TOPO $v outbound SA carried $pk packets"
done

unit() { case $1 in tcp*) echo "Mbit/s" ;; *) echo "pkt/s" ;; esac; }
show() { case $1 in tcp*) awk -v x="$2" 'BEGIN { printf "%.1f", x / 1e6 }' ;; *) echo "$2" ;; esac; }

echo
echo "bench: $TOPO, medians of $ROUNDS rounds [min-max]"
printf '%-7s %-7s' load unit
for v in $VARIANTS; do printf ' %26s' "$v"; done
echo
for t in $LOADS; do
	printf '%-7s %-7s' "$t" "$(unit "$t")"
	for v in $VARIANTS; do
		read -r med lo hi < <(stats "$W/$v.$t")
		printf ' %26s' "$(show "$t" "$med") [$(show "$t" "$lo")-$(show "$t" "$hi")]"
	done
	echo
done
echo
for t in $LOADS; do
	line="bench: $TOPO $t:"
	for pair in "ipsecif xfrmi" "ipsecif policy"; do
		read -r a b <<<"$pair"
		[ -f "$W/$a.$t" ] && [ -f "$W/$b.$t" ] || continue
		# the ratio in each round (the two ran back to back): median [min-max]
		paste "$W/$a.$t" "$W/$b.$t" | awk '{ printf "%.4f\n", $1 / $2 }' >"$W/ratio"
		read -r med lo hi < <(stats "$W/ratio")
		line+=$(awk -v m="$med" -v l="$lo" -v h="$hi" -v n="$a/$b" \
			'BEGIN { printf " %s %.0f%% [%.0f-%.0f%%]", n, 100 * m, 100 * l, 100 * h }')
	done
	[ -f "$W/lookups.$t" ] &&
		line+=" (ipsecif bundle lookups per packet: $(stats "$W/lookups.$t" | cut -d' ' -f1))"
	echo "$line"
done
