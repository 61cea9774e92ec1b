/* lib/inject.c: the clone injected by a copy-on-write capture, against children whose state the test controls: signals that come meanwhile, interrupted calls (read, nanosleep, futex), rseq, stacks, vfork (and fork, which is not one). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>
#include <memlens/capture.h>

#include "mltest.h"

/* ---- the library's test hook: acts at one step of the injection ---- */

enum { HK_NONE, HK_SIGQUEUE, HK_SIGSTOP, HK_RSEQ };
static int hk_step = -1, hk_action;
static pid_t hk_pid;
static unsigned hk_calls;
static uint64_t hk_lo, hk_hi, hk_seq_addr;
static uint64_t hk_held[16]; /* the numbers of the sections a capture stopped the thread in */
static unsigned hk_nheld;    /* how many times it stopped it inside one (the first 16 kept) */
static pid_t hk_tid0; /* the thread the first injection went into */

void ml__test_hook(int step, pid_t tid);
void ml__test_hook(int step, pid_t tid)
{
	if (step == 0 && !hk_tid0)
		hk_tid0 = tid;
	if (hk_action == HK_RSEQ && step == 0) {
		/* Where the thread is before anything is done to it, and which section it is in. */
		struct user_regs_struct r;
		if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == 0 && r.rip >= hk_lo && r.rip < hk_hi) {
			errno = 0;
			long n = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)hk_seq_addr, NULL);
			if (errno) /* -1: not read (the test fails on it, naming why) */
				n = -1;
			if (hk_nheld < sizeof(hk_held) / sizeof(hk_held[0]))
				hk_held[hk_nheld] = (uint64_t)n;
			hk_nheld++;
		}
		return;
	}
	if (step != hk_step || hk_calls)
		return; /* once: the first injection (the fork), not the reaping */
	hk_calls++;
	if (hk_action == HK_SIGQUEUE) {
		union sigval v = { .sival_int = 1234 };
		sigqueue(hk_pid, SIGUSR1, v);
	} else if (hk_action == HK_SIGSTOP) {
		kill(hk_pid, SIGSTOP);
	} else if (hk_action == HK_RSEQ) {
		/* Held a while, as a long capture would hold it. */
		struct timespec ts = { 0, 250000000 };
		nanosleep(&ts, NULL);
	}
}

static void hook(int action, int step, pid_t pid)
{
	hk_action = action;
	hk_step = step;
	hk_pid = pid;
	hk_calls = 0;
	hk_nheld = 0;
	hk_tid0 = 0;
}

/* ---- helpers ---- */

static char tmpdir[256];

static void make_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "ml-cowinj-"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }

static int capture(pid_t pid, const char *name, bool fallback, ml_capture_result *res)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(pid, &p), 0);
	ML_OPTS(ml_capture_opts, o, .freeze = ML_CAPTURE_FREEZE_COW, .cow_fallback = fallback);
	memset(res, 0, sizeof(*res));
	int r = ml_capture(p, path, &o, res);
	ml_proc_free(p);
	return r;
}

static void send_line(mlt_child *c, const char *line)
{
	size_t n = strlen(line);
	ck_assert_int_eq(write(c->to_child, line, n), (ssize_t)n);
}

/* Waits until the main thread of @pid is blocked in system call @nr (with first argument
 * @arg0 unless it is negative), as /proc/PID/syscall shows. */
static void wait_in_call(pid_t pid, long nr, long arg0)
{
	char path[64], buf[256], want[64];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	if (arg0 >= 0)
		snprintf(want, sizeof(want), "%ld 0x%lx ", nr, arg0);
	else
		snprintf(want, sizeof(want), "%ld ", nr);
	for (long i = 0; i < 5000000; i++) {
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		bool in = fgets(buf, sizeof(buf), f) && !strncmp(buf, want, strlen(want));
		fclose(f);
		if (in)
			return;
		sched_yield();
	}
	ck_abort_msg("child %d never blocked in system call %ld", (int)pid, nr);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	ck_assert_ptr_nonnull(rp);
	return rp[2];
}

static void assert_cow(int r, const ml_capture_result *res)
{
	ck_assert_msg(r == 0, "cow capture failed: %s (%s)", ml_strerror(r), ml_error_detail());
	ck_assert_msg(res->freeze == ML_CAPTURE_FREEZE_COW, "not cow: %s", res->why_not_cow);
}

