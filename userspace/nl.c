// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: netlink requests over libmnl, with the kernel's extack text, and
 * the links and dumps the tool reads with them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "../include/uapi/linux/ipsecif.h"
#include "ipsecif.h"
#include "nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

int nl_open(struct nl *nl, int bus)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(bus);
	if (!nl->sock)
		return -errno;
	/* Best effort: old kernels simply give no messages. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 1;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *nl_request(struct nl *nl, uint16_t type, uint16_t flags,
			    size_t hdrlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	/* NLM_F_DUMP shares bits with NLM_F_EXCL: compare, don't mask. */
	if (flags != NLM_F_DUMP)
		flags |= NLM_F_ACK;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

struct talk {
	struct nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct talk *t = arg;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* The extended ACK attributes follow the (possibly capped) request copy. */
static void read_extack(struct nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off >= mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each_payload((const struct nlattr *)((const char *)e + off),
				  mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG ||
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 mnl_attr_get_str(attr));
	}
}

static int error_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct talk *t = arg;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;	/* the ACK */
	read_extack(t->nl, nlh);
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *arg)
{
	const int *err = mnl_nlmsg_get_payload(nlh);

	(void)arg;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && *err < 0) {
		errno = -*err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int overrun_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= error_cb,
	[NLMSG_DONE]	= done_cb,
	[NLMSG_OVERRUN]	= overrun_cb,
};

