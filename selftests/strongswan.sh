#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# strongSwan helpers for the selftests and the demo: one charon per network
# namespace, each with its own strongswan.conf, vici socket and log in a
# directory of its own, and a private /run that keeps their pid files
# apart. Sourced; prints nothing.

IKE_PIDS=()
CHARON=${CHARON:-/usr/lib/ipsec/charon}

# ike_start NS DIR: start a charon in NS ("-": this namespace) with its
# config, vici socket and log in DIR; returns once its vici socket is up.
# IKE_RETRANSMIT_TIMEOUT, _BASE and _TRIES change how soon it gives a peer
# up (2 s, 1.8, 4: about 45 s; failover.sh: 2 s, 1.4, 3: 14 s).
# Call it from the shell that will stop it (not in a $(...) subshell).
ike_start() {
	local ns=$1 dir=$2 d i
	local in_ns=(ip netns exec "$ns")
	[ "$ns" = - ] && in_ns=()
	# swanctl --load-all reads credentials from these, and warns if absent
	for d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa \
		ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$dir/$d"
	done
	cat >"$dir/strongswan.conf" <<CONF
swanctl {
	load = random nonce openssl pem pkcs1 x509 pubkey
}
charon {
	load = random nonce openssl pem pkcs1 x509 pubkey aes sha1 sha2 hmac gcm kdf kernel-netlink socket-default vici updown
	install_routes = no
	install_virtual_ip = no
	routing_table = 0
	retransmit_timeout = ${IKE_RETRANSMIT_TIMEOUT:-2.0}
	retransmit_base = ${IKE_RETRANSMIT_BASE:-1.8}
	retransmit_tries = ${IKE_RETRANSMIT_TRIES:-4}
	plugins {
		vici {
			socket = unix://$dir/charon.vici
		}
	}
	filelog {
		log {
			path = $dir/charon.log
			flush_line = yes
			time_format = %T
			time_add_ms = yes
			default = 1
			ike = ${IKE_LOG_LEVEL:-2}
			cfg = ${IKE_LOG_LEVEL:-2}
		}
	}
}
CONF
	# Bounded (timeout passes ike_stop's SIGTERM on to charon), its
	# output in a file; waits (at most 60 s, charon starts slowly on a
	# busy host) for the vici socket, not for a time.
	"${in_ns[@]}" timeout --foreground -k 5 ${IKE_TIMEOUT:-1200} unshare -m sh -c \
		"mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=$dir/strongswan.conf exec $CHARON" \
		>"$dir/charon.out" 2>&1 </dev/null &
	IKE_PIDS+=($!)
	for ((i = 0; i < 300; i++)); do
		[ -S "$dir/charon.vici" ] && return 0
		kill -0 "${IKE_PIDS[-1]}" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# swan DIR COMMAND ARGS...: swanctl against the charon of DIR
swan() {
	local dir=$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$dir/strongswan.conf \
		swanctl "$cmd" --uri "unix://$dir/charon.vici" "$@"
}

# ike_stop: stop every charon ike_start started
ike_stop() {
	local pid
	for pid in "${IKE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${IKE_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	IKE_PIDS=()
}
