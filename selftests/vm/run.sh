#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build ipsecif for each kernel, boot it in VMs (virtme-ng, TCG) and run
# the selftests inside. Prints TAP and, last, "N passed, N failed".
#
#   run.sh [--kernels "6.1 6.12 7.2 debug"] [--tests "basic xfrm ... deb"]
#          [--lanes N] [--vms N] [--cpus N]
#
# Each kernel boots N VMs at once (--vms; default: one per host core, at
# most 8, with 1 vCPU each: --cpus): they share the kernel's list of tests,
# each VM taking the next test not yet taken, in the order of
# selftests/Makefile, until none is left. Each test runs in one VM; each
# VM's kernel log is checked. The debug kernel boots one VM with 2 vCPUs.
#
# In each VM, N selftests (default 1) run at once, except those whose
# header says "# alone:" (they change what all tests share): those run
# first, one at a time (guest.sh).
#
# The test "deb" (run by default, or when --tests names it) builds the Debian
# packages (make deb), installs them on the host root with apt-get as a user
# would, boots 6.1 and 6.12 once each with the module DKMS built, and purges
# them: see deb_check.
#
# 6.1 and 6.12 are Debian 12 kernels booted on the host's root filesystem;
# 7.2 is sid's kernel booted on a sid root (scripts/setup-host.sh makes it);
# debug is the KASAN/lockdep 6.12 build from ../shared/kernels.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
KERNELS="6.1 6.12 7.2"
TESTS=""
LANES=1
# VMs per kernel at once, sharing its tests, and vCPUs per VM: by default
# one VM per host core (at most 8), each with 1 vCPU; one VM with 2 vCPUs
# for the debug kernel, or when VMS=1 (see "VMs, vCPUs and lanes" in
# selftests/README.md).
VMS=
CPUS=
DEMO=0
CACHE=${IPSECIF_CACHE:-/var/cache/ipsecif}
# A VM's share of the suite takes well under half of that on the 2-core
# build machine (2026-12): the bound leaves room for a busy host, and
# catches a hang.
VM_TIMEOUT=${VM_TIMEOUT:-3000}

while [ $# -gt 0 ]; do
	case $1 in
	--kernels) KERNELS=$2; shift ;;
	--tests) TESTS=$2; shift ;;
	--lanes) LANES=$2; shift ;;
	--vms) VMS=$2; shift ;;
	--cpus) CPUS=$2; shift ;;
	--demo) DEMO=1 ;;
	--bench) DEMO=2 ;;
	*) echo "usage: $0 [--kernels LIST] [--tests LIST] [--lanes N] [--vms N] [--cpus N] [--demo | --bench]" >&2; exit 2 ;;
	esac
	shift
done
[[ $VMS =~ ^[1-8]?$ ]] || { echo "$0: --vms takes 1 to 8, not '$VMS'" >&2; exit 2; }
[[ $CPUS =~ ^[1-8]?$ ]] || { echo "$0: --cpus takes 1 to 8, not '$CPUS'" >&2; exit 2; }
# The package test runs in a full run, or when named; never in the guest.
DEB=0 only_deb=0
if [ -z "$TESTS" ]; then
	DEB=1
	TESTS=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$top/selftests/Makefile" |
		sed -n 's/^TEST_PROGS *[:+]*= *//p' | tr -s ' \t' '\n' | sed -n 's/\.sh$//p' | tr '\n' ' ')
elif [[ " $TESTS " == *" deb "* ]]; then
	DEB=1
	TESTS=$(tr -s ' \t' '\n' <<<"$TESTS" | grep -vx deb | tr '\n' ' ')
	[ -n "${TESTS// /}" ] || only_deb=1
fi

passed=0 failed=0 skipped=0 n=0
tap() {	# tap ok|fail|skip DESC [REASON]
	n=$((n + 1))
	case $1 in
	ok) passed=$((passed + 1)); echo "ok $n $2" ;;
	fail) failed=$((failed + 1)); echo "not ok $n $2${3:+ # $3}" ;;
	skip) skipped=$((skipped + 1)); echo "ok $n $2 # SKIP ${3:-}" ;;
	esac
}
finish() {
	echo "1..$n"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}

