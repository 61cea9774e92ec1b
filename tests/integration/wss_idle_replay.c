/* The idle backend's live path (pagemap walk, PFN batching, marking, counting) on a real child, against a bitmap file. */
#include <sys/stat.h>

#include "wss_common.h"

#define NWORDS (1u << 20) /* 64 M frames: 256 GiB of RAM */

static uint64_t word(int fd, uint64_t pfn)
{
	uint64_t v = 0;
	ck_assert_int_eq(pread(fd, &v, 8, (off_t)(pfn / 64 * 8)), 8);
	return v;
}

/* What the kernel does to a marked frame that is accessed: its bit reads 0 again. */
static void access_frame(int fd, uint64_t pfn)
{
	uint64_t v = word(fd, pfn) & ~(1ull << (pfn % 64));
	ck_assert_int_eq(pwrite(fd, &v, 8, (off_t)(pfn / 64 * 8)), 8);
}

/* PFNs of the @n pages at @addr of the child. */
static void child_pfns(cal *k, uint64_t addr, uint64_t n, uint64_t *pfns)
{
	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(k->p, &pm), 0);
	ck_assert_int_eq(ml_pagemap_read(pm, addr, pfns, n), (ssize_t)n);
	for (uint64_t i = 0; i < n; i++) {
		ck_assert(pfns[i] & ML_PME_PRESENT);
		pfns[i] &= ML_PME_PFN_MASK;
		ck_assert_uint_ne(pfns[i], 0);
	}
	ml_pagemap_free(pm);
}

START_TEST(idle_window_against_a_bitmap_file)
{
	char path[] = "/tmp/ml_wss_bitmapXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)NWORDS * 8), 0); /* sparse */
	cal k = cal_new();
	uint64_t a_old, a_new;
	const uint64_t N = 1024, NEW = 100, ACC = 30;
	cal_map(&k, N, "nothp", &a_old);
	uint64_t *pfns = calloc(N, sizeof(*pfns));
	child_pfns(&k, a_old, N, pfns);
	for (uint64_t i = 0; i < N; i++)
		ck_assert_uint_lt(pfns[i] / 64, NWORDS);

	ML_OPTS(ml_wss_opts, o, .backend = ML_WSS_IDLE, .idle_bitmap_path = path);
	ml_wss *w = NULL;
	int r = ml_wss_start(k.p, &o, &w);
	ck_assert_msg(r == 0, "ml_wss_start: %s", ml_strerror(r));
	ck_assert_int_eq(ml_wss_backend_of(w), ML_WSS_IDLE);
	/* every present frame of the region was marked idle */
	for (uint64_t i = 0; i < N; i++)
		ck_assert_msg(word(fd, pfns[i]) >> (pfns[i] % 64) & 1, "frame %llu not marked",
			      (unsigned long long)pfns[i]);

	/* in the window: a new region of NEW pages; ACC old frames "accessed" */
	cal_map(&k, NEW, "nothp", &a_new);
	for (uint64_t i = 0; i < ACC; i++)
		access_frame(fd, pfns[i * 7]);
	ml_wss_sample *s = close_window(w);
	const ml_wss_region *ro = region_at(s, a_old), *rn = region_at(s, a_new);
	ck_assert_ptr_nonnull(ro);
	ck_assert_ptr_nonnull(rn);
	/* the new region may have merged with the old one (same flags, adjacent) */
	if (ro == rn) {
		ck_assert_uint_eq(ro->wss, (ACC + NEW) * PG);
	} else {
		ck_assert_uint_eq(ro->wss, ACC * PG);
		ck_assert_uint_eq(rn->wss, NEW * PG);
	}
	ck_assert_uint_ge(s->pages_scanned, N + NEW);
	/* the idle bitmap cannot see accesses to [vdso] (no LRU pages): not measured, no WSS
	 * (smaps's Referenced for it is not this backend's answer) */
	size_t special = 0;
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].kind == ML_VMA_VDSO || s->regions[i].kind == ML_VMA_VVAR) {
			ck_assert(!s->regions[i].measured);
			ck_assert_uint_eq(s->regions[i].wss, 0);
			special++;
		}
	ck_assert_uint_gt(special, 0); /* every x86-64 process has a [vdso] */
	ck_assert(!s->writes_only);
	ck_assert_int_eq(s->backend, ML_WSS_IDLE);
	ml_wss_sample_free(s);
	ml_wss_free(w);
	free(pfns);
	cal_free(&k);
	close(fd);
	unlink(path);
}
END_TEST

