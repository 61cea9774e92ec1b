/* The capture's copy-on-write copy (--freeze=cow): what rules the fork out, what is read
 * from the target while it is held, and ending the copy (killed, collected, reaped in the
 * target, with the copies an earlier dumper left). The injection itself is lib/inject.c. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/cgroup.h>
#include "internal/capture_state.h"

/* Says why the fork is not used: an error unless a fallback to the ptrace freeze is allowed. */
int ml__cap_cow_refuse(cap *c, const char *why)
{
	snprintf(c->res.why_not_cow, sizeof(c->res.why_not_cow), "%s", why);
	if (!c->o.cow_fallback)
		return ml__cap_fail(-EOPNOTSUPP, "cannot use a copy-on-write copy: %s", why);
	return 0;
}


/* Memory that can still be charged before a limit: MemAvailable, and the target cgroup's
 * (or the limiting ancestor's) memory.max - memory.current. */
static uint64_t cow_headroom(cap *c)
{
	uint64_t room = ml__cap_meminfo_available();
	ml_cgroup_memory *cm;
	if (ml_cgroup_memory_read(c->p, NULL, &cm) == 0) {
		if (cm->effective_max.err == 0 && cm->effective_max.value != ML_CGROUP_UNLIMITED) {
			uint64_t cur = cm->current.err == 0 ? cm->current.value : 0;
			if (cm->effective_dir) { /* the limit binds where it is set: that level's usage */
				char path[4096];
				snprintf(path, sizeof(path), "%s/memory.current", cm->effective_dir);
				FILE *f = fopen(path, "re");
				uint64_t v;
				if (f && fscanf(f, "%" SCNu64, &v) == 1)
					cur = v;
				if (f)
					fclose(f);
			}
			uint64_t lim = cm->effective_max.value, cg = lim > cur ? lim - cur : 0;
			room = ML_MIN(room, cg);
		}
		ml_cgroup_memory_free(cm);
	}
	return room;
}

/* Whether process @other has the same address space as @pid (kcmp KCMP_VM). */
static bool same_mm(pid_t pid, pid_t other)
{
	return other > 0 && other != pid && syscall(SYS_kcmp, pid, other, KCMP_VM, 0, 0) == 0;
}

/* The target's children: task/TID/children where the kernel has it, else every process's
 * PPid. Returns how many (at most @max) were put in @out. */
static size_t children_of(cap *c, pid_t *out, size_t max)
{
	size_t n = 0;
	bool have_children = false;
	int td = ml_proc_openat(c->p, "task", O_RDONLY | O_DIRECTORY);
	DIR *d = td >= 0 ? fdopendir(td) : NULL;
	if (!d && td >= 0)
		close(td);
	struct dirent *de;
	while (d && n < max && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char name[300], *buf;
		size_t len;
		snprintf(name, sizeof(name), "task/%s/children", de->d_name);
		if (ml_proc_read_file(c->p, name, &buf, &len) < 0)
			continue;
		have_children = true;
		for (char *q = buf; *q && n < max;) {
			char *end;
			long ch = strtol(q, &end, 10);
			if (end == q)
				break;
			out[n++] = (pid_t)ch;
			q = end;
		}
		free(buf);
	}
	if (d)
		closedir(d);
	if (have_children)
		return n;
	DIR *pd = opendir("/proc");
	while (pd && n < max && (de = readdir(pd))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (k <= 0)
			continue;
		buf[k] = '\0';
		char *rp = strrchr(buf, ')'), st;
		int pp;
		if (rp && sscanf(rp + 1, " %c %d", &st, &pp) == 2 && pp == c->pid)
			out[n++] = atoi(de->d_name);
	}
	if (pd)
		closedir(pd);
	return n;
}

/* A process that shares the target's address space without being one of its threads: its
 * vfork() parent or child (also posix_spawn's, or any clone(CLONE_VM) without
 * CLONE_THREAD). The fork would copy memory the other process goes on changing, and a
 * thread waiting for its vfork child does not stop. 0 if none (or kcmp is missing). */
static pid_t mm_sharer(cap *c, const char *status, size_t status_len)
{
	/* kcmp() compares a task's own mm: a leader that has exited has none (nor has a zombie
	 * child), so the question goes to a thread that runs */
	pid_t self = ml__proc_mm_pid(c->p);
	uint64_t ppid = 0;
	if (self <= 0)
		return 0;
	if (ml__status_num(status, status_len, "PPid", false, &ppid) == 0 && same_mm(self, (pid_t)ppid))
		return (pid_t)ppid;
	pid_t ch[256];
	size_t n = children_of(c, ch, 256);
	for (size_t i = 0; i < n; i++)
		if (same_mm(self, ch[i]))
			return ch[i];
	return 0;
}

/* Copies left behind by a dumper that died (ML__COPY_EXIT, ML__COPY_OOM_ADJ): zombie
 * children of the target with exit signal 0 and one of the two marks. */
static size_t cow_leftovers(cap *c, pid_t *out, size_t max)
{
	pid_t ch[256];
	size_t n = children_of(c, ch, 256), k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		char path[64], buf[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)ch[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		char *rp = strrchr(buf, ')');
		if (!rp || rp[1] != ' ' || rp[2] != 'Z')
			continue;
		/* Fields after the name: 3 is the state; 38 exit_signal, 52 exit_code. */
		long f[53] = { 0 };
		int idx = 4;
		for (char *q = rp + 4; *q && idx < 53; idx++) {
			char *end;
			f[idx] = strtol(q, &end, 10);
			if (end == q)
				break;
			q = end;
		}
		if (idx < 53 || f[38] != 0 || f[4] != c->pid)
			continue;
		bool marked = f[52] == (ML__COPY_EXIT << 8);
		if (!marked) {
			snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)ch[i]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
			if (fd >= 0)
				close(fd);
			marked = len > 0 && (buf[len] = '\0', atoi(buf) == ML__COPY_OOM_ADJ);
		}
		if (marked)
			out[k++] = ch[i];
	}
	return k;
}

