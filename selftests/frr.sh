#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Routing daemons over the tunnels: FRR (zebra, ospfd, ospf6d, bgpd, bfdd)
# started in each site's namespace, strongSwan bringing the tunnels up,
# ipsec0 and ipsec1 in linkstate dormant.
#   - OSPFv2 and OSPFv3 (point-to-point, IPv6 over the kernel's link-local
#     addresses) over both tunnels, equal cost: the other site's LAN has
#     two next hops in the kernel (ipsec0 and ipsec1), both families
#   - ISP 1 cut on the router: DPD deletes ipsec0's SAs, ipsec0 goes
#     DORMANT, zebra takes it down and the OSPF neighbors on it drop at once
#     (long dead intervals: not by a timer); traffic moves to ipsec1;
#     restored: ECMP again
#   - eBGP over both tunnels (a session per family and tunnel) with BFD
#     (300 ms x 3): the same cut, BFD declares the sessions down long before
#     DPD would (the SAs stay); traffic moves to ipsec1; restored: ECMP again
#   - figures (median and max over the cuts): from the cut, and from the
#     path declared dead (the later SA deletion, or the later BFD down), to
#     the first answer after the outage of a flow that used ipsec0; from
#     the tunnels up again (OSPF) or the restore (BGP) to ECMP
#   - no packet of either LAN, and no OSPF, BGP or BFD packet, in clear on
#     any underlay, through every transition (captures on the router)
#
# Topology as failover.sh's: A isp1 10.0.1.1 -- R -- 10.0.3.1 isp1 B; A isp2
# 10.0.2.1 -- R -- 10.0.4.1 isp2 B. LANs (dummy lan0): A 10.1.0.1/24
# fd01::1/64 (and .2-.16, ::2-::10 to pick a flow), B 10.2.0.1/24 fd02::1/64.
# ipsec0 (if_id 16384) on isp1: 172.16.1.A/24 fd10:1::A/64; ipsec1 (if_id 1)
# on isp2: 172.16.2.A/24 fd10:2::A/64 (A = 1 on A, 2 on B). CUTS cuts per
# case (default 3).
source "$(dirname "$0")/lib.sh"

FRR=${FRR:-/usr/lib/frr}
for d in zebra ospfd ospf6d bgpd bfdd; do
	[ -x "$FRR/$d" ] || ksft_skip_all "FRR not installed ($FRR/$d missing: apt-get install frr)"
done
command -v vtysh >/dev/null || ksft_skip_all "FRR's vtysh not installed"
id frr >/dev/null 2>&1 || ksft_skip_all "no user frr (FRR's package makes it)"
source "$SELFTESTS/twosites.sh"
twosites_init frr
twosites_on_exit() { rm -rf "/run/frr/$A" "/run/frr/$B"; }
TS_A="0.0.0.0/0,::/0" TS_B="0.0.0.0/0,::/0"	# route-based: OSPF's multicast too
for ((i = 2; i <= 16; i++)); do	# sources of flows to pick from (pick_flow)
	ip -n "$A" addr add 10.1.0.$i/24 dev lan0
	ip -n "$A" addr add "$(printf 'fd01::%x/64' $i)" dev lan0 nodad
done

# devices: ipsec0 on isp1 and ipsec1 on isp2 in linkstate dormant, with the
# tunnel addresses, on both gateways; no route into them (FRR's)
devices() {
	local ns me n
	for ns in "$A" "$B"; do
		me=1
		[ "$ns" = "$B" ] && me=2
		for n in 0 1; do
			ip -n "$ns" link add ipsec$n type ipsec dev isp$((n + 1)) linkstate dormant &&
			ip -n "$ns" addr add 172.16.$((n + 1)).$me/24 dev ipsec$n &&
			ip -n "$ns" addr add fd10:$((n + 1))::$me/64 dev ipsec$n nodad &&
			ip -n "$ns" link set ipsec$n up || return 1
		done
	done
}

