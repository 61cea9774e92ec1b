/* ml_limits against the fixture whose limits the capture set, and malformed text. */
#include <errno.h>
#include <sys/resource.h>

#include "info_fixture.h"

START_TEST(fixture)
{
	ml_proc *p = fx_open("info-threads");
	ml_limits l;
	ck_assert_int_eq(ml_limits_read(p, &l), 0);
	for (int i = 0; i < ML_LIMIT_COUNT; i++)
		ck_assert_msg(l.lim[i].present, "limit %d missing", i);
	ck_assert_uint_eq(l.n_unknown, 0);
	ck_assert_uint_eq(l.lim[RLIMIT_AS].soft, 1u << 30);
	ck_assert_uint_eq(l.lim[RLIMIT_AS].hard, 2u << 30);
	ck_assert_str_eq(l.lim[RLIMIT_AS].units, "bytes");
	ck_assert_uint_eq(l.lim[RLIMIT_MEMLOCK].soft, 65536);
	ck_assert_uint_eq(l.lim[RLIMIT_CORE].soft, 0);
	ck_assert_uint_eq(l.lim[RLIMIT_CORE].hard, ML_LIMIT_UNLIMITED);
	ck_assert_uint_eq(l.lim[RLIMIT_CPU].soft, ML_LIMIT_UNLIMITED);
	ck_assert_str_eq(l.lim[RLIMIT_CPU].units, "seconds");
	ck_assert_str_eq(l.lim[RLIMIT_NICE].units, "");
	ck_assert_str_eq(l.lim[RLIMIT_RTTIME].units, "us");
	ck_assert_str_eq(ml_limit_name(RLIMIT_AS), "Max address space");
	ck_assert_str_eq(ml_limit_key(RLIMIT_MEMLOCK), "memlock");
	ck_assert_ptr_null(ml_limit_name(ML_LIMIT_COUNT));
	ml_proc_free(p);
}
END_TEST

static int parse(const char *t, ml_limits *l) { return ml_limits_parse(t, strlen(t), l); }

START_TEST(edge_cases)
{
	ml_limits l;
	ck_assert_int_eq(parse("Limit  Soft Limit  Hard Limit  Units\nMax open files 1024 4096 files\n"
			       "Max widgets 1 2 widgets\n", &l), 0);
	ck_assert(l.lim[RLIMIT_NOFILE].present);
	ck_assert_uint_eq(l.lim[RLIMIT_NOFILE].hard, 4096);
	ck_assert(!l.lim[RLIMIT_AS].present);
	ck_assert_uint_eq(l.n_unknown, 1);
	ck_assert_int_eq(parse("Max open files 1 2 files\n", &l), -EBADMSG);          /* no header */
	ck_assert_int_eq(parse("Limit\nMax open files 1\n", &l), -EBADMSG);           /* no hard */
	ck_assert_int_eq(parse("Limit\nMax open files lots 2 files\n", &l), -EBADMSG);
	ck_assert_int_eq(parse("Limit\nMax open files 1 2 files extra\n", &l), -EBADMSG);
	ck_assert_int_eq(parse("", &l), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("limits");
	TCase *tc = tcase_create("limits");
	tcase_add_test(tc, fixture);
	tcase_add_test(tc, edge_cases);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
