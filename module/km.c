// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: what xfrm tells of SAs and policies. ipsecif is a key manager
 * that negotiates nothing: it registers with xfrm to be told of every SA
 * and policy event, and passes those of its devices' if_ids on, to the
 * bundle cache (masks stale, cached bundles dropped: bundle.c), which
 * passes them to the measure of the MTU and link state (mtu.c); workers do
 * the rest under RTNL.
 */

#include <net/xfrm.h>

#include "ipsecif.h"

/*
 * An SA (@sa) or policy event of @if_id in @net, or a flush (@if_id 0):
 * the device of that if_id, or every device of the namespace for a flush,
 * gets its masks recomputed, for SAs its bundles flushed, and its MTU and
 * link state measured again. Events of other if_ids, and of namespaces without
 * devices, cost nothing more: no work, no walk under RTNL.
 */
static void ipsecif_km_event(struct net *net, u32 if_id, bool sa)
{
	struct ipsecif_net *in = net ? ipsecif_pernet(net) : NULL;
	struct ipsecif *sif = NULL;

	if (!in)
		return;
	/* Ready seen inside the section: the table outlives it. */
	rcu_read_lock();
	if (!READ_ONCE(in->ready))	/* going away, or no init of ours ran */
		goto out;
	if (if_id) {
		sif = ipsecif_find(net, if_id);
		if (!sif)
			goto out;
	} else if (!atomic_read(&in->table.nelems)) {
		goto out;
	}
	ipsecif_bundle_xfrm_changed(in, sif, sa);
out:
	rcu_read_unlock();
}

/*
 * xfrm tells every key manager of each SA added, updated, deleted or
 * expired: our devices follow, outside the caller's context (it may hold
 * xfrm locks or run in a timer). The other callbacks of a key
 * manager are not ours to answer: acquire and compile_policy must exist
 * (xfrm calls them unchecked) and leave the result to the others.
 */
static int ipsecif_km_notify(struct xfrm_state *x, const struct km_event *c)
{
	switch (c->event) {
	case XFRM_MSG_EXPIRE:
		if (!c->data.hard)
			return 0;
		fallthrough;
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
	case XFRM_MSG_DELSA:
	case XFRM_MSG_FLUSHSA:
		break;
	default:
		return 0;
	}
	/* c->net is set only when there is no state (a flush). */
	if (!x)
		ipsecif_km_event(c->net, 0, true);
	else if (x->if_id)
		ipsecif_km_event(xs_net(x), x->if_id, true);
	return 0;
}

/*
 * A policy added, changed or deleted: the device's masks are computed
 * again (an insert has also moved the head of the namespace's policies,
 * which made every mask stale before this notification; a delete does
 * not, and would leave the keys finer than they need to be).
 */
static int ipsecif_km_notify_policy(struct xfrm_policy *xp, int dir,
				    const struct km_event *c)
{
	if (!xp)
		ipsecif_km_event(c->net, 0, false);
	else if (xp->if_id)
		ipsecif_km_event(xp_net(xp), xp->if_id, false);
	return 0;
}

/*
 * XFRM_MSG_MIGRATE (MOBIKE, a NAT appearing) replaced SAs of @net with
 * clones at other addresses or with another encapsulation, and sends no
 * SA notification. Which if_id is not told: every device of the namespace
 * follows, as for a flush. No message of ours is sent: the result is the
 * other key managers'.
 */
static int ipsecif_km_migrate(const struct xfrm_selector *sel, u8 dir, u8 type,
			      const struct xfrm_migrate *m, int num_bundles,
			      const struct xfrm_kmaddress *k, struct net *net,
			      const struct xfrm_encap_tmpl *encap)
{
	ipsecif_km_event(net, 0, true);
	return -EOPNOTSUPP;
}

/**
 * ipsecif_km_sas_flushed() - SAs of a namespace went without a notification
 * @net: the namespace
 *
 * As xfrm_dev_state_flush() deletes the SAs offloaded to a device that
 * goes down or away: every device of the namespace follows, as for a
 * flush.
 * Context: any.
 */
void ipsecif_km_sas_flushed(struct net *net)
{
	ipsecif_km_event(net, 0, true);
}

static int ipsecif_km_acquire(struct xfrm_state *x, struct xfrm_tmpl *t,
			      struct xfrm_policy *xp)
{
	return -EOPNOTSUPP;
}

static struct xfrm_policy *ipsecif_km_compile(struct sock *sk, int opt,
					      u8 *data, int len, int *dir)
{
	return NULL;	/* *dir keeps the previous manager's error */
}

static struct xfrm_mgr ipsecif_km = {
	.notify		= ipsecif_km_notify,
	.notify_policy	= ipsecif_km_notify_policy,
	.acquire	= ipsecif_km_acquire,
	.compile_policy	= ipsecif_km_compile,
	.migrate	= ipsecif_km_migrate,
};

/**
 * ipsecif_km_register() - be told of SA and policy events
 */
void ipsecif_km_register(void)
{
	xfrm_register_km(&ipsecif_km);
}

/**
 * ipsecif_km_unregister() - no longer; returns once no callback runs
 */
void ipsecif_km_unregister(void)
{
	xfrm_unregister_km(&ipsecif_km);
}
