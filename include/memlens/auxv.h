/* auxv: the ELF auxiliary vector the kernel gave the process at exec (/proc/PID/auxv). */
#ifndef MEMLENS_AUXV_H
#define MEMLENS_AUXV_H

#include <stdbool.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One (type, value) pair; types are AT_* of <elf.h>. */
typedef struct ml_auxv_entry {
	uint64_t type, value;
} ml_auxv_entry;

/** Word size of the data: the target's, which differs from ours for a 32-bit process. */
typedef enum ml_auxv_layout {
	ML_AUXV_AUTO = 0, /**< decide from the data (see ml_auxv_parse()) */
	ML_AUXV_32 = 4,   /**< pairs of 32-bit words (i386, x32 and other compat processes) */
	ML_AUXV_64 = 8,   /**< pairs of 64-bit words */
} ml_auxv_layout;

/** The vector, without the terminating AT_NULL. */
typedef struct ml_auxv {
	const ml_auxv_entry *v;
	size_t n;
	unsigned word_size;  /**< 4 or 8: the layout that was used */
	bool terminated;     /**< an AT_NULL entry ended the data */
} ml_auxv;

/**
 * Parses auxv bytes in host byte order. With ML_AUXV_AUTO the 64-bit layout is taken
 * when every type before AT_NULL is a plausible AT_* value (< 4096) and the data ends at
 * or after an AT_NULL; otherwise the 32-bit one if it is plausible (a 32-bit vector read
 * as 64-bit pairs has its values in the upper half of each type); empty data is an empty
 * vector of the host's width. Data after AT_NULL is ignored.
 * @return 0; -EBADMSG not a plausible vector in the requested layout; -EINVAL; -ENOMEM.
 */
ML_API int ml_auxv_parse(const void *buf, size_t len, ml_auxv_layout layout, ml_auxv **ret);

/**
 * Reads /proc/PID/auxv (binary). Needs ptrace read access. A zombie's is -ESRCH; a
 * kernel thread (for which the kernel answers ESRCH though it runs) has an empty vector.
 * @return 0; -ESRCH; -EACCES/-EPERM; -EBADMSG; -ENOMEM.
 */
ML_API int ml_auxv_read(const ml_proc *p, ml_auxv_layout layout, ml_auxv **ret);

/** The value of the first entry of @type. @return true if present. */
ML_API bool ml_auxv_get(const ml_auxv *a, uint64_t type, uint64_t *ret);

/** "AT_PHDR", "AT_PAGESZ", ... for a known type, else NULL. */
ML_API const char *ml_auxv_type_name(uint64_t type);

ML_API void ml_auxv_free(ml_auxv *a);

#ifdef __cplusplus
}
#endif
#endif
