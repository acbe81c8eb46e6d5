#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark's topologies, run by bench.sh inside the same VM boot.
# The gateway: a LAN host's traffic forwarded through a tunnel, as most
# ipsecN devices carry it. The endpoint (--endpoint): the same namespaces,
# the traffic sent by A itself (from its LAN addresses) to B itself.
# Idle devices (--idle): the gateway, each variant's rate with and without
# 10,000 idle devices of its kind in A's namespace (see idle_rounds).
#
#   client C --- gateway A ==tunnel over veth0== gateway B --- server S
#   10.9.1.2    10.9.1.1  10.0.0.1       10.0.0.2  10.9.2.1    10.9.2.2
#   fd00:9:1::2 fd00:9:1::1                      fd00:9:2::1 fd00:9:2::2
#
# The LANs have both families; the tunnel's underlay is IPv4 only.
# Variants, with the same AES-GCM tunnel-mode SA pair for both inner
# families:
#   policy   policy-based xfrm (subnet policies of each family, no device)
#   xfrmi    Linux's xfrm_interface on A and B, 0.0.0.0/0 and ::/0 policies
#            of its if_id
#   ipsecif  an ipsec device on A and B, the same policies
# Loads, from C to S (endpoint: A to B, no floods):
#   tcp1 tcp16   TCP with 1 and 16 flows (iperf3, Mbit/s received)
#   udp1 udp16   64-byte UDP datagrams from 1 flow and from 16 interleaved
#                flows (iperf3, datagrams/s received)
#   udp16v6      udp16 over IPv6
#   flood        a flow flood: UDP with 68 bytes of payload (pktgen's
#                pkt_size 110) whose source port cycles through 10,000
#                values (pktgen on C's link, packets/s reaching S)
#   flood6       the flood over IPv6 (the same payload: pkt_size 130)
# Rounds rotate the order of the variants; medians with min and max, and
# the ratios of ipsecif to the others per round (median, min, max).
# Every variant must show that its SA carried the packets. For ipsecif, the
# bundle lookups per packet (tx_bundle_lookups / tx_packets of A's device).
#
#   forward.sh [--endpoint | --idle] ROUNDS SECONDS [VARIANT|LOAD...]
#   (default: all of both; --idle: xfrmi and ipsecif, the flood;
#   IDLE_COUNT=N in the environment: N idle devices, not 10,000)
set -u
cd "$(dirname "$0")" || exit 1
TOPO=gateway CLIENT=c SERVER=s FROM=10.9.1.2 TO=10.9.2.2 FROM6=fd00:9:1::2 TO6=fd00:9:2::2
case ${1:-} in
--endpoint)
	TOPO=endpoint CLIENT=a SERVER=b FROM=10.9.1.1 TO=10.9.2.1 FROM6=fd00:9:1::1 TO6=fd00:9:2::1
	shift ;;
--idle) TOPO=idle; shift ;;
esac
ROUNDS=${1:-3}
SECS=${2:-5}
shift $(($# < 2 ? $# : 2))
VARIANTS='' LOADS=''
for a in "$@"; do
	case $a in
	policy | xfrmi | ipsecif) VARIANTS+=" $a" ;;
	tcp1 | tcp16 | udp1 | udp16 | udp16v6 | flood | flood6) LOADS+=" $a" ;;
	*) echo "bench: FAILED: $TOPO: no variant or load \"$a\""; exit 1 ;;
	esac
done
VARIANTS=${VARIANTS# } LOADS=${LOADS# }
if [ $TOPO = idle ]; then
	# policy-based IPsec has no device that could be idle beside it
	case " $VARIANTS " in *" policy "*)
		echo "bench: FAILED: idle: the policy variant has no devices"; exit 1 ;;
	esac
	VARIANTS=${VARIANTS:-xfrmi ipsecif}
	LOADS=${LOADS:-flood}
