#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Netlink attributes of kind "ipsec" are validated strictly, and
# IFLA_LINK_NETNSID means the same on every kernel: the device's birth
# namespace (where its SAs, policies and link are, and its if_id is taken)
# is the link namespace; the device itself lives where it was created.
#
# Namespaces: N (attribute checks); X, where requests are made, and Y, the
# link namespace X knows as netnsid 5.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
mkns N X Y
nlin() { local ns=$1; shift; ip netns exec "$ns" python3 "$SELFTESTS/ipsecnl.py" "$@"; }

# --- strict attributes ------------------------------------------------------
err_is "if_id 0 is refused by the policy" "out of range" nlin "$N" add t0 if_id 0
err_is "an 8-byte if_id is refused (no warning, no truncation)" "" \
	nlin "$N" add t0 if_id_u64 7
err_is "a 2-byte if_id is refused" "" nlin "$N" add t0 if_id_u16 7
err_is "an 8-byte link is refused" "" nlin "$N" add t0 if_id 7 link_u64 1
check_fail "... and none of them created a device" ip -n "$N" link show t0
check "a well-formed request works" nlin "$N" add t0 if_id 7
err_is "changing with an 8-byte if_id is refused" "" nlin "$N" set t0 if_id_u64 8
check_eq "... and the device is unchanged" "kind ipsec link 0 if_id 7" \
	"$(nlin "$N" show t0 2>&1)"
check "its if_id 7 and 8 are usable" sh -c \
	"ip netns exec $N python3 $SELFTESTS/ipsecnl.py set t0 if_id 8 &&
	 ip netns exec $N python3 $SELFTESTS/ipsecnl.py add t1 if_id 7"

# --- IFLA_LINK_NETNSID -----------------------------------------------------------
ip -n "$X" netns set "$Y" 5
ip -n "$Y" link add dummy9 index 4242 type dummy
ifidx=$(ip -n "$Y" -j link show dummy9 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
check_fail "(ifindex $ifidx does not exist in X)" sh -c "ip -n $X -o link | grep -q \"^$ifidx:\""
check "create in X with link-netnsid 5 (Y) and Y's dummy9 as link" \
	nlin "$X" add lk if_id 77 link "$ifidx" link_netnsid 5
check "the device lives in X" ip -n "$X" link show lk
check_fail "... not in Y" ip -n "$Y" link show lk
check_eq "its link is Y's dummy9" "kind ipsec link $ifidx if_id 77" "$(nlin "$X" show lk 2>&1)"
check "ip -d link in X names the link namespace" \
	link_info_has -E "$X" lk "link-netns $Y|link-netnsid 5"
err_is "its if_id is taken in Y, its birth namespace" "already used" \
	nlin "$Y" add other if_id 77
check "... and free in X" nlin "$X" add other if_id 77
err_is "without link-netnsid, the link is looked up in X" "link device not found" \
	nlin "$X" add lk2 if_id 78 link "$ifidx"
ip netns del "$Y"
check "deleting Y, its birth namespace, deletes the device in X" \
	wait_for 50 no_link "$X" lk

ksft_exit
