/* clear_refs: resetting a process's referenced / soft-dirty bits and peak RSS. */
#ifndef MEMLENS_CLEAR_REFS_H
#define MEMLENS_CLEAR_REFS_H

#include <stdbool.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The values /proc/PID/clear_refs accepts. */
typedef enum ml_clear_refs_what {
	ML_CLEAR_REFS_ALL = 1,        /**< clear Referenced/young bits of all pages */
	ML_CLEAR_REFS_ANON = 2,       /**< ... of anonymous pages only */
	ML_CLEAR_REFS_FILE = 3,       /**< ... of file-backed pages only */
	ML_CLEAR_REFS_SOFT_DIRTY = 4, /**< clear soft-dirty bits (a silent no-op without CONFIG_MEM_SOFT_DIRTY) */
	ML_CLEAR_REFS_PEAK_RSS = 5,   /**< reset VmHWM to the current RSS */
} ml_clear_refs_what;

/**
 * Writes @what to /proc/PID/clear_refs of @p. This changes the target's state (that is
 * its purpose). Note: since about Linux 5.11 values 1-3 do not flush the TLB, so accesses
 * right after the clear can go unseen; where soft-dirty is compiled out, writing 4 right
 * after forces the flush (see ml_clear_refs_probe()).
 * @return 0; -EINVAL unknown value; -ESRCH gone (also for a zombie, where the kernel
 *         silently accepts the write); -EACCES/-EPERM denied; -ENOENT no clear_refs.
 */
ML_API int ml_clear_refs_write(const ml_proc *p, ml_clear_refs_what what);

/** What soft-dirty tracking does on this kernel. */
typedef enum ml_soft_dirty_state {
	ML_SOFT_DIRTY_UNKNOWN = 0,
	ML_SOFT_DIRTY_WORKS,   /**< bit 55 is set on write and cleared by writing 4 */
	ML_SOFT_DIRTY_ABSENT,  /**< compiled out: writing 4 is accepted and does nothing */
} ml_soft_dirty_state;

/**
 * Tells whether soft-dirty really works: forks a short-lived child that dirties a probe
 * page, writes 4 to the child's clear_refs, and watches bit 55 of the page before, after
 * the clear and after a second write. The answer is cached for the calling process.
 * @return 0 and *ret; -EACCES/-EPERM when pagemap/clear_refs of the child cannot be
 *         opened; -ENOENT no pagemap; -EAGAIN/-ENOMEM fork failed.
 */
ML_API int ml_clear_refs_probe(ml_soft_dirty_state *ret);

/** "works", "absent" or "unknown". */
ML_API const char *ml_soft_dirty_state_name(ml_soft_dirty_state s);

#ifdef __cplusplus
}
#endif
#endif
