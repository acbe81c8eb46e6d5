#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Which file of the module calls which: for each object of module/, the
# functions (T) and data (D, R, B) it uses that another object defines.
#   scripts/calls.sh [BUILD_DIR]	(default: the tree; build it first)
# Static inlines of the headers are not calls between files: they are
# compiled into each caller.
set -eu
dir=${1:-$(dirname "$0")/..}
cd "$dir/module"
objs=$(ls ./*.o | grep -v '\.mod\.o$' | sed 's|^\./||')
declare -A owner kind
for o in $objs; do
	while read -r _ t sym; do
		owner[$sym]=${o%.o}
		kind[$sym]=$t
	done < <(nm --defined-only "$o" | awk '$2 ~ /^[TDRB]$/')
done
for o in $objs; do
	f=${o%.o}
	nm -u "$o" | awk '{ print $2 }' | while read -r sym; do
		[ -n "${owner[$sym]:-}" ] || continue
		k=function
		[ "${kind[$sym]}" = T ] || k=data
		echo "$f.c -> ${owner[$sym]}.c $k $sym"
	done
done | sort | awk '{ e = $1 " " $2 " " $3 " " $4; if (e != last) { if (last) print line; line = e ":"; last = e } line = line " " $5 } END { if (last) print line }' | sed 's/ -> / → /'
