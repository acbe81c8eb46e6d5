#!/bin/bash
# Install what building and testing ipsecif needs on a Debian 12 host (root).
# Idempotent: every step checks before it acts. Used by `make check` and `make demo`.
#   scripts/setup-host.sh [6.1] [6.12] [7.2] [debug] [lint] [bench] [deb]
# (default: the three kernels; lint: checkpatch, sparse, shellcheck; bench: iperf3;
# deb: what `make deb` needs, and with nothing else only that)
set -euo pipefail

KERNELS=${*:-"6.1 6.12 7.2"}
CACHE=${IPSECIF_CACHE:-/var/cache/ipsecif}
SID=${CACHE}/sid
export DEBIAN_FRONTEND=noninteractive

log() { echo "# setup: $*" >&2; }

# Real peers for the end-to-end tests: IKEv2, DHCP server and client.
IKE_PKGS="strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
	dnsmasq-base dhcpcd-base"

# Routing daemons over the tunnels (frr.sh): zebra, ospfd, ospf6d, bgpd,
# bfdd. The tests start their own per namespace; the package's service must
# not start on the machine (see no_service_start).
FRR_PKGS="frr"

[ "$(id -u)" = 0 ] || { echo "setup-host.sh: must run as root" >&2; exit 1; }

# The Debian archive URI this machine already uses (never hard-code a host).
archive_uri() {
	local u
	u=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v -- '-security' | grep -m1 debian || true)
	[ -n "$u" ] || u=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null || true)
	[ -n "$u" ] || { echo "setup-host.sh: no Debian archive in apt sources" >&2; exit 1; }
	echo "${u%% *}"
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return
	apt-get update -qq >&2
	apt_updated=1
}

need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return
	apt_update
	log "installing ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# no_service_start ROOT CMD...: CMD (an apt-get install) with a
# policy-rc.d in ROOT ("" for /) that refuses every service start, so that
# a package's daemon does not start on the machine (or from the chroot);
# the machine's own policy-rc.d, if any, is left as it was.
no_service_start() {
	local f=$1/usr/sbin/policy-rc.d made= rc=0
	shift
	if [ ! -e "$f" ]; then
		printf '#!/bin/sh\n# ipsecif setup-host.sh: no service starts while it installs\nexit 101\n' >"$f"
		chmod 755 "$f"
		made=1
	fi
	"$@" || rc=$?
	[ -z "$made" ] || rm -f "$f"
	return $rc
}

# frr_pkgs: FRR without its service running on the host
frr_pkgs() {
	local missing=() p
	for p in $FRR_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return
	apt_update
	log "installing ${missing[*]} (its service not started)"
	no_service_start "" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now frr.service >&2 2>/dev/null || true
	fi
}

trixie_source() {
	local f=/etc/apt/sources.list.d/ipsecif-trixie.sources
	[ -f "$f" ] && return
	log "adding a low-priority trixie source for virtme-ng"
	cat > "$f" <<SRC
Types: deb
URIs: $(archive_uri)
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	cat > /etc/apt/preferences.d/ipsecif-trixie <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
	apt_updated=
}

host_tools() {
	need_pkgs build-essential make gcc kmod iproute2 qemu-system-x86 qemu-utils \
		debootstrap libmnl-dev pkg-config sparse tcpdump nftables iptables jq socat \
		busybox-static procps iputils-ping python3 dkms udev util-linux man-db ethtool \
		$IKE_PKGS
	frr_pkgs
	if ! command -v vng >/dev/null; then
		trixie_source
		apt_update
		log "installing virtme-ng from trixie"
		apt-get install -y -qq --no-install-recommends virtme-ng/trixie >&2
	fi
}

kernel_61() {
	need_pkgs linux-image-amd64 linux-headers-amd64
}

kernel_612() {
	ls /boot/vmlinuz-6.12.*+deb12-amd64 >/dev/null 2>&1 &&
		ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 >/dev/null 2>&1 && return
	apt_update
	local v
	v=$(apt-cache search --names-only '^linux-image-6\.12\..*\+deb12-amd64$' |
		awk '{print $1}' | grep -v -- '-dbg' | sort -V | tail -1)
	[ -n "$v" ] || { echo "setup-host.sh: no 6.12 kernel in bookworm-security" >&2; exit 1; }
	log "installing $v"
	apt-get install -y -qq --no-install-recommends "$v" "${v/image/headers}" >&2
}

# The KASAN/lockdep/kmemleak 6.12 build shipped beside the repository.
kernel_debug() {
	local dir=${IPSECIF_DEBUG_KERNELS:-$(dirname "$0")/../../shared/kernels}
	ls /boot/vmlinuz-*-ipsecif-debug >/dev/null 2>&1 && return
	ls "$dir"/linux-image-*-ipsecif-debug_*.deb >/dev/null 2>&1 || {
		echo "setup-host.sh: no debug kernel packages in $dir" >&2
		exit 1
	}
	log "installing the debug kernel from $dir"
	dpkg -i "$dir"/linux-image-*-ipsecif-debug_*.deb \
		"$dir"/linux-headers-*-ipsecif-debug_*.deb >&2
}

SID_PKGS="gcc make kmod iproute2 libc6-dev libmnl-dev pkg-config
	linux-headers-amd64 linux-image-amd64 udev xz-utils tcpdump nftables
	iptables jq procps iputils-ping busybox socat python3 man-db ethtool $IKE_PKGS
	$FRR_PKGS"

