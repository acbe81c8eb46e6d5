#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads ipsecif and loads xfrm_interface under traffic
# Churn under traffic. A LAN namespace L forwards through gateway A's ipsec1
# to B; A also pings B's inner addresses itself (IPv4 and IPv6 inside, IPv4
# outside). While the pings run, repeatedly: if_id flips, detach/attach,
# SAs and policies deleted and re-added, the underlay veth deleted and
# re-created, ipsec devices created and deleted, devices moved into
# namespaces that are then deleted (both directions), xfrm_interface loaded
# and unloaded; finally rmmod ipsecif under traffic. Every port of B's veth
# is captured throughout: not one inner packet in clear, and ESP seen.
#   CHURN_ROUNDS=N rounds (default 1: every step once, within make check's time)
source "$(dirname "$0")/lib.sh"

ROUNDS=${CHURN_ROUNDS:-1}
TRAFFIC_SECS=800	# upper bound of every background process (the guest kills a test at 900 s;
			# the pingers must outlive a slow run, not time out in it)

load_module || ksft_skip_all "ipsecif module not available"
command -v tcpdump >/dev/null || ksft_skip_all "tcpdump not installed"
mkns A B L W
WORK=$(mktemp -d)
PIDS=()
declare -A HOLDER	# NS -> a process living in it, for st()
stop_bg() {
	local p
	for p in "${PIDS[@]}"; do
		kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
}
trap 'stop_bg; cleanup; rm -rf "$WORK"' EXIT
for ns in "$A" "$B"; do	# a process in each, for st()
	ip netns exec "$ns" timeout $((TRAFFIC_SECS + 60)) sleep $((TRAFFIC_SECS + 60)) &
	PIDS+=("$!")
	HOLDER[$ns]=$!
	wait_for 50 sh -c "ip netns identify $! | grep -qx $ns"
done

ipa() { ip -n "$A" "$@"; }
ipb() { ip -n "$B" "$@"; }
nla() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
ifindex() { ip -n "$1" -o link show "$2" 2>/dev/null | awk -F': ' '{print $1; exit}'; }
# st NS DEV rx_packets|tx_packets|tx_dropped, read through a process living
# in NS (/proc/PID/net/dev): cheap enough to poll under emulation.
st() {
	awk -v dev="$2:" -v f="$3" 'BEGIN { c["rx_packets"] = 3; c["tx_packets"] = 11
		c["tx_dropped"] = 13; v = -1 }
		$1 == dev { v = $(c[f]) } END { print v }' "/proc/${HOLDER[$1]}/net/dev" 2>/dev/null ||
		echo -1
}
gt() { [ "$(st "$1" "$2" "$3")" -gt "$4" ] 2>/dev/null; }
# rises NS DEV STAT: wait until the counter grows past its current value
rises() {
	local base
	base=$(st "$1" "$2" "$3")
	wait_for 75 gt "$1" "$2" "$3" "$base"
}
flows() {	# traffic gets through A's ipsec1 to B and back again
	rises "$A" ipsec1 tx_packets && rises "$B" ipsec1 rx_packets &&
		rises "$A" ipsec1 rx_packets
}

# Per-round results, reported once at the end: tally KEY CMD...
declare -A PASS FAIL
tally() {
	local key=$1
	shift
	if "$@" >/dev/null 2>&1; then
		PASS[$key]=$((${PASS[$key]:-0} + 1))
	else
		FAIL[$key]=$((${FAIL[$key]:-0} + 1))
		info "round $round: failed: $key"
	fi
}
report() {	# report KEY DESC
	check_eq "$2 (rounds passed)" "$ROUNDS/$ROUNDS" "${PASS[$1]:-0}/$ROUNDS"
}

# tx_packets of A's ipsec1 never decreases while it is the same device.
MONO_IDX= MONO_TX=0 MONO_BAD=0 MONO_N=0
sample() {
	local idx tx
	idx=$(ifindex "$A" ipsec1)
	[ -n "$idx" ] || return 0
	tx=$(st "$A" ipsec1 tx_packets)
	MONO_N=$((MONO_N + 1))
	if [ "$idx" = "$MONO_IDX" ] && [ "$tx" -lt "$MONO_TX" ]; then
		MONO_BAD=$((MONO_BAD + 1))
		info "tx_packets of ipsec1 went from $MONO_TX down to $tx"
	fi
	MONO_IDX=$idx MONO_TX=$tx
}

