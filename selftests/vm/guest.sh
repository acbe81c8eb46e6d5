#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: each selftest with its TAP in OUT/NAME.tap, then the
# kernel log (after a kmemleak scan where available) in OUT/dmesg.txt.
# LANES (default 1) selftests run at once, except those marked "alone".
# A test stuck past TEST_TIMEOUT seconds gets its blocked tasks and stacks
# dumped into the log before it is killed.
# With VM_ID set, several VMs of one kernel share OUT and the list: each
# test runs in the VM that claims it first (mkdir OUT/claims/NAME, atomic
# on the host's file system), and this VM's own files are named -VM_ID
# (dmesg-a.txt, done-a, stuck-stacks-a.txt).
#   guest.sh OUT TEST...
out=$1
shift
cd "$(dirname "$0")/.." || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# This tree's tool and ip plugin first, not what another tree's run
# installed last into the same root (6.1, 6.12 and debug share the host's).
top=$(cd .. && pwd)
export PATH=$top/userspace:$PATH IP_LIB_DIR=$top/userspace
[ -x "$top/userspace/ipsecif" ] && [ -f "$top/userspace/link_ipsec.so" ] ||
	echo "# guest: no tool or plugin built in $top/userspace" >&2
TEST_TIMEOUT=${TEST_TIMEOUT:-400}
LANES=${LANES:-1}
me=${VM_ID:+-$VM_ID}
echo "# guest${me}: $(uname -r), tests: $*"

# claim NAME: true if this VM is to run the test (always, without VM_ID)
claim() {
	[ -z "$me" ] || mkdir "$out/claims/$1" 2>/dev/null
}
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
sysctl -qw kernel.hung_task_timeout_secs=60 kernel.hung_task_warnings=10 2>/dev/null

dump_stuck() {	# dump_stuck PID: what the stuck test and the kernel are doing
	local p
	echo "# guest: $1 stuck, dumping tasks" >&2
	echo w >/proc/sysrq-trigger 2>/dev/null
	# setsid made the test the leader of a session of its own.
	for p in $(pgrep -s "$1"); do
		echo "## $p $(tr '\0' ' ' <"/proc/$p/cmdline")"
		cat "/proc/$p/stack" 2>/dev/null
	done >"$out/stuck-stacks$me.txt"
}

# Keep the kernel's packet-timestamp static key on for the whole run. Each
# ping and tcpdump would otherwise switch it on and off, and every switch
# patches kernel text. Under QEMU's TCG that patching has left a CPU on a
# stale int3 three times (6.12: "Oops: int3" in netif_rx_internal,
# get_random_u16 and, in CI, at dev_queue_xmit_nit's netstamp_needed_key
# branch; no ipsecif code involved). 29 is SO_TIMESTAMP(_OLD): Python's
# socket module has no name for it, which silently killed the first holder,
# so the holder now says it holds before the tests start.
coproc tstamp_holder { exec python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 29, 1)
print("holding", flush=True)
time.sleep(1e6)'; }
if read -r -t 120 held <&"${tstamp_holder[0]}" && [ "$held" = holding ]; then
	echo "# guest: packet-timestamp key held on"
else
	echo "# guest: WARNING: could not hold the packet-timestamp key on"
fi

# run_test NAME: one selftest, bounded by TEST_TIMEOUT; its TAP, stderr and
# exit code in OUT. tail --pid waits without forking a poller (every fork
# is slow under emulation).
run_test() {
	local t=$1 t0 pid
	echo "# guest: running $t"
	# Where a failing test may leave its logs (daemon logs, captures).
	export KSFT_ARTIFACTS=$out/artifacts/$t
	t0=$(date +%s)
	setsid bash "./$t.sh" >"$out/$t.tap" 2>"$out/$t.err" &
	pid=$!
	if ! timeout "$TEST_TIMEOUT" tail -s 0.2 --pid="$pid" -f /dev/null; then
		dump_stuck "$pid"
		kill -KILL -- "-$pid" 2>/dev/null
		echo "not ok 999 $t did not finish within ${TEST_TIMEOUT}s" >>"$out/$t.tap"
	fi
	wait "$pid"
	echo $? >"$out/$t.rc"
	echo "# $t took $(($(date +%s) - t0))s${me:+ in VM $VM_ID}" >>"$out/$t.tap"
	grep -E '^(not )?ok ' "$out/$t.tap" | sed "s/^/# $t: /"
}

# With LANES=1, every test in the order given. Otherwise a script whose
# header says "# alone: WHY" changes what every test shares (it loads or
# unloads modules, sets module parameters, counts with kprobes or the slab
# allocator): those run first, one at a time. The others keep to their own
# namespaces and run LANES at a time.
alone=() shared=()
for t in "$@"; do
	if [ "$LANES" -le 1 ] || grep -q '^# alone: ' "./$t.sh" 2>/dev/null; then
		alone+=("$t")
	else
		shared+=("$t")
	fi
done
[ "$LANES" -le 1 ] ||
	echo "# guest: one at a time: ${alone[*]}; $LANES at a time: ${shared[*]}"
for t in "${alone[@]}"; do
	claim "$t" && run_test "$t"
done
# The lanes are these pids (not `jobs`: the holder above is a job too).
lanes=()
for t in "${shared[@]}"; do
	while [ ${#lanes[@]} -ge "$LANES" ]; do
		wait -n "${lanes[@]}"
		live=()
		for pid in "${lanes[@]}"; do
			kill -0 "$pid" 2>/dev/null && live+=("$pid")
		done
		lanes=("${live[@]}")
	done
	claim "$t" || continue
	run_test "$t" &
	lanes+=($!)
done
[ ${#lanes[@]} = 0 ] || wait "${lanes[@]}"
kill "$tstamp_holder_PID" 2>/dev/null
# Unload to catch leaks and refcount bugs at module exit.
modprobe -r ipsecif 2>/dev/null
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak; sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak$me.txt"
fi
dmesg >"$out/dmesg$me.txt"
[ -s "$out/kmemleak$me.txt" ] && cat "$out/kmemleak$me.txt" >>"$out/dmesg$me.txt"
touch "$out/done$me"
