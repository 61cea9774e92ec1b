/* lib/freeze.c (ml_freeze) against real children: every thread held, new threads caught, no signals seen, dies gently. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>
#include <memlens/freeze.h>

#include "mltest.h"

/* The state letter of /proc/PID/task/TID/stat. */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

/* TIDs in /proc/PID/task now. */
static size_t list_tasks(pid_t pid, pid_t *out, size_t max)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && n < max)
			out[n++] = (pid_t)atoi(de->d_name);
	if (d)
		closedir(d);
	return n;
}

/* TracerPid of /proc/PID/task/TID/status: 0 untraced, -1 if it cannot be read. */
static long tracer_of(pid_t pid, pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	FILE *f = fopen(path, "r");
	long t = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			t = strtol(line + 10, NULL, 10);
	if (f)
		fclose(f);
	return t;
}

/* No thread of @pid is traced by us or stopped in a ptrace stop (@except: one traced by
 * a process of the test's on purpose, left out). */
static void assert_none_left_held(pid_t pid, pid_t except, const char *when)
{
	pid_t tids[1024];
	size_t n = list_tasks(pid, tids, 1024);
	for (size_t i = 0; i < n; i++) {
		if (tids[i] == except)
			continue;
		long tr = tracer_of(pid, tids[i]);
		ck_assert_msg(tr != getpid(), "%s: thread %d is still traced by us", when, (int)tids[i]);
		ck_assert_msg(task_state(pid, tids[i]) != 't', "%s: thread %d is in a ptrace stop (tracer %ld)", when,
			      (int)tids[i], tr);
	}
}

static bool held(const ml_freeze *f, pid_t tid)
{
	for (size_t i = 0; i < ml_freeze_count(f); i++)
		if (ml_freeze_tid(f, i) == tid)
			return true;
	return false;
}

static void assert_quiet(mlt_child *c)
{
	const char *s = mlt_cmd_ok(c, "stats");
	ck_assert_uint_eq(mlt_kv(s, "eintr"), 0);
	ck_assert_uint_eq(mlt_kv(s, "cont"), 0);
}

START_TEST(holds_every_thread_and_reads_registers)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 5");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_freeze *f;
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), 0);
	ck_assert_uint_eq(ml_freeze_count(f), 6);
	ck_assert_int_eq(ml_freeze_tid(f, 0), c->pid); /* leader first */
	pid_t tids[64];
	size_t n = list_tasks(c->pid, tids, 64);
	ck_assert_uint_eq(n, 6);
	for (size_t i = 0; i < n; i++) {
		ck_assert(held(f, tids[i]));
		ck_assert_int_eq(task_state(c->pid, tids[i]), 't'); /* ptrace stop, not 'T' (SIGSTOP) */
	}
	for (size_t i = 0; i < ml_freeze_count(f); i++) {
		ck_assert_int_eq(ml_freeze_stop_kind(f, i), ML_FREEZE_INTERRUPTED);
		struct user_regs_struct regs;
		ck_assert_int_eq(ml_freeze_regset(f, i, NT_PRSTATUS, &regs, sizeof(regs)), sizeof(regs));
		ck_assert_uint_ne(regs.rip, 0);
		ck_assert_uint_ne(regs.rsp, 0);
		unsigned char fp[512];
		ck_assert_int_eq(ml_freeze_regset(f, i, NT_FPREGSET, fp, sizeof(fp)), 512);
		static unsigned char xs[16384];
		ssize_t xl = ml_freeze_regset(f, i, 0x202 /* NT_X86_XSTATE */, xs, sizeof(xs));
		ck_assert_int_ge(xl, 576); /* legacy area + header at least */
	}
	ck_assert_int_eq(ml_freeze_regset(f, 99, NT_PRSTATUS, tids, sizeof(tids)), -ERANGE);
	ck_assert_int_eq(ml_freeze_release(f), 0);
	ck_assert_int_eq(ml_freeze_release(f), 0);
	ml_freeze_free(f);
	/* Running again, untouched: it answers, saw no EINTR and no SIGCONT. */
	assert_quiet(c);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_ne(task_state(c->pid, tids[i]), 't');
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(catches_threads_created_during_freeze)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "spawn_start");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	for (int round = 0; round < 5; round++) {
		ml_freeze *f;
		ck_assert_int_eq(ml_freeze_start(p, NULL, &f), 0);
		pid_t tids[1024];
		size_t n = list_tasks(c->pid, tids, 1024);
		ck_assert_uint_eq(n, ml_freeze_count(f));
		for (size_t i = 0; i < n; i++) {
			ck_assert_msg(held(f, tids[i]), "thread %d not held", (int)tids[i]);
			ck_assert_int_eq(task_state(c->pid, tids[i]), 't');
		}
		/* Frozen means frozen: the thread count does not move. */
		ck_assert_uint_eq(list_tasks(c->pid, tids, 1024), n);
		ml_freeze_free(f);
	}
	const char *s = mlt_cmd_ok(c, "spawn_stop");
	ck_assert_uint_gt(mlt_kv(s, "made"), 2);
	assert_quiet(c);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Forks a holder process that freezes @pid and reports on @fd, then waits to be killed. */
