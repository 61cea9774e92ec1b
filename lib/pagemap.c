/* pagemap: 8-byte page entries, PAGEMAP_SCAN page runs, and their emulation on plain reads. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include <memlens/kpage.h>
#include <memlens/pagemap.h>

/* The 6.7+ UAPI, declared here because the system headers may predate it. */
struct ml__pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};
#define ML__PAGEMAP_SCAN _IOWR('f', 16, struct ml__pm_scan_arg)

_Static_assert(sizeof(struct ml__pm_scan_arg) == 96, "pm_scan_arg is 96 bytes");
_Static_assert(sizeof(ml_page_region) == 24, "page_region is 24 bytes");

/* Entries per emulation chunk: 512 KiB of entries, a multiple of 512 (one PMD). */
#define EMUL_CHUNK (UINT64_C(64) << 10)

struct ml_pagemap {
	const ml_proc *proc;
	int fd;
	bool pfn_visible;
	bool kpf_readable; /* /proc/kpageflags, when the pagemap was opened */
	bool has_scan;
	uint64_t scan_cats;  /* categories the kernel accepts */
	/* emulation state: the mappings, kept while a walk proceeds upwards */
	ml_vrange *vr;
	size_t nvr;
	bool vr_valid;
	uint64_t vr_pos;
	uint64_t *ebuf, *cbuf;
	ml_kpage *kpf;       /* kpageflags for the emulation's HUGE check */
	uint64_t *kbuf;
	uint64_t va_end;     /* end of the process's address space (0: not looked up yet) */
};

/* ---- PFN visibility and the zero page ---- */

int ml__pfn_visible_decide(uint64_t own_entry)
{
	if (!ml_pme_present(own_entry))
		return -ENODATA;
	return ml_pme_pfn(own_entry) != 0;
}

/*
 * Whether pagemap files this process opens now show PFNs. The kernel decides by the
 * opener's credentials (CAP_SYS_ADMIN in the initial user namespace, checked against the
 * file's f_cred), which a capability test in our own namespace cannot tell: a process in
 * a user namespace has CAP_SYS_ADMIN there and still reads PFN 0. So ask the kernel: open
 * /proc/self/pagemap and read the entry of a page of ours that was just written. Probed
 * on every call, never cached: credentials change (capset, setuid, unshare) and a forked
 * child does not have its parent's.
 */
static int pfn_probe(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	volatile char page[1];
	int r = -ENODATA;
	/* a page swapped out between the write and the read is not present: try again */
	for (int tries = 0; tries < 3 && r == -ENODATA; tries++) {
		page[0] = (char)tries;
		uint64_t e = 0;
		if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)page >> ML_PAGE_SHIFT) * 8) != (ssize_t)sizeof(e)) {
			r = -EIO;
			break;
		}
		r = ml__pfn_visible_decide(e);
	}
	close(fd);
	return r;
}

/* The initial user namespace's inode number (PROC_USER_INIT_INO, fixed since Linux 3.8). */
#define ML_INIT_USER_NS_INO 0xEFFFFFFDu

/*
 * The kernel's rule, for when our own pagemap cannot be opened (a non-dumpable process,
 * e.g. one given capabilities by a file, finds /proc/self owned by root): CAP_SYS_ADMIN
 * effective, and held in the initial user namespace, the only one whose capabilities count.
 */
static bool cap_sys_admin_in_init_ns(void)
{
	struct stat st;
	if (stat("/proc/self/ns/user", &st) < 0 || st.st_ino != ML_INIT_USER_NS_INO)
		return false;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1u;
}

bool ml__pfns_visible(void)
{
	int r = pfn_probe();
	if (r >= 0)
		return r == 1;
	/* unknown is "not visible": PFN 0 must never be taken for a frame number */
	if (r == -ENODATA)
		return false;
	return cap_sys_admin_in_init_ns();
}

/*
 * What the kernel maps on a read fault of untouched private anonymous memory, learned
 * once per process; ml__zero_set() replaces it (tests of the other kernel's side).
 */
