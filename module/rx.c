// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: receive. A packet's way in:
 *
 *   ESP, AH or IPComp handler chain (ours passes every packet on)
 *   -> xfrm_input() decrypts it with the SA of its SPI
 *   -> the callback chain: ipsecif_rcv_cb() finds the device of the SA's
 *      if_id and hands the packet over, from that device, to the IP stack
 *      (which checks the inbound policy, see xfrmi.c for the if_id).
 *
 * The handlers take no packet themselves, so that loading ipsecif changes
 * nothing for vti, xfrm_interface or policy-based IPsec: xfrm_input() calls
 * the callback chain whoever decrypted.
 */

#include <linux/module.h>
#include <net/ip.h>
#include <net/xfrm.h>

#include "ipsecif.h"
#include "compat.h"

/*
 * Priorities in the xfrm receive chains, which must be unique. ESP, AH and
 * IPComp run in descending order: vti 100, us 20, xfrm_interface 10, the
 * protocols themselves 0. IP-in-IP tunnel handlers run in ascending order
 * and we go after every real tunnel driver: they keep their packets.
 */
#define IPSECIF_XFRM_PRIORITY	20
#define IPSECIF_TUNNEL_PRIORITY	10

static unsigned short ipsecif_skb_family(const struct sk_buff *skb)
{
	return ip_hdr(skb)->version == 6 ? AF_INET6 : AF_INET;
}

/*
 * Called by xfrm_input() for every decrypted (or failed) packet, in
 * priority order, whoever decrypted it. 1 means "not ours".
 */
static int ipsecif_rcv_cb(struct sk_buff *skb, int err)
{
	struct sec_path *sp = skb_sec_path(skb);
	struct net_device *dev;
	struct xfrm_state *x;
	struct ipsecif *sif;
	bool xnet;

	if (!sp || !sp->len)
		return 1;
	x = sp->xvec[sp->len - 1];
	if (!x->if_id)
		return 1;
	sif = ipsecif_find(xs_net(x), x->if_id);
	if (!sif)
		return 1;
	if (!(sif->dev->flags & IFF_UP)) {
		ipsecif_count(sif, IPSECIF_RX_DEVICE_DOWN);
		return 1;
	}

	dev = sif->dev;
	xnet = !net_eq(sif->net, dev_net(dev));
	if (err) {
		/*
		 * After our own policy refusal below, xfrm_input() calls us
		 * again on its drop path, the skb already ours: counted there.
		 */
		if (!(xnet && skb->dev == dev)) {
			ipsecif_count(sif, IPSECIF_RX_XFRM_ERRORS);
			DEV_STATS_INC(dev, rx_errors);
			DEV_STATS_INC(dev, rx_dropped);
		}
		skb->dev = dev;
		return 0;
	}

	/*
	 * A device moved to another namespace: the inbound policy lives in
	 * the namespace of the SA, so check it here, before crossing.
	 */
	skb->dev = dev;
	if (xnet && !xfrm_policy_check(NULL, XFRM_POLICY_IN, skb,
				       ipsecif_skb_family(skb))) {
		ipsecif_count(sif, IPSECIF_RX_POLICY_REJECTED);
		DEV_STATS_INC(dev, rx_dropped);
		return -EPERM;
	}

	ipsecif_scrub(skb, xnet);
	dev_sw_netstats_rx_add(dev, skb->len);
	ipsecif_stamp(&sif->last_rx);
	return 0;
}

/*
 * ESP, AH and IPComp packets are decrypted by whichever handler takes
 * them first: vti for its tunnels, xfrm_interface (which checks the outer
 * policy of nested ESP first), or the protocol itself. Ours takes none:
 * it is in the chain only for ipsecif_rcv_cb(), which xfrm_input() calls
 * for every handler whoever decrypted, so loading ipsecif changes nothing
 * for the other drivers. Likewise for ESP in UDP (input_handler).
 */
static int ipsecif_rcv_pass(struct sk_buff *skb)
{
	return -EINVAL;
}

static int ipsecif_input_pass(struct sk_buff *skb, int nexthdr, __be32 spi,
			      int encap_type)
{
	return -EINVAL;
}

/* ICMP errors about our SAs: let the protocols handle them (PMTU). */
static int ipsecif_err4(struct sk_buff *skb, u32 info)
{
	return -1;
}

static struct xfrm4_protocol ipsecif_proto4[] __read_mostly = {
	{
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err4,
		.priority	= IPSECIF_XFRM_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err4,
		.priority	= IPSECIF_XFRM_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err4,
		.priority	= IPSECIF_XFRM_PRIORITY,
	},
};

/* Inner families of the IP-in-IP handlers, index for index. */
static const unsigned short ipsecif_tunnel_families[] = { AF_INET, AF_INET6 };

static const u8 ipsecif_protos[] = { IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP };
#define IPSECIF_NPROTO		ARRAY_SIZE(ipsecif_protos)
#define IPSECIF_NTUNNEL		ARRAY_SIZE(ipsecif_tunnel_families)

