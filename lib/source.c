/* ml_source: one interface over a live process and a snapshot file; dispatches to a backend. */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include "internal/source_impl.h"
#include <memlens/mem.h>
#include <memlens/pagemap.h>

struct ml_source {
	ml_source_type type;
	const ml_source_ops *ops;
	void *impl;
	const ml_proc *proc; /* live only (borrowed or owned by impl) */
};

int ml__source_new(ml_source_type type, const ml_source_ops *ops, void *impl,
		   const ml_proc *proc, ml_source **ret)
{
	ml_source *s = calloc(1, sizeof(*s));
	if (!s) {
		ops->free(impl);
		return -ENOMEM;
	}
	s->type = type;
	s->ops = ops;
	s->impl = impl;
	s->proc = proc;
	*ret = s;
	return 0;
}

void *ml__source_impl(const ml_source *s) { return s->impl; }

ml_source_type ml_source_get_type(const ml_source *s) { return s ? s->type : 0; }
pid_t ml_source_pid(const ml_source *s) { return s ? s->ops->pid(s->impl) : 0; }
const ml_proc *ml_source_proc(const ml_source *s) { return s ? s->proc : NULL; }

/* A failed call's detail: what the backend set, or what it keeps on its object. */
static ssize_t detail(const ml_source *s, ssize_t r)
{
	if (r < 0 && !ml_error_detail()[0] && s->ops->error) {
		const char *e = s->ops->error(s->impl);
		if (e && *e)
			ml__error_set("%s", e);
	}
	return r;
}

int ml_source_maps(const ml_source *s, ml_maps **ret)
{
	ml__error_clear();
	if (!s || !ret)
		return -EINVAL;
	return (int)detail(s, s->ops->maps(s->impl, ret));
}

int ml_source_read_file(const ml_source *s, const char *name, char **ret, size_t *ret_len)
{
	ml__error_clear();
	if (!s || !name || !ret || !ret_len)
		return -EINVAL;
	return (int)detail(s, s->ops->read_file(s->impl, name, ret, ret_len));
}

int ml_source_read_rollup(const ml_source *s, ml_smaps_rollup **ret, bool *ret_summed)
{
	ml__error_clear();
	if (!s || !ret)
		return -EINVAL;
	if (ret_summed)
		*ret_summed = false;
	const ml_proc *p = ml_source_proc(s);
	if (p)
		return ml_smaps_rollup_read(p, ret);
	char *buf;
	size_t len;
	int r = ml_source_read_file(s, "smaps_rollup", &buf, &len);
	if (r == 0) {
		r = ml_smaps_rollup_parse(buf, len, ret);
		free(buf);
		return r;
	}
	if (r != -ENOENT || ml_source_read_file(s, "smaps", &buf, &len) < 0)
		return r;
	ml_smaps *sm = NULL;
	ml_smaps_rollup *ru = NULL;
	r = ml_smaps_parse(buf, len, &sm);
	free(buf);
	if (r == 0)
		r = ml_smaps_rollup_parse("", 0, &ru);
	if (r == 0) {
		ml_smaps_total(sm, &ru->f);
		/* page sizes are per mapping, and the sum of sizes is not a rollup field */
		ru->f.present &= ~((1ull << ML_SMAPS_SIZE) | (1ull << ML_SMAPS_KERNEL_PAGE_SIZE) |
				   (1ull << ML_SMAPS_MMU_PAGE_SIZE));
		if (ml_smaps_count(sm)) {
			ru->start = ml_smaps_get(sm, 0)->vma.start;
			ru->end = ml_smaps_get(sm, ml_smaps_count(sm) - 1)->vma.end;
		}
		*ret = ru;
		if (ret_summed)
			*ret_summed = true;
	}
	ml_smaps_free(sm);
	return r;
}

ssize_t ml_source_runs(const ml_source *s, uint64_t start, uint64_t end, unsigned flags,
		       ml_run *vec, size_t n, uint64_t *next)
{
	ml__error_clear();
	if (!s || !vec || !next || end < start)
		return -EINVAL;
	return detail(s, s->ops->runs(s->impl, start, end, flags, vec, n, next));
}

