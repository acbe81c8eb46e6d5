/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecif: route-based IPsec devices bound to xfrm SAs and policies by if_id.
 */
#ifndef _IPSECIF_H
#define _IPSECIF_H

#include <linux/ctype.h>
#include <linux/netdevice.h>
#include <linux/rhashtable.h>
#include <linux/seqlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <net/dst.h>
#include <net/flow.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <uapi/linux/ipsecif.h>

#include "compat.h"

/*
 * Why a packet was dropped, or left by another way than an SA: one
 * counter per cause, read with `ethtool -S ipsecN` (names in stats.c).
 * The standard counters keep their usual sense: every drop also counts in
 * tx_dropped/tx_errors or rx_dropped/rx_errors. Link-scope multicast that
 * no policy of the if_id covers is not a drop (IPSECIF_TX_LINK_SCOPE).
 */
enum ipsecif_stat {
	IPSECIF_TX_MALFORMED,		/* IP header failed the checks: dropped */
	IPSECIF_TX_NO_ROUTE,		/* no route through the link: dropped */
	IPSECIF_TX_NO_SA,		/* no policy or SA of the if_id: dropped */
	IPSECIF_TX_LOOPED,		/* the SA's route leads back in: dropped */
	IPSECIF_TX_TOO_BIG,		/* over the path MTU, ICMP sent: dropped */
	IPSECIF_TX_OUTPUT_ERRORS,	/* xfrm or the link refused it */
	IPSECIF_TX_IKE_BYPASS,		/* IKE daemon's packet, sent in clear */
	IPSECIF_TX_OWN_ESP,		/* our own ESP, passed to the link */
	IPSECIF_TX_BUNDLE_LOOKUPS,	/* bundles looked up (cache misses) */
	IPSECIF_RX_XFRM_ERRORS,		/* xfrm could not decrypt or accept it */
	IPSECIF_RX_POLICY_REJECTED,	/* inbound policy refused it (moved dev) */
	IPSECIF_RX_DEVICE_DOWN,		/* decrypted for the device while down */
	IPSECIF_TX_LINK_SCOPE,		/* link-scope multicast no policy takes
					 * (MLD, IGMP, RS of a tunnel without
					 * that family): discarded, not a drop
					 */
	IPSECIF_STAT_COUNT
};

struct ipsecif_stats {
	u64_stats_t cnt[IPSECIF_STAT_COUNT];
	struct u64_stats_sync syncp;
};

/*
 * What of an inner flow of one family decides the device's bundle, and
 * what it was derived from (bundle.c). gen 0: none computed yet.
 */
struct ipsecif_flowmask {
	u32 gen;			/* this computation, for cache entries */
	u32 if_id;			/* the if_id it was computed for */
	u32 out_policies;		/* the namespace's outbound ones then */
	u32 xfrm_seq;			/* the namespace's flushes then */
	u32 dev_seq;			/* the device's SA and policy events */
	u8 src_bits;			/* address prefixes that matter */
	u8 dst_bits;
	bool ports;			/* ports, ICMP type/code, GRE key */
	bool proto;
	bool transport;			/* a template in transport mode */
	bool whole;			/* security contexts: the whole flow */
};

/*
 * What the SAs of a device's if_id ask of it, summed for every stale
 * device by one walk over the namespace's SAs (mtu.c); RTNL.
 */
struct ipsecif_sa_sum {
	bool found;			/* a valid SA of the if_id */
	bool out_policy;		/* an outbound policy with templates */
	bool usable;			/* one whose templates all have SAs */
	int tmpls;			/* its templates, a chain (linkstate.c) */
	int link_mtu;			/* the link's; Ethernet's, detached */
	u32 mtu;			/* the least an SA leaves of link_mtu */
	int header_len;			/* the largest SA header */
};

/* A flow as the bundle cache keys it (bundle.c). */
struct ipsecif_bundle_key {
	struct flowi fl;		/* masked, or whole when gen is 0 */
	u32 if_id;
	u32 gen;
	u32 out_policies;		/* of the mask, when gen */
	u32 xfrm_seq;
	u32 dev_seq;
	unsigned short family;		/* masked flows of both may be equal */
	bool tunnel_only;		/* no template in transport mode */
};

/*
 * One ipsec device. @net is the namespace it was created in: its SAs and
 * policies live there, and so does @link. The device itself may be moved
 * to another namespace and keeps encrypting in @net (as WireGuard does).
 */
