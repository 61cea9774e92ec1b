/* ml_capture: freeze, list and pick mappings, build the core notes, read populated pages into the snapshot writer, release. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/capture_impl.h"
#include "internal/page_internal.h"
#include "internal/inject.h"
#include <memlens/capture.h>
#include <memlens/freeze.h>
#include <memlens/maps.h>
#include <memlens/mem.h>
#include <memlens/smaps.h>
#include <memlens/pagemap.h>
#include <memlens/cgroup.h>
#include <sys/wait.h>
#include <signal.h>

#include <memlens/snapshot.h>


/* The first (innermost) reason of this thread's capture failure; it becomes the thread's
 * error detail when ml_capture() returns. */
static __thread char cap_err[256];

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int err, const char *fmt, ...)
{
	if (!cap_err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(cap_err, sizeof(cap_err), fmt, ap);
		va_end(ap);
	}
	return err;
}


static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define CAP_NREG 512

typedef struct cap {
	const ml_proc *p;
	pid_t pid;
	/* What memory is read from: the target, or (--freeze=cow, once it runs again) its copy. */
	const ml_proc *rp;
	pid_t rpid;
	ml_pagemap *rpm;
	ml_proc *child;       /* the copy-on-write copy, held by us */
	ml_pagemap *child_pm;
	int child_mem;        /* its /proc/PID/mem */
	pid_t child_pid;      /* set as soon as it exists: killed and reaped on every path */
	ml__gadgets gad;
	ml_capture_opts o;
	ml_snapshot_writer *w;
	ml_freeze *fz;
	ml_smaps *sm;       /* the mappings, read once the target is held */
	ml_maps *exact;     /* exact names for what smaps text left ambiguous (see exact_names) */
	ml_buf resolved;    /* "START-END\n" of each mapping whose ambiguous name was resolved */
	size_t nv;
	ml_pagemap *pm;
	ml_scan_opts so;
	uint64_t page;
	ml_capture_result res;
	ml_capture_progress prog;
	uint64_t next_prog;
	ml_page_region reg[CAP_NREG];
	/* Staging area: memory read while the target is held lands here (faulted in before
	 * the freeze). After the release the writer compresses (or writes) straight from it;
	 * each 2 MiB block is freed once the writer has released all of it. (Handing it over
	 * while the target is held, for a core the reading leaves idle, made the stop 11%
	 * longer and the wall time no shorter: docs/benchmarks.md.) */
	unsigned char *stage;
	size_t stage_cap, stage_used;
	uint32_t *blk;      /* per block: bytes released by the writer (atomic) */
	size_t nblk;
	struct stage_seg {
		uint64_t addr;
		size_t off, len, vma;
	} *seg;
	size_t nseg, capseg, cur_vma;
} cap;

#define STAGE_BLOCK (2u << 20)

/* The writer is done with staged bytes: count them against their blocks, unmap full ones. */
static void stage_done(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)addr;
	cap *c = ctx;
	size_t off = (size_t)((const unsigned char *)buf - c->stage);
	while (len) {
		size_t b = off / STAGE_BLOCK, n = ML_MIN(len, (b + 1) * (size_t)STAGE_BLOCK - off);
		/* MADV_DONTNEED frees the pages under the read side of our mmap lock (munmap
		 * would take the write side, against the reads into the rest of the area) and
		 * keeps the addresses reserved until the whole area is unmapped. */
		if (__atomic_add_fetch(&c->blk[b], (uint32_t)n, __ATOMIC_ACQ_REL) == STAGE_BLOCK)
			madvise(c->stage + b * STAGE_BLOCK, STAGE_BLOCK, MADV_DONTNEED);
		off += n;
		len -= n;
	}
}

/* Frees the blocks from @from (rounded up to a block) on, that no staged byte lies in. */
static void stage_trim(cap *c, size_t from)
{
	size_t b = from / STAGE_BLOCK + (from % STAGE_BLOCK != 0);
	if (b < c->nblk)
		madvise(c->stage + b * STAGE_BLOCK, (c->nblk - b) * STAGE_BLOCK, MADV_DONTNEED);
}



/* The process being read is gone: the target, or the copy (killed, e.g. by the OOM killer). */
static int gone(cap *c)
{
	if (c->child && c->rp == c->child)
		return fail(-ESRCH, "the copy-on-write copy was killed during the capture (the OOM killer?)");
	return fail(-ESRCH, "the process exited during the capture");
}

static int progress(cap *c, bool force)
{
	if (!c->o.progress)
		return 0;
	if (!force && c->prog.bytes_scanned < c->next_prog)
		return 0;
	c->next_prog = c->prog.bytes_scanned + (32u << 20);
	ml_snapshot_progress sp;
	if (ml_snapshot_writer_progress(c->w, &sp) == 0) {
		c->prog.bytes_done = sp.bytes_done;
		c->prog.bytes_stored = sp.bytes_stored;
	}
	if (c->o.progress(c->o.progress_ctx, &c->prog))
		return fail(-ECANCELED, "cancelled");
	return 0;
}

