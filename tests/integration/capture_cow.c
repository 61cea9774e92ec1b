/* lib/capture.c's copy-on-write mode (ML_CAPTURE_FREEZE_COW) against real children: one instant, nothing seen by the target, refusals and fallbacks, our death at every step, gdb.
 * Also covers ml__freeze_fork() (lib/freeze.c) and lib/inject.c as the capture drives them. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>
#include <memlens/capture.h>
#include <memlens/freeze.h>
#include <memlens/snapshot.h>

#include "internal/inject.h"
#include "mltest.h"

#define PAGE 4096u

static char tmpdir[256];

static void make_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "ml-dumpcow-"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }

typedef struct cowee {
	mlt_child *c;
	uint64_t log, dontfork, wipe, gen;
	unsigned npages;
} cowee;

static void cowee_start(cowee *w, bool run)
{
	w->c = mlt_spawn("ml_cowee", NULL);
	const char *s = mlt_cmd_ok(w->c, "setup");
	w->log = mlt_kv(s, "log");
	w->dontfork = mlt_kv(s, "dontfork");
	w->wipe = mlt_kv(s, "wipe");
	w->gen = mlt_kv(s, "gen");
	w->npages = (unsigned)mlt_kv(s, "npages");
	if (run)
		mlt_cmd_ok(w->c, "run");
}

static int capture(pid_t pid, const char *path, ml_capture_freeze fz, bool fallback, bool elf, ml_capture_result *res)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(pid, &p), 0);
	ML_OPTS(ml_capture_opts, o, .freeze = fz, .cow_fallback = fallback, .elf = elf);
	int r = ml_capture(p, path, &o, res);
	ml_proc_free(p);
	return r;
}

/* Generation boundaries among the stamped pages of a snapshot: 0 or 1 for one instant. */
static unsigned boundaries(const char *snap, const cowee *w)
{
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	unsigned n = 0;
	uint64_t prev = 0;
	for (unsigned i = 0; i < w->npages; i++) {
		uint64_t g;
		ck_assert_int_eq(ml_snapshot_read(s, w->gen + (uint64_t)i * PAGE, &g, 8), 8);
		ck_assert_uint_ne(g, 0);
		if (i && g != prev)
			n++;
		prev = g;
	}
	ml_snapshot_free(s);
	return n;
}

/* Processes whose parent is @pid, and how many of them are not zombies. */
static unsigned children_of(pid_t pid, unsigned *live)
{
	DIR *d = opendir("/proc");
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	unsigned n = 0;
	*live = 0;
	while ((de = readdir(d))) {
		char path[300], buf[512];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char *rp = strrchr(buf, ')');
		char state;
		int ppid;
		if (!rp || sscanf(rp + 2, "%c %d", &state, &ppid) != 2 || ppid != pid)
			continue;
		n++;
		*live += state != 'Z' && state != 'X';
	}
	closedir(d);
	return n;
}

static long tracer_of(pid_t pid)
{
	return mlt_status_kb(pid, "TracerPid");
}

/* No thread of @pid is traced by us or in a ptrace stop (state 't'). */
static void assert_none_left_held(pid_t pid, const char *when)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[384], buf[4096];
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* ended */
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		const char *tp = strstr(buf, "TracerPid:"), *st = strstr(buf, "State:");
		if (!tp || !st)
			continue; /* ended while it was read */
		long tr = strtol(tp + 10, NULL, 10);
		st += 6;
		while (*st == '\t' || *st == ' ')
			st++;
		ck_assert_msg(tr != getpid(), "%s: thread %s is still traced by us (state %c)", when, de->d_name, *st);
		ck_assert_msg(*st != 't', "%s: thread %s is in a ptrace stop (tracer %ld)", when, de->d_name, tr);
	}
	closedir(d);
}

