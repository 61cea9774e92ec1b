/* cgroup: a process's control groups (/proc/PID/cgroup) and its memory limits. */
#ifndef MEMLENS_CGROUP_H
#define MEMLENS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/mountinfo.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One line of /proc/PID/cgroup, `HIERARCHY:CONTROLLERS:PATH`.
 * cgroup v2 is the line with hierarchy 0 and no controllers ("0::/path"); a v1 line
 * names its hierarchy and the controllers bound to it ("4:memory:/a", "2:cpu,cpuacct:/",
 * "9:name=systemd:/"). All pointers are borrowed from the ml_cgroups.
 */
typedef struct ml_cgroup {
	uint32_t hierarchy;         /**< hierarchy ID; 0 for the v2 unified hierarchy */
	bool v2;                    /**< hierarchy 0 with an empty controller list */
	const char *controllers;    /**< the controller list as printed ("cpu,cpuacct"), NUL-terminated */
	const char *const *names;   /**< the same, split at ',' */
	size_t nnames;
	/**
	 * The path, exact bytes (NUL-terminated; the kernel does not escape it, so it may
	 * hold spaces or newlines), relative to the cgroup namespace root of the process
	 * that reads the file; it starts with "/.." when the target is outside that namespace.
	 */
	const char *path;
	size_t path_len;
	/** The kernel appended " (deleted)" (a v2 cgroup that was removed while the process,
	 *  now exiting, was in it); it is not part of @path. A live cgroup really named
	 *  "x (deleted)" cannot be told apart from this by the text alone. */
	bool deleted;
} ml_cgroup;

/** All cgroup lines of a process, in the kernel's order. */
typedef struct ml_cgroups ml_cgroups;

/**
 * Reads /proc/PID/cgroup of @p.
 * @return 0; -ESRCH gone; -EACCES/-EPERM; -ENOENT (kernel without cgroups); -EBADMSG;
 *         -ENOMEM; -EINVAL.
 */
ML_API int ml_cgroups_read(const ml_proc *p, ml_cgroups **ret);

/**
 * Parses /proc/PID/cgroup text. Because the kernel prints paths unescaped, a line that
 * does not start with `DIGITS:` continues the path of the line before it (the path held
 * a newline); a path that itself contains "\nDIGITS:...:" is inherently ambiguous.
 * @return 0; -EBADMSG (no leading record, or a line without two ':'); -ENOMEM; -EINVAL.
 */
ML_API int ml_cgroups_parse(const char *buf, size_t len, ml_cgroups **ret);

ML_API size_t ml_cgroups_count(const ml_cgroups *cg);
ML_API const ml_cgroup *ml_cgroups_get(const ml_cgroups *cg, size_t i);
/** The v2 line ("0::..."), or NULL. */
ML_API const ml_cgroup *ml_cgroups_v2(const ml_cgroups *cg);
/** The v1 line whose controller list holds @controller ("memory", "name=systemd"), or NULL. */
ML_API const ml_cgroup *ml_cgroups_v1(const ml_cgroups *cg, const char *controller);
ML_API void ml_cgroups_free(ml_cgroups *cg);

/**
 * Resolves the directory of a cgroup in the caller's view of the filesystem: among the
 * mounts of @mounts (the caller's mountinfo) of type "cgroup2" (@cg->v2) or of type
 * "cgroup" carrying the controller of @cg (v1), the one whose root is a prefix of
 * @cg->path gives mount_point + the rest of the path.
 * The result is a malloc'd NUL-terminated path (*ret_len bytes) the caller frees; it is
 * not checked for existence. When several mounts fit, the first in @mounts wins.
 * @return 0; -ENOENT no mount shows that cgroup (or the path starts with "/.."); -ENOMEM;
 *         -EINVAL.
 */
ML_API int ml_cgroup_dir(const ml_cgroup *cg, const ml_mountinfo *mounts, char **ret, size_t *ret_len);

/** "No limit": the value of a limit file that reads "max" (v2) or the page-rounded
 *  LONG_MAX a v1 memory controller shows when nothing is set. */
#define ML_CGROUP_UNLIMITED UINT64_MAX

/** A value read from a cgroup file: @err is 0 and @value valid, or @err is -ENOENT
 *  (no such file: the controller is not enabled there, a root cgroup, an older kernel),
 *  -EACCES/-EPERM, -EBADMSG or another -errno. */
typedef struct ml_cgroup_value {
	int err;
	uint64_t value;             /**< bytes, or ML_CGROUP_UNLIMITED */
} ml_cgroup_value;