static int add_run(cap *c, uint64_t a, uint64_t len, ml_run_kind k)
{
	if (!len)
		return 0;
	int r = ml_snapshot_writer_add_run(c->w, a, len, k);
	if (r < 0)
		return fail(r, "recording %#" PRIx64 "-%#" PRIx64 ": %s", a, a + len,
			    ml_error_detail());
	switch (k) {
	case ML_RUN_ZERO: c->res.bytes_zero += len; break;
	case ML_RUN_UNPOPULATED: c->res.bytes_unpopulated += len; break;
	case ML_RUN_EXCLUDED: c->res.bytes_excluded += len; break;
	default: c->res.bytes_unreadable += len; break;
	}
	return 0;
}

/* Records that stage bytes [off, off+len) hold the target's [addr, addr+len). */
static int stage_note(cap *c, uint64_t addr, size_t off, size_t len)
{
	struct stage_seg *l = c->nseg ? &c->seg[c->nseg - 1] : NULL;
	if (l && l->vma == c->cur_vma && l->addr + l->len == addr && l->off + l->len == off) {
		l->len += len;
		return 0;
	}
	if (ml__grow(&c->seg, &c->capseg, c->nseg + 1, sizeof(*c->seg)) < 0)
		return fail(-ENOMEM, "out of memory");
	c->seg[c->nseg++] = (struct stage_seg){ addr, off, len, c->cur_vma };
	return 0;
}

/* Reads [a, b) of present memory of the target: into the staging area while it has room
 * (a plain copy into memory that is already there), else into the writer's buffers. */
static int read_live(cap *c, uint64_t a, uint64_t b)
{
	while (a < b) {
		void *buf;
		size_t got;
		bool staged = c->stage_cap - c->stage_used >= c->page;
		int r = 0;
		if (staged) {
			buf = c->stage + c->stage_used;
			got = (size_t)ML_MIN(b - a, (uint64_t)(c->stage_cap - c->stage_used));
		} else {
			r = ml_snapshot_writer_reserve(c->w, a, (size_t)ML_MIN(b - a, (uint64_t)SIZE_MAX), &buf, &got);
		}
		if (r < 0)
			return fail(r, "buffering %#" PRIx64 ": %s", a, ml_error_detail());
		/* One process_vm_readv: ml_mem_read() would also check that the process is still
		 * the same after every read, which costs more than the read for small runs (a
		 * target with 32768 runs of one page: 93 ms stopped, 236 ms that way). The
		 * capture checks that once at the release, and here after a short read. */
		struct iovec l = { buf, got }, rv = { (void *)(uintptr_t)a, got };
		/* From the copy through its mem file: process_vm_readv pins pages, and pinning an
		 * anonymous page that the copy shares with the target makes the kernel copy it
		 * (unshare), which would double the memory a copy-on-write capture costs. */
		ssize_t n = c->rp == c->child && c->child_mem >= 0 ? pread(c->child_mem, buf, got, (off_t)a)
								  : process_vm_readv(c->rpid, &l, 1, &rv, 1, 0);
		if (n < 0 && errno == ESRCH) {
			if (!staged)
				ml_snapshot_writer_commit(c->w, a, 0);
			return gone(c);
		}
		size_t k = n > 0 ? (size_t)n : 0;
		if (k < got) {
			/* present PROT_NONE pages: ml_mem_read() goes on with /proc/PID/mem (FOLL_FORCE) */
			ssize_t m = ml_mem_read(c->rp, a + k, (char *)buf + k, got - k);
			if (m > 0)
				k += (size_t)m;
		}
		k &= ~(size_t)(c->page - 1);
		if (staged) {
			if (k && (r = stage_note(c, a, c->stage_used, k)) < 0)
				return r;
			c->stage_used += k;
		} else if ((r = ml_snapshot_writer_commit(c->w, a, k)) < 0) {
			return fail(r, "writing %#" PRIx64 ": %s", a, ml_error_detail());
		}
		c->res.bytes_data += k;
		c->prog.bytes_read += k;
		a += k;
		if (k < got) {
			if (ml_proc_check(c->rp) < 0)
				return gone(c);
			/* One page could not be read (unmapped meanwhile, I/O error): say so, go on. */
			r = add_run(c, a, c->page, ML_RUN_UNREADABLE);
			if (r < 0)
				return r;
			a += c->page;
		}
	}
	return 0;
}

/* Pages of a file or shared mapping that the target has not mapped: their bytes are the file's. */
static int read_file_range(cap *c, const ml_smaps_vma *v, int fd, uint64_t a, uint64_t b)
{
	if (fd < 0)
		return add_run(c, a, b - a, ML_RUN_UNREADABLE);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return add_run(c, a, b - a, ML_RUN_UNREADABLE);
	/* Beyond the end of the file the target would get SIGBUS: nothing to read. */
	uint64_t lim = ML_MIN(b, ML_MAX(ml__vma_file_end(&v->vma, (uint64_t)st.st_size), a));
	while (a < lim) {
		off_t off = (off_t)(v->vma.offset + (a - v->vma.start));
		off_t d = lseek(fd, off, SEEK_DATA);
		uint64_t da = d < 0 ? lim : ML_MIN(lim, v->vma.start + ((uint64_t)d - v->vma.offset));
		if (d < 0 && errno != ENXIO)
			da = a; /* no SEEK_DATA: treat all as data */
		da &= ~(c->page - 1);
		if (da > a) {
			int r = add_run(c, a, da - a, ML_RUN_ZERO);
			if (r < 0)
				return r;
			a = da;
			continue;
		}
		off_t h = lseek(fd, off, SEEK_HOLE);
		uint64_t ha = h < 0 ? lim : ML_MIN(lim, v->vma.start + ((uint64_t)h - v->vma.offset));
		ha = (ha + c->page - 1) & ~(c->page - 1);
		if (ha <= a)
			ha = ML_MIN(lim, a + c->page);
		while (a < ha) {
			void *buf;
			size_t got;
			int r = ml_snapshot_writer_reserve(c->w, a, (size_t)(ha - a), &buf, &got);
			if (r < 0)
				return fail(r, "buffering %#" PRIx64 ": %s", a, ml_error_detail());
			ssize_t m = ml__vma_file_read(fd, &v->vma, a, buf, got);
			size_t k = m > 0 ? (size_t)m & ~(size_t)(c->page - 1) : 0;
			r = ml_snapshot_writer_commit(c->w, a, k);
			if (r < 0)
				return fail(r, "writing %#" PRIx64 ": %s", a, ml_error_detail());
			c->res.bytes_data += k;
			a += k;
			if (k < got) /* the file shrank (or an I/O error): nothing there to read */
				return add_run(c, a, b - a, ML_RUN_UNREADABLE);
		}
	}
	if (lim < b)
		return add_run(c, lim, b - lim, ML_RUN_UNREADABLE);
	return 0;
}

