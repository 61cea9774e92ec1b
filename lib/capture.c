/* ml_capture: freeze, list and pick mappings, read populated pages into the snapshot writer, release. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
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
#include "internal/page.h"
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

#include "internal/capture_state.h"

/* The first (innermost) reason of this thread's capture failure; it becomes the thread's
 * error detail when ml_capture() returns. */
static __thread char cap_err[256];

int ml__cap_fail(int err, const char *fmt, ...)
{
	if (!cap_err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(cap_err, sizeof(cap_err), fmt, ap);
		va_end(ap);
	}
	return err;
}


uint64_t ml__cap_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* The process being read is gone: the target, or the copy (killed, e.g. by the OOM killer). */
static int gone(cap *c)
{
	if (c->child && c->rp == c->child)
		return ml__cap_fail(-ESRCH, "the copy-on-write copy was killed during the capture (the OOM killer?)");
	return ml__cap_fail(-ESRCH, "the process exited during the capture");
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
		return ml__cap_fail(-ECANCELED, "cancelled");
	return 0;
}

static int add_run(cap *c, uint64_t a, uint64_t len, ml_run_kind k)
{
	if (!len)
		return 0;
	int r = ml_snapshot_writer_add_run(c->w, a, len, k);
	if (r < 0)
		return ml__cap_fail(r, "recording %#" PRIx64 "-%#" PRIx64 ": %s", a, a + len,
			    ml_error_detail());
	switch (k) {
	case ML_RUN_ZERO: c->res.bytes_zero += len; break;
	case ML_RUN_UNPOPULATED: c->res.bytes_unpopulated += len; break;
	case ML_RUN_EXCLUDED: c->res.bytes_excluded += len; break;
	default: c->res.bytes_unreadable += len; break;
	}
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
			return ml__cap_fail(r, "buffering %#" PRIx64 ": %s", a, ml_error_detail());
		/* One process_vm_readv: ml_mem_read() would also check that the process is still
		 * the same after every read, which costs more than the read for small runs (a
		 * target with 32768 runs of one page: 93 ms stopped, 236 ms that way). The
		 * capture checks that once at the release, and here after a short read. */
		struct iovec l = { buf, got }, rv = { (void *)(uintptr_t)a, got };
		/* From the copy through its mem file: process_vm_readv pins pages, and pinning an
		 * anonymous page that the copy shares with the target makes the kernel copy it
		 * (unshare), which would double the memory a copy-on-write capture costs. */
		ssize_t n;
		if (c->rp == c->child && c->child_mem >= 0) {
			n = pread(c->child_mem, buf, got, (off_t)a);
			if (n < 0)
				n = ml_neg_errno();
		} else
			n = ml__proc_vm_readv(c->rp, &l, &rv, 1);
		if (n == -ESRCH) {
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
			if (k && (r = ml__cap_stage_note(c, a, c->stage_used, k)) < 0)
				return r;
			c->stage_used += k;
		} else if ((r = ml_snapshot_writer_commit(c->w, a, k)) < 0) {
			return ml__cap_fail(r, "writing %#" PRIx64 ": %s", a, ml_error_detail());
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
				return ml__cap_fail(r, "buffering %#" PRIx64 ": %s", a, ml_error_detail());
			ssize_t m = ml__vma_file_read(fd, &v->vma, a, buf, got);
			size_t k = m > 0 ? (size_t)m & ~(size_t)(c->page - 1) : 0;
			r = ml_snapshot_writer_commit(c->w, a, k);
			if (r < 0)
				return ml__cap_fail(r, "writing %#" PRIx64 ": %s", a, ml_error_detail());
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
				return ml__cap_fail(r, "writing the vdso: %s", ml_error_detail());
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
				r = ml__cap_fail(-ENOMEM, "scanning pagemap");
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
	return r < 0 ? ml__cap_fail(r, "saving %s: %s", name, ml_error_detail()) : 0;
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


/* The /proc files read before the target is stopped (what does not change while it runs). */
enum { PF_STATUS, PF_AUXV, PF_CMDLINE, PF_COMM, PF_LIMITS, PF_CDF, PF_N };
typedef struct proc_file {
	const char *name;
	bool required; /* the capture fails without it */
	bool saved;    /* kept in the snapshot under its name */
	char *buf;
	size_t len;
} proc_file;

static int run(cap *c, const char *path)
{
	uint64_t t0 = ml__cap_now_ns();
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
#define PF(n, req, sv) { .name = n, .required = req, .saved = sv, .buf = NULL, .len = 0 }
	proc_file f[PF_N] = { [PF_STATUS] = PF("status", true, true),   [PF_AUXV] = PF("auxv", true, true),
			      [PF_CMDLINE] = PF("cmdline", false, true), [PF_COMM] = PF("comm", false, false),
			      [PF_LIMITS] = PF("limits", false, true),   [PF_CDF] = PF("coredump_filter", false, true) };
#undef PF
	char *exe = NULL, *smaps = NULL, *maps = NULL;
	size_t exe_len = 0, smaps_len = 0;
	ml_snapshot_vma *sv = NULL;
	int r = 0;

	/* What does not change while it runs is read before it is stopped. */
	for (int i = 0; i < PF_N; i++)
		if ((r = ml_proc_read_file(c->p, f[i].name, &f[i].buf, &f[i].len)) < 0 && f[i].required) {
			ml__cap_fail(r, "reading %s", f[i].name);
			goto out;
		}
	r = 0;
	const char *status = f[PF_STATUS].buf, *auxv = f[PF_AUXV].buf;
	size_t status_len = f[PF_STATUS].len, auxv_len = f[PF_AUXV].len;
	char *comm = f[PF_COMM].buf;
	size_t comm_len = f[PF_COMM].len;
	if (comm && comm_len && comm[comm_len - 1] == '\n')
		comm[--comm_len] = '\0';
	ml_proc_readlink(c->p, "exe", &exe, &exe_len);
	c->res.filter = c->o.has_filter ? c->o.filter : f[PF_CDF].buf ? strtoull(f[PF_CDF].buf, NULL, 16) : 0x33;

	bool cow = c->o.freeze == ML_CAPTURE_FREEZE_COW;
	if (cow) {
		const char *why = ml__cap_cow_precheck(c, status, status_len);
		if (why) {
			if ((r = ml__cap_cow_refuse(c, why)) < 0)
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
		ml__cap_stage_alloc(c, status, status_len, budget - wmin);
		wbudget = budget - ML_MIN(budget - wmin, (uint64_t)c->stage_cap);
	}
	ML_OPTS(ml_snapshot_writer_opts, wo, .format = c->o.elf ? ML_SNAPSHOT_FORMAT_ELF : ML_SNAPSHOT_FORMAT_MLCORE,
		.chunk_size = c->o.chunk_size, .level = c->o.level, .threads = c->o.threads,
		.max_buffer = wbudget, .overwrite = c->o.overwrite, .codec = (ml_snapshot_codec)c->o.codec,
		.compress = (ml_snapshot_compress)c->o.compress, .no_sha256 = c->o.no_sha256);
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
		/* the writer's detail when it has one (a library it could not load) */
		ml__cap_fail(r, "creating the output%s%s", *ml_error_detail() ? ": " : "", ml_error_detail());
		goto out;
	}
	if ((r = ml_pagemap_open(c->p, &c->pm)) < 0) {
		ml__cap_fail(r, "opening pagemap");
		goto out;
	}
	/* Present or swapped pages, and which present ones are the zero page (where it can
	 * be told: PAGEMAP_SCAN, or visible PFNs). */
	bool emul = !ml_pagemap_has_scan(c->pm);
	c->so = (ml_scan_opts){ .sz = sizeof(c->so), .category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED,
				.return_mask = (ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_PFNZERO) &
					       ml_pagemap_scan_categories(c->pm, emul) };

	c->rp = c->p;
	c->rpm = c->pm;
	if (held) {
		ML_OPTS(ml_freeze_opts, fo, .timeout_ns = c->o.freeze_timeout_ns);
		if ((r = ml_freeze_start(c->p, &fo, &c->fz)) < 0) {
			ml__cap_fail(r, "freezing the threads");
			goto out;
		}
	} else {
		c->res.smeared = true;
	}
	uint64_t t_stop = c->fz ? ml_freeze_started_ns(c->fz) : 0;

	if ((r = ml_proc_read_file(c->p, "smaps", &smaps, &smaps_len)) < 0) {
		ml__cap_fail(r, "reading smaps");
		goto out;
	}
	if ((r = ml_smaps_parse(smaps, smaps_len, &c->sm)) < 0) {
		ml__cap_fail(r, "parsing smaps");
		goto out;
	}
	c->nv = ml_smaps_count(c->sm);
	c->res.mappings = c->nv;
	exact_names(c);
	if ((r = ml__cap_build_notes(c, f[PF_CMDLINE].buf ? f[PF_CMDLINE].buf : "", f[PF_CMDLINE].len, comm ? comm : "", comm_len,
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
	if ((r = save_file(c, "maps", maps, maps_len)) < 0 || (r = save_file(c, "smaps", smaps, smaps_len)) < 0)
		goto out;
	for (int i = 0; i < PF_N; i++)
		if (f[i].saved && f[i].buf && (r = save_file(c, f[i].name, f[i].buf, f[i].len)) < 0)
			goto out;
	if (c->resolved.len && (r = save_file(c, "names_exact", c->resolved.data, c->resolved.len)) < 0)
		goto out;

	if (cow) {
		const char *why = ml__cap_cow_vmcheck(c);
		pid_t ch = 0;
		if (!why) {
			r = ml__freeze_fork(c->fz, c->p, &c->gad, &ch, &why);
			/* A copy that exists is killed and reaped on every path (ml__cap_cow_end()), also
			 * when the fork failed after it was made and the ptrace freeze goes on. */
			c->child_pid = ch;
			if (r == -ESRCH) {
				ml__cap_fail(r, "the process exited during the capture");
				goto out;
			}
		}
		if (ch && r == 0) {
			if ((r = ml_proc_open(ch, &c->child)) < 0 || (r = ml_pagemap_open(c->child, &c->child_pm)) < 0) {
				ml__cap_fail(r, "opening the copy-on-write copy");
				goto out;
			}
			if ((c->child_mem = ml_proc_openat(c->child, "mem", O_RDONLY)) < 0) {
				r = ml__cap_fail(c->child_mem, "opening the copy-on-write copy's memory");
				goto out;
			}
		} else {
			if ((r = ml__cap_cow_refuse(c, why ? why : "the fork failed")) < 0)
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
		ml__cap_fail(r, "describing the capture");
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
		ml__cap_fail(r, "writing the mapping table: %s", ml_error_detail());
		goto out;
	}
	uint64_t t_read = ml__cap_now_ns();
	/* Held: everything, or with a copy only what the copy does not have. */
	for (size_t i = 0; i < c->nv && r == 0; i++) {
		c->cur_vma = i;
		const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
		if (cow && !ml__cap_held_in_target(v))
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
		c->res.stop_ns = ml__cap_now_ns() - t_stop;
		if (!cow && (rr == -ESRCH || ml_proc_check(c->p) < 0)) {
			r = ml__cap_fail(-ESRCH, "the process exited during the capture");
			goto out;
		}
	}
	c->prog.released = true;
	if (cow) {
		/* The rest from the copy, which shows the target's memory as it was at the fork. */
		c->rp = c->child;
		c->rpm = c->child_pm;
		for (size_t i = 0; i < c->nv && r == 0; i++) {
			c->cur_vma = i;
			const ml_smaps_vma *v = ml_smaps_get(c->sm, i);
			if (ml__cap_held_in_target(v))
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
		ml__cap_cow_end(c);
	}
	c->res.read_ns = ml__cap_now_ns() - t_read;
	if ((r = progress(c, true)) < 0 || (r = ml__cap_stage_feed(c)) < 0)
		goto out;
	info.stop_ns = c->res.stop_ns;
	ml_snapshot_writer_set_info(c->w, &info);
	if ((r = ml_snapshot_writer_finish(c->w)) < 0) {
		ml__cap_fail(r, "finishing the output: %s", ml_error_detail());
		goto out;
	}
	if (r > 0) /* published; the warning is the detail */
		ml__cap_fail(r, "%s", ml_error_detail());
	ml_snapshot_progress sp;
	if (ml_snapshot_writer_progress(c->w, &sp) == 0) {
		c->res.chunks = sp.chunks;
		c->res.raw_chunks = sp.raw_chunks;
		c->res.raw_to_keep_up = sp.raw_to_keep_up;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		c->res.file_size = (uint64_t)st.st_size;
		c->res.disk_bytes = (uint64_t)st.st_blocks * 512;
	}
	c->res.total_ns = ml__cap_now_ns() - t0;
out:
	if (c->fz) {
		ml_freeze_free(c->fz);
		c->fz = NULL;
	}
	ml__cap_cow_end(c);
	free(sv);
	for (int i = 0; i < PF_N; i++)
		free(f[i].buf);
	free(exe);
	free(smaps);
	free(maps);
	return r;
}

static int capture(const ml_proc *p, const char *path, const ml_capture_opts *o, ml_capture_result *ret)
{
	if (!p || !path || !*path || !ml_proc_is_live(p))
		return ml__cap_fail(-EINVAL, "bad arguments");
	cap *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (ML_OPTS_LOAD(&c->o, o) < 0) {
		free(c);
		return ml__cap_fail(-EINVAL, "options set a field this library does not know");
	}
	c->p = p;
	c->pid = ml_proc_pid(p);
	c->child_mem = -1;
	long pg = sysconf(_SC_PAGESIZE);
	c->page = pg > 0 ? (uint64_t)pg : 4096;
	int r = run(c, path);
	/* A failure while the process was read may be its exit showing through. Once it was
	 * released (everything read, or in the copy) its exit no longer matters: a failure
	 * then (the disk filled, the output could not be published) is its own. */
	if (!c->prog.released) {
		if (r == -ENOENT && ml_proc_check(p) < 0)
			r = -ESRCH;
		if (r < 0 && r != -ESRCH && ml_proc_check(p) < 0)
			r = ml__cap_fail(-ESRCH, "the process exited during the capture");
	}
	ml_snapshot_writer_free(c->w); /* after a failure this removes the unfinished file */
	ml_pagemap_free(c->pm);
	ml_smaps_free(c->sm);
	ml_maps_free(c->exact);
	ml_buf_free(&c->resolved);
	if (c->stage)
		munmap(c->stage, c->stage_cap); /* the writer is gone: nothing refers to it */
	free(c->blk);
	free(c->seg);
	if (r >= 0 && ret)
		*ret = c->res;
	free(c);
	return r;
}

int ml_capture(const ml_proc *p, const char *path, const ml_capture_opts *o, ml_capture_result *ret)
{
	cap_err[0] = '\0';
	ml__error_clear();
	int r = capture(p, path, o, ret);
	if (r != 0)
		ml__error_set("%s", cap_err);
	else
		ml__error_clear();
	return r;
}
