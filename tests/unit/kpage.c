/* kpage readers on fixture files: the batched lookup (sorted PFN windows) against the page-at-a-time
 * reads, and the emulated scan's HUGE check against made-up compound pages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "internal/page.h"
#include "mltest.h"

#define NPFN 300000u /* entries in the fixture: ~2.3 MiB, more than one 512 KiB window */

static uint64_t val(uint64_t pfn) { return (pfn * UINT64_C(0x9E3779B97F4A7C15)) ^ UINT64_C(0x5bd1e995); }

static char path[256];

static void make_file(void)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/ml_kpage_XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	uint64_t *v = malloc(NPFN * sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (uint64_t i = 0; i < NPFN; i++)
		v[i] = val(i);
	ck_assert_int_eq(write(fd, v, NPFN * sizeof(*v)), (ssize_t)(NPFN * sizeof(*v)));
	close(fd);
	free(v);
}

static uint64_t rnd_state = 88172645463325252u;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Both readers, and the file's definition, agree on @pfns. */
static void check(ml_kpage *k, const uint64_t *pfns, size_t n)
{
	uint64_t *a = malloc(n * 8 + 8), *b = malloc(n * 8 + 8), *c = malloc(n * 8 + 8);
	ck_assert(a && b && c);
	memset(a, 0xa5, n * 8);
	memset(b, 0x5a, n * 8);
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_FLAGS, pfns, n, a), 0);
	ck_assert_int_eq(ml__kpage_lookup_runs(k, ML_KPAGE_FLAGS, pfns, n, b), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t want = pfns[i] && pfns[i] < NPFN ? val(pfns[i]) : 0;
		if (pfns[i] && pfns[i] < NPFN && i % 16 == 0) {
			/* one 8-byte read of that PFN (a sample: each is a syscall) */
			ck_assert_int_eq(ml_kpage_flags(k, pfns[i], &c[i], 1), 1);
			ck_assert_uint_eq(c[i], want);
		}
		if (a[i] != want || b[i] != want)
			ck_abort_msg("entry %zu (pfn %llu): batched %llx, runs %llx, want %llx", i,
				     (unsigned long long)pfns[i], (unsigned long long)a[i],
				     (unsigned long long)b[i], (unsigned long long)want);
	}
	/* the count file was opened on the same fixture: same values */
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_COUNT, pfns, n, a), 0);
	ck_assert_int_eq(memcmp(a, b, n * 8), 0);
	free(a);
	free(b);
	free(c);
}

START_TEST(batched_equals_page_at_a_time)
{
	make_file();
	ml_kpage *k;
	ck_assert_int_eq(ml__kpage_open_files(path, path, &k), 0);
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_CGROUP, (uint64_t[]){ 1 }, 1, (uint64_t[1]){ 0 }), -ENOENT);
	enum { N = 20000 };
	uint64_t *p = malloc(N * sizeof(*p));
	ck_assert_ptr_nonnull(p);
	/* scattered over the whole file, with zeros (not present) and duplicates */
	for (size_t i = 0; i < N; i++)
		p[i] = i % 17 == 0 ? 0 : i % 29 == 0 ? p[i - 1] : rnd() % NPFN;
	check(k, p, N);
	/* the handle keeps the last sorted order for the next lookup of the same PFNs: the
	 * same buffer with one PFN changed, then with a zero and a PFN swapped (as many
	 * non-zero PFNs as before), must not be read in the kept order */
	p[100] = p[100] + 1 < NPFN ? p[100] + 1 : p[100] - 1;
	check(k, p, N);
	ck_assert(p[17 * 5] == 0 && p[17 * 5 + 1] != 0);
	p[17 * 5] = p[17 * 5 + 1];
	p[17 * 5 + 1] = 0;
	check(k, p, N);
	/* clustered like a heap's frames: short descending and ascending runs, small gaps */
	uint64_t at = 1000;
	for (size_t i = 0; i < N; i++) {
		if (i % 64 == 0)
			at = 1000 + rnd() % (NPFN - 2000);
		p[i] = (i / 64) % 2 ? at + (i % 64) : at + 64 - (i % 64);
		if (i % 7 == 0)
			p[i] += rnd() % 100; /* gaps around the read-through limit */
	}
	check(k, p, N);
	/* one long run in order, longer than a window, then PFNs past the end of the file */
	for (size_t i = 0; i < N; i++)
		p[i] = i < N - 100 ? 5 + i * 4 : NPFN - 50 + (i - (N - 100));
	check(k, p, N);
	/* huge and tiny PFNs together (the sort must use all their bits) */
	for (size_t i = 0; i < N; i++)
		p[i] = i % 3 == 0 ? (UINT64_C(1) << 54) + i : i % 3 == 1 ? 1 + rnd() % 50 : NPFN - 1 - rnd() % 50;
	check(k, p, N);
	/* small lookups take the in-order path */
	check(k, p, 5);
	check(k, p, 0);
	free(p);
	ml_kpage_free(k);
	unlink(path);
}
END_TEST