static struct {
	pthread_once_t once;
	int err, huge_err;
	uint64_t zero;
	uint64_t huge_zero;
} zp = { .once = PTHREAD_ONCE_INIT };

static uint64_t self_entry(int fd, const volatile char *addr)
{
	uint64_t e = 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr >> ML_PAGE_SHIFT) * 8) != (ssize_t)sizeof(e))
		return 0;
	return e;
}

/* A PFN's entry in /proc/kpageflags or kpagecount; -1 when unreadable. */
static int64_t kpage_of(const char *file, uint64_t pfn)
{
	if (!pfn)
		return -1;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint64_t f;
	ssize_t n = pread(fd, &f, sizeof(f), (off_t)(pfn * 8));
	close(fd);
	return n == (ssize_t)sizeof(f) ? (int64_t)f : -1;
}

#define KPF_ZERO (UINT64_C(1) << 24)

int ml__zero_decide(const ml__zero_evidence *ev, bool huge, uint64_t *ret)
{
	int none = huge ? -ENOENT : -EOPNOTSUPP;
	uint64_t pfn[2];
	int excl = 0;
	for (int i = 0; i < 2; i++) {
		if (!ml_pme_present(ev->e[i]))
			return -ENODATA;
		pfn[i] = ml_pme_pfn(ev->e[i]);
		excl += ml_pme_exclusive(ev->e[i]);
		/* a page whose frame says it is the zero page is never a private copy */
		if (ev->kflags[i] >= 0 && ml_pme_exclusive(ev->e[i]) && ((uint64_t)ev->kflags[i] & KPF_ZERO))
			return -ENODATA;
	}
	/* Each read fault mapped a page of its own (visible without PFNs): no shared page. */
	if (excl == 2)
		return pfn[0] && pfn[0] == pfn[1] ? -ENODATA : none;
	if (excl)
		return -ENODATA;
	if (!pfn[0] || !pfn[1])
		return -EPERM;
	/* Two separate mappings read-faulted onto one frame that neither owns: shared. */
	if (pfn[0] != pfn[1])
		return -ENODATA;
	if (huge) {
		/* a PMD-mapped frame: aligned, and both areas continue with the next frame */
		if (pfn[0] % ML_HPAGE_PAGES || ml_pme_pfn(ev->e_next[0]) != pfn[0] + 1 ||
		    ml_pme_pfn(ev->e_next[1]) != pfn[0] + 1)
			return none;
	}
	/* Confirmed by the kernel where it says: KPF_ZERO_PAGE, and never mapped once only. */
	for (int i = 0; i < 2; i++) {
		if (ev->kflags[i] >= 0 && !((uint64_t)ev->kflags[i] & KPF_ZERO))
			return -ENODATA;
		if (ev->kcount[i] == 1)
			return -ENODATA;
	}
	*ret = pfn[0];
	return 0;
}

/*
 * Read-faults two untouched pages (or 2 MiB areas) of separate private anonymous
 * mappings and records, while they are still mapped, what pagemap and /proc/kpage* say
 * of them. Where the kernel has a shared zero page both show the same frame; where it
 * has none (pvm_no_zero_page=1) each is a private page, freed again right after.
 */
static int zero_gather(int fd, bool huge, ml__zero_evidence *ev)
{
	size_t hsz = (size_t)ML_HPAGE_PAGES * ML_PAGE_SZ;
	size_t len = huge ? 2 * hsz : ML_PAGE_SZ;
	char *map[2] = { MAP_FAILED, MAP_FAILED };
	int r = 0;
	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < 2 && r == 0; i++) {
		map[i] = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map[i] == MAP_FAILED) {
			r = ml_neg_errno();
			break;
		}
		volatile char *pg = map[i];
		if (huge) {
			pg = (volatile char *)(((uintptr_t)map[i] + hsz - 1) & ~(uintptr_t)(hsz - 1));
			if (madvise((void *)pg, hsz, MADV_HUGEPAGE) < 0) {
				r = -ENOENT; /* no THP in this kernel */
				break;
			}
		}
		(void)pg[0];
		ev->e[i] = self_entry(fd, pg);
		if (huge)
			ev->e_next[i] = self_entry(fd, pg + ML_PAGE_SZ);
		ev->kflags[i] = kpage_of("/proc/kpageflags", ml_pme_pfn(ev->e[i]));
		ev->kcount[i] = kpage_of("/proc/kpagecount", ml_pme_pfn(ev->e[i]));
	}
	for (int i = 0; i < 2; i++)
		if (map[i] != MAP_FAILED)
			munmap(map[i], len);
	return r;
}

