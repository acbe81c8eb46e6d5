/* SPDX-License-Identifier: GPL-2.0 */
/* ipsecif: netlink requests over libmnl, with the kernel's extack text. */
#ifndef IPSECIF_NL_H
#define IPSECIF_NL_H

#include <libmnl/libmnl.h>
#include <stdint.h>

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

#endif
