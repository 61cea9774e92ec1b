/* lib/snapshot/publish.c through ml_snapshot_writer_open()/finish(): what an output path may
 * replace (a regular file, only with overwrite), what it never replaces (symlink, directory,
 * FIFO, socket, device node), a target that appears while writing or while publishing,
 * leftovers of a killed writer, that a refused or abandoned output leaves nothing behind,
 * file systems without hard links or rename flags (emulated with a seccomp filter), and a
 * published file whose directory could not be synced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <ucontext.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot/snap.h"

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mlpub"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

static void assert_listing(const char *want) { mlt_assert_listing(tmpdir, want); }
static void write_file(const char *path, const char *text) { mlt_write_file(path, text); }

static void assert_file(const char *path, const char *text)
{
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_eq(n, (ssize_t)strlen(text));
	ck_assert_str_eq(buf, text);
}

/* A writer of one mapping of one page whose byte is @fill; NULL with *err on refusal. */
static ml_snapshot_writer *open_writer(const char *path, bool overwrite, int *err)
{
	ML_OPTS(ml_snapshot_writer_opts, o, .threads = 1, .overwrite = overwrite);
	ml_snapshot_writer *w = NULL;
	*err = ml_snapshot_writer_open(path, &o, &w);
	if (*err < 0)
		return NULL;
	ml_snapshot_vma v = { .vma = { .start = 0x10000, .end = 0x11000, .perms = ML_PERM_READ } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	return w;
}

static int finish(ml_snapshot_writer *w, uint8_t fill)
{
	uint8_t page[4096];
	memset(page, fill, sizeof(page));
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page)), 0);
	int r = ml_snapshot_writer_finish(w);
	ml_snapshot_writer_free(w);
	return r;
}

/* The byte the snapshot at @path holds at 0x10000, or -1 when it does not open. */
static int snapshot_byte(const char *path)
{
	ml_snapshot *s;
	if (ml_snapshot_open(path, &s) < 0)
		return -1;
	uint8_t b = 0;
	ssize_t n = ml_snapshot_read(s, 0x10000, &b, 1);
	ml_snapshot_free(s);
	return n == 1 ? b : -1;
}