START_TEST(one_instant_and_unseen)
{
	cowee w;
	cowee_start(&w, true);
	make_tmpdir();
	char snap[400];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	ml_capture_result res;
	for (int i = 0; i < 5; i++) {
		unlink(snap);
		int r = capture(w.c->pid, snap, ML_CAPTURE_FREEZE_COW, false, false, &res);
		ck_assert_msg(r == 0, "cow capture failed: %s (%s)", ml_strerror(r), ml_error_detail());
		ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_COW);
		ck_assert_str_eq(res.why_not_cow, "");
		unsigned b = boundaries(snap, &w);
		printf("cow %d: stopped %.2f ms, %u generation boundaries, %llu bytes copied, %llu held\n", i,
		       res.stop_ns / 1e6, b, (unsigned long long)res.bytes_copied, (unsigned long long)res.bytes_held);
		ck_assert_uint_le(b, 1);
		/* The mappings a fork leaves out or wipes were read from the target, not as zeros. */
		ml_snapshot *s;
		ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
		unsigned char df[4 * PAGE], wp[4 * PAGE];
		ck_assert_int_eq(ml_snapshot_read(s, w.dontfork, df, sizeof(df)), (ssize_t)sizeof(df));
		ck_assert_int_eq(ml_snapshot_read(s, w.wipe, wp, sizeof(wp)), (ssize_t)sizeof(wp));
		for (size_t k = 0; k < sizeof(df); k++) {
			ck_assert_uint_eq(df[k], (unsigned char)(0x5a ^ k));
			ck_assert_uint_eq(wp[k], (unsigned char)(0xc3 ^ (k * 7)));
		}
		ck_assert_str_eq(ml_snapshot_field(s, "freeze"), "cow");
		ml_snapshot_free(s);
		ck_assert_uint_ge(res.bytes_held, 8 * PAGE);
		/* Its copy is gone and reaped: no child of its own is left, live or zombie. */
		unsigned live, all = children_of(w.c->pid, &live);
		ck_assert_uint_eq(all, 0);
		ck_assert_int_eq(tracer_of(w.c->pid), 0);
	}
	/* The ptrace freeze is one instant too; the unfrozen read is the smeared reference. */
	unlink(snap);
	ck_assert_int_eq(capture(w.c->pid, snap, ML_CAPTURE_FREEZE_PTRACE, false, false, &res), 0);
	ck_assert_uint_le(boundaries(snap, &w), 1);
	unlink(snap);
	ck_assert_int_eq(capture(w.c->pid, snap, ML_CAPTURE_FREEZE_NONE, false, false, &res), 0);
	printf("freeze=none: %u generation boundaries (smeared reference)\n", boundaries(snap, &w));
	/* The copy never ran its code (it would have logged its own pid in the shared log), no
	 * SIGCHLD reached it, and it ran on meanwhile. */
	const char *st = mlt_cmd_ok(w.c, "stats");
	ck_assert_uint_eq(mlt_kv(st, "sigchld"), 0);
	ck_assert_uint_eq(mlt_kv(st, "otherpid"), 0);
	ck_assert_uint_gt(mlt_kv(st, "turns"), 0);
	rm_tmpdir();
	mlt_child_free(w.c);
}
END_TEST

/* --freeze=cow on @w is refused, saying @why, and leaves no file; with the fallback the
 * snapshot is taken under the ptrace freeze, and says so; no copy is left. */
static void cow_refused_then_ptrace(const cowee *w, const char *why)
{
	make_tmpdir();
	char snap[400];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	ml_capture_result res;
	memset(&res, 0, sizeof(res));
	int r = capture(w->c->pid, snap, ML_CAPTURE_FREEZE_COW, false, false, &res);
	ck_assert_msg(r == -EOPNOTSUPP, "cow (%s): %d", why, r);
	ck_assert_msg(strstr(ml_error_detail(), why), "error does not say why: %s", ml_error_detail());
	ck_assert_int_eq(access(snap, F_OK), -1);
	r = capture(w->c->pid, snap, ML_CAPTURE_FREEZE_COW, true, false, &res);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_PTRACE);
	ck_assert_msg(strstr(res.why_not_cow, why), "why_not_cow: %s", res.why_not_cow);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	ck_assert_str_eq(ml_snapshot_field(s, "freeze"), "ptrace");
	ml_snapshot_free(s);
	unsigned live;
	ck_assert_uint_eq(children_of(w->c->pid, &live), 0);
}