ssize_t ml_source_read(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	ml__error_clear();
	if (!s || (!buf && len))
		return -EINVAL;
	return detail(s, s->ops->read(s->impl, addr, buf, len, flags));
}

int ml_source_damage(const ml_source *s, uint64_t addr, uint64_t *ret_start, uint64_t *ret_end)
{
	if (!s || !ret_start || !ret_end)
		return -EINVAL;
	if (!s->ops->damage)
		return -EOPNOTSUPP;
	uint64_t lo, hi;
	int r = s->ops->damage(s->impl, addr, &lo, &hi);
	if (r < 0)
		return r;
	*ret_start = lo;
	*ret_end = hi;
	return 0;
}

/* Collects the provenance of a read: runs in address order, adjacent ones of a kind merged. */
typedef struct prov {
	ml_run *v;
	size_t n, used;
} prov;

static bool prov_add(prov *p, uint64_t s, uint64_t e, ml_run_kind k)
{
	if (!p || s >= e)
		return true;
	if (p->used && p->v[p->used - 1].end == s && p->v[p->used - 1].kind == k) {
		p->v[p->used - 1].end = e;
		return true;
	}
	if (p->used == p->n)
		return false;
	p->v[p->used++] = (ml_run){ s, e, k };
	return true;
}

/* Drops what lies at or past @end. */
static void prov_trim(prov *p, uint64_t end)
{
	while (p && p->used && p->v[p->used - 1].start >= end)
		p->used--;
	if (p && p->used && p->v[p->used - 1].end > end)
		p->v[p->used - 1].end = end;
}

/*
 * ml_source_read_runs() for a backend that only has runs() and read(): the runs of the
 * range say where the bytes come from (zero-page runs split out), read() reads them.
 */
static ssize_t read_runs_generic(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags,
				 prov *pv)
{
	uint64_t end = addr + len, next, lim = addr;
	ml_run v[128];
	while (lim < end) {
		ssize_t k = s->ops->runs(s->impl, lim, end, ML_RUNS_SPLIT_ZERO, v, ML_ARRAY_SIZE(v), &next);
		if (k < 0)
			return k;
		bool stop = k == 0;
		for (ssize_t i = 0; i < k && !stop; i++) {
			if (v[i].start != lim || v[i].kind == ML_RUN_UNREADABLE) {
				stop = true; /* a gap or an unreadable page ends what can be read */
				break;
			}
			ml_run_kind kind = v[i].kind;
			if (kind == ML_RUN_SWAPPED && (flags & ML_READ_SWAPPED))
				kind = ML_RUN_DATA;
			if (!prov_add(pv, v[i].start, v[i].end, kind)) {
				stop = true;
				break;
			}
			lim = v[i].end;
		}
		if (stop || next <= lim)
			break;
	}
	if (lim == addr) /* nothing readable at addr: the backend's read says why */
		return s->ops->read(s->impl, addr, buf, len, flags);
	/* The backend reads only what it holds; the zeros of zero-fill and of what is not
	 * available are written here, under the runs that say so, never asked of it. */
	uint8_t *out = buf;
	for (size_t i = 0; i < pv->used; i++) {
		const ml_run *r = &pv->v[i];
		size_t off = (size_t)(r->start - addr), rl = (size_t)(r->end - r->start);
		if (r->kind != ML_RUN_DATA && r->kind != ML_RUN_FILE) {
			memset(out + off, 0, rl);
			continue;
		}
		ssize_t n = s->ops->read(s->impl, r->start, out + off, rl, flags);
		if (n < 0 && off == 0)
			return n;
		if (n < 0 || (size_t)n < rl) {
			uint64_t stop = r->start + (uint64_t)(n < 0 ? 0 : n);
			prov_trim(pv, stop);
			return (ssize_t)(stop - addr);
		}
	}
	return (ssize_t)(lim - addr);
}

ssize_t ml_source_read_runs(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags,
			    ml_run *runs, size_t nruns, size_t *ret_nruns)
{
	ml__error_clear();
	if (!s || (!buf && len) || !runs || !nruns || !ret_nruns || addr + len < addr || len > SSIZE_MAX)
		return -EINVAL;
	prov pv = { runs, nruns, 0 };
	ssize_t r = s->ops->read_runs ? s->ops->read_runs(s->impl, addr, buf, len, flags, runs, nruns, &pv.used)
				      : read_runs_generic(s, addr, buf, len, flags, &pv);
	if (r >= 0)
		*ret_nruns = pv.used;
	return detail(s, r);
}

