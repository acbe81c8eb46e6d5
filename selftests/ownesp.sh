#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "Our own ESP": in tunnel mode with the peer routed into an attached
# device, xfrm sends the encrypted packet back into the device, which
# passes it on through the physical device. Only packets xfrm made, with a
# tunnel-mode SA of the device's if_id, may take that shortcut:
#   - NAT-T (ESP in UDP 4500) host-to-host in tunnel mode works (no loop);
#   - outer IPv4 fragments of our ESP leave as they are (not re-encrypted);
#   - ESP of the device's SA that tc redirects into it from another device
#     is not passed on as its own (xfrm did not route it there), with an
#     IPv4 and with an IPv6 outer header;
#   - crafted ESP with an SA's addresses and SPI, sent into a device that
#     was moved to another namespace or forwarded in from a LAN host, is
#     encrypted like any packet: never sent on as crafted.
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0); ipsec1 (if_id 1) on
# each end attached to veth0, the peer's address routed into it (h2h);
# L 10.8.0.2 -- A 10.8.0.1 (veth8), A forwards; C: a namespace ipsec1 of A
# is moved into.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
ENCAP_PIDS=()
cleanup_encap() { kill "${ENCAP_PIDS[@]}" 2>/dev/null; wait 2>/dev/null; }
trap 'cleanup_encap; cleanup' EXIT

# A UDP socket on 4500 with ESP-in-UDP decapsulation, as an IKE daemon keeps.
encap_socket() {	# encap_socket NS
	timeout "$LIFE" ip netns exec "$1" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 100, 2)	# UDP_ENCAP, UDP_ENCAP_ESPINUDP
s.bind(("0.0.0.0", 4500))
time.sleep(1e6)' >/dev/null 2>&1 &
	ENCAP_PIDS+=($!)
	wait_for 50 listens "$1" udp 4500
}

# nat_end NS LOCAL REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN: tunnel-mode SAs in
# UDP 4500, the peer's address routed into ipsec1 (attached to veth0).
nat_end() {
	local ns=$1 l=$2 r=$3 so=$4 si=$5 ko=$6 ki=$7 s d spi key
	ip -n "$ns" link add ipsec1 link veth0 type ipsec &&
	ip -n "$ns" link set ipsec1 up || return 1
	for dir in out in; do
		case $dir in
		out) s=$l d=$r spi=$so key=$ko ;;
		in) s=$r d=$l spi=$si key=$ki ;;
		esac
		ip -n "$ns" xfrm state add src "$s" dst "$d" proto esp spi "$spi" reqid "$spi" \
			mode tunnel aead 'rfc4106(gcm(aes))' "$key" 128 if_id 1 \
			encap espinudp 4500 4500 0.0.0.0 &&
		ip -n "$ns" xfrm policy add dir "$dir" src "$s/32" dst "$d/32" if_id 1 \
			tmpl src "$s" dst "$d" proto esp reqid "$spi" mode tunnel || return 1
	done
	ip -n "$ns" route replace "$r/32" dev ipsec1 src "$l"
}

# --- NAT-T host-to-host in tunnel mode --------------------------------------
check "NAT-T: A's end" nat_end "$A" $UNDER4_A $UNDER4_B 0x700 0x701 $KEY_AB $KEY_BA
check "NAT-T: B's end" nat_end "$B" $UNDER4_B $UNDER4_A 0x701 0x700 $KEY_BA $KEY_AB
encap_socket "$A"; ra=$?
encap_socket "$B"; rb=$?
check_eq "NAT-T: decapsulating sockets on 4500" "0 0" "$ra $rb"
capture_start "$B" veth0
check "NAT-T: ping to the peer through ipsec1, tunnel mode" ping_ok "$A" $UNDER4_B
capture_stop
check_ge "NAT-T: ESP in UDP 4500 on the wire" 4 "$(capture_count "$B" veth0 'udp port 4500')"
check_eq "NAT-T: no echo in clear" 0 "$(capture_count "$B" veth0 'icmp')"
check_eq "NAT-T: no ESP in ESP (one encapsulation only)" 0 \
	"$(capture_count "$B" veth0 'ip proto 50')"
