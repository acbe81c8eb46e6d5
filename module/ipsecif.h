/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecif: route-based IPsec devices bound to xfrm SAs and policies by if_id.
 */
#ifndef _IPSECIF_H
#define _IPSECIF_H

#include <linux/netdevice.h>
#include <linux/rhashtable-types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <uapi/linux/ipsecif.h>

/*
 * One ipsec device. @net is the namespace it was created in: its SAs and
 * policies live there, and so does @link. The device itself may be moved
 * to another namespace and keeps encrypting in @net (as WireGuard does).
 */
struct ipsecif {
	struct rhash_head node;		/* in net's table, keyed by if_id */
	struct list_head list;		/* net's list of devices, under RTNL */
	struct net_device *dev;
	struct net *net;
	u32 if_id;			/* key: change only while unhashed */
	int link;			/* ifindex in @net, 0 when detached */
	struct ipsecif_bundle __percpu *bundle;	/* see xfrm.c */
};

/* Per-namespace state, for devices created in that namespace. */
struct ipsecif_net {
	struct rhashtable table;	/* if_id -> struct ipsecif, RCU */
	struct list_head devs;		/* all devices, under RTNL */
	bool ready;			/* init has run for this namespace */
};

extern unsigned int ipsecif_net_id;
extern struct rtnl_link_ops ipsecif_link_ops;
extern const struct net_device_ops ipsecif_netdev_ops;

static inline struct ipsecif_net *ipsecif_pernet(struct net *net)
{
	return net_generic(net, ipsecif_net_id);
}

static inline bool netif_is_ipsecif(const struct net_device *dev)
{
	return dev->netdev_ops == &ipsecif_netdev_ops;
}

/* device.c */
struct ipsecif *ipsecif_find(struct net *net, u32 if_id);
int ipsecif_net_init(struct ipsecif_net *in);
void ipsecif_net_kill(struct net *net, struct list_head *kill);
void ipsecif_net_destroy(struct ipsecif_net *in);
void ipsecif_detach_from(struct net_device *phys);
int ipsecif_create_at_load(unsigned int count);
u32 ipsecif_default_if_id(const char *name);

/* xfrm.c */
netdev_tx_t ipsecif_xmit(struct sk_buff *skb, struct net_device *dev);
int ipsecif_xfrm_init(void);
void ipsecif_xfrm_exit(void);
void ipsecif_claim_if_cb(void);
int ipsecif_bundle_init(struct ipsecif *p);
void ipsecif_bundle_free(struct ipsecif *p);
void ipsecif_release_if_cb(void);

#endif /* _IPSECIF_H */