# operstate NS DEV STATE: DEV's operstate in NS is STATE (UP, DORMANT)
operstate() {
	local s
	s=$(ip -n "$1" -j link show "$2" | jq -r '.[0].operstate')
	[ "$s" = "$3" ] && return 0
	echo "expected $2 in $1 $3, got $s" >&2
	return 1
}
ipsec0_is() { operstate "$A" ipsec0 "$1" && operstate "$B" ipsec0 "$1"; }
# addr6_ll NS DEV: DEV has an IPv6 link-local address in NS
addr6_ll() {
	_shows "" "inet6 fe80::" "a link-local address on $2 in $1" \
		_ip "$1" -6 addr show dev "$2" scope link
}

# ecmp_flows WHAT NAME: the routing daemons (WHAT) gave both gateways ECMP
# over both tunnels; pings (logged as NAME) from a flow of each family
# that goes through ipsec0
ecmp_flows() {
	check "$1: ECMP, B's LAN in A's kernel (and A's in B's) via ipsec0 and ipsec1, both families" \
		within 30 routes_via "ipsec0 ipsec1"
	info "A: $(ip -n "$A" route show 10.2.0.0/24 | tr '\n\t' '  ')"
	info "A: $(ip -n "$A" -6 route show fd02::/64 | tr '\n\t' '  ')"
	here "$1: a flow of each family that goes through ipsec0" pick_flow
	info "flows from $SRC4 and $SRC6 $(cat "$WORK/here.out")"
	pings_start "$2"
	check "$1: pings answered" within 20 answered_after "$(now)"
}

# --- FRR: one instance per namespace, its sockets in /run/frr/NS (-N) ------
# frr_conf NS DAEMON: DAEMON's config (stdin) for the instance of NS
frr_conf() {
	local dir=$WORK/frr-$1
	mkdir -p "$dir"
	{	# a log target of the config: --log's has no milliseconds
		echo "log file $dir/$2.log debugging"
		echo "log timestamp precision 3"
		cat
	} >"$dir/$2.conf"
}
# frr_start NS DAEMON...: start each DAEMON in NS (in the background,
# bounded, config and log in $WORK/frr-NS); returns once its vty socket
# is there (zebra's clients need zebra's zserv socket first: start zebra
# first, alone)
declare -A FRR_PID
frr_start() {
	local ns=$1 d dir=$WORK/frr-$1 conf
	shift
	mkdir -p "/run/frr/$ns" "$dir"
	chown frr:frr /run/frr "/run/frr/$ns"
	chown -R frr:frr "$dir"
	for d in "$@"; do
		conf=(-f "$dir/$d.conf")
		[ "$d" = mgmtd ] && conf=()	# FRR 10's; no config of its own here
		ip netns exec "$ns" timeout --foreground -k 5 "$LIFE" "$FRR/$d" -N "$ns" \
			"${conf[@]}" -i "$dir/$d.pid" >"$dir/$d.out" 2>&1 </dev/null &
		FRR_PID[$ns-$d]=$!
		BG_PIDS+=($!)
	done
	for d in "$@"; do
		wait_for 150 test -S "/run/frr/$ns/$d.vty" || return 1
	done
}
# frr_stop NS DAEMON...
frr_stop() {
	local ns=$1 d
	shift
	for d in "$@"; do
		kill "${FRR_PID[$ns-$d]}" 2>/dev/null
		wait "${FRR_PID[$ns-$d]}" 2>/dev/null
	done
}
# vty NS DAEMON COMMAND...: vtysh commands against DAEMON of the instance
# of NS ("": all its daemons)
vty() {
	local ns=$1 d=$2 args=() c
	shift 2
	[ -z "$d" ] || args=(-d "$d")
	for c in "$@"; do
		args+=(-c "$c")
	done
	ip netns exec "$ns" vtysh -N "$ns" "${args[@]}" 2>/dev/null
}
# route_devs NS PREFIX: the devices of the next hops of the kernel's route
# to PREFIX in NS, sorted, one line ("ipsec0 ipsec1")
route_devs() {
	local f
	f=$(_fam "$2")
	ip -n "$1" ${f:+"$f"} -j route show "$2" |
		jq -r '[.[] | (.dev // empty), (.nexthops[]?.dev // empty)] | unique | join(" ")'
}
# routes_via DEVS: both gateways route the other LAN, both families, into
# exactly DEVS ("ipsec0 ipsec1": ECMP)
routes_via() {
	local ns p got
	for ns in "A 10.2.0.0/24" "A fd02::/64" "B 10.1.0.0/24" "B fd01::/64"; do
		read -r ns p <<<"$ns"
		got=$(route_devs "${!ns}" "$p")
		[ "$got" = "$1" ] && continue
		echo "expected $ns's route to $p into '$1', got '$got'" >&2
		return 1
	done
}