# --- topology: L -- A ==ipsec1== (veth0 -- bridge in W -- veth0) B ---------
ip -n "$W" link add br0 type bridge
ip -n "$W" link set br0 up
underlay_a() {	# (re)create A's veth0 into W's bridge, always the same MAC
	ip link add veth0 netns "$A" address 02:00:00:00:00:0a type veth \
		peer name wa0 netns "$W" &&
	ip -n "$W" link set dev wa0 master br0 up &&
	ipa addr add $UNDER4_A/24 dev veth0 &&
	ipa link set veth0 up
}
underlay_a || ksft_skip_all "cannot create veth"
ip link add veth0 netns "$B" type veth peer name wb0 netns "$W"
ip -n "$W" link set dev wb0 master br0 up
ipb addr add $UNDER4_B/24 dev veth0
ipb link set veth0 up
veth "$L" lan0 192.168.1.2/24 "$A" lan0 192.168.1.1/24
ip -n "$L" addr add fd10::2/64 dev lan0 nodad
ipa addr add fd10::1/64 dev lan0 nodad
ip -n "$L" route add default via 192.168.1.1
ip -n "$L" -6 route add default via fd10::1
ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ipb addr add 10.2.0.1/32 dev lo
ipb addr add fd20::1/128 dev lo
# No default route on A: with ipsec1 gone, inner traffic has nowhere to go.

a_dev() {	# A's ipsec1: if_id 1, attached to veth0, addresses and routes
	ipa link add ipsec1 link veth0 type ipsec &&
	ipa addr add 172.16.0.1/32 dev ipsec1 &&
	ipa addr add fd01::1/128 dev ipsec1 nodad &&
	ipa link set ipsec1 up &&
	ipa route replace 10.2.0.0/16 dev ipsec1 src 172.16.0.1 &&
	ipa -6 route replace fd20::/64 dev ipsec1 src fd01::1
}
b_dev() {
	ipb link add ipsec1 link veth0 type ipsec &&
	ipb link set ipsec1 up &&
	ipb route replace 172.16.0.1/32 dev ipsec1 src 10.2.0.1 &&
	ipb route replace 192.168.1.0/24 dev ipsec1 src 10.2.0.1 &&
	ipb -6 route replace fd01::1/128 dev ipsec1 src fd20::1 &&
	ipb -6 route replace fd10::/64 dev ipsec1 src fd20::1
}
SPI_AB=0x100 SPI_BA=0x200
a_sas() { tunnel "$A" $UNDER4_A $UNDER4_B $SPI_AB $SPI_BA $KEY_AB $KEY_BA 1; }
b_sas() { tunnel "$B" $UNDER4_B $UNDER4_A $SPI_BA $SPI_AB $KEY_BA $KEY_AB 1; }
a_up() { a_dev && a_sas; }
b_up() { b_dev && b_sas; }
tunnel_works() {	# tunnel_works PREFIX: both ends up, pings local and forwarded
	check "$1A: ipsec1 attached to veth0 with SAs and policies (if_id 1)" a_up
	check "$1B: the same, mirrored" b_up
	check "$1IPv4 from A through the tunnel" ping_ok "$A" 10.2.0.1
	check "$1IPv6 from A through the tunnel" ping_ok "$A" fd20::1
	check "$1IPv4 forwarded from L through A's ipsec1" ping_ok "$L" 10.2.0.1
	check "$1IPv6 forwarded from L through A's ipsec1" ping_ok "$L" fd20::1
}
tunnel_works ""

# --- background: capture on B's veth, four pingers (restarted when they fail)
ip netns exec "$B" timeout $((TRAFFIC_SECS + 30)) tcpdump --immediate-mode -U -n \
	-i veth0 -w "$WORK/b.pcap" >/dev/null 2>"$WORK/tcpdump.log" &
CAP=$!
PIDS+=("$CAP")
wait_for 50 grep -q listening "$WORK/tcpdump.log"
check "tcpdump listens on every port of B's veth0" grep -q listening "$WORK/tcpdump.log"
pinger() {	# pinger NS ADDR
	setsid timeout "$TRAFFIC_SECS" ip netns exec "$1" bash -c \
		'while :; do ping -q -c 100 -i 0.05 -W 1 "$0" >/dev/null 2>&1; done' "$2" &
	PIDS+=("$!")
}
pinger "$A" 10.2.0.1
pinger "$A" fd20::1
pinger "$L" 10.2.0.1
pinger "$L" fd20::1
PINGERS=("${PIDS[@]:3}")
check "traffic flows through the tunnel under the pingers" flows
sample

