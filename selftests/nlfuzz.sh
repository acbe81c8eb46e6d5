#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# alone: unloads and reloads ipsecif
# Thousands of random and malformed RTM_NEWLINK/RTM_SETLINK requests for
# kind "ipsec" (nlfuzz.py), as root in a fresh namespace and as nobody in
# a user+net namespace of its own: every request answered cleanly, the
# devices exactly as the model of the successful requests says (a refused
# request changes nothing), every if_id reusable afterwards.
#   NLFUZZ_SEED=N another seed (default fixed, so that make check
#   is reproducible; NLFUZZ_SEED=random picks one), NLFUZZ_COUNT=N requests
#   as root (default 1400; half as nobody).
source "$(dirname "$0")/lib.sh"

COUNT=${NLFUZZ_COUNT:-1400}
UCOUNT=${NLFUZZ_UCOUNT:-$((COUNT / 2))}
SEED=${NLFUZZ_SEED:-844013820}
[ "$SEED" = random ] && SEED=$((RANDOM * 32768 + RANDOM))
info "seed $SEED (NLFUZZ_SEED=$SEED reproduces), $COUNT requests as root, $UCOUNT as nobody"

load_module || ksft_skip_all "ipsecif module not available"
modprobe dummy 2>/dev/null
LOG=$(mktemp -d)
trap 'cleanup; rm -rf "$LOG"' EXIT

init_links() { ip -o link show | awk -F': ' '{print $2}' | sort; }
init_before=$(init_links)

# result FILE KEY: a field of the fuzzer's RESULT line
result() {
	sed -n 's/^RESULT //p' "$1" | python3 -c \
		"import json,sys; d=json.load(sys.stdin); print(d.get('$2', '-'))" 2>/dev/null
}

# verdict WHO FILE RC COUNT: the checks on one fuzzer run
verdict() {
	local who=$1 f=$2 rc=$3 count=$4
	grep '^# ' "$f" | head -40
	check_eq "$who: fuzzer ran to the end (exit 0, RESULT line)" "0 1" \
		"$rc $(grep -c '^RESULT ' "$f")"
	check_eq "$who: all $count requests sent" "$count" "$(result "$f" requests)"
	check_eq "$who: every request answered within the timeout (no hang)" 0 \
		"$(result "$f" hangs)"
	check_eq "$who: no socket error other than netlink errors" 0 \
		"$(result "$f" sock_errors)"
	check_eq "$who: errors are valid negative errnos" 0 "$(result "$f" bad_errno)"
	check_eq "$who: devices always match the model (refused = unchanged)" 0 \
		"$(result "$f" mismatches)"
	check_eq "$who: ... also when a netns move (IFLA_NET_NS_FD/IFLA_TARGET_NETNSID) fails" 0 \
		"$(result "$f" mismatches_move)"
	check_eq "$who: no invalid request accepted" 0 "$(result "$f" unexpected_ok)"
	check_eq "$who: no valid request refused" 0 "$(result "$f" unexpected_fail)"
	check_ge "$who: at least 5% of requests succeeded" $((count / 20)) \
		"$(result "$f" acked)"
	check_ge "$who: at least 20% were refused" $((count / 5)) "$(result "$f" refused)"
	check_eq "$who: deleting every device leaves none" 0 "$(result "$f" leftovers)"
	check_ge "$who: if_ids to reuse" 10 "$(result "$f" reuse_tried)"
	check_eq "$who: every used if_id is reusable (one device each)" \
		"0 $(result "$f" reuse_tried)" \
		"$(result "$f" reuse_failed) $(result "$f" reuse_present)"
	check_eq "$who: no device left at the end" 0 "$(result "$f" final_devices)"
	info "$who: $(sed -n 's/^RESULT //p' "$f")"
}

# --- as root, in a fresh namespace -----------------------------------------
mkns F
ip -n "$F" link add fzd0 type dummy
ip -n "$F" link add fzd1 type dummy
check_eq "root: the namespace has no netns ids (random ones are invalid)" "" \
	"$(ip -n "$F" netns list-id 2>/dev/null)"
start=$(date +%s)
NLFUZZ_SEED=$SEED timeout "$LIFE" ip netns exec "$F" \
	python3 "$SELFTESTS/nlfuzz.py" "$COUNT" >"$LOG/root.out" 2>"$LOG/root.err"
rc=$?
info "root: $(( $(date +%s) - start ))s"
[ -s "$LOG/root.err" ] && sed 's/^/# stderr: /' "$LOG/root.err" | tail -5
verdict root "$LOG/root.out" $rc "$COUNT"
check_eq "root: the dummies are untouched" "fzd0 fzd1" \
	"$(ip -n "$F" -o link show type dummy | awk -F': ' '{print $2}' | sort | xargs)"
ip netns del "$F"

# --- as nobody, in a user+net namespace of its own --------------------------
if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	skip "nobody: fuzz in an own user+net namespace" "no setpriv/unshare"
elif ! timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare -Urn true 2>/dev/null; then
	skip "nobody: fuzz in an own user+net namespace" "unprivileged user namespaces disabled"
else
	start=$(date +%s)
	NLFUZZ_SEED=$((SEED + 1)) timeout "$LIFE" setpriv --reuid=65534 --regid=65534 \
		--clear-groups unshare -Urn sh -c '
		ip link set lo up && ip link add fzd0 type dummy &&
		ip link add fzd1 type dummy || exit 9
		[ -z "$(ip netns list-id)" ] || exit 8
		exec python3 "$1/nlfuzz.py" "$2"' sh "$SELFTESTS" "$UCOUNT" \
		>"$LOG/user.out" 2>"$LOG/user.err"
	rc=$?
	info "nobody: $(( $(date +%s) - start ))s (seed $((SEED + 1)))"
	[ -s "$LOG/user.err" ] && sed 's/^/# stderr: /' "$LOG/user.err" | tail -5
	verdict nobody "$LOG/user.out" $rc "$UCOUNT"
fi

check_eq "the initial namespace's devices are unchanged" "$init_before" "$(init_links)"
check "the module unloads afterwards" unload_module
check "and loads again" load_module

ksft_exit
