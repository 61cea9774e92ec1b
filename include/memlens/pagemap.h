/* pagemap: per-page state of a process from /proc/PID/pagemap, and page runs from PAGEMAP_SCAN. */
#ifndef MEMLENS_PAGEMAP_H
#define MEMLENS_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An open /proc/PID/pagemap of one process, with what the kernel lets this caller see:
 * whether PFNs are visible (they read as 0 without CAP_SYS_ADMIN), whether the
 * PAGEMAP_SCAN ioctl exists (Linux 6.7+) and which scan categories it knows.
 * Not safe for concurrent use by several threads (scan keeps a scratch buffer).
 */
typedef struct ml_pagemap ml_pagemap;

/* ---- pagemap entries (8 bytes per virtual page) ---- */

#define ML_PME_PFN_MASK    ((UINT64_C(1) << 55) - 1) /**< bits 0-54: PFN when present */
#define ML_PME_SOFT_DIRTY  (UINT64_C(1) << 55) /**< written since the last clear_refs 4 */
#define ML_PME_EXCLUSIVE   (UINT64_C(1) << 56) /**< page mapped exactly once (not shared) */
#define ML_PME_UFFD_WP     (UINT64_C(1) << 57) /**< userfaultfd write-protected */
#define ML_PME_GUARD       (UINT64_C(1) << 58) /**< MADV_GUARD_INSTALL guard page (also sets bit 62) */
#define ML_PME_FILE        (UINT64_C(1) << 61) /**< file page, or shared anonymous */
#define ML_PME_SWAPPED     (UINT64_C(1) << 62) /**< swap entry (also set for guard pages) */
#define ML_PME_PRESENT     (UINT64_C(1) << 63) /**< in RAM */
#define ML_PME_SWAP_TYPE_MASK UINT64_C(0x1f) /**< bits 0-4: swap type when swapped */
#define ML_PME_SWAP_OFFSET_SHIFT 5           /**< bits 5-54: swap offset when swapped */

/** Bit 63: the page is present in RAM. */
static inline bool ml_pme_present(uint64_t e) { return (e & ML_PME_PRESENT) != 0; }
/** Bit 62 without bit 58: the page is really swapped out (a guard page is not). */
static inline bool ml_pme_swapped(uint64_t e)
{
	return (e & (ML_PME_SWAPPED | ML_PME_GUARD)) == ML_PME_SWAPPED;
}
/** Bit 61: file page or shared anonymous (shmem) page. */
static inline bool ml_pme_file(uint64_t e) { return (e & ML_PME_FILE) != 0; }
/** Bit 58: a guard page installed with MADV_GUARD_INSTALL (Linux 6.13+). */
static inline bool ml_pme_guard(uint64_t e) { return (e & ML_PME_GUARD) != 0; }
/** Bit 57: userfaultfd write-protected. */
static inline bool ml_pme_uffd_wp(uint64_t e) { return (e & ML_PME_UFFD_WP) != 0; }
/** Bit 56: mapped exclusively by this process (page_mapcount == 1). */
static inline bool ml_pme_exclusive(uint64_t e) { return (e & ML_PME_EXCLUSIVE) != 0; }
/** Bit 55: soft-dirty (always 0 where CONFIG_MEM_SOFT_DIRTY is off). */
static inline bool ml_pme_soft_dirty(uint64_t e) { return (e & ML_PME_SOFT_DIRTY) != 0; }
/** Bits 0-54 of a present page: its PFN. 0 for a non-present page and when PFNs are hidden. */
static inline uint64_t ml_pme_pfn(uint64_t e) { return ml_pme_present(e) ? (e & ML_PME_PFN_MASK) : 0; }
/** Swap type (bits 0-4) of a swapped page, else 0. */
static inline unsigned ml_pme_swap_type(uint64_t e)
{
	return ml_pme_swapped(e) ? (unsigned)(e & ML_PME_SWAP_TYPE_MASK) : 0;
}
/** Swap offset (bits 5-54) of a swapped page, in pages, else 0. */
static inline uint64_t ml_pme_swap_offset(uint64_t e)
{
	return ml_pme_swapped(e) ? (e & ML_PME_PFN_MASK) >> ML_PME_SWAP_OFFSET_SHIFT : 0;
}

/**
 * Opens the pagemap of @p (through the handle: works on fixtures holding a `pagemap`
 * file too, without scan). Probes PAGEMAP_SCAN and its categories on this fd.
 * @return 0; -ESRCH gone; -EACCES/-EPERM denied (needs ptrace access); -ENOENT no
 *         pagemap (kernel without CONFIG_PROC_PAGE_MONITOR, or a fixture without it); -ENOMEM.
 */
ML_API int ml_pagemap_open(const ml_proc *p, ml_pagemap **ret);

/** The process the pagemap belongs to (borrowed). */
ML_API const ml_proc *ml_pagemap_proc(const ml_pagemap *pm);

/**
 * Reads the entries of @n pages starting at the page containing @vaddr into @entries
 * (one uint64_t per page), with large preads (never one per page). Unmapped pages read
 * as 0, like untouched ones.
 * @return the number of entries read (< n only past the end of the address space);
 *         -ESRCH gone (exit, exec, reaped); -EINVAL; -EIO.
 */
