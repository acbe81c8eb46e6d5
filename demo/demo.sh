#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ipsecif demo, run inside a VM by `make demo`.
#
# A branch office ("west", this host) gets its WAN address by DHCP from its
# ISP and sends everything through ipsec0 to the head office ("east"),
# with strongSwan on both ends. The firewall names ipsec0 and loads before
# any tunnel exists; DHCP renewals keep working under the full tunnel.
#
#   west wan0 (DHCP) -- 192.168.1.1 isp 203.0.113.1 -- 203.0.113.2 east
#   west LAN 10.1.0.0/24             east LAN 10.2.0.0/16, "internet" 198.18.0.1
set -u
cd "$(dirname "$0")" || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
step() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "demo: FAILED: $*"; exit 1; }

ISP=demo-isp EAST=demo-east
W=$(mktemp -d /tmp/ipsecif-demo.XXXXXX)
PIDS=()
trap 'ike_stop; kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null' EXIT

# strongSwan helpers: ike_start, swan DIR COMMAND, ike_stop
source ../selftests/strongswan.sh
# charon NS|- NAME: a charon of its own (config, vici socket, log in $W/NAME)
charon() {
	IKE_LOG_LEVEL=1 ike_start "$1" "$W/$2" || fail "charon $2 did not start"
}
# swanctl.conf: conf LOCAL REMOTE LOCAL_TS REMOTE_TS UPDOWN_ARGS
conf() {
	cat <<CONF
connections {
	office {
		local_addrs = $1
		remote_addrs = $2
		proposals = aes128gcm16-prfsha256-ecp256
		local {
			auth = psk
		}
		remote {
			auth = psk
		}
		children {
			net {
				local_ts = $3
				remote_ts = $4
				esp_proposals = aes128gcm16
				if_id_in = 16384
				if_id_out = 16384
				updown = /usr/lib/ipsecif/updown $5
			}
		}
	}
}
secrets {
	ike {
		secret = "ipsecif demo"
	}
}
CONF
}

step "1. Devices exist from module load, before any tunnel"
modprobe -r ipsecif 2>/dev/null		# a fresh start, if it was loaded
run modprobe ipsecif devices=2 || fail "modprobe ipsecif"
run ip -br link show type ipsec

step "2. The firewall names ipsec0 (iif needs the device) and loads in one step"
cat >"$W/rules.nft" <<'NFT'
table inet office {
	chain input {
		type filter hook input priority filter; policy accept;
		iif "ipsec0" ip saddr 10.2.0.0/16 counter accept comment "from the tunnel"
		iifname "wan0" ip saddr 10.2.0.0/16 counter drop comment "spoofed head office"
	}
}
NFT
cat "$W/rules.nft"
run nft -f "$W/rules.nft" || fail "nft ruleset"

step "3. The networks; west's WAN address comes from the ISP's DHCP server"
ip netns add $ISP && ip netns add $EAST || fail "namespaces"
ip link add wan0 type veth peer name lan0 netns $ISP
ip link add up0 netns $ISP type veth peer name wan0 netns $EAST
ip -n $ISP addr add 192.168.1.1/24 dev lan0
ip -n $ISP addr add 203.0.113.1/24 dev up0
ip -n $EAST addr add 203.0.113.2/24 dev wan0
for l in "$ISP lo" "$ISP lan0" "$ISP up0" "$EAST lo" "$EAST wan0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip link set wan0 up
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wan0.rp_filter=0
ip netns exec $ISP sysctl -qw net.ipv4.ip_forward=1
ip -n $EAST route add default via 203.0.113.1
ip link add lan0 type dummy && ip link set lan0 up
ip addr add 10.1.0.1/24 dev lan0
ip -n $EAST link add lan0 type dummy && ip -n $EAST link set lan0 up
ip -n $EAST addr add 10.2.0.1/16 dev lan0
ip -n $EAST addr add 198.18.0.1/32 dev lan0
# Every background process is bounded by timeout, its output in a file,
# and killed on exit (PIDS); each is waited for by what it does, not a time.
timeout --foreground -k 5 900 ip netns exec $ISP dnsmasq --keep-in-foreground \
	--conf-file=/dev/null --port=0 --interface=lan0 \
	--bind-interfaces --user=root --dhcp-range=192.168.1.100,192.168.1.150,2m \
	--dhcp-option=option:T1,10 --dhcp-option=option:T2,100 \
	--dhcp-leasefile="$W/leases" --pid-file="$W/dnsmasq.pid" --log-dhcp \
	--log-facility="$W/dnsmasq.log" >"$W/dnsmasq.out" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 150); do
	[ -s "$W/dnsmasq.pid" ] || ! kill -0 "${PIDS[-1]}" 2>/dev/null && break
	sleep 0.2
