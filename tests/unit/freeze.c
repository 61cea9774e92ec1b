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

START_TEST(exiting_threads_are_gone)
{
	char b[512];
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "Z (zombie)", 0), 42), ML__SEIZE_GONE);
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "X (dead)", 0), 42), ML__SEIZE_GONE);
	/* exiting while another traces it: gone all the same */
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "Z (zombie)", 7), 42), ML__SEIZE_GONE);
	/* ours (attached at clone()), exiting: its exit is ours to wait for */
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "Z (zombie)", 42), 42), ML__SEIZE_OURS);
}
END_TEST

START_TEST(live_threads_keep_their_reason)
{
	char b[512];
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "S (sleeping)", 42), 42), ML__SEIZE_OURS);
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "t (tracing stop)", 7), 42), ML__SEIZE_BUSY);
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "R (running)", 0), 42), ML__SEIZE_DENIED);
	ck_assert_int_eq(ml__seize_eperm_verdict(status(b, sizeof(b), "D (disk sleep)", 0), 42), ML__SEIZE_DENIED);
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
	tcase_add_test(tc, exiting_threads_are_gone);
	tcase_add_test(tc, live_threads_keep_their_reason);
	tcase_add_test(tc, a_live_status_is_not_gone);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
