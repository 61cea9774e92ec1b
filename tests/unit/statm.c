/* ml_statm against fixtures and malformed text. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(fixtures)
{
	ml_proc *p = fx_open("info-threads");
	ml_statm m;
	ml_status *s;
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	uint64_t ps = ml_statm_page_size();
	/* statm and status are two views of the same counters */
	ck_assert_uint_eq(m.size * ps, s->vm_size);
	ck_assert_uint_eq(m.resident * ps, s->vm_rss);
	ck_assert_uint_eq(m.shared * ps, s->rss_file + s->rss_shmem);
	ck_assert_uint_eq(m.data * ps, s->vm_data + s->vm_stk);
	ck_assert_uint_eq(m.lib, 0);
	ck_assert_uint_eq(m.dt, 0);
	ml_status_free(s);
	ml_proc_free(p);
	p = fx_open("info-kthread");
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_uint_eq(m.size + m.resident + m.shared + m.text + m.data, 0);
	ml_proc_free(p);
}
END_TEST

START_TEST(malformed)
{
	ml_statm m = { 1, 2, 3, 4, 5, 6, 7 };
	ck_assert_int_eq(ml_statm_parse("1 2 3 4 5 6 7", 13, &m), 0);
	ck_assert_uint_eq(m.dt, 7);
	/* outputs are written only on success: a poisoned output stays as it was */
	static const struct { const char *s; size_t len; } bad[] = {
		{ "1 2 3 4 5 6", 11 }, { "1 2 3 4 5 6 7 8\n", 16 }, { "1 2 3 4 5 6 x\n", 14 }, { "", 0 },
		{ "1 2 3 4 5 6 7", 12 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml_statm poison, before;
		memset(&poison, 0xa5, sizeof(poison));
		before = poison;
		ck_assert_int_eq(ml_statm_parse(bad[i].s, bad[i].len, &poison), -EBADMSG);
		ck_assert_mem_eq(&poison, &before, sizeof(poison));
	}
	/* the length bounds the parse: "7" of "1 2 3 4 5 6 78" is complete at len 13 */
	ck_assert_int_eq(ml_statm_parse("1 2 3 4 5 6 78", 13, &m), 0);
	ck_assert_uint_eq(m.dt, 7);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("statm");
	TCase *tc = tcase_create("statm");
	tcase_add_test(tc, fixtures);
	tcase_add_test(tc, malformed);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
