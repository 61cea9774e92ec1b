/* The capture's notes: each thread's registers and state, the process's, in the kernel's
 * layouts (lib/capture_notes.c), read while the target is held. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/capture_state.h"

static int read_num_file(const ml_proc *p, const char *name, char **buf, size_t *len)
{
	int r = ml_proc_read_file(p, name, buf, len);
	return r;
}

static int thread_info(cap *c, pid_t tid, bool leader, ml__thread_info *ti)
{
	char name[64], *st = NULL, *stat = NULL;
	size_t sl, tl;
	memset(ti, 0, sizeof(*ti));
	ti->tid = tid;
	snprintf(name, sizeof(name), "task/%d/status", (int)tid);
	int r = read_num_file(c->p, name, &st, &sl);
	if (r < 0)
		return r;
	/* The leader's times are the whole group's, as the kernel writes them. */
	if (leader)
		snprintf(name, sizeof(name), "stat");
	else
		snprintf(name, sizeof(name), "task/%d/stat", (int)tid);
	r = read_num_file(c->p, name, &stat, &tl);
	if (r < 0) {
		free(st);
		return r;
	}
	uint64_t u;
	if (ml__status_num(st, sl, "SigPnd", true, &u) == 0)
		ti->sigpend = u;
	if (ml__status_num(st, sl, "SigBlk", true, &u) == 0)
		ti->sighold = u;
	if (ml__status_num(st, sl, "PPid", false, &u) == 0)
		ti->ppid = (pid_t)u;
	int64_t f;
	long tck = sysconf(_SC_CLK_TCK);
	uint64_t us_per_tick = tck > 0 ? 1000000u / (uint64_t)tck : 10000u;
	if (ml__stat_field(stat, tl, 5, &f) == 0) ti->pgrp = (pid_t)f;
	if (ml__stat_field(stat, tl, 6, &f) == 0) ti->sid = (pid_t)f;
	if (ml__stat_field(stat, tl, 14, &f) == 0) ti->utime_us = (uint64_t)f * us_per_tick;
	if (ml__stat_field(stat, tl, 15, &f) == 0) ti->stime_us = (uint64_t)f * us_per_tick;
	if (ml__stat_field(stat, tl, 16, &f) == 0) ti->cutime_us = (uint64_t)f * us_per_tick;
	if (ml__stat_field(stat, tl, 17, &f) == 0) ti->cstime_us = (uint64_t)f * us_per_tick;
	free(st);
	free(stat);
	return 0;
}

static int add_note(cap *c, const char *name, uint32_t type, const void *d, size_t len)
{
	int r = ml_snapshot_writer_add_note(c->w, name, type, d, len);
	return r < 0 ? ml__cap_fail(r, "adding a note: %s", ml_error_detail()) : 0;
}

/* TIDs of the process from task/ (used when it is not frozen). */
static int list_tids(const ml_proc *p, pid_t **ret, size_t *ret_n)
{
	int fd = ml_proc_openat(p, "task", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ml_neg_errno();
	}
	pid_t *t = NULL;
	size_t n = 0, tcap = 0;
	struct dirent *de;
	pid_t leader = ml_proc_pid(p);
	while ((de = readdir(d))) {
		char *e;
		long tid = strtol(de->d_name, &e, 10);
		if (*e || tid <= 0)
			continue;
		if (ml__grow(&t, &tcap, n + 1, sizeof(*t)) < 0) {
			closedir(d);
			free(t);
			return -ENOMEM;
		}
		t[n++] = (pid_t)tid;
		if (tid == leader && n > 1) { /* leader first */
			t[n - 1] = t[0];
			t[0] = (pid_t)tid;
		}
	}
	closedir(d);
	*ret = t;
	*ret_n = n;
	return 0;
}

