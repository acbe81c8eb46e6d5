// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: the ipsec network devices and their rtnetlink interface.
 */

#include <linux/if_arp.h>
#include <linux/rhashtable.h>
#include <net/netns/generic.h>
#include <net/rtnetlink.h>

#include "ipsecif.h"
#include "compat.h"

unsigned int ipsecif_net_id __read_mostly;

#define IPSECIF_FEATURES (NETIF_F_SG | NETIF_F_FRAGLIST | \
			  NETIF_F_GSO_SOFTWARE | NETIF_F_HW_CSUM)

static int ipsecif_dev_init(struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);
	struct ipsecif_net *in = ipsecif_pernet(sif->net);
	int err;

	/* Charged to the creator's memory cgroup, as the device itself is. */
	sif->stats = __netdev_alloc_pcpu_stats(struct ipsecif_stats,
					       GFP_KERNEL_ACCOUNT);
	if (!sif->stats)
		return -ENOMEM;
	err = ipsecif_bundle_init(sif);
	if (err)
		goto free_stats;
	err = rhashtable_lookup_insert_fast(&in->table, &sif->node,
					    ipsecif_rht_params);
	if (err)
		goto free_bundle;
	list_add(&sif->list, &in->devs);
	netif_carrier_on(dev);
	return 0;

free_bundle:
	ipsecif_bundle_free(sif);
free_stats:
	free_percpu(sif->stats);
	sif->stats = NULL;
	return err;
}

static void ipsecif_dev_uninit(struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);
	struct ipsecif_net *in = ipsecif_pernet(sif->net);

	rhashtable_remove_fast(&in->table, &sif->node,
			       ipsecif_rht_params);
	list_del(&sif->list);
	list_del_init(&sif->stale_node);
}

/*
 * After the last reference is gone: a packet socket that passed its
 * netif_running() check before the device went down may still be in
 * ipsecif_xmit() during ndo_uninit, never now.
 */
static void ipsecif_dev_free(struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);

	ipsecif_bundle_free(sif);
	free_percpu(sif->stats);
}

static void ipsecif_get_stats64(struct net_device *dev,
				struct rtnl_link_stats64 *s)
{
	netdev_stats_to_stats64(s, &dev->stats);
	dev_fetch_sw_netstats(s, dev->tstats);
}

/* An MTU set by anyone but mtu.c pins it (automatic mode off). */
static int ipsecif_change_mtu(struct net_device *dev, int mtu)
{
	ipsecif_mtu_changed(netdev_priv(dev));
	WRITE_ONCE(dev->mtu, mtu);
	return 0;
}

/* Detached, the device is its own link: `ip link` shows "ipsec0", not "@NONE". */
static int ipsecif_get_iflink(const struct net_device *dev)
{
	const struct ipsecif *sif = netdev_priv(dev);

	return READ_ONCE(sif->link) ? : dev->ifindex;
}

const struct net_device_ops ipsecif_netdev_ops = {
	.ndo_init		= ipsecif_dev_init,
	.ndo_uninit		= ipsecif_dev_uninit,
	.ndo_start_xmit		= ipsecif_xmit,
	.ndo_get_stats64	= ipsecif_get_stats64,
	.ndo_change_mtu		= ipsecif_change_mtu,
	.ndo_get_iflink		= ipsecif_get_iflink,
};

/* uevents say DEVTYPE=ipsec: udev rules and networkd's Type= match it. */
static const struct device_type ipsecif_device_type = {
	.name = IPSECIF_KIND,
};

/*
 * A point-to-point link that carries multicast: routing daemons run over
 * it as they do over a GRE tunnel (OSPF's hellos to 224.0.0.5 and ff02::5
 * go into the tunnel, and FRR takes it for a point-to-point network).
 */
