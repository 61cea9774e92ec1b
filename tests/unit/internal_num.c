/* lib/internal/num.c: the library's number parsers: bases, whole tokens, overflow. */
#include <errno.h>
#include <string.h>

#include "internal/internal.h"
#include "mltest.h"

#define S(lit) lit, lit + sizeof(lit) - 1

START_TEST(scanners_stop_after_digits)
{
	const char *buf = "1f:77 -12 0777x", *p = buf, *end = buf + strlen(buf);
	uint64_t v;
	int64_t sv;
	ck_assert_int_eq(ml__parse_hex(&p, end, &v), 0);
	ck_assert_uint_eq(v, 0x1f);
	ck_assert_ptr_eq(p, buf + 2);
	p++;
	ck_assert_int_eq(ml__parse_dec(&p, end, &v), 0);
	ck_assert_uint_eq(v, 77);
	p++;
	ck_assert_int_eq(ml__parse_sdec(&p, end, &sv), 0);
	ck_assert_int_eq(sv, -12);
	p++;
	ck_assert_int_eq(ml__parse_oct(&p, end, &v), 0);
	ck_assert_uint_eq(v, 0777);
	ck_assert_int_eq(*p, 'x');
	/* no digit: an error, and the cursor and the value stay */
	v = 5;
	ck_assert_int_eq(ml__parse_dec(&p, end, &v), -EBADMSG);
	ck_assert_int_eq(*p, 'x');
	ck_assert_uint_eq(v, 5);
	/* the end pointer bounds the scan, not a NUL */
	p = "123";
	ck_assert_int_eq(ml__parse_dec(&p, p + 2, &v), 0);
	ck_assert_uint_eq(v, 12);
}
END_TEST

START_TEST(overflow_is_an_error)
{
	uint64_t v = 0;
	int64_t sv;
	ck_assert_int_eq(ml__tok_dec(S("18446744073709551615"), &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(ml__tok_dec(S("18446744073709551616"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_hex(S("ffffffffffffffff"), &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(ml__tok_hex(S("10000000000000000"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_oct(S("1777777777777777777777"), &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(ml__tok_oct(S("2000000000000000000000"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_sdec(S("-9223372036854775808"), &sv), 0);
	ck_assert_int_eq(sv, INT64_MIN);
	ck_assert_int_eq(ml__tok_sdec(S("9223372036854775807"), &sv), 0);
	ck_assert_int_eq(sv, INT64_MAX);
	ck_assert_int_eq(ml__tok_sdec(S("9223372036854775808"), &sv), -EBADMSG);
	ck_assert_int_eq(ml__tok_sdec(S("-9223372036854775809"), &sv), -EBADMSG);
	uint32_t u;
	int32_t s;
	ck_assert_int_eq(ml__tok_u32(S("4294967295"), &u), 0);
	ck_assert_uint_eq(u, UINT32_MAX);
	ck_assert_int_eq(ml__tok_u32(S("4294967296"), &u), -EBADMSG);
	ck_assert_int_eq(ml__tok_s32(S("-2147483648"), &s), 0);
	ck_assert_int_eq(s, INT32_MIN);
	ck_assert_int_eq(ml__tok_s32(S("2147483648"), &s), -EBADMSG);
	ck_assert_int_eq(ml__tok_s32(S("-2147483649"), &s), -EBADMSG);
}
END_TEST

START_TEST(tokens_are_whole)
{
	uint64_t v = 7;
	int64_t sv;
	ck_assert_int_eq(ml__tok_dec(S(""), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_dec(S(" 1"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_dec(S("1 "), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_dec(S("12a"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_dec(S("+1"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_dec(S("-1"), &v), -EBADMSG);
	ck_assert_uint_eq(v, 7); /* never written on error */
	ck_assert_int_eq(ml__tok_sdec(S("+1"), &sv), 0);
	ck_assert_int_eq(sv, 1);
	ck_assert_int_eq(ml__tok_sdec(S("-"), &sv), -EBADMSG);
	ck_assert_int_eq(ml__tok_hex(S("0x10"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_hex(S("aBcD"), &v), 0);
	ck_assert_uint_eq(v, 0xabcd);
	ck_assert_int_eq(ml__tok_xhex(S("0x10"), &v), 0);
	ck_assert_uint_eq(v, 0x10);
	ck_assert_int_eq(ml__tok_xhex(S("0X10"), &v), 0);
	ck_assert_uint_eq(v, 0x10);
	ck_assert_int_eq(ml__tok_xhex(S("10"), &v), 0);
	ck_assert_uint_eq(v, 0x10);
	ck_assert_int_eq(ml__tok_xhex(S("0x"), &v), -EBADMSG);
	ck_assert_int_eq(ml__tok_oct(S("8"), &v), -EBADMSG);
	/* a blank-padded value is the caller's to trim */
	const char *p = " \t42\t ", *e = p + strlen(p);
	ml__trim(&p, &e);
	ck_assert_int_eq(ml__tok_dec(p, e, &v), 0);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(number_lists)
{
	uint64_t v[3] = { 9, 9, 9 };
	ck_assert_int_eq(ml__tok_decs(S("1 22 333"), ' ', v, 3), 0);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 22);
	ck_assert_uint_eq(v[2], 333);
	uint64_t w[3] = { 9, 9, 9 };
	ck_assert_int_eq(ml__tok_decs(S("1 22"), ' ', w, 3), -EBADMSG);
	ck_assert_int_eq(ml__tok_decs(S("1 22 333 4"), ' ', w, 3), -EBADMSG);
	ck_assert_int_eq(ml__tok_decs(S("1  22 333"), ' ', w, 3), -EBADMSG);
	ck_assert_int_eq(ml__tok_decs(S("1 22 333\n"), ' ', w, 3), -EBADMSG);
	ck_assert_int_eq(ml__tok_decs(S("1,2,3"), ',', w, 3), 0);
	ck_assert_uint_eq(w[2], 3);
	uint64_t u[3] = { 9, 9, 9 };
	ck_assert_int_eq(ml__tok_decs(S("1 2 x"), ' ', u, 3), -EBADMSG);
	ck_assert_uint_eq(u[0], 9); /* nothing written on error */
}
END_TEST

START_TEST(hexval_digits)
{
	const char *digits = "0123456789abcdefABCDEF";
	for (size_t i = 0; digits[i]; i++)
		ck_assert_int_eq(ml__hexval(digits[i]), i < 16 ? (int)i : (int)i - 6);
	for (int c = -128; c < 128; c++)
		if (!strchr(digits, c) || c == 0)
			ck_assert_int_eq(ml__hexval((char)c), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_num");
	TCase *tc = tcase_create("num");
	tcase_add_test(tc, scanners_stop_after_digits);
	tcase_add_test(tc, overflow_is_an_error);
	tcase_add_test(tc, tokens_are_whole);
	tcase_add_test(tc, number_lists);
	tcase_add_test(tc, hexval_digits);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
