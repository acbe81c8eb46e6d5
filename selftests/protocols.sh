#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# AH and IPComp SAs bound to an ipsec device. IPComp sends payloads that
# do not compress (or are small) as plain IP-in-IP, which reaches the device
# through the xfrm tunnel handlers rather than the IPComp protocol handler.
#   - AH (hmac(sha256)) over IPv4 on ipsec3: IPv4 and IPv6 pings
#   - ... AH on the wire, received on B's ipsec3
#   - IPComp (deflate) over IPv6 on ipsec4: a large compressible IPv4
#     ping goes compressed
#   - ... small IPv4 and IPv6 pings go uncompressed, as IP-in-IP; all come
#     out of B's ipsec4
#
# Topology: wire() A 10.0.0.1 fd00::1 -- B 10.0.0.2 fd00::2 (veth0);
# ipsec3 (if_id 3, 172.16.3.x, fd03::x) and ipsec4 (if_id 4, 172.16.4.x,
# fd04::x) on each end attached to veth0, x = 1 on A, 2 on B.
source "$(dirname "$0")/lib.sh"

load_module || ksft_skip_all "ipsecif module not available"
wire || ksft_skip_all "cannot create namespaces and veth"

AUTH_AB=0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
AUTH_BA=0xffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100

# proto_end NS ME LOCAL REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN PROTO IF_ID (ipsecIF_ID, 172.16.IF_ID.ME)
proto_end() {
	local ns=$1 me=$2 l=$3 r=$4 so=$5 si=$6 ko=$7 ki=$8 proto=$9 id=${10}
	local alg dir s d
	case $proto in
	ah) alg=(auth-trunc 'hmac(sha256)') ;;
	comp) alg=(comp deflate) ;;
	esac
	ipsec_end "$ns" "$id" "$me" || return 1
	if [ "$proto" = ah ]; then
		ip -n "$ns" xfrm state add src "$l" dst "$r" proto ah spi "$so" reqid "$so" \
			mode tunnel flag af-unspec if_id "$id" "${alg[@]}" "$ko" 128 &&
		ip -n "$ns" xfrm state add src "$r" dst "$l" proto ah spi "$si" reqid "$si" \
			mode tunnel flag af-unspec if_id "$id" "${alg[@]}" "$ki" 128 || return 1
	else
		ip -n "$ns" xfrm state add src "$l" dst "$r" proto comp spi "$so" reqid "$so" \
			mode tunnel flag af-unspec if_id "$id" "${alg[@]}" &&
		ip -n "$ns" xfrm state add src "$r" dst "$l" proto comp spi "$si" reqid "$si" \
			mode tunnel flag af-unspec if_id "$id" "${alg[@]}" || return 1
	fi
	for sel in 0.0.0.0/0 ::/0; do
		ip -n "$ns" xfrm policy add dir out src $sel dst $sel if_id "$id" \
			tmpl src "$l" dst "$r" proto "$proto" reqid "$so" mode tunnel &&
		ip -n "$ns" xfrm policy add dir in src $sel dst $sel if_id "$id" \
			tmpl src "$r" dst "$l" proto "$proto" reqid "$si" mode tunnel level use ||
			return 1
	done
}

if proto_end "$A" 1 $UNDER4_A $UNDER4_B 0xc01 0xc02 $AUTH_AB $AUTH_BA ah 3 &&
   proto_end "$B" 2 $UNDER4_B $UNDER4_A 0xc02 0xc01 $AUTH_BA $AUTH_AB ah 3; then
	capture_start "$B" veth0
	check "AH: IPv4 ping through ipsec3" ping_ok "$A" 172.16.3.2
	check "AH: IPv6 ping through ipsec3" ping_ok "$A" fd03::2
	capture_stop
	check_ge "AH: packets on the wire are AH" 4 "$(capture_count "$B" veth0 'ip proto 51')"
	check_ge "AH: received on B's ipsec3" 4 "$(dev_stat "$B" ipsec3 rx_packets)"
else
	nok "AH: SAs and policies (kernel without AH or hmac(sha256)?)"
fi

if proto_end "$A" 1 $UNDER6_A $UNDER6_B 0xd01 0xd02 - - comp 4 &&
   proto_end "$B" 2 $UNDER6_B $UNDER6_A 0xd02 0xd01 - - comp 4; then
	ok "IPComp over IPv6: both ends"
	capture_start "$B" veth0
	check "IPComp: large compressible IPv4 ping through ipsec4" \
		ip netns exec "$A" ping -q -c 2 -W 2 -s 1200 -p 00 172.16.4.2
	check "IPComp: small IPv4 ping (sent uncompressed, IP-in-IP)" ping_ok "$A" 172.16.4.2
	check "IPComp: small IPv6 ping (sent uncompressed, IP-in-IP)" ping_ok "$A" fd04::2
	capture_stop
	check_ge "IPComp: compressed packets on the wire" 2 \
		"$(capture_count "$B" veth0 'ip6 proto 108')"
	check_ge "IPComp: uncompressed IP-in-IP on the wire" 2 \
		"$(capture_count "$B" veth0 'ip6 proto 4 or ip6 proto 41')"
	check_ge "IPComp: all of them came out of B's ipsec4" 6 "$(dev_stat "$B" ipsec4 rx_packets)"
else
	nok "IPComp over IPv6: SAs and policies (kernel without IPComp?)"
fi

ksft_exit
