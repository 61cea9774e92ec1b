/* Thread iteration and task handles over the fixture with eight named threads. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(iterate_fixture_threads)
{
	ml_proc *p = fx_open("info-threads");
	ml_stat main_st;
	ck_assert_int_eq(ml_stat_read(p, &main_st), 0);
	ml_tasks *it;
	ck_assert_int_eq(ml_tasks_open(p, &it), 0);
	ml_proc *t;
	int n = 0, r;
	unsigned named = 0;
	bool saw_main = false;
	while ((r = ml_tasks_next(it, &t)) == 1) {
		ml_stat st;
		ck_assert_int_eq(ml_stat_read(t, &st), 0);
		ck_assert_int_eq(st.pid, ml_proc_pid(t));
		if (st.pid == main_st.pid) {
			saw_main = true;
		} else {
			int k;
			ck_assert_msg(sscanf(st.comm, "mlw-%d", &k) == 1, "thread comm %s", st.comm);
			named |= 1u << k;
		}
		ml_proc_free(t);
		n++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(n, 9);
	ck_assert(saw_main);
	ck_assert_uint_eq(named, 0xff);
	ml_tasks_free(it);

	ck_assert_int_eq(ml_task_main_thread(p, &t), 0);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(t, &st), 0);
	ck_assert_int_eq(st.pid, main_st.pid);
	ml_proc_free(t);
	ck_assert_int_eq(ml_proc_task(p, 999999999, &t), -ESRCH);
	ck_assert_int_eq(ml_proc_task(p, 0, &t), -EINVAL);

	/* a task handle has no task/ of its own */
	ck_assert_int_eq(ml_task_main_thread(p, &t), 0);
	ck_assert_int_lt(ml_tasks_open(t, &it), 0);
	ml_proc_free(t);
	ml_proc_free(p);
	ml_tasks_free(NULL);
}
END_TEST

START_TEST(tids_only)
{
	ml_proc *p = fx_open("info-kthread");
	ml_tasks *it;
	ck_assert_int_eq(ml_tasks_open(p, &it), 0);
	pid_t tid;
	ck_assert_int_eq(ml_tasks_next_tid(it, &tid), 1);
	ck_assert_int_eq(tid, 2);
	ck_assert_int_eq(ml_tasks_next_tid(it, &tid), 0);
	ml_tasks_free(it);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("task");
	TCase *tc = tcase_create("task");
	tcase_add_test(tc, iterate_fixture_threads);
	tcase_add_test(tc, tids_only);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
