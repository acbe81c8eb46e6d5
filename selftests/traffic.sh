#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Traffic through ipsec devices: IPv4/IPv6 inner x IPv4/IPv6 outer with
# AES-GCM SAs from ip xfrm, counters, no plaintext on the wire, drops
# without SAs, spoofed cleartext never seen as tunnel traffic.
#   - IPv4 and IPv6 pings through ipsec1 (IPv4 outer) and ipsec2 (IPv6
#     outer); 1 MB of TCP through ipsec1
#   - the devices' packet and byte counters
#   - drops: no policy for the if_id (ipsec3: tx_no_sa, tx_dropped,
#     nothing sent), a policy without SA (ipsec4), SAs flushed while up
#   - on the wire no echo or TCP in clear, ESP over IPv4 and IPv6, the
#     1 MB included; on ipsec1 (tcpdump -i) the plaintext echoes
#   - cleartext from S with B's inner address 172.16.1.2 is neither
#     counted nor seen on A's ipsec1
#
# Topology: wire() A 10.0.0.1 fd00::1 -- B 10.0.0.2 fd00::2 (veth0);
# ipsecN (if_id N) attached to veth0, 172.16.N.1 / fd0N::1 on A and
# 172.16.N.2 / fd0N::2 on B: ipsec1 and ipsec2 on both ends, ipsec3 and
# ipsec4 on A only. S 10.9.0.2 -- A 10.9.0.1 (veth1).
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

# ipsec1 rides IPv4 outer addresses, ipsec2 IPv6; both carry both families.
# ends NS ME U4_LOCAL U4_REMOTE U6_LOCAL U6_REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN
# (ipsec2's SPIs are ipsec1's + 16)
ends() {
	local ns=$1 me=$2
	ipsec_end "$ns" 1 "$me" && ipsec_end "$ns" 2 "$me" &&
	tunnel "$ns" "$3" "$4" "$7" "$8" "$9" "${10}" 1 &&
	tunnel "$ns" "$5" "$6" "$(($7 + 16))" "$(($8 + 16))" "$9" "${10}" 2
}
require "end A: devices, addresses, SAs and policies" \
	ends "$A" 1 $UNDER4_A $UNDER4_B $UNDER6_A $UNDER6_B 0x100 0x200 $KEY_AB $KEY_BA
require "end B: devices, addresses, SAs and policies" \
	ends "$B" 2 $UNDER4_B $UNDER4_A $UNDER6_B $UNDER6_A 0x200 0x100 $KEY_BA $KEY_AB

capture_start "$B" veth0
capture_start_dev() { CAP_PID_WIRE=$CAP_PID; capture_start "$A" ipsec1; CAP_PID_DEV=$CAP_PID; }
capture_start_dev

check "IPv4 in IPv4: ping through ipsec1" ping_ok "$A" 172.16.1.2
check "IPv6 in IPv4: ping through ipsec1" ping_ok "$A" fd01::2
check "IPv4 in IPv6: ping through ipsec2" ping_ok "$A" 172.16.2.2
check "IPv6 in IPv6: ping through ipsec2" ping_ok "$A" fd02::2
# The listener runs under check's $(...): its output goes to a file (not
# check's pipe, which $(...) would wait on), timeout bounds it should its
# client never come, and the client starts once it listens (ss), not after
# a sleep. Both ends must succeed: the listener exits 0 once it got it all.
tcp_1mb() {
	local lpid log=$CAPDIR/socat-listen.log
	timeout "$LIFE" ip netns exec "$B" socat -u TCP4-LISTEN:5001,reuseaddr OPEN:/dev/null \
		>"$log" 2>&1 </dev/null &
	lpid=$!
	if ! wait_for 150 sh -c "ip netns exec $B ss -Hltn 'sport = :5001' | grep -q ."; then
		kill "$lpid"; wait "$lpid"
		echo "no listener on :5001"; cat "$log"
		return 1
	fi
	if ! head -c 1000000 /dev/zero |
	     timeout "$LIFE" ip netns exec "$A" socat -u STDIN TCP4:172.16.1.2:5001; then
		kill "$lpid"; wait "$lpid"
		return 1
	fi
	wait "$lpid" || { echo "listener: exit $?"; cat "$log"; return 1; }
}
check "TCP through the tunnel (1 MB)" tcp_1mb

