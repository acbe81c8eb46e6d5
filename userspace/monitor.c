// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif monitor: a line (or a JSON object) per event that concerns the
 * namespace's ipsec devices, as they happen, until SIGINT or SIGTERM:
 *
 *   devices added, removed, moved to another namespace, renamed, attached
 *   to a link or detached, set up or down, given another if_id;
 *   their tunnel going up or down, with the reason (linkstate);
 *   the SAs of their if_ids added, rekeyed (a new SA beside an older one
 *   of the same addresses, protocol and reqid), deleted, expiring (soft)
 *   or expired (hard), and flushes.
 *
 * Two sockets listen: rtnetlink's RTNLGRP_LINK and xfrm's SA and expire
 * groups. The state they change (the devices and their SAs, read whole at
 * start) tells an event from a repeat: RTM_NEWLINK says what a device is,
 * not what changed. When the kernel drops events because the socket's
 * buffer filled (ENOBUFS), a line says so and the state is read again;
 * what changed meanwhile is printed as events then, so nothing is lost
 * silently.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/ipsec.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#include "ipsecif.h"
#include "nl.h"
#include "out.h"

#define RCVBUF		(8 << 20)	/* bytes: a burst of thousands of events */

/* Linux 6.10's SA direction (u8: 1 in, 2 out); older headers lack it. */
#define SA_DIR_ATTR	(XFRMA_IF_ID + 2)
#define SA_DIR_IN	1
#define SA_DIR_OUT	2

struct dev {
	struct link l;
	bool seen;		/* in the reading of the state under way */
};

struct sa {
	uint32_t if_id, reqid, spi;	/* spi in network order */
	uint8_t proto, family, dir;	/* dir: XFRMA_SA_DIR, 0 when unknown */
	xfrm_address_t saddr, daddr;
	bool seen;
};

struct state {
	struct dev *devs;
	size_t ndevs, capdevs;
	struct sa *sas;
	size_t nsas, capsas;
	bool report;		/* print changes (not while reading at start) */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- printing ---- */

/* An event's first fields: the time, its name and the device. */
static void ev_begin(const char *event, const char *dev)
{
	char text[32], iso[48];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(text, sizeof(text), "%H:%M:%S", &tm);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(iso + strlen(iso), sizeof(iso) - strlen(iso), ".%03ldZ",
		 ts.tv_nsec / 1000000);
	out_next();
	out_obj_open(NULL);
	out_text("%s.%03ld ", text, ts.tv_nsec / 1000000);
	out_str("time", "", iso);
	out_str("event", "", event);
	if (dev)
		out_str("device", "%s: ", dev);
}

static void ev_end(void)
{
	out_text("\n");
	out_obj_close();
	out_end();
}

/* "esp spi 0x0000c1a2 10.0.1.1 -> 10.0.3.1 reqid 1 out" */
static void print_sa(const struct sa *s)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[16];

	out_u64("if_id", "", s->if_id);
	out_str("proto", "%s", proto_name(s->proto, pb, sizeof(pb)));
	out_u64("spi", " spi 0x%08llx", ntohl(s->spi));
	out_str("src", " %s", addr_str(&s->saddr, s->family, src, sizeof(src)));
	out_str("dst", " -> %s", addr_str(&s->daddr, s->family, dst, sizeof(dst)));
	out_u64("reqid", " reqid %llu", s->reqid);
	if (s->dir == SA_DIR_IN || s->dir == SA_DIR_OUT)
		out_str("dir", " %s", s->dir == SA_DIR_IN ? "in" : "out");
}

static void print_tunnel(const struct link *l)
{
	char why[64];

	out_str("tunnel", "tunnel %s", l->tunnel ? "down" : "up");
	if (l->tunnel) {
		out_str("tunnel_down_reason", "", tunnel_reason_names[l->tunnel]);
		out_text(": %s", tunnel_reason_text(l, why, sizeof(why)));
	}
}

/* ", link eth0" / ", link eth0 (absent)" / ", no link" */
static void print_link_of(const struct link *l)
{
	if (!l->link_name[0] && !l->link) {
		out_text(", no link");
		out_str("link", "", NULL);
		return;
	}
	out_str("link", ", link %s", l->link_name[0] ? l->link_name : "?");
	if (!l->link)
		out_text(" (absent)");
}

/* ---- devices ---- */

static struct dev *dev_find(struct state *st, int ifindex)
{
	size_t i;

