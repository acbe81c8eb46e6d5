// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: the xfrm side. Decrypted packets whose SA carries a device's
 * if_id are re-homed onto that device; packets routed into a device are
 * encrypted with the SAs of its if_id, or dropped.
 */

#include <linux/icmpv6.h>
#include <linux/module.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/route.h>
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

/* Reset what must not leak between the underlay and the device. */
static void ipsecif_scrub(struct sk_buff *skb, bool xnet)
{
	skb_clear_tstamp(skb);
	skb->pkt_type = PACKET_HOST;
	skb->skb_iif = 0;
	skb->ignore_df = 0;
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	nf_reset_trace(skb);
	if (!xnet)
		return;
	ipvs_reset(skb);
	secpath_reset(skb);
	skb_orphan(skb);
	skb->mark = 0;
}

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
	struct ipsecif *p;
	bool xnet;

	if (!sp || !sp->len)
		return 1;
	x = sp->xvec[sp->len - 1];
	if (!x->if_id)
		return 1;
	p = ipsecif_find(xs_net(x), x->if_id);
	if (!p)
		return 1;
	if (!(p->dev->flags & IFF_UP)) {
		ipsecif_count(p, IPSECIF_RX_DEVICE_DOWN);
		return 1;
	}

	dev = p->dev;
	xnet = !net_eq(p->net, dev_net(dev));
	if (err) {
		/*
		 * After our own policy refusal below, xfrm_input() calls us
		 * again on its drop path, the skb already ours: counted there.
		 */
		if (!(xnet && skb->dev == dev)) {
			ipsecif_count(p, IPSECIF_RX_XFRM_ERRORS);
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
		ipsecif_count(p, IPSECIF_RX_POLICY_REJECTED);
		DEV_STATS_INC(dev, rx_dropped);
		return -EPERM;
	}

	ipsecif_scrub(skb, xnet);
	dev_sw_netstats_rx_add(dev, skb->len);
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

/*
 * Inbound policy checks learn a packet's if_id from a single global
 * callback slot, which Linux's xfrm_interface also claims. Ours answers
 * for both kinds of device, so whoever loads last, the slot serves both.
 */
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

/**
 * ipsecif_xfrmi_find() - an xfrm device bound to @if_id in @net
 * @net: the namespace of the SAs and policies
 * @if_id: the if_id
 *
 * Our receive callback runs before xfrm_interface's, so an ipsec device
 * would take the decrypted traffic of an xfrm device with the same if_id.
 * Only devices still in @net are seen (an xfrm device moved elsewhere
 * keeps its if_id in @net, but walking every namespace is not worth it).
 *
 * Context: RTNL held.
 * Return: the device, or NULL.
 */
struct net_device *ipsecif_xfrmi_find(struct net *net, u32 if_id)
{
	struct net_device *dev;

	ASSERT_RTNL();
	for_each_netdev(net, dev) {
		const struct xfrm_if *xi;

		if (!netif_is_xfrmi(dev))
			continue;
		xi = netdev_priv(dev);
		if (net_eq(xi->net, net) && !xi->p.collect_md &&
		    xi->p.if_id == if_id)
			return dev;
	}
	return NULL;
}

/**
 * ipsecif_xfrmi_warn() - log an xfrm device that takes an ipsec device's if_id
 * @dev: a device just registered or changed
 *
 * Creating an ipsec device with an xfrm device's if_id is refused; the
 * other order cannot be, so say which device gets the traffic.
 *
 * Context: RTNL held (netdev notifier).
 */
void ipsecif_xfrmi_warn(struct net_device *dev)
{
	const struct xfrm_if *xi;
	struct ipsecif_net *in;
	struct ipsecif *p;

	if (!netif_is_xfrmi(dev))
		return;
	xi = netdev_priv(dev);
	in = ipsecif_pernet(xi->net);
	if (xi->p.collect_md || !in || !in->ready)
		return;
	p = ipsecif_find(xi->net, xi->p.if_id);
	if (p)
		netdev_warn(dev, "if_id %u is also %s's, which receives the traffic its SAs decrypt\n",
			    xi->p.if_id, p->dev->name);
}

static bool ipsecif_if_decode(struct sk_buff *skb, unsigned short family,
			      struct xfrm_if_decode_session_result *res)
{
	struct net_device *dev = skb->dev;
	const struct ipsecif *p;
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
	p = netdev_priv(dev);
	res->net = p->net;
	res->if_id = READ_ONCE(p->if_id);
	return true;
}

static const struct xfrm_if_cb ipsecif_if_cb = {
	.decode_session = ipsecif_if_decode,
};

void ipsecif_claim_if_cb(void)
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

int ipsecif_xfrm_init(void)
{
	int err;

	err = ipsecif_proto_register();
	if (err)
		return err;
	err = register_module_notifier(&ipsecif_module_nb);
	if (err) {
		ipsecif_proto_unregister(IPSECIF_NPROTO, IPSECIF_NPROTO,
					 IPSECIF_NTUNNEL, IPSECIF_NTUNNEL);
		return err;
	}
	ipsecif_claim_if_cb();
	return 0;
}

void ipsecif_xfrm_exit(void)
{
	unregister_module_notifier(&ipsecif_module_nb);
	/*
	 * The slot cannot be handed back to xfrm_interface: its callback is
	 * private. If it is loaded, its devices need it reloaded (README).
	 */
	xfrm_if_unregister_cb();
	ipsecif_proto_unregister(IPSECIF_NPROTO, IPSECIF_NPROTO,
				 IPSECIF_NTUNNEL, IPSECIF_NTUNNEL);
}

/* --- transmit ----------------------------------------------------------- */

/* Route of the inner destination through the physical device @link. */
static struct dst_entry *ipsecif_link_route(struct ipsecif *p,
					    struct sk_buff *skb,
					    const struct flowi *fl, int link)
{
	if (skb->protocol == htons(ETH_P_IP)) {
		struct flowi4 fl4 = {
			.daddr		= fl->u.ip4.daddr,
			.flowi4_oif	= link,
			.flowi4_mark	= fl->flowi_mark,
		};
		struct rtable *rt = ip_route_output_key(p->net, &fl4);

		return IS_ERR(rt) ? NULL : &rt->dst;
	}
#if IS_ENABLED(CONFIG_IPV6)
	{
		struct flowi6 fl6 = {
			.daddr		= fl->u.ip6.daddr,
			.flowi6_oif	= link,
			.flowi6_mark	= fl->flowi_mark,
		};
		struct dst_entry *dst = ip6_route_output(p->net, NULL, &fl6);

		if (!dst->error)
			return dst;
		dst_release(dst);
	}
#endif
	return NULL;
}

/*
 * The route xfrm starts from. Transport-mode SAs send along it, so when
 * attached and the if_id has transport-mode templates it is the route
 * through the physical device (a host-to-host tunnel to the IKE peer then
 * needs no fwmark). Tunnel-mode SAs look up their own outer route, through
 * fl->flowi_oif = link, and only take the family from it: the packet's own
 * route serves, as for xfrm_interface. Detached, or without a route
 * through the link (a forwarded packet whose destination only the device
 * reaches, while the mask is recomputed), the packet's own route: if it
 * leads back into the device, the loop check drops the packet.
 */
static struct dst_entry *ipsecif_underlay(struct ipsecif *p,
					  struct sk_buff *skb,
					  const struct flowi *fl, int link,
					  bool tunnel_only)
{
	struct dst_entry *own = skb_dst(skb), *dst;

	/* A forwarded packet's route may be held without a reference. */
	if (own && (!link || (tunnel_only && !(own->flags & DST_NOXFRM))) &&
	    dst_hold_safe(own))
		return own;
	dst = link ? ipsecif_link_route(p, skb, fl, link) : NULL;
	if (dst)
		return dst;
	/* No route to the inner destination through the link. */
	if (own && dst_hold_safe(own))
		return own;
	return ERR_PTR(-ENETUNREACH);
}

/* Flow of the inner packet, as xfrm policies see it. */
static int ipsecif_flow(struct net_device *dev, struct sk_buff *skb,
			struct flowi *fl)
{
	memset(fl, 0, sizeof(*fl));
	if (skb->protocol == htons(ETH_P_IP)) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		return ipsecif_decode_session(dev_net(dev), skb, fl, AF_INET);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (skb->protocol == htons(ETH_P_IPV6)) {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		return ipsecif_decode_session(dev_net(dev), skb, fl, AF_INET6);
	}
#endif
	return -EAFNOSUPPORT;
}

/*
 * The encrypted packet would exceed the path MTU: answer as a router
 * would (fragmentation needed / packet too big). True if dropped.
 */
static bool ipsecif_too_big(struct sk_buff *skb, struct dst_entry *dst)
{
	unsigned int mtu = dst_mtu(dst);

	if (skb_is_gso(skb) ? skb_gso_validate_network_len(skb, mtu) :
			      skb->len <= mtu)
		return false;

	skb_dst_update_pmtu_no_confirm(skb, mtu);
	if (skb->protocol == htons(ETH_P_IPV6)) {
		if (skb->len <= IPV6_MIN_MTU)
			return false;	/* the outer packet gets fragmented */
		icmpv6_ndo_send(skb, ICMPV6_PKT_TOOBIG, 0,
				max_t(unsigned int, mtu, IPV6_MIN_MTU));
		return true;
	}
	if (!(ip_hdr(skb)->frag_off & htons(IP_DF)))
		return false;
	icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
	return true;
}

/*
 * True for a packet that xfrm itself has transformed: xfrm_output() marks
 * it in the IP control block, and IPv4 fragmentation copies the mark to
 * every fragment. Nothing else sets it, and packet sockets and forwarding
 * start from a clean control block, so it cannot be forged from outside.
 */
static bool ipsecif_xfrm_made(const struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		return IPCB(skb)->flags & IPSKB_XFRM_TRANSFORMED;
#if IS_ENABLED(CONFIG_IPV6)
	return IP6CB(skb)->flags & IP6SKB_XFRM_TRANSFORMED;
#else
	return false;
#endif
}

/* The outer header of a transformed packet, as ipsecif_own_esp() needs it. */
struct ipsecif_outer {
	unsigned short family;
	const xfrm_address_t *saddr, *daddr;
	u8 proto;		/* IPPROTO_ESP or IPPROTO_UDP (NAT-T) */
	bool frag;		/* a fragment: no SPI to read */
	unsigned int off;	/* of the ESP or UDP header, from skb->data */
};

static bool ipsecif_outer(struct sk_buff *skb, struct ipsecif_outer *o)
{
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		o->family = AF_INET;
		o->saddr = (const xfrm_address_t *)&iph->saddr;
		o->daddr = (const xfrm_address_t *)&iph->daddr;
		o->proto = iph->protocol;
		o->frag = ip_is_fragment(iph);
		o->off = skb_network_offset(skb) + ip_hdrlen(skb);
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		o->family = AF_INET6;
		o->saddr = (const xfrm_address_t *)&ip6h->saddr;
		o->daddr = (const xfrm_address_t *)&ip6h->daddr;
		o->proto = ip6h->nexthdr;
		o->frag = ip6h->nexthdr == NEXTHDR_FRAGMENT;
		o->off = skb_network_offset(skb) + sizeof(*ip6h);
#endif
	}
	return o->frag || o->proto == IPPROTO_ESP || o->proto == IPPROTO_UDP;
}

