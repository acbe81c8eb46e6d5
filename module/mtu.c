// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: an MTU that fits the tunnel. KLIPS derived ipsecN's MTU from
 * its physical device; so do we, for attached devices: the link's MTU
 * minus the largest overhead of the device's SAs (ESP header, IV,
 * padding, ICV, outer header, UDP for NAT-T), as xfrm_state_mtu()
 * computes it, kept current when the link's MTU changes and when SAs come
 * and go. Setting an MTU pins it, until automatic mode is asked for again.
 * The same walk over the SAs gives the headroom a sent packet needs, and
 * with a walk over the policies, whether the tunnel is up (linkstate.c).
 */

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/xfrm.h>

#include "ipsecif.h"
#include "compat.h"

/*
 * Before any SA exists: the overhead of the largest common ESP, IPv6
 * outer header (40), UDP (8), ESP header (8), a 16-byte IV, up to 17
 * bytes of padding, pad length and next header, a 32-byte ICV.
 */
#define IPSECIF_MTU_OVERHEAD_NO_SA	121

/* A walk over the SAs in chunks (ipsecif_mtu_refresh()). */
struct ipsecif_sa_walker {
	struct net *net;
	struct ipsecif_tmpls *tmpls;	/* of the stale devices' policies */
	int pause;	/* before the entry of this count */
};

/* xfrm_state_walk() callback, under the state lock: @x into its device's sum. */
static int ipsecif_sa_measure(struct xfrm_state *x, int count, void *arg)
{
	struct ipsecif_sa_walker *w = arg;
	struct net *net = w->net;
	struct ipsecif_sa_sum *s;
	struct ipsecif *sif;

	if (ipsecif_walk_pause(count, &w->pause))
		return -EAGAIN;
	if (!x->if_id || x->km.state != XFRM_STATE_VALID)
		return 0;
	sif = ipsecif_find(net, x->if_id);	/* RTNL keeps it registered */
	if (!sif || list_empty(&sif->stale_node))	/* not being measured */
		return 0;
	s = &sif->sa_sum;
	s->mtu = min(s->mtu, xfrm_state_mtu(x, s->link_mtu));
	s->header_len = max(s->header_len, x->props.header_len);
	s->found = true;
	ipsecif_tmpls_sa(w->tmpls, sif, x);
	return 0;
}

static struct net_device *ipsecif_mtu_link(const struct ipsecif *sif)
{
	return sif->link ? __dev_get_by_index(sif->net, sif->link) : NULL;
}

/*
 * Room in front of a packet for the SAs' headers and the link's, as
 * xfrm_output() checks it (xfrm_skb_check_space()): a socket reserves the
 * device's, so a packet sent from this host is not copied to a larger
 * buffer on its way out. ip_forward() asks the same room of a forwarded
 * packet, rounded up as LL_RESERVED_SPACE() rounds it: never more than
 * NET_SKB_PAD, which NIC drivers leave in front of a received frame, or
 * forwarding would copy packets that xfrm alone would not have copied.
 * Unattached, the link is taken to be Ethernet's size.
 */
static void ipsecif_headroom_update(struct ipsecif *sif,
				    const struct net_device *link)
{
	const struct ipsecif_sa_sum *s = &sif->sa_sum;
	int ll = link ? LL_RESERVED_SPACE(link) :
			((ETH_HLEN + HH_DATA_MOD) & ~(HH_DATA_MOD - 1));
	int room = min_t(int, s->header_len + ll, NET_SKB_PAD);

	/* LL_RESERVED_SPACE() of the device is then room rounded up to 16. */
	WRITE_ONCE(sif->dev->needed_headroom, s->found ? room - 1 : 0);
}

/*
 * Only attached devices in automatic mode change their MTU; others keep
 * theirs. The headroom follows the SAs on every device.
 */
static void ipsecif_mtu_apply(struct ipsecif *sif, struct net_device *link)
{
	const struct ipsecif_sa_sum *s = &sif->sa_sum;
	int mtu;

	ipsecif_headroom_update(sif, link);
	WRITE_ONCE(sif->sa_header_len, s->found ? s->header_len : 0);
	if (!sif->mtu_auto || !link)
		return;
	mtu = s->found ? (int)s->mtu : s->link_mtu - IPSECIF_MTU_OVERHEAD_NO_SA;
	mtu = clamp_t(int, mtu, sif->dev->min_mtu, sif->dev->max_mtu);
	if (mtu == sif->dev->mtu)
		return;
	sif->mtu_updating = true;
	if (dev_set_mtu(sif->dev, mtu))
		netdev_warn(sif->dev, "cannot set the automatic MTU %d\n", mtu);
	sif->mtu_updating = false;
}

/**
 * ipsecif_mtu_stale() - the device's MTU and headroom need recomputing
 * @sif: the device
 *
 * Done by the next ipsecif_mtu_refresh() of its namespace.
 * Context: RTNL held.
 */
