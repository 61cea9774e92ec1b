/* Unit tests of the maps text parser: exact names, kinds, torn-read normalisation, fixtures. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static ml_maps *parse(const char *text)
{
	ml_maps *m = NULL;
	int r = ml_maps_parse(text, strlen(text), &m);
	ck_assert_msg(r == 0, "parse failed: %d", r);
	return m;
}

#define L64(a, b, perms, off, dev, ino, name) a "-" b " " perms " " off " " dev " " ino "  " name "\n"

START_TEST(parses_fields_exactly)
{
	ml_maps *m = parse("55cd9d1f0000-55cd9d1f2000 r--p 00002000 fe:01 10954119                   /usr/bin/cat\n"
			   "7ffec5006000-7ffec5027000 rw-p 00000000 00:00 0                          [stack]\n"
			   "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");
	ck_assert_uint_eq(ml_maps_count(m), 3);
	const ml_vma *v = ml_maps_get(m, 0);
	ck_assert_uint_eq(v->start, 0x55cd9d1f0000);
	ck_assert_uint_eq(v->end, 0x55cd9d1f2000);
	ck_assert_uint_eq(v->offset, 0x2000);
	ck_assert_uint_eq(v->dev_major, 0xfe);
	ck_assert_uint_eq(v->dev_minor, 1);
	ck_assert_uint_eq(v->inode, 10954119);
	ck_assert_uint_eq(v->perms, ML_PERM_READ);
	ck_assert_int_eq(v->kind, ML_VMA_FILE);
	ck_assert_str_eq(v->name, "/usr/bin/cat");
	ck_assert_uint_eq(v->name_len, 12);
	ck_assert(!v->deleted);
	ck_assert_uint_eq(v->build_id_len, 0);
	ck_assert_int_eq(ml_maps_get(m, 1)->kind, ML_VMA_STACK);
	ck_assert_uint_eq(ml_maps_get(m, 1)->perms, ML_PERM_READ | ML_PERM_WRITE);
	ck_assert_int_eq(ml_maps_get(m, 2)->kind, ML_VMA_VSYSCALL);
	ck_assert_uint_eq(ml_maps_get(m, 2)->perms, ML_PERM_EXEC);
	ck_assert_ptr_null(ml_maps_get(m, 3));
	ck_assert_int_eq(ml_maps_origin(m), ML_MAPS_TEXT);
	char pb[5];
	ck_assert_str_eq(ml_vma_perms_str(ML_PERM_READ | ML_PERM_EXEC | ML_PERM_SHARED, pb), "r-xs");
	ml_maps_free(m);
}
END_TEST

START_TEST(names_keep_exact_bytes)
{
	/* trailing spaces, an escaped newline, invalid UTF-8, a fake deleted suffix */
	ml_maps *m = parse("1000-2000 r--p 00000000 08:01 11 /tmp/sp ace  \n"
			   "2000-3000 r--p 00000000 08:01 12 /tmp/new\\012line\n"
			   "3000-4000 r--p 00000000 08:01 13 /tmp/\xff\xfe bad\n"
			   "4000-5000 r--p 00000000 08:01 14 /tmp/x (deleted) (deleted)\n"
			   "5000-6000 rw-s 00000000 00:01 15 /dev/zero (deleted)\n"
			   "6000-7000 rw-s 00000000 00:01 16 /memfd:my buf (deleted)\n"
			   "7000-8000 rw-s 00000000 00:01 17 /SYSV0000abcd (deleted)\n"
			   "8000-9000 rw-p 00000000 00:00 0 [anon:my name]\n"
			   "9000-a000 rw-s 00000000 00:01 18 [anon_shmem:shm name]\n"
			   "a000-b000 r--p 00000000 00:00 0 [vvar_vclock]\n"
			   "b000-c000 r--p 00000000 00:00 0 [uprobes]\n"
			   "c000-d000 r--p 00000000 08:01 19 /memfd:not really\n"
			   "d000-e000 rw-p 00000000 00:00 0 \n");
	ck_assert_uint_eq(ml_maps_count(m), 13);
	const ml_vma *v = ml_maps_get(m, 0);
	ck_assert_uint_eq(v->name_len, 13);
	ck_assert(memcmp(v->name, "/tmp/sp ace  ", 14) == 0);
	v = ml_maps_get(m, 1);
	ck_assert_uint_eq(v->name_len, 13);
	ck_assert(memcmp(v->name, "/tmp/new\nline", 13) == 0);
	v = ml_maps_get(m, 2);
	ck_assert_uint_eq(v->name_len, 11);
	ck_assert(memcmp(v->name, "/tmp/\xff\xfe bad", 11) == 0);
	v = ml_maps_get(m, 3);
	ck_assert_str_eq(v->name, "/tmp/x (deleted)");
	ck_assert(v->deleted);
	ck_assert_int_eq(v->kind, ML_VMA_FILE);
	v = ml_maps_get(m, 4);
	ck_assert_str_eq(v->name, "/dev/zero");
	ck_assert(v->deleted);
	ck_assert_int_eq(v->kind, ML_VMA_SHMEM);
	v = ml_maps_get(m, 5);
	ck_assert_str_eq(v->name, "/memfd:my buf");
	ck_assert_int_eq(v->kind, ML_VMA_MEMFD);
	ck_assert_int_eq(ml_maps_get(m, 6)->kind, ML_VMA_SYSV);
	ck_assert_str_eq(ml_maps_get(m, 7)->name, "[anon:my name]");
	ck_assert_int_eq(ml_maps_get(m, 7)->kind, ML_VMA_ANON_NAMED);
	ck_assert_int_eq(ml_maps_get(m, 8)->kind, ML_VMA_SHMEM);
	ck_assert_int_eq(ml_maps_get(m, 9)->kind, ML_VMA_VVAR);
	ck_assert_int_eq(ml_maps_get(m, 10)->kind, ML_VMA_OTHER);
	ck_assert_int_eq(ml_maps_get(m, 11)->kind, ML_VMA_FILE); /* not deleted: a real file */
	ck_assert_int_eq(ml_maps_get(m, 12)->kind, ML_VMA_ANON);
	ck_assert_uint_eq(ml_maps_get(m, 12)->name_len, 0);
	ml_maps_free(m);
}
END_TEST

