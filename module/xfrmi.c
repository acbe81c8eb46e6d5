// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: living with Linux's xfrm_interface, which an in-tree version
 * would not need (it would share xfrm_interface's code).
 *
 * Inbound policy checks learn a packet's if_id from one global callback
 * slot (xfrm_if_register_cb()) that both modules claim; ours answers for
 * both kinds of device. The two kinds must not share an if_id in a
 * namespace: ipsecif_xfrmi_find() lets the netlink code refuse it, and
 * ipsecif_xfrmi_warn() reports the order it cannot refuse.
 */

#include <linux/module.h>
#include <net/ip.h>
#include <net/xfrm.h>

#include "ipsecif.h"
#include "compat.h"

/* An xfrm device's if_id, as xfrm_interface's own callback gives it. */
static bool ipsecif_decode_xfrmi(struct sk_buff *skb, struct net_device *dev,
				 struct xfrm_if_decode_session_result *res)
{
	const struct xfrm_if *xi = netdev_priv(dev);

	res->net = xi->net;
	res->if_id = xi->p.collect_md ? xfrm_input_state(skb)->if_id :
					xi->p.if_id;
	return true;
}

static bool netif_is_xfrmi(const struct net_device *dev)
{
	return dev->rtnl_link_ops &&
	       !strcmp(dev->rtnl_link_ops->kind, "xfrm");
}

/* @dev is an xfrm device of @net bound to @if_id. */
static bool ipsecif_xfrmi_has(struct net *net, struct net_device *dev,
			      u32 if_id)
{
	const struct xfrm_if *xi = netdev_priv(dev);

	return net_eq(xi->net, net) && !xi->p.collect_md &&
	       xi->p.if_id == if_id;
}

/**
 * ipsecif_xfrmi_find() - an xfrm device bound to @if_id in @net
 * @net: the namespace of the SAs and policies
 * @if_id: the if_id
 *
 * Our receive callback runs before xfrm_interface's, so an ipsec device
 * would take the decrypted traffic of an xfrm device with the same if_id.
 * Only devices still in @net are seen (an xfrm device moved elsewhere
 * keeps its if_id in @net, but walking every namespace is not worth it).
 * Only the namespace's xfrm devices are visited, none where it has none
 * (ipsecif_xfrmi_track()), not every device of the namespace: creating
 * 10,000 ipsec devices is then linear, not quadratic. Their if_ids are
 * read here, not remembered: an xfrm device changed while down announces
 * nothing.
 *
 * Context: RTNL held.
 * Return: the device, or NULL.
 */
struct net_device *ipsecif_xfrmi_find(struct net *net, u32 if_id)
{
	struct ipsecif_net *in = ipsecif_pernet(net);
	struct net_device *dev;
	unsigned long i;

	ASSERT_RTNL();
	if (!in || !in->ready)
		return NULL;
	if (!in->xfrmi_untracked) {
		xa_for_each(&in->xfrmi_devs, i, dev)
			if (ipsecif_xfrmi_has(net, dev, if_id))
				return dev;
		return NULL;
	}
	for_each_netdev(net, dev)
		if (netif_is_xfrmi(dev) && ipsecif_xfrmi_has(net, dev, if_id))
			return dev;
	return NULL;
}

/**
 * ipsecif_xfrmi_track() - keep the list of a namespace's xfrm devices
 * @dev: a device registered or unregistered (moving it to another
 *	namespace is both)
 * @event: NETDEV_REGISTER or NETDEV_UNREGISTER
 *
 * Should the list run out of memory, ipsecif_xfrmi_find() walks every
 * device of the namespace from then on.
 * Context: RTNL held (netdev notifier).
 */
void ipsecif_xfrmi_track(struct net_device *dev, unsigned long event)
{
	struct ipsecif_net *in;

	if (!netif_is_xfrmi(dev))
		return;
	in = ipsecif_pernet(dev_net(dev));
	if (!in || !in->ready)
		return;
	if (event == NETDEV_UNREGISTER)
		xa_erase(&in->xfrmi_devs, dev->ifindex);
	else if (xa_err(xa_store(&in->xfrmi_devs, dev->ifindex, dev,
				 GFP_KERNEL)))
		in->xfrmi_untracked = true;
}

/**
 * ipsecif_xfrmi_net_init() - a namespace's list of xfrm devices, empty
 * @in: the namespace's state
 *
 * Filled by the NETDEV_REGISTER events that come with every device, those
 * that registering our notifier replays included.
 */
void ipsecif_xfrmi_net_init(struct ipsecif_net *in)
{
	xa_init(&in->xfrmi_devs);
}

/**
 * ipsecif_xfrmi_net_exit() - free the list, its devices gone or going
 * @in: the namespace's state, no longer ready (nothing reads the list)
 */
void ipsecif_xfrmi_net_exit(struct ipsecif_net *in)
{
	xa_destroy(&in->xfrmi_devs);
}

/**
 * ipsecif_xfrmi_warn() - log an xfrm device that takes an ipsec device's if_id
 * @dev: a device registered, changed or unregistered
 * @event: the netdev event
 *
 * Creating an ipsec device with an xfrm device's if_id is refused; the
 * other order cannot be, so say which device gets the traffic, once per
 * clash: NETDEV_CHANGE comes with every change of an xfrm device (two per
 * changelink, its own and rtnetlink's, whatever changed), so the device and
 * if_id last reported are kept, and forgotten when that device's clash ends
 * or it goes.
 *
 * Context: RTNL held (netdev notifier).
 */
void ipsecif_xfrmi_warn(struct net_device *dev, unsigned long event)
{
	const struct xfrm_if *xi;
	struct ipsecif_net *in;
	struct ipsecif *sif = NULL;

	if (!netif_is_xfrmi(dev))
		return;
	xi = netdev_priv(dev);
	in = ipsecif_pernet(xi->net);
	if (!in || !in->ready)
		return;
	if (event != NETDEV_UNREGISTER && !xi->p.collect_md)
		sif = ipsecif_find(xi->net, xi->p.if_id);
	if (!sif) {
		if (in->xfrmi_warned == dev)
			in->xfrmi_warned = NULL;
		return;
	}
	if (in->xfrmi_warned == dev && in->xfrmi_warned_if_id == xi->p.if_id)
		return;
	in->xfrmi_warned = dev;
	in->xfrmi_warned_if_id = xi->p.if_id;
	netdev_warn(dev, "if_id %u is also %s's, which receives the traffic its SAs decrypt\n",
		    xi->p.if_id, sif->dev->name);
}

static bool ipsecif_if_decode(struct sk_buff *skb, unsigned short family,
			      struct xfrm_if_decode_session_result *res)
{
	struct net_device *dev = skb->dev;
	const struct ipsecif *sif;
	int sdif = 0;

	if (!secpath_exists(skb) || !dev)
		return false;
	if (family == AF_INET)
		sdif = inet_sdif(skb);
#if IS_ENABLED(CONFIG_IPV6)
	else if (family == AF_INET6)
		sdif = inet6_sdif(skb);
#endif
	if (sdif)	/* an l3mdev (VRF) slave: the device is the slave */
		dev = dev_get_by_index_rcu(dev_net(dev), sdif);
	if (!dev || !(dev->flags & IFF_UP))
		return false;

	if (netif_is_xfrmi(dev))
		return ipsecif_decode_xfrmi(skb, dev, res);
	if (!netif_is_ipsecif(dev))
		return false;
	sif = netdev_priv(dev);
	res->net = sif->net;
	res->if_id = READ_ONCE(sif->if_id);
	return true;
}

static const struct xfrm_if_cb ipsecif_if_cb = {
	.decode_session = ipsecif_if_decode,
};

static void ipsecif_claim_if_cb(void)
{
	xfrm_if_register_cb(&ipsecif_if_cb);
}

/*
 * xfrm_interface takes the slot when it loads and empties it when it
 * unloads (its exit runs before GOING is announced): take it back.
 */
static int ipsecif_module_event(struct notifier_block *nb, unsigned long event,
				void *data)
{
	const struct module *mod = data;

	if (strcmp(mod->name, "xfrm_interface"))
		return NOTIFY_DONE;
	if (event == MODULE_STATE_LIVE || event == MODULE_STATE_GOING)
		ipsecif_claim_if_cb();
	return NOTIFY_OK;
}

static struct notifier_block ipsecif_module_nb = {
	.notifier_call = ipsecif_module_event,
};

/**
 * ipsecif_if_cb_register() - claim the if_id callback slot, and keep it
 *
 * Return: 0 or the error of register_module_notifier().
 */
int ipsecif_if_cb_register(void)
{
	int err;

	err = register_module_notifier(&ipsecif_module_nb);
	if (err)
		return err;
	ipsecif_claim_if_cb();
	return 0;
}

/**
 * ipsecif_if_cb_unregister() - empty the if_id callback slot
 *
 * The slot cannot be handed back to xfrm_interface: its callback is
 * private. If it is loaded, its devices need it reloaded (ipsecif.rst,
 * "Living with xfrm_interface").
 */
void ipsecif_if_cb_unregister(void)
{
	unregister_module_notifier(&ipsecif_module_nb);
	xfrm_if_unregister_cb();
}
