#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads ipsecif and loads it with devices=2
# A firewall that names the interfaces, loaded in one step at "boot":
# with `modprobe ipsecif devices=2`, an nftables ruleset using iif "ipsec0"
# (which needs the device to exist) loads before any tunnel exists. Then a
# tunnel comes up: decrypted traffic from 10.2.0.0/16 arriving on ipsec0 is
# accepted by its rule; the same source address arriving in cleartext on the
# physical device is dropped; rule counters prove which rule matched. The
# same with iptables -i ipsec0. No packet marks on the firewall host.
#
# The host under test is the initial namespace (devices=N creates its
# devices there): fw0 10.0.9.1 -- 10.0.9.2 P, with 10.2.0.1 behind P.
source "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || ksft_skip_all "nft not installed"
unload_module || ksft_skip_all "ipsecif is loaded and cannot be unloaded"
RULES=$(mktemp /tmp/ipsecif-fw.XXXXXX)
fw_cleanup() {
	nft delete table inet boot 2>/dev/null
	iptables -D INPUT -i ipsec0 -s 10.2.0.0/16 -j ACCEPT 2>/dev/null
	iptables -D INPUT -s 10.2.0.0/16 -j DROP 2>/dev/null
	ip link del fw0 2>/dev/null
	cleanup
	unload_module
	rm -f "$RULES"
}
trap fw_cleanup EXIT

cat >"$RULES" <<'NFT'
table inet boot {
	chain input {
		type filter hook input priority filter; policy accept;
		iif "ipsec0" ip saddr 10.2.0.0/16 counter accept comment "tunnel"
		iifname "ipsec1" counter accept comment "second tunnel"
		ip saddr 10.2.0.0/16 counter drop comment "spoofed"
	}
}
NFT

check_fail "without the module, a ruleset naming iif ipsec0 cannot load" nft -f "$RULES"
check "modprobe ipsecif devices=2" load_module devices=2
check "ipsec0 and ipsec1 exist, down" sh -c \
	"ip -o link show ipsec0 | grep -qv ',UP' && ip -o link show ipsec1 | grep -qv ',UP'"
check "the ruleset loads in one step, before any tunnel" nft -f "$RULES"

# --- now a tunnel comes up ----------------------------------------------------
mkns P
ip link add fw0 type veth peer name veth0 netns "$P"
ip addr add 10.0.9.1/24 dev fw0
ip link set fw0 up
sysctl -qw net.ipv4.conf.fw0.rp_filter=0 net.ipv4.conf.all.rp_filter=0
ip -n "$P" addr add 10.0.9.2/24 dev veth0
ip -n "$P" link set veth0 up
ip -n "$P" link add lan0 type dummy
ip -n "$P" link set lan0 up
ip -n "$P" addr add 10.2.0.1/24 dev lan0
check "attach ipsec0 to fw0 (if_id 16384)" ip link set ipsec0 type ipsec dev fw0
ip link set ipsec0 up
ip addr add 10.1.0.1/32 dev ipsec0
ip route add 10.2.0.0/16 dev ipsec0
ip -n "$P" link add ipsec0 type ipsec dev veth0
ip -n "$P" link set ipsec0 up
ip -n "$P" route add 10.1.0.0/16 dev ipsec0
ip xfrm state flush; ip xfrm policy flush
# tunnel() works on a namespace: the initial one is reachable as PID 1's.
ip netns attach ipsecif-fwhost 1
tunnel ipsecif-fwhost 10.0.9.1 10.0.9.2 0x701 0x702 $KEY_AB $KEY_BA 16384 tunnel 10.0.0.0/8 -
tunnel "$P" 10.0.9.2 10.0.9.1 0x702 0x701 $KEY_BA $KEY_AB 16384 tunnel 10.0.0.0/8 -
ip netns del ipsecif-fwhost 2>/dev/null

# The spoofer: P sends the same inner source address in clear on the wire
# (marks are the spoofer's business; the firewall host has none).
ip -n "$P" rule add pref 50 fwmark 7 table 7
ip -n "$P" route add 10.1.0.1/32 dev veth0 table 7

counter() {	# counter COMMENT: packets matched by the nft rule
	nft -a list chain inet boot input |
		sed -n "s/.*counter packets \([0-9]*\) .*comment \"$1\".*/\1/p"
}
traffic() {	# 4 pings through the tunnel, 4 spoofed in clear
	ip netns exec "$P" ping -q -c 4 -i 0.3 -W 2 -I 10.2.0.1 10.1.0.1 >/dev/null 2>&1
	local tunnel_rc=$?
	ip netns exec "$P" ping -q -c 4 -i 0.3 -W 1 -m 7 -I 10.2.0.1 10.1.0.1 >/dev/null 2>&1
	local spoof_rc=$?
	[ $tunnel_rc = 0 ] && [ $spoof_rc != 0 ]
}
capture_start "$P" veth0
check "nft: pings through the tunnel answered, spoofed ones not" traffic
capture_stop
check_eq "nft: the tunnel rule matched the 4 decrypted pings" 4 "$(counter tunnel)"
check_eq "nft: the spoofed rule dropped the 4 cleartext ones" 4 "$(counter spoofed)"
check_ge "nft: the spoofed pings really were in clear on the wire" 4 \
	"$(capture_count "$P" veth0 'icmp and src host 10.2.0.1')"
check_eq "nft: the firewall host uses no packet marks" 0 \
	"$({ nft list ruleset; ip rule show; ip xfrm state; ip xfrm policy; } | grep -c -w mark)"
# Exact on purpose: only 10.0.0.0/8 has policies, so no background packet
# (P's IPv6 MLD or router solicitations have none) can reach ipsec0.
check_eq "ipsec0 counted the 4 pings it delivered" 4 "$(cat /sys/class/net/ipsec0/statistics/rx_packets)"
nft delete table inet boot

# --- the same with iptables ---------------------------------------------------
if command -v iptables >/dev/null && iptables -L INPUT >/dev/null 2>&1; then
	check "iptables: -i ipsec0 accept, then drop the source elsewhere" sh -c \
		"iptables -A INPUT -i ipsec0 -s 10.2.0.0/16 -j ACCEPT && iptables -A INPUT -s 10.2.0.0/16 -j DROP"
	check "iptables: pings through the tunnel answered, spoofed ones not" traffic
	ipt() {	# ipt RULE-PREFIX: packets counted by the rule (iptables -S -v)
		iptables -S INPUT -v | grep -- "$1" | sed -n 's/.* -c \([0-9]*\) .*/\1/p'
	}
	check_eq "iptables: the -i ipsec0 rule matched the 4 decrypted pings" 4 \
		"$(ipt '-A INPUT -s 10.2.0.0/16 -i ipsec0')"
	check_eq "iptables: the drop rule matched the 4 cleartext ones" 4 \
		"$(ipt '-A INPUT -s 10.2.0.0/16 -c [0-9]* [0-9]* -j DROP')"
else
	skip "iptables" "iptables not usable here"
fi
ksft_exit