/** The memory controller's view of a process's cgroup. */
typedef struct ml_cgroup_memory {
	int version;                /**< 2 (unified) or 1 (v1 memory hierarchy) */
	const char *dir;            /**< the cgroup directory that was read (NUL-terminated) */
	size_t dir_len;
	const char *path;           /**< the cgroup path from /proc/PID/cgroup */
	size_t path_len;
	ml_cgroup_value max;        /**< v2 memory.max; v1 memory.limit_in_bytes */
	ml_cgroup_value high;       /**< v2 memory.high; v1 -ENOENT */
	ml_cgroup_value low;        /**< v2 memory.low; v1 -ENOENT */
	ml_cgroup_value min;        /**< v2 memory.min; v1 -ENOENT */
	ml_cgroup_value current;    /**< v2 memory.current; v1 memory.usage_in_bytes */
	ml_cgroup_value peak;       /**< v2 memory.peak (5.19+); v1 memory.max_usage_in_bytes */
	ml_cgroup_value swap_max;   /**< v2 memory.swap.max; v1 -ENOENT */
	ml_cgroup_value swap_current; /**< v2 memory.swap.current; v1 -ENOENT */
	ml_cgroup_value soft_limit; /**< v1 memory.soft_limit_in_bytes; v2 -ENOENT */
	ml_cgroup_value memsw_max;  /**< v1 memory.memsw.limit_in_bytes (memory + swap); v2 -ENOENT */
	/* Event counts since the cgroup was created (not bytes): */
	ml_cgroup_value events_max; /**< times usage hit the limit: v2 memory.events "max"; v1 memory.failcnt */
	ml_cgroup_value events_oom; /**< v2 memory.events "oom" (allocations that hit the limit and
	                                 failed to reclaim); v1 -ENOENT */
	ml_cgroup_value events_oom_kill; /**< processes the OOM killer killed in this cgroup:
	                                      v2 memory.events "oom_kill"; v1 memory.oom_control "oom_kill" */
	/**
	 * The limit that binds the process: the smallest @max of this cgroup and its
	 * ancestors up to the root of the mount (limits are hierarchical). -ENOENT when no
	 * level has a readable limit file.
	 */
	ml_cgroup_value effective_max;
	/** Directory (NUL-terminated, inside the mount) whose limit is @effective_max;
	 *  NULL when effective_max.err is not 0. */
	const char *effective_dir;
} ml_cgroup_memory;

/** Options of ml_cgroup_memory_read(); declare with ML_OPTS(ml_cgroup_memory_opts, o, ...). */
typedef struct ml_cgroup_memory_opts {
	size_t sz;
	/** The mount table to resolve directories in; NULL reads the caller's own
	 *  /proc/self/mountinfo (the cgroup paths in /proc/PID/cgroup are relative to the
	 *  caller's cgroup namespace too). */
	const ml_mountinfo *mounts;
	/** The process's cgroups; NULL reads them from the handle. */
	const ml_cgroups *cgroups;
	/** Prefer v1 even where the v2 cgroup has memory files (mostly for tests). */
	bool prefer_v1;
} ml_cgroup_memory_opts;

/**
 * Finds the process's memory cgroup and reads its limits and usage. The v2 cgroup is
 * used when its directory has memory.current (or memory.max); otherwise the v1 hierarchy
 * with the "memory" controller; otherwise the v2 directory with every value -ENOENT.
 * Where "/proc/self/mountinfo" shows no cgroup2 mount, "/sys/fs/cgroup" is tried when it
 * is a cgroup2 filesystem. Files that are absent or unreadable are reported per value,
 * not as a failure of the whole call.
 * @return 0 and *ret (free with ml_cgroup_memory_free()); -ENOENT no cgroup directory
 *         could be found in the caller's view; -ESRCH/-EACCES reading the process's
 *         cgroup file; -ENOMEM; -EINVAL.
 */
ML_API int ml_cgroup_memory_read(const ml_proc *p, const ml_cgroup_memory_opts *opts, ml_cgroup_memory **ret);
ML_API void ml_cgroup_memory_free(ml_cgroup_memory *m);

/**
 * Parses the contents of one cgroup memory file: a decimal number of bytes, or "max"
 * (ML_CGROUP_UNLIMITED), with an optional trailing newline. v1's "no limit" value
 * (9223372036854771712, LONG_MAX rounded down to a 4 KiB page) is returned as is; the
 * reader maps it.
 * @return 0; -EBADMSG; -EINVAL.
 */
ML_API int ml_cgroup_value_parse(const char *buf, size_t len, uint64_t *ret);

/**
 * Finds the line "@key VALUE" in a flat keyed cgroup file (memory.events,
 * memory.oom_control, memory.stat: one "name number" per line) and parses VALUE.
 * @return 0; -ENOENT no such key; -EBADMSG its value is not a number; -EINVAL.
 */
ML_API int ml_cgroup_keyed_parse(const char *buf, size_t len, const char *key, uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
