#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads ipsecif to see it autoloaded
# An unprivileged user (nobody) in a user+net namespace of its own: it can
# create, configure and delete ipsec devices and its own SAs there; they
# live only there (not in the initial namespace's links or if_id table); it
# cannot move a device into the initial namespace or any namespace it does
# not own; its traffic into a device without SA is dropped and counted; when
# its namespaces die its devices go, and the module still unloads.
#   - nobody gets a user+net namespace U1, root in it
#   - in U1: ipsec1 (the module autoloads), if_id and link changed, more
#     devices created, renamed, deleted; a duplicate if_id refused
#   - its SAs (if_id 5) and policy encrypt ipsec1's traffic
#   - the initial namespace has none of its devices or SAs, and can use
#     their names and if_ids itself
#   - refused: a device moved to the initial namespace, root's R or
#     another user's namespace, or created in the initial namespace
#   - ipsec3 without SA: pings dropped, tx_dropped and tx_no_sa count
#   - a device moved to U2 goes when U1 dies; the module unloads and
#     loads again
#
# Topology: no wire. U1: nobody's user+net namespace, with veth v0
# 10.0.0.1 -- v1 10.0.0.2 inside, ipsec1 (if_id 5 on v0, 172.16.5.1),
# ipsec2, ipsec3 (172.16.3.1), tun7; U2: a second net namespace of U1's
# user namespace; R: root's; and a user+net namespace root unshares.
source "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null && command -v unshare >/dev/null &&
	command -v nsenter >/dev/null || ksft_skip_all "needs setpriv, unshare, nsenter"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
timeout 20 "${NOBODY[@]}" unshare -Urn true 2>/dev/null ||
	ksft_skip_all "unprivileged user namespaces are disabled"

PIDS=()
stop_bg() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'stop_bg; cleanup' EXIT

sysnet() { ls /sys/class/net | sort | xargs; }
nsof() { readlink "/proc/$1/ns/$2" 2>/dev/null; }
# bgns VAR NSTYPE CMD...: run CMD in the background, bounded by LIFE (a
# holder that runs out before the test ends loses its namespace); once
# its process is in a NSTYPE namespace other than ours, VAR is its pid.
bgns() {
	local var=$1 type=$2 t pid i
	shift 2
	timeout "$LIFE" "$@" &
	t=$!
	PIDS+=("$t")
	for ((i = 0; i < 100; i++)); do
		for pid in $t $(pgrep -P "$t"); do
			if [ -n "$(nsof "$pid" "$type")" ] &&
			   [ "$(nsof "$pid" "$type")" != "$(nsof $$ "$type")" ]; then
				printf -v "$var" '%s' "$pid"
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}
# Load what SAs need (esp4, AES-GCM) as root: module loading is not what
# this test is about.
mkns R
sa "$R" 10.0.0.1 10.0.0.2 0x1 $KEY_AB 1 >/dev/null 2>&1
ip -n "$R" link add d0 type dummy 2>/dev/null
ip netns del "$R"
NSLIST=()
unload_module
init_before=$(sysnet)

# nobody's namespaces: U1 (user+net), U2 (a second net namespace of U1's
# user namespace, made by nobody inside it).
U1=
bgns U1 user "${NOBODY[@]}" unshare -Urn sleep "$LIFE"
check "nobody has a user+net namespace of its own" \
	test -n "$U1" -a "$(nsof "$U1" net)" != "$(nsof $$ net)"
[ -n "$U1" ] || ksft_exit
u1() { timeout 30 "${NOBODY[@]}" nsenter -t "$U1" -U -n --preserve-credentials "$@"; }
unl() { u1 python3 "$SELFTESTS/ipsecnl.py" "$@"; }
# ustat DEV tx_packets|tx_dropped in nobody's namespace (/sys shows the
# initial namespace; /proc/net follows the reader's); ucounter DEV NAME:
# a per-cause counter, read by nobody with ethtool -S.
ustat() {
	u1 cat /proc/net/dev | awk -v dev="$1:" -v f="$2" '$1 == dev {
		split("tx_packets 11 tx_dropped 13", m, " ")
		for (i = 1; i < 4; i += 2) if (m[i] == f) print $(m[i + 1])
	}'
}
ucounter() {
	u1 ethtool -S "$1" | awk -v k="$2:" '$1 == k { print $2 }'
}
check_eq "... mapped to root in it" 0 "$(u1 id -u)"

