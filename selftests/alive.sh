#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Is the tunnel alive: the seconds since a packet last came out of each
# device's tunnel and last went into it, in ipsecif show (text, JSON) and
# rtnetlink (IFLA_IPSEC_LAST_RX/TX):
#   - none on a device that carried nothing: null, "latest rx: none,
#     tx: none"
#   - IPv4 traffic through ipsec1 and IPv6 through ipsec2: both ends
#     stamp tx and rx, no older than the traffic; the ages grow after it,
#     and traffic again stamps anew
#   - what is dropped (no SA) stamps nothing; the attributes are read-only
#
# Topology: wire() A -- B; ipsec1 (if_id 1) and ipsec2 (if_id 2) on both,
# tunnels of both families; ipsec3 (if_id 3) on A with no SA.
source "$(dirname "$0")/lib.sh"

command -v ipsecif >/dev/null || ksft_skip_all "ipsecif tool not installed"
command -v jq >/dev/null || ksft_skip_all "jq not installed"
load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
for n in 1 2; do
	ipsec_end "$A" $n 1
	ipsec_end "$B" $n 2
	tunnel_pair $n
done
ipsec_end "$A" 3 1

# ago NS DEV rx|tx: the seconds, or null
ago() { ip netns exec "$1" ipsecif -j show "$2" | jq -r ".[0].last_$3_secs_ago"; }
ages() { echo "$(ago "$1" "$2" rx) $(ago "$1" "$2" tx)"; }
# within NS DEV S: both ages are numbers of at most S
within() {
	local rx tx
	read -r rx tx <<<"$(ages "$1" "$2")"
	[[ $rx =~ ^[0-9]+$ && $tx =~ ^[0-9]+$ ]] && [ "$rx" -le "$3" ] && [ "$tx" -le "$3" ] &&
		return 0
	echo "expected rx and tx of $2 within $3 s, saw '$rx $tx'" >&2
	return 1
}
# older NS DEV S: both ages are at least S
older() {
	local rx tx
	read -r rx tx <<<"$(ages "$1" "$2")"
	[[ $rx =~ ^[0-9]+$ && $tx =~ ^[0-9]+$ ]] && [ "$rx" -ge "$3" ] && [ "$tx" -ge "$3" ]
}

# (ipsec1 and ipsec2 have carried IPv6's own MLD reports by now)
check_eq "a device with no SA: none yet (JSON null)" "null null" "$(ages "$A" ipsec3)"
check "... and text says so" \
	grep -qx '  latest rx: none, tx: none' <(ip netns exec "$A" ipsecif show ipsec3)
# fresh NS DEV T0: both ages are numbers no older than the seconds since
# T0 (a stamp older than T0 would be at least that)
fresh() { within "$1" "$2" $(($(date +%s) - $3 + 1)); }
t0=$(date +%s)
check "IPv4 through ipsec1 answered" ip netns exec "$A" ping -q -c 2 -i 0.2 -W 5 172.16.1.2
check "IPv6 through ipsec2 answered" ip netns exec "$A" ping -q -c 2 -i 0.2 -W 5 fd02::2
for dev in ipsec1 ipsec2; do
	for ns in A B; do
		check "$dev on $ns: rx and tx stamped since" fresh "${!ns}" $dev "$t0"
	done
done
check "... text says when" \
	grep -qE '^  latest rx: (now|[0-9]+ seconds? ago), tx: (now|[0-9]+ seconds? ago)$' \
	<(ip netns exec "$A" ipsecif show ipsec1)
check "the ages grow (2 s at least within 20 s)" wait_for 100 older "$A" ipsec1 2
check "... in text too (IPv6's own MLD may stamp anew)" \
	grep -qE '^  latest rx: (now|[0-9]+ seconds? ago), tx: (now|[0-9]+ seconds? ago)$' \
	<(ip netns exec "$A" ipsecif show ipsec1)
t1=$(date +%s)
ip netns exec "$A" ping -q -c 1 -W 5 172.16.1.2 >/dev/null
check "traffic again: stamped anew" fresh "$A" ipsec1 "$t1"
check_fail "ipsec3 (no SA): the ping is not answered" \
	ip netns exec "$A" ping -q -c 1 -W 1 172.16.3.2
check_eq "... and stamps nothing" "null null" "$(ages "$A" ipsec3)"
check_ge "... the drop counted (tx_no_sa)" 1 "$(counter "$A" ipsec3 tx_no_sa)"
nln() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
check_fail "IFLA_IPSEC_LAST_RX is read-only: refused" nln set ipsec1 last_rx 0
check_fail "IFLA_IPSEC_LAST_TX too" nln set ipsec1 last_tx 0
check "... and nothing changed" older "$A" ipsec1 1

ksft_exit