/*
 * The SA that made @skb, found by SPI, or for a fragment (no SPI) by its
 * addresses. UDP-encapsulated ESP (NAT-T) must come from an SA with that
 * encapsulation and those ports.
 */
static struct xfrm_state *ipsecif_outer_sa(struct ipsecif *sif,
					   struct sk_buff *skb,
					   struct ipsecif_outer *o)
{
	unsigned int esp = o->off;
	const struct udphdr *uh;
	struct xfrm_state *x;
	__be32 spi;

	if (o->frag)
		return xfrm_state_lookup_byaddr(sif->net, skb->mark, o->daddr,
						o->saddr, IPPROTO_ESP,
						o->family);
	if (o->proto == IPPROTO_UDP)
		esp += sizeof(struct udphdr);
	if (!pskb_may_pull(skb, esp + sizeof(struct ip_esp_hdr)))
		return NULL;
	/* pskb_may_pull() may move the headers: read them again. */
	ipsecif_outer(skb, o);
	spi = ((const struct ip_esp_hdr *)(skb->data + esp))->spi;
	x = xfrm_state_lookup(sif->net, skb->mark, o->daddr, spi, IPPROTO_ESP,
			      o->family);
	if (!x || o->proto != IPPROTO_UDP)
		return x;
	uh = (const struct udphdr *)(skb->data + o->off);
	if (x->encap && uh->source == x->encap->encap_sport &&
	    uh->dest == x->encap->encap_dport)
		return x;
	xfrm_state_put(x);
	return NULL;
}

