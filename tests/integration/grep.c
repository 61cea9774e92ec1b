/* memlens grep against a child with needles at known addresses: every needle once, in both engines. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mltest.h"

typedef struct needle {
	char kind[8], where[8];
	uint64_t addr;
	size_t len;
} needle;

static mlt_child *child;
static needle *nd;
static size_t nnd;
static uint64_t heap_chunk, file_map;
static char nfile[64], pidstr[16];
static const char *engines[2] = { "portable", NULL };
static size_t nengines = 1;
static unsigned long fixture_mib = 256;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void load_needles(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[256];
	size_t cap = 0;
	nnd = 0;
	while (fgets(line, sizeof(line), f)) {
		if (nnd == cap) {
			cap = cap ? 2 * cap : 256;
			nd = realloc(nd, cap * sizeof(*nd));
		}
		needle *n = &nd[nnd];
		if (sscanf(line, "%7s %7s %" SCNx64 " %zu", n->kind, n->where, &n->addr, &n->len) == 4)
			nnd++;
	}
	fclose(f);
}

static void setup(void)
{
	const char *mib = getenv("ML_GREP_FIXTURE_MIB");
	if (mib) {
		fixture_mib = strtoul(mib, NULL, 10);
	} else if (getenv("ASAN_OPTIONS")) {
		/* the sanitizer build searches several times slower: keep the suite in seconds */
		fixture_mib = 96;
		printf("note: sanitizer build: %lu MiB fixture instead of 256 MiB\n", fixture_mib);
	}
	child = mlt_spawn("ml_needles", NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)child->pid);
	snprintf(nfile, sizeof(nfile), "/tmp/ml_grep_needles.%d", (int)getpid());
	const char *r = mlt_cmd(child, "fill %lu %s", fixture_mib << 20, nfile);
	if (!r || strncmp(r, "ok", 2))
		mlt_skip("the needle child could not map %lu MiB: %s", fixture_mib, r ? r : "EOF");
	heap_chunk = mlt_kv(r, "heap_chunk");
	file_map = mlt_kv(r, "file");
	load_needles(nfile);
	/* the same build tests both engines when it has Vectorscan */
	char cmd[512];
	int st;
	snprintf(cmd, sizeof(cmd), "%s grep --engine vectorscan -q x --raw /dev/null 2>/dev/null",
		 mlt_memlens_bin());
	free(mlt_run(cmd, &st));
	if (WEXITSTATUS(st) == 1)
		engines[nengines++] = "vectorscan";
	else
		printf("note: this build has no Vectorscan; only the portable engine is tested\n");
}

static void teardown(void)
{
	mlt_child_free(child);
	unlink(nfile);
	free(nd);
}