/*
 * The huge zero page, once mapped by a process, stays referenced until that process
 * exits, so the PFN learned stays valid for our life; the 4 KiB zero page never moves.
 * Where the huge probe mapped the huge zero page, this process keeps it referenced.
 */
static void zero_probe(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		zp.err = zp.huge_err = ml_neg_errno();
		return;
	}
	ml__zero_evidence ev;
	zp.err = zero_gather(fd, false, &ev);
	if (zp.err == 0)
		zp.err = ml__zero_decide(&ev, false, &zp.zero);
	zp.huge_err = zero_gather(fd, true, &ev);
	if (zp.huge_err == 0)
		zp.huge_err = ml__zero_decide(&ev, true, &zp.huge_zero);
	close(fd);
}

void ml__zero_set(int err, uint64_t zero, int huge_err, uint64_t huge_zero)
{
	pthread_once(&zp.once, zero_probe);
	zp.err = err;
	zp.zero = err == 0 ? zero : 0;
	zp.huge_err = huge_err;
	zp.huge_zero = huge_err == 0 ? huge_zero : 0;
}

int ml_pagemap_zero_pfn(uint64_t *ret)
{
	if (!ret)
		return -EINVAL;
	pthread_once(&zp.once, zero_probe);
	if (zp.err < 0)
		return zp.err;
	*ret = zp.zero;
	return 0;
}

int ml_pagemap_huge_zero_pfn(uint64_t *ret)
{
	if (!ret)
		return -EINVAL;
	pthread_once(&zp.once, zero_probe);
	if (zp.huge_err < 0)
		return zp.huge_err;
	*ret = zp.huge_zero;
	return 0;
}

bool ml_pagemap_pfn_is_zero(uint64_t pfn)
{
	pthread_once(&zp.once, zero_probe);
	if (!pfn)
		return false;
	return (zp.err == 0 && pfn == zp.zero) ||
	       (zp.huge_err == 0 && pfn >= zp.huge_zero && pfn < zp.huge_zero + ML_HPAGE_PAGES);
}

/*
 * Which zero-page categories plain entries can be classified into: PFNZERO needs both
 * zero pages known (by PFN, or known not to exist), HUGE the huge zero page known (a
 * PMD-mapped huge zero page otherwise looks like a THP).
 */
uint64_t ml__zero_categories(bool pfn_visible)
{
	pthread_once(&zp.once, zero_probe);
	bool four = zp.err == -EOPNOTSUPP || (pfn_visible && zp.err == 0);
	bool huge = zp.huge_err == -ENOENT || (pfn_visible && zp.huge_err == 0);
	uint64_t c = 0;
	if (four && huge)
		c |= ML_PAGE_PFNZERO;
	if (pfn_visible && huge)
		c |= ML_PAGE_HUGE;
	return c;
}

/*
 * Whether /proc/kpageflags can be read by this process now. Its mode is 0400 root and the
 * kernel checks nothing else, so it depends on the UID and CAP_DAC_OVERRIDE /
 * CAP_DAC_READ_SEARCH of the moment, not on CAP_SYS_ADMIN: probed on each
 * ml_pagemap_open(), like the PFNs, never once per process.
 */
static bool kpf_probe(void)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	uint64_t f;
	bool ok = fd >= 0 && pread(fd, &f, sizeof(f), 0) == (ssize_t)sizeof(f);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---- open, read ---- */

