#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ipsecif monitor: a line, or a JSON object, per event of the namespace's
# ipsec devices, until SIGINT or SIGTERM:
#   - devices added (if_id, link, linkstate, tunnel), set up and down,
#     detached, attached (also to a link that does not exist yet),
#     renamed, given another if_id, moved to another namespace, removed
#   - the tunnel down with its reason, then up (linkstate dormant)
#   - SAs of both families added, rekeyed (a new SA beside the old one:
#     "replaces spi"), deleted, soft and hard expiry, a flush; SAs of an
#     if_id no device has are not shown
#   - text and JSON say the same; every JSON line parses
#   - events lost (the monitor stopped while thousands of events
#     overflow its socket): a line says so, the state is read again and
#     what changed meanwhile is printed; nothing silently missing
#   - SIGTERM and SIGINT: exit 0
#
# Topology: wire() A -- B; the monitors run in A.
source "$(dirname "$0")/lib.sh"

command -v ipsecif >/dev/null || ksft_skip_all "ipsecif tool not installed"
command -v jq >/dev/null || ksft_skip_all "jq not installed"
load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"
OUT=$(mktemp -d)
trap 'cleanup; rm -rf "$OUT"' EXIT
ipa() { ip -n "$A" "$@"; }

# mon NAME [ARGS]: ipsecif ARGS monitor in A, output in $OUT/NAME; MON_PID
mon() {
	ip netns exec "$A" ipsecif "${@:2}" monitor >"$OUT/$1" 2>"$OUT/$1.err" &
	MON_PID=$!
	BG_PIDS+=("$MON_PID")
}
# has FILE PATTERN: a line of the monitor's output matches (grep -E)
has() {
	grep -qE -- "$2" "$OUT/$1" && return 0
	echo "expected a line matching '$2' in the monitor's output:" >&2
	tail -5 "$OUT/$1" >&2
	return 1
}
lacks() {
	! grep -qE -- "$2" "$OUT/$1" && return 0
	echo "expected no line matching '$2' in the monitor's output" >&2
	return 1
}
# sees DESC PATTERN [JQ]: the text monitor prints a matching line, and the
# JSON one an object for which the jq filter JQ is true
sees() {
	check "$1" wait_for 150 has text "$2"
	[ -n "${3:-}" ] && check "... and in JSON" wait_for 150 json_has "$3"
}
json_has() {
	jq -e -s "any(.[]; $1)" "$OUT/json" >/dev/null && return 0
	echo "expected a JSON event with $1; the last ones:" >&2
	tail -3 "$OUT/json" >&2
	return 1
}

mon text
TEXT_PID=$MON_PID
mon json -j
JSON_PID=$MON_PID
# listening: both monitors reported a device made after they started
# (made again at each try: made before a monitor listened, it is part of
# the state it read at start, and not an event)
listening() {
	has text 'ipsec99: added' 2>/dev/null && has json '"device":"ipsec99"' 2>/dev/null &&
		return 0
	ipa link del ipsec99 2>/dev/null
	ipa link add ipsec99 type ipsec
	return 1
}
require "both monitors listen" wait_for 150 listening

# --- devices -----------------------------------------------------------------
ip netns exec "$A" ipsecif add ipsec1 dev veth0 linkstate dormant
sees "added: if_id, link, linkstate, tunnel down and why" \
	'ipsec1: added: if_id 1, link veth0, linkstate dormant, tunnel down: no outbound policy$' \
	'.event == "added" and .device == "ipsec1" and .if_id == 1 and .link == "veth0" and .linkstate == "dormant" and .tunnel == "down" and .tunnel_down_reason == "no-policy"'
ipa link set ipsec1 up
sees "up" 'ipsec1: up$' '.event == "up" and .device == "ipsec1"'
ipa link set ipsec1 type ipsec nodev
sees "detached" 'ipsec1: detached$' '.event == "detached" and .device == "ipsec1"'
ipa link set ipsec1 type ipsec dev veth0
sees "attached" 'ipsec1: attached to veth0$' \
	'.event == "attached" and .device == "ipsec1" and .link == "veth0"'
ip netns exec "$A" ipsecif set ipsec99 dev wan7
sees "attached to a link that does not exist yet" \
	'ipsec99: attached to wan7 \(absent: waiting for it\)$'
ipa link set ipsec99 type ipsec if_id 77
sees "another if_id" 'ipsec99: if_id 77 \(was 99\)$' \
	'.event == "if_id" and .if_id == 77 and .old_if_id == 99'
ipa link set ipsec99 name tun99
sees "renamed" 'tun99: renamed from ipsec99$' \
	'.event == "renamed" and .device == "tun99" and .old_name == "ipsec99"'

