/* Descriptor counting, iteration, link decoding and fdinfo, against the fixture. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "info_fixture.h"

START_TEST(count_and_iterate)
{
	ml_proc *p = fx_open("info-threads");
	ssize_t n = ml_fd_count(p);
	ck_assert_int_eq(n, 27); /* 0-2, 16 worker pipe ends, 4 sockets, 2 pipe ends, eventfd, file */
	ml_fds *it;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	ml_fd f;
	int r, seen = 0, sockets = 0, pipes = 0, anon = 0, paths = 0;
	while ((r = ml_fds_next(it, &f)) == 1) {
		seen++;
		switch (f.type) {
		case ML_FD_SOCKET:
			sockets++;
			ck_assert_uint_gt(f.inode, 0);
			break;
		case ML_FD_PIPE:
			pipes++;
			ck_assert_uint_gt(f.inode, 0);
			break;
		case ML_FD_ANON:
			anon++;
			ck_assert(ml_bstr_eq(f.name, "eventfd"));
			break;
		case ML_FD_PATH:
			paths += ml_bstr_eq(f.target, "/etc/hostname");
			break;
		default:
			ck_abort_msg("unexpected fd type %d", f.type);
		}
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(seen, n);
	ck_assert_int_eq(sockets, 4);
	/* stdin, stdout, 16 worker pipe ends, the pipe pair; stderr was /dev/null */
	ck_assert_int_eq(pipes, 2 + 16 + 2);
	ck_assert_int_eq(anon, 1);
	ck_assert_int_eq(paths, 1);
	ml_fds_free(it);
	ml_proc_free(p);
}
END_TEST

START_TEST(fdinfo_of_file_and_eventfd)
{
	ml_proc *p = fx_open("info-threads");
	ml_fds *it;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	ml_fd f;
	int file_fd = -1, ev_fd = -1;
	while (ml_fds_next(it, &f) == 1) {
		if (f.type == ML_FD_PATH && ml_bstr_eq(f.target, "/etc/hostname"))
			file_fd = f.fd;
		if (f.type == ML_FD_ANON)
			ev_fd = f.fd;
	}
	ml_fds_free(it);
	ml_fdinfo *fi;
	ck_assert_int_eq(ml_fd_from_fd(p, file_fd, &fi), 0);
	ck_assert_int_eq(fi->fd.fd, file_fd);
	ck_assert_int_eq(fi->fd.type, ML_FD_PATH);
	ck_assert_uint_eq(fi->pos, 1); /* the capture seeked to 1 */
	ck_assert_uint_eq(fi->flags & O_ACCMODE, O_RDONLY);
	ck_assert_int_gt(fi->mnt_id, 0);
	ck_assert(fi->has_ino);
	ml_fdinfo_free(fi);
	ck_assert_int_eq(ml_fd_from_fd(p, ev_fd, &fi), 0);
	ck_assert(ml_bstr_eq(fi->fd.name, "eventfd"));
	bool count = false;
	for (size_t i = 0; i < fi->n_extra; i++)
		if (ml_bstr_eq(fi->extra[i].name, "eventfd-count")) {
			ck_assert(ml_bstr_eq(fi->extra[i].value, "7")); /* eventfd(7, 0) */
			count = true;
		}
	ck_assert(count);
	ml_fdinfo_free(fi);
	ck_assert_int_eq(ml_fd_from_fd(p, 9999, &fi), -EBADF);
	ml_proc_free(p);
}
END_TEST

/* Of a live process, an open file really named "... (deleted)" that is there is not deleted,
 * decided from the attributes the kernel holds (statx with AT_STATX_DONT_SYNC), without
 * asking its file system, which a dead network mount would never answer: any other stat
 * fails here. */
START_TEST(live_deleted_suffix_decided_without_asking_the_file_system)
{
	char dir[256];
	mlt_mkdtemp(dir, sizeof(dir), "mlfd");
	char *name = mlt_path_in(dir, "f (deleted)");
	int fd = open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(getpid(), &p), 0);
	mlt_seccomp_cached_stat_only();
	ml_fdinfo *fi;
	ck_assert_int_eq(ml_fd_from_fd(p, fd, &fi), 0);
	ck_assert_int_eq(fi->fd.type, ML_FD_PATH);
	ck_assert(!fi->fd.deleted);
	ck_assert(ml_bstr_eq(fi->fd.target, name));
	ml_fdinfo_free(fi);
	/* removed: deleted, and the suffix the kernel added is not part of the name */
	ck_assert_int_eq(unlink(name), 0);
	ck_assert_int_eq(ml_fd_from_fd(p, fd, &fi), 0);
	ck_assert(fi->fd.deleted);
	ck_assert(ml_bstr_eq(fi->fd.target, name));
	ml_fdinfo_free(fi);
	ml_proc_free(p);
	close(fd);
	ck_assert_int_eq(rmdir(dir), 0); /* no shell under the filter: it is empty now */
}
END_TEST

