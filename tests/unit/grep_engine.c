/* tools/grep/engine.c and scan.c (with lit.c and hexpat.c): gp_scan() driven over generated buffers in
 * windows of every size, as memlens grep drives it, against references written here: every
 * occurrence of each literal (overlapping ones too, ASCII case folded, UTF-16LE), hex byte
 * patterns with wildcards, and regexes through POSIX regexec (non-overlapping, ^ only at the
 * run's start and $ only at its end), in the portable engine and in Vectorscan's. */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltest.h"
#include "grep/grep.h"

typedef struct hit {
	uint64_t start, end;
	size_t user;
	int enc;
} hit;

typedef struct hits {
	hit *v;
	size_t n, cap;
} hits;

static void push(hits *h, uint64_t start, uint64_t end, size_t user, int enc)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 256;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		ck_assert_ptr_nonnull(h->v);
	}
	h->v[h->n++] = (hit){ start, end, user, enc };
}

static int cmp_hit(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->enc != y->enc)
		return x->enc < y->enc ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A pattern as the test gives it to the engine, and the reference's own reading of it. */
typedef struct spec {
	gp_kind kind;
	const char *text;
	/* hex: the bytes the reference tests ((b & mask) == val), written out by hand */
	size_t hlen;
	uint8_t hval[8], hmask[8];
} spec;

static const gp_engine engines[] = { GP_ENGINE_PORTABLE, GP_ENGINE_VECTORSCAN };

static gp_set *make_set(gp_engine eng, bool icase, gp_enc enc, const spec *p, size_t n)
{
	gp_set_opts o = { .icase = icase, .enc = enc, .engine = eng, .max_regex_len = 64 };
	gp_set *s = gp_set_new(&o);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		char *err = NULL;
		int r = gp_set_add(s, p[i].kind, p[i].text, strlen(p[i].text), &err);
		if (r == -ENOENT)
			mlt_skip("PCRE2 cannot be loaded: %s", err ? err : "?");
		ck_assert_msg(r == 0, "add '%s': %d %s", p[i].text, r, err ? err : "");
		free(err);
	}
	char *err = NULL;
	int r = gp_set_compile(s, &err);
	if (eng == GP_ENGINE_VECTORSCAN && (r == -EOPNOTSUPP || r == -ENOENT)) {
		gp_set_free(s);
		mlt_skip("no Vectorscan engine here: %s", err ? err : "?");
	}
	ck_assert_msg(r == 0, "compile: %d %s", r, err ? err : "");
	free(err);
	ck_assert_str_eq(gp_set_engine_name(s), eng == GP_ENGINE_VECTORSCAN ? "vectorscan" : "portable");
	return s;
}

/*
 * Scans @buf (@n bytes, one run of memory at @base) as memlens grep does: windows of
 * random sizes (@fixed: all of that size), each buffer starting the overlap before the
 * window and reaching the overlap (plus Vectorscan's margin of readable bytes) past it.
 */
static void engine_hits(const gp_set *s, const uint8_t *buf, size_t n, uint64_t base, uint64_t seed,
			size_t fixed, hits *out)
{
	gp_scratch *sc = gp_scratch_new(s);
	ck_assert_ptr_nonnull(sc);
	gp_scratch_reset(sc, base);
	size_t O = gp_set_overlap(s), M = gp_set_margin(s);
	uint64_t rs = seed;
	for (size_t lo = 0; lo < n;) {
		size_t w = fixed ? fixed : 1 + (size_t)(rnd(&rs) % ((rnd(&rs) & 1) ? 64 : 9000));
		size_t hi = n - lo > w ? lo + w : n;
		size_t bs = lo > O ? lo - O : 0;
		size_t send = n - hi > O ? hi + O : n;
		size_t savail = n - hi > O + M ? hi + O + M : n;
		const gp_hit *h;
		size_t nh;
		ck_assert_int_eq(gp_scan(s, sc, buf + bs, send - bs, savail - bs, base + bs, lo - bs, lo - bs, hi - bs,
					 savail == n, &h, &nh), 0);
		for (size_t i = 0; i < nh; i++) {
			ck_assert_msg(h[i].start >= lo - bs && h[i].start < hi - bs, "hit at %zu outside [%zu, %zu)",
				      bs + h[i].start, lo, hi);
			ck_assert(h[i].end > h[i].start && h[i].end <= send - bs);
			if (i)
				ck_assert(h[i - 1].start <= h[i].start);
			const gp_pat *p = gp_set_pat(s, h[i].pat);
			push(out, base + bs + h[i].start, base + bs + h[i].end, p->user, p->enc);
		}
		lo = hi;
	}
	gp_scratch_free(sc);
}

