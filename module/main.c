// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: FreeS/WAN-style ipsecN devices on top of the kernel's xfrm.
 *
 * Devices of link kind "ipsec" are bound to xfrm SAs and policies by if_id.
 * Only what is routed into a device is encrypted (or dropped: never sent in
 * clear), and what its SAs decrypt comes out of it.
 *
 * Two owners: device.c (namespaces, device events, the link kind and the
 * devices) and the xfrm side (below: what xfrm calls back). The xfrm side
 * needs the namespaces' state, and the devices need the xfrm side, so the
 * device side starts around it: state and events first, devices last.
 */

#include <linux/module.h>
#include <linux/string.h>
#include <net/rtnetlink.h>

#include "ipsecif.h"

static unsigned int devices;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices,
		 "create ipsec0..ipsec{N-1} in the initial namespace at load (default 0, at most 256)");

static char *links;
module_param(links, charp, 0444);
MODULE_PARM_DESC(links,
		 "attach devices created at load to physical devices by name, which may appear later: ipsec0:eth0,ipsec1:ppp0");

static char *linkstate = "always";
module_param(linkstate, charp, 0444);
MODULE_PARM_DESC(linkstate,
		 "link state of devices created at load: always (default), dormant or carrier while the tunnel is down");

static const char *const ipsecif_link_states[] = {
	[IPSECIF_LINK_STATE_ALWAYS]	= "always",
	[IPSECIF_LINK_STATE_DORMANT]	= "dormant",
	[IPSECIF_LINK_STATE_CARRIER]	= "carrier",
};

static u8 ipsecif_link_state_at_load;

/*
 * What xfrm calls back: the receive chains (decrypted packets), the if_id
 * callback slot (inbound policy checks) and the key manager (SA and
 * policy events).
 */
static int __init ipsecif_xfrm_init(void)
{
	int err;

	err = ipsecif_rx_register();
	if (err)
		return err;
	err = ipsecif_if_cb_register();
	if (err) {
		ipsecif_rx_unregister();
		return err;
	}
	ipsecif_km_register();
	return 0;
}

static void ipsecif_xfrm_exit(void)
{
	ipsecif_km_unregister();
	ipsecif_if_cb_unregister();
	ipsecif_rx_unregister();
}

/* Bad parameters change nothing: checked before any registration. */
static int __init ipsecif_params_check(void)
{
	int mode;

	if (devices > IPSECIF_MAX_DEVICES_AT_LOAD) {
		pr_err("devices=%u: at most %u devices at load\n", devices,
		       IPSECIF_MAX_DEVICES_AT_LOAD);
		return -EINVAL;
	}
	mode = linkstate ? match_string(ipsecif_link_states,
					ARRAY_SIZE(ipsecif_link_states),
					linkstate) : -EINVAL;
	if (mode < 0) {
		pr_err("linkstate=%s: not always, dormant or carrier\n",
		       linkstate);
		return -EINVAL;
	}
	ipsecif_link_state_at_load = mode;
	return ipsecif_links_at_load(links, devices, false);
}

static int __init ipsecif_init(void)
{
	int err;

	err = ipsecif_params_check();
	if (err)
		return err;
	err = ipsecif_device_init();
	if (err)
		return err;
	err = ipsecif_xfrm_init();
	if (err)
		goto err_xfrm;
	err = ipsecif_device_start(devices, links,
				   ipsecif_link_state_at_load);
	if (err)
		goto err_start;
	return 0;

err_start:
	ipsecif_xfrm_exit();
err_xfrm:
	ipsecif_device_exit();
	return err;
}

static void __exit ipsecif_exit(void)
{
	ipsecif_device_stop();
	ipsecif_xfrm_exit();
	ipsecif_device_exit();
}

module_init(ipsecif_init);
module_exit(ipsecif_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Route-based IPsec devices (ipsecN) bound to xfrm by if_id");
MODULE_ALIAS_RTNL_LINK(IPSECIF_KIND);
MODULE_VERSION("0.1");
