/* ml_freeze: stops every thread with PTRACE_SEIZE + PTRACE_INTERRUPT and lets them go with PTRACE_DETACH. */
#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal/freeze.h"
#include "internal/internal.h"
#include "internal/inject.h"
#include <sys/syscall.h>
#include <memlens/freeze.h>

/* glibc's <sys/ptrace.h> names these as enum constants; the kernel numbers are fixed. */
#define ML_PTRACE_SEIZE 0x4206
#define ML_PTRACE_INTERRUPT 0x4207
#define ML_PTRACE_GETREGSET 0x4204
#define ML_PTRACE_GETSIGINFO 0x4202
#define ML_PTRACE_GETEVENTMSG 0x4201
#define ML_PTRACE_DETACH 17
#define ML_PTRACE_O_TRACECLONE 0x8
#define ML_PTRACE_EVENT_CLONE 3
#define ML_PTRACE_EVENT_STOP 128
#define ERESTARTNOINTR_ 513

enum thr_state { T_WAITING, T_STOPPED, T_GONE };

typedef struct thr {
	pid_t tid;
	enum thr_state state;
	ml_freeze_stop kind;
	int sig;
	bool have_siginfo;
	siginfo_t si;
} thr;

struct ml_freeze {
	pid_t tgid;
	bool we_are_parent; /* then the leader's exit must be left for our own wait() */
	bool released;
	thr *t;
	size_t n, cap;
	uint64_t started_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long pt(int req, pid_t tid, void *addr, void *data)
{
	return ptrace((enum __ptrace_request)req, tid, addr, data);
}

static thr *find(ml_freeze *f, pid_t tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].tid == tid)
			return &f->t[i];
	return NULL;
}

/* Room for one more thread in the table, made before a thread can become ours (a seize, a
 * stop that may be a clone event): a thread attached but not recorded could not be let go. */
static int room(ml_freeze *f)
{
	return ml__grow(&f->t, &f->cap, f->n + 1, sizeof(*f->t)) < 0 ? -ENOMEM : 0;
}

/* Records a thread now ours, in the room made by room(). */
static void add(ml_freeze *f, pid_t tid, ml_freeze_stop kind)
{
	memset(&f->t[f->n], 0, sizeof(f->t[0]));
	f->t[f->n].tid = tid;
	f->t[f->n].state = T_WAITING;
	f->t[f->n].kind = kind;
	f->n++;
}

/* A field "Name:\tvalue" of a status text as a number; -1 if absent. */
static long status_field(const char *buf, const char *name)
{
	size_t nl = strlen(name);
	for (const char *s = buf; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (!strncmp(s, name, nl) && s[nl] == ':')
			return strtol(s + nl + 1, NULL, 10);
	return -1;
}

/* The state letter of a status text ("State:\tZ (zombie)": 'Z'); 0 if absent. */
static char status_state(const char *buf)
{
	for (const char *s = buf; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (!strncmp(s, "State:", 6)) {
			for (s += 6; *s == ' ' || *s == '\t'; s++)
				;
			return *s;
		}
	return 0;
}

/*
 * Why a PTRACE_SEIZE failed with EPERM. The kernel refuses a thread that has begun to exit
 * (its exit_state is set: a zombie thread still listed in task/) with EPERM, not ESRCH: that
 * one is gone. Otherwise someone else traces it, or we may not; or it is ours (attached at
 * clone()) but already exiting, so that interrupting it failed too.
 */
ml__seize_eperm ml__seize_eperm_verdict(const char *status, pid_t self)
{
	char state = status_state(status);
	long tracer = status_field(status, "TracerPid");
	if (tracer == self) /* exiting or not: its exit is ours to wait for */
		return ML__SEIZE_OURS;
	if (state == 'Z' || state == 'X')
		return ML__SEIZE_GONE;
	if (tracer > 0)
		return ML__SEIZE_BUSY;
	return ML__SEIZE_DENIED;
}

/*
 * Whether the kernel counts no thread that is not held. A listing of task/ is not a
 * snapshot: when a thread is unlinked while the listing stands on it, the listing ends
 * there, and a resumed one counts its place by position, so a thread unlinked before it
 * shifts the threads after it out of view. The newest threads are listed last, so the one
 * a scan misses can be the only one still running. The process's own count (Threads:,
 * unlinked threads are no longer in it) catches that: every thread it counts must be held,
 * or be the leader that exited while the others run (a zombie until they end, which can
 * never be held). A thread that is still exiting is counted until the kernel unlinks it:
 * "not yet" again, for an instant.
 */
int ml__freeze_all_counted(const char *status, size_t held, bool leader_held)
{
	long threads = status_field(status, "Threads");
	if (threads < 0)
		return -1;
	char state = status_state(status);
	size_t unholdable = !leader_held && (state == 'Z' || state == 'X');
	/* Fewer than held: a held thread died, which only a process that is going can do
	 * (the check after the scans tells). */
	return (size_t)threads <= held + unholdable;
}

/* ml__freeze_all_counted() on the process now: 1, 0, or -errno (-ESRCH: gone). A status
 * without the count leaves the scans to decide alone (1). */
static int all_counted(ml_freeze *f, const ml_proc *p)
{
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "status", &buf, &len);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	(void)len;
	size_t held = 0;
	bool leader_held = false;
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].state == T_STOPPED) {
			held++;
			leader_held |= f->t[i].tid == f->tgid;
		}
	int v = ml__freeze_all_counted(buf, held, leader_held);
	free(buf);
	return v < 0 ? 1 : v;
}

