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

#endif
