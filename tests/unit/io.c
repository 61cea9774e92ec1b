/* ml_io against fixtures and malformed text. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(fixtures)
{
	size_t len;
	char *raw = fx_bytes("info-threads", "io", &len);
	ml_proc *p = fx_open("info-threads");
	ml_io io;
	ck_assert_int_eq(ml_io_read(p, &io), 0);
	ck_assert_uint_eq(io.present, 0x7f);
	ck_assert_uint_eq(io.rchar, fx_kv(raw, "rchar"));
	ck_assert_uint_eq(io.wchar, fx_kv(raw, "wchar"));
	ck_assert_uint_eq(io.syscr, fx_kv(raw, "syscr"));
	ck_assert_uint_eq(io.cancelled_write_bytes, fx_kv(raw, "cancelled_write_bytes"));
	free(raw);
	ml_proc_free(p);
	p = fx_open("info-kthread");
	ck_assert_int_eq(ml_io_read(p, &io), 0);
	ck_assert_uint_eq(io.rchar + io.wchar, 0);
	ml_proc_free(p);
}
END_TEST

START_TEST(malformed)
{
	ml_io io;
	ck_assert_int_eq(ml_io_parse("rchar: 1\nnew_counter: 5\n", 24, &io), 0);
	ck_assert_uint_eq(io.rchar, 1);
	ck_assert_uint_eq(io.present, 1);
	ck_assert_int_eq(ml_io_parse("rchar: x\n", 9, &io), -EBADMSG);
	ck_assert_int_eq(ml_io_parse("garbage\n", 8, &io), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("io");
	TCase *tc = tcase_create("io");
	tcase_add_test(tc, fixtures);
	tcase_add_test(tc, malformed);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