# A private copy of virtme-ng's Python package (in /srv: the guest mounts a
# tmpfs over /var/cache) whose guest init waits up to
# 15 minutes (not 120 s) for udev to settle: virtme-init needs the
# /dev/virtio-ports links udev makes, and powers off without them. Prints
# the directory to put first in PYTHONPATH; remade when virtme changes.
patient_virtme() {
	local src dst=/srv/ipsecif-virtme-patient init
	src=$(/usr/bin/python3 -c 'import os, virtme; print(os.path.dirname(virtme.__file__))') || return 1
	init=$dst/virtme/guest/virtme-init
	if ! cmp -s "$src/guest/virtme-init" "$dst/virtme-init.orig"; then
		rm -rf "$dst" && mkdir -p "$dst" && cp -a "$src" "$dst/virtme" &&
		cp "$src/guest/virtme-init" "$dst/virtme-init.orig" || return 1
		sed -i 's/^\([[:space:]]*\)udevadm settle$/\1udevadm settle --timeout=900/' "$init"
	fi
	grep -q 'udevadm settle --timeout=900' "$init" || return 1
	echo "$dst"
}

# boot_vm LABEL LIMIT CONSOLE CMD VNG...: boot VNG (a vng command line)
# to run CMD, for at most LIMIT seconds; the kernel's console goes to
# CONSOLE, CMD's output to stdout. On a slow or busy host, virtme-init's
# wait for udev can run out before udev names the console ports, and it
# powers off before running CMD: boot again, up to three times (CMD never
# ran, so nothing is hidden), keeping each such console as
# CONSOLE-noports-N. Returns timeout's status of the last boot.
boot_vm() {
	local label=$1 limit=$2 console=$3 cmd=$4 boot rc
	shift 4
	for boot in 1 2 3; do
		: >"$console"
		timeout "$limit" "$@" --exec "$cmd" </dev/null 2>>"$console"
		rc=$?
		grep -q 'cannot find script I/O ports' "$console" || return $rc
		cp "$console" "$console-noports-$boot"
		echo "# $label, boot $boot: virtme-init found no console ports (udev too slow); booting again" >&2
	done
	return $rc
}

# make demo / make bench: build, boot the first kernel and run the demo
# story or the benchmark live; both end with a "NAME: SUCCESS|DONE" line.
demo() {
	local k=${KERNELS%% *} out limit what=demo script=demo/demo.sh ok=SUCCESS extra='' env=''
	[ $DEMO = 2 ] && what=bench script=bench/bench.sh ok=DONE extra=bench
	bash "$top/scripts/setup-host.sh" "$k" $extra >&2 || exit 1
	resolve "$k" || { echo "$what: kernel $k is not installed"; exit 1; }
	OUT=${ROOT%/}/srv/ipsecif-out-$KVER
	exec 9>"/run/lock/ipsecif-vm-$KVER.lock"
	flock 9
	mkdir -p "$OUT"
	echo "$what: building ipsecif for $KVER and booting it (about a minute)"
	build || { tail -20 "$OUT/build.log"; echo "$what: FAILED to build"; exit 1; }
	vm=(vng --run "${ROOT%/}/boot/vmlinuz-$KVER" --disable-kvm --cpus 2 --memory 2G
	    --user root --verbose)
	[ "$ROOT" = / ] || vm+=(--root "$ROOT")
	# The benchmark's two topologies take about 15 minutes under emulation
	# with the default rounds, the gateway alone 10 minutes for one round
	# of 2 s on a busy host.
	limit=900
	[ $DEMO = 2 ] && limit=7200
	if [ $DEMO = 2 ] && [ -n "${BENCH_ICOUNT:-}" ]; then
		# Guest time counts the instructions the vCPUs execute (1 ns
		# each; both vCPUs take turns on one host thread), so the host's
		# load cannot move the figures. Without CMPXCHG16B: a run with it
		# died in a double fault on it in SLUB (QEMU 7.2).
		vm+=(--qemu-opts="-icount shift=0,sleep=off -cpu qemu64,-cx16")
		env="BENCH_CLOCK=instructions "
		limit=$((limit * 2))
	fi
	# The script's output on the terminal, the kernel's console in a file
	# to show if the VM dies.
	out=$(boot_vm "$what" "$limit" "$OUT/$what-console.log" \
		"${env}bash /srv/ipsecif-$KVER/$script ${BENCH_ARGS:-} 2>&1" "${vm[@]}" |
		tee -a /dev/stderr)
	grep -q "^$what: $ok" <<<"$out" && exit 0
	if grep -q "^$what: FAILED" <<<"$out"; then
		echo "$what: the kernel's messages are in $OUT/$what-console.log"
		exit 1
	fi
	echo "$what: FAILED (the VM did not finish); the end of its console (all of it in $OUT/$what-console.log):"
	grep -v 'virtme initramfs' "$OUT/$what-console.log" | tail -40 | sed 's/^/  /'
	exit 1
}


