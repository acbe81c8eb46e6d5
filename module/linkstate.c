// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: whether the tunnel works, and the link state that tells it.
 *
 * The tunnel is up when xfrm can send through it now, without asking the
 * IKE daemon for SAs first, and the device's link can carry what it sends:
 *  - an outbound policy of the device's if_id, allowing, with templates,
 *    has a valid SA of that if_id for each template that is not optional
 *    (and for one template at least). An SA matches a template as
 *    xfrm_state_find() matches it: outer family, protocol, mode, reqid,
 *    SPI when the template names one, and the template's tunnel addresses
 *    (source only when it names one). In transport mode the addresses are
 *    the flow's: the destination of the policy's selector when it is one
 *    host, any otherwise. Valid is XFRM_STATE_VALID: not larval (an
 *    acquire in progress), not hard-expired, not deleted; a soft-expired
 *    SA still sends until the daemon replaces it, so it counts;
 *  - and, when the device is bound to a link, that link is present,
 *    administratively up and operative (carrier, not dormant).
 * Marks and security contexts are not compared.
 *
 * It is measured with the MTU (mtu.c), by the same walks under RTNL after
 * each SA or policy event of the if_id and each event of the link: first
 * the outbound policies, whose templates are recorded here, then the SAs,
 * each matched against its device's templates. A rekey adds the new SA
 * before it deletes the old one: no measure falls between them without an
 * SA, so the tunnel does not go down.
 *
 * The device says it as the user chose (IFLA_IPSEC_LINK_STATE): not at
 * all (always), by being dormant (RFC 2863's "waiting for an external
 * event": IFF_RUNNING clear, the carrier on, so that packets still reach
 * xfrm and an on-demand tunnel is still triggered), or by its carrier
 * (routes through it are linkdown; it sends nothing).
 */

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/xfrm.h>

#include "ipsecif.h"

/* A template of an outbound policy of a device being measured. */
struct ipsecif_tmpl {
	struct ipsecif *sif;
	xfrm_address_t daddr;		/* the SA's, unless any_daddr */
	xfrm_address_t saddr;		/* the SA's, unless all zero */
	__be32 spi;			/* 0: any */
	u32 reqid;
	unsigned short family;		/* the SA's (outer) */
	u8 proto;
	u8 mode;
	bool any_daddr;			/* transport mode to a network */
	bool optional;
	bool found;			/* a valid SA matches */
	bool first;			/* the first of its policy */
	int next;			/* the device's next template, or -1 */
};

/* The templates of one measure, and the walk over policies filling them. */
struct ipsecif_tmpls {
	struct net *net;
	struct ipsecif_tmpl *v;
	int n;
	int size;
	int pause;			/* ipsecif_walk_pause() */
	bool grow;			/* @v is full: grow, then walk on */
};

static void ipsecif_tmpl_add(struct ipsecif_tmpls *t, struct ipsecif *sif,
			     const struct xfrm_policy *pol, int i)
{
	const struct xfrm_tmpl *tmpl = &pol->xfrm_vec[i];
	struct ipsecif_tmpl *r = &t->v[t->n];
	unsigned int host = pol->family == AF_INET ? 32 : 128;

	*r = (struct ipsecif_tmpl){
		.sif = sif,
		.spi = tmpl->id.spi,
		.reqid = tmpl->reqid,
		.family = tmpl->encap_family,
		.proto = tmpl->id.proto,
		.mode = tmpl->mode,
		.optional = tmpl->optional,
		.first = i == 0,
		.next = sif->sa_sum.tmpls,
	};
	if (tmpl->mode == XFRM_MODE_TUNNEL || tmpl->mode == XFRM_MODE_BEET) {
		r->daddr = tmpl->id.daddr;
		r->saddr = tmpl->saddr;
	} else {
		r->daddr = pol->selector.daddr;
		r->any_daddr = pol->selector.prefixlen_d != host;
	}
	sif->sa_sum.tmpls = t->n++;
}

/* xfrm_policy_walk() callback, under the policy lock. */
static int ipsecif_tmpls_policy(struct xfrm_policy *pol, int dir, int count,
				void *arg)
{
	struct ipsecif_tmpls *t = arg;
	struct ipsecif *sif;
	int i;

	if (ipsecif_walk_pause(count, &t->pause))
		return -EAGAIN;
	if (dir != XFRM_POLICY_OUT || pol->action != XFRM_POLICY_ALLOW ||
	    !pol->xfrm_nr || !pol->if_id)
		return 0;
	sif = ipsecif_find(t->net, pol->if_id);	/* RTNL keeps it registered */
	if (!sif || list_empty(&sif->stale_node))	/* not being measured */
		return 0;
	if (t->n + pol->xfrm_nr > t->size) {
		t->grow = true;		/* this policy again, with room */
		return -EAGAIN;
	}
	for (i = 0; i < pol->xfrm_nr; i++)
		ipsecif_tmpl_add(t, sif, pol, i);
	sif->sa_sum.out_policy = true;
	return 0;
}