# ospf_nbrs NS DEV: full OSPFv2 and OSPFv3 neighbors of NS on DEV (0 to 2)
ospf_nbrs() {
	local n4 n6
	n4=$(vty "$1" ospfd "show ip ospf neighbor" | grep -c "Full.* $2:")
	n6=$(vty "$1" ospf6d "show ipv6 ospf6 neighbor" | grep -c "Full.* $2\[")
	echo $((n4 + n6))
}
# ospf_full N: A and B each have N full neighbors (both versions) on ipsec0
# and on ipsec1 ("N M": N on ipsec0, M on ipsec1)
ospf_full() {
	local ns want0=$1 want1=${2:-$1} got
	for ns in "$A" "$B"; do
		got="$(ospf_nbrs "$ns" ipsec0) $(ospf_nbrs "$ns" ipsec1)"
		[ "$got" = "$want0 $want1" ] && continue
		echo "expected $ns's OSPF neighbors on ipsec0, ipsec1: $want0 $want1, got $got" >&2
		return 1
	done
}
# bfd_up NS N: N BFD sessions of NS up
bfd_up() {
	local n
	n=$(vty "$1" bfdd "show bfd peers brief" | grep -cw up)
	[ "$n" = "$2" ] && return 0
	echo "expected $2 BFD sessions up in $1, got $n" >&2
	return 1
}
bgp_up() {	# bgp_up NS N: N BGP sessions of NS established
	local n
	n=$(vty "$1" bgpd "show bgp neighbors" | grep -c "BGP state = Established")
	[ "$n" = "$2" ] && return 0
	echo "expected $2 BGP sessions established in $1, got $n" >&2
	return 1
}

# pick_flow: SRC4 and SRC6, sources in A's LAN whose pings to B's LAN A
# routes into ipsec0 and B answers through ipsec0 (else: A's way alone), so
# that the cut interrupts them (ECMP spreads flows by hash)
pick_flow() {
	local f i src dst fb proto
	for f in 4 6; do
		fb=
		dst=10.2.0.1 proto=icmp
		[ $f = 6 ] && dst=fd02::1 proto=ipv6-icmp
		for ((i = 2; i <= 16; i++)); do
			src=10.1.0.$i
			[ $f = 6 ] && src=$(printf 'fd01::%x' $i)
			ip -n "$A" route get $dst from "$src" ipproto $proto | grep -q "dev ipsec0" || continue
			fb=${fb:-$src}
			ip -n "$B" route get "$src" from $dst ipproto $proto | grep -q "dev ipsec0" && break
		done
		if [ $i -gt 16 ]; then
			src=$fb
			echo "# IPv$f: no source whose answers B routes into ipsec0 too"
		fi
		[ -n "$src" ] || return 1
		printf -v "SRC$f" '%s' "$src"
	done
}
# bfd_down_after NS T PEER: when NS's bfdd declared its session with PEER
# down after T (its log, epoch s)
bfd_down_after() {
	local l e
	grep -h "state-change: .*peer:$3 .*up -> down" "$WORK/frr-$1/bfdd.log" |
		while read -r l; do
			e=$(date -d "$(awk '{ gsub("/", "-", $1); print $1, $2 }' <<<"$l")" +%s.%N)
			awk -v e="$e" -v t="$2" 'BEGIN { if (e > t) print e }'
		done | head -1
}
# twosites_diag NS: FRR's view, in diag's report
twosites_diag() {
	vty "$1" "" "show interface" "show ip ospf neighbor" "show ipv6 ospf6 neighbor" \
		"show bgp summary" "show bfd peers brief" "show ip route" "show ipv6 route"
}
require "devices in linkstate dormant, tunnel addresses" devices
check "no SA yet: ipsec0 and ipsec1 DORMANT" all ipsec0_is DORMANT -- \
	operstate "$A" ipsec1 DORMANT -- operstate "$B" ipsec1 DORMANT
