/* wss: a working-set window on a live process: clear (and flush), then read per mapping or per page. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include "internal/wss.h"
#include <memlens/clear_refs.h>
#include <memlens/idle.h>
#include <memlens/kpage.h>
#include <memlens/pagemap.h>
#include <memlens/wss.h>

struct ml_wss {
	const ml_proc *p;
	ml_wss_backend backend;
	ml_wss_scope scope;
	ml_wss_flush flush_opt;
	bool flushed, undercount;
	ml__wss_vmas before;
	uint64_t clear_start, clear_end;
	int64_t clear_rt;
	ml_idle *idle;
	ml_kpage *kpf; /* IDLE: a folio's head frame carries its idle bit */
	uint64_t zero_pfn;
	uint64_t pages_scanned;
};

#define PAGE_SZ 4096u
/* pagemap entries per read: 512 KiB of entries cover 256 MiB of address space */
#define PM_BATCH 65536u

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *const backend_names[] = { "auto", "referenced", "idle", "soft-dirty" };

const char *ml_wss_backend_name(ml_wss_backend b)
{
	return (unsigned)b < ML_ARRAY_SIZE(backend_names) ? backend_names[b] : "unknown";
}

int ml_wss_backend_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ML_ARRAY_SIZE(backend_names); i++)
		if (!strcmp(s, backend_names[i]))
			return (int)i;
	if (!strcmp(s, "softdirty") || !strcmp(s, "soft_dirty"))
		return ML_WSS_SOFT_DIRTY;
	return -EINVAL;
}

const char *ml_wss_target_name(ml_wss_target t)
{
	switch (t) {
	case ML_WSS_TARGET_OK: return "ok";
	case ML_WSS_TARGET_ZOMBIE: return "zombie";
	case ML_WSS_TARGET_GONE: return "gone";
	case ML_WSS_TARGET_EXECED: return "exec'd";
	}
	return "unknown";
}

ml_wss_target ml_wss_target_state(const ml_proc *p)
{
	if (!p)
		return ML_WSS_TARGET_GONE;
	if (ml_proc_check(p) == 0)
		return ML_WSS_TARGET_OK;
	int fd = ml_proc_openat(p, "stat", O_RDONLY);
	if (fd < 0)
		return ML_WSS_TARGET_GONE;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ML_WSS_TARGET_GONE;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ')
		return ML_WSS_TARGET_GONE;
	char st = rp[2];
	if (st == 'Z' || st == 'X' || st == 'x')
		return ML_WSS_TARGET_ZOMBIE;
	/* killed: its address space is gone before its state says so */
	if (ml__proc_group_exiting(p))
		return ML_WSS_TARGET_GONE;
	/* still running, yet the handle's address space is gone: a new image */
	return ML_WSS_TARGET_EXECED;
}

/*
 * Where soft-dirty is compiled in, every page of a new mapping reads soft-dirty; where it
 * is compiled out, bit 55 is never set. A page of our own tells the second case without
 * the fork of the full probe. Returns 1 set, 0 not set, -errno.
 */
static int fresh_page_soft_dirty(void)
{
	volatile char *m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return ml_neg_errno();
	m[0] = 1;
	ml_proc *self = NULL;
	ml_pagemap *pm = NULL;
	uint64_t e = 0;
	int r = ml_proc_self(&self);
	if (r == 0)
		r = ml_pagemap_open(self, &pm);
	if (r == 0) {
		ssize_t n = ml_pagemap_read(pm, (uint64_t)(uintptr_t)m, &e, 1);
		r = n == 1 ? 0 : n < 0 ? (int)n : -EIO;
	}
	ml_pagemap_free(pm);
	ml_proc_free(self);
	munmap((void *)m, PAGE_SZ);
	if (r == 0 && !(e & ML__PM_PRESENT))
		r = -EIO;
	return r < 0 ? r : (e & ML__PM_SOFT_DIRTY) ? 1 : 0;
}

/* 1 soft-dirty works, 0 compiled out, or -errno when it cannot be told. */
static int soft_dirty(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;
	if (fresh_page_soft_dirty() == 0)
		return cached = 0;
	/* bit 55 is there: make sure clear_refs 4 really clears it (ml_clear_refs_probe()) */
	ml_soft_dirty_state st;
	int r = ml_clear_refs_probe(&st);
	if (r < 0)
		return r;
	if (st == ML_SOFT_DIRTY_UNKNOWN)
		return -EIO;
	return cached = st == ML_SOFT_DIRTY_WORKS ? 1 : 0;
}