static uint8_t fold(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

/* Every occurrence of @needle (@len bytes) in @buf. */
static void ref_literal(const uint8_t *buf, size_t n, uint64_t base, const uint8_t *needle, size_t len,
			bool icase, size_t user, int enc, hits *out)
{
	for (size_t i = 0; i + len <= n; i++) {
		size_t k = 0;
		while (k < len && (icase ? fold(buf[i + k]) == fold(needle[k]) : buf[i + k] == needle[k]))
			k++;
		if (k == len)
			push(out, base + i, base + i + len, user, enc);
	}
}

static void ref_hex(const uint8_t *buf, size_t n, uint64_t base, const spec *p, size_t user, hits *out)
{
	for (size_t i = 0; i + p->hlen <= n; i++) {
		size_t k = 0;
		while (k < p->hlen && (buf[i + k] & p->hmask[k]) == p->hval[k])
			k++;
		if (k == p->hlen)
			push(out, base + i, base + i + p->hlen, user, GP_ENC_ASCII);
	}
}

/* Leftmost matches, each search starting where the previous match ended. */
static void ref_regex(const uint8_t *buf, size_t n, uint64_t base, const char *re, bool icase, size_t user,
		      hits *out)
{
	regex_t r;
	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | (icase ? REG_ICASE : 0)), 0);
	for (size_t pos = 0; pos < n;) {
		regmatch_t m = { .rm_so = (regoff_t)pos, .rm_eo = (regoff_t)n };
		if (regexec(&r, (const char *)buf, 1, &m, REG_STARTEND | (pos ? REG_NOTBOL : 0)) != 0)
			break;
		ck_assert_int_gt(m.rm_eo, m.rm_so);
		push(out, base + (uint64_t)m.rm_so, base + (uint64_t)m.rm_eo, user, GP_ENC_ASCII);
		pos = (size_t)m.rm_eo;
	}
	regfree(&r);
}

static void reference(const uint8_t *buf, size_t n, uint64_t base, const spec *p, size_t np, bool icase,
		      gp_enc enc, hits *out)
{
	for (size_t i = 0; i < np; i++) {
		if (p[i].kind == GP_LITERAL) {
			const uint8_t *t = (const uint8_t *)p[i].text;
			size_t len = strlen(p[i].text);
			if (enc & GP_ENC_ASCII)
				ref_literal(buf, n, base, t, len, icase, i, GP_ENC_ASCII, out);
			if (enc & GP_ENC_UTF16LE) {
				uint8_t u[128];
				for (size_t k = 0; k < len; k++) {
					u[2 * k] = t[k];
					u[2 * k + 1] = 0;
				}
				ref_literal(buf, n, base, u, 2 * len, icase, i, GP_ENC_UTF16LE, out);
			}
		} else if (p[i].kind == GP_HEX) {
			ref_hex(buf, n, base, &p[i], i, out);
		} else {
			ref_regex(buf, n, base, p[i].text, icase, i, out);
		}
	}
}

static void compare(hits *got, hits *want, const char *what)
{
	qsort(got->v, got->n, sizeof(hit), cmp_hit);
	qsort(want->v, want->n, sizeof(hit), cmp_hit);
	size_t i = 0;
	while (i < got->n && i < want->n && !cmp_hit(&got->v[i], &want->v[i]))
		i++;
	if (i < got->n || i < want->n) {
		const hit *g = i < got->n ? &got->v[i] : NULL, *w = i < want->n ? &want->v[i] : NULL;
		ck_abort_msg("%s: %zu hits, expected %zu; first difference at #%zu: got %s0x%llx-0x%llx pattern %zd, "
			     "expected 0x%llx-0x%llx pattern %zd", what, got->n, want->n, i, g ? "" : "(none) ",
			     g ? (unsigned long long)g->start : 0, g ? (unsigned long long)g->end : 0,
			     g ? (ssize_t)g->user : -1, w ? (unsigned long long)w->start : 0,
			     w ? (unsigned long long)w->end : 0, w ? (ssize_t)w->user : -1);
	}
	ck_assert_uint_gt(want->n, 0); /* the case meant something */
}

/* Bytes given with their length (they may hold NULs). */
#define BYTES(s) s, sizeof(s) - 1

/* Random bytes over a small alphabet (dense, overlapping hits), with needles planted across
 * every @every-byte boundary at each offset of the needle. */
static uint8_t *gen(size_t n, uint64_t seed, const char *alphabet, size_t na, const char *plant, size_t pl, size_t every)
{
	/* one byte more, a NUL: regexec's interceptors under ASan measure the text with strlen
	 * whatever REG_STARTEND says */
	uint8_t *b = malloc(n + 1);
	b[n] = 0;
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)alphabet[rnd(&s) % na];
	for (size_t at = every, k = 0; plant && at + pl < n; at += every, k++) {
		size_t back = k % (pl + 1);
		memcpy(b + at - back, plant, pl);
	}
	return b;
}

