/* Small text helpers shared by the process-information readers. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <memlens/stat.h>

#include "internal/pinfo.h"

bool ml_bstr_eq(ml_bstr b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

int ml__read_parse(const ml_proc *p, const char *name,
		   int (*parse)(const char *buf, size_t len, void *ret), void *ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, name, &buf, &len);
	if (r < 0)
		return r;
	r = parse(buf, len, ret);
	free(buf);
	return r;
}

int ml__task_open(const ml_proc *p, pid_t tid, ml_proc **ret)
{
	/* ml_proc_task() keeps a handle valid while the leader has exited but the group
	 * runs, and refuses a thread that has itself exited or a process that exec'd. */
	return ml_proc_task(p, tid, ret);
}
