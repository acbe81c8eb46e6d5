#!/bin/bash
# checkpatch --strict, kernel-doc -Wall, sparse (C=2) and W=1 over the
# module, for every kernel whose headers are installed, and shellcheck
# over the scripts. Needs linux-source-6.12 for checkpatch.pl and
# kernel-doc, sparse and shellcheck (scripts/setup-host.sh lint).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
cp=${CHECKPATCH:-$(ls /usr/src/linux-source-*/scripts/checkpatch.pl 2>/dev/null | tail -1)}
if [ -z "$cp" ]; then
	tar=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | tail -1)
	if [ -n "$tar" ]; then
		tar -C /usr/src -xJf "$tar" --wildcards '*/scripts/*' '*/Documentation/dev-tools/*' \
			'*/Documentation/process/*' 2>/dev/null
		cp=$(ls /usr/src/linux-source-*/scripts/checkpatch.pl 2>/dev/null | tail -1)
	fi
fi
# Without linux-source: the copy a kernel built here ships in its headers.
[ -n "$cp" ] || cp=$(ls /usr/src/linux-headers-*/scripts/checkpatch.pl 2>/dev/null | tail -1)
if [ -n "$cp" ]; then
	echo "# checkpatch --strict"
	"$cp" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,CONFIG_DESCRIPTION \
		-f "$top"/module/*.c "$top"/module/*.h "$top"/include/uapi/linux/*.h || rc=1
else
	echo "# checkpatch.pl not found (install linux-source-6.12)"; rc=1
fi
# kernel-doc of the version beside checkpatch (6.1's misreads functions
# without parameters): every documented function, -Wall.
kd=${cp:+$(dirname "$cp")/kernel-doc}
if [ -n "$kd" ] && [ -x "$kd" ]; then
	echo "# kernel-doc -Wall"
	out=$("$kd" -none -Wall "$top"/module/*.c "$top"/module/*.h 2>&1)
	if [ -n "$out" ]; then echo "$out"; rc=1; fi
fi
# Every shell script parses, and has no error shellcheck is sure of.
if command -v shellcheck >/dev/null; then
	echo "# shellcheck -S error"
	(cd "$top" && shellcheck -S error -f gcc $(git ls-files '*.sh' .ci/run 2>/dev/null ||
		find . -name '*.sh' -not -path './build/*')) || rc=1
else
	echo "# shellcheck not found (scripts/setup-host.sh lint)"; rc=1
fi
for kdir in /lib/modules/*/build; do
	[ -e "$kdir/Makefile" ] || continue
	echo "# W=1 C=2 against $kdir"
	out=$(make -s -C "$kdir" M="$top" W=1 C=2 modules 2>&1)
	make -s -C "$kdir" M="$top" clean >/dev/null 2>&1
	if grep -E 'warning|error' <<<"$out"; then rc=1; fi
done
[ $rc = 0 ] && echo "# lint clean"
exit $rc
