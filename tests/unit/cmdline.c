/* ml_strv, cmdline and environ against fixtures and edge cases. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(threads_fixture)
{
	ml_proc *p = fx_open("info-threads");
	ml_strv *v;
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	/* the helper re-executes itself with exactly these arguments */
	ck_assert_uint_eq(v->n, 5);
	ck_assert(!v->unterminated);
	ck_assert_ptr_nonnull(strstr(v->v[0].ptr, "ml_infochild"));
	ck_assert(ml_bstr_eq(v->v[1], "arg with space"));
	ck_assert_uint_eq(v->v[2].len, 0);
	ck_assert(ml_bstr_eq(v->v[3], "x) (y"));
	ck_assert(ml_bstr_eq(v->v[4], "\xff\xfe"));
	ml_strv_free(v);

	ck_assert_int_eq(ml_environ_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 5);
	ml_bstr val;
	ck_assert(ml_environ_get(v, "ML_INFO_VAR", &val));
	ck_assert(ml_bstr_eq(val, "hello world"));
	ck_assert(ml_environ_get(v, "ML_INFO_EMPTY", &val));
	ck_assert_uint_eq(val.len, 0);
	ck_assert(ml_environ_get(v, "ML_INFO_BYTES", &val));
	ck_assert(ml_bstr_eq(val, "\xff\xfe"));
	ck_assert(!ml_environ_get(v, "ML_INFO", &val)); /* a prefix is not a name */
	ck_assert(!ml_environ_get(v, "NOPE", &val));
	ml_strv_free(v);
	ml_proc_free(p);
}
END_TEST

START_TEST(kthread_is_empty)
{
	/* a fixture directory has no liveness: an empty file is an empty list */
	ml_proc *p = fx_open("info-kthread");
	ml_strv *v;
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 0);
	ml_strv_free(v);
	ml_proc_free(p);
}
END_TEST

START_TEST(splitting)
{
	ml_strv *v;
	ck_assert_int_eq(ml_strv_parse("a\0\0b\0", 5, &v), 0);
	ck_assert_uint_eq(v->n, 3);
	ck_assert(ml_bstr_eq(v->v[0], "a"));
	ck_assert_uint_eq(v->v[1].len, 0);
	ck_assert_str_eq(v->v[2].ptr, "b");
	ml_strv_free(v);
	/* setproctitle-style: one string, no final NUL */
	ck_assert_int_eq(ml_strv_parse("nginx: worker process", 21, &v), 0);
	ck_assert_uint_eq(v->n, 1);
	ck_assert(v->unterminated);
	ck_assert_str_eq(v->v[0].ptr, "nginx: worker process");
	ml_strv_free(v);
	ck_assert_int_eq(ml_strv_parse("x\0yz", 3, &v), 0); /* len cuts "yz" to "y" */
	ck_assert_uint_eq(v->n, 2);
	ck_assert(ml_bstr_eq(v->v[1], "y"));
	ck_assert(v->unterminated);
	ml_strv_free(v);
	ck_assert_int_eq(ml_strv_parse("", 0, &v), 0);
	ck_assert_uint_eq(v->n, 0);
	ml_strv_free(v);
	ck_assert_int_eq(ml_strv_parse("\0", 1, &v), 0);
	ck_assert_uint_eq(v->n, 1);
	ck_assert_uint_eq(v->v[0].len, 0);
	ml_strv_free(v);
	ck_assert_int_eq(ml_strv_parse(NULL, 1, &v), -EINVAL);
	ml_strv_free(NULL);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("cmdline");
	TCase *tc = tcase_create("cmdline");
	tcase_add_test(tc, threads_fixture);
	tcase_add_test(tc, kthread_is_empty);
	tcase_add_test(tc, splitting);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