/* Fills c->reg with the present or swapped runs of [a, b); *next is where to resume. */
static ssize_t scan(cap *c, uint64_t a, uint64_t b, uint64_t *next)
{
	c->so.start = a;
	c->so.end = b;
	return ml_pagemap_scan(c->rpm, &c->so, c->reg, CAP_NREG, next);
}

/* Our own [vdso]: the same image as the target's when it has the same size. */
static bool self_vdso(uint64_t *start, uint64_t *end)
{
	ml_proc *self;
	ml_maps *m;
	bool found = false;
	if (ml_proc_self(&self) < 0)
		return false;
	if (ml_maps_read(self, ML_MAPS_TEXT, &m) == 0) {
		for (size_t i = 0; i < ml_maps_count(m) && !found; i++) {
			const ml_vma *v = ml_maps_get(m, i);
			if (v->kind == ML_VMA_VDSO) {
				*start = v->start;
				*end = v->end;
				found = true;
			}
		}
		ml_maps_free(m);
	}
	ml_proc_free(self);
	return found;
}

/* The bytes of [a, b) in mapping @v that the target has no page for. */
static int gap(cap *c, const ml_smaps_vma *v, int *filefd, uint64_t a, uint64_t b)
{
	if (a >= b)
		return 0;
	if (v->vma.kind == ML_VMA_VDSO) {
		/* Its pages are mapped on first use, but their bytes are the kernel's vdso image
		 * (gdb needs them to unwind signal frames): copy ours rather than fault them in. */
		uint64_t s0, e0;
		if (self_vdso(&s0, &e0) && e0 - s0 == v->vma.end - v->vma.start) {
			int r = ml_snapshot_writer_add_data(c->w, a, (const void *)(uintptr_t)(s0 + (a - v->vma.start)),
							    (size_t)(b - a));
			if (r < 0)
				return fail(r, "writing the vdso: %s", ml_error_detail());
			c->res.bytes_data += b - a;
			return 0;
		}
		return add_run(c, a, b - a, ML_RUN_UNREADABLE);
	}
	bool shared = (v->vm_flags & ML_VMF_SH) || (v->vma.perms & ML_PERM_SHARED);
	if (!ml__vma_has_file(&v->vma) && !shared)
		return add_run(c, a, b - a, ML_RUN_UNPOPULATED);
	if (*filefd == -2) {
		struct stat st;
		*filefd = v->vma.inode ? ml__vma_file_open(c->p, &v->vma, &st) : -ENOENT;
	}
	return read_file_range(c, v, *filefd, a, b);
}

static int capture_range(cap *c, const ml_smaps_vma *v, uint64_t start, uint64_t end)
{
	if (ml__vma_unreadable(v))
		return add_run(c, start, end - start, ML_RUN_UNREADABLE);
	int filefd = -2, r = 0;
	uint64_t pos = start;
	while (pos < end && r == 0) {
		uint64_t next;
		ssize_t n = scan(c, pos, end, &next);
		if (n < 0) {
			if (n == -ESRCH || ml_proc_check(c->rp) < 0)
				r = gone(c);
			else if (n == -ENOMEM)
				r = fail(-ENOMEM, "scanning pagemap");
			else /* unmapped meanwhile (--freeze=none), or not walkable: nothing to read */
				r = add_run(c, pos, end - pos, ML_RUN_UNREADABLE);
			break;
		}
		for (ssize_t i = 0; i < n && r == 0; i++) {
			const ml_page_region *g = &c->reg[i];
			uint64_t rs = ML_MAX(g->start, pos), re = ML_MIN(g->end, end);
			if (rs >= re)
				continue;
			r = gap(c, v, &filefd, pos, rs);
			if (r < 0)
				break;
			if (g->categories & ML_PAGE_PRESENT) {
				if (g->categories & ML_PAGE_PFNZERO)
					r = add_run(c, rs, re - rs, ML_RUN_ZERO);
				else
					r = read_live(c, rs, re);
			} else if (c->o.read_swapped) {
				r = read_live(c, rs, re);
			} else {
				r = add_run(c, rs, re - rs, ML_RUN_EXCLUDED);
			}
			pos = re;
		}
		if (r < 0)
			break;
		if (next > pos) {
			r = gap(c, v, &filefd, pos, ML_MIN(next, end));
			pos = ML_MIN(next, end);
		}
		if (r == 0)
			r = progress(c, false);
	}
	if (filefd >= 0)
		close(filefd);
	return r;
}