static int scan_ioctl(int fd, struct ml__pm_scan_arg *a)
{
	int r;
	do
		r = ioctl(fd, ML__PAGEMAP_SCAN, a);
	while (r < 0 && errno == EINTR);
	return r < 0 ? ml_neg_errno() : r;
}

/* What the kernel's PAGEMAP_SCAN accepts; the same for every pagemap, so probed once. */
static struct {
	pthread_once_t once;
	bool has_scan;
	uint64_t cats;
} sp = { .once = PTHREAD_ONCE_INIT };

/* Which category bits the kernel knows: an unknown bit in any mask gives EINVAL. */
static void probe_scan(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ml_page_region v[1];
	struct ml__pm_scan_arg a = {
		.size = sizeof(a), .start = 0, .end = ML_PAGE_SZ,
		.vec = (uintptr_t)v, .vec_len = 1, .return_mask = ML_PAGE_PRESENT,
	};
	if (scan_ioctl(fd, &a) >= 0) {
		sp.has_scan = true;
		/* only the bits this library names: a probe costs a walk of the first page */
		for (unsigned b = 0; (ML_PAGE_ALL_KNOWN >> b) != 0; b++) {
			a.return_mask = UINT64_C(1) << b;
			if (scan_ioctl(fd, &a) >= 0)
				sp.cats |= UINT64_C(1) << b;
		}
	}
	close(fd);
}

int ml_pagemap_open(const ml_proc *p, ml_pagemap **ret)
{
	if (!p || !ret)
		return -EINVAL;
	ml_pagemap *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->proc = p;
	pm->fd = ml_proc_openat(p, "pagemap", O_RDONLY);
	if (pm->fd < 0) {
		int r = pm->fd;
		free(pm);
		return r;
	}
	/* the kernel decides by the opener's credentials: ours, now, as for pm->fd */
	pm->pfn_visible = ml_proc_is_live(p) && ml__pfns_visible();
	if (ml_proc_is_live(p)) {
		pm->kpf_readable = kpf_probe();
		pthread_once(&sp.once, probe_scan);
		pm->has_scan = sp.has_scan;
		pm->scan_cats = sp.cats;
	}
	*ret = pm;
	return 0;
}

const ml_proc *ml_pagemap_proc(const ml_pagemap *pm) { return pm ? pm->proc : NULL; }
bool ml_pagemap_pfn_visible(const ml_pagemap *pm) { return pm && pm->pfn_visible; }
bool ml_pagemap_has_scan(const ml_pagemap *pm) { return pm && pm->has_scan; }

void ml_pagemap_free(ml_pagemap *pm)
{
	if (!pm)
		return;
	if (pm->fd >= 0)
		close(pm->fd);
	ml_kpage_free(pm->kpf);
	free(pm->kbuf);
	free(pm->vr);
	free(pm->ebuf);
	free(pm->cbuf);
	free(pm);
}

ssize_t ml_pagemap_read(ml_pagemap *pm, uint64_t vaddr, uint64_t *entries, size_t n)
{
	if (!pm || (!entries && n) || n > SSIZE_MAX / 8)
		return -EINVAL;
	uint64_t page = vaddr >> ML_PAGE_SHIFT;
	if (page > (uint64_t)INT64_MAX / 8)
		return 0;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(pm->fd, (char *)entries + got * 8, (n - got) * 8, (off_t)((page + got) * 8));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ml__proc_after_read(pm->proc, ml_neg_errno(), 0);
		}
		if (r == 0)
			break;
		if (r % 8)
			return -EIO; /* the kernel only hands out whole entries */
		got += (size_t)r / 8;
	}
	if (got < n) {
		/* EOF: the end of the address space, or the process is gone */
		int r = ml__proc_after_read(pm->proc, 0, got);
		if (r < 0)
			return r;
	}
	return (ssize_t)got;
}