static int seize_denied(ml_freeze *f, const ml_proc *p, pid_t tid)
{
	char name[32], *buf;
	size_t len;
	snprintf(name, sizeof(name), "task/%d/status", (int)tid);
	int r = ml_proc_read_file(p, name, &buf, &len);
	if (r == -ENOENT || r == -ESRCH)
		return 0; /* exited meanwhile */
	if (r < 0)
		return -EPERM;
	(void)len;
	ml__seize_eperm v = ml__seize_eperm_verdict(buf, getpid());
	free(buf);
	switch (v) {
	case ML__SEIZE_GONE:
		return 0;
	case ML__SEIZE_OURS: /* its exit is ours to wait for, like any held thread's */
		add(f, tid, ML_FREEZE_NEW_THREAD);
		return 0;
	case ML__SEIZE_BUSY:
		return -EBUSY;
	default:
		return -EPERM;
	}
}

static int seize(ml_freeze *f, const ml_proc *p, pid_t tid)
{
	/* Room first: a seized thread cannot be detached until it has stopped. */
	if (room(f) < 0)
		return -ENOMEM;
	if (pt(ML_PTRACE_SEIZE, tid, NULL, (void *)(uintptr_t)ML_PTRACE_O_TRACECLONE) < 0) {
		int e = errno;
		if (e == ESRCH)
			return 0; /* exited between the scan and now */
		/* A thread auto-attached at clone() is already ours: interrupting it works. */
		if (e == EPERM && pt(ML_PTRACE_INTERRUPT, tid, NULL, NULL) == 0) {
			add(f, tid, ML_FREEZE_NEW_THREAD);
			return 0;
		}
		return e == EPERM ? seize_denied(f, p, tid) : -e;
	}
	add(f, tid, ML_FREEZE_INTERRUPTED);
	if (pt(ML_PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH)
		return ml_neg_errno();
	return 0;
}

/* Scans task/ and seizes every thread not yet held. Returns how many were new, or -errno. */
static int scan(ml_freeze *f, const ml_proc *p, int taskfd)
{
	if (lseek(taskfd, 0, SEEK_SET) < 0)
		return ml_neg_errno();
	int dfd = dup(taskfd);
	if (dfd < 0)
		return ml_neg_errno();
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return ml_neg_errno();
	}
	rewinddir(d);
	int fresh = 0, r = 0;
	for (;;) {
		/* readdir() leaves errno alone at the end: it must be 0 before each call, since a
		 * seize that succeeded may have left ESRCH or EPERM in it. */
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				r = ml_neg_errno();
			break;
		}
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || find(f, (pid_t)tid))
			continue;
		if (ml__test_freeze_unlisted && ml__test_freeze_unlisted((pid_t)tid))
			continue; /* a test's stand-in for a listing that stopped short */
		size_t before = f->n;
		r = seize(f, p, (pid_t)tid);
		if (r < 0)
			break;
		fresh += f->n > before;
	}
	closedir(d);
	if (r == 0 && fresh == 0 && f->n == 0)
		return -ESRCH; /* no thread at all: the process is gone */
	return r < 0 ? r : fresh;
}

/* Takes one stop or exit of @t if there is one. Returns 1 if @t changed state, 0 if not yet,
 * -errno. At a clone event *born is the new thread (attached at birth) if it is not in the
 * table yet: the caller records it or lets it go. */