static ml_fd target(const char *s)
{
	ml_fd f = { .fd = 3 };
	ck_assert_int_eq(ml_fd_parse_target(s, strlen(s), &f), 0);
	ck_assert_int_eq(f.fd, 3);
	return f;
}

START_TEST(link_decoding)
{
	ml_fd f = target("socket:[12345]");
	ck_assert_int_eq(f.type, ML_FD_SOCKET);
	ck_assert_uint_eq(f.inode, 12345);
	f = target("pipe:[9]");
	ck_assert_int_eq(f.type, ML_FD_PIPE);
	f = target("anon_inode:inotify");
	ck_assert_int_eq(f.type, ML_FD_ANON);
	ck_assert(ml_bstr_eq(f.name, "inotify"));
	f = target("anon_inode:[timerfd]");
	ck_assert(ml_bstr_eq(f.name, "timerfd"));
	f = target("/memfd:jit (deleted)");
	ck_assert_int_eq(f.type, ML_FD_MEMFD);
	ck_assert(f.deleted);
	ck_assert(ml_bstr_eq(f.name, "jit"));
	ck_assert(ml_bstr_eq(f.target, "/memfd:jit"));
	f = target("/tmp/x (deleted)");
	ck_assert_int_eq(f.type, ML_FD_PATH);
	ck_assert(f.deleted);
	f = target("net:[4026531840]");
	ck_assert_int_eq(f.type, ML_FD_NS);
	ck_assert(ml_bstr_eq(f.name, "net"));
	ck_assert_uint_eq(f.inode, 4026531840u);
	f = target("socket:[x]");
	ck_assert_int_eq(f.type, ML_FD_OTHER);
	f = target("");
	ck_assert_int_eq(f.type, ML_FD_OTHER);
	ck_assert_str_eq(ml_fd_type_name(ML_FD_MEMFD), "memfd");
}
END_TEST

START_TEST(fdinfo_parse_edges)
{
	ml_fdinfo *fi;
	const char *t = "pos:\t10\nflags:\t0100002\nmnt_id:\t3\ntfd:        5 events:       19 data:                5  pos:0 ino:1a sdev:e\nlock:\t1: FLOCK  ADVISORY  WRITE 1 00:1a:2 0 EOF\n";
	ck_assert_int_eq(ml_fdinfo_parse(t, strlen(t), &fi), 0);
	ck_assert_uint_eq(fi->pos, 10);
	ck_assert_uint_eq(fi->flags, 0100002);
	ck_assert(!fi->has_ino);
	ck_assert_uint_eq(fi->n_extra, 2);
	ck_assert(ml_bstr_eq(fi->extra[0].name, "tfd"));
	ck_assert(ml_bstr_eq(fi->extra[1].name, "lock"));
	ml_fdinfo_free(fi);
	ck_assert_int_eq(ml_fdinfo_parse("pos:\t1\nflags:\t02\n", 17, &fi), -EBADMSG);
	ck_assert_int_eq(ml_fdinfo_parse("pos:\t1\nflags:\t09\nmnt_id:\t1\n", 27, &fi), -EBADMSG);
	ml_fdinfo_free(NULL);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("fd");
	TCase *tc = tcase_create("fd");
	tcase_add_test(tc, count_and_iterate);
	tcase_add_test(tc, fdinfo_of_file_and_eventfd);
	tcase_add_test(tc, link_decoding);
	tcase_add_test(tc, fdinfo_parse_edges);
	suite_add_tcase(su, tc);
	/* it installs a seccomp filter, which stays for the process: left out where the tests
	 * do not fork (scripts/valgrind.sh) */
	TCase *sc = tcase_create("seccomp");
	tcase_set_tags(sc, "seccomp");
	tcase_add_test(sc, live_deleted_suffix_decided_without_asking_the_file_system);
	suite_add_tcase(su, sc);
	return mlt_run_suite(su);
}