	for (i = 0; i < st->ndevs; i++)
		if (st->devs[i].l.ifindex == ifindex)
			return &st->devs[i];
	return NULL;
}

static const struct link *dev_of_if_id(const struct state *st, uint32_t if_id)
{
	size_t i;

	for (i = 0; i < st->ndevs; i++)
		if (st->devs[i].l.if_id == if_id)
			return &st->devs[i].l;
	return NULL;
}

static void dev_added(const struct link *l)
{
	ev_begin("added", l->name);
	out_u64("if_id", "added: if_id %llu", l->if_id);
	print_link_of(l);
	if (l->link_state >= 0 && l->link_state <= IPSECIF_LINK_STATE_MAX)
		out_str("linkstate", ", linkstate %s",
			link_state_names[l->link_state]);
	if (l->tunnel >= 0 && l->tunnel < __IPSECIF_TUNNEL_MAX) {
		out_text(", ");
		print_tunnel(l);
	}
	ev_end();
}

/* What changed between two readings of one device: an event each. */
static void dev_changed(const struct link *old, const struct link *l)
{
	if (strcmp(old->name, l->name)) {
		ev_begin("renamed", l->name);
		out_str("old_name", "renamed from %s", old->name);
		ev_end();
	}
	if (old->link != l->link || strcmp(old->link_name, l->link_name)) {
		bool detached = !l->link && !l->link_name[0];

		ev_begin(detached ? "detached" : "attached", l->name);
		out_text(detached ? "detached" : "attached");
		if (!detached) {
			out_str("link", " to %s", l->link_name);
			if (!l->link)
				out_text(" (absent: waiting for it)");
		}
		ev_end();
	}
	if (old->if_id != l->if_id) {
		ev_begin("if_id", l->name);
		out_u64("if_id", "if_id %llu", l->if_id);
		out_u64("old_if_id", " (was %llu)", old->if_id);
		ev_end();
	}
	if ((old->flags ^ l->flags) & IFF_UP) {
		ev_begin(l->flags & IFF_UP ? "up" : "down", l->name);
		out_text(l->flags & IFF_UP ? "up" : "down");
		ev_end();
	}
	if (old->tunnel != l->tunnel && l->tunnel >= 0 &&
	    l->tunnel < __IPSECIF_TUNNEL_MAX) {
		ev_begin("tunnel", l->name);
		print_tunnel(l);
		out_u64("tunnel_changes", "", l->tunnel_changes);
		ev_end();
	}
}

