/* lib/freeze.c: what a PTRACE_SEIZE refused with EPERM means, from the thread's status, and
 * whether the process's own thread count says every thread is held. The
 * kernel refuses a thread that has begun to exit with EPERM; a capture of a process whose
 * threads come and go met one ("threads_created_during_capture" failed once with -EPERM). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/freeze.h"
#include "mltest.h"

static const char *status(char *buf, size_t n, const char *state, long tracer)
{
	snprintf(buf, n,
		 "Name:\tworker\nUmask:\t0022\nState:\t%s\nTgid:\t100\nNgid:\t0\nPid:\t101\nPPid:\t1\n"
		 "TracerPid:\t%ld\nUid:\t0\t0\t0\t0\n",
		 state, tracer);
	return buf;
}

/* The verdict on a status with State @state and TracerPid @tracer, for a capture whose own
 * PID is 42. */
static const struct { const char *state; long tracer; ml__seize_eperm want; const char *why; } cases[] = {
	{ "Z (zombie)", 0, ML__SEIZE_GONE, "exiting" },
	{ "X (dead)", 0, ML__SEIZE_GONE, "dead" },
	{ "Z (zombie)", 7, ML__SEIZE_GONE, "exiting while another traces it: gone all the same" },
	{ "Z (zombie)", 42, ML__SEIZE_OURS, "ours (attached at clone()), exiting: its exit is ours to wait for" },
	{ "S (sleeping)", 42, ML__SEIZE_OURS, "ours, alive" },
	{ "t (tracing stop)", 7, ML__SEIZE_BUSY, "another tracer's" },
	{ "R (running)", 0, ML__SEIZE_DENIED, "alive, untraced: a denial" },
	{ "D (disk sleep)", 0, ML__SEIZE_DENIED, "in the kernel, untraced: a denial" },
};

/* This process's own status text, into @buf (@n bytes). */
static void own_status(char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = '\0';
}

START_TEST(verdict_by_state_and_tracer)
{
	char b[512];
	ck_assert_msg(ml__seize_eperm_verdict(status(b, sizeof(b), cases[_i].state, cases[_i].tracer), 42) ==
			      cases[_i].want,
		      "State %s, TracerPid %ld (%s)", cases[_i].state, cases[_i].tracer, cases[_i].why);
}
END_TEST

START_TEST(statuses_that_say_nothing_are_denials)
{
	/* a status without the lines says nothing: denied, never "gone" */
	ck_assert_int_eq(ml__seize_eperm_verdict("Name:\tx\n", 42), ML__SEIZE_DENIED);
	ck_assert_int_eq(ml__seize_eperm_verdict("", 42), ML__SEIZE_DENIED);
	/* "State:" must start a line */
	ck_assert_int_eq(ml__seize_eperm_verdict("Name:\tState: Z\nTracerPid:\t0\n", 42), ML__SEIZE_DENIED);
}
END_TEST

START_TEST(a_live_status_is_not_gone)
{
	/* our own status, running: not gone, and not ours to wait for */
	char buf[4096];
	own_status(buf, sizeof(buf));
	ck_assert_int_eq(ml__seize_eperm_verdict(buf, getpid()), ML__SEIZE_DENIED);
}
END_TEST

/* ml__freeze_all_counted(): the process's own thread count against the threads held. */
static const struct {
	const char *status;
	size_t held;
	bool leader_held;
	int want;
	const char *why;
} counts[] = {
	{ "State:\tt (tracing stop)\nThreads:\t4\n", 4, true, 1, "every counted thread held" },
	{ "State:\tt (tracing stop)\nThreads:\t5\n", 4, true, 0, "one counted, not held: a listing missed it" },
	{ "State:\tZ (zombie)\nThreads:\t3\n", 2, false, 1, "the exited leader is counted, never held" },
	{ "State:\tZ (zombie)\nThreads:\t4\n", 2, false, 0, "the exited leader and one more not held" },
	{ "State:\tX (dead)\nThreads:\t3\n", 2, false, 1, "a dead leader the same" },
	{ "State:\tZ (zombie)\nThreads:\t3\n", 2, true, 0, "a held leader is one of the held: no allowance" },
	{ "State:\tS (sleeping)\nThreads:\t3\n", 2, false, 0, "a leader alive and not held is a thread not held" },
	{ "State:\tt (tracing stop)\nThreads:\t3\n", 4, true, 1, "fewer than held: one died (the process is going)" },
	{ "Name:\tx\nState:\tt (tracing stop)\n", 4, true, -1, "no count: the scans decide" },
	{ "", 1, true, -1, "empty" },
	{ "Name:\tThreads: 9\nState:\tt\nThreads:\t2\n", 2, true, 1, "\"Threads:\" must start a line" },
};

START_TEST(count_against_held)
{
	ck_assert_msg(ml__freeze_all_counted(counts[_i].status, counts[_i].held, counts[_i].leader_held) ==
			      counts[_i].want,
		      "%s", counts[_i].why);
}
END_TEST

START_TEST(own_status_counts_own_threads)
{
	/* our own status: one thread, counted as held it is all; as none held it is not */
	char buf[4096];
	own_status(buf, sizeof(buf));
	ck_assert_int_eq(ml__freeze_all_counted(buf, 1, true), 1);
	ck_assert_int_eq(ml__freeze_all_counted(buf, 0, false), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("freeze");
	TCase *tc = tcase_create("seize");
	tcase_add_loop_test(tc, verdict_by_state_and_tracer, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, statuses_that_say_nothing_are_denials);
	tcase_add_test(tc, a_live_status_is_not_gone);
	suite_add_tcase(s, tc);
	TCase *tc2 = tcase_create("count");
	tcase_add_loop_test(tc2, count_against_held, 0, (int)(sizeof(counts) / sizeof(counts[0])));
	tcase_add_test(tc2, own_status_counts_own_threads);
	suite_add_tcase(s, tc2);
	return mlt_run_suite(s);
}
