/* The process handle: binds a pidfd, a /proc/PID directory fd and an exec sentinel together. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "internal/proc_impl.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

enum proc_state { ST_RUNNING, ST_ZOMBIE, ST_GONE, ST_EXECED };

static int sys_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

#define ML_STAT_MAX 512

/* Reads the handle's own stat into @buf (ML_STAT_MAX bytes), and from it the state letter
 * and pid. -ESRCH if the task is gone. */
static int stat_state_read(const ml_proc *p, char *buf, char *state, pid_t *pid)
{
	ssize_t n = ml__read_small(p->dirfd, "stat", buf, ML_STAT_MAX);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ESRCH;
	/* "PID (comm) S ...": comm may hold anything, including ") ", so take the last ')' */
	char *rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' || !rp[2])
		return -EBADMSG;
	if (state)
		*state = rp[2];
	if (pid)
		*pid = (pid_t)strtol(buf, NULL, 10);
	return 0;
}

/* Reads the state letter and pid from the handle's own stat. -ESRCH if the task is gone. */
int ml__proc_stat_state(const ml_proc *p, char *state, pid_t *pid)
{
	char buf[ML_STAT_MAX];
	return stat_state_read(p, buf, state, pid);
}

/* Task flags (field 9 of stat): PF_EXITING, and PF_FORKNOEXEC, which clone() sets on every
 * new task and only exec clears. */
#define ML_PF_EXITING 0x4u
#define ML_PF_FORKNOEXEC 0x40u

/* The flags field of the stat text @buf (and the parent's PID, if @ppid); -EBADMSG. */
static int stat_flags_parse(const char *buf, unsigned long *ret, pid_t *ppid)
{
	const char *q = strrchr(buf, ')');
	if (!q)
		return -EBADMSG;
	/* ") S ppid pgrp session tty_nr tpgid flags": q ends on the blank before field 9 */
	q++;
	for (int field = 3; field < 9; field++) {
		q = strchr(q + 1, ' ');
		if (!q)
			return -EBADMSG;
		if (field == 3 && ppid)
			*ppid = (pid_t)strtol(q + 1, NULL, 10);
	}
	*ret = strtoul(q + 1, NULL, 10);
	return 0;
}