static void ipsecif_setup(struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);

	dev->netdev_ops = &ipsecif_netdev_ops;
	dev->ethtool_ops = &ipsecif_ethtool_ops;
	spin_lock_init(&sif->link_lock);
	INIT_LIST_HEAD(&sif->stale_node);
	ipsecif_linkstate_init(sif);
	SET_NETDEV_DEVTYPE(dev, &ipsecif_device_type);
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_NOARP | IFF_POINTOPOINT | IFF_MULTICAST;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = IP_MAX_MTU;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ipsecif_dev_free;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->features |= IPSECIF_FEATURES;
	dev->hw_features |= IPSECIF_FEATURES;
	ipsecif_set_lltx(dev);
	netif_keep_dst(dev);
}

/*
 * Strict from the first attribute: exact sizes. Types past the last are
 * ignored by the core's parse of IFLA_INFO_DATA, as for every kind.
 */
static const struct nla_policy ipsecif_policy[IFLA_IPSEC_MAX + 1] = {
	[IFLA_IPSEC_UNSPEC]	= { .strict_start_type = IFLA_IPSEC_LINK },
	[IFLA_IPSEC_LINK]	= { .type = NLA_U32 },
	[IFLA_IPSEC_IF_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[IFLA_IPSEC_LINK_NAME]	= { .type = NLA_NUL_STRING,
				    .len = IFNAMSIZ - 1 },
	[IFLA_IPSEC_MTU_AUTO]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_IPSEC_LINK_STATE]	= NLA_POLICY_MAX(NLA_U8, IPSECIF_LINK_STATE_MAX),
	[IFLA_IPSEC_TUNNEL]	= { .type = NLA_REJECT },
	[IFLA_IPSEC_TUNNEL_CHANGES] = { .type = NLA_REJECT },
	[IFLA_IPSEC_LAST_RX]	= { .type = NLA_REJECT },
	[IFLA_IPSEC_LAST_TX]	= { .type = NLA_REJECT },
};

/* Parameters as requested, checked before anything changes. */
struct ipsecif_parms {
	u32 if_id;
	int link;
	char link_name[IFNAMSIZ];
	bool mtu_auto;
	bool mtu_given;		/* IFLA_MTU in the same request */
	u8 link_state;
};

static int ipsecif_check_phys(struct net_device *self,
			      struct net_device *phys,
			      const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	if (phys == self || netif_is_ipsecif(phys)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "link must be a physical device, not an ipsec device");
		return -EINVAL;
	}
	return 0;
}

/* The link by index: it must exist. */
static int ipsecif_parse_link(struct net *net, struct net_device *self,
			      const struct nlattr *attr,
			      struct ipsecif_parms *parms,
			      struct netlink_ext_ack *extack)
{
	struct net_device *phys;

	parms->link = nla_get_u32(attr);
	parms->link_name[0] = '\0';
	if (!parms->link)
		return 0;
	phys = __dev_get_by_index(net, parms->link);
	if (!phys) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "link device not found");
		return -ENODEV;
	}
	strscpy(parms->link_name, phys->name, sizeof(parms->link_name));
	return ipsecif_check_phys(self, phys, attr, extack);
}

/* The link by name: absent for now is fine, the device waits for it. */
static int ipsecif_parse_link_name(struct net *net, struct net_device *self,
				   const struct nlattr *attr,
				   struct ipsecif_parms *parms,
				   struct netlink_ext_ack *extack)
{
	struct net_device *phys;

	nla_strscpy(parms->link_name, attr, sizeof(parms->link_name));
	parms->link = 0;
	if (!parms->link_name[0])
		return 0;
	if (!ipsecif_name_ok(parms->link_name)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "invalid link device name");
		return -EINVAL;
	}
	phys = __dev_get_by_name(net, parms->link_name);
	if (!phys)
		return 0;
	parms->link = phys->ifindex;
	return ipsecif_check_phys(self, phys, attr, extack);
}