int ml_wss_probe(ml_wss_backend b, const ml_proc *p, ml_wss_probe_info *ret)
{
	if (!ret || b <= ML_WSS_AUTO || b >= ML_WSS_BACKEND_COUNT)
		return -EINVAL;
	ml_wss_probe_info r = { b, 0, NULL };
	struct stat st;
	switch (b) {
	case ML_WSS_REFERENCED:
		r.reason = "clear_refs 1-3 + smaps Referenced: reads and writes, per mapping";
		if (stat("/proc/self/clear_refs", &st) < 0 || stat("/proc/self/smaps", &st) < 0) {
			r.status = -EOPNOTSUPP;
			r.reason = "kernel built without CONFIG_PROC_PAGE_MONITOR: no /proc/PID/clear_refs or smaps";
		} else if (p) {
			int fd = ml_proc_openat(p, "clear_refs", O_WRONLY);
			if (fd < 0) {
				r.status = fd;
				r.reason = fd == -ESRCH ? "the target process is gone"
					 : "cannot open the target's clear_refs for writing: needs the "
					   "target's owner or CAP_SYS_ADMIN";
			} else {
				close(fd);
			}
		}
		break;
	case ML_WSS_IDLE: {
		ml_idle_probe_info ip;
		ml_idle_probe(&ip);
		r.reason = "page_idle bitmap + pagemap PFNs: reads and writes, per page (root)";
		if (ip.status < 0) {
			r.status = ip.status;
			r.reason = ip.reason;
			break;
		}
		uint64_t z;
		int pr = ml_pagemap_zero_pfn(&z);
		if (!ml__pfns_visible()) {
			r.status = -EACCES;
			r.reason = "pagemap shows no PFNs: needs CAP_SYS_ADMIN";
		} else if (access("/proc/kpageflags", R_OK) < 0) {
			/* a huge page's idle bit is its head frame's, which kpageflags tells */
			r.status = errno == ENOENT ? -EOPNOTSUPP : -EACCES;
			r.reason = errno == ENOENT ? "no /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR)"
						   : "cannot read /proc/kpageflags: needs root";
		} else if (pr < 0 && pr != -EOPNOTSUPP) {
			/* the zero page must be left out of the marks, so it must be known */
			r.status = pr;
			r.reason = "cannot tell the zero page's PFN (kpageflags and the probe disagree)";
		}
		break;
	}
	case ML_WSS_SOFT_DIRTY: {
		int sd = soft_dirty();
		r.reason = "clear_refs 4 + pagemap bit 55: writes only, per page";
		if (sd < 0) {
			r.status = sd;
			r.reason = "cannot probe soft-dirty: a probe child's pagemap or clear_refs is unreadable";
		} else if (sd == 0) {
			r.status = -EOPNOTSUPP;
			r.reason = "kernel built without CONFIG_MEM_SOFT_DIRTY: a written page shows no "
				   "pagemap bit 55 (clear_refs 4 is accepted and ignored)";
		}
		break;
	}
	default:
		break;
	}
	*ret = r;
	return 0;
}

/* Clears, then flushes right after when asked (see ml_wss_flush). */
static int clear_refs(const ml_proc *p, ml_clear_refs_what what, bool flush)
{
	int r = ml_clear_refs_write(p, what);
	if (r == 0 && flush)
		r = ml_clear_refs_write(p, ML_CLEAR_REFS_SOFT_DIRTY);
	return r;
}

static bool pm_skip(ml_vma_kind k)
{
	/* special mappings: no LRU pages, so nothing the idle bitmap or soft-dirty can track */
	return k == ML_VMA_VVAR || k == ML_VMA_VSYSCALL || k == ML_VMA_VDSO;
}

/*
 * Walks the pagemap of every mapping in @m that the scope covers, calling @fn on each
 * batch of entries; @fn's result (a page count) is that mapping's referenced. Mappings the
 * page backends cannot track are marked so and not walked.
 */