START_TEST(seccomp_refuses_or_falls_back)
{
	cowee w;
	cowee_start(&w, false);
	const char *a = mlt_cmd(w.c, "seccomp");
	if (strncmp(a, "ok", 2))
		mlt_skip("cannot install a seccomp filter here: %s", a);
	cow_refused_then_ptrace(&w, "seccomp");
	/* what the command says: tests/cli/dump_cow.sh */
	rm_tmpdir();
	mlt_child_free(w.c);
}
END_TEST

/* The library's test hook: the dumper SIGKILLs itself at one step of the injection; or,
 * when the final reaping has just seized thread clone_tid (step 20, before it interrupts
 * it), it lets that thread, which keeps making threads, go through one clone(). */
static int die_at = -1;
static pid_t clone_tid;
static mlt_child *clone_child;
static int clone_seen; /* 1: it stopped (at a clone event); 2: it made threads without stopping */

static uint64_t churned(mlt_child *c) { return mlt_kv(mlt_cmd_ok(c, "churned"), "made"); }

static void let_it_clone(pid_t tid)
{
	uint64_t m0 = churned(clone_child);
	/* Bounded: the test then fails on clone_seen == 0 instead of hanging. */
	for (int i = 0; i < 20000 && !clone_seen; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid == tid)
			clone_seen = 1; /* left for the library to take */
		else if (churned(clone_child) >= m0 + 2) /* one clone began and ended after the seize */
			clone_seen = 2;
		else
			sched_yield();
	}
}

void ml__test_hook(int step, pid_t tid);
void ml__test_hook(int step, pid_t tid)
{
	if (step == die_at)
		kill(getpid(), SIGKILL);
	if (step == 20 && clone_tid && tid == clone_tid) {
		clone_tid = 0; /* once */
		let_it_clone(tid);
	}
}

/* A dumper killed at each step of the injection (0 registers read, 1-10) and of the final
 * reaping (20, 21): the target runs on untraced (its interrupted read() restarts: it still
 * answers), its copy is never left running, and no SIGCHLD or foreign pid reaches it. */
START_TEST(killed_at_every_step)
{
	cowee w;
	cowee_start(&w, true);
	make_tmpdir();
	/* A zombie of its own with exit signal 0, not a copy: no dump may reap it. */
	pid_t own = (pid_t)mlt_cmd_u64(w.c, "child", "zombie0");
	static const int steps[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char out[400];
		snprintf(out, sizeof(out), "%s/k%d.mlcore", tmpdir, steps[i]);
		pid_t d = fork();
		ck_assert_int_ge(d, 0);
		if (d == 0) {
			die_at = steps[i];
			ml_capture_result res;
			int r = capture(w.c->pid, out, ML_CAPTURE_FREEZE_COW, false, false, &res);
			if (r < 0)
				fprintf(stderr, "step %d: %s\n", steps[i], ml_error_detail());
			_exit(r == 0 ? 0 : 1);
		}
		int rc;
		ck_assert_int_eq(waitpid(d, &rc, 0), d);
		ck_assert_msg(WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL, "step %d: status %#x", steps[i], rc);
		ck_assert_int_eq(access(out, F_OK), -1);
		uint64_t t0 = mlt_kv(mlt_cmd_ok(w.c, "stats"), "turns");
		const char *st = NULL;
		for (int t = 0; t < 200; t++) { /* its worker runs on (given a CPU: the machine may be busy) */
			st = mlt_cmd_ok(w.c, "stats");
			if (mlt_kv(st, "turns") > t0)
				break;
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
		ck_assert_msg(mlt_kv(st, "turns") > t0, "step %d: its worker stopped", steps[i]);
		ck_assert_uint_eq(mlt_kv(st, "sigchld"), 0);
		ck_assert_uint_eq(mlt_kv(st, "otherpid"), 0);
		/* It answered, so the thread the call was injected in is back in its own code;
		 * within 2 s every child it has is a zombie (the copy ended by itself or was killed). */
		unsigned live = 1, all = 0;
		for (int t = 0; t < 200 && live; t++) {
			all = children_of(w.c->pid, &live);
			if (live) {
				struct timespec ts = { 0, 10000000 };
				nanosleep(&ts, NULL);
			}
		}
		ck_assert_msg(live == 0, "step %d: %u live children of the target after 2 s", steps[i], live);
		ck_assert_int_eq(tracer_of(w.c->pid), 0);
		printf("killed at step %d: target runs, untraced; %u zombie(s) of its own so far\n", steps[i], all);
	}
	/* The next cow dump reaps every copy (they are known by their marks), and nothing else. */
	char out[400];
	snprintf(out, sizeof(out), "%s/after.mlcore", tmpdir);
	ml_capture_result res;
	ck_assert_int_eq(capture(w.c->pid, out, ML_CAPTURE_FREEZE_COW, false, false, &res), 0);
	unsigned live, all = children_of(w.c->pid, &live);
	ck_assert_msg(all == 1, "%u children of the target after a cow dump (its own zombie only)", all);
	char path[64], st[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)own);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "the target's own zombie %d was reaped by the dump", (int)own);
	ck_assert_ptr_nonnull(fgets(st, sizeof(st), f));
	fclose(f);
	ck_assert_msg(strstr(st, ") Z "), "%s", st);
	ck_assert_uint_eq(mlt_kv(mlt_cmd_ok(w.c, "stats"), "sigchld"), 0);
	rm_tmpdir();
	mlt_child_free(w.c);
}
END_TEST

