#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the ipsecif selftests: TAP output (kselftest style,
# exit 4 = skip), network namespaces, and AES-GCM SAs installed by ip xfrm.

KSFT_SKIP=4
_n=0 _fail=0 _skip=0
NSLIST=()
# Background processes for cleanup to stop: tcpdump captures, and any a
# test adds to BG_PIDS (each also bounded by timeout or by itself).
CAP_PIDS=() BG_PIDS=()
# LIFE: the time bound of a helper that must last as long as the test (a
# namespace holder, a monitor, a listener) or of one long step: the
# harness's limit for the whole test (TEST_TIMEOUT), so it cannot run out
# while the test, on a slow or busy machine, still needs it. cleanup stops
# the helpers sooner.
LIFE=${TEST_TIMEOUT:-900}
declare -A CAP_LOG CAP_BASE
SELFTESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

echo "TAP version 13"

ok()   { _n=$((_n + 1)); echo "ok $_n $*"; }
nok()  { _n=$((_n + 1)); _fail=$((_fail + 1)); echo "not ok $_n $*"; }
skip() { _n=$((_n + 1)); _skip=$((_skip + 1)); echo "ok $_n $1 # SKIP $2"; }
todo() { _n=$((_n + 1)); _skip=$((_skip + 1)); echo "ok $_n $1 # TODO $2"; }
info() { echo "# $*"; }

# check DESC CMD...: CMD must succeed.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		nok "$desc"
		echo "$out" | tail -5 | sed 's/^/#   /'
	fi
}

# require DESC CMD...: a setup step. CMD must succeed, or the script
# stops here with what it has so far ("Bail out!"): every check after a
# failed setup would only fail for the same reason.
require() {
	local before=$_fail
	check "$@"
	[ $_fail = "$before" ] && return 0
	echo "Bail out! $1 failed: the checks after it would only repeat that"
	ksft_exit
}

# check_fail DESC CMD...: CMD must fail.
check_fail() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		nok "$desc"
		echo "#   unexpectedly succeeded: $out" | head -3
	else
		ok "$desc"
	fi
}

# err_is [--exit N] DESC MESSAGE CMD...: CMD must fail (with exit code N
# if given) and its output, the kernel's extack message say, contain
# MESSAGE (case does not matter). The one helper for refused input.
err_is() {
	local code= desc want out rc
	if [ "$1" = --exit ]; then
		code=$2
		shift 2
	fi
	desc=$1 want=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		nok "$desc"
		echo "#   unexpectedly succeeded"
	elif [ -n "$code" ] && [ $rc != "$code" ]; then
		nok "$desc"
		echo "#   exit $rc (want $code): $out" | head -3
	elif ! grep -qiF -- "$want" <<<"$out"; then
		nok "$desc"
		echo "#   message: $out" | head -3
	else
		ok "$desc"
	fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		nok "$1"
		echo "#   expected '$2', got '$3'"
	fi
}

# _bound DESC TEST LIMIT ACTUAL WORDS: ok if [ ACTUAL TEST LIMIT ] holds
# as integers; else "expected WORDS LIMIT, got ACTUAL".
_bound() {
	local holds=false
	case $2 in	# one [ ] per operator: shellcheck parses no variable one
	-ge) [ "$4" -ge "$3" ] 2>/dev/null && holds=true ;;
	-le) [ "$4" -le "$3" ] 2>/dev/null && holds=true ;;
	-gt) [ "$4" -gt "$3" ] 2>/dev/null && holds=true ;;
	-lt) [ "$4" -lt "$3" ] 2>/dev/null && holds=true ;;
	esac
	if $holds; then
		ok "$1"
	else
		nok "$1"
		echo "#   expected $5 $3, got '$4'"
	fi
}

# check_ge DESC MIN ACTUAL
check_ge() { _bound "$1" -ge "$2" "$3" "at least"; }

# at_most DESC MAX ACTUAL
at_most() { _bound "$1" -le "$2" "$3" "at most"; }

ksft_exit() {
	cleanup
	echo "1..$_n"
	[ $_fail = 0 ] || exit 1
	[ $_n -gt 0 ] && [ $_skip = $_n ] && exit $KSFT_SKIP
	exit 0
}

ksft_skip_all() {
	echo "# SKIP: $*"
	echo "1..0 # SKIP $*"
	cleanup
	exit $KSFT_SKIP
}