fi
VARIANTS=${VARIANTS:-policy xfrmi ipsecif}
if [ $TOPO = endpoint ]; then
	LOADS=${LOADS:-tcp1 tcp16 udp1 udp16 udp16v6}
	case " $LOADS " in *" flood "* | *" flood6 "*)
		echo "bench: FAILED: the floods are forwarded traffic: gateway loads"; exit 1 ;;
	esac
fi
LOADS=${LOADS:-tcp1 tcp16 udp1 udp16 udp16v6 flood flood6}
# has LOAD: whether LOAD is one of the loads asked for
has() { [[ " $LOADS " = *" $1 "* ]]; }
# IPv6 is checked end to end (and its iperf3 server runs) only when a load
# needs it.
V6=0
if has udp16v6 || has flood6; then V6=1; fi
W=$(mktemp -d /tmp/ipsecif-fwd.XXXXXX)
BENCH_TAG="$TOPO "
# shellcheck source=lib.sh source-path=SCRIPTDIR
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

# gateway VARIANT NS LOCAL REMOTE MY_LAN OTHER_LAN MY_LAN6 OTHER_LAN6 SPI_OUT SPI_IN KEY_OUT KEY_IN
# The same SA pair (over IPv4) carries both inner families; each family
# has its out, in and fwd policies with the same templates.
gateway() {
	local v=$1 ns=$2 l=$3 r=$4 ml=$5 ol=$6 ml6=$7 ol6=$8 so=$9 si=${10} ko=${11} ki=${12}
	local ifid='' sl=$ml sr=$ol sl6=$ml6 sr6=$ol6
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	case $v in
	xfrmi) ip -n "$ns" link add tun0 type xfrm dev veth0 if_id 7 ;;
	ipsecif) ip -n "$ns" link add tun0 type ipsec dev veth0 if_id 7 ;;
	esac || return 1
	if [ "$v" != policy ]; then
		ip -n "$ns" link set tun0 up
		ifid=7 sl=0.0.0.0/0 sr=0.0.0.0/0 sl6=::/0 sr6=::/0
	fi
	sa "$ns" "$l" "$r" "$so" "$ko" $ifid && sa "$ns" "$r" "$l" "$si" "$ki" $ifid &&
	pol "$ns" out "$sl" "$sr" "$l" "$r" "$so" $ifid &&
	pol "$ns" in "$sr" "$sl" "$r" "$l" "$si" $ifid &&
	pol "$ns" fwd "$sr" "$sl" "$r" "$l" "$si" $ifid &&
	pol "$ns" out "$sl6" "$sr6" "$l" "$r" "$so" $ifid &&
	pol "$ns" in "$sr6" "$sl6" "$r" "$l" "$si" $ifid &&
	pol "$ns" fwd "$sr6" "$sl6" "$r" "$l" "$si" $ifid || return 1
	if [ "$v" = policy ]; then
		# Policy-based IPsec needs a route to exist only: the out
		# policy's template replaces it with the bundle, whose own
		# route (IPv4, to REMOTE) goes over veth0. The underlay has no
		# IPv6 next hop to name, so the IPv6 route points at veth0
		# itself, which has IPv6 (its link-local address).
		ip -n "$ns" route add "$ol" via "$r" &&
		ip -n "$ns" -6 route add "$ol6" dev veth0
	else
		ip -n "$ns" route add "$ol" dev tun0 &&
		ip -n "$ns" -6 route add "$ol6" dev tun0
	fi
}

# link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2
link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