/* The final reaping seizes a thread (the leader first) for a moment. One that is inside
 * clone() then must not make its new thread ours: that thread would stay stopped, attached
 * to us, until we exit (and its creator waits for it in pthread_join meanwhile). */
START_TEST(reap_leaves_no_thread_born_meanwhile_attached)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	mlt_cmd_ok(c, "leader_churn");
	make_tmpdir();
	char snap[400];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	clone_child = c;
	clone_tid = c->pid;
	clone_seen = 0;
	ml_capture_result res;
	int r = capture(c->pid, snap, ML_CAPTURE_FREEZE_COW, false, false, &res);
	ck_assert_msg(r == 0, "cow capture failed: %s (%s)", ml_strerror(r), ml_error_detail());
	ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_COW);
	ck_assert_msg(clone_tid == 0, "the reaping did not seize the leader");
	ck_assert_msg(clone_seen, "the leader made no thread while seized for the reaping");
	printf("reaping: the leader %s\n", clone_seen == 1 ? "stopped at its clone" : "cloned without stopping");
	assert_none_left_held(c->pid, "after the cow capture");
	unsigned live;
	ck_assert_uint_eq(children_of(c->pid, &live), 0);
	/* It goes on making threads (a thread held from birth would keep its pthread_join waiting). */
	uint64_t m = churned(c);
	for (int t = 0; t < 200 && churned(c) == m; t++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_gt(churned(c), m);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* The same without the hook's help: cow captures of a process whose threads keep making
 * threads leave none of them attached to us or stopped. (The window, a seize landing as
 * the thread enters clone(), is narrow: this guards against regressions, the test above
 * is the one that fails without the fix.) */
START_TEST(threads_that_come_and_go_are_left_untraced)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	mlt_cmd_ok(c, "leader_churn");
	mlt_cmd_ok(c, "churn");
	mlt_cmd_ok(c, "churn");
	make_tmpdir();
	char snap[400];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	/* 30 captures take 1.5 s here; under AddressSanitizer the child keeps the memory of the
	 * threads it ended (its RSS grew to 190 MB in 4 s) and each capture copies it: 3 s each. */
#ifdef __SANITIZE_ADDRESS__
	const int captures = 5;
#else
	const int captures = 30;
#endif
	for (int i = 0; i < captures; i++) {
		unlink(snap);
		ml_capture_result res;
		int r = capture(c->pid, snap, ML_CAPTURE_FREEZE_COW, false, false, &res);
		ck_assert_msg(r == 0, "capture %d failed: %s (%s)", i, ml_strerror(r), ml_error_detail());
		ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_COW);
		char when[64];
		snprintf(when, sizeof(when), "after cow capture %d", i);
		assert_none_left_held(c->pid, when);
		unsigned live;
		ck_assert_uint_eq(children_of(c->pid, &live), 0);
	}
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* A cowee with a zombie child of its own making (*z), a handle on it and its gadgets: what
 * ml__reap_in() takes, without a capture. */
