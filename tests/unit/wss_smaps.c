/* lib/wss_smaps.c: the working-set sample's smaps parsing, region and total arithmetic, on the
 * wss_cal fixture and synthetic text: torn reads, malformed input, appeared/disappeared regions. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "internal/wss.h"

#define KB 1024ull
#define PG 4096ull

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/proc/wss_cal/%s", mlt_fixture_dir(), name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "fixture %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	/* no NUL terminator and no slack: the parser must stay inside len */
	char *buf = malloc((size_t)n);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const ml__wss_vma *vma_at(const ml__wss_vmas *m, uint64_t addr)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].start <= addr && addr < m->v[i].end)
			return &m->v[i];
	return NULL;
}

static uint64_t rollup_kb(const char *roll, size_t len, const char *key)
{
	char *nul = malloc(len + 1);
	memcpy(nul, roll, len);
	nul[len] = '\0';
	const char *k = strstr(nul, key);
	ck_assert_ptr_nonnull(k);
	uint64_t v = strtoull(k + strlen(key), NULL, 10);
	free(nul);
	return v * KB;
}

START_TEST(parses_fixture_smaps)
{
	size_t len;
	char *buf = slurp("smaps", &len);
	ml__wss_vmas m = { 0 };
	ck_assert_int_eq(ml__wss_smaps_parse(buf, len, &m), 0);
	ck_assert_uint_eq(m.n, 28);
	const ml__wss_vma *r0 = vma_at(&m, 0x7f6ce8335000);
	ck_assert_ptr_nonnull(r0);
	ck_assert_uint_eq(r0->end - r0->start, 1 << 20);
	ck_assert_uint_eq(r0->referenced, 400 * KB);
	ck_assert_uint_eq(r0->rss, 1024 * KB);
	ck_assert_uint_eq(r0->anonymous, 1024 * KB);
	ck_assert_uint_eq(r0->huge, 0);
	ck_assert_int_eq(r0->kind, ML_VMA_ANON);
	ck_assert_uint_eq(r0->perms, ML_PERM_READ | ML_PERM_WRITE);
	const ml__wss_vma *r1 = vma_at(&m, 0x7f6ce7c00000);
	ck_assert_ptr_nonnull(r1);
	ck_assert_uint_eq(r1->referenced, 2048 * KB);
	ck_assert_uint_eq(r1->huge, 4096 * KB);
	/* kinds come from names */
	size_t kinds[ML_VMA_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < m.n; i++)
		kinds[m.v[i].kind]++;
	ck_assert_uint_eq(kinds[ML_VMA_HEAP], 1);
	ck_assert_uint_eq(kinds[ML_VMA_STACK], 1);
	ck_assert_uint_eq(kinds[ML_VMA_VDSO], 1);
	ck_assert_uint_eq(kinds[ML_VMA_VSYSCALL], 1);
	ck_assert_uint_ge(kinds[ML_VMA_FILE], 10);
	const ml__wss_vma *last = &m.v[m.n - 1];
	ck_assert_str_eq(m.names.data + last->name_off, "[vsyscall]");

	/* the totals agree with the kernel's own rollup of the same moment */
	size_t rlen;
	char *roll = slurp("smaps_rollup", &rlen);
	uint64_t rss = 0, pss = 0, ref = 0;
	for (size_t i = 0; i < m.n; i++) {
		rss += m.v[i].rss;
		pss += m.v[i].pss;
		ref += m.v[i].referenced;
	}
	ck_assert_uint_eq(rss, rollup_kb(roll, rlen, "\nRss:"));
	/* Referenced of shared file pages changed between the two captures (other processes
	 * set and clear their folio flags), so only the anonymous part is stable */
	ck_assert_uint_ge(ref, 400 * KB + 2048 * KB);
	/* per-mapping Pss is rounded down to kB each: the sum can be a little lower */
	ck_assert_uint_le(pss, rollup_kb(roll, rlen, "\nPss:"));
	ck_assert_uint_ge(pss + m.n * KB, rollup_kb(roll, rlen, "\nPss:"));
	free(roll);
	ml__wss_vmas_free(&m);
	free(buf);
}
END_TEST

