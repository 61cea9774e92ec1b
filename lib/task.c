/* Threads of a process: a lazy walk of task/, skipping threads that exit mid-walk. */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <memlens/stat.h>
#include <memlens/task.h>

#include "internal/pinfo.h"

struct ml_tasks {
	const ml_proc *p;
	DIR *dir;
	size_t yielded;
};

int ml_tasks_open(const ml_proc *p, ml_tasks **ret)
{
	if (!p || !ret)
		return -EINVAL;
	int fd = ml_proc_openat(p, "task", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	ml_tasks *it = calloc(1, sizeof(*it));
	if (!it) {
		close(fd);
		return -ENOMEM;
	}
	it->dir = fdopendir(fd);
	if (!it->dir) {
		int r = ml_neg_errno();
		close(fd);
		free(it);
		return r;
	}
	it->p = p;
	*ret = it;
	return 0;
}

int ml_tasks_next_tid(ml_tasks *it, pid_t *ret)
{
	if (!it || !ret)
		return -EINVAL;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(it->dir);
		if (!e) {
			/* A reaped process's task/ reads as an error or as empty. */
			int r = errno ? -errno : 0;
			return r == -ENOENT ? -ESRCH : r;
		}
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || tid <= 0 || tid > INT32_MAX)
			continue;
		*ret = (pid_t)tid;
		return 1;
	}
}

int ml_tasks_next(ml_tasks *it, ml_proc **ret)
{
	if (!it || !ret)
		return -EINVAL;
	for (;;) {
		pid_t tid;
		int r = ml_tasks_next_tid(it, &tid);
		if (r == 0 && !it->yielded && ml_proc_is_live(it->p) && ml_proc_alive(it->p) == 0)
			return -ESRCH; /* not one live thread: the process is gone */
		if (r <= 0)
			return r;
		ml_proc *t;
		r = ml__task_open(it->p, tid, &t);
		if (r == -ESRCH || r == -ENOENT) {
			/* The thread went away. If the process did (reaped, or exec'd: its task/
			 * now lists the new image's threads), say so; the process's own stat still
			 * reads while only its leader has exited. */
			ml_stat st;
			if (ml_proc_is_live(it->p) && ml_stat_read(it->p, &st) == -ESRCH)
				return -ESRCH;
			continue;
		}
		if (r < 0)
			return r;
		it->yielded++;
		*ret = t;
		return 1;
	}
}

void ml_tasks_free(ml_tasks *it)
{
	if (!it)
		return;
	closedir(it->dir);
	free(it);
}

int ml_task_from_tid(const ml_proc *p, pid_t tid, ml_proc **ret)
{
	if (!p || tid <= 0 || !ret)
		return -EINVAL;
	return ml__task_open(p, tid, ret);
}

int ml_task_main_thread(const ml_proc *p, ml_proc **ret)
{
	if (!p || !ret)
		return -EINVAL;
	pid_t pid = ml_proc_pid(p);
	if (pid <= 0)
		return -ESRCH;
	return ml__task_open(p, pid, ret);
}
