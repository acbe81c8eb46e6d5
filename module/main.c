// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: FreeS/WAN-style ipsecN devices on top of the kernel's xfrm.
 *
 * Devices of link kind "ipsec" are bound to xfrm SAs and policies by if_id.
 * Only what is routed into a device is encrypted (or dropped: never sent in
 * clear), and what its SAs decrypt comes out of it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
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

	err = ipsecif_pernet_register();
	if (err)
		return err;
	err = ipsecif_link_notifier_register();
	if (err)
		goto err_notifier;
	err = ipsecif_rx_init();
	if (err)
		goto err_rx;
	err = ipsecif_xfrmi_init();
	if (err)
		goto err_xfrmi;
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
	ipsecif_xfrmi_exit();
err_xfrmi:
	ipsecif_rx_exit();
err_rx:
	ipsecif_link_notifier_unregister();
err_notifier:
	ipsecif_pernet_unregister();
	return err;
}

static void __exit ipsecif_exit(void)
{
	rtnl_link_unregister(&ipsecif_link_ops);	/* every device, every netns */
	ipsecif_mtu_exit();
	ipsecif_xfrmi_exit();
	ipsecif_rx_exit();
	ipsecif_link_notifier_unregister();
	ipsecif_pernet_unregister();
}

module_init(ipsecif_init);
module_exit(ipsecif_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Route-based IPsec devices (ipsecN) bound to xfrm by if_id");
MODULE_ALIAS_RTNL_LINK(IPSECIF_KIND);
MODULE_VERSION("0.1");
