// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: the device's per-cause counters, read as `ethtool -S` reads
 * them (SIOCETHTOOL: string set size, names, values), so both tools show
 * the same names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "ipsecif.h"
#include "out.h"

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

static int stat_count(int fd, const char *ifname)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} info = {
		.hdr.cmd = ETHTOOL_GSSET_INFO,
		.hdr.sset_mask = 1ULL << ETH_SS_STATS,
	};

	if (ethtool(fd, ifname, &info) < 0)
		return -1;
	if (!(info.hdr.sset_mask & (1ULL << ETH_SS_STATS)))
		return 0;
	return info.len;
}

void counters_free(struct counters *c)
{
	free(c->names);
	free(c->values);
	memset(c, 0, sizeof(*c));
}

/* 0, or -1 with errno: the device has no such counters, or is gone. */
int counters_get(const char *ifname, struct counters *c)
{
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *values = NULL;
	int fd, n, ret = -1, saved;

	memset(c, 0, sizeof(*c));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = stat_count(fd, ifname);
	if (n <= 0) {
		errno = n ? errno : EOPNOTSUPP;
		goto out;
	}
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	values = calloc(1, sizeof(*values) + (size_t)n * sizeof(uint64_t));
	if (!names || !values)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	values->cmd = ETHTOOL_GSTATS;
	values->n_stats = n;
	if (ethtool(fd, ifname, names) < 0 || ethtool(fd, ifname, values) < 0)
		goto out;
	c->n = n;
	c->names = malloc((size_t)n * ETH_GSTRING_LEN);
	c->values = malloc((size_t)n * sizeof(uint64_t));
	if (!c->names || !c->values) {
		counters_free(c);
		goto out;
	}
	memcpy(c->names, names->data, (size_t)n * ETH_GSTRING_LEN);
	for (int i = 0; i < n; i++)
		c->names[(size_t)i * ETH_GSTRING_LEN + ETH_GSTRING_LEN - 1] = 0;
	memcpy(c->values, values->data, (size_t)n * sizeof(uint64_t));
	ret = 0;
out:
	saved = errno;
	free(names);
	free(values);
	close(fd);
	errno = saved;
	return ret;
}

const char *counters_name(const struct counters *c, size_t i)
{
	return c->names + i * ETH_GSTRING_LEN;
}

/*
 * JSON: every counter, {"tx_no_sa": 0, ...}. Text: the ones that are not
 * zero, or nothing when all are (the common case needs no line).
 */
void print_counters(const struct counters *c)
{
	size_t i, shown = 0;

	out_obj_open("counters");
	for (i = 0; i < c->n; i++) {
		if (!out_json() && !c->values[i])
			continue;
		out_text(shown++ ? ", " : "  counters: ");
		out_u64(counters_name(c, i), "", c->values[i]);
		out_text("%s %llu", counters_name(c, i),
			 (unsigned long long)c->values[i]);
	}
	if (shown)
		out_text("\n");
	out_obj_close();
}