static void reap_setup(cowee *w, pid_t *z, ml_proc **p, ml__gadgets *g)
{
	cowee_start(w, false);
	*z = (pid_t)mlt_cmd_u64(w->c, "child", "zombie0");
	ck_assert_int_eq(ml_proc_open(w->c->pid, p), 0);
	const char *why = NULL;
	ck_assert_msg(ml__gadgets_find(*p, g, &why) == 0, "%s", why);
}

/* The copy's zombie is reaped by a thread of the target; an exited leader (a zombie that
 * PTRACE_SEIZE refuses with EPERM, listed first) is passed over for the next thread. The
 * leader can only exit between the fork and the reaping, so the reaping is called here
 * directly on a zombie the target made itself. */
START_TEST(reap_passes_over_an_exited_leader)
{
	cowee w;
	pid_t z;
	ml_proc *p;
	ml__gadgets g;
	reap_setup(&w, &z, &p, &g);
	mlt_cmd_ok(w.c, "leader_exit");
	unsigned live;
	ck_assert_uint_eq(children_of(w.c->pid, &live), 1);
	int r = ml__reap_in(p, z, &g);
	ck_assert_msg(r == 0, "reaping with an exited leader: %s", ml_strerror(r));
	ck_assert_uint_eq(children_of(w.c->pid, &live), 0);
	assert_none_left_held(w.c->pid, "after the reaping");
	mlt_cmd_ok(w.c, "pid");
	ck_assert_uint_eq(mlt_kv(mlt_cmd_ok(w.c, "stats"), "sigchld"), 0);
	ml_proc_free(p);
	mlt_child_free(w.c);
}
END_TEST

/* A filter installed after the copy was made (a sandbox that locks down once it has started)
 * is seen at the reaping: no call is injected into a thread it could kill or trap. The
 * copy's zombie then stays, and the error says why. */
START_TEST(reap_refuses_a_filter_installed_after_the_fork)
{
	cowee w;
	pid_t z;
	ml_proc *p;
	ml__gadgets g;
	reap_setup(&w, &z, &p, &g);
	const char *a = mlt_cmd(w.c, "seccomp");
	if (strncmp(a, "ok", 2))
		mlt_skip("cannot install a seccomp filter here: %s", a);
	unsigned live;
	ck_assert_uint_eq(children_of(w.c->pid, &live), 1);
	int r = ml__reap_in(p, z, &g);
	ck_assert_msg(r == -EOPNOTSUPP, "reaping under a filter: %d (%s)", r, ml_strerror(r));
	ck_assert_uint_eq(children_of(w.c->pid, &live), 1);
	assert_none_left_held(w.c->pid, "after the refused reaping");
	mlt_cmd_ok(w.c, "pid");
	ml_proc_free(p);
	mlt_child_free(w.c);
}
END_TEST

/* Syscall user dispatch's mode in @pid's main thread, read as its tracer for a moment. */
static uint64_t sud_mode(pid_t pid)
{
	struct { uint64_t mode, selector, offset, len; } sud = { 99, 0, 0, 0 };
	ck_assert_int_eq(ptrace((enum __ptrace_request)0x4206, pid, NULL, NULL), 0); /* SEIZE */
	ck_assert_int_eq(ptrace((enum __ptrace_request)0x4207, pid, NULL, NULL), 0); /* INTERRUPT */
	int st;
	ck_assert_int_eq(waitpid(pid, &st, __WALL), pid);
	/* PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG */
	ck_assert_int_eq(ptrace((enum __ptrace_request)0x4211, pid, (void *)sizeof(sud), &sud), 0);
	ck_assert_int_eq(ptrace(PTRACE_DETACH, pid, NULL, NULL), 0);
	return sud.mode;
}

/* Syscall user dispatch (Wine): an injected call from outside its region would raise SIGSYS,
 * forced while every signal is blocked, which resets the target's handler for good. A
 * thread with it on takes no injection: cow is refused (or falls back to ptrace). Only a
 * kernel with PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG (6.4) can tell. */
