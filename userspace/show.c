// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif show [DEV]: the ipsec devices of this namespace, each with its
 * counters and the xfrm SAs and policies that carry its if_id, as text or
 * (-j) as one JSON array.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#include "../include/uapi/linux/ipsecif.h"
#include "ipsecif.h"
#include "nl.h"
#include "out.h"

static const char *const operstates[] = {
	"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING",
	"DORMANT", "UP",
};

static void print_stats(const struct link *l)
{
	const struct rtnl_link_stats64 *s = &l->stats;

	out_obj_open("stats");
	out_u64("rx_packets", "  rx: %llu packets", s->rx_packets);
	out_u64("rx_bytes", ", %llu bytes", s->rx_bytes);
	out_u64("rx_errors", ", %llu errors", s->rx_errors);
	out_u64("rx_dropped", ", %llu dropped\n", s->rx_dropped);
	out_u64("tx_packets", "  tx: %llu packets", s->tx_packets);
	out_u64("tx_bytes", ", %llu bytes", s->tx_bytes);
	out_u64("tx_errors", ", %llu errors", s->tx_errors);
	out_u64("tx_dropped", ", %llu dropped\n", s->tx_dropped);
	out_obj_close();
}

static void print_link_dev(const struct link *l)
{
	char name[IF_NAMESIZE];
	bool named;

	/*
	 * The kernel names the link in the device's birth namespace. When
	 * that is another one (IFLA_LINK_NETNSID: the device was moved), the
	 * text says which; JSON's "link" is null, as that name is no device
	 * of this namespace.
	 */
	if (l->link_name[0]) {
		out_text("  link: %s", l->link_name);
		out_str("link", "", l->has_netnsid ? NULL : l->link_name);
		if (!l->link)
			out_text(" (absent)");
		out_u64("link_index", "", l->link);
		out_str("link_state", "", l->link ? "present" : "absent");
		if (l->has_netnsid)
			out_i64("link_netnsid", " (netnsid %lld)",
				l->link_netnsid);
		out_text("\n");
		return;
	}
	if (!l->link) {
		out_text("  link: none\n");
		out_str("link", "", NULL);
		return;
	}
	/*
	 * A device moved to another namespace keeps its link in its birth
	 * one (IFLA_LINK_NETNSID): the index cannot be named from here.
	 */
	named = !l->has_netnsid && if_indextoname(l->link, name);
	out_str("link", "  link: %s", named ? name : NULL);
	if (!named)
		out_text("  link: if%u", l->link);
	out_u64("link_index", "", l->link);
	if (l->has_netnsid)
		out_i64("link_netnsid", " (netnsid %lld)", l->link_netnsid);
	out_text("\n");
}

/*
 * "  tunnel: down: no outbound SA (linkstate dormant, 2 changes)", or
 * "down: link wan0 absent": what an operator asks first.
 */
static void print_tunnel(const struct link *l)
{
	char why[64];

	if (l->tunnel < 0 || l->tunnel > IPSECIF_TUNNEL_LINK_DOWN)
		return;
	out_str("tunnel", "  tunnel: %s", l->tunnel ? "down" : "up");
	if (l->tunnel) {
		out_str("tunnel_down_reason", "", tunnel_reason_names[l->tunnel]);
		out_text(": %s", tunnel_reason_text(l, why, sizeof(why)));
	}
	if (l->link_state >= 0 && l->link_state <= IPSECIF_LINK_STATE_MAX)
		out_str("linkstate", " (linkstate %s, ",
			link_state_names[l->link_state]);
	else
		out_text(" (");
	out_u64("tunnel_changes", "%llu", l->tunnel_changes);
	out_text(" change%s)\n", l->tunnel_changes == 1 ? "" : "s");
}

/* "3 seconds", "1 minute, 5 seconds", "2 hours, 1 minute", "4 days, 3 hours" */
static void duration(int64_t s, char *buf, size_t len)
{
	static const struct { const char *unit; int64_t secs; } u[] = {
		{ "day", 86400 }, { "hour", 3600 }, { "minute", 60 },
		{ "second", 1 },
	};
	size_t i;
	int64_t n, m;

	for (i = 0; i + 1 < MNL_ARRAY_SIZE(u) && s < u[i].secs; i++)
		;
	n = s / u[i].secs;
	snprintf(buf, len, "%lld %s%s", (long long)n, u[i].unit, n == 1 ? "" : "s");
	if (i + 1 == MNL_ARRAY_SIZE(u))
		return;
	m = s % u[i].secs / u[i + 1].secs;
	if (m)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %lld %s%s",
			 (long long)m, u[i + 1].unit, m == 1 ? "" : "s");
}