typedef int (*pm_fn)(ml_wss *w, const uint64_t *e, size_t n, ml__idle_scratch *sc, size_t *count);

static ssize_t kpf_read(void *ctx, uint64_t pfn, uint64_t *buf, size_t n)
{
	return ml_kpage_flags(ctx, pfn, buf, n);
}

static int pm_walk(ml_wss *w, ml__wss_vmas *m, pm_fn fn)
{
	ml_pagemap *pm;
	int r = ml_pagemap_open(w->p, &pm);
	if (r < 0)
		return r;
	uint64_t *e = malloc(PM_BATCH * sizeof(*e));
	ml__idle_scratch sc = { .kpf = kpf_read, .kpf_ctx = w->kpf, .cap = PM_BATCH };
	sc.pfns = malloc(PM_BATCH * sizeof(*sc.pfns));
	sc.heads = malloc(PM_BATCH * sizeof(*sc.heads));
	sc.kbuf = malloc(ML__KPF_BLOCK * sizeof(*sc.kbuf));
	sc.flags = malloc(PM_BATCH);
	r = (e && sc.pfns && sc.heads && sc.kbuf && sc.flags) ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < m->n; i++) {
		ml__wss_vma *v = &m->v[i];
		if (pm_skip(v->kind)) {
			v->untracked = true;
			v->referenced = 0;
			continue;
		}
		if (!ml__wss_scope_covers(w->scope, ml__wss_kind_file_backed(v->kind)))
			continue;
		uint64_t pages = 0;
		for (uint64_t a = v->start; r == 0 && a < v->end;) {
			size_t want = (size_t)ML_MIN((v->end - a) / PAGE_SZ, (uint64_t)PM_BATCH);
			ssize_t n = ml_pagemap_read(pm, a, e, want);
			if (n < 0) {
				r = (int)n;
				break;
			}
			if (n == 0)
				break;
			size_t c = 0;
			w->pages_scanned += (size_t)n;
			r = fn(w, e, (size_t)n, &sc, &c);
			pages += c;
			a += (uint64_t)n * PAGE_SZ;
		}
		v->referenced = pages * PAGE_SZ;
	}
	ml_pagemap_free(pm);
	free(e);
	free(sc.pfns);
	free(sc.heads);
	free(sc.kbuf);
	free(sc.flags);
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define KPF_HEAD (UINT64_C(1) << ML_KPF_COMPOUND_HEAD)
#define KPF_TAIL (UINT64_C(1) << ML_KPF_COMPOUND_TAIL)
/* frames the idle bitmap never tracks */
#define KPF_UNTRACKED ((UINT64_C(1) << ML_KPF_ZERO_PAGE) | (UINT64_C(1) << ML_KPF_NOPAGE) | \
		       (UINT64_C(1) << ML_KPF_OFFLINE))
/* no head found for a tail frame (the folio split while it was read) */
#define HEAD_NONE UINT64_MAX

/*
 * The head of the folio that tail frame @pfn belongs to, into *head (HEAD_NONE if none) and
 * its flags into *hflags. Folios are naturally aligned: the head is @pfn rounded down to
 * the folio's size, a power of two; up to 2^20 frames (4 GiB) are looked through.
 */
static int find_head(ml__kpf_fn fn, void *ctx, uint64_t pfn, uint64_t *head, uint64_t *hflags)
{
	uint64_t prev = pfn;
	*head = HEAD_NONE;
	for (unsigned o = 1; o <= 20; o++) {
		uint64_t c = pfn & ~((UINT64_C(1) << o) - 1), f;
		if (c == prev)
			continue;
		prev = c;
		ssize_t r = fn(ctx, c, &f, 1);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return 0;
		if (f & KPF_HEAD) {
			*head = c;
			*hflags = f;
			return 0;
		}
		if (!(f & KPF_TAIL))
			return 0;
	}
	return 0;
}