static pid_t fork_holder(pid_t pid)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t h = fork();
	ck_assert_int_ge(h, 0);
	if (h == 0) {
		close(pfd[0]);
		ml_proc *p;
		ml_freeze *f;
		int r = ml_proc_open(pid, &p);
		if (r == 0)
			r = ml_freeze_start(p, NULL, &f);
		char c = r == 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(pfd[1]);
	char c = 0;
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	ck_assert_int_eq(c, 'y');
	return h;
}

START_TEST(killed_holder_leaves_target_running)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 3");
	pid_t h = fork_holder(c->pid);
	pid_t tids[64];
	size_t n = list_tasks(c->pid, tids, 64);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(task_state(c->pid, tids[i]), 't');
	/* A second tracer is refused as busy, not as a permission problem. */
	ml_proc *p;
	ml_freeze *f;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), -EBUSY);
	ml_proc_free(p);

	kill(h, SIGKILL);
	int st;
	ck_assert_int_eq(waitpid(h, &st, 0), h);
	/* The kernel detached it: the target answers by itself. */
	mlt_cmd_ok(c, "pid");
	assert_quiet(c);
	/* Its parent (us) was told of no stop or continue: no job control happened. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)c->pid, &si, WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT), 0);
	ck_assert_int_eq(si.si_pid, 0);
	mlt_child_free(c);
}
END_TEST

/* The leader thread has exited (a zombie listed first in task/, which PTRACE_SEIZE refuses
 * with EPERM) while the others run: it is passed over as gone, and the scan that met it
 * does not fail with what errno was left holding. */
START_TEST(exited_leader_is_passed_over)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	pid_t t1 = (pid_t)mlt_kv(mlt_cmd_ok(c, "thread"), "tid");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	pid_t t2 = (pid_t)mlt_kv(mlt_cmd_ok(c, "leader_exit"), "tid");
	ck_assert_int_eq(task_state(c->pid, c->pid), 'Z');
	for (int round = 0; round < 3; round++) {
		ml_freeze *f = NULL;
		int r = ml_freeze_start(p, NULL, &f);
		ck_assert_msg(r == 0, "round %d: freeze failed: %s", round, ml_strerror(r));
		ck_assert_uint_eq(ml_freeze_count(f), 2);
		ck_assert(held(f, t1) && held(f, t2) && !held(f, c->pid));
		ck_assert_int_eq(task_state(c->pid, t2), 't');
		ml_freeze_free(f);
		assert_none_left_held(c->pid, 0, "after release");
		mlt_cmd_ok(c, "pid");
	}
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Threads that live for an instant: the scan lists some that are gone when it seizes them
 * (ESRCH) and meets some already attached at clone(); neither may fail the freeze. */
START_TEST(threads_that_come_and_go_never_fail_it)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	for (int i = 0; i < 3; i++)
		mlt_cmd_ok(c, "churn");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t m0 = mlt_kv(mlt_cmd_ok(c, "churned"), "made");
	for (int round = 0; round < 60; round++) {
		ml_freeze *f = NULL;
		int r = ml_freeze_start(p, NULL, &f);
		ck_assert_msg(r == 0, "round %d: freeze failed: %s", round, ml_strerror(r));
		pid_t tids[1024];
		size_t n = list_tasks(c->pid, tids, 1024);
		for (size_t i = 0; i < n; i++) {
			/* A thread that has finished exiting (state X or Z: the freeze's seize was
			 * refused and it was passed over as gone) can still be listed for an
			 * instant, until the kernel unlinks it; by now it may be gone ('?'). Any
			 * other thread not held is one that runs on. */
			if (held(f, tids[i]))
				continue;
			char st = task_state(c->pid, tids[i]);
			ck_assert_msg(st == 'X' || st == 'Z' || st == '?', "round %d: thread %d not held, state %c",
				      round, (int)tids[i], st);
		}
		ml_freeze_free(f);
	}
	assert_none_left_held(c->pid, 0, "after release");
	/* It ran on between the freezes. */
	ck_assert_uint_gt(mlt_kv(mlt_cmd_ok(c, "churned"), "made"), m0);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* The thread the next scans of task/ pass over as if the listing had not shown it, and for
 * how many more scans (-1: all), through lib/freeze.c's test hook: a listing of task/
 * stops short when a thread is unlinked under it, and the thread it misses is the newest. */