/* Formatted extack messages are newer than some kernels we support. */
static void ipsecif_extack_if_id_taken(struct netlink_ext_ack *extack,
				       const struct nlattr *attr, u32 if_id,
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

static int ipsecif_check_if_id(struct net *net, struct ipsecif *self, u32 if_id,
			       const struct nlattr *attr,
			       struct netlink_ext_ack *extack)
{
	struct net_device *xfrmi;
	struct ipsecif *other;

	if (!if_id) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "if_id 0 is not valid");
		return -EINVAL;
	}
	other = ipsecif_find(net, if_id);
	if (other && other != self) {
		ipsecif_extack_if_id_taken(extack, attr, if_id, other->dev);
		return -EEXIST;
	}
	/* Its decrypted traffic would come out of ours: refuse the overlap. */
	xfrmi = ipsecif_xfrmi_find(net, if_id);
	if (xfrmi) {
		ipsecif_extack_if_id_taken(extack, attr, if_id, xfrmi);
		return -EEXIST;
	}
	return 0;
}

/*
 * Fill @parms from netlink on top of the current values and check them
 * all; nothing is applied here. IFLA_LINK (`ip link add ... link eth0`)
 * is accepted at creation as a synonym of IFLA_IPSEC_LINK.
 */
static int ipsecif_parse(struct ipsecif *sif, struct nlattr *tb[],
			 struct nlattr *data[], struct ipsecif_parms *parms,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *link_attr = NULL, *name_attr = NULL, *id_attr = NULL;
	int err = 0;

	if (tb && tb[IFLA_LINK])
		link_attr = tb[IFLA_LINK];
	if (data && data[IFLA_IPSEC_LINK])
		link_attr = data[IFLA_IPSEC_LINK];
	if (data) {
		name_attr = data[IFLA_IPSEC_LINK_NAME];
		id_attr = data[IFLA_IPSEC_IF_ID];
	}
	if (link_attr && name_attr) {
		NL_SET_ERR_MSG_ATTR(extack, name_attr,
				    "give the link by index or by name, not both");
		return -EINVAL;
	}

	if (link_attr)
		err = ipsecif_parse_link(sif->net, sif->dev, link_attr, parms,
					 extack);
	else if (name_attr)
		err = ipsecif_parse_link_name(sif->net, sif->dev, name_attr,
					      parms, extack);
	if (err)
		return err;
	if (id_attr)
		parms->if_id = nla_get_u32(id_attr);
	if (data && data[IFLA_IPSEC_LINK_STATE])
		parms->link_state = nla_get_u8(data[IFLA_IPSEC_LINK_STATE]);
	if (data && data[IFLA_IPSEC_MTU_AUTO]) {
		parms->mtu_auto = nla_get_u8(data[IFLA_IPSEC_MTU_AUTO]);
		if (parms->mtu_auto && parms->mtu_given) {
			NL_SET_ERR_MSG_ATTR(extack, data[IFLA_IPSEC_MTU_AUTO],
					    "an MTU and the automatic MTU together");
			return -EINVAL;
		}
	}
	return ipsecif_check_if_id(sif->net, sif, parms->if_id, id_attr,
				   extack);
}

/**
 * ipsecif_newlink() - create a device (rtnl_link_ops.newlink, below)
 * @net: the device's birth namespace, that of its SAs, policies and link
 * @dev: the device, not registered yet
 * @tb: the request's attributes
 * @data: its IFLA_INFO_DATA attributes, may be NULL
 * @extack: where to say why a request is refused
 *
 * Context: RTNL held.
 * Return: 0, or an error and nothing registered.
 */
