/* ns: the namespaces of a process, from the /proc/PID/ns/ links. */
#ifndef MEMLENS_NS_H
#define MEMLENS_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One namespace of a process: the link /proc/PID/ns/NAME reads "TYPE:[INODE]"; the
 * namespace file it opens has the nsfs device and that inode. Two processes share a
 * namespace exactly when (dev, inode) are equal.
 */
typedef struct ml_ns {
	const char *name;   /**< link name: "cgroup", "ipc", "mnt", "net", "pid",
	                         "pid_for_children", "time", "time_for_children", "user", "uts", ... */
	const char *type;   /**< the type the link names ("pid" for pid_for_children), NUL-terminated */
	uint64_t inode;     /**< namespace inode number (valid when err == 0) */
	uint64_t dev;       /**< st_dev of the namespace file (makedev form, as stat(2) gives it);
	                         0 with dev_known false where only the link text was readable */
	bool dev_known;
	/** 0, or why this namespace could not be read: -ENOENT (the kernel lacks it, or a
	 *  pid_for_children whose namespace has no init yet), -EACCES/-EPERM (ptrace check
	 *  failed), -EBADMSG (link text not "TYPE:[N]"), -ESRCH (the process is a zombie:
	 *  only its pid and user namespaces remain readable). */
	int err;
	/** The path of the link as the caller can name it ("/proc/1234/ns/net", or
	 *  "DIR/ns/net" for a directory handle), NUL-terminated. Like procfs's
	 *  Namespace.path it names the PID, so it is not bound to the process: to use the
	 *  namespace (setns(2)), open it through the handle instead:
	 *  ml_proc_openat(p, "ns/net", O_RDONLY). */
	const char *path;
} ml_ns;

/** The namespaces of a process, sorted by name. */
typedef struct ml_namespaces ml_namespaces;

/**
 * Reads every entry of @p's ns/ directory (so types added by newer kernels appear too),
 * plus an -ENOENT entry for each known type the directory lacks, so that
 * ml_namespaces_find() answers for every known name. Each link is read with
 * readlinkat() and stat'ed with fstatat() relative to the handle's directory.
 * When the caller may not list ns/ (it is mode 0511: other users), the known names are
 * tried one by one, so each entry carries its own -EACCES/-EPERM instead of the call failing.
 * @return 0; -ESRCH gone (exited and reaped, exec'd, or nothing readable); -ENOENT no ns
 *         directory (not a process directory); -ENOMEM; -EINVAL.
 */
ML_API int ml_namespaces_read(const ml_proc *p, ml_namespaces **ret);

/**
 * Parses a link target "TYPE:[INODE]" (@len bytes). Writes the type's length to
 * *ret_type_len and the inode to *ret_inode.
 * @return 0; -EBADMSG; -EINVAL.
 */
ML_API int ml_ns_parse_link(const char *buf, size_t len, size_t *ret_type_len, uint64_t *ret_inode);

ML_API size_t ml_namespaces_count(const ml_namespaces *ns);
ML_API const ml_ns *ml_namespaces_get(const ml_namespaces *ns, size_t i);
/** The namespace whose link is named @name ("net"), or NULL if neither read nor known. */
ML_API const ml_ns *ml_namespaces_find(const ml_namespaces *ns, const char *name);
/** True when @a and @b were read and name the same namespace. */
ML_API bool ml_ns_same(const ml_ns *a, const ml_ns *b);
ML_API void ml_namespaces_free(ml_namespaces *ns);

#ifdef __cplusplus
}
#endif
#endif
