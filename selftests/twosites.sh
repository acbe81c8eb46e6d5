# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Two sites joined through a router by two ISPs, a tunnel over each that
# strongSwan brings up, and the measuring of a failover between them:
# what failover.sh (kernel routes) and frr.sh (routing daemons) share.
# Sourced after lib.sh; twosites_init builds it.
#
# Topology: A isp1 10.0.1.1 -- R -- 10.0.3.1 isp1 B; A isp2 10.0.2.1 --
# R -- 10.0.4.1 isp2 B. LANs (dummy lan0): A 10.1.0.1/24 fd01::1/64, B
# 10.2.0.1/24 fd02::1/64. ipsec0 (if_id 16384) goes over isp1 and ipsec1
# (if_id 1) over isp2, on both gateways, each with its IKE SA (DPD on).

# twosites_init NAME: namespaces A, B and R, the underlays and LANs, $WORK
# (kept with the captures after a failure), CUTS; skips the test without
# strongSwan, tcpdump or the module
twosites_init() {
	local side ns net dev rdev
	[ -x "$CHARON" ] && command -v swanctl >/dev/null ||
		ksft_skip_all "strongSwan (charon, swanctl) not installed"
	command -v tcpdump >/dev/null || ksft_skip_all "tcpdump not installed"
	load_module || ksft_skip_all "ipsecif module not available"
	mkns A B R || ksft_skip_all "cannot create namespaces"
	WORK=$(mktemp -d "/tmp/ipsecif-$1.XXXXXX")
	chmod 755 "$WORK"	# daemons that drop root write their logs here
	trap 'cleanup; twosites_on_exit; keep_artifacts "$WORK"; rm -rf "$WORK"' EXIT
	CUTS=${CUTS:-3}
	# DPD gives a silent peer up after 2 + 2.8 + 3.9 + 5.5 s: a busy TCG
	# guest may take over a second to answer (the first SA loads AES-GCM).
	export IKE_RETRANSMIT_TIMEOUT=2 IKE_RETRANSMIT_BASE=1.4 IKE_RETRANSMIT_TRIES=3
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
	for side in "A 1 isp1 a1" "A 2 isp2 a2" "B 3 isp1 b1" "B 4 isp2 b2"; do
		read -r ns net dev rdev <<<"$side"
		veth "${!ns}" $dev 10.0.$net.1/24 "$R" $rdev 10.0.$net.254/24 ||
			ksft_skip_all "cannot create veth"
	done
	ip -n "$A" route add 10.0.3.0/24 via 10.0.1.254 dev isp1
	ip -n "$A" route add 10.0.4.0/24 via 10.0.2.254 dev isp2
	ip -n "$B" route add 10.0.1.0/24 via 10.0.3.254 dev isp1
	ip -n "$B" route add 10.0.2.0/24 via 10.0.4.254 dev isp2
	for ns in "$A" "$B"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1
	done
	site_lan "$A" 10.1.0.1/24 fd01::1/64 || ksft_skip_all "cannot create dummy devices"
	site_lan "$B" 10.2.0.1/24 fd02::1/64
}
# twosites_on_exit: what the test adds to the cleanup (it may redefine it)
twosites_on_exit() { :; }
# After a failure the captures go with the logs (keep_artifacts), before
# lib.sh's cleanup (which ksft_exit calls too) deletes them.
eval "$(declare -f cleanup | sed '1s/^cleanup/lib_cleanup/')"
cleanup() {
	# shellcheck disable=SC2154 # lib.sh counts the failures
	[ "$_fail" = 0 ] || [ -z "${CAPDIR:-}" ] || [ -z "${WORK:-}" ] ||
		cp "$CAPDIR"/*.pcap "$WORK"/ 2>/dev/null
	lib_cleanup
}
site_lan() {	# site_lan NS LAN4 LAN6
	ip -n "$1" link add lan0 type dummy &&
	ip -n "$1" link set lan0 up &&
	ip -n "$1" addr add "$2" dev lan0 &&
	ip -n "$1" addr add "$3" dev lan0 nodad
}

# --- strongSwan ---------------------------------------------------------------
# conf ME: swanctl.conf of gateway ME (a initiates and restarts, b
# answers): an IKE SA over each ISP, its CHILD_SA's if_id that of ipsec0
# (isp1) or ipsec1 (isp2); traffic selectors TS_A (A's side) and TS_B,
# by default the two LANs
conf() {
	local me=$1 peer=b dpd=restart start=start n if_id la ra
	local lts=${TS_A:-10.1.0.0/24,fd01::/64} rts=${TS_B:-10.2.0.0/24,fd02::/64}
	[ "$me" = b ] && peer=a dpd=clear start=none lts=$rts rts=${TS_A:-10.1.0.0/24,fd01::/64}
	echo "connections {"
	for n in 1 2; do
		if_id=16384
		[ $n = 2 ] && if_id=1
		la=10.0.$n.1 ra=10.0.$((n + 2)).1
		[ "$me" = b ] && la=10.0.$((n + 2)).1 ra=10.0.$n.1
		cat <<CONF
	isp$n {
		version = 2
		local_addrs = $la
		remote_addrs = $ra
		proposals = aes128gcm16-prfsha256-ecp256
		dpd_delay = 2s
		keyingtries = 0
		mobike = no
		local {
			auth = psk
			id = $me-isp$n
		}
		remote {
			auth = psk
			id = $peer-isp$n
		}
		children {
			net$n {
				local_ts = $lts
				remote_ts = $rts
				esp_proposals = aes128gcm16
				if_id_in = $if_id
				if_id_out = $if_id
				dpd_action = $dpd
				start_action = $start
			}
		}
	}
CONF
	done
	cat <<CONF
}
secrets {
	ike {
		id-a1 = a-isp1
		id-a2 = a-isp2
		id-b1 = b-isp1
		id-b2 = b-isp2
		secret = "ipsecif two sites secret"
	}
}
CONF
}
# ike_up: both charons (re)started with their configs; a initiates both.
# Run it with here, not require: the charons' pids must stay in this shell.
ike_up() {
	ike_stop
	PHASE=$((${PHASE:-0} + 1))
	local me
	for me in a b; do
		[ -d "$WORK/$me" ] && mv "$WORK/$me" "$WORK/$me.$PHASE"
	done
	ike_start "$B" "$WORK/b" && ike_start "$A" "$WORK/a" || return 1
	conf b >"$WORK/b/swanctl.conf"
	conf a >"$WORK/a/swanctl.conf"
	swan "$WORK/b" --load-all --file "$WORK/b/swanctl.conf" >/dev/null &&
	swan "$WORK/a" --load-all --file "$WORK/a/swanctl.conf" >/dev/null
}
# up NS DEV: DEV's tunnel is up in NS
up() { [ "$(ip -n "$1" -d -j link show "$2" | jq -r '.[0].linkinfo.info_data.tunnel')" = up ]; }
both_up() { up "$A" ipsec0 && up "$A" ipsec1 && up "$B" ipsec0 && up "$B" ipsec1; }
# sa_monitors: a stamped `ip xfrm monitor SA` of A and of B ($WORK/sa-NS.log)
sa_monitors() {
	local ns
	for ns in "$A" "$B"; do
		ip -n "$ns" -ts xfrm monitor SA >"$WORK/sa-$ns.log" 2>&1 &
		BG_PIDS+=($!)
	done
}
# deleted_after NS T SRC: when the outbound SA from SRC was deleted in NS
# after T, from the stamped xfrm monitor of NS (epoch s)
deleted_after() {
	local stamp e
	stamp=$(awk -v src="$3" '/Deleted src/ && $0 ~ "src " src " " { print $1 }' "$WORK/sa-$1.log" |
		tr -d '[]' | while read -r stamp; do
			e=$(date -d "$stamp" +%s.%N)
			awk -v e="$e" -v t="$2" 'BEGIN { if (e > t) print e }'
		done | head -1)
	[ -n "$stamp" ] && echo "$stamp"
}

# --- the router ---------------------------------------------------------------
# (not named cut and restore: a function cut would shadow cut(1))
isp1_cut() { ip netns exec "$R" nft -f - <<'NFT'
table inet cut {
	chain cutter {
		type filter hook forward priority 0; policy accept;
		iifname "a1" drop
		iifname "b1" drop
	}
}
NFT
}
isp1_restore() { ip netns exec "$R" nft delete table inet cut; }
# captures_start, captures_stop: on the router's four underlay devices
# (captures_start with here, not require: CAPDIR and the pids must stay)
captures_start() {
	local dev
	for dev in a1 a2 b1 b2; do
		capture_start "$R" $dev || return 1
	done
}
captures_stop() {	# each capture complete (capture_stop stops CAP_PID)
	while [ ${#CAP_PIDS[@]} -gt 0 ]; do
		CAP_PID=${CAP_PIDS[0]}
		capture_stop
	done
}

# --- measuring ------------------------------------------------------------------
# Pings from SRC4 and SRC6 (A's LAN, 10.1.0.1 and fd01::1 by default) to
# B's LAN, 50 a second, each answer stamped (ping -D): the outage is the
# gap in the answers. pings_start NAME logs into $WORK/NAME-ping4.log and
# NAME-ping6.log.
pings_start() {
	local f src dst
	PINGS=$1
	for f in 4 6; do
		src=${SRC4:-10.1.0.1} dst=10.2.0.1
		[ $f = 6 ] && src=${SRC6:-fd01::1} dst=fd02::1
		ip netns exec "$A" timeout -k 5 "$LIFE" ping -D -n -i 0.02 -W 1 -I "$src" $dst \
			>"$WORK/$PINGS-ping$f.log" 2>&1 &
		PING_PIDS+=($!)
		BG_PIDS+=($!)
	done
}
pings_stop() {
	local pid
	for pid in "${PING_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	PING_PIDS=()
}
# answered_after T: each family has an answer stamped after T (epoch s)
answered_after() {
	local f
	for f in 4 6; do
		awk -v t="$1" -F'[][]' '/bytes from/ && $2 > t { ok = 1 } END { exit !ok }' \
			"$WORK/$PINGS-ping$f.log" || return 1
	done
}
# first_answer T: the first answer after T, the later of the two families
first_answer() {
	local f a=0 x
	for f in 4 6; do
		x=$(awk -v t="$1" -F'[][]' '/bytes from/ && $2 > t { print $2; exit }' \
			"$WORK/$PINGS-ping$f.log")
		[ -n "$x" ] || return 1
		a=$(echo "$a $x" | awk '{ print ($2 > $1) ? $2 : $1 }')
	done
	echo "$a"
}
# latest N TIME...: the latest TIME, if all N are there
latest() {
	local n=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v n="$n" 'NF { k++; t = $1 } END { if (k == n) print t }'
}
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# stats LIST: "median max" of the numbers in LIST
stats() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'; }
# here DESC CMD...: require's setup step, CMD run in this shell, not in
# check's $(...): it starts daemons (or sets variables) this shell keeps
# (their pids, for cleanup to stop)
here() {
	local desc=$1 rc=0
	shift
	"$@" >"$WORK/here.out" 2>&1 || rc=$?
	[ $rc = 0 ] || tail -5 "$WORK/here.out" | sed 's/^/#   /'
	require "$desc" test $rc = 0
}
# diag WHAT: both gateways' state into $WORK/diag-WHAT.txt (kept with the
# logs after a failure; twosites_diag NS adds the test's own), their xfrm
# errors into the TAP output
twosites_diag() { :; }
diag() {
	local ns f=$WORK/diag-$1.txt
	for ns in "$A" "$B"; do
		{
			echo "== $ns"
			ip -n "$ns" -s -d link show ipsec0
			ip -n "$ns" -s -d link show ipsec1
			ip netns exec "$ns" ethtool -S ipsec0
			ip netns exec "$ns" ethtool -S ipsec1
			ip -n "$ns" route show
			ip -n "$ns" -6 route show
			ip -n "$ns" xfrm state | grep -v 'aead\|enc \|auth'
			ip -n "$ns" xfrm policy
			ip netns exec "$ns" cat /proc/net/xfrm_stat
			twosites_diag "$ns"
		} >>"$f" 2>&1
		info "$1: $ns xfrm errors: $(ip netns exec "$ns" awk '$2 != 0' /proc/net/xfrm_stat | tr '\n' ' ')"
	done
}
# check_no_clear EXTRA: no packet of either LAN in clear on any underlay,
# nor what the pcap filter EXTRA names (captures stopped)
check_no_clear() {
	local dev f='net 10.1.0.0/24 or net 10.2.0.0/24 or net fd01::/64 or net fd02::/64'
	for dev in a1 a2 b1 b2; do
		check_none "no LAN packet${1:+, $2,} in clear on $dev" "$R" $dev "$f${1:+ or $1}"
	done
}
# outage WHAT T0 TD DESC: answers come after TD (the path declared dead;
# T0 if unknown) within 20 s (DESC checks it): the outage from T0 and
# from TD to the first answer after TD go to GAPS and DEAD; else diag WHAT
outage() {
	local what=$1 t0=$2 td=$3 ta
	if check "$4" within 20 answered_after "${td:-$t0}" && [ -n "$td" ] &&
		ta=$(first_answer "$td"); then
		GAPS+=("$(ms "$t0" "$ta")")
		DEAD+=("$(ms "$td" "$ta")")
		info "$what: dead after $(ms "$t0" "$td")ms, traffic after $(ms "$t0" "$ta")ms"
	else
		diag "$what"
	fi
}
# outage_report WHAT EVENT DEAD: GAPS and DEAD as TAP comments (median
# and max, from EVENT and from DEAD); DMAX: DEAD's max
outage_report() {
	local med max
	read -r med max <<<"$(stats "${GAPS[*]}")"
	info "$1: outage from $2 ${med}ms median, ${max}ms max (${GAPS[*]})"
	read -r med DMAX <<<"$(stats "${DEAD[*]}")"
	info "... from $3 to the first answer ${med}ms median, ${DMAX}ms max (${DEAD[*]})"
}
# within S CMD...: wait_for bounded by time, not tries (S seconds): for
# predicates that take a while under TCG (vtysh, several ip calls)
within() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			"$@" >/dev/null
			return
		fi
		sleep 0.2
	done
}
