/* ml_procs over a hand-made tree laid out like /proc (tests/fixtures/proc/procs-tree). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	tcase_add_test(tc, misuse);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