/*
 * Tunnel-mode SAs look up their outer route themselves, ignoring the
 * attached device: when the peer is routed into the device, the encrypted
 * packet comes back here. It passes on unchanged only if xfrm made it,
 * in the device's own namespace, with a tunnel-mode SA of the device's
 * if_id (plain ESP, NAT-T, or an outer IPv4 fragment of either).
 * Anything else, crafted ESP included, is treated as any other packet.
 */
static bool ipsecif_own_esp(struct ipsecif *sif, struct net_device *dev,
			    struct sk_buff *skb, u32 if_id)
{
	struct ipsecif_outer o;
	struct xfrm_state *x;
	bool own;

	if (!net_eq(sif->net, dev_net(dev)) || !ipsecif_xfrm_made(skb) ||
	    !ipsecif_outer(skb, &o))
		return false;
	x = ipsecif_outer_sa(sif, skb, &o);
	if (!x)
		return false;
	own = x->if_id == if_id && x->props.mode == XFRM_MODE_TUNNEL &&
	      xfrm_addr_equal(&x->props.saddr, o.saddr, o.family);
	xfrm_state_put(x);
	return own;
}

/* xfrm_selector_match() is not exported: the same test for one flow. */
static bool ipsecif_sel_match(const struct xfrm_selector *sel,
			      const struct flowi *fl, unsigned short family)
{
	const xfrm_address_t *daddr = xfrm_flowi_daddr(fl, family);
	const xfrm_address_t *saddr = xfrm_flowi_saddr(fl, family);
	const union flowi_uli *uli = family == AF_INET ? &fl->u.ip4.uli :
							 &fl->u.ip6.uli;

	if (sel->ifindex)
		return false;	/* not the plain bypass IKE daemons set */
	if (family == AF_INET) {
		if (!addr4_match(daddr->a4, sel->daddr.a4, sel->prefixlen_d) ||
		    !addr4_match(saddr->a4, sel->saddr.a4, sel->prefixlen_s))
			return false;
	} else if (!addr_match(daddr, &sel->daddr, sel->prefixlen_d) ||
		   !addr_match(saddr, &sel->saddr, sel->prefixlen_s)) {
		return false;
	}
	return !((xfrm_flowi_dport(fl, uli) ^ sel->dport) & sel->dport_mask) &&
	       !((xfrm_flowi_sport(fl, uli) ^ sel->sport) & sel->sport_mask) &&
	       (!sel->proto || sel->proto == fl->flowi_proto);
}