int ml__source_notes(const ml_source *s, const uint8_t **ret, size_t *ret_len, uint16_t *machine)
{
	if (!s->ops->notes)
		return -ENOENT;
	return s->ops->notes(s->impl, ret, ret_len, machine);
}

const char *ml_source_partial(const ml_source *s)
{
	return s && s->ops->partial ? s->ops->partial(s->impl) : NULL;
}

const char *ml_source_notice(const ml_source *s)
{
	return s && s->ops->notice ? s->ops->notice(s->impl) : NULL;
}

void ml_source_free(ml_source *s)
{
	if (!s)
		return;
	s->ops->free(s->impl);
	free(s);
}

/* ---- the live backend ---- */

/*
 * Page runs come from PAGEMAP_SCAN (or its emulation), clipped to the mappings, which
 * are cached: a query that resumes where the last one stopped (a walk in batches) uses
 * them as they are; any other re-reads them only when it starts outside every cached
 * mapping (so a new mapping is found, while concurrent readers moving back and forth
 * inside known mappings cost nothing). A mapping unmapped since is walked as a hole by
 * the scan. The scan state is shared, so it is locked; memory is read outside the lock.
 */
typedef struct live {
	const ml_proc *proc;
	ml_proc *owned;
	pthread_mutex_t mu;
	ml_pagemap *pm;
	uint64_t avail;  /* scan categories available */
	ml_vrange *vr;
	size_t nvr;
	ml_maps *vr_maps; /* what vr[i].vma points to */
	bool vr_valid;
	uint64_t vr_pos;
} live;

static void live_free(void *impl)
{
	live *l = impl;
	ml_pagemap_free(l->pm);
	free(l->vr);
	ml_maps_free(l->vr_maps);
	pthread_mutex_destroy(&l->mu);
	ml_proc_free(l->owned);
	free(l);
}

static pid_t live_pid(const void *impl) { return ml_proc_pid(((const live *)impl)->proc); }

static int live_maps(const void *impl, ml_maps **ret)
{
	return ml_maps_read(((const live *)impl)->proc, ML_MAPS_AUTO, ret);
}

static int live_read_file(const void *impl, const char *name, char **ret, size_t *ret_len)
{
	return ml_proc_read_file(((const live *)impl)->proc, name, ret, ret_len);
}

/* Appends a run, merging with the previous one when contiguous, same kind, same mapping. */
static bool run_push(ml_run *vec, size_t n, size_t *used, bool may_merge, uint64_t s, uint64_t e,
		     ml_run_kind k)
{
	size_t u = *used;
	if (may_merge && u && vec[u - 1].end == s && vec[u - 1].kind == k) {
		vec[u - 1].end = e;
		return true;
	}
	if (u >= n)
		return false;
	vec[u] = (ml_run){ s, e, k };
	*used = u + 1;
	return true;
}

static ml_run_kind kind_of(uint64_t c, bool split_zero)
{
	if (c & ML_PAGE_GUARD)
		return ML_RUN_UNREADABLE;
	if (c & ML_PAGE_PRESENT)
		return split_zero && (c & ML_PAGE_PFNZERO) ? ML_RUN_ZERO : ML_RUN_DATA;
	if (c & ML_PAGE_SWAPPED)
		return ML_RUN_SWAPPED;
	return ML_RUN_UNPOPULATED;
}

/* Whether @addr lies in a cached mapping. */
static bool vr_known(const live *l, uint64_t addr)
{
	size_t i = ml__vranges_find(l->vr, l->nvr, addr);
	return i < l->nvr && l->vr[i].start <= addr;
}

/* Opens the pagemap reader if not done yet; with l->mu held. */
static int pm_open_locked(live *l)
{
	if (l->pm)
		return 0;
	int r = ml_pagemap_open(l->proc, &l->pm);
	if (r < 0)
		return r;
	l->avail = ml_pagemap_scan_categories(l->pm, !ml_pagemap_has_scan(l->pm));
	return 0;
}

