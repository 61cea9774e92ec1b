/* task: the threads of a process, iterated lazily from /proc/PID/task/. */
#ifndef MEMLENS_TASK_H
#define MEMLENS_TASK_H

#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An iterator over the threads of a process. It is lazy: it reads the task/ directory as
 * it goes, so a thread created after the iteration started may or may not be seen, and a
 * thread that exits before the iterator reaches it is skipped (or, for ml_tasks_next_tid,
 * may still be listed: opening it then gives -ESRCH). Collect quickly for a consistent
 * picture.
 */
typedef struct ml_tasks ml_tasks;

/**
 * Starts iterating the threads of process handle @p (not of a task handle: a task has
 * no task/ directory of its own).
 * @return 0; -ESRCH gone; -ENOTDIR/-ENOENT @p is a task handle; -EACCES; -ENOMEM.
 */
ML_API int ml_tasks_open(const ml_proc *p, ml_tasks **ret);

/** The next TID. @return 1 and *ret; 0 at the end; -errno on a directory read error. */
ML_API int ml_tasks_next_tid(ml_tasks *it, pid_t *ret);

/**
 * The next thread that can be opened, as a task handle (caller frees it with
 * ml_proc_free()). Threads that exit before they are opened are skipped.
 * @return 1 and *ret; 0 at the end; -ESRCH the process itself is gone; -errno.
 */
ML_API int ml_tasks_next(ml_tasks *it, ml_proc **ret);

ML_API void ml_tasks_free(ml_tasks *it);

/** The main thread (TID == PID) of process handle @p (a thread by its TID:
 *  ml_proc_task()). @return as ml_proc_task(). */
ML_API int ml_task_main_thread(const ml_proc *p, ml_proc **ret);

/**
 * The children of one thread (procfs's Task::children): task/TID/children, which lists
 * the processes this thread created that have not been reaped (a child is listed under
 * the thread that forked it; reparented orphans under the reaper thread). On a task
 * handle, that thread's; on a process handle, the main thread's (TID == PID). Needs
 * CONFIG_PROC_CHILDREN; the kernel warns that the list is not a consistent snapshot when
 * children come and go meanwhile.
 * @return the count, *ret (free()) and *ret_n; -ENOENT (no CONFIG_PROC_CHILDREN, or the
 *         main thread has exited); -ESRCH; -EACCES; -EBADMSG; -ENOMEM; -EINVAL.
 */
ML_API ssize_t ml_task_children_read(const ml_proc *p, pid_t **ret, size_t *ret_n);

/** Parses children text: PIDs separated by blanks. @return as above; -EBADMSG. */
ML_API ssize_t ml_task_children_parse(const char *buf, size_t len, pid_t **ret, size_t *ret_n);

#ifdef __cplusplus
}
#endif
#endif
