/* lib/freeze.c: what a PTRACE_SEIZE refused with EPERM means, from the thread's status. The
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
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_int_eq(ml__seize_eperm_verdict(buf, getpid()), ML__SEIZE_DENIED);
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
	return mlt_run_suite(s);
}
