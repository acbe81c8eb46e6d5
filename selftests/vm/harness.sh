#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-harness: the harness's failure branches, proven on a real VM.
# One VM of Linux 6.1 takes selftests/vmdies.sh first, which powers it off
# mid-run; make check must then end (not hang) and report
#   - a failure for vmdies itself (no exit code came back),
#   - a failure for the VM that did not run its share of the suite,
#   - "no VM took it" for the test queued behind it (basic),
# and a last line "N passed, M failed, ..." with M >= 3 and a failing exit.
# TAP on stdout; exit 1 if any check fails.
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp /tmp/ipsecif-harness.XXXXXX)
trap 'rm -f "$out"' EXIT
n=0 bad=0
check() {	# check DESC CMD...
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n $1"; else echo "not ok $n $1"; bad=1; fi
}
has() { grep -qE -- "$1" "$out"; }

echo "TAP version 13"
echo "# make check KERNELS=6.1 TESTS=\"vmdies basic\" VMS=1, vmdies powering its VM off"
timeout 1800 bash "$top/selftests/vm/run.sh" --kernels 6.1 --tests "vmdies basic" \
	--vms 1 --cpus 1 >"$out" 2>&1
rc=$?
sed 's/^/#   /' "$out" | tail -25
check "make check ends by itself (not killed by the 1800 s bound)" test "$rc" != 124
check "... and fails" test "$rc" != 0
check "vmdies: reported as failed, for the exit code that never came" \
	has '^not ok [0-9]+ 6\.1 vmdies: exits 0'
check "the VM: reported as not having run its share" \
	has '^not ok [0-9]+ 6\.1: VM a booted and ran its share of the suite'
check "basic: reported as not run, \"no VM took it\"" \
	has '^not ok [0-9]+ 6\.1 basic: ran in a VM # no VM took it'
check "no check of basic reported as passed" bash -c "! grep -q '^ok [0-9]* 6\.1 basic' '$out'"
last=$(tail -1 "$out")
failed=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' <<<"$last")
check "the last line counts the failures: $last" test "${failed:-0}" -ge 3
echo "1..$n"
exit $bad