setup() {
	local v=$1 c=fwd-$1-c a=fwd-$1-a b=fwd-$1-b s=fwd-$1-s n mac
	for n in "$c" "$a" "$b" "$s"; do
		ip netns add "$n" && ip -n "$n" link set lo up || return 1
	done
	link "$c" eth0 10.9.1.2/24 "$a" lan0 10.9.1.1/24 &&
	link "$a" veth0 10.0.0.1/24 "$b" veth0 10.0.0.2/24 &&
	link "$b" lan0 10.9.2.1/24 "$s" eth0 10.9.2.2/24 || return 1
	# The LANs' IPv6 addresses, usable at once (no duplicate detection)
	ip -n "$c" addr add fd00:9:1::2/64 dev eth0 nodad &&
	ip -n "$a" addr add fd00:9:1::1/64 dev lan0 nodad &&
	ip -n "$b" addr add fd00:9:2::1/64 dev lan0 nodad &&
	ip -n "$s" addr add fd00:9:2::2/64 dev eth0 nodad || return 1
	# GRO on the underlay, as a physical NIC has it by default (veth does
	# not). xfrm hands tunnel-mode packets it decrypted to GRO unless the
	# device they arrived on has GRO off: without this, policy-based
	# IPsec's decrypted packets would skip the GRO that xfrmi's and
	# ipsecif's go through on their devices.
	ip netns exec "$a" ethtool -K veth0 gro on &&
	ip netns exec "$b" ethtool -K veth0 gro on || return 1
	ip -n "$c" route add default via 10.9.1.1
	ip -n "$s" route add default via 10.9.2.1
	ip -n "$c" -6 route add default via fd00:9:1::1
	ip -n "$s" -6 route add default via fd00:9:2::1
	gateway "$v" "$a" 10.0.0.1 10.0.0.2 10.9.1.0/24 10.9.2.0/24 fd00:9:1::/64 fd00:9:2::/64 \
		0x101 0x202 $KEY_AB $KEY_BA &&
	gateway "$v" "$b" 10.0.0.2 10.0.0.1 10.9.2.0/24 10.9.1.0/24 fd00:9:2::/64 fd00:9:1::/64 \
		0x202 0x101 $KEY_BA $KEY_AB || return 1
	# The floods go to 10.9.2.3 and fd00:9:2::3: S takes them in (static
	# neighbours on B) and drops them quietly (not its addresses; it
	# forwards neither family: both sysctls are 0 in its namespace).
	mac=$(ip -n "$s" -j link show eth0 | jq -r '.[0].address')
	ip -n "$b" neigh add 10.9.2.3 lladdr "$mac" dev lan0 &&
	ip -n "$b" -6 neigh add fd00:9:2::3 lladdr "$mac" dev lan0 || return 1
	ip netns exec "fwd-$v-$SERVER" iperf3 -s -D -B $TO --pidfile "$W/$v.pid" ||
		return 1
	if [ $V6 = 1 ]; then
		ip netns exec "fwd-$v-$SERVER" iperf3 -s -D -B $TO6 -p 5202 \
			--pidfile "$W/$v.6.pid" || return 1
	fi
	reach "$v" $FROM $TO || return 1
	[ $V6 = 0 ] || reach "$v" $FROM6 $TO6
}

# reach V FROM TO: wait (at most about 10 s) until TO answers a ping from FROM
reach() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		ip netns exec "fwd-$1-$CLIENT" ping -q -c 1 -W 1 -I "$2" "$3" \
			>/dev/null 2>&1 && return 0
	done
	echo "bench: $TOPO $1: no answer to a ping from $2 to $3" >&2
	return 1
}