START_TEST(builds_sample_from_fixture_window)
{
	size_t blen, alen;
	char *b = slurp("maps", &blen), *a = slurp("smaps", &alen);
	ml__wss_vmas before = { 0 }, after = { 0 };
	ck_assert_int_eq(ml__wss_smaps_parse(b, blen, &before), 0);
	ck_assert_int_eq(ml__wss_smaps_parse(a, alen, &after), 0);
	ck_assert_uint_eq(before.n, after.n);
	for (int scope = ML_WSS_SCOPE_ALL; scope <= ML_WSS_SCOPE_FILE; scope++) {
		ml_wss_sample *s = ml__wss_sample_new();
		s->scope = (ml_wss_scope)scope;
		ck_assert_int_eq(ml__wss_build(s, &before, &after), 0);
		ck_assert_uint_eq(s->nregions, after.n);
		ck_assert_uint_eq(s->tot.appeared, 0);
		ck_assert_uint_eq(s->tot.disappeared, 0);
		ck_assert_uint_eq(s->tot.wss, s->tot.wss_anon + s->tot.wss_file);
		if (scope == ML_WSS_SCOPE_ANON)
			ck_assert_uint_eq(s->tot.wss_file, 0);
		if (scope == ML_WSS_SCOPE_FILE)
			ck_assert_uint_eq(s->tot.wss_anon, 0);
		if (scope != ML_WSS_SCOPE_FILE) {
			/* 100 small pages + one whole huge page, plus the child's own stack and data */
			ck_assert_uint_ge(s->tot.wss_anon, 400 * KB + 2048 * KB);
			ck_assert_uint_eq(s->tot.wss_huge_min, 2048 * KB);
			ck_assert_uint_eq(s->tot.wss_huge_max, 2048 * KB);
		}
		for (size_t i = 0; i < s->nregions; i++) {
			const ml_wss_region *r = &s->regions[i];
			ck_assert_uint_eq(r->name_len, strlen(r->name));
			if (!r->measured)
				ck_assert_uint_eq(r->wss, 0);
		}
		ml_wss_sample_free(s);
	}
	ml__wss_vmas_free(&before);
	ml__wss_vmas_free(&after);
	free(a);
	free(b);
}
END_TEST

static void parse_str(const char *s, ml__wss_vmas *m, int want)
{
	ck_assert_int_eq(ml__wss_smaps_parse(s, strlen(s), m), want);
}

START_TEST(rejects_malformed_and_keeps_names)
{
	ml__wss_vmas m = { 0 };
	parse_str("Rss: 4 kB\n", &m, -EBADMSG); /* a field before any mapping */
	ml__wss_vmas_free(&m);
	parse_str("1000-2000 rw-p 00000000 00:00 0\nRss: 99999999999999999999 kB\n", &m, -EBADMSG);
	ml__wss_vmas_free(&m);
	parse_str("1000-2000 rwzp 00000000 00:00 0\n", &m, -EBADMSG);
	ml__wss_vmas_free(&m);
	parse_str("2000-1000 rw-p 00000000 00:00 0\n", &m, -EBADMSG);
	ml__wss_vmas_free(&m);
	parse_str("1000-2000 rw-p 00000000 00:00\n", &m, -EBADMSG);
	ml__wss_vmas_free(&m);
	parse_str("1000-2000 rw-p 00000000 00:00 0 x\nno colon here\n", &m, -EBADMSG);
	ml__wss_vmas_free(&m);
	static const char nul[] = "1000-2000 rw-p 00000000 00:00 0   a\0b\n";
	ck_assert_int_eq(ml__wss_smaps_parse(nul, sizeof(nul) - 1, &m), -EBADMSG);
	ml__wss_vmas_free(&m);
	/* names as ml_maps_parse() gives them: spaces and trailing spaces kept, \012 back to a
	 * newline, " (deleted)" moved into the flag */
	parse_str("1000-2000 r--s 00000000 08:01 42                         /tmp/a b  \n"
		  "Referenced:   8 kB\nVmFlags: rd sh\n"
		  "3000-4000 r--p 00000000 08:01 43   /tmp/x\\012y (deleted)\n"
		  "5000-6000 rw-s 00000000 00:01 7   /dev/zero (deleted)\n"
		  "7000-8000 rw-p 00000000 00:00 0   [anon:cache]\n"
		  "8000-9000 rw-s 00000000 00:01 9   /memfd:buf (deleted)\n", &m, 0);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_str_eq(m.names.data + m.v[0].name_off, "/tmp/a b  ");
	ck_assert_uint_eq(m.v[0].referenced, 8 * KB);
	ck_assert_uint_eq(m.v[0].perms, ML_PERM_READ | ML_PERM_SHARED);
	ck_assert_str_eq(m.names.data + m.v[1].name_off, "/tmp/x\ny");
	ck_assert(m.v[1].deleted);
	ck_assert(!m.v[0].deleted);
	ck_assert_int_eq(m.v[1].kind, ML_VMA_FILE);
	ck_assert_int_eq(m.v[2].kind, ML_VMA_SHMEM);
	ck_assert_int_eq(m.v[3].kind, ML_VMA_ANON_NAMED);
	ck_assert_int_eq(m.v[4].kind, ML_VMA_MEMFD);
	ck_assert(ml__wss_kind_file_backed(ML_VMA_SHMEM));
	ck_assert(!ml__wss_kind_file_backed(ML_VMA_HEAP));
	ml__wss_vmas_free(&m);
	/* truncated anywhere: never reads past len, never crashes */
	const char *full = "1000-2000 rw-p 00000000 00:00 0   [heap]\nRss:  4 kB\nReferenced: 4 kB\n";
	for (size_t n = 0; n <= strlen(full); n++) {
		char *cut = malloc(n ? n : 1);
		memcpy(cut, full, n);
		ml__wss_smaps_parse(cut, n, &m);
		ml__wss_vmas_free(&m);
		free(cut);
	}
	ck_assert_int_eq(ml__wss_smaps_parse(NULL, 0, &m), 0);
	ck_assert_int_eq(ml__wss_smaps_parse(NULL, 1, &m), -EINVAL);
}
END_TEST

