/* SPDX-License-Identifier: GPL-2.0 */
/* ipsecif: shared declarations of the userspace tool. */
#ifndef IPSECIF_TOOL_H
#define IPSECIF_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>

/* Copies of the messages of one dump. */
struct msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

int msgs_collect(const struct nlmsghdr *nlh, void *data);
void msgs_free(struct msgs *m);

/* What the tool reads of one link. */
struct link {
	int ifindex;
	unsigned int flags;
	char name[IF_NAMESIZE];
	char kind[32];
	uint32_t mtu, min_mtu, max_mtu;
	uint8_t operstate;
	bool has_netnsid, has_stats;
	uint32_t link, if_id;
	char link_name[IF_NAMESIZE];	/* from the kernel, "" if none */
	int mtu_auto;			/* 1, 0, or -1: not reported */
	int32_t link_netnsid;
	struct rtnl_link_stats64 stats;
};

void link_parse(const struct nlmsghdr *nlh, struct link *l);

/* counters.c: the device's per-cause counters (ethtool -S). */
struct counters {
	size_t n;
	char *names;		/* n names of ETH_GSTRING_LEN bytes */
	uint64_t *values;
};

int counters_get(const char *ifname, struct counters *c);
const char *counters_name(const struct counters *c, size_t i);
void counters_free(struct counters *c);
void print_counters(const struct counters *c);

/* xfrm.c: print the SAs and policies bound to an if_id. */
void print_sas(const struct msgs *sas, uint32_t if_id);
void print_policies(const struct msgs *pols, uint32_t if_id);

#endif
