/* The ELF core source (lib/snapshot/elfcore.c) on small cores kept in the fuzz corpus:
 * a PT_LOAD whose p_filesz is smaller than p_memsz, and a core cut short inside a load. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static ml_source *open_core(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/../fuzz/corpus/elfcore/%s", mlt_fixture_dir(), name);
	ml_source *s;
	ck_assert_int_eq(ml_source_open(path, &s), 0);
	return s;
}

/* tiny.core: LOAD 0x7ff000000000, p_filesz 0x1000 of p_memsz 0x2000. The second page is
 * not captured: runs say so, read_runs marks its zeros unavailable, never data. */
START_TEST(uncaptured_tail_is_marked_not_read)
{
	ml_source *s = open_core("tiny.core");
	const uint64_t a = 0x7ff000000000ull;
	ml_run r[4];
	uint64_t next;
	ck_assert_int_eq(ml_source_runs(s, a, a + 0x2000, 0, r, 4, &next), 2);
	ck_assert(r[0].start == a && r[0].end == a + 0x1000 && r[0].kind == ML_RUN_DATA);
	ck_assert(r[1].start == a + 0x1000 && r[1].end == a + 0x2000 && r[1].kind == ML_RUN_EXCLUDED);

	static unsigned char b[0x2000], d[0x1000];
	memset(b, 0xee, sizeof(b));
	size_t nr;
	ck_assert_int_eq(ml_source_read_runs(s, a + 0x800, b, 0x1800, 0, r, 4, &nr), 0x1800);
	ck_assert_uint_eq(nr, 2);
	ck_assert(r[0].start == a + 0x800 && r[0].end == a + 0x1000 && r[0].kind == ML_RUN_DATA);
	ck_assert(r[1].start == a + 0x1000 && r[1].end == a + 0x2000 && r[1].kind == ML_RUN_EXCLUDED);
	ck_assert_int_eq(ml_source_read(s, a, d, sizeof(d), 0), 0x1000);
	ck_assert(!memcmp(b, d + 0x800, 0x800)); /* the stored bytes */
	for (size_t i = 0x800; i < 0x1800; i++)
		ck_assert_uint_eq(b[i], 0); /* zeros under the run that says they are not the target's */
	/* starting in the uncaptured part: zeros, all marked */
	ck_assert_int_eq(ml_source_read_runs(s, a + 0x1800, b, 0x800, 0, r, 4, &nr), 0x800);
	ck_assert(nr == 1 && r[0].kind == ML_RUN_EXCLUDED);
	ml_source_free(s);
}
END_TEST

/* tiny-truncated.core ends 0x800 bytes into the LOAD at 0x7ff000000000: what the file
 * holds reads, the rest is unreadable (a short read, never zeros), and the source says it
 * is partial. */
START_TEST(truncated_core_stops_where_the_file_ends)
{
	ml_source *s = open_core("tiny-truncated.core");
	const uint64_t a = 0x7ff000000000ull;
	ck_assert_ptr_nonnull(ml_source_partial(s));
	static unsigned char b[0x2000];
	ck_assert_int_eq(ml_source_read(s, a, b, 0x1000, 0), 0x800);
	ck_assert_int_lt(ml_source_read(s, a + 0x800, b, 0x10, 0), 0);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "truncated"));
	ml_run r[4];
	size_t nr;
	ck_assert_int_eq(ml_source_read_runs(s, a, b, 0x2000, 0, r, 4, &nr), 0x800);
	ck_assert(nr == 1 && r[0].kind == ML_RUN_DATA && r[0].end == a + 0x800);
	ml_source_free(s);
}
END_TEST

/* A core that shrinks while it is open (another process truncates it): a read gives what the
 * file still holds and then stops, saying so; it never says "Bad message" for the end of
 * the file nor loses the bytes before it. */
START_TEST(core_shrinking_while_open)
{
	char dir[64], path[128];
	mlt_mkdtemp(dir, sizeof(dir), "mlcoreshrink");
	snprintf(path, sizeof(path), "%s/c.core", dir);
	size_t n;
	char *bytes = mlt_read_fixture("../../fuzz/corpus/elfcore/tiny.core", &n);
	ck_assert_ptr_nonnull(bytes);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
	close(fd);
	/* the file offset of the load at 0x7ff000000000 */
	Elf64_Ehdr eh;
	memcpy(&eh, bytes, sizeof(eh));
	uint64_t off = 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, bytes + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_vaddr == 0x7ff000000000ull)
			off = ph.p_offset;
	}
	ck_assert_uint_gt(off, 0);
	ml_source *s;
	ck_assert_int_eq(ml_source_open(path, &s), 0);
	ck_assert_ptr_null(ml_source_partial(s));
	ck_assert_int_eq(truncate(path, (off_t)(off + 0x800)), 0);
	const uint64_t a = 0x7ff000000000ull;
	static unsigned char b[0x1000];
	ck_assert_int_eq(ml_source_read(s, a, b, 0x1000, 0), 0x800);
	ck_assert(!memcmp(b, bytes + off, 0x800));
	ck_assert_int_eq(ml_source_read(s, a + 0x800, b, 0x10, 0), -EIO);
	ck_assert_msg(strstr(ml_error_detail(), "shrank"), "%s", ml_error_detail());
	ml_source_free(s);
	free(bytes);
	mlt_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_elfcore");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, uncaptured_tail_is_marked_not_read);
	tcase_add_test(tc, truncated_core_stops_where_the_file_ends);
	tcase_add_test(tc, core_shrinking_while_open);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
