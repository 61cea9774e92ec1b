/* idle: the kernel's idle-page bitmap (/sys/kernel/mm/page_idle/bitmap), read and set by PFN. */
#ifndef MEMLENS_IDLE_H
#define MEMLENS_IDLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An open idle-page bitmap. The bitmap holds one bit per physical page frame (PFN),
 * packed in native-endian 64-bit words: bit (pfn % 64) of word (pfn / 64), at byte
 * offset (pfn / 64) * 8. Reading gives 1 for a page that has not been accessed since it
 * was marked idle; writing 1 bits marks pages idle (0 bits are ignored). The kernel
 * accepts only whole, 8-byte-aligned words, and only for user pages on the LRU; other
 * frames read 0 and ignore writes. Needs CONFIG_IDLE_PAGE_TRACKING and root
 * (CAP_SYS_ADMIN, the file is mode 0600).
 */
typedef struct ml_idle ml_idle;

/** Why the bitmap is or is not usable, from ml_idle_probe(). */
typedef struct ml_idle_probe_info {
	int status;          /**< 0 usable; else the -errno ml_idle_open() would return */
	const char *reason;  /**< static text: why not (or "available") */
} ml_idle_probe_info;

/** The kernel's bitmap path. */
#define ML_IDLE_BITMAP_PATH "/sys/kernel/mm/page_idle/bitmap"

/**
 * Opens the kernel's bitmap for reading and writing.
 * @return 0; -EOPNOTSUPP the kernel has no idle page tracking (no /sys/kernel/mm/page_idle);
 *         -EACCES/-EPERM not root; -EINVAL ret NULL; -ENOMEM.
 */
ML_API int ml_idle_open(ml_idle **ret);

/**
 * Opens any file laid out like the bitmap (a fixture, a saved copy) at @path, read-write
 * if possible, else read-only (then ml_idle_mark() gives -EBADF). Marking such a file
 * behaves like marking the kernel's: 1 bits are set, 0 bits leave a frame as it was.
 * @return 0; open(2)'s -errno; -EINVAL; -ENOMEM.
 */
ML_API int ml_idle_open_path(const char *path, ml_idle **ret);

/**
 * Says whether ml_idle_open() would work and why not, without keeping anything open.
 * Never fails on a working system; @return 0 (the verdict is in *ret), -EINVAL ret NULL.
 */
ML_API int ml_idle_probe(ml_idle_probe_info *ret);

/**
 * Reads @nwords words of the bitmap starting at the word holding @pfn (@pfn is rounded
 * down to a multiple of 64) into @words. Frames past the end of physical memory read as
 * 0 (the kernel's file ends there).
 * @return the number of words read (< @nwords at the end of the bitmap); -EIO; -EINVAL.
 */
ML_API ssize_t ml_idle_read(const ml_idle *b, uint64_t pfn, uint64_t *words, size_t nwords);

/**
 * Writes @nwords words starting at the word holding @pfn: every 1 bit marks that frame idle.
 * @return words written; -EBADF opened read-only; -EINVAL; -EIO.
 */
ML_API ssize_t ml_idle_mark(ml_idle *b, uint64_t pfn, const uint64_t *words, size_t nwords);

/**
 * Marks the frames in @pfns (any order, duplicates allowed; 0 entries are skipped) idle,
 * batching neighbouring frames into as few word writes as possible. @pfns is sorted in place.
 * @return the number of word writes issued; -EBADF; -EIO; -EINVAL.
 */
ML_API ssize_t ml_idle_mark_pfns(ml_idle *b, uint64_t *pfns, size_t n);

/**
 * For each frame in @pfns (sorted ascending; 0 entries are skipped and reported 0), sets
 * @ret_idle[i] to 1 if the frame is still idle, 0 if it was accessed. Reads each needed
 * word once, in batches.
 * @return 0; -EIO; -EINVAL (not sorted, or a NULL pointer).
 */
ML_API int ml_idle_test_pfns(const ml_idle *b, const uint64_t *pfns, size_t n, uint8_t *ret_idle);

/** Closes the bitmap (NULL is fine). */
ML_API void ml_idle_free(ml_idle *b);

#ifdef __cplusplus
}
#endif
#endif
