/* lib/internal/dl.c: the compression and ELF libraries, loaded at first use; a library that
 * cannot be loaded is a clear error at every entry point, never a call through NULL. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "internal/dl.h"
#include "mltest.h"

/*
 * Each case runs in a child of its own: what was loaded (or refused) stays for the life of a
 * process, and the suite may run without a fork per test (valgrind).
 */
typedef int (*scenario)(const char *dir);

static void run_in_child(scenario fn)
{
	char dir[] = "/tmp/ml-dl-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0)
		_exit(fn(dir));
	int st;
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(WIFEXITED(st), "the scenario died (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	ck_assert_msg(WEXITSTATUS(st) == 0, "scenario check %d failed", WEXITSTATUS(st));
}

/* A small valid snapshot at @path: one mapping of one page, with data. */
static int write_snapshot(const char *path)
{
	ml_snapshot_writer *w;
	if (ml_snapshot_writer_open(path, NULL, &w) < 0)
		return -1;
	ML_OPTS(ml_snapshot_info, info, .pid = 1, .comm = "t", .page_size = 4096);
	ml_vma v = { .start = 0x10000, .end = 0x11000, .perms = ML_PERM_READ | ML_PERM_WRITE };
	ml_snapshot_vma sv = { .vma = v, .dump_size = 0x1000 };
	static uint8_t page[4096];
	memset(page, 'p', sizeof(page));
	int r = ml_snapshot_writer_set_info(w, &info);
	if (r == 0)
		r = ml_snapshot_writer_set_mappings(w, &sv, 1);
	if (r == 0)
		r = ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page));
	if (r == 0)
		r = ml_snapshot_writer_finish(w);
	ml_snapshot_writer_free(w);
	return r;
}

static int loads_and_works(const char *dir)
{
	if (ml__dl_load() != 0)
		return 1;
	/* the table holds the real functions: CRC-32 of "abc" */
	if (ml__dl_fns()->crc32(0, (const unsigned char *)"abc", 3) != 0x352441c2)
		return 2;
	char path[256];
	snprintf(path, sizeof(path), "%s/s.mlcore", dir);
	if (write_snapshot(path) != 0)
		return 3;
	ml_snapshot *s;
	if (ml_snapshot_open(path, &s) != 0)
		return 4;
	uint8_t b[16];
	int ok = ml_snapshot_read(s, 0x10000, b, sizeof(b)) == (ssize_t)sizeof(b) && b[0] == 'p' && b[15] == 'p';
	ml_snapshot_free(s);
	return ok ? 0 : 5;
}

/* @denied: the library refused; every entry point says so, names it, and writes nothing. */
static int refused_everywhere(const char *dir, const char *denied)
{
	char path[256], made[256], name[64];
	snprintf(path, sizeof(path), "%s/s.mlcore", dir);
	snprintf(made, sizeof(made), "%s/made.mlcore", dir);
	snprintf(name, sizeof(name), "%s.so", denied);
	/* a snapshot made before the refusal, in a child that loaded everything */
	pid_t c = fork();
	if (c == 0)
		_exit(write_snapshot(path) == 0 ? 0 : 1);
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 10;

	ml__dl_deny_for_tests(denied);
	if (ml__dl_load() != -ELIBACC || !strstr(ml_error_detail(), name))
		return 11;
	ml_snapshot_writer *w = NULL;
	if (ml_snapshot_writer_open(made, NULL, &w) != -ELIBACC || w || !strstr(ml_error_detail(), name))
		return 12;
	if (access(made, F_OK) == 0)
		return 13; /* nothing written */
	ml_snapshot *s = NULL;
	if (ml_snapshot_open(path, &s) != -ELIBACC || s || !strstr(ml_error_detail(), name))
		return 14;
	ml_source *src = NULL;
	if (ml_source_open_file(path, &src) != -ELIBACC || src || !strstr(ml_error_detail(), name))
		return 15;
	/* a file that is not a snapshot goes the way of a core: refused the same */
	char core[256];
	snprintf(core, sizeof(core), "%s/not-a-snapshot", dir);
	int fd = open(core, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "\177ELF", 4) != 4 || close(fd) != 0)
		return 16;
	if (ml_source_open_file(core, &src) != -ELIBACC || src || !strstr(ml_error_detail(), name))
		return 17;
	/* a path that does not exist is that first */
	char nowhere[256];
	snprintf(nowhere, sizeof(nowhere), "%s/no-such-file", dir);
	if (ml_snapshot_open(nowhere, &s) != -ENOENT || ml_source_open_file(nowhere, &src) != -ENOENT)
		return 20;
	/* the same answer every time */
	if (ml__dl_load() != -ELIBACC)
		return 18;
	/* live processes need none of them */
	if (ml_source_open_pid(getpid(), &src) != 0)
		return 19;
	ml_source_free(src);
	return 0;
}

static int refused_zlib(const char *dir) { return refused_everywhere(dir, "libz"); }
static int refused_lz4(const char *dir) { return refused_everywhere(dir, "liblz4"); }
static int refused_elf(const char *dir) { return refused_everywhere(dir, "libelf"); }

START_TEST(loads_at_first_use) { run_in_child(loads_and_works); }
END_TEST
START_TEST(missing_zlib_is_an_error) { run_in_child(refused_zlib); }
END_TEST
START_TEST(missing_lz4_is_an_error) { run_in_child(refused_lz4); }
END_TEST
START_TEST(missing_libelf_is_an_error) { run_in_child(refused_elf); }
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_dl");
	TCase *tc = tcase_create("dl");
	tcase_add_test(tc, loads_at_first_use);
	tcase_add_test(tc, missing_zlib_is_an_error);
	tcase_add_test(tc, missing_lz4_is_an_error);
	tcase_add_test(tc, missing_libelf_is_an_error);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
