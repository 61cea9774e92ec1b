/* Private helpers of the process-information readers (status, stat, limits, fdinfo...). */
#ifndef MEMLENS_INTERNAL_PINFO_H
#define MEMLENS_INTERNAL_PINFO_H

#include <memlens/bstr.h>

#include "internal/internal.h"

/* Reads file @name of @p and runs a caller-storage parser over it. */
int ml__read_parse(const ml_proc *p, const char *name,
		   int (*parse)(const char *buf, size_t len, void *ret), void *ret);

/* Opens task/TID of @p (ml_proc_task(), which also covers a group whose leader exited). */
int ml__task_open(const ml_proc *p, pid_t tid, ml_proc **ret);

#endif