static int dev_add(struct state *st, const struct link *l)
{
	if (st->ndevs == st->capdevs) {
		size_t cap = st->capdevs ? 2 * st->capdevs : 16;
		struct dev *v = realloc(st->devs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->devs = v;
		st->capdevs = cap;
	}
	st->devs[st->ndevs].l = *l;
	st->devs[st->ndevs++].seen = true;
	return 0;
}

static void dev_remove(struct state *st, struct dev *d)
{
	*d = st->devs[--st->ndevs];
}

/* RTM_NEWLINK: a device added or changed (other kinds are not ours). */
static int on_newlink(struct state *st, const struct nlmsghdr *nlh)
{
	struct link l;
	struct dev *d;

	link_parse(nlh, &l);
	if (strcmp(l.kind, IPSECIF_KIND))
		return 0;
	d = dev_find(st, l.ifindex);
	if (!d) {
		if (st->report)
			dev_added(&l);
		return dev_add(st, &l);
	}
	if (st->report)
		dev_changed(&d->l, &l);
	d->l = l;
	d->seen = true;
	return 0;
}

/* RTM_DELLINK: removed, or moved to another namespace. */
static void on_dellink(struct state *st, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];
	struct dev *d = dev_find(st, ifi->ifi_index);

	if (!d)
		return;
	nl_parse(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (tb[IFLA_NEW_NETNSID]) {
		ev_begin("moved", d->l.name);
		out_i64("netnsid", "moved to another namespace (netnsid %lld)",
			(int32_t)nl_u32(tb[IFLA_NEW_NETNSID]));
	} else {
		ev_begin("removed", d->l.name);
		out_text("removed");
	}
	ev_end();
	dev_remove(st, d);
}

/* ---- SAs ---- */

static bool sa_same(const struct sa *a, const struct sa *b)
{
	return a->spi == b->spi && a->proto == b->proto &&
	       a->family == b->family &&
	       !memcmp(&a->daddr, &b->daddr, sizeof(a->daddr));
}

/* The older SA a new one replaces: same if_id, addresses, proto, reqid. */
static const struct sa *sa_replaced(const struct state *st, const struct sa *s)
{
	size_t i;

	for (i = 0; i < st->nsas; i++) {
		const struct sa *o = &st->sas[i];

		if (o->if_id == s->if_id && o->reqid == s->reqid &&
		    o->proto == s->proto && o->family == s->family &&
		    o->spi != s->spi &&
		    !memcmp(&o->saddr, &s->saddr, sizeof(o->saddr)) &&
		    !memcmp(&o->daddr, &s->daddr, sizeof(o->daddr)))
			return o;
	}
	return NULL;
}

static struct sa *sa_find(struct state *st, const struct sa *s)
{
	size_t i;

	for (i = 0; i < st->nsas; i++)
		if (sa_same(&st->sas[i], s))
			return &st->sas[i];
	return NULL;
}

/*
 * The SA an xfrm message is about: its usersa_info (@info) and the
 * message's attributes. false when it is not an SA of a device's if_id.
 */
static bool sa_read(const struct state *st, const struct xfrm_usersa_info *info,
		    const struct nlmsghdr *nlh, size_t hdrlen, struct sa *s)
{
	const struct nlattr *tb[SA_DIR_ATTR + 1];

	nl_parse(nlh, hdrlen, tb, SA_DIR_ATTR);
	memset(s, 0, sizeof(*s));
	s->if_id = nl_u32(tb[XFRMA_IF_ID]);
	if (!s->if_id || !dev_of_if_id(st, s->if_id))
		return false;
	s->spi = info->id.spi;
	s->proto = info->id.proto;
	s->family = (uint8_t)info->family;
	s->reqid = info->reqid;
	s->saddr = info->saddr;
	s->daddr = info->id.daddr;
	if (tb[SA_DIR_ATTR] && mnl_attr_get_payload_len(tb[SA_DIR_ATTR]) >= 1)
		s->dir = mnl_attr_get_u8(tb[SA_DIR_ATTR]);
	s->seen = true;
	return true;
}

static void sa_event(const struct state *st, const char *event,
		     const char *what, const struct sa *s)
{
	ev_begin(event, dev_of_if_id(st, s->if_id)->name);
	out_text("%s: ", what);
	print_sa(s);
}

static int sa_add(struct state *st, const struct sa *s)
{
	const struct sa *old;
	struct sa *known = sa_find(st, s);

	if (known) {		/* an update, or the dump repeats it */
		known->seen = true;
		return 0;
	}
	if (st->report) {
		old = sa_replaced(st, s);
		sa_event(st, old ? "sa_rekeyed" : "sa_added",
			 old ? "SA rekeyed" : "SA added", s);
		if (old)
			out_u64("replaces_spi", " (replaces spi 0x%08llx)",
				ntohl(old->spi));
		ev_end();
	}
	if (st->nsas == st->capsas) {
		size_t cap = st->capsas ? 2 * st->capsas : 32;
		struct sa *v = realloc(st->sas, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->sas = v;
		st->capsas = cap;
	}
	st->sas[st->nsas++] = *s;
	return 0;
}

static void sa_forget(struct state *st, const struct sa *s)
{
	struct sa *known = sa_find(st, s);

	if (known)
		*known = st->sas[--st->nsas];
}

static void on_delsa(struct state *st, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	const struct xfrm_usersa_info *info;
	struct sa s;

	nl_parse(nlh, sizeof(struct xfrm_usersa_id), tb, XFRMA_MAX);
	if (!tb[XFRMA_SA] || mnl_attr_get_payload_len(tb[XFRMA_SA]) < sizeof(*info))
		return;
	info = mnl_attr_get_payload(tb[XFRMA_SA]);
	if (!sa_read(st, info, nlh, sizeof(struct xfrm_usersa_id), &s))
		return;
	sa_event(st, "sa_deleted", "SA deleted", &s);
	ev_end();
	sa_forget(st, &s);
}

static void on_expire(struct state *st, const struct nlmsghdr *nlh)
{
	const struct xfrm_user_expire *e = mnl_nlmsg_get_payload(nlh);
	struct sa s;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) ||
	    !sa_read(st, &e->state, nlh, sizeof(*e), &s))
		return;
	sa_event(st, "sa_expired", e->hard ? "SA expired (hard limit)" :
		 "SA expiring (soft limit: rekey due)", &s);
	out_bool("hard", "", e->hard);
	ev_end();
	if (e->hard)
		sa_forget(st, &s);
}