uint64_t ml__pagemap_va_end(ml_pagemap *pm)
{
	if (pm->va_end)
		return pm->va_end;
	/* pagemap ends at the task's TASK_SIZE: bisect in pages between a page that has an
	 * entry and one that does not */
	/* below 2^56: where the kernel ignores the top byte of an address (arm64, x86 LAM),
	 * higher offsets would alias low ones */
	uint64_t lo = 0, hi = UINT64_C(1) << (56 - ML_PAGE_SHIFT), e;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		ssize_t r = pread(pm->fd, &e, 8, (off_t)(mid * 8));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ML_USER_VA_END; /* not cached: the next call tries again */
		if (r == 8)
			lo = mid;
		else
			hi = mid;
	}
	/* an address space that went away (exit, exec) reads as empty anywhere: never taken
	 * for a small one; the reads that follow find it gone */
	ssize_t r;
	while ((r = pread(pm->fd, &e, 8, 0)) < 0 && errno == EINTR)
		;
	if (r != 8)
		return ML_USER_VA_END;
	pm->va_end = hi << ML_PAGE_SHIFT;
	return pm->va_end;
}

int ml__pagemap_same_mm(ml_pagemap *pm, uint64_t addr)
{
	uint64_t e;
	ssize_t r = ml_pagemap_read(pm, addr, &e, 1);
	if (r < 0)
		return (int)r;
	return r == 1 ? 0 : -ESRCH;
}

/* ---- categories and runs (pure) ---- */

void ml_pagemap_categories(const uint64_t *entries, size_t n, uint64_t base, bool pfn_visible,
			   uint64_t zero_pfn, uint64_t huge_zero_pfn, uint64_t *cats)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t e = entries[i], c = 0;
		if (e & ML_PME_PRESENT) {
			uint64_t pfn = e & ML_PME_PFN_MASK;
			bool zero = pfn_visible && pfn &&
				    ((zero_pfn && pfn == zero_pfn) ||
				     (huge_zero_pfn && pfn >= huge_zero_pfn && pfn - huge_zero_pfn < ML_HPAGE_PAGES));
			c |= ML_PAGE_PRESENT;
			if (zero)
				c |= ML_PAGE_PFNZERO;
			/* pagemap marks the huge zero page as a file page; the scan does not */
			else if (e & ML_PME_FILE)
				c |= ML_PAGE_FILE;
			if (e & ML_PME_SOFT_DIRTY)
				c |= ML_PAGE_SOFT_DIRTY;
		} else if (e & ML_PME_SWAPPED) {
			c |= ML_PAGE_SWAPPED;
			if (e & ML_PME_GUARD)
				c |= ML_PAGE_GUARD;
			if (e & ML_PME_FILE)
				c |= ML_PAGE_FILE;
			if (e & ML_PME_SOFT_DIRTY)
				c |= ML_PAGE_SOFT_DIRTY;
		}
		cats[i] = c;
	}
	if (!pfn_visible)
		return;
	/* PMD mappings: 512 present pages at a 2 MiB boundary, one aligned physical block */
	const uint64_t flagbits = ~ML_PME_PFN_MASK;
	uint64_t first = (ML_HPAGE_PAGES - ((base >> ML_PAGE_SHIFT) % ML_HPAGE_PAGES)) % ML_HPAGE_PAGES;
	for (size_t i = (size_t)first; i + ML_HPAGE_PAGES <= n; i += ML_HPAGE_PAGES) {
		uint64_t e0 = entries[i], pfn0 = e0 & ML_PME_PFN_MASK;
		if (!(e0 & ML_PME_PRESENT) || !pfn0 || pfn0 % ML_HPAGE_PAGES)
			continue;
		size_t j = 1;
		for (; j < ML_HPAGE_PAGES; j++) {
			uint64_t e = entries[i + j];
			if ((e & flagbits) != (e0 & flagbits) || (e & ML_PME_PFN_MASK) != pfn0 + j)
				break;
		}
		if (j == ML_HPAGE_PAGES)
			for (j = 0; j < ML_HPAGE_PAGES; j++)
				cats[i + j] |= ML_PAGE_HUGE;
	}
}