START_TEST(batched_equals_page_at_a_time_on_proc)
{
	if (geteuid() != 0)
		mlt_skip("kpageflags needs root");
	/* our own frames: kpagecount of private pages we wrote is stable while we hold them */
	enum { NP = 4096 };
	char *m = malloc((size_t)NP * 4096);
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < NP; i++)
		m[i * 4096] = (char)i;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	uint64_t *e = malloc(NP * 8), *a = malloc(NP * 8), *b = malloc(NP * 8);
	ck_assert(e && a && b);
	ck_assert_int_eq(pread(fd, e, NP * 8, (off_t)((uintptr_t)m / 4096 * 8)), NP * 8);
	close(fd);
	for (size_t i = 0; i < NP; i++)
		e[i] = ml_pme_pfn(e[i]);
	if (!e[0])
		mlt_skip("PFNs hidden");
	ml_kpage *k;
	ck_assert_int_eq(ml_kpage_open(ML_KPAGE_FLAGS | ML_KPAGE_COUNT, &k), 0);
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_COUNT, e, NP, a), 0);
	ck_assert_int_eq(ml__kpage_lookup_runs(k, ML_KPAGE_COUNT, e, NP, b), 0);
	for (size_t i = 0; i < NP; i++) {
		ck_assert_uint_eq(a[i], b[i]);
		ck_assert_uint_ge(a[i], 1);
	}
	/* flags: every frame is anonymous and mapped, by both readers */
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_FLAGS, e, NP, a), 0);
	ck_assert_int_eq(ml__kpage_lookup_runs(k, ML_KPAGE_FLAGS, e, NP, b), 0);
	const uint64_t stable = ML_KPF(ML_KPF_ANON) | ML_KPF(ML_KPF_MMAP);
	for (size_t i = 0; i < NP; i++) {
		ck_assert_uint_eq(a[i] & stable, stable);
		ck_assert_uint_eq(b[i] & stable, stable);
	}
	ml_kpage_free(k);
	free(e);
	free(a);
	free(b);
	free(m);
}
END_TEST

START_TEST(huge_needs_one_compound_page)
{
	/* frames 512.. ordinary; 1024.. one THP; 1536.. eight 64-frame folios; 2048.. hugetlb */
	enum { NF = 3072 };
	uint64_t *fl = calloc(NF, 8);
	ck_assert_ptr_nonnull(fl);
	const uint64_t anon = ML_KPF(ML_KPF_ANON) | ML_KPF(ML_KPF_MMAP);
	const uint64_t head = ML_KPF(ML_KPF_COMPOUND_HEAD), tail = ML_KPF(ML_KPF_COMPOUND_TAIL);
	for (unsigned i = 512; i < NF; i++)
		fl[i] = anon;
	for (unsigned i = 1024; i < 1536; i++)
		fl[i] |= (i == 1024 ? head : tail) | ML_KPF(ML_KPF_THP);
	for (unsigned i = 1536; i < 2048; i++)
		fl[i] |= (i % 64 == 0 ? head : tail) | ML_KPF(ML_KPF_THP);
	for (unsigned i = 2048; i < 2560; i++)
		fl[i] = (i == 2048 ? head | ML_KPF(ML_KPF_HUGE) : tail);
	const char *dir = getenv("TMPDIR");
	char fpath[256];
	snprintf(fpath, sizeof(fpath), "%s/ml_kpf_XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(fpath);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, fl, NF * 8), NF * 8);
	close(fd);
	ml_kpage *k;
	ck_assert_int_eq(ml__kpage_open_files(fpath, NULL, &k), 0);
	/* four 2 MiB blocks of virtual pages mapped to frames 512, 1024, 1536, 2048 in order */
	enum { N = 2048 };
	uint64_t *e = malloc(N * 8), *cats = malloc(N * 8), kbuf[512];
	ck_assert(e && cats);
	for (unsigned i = 0; i < N; i++)
		e[i] = ML_PME_PRESENT | ML_PME_EXCLUSIVE | (512 + i);
	const uint64_t base = UINT64_C(0x7f0000000000);
	ml_pagemap_categories(e, N, base, true, 0, 0, cats);
	for (unsigned i = 0; i < N; i++)
		ck_assert(cats[i] & ML_PAGE_HUGE); /* what the frames alone suggest */
	ck_assert_int_eq(ml__pagemap_huge_confirm(k, e, cats, N, kbuf), 0);
	for (unsigned i = 0; i < N; i++) {
		bool huge = (i >= 512 && i < 1024) || i >= 1536;
		ck_assert_msg(!!(cats[i] & ML_PAGE_HUGE) == huge, "page %u", i);
		ck_assert(cats[i] & ML_PAGE_PRESENT);
	}
	/* frames past the end of the file are not a compound page either */
	for (unsigned i = 0; i < 512; i++)
		e[i] = ML_PME_PRESENT | ((UINT64_C(1) << 20) + i);
	ml_pagemap_categories(e, 512, base, true, 0, 0, cats);
	ck_assert(cats[0] & ML_PAGE_HUGE);
	ck_assert_int_eq(ml__pagemap_huge_confirm(k, e, cats, 512, kbuf), 0);
	ck_assert(!(cats[0] & ML_PAGE_HUGE) && !(cats[511] & ML_PAGE_HUGE));
	ml_kpage_free(k);
	unlink(fpath);
	free(fl);
	free(e);
	free(cats);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kpage");
	TCase *tc = tcase_create("lookup");
	tcase_add_test(tc, batched_equals_page_at_a_time);
	tcase_add_test(tc, batched_equals_page_at_a_time_on_proc);
	tcase_add_test(tc, huge_needs_one_compound_page);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
