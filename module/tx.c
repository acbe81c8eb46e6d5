// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: transmit. A packet routed into a device, ipsecif_xmit() at the
 * end of this file, is decided in this order, which is the promise that
 * nothing routed into a device leaves in clear:
 *
 *   1. malformed IP header: dropped (ipsecif_tx_sane());
 *   2. ESP that xfrm made with a tunnel-mode SA of the device's if_id and
 *      whose route came back into the device: out through the physical
 *      device unchanged (ipsecif_own_esp());
 *   3. an IKE daemon's packet, allowed in clear by its socket policy: out
 *      through the physical device (ipsecif_sk_bypass());
 *   4. anything else is encrypted with the SAs of the if_id: the bundle
 *      cached for its masked flow (bundle.c), else a new one
 *      (ipsecif_bundle_new()); no SA, no route, or a route back into the
 *      device: dropped; link-scope multicast that no policy covers (MLD
 *      into an IPv4-only tunnel): discarded quietly, counted apart;
 *   5. over the path MTU: ICMP to the sender, dropped (ipsecif_too_big());
 *   6. scrubbed and handed to the bundle's output.
 *
 * The helpers follow in that order.
 */

#include <linux/icmpv6.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "ipsecif.h"
#include "compat.h"

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

/*
 * xfrm routed the transformed packet into @dev: its route is the device's.
 * A packet that tc, a bridge or OVS redirects into the device from
 * another one keeps another route, whatever its control block says.
 */
static bool ipsecif_routed_in(const struct sk_buff *skb,
			      const struct net_device *dev)
{
	const struct dst_entry *dst = skb_dst(skb);

	return dst && dst->dev == dev;
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
 * packet comes back here. It passes on unchanged only if xfrm made it and
 * routed it here, in the device's own namespace, with a tunnel-mode SA of
 * the device's if_id (plain ESP, NAT-T, or an outer IPv4 fragment of
 * either).
 * Anything else, crafted ESP included, is treated as any other packet.
 */
static bool ipsecif_own_esp(struct ipsecif *sif, struct net_device *dev,
			    struct sk_buff *skb, u32 if_id)
{
	struct ipsecif_outer o;
	struct xfrm_state *x;
	bool own;

	if (!net_eq(sif->net, dev_net(dev)) || !ipsecif_xfrm_made(skb) ||
	    !ipsecif_routed_in(skb, dev) || !ipsecif_outer(skb, &o))
		return false;
	x = ipsecif_outer_sa(sif, skb, &o);
	if (!x)
		return false;
	own = x->if_id == if_id && x->props.mode == XFRM_MODE_TUNNEL &&
	      xfrm_addr_equal(&x->props.saddr, o.saddr, o.family);
	xfrm_state_put(x);
	return own;
}

/* Route of the inner destination through the physical device @link. */
static struct dst_entry *ipsecif_link_route(struct ipsecif *sif,
					    struct sk_buff *skb,
					    const struct flowi *fl, int link)
{
	if (skb->protocol == htons(ETH_P_IP)) {
		struct flowi4 fl4 = {
			.daddr		= fl->u.ip4.daddr,
			.flowi4_oif	= link,
			.flowi4_mark	= fl->flowi_mark,
		};
		struct rtable *rt = ip_route_output_key(sif->net, &fl4);

		return IS_ERR(rt) ? NULL : &rt->dst;
	}
#if IS_ENABLED(CONFIG_IPV6)
	{
		struct flowi6 fl6 = {
			.daddr		= fl->u.ip6.daddr,
			.flowi6_oif	= link,
			.flowi6_mark	= fl->flowi_mark,
		};
		struct dst_entry *dst = ip6_route_output(sif->net, NULL, &fl6);

		if (!dst->error)
			return dst;
		dst_release(dst);
	}
#endif
	return NULL;
}

/*
 * Send a packet on as it is through the physical device @link: our own
 * ESP, or an IKE daemon's bypass traffic. Without a route there, leave the
 * skb to the caller's drop path.
 */
