#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Path MTU: a router forwarding into an ipsec device answers packets that
# would not fit once encrypted, like any router: ICMP fragmentation needed
# (IPv4, DF set) and packet too big (IPv6), with the usable MTU.
#   - small IPv4 and IPv6 pings from H cross the tunnel
#   - IPv4 ping -s 1372 with DF: H gets fragmentation needed, an MTU
#     between 1300 and 1400
#   - the same without DF: fragmented, it crosses
#   - IPv6 ping -s 1372: H learns a path MTU of 1280..1399 from packet
#     too big, then fragments and crosses
#
# Topology: H 10.8.0.2 fd08::2 -- A 10.8.0.1 fd08::1 (veth1 on A, which
# forwards); wire() A -- B, veth0 at MTU 1400; ipsec1 (if_id 1, MTU pinned
# at 1500) on each end attached to veth0, 172.16.1.1 / 172.16.1.2,
# fd01::1 / fd01::2; B routes H's subnets into ipsec1.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
mkns H

# H (10.8.0.2, fd08::2) sits behind router A; B is the far end.
veth "$A" veth1 10.8.0.1/24 "$H" veth0 10.8.0.2/24
ip -n "$A" addr add fd08::1/64 dev veth1 nodad
ip -n "$H" addr add fd08::2/64 dev veth0 nodad
ip -n "$H" route add default via 10.8.0.1
ip -n "$H" -6 route add default via fd08::1
ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# The device's MTU is pinned at 1500, so that packets that fit it but not
# the tunnel reach ipsecif, which must answer them (mtu.sh covers the
# automatic MTU, with which the IP layer answers before the device).
ip -n "$A" link set veth0 mtu 1400
ip -n "$B" link set veth0 mtu 1400
require "A's ipsec1, MTU pinned at 1500" ipsec_end "$A" 1 1 mtu 1500
require "B's ipsec1, MTU pinned at 1500" ipsec_end "$B" 1 2 mtu 1500
require "tunnel pair of if_id 1 over a 1400-byte underlay" tunnel_pair 1
ip -n "$B" route add 10.8.0.0/24 dev ipsec1
ip -n "$B" -6 route add fd08::/64 dev ipsec1

check "small packets from H cross the tunnel" ping_ok "$H" 172.16.1.2
check "small IPv6 packets from H cross the tunnel" ping_ok "$H" fd01::2
out=$(ip netns exec "$H" ping -c 2 -W 2 -M do -s 1372 172.16.1.2 2>&1)
mtu4=$(sed -n 's/.*mtu = \([0-9]*\).*/\1/p' <<<"$out" | head -1)
if [ -n "$mtu4" ] && [ "$mtu4" -lt 1400 ] && [ "$mtu4" -gt 1300 ]; then
	ok "IPv4 DF too big: H gets fragmentation needed, mtu $mtu4"
else
	nok "IPv4 DF too big: H gets fragmentation needed"
	echo "$out" | sed 's/^/#   /' | head -5
fi
check "IPv4 without DF is fragmented and crosses" \
	ip netns exec "$H" ping -q -c 2 -W 2 -M dont -s 1372 172.16.1.2
out=$(ip netns exec "$H" ping -6 -c 2 -W 2 -s 1372 fd01::2 2>&1)
ip -n "$H" -6 route get fd01::2 >/dev/null
mtu6=$(ip -n "$H" -6 route get fd01::2 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
if [ -n "$mtu6" ] && [ "$mtu6" -lt 1400 ] && [ "$mtu6" -ge 1280 ]; then
	ok "IPv6 too big: H learns mtu $mtu6 from packet too big"
else
	nok "IPv6 too big: H learns a smaller path MTU"
	echo "$out" | sed 's/^/#   /' | head -4
	ip -n "$H" -6 route get fd01::2 | sed 's/^/#   /'
fi
check "IPv6 then fits after fragmentation by H" \
	ip netns exec "$H" ping -6 -q -c 2 -W 2 -s 1372 fd01::2

ksft_exit
