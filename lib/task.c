/* Threads of a process: a lazy walk of task/, skipping threads that exit mid-walk. */
#include <dirent.h>
#include <stdio.h>
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
	ml_tasks *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	int r = ml__proc_opendir(p, "task", &it->dir);
	if (r < 0) {
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

int ml_task_main_thread(const ml_proc *p, ml_proc **ret)
{
	if (!p || !ret)
		return -EINVAL;
	pid_t pid = ml_proc_pid(p);
	if (pid <= 0)
		return -ESRCH;
	return ml__task_open(p, pid, ret);
}

ssize_t ml_task_children_parse(const char *buf, size_t len, pid_t **ret, size_t *ret_n)
{
	if ((!buf && len) || !ret || !ret_n)
		return -EINVAL;
	const char *p = buf, *e = buf + len;
	pid_t *v = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		while (p < e && (*p == ' ' || *p == '\n' || *p == '\t'))
			p++;
		if (p == e)
			break;
		uint64_t pid;
		if (ml__parse_dec(&p, e, &pid) < 0 || pid == 0 || pid > INT32_MAX ||
		    (p < e && *p != ' ' && *p != '\n' && *p != '\t')) {
			free(v);
			return -EBADMSG;
		}
		if (ml__grow(&v, &cap, n + 1, sizeof(*v)) < 0) {
			free(v);
			return -ENOMEM;
		}
		v[n++] = (pid_t)pid;
	}
	*ret = v;
	*ret_n = n;
	return (ssize_t)n;
}

ssize_t ml_task_children_read(const ml_proc *p, pid_t **ret, size_t *ret_n)
{
	if (!p || !ret || !ret_n)
		return -EINVAL;
	char *buf;
	size_t len;
	/* Only a task directory has "children"; on a process handle take the main thread's. */
	int r = ml_proc_read_file(p, "children", &buf, &len);
	if (r == -ENOENT) {
		char name[48];
		snprintf(name, sizeof(name), "task/%d/children", (int)ml_proc_pid(p));
		r = ml_proc_read_file(p, name, &buf, &len);
	}
	if (r < 0)
		return r;
	ssize_t n = ml_task_children_parse(buf, len, ret, ret_n);
	free(buf);
	return n;
}
