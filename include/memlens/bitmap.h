/* bitmap: CPU and memory-node sets as the kernel prints them (status Cpus_allowed, cpuset lists). */
#ifndef MEMLENS_BITMAP_H
#define MEMLENS_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A set of small numbers (CPUs, NUMA nodes). Its size is the number of bits the text
 * described (a mask of 2 hex words: 64; a list: one past its highest member), so
 * ml_bitmap_test() beyond it is simply false.
 */
typedef struct ml_bitmap ml_bitmap;

/**
 * Parses the kernel's mask format ("%*pb"): hex words of up to 8 digits separated by
 * commas, most significant first ("ff,ffffffff"). A trailing newline is allowed.
 * @return 0; -EBADMSG; -ENOMEM; -EINVAL.
 */
ML_API int ml_bitmap_parse_mask(const char *buf, size_t len, ml_bitmap **ret);

/**
 * Parses the kernel's list format ("%*pbl"): comma-separated numbers and ranges
 * ("0-3,8,10-11"); empty text is the empty set. Members above 1<<24 are refused.
 * @return 0; -EBADMSG; -ENOMEM; -EINVAL.
 */
ML_API int ml_bitmap_parse_list(const char *buf, size_t len, ml_bitmap **ret);

/** How many bits the text described (see above). */
ML_API size_t ml_bitmap_size(const ml_bitmap *b);
/** True when @bit is in the set. */
ML_API bool ml_bitmap_test(const ml_bitmap *b, size_t bit);
/** How many members the set has. */
ML_API size_t ml_bitmap_count(const ml_bitmap *b);
/** The first member >= @from, or -1 when there is none (iterate: next(b, m + 1)). */
ML_API ssize_t ml_bitmap_next(const ml_bitmap *b, size_t from);
/** True when @a and @b have the same members (sizes may differ). */
ML_API bool ml_bitmap_equal(const ml_bitmap *a, const ml_bitmap *b);
ML_API void ml_bitmap_free(ml_bitmap *b);

#ifdef __cplusplus
}
#endif
#endif
