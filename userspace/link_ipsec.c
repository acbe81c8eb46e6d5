// SPDX-License-Identifier: GPL-2.0
/*
 * link_ipsec.so: iproute2 support for links of kind "ipsec".
 *
 *   ip link add ipsec1 type ipsec [dev PHYS | nodev] [if_id N] [mtu_auto on|off]
 *                                 [linkstate always|dormant|carrier]
 *   ip link set ipsec1 type ipsec (the same)
 *   ip -d [-j] link show ipsec1
 *
 * ip dlopen()s link_<kind>.so from its library directory for kinds it does
 * not know and looks up the symbol <kind>_link_util. Attributes are written
 * with libmnl; printing goes through ip's own JSON/colour printer, whose
 * functions the ip binary exports, so "ip -j" output stays one document.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "../include/uapi/linux/ipsecif.h"

/*
 * The plugin contract of iproute2 (ip/ip_common.h), unchanged in layout
 * from iproute2 4.x to 7.x. Newer ip passes a fifth argument (a netns fd)
 * to parse_opt; this plugin never reads it, so the shorter prototype
 * serves both.
 */
struct link_util {
	struct link_util *next;
	const char *id;
	int maxattr;
	int (*parse_opt)(struct link_util *lu, int argc, char **argv,
			 struct nlmsghdr *n);
	void (*print_opt)(struct link_util *lu, FILE *f, struct rtattr *tb[]);
	void (*print_xstats)(struct link_util *lu, FILE *f, struct rtattr *xs);
	void (*print_help)(struct link_util *lu, int argc, char **argv,
			   FILE *f);
	int (*parse_ifla_xstats)(struct link_util *lu, int argc, char **argv);
	int (*print_ifla_xstats)(struct nlmsghdr *n, void *arg);
};

/* From iproute2's include/json_print.h and include/color.h (stable). */
enum output_type { PRINT_FP = 1, PRINT_JSON = 2, PRINT_ANY = 4 };
enum color_attr { COLOR_IFNAME = 0, COLOR_NONE = 6 };

int print_color_uint(enum output_type t, enum color_attr c, const char *key,
		     const char *fmt, unsigned int value);
int print_color_string(enum output_type t, enum color_attr c,
		       const char *key, const char *fmt, const char *value);

/* The request buffer ip hands to parse_opt holds at least this much. */
#define IPSEC_REQ_MAX	1024

static void ipsec_usage(FILE *f)
{
	fprintf(f,
		"Usage: ... ipsec [ dev PHYS_DEV | nodev ] [ if_id IF_ID ]\n"
		"                 [ mtu_auto { on | off } ]\n"
		"                 [ linkstate { always | dormant | carrier } ]\n"
		"\n"
		"Where: PHYS_DEV := physical device the outer packets leave by,\n"
		"                   by name: it may appear later, and again\n"
		"       IF_ID    := 1..4294967295, the xfrm if_id of the SAs and\n"
		"                   policies this device uses (default: N for\n"
		"                   ipsecN, 16384 for ipsec0)\n"
		"       mtu_auto on: the MTU follows the link and the SAs\n"
		"                   (default; setting an MTU turns it off)\n"
		"       linkstate: what the device says while its tunnel is\n"
		"                   down (no outbound SA, link absent or down):\n"
		"                   always: nothing, always up (default);\n"
		"                   dormant: DORMANT, not RUNNING, still sends;\n"
		"                   carrier: NO-CARRIER, its routes linkdown\n");
}

static void ipsec_print_help(struct link_util *lu, int argc, char **argv,
			     FILE *f)
{
	(void)lu;
	(void)argc;
	(void)argv;
	ipsec_usage(f);
}

static int parse_if_id(const char *arg, __u32 *if_id)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || *arg == '-' || end == arg || *end || v == 0 ||
	    v > UINT32_MAX)
		return -1;
	*if_id = (__u32)v;
	return 0;
}

static const char *const linkstates[] = {
	[IPSECIF_LINK_STATE_ALWAYS]	= "always",
	[IPSECIF_LINK_STATE_DORMANT]	= "dormant",
	[IPSECIF_LINK_STATE_CARRIER]	= "carrier",
};