/* ---- notes ---- */

/*
 * smaps text shows '\n' in a name as "\012" and leaves backslashes alone, so a name that
 * holds the four bytes "\012" reads the same as one holding a newline. The maps reader
 * resolves such names exactly (PROCMAP_QUERY, map_files/); their bytes replace the decoded
 * guess, so names round-trip into the snapshot byte for byte. Where neither is available
 * the guess stays, still marked uncertain. Costs nothing unless a name had an "\012".
 */
static void exact_names(cap *c)
{
	bool any = false;
	for (size_t i = 0; i < c->nv && !any; i++)
		any = ml_smaps_get(c->sm, i)->vma.name_uncertain;
	if (!any || ml_maps_read(c->p, ML_MAPS_AUTO, &c->exact) < 0)
		return;
	for (size_t i = 0; i < c->nv; i++) {
		/* the records are ours (ml_smaps_get lends them const): only the name moves */
		ml_smaps_vma *v = (ml_smaps_vma *)ml_smaps_get(c->sm, i);
		if (!v->vma.name_uncertain)
			continue;
		const ml_vma *m = ml_maps_find(c->exact, v->vma.start);
		if (m && m->start == v->vma.start && m->end == v->vma.end && !m->name_uncertain) {
			v->vma.name = m->name;
			v->vma.name_len = m->name_len;
			v->vma.deleted = m->deleted;
			v->vma.name_uncertain = false;
			char line[48];
			int n = snprintf(line, sizeof(line), "%" PRIx64 "-%" PRIx64 "\n", v->vma.start, v->vma.end);
			if (ml_buf_append(&c->resolved, line, (size_t)n) < 0)
				return;
		}
	}
}

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
	return r < 0 ? fail(r, "adding a note: %s", ml_error_detail()) : 0;
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

static int build_notes(cap *c, const char *cmdline, size_t cmdline_len, const char *comm,
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
		return fail(r, "listing threads");
	}
	c->res.threads = nt;
	unsigned char *xs = malloc(65536), *nfile = NULL;
	if (!xs) {
		free(tids);
		return -ENOMEM;
	}
	size_t nfile_len = 0;
	uint64_t xmask = 0;
	bool have_xmask = false;
	r = ml__note_file(c->sm, c->page, &nfile, &nfile_len);
	for (size_t i = 0; i < nt && r == 0; i++) {
		ml__thread_info ti;
		r = thread_info(c, tids[i], i == 0, &ti);
		if (r < 0) {
			r = fail(r == -ENOENT ? -ESRCH : r, "reading thread %d", (int)tids[i]);
			break;
		}
		unsigned char regs[216], fp[512], ps[ML__PRSTATUS_SIZE];
		memset(regs, 0, sizeof(regs));
		ssize_t fpl = -1, xl = -1;
		if (c->fz) {
			ssize_t g = ml_freeze_regset(c->fz, i, ML__NT_PRSTATUS, regs, sizeof(regs));
			if (g < 0) {
				r = fail(g == -ESRCH ? -ESRCH : (int)g, "reading the registers of thread %d", (int)tids[i]);
				break;
			}
			fpl = ml_freeze_regset(c->fz, i, ML__NT_FPREGSET, fp, sizeof(fp));
			xl = ml_freeze_regset(c->fz, i, ML__NT_X86_XSTATE, xs, 65536);
		}
		ml__note_prstatus(&ti, regs, sizeof(regs), fpl == 512, ps);
		r = add_note(c, "CORE", ML__NT_PRSTATUS, ps, sizeof(ps));
		if (r == 0 && i == 0) {
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

/* exec bit and ELF magic of a file mapping, for the ELF_HEADERS rule. */
static void file_facts(cap *c, const ml_smaps_vma *v, ml__file_facts *ff)
{
	memset(ff, 0, sizeof(*ff));
	struct stat st;
	int fd = v->vma.inode ? ml__vma_file_open(c->p, &v->vma, &st) : -ENOENT;
	if (fd < 0)
		return;
	unsigned char mag[4];
	ff->known = true;
	ff->exec = (st.st_mode & 0111) != 0;
	ff->elf_magic = pread(fd, mag, 4, 0) == 4 && !memcmp(mag, "\177ELF", 4);
	close(fd);
}

static int save_file(cap *c, const char *name, const char *buf, size_t len)
{
	int r = ml_snapshot_writer_add_file(c->w, name, buf, len);
	return r < 0 ? fail(r, "saving %s: %s", name, ml_error_detail()) : 0;
}

/* Whether this process may lower its nice value again (CAP_SYS_NICE, or RLIMIT_NICE). */
static bool can_raise_priority(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur >= 20)
		return true;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[0].effective >> CAP_SYS_NICE) & 1;
}

#define STAGE_SLACK (16u << 20)

typedef struct populate_arg {
	unsigned char *p;
	size_t len;
	int r;
} populate_arg;

