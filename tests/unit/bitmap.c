/* lib/bitmap.c: the kernel's mask ("%*pb") and list ("%*pbl") formats, hand-made cases and
 * random sets printed by this test in both formats, checked member by member. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"

static ml_bitmap *mask(const char *s)
{
	ml_bitmap *b = NULL;
	ck_assert_int_eq(ml_bitmap_parse_mask(s, strlen(s), &b), 0);
	return b;
}

static ml_bitmap *list(const char *s)
{
	ml_bitmap *b = NULL;
	ck_assert_int_eq(ml_bitmap_parse_list(s, strlen(s), &b), 0);
	return b;
}

START_TEST(bitmaps)
{
	ml_bitmap *a = mask("ff,ffffffff\n"), *b = list("0-39\n");
	ck_assert_uint_eq(ml_bitmap_size(a), 64);
	ck_assert_uint_eq(ml_bitmap_size(b), 40);
	ck_assert_uint_eq(ml_bitmap_count(a), 40);
	ck_assert(ml_bitmap_equal(a, b));
	ck_assert(ml_bitmap_test(a, 39) && !ml_bitmap_test(a, 40) && !ml_bitmap_test(b, 1000));
	ml_bitmap_free(a);
	ml_bitmap_free(b);
	a = mask("80000000,00000001");
	ck_assert_int_eq(ml_bitmap_next(a, 0), 0);
	ck_assert_int_eq(ml_bitmap_next(a, 1), 63);
	ck_assert_int_eq(ml_bitmap_next(a, 64), -1);
	b = list("0,63");
	ck_assert(ml_bitmap_equal(a, b));
	ml_bitmap_free(b);
	b = list("0,62");
	ck_assert(!ml_bitmap_equal(a, b));
	ml_bitmap_free(a);
	ml_bitmap_free(b);
	/* three words: the middle one at bits 32-63 */
	a = mask("1,00000002,00000004");
	b = list("2,33,64");
	ck_assert(ml_bitmap_equal(a, b));
	ck_assert_uint_eq(ml_bitmap_count(a), 3);
	ml_bitmap_free(a);
	ml_bitmap_free(b);
	a = list("");
	ck_assert_uint_eq(ml_bitmap_count(a), 0);
	ck_assert_int_eq(ml_bitmap_next(a, 0), -1);
	ml_bitmap_free(a);
	static const char *const bad_masks[] = { "", "\n", "g", "1,", ",1", "123456789", "1,,2", " 1" };
	for (size_t i = 0; i < sizeof(bad_masks) / sizeof(bad_masks[0]); i++)
		ck_assert_int_eq(ml_bitmap_parse_mask(bad_masks[i], strlen(bad_masks[i]), &a), -EBADMSG);
	static const char *const bad_lists[] = { "3-1", "1,", ",1", "-1", "1-", "a", "1 2", "99999999" };
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
		ck_assert_int_eq(ml_bitmap_parse_list(bad_lists[i], strlen(bad_lists[i]), &a), -EBADMSG);
	ck_assert_int_eq(ml_bitmap_parse_list(NULL, 1, &a), -EINVAL);
}
END_TEST

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Prints @set (@n flags) as the kernel's mask: 32-bit words, most significant first. */
static void print_mask(const unsigned char *set, size_t n, char *out)
{
	size_t words = n ? (n + 31) / 32 : 1;
	char *o = out;
	for (size_t w = words; w-- > 0;) {
		uint32_t v = 0;
		for (size_t b = 0; b < 32; b++)
			if (w * 32 + b < n && set[w * 32 + b])
				v |= 1u << b;
		o += sprintf(o, w + 1 == words ? "%x" : ",%08x", v);
	}
	strcpy(o, "\n");
}