/* The flags of stat under @dirfd (and the parent's PID); -errno (-ESRCH when it reads empty). */
static int stat_flags(int dirfd, const char *name, unsigned long *ret, pid_t *ppid)
{
	char buf[512];
	ssize_t n = ml__read_small(dirfd, name, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -ESRCH;
	return stat_flags_parse(buf, ret, ppid);
}

static int sentinel_read_eof(const ml_proc *p)
{
	char c;
	ssize_t n;
	do
		n = pread(p->sentinel, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	/* An error other than EOF (ESRCH, EIO) also means the address space is gone. */
	return n <= 0;
}

/*
 * Whether a process watched for its exec in stat (fork_noexec) has exec'd: @stat is its
 * stat text if already read (NULL: read it now).
 *
 * The sentinel holds an address space, not the process: it reads EOF once nothing uses
 * that address space any more. A process created with CLONE_VM but not CLONE_THREAD (a
 * vfork() or posix_spawn() child before its exec, a clone(CLONE_VM) child) shares its
 * parent's, which lives on in the parent after the child's exec: the sentinel goes on
 * reading, and every read would be of the new program. Such a process has PF_FORKNOEXEC
 * (every task has it from its clone until it execs, and nothing else clears it), so when
 * the sentinel is opened on one (watch_forknoexec()), its exec is watched in that flag:
 * one stat read per check while the handle lasts. A process that has exec'd (nearly every
 * one), or a fork() child, pays nothing more. One that shares its own address space with
 * a CLONE_VM child of its own is left to the sentinel (docs/architecture.md).
 */
static bool forknoexec_cleared(const ml_proc *p, const char *stat)
{
	unsigned long flags = 0;
	int r = stat ? stat_flags_parse(stat, &flags, NULL) : stat_flags(p->dirfd, "stat", &flags, NULL);
	return r == 0 && !(flags & ML_PF_FORKNOEXEC);
}

static enum proc_state exec_state(const ml_proc *p, const char *stat)
{
	if (p->sentinel >= 0 && p->sentinel_had_data && sentinel_read_eof(p)) {
		/* The address space the handle was opened on is gone, but the task lives:
		 * either it exec'd, or it is exiting right now. Both end the handle. */
		return ST_EXECED;
	}
	if (p->fork_noexec && p->sentinel >= 0 && forknoexec_cleared(p, stat))
		return ST_EXECED;
	/* the same, on maps bound through a thread once the leader had exited (proc_leader.c) */
	int vs = __atomic_load_n(&p->via_sentinel, __ATOMIC_ACQUIRE);
	if (vs >= 0 && ml__proc_via_sentinel_gone(vs))
		return ST_EXECED;
	return ST_RUNNING;
}

/* "Threads:" of the handle's status: the group's thread count (a zombie leader whose
 * other threads still run counts them). 0 if unreadable. */
unsigned long ml__proc_status_threads(const ml_proc *p)
{
	int fd = openat(p->dirfd, "status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	unsigned long n = 0;
	if (ml__read_fd_all(fd, 2048, &buf, &len) == 0) {
		const char *t = strstr(buf, "\nThreads:");
		if (t)
			n = strtoul(t + 9, NULL, 10);
	}
	free(buf);
	close(fd);
	return n;
}

/*
 * The state of a group whose leader was seen exited, while the group runs. An exec by one
 * of its threads gives that thread the leader's PID and the group a new address space;
 * nothing else brings the leader's /proc/PID back from Z. (Its sentinel, opened on the
 * exited leader's empty maps or held on the address space, says nothing more.)
 */
static enum proc_state exited_leader_state(const ml_proc *p)
{
	char st = 0, stat[ML_STAT_MAX];
	int r = stat_state_read(p, stat, &st, NULL);
	if (r == -ESRCH || r == -ENOENT)
		return ST_GONE;
	if (r == 0 && st != 'Z' && st != 'X' && st != 'x')
		return ST_EXECED;
	if (ml__proc_group_exiting(p))
		return ST_GONE; /* every thread left is exiting: the whole group was killed */
	return exec_state(p, r == 0 ? stat : NULL);
}

static enum proc_state proc_state(const ml_proc *p)
{
	char st = 'R';
	int r;

	if (p->lazy && p->dirfd < 0) {
		/* Nothing opened yet: the pidfd alone says whether the group runs; an exited
		 * one needs its stat (zombie or reaped), so the directory is opened for it. */
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
		if (!(poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP))))
			return ST_RUNNING;
		if (ml__proc_materialize(p) < 0)
			return ST_GONE;
	}

	if (p->pidfd >= 0 && !p->task) {
		/* A pidfd polls readable once the whole thread group has exited (zombie or
		 * reaped), and it pins the process's identity. While it is not readable the
		 * group runs, even if its leader thread has exited (the leader then shows
		 * state Z while the other threads run the image): only an exec can have
		 * ended the handle, so the common case costs a poll and one sentinel read. */
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
		bool exited = poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP));
		if (!exited) {
			if (ml__proc_leader_gone(p))
				return exited_leader_state(p);
			/* a sentinel opened on an empty maps: the leader has exited while others
			 * run, or the whole group is being torn down (SIGKILL) */
			if (p->sentinel >= 0 && !p->sentinel_had_data && ml__proc_group_exiting(p))
				return ST_GONE;
			return exec_state(p, NULL);
		}
		r = ml__proc_stat_state(p, &st, NULL);
		return r == -ESRCH || r == -ENOENT ? ST_GONE : ST_ZOMBIE;
	}
	char stat[ML_STAT_MAX];
	r = stat_state_read(p, stat, &st, NULL);
	if (r == -ESRCH || r == -ENOENT)
		return p->live ? ST_GONE : ST_RUNNING;
	if (r == 0 && (st == 'Z' || st == 'X' || st == 'x')) {
		/* Without a pidfd, a zombie leader with live threads shows in the count. */
		if (!p->live || p->task || ml__proc_status_threads(p) <= 1)
			return ST_ZOMBIE;
	} else if (r == 0 && p->live && !p->task && ml__proc_leader_gone(p)) {
		return ST_EXECED; /* the exited leader's PID now runs: an exec (see above) */
	}
	return exec_state(p, r == 0 ? stat : NULL);
}