ML_API ssize_t ml_pagemap_read(ml_pagemap *pm, uint64_t vaddr, uint64_t *entries, size_t n);

/**
 * Whether PFNs (bits 0-54 of present pages) are real: the kernel zeroes them unless the
 * opener has CAP_SYS_ADMIN in the initial user namespace (root in a user namespace, or
 * in a container that has one, does not see them). Asked of the kernel when @pm was
 * opened, by reading the entry of a page of the caller's own that is known present, with
 * the same credentials. When false, a present page's PFN 0 means "hidden", never
 * physical frame 0, and PFN-based facts (zero page, kpageflags) are unavailable.
 */
ML_API bool ml_pagemap_pfn_visible(const ml_pagemap *pm);

/**
 * The PFN of the shared zero page: what a read fault on untouched private anonymous memory
 * maps, on kernels that have one. Learned once per calling process by read-faulting two
 * pages of separate mappings of its own: both must show one frame that neither owns
 * (pagemap bit 56 clear), confirmed by KPF_ZERO_PAGE and a kpagecount other than 1 where
 * /proc/kpageflags and kpagecount are readable. Never a guess. x86-64 has exactly one
 * 4 KiB zero page.
 * @return 0 and *ret;
 *         -EOPNOTSUPP this kernel maps no shared zero page on read faults: each maps a
 *         private page (present and exclusive; e.g. booted with pvm_no_zero_page=1), so
 *         no page of any process is the zero page (told without PFNs too);
 *         -EPERM PFNs are not visible to this process (needs CAP_SYS_ADMIN) and the pages
 *         were not private: a zero page is likely but unconfirmed;
 *         -ENODATA unknown: the evidence disagrees (e.g. one frame without KPF_ZERO_PAGE);
 *         another -errno when the probe itself could not run (mmap, /proc/self/pagemap).
 */
ML_API int ml_pagemap_zero_pfn(uint64_t *ret);

/**
 * The first PFN of the huge zero page (512 frames mapped by a read fault on untouched
 * THP-enabled memory), learned and confirmed like ml_pagemap_zero_pfn() with two
 * MADV_HUGEPAGE areas (the probing process keeps the huge zero page alive, so its PFN is
 * stable for the process's life).
 * @return 0 and *ret; -ENOENT no huge zero page (no THP, THP never, use_zero_page 0, or
 *         a kernel without shared zero pages: the areas got private pages);
 *         -EPERM PFNs not visible and the areas not private; -ENODATA unknown.
 */
ML_API int ml_pagemap_huge_zero_pfn(uint64_t *ret);

/** True if @pfn is the zero page or a frame of the huge zero page (false when unknown). */
ML_API bool ml_pagemap_pfn_is_zero(uint64_t pfn);

/* ---- PAGEMAP_SCAN: runs of pages by category ---- */

/** Page categories, numerically identical to the kernel's PAGE_IS_* bits. */
#define ML_PAGE_WPALLOWED  (UINT64_C(1) << 0) /**< in a uffd-wp async range */
#define ML_PAGE_WRITTEN    (UINT64_C(1) << 1) /**< not uffd-wp protected (meaningful only with uffd-wp async) */
#define ML_PAGE_FILE       (UINT64_C(1) << 2) /**< file or shared-anon page */
#define ML_PAGE_PRESENT    (UINT64_C(1) << 3) /**< in RAM */
#define ML_PAGE_SWAPPED    (UINT64_C(1) << 4) /**< swap entry (includes guard pages, like bit 62) */
#define ML_PAGE_PFNZERO    (UINT64_C(1) << 5) /**< mapped to the zero page (or huge zero page) */
#define ML_PAGE_HUGE       (UINT64_C(1) << 6) /**< PMD-mapped THP or hugetlb page */
#define ML_PAGE_SOFT_DIRTY (UINT64_C(1) << 7) /**< soft-dirty */
#define ML_PAGE_GUARD      (UINT64_C(1) << 8) /**< guard page (Linux 6.15+) */
#define ML_PAGE_ALL_KNOWN  (UINT64_C(0x1ff))  /**< every category this header names */
/** The categories that describe page state without userfaultfd (the default return mask). */
#define ML_PAGE_STATE_MASK (ML_PAGE_FILE | ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_PFNZERO | \
			    ML_PAGE_HUGE | ML_PAGE_SOFT_DIRTY | ML_PAGE_GUARD)

/**
 * One run of pages [start, end) sharing the same categories (masked by the return mask).
 * The layout is the kernel's `struct page_region` (24 bytes).
 */
typedef struct ml_page_region {
	uint64_t start, end;
	uint64_t categories; /**< ML_PAGE_* */
} ml_page_region;

/**
 * What to scan and which pages to report; fields not set are zero = default.
 * A page is reported when, with c = its categories XOR @category_inverted,
 * (c & category_mask) == category_mask and (category_anyof_mask == 0 or c & anyof != 0).
 * With every mask zero, all pages of all walked mappings are reported.
 */