cleanup() {
	local ns pid probe
	[ ${#IKE_PIDS[@]} = 0 ] || ike_stop
	# Captures and other background helpers a test left running.
	for pid in "${CAP_PIDS[@]}" "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	CAP_PIDS=() BG_PIDS=()
	for ns in "${NSLIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NSLIST=()
	[ -n "${CAPDIR:-}" ] && rm -rf "$CAPDIR"
	for probe in "${PROBES[@]}"; do
		probe_del "$probe"
	done
	PROBES=()
}
trap cleanup EXIT

# mkns NAME...: fresh namespaces with lo up; sets variables of those names.
mkns() {
	local var ns
	for var in "$@"; do
		ns=ipsecif-$var-$RANDOM$RANDOM
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
		NSLIST+=("$ns")
		printf -v "$var" '%s' "$ns"
	done
}

# wait_for TRIES CMD...: poll instead of sleeping. The tries are quiet
# but the last: what that one prints on stderr (a predicate's "expected
# ...", below) is left for check to show when wait_for gives up (outside
# check, it goes to the test's stderr).
wait_for() {
	local i tries=$1
	shift
	[ "$tries" -gt 0 ] || return 1
	for ((i = 1; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null && return 0
	return 1
}

# --- predicates --------------------------------------------------------------
# Named conditions for check, check_fail, require, wait_for and tally, in
# place of inline `sh -c "ip ... | grep -q ..."` strings. A predicate is
# quiet when it holds. When it does not, it says on stderr what it
# expected and what it saw instead, e.g.
#   expected a route to 10.2.0.0/24 via ipsec1 (a line matching 'dev ipsec1')
#     ip -n ipsecif-A-123 route show 10.2.0.0/24 printed nothing
# Under a failed check, check shows the last 5 lines its command printed:
# that, at most 5 lines. wait_for keeps it from its last try only, tally
# drops it. Negated (`!`, check_fail), a predicate that holds says
# nothing: hence the negative ones (no_link, no_route, ..._lacks), which
# say what they found. all combines them (&& of `sh -c`).
# NS is a namespace name or "-", the test's own (as for ike_start).
# PATTERN is grep's (a basic regex, -w or -E where a predicate takes
# them); it is matched against what the command printed on stdout, as
# `CMD | grep -q PATTERN` would; the command's stderr (ip's "Device ...
# does not exist") passes on.

_ip() {	# _ip NS ARGS...: ip in NS ("-": this namespace)
	if [ "$1" = - ]; then
		shift
		ip "$@"
	else
		ip -n "$@"
	fi
}
_in() {	# _in NS CMD...: CMD in NS ("-": this namespace)
	if [ "$1" = - ]; then
		shift
		"$@"
	else
		ip netns exec "$@"
	fi
}
_nsname() { if [ "$1" = - ]; then echo "this namespace"; else echo "$1"; fi; }
_cmdline() {	# _cmdline CMD...: CMD as text, _ip and _in spelt out
	case "$1 $2" in
	"_ip -") echo "ip ${*:3}" ;;
	"_in -") echo "${*:3}" ;;
	"_ip "*) echo "ip -n ${*:2}" ;;
	"_in "*) echo "ip netns exec ${*:2}" ;;
	*) echo "$*" ;;
	esac
}

# _expect WHAT WHERE SEEN: say that WHAT was expected and SEEN, the output
# WHERE names (its first 3 lines), was found instead; false. At most 5
# lines, the last check shows.
_expect() {
	local n
	{
		echo "expected $1"
		if [ -z "$3" ]; then
			echo "  $2 nothing"
		else
			n=$(wc -l <<<"$3")
			if [ "$n" -le 3 ]; then
				echo "  $2:"
			else
				echo "  $2 $n lines, the first 3:"
			fi
			head -3 <<<"$3" | sed 's/^/    /'
		fi
	} >&2
	return 1
}

# _grep OPTS PATTERN TEXT: a line of TEXT (there is none if TEXT is empty)
# matches, as for grep -q OPTS -- PATTERN
_grep() { [ -n "$3" ] && grep -q ${1:+"$1"} -- "$2" <<<"$3"; }