/* Runs memlens grep with @args on the child; returns stdout, sets the exit code. */
static char *grep(int *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *grep(int *code, const char *fmt, ...)
{
	char args[8192], cmd[9000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s grep %s", mlt_memlens_bin(), args);
	int st;
	char *out = mlt_run(cmd, &st);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(WIFEXITED(st), "memlens died: %s", cmd);
	*code = WEXITSTATUS(st);
	return out;
}

/* Addresses of the output lines ("PID:0xADDR:..."), in output order. */
static size_t hit_addrs(const char *out, uint64_t **ret)
{
	size_t n = 0, cap = 64;
	uint64_t *a = malloc(cap * sizeof(*a));
	for (const char *l = out; *l;) {
		const char *e = strchr(l, '\n');
		const char *c = strstr(l, ":0x");
		if (c && (!e || c < e)) {
			if (n == cap)
				a = realloc(a, (cap *= 2) * sizeof(*a));
			a[n++] = strtoull(c + 1, NULL, 16);
		}
		if (!e)
			break;
		l = e + 1;
	}
	*ret = a;
	return n;
}

/* Expected addresses: needles whose kind is in @kinds and place in @wheres (NULL = any). */
static size_t expected(const char *kinds, const char *wheres, uint64_t **ret)
{
	uint64_t *a = malloc((nnd + 1) * sizeof(*a));
	size_t n = 0;
	for (size_t i = 0; i < nnd; i++)
		if (strstr(kinds, nd[i].kind) && (!wheres || strstr(wheres, nd[i].where)))
			a[n++] = nd[i].addr;
	qsort(a, n, sizeof(*a), cmp_u64);
	*ret = a;
	return n;
}

/* The output's hits are exactly the expected needles: same addresses, no duplicates, in order. */
static void assert_hits(const char *out, const char *kinds, const char *wheres, const char *what)
{
	uint64_t *got, *exp;
	size_t ng = hit_addrs(out, &got), ne = expected(kinds, wheres, &exp);
	for (size_t i = 1; i < ng; i++)
		ck_assert_msg(got[i - 1] < got[i], "%s: hits out of order or duplicated at 0x%" PRIx64, what, got[i]);
	size_t i = 0, j = 0;
	while (i < ng && j < ne) {
		if (got[i] == exp[j]) {
			i++;
			j++;
		} else if (got[i] < exp[j]) {
			ck_abort_msg("%s: unexpected hit at 0x%" PRIx64, what, got[i]);
		} else {
			ck_abort_msg("%s: needle at 0x%" PRIx64 " not found", what, exp[j]);
		}
	}
	ck_assert_msg(i == ng && j == ne, "%s: %zu hits for %zu needles", what, ng, ne);
	ck_assert_uint_gt(ne, 0);
	free(got);
	free(exp);
}

START_TEST(every_ascii_needle_once)
{
	for (size_t e = 0; e < nengines; e++) {
		int code;
		char *out = grep(&code, "--engine %s -o ZqXsecretNeedle %s", engines[e], pidstr);
		ck_assert_int_eq(code, 0);
		assert_hits(out, "ascii", NULL, engines[e]);
		free(out);
	}
	/* bounded memory whatever the target size: the largest child memlens so far */
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	ck_assert_msg(ru.ru_maxrss < 64 * 1024, "memlens grep used %ld kB", ru.ru_maxrss);
	printf("memlens grep max RSS over a %lu MiB target: %ld kB\n", fixture_mib, ru.ru_maxrss);
}
END_TEST

START_TEST(utf16_and_case_variants)
{
	for (size_t e = 0; e < nengines; e++) {
		int code;
		char *out = grep(&code, "--engine %s -o -i --encoding both ZqXsecretNeedle %s", engines[e], pidstr);
		ck_assert_int_eq(code, 0);
		assert_hits(out, "ascii utf16 mixed", NULL, engines[e]);
		free(out);
		out = grep(&code, "--engine %s -o --encoding utf16le ZqXsecretNeedle %s", engines[e], pidstr);
		assert_hits(out, "utf16", NULL, engines[e]);
		ck_assert_ptr_nonnull(strstr(out, "ZqXsecretNeedle(utf16le): ZqXsecretNeedle"));
		free(out);
		/* without -i only the exact case */
		out = grep(&code, "--engine %s -o zQxSECRETneedle %s", engines[e], pidstr);
		assert_hits(out, "mixed", NULL, engines[e]);
		free(out);
	}
}
END_TEST

START_TEST(email_regex_once_per_address)
{
	for (size_t e = 0; e < nengines; e++) {
		int code;
		char *out = grep(&code, "--engine %s -o -E '[a-z0-9._%%+-]+@needle-mail\\.org' %s", engines[e], pidstr);
		ck_assert_int_eq(code, 0);
		assert_hits(out, "email", NULL, engines[e]);
		/* each match is the whole address, not a suffix of it */
		for (size_t i = 0; i < nnd; i++) {
			if (strcmp(nd[i].kind, "email"))
				continue;
			char key[64];
			snprintf(key, sizeof(key), ":0x%" PRIx64 ":", nd[i].addr);
			const char *l = strstr(out, key);
			ck_assert_ptr_nonnull(l);
			const char *t = strstr(l, ": user.");
			ck_assert_ptr_nonnull(t);
			ck_assert_uint_eq(strcspn(t + 2, "\n"), nd[i].len);
		}
		free(out);
		/* a general e-mail regex finds them too (random bytes may add a few more matches) */
		out = grep(&code, "--engine %s -c -E '[A-Za-z0-9._%%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}' %s", engines[e], pidstr);
		ck_assert_int_eq(code, 0);
		const char *c = strrchr(out, ':');
		ck_assert_ptr_nonnull(c);
		size_t nemail = 0;
		for (size_t i = 0; i < nnd; i++)
			nemail += !strcmp(nd[i].kind, "email");
		ck_assert_uint_ge(strtoull(c + 1, NULL, 10), nemail);
		free(out);
	}
}
END_TEST

START_TEST(thousand_literals)
{
	char pf[64];
	snprintf(pf, sizeof(pf), "/tmp/ml_grep_pats.%d", (int)getpid());
	FILE *f = fopen(pf, "w");
	ck_assert_ptr_nonnull(f);
	unsigned s = 12345;
	for (int i = 0; i < 998; i++) {
		char w[24];
		int n = 10 + i % 10;
		for (int k = 0; k < n; k++) {
			s = s * 1103515245u + 12345u;
			w[k] = (char)('a' + (s >> 16) % 26);
		}
		w[n] = '\0';
		fprintf(f, "%s\n", w);
	}
	fprintf(f, "ZqXsecretNeedle\nzQxSECRETneedle\n");
	fclose(f);
	for (size_t e = 0; e < nengines; e++) {
		int code;
		char *out = grep(&code, "--engine %s -o -f %s %s", engines[e], pf, pidstr);
		ck_assert_int_eq(code, 0);
		assert_hits(out, "ascii mixed", NULL, engines[e]);
		free(out);
	}
	unlink(pf);
}
END_TEST

START_TEST(hex_pattern)
{
	for (size_t e = 0; e < nengines; e++) {
		int code;
		/* Z q X ?3 e [1] r e t N */
		char *out = grep(&code, "--engine %s -x '5a 71 58 ?3 65 [1] 72 65 74 4e' %s", engines[e], pidstr);
		ck_assert_int_eq(code, 0);
		assert_hits(out, "ascii", NULL, engines[e]);
		free(out);
	}
}
END_TEST

START_TEST(heap_chunk_and_filters)
{
	int code;
	char *out = grep(&code, "--heap --json -i --encoding both ZqXsecretNeedle %s", pidstr);
	ck_assert_int_eq(code, 0);
	char want[64];
	snprintf(want, sizeof(want), "\"chunk\":{\"start\":\"0x%" PRIx64 "\"", heap_chunk);
	size_t nlines = 0;
	for (const char *l = out; (l = strstr(l, "\"type\":\"match\"")); l++) {
		const char *e = strchr(l, '\n');
		const char *c = strstr(l, want);
		ck_assert_msg(c && c < e, "heap hit without its malloc chunk (want %s)", want);
		ck_assert_ptr_nonnull(strstr(c, "\"in_use\":true"));
		ck_assert_ptr_nonnull(strstr(l, "\"kind\":\"heap\""));
		nlines++;
	}
	ck_assert_uint_eq(nlines, 3);
	ck_assert_ptr_nonnull(strstr(out, "\"type\":\"summary\""));
	free(out);

	out = grep(&code, "--stack -o -i --encoding both ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii utf16 mixed", "stack", "--stack");
	free(out);
	out = grep(&code, "--file -o ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii", "file", "--file");
	free(out);
	out = grep(&code, "--anon -o ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii", "anon ro", "--anon");
	free(out);
	out = grep(&code, "--perm r--p -o ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii", "ro file", "--perm r--p");
	free(out);
	out = grep(&code, "--perm 'rw?' -o ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii", "anon heap stack", "--perm rw?");
	free(out);
	out = grep(&code, "--name '/tmp/ml_needles.*' -o ZqXsecretNeedle %s", pidstr);
	assert_hits(out, "ascii", "file", "--name");
	free(out);
	out = grep(&code, "--addr %" PRIx64 "-%" PRIx64 " -o ZqXsecretNeedle %s", file_map, file_map + (2 << 20), pidstr);
	assert_hits(out, "ascii", "file", "--addr");
	free(out);
	/* --all: every process (heaps only, to stay quick on a busy machine) */
	out = grep(&code, "--all --heap -l ZqXsecretNeedle 2>/dev/null");
	ck_assert_int_eq(code, 0);
	char me[32];
	snprintf(me, sizeof(me), "\n%s\n", pidstr);
	char *nl = malloc(strlen(out) + 2);
	sprintf(nl, "\n%s", out);
	ck_assert_msg(strstr(nl, me), "--all did not list pid %s: %s", pidstr, out);
	free(nl);
	free(out);
	out = grep(&code, "-p %s,%s -c ZqXsecretNeedle", pidstr, pidstr);
	ck_assert_int_eq(code, 0);
	free(out);
	out = grep(&code, "--heap NoSuchNeedleAnywhere %s", pidstr);
	ck_assert_int_eq(code, 1);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(count_list_quiet_max_redact)
{
	uint64_t *exp;
	size_t ne = expected("ascii", NULL, &exp);
	int code;
	char *out = grep(&code, "-c -e ZqXsecretNeedle -e NoSuchNeedleAnywhere %s", pidstr);
	char want[256];
	snprintf(want, sizeof(want), "%s:ZqXsecretNeedle:%zu\n%s:NoSuchNeedleAnywhere:0\n", pidstr, ne, pidstr);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(code, 0);
	free(out);
	out = grep(&code, "-l ZqXsecretNeedle %s", pidstr);
	snprintf(want, sizeof(want), "%s\n", pidstr);
	ck_assert_str_eq(out, want);
	free(out);
	out = grep(&code, "-q ZqXsecretNeedle %s", pidstr);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = grep(&code, "-q NoSuchNeedleAnywhere %s", pidstr);
	ck_assert_int_eq(code, 1);
	free(out);
	/* -m: the first N by address */
	out = grep(&code, "-m 5 -o ZqXsecretNeedle %s", pidstr);
	uint64_t *got;
	ck_assert_uint_eq(hit_addrs(out, &got), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(got[i], exp[i]);
	free(got);
	free(out);
	out = grep(&code, "--redact ZqXsecretNeedle %s", pidstr);
	ck_assert_ptr_null(strstr(out, "ZqXsecret"));
	ck_assert_uint_eq(hit_addrs(out, &got), ne);
	free(got);
	/* sha256("ZqXsecretNeedle"), first 64 bits */
	ck_assert_ptr_nonnull(strstr(out, "#1: [redacted length=15 sha256/64="));
	free(out);
	free(exp);
}
END_TEST

START_TEST(sparse_16g)
{
	mlt_child *c = mlt_spawn("ml_needles", NULL);
	char f[64], pid[16];
	snprintf(f, sizeof(f), "/tmp/ml_grep_sparse.%d", (int)getpid());
	snprintf(pid, sizeof(pid), "%d", (int)c->pid);
	const char *r = mlt_cmd(c, "sparse %lu %lu %s", 16ul << 30, 64ul, f);
	if (!r || strncmp(r, "ok", 2)) {
		mlt_child_free(c);
		mlt_skip("cannot map 16 GiB NORESERVE here: %s", r ? r : "EOF");
	}
	long rss0 = mlt_status_kb(c->pid, "VmRSS");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int code;
	char *out = grep(&code, "-o ZqXsecretNeedle %s", pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	long rss1 = mlt_status_kb(c->pid, "VmRSS");
	ck_assert_int_eq(code, 0);
	needle *save = nd;
	size_t nsave = nnd;
	nd = NULL;
	load_needles(f);
	assert_hits(out, "ascii", "sparse", "sparse");
	free(nd);
	nd = save;
	nnd = nsave;
	ck_assert_int_eq(rss0, rss1);
	/* The cost follows what is populated (benchmarked in tests/bench/grep_bench.sh; no
	 * timing here): what was searched is about the target's RSS, and the 16 GiB that were
	 * never touched were skipped as unpopulated, never read. */
	free(out);
	out = grep(&code, "--json -c -F ZqXsecretNeedle %s", pid);
	ck_assert_int_eq(code, 0);
	const char *sum = strstr(out, "\"type\":\"summary\"");
	ck_assert_ptr_nonnull(sum);
	const char *sc = strstr(sum, "\"bytes_scanned\":"), *un = strstr(sum, "\"unpopulated\":");
	ck_assert(sc && un);
	unsigned long long scanned = strtoull(sc + strlen("\"bytes_scanned\":"), NULL, 10);
	unsigned long long unpop = strtoull(un + strlen("\"unpopulated\":"), NULL, 10);
	/* (what else is searched, the libraries' pages from their files included, is megabytes
	 * and more under a sanitizer: bounded here by a small fraction of the 16 GiB) */
	ck_assert_uint_ge(scanned, 64ull << 20);
	ck_assert_uint_le(scanned, 1ull << 30);
	ck_assert_uint_ge(unpop, (16ull << 30) - (64ull << 20));
	printf("sparse 16 GiB with 64 MiB populated: %.3f s, %llu bytes searched, %llu skipped as unpopulated, "
	       "target RSS %ld kB before and after\n", secs, scanned, unpop, rss1);
	free(out);
	unlink(f);
	mlt_child_free(c);
}
END_TEST

START_TEST(process_exits_mid_scan)
{
	mlt_child *c = mlt_spawn("ml_needles", NULL);
	char f[64], err[64], cmd[1024];
	snprintf(f, sizeof(f), "/tmp/ml_grep_exit.%d", (int)getpid());
	snprintf(err, sizeof(err), "/tmp/ml_grep_exit_err.%d", (int)getpid());
	const char *r = mlt_cmd(c, "fill %lu %s", 256ul << 20, f);
	ck_assert_msg(r && !strncmp(r, "ok", 2), "fill: %s", r ? r : "EOF");
	/* a slow regex on one thread keeps the scan busy long after the heap hit is printed */
	snprintf(cmd, sizeof(cmd), "%s grep -j1 --engine portable -E -e ZqXsecretNeedle -e '[^\\x00]{1,64}QQQZ' %d 2>%s",
		 mlt_memlens_bin(), (int)c->pid, err);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	char line[4096];
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p)); /* the first hit: the scan is under way */
	mlt_child_free(c);                                    /* SIGKILL and reap */
	size_t more = 0;
	while (fgets(line, sizeof(line), p))
		more++;
	int st = pclose(p);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0); /* it matched before the process went away */
	int st2;
	char rd[256];
	snprintf(rd, sizeof(rd), "cat %s", err);
	char *e = mlt_run(rd, &st2);
	ck_assert_msg(strstr(e, "exited during the scan: partial result"), "stderr: %s", e);
	free(e);
	size_t total = 0;
	FILE *nf = fopen(f, "r");
	while (nf && fgets(line, sizeof(line), nf))
		total += !strncmp(line, "ascii", 5);
	if (nf)
		fclose(nf);
	ck_assert_uint_lt(1 + more, total);
	unlink(f);
	unlink(err);
}
END_TEST

START_TEST(unreadable_region)
{
	mlt_child *c = mlt_spawn("ml_needles", NULL);
	const char *r = mlt_cmd(c, "secret");
	if (!r || strncmp(r, "ok", 2)) {
		char why[256];
		snprintf(why, sizeof(why), "%s", r ? r : "EOF");
		mlt_child_free(c);
		mlt_skip("memfd_secret is not available here (%s): no unreadable region to search", why);
	}
	uint64_t addr = mlt_kv(r, "addr");
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)c->pid);
	int code;
	char *out = grep(&code, "--json ZqXsecretNeedle %s 2>/dev/null", pid);
	/* the needle in the secret mapping is never read: no match, and the summary accounts
	 * for the mapping as failed or skipped as unreadable */
	ck_assert_ptr_null(strstr(out, "\"type\":\"match\""));
	ck_assert_int_eq(code, 1);
	uint64_t missed = 0;
	const char *b = strstr(out, "\"bytes_failed\":{");
	ck_assert_ptr_nonnull(b);
	for (const char *q = b; *q && *q != '}'; q++)
		if (*q == ':' && q[1] >= '0' && q[1] <= '9')
			missed += strtoull(q + 1, NULL, 10);
	const char *u = strstr(out, "\"bytes_skipped\":{");
	ck_assert_ptr_nonnull(u);
	u = strstr(u, "\"unreadable\":");
	ck_assert_ptr_nonnull(u);
	missed += strtoull(u + 13, NULL, 10);
	ck_assert_uint_ge(missed, 65536);
	(void)addr;
	free(out);
	mlt_child_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("grep");
	TCase *t = tcase_create("needles");
	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, every_ascii_needle_once);
	tcase_add_test(t, utf16_and_case_variants);
	tcase_add_test(t, email_regex_once_per_address);
	tcase_add_test(t, thousand_literals);
	tcase_add_test(t, hex_pattern);
	tcase_add_test(t, heap_chunk_and_filters);
	tcase_add_test(t, count_list_quiet_max_redact);
	suite_add_tcase(s, t);
	TCase *o = tcase_create("others");
	tcase_set_timeout(o, 300);
	tcase_add_test(o, sparse_16g);
	tcase_add_test(o, process_exits_mid_scan);
	tcase_add_test(o, unreadable_region);
	suite_add_tcase(s, o);
	return s;
}

int main(void) { return mlt_run_suite(suite()); }
