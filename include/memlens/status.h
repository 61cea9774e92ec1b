/* status: /proc/PID/status as a typed record (identity, memory, signals, capabilities, CPUs). */
#ifndef MEMLENS_STATUS_H
#define MEMLENS_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/bitmap.h>
#include <memlens/bstr.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The keys of /proc/PID/status the parser knows. ml_status_has() tells which ones the
 * file held: keys come and go between kernel versions (Kthread 6.9, THP_enabled 6.5,
 * untag_mask 6.4, Ngid needs NUMA balancing, x86_Thread_features needs shadow stacks).
 */
typedef enum ml_status_key {
	ML_STATUS_NAME = 0, ML_STATUS_UMASK, ML_STATUS_STATE, ML_STATUS_TGID, ML_STATUS_NGID,
	ML_STATUS_PID, ML_STATUS_PPID, ML_STATUS_TRACERPID, ML_STATUS_UID, ML_STATUS_GID,
	ML_STATUS_FDSIZE, ML_STATUS_GROUPS, ML_STATUS_NSTGID, ML_STATUS_NSPID,
	ML_STATUS_NSPGID, ML_STATUS_NSSID, ML_STATUS_KTHREAD,
	ML_STATUS_VMPEAK, ML_STATUS_VMSIZE, ML_STATUS_VMLCK, ML_STATUS_VMPIN, ML_STATUS_VMHWM,
	ML_STATUS_VMRSS, ML_STATUS_RSSANON, ML_STATUS_RSSFILE, ML_STATUS_RSSSHMEM,
	ML_STATUS_VMDATA, ML_STATUS_VMSTK, ML_STATUS_VMEXE, ML_STATUS_VMLIB, ML_STATUS_VMPTE,
	ML_STATUS_VMSWAP, ML_STATUS_HUGETLBPAGES, ML_STATUS_COREDUMPING, ML_STATUS_THP_ENABLED,
	ML_STATUS_UNTAG_MASK, ML_STATUS_THREADS, ML_STATUS_SIGQ, ML_STATUS_SIGPND,
	ML_STATUS_SHDPND, ML_STATUS_SIGBLK, ML_STATUS_SIGIGN, ML_STATUS_SIGCGT,
	ML_STATUS_CAPINH, ML_STATUS_CAPPRM, ML_STATUS_CAPEFF, ML_STATUS_CAPBND, ML_STATUS_CAPAMB,
	ML_STATUS_NONEWPRIVS, ML_STATUS_SECCOMP, ML_STATUS_SECCOMP_FILTERS,
	ML_STATUS_SPEC_STORE_BYPASS, ML_STATUS_SPEC_INDIRECT_BRANCH,
	ML_STATUS_CPUS_ALLOWED, ML_STATUS_CPUS_ALLOWED_LIST, ML_STATUS_MEMS_ALLOWED,
	ML_STATUS_MEMS_ALLOWED_LIST, ML_STATUS_VOLUNTARY_CTXT, ML_STATUS_NONVOLUNTARY_CTXT,
	ML_STATUS_X86_THREAD_FEATURES, ML_STATUS_X86_THREAD_FEATURES_LOCKED,
	ML_STATUS_KEY_COUNT
} ml_status_key;


/** A "Name:\tvalue" line the parser does not know (a newer kernel's), kept verbatim. */
typedef ml_kv ml_status_extra;

/**
 * /proc/PID/status. Sizes are in bytes (the kernel's kB x 1024); masks as the kernel's hex
 * numbers; a field whose key was absent is 0 (check ml_status_has()). Strings are
 * borrowed from the record and live until ml_status_free().
 */