/*
 * IKE daemons give their sockets an outbound per-socket policy that
 * allows the traffic without any transform (setting one needs
 * CAP_NET_ADMIN). KLIPS let the host's own IKE pass in clear; honour that
 * precise signal, and nothing else, when the device is attached and still
 * in its birth namespace: such packets leave in clear through the
 * physical device instead of being encrypted or dropped.
 */
static bool ipsecif_sk_bypass(const struct ipsecif *p,
			      const struct net_device *dev,
			      const struct sk_buff *skb, const struct flowi *fl)
{
	const struct xfrm_policy *pol;
	const struct sock *sk = skb->sk;
	unsigned short family;
	bool bypass = false;

	if (!sk || !sk_fullsock(sk) || !net_eq(p->net, dev_net(dev)) ||
	    !net_eq(sock_net(sk), p->net))
		return false;
	family = skb->protocol == htons(ETH_P_IP) ? AF_INET : AF_INET6;
	rcu_read_lock();
	pol = rcu_dereference(sk->sk_policy[XFRM_POLICY_OUT]);
	if (pol && !READ_ONCE(pol->walk.dead) &&
	    pol->action == XFRM_POLICY_ALLOW && !pol->xfrm_nr &&
	    !pol->if_id && (READ_ONCE(sk->sk_mark) & pol->mark.m) == pol->mark.v)
		bypass = ipsecif_sel_match(&pol->selector, fl, family);
	rcu_read_unlock();
	return bypass;
}

