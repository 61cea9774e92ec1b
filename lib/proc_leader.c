/* The process handle once its main thread has exited while other threads run: what that
 * thread gave up is read through /proc/TID of a thread that runs (docs/architecture.md). */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/proc_impl.h"

/*
 * A thread that exits while its group runs on gives up its address space (exit_mm), its
 * descriptor table (exit_files), its fs (exit_fs) and its namespaces (exit_task_namespaces).
 * A process whose leader has exited (pthread_exit() in main) therefore shows none of them
 * under /proc/PID, although its other threads run that very address space: maps reads
 * empty, pagemap and mem do not open, fd/ lists nothing. /proc/TID of any other thread (the
 * tgid-style directory procfs has for every thread, which unlike task/TID also has
 * map_files/) shows them all: threads share them (one that unshare()d its fs or descriptor
 * table shows its own, as the leader's would have shown the leader's).
 *
 * These are the names that this applies to, by their first component, and when the handle
 * asks whether the leader has exited (a leader that runs should cost nothing):
 * - ASK: the leader's file opens and shows nothing in a way its reader cannot tell
 *   (pagemap reads EOF where the kernel opens it without an address space, before 6.x
 *   made that ESRCH, and is held open; clear_refs takes a write and does nothing; statm
 *   reads zeros): asked before opening it.
 * - EMPTY: the leader's file or directory opens and reads empty (mem: EOF, where an
 *   address that is not mapped is EIO): asked before opening it for a caller of
 *   ml_proc_openat(), which could not tell; the library's own readers
 *   (ml__proc_openat_via()) ask after a read that came back empty, for free before it.
 * - ON_FAILURE: the rest, and anything below a directory (fd/3, map_files/..., ns/mnt,
 *   net/unix), fail to open there (ENOENT, ESRCH, EINVAL): asked then.
 */
int ml__proc_leader_resource(const ml_proc *p, const char *name)
{
#define R(n, k) { n, ML__RES_##k }
	static const struct {
		const char *name;
		int kind; /* as the whole name; anything below it is ON_FAILURE */
	} res[] = {
		R("pagemap", ASK), R("clear_refs", ASK), R("statm", ASK),
		R("maps", EMPTY), R("smaps", EMPTY), R("smaps_rollup", EMPTY), R("numa_maps", EMPTY),
		R("mem", EMPTY), R("environ", EMPTY), R("auxv", EMPTY), R("cmdline", EMPTY),
		R("ksm_stat", EMPTY), R("ksm_merging_pages", EMPTY), R("coredump_filter", EMPTY),
		R("map_files", EMPTY), R("fd", EMPTY), R("fdinfo", EMPTY),
		R("exe", ON_FAILURE), R("cwd", ON_FAILURE), R("root", ON_FAILURE),
		R("ns", ON_FAILURE), R("net", ON_FAILURE),
		R("mounts", ON_FAILURE), R("mountinfo", ON_FAILURE), R("mountstats", ON_FAILURE),
	};
#undef R
	/* a task handle reads its own thread; a directory tree has no threads to ask */
	if (!p->live || p->task || p->pid <= 0)
		return ML__RES_NONE;
	size_t n = strcspn(name, "/");
	for (size_t i = 0; i < ML_ARRAY_SIZE(res); i++)
		if (strlen(res[i].name) == n && !memcmp(res[i].name, name, n))
			return name[n] ? ML__RES_ON_FAILURE : res[i].kind;
	return ML__RES_NONE;
}

/* The group has exited (zombie or reaped): its pidfd polls readable; without one, the
 * leader's status counts no other thread. */
static bool group_exited(const ml_proc *p)
{
	if (p->pidfd >= 0) {
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
		return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP));
	}
	return ml__proc_status_threads(p) <= 1;
}

/*
 * Whether the leader has exited while its group runs (state Z in its own stat; the group
 * not exited); if so, leader_gone is set for good. First the cheap test: the leader's exe
 * resolves while it has its address space, and it gives that up first (exit_mm() comes
 * before exit_files(), exit_fs() and exit_task_namespaces()), so a resolving exe also means
 * that whatever was just read through the leader was there. Called with mu held.
 */
