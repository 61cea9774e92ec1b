/* lib/internal/text.c and num.c: blank scanning and the decimal scanners (ml__parse_dec,
 * ml__parse_sdec, in num.c since the number parsers became one family), through the public
 * parser that is nothing but them (ml_procinfo_int_parse), against a reference written here on
 * random and boundary tokens: sign, leading zeros, 64-bit limits, stray bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The contract: [+-]digits, an optional final newline, the value within int64_t. */
static int reference(const char *t, size_t n, int64_t *ret)
{
	if (n && t[n - 1] == '\n')
		n--;
	size_t i = 0;
	bool neg = false;
	if (i < n && (t[i] == '+' || t[i] == '-'))
		neg = t[i++] == '-';
	if (i == n)
		return -EBADMSG;
	__int128 v = 0;
	for (; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -EBADMSG;
		v = v * 10 + (t[i] - '0');
		if (v > (__int128)INT64_MAX + 1)
			return -EBADMSG;
	}
	if (neg)
		v = -v;
	if (v > INT64_MAX || v < INT64_MIN)
		return -EBADMSG;
	*ret = (int64_t)v;
	return 0;
}

static void check(const char *t, size_t n)
{
	int64_t a = 0x5a5a, b = 0x5a5a;
	int ra = ml_procinfo_int_parse(t, n, &a), rb = reference(t, n, &b);
	ck_assert_msg(ra == rb, "'%.*s': %d, expected %d", (int)n, t, ra, rb);
	if (ra == 0)
		ck_assert_msg(a == b, "'%.*s': %lld, expected %lld", (int)n, t, (long long)a, (long long)b);
	else
		ck_assert_msg(a == 0x5a5a, "'%.*s': output written on failure", (int)n, t);
}

START_TEST(boundaries)
{
	static const char *const t[] = {
		"0", "-0", "+0", "7\n", "-1", "+42", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
		"000000000000000000000000000000000000000042", "-000000000000000000009223372036854775808",
		"99999999999999999999999999", "", "\n", "-", "+", "--1", "+-1", " 1", "1 ", "1\n\n", "1x", "0x10",
		"1\t", "\n1", "１",
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check(t[i], strlen(t[i]));
	/* the length given is the text: a NUL inside it is a stray byte */
	check("12\0" "3", 4);
	check("123", 2);
	ck_assert_int_eq(ml_procinfo_int_parse(NULL, 1, &(int64_t){ 0 }), -EINVAL);
}
END_TEST

START_TEST(random_tokens)
{
	uint64_t s = 0x243f6a8885a308d3ull;
	static const char alpha[] = "0123456789012345678901234567890123456789+- x\n";
	char t[32];
	for (int i = 0; i < 50000; i++) {
		size_t n = 1 + (size_t)(rnd(&s) % 24);
		bool clean = rnd(&s) % 4;
		for (size_t k = 0; k < n; k++)
			t[k] = clean ? (char)('0' + rnd(&s) % 10) : alpha[rnd(&s) % (sizeof(alpha) - 1)];
		if (clean && rnd(&s) % 3 == 0)
			t[0] = rnd(&s) & 1 ? '-' : '+';
		check(t, n);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_text");
	TCase *tc = tcase_create("text");
	tcase_add_test(tc, boundaries);
	tcase_add_test(tc, random_tokens);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
