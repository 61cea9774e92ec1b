/* clear_refs: writing /proc/PID/clear_refs, and probing whether soft-dirty tracking works. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include <memlens/clear_refs.h>
#include <memlens/pagemap.h>

int ml_clear_refs_write(const ml_proc *p, ml_clear_refs_what what)
{
	if (!p || what < ML_CLEAR_REFS_ALL || what > ML_CLEAR_REFS_PEAK_RSS)
		return -EINVAL;
	int fd = ml_proc_openat(p, "clear_refs", O_WRONLY);
	if (fd < 0)
		return fd;
	char c = (char)('0' + (int)what);
	ssize_t n;
	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	int err = n == 1 ? 0 : n < 0 ? ml_neg_errno() : -EIO;
	close(fd);
	/* a zombie's clear_refs accepts the write and does nothing */
	int alive = ml_proc_is_live(p) ? ml_proc_check(p) : 0;
	return alive < 0 ? alive : err;
}

const char *ml_soft_dirty_state_name(ml_soft_dirty_state s)
{
	switch (s) {
	case ML_SOFT_DIRTY_WORKS: return "works";
	case ML_SOFT_DIRTY_ABSENT: return "absent";
	default: return "unknown";
	}
}

/* Reads the pagemap entry of @addr in process @pid. */
static int entry_of(int fd, uint64_t addr, uint64_t *ret)
{
	ssize_t n = pread(fd, ret, 8, (off_t)((addr >> ML_PAGE_SHIFT) * 8));
	return n == 8 ? 0 : n < 0 ? ml_neg_errno() : -EIO;
}

static int write_clear_refs(pid_t pid, char v)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	ssize_t n = write(fd, &v, 1);
	int r = n == 1 ? 0 : ml_neg_errno();
	close(fd);
	return r;
}

/*
 * The child: maps and dirties a page, reports its address, then dirties it again each
 * time it is told to. It only calls async-signal-safe functions (we may be threaded).
 */
static void probe_child(int rfd, int wfd)
{
	volatile char *pg = mmap(NULL, ML_PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		_exit(1);
	pg[0] = 1;
	uint64_t a = (uintptr_t)pg;
	if (write(wfd, &a, sizeof(a)) != (ssize_t)sizeof(a))
		_exit(1);
	char c;
	while (read(rfd, &c, 1) == 1) {
		pg[0] = c;
		if (write(wfd, &c, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static struct {
	pthread_mutex_t mu;
	bool done;
	ml_soft_dirty_state state;
} probe = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int do_probe(ml_soft_dirty_state *ret)
{
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0)
		return ml_neg_errno();
	if (pipe2(from, O_CLOEXEC) < 0) {
		int r = ml_neg_errno();
		close(to[0]);
		close(to[1]);
		return r;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int r = ml_neg_errno();
		close(to[0]); close(to[1]); close(from[0]); close(from[1]);
		return r;
	}
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		probe_child(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	int r = -EIO, fd = -1;
	uint64_t addr;
	char c = 2;
	if (read(from[0], &addr, sizeof(addr)) != (ssize_t)sizeof(addr))
		goto out;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = ml_neg_errno();
		goto out;
	}
	uint64_t e0, e1, e2;
	if ((r = entry_of(fd, addr, &e0)) < 0 || (r = write_clear_refs(pid, '4')) < 0 ||
	    (r = entry_of(fd, addr, &e1)) < 0)
		goto out;
	if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1) {
		r = -EIO;
		goto out;
	}
	if ((r = entry_of(fd, addr, &e2)) < 0)
		goto out;
	/* Works: set after the first write, cleared by "4", set again by the next write. */
	if (ml_pme_soft_dirty(e0) && !ml_pme_soft_dirty(e1) && ml_pme_soft_dirty(e2))
		*ret = ML_SOFT_DIRTY_WORKS;
	else if (!ml_pme_soft_dirty(e0) && !ml_pme_soft_dirty(e2))
		*ret = ML_SOFT_DIRTY_ABSENT;
	else
		*ret = ML_SOFT_DIRTY_UNKNOWN;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	close(to[1]);
	close(from[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return r;
}

int ml_clear_refs_probe(ml_soft_dirty_state *ret)
{
	if (!ret)
		return -EINVAL;
	pthread_mutex_lock(&probe.mu);
	int r = 0;
	if (!probe.done) {
		ml_soft_dirty_state s = ML_SOFT_DIRTY_UNKNOWN;
		r = do_probe(&s);
		if (r == 0) {
			probe.state = s;
			probe.done = true;
		}
	}
	if (r == 0)
		*ret = probe.state;
	pthread_mutex_unlock(&probe.mu);
	return r;
}