check_eq "NAT-T: no routing loop counted" 0 "$(counter "$A" ipsec1 tx_looped_route)"
check "NAT-T: no dead loop reported" log_lacks 'Dead loop on virtual device ipsec1'
cleanup_encap
for ns in "$A" "$B"; do
	ip -n "$ns" link del ipsec1
	ip -n "$ns" xfrm state flush
	ip -n "$ns" xfrm policy flush
done

# --- outer IPv4 fragments of our own ESP ---------------------------------------
check "fragments: host-to-host tunnel mode on both ends" both_ends tunnel
# Pinned at 1500: with the automatic MTU the inner packet would be split
# small enough for its ESP to fit, and no outer fragment would exist.
ip -n "$A" link set ipsec1 mtu 1500
ip -n "$B" link set ipsec1 mtu 1500
pk0=$(sa_pk "$A" $UNDER4_A $UNDER4_B 0x500)
capture_start "$B" veth0
check "fragments: 1600-byte ping without DF through ipsec1" \
	ip netns exec "$A" ping -q -c 2 -i 0.3 -W 2 -M dont -s 1600 $UNDER4_B
capture_stop
# Each echo request is two inner fragments (route MTU 1500), each
# encrypted once; re-encrypting an outer fragment would count more.
check_eq "fragments: each inner packet encrypted once (SA 0x500: 2 x 2)" 4 \
	"$(( $(sa_pk "$A" $UNDER4_A $UNDER4_B 0x500) - pk0 ))"
check_ge "fragments: ESP leaves in outer IPv4 fragments" 2 \
	"$(capture_count "$B" veth0 'ip proto 50 and (ip[6:2] & 0x3fff != 0)')"
check_eq "fragments: no echo in clear" 0 "$(capture_count "$B" veth0 'icmp')"
check_eq "fragments: no routing loop counted" 0 "$(counter "$A" ipsec1 tx_looped_route)"

# --- ESP of ours that xfrm did not route into the device -------------------
# A tunnel-mode SA of if_id 1 towards 10.77.0.2 (fd77::2 for IPv6),
# reached through dm0 (a dummy device): its ESP leaves through dm0, where
# tc redirects it into ipsec1 with the control block xfrm left. It was not
# routed into ipsec1 by xfrm (its route is dm0's): no shortcut, it is
# treated as any packet (no policy of if_id 1 takes 10.77.0.2 or fd77::2:
# dropped as "no SA").
# mirred_setup IPV LOCAL PEER SPI INNER: dm0 with PEER's /24 or /64, the SA
# and its policy for INNER, routed into ipsec1, dm0's egress redirected
mirred_setup() {
	local ipv=$1 l=$2 peer=$3 spi=$4 inner=$5 any=0.0.0.0/0 proto=ip addr
	addr=("${peer%2}1/24")
	[ "$ipv" = 6 ] && any=::/0 proto=ipv6 addr=("${peer%2}1/64" nodad)
	ip -n "$A" link add dm0 type dummy &&
	ip -n "$A" link set dm0 up &&
	ip -n "$A" addr add "${addr[@]}" dev dm0 &&
	sa "$A" "$l" "$peer" "$spi" $KEY_AB 1 &&
	pol "$A" out "$any" "$inner" "$l" "$peer" "$spi" 1 &&
	ip -n "$A" -"$ipv" route add "$inner" dev ipsec1 &&
	tc -n "$A" qdisc add dev dm0 clsact &&
	tc -n "$A" filter add dev dm0 egress protocol "$proto" matchall \
		action mirred egress redirect dev ipsec1
}
# mirred IPV LOCAL PEER SPI INNER PING_ADDR
mirred() {
	local ipv=$1 l=$2 peer=$3 spi=$4 own0 pk0
	if ! check "redirected IPv$ipv: SA $spi (if_id 1) to $peer via dm0, whose egress tc redirects into ipsec1" \
		mirred_setup "$@"; then
		ip -n "$A" link del dm0 2>/dev/null
		return
	fi
	own0=$(counter "$A" ipsec1 tx_own_esp)
	pk0=$(sa_pk "$A" "$l" "$peer" "$spi")
	capture_start "$B" veth0
	ip netns exec "$A" ping -"$ipv" -q -c 3 -i 0.3 -W 1 "$6" >/dev/null 2>&1
	capture_stop
	check_ge "redirected IPv$ipv: SA $spi encrypted the 3 pings" $((pk0 + 3)) \
		"$(sa_pk "$A" "$l" "$peer" "$spi")"
	check_eq "redirected IPv$ipv: not passed on as the device's own ESP" "$own0" \
		"$(counter "$A" ipsec1 tx_own_esp)"
	check_eq "redirected IPv$ipv: none of it on the wire to B" 0 \
		"$(capture_count "$B" veth0 "dst host $peer")"
	tc -n "$A" qdisc del dev dm0 clsact
	ip -n "$A" link del dm0
}
if ! command -v tc >/dev/null; then
	skip "redirected: ESP redirected into ipsec1 by tc" "tc is not installed"
