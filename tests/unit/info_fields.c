/* What memlens info shows of stat, status and ksm_stat: a field the kernel hid from the reader
 * (tools/info/info.h, info_stat_hid()) is null and named in errors, one it did not write is
 * left out (JSON) or "-" (text); neither is shown as the 0 or 1 the kernel wrote in its place
 * or the 0 the parser left. The decision on captured records; the command's output on
 * snapshots holding fixture text. The live side, as another user: cli info and info_show. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "info/info.h"
#include "info_fixture.h"
#include "mltest.h"

static ml_stat parse(const char *text, size_t len)
{
	ml_stat st;
	ck_assert_int_eq(ml_stat_parse(text, len, &st), 0);
	return st;
}

static ml_stat fx_stat(const char *name)
{
	size_t len;
	char *b = fx_bytes(name, "stat", &len);
	ml_stat st = parse(b, len);
	free(b);
	return st;
}

/* The first @n fields (n >= 3) of the fixture's stat, as a kernel that wrote @n fields would
 * give it. */
static char *fx_stat_fields(const char *name, unsigned n)
{
	size_t len;
	char *b = fx_bytes(name, "stat", &len);
	/* the blank before field 3, after the comm (which may hold blanks) */
	char *p = strrchr(b, ')') + 1;
	for (unsigned i = 0; i < n - 2 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		strcpy(p, "\n");
	return b;
}

/* Field @n of @st known as a saved copy decides it (no probe of the reader). */
static bool known(const ml_stat *st, unsigned n)
{
	return info_stat_known(st, n, info_stat_hid(st, -1));
}

START_TEST(hidden_is_the_kernels_mark)
{
	/* root's process as uid 65534 reads it: start_code and end_code 1, the rest 0 */
	ml_stat h = fx_stat("info-hidden");
	ck_assert(info_stat_hid(&h, -1) == INFO_HID_ALL);
	for (unsigned n = 1; n <= 52; n++)
		ck_assert_msg(known(&h, n) == !info_stat_guarded(n), "field %u", n);
	/* what the kernel writes for every reader stays */
	ck_assert(known(&h, 25) && known(&h, 31) && known(&h, 38));
	ck_assert(known(&h, 44));

	/* the reader that may ptrace it: real addresses, all known */
	ml_stat v = fx_stat("info-threads");
	ck_assert(info_stat_hid(&v, -1) == INFO_HID_NONE);
	for (unsigned n = 1; n <= 52; n++)
		ck_assert_msg(known(&v, n), "field %u", n);
}
END_TEST

START_TEST(no_address_space_is_not_the_mark)
{
	/* a kernel thread and a zombie have no address space: 0 and 0 for every reader */
	static const char *const cases[] = { "info-kthread", "info-zombie" };
	for (size_t i = 0; i < 2; i++) {
		ml_stat st = fx_stat(cases[i]);
		ck_assert_uint_eq(st.start_code, 0);
		ck_assert_uint_eq(st.end_code, 0);
		ck_assert_msg(info_stat_hid(&st, -1) == INFO_HID_NONE, "%s", cases[i]);
		ck_assert_msg(info_stat_hid(&st, 1) == INFO_HID_NONE, "%s", cases[i]);
		for (unsigned n = 1; n <= 52; n++)
			ck_assert_msg(known(&st, n), "%s field %u", cases[i], n);
		/* read by one that may not ptrace it (its cwd link refused): the addresses are 0
		 * for every reader, truly; what the kernel writes of the task itself (kstkesp,
		 * kstkeip, the wchan flag, the exit code) was written as 0 in its place */
		info_hid hid = info_stat_hid(&st, 0);
		ck_assert_int_eq(hid, INFO_HID_TASK);
		for (unsigned n = 1; n <= 52; n++) {
			bool hidden = n == 29 || n == 30 || n == 35 || n == 52;
			ck_assert_msg(info_stat_known(&st, n, hid) == !hidden, "%s field %u", cases[i], n);
		}
	}
	/* a process with an address space is told by the mark alone, whatever the probe says */
	ml_stat v = fx_stat("info-threads");
	ck_assert_int_eq(info_stat_hid(&v, 0), INFO_HID_NONE);
	ml_stat h = fx_stat("info-hidden");
	ck_assert_int_eq(info_stat_hid(&h, 1), INFO_HID_ALL);
	/* one of the two at 1 is not the mark */
	static const char one_of_two[] =
		"7 (x) S 1 7 7 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 18446744073709551615 1 4096 0 0 0 0 0 0 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
	ml_stat o = parse(one_of_two, strlen(one_of_two));
	ck_assert(info_stat_hid(&o, -1) == INFO_HID_NONE);
}
END_TEST

START_TEST(fields_not_written_are_not_known)
{
	/* a kernel before 3.3 wrote 44 fields: the mark still reads, 45-52 are absent */
	char *t44 = fx_stat_fields("info-hidden", 44);
	ml_stat h = parse(t44, strlen(t44));
	ck_assert_uint_eq(h.nfields, 44);
	ck_assert(info_stat_hid(&h, -1) == INFO_HID_ALL);
	ck_assert(!known(&h, 26) && known(&h, 44) && !known(&h, 45));
	free(t44);
	char *v44 = fx_stat_fields("info-threads", 44);
	ml_stat v = parse(v44, strlen(v44));
	ck_assert(info_stat_hid(&v, -1) == INFO_HID_NONE);
	ck_assert(known(&v, 26) && known(&v, 44));
	for (unsigned n = 45; n <= 52; n++)
		ck_assert(!known(&v, n));
	free(v44);
	/* through rss only: start_code and end_code are not there to carry a mark */
	char *t24 = fx_stat_fields("info-hidden", 24);
	ml_stat s = parse(t24, strlen(t24));
	ck_assert(info_stat_hid(&s, -1) == INFO_HID_NONE);
	ck_assert(known(&s, 24) && !known(&s, 25) && !known(&s, 52));
	free(t24);
}
END_TEST

/* ---- the command on snapshots holding fixture text ---- */

static char dir[512];

/* @text without its lines that start with one of the NULL-terminated @keys. */
static char *drop_lines(const char *text, const char *const *keys)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) + 1 : strlen(p);
		bool drop = false;
		for (size_t k = 0; keys[k] && !drop; k++)
			drop = !strncmp(p, keys[k], strlen(keys[k]));
		if (!drop) {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = '\0';
	return out;
}