struct ipsecif {
	struct rhash_head node;		/* in net's table, keyed by if_id */
	struct list_head list;		/* net's list of devices, under RTNL */
	struct list_head stale_node;	/* in net's stale list (mtu.c); RTNL */
	struct net_device *dev;
	struct net *net;
	u32 if_id;			/* key: change only while unhashed */
	int link;			/* ifindex in @net, 0 when detached */
	/* The link's name, kept while it is absent (link.c); RTNL and lock. */
	char link_name[IFNAMSIZ];
	spinlock_t link_lock;		/* for readers without RTNL */
	bool mtu_auto;			/* MTU follows link and SAs (mtu.c) */
	bool mtu_updating;		/* we are setting it: not a pin */
	u8 link_state;			/* enum ipsecif_link_state; RTNL */
	u8 tunnel;			/* enum ipsecif_tunnel; RTNL */
	u32 tunnel_changes;		/* up or down since creation; RTNL */
	struct ipsecif_sa_sum sa_sum;	/* mtu.c; RTNL */
	int sa_header_len;		/* the largest measured; any context */
	struct ipsecif_bundles __percpu *bundles;	/* see bundle.c */
	seqlock_t mask_lock;		/* the transmit path reads @mask */
	struct ipsecif_flowmask mask[2];	/* IPv4, IPv6 */
	struct ipsecif_flowmask mask_next[2];	/* being computed; RTNL */
	atomic_t xfrm_seq;		/* its SAs or policies changed */
	unsigned long events;		/* IPSECIF_EV_*: its SAs changed */
	struct ipsecif_stats __percpu *stats;
	unsigned long last_rx;		/* jiffies of the last packet out of */
	unsigned long last_tx;		/* and into the tunnel; 0: none yet */
};

/**
 * ipsecif_stamp() - a packet passed now
 * @last: the device's last_rx or last_tx
 *
 * At most one store per jiffy: CPUs carrying the device's traffic at once
 * do not write the shared line for every packet.
 */
static inline void ipsecif_stamp(unsigned long *last)
{
	unsigned long now = jiffies ?: 1;	/* 0 means none yet */

	if (READ_ONCE(*last) != now)
		WRITE_ONCE(*last, now);
}

#define IPSECIF_MAX_DEVICES_AT_LOAD	256

/*
 * Bits of ipsecif.events (its SAs changed) and ipsecif_net.events (the
 * namespace's SAs were flushed: every device), each for its worker.
 */
#define IPSECIF_EV_FLUSH	0	/* drop the cached bundles (bundle.c) */
#define IPSECIF_EV_MEASURE	1	/* measure the SAs again (mtu.c) */

/* Entries a walk over xfrm's SAs or policies visits between reschedules. */
#define IPSECIF_WALK_CHUNK	512

/**
 * ipsecif_walk_pause() - a walk callback's turn to let the CPU go
 * @count: the entry's count, as xfrm_policy_walk() or xfrm_state_walk()
 *	   passes it
 * @pause: the count to pause at, IPSECIF_WALK_CHUNK at first
 *
 * Once every IPSECIF_WALK_CHUNK entries the callback returns -EAGAIN:
 * xfrm lets its lock go and its caller reschedules, then walks again. The
 * walk resumes with the same entry and count, which then goes through.
 * Return: true when the callback should return -EAGAIN.
 */
static inline bool ipsecif_walk_pause(int count, int *pause)
{
	if (count < *pause)
		return false;
	*pause = count + IPSECIF_WALK_CHUNK;
	return true;
}

/* Per-namespace state, for devices created in that namespace. */
struct ipsecif_net {
	struct rhashtable table;	/* if_id -> struct ipsecif, RCU */
	struct list_head devs;		/* all devices, under RTNL */
	struct list_head stale;		/* devices whose MTU is stale; RTNL */
	/* xfrm devices living here, by ifindex (xfrmi.c); RTNL */
	struct xarray xfrmi_devs;
	bool xfrmi_untracked;		/* one could not be stored: walk */
	bool ready;			/* init has run, pre_exit has not */
	spinlock_t work_lock;		/* ready vs. queueing the works */
	struct work_struct mtu_work;	/* SAs changed: update MTUs */
	struct net *net;		/* the namespace this is of */
	atomic_t xfrm_seq;		/* SAs or policies flushed */
	unsigned long events;		/* IPSECIF_EV_*: a flush */
	u32 mask_gen;			/* masks computed; RTNL */
	struct work_struct mask_work;	/* compute the devices' masks */
	/* the xfrm device last reported as sharing an if_id, and that if_id;
	 * only compared, never dereferenced; RTNL
	 */
	const struct net_device *xfrmi_warned;
	u32 xfrmi_warned_if_id;
};

