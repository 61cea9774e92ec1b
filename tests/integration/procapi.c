/* The Process API helpers and the readers that only fixtures covered, on live processes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A forked child that runs @fn, writes one byte to say it is ready, then blocks reading
 * a pipe until it is closed (or sleeps when @sleep_instead). */
typedef struct kid {
	pid_t pid;
	int go;      /* write end the child blocks on */
} kid;

static kid fork_kid(void (*fn)(void *), void *arg, bool sleep_instead)
{
	int ready[2], go[2];
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (fn)
			fn(arg);
		char c = 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		if (sleep_instead)
			for (;;)
				sleep(100);
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return (kid){ pid, go[1] };
}

static void end_kid(kid *k)
{
	close(k->go);
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
}

/* Waits until the kid sleeps in the kernel (state S), so its wchan is settled. */
static void wait_sleeping(ml_proc *p)
{
	for (int i = 0; i < 20000; i++) {
		ml_stat st;
		ck_assert_int_eq(ml_stat_read(p, &st), 0);
		if (st.state == 'S')
			return;
		usleep(100);
	}
	ck_abort_msg("child never slept");
}

START_TEST(stat_helpers_on_a_fresh_child)
{
	ml_sysinfo si;
	ck_assert_int_eq(ml_sysinfo_read(&si), 0);
	ck_assert_uint_eq(si.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
	ck_assert_uint_eq(si.ticks_per_sec, (uint64_t)sysconf(_SC_CLK_TCK));
	int64_t t0 = now_ns();
	kid k = fork_kid(NULL, NULL, false);
	int64_t t1 = now_ns();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	wait_sleeping(p);
	ml_stat st;
	ml_status *s;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	/* started between t0 and t1; the kernel truncates to a tick, and the boot time
	 * itself is known to about a microsecond */
	int64_t start, tick = (int64_t)(1000000000 / si.ticks_per_sec);
	ck_assert_int_eq(ml_stat_start_time(&st, &si, &start), 0);
	ck_assert_int_ge(start, t0 - tick - 1000000);
	ck_assert_int_le(start, t1 + 1000000);
	/* RSS in the page size given: this machine's, or another's for a saved file */
	uint64_t rss;
	ck_assert_int_gt(st.rss, 0);
	ck_assert_int_eq(ml_stat_rss_bytes(&st, &si, &rss), 0);
	ck_assert_uint_eq(rss, (uint64_t)st.rss * (uint64_t)sysconf(_SC_PAGESIZE));
	ml_sysinfo other = si;
	other.page_size = 65536;
	ck_assert_int_eq(ml_stat_rss_bytes(&st, &other, &rss), 0);
	ck_assert_uint_eq(rss, (uint64_t)st.rss * 65536);
	ck_assert_int_eq(ml_proc_state_from_char(st.state), ML_STATE_SLEEPING);
	ck_assert_int_eq(ml_proc_state_from_char(s->state), ML_STATE_SLEEPING);
	ck_assert_uint_eq(st.flags & ML_PF_KTHREAD, 0);
	ck_assert_uint_ne(st.flags & ML_PF_FORKNOEXEC, 0); /* forked, never exec'd */
	ck_assert_uint_eq(ml_ticks_to_ns(st.utime, &si), st.utime * (1000000000 / si.ticks_per_sec));
	ml_status_free(s);
	ml_proc_free(p);
	end_kid(&k);
	/* a kernel thread carries PF_KTHREAD (kthreadd is PID 2 in the initial namespace) */
	ml_proc *kt;
	if (ml_proc_open(2, &kt) == 0) {
		ml_status *ks;
		if (ml_stat_read(kt, &st) == 0 && ml_status_read(kt, &ks) == 0) {
			if (ks->kthread)
				ck_assert_uint_ne(st.flags & ML_PF_KTHREAD, 0);
			ml_status_free(ks);
		}
		ml_proc_free(kt);
	}
}
END_TEST

static char slave_path[64];

static void take_tty(void *arg)
{
	(void)arg;
	if (setsid() < 0)
		_exit(4);
	int fd = open(slave_path, O_RDWR); /* the first tty a session leader opens becomes its own */
	if (fd < 0)
		_exit(5);
}

START_TEST(tty_major_minor_of_a_pty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		mlt_skip("no pseudo-terminals here (posix_openpt: %s)", strerror(errno));
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	snprintf(slave_path, sizeof(slave_path), "%s", ptsname(m));
	struct stat sb;
	ck_assert_int_eq(stat(slave_path, &sb), 0);
	kid k = fork_kid(take_tty, NULL, false);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_ne(st.tty_nr, 0);
	ck_assert_uint_eq(ml_stat_tty_major(&st), major(sb.st_rdev));
	ck_assert_uint_eq(ml_stat_tty_minor(&st), minor(sb.st_rdev));
	/* and we, without a terminal of that session, are not on it */
	ml_proc_free(p);
	end_kid(&k);
	close(m);
}
END_TEST

START_TEST(children_of_the_main_thread)
{
	kid a = fork_kid(NULL, NULL, false), b = fork_kid(NULL, NULL, false);
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	pid_t *v;
	size_t n;
	ssize_t r = ml_task_children_read(self, &v, &n);
	if (r == -ENOENT)
		mlt_skip("no task/TID/children (kernel without CONFIG_PROC_CHILDREN)");
	ck_assert_int_ge(r, 2);
	ck_assert_uint_eq((size_t)r, n);
	bool sa = false, sb = false;
	for (size_t i = 0; i < n; i++) {
		sa |= v[i] == a.pid;
		sb |= v[i] == b.pid;
	}
	ck_assert(sa && sb);
	free(v);
	/* through a task handle: the same list; once a child is reaped it is gone */
	ml_proc *t;
	ck_assert_int_eq(ml_task_main_thread(self, &t), 0);
	end_kid(&a);
	ck_assert_int_ge(ml_task_children_read(t, &v, &n), 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_ne(v[i], a.pid);
	bool still = false;
	for (size_t i = 0; i < n; i++)
		still |= v[i] == b.pid;
	ck_assert(still);
	free(v);
	ml_proc_free(t);
	ml_proc_free(self);
	end_kid(&b);
}
END_TEST

START_TEST(fd_access_mode)
{
	char path[] = "/tmp/ml_fdmode_XXXXXX";
	int w = mkstemp(path);
	ck_assert_int_ge(w, 0);
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY), rw = open(path, O_RDWR);
	ck_assert(ro >= 0 && wo >= 0 && rw >= 0);
	unlink(path);
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	const struct { int fd; uint16_t mode; } want[] = {
		{ ro, ML_FD_MODE_READ | ML_FD_MODE_EXEC },
		{ wo, ML_FD_MODE_WRITE | ML_FD_MODE_EXEC },
		{ rw, ML_FD_MODE_READ | ML_FD_MODE_WRITE | ML_FD_MODE_EXEC },
	};
	int found = 0;
	ml_fds *it;
	ml_fd f;
	ck_assert_int_eq(ml_fds_open(self, &it), 0);
	while (ml_fds_next(it, &f) == 1)
		for (size_t i = 0; i < 3; i++)
			if (f.fd == want[i].fd) {
				ck_assert_uint_eq(f.mode, want[i].mode);
				found++;
			}
	ml_fds_free(it);
	ck_assert_int_eq(found, 3);
	for (size_t i = 0; i < 3; i++) {
		ml_fdinfo *fi;
		ck_assert_int_eq(ml_fd_from_fd(self, want[i].fd, &fi), 0);
		ck_assert_uint_eq(fi->fd.mode, want[i].mode);
		/* the mode agrees with the open flags fdinfo shows */
		int acc = (int)(fi->flags & O_ACCMODE);
		ck_assert_int_eq(acc == O_RDONLY || acc == O_RDWR, (fi->fd.mode & ML_FD_MODE_READ) != 0);
		ck_assert_int_eq(acc == O_WRONLY || acc == O_RDWR, (fi->fd.mode & ML_FD_MODE_WRITE) != 0);
		ml_fdinfo_free(fi);
	}
	ml_proc_free(self);
	close(ro);
	close(wo);
	close(rw);
	close(w);
}
END_TEST

START_TEST(namespace_paths)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_namespaces *ns;
	ck_assert_int_eq(ml_namespaces_read(self, &ns), 0);
	size_t checked = 0;
	for (size_t i = 0; i < ml_namespaces_count(ns); i++) {
		const ml_ns *n = ml_namespaces_get(ns, i);
		char want[128];
		snprintf(want, sizeof(want), "/proc/%d/ns/%s", (int)getpid(), n->name);
		ck_assert_str_eq(n->path, want);
		if (n->err)
			continue;
		struct stat sb;
		ck_assert_int_eq(stat(n->path, &sb), 0);
		ck_assert_uint_eq((uint64_t)sb.st_ino, n->inode);
		checked++;
	}
	ck_assert_uint_ge(checked, 6);
	ml_namespaces_free(ns);
	ml_proc_free(self);
}
END_TEST