# libreswan (5.2, sid) for the libreswan test, beside strongSwan: the two
# conflict as packages, so its package is unpacked into /opt/libreswan of
# the sid root, and only its libraries are installed.
LSW_LIBS="libnss3-tools libcurl4-gnutls libevent-core-2.1-7t64
	libevent-pthreads-2.1-7t64 libldap2 libldns3t64 libnspr4 libnss3
	libunbound8 dns-root-data libaudit1 libpam0g libselinux1 libcap-ng0"
SID_PKGS+=" $LSW_LIBS"

# pluto runs its helpers from /usr/libexec/ipsec, whatever its own path:
# that directory (no package of the root owns it) points into the copy.
sid_libreswan() {
	if [ ! -x "$SID/opt/libreswan/usr/libexec/ipsec/pluto" ]; then
		log "unpacking sid's libreswan into $SID/opt/libreswan (not installed: it conflicts with strongSwan)"
		rm -f "$SID"/tmp/libreswan_*.deb
		chroot "$SID" sh -c 'cd /tmp && apt-get download -qq libreswan' >&2
		mkdir -p "$SID/opt/libreswan"
		dpkg -x "$SID"/tmp/libreswan_*.deb "$SID/opt/libreswan"
		rm -f "$SID"/tmp/libreswan_*.deb
	fi
	# (-L: the link's target resolves only inside the root)
	[ -e "$SID/usr/libexec/ipsec" ] || [ -L "$SID/usr/libexec/ipsec" ] ||
		ln -s /opt/libreswan/usr/libexec/ipsec "$SID/usr/libexec/ipsec"
}

sid_root() {
	local missing=() p
	if [ ! -f "$SID/.ipsecif-ready" ]; then
		need_pkgs debootstrap
		log "debootstrapping sid into $SID (a minute or two)"
		mountpoint -q "$SID/proc" 2>/dev/null && umount "$SID/proc"
		rm -rf "$SID"
		mkdir -p "$CACHE"
		debootstrap --variant=minbase sid "$SID" "$(archive_uri)" >&2
		# The archive may be a snapshot whose sid Release file has expired.
		echo 'Acquire::Check-Valid-Until "false";' > "$SID/etc/apt/apt.conf.d/99ipsecif"
		touch "$SID/.ipsecif-ready"
	fi
	# Also on an existing root: the package list grows with the tests.
	for p in $SID_PKGS; do
		chroot "$SID" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} != 0 ]; then
		log "installing ${missing[*]} in $SID"
		mountpoint -q "$SID/proc" || mount -t proc proc "$SID/proc"
		chroot "$SID" apt-get update -qq >&2
		no_service_start "$SID" chroot "$SID" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
		umount "$SID/proc" || true
	fi
	sid_libreswan
}

# The benchmark needs iperf3 on whichever root the VM boots.
case " $KERNELS " in *" bench "*) SID_PKGS+=" iperf3" ;; esac

# sid's iperf3 (3.16 and later) runs a thread per stream, and under TCG
# its 16-stream client starves until the server gives up ("server test
# duration expired"). The benchmark runs the host's single-threaded iperf3
# on the sid root too, so that every kernel gets the same load generator.
sid_bench_iperf() {
	local d=$SID/usr/local/lib/ipsecif-bench lib
	lib=$(ldd /usr/bin/iperf3 | awk '$1 == "libiperf.so.0" { print $3 }')
	[ -n "$lib" ] || { echo "setup-host.sh: no libiperf for the host's iperf3" >&2; return 1; }
	cmp -s /usr/bin/iperf3 "$d/iperf3" && cmp -s "$lib" "$d/libiperf.so.0" && return 0
	log "the host's iperf3 $(iperf3 --version | awk 'NR == 1 { print $2 }') for the benchmark on $SID"
	mkdir -p "$d" "$SID/usr/local/bin"
	cp /usr/bin/iperf3 "$d/iperf3" && cp "$lib" "$d/libiperf.so.0" || return 1
	printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' \
		/usr/local/lib/ipsecif-bench /usr/local/lib/ipsecif-bench/iperf3 \
		>"$SID/usr/local/bin/iperf3"
	chmod 755 "$SID/usr/local/bin/iperf3"
}

# Building the Debian packages (make deb): debhelper with dh_dkms, lintian.
DEB_PKGS="build-essential dpkg-dev debhelper dh-dkms lintian libmnl-dev pkg-config git"

[ "$KERNELS" = deb ] || host_tools
for k in $KERNELS; do
	case $k in
	6.1) kernel_61 ;;
	6.12) kernel_612 ;;
	7.2|sid) sid_root ;;
	debug) kernel_debug ;;
	lint) need_pkgs linux-source-6.12 sparse shellcheck ;;	# checkpatch.pl, kernel-doc, sparse
	bench) need_pkgs iperf3 ;;
	deb) need_pkgs $DEB_PKGS ;;
	*) echo "setup-host.sh: unknown kernel '$k'" >&2; exit 1 ;;
	esac
done
if [[ " $KERNELS " == *" bench "* && " $KERNELS " =~ \ (7\.2|sid)\  ]]; then
	sid_bench_iperf || exit 1
fi
log "ready"