static void run_case(gp_engine eng, const spec *p, size_t np, bool icase, gp_enc enc, const uint8_t *buf, size_t n,
		     const char *what)
{
	gp_set *s = make_set(eng, icase, enc, p, np);
	const uint64_t base = 0x7ffd12345000ull;
	for (int pass = 0; pass < 2; pass++) {
		hits got = { 0 }, want = { 0 };
		/* pass 0: windows of 4096 (the planted needles straddle their boundaries); then random sizes */
		engine_hits(s, buf, n, base, 0x1234567ull + (uint64_t)pass, pass == 0 ? 4096 : 0, &got);
		reference(buf, n, base, p, np, icase, enc, &want);
		char w[128];
		snprintf(w, sizeof(w), "%s, %s engine, pass %d", what, gp_set_engine_name(s), pass);
		compare(&got, &want, w);
		free(got.v);
		free(want.v);
	}
	gp_set_free(s);
}

START_TEST(one_literal_overlapping_and_at_boundaries)
{
	size_t n = 80000;
	uint8_t *b = gen(n, 7, BYTES("ab"), BYTES("abaab"), 4096);
	static const spec p[] = { { .kind = GP_LITERAL, .text = "abaab" } };
	run_case(engines[_i], p, 1, false, GP_ENC_ASCII, b, n, "abaab");
	static const spec q[] = { { .kind = GP_LITERAL, .text = "aaaa" } }; /* overlaps itself at every step */
	run_case(engines[_i], q, 1, false, GP_ENC_ASCII, b, n, "aaaa");
	free(b);
}
END_TEST

START_TEST(literals_folded_and_in_utf16)
{
	size_t n = 60000;
	uint8_t *b = gen(n, 11, BYTES("kKeEyY\0"), BYTES("k\0E\0y\0"), 4096);
	static const spec p[] = { { .kind = GP_LITERAL, .text = "key" }, { .kind = GP_LITERAL, .text = "Ye" } };
	run_case(engines[_i], p, 2, true, GP_ENC_BOTH, b, n, "key/Ye, folded, both encodings");
	run_case(engines[_i], p, 2, false, GP_ENC_UTF16LE, b, n, "key/Ye, UTF-16LE");
	free(b);
}
END_TEST

/* More literals than the one-literal filter takes: the many-literal matcher. */
START_TEST(many_literals)
{
	size_t n = 80000;
	uint8_t *b = gen(n, 13, BYTES("abcd"), BYTES("dcba"), 4096);
	static spec p[12];
	static char text[12][8];
	uint64_t s = 5;
	for (size_t i = 0; i < 12; i++) {
		size_t len = 2 + i % 5;
		for (size_t k = 0; k < len; k++)
			text[i][k] = "abcd"[rnd(&s) % 4];
		text[i][len] = '\0';
		p[i] = (spec){ .kind = GP_LITERAL, .text = text[i] };
	}
	run_case(engines[_i], p, 12, false, GP_ENC_ASCII, b, n, "12 literals");
	free(b);
}
END_TEST

START_TEST(hex_patterns_with_wildcards)
{
	size_t n = 60000;
	uint8_t *b = gen(n, 17, BYTES("\x4d\x45\x5a\x00\xff\x41"), BYTES("\x4d\x45\x00\x5a"), 4096);
	static const spec p[] = {
		{ .kind = GP_HEX, .text = "4d 45 ?? 5a", .hlen = 4, .hval = { 0x4d, 0x45, 0, 0x5a }, .hmask = { 0xff, 0xff, 0, 0xff } },
		{ .kind = GP_HEX, .text = "4?5a", .hlen = 2, .hval = { 0x40, 0x5a }, .hmask = { 0xf0, 0xff } },
		{ .kind = GP_HEX, .text = "ff ?0 ff", .hlen = 3, .hval = { 0xff, 0x00, 0xff }, .hmask = { 0xff, 0x0f, 0xff } },
	};
	run_case(engines[_i], p, 3, false, GP_ENC_ASCII, b, n, "hex");
	free(b);
}
END_TEST