int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct talk t = { .nl = nl, .cb = cb, .data = data };
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t len;
	int ret;

	nl->extack[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run2(nl->buf, len, seq, nl->portid, data_cb, &t,
				  ctl_cb, MNL_ARRAY_SIZE(ctl_cb));
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *t = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

void nl_parse(const struct nlmsghdr *nlh, size_t hdrlen,
	      const struct nlattr **tb, unsigned int max)
{
	struct attr_table t = { .tb = tb, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse(nlh, hdrlen, attr_table_cb, &t);
}

void nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		     unsigned int max)
{
	struct attr_table t = { .tb = tb, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse_nested(nest, attr_table_cb, &t);
}

uint32_t nl_u32(const struct nlattr *attr)
{
	if (!attr || mnl_attr_get_payload_len(attr) < sizeof(uint32_t))
		return 0;
	return mnl_attr_get_u32(attr);
}

int msgs_collect(const struct nlmsghdr *nlh, void *data)
{
	struct msgs *m = data;
	struct nlmsghdr *copy;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct nlmsghdr **v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_ERROR;
		m->v = v;
		m->cap = cap;
	}
	copy = malloc(nlh->nlmsg_len);
	if (!copy)
		return MNL_CB_ERROR;
	memcpy(copy, nlh, nlh->nlmsg_len);
	m->v[m->n++] = copy;
	return MNL_CB_OK;
}

void msgs_free(struct msgs *m)
{
	while (m->n)
		free(m->v[--m->n]);
	free(m->v);
	m->v = NULL;
	m->cap = 0;
}

int nl_dump(struct nl *nl, uint16_t type, size_t hdrlen, struct msgs *m)
{
	struct nlmsghdr *nlh = nl_request(nl, type, NLM_F_DUMP, hdrlen);

	return nl_talk(nl, nlh, msgs_collect, m);
}

/* ---- links ---- */

const char *const link_state_names[IPSECIF_LINK_STATE_MAX + 1] = {
	[IPSECIF_LINK_STATE_ALWAYS]	= "always",
	[IPSECIF_LINK_STATE_DORMANT]	= "dormant",
	[IPSECIF_LINK_STATE_CARRIER]	= "carrier",
};

const char *const tunnel_reason_names[__IPSECIF_TUNNEL_MAX] = {
	[IPSECIF_TUNNEL_UP]		= "",
	[IPSECIF_TUNNEL_NO_POLICY]	= "no-policy",
	[IPSECIF_TUNNEL_NO_SA]		= "no-sa",
	[IPSECIF_TUNNEL_LINK_ABSENT]	= "link-absent",
	[IPSECIF_TUNNEL_LINK_DOWN]	= "link-down",
};

const char *tunnel_reason_text(const struct link *l, char *buf, size_t len)
{
	switch (l->tunnel) {
	case IPSECIF_TUNNEL_NO_POLICY:
		return "no outbound policy";
	case IPSECIF_TUNNEL_NO_SA:
		return "no outbound SA";
	case IPSECIF_TUNNEL_LINK_ABSENT:
		snprintf(buf, len, "link %s absent", l->link_name);
		return buf;
	case IPSECIF_TUNNEL_LINK_DOWN:
		snprintf(buf, len, "link %s down", l->link_name);
		return buf;
	}
	return "";
}

static void link_parse_info(const struct nlattr *linkinfo, struct link *l)
{
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	const struct nlattr *data[IFLA_IPSEC_MAX + 1];

	nl_parse_nested(linkinfo, info, IFLA_INFO_MAX);
	if (info[IFLA_INFO_KIND] &&
	    mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%.*s",
			 (int)mnl_attr_get_payload_len(info[IFLA_INFO_KIND]),
			 mnl_attr_get_str(info[IFLA_INFO_KIND]));
	if (!info[IFLA_INFO_DATA] || strcmp(l->kind, IPSECIF_KIND))
		return;
	nl_parse_nested(info[IFLA_INFO_DATA], data, IFLA_IPSEC_MAX);
	l->link = nl_u32(data[IFLA_IPSEC_LINK]);
	l->if_id = nl_u32(data[IFLA_IPSEC_IF_ID]);
	if (data[IFLA_IPSEC_MTU_AUTO] &&
	    mnl_attr_validate(data[IFLA_IPSEC_MTU_AUTO], MNL_TYPE_U8) == 0)
		l->mtu_auto = mnl_attr_get_u8(data[IFLA_IPSEC_MTU_AUTO]);
	if (data[IFLA_IPSEC_LINK_STATE] &&
	    mnl_attr_validate(data[IFLA_IPSEC_LINK_STATE], MNL_TYPE_U8) == 0)
		l->link_state = mnl_attr_get_u8(data[IFLA_IPSEC_LINK_STATE]);
	if (data[IFLA_IPSEC_TUNNEL] &&
	    mnl_attr_validate(data[IFLA_IPSEC_TUNNEL], MNL_TYPE_U8) == 0)
		l->tunnel = mnl_attr_get_u8(data[IFLA_IPSEC_TUNNEL]);
	l->tunnel_changes = nl_u32(data[IFLA_IPSEC_TUNNEL_CHANGES]);
	if (data[IFLA_IPSEC_LAST_RX])
		l->last_rx = nl_u32(data[IFLA_IPSEC_LAST_RX]);
	if (data[IFLA_IPSEC_LAST_TX])
		l->last_tx = nl_u32(data[IFLA_IPSEC_LAST_TX]);
	if (data[IFLA_IPSEC_LINK_NAME] &&
	    mnl_attr_validate(data[IFLA_IPSEC_LINK_NAME], MNL_TYPE_NUL_STRING) == 0)
		snprintf(l->link_name, sizeof(l->link_name), "%s",
			 mnl_attr_get_str(data[IFLA_IPSEC_LINK_NAME]));
}

void link_parse(const struct nlmsghdr *nlh, struct link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];

	memset(l, 0, sizeof(*l));
	l->mtu_auto = -1;
	l->link_state = -1;
	l->tunnel = -1;
	l->last_rx = -1;
	l->last_tx = -1;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	nl_parse(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (tb[IFLA_IFNAME] &&
	    mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) == 0)
		snprintf(l->name, sizeof(l->name), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	l->mtu = nl_u32(tb[IFLA_MTU]);
	l->min_mtu = nl_u32(tb[IFLA_MIN_MTU]);
	l->max_mtu = nl_u32(tb[IFLA_MAX_MTU]);
	if (tb[IFLA_OPERSTATE])
		l->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_LINK_NETNSID]) {
		l->has_netnsid = true;
		l->link_netnsid = (int32_t)nl_u32(tb[IFLA_LINK_NETNSID]);
	}
	if (tb[IFLA_STATS64] &&
	    mnl_attr_get_payload_len(tb[IFLA_STATS64]) >= sizeof(l->stats)) {
		memcpy(&l->stats, mnl_attr_get_payload(tb[IFLA_STATS64]),
		       sizeof(l->stats));
		l->has_stats = true;
	}
	if (tb[IFLA_LINKINFO])
		link_parse_info(tb[IFLA_LINKINFO], l);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
		link_parse(nlh, data);
	return MNL_CB_OK;
}

/* A kernel error: its extack message when it gave one. */
int kernel_error(struct nl *nl, const char *what, int err)
{
	const char *hint = "";

	if (err == -EPERM)
		hint = " (needs CAP_NET_ADMIN)";
	if (nl->extack[0])
		return fail("%s: %s", what, nl->extack);
	return fail("%s: %s%s", what, strerror(-err), hint);
}

/* Read one link by name. Returns 0, or a printed error's exit code. */
int link_get(struct nl *nl, const char *name, struct link *l)
{
	struct nlmsghdr *nlh;
	int err;

	memset(l, 0, sizeof(*l));
	nlh = nl_request(nl, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = nl_talk(nl, nlh, link_cb, l);
	if (err == -ENODEV || (!err && !l->ifindex))
		return fail("%s: no such device", name);
	if (err)
		return kernel_error(nl, name, err);
	return 0;
}

/* Read one ipsec link by name, refusing devices of other kinds. */
int ipsec_get(struct nl *nl, const char *name, struct link *l)
{
	int ret = link_get(nl, name, l);

	if (ret)
		return ret;
	if (strcmp(l->kind, IPSECIF_KIND))
		return fail("%s: not an ipsec device (kind \"%s\")", name,
			    l->kind[0] ? l->kind : "none");
	return 0;
}