void ml__pagemap_zerofill_cats(uint64_t *cats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((cats[i] & (ML_PAGE_PRESENT | ML_PAGE_FILE)) == (ML_PAGE_PRESENT | ML_PAGE_FILE))
			cats[i] = (cats[i] & ~ML_PAGE_FILE) | ML_PAGE_PFNZERO;
}

size_t ml_pagemap_build_runs(const ml_scan_opts *o, uint64_t base, const uint64_t *cats, size_t n,
			     ml_page_region *vec, size_t vec_n, size_t *vec_used, uint64_t *pages_done)
{
	size_t u = *vec_used;
	uint64_t done = *pages_done;
	size_t i = 0;
	for (; i < n; i++) {
		if (o->max_pages && done >= o->max_pages)
			break;
		uint64_t c = cats[i], t = c ^ o->category_inverted;
		if ((t & o->category_mask) != o->category_mask)
			continue;
		if (o->category_anyof_mask && !(t & o->category_anyof_mask))
			continue;
		uint64_t rc = c & o->return_mask, addr = base + (uint64_t)i * ML_PAGE_SZ;
		if (u && vec[u - 1].end == addr && vec[u - 1].categories == rc) {
			vec[u - 1].end += ML_PAGE_SZ;
		} else {
			if (u >= vec_n)
				break;
			vec[u].start = addr;
			vec[u].end = addr + ML_PAGE_SZ;
			vec[u].categories = rc;
			u++;
		}
		done++;
	}
	*vec_used = u;
	*pages_done = done;
	return i;
}

const char *ml_page_category_name(uint64_t bit)
{
	switch (bit) {
	case ML_PAGE_WPALLOWED: return "wp-allowed";
	case ML_PAGE_WRITTEN: return "written";
	case ML_PAGE_FILE: return "file";
	case ML_PAGE_PRESENT: return "present";
	case ML_PAGE_SWAPPED: return "swapped";
	case ML_PAGE_PFNZERO: return "pfn-zero";
	case ML_PAGE_HUGE: return "huge";
	case ML_PAGE_SOFT_DIRTY: return "soft-dirty";
	case ML_PAGE_GUARD: return "guard";
	default: return NULL;
	}
}

/* ---- scan ---- */

uint64_t ml_pagemap_scan_categories(const ml_pagemap *pm, bool emulated)
{
	if (!pm)
		return 0;
	if (!emulated)
		return pm->has_scan ? pm->scan_cats & ML_PAGE_ALL_KNOWN : 0;
	uint64_t z = ml__zero_categories(pm->pfn_visible);
	/* HUGE needs the frames' kpageflags: contiguous frames alone may be ordinary pages */
	if (!pm->kpf_readable)
		z &= ~ML_PAGE_HUGE;
	return ML_PAGE_FILE | ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_SOFT_DIRTY | ML_PAGE_GUARD | z;
}

static ssize_t scan_kernel(ml_pagemap *pm, const ml_scan_opts *o, ml_page_region *vec, size_t n,
			   uint64_t *next)
{
	struct ml__pm_scan_arg a = {
		.size = sizeof(a), .start = o->start, .end = o->end,
		.vec = (uintptr_t)vec, .vec_len = n, .max_pages = o->max_pages,
		.category_inverted = o->category_inverted, .category_mask = o->category_mask,
		.category_anyof_mask = o->category_anyof_mask, .return_mask = o->return_mask,
	};
	int r = scan_ioctl(pm->fd, &a);
	if (r < 0)
		return ml__proc_after_read(pm->proc, r, 0);
	if (r == 0) {
		int e = ml__proc_after_read(pm->proc, 0, 0);
		if (e < 0)
			return e;
	}
	size_t got = (size_t)r;
	uint64_t pages = 0;
	for (size_t i = 0; i < got; i++)
		pages += (vec[i].end - vec[i].start) >> ML_PAGE_SHIFT;
	/*
	 * walk_end is only trustworthy when the call stopped for lack of room (or at
	 * max_pages): a walk that overflowed the kernel's own buffer yet returned fewer
	 * regions than asked may report a stale walk_end although it is complete.
	 */
	if (got < n && !(o->max_pages && pages >= o->max_pages)) {
		*next = o->end;
	} else {
		uint64_t w = a.walk_end;
		if (got && vec[got - 1].end > w)
			w = vec[got - 1].end;
		*next = w > o->end ? o->end : w;
	}
	return (ssize_t)got;
}