static int ipsecif_newlink(struct net *net, struct net_device *dev,
			   struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	struct ipsecif *sif = netdev_priv(dev);
	struct ipsecif_parms parms = { .mtu_auto = !tb[IFLA_MTU],
				       .mtu_given = !!tb[IFLA_MTU] };
	int err;

	sif->dev = dev;
	sif->net = net;

	if (!data || !data[IFLA_IPSEC_IF_ID]) {
		if (strchr(dev->name, '%')) {
			err = dev_alloc_name(dev, dev->name);
			if (err < 0)
				return err;
		}
		parms.if_id = ipsecif_default_if_id(dev->name);
		if (!parms.if_id) {
			NL_SET_ERR_MSG_MOD(extack,
					   "if_id is required unless the device is named ipsecN");
			return -EINVAL;
		}
	}
	err = ipsecif_parse(sif, tb, data, &parms, extack);
	if (err)
		return err;

	sif->if_id = parms.if_id;
	sif->link = parms.link;
	sif->mtu_auto = parms.mtu_auto;
	sif->link_state = parms.link_state;
	strscpy(sif->link_name, parms.link_name, sizeof(sif->link_name));
	err = register_netdevice(dev);
	if (!err)
		ipsecif_mtu_update(sif);
	return err;
}

/*
 * ipsecif_newlink() behind either prototype of rtnl_link_ops.newlink. The
 * birth namespace is IFLA_LINK_NETNSID's if given, else where the device
 * is created. Older kernels create the device in the link namespace first
 * and move it afterwards, which gives the same answer.
 */
#ifdef IPSECIF_NEWLINK_PARAMS
static int ipsecif_newlink_op(struct net_device *dev,
			      struct rtnl_newlink_params *params,
			      struct netlink_ext_ack *extack)
{
	return ipsecif_newlink(params->link_net ? : dev_net(dev), dev,
			       params->tb, params->data, extack);
}
#else
static int ipsecif_newlink_op(struct net *src_net, struct net_device *dev,
			      struct nlattr *tb[], struct nlattr *data[],
			      struct netlink_ext_ack *extack)
{
	return ipsecif_newlink(dev_net(dev), dev, tb, data, extack);
}
#endif

/*
 * rtnetlink applies changelink first and the rest of the request (a move
 * to another namespace, an MTU, a name) after it, and does not undo the
 * change when the rest fails. Check beforehand what the rest could fail
 * on, so that a refused request leaves if_id and link as they were.
 */
static int ipsecif_check_rest(struct net_device *dev, struct nlattr *tb[],
			      struct netlink_ext_ack *extack)
{
	char name[IFNAMSIZ];
	u32 mtu;

