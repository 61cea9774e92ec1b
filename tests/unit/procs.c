/* ml_procs over a hand-made tree laid out like /proc (tests/fixtures/proc/procs-tree). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char root[4096];

static const char *tree(void)
{
	snprintf(root, sizeof(root), "%s/proc/procs-tree", mlt_fixture_dir());
	return root;
}

/* Runs an iteration with @o (root filled in) and writes the PIDs found, "1,100,...", into @out. */
static ml_procs_stats walk(ml_procs_opts *o, char *out, size_t cap)
{
	o->root = tree();
	ml_procs *it;
	ck_assert_int_eq(ml_procs_open(o, &it), 0);
	const ml_procs_entry *e;
	int r;
	size_t n = 0;
	int pids[64], np = 0;
	while ((r = ml_procs_next(it, &e)) == 1) {
		ck_assert_int_lt(np, 64);
		pids[np++] = e->pid;
	}
	ck_assert_int_eq(r, 0);
	/* readdir order is the file system's: sort */
	for (int i = 1; i < np; i++)
		for (int j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			int t = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
	out[0] = '\0';
	for (int i = 0; i < np; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%d", i ? "," : "", pids[i]);
	ml_procs_stats st = ml_procs_get_stats(it);
	ml_procs_free(it);
	return st;
}

START_TEST(every_process)
{
	char got[256];
	ML_OPTS(ml_procs_opts, o);
	ml_procs_stats st = walk(&o, got, sizeof(got));
	/* kthreadd (2) skipped, 105 empty (gone), meminfo/acpi/0123/self are not PIDs */
	ck_assert_str_eq(got, "1,100,101,102,103,104");
	ck_assert_uint_eq(st.kthreads, 1);
	ck_assert_uint_eq(st.gone, 1);
	ck_assert_uint_eq(st.matched, 6);
	ck_assert_uint_eq(st.visited, 8);

	ML_OPTS(ml_procs_opts, k, .kernel_threads = true);
	st = walk(&k, got, sizeof(got));
	ck_assert_str_eq(got, "1,2,100,101,102,103,104");
	ck_assert_uint_eq(st.kthreads, 0);
}
END_TEST

START_TEST(exact_comm)
{
	char got[256];
	ML_OPTS(ml_procs_opts, o, .comm = "python3");
	walk(&o, got, sizeof(got));
	ck_assert_str_eq(got, "100,101"); /* not python3-wrapper */
	ML_OPTS(ml_procs_opts, p, .comm = "my prog) x");
	walk(&p, got, sizeof(got));
	ck_assert_str_eq(got, "102");
	ML_OPTS(ml_procs_opts, q, .comm = "python");
	walk(&q, got, sizeof(got));
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(pattern_like_pgrep)
{
	char got[256];
	ML_OPTS(ml_procs_opts, o, .pattern = "^py");
	walk(&o, got, sizeof(got));
	ck_assert_str_eq(got, "100,101,104");
	ML_OPTS(ml_procs_opts, a, .pattern = "thon3$");
	walk(&a, got, sizeof(got));
	ck_assert_str_eq(got, "100,101");
	/* over the comm only, the arguments never match */
	ML_OPTS(ml_procs_opts, b, .pattern = "worker");
	walk(&b, got, sizeof(got));
	ck_assert_str_eq(got, "");
	/* -f: the command line with arguments joined by spaces */
	ML_OPTS(ml_procs_opts, f, .pattern = "worker\\.py --queue$", .full = true);
	walk(&f, got, sizeof(got));
	ck_assert_str_eq(got, "101");
	ML_OPTS(ml_procs_opts, g, .pattern = "-m http", .full = true);
	walk(&g, got, sizeof(got));
	ck_assert_str_eq(got, "100");
	/* an empty command line (kernel thread) is matched by its comm */
	ML_OPTS(ml_procs_opts, h, .pattern = "^kthreadd$", .full = true, .kernel_threads = true);
	walk(&h, got, sizeof(got));
	ck_assert_str_eq(got, "2");
	/* a comm with ") " is matched as the bytes it is */
	ML_OPTS(ml_procs_opts, i, .pattern = "prog\\) x");
	walk(&i, got, sizeof(got));
	ck_assert_str_eq(got, "102");

	ml_procs *it = NULL;
	ML_OPTS(ml_procs_opts, bad, .root = tree(), .pattern = "(unclosed");
	ck_assert_int_eq(ml_procs_open(&bad, &it), -EINVAL);
	ck_assert_ptr_null(it);
}
END_TEST

START_TEST(by_user_and_cgroup)
{
	char got[256];
	ML_OPTS(ml_procs_opts, o, .match_uid = true, .uid = 1000);
	walk(&o, got, sizeof(got));
	ck_assert_str_eq(got, "100,103"); /* 102's effective UID is 0 */
	ML_OPTS(ml_procs_opts, z, .match_uid = true, .uid = 0);
	walk(&z, got, sizeof(got));
	ck_assert_str_eq(got, "1,102,104");

	ML_OPTS(ml_procs_opts, c, .cgroup = "/system.slice");
	walk(&c, got, sizeof(got));
	ck_assert_str_eq(got, "101,102,104"); /* beneath it; not /system.slicex */
	ML_OPTS(ml_procs_opts, c2, .cgroup = "/system.slice/app.service/");
	walk(&c2, got, sizeof(got));
	ck_assert_str_eq(got, "101,102");
	ML_OPTS(ml_procs_opts, c3, .cgroup = "/");
	walk(&c3, got, sizeof(got));
	ck_assert_str_eq(got, "1,100,101,102,103,104");

	/* filters combine */
	ML_OPTS(ml_procs_opts, all, .comm = "python3", .cgroup = "/system.slice", .match_uid = true, .uid = 1001);
	walk(&all, got, sizeof(got));
	ck_assert_str_eq(got, "101");
	ML_OPTS(ml_procs_opts, none, .comm = "python3", .match_uid = true, .uid = 0);
	walk(&none, got, sizeof(got));
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(entry_fields)
{
	ML_OPTS(ml_procs_opts, o, .root = tree(), .comm = "my prog) x", .want = ML_PROCS_CMDLINE | ML_PROCS_CGROUP);
	ml_procs *it;
	ck_assert_int_eq(ml_procs_open(&o, &it), 0);
	const ml_procs_entry *e;
	ck_assert_int_eq(ml_procs_next(it, &e), 1);
	ck_assert_int_eq(e->pid, 102);
	ck_assert_uint_eq(e->starttime, 902);
	ck_assert_uint_eq(e->comm.len, 10);
	ck_assert_mem_eq(e->comm.ptr, "my prog) x", 10);
	ck_assert_uint_eq(e->uid, 1000);
	ck_assert_uint_eq(e->euid, 0);
	ck_assert(!e->kthread);
	ck_assert_int_eq(e->state, 'S');
	ck_assert_uint_eq(e->cmdline.len, 8);
	ck_assert_mem_eq(e->cmdline.ptr, "my prog\0", 8);
	ck_assert(ml_bstr_eq(e->cgroup, "/system.slice/app.service/sub"));

	/* a handle on the entry reads the same directory */
	ml_proc *p;
	ck_assert_int_eq(ml_procs_proc(it, &p), 0);
	ck_assert_int_eq(ml_proc_pid(p), 102);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_str_eq(st.comm, "my prog) x");
	ck_assert_int_eq(ml_procs_same(it, p), 1);
	ml_proc_free(p);

	ck_assert_int_eq(ml_procs_next(it, &e), 0);
	ck_assert_int_eq(ml_procs_proc(it, &p), -EINVAL); /* no current entry at the end */
	ml_procs_free(it);

	/* without ML_PROCS_* the optional fields stay empty */
	ML_OPTS(ml_procs_opts, q, .root = tree(), .comm = "init");
	ck_assert_int_eq(ml_procs_open(&q, &it), 0);
	ck_assert_int_eq(ml_procs_next(it, &e), 1);
	ck_assert_uint_eq(e->cmdline.len, 0);
	ck_assert_uint_eq(e->cgroup.len, 0);
	ml_procs_free(it);
}
END_TEST

/* Copies file @name of fixture PID directory @from into @dir/@to/. */
static void copy_file(const char *dir, const char *from, const char *to, const char *name)
{
	char src[9000], dst[9000], buf[4096];
	snprintf(src, sizeof(src), "%s/%s/%s", tree(), from, name);
	snprintf(dst, sizeof(dst), "%s/%s/%s", dir, to, name);
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	ck_assert(in && out);
	size_t n = fread(buf, 1, sizeof(buf), in);
	ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/*
 * A process whose directory cannot be opened (hidepid=1 does that to another user's) or
 * whose status cannot be read is counted in stats.denied and named with its PID (and its
 * comm when stat was read): never dropped without a trace.
 */
START_TEST(denied_processes_are_named)
{
	char dir[1024];
	mlt_mkdtemp(dir, sizeof(dir), "ml_procs_denied");
	const char *pids[] = { "100", "200", "300" };
	for (int i = 0; i < 3; i++) {
		char d[1100];
		snprintf(d, sizeof(d), "%s/%s", dir, pids[i]);
		ck_assert_int_eq(mkdir(d, 0755), 0);
		copy_file(dir, "100", pids[i], "stat");
		copy_file(dir, "100", pids[i], "status");
	}
	char p[1100];
	snprintf(p, sizeof(p), "%s/300/status", dir);
	ck_assert_int_eq(chmod(p, 0), 0);
	snprintf(p, sizeof(p), "%s/200", dir);
	ck_assert_int_eq(chmod(p, 0), 0);
	/* in a child without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, as root would be */
	pid_t pid = fork();
	if (pid == 0) {
		struct { uint32_t version; int pid; } h = { 0x20080522, 0 };
		struct { uint32_t eff, perm, inh; } d[2];
		if (syscall(SYS_capget, &h, d) == 0) {
			d[0].eff &= ~6u, d[0].perm &= ~6u, d[0].inh = d[1].inh = 0;
			if (syscall(SYS_capset, &h, d))
				_exit(100);
		}
		ML_OPTS(ml_procs_opts, o, .root = dir);
		ml_procs *it;
		const ml_procs_entry *e;
		if (ml_procs_open(&o, &it) || ml_procs_next(it, &e) != 1 || ml_procs_next(it, &e) != 0)
			_exit(101);
		ml_procs_stats st = ml_procs_get_stats(it);
		if (st.denied != 2 || st.matched != 1 || ml_procs_get_denied(it, 2))
			_exit(102);
		for (size_t i = 0; i < 2; i++) {
			const ml_procs_denied *x = ml_procs_get_denied(it, i);
			if (!x || x->err != -EACCES)
				_exit(103);
			/* 200: the directory itself; 300: stat read (comm known), status not */
			if (x->pid == 200 && !(x->dir_denied && x->comm.len == 0))
				_exit(104);
			if (x->pid == 300 && !(!x->dir_denied && x->comm.len == 7 && !memcmp(x->comm.ptr, "python3", 7)))
				_exit(105);
			if (x->pid != 200 && x->pid != 300)
				_exit(106);
		}
		ml_procs_free(it);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	snprintf(p, sizeof(p), "%s/200", dir);
	chmod(p, 0755);
	mlt_rmtree(dir);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
}
END_TEST

START_TEST(misuse)
{
	ml_procs *it = NULL;
	ck_assert_int_eq(ml_procs_open(NULL, &it), -EINVAL);
	ML_OPTS(ml_procs_opts, o, .root = "/nonexistent/memlens-procs");
	ck_assert_int_eq(ml_procs_open(&o, &it), -ENOENT);
	ck_assert_ptr_null(it);
	ck_assert_int_eq(ml_procs_next(NULL, NULL), -EINVAL);
	ml_procs_stats st = ml_procs_get_stats(NULL);
	ck_assert_uint_eq(st.visited, 0);
	ck_assert_ptr_null(ml_procs_get_denied(NULL, 0));
	ml_procs_free(NULL);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procs");
	TCase *tc = tcase_create("procs");
	tcase_add_test(tc, every_process);
	tcase_add_test(tc, exact_comm);
	tcase_add_test(tc, pattern_like_pgrep);
	tcase_add_test(tc, by_user_and_cgroup);
	tcase_add_test(tc, entry_fields);
	tcase_add_test(tc, denied_processes_are_named);
	tcase_add_test(tc, misuse);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