static void add(ml_snapshot_writer *w, const char *name, const char *text, size_t len)
{
	ck_assert_int_eq(ml_snapshot_writer_add_file(w, name, text, len), 0);
}

/* A snapshot whose saved status, stat, ksm_stat and wchan are the texts given (NULL: not
 * saved); cmdline, limits and coredump_filter are info-threads'. */
static const char *snap(const char *name, const char *status, const char *stat, const char *ksm, const char *wchan)
{
	const char *path = mlt_path_in(dir, name);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path, NULL, &w), 0);
	ml_snapshot_vma v = { .vma = { .start = 0x7f0000000000ull, .end = 0x7f0000001000ull,
				       .perms = ML_PERM_READ, .kind = ML_VMA_ANON } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	static const char *const files[] = { "cmdline", "limits", "coredump_filter" };
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		char *b = fx_bytes("info-threads", files[i], &len);
		add(w, files[i], b, len);
		free(b);
	}
	add(w, "status", status, strlen(status));
	if (stat)
		add(w, "stat", stat, strlen(stat));
	if (ksm)
		add(w, "ksm_stat", ksm, strlen(ksm));
	if (wchan)
		add(w, "wchan", wchan, strlen(wchan));
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, v.vma.start, 4096, ML_RUN_UNPOPULATED), 0);
	int r = ml_snapshot_writer_finish(w);
	ck_assert_msg(r == 0, "%s", ml_error_detail());
	ml_snapshot_writer_free(w);
	return path;
}

/* memlens info @args @path: its stdout, its exit code in @rc. */
static char *run_info(const char *args, const char *path, int *rc)
{
	char cmd[1536];
	snprintf(cmd, sizeof(cmd), "'%s' info %s '%s' 2>/dev/null", mlt_memlens_bin(), args, path);
	int st;
	char *out = mlt_run(cmd, &st);
	ck_assert_ptr_nonnull(out);
	ck_assert(WIFEXITED(st));
	*rc = WEXITSTATUS(st);
	return out;
}

#define HAS(out, s) ck_assert_msg(strstr(out, s) != NULL, "no %s in:\n%s", s, out)
#define HAS_NOT(out, s) ck_assert_msg(strstr(out, s) == NULL, "%s in:\n%s", s, out)

static void setup(void) { mlt_mkdtemp(dir, sizeof(dir), "ml_info_fields."); }
static void teardown(void) { mlt_rmtree(dir); }