/* A thread blocked in read() on a FIFO; SIGUSR1 (sigqueue, value 1234) comes while the
 * clone is injected in it. The handler must run once, with that siginfo, after the
 * injection; the read then restarts (SA_RESTART) or fails with EINTR (no SA_RESTART). */
static void signal_during_read(bool restart)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_cmd_ok(c, "sig %d", restart ? 1 : 0);
	char fifo[400], line[500];
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(line, sizeof(line), "block read %s\n", fifo);
	send_line(c, line);
	const char *a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	long fd = (long)mlt_kv(a, "fd");
	wait_in_call(c->pid, 0, fd);

	hook(HK_SIGQUEUE, 4, c->pid);
	ml_capture_result res;
	int r = capture(c->pid, "c.mlcore", false, &res);
	assert_cow(r, &res);
	ck_assert_uint_eq(hk_calls, 1);
	hook(HK_NONE, -1, 0);
	if (restart)
		wait_in_call(c->pid, 0, fd); /* back in read() after its handler */
	/* A byte for the read; with EINTR it is left unread. */
	int w = open(fifo, O_RDWR);
	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(write(w, "x", 1), 1);
	a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("%s: %s\n", restart ? "SA_RESTART" : "no SA_RESTART", a);
	ck_assert_msg(strstr(a, " sigs=1 "), "the handler did not run once: %s", a);
	ck_assert_msg(strstr(a, " code=-1 "), "the siginfo is not the sender's (SI_QUEUE): %s", a);
	ck_assert_msg(strstr(a, " value=1234 "), "the siginfo lost its value: %s", a);
	char spid[32];
	snprintf(spid, sizeof(spid), " spid=%d", (int)getpid());
	ck_assert_msg(strstr(a, spid), "the siginfo lost its sender: %s", a);
	if (restart)
		ck_assert_msg(!strncmp(a, "ok ret=1 errno=0 ", 17), "the read did not restart: %s", a);
	else
		ck_assert_msg(!strncmp(a, "ok ret=-1 errno=4 ", 18), "the read did not fail with EINTR: %s", a);
	close(w);
	mlt_cmd_ok(c, "pid");
	mlt_child_free(c);
	rm_tmpdir();
}

START_TEST(signal_waits_then_read_restarts)
{
	signal_during_read(true);
}
END_TEST

START_TEST(signal_waits_then_read_gets_eintr)
{
	signal_during_read(false);
}
END_TEST

/* nanosleep interrupted by the freeze is continued with restart_syscall: it sleeps its
 * whole time; a signal with a handler during the injection ends it with EINTR. */
START_TEST(nanosleep_restart_block)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_cmd_ok(c, "sig 1");
	ml_capture_result res;
	send_line(c, "block sleep 3000\n");
	ck_assert_ptr_nonnull(mlt_read_line(c));
	wait_in_call(c->pid, 230, -1); /* clock_nanosleep */
	hook(HK_NONE, -1, 0);
	assert_cow(capture(c->pid, "a.mlcore", false, &res), &res);
	const char *a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("no signal: %s\n", a);
	ck_assert_msg(!strncmp(a, "ok ret=0 errno=0 ", 17) && mlt_kv(a, "ms") >= 3000, "%s", a);

	send_line(c, "block sleep 6000\n");
	ck_assert_ptr_nonnull(mlt_read_line(c));
	wait_in_call(c->pid, 230, -1);
	hook(HK_SIGQUEUE, 4, c->pid);
	assert_cow(capture(c->pid, "b.mlcore", false, &res), &res);
	hook(HK_NONE, -1, 0);
	a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("signal: %s\n", a);
	ck_assert_msg(!strncmp(a, "ok ret=-1 errno=4 ", 18) && mlt_kv(a, "sigs") == 1,
		      "the sleep was not ended by the signal: %s", a);
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* A thread blocked in FUTEX_WAIT when the clone is injected into it: the wait is restarted
 * (-ERESTARTSYS), so it goes on waiting for the word to change and returns 0 once woken,
 * not EINTR and not the clone's result; a wait with a time-out (restart block) waits its
 * whole time and times out. */