static void on_flush(struct state *st, const struct nlmsghdr *nlh)
{
	const struct xfrm_usersa_flush *f = mnl_nlmsg_get_payload(nlh);
	uint8_t proto = mnl_nlmsg_get_payload_len(nlh) >= sizeof(*f) ? f->proto : 0;
	size_t i = 0;
	char pb[16];

	if (proto == IPSEC_PROTO_ANY)
		proto = 0;

	ev_begin("sa_flushed", NULL);
	out_str("proto", "SAs flushed (%s)", proto ? proto_name(proto, pb, sizeof(pb)) : "all");
	ev_end();
	while (i < st->nsas) {
		if (!proto || st->sas[i].proto == proto)
			st->sas[i] = st->sas[--st->nsas];
		else
			i++;
	}
}

/* ---- messages ---- */

/* rtnetlink and xfrm number their messages alike: a callback each. */
static int on_rt_msg(const struct nlmsghdr *nlh, void *data)
{
	struct state *st = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWLINK)
		return on_newlink(st, nlh) ? MNL_CB_ERROR : MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_DELLINK)
		on_dellink(st, nlh);
	return MNL_CB_OK;
}

static int on_xfrm_msg(const struct nlmsghdr *nlh, void *data)
{
	struct state *st = data;
	struct sa s;

	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct xfrm_usersa_info) &&
		    sa_read(st, mnl_nlmsg_get_payload(nlh), nlh,
			    sizeof(struct xfrm_usersa_info), &s))
			return sa_add(st, &s) ? MNL_CB_ERROR : MNL_CB_OK;
		break;
	case XFRM_MSG_DELSA:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct xfrm_usersa_id))
			on_delsa(st, nlh);
		break;
	case XFRM_MSG_EXPIRE:
		on_expire(st, nlh);
		break;
	case XFRM_MSG_FLUSHSA:
		on_flush(st, nlh);
		break;
	}
	return MNL_CB_OK;
}

/* Dump @type of @bus and take each message in with @cb. */
static int read_all(int bus, uint16_t type, size_t hdrlen, mnl_cb_t cb,
		    struct state *st)
{
	struct msgs m = { 0 };
	struct nl nl;
	size_t i;
	int err;

	err = nl_open(&nl, bus);
	if (!err)
		err = nl_dump(&nl, type, hdrlen, &m);
	nl_close(&nl);
	for (i = 0; !err && i < m.n; i++)
		if (cb(m.v[i], st) == MNL_CB_ERROR)
			err = -ENOMEM;
	msgs_free(&m);
	return err;
}

/* The devices: read whole; the ones not seen are gone. */
static int resync_devs(struct state *st)
{
	size_t i;
	int err;

	for (i = 0; i < st->ndevs; i++)
		st->devs[i].seen = false;
	err = read_all(NETLINK_ROUTE, RTM_GETLINK, sizeof(struct ifinfomsg),
		       on_rt_msg, st);
	if (err)
		return err;
	for (i = 0; i < st->ndevs;) {
		if (st->devs[i].seen) {
			i++;
			continue;
		}
		if (st->report) {
			ev_begin("removed", st->devs[i].l.name);
			out_text("removed");
			ev_end();
		}
		dev_remove(st, &st->devs[i]);
	}
	return 0;
}

/* The SAs of the devices' if_ids, likewise (none without the right). */
static int resync_sas(struct state *st)
{
	size_t i;
	int err;

	for (i = 0; i < st->nsas; i++)
		st->sas[i].seen = false;
	err = read_all(NETLINK_XFRM, XFRM_MSG_GETSA, 0, on_xfrm_msg, st);
	if (err == -EPERM)
		return 0;
	if (err)
		return err;
	for (i = 0; i < st->nsas;) {
		if (st->sas[i].seen) {
			i++;
			continue;
		}
		if (st->report && dev_of_if_id(st, st->sas[i].if_id)) {
			sa_event(st, "sa_deleted", "SA deleted", &st->sas[i]);
			ev_end();
		}
		st->sas[i] = st->sas[--st->nsas];
	}
	return 0;
}