static void own_autogroup(void *arg)
{
	(void)arg;
	/* a new session gets a new autogroup; raising its nice needs no privilege */
	if (setsid() < 0)
		_exit(4);
	int fd = open("/proc/self/autogroup", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "7", 1) != 1)
			_exit(5);
		close(fd);
	}
}

START_TEST(autogroup_of_a_new_session)
{
	ml_proc *self, *p;
	ml_autogroup mine, theirs;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	int r = ml_autogroup_read(self, &mine);
	if (r == -ENOENT)
		mlt_skip("no /proc/PID/autogroup (kernel without CONFIG_SCHED_AUTOGROUP)");
	/* Either we have a group of our own, or our session never called setsid() since boot
	 * and we are in the default group (-ENODATA); both are checked for what they imply. */
	if (r != -ENODATA)
		ck_assert_int_eq(r, 0);
	bool in_default = r == -ENODATA;
	kid k = fork_kid(own_autogroup, NULL, false);
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	ck_assert_int_eq(ml_autogroup_read(p, &theirs), 0);
	if (!in_default)
		ck_assert_uint_ne(theirs.id, mine.id);
	ck_assert_int_eq(theirs.nice, 7);
	ml_proc_free(p);
	end_kid(&k);
	/* a child that stays in our session shares our group, the default one included */
	k = fork_kid(NULL, NULL, false);
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	r = ml_autogroup_read(p, &theirs);
	if (in_default) {
		ck_assert_int_eq(r, -ENODATA);
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(theirs.id, mine.id);
		ck_assert_int_eq(theirs.nice, mine.nice);
	}
	ml_proc_free(p);
	end_kid(&k);
	ml_proc_free(self);
}
END_TEST

