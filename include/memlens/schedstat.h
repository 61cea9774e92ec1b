/* schedstat: a task's time on and waiting for a CPU (/proc/PID/schedstat). */
#ifndef MEMLENS_SCHEDSTAT_H
#define MEMLENS_SCHEDSTAT_H

#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** /proc/PID/schedstat (CONFIG_SCHED_INFO). */
typedef struct ml_schedstat {
	uint64_t run_ns;      /**< time spent on a CPU */
	uint64_t wait_ns;     /**< time spent runnable, waiting for a CPU */
	uint64_t timeslices;  /**< times run on a CPU */
} ml_schedstat;

/** Parses "RUN WAIT SLICES\n". @return 0; -EBADMSG. */
ML_API int ml_schedstat_parse(const char *buf, size_t len, ml_schedstat *ret);
/** Reads /proc/PID/schedstat. @return 0; -ENOENT; -ESRCH; -EBADMSG. */
ML_API int ml_schedstat_read(const ml_proc *p, ml_schedstat *ret);

#ifdef __cplusplus
}
#endif
#endif