static void add_vma(ml__wss_vmas *m, uint64_t start, uint64_t end, const char *name, uint64_t rss,
		    uint64_t ref, uint64_t huge)
{
	char line[256];
	snprintf(line, sizeof(line), "%llx-%llx rw-p 00000000 %s %s\nRss: %llu kB\nReferenced: %llu kB\n"
		 "AnonHugePages: %llu kB\n", (unsigned long long)start, (unsigned long long)end,
		 name[0] == '/' ? "08:01 5" : "00:00 0", name, (unsigned long long)(rss / KB),
		 (unsigned long long)(ref / KB), (unsigned long long)(huge / KB));
	ck_assert_int_eq(ml__wss_smaps_parse(line, strlen(line), m), 0);
}

START_TEST(appeared_disappeared_and_thp_bounds)
{
	ml__wss_vmas before = { 0 }, after = { 0 };
	add_vma(&before, 0x10000, 0x20000, "[heap]", 0, 0, 0);
	add_vma(&before, 0x40000, 0x50000, "", 0, 0, 0);      /* unmapped in the window */
	add_vma(&before, 0x60000, 0x70000, "/lib/x", 0, 0, 0);
	add_vma(&after, 0x10000, 0x30000, "[heap]", 32 * PG, 20 * PG, 0); /* grew */
	add_vma(&after, 0x60000, 0x68000, "/lib/x", 8 * PG, 8 * PG, 0);   /* shrank */
	add_vma(&after, 0x200000, 0x600000, "", 4 << 20, 3 << 20, 2 << 20); /* new, half THP */
	ml_wss_sample *s = ml__wss_sample_new();
	ck_assert_int_eq(ml__wss_build(s, &before, &after), 0);
	ck_assert(s->regions[0].appeared);  /* partly new range */
	ck_assert(!s->regions[1].appeared);
	ck_assert(s->regions[2].appeared);
	ck_assert_uint_eq(s->tot.appeared, 2);
	ck_assert_uint_eq(s->tot.disappeared, 2);
	ck_assert_uint_eq(s->tot.lost_bytes, 0x10000 + 0x8000);
	ck_assert_uint_eq(s->tot.wss_appeared, 20 * PG + (3 << 20));
	/* 3 MiB referenced in 4 MiB of which 2 MiB huge: at least 1 MiB, at most 2 MiB huge */
	ck_assert_uint_eq(s->regions[2].wss_huge_min, 1 << 20);
	ck_assert_uint_eq(s->regions[2].wss_huge_max, 2 << 20);
	ck_assert_uint_eq(s->tot.wss_anon, 20 * PG + (3 << 20));
	ck_assert_uint_eq(s->tot.wss_file, 8 * PG);
	/* without a "before" nothing is flagged */
	ml__wss_vmas none = { 0 };
	ck_assert_int_eq(ml__wss_build(s, &none, &after), 0);
	ck_assert_uint_eq(s->tot.appeared + s->tot.disappeared, 0);
	ml_wss_sample_free(s);
	ml__wss_vmas_free(&before);
	ml__wss_vmas_free(&after);
}
END_TEST

START_TEST(torn_reads_count_once)
{
	ml__wss_vmas m = { 0 };
	/* a read torn between B and its re-listing, with C split meanwhile into C1 + C2 */
	add_vma(&m, 0x1000, 0x2000, "", PG, PG, 0);        /* A */
	add_vma(&m, 0x3000, 0x5000, "", 2 * PG, 2 * PG, 0); /* B, first read */
	add_vma(&m, 0x3000, 0x5000, "", 2 * PG, PG, 0);     /* B, read again */
	add_vma(&m, 0x6000, 0x9000, "", 3 * PG, 3 * PG, 0); /* C */
	add_vma(&m, 0x6000, 0x7000, "", PG, PG, 0);         /* C1 */
	add_vma(&m, 0x7000, 0x9000, "", 2 * PG, 0, 0);      /* C2 */
	ml__wss_vmas_normalize(&m);
	ck_assert_uint_eq(m.n, 4);
	uint64_t starts[] = { 0x1000, 0x3000, 0x6000, 0x7000 };
	uint64_t ref = 0;
	for (size_t i = 0; i < m.n; i++) {
		ck_assert_uint_eq(m.v[i].start, starts[i]);
		if (i)
			ck_assert_uint_ge(m.v[i].start, m.v[i - 1].end);
		ref += m.v[i].referenced;
	}
	ck_assert_uint_eq(ref, PG + PG + PG + 0); /* the later records */
	ml__wss_vmas_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wss_smaps");
	TCase *tc = tcase_create("wss_smaps");
	tcase_add_test(tc, parses_fixture_smaps);
	tcase_add_test(tc, builds_sample_from_fixture_window);
	tcase_add_test(tc, rejects_malformed_and_keeps_names);
	tcase_add_test(tc, appeared_disappeared_and_thp_bounds);
	tcase_add_test(tc, torn_reads_count_once);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
