// SPDX-License-Identifier: GPL-2.0
/* ipsecif: the xfrm SAs and policies bound to a device's if_id. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#ifndef TCP_ENCAP_ESPINTCP
#define TCP_ENCAP_ESPINTCP 7
#endif

#include "ipsecif.h"
#include "nl.h"
#include "out.h"

const char *addr_str(const xfrm_address_t *a, unsigned int family,
		     char *buf, size_t len)
{
	if (family == AF_INET6)
		return inet_ntop(AF_INET6, a->a6, buf, len);
	if (family == AF_INET)
		return inet_ntop(AF_INET, &a->a4, buf, len);
	snprintf(buf, len, "?");
	return buf;
}

static bool addr_any(const xfrm_address_t *a)
{
	static const xfrm_address_t zero;

	return !memcmp(a, &zero, sizeof(zero));
}

const char *proto_name(unsigned int p, char *buf, size_t len)
{
	switch (p) {
	case 0:
		return "any";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_COMP:
		return "comp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case XFRM_MODE_TRANSPORT:
		return "transport";
	case XFRM_MODE_TUNNEL:
		return "tunnel";
	case XFRM_MODE_ROUTEOPTIMIZATION:
		return "ro";
	case XFRM_MODE_IN_TRIGGER:
		return "in_trigger";
	case XFRM_MODE_BEET:
		return "beet";
	}
	return "unknown";
}

static const char *family_name(unsigned int family)
{
	return family == AF_INET6 ? "inet6" : family == AF_INET ? "inet" :
	       "unspec";
}

static void print_selector(const struct xfrm_selector *sel)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[16];
	unsigned int fam = sel->family;

	if (fam == AF_UNSPEC) {
		out_obj_open("selector");
		out_str("family", "", "unspec");
		out_text("any");
		out_obj_close();
		return;
	}
	addr_str(&sel->saddr, fam, a, sizeof(a));
	addr_str(&sel->daddr, fam, b, sizeof(b));
	out_obj_open("selector");
	out_str("family", "", family_name(fam));
	out_str("src", "%s", a);
	out_u64("src_len", "/%llu", sel->prefixlen_s);
	out_text(" -> ");
	out_str("dst", "%s", b);
	out_u64("dst_len", "/%llu", sel->prefixlen_d);
	if (sel->proto)
		out_str("proto", " proto %s",
			proto_name(sel->proto, pb, sizeof(pb)));
	if (sel->sport_mask)
		out_u64("sport", " sport %llu", ntohs(sel->sport));
	if (sel->dport_mask)
		out_u64("dport", " dport %llu", ntohs(sel->dport));
	out_obj_close();
}

static void print_age(uint64_t add_time)
{
	uint64_t now = (uint64_t)time(NULL);
	uint64_t age = now > add_time ? now - add_time : 0;

	out_u64("add_time", "", add_time);
	out_u64("age", "", age);
	out_text("    age: ");
	if (age >= 3600)
		out_text("%uh ", (unsigned int)(age / 3600));
	if (age >= 60)
		out_text("%um ", (unsigned int)(age % 3600 / 60));
	out_text("%us\n", (unsigned int)(age % 60));
}

/*
 * Call @print for each message of @type (with a @hdrlen header) in @m
 * whose XFRMA_IF_ID is @if_id, inside a JSON array @key.
 */
static void print_bound(const struct msgs *m, const char *key, uint16_t type,
			size_t hdrlen, uint32_t if_id,
			void (*print)(const struct nlmsghdr *nlh,
				      const struct nlattr *const *tb))
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	size_t i;

	out_arr_open(key);
	for (i = 0; i < m->n; i++) {
		const struct nlmsghdr *nlh = m->v[i];

		if (nlh->nlmsg_type != type ||
		    mnl_nlmsg_get_payload_len(nlh) < hdrlen)
			continue;
		nl_parse(nlh, hdrlen, tb, XFRMA_MAX);
		if (nl_u32(tb[XFRMA_IF_ID]) == if_id)
			print(nlh, tb);
	}
	out_arr_close();
}

/* An algorithm attribute, checked to hold at least the struct. */
static const void *alg(const struct nlattr *const *tb, int type, size_t min)
{
	if (!tb[type] || mnl_attr_get_payload_len(tb[type]) < min)
		return NULL;
	return mnl_attr_get_payload(tb[type]);
}

static void print_algs(const struct nlattr *const *tb)
{
	const struct xfrm_algo_aead *aead;
	const struct xfrm_algo_auth *auth;
	const struct xfrm_algo *a;

	aead = alg(tb, XFRMA_ALG_AEAD, sizeof(*aead));
	if (aead) {
		out_obj_open("aead");
		out_str("name", "    aead: %.64s", aead->alg_name);
		out_u64("key_bits", ", %llu-bit key", aead->alg_key_len);
		out_u64("icv_bits", ", %llu-bit icv\n", aead->alg_icv_len);
		out_obj_close();
	}
	a = alg(tb, XFRMA_ALG_CRYPT, sizeof(*a));
	if (a) {
		out_obj_open("enc");
		out_str("name", "    enc: %.64s", a->alg_name);
		out_u64("key_bits", ", %llu-bit key\n", a->alg_key_len);
		out_obj_close();
	}
	auth = alg(tb, XFRMA_ALG_AUTH_TRUNC, sizeof(*auth));
	a = alg(tb, XFRMA_ALG_AUTH, sizeof(*a));
	if (auth) {
		out_obj_open("auth");
		out_str("name", "    auth: %.64s", auth->alg_name);
		out_u64("key_bits", ", %llu-bit key", auth->alg_key_len);
		out_u64("trunc_bits", ", %llu-bit icv\n", auth->alg_trunc_len);
		out_obj_close();
	} else if (a) {
		out_obj_open("auth");
		out_str("name", "    auth: %.64s", a->alg_name);
		out_u64("key_bits", ", %llu-bit key\n", a->alg_key_len);
		out_obj_close();
	}
	a = alg(tb, XFRMA_ALG_COMP, sizeof(*a));
	if (a) {
		out_obj_open("comp");
		out_str("name", "    comp: %.64s\n", a->alg_name);
		out_obj_close();
	}
}

