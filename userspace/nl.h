/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecif: netlink requests over libmnl, with the kernel's extack text, and
 * the links and dumps the tool reads with them.
 */
#ifndef IPSECIF_NL_H
#define IPSECIF_NL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "../include/uapi/linux/ipsecif.h"

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char buf[32768];	/* a dump part fits (the kernel sends <= 32 KiB) */
	char extack[256];	/* the kernel's message for the last error */
};

int nl_open(struct nl *nl, int bus);
void nl_close(struct nl *nl);
/*
 * Start a request in nl->buf: header plus zeroed room for a family header.
 * flags is exactly NLM_F_DUMP for a dump; anything else is acked.
 */
struct nlmsghdr *nl_request(struct nl *nl, uint16_t type, uint16_t flags,
			    size_t hdrlen);
/*
 * Send the request and read replies until the dump ends or the kernel acks.
 * cb (may be NULL) sees every data message. Returns 0 or -errno; on error
 * nl->extack holds the kernel's explanation, if it gave one.
 */
int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* Attributes into tb[0..max] (cleared first); unknown types are skipped. */
void nl_parse(const struct nlmsghdr *nlh, size_t hdrlen,
	      const struct nlattr **tb, unsigned int max);
void nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		     unsigned int max);
/* A u32 attribute's value; 0 when absent or too short. */
uint32_t nl_u32(const struct nlattr *attr);

/* Copies of the messages of one dump. */
struct msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

int msgs_collect(const struct nlmsghdr *nlh, void *data);
void msgs_free(struct msgs *m);
/* Dump @type (with a @hdrlen family header) into @m. 0 or -errno. */
int nl_dump(struct nl *nl, uint16_t type, size_t hdrlen, struct msgs *m);

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
	int link_state;			/* IPSECIF_LINK_STATE_*, -1: not reported */
	int tunnel;			/* IPSECIF_TUNNEL_*, -1: not reported */
	uint32_t tunnel_changes;
	int64_t last_rx, last_tx;	/* seconds ago; -1: none yet or not reported */
	int32_t link_netnsid;
	struct rtnl_link_stats64 stats;
};

void link_parse(const struct nlmsghdr *nlh, struct link *l);
/* The names of enum ipsecif_link_state, as the commands take and show them. */
extern const char *const link_state_names[IPSECIF_LINK_STATE_MAX + 1];
/*
 * Why a tunnel is down: the words of ip's "why" and JSON (indexed by enum
 * ipsecif_tunnel), and the text ("no outbound SA", "link wan0 absent";
 * "" when up), which may be written in @buf.
 */
extern const char *const tunnel_reason_names[__IPSECIF_TUNNEL_MAX];
const char *tunnel_reason_text(const struct link *l, char *buf, size_t len);
/*
 * Read one link by name, or one ipsec link (refusing devices of other
 * kinds). Returns 0, or the exit code of the error they printed.
 */
int link_get(struct nl *nl, const char *name, struct link *l);
int ipsec_get(struct nl *nl, const char *name, struct link *l);
/* Print a kernel error: its extack message when it gave one. */
int kernel_error(struct nl *nl, const char *what, int err);

#endif
