// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif add, set, attach, detach and del. Every change is one
 * RTM_NEWLINK or RTM_DELLINK request, checked first, so that a refused
 * command changes nothing. Errors print the kernel's extack text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "../include/uapi/linux/ipsecif.h"
#include "ipsecif.h"
#include "nl.h"

struct change {
	const char *dev;
	const char *phys;	/* NULL: keep; "" : detach */
	bool set_if_id, set_mtu, mtu_auto;
	uint32_t if_id, mtu;
	int link_state;		/* IPSECIF_LINK_STATE_*, -1: keep */
};

static int parse_link_state(const char *s, int *mode)
{
	int i;

	for (i = 0; i <= IPSECIF_LINK_STATE_MAX; i++) {
		if (!strcmp(s, link_state_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return usage_error("invalid linkstate \"%s\": expected always, dormant or carrier",
			   s);
}

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

/*
 * Options shared by add and set: dev PHYS | nodev, if_id N, mtu N | auto,
 * linkstate MODE.
 */
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
		    strcmp(opt, "mtu") && strcmp(opt, "linkstate"))
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
		} else if (!strcmp(opt, "linkstate")) {
			ret = parse_link_state(argv[0], &c->link_state);
			if (ret)
				return ret;
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
	if (!create && !c->phys && !c->set_if_id && !c->mtu_auto &&
	    c->link_state < 0)
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
	if (c->link_state >= 0)
		mnl_attr_put_u8(nlh, IFLA_IPSEC_LINK_STATE, c->link_state);
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

/*
 * A new device: its link-local address made stable before it can go up
 * (lladdr.c), and a link that does not exist yet noted. A host without a
 * machine ID or IPv6 keeps the kernel's address, said only if unexpected.
 */
static void added(struct nl *nl, const struct change *c)
{
	int err = set_stable_ll(c->dev);

	if (err && err != -EAFNOSUPPORT && err != -ENOENT)
		fprintf(stderr,
			"%s: note: %s: its IPv6 link-local address changes at each boot: %s\n",
			prog, c->dev, err == -EINVAL ? "/etc/machine-id is not a machine ID" :
			strerror(-err));
	note_absent(nl, c);
}

static bool module_loaded(void)
{
	return access("/sys/module/ipsecif", F_OK) == 0;
}

int cmd_add(int argc, char **argv)
{
	struct change c = { .link_state = -1 };
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
		added(&nl, &c);
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

	if (!c->phys && !c->set_if_id && !c->set_mtu && !c->mtu_auto &&
	    c->link_state < 0)
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

int cmd_set(int argc, char **argv)
{
	struct change c = { .link_state = -1 };
	int ret;

	if (argc < 1)
		return usage_error("set needs a device name");
	c.dev = argv[0];
	ret = parse_change(argc - 1, argv + 1, &c);
	return ret ? ret : change(&c);
}

int cmd_attach(int argc, char **argv)
{
	struct change c = { .link_state = -1 };

	if (argc != 2)
		return usage_error("usage: attach DEV PHYS");
	c.dev = argv[0];
	c.phys = argv[1];
	if (check_name(c.phys))
		return EXIT_USAGE;
	return change(&c);
}

int cmd_detach(int argc, char **argv)
{
	struct change c = { .link_state = -1 };

	if (argc != 1)
		return usage_error("usage: detach DEV");
	c.dev = argv[0];
	c.phys = "";
	return change(&c);
}

int cmd_del(int argc, char **argv)
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