/* Before the freeze: what rules a fork out without stopping anything. NULL if none. */
const char *ml__cap_cow_precheck(cap *c, const char *status, size_t status_len)
{
	uint64_t v;
	if (ml__status_num(status, status_len, "Seccomp", false, &v) == 0 && v != 0)
		return v == 1 ? "it runs in seccomp strict mode" :
			"it runs under a seccomp filter (an injected clone could be refused, or kill it)";
	/* The copy is reaped in the target by the PID the target sees it under; where its
	 * children live in another PID namespace than ours that PID is not the one we learn,
	 * and a wait4 on it could reap one of the target's own children. */
	struct stat ours, theirs;
	int nsfd = ml_proc_openat(c->p, "ns/pid_for_children", O_RDONLY);
	bool same_ns = nsfd >= 0 && fstat(nsfd, &theirs) == 0 && stat("/proc/self/ns/pid", &ours) == 0 &&
		       ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
	if (nsfd >= 0)
		close(nsfd);
	if (!same_ns)
		return "its children live in another PID namespace than memlens (the copy could not be reaped safely)";
	pid_t sharer = mm_sharer(c, status, status_len);
	if (sharer) {
		static __thread char vmsg[160];
		snprintf(vmsg, sizeof(vmsg),
			 "it shares its address space with process %d (a vfork() not yet followed by exec or exit)",
			 (int)sharer);
		return vmsg;
	}
	const char *why = NULL;
	int r = ml__gadgets_find(c->p, &c->gad, &why);
	if (r < 0)
		return why ? why : "its mappings could not be examined";
	/* Every private page it writes during the capture is copied: the worst case is all of
	 * its anonymous memory. */
	uint64_t anon = 0;
	ml_smaps_rollup *ro;
	if (ml__status_num(status, status_len, "RssAnon", false, &anon) == 0) {
		anon *= 1024;
	} else if (ml_smaps_rollup_read(c->p, &ro) == 0) {
		/* an exited leader's status has no memory lines: the address space's own count */
		anon = ro->f.anonymous;
		ml_smaps_rollup_free(ro);
	} else {
		return "its anonymous memory could not be measured";
	}
	c->res.cow_headroom = cow_headroom(c);
	if (anon > c->res.cow_headroom) {
		static __thread char msg[160];
		snprintf(msg, sizeof(msg),
			 "its %" PRIu64 " MiB of private memory could all need copying; only %" PRIu64
			 " MiB can be (MemAvailable, cgroup memory.max)",
			 anon >> 20, c->res.cow_headroom >> 20);
		return msg;
	}
	return NULL;
}

/* With the mappings known: what else rules it out. */
const char *ml__cap_cow_vmcheck(cap *c)
{
	for (size_t i = 0; i < c->nv; i++) {
		const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
		if (v->vm_flags & (ML_VMF_UM | ML_VMF_UW | ML_VMF_UI))
			return "it uses userfaultfd (a fork could wait for its fault handler)";
		if (v->vm_flags & ML_VMF_SS)
			return "it uses a shadow stack";
	}
	return NULL;
}

/* Mappings the copy does not hold the target's bytes of: read from the target while it is held. */
bool ml__cap_held_in_target(const ml_smaps_vma *v)
{
	return (v->vm_flags & (ML_VMF_SH | ML_VMF_DC | ML_VMF_WF | ML_VMF_HT)) ||
	       (v->vma.perms & ML_PERM_SHARED);
}

/* Kills the copy, collects its exit as its tracer, and reaps it in the target. */
void ml__cap_cow_end(cap *c)
{
	pid_t ch = c->child_pid;
	c->child_pid = 0;
	if (c->child) {
		if (c->child_mem >= 0)
			close(c->child_mem);
		c->child_mem = -1;
		ml_pagemap_free(c->child_pm);
		c->child_pm = NULL;
		ml_proc_free(c->child);
		c->child = NULL;
	}
	if (!ch)
		return;
	kill(ch, SIGKILL);
	for (;;) {
		int st;
		pid_t w = waitpid(ch, &st, __WALL);
		if (w < 0 ? errno != EINTR : (WIFEXITED(st) || WIFSIGNALED(st)))
			break;
	}
	/* Now a zombie of the target's (exit signal 0: it got no SIGCHLD); reaped there, by
	 * holding one of its threads for a moment: that counts as stopped time too. */
	uint64_t t = ml__cap_now_ns();
	if (ml_proc_check(c->p) == 0)
		ml__reap_in(c->p, ch, &c->gad);
	/* With the zombies of copies whose dumper died before it could reap them. */
	pid_t left[32];
	size_t n = ml_proc_check(c->p) == 0 ? cow_leftovers(c, left, 32) : 0;
	for (size_t i = 0; i < n; i++)
		ml__reap_in(c->p, left[i], &c->gad);
	c->res.stop_ns += ml__cap_now_ns() - t;
	c->rp = c->p;
	c->rpm = c->pm;
}
