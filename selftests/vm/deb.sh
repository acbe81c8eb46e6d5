# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The package test of make check, sourced by run.sh (which defines top,
# KERNELS, tap, resolve, build and log_clean).
# The Debian packages as a user gets them (issue 10): `make deb`, then
# `apt-get install ./ipsecif-dkms_*.deb ./ipsecif_*.deb` on the host root,
# where DKMS builds the module for every kernel with headers; each of the
# given Debian 12 kernels (6.1, 6.12) boots once and loads *that* module
# and uses the package's plugin and tool (deb-guest.sh); then
# `apt-get purge` must leave nothing behind. The harness's own copies
# (build()'s `make install`) are deleted first, so they cannot stand in for
# a broken package; build() puts them back afterwards.
DEBOUT=/srv/ipsecif-out-deb
deb_kernels() {	# the kernels of KERNELS that boot on the host root
	local k
	for k in $KERNELS; do
		case $k in 6.1|6.12) echo "$k" ;; esac
	done
}

# A clone as a root user makes it: in a directory of mode 0700 (/root's),
# which lintian, run as nobody, cannot read. The files git knows or would
# add, as the harness copies the tree. Prints the clone's directory.
deb_clone() {
	local home
	home=$(mktemp -d /root/ipsecif-newcomer.XXXXXX) || return 1
	chmod 0700 "$home"
	mkdir "$home/ipsecif"
	(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) |
		tar -xf - -C "$home/ipsecif" || return 1
	echo "$home"
}

deb_check() {
	local fds=() fd kv home
	rm -rf "$DEBOUT"
	mkdir -p "$DEBOUT"
	echo "# deb: make deb in a clone in /root, apt-get install, boot $(deb_kernels | tr '\n' ' ')and purge"
	home=$(deb_clone)
	# The README's commands, run where it runs them.
	if [ -n "$home" ] && (cd "$home/ipsecif" && make deb) >"$DEBOUT/make-deb.log" 2>&1; then
		tap ok "deb: make deb in a clone under a 0700 directory builds ipsecif-dkms and ipsecif, lintian reports no error"
	else
		tap fail "deb: make deb in a clone under a 0700 directory builds ipsecif-dkms and ipsecif, lintian reports no error"
		tail -20 "$DEBOUT/make-deb.log" | sed 's/^/#   /'
		[ -z "$home" ] || rm -rf "$home"
		return
	fi
	DEBDIR=$home/ipsecif/build/deb
	# Installing touches /lib/modules of every kernel on the host root and
	# the dkms tree: hold each of their VM locks (in one order), then dkms's.
	for kv in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort); do
		exec {fd}>"/run/lock/ipsecif-vm-$kv.lock"
		flock "$fd"
		fds+=("$fd")
	done
	exec {fd}>/run/lock/ipsecif-dkms.lock
	flock "$fd"
	fds+=("$fd")
	deb_run
	for fd in "${fds[@]}"; do
		exec {fd}>&-
	done
	rm -rf "$home"
}

deb_files_left() {	# the packages' paths that exist now but did not before
	local p
	while IFS= read -r p; do
		[ -e "$p" ] || [ -L "$p" ] || continue
		grep -qxF -- "$p" "$DEBOUT/existed-before" && continue
		echo "$p"
	done <"$DEBOUT/package-paths"
}

# deb_boot K KVER SRCVERSION: boot kernel K on the host root, with the
# packages installed, to run deb-guest.sh (TAP in DEBOUT/K.tap)
deb_boot() {
	local k=$1 vm
	vm=(vng --run "/boot/vmlinuz-$2" --disable-kvm --cpus 1 --memory 2G
	    --user root --rwdir="$DEBOUT=$DEBOUT" --verbose)
	rm -f "$DEBOUT/$k.tap"
	boot_vm "$k: deb" 900 "$DEBOUT/console-$k.log" \
		"bash $DEBOUT/deb-guest.sh '$3' >$DEBOUT/$k.tap 2>&1" "${vm[@]}" \
		>>"$DEBOUT/console-$k.log"
	touch "$DEBOUT/$k.tap"
}

