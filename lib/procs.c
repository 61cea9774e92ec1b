/* The process iterator: walks the PID directories of /proc (or a tree like it) with pgrep's filters. */
#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <memlens/procs.h>
#include <memlens/stat.h>

#include "internal/internal.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

struct ml_procs {
	int rootfd;
	DIR *dir;
	bool procfs;
	pid_t self;
	char *comm;
	bool has_re;
	regex_t re;
	bool full, match_uid, kernel_threads, want_self;
	uid_t uid;
	char *cgroup;
	size_t cgroup_len;
	unsigned want;

	int cur_dirfd; /* the current entry's PID directory, -1 before the first */
	ml_procs_entry e;
	char *cmdline, *cgline; /* storage behind e.cmdline / e.cgroup */
	size_t cmdline_cap;
	ml_procs_stats st;
	ml_procs_denied *denied; /* st.denied of them; each comm malloc'd (or "") */
	size_t denied_cap;
	char commbuf[ML_STAT_COMM_MAX + 1];
};

static void close_cur(ml_procs *it)
{
	if (it->cur_dirfd >= 0)
		close(it->cur_dirfd);
	it->cur_dirfd = -1;
}

int ml_procs_open(const ml_procs_opts *o, ml_procs **ret)
{
	if (!o || !ret)
		return -EINVAL;
	ML_OPTS(ml_procs_opts, opts);
	if (ML_OPTS_LOAD(&opts, o) < 0)
		return -EINVAL;
	ml_procs *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->cur_dirfd = -1;
	it->rootfd = -1;
	int r = 0;
	if (opts.pattern) {
		int rc = regcomp(&it->re, opts.pattern, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			free(it);
			return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
		}
		it->has_re = true;
	}
	if ((opts.comm && !(it->comm = strdup(opts.comm))) || (opts.cgroup && !(it->cgroup = strdup(opts.cgroup)))) {
		r = -ENOMEM;
		goto fail;
	}
	if (it->cgroup) {
		it->cgroup_len = strlen(it->cgroup);
		/* "/a/" names the same cgroup as "/a" */
		while (it->cgroup_len > 1 && it->cgroup[it->cgroup_len - 1] == '/')
			it->cgroup[--it->cgroup_len] = '\0';
	}
	it->full = opts.full;
	it->match_uid = opts.match_uid;
	it->uid = opts.uid;
	it->kernel_threads = opts.kernel_threads;
	it->want_self = opts.self;
	it->want = opts.want;
	it->rootfd = open(opts.root ? opts.root : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (it->rootfd < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	struct statfs fs;
	it->procfs = fstatfs(it->rootfd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
	it->self = getpid();
	int dfd = fcntl(it->rootfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0 || !(it->dir = fdopendir(dfd))) {
		r = ml_neg_errno();
		if (dfd >= 0)
			close(dfd);
		goto fail;
	}
	*ret = it;
	return 0;
fail:
	ml_procs_free(it);
	return r;
}

void ml_procs_free(ml_procs *it)
{
	if (!it)
		return;
	close_cur(it);
	if (it->dir)
		closedir(it->dir);
	if (it->rootfd >= 0)
		close(it->rootfd);
	if (it->has_re)
		regfree(&it->re);
	free(it->comm);
	free(it->cgroup);
	free(it->cmdline);
	free(it->cgline);
	for (size_t i = 0; i < it->st.denied; i++)
		if (it->denied[i].comm.len)
			free((char *)it->denied[i].comm.ptr);
	free(it->denied);
	free(it);
}

/* Counts and names a process that could not be examined; -ENOMEM. */
static int add_denied(ml_procs *it, pid_t pid, int err, bool dir_denied, const ml_bstr *comm)
{
	int r = ml__grow(&it->denied, &it->denied_cap, it->st.denied + 1, sizeof(*it->denied));
	if (r < 0)
		return r;
	ml_procs_denied *d = &it->denied[it->st.denied];
	*d = (ml_procs_denied){ .pid = pid, .err = err, .dir_denied = dir_denied, .comm = { "", 0 } };
	if (comm && comm->len) {
		char *c = malloc(comm->len + 1);
		if (!c)
			return -ENOMEM;
		memcpy(c, comm->ptr, comm->len);
		c[comm->len] = '\0';
		d->comm = (ml_bstr){ c, comm->len };
	}
	it->st.denied++;
	return 0;
}

/* Reads file @name of the directory @dfd whole: 0, or -errno (-ESRCH for a process gone). */
static int read_at(int dfd, const char *name, char **buf, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : ml_neg_errno();
	int r = ml__read_fd_all(fd, 4096, buf, len);
	close(fd);
	return r;
}

/* Reads the real and effective UID from status. */
static int read_uids(int dfd, uid_t *uid, uid_t *euid)
{
	/* "Uid:" is among the first lines; one read of 1 KiB holds it after any Name */
	char buf[1024];
	ssize_t n = ml__read_small(dfd, "status", buf, sizeof(buf));
	if (n == -ENOENT || n == 0)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	const char *s = strstr(buf, "\nUid:");
	if (!s)
		return -EBADMSG;
	const char *p = s + 5, *end = buf + n;
	uint64_t v[2];
	for (int i = 0; i < 2; i++) {
		ml__skip_blank(&p, end);
		if (ml__parse_dec(&p, end, &v[i]) < 0)
			return -EBADMSG;
	}
	*uid = (uid_t)v[0];
	*euid = (uid_t)v[1];
	return 0;
}

/* The "0::" line of a cgroup file, into it->cgline; an empty path when there is none. */
static int read_cgroup(ml_procs *it, int dfd)
{
	char *buf;
	size_t len;
	int r = read_at(dfd, "cgroup", &buf, &len);
	if (r < 0)
		return r;
	const char *p = buf, *end = buf + len;
	it->e.cgroup = (ml_bstr){ "", 0 };
	free(it->cgline);
	it->cgline = buf;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		if (le - p >= 3 && memcmp(p, "0::", 3) == 0) {
			it->e.cgroup = (ml_bstr){ p + 3, (size_t)(le - p - 3) };
			break;
		}
		p = le + 1;
	}
	return 0;
}

static bool cgroup_match(const ml_procs *it)
{
	const ml_bstr *c = &it->e.cgroup;
	if (c->len < it->cgroup_len || memcmp(c->ptr, it->cgroup, it->cgroup_len) != 0)
		return false;
	if (c->len == it->cgroup_len || (it->cgroup_len == 1 && it->cgroup[0] == '/'))
		return true;
	return c->ptr[it->cgroup_len] == '/';
}

/* Regex over exact bytes: the text is copied NUL-terminated, with NULs turned to @nul. */
static int pat_match(ml_procs *it, const char *s, size_t len, char nul)
{
	char stackbuf[256], *t = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		t[i] = s[i] ? s[i] : nul;
	t[len] = '\0';
	int m = regexec(&it->re, t, 0, NULL, 0) == 0;
	if (t != stackbuf)
		free(t);
	return m;
}

/* Fills it->e from the directory @dfd; 1 match, 0 no match, -errno. */
static int examine(ml_procs *it, int dfd)
{
	ml_procs_entry *e = &it->e;
	char buf[1025];
	ssize_t n = ml__read_small(dfd, "stat", buf, sizeof(buf));
	if (n == -ENOENT || n == 0)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	ml_stat st;
	int r = ml_stat_parse(buf, (size_t)n, &st);
	if (r < 0)
		return r;
	memset(e, 0, sizeof(*e));
	e->pid = st.pid;
	e->starttime = st.starttime;
	e->state = st.state;
	e->kthread = st.flags & ML_PF_KTHREAD;
	char *comm = it->commbuf;
	memcpy(comm, st.comm, st.comm_len + 1);
	e->comm = (ml_bstr){ comm, st.comm_len };
	if (e->kthread && !it->kernel_threads) {
		it->st.kthreads++;
		return 0;
	}
	if (it->comm && !(strlen(it->comm) == e->comm.len && memcmp(it->comm, comm, e->comm.len) == 0))
		return 0;
	if (it->has_re && !it->full) {
		r = pat_match(it, comm, e->comm.len, ' ');
		if (r <= 0)
			return r;
	}
	r = read_uids(dfd, &e->uid, &e->euid);
	if (r < 0)
		return r;
	if (it->match_uid && e->euid != it->uid)
		return 0;
	if ((it->want & ML_PROCS_CMDLINE) || (it->has_re && it->full)) {
		char *cl;
		size_t len;
		r = read_at(dfd, "cmdline", &cl, &len);
		if (r < 0)
			return r;
		free(it->cmdline);
		it->cmdline = cl;
		e->cmdline = (ml_bstr){ cl, len };
		if (it->has_re && it->full) {
			/* pgrep -f: arguments joined by spaces, without the last terminator */
			size_t l = len;
			if (l && cl[l - 1] == '\0')
				l--;
			r = l ? pat_match(it, cl, l, ' ') : pat_match(it, comm, e->comm.len, ' ');
			if (r <= 0)
				return r;
		}
	}
	if ((it->want & ML_PROCS_CGROUP) || it->cgroup) {
		r = read_cgroup(it, dfd);
		if (r < 0)
			return r;
		if (it->cgroup && !cgroup_match(it))
			return 0;
	}
	return 1;
}

int ml_procs_next(ml_procs *it, const ml_procs_entry **ret)
{
	if (!it || !ret)
		return -EINVAL;
	close_cur(it);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(it->dir);
		if (!de)
			return errno ? -errno : 0;
		const char *s = de->d_name;
		if (*s < '1' || *s > '9')
			continue;
		long pid = 0;
		while (*s >= '0' && *s <= '9' && pid < 1L << 30)
			pid = pid * 10 + (*s++ - '0');
		if (*s)
			continue;
		if (it->procfs && !it->want_self && pid == it->self)
			continue;
		it->st.visited++;
		int dfd = openat(it->rootfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			int err = ml_neg_errno();
			if (err == -ENOENT || err == -ESRCH) {
				it->st.gone++;
			} else if (err == -EACCES || err == -EPERM) {
				int r = add_denied(it, (pid_t)pid, err, true, NULL);
				if (r < 0)
					return r;
			}
			continue;
		}
		/* examine() fills the comm first: empty when stat itself was denied */
		it->e.comm = (ml_bstr){ "", 0 };
		int r = examine(it, dfd);
		if (r == 1) {
			it->cur_dirfd = dfd;
			it->st.matched++;
			*ret = &it->e;
			return 1;
		}
		close(dfd);
		if (r == -ESRCH || r == -ENOENT)
			it->st.gone++;
		else if (r == -EACCES || r == -EPERM) {
			r = add_denied(it, (pid_t)pid, r, false, &it->e.comm);
			if (r < 0)
				return r;
		} else if (r == -ENOMEM)
			return r;
		/* a malformed tree entry (-EBADMSG) is not a process: passed over */
	}
}

int ml_procs_proc(const ml_procs *it, ml_proc **ret)
{
	if (!it || !ret || it->cur_dirfd < 0)
		return -EINVAL;
	return ml_proc_open_at(it->cur_dirfd, ret);
}

int ml_procs_same(const ml_procs *it, const ml_proc *p)
{
	if (!it || !p || it->cur_dirfd < 0)
		return -EINVAL;
	if (ml_proc_pid(p) != it->e.pid)
		return 0;
	/* The directory pins the entry's process: while its stat still opens, the PID was
	 * never free, so a handle opened on it since is on this process. */
	int fd = openat(it->cur_dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

const ml_procs_denied *ml_procs_get_denied(const ml_procs *it, size_t i)
{
	return it && i < it->st.denied ? &it->denied[i] : NULL;
}

ml_procs_stats ml_procs_get_stats(const ml_procs *it)
{
	ml_procs_stats z = { 0 };
	return it ? it->st : z;
}
