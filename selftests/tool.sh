#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads ipsecif and changes kernel.modprobe
# The ipsecif tool: every command, JSON output checked with jq, bad input
# (refused, with the kernel's message, changing nothing), SAs and policies
# read back over XFRM netlink, no CAP_NET_ADMIN, and a missing module.
#   - packaging: -V, help, man page, bash completion, unknown command
#   - add, show, set, attach, detach, nodev; JSON fields as ipsecif.8
#     lists them; options before or after the command
#   - bad input: usage errors exit 2, the kernel's refusals exit 1 with
#     its message; the devices unchanged after all of them
#   - a link that does not exist yet: accepted with a note, shown absent
#   - tun1's SAs (not another if_id's) and policies, counters as in sysfs,
#     text show; keys never printed
#   - without CAP_NET_ADMIN: add and set refused, nothing changed; show
#     fails clearly
#   - the module missing: add says how to get it, show prints nothing
#
# Topology: wire() A 10.0.0.1 -- B 10.0.0.2 (veth0); the tool runs in A
# (dummy1 as another link). For the SAs: tun1 (if_id 43, detached) on A
# 10.9.0.1 and B 10.9.0.2, each routing the other's /32 into it.
source "$(dirname "$0")/lib.sh"

command -v ipsecif >/dev/null || ksft_skip_all "ipsecif tool not installed"
command -v jq >/dev/null || ksft_skip_all "jq not installed"
load_module || ksft_skip_all "ipsecif module not available"

wire
T() { ip netns exec "$A" ipsecif "$@"; }
# jqa DEV FILTER: jq -e on the JSON object of DEV in A
jqa() { T -j show "$1" | jq -e ".[0] | $2" >/dev/null; }
ip -n "$A" link add dummy1 type dummy

# --- packaging --------------------------------------------------------------
check "ipsecif -V prints a version" sh -c 'ipsecif -V | grep -q "^ipsecif [0-9]"'
check "ipsecif help prints usage" sh -c 'ipsecif help | grep -q "attach DEV PHYS"'
check "man page ipsecif(8) is installed" sh -c \
	'f=$(man -w ipsecif 2>/dev/null) || f=$(ls /usr/share/man/man8/ipsecif.8*); test -s "$f"'
check "bash completion is installed and parses" bash -n \
	/usr/share/bash-completion/completions/ipsecif
err_is --exit 2 "an unknown command is a usage error (exit 2)" "unknown command" \
	T frobnicate

# --- add, show, set, attach, detach, del ------------------------------------
check "add ipsec5 (default if_id)" T add ipsec5
check "... gets if_id 5, detached, down" jqa ipsec5 \
	'.if_id == 5 and .link == null and .up == false'
check "add tun1 dev veth0 if_id 42 mtu 1400" T add tun1 dev veth0 if_id 42 mtu 1400
check "... JSON has if_id, link, mtu" jqa tun1 \
	'.if_id == 42 and .link == "veth0" and .mtu == 1400 and .ifname == "tun1"'
# ipsecif.8 documents exactly the fields the tool prints: tun1 is attached,
# so it has all of them but link_netnsid (a moved device's: netns.sh).
if [ -f "$SELFTESTS/../userspace/ipsecif.8" ]; then
	check_ge "ipsecif.8 lists the JSON fields of a device" 10 \
		"$(man_json_fields "Device object" | wc -l)"
	check_eq "... tun1's are those (but link_netnsid)" \
		"$(man_json_fields "Device object" | grep -vx link_netnsid | tr '\n' ' ')" \
		"$(T -j show tun1 | jq '.[0]' | json_fields | tr '\n' ' ')"
	check_ge "ipsecif.8 lists the stats fields" 8 \
		"$(man_json_fields "stats object" | wc -l)"
	check_eq "... tun1's are those" \
		"$(man_json_fields "stats object" | tr '\n' ' ')" \
		"$(T -j show tun1 | jq '.[0].stats' | json_fields | tr '\n' ' ')"
else
	skip "JSON fields against ipsecif.8" "no userspace/ipsecif.8 beside selftests/"
fi
check "... the kernel agrees (ipsecnl)" sh -c \
	"ip netns exec $A python3 $SELFTESTS/ipsecnl.py show tun1 | grep -q 'if_id 42'"
check "set tun1 if_id 43" T set tun1 if_id 43
check "... if_id is 43" jqa tun1 '.if_id == 43'
check "set tun1 mtu 1300" T set tun1 mtu 1300
check "... mtu is 1300" jqa tun1 '.mtu == 1300'
check "detach tun1" T detach tun1
check "... link is null" jqa tun1 '.link == null'
check "attach tun1 dummy1" T attach tun1 dummy1
check "... link is dummy1" jqa tun1 '.link == "dummy1"'
check "set tun1 nodev" T set tun1 nodev
check "... link is null again" jqa tun1 '.link == null'
check "show lists exactly the ipsec devices" sh -c \
	"[ \"\$(ip netns exec $A ipsecif -j | jq -r '[.[].ifname] | sort | join(\" \")')\" = 'ipsec5 tun1' ]"