bool ml__proc_leader_exited_locked(ml_proc *p)
{
	if (p->leader_gone)
		return true;
	char c, st = 0;
	if (readlinkat(p->dirfd, "exe", &c, 1) >= 0)
		return false;
	/* a leader that is Z while the others are being killed too (SIGKILL tears the group
	 * down thread by thread) is a process exiting, not one whose main thread left */
	if (ml__proc_stat_state(p, &st, NULL) < 0 || (st != 'Z' && st != 'X' && st != 'x') ||
	    group_exited(p) || ml__proc_group_exiting(p))
		return false;
	__atomic_store_n(&p->leader_gone, true, __ATOMIC_RELEASE);
	ml__proc_bind_sentinel_locked(p);
	return true;
}

void ml__proc_drop_thread_locked(ml_proc *p)
{
	ml__close_fd(&p->via_fd);
	p->via_tid = 0;
}

/* Whether the thread whose /proc/TID is @fd belongs to group @tgid and is not exiting. */
static bool thread_usable(int fd, pid_t tgid)
{
	if (ml__stat_exiting(fd, "stat") != 0)
		return false;
	char buf[1024];
	if (ml__read_small(fd, "status", buf, sizeof(buf)) <= 0)
		return false;
	const char *t = strstr(buf, "\nTgid:");
	return t && strtol(t + 6, NULL, 10) == (long)tgid;
}

/* A thread's directory names it only while it lives: then its "stat" still resolves (and
 * its TID is still its own: a TID is freed only when the thread is released). */
static bool thread_alive(int fd)
{
	struct stat sb;
	return fd >= 0 && fstatat(fd, "stat", &sb, 0) == 0;
}

/* ... and has not begun to exit: one that has may have given up the address space already,
 * while its directory still opens (and shows it empty). */
static bool thread_runs(int fd)
{
	return fd >= 0 && ml__stat_exiting(fd, "stat") == 0;
}

/*
 * Chooses a thread of the group that runs and opens its /proc/TID (through the procfs the
 * handle's directory is on, so in its PID namespace). Called with mu held.
 * @return 0; -ESRCH when every other thread is exiting too, or the process exec'd or is gone.
 */