	if (tb[IFLA_NET_NS_PID] || tb[IFLA_NET_NS_FD] ||
	    tb[IFLA_TARGET_NETNSID]) {
		NL_SET_ERR_MSG_MOD(extack,
				   "change the namespace and the ipsec attributes in separate requests");
		return -EINVAL;
	}
	if (tb[IFLA_MTU]) {
		mtu = nla_get_u32(tb[IFLA_MTU]);
		if (mtu < dev->min_mtu || mtu > dev->max_mtu) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_MTU],
					    "MTU out of range");
			return -EINVAL;
		}
	}
	if (tb[IFLA_IFNAME]) {
		nla_strscpy(name, tb[IFLA_IFNAME], sizeof(name));
		if (strcmp(name, dev->name) &&
		    (!ipsecif_name_ok(name) ||
		     __dev_get_by_name(dev_net(dev), name))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_IFNAME],
					    "new name is invalid or taken");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Whether @data would change the if_id or link of @sif. Both select SAs
 * and devices of the namespace the device was created in; moved to
 * another, its changelink requests come from there, and changelink cannot
 * check the credentials of the socket that sent one (as rtnetlink checks
 * them for the device's own namespace): they are refused.
 */
static bool ipsecif_rebinds(struct ipsecif *sif, struct nlattr *data[])
{
	char name[IFNAMSIZ];

	if (data[IFLA_IPSEC_IF_ID] &&
	    nla_get_u32(data[IFLA_IPSEC_IF_ID]) != sif->if_id)
		return true;
	ipsecif_get_link_name(sif, name);
	/* Link 0 detaches, and forgets the name of a link waited for. */
	if (data[IFLA_IPSEC_LINK] &&
	    (nla_get_u32(data[IFLA_IPSEC_LINK]) != (u32)sif->link ||
	     (!sif->link && name[0])))
		return true;
	return data[IFLA_IPSEC_LINK_NAME] &&
	       nla_strcmp(data[IFLA_IPSEC_LINK_NAME], name) != 0;
}

static int ipsecif_changelink(struct net_device *dev, struct nlattr *tb[],
			      struct nlattr *data[],
			      struct netlink_ext_ack *extack)
{
	struct ipsecif *sif = netdev_priv(dev);
	struct ipsecif_net *in = ipsecif_pernet(sif->net);
	struct ipsecif_parms parms = { .if_id = sif->if_id, .link = sif->link,
				       .mtu_auto = sif->mtu_auto,
				       .mtu_given = tb && tb[IFLA_MTU],
				       .link_state = sif->link_state };
	u32 old_id = sif->if_id;
	int err;

	strscpy(parms.link_name, sif->link_name, sizeof(parms.link_name));
	if (data && !net_eq(sif->net, dev_net(dev)) &&
	    ipsecif_rebinds(sif, data)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a moved device keeps its if_id and link: move it back to the namespace it was created in to change them");
		return -EPERM;
	}

	if (tb) {
		err = ipsecif_check_rest(dev, tb, extack);
		if (err)
			return err;
	}
	/* IFLA_LINK is only meaningful at creation. */
	err = ipsecif_parse(sif, NULL, data, &parms, extack);
	if (err)
		return err;

	if (parms.if_id != old_id) {
		rhashtable_remove_fast(&in->table, &sif->node,
				       ipsecif_rht_params);
		WRITE_ONCE(sif->if_id, parms.if_id);
		err = rhashtable_lookup_insert_fast(&in->table, &sif->node,
						    ipsecif_rht_params);
		if (err) {
			WRITE_ONCE(sif->if_id, old_id);
			WARN_ON(rhashtable_lookup_insert_fast(&in->table,
							      &sif->node,
							      ipsecif_rht_params));
			NL_SET_ERR_MSG_MOD(extack, "cannot rehash the device");
			return err;
		}
	}
	if (parms.if_id != old_id || parms.link != sif->link)
		ipsecif_bundle_flush(sif);	/* keeps no old SA alive */
	ipsecif_set_link(sif, parms.link, parms.link_name);
	sif->mtu_auto = parms.mtu_auto;
	WRITE_ONCE(sif->link_state, parms.link_state);
	ipsecif_mtu_update(sif);
	/*
	 * The core announces the change of an up device only
	 * (netdev_state_change()); monitors learn of a down one's here.
	 */
	if (!(dev->flags & IFF_UP))
		call_netdevice_notifiers(NETDEV_CHANGEINFODATA, dev);
	return 0;
}

static size_t ipsecif_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u32)) +	/* IFLA_IPSEC_LINK */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPSEC_IF_ID */
	       nla_total_size(IFNAMSIZ) +	/* IFLA_IPSEC_LINK_NAME */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPSEC_MTU_AUTO */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPSEC_LINK_STATE */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPSEC_TUNNEL */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPSEC_TUNNEL_CHANGES */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPSEC_LAST_RX */
	       nla_total_size(sizeof(u32));	/* IFLA_IPSEC_LAST_TX */
}

/* Seconds since the jiffies stamp @last in attribute @type; none if 0. */
static int ipsecif_put_age(struct sk_buff *skb, int type, unsigned long last)
{
	if (!last)
		return 0;
	return nla_put_u32(skb, type, min_t(unsigned long,
					    (jiffies - last) / HZ, U32_MAX));
}