static pid_t unlisted_tid;
static int unlisted_scans;
bool ml__test_freeze_unlisted(pid_t tid);
bool ml__test_freeze_unlisted(pid_t tid)
{
	if (tid != unlisted_tid || unlisted_scans == 0)
		return false;
	if (unlisted_scans > 0)
		unlisted_scans--;
	return true;
}

/* The newest thread of @pid (the highest TID): the one a short listing leaves out. */
static pid_t newest_thread(pid_t pid)
{
	pid_t tids[64], hi = 0;
	size_t n = list_tasks(pid, tids, 64);
	for (size_t i = 0; i < n; i++)
		if (tids[i] != pid && tids[i] > hi)
			hi = tids[i];
	ck_assert_int_gt(hi, 0);
	return hi;
}

/* Two scans in a row miss a running thread: the process's own count still has it, so the
 * freeze scans on until it is held, not done with it running. */
START_TEST(a_thread_the_listing_misses_is_held_all_the_same)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 3");
	unlisted_tid = newest_thread(c->pid);
	unlisted_scans = 2;
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_freeze *f;
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), 0);
	ck_assert_int_eq(unlisted_scans, 0); /* both scans did pass it over */
	ck_assert_msg(held(f, unlisted_tid), "thread %d runs on", (int)unlisted_tid);
	ck_assert_uint_eq(ml_freeze_count(f), 4);
	ck_assert_int_eq(task_state(c->pid, unlisted_tid), 't');
	ml_freeze_free(f);
	assert_none_left_held(c->pid, 0, "after release");
	assert_quiet(c);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* A thread the count has and no listing ever shows cannot be held: the freeze fails at its
 * timeout, as for a thread that does not stop, and lets the others go. */
START_TEST(a_thread_no_listing_shows_fails_the_freeze)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 2");
	unlisted_tid = newest_thread(c->pid);
	unlisted_scans = -1;
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_freeze_opts o = { .sz = sizeof(o), .timeout_ns = 200000000 };
	ml_freeze *f = NULL;
	ck_assert_int_eq(ml_freeze_start(p, &o, &f), -ETIMEDOUT);
	ck_assert_ptr_null(f);
	assert_none_left_held(c->pid, 0, "after the failure");
	assert_quiet(c);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* A process that PTRACE_SEIZEs @tid, reports, waits for a byte (or EOF) on its stdin
 * pipe, then interrupts, waits for and detaches it: exit 0 if all of that worked. */
static pid_t fork_tracer(pid_t tid, int *go)
{
	int rep[2], cmd[2];
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(cmd), 0);
	pid_t t = fork();
	ck_assert_int_ge(t, 0);
	if (t == 0) {
		close(rep[0]);
		close(cmd[1]);
		char c = ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0 ? 'y' : 'n';
		if (write(rep[1], &c, 1) != 1 || c != 'y')
			_exit(2);
		if (read(cmd[0], &c, 1) < 0)
			_exit(3);
		int st;
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 || waitpid(tid, &st, __WALL) != tid ||
		    !WIFSTOPPED(st) || ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0)
			_exit(4);
		_exit(0);
	}
	close(rep[1]);
	close(cmd[0]);
	char c = 0;
	ck_assert_int_eq(read(rep[0], &c, 1), 1);
	close(rep[0]);
	ck_assert_int_eq(c, 'y');
	*go = cmd[1];
	return t;
}

/* A thread another process traces, met after others were seized and interrupted: -EBUSY,
 * and those others are let go at once (not left to stop, traced, until we exit). */
START_TEST(busy_thread_releases_the_threads_seized_before_it)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 3");
	pid_t tids[64];
	size_t n = list_tasks(c->pid, tids, 64);
	ck_assert_uint_eq(n, 4);
	/* The scan seizes in task/'s order (the leader, then by creation): the last one is met
	 * after the other three. */
	pid_t busy = tids[n - 1];
	ck_assert_int_ne(busy, c->pid);
	int go;
	pid_t tracer = fork_tracer(busy, &go);
	ck_assert_int_eq(tracer_of(c->pid, busy), tracer);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_freeze *f = NULL;
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), -EBUSY);
	ck_assert_ptr_null(f);
	/* While we live: none of the others is traced by us or stopped. */
	for (size_t i = 0; i < n; i++) {
		if (tids[i] == busy)
			continue;
		ck_assert_msg(tracer_of(c->pid, tids[i]) == 0, "thread %d (%zu of %zu in task/) is traced by %ld", (int)tids[i],
			      i + 1, n, tracer_of(c->pid, tids[i]));
	}
	assert_none_left_held(c->pid, busy, "after -EBUSY");
	/* The tracer lets its thread go; everything runs, untouched. */
	ck_assert_int_eq(write(go, "x", 1), 1);
	close(go);
	int st;
	ck_assert_int_eq(waitpid(tracer, &st, 0), tracer);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "tracer status %#x", st);
	ck_assert_int_eq(tracer_of(c->pid, busy), 0);
	mlt_cmd_ok(c, "pid");
	assert_quiet(c);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* What freeze.h says of the one thread a failed freeze cannot let go: one in uninterruptible
 * sleep all along (a vfork() parent waits for its child so). The others are let go; it
 * stays attached, stops when it leaves the kernel, and the next freeze takes it back. */