/*
 * The categories mark HUGE on any 2 MiB-aligned block of 512 present pages whose frames
 * are contiguous from a 512-aligned PFN; ordinary pages can look like that. A block stays
 * HUGE only if its frames are one compound page of at least 512 frames (head at the first,
 * tails after it: a THP, a hugetlb page or the huge zero page), as kpageflags says.
 */
int ml__pagemap_huge_confirm(ml_kpage *k, const uint64_t *entries, uint64_t *cats, size_t n, uint64_t *kbuf)
{
	const uint64_t head = ML_KPF(ML_KPF_COMPOUND_HEAD), tail = ML_KPF(ML_KPF_COMPOUND_TAIL);
	const uint64_t kind = ML_KPF(ML_KPF_THP) | ML_KPF(ML_KPF_HUGE);
	for (size_t i = 0; i + ML_HPAGE_PAGES <= n; i++) {
		if (!(cats[i] & ML_PAGE_HUGE))
			continue;
		ssize_t r = ml_kpage_flags(k, entries[i] & ML_PME_PFN_MASK, kbuf, ML_HPAGE_PAGES);
		if (r < 0)
			return (int)r;
		bool one = r == ML_HPAGE_PAGES && (kbuf[0] & head) && (kbuf[0] & kind);
		for (size_t j = 1; one && j < ML_HPAGE_PAGES; j++)
			one = (kbuf[j] & tail) != 0;
		if (!one)
			for (size_t j = 0; j < ML_HPAGE_PAGES; j++)
				cats[i + j] &= ~ML_PAGE_HUGE;
		i += ML_HPAGE_PAGES - 1;
	}
	return 0;
}

