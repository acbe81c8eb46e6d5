#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A device's per-CPU memory (its bundle cache and counters) is charged to
# the memory cgroup of whoever creates it, as the core charges the device
# itself: a container cannot make the host pay for its devices.
#
# A shell in a cgroup of its own creates 200 dummy devices, then 200 ipsec
# devices, in a namespace: "percpu" in the cgroup's memory.stat must grow
# by more for an ipsec device than for a dummy device, by about what the
# module allocates per device and CPU (about 550 bytes; 300 asked).
source "$(dirname "$0")/lib.sh"

CG=/sys/fs/cgroup
COUNT=200
load_module || ksft_skip_all "ipsecif module not available"
mountpoint -q $CG || mount -t cgroup2 none $CG 2>/dev/null
[ -f $CG/cgroup.controllers ] || ksft_skip_all "no cgroup v2 hierarchy"
grep -qw memory $CG/cgroup.controllers || ksft_skip_all "no memory controller"
echo +memory >$CG/cgroup.subtree_control 2>/dev/null
mkns N || ksft_skip_all "cannot create namespaces"
GRP=$CG/ipsecif-memcg-$RANDOM
mkdir "$GRP" || ksft_skip_all "cannot create a cgroup"
trap 'cleanup; rmdir "$GRP" 2>/dev/null' EXIT
[ -f "$GRP/memory.stat" ] || ksft_skip_all "the memory controller is not enabled for children"

percpu() { awk '$1 == "percpu" { print $2 }' "$GRP/memory.stat"; }
# in_group CMD...: CMD run by a shell that moved itself into the cgroup
in_group() { sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$GRP" "$@"; }

# made KIND [ID]: COUNT devices of KIND created from inside the cgroup;
# prints the cgroup's percpu bytes before. memory.stat is brought up to
# date when read (the charges are far over the kernel's flush threshold)
# and at least every 2 s: the check below polls.
made() {
	local kind=$1 batch i
	batch=$(mktemp)
	for ((i = 0; i < COUNT; i++)); do
		echo "link add $kind$i type $kind${2:+ if_id $((1000 + i))}"
	done >"$batch"
	percpu
	in_group ip -n "$N" -batch "$batch" >/dev/null || return 1
	rm -f "$batch"
}
cpus=$(nproc --all)
per_dev() { echo $((($2 - $1) / COUNT / cpus)); }	# per_dev BEFORE AFTER
p0=$(made dummy) && p1=$(made ipsec id) ||
	ksft_skip_all "cannot create devices from inside the cgroup"
dummy=$(per_dev "$p0" "$p1")
more() { [ "$(per_dev "$p1" "$(percpu)")" -ge $((dummy + 300)) ]; }
wait_for 50 more
ipsec=$(per_dev "$p1" "$(percpu)")
info "per-CPU memory charged per device and CPU: dummy $dummy, ipsec $ipsec bytes"
check_ge "an ipsec device is charged at least 300 bytes per CPU more than a dummy device" \
	$((dummy + 300)) "$ipsec"

ksft_exit
