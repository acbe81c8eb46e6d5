#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ipsecif demo, run inside a VM by `make demo`: two sites joined by
# ipsec0, the way an administrator would set them up by hand.
# (IKE with strongSwan and DHCP under a full tunnel come with issue 4.)
set -u
cd "$(dirname "$0")" || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
step() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "demo: FAILED: $*"; exit 1; }

EAST=demo-east
KEY_WE=0x0123456789abcdef0123456789abcdef01234567
KEY_EW=0x89abcdef0123456789abcdef0123456789abcdef

step "1. Devices exist from module load, before any tunnel"
run modprobe ipsecif devices=2 || fail "modprobe ipsecif"
run ip -br link show type ipsec

step "2. A firewall that names ipsec0 loads in one step"
run nft -f - <<'NFT' || fail "nft ruleset"
table inet demo {
	chain input {
		type filter hook input priority 0;
		iif "ipsec0" ip saddr 10.2.0.0/16 counter accept comment "from the tunnel"
		iifname "wan0" ip saddr 10.2.0.0/16 counter drop comment "spoofed"
	}
}
NFT

step "3. Two sites: west (this host) and east, on one wire"
ip netns add $EAST
ip link add wan0 type veth peer name wan0 netns $EAST
ip addr add 192.0.2.1/24 dev wan0 && ip link set wan0 up
ip -n $EAST addr add 192.0.2.2/24 dev wan0 && ip -n $EAST link set wan0 up
ip -n $EAST link set lo up
ip addr add 10.1.0.1/32 dev lo
ip -n $EAST addr add 10.2.0.1/32 dev lo
echo "west 192.0.2.1, LAN 10.1.0.0/16  <->  east 192.0.2.2, LAN 10.2.0.0/16"

step "4. Route the other LAN into ipsec0; SAs and policies carry its if_id"
site() {	# site LOCAL REMOTE LAN_LOCAL LAN_REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN
	ip link show ipsec0 >/dev/null 2>&1 || run ip link add ipsec0 type ipsec
	run ip link set ipsec0 up
	run ip route add "$4" dev ipsec0 src "$3"
	ip xfrm state add src "$1" dst "$2" proto esp spi "$5" reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' "$7" 128 if_id 16384 flag af-unspec &&
	ip xfrm state add src "$2" dst "$1" proto esp spi "$6" reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' "$8" 128 if_id 16384 flag af-unspec &&
	ip xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 if_id 16384 \
		tmpl src "$1" dst "$2" proto esp reqid 1 mode tunnel &&
	ip xfrm policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 if_id 16384 \
		tmpl src "$2" dst "$1" proto esp reqid 1 mode tunnel
}
site 192.0.2.1 192.0.2.2 10.1.0.1 10.2.0.0/16 0x1001 0x2001 $KEY_WE $KEY_EW ||
	fail "west's SAs and policies"
echo "(east: the same, mirrored)"
ip netns exec $EAST bash -c "$(declare -f site run)
	site 192.0.2.2 192.0.2.1 10.2.0.1 10.1.0.0/16 0x2001 0x1001 $KEY_EW $KEY_WE" \
	>/dev/null || fail "east's SAs and policies"
echo "SAs and policies bound to ipsec0's if_id (16384):"
ip xfrm state | grep -E '^src|if_id' | sed 's/^/  /'

step "5. Traffic through the tunnel, watched on the wire and on ipsec0"
tcpdump -U -n -i wan0 -w /tmp/demo-wire.pcap 2>/dev/null &
w=$!
tcpdump -U -n -i ipsec0 -w /tmp/demo-dev.pcap 2>/dev/null &
d=$!
sleep 2
run ping -c 3 -I 10.1.0.1 10.2.0.1 || fail "ping through ipsec0"
ip netns exec $EAST socat -u TCP4-LISTEN:5001,reuseaddr OPEN:/dev/null &
sleep 1
printf '$ %s\n' "head -c 5000000 /dev/zero | socat -u STDIN TCP4:10.2.0.1:5001"
start=$(date +%s.%N)
head -c 5000000 /dev/zero | socat -u STDIN TCP4:10.2.0.1:5001,bind=10.1.0.1 ||
	fail "transfer through ipsec0"
echo "5 MB in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s (under emulation)"
sleep 2
kill -INT $w $d
wait $w $d 2>/dev/null
clear_on_wire=$(tcpdump -n -r /tmp/demo-wire.pcap 'icmp or tcp' 2>/dev/null | wc -l)
esp_on_wire=$(tcpdump -n -r /tmp/demo-wire.pcap 'ip proto 50' 2>/dev/null | wc -l)
plain_on_dev=$(tcpdump -n -r /tmp/demo-dev.pcap 'icmp' 2>/dev/null | wc -l)
echo "on the wire (wan0): $esp_on_wire ESP packets, $clear_on_wire in clear"
echo "on ipsec0:          $plain_on_dev plaintext ICMP packets"
tcpdump -n -r /tmp/demo-dev.pcap icmp 2>/dev/null | head -2 | sed 's/^/  /'
[ "$clear_on_wire" = 0 ] || fail "cleartext on the wire"

step "6. Counters and the firewall"
run ip -s link show ipsec0
run nft list chain inet demo input
from_tunnel=$(nft -j list chain inet demo input | python3 -c '
import json, sys
for r in json.load(sys.stdin)["nftables"]:
    for e in r.get("rule", {}).get("expr", []):
        if "counter" in e and r["rule"].get("comment") == "from the tunnel":
            print(e["counter"]["packets"])')
[ "${from_tunnel:-0}" -gt 0 ] || fail "no packet matched iif ipsec0"

step "7. Without SAs nothing leaves: flush them and try again"
ip xfrm state flush
if ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; then
	fail "ping succeeded without SAs"
fi
echo "ping fails; ipsec0 tx_carrier_errors: $(cat /sys/class/net/ipsec0/statistics/tx_carrier_errors)"

echo
echo "demo: SUCCESS"
