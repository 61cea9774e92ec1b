/* A streaming JSON writer: commas and nesting tracked for the caller; bytes escaped exactly. */
#ifndef MEMLENS_TOOLS_JSON_H
#define MEMLENS_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ML_JSON_MAX_DEPTH 32

typedef struct ml_json {
	FILE *f;
	int depth;
	bool first[ML_JSON_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;
} ml_json;

void ml_json_init(ml_json *j, FILE *f);
void ml_json_obj_begin(ml_json *j);
void ml_json_obj_end(ml_json *j);
void ml_json_arr_begin(ml_json *j);
void ml_json_arr_end(ml_json *j);
void ml_json_key(ml_json *j, const char *key);
/* A string of exact bytes: valid UTF-8 passes, other bytes become "\\xNN" (a literal
 * backslash-x escape inside the JSON string), so names with invalid UTF-8 stay lossless. */
void ml_json_str(ml_json *j, const char *s, size_t len);
void ml_json_cstr(ml_json *j, const char *s);
void ml_json_u64(ml_json *j, uint64_t v);
void ml_json_i64(ml_json *j, int64_t v);
void ml_json_double(ml_json *j, double v);
void ml_json_bool(ml_json *j, bool v);
void ml_json_null(ml_json *j);
/* An address as "0x7f...". */
void ml_json_addr(ml_json *j, uint64_t v);
/* Ends a JSON Lines record (depth must be 0): writes '\n'. */
void ml_json_line_end(ml_json *j);

/* key + value shorthands */
#define ML_JSON_KU64(j, k, v) (ml_json_key(j, k), ml_json_u64(j, v))
#define ML_JSON_KI64(j, k, v) (ml_json_key(j, k), ml_json_i64(j, v))
#define ML_JSON_KSTR(j, k, v) (ml_json_key(j, k), ml_json_cstr(j, v))
#define ML_JSON_KADDR(j, k, v) (ml_json_key(j, k), ml_json_addr(j, v))
#define ML_JSON_KBOOL(j, k, v) (ml_json_key(j, k), ml_json_bool(j, v))

#endif
