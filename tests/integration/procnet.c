/* lib/ns.c, lib/cgroup.c, lib/net.c and lib/net_tables.c on a live process: namespaces, cgroups and net tables read from a live child whose sockets and cgroup the test sets. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

/* ---- small helpers ---- */

static void write_str(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_str(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, buf, (size_t)n) == n, "write %s to %s: %s", buf, path, strerror(errno));
	close(fd);
}

static char *read_small(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Our own cgroup line for the v2 hierarchy or a v1 controller, and the mount serving it. */
struct cg_here {
	char path[2048];      /* the cgroup path of the test process */
	char mount[2048];     /* where that hierarchy is mounted */
	char dir[4096];       /* mount + path: our own cgroup directory */
};

static bool find_own_cgroup(bool v2, const char *controller, struct cg_here *ret)
{
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_cgroups *cg;
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_cgroups_read(self, &cg), 0);
	ck_assert_int_eq(ml_mountinfo_read(self, &mi), 0);
	ml_proc_free(self);
	const ml_cgroup *c = v2 ? ml_cgroups_v2(cg) : ml_cgroups_v1(cg, controller);
	bool ok = false;
	for (size_t i = 0; c && i < ml_mountinfo_count(mi) && !ok; i++) {
		const ml_mount *m = ml_mountinfo_get(mi, i);
		if (strcmp(m->root, "/"))
			continue; /* keep the setup simple: whole-hierarchy mounts only */
		if (v2 ? strcmp(m->fs_type, "cgroup2") != 0
		       : strcmp(m->fs_type, "cgroup") != 0 || !ml_mount_find_opt(m, true, controller))
			continue;
		snprintf(ret->path, sizeof(ret->path), "%s", c->path);
		snprintf(ret->mount, sizeof(ret->mount), "%s", m->mount_point);
		snprintf(ret->dir, sizeof(ret->dir), "%s%s", m->mount_point, strcmp(c->path, "/") ? c->path : "");
		ok = true;
	}
	ml_mountinfo_free(mi);
	ml_cgroups_free(cg);
	return ok;
}

/* Test cgroups are named after the runner process so its teardown can find leftovers. */
static void test_cgroup_name(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "memlens test %d %s", (int)getppid(), tag);
}

static void remove_cgroup(const char *dir)
{
	char procs[4200];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	for (int tries = 0; tries < 200; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		/* a helper orphaned by a failed test: it exits once its stdin closes; make sure */
		char *pids = read_small(procs);
		for (char *s = pids; s && *s;) {
			long pid = strtol(s, &s, 10);
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			while (*s == '\n')
				s++;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	fprintf(stderr, "warning: could not remove test cgroup %s: %s\n", dir, strerror(errno));
}

/* Runs in the runner process after all tests: removes any test cgroup a failed test left. */
static void cleanup_cgroups(void)
{
	static const char *const tags[] = { "v2", "v1mem" };
	struct cg_here h;
	char dir[4300];
	for (int k = 0; k < 2; k++) {
		if (!find_own_cgroup(k == 0, "memory", &h))
			continue;
		snprintf(dir, sizeof(dir), "%s/memlens test %d %s", h.dir, (int)getpid(), tags[k]);
		remove_cgroup(dir);
	}
}

static void need_root(const char *why)
{
	if (geteuid() != 0)
		mlt_skip("not root: %s needs root", why);
}

/* ---- namespaces ---- */

/* Compares the library's namespaces of @pid with `stat -L` of its ns links. */
static void check_ns_against_stat(const ml_namespaces *ns, pid_t pid)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "cd /proc/%d/ns && stat -L -c '%%n %%d %%i' *", (int)pid);
	int st;
	char *out = mlt_run(cmd, &st);
	ck_assert_msg(out && st == 0, "stat failed");
	int n = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64];
		unsigned long long dev, ino;
		ck_assert_int_eq(sscanf(line, "%63s %llu %llu", name, &dev, &ino), 3);
		const ml_ns *e = ml_namespaces_find(ns, name);
		ck_assert_msg(e != NULL, "%s not reported", name);
		ck_assert_msg(e->err == 0, "%s: %s", name, ml_strerror(e->err));
		ck_assert_uint_eq(e->inode, ino);
		ck_assert(e->dev_known);
		ck_assert_uint_eq(e->dev, dev);
		n++;
	}
	free(out);
	size_t ok = 0;
	for (size_t i = 0; i < ml_namespaces_count(ns); i++)
		ok += ml_namespaces_get(ns, i)->err == 0;
	/* nothing reported that stat did not see */
	ck_assert_uint_eq(ok, (size_t)n);
	ck_assert_int_ge(n, 7);
}

