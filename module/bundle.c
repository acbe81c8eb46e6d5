// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: the bundle cache of the transmit path.
 *
 * A connected socket keeps its xfrm bundle in its dst cache; a device sees
 * the packets of many flows and, without a cache, builds a bundle for each
 * packet (as xfrm_interface does). Keying a cache by the whole flow misses
 * on every packet when flows interleave, and a cache that grows with the
 * flows is what made Linux remove its flow cache (4.14): attacker-chosen
 * flows made it a denial-of-service vector.
 *
 * What decides a device's bundle is much smaller than the flow. xfrm picks
 * the best policy of the if_id whose selector matches the flow, then for
 * each template the best SA whose selector (if any) matches. Two flows
 * that agree on every bit those selectors read get the same bundle: the
 * longest address prefixes of the if_id's outbound policies and SAs, the
 * protocol and ports only if a selector names them, the whole addresses
 * if a template is in transport mode (the SA's addresses are the flow's),
 * and, for IPv4, the DSCP (the outer route is looked up with it). So each
 * device keeps, per family, the mask its policies and SAs call for, and a
 * few bundles per CPU keyed by the masked flow: one 0.0.0.0/0 policy makes
 * every flow of a family share one bundle, whatever its ports.
 *
 * A mask is valid while nothing it was derived from may have changed. xfrm
 * counts the namespace's outbound policies, under its lock, as it puts
 * each in the lookup tables: the mask records that count, and a count that
 * changed means policies may have been inserted or deleted. xfrm tells our
 * key manager of every policy and SA added, changed or deleted
 * (ipsecif_bundle_xfrm_changed()), just after, in the same system call;
 * the count covers that gap for insertions (a replaced or deleted policy's
 * bundles are invalid at once, as xfrm bumps its genid). A stale mask is
 * not used: the packet is keyed by its whole flow, as a socket would be,
 * and a worker computes the mask again. An SA that names ports (no IKE
 * daemon installs one: they leave ports to the policies) counts from its
 * notification on.
 *
 * Neither the route generations, though xfrm bumps them on each insertion,
 * nor the list of every policy are a sign of new outbound policies that a
 * remote host cannot move: any route change bumps the generations, IPv6's
 * with each path MTU exception (an ICMPv6 Packet Too Big creates one), and
 * each TCP connection accepted by a socket with per-socket policies (IKE
 * over TCP) links copies of them into the list. Socket policies are
 * counted apart from the others.
 *
 * xfrm invalidates a cached bundle as it does a socket's (dst_check(): SA
 * or policy replaced or deleted, route changed, device down). Cached
 * bundles are also dropped when SAs change, the device goes down or is
 * re-bound (ipsecif_bundle_flush()), so that none keeps a deleted SA and
 * its keys alive: the dst pointers are exchanged atomically and read
 * under RCU with dst_hold_safe(), as dsts are freed after a grace period.
 */

#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "ipsecif.h"
#include "compat.h"

#define IPSECIF_BUNDLES	4	/* per CPU and device: bounded memory */

struct ipsecif_bundle {
	struct flowi key;	/* the masked flow */
	u32 if_id;
	u32 gen;		/* of the mask; 0: keyed by the whole flow */
	unsigned short family;	/* a masked IPv4 flow may equal an IPv6 one */
	struct dst_entry *dst;
};

struct ipsecif_bundles {
	struct ipsecif_bundle b[IPSECIF_BUNDLES];
	unsigned int next;	/* the entry a miss replaces */
};

static int ipsecif_family_index(unsigned short family)
{
	return family == AF_INET6;
}

/* --- the mask: what of a flow decides its bundle ------------------------ */

/* The bits of an address of @family: a selector's prefix length is a u8. */
static u8 ipsecif_addr_bits(unsigned short family)
{
	return family == AF_INET ? 32 : 128;
}

static void ipsecif_mask_sel(struct ipsecif_flowmask *m,
			     const struct xfrm_selector *sel,
			     unsigned short family)
{
	u8 width = ipsecif_addr_bits(family);

	m->src_bits = max(m->src_bits, min(sel->prefixlen_s, width));
	m->dst_bits = max(m->dst_bits, min(sel->prefixlen_d, width));
	if (sel->sport_mask || sel->dport_mask)
		m->ports = true;
	if (sel->proto)
		m->proto = true;
}

