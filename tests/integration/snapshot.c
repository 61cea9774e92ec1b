/* snapshot.h with live targets (lib/snapshot/writer.c and reader.c through ml_source): snapshots of real children: a capture through ml_source reads back the same as the live process; disk full. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

/* A minimal capturer on the public API: every mapping, page runs from the live source,
 * populated runs and file pages (read from the file) into lent buffers, everything else
 * recorded by kind. */
static int capture(const ml_source *live, const char *path, const ml_snapshot_writer_opts *o, char *err, size_t errlen)
{
	ml_maps *maps;
	int r = ml_source_maps(live, &maps);
	if (r < 0)
		return r;
	size_t n = ml_maps_count(maps);
	ml_snapshot_vma *v = calloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].vma = *ml_maps_get(maps, i);
		/* like VM_DONTDUMP: a sanitizer's terabytes of shadow are not dumped */
		if (v[i].vma.kind == ML_VMA_VVAR || v[i].vma.kind == ML_VMA_VSYSCALL ||
		    v[i].vma.end - v[i].vma.start > (1ull << 32))
			v[i].flags = ML_SNAPSHOT_VMA_EXCLUDED;
	}
	ml_snapshot_writer *w;
	r = ml_snapshot_writer_open(path, o, &w);
	if (r < 0)
		goto out;
	r = ml_snapshot_writer_set_mappings(w, v, n);
	char *text;
	size_t tl;
	if (r == 0 && ml_source_read_file(live, "maps", &text, &tl) == 0) {
		r = ml_snapshot_writer_add_file(w, "maps", text, tl);
		free(text);
	}
	ML_OPTS(ml_snapshot_info, info, .pid = ml_source_pid(live), .freeze = "none", .smeared = true);
	if (r == 0)
		r = ml_snapshot_writer_set_info(w, &info);
	for (size_t i = 0; i < n && r == 0; i++) {
		if (v[i].flags & ML_SNAPSHOT_VMA_EXCLUDED)
			continue;
		uint64_t next = v[i].vma.start;
		ml_run runs[64];
		ssize_t k;
		while (r == 0 && next < v[i].vma.end &&
		       (k = ml_source_runs(live, next, v[i].vma.end, ML_RUNS_SPLIT_ZERO | ML_RUNS_FILE, runs, 64, &next)) > 0) {
			for (ssize_t j = 0; j < k && r == 0; j++) {
				ml_run *ru = &runs[j];
				if (ru->kind != ML_RUN_DATA && ru->kind != ML_RUN_SWAPPED && ru->kind != ML_RUN_FILE) {
					r = ml_snapshot_writer_add_run(w, ru->start, ru->end - ru->start, ru->kind);
					continue;
				}
				for (uint64_t a = ru->start; a < ru->end && r == 0;) {
					void *buf;
					size_t got;
					r = ml_snapshot_writer_reserve(w, a, ru->end - a, &buf, &got);
					if (r < 0)
						break;
					ssize_t rd = ml_source_read(live, a, buf, got, ML_READ_SWAPPED);
					if (rd <= 0) {
						r = ml_snapshot_writer_commit(w, a, 0);
						if (r == 0)
							r = ml_snapshot_writer_add_run(w, a, 4096, ML_RUN_UNREADABLE);
						a += 4096;
						continue;
					}
					r = ml_snapshot_writer_commit(w, a, (size_t)rd);
					a += (uint64_t)rd;
				}
			}
		}
	}
	if (r == 0)
		r = ml_snapshot_writer_finish(w);
	if (r < 0)
		snprintf(err, errlen, "%s", ml_error_detail());
	ml_snapshot_writer_free(w);
out:
	free(v);
	ml_maps_free(maps);
	return r;
}

static char dir[256];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mlsnapiXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	int st;
	free(mlt_run(cmd, &st));
}

