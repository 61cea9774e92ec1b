/* lib/wss.c: the per-page windows on synthetic data (idle marking over a pagemap, soft-dirty counts), names and options.
 * The smaps side: tests/unit/wss_smaps.c; the idle bitmap itself: tests/unit/idle.c. */
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

/* A bitmap file of @nwords zero words at @path (a mkstemp template). */
static void bitmap_file(char *path, size_t nwords)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(nwords * 8)), 0);
	close(fd);
}

/* What the kernel does when a marked page is accessed: its idle bit reads 0 again. */
static void access_frame(const char *path, uint64_t pfn)
{
	int fd = open(path, O_RDWR);
	uint64_t v;
	ck_assert_int_eq(pread(fd, &v, 8, (off_t)(pfn / 64 * 8)), 8);
	v &= ~(1ull << (pfn % 64));
	ck_assert_int_eq(pwrite(fd, &v, 8, (off_t)(pfn / 64 * 8)), 8);
	close(fd);
}

/* kpageflags of a fake machine: frames [0, n); reads past n come back short, as the kernel's do */
typedef struct fake_kpf {
	uint64_t *flags;
	size_t n;
	size_t reads;
} fake_kpf;

static ssize_t fake_kpf_read(void *ctx, uint64_t pfn, uint64_t *buf, size_t n)
{
	fake_kpf *f = ctx;
	f->reads++;
	if (pfn >= f->n)
		return 0;
	size_t k = (size_t)ML_MIN((uint64_t)n, f->n - pfn);
	memcpy(buf, f->flags + pfn, k * 8);
	return (ssize_t)k;
}

#define KHEAD (1ull << ML_KPF_COMPOUND_HEAD)
#define KTAIL (1ull << ML_KPF_COMPOUND_TAIL)

/* A folio of 2^order frames at @head (naturally aligned) with @extra flags on every frame. */
static void fake_folio(fake_kpf *f, uint64_t head, unsigned order, uint64_t extra)
{
	f->flags[head] = KHEAD | extra;
	for (uint64_t i = 1; i < (1ull << order); i++)
		f->flags[head + i] = KTAIL | extra;
}

static fake_kpf fake_new(size_t n)
{
	fake_kpf f = { calloc(n, 8), n, 0 };
	ck_assert_ptr_nonnull(f.flags);
	return f;
}

typedef struct scratch {
	ml__idle_scratch sc;
	uint64_t kbuf[ML__KPF_BLOCK];
} scratch;

static scratch *scratch_new(fake_kpf *f, size_t cap)
{
	scratch *s = calloc(1, sizeof(*s));
	s->sc.kpf = fake_kpf_read;
	s->sc.kpf_ctx = f;
	s->sc.pfns = calloc(cap, 8);
	s->sc.heads = calloc(cap, 8);
	s->sc.flags = calloc(cap, 1);
	s->sc.kbuf = s->kbuf;
	s->sc.cap = cap;
	return s;
}

static void scratch_free(scratch *s)
{
	free(s->sc.pfns);
	free(s->sc.heads);
	free(s->sc.flags);
	free(s);
}

static bool bit_set(const char *path, uint64_t pfn)
{
	int fd = open(path, O_RDONLY);
	uint64_t v = 0;
	ck_assert_int_eq(pread(fd, &v, 8, (off_t)(pfn / 64 * 8)), 8);
	close(fd);
	return (v >> (pfn % 64)) & 1;
}

