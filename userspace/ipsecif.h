/* SPDX-License-Identifier: GPL-2.0 */
/* ipsecif: shared declarations of the userspace tool. */
#ifndef IPSECIF_TOOL_H
#define IPSECIF_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/xfrm.h>

#include "nl.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

extern const char prog[];

/* out.c: "ipsecif: message" on stderr; they return exit codes 1, 2. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The subcommands: argv holds the arguments after the command's name. */
int cmd_show(int argc, char **argv);	/* show.c */
int cmd_add(int argc, char **argv);	/* set.c */
int cmd_set(int argc, char **argv);
int cmd_del(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_stable_ll(int argc, char **argv);	/* lladdr.c */
int cmd_monitor(int argc, char **argv);		/* monitor.c */

/* lladdr.c: a link-local address stable across reboots. */
int set_stable_ll(const char *dev);

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

/* print_xfrm.c: print the SAs and policies bound to an if_id. */
void print_sas(const struct msgs *sas, uint32_t if_id);
void print_policies(const struct msgs *pols, uint32_t if_id);
/* An xfrm address ("?" for another family) and a protocol, as text. */
const char *addr_str(const xfrm_address_t *a, unsigned int family,
		     char *buf, size_t len);
const char *proto_name(unsigned int p, char *buf, size_t len);

#endif
