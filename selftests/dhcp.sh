#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DHCP keeps working under a full tunnel. A client gets its address on the
# physical device from dnsmasq with dhcpcd, then sends 0.0.0.0/0 through
# ipsec0 by policy routing (default route via ipsec0 in its own table; the
# DHCP server's LAN and the peer stay on the physical device). Unicast
# renewals (T1 = 8s) must keep succeeding while the tunnel carries traffic.
# Negative control: the same full tunnel as a plain 0.0.0.0/0 xfrm policy
# (no device) captures the renewals, and they fail.
#
#   C (dhcpcd) -- lan0 192.168.50.1 R (dnsmasq, router) wan0 10.0.0.1 --
#   10.0.0.2 P (IPsec peer, "internet" 10.200.0.1 behind it)
source "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || ksft_skip_all "dnsmasq not installed"
command -v dhcpcd >/dev/null || ksft_skip_all "dhcpcd not installed"
load_module || ksft_skip_all "ipsecif module not available"
WORK=$(mktemp -d /tmp/ipsecif-dhcp.XXXXXX)
PIDS=()
# Every background process is bounded by timeout (or ping -w) and listed in
# PIDS; the trap waits for those only (a bare wait would also wait for a
# capture cleanup has not stopped yet).
trap 'kill "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null; cleanup; keep_artifacts "$WORK"; rm -rf "$WORK"' EXIT

mkns C R P
# The client's side has no address yet: DHCP gives it one.
ip link add veth0 netns "$C" type veth peer name lan0 netns "$R"
ip -n "$C" link set veth0 up
ip -n "$R" addr add 192.168.50.1/24 dev lan0
ip -n "$R" link set lan0 up
veth "$R" wan0 10.0.0.1/24 "$P" veth0 10.0.0.2/24
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip -n "$P" route add 192.168.50.0/24 via 10.0.0.1
ip -n "$P" link add inet0 type dummy
ip -n "$P" link set inet0 up
ip -n "$P" addr add 10.200.0.1/32 dev inet0

timeout --foreground -k 5 900 ip netns exec "$R" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--interface=lan0 --bind-interfaces --user=root \
	--dhcp-range=192.168.50.100,192.168.50.150,2m \
	--dhcp-option=option:T1,8 --dhcp-option=option:T2,100 \
	--dhcp-leasefile="$WORK/leases" --pid-file="$WORK/dnsmasq.pid" \
	--log-dhcp --log-facility="$WORK/dnsmasq.log" >"$WORK/dnsmasq.out" 2>&1 </dev/null &
PIDS+=($!)
printf 'ipv4only\nnoarp\nnohook resolv.conf\n' >"$WORK/dhcpcd.conf"
timeout --foreground -k 5 900 ip netns exec "$C" dhcpcd -B -d -4 -f "$WORK/dhcpcd.conf" \
	-c /bin/true veth0 >"$WORK/dhcpcd.log" 2>&1 </dev/null &
PIDS+=($!)

caddr() { ip -n "$C" -4 -o addr show dev veth0 | awk '{ split($4, a, "/"); print a[1]; exit }'; }
acks() { grep -c 'DHCPACK(lan0)' "$WORK/dnsmasq.log" 2>/dev/null; }
requests() { grep -c 'sending REQUEST' "$WORK/dhcpcd.log"; }

check "dhcpcd gets a lease from dnsmasq" \
	wait_for 150 addr4_has "$C" veth0 'inet 192.168.50.'
CADDR=$(caddr)
info "client address $CADDR"

