// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecif: one printer for text and JSON (see out.h), and the error
 * messages, on stderr.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ipsecif.h"
#include "out.h"

#define MAX_DEPTH 16

static bool json, pretty;
static int depth;
static bool first[MAX_DEPTH];

void out_init(bool j, bool p)
{
	json = j;
	pretty = p;
	depth = 0;
	first[0] = true;
}

void out_next(void)
{
	depth = 0;
	first[0] = true;
}

bool out_json(void)
{
	return json;
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

/* Separator, indentation and "key": before a JSON value. */
static void json_key(const char *key)
{
	int i;

	if (!first[depth])
		putchar(',');
	first[depth] = false;
	if (pretty && depth) {
		putchar('\n');
		for (i = 0; i < depth; i++)
			fputs("    ", stdout);
	}
	if (key) {
		json_string(key);
		fputs(pretty ? ": " : ":", stdout);
	}
}

void out_str(const char *key, const char *fmt, const char *val)
{
	if (!json) {
		if (val)	/* NULL is JSON's null: nothing to print */
			printf(fmt, val);
		return;
	}
	json_key(key);
	if (val)
		json_string(val);
	else
		fputs("null", stdout);
}

void out_u64(const char *key, const char *fmt, unsigned long long val)
{
	if (!json) {
		printf(fmt, val);
		return;
	}
	json_key(key);
	printf("%llu", val);
}

void out_i64(const char *key, const char *fmt, long long val)
{
	if (!json) {
		printf(fmt, val);
		return;
	}
	json_key(key);
	printf("%lld", val);
}

void out_bool(const char *key, const char *fmt, bool val)
{
	if (!json) {
		printf(fmt, val ? "yes" : "no");
		return;
	}
	json_key(key);
	fputs(val ? "true" : "false", stdout);
}

static void out_open(const char *key, char c)
{
	if (!json)
		return;
	json_key(key);
	putchar(c);
	if (depth + 1 < MAX_DEPTH)
		depth++;
	first[depth] = true;
}

static void out_close(char c)
{
	bool empty;
	int i;

	if (!json)
		return;
	empty = first[depth];
	if (depth)
		depth--;
	if (pretty && !empty) {
		putchar('\n');
		for (i = 0; i < depth; i++)
			fputs("    ", stdout);
	}
	putchar(c);
}

void out_obj_open(const char *key)
{
	out_open(key, '{');
}

void out_obj_close(void)
{
	out_close('}');
}

void out_arr_open(const char *key)
{
	out_open(key, '[');
}

void out_arr_close(void)
{
	out_close(']');
}

void out_end(void)
{
	if (json)
		putchar('\n');
	fflush(stdout);
}

/* "ipsecif: message", then the usage hint for usage errors. */
__attribute__((format(printf, 2, 0)))
static int vreport(int code, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (code == EXIT_USAGE)
		fprintf(stderr, "(see '%s help')\n", prog);
	return code;
}

int fail(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreport(EXIT_FAIL, fmt, ap);
	va_end(ap);
	return ret;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreport(EXIT_USAGE, fmt, ap);
	va_end(ap);
	return ret;
}