static int pick_thread_locked(ml_proc *p)
{
	ml__proc_drop_thread_locked(p);
	int tfd = openat(p->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : ml_neg_errno();
	DIR *d = fdopendir(tfd);
	if (!d) {
		int r = ml_neg_errno();
		close(tfd);
		return r;
	}
	int fd = -1;
	pid_t tid = 0;
	struct dirent *de;
	while (fd < 0 && (de = readdir(d))) {
		char *end, name[32];
		long t = strtol(de->d_name, &end, 10);
		if (t <= 0 || *end || t == (long)p->pid)
			continue;
		snprintf(name, sizeof(name), "../%ld", t);
		fd = openat(p->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && !thread_usable(fd, p->pid))
			ml__close_fd(&fd);
		tid = (pid_t)t;
	}
	closedir(d);
	if (fd < 0)
		return -ESRCH;
	/* The leader still shows the exit: no thread exec'd (which would have taken its PID)
	 * and the group was not reaped (it is only once every thread has gone), so PID still
	 * names the handle's process and a thread whose Tgid is PID is one of its threads. */
	char st = 0;
	if (ml__proc_stat_state(p, &st, NULL) < 0 || (st != 'Z' && st != 'X' && st != 'x')) {
		close(fd);
		return -ESRCH;
	}
	p->via_fd = fd;
	p->via_tid = tid;
	return 0;
}

/* Whether the leader has exited, asked under mu (it may set leader_gone and read the leader's
 * own files; nothing there waits on anything but procfs). */
static bool leader_exited(ml_proc *p)
{
	pthread_mutex_lock(&p->mu);
	bool gone = ml__proc_leader_exited_locked(p);
	pthread_mutex_unlock(&p->mu);
	return gone;
}

/*
 * A handle opened (or materialised) after its leader exited has its sentinel on the
 * leader's empty maps, which can tell no exec: a thread that execs makes the leader run
 * again (state R), but if the new image's main thread exits in turn the leader is Z once
 * more, and the new image would be read as the old. pagemap opened through a thread that
 * runs is bound to the address space the group runs and, unlike maps (whose reads look
 * the thread up: ESRCH once it has gone), only to that: it reads EOF once an exec (or the
 * group's exit) has dropped it, which exec_state() takes as the end of the handle. Opened
 * when the leader is first seen exited, and again after a release; the leader's stat is
 * asked after the open, as after choosing the thread, so that it is the handle's address
 * space. Where pagemap cannot be opened (no ptrace read access) there is none, and an exec
 * is told by the leader's state alone.
 */
void ml__proc_bind_sentinel_locked(ml_proc *p)
{
	if (p->sentinel_had_data || p->via_sentinel >= 0 || !p->leader_gone)
		return;
	if (p->via_fd < 0 && pick_thread_locked(p) < 0)
		return;
	int fd = openat(p->via_fd, "pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char st = 0;
	if (ml__proc_via_sentinel_gone(fd) || !thread_runs(p->via_fd) || ml__proc_stat_state(p, &st, NULL) < 0 ||
	    (st != 'Z' && st != 'X' && st != 'x')) {
		close(fd); /* opened through a thread that was exiting, or after an exec: not bound */
		return;
	}
	__atomic_store_n(&p->via_sentinel, fd, __ATOMIC_RELEASE);
}

bool ml__proc_via_sentinel_gone(int fd)
{
	uint64_t e; /* pagemap reads whole entries: one, of page 0 */
	ssize_t n;
	do
		n = pread(fd, &e, sizeof(e), 0);
	while (n < 0 && errno == EINTR);
	return n <= 0;
}

/*
 * Runs @op on @name relative to the directory it is to be read through: the process's own,
 * or for what an exited leader gave up, a running thread's /proc/TID (another one if that
 * thread exits meanwhile). *via: 0, or the TID read through. @checked: the caller checks
 * an empty read with ml__proc_reread(); where it does not, a result of @op through a thread
 * that has begun to exit is released with @undo (NULL: nothing to release) and not used.
 *
 * @op itself never runs under mu: it may wait without bound (a path through root/ on a hung
 * NFS or FUSE mount, map_files/ on FUSE, fd/N of a FIFO without a writer, mem while the
 * target execs), and every other reader of the handle would wait with it. mu only guards
 * the choice of thread: the thread's directory is dup()ed under it (another reader may
 * close it when its thread exits) and @op runs on the copy.
 */
int ml__proc_at(const ml_proc *cp, const char *name, ml__dir_op op, ml__dir_undo undo, void *arg,
		bool checked, pid_t *via)
{
	ml_proc *p = (ml_proc *)cp;
	*via = 0;
	int kind = ml__proc_leader_resource(p, name);
	if (kind == ML__RES_NONE)
		return op(p->dirfd, name, arg);
	int r = -ESRCH;
	for (int tries = 0; tries < 64; tries++) {
		if (!ml__proc_leader_gone(p)) {
			bool ask = kind == ML__RES_ASK || (kind == ML__RES_EMPTY && !checked);
			if (ask && leader_exited(p))
				continue;
			r = op(p->dirfd, name, arg);
			if (r >= 0 || (r != -ENOENT && r != -ESRCH && r != -EINVAL) || !leader_exited(p))
				break;
			continue;
		}
		pthread_mutex_lock(&p->mu);
		if (p->via_fd < 0 && (r = pick_thread_locked(p)) < 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pid_t tid = p->via_tid;
		int vfd = fcntl(p->via_fd, F_DUPFD_CLOEXEC, 3);
		pthread_mutex_unlock(&p->mu);
		if (vfd < 0) {
			r = ml_neg_errno();
			break;
		}
		r = op(vfd, name, arg);
		bool done = r >= 0 || (r != -ENOENT && r != -ESRCH) || thread_runs(vfd);
		/* Opened, but the thread may have begun to exit between its choice and the open:
		 * then it may have had no address space left, and the file opens on none and reads
		 * empty (maps) or EOF (mem, pagemap before 6.x). A caller that checks an empty read
		 * asks ml__proc_reread(); for the others it is asked now, and what op made of it
		 * (an fd) is undone before another thread is tried. */
		if (r >= 0 && !checked && kind != ML__RES_ON_FAILURE && !thread_runs(vfd)) {
			if (undo)
				undo(r, arg);
			r = -ESRCH;
			done = false;
		}
		close(vfd);
		if (done) {
			*via = tid;
			break;
		}
		/* that thread has exited since it was chosen (unless another reader moved on) */
		pthread_mutex_lock(&p->mu);
		if (p->via_tid == tid)
			ml__proc_drop_thread_locked(p);
		pthread_mutex_unlock(&p->mu);
	}
	return r;
}

bool ml__proc_reread(const ml_proc *cp, const char *name, pid_t via)
{
	ml_proc *p = (ml_proc *)cp;
	if (ml__proc_leader_resource(p, name) == ML__RES_NONE || ml__proc_materialize(p) < 0)
		return false;
	pthread_mutex_lock(&p->mu);
	bool again;
	if (!via)
		again = ml__proc_leader_exited_locked(p);
	else if (p->via_tid != via)
		again = true; /* another reader has moved on from that thread already */
	else if ((again = !thread_runs(p->via_fd)))
		ml__proc_drop_thread_locked(p);
	pthread_mutex_unlock(&p->mu);
	return again;
}

/* After a read through thread @via's TID: whether that TID named it all along. */
static bool tid_held(ml_proc *p, pid_t via)
{
	pthread_mutex_lock(&p->mu);
	bool held = p->via_tid == via && thread_alive(p->via_fd);
	if (!held && p->via_tid == via)
		ml__proc_drop_thread_locked(p);
	pthread_mutex_unlock(&p->mu);
	return held;
}

/* process_vm_readv(2) of @pid: bytes, or -errno. */
static ssize_t vm_readv(pid_t pid, const struct iovec *local, const struct iovec *remote, size_t n)
{
	ssize_t got;
	do
		got = process_vm_readv(pid, local, (unsigned long)n, remote, (unsigned long)n, 0);
	while (got < 0 && errno == EINTR);
	return got < 0 ? ml_neg_errno() : got;
}

ssize_t ml__proc_vm_readv(const ml_proc *cp, const struct iovec *local, const struct iovec *remote,
			  size_t n)
{
	ml_proc *p = (ml_proc *)cp;
	bool may_route = ml__proc_leader_resource(p, "mem") != ML__RES_NONE;
	if (may_route && p->dirfd < 0) {
		/* A lazy or released handle reads through the PID, as it always has, and stays
		 * lazy: only a leader without an address space (ESRCH; its group may run on) needs
		 * the directory, to find a thread. Materialising first would open descriptors for
		 * every read, and two threads reading at once would both do it. */
		ssize_t got = vm_readv(p->pid, local, remote, n);
		if (got != -ESRCH)
			return got;
		int r = ml__proc_materialize(p);
		if (r < 0)
			return r;
	}
	for (int tries = 0; tries < 64; tries++) {
		pid_t pid = p->pid, via = 0;
		if (may_route && ml__proc_leader_gone(p)) {
			pthread_mutex_lock(&p->mu);
			int r = p->via_fd >= 0 ? 0 : pick_thread_locked(p);
			pid = via = p->via_tid;
			pthread_mutex_unlock(&p->mu);
			if (r < 0)
				return r;
		}
		ssize_t ret = vm_readv(pid, local, remote, n);
		if (!may_route)
			return ret;
		/* Through the leader, ESRCH means it has no address space: the group may have. A
		 * TID names its thread only while it lives: if that one is gone now, the number
		 * may have named another process during the call, so the bytes are not used; an
		 * error through a thread that has begun to exit is tried through another. */
		if (!via ? ret != -ESRCH || !ml__proc_reread(p, "mem", 0)
			 : ret >= 0 ? tid_held(p, via) : !ml__proc_reread(p, "mem", via))
			return ret;
	}
	return -ESRCH;
}

pid_t ml__proc_mm_pid(const ml_proc *cp)
{
	ml_proc *p = (ml_proc *)cp;
	if (ml__proc_leader_resource(p, "mem") == ML__RES_NONE || ml__proc_materialize(p) < 0)
		return p->pid;
	pthread_mutex_lock(&p->mu);
	pid_t pid = p->pid;
	if (ml__proc_leader_exited_locked(p))
		pid = p->via_fd >= 0 || pick_thread_locked(p) == 0 ? p->via_tid : 0;
	pthread_mutex_unlock(&p->mu);
	return pid;
}