# --- it can create, configure and delete devices --------------------------------
if u1 ip link add ipsec1 type ipsec 2>/dev/null; then
	ok "nobody creates ipsec1 in its namespace (the module autoloads)"
else
	skip "nobody creates ipsec1 in its namespace (the module autoloads)" \
		"autoload refused; loading it as root"
	load_module
	check "nobody creates ipsec1 in its namespace" u1 ip link add ipsec1 type ipsec
fi
check_eq "... with if_id 1" "kind ipsec link 0 if_id 1" "$(unl show ipsec1)"
u1 ip link set lo up
mk_links() {
	u1 ip link add v0 type veth peer name v1 && u1 ip link add d0 type dummy &&
	u1 ip link set v0 up && u1 ip link set v1 up
}
check "a veth pair and a dummy of its own" mk_links
v0=$(u1 ip -o link show v0 | awk -F': ' '{print $1}')
check "it changes if_id and link (changelink)" unl set ipsec1 if_id 5 link "$v0"
check_eq "... reported back" "kind ipsec link $v0 if_id 5" "$(unl show ipsec1)"
check "it creates one by netlink with if_id 7" unl add tun7 if_id 7
two() { u1 ip link add ipsec2 type ipsec && u1 ip link add ipsec3 type ipsec; }
check "it creates ipsec2 and ipsec3" two
check_fail "a duplicate if_id is refused there too" unl add dup if_id 7
ren_del() { u1 ip link set tun7 name tun7b && u1 ip link del tun7b; }
check "it renames and deletes" ren_del
check "... and reuses the if_id" unl add tun7 if_id 7

# --- its own SAs, used by its device ----------------------------------------------
u1 ip addr add 10.0.0.1/24 dev v0
u1 ip addr add 10.0.0.2/24 dev v1
u1 ip addr add 172.16.5.1/32 dev ipsec1
u1 ip link set ipsec1 up
sas() {
	u1 ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5001 reqid 5 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128 if_id 5 &&
	u1 ip xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x5002 reqid 5 \
		mode tunnel aead 'rfc4106(gcm(aes))' $KEY_BA 128 if_id 5
}
check "it adds SAs with if_id 5" sas
check "and a policy" u1 ip xfrm policy add dir out src 0.0.0.0/0 dst 10.5.0.0/16 \
	if_id 5 tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 5 mode tunnel
u1 ip route add 10.5.0.0/16 dev ipsec1 src 172.16.5.1
u1 ping -q -c 3 -i 0.2 -W 1 10.5.0.1 >/dev/null 2>&1
check_ge "its traffic is encrypted by its SA" 3 \
	"$(u1 ip -s xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5001 |
		grep -o '[0-9][0-9]*(packets)' | head -1 | tr -dc 0-9)"
check_ge "... and counted on ipsec1" 3 "$(ustat ipsec1 tx_packets)"
check_eq "the initial namespace has none of its SAs" 0 \
	"$(ip xfrm state | grep -c 'spi 0x0000500[12]')"

# --- nothing of it in the initial namespace ---------------------------------------
check_eq "its devices are not in the initial namespace" "$init_before" "$(sysnet)"
check_fail "... not even by name" ip link show tun7
check "the initial namespace can use if_id 5 (not in its table)" \
	rtnl_req add uns-five if_id 5
check "... and if_id 7" rtnl_req add uns-seven if_id 7
check "... and create ipsec1 (if_id 1)" ip link add ipsec1 type ipsec
check_eq "... which is the initial namespace's own" "kind ipsec link 0 if_id 1" "$(rtnl_req show ipsec1)"
check_eq "nobody's ipsec1 is unchanged" "kind ipsec link $v0 if_id 5" "$(unl show ipsec1)"
ip link del uns-five; ip link del uns-seven; ip link del ipsec1