static struct ipsecif_flowmask *ipsecif_mask_of(struct net *net, u32 if_id,
						unsigned short family)
{
	struct ipsecif *sif;

	if (!if_id || (family != AF_INET && family != AF_INET6))
		return NULL;
	sif = ipsecif_find(net, if_id);
	return sif ? &sif->mask_next[ipsecif_family_index(family)] : NULL;
}

/* A walk in chunks (ipsecif_mask_walk()): where the next one starts. */
struct ipsecif_mask_walker {
	struct net *net;
	int pause;	/* before the entry of this count */
};

/* xfrm_policy_walk() callback, under the policy lock. */
static int ipsecif_mask_policy(struct xfrm_policy *pol, int dir, int count,
			       void *arg)
{
	struct ipsecif_mask_walker *w = arg;
	struct net *net = w->net;
	struct ipsecif_flowmask *m;
	int i;

	if (ipsecif_walk_pause(count, &w->pause))
		return -EAGAIN;
	if (dir != XFRM_POLICY_OUT)
		return 0;
	rcu_read_lock();
	m = ipsecif_mask_of(net, pol->if_id, pol->family);
	if (m) {
		ipsecif_mask_sel(m, &pol->selector, pol->family);
		if (pol->security)
			m->whole = true;
		for (i = 0; i < pol->xfrm_nr; i++) {
			u8 mode = pol->xfrm_vec[i].mode;

			if (mode != XFRM_MODE_TUNNEL && mode != XFRM_MODE_BEET)
				m->transport = true;
		}
		if (m->transport) {	/* the SAs' addresses are the flow's */
			m->src_bits = ipsecif_addr_bits(pol->family);
			m->dst_bits = m->src_bits;
		}
	}
	rcu_read_unlock();
	return 0;
}

/* xfrm_state_walk() callback, under the state lock. */
static int ipsecif_mask_state(struct xfrm_state *x, int count, void *arg)
{
	struct ipsecif_mask_walker *w = arg;
	struct net *net = w->net;
	struct ipsecif_flowmask *m;

	if (ipsecif_walk_pause(count, &w->pause))
		return -EAGAIN;
	if (!x->sel.family)
		return 0;	/* matches every flow */
	rcu_read_lock();
	m = ipsecif_mask_of(net, x->if_id, x->sel.family);
	if (m) {
		ipsecif_mask_sel(m, &x->sel, x->sel.family);
		if (x->security)
			m->whole = true;
	}
	rcu_read_unlock();
	return 0;
}

/* The namespace's outbound policies, socket policies left out. */
static u32 ipsecif_out_policies(struct net *net)
{
	return READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_OUT]);
}

/*
 * Every policy and SA of the namespace, in chunks: xfrm's locks (bottom
 * halves off) are let go and the CPU may reschedule between them.
 * Entries inserted meanwhile may be missed: the count of policies and
 * the notifications make the masks stale then.
 */
static void ipsecif_mask_walk(struct net *net)
{
	struct ipsecif_mask_walker w = { .net = net, .pause = IPSECIF_WALK_CHUNK };
	struct xfrm_policy_walk pw;
	struct xfrm_state_walk sw;

	xfrm_policy_walk_init(&pw, XFRM_POLICY_TYPE_ANY);
	while (xfrm_policy_walk(net, &pw, ipsecif_mask_policy, &w) == -EAGAIN)
		cond_resched();
	xfrm_policy_walk_done(&pw, net);
	w.pause = IPSECIF_WALK_CHUNK;
	xfrm_state_walk_init(&sw, 0, NULL);
	while (xfrm_state_walk(net, &sw, ipsecif_mask_state, &w) == -EAGAIN)
		cond_resched();
	xfrm_state_walk_done(&sw, net);
}

/*
 * Whether the device's cached bundles, keyed with @old's generation, stay
 * valid under @new: no outbound policy was inserted or deleted since @old
 * (a better one may take flows whose bundles dst_check() still passes:
 * xfrm bumps only the inner family's route generation, not a cross-family
 * tunnel's outer one), and the masks read the same bits.
 */
static bool ipsecif_mask_keeps(const struct ipsecif_flowmask *new,
			       const struct ipsecif_flowmask *old)
{
	return old->gen && new->out_policies == old->out_policies &&
	       new->if_id == old->if_id && new->src_bits == old->src_bits &&
	       new->dst_bits == old->dst_bits && new->ports == old->ports &&
	       new->proto == old->proto && new->transport == old->transport &&
	       new->whole == old->whole;
}