START_TEST(namespaces_equal_stat)
{
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_namespaces *ns;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	check_ns_against_stat(ns, c->pid);
	ml_namespaces_free(ns);
	/* a zombie keeps only its pid and user namespaces; the rest are gone, not absent */
	mlt_cmd(c, "exit 0");
	mlt_wait_zombie(c);
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	ck_assert_int_eq(ml_namespaces_find(ns, "net")->err, -ESRCH);
	ck_assert_int_eq(ml_namespaces_find(ns, "mnt")->err, -ESRCH);
	ck_assert_int_eq(ml_namespaces_find(ns, "pid")->err, 0);
	ml_namespaces_free(ns);
	/* reaped: -ESRCH, not an empty set */
	mlt_wait(c);
	ck_assert_int_eq(ml_namespaces_read(p, &ns), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(namespaces_of_a_child_in_its_own_netns)
{
	need_root("creating a network namespace");
	const char *args[] = { "--netns", NULL };
	mlt_child *c = mlt_spawn("ml_netchild", args);
	if (strstr(c->line, "err"))
		mlt_skip("cannot create a network namespace here: %s", c->line);
	ml_proc *p, *self;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_namespaces *ns, *mine;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	ck_assert_int_eq(ml_namespaces_read(self, &mine), 0);
	check_ns_against_stat(ns, c->pid);
	ck_assert(!ml_ns_same(ml_namespaces_find(ns, "net"), ml_namespaces_find(mine, "net")));
	ck_assert(ml_ns_same(ml_namespaces_find(ns, "mnt"), ml_namespaces_find(mine, "mnt")));
	ck_assert(ml_ns_same(ml_namespaces_find(ns, "pid"), ml_namespaces_find(mine, "pid")));
	ml_namespaces_free(ns);
	ml_namespaces_free(mine);
	ml_proc_free(self);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(namespaces_denied_to_another_user)
{
	need_root("reading as another user (dropping to nobody)");
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	/* the reader runs as nobody in a fork, so this process can still reap the child */
	fflush(NULL);
	pid_t r = fork();
	ck_assert_int_ge(r, 0);
	if (r == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		ml_proc *p;
		if (ml_proc_open(c->pid, &p) < 0)
			_exit(11);
		ml_namespaces *ns;
		if (ml_namespaces_read(p, &ns) < 0)
			_exit(12); /* the rest of the record must still read */
		const ml_ns *e = ml_namespaces_find(ns, "net");
		if (!e || (e->err != -EACCES && e->err != -EPERM))
			_exit(13);
		for (size_t i = 0; i < ml_namespaces_count(ns); i++)
			if (ml_namespaces_get(ns, i)->err == 0)
				_exit(14); /* nothing may be read past the ptrace check */
		ml_namespaces_free(ns);
		/* world-readable files still read */
		ml_cgroups *cg;
		if (ml_cgroups_read(p, &cg) < 0 || !ml_cgroups_count(cg))
			_exit(15);
		ml_cgroups_free(cg);
		ml_net_socks *t;
		if (ml_net_socks_read(p, ML_NET_TCP, &t) < 0)
			_exit(16);
		ml_net_socks_free(t);
		ml_proc_free(p);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(r, &st, 0), r);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged reader failed at step %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	mlt_child_free(c);
}
END_TEST

/* ---- mounts ---- */

START_TEST(mountinfo_of_a_child_in_its_own_mount_namespace)
{
	need_root("mounting in a private mount namespace");
	char base[] = "/tmp/memlens-mnt-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(base));
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	const char *r = mlt_cmd(c, "mount %s", base);
	if (!r || strncmp(r, "ok", 2))
		mlt_skip("cannot make a private mount namespace here: %s", r ? r : "EOF");
	char want[512];
	snprintf(want, sizeof(want), "%s/a b\tc\nd\\e", base);
	ml_proc *p, *self;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_mountinfo *mi, *mine;
	ck_assert_int_eq(ml_mountinfo_read(p, &mi), 0);
	ck_assert_int_eq(ml_mountinfo_read(self, &mine), 0);
	const ml_mount *m = ml_mountinfo_find_path(mi, want, strlen(want));
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->mount_point, want); /* tab, newline and backslash decoded exactly */
	ck_assert_uint_eq(m->mount_point_len, strlen(want));
	ck_assert_str_eq(m->source, "src with space");
	ck_assert_str_eq(m->fs_type, "tmpfs");
	ck_assert_str_eq(ml_mount_find_opt(m, true, "size")->value, "1024k");
	ck_assert_str_eq(ml_mount_find_opt(m, true, "mode")->value, "700");
	ck_assert_ptr_nonnull(ml_mountinfo_find_id(mi, m->parent_id));
	/* st_dev of the mount point, seen through the child's root, matches MAJ:MIN */
	char via[700];
	snprintf(via, sizeof(via), "/proc/%d/root%s", (int)c->pid, want);
	struct stat sb;
	ck_assert_int_eq(stat(via, &sb), 0);
	ck_assert_uint_eq(m->dev_major, major(sb.st_dev));
	ck_assert_uint_eq(m->dev_minor, minor(sb.st_dev));
	/* the test's own namespace has no such mount */
	const ml_mount *o = ml_mountinfo_find_path(mine, want, strlen(want));
	ck_assert(o == NULL || strcmp(o->mount_point, want) != 0);
	/* mountstats lists the same mount, decoded the same way */
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_read(p, &ms), 0);
	ck_assert_uint_eq(ml_mountstats_count(ms), ml_mountinfo_count(mi));
	bool found = false;
	for (size_t i = 0; i < ml_mountstats_count(ms); i++) {
		const ml_mountstats_mount *sm = ml_mountstats_get(ms, i);
		if (!strcmp(sm->mount_point, want)) {
			ck_assert_str_eq(sm->device, "src with space");
			ck_assert_str_eq(sm->fs_type, "tmpfs");
			found = true;
		}
	}
	ck_assert(found);
	ml_mountstats_free(ms);
	ml_namespaces *ns, *myns;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	ck_assert_int_eq(ml_namespaces_read(self, &myns), 0);
	ck_assert(!ml_ns_same(ml_namespaces_find(ns, "mnt"), ml_namespaces_find(myns, "mnt")));
	ml_namespaces_free(ns);
	ml_namespaces_free(myns);
	ml_mountinfo_free(mi);
	ml_mountinfo_free(mine);
	ml_proc_free(self);
	ml_proc_free(p);
	mlt_child_free(c); /* its namespace, and the mount, go with it */
	ck_assert_int_eq(rmdir(want), 0);
	ck_assert_int_eq(rmdir(base), 0);
}
END_TEST

/* ---- cgroups ---- */

START_TEST(cgroup_v2_path_of_a_moved_child)
{
	need_root("creating a cgroup and moving a process into it");
	struct cg_here h;
	if (!find_own_cgroup(true, NULL, &h))
		mlt_skip("no cgroup v2 hierarchy mounted in this view");
	char name[128], dir[4300];
	test_cgroup_name(name, sizeof(name), "v2");
	snprintf(dir, sizeof(dir), "%s/%s", h.dir, name);
	if (mkdir(dir, 0755) < 0)
		mlt_skip("cannot create a v2 cgroup under %s: %s", h.dir, strerror(errno));
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	char procs[4400];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	write_str(procs, "%d", (int)c->pid);

	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_cgroups *cg;
	ck_assert_int_eq(ml_cgroups_read(p, &cg), 0);
	const ml_cgroup *v2 = ml_cgroups_v2(cg);
	ck_assert_ptr_nonnull(v2);
	char want[4300];
	snprintf(want, sizeof(want), "%s/%s", strcmp(h.path, "/") ? h.path : "", name);
	ck_assert_str_eq(v2->path, want); /* spaces in the name kept as bytes */
	ck_assert_uint_eq(v2->path_len, strlen(want));
	ck_assert(!v2->deleted);

	ml_mountinfo *mi;
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_mountinfo_read(self, &mi), 0);
	char *got;
	size_t gl;
	ck_assert_int_eq(ml_cgroup_dir(v2, mi, &got, &gl), 0);
	ck_assert_str_eq(got, dir);
	free(got);

	/* the memory helper finds the same directory when it reads v2 */
	ml_cgroup_memory *mem;
	ck_assert_int_eq(ml_cgroup_memory_read(p, NULL, &mem), 0);
	if (mem->version == 2) {
		ck_assert_str_eq(mem->dir, dir);
		ck_assert_str_eq(mem->path, want);
	}
	ml_cgroup_memory_free(mem);

	ml_mountinfo_free(mi);
	ml_proc_free(self);
	ml_cgroups_free(cg);
	ml_proc_free(p);
	mlt_child_free(c);
	remove_cgroup(dir);
}
END_TEST