static void set_loginuid(void *arg)
{
	int fd = open("/proc/self/loginuid", O_WRONLY);
	if (fd < 0)
		return;
	const char *v = arg;
	if (write(fd, v, strlen(v)) < 0) {
		/* not allowed here (no CAP_AUDIT_CONTROL, or loginuid is immutable): the child
		 * keeps the inherited value, which the test then expects */
	}
	close(fd);
}

START_TEST(loginuid_inherited_and_set)
{
	ml_proc *self, *p;
	uint32_t mine, theirs;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	int r = ml_loginuid_read(self, &mine);
	if (r == -ENOENT)
		mlt_skip("no /proc/PID/loginuid (kernel without CONFIG_AUDIT)");
	ck_assert_int_eq(r, 0);
	/* the reader against a plain read of the file */
	FILE *f = fopen("/proc/self/loginuid", "r");
	ck_assert_ptr_nonnull(f);
	unsigned long plain;
	ck_assert_int_eq(fscanf(f, "%lu", &plain), 1);
	fclose(f);
	ck_assert_uint_eq(mine, plain);
	kid k = fork_kid(NULL, NULL, false);
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	ck_assert_int_eq(ml_loginuid_read(p, &theirs), 0);
	ck_assert_uint_eq(theirs, mine);
	ml_proc_free(p);
	end_kid(&k);
	/* a child that sets its own (root with CAP_AUDIT_CONTROL may) */
	uint32_t want = mine == 4242 ? 4343 : 4242;
	char val[16];
	snprintf(val, sizeof(val), "%u", (unsigned)want);
	k = fork_kid(set_loginuid, val, false);
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	ck_assert_int_eq(ml_loginuid_read(p, &theirs), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)k.pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &plain), 1);
	fclose(f);
	ck_assert_uint_eq(theirs, plain);
	ck_assert(theirs == want || theirs == mine);
	ml_proc_free(p);
	end_kid(&k);
	ml_proc_free(self);
	if (theirs != want)
		mlt_skip("setting loginuid is not allowed here; only the inherited value was checked");
}
END_TEST

