// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: the physical device (link) a device sends through, followed by
 * name. KLIPS bound ipsecN to an interface name; PPPoE, LTE modems and
 * USB NICs come back with a new ifindex on every reconnect. A device keeps
 * its link's name while the link is absent and is attached again when a
 * device of that name appears in its birth namespace: registered, renamed
 * to it, or moved into the namespace.
 */

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "ipsecif.h"

/**
 * ipsecif_name_ok() - a name a device can be given or registered under
 * @name: the name, NUL-terminated
 *
 * dev_valid_name(), and no '%': a pattern such as "ppp%d" names no device
 * in particular, so the name it would become cannot be checked or awaited.
 *
 * Return: true if @name is such a name.
 */
bool ipsecif_name_ok(const char *name)
{
	return dev_valid_name(name) && !strchr(name, '%');
}

/**
 * ipsecif_set_link() - attach, wait for or detach the link
 * @sif: the device
 * @link: ifindex of the link in @sif->net, 0 when absent or none
 * @name: the link's name, "" for none
 *
 * Announces a change with an RTM_NEWLINK notification, up or down (a
 * state change, NETDEV_CHANGE, is announced only for a device that is up).
 * The MTU and headroom are left stale for the caller's ipsecif_mtu_refresh().
 * Context: RTNL held.
 */
void ipsecif_set_link(struct ipsecif *sif, int link, const char *name)
{
	bool changed;

	ASSERT_RTNL();
	changed = link != sif->link || strcmp(name, sif->link_name);
	if (name != sif->link_name) {
		spin_lock_bh(&sif->link_lock);
		strscpy(sif->link_name, name, sizeof(sif->link_name));
		spin_unlock_bh(&sif->link_lock);
	}
	WRITE_ONCE(sif->link, link);
	if (!changed)
		return;
	call_netdevice_notifiers(NETDEV_CHANGEINFODATA, sif->dev);
	ipsecif_mtu_stale(sif);
}

/**
 * ipsecif_get_link_name() - the link's name, "" for none
 * @sif: the device
 * @name: IFNAMSIZ bytes
 *
 * Context: any; for readers that may not hold RTNL (netlink dumps).
 */
void ipsecif_get_link_name(struct ipsecif *sif, char *name)
{
	spin_lock_bh(&sif->link_lock);
	strscpy(name, sif->link_name, IFNAMSIZ);
	spin_unlock_bh(&sif->link_lock);
}

/**
 * ipsecif_link_event() - follow physical devices of a namespace by name
 * @phys: a device that is not an ipsec device
 * @event: NETDEV_REGISTER, NETDEV_CHANGENAME, NETDEV_UNREGISTER;
 *	NETDEV_CHANGEMTU (the automatic MTU of devices attached to it), or
 *	NETDEV_UP, NETDEV_DOWN, NETDEV_CHANGE (their link state)
 *
 * A device's link that goes away, or is renamed away, leaves it detached
 * and waiting for the name; a device that takes the name is attached.
 * Moving @phys between namespaces is an unregister and a register.
 * Context: RTNL held (netdev notifier).
 */