/*
 * IPComp sends small packets uncompressed, as plain IP-in-IP matched to a
 * tunnel SA: register for those only to see them in the callback chain.
 * The handler itself never takes a packet (ipsecif_rcv_pass()).
 */

#if IS_REACHABLE(CONFIG_INET_XFRM_TUNNEL)
static struct xfrm_tunnel ipsecif_tunnel4[] __read_mostly = {
	{
		.handler	= ipsecif_rcv_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err4,
		.priority	= IPSECIF_TUNNEL_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err4,
		.priority	= IPSECIF_TUNNEL_PRIORITY,
	},
};
#endif

#if IS_ENABLED(CONFIG_IPV6)
static int ipsecif_err6(struct sk_buff *skb, struct inet6_skb_parm *opt,
			u8 type, u8 code, int offset, __be32 info)
{
	return -1;
}

static struct xfrm6_protocol ipsecif_proto6[] __read_mostly = {
	{
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err6,
		.priority	= IPSECIF_XFRM_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err6,
		.priority	= IPSECIF_XFRM_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.input_handler	= ipsecif_input_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err6,
		.priority	= IPSECIF_XFRM_PRIORITY,
	},
};

#if IS_REACHABLE(CONFIG_INET6_XFRM_TUNNEL)
static struct xfrm6_tunnel ipsecif_tunnel6[] __read_mostly = {
	{
		.handler	= ipsecif_rcv_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err6,
		.priority	= IPSECIF_TUNNEL_PRIORITY,
	}, {
		.handler	= ipsecif_rcv_pass,
		.cb_handler	= ipsecif_rcv_cb,
		.err_handler	= ipsecif_err6,
		.priority	= IPSECIF_TUNNEL_PRIORITY,
	},
};
#endif
#endif /* CONFIG_IPV6 */

static void ipsecif_proto_unregister(int n4, int n6, int t4, int t6)
{
	while (n4-- > 0)
		xfrm4_protocol_deregister(&ipsecif_proto4[n4],
					  ipsecif_protos[n4]);
#if IS_REACHABLE(CONFIG_INET_XFRM_TUNNEL)
	while (t4-- > 0)
		xfrm4_tunnel_deregister(&ipsecif_tunnel4[t4],
					ipsecif_tunnel_families[t4]);
#endif
#if IS_ENABLED(CONFIG_IPV6)
	while (n6-- > 0)
		xfrm6_protocol_deregister(&ipsecif_proto6[n6],
					  ipsecif_protos[n6]);
#if IS_REACHABLE(CONFIG_INET6_XFRM_TUNNEL)
	while (t6-- > 0)
		xfrm6_tunnel_deregister(&ipsecif_tunnel6[t6],
					ipsecif_tunnel_families[t6]);
#endif
#endif
}

static int ipsecif_proto_register(void)
{
	int n4 = 0, n6 = 0, t4 = 0, t6 = 0;
	int err = 0;

	while (!err && n4 < IPSECIF_NPROTO) {
		err = xfrm4_protocol_register(&ipsecif_proto4[n4],
					      ipsecif_protos[n4]);
		n4 += !err;
	}
#if IS_REACHABLE(CONFIG_INET_XFRM_TUNNEL)
	while (!err && t4 < IPSECIF_NTUNNEL) {
		err = xfrm4_tunnel_register(&ipsecif_tunnel4[t4],
					    ipsecif_tunnel_families[t4]);
		t4 += !err;
	}
#endif
#if IS_ENABLED(CONFIG_IPV6)
	while (!err && n6 < IPSECIF_NPROTO) {
		err = xfrm6_protocol_register(&ipsecif_proto6[n6],
					      ipsecif_protos[n6]);
		n6 += !err;
	}
#if IS_REACHABLE(CONFIG_INET6_XFRM_TUNNEL)
	while (!err && t6 < IPSECIF_NTUNNEL) {
		err = xfrm6_tunnel_register(&ipsecif_tunnel6[t6],
					    ipsecif_tunnel_families[t6]);
		t6 += !err;
	}
#endif
#endif
	if (err) {
		pr_err("cannot register xfrm receive handlers: %d\n", err);
		ipsecif_proto_unregister(n4, n6, t4, t6);
	}
	return err;
}

/**
 * ipsecif_rx_register() - join the ESP, AH, IPComp and IP-in-IP receive chains
 *
 * Return: 0, or the error of the registration that failed (none is left).
 */
int ipsecif_rx_register(void)
{
	return ipsecif_proto_register();
}

/**
 * ipsecif_rx_unregister() - leave the receive chains
 */
void ipsecif_rx_unregister(void)
{
	ipsecif_proto_unregister(IPSECIF_NPROTO, IPSECIF_NPROTO,
				 IPSECIF_NTUNNEL, IPSECIF_NTUNNEL);
}
