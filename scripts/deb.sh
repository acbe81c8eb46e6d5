#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: build the ipsecif-dkms and ipsecif packages from the work tree
# into OUTDIR (default build/deb), then run lintian on them.
#   scripts/deb.sh [OUTDIR]
# The version is dkms.conf's PACKAGE_VERSION; debian/changelog and the
# module's MODULE_VERSION must say the same. The tree is copied to a
# temporary directory first: nothing is built or left inside it.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
die() { echo "make deb: $*" >&2; exit 1; }

# Build tools: installed as scripts/setup-host.sh installs everything else.
if [ "$(id -u)" = 0 ]; then
	bash "$top/scripts/setup-host.sh" deb
fi
for t in dpkg-buildpackage dpkg-parsechangelog dh dh_dkms lintian pkg-config; do
	command -v "$t" >/dev/null ||
		die "$t is missing: run scripts/setup-host.sh deb as root (debhelper, dh-dkms, lintian, libmnl-dev)"
done

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || die "no PACKAGE_VERSION=\"...\" in dkms.conf"
chver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "${chver%-*}" = "$ver" ] ||
	die "dkms.conf says $ver, debian/changelog says $chver: add a changelog entry (dch -v $ver)"
modver=$(sed -n 's/^MODULE_VERSION("\(.*\)");/\1/p' "$top/module/main.c")
[ "$modver" = "$ver" ] ||
	die "dkms.conf says $ver, module/main.c MODULE_VERSION says ${modver:-nothing}"

tmp=$(mktemp -d /tmp/ipsecif-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/ipsecif-$ver
mkdir -p "$src"
# The files git knows or would add (build products are ignored), as the
# harness copies the tree; a tree that is no git checkout is copied whole.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) |
		tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude=./build --exclude=./.vm-out -cf - .) | tar -xf - -C "$src"
fi

echo "make deb: building ipsecif $ver in $src"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage --no-sign -b) >"$tmp/build.log" 2>&1 || {
	tail -40 "$tmp/build.log" >&2
	die "dpkg-buildpackage failed (the last lines of its log are above)"
}

mkdir -p "$out"
rm -f "$out"/ipsecif*_*.deb "$out"/ipsecif_*.changes "$out"/ipsecif_*.buildinfo
cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$tmp/build.log" "$out"/
changes=$(ls "$out"/ipsecif_"$ver"_*.changes)

echo "make deb: lintian $changes"
# The .changes names both .debs and the .buildinfo: lintian checks them all,
# as nobody when run as root, as lintian asks. nobody cannot read a clone
# in /root (mode 0700): it reads the files where they were built, in the
# temporary directory opened to it.
lint=(lintian --fail-on error "$tmp/${changes##*/}")
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod go+rx "$tmp"
	chmod go+r "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo
	lint=(runuser -u nobody -- "${lint[@]}")
fi
if ! (cd / && "${lint[@]}"); then
	die "lintian reports errors (above)"
fi
echo "make deb: done:"
ls -1 "$out"/*.deb