static const char *const tunnel_reasons[] = {
	[IPSECIF_TUNNEL_UP]		= "none",
	[IPSECIF_TUNNEL_NO_POLICY]	= "no-policy",
	[IPSECIF_TUNNEL_NO_SA]		= "no-sa",
	[IPSECIF_TUNNEL_LINK_ABSENT]	= "link-absent",
	[IPSECIF_TUNNEL_LINK_DOWN]	= "link-down",
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static int parse_linkstate(const char *arg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(linkstates); i++)
		if (!strcmp(arg, linkstates[i]))
			return (int)i;
	return -1;
}

static int put_u32(struct nlmsghdr *n, __u16 type, __u32 v)
{
	if (mnl_attr_put_u32_check(n, IPSEC_REQ_MAX, type, v))
		return 0;
	fprintf(stderr, "ipsec: netlink message too long\n");
	return -1;
}

static int ipsec_parse_opt(struct link_util *lu, int argc, char **argv,
			   struct nlmsghdr *n)
{
	__u32 if_id;

	(void)lu;
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "dev") || !strcmp(*argv, "link")) {
			if (argc < 2)
				goto missing;
			argc--, argv++;
			/* The kernel resolves it in the birth namespace. */
			if (!**argv || strlen(*argv) >= IF_NAMESIZE) {
				fprintf(stderr, "Error: \"%s\" is not a valid device name\n",
					*argv);
				return -1;
			}
			if (!mnl_attr_put_strz_check(n, IPSEC_REQ_MAX,
						     IFLA_IPSEC_LINK_NAME,
						     *argv)) {
				fprintf(stderr, "ipsec: netlink message too long\n");
				return -1;
			}
		} else if (!strcmp(*argv, "nodev")) {
			if (put_u32(n, IFLA_IPSEC_LINK, 0))
				return -1;
		} else if (!strcmp(*argv, "mtu_auto")) {
			if (argc < 2)
				goto missing;
			argc--, argv++;
			if (strcmp(*argv, "on") && strcmp(*argv, "off")) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: mtu_auto is on or off\n",
					*argv);
				return -1;
			}
			if (!mnl_attr_put_u8_check(n, IPSEC_REQ_MAX,
						   IFLA_IPSEC_MTU_AUTO,
						   !strcmp(*argv, "on"))) {
				fprintf(stderr, "ipsec: netlink message too long\n");
				return -1;
			}
		} else if (!strcmp(*argv, "linkstate")) {
			int mode;

			if (argc < 2)
				goto missing;
			argc--, argv++;
			mode = parse_linkstate(*argv);
			if (mode < 0) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: linkstate is always, dormant or carrier\n",
					*argv);
				return -1;
			}
			if (!mnl_attr_put_u8_check(n, IPSEC_REQ_MAX,
						   IFLA_IPSEC_LINK_STATE,
						   (__u8)mode)) {
				fprintf(stderr, "ipsec: netlink message too long\n");
				return -1;
			}
		} else if (!strcmp(*argv, "if_id")) {
			if (argc < 2)
				goto missing;
			argc--, argv++;
			if (parse_if_id(*argv, &if_id)) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: if_id must be 1..4294967295\n",
					*argv);
				return -1;
			}
			if (put_u32(n, IFLA_IPSEC_IF_ID, if_id))
				return -1;
		} else if (!strcmp(*argv, "help")) {
			ipsec_usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "ipsec: unknown option \"%s\"\n\n",
				*argv);
			ipsec_usage(stderr);
			return -1;
		}
	}
	return 0;

missing:
	fprintf(stderr, "Command line is not complete: \"%s\" needs a value\n",
		*argv);
	return -1;
}

