#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check on a busy machine: the same run (KERNELS=, TESTS= as for make
# check) while one CPU hog per host core (sha256sum of /dev/zero, at the
# same priority as everything else) runs from before the first VM boots
# until the run ends, or is interrupted. Tests that sleep instead of
# waiting for what they need, or lose packets when tcpdump lags, fail here.
# The last line is the suite's "N passed, N failed, N skipped".
#
#   busy-check.sh [--kernels LIST] [--tests LIST]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
HOGS=()

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
trap 'exit 130' INT
trap 'exit 143' TERM

cores=$(nproc)
for ((i = 0; i < cores; i++)); do
	nice -n 0 sha256sum /dev/zero >/dev/null 2>&1 </dev/null &
	HOGS+=($!)
done
echo "# busy-check: $cores CPU hogs (sha256sum /dev/zero, pids ${HOGS[*]}) for the whole run" >&2

start=$(date +%s)
out=$(mktemp)
# run.sh's last line (the summary) is held back and printed last, after
# this script's own note.
bash "$top/selftests/vm/run.sh" "$@" | tee "$out" | head -n -1
rc=${PIPESTATUS[0]}
alive=0
for pid in "${HOGS[@]}"; do
	kill -0 "$pid" 2>/dev/null && alive=$((alive + 1))
done
stop_hogs
echo "# busy-check: $(( $(date +%s) - start ))s with $alive of $cores CPU hogs still running at the end"
summary=$(tail -1 "$out")
rm -f "$out"
if [ "$alive" != "$cores" ]; then
	echo "# busy-check: a CPU hog died early: the run was not under load the whole time"
	rc=1
fi
if grep -q ' passed, ' <<<"$summary"; then
	echo "$summary"
else
	echo "$summary"
	echo "0 passed, 1 failed, 0 skipped (no summary from run.sh)"
	rc=1
fi
exit "$rc"
