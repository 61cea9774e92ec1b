/* Process-information readers against ml_infochild, which sets known values on command. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static mlt_child *child(void) { return mlt_spawn("ml_infochild", NULL); }

static ml_proc *open_child(mlt_child *c)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	return p;
}

/* The n-th number of a "a,b,c" list in an answer's key=value. */
static long nth(const char *line, const char *key, int n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "%s=", key);
	const char *s = strstr(line, pat);
	ck_assert_ptr_nonnull(s);
	s += strlen(pat);
	for (int i = 0; i < n; i++) {
		s = strchr(s, ',');
		ck_assert_ptr_nonnull(s);
		s++;
	}
	return strtol(s, NULL, 10);
}

START_TEST(status_stat_statm_of_child)
{
	mlt_child *c = child();
	const char *ans = mlt_cmd_ok(c, "threads 3");
	pid_t tid1 = (pid_t)nth(ans, "tids", 1);
	mlt_cmd_ok(c, "comm x6d6c29200a287829"); /* "ml) \n(x)" */
	mlt_cmd_ok(c, "nnp");
	mlt_cmd_ok(c, "thp_disable");
	mlt_cmd_ok(c, "map 4194304");
	ml_proc *p = open_child(c);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(s->pid, c->pid);
	ck_assert_int_eq(s->ppid, getpid());
	ck_assert_uint_eq(s->threads, 4);
	ck_assert_mem_eq(s->name, "ml) \n(x)", 9);
	ck_assert(s->no_new_privs);
	ck_assert(!s->thp_enabled);
	ck_assert_uint_eq(s->uid[1], geteuid());
	ck_assert_uint_ge(s->vm_rss, 4u << 20); /* the 4 MiB it touched */
	ck_assert_uint_ge(s->vm_hwm, s->vm_rss);
	ck_assert_int_eq((long)s->vm_rss, mlt_status_kb(c->pid, "VmRSS") * 1024);
	ck_assert_uint_eq(s->n_extra, 0); /* this kernel's keys are all known */

	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.pid, c->pid);
	ck_assert_mem_eq(st.comm, "ml) \n(x)", 9);
	ck_assert_int_eq(st.num_threads, 4);
	ck_assert_int_eq(st.ppid, getpid());
	ck_assert_uint_eq(st.nfields, 52);
	ck_assert_uint_eq(st.vsize, s->vm_size);

	ml_statm m;
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_uint_eq(m.size * ml_statm_page_size(), s->vm_size);
	ml_status_free(s);

	/* a task handle reads the thread's own status and stat */
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, tid1, &t), 0);
	ck_assert_int_eq(ml_status_read(t, &s), 0);
	ck_assert_str_eq(s->name, "mlw-1");
	ck_assert_int_eq(s->pid, tid1);
	ck_assert_int_eq(s->tgid, c->pid);
	ml_status_free(s);
	ck_assert_int_eq(ml_stat_read(t, &st), 0);
	ck_assert_str_eq(st.comm, "mlw-1");
	ml_proc_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(cmdline_environ_of_child)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	ml_strv *v;
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 5);
	ck_assert(ml_bstr_eq(v->v[1], "arg with space"));
	ck_assert_uint_eq(v->v[2].len, 0);
	ck_assert(ml_bstr_eq(v->v[3], "x) (y"));
	ck_assert(ml_bstr_eq(v->v[4], "\xff\xfe"));
	ml_strv_free(v);
	ck_assert_int_eq(ml_environ_read(p, &v), 0);
	ml_bstr val;
	ck_assert(ml_environ_get(v, "ML_INFO_VAR", &val));
	ck_assert(ml_bstr_eq(val, "hello world"));
	ck_assert(ml_environ_get(v, "ML_INFO_BYTES", &val));
	ck_assert(ml_bstr_eq(val, "\xff\xfe"));
	ml_strv_free(v);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(zombie_cmdline_is_esrch_status_reads)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	mlt_cmd(c, "exit 0");
	mlt_wait_zombie(c);
	ml_strv *v = (ml_strv *)0x1;
	ck_assert_int_eq(ml_cmdline_read(p, &v), -ESRCH);
	ck_assert_ptr_eq(v, (ml_strv *)0x1);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(s->state, 'Z');
	ml_status_free(s);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.state, 'Z');
	mlt_wait(c);
	ck_assert_int_eq(ml_stat_read(p, &st), -ESRCH);
	ck_assert_int_eq(ml_status_read(p, &s), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(kernel_thread)
{
	ml_proc *p;
	if (ml_proc_open(2, &p) < 0)
		mlt_skip("no kernel thread visible as PID 2 (PID namespace?)");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	if (!s->kthread && ml_status_has(s, ML_STATUS_KTHREAD))
		mlt_skip("PID 2 is not a kernel thread here");
	ml_status_free(s);
	ml_strv *v;
	/* a kernel thread is alive with an empty command line: an empty list, not -ESRCH */
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 0);
	ml_strv_free(v);
	ml_statm m;
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_uint_eq(m.size, 0);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procinfo");
	TCase *tc = tcase_create("procinfo");
	tcase_add_test(tc, status_stat_statm_of_child);
	tcase_add_test(tc, cmdline_environ_of_child);
	tcase_add_test(tc, zombie_cmdline_is_esrch_status_reads);
	tcase_add_test(tc, kernel_thread);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