# --- the full tunnel through ipsec0 ----------------------------------------
ip -n "$C" link add ipsec0 type ipsec dev veth0		# if_id 16384
ip -n "$P" link add ipsec0 type ipsec dev veth0
ip -n "$C" link set ipsec0 up
ip -n "$P" link set ipsec0 up
require "C's end of the full tunnel" tunnel "$C" "$CADDR" 10.0.0.2 0x301 0x302 $KEY_AB $KEY_BA 16384 tunnel 0.0.0.0/0 -
require "P's end" tunnel "$P" 10.0.0.2 "$CADDR" 0x302 0x301 $KEY_BA $KEY_AB 16384 tunnel 0.0.0.0/0 -
ip -n "$C" addr add 10.99.0.2/32 dev ipsec0
ip -n "$P" route add 10.99.0.2/32 dev ipsec0
# Policy routing: everything via ipsec0 but the LAN (where the DHCP server
# is) and the peer, which stay on the physical device.
ip -n "$C" route add default dev ipsec0 src 10.99.0.2 table 100
ip -n "$C" route add 10.0.0.2/32 via 192.168.50.1 dev veth0
ip -n "$C" rule add pref 100 table main suppress_prefixlength 0
ip -n "$C" rule add pref 110 table 100

check "full tunnel: the internet is routed into ipsec0" lookup_via "$C" 10.200.0.1 ipsec0
check "full tunnel: the DHCP server stays on veth0" lookup_via "$C" 192.168.50.1 veth0
capture_start "$R" lan0
ip netns exec "$C" ping -q -i 0.5 -w 40 10.200.0.1 >"$WORK/ping.log" 2>&1 &
ping_pid=$!
PIDS+=("$ping_pid")
a0=$(acks)
check "full tunnel: two renewals succeed while traffic flows" \
	wait_for 200 lines_ge "$WORK/dnsmasq.log" 'DHCPACK(lan0)' $((a0 + 2))
wait $ping_pid
unset 'PIDS[-1]'
capture_stop
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.log")
check_ge "full tunnel: pings answered through ipsec0" 20 "${received:-0}"
check_ge "full tunnel: the renewals were unicast to the server, in clear" 2 \
	"$(capture_count "$R" lan0 "src host $CADDR and dst host 192.168.50.1 and udp dst port 67")"
check_eq "full tunnel: no ping in clear on the LAN" 0 \
	"$(capture_count "$R" lan0 'icmp and host 10.200.0.1')"
check_ge "full tunnel: ESP to the peer on the LAN" 20 \
	"$(capture_count "$R" lan0 'ip proto 50 and dst host 10.0.0.2')"
check "full tunnel: the client kept its lease" sh -c \
	"[ \"\$(ip -n $C -4 -o addr show dev veth0 | awk '{print \$4}')\" = '$CADDR/24' ]"

# --- negative control: the same full tunnel as a policy, no device ---------
ip -n "$C" rule del pref 110
ip -n "$C" rule del pref 100
ip -n "$C" link del ipsec0
ip -n "$C" xfrm state flush
ip -n "$C" xfrm policy flush
ip -n "$C" addr add 10.99.0.2/32 dev lo
# Only the outbound half: what happens to the client's own requests.
ip -n "$C" xfrm state add src "$CADDR" dst 10.0.0.2 proto esp spi 0x301 reqid 1 \
	mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128
ip -n "$C" xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 \
	tmpl src "$CADDR" dst 10.0.0.2 proto esp reqid 1 mode tunnel
check "policy-based: a 0.0.0.0/0 out policy is installed" \
	xfrm_policy_has "$C" 'src 0.0.0.0/0 dst 0.0.0.0/0' dir out
a1=$(acks) r1=$(requests)
capture_start "$R" lan0
check "policy-based: the client keeps sending renewal requests" \
	wait_for 250 lines_ge "$WORK/dhcpcd.log" 'sending REQUEST' $((r1 + 3))
capture_stop
check_eq "policy-based: no renewal reaches the server (negative control)" \
	"$a1" "$(acks)"
check_eq "policy-based: no DHCP request in clear on the LAN" 0 \
	"$(capture_count "$R" lan0 "src host $CADDR and udp dst port 67")"
check_ge "policy-based: the renewals went into the tunnel as ESP" 2 \
	"$(capture_count "$R" lan0 'ip proto 50 and dst host 10.0.0.2')"
ksft_exit