/* PF_EXITING in the flags (field 9) of stat under @dirfd: 1 set, 0 clear, -errno. */
int ml__stat_exiting(int dirfd, const char *name)
{
	unsigned long flags = 0;
	int r = stat_flags(dirfd, name, &flags, NULL);
	return r < 0 ? r : (flags & ML_PF_EXITING) != 0;
}

/*
 * True when every thread of the group is exiting. A SIGKILLed group tears its address
 * space down before its pidfd polls readable and before its stat says Z: in that window
 * maps reads empty although the group looks alive. A group whose leader alone has exited
 * (maps empty too) still has a thread without PF_EXITING.
 */
bool ml__proc_group_exiting(const ml_proc *p)
{
	if (!p || !p->live || p->dirfd < 0)
		return false;
	int tfd = openat(p->dirfd, p->task ? "." : "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return errno == ESRCH || errno == ENOENT;
	if (p->task) {
		int e = ml__stat_exiting(tfd, "stat");
		close(tfd);
		return e != 0;
	}
	DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return false;
	}
	bool all = true;
	struct dirent *de;
	while (all && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char name[300];
		snprintf(name, sizeof(name), "%s/stat", de->d_name);
		if (ml__stat_exiting(dirfd(d), name) == 0)
			all = false; /* a thread that runs on: the group is alive */
	}
	closedir(d);
	return all;
}

int ml__proc_read_lines(const ml_proc *p, const char *file,
			int (*fn)(void *ctx, const char *buf, size_t len, size_t off),
			void (*reset)(void *ctx), void *ctx)
{
	size_t cap = 256 << 10;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	int r;
	size_t total;
	for (int tries = 0;; tries++) {
		pid_t via;
		int fd = ml__proc_openat_via(p, file, O_RDONLY, &via);
		if (fd < 0) {
			free(buf);
			return fd;
		}
		size_t have = 0;
		total = 0;
		r = 0;
		while (r == 0) {
			if (have == cap) {
				/* one line longer than the buffer (a name of kilobytes): grow */
				char *nb = cap > (SIZE_MAX >> 2) ? NULL : realloc(buf, cap * 2);
				if (!nb) {
					r = -ENOMEM;
					break;
				}
				buf = nb;
				cap *= 2;
			}
			ssize_t n = read(fd, buf + have, cap - have);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				r = ml_neg_errno();
				break;
			}
			if (n == 0) {
				if (have)
					r = fn(ctx, buf, have, total - have);
				break;
			}
			have += (size_t)n;
			total += (size_t)n;
			const char *nl = memrchr(buf, '\n', have);
			if (!nl)
				continue;
			size_t used = (size_t)(nl - buf) + 1;
			r = fn(ctx, buf, used, total - have);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		close(fd);
		/* what it was read through lost the address space meanwhile: read it again */
		if ((via || r == -ESRCH || (r == 0 && total == 0)) && tries < 8 && (total == 0 || reset) &&
		    ml__proc_reread(p, file, via)) {
			if (total)
				reset(ctx);
			continue;
		}
		break;
	}
	free(buf);
	return ml__proc_after_read(p, r, total);
}

int ml__proc_after_read(const ml_proc *p, int err, size_t nread)
{
	if (!p->live)
		return err;
	enum proc_state st = proc_state(p);
	if (st == ST_GONE || st == ST_EXECED)
		return -ESRCH;
	if (err < 0)
		return err;
	if (nread == 0 && st == ST_ZOMBIE)
		return -ESRCH;
	if (nread == 0 && ml__proc_group_exiting(p))
		return -ESRCH; /* killed just now: what read empty is its address space going away */
	return 0;
}

