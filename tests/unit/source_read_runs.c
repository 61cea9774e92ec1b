/* ml_source_read_runs() on a snapshot: the bytes of ml_source_read() and, for each, the kind of run it came from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static ml_source *open_fixture(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/snapshot/synthetic.mlcore", mlt_fixture_dir());
	ml_source *s;
	ck_assert_int_eq(ml_source_open(path, &s), 0);
	return s;
}

/* Every mapping, read whole: the runs cover exactly what was read, in order, and say what
 * ml_source_runs() says of each byte; bytes read are those of ml_source_read(). */
START_TEST(runs_say_where_each_byte_came_from)
{
	ml_source *s = open_fixture();
	ml_maps *m;
	ck_assert_int_eq(ml_source_maps(s, &m), 0);
	size_t kinds_seen[ML_RUN_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		size_t len = (size_t)(v->end - v->start);
		unsigned char *a = malloc(len), *b = malloc(len);
		ml_run runs[256], want[256];
		size_t nr;
		ssize_t n1 = ml_source_read(s, v->start, a, len, 0);
		ssize_t n2 = ml_source_read_runs(s, v->start, b, len, 0, runs, 256, &nr);
		ck_assert_int_eq(n1, n2);
		if (n1 < 0) {
			free(a);
			free(b);
			continue;
		}
		ck_assert_int_eq(memcmp(a, b, (size_t)n1), 0);
		ck_assert_uint_gt(nr, 0);
		ck_assert_uint_eq(runs[0].start, v->start);
		ck_assert_uint_eq(runs[nr - 1].end, v->start + (uint64_t)n1);
		for (size_t k = 1; k < nr; k++) {
			ck_assert_uint_eq(runs[k].start, runs[k - 1].end);
			ck_assert(runs[k].kind != runs[k - 1].kind); /* merged when alike */
		}
		uint64_t next;
		ssize_t nw = ml_source_runs(s, v->start, v->start + (uint64_t)n1, ML_RUNS_SPLIT_ZERO, want, 256, &next);
		ck_assert_int_gt(nw, 0);
		for (ssize_t k = 0; k < nw; k++) {
			ck_assert_int_ne(want[k].kind, ML_RUN_UNREADABLE); /* reading stops there */
			for (uint64_t x = want[k].start; x < want[k].end; x += 4096) {
				size_t j = 0;
				while (j < nr && runs[j].end <= x)
					j++;
				ck_assert_uint_lt(j, nr);
				ck_assert_int_eq(runs[j].kind, want[k].kind);
			}
			kinds_seen[want[k].kind]++;
			/* zero-fill and what is not available hold zeros in the buffer */
			if (want[k].kind != ML_RUN_DATA)
				for (uint64_t x = want[k].start; x < want[k].end; x++)
					ck_assert_uint_eq(b[x - v->start], 0);
		}
		free(a);
		free(b);
	}
	/* the fixture has data, unpopulated and excluded ranges */
	ck_assert_uint_gt(kinds_seen[ML_RUN_DATA], 0);
	ck_assert_uint_gt(kinds_seen[ML_RUN_UNPOPULATED], 0);
	ck_assert_uint_gt(kinds_seen[ML_RUN_EXCLUDED], 0);
	ml_maps_free(m);
	ml_source_free(s);
}
END_TEST

#define PG 4096u
#define BASE 0x10000000ull