# --- the tunnel and its SAs ----------------------------------------------------
tunnel "$A" $UNDER4_A $UNDER4_B 0x101 0x102 $KEY_AB $KEY_BA 1
sees "an outbound SA added" \
	"ipsec1: SA added: esp spi 0x00000101 $UNDER4_A -> $UNDER4_B reqid 257" \
	'.event == "sa_added" and .device == "ipsec1" and .spi == 257 and .src == "10.0.0.1" and .dst == "10.0.0.2" and .proto == "esp"'
sees "... the inbound one" "ipsec1: SA added: esp spi 0x00000102 $UNDER4_B -> $UNDER4_A"
sees "the tunnel up (linkstate dormant)" 'ipsec1: tunnel up$' \
	'.event == "tunnel" and .device == "ipsec1" and .tunnel == "up"'
# A rekey: the new outbound SA (same addresses, reqid) first, then the
# old one deleted: no tunnel change.
ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x201 reqid 257 \
	mode tunnel if_id 1 flag af-unspec aead 'rfc4106(gcm(aes))' $KEY_AB 128
sees "a rekey: the new SA replaces the old one" \
	"ipsec1: SA rekeyed: esp spi 0x00000201 $UNDER4_A -> $UNDER4_B reqid 257 .*\\(replaces spi 0x00000101\\)" \
	'.event == "sa_rekeyed" and .spi == 513 and .replaces_spi == 257'
ipa xfrm state del src $UNDER4_A dst $UNDER4_B proto esp spi 0x101
sees "the old SA deleted" "ipsec1: SA deleted: esp spi 0x00000101" \
	'.event == "sa_deleted" and .spi == 257'
ipa xfrm state del src $UNDER4_A dst $UNDER4_B proto esp spi 0x201
sees "the last outbound SA deleted: the tunnel down, and why" \
	'ipsec1: tunnel down: no outbound SA$' \
	'.event == "tunnel" and .tunnel == "down" and .tunnel_down_reason == "no-sa"'
ipa xfrm state add src $UNDER6_A dst $UNDER6_B proto esp spi 0x601 reqid 9 mode tunnel \
	if_id 1 aead 'rfc4106(gcm(aes))' $KEY_AB 128 limit time-soft 1 limit time-hard 3
sees "an IPv6 SA added" "ipsec1: SA added: esp spi 0x00000601 $UNDER6_A -> $UNDER6_B reqid 9" \
	'.event == "sa_added" and .src == "fd00::1"'
sees "its soft limit: rekey due" "ipsec1: SA expiring \\(soft limit: rekey due\\): esp spi 0x00000601" \
	'.event == "sa_expired" and .spi == 1537 and .hard == false'
sees "its hard limit: expired" "ipsec1: SA expired \\(hard limit\\): esp spi 0x00000601" \
	'.event == "sa_expired" and .spi == 1537 and .hard == true'
ipa xfrm state add src $UNDER4_A dst $UNDER4_B proto esp spi 0x999 reqid 9 mode tunnel \
	if_id 4242 aead 'rfc4106(gcm(aes))' $KEY_AB 128
ipa xfrm state flush
sees "a flush" 'SAs flushed \(all\)$' '.event == "sa_flushed"'
check "an SA of an if_id no device has is not shown" \
	all lacks text 0x00000999 -- lacks json '"spi":2457'

# --- moved, removed ----------------------------------------------------------------
ipa link set ipsec1 netns "$B"
sees "moved to another namespace" 'ipsec1: moved to another namespace' \
	'.event == "moved" and .device == "ipsec1"'
ipa link del tun99
sees "removed" 'tun99: removed$' '.event == "removed" and .device == "tun99"'
check "every JSON line parses" jq -e -s 'length > 10' "$OUT/json"
check_eq "no error from either monitor" "" "$(cat "$OUT/text.err" "$OUT/json.err")"

# --- lost events -------------------------------------------------------------------
# The text monitor stopped; 10000 link events (about 20 MiB of socket
# buffer) overflow its 8 MiB.
N=5000
kill -STOP $TEXT_PID
for ((i = 0; i < N; i++)); do
	echo "link add churn$i type ipsec if_id $((1000 + i))"
	echo "link del churn$i"
done >"$OUT/batch"
echo "link add ipsec5 type ipsec" >>"$OUT/batch"
ipa -batch "$OUT/batch"
kill -CONT $TEXT_PID
sees "events lost: a line says so" 'events lost \(the receive buffer overflowed\): reading the state again$'
sees "... and the device made meanwhile is reported" 'ipsec5: added: if_id 5'
check "the JSON monitor (not stopped) reports it too" \
	wait_for 300 json_has '.event == "added" and .device == "ipsec5"'

# --- SIGTERM, SIGINT -----------------------------------------------------------
kill -TERM $TEXT_PID
wait $TEXT_PID
check_eq "SIGTERM: exit 0" 0 $?
kill -INT $JSON_PID
wait $JSON_PID
check_eq "SIGINT: exit 0" 0 $?
BG_PIDS=()

ksft_exit
