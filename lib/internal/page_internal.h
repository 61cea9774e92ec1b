/* Private helpers shared by the page-level readers (pagemap, mem, live source). */
#ifndef MEMLENS_PAGE_INTERNAL_H
#define MEMLENS_PAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <memlens/pagemap.h>
#include <memlens/proc.h>

#define ML_PAGE_SHIFT 12
#define ML_PAGE_SZ (UINT64_C(1) << ML_PAGE_SHIFT)
#define ML_HPAGE_PAGES 512u /* pages per PMD (2 MiB) */
#define ML_PAGE_DOWN(a) ((a) & ~(ML_PAGE_SZ - 1))
#define ML_PAGE_UP(a) (((a) + ML_PAGE_SZ - 1) & ~(ML_PAGE_SZ - 1))
/* Top of the user address space with 4-level paging (x86-64 TASK_SIZE). */
#define ML_USER_VA_END UINT64_C(0x7ffffffff000)

/* A mapping as the page readers need it: bounds and how pages in it can be read. */
enum {
	ML_VR_NOSCAN = 0x1,     /* never walked by PAGEMAP_SCAN (VM_PFNMAP: [vvar]; the gate [vsyscall]) */
	ML_VR_UNREADABLE = 0x2, /* its bytes cannot be read (also memfd_secret) */
};

typedef struct ml_vrange {
	uint64_t start, end;
	unsigned flags;
} ml_vrange;

/* Reads the mappings of @p as sorted ranges (malloc'd array in *ret, count in *ret_n). */
int ml__vranges_read(const ml_proc *p, ml_vrange **ret, size_t *ret_n);
/* Index of the first range with end > @addr (== n when none). */
size_t ml__vranges_find(const ml_vrange *v, size_t n, uint64_t addr);

/*
 * process_vm_readv goes by PID; after it, this tells whether the address space read was
 * the one @pm was opened on: a pagemap fd is bound to its mm and reads nothing once that
 * is gone (exit or exec; a reused PID needs an exit first). One 8-byte pread, where
 * ml_proc_check() opens and parses files. 0 same, -ESRCH gone.
 */
int ml__pagemap_same_mm(ml_pagemap *pm, uint64_t addr);

/* Whether this process sees PFNs in pagemap (CAP_SYS_ADMIN). */
bool ml__pfns_visible(void);

/*
 * What a zero-page probe saw: two untouched pages of separate private anonymous mappings
 * (for the huge probe: two 2 MiB-aligned MADV_HUGEPAGE areas) read-faulted, and examined
 * while still mapped.
 */
typedef struct ml__zero_evidence {
	uint64_t e[2];      /* pagemap entries of the two read-faulted pages */
	uint64_t e_next[2]; /* huge probe only: the entry of the page after each */
	int64_t kflags[2];  /* /proc/kpageflags of their PFNs; -1 unreadable */
	int64_t kcount[2];  /* /proc/kpagecount of their PFNs; -1 unreadable */
} ml__zero_evidence;

/*
 * The decision on that evidence (pure): 0 and *ret the shared zero page's PFN (for
 * @huge, the first of 512); the kernel maps no shared page on read faults: -EOPNOTSUPP
 * (-ENOENT for @huge, which also covers "not PMD-mapped"); -EPERM PFNs hidden and the
 * pages not private; -ENODATA the evidence does not agree (cannot tell).
 */
int ml__zero_decide(const ml__zero_evidence *ev, bool huge, uint64_t *ret);

/*
 * Replaces this process's probe result (errors as ml_pagemap_zero_pfn() and
 * ml_pagemap_huge_zero_pfn() return them), so that tests run the other kernel's side.
 */
void ml__zero_set(int err, uint64_t zero, int huge_err, uint64_t huge_zero);

/* The categories of ML_PAGE_PFNZERO and ML_PAGE_HUGE that plain entries can be classified into. */
uint64_t ml__zero_categories(bool pfn_visible);

#endif
