/* How the command's own output files are put in place (cli_publish() in tools/common/out.c,
 * through svg_finish() and prom_textfile_write()): on file systems without hard links or
 * rename flags (emulated with a seccomp filter), and with something put at the path after
 * cli_output_check() and just before the publishing step (a trapped rename makes it). */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/prom.h"
#include "common/svg.h"
#include "mltest.h"

static char tmpdir[256];

static void mk_tmpdir(void)
{
	mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mltpub");
	/* the trapped renames are redone with absolute names (see on_rename) */
	ck_assert_msg(tmpdir[0] == '/', "%s is not an absolute path", tmpdir);
}
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

static void assert_listing(const char *want) { mlt_assert_listing(tmpdir, want); }
static void write_file(const char *path, const char *text) { mlt_write_file(path, text); }

/* The first @n bytes of @path (NUL-terminated, static). */
static const char *head(const char *path, size_t n)
{
	static char buf[256];
	memset(buf, 0, sizeof(buf));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(read(fd, buf, n < sizeof(buf) ? n : sizeof(buf) - 1), 0);
	close(fd);
	return buf;
}

/* Standard error of the code under test, into a file read back by stderr_end(). */
static FILE *err_file;
static int saved_stderr = -1;

static void stderr_begin(void)
{
	fflush(stderr);
	err_file = tmpfile();
	ck_assert_ptr_nonnull(err_file);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fileno(err_file), STDERR_FILENO), 0);
}

static char *stderr_end(void)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	static char buf[2048];
	memset(buf, 0, sizeof(buf));
	ck_assert_int_ge(pread(fileno(err_file), buf, sizeof(buf) - 1, 0), 0);
	fclose(err_file);
	return buf;
}

static int svg_to(const char *path, bool force)
{
	svg_doc s;
	ck_assert_int_eq(svg_begin(&s, 10, 10, "test"), 0);
	return svg_finish(&s, path, force);
}

static void prom_body(FILE *f, void *ctx)
{
	(void)ctx;
	prom_family(f, "memlens_test", "a test", "gauge");
	prom_sample(f, "memlens_test", NULL, 0, 7);
}

#define SVG_HEAD "<?xml"
#define PROM_HEAD "# HELP memlens_test"

/* ---- file systems that lack something ---- */

/* vfat, exfat and many FUSE and SMB mounts: no hard links (EPERM). A picture without
 * --force was written whole, then failed at the very end there. */