# _shows OPTS PATTERN WHAT CMD...: a line of what CMD prints matches
# PATTERN (OPTS: one grep option, or ""); else WHAT was expected.
# _lacks: none does (PATTERN "": CMD prints nothing).
_shows() {
	local o=$1 pat=$2 what=$3 out
	shift 3
	out=$("$@")
	_grep "$o" "$pat" "$out" && return 0
	_expect "$what (a line matching '$pat'${o:+, grep $o})" "$(_cmdline "$@") printed" "$out"
}
_lacks() {
	local o=$1 pat=$2 what=$3 out
	shift 3
	out=$("$@")
	_grep "$o" "$pat" "$out" || return 0
	if [ -z "$pat" ]; then
		_expect "$what (no output)" "$(_cmdline "$@") printed" "$out"
	else
		_expect "$what (no line matching '$pat'${o:+, grep $o})" \
			"$(_cmdline "$@") printed, matching" "$(grep ${o:+"$o"} -- "$pat" <<<"$out")"
	fi
}
_opt() { case $1 in -?*) printf "%s\n" "$1" ;; esac; }	# a leading grep option

# link_exists NS DEV...: each DEV exists in NS (ip link show DEV)
link_exists() {
	local ns=$1 dev
	shift
	for dev in "$@"; do
		_ip "$ns" link show "$dev" >/dev/null && continue
		echo "expected a link $dev in $(_nsname "$ns")" >&2
		return 1
	done
}

# no_link NS DEV: DEV does not exist in NS (ip link show DEV fails)
no_link() {
	local out
	out=$(_ip "$1" link show "$2" 2>/dev/null) || return 0
	_expect "no link $2 in $(_nsname "$1")" "$(_cmdline _ip "$1" link show "$2") printed" "$out"
}

# no_link_of_kind NS KIND [PATTERN]: NS has no link of KIND (ip -o link
# show type KIND prints nothing), or none whose line matches PATTERN
no_link_of_kind() {
	_lacks "" "${3:-}" "no $2 link${3:+ like $3} in $(_nsname "$1")" \
		_ip "$1" -o link show type "$2"
}