static int proc_new(ml_proc **ret)
{
	ml_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dirfd = p->pidfd = p->sentinel = p->via_fd = p->via_sentinel = -1;
	pthread_mutex_init(&p->mu, NULL);
	*ret = p;
	return 0;
}

/* PIDFD_GET_INFO (Linux 6.13): its first version, which every later kernel accepts (the
 * ioctl is extensible: the size is taken from the request). */
struct ml_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define ML_PIDFD_GET_INFO _IOWR(0xFF, 11, struct ml_pidfd_info)
#define ML_PIDFD_INFO_PID 1u

/* The PID and the parent's PID (in our namespace) of a pidfd's process; -errno where the
 * kernel cannot tell (before 6.13), and -ESRCH both for a reaped process and for one whose
 * parent is outside our namespace (ask fdinfo then: pidfd_pid()). */
static int pidfd_ids(int pidfd, pid_t *pid, pid_t *ppid)
{
	struct ml_pidfd_info info = { .mask = ML_PIDFD_INFO_PID };
	if (ioctl(pidfd, ML_PIDFD_GET_INFO, &info) < 0)
		return ml_neg_errno();
	if (!(info.mask & ML_PIDFD_INFO_PID))
		return -EOPNOTSUPP;
	*pid = (pid_t)info.pid;
	*ppid = (pid_t)info.ppid;
	return 0;
}

/* kcmp(KCMP_VM): 0 when @pid and @other run the same address space, 1 when not, -1 when
 * that cannot be asked (no kcmp, refused, no such process). */
static int kcmp_mm(pid_t pid, pid_t other)
{
#ifdef SYS_kcmp
	if (pid > 0 && other > 0) {
		long r = syscall(SYS_kcmp, pid, other, KCMP_VM, 0, 0);
		if (r >= 0)
			return r != 0;
	}
#else
	(void)pid;
	(void)other;
#endif
	return -1;
}

/* What an opener already knows, that watch_forknoexec() would otherwise ask again: the
 * parent's PID (@asked: the pidfd was asked, 0 if it could not tell) and the stat text. */
struct sentinel_hint {
	bool asked;
	pid_t ppid;
	const char *stat;
};

/* Whether /proc is the procfs of our own PID namespace: its PIDs are then ours. Told by
 * the NSpid line of our own status, which lists our PID in the namespace of the /proc it is
 * read through and in each below it down to ours: one entry, our PID, when they are the
 * same. Kept per process (a child forked into another PID namespace asks again). */
static bool proc_pids_ours_read(pid_t me)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *l = strstr(buf, "\nNSpid:");
	if (!l)
		return false;
	l += 8;
	unsigned fields = 0;
	for (const char *q = l; *q && *q != '\n'; q++)
		if ((*q == ' ' || *q == '\t') && q[1] >= '0' && q[1] <= '9')
			fields++;
	return fields == 1 && strtol(l, NULL, 10) == me;
}

static bool proc_pids_ours(void)
{
	static pid_t asked_by;
	static bool ours;
	pid_t me = getpid();
	if (__atomic_load_n(&asked_by, __ATOMIC_ACQUIRE) == me)
		return __atomic_load_n(&ours, __ATOMIC_RELAXED);
	bool v = proc_pids_ours_read(me);
	__atomic_store_n(&ours, v, __ATOMIC_RELAXED);
	__atomic_store_n(&asked_by, me, __ATOMIC_RELEASE);
	return v;
}

/*
 * Whether the exec of @p's process is to be watched in its stat flags (see
 * forknoexec_cleared()): whether it may run an address space that another process, not
 * one of its threads, keeps after its exec. A process that runs its parent's was created
 * with CLONE_VM and has not exec'd since, so kcmp() against the parent says so in one
 * call, with the parent's PID from the pidfd; a fork() child or a process that has exec'd
 * has an address space of its own. Where that cannot be asked, the flag itself is read:
 * watched if set (a fork() child is then watched too, where kcmp() is refused). kcmp()
 * takes PIDs of our namespace, which only a handle with a pidfd is known to have; a handle
 * without one reads its stat on every check anyway.
 */
