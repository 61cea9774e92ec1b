/* The Process API helpers (lib/stat.c, lib/status.c, lib/fd.c, lib/task.c, lib/ns.c): state letters, PF_* names, tty numbers, units, children.
 * The bitmaps they return: tests/unit/bitmap.c. */
#include <errno.h>
#include <sys/sysmacros.h>

#include "info_fixture.h"

START_TEST(state_letters)
{
	static const struct { char c; ml_proc_state s; const char *name; } t[] = {
		{ 'R', ML_STATE_RUNNING, "running" }, { 'S', ML_STATE_SLEEPING, "sleeping" },
		{ 'D', ML_STATE_DISK_SLEEP, "disk-sleep" }, { 'Z', ML_STATE_ZOMBIE, "zombie" },
		{ 'T', ML_STATE_STOPPED, "stopped" }, { 't', ML_STATE_TRACING_STOP, "tracing-stop" },
		{ 'X', ML_STATE_DEAD, "dead" }, { 'x', ML_STATE_DEAD, "dead" },
		{ 'K', ML_STATE_WAKEKILL, "wakekill" }, { 'W', ML_STATE_WAKING, "waking" },
		{ 'P', ML_STATE_PARKED, "parked" }, { 'I', ML_STATE_IDLE, "idle" },
		{ '?', ML_STATE_UNKNOWN, "unknown" }, { 0, ML_STATE_UNKNOWN, "unknown" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(ml_proc_state_from_char(t[i].c), t[i].s);
		ck_assert_str_eq(ml_proc_state_name(t[i].s), t[i].name);
	}
	ck_assert_str_eq(ml_proc_state_name((ml_proc_state)99), "unknown");
	/* the fixtures' states */
	ml_stat st;
	ml_proc *p = fx_open("info-zombie");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(ml_proc_state_from_char(st.state), ML_STATE_ZOMBIE);
	ml_proc_free(p);
}
END_TEST

START_TEST(flag_names)
{
	ck_assert_str_eq(ml_stat_flag_name(21), "PF_KTHREAD");
	ck_assert_uint_eq(ML_PF_KTHREAD, 1u << 21);
	ck_assert_str_eq(ml_stat_flag_name(6), "PF_FORKNOEXEC");
	ck_assert_uint_eq(ML_PF_FORKNOEXEC, 1u << 6);
	ck_assert_str_eq(ml_stat_flag_name(31), "PF_SUSPEND_TASK");
	ck_assert_ptr_null(ml_stat_flag_name(23));
	ck_assert_ptr_null(ml_stat_flag_name(32));
	/* every named constant has its name at its bit */
	static const uint32_t named[] = { ML_PF_VCPU, ML_PF_IDLE, ML_PF_EXITING, ML_PF_WQ_WORKER,
					  ML_PF_KSWAPD, ML_PF_RANDOMIZE, ML_PF_NO_SETAFFINITY, ML_PF_MEMALLOC_PIN };
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		ck_assert_ptr_nonnull(ml_stat_flag_name((unsigned)__builtin_ctz(named[i])));
	/* the kernel-thread fixture carries PF_KTHREAD, the user process does not */
	ml_stat st;
	ml_proc *p = fx_open("info-kthread");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_uint_ne(st.flags & ML_PF_KTHREAD, 0);
	ml_proc_free(p);
	p = fx_open("info-threads");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_uint_eq(st.flags & ML_PF_KTHREAD, 0);
	ml_proc_free(p);
}
END_TEST

START_TEST(tty_numbers)
{
	ml_stat st = { .tty_nr = 0 };
	ck_assert_uint_eq(ml_stat_tty_major(&st), 0);
	ck_assert_uint_eq(ml_stat_tty_minor(&st), 0);
	/* /dev/pts/3: 136:3; /dev/pts/300: 136:300 (minor above 255 goes to bits 20-31) */
	static const unsigned cases[][2] = { { 136, 3 }, { 136, 300 }, { 4, 1 }, { 4095, 1048575 } };
	for (size_t i = 0; i < 4; i++) {
		st.tty_nr = (int)(uint32_t)makedev(cases[i][0], cases[i][1]);
		ck_assert_uint_eq(ml_stat_tty_major(&st), cases[i][0]);
		ck_assert_uint_eq(ml_stat_tty_minor(&st), cases[i][1]);
	}
	st.tty_nr = 34816 + 300 % 256 + ((300 / 256) << 20); /* as the kernel encodes 136:300 */
	ck_assert_uint_eq(ml_stat_tty_major(&st), 136);
	ck_assert_uint_eq(ml_stat_tty_minor(&st), 300);
}
END_TEST

START_TEST(units_given_not_assumed)
{
	/* a file from a machine with 64 KiB pages and 250 ticks a second */
	ml_sysinfo si = { .page_size = 65536, .ticks_per_sec = 250, .boot_time_ns = 1700000000000000000 };
	ml_stat st;
	ml_proc *p = fx_open("info-threads");
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ml_proc_free(p);
	uint64_t rss;
	ck_assert_int_eq(ml_stat_rss_bytes(&st, &si, &rss), 0);
	ck_assert_uint_eq(rss, (uint64_t)st.rss * 65536);
	int64_t t;
	ck_assert_int_eq(ml_stat_start_time(&st, &si, &t), 0);
	ck_assert_int_eq(t, 1700000000000000000 + (int64_t)(st.starttime / 250) * 1000000000 +
				  (int64_t)(st.starttime % 250) * 4000000);
	ck_assert_uint_eq(ml_ticks_to_ns(251, &si), 1004000000);
	ck_assert_uint_eq(ml_ticks_to_ns(UINT64_MAX / 4, &(ml_sysinfo){ .ticks_per_sec = 100 }),
			  UINT64_MAX / 4 / 100 * 1000000000u + UINT64_MAX / 4 % 100 * 10000000u);
	si.ticks_per_sec = 0;
	ck_assert_int_eq(ml_stat_start_time(&st, &si, &t), -EINVAL);
	ck_assert_uint_eq(ml_ticks_to_ns(5, &si), 0);
	st.starttime = UINT64_MAX;
	si.ticks_per_sec = 100;
	ck_assert_int_eq(ml_stat_start_time(&st, &si, &t), -ERANGE);
	st.rss = -1;
	ck_assert_int_eq(ml_stat_rss_bytes(&st, &si, &rss), -ERANGE);
}
END_TEST

START_TEST(status_sets_of_a_fixture)
{
	ml_proc *p = fx_open("info-threads");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ml_bitmap *m, *l;
	ck_assert_int_eq(ml_status_cpus_allowed(s, false, &m), 0);
	ck_assert_int_eq(ml_status_cpus_allowed(s, true, &l), 0);
	ck_assert(ml_bitmap_equal(m, l));
	ck_assert_uint_eq(ml_bitmap_count(m), 2);
	ck_assert_uint_eq(ml_bitmap_count(m), s->n_cpus_allowed);
	ml_bitmap_free(m);
	ml_bitmap_free(l);
	/* Mems_allowed: 32 words, only node 0 */
	ck_assert_int_eq(ml_status_mems_allowed(s, false, &m), 0);
	ck_assert_int_eq(ml_status_mems_allowed(s, true, &l), 0);
	ck_assert_uint_eq(ml_bitmap_size(m), 1024);
	ck_assert(ml_bitmap_equal(m, l));
	ck_assert_int_eq(ml_bitmap_next(m, 0), 0);
	ck_assert_int_eq(ml_bitmap_next(m, 1), -1);
	ml_bitmap_free(m);
	ml_bitmap_free(l);
	ml_status_free(s);
	/* a status without the keys (a zombie keeps them; a hand-made one does not) */
	const char txt[] = "Name:\tx\nState:\tS (sleeping)\n";
	ck_assert_int_eq(ml_status_parse(txt, sizeof(txt) - 1, &s), 0);
	ck_assert_int_eq(ml_status_cpus_allowed(s, false, &m), -ENOENT);
	ck_assert_int_eq(ml_status_mems_allowed(s, true, &m), -ENOENT);
	ml_status_free(s);
	ml_proc_free(p);
}
END_TEST

START_TEST(children_text)
{
	pid_t *v;
	size_t n;
	const char t[] = "1234 5678 ";
	ck_assert_int_eq(ml_task_children_parse(t, sizeof(t) - 1, &v, &n), 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0], 1234);
	ck_assert_int_eq(v[1], 5678);
	free(v);
	ck_assert_int_eq(ml_task_children_parse("", 0, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(ml_task_children_parse("12x", 3, &v, &n), -EBADMSG);
	ck_assert_int_eq(ml_task_children_parse("0", 1, &v, &n), -EBADMSG);
	ck_assert_int_eq(ml_task_children_parse("-3", 2, &v, &n), -EBADMSG);
	/* a fixture directory has no children file anywhere */
	ml_proc *p = fx_open("info-threads");
	ck_assert_int_eq(ml_task_children_read(p, &v, &n), -ENOENT);
	ml_proc_free(p);
}
END_TEST

START_TEST(fd_mode_unknown_on_fixtures)
{
	ml_proc *p = fx_open("info-threads");
	ml_fds *it;
	ml_fd f;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	int seen = 0;
	while (ml_fds_next(it, &f) == 1) {
		ck_assert_uint_eq(f.mode, 0); /* plain symlinks say nothing about an open mode */
		seen++;
	}
	ck_assert_int_gt(seen, 0);
	ml_fds_free(it);
	ml_namespaces *ns;
	ml_proc_free(p);
	p = fx_open("net-child");
	if (ml_namespaces_read(p, &ns) == 0) {
		const ml_ns *n = ml_namespaces_find(ns, "net");
		ck_assert_ptr_nonnull(n);
		const char *tail = "/proc/net-child/ns/net";
		size_t pl = strlen(n->path), tl = strlen(tail);
		ck_assert_uint_ge(pl, tl);
		ck_assert_str_eq(n->path + pl - tl, tail);
		ml_namespaces_free(ns);
	}
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procapi");
	TCase *tc = tcase_create("helpers");
	tcase_add_test(tc, state_letters);
	tcase_add_test(tc, flag_names);
	tcase_add_test(tc, tty_numbers);
	tcase_add_test(tc, units_given_not_assumed);
	tcase_add_test(tc, status_sets_of_a_fixture);
	tcase_add_test(tc, children_text);
	tcase_add_test(tc, fd_mode_unknown_on_fixtures);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