/*
 * What the pages of mapping @v without a page table entry hold (with l->mu held): the
 * file's bytes up to *fend (ML_RUN_FILE), zeros (ML_RUN_UNPOPULATED), or nothing to be had
 * without faulting them in (ML_RUN_EXCLUDED). 0 or -ESRCH.
 */
static int hole_kind(live *l, const ml_vrange *v, ml_run_kind *ret, uint64_t *fend)
{
	*ret = ML_RUN_EXCLUDED;
	if (v->flags & ML_VR_ZEROFILL) {
		*ret = ML_RUN_UNPOPULATED;
	} else if ((v->flags & ML_VR_FILEBACKED) && v->vma) {
		struct stat st;
		int fd = ml__vma_file_open(l->proc, v->vma, &st);
		if (fd == -ESRCH)
			return fd;
		if (fd >= 0) {
			*fend = ml__vma_file_end(v->vma, (uint64_t)st.st_size);
			*ret = ML_RUN_FILE;
			close(fd);
		}
	}
	return 0;
}

/* live_runs with l->mu held. */
static ssize_t runs_locked(live *l, uint64_t start, uint64_t end, unsigned flags, ml_run *vec, size_t n,
			   uint64_t *next)
{
	int r;
	if ((r = pm_open_locked(l)) < 0)
		return r;
	if (!l->vr_valid || (start != l->vr_pos && !vr_known(l, start))) {
		ML_FREE(l->vr);
		ml_maps_free(l->vr_maps);
		l->vr_maps = NULL;
		l->vr_valid = false;
		if ((r = ml__vranges_read_maps(l->proc, &l->vr, &l->nvr, &l->vr_maps)) < 0)
			return r;
		l->vr_valid = true;
	}
	bool want_file = flags & ML_RUNS_FILE;
	bool split_zero = (flags & ML_RUNS_SPLIT_ZERO) && (l->avail & ML_PAGE_PFNZERO);
	ML_OPTS(ml_scan_opts, so, .return_mask = (ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_GUARD |
						  (split_zero ? ML_PAGE_PFNZERO : 0)) & l->avail);
	ml_page_region reg[256];
	size_t used = 0;
	uint64_t pos = ML_PAGE_DOWN(start);
	uint64_t req_end = end;
	if (start >= end) {
		*next = end;
		return 0;
	}
	end = end > UINT64_MAX - ML_PAGE_SZ ? ML_PAGE_DOWN(end) : ML_PAGE_UP(end); /* no wrap at the top */
	for (size_t i = ml__vranges_find(l->vr, l->nvr, pos); i < l->nvr && l->vr[i].start < end; i++) {
		const ml_vrange *v = &l->vr[i];
		uint64_t s = ML_MAX(pos, v->start), e = ML_MIN(end, v->end);
		if (v->flags & ML_VR_UNREADABLE) {
			if (!run_push(vec, n, &used, false, s, e, ML_RUN_UNREADABLE)) {
				*next = s;
				goto out;
			}
			continue;
		}
		bool first = true, hole_known = false;
		ml_run_kind hole = ML_RUN_UNPOPULATED; /* what a page without a page table entry is */
		uint64_t fend = e;                      /* and where its file ends */
		so.start = s;
		so.end = e;
		while (so.start < e) {
			uint64_t nx;
			ssize_t k = ml_pagemap_scan(l->pm, &so, reg, ML_ARRAY_SIZE(reg), &nx);
			if (k < 0)
				return k;
			for (ssize_t j = 0; j < k; j++) {
				uint64_t rs = ML_MAX(reg[j].start, s), re = ML_MIN(reg[j].end, e);
				if (rs >= re)
					continue;
				ml_run_kind kind = kind_of(reg[j].categories, split_zero);
				if (kind == ML_RUN_UNPOPULATED && want_file) {
					if (!hole_known && (r = hole_kind(l, v, &hole, &fend)) < 0)
						return r;
					hole_known = true;
					kind = hole;
					if (kind == ML_RUN_FILE && fend < re) { /* past the file's end: SIGBUS */
						if (rs < fend) {
							if (!run_push(vec, n, &used, !first, rs, fend, ML_RUN_FILE)) {
								*next = rs;
								goto out;
							}
							first = false;
							rs = fend;
						}
						kind = ML_RUN_UNREADABLE;
					}
				}
				if (!run_push(vec, n, &used, !first, rs, re, kind)) {
					*next = rs;
					goto out;
				}
				first = false;
			}
			if (nx <= so.start)
				break;
			so.start = nx;
		}
	}
	*next = req_end; /* exactly what the caller asked for, however aligned */
out:
	l->vr_pos = *next;
	/* pages are the unit, but the runs stay inside the caller's range */
	if (used && vec[0].start < start)
		vec[0].start = start;
	if (used && vec[used - 1].end > req_end)
		vec[used - 1].end = req_end;
	return (ssize_t)used;
}