typedef struct ml_scan_opts {
	size_t sz;                    /**< sizeof(ml_scan_opts): set by ML_OPTS */
	uint64_t start, end;          /**< [start, end); page-aligned outward; end 0 = the whole address space (to the TASK_SIZE of the process, where its pagemap ends) */
	uint64_t category_inverted;   /**< categories to test inverted */
	uint64_t category_mask;       /**< all of these must be set (after inversion) */
	uint64_t category_anyof_mask; /**< at least one of these must be set (0 = no test) */
	uint64_t return_mask;         /**< categories reported in ml_page_region; 0 = ML_PAGE_STATE_MASK & what the path computes */
	uint64_t max_pages;           /**< stop after this many pages reported (0 = no limit) */
	bool force_emulation;         /**< use plain pagemap reads even where the ioctl exists */
} ml_scan_opts;

/**
 * Whether PAGEMAP_SCAN is available on @pm's pagemap (Linux 6.7+).
 */
ML_API bool ml_pagemap_has_scan(const ml_pagemap *pm);

/**
 * The categories ml_pagemap_scan() can test and report on @pm: the kernel's known bits
 * (probed by EINVAL) with the ioctl; with the emulation (@emulated true), those derivable
 * from plain entries: PFNZERO needs visible PFNs, HUGE also needs /proc/kpageflags to be
 * readable (to tell a compound page from contiguous ordinary ones), WPALLOWED is never known.
 */
ML_API uint64_t ml_pagemap_scan_categories(const ml_pagemap *pm, bool emulated);

/**
 * Writes runs of pages of the mappings in [o->start, o->end) that match the filter into
 * @vec (at most @n), in address order. Adjacent matching pages with equal categories
 * (masked by the return mask) form one run, also across mapping boundaries when
 * contiguous; unmapped gaps and VM_PFNMAP mappings ([vvar]) are never reported.
 *
 * Uses PAGEMAP_SCAN where available (unless o->force_emulation), else reads plain
 * entries and computes the same categories (the emulation also needs the mappings, read
 * with ml_maps_read()). The kernel's stale `walk_end` is handled here: *next is always
 * a correct resume point (== end when the walk is complete). When @n runs were
 * written, the last run may continue at *next with the same categories.
 *
 * @return the number of runs written (0 with *next == end when done); -EINVAL bad
 *         options or an unknown category bit; -EOPNOTSUPP a category the chosen path
 *         cannot compute (see ml_pagemap_scan_categories()); -ESRCH gone; -ENOMEM.
 */
ML_API ssize_t ml_pagemap_scan(ml_pagemap *pm, const ml_scan_opts *o, ml_page_region *vec,
			       size_t n, uint64_t *next);

/**
 * The emulation's core, pure: computes the categories of @n consecutive pages from
 * their pagemap entries, as PAGEMAP_SCAN would for pages of one mapping. @base is the
 * virtual address of entries[0] (page-aligned), used for the 2 MiB alignment of HUGE.
 * @zero_pfn and @huge_zero_pfn (first of 512) identify zero pages; 0 = unknown. With
 * @pfn_visible false, PFNZERO and HUGE are never set. HUGE is a candidate here: it is set
 * for a 2 MiB-aligned block of 512 present pages with equal flags whose PFNs are
 * consecutive from a 512-aligned PFN (a PMD mapping looks like that, and so do ordinary
 * pages that happen to be contiguous; ml_pagemap_scan() keeps it only where kpageflags
 * shows one compound page; a fully PTE-mapped THP is indistinguishable).
 * WRITTEN and WPALLOWED are never set (plain entries cannot tell them). Writes one
 * category mask per page into @cats.
 * Entries alone cannot tell the huge zero page without its PFN: pagemap marks it as a
 * file page, and with @pfn_visible false or @huge_zero_pfn 0 it is classified FILE here.
 * ml_pagemap_scan() knows the mappings: in a private anonymous one such a page is the
 * huge zero page, never FILE (and PFNZERO where that category is offered).
 */
ML_API void ml_pagemap_categories(const uint64_t *entries, size_t n, uint64_t base,
				  bool pfn_visible, uint64_t zero_pfn, uint64_t huge_zero_pfn,
				  uint64_t *cats);

/**
 * Pure run builder used by the emulation (and its fuzzer): applies the filter of @o to
 * the per-page categories @cats of pages [base, base + n*page) and appends runs to @vec
 * (holding *vec_used of @vec_n already; the last may be extended). Stops when @vec is
 * full or o->max_pages is reached (*pages_done counts reported pages).
 * @return the number of pages consumed (< n when it stopped early).
 */
ML_API size_t ml_pagemap_build_runs(const ml_scan_opts *o, uint64_t base, const uint64_t *cats,
				    size_t n, ml_page_region *vec, size_t vec_n, size_t *vec_used,
				    uint64_t *pages_done);

/** The short name of one category bit ("present", "swapped", "pfn-zero", ...), or NULL. */
ML_API const char *ml_page_category_name(uint64_t bit);

/** Closes the pagemap (NULL is fine). */
ML_API void ml_pagemap_free(ml_pagemap *pm);

#ifdef __cplusplus
}
#endif
#endif
