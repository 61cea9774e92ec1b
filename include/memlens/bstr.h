/* ml_bstr: a borrowed run of exact bytes, as /proc text gives them (any byte, no NUL needed). */
#ifndef MEMLENS_BSTR_H
#define MEMLENS_BSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Exact bytes borrowed from the record that holds them (not NUL-terminated). */
typedef struct ml_bstr {
	const char *ptr;
	size_t len;
} ml_bstr;

/** A "name: value" pair of a /proc text file, both as exact bytes. */
typedef struct ml_kv {
	ml_bstr name, value;
} ml_kv;

/** True when @b holds exactly the NUL-terminated string @s. */
ML_API bool ml_bstr_eq(ml_bstr b, const char *s);

#ifdef __cplusplus
}
#endif
#endif
