#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: loads ipsecif with links= and makes devices in the initial namespace
# Links that come and go: a device keeps its link's name, shows it absent
# while it is gone, and attaches again by itself when a device of that name
# appears in its birth namespace (PPPoE, LTE and USB links are re-created
# with a new ifindex on every reconnect).
#   - the link deleted and re-created: absent, then attached, notified
#   - renamed away and back; a name that does not exist yet
#   - a same-named link in another namespace is not taken; moved in, it is
#   - traffic resumes by itself over the re-created link
#   - links=ipsecN:DEV at load, before the link exists; bad values refuse
#     the load with a message
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0); C another namespace.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
mkns C || ksft_skip_all "cannot create a namespace"
# The load-time part leaves devices in the initial namespace: never keep them.
trap 'ip link del lte7 2>/dev/null; unload_module; cleanup' EXIT
# ip in namespace A; the load-time part sets A=init for the initial one.
ipa() { if [ "$A" = init ]; then ip "$@"; else ip -n "$A" "$@"; fi; }
nla() { ip netns exec "$A" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
ifindex() { ip -n "$1" -o link show "$2" 2>/dev/null | awk -F': ' '{print $1; exit}'; }
# linkstate DEV: "IFLINK NAME STATE" as ip -d -j link shows them: the
# device its ifindex link names (IFLA_IPSEC_LINK), the name the kernel
# keeps (IFLA_IPSEC_LINK_NAME), present or absent; "-" for none.
linkstate() {
	ipa -d -j link show "$1" | jq -r '.[0] | "\(.link // "-") " +
		"\(.linkinfo.info_data.dev // "-") \(.linkinfo.info_data.link_state // "-")"'
}
attached() { [ "$(linkstate "$1")" = "$2 $2 present" ]; }	# DEV PHYS
absent() { [ "$(linkstate "$1")" = "- $2 absent" ]; }	# DEV PHYS: waits for it

# --- by index, then the link is deleted and re-created ----------------------
check "ipsec1 attached to veth0 (ip link add ... link veth0)" \
	ipa link add ipsec1 link veth0 type ipsec
check "... link by index, name veth0 kept" attached ipsec1 veth0
old=$(ifindex "$A" veth0)
MON=$(mktemp)
timeout "$LIFE" ip -n "$A" monitor link >"$MON" 2>&1 &
BG_PIDS+=($!)
# ip monitor listens once it reports a change (an MTU) of ipsec1, which
# stays down: notifications of its link must not need it up.
for ((i = 1; i < 30; i++)); do
	ipa link set ipsec1 mtu $((1400 + i))
	wait_for 5 grep -q "ipsec1@veth0:.* mtu $((1400 + i)) " "$MON" && break
done
check "ip monitor listens" grep -q "ipsec1@veth0:.* mtu $((1400 + i)) " "$MON"
seen=$(wc -l <"$MON")
check "the wire is deleted (both ends)" ipa link del veth0
check "... ipsec1 is detached and waits for veth0" absent ipsec1 veth0
check "... ip -d link says so" link_info_has "$A" ipsec1 'dev veth0 (absent)'
check "the wire is re-created, same names" wire_link
check "... a new ifindex" test "$(ifindex "$A" veth0)" != "$old"
check "... ipsec1 attached to it by itself" attached ipsec1 veth0
notified() {	# a notification of ipsec1 detached, then one attached to veth0
	tail -n +$((seen + 1)) "$MON" | grep -A100 '^[0-9]*: ipsec1:' | grep -q 'ipsec1@veth0'
}
if wait_for 50 notified; then
	ok "... and netlink notifications said so (gone, attached)"
else
	nok "... and netlink notifications said so (gone, attached)"
	tail -n +$((seen + 1)) "$MON" | grep -v '^ ' | tail -8 | sed 's/^/#   /'
fi

# --- renamed away and back ----------------------------------------------------
ipa link set veth0 down
check "veth0 renamed veth9" ipa link set veth0 name veth9
check "... ipsec1 waits for veth0" absent ipsec1 veth0
check "veth9 renamed back to veth0" ipa link set veth9 name veth0
check "... ipsec1 attached again" attached ipsec1 veth0
ipa link set veth0 up

# --- a name that does not exist yet -------------------------------------------
check "ipsec2 attached by name to ppp7, which does not exist" \
	nla add ipsec2 link_name ppp7
check "... absent" absent ipsec2 ppp7
check "ppp7 appears (a dummy)" ipa link add ppp7 type dummy
check "... ipsec2 attached to it" attached ipsec2 ppp7
err_is "an invalid name is refused" "invalid link device name" \
	nla set ipsec2 link_name 'a/b'
check "... and changes nothing" attached ipsec2 ppp7
err_is "index and name in one request are refused" "not both" \
	nla set ipsec2 link "$(ifindex "$A" veth0)" link_name veth0
check "link 0 detaches" nla set ipsec2 link 0
check_eq "... and forgets the name" "- - -" "$(linkstate ipsec2)"

# --- another namespace's device of that name is not taken; moved in, it is ----
ipa link del ppp7
check "ipsec3 attached by name to ppp7, deleted" nla add ipsec3 link_name ppp7
check "... waits" absent ipsec3 ppp7
check "a ppp7 in namespace C" ip -n "$C" link add ppp7 type dummy
check "... is not taken" absent ipsec3 ppp7
check "... moved into A, it is" ip -n "$C" link set ppp7 netns "$A"
check "... ipsec3 attached to it" attached ipsec3 ppp7
check "ppp7 moved back out of A" ipa link set ppp7 netns "$C"
check "... ipsec3 waits again" absent ipsec3 ppp7
check "ipsec4 waits for ppp8" nla add ipsec4 link_name ppp8
check "an ipsec device named ppp8 appears" ipa link add ppp8 type ipsec if_id 88
check "... ipsec4 still waits" absent ipsec4 ppp8

# --- traffic resumes by itself over a re-created link -------------------------
ip -n "$B" link add ipsec1 link veth0 type ipsec
require "tunnel pair of if_id 1 for 172.16.1.0/24" tunnel_pair 1 172.16.1.0/24 -
ipa addr add 172.16.1.1/32 peer 172.16.1.2/32 dev ipsec1
ip -n "$B" addr add 172.16.1.2/32 peer 172.16.1.1/32 dev ipsec1
ipa link set ipsec1 up
ip -n "$B" link set ipsec1 up
check "a tunnel through ipsec1" ping_ok "$A" 172.16.1.2
ipa link del veth0
check_fail "link gone: the tunnel is down" ping_ok "$A" 172.16.1.2
check "the wire is back" wire_link
check "... traffic flows again with no ipsec command" wait_for 25 ping_ok "$A" 172.16.1.2

# --- links= at load ----------------------------------------------------------
modload_fails() {	# modload_fails DESC LINKS WANT: the load is refused, WANT logged
	local mark="ipsecif-linkname-$RANDOM"
	echo "$mark" >/dev/kmsg
	if load_module devices=3 "links=$2" 2>/dev/null; then
		nok "$1"; echo "#   the module loaded"; unload_module
		return
	fi
	if grep -q '^ipsecif ' /proc/modules; then
		nok "$1"; echo "#   the module is loaded"
	elif ! dmesg | sed -n "/$mark/,\$p" | grep -qF -- "$3"; then
		nok "$1"; echo "#   log: $(dmesg | sed -n "/$mark/,\$p" | tail -2)"
	else
		ok "$1"
	fi
}
cleanup_ns() { for n in "${NSLIST[@]}"; do ip netns del "$n"; done; NSLIST=(); }
cleanup_ns
check "unload ipsecif" unload_module
modload_fails "links=ipsec5:eth7 with devices=3 is refused" ipsec5:eth7 \
	"ipsec5 is not created at load (devices=3)"
modload_fails "links=ipsec1 (no device) is refused" ipsec1 "is not ipsecN:DEVICE"
modload_fails "links=ipsec1:a/b is refused" "ipsec1:a/b" "not a valid device name"
modload_fails "links=ipsec1:x,ipsec1:y is refused" "ipsec1:x,ipsec1:y" "given twice"
modload_fails "links=foo:eth7 is refused" "foo:eth7" "not a device name of the form ipsecN"
check "links=ipsec1:lte7,ipsec2:lte8 with devices=3 loads" \
	load_module devices=3 links=ipsec1:lte7,ipsec2:lte8
A=init	# the initial namespace, for the helpers


check "... ipsec1 waits for lte7" absent ipsec1 lte7
check "... ipsec2 waits for lte8" absent ipsec2 lte8
check_eq "... ipsec0 has no link" "- - -" "$(linkstate ipsec0)"
check "lte7 appears" ip link add lte7 type dummy
check "... ipsec1 attached to it" attached ipsec1 lte7
check "... ipsec2 still waits" absent ipsec2 lte8
ip link del lte7
check "unload ipsecif" unload_module
ksft_exit
