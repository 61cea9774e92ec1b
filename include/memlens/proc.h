/* ml_proc: a handle bound for life to one process (or to a directory laid out like /proc/PID). */
#ifndef MEMLENS_PROC_H
#define MEMLENS_PROC_H

#include <stdbool.h>
#include <sys/types.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A process handle. It holds a pidfd (where the kernel has pidfds) and an fd on the
 * /proc/PID directory; every file is opened with openat() relative to that fd, so a
 * handle can never read another process after PID reuse. A handle on a live process also
 * keeps a sentinel fd on the process's `maps`, opened with the handle, which reads EOF
 * once the address space it was opened on is gone: that is how an exec in the target is
 * told apart from a process that still runs the image the handle was opened on. A process
 * that runs its parent's address space (a vfork() or posix_spawn() child before its exec,
 * a clone(CLONE_VM) child) leaves it to the parent when it execs, so the sentinel reads on:
 * for such a process the handle also watches, in stat, the flag that only an exec clears
 * (one stat read per check; docs/architecture.md).
 *
 * After the process exits, is reaped, exec's, or its PID is reused, every reader returns
 * -ESRCH. A read that returns 0 bytes is checked against liveness before it is reported
 * as empty (a zombie's maps read 0 bytes).
 *
 * A process whose main thread has exited (pthread_exit()) while other threads run is
 * alive: /proc/PID then shows that thread as a zombie and none of what it gave up at its
 * exit (the address space: maps, smaps, pagemap, mem, map_files/, cmdline, environ, auxv,
 * statm...; fd/, fdinfo/; exe, cwd, root; ns/, net/, the mount files). The handle reads
 * those through /proc/TID of a thread that runs, checked to be one of the process's
 * threads, and moves to another when that one exits; its stat and status stay the main
 * thread's (state Z). An exec by one of the threads ends the handle as any exec does,
 * also when the new image's main thread has exited in turn (for a handle opened after the
 * first exit, that needs ptrace read access: the address space is held through the
 * thread's pagemap). This needs one more file descriptor while it lasts, two for a handle
 * opened after the exit (docs/architecture.md).
 *
 * A handle is not safe for concurrent use from several threads unless each thread only
 * calls functions that take a `const ml_proc *` (all readers do).
 */
typedef struct ml_proc ml_proc;

/**
 * Opens process @pid through /proc.
 * @return 0 and *ret on success; -ESRCH no such process; -EACCES/-EPERM denied;
 *         -EINVAL pid <= 0 or ret NULL; -ENOMEM.
 */
ML_API int ml_proc_open(pid_t pid, ml_proc **ret);

/**
 * Like ml_proc_open(), holding one file descriptor instead of three until the first read:
 * only the pidfd is opened now; the /proc/PID directory and the exec sentinel are opened
 * (and proved to be the same process through the pidfd) when a file is first read, and
 * can be closed again with ml_proc_release(). PID reuse is caught exactly as with
 * ml_proc_open(): the pidfd pins the process. What is given up is exec detection before
 * the first read: the sentinel is opened then, so an exec between this call and the
 * first read goes unnoticed (procfs never detects exec at all). Reading memory with
 * process_vm_readv(2) (ml_mem_read(), a source's reads) opens nothing: it goes by the PID,
 * checked with the pidfd, and the handle stays lazy; only a process whose main thread has
 * exited, which has to be read through another thread, needs the directory then. Any
 * other read opens them, and as a lazy handle changes its own state on that first use,
 * it is not for concurrent use from several threads until it has read once. Without pidfds (or for a thread ID) this is ml_proc_open().
 * @return as ml_proc_open().
 */
ML_API int ml_proc_open_lazy(pid_t pid, ml_proc **ret);

/**
 * Closes the directory and sentinel fds of a live process handle (and the directory of the
 * thread it reads through, where the main thread has exited), keeping only its pidfd; the next read reopens them (see ml_proc_open_lazy()), so an exec while released
 * goes unnoticed. For tools that keep thousands of handles between reads.
 * @return 0; -EOPNOTSUPP the handle has no pidfd (a task handle, a directory tree, an
 *         old kernel): releasing would lose its identity; -EINVAL.
 */
ML_API int ml_proc_release(ml_proc *p);

/**
 * Opens a handle on any directory laid out like /proc/PID (a fixture, a saved tree; a
 * real /proc/PID directory works too). The directory fd is duplicated: the caller keeps
 * ownership of @dirfd. Such a handle has no pidfd; for a directory outside procfs it is
 * "alive" unless its `stat` says the process is a zombie or dead.
 * @return 0; -EBADF/-ENOTDIR bad @dirfd; -ENOMEM.
 */
ML_API int ml_proc_open_at(int dirfd, ml_proc **ret);

/** Like ml_proc_open_at() on the directory @path. @return as ml_proc_open_at(), or open(2)'s -errno. */
ML_API int ml_proc_open_path(const char *path, ml_proc **ret);

/** Opens the calling process (through /proc/self, resolved to its PID). */
ML_API int ml_proc_self(ml_proc **ret);

/**
 * Opens thread @tid of @p: a handle on task/TID with the same API. The task handle keeps
 * the parent's identity checks (it fails with -ESRCH when the process is gone).
 * @return 0; -ESRCH no such thread or process gone; -EINVAL.
 */
ML_API int ml_proc_task(const ml_proc *p, pid_t tid, ml_proc **ret);

/**
 * Liveness: 1 alive, 0 when the process is a zombie or dead (or, on a live handle, has
 * exec'd since the handle was opened, or was reaped). Negative -errno only on misuse.
 */
ML_API int ml_proc_alive(const ml_proc *p);

/**
 * Checks that @p still designates the process it was opened on, running the same image.
 * @return 0 if so, -ESRCH if it exited, was reaped, is a zombie or exec'd.
 */
ML_API int ml_proc_check(const ml_proc *p);

/** The PID (or TID for a task handle); 0 for a directory handle whose stat was unreadable. */
ML_API pid_t ml_proc_pid(const ml_proc *p);

/** True for a handle on a live procfs process; false for a directory tree (fixture). */
ML_API bool ml_proc_is_live(const ml_proc *p);

/** The directory fd the handle reads through (borrowed; do not close); a lazy or released
 *  handle opens it now (-1 if the process is gone). It is the process's own directory:
 *  where its main thread has exited, what that thread gave up reads empty there, and
 *  ml_proc_openat() goes through a thread instead (see the handle above). */
ML_API int ml_proc_dirfd(const ml_proc *p);

/** The pidfd, or -1 when the kernel has none or the handle is not on a live process (borrowed). */
ML_API int ml_proc_pidfd(const ml_proc *p);

/**
 * The escape hatch: opens @name relative to the process directory (procfs's open_relative),
 * or for a process whose main thread has exited, what that thread gave up relative to the
 * directory of a thread that runs (see the handle above).
 * O_CLOEXEC is always added. @name must be relative and must not contain "..".
 * @return an fd the caller closes, or -errno (-ESRCH when the process is gone).
 */
ML_API int ml_proc_openat(const ml_proc *p, const char *name, int flags);

/**
 * Reads the whole file @name of the process into a NUL-terminated malloc'd buffer (*ret,
 * length in *ret_len, NUL not counted). An empty result is returned only after the
 * process is confirmed alive; otherwise -ESRCH.
 * @return 0; -ESRCH gone; -EACCES/-EPERM denied; -ENOENT no such file; -ENOMEM; -EIO.
 */
ML_API int ml_proc_read_file(const ml_proc *p, const char *name, char **ret, size_t *ret_len);

/**
 * Reads the target of the symbolic link @name (exe, cwd, root, fd/N, ns/net...) as exact
 * bytes, NUL-terminated, into a malloc'd buffer.
 * @return 0; -ESRCH; -EACCES; -ENOENT; -ENOMEM.
 */
ML_API int ml_proc_readlink(const ml_proc *p, const char *name, char **ret, size_t *ret_len);

/** Frees a handle (NULL is fine); closes its fds. */
ML_API void ml_proc_free(ml_proc *p);

#ifdef __cplusplus
}
#endif
#endif
