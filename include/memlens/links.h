/* links: the exe, cwd and root symbolic links of a process, with deletion told apart. */
#ifndef MEMLENS_LINKS_H
#define MEMLENS_LINKS_H

#include <stdbool.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The target of one of the process's links. */
typedef struct ml_link {
	/** The path as the kernel shows it relative to the reader's root, exact bytes,
	 *  NUL-terminated (len excludes the NUL), with a " (deleted)" suffix removed when the
	 *  file really was unlinked. */
	const char *path;
	size_t len;
	/** The file (or directory) was unlinked. On a live handle this is decided on the file
	 *  itself (its link count is 0, or the path no longer leads to it), so a file whose
	 *  name really ends in " (deleted)" is not mistaken for a deleted one. On a directory
	 *  tree (fixture) only the suffix is available. */
	bool deleted;
	/** 0, or the TID whose link (/proc/TID/) was read because the main thread has exited
	 *  (the process's own link is then unreadable; proc.h). */
	pid_t via_tid;
} ml_link;

/**
 * Reads /proc/PID/exe, /proc/PID/cwd or /proc/PID/root. Caveats the kernel imposes:
 * - reading needs ptrace read access (PTRACE_MODE_READ_FSCREDS): -EACCES otherwise;
 * - after the main thread of a multithreaded process has exited (pthread_exit), the
 *   process's own links are unreadable; the handle then reads the link of another live
 *   thread (via_tid says which); cwd and root are per-thread attributes (a thread can
 *   unshare(CLONE_FS)), so that thread's value is what is reported;
 * - a zombie or a kernel thread has no exe: -ESRCH for a zombie, -ENOENT for a kernel
 *   thread (whose cwd and root are "/").
 * @return 0; -ESRCH gone or zombie; -EACCES/-EPERM; -ENOENT; -ENOMEM.
 */
ML_API int ml_exe_read(const ml_proc *p, ml_link **ret);
ML_API int ml_cwd_read(const ml_proc *p, ml_link **ret);
ML_API int ml_root_read(const ml_proc *p, ml_link **ret);

/** Same as the above for any link name of the process directory ("exe", "cwd", "root"). */
ML_API int ml_link_read(const ml_proc *p, const char *name, ml_link **ret);

ML_API void ml_link_free(ml_link *l);

#ifdef __cplusplus
}
#endif
#endif