START_TEST(regexes_anchors_and_classes)
{
	size_t n = 60000;
	uint8_t *b = gen(n, 19, BYTES("ab0123kz"), BYTES("k2024z"), 4096);
	/* the run starts and ends with what the anchored ones look for, and holds them inside too */
	memcpy(b, "ab", 2);
	memcpy(b + n - 2, "ba", 2);
	static const spec p[] = {
		{ .kind = GP_REGEX, .text = "k[0-9]+z" },
		{ .kind = GP_REGEX, .text = "^ab" },
		{ .kind = GP_REGEX, .text = "ba$" },
		{ .kind = GP_REGEX, .text = "(ab|ba)b0" },
	};
	run_case(engines[_i], p, 4, false, GP_ENC_ASCII, b, n, "regexes");
	/* one regex alone (in the portable engine, PCRE2 scans it) */
	run_case(engines[_i], p, 1, false, GP_ENC_ASCII, b, n, "k[0-9]+z");
	free(b);
}
END_TEST

/* Starts PCRE2 gives up on (its JIT stack, on (?:x|xy)+z over a long run of x) are named by
 * the scan whose [report_lo, hi) holds them, once: not those searched on the way from an
 * earlier scan_lo (the scan before names them), as a new unit's first window starts its
 * regexes there. */
START_TEST(failed_starts_named_by_their_scan_only)
{
	static const spec p[] = { { .kind = GP_REGEX, .text = "(?:x|xy)+z" } };
	gp_set *s = make_set(GP_ENGINE_PORTABLE, false, GP_ENC_ASCII, p, 1);
	size_t n = 30000;
	uint8_t *b = malloc(n);
	ck_assert_ptr_nonnull(b);
	memset(b, '.', n);
	memset(b + 1000, 'x', 20000);
	gp_scratch *sc = gp_scratch_new(s);
	ck_assert_ptr_nonnull(sc);
	const uint64_t base = 0x7ffd12345000ull;
	/* scanned from 1000 (the run's first x), reported from 1100 on, to 5196 */
	size_t scan_lo = 1000, report_lo = 1100, hi = report_lo + 4096;
	gp_scratch_reset(sc, base);
	const gp_hit *h;
	size_t nh, nf;
	/* memory goes on past the buffer (partial matching: no shortcut finds the z missing) */
	ck_assert_int_eq(gp_scan(s, sc, b, n, n, base, scan_lo, report_lo, hi, false, &h, &nh), 0);
	ck_assert_uint_eq(nh, 0);
	const gp_fail *f = gp_scan_fails(sc, &nf);
	ck_assert_msg(nf == 1, "%zu ranges named", nf);
	ck_assert_msg(f[0].lo == base + report_lo && f[0].hi == base + hi, "named 0x%" PRIx64 "-0x%" PRIx64
		      ", want the scan's whole range 0x%" PRIx64 "-0x%" PRIx64, f[0].lo, f[0].hi, base + report_lo,
		      base + hi);
	/* the scan before, [0, 1100), names its own part of the run */
	gp_scratch_reset(sc, base);
	ck_assert_int_eq(gp_scan(s, sc, b, n, n, base, 0, 0, report_lo, false, &h, &nh), 0);
	f = gp_scan_fails(sc, &nf);
	ck_assert_msg(nf == 1 && f[0].lo == base + 1000 && f[0].hi == base + report_lo, "%zu ranges, the first 0x%"
		      PRIx64 "-0x%" PRIx64, nf, nf ? f[0].lo : 0, nf ? f[0].hi : 0);
	gp_scratch_free(sc);
	gp_set_free(s);
	free(b);
}
END_TEST

START_TEST(refusals)
{
	gp_set_opts o = { .enc = GP_ENC_ASCII, .engine = GP_ENGINE_PORTABLE, .max_regex_len = 64 };
	gp_set *s = gp_set_new(&o);
	char *err = NULL;
	ck_assert_int_eq(gp_set_add(s, GP_LITERAL, "", 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	free(err);
	ck_assert_int_eq(gp_set_add(s, GP_HEX, "4d 4", 4, &err), -EINVAL);
	ck_assert_ptr_nonnull(err);
	free(err);
	int r = gp_set_add(s, GP_REGEX, "a*", 2, &err);
	if (r != -ENOENT) {
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "empty string"));
	}
	free(err);
	gp_set_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grep_engine");
	TCase *tc = tcase_create("engine");
	tcase_set_timeout(tc, 300);
	int ne = (int)(sizeof(engines) / sizeof(engines[0]));
	tcase_add_loop_test(tc, one_literal_overlapping_and_at_boundaries, 0, ne);
	tcase_add_loop_test(tc, literals_folded_and_in_utf16, 0, ne);
	tcase_add_loop_test(tc, many_literals, 0, ne);
	tcase_add_loop_test(tc, hex_patterns_with_wildcards, 0, ne);
	tcase_add_loop_test(tc, regexes_anchors_and_classes, 0, ne);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, failed_starts_named_by_their_scan_only);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