typedef struct ml_status {
	uint64_t present[2];     /**< bit k set when key k (ml_status_key) was in the file */

	/** Name: the comm, unescaped (the kernel writes '\n' as "\\n" and '\\' as "\\\\"),
	 *  exact bytes, NUL-terminated (name_len excludes the NUL). */
	const char *name;
	size_t name_len;
	uint32_t umask;          /**< file mode creation mask (octal in the file) */
	char state;              /**< 'R', 'S', 'D', 'T', 't', 'X', 'Z', 'P', 'I' */
	ml_bstr state_desc;     /**< "running", "sleeping", ... */
	pid_t tgid, ngid, pid, ppid, tracer_pid;
	uid_t uid[4];            /**< real, effective, saved set, filesystem */
	gid_t gid[4];
	uint64_t fd_size;        /**< slots allocated in the file descriptor table */
	const gid_t *groups;     /**< supplementary groups */
	size_t n_groups;
	/** Outermost to innermost PID namespace: ns_tgid[n_ns - 1] is the ID in the
	 *  innermost namespace the process is in. Same length for all four. */
	const pid_t *ns_tgid, *ns_pid, *ns_pgid, *ns_sid;
	size_t n_ns;
	bool kthread;

	uint64_t vm_peak, vm_size, vm_lck, vm_pin, vm_hwm, vm_rss; /**< bytes */
	uint64_t rss_anon, rss_file, rss_shmem;                      /**< bytes */
	uint64_t vm_data, vm_stk, vm_exe, vm_lib, vm_pte, vm_swap;   /**< bytes */
	uint64_t hugetlb_pages;  /**< bytes of hugetlbfs memory mapped */
	bool core_dumping;       /**< a core dump is being written right now */
	bool thp_enabled;        /**< THP not disabled by prctl(PR_SET_THP_DISABLE) */
	uint64_t untag_mask;     /**< address untag mask (LAM); all ones when none */

	uint64_t threads;
	uint64_t sigq_queued, sigq_limit; /**< SigQ "queued/limit" */
	uint64_t sig_pnd, shd_pnd, sig_blk, sig_ign, sig_cgt; /**< bit N-1 = signal N */
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb; /**< bit N = capability N */
	bool no_new_privs;
	int seccomp;             /**< 0 disabled, 1 strict, 2 filter */
	uint64_t seccomp_filters;
	ml_bstr spec_store_bypass;   /**< e.g. "thread vulnerable", "not vulnerable" */
	ml_bstr spec_indirect_branch;
	ml_bstr cpus_allowed;        /**< hex mask as written ("3", "ff,ffffffff") */
	ml_bstr cpus_allowed_list;   /**< ranges as written ("0-1,4") */
	ml_bstr mems_allowed, mems_allowed_list;
	uint64_t n_cpus_allowed;      /**< bits set in Cpus_allowed */
	uint64_t voluntary_ctxt_switches, nonvoluntary_ctxt_switches;
	ml_bstr x86_thread_features, x86_thread_features_locked;

	const ml_status_extra *extra; /**< keys this parser does not know, in file order */
	size_t n_extra;
} ml_status;

/**
 * Reads /proc/PID/status (or task/TID/status for a task handle). A zombie's status
 * still reads (State 'Z', no Vm* lines).
 * @return 0; -ESRCH gone; -EACCES; -EBADMSG malformed; -ENOMEM.
 */
ML_API int ml_status_read(const ml_proc *p, ml_status **ret);

/**
 * Parses status text from @buf (@len bytes, need not be NUL-terminated). Unknown keys are
 * kept in extra[]; a known key whose value does not parse, or a line without ':', is
 * -EBADMSG. The record keeps its own copy of the bytes.
 */
ML_API int ml_status_parse(const char *buf, size_t len, ml_status **ret);

/** True when key @k was present in the parsed file. */
ML_API bool ml_status_has(const ml_status *s, ml_status_key k);

/** The kernel's spelling of key @k ("VmHWM", "Seccomp_filters"...), or NULL. */
ML_API const char *ml_status_key_name(ml_status_key k);

/**
 * Cpus_allowed of @s as a set: from the hex mask (@list false) or from
 * Cpus_allowed_list (@list true); both describe the same CPUs.
 * @return 0 and *ret (free with ml_bitmap_free()); -ENOENT the key was absent; -EBADMSG.
 */
ML_API int ml_status_cpus_allowed(const ml_status *s, bool list, ml_bitmap **ret);
/** Mems_allowed (or Mems_allowed_list) of @s as a set of NUMA nodes. @return as above. */
ML_API int ml_status_mems_allowed(const ml_status *s, bool list, ml_bitmap **ret);

ML_API void ml_status_free(ml_status *s);

#ifdef __cplusplus
}
#endif
#endif