static bool watch_forknoexec(const ml_proc *p, const struct sentinel_hint *h)
{
	bool asked = false;
	pid_t pid, ppid = h ? h->ppid : 0;
	if (!(h && h->asked) && p->pidfd >= 0 && pidfd_ids(p->pidfd, &pid, &ppid) < 0)
		ppid = 0;
	if (ppid > 0) {
		int same = kcmp_mm(p->pid, ppid);
		if (same >= 0)
			return same == 0;
		asked = true;
	}
	unsigned long flags = 0;
	int r = h && h->stat ? stat_flags_parse(h->stat, &flags, &ppid) : stat_flags(p->dirfd, "stat", &flags, &ppid);
	if (r < 0 || !(flags & ML_PF_FORKNOEXEC))
		return false;
	return p->pidfd < 0 || asked || kcmp_mm(p->pid, ppid) != 1;
}

/* What the opener already knows for watch_forknoexec(), or NULL. */
static void open_sentinel(ml_proc *p, const struct sentinel_hint *h)
{
	/* Asked before the sentinel is opened: an exec between the two then ends the handle
	 * (the flag is seen cleared) rather than going unnoticed. */
	bool fork_noexec = watch_forknoexec(p, h);
	p->sentinel = openat(p->dirfd, "maps", O_RDONLY | O_CLOEXEC);
	if (p->sentinel >= 0) {
		p->sentinel_had_data = !sentinel_read_eof(p);
		/* an empty one (a kernel thread, an exited leader) is not watched this way */
		p->fork_noexec = fork_noexec && p->sentinel_had_data;
	}
	/* An empty maps: a kernel thread, a process exiting, or one whose leader has exited.
	 * The last is known from now on, so that an exec is noticed before anything is read. */
	if (!p->sentinel_had_data && ml__proc_leader_resource(p, "maps") != ML__RES_NONE) {
		pthread_mutex_lock(&p->mu);
		if (ml__proc_leader_exited_locked(p))
			ml__proc_bind_sentinel_locked(p); /* known before: opened again after a release */
		pthread_mutex_unlock(&p->mu);
	}
}

/* Reads "Pid:" of our own pidfd: -1 once the process it designates has been reaped. */
static int pidfd_pid(int pidfd, pid_t *ret)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	char *s = strstr(buf, "\nPid:");
	if (!s)
		return -EOPNOTSUPP;
	*ret = (pid_t)strtol(s + 5, NULL, 10);
	return 0;
}

int ml_proc_open(pid_t pid, ml_proc **ret)
{
	if (pid <= 0 || !ret)
		return -EINVAL;
	ml_proc *p;
	int r = proc_new(&p);
	if (r < 0)
		return r;
	p->pid = pid;
	p->live = true;

	p->pidfd = sys_pidfd_open(pid);
	if (p->pidfd < 0 && errno == ESRCH) {
		r = -ESRCH;
		goto fail;
	}
	/* EINVAL: pid is a thread, not a group leader. ENOSYS: old kernel. Both: no pidfd. */

	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	p->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		r = errno == ENOENT ? -ESRCH : ml_neg_errno();
		goto fail;
	}
	struct sentinel_hint h = { 0 };
	if (p->pidfd >= 0) {
		/* The pidfd was bound before the directory was opened. If the process it names
		 * still holds @pid in the /proc the directory is of, it held it when the
		 * directory was opened, so both designate the same process: no PID reuse could
		 * have slipped in between. fdinfo gives the PID as that /proc numbers it; the
		 * ioctl (which also gives the parent's PID, for open_sentinel()) as our own PID
		 * namespace does, the same where /proc is our namespace's (a /proc of another,
		 * unshare -p without mounting one, numbers other processes alike). */
		pid_t now = pid, ipid;
		h.asked = true;
		bool got = pidfd_ids(p->pidfd, &ipid, &h.ppid) == 0;
		if (!got)
			h.ppid = 0;
		if (got && proc_pids_ours())
			now = ipid;
		else if (pidfd_pid(p->pidfd, &now) < 0)
			now = pid; /* not known: the directory alone, as without a pidfd */
		if (now != pid) {
			r = -ESRCH;
			goto fail;
		}
	}
	open_sentinel(p, &h);
	*ret = p;
	return 0;