here "charons start and load their configs (0.0.0.0/0 and ::/0 through each tunnel)" ike_up
require "both tunnels come up on both gateways" within 60 both_up
check "tunnels up: ipsec0 and ipsec1 UP" all ipsec0_is UP -- \
	operstate "$A" ipsec1 UP -- operstate "$B" ipsec1 UP
check "the kernel gave each device an IPv6 link-local address" all \
	addr6_ll "$A" ipsec0 -- addr6_ll "$A" ipsec1 -- addr6_ll "$B" ipsec0 -- addr6_ll "$B" ipsec1
sa_monitors
here "captures on the router" captures_start

# --- OSPFv2 and OSPFv3 ---------------------------------------------------------
# Dead intervals (40 s) far longer than DPD's 14 s: the neighbors on ipsec0
# can only drop sooner because ipsec0 went down.
for ns in A B; do
	rid=10.255.0.1
	[ $ns = B ] && rid=10.255.0.2
	{
		for dev in ipsec0 ipsec1; do
			printf 'interface %s\n ip ospf area 0\n ip ospf network point-to-point\n' $dev
			printf ' ip ospf hello-interval 2\n ip ospf dead-interval 40\n'
		done
		printf 'interface lan0\n ip ospf area 0\n ip ospf passive\n'
		printf 'router ospf\n ospf router-id %s\n log-adjacency-changes detail\n timers throttle spf 0 50 500\n' $rid
	} | frr_conf "${!ns}" ospfd
	{
		for dev in ipsec0 ipsec1; do
			printf 'interface %s\n ipv6 ospf6 area 0\n ipv6 ospf6 network point-to-point\n' $dev
			printf ' ipv6 ospf6 hello-interval 2\n ipv6 ospf6 dead-interval 40\n'
		done
		printf 'interface lan0\n ipv6 ospf6 area 0\n ipv6 ospf6 passive\n'
		printf 'router ospf6\n ospf6 router-id %s\n log-adjacency-changes detail\n timers throttle spf 0 50 500\n' $rid
	} | frr_conf "${!ns}" ospf6d
	: | frr_conf "${!ns}" zebra
done
MGMTD=()
[ -x "$FRR/mgmtd" ] && MGMTD=(mgmtd)	# FRR 9 and later
for ns in A B; do
	here "FRR $ns: ${MGMTD[*]:+mgmtd and }zebra start" frr_start "${!ns}" "${MGMTD[@]}" zebra
	here "FRR $ns: ospfd and ospf6d start" frr_start "${!ns}" ospfd ospf6d
done
info "FRR $(vty "$A" zebra "show version" | awk '/^FRRouting/ { print $2; exit }')"
check "OSPFv2 and OSPFv3 neighbors full on ipsec0 and ipsec1 (A and B)" within 60 ospf_full 2
ecmp_flows OSPF ospf