START_TEST(wchan_follows_where_it_sleeps)
{
	kid piped = fork_kid(NULL, NULL, false), sleeper = fork_kid(NULL, NULL, true);
	ml_proc *a, *b;
	ck_assert_int_eq(ml_proc_open(piped.pid, &a), 0);
	ck_assert_int_eq(ml_proc_open(sleeper.pid, &b), 0);
	wait_sleeping(a);
	wait_sleeping(b);
	char wa[128], wb[128];
	ssize_t na = ml_wchan_read(a, wa, sizeof(wa)), nb = ml_wchan_read(b, wb, sizeof(wb));
	if (na == -ENOENT)
		mlt_skip("no /proc/PID/wchan (kernel without CONFIG_KALLSYMS)");
	/* state S can be seen a moment before the task is off the run queue, when the
	 * kernel still writes "0": wait until both are settled in the kernel */
	for (int i = 0; i < 20000 && (na == 0 || nb == 0); i++) {
		usleep(100);
		na = ml_wchan_read(a, wa, sizeof(wa));
		nb = ml_wchan_read(b, wb, sizeof(wb));
	}
	ck_assert_int_ge(na, 0);
	ck_assert_int_ge(nb, 0);
	if (na == 0 && nb == 0)
		mlt_skip("wchan hidden from this caller (the kernel writes 0)");
	ck_assert_uint_eq(strlen(wa), (size_t)na);
	ck_assert_msg(strstr(wa, "pipe") != NULL, "blocked in read(pipe) but wchan is \"%s\"", wa);
	ck_assert_msg(strstr(wb, "sleep") != NULL, "in nanosleep but wchan is \"%s\"", wb);
	/* a buffer too small cuts the name, still NUL-terminated */
	char tiny[4];
	ck_assert_int_eq(ml_wchan_read(a, tiny, sizeof(tiny)), 3);
	ck_assert_mem_eq(tiny, wa, 3);
	ck_assert_int_eq(tiny[3], 0);
	ml_proc_free(a);
	ml_proc_free(b);
	end_kid(&piped);
	end_kid(&sleeper);
}
END_TEST

static void chroot_tmp(void *arg)
{
	if (chroot((const char *)arg) < 0)
		_exit(6);
}

START_TEST(root_link)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_link *l;
	ck_assert_int_eq(ml_root_read(self, &l), 0);
	char buf[4096];
	ssize_t n = readlink("/proc/self/root", buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(l->len, (size_t)n);
	ck_assert_mem_eq(l->path, buf, (size_t)n);
	ck_assert(!l->deleted);
	ml_link_free(l);
	ml_proc_free(self);
	if (geteuid() != 0)
		mlt_skip("chroot needs root; only our own root was checked");
	char dir[] = "/tmp/ml_root_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	kid k = fork_kid(chroot_tmp, dir, false);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(k.pid, &p), 0);
	ck_assert_int_eq(ml_root_read(p, &l), 0);
	ck_assert_str_eq(l->path, dir);
	ck_assert(!l->deleted);
	ml_link_free(l);
	/* the directory removed under it: deleted, decided on the directory itself */
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(ml_root_read(p, &l), 0);
	ck_assert(l->deleted);
	ck_assert_str_eq(l->path, dir);
	ml_link_free(l);
	ml_proc_free(p);
	end_kid(&k);
}
END_TEST

