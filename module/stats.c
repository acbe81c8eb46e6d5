// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: why packets were dropped, per cause, for `ethtool -S ipsecN`
 * and `ipsecif show` (which reads them the same way).
 */

#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/netdevice.h>

#include "ipsecif.h"

/* The names are an interface: scripts grep for them. Append only. */
static const char ipsecif_stat_names[IPSECIF_STAT_COUNT][ETH_GSTRING_LEN] = {
	[IPSECIF_TX_MALFORMED]		= "tx_malformed",
	[IPSECIF_TX_NO_ROUTE]		= "tx_no_route",
	[IPSECIF_TX_NO_SA]		= "tx_no_sa",
	[IPSECIF_TX_LOOPED]		= "tx_looped_route",
	[IPSECIF_TX_TOO_BIG]		= "tx_too_big",
	[IPSECIF_TX_OUTPUT_ERRORS]	= "tx_output_errors",
	[IPSECIF_TX_IKE_BYPASS]		= "tx_ike_bypass",
	[IPSECIF_TX_OWN_ESP]		= "tx_own_esp",
	[IPSECIF_TX_BUNDLE_LOOKUPS]	= "tx_bundle_lookups",
	[IPSECIF_RX_XFRM_ERRORS]	= "rx_xfrm_errors",
	[IPSECIF_RX_POLICY_REJECTED]	= "rx_policy_rejected",
	[IPSECIF_RX_DEVICE_DOWN]	= "rx_device_down",
	[IPSECIF_TX_LINK_SCOPE]		= "tx_link_scope_no_policy",
};

static void ipsecif_get_drvinfo(struct net_device *dev,
				struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
}

static int ipsecif_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? IPSECIF_STAT_COUNT : -EOPNOTSUPP;
}

static void ipsecif_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, ipsecif_stat_names, sizeof(ipsecif_stat_names));
}

static void ipsecif_get_ethtool_stats(struct net_device *dev,
				      struct ethtool_stats *stats, u64 *data)
{
	const struct ipsecif *sif = netdev_priv(dev);
	u64 one[IPSECIF_STAT_COUNT];
	unsigned int start, i;
	int cpu;

	memset(data, 0, IPSECIF_STAT_COUNT * sizeof(*data));
	for_each_possible_cpu(cpu) {
		const struct ipsecif_stats *st = per_cpu_ptr(sif->stats, cpu);

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			for (i = 0; i < IPSECIF_STAT_COUNT; i++)
				one[i] = u64_stats_read(&st->cnt[i]);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		for (i = 0; i < IPSECIF_STAT_COUNT; i++)
			data[i] += one[i];
	}
}

const struct ethtool_ops ipsecif_ethtool_ops = {
	.get_drvinfo		= ipsecif_get_drvinfo,
	.get_sset_count		= ipsecif_get_sset_count,
	.get_strings		= ipsecif_get_strings,
	.get_ethtool_stats	= ipsecif_get_ethtool_stats,
};