# iperf V ARGS...: the iperf3 client's JSON (on C, or A for the endpoint)
iperf() {
	ip netns exec "fwd-$1-$CLIENT" iperf3 -c "$TO" -B "$FROM" -t "$SECS" -J "${@:2}" \
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
# over IPv6, to the server on port 5202
udp6() { TO=$TO6 FROM=$FROM6 udp "$1" -p 5202 "${@:2}"; }
udp16v6() { udp6 "$1" -P 16; }

rx() { ip netns exec "fwd-$1-s" cat /sys/class/net/eth0/statistics/rx_packets; }
# pktgen_set V FILE CMD: one pktgen command in C's namespace
pktgen_set() { ip netns exec "fwd-$1-c" sh -c "echo '$3' >/proc/net/pktgen/$2"; }

# flood V [6]: UDP datagrams from 10,000 source ports, over IPv4 (or IPv6);
# packets/s at S. pktgen's pkt_size is the Ethernet frame without its FCS:
# 14 + 20 (IPv4) + 8 + 68 bytes of payload, or 14 + 40 (IPv6) + 8 + 68.
# dst6 and src6 are what switch pktgen to IPv6 (it has no flag for it).
flood() {
	local v=$1 mac r0 r1 t0 t1 pid name=flood hdr=()
	hdr=("pkt_size 110" "src_min 10.9.1.2" "src_max 10.9.1.2" "dst 10.9.2.3")
	[ "${2:-}" = 6 ] && name=flood6 hdr=("pkt_size 130" "src6 fd00:9:1::2" "dst6 fd00:9:2::3")
	mac=$(ip -n "fwd-$v-a" -j link show lan0 | jq -r '.[0].address')
	pktgen_set "$v" kpktgend_0 rem_device_all
	pktgen_set "$v" kpktgend_0 "add_device eth0"
	for cmd in "count 0" "delay 0" "clone_skb 0" "${hdr[@]}" "dst_mac $mac" \
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
	echo "bench: $name over $v: pktgen sent $(ip netns exec "fwd-$v-c" \
		sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p' /proc/net/pktgen/eth0), S received $((r1 - r0))" >&2
	awk -v n=$((r1 - r0)) -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d\n", n / (t1 - t0) }'
}
flood6() { flood "$1" 6; }

# lookups V: ipsecif's bundle lookups and packets sent so far on A
lookups() {
	ip netns exec "fwd-$1-a" ethtool -S tun0 | awk '$1 == "tx_bundle_lookups:" { print $2 }'
}
txpk() { ip netns exec "fwd-$1-a" cat /sys/class/net/tun0/statistics/tx_packets; }

# sapk V: the packets A's outbound SA has carried so far
sapk() { sa_packets "fwd-$1-a" 10.0.0.1 10.0.0.2 0x101; }

# one V LOAD FILE: measure LOAD over V once, append the figure to FILE and
# ipsecif's bundle lookups per packet to FILE.lookups, count what the
# outbound SA carried during the IPv6 loads in $W/V.sa6; prints the figure
one() {
	local v=$1 t=$2 f=$3 r l0 p0 s0
	[ "$v" = ipsecif ] && l0=$(lookups "$v") p0=$(txpk "$v")
	s0=$(sapk "$v")
	r=$(measure "$t" "$v") || { cat "$W/out.json" >&2; return 1; }
	echo "$r" >>"$f"
	case $t in *v6 | flood6) echo $(($(sapk "$v") - s0)) >>"$W/$v.sa6" ;; esac
	if [ "$v" = ipsecif ]; then
		awk -v l=$(($(lookups "$v") - l0)) -v p=$(($(txpk "$v") - p0)) \
			'BEGIN { printf "%.3f\n", p ? l / p : 0 }' >>"$f.lookups"
	fi
	echo "$r"
}

# The 10,000 idle devices of --idle: IDLE_COUNT devices of the variant's
# kind in A's namespace, in group 9 (tun0 is in group 0), if_ids 1000
# and up (tun0 has 7), down, without SAs or policies; made with one
# `ip -batch`, removed with one `ip link del group 9`.
IDLE_COUNT=${IDLE_COUNT:-10000}
# idle_set V on|off: create or delete them; checks how many are there
idle_set() {
	local ns=fwd-$1-a want=0 n t0 t1
	t0=$(date +%s%N)
	if [ "$2" = on ]; then
		want=$IDLE_COUNT
		ip -n "$ns" -batch "$W/$1.batch" >/dev/null || return 1
	else
		ip -n "$ns" link del group 9 || return 1
	fi
	t1=$(date +%s%N)
	n=$(ip -n "$ns" -o link show group 9 | wc -l)
	[ "$n" = "$want" ] || { echo "bench: idle: $n idle $1 devices in A, not $want" >&2; return 1; }
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1e9 }'
}