/*
 * Drop the cached bundles of the devices whose SAs changed (every device's
 * after a flush of the namespace's SAs), so that a deleted SA is freed
 * with its keys now, not when the next packet finds its bundle stale.
 */
static void ipsecif_bundle_flush_changed(struct ipsecif_net *in)
{
	struct ipsecif *sif;
	bool all;

	all = test_and_clear_bit(IPSECIF_EV_FLUSH, &in->events);
	list_for_each_entry(sif, &in->devs, list)
		if (test_and_clear_bit(IPSECIF_EV_FLUSH, &sif->events) || all)
			ipsecif_bundle_flush(sif);
}

/*
 * Drop the bundles that SA events made stale, and compute every device's
 * masks again. The generations are read before the walks: a policy or SA
 * that comes later makes the result stale, never wrong.
 */
static void ipsecif_mask_work(struct work_struct *work)
{
	struct ipsecif_net *in = container_of(work, struct ipsecif_net,
					      mask_work);
	struct ipsecif *sif;
	u32 seq, out;
	int i;

	rtnl_lock();
	ipsecif_bundle_flush_changed(in);
	list_for_each_entry(sif, &in->devs, list) {
		memset(sif->mask_next, 0, sizeof(sif->mask_next));
		for (i = 0; i < 2; i++)
			sif->mask_next[i].dev_seq = atomic_read(&sif->xfrm_seq);
	}
	seq = atomic_read(&in->xfrm_seq);
	out = ipsecif_out_policies(in->net);
	smp_mb();	/* the generations before what the walks read */
	ipsecif_mask_walk(in->net);
	list_for_each_entry(sif, &in->devs, list) {
		if (!++in->mask_gen)
			in->mask_gen = 1;
		for (i = 0; i < 2; i++) {
			struct ipsecif_flowmask *m = &sif->mask_next[i];

			m->if_id = sif->if_id;
			m->out_policies = out;
			m->xfrm_seq = seq;
			m->gen = ipsecif_mask_keeps(m, &sif->mask[i]) ?
				 sif->mask[i].gen : in->mask_gen;
		}
		write_seqlock_bh(&sif->mask_lock);
		memcpy(sif->mask, sif->mask_next, sizeof(sif->mask));
		write_sequnlock_bh(&sif->mask_lock);
	}
	rtnl_unlock();
}

static void ipsecif_mask_refresh(struct ipsecif_net *in)
{
	if (!work_pending(&in->mask_work))
		ipsecif_net_queue(in, &in->mask_work);
}

/**
 * ipsecif_bundle_xfrm_changed() - SAs or policies were added or changed
 * @in: the namespace's state
 * @sif: the device of their if_id, or NULL for a flush of the namespace
 * @sa: SAs changed, not only policies
 *
 * The device's masks (or every mask of the namespace) are stale from now
 * on, and for SAs its cached bundles are dropped by the worker; other
 * devices keep theirs, and their cached bundles. Then what the SAs and
 * policies decide beyond the cache is measured again: the MTU, the
 * headroom and the link state (ipsecif_mtu_xfrm_changed()).
 * Context: any (xfrm's key manager notification); @sif valid.
 */
void ipsecif_bundle_xfrm_changed(struct ipsecif_net *in, struct ipsecif *sif,
				 bool sa)
{
	if (sa)
		set_bit(IPSECIF_EV_FLUSH, sif ? &sif->events : &in->events);
	atomic_inc(sif ? &sif->xfrm_seq : &in->xfrm_seq);
	/* The bit before work_pending(): a worker past it runs again. */
	smp_mb__after_atomic();
	ipsecif_mask_refresh(in);
	ipsecif_mtu_xfrm_changed(in, sif);
}

/* No outbound policy and no SA of the device changed since @m was computed. */
static bool ipsecif_mask_current(const struct ipsecif *sif,
				 const struct ipsecif_flowmask *m)
{
	struct ipsecif_net *in = ipsecif_pernet(sif->net);

	return ipsecif_out_policies(sif->net) == m->out_policies &&
	       m->xfrm_seq == (u32)atomic_read(&in->xfrm_seq) &&
	       m->dev_seq == (u32)atomic_read(&sif->xfrm_seq);
}