START_TEST(futex_wait_restarts)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	char fifo[400], line[500];
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(line, sizeof(line), "block futex %s\n", fifo);
	send_line(c, line);
	ck_assert_ptr_nonnull(mlt_read_line(c));
	wait_in_call(c->pid, 202, -1); /* futex */
	hook(HK_NONE, -1, 0);
	ml_capture_result res;
	assert_cow(capture(c->pid, "a.mlcore", false, &res), &res);
	ck_assert_msg(hk_tid0 == c->pid, "the clone went into thread %d, not the waiting one %d", (int)hk_tid0,
		      (int)c->pid);
	wait_in_call(c->pid, 202, -1); /* still waiting on the word, which nobody changed yet */
	int w = open(fifo, O_WRONLY);
	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(write(w, "x", 1), 1);
	close(w);
	const char *a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("futex: %s\n", a);
	ck_assert_msg(!strcmp(a, "ok ret=0 errno=0 word=1"), "the wait did not go on until woken: %s", a);

	send_line(c, "block futex_to 3000\n");
	ck_assert_ptr_nonnull(mlt_read_line(c));
	wait_in_call(c->pid, 202, -1);
	hook(HK_NONE, -1, 0);
	assert_cow(capture(c->pid, "b.mlcore", false, &res), &res);
	ck_assert_int_eq(hk_tid0, c->pid);
	a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("futex with a time-out: %s\n", a);
	ck_assert_msg(!strncmp(a, "ok ret=-1 errno=110 ", 20) && mlt_kv(a, "ms") >= 3000,
		      "the wait did not time out after its whole time: %s", a);
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* SIGSTOP while the clone runs: clone() gives -ERESTARTNOINTR, and is run again after the
 * stop is taken; the process ends stopped, as SIGSTOP asks, and runs on after SIGCONT. */
START_TEST(clone_interrupted_by_sigstop_is_retried)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_wait_idle(c->pid);
	hook(HK_SIGSTOP, 5, c->pid);
	ml_capture_result res;
	int r = capture(c->pid, "c.mlcore", false, &res);
	hook(HK_NONE, -1, 0);
	assert_cow(r, &res);
	char st = 0;
	for (long i = 0; i < 1000000 && st != 'T'; i++) {
		st = proc_state(c->pid);
		if (st != 'T')
			sched_yield();
	}
	ck_assert_msg(st == 'T', "the SIGSTOP was lost: state %c", st);
	kill(c->pid, SIGCONT);
	mlt_cmd_ok(c, "pid");
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* A thread held inside an rseq critical section (glibc's registered area) must have it
 * aborted, as any preemption would: each section a capture stopped the thread in (its
 * number read from the child while stopped) must end aborted, never committed. */
START_TEST(rseq_section_is_aborted)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	const char *a = mlt_cmd(c, "rseqinfo");
	ck_assert_ptr_nonnull(a);
	if (strncmp(a, "ok", 2))
		mlt_skip("glibc registered no rseq area here (%s)", a);
	hk_lo = mlt_kv(a, "lo");
	hk_hi = mlt_kv(a, "hi");
	hk_seq_addr = mlt_kv(a, "seq");
	send_line(c, "rseq 6000\n");
	unsigned tries = 0;
	for (; tries < 8 && hk_nheld == 0; tries++) {
		hook(HK_RSEQ, 4, c->pid);
		ml_capture_result res;
		assert_cow(capture(c->pid, "c.mlcore", false, &res), &res);
	}
	unsigned in_cs = hk_nheld;
	hook(HK_NONE, -1, 0);
	a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("%u stops inside a section in %u captures: %s\n", in_cs, tries, a);
	ck_assert_msg(in_cs > 0, "no capture caught the thread inside its critical section");
	ck_assert_uint_ge(mlt_kv(a, "aborts"), in_cs);
	ck_assert_msg(in_cs <= sizeof(hk_held) / sizeof(hk_held[0]), "%u stops inside, more than are kept", in_cs);
	for (unsigned i = 0; i < in_cs; i++) {
		ck_assert_msg(hk_held[i] != UINT64_MAX, "the number of a section held inside could not be read");
		const char *o = mlt_cmd(c, "rseqout %llu", (unsigned long long)hk_held[i]);
		ck_assert_ptr_nonnull(o);
		printf("section %llu, held inside: %s\n", (unsigned long long)hk_held[i], o);
		ck_assert_msg(!strcmp(o, "ok aborted"), "section %llu, held inside, did not abort: %s",
			      (unsigned long long)hk_held[i], o);
	}
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* The only thread runs on a sigaltstack that is a plain buffer: no frame is put there; the
 * capture falls back to the ptrace freeze and says why (and fails if cow was required). */
START_TEST(sigaltstack_is_refused)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_cmd_ok(c, "altstack");
	mlt_wait_idle(c->pid);
	ml_capture_result res;
	int r = capture(c->pid, "a.mlcore", false, &res);
	ck_assert_int_eq(r, -EOPNOTSUPP);
	ck_assert_msg(strstr(ml_error_detail(), "stack"), "%s", ml_error_detail());
	mlt_wait_idle(c->pid);
	r = capture(c->pid, "b.mlcore", true, &res);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_PTRACE);
	printf("why not cow: %s\n", res.why_not_cow);
	ck_assert_msg(strstr(res.why_not_cow, "sigaltstack"), "%s", res.why_not_cow);
	mlt_cmd_ok(c, "pid");
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* A thread in ppoll() runs with a temporary mask that the kernel swaps back on the way out;
 * PTRACE_SETSIGMASK would cancel that, so the injection passes over it and uses another
 * thread: after the call the temporary mask is gone, as the program expects. */
