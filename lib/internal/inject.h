/* One system call run inside a ptrace-stopped thread of another process, safe against our own death at any moment. */
#ifndef MEMLENS_INTERNAL_INJECT_H
#define MEMLENS_INTERNAL_INJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <memlens/proc.h>

/*
 * Two pieces of code the injection runs, found in the target before it is stopped:
 * @sys_ret "syscall; xor r,r ...; ret" in [vdso] (the kernel's code, not the program's),
 * @sigreturn "mov $15, %rax; syscall" (the C library's signal-return trampoline).
 */
typedef struct ml__gadgets {
	uint64_t sys_ret;
	uint64_t sigreturn;
	uint64_t sigreturn_inode; /* of the file it was found in, to check it is still mapped */
	uint64_t vdso_start, vdso_end;
} ml__gadgets;

/* Finds the gadgets in @p. 0; -EOPNOTSUPP (why in @why, static text) when one is missing. */
int ml__gadgets_find(const ml_proc *p, ml__gadgets *g, const char **why);

/*
 * How a copy left behind by a dumper that died is known again (its zombie stays a child of
 * the target, exit signal 0, until someone reaps it): a copy that ran by itself exited
 * with ML__COPY_EXIT through its frame; one killed by PTRACE_O_EXITKILL had its
 * oom_score_adj set to ML__COPY_OOM_ADJ first, before it could be killed that way.
 */
#define ML__COPY_EXIT 109
#define ML__COPY_OOM_ADJ 999

/* What to run. */
typedef struct ml__inject_req {
	long nr;          /* system call number (x86_64) */
	uint64_t args[6];
	bool fork;        /* a clone without CLONE_VM: hold the new process, args[1] is set here */
} ml__inject_req;

typedef struct ml__inject_res {
	long ret;         /* the call's return value (-errno on failure) */
	pid_t child;      /* the new process (fork), our tracee: set on failure too (to kill and reap) */
	bool child_held;  /* it is held in a ptrace stop before its first instruction, killed if we die */
	bool thread_refused; /* -EOPNOTSUPP for this thread only (its stack, rseq, mask): try another */
} ml__inject_res;

/*
 * Runs @rq in thread @tid of @p, which must be ours and in a ptrace stop, with every
 * signal blocked in it meanwhile (a signal that comes waits in its queue, siginfo and all).
 * Afterwards the thread is stopped (at the call's exit) with its own mask and exactly its
 * own registers (a system call it was interrupted in keeps its -ERESTART* code, so the
 * kernel decides on the restart when it is let go), except that a thread stopped inside
 * an rseq critical section is moved to its abort handler, as the kernel would move it. If
 * we die at any moment the thread goes back to its own state by itself (a signal frame
 * written below its stack pointer, returned through with rt_sigreturn), and a new process
 * created meanwhile exits without running any of the program's code. docs/architecture.md.
 * @return 0 (the call's own result in res->ret); -ESRCH the thread died; -EOPNOTSUPP a
 *   32-bit thread, or this thread cannot be used (res->thread_refused; @why says);
 *   -EFAULT its stack could not be written, or the call faulted; other -errno from ptrace.
 *   res->child is set whenever a process was created, on failure too.
 */
/* Why stopped thread @tid of @p must take no injected call (a seccomp filter, syscall user
 * dispatch), or NULL. ml__inject() checks it first. */
const char *ml__inject_gate(const ml_proc *p, pid_t tid);

int ml__inject(const ml_proc *p, pid_t tid, const ml__gadgets *g, const ml__inject_req *rq,
	       ml__inject_res *res, const char **why);

/*
 * Reaps @child, a process a thread of @p created for us and that has exited: one thread of
 * @p (the leader first; the next one if it has exited or cannot be used) is seized, with no
 * ptrace options, and interrupted briefly to run wait4(child, WNOHANG|__WALL) in it, so that
 * the process is left with no zombie. @return 0; -errno (the zombie stays).
 */
int ml__reap_in(const ml_proc *p, pid_t child, const ml__gadgets *g);

typedef struct ml_freeze ml_freeze;
/*
 * With every thread of @p held by @f: makes one held thread run clone(CLONE_FILES, exit
 * signal 0) through ml__inject(); *child is the copy, held in a ptrace stop before its
 * first instruction and killed if we die. @return 0; -EOPNOTSUPP (why in @why); the
 * clone's -errno (why says); -ESRCH.
 */
int ml__freeze_fork(ml_freeze *f, const ml_proc *p, const ml__gadgets *g, pid_t *child, const char **why);

/*
 * Test hook, called at each step of an injection (0 registers read, 1-10 the injection,
 * 20-21 the final reaping; docs/architecture.md) with the thread it works on. Only tests
 * define it (to die at a step, send a signal, look at the thread); the library leaves the
 * weak reference unresolved, so in a program that does not define it nothing is called.
 */
__attribute__((weak, visibility("hidden"))) void ml__test_hook(int step, pid_t tid);
void ml__inject_step(int step, pid_t tid);

#endif
