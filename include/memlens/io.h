/* io: the I/O counters of a process (/proc/PID/io). */
#ifndef MEMLENS_IO_H
#define MEMLENS_IO_H

#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** /proc/PID/io (CONFIG_TASK_IO_ACCOUNTING). Bytes and call counts since start. */
typedef struct ml_io {
	uint64_t rchar, wchar;       /**< bytes passed to read/write-like calls */
	uint64_t syscr, syscw;       /**< read/write-like system calls */
	uint64_t read_bytes;         /**< bytes fetched from storage */
	uint64_t write_bytes;        /**< bytes sent to the page cache for storage */
	uint64_t cancelled_write_bytes; /**< of those, dropped (truncated before writeback) */
	uint32_t present;            /**< bit i: the i-th field above was in the file */
} ml_io;

/** Parses io text ("key: value" lines; unknown keys ignored). @return 0; -EBADMSG. */
ML_API int ml_io_parse(const char *buf, size_t len, ml_io *ret);
/**
 * Reads /proc/PID/io. Needs ptrace read access (PTRACE_MODE_READ_FSCREDS).
 * @return 0; -EACCES/-EPERM; -ESRCH; -ENOENT (no task I/O accounting); -EBADMSG.
 */
ML_API int ml_io_read(const ml_proc *p, ml_io *ret);

#ifdef __cplusplus
}
#endif
#endif