START_TEST(link_read_any_link)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_link *a, *b;
	ck_assert_int_eq(ml_link_read(self, "exe", &a), 0);
	ck_assert_int_eq(ml_exe_read(self, &b), 0);
	ck_assert_uint_eq(a->len, b->len);
	ck_assert_str_eq(a->path, b->path);
	ml_link_free(a);
	ml_link_free(b);
	/* a descriptor link: one file unlinked, one merely named " (deleted)" */
	char dir[] = "/tmp/ml_link_XXXXXX", p1[128], p2[128], name[32];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/gone", dir);
	snprintf(p2, sizeof(p2), "%s/kept (deleted)", dir);
	int f1 = open(p1, O_CREAT | O_RDWR, 0600), f2 = open(p2, O_CREAT | O_RDWR, 0600);
	ck_assert(f1 >= 0 && f2 >= 0);
	ck_assert_int_eq(unlink(p1), 0);
	snprintf(name, sizeof(name), "fd/%d", f1);
	ck_assert_int_eq(ml_link_read(self, name, &a), 0);
	ck_assert(a->deleted);
	ck_assert_str_eq(a->path, p1);
	ml_link_free(a);
	snprintf(name, sizeof(name), "fd/%d", f2);
	ck_assert_int_eq(ml_link_read(self, name, &a), 0);
	ck_assert(!a->deleted);
	ck_assert_str_eq(a->path, p2);
	ml_link_free(a);
	/* no such link, and a name that would leave the process directory */
	ck_assert_int_eq(ml_link_read(self, "fd/999999", &a), -ENOENT);
	ck_assert_int_eq(ml_link_read(self, "../1/exe", &a), -EINVAL);
	close(f1);
	close(f2);
	unlink(p2);
	rmdir(dir);
	ml_proc_free(self);
}
END_TEST

/* fork does not copy the page tables of a shared mapping: the child maps it by touching it */
static void touch_shared(void *arg)
{
	if (*(volatile char *)arg != 2)
		_exit(7);
}

START_TEST(kpage_count_of_shared_and_private_pages)
{
	ml_kpage *k;
	int r = ml_kpage_open(ML_KPAGE_COUNT, &k);
	if (r == -EACCES || r == -EPERM)
		mlt_skip("/proc/kpagecount needs CAP_SYS_ADMIN");
	if (r == -ENOENT)
		mlt_skip("no /proc/kpagecount (kernel without CONFIG_PROC_PAGE_MONITOR)");
	ck_assert_int_eq(r, 0);
	long ps = sysconf(_SC_PAGESIZE);
	char *priv = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(priv != MAP_FAILED && shared != MAP_FAILED);
	priv[0] = 1;
	shared[0] = 2;
	kid kd = fork_kid(touch_shared, shared, false); /* maps the shared page a second time */
	ml_proc *self;
	ml_pagemap *pm;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_pagemap_open(self, &pm), 0);
	ck_assert(ml_pagemap_pfn_visible(pm));
	uint64_t e[2], pfn[2], cnt[2];
	ck_assert_int_eq(ml_pagemap_read(pm, (uint64_t)(uintptr_t)shared, &e[0], 1), 1);
	/* our private page written after the fork: ours alone again */
	priv[0] = 3;
	ck_assert_int_eq(ml_pagemap_read(pm, (uint64_t)(uintptr_t)priv, &e[1], 1), 1);
	for (int i = 0; i < 2; i++) {
		ck_assert(e[i] & ML_PME_PRESENT);
		pfn[i] = e[i] & ML_PME_PFN_MASK;
		ck_assert_int_eq(ml_kpage_count(k, pfn[i], &cnt[i], 1), 1);
	}
	ck_assert_uint_eq(cnt[0], 2);
	ck_assert_uint_eq(cnt[1], 1);
	/* the batched lookup gives the same */
	uint64_t both[2];
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_COUNT, pfn, 2, both), 0);
	ck_assert_uint_eq(both[0], 2);
	ck_assert_uint_eq(both[1], 1);
	end_kid(&kd);
	ck_assert_int_eq(ml_kpage_count(k, pfn[0], &cnt[0], 1), 1);
	ck_assert_uint_eq(cnt[0], 1);
	ml_pagemap_free(pm);
	ml_proc_free(self);
	ml_kpage_free(k);
	munmap(priv, (size_t)ps);
	munmap(shared, (size_t)ps);
}
END_TEST

