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
 * Fields 26-30, 35 and 45-52 are written only for a reader that may ptrace-read the target
 * (PTRACE_MODE_READ); for another, the kernel writes 1 in start_code and end_code of a process
 * with an address space, and 0 in the others: start_code == end_code == 1 marks such a record.
 * A task without an address space (a kernel thread, a zombie) has 0 in both for any reader.
 * kstkesp and kstkeip are 0 also for the reader that may, unless the task is exiting or
 * dumping core.
 */
typedef struct ml_stat {
	pid_t pid;                /**< (1) */
	/** (2) the comm, exact bytes without the parentheses, NUL-terminated: it may hold
	 *  ')', spaces and newlines. Truncated at ML_STAT_COMM_MAX bytes. */
	char comm[ML_STAT_COMM_MAX + 1];
	size_t comm_len;
	char state;               /**< (3) R S D Z T t X I P (ml_proc_state_from_char()) */
	pid_t ppid, pgrp, session; /**< (4-6) */
	int tty_nr;               /**< (7) major in bits 19-8, minor in 31-20 and 7-0 (ml_stat_tty_major()) */
	pid_t tpgid;              /**< (8) foreground process group of the tty, -1 none */
	uint32_t flags;           /**< (9) PF_* bits: ML_PF_* */
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

/** The scheduler state letter of stat field 3 (and status "State:"), decoded. */
typedef enum ml_proc_state {
	ML_STATE_UNKNOWN = 0,  /**< a letter this version does not know */
	ML_STATE_RUNNING,      /**< 'R' running or runnable */
	ML_STATE_SLEEPING,     /**< 'S' interruptible sleep */
	ML_STATE_DISK_SLEEP,   /**< 'D' uninterruptible sleep (procfs: Waiting) */
	ML_STATE_ZOMBIE,       /**< 'Z' exited, not reaped */
	ML_STATE_STOPPED,      /**< 'T' stopped by a signal */
	ML_STATE_TRACING_STOP, /**< 't' stopped by a tracer */
	ML_STATE_DEAD,         /**< 'X' (or 'x' before 3.13) being reaped */
	ML_STATE_WAKEKILL,     /**< 'K' (2.6.33-3.13 only) */
	ML_STATE_WAKING,       /**< 'W' (2.6.33-3.13 only) */
	ML_STATE_PARKED,       /**< 'P' (3.9-3.13, and 4.14+) a parked kernel thread */
	ML_STATE_IDLE,         /**< 'I' (4.14+) an idle kernel thread */
} ml_proc_state;

/** Decodes a state letter ('R', 'S', ...); ML_STATE_UNKNOWN for any other byte. */
ML_API ml_proc_state ml_proc_state_from_char(char c);
/** A name: "running", "sleeping", "disk-sleep", "zombie", "stopped", "tracing-stop",
 *  "dead", "wakekill", "waking", "parked", "idle", "unknown". */
ML_API const char *ml_proc_state_name(ml_proc_state s);

/**
 * PF_* bits of stat field 9 (flags), from include/linux/sched.h. Bits that were reused
 * across kernel versions are named for their meaning since Linux 6.1; older kernels are
 * described where the bit changed. ml_stat_flag_name() names any bit.
 */
#define ML_PF_VCPU             0x00000001u /**< running a virtual CPU (older kernels: 0x10) */
#define ML_PF_IDLE             0x00000002u /**< the idle task */
#define ML_PF_EXITING          0x00000004u /**< shutting down */
#define ML_PF_POSTCOREDUMP     0x00000008u /**< coredump done (5.17+; PF_EXITPIDONE before 5.10) */
#define ML_PF_IO_WORKER        0x00000010u /**< an io_uring worker (older kernels: PF_VCPU) */
#define ML_PF_WQ_WORKER        0x00000020u /**< a workqueue worker */
#define ML_PF_FORKNOEXEC       0x00000040u /**< forked but did not exec */
#define ML_PF_MCE_PROCESS      0x00000080u /**< process policy on machine-check errors */
#define ML_PF_SUPERPRIV        0x00000100u /**< used super-user privileges */
#define ML_PF_DUMPCORE         0x00000200u /**< dumped core */
#define ML_PF_SIGNALED         0x00000400u /**< killed by a signal */
#define ML_PF_MEMALLOC         0x00000800u /**< allocating memory to free memory */
#define ML_PF_NPROC_EXCEEDED   0x00001000u /**< set_user() found RLIMIT_NPROC exceeded */
#define ML_PF_USED_MATH        0x00002000u /**< the FPU state must be restored */
#define ML_PF_USER_WORKER      0x00004000u /**< a kernel thread cloned from a user process (6.4+) */
#define ML_PF_NOFREEZE         0x00008000u /**< never frozen */
#define ML_PF_KCOMPACTD        0x00010000u /**< kcompactd (6.x; PF_FROZEN before 5.17) */
#define ML_PF_KSWAPD           0x00020000u /**< kswapd */
#define ML_PF_MEMALLOC_NOFS    0x00040000u /**< allocations must not recurse into filesystems */
#define ML_PF_MEMALLOC_NOIO    0x00080000u /**< allocations must not start I/O */
#define ML_PF_LOCAL_THROTTLE   0x00100000u /**< throttled on the local writeback (PF_LESS_THROTTLE before 5.9) */
#define ML_PF_KTHREAD          0x00200000u /**< a kernel thread */
#define ML_PF_RANDOMIZE        0x00400000u /**< address-space layout is randomized */
#define ML_PF_NO_SETAFFINITY   0x04000000u /**< userland may not change the CPU affinity */
#define ML_PF_MCE_EARLY        0x08000000u /**< early kill on machine-check errors */
#define ML_PF_MEMALLOC_PIN     0x10000000u /**< allocations may be pinned (PF_MEMALLOC_NOCMA before 5.12) */
#define ML_PF_BLOCK_TS         0x20000000u /**< plug has timestamp (6.10+) */
#define ML_PF_SUSPEND_TASK     0x80000000u /**< this thread called freeze_processes() */

/** The name of PF_* bit @bit (0-31) as of Linux 6.x ("PF_KTHREAD"), or NULL for an unused bit. */
ML_API const char *ml_stat_flag_name(unsigned bit);

/** The major number of the controlling terminal (stat field 7); 0 when there is none. */
ML_API unsigned ml_stat_tty_major(const ml_stat *st);
/** The minor number of the controlling terminal (stat field 7). */
ML_API unsigned ml_stat_tty_minor(const ml_stat *st);

/**
 * The units a stat record is in, which stat itself does not carry: the page size (rss),
 * the clock ticks per second (times), and the wall-clock time of boot (starttime). They
 * are the running system's from ml_sysinfo_read(); a caller parsing a file saved on
 * another machine fills them with that machine's values (procfs's read_si).
 */
typedef struct ml_sysinfo {
	uint64_t page_size;      /**< bytes per page */
	uint64_t ticks_per_sec;  /**< sysconf(_SC_CLK_TCK): USER_HZ, 100 on common machines */
	int64_t boot_time_ns;    /**< wall-clock time of boot, ns since the epoch */
} ml_sysinfo;

/**
 * The running system's units: page size, clock ticks, and the boot time as
 * CLOCK_REALTIME - CLOCK_BOOTTIME (to the nanosecond; /proc/stat's btime is whole
 * seconds). @return 0; -EINVAL; -errno from clock_gettime.
 */
ML_API int ml_sysinfo_read(ml_sysinfo *ret);

/**
 * When the process started, as wall-clock ns since the epoch: boot time + starttime
 * ticks. Resolution is one tick (10 ms at USER_HZ 100); the kernel truncates, so the
 * true start is within one tick after the result. A wall clock stepped since boot
 * shifts it the same way it shifts /proc/stat's btime.
 * @return 0; -EINVAL (NULLs, ticks_per_sec 0); -ERANGE overflow.
 */
ML_API int ml_stat_start_time(const ml_stat *st, const ml_sysinfo *si, int64_t *ret_ns);

/** rss (field 24) in bytes: pages x si->page_size. @return 0; -EINVAL; -ERANGE. */
ML_API int ml_stat_rss_bytes(const ml_stat *st, const ml_sysinfo *si, uint64_t *ret);

/** Converts a count of clock ticks (utime, stime, ...) to nanoseconds (0 if ticks_per_sec is 0). */
ML_API uint64_t ml_ticks_to_ns(uint64_t ticks, const ml_sysinfo *si);

#ifdef __cplusplus
}
#endif
#endif