# --- what it cannot do -----------------------------------------------------------
check_fail "it cannot move a device into the initial namespace (pid 1)" \
	u1 ip link set ipsec2 netns 1
check "... the device stays" u1 ip link show ipsec2
check_fail "... and is not in the initial namespace" ip link show ipsec2
check_fail "it cannot create a device in the initial namespace (netns at creation)" \
	u1 ip link add ipsec8 netns 1 type ipsec
check_fail "... nothing created there" ip link show ipsec8
mkns R
RPID= OPID=
bgns RPID net ip netns exec "$R" sleep "$LIFE"
bgns OPID user unshare -Urn sleep "$LIFE"
check "root's namespace R and another user's user+net namespace" test -n "$RPID" -a -n "$OPID"
check_fail "it cannot move a device into root's namespace R" \
	u1 ip link set ipsec2 netns "$RPID"
check_fail "... nor into another user's user+net namespace" \
	u1 ip link set ipsec2 netns "$OPID"
check_fail "... which holds nothing" ip -n "$R" link show ipsec2
check_fail "it cannot reach into R by netns id either" \
	u1 ip link add ipsec8 link-netnsid 0 type ipsec
check "... and the device is still its own" u1 ip link show ipsec2
check_fail "nobody cannot create devices in the initial namespace" \
	"${NOBODY[@]}" ip link add ipsec9 type ipsec

# --- its traffic into a device without SA: dropped and counted ---------------------
u1 ip addr add 172.16.3.1/32 dev ipsec3
u1 ip link set ipsec3 up
u1 ip route add 10.9.0.0/24 dev ipsec3 src 172.16.3.1
drop0=$(ustat ipsec3 tx_dropped)
check_fail "ping into ipsec3 (no SA, if_id 3) gets no answer" \
	u1 ping -q -c 3 -i 0.2 -W 1 10.9.0.1
check_ge "... each packet dropped (tx_dropped)" $((drop0 + 3)) \
	"$(ustat ipsec3 tx_dropped)"
check_ge "... and counted as without SA (tx_no_sa, read by nobody)" 3 \
	"$(ucounter ipsec3 tx_no_sa)"
check_eq "... none sent (tx_packets)" 0 "$(ustat ipsec3 tx_packets)"

# --- its namespaces die: its devices go --------------------------------------------
# U2: a second net namespace of nobody's user namespace. A device born in
# U1 and moved to U2 must go when U1 dies.
U2=
bgns U2 net "${NOBODY[@]}" nsenter -t "$U1" -U --preserve-credentials unshare -n sleep "$LIFE"
check "nobody makes a second net namespace U2 in its user namespace" \
	test -n "$U2" -a "$(nsof "$U2" net)" != "$(nsof "$U1" net)" -a \
	"$(nsof "$U2" user)" = "$(nsof "$U1" user)"
u2() { timeout 30 "${NOBODY[@]}" nsenter -t "$U2" -U -n --preserve-credentials "$@"; }
u1 ip link add ipsec6 type ipsec
check "it moves a device into its second namespace" u1 ip link set ipsec6 netns "$U2"
check "... where it lives" u2 ip link show ipsec6
check_eq "... still its device in U1's table" "kind ipsec link 0 if_id 6" \
	"$(u2 python3 "$SELFTESTS/ipsecnl.py" show ipsec6)"
kill "$U1"
gone6() { ! u2 ip link show ipsec6; }
check "U1 dies: the device born there goes from U2 too" wait_for 100 gone6
check "... while U2 lives on" u2 ip link show lo
kill "$U2"
check_eq "no leftovers in /sys/class/net of the initial namespace" "$init_before" "$(sysnet)"
stop_bg
ip netns del "$R"
NSLIST=()
check "the module unloads afterwards" timeout 120 sh -c "modprobe -r ipsecif && ! grep -q '^ipsecif ' /proc/modules"
check "and loads again" load_module

ksft_exit