/*
 * Send a packet on as it is through the physical device @link: our own
 * ESP, or an IKE daemon's bypass traffic. Without a route there, leave the
 * skb to the caller's drop path.
 */
static int ipsecif_xmit_link(struct ipsecif *p, struct net_device *dev,
			     struct sk_buff *skb, int link)
{
	struct dst_entry *dst;
	struct flowi fl = {};

	if (skb->protocol == htons(ETH_P_IP))
		fl.u.ip4.daddr = ip_hdr(skb)->daddr;
#if IS_ENABLED(CONFIG_IPV6)
	else
		fl.u.ip6.daddr = ipv6_hdr(skb)->daddr;
#endif
	fl.flowi_mark = skb->mark;
	dst = ipsecif_link_route(p, skb, &fl, link);
	if (!dst || dst->dev == dev) {
		ipsecif_count(p, IPSECIF_TX_NO_ROUTE);
		dst_release(dst);
		return -ENETUNREACH;
	}
	skb_dst_drop(skb);	/* the route that led back into the device */
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	dst_output(p->net, skb->sk, skb);
	return 0;
}

/*
 * No SA of ours can protect the packet: tell the sender (as a router
 * with no route would) and let the caller drop it. Never sent in clear.
 */
static void ipsecif_unreachable(struct ipsecif *p, struct sk_buff *skb,
				struct dst_entry *dst, enum ipsecif_stat cause)
{
	ipsecif_count(p, cause);
	dst_link_failure(skb);
	if (!IS_ERR_OR_NULL(dst))
		dst_release(dst);
}

/*
 * The xfrm bundle that encrypts @skb with the SAs of @if_id, or NULL when
 * there is none or it would loop (counted; the caller drops the packet).
 */
static struct dst_entry *ipsecif_bundle_new(struct ipsecif *p,
					    struct net_device *dev,
					    struct sk_buff *skb,
					    const struct flowi *fl, u32 if_id,
					    bool tunnel_only)
{
	int link = fl->flowi_oif;
	struct dst_entry *dst;

	ipsecif_count(p, IPSECIF_TX_BUNDLE_LOOKUPS);
	dst = ipsecif_underlay(p, skb, fl, link, tunnel_only);
	if (IS_ERR(dst)) {
		ipsecif_unreachable(p, skb, NULL, IPSECIF_TX_NO_ROUTE);
		return NULL;
	}
	dst = xfrm_lookup_with_ifid(p->net, dst, fl, NULL, 0, if_id);
	if (IS_ERR(dst) || !dst->xfrm || dst->xfrm->if_id != if_id) {
		ipsecif_unreachable(p, skb, dst, IPSECIF_TX_NO_SA);
		return NULL;
	}
	/* Attached, tunnel-mode output comes back: see ipsecif_own_esp(). */
	if (dst->dev == dev &&
	    !(link && dst->xfrm->props.mode == XFRM_MODE_TUNNEL)) {
		ipsecif_count(p, IPSECIF_TX_LOOPED);
		net_warn_ratelimited("%s: SA route leads back into the device; attach it to a physical device\n",
				     dev->name);
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/*
 * Packets sent into a device come from anywhere, packet sockets of an
 * unprivileged namespace included. Check the IP header as the receive path
 * does (ip_rcv_core(), ipv6_rcv()) before xfrm or we trust any of it: in
 * the linear area, the version skb->protocol claims, lengths that fit the
 * packet. The skb's data is its network header, as for any L3 device.
 */
static bool ipsecif_ip4_sane(struct sk_buff *skb)
{
	const struct iphdr *iph;
	unsigned int hlen, len;

	if (!pskb_may_pull(skb, sizeof(*iph)))
		return false;
	iph = ip_hdr(skb);
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph) ||
	    !pskb_may_pull(skb, hlen))
		return false;
	iph = ip_hdr(skb);
	len = ntohs(iph->tot_len);
	if (!len && skb_is_gso(skb))	/* BIG TCP: the length is the skb's */
		len = skb->len;
	if (len < hlen || len > skb->len)
		return false;
	skb_set_transport_header(skb, hlen);
	return true;
}