START_TEST(torn_reads_are_normalised)
{
	/* A read boundary after 3000-4000 repeated it; a stale 5000-7000 was replaced by 5000-6000. */
	ml_maps *m = parse("1000-2000 r--p 00000000 00:00 0\n"
			   "3000-4000 r--p 00000000 00:00 0\n"
			   "5000-7000 r--p 00000000 00:00 0 old\n"
			   "3000-4000 r--p 00000000 00:00 0\n"
			   "5000-6000 rw-p 00000000 00:00 0 new\n"
			   "2000-3000 r--p 00000000 00:00 0\n");
	ck_assert_uint_eq(ml_maps_count(m), 4);
	uint64_t prev_end = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		ck_assert_uint_ge(v->start, prev_end);
		prev_end = v->end;
	}
	ck_assert_str_eq(ml_maps_get(m, 3)->name, "new");
	ck_assert_uint_eq(ml_maps_get(m, 3)->end, 0x6000);
	ml_maps_free(m);
}
END_TEST

START_TEST(find_by_address)
{
	ml_maps *m = parse("1000-2000 r--p 00000000 00:00 0\n"
			   "4000-6000 r--p 00000000 00:00 0\n"
			   "6000-7000 r--p 00000000 00:00 0\n");
	ck_assert_ptr_null(ml_maps_find(m, 0xfff));
	ck_assert_uint_eq(ml_maps_find(m, 0x1000)->start, 0x1000);
	ck_assert_uint_eq(ml_maps_find(m, 0x1fff)->start, 0x1000);
	ck_assert_ptr_null(ml_maps_find(m, 0x2000));
	ck_assert_ptr_null(ml_maps_find(m, 0x3fff));
	ck_assert_uint_eq(ml_maps_find(m, 0x5fff)->start, 0x4000);
	ck_assert_uint_eq(ml_maps_find(m, 0x6000)->start, 0x6000);
	ck_assert_ptr_null(ml_maps_find(m, 0x7000));
	ck_assert_ptr_null(ml_maps_find(NULL, 0x1000));
	ml_maps_free(m);
}
END_TEST

