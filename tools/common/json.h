/* A streaming JSON writer: commas and nesting tracked for the caller; bytes escaped exactly. */
#ifndef MEMLENS_TOOLS_JSON_H
#define MEMLENS_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;
} json_writer;

void json_init(json_writer *j, FILE *f);
void json_obj_begin(json_writer *j);
void json_obj_end(json_writer *j);
void json_arr_begin(json_writer *j);
void json_arr_end(json_writer *j);
void json_key(json_writer *j, const char *key);
/* A string of exact bytes: valid UTF-8 passes, other bytes become "\\xNN" (a literal
 * backslash-x escape inside the JSON string), so names with invalid UTF-8 stay lossless. */
void json_str(json_writer *j, const char *s, size_t len);
void json_cstr(json_writer *j, const char *s);
void json_u64(json_writer *j, uint64_t v);
void json_i64(json_writer *j, int64_t v);
void json_double(json_writer *j, double v);
void json_bool(json_writer *j, bool v);
void json_null(json_writer *j);
/* An address as "0x7f...". */
void json_addr(json_writer *j, uint64_t v);
/* Ends a JSON Lines record (depth must be 0): writes '\n'. */
void json_line_end(json_writer *j);

/* key + value shorthands */
#define JSON_KU64(j, k, v) (json_key(j, k), json_u64(j, v))
#define JSON_KI64(j, k, v) (json_key(j, k), json_i64(j, v))
#define JSON_KSTR(j, k, v) (json_key(j, k), json_cstr(j, v))
#define JSON_KADDR(j, k, v) (json_key(j, k), json_addr(j, v))
#define JSON_KBOOL(j, k, v) (json_key(j, k), json_bool(j, v))

#endif