START_TEST(live_child_reads_back_the_same)
{
	mkdir_tmp();
	mlt_child *c = mlt_spawn("ml_child", NULL);
	uint64_t a = mlt_kv(mlt_cmd_ok(c, "map 0x400000"), "addr");
	mlt_cmd_ok(c, "touch 0x%llx 0x400000 0x4000", (unsigned long long)a);
	mlt_cmd_ok(c, "write 0x%llx memlens-snapshot-canary", (unsigned long long)(a + 0x8010));
	/* every mapping is compared below: the child must be back in read(), not in stdio */
	mlt_wait_idle(c->pid);
	ml_source *live;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &live), 0);
	char path[400], err[512] = "";
	snprintf(path, sizeof(path), "%s/child.mlcore", dir);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 2);
	int r = capture(live, path, &o, err, sizeof(err));
	ck_assert_msg(r == 0, "capture: %s: %s", ml_strerror(r), err);

	ml_source *snap;
	ck_assert_int_eq(ml_source_open(path, &snap), 0);
	ck_assert_int_eq(ml_source_pid(snap), c->pid);
	/* the same mappings */
	ml_maps *lm, *sm;
	ck_assert_int_eq(ml_source_maps(live, &lm), 0);
	ck_assert_int_eq(ml_source_maps(snap, &sm), 0);
	ck_assert_uint_eq(ml_maps_count(lm), ml_maps_count(sm));
	for (size_t i = 0; i < ml_maps_count(lm); i++) {
		const ml_vma *x = ml_maps_get(lm, i), *y = ml_maps_get(sm, i);
		ck_assert_uint_eq(x->start, y->start);
		ck_assert_uint_eq(x->end, y->end);
		ck_assert_uint_eq(x->perms, y->perms);
		ck_assert_uint_eq(x->name_len, y->name_len);
		ck_assert(!memcmp(x->name, y->name, x->name_len));
	}
	/* the same page runs over the child's mapping: 1 touched page in 4, the rest untouched */
	ml_run lr[600], sr[600];
	uint64_t ln, sn;
	ssize_t lk = ml_source_runs(live, a, a + 0x400000, 0, lr, 600, &ln);
	ssize_t sk = ml_source_runs(snap, a, a + 0x400000, 0, sr, 600, &sn);
	ck_assert_int_eq(lk, 512);
	ck_assert_uint_eq(ln, a + 0x400000);
	ck_assert_int_eq(sk, lk);
	for (ssize_t i = 0; i < lk; i++)
		ck_assert_msg(lr[i].start == sr[i].start && lr[i].end == sr[i].end && lr[i].kind == sr[i].kind,
			      "run %zd: live %llx-%llx %d, snapshot %llx-%llx %d", i, (unsigned long long)lr[i].start,
			      (unsigned long long)lr[i].end, lr[i].kind, (unsigned long long)sr[i].start,
			      (unsigned long long)sr[i].end, sr[i].kind);
	/* the same bytes, everywhere readable */
	uint8_t *b1 = malloc(0x400000), *b2 = malloc(0x400000);
	ck_assert_int_eq(ml_source_read(live, a, b1, 0x400000, 0), 0x400000);
	ck_assert_int_eq(ml_source_read(snap, a, b2, 0x400000, 0), 0x400000);
	ck_assert(!memcmp(b1, b2, 0x400000));
	ck_assert(!memcmp(b2 + 0x8010, "memlens-snapshot-canary", 23));
	size_t checked = 0;
	for (size_t i = 0; i < ml_maps_count(lm); i++) {
		const ml_vma *x = ml_maps_get(lm, i);
		if (x->kind == ML_VMA_VVAR || x->kind == ML_VMA_VSYSCALL || x->end - x->start > 0x400000)
			continue;
		ssize_t r1 = ml_source_read(live, x->start, b1, x->end - x->start, 0);
		ssize_t r2 = ml_source_read(snap, x->start, b2, x->end - x->start, 0);
		ck_assert_int_eq(r1, r2);
		if (r1 > 0)
			ck_assert_msg(!memcmp(b1, b2, (size_t)r1), "mapping %zx differs", (size_t)x->start);
		checked++;
	}
	ck_assert_uint_gt(checked, 5);
	free(b1);
	free(b2);

	/* what the command prints for each: tests/cli/read_snapshot.sh */
	ml_maps_free(lm);
	ml_maps_free(sm);
	ml_source_free(snap);
	ml_source_free(live);
	mlt_child_free(c);
	rm_tmp();
}
END_TEST

