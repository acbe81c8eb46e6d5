#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: loads xfrm_interface and ip_vti, counts with a kprobe
# Loading ipsecif changes nothing for the other IPsec drivers that share
# the xfrm receive chains: xfrm_interface's own ESP handler (priority 10,
# below ipsecif's 20; it checks the outer policy of nested ESP before
# decrypting) still receives its packets, and vti (priority 100) works.
# A kprobe on xfrmi4_rcv counts the calls of xfrm_interface's handler.
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2. A: xfrm5 (xfrm_interface,
# if_id 5, 172.16.5.1) and vti9 (key 9, 172.16.9.1); B: plain policy-based
# IPsec for 172.16.5.2 and 172.16.9.2.
source "$(dirname "$0")/lib.sh"

modinfo xfrm_interface >/dev/null 2>&1 || ksft_skip_all "no xfrm_interface module"
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T 2>/dev/null
[ -w $T/kprobe_events ] || ksft_skip_all "no kprobe events (tracefs)"
load_module || ksft_skip_all "ipsecif module not available"
modprobe xfrm_interface || ksft_skip_all "cannot load xfrm_interface"
modprobe ip_vti 2>/dev/null
wire || ksft_skip_all "cannot create namespaces and veth"

unprobe() {
	{ echo 0 >$T/events/ipsecif_hooks/enable; } 2>/dev/null
	echo '-:ipsecif_hooks/xfrmi4' >>$T/kprobe_events 2>/dev/null
}
trap 'unprobe; cleanup' EXIT

# peer NET SPI: B's side of a tunnel for 172.16.NET.0/24, policy-based.
peer() {
	local net=$1 spi=$2
	ip -n "$B" addr add 172.16.$net.2/32 dev lo
	ip -n "$B" route add 172.16.$net.1/32 dev veth0 src 172.16.$net.2
	ip -n "$B" xfrm state add src $UNDER4_B dst $UNDER4_A proto esp spi $spi \
		reqid $spi mode tunnel aead 'rfc4106(gcm(aes))' $KEY_BA 128 &&
	ip -n "$B" xfrm state add src $UNDER4_A dst $UNDER4_B proto esp \
		spi $((spi + 16)) reqid $((spi + 16)) mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128 &&
	ip -n "$B" xfrm policy add dir out src 172.16.$net.2/32 dst 172.16.$net.1/32 \
		tmpl src $UNDER4_B dst $UNDER4_A proto esp reqid $spi mode tunnel &&
	ip -n "$B" xfrm policy add dir in src 172.16.$net.1/32 dst 172.16.$net.2/32 \
		tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid $((spi + 16)) mode tunnel
}

# --- xfrm_interface --------------------------------------------------------
check "B: policy-based peer for 172.16.5.0/24" peer 5 0x905
mk_xfrm() {
	ip -n "$A" link add xfrm5 type xfrm dev veth0 if_id 5 &&
	ip -n "$A" addr add 172.16.5.1/24 dev xfrm5 && ip -n "$A" link set xfrm5 up &&
	tunnel "$A" $UNDER4_A $UNDER4_B 0x915 0x905 $KEY_AB $KEY_BA 5 tunnel 0.0.0.0/0 -
}
check "A: xfrm5 with its SAs (if_id 5)" mk_xfrm
check "A: an ipsec device exists too" ip -n "$A" link add ipsec1 link veth0 type ipsec
check "kprobe on xfrm_interface's ESP handler (xfrmi4_rcv)" sh -c \
	"echo 'p:ipsecif_hooks/xfrmi4 xfrm_interface:xfrmi4_rcv' >>$T/kprobe_events &&
	 echo 1 >$T/events/ipsecif_hooks/enable"
hits() { awk '$1 == "xfrmi4" { print $2 }' $T/kprobe_profile; }
h0=$(hits)
check "xfrm5 passes traffic with ipsecif loaded" ping_ok "$A" 172.16.5.2
check_ge "... and xfrm_interface's own handler received its ESP" $((${h0:-0} + 2)) "$(hits)"
check_ge "... counted on xfrm5" 2 "$(dev_stat "$A" xfrm5 rx_packets)"

# --- vti ------------------------------------------------------------------------
if modinfo ip_vti >/dev/null 2>&1; then
	check "B: policy-based peer for 172.16.9.0/24" peer 9 0x909
	vti() {
		ip -n "$A" link add vti9 type vti local $UNDER4_A remote $UNDER4_B key 9 &&
		ip -n "$A" addr add 172.16.9.1/24 dev vti9 && ip -n "$A" link set vti9 up &&
		ip -n "$A" xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x919 \
			reqid 0x919 mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 &&
		ip -n "$A" xfrm state add src $UNDER4_B dst $UNDER4_A proto esp spi 0x909 \
			reqid 0x909 mode tunnel aead 'rfc4106(gcm(aes))' $KEY_BA 128 &&
		ip -n "$A" xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 mark 9 \
			tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid 0x919 mode tunnel &&
		ip -n "$A" xfrm policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 mark 9 \
			tmpl src $UNDER4_B dst $UNDER4_A proto esp reqid 0x909 mode tunnel
	}
	check "A: vti9 (key 9) with its SAs" vti
	check "vti9 passes traffic with ipsecif loaded" ping_ok "$A" 172.16.9.2
	check_ge "... counted on vti9" 2 "$(dev_stat "$A" vti9 rx_packets)"
else
	skip "vti passes traffic with ipsecif loaded" "no ip_vti module"
fi

# --- nested ESP: xfrm_interface's inbound policy check ------------------------
# N1 sends ESP inside ESP to N2 (transport inside tunnel mode, no if_id).
# After N2 decrypts the outer layer, the inner ESP packet comes back to the
# ESP handlers; xfrm_interface's checks N2's inbound policy for it before
# decrypting it. A "block" policy for that ESP packet must refuse it with
# ipsecif loaded, as without it (ipsecif's handler ran first and decrypted
# everything until issue 12 part 4).
P1=198.51.100.1 P2=198.51.100.2
mkns N1 N2
nested() {
	local ns
	veth "$N1" n0 $P1/24 "$N2" n0 $P2/24 || return 1
	for ns in "$N1" "$N2"; do
		ip -n "$ns" xfrm state add src $P1 dst $P2 proto esp spi 0x931 reqid 0x931 \
			mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 &&
		ip -n "$ns" xfrm state add src $P1 dst $P2 proto esp spi 0x932 reqid 0x932 \
			mode transport aead 'rfc4106(gcm(aes))' $KEY_BA 128 || return 1
	done
	ip -n "$N1" xfrm policy add dir out src $P1/32 dst $P2/32 proto icmp \
		tmpl proto esp reqid 0x932 mode transport \
		tmpl src $P1 dst $P2 proto esp reqid 0x931 mode tunnel &&
	ip -n "$N2" xfrm policy add dir in src $P1/32 dst $P2/32 proto icmp \
		tmpl proto esp reqid 0x932 mode transport \
		tmpl src $P1 dst $P2 proto esp reqid 0x931 mode tunnel &&
	ip -n "$N2" xfrm policy add dir in src $P1/32 dst $P2/32 proto esp \
		tmpl src $P1 dst $P2 proto esp reqid 0x931 mode tunnel
}
# polblock NS: inbound packets a "block" policy of NS refused
polblock() {
	ip netns exec "$1" awk '$1 == "XfrmInPolBlock" { print $2 }' /proc/net/xfrm_stat
}
nested_ping() { ip netns exec "$N1" ping -c 1 -W 2 $P2 >/dev/null 2>&1; }
nested_blocked() {	# nested_blocked: one echo request is refused by N2's policy
	local b0
	b0=$(polblock "$N2")
	! nested_ping || return 1
	[ "$(polblock "$N2")" -gt "$b0" ]
}
check "N1 -> N2: ESP in ESP (transport inside tunnel), inner layer allowed" nested
check "... ping N1 -> N2 passes both layers" wait_for 5 nested_ping
check_ge "... N2 decrypted both layers" 1 "$(sa_pk "$N2" $P1 $P2 0x932)"
check "N2: the inner ESP packet's inbound policy becomes \"block\"" \
	ip -n "$N2" xfrm policy update dir in src $P1/32 dst $P2/32 proto esp action block
check "with ipsecif loaded, xfrm_interface still refuses the nested ESP (XfrmInPolBlock)" \
	nested_blocked

# ipsecif registers an xfrm key manager (to follow SAs for the automatic
# MTU): IKE daemons still get their acquires, and sockets their policies.
mkns K
ip -n "$K" link add d0 type dummy
ip -n "$K" addr add 192.0.2.1/24 dev d0
ip -n "$K" link set d0 up
ip -n "$K" xfrm policy add dir out src 192.0.2.1/32 dst 192.0.2.2/32 \
	tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel
MON=$(mktemp)
timeout "$LIFE" ip -n "$K" xfrm monitor >"$MON" 2>&1 &
BG_PIDS+=($!)
# ip xfrm monitor listens once it reports an SA added after it started.
for ((i = 1; i < 50; i++)); do
	ip -n "$K" xfrm state add src 192.0.2.9 dst 192.0.2.8 proto esp spi $i \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128 2>/dev/null
	wait_for 5 grep -q "spi 0x0*$(printf %x $i) " "$MON" && break
done
ip netns exec "$K" ping -c 1 -W 1 192.0.2.2 >/dev/null 2>&1
check "plain policy-based IPsec: the kernel still sends acquires to IKE daemons" \
	wait_for 50 grep -q '^acquire proto esp' "$MON"
check "... and a socket still gets its per-socket policy (IKE bypass)" \
	ip netns exec "$K" python3 "$SELFTESTS/ikesock.py" 192.0.2.2 500 1 bypass
rm -f "$MON"

ip -n "$A" link del xfrm5
ip -n "$A" link del ipsec1
unprobe
rmmod xfrm_interface 2>/dev/null
# The control: the refusal above is xfrm_interface's check, which plain
# xfrm does not make; without that module the same packet passes.
if grep -q '^xfrm_interface ' /proc/modules; then
	skip "without xfrm_interface the nested ESP passes (control)" "xfrm_interface stays loaded"
else
	check "without xfrm_interface the nested ESP passes the block (control)" wait_for 5 nested_ping
fi
ksft_exit
