/* lib/internal/escape.c: octal-escape decoding (every "\ooo" up to \377 is its byte, anything
 * else kept as it is) and token splitting, through the public parser that uses them
 * (ml_mountinfo_parse), on random mount points escaped here as the kernel escapes them. */
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

/* One mountinfo line whose mount point is the (already escaped) text @mp. */
static ml_mountinfo *parse_mp(const char *mp, size_t mplen)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "36 35 98:0 / %.*s rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
			 (int)mplen, mp);
	ml_mountinfo *mi = NULL;
	ck_assert_int_eq(ml_mountinfo_parse(line, (size_t)n, &mi), 0);
	return mi;
}

START_TEST(kernel_escapes_round_trip)
{
	/* the kernel escapes space, tab, newline and backslash as \ooo; every other byte (but
	 * NUL and '/', which a name cannot hold) is written as it is */
	uint64_t s = 0x452821e638d01377ull;
	for (int i = 0; i < 5000; i++) {
		unsigned char raw[40];
		size_t n = 1 + (size_t)(rnd(&s) % sizeof(raw));
		raw[0] = '/';
		for (size_t k = 1; k < n; k++) {
			unsigned c;
			do
				c = (unsigned)(rnd(&s) % 256);
			while (c == 0);
			raw[k] = (unsigned char)c;
		}
		char esc[200];
		size_t e = 0;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = raw[k];
			if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
				e += (size_t)sprintf(esc + e, "\\%03o", c);
			else
				esc[e++] = (char)c;
		}
		ml_mountinfo *mi = parse_mp(esc, e);
		ck_assert_uint_eq(ml_mountinfo_count(mi), 1);
		const ml_mount *m = ml_mountinfo_get(mi, 0);
		ck_assert_uint_eq(m->mount_point_len, n);
		ck_assert(!memcmp(m->mount_point, raw, n));
		ck_assert_int_eq(m->mount_point[n], '\0');
		ml_mountinfo_free(mi);
	}
}
END_TEST

START_TEST(what_is_not_an_escape_is_kept)
{
	static const struct { const char *in, *out; size_t outlen; } c[] = {
		{ "/a\\040b", "/a b", 4 },
		{ "/a\\134b", "/a\\b", 4 },
		{ "/a\\400b", "/a\\400b", 7 },  /* beyond a byte */
		{ "/a\\08", "/a\\08", 5 },      /* not octal */
		{ "/a\\04", "/a\\04", 5 },      /* cut short */
		{ "/a\\", "/a\\", 3 },
		{ "/\\000x", "/\0x", 3 },       /* a NUL, kept with its length */
		{ "/\\101\\102\\103", "/ABC", 4 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ml_mountinfo *mi = parse_mp(c[i].in, strlen(c[i].in));
		const ml_mount *m = ml_mountinfo_get(mi, 0);
		ck_assert_msg(m->mount_point_len == c[i].outlen && !memcmp(m->mount_point, c[i].out, c[i].outlen),
			      "%s: got %zu bytes", c[i].in, m->mount_point_len);
		ml_mountinfo_free(mi);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_escape");
	TCase *tc = tcase_create("escape");
	tcase_add_test(tc, kernel_escapes_round_trip);
	tcase_add_test(tc, what_is_not_an_escape_is_kept);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