else
	mirred 4 $UNDER4_A 10.77.0.2 0x800 172.30.0.0/24 172.30.0.5
	mirred 6 $UNDER6_A fd77::2 0x801 fd30::/64 fd30::5
fi

# --- crafted ESP forwarded in from a LAN host -------------------------------
# L sends ESP it made up, with A's and B's addresses and A's outbound SPI;
# A forwards it towards B, whose address is routed into ipsec1.
mkns L
veth "$L" veth8 10.8.0.2/24 "$A" veth8 10.8.0.1/24
ip -n "$L" route add $UNDER4_B/32 via 10.8.0.1
ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.veth8.accept_local=1
esp_before=$(dev_stat "$A" ipsec1 tx_packets)
capture_start "$B" veth0
check "forwarded: L sends crafted ESP (A > B, SPI 0x500) through A" \
	ip netns exec "$L" python3 "$SELFTESTS/inject.py" - esp $UNDER4_A $UNDER4_B 0x500
check "forwarded: ... it entered ipsec1" wait_for 25 \
	test "$(dev_stat "$A" ipsec1 tx_packets)" -gt "$esp_before"
capture_stop
check_ge "forwarded: ESP seen on the wire" 1 "$(capture_count "$B" veth0 'ip proto 50')"
check_eq "forwarded: the crafted packet never leaves as crafted" 0 \
	"$(tcpdump -A -n -r "$CAPDIR/$B-veth0.pcap" 2>/dev/null | grep -c CRAFTED-ESP)"

# --- crafted ESP into a device moved to another namespace ----------------------
mkns C
check "moved: A's ipsec1 moved into C" ip -n "$A" link set ipsec1 netns "$C"
ip -n "$C" link set ipsec1 up
tx0=$(dev_stat "$C" ipsec1 tx_packets)
capture_start "$B" veth0
check "moved: crafted ESP (A > B, SPI 0x500) sent into ipsec1 in C" \
	ip netns exec "$C" python3 "$SELFTESTS/inject.py" ipsec1 esp $UNDER4_A $UNDER4_B 0x500
capture_stop
check_ge "moved: ... encrypted like any packet (counted as sent)" $((tx0 + 1)) \
	"$(dev_stat "$C" ipsec1 tx_packets)"
check_ge "moved: ESP seen on A's wire" 1 "$(capture_count "$B" veth0 'ip proto 50')"
check_eq "moved: the crafted packet never leaves as crafted" 0 \
	"$(tcpdump -A -n -r "$CAPDIR/$B-veth0.pcap" 2>/dev/null | grep -c CRAFTED-ESP)"

ksft_exit