static void print_encap(const struct nlattr *const *tb)
{
	const struct xfrm_encap_tmpl *e = alg(tb, XFRMA_ENCAP, sizeof(*e));

	if (!e)
		return;
	out_obj_open("encap");
	out_str("type", "    encap: %s",
		e->encap_type == UDP_ENCAP_ESPINUDP ? "espinudp" :
		e->encap_type == TCP_ENCAP_ESPINTCP ? "espintcp" : "other");
	out_u64("sport", " %llu", ntohs(e->encap_sport));
	out_u64("dport", " -> %llu\n", ntohs(e->encap_dport));
	out_obj_close();
}

static void print_mark(const struct nlattr *const *tb)
{
	const struct xfrm_mark *m = alg(tb, XFRMA_MARK, sizeof(*m));

	if (!m)
		return;
	out_obj_open("mark");
	out_u64("value", "    mark: %#llx", m->v);
	out_u64("mask", "/%#llx\n", m->m);
	out_obj_close();
}

static void print_sa(const struct nlmsghdr *nlh,
		     const struct nlattr *const *tb)
{
	const struct xfrm_usersa_info *sa = mnl_nlmsg_get_payload(nlh);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[16];

	out_obj_open(NULL);
	out_str("proto", "  sa: %s", proto_name(sa->id.proto, pb, sizeof(pb)));
	out_text(" spi 0x%08x", ntohl(sa->id.spi));
	out_u64("spi", "", ntohl(sa->id.spi));
	out_str("src", " %s", addr_str(&sa->saddr, sa->family, a, sizeof(a)));
	out_str("dst", " -> %s\n",
		addr_str(&sa->id.daddr, sa->family, b, sizeof(b)));
	out_str("family", "", family_name(sa->family));
	out_str("mode", "    mode: %s", mode_name(sa->mode));
	out_u64("reqid", ", reqid %llu", sa->reqid);
	out_u64("replay_window", ", replay window %llu\n", sa->replay_window);
	print_algs(tb);
	print_encap(tb);
	print_mark(tb);
	out_text("    selector: ");
	print_selector(&sa->sel);
	out_text("\n");
	out_u64("packets", "    traffic: %llu packets",
		sa->curlft.packets);
	out_u64("bytes", ", %llu bytes", sa->curlft.bytes);
	out_u64("integrity_failed", ", %llu integrity failures",
		sa->stats.integrity_failed);
	out_u64("replay_errors", ", %llu replayed\n", sa->stats.replay);
	print_age(sa->curlft.add_time);
	out_obj_close();
}

void print_sas(const struct msgs *sas, uint32_t if_id)
{
	print_bound(sas, "sas", XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info),
		    if_id, print_sa);
}

static const char *dir_name(unsigned int dir)
{
	switch (dir) {
	case XFRM_POLICY_IN:
		return "in";
	case XFRM_POLICY_OUT:
		return "out";
	case XFRM_POLICY_FWD:
		return "fwd";
	}
	return "socket";
}

static void print_tmpls(const struct nlattr *attr)
{
	const struct xfrm_user_tmpl *t;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[16];
	size_t n, i;

	out_arr_open("templates");
	n = attr ? mnl_attr_get_payload_len(attr) / sizeof(*t) : 0;
	t = attr ? mnl_attr_get_payload(attr) : NULL;
	for (i = 0; i < n; i++, t++) {
		out_obj_open(NULL);
		out_str("proto", "    template: %s",
			proto_name(t->id.proto, pb, sizeof(pb)));
		out_str("mode", " %s", mode_name(t->mode));
		if (!addr_any(&t->saddr) || !addr_any(&t->id.daddr)) {
			out_str("src", " %s",
				addr_str(&t->saddr, t->family, a, sizeof(a)));
			out_str("dst", " -> %s",
				addr_str(&t->id.daddr, t->family, b, sizeof(b)));
		}
		out_u64("reqid", ", reqid %llu", t->reqid);
		if (t->optional)
			out_bool("optional", ", optional %s", true);
		out_text("\n");
		out_obj_close();
	}
	out_arr_close();
}

static void print_policy(const struct nlmsghdr *nlh,
			 const struct nlattr *const *tb)
{
	const struct xfrm_userpolicy_info *p = mnl_nlmsg_get_payload(nlh);

	out_obj_open(NULL);
	out_str("dir", "  policy: %s ", dir_name(p->dir));
	print_selector(&p->sel);
	out_text("\n");
	out_str("action", "    action: %s",
		p->action == XFRM_POLICY_ALLOW ? "allow" : "block");
	out_u64("priority", ", priority %llu", p->priority);
	out_u64("index", ", index %llu\n", p->index);
	print_tmpls(tb[XFRMA_TMPL]);
	print_mark(tb);
	out_obj_close();
}

void print_policies(const struct msgs *pols, uint32_t if_id)
{
	print_bound(pols, "policies", XFRM_MSG_NEWPOLICY,
		    sizeof(struct xfrm_userpolicy_info), if_id, print_policy);
}