info "t=${SECONDS}s: OSPF cuts"
GAPS=() DEAD=() back=()
for ((i = 1; i <= CUTS; i++)); do
	check "OSPF cut $i: before, both neighbors full on each tunnel, ECMP" \
		all ospf_full 2 -- routes_via "ipsec0 ipsec1"
	t0=$(now)
	require "OSPF cut $i: ISP 1 dropped on the router" isp1_cut
	if ! check "OSPF cut $i: DPD, ipsec0 down, routes via ipsec1 only (A and B, both families)" \
		within 50 routes_via ipsec1; then
		diag ospf-cut$i
	fi
	check "OSPF cut $i: ipsec0 DORMANT on A and B" ipsec0_is DORMANT
	check "OSPF cut $i: no neighbor on ipsec0, both still full on ipsec1" ospf_full 0 2
	outage ospf-cut$i "$t0" \
		"$(latest 2 "$(deleted_after "$A" "$t0" 10.0.1.1)" "$(deleted_after "$B" "$t0" 10.0.3.1)")" \
		"OSPF cut $i: answers through ipsec1 after both SA deletions"
	tr=$(now)
	isp1_restore
	check "OSPF cut $i: restored, the tunnels up again" within 60 both_up
	tu=$(now)
	info "cut $i: restored $(ms "$t0" "$tr")ms after the cut, tunnels up $(ms "$tr" "$tu")ms later"
	if check "OSPF cut $i: ECMP again, both neighbors full on each tunnel" \
		within 60 all routes_via "ipsec0 ipsec1" -- ospf_full 2; then
		back+=("$(ms "$tu" "$(now)")")
	fi
done
pings_stop
outage_report OSPF "the cut" "the later SA deletion (path declared dead)"
read -r bmed bmax <<<"$(stats "${back[*]}")"
info "... restore: from the tunnels up again to ECMP ${bmed}ms median, ${bmax}ms max (${back[*]})"
check_eq "OSPF: an outage figure for every cut" "$CUTS" "${#GAPS[@]}"
at_most "OSPF: traffic on ipsec1 within 1 s of the SA deletion (max, ms)" 1000 "${DMAX:-99999}"

# --- eBGP with BFD ---------------------------------------------------------------
info "t=${SECONDS}s: OSPF done"
for ns in "$A" "$B"; do
	frr_stop "$ns" ospfd ospf6d
done
check "OSPF stopped: zebra removed its routes" within 20 routes_via ""
for ns in A B; do
	as=65001 peer_as=65002 me=1 peer=2 lan="10.1.0.0/24 fd01::/64"
	[ $ns = B ] && as=65002 peer_as=65001 me=2 peer=1 lan="10.2.0.0/24 fd02::/64"
	read -r lan4 lan6 <<<"$lan"
	peers="172.16.1.$peer 172.16.2.$peer fd10:1::$peer fd10:2::$peer"
	{
		printf 'bfd\n profile fast\n  receive-interval 300\n  transmit-interval 300\n'
		printf '  detect-multiplier 3\n'
	} | frr_conf "${!ns}" bfdd
	sed -i '1a debug bfd peer' "$WORK/frr-${!ns}/bfdd.conf"
	{
		printf 'router bgp %s\n bgp router-id 10.255.0.%s\n' $as $me
		printf ' bgp log-neighbor-changes\n no bgp ebgp-requires-policy\n'
		printf ' no bgp network import-check\n timers bgp 3 9\n'
		for p in $peers; do
			printf ' neighbor %s remote-as %s\n neighbor %s bfd profile fast\n' "$p" $peer_as "$p"
			printf ' neighbor %s timers connect 1\n' "$p"
		done
		printf ' address-family ipv4 unicast\n  network %s\n  maximum-paths 2\n' "$lan4"
		printf '  neighbor 172.16.1.%s activate\n  neighbor 172.16.2.%s activate\n' $peer $peer
		printf '  no neighbor fd10:1::%s activate\n  no neighbor fd10:2::%s activate\n' $peer $peer
		printf ' exit-address-family\n'
		printf ' address-family ipv6 unicast\n  network %s\n  maximum-paths 2\n' "$lan6"
		printf '  neighbor fd10:1::%s activate\n  neighbor fd10:2::%s activate\n' $peer $peer
		printf ' exit-address-family\n'
	} | frr_conf "${!ns}" bgpd
	here "FRR $ns: bfdd and bgpd start" frr_start "${!ns}" bfdd bgpd
