/* Private helpers shared by the page-level readers (pagemap, mem, live source). */
#ifndef MEMLENS_INTERNAL_PAGE_H
#define MEMLENS_INTERNAL_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <sys/stat.h>

#include <memlens/maps.h>
#include <memlens/kpage.h>
#include <memlens/pagemap.h>
#include <memlens/proc.h>

#define ML_PAGE_SHIFT 12
#define ML_PAGE_SZ (UINT64_C(1) << ML_PAGE_SHIFT)
#define ML_HPAGE_PAGES 512u /* pages per PMD (2 MiB) */
#define ML_PAGE_DOWN(a) ((a) & ~(ML_PAGE_SZ - 1))
#define ML_PAGE_UP(a) (((a) + ML_PAGE_SZ - 1) & ~(ML_PAGE_SZ - 1))
/* Top of the user address space with 4-level paging (x86-64 TASK_SIZE); a process's own is
 * ml__pagemap_va_end(). */
#define ML_USER_VA_END UINT64_C(0x7ffffffff000)

/* A mapping as the page readers need it: bounds and how pages in it can be read. */
enum {
	ML_VR_NOSCAN = 0x1,     /* never walked by PAGEMAP_SCAN (VM_PFNMAP: [vvar]; the gate [vsyscall]) */
	ML_VR_UNREADABLE = 0x2, /* its bytes cannot be read (also memfd_secret) */
	/* What a page the process has no page for holds (neither flag: nothing knowable without
	 * faulting it in, e.g. [vdso]): */
	ML_VR_FILEBACKED = 0x4, /* the mapped file's bytes (file, shmem, memfd, SysV mappings) */
	ML_VR_ZEROFILL = 0x8,   /* zeros (anonymous memory never written) */
};

typedef struct ml_vrange {
	uint64_t start, end;
	unsigned flags;
	/* the mapping itself, borrowed from the ml_maps of ml__vranges_read_maps(); NULL when
	 * the maps were read as bare text (then ML_VR_FILEBACKED is never set) */
	const ml_vma *vma;
} ml_vrange;

/* Reads the mappings of @p as sorted ranges (malloc'd array in *ret, count in *ret_n). */
int ml__vranges_read(const ml_proc *p, ml_vrange **ret, size_t *ret_n);
/* The same, keeping the mappings the ranges point to in *ret_maps (the caller frees it
 * after the ranges; it may be NULL when only bounds could be read). */
int ml__vranges_read_maps(const ml_proc *p, ml_vrange **ret, size_t *ret_n, ml_maps **ret_maps);

/*
 * The file behind mapping @v of @p, opened without touching the target:
 * /proc/PID/map_files/START-END (it needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else
 * the mapping's path when the file is not deleted. Either must be a regular file with the
 * device and inode the mapping names, so a file replaced since is never read for it.
 * @return the fd (fstat in *st); -ENOENT none, or not the mapped file; -errno of open.
 */
int ml__vma_file_open(const ml_proc *p, const ml_vma *v, struct stat *st);
/* The address in @v where its file (@fsize bytes) ends, rounded up to a page: the kernel
 * gives SIGBUS beyond it (@v->start when the mapping starts past the end). */
uint64_t ml__vma_file_end(const ml_vma *v, uint64_t fsize);
/*
 * Reads [addr, addr+len) of mapping @v from its file @fd, as the process would see a page
 * it has not written: the file's bytes, and zeros after the end of the file within its last
 * page. @return bytes read (< len where the file ends: nothing is readable from
 * ml__vma_file_end() on); -EIO nothing to read at @addr; -errno of pread.
 */
ssize_t ml__vma_file_read(int fd, const ml_vma *v, uint64_t addr, void *buf, size_t len);

/* Index of the first range with end > @addr (== n when none). */
size_t ml__vranges_find(const ml_vrange *v, size_t n, uint64_t addr);

/*
 * process_vm_readv goes by PID; after it, this tells whether the address space read was
 * the one @pm was opened on: a pagemap fd is bound to its mm and reads nothing once that
 * is gone (exit or exec; a reused PID needs an exit first). One 8-byte pread, where
 * ml_proc_check() opens and parses files. 0 same, -ESRCH gone.
 */
int ml__pagemap_same_mm(ml_pagemap *pm, uint64_t addr);
/* The end of the address space of @pm's process (its TASK_SIZE: 2^47 - 4 KiB with 4-level
 * paging, 2^56 - 4 KiB with 5-level), where its pagemap ends; looked up once. */
uint64_t ml__pagemap_va_end(ml_pagemap *pm);

/*
 * Whether pagemap files this process opens now show PFNs (CAP_SYS_ADMIN in the initial
 * user namespace): asked of the kernel on each call, by reading a page of our own.
 */
bool ml__pfns_visible(void);
/*
 * The decision on that probe (pure): @own_entry is the pagemap entry of a page of the
 * caller's that it has just written. 1 PFNs shown (the entry holds one); 0 hidden (present
 * with PFN 0, what the kernel gives an opener without the privilege); -ENODATA unknown
 * (the page is not present, so its PFN field says nothing).
 */
int ml__pfn_visible_decide(uint64_t own_entry);

/*
 * Categories of present pages of a private anonymous mapping (ML_VR_ZEROFILL), fixed after
 * ml_pagemap_categories(): such a mapping holds anonymous pages and zero pages only, and
 * pagemap sets PM_FILE on the huge zero page (any PMD-mapped folio that is not anonymous),
 * not on the 4 KiB one. So a present page marked FILE there is the huge zero page: FILE is
 * replaced by PFNZERO (which callers report only where that category is offered).
 */
void ml__pagemap_zerofill_cats(uint64_t *cats, size_t n);

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

/* ml_kpage_lookup() by runs of consecutive PFNs in the order given, never sorted: the
 * reference the batched lookup is tested against. */
int ml__kpage_lookup_runs(ml_kpage *k, unsigned which, const uint64_t *pfns, size_t n, uint64_t *ret);
/* A kpage handle on other files than /proc's (tests: fixture files of 8-byte entries);
 * either path may be NULL. */
int ml__kpage_open_files(const char *flags, const char *count, ml_kpage **ret);
/* Clears HUGE in @cats (per page, as ml_pagemap_categories() gave them for @entries) on
 * every block whose frames kpageflags does not show as one compound page of at least 512
 * frames. @kbuf holds 512 entries. 0, or the kpageflags read's -errno. */
int ml__pagemap_huge_confirm(ml_kpage *k, const uint64_t *entries, uint64_t *cats, size_t n, uint64_t *kbuf);

#endif
