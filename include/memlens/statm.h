/* statm: /proc/PID/statm, the seven memory counters in pages. */
#ifndef MEMLENS_STATM_H
#define MEMLENS_STATM_H

#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * /proc/PID/statm. All counts are in pages (sysconf(_SC_PAGESIZE) bytes; multiply with
 * ml_statm_page_size() for bytes). lib and dt are always 0 since Linux 2.6.
 */
typedef struct ml_statm {
	uint64_t size;     /**< total program size (VmSize) */
	uint64_t resident; /**< resident set (VmRSS) */
	uint64_t shared;   /**< resident file-backed and shared (RssFile + RssShmem) */
	uint64_t text;     /**< code (VmExe) */
	uint64_t lib;      /**< 0 */
	uint64_t data;     /**< data + stack (VmData + VmStk) */
	uint64_t dt;       /**< 0 */
} ml_statm;

/** Reads /proc/PID/statm into caller storage. @return 0; -ESRCH; -EACCES; -EBADMSG. */
ML_API int ml_statm_read(const ml_proc *p, ml_statm *ret);
/** Parses statm text: seven decimal numbers separated by single spaces. -EBADMSG otherwise. */
ML_API int ml_statm_parse(const char *buf, size_t len, ml_statm *ret);
/** The page size the counts are in (this machine's: statm has no unit of its own). */
ML_API uint64_t ml_statm_page_size(void);

#ifdef __cplusplus
}
#endif
#endif
