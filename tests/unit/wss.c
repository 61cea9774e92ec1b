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

START_TEST(idle_window_on_synthetic_pagemap)
{
	char path[] = "/tmp/ml_wss_idleXXXXXX";
	bitmap_file(path, 1024);
	ml_idle *b;
	ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
	/* 512 entries: present pages map frames 1000 + 3i; some absent, some swapped */
	uint64_t e[512], scratch[512];
	uint8_t flags[512];
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
	ck_assert_int_eq(ml__wss_idle_mark_entries(b, e, 512, 0, scratch), (ssize_t)present);
	size_t acc = 99;
	ck_assert_int_eq(ml__wss_idle_count(b, e, 512, 0, scratch, flags, &acc), 0);
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
	ck_assert_int_eq(ml__wss_idle_count(b, e, 512, 0, scratch, flags, &acc), 0);
	ck_assert_uint_eq(acc, touched + 3);
	ml_idle_free(b);
	unlink(path);
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
	tcase_add_test(t, soft_dirty_counts);
	tcase_add_test(t, names_and_options);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