static ssize_t live_runs(const void *impl, uint64_t start, uint64_t end, unsigned flags,
			 ml_run *vec, size_t n, uint64_t *next)
{
	live *l = (live *)impl;
	if (!n)
		return -EINVAL;
	pthread_mutex_lock(&l->mu);
	ssize_t r = runs_locked(l, start, end, flags, vec, n, next);
	pthread_mutex_unlock(&l->mu);
	return r;
}

#define READ_IOV 256

/*
 * Reads the DATA pieces collected so far with one process_vm_readv. Where it stops
 * early, the rest is read piece by piece through ml_mem_read() (which also reads
 * PROT_NONE memory); the first byte still unreadable is reported in *bad_off (offset
 * from @base). Returns 0 or -errno.
 */
static int flush_reads(const live *l, const struct iovec *liov, const struct iovec *riov, size_t *niov,
		       size_t *bad_off, uint64_t base)
{
	size_t n = *niov;
	*niov = 0;
	if (!n)
		return 0;
	ssize_t got = ml__proc_vm_readv(l->proc, liov, riov, n);
	if (got == -ESRCH)
		return -ESRCH;
	size_t g = got > 0 ? (size_t)got : 0, off = 0, i = 0;
	while (i < n && g >= off + riov[i].iov_len)
		off += riov[i++].iov_len;
	if (i == n)
		return ml__pagemap_same_mm(l->pm, (uintptr_t)riov[0].iov_base);
	for (size_t have = g - off; i < n; i++, have = 0) {
		uint64_t a = (uintptr_t)riov[i].iov_base + have;
		size_t want = riov[i].iov_len - have;
		ssize_t r = ml_mem_read(l->proc, a, (char *)liov[i].iov_base + have, want);
		if (r == -ESRCH)
			return -ESRCH;
		if (r < 0 || (size_t)r < want) {
			*bad_off = (size_t)(a + (r > 0 ? (size_t)r : 0) - base);
			return 0;
		}
	}
	return 0;
}

/*
 * ML_READ_POPULATED: the caller has just walked the runs, so the range is read as it is,
 * with one process_vm_readv and no second page walk; where that stops early (a page gone
 * since, PROT_NONE memory), the rest goes through ml_mem_read() for the exact prefix.
 */
static ssize_t read_populated(live *l, uint64_t addr, void *buf, size_t len)
{
	pthread_mutex_lock(&l->mu);
	int r = pm_open_locked(l);
	pthread_mutex_unlock(&l->mu);
	if (r < 0)
		return r;
	struct iovec liov = { buf, len }, riov = { (void *)(uintptr_t)addr, len };
	ssize_t got = ml__proc_vm_readv(l->proc, &liov, &riov, 1);
	if (got == -ESRCH)
		return -ESRCH;
	size_t g = got > 0 ? (size_t)got : 0;
	if (g == len) {
		r = ml__pagemap_same_mm(l->pm, addr);
		return r < 0 ? r : (ssize_t)len;
	}
	/* the prefix up to the first unreadable byte; -EIO/-EFAULT when that is the first */
	ssize_t n = ml_mem_read(l->proc, addr + g, (char *)buf + g, len - g);
	if (n < 0)
		return g && n != -ESRCH ? (ssize_t)g : n;
	return (ssize_t)(g + (size_t)n);
}