START_TEST(thread_in_uninterruptible_sleep_stays_attached_until_refrozen)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	const char *a = mlt_cmd_ok(c, "vfork_wait");
	pid_t vch = (pid_t)mlt_kv(a, "child"), vparent = (pid_t)mlt_kv(a, "tid");
	ck_assert_int_eq(task_state(c->pid, vparent), 'D');
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ML_OPTS(ml_freeze_opts, o, .timeout_ns = 100000000);
	ml_freeze *f = NULL;
	ck_assert_int_eq(ml_freeze_start(p, &o, &f), -ETIMEDOUT);
	ck_assert_int_eq(tracer_of(c->pid, vparent), getpid());
	ck_assert_int_eq(task_state(c->pid, vparent), 'D');
	assert_none_left_held(c->pid, vparent, "after -ETIMEDOUT");
	mlt_cmd_ok(c, "pid");
	/* Its child gone, it leaves the kernel into the stop it was asked for, and stays. */
	ck_assert_int_eq(kill(vch, SIGKILL), 0);
	char st = 0;
	for (int t = 0; t < 100000 && (st = task_state(c->pid, vparent)) != 't'; t++)
		sched_yield();
	ck_assert_int_eq(st, 't');
	ck_assert_int_eq(tracer_of(c->pid, vparent), getpid());
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), 0);
	ck_assert(held(f, vparent));
	ml_freeze_free(f);
	assert_none_left_held(c->pid, 0, "after the second freeze");
	mlt_cmd_ok(c, "pid");
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(gone_process_is_esrch)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	mlt_cmd(c, "exit 0");
	mlt_wait(c);
	ml_freeze *f = NULL;
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), -ESRCH);
	ck_assert_ptr_null(f);
	ml_proc_free(p);
	mlt_child_free(c);
	ck_assert_int_eq(ml_freeze_start(NULL, NULL, &f), -EINVAL);
	ml_freeze_free(NULL);
}
END_TEST

START_TEST(group_stopped_target_stays_stopped)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "threads 2");
	kill(c->pid, SIGSTOP);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)c->pid, &si, WSTOPPED), 0);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_freeze *f;
	ck_assert_int_eq(ml_freeze_start(p, NULL, &f), 0);
	ck_assert_uint_eq(ml_freeze_count(f), 3);
	ck_assert_int_eq(ml_freeze_stop_kind(f, 0), ML_FREEZE_GROUP_STOPPED);
	ck_assert_int_eq(ml_freeze_signal(f, 0), SIGSTOP);
	ml_freeze_free(f);
	/* Back in job-control stop after release (detach wakes each thread to re-enter it,
	 * so it may show 'R' for an instant); SIGCONT then wakes it as usual. */
	char st = 0;
	for (int i = 0; i < 200000 && (st = task_state(c->pid, c->pid)) != 'T'; i++)
		sched_yield();
	ck_assert_int_eq(st, 'T');
	kill(c->pid, SIGCONT);
	mlt_cmd_ok(c, "pid");
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("freeze");
	TCase *tc = tcase_create("freeze");
	tcase_add_test(tc, holds_every_thread_and_reads_registers);
	tcase_add_test(tc, catches_threads_created_during_freeze);
	tcase_add_test(tc, killed_holder_leaves_target_running);
	tcase_add_test(tc, exited_leader_is_passed_over);
	tcase_add_test(tc, threads_that_come_and_go_never_fail_it);
	tcase_add_test(tc, a_thread_the_listing_misses_is_held_all_the_same);
	tcase_add_test(tc, a_thread_no_listing_shows_fails_the_freeze);
	tcase_add_test(tc, busy_thread_releases_the_threads_seized_before_it);
	tcase_add_test(tc, thread_in_uninterruptible_sleep_stays_attached_until_refrozen);
	tcase_add_test(tc, gone_process_is_esrch);
	tcase_add_test(tc, group_stopped_target_stays_stopped);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
