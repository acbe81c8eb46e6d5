// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif stable-ll: an IPv6 link-local address that survives reboots.
 *
 * An ipsecN device has no hardware address, so the kernel makes its
 * link-local address from a random secret (addr_gen_mode random): the
 * same across down and up, a new one each boot or each time the device is
 * created. OSPFv3 and BGP name their IPv6 next hops by link-local address,
 * so the peer's routes would change with each of our reboots.
 *
 * Giving the device a secret of its own (net.ipv6.conf.DEV.stable_secret,
 * RFC 7217) makes the kernel derive the address from that secret instead.
 * The secret is this host's machine ID (/etc/machine-id, 128 bits) with
 * the device's name mixed in: stable across reboots, different for each
 * device and host. The kernel hashes it (SHA-1) into the address, so the
 * address does not reveal it; the sysctl is readable by root only.
 *
 * It must be set before the device first goes up: `ipsecif add` sets it,
 * and the udev rule 60-ipsecif.rules runs `ipsecif stable-ll` for devices
 * that appear otherwise (module parameter devices=, ip link add).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ipsecif.h"

#define MACHINE_ID	"/etc/machine-id"

/* The 32 hex digits of /etc/machine-id, as 16 bytes. */
static int read_machine_id(unsigned char id[16])
{
	char hex[34] = "";
	unsigned int byte;
	FILE *f;
	int i;

	f = fopen(MACHINE_ID, "r");
	if (!f)
		return -errno;
	if (!fgets(hex, sizeof(hex), f))
		hex[0] = '\0';
	fclose(f);
	if (strlen(hex) < 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -EINVAL;
		id[i] = (unsigned char)byte;
	}
	return 0;
}

/*
 * The secret of @dev: the machine ID, each byte XORed with the matching
 * byte of the name. Two names (at most 15 characters and a NUL) differ in
 * one of the 16 bytes, so no two devices of a host share a secret.
 */
static void ll_secret(const unsigned char id[16], const char *dev,
		      char *buf, size_t len)
{
	unsigned char s[16];
	size_t i;

	memcpy(s, id, sizeof(s));
	for (i = 0; dev[i] && i < sizeof(s); i++)
		s[i] ^= (unsigned char)dev[i];
	snprintf(buf, len, "%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
		 "%02x%02x:%02x%02x:%02x%02x:%02x%02x",
		 s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
		 s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]);
}

/**
 * set_stable_ll() - give @dev a link-local address stable across reboots
 * @dev: device name, in this network namespace
 *
 * Writes @dev's stable_secret sysctl. Takes effect when @dev next goes up.
 *
 * Return: 0; -ENODEV if @dev does not exist; -EAFNOSUPPORT if it has no
 * IPv6 (disabled); another negative errno if /etc/machine-id is missing
 * or bad (-ENOENT, -EINVAL) or the write failed.
 */
int set_stable_ll(const char *dev)
{
	char path[64 + IF_NAMESIZE], secret[40];
	unsigned char id[16];
	FILE *f;
	int err;

	if (!if_nametoindex(dev))
		return -ENODEV;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/stable_secret",
		 dev);
	err = read_machine_id(id);
	if (err)
		return err;
	ll_secret(id, dev, secret, sizeof(secret));
	f = fopen(path, "w");
	if (!f)
		return errno == ENOENT ? -EAFNOSUPPORT : -errno;
	err = fputs(secret, f) < 0 ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* ipsecif stable-ll DEV */
int cmd_stable_ll(int argc, char **argv)
{
	int err;

	if (argc != 1)
		return usage_error("stable-ll needs one device name");
	err = set_stable_ll(argv[0]);
	switch (err) {
	case 0:
		return EXIT_OK;
	case -ENODEV:
		return fail("%s: no such device", argv[0]);
	case -EAFNOSUPPORT:
		return fail("%s: IPv6 is disabled on it: no link-local address to make stable",
			    argv[0]);
	case -ENOENT:
	case -EINVAL:
		return fail("%s: %s is missing or not a machine ID (see machine-id(5))",
			    argv[0], MACHINE_ID);
	default:
		return fail("%s: cannot set its stable_secret: %s", argv[0],
			    strerror(-err));
	}
}