# Sets KVER, ROOT (root filesystem the VM boots on) for a kernel name.
resolve() {
	local sid=$CACHE/sid pick
	ROOT=/
	case $1 in
	6.1) pick=$(ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -1) ;;
	6.12) pick=$(ls /boot/vmlinuz-6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -1) ;;
	7.2) ROOT=$sid; pick=$(ls "$sid"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1) ;;
	debug) pick=$(ls /boot/vmlinuz-*-ipsecif-debug 2>/dev/null | tail -1) ;;
	esac
	[ -n "$pick" ] || return 1
	KVER=${pick##*/vmlinuz-}
}

in_root() {	# run a command in ROOT (a chroot with /proc for objtool)
	if [ "$ROOT" = / ]; then
		"$@"
		return
	fi
	mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
	chroot "$ROOT" "$@"
	local rc=$?
	umount "$ROOT/proc"
	return $rc
}

# Copy the work tree into ROOT, build and install the module there.
build() {
	local src=/srv/ipsecif-$KVER
	rm -rf "$ROOT$src"
	mkdir -p "$ROOT$src"
	(cd "$top" && git ls-files -co --exclude-standard -z |
		tar --null -cf - -T -) | tar -xf - -C "$ROOT$src"
	in_root make -C "$src" KVER="$KVER" all install >"$OUT/build.log" 2>&1 &&
		in_root depmod "$KVER" >>"$OUT/build.log" 2>&1
}

# dkms add/build/install/remove for a kernel on the host's root, as a user
# of the package would, then out of the way of the harness's own install.
dkms_check() {
	local ver tmp rc=0
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
	dkms remove "ipsecif/$ver" --all >/dev/null 2>&1
	rm -rf "/usr/src/ipsecif-$ver"
	# As on a user's machine: no copy from an earlier `make install`.
	rm -f /lib/modules/"$KVER"/updates/ipsecif.ko*
	tmp=$(mktemp -d)
	(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) |
		tar -xf - -C "$tmp"
	{ dkms add "$tmp" && dkms build "ipsecif/$ver" -k "$KVER" &&
	  dkms install "ipsecif/$ver" -k "$KVER" &&
	  ls /lib/modules/"$KVER"/updates/dkms/ipsecif.ko*; } >"$OUT/dkms.log" 2>&1 || rc=1
	dkms remove "ipsecif/$ver" --all >>"$OUT/dkms.log" 2>&1
	rm -rf "$tmp" "/usr/src/ipsecif-$ver"
	return $rc
}

# The package test: deb_check and its helpers.
source "$top/selftests/vm/deb.sh"

# The kernel log must be free of splats even when every test passed.
log_clean() {
	grep -E 'BUG:|WARNING:|Call Trace:|blocked for more than|ref_tracker:|unreferenced object|UBSAN:|KASAN:|general protection|Oops|bytes leftover after parsing' \
		"$1" 2>/dev/null | head -5
}

# vm_share ID: one of the VMs of kernel k. It takes tests from the
# kernel's list until none is left (guest.sh); console and guest.sh's
# output in OUT/console-ID.log.
vm_share() {
	local id=$1
	boot_vm "$k: VM $id" "$vm_limit" "$OUT/console-$id.log" "VM_ID=$id $guest" \
		"${vm[@]}" >>"$OUT/console-$id.log"
}