# --- counters ---------------------------------------------------------------
check_ge "A ipsec1 counts transmitted packets" 4 "$(dev_stat "$A" ipsec1 tx_packets)"
check_ge "A ipsec1 counts received packets" 4 "$(dev_stat "$A" ipsec1 rx_packets)"
check_ge "A ipsec2 counts transmitted packets" 4 "$(dev_stat "$A" ipsec2 tx_packets)"
check_ge "B ipsec2 counts received packets" 4 "$(dev_stat "$B" ipsec2 rx_packets)"
check_ge "A ipsec1 counts transmitted bytes" 1000000 "$(dev_stat "$A" ipsec1 tx_bytes)"

# --- drops without SAs --------------------------------------------------------
ipsec_end "$A" 3 1
check_fail "no policy for the if_id: ping fails" ping_ok "$A" 172.16.3.2
check_ge "... counted as tx_no_sa" 2 "$(counter "$A" ipsec3 tx_no_sa)"
check_ge "... and tx_dropped" 2 "$(dev_stat "$A" ipsec3 tx_dropped)"
# Exact, and no background packet can disturb it: without a policy for
# its if_id nothing ipsec3 is given (its own MLD included) can be sent.
check_eq "... nothing counted as sent" 0 "$(dev_stat "$A" ipsec3 tx_packets)"
ipsec_end "$A" 4 1
pol "$A" out 0.0.0.0/0 0.0.0.0/0 $UNDER4_A $UNDER4_B 0x400 4
check_fail "policy without SA: ping fails" ping_ok "$A" 172.16.4.2
check_ge "... counted as tx_no_sa" 2 "$(counter "$A" ipsec4 tx_no_sa)"
ip -n "$A" xfrm state flush
check_fail "SAs flushed while up: ping fails" ping_ok "$A" 172.16.1.2

# --- the wire and the device ----------------------------------------------------
capture_stop
CAP_PID=$CAP_PID_WIRE capture_stop
echo_filter='(icmp and (icmp[0]==8 or icmp[0]==0)) or (icmp6 and (ip6[40]==128 or ip6[40]==129))'
check_eq "underlay: no echo request/reply in clear" 0 \
	"$(capture_count "$B" veth0 "$echo_filter")"
check_eq "underlay: no TCP in clear" 0 "$(capture_count "$B" veth0 'tcp or (ip6 and tcp)')"
check_ge "underlay: ESP over IPv4 seen" 8 "$(capture_count "$B" veth0 'ip proto 50')"
# ... and the 1 MB went as ESP: its 1000000 bytes from A need more than 666
# packets of at most 1500 bytes (so the check above cannot pass on nothing).
check_ge "underlay: the TCP transfer seen as ESP over IPv4" 667 \
	"$(capture_count "$B" veth0 "ip proto 50 and src host $UNDER4_A")"
check_ge "underlay: ESP over IPv6 seen" 8 "$(capture_count "$B" veth0 'ip6 proto 50')"
check_ge "tcpdump -i ipsec1: plaintext echo requests out" 4 \
	"$(capture_count "$A" ipsec1 'icmp[0]==8 or (icmp6 and ip6[40]==128)')"
check_ge "tcpdump -i ipsec1: plaintext echo replies in" 4 \
	"$(capture_count "$A" ipsec1 'icmp[0]==0 or (icmp6 and ip6[40]==129)')"

# --- spoofed cleartext with a tunnel source address -----------------------
# A third host S sends cleartext to A from B's inner address.
mkns S
veth "$A" veth1 10.9.0.1/24 "$S" veth0 10.9.0.2/24
ip -n "$S" addr add 172.16.1.2/32 dev lo
ip -n "$S" route add 172.16.1.0/24 via 10.9.0.1 src 172.16.1.2
rx0=$(dev_stat "$A" ipsec1 rx_packets)
capture_start "$A" ipsec1
ip netns exec "$S" ping -q -c 3 -i 0.3 -s 333 -W 1 172.16.1.1 >/dev/null 2>&1
capture_stop
# B's ipsec1 may send an MLD report or router solicitation through the
# tunnel meanwhile, so allow fewer than the 3 spoofed pings.
check "spoofed cleartext is not counted on ipsec1" \
	test "$(dev_stat "$A" ipsec1 rx_packets)" -lt $((rx0 + 3))
check_eq "spoofed cleartext is not seen on ipsec1" 0 \
	"$(capture_count "$A" ipsec1 'icmp[0]==8 and ip[2:2]==361')"

ksft_exit
