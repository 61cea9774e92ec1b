/* lib/idle.c: the page_idle bitmap on a file laid out like the kernel's (batched marking, reads,
 * tests, refusals), and the probe's reason where the kernel has no bitmap. */
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

static uint64_t word_at(const char *path, uint64_t w)
{
	int fd = open(path, O_RDONLY);
	uint64_t v = 0;
	ck_assert_int_eq(pread(fd, &v, 8, (off_t)(w * 8)), 8);
	close(fd);
	return v;
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

START_TEST(idle_bitmap_on_a_file)
{
	char path[] = "/tmp/ml_wss_idleXXXXXX";
	bitmap_file(path, 4096);
	ml_idle *b;
	ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
	/* neighbours batch into one write; a far frame costs a second one */
	uint64_t pfns[] = { 130, 64, 65, 0, 127, 64, 200000 };
	ck_assert_int_eq(ml_idle_mark_pfns(b, pfns, 7), 2);
	ck_assert_uint_eq(word_at(path, 1), (1ull << 0) | (1ull << 1) | (1ull << 63));
	ck_assert_uint_eq(word_at(path, 2), 1ull << 2);
	ck_assert_uint_eq(word_at(path, 3125), 1ull << 0);
	ck_assert_uint_eq(word_at(path, 0), 0);
	/* like the kernel's file: a later write adds its 1 bits, its 0 bits change nothing */
	uint64_t more[] = { 66 };
	ck_assert_int_eq(ml_idle_mark_pfns(b, more, 1), 1);
	ck_assert_uint_eq(word_at(path, 1), (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 63));
	access_frame(path, 66);
	uint64_t words[4];
	ck_assert_int_eq(ml_idle_read(b, 64, words, 4), 4);
	ck_assert_uint_eq(words[0], word_at(path, 1));
	ck_assert_int_eq(ml_idle_read(b, 4095 * 64, words, 4), 1); /* end of the bitmap */
	uint64_t q[] = { 0, 64, 66, 130, 200000, 300000 };
	uint8_t idle[6];
	ck_assert_int_eq(ml_idle_test_pfns(b, q, 6, idle), 0);
	ck_assert_int_eq(idle[0], 0);
	ck_assert_int_eq(idle[1], 1);
	ck_assert_int_eq(idle[2], 0);
	ck_assert_int_eq(idle[3], 1);
	ck_assert_int_eq(idle[4], 1);
	ck_assert_int_eq(idle[5], 0); /* past the end of memory */
	uint64_t unsorted[] = { 5, 3 };
	ck_assert_int_eq(ml_idle_test_pfns(b, unsorted, 2, idle), -EINVAL);
	ml_idle_free(b);
	ml_idle_free(NULL);
	/* read-only: marking is refused, reading works */
	chmod(path, 0400);
	if (geteuid() != 0) {
		ck_assert_int_eq(ml_idle_open_path(path, &b), 0);
		ck_assert_int_eq(ml_idle_mark_pfns(b, pfns, 1), -EBADF);
		ml_idle_free(b);
	}
	unlink(path);
}
END_TEST

START_TEST(kernel_bitmap_absent_here_says_why)
{
	ml_idle_probe_info pi;
	ck_assert_int_eq(ml_idle_probe(&pi), 0);
	ck_assert_ptr_nonnull(pi.reason);
	ml_idle *b = NULL;
	int r = ml_idle_open(&b);
	struct stat st;
	if (stat("/sys/kernel/mm/page_idle", &st) < 0) {
		ck_assert_int_eq(r, -EOPNOTSUPP);
		ck_assert_int_eq(pi.status, -EOPNOTSUPP);
		ck_assert_ptr_nonnull(strstr(pi.reason, "CONFIG_IDLE_PAGE_TRACKING"));
		ck_assert_ptr_null(b);
	} else {
		ck_assert_int_eq(r == 0, pi.status == 0);
		ml_idle_free(b);
	}
	ck_assert_int_eq(ml_idle_probe(NULL), -EINVAL);
	ck_assert_int_eq(ml_idle_open(NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idle");
	TCase *tc = tcase_create("idle");
	tcase_add_test(tc, idle_bitmap_on_a_file);
	tcase_add_test(tc, kernel_bitmap_absent_here_says_why);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