void ipsecif_link_event(struct net_device *phys, unsigned long event)
{
	struct ipsecif_net *in;
	struct ipsecif *sif;

	ASSERT_RTNL();
	/*
	 * A namespace whose creation failed before our init ran still has
	 * its first devices unregistered: it has no state of ours.
	 */
	in = ipsecif_pernet(dev_net(phys));
	if (!in || !in->ready)
		return;
	list_for_each_entry(sif, &in->devs, list) {
		if (sif->link == phys->ifindex) {
			if (event == NETDEV_CHANGEMTU || event == NETDEV_UP ||
			    event == NETDEV_DOWN || event == NETDEV_CHANGE) {
				ipsecif_mtu_stale(sif);
				continue;
			} else if (event == NETDEV_UNREGISTER) {
				netdev_info(sif->dev, "%s went away; attaching again when it is back\n",
					    sif->link_name);
			} else if (event == NETDEV_CHANGENAME &&
				   strcmp(phys->name, sif->link_name)) {
				netdev_info(sif->dev, "%s was renamed %s; waiting for a device named %s\n",
					    sif->link_name, phys->name,
					    sif->link_name);
			} else {
				continue;
			}
			ipsecif_set_link(sif, 0, sif->link_name);
		} else if (!sif->link && (event == NETDEV_REGISTER ||
					event == NETDEV_CHANGENAME) &&
			   sif->link_name[0] &&
			   !strcmp(phys->name, sif->link_name)) {
			netdev_info(sif->dev, "attached to %s\n", phys->name);
			ipsecif_set_link(sif, phys->ifindex, phys->name);
		}
	}
	ipsecif_mtu_refresh(in);	/* one walk, however many followed */
}

/*
 * One "ipsecN:LINK" of the links= parameter: N must be created at load
 * (N < @count), LINK a valid device name. Returns N, or -EINVAL.
 */
static int ipsecif_link_spec(char *item, unsigned int count, char **link)
{
	char *sep = strchr(item, ':');
	unsigned int n;

	if (!sep) {
		pr_err("links=: \"%s\" is not ipsecN:DEVICE\n", item);
		return -EINVAL;
	}
	*sep = '\0';
	*link = sep + 1;
	if (!ipsecif_default_if_id(item) || kstrtouint(item + strlen("ipsec"), 10, &n)) {
		pr_err("links=: \"%s\" is not a device name of the form ipsecN\n",
		       item);
		return -EINVAL;
	}
	if (n >= count) {
		pr_err("links=: %s is not created at load (devices=%u)\n",
		       item, count);
		return -EINVAL;
	}
	if (!ipsecif_name_ok(*link)) {
		pr_err("links=: \"%s\" is not a valid device name\n", *link);
		return -EINVAL;
	}
	return n;
}

/* Attach ipsecN, created at load, to the device named @link. */
static void ipsecif_link_at_load(unsigned int n, const char *link)
{
	struct net_device *dev, *phys;
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "ipsec%u", n);
	dev = __dev_get_by_name(&init_net, name);
	if (!dev || !netif_is_ipsecif(dev))
		return;		/* a device of another kind: warned at creation */
	phys = __dev_get_by_name(&init_net, link);
	if (phys && netif_is_ipsecif(phys))
		phys = NULL;
	ipsecif_set_link(netdev_priv(dev), phys ? phys->ifindex : 0, link);
}

/**
 * ipsecif_links_at_load() - the links= module parameter
 * @spec: "ipsec0:eth0,ipsec1:ppp0", or NULL
 * @count: the devices= parameter: devices created at load
 * @apply: false to check @spec only (before anything is created), true to
 *	attach the devices (after they are created)
 *
 * Return: 0, or -EINVAL with the reason logged, or -ENOMEM.
 */
int ipsecif_links_at_load(const char *spec, unsigned int count, bool apply)
{
	DECLARE_BITMAP(seen, IPSECIF_MAX_DEVICES_AT_LOAD) = {};
	char *copy, *rest, *item, *link;
	int n = 0;

	if (!spec || !*spec)
		return 0;
	copy = kstrdup(spec, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	if (apply)
		rtnl_lock();
	rest = copy;
	while (n >= 0 && (item = strsep(&rest, ","))) {
		n = ipsecif_link_spec(item, count, &link);
		if (n < 0)
			break;
		if (test_and_set_bit(n, seen)) {
			pr_err("links=: ipsec%d is given twice\n", n);
			n = -EINVAL;
		} else if (apply) {
			ipsecif_link_at_load(n, link);
		}
	}
	if (apply) {
		ipsecif_mtu_refresh(ipsecif_pernet(&init_net));
		rtnl_unlock();
	}
	kfree(copy);
	return n < 0 ? n : 0;
}
