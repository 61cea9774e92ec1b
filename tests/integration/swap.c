/* Swapped-out pages (the child's MADV_PAGEOUT, where swap space is active): said to be
 * swapped, left swapped by a read and by a dump unless asked, and read back exactly when
 * asked. Where no swap space is active the same pages stay resident and are read as data.
 * CI runs this suite once more with a swap file (scripts/swap-pass.sh), so both sides are
 * tested wherever it may add one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define PG 4096u
#define N 64u

/* Pages of [a, a + N pages) that are swapped out. */
static size_t swapped_pages(pid_t pid, uint64_t a) { return mlt_swapped_pages(pid, a, N); }

/* Whether /proc/swaps lists any swap area. */
static bool swap_active(void)
{
	FILE *f = fopen("/proc/swaps", "re");
	ck_assert_ptr_nonnull(f);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	return lines > 1;
}

/* Checks @buf against the child's pattern where @runs say DATA; returns the bytes said SWAPPED
 * (which must be zeros in @buf) and fails on any other kind. */
static uint64_t check_runs(const unsigned char *buf, uint64_t a, const ml_run *runs, size_t nr)
{
	uint64_t swapped = 0, at = a;
	for (size_t i = 0; i < nr; i++) {
		ck_assert_uint_eq(runs[i].start, at);
		for (uint64_t x = runs[i].start; x < runs[i].end; x++) {
			unsigned char want = runs[i].kind == ML_RUN_DATA ? mlt_page_pattern(x) : 0;
			ck_assert_msg(buf[x - a] == want, "byte at %#llx (%s run) is %#x, want %#x",
				      (unsigned long long)x, runs[i].kind == ML_RUN_DATA ? "data" : "swapped",
				      buf[x - a], want);
		}
		ck_assert_msg(runs[i].kind == ML_RUN_DATA || runs[i].kind == ML_RUN_SWAPPED, "run kind %d",
			      (int)runs[i].kind);
		if (runs[i].kind == ML_RUN_SWAPPED)
			swapped += runs[i].end - runs[i].start;
		at = runs[i].end;
	}
	ck_assert_uint_eq(at, a + N * PG);
	return swapped;
}

START_TEST(swapped_pages_stay_swapped_unless_asked)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon %u", N);
	mlt_cmd_ok(c, "write 0x%llx %u", (unsigned long long)a, N);
	const char *ans = mlt_cmd(c, "pageout 0x%llx %u", (unsigned long long)a, N);
	if (strncmp(ans, "ok", 2))
		mlt_skip("MADV_PAGEOUT refused (%s): a kernel before 5.4", ans);
	size_t sw = swapped_pages(c->pid, a);
	bool active = swap_active();
	ml_source *src;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &src), 0);
	unsigned char *buf = malloc(N * PG);
	ml_run runs[N];
	size_t nr;

	if (sw == 0) {
		if (active)
			mlt_skip("swap space is active, but the kernel wrote none of %u pages out (a memory cgroup "
				 "without swap?)", N);
		/* nothing to swap to: the pages stay resident and are plain data */
		printf("no swap space is active: the %u pages stay resident\n", N);
		ck_assert_int_eq(ml_source_read_runs(src, a, buf, N * PG, 0, runs, N, &nr), (ssize_t)(N * PG));
		ck_assert_uint_eq(nr, 1);
		ck_assert_uint_eq(check_runs(buf, a, runs, nr), 0);
		goto out;
	}
	ck_assert(active);
	printf("%zu of %u pages went to swap\n", sw, N);

	/* read without ML_READ_SWAPPED: the swapped bytes are said to be swapped (zeros in the
	 * buffer), the rest is the child's, and nothing is swapped in */
	ck_assert_int_eq(ml_source_read_runs(src, a, buf, N * PG, 0, runs, N, &nr), (ssize_t)(N * PG));
	ck_assert_uint_eq(check_runs(buf, a, runs, nr), sw * PG);
	ck_assert_uint_eq(swapped_pages(c->pid, a), sw);

	/* a dump: swapped pages are recorded as excluded, never as zeros, and stay swapped */
	char dir[256], snap[300];
	mlt_mkdtemp(dir, sizeof(dir), "ml-swap-");
	snprintf(snap, sizeof(snap), "%s/s.mlcore", dir);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ML_OPTS(ml_capture_opts, o);
	ck_assert_int_eq(ml_capture(p, snap, &o, NULL), 0);
	ck_assert_uint_eq(swapped_pages(c->pid, a), sw);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	uint64_t excluded = 0, data = 0;
	for (size_t i = 0; i < ml_snapshot_entry_count(s); i++) {
		ml_snapshot_entry e;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &e), 0);
		uint64_t lo = e.addr > a ? e.addr : a, hi = e.addr + e.len < a + N * PG ? e.addr + e.len : a + N * PG;
		if (lo >= hi)
			continue;
		ck_assert_msg(e.kind == ML_RUN_EXCLUDED || e.kind == ML_RUN_DATA, "entry kind %d", (int)e.kind);
		*(e.kind == ML_RUN_EXCLUDED ? &excluded : &data) += hi - lo;
	}
	ck_assert_uint_eq(excluded, sw * PG);
	ck_assert_uint_eq(data, (N - sw) * PG);
	ml_snapshot_free(s);

	/* asked (read_swapped): every byte is the child's; reading swaps them in */
	o.read_swapped = true;
	unlink(snap);
	ck_assert_int_eq(ml_capture(p, snap, &o, NULL), 0);
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	memset(buf, 0, N * PG);
	ck_assert_int_eq(ml_snapshot_read(s, a, buf, N * PG), (ssize_t)(N * PG));
	for (uint64_t x = a; x < a + N * PG; x++)
		ck_assert_msg(buf[x - a] == mlt_page_pattern(x), "dump --read-swapped: byte at %#llx is %#x",
			      (unsigned long long)x, buf[x - a]);
	ml_snapshot_free(s);
	ck_assert_uint_eq(swapped_pages(c->pid, a), 0);
	ml_proc_free(p);
	mlt_rmtree(dir);

	/* ML_READ_SWAPPED on pages written out again: all data */
	mlt_cmd_ok(c, "pageout 0x%llx %u", (unsigned long long)a, N);
	ck_assert_int_eq(ml_source_read_runs(src, a, buf, N * PG, ML_READ_SWAPPED, runs, N, &nr), (ssize_t)(N * PG));
	ck_assert_uint_eq(check_runs(buf, a, runs, nr), 0);
out:
	free(buf);
	ml_source_free(src);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("swap");
	TCase *t = tcase_create("swap");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, swapped_pages_stay_swapped_unless_asked);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