/* The file behind a FILE run, opened while the mapping list is held. */
typedef struct file_ref {
	int fd;        /* -1: could not be opened since the runs were taken */
	bool owned;    /* this entry closes it (runs of one mapping share the fd) */
	ml_vma vma;    /* start and offset are what the read needs; the name is not kept */
} file_ref;

/* Opens the files of the FILE runs of @runs (with l->mu held, so the mappings are valid). */
static int open_files(live *l, const ml_run *runs, size_t k, file_ref *fr)
{
	const ml_vma *prev = NULL;
	for (size_t j = 0; j < k; j++) {
		fr[j] = (file_ref){ .fd = -1 };
		if (runs[j].kind != ML_RUN_FILE)
			continue;
		size_t i = ml__vranges_find(l->vr, l->nvr, runs[j].start);
		const ml_vma *v = i < l->nvr ? l->vr[i].vma : NULL;
		if (!v)
			continue;
		if (v == prev && j && fr[j - 1].fd >= 0) {
			fr[j] = fr[j - 1];
			fr[j].owned = false;
			continue;
		}
		struct stat st;
		int fd = ml__vma_file_open(l->proc, v, &st);
		if (fd == -ESRCH)
			return fd;
		fr[j] = (file_ref){ .fd = fd, .owned = fd >= 0, .vma = *v };
		fr[j].vma.name = NULL;
		prev = v;
	}
	return 0;
}

static void close_files(file_ref *fr, size_t k)
{
	for (size_t j = 0; j < k; j++)
		if (fr[j].owned)
			close(fr[j].fd);
}

/*
 * Reads [addr, addr+len) run by run: data runs with one process_vm_readv per batch, file
 * runs from the file, zero runs and what is not available filled with zeros. @pv (NULL: not
 * wanted) receives where each byte came from.
 */
static ssize_t live_read_prov(live *l, uint64_t addr, void *buf, size_t len, unsigned flags, prov *pv)
{
	if (!len)
		return 0;
	if (addr + len < addr || len > SSIZE_MAX)
		return -EINVAL;
	if (flags & ML_READ_POPULATED) {
		ssize_t n = read_populated(l, addr, buf, len);
		if (n > 0)
			prov_add(pv, addr, addr + (uint64_t)n, ML_RUN_DATA);
		return n;
	}
	uint64_t end = addr + len, pos = addr;
	ml_run runs[128];
	file_ref fr[128];
	struct iovec liov[READ_IOV], riov[READ_IOV];
	size_t niov = 0, bad = SIZE_MAX;
	bool gap = false, full = false, from_file = false;
	int r;
	while (pos < end && bad == SIZE_MAX && !gap && !full) {
		uint64_t next;
		pthread_mutex_lock(&l->mu);
		ssize_t k = runs_locked(l, pos, end, ML_RUNS_SPLIT_ZERO | ML_RUNS_FILE, runs, ML_ARRAY_SIZE(runs), &next);
		r = k > 0 ? open_files(l, runs, (size_t)k, fr) : 0;
		pthread_mutex_unlock(&l->mu);
		if (k < 0)
			return k;
		if (r < 0) {
			close_files(fr, (size_t)k);
			return r;
		}
		for (ssize_t j = 0; j < k && bad == SIZE_MAX; j++) {
			uint64_t s = ML_MAX(runs[j].start, pos), e = ML_MIN(runs[j].end, end);
			if (s > pos) { /* an unmapped gap ends the readable prefix */
				gap = true;
				break;
			}
			ml_run_kind kind = runs[j].kind;
			if (kind == ML_RUN_UNREADABLE) {
				bad = (size_t)(s - addr);
				break;
			}
			if (kind == ML_RUN_SWAPPED && (flags & ML_READ_SWAPPED))
				kind = ML_RUN_DATA;
			if (kind == ML_RUN_FILE && fr[j].fd < 0)
				kind = ML_RUN_EXCLUDED; /* the file went away since the runs were taken */
			if (!prov_add(pv, s, e, kind)) {
				full = true;
				break;
			}
			char *dst = (char *)buf + (s - addr);
			if (kind == ML_RUN_DATA) {
				if (niov == READ_IOV && (r = flush_reads(l, liov, riov, &niov, &bad, addr)) < 0) {
					close_files(fr, (size_t)k);
					return r;
				}
				if (bad != SIZE_MAX)
					break;
				liov[niov] = (struct iovec){ dst, (size_t)(e - s) };
				riov[niov] = (struct iovec){ (void *)(uintptr_t)s, (size_t)(e - s) };
				niov++;
			} else if (kind == ML_RUN_FILE) {
				ssize_t n = ml__vma_file_read(fr[j].fd, &fr[j].vma, s, dst, (size_t)(e - s));
				from_file = true;
				if (n < (ssize_t)(e - s)) { /* the file shrank or failed: unreadable from there */
					bad = (size_t)(s + (n > 0 ? (uint64_t)n : 0) - addr);
					break;
				}
			} else {
				memset(dst, 0, (size_t)(e - s));
			}
			pos = e;
		}
		close_files(fr, (size_t)k);
		if (!full && pos < ML_MIN(next, end))
			gap = true; /* nothing mapped between the last run and where the walk resumes */
	}
	size_t bad2 = SIZE_MAX;
	if ((r = flush_reads(l, liov, riov, &niov, &bad2, addr)) < 0)
		return r;
	if (bad2 < bad)
		bad = bad2;
	size_t good = (size_t)(pos - addr);
	if (bad != SIZE_MAX && bad < good)
		good = bad;
	if (good && from_file && (r = ml__pagemap_same_mm(l->pm, addr)) < 0)
		return r; /* the mappings the files were read for are gone */
	prov_trim(pv, addr + good);
	if (good)
		return (ssize_t)good;
	/* nothing readable at addr: a mapping whose pages cannot be read, or no mapping */
	return bad == 0 ? -EIO : -EFAULT;
}