static void ipsecif_mask4(struct flowi4 *fl4, const struct ipsecif_flowmask *m)
{
	fl4->saddr &= inet_make_mask(m->src_bits);
	fl4->daddr &= inet_make_mask(m->dst_bits);
	if (!m->ports)
		memset(&fl4->uli, 0, sizeof(fl4->uli));
	if (!m->proto)
		fl4->flowi4_proto = 0;
}

static void ipsecif_mask6(struct flowi6 *fl6, const struct ipsecif_flowmask *m)
{
#if IS_ENABLED(CONFIG_IPV6)
	/* ipv6_addr_prefix() clears its result before reading: never in place. */
	struct in6_addr addr = fl6->saddr;

	ipv6_addr_prefix(&fl6->saddr, &addr, m->src_bits);
	addr = fl6->daddr;
	ipv6_addr_prefix(&fl6->daddr, &addr, m->dst_bits);
	fl6->flowlabel = 0;	/* no selector or route of xfrm reads it */
	if (!m->ports)
		memset(&fl6->uli, 0, sizeof(fl6->uli));
	if (!m->proto)
		fl6->flowi6_proto = 0;
#endif
}

/**
 * ipsecif_bundle_key() - the cache key of a flow
 * @sif: the device
 * @fl: the flow, its oif the link
 * @family: AF_INET or AF_INET6
 * @if_id: the device's if_id for this packet
 * @key: set to the key
 *
 * The masked flow when the device's mask is current, else the whole flow
 * (and a new mask is asked for).
 * Context: transmit path, bottom halves disabled.
 */
void ipsecif_bundle_key(struct ipsecif *sif, const struct flowi *fl,
			unsigned short family, u32 if_id,
			struct ipsecif_bundle_key *key)
{
	struct ipsecif_net *in = ipsecif_pernet(sif->net);
	struct ipsecif_flowmask m;
	unsigned int seq;

	do {
		seq = read_seqbegin(&sif->mask_lock);
		m = sif->mask[ipsecif_family_index(family)];
	} while (read_seqretry(&sif->mask_lock, seq));

	key->fl = *fl;
	key->if_id = if_id;
	key->family = family;
	key->gen = 0;
	key->tunnel_only = false;
	if (!m.gen || m.if_id != if_id || !ipsecif_mask_current(sif, &m)) {
		ipsecif_mask_refresh(in);
		return;
	}
	key->tunnel_only = !m.transport;
	if (m.whole)
		return;
	key->gen = m.gen;
	key->out_policies = m.out_policies;
	key->xfrm_seq = m.xfrm_seq;
	key->dev_seq = m.dev_seq;
	if (family == AF_INET)
		ipsecif_mask4(&key->fl.u.ip4, &m);
	else
		ipsecif_mask6(&key->fl.u.ip6, &m);
}

/* --- the cache ---------------------------------------------------------- */

static bool ipsecif_bundle_match(const struct ipsecif_bundle *b,
				 const struct ipsecif_bundle_key *key)
{
	return b->gen == key->gen && b->if_id == key->if_id &&
	       b->family == key->family &&
	       !memcmp(&b->key, &key->fl, sizeof(key->fl));
}

/*
 * An SA that xfrm replaced or created without telling the key managers:
 * Linux 7.2's XFRM_MSG_MIGRATE_STATE moves an SA to other addresses or
 * encapsulation with no notification at all. Its device learns of it
 * from the bundles: a cached one whose SA died, or a new one whose SA
 * needs more room than the device's SAs were measured to. The device then
 * follows as for an SA event: cached bundles and masks, MTU, headroom
 * and link state.
 */
static bool ipsecif_bundle_sa_dead(const struct dst_entry *dst)
{
	for (; dst && dst->xfrm; dst = xfrm_dst_child(dst))
		if (READ_ONCE(dst->xfrm->km.state) != XFRM_STATE_VALID)
			return true;
	return false;
}

static void ipsecif_bundle_sas_unannounced(struct ipsecif *sif)
{
	ipsecif_bundle_xfrm_changed(ipsecif_pernet(sif->net), sif, true);
}

/**
 * ipsecif_bundle_get() - a cached bundle for a key, with a reference
 * @sif: the device
 * @key: from ipsecif_bundle_key()
 *
 * Return: the bundle, or NULL when none is cached or it is no longer valid.
 * Context: transmit path, bottom halves disabled.
 */