START_TEST(cpus_and_mems_allowed_sets)
{
	ml_proc *self;
	ml_status *s;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_status_read(self, &s), 0);
	ml_bitmap *mask, *list;
	ck_assert_int_eq(ml_status_cpus_allowed(s, false, &mask), 0);
	ck_assert_int_eq(ml_status_cpus_allowed(s, true, &list), 0);
	ck_assert(ml_bitmap_equal(mask, list));
	ck_assert_uint_eq(ml_bitmap_count(mask), s->n_cpus_allowed);
	/* sched_getaffinity agrees */
	cpu_set_t cs;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(cs), &cs), 0);
	ck_assert_uint_eq(ml_bitmap_count(list), (size_t)CPU_COUNT(&cs));
	for (ssize_t c = ml_bitmap_next(list, 0); c >= 0; c = ml_bitmap_next(list, (size_t)c + 1))
		ck_assert(CPU_ISSET((int)c, &cs));
	ml_bitmap_free(mask);
	ml_bitmap_free(list);
	ck_assert_int_eq(ml_status_mems_allowed(s, false, &mask), 0);
	ck_assert_int_eq(ml_status_mems_allowed(s, true, &list), 0);
	ck_assert(ml_bitmap_equal(mask, list));
	ck_assert(ml_bitmap_test(list, 0) || ml_bitmap_count(list) > 0);
	ml_bitmap_free(mask);
	ml_bitmap_free(list);
	ml_status_free(s);
	ml_proc_free(self);
}
END_TEST

/* ---- network tables checked against an independent read of the same file ---- */

static FILE *proc_net(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/net/%s", name);
	return fopen(path, "r");
}

START_TEST(arp_and_route_match_the_text)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_net_arps *a;
	ml_net_routes *rt;
	ml_net_devs *d;
	ck_assert_int_eq(ml_net_arps_read(self, &a), 0);
	ck_assert_int_eq(ml_net_routes_read(self, &rt), 0);
	ck_assert_int_eq(ml_net_devs_read(self, &d), 0);
	/* every row, field by field, against sscanf of the file (tables that change under
	 * us would differ: neighbours and routes are quiet on a test machine) */
	FILE *f = proc_net("arp");
	ck_assert_ptr_nonnull(f);
	char line[512];
	size_t n = 0;
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f)) {
		unsigned ip[4], hw, fl;
		char mac[64], mask[32], dev[64];
		ck_assert_int_eq(sscanf(line, "%u.%u.%u.%u 0x%x 0x%x %63s %31s %63s", &ip[0], &ip[1], &ip[2],
					&ip[3], &hw, &fl, mac, mask, dev), 9);
		ck_assert_uint_lt(n, ml_net_arps_count(a));
		const ml_net_arp *e = ml_net_arps_get(a, n++);
		for (int i = 0; i < 4; i++)
			ck_assert_uint_eq(e->addr[i], ip[i]);
		ck_assert_uint_eq(e->hw_type, hw);
		ck_assert_uint_eq(e->flags, fl);
		ck_assert_str_eq(e->device, dev);
		ck_assert_ptr_nonnull(ml_net_devs_find(d, dev));
	}
	fclose(f);
	ck_assert_uint_eq(n, ml_net_arps_count(a));
	f = proc_net("route");
	ck_assert_ptr_nonnull(f);
	n = 0;
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f)) {
		char ifc[64];
		unsigned dst, gw, fl, mask;
		int ref, metric;
		unsigned use;
		ck_assert_int_eq(sscanf(line, "%63s %x %x %x %d %u %d %x", ifc, &dst, &gw, &fl, &ref, &use, &metric,
					&mask), 8);
		ck_assert_uint_lt(n, ml_net_routes_count(rt));
		const ml_net_route *e = ml_net_routes_get(rt, n++);
		ck_assert_str_eq(e->iface, ifc);
		uint32_t v;
		memcpy(&v, e->destination, 4);
		ck_assert_uint_eq(v, dst);
		memcpy(&v, e->gateway, 4);
		ck_assert_uint_eq(v, gw);
		memcpy(&v, e->mask, 4);
		ck_assert_uint_eq(v, mask);
		ck_assert_uint_eq(e->flags, fl);
		ck_assert_int_eq(e->metric, metric);
		ck_assert_ptr_nonnull(ml_net_devs_find(d, ifc));
	}
	fclose(f);
	ck_assert_uint_eq(n, ml_net_routes_count(rt));
	ml_net_arps_free(a);
	ml_net_routes_free(rt);
	ml_net_devs_free(d);
	ml_proc_free(self);
}
END_TEST

