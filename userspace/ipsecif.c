// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: show and configure route-based IPsec devices (link kind "ipsec").
 *
 *   ipsecif [-j [-p]] [show [DEV]]
 *   ipsecif add DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]
 *   ipsecif set DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]
 *   ipsecif del DEV
 *   ipsecif attach DEV PHYS
 *   ipsecif detach DEV
 *
 * Every change is one RTM_NEWLINK/RTM_DELLINK request, checked first, so a
 * refused command changes nothing. Errors print the kernel's extack text.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#include "../include/uapi/linux/ipsecif.h"
#include "ipsecif.h"
#include "nl.h"
#include "out.h"

#ifndef IPSECIF_VERSION
#define IPSECIF_VERSION "0.1"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char *prog = "ipsecif";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-j [-p]] [show [DEV]]\n"
		"       %s add DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]\n"
		"       %s set DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]\n"
		"       %s del DEV\n"
		"       %s attach DEV PHYS\n"
		"       %s detach DEV\n"
		"       %s help | -V\n"
		"Options: -j, --json    JSON output\n"
		"         -p, --pretty  indented JSON\n"
		"See ipsecif(8).\n",
		prog, prog, prog, prog, prog, prog, prog);
}

/* "ipsecif: message", then the usage hint for usage errors. */
__attribute__((format(printf, 2, 0)))
static int vreport(int code, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (code == EXIT_USAGE)
		fprintf(stderr, "(see '%s help')\n", prog);
	return code;
}

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreport(EXIT_FAIL, fmt, ap);
	va_end(ap);
	return ret;
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreport(EXIT_USAGE, fmt, ap);
	va_end(ap);
	return ret;
}

/* A kernel error: its extack message when it gave one. */
static int kernel_error(struct nl *nl, const char *what, int err)
{
	const char *hint = "";

	if (err == -EPERM)
		hint = " (needs CAP_NET_ADMIN)";
	if (nl->extack[0])
		return fail("%s: %s", what, nl->extack);
	return fail("%s: %s%s", what, strerror(-err), hint);
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

/* ---- links ---- */

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

/* Read one link by name. Returns 0, or a printed error's exit code. */
static int link_get(struct nl *nl, const char *name, struct link *l)
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
static int ipsec_get(struct nl *nl, const char *name, struct link *l)
{
	int ret = link_get(nl, name, l);

	if (ret)
		return ret;
	if (strcmp(l->kind, IPSECIF_KIND))
		return fail("%s: not an ipsec device (kind \"%s\")", name,
			    l->kind[0] ? l->kind : "none");
	return 0;
}

/* ---- show ---- */

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

	/* The kernel names the link in the device's birth namespace. */
	if (l->link_name[0]) {
		out_str("link", "  link: %s", l->link_name);
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

static int dump(struct nl *nl, uint16_t type, size_t hdrlen,
		struct msgs *m)
{
	struct nlmsghdr *nlh = nl_request(nl, type, NLM_F_DUMP, hdrlen);

	return nl_talk(nl, nlh, msgs_collect, m);
}

static int cmd_show(int argc, char **argv)
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
	err = dump(&xf, XFRM_MSG_GETSA, 0, &sas);
	if (!err)
		err = dump(&xf, XFRM_MSG_GETPOLICY, 0, &pols);
	if (err) {
		kernel_error(&xf, "reading xfrm SAs and policies", err);
		goto out;
	}
	err = dump(&rt, RTM_GETLINK, sizeof(struct ifinfomsg), &links);
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

/* ---- changes ---- */

struct change {
	const char *dev;
	const char *phys;	/* NULL: keep; "" : detach */
	bool set_if_id, set_mtu, mtu_auto;
	uint32_t if_id, mtu;
};

static int parse_u32(const char *s, const char *what, uint32_t min,
		     uint32_t *v)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *s == '-' || end == s || *end || x < min ||
	    x > UINT32_MAX)
		return usage_error("invalid %s \"%s\": expected %u..%u", what,
				   s, min, UINT32_MAX);
	*v = (uint32_t)x;
	return 0;
}

static int check_name(const char *name)
{
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/') ||
	    strchr(name, ' '))
		return usage_error("invalid device name \"%s\"", name);
	return 0;
}

/* Options shared by add and set: dev PHYS | nodev, if_id N, mtu N. */
static int parse_change(int argc, char **argv, struct change *c)
{
	int ret;

	for (; argc > 0; argc--, argv++) {
		const char *opt = argv[0];

		if (!strcmp(opt, "nodev")) {
			c->phys = "";
			continue;
		}
		if (strcmp(opt, "dev") && strcmp(opt, "if_id") &&
		    strcmp(opt, "mtu"))
			return usage_error("unknown option \"%s\"", opt);
		if (argc < 2)
			return usage_error("\"%s\" needs a value", opt);
		argc--, argv++;
		if (!strcmp(opt, "dev")) {
			c->phys = argv[0];
		} else if (!strcmp(opt, "if_id")) {
			ret = parse_u32(argv[0], "if_id", 1, &c->if_id);
			if (ret)
				return ret;
			c->set_if_id = true;
		} else {
			if (!strcmp(argv[0], "auto")) {
				c->mtu_auto = true;
				c->set_mtu = false;
				continue;
			}
			ret = parse_u32(argv[0], "mtu", 0, &c->mtu);
			if (ret)
				return ret;
			c->set_mtu = true;
			c->mtu_auto = false;
		}
	}
	if (c->phys && *c->phys)
		return check_name(c->phys);
	return 0;
}

