/* lib/links.c: exe, cwd and root read from a directory tree made here (exact bytes, the
 * " (deleted)" suffix as the only evidence) and from this process's own cwd, where deletion is
 * decided on the directory itself (a name that really ends in " (deleted)" is not deleted). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mllinks"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }

static void link_at(const char *name, const char *target)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	ck_assert_int_eq(symlink(target, p), 0);
}

START_TEST(tree_links_exact_bytes)
{
	mk_tmpdir();
	static const char exe[] = "/opt/odd \xff\xfe name\nwith newline";
	link_at("exe", exe);
	link_at("cwd", "/srv/data (deleted)");
	link_at("root", "/");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(tmpdir, &p), 0);
	ml_link *l;
	ck_assert_int_eq(ml_exe_read(p, &l), 0);
	ck_assert_uint_eq(l->len, strlen(exe));
	ck_assert(!memcmp(l->path, exe, l->len) && l->path[l->len] == '\0');
	ck_assert(!l->deleted);
	ck_assert_int_eq(l->via_tid, 0);
	ml_link_free(l);
	/* a tree has only the suffix to go by: deleted, and the suffix removed */
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/srv/data");
	ck_assert_uint_eq(l->len, 9);
	ck_assert(l->deleted);
	ml_link_free(l);
	ck_assert_int_eq(ml_root_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/");
	ck_assert(!l->deleted);
	ml_link_free(l);
	ck_assert_int_eq(ml_link_read(p, "exe", &l), 0);
	ck_assert_uint_eq(l->len, strlen(exe));
	ml_link_free(l);
	ml_proc_free(p);
	rm_tmpdir();
}
END_TEST

START_TEST(tree_missing_and_misuse)
{
	mk_tmpdir();
	link_at("exe", " (deleted)"); /* only the suffix: an empty path, deleted */
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(tmpdir, &p), 0);
	ml_link *l = NULL;
	ck_assert_int_eq(ml_exe_read(p, &l), 0);
	ck_assert_uint_eq(l->len, 0);
	ck_assert_str_eq(l->path, "");
	ck_assert(l->deleted);
	ml_link_free(l);
	l = NULL;
	ck_assert_int_eq(ml_cwd_read(p, &l), -ENOENT); /* a kernel thread's exe reads so too */
	ck_assert_ptr_null(l);
	ck_assert_int_eq(ml_link_read(p, NULL, &l), -EINVAL);
	ck_assert_int_eq(ml_link_read(NULL, "exe", &l), -EINVAL);
	ck_assert_int_eq(ml_exe_read(p, NULL), -EINVAL);
	ml_link_free(NULL);
	ml_proc_free(p);
	rm_tmpdir();
}
END_TEST

/* Reads this process's cwd through a live handle. */
static ml_link *own_cwd(void)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(getpid(), &p), 0);
	ml_link *l = NULL;
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ml_proc_free(p);
	return l;
}

START_TEST(live_deletion_decided_on_the_directory)
{
	mk_tmpdir();
	char old[PATH_MAX], real[PATH_MAX], d[PATH_MAX + 32];
	ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
	ck_assert_ptr_nonnull(realpath(tmpdir, real));

	/* a directory whose name really ends in " (deleted)" */
	snprintf(d, sizeof(d), "%s/d (deleted)", real);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(chdir(d), 0);
	ml_link *l = own_cwd();
	ck_assert_str_eq(l->path, d);
	ck_assert(!l->deleted);
	ml_link_free(l);

	/* the same name, removed while we are in it: deleted, the suffix the kernel added removed */
	ck_assert_int_eq(rmdir(d), 0);
	l = own_cwd();
	ck_assert_str_eq(l->path, d);
	ck_assert(l->deleted);
	ml_link_free(l);

	/* a plain directory, removed */
	snprintf(d, sizeof(d), "%s/plain", real);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(chdir(d), 0);
	l = own_cwd();
	ck_assert_str_eq(l->path, d);
	ck_assert(!l->deleted);
	ml_link_free(l);
	ck_assert_int_eq(rmdir(d), 0);
	l = own_cwd();
	ck_assert_str_eq(l->path, d);
	ck_assert(l->deleted);
	ml_link_free(l);

	ck_assert_int_eq(chdir(old), 0);
	rm_tmpdir();
}
END_TEST

/* Deletion is decided from the attributes the kernel holds, never by asking a file system
 * (statx with AT_STATX_DONT_SYNC): a dead network mount would never answer. Any other stat
 * fails here, so a decision that needed one would fall back to the suffix. */
START_TEST(live_deletion_decided_without_asking_the_file_system)
{
	mk_tmpdir();
	char old[PATH_MAX], real[PATH_MAX], d[PATH_MAX + 32];
	ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
	ck_assert_ptr_nonnull(realpath(tmpdir, real));
	snprintf(d, sizeof(d), "%s/d (deleted)", real);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(chdir(d), 0);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(getpid(), &p), 0);
	mlt_seccomp_cached_stat_only();
	struct stat st;
	ck_assert_int_eq(fstatat(AT_FDCWD, ".", &st, 0), -1); /* the filter is on */
	ml_link *l = NULL;
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, d);
	ck_assert(!l->deleted); /* really named so, and there */
	ml_link_free(l);
	ck_assert_int_eq(rmdir(d), 0);
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, d);
	ck_assert(l->deleted);
	ml_link_free(l);
	ml_proc_free(p);
	ck_assert_int_eq(chdir(old), 0);
	ck_assert_int_eq(rmdir(tmpdir), 0); /* no shell under the filter: it is empty now */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("links");
	TCase *tc = tcase_create("links");
	tcase_add_test(tc, tree_links_exact_bytes);
	tcase_add_test(tc, tree_missing_and_misuse);
	tcase_add_test(tc, live_deletion_decided_on_the_directory);
	suite_add_tcase(s, tc);
	/* each installs a seccomp filter, which stays for the process: left out where the
	 * tests do not fork (scripts/valgrind.sh) */
	TCase *sc = tcase_create("seccomp");
	tcase_set_tags(sc, "seccomp");
	tcase_add_test(sc, live_deletion_decided_without_asking_the_file_system);
	suite_add_tcase(s, sc);
	return mlt_run_suite(s);
}