/* Counters read by the library lie between two plain reads around it. */
static int64_t snmp6_plain(const char *key)
{
	FILE *f = proc_net("snmp6");
	ck_assert_ptr_nonnull(f);
	char k[128];
	long long v;
	int64_t out = -1;
	while (fscanf(f, "%127s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			out = v;
	fclose(f);
	return out;
}

START_TEST(snmp6_and_dev_between_two_plain_reads)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	if (access("/proc/self/net/snmp6", R_OK) < 0)
		mlt_skip("no /proc/net/snmp6 (IPv6 disabled)");
	static const struct { const char *key, *proto, *name; } keys[] = {
		{ "Ip6InReceives", "Ip6", "InReceives" },
		{ "Ip6OutRequests", "Ip6", "OutRequests" },
		{ "Icmp6InMsgs", "Icmp6", "InMsgs" },
		{ "Udp6InDatagrams", "Udp6", "InDatagrams" },
		{ "UdpLite6InDatagrams", "UdpLite6", "InDatagrams" },
	};
	int64_t before[5], after[5], got[5];
	for (int i = 0; i < 5; i++)
		before[i] = snmp6_plain(keys[i].key);
	ml_net_snmp *s;
	ck_assert_int_eq(ml_net_snmp6_read(self, &s), 0);
	for (int i = 0; i < 5; i++)
		after[i] = snmp6_plain(keys[i].key);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_ge(before[i], 0);
		ck_assert_int_eq(ml_net_snmp_find(s, keys[i].proto, keys[i].name, &got[i]), 0);
		ck_assert_int_ge(got[i], before[i]);
		ck_assert_int_le(got[i], after[i]);
	}
	/* per-interface counters of lo, the same way */
	FILE *f = proc_net("dev");
	ck_assert_ptr_nonnull(f);
	char line[512];
	unsigned long long rx0 = 0, tx0 = 0, rx1 = 0, tx1 = 0, skip;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " lo: %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx0, &skip, &skip, &skip,
			   &skip, &skip, &skip, &skip, &tx0) == 9)
			break;
	fclose(f);
	ml_net_devs *d;
	ck_assert_int_eq(ml_net_devs_read(self, &d), 0);
	f = proc_net("dev");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " lo: %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx1, &skip, &skip, &skip,
			   &skip, &skip, &skip, &skip, &tx1) == 9)
			break;
	fclose(f);
	const ml_net_dev *lo = ml_net_devs_find(d, "lo");
	ck_assert_ptr_nonnull(lo);
	ck_assert_uint_ge(lo->rx_bytes, rx0);
	ck_assert_uint_le(lo->rx_bytes, rx1);
	ck_assert_uint_ge(lo->tx_bytes, tx0);
	ck_assert_uint_le(lo->tx_bytes, tx1);
	ml_net_devs_free(d);
	ml_net_snmp_free(s);
	/* the enumerations of net/snmp, decoded from what this kernel reports */
	ck_assert_int_eq(ml_net_snmp_read(self, &s), 0);
	int64_t fwd, rto, maxconn;
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip", "Forwarding", &fwd), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "RtoAlgorithm", &rto), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "MaxConn", &maxconn), 0);
	FILE *ff = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	int on = -1;
	if (ff) {
		ck_assert_int_eq(fscanf(ff, "%d", &on), 1);
		fclose(ff);
	}
	if (on >= 0)
		ck_assert_str_eq(ml_snmp_value_name("Ip", "Forwarding", fwd), on ? "forwarding" : "not-forwarding");
	ck_assert_str_eq(ml_snmp_value_name("Tcp", "RtoAlgorithm", rto), "other"); /* Linux always says 1 */
	ck_assert_str_eq(ml_snmp_value_name("Tcp", "MaxConn", maxconn), "dynamic");
	ck_assert_ptr_null(ml_snmp_value_name("Tcp", "InSegs", 1));
	ck_assert_ptr_null(ml_snmp_value_name("Ip", "Forwarding", 3));
	ml_net_snmp_free(s);
	ml_proc_free(self);
}
END_TEST

