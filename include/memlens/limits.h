/* limits: the resource limits of a process (/proc/PID/limits), soft and hard. */
#ifndef MEMLENS_LIMITS_H
#define MEMLENS_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "unlimited" (RLIM_INFINITY). */
#define ML_LIMIT_UNLIMITED UINT64_MAX
/** The resources, indexed as RLIMIT_* of <sys/resource.h> on Linux. */
#define ML_LIMIT_COUNT 16

/** One limit, in the unit the kernel states (bytes, seconds, us, files, ...). */
typedef struct ml_limit {
	uint64_t soft, hard;  /**< ML_LIMIT_UNLIMITED for "unlimited" */
	char units[16];       /**< as the file says: "bytes", "seconds", "" (nice, rtprio) */
	bool present;
} ml_limit;

/** All limits; lim[RLIMIT_AS] is the address-space limit, and so on. */
typedef struct ml_limits {
	ml_limit lim[ML_LIMIT_COUNT];
	unsigned n_unknown;   /**< lines naming a resource this library does not know */
} ml_limits;

/** Parses limits text (header line, then one line per resource). @return 0; -EBADMSG. */
ML_API int ml_limits_parse(const char *buf, size_t len, ml_limits *ret);
/**
 * Reads /proc/PID/limits. Readable by anyone on current kernels.
 * @return 0; -ESRCH; -EACCES; -EBADMSG.
 */
ML_API int ml_limits_read(const ml_proc *p, ml_limits *ret);
/** The file's name of resource @res ("Max address space"...), or NULL. */
ML_API const char *ml_limit_name(int res);
/** A short key for resource @res ("as", "memlock", "core", "nofile"...), or NULL. */
ML_API const char *ml_limit_key(int res);

#ifdef __cplusplus
}
#endif
#endif
