#!/bin/sh
# Print -D flags for kernel API differences, decided from the headers of the
# kernel being built against (never from version numbers: distributions
# backport). Usage: probe.sh SRCTREE
inc="$1/include"

has() {	# has FILE REGEX
	grep -Eqs -- "$2" "$inc/$1"
}

has linux/netdevice.h 'unsigned long[[:space:]]+lltx:1' && echo -DIPSECIF_HAVE_DEV_LLTX
has net/xfrm.h 'xfrm_decode_session\(struct net \*net' && echo -DIPSECIF_DECODE_SESSION_NET
[ -f "$inc/net/gso.h" ] && echo -DIPSECIF_HAVE_NET_GSO_H
has net/rtnetlink.h 'struct rtnl_newlink_params' && echo -DIPSECIF_NEWLINK_PARAMS
has net/rtnetlink.h 'rtnl_newlink_link_net' && echo -DIPSECIF_HAVE_NEWLINK_LINK_NET
if has net/net_namespace.h '\(\*exit_rtnl\)'; then
	echo -DIPSECIF_HAVE_EXIT_RTNL
elif has net/net_namespace.h '\(\*exit_batch_rtnl\)'; then
	echo -DIPSECIF_HAVE_EXIT_BATCH_RTNL
fi
has linux/workqueue.h 'struct workqueue_struct \*system_dfl_wq;' && echo -DIPSECIF_HAVE_SYSTEM_DFL_WQ
exit 0
