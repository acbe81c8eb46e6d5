/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels ipsecif supports. Every
 * IPSECIF_* switch comes from module/probe.sh, which reads the headers of
 * the target kernel: no version numbers, as distributions backport.
 */
#ifndef _IPSECIF_COMPAT_H
#define _IPSECIF_COMPAT_H

#include <linux/netdevice.h>
#include <net/rtnetlink.h>
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

/* Formatted extack messages are newer than some kernels we support. */
static inline void ipsecif_extack_if_id_taken(struct netlink_ext_ack *extack,
					      const struct nlattr *attr,
					      u32 if_id,
					      const struct net_device *owner)
{
	bool xfrm = !netif_is_ipsecif(owner);

#ifdef NL_SET_ERR_MSG_FMT_MOD
	NL_SET_ERR_MSG_FMT_MOD(extack, "if_id %u is already used by %s%s",
			       if_id, xfrm ? "xfrm device " : "", owner->name);
#else
	if (xfrm)
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "if_id is already used by an xfrm device");
	else
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "if_id is already used by another ipsec device");
#endif
}

/*
 * rtnl_link_ops.newlink: ipsecif_newlink() behind either prototype. The
 * birth namespace is IFLA_LINK_NETNSID's if given, else where the device
 * is created. Older kernels create the device in the link namespace first
 * and move it afterwards, which gives the same answer.
 */
#ifdef IPSECIF_NEWLINK_PARAMS
static inline int ipsecif_newlink_op(struct net_device *dev,
				     struct rtnl_newlink_params *params,
				     struct netlink_ext_ack *extack)
{
	return ipsecif_newlink(params->link_net ? : dev_net(dev), dev,
			       params->tb, params->data, extack);
}
#else
static inline int ipsecif_newlink_op(struct net *src_net,
				     struct net_device *dev,
				     struct nlattr *tb[], struct nlattr *data[],
				     struct netlink_ext_ack *extack)
{
	return ipsecif_newlink(dev_net(dev), dev, tb, data, extack);
}
#endif

/*
 * pernet exit with RTNL held: exit_rtnl (one netns) or exit_batch_rtnl
 * (a list); both feed the same per-netns helper, ipsecif_net_kill().
 */

#if defined(IPSECIF_HAVE_EXIT_RTNL)
static inline void ipsecif_exit_rtnl(struct net *net, struct list_head *kill)
{
	ipsecif_net_kill(net, kill);
}

#define IPSECIF_PERNET_EXIT_RTNL .exit_rtnl = ipsecif_exit_rtnl,
#elif defined(IPSECIF_HAVE_EXIT_BATCH_RTNL)
static inline void ipsecif_exit_batch_rtnl(struct list_head *nets,
					   struct list_head *kill)
{
	struct net *net;

	list_for_each_entry(net, nets, exit_list)
		ipsecif_net_kill(net, kill);
}

#define IPSECIF_PERNET_EXIT_RTNL .exit_batch_rtnl = ipsecif_exit_batch_rtnl,
#else
#error "ipsecif needs pernet exit_rtnl or exit_batch_rtnl (Linux >= 6.1 Debian, 6.9 upstream)"
#endif

#endif /* _IPSECIF_COMPAT_H */