START_TEST(new_file_appears_only_when_finished)
{
	mk_tmpdir();
	int err;
	ml_snapshot_writer *w = open_writer(tpath("a.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	/* nothing with the name, nor anything else that could be taken for it, until finish */
	assert_listing("");
	ck_assert_int_eq(finish(w, 0x5a), 0);
	assert_listing("a.mlcore\n");
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x5a);
	struct stat st;
	ck_assert_int_eq(stat(tpath("a.mlcore"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	/* abandoned: nothing left */
	w = open_writer(tpath("b.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	ml_snapshot_writer_free(w);
	assert_listing("a.mlcore\n");
	rm_tmpdir();
}
END_TEST

START_TEST(regular_file_replaced_only_with_overwrite)
{
	mk_tmpdir();
	write_file(tpath("old.mlcore"), "precious\n");
	int err;
	ck_assert_ptr_null(open_writer(tpath("old.mlcore"), false, &err));
	ck_assert_int_eq(err, -EEXIST);
	assert_file(tpath("old.mlcore"), "precious\n");
	assert_listing("old.mlcore\n");

	struct stat before, after;
	ck_assert_int_eq(stat(tpath("old.mlcore"), &before), 0);
	ml_snapshot_writer *w = open_writer(tpath("old.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	/* the old file stays whole until the new one replaces it */
	assert_file(tpath("old.mlcore"), "precious\n");
	ck_assert_int_eq(finish(w, 0x11), 0);
	ck_assert_int_eq(snapshot_byte(tpath("old.mlcore")), 0x11);
	ck_assert_int_eq(stat(tpath("old.mlcore"), &after), 0);
	ck_assert_msg(after.st_ino != before.st_ino, "replaced by rename, not rewritten in place");
	assert_listing("old.mlcore\n");
	rm_tmpdir();
}
END_TEST

START_TEST(symlinks_and_directories_never_replaced)
{
	mk_tmpdir();
	write_file(tpath("victim"), "victim\n");
	ck_assert_int_eq(symlink(tpath("victim"), tpath("link.mlcore")), 0);
	ck_assert_int_eq(symlink(tpath("nowhere"), tpath("dangling.mlcore")), 0);
	ck_assert_int_eq(mkdir(tpath("dir.mlcore"), 0700), 0);
	int err;
	for (int ow = 0; ow < 2; ow++) {
		ck_assert_ptr_null(open_writer(tpath("link.mlcore"), ow, &err));
		ck_assert_int_eq(err, -ELOOP);
		ck_assert_ptr_null(open_writer(tpath("dangling.mlcore"), ow, &err));
		ck_assert_int_eq(err, -ELOOP);
		ck_assert_ptr_null(open_writer(tpath("dir.mlcore"), ow, &err));
		ck_assert_int_eq(err, -EISDIR);
		/* a path that names a directory by its form */
		ck_assert_ptr_null(open_writer(tpath("dir.mlcore/."), ow, &err));
		ck_assert_int_eq(err, -EISDIR);
		ck_assert_ptr_null(open_writer(tpath("dir.mlcore/"), ow, &err));
		ck_assert_int_eq(err, -EISDIR);
	}
	assert_file(tpath("victim"), "victim\n");
	ck_assert_int_eq(access(tpath("nowhere"), F_OK), -1);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("link.mlcore"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	assert_listing("dangling.mlcore\ndir.mlcore\nlink.mlcore\nvictim\n");
	char *in = NULL;
	DIR *d = opendir(tpath("dir.mlcore"));
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			in = e->d_name;
	ck_assert_ptr_null(in);
	closedir(d);
	rm_tmpdir();
}
END_TEST

START_TEST(fifo_and_socket_never_replaced)
{
	mk_tmpdir();
	ck_assert_int_eq(mkfifo(tpath("pipe.mlcore"), 0600), 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tpath("sock.mlcore"));
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	int err;
	for (int ow = 0; ow < 2; ow++) {
		ck_assert_ptr_null(open_writer(tpath("pipe.mlcore"), ow, &err));
		ck_assert_int_eq(err, -EEXIST);
		ck_assert_ptr_null(open_writer(tpath("sock.mlcore"), ow, &err));
		ck_assert_int_eq(err, -EEXIST);
	}
	struct stat st;
	ck_assert_int_eq(lstat(tpath("pipe.mlcore"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(lstat(tpath("sock.mlcore"), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	assert_listing("pipe.mlcore\nsock.mlcore\n");
	close(s);
	rm_tmpdir();
}
END_TEST

START_TEST(device_node_never_replaced)
{
	mk_tmpdir();
	/* a node of our own (the null device's numbers), never the system's /dev/null */
	if (mknod(tpath("null.mlcore"), S_IFCHR | 0600, makedev(1, 3)) < 0) {
		int e = errno;
		rm_tmpdir();
		mlt_skip("cannot make a device node (%s): needs CAP_MKNOD", strerror(e));
	}
	int err;
	for (int ow = 0; ow < 2; ow++) {
		ck_assert_ptr_null(open_writer(tpath("null.mlcore"), ow, &err));
		ck_assert_int_eq(err, -EEXIST);
	}
	struct stat st;
	ck_assert_int_eq(lstat(tpath("null.mlcore"), &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(st.st_rdev, makedev(1, 3));
	assert_listing("null.mlcore\n");
	rm_tmpdir();
}
END_TEST

/* What appears at the path while the snapshot is written is checked again at finish. */
START_TEST(target_appearing_meanwhile)
{
	mk_tmpdir();
	int err;
	ml_snapshot_writer *w = open_writer(tpath("race.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	write_file(tpath("race.mlcore"), "someone else's\n");
	ck_assert_int_eq(finish(w, 1), -EEXIST);
	assert_file(tpath("race.mlcore"), "someone else's\n");
	assert_listing("race.mlcore\n");

	/* with overwrite a regular file is replaced, a FIFO still refused */
	w = open_writer(tpath("race2.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	write_file(tpath("race2.mlcore"), "x\n");
	ck_assert_int_eq(finish(w, 2), 0);
	ck_assert_int_eq(snapshot_byte(tpath("race2.mlcore")), 2);

	w = open_writer(tpath("race3.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(mkfifo(tpath("race3.mlcore"), 0600), 0);
	ck_assert_int_eq(finish(w, 3), -EEXIST);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("race3.mlcore"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	assert_listing("race.mlcore\nrace2.mlcore\nrace3.mlcore\n");
	rm_tmpdir();
}
END_TEST

/* A hidden temporary of a writer that died (no lock held) is removed by the next writer
 * of the same output; one still locked (a writer at work), another user's and other names
 * are kept. */
START_TEST(killed_writers_temporaries_removed)
{
	mk_tmpdir();
	write_file(tpath(".x.mlcore.AbCd1234.tmp"), "dead\n");
	write_file(tpath(".x.mlcore.Live5678.tmp"), "alive\n");
	write_file(tpath(".y.mlcore.AbCd1234.tmp"), "another output's\n");
	write_file(tpath(".x.mlcore.short.tmp"), "not the pattern\n");
	/* another user's (only root can make one) */
	bool root = geteuid() == 0;
	if (root) {
		write_file(tpath(".x.mlcore.Other123.tmp"), "another user's\n");
		ck_assert_int_eq(chown(tpath(".x.mlcore.Other123.tmp"), 65534, 65534), 0);
	}
	int live = open(tpath(".x.mlcore.Live5678.tmp"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(live, 0);
	ck_assert_int_eq(flock(live, LOCK_EX | LOCK_NB), 0);
	int err;
	ml_snapshot_writer *w = open_writer(tpath("x.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 9), 0);
	assert_listing(root ? ".x.mlcore.Live5678.tmp\n.x.mlcore.Other123.tmp\n.x.mlcore.short.tmp\n"
			      ".y.mlcore.AbCd1234.tmp\nx.mlcore\n"
			    : ".x.mlcore.Live5678.tmp\n.x.mlcore.short.tmp\n.y.mlcore.AbCd1234.tmp\nx.mlcore\n");
	close(live);
	rm_tmpdir();
}
END_TEST

START_TEST(missing_or_unwritable_directory)
{
	mk_tmpdir();
	int err;
	ck_assert_ptr_null(open_writer(tpath("no/x.mlcore"), false, &err));
	ck_assert_int_eq(err, -ENOENT);
	write_file(tpath("file"), "f\n");
	ck_assert_ptr_null(open_writer(tpath("file/x.mlcore"), false, &err));
	ck_assert_int_eq(err, -ENOTDIR);
	assert_listing("file\n");
	rm_tmpdir();
}
END_TEST

/* ---- publishing on file systems that lack something, and failures after publishing ---- */

#define TMPFILE_UNSUPPORTED { __NR_openat, 2, __O_TMPFILE, __O_TMPFILE, SECCOMP_RET_ERRNO | EOPNOTSUPP }

/* vfat, exfat and many FUSE and SMB mounts: no O_TMPFILE, no hard links (EPERM), but
 * rename with RENAME_NOREPLACE. A dump without --force failed at the very end there. */
START_TEST(no_hard_links)
{
	mk_tmpdir();
	mlt_sc_rule rules[] = {
		TMPFILE_UNSUPPORTED,
		{ __NR_linkat, -1, 0, 0, SECCOMP_RET_ERRNO | EPERM },
		{ __NR_link, -1, 0, 0, SECCOMP_RET_ERRNO | EPERM },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
	int err;
	ml_snapshot_writer *w = open_writer(tpath("a.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 0x21), 0);
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x21);
	/* a name taken meanwhile is still refused, and left alone */
	w = open_writer(tpath("b.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	write_file(tpath("b.mlcore"), "someone else's\n");
	ck_assert_int_eq(finish(w, 0x22), -EEXIST);
	assert_file(tpath("b.mlcore"), "someone else's\n");
	/* and with overwrite */
	w = open_writer(tpath("b.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 0x23), 0);
	ck_assert_int_eq(snapshot_byte(tpath("b.mlcore")), 0x23);
	assert_listing("a.mlcore\nb.mlcore\n");
	rm_tmpdir();
}
END_TEST

/* A file system that refuses rename flags (EINVAL) but has hard links: link() publishes
 * without overwrite, a check and a rename with it; what must not be replaced still is not. */
START_TEST(no_rename_flags)
{
	mk_tmpdir();
	mlt_sc_rule rules[] = {
		TMPFILE_UNSUPPORTED,
		{ __NR_renameat2, 4, 0xffffffffu, RENAME_NOREPLACE, SECCOMP_RET_ERRNO | EINVAL },
		{ __NR_renameat2, 4, 0xffffffffu, RENAME_EXCHANGE, SECCOMP_RET_ERRNO | EINVAL },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
	int err;
	ml_snapshot_writer *w = open_writer(tpath("a.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 0x31), 0);
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x31);
	w = open_writer(tpath("a.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 0x32), 0);
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x32);
	w = open_writer(tpath("b.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	write_file(tpath("b.mlcore"), "someone else's\n");
	ck_assert_int_eq(finish(w, 0x33), -EEXIST);
	assert_file(tpath("b.mlcore"), "someone else's\n");
	w = open_writer(tpath("c.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(mkfifo(tpath("c.mlcore"), 0600), 0);
	ck_assert_int_eq(finish(w, 0x34), -EEXIST);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("c.mlcore"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	assert_listing("a.mlcore\nb.mlcore\nc.mlcore\n");
	rm_tmpdir();
}
END_TEST

/*
 * A FIFO that appears at the path after the publishing step checked it, and before the
 * file is put in place, is not replaced. The filter traps the first link of the unnamed
 * file (linkat with AT_EMPTY_PATH, done between the check and the rename); the handler
 * makes the FIFO and fails that call, and the publisher links through /proc/self/fd.
 */
static char fifo_path[512];
static volatile sig_atomic_t trapped;

static void make_fifo_on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
#if defined(__x86_64__)
	ucontext_t *u = uc;
	if (!trapped++)
		mkfifo(fifo_path, 0600);
	u->uc_mcontext.gregs[REG_RAX] = -ENOENT;
#else
	(void)uc;
#endif
}

START_TEST(target_appearing_while_publishing)
{
	mk_tmpdir();
	snprintf(fifo_path, sizeof(fifo_path), "%s", tpath("x.mlcore"));
	int probe = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (probe < 0) {
		int e = errno;
		rm_tmpdir();
		mlt_skip("O_TMPFILE is not supported in %s (%s): the publishing step this test traps is not taken", tmpdir, strerror(e));
	}
	close(probe);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = make_fifo_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	ck_assert_int_eq(sigaction(SIGSYS, &sa, NULL), 0);
	int err;
	ml_snapshot_writer *w = open_writer(fifo_path, true, &err);
	ck_assert_int_eq(err, 0);
	mlt_sc_rule rules[] = { { __NR_linkat, 4, 0xffffffffu, AT_EMPTY_PATH, SECCOMP_RET_TRAP } };
	mlt_seccomp(rules, 1);
	ck_assert_int_eq(finish(w, 0x41), -EEXIST);
	ck_assert_int_eq(trapped, 1);
	struct stat st;
	ck_assert_int_eq(lstat(fifo_path, &st), 0);
	ck_assert_msg(S_ISFIFO(st.st_mode), "the FIFO was replaced (mode %o)", st.st_mode);
	assert_listing("x.mlcore\n");
	rm_tmpdir();
}
END_TEST

static int fsync_errno = EIO;

static int fsync_fails(int fd)
{
	(void)fd;
	errno = fsync_errno;
	return -1;
}

/* Published, then the directory's fsync fails: the file is there, whole, and the call says
 * so (1, and the detail), instead of an error that claims nothing is left. */
START_TEST(directory_sync_failure_after_publishing)
{
	mk_tmpdir();
	snap_out_fsync_dir = fsync_fails;
	int err;
	ml_snapshot_writer *w = open_writer(tpath("a.mlcore"), false, &err);
	ck_assert_int_eq(err, 0);
	uint8_t page[4096];
	memset(page, 0x51, sizeof(page));
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page)), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 1);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "is complete and in place, but syncing its directory failed: "));
	ml_snapshot_writer_free(w);
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x51);

	/* replacing a file */
	w = open_writer(tpath("a.mlcore"), true, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(finish(w, 0x52), 1);
	ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x52);

	/* expanding to a file */
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("a.mlcore"), &s), 0);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("a.core"), NULL, NULL), 1);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "a.core is complete and in place, but syncing its directory failed: "));
	ml_snapshot_free(s);
	struct stat st;
	ck_assert_int_eq(stat(tpath("a.core"), &st), 0);
	ck_assert_uint_gt(st.st_size, 0x1000);
	assert_listing("a.core\na.mlcore\n");

	/* a file system that syncs no directory: nothing more can be done, and it is no failure */
	for (int i = 0; i < 2; i++) {
		fsync_errno = i ? EOPNOTSUPP : EINVAL;
		w = open_writer(tpath("a.mlcore"), true, &err);
		ck_assert_int_eq(err, 0);
		ck_assert_int_eq(finish(w, 0x53 + i), 0);
		ck_assert_int_eq(snapshot_byte(tpath("a.mlcore")), 0x53 + i);
	}
	fsync_errno = EIO;
	snap_out_fsync_dir = fsync;
	rm_tmpdir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_publish");
	TCase *tc = tcase_create("paths");
	tcase_add_test(tc, new_file_appears_only_when_finished);
	tcase_add_test(tc, regular_file_replaced_only_with_overwrite);
	tcase_add_test(tc, symlinks_and_directories_never_replaced);
	tcase_add_test(tc, fifo_and_socket_never_replaced);
	tcase_add_test(tc, device_node_never_replaced);
	tcase_add_test(tc, target_appearing_meanwhile);
	tcase_add_test(tc, killed_writers_temporaries_removed);
	tcase_add_test(tc, missing_or_unwritable_directory);
	tcase_add_test(tc, directory_sync_failure_after_publishing);
	suite_add_tcase(s, tc);
	/* each installs a seccomp filter, which stays for the process: left out where the
	 * tests do not fork (scripts/valgrind.sh) */
	TCase *sc = tcase_create("seccomp");
	tcase_set_tags(sc, "seccomp");
	tcase_add_test(sc, no_hard_links);
	tcase_add_test(sc, no_rename_flags);
	tcase_add_test(sc, target_appearing_while_publishing);
	suite_add_tcase(s, sc);
	return mlt_run_suite(s);
}
