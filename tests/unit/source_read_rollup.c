/* ml_source_read_rollup() on snapshots: the saved smaps_rollup, or the sum of the saved
 * smaps when there is no rollup (marked summed, without the fields only the kernel's rollup
 * has), or -ENOENT when neither was saved. The live side: integration tests and CLI maps/info. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define BASE 0x7f0000000000ull
#define PG 4096u

static const char smaps_text[] =
	"7f0000000000-7f0000002000 rw-p 00000000 00:00 0\n"
	"Size:                  8 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
	"Rss:                   8 kB\nPss:                   6 kB\nPrivate_Dirty:         4 kB\n"
	"Shared_Clean:          4 kB\nSwap:                  0 kB\n"
	"7f0000003000-7f0000004000 r--p 00000000 00:00 0\n"
	"Size:                  4 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
	"Rss:                   4 kB\nPss:                   4 kB\nPrivate_Clean:         4 kB\n"
	"Shared_Clean:          0 kB\nSwap:                 12 kB\n";

static const char rollup_text[] =
	"7f0000000000-7f0000004000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:                  12 kB\nPss:                  10 kB\nPss_Anon:              6 kB\n"
	"Pss_File:              4 kB\nPss_Shmem:             0 kB\nSwap:                 12 kB\n";

/* A snapshot of two mappings holding the given saved files (NULL: not saved). */
static ml_source *make(char *path, size_t len, const char *smaps, const char *rollup)
{
	const char *t = getenv("TMPDIR");
	snprintf(path, len, "%s/ml_read_rollup.%d.mlcore", t && *t ? t : "/tmp", (int)getpid());
	unlink(path);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path, NULL, &w), 0);
	ml_snapshot_vma v[2] = {
		{ .vma = { .start = BASE, .end = BASE + 2 * PG, .perms = ML_PERM_READ | ML_PERM_WRITE, .kind = ML_VMA_ANON } },
		{ .vma = { .start = BASE + 3 * PG, .end = BASE + 4 * PG, .perms = ML_PERM_READ, .kind = ML_VMA_ANON } },
	};
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, 2), 0);
	if (smaps)
		ck_assert_int_eq(ml_snapshot_writer_add_file(w, "smaps", smaps, strlen(smaps)), 0);
	if (rollup)
		ck_assert_int_eq(ml_snapshot_writer_add_file(w, "smaps_rollup", rollup, strlen(rollup)), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, BASE, 2 * PG, ML_RUN_UNPOPULATED), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, BASE + 3 * PG, PG, ML_RUN_UNPOPULATED), 0);
	int r = ml_snapshot_writer_finish(w);
	ck_assert_msg(r == 0, "%s", ml_error_detail());
	ml_snapshot_writer_free(w);
	ml_source *s;
	ck_assert_int_eq(ml_source_open(path, &s), 0);
	return s;
}

START_TEST(saved_rollup_is_read_as_saved)
{
	char path[256];
	ml_source *s = make(path, sizeof(path), smaps_text, rollup_text);
	ml_smaps_rollup *r;
	bool summed = true;
	ck_assert_int_eq(ml_source_read_rollup(s, &r, &summed), 0);
	ck_assert(!summed);
	ck_assert_uint_eq(r->f.rss, 12 << 10);
	ck_assert_uint_eq(r->f.pss, 10 << 10);
	ck_assert(r->f.present & (1ull << ML_SMAPS_PSS_ANON));
	ck_assert_uint_eq(r->f.pss_anon, 6 << 10);
	ml_smaps_rollup_free(r);
	ml_source_free(s);
	unlink(path);
}
END_TEST

START_TEST(smaps_alone_is_summed)
{
	char path[256];
	ml_source *s = make(path, sizeof(path), smaps_text, NULL);
	ml_smaps_rollup *r;
	bool summed = false;
	ck_assert_int_eq(ml_source_read_rollup(s, &r, &summed), 0);
	ck_assert(summed);
	ck_assert_uint_eq(r->f.rss, 12 << 10);
	ck_assert_uint_eq(r->f.pss, 10 << 10);
	ck_assert_uint_eq(r->f.swap, 12 << 10);
	ck_assert_uint_eq(ml_smaps_uss(&r->f), 8 << 10);
	/* what a sum cannot give is not present, never a made-up 0 or a sum of page sizes */
	ck_assert(!(r->f.present & (1ull << ML_SMAPS_PSS_ANON)));
	ck_assert(!(r->f.present & (1ull << ML_SMAPS_SIZE)));
	ck_assert(!(r->f.present & (1ull << ML_SMAPS_KERNEL_PAGE_SIZE)));
	ck_assert_uint_eq(r->start, BASE);
	ck_assert_uint_eq(r->end, BASE + 4 * PG);
	ml_smaps_rollup_free(r);
	/* NULL for the flag is allowed */
	ck_assert_int_eq(ml_source_read_rollup(s, &r, NULL), 0);
	ml_smaps_rollup_free(r);
	ml_source_free(s);
	unlink(path);
}
END_TEST

START_TEST(neither_saved)
{
	char path[256];
	ml_source *s = make(path, sizeof(path), NULL, NULL);
	ml_smaps_rollup *r = NULL;
	ck_assert_int_eq(ml_source_read_rollup(s, &r, NULL), -ENOENT);
	ck_assert_int_eq(ml_source_read_rollup(NULL, &r, NULL), -EINVAL);
	ck_assert_int_eq(ml_source_read_rollup(s, NULL, NULL), -EINVAL);
	ml_source_free(s);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("source_read_rollup");
	TCase *tc = tcase_create("snapshot");
	tcase_add_test(tc, saved_rollup_is_read_as_saved);
	tcase_add_test(tc, smaps_alone_is_summed);
	tcase_add_test(tc, neither_saved);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