static int ipsecif_tmpls_grow(struct ipsecif_tmpls *t)
{
	int size = max(2 * t->size, 16);
	struct ipsecif_tmpl *v;

	v = kvmalloc_array(size, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	if (t->n)
		memcpy(v, t->v, t->n * sizeof(*v));
	kvfree(t->v);
	t->v = v;
	t->size = size;
	t->grow = false;
	return 0;
}

/**
 * ipsecif_tmpls_collect() - the templates of the stale devices' policies
 * @in: the namespace's state, whose stale devices are being measured,
 *	their sa_sum reset
 *
 * Walks the namespace's policies in chunks. Each template of an outbound
 * policy of a stale device is recorded in the device's chain, for
 * ipsecif_tmpls_sa() to match SAs against.
 * Context: RTNL held; sleeps.
 * Return: the templates, for ipsecif_tmpls_done(); NULL when memory ran
 * out (the devices' tunnels are then not measured).
 */
struct ipsecif_tmpls *ipsecif_tmpls_collect(struct ipsecif_net *in)
{
	struct xfrm_policy_walk walk;
	struct ipsecif_tmpls *t;
	int err;

	ASSERT_RTNL();
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return NULL;
	t->net = in->net;
	t->pause = IPSECIF_WALK_CHUNK;
	if (!READ_ONCE(in->net->xfrm.policy_count[XFRM_POLICY_OUT]))
		return t;	/* nothing to walk */
	xfrm_policy_walk_init(&walk, XFRM_POLICY_TYPE_ANY);
	while ((err = xfrm_policy_walk(in->net, &walk, ipsecif_tmpls_policy,
				       t)) == -EAGAIN) {
		if (t->grow && ipsecif_tmpls_grow(t))
			break;
		cond_resched();	/* between chunks, xfrm's lock let go */
	}
	xfrm_policy_walk_done(&walk, in->net);
	if (t->grow) {		/* could not grow */
		kvfree(t->v);
		kfree(t);
		return NULL;
	}
	return t;
}

static bool ipsecif_tmpl_match(const struct ipsecif_tmpl *r,
			       const struct xfrm_state *x)
{
	if (x->props.family != r->family || x->id.proto != r->proto ||
	    x->props.mode != r->mode || x->props.reqid != r->reqid ||
	    (r->spi && x->id.spi != r->spi) ||
	    (x->props.flags & XFRM_STATE_WILDRECV))
		return false;
	if (!r->any_daddr && !xfrm_addr_equal(&x->id.daddr, &r->daddr,
					      r->family))
		return false;
	return xfrm_addr_any(&r->saddr, r->family) ||
	       xfrm_addr_equal(&x->props.saddr, &r->saddr, r->family);
}

/**
 * ipsecif_tmpls_sa() - a valid SA of a device being measured
 * @t: the templates, from ipsecif_tmpls_collect(); may be NULL
 * @sif: the device of the SA's if_id
 * @x: the SA, in state XFRM_STATE_VALID
 *
 * Context: xfrm_state_walk() callback, under the state lock.
 */
void ipsecif_tmpls_sa(struct ipsecif_tmpls *t, struct ipsecif *sif,
		      const struct xfrm_state *x)
{
	int i;

	if (!t)
		return;
	for (i = sif->sa_sum.tmpls; i >= 0; i = t->v[i].next)
		if (ipsecif_tmpl_match(&t->v[i], x))
			t->v[i].found = true;
}

/**
 * ipsecif_tmpls_done() - which devices have a usable outbound policy
 * @t: the templates, their SAs matched; may be NULL
 *
 * Sets sa_sum.usable of each device one of whose policies has a valid SA
 * for every template that is not optional, and one at least; frees @t.
 * Context: RTNL held.
 */
void ipsecif_tmpls_done(struct ipsecif_tmpls *t)
{
	int i = 0, j;
	bool ok, any;

	if (!t)
		return;
	while (i < t->n) {
		ok = true;
		any = false;
		for (j = i; j < t->n && (j == i || !t->v[j].first); j++) {
			ok &= t->v[j].found || t->v[j].optional;
			any |= t->v[j].found;
		}
		if (ok && any)
			t->v[i].sif->sa_sum.usable = true;
		i = j;
	}
	kvfree(t->v);
	kfree(t);
}

static u8 ipsecif_tunnel_now(const struct ipsecif *sif,
			     const struct net_device *link, bool measured)
{
	if (!link && sif->link_name[0])
		return IPSECIF_TUNNEL_LINK_ABSENT;
	if (link && !(netif_running(link) && netif_oper_up(link)))
		return IPSECIF_TUNNEL_LINK_DOWN;
	if (!measured)		/* out of memory: as it was, for the SAs */
		return sif->tunnel < IPSECIF_TUNNEL_LINK_ABSENT ?
		       sif->tunnel : IPSECIF_TUNNEL_NO_SA;
	if (!sif->sa_sum.out_policy)
		return IPSECIF_TUNNEL_NO_POLICY;
	return sif->sa_sum.usable ? IPSECIF_TUNNEL_UP : IPSECIF_TUNNEL_NO_SA;
}

/*
 * The device's flags as its mode says. A device that was never dormant
 * nor without carrier has not been through linkwatch, and its operstate
 * is still UNKNOWN: a dormant flag set and cleared has linkwatch compute
 * it (UP), with no other effect.
 */
static void ipsecif_linkstate_show(struct ipsecif *sif)
{
	struct net_device *dev = sif->dev;
	bool up = sif->tunnel == IPSECIF_TUNNEL_UP;
	u8 mode = sif->link_state;

	if (mode == IPSECIF_LINK_STATE_DORMANT && !up)
		netif_dormant_on(dev);
	else
		netif_dormant_off(dev);
	if (mode == IPSECIF_LINK_STATE_CARRIER && !up)
		netif_carrier_off(dev);
	else
		netif_carrier_on(dev);
	if (mode != IPSECIF_LINK_STATE_ALWAYS && up &&
	    READ_ONCE(dev->operstate) == IF_OPER_UNKNOWN) {
		netif_dormant_on(dev);
		netif_dormant_off(dev);
	}
}

static const char *const ipsecif_tunnel_why[] = {
	[IPSECIF_TUNNEL_NO_POLICY]	= "no outbound policy",
	[IPSECIF_TUNNEL_NO_SA]		= "no outbound SA",
	[IPSECIF_TUNNEL_LINK_ABSENT]	= "link absent",
	[IPSECIF_TUNNEL_LINK_DOWN]	= "link down",
};

/**
 * ipsecif_linkstate_apply() - the tunnel's state, measured: tell it
 * @sif: the device, its sa_sum measured
 * @link: its link, NULL when detached or absent
 * @measured: false when the SAs and policies could not be measured
 *
 * Counts a change between up and down, announces a change of state or
 * reason (RTM_NEWLINK), and sets the device's flags as its mode says.
 * Context: RTNL held.
 */
void ipsecif_linkstate_apply(struct ipsecif *sif, const struct net_device *link,
			     bool measured)
{
	u8 now = ipsecif_tunnel_now(sif, link, measured);
	u8 was = sif->tunnel;

	ASSERT_RTNL();
	if (now != was) {
		if (!now != !was)
			WRITE_ONCE(sif->tunnel_changes, sif->tunnel_changes + 1);
		WRITE_ONCE(sif->tunnel, now);
		if (sif->link_state != IPSECIF_LINK_STATE_ALWAYS && !now)
			netdev_info(sif->dev, "tunnel up\n");
		else if (sif->link_state != IPSECIF_LINK_STATE_ALWAYS && !was)
			netdev_info(sif->dev, "tunnel down: %s%s%s\n",
				    ipsecif_tunnel_why[now],
				    now >= IPSECIF_TUNNEL_LINK_ABSENT ? " " : "",
				    now >= IPSECIF_TUNNEL_LINK_ABSENT ?
				    sif->link_name : "");
		call_netdevice_notifiers(NETDEV_CHANGEINFODATA, sif->dev);
	}
	ipsecif_linkstate_show(sif);
}

/**
 * ipsecif_linkstate_init() - a new device: no tunnel until measured
 * @sif: the device, not registered yet
 */
void ipsecif_linkstate_init(struct ipsecif *sif)
{
	sif->tunnel = IPSECIF_TUNNEL_NO_POLICY;
	sif->tunnel_changes = 0;
}
