/* lib/internal/pinfo.c, text.c and num.c: whole-field numbers (ml__trim, then ml__tok_dec: blanks around the value trimmed,
 * anything else in the field refused), through the public parser of "key: value" files that
 * uses them (ml_io_parse), against a reference written here. */
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

/* The contract: blanks, digits, blanks; the value within uint64_t. */
static int reference(const char *t, size_t n, uint64_t *ret)
{
	size_t i = 0;
	while (i < n && (t[i] == ' ' || t[i] == '\t'))
		i++;
	while (n > i && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (i == n)
		return -EBADMSG;
	unsigned __int128 v = 0;
	for (; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -EBADMSG;
		v = v * 10 + (unsigned)(t[i] - '0');
		if (v > UINT64_MAX)
			return -EBADMSG;
	}
	*ret = (uint64_t)v;
	return 0;
}

static void check(const char *field)
{
	char text[128];
	int n = snprintf(text, sizeof(text), "rchar:%s\nwchar: 5\n", field);
	ml_io io;
	memset(&io, 0, sizeof(io));
	uint64_t want = 0;
	int r = ml_io_parse(text, (size_t)n, &io), rr = reference(field, strlen(field), &want);
	ck_assert_msg(r == rr, "'rchar:%s': %d, expected %d", field, r, rr);
	if (r == 0) {
		ck_assert_msg(io.rchar == want, "'rchar:%s': %llu", field, (unsigned long long)io.rchar);
		ck_assert_uint_eq(io.wchar, 5);
	}
}

START_TEST(fields)
{
	static const char *const f[] = {
		" 0", " 42", "42", "\t42\t", "   18446744073709551615  ", " 18446744073709551616", " 000000000000000000000000007",
		" ", "", " -1", " +1", " 4 2", " 42x", " 0x2a", " 1e3", " 99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		check(f[i]);
}
END_TEST

START_TEST(random_fields)
{
	uint64_t s = 0x13198a2e03707344ull;
	static const char alpha[] = "01234567890123456789012345678901234567890123456789 \t+-x";
	char f[32];
	for (int i = 0; i < 30000; i++) {
		size_t n = (size_t)(rnd(&s) % 26);
		bool clean = rnd(&s) % 3;
		for (size_t k = 0; k < n; k++)
			f[k] = clean && k > 0 && k + 1 < n ? (char)('0' + rnd(&s) % 10) : alpha[rnd(&s) % (sizeof(alpha) - 1)];
		f[n] = '\0';
		check(f);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_pinfo");
	TCase *tc = tcase_create("pinfo");
	tcase_add_test(tc, fields);
	tcase_add_test(tc, random_fields);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