/* "  latest rx: 3 seconds ago, tx: 1 minute, 5 seconds ago", as wg says it */
static void print_latest(const struct link *l)
{
	const char *key[] = { "last_rx_secs_ago", "last_tx_secs_ago" };
	const char *text[] = { "  latest rx: ", ", tx: " };
	int64_t ago[] = { l->last_rx, l->last_tx };
	char buf[48];
	int i;

	for (i = 0; i < 2; i++) {
		out_text("%s", text[i]);
		if (ago[i] < 0) {
			out_text("none");
			out_str(key[i], "", NULL);
			continue;
		}
		if (ago[i]) {
			duration(ago[i], buf, sizeof(buf));
			out_text("%s ago", buf);
		} else {
			out_text("now");
		}
		out_u64(key[i], "", (unsigned long long)ago[i]);
	}
	out_text("\n");
}

static void print_link(const struct link *l, const struct msgs *sas,
		       const struct msgs *pols)
{
	const char *oper = l->operstate < MNL_ARRAY_SIZE(operstates) ?
			   operstates[l->operstate] : "UNKNOWN";
	struct counters c;

	out_obj_open(NULL);
	out_str("ifname", "interface: %s\n", l->name);
	out_u64("ifindex", "", l->ifindex);
	out_bool("up", "  up: %s", l->flags & IFF_UP);
	out_str("operstate", ", operstate %s\n", oper);
	out_u64("if_id", "  if_id: %llu\n", l->if_id);
	print_link_dev(l);
	out_u64("mtu", "  mtu: %llu", l->mtu);
	if (l->mtu_auto >= 0) {
		out_bool("mtu_auto", "", l->mtu_auto);
		out_text(" (%s)", l->mtu_auto ? "auto" : "pinned");
	}
	out_text("\n");
	print_tunnel(l);
	print_latest(l);
	if (l->has_stats)
		print_stats(l);
	if (counters_get(l->name, &c) == 0) {
		print_counters(&c);
		counters_free(&c);
	}
	print_sas(sas, l->if_id);
	print_policies(pols, l->if_id);
	out_obj_close();
}

int cmd_show(int argc, char **argv)
{
	struct msgs links = { 0 }, sas = { 0 }, pols = { 0 };
	struct nl rt, xf;
	struct link one, l;
	const char *dev = NULL;
	int ret = EXIT_FAIL, err, shown = 0;
	size_t i;

	if (argc > 1)
		return usage_error("show takes at most one device");
	if (argc == 1)
		dev = argv[0];
	if (nl_open(&rt, NETLINK_ROUTE) || nl_open(&xf, NETLINK_XFRM))
		return fail("cannot open netlink: %s", strerror(errno));
	if (dev && ipsec_get(&rt, dev, &one))
		goto out;
	/* xfrm dumps take no header: GETSA parses what follows as filters. */
	err = nl_dump(&xf, XFRM_MSG_GETSA, 0, &sas);
	if (!err)
		err = nl_dump(&xf, XFRM_MSG_GETPOLICY, 0, &pols);
	if (err) {
		kernel_error(&xf, "reading xfrm SAs and policies", err);
		goto out;
	}
	err = nl_dump(&rt, RTM_GETLINK, sizeof(struct ifinfomsg), &links);
	if (err) {
		kernel_error(&rt, "listing links", err);
		goto out;
	}
	out_arr_open(NULL);
	for (i = 0; i < links.n; i++) {
		if (links.v[i]->nlmsg_type != RTM_NEWLINK)
			continue;
		link_parse(links.v[i], &l);
		if (strcmp(l.kind, IPSECIF_KIND) ||
		    (dev && l.ifindex != one.ifindex))
			continue;
		if (shown++)
			out_text("\n");
		print_link(&l, &sas, &pols);
	}
	out_arr_close();
	out_end();
	ret = EXIT_OK;
out:
	msgs_free(&links);
	msgs_free(&sas);
	msgs_free(&pols);
	nl_close(&rt);
	nl_close(&xf);
	return ret;
}