extern unsigned int ipsecif_net_id;
extern const struct net_device_ops ipsecif_netdev_ops;

static inline struct ipsecif_net *ipsecif_pernet(struct net *net)
{
	return net_generic(net, ipsecif_net_id);
}

/**
 * ipsecif_net_queue() - queue a worker of a namespace, unless it is going
 * @in: the namespace's state
 * @work: one of its works
 *
 * Context: any.
 */
static inline void ipsecif_net_queue(struct ipsecif_net *in,
				     struct work_struct *work)
{
	spin_lock_bh(&in->work_lock);
	if (in->ready)
		queue_work(ipsecif_unbound_wq, work);
	spin_unlock_bh(&in->work_lock);
}

static inline bool netif_is_ipsecif(const struct net_device *dev)
{
	return dev->netdev_ops == &ipsecif_netdev_ops;
}

/* A namespace's devices by if_id (ipsecif_net.table). */
static const struct rhashtable_params ipsecif_rht_params = {
	.key_len		= sizeof(u32),
	.key_offset		= offsetof(struct ipsecif, if_id),
	.head_offset		= offsetof(struct ipsecif, node),
	.automatic_shrinking	= true,
};

/**
 * ipsecif_find() - the device of a namespace bound to an if_id
 * @net: the namespace the device was created in
 * @if_id: the if_id
 *
 * A namespace that is going away has no device to find: from its
 * pre_exit on, the table may be freed once the grace period that the core
 * waits for between pre_exit and exit has passed (device.c).
 *
 * Context: RTNL held, or in an RCU read section (softirq included).
 * Return: the device, valid under RTNL or as long as the caller's RCU read
 * section lasts; NULL if none, or if @net is going away.
 */
static inline struct ipsecif *ipsecif_find(struct net *net, u32 if_id)
{
	struct ipsecif_net *in = ipsecif_pernet(net);
	struct ipsecif *sif = NULL;

	rcu_read_lock();
	if (in && READ_ONCE(in->ready))
		sif = rhashtable_lookup(&in->table, &if_id, ipsecif_rht_params);
	rcu_read_unlock();
	return sif;
}

/**
 * ipsecif_default_if_id() - the if_id of a device created without one
 * @name: the device's name
 *
 * Return: N for "ipsecN", and IPSECIF_IPSEC0_IF_ID (16384) for ipsec0, as
 * libreswan numbers them; 0 (not an if_id) for any other name, "ipsec01"
 * included: one name, one if_id.
 */
static inline u32 ipsecif_default_if_id(const char *name)
{
	const char *num = name + strlen("ipsec");
	u32 n;

	if (strncmp(name, "ipsec", strlen("ipsec")) || !isdigit(*num))
		return 0;
	if (num[0] == '0' && num[1])
		return 0;
	if (kstrtou32(num, 10, &n))
		return 0;
	return n ? n : IPSECIF_IPSEC0_IF_ID;
}

/**
 * ipsecif_scrub() - reset what must not leak between underlay and device
 * @skb: a packet entering the device from xfrm, or leaving it for xfrm
 * @xnet: the device is in another namespace than its SAs
 *
 * Context: transmit or receive path.
 */
static inline void ipsecif_scrub(struct sk_buff *skb, bool xnet)
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
	/* As skb_scrub_packet() does, the secpath included (checked). */
	ipvs_reset(skb);
	skb_ext_reset(skb);
#ifdef CONFIG_NET_SWITCHDEV
	skb->offload_fwd_mark = 0;
	skb->offload_l3_fwd_mark = 0;
#endif
	skb_orphan(skb);
	skb->mark = 0;
}

/**
 * ipsecif_count() - count one packet for @cause
 * @sif: the device
 * @cause: what happened to the packet
 *
 * Context: transmit or receive path, bottom halves disabled.
 */
