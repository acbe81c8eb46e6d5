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

/*
 * The physical device (link) is that of the device's birth namespace, set
 * by index (IFLA_IPSEC_LINK, or IFLA_LINK at creation) or by name
 * (IFLA_IPSEC_LINK_NAME), not both in one request. The device keeps the
 * name: when the link goes away (or is renamed away) the device is
 * detached (IFLA_IPSEC_LINK 0, IFLA_IPSEC_LINK_NAME still set: "absent"),
 * and a device of that name appearing in the birth namespace is attached
 * again by itself (RTM_NEWLINK notification). A name that does not exist
 * yet is accepted and waited for. Link 0 or name "" detaches for good.
 * Changing if_id or the link of a device moved to another namespace
 * needs CAP_NET_ADMIN in its birth namespace.
 */
enum {
	IFLA_IPSEC_UNSPEC,
	IFLA_IPSEC_LINK,	/* u32: ifindex of the link, 0 = none or absent */
	IFLA_IPSEC_IF_ID,	/* u32: xfrm if_id of SAs and policies, != 0;
				 * default N for ipsecN, 16384 for ipsec0
				 */
	IFLA_IPSEC_LINK_NAME,	/* string: the link's name, kept while absent */
	IFLA_IPSEC_MTU_AUTO,	/* u8: 1 = the MTU follows the link and the
				 * SAs (default); setting an MTU pins it (0)
				 */
	__IFLA_IPSEC_MAX,
};

#define IFLA_IPSEC_MAX		(__IFLA_IPSEC_MAX - 1)

#endif /* _UAPI_LINUX_IPSECIF_H */