static ssize_t scan_emulated(ml_pagemap *pm, const ml_scan_opts *o, ml_page_region *vec, size_t n,
			     uint64_t *next)
{
	uint64_t zero = 0, hzero = 0;
	if (pm->pfn_visible) {
		(void)ml_pagemap_zero_pfn(&zero);
		(void)ml_pagemap_huge_zero_pfn(&hzero);
	}
	if (!pm->vr_valid || o->start < pm->vr_pos) {
		free(pm->vr);
		pm->vr = NULL;
		pm->vr_valid = false;
		int r = ml__vranges_read(pm->proc, &pm->vr, &pm->nvr);
		if (r < 0)
			return r;
		pm->vr_valid = true;
	}
	if (!pm->ebuf) {
		pm->ebuf = malloc(EMUL_CHUNK * 8);
		pm->cbuf = malloc(EMUL_CHUNK * 8);
		if (!pm->ebuf || !pm->cbuf) {
			ML_FREE(pm->ebuf);
			ML_FREE(pm->cbuf);
			return -ENOMEM;
		}
	}
	const uint64_t hsz = (uint64_t)ML_HPAGE_PAGES * ML_PAGE_SZ;
	size_t used = 0;
	uint64_t done = 0;
	for (size_t i = ml__vranges_find(pm->vr, pm->nvr, o->start); i < pm->nvr && pm->vr[i].start < o->end; i++) {
		const ml_vrange *v = &pm->vr[i];
		if (v->flags & ML_VR_NOSCAN)
			continue;
		uint64_t s = ML_MAX(o->start, v->start), e = ML_MIN(o->end, v->end);
		uint64_t addr = s;
		while (addr < e) {
			/* read from the 2 MiB boundary below (within the mapping) so HUGE sees whole blocks */
			uint64_t cs = ML_MAX(v->start, addr & ~(hsz - 1));
			uint64_t ce = (cs + EMUL_CHUNK * ML_PAGE_SZ) & ~(hsz - 1);
			if (ce > v->end)
				ce = v->end;
			size_t cnt = (size_t)((ce - cs) >> ML_PAGE_SHIFT);
			ssize_t got = ml_pagemap_read(pm, cs, pm->ebuf, cnt);
			if (got < 0)
				return got;
			if ((size_t)got < cnt)
				memset(pm->ebuf + got, 0, (cnt - (size_t)got) * 8);
			ml_pagemap_categories(pm->ebuf, cnt, cs, pm->pfn_visible, zero, hzero, pm->cbuf);
			/* without the huge zero page's PFN, only the mapping tells it from a file page */
			if (v->flags & ML_VR_ZEROFILL)
				ml__pagemap_zerofill_cats(pm->cbuf, cnt);
			if ((o->return_mask | o->category_mask | o->category_anyof_mask | o->category_inverted) & ML_PAGE_HUGE) {
				int r = 0;
				if (!pm->kpf)
					r = ml_kpage_open(ML_KPAGE_FLAGS, &pm->kpf);
				if (r == 0 && !pm->kbuf && !(pm->kbuf = malloc(ML_HPAGE_PAGES * 8)))
					r = -ENOMEM;
				if (r == 0)
					r = ml__pagemap_huge_confirm(pm->kpf, pm->ebuf, pm->cbuf, cnt, pm->kbuf);
				if (r < 0)
					return r;
			}
			size_t off = (size_t)((addr - cs) >> ML_PAGE_SHIFT);
			size_t m = (size_t)((ML_MIN(ce, e) - addr) >> ML_PAGE_SHIFT);
			size_t c = ml_pagemap_build_runs(o, addr, pm->cbuf + off, m, vec, n, &used, &done);
			if (c < m) {
				*next = addr + (uint64_t)c * ML_PAGE_SZ;
				pm->vr_pos = *next;
				return (ssize_t)used;
			}
			addr += (uint64_t)m * ML_PAGE_SZ;
		}
	}
	*next = o->end;
	pm->vr_pos = o->end;
	if (!used) {
		int r = ml__proc_after_read(pm->proc, 0, 0);
		if (r < 0)
			return r;
	}
	return (ssize_t)used;
}

ssize_t ml_pagemap_scan(ml_pagemap *pm, const ml_scan_opts *o, ml_page_region *vec, size_t n,
			uint64_t *next)
{
	/* the first version of the struct ended before force_emulation */
	ml_scan_opts r;
	memset(&r, 0, sizeof(r));
	if (!pm || !o || !vec || !n || !next ||
	    ml__opts_load(&r, sizeof(r), o, offsetof(ml_scan_opts, force_emulation)) < 0)
		return -EINVAL;
	uint64_t any = r.category_inverted | r.category_mask | r.category_anyof_mask | r.return_mask;
	if (any & ~ML_PAGE_ALL_KNOWN)
		return -EINVAL;
	bool emul = r.force_emulation || !pm->has_scan;
	uint64_t avail = ml_pagemap_scan_categories(pm, emul);
	if (!r.return_mask)
		r.return_mask = ML_PAGE_STATE_MASK & avail;
	if ((any | r.return_mask) & ~avail)
		return -EOPNOTSUPP;
	uint64_t top = ml__pagemap_va_end(pm);
	r.start = ML_PAGE_DOWN(o->start);
	r.end = o->end ? ML_PAGE_UP(o->end) : top;
	if (o->end && r.end < o->end)
		r.end = ML_PAGE_DOWN(o->end); /* the last page of the 64-bit space */
	if (r.start > r.end)
		return -EINVAL;
	/* Nothing above the user address space is walked (the [vsyscall] gate page is not
	 * a VMA): such a range is complete at once. */
	uint64_t req_end = r.end;
	if (r.end > top)
		r.end = top;
	if (r.start >= r.end) {
		*next = req_end;
		return 0;
	}
	ssize_t k = emul ? scan_emulated(pm, &r, vec, n, next) : scan_kernel(pm, &r, vec, n, next);
	if (k >= 0 && *next >= r.end)
		*next = req_end;
	return k;
}
