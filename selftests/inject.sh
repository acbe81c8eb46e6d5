#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Malformed frames sent into an ipsec device with a packet socket, as root
# and as an unprivileged user in its own user+net namespace: each one is
# dropped and counted before xfrm or the driver trusts a header, and
# well-formed packets still go through. The harness fails the run on any
# kernel report (BUG, KASAN, UBSAN, ...) these frames could cause.
#
# Topology, inside one namespace: inj (ipsec, if_id 21) attached to veth
# v0 (10.0.0.1, fd00::1); transport-mode ESP SAs to 10.0.0.2 / fd00::2 and
# policies for everything with if_id 21, so that a transport-mode bundle
# forms for whatever is sent (the case that crashed 0.1).
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"

# Runs inside the namespace; prints "key value" lines.
scenario() {
	local inj=$1 key=0x0123456789abcdef0123456789abcdef01234567 s
	ip link add v0 type veth peer name v1 || return 1
	ip link set v0 up && ip link set v1 up &&
	ip addr add 10.0.0.1/24 dev v0 &&
	ip addr add fd00::1/64 dev v0 nodad &&
	ip link add inj type ipsec dev v0 if_id 21 || return 1
	# No router solicitations of its own: the counters are ours alone.
	sysctl -qw net.ipv6.conf.inj.disable_ipv6=1
	ip link set inj up || return 1
	ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x21 reqid 0x21 \
		mode transport aead 'rfc4106(gcm(aes))' $key 128 if_id 21 &&
	ip xfrm state add src fd00::1 dst fd00::2 proto esp spi 0x22 reqid 0x22 \
		mode transport aead 'rfc4106(gcm(aes))' $key 128 if_id 21 &&
	ip xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 if_id 21 \
		tmpl proto esp reqid 0x21 mode transport &&
	ip xfrm policy add dir out src ::/0 dst ::/0 if_id 21 \
		tmpl proto esp reqid 0x22 mode transport || return 1
	echo "setup ok"
	s() { ip -s -j link show inj | python3 -c \
		"import json,sys; print(json.load(sys.stdin)[0]['stats64']['tx']['$1'])"; }
	echo "dropped0 $(s dropped)"
	echo "packets0 $(s packets)"
	echo "crash_sent $(python3 "$inj" inj crash)"
	echo "bad_sent $(python3 "$inj" inj bad)"
	echo "dropped1 $(s dropped)"
	echo "packets1 $(s packets)"
	echo "good_sent $(python3 "$inj" inj good)"
	echo "odd_sent $(python3 "$inj" inj odd)"
	echo "packets2 $(s packets)"
	echo "sa_packets $(ip -s xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x21 |
		sed -n '/lifetime current/{n;s/.* \([0-9]*\)(packets).*/\1/p}')"
	ip link show inj >/dev/null && echo "alive 1"
}

# check_run WHO OUTPUT: the assertions, the same for root and unprivileged.
check_run() {
	local who=$1 out=$2 v
	v() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
	if ! grep -q '^setup ok' <<<"$out"; then
		nok "$who: device, SAs and policies set up"
		echo "$out" | tail -5 | sed 's/^/#   /'
		return
	fi
	ok "$who: device, SAs and policies set up"
	check_eq "$who: the frame that crashed 0.1 was sent" 1 "$(v crash_sent)"
	check_ge "$who: malformed frames sent" 12 "$(v bad_sent)"
	check_eq "$who: ... every one dropped and counted in tx_dropped" \
		$(( $(v dropped0) + $(v crash_sent) + $(v bad_sent) )) "$(v dropped1)"
	# Exact: with IPv6 off, nothing but these frames enters the device.
	check_eq "$who: ... none counted as sent" "$(v packets0)" "$(v packets1)"
	check_ge "$who: a well-formed packet is still encrypted (SA counter)" 1 \
		"$(v sa_packets)"
	check_ge "$who: ... and counted as sent" $(( $(v packets1) + 1 )) "$(v packets2)"
	check_eq "$who: the device survives all of it" 1 "$(v alive)"
}

# --- as root ------------------------------------------------------------
mkns N
out=$(ip netns exec "$N" timeout "$LIFE" bash -c "$(declare -f scenario); scenario $SELFTESTS/inject.py" 2>&1)
check_run root "$out"

# --- as nobody, root of its own user and network namespace -------------
if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	skip "unprivileged: malformed frames" "setpriv or unshare missing"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urn true 2>/dev/null; then
	skip "unprivileged: malformed frames" "unprivileged user namespaces are disabled"
else
	out=$(cd / && timeout "$LIFE" setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn bash -c "$(declare -f scenario); scenario $SELFTESTS/inject.py" 2>&1)
	check_run unprivileged "$out"
fi

ksft_exit