# vm_verdict ID: the kernel log of VM ID must be clean, and what a stuck
# test left is shown.
vm_verdict() {
	local id=$1 splat
	# The console has the kernel messages even when the VM died.
	splat=$(log_clean "$OUT/console-$id.log")
	[ -n "$splat" ] || splat=$(log_clean "$OUT/dmesg-$id.txt")
	if [ -f "$OUT/dmesg-$id.txt" ] && [ -z "$splat" ]; then
		tap ok "$k: VM $id: kernel log has no BUG, WARNING, leak or sanitizer report"
	else
		tap fail "$k: VM $id: kernel log has no BUG, WARNING, leak or sanitizer report"
		echo "$splat" | sed 's/^/#   /'
	fi
	[ -s "$OUT/stuck-stacks-$id.txt" ] || return 0
	echo "# $k: VM $id: a test got stuck; its stacks and blocked tasks:"
	sed 's/^/#   /' "$OUT/stuck-stacks-$id.txt" | head -60
	grep -A25 'blocked state\|task:' "$OUT/dmesg-$id.txt" | sed 's/^/#   /' | head -80
}

[ $DEMO != 0 ] && demo

echo "TAP version 13"
deb_setup=
[ $DEB = 1 ] && [ -n "$(deb_kernels)" ] && deb_setup=deb
if ! bash "$top/scripts/setup-host.sh" $KERNELS $deb_setup >&2; then
	tap fail "setup: install build and test dependencies"
	finish
fi
if [ $DEB = 1 ]; then
	if [ -n "$(deb_kernels)" ]; then
		deb_check
	else
		tap skip "deb: the Debian packages" "no Debian 12 kernel (6.1, 6.12) in KERNELS"
	fi
fi
[ $only_deb = 1 ] && finish