# --- the churn ---------------------------------------------------------------
has_xfrmi=0
modinfo xfrm_interface >/dev/null 2>&1 && has_xfrmi=1
start=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
	info "round $round"

	# if_id flips: to one without SAs (dropped, counted), to a taken one
	# (refused, unchanged), and back.
	ipa link add ipsec9 type ipsec
	tally refused_flip_taken sh -c "! ip netns exec $A python3 $SELFTESTS/ipsecnl.py set ipsec1 if_id 9"
	tally flip_taken_unchanged test "$(nla show ipsec1)" = "kind ipsec link $(ifindex "$A" veth0) if_id 1"
	ipa link del ipsec9
	drop=$(st "$A" ipsec1 tx_dropped)
	tally flip nla set ipsec1 if_id 2
	tally flip_drops wait_for 75 gt "$A" ipsec1 tx_dropped "$drop"
	sample
	tally flip_back nla set ipsec1 if_id 1
	tally flip_resumes flows
	sample

	# detach and attach again
	tally detach nla set ipsec1 link 0
	tally detached_flows flows
	tally attach nla set ipsec1 link "$(ifindex "$A" veth0)"
	tally attached_flows flows
	sample

	# SAs and policies gone, then back
	drop=$(st "$A" ipsec1 tx_dropped)
	ipa xfrm policy flush
	ipa xfrm state flush
	tally nosa_drops wait_for 75 gt "$A" ipsec1 tx_dropped "$drop"
	sample
	tally sa_readd a_sas
	tally sa_resumes flows
	sample

	# the underlay goes and comes back: detached, dropping, re-attached
	drop=$(st "$A" ipsec1 tx_dropped)
	ipa link del veth0
	tally underlay_detaches test "$(nla show ipsec1)" = "kind ipsec link 0 if_id 1"
	tally underlay_drops wait_for 75 gt "$A" ipsec1 tx_dropped "$drop"
	sample
	tally underlay_back underlay_a
	tally underlay_attach nla set ipsec1 link "$(ifindex "$A" veth0)"
	tally underlay_resumes flows
	sample

	# devices created and deleted around the busy one, and the busy one
	for i in 20 21 22 23 24 25; do
		ipa link add ipsec$i link veth0 type ipsec && ipa link set ipsec$i up
	done
	ipb link add ipsec20 type ipsec
	for i in 20 21 22 23 24 25; do ipa link del ipsec$i; done
	ipb link del ipsec20
	tally others_gone no_link_of_kind "$A" ipsec ipsec2
	ipa link del ipsec1
	tally busy_deleted no_link "$A" ipsec1
	tally busy_recreated a_dev
	tally busy_resumes flows
	sample

	# a device created in A, moved to X, X deleted: gone, its if_id free
	X=ipsecif-X-$RANDOM$RANDOM
	ip netns add "$X" && NSLIST+=("$X")
	ipa link add ipsec3 link veth0 type ipsec
	ipa link set ipsec3 netns "$X"
	ip -n "$X" link set ipsec3 up
	ip netns del "$X"
	tally moved_dies_with_ns wait_for 75 ipa link add ipsec3 type ipsec
	ipa link del ipsec3 2>/dev/null
	# a device created in Y, moved to A, Y deleted: gone from A
	Y=ipsecif-Y-$RANDOM$RANDOM
	ip netns add "$Y" && NSLIST+=("$Y")
	ip -n "$Y" link add ipsec4 type ipsec
	ip -n "$Y" link set ipsec4 netns "$A"
	tally moved_in ipa link show ipsec4
	ip netns del "$Y"
	tally dies_with_birth_ns wait_for 75 no_link "$A" ipsec4
	# the busy device itself moved away under traffic, its namespace deleted
	X=ipsecif-X-$RANDOM$RANDOM
	ip netns add "$X" && NSLIST+=("$X")
	ipa link set ipsec1 netns "$X"
	ip -n "$X" link set ipsec1 up
	ip netns del "$X"
	tally busy_moved_gone wait_for 75 a_dev
	tally busy_moved_resumes flows
	sample

	# xfrm_interface loaded, used and unloaded next to the busy device
	if [ $has_xfrmi = 1 ]; then
		modprobe xfrm_interface
		ipa link add xfrm5 type xfrm dev veth0 if_id 5 2>/dev/null
		ipa link set xfrm5 up 2>/dev/null
		tally xfrmi_loaded_flows flows
		ipa link del xfrm5 2>/dev/null
		tally xfrmi_rmmod rmmod xfrm_interface
		tally xfrmi_unloaded_flows flows
		sample
	fi