START_TEST(cgroup_v2_memory_max)
{
	need_root("creating a cgroup and moving a process into it");
	struct cg_here h;
	if (!find_own_cgroup(true, NULL, &h))
		mlt_skip("no cgroup v2 hierarchy mounted in this view");
	char ctl[4300];
	snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", h.dir);
	char *sub = read_small(ctl);
	if (!sub || !strstr(sub, "memory")) {
		snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", h.dir);
		char *avail = read_small(ctl);
		mlt_skip("the memory controller is not enabled for children of the v2 cgroup %s "
			 "(available there: %s); the v1 memory test covers memory limits here",
			 h.dir, avail ? strtok(avail, "\n") : "?");
	}
	char name[128], dir[4300], f[4400];
	test_cgroup_name(name, sizeof(name), "v2");
	snprintf(dir, sizeof(dir), "%s/%s", h.dir, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(f, sizeof(f), "%s/memory.max", dir);
	write_str(f, "%llu", 192ull << 20);
	snprintf(f, sizeof(f), "%s/memory.high", dir);
	write_str(f, "%llu", 160ull << 20);
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	write_str(f, "%d", (int)c->pid);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_cgroup_memory *mem;
	ck_assert_int_eq(ml_cgroup_memory_read(p, NULL, &mem), 0);
	ck_assert_int_eq(mem->version, 2);
	ck_assert_str_eq(mem->dir, dir);
	ck_assert_int_eq(mem->max.err, 0);
	ck_assert_uint_eq(mem->max.value, 192ull << 20);
	ck_assert_int_eq(mem->high.err, 0);
	ck_assert_uint_eq(mem->high.value, 160ull << 20);
	ck_assert_int_eq(mem->current.err, 0);
	ck_assert_int_eq(mem->effective_max.err, 0);
	ck_assert_uint_le(mem->effective_max.value, 192ull << 20);
	ml_cgroup_memory_free(mem);
	ml_proc_free(p);
	mlt_child_free(c);
	remove_cgroup(dir);
}
END_TEST

START_TEST(cgroup_v1_memory_limit)
{
	need_root("creating a cgroup and moving a process into it");
	struct cg_here h;
	if (!find_own_cgroup(false, "memory", &h))
		mlt_skip("no cgroup v1 memory hierarchy here (pure v2 machine): covered by the v2 test");
	char name[128], dir[4300], f[4400];
	test_cgroup_name(name, sizeof(name), "v1mem");
	snprintf(dir, sizeof(dir), "%s/%s", h.dir, name);
	if (mkdir(dir, 0755) < 0)
		mlt_skip("cannot create a v1 memory cgroup under %s: %s", h.dir, strerror(errno));
	snprintf(f, sizeof(f), "%s/memory.limit_in_bytes", dir);
	write_str(f, "%llu", 200ull << 20);
	snprintf(f, sizeof(f), "%s/memory.soft_limit_in_bytes", dir);
	write_str(f, "%llu", 100ull << 20);
	mlt_child *c = mlt_spawn("ml_netchild", NULL);
	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	write_str(f, "%d", (int)c->pid);

	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ML_OPTS(ml_cgroup_memory_opts, o, .prefer_v1 = true);
	ml_cgroup_memory *mem;
	ck_assert_int_eq(ml_cgroup_memory_read(p, &o, &mem), 0);
	ck_assert_int_eq(mem->version, 1);
	ck_assert_str_eq(mem->dir, dir);
	char want[4300];
	snprintf(want, sizeof(want), "%s/%s", strcmp(h.path, "/") ? h.path : "", name);
	ck_assert_str_eq(mem->path, want);
	ck_assert_int_eq(mem->max.err, 0);
	ck_assert_uint_eq(mem->max.value, 200ull << 20);
	ck_assert_int_eq(mem->soft_limit.err, 0);
	ck_assert_uint_eq(mem->soft_limit.value, 100ull << 20);
	ck_assert_int_eq(mem->current.err, 0);
	ck_assert_int_eq(mem->high.err, -ENOENT);
	ck_assert_int_eq(mem->swap_max.err, -ENOENT);
	/* a new cgroup has hit nothing yet */
	ck_assert_int_eq(mem->events_max.err, 0);
	ck_assert_uint_eq(mem->events_max.value, 0);
	ck_assert_int_eq(mem->events_oom_kill.err, 0);
	ck_assert_uint_eq(mem->events_oom_kill.value, 0);
	/* ours is the tightest limit unless an ancestor is tighter still */
	ck_assert_int_eq(mem->effective_max.err, 0);
	ck_assert_uint_le(mem->effective_max.value, 200ull << 20);
	if (mem->effective_max.value == 200ull << 20)
		ck_assert_str_eq(mem->effective_dir, dir);
	ml_cgroup_memory_free(mem);

	/* without a preference: v1 too, unless the v2 cgroup has memory files of its own */
	ck_assert_int_eq(ml_cgroup_memory_read(p, NULL, &mem), 0);
	if (mem->version == 1) {
		ck_assert_str_eq(mem->dir, dir);
		ck_assert_uint_eq(mem->max.value, 200ull << 20);
	} else {
		char f2[4300];
		snprintf(f2, sizeof(f2), "%s/memory.current", mem->dir);
		ck_assert_int_eq(access(f2, F_OK), 0);
	}
	ml_cgroup_memory_free(mem);

	/* the parent (our own cgroup) shows through when the child leaves: no stale reads */
	mlt_child_free(c);
	remove_cgroup(dir);
	ml_proc_free(p);
}
END_TEST

START_TEST(cgroup_memory_of_self_is_consistent)
{
	/* whatever this machine has, the helper must pick a directory that exists and
	 * report per-file errors rather than fail */
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_cgroup_memory *mem;
	int r = ml_cgroup_memory_read(self, NULL, &mem);
	if (r == -ENOENT)
		mlt_skip("no cgroup filesystem is mounted in this view");
	ck_assert_int_eq(r, 0);
	struct stat sb;
	ck_assert_int_eq(stat(mem->dir, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	if (mem->version == 1) {
		char f[4200];
		snprintf(f, sizeof(f), "%s/memory.limit_in_bytes", mem->dir);
		ck_assert_int_eq(mem->max.err, 0);
		unsigned long long raw = strtoull(read_small(f), NULL, 10);
		if (raw >= 0x7ffffffffffff000ull)
			ck_assert_uint_eq(mem->max.value, ML_CGROUP_UNLIMITED);
		else
			ck_assert_uint_eq(mem->max.value, raw);
	}
	ml_cgroup_memory_free(mem);
	ml_proc_free(self);
}
END_TEST


/* ---- net tables ---- */

struct netchild {
	mlt_child *c;
	char dir[64];
	char kv[4096];
	bool own_netns;
};

static void netchild_start(struct netchild *n, bool netns)
{
	const char *args[] = { "--netns", NULL };
	n->c = mlt_spawn("ml_netchild", netns ? args : NULL);
	if (netns && strstr(n->c->line, "err"))
		mlt_skip("cannot give the child its own network namespace: %s", n->c->line);
	n->own_netns = netns;
	snprintf(n->dir, sizeof(n->dir), "/tmp/memlens-net-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	const char *r = mlt_cmd_ok(n->c, "sockets %s", n->dir);
	snprintf(n->kv, sizeof(n->kv), " %s", r);
}

static uint64_t kv(const struct netchild *n, const char *key)
{
	uint64_t v = mlt_kv(n->kv, key);
	ck_assert_msg(v != 0, "child did not report %s", key);
	return v;
}

static void netchild_stop(struct netchild *n)
{
	int pid = n->c->pid;
	mlt_child_free(n->c);
	char path[256];
	snprintf(path, sizeof(path), "%s/ml sock %d", n->dir, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ml\nnl %d", n->dir, pid);
	unlink(path);
	rmdir(n->dir);
}

/* True if the child has an fd whose link reads "socket:[ino]". */
static bool has_socket_fd(pid_t pid, uint64_t ino)
{
	char want[64];
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	for (int fd = 0; fd < 64; fd++) {
		char path[64], target[128];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t l = readlink(path, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = '\0';
		if (!strcmp(target, want))
			return true;
	}
	return false;
}

static const uint8_t lo4[4] = { 127, 0, 0, 1 };
static const uint8_t lo6[16] = { [15] = 1 };

static void check_socket_tables(const struct netchild *n, ml_proc *p)
{
	pid_t pid = n->c->pid;
	ml_net_socks *tcp, *tcp6, *udp, *udp6;
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_TCP, &tcp), 0);
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_TCP6, &tcp6), 0);
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_UDP, &udp), 0);
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_UDP6, &udp6), 0);

	static const char *const inos[] = {
		"tcp_listen_ino", "tcp_client_ino", "tcp_accepted_ino", "tcp6_listen_ino", "tcp6_client_ino",
		"udp_ino", "udp_conn_ino", "udp6_ino", "unix_stream_ino", "unix_dgram_ino",
		"unix_abstract_ino", "unix_pair0_ino", "unix_pair1_ino",
	};
	/* every inode the child reported is one of its fds: the test's truth is consistent */
	for (size_t i = 0; i < sizeof(inos) / sizeof(inos[0]); i++)
		ck_assert_msg(has_socket_fd(pid, kv(n, inos[i])), "%s is not an fd of the child", inos[i]);

	const ml_net_sock *k = ml_net_socks_find_inode(tcp, kv(n, "tcp_listen_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_LISTEN);
	ck_assert_int_eq(k->family, AF_INET);
	ck_assert(!memcmp(k->local_addr, lo4, 4));
	ck_assert_uint_eq(k->local_port, kv(n, "tcp_listen_port"));
	ck_assert_uint_eq(k->uid, geteuid());
	k = ml_net_socks_find_inode(tcp, kv(n, "tcp_client_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(k->local_port, kv(n, "tcp_client_port"));
	ck_assert_uint_eq(k->remote_port, kv(n, "tcp_listen_port"));
	ck_assert(!memcmp(k->remote_addr, lo4, 4));
	k = ml_net_socks_find_inode(tcp, kv(n, "tcp_accepted_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(k->rx_queue, 1); /* the unread byte */
	ck_assert_uint_eq(k->remote_port, kv(n, "tcp_client_port"));

	k = ml_net_socks_find_inode(tcp6, kv(n, "tcp6_listen_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->family, AF_INET6);
	ck_assert(!memcmp(k->local_addr, lo6, 16));
	ck_assert_uint_eq(k->state, ML_TCP_LISTEN);
	ck_assert_uint_eq(k->local_port, kv(n, "tcp6_listen_port"));
	k = ml_net_socks_find_inode(tcp6, kv(n, "tcp6_client_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(k->remote_port, kv(n, "tcp6_listen_port"));
	ck_assert(!memcmp(k->remote_addr, lo6, 16));

	k = ml_net_socks_find_inode(udp, kv(n, "udp_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_CLOSE);
	ck_assert_uint_eq(k->local_port, kv(n, "udp_port"));
	ck_assert(k->has_drops);
	k = ml_net_socks_find_inode(udp, kv(n, "udp_conn_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(k->remote_port, kv(n, "udp_port"));
	k = ml_net_socks_find_inode(udp6, kv(n, "udp6_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert(!memcmp(k->local_addr, lo6, 16));
	ck_assert_uint_eq(k->local_port, kv(n, "udp6_port"));

	/* raw ICMP sockets exist only where the child had CAP_NET_RAW */
	if (mlt_kv(n->kv, "raw_ino")) {
		ml_net_socks *raw, *raw6;
		ck_assert_int_eq(ml_net_socks_read(p, ML_NET_RAW, &raw), 0);
		ck_assert_int_eq(ml_net_socks_read(p, ML_NET_RAW6, &raw6), 0);
		k = ml_net_socks_find_inode(raw, kv(n, "raw_ino"));
		ck_assert_ptr_nonnull(k);
		ck_assert_uint_eq(k->local_port, 1);
		k = ml_net_socks_find_inode(raw6, kv(n, "raw6_ino"));
		ck_assert_ptr_nonnull(k);
		ck_assert_uint_eq(k->local_port, 58);
		if (n->own_netns) {
			ck_assert_uint_eq(ml_net_socks_count(raw), 1);
			ck_assert_uint_eq(ml_net_socks_count(raw6), 1);
		}
		ml_net_socks_free(raw);
		ml_net_socks_free(raw6);
	}

	ml_net_unixes *ux;
	ck_assert_int_eq(ml_net_unixes_read(p, &ux), 0);
	char want[256];
	const ml_net_unix *u = ml_net_unixes_find_inode(ux, kv(n, "unix_stream_ino"));
	ck_assert_ptr_nonnull(u);
	snprintf(want, sizeof(want), "%s/ml sock %d", n->dir, (int)pid);
	ck_assert_str_eq(u->path, want);
	ck_assert_uint_eq(u->path_len, strlen(want));
	ck_assert_uint_eq(u->flags & ML_UNIX_ACCEPTCON, ML_UNIX_ACCEPTCON);
	ck_assert_uint_eq(u->type, SOCK_STREAM);
	u = ml_net_unixes_find_inode(ux, kv(n, "unix_dgram_ino"));
	ck_assert_ptr_nonnull(u);
	snprintf(want, sizeof(want), "%s/ml\nnl %d", n->dir, (int)pid);
	ck_assert_str_eq(u->path, want);
	ck_assert_uint_eq(u->type, SOCK_DGRAM);
	u = ml_net_unixes_find_inode(ux, kv(n, "unix_abstract_ino"));
	ck_assert_ptr_nonnull(u);
	snprintf(want, sizeof(want), "@memlens-abstract-%d", (int)pid);
	ck_assert_str_eq(u->path, want);
	ck_assert(u->abstract);
	u = ml_net_unixes_find_inode(ux, kv(n, "unix_pair0_ino"));
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_null(u->path);
	ck_assert_uint_eq(u->state, 3);

	if (n->own_netns) {
		/* a fresh namespace holds exactly the child's sockets */
		ck_assert_uint_eq(ml_net_socks_count(tcp), 3);
		ck_assert_uint_eq(ml_net_socks_count(tcp6), 3);
		ck_assert_uint_eq(ml_net_socks_count(udp), 2);
		ck_assert_uint_eq(ml_net_socks_count(udp6), 1);
		ck_assert_uint_eq(ml_net_unixes_count(ux), 5);
	}
	ml_net_unixes_free(ux);
	ml_net_socks_free(tcp);
	ml_net_socks_free(tcp6);
	ml_net_socks_free(udp);
	ml_net_socks_free(udp6);
}

START_TEST(net_tables_of_a_child)
{
	struct netchild n;
	netchild_start(&n, false);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(n.c->pid, &p), 0);
	check_socket_tables(&n, p);
	ml_net_devs *d;
	ck_assert_int_eq(ml_net_devs_read(p, &d), 0);
	ck_assert_ptr_nonnull(ml_net_devs_find(d, "lo"));
	ml_net_devs_free(d);
	ml_net_snmp *s;
	int64_t v;
	ck_assert_int_eq(ml_net_snmp_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "CurrEstab", &v), 0);
	ck_assert_int_ge(v, 4); /* at least the child's two pairs */
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_snmp6_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip6", "InReceives", &v), 0);
	ml_net_snmp_free(s);
	ml_net_arps *a;
	ck_assert_int_eq(ml_net_arps_read(p, &a), 0);
	ml_net_arps_free(a);
	ml_net_routes *r;
	ck_assert_int_eq(ml_net_routes_read(p, &r), 0);
	ml_net_routes_free(r);
	/* a task handle reads task/TID/net: the same namespace for a single-threaded child */
	ml_proc *task;
	ck_assert_int_eq(ml_proc_task(p, n.c->pid, &task), 0);
	ml_net_socks *tt;
	ck_assert_int_eq(ml_net_socks_read(task, ML_NET_TCP, &tt), 0);
	ck_assert_ptr_nonnull(ml_net_socks_find_inode(tt, kv(&n, "tcp_listen_ino")));
	ml_net_socks_free(tt);
	ml_proc_free(task);
	/* a zombie has left its network and mount namespaces: gone, not "no such file" */
	mlt_cmd(n.c, "exit 0");
	mlt_wait_zombie(n.c);
	ml_net_socks *t;
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_TCP, &t), -ESRCH);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_read(p, &mi), -ESRCH);
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_read(p, &ms), -ESRCH);
	/* its cgroup file still reads */
	ml_cgroups *cg;
	ck_assert_int_eq(ml_cgroups_read(p, &cg), 0);
	ck_assert_ptr_nonnull(ml_cgroups_v2(cg));
	ml_cgroups_free(cg);
	/* reaped: every table says gone */
	mlt_wait(n.c);
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_TCP, &t), -ESRCH);
	ml_net_unixes *ux;
	ck_assert_int_eq(ml_net_unixes_read(p, &ux), -ESRCH);
	ck_assert_int_eq(ml_net_devs_read(p, &d), -ESRCH);
	ml_proc_free(p);
	netchild_stop(&n);
}
END_TEST

START_TEST(net_tables_follow_the_child_netns)
{
	need_root("creating a network namespace");
	struct netchild n;
	netchild_start(&n, true);
	ml_proc *p, *self;
	ck_assert_int_eq(ml_proc_open(n.c->pid, &p), 0);
	check_socket_tables(&n, p);
	/* our own view does not see the child's sockets, nor the child ours */
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ml_net_socks *mine;
	ck_assert_int_eq(ml_net_socks_read(self, ML_NET_TCP, &mine), 0);
	ck_assert_ptr_null(ml_net_socks_find_inode(mine, kv(&n, "tcp_listen_ino")));
	ml_net_socks_free(mine);
	ml_net_devs *d;
	ck_assert_int_eq(ml_net_devs_read(p, &d), 0);
	ck_assert_uint_eq(ml_net_devs_count(d), 1);
	const ml_net_dev *lo = ml_net_devs_find(d, "lo");
	ck_assert_ptr_nonnull(lo);
	ck_assert_uint_gt(lo->rx_packets, 0); /* the handshakes went over it */
	ck_assert_uint_eq(lo->rx_packets, lo->tx_packets);
	ml_net_devs_free(d);
	ml_net_snmp *s;
	int64_t v;
	ck_assert_int_eq(ml_net_snmp_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "CurrEstab", &v), 0);
	ck_assert_int_eq(v, 4); /* exactly the child's two IPv4 and two IPv6 ends */
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "PassiveOpens", &v), 0);
	ck_assert_int_eq(v, 2);
	ml_net_snmp_free(s);
	/* sockets in use are counted per namespace: exactly the child's */
	ck_assert_int_eq(ml_net_sockstat_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "TCP", "inuse", &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(ml_net_snmp_find(s, "UDP", "inuse", &v), 0);
	ck_assert_int_eq(v, 2);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_sockstat6_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "TCP6", "inuse", &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(ml_net_snmp_find(s, "UDP6", "inuse", &v), 0);
	ck_assert_int_eq(v, 1);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_netstat_read(p, &s), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "TcpExt", "ListenOverflows", &v), 0);
	ck_assert_int_eq(v, 0);
	ml_net_snmp_free(s);
	ml_net_routes *r;
	ck_assert_int_eq(ml_net_routes_read(p, &r), 0);
	ck_assert_uint_eq(ml_net_routes_count(r), 0); /* loopback routes live in the local table */
	ml_net_routes_free(r);
	ml_net_arps *a;
	ck_assert_int_eq(ml_net_arps_read(p, &a), 0);
	ck_assert_uint_eq(ml_net_arps_count(a), 0);
	ml_net_arps_free(a);
	ml_proc_free(self);
	ml_proc_free(p);
	netchild_stop(&n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("procnet");
	TCase *ns = tcase_create("namespaces");
	tcase_add_test(ns, namespaces_equal_stat);
	tcase_add_test(ns, namespaces_of_a_child_in_its_own_netns);
	tcase_add_test(ns, namespaces_denied_to_another_user);
	suite_add_tcase(s, ns);
	TCase *mnt = tcase_create("mounts");
	tcase_add_test(mnt, mountinfo_of_a_child_in_its_own_mount_namespace);
	suite_add_tcase(s, mnt);
	TCase *cg = tcase_create("cgroups");
	tcase_add_unchecked_fixture(cg, NULL, cleanup_cgroups);
	tcase_add_test(cg, cgroup_v2_path_of_a_moved_child);
	tcase_add_test(cg, cgroup_v2_memory_max);
	tcase_add_test(cg, cgroup_v1_memory_limit);
	tcase_add_test(cg, cgroup_memory_of_self_is_consistent);
	suite_add_tcase(s, cg);
	TCase *net = tcase_create("net");
	tcase_add_test(net, net_tables_of_a_child);
	tcase_add_test(net, net_tables_follow_the_child_netns);
	suite_add_tcase(s, net);
	return mlt_run_suite(s);
}
