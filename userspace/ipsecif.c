// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: show and configure route-based IPsec devices (link kind "ipsec").
 *
 *   ipsecif [-j [-p]] [show [DEV]]
 *   ipsecif add DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]
 *                   [linkstate always | dormant | carrier]
 *   ipsecif set DEV (the same options)
 *   ipsecif del DEV
 *   ipsecif attach DEV PHYS
 *   ipsecif detach DEV
 *   ipsecif stable-ll DEV
 *
 * This file holds main(): the options, which may come before or after the
 * command, and the table of commands. show.c and set.c hold the commands,
 * nl.c the netlink requests, out.c the text and JSON printer and the
 * error messages.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipsecif.h"
#include "out.h"

#ifndef IPSECIF_VERSION
#define IPSECIF_VERSION "0.1"
#endif

const char prog[] = "ipsecif";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-j [-p]] [show [DEV]]\n"
		"       %s add DEV [dev PHYS | nodev] [if_id N] [mtu N | mtu auto]\n"
		"                  [linkstate always | dormant | carrier]\n"
		"       %s set DEV (the same options as add)\n"
		"       %s del DEV\n"
		"       %s attach DEV PHYS\n"
		"       %s detach DEV\n"
		"       %s stable-ll DEV\n"
		"       %s help | -V\n"
		"Options: -j, --json    JSON output\n"
		"         -p, --pretty  indented JSON\n"
		"Options may come before or after the command; -- ends them.\n"
		"See ipsecif(8).\n",
		prog, prog, prog, prog, prog, prog, prog, prog);
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
	{ "stable-ll", cmd_stable_ll },
};

/* args[0] is the command, the rest its arguments; none: show. */
static int run(int argc, char **argv)
{
	size_t i;

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

/*
 * The options, wherever they stand: "ipsecif show -j DEV" as well as
 * "ipsecif -j show DEV". The other words go to @args, in order. A leading
 * '-' in the option string makes getopt_long() hand back every non-option
 * in place (as 1), even under POSIXLY_CORRECT; after "--" the rest are
 * words, so a device named "-x" is "ipsecif show -- -x". Returns -1 to go
 * on, or the exit code.
 */
static int parse_options(int argc, char **argv, char **args, int *nargs)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false;
	int c;

	while ((c = getopt_long(argc, argv, "-jphV", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			args[(*nargs)++] = optarg;
			break;
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
	while (optind < argc)
		args[(*nargs)++] = argv[optind++];
	out_init(json, pretty);
	return -1;
}

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0, ret;

	if (!args)
		return fail("out of memory");
	ret = parse_options(argc, argv, args, &nargs);
	if (ret < 0)
		ret = run(nargs, args);
	free(args);
	return ret;
}
