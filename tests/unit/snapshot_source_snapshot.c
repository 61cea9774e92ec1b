/* lib/snapshot/source_snapshot.c: a snapshot read through ml_source (saved files, reads and
 * runs equal to the reader's, maps from the saved text or, without it, from the mapping
 * table). More of it: source_read_runs.c, source_read_rollup.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot_model.h"

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mlsrcsnap"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

START_TEST(source_over_snapshot)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 5, 10, 50);
	ck_assert_int_eq(sm_write(&m, tpath("s.mlcore"), NULL, 1), 0);
	ml_source *src;
	ck_assert_int_eq(ml_source_open(tpath("s.mlcore"), &src), 0);
	ck_assert_int_eq(ml_source_get_type(src), ML_SOURCE_SNAPSHOT);
	ck_assert_int_eq(ml_source_pid(src), 4242);
	ck_assert_ptr_null(ml_source_proc(src));
	char *f;
	size_t fl;
	ck_assert_int_eq(ml_source_read_file(src, "status", &f, &fl), 0);
	ck_assert_uint_eq(fl, 26);
	free(f);
	ck_assert_int_eq(ml_source_read_file(src, "environ", &f, &fl), -ENOENT);
	/* reads and runs match the reader's */
	const sm_vma *v = &m.v[1];
	uint8_t a[8192], b[8192];
	ssize_t r = ml_source_read(src, v->start, a, sizeof(a), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("s.mlcore"), &s), 0);
	ck_assert_int_eq(ml_snapshot_read(s, v->start, b, sizeof(b)), r);
	if (r > 0)
		ck_assert(!memcmp(a, b, (size_t)r));
	ml_run r1[64], r2[64];
	uint64_t n1, n2;
	ssize_t k1 = ml_source_runs(src, m.v[0].start, m.v[m.n - 1].end, 0, r1, 64, &n1);
	ssize_t k2 = ml_snapshot_runs(s, m.v[0].start, m.v[m.n - 1].end, 0, r2, 64, &n2);
	ck_assert_int_eq(k1, k2);
	ck_assert_uint_eq(n1, n2);
	for (ssize_t i = 0; i < k1; i++) { /* field by field: ml_run has tail padding */
		ck_assert_uint_eq(r1[i].start, r2[i].start);
		ck_assert_uint_eq(r1[i].end, r2[i].end);
		ck_assert_int_eq(r1[i].kind, r2[i].kind);
	}
	ck_assert_int_eq(ml_source_read(src, 0x10, a, 1, 0), -EFAULT);
	ck_assert_str_eq(ml_error_detail(), "0x10 is not in a captured mapping");
	/* maps come from the saved maps text */
	ml_maps *maps;
	ck_assert_int_eq(ml_source_maps(src, &maps), 0);
	ck_assert_uint_eq(ml_maps_count(maps), m.n);
	for (size_t i = 0; i < m.n; i++) {
		ck_assert_uint_eq(ml_maps_get(maps, i)->start, m.v[i].start);
		ck_assert_uint_eq(ml_maps_get(maps, i)->end, m.v[i].end);
		ck_assert_str_eq(ml_maps_get(maps, i)->name, m.v[i].name);
	}
	ml_maps_free(maps);
	ml_snapshot_free(s);
	ml_source_free(src);
	/* not a snapshot */
	ck_assert_int_eq(ml_source_open("/etc/passwd", &src), -EBADMSG);
	ck_assert_int_eq(ml_source_open(tpath("nope"), &src), -ENOENT);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST


/* Without a saved maps file the source still lists the mappings, from the mapping table. */
START_TEST(maps_without_a_saved_maps_file)
{
	mk_tmpdir();
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("nomaps.mlcore"), NULL, &w), 0);
	ml_snapshot_vma v[3];
	memset(v, 0, sizeof(v));
	const char *names[3] = { "/usr/lib/with space (deleted)", "", "/tmp/new\nline" };
	for (int i = 0; i < 3; i++) {
		v[i].vma.start = 0x400000 + (uint64_t)i * 0x10000;
		v[i].vma.end = v[i].vma.start + 0x3000;
		v[i].vma.perms = ML_PERM_READ | (i == 1 ? ML_PERM_WRITE | ML_PERM_SHARED : 0);
		v[i].vma.offset = (uint64_t)i * 0x1000;
		v[i].vma.inode = 1000 + (uint64_t)i;
		v[i].vma.dev_major = 8;
		v[i].vma.dev_minor = 1;
		v[i].vma.name = names[i];
		v[i].vma.name_len = strlen(v[i].vma.name);
		v[i].vma.deleted = i == 0;
		v[i].flags = ML_SNAPSHOT_VMA_EXCLUDED;
	}
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, 3), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_source *src;
	ck_assert_int_eq(ml_source_open(tpath("nomaps.mlcore"), &src), 0);
	ml_maps *m;
	ck_assert_int_eq(ml_source_maps(src, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), 3);
	for (size_t i = 0; i < 3; i++) {
		const ml_vma *x = ml_maps_get(m, i);
		ck_assert_uint_eq(x->start, v[i].vma.start);
		ck_assert_uint_eq(x->end, v[i].vma.end);
		ck_assert_uint_eq(x->perms, v[i].vma.perms);
		ck_assert_uint_eq(x->inode, v[i].vma.inode);
		ck_assert_uint_eq(x->offset, v[i].vma.offset);
		ck_assert_uint_eq(x->name_len, v[i].vma.name_len);
		ck_assert(!memcmp(x->name, v[i].vma.name, x->name_len));
	}
	ck_assert(ml_maps_get(m, 0)->deleted);
	ml_maps_free(m);
	ml_source_free(src);
	rm_tmpdir();
}
END_TEST


int main(void)
{
	Suite *s = suite_create("snapshot_source_snapshot");
	TCase *tc = tcase_create("source");
	tcase_add_test(tc, source_over_snapshot);
	tcase_add_test(tc, maps_without_a_saved_maps_file);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