START_TEST(temporary_mask_thread_is_passed_over)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_cmd_ok(c, "run");
	send_line(c, "block ppoll 5000\n");
	ck_assert_ptr_nonnull(mlt_read_line(c));
	wait_in_call(c->pid, 271, -1); /* ppoll */
	ml_capture_result res;
	assert_cow(capture(c->pid, "a.mlcore", false, &res), &res);
	const char *a = mlt_read_line(c);
	ck_assert_ptr_nonnull(a);
	printf("after ppoll: %s\n", a);
	ck_assert_msg(!strcmp(a, "ok ret=0 usr2blocked=0"), "the thread kept ppoll's temporary mask: %s", a);
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* A vfork() child shares its parent's address space: neither is forked. */
START_TEST(vfork_is_refused)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	pid_t ch = (pid_t)mlt_cmd_u64(c, "child", "vfork");
	ml_capture_result res;
	int r = capture(ch, "a.mlcore", false, &res);
	ck_assert_int_eq(r, -EOPNOTSUPP);
	printf("vfork child: %s\n", ml_error_detail());
	ck_assert_msg(strstr(ml_error_detail(), "vfork"), "%s", ml_error_detail());
	r = capture(c->pid, "b.mlcore", false, &res);
	ck_assert_int_eq(r, -EOPNOTSUPP);
	printf("vfork parent: %s\n", ml_error_detail());
	ck_assert_msg(strstr(ml_error_detail(), "vfork"), "%s", ml_error_detail());
	kill(ch, SIGKILL);
	mlt_cmd_ok(c, "pid");
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

/* A child made by fork() has its own address space, though it shares the parent's open
 * files (fd 0 among them): neither it nor its parent is taken for a vfork pair. */
START_TEST(forked_child_is_no_vfork)
{
	make_tmpdir();
	mlt_child *c = mlt_spawn("ml_cowee", NULL);
	mlt_cmd_ok(c, "setup");
	pid_t ch = (pid_t)mlt_cmd_u64(c, "child", "fork");
	wait_in_call(ch, 34, -1); /* pause */
	ml_capture_result res;
	assert_cow(capture(c->pid, "a.mlcore", false, &res), &res);
	assert_cow(capture(ch, "b.mlcore", false, &res), &res);
	kill(ch, SIGKILL);
	mlt_cmd_ok(c, "pid");
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

int main(void)
{
	mlt_skip_unless_may_trace_grandchildren();
	Suite *s = suite_create("inject");
	TCase *tc = tcase_create("inject");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, signal_waits_then_read_restarts);
	tcase_add_test(tc, signal_waits_then_read_gets_eintr);
	tcase_add_test(tc, nanosleep_restart_block);
	tcase_add_test(tc, futex_wait_restarts);
	tcase_add_test(tc, clone_interrupted_by_sigstop_is_retried);
	tcase_add_test(tc, rseq_section_is_aborted);
	tcase_add_test(tc, sigaltstack_is_refused);
	tcase_add_test(tc, vfork_is_refused);
	tcase_add_test(tc, forked_child_is_no_vfork);
	tcase_add_test(tc, temporary_mask_thread_is_passed_over);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