static __u32 rta_u32(const struct rtattr *rta)
{
	__u32 v;

	memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

static __u8 rta_u8(const struct rtattr *rta, __u8 none)
{
	return rta && RTA_PAYLOAD(rta) >= 1 ? *(__u8 *)RTA_DATA(rta) : none;
}

/* The link state mode, and the tunnel's state: "tunnel down why no-sa". */
static void print_tunnel(struct rtattr *tb[])
{
	__u8 mode = rta_u8(tb[IFLA_IPSEC_LINK_STATE], 0xff);
	__u8 tunnel = rta_u8(tb[IFLA_IPSEC_TUNNEL], 0xff);

	if (mode < ARRAY_LEN(linkstates))
		print_color_string(PRINT_ANY, COLOR_NONE, "linkstate",
				   "linkstate %s ", linkstates[mode]);
	if (tunnel < ARRAY_LEN(tunnel_reasons)) {
		print_color_string(PRINT_ANY, COLOR_NONE, "tunnel",
				   "tunnel %s ", tunnel ? "down" : "up");
		if (tunnel)
			print_color_string(PRINT_ANY, COLOR_NONE,
					   "tunnel_down_reason", "why %s ",
					   tunnel_reasons[tunnel]);
	}
	if (tb[IFLA_IPSEC_TUNNEL_CHANGES] &&
	    RTA_PAYLOAD(tb[IFLA_IPSEC_TUNNEL_CHANGES]) >= 4)
		print_color_uint(PRINT_ANY, COLOR_NONE, "tunnel_changes",
				 "changes %u ",
				 rta_u32(tb[IFLA_IPSEC_TUNNEL_CHANGES]));
}

static void ipsec_print_opt(struct link_util *lu, FILE *f, struct rtattr *tb[])
{
	__u32 link;

	(void)lu;
	(void)f;
	if (!tb)
		return;
	/* The kernel names the link in the device's birth namespace. */
	if (tb[IFLA_IPSEC_LINK_NAME] &&
	    RTA_PAYLOAD(tb[IFLA_IPSEC_LINK_NAME]) > 1 &&
	    RTA_PAYLOAD(tb[IFLA_IPSEC_LINK_NAME]) <= IF_NAMESIZE &&
	    ((char *)RTA_DATA(tb[IFLA_IPSEC_LINK_NAME]))
		[RTA_PAYLOAD(tb[IFLA_IPSEC_LINK_NAME]) - 1] == '\0') {
		link = tb[IFLA_IPSEC_LINK] &&
		       RTA_PAYLOAD(tb[IFLA_IPSEC_LINK]) >= 4 ?
		       rta_u32(tb[IFLA_IPSEC_LINK]) : 0;
		print_color_string(PRINT_ANY, COLOR_IFNAME, "dev", "dev %s ",
				   RTA_DATA(tb[IFLA_IPSEC_LINK_NAME]));
		if (!link)
			print_color_string(PRINT_FP, COLOR_NONE, NULL, "%s ",
					   "(absent)");
		print_color_string(PRINT_JSON, COLOR_NONE, "link_state", NULL,
				   link ? "present" : "absent");
	} else if (tb[IFLA_IPSEC_LINK] && RTA_PAYLOAD(tb[IFLA_IPSEC_LINK]) >= 4) {
		/*
		 * An index the kernel did not name. It is one of the birth
		 * namespace, which may not be this one: ip reports that as
		 * link-netnsid, outside these attributes, so never look the
		 * index up here.
		 */
		link = rta_u32(tb[IFLA_IPSEC_LINK]);
		if (!link)
			print_color_string(PRINT_FP, COLOR_NONE, NULL, "%s ",
					   "nodev");
		else
			print_color_uint(PRINT_ANY, COLOR_NONE, "link_index",
					 "dev if%u ", link);
	}
	if (tb[IFLA_IPSEC_IF_ID] && RTA_PAYLOAD(tb[IFLA_IPSEC_IF_ID]) >= 4)
		print_color_uint(PRINT_ANY, COLOR_NONE, "if_id", "if_id %u ",
				 rta_u32(tb[IFLA_IPSEC_IF_ID]));
	if (tb[IFLA_IPSEC_MTU_AUTO] && RTA_PAYLOAD(tb[IFLA_IPSEC_MTU_AUTO]) >= 1)
		print_color_string(PRINT_ANY, COLOR_NONE, "mtu_auto",
				   "mtu_auto %s ",
				   *(__u8 *)RTA_DATA(tb[IFLA_IPSEC_MTU_AUTO]) ?
				   "on" : "off");
	print_tunnel(tb);
}

struct link_util ipsec_link_util = {
	.id		= IPSECIF_KIND,
	.maxattr	= IFLA_IPSEC_MAX,
	.parse_opt	= ipsec_parse_opt,
	.print_opt	= ipsec_print_opt,
	.print_help	= ipsec_print_help,
};
