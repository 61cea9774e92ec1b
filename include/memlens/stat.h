/* stat: /proc/PID/stat, the one-line scheduler and accounting record, every field typed. */
#ifndef MEMLENS_STAT_H
#define MEMLENS_STAT_H

#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest comm kept; the kernel writes at most 63 bytes (a kernel thread's full name). */
#define ML_STAT_COMM_MAX 127

/**
 * /proc/PID/stat, field by field as proc_pid_stat(5) numbers them (pid is field 1).
 * Times are in clock ticks (sysconf(_SC_CLK_TCK)), except starttime which is ticks since
 * boot; vsize is bytes; rss is pages. Fields a kernel did not write are 0: nfields says
 * how many numbers followed the comm (52 fields in all since Linux 3.5).
 * kstkesp, kstkeip and wchan are 0 unless the reader may ptrace the target (and
 * kstkesp/kstkeip also for running tasks); start_code..env_end are 0 without that access.
 */
typedef struct ml_stat {
	pid_t pid;                /**< (1) */
	/** (2) the comm, exact bytes without the parentheses, NUL-terminated: it may hold
	 *  ')', spaces and newlines. Truncated at ML_STAT_COMM_MAX bytes. */
	char comm[ML_STAT_COMM_MAX + 1];
	size_t comm_len;
	char state;               /**< (3) R S D Z T t X I P */
	pid_t ppid, pgrp, session; /**< (4-6) */
	int tty_nr;               /**< (7) major in bits 15-8, minor in 31-20 and 7-0 */
	pid_t tpgid;              /**< (8) foreground process group of the tty, -1 none */
	uint32_t flags;           /**< (9) PF_* */
	uint64_t minflt, cminflt, majflt, cmajflt; /**< (10-13) */
	uint64_t utime, stime;    /**< (14-15) ticks */
	int64_t cutime, cstime;   /**< (16-17) ticks, waited-for children */
	int64_t priority, nice;   /**< (18-19) */
	int64_t num_threads;      /**< (20) */
	int64_t itrealvalue;      /**< (21) always 0 since 2.6.17 */
	uint64_t starttime;       /**< (22) ticks after boot */
	uint64_t vsize;           /**< (23) bytes */
	int64_t rss;              /**< (24) pages */
	uint64_t rsslim;          /**< (25) bytes (RLIMIT_RSS soft) */
	uint64_t start_code, end_code, start_stack; /**< (26-28) */
	uint64_t kstkesp, kstkeip; /**< (29-30) */
	uint64_t signal, blocked, sigignore, sigcatch; /**< (31-34) signals 1-31 only: use status */
	uint64_t wchan;           /**< (35) 0 or 1 (the symbol is in /proc/PID/wchan) */
	uint64_t nswap, cnswap;   /**< (36-37) always 0 */
	int exit_signal;          /**< (38) */
	int processor;            /**< (39) last CPU run on */
	uint32_t rt_priority;     /**< (40) */
	uint32_t policy;          /**< (41) SCHED_* */
	uint64_t delayacct_blkio_ticks; /**< (42) */
	uint64_t guest_time;      /**< (43) ticks */
	int64_t cguest_time;      /**< (44) ticks */
	uint64_t start_data, end_data, start_brk; /**< (45-47) */
	uint64_t arg_start, arg_end, env_start, env_end; /**< (48-51) */
	int exit_code;            /**< (52) as waitpid(2) reports it */
	unsigned nfields;         /**< fields present, counting pid and comm (52 on 3.5+) */
} ml_stat;

/**
 * Reads /proc/PID/stat (task/TID/stat for a task handle) into caller storage.
 * @return 0; -ESRCH gone; -EACCES; -EBADMSG malformed.
 */
ML_API int ml_stat_read(const ml_proc *p, ml_stat *ret);

/**
 * Parses stat text of @len bytes (need not be NUL-terminated). The comm ends at the last
 * ')' of the input, so a comm holding ") " cannot shift the fields. Fewer than 52 fields
 * (older kernels) is fine, at least through field 24 (rss) is required; a non-number is
 * -EBADMSG.
 */
ML_API int ml_stat_parse(const char *buf, size_t len, ml_stat *ret);

#ifdef __cplusplus
}
#endif
#endif