done
check "BGP: 4 sessions (a family per tunnel) established, BFD up (A and B)" \
	within 60 all bgp_up "$A" 4 -- bgp_up "$B" 4 -- bfd_up "$A" 4 -- bfd_up "$B" 4
ecmp_flows BGP bgp

info "t=${SECONDS}s: BFD cuts"
GAPS=() DEAD=() back=()
for ((i = 1; i <= CUTS; i++)); do
	check "BFD cut $i: before, 4 sessions and BFD up, ECMP" \
		all bgp_up "$A" 4 -- bgp_up "$B" 4 -- bfd_up "$A" 4 -- bfd_up "$B" 4 -- \
		routes_via "ipsec0 ipsec1"
	t0=$(now)
	require "BFD cut $i: ISP 1 dropped on the router" isp1_cut
	if ! check "BFD cut $i: BFD down, routes via ipsec1 only (A and B, both families)" \
		within 10 routes_via ipsec1; then
		diag bfd-cut$i
	fi
	check "BFD cut $i: before DPD: ipsec0's SAs still there, ipsec0 UP" \
		all both_up -- ipsec0_is UP
	# Restored at once: DPD sends its last try 10.7 s after the cut (the
	# figures come from the logs, after).
	tr=$(now)
	isp1_restore
	info "cut $i: restored $(ms "$t0" "$tr")ms after the cut"
	td=$(latest 4 "$(bfd_down_after "$A" "$t0" 172.16.1.2)" "$(bfd_down_after "$A" "$t0" fd10:1::2)" \
		"$(bfd_down_after "$B" "$t0" 172.16.1.1)" "$(bfd_down_after "$B" "$t0" fd10:1::1)")
	outage bfd-cut$i "$t0" "$td" \
		"BFD cut $i: answers through ipsec1 after BFD down (4 sessions on ipsec0)"
	if check "BFD cut $i: restored, ECMP again" within 60 routes_via "ipsec0 ipsec1"; then
		back+=("$(ms "$tr" "$(now)")")
	else
		diag bfd-restore$i
	fi
	check "BFD cut $i: restored, BFD and BGP up" within 30 all bgp_up "$A" 4 -- \
		bgp_up "$B" 4 -- bfd_up "$A" 4 -- bfd_up "$B" 4
	check "BFD cut $i: no SA of ipsec0 deleted (DPD never declared it dead)" \
		test -z "$(deleted_after "$A" "$t0" 10.0.1.1)$(deleted_after "$B" "$t0" 10.0.3.1)"
done
pings_stop
outage_report BFD "the cut" "the later BFD down"
read -r bmed bmax <<<"$(stats "${back[*]}")"
info "... restore: from the restore to ECMP ${bmed}ms median, ${bmax}ms max (${back[*]})"
check_eq "BFD: an outage figure for every cut" "$CUTS" "${#GAPS[@]}"
at_most "BFD: traffic on ipsec1 within 1 s of BFD down (max, ms)" 1000 "${DMAX:-99999}"

captures_stop
info "t=${SECONDS}s: captures stopped"
check_no_clear 'ip proto 89 or ip6 proto 89 or tcp port 179 or udp port 3784 or
	net 172.16.0.0/16 or net fd10::/16' "no OSPF, BGP or BFD packet"
check_ge "ESP on ISP 1" 1 "$(capture_count "$R" a1 'ip proto 50')"
check_ge "ESP on ISP 2 (the backup carried traffic)" 1 "$(capture_count "$R" a2 'ip proto 50')"

info "runtime ${SECONDS}s"
ksft_exit