static int ipsecif_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);
	char name[IFNAMSIZ];

	ipsecif_get_link_name(sif, name);
	if (nla_put_u32(skb, IFLA_IPSEC_LINK, READ_ONCE(sif->link)) ||
	    nla_put_u32(skb, IFLA_IPSEC_IF_ID, READ_ONCE(sif->if_id)) ||
	    (name[0] && nla_put_string(skb, IFLA_IPSEC_LINK_NAME, name)) ||
	    nla_put_u8(skb, IFLA_IPSEC_MTU_AUTO, READ_ONCE(sif->mtu_auto)) ||
	    nla_put_u8(skb, IFLA_IPSEC_LINK_STATE, READ_ONCE(sif->link_state)) ||
	    nla_put_u8(skb, IFLA_IPSEC_TUNNEL, READ_ONCE(sif->tunnel)) ||
	    nla_put_u32(skb, IFLA_IPSEC_TUNNEL_CHANGES,
			READ_ONCE(sif->tunnel_changes)) ||
	    ipsecif_put_age(skb, IFLA_IPSEC_LAST_RX, READ_ONCE(sif->last_rx)) ||
	    ipsecif_put_age(skb, IFLA_IPSEC_LAST_TX, READ_ONCE(sif->last_tx)))
		return -EMSGSIZE;
	return 0;
}

static struct net *ipsecif_get_link_net(const struct net_device *dev)
{
	const struct ipsecif *sif = netdev_priv(dev);

	return sif->net;
}

static struct rtnl_link_ops ipsecif_link_ops __read_mostly = {
	.kind		= IPSECIF_KIND,
	.maxtype	= IFLA_IPSEC_MAX,
	.policy		= ipsecif_policy,
	.priv_size	= sizeof(struct ipsecif),
	.setup		= ipsecif_setup,
	.newlink	= ipsecif_newlink_op,
	.changelink	= ipsecif_changelink,
	.get_size	= ipsecif_get_size,
	.fill_info	= ipsecif_fill_info,
	.get_link_net	= ipsecif_get_link_net,
};

/* A new namespace: no device yet, nothing queued. */
static int ipsecif_net_init(struct ipsecif_net *in, struct net *net)
{
	int err;

	in->net = net;
	INIT_LIST_HEAD(&in->devs);
	INIT_LIST_HEAD(&in->stale);
	spin_lock_init(&in->work_lock);
	ipsecif_xfrmi_net_init(in);
	ipsecif_mtu_net_init(in);
	ipsecif_bundle_net_init(in);
	err = rhashtable_init(&in->table, &ipsecif_rht_params);
	if (!err)
		WRITE_ONCE(in->ready, true);
	return err;
}

/*
 * The namespace is going away: from now on nothing of ours looks into its
 * state (ipsecif_find(), the key manager, the notifiers). Its devices are
 * still registered; the receive path may still see its SAs.
 */
static void ipsecif_net_pre_exit(struct ipsecif_net *in)
{
	spin_lock_bh(&in->work_lock);
	WRITE_ONCE(in->ready, false);
	spin_unlock_bh(&in->work_lock);
}

/*
 * After pre_exit, a grace period and the unregistration of every device
 * created in the namespace: no reader of the table is left, and no work.
 */
static void ipsecif_net_destroy(struct ipsecif_net *in)
{
	ipsecif_mtu_net_exit(in);
	ipsecif_bundle_net_exit(in);
	WARN_ON_ONCE(!list_empty(&in->devs));
	rhashtable_destroy(&in->table);
	ipsecif_xfrmi_net_exit(in);
}

/**
 * ipsecif_net_kill() - queue the devices created in a dying namespace
 * @net: the namespace, past its pre_exit
 * @kill: the list the core unregisters in one batch
 *
 * Every device created in @net goes, wherever it lives now: its SAs and
 * policies go with @net. Devices created elsewhere that live in @net are
 * deleted by the core through rtnl_link_ops.
 * Context: RTNL held (pernet exit_rtnl or exit_batch_rtnl).
 */
static void ipsecif_net_kill(struct net *net, struct list_head *kill)
{
	struct ipsecif *sif;

	list_for_each_entry(sif, &ipsecif_pernet(net)->devs, list)
		unregister_netdevice_queue(sif->dev, kill);
}