static long nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	long n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(lazy_handle_holds_one_fd_until_read)
{
	kid k = fork_kid(NULL, NULL, false);
	long base = nfds();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_lazy(k.pid, &p), 0);
	if (ml_proc_pidfd(p) < 0)
		mlt_skip("no pidfds here: a lazy handle is an ordinary one");
	ck_assert_int_eq(nfds() - base, 1);
	ck_assert_int_eq(ml_proc_alive(p), 1); /* the pidfd answers alone */
	ck_assert_int_eq(nfds() - base, 1);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.pid, k.pid);
	ck_assert_int_eq(nfds() - base, 3); /* pidfd, directory, sentinel */
	ck_assert_int_eq(ml_proc_release(p), 0);
	ck_assert_int_eq(nfds() - base, 1);
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.pid, k.pid);
	ck_assert_int_eq(ml_proc_release(p), 0);
	/* reaped while released: gone, never another process's data */
	end_kid(&k);
	ck_assert_int_eq(ml_stat_read(p, &st), -ESRCH);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ml_proc_free(p);
	ck_assert_int_eq(nfds(), base - 1); /* the handle's fd, and end_kid() closed the kid's pipe */
	/* a task handle and a fixture have no pidfd to fall back on */
	ml_proc *self, *t;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_task_main_thread(self, &t), 0);
	ck_assert_int_eq(ml_proc_release(t), -EOPNOTSUPP);
	ml_proc_free(t);
	ml_proc_free(self);
}
END_TEST

/* A child that execs sleep when a byte arrives on @ex; returned once it waits for it. */
static pid_t fork_execer(int ex[2])
{
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char c = 1;
		close(ex[1]);
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		if (read(ex[0], &c, 1) == 1)
			execl("/bin/sleep", "sleep", "100", (char *)NULL);
		_exit(9);
	}
	close(ready[1]);
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

START_TEST(lazy_handle_exec_and_zombie)
{
	int ex[2];
	ck_assert_int_eq(pipe(ex), 0);
	kid k = { fork_execer(ex), -1 };
	ml_proc *p, *q;
	ck_assert_int_eq(ml_proc_open_lazy(k.pid, &p), 0);
	ck_assert_int_eq(ml_proc_open_lazy(k.pid, &q), 0);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0); /* p now holds its sentinel */
	ck_assert_int_eq(ml_stat_read(q, &st), 0);
	ck_assert_int_eq(ml_proc_release(q), 0);   /* q holds only the pidfd */
	ck_assert_int_eq(write(ex[1], "x", 1), 1);
	char comm[ML_STAT_COMM_MAX + 1] = "";
	for (int i = 0; i < 20000 && strcmp(comm, "sleep"); i++) {
		ml_proc *r;
		if (ml_proc_open(k.pid, &r) == 0 && ml_stat_read(r, &st) == 0)
			snprintf(comm, sizeof(comm), "%s", st.comm);
		ml_proc_free(r);
		usleep(200);
	}
	ck_assert_str_eq(comm, "sleep");
	/* read since the exec: detected */
	ck_assert_int_eq(ml_stat_read(p, &st), -ESRCH);
	/* released across the exec: the documented trade-off, it reads the new image */
	ck_assert_int_eq(ml_stat_read(q, &st), 0);
	ck_assert_str_eq(st.comm, "sleep");
	ml_proc_free(p);
	ml_proc_free(q);
	/* a zombie, opened lazily and never read: its status still reads, as Z */
	kill(k.pid, SIGKILL);
	siginfo_t si;
	ck_assert_int_eq(waitid(P_PID, (id_t)k.pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(ml_proc_open_lazy(k.pid, &p), 0);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.state, 'Z');
	ml_proc_free(p);
	waitpid(k.pid, NULL, 0);
	close(ex[0]);
	close(ex[1]);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procapi");
	TCase *tc = tcase_create("live");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stat_helpers_on_a_fresh_child);
	tcase_add_test(tc, tty_major_minor_of_a_pty);
	tcase_add_test(tc, children_of_the_main_thread);
	tcase_add_test(tc, fd_access_mode);
	tcase_add_test(tc, namespace_paths);
	tcase_add_test(tc, autogroup_of_a_new_session);
	tcase_add_test(tc, loginuid_inherited_and_set);
	tcase_add_test(tc, wchan_follows_where_it_sleeps);
	tcase_add_test(tc, root_link);
	tcase_add_test(tc, link_read_any_link);
	tcase_add_test(tc, kpage_count_of_shared_and_private_pages);
	tcase_add_test(tc, cpus_and_mems_allowed_sets);
	tcase_add_test(tc, arp_and_route_match_the_text);
	tcase_add_test(tc, snmp6_and_dev_between_two_plain_reads);
	tcase_add_test(tc, lazy_handle_holds_one_fd_until_read);
	tcase_add_test(tc, lazy_handle_exec_and_zombie);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