static int poll_one(ml_freeze *f, thr *t, pid_t *born)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)t->tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0) {
		if (errno == ECHILD) { /* reaped by someone else: gone */
			t->state = T_GONE;
			return 1;
		}
		return ml_neg_errno();
	}
	if (si.si_pid == 0)
		return 0;
	if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
		t->state = T_GONE;
		/* Our own child's leader is left for our wait(); a thread's exit we must reap. */
		if (t->tid != f->tgid || !f->we_are_parent) {
			siginfo_t s2;
			waitid(P_PID, (id_t)t->tid, &s2, WEXITED | WNOHANG | __WALL);
		}
		return 1;
	}
	int status;
	pid_t w = waitpid(t->tid, &status, WNOHANG | __WALL);
	if (w <= 0)
		return w < 0 ? ml_neg_errno() : 0;
	if (!WIFSTOPPED(status)) {
		t->state = T_GONE;
		return 1;
	}
	int sig = WSTOPSIG(status), event = status >> 16;
	t->state = T_STOPPED;
	if (event == ML_PTRACE_EVENT_STOP) {
		if (sig != SIGTRAP) {
			t->kind = ML_FREEZE_GROUP_STOPPED;
			t->sig = sig;
		}
	} else if (event == ML_PTRACE_EVENT_CLONE) {
		unsigned long msg = 0;
		t->kind = ML_FREEZE_CLONING;
		if (pt(ML_PTRACE_GETEVENTMSG, t->tid, NULL, &msg) == 0 && msg && !find(f, (pid_t)msg))
			*born = (pid_t)msg;
	} else if (event == 0) {
		t->kind = ML_FREEZE_SIGNAL;
		t->sig = sig;
		if (pt(ML_PTRACE_GETSIGINFO, t->tid, NULL, &t->si) == 0)
			t->have_siginfo = true;
	}
	return 1;
}

/* Between two polls of threads that have not stopped yet. */
static void backoff(unsigned *idle)
{
	/* Stopping takes a few microseconds unless the thread has to be scheduled first. */
	if (++*idle < 64) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
	}
}

/* Waits until no held thread is still on its way to a stop. */
static int wait_all(ml_freeze *f, uint64_t deadline)
{
	unsigned idle = 0;
	for (;;) {
		bool pending = false, progress = false;
		for (size_t i = 0; i < f->n; i++) {
			if (f->t[i].state != T_WAITING)
				continue;
			/* A clone event has attached its new thread by the time we see it. */
			if (room(f) < 0)
				return -ENOMEM;
			pid_t born = 0;
			int r = poll_one(f, &f->t[i], &born);
			if (born)
				add(f, born, ML_FREEZE_NEW_THREAD);
			if (r < 0)
				return r;
			if (r > 0)
				progress = true;
			else
				pending = true;
		}
		if (!pending && !progress)
			return 0;
		if (progress) {
			idle = 0;
			continue;
		}
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		backoff(&idle);
	}
}

/* Reaps a held thread that died (SIGKILL ends a ptrace stop): until its tracer waits for
 * it, it stays a zombie and its process can never be reaped. */