static int __net_init ipsecif_net_init_ops(struct net *net)
{
	return ipsecif_net_init(ipsecif_pernet(net), net);
}

static void __net_exit ipsecif_net_pre_exit_ops(struct net *net)
{
	ipsecif_net_pre_exit(ipsecif_pernet(net));
}

/* The pernet exit with RTNL held: one namespace, or a list of them. */
#if defined(IPSECIF_HAVE_EXIT_RTNL)
static void __net_exit ipsecif_net_exit_rtnl_ops(struct net *net,
						 struct list_head *kill)
{
	ipsecif_net_kill(net, kill);
}

#define IPSECIF_PERNET_EXIT_RTNL .exit_rtnl = ipsecif_net_exit_rtnl_ops,
#elif defined(IPSECIF_HAVE_EXIT_BATCH_RTNL)
static void __net_exit ipsecif_net_exit_batch_rtnl_ops(struct list_head *nets,
						       struct list_head *kill)
{
	struct net *net;

	list_for_each_entry(net, nets, exit_list)
		ipsecif_net_kill(net, kill);
}

#define IPSECIF_PERNET_EXIT_RTNL .exit_batch_rtnl = ipsecif_net_exit_batch_rtnl_ops,
#else
#error "ipsecif needs pernet exit_rtnl or exit_batch_rtnl (Linux >= 6.1 Debian, 6.9 upstream)"
#endif

static void __net_exit ipsecif_net_exit_ops(struct net *net)
{
	ipsecif_net_destroy(ipsecif_pernet(net));
}

/*
 * The core calls pre_exit, waits for an RCU grace period, then exit_rtnl
 * (or exit_batch_rtnl) and exit: see struct pernet_operations.
 */
static struct pernet_operations ipsecif_net_ops = {
	.init	= ipsecif_net_init_ops,
	.pre_exit = ipsecif_net_pre_exit_ops,
	IPSECIF_PERNET_EXIT_RTNL
	.exit	= ipsecif_net_exit_ops,
	.id	= &ipsecif_net_id,
	.size	= sizeof(struct ipsecif_net),
};

/*
 * Events of other devices: a link appearing, renamed, gone, resized, up,
 * down or changing its operative state (carrier, dormant), an
 * xfrm device taking an if_id of ours, a device with ESP offload going
 * down or away (xfrm, notified before us, deleted the SAs offloaded to it
 * with no SA notification); and of our own: going down drops the cached
 * bundles, so that no SA is kept alive meanwhile.
 */
