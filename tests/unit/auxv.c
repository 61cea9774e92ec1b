/* ml_auxv: the fixture's 64-bit vector, a synthetic 32-bit one, and layout detection. */
#include <elf.h>
#include <errno.h>

#include "info_fixture.h"

START_TEST(fixture_64)
{
	ml_proc *p = fx_open("info-threads");
	ml_auxv *a;
	ck_assert_int_eq(ml_auxv_read(p, ML_AUXV_AUTO, &a), 0);
	ck_assert_uint_eq(a->word_size, 8);
	ck_assert(a->terminated);
	uint64_t v;
	ck_assert(ml_auxv_get(a, AT_PAGESZ, &v));
	ck_assert_uint_eq(v, 4096);
	ck_assert(ml_auxv_get(a, AT_PHDR, &v));
	ck_assert(ml_auxv_get(a, AT_ENTRY, &v));
	ck_assert(ml_auxv_get(a, AT_UID, &v));
	ck_assert_uint_eq(v, 0);
	/* AT_EXECFN points inside the stack, between env_end and the top */
	ck_assert(ml_auxv_get(a, AT_EXECFN, &v));
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_uint_ge(v, st.env_end);
	ck_assert(!ml_auxv_get(a, 9999, NULL));
	ck_assert_str_eq(ml_auxv_type_name(AT_SYSINFO_EHDR), "AT_SYSINFO_EHDR");
	ck_assert_ptr_null(ml_auxv_type_name(1000));
	size_t len;
	char *raw = fx_bytes("info-threads", "auxv", &len);
	ck_assert_uint_eq(a->n, len / 16 - 1);
	ml_auxv *b;
	ck_assert_int_eq(ml_auxv_parse(raw, len, ML_AUXV_64, &b), 0);
	ck_assert_uint_eq(b->n, a->n);
	ml_auxv_free(b);
	free(raw);
	ml_auxv_free(a);
	ml_proc_free(p);
}
END_TEST

START_TEST(layouts)
{
	/* a 32-bit process's vector: pairs of u32 */
	uint32_t v32[] = { AT_PHDR, 0x8048034, AT_PAGESZ, 4096, AT_ENTRY, 0x8049000, AT_NULL, 0 };
	ml_auxv *a;
	ck_assert_int_eq(ml_auxv_parse(v32, sizeof(v32), ML_AUXV_AUTO, &a), 0);
	ck_assert_uint_eq(a->word_size, 4);
	ck_assert_uint_eq(a->n, 3);
	uint64_t v;
	ck_assert(ml_auxv_get(a, AT_ENTRY, &v));
	ck_assert_uint_eq(v, 0x8049000);
	ml_auxv_free(a);
	ck_assert_int_eq(ml_auxv_parse(v32, sizeof(v32), ML_AUXV_64, &a), -EBADMSG);
	uint64_t v64[] = { AT_PAGESZ, 4096, AT_NULL, 0, 77, 88 };
	ck_assert_int_eq(ml_auxv_parse(v64, sizeof(v64), ML_AUXV_AUTO, &a), 0);
	ck_assert_uint_eq(a->word_size, 8);
	ck_assert_uint_eq(a->n, 1); /* what follows AT_NULL is not part of the vector */
	ml_auxv_free(a);
	ck_assert_int_eq(ml_auxv_parse("", 0, ML_AUXV_AUTO, &a), 0);
	ck_assert_uint_eq(a->n, 0);
	ml_auxv_free(a);
	ck_assert_int_eq(ml_auxv_parse(v64, 5, ML_AUXV_AUTO, &a), 0); /* a partial pair is dropped */
	ck_assert_uint_eq(a->n, 0);
	ml_auxv_free(a);
	ck_assert_int_eq(ml_auxv_parse(v64, 16, (ml_auxv_layout)3, &a), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("auxv");
	TCase *tc = tcase_create("auxv");
	tcase_add_test(tc, fixture_64);
	tcase_add_test(tc, layouts);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
