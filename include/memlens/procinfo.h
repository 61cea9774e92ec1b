/* procinfo: the one-value files of /proc/PID (owner, loginuid, autogroup, wchan, OOM scores,
 * coredump_filter, personality, ksm_stat). */
#ifndef MEMLENS_PROCINFO_H
#define MEMLENS_PROCINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The owner of the process: the uid and gid of the /proc/PID directory (the effective
 * IDs, or root for an undumpable process). Either output may be NULL.
 * @return 0; -ESRCH gone; -EINVAL.
 */
ML_API int ml_uid_read(const ml_proc *p, uid_t *ret_uid, gid_t *ret_gid);

/** loginuid value meaning "never set" (the audit subsystem's (uid_t)-1). */
#define ML_LOGINUID_UNSET 4294967295u

/**
 * Reads /proc/PID/loginuid (the audit login uid; ML_LOGINUID_UNSET when not set).
 * @return 0; -ENOENT kernel without CONFIG_AUDIT; -ESRCH; -EBADMSG.
 */
ML_API int ml_loginuid_read(const ml_proc *p, uint32_t *ret);

/**
 * Parses a file holding one decimal integer and an optional newline (oom_score,
 * oom_score_adj, loginuid, sessionid...). @return 0; -EBADMSG.
 */
ML_API int ml_procinfo_int_parse(const char *buf, size_t len, int64_t *ret);

/** Reads /proc/PID/oom_score: the badness the OOM killer gives the process (0..2000). */
ML_API int ml_oom_score_read(const ml_proc *p, int *ret);
/** Reads /proc/PID/oom_score_adj (-1000..1000; -1000 exempts from the OOM killer). */
ML_API int ml_oom_score_adj_read(const ml_proc *p, int *ret);

/** The scheduler autogroup of a process (CONFIG_SCHED_AUTOGROUP). */
typedef struct ml_autogroup {
	uint64_t id;  /**< the N of "/autogroup-N" */
	int nice;     /**< the group's nice value */
} ml_autogroup;

/**
 * Parses "/autogroup-N nice V\n". Empty text is -ENODATA: the kernel prints nothing for
 * a task in the default group, one whose session has not called setsid() since boot
 * (init, what it starts without a new session, and every kernel thread).
 * @return 0; -ENODATA; -EBADMSG.
 */
ML_API int ml_autogroup_parse(const char *buf, size_t len, ml_autogroup *ret);
/** Reads /proc/PID/autogroup. @return 0; -ENODATA in the default group (see above); -ENOENT no
 *  autogroup support; -ESRCH; -EBADMSG. */
ML_API int ml_autogroup_read(const ml_proc *p, ml_autogroup *ret);

/**
 * Reads /proc/PID/wchan: the kernel function the task sleeps in, NUL-terminated into @buf
 * of @cap bytes (64 is plenty; longer names are cut). An empty string means running, or
 * the name is hidden from the caller (the kernel writes "0" for both): a caller that may not
 * ptrace-read the process finds the mark described in stat.h in its ml_stat.
 * @return the length; -ESRCH; -ENOENT (no CONFIG_KALLSYMS); -EINVAL.
 */
ML_API ssize_t ml_wchan_read(const ml_proc *p, char *buf, size_t cap);

/** Bits of coredump_filter (core(5)). */
enum {
	ML_COREDUMP_ANON_PRIVATE = 1u << 0,
	ML_COREDUMP_ANON_SHARED = 1u << 1,
	ML_COREDUMP_FILE_PRIVATE = 1u << 2,
	ML_COREDUMP_FILE_SHARED = 1u << 3,
	ML_COREDUMP_ELF_HEADERS = 1u << 4,
	ML_COREDUMP_HUGETLB_PRIVATE = 1u << 5,
	ML_COREDUMP_HUGETLB_SHARED = 1u << 6,
	ML_COREDUMP_DAX_PRIVATE = 1u << 7,
	ML_COREDUMP_DAX_SHARED = 1u << 8,
};

/** /proc/PID/coredump_filter. */
typedef struct ml_coredump_filter {
	/** False when the file exists but is empty: a process without an address space
	 *  (a kernel thread) has no filter. */
	bool set;
	uint32_t mask;  /**< ML_COREDUMP_* bits, when set */
} ml_coredump_filter;

/** Parses coredump_filter text (hex, e.g. "00000033\n"); empty input is "not set". */
ML_API int ml_coredump_filter_parse(const char *buf, size_t len, ml_coredump_filter *ret);
/**
 * Reads /proc/PID/coredump_filter. An absent file (kernel without CONFIG_ELF_CORE) is
 * -ENOENT; a present but empty one is success with set == false.
 * @return 0; -ENOENT; -ESRCH; -EACCES; -EBADMSG.
 */
ML_API int ml_coredump_filter_read(const ml_proc *p, ml_coredump_filter *ret);
/** The name of coredump_filter bit @bit (0-8): "anon-private", ..., or NULL. */
ML_API const char *ml_coredump_filter_bit_name(unsigned bit);

/** Parses personality text (8 hex digits). */
ML_API int ml_personality_parse(const char *buf, size_t len, uint32_t *ret);
/**
 * Reads /proc/PID/personality (personality(2) value: PER_* in the low byte, flags such as
 * ADDR_NO_RANDOMIZE 0x0040000 above). Needs ptrace attach access.
 * @return 0; -EACCES/-EPERM; -ESRCH; -EBADMSG.
 */
ML_API int ml_personality_read(const ml_proc *p, uint32_t *ret);
/** The name of personality flag bit @bit ("ADDR_NO_RANDOMIZE"...), or NULL if none. */
ML_API const char *ml_personality_flag_name(unsigned bit);

/** /proc/PID/ksm_stat: KSM (same-page merging) of the process. */
typedef struct ml_ksm_stat {
	uint64_t rmap_items;      /**< ksm_rmap_items */
	uint64_t zero_pages;      /**< ksm_zero_pages: pages merged with the zero page */
	uint64_t merging_pages;   /**< ksm_merging_pages */
	int64_t process_profit;   /**< ksm_process_profit, bytes (may be negative) */
	bool merge_any;           /**< ksm_merge_any: prctl(PR_SET_MEMORY_MERGE) */
	bool mergeable;           /**< ksm_mergeable: some VMA is MADV_MERGEABLE */
	uint32_t present;         /**< bit i: the i-th field above was in the file */
} ml_ksm_stat;

/** Parses ksm_stat text; unknown lines are ignored. @return 0; -EBADMSG. */
ML_API int ml_ksm_stat_parse(const char *buf, size_t len, ml_ksm_stat *ret);
/** Reads /proc/PID/ksm_stat. @return 0; -ENOENT (no CONFIG_KSM); -ESRCH; -EACCES. */
ML_API int ml_ksm_stat_read(const ml_proc *p, ml_ksm_stat *ret);

#ifdef __cplusplus
}
#endif
#endif