static int ipsecif_xmit_link(struct ipsecif *sif, struct net_device *dev,
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
	dst = ipsecif_link_route(sif, skb, &fl, link);
	if (!dst || dst->dev == dev) {
		ipsecif_count(sif, IPSECIF_TX_NO_ROUTE);
		dst_release(dst);
		return -ENETUNREACH;
	}
	skb_dst_drop(skb);	/* the route that led back into the device */
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	dst_output(sif->net, skb->sk, skb);
	return 0;
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
static bool ipsecif_sk_bypass(const struct ipsecif *sif,
			      const struct net_device *dev,
			      const struct sk_buff *skb, const struct flowi *fl)
{
	const struct xfrm_policy *pol;
	const struct sock *sk = skb->sk;
	unsigned short family;
	bool bypass = false;

	if (!sk || !sk_fullsock(sk) || !net_eq(sif->net, dev_net(dev)) ||
	    !net_eq(sock_net(sk), sif->net))
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
static struct dst_entry *ipsecif_underlay(struct ipsecif *sif,
					  struct sk_buff *skb,
					  const struct flowi *fl, int link,
					  bool tunnel_only)
{
	struct dst_entry *own = skb_dst(skb), *dst;

	/* A forwarded packet's route may be held without a reference. */
	if (own && (!link || (tunnel_only && !(own->flags & DST_NOXFRM))) &&
	    dst_hold_safe(own))
		return own;
	dst = link ? ipsecif_link_route(sif, skb, fl, link) : NULL;
	if (dst)
		return dst;
	/* No route to the inner destination through the link. */
	if (own && dst_hold_safe(own))
		return own;
	return ERR_PTR(-ENETUNREACH);
}

/*
 * No SA of ours can protect the packet: tell the sender (as a router
 * with no route would) and let the caller drop it. Never sent in clear.
 */
static void ipsecif_unreachable(struct ipsecif *sif, struct sk_buff *skb,
				struct dst_entry *dst, enum ipsecif_stat cause)
{
	ipsecif_count(sif, cause);
	dst_link_failure(skb);
	if (!IS_ERR_OR_NULL(dst))
		dst_release(dst);
}

/*
 * Multicast to this link only (224.0.0.0/24, ff02::/16 and narrower):
 * what IPv4 and IPv6 send by themselves on a multicast device (IGMP and
 * MLD reports, router solicitations) and routing daemons' hellos.
 */
static bool ipsecif_link_scope(const struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IP))
		return ipv4_is_local_multicast(ip_hdr(skb)->daddr);
	return ipv6_addr_is_multicast(&ipv6_hdr(skb)->daddr) &&
	       IPV6_ADDR_MC_SCOPE(&ipv6_hdr(skb)->daddr) <=
	       IPV6_ADDR_SCOPE_LINKLOCAL;
}

/*
 * The xfrm bundle that encrypts @skb with the SAs of @if_id, or NULL when
 * there is none or it would loop (counted; the caller drops the packet).
 * Link-scope multicast that no policy covers, such as the MLD reports of
 * a tunnel that carries only IPv4, is not the tunnel's to carry: NULL
 * with *@discard set, counted apart, and no error to the sender.
 */
