/* ml_schedstat against fixtures and malformed text. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(fixtures)
{
	size_t len;
	char *raw = fx_bytes("info-threads", "schedstat", &len);
	unsigned long long run, wait, slices;
	ck_assert_int_eq(sscanf(raw, "%llu %llu %llu", &run, &wait, &slices), 3);
	ml_proc *p = fx_open("info-threads");
	ml_schedstat ss;
	ck_assert_int_eq(ml_schedstat_read(p, &ss), 0);
	ck_assert_uint_eq(ss.run_ns, run);
	ck_assert_uint_eq(ss.wait_ns, wait);
	ck_assert_uint_eq(ss.timeslices, slices);
	ck_assert_uint_gt(ss.timeslices, 0);
	free(raw);
	ml_proc_free(p);
}
END_TEST

START_TEST(malformed)
{
	ml_schedstat ss = { 9, 9, 9 };
	ck_assert_int_eq(ml_schedstat_parse("1 2 3\n", 6, &ss), 0);
	ck_assert_uint_eq(ss.wait_ns, 2);
	ck_assert_int_eq(ml_schedstat_parse("1 2 3", 5, &ss), 0);
	ck_assert_int_eq(ml_schedstat_parse("1 2\n", 4, &ss), -EBADMSG);
	ck_assert_int_eq(ml_schedstat_parse("1 2 3 4\n", 8, &ss), -EBADMSG);
	ck_assert_int_eq(ml_schedstat_parse("1  2 3\n", 7, &ss), -EBADMSG);
	ck_assert_int_eq(ml_schedstat_parse("", 0, &ss), -EBADMSG);
	ck_assert_uint_eq(ss.run_ns, 1);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("schedstat");
	TCase *tc = tcase_create("schedstat");
	tcase_add_test(tc, fixtures);
	tcase_add_test(tc, malformed);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