fail:
	ml_proc_free(p);
	return r;
}

/* Opens the directory and the sentinel of a lazy handle, proving with the pidfd that the
 * directory is the process the handle was opened on. Internal state of a const handle:
 * a lazy handle is not for concurrent use until it has read once (see proc.h). */
int ml__proc_materialize(const ml_proc *cp)
{
	ml_proc *p = (ml_proc *)cp;
	if (p->dirfd >= 0)
		return 0;
	if (!p->lazy)
		return -EBADF;
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", (int)p->pid);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : ml_neg_errno();
	/* A group that has not exited cannot have been reaped, so its PID still named it
	 * when the directory was opened (one poll); an exited one is asked whether it was
	 * reaped, when the PID may already name another process. */
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	pid_t now;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP)) && pidfd_pid(p->pidfd, &now) == 0 &&
	    now != p->pid) {
		close(fd);
		return -ESRCH;
	}
	p->dirfd = fd;
	open_sentinel(p, NULL);
	return 0;
}

int ml_proc_open_lazy(pid_t pid, ml_proc **ret)
{
	if (pid <= 0 || !ret)
		return -EINVAL;
	int pidfd = sys_pidfd_open(pid);
	if (pidfd < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		/* a thread ID, or no pidfds: only the directory can keep the identity */
		return ml_proc_open(pid, ret);
	}
	ml_proc *p;
	int r = proc_new(&p);
	if (r < 0) {
		close(pidfd);
		return r;
	}
	p->pid = pid;
	p->live = true;
	p->lazy = true;
	p->pidfd = pidfd;
	*ret = p;
	return 0;
}

int ml_proc_release(ml_proc *p)
{
	if (!p)
		return -EINVAL;
	if (p->task || !p->live || p->pidfd < 0)
		return -EOPNOTSUPP;
	p->lazy = true;
	ml__close_fd(&p->dirfd);
	ml__close_fd(&p->sentinel);
	ml__close_fd(&p->via_sentinel);
	p->sentinel_had_data = false;
	p->fork_noexec = false;
	ml__proc_drop_thread_locked(p); /* not shared while it is released (see proc.h) */
	return 0;
}

int ml_proc_self(ml_proc **ret)
{
	return ml_proc_open(getpid(), ret);
}

