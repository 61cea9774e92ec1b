/* The freeze's decisions that tests feed directly (lib/freeze.c). */
#ifndef MEMLENS_LIB_INTERNAL_FREEZE_H
#define MEMLENS_LIB_INTERNAL_FREEZE_H

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

#endif
