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
	IFLA_IPSEC_LINK_STATE,	/* u8: enum ipsecif_link_state */
	IFLA_IPSEC_TUNNEL,	/* u8, read-only: enum ipsecif_tunnel */
	IFLA_IPSEC_TUNNEL_CHANGES,	/* u32, read-only: the tunnel went
					 * up or down, since creation
					 */
	IFLA_IPSEC_LAST_RX,	/* u32, read-only: seconds since a packet last
				 * came out of the tunnel; absent: none yet
				 */
	IFLA_IPSEC_LAST_TX,	/* u32, read-only: seconds since a packet last
				 * went into it (encrypted); absent: none yet
				 */
	__IFLA_IPSEC_MAX,
};

#define IFLA_IPSEC_MAX		(__IFLA_IPSEC_MAX - 1)

/*
 * What the device's link state says (IFLA_IPSEC_LINK_STATE). The tunnel
 * is up while an outbound policy of the if_id has a valid SA for each of
 * its templates, and the link, when the device is bound to one, is
 * present and up (module/ipsecif.rst has the exact rule).
 */
enum ipsecif_link_state {
	IPSECIF_LINK_STATE_ALWAYS,	/* carrier on, UNKNOWN: as before */
	IPSECIF_LINK_STATE_DORMANT,	/* DORMANT while the tunnel is down */
	IPSECIF_LINK_STATE_CARRIER,	/* no carrier while the tunnel is down */
	__IPSECIF_LINK_STATE_MAX,
};

#define IPSECIF_LINK_STATE_MAX	(__IPSECIF_LINK_STATE_MAX - 1)

/* The tunnel up, or why it is down (IFLA_IPSEC_TUNNEL), in every mode. */
enum ipsecif_tunnel {
	IPSECIF_TUNNEL_UP,
	IPSECIF_TUNNEL_NO_POLICY,	/* no outbound policy of the if_id */
	IPSECIF_TUNNEL_NO_SA,		/* a policy, no valid SA for it */
	IPSECIF_TUNNEL_LINK_ABSENT,	/* its link has no device */
	IPSECIF_TUNNEL_LINK_DOWN,	/* its link is down or has no carrier */
	__IPSECIF_TUNNEL_MAX,
};

#endif /* _UAPI_LINUX_IPSECIF_H */
