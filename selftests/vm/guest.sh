#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: each selftest with its TAP in OUT/NAME.tap, then the
# kernel log (after a kmemleak scan where available) in OUT/dmesg.txt.
#   guest.sh OUT TEST...
out=$1
shift
cd "$(dirname "$0")/.." || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "# guest: $(uname -r), tests: $*"
sysctl -qw kernel.panic_on_warn=0 2>/dev/null
for t in "$@"; do
	echo "# guest: running $t"
	timeout 900 bash "./$t.sh" >"$out/$t.tap" 2>"$out/$t.err"
	echo $? >"$out/$t.rc"
	grep -E '^(not )?ok ' "$out/$t.tap" | sed "s/^/# $t: /"
done
# Unload to catch leaks and refcount bugs at module exit.
modprobe -r ipsecif 2>/dev/null
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak; sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
fi
dmesg >"$out/dmesg.txt"
[ -s "$out/kmemleak.txt" ] && cat "$out/kmemleak.txt" >>"$out/dmesg.txt"
touch "$out/done"
