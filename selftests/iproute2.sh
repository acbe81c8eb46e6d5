#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The iproute2 plugin link_ipsec.so: ip link add/set ... type ipsec with
# every option, ip -d [-j] link show, help text and bad input, with the ip
# of the root the VM booted (iproute2 6.1 on bookworm, 7.x on sid).
#   - ip finds the plugin (ip link help ipsec)
#   - add with dev and if_id: the kernel has them, ip -d [-j] shows them
#   - set if_id, set dev, set nodev (text and JSON then show no dev)
#   - add with no options (if_id from the name); dev and a hex if_id in
#     one set; type ipsec help prints the usage
#   - a link that does not exist yet: accepted by name, shown absent
#   - bad input: if_id out of range, unknown option, missing value, a taken
#     if_id, no if_id: refused with a message, nothing created or changed
#
# Topology: no wire. One namespace N with dummies eth0 and eth1.
source "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || ksft_skip_all "jq not installed"
load_module || ksft_skip_all "ipsecif module not available"
info "$(ip -V)"
unset IP_LIB_DIR

mkns N
ipn() { ip -n "$N" "$@"; }
kern() { ip netns exec "$N" python3 "$SELFTESTS/ipsecnl.py" show "$1"; }
idx() { ipn -j link show "$1" | jq '.[0].ifindex'; }
dj() { ipn -d -j link show "$1" | jq -e ".[0].linkinfo | $2" >/dev/null; }
ipn link add eth0 type dummy
ipn link add eth1 type dummy

check "ip finds link_ipsec.so where it looks (ip link help ipsec)" sh -c \
	'ip link help ipsec 2>&1 | grep -q "if_id IF_ID"'
check "ip link add ... type ipsec dev eth0 if_id 42" \
	ipn link add ipsec1 type ipsec dev eth0 if_id 42
check_eq "... the kernel has link eth0 and if_id 42" \
	"kind ipsec link $(idx eth0) if_id 42" "$(kern ipsec1)"
check "ip -d link show prints 'ipsec dev eth0 if_id 42'" \
	link_info_has "$N" ipsec1 'ipsec dev eth0 if_id 42'
check "ip -d -j link show has kind, dev and if_id" dj ipsec1 \
	'.info_kind == "ipsec" and .info_data.dev == "eth0" and .info_data.if_id == 42'
check "ip link set ... type ipsec if_id 43" ipn link set ipsec1 type ipsec if_id 43
check_eq "... if_id is 43, link unchanged" \
	"kind ipsec link $(idx eth0) if_id 43" "$(kern ipsec1)"
check "ip link set ... type ipsec dev eth1" ipn link set ipsec1 type ipsec dev eth1
check "... JSON shows dev eth1" dj ipsec1 '.info_data.dev == "eth1" and .info_data.if_id == 43'
check "ip link set ... type ipsec nodev" ipn link set ipsec1 type ipsec nodev
check_eq "... detached" "kind ipsec link 0 if_id 43" "$(kern ipsec1)"
check "... text says nodev" link_info_has "$N" ipsec1 'ipsec nodev if_id 43'
check "... JSON has no dev" dj ipsec1 '(.info_data | has("dev") | not) and .info_data.if_id == 43'
check "ip link add ipsec3 type ipsec (no options): if_id 3" \
	ipn link add ipsec3 type ipsec
check_eq "... if_id 3" "kind ipsec link 0 if_id 3" "$(kern ipsec3)"
check "ip link set with dev and if_id together" \
	ipn link set ipsec3 type ipsec dev eth0 if_id 0x100
check_eq "... both applied (hex if_id accepted)" \
	"kind ipsec link $(idx eth0) if_id 256" "$(kern ipsec3)"
check "ip link add ... type ipsec help prints usage" sh -c \
	"ip -n $N link add x type ipsec help | grep -q 'dev PHYS_DEV'"

# Bad input: refused, nothing changes.
err_is "if_id 0 is refused" "if_id must be" ipn link add bad type ipsec if_id 0
err_is "if_id 2^32 is refused" "if_id must be" ipn link add bad type ipsec if_id 4294967296
err_is "a negative if_id is refused" "if_id must be" ipn link add bad type ipsec if_id -1
check "a device that does not exist yet is accepted (by name)" \
	ipn link add wait1 type ipsec dev nosuch0 if_id 9
check "... and shown as absent" link_info_has "$N" wait1 'dev nosuch0 (absent)'
check_eq "... JSON link_state absent" absent \
	"$(ipn -d -j link show wait1 | jq -r '.[0].linkinfo.info_data.link_state')"
check "ip link del wait1" ipn link del wait1
err_is "an unknown option is refused with usage" "Usage:" \
	ipn link add bad type ipsec colour blue
err_is "a missing value is refused" "needs a value" ipn link add bad type ipsec if_id
err_is "the kernel's message for a duplicate if_id is shown" "already used" \
	ipn link add bad type ipsec if_id 43
err_is "a name without if_id gets the kernel's message" "if_id" \
	ipn link add bad type ipsec
check_fail "... none of these created a device" ipn link show bad
err_is "set to a duplicate if_id is refused" "already used" \
	ipn link set ipsec3 type ipsec if_id 43
check_eq "... and ipsec3 is unchanged" \
	"kind ipsec link $(idx eth0) if_id 256" "$(kern ipsec3)"
check "ip link del works" ipn link del ipsec3
ksft_exit