int ml__wss_idle_heads(ml__kpf_fn fn, void *ctx, const uint64_t *pfns, size_t k, uint64_t *heads,
		       uint64_t *kbuf)
{
	/* the folio of the frame walked last: its head (0 none yet) and the head's flags */
	uint64_t head = 0, hflags = 0, next = 0;
	size_t i = 0;
	while (i < k) {
		uint64_t b = pfns[i];
		size_t j = i + 1;
		while (j < k && pfns[j] - b < ML__KPF_BLOCK)
			j++;
		size_t len = (size_t)(pfns[j - 1] - b + 1);
		ssize_t got = fn(ctx, b, kbuf, len);
		if (got < 0)
			return (int)got;
		if (b != next)
			head = 0; /* a gap: the folio walked last may have ended in it */
		size_t q = i;
		for (size_t f = 0; f < (size_t)got && q < j; f++) {
			uint64_t fl = kbuf[f], pfn = b + f;
			if (fl & KPF_HEAD) {
				head = pfn;
				hflags = fl;
			} else if (fl & KPF_TAIL) {
				int r = head ? 0 : find_head(fn, ctx, pfn, &head, &hflags);
				if (r < 0)
					return r;
			} else {
				head = 0;
			}
			if (pfns[q] != pfn)
				continue;
			uint64_t h = pfn;
			if (fl & KPF_TAIL)
				h = head == HEAD_NONE || (hflags & KPF_UNTRACKED) ? 0 : head;
			else if (fl & KPF_UNTRACKED)
				h = 0;
			while (q < j && pfns[q] == pfn)
				heads[q++] = h;
		}
		/* past the end of memory: not tracked */
		for (; q < j; q++)
			heads[q] = 0;
		next = (size_t)got == len ? b + len : 0;
		i = j;
	}
	return 0;
}

/*
 * Sorts the present frames of @n entries into sc->pfns, finds their heads (sc->heads) and
 * leaves the distinct heads, ascending, at the front of sc->pfns. Returns how many, or
 * -errno; *tracked = frames with a head.
 */
static ssize_t idle_heads(const uint64_t *e, size_t n, uint64_t zero_pfn, ml__idle_scratch *sc,
			  size_t *ret_k, size_t *tracked)
{
	if (n > sc->cap)
		return -EINVAL;
	size_t k = ml__wss_present_pfns(e, n, zero_pfn, sc->pfns);
	qsort(sc->pfns, k, sizeof(*sc->pfns), cmp_u64);
	int r = ml__wss_idle_heads(sc->kpf, sc->kpf_ctx, sc->pfns, k, sc->heads, sc->kbuf);
	if (r < 0)
		return r;
	/* the frames are no longer needed: their distinct heads go where they were (u <= i) */
	size_t u = 0, t = 0;
	for (size_t i = 0; i < k; i++) {
		if (!sc->heads[i])
			continue;
		t++;
		if (!u || sc->pfns[u - 1] != sc->heads[i])
			sc->pfns[u++] = sc->heads[i];
	}
	/* ascending unless a folio changed between two kpageflags reads */
	bool sorted = true;
	for (size_t i = 1; i < u && sorted; i++)
		sorted = sc->pfns[i] > sc->pfns[i - 1];
	if (!sorted) {
		qsort(sc->pfns, u, sizeof(*sc->pfns), cmp_u64);
		size_t d = 0;
		for (size_t i = 0; i < u; i++)
			if (!d || sc->pfns[d - 1] != sc->pfns[i])
				sc->pfns[d++] = sc->pfns[i];
		u = d;
	}
	*ret_k = k;
	*tracked = t;
	return (ssize_t)u;
}

ssize_t ml__wss_idle_mark_entries(ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
				  ml__idle_scratch *sc)
{
	size_t k, t;
	ssize_t u = idle_heads(e, n, zero_pfn, sc, &k, &t);
	if (u < 0)
		return u;
	ssize_t r = ml_idle_mark_pfns(b, sc->pfns, (size_t)u);
	return r < 0 ? r : (ssize_t)t;
}

int ml__wss_idle_count(const ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
		       ml__idle_scratch *sc, size_t *ret)
{
	size_t k, t;
	ssize_t u = idle_heads(e, n, zero_pfn, sc, &k, &t);
	if (u < 0)
		return (int)u;
	int r = ml_idle_test_pfns(b, sc->pfns, (size_t)u, sc->flags);
	if (r < 0)
		return r;
	size_t c = 0;
	for (size_t i = 0; i < k; i++) {
		if (!sc->heads[i])
			continue;
		const uint64_t *h = bsearch(&sc->heads[i], sc->pfns, (size_t)u, sizeof(*sc->pfns), cmp_u64);
		c += h && !sc->flags[h - sc->pfns];
	}
	*ret = c;
	return 0;
}