/* One mapping of 8 pages: data, data, zero, unpopulated, unpopulated, data, excluded, data. */
static ml_source *make_mixed(char *path, size_t len)
{
	const char *t = getenv("TMPDIR");
	snprintf(path, len, "%s/ml_read_runs.%d.mlcore", t && *t ? t : "/tmp", (int)getpid());
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path, &o, &w), 0);
	ml_snapshot_vma v = { .vma = { .start = BASE, .end = BASE + 8 * PG, .perms = ML_PERM_READ | ML_PERM_WRITE,
				       .kind = ML_VMA_ANON } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ML_OPTS(ml_snapshot_info, info, .pid = 4242, .freeze = "none");
	ck_assert_int_eq(ml_snapshot_writer_set_info(w, &info), 0);
	static unsigned char d[2 * PG];
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (unsigned char)(i % 251 + 1);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, BASE, d, 2 * PG), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, BASE + 2 * PG, PG, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, BASE + 3 * PG, 2 * PG, ML_RUN_UNPOPULATED), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, BASE + 5 * PG, d, PG), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, BASE + 6 * PG, PG, ML_RUN_EXCLUDED), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, BASE + 7 * PG, d, PG), 0);
	int r = ml_snapshot_writer_finish(w);
	ck_assert_msg(r == 0, "%s", ml_error_detail());
	ml_snapshot_writer_free(w);
	ml_source *s;
	ck_assert_int_eq(ml_source_open(path, &s), 0);
	return s;
}

/* Within one mapping: one run per kind, in order; too few runs make a short read that ends
 * at the last run, and the next call goes on from there. */
START_TEST(kinds_within_a_mapping_and_short_reads)
{
	char path[256];
	ml_source *s = make_mixed(path, sizeof(path));
	static unsigned char b[8 * PG];
	ml_run runs[8];
	size_t nr;
	memset(b, 0xee, sizeof(b));
	ck_assert_int_eq(ml_source_read_runs(s, BASE + 100, b, 8 * PG - 100, 0, runs, 8, &nr), 8 * PG - 100);
	static const ml_run want[] = {
		{ BASE + 100, BASE + 2 * PG, ML_RUN_DATA }, { BASE + 2 * PG, BASE + 3 * PG, ML_RUN_ZERO },
		{ BASE + 3 * PG, BASE + 5 * PG, ML_RUN_UNPOPULATED }, { BASE + 5 * PG, BASE + 6 * PG, ML_RUN_DATA },
		{ BASE + 6 * PG, BASE + 7 * PG, ML_RUN_EXCLUDED }, { BASE + 7 * PG, BASE + 8 * PG, ML_RUN_DATA },
	};
	ck_assert_uint_eq(nr, 6);
	for (size_t i = 0; i < nr; i++)
		ck_assert_msg(runs[i].start == want[i].start && runs[i].end == want[i].end && runs[i].kind == want[i].kind,
			      "run %zu: %llx-%llx %d", i, (unsigned long long)runs[i].start,
			      (unsigned long long)runs[i].end, runs[i].kind);
	ck_assert_uint_eq(b[0], 100 % 251 + 1);
	ck_assert_uint_eq(b[6 * PG - 100], 0); /* not available: zeros in the buffer, said by the run */
	ck_assert_uint_eq(b[7 * PG - 100], 1);
	/* two runs at a time */
	uint64_t at = BASE;
	size_t calls = 0;
	while (at < BASE + 8 * PG) {
		ssize_t n = ml_source_read_runs(s, at, b, (size_t)(BASE + 8 * PG - at), 0, runs, 2, &nr);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_le(nr, 2);
		ck_assert_uint_eq(runs[nr - 1].end, at + (uint64_t)n);
		at += (uint64_t)n;
		calls++;
	}
	ck_assert_uint_eq(calls, 3);
	ml_run r;
	ck_assert_int_eq(ml_source_read_runs(s, 0x1000, b, 16, 0, &r, 1, &nr), -EFAULT);
	ck_assert_int_eq(ml_source_read_runs(s, BASE, b, 16, 0, NULL, 1, &nr), -EINVAL);
	ck_assert_int_eq(ml_source_read_runs(s, BASE, b, 16, 0, &r, 0, &nr), -EINVAL);
	ml_source_free(s);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("source_read_runs");
	TCase *tc = tcase_create("snapshot");
	tcase_add_test(tc, runs_say_where_each_byte_came_from);
	tcase_add_test(tc, kinds_within_a_mapping_and_short_reads);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
