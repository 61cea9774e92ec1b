/* Working-set accuracy against the calibration child: exact K-page windows, THP, scope, flush, target changes. */
#include "wss_common.h"

static void exact_case(const char *mode)
{
	cal k = cal_new();
	uint64_t addr;
	const uint64_t N = 4096;
	int id = cal_map(&k, N, "nothp", &addr);
	long long worst = 0;
	for (int run = 0; run < RUNS; run++) {
		uint64_t K = 1 + (uint64_t)run * 197 % N; /* varied, up to the whole region */
		uint64_t got = window_touch(&k, id, addr, K, mode, PG, ML_WSS_FLUSH_AUTO, NULL);
		long long d = (long long)got - (long long)(K * PG);
		if (llabs(d) > llabs(worst))
			worst = d;
	}
	printf("%s K of %llu pages, %d runs: worst error %lld bytes\n", mode, (unsigned long long)N, RUNS, worst);
	ck_assert_int_eq(worst, 0);
	cal_free(&k);
}

START_TEST(write_k_of_n_exact) { exact_case("w"); }
END_TEST

START_TEST(read_k_of_n_exact) { exact_case("r"); }
END_TEST

/*
 * The whole process's WSS is K pages plus what the child itself touches to answer (stack,
 * libc data, the pipe buffer copy), measured with K = 0 in the same run. Checked on the
 * anonymous total of a full (clear_refs 1) window and on the total of an anon-only window:
 * file pages shared with other processes (libc, ld.so) carry a folio-wide referenced flag
 * that any other process's page-cache access sets and any other clear_refs clears, which
 * moves the file total by megabytes on a busy machine (printed below).
 */
static void rollup_case(ml_wss_scope scope)
{
	cal k = cal_new();
	uint64_t addr;
	const uint64_t N = 8192;
	int id = cal_map(&k, N, "nothp", &addr);
	long long worst = 0;
	uint64_t file_lo = UINT64_MAX, file_hi = 0;
	for (int run = 0; run < RUNS; run++) {
		uint64_t K = 512 + (uint64_t)run * 389 % (N - 512);
		ml_wss *w = open_window(&k, scope, ML_WSS_FLUSH_AUTO);
		mlt_cmd_ok(k.c, "touch %d 0 w 4096", id);
		ml_wss_sample *s0 = close_window(w);
		ck_assert_int_eq(ml_wss_restart(w), 0);
		mlt_cmd_ok(k.c, "touch %d %llu w 4096", id, (unsigned long long)K);
		ml_wss_sample *s1 = close_window(w);
		long long d = (long long)s1->tot.wss_anon - (long long)s0->tot.wss_anon - (long long)(K * PG);
		if (llabs(d) > llabs(worst))
			worst = d;
		ck_assert_uint_eq(s1->tot.wss, s1->tot.wss_anon + s1->tot.wss_file);
		if (scope == ML_WSS_SCOPE_ANON)
			ck_assert_uint_eq(s1->tot.wss, s1->tot.wss_anon);
		ck_assert_uint_ge(s1->tot.rss, N * PG);
		ck_assert_uint_ge(s1->tot.rss, s1->tot.wss);
		for (int i = 0; i < 2; i++) {
			uint64_t f = (i ? s1 : s0)->tot.wss_file;
			file_lo = f < file_lo ? f : file_lo;
			file_hi = f > file_hi ? f : file_hi;
		}
		ml_wss_sample_free(s0);
		ml_wss_sample_free(s1);
		ml_wss_free(w);
	}
	printf("rollup (%s): worst |anon wss - baseline - K*4K| = %lld bytes; file wss ranged %llu..%llu\n",
	       scope == ML_WSS_SCOPE_ANON ? "anon-only" : "all", worst, (unsigned long long)file_lo,
	       (unsigned long long)file_hi);
	ck_assert_int_le(llabs(worst), 256 << 10);
	cal_free(&k);
}

START_TEST(rollup_is_k_plus_baseline) { rollup_case(ML_WSS_SCOPE_ALL); }
END_TEST

START_TEST(rollup_anon_only_is_k_plus_baseline) { rollup_case(ML_WSS_SCOPE_ANON); }
END_TEST

