/* The freeze's decisions that tests feed directly (lib/freeze.c). */
#ifndef MEMLENS_LIB_INTERNAL_FREEZE_H
#define MEMLENS_LIB_INTERNAL_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What a PTRACE_SEIZE refused with EPERM means, told from the thread's status text. */
typedef enum ml__seize_eperm {
	ML__SEIZE_GONE,   /* it is exiting (zombie or dead): the kernel refuses such a thread */
	ML__SEIZE_OURS,   /* we trace it already (attached at clone()), exiting or not */
	ML__SEIZE_BUSY,   /* another process traces it */
	ML__SEIZE_DENIED, /* we may not trace it */
} ml__seize_eperm;

/* @status: the thread's /proc status text, NUL-terminated; @self: our PID. */
ml__seize_eperm ml__seize_eperm_verdict(const char *status, pid_t self);

/*
 * Whether every thread the process's status text counts (Threads:) is held: @held threads
 * are stopped and held, @leader_held whether the leader is one of them (a leader in state Z
 * or X is counted but can never be held). Returns 1 yes, 0 not yet (a thread is counted
 * that no scan of task/ held: one still exiting, or one a listing missed), -1 the text has
 * no count.
 */
int ml__freeze_all_counted(const char *status, size_t held, bool leader_held);

/*
 * Test hook: called for each thread a scan of task/ lists and does not hold yet; true makes
 * the scan pass it over as if the listing had not shown it (a listing that stopped short).
 * Only tests define it; in the library it is an unresolved weak reference.
 */
__attribute__((weak, visibility("hidden"))) bool ml__test_freeze_unlisted(pid_t tid);

#endif
