#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads and reloads ipsecif with module parameters
# Device lifecycle, default if_ids, attribute errors, devices at load.
#   - ip link add autoloads the module; default if_ids (ipsecN gets N,
#     ipsec0 16384, ipsec%d a free N), NOARP, MTU 1500
#   - bad attributes refused with the kernel's message, nothing created:
#     no if_id, if_id 0, a taken if_id, unknown or ipsec link, bad MTU
#   - if_id and link at creation and by changelink (atomic), detach,
#     attach, the link deleted, rename, delete, the if_id reused
#   - no CAP_NET_ADMIN: nothing created
#   - 10000 devices (IPSECIF_SCALE_DEVICES) in the per-namespace table
#   - the namespace deleted with its devices, then rmmod
#   - devices=3 at load: ipsec0..2 down, detached, automatic MTU, named
#     by one nft ruleset; rmmod with them; devices=1000 refused
#
# Topology: no wire. One namespace N (dummy0 as a link); devices=3 in the
# initial namespace, ipsec1 attached there to a veth bvl0 -- bvl1.
source "$(dirname "$0")/lib.sh"

unload_module
mkns N
ipn() { ip -n "$N" "$@"; }
nln() { ip netns exec "$N" python3 "$SELFTESTS/ipsecnl.py" "$@"; }
show() { nln show "$1" 2>/dev/null; }

# --- creation, autoload, defaults -------------------------------------------
check "ip link add autoloads the module (MODULE_ALIAS_RTNL_LINK)" \
	ipn link add ipsec1 type ipsec
check "module is loaded" grep -q '^ipsecif ' /proc/modules
check_eq "ipsec1 gets if_id 1 and no link" "kind ipsec link 0 if_id 1" "$(show ipsec1)"
check "ipsec0 can be created" ipn link add ipsec0 type ipsec
check_eq "ipsec0 gets if_id 16384" "kind ipsec link 0 if_id 16384" "$(show ipsec0)"
check "ipsec4097 can be created" ipn link add ipsec4097 type ipsec
check_eq "ipsec4097 gets if_id 4097" "4097" "$(show ipsec4097 | awk '{print $6}')"
check "a template name resolves to ipsecN" ipn link add name 'ipsec%d' type ipsec
check "... and that device exists" ipn link show ipsec2
check_eq "... with if_id 2" "2" "$(show ipsec2 | awk '{print $6}')"
check "kind shows in ip -d link" link_info_has -w "$N" ipsec1 ipsec
check "a detached device shows no link (ipsec1, not ipsec1@NONE)" \
	link_has "$N" ipsec1 ' ipsec1: '
check "device comes up" ipn link set ipsec1 up
check "device is NOARP without link-layer address" \
	link_has "$N" ipsec1 NOARP
check_eq "default MTU is 1500" 1500 "$(ipn -j link show ipsec1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')"

# --- errors: clear message, nothing changes ---------------------------------
err_is "other name without if_id is refused" "if_id is required" \
	ipn link add tun7 type ipsec
check_fail "... and no device was created" ipn link show tun7
err_is "if_id 0 is refused" "out of range" nln add foo if_id 0
check_fail "... and no device was created" ipn link show foo
err_is "duplicate if_id is refused" "already used" nln add foo if_id 1
err_is "duplicate if_id by name is refused" "already used" nln add bar if_id 16384
check_fail "... and no device was created" ipn link show foo
check_fail "... nor the one named bar" ipn link show bar
err_is "unknown link device is refused" "link device not found" \
	nln add foo if_id 50 link 9999
err_is "unknown IFLA_LINK is refused" "link device not found" \
	nln add foo if_id 50 iflink 9999
err_is "an ipsec device as link is refused" "physical device" \
	nln add foo if_id 50 link "$(ipn -j link show ipsec1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')"
err_is "a malformed if_id attribute is refused" "" nln add foo if_id_u16 7
check_fail "... and no device was created" ipn link show foo
err_is "MTU above the maximum is refused" "" ipn link set ipsec1 mtu 70000
err_is "MTU below the minimum is refused" "" ipn link set ipsec1 mtu 60
check_eq "... and the MTU is unchanged" 1500 "$(ipn -j link show ipsec1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')"
check "MTU in range is accepted" ipn link set ipsec1 mtu 1400