check "text show names every device" sh -c \
	"ip netns exec $A ipsecif | grep -c '^interface: ' | grep -qx 2"
check "show in a namespace without devices prints []" sh -c \
	"[ \"\$(ip netns exec $B ipsecif -j)\" = '[]' ]"
check "-j -p is valid JSON too" sh -c "ip netns exec $A ipsecif -j -p show | jq -e 'length == 2'"
# Options go before or after the command, as users type them.
j1=$(T -j show tun1) j2=$(T show -j tun1)
check "options after the command: show -j DEV is -j show DEV" \
	jq -en --argjson a "$j1" --argjson b "$j2" '$a == $b and ($a | length) == 1'
j1=$(T -j -p show tun1) j2=$(T show tun1 -p -j)
check "... and show DEV -p -j prints what -j -p show DEV does" sh -c \
	'[ "$(printf "%s\n" "$1" | wc -l)" -gt 2 ] && [ "$1" = "$2" ]' _ "$j1" "$j2"
err_is --exit 1 "after --, a word starting with - is a device name" \
	"-j: no such device" T show -- -j

# --- bad input: clear error, non-zero exit, nothing changes -----------------
before=$(T -j show)
err_is --exit 2 "if_id 0 is refused (exit 2)" "invalid if_id" T add bad1 if_id 0
err_is --exit 2 "a non-number if_id is refused" "invalid if_id" T add bad1 if_id x
err_is --exit 1 "a duplicate if_id prints the kernel's message" "already used" \
	T add bad1 if_id 43
err_is --exit 1 "an ipsec device as physical device is refused by the kernel" \
	"physical device" T add bad1 if_id 77 dev ipsec5
err_is --exit 1 "an MTU out of range is refused at add" "MTU" T add bad1 if_id 78 mtu 70000
check_fail "... and none of these created a device" T show bad1
err_is --exit 1 "set on an unknown device is refused" "no such device" \
	T set nosuch0 if_id 9
err_is --exit 1 "set if_id + bad MTU is refused whole" "out of range" \
	T set tun1 if_id 44 mtu 70000
err_is --exit 1 "set to a duplicate if_id is refused" "already used" \
	T set tun1 if_id 5
err_is --exit 2 "set with nothing to change is a usage error" "nothing" T set tun1
err_is --exit 2 "set with an unknown option is a usage error" "unknown option" \
	T set tun1 colour blue
err_is --exit 2 "attach needs two arguments" "usage" T attach tun1
err_is --exit 2 "an unknown option after the command is a usage error (exit 2)" \
	"Usage:" T add bad1 if_id 80 --frobnicate
err_is --exit 2 "... and before it" "Usage:" T --frobnicate add bad1 if_id 80
err_is --exit 2 "... and a short one" "Usage:" T set tun1 -x if_id 81
err_is --exit 1 "del refuses a device of another kind" "not an ipsec device" \
	T del veth0
check "... veth0 is still there" ip -n "$A" link show veth0
err_is --exit 1 "show of a non-ipsec device is refused" "not an ipsec device" \
	T show veth0
check_eq "after all refusals the devices are unchanged" "$before" "$(T -j show)"

# A link that does not exist yet is waited for, and the tool says so.
ok_with_note() {	# ok_with_note DESC WANT CMD...: succeeds, WANT on stderr
	local desc=$1 want=$2 err
	shift 2
	if ! err=$("$@" 2>&1 >/dev/null); then
		nok "$desc"; echo "#   failed: $err" | head -3
	elif ! grep -qF -- "$want" <<<"$err"; then
		nok "$desc"; echo "#   stderr: $err" | head -3
	else
		ok "$desc"
	fi
}
ok_with_note "a link that does not exist yet is accepted, with a note" \
	"nosuch0 does not exist (yet)" T add wait1 if_id 79 dev nosuch0
check "... shown as absent" ipsecif_shows "$A" wait1 'link: nosuch0 (absent)'
check_eq "... JSON link_state absent" absent "$(T -j show wait1 | jq -r '.[0].link_state')"
check "... attach by name to it later works the same" T attach wait1 nosuch1
check "... and detach forgets the name" \
	all T detach wait1 -- ipsecif_shows "$A" wait1 'link: none'
check "... and del deletes it" T del wait1

# --- SAs and policies -------------------------------------------------------
T del ipsec5
ip -n "$B" link add tun1 type ipsec if_id 43
for ns in "$A" "$B"; do
	ip -n "$ns" link set tun1 up
	ip -n "$ns" link set tun1 mtu 1400
