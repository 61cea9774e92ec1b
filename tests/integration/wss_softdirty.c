/* Working-set accuracy of the soft-dirty backend: per-page counts of writes, reads unseen (skips where the kernel lacks it). */
#include "wss_common.h"

static ml_wss *open_backend(cal *k)
{
	ML_OPTS(ml_wss_opts, o, .backend = ML_WSS_SOFT_DIRTY);
	ml_wss *w = NULL;
	int r = ml_wss_start(k->p, &o, &w);
	ck_assert_msg(r == 0, "ml_wss_start: %s", ml_strerror(r));
	ck_assert_int_eq(ml_wss_backend_of(w), ML_WSS_SOFT_DIRTY);
	return w;
}

static void k_of_n(const char *mode, bool expect_seen)
{
	cal k = cal_new();
	uint64_t addr;
	const uint64_t N = 2048;
	int id = cal_map(&k, N, "nothp", &addr);
	long long worst = 0;
	for (int run = 0; run < RUNS; run++) {
		uint64_t K = 1 + (uint64_t)run * 101 % N;
		ml_wss *w = open_backend(&k);
		mlt_cmd_ok(k.c, "touch %d %llu %s 4096", id, (unsigned long long)K, mode);
		ml_wss_sample *s = close_window(w);
		const ml_wss_region *r = region_at(s, addr);
		ck_assert_ptr_nonnull(r);
		uint64_t want = expect_seen ? K * PG : 0;
		long long d = (long long)r->wss - (long long)want;
		if (llabs(d) > llabs(worst))
			worst = d;
		ck_assert_uint_ge(s->pages_scanned, N);
		ml_wss_sample_free(s);
		ml_wss_free(w);
	}
	printf("%s: %s K of %llu pages, %d runs: worst error %lld bytes\n", ml_wss_backend_name(ML_WSS_SOFT_DIRTY), mode,
	       (unsigned long long)N, RUNS, worst);
	ck_assert_int_eq(worst, 0);
	cal_free(&k);
}

START_TEST(write_k_exact) { k_of_n("w", true); }
END_TEST

START_TEST(read_k) { k_of_n("r", false); }
END_TEST

int main(void)
{
	ml_wss_probe_info pi;
	ml_wss_probe(ML_WSS_SOFT_DIRTY, NULL, &pi);
	if (pi.status < 0)
		mlt_skip("%s backend unavailable here: %s", ml_wss_backend_name(ML_WSS_SOFT_DIRTY), pi.reason);
	Suite *s = suite_create("wss_softdirty");
	TCase *t = tcase_create("softdirty");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, write_k_exact);
	tcase_add_test(t, read_k);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