static struct dst_entry *ipsecif_bundle_new(struct ipsecif *sif,
					    struct net_device *dev,
					    struct sk_buff *skb,
					    const struct flowi *fl, u32 if_id,
					    bool tunnel_only, bool *discard)
{
	int link = fl->flowi_oif;
	struct dst_entry *dst;

	ipsecif_count(sif, IPSECIF_TX_BUNDLE_LOOKUPS);
	dst = ipsecif_underlay(sif, skb, fl, link, tunnel_only);
	if (IS_ERR(dst)) {
		ipsecif_unreachable(sif, skb, NULL, IPSECIF_TX_NO_ROUTE);
		return NULL;
	}
	dst = xfrm_lookup_with_ifid(sif->net, dst, fl, NULL, 0, if_id);
	if (!IS_ERR(dst) && !dst->xfrm && ipsecif_link_scope(skb)) {
		ipsecif_count(sif, IPSECIF_TX_LINK_SCOPE);
		dst_release(dst);
		*discard = true;
		return NULL;
	}
	if (IS_ERR(dst) || !dst->xfrm || dst->xfrm->if_id != if_id) {
		ipsecif_unreachable(sif, skb, dst, IPSECIF_TX_NO_SA);
		return NULL;
	}
	/* Attached, tunnel-mode output comes back: see ipsecif_own_esp(). */
	if (dst->dev == dev &&
	    !(link && dst->xfrm->props.mode == XFRM_MODE_TUNNEL)) {
		ipsecif_count(sif, IPSECIF_TX_LOOPED);
		net_warn_ratelimited("%s: SA route leads back into the device; attach it to a physical device\n",
				     dev->name);
		dst_release(dst);
		return NULL;
	}
	return dst;
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

/**
 * ipsecif_xmit() - ndo_start_xmit: encrypt a packet routed into the device
 * @skb: an IPv4 or IPv6 packet, its data at the network header
 * @dev: the device
 *
 * Decides in the order the comment at the top of this file gives; every
 * packet that is not sent is counted by cause and freed.
 * Context: bottom halves disabled; no queue, so any number of CPUs at once
 * (LLTX).
 * Return: NETDEV_TX_OK, always: a packet is sent or dropped, never
 * requeued.
 */
netdev_tx_t ipsecif_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ipsecif *sif = netdev_priv(dev);
	bool moved = !net_eq(sif->net, dev_net(dev));	/* from its birth ns */
	u32 if_id = READ_ONCE(sif->if_id);
	int link = READ_ONCE(sif->link);
	struct ipsecif_bundle_key key;
	unsigned int len = skb->len;
	bool discard = false;
	struct dst_entry *dst;
	struct flowi fl;
	int err;

	if (!ipsecif_tx_sane(skb))
		goto malformed;
	/* A mark of the namespace the device was moved to means nothing here. */
	if (moved)
		skb->mark = 0;
	/* Before ipsecif_flow(), which clears the IP control block. */
	if (link && ipsecif_own_esp(sif, dev, skb, if_id)) {
		if (ipsecif_xmit_link(sif, dev, skb, link))
			goto drop;
		ipsecif_count(sif, IPSECIF_TX_OWN_ESP);
		return NETDEV_TX_OK;	/* counted when it was encrypted */
	}
	if (ipsecif_flow(dev, skb, &fl))
		goto malformed;
	if (link && ipsecif_sk_bypass(sif, dev, skb, &fl)) {
		if (ipsecif_xmit_link(sif, dev, skb, link))
			goto drop;
		ipsecif_count(sif, IPSECIF_TX_IKE_BYPASS);
		dev_sw_netstats_tx_add(dev, 1, len);
		return NETDEV_TX_OK;
	}
	fl.flowi_oif = link;
	ipsecif_bundle_key(sif, &fl, skb->protocol == htons(ETH_P_IP) ?
			   AF_INET : AF_INET6, if_id, &key);
	dst = ipsecif_bundle_get(sif, &key);
	if (!dst) {
		dst = ipsecif_bundle_new(sif, dev, skb, &fl, if_id,
					 key.tunnel_only, &discard);
		if (discard) {
			consume_skb(skb);
			return NETDEV_TX_OK;
		}
		if (!dst)
			goto drop;
		ipsecif_bundle_set(sif, &key, dst);
	}
	if (ipsecif_too_big(skb, dst)) {
		ipsecif_count(sif, IPSECIF_TX_TOO_BIG);
		dst_release(dst);
		goto drop;
	}

	ipsecif_scrub(skb, moved);
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	err = dst_output(sif->net, skb->sk, skb);
	if (net_xmit_eval(err) == 0) {
		dev_sw_netstats_tx_add(dev, 1, len);
	} else {
		ipsecif_count(sif, IPSECIF_TX_OUTPUT_ERRORS);
		DEV_STATS_INC(dev, tx_errors);
		DEV_STATS_INC(dev, tx_dropped);
	}
	return NETDEV_TX_OK;

malformed:
	ipsecif_count(sif, IPSECIF_TX_MALFORMED);
drop:
	DEV_STATS_INC(dev, tx_errors);
	DEV_STATS_INC(dev, tx_dropped);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}