void ipsecif_mtu_stale(struct ipsecif *sif)
{
	ASSERT_RTNL();
	if (list_empty(&sif->stale_node))
		list_add_tail(&sif->stale_node,
			      &ipsecif_pernet(sif->net)->stale);
}

/**
 * ipsecif_mtu_refresh() - bring the stale devices of a namespace up to date
 * @in: the namespace's state
 *
 * Their MTU, headroom and link state.
 * One walk over the namespace's SAs serves every stale device, so that a
 * rekey, or a link that many devices wait for coming back, costs the SAs
 * plus the devices, not their product; only the stale devices are visited,
 * so that creating a device costs the same with 10,000 others.
 * Context: RTNL held.
 */
void ipsecif_mtu_refresh(struct ipsecif_net *in)
{
	struct ipsecif_sa_walker w = { .net = in->net, .pause = IPSECIF_WALK_CHUNK };
	struct xfrm_state_walk walk;
	struct ipsecif *sif, *next;
	struct net_device *link;
	bool measured;

	ASSERT_RTNL();
	if (list_empty(&in->stale))
		return;
	list_for_each_entry(sif, &in->stale, stale_node) {
		link = ipsecif_mtu_link(sif);
		sif->sa_sum = (struct ipsecif_sa_sum){
			.mtu = U32_MAX,
			.link_mtu = link ? READ_ONCE(link->mtu) : ETH_DATA_LEN,
			.tmpls = -1,
		};
	}
	w.tmpls = ipsecif_tmpls_collect(in);
	xfrm_state_walk_init(&walk, 0, NULL);
	while (xfrm_state_walk(in->net, &walk, ipsecif_sa_measure, &w) == -EAGAIN)
		cond_resched();	/* between chunks, xfrm's lock let go */
	xfrm_state_walk_done(&walk, in->net);
	measured = w.tmpls;
	ipsecif_tmpls_done(w.tmpls);
	list_for_each_entry_safe(sif, next, &in->stale, stale_node) {
		list_del_init(&sif->stale_node);
		link = ipsecif_mtu_link(sif);
		ipsecif_mtu_apply(sif, link);
		ipsecif_linkstate_apply(sif, link, measured);
	}
}

/**
 * ipsecif_mtu_update() - bring an automatic MTU and the headroom up to date
 * @sif: the device
 *
 * Context: RTNL held.
 */
void ipsecif_mtu_update(struct ipsecif *sif)
{
	ipsecif_mtu_stale(sif);
	ipsecif_mtu_refresh(ipsecif_pernet(sif->net));
}

/**
 * ipsecif_mtu_changed() - the MTU was set: by us, or pinned by the user
 * @sif: the device
 *
 * Context: RTNL held (ndo_change_mtu).
 */
void ipsecif_mtu_changed(struct ipsecif *sif)
{
	if (!sif->mtu_updating)
		sif->mtu_auto = false;
}

/*
 * SAs or policies of devices changed (IPSECIF_EV_MEASURE, on the namespace
 * for a flush): their MTUs, headroom and link state follow. Other devices
 * keep theirs.
 */
static void ipsecif_mtu_work(struct work_struct *work)
{
	struct ipsecif_net *in = container_of(work, struct ipsecif_net,
					      mtu_work);
	struct ipsecif *sif;
	bool all;

	rtnl_lock();
	all = test_and_clear_bit(IPSECIF_EV_MEASURE, &in->events);
	list_for_each_entry(sif, &in->devs, list)
		if (test_and_clear_bit(IPSECIF_EV_MEASURE, &sif->events) || all)
			ipsecif_mtu_stale(sif);
	ipsecif_mtu_refresh(in);
	rtnl_unlock();
}

/**
 * ipsecif_mtu_xfrm_changed() - measure a device's SAs and policies again
 * @in: the namespace's state
 * @sif: the device of their if_id, or NULL for every device of @in
 *
 * The measure runs in a worker, under RTNL.
 * Context: any (xfrm's key manager notification); @sif valid.
 */
void ipsecif_mtu_xfrm_changed(struct ipsecif_net *in, struct ipsecif *sif)
{
	set_bit(IPSECIF_EV_MEASURE, sif ? &sif->events : &in->events);
	ipsecif_net_queue(in, &in->mtu_work);
}

/**
 * ipsecif_mtu_net_init() - per-namespace state of the MTU updates
 * @in: the namespace's state
 */
void ipsecif_mtu_net_init(struct ipsecif_net *in)
{
	INIT_WORK(&in->mtu_work, ipsecif_mtu_work);
}

/**
 * ipsecif_mtu_net_exit() - no MTU update of this namespace runs, or will
 * @in: the namespace's state, no longer ready (none can be queued)
 *
 * Context: process, RTNL not held.
 */
void ipsecif_mtu_net_exit(struct ipsecif_net *in)
{
	cancel_work_sync(&in->mtu_work);
}
