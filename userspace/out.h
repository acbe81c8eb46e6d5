/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipsecif: one printer for text and JSON, in the manner of iproute2's
 * print_*(PRINT_ANY, ...): each value has a JSON key and a text format;
 * out_text() prints only in text mode.
 */
#ifndef IPSECIF_OUT_H
#define IPSECIF_OUT_H

#include <stdbool.h>
#include <stdint.h>

void out_init(bool json, bool pretty);
/* The next document starts (ipsecif monitor: a JSON object a line). */
void out_next(void);
bool out_json(void);
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_str(const char *key, const char *fmt, const char *val);
/* Text formats: %llu/%llx for out_u64, %lld for out_i64, %s for out_bool. */
void out_u64(const char *key, const char *fmt, unsigned long long val);
void out_i64(const char *key, const char *fmt, long long val);
void out_bool(const char *key, const char *fmt, bool val);
void out_obj_open(const char *key);
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);
/* End of the document: the final newline in JSON mode. */
void out_end(void);

#endif