START_TEST(idle_window_on_synthetic_pagemap)
{
	char path[] = "/tmp/ml_wss_idleXXXXXX";
	bitmap_file(path, 1024);
	ml_idle *b;
	ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
	/* 512 entries: present pages map frames 1000 + 3i; some absent, some swapped */
	uint64_t e[512];
	fake_kpf kf = fake_new(1 << 16); /* ordinary pages: no compound bits */
	scratch *sc = scratch_new(&kf, 512);
	size_t present = 0;
	for (size_t i = 0; i < 512; i++) {
		if (i % 7 == 0) {
			e[i] = 0;
		} else if (i % 11 == 0) {
			e[i] = ML__PM_SWAP | 5;
		} else {
			e[i] = ML__PM_PRESENT | (1000 + 3 * i);
			present++;
		}
	}
	ck_assert_int_eq(ml__wss_idle_mark_entries(b, e, 512, 0, &sc->sc), (ssize_t)present);
	size_t acc = 99;
	ck_assert_int_eq(ml__wss_idle_count(b, e, 512, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, 0); /* nothing touched yet */
	/* touch 40 pages; fault in 3 new ones (frames never marked) */
	size_t touched = 0;
	for (size_t i = 1; i < 512 && touched < 40; i += 5)
		if (e[i] & ML__PM_PRESENT) {
			access_frame(path, e[i] & ML__PM_PFN_MASK);
			touched++;
		}
	e[0] = ML__PM_PRESENT | 60000;
	e[7] = ML__PM_PRESENT | 60001;
	e[14] = ML__PM_PRESENT | 60002;
	ck_assert_int_eq(ml__wss_idle_count(b, e, 512, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, touched + 3);
	ml_idle_free(b);
	unlink(path);
	scratch_free(sc);
	free(kf.flags);
}
END_TEST

/*
 * A huge page as the kernel tracks it: one idle bit, its head frame's. A write to a tail
 * frame's bit is ignored and a read of it gives 0, so counting tail frames by their own bits
 * would call an untouched 2 MiB THP 511 pages accessed in every window.
 */
START_TEST(idle_huge_page_counts_by_its_head)
{
	char path[] = "/tmp/ml_wss_idleXXXXXX";
	bitmap_file(path, 1024);
	ml_idle *b;
	ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
	fake_kpf kf = fake_new(1 << 16);
	fake_folio(&kf, 4096, 9, 1ull << ML_KPF_THP); /* a THP: frames 4096-4607 */
	fake_folio(&kf, 8192, 4, 0);                   /* a 64 KiB large folio: 8192-8207 */
	/* a mapping of the THP's 512 frames, then 8 pages of the large folio's second half, then
	 * three ordinary pages, in the order a mapping may list them (reversed) */
	uint64_t e[523];
	size_t n = 0;
	for (uint64_t i = 0; i < 512; i++)
		e[n++] = ML__PM_PRESENT | (4096 + 511 - i);
	for (uint64_t i = 8; i < 16; i++)
		e[n++] = ML__PM_PRESENT | (8192 + i);
	e[n++] = ML__PM_PRESENT | 9000;
	e[n++] = ML__PM_PRESENT | 9001;
	e[n++] = ML__PM_PRESENT | 20000;
	scratch *sc = scratch_new(&kf, n);
	ck_assert_int_eq(ml__wss_idle_mark_entries(b, e, n, 0, &sc->sc), (ssize_t)n);
	/* marked: each folio once, by its head (8192 although no page maps it), and the pages */
	ck_assert(bit_set(path, 4096));
	ck_assert(bit_set(path, 8192));
	ck_assert(bit_set(path, 9000) && bit_set(path, 9001) && bit_set(path, 20000));
	for (uint64_t t = 4097; t < 4608; t++)
		ck_assert_msg(!bit_set(path, t), "tail frame %llu marked", (unsigned long long)t);
	for (uint64_t t = 8193; t < 8208; t++)
		ck_assert(!bit_set(path, t));
	size_t acc = 99;
	ck_assert_int_eq(ml__wss_idle_count(b, e, n, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, 0); /* nothing touched: tails read 0, yet nothing counts */
	/* one access anywhere in the THP makes the whole of it accessed (its head's bit) */
	access_frame(path, 4096);
	ck_assert_int_eq(ml__wss_idle_count(b, e, n, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, 512);
	access_frame(path, 8192);
	access_frame(path, 20000);
	ck_assert_int_eq(ml__wss_idle_count(b, e, n, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, 512 + 8 + 1);
	ml_idle_free(b);
	unlink(path);
	scratch_free(sc);
	free(kf.flags);
}
END_TEST

/* Frames the bitmap never tracks are neither marked nor counted: the zero pages (the huge one
 * is a compound page: its tails too), frames without a struct page, frames past the end. */
START_TEST(idle_untracked_frames)
{
	char path[] = "/tmp/ml_wss_idleXXXXXX";
	bitmap_file(path, 1024);
	ml_idle *b;
	ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
	fake_kpf kf = fake_new(1 << 15);
	/* the huge zero page: ZERO_PAGE on its head only (kernels before folios) */
	fake_folio(&kf, 2048, 9, 0);
	kf.flags[2048] |= 1ull << ML_KPF_ZERO_PAGE;
	kf.flags[100] = 1ull << ML_KPF_ZERO_PAGE;
	kf.flags[101] = 1ull << ML_KPF_NOPAGE;
	uint64_t e[] = { ML__PM_PRESENT | 100, ML__PM_PRESENT | 101, ML__PM_PRESENT | 2048,
			 ML__PM_PRESENT | 2300, ML__PM_PRESENT | 40000, ML__PM_PRESENT | 500 };
	size_t n = ML_ARRAY_SIZE(e);
	scratch *sc = scratch_new(&kf, n);
	ck_assert_int_eq(ml__wss_idle_mark_entries(b, e, n, 0, &sc->sc), 1); /* frame 500 */
	ck_assert(bit_set(path, 500));
	ck_assert(!bit_set(path, 100) && !bit_set(path, 101) && !bit_set(path, 2048) && !bit_set(path, 2300));
	size_t acc = 99;
	ck_assert_int_eq(ml__wss_idle_count(b, e, n, 0, &sc->sc, &acc), 0);
	ck_assert_uint_eq(acc, 0);
	ml_idle_free(b);
	unlink(path);
	scratch_free(sc);
	free(kf.flags);
}
END_TEST

/* Heads found across kpageflags blocks, for a 1 GiB folio's tails far from its head, and with
 * duplicates (one frame mapped twice). */
START_TEST(idle_heads_search)
{
	fake_kpf kf = fake_new(1 << 19);
	fake_folio(&kf, 1 << 18, 18, 1ull << ML_KPF_HUGE); /* a 1 GiB hugetlb page */
	uint64_t in[] = { 7, 7, (1 << 18) + 37861, (1 << 18) + 200000, (1 << 18) + 200001, (1 << 18) + 262143 };
	uint64_t heads[6], kbuf[ML__KPF_BLOCK];
	ck_assert_int_eq(ml__wss_idle_heads(fake_kpf_read, &kf, in, 6, heads, kbuf), 0);
	ck_assert_uint_eq(heads[0], 7);
	ck_assert_uint_eq(heads[1], 7);
	for (int i = 2; i < 6; i++)
		ck_assert_uint_eq(heads[i], 1 << 18);
	/* a tail whose head is gone (split meanwhile): not tracked */
	kf.flags[1 << 18] = 0;
	ck_assert_int_eq(ml__wss_idle_heads(fake_kpf_read, &kf, in + 2, 1, heads, kbuf), 0);
	ck_assert_uint_eq(heads[0], 0);
	free(kf.flags);
}
END_TEST

START_TEST(soft_dirty_counts)
{
	uint64_t e[] = { ML__PM_PRESENT | ML__PM_SOFT_DIRTY | 5, ML__PM_PRESENT | 6, ML__PM_SOFT_DIRTY,
			 ML__PM_SWAP | ML__PM_SOFT_DIRTY | 9, 0 };
	/* only present pages count: a soft-dirty bit on a swap entry is a page not in RAM */
	ck_assert_uint_eq(ml__wss_count_soft_dirty(e, 5), 1);
	uint64_t p[5];
	ck_assert_uint_eq(ml__wss_present_pfns(e, 5, 0, p), 2);
	ck_assert_uint_eq(p[0], 5);
	ck_assert_uint_eq(p[1], 6);
	/* the shared zero page is never counted (it can never be marked idle) */
	ck_assert_uint_eq(ml__wss_present_pfns(e, 5, 6, p), 1);
	ck_assert_uint_eq(p[0], 5);
}
END_TEST

START_TEST(names_and_options)
{
	for (int b = ML_WSS_AUTO; b < ML_WSS_BACKEND_COUNT; b++)
		ck_assert_int_eq(ml_wss_backend_parse(ml_wss_backend_name((ml_wss_backend)b)), b);
	ck_assert_int_eq(ml_wss_backend_parse(NULL), -EINVAL);
	ck_assert_str_eq(ml_wss_target_name(ML_WSS_TARGET_EXECED), "exec'd");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	ml_wss *w = NULL;
	ML_OPTS(ml_wss_opts, bad, .scope = (ml_wss_scope)9);
	ck_assert_int_eq(ml_wss_start(p, &bad, &w), -EINVAL);
	ck_assert_int_eq(ml_wss_start(NULL, NULL, &w), -EINVAL);
	ck_assert_int_eq(ml_wss_read(NULL, NULL), -EINVAL);
	ck_assert_ptr_null(w);
	ml_wss_free(NULL);
	ml_wss_sample_free(NULL);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unit_wss");
	TCase *t = tcase_create("wss");
	tcase_add_test(t, idle_window_on_synthetic_pagemap);
	tcase_add_test(t, idle_huge_page_counts_by_its_head);
	tcase_add_test(t, idle_untracked_frames);
	tcase_add_test(t, idle_heads_search);
	tcase_add_test(t, soft_dirty_counts);
	tcase_add_test(t, names_and_options);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