static int ipsecif_netdev_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (netif_is_ipsecif(dev)) {
		if (event == NETDEV_DOWN)
			ipsecif_bundle_flush(netdev_priv(dev));
		return NOTIFY_DONE;
	}
	if ((event == NETDEV_DOWN || event == NETDEV_UNREGISTER) &&
	    (dev->features & NETIF_F_HW_ESP))
		ipsecif_km_sas_flushed(dev_net(dev));
	switch (event) {
	case NETDEV_REGISTER:
	case NETDEV_UNREGISTER:
		ipsecif_xfrmi_track(dev, event);
		fallthrough;
	case NETDEV_CHANGE:
		ipsecif_xfrmi_warn(dev, event);
		break;
	}
	switch (event) {
	case NETDEV_REGISTER:
	case NETDEV_CHANGENAME:
	case NETDEV_UNREGISTER:
	case NETDEV_CHANGEMTU:
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		ipsecif_link_event(dev, event);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ipsecif_netdev_nb = {
	.notifier_call = ipsecif_netdev_event,
};

/**
 * ipsecif_device_init() - per-namespace state, and the events of devices
 *
 * Every namespace gets its state, and registering the notifier replays
 * the registration of every existing device (xfrm devices are tracked).
 * No ipsec device can exist yet, as ipsecif_device_start() comes after the
 * xfrm side is in place.
 *
 * Return: 0, or the error of the registration that failed (none is left).
 */
int ipsecif_device_init(void)
{
	int err;

	err = register_pernet_device(&ipsecif_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&ipsecif_netdev_nb);
	if (err)
		unregister_pernet_device(&ipsecif_net_ops);
	return err;
}

/**
 * ipsecif_device_exit() - the reverse, after ipsecif_device_stop()
 */
void ipsecif_device_exit(void)
{
	unregister_netdevice_notifier(&ipsecif_netdev_nb);
	unregister_pernet_device(&ipsecif_net_ops);
}

static int ipsecif_create_one(unsigned int n, u8 link_state)
{
	struct net_device *dev, *xfrmi;
	struct ipsecif *sif;
	char name[IFNAMSIZ];
	int err;

	snprintf(name, sizeof(name), "ipsec%u", n);
	if (__dev_get_by_name(&init_net, name)) {
		pr_warn("%s already exists, not creating it\n", name);
		return 0;
	}
	dev = alloc_netdev(sizeof(*sif), name, NET_NAME_ENUM, ipsecif_setup);
	if (!dev)
		return -ENOMEM;
	dev->rtnl_link_ops = &ipsecif_link_ops;
	sif = netdev_priv(dev);
	sif->dev = dev;
	sif->net = &init_net;
	sif->if_id = ipsecif_default_if_id(name);
	sif->mtu_auto = true;	/* as ip link add without an MTU */
	sif->link_state = link_state;
	if (ipsecif_find(&init_net, sif->if_id)) {
		pr_warn("if_id %u of %s is taken, not creating it\n",
			sif->if_id, name);
		goto skip;
	}
	xfrmi = ipsecif_xfrmi_find(&init_net, sif->if_id);
	if (xfrmi) {
		pr_warn("if_id %u of %s is used by xfrm device %s, not creating it\n",
			sif->if_id, name, xfrmi->name);
		goto skip;
	}
	err = register_netdevice(dev);
	if (err) {
		free_netdev(dev);
		return err;
	}
	ipsecif_mtu_stale(sif);
	return 0;

skip:
	free_netdev(dev);
	return 0;
}

/**
 * ipsecif_create_at_load() - the devices=N module parameter
 * @count: N
 * @link_state: the linkstate= module parameter, checked
 *
 * ipsec0..ipsec{N-1} in the initial namespace, down and detached, their
 * MTU automatic once attached. A name or if_id already taken is skipped
 * with a warning.
 * Return: 0, or the error of the device that failed (those before it
 * stay, for rtnl_link_unregister() to delete).
 */
static int ipsecif_create_at_load(unsigned int count, u8 link_state)
{
	unsigned int i;
	int err = 0;

	rtnl_lock();
	for (i = 0; i < count && !err; i++)
		err = ipsecif_create_one(i, link_state);
	ipsecif_mtu_refresh(ipsecif_pernet(&init_net));
	rtnl_unlock();
	return err;
}

/**
 * ipsecif_device_start() - the link kind "ipsec", and the devices at load
 * @devices: the devices= module parameter, checked
 * @links: the links= module parameter, checked (ipsecif_links_at_load())
 * @link_state: the linkstate= module parameter, checked: that of the
 *	devices at load
 *
 * Return: 0, or an error and no link kind nor device left.
 */
int ipsecif_device_start(unsigned int devices, const char *links,
			 u8 link_state)
{
	int err;

	err = rtnl_link_register(&ipsecif_link_ops);
	if (err)
		return err;
	err = ipsecif_create_at_load(devices, link_state);
	if (!err)
		err = ipsecif_links_at_load(links, devices, true);
	if (err)
		rtnl_link_unregister(&ipsecif_link_ops);
	return err;
}

/**
 * ipsecif_device_stop() - delete every ipsec device, in every namespace
 */
void ipsecif_device_stop(void)
{
	rtnl_link_unregister(&ipsecif_link_ops);
}