done
[ -s "$W/dnsmasq.pid" ] || { cat "$W/dnsmasq.out"; fail "dnsmasq"; }
printf 'ipv4only\nnoarp\nnohook resolv.conf\n' >"$W/dhcpcd.conf"
timeout --foreground -k 5 900 dhcpcd -B -4 -f "$W/dhcpcd.conf" -c /bin/true wan0 \
	>"$W/dhcpcd.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 150); do
	ip -4 addr show wan0 | grep -q 'inet ' && break
	sleep 0.3
done
WAN=$(ip -4 -o addr show wan0 | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$WAN" ] || fail "no DHCP lease"
echo "west got $WAN from dnsmasq (dhcpcd; lease 2 min, renewal every 10 s)"
run ip route show

step "4. Everything goes into ipsec0, except the ISP's LAN and the IKE peer"
run ipsecif attach ipsec0 wan0 || fail "ipsecif attach"
run ip link set ipsec0 up
run ip route add 203.0.113.2/32 via 192.168.1.1 dev wan0
run ip rule add pref 100 table main suppress_prefixlength 0
run ip rule add pref 110 table 100
echo "(table 100 gets 'default dev ipsec0' from strongSwan's updown when the tunnel is up)"

step "5. strongSwan on both ends, its SAs bound to ipsec0 by if_id 16384"
ip -n $EAST link add ipsec0 type ipsec dev wan0 && ip -n $EAST link set ipsec0 up
charon - west
charon $EAST east
conf %any 203.0.113.2 10.1.0.0/24 0.0.0.0/0 "ipsec0 table 100" >"$W/west/swanctl.conf"
conf 203.0.113.2 %any 0.0.0.0/0 10.1.0.0/24 ipsec0 >"$W/east/swanctl.conf"
sed -n '/children/,/updown/p' "$W/west/swanctl.conf"
swan "$W/west" --load-all --file "$W/west/swanctl.conf" >/dev/null &&
	swan "$W/east" --load-all --file "$W/east/swanctl.conf" >/dev/null || fail "loading configs"
echo '$ swanctl --initiate --child net'
swan "$W/west" --initiate --child net --timeout 30 >"$W/initiate.log" 2>&1 ||
	{ tail -20 "$W/initiate.log"; fail "IKE"; }
grep -E 'established|installed' "$W/initiate.log" | sed 's/^/  /'
echo '$ swanctl --list-sas' 
swan "$W/west" --list-sas | sed 's/^/  /'
run ip route show table 100

step "6. ipsecif show: the device, its counters, its SAs and policies"
run ipsecif show ipsec0
m=$(cat /sys/class/net/ipsec0/mtu) w=$(cat /sys/class/net/wan0/mtu)
echo "ipsec0's MTU fits the tunnel: $m = wan0's $w minus the SAs' overhead (automatic)"
[ "$m" -lt "$w" ] || fail "ipsec0's MTU $m does not fit the tunnel (wan0 $w)"

step "7. Traffic through the tunnel, watched on the wire and on ipsec0"
CAPS=()
pk() { echo $(($(cat /sys/class/net/$1/statistics/rx_packets) + $(cat /sys/class/net/$1/statistics/tx_packets))); }
# capture DEV NAME: tcpdump on DEV into $W/NAME.pcap; returns once it listens
capture() {
	timeout --foreground -k 5 600 tcpdump --immediate-mode -U -B 16384 -n -i "$1" \
		-w "$W/$2.pcap" >/dev/null 2>"$W/$2.log" </dev/null &
	PIDS+=($!)
	for _ in $(seq 150); do
		grep -q listening "$W/$2.log" && break
		sleep 0.2
	done
	grep -q listening "$W/$2.log" || fail "tcpdump on $1"
	CAPS+=("$1 $2 ${PIDS[-1]} $(pk "$1")")
}
# capture_stop: stop each capture once tcpdump has written every packet its
# device passed since it listened (asked with SIGUSR1: "N packets captured,
# N received by filter, N dropped by kernel"), at most about 20 s each.
capture_stop() {
	local c dev name pid base t n i
	for c in "${CAPS[@]}"; do
		set -- $c
		dev=$1 name=$2 pid=$3 base=$4
		t=$(pgrep -P "$pid" -x tcpdump)
		for ((i = 0; i < 50; i++)); do
			n=$(grep -c 'received by filter' "$W/$name.log")
			kill -USR1 "$t" 2>/dev/null || break
			for _ in $(seq 25); do
				[ "$(grep -c 'received by filter' "$W/$name.log")" -gt "$n" ] && break
				sleep 0.2
			done
			set -- $(grep 'received by filter' "$W/$name.log" | tail -1 | tr -cs '0-9' ' ')
			[ $# -ge 3 ] && [ $(($1 + $3)) -ge "$2" ] &&
				[ "$2" -ge $(($(pk "$dev") - base)) ] && break
			sleep 0.2
		done
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
capture wan0 wire
capture ipsec0 dev
run ping -c 3 -I 10.1.0.1 10.2.0.1 || fail "ping to the head office"
run ping -c 3 -I 10.1.0.1 198.18.0.1 || fail "ping to the internet via the head office"
timeout 300 ip netns exec $EAST socat -u TCP4-LISTEN:5001,reuseaddr OPEN:/dev/null \
	>"$W/socat.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 150); do
	ip netns exec $EAST ss -Hltn 'sport = :5001' | grep -q . && break
	sleep 0.2
done
printf '$ %s\n' "head -c 5000000 /dev/zero | socat -u STDIN TCP4:10.2.0.1:5001,bind=10.1.0.1"
start=$(date +%s.%N)
head -c 5000000 /dev/zero | timeout 300 socat -u STDIN TCP4:10.2.0.1:5001,bind=10.1.0.1 ||
	fail "transfer through ipsec0"
echo "5 MB in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s (under emulation)"

step "8. DHCP renewals keep working while the full tunnel carries traffic"
a0=$(grep -c 'DHCPACK(lan0)' "$W/dnsmasq.log")
timeout 120 ping -q -i 0.5 -I 10.1.0.1 198.18.0.1 >/dev/null 2>&1 </dev/null &
pp=$!
PIDS+=("$pp")
for _ in $(seq 120); do
	[ "$(grep -c 'DHCPACK(lan0)' "$W/dnsmasq.log")" -ge $((a0 + 2)) ] && break
	sleep 0.5
done
kill $pp 2>/dev/null
wait $pp 2>/dev/null
renewals=$(( $(grep -c 'DHCPACK(lan0)' "$W/dnsmasq.log") - a0 ))
echo "the ISP's dnsmasq acknowledged $renewals renewals since the tunnel came up:"
grep 'DHCPREQUEST(lan0)\|DHCPACK(lan0)' "$W/dnsmasq.log" | tail -4 | sed 's/^/  /'
[ "$renewals" -ge 2 ] || fail "DHCP renewals under the full tunnel"

step "9. A spoofed head-office packet in clear on wan0 is dropped"
ip netns exec $EAST ping -c 3 -W 1 -I 10.2.0.1 "$WAN" >/dev/null 2>&1 &&
	fail "a spoofed ping was answered"
echo "east pings $WAN from 10.2.0.1 in clear: no answer"
capture_stop
run nft list chain inet office input
counter() {
	nft list chain inet office input |
		sed -n "s/.*counter packets \([0-9]*\) .*comment \"$1\".*/\1/p"
}
[ "$(counter 'from the tunnel')" -gt 0 ] || fail "nothing matched iif ipsec0"
[ "$(counter 'spoofed head office')" -ge 3 ] || fail "spoofed packets not dropped"

step "10. What the wire and the device saw"
clear=$(tcpdump -n -r "$W/wire.pcap" 'icmp and not host '"$WAN"' or tcp' 2>/dev/null | wc -l)
esp=$(tcpdump -n -r "$W/wire.pcap" 'ip proto 50' 2>/dev/null | wc -l)
plain=$(tcpdump -n -r "$W/dev.pcap" 'icmp or tcp' 2>/dev/null | wc -l)
echo "on the wire (wan0): $esp ESP packets, $clear tunnel packets in clear"
echo "on ipsec0:          $plain plaintext packets, for example:"
tcpdump -n -r "$W/dev.pcap" icmp 2>/dev/null | head -2 | sed 's/^/  /'
[ "$clear" = 0 ] || fail "tunnel traffic in clear on the wire"
# ... on a capture that saw the tunnel's traffic: 5 MB need more than 3333
# ESP packets of at most 1500 bytes
[ "$esp" -gt 3333 ] || fail "only $esp ESP packets captured on the wire"
run ip -s link show ipsec0

step "11. Without SAs nothing leaves: terminate the tunnel and try again"
swan "$W/west" --terminate --ike office --timeout 20 >/dev/null 2>&1
ip route add default dev ipsec0 table 100 2>/dev/null
if ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; then
	fail "ping succeeded without SAs"
fi
echo "ping fails; ethtool -S ipsec0 says why:"
ethtool -S ipsec0 | grep -E 'tx_no_sa|tx_looped_route' || fail "no per-cause counters"
[ "$(ethtool -S ipsec0 | awk '$1 == "tx_no_sa:" { print $2 }')" -ge 1 ] ||
	fail "the dropped ping is not counted as tx_no_sa"

echo
echo "demo: SUCCESS"