START_TEST(syscall_user_dispatch_refuses_or_falls_back)
{
	struct utsname u;
	unsigned maj = 0, min = 0;
	ck_assert_int_eq(uname(&u), 0);
	sscanf(u.release, "%u.%u", &maj, &min);
	if (maj < 6 || (maj == 6 && min < 4))
		mlt_skip("kernel %s cannot tell a tracer about syscall user dispatch (6.4 can)", u.release);
	cowee w;
	cowee_start(&w, false);
	const char *a = mlt_cmd(w.c, "sud");
	if (strncmp(a, "ok", 2))
		mlt_skip("cannot turn on syscall user dispatch here: %s", a);
	ck_assert_uint_eq(sud_mode(w.c->pid), 1); /* PR_SYS_DISPATCH_ON */
	cow_refused_then_ptrace(&w, "syscall user dispatch");
	ck_assert_uint_eq(sud_mode(w.c->pid), 1); /* the target's setting as it was */
	mlt_cmd_ok(w.c, "pid");
	rm_tmpdir();
	mlt_child_free(w.c);
}
END_TEST

/* Every thread's frames as gdb shows them ("#N ..." lines, thread headers dropped). */
static char *frames(const char *exe, const char *core)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "gdb -batch -nx -ex 'thread apply all bt' '%s' '%s' 2>/dev/null | grep '^#'", exe, core);
	int rc;
	return mlt_run(cmd, &rc);
}

START_TEST(gdb_backtraces_as_ptrace)
{
	int rc;
	char *v = mlt_run("gdb --version 2>/dev/null | head -1", &rc);
	bool have_gdb = rc == 0 && v && *v;
	free(v);
	if (!have_gdb)
		mlt_skip("gdb is not installed");
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	mlt_cmd_ok(c, "setup");
	mlt_cmd_ok(c, "threads 3");
	/* A first freeze moves the sleeping thread into restart_syscall for good. */
	ml_proc *p0;
	ml_freeze *f0;
	ck_assert_int_eq(ml_proc_open(c->pid, &p0), 0);
	ck_assert_int_eq(ml_freeze_start(p0, NULL, &f0), 0);
	ml_freeze_free(f0);
	ml_proc_free(p0);
	mlt_wait_parked(c->pid);
	make_tmpdir();
	char a[400], b[400];
	snprintf(a, sizeof(a), "%s/cow.core", tmpdir);
	snprintf(b, sizeof(b), "%s/ptrace.core", tmpdir);
	ml_capture_result res;
	ck_assert_int_eq(capture(c->pid, a, ML_CAPTURE_FREEZE_COW, false, true, &res), 0);
	ck_assert_int_eq(res.freeze, ML_CAPTURE_FREEZE_COW);
	ck_assert_uint_eq(res.threads, 4);
	mlt_wait_parked(c->pid);
	ck_assert_int_eq(capture(c->pid, b, ML_CAPTURE_FREEZE_PTRACE, false, true, &res), 0);
	char *exe = mlt_helper_path("ml_dumpee");
	char *fa = frames(exe, a), *fb = frames(exe, b);
	ck_assert_msg(strstr(fa, "dumpee_park_read") && strstr(fa, "dumpee_park_futex") &&
		      strstr(fa, "dumpee_park_sleep") && strstr(fa, "in main ()"),
		      "gdb backtraces of the cow core miss a thread:\n%s", fa);
	ck_assert_msg(!strcmp(fa, fb), "cow:\n%s\nptrace:\n%s", fa, fb);
	free(fa);
	free(fb);
	free(exe);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	mlt_skip_unless_may_trace_grandchildren();
	Suite *s = suite_create("capture_cow");
	TCase *tc = tcase_create("cow");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_instant_and_unseen);
	tcase_add_test(tc, seccomp_refuses_or_falls_back);
	tcase_add_test(tc, killed_at_every_step);
	tcase_add_test(tc, gdb_backtraces_as_ptrace);
	tcase_add_test(tc, reap_leaves_no_thread_born_meanwhile_attached);
	tcase_add_test(tc, threads_that_come_and_go_are_left_untraced);
	tcase_add_test(tc, reap_passes_over_an_exited_leader);
	tcase_add_test(tc, reap_refuses_a_filter_installed_after_the_fork);
	tcase_add_test(tc, syscall_user_dispatch_refuses_or_falls_back);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
