/* lib/internal/vranges.c: the page readers' view of the mappings (bounds, never-scanned,
 * unreadable, what an absent page holds) from a maps file written here, and the lookup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "internal/page.h"

static char tmpdir[256];

/* One mapping: its maps line and the flags a reader keeping the mappings must give it. */
static const struct {
	const char *line;
	unsigned flags;
	unsigned dontcare; /* flags this test leaves open */
} maps[] = {
	{ "00400000-00401000 r-xp 00000000 08:01 1234 /usr/bin/prog", ML_VR_FILEBACKED, 0 },
	{ "00401000-00403000 rw-p 00000000 00:00 0 ", ML_VR_ZEROFILL, 0 },
	{ "00600000-00700000 rw-p 00000000 00:00 0 [heap]", ML_VR_ZEROFILL, 0 },
	{ "7f0000000000-7f0000010000 rw-p 00000000 00:05 6 /dev/zero", ML_VR_ZEROFILL, 0 },
	{ "7f0000010000-7f0000020000 rw-s 00000000 00:05 6 /dev/zero (deleted)", ML_VR_FILEBACKED, 0 },
	{ "7f0000020000-7f0000030000 rw-s 00000000 08:01 99 /data/shared file", ML_VR_FILEBACKED, 0 },
	{ "7f0000030000-7f0000031000 rw-p 00000000 00:01 77 /memfd:buf (deleted)", ML_VR_FILEBACKED, 0 },
	/* unreadable whatever else is said of it: readers test that first */
	{ "7f0000031000-7f0000032000 rw-s 00000000 00:01 78 /secretmem (deleted)", ML_VR_UNREADABLE, ML_VR_FILEBACKED },
	{ "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]", ML_VR_ZEROFILL, 0 },
	{ "7ffc00100000-7ffc00104000 r--p 00000000 00:00 0 [vvar]", ML_VR_NOSCAN | ML_VR_UNREADABLE, 0 },
	{ "7ffc00104000-7ffc00106000 r-xp 00000000 00:00 0 [vdso]", 0, 0 },
	{ "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]", ML_VR_NOSCAN | ML_VR_UNREADABLE, 0 },
};
#define NMAPS (sizeof(maps) / sizeof(maps[0]))

static ml_proc *tree(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/mlvrXXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char path[400];
	snprintf(path, sizeof(path), "%s/maps", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < NMAPS; i++)
		fprintf(f, "%s\n", maps[i].line);
	fclose(f);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(tmpdir, &p), 0);
	return p;
}

static void untree(ml_proc *p)
{
	ml_proc_free(p);
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	int st;
	free(mlt_run(cmd, &st));
}

START_TEST(flags_of_each_kind_of_mapping)
{
	ml_proc *p = tree();
	ml_vrange *v;
	size_t n;
	ml_maps *m;
	ck_assert_int_eq(ml__vranges_read_maps(p, &v, &n, &m), 0);
	ck_assert_uint_eq(n, NMAPS);
	for (size_t i = 0; i < n; i++) {
		unsigned long long a, b;
		ck_assert_int_eq(sscanf(maps[i].line, "%llx-%llx", &a, &b), 2);
		ck_assert_uint_eq(v[i].start, a);
		ck_assert_uint_eq(v[i].end, b);
		ck_assert_msg((v[i].flags & ~maps[i].dontcare) == maps[i].flags, "%s: flags 0x%x, expected 0x%x",
			      maps[i].line, v[i].flags, maps[i].flags);
		ck_assert_ptr_nonnull(v[i].vma);
		ck_assert_uint_eq(v[i].vma->start, a);
	}
	free(v);
	ml_maps_free(m);

	/* without the mappings kept, nothing is file-backed (no file to read pages from) */
	ck_assert_int_eq(ml__vranges_read(p, &v, &n), 0);
	ck_assert_uint_eq(n, NMAPS);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(v[i].flags, maps[i].flags & ~(unsigned)ML_VR_FILEBACKED);
		ck_assert_ptr_null(v[i].vma);
	}
	free(v);
	untree(p);
}
END_TEST

START_TEST(find_first_range_ending_after)
{
	ml_proc *p = tree();
	ml_vrange *v;
	size_t n;
	ck_assert_int_eq(ml__vranges_read(p, &v, &n), 0);
	/* against a linear search over addresses at, around and between every bound */
	for (size_t i = 0; i < n; i++) {
		uint64_t probes[] = { v[i].start - 1, v[i].start, v[i].start + 1, v[i].end - 1, v[i].end, v[i].end + 4096 };
		for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
			size_t want = 0;
			while (want < n && v[want].end <= probes[k])
				want++;
			ck_assert_msg(ml__vranges_find(v, n, probes[k]) == want, "0x%llx",
				      (unsigned long long)probes[k]);
		}
	}
	ck_assert_uint_eq(ml__vranges_find(v, n, 0), 0);
	ck_assert_uint_eq(ml__vranges_find(v, n, UINT64_MAX), n);
	ck_assert_uint_eq(ml__vranges_find(v, 0, 0x400000), 0);
	free(v);
	untree(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_vranges");
	TCase *tc = tcase_create("vranges");
	tcase_add_test(tc, flags_of_each_kind_of_mapping);
	tcase_add_test(tc, find_first_range_ending_after);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
