/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ipsecif: route-based IPsec devices (link kind "ipsec") on top of xfrm.
 *
 * Netlink attributes nested in IFLA_INFO_DATA for kind "ipsec".
 */
#ifndef _UAPI_LINUX_IPSECIF_H
#define _UAPI_LINUX_IPSECIF_H

#include <linux/types.h>

#define IPSECIF_KIND		"ipsec"
/* ipsec0 cannot use if_id 0 (invalid in xfrm): libreswan maps it to 16384. */
#define IPSECIF_IPSEC0_IF_ID	16384

enum {
	IFLA_IPSEC_UNSPEC,
	IFLA_IPSEC_LINK,	/* u32: ifindex of the physical device, 0 = none */
	IFLA_IPSEC_IF_ID,	/* u32: xfrm if_id of SAs and policies, != 0 */
	__IFLA_IPSEC_MAX,
};

#define IFLA_IPSEC_MAX		(__IFLA_IPSEC_MAX - 1)

#endif /* _UAPI_LINUX_IPSECIF_H */