size_t ml__wss_count_soft_dirty(const uint64_t *e, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += (e[i] & (ML__PM_PRESENT | ML__PM_SOFT_DIRTY)) == (ML__PM_PRESENT | ML__PM_SOFT_DIRTY);
	return c;
}

size_t ml__wss_present_pfns(const uint64_t *e, size_t n, uint64_t zero_pfn, uint64_t *pfns)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = e[i] & ML__PM_PFN_MASK;
		if ((e[i] & (ML__PM_PRESENT | ML__PM_SWAP)) == ML__PM_PRESENT && pfn && pfn != zero_pfn)
			pfns[k++] = pfn;
	}
	return k;
}

static int mark_fn(ml_wss *w, const uint64_t *e, size_t n, ml__idle_scratch *sc, size_t *count)
{
	ssize_t r = ml__wss_idle_mark_entries(w->idle, e, n, w->zero_pfn, sc);
	if (r < 0)
		return (int)r;
	*count = (size_t)r;
	return 0;
}

static int idle_fn(ml_wss *w, const uint64_t *e, size_t n, ml__idle_scratch *sc, size_t *count)
{
	return ml__wss_idle_count(w->idle, e, n, w->zero_pfn, sc, count);
}

static int sd_fn(ml_wss *w, const uint64_t *e, size_t n, ml__idle_scratch *sc, size_t *count)
{
	(void)w;
	(void)sc;
	*count = ml__wss_count_soft_dirty(e, n);
	return 0;
}

static int vmas_lines(void *ctx, const char *buf, size_t len, size_t off)
{
	(void)off;
	return ml__wss_smaps_parse(buf, len, ctx);
}

static void vmas_reset(void *ctx) { ml__wss_vmas_free(ctx); }

/* Reads @file (maps or smaps) of @p as it arrives (ml__proc_read_lines). */
static int read_vmas(const ml_proc *p, const char *file, ml__wss_vmas *out)
{
	int r = ml__proc_read_lines(p, file, vmas_lines, vmas_reset, out);
	if (r == 0)
		ml__wss_vmas_normalize(out);
	return r;
}

static int do_clear(ml_wss *w)
{
	ml__wss_vmas_free(&w->before);
	if (ml_proc_check(w->p) < 0)
		return -ESRCH;
	int r = read_vmas(w->p, "maps", &w->before);
	if (r < 0)
		return r;
	bool can_flush = soft_dirty() == 0 && w->flush_opt == ML_WSS_FLUSH_AUTO;
	static const ml_clear_refs_what scope_val[] = { ML_CLEAR_REFS_ALL, ML_CLEAR_REFS_ANON,
							 ML_CLEAR_REFS_FILE };
	w->pages_scanned = 0;
	w->clear_rt = (int64_t)now_ns(CLOCK_REALTIME);
	w->clear_start = now_ns(CLOCK_MONOTONIC);
	switch (w->backend) {
	case ML_WSS_REFERENCED:
		r = clear_refs(w->p, scope_val[w->scope], can_flush);
		w->flushed = can_flush;
		break;
	case ML_WSS_SOFT_DIRTY:
		/* clearing soft-dirty flushes the TLB itself */
		r = clear_refs(w->p, ML_CLEAR_REFS_SOFT_DIRTY, false);
		w->flushed = true;
		break;
	case ML_WSS_IDLE:
		r = pm_walk(w, &w->before, mark_fn);
		/* marking idle clears accessed bits without a flush either */
		if (r == 0 && can_flush)
			r = clear_refs(w->p, ML_CLEAR_REFS_SOFT_DIRTY, false);
		w->flushed = can_flush;
		break;
	default:
		r = -EINVAL;
	}
	w->clear_end = now_ns(CLOCK_MONOTONIC);
	w->undercount = !w->flushed;
	return r;
}

