/* ml_freeze: holds every thread of a process still with PTRACE_SEIZE + PTRACE_INTERRUPT (no SIGSTOP). */
#ifndef MEMLENS_FREEZE_H
#define MEMLENS_FREEZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A frozen process. Every thread is attached with PTRACE_SEIZE and stopped with
 * PTRACE_INTERRUPT; `task/` is re-scanned until a scan finds no thread that is not held
 * and the process's own thread count (Threads: in status) agrees, and threads created
 * meanwhile are caught (PTRACE_O_TRACECLONE attaches them at birth).
 * No signal is sent to the process, so it sees no SIGSTOP/SIGCONT and job control is
 * untouched; system calls interrupted by the stop are restarted by the kernel when the
 * thread resumes. If the holder dies, the kernel detaches every thread and the process
 * runs on by itself.
 *
 * ptrace binds tracees to the tracing *thread*: every call on an ml_freeze must come from
 * the thread that created it. Reading memory (process_vm_readv) while frozen may be done
 * from any thread.
 */
typedef struct ml_freeze ml_freeze;

/** Options of ml_freeze_start(); zero fields mean the default. */
typedef struct ml_freeze_opts {
	size_t sz;
	/** How long to wait for all threads to stop (a thread in uninterruptible sleep stops
	 *  only when it leaves the kernel), in nanoseconds. Default 5 s. When the freeze fails,
	 *  the threads already asked to stop are waited for as long again before they are let
	 *  go (ml_freeze_start()). */
	uint64_t timeout_ns;
	/** Re-scans of task/ before giving up on a process that keeps creating threads. Default 1000. */
	unsigned max_rounds;
} ml_freeze_opts;

/** How a held thread was found when it stopped. */
typedef enum ml_freeze_stop {
	ML_FREEZE_INTERRUPTED = 0, /**< stopped by PTRACE_INTERRUPT (the normal case) */
	ML_FREEZE_SIGNAL,          /**< about to take a signal; it is delivered again on release */
	ML_FREEZE_GROUP_STOPPED,   /**< already stopped by job control (SIGSTOP...); stays so on release */
	ML_FREEZE_NEW_THREAD,      /**< created during the freeze, held from birth */
	ML_FREEZE_CLONING,         /**< stopped on returning from clone() (its new thread is held too) */
} ml_freeze_stop;

/**
 * Freezes every thread of the live process @p. A thread that has exited while the others
 * run (a leader that called pthread_exit(), a zombie still listed in task/) is not held.
 * @param o options or NULL.
 * @return 0 and *ret once every thread is stopped;
 *         -ESRCH the process is gone (or exec'd);
 *         -EPERM/-EACCES not allowed to trace it (needs ptrace access: same user and
 *          kernel.yama.ptrace_scope permitting, or CAP_SYS_PTRACE);
 *         -EBUSY it, or one of its threads, is already traced by another tracer (a debugger);
 *         -ETIMEDOUT a thread did not stop within the timeout, or the process counted
 *          a thread that no scan of task/ showed until then;
 *         -EAGAIN threads kept appearing for max_rounds scans;
 *         -EINVAL @p is not a live handle; -ENOMEM.
 *
 * On every failure everything is released: the threads already stopped are let go as by
 * ml_freeze_release(), and those asked to stop that have not stopped yet (threads born
 * meanwhile included) are first waited for, up to timeout_ns again, so a failure can take
 * twice timeout_ns. No thread is left stopped or traced, with one exception that ptrace
 * leaves no way around, since it can detach only a stopped thread: a thread that stays in
 * uninterruptible sleep through both waits (state D: a vfork() parent until its child execs
 * or exits, a read from an unresponsive NFS server...) stays attached to the calling thread.
 * When it leaves the kernel it enters a ptrace stop (state t) and stays there until the
 * calling thread exits (the kernel then detaches it) or freezes the process again (which
 * takes it back, and lets it go with the others). Such a thread is what -ETIMEDOUT
 * reports; after another failure it takes a thread that was interrupted in such a sleep
 * and stays in it for timeout_ns more.
 */
ML_API int ml_freeze_start(const ml_proc *p, const ml_freeze_opts *o, ml_freeze **ret);

/** Number of threads held. Threads are ordered: the thread-group leader first, then by TID. */
ML_API size_t ml_freeze_count(const ml_freeze *f);
/** TID of held thread @i, or 0 if out of range. */
ML_API pid_t ml_freeze_tid(const ml_freeze *f, size_t i);
/** How thread @i was stopped. */
ML_API ml_freeze_stop ml_freeze_stop_kind(const ml_freeze *f, size_t i);
/** The signal thread @i was about to take (ML_FREEZE_SIGNAL), or the group-stop signal, else 0. */
ML_API int ml_freeze_signal(const ml_freeze *f, size_t i);
/** Monotonic time (CLOCK_MONOTONIC, ns) at which the first thread was asked to stop. */
ML_API uint64_t ml_freeze_started_ns(const ml_freeze *f);

/**
 * Reads register set @type (an ELF note type: NT_PRSTATUS = 1 for the general registers,
 * NT_FPREGSET = 2, NT_X86_XSTATE = 0x202, ...) of held thread @i with PTRACE_GETREGSET
 * into @buf of @len bytes.
 * @return the number of bytes the kernel filled in; -ENODEV the set is not active or not
 *         known on this machine; -ERANGE index out of range; -ESRCH the thread died;
 *         -EINVAL not held (released).
 */
ML_API ssize_t ml_freeze_regset(const ml_freeze *f, size_t i, unsigned type, void *buf, size_t len);

/**
 * Reads the siginfo of thread @i's pending stop signal (ML_FREEZE_SIGNAL only) into @buf
 * (128 bytes, the kernel's siginfo_t).
 * @return 0; -ENOENT the thread was not stopped by a signal; -ERANGE; -ESRCH.
 */
ML_API int ml_freeze_siginfo(const ml_freeze *f, size_t i, void *buf, size_t len);

/**
 * Lets every thread run again (PTRACE_DETACH, re-delivering any signal a thread was
 * about to take). Safe to call once; later calls return 0.
 * @return 0; -ESRCH if the process died while held (the handle is released anyway).
 */
ML_API int ml_freeze_release(ml_freeze *f);

/** Releases (if not yet released) and frees. NULL is fine. */
ML_API void ml_freeze_free(ml_freeze *f);

#ifdef __cplusplus
}
#endif
#endif