struct dst_entry *ipsecif_bundle_get(struct ipsecif *sif,
				     const struct ipsecif_bundle_key *key)
{
	struct ipsecif_bundles *c = this_cpu_ptr(sif->bundles);
	struct dst_entry *dst;
	int i;

	for (i = 0; i < IPSECIF_BUNDLES; i++) {
		struct ipsecif_bundle *b = &c->b[i];

		dst = READ_ONCE(b->dst);
		if (!dst || !ipsecif_bundle_match(b, key))
			continue;
		if (!dst_check(dst, 0)) {
			if (ipsecif_bundle_sa_dead(dst))
				ipsecif_bundle_sas_unannounced(sif);
			if (cmpxchg(&b->dst, dst, NULL) == dst)
				dst_release(dst);
			return NULL;
		}
		/* Fails when ipsecif_bundle_flush() just dropped the last one. */
		return dst_hold_safe(dst) ? dst : NULL;
	}
	return NULL;
}

/**
 * ipsecif_bundle_set() - cache a bundle for a key
 * @sif: the device
 * @key: from ipsecif_bundle_key()
 * @dst: the bundle; the cache takes a reference of its own
 *
 * Context: transmit path, bottom halves disabled.
 */
void ipsecif_bundle_set(struct ipsecif *sif,
			const struct ipsecif_bundle_key *key,
			struct dst_entry *dst)
{
	struct ipsecif_bundles *c = this_cpu_ptr(sif->bundles);
	struct ipsecif_bundle *b = &c->b[c->next];
	struct ipsecif_flowmask m = {
		.out_policies = key->out_policies, .xfrm_seq = key->xfrm_seq,
		.dev_seq = key->dev_seq,
	};

	if (dst->xfrm->props.header_len > READ_ONCE(sif->sa_header_len))
		ipsecif_bundle_sas_unannounced(sif);
	/* A policy or SA the lookup may have seen, and the mask did not. */
	if (key->gen && !ipsecif_mask_current(sif, &m))
		return;
	c->next = (c->next + 1) % IPSECIF_BUNDLES;
	b->key = key->fl;
	b->if_id = key->if_id;
	b->family = key->family;
	b->gen = key->gen;
	dst_hold(dst);
	dst_release(xchg(&b->dst, dst));
}

/**
 * ipsecif_bundle_flush() - drop every CPU's cached bundles of a device
 * @sif: the device
 *
 * Context: any; the cache refills on the next packets.
 */
void ipsecif_bundle_flush(struct ipsecif *sif)
{
	int cpu, i;

	for_each_possible_cpu(cpu) {
		struct ipsecif_bundles *c = per_cpu_ptr(sif->bundles, cpu);

		for (i = 0; i < IPSECIF_BUNDLES; i++)
			dst_release(xchg(&c->b[i].dst, NULL));
	}
}

/**
 * ipsecif_bundle_init() - the cache of a new device
 * @sif: the device
 *
 * Return: 0 or -ENOMEM.
 */
int ipsecif_bundle_init(struct ipsecif *sif)
{
	seqlock_init(&sif->mask_lock);
	sif->bundles = alloc_percpu_gfp(struct ipsecif_bundles,
					GFP_KERNEL_ACCOUNT);
	return sif->bundles ? 0 : -ENOMEM;
}

/**
 * ipsecif_bundle_free() - free the cache of a device no packet can reach
 * @sif: the device
 */
void ipsecif_bundle_free(struct ipsecif *sif)
{
	if (!sif->bundles)
		return;
	ipsecif_bundle_flush(sif);
	free_percpu(sif->bundles);
	sif->bundles = NULL;
}

/**
 * ipsecif_bundle_net_init() - per-namespace state of the masks
 * @in: the namespace's state
 */
void ipsecif_bundle_net_init(struct ipsecif_net *in)
{
	INIT_WORK(&in->mask_work, ipsecif_mask_work);
}

/**
 * ipsecif_bundle_net_exit() - no mask work of this namespace runs, or will
 * @in: the namespace's state, no longer ready (none can be queued)
 *
 * Context: process, RTNL not held.
 */
void ipsecif_bundle_net_exit(struct ipsecif_net *in)
{
	cancel_work_sync(&in->mask_work);
}
