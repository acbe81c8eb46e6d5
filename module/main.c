// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: FreeS/WAN-style ipsecN devices on top of the kernel's xfrm.
 *
 * Devices of link kind "ipsec" are bound to xfrm SAs and policies by if_id.
 * Only what is routed into a device is encrypted (or dropped: never sent in
 * clear), and what its SAs decrypt comes out of it.
 */

#include <linux/module.h>
#include <net/netns/generic.h>
#include <net/rtnetlink.h>

#include "ipsecif.h"
#include "compat.h"

static unsigned int devices;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices,
		 "create ipsec0..ipsec{N-1} in the initial namespace at load (default 0, at most 256)");

static char *links;
module_param(links, charp, 0444);
MODULE_PARM_DESC(links,
		 "attach devices created at load to physical devices by name, which may appear later: ipsec0:eth0,ipsec1:ppp0");

unsigned int ipsecif_net_id __read_mostly;

static int __net_init ipsecif_net_init_ops(struct net *net)
{
	return ipsecif_net_init(ipsecif_pernet(net), net);
}

static void __net_exit ipsecif_net_exit_ops(struct net *net)
{
	ipsecif_net_destroy(ipsecif_pernet(net));
}

static struct pernet_operations ipsecif_net_ops = {
	.init	= ipsecif_net_init_ops,
	IPSECIF_PERNET_EXIT_RTNL
	.exit	= ipsecif_net_exit_ops,
	.id	= &ipsecif_net_id,
	.size	= sizeof(struct ipsecif_net),
};

static int ipsecif_netdev_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (netif_is_ipsecif(dev)) {
		/* Down: no cached bundle keeps SAs alive meanwhile. */
		if (event == NETDEV_DOWN)
			ipsecif_bundle_flush(netdev_priv(dev));
		return NOTIFY_DONE;
	}
	switch (event) {
	case NETDEV_REGISTER:
		ipsecif_xfrmi_warn(dev);
		fallthrough;
	case NETDEV_CHANGENAME:
	case NETDEV_UNREGISTER:
	case NETDEV_CHANGEMTU:
		ipsecif_link_event(dev, event);
		break;
	case NETDEV_CHANGE:
		ipsecif_xfrmi_warn(dev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ipsecif_netdev_nb = {
	.notifier_call = ipsecif_netdev_event,
};

static int __init ipsecif_init(void)
{
	int err;

	if (devices > IPSECIF_MAX_DEVICES_AT_LOAD) {
		pr_err("devices=%u: at most %u devices at load\n", devices,
		       IPSECIF_MAX_DEVICES_AT_LOAD);
		return -EINVAL;
	}
	err = ipsecif_links_at_load(links, devices, false);
	if (err)
		return err;

	err = register_pernet_device(&ipsecif_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&ipsecif_netdev_nb);
	if (err)
		goto err_netdev_nb;
	err = ipsecif_xfrm_init();
	if (err)
		goto err_xfrm;
	ipsecif_mtu_init();
	err = rtnl_link_register(&ipsecif_link_ops);
	if (err)
		goto err_link;
	err = ipsecif_create_at_load(devices);
	if (!err)
		err = ipsecif_links_at_load(links, devices, true);
	if (err)
		goto err_devices;
	return 0;

err_devices:
	rtnl_link_unregister(&ipsecif_link_ops);
err_link:
	ipsecif_mtu_exit();
	ipsecif_xfrm_exit();
err_xfrm:
	unregister_netdevice_notifier(&ipsecif_netdev_nb);
err_netdev_nb:
	unregister_pernet_device(&ipsecif_net_ops);
	return err;
}

static void __exit ipsecif_exit(void)
{
	rtnl_link_unregister(&ipsecif_link_ops);	/* every device, every netns */
	ipsecif_mtu_exit();
	ipsecif_xfrm_exit();
	unregister_netdevice_notifier(&ipsecif_netdev_nb);
	unregister_pernet_device(&ipsecif_net_ops);
}

module_init(ipsecif_init);
module_exit(ipsecif_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Route-based IPsec devices (ipsecN) bound to xfrm by if_id");
MODULE_ALIAS_RTNL_LINK(IPSECIF_KIND);
MODULE_VERSION("0.1");