START_TEST(lines_not_written_are_left_out)
{
	/* status before Linux 4.5 (no RssAnon, RssFile, RssShmem), and without the other lines
	 * the summary prints; ksm_stat of a kernel that wrote two lines; stat of 44 fields */
	size_t len;
	char *full = fx_bytes("info-threads", "status", &len);
	static const char *const gone[] = { "RssAnon:", "RssFile:", "RssShmem:", "VmHWM:", "VmSwap:",
					     "VmLck:", "VmPTE:", NULL };
	char *status = drop_lines(full, gone);
	char *stat = fx_stat_fields("info-threads", 44);
	const char *p = snap("absent.mlcore", status, stat, "ksm_rmap_items 5\nksm_merging_pages 3\n", NULL);

	int rc;
	char *j = run_info("--json", p, &rc);
	ck_assert_int_eq(rc, 0);
	HAS(j, "\"vm_rss\":2633728");
	HAS_NOT(j, "\"rss_anon\"");
	HAS_NOT(j, "\"rss_file\"");
	HAS_NOT(j, "\"vm_hwm\"");
	HAS_NOT(j, "\"vm_swap\"");
	HAS(j, "\"rmap_items\":5");
	HAS(j, "\"merging_bytes\":12288");
	HAS_NOT(j, "\"zero_page_bytes\"");
	HAS_NOT(j, "\"process_profit\"");
	HAS_NOT(j, "\"merge_any\"");
	HAS_NOT(j, "\"mergeable\"");
	/* stat: every field through 44, the last this kernel wrote, and none after */
	HAS(j, "\"start_code\":\"0x55e804a02000\"");
	HAS(j, "\"cguest_time_ticks\":0}");
	HAS_NOT(j, "\"start_data\"");
	HAS_NOT(j, "\"arg_start\"");
	HAS_NOT(j, "\"exit_code\"");
	HAS(j, "\"errors\":{}");
	free(j);

	char *t = run_info("--bytes", p, &rc);
	ck_assert_int_eq(rc, 0);
	HAS(t, "memory       RSS 2633728  peak RSS -\n");
	HAS(t, "             virtual 70733824 (peak 70733824)  swap -  locked -  page tables -\n");
	HAS(t, "             KSM 12288 merged, - to the zero page, profit -\n");
	free(t);

	/* --show stat: the same record, fields after 44 left out */
	char *s = run_info("--json --show stat", p, &rc);
	ck_assert_int_eq(rc, 0);
	HAS(s, "\"cguest_time\":0}");
	HAS_NOT(s, "\"exit_code\"");
	free(s);
	free(stat);
	free(status);
	free(full);
}
END_TEST

START_TEST(hidden_fields_are_unknown)
{
	size_t len;
	char *status = fx_bytes("info-hidden", "status", &len);
	char *stat = fx_bytes("info-hidden", "stat", &len);
	const char *p = snap("hidden.mlcore", status, stat, NULL, "0");
	int rc;
	char *j = run_info("--json", p, &rc);
	ck_assert_int_eq(rc, 1);
	static const char *const keys[] = { "start_code", "end_code", "start_stack", "kstkesp", "kstkeip",
					    "wchan", "start_data", "end_data", "start_brk", "arg_start",
					    "arg_end", "env_start", "env_end", "exit_code" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char k[96];
		snprintf(k, sizeof(k), "\"%s\":null", keys[i]);
		HAS(j, k);
		snprintf(k, sizeof(k), "\"stat.%s\":\"permission denied\"", keys[i]);
		HAS(j, k);
	}
	HAS(j, "\"rsslim\":18446744073709551615");
	HAS(j, "\"exit_signal\":17");
	free(j);

	/* --show: the same, and wchan's "0" is unknown, not "waits in no function" */
	char *s = run_info("--json --show stat,wchan", p, &rc);
	ck_assert_int_eq(rc, 1);
	HAS(s, "\"startcode\":null");
	HAS(s, "\"arg_start\":null");
	HAS(s, "\"exit_code\":null");
	HAS(s, "\"sigignore\":\"0x6\"");
	HAS(s, "\"wchan\":null,\"errors\"");
	HAS(s, "\"stat.startcode\":\"permission denied\"");
	HAS(s, "\"wchan\":\"permission denied\"");
	free(s);
	free(stat);

	/* the same "0" with the owner's stat: a task that waits in no function */
	stat = fx_bytes("info-threads", "stat", &len);
	p = snap("visible.mlcore", status, stat, NULL, "0");
	s = run_info("--json --show stat,wchan", p, &rc);
	ck_assert_int_eq(rc, 0);
	HAS(s, "\"wchan\":\"\"");
	HAS(s, "\"startcode\":\"0x55e804a02000\"");
	HAS(s, "\"errors\":{}");
	free(s);
	free(stat);
	free(status);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("info_fields");
	TCase *tc = tcase_create("decision");
	tcase_add_test(tc, hidden_is_the_kernels_mark);
	tcase_add_test(tc, no_address_space_is_not_the_mark);
	tcase_add_test(tc, fields_not_written_are_not_known);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_not_written_are_left_out);
	tcase_add_test(tc, hidden_fields_are_unknown);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