/*
 * Read the state whole, at start and after lost events, taking it in as
 * events would: with st->report set, what changed meanwhile is printed.
 */
static int resync(struct state *st)
{
	int err = resync_devs(st);

	return err ? err : resync_sas(st);
}

/* A socket in @groups of @bus, with a large receive buffer. */
static struct mnl_socket *listen_to(int bus, const unsigned int *groups,
				    size_t n)
{
	struct mnl_socket *sock = mnl_socket_open(bus);
	int size = RCVBUF;
	size_t i;

	if (!sock)
		return NULL;
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	/* FORCE goes past rmem_max with CAP_NET_ADMIN; else what it allows */
	if (setsockopt(mnl_socket_get_fd(sock), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)))
		setsockopt(mnl_socket_get_fd(sock), SOL_SOCKET, SO_RCVBUF,
			   &size, sizeof(size));
	for (i = 0; i < n; i++)
		if (mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP,
					  (void *)&groups[i], sizeof(groups[i])))
			goto err;
	return sock;
err:
	i = (size_t)errno;
	mnl_socket_close(sock);
	errno = (int)i;
	return NULL;
}

/*
 * The kernel dropped events for want of room (ENOBUFS): what is still
 * queued is older than the gap, so it is discarded, and the state read
 * again stands for all of it.
 */
static void lost(struct mnl_socket *sock, struct state *st, char *buf,
		 size_t len)
{
	int err;

	while (recv(mnl_socket_get_fd(sock), buf, len, MSG_DONTWAIT) >= 0 ||
	       errno == ENOBUFS || errno == EINTR)
		;
	ev_begin("events_lost", NULL);
	out_text("events lost (the receive buffer overflowed): reading the state again");
	ev_end();
	err = resync(st);
	if (err)
		fprintf(stderr, "%s: cannot read the state again: %s\n", prog,
			strerror(-err));
}

/* Read what one socket has; 0, or -errno for a fatal error. */
static int drain(struct mnl_socket *sock, mnl_cb_t cb, struct state *st)
{
	static char buf[1 << 16];
	ssize_t len = mnl_socket_recvfrom(sock, buf, sizeof(buf));

	if (len < 0) {
		if (errno == ENOBUFS) {
			lost(sock, st, buf, sizeof(buf));
			return 0;
		}
		return errno == EINTR ? 0 : -errno;
	}
	if (mnl_cb_run(buf, len, 0, 0, cb, st) == MNL_CB_ERROR)
		return -ENOMEM;
	return 0;
}

static int watch(struct mnl_socket *rt, struct mnl_socket *xf,
		 struct state *st)
{
	struct pollfd p[2] = {
		{ .fd = mnl_socket_get_fd(rt), .events = POLLIN },
		{ .fd = xf ? mnl_socket_get_fd(xf) : -1, .events = POLLIN },
	};
	int err = 0;

	while (!stop && !err) {
		if (poll(p, 2, -1) < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		if (p[0].revents)
			err = drain(rt, on_rt_msg, st);
		if (!err && p[1].revents)
			err = drain(xf, on_xfrm_msg, st);
	}
	return err;
}

/* ipsecif monitor */
int cmd_monitor(int argc, char **argv)
{
	static const unsigned int rt_groups[] = { RTNLGRP_LINK };
	static const unsigned int xf_groups[] = { XFRMNLGRP_SA, XFRMNLGRP_EXPIRE };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct mnl_socket *rt, *xf;
	struct state st = { 0 };
	int err;

	(void)argv;
	if (argc)
		return usage_error("monitor takes no arguments");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rt = listen_to(NETLINK_ROUTE, rt_groups, MNL_ARRAY_SIZE(rt_groups));
	if (!rt)
		return fail("cannot listen to rtnetlink: %s", strerror(errno));
	xf = listen_to(NETLINK_XFRM, xf_groups, MNL_ARRAY_SIZE(xf_groups));
	if (!xf)
		fprintf(stderr, "%s: note: no SA events (%s): they need CAP_NET_ADMIN\n",
			prog, strerror(errno));
	err = resync(&st);	/* after joining the groups: nothing missed */
	st.report = true;
	if (!err)
		err = watch(rt, xf, &st);
	mnl_socket_close(rt);
	if (xf)
		mnl_socket_close(xf);
	free(st.devs);
	free(st.sas);
	if (err)
		return fail("monitor: %s", strerror(-err));
	return EXIT_OK;
}