# --- attributes and changelink ------------------------------------------------
ipn link add dummy0 type dummy
dummy=$(ipn -j link show dummy0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
check "create with if_id and link" nln add tun1 if_id 100 link "$dummy"
check_eq "... reported back" "kind ipsec link $dummy if_id 100" "$(show tun1)"
check "ip link shows the link as tun1@dummy0" \
	link_has "$N" tun1 tun1@dummy0
check "create with IFLA_LINK (ip link add ... link DEV)" \
	ipn link add ipsec7 link dummy0 type ipsec
check_eq "... reported as the link" "kind ipsec link $dummy if_id 7" "$(show ipsec7)"
check "change if_id at runtime" nln set tun1 if_id 101
check_eq "... new if_id reported" "kind ipsec link $dummy if_id 101" "$(show tun1)"
check "old if_id is free again" nln add tun2 if_id 100
err_is "change to a taken if_id is refused" "already used" nln set tun1 if_id 100
err_is "change to an unknown link is refused" "link device not found" \
	nln set tun1 if_id 555 link 9999
check_eq "... and nothing changed (atomic)" "kind ipsec link $dummy if_id 101" "$(show tun1)"
check "detach (link 0)" nln set tun1 link 0
check_eq "... reported" "kind ipsec link 0 if_id 101" "$(show tun1)"
check "attach again" nln set tun1 link "$dummy"
check "deleting the physical device detaches" ipn link del dummy0
check_eq "... link is 0 afterwards" "kind ipsec link 0 if_id 101" "$(show tun1)"
check "rename keeps the device" ipn link set tun2 name tunnel-two
check_eq "... and its if_id" "kind ipsec link 0 if_id 100" "$(show tunnel-two)"
check "delete" ipn link del tunnel-two
check_fail "... gone" ipn link show tunnel-two
check "its if_id can be reused" nln add tun3 if_id 100

# --- permissions -------------------------------------------------------------
if command -v setpriv >/dev/null; then
	check_fail "creating without CAP_NET_ADMIN fails" \
		ip netns exec "$N" setpriv --reuid=65534 --regid=65534 --clear-groups \
		ip link add ipsec9 type ipsec
	check_fail "... and nothing was created" ipn link show ipsec9
else
	skip "creating without CAP_NET_ADMIN fails" "setpriv not installed"
fi

# --- many devices: the per-netns table (an rhashtable) scales --------------------------------
SCALE=${IPSECIF_SCALE_DEVICES:-10000}
start=$(date +%s)
ip netns exec "$N" python3 - "$SELFTESTS" "$SCALE" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import ipsecnl
for i in range(20000, 20000 + int(sys.argv[2])):
    sys.argv = ["ipsecnl", "add", "x%d" % i, "if_id", str(i)]
    ipsecnl.main()
PY
check_eq "$SCALE devices created" "$SCALE" "$(ipn -o link show | grep -c ": x[23][0-9]*[:@]")"
check_eq "lookups find the right one" "kind ipsec link 0 if_id 20321" "$(show x20321)"
err_is "duplicates are still detected among them" "already used" nln add y if_id 20499
info "$SCALE devices in $(( $(date +%s) - start ))s"

# --- namespace teardown and unload ------------------------------------------
ip netns del "$N"
NSLIST=()
check "namespace with devices is destroyed" wait_for 50 sh -c "! ip netns list | grep -q $N"
check "module unloads" unload_module

# --- devices at load -----------------------------------------------------------
check "modprobe ipsecif devices=3" load_module devices=3
check "ipsec0, ipsec1, ipsec2 exist in the initial namespace" \
	link_exists - ipsec0 ipsec1 ipsec2
check_fail "ipsec3 does not" ip link show ipsec3
check "they are down" link_has - ipsec0 'state DOWN'
check_eq "ipsec0 has if_id 16384, detached" "kind ipsec link 0 if_id 16384" \
	"$(python3 "$SELFTESTS/ipsecnl.py" show ipsec0)"
check_eq "ipsec2 has if_id 2" "kind ipsec link 0 if_id 2" \
	"$(python3 "$SELFTESTS/ipsecnl.py" show ipsec2)"
check_eq "their MTU is automatic, as for ip link add (mtu_auto on)" on \
	"$(ip -d -j link show ipsec1 | jq -r '.[0].linkinfo.info_data.mtu_auto')"
ip link add bvl0 type veth peer name bvl1
check "ipsec1 attached to a veth" ip link set ipsec1 type ipsec dev bvl0
check "... its MTU now fits a tunnel over the veth's 1500" wait_for 50 sh -c \
	"[ \$(cat /sys/class/net/ipsec1/mtu) -lt 1500 ]"
ip link del bvl0
check "nft ruleset naming them loads in one step" nft -f - <<'NFT'
table inet ipsecif_boot {
	chain input {
		type filter hook input priority 0;
		iif ipsec0 counter accept
		iifname "ipsec1" counter accept
	}
}
NFT
nft delete table inet ipsecif_boot 2>/dev/null
check "module unloads with them" unload_module
check_fail "... and they are gone" ip link show ipsec0
check_fail "devices=1000 is refused" load_module devices=1000
check_fail "... and the module is not loaded" grep -q '^ipsecif ' /proc/modules

ksft_exit