START_TEST(anon_only_ignores_other_readers_of_a_file)
{
	char path[] = "/tmp/ml_wss_fileXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const uint64_t FP = 256;
	char *buf = malloc(FP * PG);
	memset(buf, 'x', FP * PG);
	ck_assert_int_eq(write(fd, buf, FP * PG), (ssize_t)(FP * PG));
	free(buf);
	close(fd);
	cal k = cal_new();
	mlt_child *other = mlt_spawn("ml_wsscal", NULL);
	const char *r = mlt_cmd_ok(k.c, "mapfile %s %llu", path, (unsigned long long)FP);
	uint64_t faddr = mlt_kv(r, "addr");
	for (int run = 0; run < RUNS; run++) {
		for (int anon_only = 0; anon_only < 2; anon_only++) {
			ml_wss *w = open_window(&k, anon_only ? ML_WSS_SCOPE_ANON : ML_WSS_SCOPE_ALL,
						ML_WSS_FLUSH_AUTO);
			mlt_cmd_ok(other, "readfile %s", path);
			ml_wss_sample *s = close_window(w);
			const ml_wss_region *fr = region_at(s, faddr);
			ck_assert_ptr_nonnull(fr);
			ck_assert(fr->file_backed);
			if (anon_only) {
				ck_assert(!fr->measured);
				ck_assert_uint_eq(fr->wss, 0);
				ck_assert_uint_eq(s->tot.wss_file, 0);
				ck_assert_uint_eq(s->tot.wss, s->tot.wss_anon);
			} else {
				/* the other process's read(2)s show up in the target's file WSS */
				ck_assert_uint_eq(fr->wss, FP * PG);
			}
			ml_wss_sample_free(s);
			ml_wss_free(w);
		}
	}
	mlt_child_free(other);
	cal_free(&k);
	unlink(path);
}
END_TEST

/*
 * A child sweeping K pages continuously: the window's WSS must hold all K (no undercount:
 * at most -1 %) plus a small baseline (<= 1.5 MiB: what the child touches to answer). The
 * bound is checked on the anonymous WSS; the file part is printed: it is dominated by
 * libc folios whose referenced flag other processes on the machine set and clear.
 */
START_TEST(free_running_sweep)
{
	cal k = cal_new();
	uint64_t addr;
	const uint64_t N = 4096, K = 3000;
	int id = cal_map(&k, N, "nothp", &addr);
	mlt_cmd_ok(k.c, "sweep %d %llu w", id, (unsigned long long)K);
	long long worst_low = 0, worst_high = 0;
	uint64_t file_hi = 0;
	for (int run = 0; run < RUNS; run++) {
		ml_wss *w = open_window(&k, ML_WSS_SCOPE_ALL, ML_WSS_FLUSH_AUTO);
		/* the window lasts until the sweeper has made two more full passes */
		uint64_t p0 = mlt_kv(mlt_cmd_ok(k.c, "passes"), "passes");
		while (mlt_kv(mlt_cmd_ok(k.c, "passes"), "passes") < p0 + 2)
			;
		ml_wss_sample *s = close_window(w);
		long long d = (long long)s->tot.wss_anon - (long long)(K * PG);
		if (d < worst_low)
			worst_low = d;
		if (d > worst_high)
			worst_high = d;
		if (s->tot.wss_file > file_hi)
			file_hi = s->tot.wss_file;
		ml_wss_sample_free(s);
		ml_wss_free(w);
	}
	mlt_cmd_ok(k.c, "stop");
	printf("free-running sweep of %llu pages: anon wss - K*4K in [%lld, %lld] bytes; file wss up to %llu\n",
	       (unsigned long long)K, worst_low, worst_high, (unsigned long long)file_hi);
	ck_assert_int_ge(worst_low, -(long long)(K * PG / 100));
	ck_assert_int_le(worst_high, 1536 << 10);
	cal_free(&k);
}
END_TEST

START_TEST(cumulative_reads_grow)
{
	cal k = cal_new();
	uint64_t addr;
	int id = cal_map(&k, 1024, "nothp", &addr);
	ml_wss *w = open_window(&k, ML_WSS_SCOPE_ALL, ML_WSS_FLUSH_AUTO);
	mlt_cmd_ok(k.c, "touch %d 100 w 4096 0", id);
	ml_wss_sample *a = close_window(w);
	mlt_cmd_ok(k.c, "touch %d 200 r 4096 500", id);
	ml_wss_sample *b = close_window(w);
	ck_assert_uint_eq(region_at(a, addr)->wss, 100 * PG);
	ck_assert_uint_eq(region_at(b, addr)->wss, 300 * PG);
	ck_assert_uint_eq(a->clear_start, b->clear_start);
	ck_assert_uint_le(a->clear_start, a->clear_end);
	ck_assert_uint_le(a->clear_end, a->read_start);
	ck_assert_uint_le(a->read_start, a->read_end);
	ck_assert_uint_le(a->read_end, b->read_start);
	ck_assert(a->flushed);
	ck_assert(!a->undercount_possible);
	ml_wss_sample_free(a);
	ml_wss_sample_free(b);
	ml_wss_free(w);
	cal_free(&k);
}
END_TEST

START_TEST(mappings_appearing_and_disappearing)
{
	cal k = cal_new();
	uint64_t a1, a2, a3;
	int id1 = cal_map(&k, 64, "nothp", &a1);
	cal_map(&k, 64, "nothp", &a3); /* keeps the hole left by a1 closed on one side */
	ml_wss *w = open_window(&k, ML_WSS_SCOPE_ALL, ML_WSS_FLUSH_AUTO);
	mlt_cmd_ok(k.c, "unmap %d", id1);
	/* larger than the hole, so it cannot land in it; touches all its pages, in the window */
	cal_map(&k, 256, "nothp", &a2);
	ml_wss_sample *s = close_window(w);
	ck_assert_uint_ge(s->tot.disappeared, 1);
	ck_assert_uint_eq(s->tot.lost_bytes, 64 * PG);
	const ml_wss_region *r = region_at(s, a2);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->appeared);
	ck_assert_uint_ge(s->tot.appeared, 1);
	ck_assert_uint_ge(s->tot.wss_appeared, 256 * PG);
	ck_assert_uint_ge(r->wss, 256 * PG);
	ml_wss_sample_free(s);
	ml_wss_free(w);
	cal_free(&k);
}
END_TEST