done
ip -n "$A" addr add 10.9.0.1/32 dev tun1
ip -n "$B" addr add 10.9.0.2/32 dev tun1
ip -n "$A" route add 10.9.0.2/32 dev tun1
ip -n "$B" route add 10.9.0.1/32 dev tun1
tunnel "$A" $UNDER4_A $UNDER4_B 0x101 0x202 $KEY_AB $KEY_BA 43
tunnel "$B" $UNDER4_B $UNDER4_A 0x202 0x101 $KEY_BA $KEY_AB 43
# An SA of another if_id must not show up under tun1.
sa "$A" $UNDER4_A $UNDER4_B 0x999 $KEY_AB 99
check "ping through tun1" ping_ok "$A" 10.9.0.2
check "two SAs are bound to tun1 (not the if_id 99 one)" jqa tun1 '.sas | length == 2'
check "the outbound SA: spi, addresses, mode, reqid, aead" jqa tun1 \
	'.sas | map(select(.spi == 257)) | .[0] | .proto == "esp" and .src == "10.0.0.1" and .dst == "10.0.0.2" and .mode == "tunnel" and .reqid == 257 and .aead.name == "rfc4106(gcm(aes))" and .aead.icv_bits == 128 and .aead.key_bits == 160'
check "the outbound SA counted the pings" jqa tun1 \
	'.sas | map(select(.spi == 257)) | .[0].packets >= 2 and .[0].bytes > 0 and .[0].age >= 0'
check "six policies (out/in/fwd x 2 families) with templates" jqa tun1 \
	'.policies | length == 6 and all(.templates | length == 1)'
check "an out policy names its template" jqa tun1 \
	'.policies | map(select(.dir == "out" and .selector.family == "inet")) | .[0].templates[0] | .proto == "esp" and .mode == "tunnel" and .src == "10.0.0.1" and .dst == "10.0.0.2"'
# The device may send an MLD report or router solicitation between two
# reads, so the JSON value must lie between a sysfs read before and after.
counters_match() {
	local c lo hi js
	for c in tx_packets tx_bytes rx_packets rx_bytes; do
		lo=$(dev_stat "$A" tun1 $c)
		js=$(ip netns exec "$A" ipsecif -j show tun1 | jq ".[0].stats.$c")
		hi=$(dev_stat "$A" tun1 $c)
		[ "$lo" -le "$js" ] && [ "$js" -le "$hi" ] && [ "$hi" -gt 0 ] || {
			echo "# $c: sysfs $lo..$hi, json $js"
			return 1
		}
	done
}
check "device counters in JSON match sysfs" counters_match
check "text show lists the SA with its SPI" \
	ipsecif_shows "$A" tun1 'sa: esp spi 0x00000101 10.0.0.1 -> 10.0.0.2'
check "text show lists the policy" \
	ipsecif_shows "$A" tun1 'policy: out 0.0.0.0/0 -> 0.0.0.0/0'
k=${KEY_AB#0x}
check_fail "keys never appear in text output" sh -c \
	"ip netns exec $A ipsecif show | grep -qi ${k:0:16}"
check_fail "keys never appear in JSON output" sh -c \
	"ip netns exec $A ipsecif -j show | grep -qi ${k:0:16}"

# --- privileges -------------------------------------------------------------
if command -v setpriv >/dev/null; then
	nobody() { ip netns exec "$A" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all ipsecif "$@"; }
	err_is --exit 1 "add without CAP_NET_ADMIN is refused" "not permitted" \
		nobody add ipsec6
	check_fail "... and created nothing" T show ipsec6
	err_is --exit 1 "set without CAP_NET_ADMIN is refused" "not permitted" \
		nobody set tun1 if_id 50
	check "... and changed nothing" jqa tun1 '.if_id == 43'
	err_is --exit 1 "reading SAs without CAP_NET_ADMIN fails clearly" \
		"not permitted" nobody show
else
	skip "privilege checks" "setpriv not installed"
fi

T del tun1
check_fail "del removed tun1" ip -n "$A" link show tun1

# --- the module is missing --------------------------------------------------
cleanup
modprobe_path=$(cat /proc/sys/kernel/modprobe)
if unload_module; then
	echo /bin/false >/proc/sys/kernel/modprobe
	err_is --exit 1 "add without the module says how to get it" "modprobe ipsecif" \
		ipsecif add ipsec7
	echo "$modprobe_path" >/proc/sys/kernel/modprobe
	check_fail "... and created nothing" ip link show ipsec7
	check "show without the module prints nothing and succeeds" sh -c \
		'[ -z "$(ipsecif show)" ] && [ "$(ipsecif -j)" = "[]" ]'
else
	skip "missing module" "ipsecif could not be unloaded"
fi
ksft_exit
