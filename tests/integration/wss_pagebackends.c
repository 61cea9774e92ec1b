/* Working-set accuracy of the per-page backends (idle bitmap: reads and writes; soft-dirty:
 * writes only), each skipped with its reason where the kernel lacks it. */
#include "wss_common.h"

static const struct {
	ml_wss_backend backend;
	bool sees_reads;
} backends[] = {
	{ ML_WSS_IDLE, true },
	{ ML_WSS_SOFT_DIRTY, false },
};

static void need(ml_wss_backend b)
{
	ml_wss_probe_info pi;
	ml_wss_probe(b, NULL, &pi);
	if (pi.status < 0)
		mlt_skip("%s backend unavailable here: %s", ml_wss_backend_name(b), pi.reason);
}

static void k_of_n(ml_wss_backend b, const char *mode, bool expect_seen)
{
	need(b);
	cal k = cal_new();
	uint64_t addr;
	const uint64_t N = 2048;
	int id = cal_map(&k, N, "nothp", &addr);
	long long worst = 0;
	for (int run = 0; run < RUNS; run++) {
		uint64_t K = 1 + (uint64_t)run * 101 % N;
		ML_OPTS(ml_wss_opts, o, .backend = b);
		ml_wss *w = NULL;
		int r = ml_wss_start(k.p, &o, &w);
		ck_assert_msg(r == 0, "ml_wss_start: %s", ml_strerror(r));
		ck_assert_int_eq(ml_wss_backend_of(w), b);
		mlt_cmd_ok(k.c, "touch %d %llu %s 4096", id, (unsigned long long)K, mode);
		ml_wss_sample *s = close_window(w);
		const ml_wss_region *reg = region_at(s, addr);
		ck_assert_ptr_nonnull(reg);
		uint64_t want = expect_seen ? K * PG : 0;
		long long d = (long long)reg->wss - (long long)want;
		if (llabs(d) > llabs(worst))
			worst = d;
		ck_assert_uint_ge(s->pages_scanned, N);
		ml_wss_sample_free(s);
		ml_wss_free(w);
	}
	printf("%s: %s K of %llu pages, %d runs: worst error %lld bytes\n", ml_wss_backend_name(b), mode,
	       (unsigned long long)N, RUNS, worst);
	ck_assert_int_eq(worst, 0);
	cal_free(&k);
}

START_TEST(write_k_exact) { k_of_n(backends[_i].backend, "w", true); }
END_TEST

START_TEST(read_k) { k_of_n(backends[_i].backend, "r", backends[_i].sees_reads); }
END_TEST

int main(void)
{
	/* Where no per-page backend exists, the whole binary is skipped with both reasons. */
	char why[1024] = "";
	bool any = false;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		ml_wss_probe_info pi;
		ml_wss_probe(backends[i].backend, NULL, &pi);
		if (pi.status >= 0)
			any = true;
		else
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s: %s", *why ? "; " : "",
				 ml_wss_backend_name(backends[i].backend), pi.reason);
	}
	if (!any)
		mlt_skip("per-page backends unavailable here: %s", why);
	int n = (int)(sizeof(backends) / sizeof(backends[0]));
	Suite *s = suite_create("wss_pagebackends");
	TCase *t = tcase_create("pagebackends");
	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, write_k_exact, 0, n);
	tcase_add_loop_test(t, read_k, 0, n);
	suite_add_tcase(s, t);
	return mlt_run_suite(s);
}