static inline void ipsecif_count(struct ipsecif *sif, enum ipsecif_stat cause)
{
	struct ipsecif_stats *st = this_cpu_ptr(sif->stats);

	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->cnt[cause]);
	u64_stats_update_end(&st->syncp);
}

/*
 * What each file offers the others. main.c calls device.c and the xfrm
 * side's registrations; every other file calls only files listed below
 * it (scripts/calls.sh prints the calls between files).
 */

/* device.c: device lifetime, rtnetlink, namespaces, device events */
int ipsecif_device_init(void);
void ipsecif_device_exit(void);
int ipsecif_device_start(unsigned int devices, const char *links,
			 u8 link_state);
void ipsecif_device_stop(void);

/* km.c: what xfrm's key manager callbacks tell of SAs and policies */
void ipsecif_km_register(void);
void ipsecif_km_unregister(void);
void ipsecif_km_sas_flushed(struct net *net);

/* link.c: the physical device a device sends through, by name */
bool ipsecif_name_ok(const char *name);
void ipsecif_set_link(struct ipsecif *sif, int link, const char *name);
void ipsecif_get_link_name(struct ipsecif *sif, char *name);
void ipsecif_link_event(struct net_device *phys, unsigned long event);
int ipsecif_links_at_load(const char *spec, unsigned int count, bool apply);

/* tx.c: the transmit path */
netdev_tx_t ipsecif_xmit(struct sk_buff *skb, struct net_device *dev);

/* linkstate.c: whether the tunnel works, and the link state that says it */
struct ipsecif_tmpls;
struct ipsecif_tmpls *ipsecif_tmpls_collect(struct ipsecif_net *in);
void ipsecif_tmpls_sa(struct ipsecif_tmpls *t, struct ipsecif *sif,
		      const struct xfrm_state *x);
void ipsecif_tmpls_done(struct ipsecif_tmpls *t);
void ipsecif_linkstate_apply(struct ipsecif *sif, const struct net_device *link,
			     bool known);
void ipsecif_linkstate_init(struct ipsecif *sif);

/* mtu.c: the automatic MTU, the headroom, and the walks that measure them
 * and the tunnel's state
 */
void ipsecif_mtu_update(struct ipsecif *sif);
void ipsecif_mtu_stale(struct ipsecif *sif);
void ipsecif_mtu_refresh(struct ipsecif_net *in);
void ipsecif_mtu_changed(struct ipsecif *sif);
void ipsecif_mtu_xfrm_changed(struct ipsecif_net *in, struct ipsecif *sif);
void ipsecif_mtu_net_init(struct ipsecif_net *in);
void ipsecif_mtu_net_exit(struct ipsecif_net *in);

/* bundle.c: the transmit path's bundle cache */
int ipsecif_bundle_init(struct ipsecif *sif);
void ipsecif_bundle_free(struct ipsecif *sif);
void ipsecif_bundle_flush(struct ipsecif *sif);
void ipsecif_bundle_key(struct ipsecif *sif, const struct flowi *fl,
			unsigned short family, u32 if_id,
			struct ipsecif_bundle_key *key);
struct dst_entry *ipsecif_bundle_get(struct ipsecif *sif,
				     const struct ipsecif_bundle_key *key);
void ipsecif_bundle_set(struct ipsecif *sif,
			const struct ipsecif_bundle_key *key,
			struct dst_entry *dst);
void ipsecif_bundle_xfrm_changed(struct ipsecif_net *in, struct ipsecif *sif,
				 bool sa);
void ipsecif_bundle_net_init(struct ipsecif_net *in);
void ipsecif_bundle_net_exit(struct ipsecif_net *in);

/* xfrmi.c: living with xfrm_interface, and the if_id callback slot */
int ipsecif_if_cb_register(void);
void ipsecif_if_cb_unregister(void);
struct net_device *ipsecif_xfrmi_find(struct net *net, u32 if_id);
void ipsecif_xfrmi_track(struct net_device *dev, unsigned long event);
void ipsecif_xfrmi_warn(struct net_device *dev, unsigned long event);
void ipsecif_xfrmi_net_init(struct ipsecif_net *in);
void ipsecif_xfrmi_net_exit(struct ipsecif_net *in);

/* rx.c: the receive path */
int ipsecif_rx_register(void);
void ipsecif_rx_unregister(void);

/* stats.c: the counters per cause */
extern const struct ethtool_ops ipsecif_ethtool_ops;

#endif /* _IPSECIF_H */