START_TEST(target_exit_exec_zombie)
{
	/* exits during the window: a zombie */
	cal k = cal_new();
	ml_wss *w = open_window(&k, ML_WSS_SCOPE_ALL, ML_WSS_FLUSH_AUTO);
	mlt_cmd(k.c, "exit 0");
	mlt_wait_zombie(k.c);
	ml_wss_sample *s = NULL;
	ck_assert_int_eq(ml_wss_read(w, &s), -ESRCH);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(ml_wss_target_state(k.p), ML_WSS_TARGET_ZOMBIE);
	/* a window cannot open on a zombie: clear_refs would silently do nothing */
	ck_assert_int_eq(ml_wss_restart(w), -ESRCH);
	ml_wss *w2 = NULL;
	ML_OPTS(ml_wss_opts, o, .backend = ML_WSS_REFERENCED);
	ck_assert_int_eq(ml_wss_start(k.p, &o, &w2), -ESRCH);
	ck_assert_ptr_null(w2);
	mlt_wait(k.c);
	ck_assert_int_eq(ml_wss_target_state(k.p), ML_WSS_TARGET_GONE);
	ml_wss_free(w);
	cal_free(&k);

	/* exec's during the window */
	k = cal_new();
	w = open_window(&k, ML_WSS_SCOPE_ALL, ML_WSS_FLUSH_AUTO);
	char *helper = mlt_helper_path("ml_child");
	const char *line = mlt_cmd(k.c, "exec %s", helper);
	ck_assert_msg(line && !strncmp(line, "ready", 5), "exec: %s", line ? line : "EOF");
	free(helper);
	ck_assert_int_eq(ml_wss_read(w, &s), -ESRCH);
	ck_assert_int_eq(ml_wss_target_state(k.p), ML_WSS_TARGET_EXECED);
	ml_wss_free(w);
	cal_free(&k);
}
END_TEST

START_TEST(probe_and_peak_reset)
{
	ml_wss_probe_info pi;
	ck_assert_int_eq(ml_wss_probe(ML_WSS_REFERENCED, NULL, &pi), 0);
	ck_assert_int_eq(pi.status, 0);
	ck_assert_int_eq(ml_wss_probe(ML_WSS_AUTO, NULL, &pi), -EINVAL);
	ck_assert_int_eq(ml_wss_probe(ML_WSS_SOFT_DIRTY, NULL, &pi), 0);
	ml_soft_dirty_state sd;
	ck_assert_int_eq(ml_clear_refs_probe(&sd), 0);
	ck_assert_int_eq(pi.status == 0, sd == ML_SOFT_DIRTY_WORKS);
	ck_assert_ptr_nonnull(pi.reason);
	ck_assert_int_eq(ml_wss_probe(ML_WSS_IDLE, NULL, &pi), 0);
	if (access("/sys/kernel/mm/page_idle/bitmap", F_OK) < 0)
		ck_assert_int_eq(pi.status, -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(ml_wss_backend_name(ML_WSS_SOFT_DIRTY), "soft-dirty"));
	ck_assert_int_eq(ml_wss_backend_parse("idle"), ML_WSS_IDLE);
	ck_assert_int_eq(ml_wss_backend_parse("bogus"), -EINVAL);

	/* VmHWM drops back to VmRSS after a reset */
	cal k = cal_new();
	uint64_t addr;
	int id = cal_map(&k, 8192, "nothp", &addr);
	mlt_cmd_ok(k.c, "unmap %d", id);
	long hwm = mlt_status_kb(k.c->pid, "VmHWM");
	ck_assert_int_eq(ml_clear_refs_write(k.p, ML_CLEAR_REFS_PEAK_RSS), 0);
	long hwm2 = mlt_status_kb(k.c->pid, "VmHWM");
	ck_assert_int_ge(hwm, 32768);
	ck_assert_int_lt(hwm2, hwm - 30000);
	ck_assert_int_le(hwm2, mlt_status_kb(k.c->pid, "VmRSS") + 64);
	cal_free(&k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wss");
	TCase *t = tcase_create("accuracy");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, write_k_of_n_exact);
	tcase_add_test(t, read_k_of_n_exact);
	tcase_add_test(t, rollup_is_k_plus_baseline);
	tcase_add_test(t, rollup_anon_only_is_k_plus_baseline);
	tcase_add_test(t, free_running_sweep);
	tcase_add_test(t, cumulative_reads_grow);
	tcase_add_test(t, anon_only_ignores_other_readers_of_a_file);
	tcase_add_test(t, mappings_appearing_and_disappearing);
	tcase_add_test(t, target_exit_exec_zombie);
	tcase_add_test(t, probe_and_peak_reset);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