# link_has [-w|-E] NS DEV PATTERN: ip link show DEV (its flags, state and
# link) matches. link_info_has: ip -d link show DEV (with its kind and the
# kind's attributes: dev, if_id, link-netns); link_info_lacks: does not.
link_has() {
	local o
	o=$(_opt "$1") && [ -n "$o" ] && shift
	_shows "$o" "$3" "$2 in $(_nsname "$1") to show '$3'" _ip "$1" link show "$2"
}
# flags_are NS DEV [+|-]FLAG...: ip's flags of DEV include each +FLAG and
# no -FLAG (ip says NO-CARRIER for an up device that is not running)
flags_are() {
	local ns=$1 dev=$2 f got
	shift 2
	got=,$(_ip "$ns" -j link show "$dev" | jq -r '.[0].flags | join(",")'),
	for f in "$@"; do
		case $f in
		+*) [[ $got == *,${f#+},* ]] && continue ;;
		-*) [[ $got != *,${f#-},* ]] && continue ;;
		esac
		echo "expected flags $* of $dev, saw $got" >&2
		return 1
	done
}
link_info_has() {
	local o
	o=$(_opt "$1") && [ -n "$o" ] && shift
	_shows "$o" "$3" "$2 in $(_nsname "$1") to show '$3' in its details" \
		_ip "$1" -d link show "$2"
}
link_info_lacks() {
	_lacks "" "$3" "$2 in $(_nsname "$1") not to show '$3' in its details" \
		_ip "$1" -d link show "$2"
}

_fam() { case $1 in *:*) echo -6 ;; esac; }	# -6 for an IPv6 address

# route_via NS PREFIX DEV: NS has a route to PREFIX into DEV (ip route
# show PREFIX, with -6 for an IPv6 PREFIX, says dev DEV)
route_via() {
	local f
	f=$(_fam "$2")
	_shows "" "dev $3" "a route to $2 via $3 in $(_nsname "$1")" _ip "$1" ${f:+"$f"} route show "$2"
}

# no_route NS PREFIX...: NS has no route to any PREFIX (ip route show
# PREFIX, -6 for IPv6, prints nothing)
no_route() {
	local ns=$1 p f
	shift
	for p in "$@"; do
		f=$(_fam "$p")
		_lacks "" "" "no route to $p in $(_nsname "$ns")" _ip "$ns" ${f:+"$f"} route show "$p" ||
			return 1
	done
}

# lookup_via NS ADDR DEV [SRC]: NS routes ADDR into DEV (ip route get
# ADDR says dev DEV, and src SRC after it if given); no_lookup_via: not
# into DEV
lookup_via() {
	local pat="dev $3"
	[ -z "${4:-}" ] || pat="dev $3 .*src $4"
	_shows "" "$pat" "$(_nsname "$1") to route $2 into $3${4:+ from $4}" _ip "$1" route get "$2"
}
no_lookup_via() {
	_lacks "" "dev $3" "$(_nsname "$1") not to route $2 into $3" _ip "$1" route get "$2"
}

# addr4_has NS DEV PATTERN: ip -4 addr show dev DEV matches ('inet
# 10.0.0.1/32'); no_addr4 NS DEV: DEV has no IPv4 address (no line says
# inet)
addr4_has() {
	_shows "" "$3" "$2 in $(_nsname "$1") to have an address like '$3'" \
		_ip "$1" -4 addr show dev "$2"
}
no_addr4() {
	_lacks "" inet "no IPv4 address on $2 in $(_nsname "$1")" _ip "$1" -4 addr show dev "$2"
}

# xfrm_state_has NS PATTERN: a line of ip xfrm state matches ('if_id
# 0x1$'); xfrm_state_lacks: none does. xfrm_policy_has NS PATTERN
# [SHOW-ARGS...]: a line of ip xfrm policy (show SHOW-ARGS) matches.
xfrm_state_has() {
	_shows "" "$2" "an SA like '$2' in $(_nsname "$1")" _ip "$1" xfrm state
}
xfrm_state_lacks() {
	_lacks "" "$2" "no SA like '$2' in $(_nsname "$1")" _ip "$1" xfrm state
}
xfrm_policy_has() {
	local ns=$1 pat=$2 cmd=(xfrm policy)
	shift 2
	[ $# = 0 ] || cmd+=(show "$@")
	_shows "" "$pat" "a policy like '$pat' in $(_nsname "$ns")" _ip "$ns" "${cmd[@]}"
}

# ipsecif_shows NS DEV PATTERN: a line of ipsecif show DEV matches
ipsecif_shows() {
	_shows "" "$3" "ipsecif show $2 in $(_nsname "$1") to say '$3'" _in "$1" ipsecif show "$2"
}

# log_has PATTERN: a line of the kernel log (dmesg) matches; log_lacks:
# none does
log_has() {
	local out
	out=$(dmesg)
	_grep "" "$1" "$out" && return 0
	_expect "'$1' in the kernel log" "dmesg ended with" "$(tail -3 <<<"$out")"
}
log_lacks() {
	_lacks "" "$1" "the kernel log not to say '$1'" dmesg
}

# listens NS tcp|udp PORT: a socket in NS listens on PORT (a line of ss
# -ltn or -uln has ":PORT ")
listens() {
	local o=-ltn
	[ "$2" = udp ] && o=-uln
	_shows "" ":$3 " "a $2 socket on port $3 in $(_nsname "$1")" _in "$1" ss "$o"
}

# lines_ge FILE PATTERN N: at least N lines of FILE match PATTERN
lines_ge() {
	local n
	n=$(grep -c -- "$2" "$1")
	[ "$n" -ge "$3" ] 2>/dev/null && return 0
	echo "expected at least $3 lines like '$2' in $1, got ${n:-none}" >&2
	return 1
}

# all PRED ARGS... [-- PRED ARGS...]...: every predicate holds (tried in
# order, up to the first that does not)
all() {
	local cmd=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			"${cmd[@]}" || return 1
			cmd=()
		else
			cmd+=("$1")
		fi
		shift
	done
	"${cmd[@]}"
}

# Calls of a kernel function, counted by a kprobe (or returns, by a
# kretprobe), named after the test so that tests in parallel lanes do not
# share one. Without kprobes probe_add fails: the caller skips.
#   probe_add NAME p|r [MODULE:]FUNCTION; probe_count NAME; probe_del NAME
#   probe_reaches NAME N: true once the count is N or more (for wait_for)
TRACEFS=/sys/kernel/tracing
PROBES=()
_probe() { echo "ipsecif_$(basename "$0" .sh)_$1"; }
probe_add() {
	local ev
	ev=$(_probe "$1")
	mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS 2>/dev/null
	probe_del "$1"	# a test that stopped halfway left it
	echo "$2:ipsecif/$ev $3" >>$TRACEFS/kprobe_events 2>/dev/null &&
		echo 1 >$TRACEFS/events/ipsecif/"$ev"/enable 2>/dev/null || return 1
	PROBES+=("$1")
}
probe_count() {
	awk -v ev="$(_probe "$1")" '$1 == ev { print $2 }' $TRACEFS/kprobe_profile
}
probe_reaches() { [ "$(probe_count "$1")" -ge "$2" ]; }
probe_del() {
	local ev
	ev=$(_probe "$1")
	[ -d $TRACEFS/events/ipsecif/"$ev" ] || return 0
	echo 0 >$TRACEFS/events/ipsecif/"$ev"/enable
	echo "-:ipsecif/$ev" >>$TRACEFS/kprobe_events
}

load_module() {
	modprobe ipsecif "$@" 2>/dev/null || insmod "$(modinfo -n ipsecif)" "$@"
}

unload_module() {
	modprobe -r ipsecif 2>/dev/null
	! grep -q '^ipsecif ' /proc/modules
}

# Device statistics, e.g. dev_stat NS DEV tx_dropped
dev_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# The JSON fields ipsecif(8) documents in its subsection SS of JSON OUTPUT
# (a ".TP" line, then ".B name"), sorted as jq's keys sorts them, one a
# line: man_json_fields "Device object". json_fields prints the member
# names of the JSON object on stdin the same way.
man_json_fields() {
	awk -v ss=".SS $1" '
		/^\.S[HS] / { on = $0 == ss; next }
		on && prev == ".TP" && /^\.B [a-z_]+$/ { print $2 }
		{ prev = $0 }' "$SELFTESTS/../userspace/ipsecif.8" | LC_ALL=C sort
}
json_fields() {
	jq -r 'keys[]'
}

# The per-cause counters of an ipsec device, as `ethtool -S` shows them:
# counters NS DEV prints "name value" lines; counter NS DEV NAME one value.
counters() {
	ip netns exec "$1" ethtool -S "$2" | awk 'NR > 1 { sub(":$", "", $1); print $1, $2 }'
}
counter() {
	counters "$1" "$2" | awk -v k="$3" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}

# Packets an SA has carried: sa_pk NS SRC DST SPI
sa_pk() {
	ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
		sed -n '/lifetime current/{n;s/.* \([0-9]*\)(packets).*/\1/p}'
}

# Two hosts on one wire: A 10.0.0.1 fd00::1, B 10.0.0.2 fd00::2.
UNDER4_A=10.0.0.1 UNDER4_B=10.0.0.2 UNDER6_A=fd00::1 UNDER6_B=fd00::2
wire() {
	mkns A B || return 1
	wire_link
}
# wire_link: the veth pair of wire() (again, after it was deleted)
wire_link() {
	veth "$A" veth0 $UNDER4_A/24 "$B" veth0 $UNDER4_B/24 || return 1
	ip -n "$A" addr add $UNDER6_A/64 dev veth0 nodad
	ip -n "$B" addr add $UNDER6_B/64 dev veth0 nodad
}

# veth NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a wire between two namespaces, up
veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	ip -n "$1" addr add "$3" dev "$2" &&
	ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$4" link set "$5" up
}

KEY_AB=0x0123456789abcdef0123456789abcdef01234567
KEY_BA=0x89abcdef0123456789abcdef0123456789abcdef

# sa NS SRC DST SPI KEY IF_ID [MODE]: one AES-GCM SA (tunnel: any inner family).
sa() {
	local mode=${7:-tunnel} flag=()
	[ "$mode" = tunnel ] && flag=(flag af-unspec)
	ip -n "$1" xfrm state add src "$2" dst "$3" proto esp spi "$4" reqid "$4" \
		mode "$mode" aead 'rfc4106(gcm(aes))' "$5" 128 if_id "$6" "${flag[@]}"
}

# pol NS DIR SEL_SRC SEL_DST TSRC TDST SPI IF_ID [MODE]
pol() {
	ip -n "$1" xfrm policy add dir "$2" src "$3" dst "$4" if_id "$8" \
		tmpl src "$5" dst "$6" proto esp reqid "$7" mode "${9:-tunnel}"
}

# out_pair SPI PRIORITY DST4 DST6: on A, the outbound SA SPI (to B, if_id
# 1, its reqid SPI) and two outbound policies of if_id 1 to it, from any
# address to DST4 and to DST6, of PRIORITY (lower comes first)
out_pair() {
	local spi=$1 prio=$2 sel src dst
	sa "$A" $UNDER4_A $UNDER4_B "$spi" $KEY_AB 1 || return 1
	for sel in "0.0.0.0/0 $3" "::/0 $4"; do
		read -r src dst <<<"$sel"
		ip -n "$A" xfrm policy add dir out src "$src" dst "$dst" if_id 1 priority "$prio" \
			tmpl src $UNDER4_A dst $UNDER4_B proto esp reqid "$spi" mode tunnel || return 1
	done
}

# tunnel NS LOCAL REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN IF_ID [MODE [SEL4 SEL6]]:
# SAs and policies of one end; by default every inner address, both families.
tunnel() {
	local ns=$1 l=$2 r=$3 so=$4 si=$5 ko=$6 ki=$7 id=$8 mode=${9:-tunnel}
	local sels=("${10:-0.0.0.0/0} ${10:-0.0.0.0/0}" "${11:-::/0} ${11:-::/0}")
	local s src dst
	sa "$ns" "$l" "$r" "$so" "$ko" "$id" "$mode" || return 1
	sa "$ns" "$r" "$l" "$si" "$ki" "$id" "$mode" || return 1
	for s in "${sels[@]}"; do
		[ "$s" = "- -" ] && continue
		read -r src dst <<<"$s"
		pol "$ns" out "$src" "$dst" "$l" "$r" "$so" "$id" "$mode" || return 1
		pol "$ns" in "$src" "$dst" "$r" "$l" "$si" "$id" "$mode" || return 1
		[ "$mode" = tunnel ] || continue
		pol "$ns" fwd "$src" "$dst" "$r" "$l" "$si" "$id" "$mode" || return 1
	done
}

# ipsec_end NS N ME [IP-LINK-ARGS...]: ipsecN (if_id N) in NS attached to
# veth0, with 172.16.N.ME/24 and fd0N::ME/64 (N < 10), up. ARGS go to ip
# link add (mtu 1500, say).
ipsec_end() {
	local ns=$1 n=$2 me=$3
	shift 3
	ip -n "$ns" link add ipsec$n link veth0 "$@" type ipsec &&
	ip -n "$ns" addr add 172.16.$n.$me/24 dev ipsec$n &&
	ip -n "$ns" addr add "$(printf 'fd%02d::%s/64' "$n" "$me")" dev ipsec$n nodad &&
	ip -n "$ns" link set ipsec$n up
}

# pair_spis IF_ID: sets SPI_AB (A to B) and SPI_BA (B to A), the SPIs of
# tunnel_pair IF_ID: 0x10000 + 2 * IF_ID and one more.
pair_spis() {
	printf -v SPI_AB '0x%x' $((0x10000 + 2 * $1))
	printf -v SPI_BA '0x%x' $((0x10001 + 2 * $1))
}

# tunnel_pair IF_ID [SEL4 [SEL6]]: tunnel() on both ends of wire(), A's
# and B's SAs and policies of IF_ID, tunnel mode, AES-GCM with KEY_AB and
# KEY_BA, the SPIs of pair_spis IF_ID. SEL4/SEL6 as tunnel()'s ("-": none
# of that family).
tunnel_pair() {
	local id=$1 sels=("${2:-0.0.0.0/0}" "${3:-::/0}") SPI_AB SPI_BA
	pair_spis "$id"
	tunnel "$A" $UNDER4_A $UNDER4_B $SPI_AB $SPI_BA $KEY_AB $KEY_BA "$id" tunnel "${sels[@]}" &&
	tunnel "$B" $UNDER4_B $UNDER4_A $SPI_BA $SPI_AB $KEY_BA $KEY_AB "$id" tunnel "${sels[@]}"
}

# Host-to-host, both families, the peer's address routed into ipsec1
# (attached to veth0) on each end of wire().
# h2h NS LOCAL4 REMOTE4 LOCAL6 REMOTE6 SPI_OUT SPI_IN KEY_OUT KEY_IN MODE
h2h() {
	local ns=$1 l4=$2 r4=$3 l6=$4 r6=$5 so=$6 si=$7 ko=$8 ki=$9 mode=${10}
	ip -n "$ns" link add ipsec1 link veth0 type ipsec 2>/dev/null
	ip -n "$ns" link set ipsec1 up
	ip -n "$ns" xfrm state flush
	ip -n "$ns" xfrm policy flush
	sa "$ns" "$l4" "$r4" "$so" "$ko" 1 "$mode" &&
	sa "$ns" "$r4" "$l4" "$si" "$ki" 1 "$mode" &&
	pol "$ns" out "$l4/32" "$r4/32" "$l4" "$r4" "$so" 1 "$mode" &&
	pol "$ns" in "$r4/32" "$l4/32" "$r4" "$l4" "$si" 1 "$mode" &&
	sa "$ns" "$l6" "$r6" "$((so + 1))" "$ko" 1 "$mode" &&
	sa "$ns" "$r6" "$l6" "$((si + 1))" "$ki" 1 "$mode" &&
	pol "$ns" out "$l6/128" "$r6/128" "$l6" "$r6" "$((so + 1))" 1 "$mode" &&
	pol "$ns" in "$r6/128" "$l6/128" "$r6" "$l6" "$((si + 1))" 1 "$mode" &&
	ip -n "$ns" route replace "$r4/32" dev ipsec1 src "$l4" &&
	ip -n "$ns" -6 route replace "$r6/128" dev ipsec1 src "$l6"
}

both_ends() {
	h2h "$A" $UNDER4_A $UNDER4_B $UNDER6_A $UNDER6_B 0x500 0x600 $KEY_AB $KEY_BA "$1" &&
	h2h "$B" $UNDER4_B $UNDER4_A $UNDER6_B $UNDER6_A 0x600 0x500 $KEY_BA $KEY_AB "$1"
}

# Capture on an underlay device in the background: capture_start NS DEV
# --immediate-mode hands tcpdump every packet at once (not when a buffer
# fills), -U writes each one out at once, -B leaves room when tcpdump lags
# on a busy machine; timeout bounds it should a test never stop it. Returns
# once tcpdump listens.
capture_start() {
	CAPDIR=${CAPDIR:-$(mktemp -d)}
	local log=$CAPDIR/$1-$2.log
	timeout --foreground -k 5 900 ip netns exec "$1" tcpdump --immediate-mode -U -B 8192 \
		-n -i "$2" -w "$CAPDIR/$1-$2.pcap" >/dev/null 2>"$log" &
	CAP_PID=$!
	CAP_PIDS+=("$CAP_PID")
	CAP_LOG[$CAP_PID]=$log
	wait_for 150 grep -q listening "$log" || return 1
	CAP_BASE[$CAP_PID]="$1 $2 $(_dev_pk "$1" "$2")"
}

_dev_pk() {	# _dev_pk NS DEV: packets the device sent and received
	echo $(($(dev_stat "$1" "$2" rx_packets) + $(dev_stat "$1" "$2" tx_packets)))
}

# tcpdump reports its counts in its log on SIGUSR1: "N packets captured,
# N packets received by filter, N packets dropped by kernel".
_cap_report() {	# _cap_report LOG LINES: a report after the first LINES
	[ "$(grep -c 'received by filter' "$1")" -gt "$2" ]
}
# _cap_complete LOG NS DEV BASE: tcpdump got at least every packet the
# device counted since it listened (none still on its way), and wrote all
# it got: captured + dropped >= received >= device packets - BASE.
_cap_complete() {
	local dev=$(($(_dev_pk "$2" "$3") - $4))
	set -- $(grep 'received by filter' "$1" | tail -1 | tr -cs '0-9' ' ')
	[ $# -ge 3 ] && [ $(($1 + $3)) -ge "$2" ] && [ "$2" -ge "$dev" ]
}

# capture_stop: stop the capture CAP_PID once tcpdump has written every
# packet the device passed (tcpdump lags under TCG, more so on a busy
# host), asking for its counts until they match, for at most about 20 s.
capture_stop() {
	local log=${CAP_LOG[$CAP_PID]:-} base=${CAP_BASE[$CAP_PID]:-} pid n i p left=()
	pid=$(pgrep -P "$CAP_PID" -x tcpdump)
	for ((i = 0; i < 50 && ${#pid} && ${#base}; i++)); do
		n=$(grep -c 'received by filter' "$log")
		kill -USR1 "$pid" 2>/dev/null || break
		wait_for 25 _cap_report "$log" "$n" || break
		_cap_complete "$log" $base && break
		sleep 0.2
	done
	kill -TERM "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	for p in "${CAP_PIDS[@]}"; do
		[ "$p" = "$CAP_PID" ] || left+=("$p")
	done
	CAP_PIDS=("${left[@]}")
}

# capture_count NS DEV FILTER: packets in the capture matching a pcap filter
capture_count() {
	tcpdump -n -r "$CAPDIR/$1-$2.pcap" "$3" 2>/dev/null | wc -l
}

# check_none DESC NS DEV FILTER: no packet in the capture matches; on
# failure the matching packets are shown.
check_none() {
	local n
	if [ ! -s "${CAPDIR:-/nonexistent}/$2-$3.pcap" ]; then
		nok "$1"
		echo "#   no capture of $3 in $(_nsname "$2") to read"
		return
	fi
	n=$(capture_count "$2" "$3" "$4")
	if [ "$n" = 0 ]; then
		ok "$1"
	else
		nok "$1"
		echo "#   $n packets match '$4':"
		tcpdump -n -r "$CAPDIR/$2-$3.pcap" "$4" 2>/dev/null | head -5 | sed 's/^/#   /'
	fi
}

# check_no_clear_ping DESC NS: no ICMP echo request or reply (IPv4 or
# IPv6) in the capture on NS's veth0
check_no_clear_ping() {
	check_none "$1" "$2" veth0 \
		'(icmp and (icmp[0]==8 or icmp[0]==0)) or (icmp6 and (ip6[40]==128 or ip6[40]==129))'
}

# ike_site NS LAN4 [LAN6]: an IKE site: ipsec1 attached to veth0, up, and
# a LAN on dummy lan0
ike_site() {
	ip -n "$1" link add ipsec1 type ipsec dev veth0 &&
	ip -n "$1" link set ipsec1 up &&
	ip -n "$1" link add lan0 type dummy &&
	ip -n "$1" link set lan0 up &&
	ip -n "$1" addr add "$2" dev lan0 || return 1
	[ -z "${3:-}" ] || ip -n "$1" addr add "$3" dev lan0 nodad
}

# ike_sites: the two sites ike.sh and libreswan.sh connect, an ike_site()
# on each end of wire(): A's LAN 10.1.0.1/24 fd01::1/64, B's 10.2.0.1/24
# fd02::1/64
ike_sites() {
	ike_site "$A" 10.1.0.1/24 fd01::1/64
	ike_site "$B" 10.2.0.1/24 fd02::1/64
}

# check_site_to_site: the site-to-site checks ike.sh and libreswan.sh
# share, once their daemons brought up the IPv4 and IPv6 tunnels between
# the LANs of ike_sites(), a capture on B's veth0 running (stopped here):
# the updown helper routed B's LANs into A's ipsec1, pings from A's LAN to
# B's in both families are answered, none of them in clear on the wire,
# ESP there instead, and B's ipsec1 received them.
check_site_to_site() {
	check "site-to-site: updown routed 10.2.0.0/24 into ipsec1" \
		wait_for 50 route_via "$A" 10.2.0.0/24 ipsec1
	check "site-to-site: updown routed fd02::/64 into ipsec1" \
		wait_for 50 route_via "$A" fd02::/64 ipsec1
	check "site-to-site: IPv4 subnet ping" \
		ip netns exec "$A" ping -q -c 3 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1
	check "site-to-site: IPv6 subnet ping" \
		ip netns exec "$A" ping -q -c 3 -i 0.3 -W 2 -I fd01::1 fd02::1
	capture_stop
	check_no_clear_ping "site-to-site: no ping in clear on the wire" "$B"
	check_ge "site-to-site: ESP on the wire" 6 "$(capture_count "$B" veth0 'ip proto 50')"
	check_ge "site-to-site: B's ipsec1 received the pings" 6 "$(dev_stat "$B" ipsec1 rx_packets)"
}

ping_ok() {	# ping_ok NS ADDR
	ip netns exec "$1" ping -q -c 2 -i 0.3 -W 2 "$2" >/dev/null 2>&1
}

rtnl_req() {	# raw rtnetlink requests, printing extack messages
	python3 "$SELFTESTS/ipsecnl.py" "$@"
}

# keep_artifacts DIR: after a failure, copy DIR where the harness keeps
# artifacts (KSFT_ARTIFACTS, set by vm/guest.sh), for the post-mortem.
keep_artifacts() {
	[ "$_fail" = 0 ] || [ -z "${KSFT_ARTIFACTS:-}" ] || [ ! -d "$1" ] && return
	find "$1" -type s -delete 2>/dev/null	# daemons' sockets: not logs
	mkdir -p "$KSFT_ARTIFACTS" && cp -r "$1"/. "$KSFT_ARTIFACTS"/
	echo "# logs kept in $KSFT_ARTIFACTS"
}

# --- strongSwan: one charon per namespace (shared with the demo) ----------
source "$SELFTESTS/strongswan.sh"