/* Fills a small tmpfs: the error is reported and nothing that looks complete is left. */
START_TEST(disk_full_is_reported_and_leaves_nothing)
{
	mkdir_tmp();
	/* in a mount namespace of this test process alone: the tmpfs goes away with it,
	 * even when an assertion ends the test early */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") < 0) {
		int e = errno;
		rm_tmp();
		mlt_skip("cannot mount a small tmpfs to fill (%s): needs CAP_SYS_ADMIN", strerror(e));
	}
	uint8_t *junk = malloc(4 << 20);
	uint64_t x = 7;
	for (size_t i = 0; i < (4u << 20); i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(junk + i, &x, 8);
	}
	for (int fmt = 0; fmt < 2; fmt++) {
		char path[400];
		snprintf(path, sizeof(path), "%s/full.%s", dir, fmt ? "core" : "mlcore");
		ML_OPTS(ml_snapshot_writer_opts, o, .format = fmt ? ML_SNAPSHOT_FORMAT_ELF : ML_SNAPSHOT_FORMAT_MLCORE,
			.threads = 2, .max_buffer = 1 << 20);
		ml_snapshot_writer *w;
		ck_assert_int_eq(ml_snapshot_writer_open(path, &o, &w), 0);
		ml_snapshot_vma v = { .vma = { .start = 0x100000, .end = 0x100000 + (4 << 20), .perms = ML_PERM_READ } };
		ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
		int r = 0;
		for (size_t off = 0; off < (4u << 20) && r == 0; off += 65536)
			r = ml_snapshot_writer_add_data(w, 0x100000 + off, junk + off, 65536);
		if (r == 0)
			r = ml_snapshot_writer_finish(w);
		ck_assert_msg(r == -ENOSPC, "format %d: %d (%s)", fmt, r, ml_error_detail());
		/* the workers' error reaches the calling thread, whichever call met it */
		ck_assert_msg(strstr(ml_error_detail(), "no space left"), "format %d: detail '%s'", fmt,
			      ml_error_detail());
		ml_snapshot_writer_free(w);
		/* nothing at all is left: no output, no temporary */
		char cmd[400];
		int st;
		snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
		char *out = mlt_run(cmd, &st);
		ck_assert_str_eq(out, "0\n");
		free(out);
	}
	/* and the space is free again: a small snapshot fits */
	char path[400];
	snprintf(path, sizeof(path), "%s/small.mlcore", dir);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path, NULL, &w), 0);
	ml_snapshot_vma v = { .vma = { .start = 0x100000, .end = 0x140000, .perms = ML_PERM_READ } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x100000, junk, 0x40000), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	free(junk);
	umount2(dir, MNT_DETACH);
	rm_tmp();
}
END_TEST

/* A writer killed mid-write leaves nothing behind: its file never had a name. */
START_TEST(killed_writer_leaves_nothing)
{
	mkdir_tmp();
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		char path[400];
		snprintf(path, sizeof(path), "%s/killed.mlcore", dir);
		ml_snapshot_writer *w;
		if (ml_snapshot_writer_open(path, NULL, &w) < 0)
			_exit(1);
		ml_snapshot_vma v = { .vma = { .start = 0x100000, .end = 0x100000 + (1ull << 34), .perms = ML_PERM_READ } };
		if (ml_snapshot_writer_set_mappings(w, &v, 1) < 0)
			_exit(1);
		static uint8_t buf[1 << 20];
		for (uint64_t off = 0;; off += sizeof(buf)) {
			memset(buf, (int)(off >> 20) | 1, sizeof(buf));
			if (ml_snapshot_writer_add_data(w, 0x100000 + off, buf, sizeof(buf)) < 0)
				_exit(1);
			if (off == (16u << 20) && write(pfd[1], "x", 1) != 1)
				_exit(1);
		}
	}
	close(pfd[1]);
	char c;
	ck_assert_int_eq(read(pfd[0], &c, 1), 1); /* it is writing */
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	ck_assert(WIFSIGNALED(st));
	close(pfd[0]);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	char *out = mlt_run(cmd, &st);
	ck_assert_str_eq(out, "0\n");
	free(out);
	rm_tmp();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("live");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, live_child_reads_back_the_same);
	tcase_add_test(tc, disk_full_is_reported_and_leaves_nothing);
	tcase_add_test(tc, killed_writer_leaves_nothing);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