/* IFLA_MTU and the ipsec attributes; create names the kind even if empty. */
static void put_change(struct nlmsghdr *nlh, const struct change *c,
		       bool create)
{
	struct nlattr *info, *data;

	if (c->set_mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (!create && !c->phys && !c->set_if_id && !c->mtu_auto)
		return;
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, IPSECIF_KIND);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* By name: the kernel resolves it in the device's birth namespace. */
	if (c->phys && *c->phys)
		mnl_attr_put_strz(nlh, IFLA_IPSEC_LINK_NAME, c->phys);
	else if (c->phys)
		mnl_attr_put_u32(nlh, IFLA_IPSEC_LINK, 0);
	if (c->set_if_id)
		mnl_attr_put_u32(nlh, IFLA_IPSEC_IF_ID, c->if_id);
	if (c->mtu_auto)
		mnl_attr_put_u8(nlh, IFLA_IPSEC_MTU_AUTO, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

/* A link that does not exist is waited for: say so, a typo shows at once. */
static void note_absent(struct nl *nl, const struct change *c)
{
	struct link l;

	if (!c->phys || !*c->phys || link_get(nl, c->dev, &l))
		return;
	if (!l.link && l.link_name[0])
		fprintf(stderr,
			"%s: note: %s does not exist (yet): %s attaches to it when it appears\n",
			prog, l.link_name, c->dev);
}

static bool module_loaded(void)
{
	return access("/sys/module/ipsecif", F_OK) == 0;
}

static int cmd_add(int argc, char **argv)
{
	struct change c = { 0 };
	struct nlmsghdr *nlh;
	struct nl nl;
	int ret, err;

	if (argc < 1)
		return usage_error("add needs a device name");
	c.dev = argv[0];
	ret = check_name(c.dev);
	if (!ret)
		ret = parse_change(argc - 1, argv + 1, &c);
	if (ret)
		return ret;
	if (nl_open(&nl, NETLINK_ROUTE))
		return fail("cannot open netlink: %s", strerror(errno));
	nlh = nl_request(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
			 sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c.dev);
	put_change(nlh, &c, true);
	err = nl_talk(&nl, nlh, NULL, NULL);
	if (err == -EOPNOTSUPP && !module_loaded())
		ret = fail("%s: the kernel has no \"ipsec\" link type: is the ipsecif module installed? (modprobe ipsecif)",
			   c.dev);
	else if (err)
		ret = kernel_error(&nl, c.dev, err);
	else
		note_absent(&nl, &c);
	nl_close(&nl);
	return ret;
}

/* set, attach and detach: check the device and the MTU, then one request. */
static int change(struct change *c)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct link l;
	struct nl nl;
	int ret, err;

	if (!c->phys && !c->set_if_id && !c->set_mtu && !c->mtu_auto)
		return usage_error("set: nothing to change");
	if (nl_open(&nl, NETLINK_ROUTE))
		return fail("cannot open netlink: %s", strerror(errno));
	ret = ipsec_get(&nl, c->dev, &l);
	if (ret)
		goto out;
	/*
	 * The kernel applies the ipsec attributes before the MTU: check the
	 * MTU here so that a bad one cannot leave half a change behind.
	 */
	if (c->set_mtu && l.max_mtu &&
	    (c->mtu < l.min_mtu || c->mtu > l.max_mtu)) {
		ret = fail("%s: mtu %u out of range %u..%u", c->dev, c->mtu,
			   l.min_mtu, l.max_mtu);
		goto out;
	}
	nlh = nl_request(&nl, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_index = l.ifindex;
	put_change(nlh, c, false);
	err = nl_talk(&nl, nlh, NULL, NULL);
	if (err)
		ret = kernel_error(&nl, c->dev, err);
	else
		note_absent(&nl, c);
out:
	nl_close(&nl);
	return ret;
}

static int cmd_set(int argc, char **argv)
{
	struct change c = { 0 };
	int ret;

	if (argc < 1)
		return usage_error("set needs a device name");
	c.dev = argv[0];
	ret = parse_change(argc - 1, argv + 1, &c);
	return ret ? ret : change(&c);
}

static int cmd_attach(int argc, char **argv)
{
	struct change c = { 0 };

	if (argc != 2)
		return usage_error("usage: attach DEV PHYS");
	c.dev = argv[0];
	c.phys = argv[1];
	if (check_name(c.phys))
		return EXIT_USAGE;
	return change(&c);
}

static int cmd_detach(int argc, char **argv)
{
	struct change c = { 0 };

	if (argc != 1)
		return usage_error("usage: detach DEV");
	c.dev = argv[0];
	c.phys = "";
	return change(&c);
}

static int cmd_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct link l;
	struct nl nl;
	int ret, err;

	if (argc != 1)
		return usage_error("usage: del DEV");
	if (nl_open(&nl, NETLINK_ROUTE))
		return fail("cannot open netlink: %s", strerror(errno));
	ret = ipsec_get(&nl, argv[0], &l);
	if (!ret) {
		nlh = nl_request(&nl, RTM_DELLINK, 0, sizeof(*ifi));
		ifi = mnl_nlmsg_get_payload(nlh);
		ifi->ifi_index = l.ifindex;
		err = nl_talk(&nl, nlh, NULL, NULL);
		if (err)
			ret = kernel_error(&nl, argv[0], err);
	}
	nl_close(&nl);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "show", cmd_show },
	{ "list", cmd_show },
	{ "add", cmd_add },
	{ "set", cmd_set },
	{ "del", cmd_del },
	{ "delete", cmd_del },
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+jphV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			pretty = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("ipsecif %s\n", IPSECIF_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	out_init(json, pretty);
	if (argc == 0)
		return cmd_show(0, argv);
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < MNL_ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return usage_error("unknown command \"%s\"", argv[0]);
}