static bool ipsecif_ip6_sane(struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h;
	unsigned int len;

	if (!pskb_may_pull(skb, sizeof(*ip6h)))
		return false;
	ip6h = ipv6_hdr(skb);
	len = ntohs(ip6h->payload_len);
	if (!len && skb_is_gso(skb))	/* BIG TCP */
		len = skb->len - sizeof(*ip6h);
	if (ip6h->version != 6 || sizeof(*ip6h) + len > skb->len)
		return false;
	skb_set_transport_header(skb, sizeof(*ip6h));
	return true;
}

static bool ipsecif_tx_sane(struct sk_buff *skb)
{
	skb_reset_network_header(skb);
	if (skb->protocol == htons(ETH_P_IP))
		return ipsecif_ip4_sane(skb);
	if (IS_ENABLED(CONFIG_IPV6) && skb->protocol == htons(ETH_P_IPV6))
		return ipsecif_ip6_sane(skb);
	return false;
}

netdev_tx_t ipsecif_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ipsecif *p = netdev_priv(dev);
	u32 if_id = READ_ONCE(p->if_id);
	int link = READ_ONCE(p->link);
	struct ipsecif_bundle_key key;
	unsigned int len = skb->len;
	struct dst_entry *dst;
	struct flowi fl;
	int err;

	if (!ipsecif_tx_sane(skb))
		goto malformed;
	/* Before ipsecif_flow(), which clears the IP control block. */
	if (link && ipsecif_own_esp(p, dev, skb, if_id)) {
		if (ipsecif_xmit_link(p, dev, skb, link))
			goto drop;
		ipsecif_count(p, IPSECIF_TX_OWN_ESP);
		return NETDEV_TX_OK;	/* counted when it was encrypted */
	}
	if (ipsecif_flow(dev, skb, &fl))
		goto malformed;
	if (link && ipsecif_sk_bypass(p, dev, skb, &fl)) {
		if (ipsecif_xmit_link(p, dev, skb, link))
			goto drop;
		ipsecif_count(p, IPSECIF_TX_IKE_BYPASS);
		dev_sw_netstats_tx_add(dev, 1, len);
		return NETDEV_TX_OK;
	}
	fl.flowi_oif = link;
	ipsecif_bundle_key(p, &fl, skb->protocol == htons(ETH_P_IP) ?
			   AF_INET : AF_INET6, if_id, &key);
	dst = ipsecif_bundle_get(p, &key);
	if (!dst) {
		dst = ipsecif_bundle_new(p, dev, skb, &fl, if_id, key.tunnel_only);
		if (!dst)
			goto drop;
		ipsecif_bundle_set(p, &key, dst);
	}
	if (ipsecif_too_big(skb, dst)) {
		ipsecif_count(p, IPSECIF_TX_TOO_BIG);
		dst_release(dst);
		goto drop;
	}

	ipsecif_scrub(skb, !net_eq(p->net, dev_net(dev)));
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	err = dst_output(p->net, skb->sk, skb);
	if (net_xmit_eval(err) == 0) {
		dev_sw_netstats_tx_add(dev, 1, len);
	} else {
		ipsecif_count(p, IPSECIF_TX_OUTPUT_ERRORS);
		DEV_STATS_INC(dev, tx_errors);
		DEV_STATS_INC(dev, tx_dropped);
	}
	return NETDEV_TX_OK;

malformed:
	ipsecif_count(p, IPSECIF_TX_MALFORMED);
drop:
	DEV_STATS_INC(dev, tx_errors);
	DEV_STATS_INC(dev, tx_dropped);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}
