/* Shared definitions of the memlens public API: export marker, option structs, version. */
#ifndef MEMLENS_COMMON_H
#define MEMLENS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported from libmemlens (everything else is hidden). */
#define ML_API __attribute__((visibility("default")))

/**
 * Declares and initialises an option struct whose first member is `size_t sz`, so the
 * library can tell which fields a caller compiled against:
 *     ML_OPTS(ml_dump_opts, o, .chunk_size = 256 << 10);
 * Fields not named are zero, which always means "the default".
 */
#define ML_OPTS(type, name, ...) type name = { .sz = sizeof(type), __VA_ARGS__ }

/** The library's version, "MAJOR.MINOR.PATCH". */
ML_API const char *ml_version(void);

/**
 * A description of a library error code: like strerror(-err), but worded for what memlens
 * returns (-ESRCH is "process is gone", -EBADMSG "malformed input", ...). Never NULL.
 */
ML_API const char *ml_strerror(int err);

/**
 * What the calling thread's last failure was about, in words, or "" when it had nothing
 * to add to its error code: which chunk of a snapshot is corrupt, which field of a core
 * is wrong, why a capture could not freeze or fork the target. The library's one way
 * to give an error's detail: functions whose documentation says "(detail)" clear it when
 * called and set it when they fail; read it right after such a call returned < 0, on the
 * same thread (it is per thread, like errno). Valid until that thread's next such call.
 * Never NULL.
 */
ML_API const char *ml_error_detail(void);

#ifdef __cplusplus
}
#endif
#endif