int ml_wss_start(const ml_proc *p, const ml_wss_opts *o, ml_wss **ret)
{
	ML_OPTS(ml_wss_opts, opt, 0);
	if (!p || !ret || ML_OPTS_LOAD(&opt, o) < 0)
		return -EINVAL;
	if ((unsigned)opt.backend >= ML_WSS_BACKEND_COUNT || (unsigned)opt.scope > ML_WSS_SCOPE_FILE ||
	    (unsigned)opt.flush > ML_WSS_FLUSH_NEVER)
		return -EINVAL;
	ml_wss_backend b = opt.backend;
	ml_wss_probe_info pi;
	if (b == ML_WSS_AUTO) {
		/* a backend the kernel has but this caller may not use says why (permission,
		 * a gone target) better than "not supported" does */
		int why = -EOPNOTSUPP;
		for (b = ML_WSS_REFERENCED; b < ML_WSS_BACKEND_COUNT; b++) {
			if (ml_wss_probe(b, p, &pi) == 0 && pi.status == 0)
				break;
			if (why == -EOPNOTSUPP && pi.status != -EOPNOTSUPP)
				why = pi.status;
		}
		if (b == ML_WSS_BACKEND_COUNT)
			return ml_proc_check(p) < 0 ? -ESRCH : why;
	} else if (!(b == ML_WSS_IDLE && opt.idle_bitmap_path)) {
		ml_wss_probe(b, p, &pi);
		if (pi.status < 0)
			return pi.status;
	}
	ml_wss *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->p = p;
	w->backend = b;
	w->scope = opt.scope;
	w->flush_opt = opt.flush;
	int r = 0;
	if (b == ML_WSS_IDLE) {
		r = opt.idle_bitmap_path ? ml_idle_open_path(opt.idle_bitmap_path, &w->idle)
					 : ml_idle_open(&w->idle);
		/* which frame carries a page's idle bit (its folio's head) is in kpageflags */
		if (r == 0)
			r = ml_kpage_open(ML_KPAGE_FLAGS, &w->kpf);
		/* without PFNs there is nothing to mark */
		int z = r == 0 ? ml_pagemap_zero_pfn(&w->zero_pfn) : 0;
		if (r == 0 && !ml__pfns_visible())
			r = -EACCES;
		else if (z == -EOPNOTSUPP) /* no zero page to leave out */
			w->zero_pfn = 0;
		else if (z < 0)
			r = z;
	}
	if (r == 0)
		r = do_clear(w);
	if (r < 0) {
		ml_wss_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int ml_wss_restart(ml_wss *w)
{
	if (!w)
		return -EINVAL;
	return do_clear(w);
}

ml_wss_backend ml_wss_backend_of(const ml_wss *w)
{
	return w ? w->backend : ML_WSS_AUTO;
}

int ml_wss_read(ml_wss *w, ml_wss_sample **ret)
{
	if (!w || !ret)
		return -EINVAL;
	ml_wss_sample *s = ml__wss_sample_new();
	if (!s)
		return -ENOMEM;
	ml__wss_vmas after = { 0 };
	s->read_start = now_ns(CLOCK_MONOTONIC);
	w->pages_scanned = 0;
	int r = read_vmas(w->p, "smaps", &after);
	if (r == 0 && w->backend == ML_WSS_IDLE)
		r = pm_walk(w, &after, idle_fn);
	else if (r == 0 && w->backend == ML_WSS_SOFT_DIRTY)
		r = pm_walk(w, &after, sd_fn);
	s->read_end = now_ns(CLOCK_MONOTONIC);
	if (r == 0 && ml_proc_check(w->p) < 0)
		r = -ESRCH;
	if (r == 0) {
		s->backend = w->backend;
		s->scope = w->scope;
		s->flushed = w->flushed;
		s->undercount_possible = w->undercount;
		s->writes_only = w->backend == ML_WSS_SOFT_DIRTY;
		s->clear_start = w->clear_start;
		s->clear_end = w->clear_end;
		s->clear_realtime_ns = w->clear_rt;
		s->pages_scanned = w->pages_scanned;
		r = ml__wss_build(s, &w->before, &after);
	}
	ml__wss_vmas_free(&after);
	if (r < 0) {
		ml_wss_sample_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void ml_wss_free(ml_wss *w)
{
	if (!w)
		return;
	ml__wss_vmas_free(&w->before);
	ml_idle_free(w->idle);
	ml_kpage_free(w->kpf);
	free(w);
}
