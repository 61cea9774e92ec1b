/* Memory a test counts a page at a time is kept out of transparent huge pages, whatever
 * /sys/kernel/mm/transparent_hugepage/enabled (and shmem_enabled) say: under "always" one
 * write anywhere in a 2 MiB-aligned stretch maps all 512 of its pages, and a test that
 * wrote 3 pages would find 1,536 present. The regions meant to be huge ask for it with
 * MADV_HUGEPAGE instead. A kernel without THP refuses the advice with EINVAL: then there
 * is nothing to keep out. */
#ifndef ML_TEST_PAGE_GRAIN_H
#define ML_TEST_PAGE_GRAIN_H

#include <sys/mman.h>

static inline void *page_grain(void *p, size_t len)
{
	if (p && p != MAP_FAILED)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* mmap() whose result is kept to 4 KiB pages */
static inline void *mmap_pages(size_t len, int prot, int flags, int fd, off_t off)
{
	return page_grain(mmap(NULL, len, prot, flags, fd, off), len);
}

#endif