read -r first_kernel _ <<<"$KERNELS"
for k in $KERNELS; do
	if ! resolve "$k"; then
		tap fail "$k: kernel installed"
		continue
	fi
	OUT=${ROOT%/}/srv/ipsecif-out-$KVER
	# Runs from other work trees share ROOT's build directory, module
	# directory and dkms: one run per kernel at a time (a new lock
	# releases the previous kernel's).
	exec 9>"/run/lock/ipsecif-vm-$KVER.lock"
	flock 9
	rm -rf "$OUT"
	mkdir -p "$OUT"
	echo "# $k: kernel $KVER, root $ROOT"
	# The package test built, installed and removed the module with DKMS
	# for this kernel already (from the package, as users get it).
	if [ "$ROOT" = / ] && [ $DEB = 1 ] && deb_kernels | grep -qx "$k"; then
		echo "# $k: DKMS from a clone: covered by the package test's DKMS build for $k"
	elif [ "$ROOT" = / ]; then
		if (flock 8 && dkms_check) 8>/run/lock/ipsecif-dkms.lock; then
			tap ok "$k: dkms add, build, install and remove"
		else
			tap fail "$k: dkms add, build, install and remove"
			tail -15 "$OUT/dkms.log" | sed 's/^/#   /'
		fi
	fi
	if ! build; then
		tap fail "$k: build and install ipsecif.ko" "see below"
		sed 's/^/#   /' "$OUT/build.log" | tail -30
		continue
	fi
	tap ok "$k: build and install ipsecif.ko"

	# Under TCG a test script keeps about one vCPU busy, and a VM with 2
	# vCPUs runs it about half as fast as one with 1 (the vCPUs' threads
	# wait for each other): one 1-vCPU VM per host core gets the most of
	# the host. The debug kernel is there for what only SMP shows (races,
	# per-CPU state, lockdep): one VM, 2 vCPUs. VMS=1 alone means 2 vCPUs.
	vms=$VMS cpus=$CPUS
	if [ -z "$vms" ]; then
		vms=$(( $(nproc) < 8 ? $(nproc) : 8 ))
		[ "$k" = debug ] && vms=1
	fi
	[ -n "$cpus" ] || { cpus=1; [ "$vms" = 1 ] && cpus=2; }
	echo "# $k: $vms VMs at once, $cpus vCPUs each"
	vm=(vng --run "${ROOT%/}/boot/vmlinuz-$KVER" --disable-kvm --cpus "$cpus" --memory 2G
	    --user root --rwdir="/srv/ipsecif-out-$KVER=$OUT" --verbose)
	# The sanitizer kernel boots so slowly under emulation that udev never
	# settles within virtme-init's 120 s: boot it with a patient virtme.
	if [ "$k" = debug ]; then
		slow=$(patient_virtme) || { tap fail "$k: a patient copy of virtme"; continue; }
		vm=(env "PYTHONPATH=$slow" "${vm[@]}")
	fi
	[ "$ROOT" = / ] || vm+=(--root "$ROOT")
	# The sanitizer kernel is several times slower under emulation.
	# Volumes: the scale test's devices and the netlink fuzzer's requests
	# are full on the first kernel of the run and a quarter on the others
	# (the same code paths; the CI's time budget), unless set.
	per_test=900 vm_limit=$VM_TIMEOUT scale=4000 fuzz=1400
	[ "$k" = "$first_kernel" ] || scale=1000 fuzz=400
	[ "$k" = debug ] && per_test=2400 vm_limit=$((VM_TIMEOUT * 4)) scale=500 fuzz=400
	scale=${IPSECIF_SCALE_DEVICES:-$scale} fuzz=${NLFUZZ_COUNT:-$fuzz}
	echo "# $k: volumes: $scale devices (basic), $fuzz fuzzed requests (nlfuzz)"
	guest="TEST_TIMEOUT=$per_test LANES=$LANES IPSECIF_SCALE_DEVICES=$scale NLFUZZ_COUNT=$fuzz"
	# A seed to replay (selftests/oracle.sh prints it).
	guest+="${ORACLE_SEED:+ ORACLE_SEED=$ORACLE_SEED}"
	guest+=" bash /srv/ipsecif-$KVER/selftests/vm/guest.sh /srv/ipsecif-out-$KVER $TESTS"
	mkdir "$OUT/claims"
	start=$(date +%s)
	ids=$(printf '%s\n' a b c d e f g h | head -n "$vms")
	for id in $ids; do
		vm_share "$id" &
	done
	wait
	echo "# $k: the VMs ran $(( $(date +%s) - start ))s"
	for id in $ids; do
		[ -f "$OUT/done-$id" ] && continue
		tap fail "$k: VM $id booted and ran its share of the suite" "console tail below"
		grep -v 'virtme initramfs' "$OUT/console-$id.log" | tail -60 | sed 's/^/#   /'
	done
	for t in $TESTS; do
		f=$OUT/$t.tap
		if [ ! -f "$f" ]; then
			tap fail "$k $t: ran in a VM" "no VM took it (a VM died: see above)"
			continue
		fi
		rc=$(cat "$OUT/$t.rc" 2>/dev/null || echo 1)
		saw=0
		while IFS= read -r line; do
			case $line in
			"not ok "*)
				saw=1; tap fail "$k $t: ${line#not ok * }" ;;
			"ok "*"# SKIP"*|"ok "*"# skip"*|"ok "*"# TODO"*)
				saw=1; d=${line#ok * }; r=${d#* # }
				tap skip "$k $t: ${d%% # *}" "${r#[Ss][Kk][Ii][Pp] }" ;;
			"ok "*)
				saw=1; tap ok "$k $t: ${line#ok * }" ;;
			"# "*) echo "$line" ;;
			esac
		done <"$f"
		if [ "$rc" = 4 ] && [ $saw = 0 ]; then
			tap skip "$k $t" "$(grep -m1 -i skip "$f" | sed 's/^# *//; s/^SKIP:* *//')"
		elif [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
			grep -q '^not ok' "$f" ||
				tap fail "$k $t: exits 0" "exit code $rc"
		fi
		if [ -s "$OUT/$t.err" ] && [ "$rc" != 0 ]; then
			tail -15 "$OUT/$t.err" | sed 's/^/#   stderr: /'
		fi
	done
	for id in $ids; do
		vm_verdict "$id"
	done
done
finish