static void reap_dead(ml_freeze *f, pid_t tid)
{
	if (tid == f->tgid && f->we_are_parent)
		return; /* our own child: its exit is for our caller's wait() */
	int status;
	for (;;) {
		pid_t w = waitpid(tid, &status, __WALL);
		if (w < 0 ? errno != EINTR : (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
	}
}

/* A thread attached at its birth whose creator's clone event came while settling (so it is
 * not in the table): waits until @deadline for its first stop, before its first
 * instruction, and detaches it (or reaps it if it died). */
static void let_go(ml_freeze *f, pid_t tid, uint64_t deadline)
{
	thr t = { .tid = tid, .state = T_WAITING, .kind = ML_FREEZE_NEW_THREAD };
	unsigned idle = 0;
	for (;;) {
		pid_t born = 0; /* none: it stops before it runs */
		int r = poll_one(f, &t, &born);
		if (r < 0)
			return;
		if (r > 0)
			break;
		if (now_ns() > deadline)
			return;
		backoff(&idle);
	}
	int sig = t.kind == ML_FREEZE_SIGNAL ? t.sig : 0;
	if (t.state == T_STOPPED && pt(ML_PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig) < 0 && errno == ESRCH)
		reap_dead(f, tid);
}

/*
 * After a failed start: threads that were seized and interrupted, or attached at clone(),
 * and have not stopped yet would stop later and stay stopped, traced, until the calling
 * thread exits. Each is waited for until @deadline (its stop or its death, reaped), so that
 * release_all() can detach it. A thread that does not stop by then (in uninterruptible
 * sleep all along) stays attached: ptrace detaches only a stopped thread (freeze.h).
 */
static void settle(ml_freeze *f, uint64_t deadline)
{
	unsigned idle = 0;
	for (;;) {
		bool pending = false, progress = false;
		for (size_t i = 0; i < f->n; i++) {
			thr *t = &f->t[i];
			if (t->state != T_WAITING)
				continue;
			pid_t born = 0;
			int r = poll_one(f, t, &born);
			if (born)
				let_go(f, born, deadline);
			if (r < 0)
				t->state = T_GONE; /* its stops cannot be waited for: given up */
			if (r != 0)
				progress = true;
			else
				pending = true;
		}
		if (!pending)
			return;
		if (progress) {
			idle = 0;
			continue;
		}
		if (now_ns() > deadline)
			return;
		backoff(&idle);
	}
}

/* Detaches every stopped thread. Returns true if one had died while held. */
static bool release_all(ml_freeze *f)
{
	bool died = false, leader_dead = false;
	for (size_t i = 0; i < f->n; i++) {
		thr *t = &f->t[i];
		if (t->state != T_STOPPED)
			continue;
		int sig = t->kind == ML_FREEZE_SIGNAL ? t->sig : 0;
		if (pt(ML_PTRACE_DETACH, t->tid, NULL, (void *)(uintptr_t)sig) < 0 && errno == ESRCH) {
			died = true;
			/* The leader can only be reaped after the other threads: do it last. */
			if (t->tid == f->tgid)
				leader_dead = true;
			else
				reap_dead(f, t->tid);
		}
		t->state = T_GONE;
	}
	if (leader_dead)
		reap_dead(f, f->tgid);
	/* A thread still on its way to a stop here is one settle() gave up on. */
	f->released = true;
	return died;
}

static int by_leader_then_tid(const void *a, const void *b, void *tgid)
{
	const thr *x = a, *y = b;
	pid_t g = *(pid_t *)tgid;
	if ((x->tid == g) != (y->tid == g))
		return x->tid == g ? -1 : 1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

int ml_freeze_start(const ml_proc *p, const ml_freeze_opts *o, ml_freeze **ret)
{
	ml_freeze_opts opt = { .sz = sizeof(opt) };
	if (!p || !ret || !ml_proc_is_live(p) || ML_OPTS_LOAD(&opt, o) < 0)
		return -EINVAL;
	uint64_t timeout = opt.timeout_ns ? opt.timeout_ns : 5000000000ull;
	unsigned max_rounds = opt.max_rounds ? opt.max_rounds : 1000;
	int r = ml_proc_check(p);
	if (r < 0)
		return r;

	ml_freeze *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->tgid = ml_proc_pid(p);
	char *status;
	size_t slen;
	r = ml_proc_read_file(p, "status", &status, &slen);
	if (r < 0) {
		free(f);
		return r;
	}
	long ppid = status_field(status, "PPid"), tracer = status_field(status, "TracerPid");
	free(status);
	f->we_are_parent = ppid == getpid();
	if (tracer > 0 && tracer != getpid()) {
		free(f);
		return -EBUSY;
	}
	int taskfd = ml_proc_openat(p, "task", O_RDONLY | O_DIRECTORY);
	if (taskfd < 0) {
		free(f);
		return taskfd;
	}

	f->started_ns = now_ns();
	uint64_t deadline = f->started_ns + timeout;
	unsigned round = 0, idle = 0;
	for (;;) {
		r = scan(f, p, taskfd);
		if (r < 0)
			break;
		bool fresh = r > 0;
		size_t before = f->n;
		r = wait_all(f, deadline);
		if (r < 0)
			break;
		/* A clone seen while waiting may be the only trace of a thread the scan missed. */
		if (!fresh && f->n == before) {
			/* A scan that found nothing new may have stopped short: the count says. */
			r = all_counted(f, p);
			if (r != 0)
				break;
			if (now_ns() > deadline) {
				r = -ETIMEDOUT; /* a counted thread no scan shows */
				break;
			}
			backoff(&idle); /* not a round: no thread appeared */
			continue;
		}
		idle = 0;
		if (++round >= max_rounds) {
			r = -EAGAIN;
			break;
		}
	}
	close(taskfd);
	if (r > 0)
		r = 0;
	if (r >= 0) {
		size_t live = 0;
		for (size_t i = 0; i < f->n; i++)
			live += f->t[i].state == T_STOPPED;
		if (live == 0 || ml_proc_check(p) < 0)
			r = -ESRCH;
	}
	if (r < 0) {
		/* Threads seized but not stopped yet are waited for, for as long again, then let go
		 * with the others: a failure leaves none stopped or traced. */
		settle(f, now_ns() + timeout);
		release_all(f);
		free(f->t);
		free(f);
		return r;
	}
	/* Keep only the held threads, leader first. */
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].state == T_STOPPED)
			f->t[k++] = f->t[i];
	f->n = k;
	qsort_r(f->t, f->n, sizeof(*f->t), by_leader_then_tid, &f->tgid);
	*ret = f;
	return 0;
}

size_t ml_freeze_count(const ml_freeze *f) { return f ? f->n : 0; }
pid_t ml_freeze_tid(const ml_freeze *f, size_t i) { return f && i < f->n ? f->t[i].tid : 0; }
ml_freeze_stop ml_freeze_stop_kind(const ml_freeze *f, size_t i)
{
	return f && i < f->n ? f->t[i].kind : ML_FREEZE_INTERRUPTED;
}
int ml_freeze_signal(const ml_freeze *f, size_t i) { return f && i < f->n ? f->t[i].sig : 0; }
uint64_t ml_freeze_started_ns(const ml_freeze *f) { return f ? f->started_ns : 0; }

ssize_t ml_freeze_regset(const ml_freeze *f, size_t i, unsigned type, void *buf, size_t len)
{
	if (!f || (!buf && len))
		return -EINVAL;
	if (i >= f->n)
		return -ERANGE;
	if (f->released)
		return -EINVAL;
	struct iovec iov = { buf, len };
	if (pt(ML_PTRACE_GETREGSET, f->t[i].tid, (void *)(uintptr_t)type, &iov) < 0)
		return errno == EINVAL ? -ENODEV : ml_neg_errno();
	return (ssize_t)iov.iov_len;
}

int ml_freeze_siginfo(const ml_freeze *f, size_t i, void *buf, size_t len)
{
	if (!f || !buf || len < sizeof(siginfo_t))
		return -EINVAL;
	if (i >= f->n)
		return -ERANGE;
	if (!f->t[i].have_siginfo)
		return -ENOENT;
	memcpy(buf, &f->t[i].si, sizeof(siginfo_t));
	return 0;
}

int ml_freeze_release(ml_freeze *f)
{
	if (!f)
		return -EINVAL;
	if (f->released)
		return 0;
	return release_all(f) ? -ESRCH : 0;
}

void ml_freeze_free(ml_freeze *f)
{
	if (!f)
		return;
	if (!f->released)
		release_all(f);
	free(f->t);
	free(f);
}

/* ---- copy-on-write: one fork injected into a held thread ---- */

int ml__freeze_fork(ml_freeze *f, const ml_proc *p, const ml__gadgets *g, pid_t *child, const char **why)
{
	if (!f || f->released)
		return -EINVAL;
	int r = -EOPNOTSUPP;
	*child = 0;
	*why = "no thread is held at an ordinary stop (all take signals or are stopped by job control)";
	for (size_t i = 0; i < f->n; i++) {
		thr *t = &f->t[i];
		if (t->state != T_STOPPED || (t->kind != ML_FREEZE_INTERRUPTED && t->kind != ML_FREEZE_NEW_THREAD))
			continue;
		/* A thread with a filter of its own (not synchronised across the process), or with
		 * syscall user dispatch, is passed over by ml__inject()'s gate. */
		/* exit signal 0: no SIGCHLD; CLONE_FILES: the copy holds no file of its own, so
		 * closing one in the target still closes it (sockets, pipes see EOF). */
		ml__inject_req rq = { .nr = SYS_clone, .args = { CLONE_FILES, 0, 0, 0, 0, 0 }, .fork = true };
		ml__inject_res res;
		r = ml__inject(p, t->tid, g, &rq, &res, why);
		/* A copy made is ours to kill and reap, whatever else went wrong. */
		*child = res.child;
		if (r == -EOPNOTSUPP && res.thread_refused && !res.child)
			continue; /* another thread may do */
		if (r < 0)
			return r;
		if (res.ret < 0) {
			*why = res.ret == -EAGAIN ? "fork refused: process limit (pids.max or RLIMIT_NPROC)"
			     : res.ret == -ENOMEM ? "fork refused: not enough memory (overcommit)"
			     : res.ret == -EPERM || res.ret == -EACCES ? "fork refused: not permitted (seccomp or LSM)"
			     : res.ret == -ERESTARTNOINTR_ ? "fork kept being interrupted (a stop or freezer)"
									: "fork failed";
			return res.ret == -ERESTARTNOINTR_ ? -EINTR : (int)res.ret;
		}
		if (!res.child_held) {
			*why = "the copy could not be held";
			return -EIO;
		}
		return 0;
	}
	return r;
}
