#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check on a busy machine: the same run (KERNELS=, TESTS= as for make
# check) with one CPU hog per host core (sha256sum of /dev/zero, at the
# same priority as everything else) from the moment run.sh starts its
# first part to the end of the run, killed on exit and on interrupt. The
# first part is the package test (its make deb, then its boots) when the
# run includes it, else the first kernel once run.sh holds its VM lock
# (before the build and the boot; not while it waits for other people's
# VMs, which the hogs would only slow down). Tests that sleep instead of
# waiting for what they need, or lose packets when tcpdump lags, fail here.
# The last line is the suite's "N passed, N failed, N skipped".
#
#   busy-check.sh [--kernels LIST] [--tests LIST] [--lanes N] [--vms N] [--cpus N]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cores=$(nproc)
HOGS=()

start_hogs() {
	local i
	for ((i = 0; i < cores; i++)); do
		nice -n 0 sha256sum /dev/zero >/dev/null 2>&1 </dev/null &
		HOGS+=($!)
	done
	hogs_from=$(date +%s)
	echo "# busy-check: $cores CPU hogs (sha256sum /dev/zero, pids ${HOGS[*]}) from now to the end"
}
stop_hogs() {
	local pid
	for pid in "${HOGS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${HOGS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	HOGS=()
}
trap stop_hogs EXIT



start=$(date +%s) hogs_from=
# run.sh's lines as they come, its last (the summary) held back and printed
# last; the hogs start at its first "# deb: ..." line (the package test
# begins) or "# K: kernel ..." line (printed once it holds that kernel's
# lock), whichever comes first.
exec 3< <(bash "$top/selftests/vm/run.sh" "$@")
runpid=$!
trap 'kill "$runpid" 2>/dev/null; exit 130' INT
trap 'kill "$runpid" 2>/dev/null; exit 143' TERM
held=
while IFS= read -r line <&3; do
	[ -z "$held" ] || printf '%s\n' "$held"
	held=$line
	if [ -z "$hogs_from" ] && [[ $line =~ ^#\ (deb:|[^:]+:\ kernel\ ) ]]; then
		printf '%s\n' "$held"
		held=
		start_hogs
	fi
done
wait "$runpid"
rc=$?
alive=0
for pid in "${HOGS[@]}"; do
	kill -0 "$pid" 2>/dev/null && alive=$((alive + 1))
done
stop_hogs
if [ -n "$hogs_from" ]; then
	echo "# busy-check: ${alive} of $cores CPU hogs ran to the end, $(( $(date +%s) - hogs_from ))s under load ($(( $(date +%s) - start ))s in all)"
	if [ "$alive" != "$cores" ]; then
		echo "# busy-check: a CPU hog died early: the run was not under load the whole time"
		rc=1
	fi
else
	echo "# busy-check: run.sh never got to a kernel; no load was applied"
	rc=1
fi
if [[ $held == *" passed, "* ]]; then
	echo "$held"
else
	[ -z "$held" ] || echo "$held"
	echo "0 passed, 1 failed, 0 skipped (no summary from run.sh)"
	rc=1
fi
exit "$rc"