START_TEST(malformed_lines_fail)
{
	static const char *const bad[] = {
		"1000-2000 r--p 00000000 00:00\n",
		"1000 r--p 00000000 00:00 0\n",
		"1000-2000 rwzp 00000000 00:00 0\n",
		"1000-2000 r--p 00000000 0000 0\n",
		"2000-1000 r--p 00000000 00:00 0\n",
		"1000-2000 r--p 00000000 00:00 0x\n",
		"10000000000000000-2 r--p 0 0:0 0\n",
		"Rss: 4 kB\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml_maps *m = (ml_maps *)0x1;
		ck_assert_int_eq(ml_maps_parse(bad[i], strlen(bad[i]), &m), -EBADMSG);
		ck_assert_ptr_eq(m, (ml_maps *)0x1); /* untouched on failure */
	}
	/* no trailing newline, and an empty file */
	ml_maps *m;
	ck_assert_int_eq(ml_maps_parse("1000-2000 r--p 00000000 00:00 0 /x", 34, &m), 0);
	ck_assert_str_eq(ml_maps_get(m, 0)->name, "/x");
	ml_maps_free(m);
	ck_assert_int_eq(ml_maps_parse("", 0, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), 0);
	ml_maps_free(m);
	ck_assert_int_eq(ml_maps_parse(NULL, 0, &m), 0);
	ml_maps_free(m);
	ck_assert_int_eq(ml_maps_parse(NULL, 5, &m), -EINVAL);
	ml_maps_free(NULL);
}
END_TEST

START_TEST(never_reads_past_len)
{
	/* the buffer is cut in the middle of a name: the name ends where len does */
	const char *t = "1000-2000 r--p 00000000 08:01 5 /abcdefgh";
	ml_maps *m;
	ck_assert_int_eq(ml_maps_parse(t, strlen(t) - 4, &m), 0);
	ck_assert_str_eq(ml_maps_get(m, 0)->name, "/abcd");
	ml_maps_free(m);
}
END_TEST

START_TEST(kind_names)
{
	ck_assert_str_eq(ml_vma_kind_name(ML_VMA_ANON_NAMED), "anon-named");
	ck_assert_str_eq(ml_vma_kind_name(ML_VMA_MEMFD), "memfd");
	ck_assert_str_eq(ml_vma_kind_name(ML_VMA_KIND_COUNT), "?");
}
END_TEST

static ml_proc *fixture(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/%s", mlt_fixture_dir(), name);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	return p;
}

static const ml_vma *by_suffix(const ml_maps *m, const char *suffix, size_t n)
{
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		if (v->name_len >= n && memcmp(v->name + v->name_len - n, suffix, n) == 0)
			return v;
	}
	return NULL;
}
#define BY_SUFFIX(m, lit) by_suffix(m, lit, sizeof(lit) - 1)

