/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels ipsecif supports. Every
 * IPSECIF_* switch comes from module/probe.sh, which reads the headers of
 * the target kernel: no version numbers, as distributions backport.
 */
#ifndef _IPSECIF_COMPAT_H
#define _IPSECIF_COMPAT_H

#include <linux/netdevice.h>
#include <net/xfrm.h>

#ifdef IPSECIF_HAVE_NET_GSO_H
#include <net/gso.h>
#endif

/*
 * The unbound system workqueue: kernels that renamed it warn once for each
 * work queued under the old name.
 */
#ifdef IPSECIF_HAVE_SYSTEM_DFL_WQ
#define ipsecif_unbound_wq system_dfl_wq
#else
#define ipsecif_unbound_wq system_unbound_wq
#endif

static inline void ipsecif_set_lltx(struct net_device *dev)
{
#ifdef IPSECIF_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

static inline int ipsecif_decode_session(struct net *net, struct sk_buff *skb,
					 struct flowi *fl, unsigned int family)
{
#ifdef IPSECIF_DECODE_SESSION_NET
	return xfrm_decode_session(net, skb, fl, family);
#else
	return xfrm_decode_session(skb, fl, family);
#endif
}

#endif /* _IPSECIF_COMPAT_H */
