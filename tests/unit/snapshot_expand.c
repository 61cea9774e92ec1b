/* lib/snapshot/expand.c: the ELF core written to a file (sparse) and to a pipe (zeros) is the
 * same bytes with the same digest as sha256sum computes; the gzip export in small members
 * is that core to zcat; expand_path's publishing, progress and cancelling. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot_model.h"

static char tmpdir[256];
static sm_model model;
static ml_snapshot *snap;

static char *tpath(const char *name)
{
	static char buf[4][400];
	static int k;
	char *b = buf[k++ & 3];
	snprintf(b, 400, "%s/%s", tmpdir, name);
	return b;
}

static char *run(int *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *st, const char *fmt, ...)
{
	char cmd[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return mlt_run(cmd, st);
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/mlexpXXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	sm_build(&model, 77, 12, 60);
	ML_OPTS(ml_snapshot_writer_opts, o, .threads = 2);
	ck_assert_int_eq(sm_write(&model, tpath("s.mlcore"), &o, 1), 0);
	ck_assert_int_eq(ml_snapshot_open(tpath("s.mlcore"), &snap), 0);
}

static void teardown(void)
{
	ml_snapshot_free(snap);
	sm_free(&model);
	int st;
	free(run(&st, "rm -rf '%s'", tmpdir));
}

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* sha256sum of @path, and that it equals @d. */
static void digest_is(const char *path, const uint8_t d[32])
{
	char h[65];
	hex(d, h);
	int st;
	char *out = run(&st, "sha256sum '%s'", path);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(!strncmp(out, h, 64), "%s: %.64s, expand said %s", path, out, h);
	free(out);
}

static size_t entries(void)
{
	int st;
	char *out = run(&st, "ls -A '%s' | wc -l", tmpdir);
	size_t n = strtoul(out, NULL, 10);
	free(out);
	return n;
}

START_TEST(file_and_pipe_give_the_same_core)
{
	uint8_t d1[32], d2[32], dm[32];
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core"), NULL, d1), 0);
	digest_is(tpath("a.core"), d1);
	/* the manifest's digest, computed by the writer, is the same */
	ck_assert_int_eq(ml_snapshot_sha256(snap, dm), 0);
	ck_assert(!memcmp(d1, dm, 32));
	/* a pipe cannot seek: the holes are written as zeros, the bytes are the same */
	char cmd[500];
	snprintf(cmd, sizeof(cmd), "cat >'%s'", tpath("b.core"));
	FILE *p = popen(cmd, "w");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ml_snapshot_expand(snap, fileno(p), NULL, d2), 0);
	ck_assert_int_eq(pclose(p), 0);
	ck_assert(!memcmp(d1, d2, 32));
	int st;
	free(run(&st, "cmp '%s' '%s'", tpath("a.core"), tpath("b.core")));
	ck_assert_int_eq(st, 0);
	/* and the expanded size is the one the snapshot announces */
	struct stat sb;
	ck_assert_int_eq(stat(tpath("a.core"), &sb), 0);
	ck_assert_uint_eq((uint64_t)sb.st_size, ml_snapshot_expanded_size(snap));
	/* no_sparse writes the zeros into a file too */
	ML_OPTS(ml_snapshot_expand_opts, o, .no_sparse = true, .verify = true);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("c.core"), &o, d2), 0);
	ck_assert(!memcmp(d1, d2, 32));
	free(run(&st, "cmp '%s' '%s'", tpath("a.core"), tpath("c.core")));
	ck_assert_int_eq(st, 0);
}
END_TEST

START_TEST(gzip_export_is_the_core)
{
	uint8_t d1[32], d2[32];
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core"), NULL, d1), 0);
	/* small members: many of them, each a complete gzip member */
	ML_OPTS(ml_snapshot_expand_opts, o, .gzip = true, .member_size = 64 << 10, .level = 1);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core.gz"), &o, d2), 0);
	ck_assert(!memcmp(d1, d2, 32)); /* the digest is the core's */
	int st;
	free(run(&st, "gzip -t '%s'", tpath("a.core.gz")));
	ck_assert_int_eq(st, 0);
	char cmd[1000];
	snprintf(cmd, sizeof(cmd), "zcat '%s' | cmp - '%s'", tpath("a.core.gz"), tpath("a.core"));
	free(mlt_run(cmd, &st));
	ck_assert_int_eq(st, 0);
	/* to a descriptor, the same stream */
	int fd = open(tpath("b.core.gz"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ml_snapshot_export_gzip(snap, fd, &o, d2), 0);
	close(fd);
	free(run(&st, "cmp '%s' '%s'", tpath("a.core.gz"), tpath("b.core.gz")));
	ck_assert_int_eq(st, 0);
}
END_TEST

static int progress_calls;
static uint64_t last_done;

static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
	ck_assert_uint_le(done, total);
	ck_assert_uint_ge(done, last_done);
	last_done = done;
	progress_calls++;
	return ctx && done > 0 ? 1 : 0; /* ctx set: cancel once something is done */
}

START_TEST(publishing_progress_and_cancel)
{
	uint8_t d[32];
	ML_OPTS(ml_snapshot_expand_opts, o, .progress = on_progress);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core"), &o, d), 0);
	ck_assert_int_gt(progress_calls, 0);
	ck_assert_uint_eq(last_done, ml_snapshot_expanded_size(snap));
	struct stat sb;
	ck_assert_int_eq(stat(tpath("a.core"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	/* an existing path: refused, replaced only with overwrite */
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core"), NULL, d), -EEXIST);
	ML_OPTS(ml_snapshot_expand_opts, ow, .overwrite = true);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("a.core"), &ow, d), 0);
	ck_assert_uint_eq(entries(), 2);
	/* cancelled: -ECANCELED and nothing at the path, no temporary */
	last_done = 0;
	int cancel = 1;
	ML_OPTS(ml_snapshot_expand_opts, c, .progress = on_progress, .progress_ctx = &cancel);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("b.core"), &c, d), -ECANCELED);
	ck_assert_int_eq(access(tpath("b.core"), F_OK), -1);
	ck_assert_uint_eq(entries(), 2);
	ck_assert_int_eq(symlink(tpath("a.core"), tpath("l.core")), 0);
	ck_assert_int_eq(ml_snapshot_expand_path(snap, tpath("l.core"), &ow, d), -ELOOP);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_expand");
	TCase *tc = tcase_create("expand");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, file_and_pipe_give_the_same_core);
	tcase_add_test(tc, gzip_export_is_the_core);
	tcase_add_test(tc, publishing_progress_and_cancel);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