int ml__cap_build_notes(cap *c, const char *cmdline, size_t cmdline_len, const char *comm,
		       size_t comm_len, const char *auxv, size_t auxv_len, const char *status, size_t status_len)
{
	pid_t *tids = NULL;
	size_t nt;
	int r;
	if (c->fz) {
		nt = ml_freeze_count(c->fz);
		tids = malloc(nt * sizeof(*tids));
		if (!tids)
			return -ENOMEM;
		for (size_t i = 0; i < nt; i++)
			tids[i] = ml_freeze_tid(c->fz, i);
	} else if ((r = list_tids(c->p, &tids, &nt)) < 0) {
		return ml__cap_fail(r, "listing threads");
	}
	unsigned char *xs = malloc(65536), *nfile = NULL;
	if (!xs) {
		free(tids);
		return -ENOMEM;
	}
	size_t nfile_len = 0;
	uint64_t xmask = 0;
	bool have_xmask = false;
	size_t written = 0;
	r = ml__note_file(c->sm, c->page, &nfile, &nfile_len);
	for (size_t i = 0; i < nt && r == 0; i++) {
		ml__thread_info ti;
		r = thread_info(c, tids[i], written == 0, &ti);
		if (r == -ENOENT || r == -ESRCH) {
			/* Unheld (no freeze), a thread listed in task/ may have exited since: like
			 * one that exits just before the listing, it is not in the core. Only the
			 * process leaving (or its leader, which stays listed until then) ends it. */
			if (!c->fz && tids[i] != c->pid && ml_proc_check(c->p) == 0) {
				r = 0;
				continue;
			}
			r = -ESRCH;
		}
		if (r < 0) {
			r = ml__cap_fail(r, "reading thread %d", (int)tids[i]);
			break;
		}
		unsigned char regs[216], fp[512], ps[ML__PRSTATUS_SIZE];
		memset(regs, 0, sizeof(regs));
		ssize_t fpl = -1, xl = -1;
		if (c->fz) {
			ssize_t g = ml_freeze_regset(c->fz, i, ML__NT_PRSTATUS, regs, sizeof(regs));
			if (g < 0) {
				r = ml__cap_fail(g == -ESRCH ? -ESRCH : (int)g, "reading the registers of thread %d", (int)tids[i]);
				break;
			}
			fpl = ml_freeze_regset(c->fz, i, ML__NT_FPREGSET, fp, sizeof(fp));
			xl = ml_freeze_regset(c->fz, i, ML__NT_X86_XSTATE, xs, 65536);
		}
		ml__note_prstatus(&ti, regs, sizeof(regs), fpl == 512, ps);
		r = add_note(c, "CORE", ML__NT_PRSTATUS, ps, sizeof(ps));
		if (r == 0 && written++ == 0) {
			ml__proc_info pi;
			memset(&pi, 0, sizeof(pi));
			pi.pid = c->pid;
			pi.ppid = ti.ppid;
			pi.pgrp = ti.pgrp;
			pi.sid = ti.sid;
			pi.comm = comm;
			pi.comm_len = comm_len;
			pi.cmdline = cmdline;
			pi.cmdline_len = cmdline_len;
			uint64_t u;
			if (ml__status_num(status, status_len, "Uid", false, &u) == 0) pi.uid = (uint32_t)u;
			if (ml__status_num(status, status_len, "Gid", false, &u) == 0) pi.gid = (uint32_t)u;
			char *stat;
			size_t sl;
			pi.state = 'S';
			if (ml_proc_read_file(c->p, "stat", &stat, &sl) == 0) {
				int64_t f;
				if (ml__stat_field(stat, sl, 3, &f) == 0) pi.state = (char)f;
				if (ml__stat_field(stat, sl, 9, &f) == 0) pi.flags = (uint64_t)f;
				if (ml__stat_field(stat, sl, 19, &f) == 0) pi.nice = (int)f;
				free(stat);
			}
			if (c->fz) /* it shows as traced now; it was running before we came */
				pi.state = ml_freeze_stop_kind(c->fz, 0) == ML_FREEZE_GROUP_STOPPED ? 'T' : 'S';
			unsigned char psi[ML__PRPSINFO_SIZE], si[ML__SIGINFO_SIZE];
			ml__note_prpsinfo(&pi, psi);
			memset(si, 0, sizeof(si));
			if (c->fz)
				ml_freeze_siginfo(c->fz, 0, si, sizeof(si));
			r = add_note(c, "CORE", ML__NT_PRPSINFO, psi, sizeof(psi));
			if (r == 0)
				r = add_note(c, "CORE", ML__NT_SIGINFO, si, sizeof(si));
			if (r == 0)
				r = add_note(c, "CORE", ML__NT_AUXV, auxv, auxv_len);
			if (r == 0)
				r = add_note(c, "CORE", ML__NT_FILE, nfile, nfile_len);
		}
		if (r == 0 && fpl == 512)
			r = add_note(c, "CORE", ML__NT_FPREGSET, fp, 512);
		if (r == 0 && xl > 0)
			r = add_note(c, "LINUX", ML__NT_X86_XSTATE, xs, (size_t)xl);
		if (xl >= 472 && !have_xmask) {
			memcpy(&xmask, xs + 464, 8); /* the kernel's user xfeature mask, as ptrace shows it */
			have_xmask = true;
		}
	}
	c->res.threads = written;
	/* After the threads, like the kernel (6.12+): where each XSAVE feature lies in
	 * NT_X86_XSTATE. Sizes and offsets are the CPU's (CPUID leaf 0xD), as the kernel's are. */
	uint64_t cpu_mask;
	uint32_t xsize[64], xoff[64];
	if (r == 0 && ml__xsave_cpu_layout(&cpu_mask, xsize, xoff) == 0) {
		unsigned char lay[64 * 16];
		size_t ll = ml__note_xsave_layout(have_xmask ? xmask & cpu_mask : cpu_mask, xsize, xoff, lay);
		r = add_note(c, "LINUX", ML__NT_X86_XSAVE_LAYOUT, lay, ll);
	}
	free(nfile);
	free(xs);
	free(tids);
	return r;
}