int ml_proc_open_at(int dirfd, ml_proc **ret)
{
	if (dirfd < 0 || !ret)
		return -EBADF;
	struct stat sb;
	if (fstat(dirfd, &sb) < 0)
		return ml_neg_errno();
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	ml_proc *p;
	int r = proc_new(&p);
	if (r < 0)
		return r;
	p->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (p->dirfd < 0) {
		r = ml_neg_errno();
		ml_proc_free(p);
		return r;
	}
	pid_t pid = 0;
	char stat[ML_STAT_MAX];
	bool have_stat = stat_state_read(p, stat, NULL, &pid) == 0;
	if (have_stat)
		p->pid = pid;
	struct statfs fs;
	if (fstatfs(p->dirfd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) {
		p->live = true;
		struct sentinel_hint h = { .stat = have_stat ? stat : NULL };
		open_sentinel(p, &h); /* no pidfd: the stat just read decides */
	}
	*ret = p;
	return 0;
}

int ml_proc_open_path(const char *path, ml_proc **ret)
{
	if (!path || !ret)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	int r = ml_proc_open_at(fd, ret);
	close(fd);
	return r;
}

int ml_proc_task(const ml_proc *p, pid_t tid, ml_proc **ret)
{
	if (!p || tid <= 0 || !ret)
		return -EINVAL;
	ml_proc *t;
	int r = ml__proc_materialize(p);
	if (r < 0)
		return r;
	if ((r = proc_new(&t)) < 0)
		return r;
	char path[48];
	snprintf(path, sizeof(path), "task/%d", (int)tid);
	t->dirfd = openat(p->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		r = ml_neg_errno();
		if (r == -ENOENT)
			r = -ESRCH;
		goto fail;
	}
	t->pid = tid;
	t->live = p->live;
	t->task = true;
	t->sentinel_had_data = p->sentinel_had_data;
	/* the thread's own flags: set on every thread since its clone, cleared only if it is
	 * the one that execs (it then has the PID, and task/TID is the new leader's only
	 * when TID is the PID; any other thread is gone after an exec) */
	t->fork_noexec = p->fork_noexec;
	if (p->pidfd >= 0 && (t->pidfd = fcntl(p->pidfd, F_DUPFD_CLOEXEC, 3)) < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	if (p->sentinel >= 0 && (t->sentinel = fcntl(p->sentinel, F_DUPFD_CLOEXEC, 3)) < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	r = ml_proc_check(p);
	if (r < 0)
		goto fail;
	/* a thread that has exited (a leader in state Z while others run) is gone as a task */
	if (proc_state(t) != ST_RUNNING) {
		r = -ESRCH;
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	ml_proc_free(t);
	return r;
}

int ml_proc_alive(const ml_proc *p)
{
	if (!p)
		return -EINVAL;
	return proc_state(p) == ST_RUNNING;
}

int ml_proc_check(const ml_proc *p)
{
	if (!p)
		return -EINVAL;
	return proc_state(p) == ST_RUNNING ? 0 : -ESRCH;
}

pid_t ml_proc_pid(const ml_proc *p) { return p ? p->pid : 0; }
bool ml_proc_is_live(const ml_proc *p) { return p && p->live; }
int ml_proc_dirfd(const ml_proc *p) { return p && ml__proc_materialize(p) == 0 ? p->dirfd : -1; }
int ml_proc_pidfd(const ml_proc *p) { return p ? p->pidfd : -1; }

static bool name_ok(const char *name)
{
	if (!name || !*name || name[0] == '/')
		return false;
	for (const char *s = name; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += n + (e ? 1 : 0);
	}
	return true;
}

int ml__proc_opendir(const ml_proc *p, const char *name, DIR **ret)
{
	int fd = ml_proc_openat(p, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = ml_neg_errno();
		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

static int op_open(int dfd, const char *name, void *arg)
{
	int fd = openat(dfd, name, *(const int *)arg | O_CLOEXEC);
	return fd >= 0 ? fd : ml_neg_errno();
}

static void undo_open(int fd, void *arg)
{
	(void)arg;
	close(fd);
}

static int openat_at(const ml_proc *p, const char *name, int flags, bool checked, pid_t *via)
{
	if (!p || !name_ok(name) || !via)
		return -EINVAL;
	int r0 = ml__proc_materialize(p);
	if (r0 < 0)
		return r0;
	int r = ml__proc_at(p, name, op_open, undo_open, &flags, checked, via);
	if (r >= 0)
		return r;
	if (p->live && (r == -ENOENT || r == -ESRCH) && proc_state(p) == ST_GONE)
		r = -ESRCH;
	return r;
}

int ml__proc_openat_via(const ml_proc *p, const char *name, int flags, pid_t *via)
{
	return openat_at(p, name, flags, true, via);
}

int ml_proc_openat(const ml_proc *p, const char *name, int flags)
{
	pid_t via;
	return openat_at(p, name, flags, false, &via);
}

int ml__proc_read_all(const ml_proc *p, const char *name, size_t hint, char **ret, size_t *ret_len)
{
	if (!p || !ret || !ret_len)
		return -EINVAL;
	for (int tries = 0;; tries++) {
		pid_t via;
		int fd = ml__proc_openat_via(p, name, O_RDONLY, &via);
		if (fd < 0)
			return fd;
		char *buf = NULL;
		size_t len = 0;
		int r = ml__read_fd_all(fd, hint, &buf, &len);
		close(fd);
		/* what it was read through lost the address space meanwhile: read it again */
		bool suspect = via || r == -ESRCH || (r == 0 && len == 0);
		if (suspect && tries < 8 && ml__proc_reread(p, name, via)) {
			free(buf);
			continue;
		}
		r = ml__proc_after_read(p, r, len);
		if (r < 0) {
			free(buf);
			return r;
		}
		*ret = buf;
		*ret_len = len;
		return 0;
	}
}

int ml_proc_read_file(const ml_proc *p, const char *name, char **ret, size_t *ret_len)
{
	return ml__proc_read_all(p, name, 4096, ret, ret_len);
}

struct readlink_arg {
	char *buf;
	size_t cap;
};

static int op_readlink(int dfd, const char *name, void *arg)
{
	struct readlink_arg *a = arg;
	ssize_t n = readlinkat(dfd, name, a->buf, a->cap);
	return n < 0 ? ml_neg_errno() : (int)n;
}

int ml__proc_readlink_via(const ml_proc *p, const char *name, char **ret, size_t *ret_len,
			  pid_t *via)
{
	if (!p || !ret || !ret_len || !via || !name_ok(name))
		return -EINVAL;
	int r0 = ml__proc_materialize(p);
	if (r0 < 0)
		return r0;
	size_t cap = 256;
	for (;;) {
		char *buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		struct readlink_arg a = { buf, cap };
		int n = ml__proc_at(p, name, op_readlink, NULL, &a, false, via);
		if (n < 0) {
			free(buf);
			if (p->live && (n == -ENOENT || n == -ESRCH) && proc_state(p) == ST_GONE)
				n = -ESRCH;
			return n;
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			int r = ml__proc_after_read(p, 0, (size_t)n);
			if (r < 0) {
				free(buf);
				return r;
			}
			*ret = buf;
			*ret_len = (size_t)n;
			return 0;
		}
		free(buf);
		if (cap > (1u << 20))
			return -ENAMETOOLONG;
		cap *= 4;
	}
}

int ml_proc_readlink(const ml_proc *p, const char *name, char **ret, size_t *ret_len)
{
	pid_t via;
	return ml__proc_readlink_via(p, name, ret, ret_len, &via);
}

struct fstatat_arg {
	struct stat *st;
	int flags;
};

int ml__stat_cached(int dfd, const char *name, int flags, struct stat *st)
{
	struct statx x;
	unsigned want = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO;
	if (statx(dfd, name, flags | AT_STATX_DONT_SYNC, want, &x) == 0) {
		memset(st, 0, sizeof(*st));
		st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
		st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
		st->st_ino = x.stx_ino;
		st->st_mode = x.stx_mode;
		st->st_nlink = x.stx_nlink;
		st->st_uid = x.stx_uid;
		st->st_gid = x.stx_gid;
		return 0;
	}
	if (errno != ENOSYS && errno != EPERM)
		return ml_neg_errno();
	return fstatat(dfd, name, st, flags) == 0 ? 0 : ml_neg_errno();
}

static int op_fstatat(int dfd, const char *name, void *arg)
{
	struct fstatat_arg *a = arg;
	return ml__stat_cached(dfd, name, a->flags, a->st);
}

int ml__proc_fstatat(const ml_proc *p, const char *name, struct stat *st, int flags)
{
	if (!p || !st || !name_ok(name))
		return -EINVAL;
	int r = ml__proc_materialize(p);
	if (r < 0)
		return r;
	struct fstatat_arg a = { st, flags };
	pid_t via;
	return ml__proc_at(p, name, op_fstatat, NULL, &a, false, &via);
}

void ml_proc_free(ml_proc *p)
{
	if (!p)
		return;
	ml__close_fd(&p->dirfd);
	ml__close_fd(&p->pidfd);
	ml__close_fd(&p->sentinel);
	ml__close_fd(&p->via_fd);
	ml__close_fd(&p->via_sentinel);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