/* Prints @set as the kernel's list: ranges of consecutive members. */
static void print_list(const unsigned char *set, size_t n, char *out)
{
	char *o = out;
	for (size_t i = 0; i < n;) {
		if (!set[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < n && set[j + 1])
			j++;
		if (o != out)
			*o++ = ',';
		o += j > i ? sprintf(o, "%zu-%zu", i, j) : sprintf(o, "%zu", i);
		i = j + 1;
	}
	strcpy(o, "\n");
}

static void check_set(const ml_bitmap *b, const unsigned char *set, size_t n, const char *text)
{
	size_t count = 0;
	for (size_t i = 0; i < n + 70; i++) {
		bool want = i < n && set[i];
		ck_assert_msg(ml_bitmap_test(b, i) == want, "bit %zu of %s", i, text);
		count += want;
	}
	ck_assert_uint_eq(ml_bitmap_count(b), count);
	/* next() visits exactly the members, in order */
	size_t seen = 0;
	for (ssize_t m = ml_bitmap_next(b, 0); m >= 0; m = ml_bitmap_next(b, (size_t)m + 1)) {
		ck_assert_msg((size_t)m < n && set[m], "next() gave %zd of %s", m, text);
		seen++;
	}
	ck_assert_uint_eq(seen, count);
}

START_TEST(random_sets_in_both_formats)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	static unsigned char set[5000];
	static char mtext[5000 / 4 + 5000 / 32 + 16], ltext[5000 * 6];
	for (int round = 0; round < 40; round++) {
		size_t n = 1 + rnd(&s) % (round < 20 ? 130 : 2000);
		unsigned density = 1 + (unsigned)(rnd(&s) % 8);
		for (size_t i = 0; i < n; i++)
			set[i] = rnd(&s) % 8 < density;
		print_mask(set, n, mtext);
		print_list(set, n, ltext);
		ml_bitmap *a = NULL, *b = NULL;
		ck_assert_int_eq(ml_bitmap_parse_mask(mtext, strlen(mtext), &a), 0);
		ck_assert_int_eq(ml_bitmap_parse_list(ltext, strlen(ltext), &b), 0);
		check_set(a, set, n, mtext);
		check_set(b, set, n, ltext);
		ck_assert(ml_bitmap_equal(a, b));
		ck_assert(ml_bitmap_equal(b, a));
		/* sizes: a mask describes whole 32-bit words, a list one past its highest member */
		ck_assert_uint_eq(ml_bitmap_size(a), ((n + 31) / 32) * 32);
		size_t top = 0;
		for (size_t i = 0; i < n; i++)
			if (set[i])
				top = i + 1;
		ck_assert_uint_eq(ml_bitmap_size(b), top);
		ml_bitmap_free(a);
		ml_bitmap_free(b);
	}
}
END_TEST

START_TEST(list_bound_and_word_width)
{
	ml_bitmap *a = NULL;
	char t[64];
	/* the highest member a list may name is just under 1<<24 */
	snprintf(t, sizeof(t), "%u", (1u << 24) - 1);
	ck_assert_int_eq(ml_bitmap_parse_list(t, strlen(t), &a), 0);
	ck_assert(ml_bitmap_test(a, (1u << 24) - 1));
	ck_assert_uint_eq(ml_bitmap_count(a), 1);
	ml_bitmap_free(a);
	snprintf(t, sizeof(t), "0,%u", (1u << 24) + 1);
	ck_assert_int_eq(ml_bitmap_parse_list(t, strlen(t), &a), -EBADMSG);
	/* a word is at most 8 digits; shorter words are allowed and right-aligned */
	a = mask("f,1");
	ck_assert(ml_bitmap_test(a, 0) && ml_bitmap_test(a, 32) && ml_bitmap_test(a, 35) && !ml_bitmap_test(a, 36));
	ck_assert_uint_eq(ml_bitmap_count(a), 5);
	ml_bitmap_free(a);
	ck_assert_int_eq(ml_bitmap_parse_mask("1,000000001", 11, &a), -EBADMSG);
	/* uppercase hex is the same mask */
	ml_bitmap *l = mask("FF"), *u = mask("ff");
	ck_assert(ml_bitmap_equal(l, u));
	ml_bitmap_free(l);
	ml_bitmap_free(u);
	/* the length given is the text: bytes after it are not read */
	ck_assert_int_eq(ml_bitmap_parse_list("1-3,99", 3, &a), 0);
	ck_assert_uint_eq(ml_bitmap_count(a), 3);
	ck_assert_uint_eq(ml_bitmap_size(a), 4);
	ml_bitmap_free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bitmap");
	TCase *tc = tcase_create("bitmap");
	tcase_add_test(tc, bitmaps);
	tcase_add_test(tc, random_sets_in_both_formats);
	tcase_add_test(tc, list_bound_and_word_width);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