# deb_verdict K: what deb-guest.sh found in kernel K, and its kernel log
deb_verdict() {
	local k=$1 line splat
	while IFS= read -r line; do
		case $line in
		"not ok "*) tap fail "$k: deb: ${line#not ok * }" ;;
		"ok "*) tap ok "$k: deb: ${line#ok * }" ;;
		"#   "*) echo "$line" ;;
		esac
	done <"$DEBOUT/$k.tap"
	if ! grep -q '^1\.\.[0-9]' "$DEBOUT/$k.tap"; then
		tap fail "$k: deb: VM booted and ran deb-guest.sh to its end" "console tail below"
		grep -v 'virtme initramfs' "$DEBOUT/console-$k.log" | tail -30 | sed 's/^/#   /'
		return
	fi
	splat=$(log_clean "$DEBOUT/console-$k.log")
	grep -q 'Kernel command line:' "$DEBOUT/console-$k.log" ||
		splat="no kernel log on the console"
	if [ -z "$splat" ]; then
		tap ok "$k: deb: kernel log has no BUG, WARNING or Oops"
	else
		tap fail "$k: deb: kernel log has no BUG, WARNING or Oops"
		echo "$splat" | sed 's/^/#   /'
	fi
}

deb_run() {
	local ver arch iplib k src built path got d f plain booted=()
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
	arch=$(dpkg --print-architecture)
	iplib=$(sh "$top/userspace/ip-lib-dir.sh")
	local dkmsdeb=ipsecif-dkms_${ver}_all.deb tooldeb=ipsecif_${ver}_${arch}.deb
	# Nothing of an earlier run, nor the harness's `make install` copies.
	if dpkg-query -W -f='${db:Status-Abbrev}\n' ipsecif ipsecif-dkms 2>/dev/null | grep -qv '^un'; then
		echo "# deb: purging ipsecif packages an earlier run left installed"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ipsecif ipsecif-dkms >&2
	fi
	dkms remove "ipsecif/$ver" --all >/dev/null 2>&1
	rm -rf /usr/src/ipsecif-* /var/lib/dkms/ipsecif
	rm -f /lib/modules/*/updates/ipsecif.ko* /lib/modules/*/updates/dkms/ipsecif.ko* \
		/usr/sbin/ipsecif "$iplib/link_ipsec.so" /usr/share/man/man8/ipsecif.8* \
		/usr/share/bash-completion/completions/ipsecif /usr/lib/ipsecif/updown
	rmdir /usr/lib/ipsecif 2>/dev/null
	for d in /lib/modules/*/; do
		[ -e "$d/modules.dep" ] && depmod "$(basename "$d")"
	done
	# Every path the two packages hold, and which of them exist beforehand
	# (directories such as /usr/sbin): afterwards, no other may be left.
	for f in "$dkmsdeb" "$tooldeb"; do
		dpkg-deb -c "$DEBDIR/$f" | awk '{ print $6 }' | sed 's|^\.||; s|/$||'
	done | grep -v '^$' | sort -u >"$DEBOUT/package-paths"
	while IFS= read -r f; do
		[ -e "$f" ] && echo "$f"
	done <"$DEBOUT/package-paths" >"$DEBOUT/existed-before"

	if (cd "$DEBDIR" && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y "./$dkmsdeb" "./$tooldeb") >"$DEBOUT/apt-install.log" 2>&1; then
		tap ok "deb: apt-get install ./$dkmsdeb ./$tooldeb"
	else
		tap fail "deb: apt-get install ./$dkmsdeb ./$tooldeb"
		tail -20 "$DEBOUT/apt-install.log" | sed 's/^/#   /'
	fi
	dpkg -L ipsecif ipsecif-dkms >"$DEBOUT/dpkg-L.txt" 2>&1
	sed -n 's/^/# deb: /; /Building for\|Building initial\|Skipped\|Error\|error/p' \
		"$DEBOUT/apt-install.log"

	cp "$top/selftests/vm/deb-guest.sh" "$DEBOUT/"
	plain=1
	for k in $(deb_kernels); do
		if ! resolve "$k"; then
			tap fail "$k: deb: kernel installed"
			continue
		fi
		# A kernel installed later: its package runs the kernel hook.
		if [ $plain = 1 ]; then
			plain=0
			if dkms remove "ipsecif/$ver" -k "$KVER" >"$DEBOUT/hook-$k.log" 2>&1 &&
			   ! ls /lib/modules/"$KVER"/updates/dkms/ipsecif.ko* >/dev/null 2>&1 &&
			   /etc/kernel/postinst.d/dkms "$KVER" >>"$DEBOUT/hook-$k.log" 2>&1 &&
			   dkms status -m ipsecif -v "$ver" -k "$KVER" 2>/dev/null | grep -q ': installed'; then
				tap ok "$k: deb: the kernel hook /etc/kernel/postinst.d/dkms builds and installs it for $KVER again"
			else
				tap fail "$k: deb: the kernel hook /etc/kernel/postinst.d/dkms builds and installs it for $KVER again"
				tail -10 "$DEBOUT/hook-$k.log" | sed 's/^/#   /'
			fi
		fi
		if dkms status -m ipsecif -v "$ver" -k "$KVER" 2>/dev/null | grep -q ': installed'; then
			tap ok "$k: deb: DKMS built and installed ipsecif/$ver for $KVER"
		else
			tap fail "$k: deb: DKMS built and installed ipsecif/$ver for $KVER" \
				"dkms status: $(dkms status -m ipsecif -k "$KVER" 2>&1 | tr '\n' ' ')"
		fi
		built=$(ls /var/lib/dkms/ipsecif/"$ver/$KVER"/*/module/ipsecif.ko* 2>/dev/null | head -1)
		src=$(modinfo -F srcversion "$built" 2>/dev/null)
		path=$(modinfo -k "$KVER" -n ipsecif 2>&1)
		got=$(modinfo -k "$KVER" -F srcversion ipsecif 2>&1)
		if [ -n "$src" ] && [ "$got" = "$src" ] &&
		   [[ $path == /lib/modules/"$KVER"/updates/dkms/ipsecif.ko* ]]; then
			tap ok "$k: deb: modinfo -n ipsecif is DKMS's $path, srcversion $src as DKMS built"
		else
			tap fail "$k: deb: modinfo -n ipsecif is DKMS's, srcversion as DKMS built" \
				"modinfo: $path $got; DKMS built: ${built:-nothing} ${src}"
		fi
		deb_boot "$k" "$KVER" "$src" &
		booted+=("$k")
	done
	# Both kernels boot at once (one VM per host core, as make check does).
	wait
	for k in "${booted[@]}"; do
		deb_verdict "$k"
	done

	if DEBIAN_FRONTEND=noninteractive apt-get purge -y ipsecif ipsecif-dkms \
	    >"$DEBOUT/apt-purge.log" 2>&1; then
		tap ok "deb: apt-get purge -y ipsecif ipsecif-dkms"
	else
		tap fail "deb: apt-get purge -y ipsecif ipsecif-dkms"
		tail -20 "$DEBOUT/apt-purge.log" | sed 's/^/#   /'
	fi
	left=$(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' ipsecif ipsecif-dkms 2>/dev/null |
		grep -v ' un *$')
	[ -z "$left" ] && tap ok "deb: dpkg knows neither package any more (no config-files state)" ||
		tap fail "deb: dpkg knows neither package any more (no config-files state)" "$left"
	left=$(find /lib/modules/ -name 'ipsecif.ko*' 2>&1; grep -l 'ipsecif\.ko' /lib/modules/*/modules.dep 2>/dev/null)
	[ -z "$left" ] && tap ok "deb: no ipsecif.ko under /lib/modules/*/, and no modules.dep names it" ||
		tap fail "deb: no ipsecif.ko under /lib/modules/*/, and no modules.dep names it" "$(echo $left)"
	left=$(ls -d "$iplib/link_ipsec.so" /usr/sbin/ipsecif /etc/modprobe.d/ipsecif.conf 2>/dev/null)
	[ -z "$left" ] && tap ok "deb: no link_ipsec.so in $iplib, no /usr/sbin/ipsecif, no /etc/modprobe.d/ipsecif.conf" ||
		tap fail "deb: no link_ipsec.so in $iplib, no /usr/sbin/ipsecif, no /etc/modprobe.d/ipsecif.conf" "$(echo $left)"
	left=$(ls -d /usr/src/ipsecif-* /var/lib/dkms/ipsecif 2>/dev/null; dkms status -m ipsecif 2>/dev/null)
	[ -z "$left" ] && tap ok "deb: no /usr/src/ipsecif-*, no dkms tree entry, dkms status empty" ||
		tap fail "deb: no /usr/src/ipsecif-*, no dkms tree entry, dkms status empty" "$(echo $left)"
	left=$(deb_files_left)
	[ -z "$left" ] && tap ok "deb: none of the $(wc -l <"$DEBOUT/package-paths") paths in the two packages is left" ||
		tap fail "deb: none of the $(wc -l <"$DEBOUT/package-paths") paths in the two packages is left" "$(echo $left)"
}
