/* The process handle's hidden side: struct ml_proc and what lib/proc.c (the handle) and
 * lib/proc_leader.c (reading through a thread once the main thread has exited) share. */
#ifndef MEMLENS_INTERNAL_PROC_IMPL_H
#define MEMLENS_INTERNAL_PROC_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal/internal.h"

struct ml_proc {
	int dirfd;      /* /proc/PID, /proc/PID/task/TID, or a fixture directory */
	int pidfd;      /* thread-group pidfd, -1 if none */
	int sentinel;   /* maps fd opened with the handle, -1 if none */
	pid_t pid;      /* PID or TID; 0 if unknown */
	bool live;      /* on procfs */
	bool task;      /* a task/TID handle */
	bool lazy;      /* holds only the pidfd until a file is read (ml_proc_open_lazy) */
	bool sentinel_had_data;
	/* The process had not exec'd since it was created (PF_FORKNOEXEC) when the sentinel
	 * was opened: it may share that address space with another process, which keeps the
	 * sentinel reading after an exec, so its exec is watched in stat's flags (proc.c). */
	bool fork_noexec;
	/* Once the leader thread has exited while other threads run, what it gave up at its
	 * exit is read through /proc/TID of a thread that runs (lib/proc_leader.c). The
	 * readers take a const handle and may share it across threads: mu guards these. */
	pthread_mutex_t mu;
	bool leader_gone; /* seen exited while the group ran; for good (an exec ends the handle) */
	int via_fd;       /* /proc/TID of the thread read through, -1 while none is chosen */
	pid_t via_tid;
	/* pagemap opened through a thread once the leader was seen exited, where the handle's
	 * own sentinel was opened on the leader's empty maps: bound to the address space the
	 * group runs, so that an exec is seen even once the new image's leader has exited too.
	 * Set once under mu, read atomically; -1 if none (closed by release and free only). */
	int via_sentinel;
};

static inline void ml__close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static inline bool ml__proc_leader_gone(const ml_proc *p)
{
	return __atomic_load_n(&p->leader_gone, __ATOMIC_ACQUIRE);
}

/* ---- proc.c ---- */

/* The state letter and pid from the handle's own stat. -ESRCH if the task is gone. */
int ml__proc_stat_state(const ml_proc *p, char *state, pid_t *pid);
/* "Threads:" of the handle's status (0 if unreadable). */
unsigned long ml__proc_status_threads(const ml_proc *p);
/* PF_EXITING in the flags of stat under @dirfd: 1 set, 0 clear, -errno. */
int ml__stat_exiting(int dirfd, const char *name);
/* Opens the directory (and sentinel) of a lazy handle; 0 when it is open. */
int ml__proc_materialize(const ml_proc *p);

/* ---- proc_leader.c ---- */

/* What the leader gives up at its exit, and when to ask whether it has (proc_leader.c). */
enum { ML__RES_NONE, ML__RES_ASK, ML__RES_EMPTY, ML__RES_ON_FAILURE };
int ml__proc_leader_resource(const ml_proc *p, const char *name);
/* Whether the leader has exited while its group runs; sets leader_gone. With mu held. */
bool ml__proc_leader_exited_locked(ml_proc *p);
/* Opens via_sentinel if the handle has no sentinel on the address space. With mu held. */
void ml__proc_bind_sentinel_locked(ml_proc *p);
/* Whether the address space via_sentinel @fd is bound to has gone (EOF). */
bool ml__proc_via_sentinel_gone(int fd);
/* Forgets the thread read through. With mu held (or on a handle not shared). */
void ml__proc_drop_thread_locked(ml_proc *p);

/* One operation on a name relative to a directory fd: >= 0, or -errno. */
typedef int (*ml__dir_op)(int dfd, const char *name, void *arg);
/* Releases what an op returned (@r >= 0: an fd it opened) when it is not used. */
typedef void (*ml__dir_undo)(int r, void *arg);
/*
 * Runs @op on @name relative to the directory it is read through: the process's own, or for
 * what an exited leader gave up, a running thread's /proc/TID. *via: 0 or that TID.
 * @checked: the caller asks ml__proc_reread() when what it read came back empty; otherwise
 * a result through a thread that began to exit is released with @undo (may be NULL) and
 * @op is run again through another thread.
 */
int ml__proc_at(const ml_proc *p, const char *name, ml__dir_op op, ml__dir_undo undo, void *arg,
		bool checked, pid_t *via);

#endif