# idle_rounds: each round measures each variant twice, back to back, with
# and without the idle devices in its A (only one variant's are there at
# any time); which half comes first alternates per round, the order of
# the variants rotates. Before each half, a discarded 2-s run of the first
# load lets what creating or deleting the devices left behind (RCU
# callbacks, deferred work) run down, and warms the path again.
idle_rounds() {
	local i j n v h halves t r s kind first
	read -r first _ <<<"$LOADS"
	for v in $VARIANTS; do
		kind=ipsec
		[ "$v" = xfrmi ] && kind=xfrm
		for ((n = 0; n < IDLE_COUNT; n++)); do
			echo "link add ${kind:0:1}$n group 9 type $kind if_id $((n + 1000))"
		done >"$W/$v.batch"
	done
	for ((i = 1; i <= ROUNDS; i++)); do
		halves="without with"
		[ $((i % 2)) = 0 ] && halves="with without"
		for ((j = 0; j < ${#vs[@]}; j++)); do
			v=${vs[(i - 1 + j) % ${#vs[@]}]}
			for h in $halves; do
				if [ "$h" = with ]; then
					s=$(idle_set "$v" on) || fail "idle: creating $IDLE_COUNT devices beside $v"
					echo "bench: idle round $i $v: $IDLE_COUNT devices created in ${s}s"
				fi
				SECS=2 $first "$v" >/dev/null 2>&1 || fail "idle: settling $v"
				for t in $LOADS; do
					r=$(one "$v" "$t" "$W/$v.$t.$h") || fail "idle $t over $v $h devices, round $i"
					echo "bench: idle round $i $v $t $h $r"
				done
				if [ "$h" = with ]; then
					s=$(idle_set "$v" off) || fail "idle: deleting the devices beside $v"
					echo "bench: idle round $i $v: $IDLE_COUNT devices deleted in ${s}s"
				fi
			done
			for t in $LOADS; do
				r=$(paste <(tail -1 "$W/$v.$t.with") <(tail -1 "$W/$v.$t.without") |
					awk '{ printf "%.4f\n", $1 / $2 }')
				echo "$r" >>"$W/$v.$t.ratio"
				echo "bench: idle round $i $v $t with/without $r"
			done
		done
	done
}

echo "bench: $TOPO: $ROUNDS rounds of ${SECS}s per load; variants $VARIANTS; loads $LOADS"
if [ $TOPO = idle ]; then
	echo "bench: idle: each variant with and without $IDLE_COUNT idle devices of its kind in A"
	[ "$ROUNDS" -ge 5 ] ||
		echo "bench: idle: only $ROUNDS rounds: too few to hold the result to 0.95 (5 or more)"
fi
for v in $VARIANTS; do
	setup "$v" || fail "setting up the $TOPO variant $v"
done
# Warm-up: the crypto and each path's caches (each family's), the results
# discarded.
for v in $VARIANTS; do
	SECS=2 udp1 "$v" >/dev/null || fail "warm-up over $v"
	if [ $V6 = 1 ]; then SECS=2 udp6 "$v" >/dev/null || fail "IPv6 warm-up over $v"; fi
	for t in flood flood6; do
		if has $t; then SECS=2 $t "$v" >/dev/null 2>&1 || fail "$t warm-up over $v"; fi
	done
done
read -ra vs <<<"$VARIANTS"
if [ $TOPO = idle ]; then
	idle_rounds
else
	for ((i = 1; i <= ROUNDS; i++)); do
		for ((j = 0; j < ${#vs[@]}; j++)); do
			v=${vs[(i - 1 + j) % ${#vs[@]}]}
			for t in $LOADS; do
				r=$(one "$v" "$t" "$W/$v.$t") || fail "$TOPO $t over $v, round $i"
				echo "bench: $TOPO round $i $v $t $r"
			done
		done
	done
fi

# The IPv6 loads can reach S only through the tunnel (at B, IPv6 in the
# clear from veth0 meets the fwd policy of policy-based IPsec; xfrmi's and
# ipsecif's routes lead only into their devices): still, the SA must have
# counted packets during them.
for v in $VARIANTS; do
	pk=$(sapk "$v")
	[ "${pk:-0}" -gt 10000 ] || fail "$TOPO $v: the outbound SA counted ${pk:-no} packets"
	if [ -f "$W/$v.sa6" ]; then
		pk6=$(awk '{ n += $1 } END { print n + 0 }' "$W/$v.sa6")
		[ "$pk6" -gt 0 ] || fail "$TOPO $v: the outbound SA counted no packets during the IPv6 loads"
		echo "bench: $TOPO $v outbound SA carried $pk packets, $pk6 of them during the IPv6 loads"
	else
		echo "bench: $TOPO $v outbound SA carried $pk packets"
	fi
done

unit() { case $1 in tcp*) echo "Mbit/s" ;; *) echo "pkt/s" ;; esac; }
show() { case $1 in tcp*) awk -v x="$2" 'BEGIN { printf "%.1f", x / 1e6 }' ;; *) echo "$2" ;; esac; }

# mmm FILE [UNIT-LOAD]: "median [min-max]" of FILE's figures
mmm() {
	local med lo hi
	read -r med lo hi < <(stats "$1")
	echo "$(show "${2:-}" "$med") [$(show "${2:-}" "$lo")-$(show "${2:-}" "$hi")]"
}

if [ $TOPO = idle ]; then
	echo
	echo "bench: idle: $IDLE_COUNT idle devices in A or none, medians of $ROUNDS rounds [min-max]"
	printf '%-7s %-7s %-8s %26s %26s %22s\n' load unit variant without with with/without
	for t in $LOADS; do
		for v in $VARIANTS; do
			printf '%-7s %-7s %-8s %26s %26s %22s\n' "$t" "$(unit "$t")" "$v" \
				"$(mmm "$W/$v.$t.without" "$t")" "$(mmm "$W/$v.$t.with" "$t")" \
				"$(mmm "$W/$v.$t.ratio")"
		done
	done
	echo
	for t in $LOADS; do
		line="bench: idle $t: with/without"
		for v in $VARIANTS; do
			line+=" $v $(mmm "$W/$v.$t.ratio"),"
		done
		line="${line%,} (the goal: ipsecif's at least 0.95)"
		[ -f "$W/ipsecif.$t.without.lookups" ] &&
			line+="; ipsecif bundle lookups per packet: without $(stats "$W/ipsecif.$t.without.lookups" |
				cut -d' ' -f1), with $(stats "$W/ipsecif.$t.with.lookups" | cut -d' ' -f1)"
		echo "$line"
	done
	exit 0
fi

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
		if [ ! -f "$W/$a.$t" ] || [ ! -f "$W/$b.$t" ]; then continue; fi
		# the ratio in each round (the two ran back to back): median [min-max]
		paste "$W/$a.$t" "$W/$b.$t" | awk '{ printf "%.4f\n", $1 / $2 }' >"$W/ratio"
		read -r med lo hi < <(stats "$W/ratio")
		line+=$(awk -v m="$med" -v l="$lo" -v h="$hi" -v n="$a/$b" \
			'BEGIN { printf " %s %.0f%% [%.0f-%.0f%%]", n, 100 * m, 100 * l, 100 * h }')
	done
	[ -f "$W/ipsecif.$t.lookups" ] &&
		line+=" (ipsecif bundle lookups per packet: $(stats "$W/ipsecif.$t.lookups" | cut -d' ' -f1))"
	echo "$line"
done
