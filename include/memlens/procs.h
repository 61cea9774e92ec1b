/* ml_procs: an iterator over the processes of /proc (or of a tree laid out like it), with pgrep's filters. */
#ifndef MEMLENS_PROCS_H
#define MEMLENS_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/bstr.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What ml_procs_next() reads besides stat and status (read anyway when a filter needs it). */
enum {
	ML_PROCS_CMDLINE = 1u << 0, /**< fill ml_procs_entry.cmdline */
	ML_PROCS_CGROUP = 1u << 1,  /**< fill ml_procs_entry.cgroup */
};

/**
 * Which processes to visit. Every filter that is set must match (they combine with AND);
 * none set visits every process. Declare with ML_OPTS(ml_procs_opts, o, ...).
 */
typedef struct ml_procs_opts {
	size_t sz;
	/** A directory laid out like /proc (PID directories, each with stat, status, and the
	 *  files the filters read); NULL is "/proc". */
	const char *root;
	/** Exact comm (the kernel's 15-byte task name, as stat shows it). */
	const char *comm;
	/** A POSIX extended regular expression searched (not anchored) in the comm, as pgrep
	 *  does; with @full, in the command line. */
	const char *pattern;
	/** Match @pattern against the command line, arguments joined by single spaces (pgrep
	 *  -f); a process with an empty command line (a kernel thread, a zombie) is matched
	 *  by its comm. */
	bool full;
	/** Match only processes whose effective UID is @uid. */
	bool match_uid;
	uid_t uid;
	/** Match only processes in this cgroup (v2 path as /proc/PID/cgroup shows it, e.g.
	 *  "/system.slice") or beneath it. */
	const char *cgroup;
	/** Also visit kernel threads (skipped by default: they have no user memory). */
	bool kernel_threads;
	/** Also visit the calling process (skipped by default; only on procfs). */
	bool self;
	/** ML_PROCS_* bits. */
	unsigned want;
} ml_procs_opts;

/** One process, as ml_procs_next() found it. Strings are borrowed until the next call. */
typedef struct ml_procs_entry {
	pid_t pid;
	/** stat field 22, clock ticks after boot: with @pid, the process's identity. */
	uint64_t starttime;
	ml_bstr comm;          /**< exact bytes of stat's comm (may hold any byte but NUL) */
	uid_t uid, euid;       /**< real and effective UID (status "Uid:") */
	bool kthread;          /**< PF_KTHREAD in stat's flags */
	char state;            /**< stat's state letter */
	/** The command line as the kernel gives it (arguments each followed by a NUL), when
	 *  ML_PROCS_CMDLINE was asked or -f matching read it; empty for a kernel thread. */
	ml_bstr cmdline;
	/** The v2 cgroup path (the "0::" line), when ML_PROCS_CGROUP was asked or the cgroup
	 *  filter read it; empty when the process has none (a v1-only system). */
	ml_bstr cgroup;
} ml_procs_entry;

/** Counts of what an iterator passed over, so nothing is dropped without a trace. */
typedef struct ml_procs_stats {
	size_t visited;   /**< PID directories looked at */
	size_t matched;   /**< entries returned */
	size_t kthreads;  /**< kernel threads skipped */
	size_t gone;      /**< exited between the directory listing and reading them */
	/** Not examined: its directory, or a file a filter or ML_PROCS_* needed, could not be
	 *  read (-EACCES/-EPERM). Each is named by ml_procs_get_denied(). */
	size_t denied;
} ml_procs_stats;

/**
 * A process the iterator listed but could not examine (counted in stats.denied): its PID
 * is known, not whether it matches the filters that were not decided yet, nor, when its
 * directory was denied, whether it is a kernel thread.
 */
typedef struct ml_procs_denied {
	pid_t pid;
	int err; /**< -EACCES or -EPERM */
	/** Its PID directory itself could not be opened, so nothing of it was read: on procfs,
	 *  what /proc mounted with hidepid=1 ("noaccess") does to another user's process. */
	bool dir_denied;
	/** stat's comm when stat was read (it then matched the comm filter and, without
	 *  @full, the pattern), else empty. */
	ml_bstr comm;
} ml_procs_denied;

typedef struct ml_procs ml_procs;

/**
 * Starts an iteration. The pattern is compiled here.
 * @return 0; -EINVAL bad @o or a pattern that does not compile; the root's open(2)
 *         -errno (-ENOENT, -EACCES...); -ENOMEM.
 */
ML_API int ml_procs_open(const ml_procs_opts *o, ml_procs **ret);

/**
 * The next process that matches, in the directory's order (ascending PIDs on procfs).
 * A process that exits while it is read is skipped and counted in stats.gone: each entry
 * was read through one open directory of that process, so its fields never mix two
 * processes that had the same PID. One that cannot be examined (permission) is skipped,
 * counted in stats.denied and named by ml_procs_get_denied().
 * @return 1 and *ret (borrowed until the next call); 0 at the end; -errno when the
 *         directory itself cannot be read.
 */
ML_API int ml_procs_next(ml_procs *it, const ml_procs_entry **ret);

/**
 * A handle on the process of the current entry, reading through the same directory the
 * entry was read from (ml_proc_open_at()): a process that exited since reads -ESRCH,
 * never another process that took its PID. It costs no pidfd; for a handle that also
 * detects exec, ml_proc_open() the PID and confirm with ml_procs_same().
 * @return 0; -EINVAL no current entry; as ml_proc_open_at().
 */
ML_API int ml_procs_proc(const ml_procs *it, ml_proc **ret);

/**
 * Whether @p is the process of the current entry: the entry's process still holds its
 * PID (so a handle opened on that PID after the entry was read is bound to it) and @p's
 * PID is that PID. @return 1 same; 0 not (it exited, or another PID); -EINVAL.
 */
ML_API int ml_procs_same(const ml_procs *it, const ml_proc *p);

/** What the iteration has passed over so far. */
ML_API ml_procs_stats ml_procs_get_stats(const ml_procs *it);

/**
 * The @i-th process counted in stats.denied, in the order they were met (0 <= @i <
 * stats.denied), so that none is dropped without its PID: a caller can name it, or tell
 * whether a PID it was asked for was denied rather than absent.
 * @return borrowed until the next ml_procs_next() or ml_procs_free(); NULL when @i is out
 *         of range or @it is NULL.
 */
ML_API const ml_procs_denied *ml_procs_get_denied(const ml_procs *it, size_t i);

ML_API void ml_procs_free(ml_procs *it);

#ifdef __cplusplus
}
#endif
#endif