static ssize_t live_read(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	return live_read_prov((live *)impl, addr, buf, len, flags, NULL);
}

static ssize_t live_read_runs(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags,
			      ml_run *runs, size_t nruns, size_t *ret_nruns)
{
	prov pv = { runs, nruns, 0 };
	ssize_t r = live_read_prov((live *)impl, addr, buf, len, flags, &pv);
	*ret_nruns = pv.used;
	return r;
}

static const ml_source_ops live_ops = {
	.free = live_free,
	.pid = live_pid,
	.maps = live_maps,
	.read_file = live_read_file,
	.runs = live_runs,
	.read = live_read,
	.read_runs = live_read_runs,
};

int ml_source_open_proc(const ml_proc *p, ml_source **ret)
{
	if (!p || !ret)
		return -EINVAL;
	live *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	l->proc = p;
	return ml__source_new(ML_SOURCE_LIVE, &live_ops, l, p, ret);
}

int ml_source_open_pid(pid_t pid, ml_source **ret)
{
	if (!ret)
		return -EINVAL;
	ml_proc *p;
	int r = ml_proc_open(pid, &p);
	if (r < 0)
		return r;
	live *l = calloc(1, sizeof(*l));
	if (!l) {
		ml_proc_free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&l->mu, NULL);
	l->proc = l->owned = p;
	return ml__source_new(ML_SOURCE_LIVE, &live_ops, l, p, ret);
}

/* Opens a file source; a failure's description becomes the thread's error detail. */
static int open_file(const char *path, ml_source **ret)
{
	char *msg = NULL;
	int r = ml__snapshot_source_open(path, ret, &msg);
	if (r < 0 && msg && *msg && strcmp(msg, ml_strerror(r)))
		ml__error_set("%s", msg);
	free(msg);
	return r;
}

int ml_source_open_file(const char *path, ml_source **ret)
{
	ml__error_clear();
	if (!path || !ret)
		return -EINVAL;
	return open_file(path, ret);
}

int ml_source_open(const char *spec, ml_source **ret)
{
	ml__error_clear();
	if (!spec || !*spec || !ret)
		return -EINVAL;
	bool digits = true;
	for (const char *c = spec; *c; c++)
		if (*c < '0' || *c > '9')
			digits = false;
	if (digits) {
		long pid = strtol(spec, NULL, 10);
		if (pid <= 0 || pid > 0x3fffffff)
			return -ESRCH;
		return ml_source_open_pid((pid_t)pid, ret);
	}
	return open_file(spec, ret);
}