START_TEST(fixture_odd_names)
{
	ml_proc *p = fixture("maps-names");
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), 0);
	ck_assert_int_eq(ml_maps_origin(m), ML_MAPS_TEXT); /* no ioctl on a plain file */
	ck_assert_uint_eq(ml_maps_count(m), 34);
	ml_maps *q;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &q), -EOPNOTSUPP);
	const ml_vma *v = BY_SUFFIX(m, "/sp ace  ");
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->start, 0x7fbb5ab9f000);
	ck_assert_uint_eq(v->inode, 10955825);
	v = BY_SUFFIX(m, "/new\nline");
	ck_assert_ptr_nonnull(v);
	ck_assert(v->name_uncertain); /* text alone cannot tell \012 from a newline */
	ck_assert_ptr_nonnull(BY_SUFFIX(m, "/bad\xff\xfe"));
	/* a literal backslash sequence reads as a newline from text alone */
	v = BY_SUFFIX(m, "/back\nslash");
	ck_assert_ptr_nonnull(v);
	ck_assert(v->name_uncertain);
	/* from text alone, a trailing " (deleted)" means deleted (the live reader checks) */
	v = BY_SUFFIX(m, "/real");
	ck_assert(v && v->deleted);
	v = BY_SUFFIX(m, "/gone");
	ck_assert(v && v->deleted && v->inode == 10955950);
	v = BY_SUFFIX(m, "/gone (deleted)");
	ck_assert(v && v->deleted && v->inode == 10955953);
	v = ml_maps_find(m, 0x7fbb5a99d000);
	ck_assert_str_eq(v->name, "/dev/zero");
	ck_assert_int_eq(v->kind, ML_VMA_SHMEM);
	ck_assert_int_eq(ml_maps_find(m, 0x7fbb5a98d000)->kind, ML_VMA_MEMFD);
	ck_assert_str_eq(ml_maps_find(m, 0x7fbb5a98d000)->name, "/memfd:fx_buf");
	ck_assert_int_eq(ml_maps_find(m, 0x7fbb5a97d000)->kind, ML_VMA_SYSV);
	unsigned kinds = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++)
		kinds |= 1u << ml_maps_get(m, i)->kind;
	ck_assert_uint_eq(kinds & (1u << ML_VMA_HEAP | 1u << ML_VMA_STACK | 1u << ML_VMA_VDSO |
				   1u << ML_VMA_VVAR | 1u << ML_VMA_VSYSCALL | 1u << ML_VMA_ANON),
			  1u << ML_VMA_HEAP | 1u << ML_VMA_STACK | 1u << ML_VMA_VDSO | 1u << ML_VMA_VVAR |
				  1u << ML_VMA_VSYSCALL | 1u << ML_VMA_ANON);
	ml_maps_free(m);
	ml_proc_free(p);
}
END_TEST

START_TEST(fixture_anon_named)
{
	ml_proc *p = fixture("maps-anon-named");
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &m), 0);
	const ml_vma *v = ml_maps_find(m, 0x7fbb5a9b1000);
	ck_assert_str_eq(v->name, "[anon:ml heap arena]");
	ck_assert_int_eq(v->kind, ML_VMA_ANON_NAMED);
	ck_assert_str_eq(ml_maps_find(m, 0x7fbb5ab89000)->name, "[anon:x]");
	v = ml_maps_find(m, 0x7fbb5a99d000);
	ck_assert_str_eq(v->name, "[anon_shmem:ml shm]");
	ck_assert_int_eq(v->kind, ML_VMA_SHMEM);
	ck_assert_uint_eq(v->inode, 163);
	ml_maps_free(m);
	ml_proc_free(p);
}
END_TEST

START_TEST(fixture_kernel_thread)
{
	ml_proc *p = fixture("maps-kthread");
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), 0);
	ck_assert_ptr_null(ml_maps_get(m, 0));
	ck_assert_ptr_null(ml_maps_find(m, 0));
	ml_maps_free(m);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, parses_fields_exactly);
	tcase_add_test(tc, names_keep_exact_bytes);
	tcase_add_test(tc, torn_reads_are_normalised);
	tcase_add_test(tc, find_by_address);
	tcase_add_test(tc, malformed_lines_fail);
	tcase_add_test(tc, never_reads_past_len);
	tcase_add_test(tc, kind_names);
	tcase_add_test(tc, fixture_odd_names);
	tcase_add_test(tc, fixture_anon_named);
	tcase_add_test(tc, fixture_kernel_thread);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
