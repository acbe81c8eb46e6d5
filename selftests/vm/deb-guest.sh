#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM booted on the host root while the ipsecif-dkms and
# ipsecif packages are installed there (run.sh deb_check): the module DKMS
# built for this kernel loads, and the package's ip plugin and ipsecif tool
# create and show a device. TAP on stdout.
#   deb-guest.sh SRCVERSION   (the srcversion of DKMS's build for this kernel)
want=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
n=0
ok()  { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $*"; }
check() {	# check DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		nok "$desc"
		echo "$out" | tail -5 | sed 's/^/#   /'
	fi
}
kver=$(uname -r)
echo "TAP version 13"
echo "# deb-guest: $kver"

check "the installed files are the packages' (dpkg --verify ipsecif ipsecif-dkms)" \
	sh -c 'out=$(dpkg --verify ipsecif ipsecif-dkms 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }'
path=$(modinfo -n ipsecif 2>&1)
case $path in
/lib/modules/"$kver"/updates/dkms/ipsecif.ko*) ok "modinfo -n ipsecif is DKMS's: $path" ;;
*) nok "modinfo -n ipsecif is DKMS's" ; echo "#   modinfo -n ipsecif: $path" ;;
esac
check "modprobe ipsecif" modprobe ipsecif
got=$(cat /sys/module/ipsecif/srcversion 2>&1)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	ok "the loaded module's srcversion is the one DKMS built ($got)"
else
	nok "the loaded module's srcversion is the one DKMS built"
	echo "#   loaded: $got, DKMS built: ${want:-unknown}"
fi
check "ip link add ipsec9 type ipsec if_id 7 (the package's link_ipsec.so)" \
	ip link add ipsec9 type ipsec if_id 7
check "ip -d link show ipsec9 shows 'ipsec nodev if_id 7'" \
	sh -c "ip -d link show ipsec9 | grep 'ipsec nodev if_id 7'"
check "ipsecif is the package's /usr/sbin/ipsecif" \
	sh -c '[ "$(command -v ipsecif)" = /usr/sbin/ipsecif ] && dpkg -S /usr/sbin/ipsecif | grep "^ipsecif: "'
check "/usr/sbin/ipsecif show ipsec9 shows the device and its if_id" \
	sh -c "/usr/sbin/ipsecif show ipsec9 | tr '\n' ' ' | grep 'interface: ipsec9 .*if_id: 7'"
check "ip link del ipsec9" ip link del ipsec9
check "modprobe -r ipsecif" modprobe -r ipsecif
echo "1..$n"