/*
 * A huge page has one idle bit, its head frame's: the kernel ignores a write to a tail
 * frame's bit and reads it as 0. The window marks the head only, and counts the whole huge
 * page by it: 0 untouched, 2 MiB once any of it is accessed.
 */
START_TEST(idle_huge_page_against_a_bitmap_file)
{
	const char *why;
	if (!mlt_thp_possible(&why))
		mlt_skip("%s: no huge page to mark", why);
	char path[] = "/tmp/ml_wss_bitmapXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)NWORDS * 8), 0);
	cal k = cal_new();
	uint64_t a;
	cal_map(&k, 512, "thp", &a);
	uint64_t pfns[512], kf = 0;
	child_pfns(&k, a, 512, pfns);
	ml_kpage *kp;
	ck_assert_int_eq(ml_kpage_open(ML_KPAGE_FLAGS, &kp), 0);
	ck_assert_int_eq(ml_kpage_flags(kp, pfns[0], &kf, 1), 1);
	ml_kpage_free(kp);
	bool huge = (kf & (1ull << ML_KPF_COMPOUND_HEAD)) && (kf & (1ull << ML_KPF_THP)) && pfns[0] % 512 == 0;
	for (int i = 1; i < 512 && huge; i++)
		huge = pfns[i] == pfns[0] + (uint64_t)i;
	if (!huge)
		mlt_skip("the kernel did not back the 2 MiB region with a huge page (memory fragmented)");
	ck_assert_uint_lt(pfns[0] / 64 + 8, NWORDS);

	ML_OPTS(ml_wss_opts, o, .backend = ML_WSS_IDLE, .idle_bitmap_path = path);
	ml_wss *w = NULL;
	int r = ml_wss_start(k.p, &o, &w);
	ck_assert_msg(r == 0, "ml_wss_start: %s", ml_strerror(r));
	ck_assert(word(fd, pfns[0]) & 1); /* the head: 512-aligned, bit 0 of its word */
	for (int i = 1; i < 512; i++) {
		/* as the kernel: a tail frame's bit reads 0 whatever was written */
		uint64_t v = word(fd, pfns[i]);
		if (v >> (pfns[i] % 64) & 1) {
			v &= ~(1ull << (pfns[i] % 64));
			ck_assert_int_eq(pwrite(fd, &v, 8, (off_t)(pfns[i] / 64 * 8)), 8);
			ck_abort_msg("tail frame %llu marked", (unsigned long long)pfns[i]);
		}
	}
	ml_wss_sample *s = close_window(w);
	const ml_wss_region *rg = region_at(s, a);
	ck_assert_ptr_nonnull(rg);
	ck_assert_uint_eq(rg->wss, 0);
	ml_wss_sample_free(s);
	access_frame(fd, pfns[0]);
	s = close_window(w);
	rg = region_at(s, a);
	ck_assert_ptr_nonnull(rg);
	ck_assert_uint_eq(rg->wss, 512 * PG);
	ml_wss_sample_free(s);
	ml_wss_free(w);
	cal_free(&k);
	close(fd);
	unlink(path);
}
END_TEST

int main(void)
{
	ml_proc *self;
	ml_pagemap *pm;
	if (ml_proc_self(&self) < 0 || ml_pagemap_open(self, &pm) < 0)
		mlt_skip("cannot open this process's pagemap");
	bool visible = ml_pagemap_pfn_visible(pm);
	ml_pagemap_free(pm);
	ml_proc_free(self);
	if (!visible)
		mlt_skip("pagemap shows no PFNs here (needs CAP_SYS_ADMIN)");
	uint64_t z;
	int zr = ml_pagemap_zero_pfn(&z);
	if (zr < 0 && zr != -EOPNOTSUPP)
		mlt_skip("the zero page's PFN cannot be told here: %s", ml_strerror(zr));
	Suite *s = suite_create("wss_idle_replay");
	TCase *t = tcase_create("idle");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, idle_window_against_a_bitmap_file);
	tcase_add_test(t, idle_huge_page_against_a_bitmap_file);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