START_TEST(no_hard_links)
{
	mk_tmpdir();
	mlt_sc_rule rules[] = {
		{ __NR_linkat, -1, 0, 0, SECCOMP_RET_ERRNO | EPERM },
		{ __NR_link, -1, 0, 0, SECCOMP_RET_ERRNO | EPERM },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
	stderr_begin();
	int rc = svg_to(tpath("a.svg"), false);
	char *err = stderr_end();
	ck_assert_msg(rc == 0, "svg without --force: %d: %s", rc, err);
	ck_assert_str_eq(head(tpath("a.svg"), strlen(SVG_HEAD)), SVG_HEAD);

	/* an existing file is still refused without --force, and left alone */
	write_file(tpath("b.svg"), "someone else's\n");
	stderr_begin();
	rc = svg_to(tpath("b.svg"), false);
	err = stderr_end();
	ck_assert_int_eq(rc, CLI_EXIT_ERROR);
	ck_assert_msg(strstr(err, tpath("b.svg")) && strstr(err, "appeared meanwhile (not replaced)"), "%s", err);
	ck_assert_str_eq(head(tpath("b.svg"), 64), "someone else's\n");

	/* and replaced with it; a textfile too */
	ck_assert_int_eq(svg_to(tpath("b.svg"), true), 0);
	ck_assert_str_eq(head(tpath("b.svg"), strlen(SVG_HEAD)), SVG_HEAD);
	ck_assert_int_eq(prom_textfile_write(tpath("m.prom"), prom_body, NULL), 0);
	ck_assert_int_eq(prom_textfile_write(tpath("m.prom"), prom_body, NULL), 0);
	ck_assert_str_eq(head(tpath("m.prom"), strlen(PROM_HEAD)), PROM_HEAD);
	assert_listing("a.svg\nb.svg\nm.prom\n");
	rm_tmpdir();
}
END_TEST

/* A file system that refuses rename flags (EINVAL) but has hard links: link() without
 * --force, a check then a rename with it, and what must not be replaced still is not. */
START_TEST(no_rename_flags)
{
	mk_tmpdir();
	mlt_sc_rule rules[] = {
		{ __NR_renameat2, 4, 0xffffffffu, RENAME_NOREPLACE, SECCOMP_RET_ERRNO | EINVAL },
		{ __NR_renameat2, 4, 0xffffffffu, RENAME_EXCHANGE, SECCOMP_RET_ERRNO | EINVAL },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
	ck_assert_int_eq(svg_to(tpath("a.svg"), false), 0);
	ck_assert_str_eq(head(tpath("a.svg"), strlen(SVG_HEAD)), SVG_HEAD);
	write_file(tpath("b.svg"), "someone else's\n");
	stderr_begin();
	ck_assert_int_eq(svg_to(tpath("b.svg"), false), CLI_EXIT_ERROR);
	stderr_end();
	ck_assert_str_eq(head(tpath("b.svg"), 64), "someone else's\n");
	ck_assert_int_eq(svg_to(tpath("b.svg"), true), 0);
	ck_assert_str_eq(head(tpath("b.svg"), strlen(SVG_HEAD)), SVG_HEAD);
	ck_assert_int_eq(prom_textfile_write(tpath("m.prom"), prom_body, NULL), 0);
	ck_assert_int_eq(mkfifo(tpath("f.prom"), 0600), 0);
	stderr_begin();
	ck_assert_int_eq(prom_textfile_write(tpath("f.prom"), prom_body, NULL), CLI_EXIT_ERROR);
	char *err = stderr_end();
	ck_assert_msg(strstr(err, "f.prom: is a FIFO; only a regular file is ever replaced"), "%s", err);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("f.prom"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	assert_listing("a.svg\nb.svg\nf.prom\nm.prom\n");
	rm_tmpdir();
}
END_TEST

/* ---- something put at the path just before it is published ---- */

/*
 * The filter traps every rename (rename, renameat, and renameat2 from AT_FDCWD); the
 * handler makes the object at @appear_path the first time a trapped call has @appear_flags
 * among its flags (0: the first call), then does the call itself as renameat2 with dirfd
 * -1, which the filter lets through and which absolute names ignore. So the object appears
 * after cli_output_check() and any check before the rename, at the last moment.
 */
enum kind { FIFO, SYMLINK, DEVICE, DIRECTORY, REGULAR };
static char appear_path[512], symlink_target[512];
static enum kind appear_kind;
static unsigned appear_flags;
static volatile sig_atomic_t appeared, made;

static void make_object(void)
{
	int r = -1;
	switch (appear_kind) {
	case FIFO: r = mkfifo(appear_path, 0600); break;
	case SYMLINK: r = symlink(symlink_target, appear_path); break;
	case DEVICE: r = mknod(appear_path, S_IFCHR | 0600, makedev(1, 3)); break;
	case DIRECTORY: r = mkdir(appear_path, 0700); break;
	case REGULAR: {
		int fd = open(appear_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		r = fd >= 0 && write(fd, "someone else's\n", 15) == 15 ? 0 : -1;
		if (fd >= 0)
			close(fd);
		break;
	}
	}
	made = r == 0;
}

static void on_rename(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
#if defined(__x86_64__)
	int saved = errno;
	greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;
	const char *from, *to;
	unsigned flags = 0;
	if (si->si_syscall == __NR_rename) {
		from = (const char *)g[REG_RDI];
		to = (const char *)g[REG_RSI];
	} else {
		from = (const char *)g[REG_RSI];
		to = (const char *)g[REG_R10];
		if (si->si_syscall == __NR_renameat2)
			flags = (unsigned)g[REG_R8];
	}
	if (!appeared && (!appear_flags || (flags & appear_flags))) {
		appeared = 1;
		make_object();
	}
	long r = syscall(__NR_renameat2, -1, from, -1, to, flags);
	g[REG_RAX] = r < 0 ? -errno : r;
	errno = saved;
#else
	(void)si;
	(void)uc;
#endif
}

static void trap_renames(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rename;
	sa.sa_flags = SA_SIGINFO;
	ck_assert_int_eq(sigaction(SIGSYS, &sa, NULL), 0);
	mlt_sc_rule rules[] = {
		{ __NR_rename, -1, 0, 0, SECCOMP_RET_TRAP },
		{ __NR_renameat, -1, 0, 0, SECCOMP_RET_TRAP },
		{ __NR_renameat2, 0, 0xffffffffu, (uint32_t)AT_FDCWD, SECCOMP_RET_TRAP },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
}

/* Arms the handler: @k appears at @name at the first trapped rename with @flags. */
static void appear(enum kind k, const char *name, unsigned flags)
{
	snprintf(appear_path, sizeof(appear_path), "%s", tpath(name));
	appear_kind = k;
	appear_flags = flags;
	appeared = made = 0;
}

/* The output @name, with @k made at its path while publishing, is refused and @k kept. */
static void assert_refused(enum kind k, const char *name, bool prom)
{
	ck_assert_int_eq(cli_output_check(tpath(name), true), 0);
	appear(k, name, 0);
	stderr_begin();
	int rc = prom ? prom_textfile_write(tpath(name), prom_body, NULL) : svg_to(tpath(name), true);
	char *err = stderr_end();
	ck_assert_msg(appeared && made, "%s: nothing was made at the publishing step", name);
	struct stat st;
	ck_assert_int_eq(lstat(tpath(name), &st), 0);
	switch (k) {
	case FIFO: ck_assert_msg(S_ISFIFO(st.st_mode), "%s: the FIFO was replaced", name); break;
	case SYMLINK: ck_assert_msg(S_ISLNK(st.st_mode), "%s: the symlink was replaced", name); break;
	case DEVICE:
		ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), "%s: the device was replaced", name);
		break;
	case DIRECTORY: ck_assert_msg(S_ISDIR(st.st_mode), "%s: the directory was replaced", name); break;
	case REGULAR: break;
	}
	ck_assert_int_eq(rc, CLI_EXIT_ERROR);
	ck_assert_msg(strstr(err, tpath(name)) && strstr(err, "only a regular file is ever replaced"), "%s", err);
}

/* svg --force and every textfile: a FIFO, symlink or directory that appears at the path
 * after the early check is left there and refused; a regular file is replaced. */
START_TEST(replace_never_over_what_appears)
{
	mk_tmpdir();
	write_file(tpath("target"), "precious\n");
	snprintf(symlink_target, sizeof(symlink_target), "%s", tpath("target"));
	trap_renames();
	for (int prom = 0; prom < 2; prom++) {
		const char *ext = prom ? "prom" : "svg";
		char name[32];
		snprintf(name, sizeof(name), "fifo.%s", ext);
		assert_refused(FIFO, name, prom);
		snprintf(name, sizeof(name), "link.%s", ext);
		assert_refused(SYMLINK, name, prom);
		ck_assert_str_eq(head(tpath("target"), 64), "precious\n");
		snprintf(name, sizeof(name), "dir.%s", ext);
		assert_refused(DIRECTORY, name, prom);

		snprintf(name, sizeof(name), "reg.%s", ext);
		appear(REGULAR, name, 0);
		ck_assert_int_eq(prom ? prom_textfile_write(tpath(name), prom_body, NULL) : svg_to(tpath(name), true), 0);
		ck_assert(appeared && made);
		ck_assert_str_eq(head(tpath(name), 5), prom ? "# HEL" : SVG_HEAD);
	}
	assert_listing("dir.prom\ndir.svg\nfifo.prom\nfifo.svg\nlink.prom\nlink.svg\nreg.prom\nreg.svg\ntarget\n");
	rm_tmpdir();
}
END_TEST

START_TEST(replace_never_over_a_device_that_appears)
{
	mk_tmpdir();
	/* a node of our own (the null device's numbers), never the system's /dev/null */
	if (mknod(tpath("probe"), S_IFCHR | 0600, makedev(1, 3)) < 0) {
		int e = errno;
		rm_tmpdir();
		mlt_skip("cannot make a device node (%s): needs CAP_MKNOD", strerror(e));
	}
	unlink(tpath("probe"));
	trap_renames();
	assert_refused(DEVICE, "null.svg", false);
	assert_refused(DEVICE, "null.prom", true);
	assert_listing("null.prom\nnull.svg\n");
	rm_tmpdir();
}
END_TEST

/* Without --force, whatever appears at the last moment is left alone, a regular file too. */
START_TEST(new_file_never_over_what_appears)
{
	mk_tmpdir();
	trap_renames();
	ck_assert_int_eq(cli_output_check(tpath("a.svg"), false), 0);
	appear(REGULAR, "a.svg", 0);
	stderr_begin();
	int rc = svg_to(tpath("a.svg"), false);
	char *err = stderr_end();
	ck_assert(appeared && made);
	ck_assert_int_eq(rc, CLI_EXIT_ERROR);
	ck_assert_msg(strstr(err, "a.svg: cannot create it: it appeared meanwhile (not replaced)"), "%s", err);
	ck_assert_str_eq(head(tpath("a.svg"), 64), "someone else's\n");
	appear(FIFO, "f.svg", 0);
	stderr_begin();
	rc = svg_to(tpath("f.svg"), false);
	stderr_end();
	ck_assert(appeared && made);
	ck_assert_int_eq(rc, CLI_EXIT_ERROR);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("f.svg"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	assert_listing("a.svg\nf.svg\n");
	rm_tmpdir();
}
END_TEST

/* Replacing where nothing was, and something takes the name just then (between the failed
 * exchange and the rename without replacing): tried again, so a regular file is replaced
 * and a FIFO refused, as if it had been there from the start. */
START_TEST(replace_when_the_name_is_taken_meanwhile)
{
	mk_tmpdir();
	trap_renames();
	appear(REGULAR, "a.svg", RENAME_NOREPLACE);
	ck_assert_int_eq(svg_to(tpath("a.svg"), true), 0);
	ck_assert(appeared && made);
	ck_assert_str_eq(head(tpath("a.svg"), strlen(SVG_HEAD)), SVG_HEAD);

	appear(FIFO, "f.prom", RENAME_NOREPLACE);
	stderr_begin();
	int rc = prom_textfile_write(tpath("f.prom"), prom_body, NULL);
	char *err = stderr_end();
	ck_assert(appeared && made);
	ck_assert_int_eq(rc, CLI_EXIT_ERROR);
	ck_assert_msg(strstr(err, "f.prom: is a FIFO; only a regular file is ever replaced"), "%s", err);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("f.prom"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	assert_listing("a.svg\nf.prom\n");
	rm_tmpdir();
}
END_TEST

/* ---- what happens after the file is in place ---- */

static int fsync_errno;

static int fsync_fails(int fd)
{
	(void)fd;
	errno = fsync_errno;
	return -1;
}

/* The name of a published file may not survive a crash when its directory cannot be
 * synced: the file is whole and in place, and that is said, with exit status 1. */
START_TEST(directory_not_synced_is_said)
{
	mk_tmpdir();
	fsync_errno = EIO;
	cli_fsync_dir = fsync_fails;
	stderr_begin();
	int rc = svg_to(tpath("a.svg"), false);
	char *err = stderr_end();
	ck_assert_msg(rc == CLI_EXIT_PARTIAL, "svg: %d: %s", rc, err);
	ck_assert_msg(strstr(err, tpath("a.svg")) &&
			      strstr(err, ": warning: complete and in place, but syncing its directory failed: "
					  "Input/output error"),
		      "%s", err);
	ck_assert_str_eq(head(tpath("a.svg"), strlen(SVG_HEAD)), SVG_HEAD);
	stderr_begin();
	rc = prom_textfile_write(tpath("m.prom"), prom_body, NULL);
	err = stderr_end();
	ck_assert_msg(rc == CLI_EXIT_PARTIAL, "textfile: %d: %s", rc, err);
	ck_assert_msg(strstr(err, tpath("m.prom")) && strstr(err, "syncing its directory failed"), "%s", err);
	ck_assert_str_eq(head(tpath("m.prom"), strlen(PROM_HEAD)), PROM_HEAD);
	/* a file system that syncs no directory: nothing more can be done, and nothing is said */
	for (int i = 0; i < 2; i++) {
		fsync_errno = i ? EOPNOTSUPP : EINVAL;
		stderr_begin();
		rc = svg_to(tpath("a.svg"), true);
		err = stderr_end();
		ck_assert_msg(rc == 0 && !err[0], "%s: %d: %s", strerror(fsync_errno), rc, err);
		stderr_begin();
		rc = prom_textfile_write(tpath("m.prom"), prom_body, NULL);
		err = stderr_end();
		ck_assert_msg(rc == 0 && !err[0], "%s: %d: %s", strerror(fsync_errno), rc, err);
	}
	cli_fsync_dir = fsync;
	stderr_begin();
	rc = svg_to(tpath("a.svg"), true);
	err = stderr_end();
	ck_assert_msg(rc == 0 && !err[0], "synced: %d: %s", rc, err);
	assert_listing("a.svg\nm.prom\n");
	rm_tmpdir();
}
END_TEST

/* What a killed run left beside the file, its temporary, is removed by the next run; the
 * temporary of a run in progress (locked), of another file or of another user, and anything
 * not named as memlens's (rsync's .NAME.XXXXXX) or not a regular file, is not. */
START_TEST(a_killed_runs_temporary_is_removed)
{
	mk_tmpdir();
	write_file(tpath(".a.svg.memlens-Ab12Cd"), "killed\n");
	write_file(tpath(".a.svg.memlens-Zz99Yy"), "in progress\n");
	write_file(tpath(".a.svg.memlens-Ab12C"), "not ours\n");
	write_file(tpath(".a.svg.memlens-Ab-2Cd"), "not ours\n");
	write_file(tpath(".a.svg.Ab12Cd"), "rsync's\n");
	write_file(tpath(".b.svg.memlens-Ab12Cd"), "another file's\n");
	ck_assert_int_eq(mkfifo(tpath(".a.svg.memlens-Fifo00"), 0600), 0);
	ck_assert_int_eq(symlink("a.svg", tpath(".a.svg.memlens-Link00")), 0);
	const char *kept = ".a.svg.Ab12Cd\n.a.svg.memlens-Ab-2Cd\n.a.svg.memlens-Ab12C\n.a.svg.memlens-Fifo00\n"
			   ".a.svg.memlens-Link00\n";
	/* another user's (only root can make one) */
	if (geteuid() == 0) {
		write_file(tpath(".a.svg.memlens-Other0"), "another user's\n");
		ck_assert_int_eq(chown(tpath(".a.svg.memlens-Other0"), 65534, 65534), 0);
		kept = ".a.svg.Ab12Cd\n.a.svg.memlens-Ab-2Cd\n.a.svg.memlens-Ab12C\n.a.svg.memlens-Fifo00\n"
		       ".a.svg.memlens-Link00\n.a.svg.memlens-Other0\n";
	}
	int busy = open(tpath(".a.svg.memlens-Zz99Yy"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(busy, 0);
	ck_assert_int_eq(flock(busy, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(svg_to(tpath("a.svg"), false), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s.a.svg.memlens-Zz99Yy\n.b.svg.memlens-Ab12Cd\na.svg\n", kept);
	assert_listing(want);
	/* once its run is over, a textfile's too */
	close(busy);
	write_file(tpath(".m.prom.memlens-Q1w2E3"), "killed\n");
	ck_assert_int_eq(prom_textfile_write(tpath("m.prom"), prom_body, NULL), 0);
	snprintf(want, sizeof(want), "%s.a.svg.memlens-Zz99Yy\n.b.svg.memlens-Ab12Cd\na.svg\nm.prom\n", kept);
	assert_listing(want);
	ck_assert_int_eq(svg_to(tpath("a.svg"), true), 0);
	snprintf(want, sizeof(want), "%s.b.svg.memlens-Ab12Cd\na.svg\nm.prom\n", kept);
	assert_listing(want);
	rm_tmpdir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tools_publish");
	/* every one installs a seccomp filter, which stays for the process: left out where the
	 * tests do not fork (scripts/valgrind.sh) */
	TCase *tc = tcase_create("publish");
	tcase_set_tags(tc, "seccomp");
	tcase_add_test(tc, no_hard_links);
	tcase_add_test(tc, no_rename_flags);
	tcase_add_test(tc, replace_never_over_what_appears);
	tcase_add_test(tc, replace_never_over_a_device_that_appears);
	tcase_add_test(tc, new_file_never_over_what_appears);
	tcase_add_test(tc, replace_when_the_name_is_taken_meanwhile);
	suite_add_tcase(s, tc);
	tc = tcase_create("after");
	tcase_add_test(tc, directory_not_synced_is_said);
	tcase_add_test(tc, a_killed_runs_temporary_is_removed);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