static void *populate(void *arg)
{
	populate_arg *a = arg;
	a->r = madvise(a->p, a->len, MADV_POPULATE_WRITE);
	return NULL;
}

/* Sets up the staging area before the target is stopped: as large as its resident set
 * (every page that can be read from it) within @budget, aligned to 2 MiB blocks and
 * faulted in now, so that reading while it is held is a copy at memory speed, not a page
 * fault per page. Zeroing fresh pages is most of that cost: it runs on every core. */
static uint64_t meminfo_available(void);

/* What our own memory may grow by without risk: half of MemAvailable and half of our own
 * cgroup's headroom (the staging area is charged to us, not to the target). */
static uint64_t own_headroom(void)
{
	uint64_t room = meminfo_available() / 2;
	ml_proc *self;
	if (ml_proc_self(&self) == 0) {
		ml_cgroup_memory *cm;
		if (ml_cgroup_memory_read(self, NULL, &cm) == 0) {
			if (cm->effective_max.err == 0 && cm->effective_max.value != ML_CGROUP_UNLIMITED) {
				uint64_t cur = cm->current.err == 0 ? cm->current.value : 0, lim = cm->effective_max.value;
				room = ML_MIN(room, lim > cur ? (lim - cur) / 2 : 0);
			}
			ml_cgroup_memory_free(cm);
		}
		ml_proc_free(self);
	}
	return room;
}

