/* kpage: physical page facts from /proc/kpageflags, /proc/kpagecount and /proc/kpagecgroup. */
#ifndef MEMLENS_KPAGE_H
#define MEMLENS_KPAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bit numbers of /proc/kpageflags entries (the kernel's KPF_*). */
enum {
	ML_KPF_LOCKED = 0,
	ML_KPF_ERROR = 1,
	ML_KPF_REFERENCED = 2,
	ML_KPF_UPTODATE = 3,
	ML_KPF_DIRTY = 4,
	ML_KPF_LRU = 5,
	ML_KPF_ACTIVE = 6,
	ML_KPF_SLAB = 7,
	ML_KPF_WRITEBACK = 8,
	ML_KPF_RECLAIM = 9,
	ML_KPF_BUDDY = 10,
	ML_KPF_MMAP = 11,
	ML_KPF_ANON = 12,
	ML_KPF_SWAPCACHE = 13,
	ML_KPF_SWAPBACKED = 14,
	ML_KPF_COMPOUND_HEAD = 15,
	ML_KPF_COMPOUND_TAIL = 16,
	ML_KPF_HUGE = 17,        /**< hugetlbfs page */
	ML_KPF_UNEVICTABLE = 18,
	ML_KPF_HWPOISON = 19,
	ML_KPF_NOPAGE = 20,      /**< no struct page at this PFN */
	ML_KPF_KSM = 21,
	ML_KPF_THP = 22,
	ML_KPF_OFFLINE = 23,
	ML_KPF_ZERO_PAGE = 24,   /**< the zero page or the huge zero page */
	ML_KPF_IDLE = 25,
	ML_KPF_PGTABLE = 26,
	/* Kernel-internal bits, shown by the kernel to root for debugging (page-types -r). */
	ML_KPF_RESERVED = 32,
	ML_KPF_MLOCKED = 33,
	ML_KPF_MAPPEDTODISK = 34, /**< PG_owner_2 (PG_mappedtodisk in older kernels) */
	ML_KPF_PRIVATE = 35,
	ML_KPF_PRIVATE_2 = 36,
	ML_KPF_OWNER_PRIVATE = 37,
	ML_KPF_ARCH = 38,
	ML_KPF_UNCACHED = 39,
	ML_KPF_SOFTDIRTY = 40,   /**< page-level soft-dirty (not the PTE bit) */
	ML_KPF_ARCH_2 = 41,
	ML_KPF_BITS = 64
};

/** The mask of one KPF bit: ML_KPF(ML_KPF_DIRTY). */
#define ML_KPF(bit) (UINT64_C(1) << (bit))

/**
 * The name of KPF bit @bit as the kernel's page-types tool spells it ("referenced",
 * "compound_head", "mappedtodisk", ...), or NULL for a bit with no name.
 */
ML_API const char *ml_kpage_flag_name(unsigned bit);

/** A one-letter-per-flag abbreviation of @bit as page-types uses ('R' referenced, ...), or 0. */
ML_API char ml_kpage_flag_letter(unsigned bit);

/** Which /proc/kpage* files a handle opens. */
#define ML_KPAGE_FLAGS  0x1u
#define ML_KPAGE_COUNT  0x2u
#define ML_KPAGE_CGROUP 0x4u

/** Open /proc/kpageflags, kpagecount, kpagecgroup (system-wide; root only). */
typedef struct ml_kpage ml_kpage;

/**
 * Opens the files selected by @what (ML_KPAGE_*). kpagecgroup is optional: it is left
 * out without error when the kernel has no CONFIG_MEMCG (ml_kpage_cgroup() then gives
 * -ENOENT).
 * @return 0; -EACCES/-EPERM not root (these files need CAP_SYS_ADMIN); -ENOENT the
 *         kernel has no such file; -EINVAL @what empty; -ENOMEM.
 */
ML_API int ml_kpage_open(unsigned what, ml_kpage **ret);

/**
 * Reads the 8-byte entries of PFNs [pfn, pfn+n) into @ret (one pread).
 * @return entries read (< n at the end of physical memory); -ENOENT file not opened;
 *         -EPERM/-EACCES; -EIO.
 */
ML_API ssize_t ml_kpage_flags(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n);
/** As ml_kpage_flags() for /proc/kpagecount: how many times each page is mapped. */
ML_API ssize_t ml_kpage_count(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n);
/** As ml_kpage_flags() for /proc/kpagecgroup: the memory cgroup inode of each page. */
ML_API ssize_t ml_kpage_cgroup(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n);

/**
 * Looks up @n arbitrary PFNs (e.g. those of consecutive virtual pages): they are sorted
 * and read by window, one pread per cluster of nearby PFNs (gaps of up to 32 entries are
 * read through, 512 KiB at most per read), so that the cost follows the number of
 * clusters, not of pages; a few runs are read in the order given. Entries of PFN 0
 * (unknown: not present, or PFN hidden) and PFNs past the end of physical memory get 0.
 * @which is one of ML_KPAGE_FLAGS, ML_KPAGE_COUNT, ML_KPAGE_CGROUP.
 * @return 0; -ENOENT that file is not open; -EIO; -EINVAL.
 */
ML_API int ml_kpage_lookup(ml_kpage *k, unsigned which, const uint64_t *pfns, size_t n, uint64_t *ret);

/** Closes the files (NULL is fine). */
ML_API void ml_kpage_free(ml_kpage *k);

#ifdef __cplusplus
}
#endif
#endif