done
info "churn: $ROUNDS rounds in $(( $(date +%s) - start ))s"

for key in refused_flip_taken:"a flip to a taken if_id is refused" \
	flip_taken_unchanged:"... and changes nothing" \
	flip:"if_id flips to one without SAs" \
	flip_drops:"... and tx_dropped rises" \
	flip_back:"if_id flips back" flip_resumes:"... and traffic flows again" \
	detach:"detach under traffic" detached_flows:"... traffic flows detached" \
	attach:"attach again" attached_flows:"... and flows" \
	nosa_drops:"SAs and policies flushed: tx_dropped rises" \
	sa_readd:"SAs and policies re-added" sa_resumes:"... and traffic flows again" \
	underlay_detaches:"underlay veth deleted: ipsec1 detached (link 0)" \
	underlay_drops:"... and tx_dropped rises" \
	underlay_back:"underlay veth re-created" \
	underlay_attach:"... ipsec1 attached to it" \
	underlay_resumes:"... and traffic flows again" \
	others_gone:"ipsec devices created and deleted around the busy one" \
	busy_deleted:"the busy ipsec1 deleted under traffic" \
	busy_recreated:"... and re-created" busy_resumes:"... and traffic flows again" \
	moved_dies_with_ns:"device moved from A into a deleted namespace: gone, if_id free in A" \
	moved_in:"a device created in Y moved into A" \
	dies_with_birth_ns:"... goes when Y is deleted" \
	busy_moved_gone:"the busy ipsec1 moved away, its namespace deleted: re-created in A" \
	busy_moved_resumes:"... and traffic flows again"; do
	report "${key%%:*}" "${key#*:}"
done
if [ $has_xfrmi = 1 ]; then
	report xfrmi_loaded_flows "xfrm_interface loaded: traffic flows"
	report xfrmi_rmmod "rmmod xfrm_interface"
	report xfrmi_unloaded_flows "... and traffic flows after it"
else
	skip "xfrm_interface loaded and unloaded" "no xfrm_interface module"
fi
check_ge "tx_packets sampled" $((ROUNDS * 8)) "$MONO_N"
check_eq "tx_packets of ipsec1 never decreased" 0 "$MONO_BAD"

# --- rmmod under traffic, then a fresh tunnel ---------------------------------
alive=0
for p in "${PINGERS[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "the four pingers ran through the churn" 4 "$alive"
check "rmmod ipsecif under traffic" rmmod ipsecif
check_fail "... the module is gone" grep -q '^ipsecif ' /proc/modules
check_fail "... and with it A's ipsec1" ipa link show ipsec1
check_fail "... and B's" ipb link show ipsec1
check "the module loads again" load_module
ipa xfrm policy flush; ipa xfrm state flush
ipb xfrm policy flush; ipb xfrm state flush
SPI_AB=0x300 SPI_BA=0x400
tunnel_works "fresh tunnel: "
check "fresh tunnel: the background traffic flows again" flows

# --- the wire: ESP, and not one inner packet in clear ---------------------------
stop_bg
check "capture file readable" tcpdump -n -r "$WORK/b.pcap" -c 1
count() { tcpdump -n -r "$WORK/b.pcap" "$1" 2>/dev/null | wc -l; }
esp=$(count 'ip proto 50')
check_ge "ESP captured on B's veth0" 200 "$esp"
check_ge "... with the fresh SAs too" 4 "$(count 'ip proto 50 and (ip[20:4] = 0x300 or ip[20:4] = 0x400)')"
inner='net 172.16.0.0/16 or net 10.2.0.0/16 or net 192.168.1.0/24 or net fd01::/16 or net fd20::/16 or net fd10::/16'
n=$(count "$inner")
check_eq "no inner address in clear on B's veth0 ($esp ESP packets)" 0 "$n"
[ "$n" = 0 ] || tcpdump -n -r "$WORK/b.pcap" "$inner" 2>/dev/null | head -5 | sed 's/^/#   /'
# Anything else but ESP, ARP and the veths' own IPv6 link-local chatter.
other='not (ip proto 50) and not arp and not (ip6 and src net fe80::/10) and not (ip6 and src host ::)'
n=$(count "$other")
check_eq "nothing but ESP, ARP and link-local IPv6 on B's veth0" 0 "$n"
[ "$n" = 0 ] || tcpdump -n -r "$WORK/b.pcap" "$other" 2>/dev/null | head -5 | sed 's/^/#   /'
[ "$_fail" = 0 ] || keep_artifacts "$WORK"

ksft_exit
