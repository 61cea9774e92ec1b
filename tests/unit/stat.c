/* ml_stat against fixtures (a comm with ')' and a newline, a zombie, a kernel thread). */
#include <errno.h>

#include "info_fixture.h"

START_TEST(threads_fixture)
{
	ml_proc *p = fx_open("info-threads");
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_uint_eq(st.comm_len, 8);
	ck_assert_mem_eq(st.comm, "ml) \n(x)", 9);
	ck_assert_int_eq(st.pid, s->pid);
	ck_assert_int_eq(st.ppid, s->ppid);
	ck_assert_int_eq(st.session, s->ns_sid[0]);
	ck_assert_int_eq(st.pgrp, s->ns_pgid[0]);
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.num_threads, 9);
	ck_assert_int_eq(st.tty_nr, 0);
	ck_assert_int_eq(st.tpgid, -1);
	ck_assert_uint_eq(st.vsize, s->vm_size);
	/* stat and status were read one after the other: RSS moved a little in between */
	ck_assert_int_gt(st.rss, 0);
	ck_assert_uint_le((uint64_t)st.rss * ml_statm_page_size(), s->vm_size);
	ck_assert_uint_eq(st.rsslim, UINT64_MAX);
	ck_assert_int_eq(st.priority, 20);
	ck_assert_int_eq(st.nice, 0);
	ck_assert_int_eq(st.exit_signal, 17); /* SIGCHLD */
	ck_assert_uint_eq(st.sigcatch, s->sig_cgt & 0x7fffffff); /* stat shows 31 bits only */
	ck_assert_uint_lt(st.start_code, st.end_code);
	ck_assert_uint_lt(st.arg_start, st.arg_end);
	ck_assert_uint_eq(st.arg_end, st.env_start);
	ck_assert_uint_lt(st.env_start, st.env_end);
	ck_assert_uint_eq(st.nfields, 52);
	ml_status_free(s);
	ml_proc_free(p);
}
END_TEST

START_TEST(zombie_and_kthread)
{
	ml_stat st;
	ml_proc *p = fx_open("info-zombie");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.state, 'Z');
	ck_assert_str_eq(st.comm, "sleep");
	ck_assert_uint_eq(st.vsize, 0);
	ml_proc_free(p);
	p = fx_open("info-kthread");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.pid, 2);
	ck_assert_str_eq(st.comm, "kthreadd");
	ck_assert_uint_eq(st.flags & 0x00200000u, 0x00200000u); /* PF_KTHREAD */
	ck_assert_uint_eq(st.sigignore, 2147483647u);
	ml_proc_free(p);
}
END_TEST

static int parse(const char *t, ml_stat *st) { return ml_stat_parse(t, strlen(t), st); }

START_TEST(edge_cases)
{
	ml_stat st;
	/* the comm ends at the LAST ')' even if it holds ") 5 6 (" */
	ck_assert_int_eq(parse("7 (a) 5 6 (b) R 1 7 7 0 -1 0 0 0 0 0 1 2 -3 -4 20 -5 1 0 99 4096 3 100\n", &st), 0);
	ck_assert_str_eq(st.comm, "a) 5 6 (b");
	ck_assert_int_eq(st.state, 'R');
	ck_assert_int_eq(st.cutime, -3);
	ck_assert_int_eq(st.nice, -5);
	ck_assert_int_eq(st.rss, 3);
	ck_assert_uint_eq(st.rsslim, 100);
	ck_assert_uint_eq(st.nfields, 25);
	/* an empty comm */
	ck_assert_int_eq(parse("7 () S 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 4096 3", &st), 0);
	ck_assert_uint_eq(st.comm_len, 0);
	/* fields a future kernel appends are ignored */
	char longer[1024] = "1 (x) S";
	for (int i = 0; i < 60; i++)
		strcat(longer, " 1");
	ck_assert_int_eq(parse(longer, &st), 0);
	ck_assert_uint_eq(st.nfields, 52);
	/* a 127+ byte comm is cut, not overflowed */
	char big[512] = "9 (";
	memset(big + 3, 'c', 200);
	strcpy(big + 203, ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1");
	ck_assert_int_eq(parse(big, &st), 0);
	ck_assert_uint_eq(st.comm_len, ML_STAT_COMM_MAX);

	ml_stat keep;
	memset(&keep, 0x5a, sizeof(keep));
	ml_stat orig = keep;
	ck_assert_int_eq(parse("7 (a) R 1 2", &keep), -EBADMSG);             /* too few */
	ck_assert_int_eq(parse("7 a R 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 4096 3", &keep), -EBADMSG);
	ck_assert_int_eq(parse("7 (a R 1 7 7 0", &keep), -EBADMSG);             /* no ')' */
	ck_assert_int_eq(parse("7 (a) R 1 x 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 4096 3", &keep), -EBADMSG);
	ck_assert_int_eq(parse("7 (a) R  1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 4096 3", &keep), -EBADMSG);
	ck_assert_int_eq(parse("-7 (a) R 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99 4096 3", &keep), -EBADMSG);
	ck_assert_int_eq(parse("7 (a)", &keep), -EBADMSG);
	ck_assert_int_eq(parse("", &keep), -EBADMSG);
	ck_assert_mem_eq(&keep, &orig, sizeof(keep));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("stat");
	TCase *tc = tcase_create("stat");
	tcase_add_test(tc, threads_fixture);
	tcase_add_test(tc, zombie_and_kthread);
	tcase_add_test(tc, edge_cases);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