static void stage_alloc(cap *c, const char *status, size_t status_len, uint64_t budget)
{
	uint64_t rss_kb;
	if (ml__status_num(status, status_len, "VmRSS", false, &rss_kb) < 0)
		return;
	budget = ML_MIN(budget, own_headroom());
	/* A little more than the resident set, for what it touches while being stopped. */
	uint64_t rss = rss_kb * 1024, want = ML_MIN(rss + ML_MIN(rss / 8, (uint64_t)STAGE_SLACK) + STAGE_BLOCK, budget);
	want &= ~(uint64_t)(STAGE_BLOCK - 1);
	if (want > SIZE_MAX / 2 || want == 0)
		return;
	size_t len = (size_t)want;
	unsigned char *m = mmap(NULL, len + STAGE_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	size_t head = (STAGE_BLOCK - (uintptr_t)m % STAGE_BLOCK) % STAGE_BLOCK;
	if (head)
		munmap(m, head);
	munmap(m + head + len, STAGE_BLOCK - head);
	m += head;
	c->nblk = len / STAGE_BLOCK;
	if (!(c->blk = calloc(c->nblk, sizeof(*c->blk)))) {
		munmap(m, len);
		return;
	}
	/* Huge pages where the system allows them: 512 times fewer faults to populate. */
	madvise(m, len, MADV_HUGEPAGE);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = (size_t)ML_MAX(1, ML_MIN(ncpu, 8L)), per = (c->nblk + nt - 1) / nt * STAGE_BLOCK;
	populate_arg pa[8];
	pthread_t th[8];
	bool started[8] = { false };
	for (size_t i = 0; i < nt; i++) {
		size_t o = ML_MIN(i * per, len);
		pa[i] = (populate_arg){ m + o, ML_MIN(per, len - o), 0 };
		started[i] = i > 0 && pa[i].len && pthread_create(&th[i], NULL, populate, &pa[i]) == 0;
	}
	for (size_t i = 0; i < nt; i++) {
		if (!started[i] && pa[i].len)
			populate(&pa[i]);
		else if (started[i])
			pthread_join(th[i], NULL);
		if (pa[i].r < 0) /* before Linux 5.14 */
			for (size_t o = 0; o < pa[i].len; o += c->page)
				((volatile unsigned char *)pa[i].p)[o] = 0;
	}
	c->stage = m;
	c->stage_cap = len;
}

/* Hands stage bytes [off, off+len), the target's [addr, addr+len), to the writer. */
static int stage_hand(cap *c, uint64_t addr, size_t off, size_t len)
{
	int r = ml_snapshot_writer_add_data_ref(c->w, addr, c->stage + off, len, stage_done, c);
	return r < 0 ? fail(r, "writing %#" PRIx64 ": %s", addr, ml_error_detail()) : 0;
}

/* After the release: hands what was staged and not yet handed on to the writer. */
static int stage_feed(cap *c)
{
	stage_trim(c, c->stage_used); /* what was never read into */
	for (size_t i = 0; i < c->nseg; i++) {
		const struct stage_seg *g = &c->seg[i];
		int r = stage_hand(c, g->addr, g->off, g->len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- copy-on-write ---- */

/* Says why the fork is not used: an error unless a fallback to the ptrace freeze is allowed. */
static int cow_refuse(cap *c, const char *why)
{
	snprintf(c->res.why_not_cow, sizeof(c->res.why_not_cow), "%s", why);
	if (!c->o.cow_fallback)
		return fail(-EOPNOTSUPP, "cannot use a copy-on-write copy: %s", why);
	return 0;
}

static uint64_t meminfo_available(void)
{
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb * 1024;
}

/* Memory that can still be charged before a limit: MemAvailable, and the target cgroup's
 * (or the limiting ancestor's) memory.max - memory.current. */
static uint64_t cow_headroom(cap *c)
{
	uint64_t room = meminfo_available();
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
	uint64_t ppid = 0;
	if (ml__status_num(status, status_len, "PPid", false, &ppid) == 0 && same_mm(c->pid, (pid_t)ppid))
		return (pid_t)ppid;
	pid_t ch[256];
	size_t n = children_of(c, ch, 256);
	for (size_t i = 0; i < n; i++)
		if (same_mm(c->pid, ch[i]))
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
static const char *cow_precheck(cap *c, const char *status, size_t status_len)
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
	if (ml__status_num(status, status_len, "RssAnon", false, &anon) == 0)
		anon *= 1024;
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
static const char *cow_vmcheck(cap *c)
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
static bool held_in_target(const ml_smaps_vma *v)
{
	return (v->vm_flags & (ML_VMF_SH | ML_VMF_DC | ML_VMF_WF | ML_VMF_HT)) ||
	       (v->vma.perms & ML_PERM_SHARED);
}

/* Kills the copy, collects its exit as its tracer, and reaps it in the target. */
static void cow_end(cap *c)
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
	uint64_t t = mono_ns();
	if (ml_proc_check(c->p) == 0)
		ml__reap_in(c->p, ch, &c->gad);
	/* With the zombies of copies whose dumper died before it could reap them. */
	pid_t left[32];
	size_t n = ml_proc_check(c->p) == 0 ? cow_leftovers(c, left, 32) : 0;
	for (size_t i = 0; i < n; i++)
		ml__reap_in(c->p, left[i], &c->gad);
	c->res.stop_ns += mono_ns() - t;
	c->rp = c->p;
	c->rpid = c->pid;
	c->rpm = c->pm;
}

static int run(cap *c, const char *path)
{
	uint64_t t0 = mono_ns();
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	char *cmdline = NULL, *comm = NULL, *auxv = NULL, *limits = NULL, *cdf = NULL, *status = NULL,
	     *exe = NULL, *smaps = NULL, *maps = NULL;
	size_t cmdline_len = 0, comm_len = 0, auxv_len = 0, limits_len = 0, cdf_len = 0, status_len = 0,
	       exe_len = 0, smaps_len = 0;
	ml_snapshot_vma *sv = NULL;
	int r;

	/* What does not change while it runs is read before it is stopped. */
	if ((r = ml_proc_read_file(c->p, "status", &status, &status_len)) < 0) {
		fail(r, "reading status");
		goto out;
	}
	if ((r = ml_proc_read_file(c->p, "auxv", &auxv, &auxv_len)) < 0) {
		fail(r, "reading auxv");
		goto out;
	}
	ml_proc_read_file(c->p, "cmdline", &cmdline, &cmdline_len);
	ml_proc_read_file(c->p, "comm", &comm, &comm_len);
	if (comm && comm_len && comm[comm_len - 1] == '\n')
		comm[--comm_len] = '\0';
	ml_proc_read_file(c->p, "limits", &limits, &limits_len);
	ml_proc_read_file(c->p, "coredump_filter", &cdf, &cdf_len);
	ml_proc_readlink(c->p, "exe", &exe, &exe_len);
	c->res.filter = c->o.has_filter ? c->o.filter : (cdf ? strtoull(cdf, NULL, 16) : 0x33);

	bool cow = c->o.freeze == ML_CAPTURE_FREEZE_COW;
	if (cow) {
		const char *why = cow_precheck(c, status, status_len);
		if (why) {
			if ((r = cow_refuse(c, why)) < 0)
				goto out;
			cow = false;
		}
	}
	bool held = c->o.freeze == ML_CAPTURE_FREEZE_PTRACE || c->o.freeze == ML_CAPTURE_FREEZE_COW;
	c->res.freeze = cow ? ML_CAPTURE_FREEZE_COW : held ? ML_CAPTURE_FREEZE_PTRACE : ML_CAPTURE_FREEZE_NONE;

	/* The buffer budget is shared: the staging area takes what the target's resident set
	 * needs, the writer keeps the rest (at least 32 MiB) for what comes after. */
	uint64_t budget = c->o.max_buffer ? c->o.max_buffer : (64u << 20), wbudget = budget;
	if (held && !cow) {
		/* The writer keeps at least 32 MiB (half of a small budget): the total stays within it. */
		uint64_t wmin = ML_MIN(budget / 2, (uint64_t)(32u << 20));
		stage_alloc(c, status, status_len, budget - wmin);
		wbudget = budget - ML_MIN(budget - wmin, (uint64_t)c->stage_cap);
	}
	ML_OPTS(ml_snapshot_writer_opts, wo, .format = c->o.elf ? ML_SNAPSHOT_FORMAT_ELF : ML_SNAPSHOT_FORMAT_MLCORE,
		.chunk_size = c->o.chunk_size, .level = c->o.level, .threads = c->o.threads,
		.max_buffer = wbudget, .overwrite = c->o.overwrite, .codec = (ml_snapshot_codec)c->o.codec);
	/* The writer's compression threads inherit our nice value: start them 5 lower in
	 * priority, so that while the target is held, reading it wins the CPU over
	 * compressing what was already read. Only where our own priority can be put back. */
	pid_t self = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, (id_t)self);
	bool reniced = errno == 0 && prio <= 14 && can_raise_priority() &&
		       setpriority(PRIO_PROCESS, (id_t)self, prio + 5) == 0;
	r = ml_snapshot_writer_open(path, &wo, &c->w);
	if (reniced)
		setpriority(PRIO_PROCESS, (id_t)self, prio);
	if (r < 0) {
		fail(r, "creating the output");
		goto out;
	}
	if ((r = ml_pagemap_open(c->p, &c->pm)) < 0) {
		fail(r, "opening pagemap");
		goto out;
	}
	/* Present or swapped pages, and which present ones are the zero page (where it can
	 * be told: PAGEMAP_SCAN, or visible PFNs). */
	bool emul = !ml_pagemap_has_scan(c->pm);
	c->so = (ml_scan_opts){ .sz = sizeof(c->so), .category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED,
				.return_mask = (ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_PFNZERO) &
					       ml_pagemap_scan_categories(c->pm, emul) };

	c->rp = c->p;
	c->rpid = c->pid;
	c->rpm = c->pm;
	if (held) {
		ML_OPTS(ml_freeze_opts, fo, .timeout_ns = c->o.freeze_timeout_ns);
		if ((r = ml_freeze_start(c->p, &fo, &c->fz)) < 0) {
			fail(r, "freezing the threads");
			goto out;
		}
	} else {
		c->res.smeared = true;
	}
	uint64_t t_stop = c->fz ? ml_freeze_started_ns(c->fz) : 0;

	if ((r = ml_proc_read_file(c->p, "smaps", &smaps, &smaps_len)) < 0) {
		fail(r, "reading smaps");
		goto out;
	}
	if ((r = ml_smaps_parse(smaps, smaps_len, &c->sm)) < 0) {
		fail(r, "parsing smaps");
		goto out;
	}
	c->nv = ml_smaps_count(c->sm);
	c->res.mappings = c->nv;
	exact_names(c);
	if ((r = build_notes(c, cmdline ? cmdline : "", cmdline_len, comm ? comm : "", comm_len,
			     auxv, auxv_len, status, status_len)) < 0)
		goto out;

	/* The maps text is the header lines of smaps: the very same listing. */
	size_t maps_len = 0;
	for (size_t i = 0; i < c->nv; i++)
		maps_len += ml_smaps_get(c->sm, i)->line_len;
	if (!(maps = malloc(maps_len + 1))) {
		r = -ENOMEM;
		goto out;
	}
	maps_len = 0;
	for (size_t i = 0; i < c->nv; i++) {
		const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
		memcpy(maps + maps_len, smaps + v->line_off, v->line_len);
		maps_len += v->line_len;
	}
	if ((r = save_file(c, "maps", maps, maps_len)) < 0 || (r = save_file(c, "smaps", smaps, smaps_len)) < 0 ||
	    (r = save_file(c, "status", status, status_len)) < 0 || (r = save_file(c, "auxv", auxv, auxv_len)) < 0)
		goto out;
	if ((cmdline && (r = save_file(c, "cmdline", cmdline, cmdline_len)) < 0) ||
	    (limits && (r = save_file(c, "limits", limits, limits_len)) < 0) ||
	    (cdf && (r = save_file(c, "coredump_filter", cdf, cdf_len)) < 0) ||
	    (c->resolved.len && (r = save_file(c, "names_exact", c->resolved.data, c->resolved.len)) < 0))
		goto out;

	if (cow) {
		const char *why = cow_vmcheck(c);
		pid_t ch = 0;
		if (!why) {
			r = ml__freeze_fork(c->fz, c->p, &c->gad, &ch, &why);
			/* A copy that exists is killed and reaped on every path (cow_end()), also
			 * when the fork failed after it was made and the ptrace freeze goes on. */
			c->child_pid = ch;
			if (r == -ESRCH) {
				fail(r, "the process exited during the capture");
				goto out;
			}
		}
		if (ch && r == 0) {
			if ((r = ml_proc_open(ch, &c->child)) < 0 || (r = ml_pagemap_open(c->child, &c->child_pm)) < 0) {
				fail(r, "opening the copy-on-write copy");
				goto out;
			}
			if ((c->child_mem = ml_proc_openat(c->child, "mem", O_RDONLY)) < 0) {
				r = fail(c->child_mem, "opening the copy-on-write copy's memory");
				goto out;
			}
		} else {
			if ((r = cow_refuse(c, why ? why : "the fork failed")) < 0)
				goto out;
			cow = false;
			c->res.freeze = ML_CAPTURE_FREEZE_PTRACE;
		}
	}

	ML_OPTS(ml_snapshot_info, info, .pid = c->pid, .comm = comm, .exe = exe,
		.capture_time_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec,
		.freeze = cow ? "cow" : c->fz ? "ptrace" : "none", .smeared = c->res.smeared,
		.page_size = (uint32_t)c->page, .coredump_filter = c->res.filter, .has_coredump_filter = true);
	if ((r = ml_snapshot_writer_set_info(c->w, &info)) < 0) {
		fail(r, "describing the capture");
		goto out;
	}

	sv = calloc(c->nv ? c->nv : 1, sizeof(*sv));
	if (!sv) {
		r = -ENOMEM;
		goto out;
	}
	unsigned sel = c->o.include_dontdump ? ML__SEL_INCLUDE_DONTDUMP : 0;
	for (size_t i = 0; i < c->nv; i++) {
		const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
		ml__file_facts ff;
		memset(&ff, 0, sizeof(ff));
		if (v->vma.offset == 0 && ml__vma_has_file(&v->vma) && (c->res.filter & ML__CDF_ELF_HEADERS))
			file_facts(c, v, &ff);
		uint64_t whole = v->vma.end - v->vma.start, ds = ml__dump_size(v, c->res.filter, sel, &ff);
		sv[i].vma = v->vma;
		sv[i].dump_size = ds;
		sv[i].flags = ds == 0 ? ML_SNAPSHOT_VMA_EXCLUDED : ds < whole ? ML_SNAPSHOT_VMA_DUMP_SIZE : 0;
		c->res.bytes_mapped += whole;
		c->res.bytes_excluded += whole - ds;
		c->prog.bytes_total += ds;
	}
	if ((r = ml_snapshot_writer_set_mappings(c->w, sv, c->nv)) < 0) {
		fail(r, "writing the mapping table: %s", ml_error_detail());
		goto out;
	}
	uint64_t t_read = mono_ns();
	/* Held: everything, or with a copy only what the copy does not have. */
	for (size_t i = 0; i < c->nv && r == 0; i++) {
		c->cur_vma = i;
		const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
		if (cow && !held_in_target(v))
			continue;
		uint64_t before = c->res.bytes_data;
		if (sv[i].dump_size)
			r = capture_range(c, v, sv[i].vma.start, sv[i].vma.start + sv[i].dump_size);
		c->prog.bytes_scanned += sv[i].dump_size;
		if (cow)
			c->res.bytes_held += c->res.bytes_data - before;
	}
	if (r < 0)
		goto out;
	if (c->fz) {
		/* Everything is read (or buffered, or in the copy): let it run. */
		int rr = ml_freeze_release(c->fz);
		c->res.stop_ns = mono_ns() - t_stop;
		if (!cow && (rr == -ESRCH || ml_proc_check(c->p) < 0)) {
			r = fail(-ESRCH, "the process exited during the capture");
			goto out;
		}
	}
	c->prog.released = true;
	if (cow) {
		/* The rest from the copy, which shows the target's memory as it was at the fork. */
		c->rp = c->child;
		c->rpid = c->child_pid;
		c->rpm = c->child_pm;
		for (size_t i = 0; i < c->nv && r == 0; i++) {
			c->cur_vma = i;
			const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
			if (held_in_target(v))
				continue;
			if (sv[i].dump_size)
				r = capture_range(c, v, sv[i].vma.start, sv[i].vma.start + sv[i].dump_size);
			c->prog.bytes_scanned += sv[i].dump_size;
		}
		if (r < 0)
			goto out;
		ml_smaps_rollup *ro;
		if (ml_smaps_rollup_read(c->child, &ro) == 0) {
			c->res.bytes_copied = ro->f.private_dirty;
			ml_smaps_rollup_free(ro);
		}
		cow_end(c);
	}
	c->res.read_ns = mono_ns() - t_read;
	if ((r = progress(c, true)) < 0 || (r = stage_feed(c)) < 0)
		goto out;
	info.stop_ns = c->res.stop_ns;
	ml_snapshot_writer_set_info(c->w, &info);
	if ((r = ml_snapshot_writer_finish(c->w)) < 0) {
		fail(r, "finishing the output: %s", ml_error_detail());
		goto out;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		c->res.file_size = (uint64_t)st.st_size;
		c->res.disk_bytes = (uint64_t)st.st_blocks * 512;
	}
	c->res.total_ns = mono_ns() - t0;
out:
	if (c->fz) {
		ml_freeze_free(c->fz);
		c->fz = NULL;
	}
	cow_end(c);
	free(sv);
	free(cmdline);
	free(comm);
	free(auxv);
	free(limits);
	free(cdf);
	free(status);
	free(exe);
	free(smaps);
	free(maps);
	return r;
}

static int capture(const ml_proc *p, const char *path, const ml_capture_opts *o, ml_capture_result *ret)
{
	if (!p || !path || !*path || !ml_proc_is_live(p))
		return fail(-EINVAL, "bad arguments");
	cap *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (ML_OPTS_LOAD(&c->o, o) < 0) {
		free(c);
		return fail(-EINVAL, "options set a field this library does not know");
	}
	c->p = p;
	c->pid = ml_proc_pid(p);
	c->child_mem = -1;
	long pg = sysconf(_SC_PAGESIZE);
	c->page = pg > 0 ? (uint64_t)pg : 4096;
	int r = run(c, path);
	if (r == -ENOENT && ml_proc_check(p) < 0)
		r = -ESRCH;
	if (r < 0 && r != -ESRCH && ml_proc_check(p) < 0)
		r = fail(-ESRCH, "the process exited during the capture");
	ml_snapshot_writer_free(c->w); /* after a failure this removes the unfinished file */
	ml_pagemap_free(c->pm);
	ml_smaps_free(c->sm);
	ml_maps_free(c->exact);
	ml_buf_free(&c->resolved);
	if (c->stage)
		munmap(c->stage, c->stage_cap); /* the writer is gone: nothing refers to it */
	free(c->blk);
	free(c->seg);
	if (r == 0 && ret)
		*ret = c->res;
	free(c);
	return r;
}

int ml_capture(const ml_proc *p, const char *path, const ml_capture_opts *o, ml_capture_result *ret)
{
	cap_err[0] = '\0';
	ml__error_clear();
	int r = capture(p, path, o, ret);
	if (r < 0)
		ml__error_set("%s", cap_err);
	else
		ml__error_clear();
	return r;
}
