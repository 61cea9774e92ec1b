/* mem: reading a process's memory (process_vm_readv, /proc/PID/mem), and populated-only reading. */
#ifndef MEMLENS_MEM_H
#define MEMLENS_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How ml_mem_read_ex() reads. */
typedef enum ml_mem_method {
	ML_MEM_AUTO = 0,    /**< process_vm_readv, then /proc/PID/mem for what it could not read */
	ML_MEM_VM_READV,    /**< process_vm_readv only (cannot read PROT_NONE memory) */
	ML_MEM_PROCFS,      /**< /proc/PID/mem only (reads PROT_NONE memory with FOLL_FORCE) */
} ml_mem_method;

/**
 * Reads [addr, addr+len) of @p into @buf. Beware: like any reader of another process's
 * memory, this faults in pages that are not present (the zero page for untouched
 * anonymous memory, page cache for files); use ml_populated_*() or ml_source_read() to
 * read without disturbing the target.
 *
 * A read that runs into an unreadable page returns the readable prefix: the first
 * unreadable address is then exactly addr + return value (a page boundary, unless the
 * range started mid-page).
 * @return bytes read (0 only for len 0); -EIO the first page is mapped but unreadable
 *         ([vvar], [vsyscall], a file mapping past EOF, memfd_secret, an I/O error);
 *         -EFAULT @addr is not mapped; -ESRCH gone; -EACCES/-EPERM denied (needs ptrace
 *         access: CAP_SYS_PTRACE or same uid and ptrace_scope); -EINVAL.
 */
ML_API ssize_t ml_mem_read(const ml_proc *p, uint64_t addr, void *buf, size_t len);

/** Like ml_mem_read(), with the read method chosen. */
ML_API ssize_t ml_mem_read_ex(const ml_proc *p, uint64_t addr, void *buf, size_t len,
			      ml_mem_method how);

/* ---- populated-only reading ---- */

/** Flags of ml_populated_opts. */
#define ML_POP_SWAPPED 0x1u /**< also read swapped pages (this swaps them in) */
#define ML_POP_ZERO    0x2u /**< also yield pages mapped to the zero page (they read as zeros) */

/** Options of ml_populated_open(); zero fields are defaults. */
typedef struct ml_populated_opts {
	size_t sz;            /**< set by ML_OPTS */
	unsigned flags;       /**< ML_POP_* */
	bool force_emulation; /**< find pages with plain pagemap reads, not PAGEMAP_SCAN */
} ml_populated_opts;

/**
 * An iterator over the populated memory of [start, end): it finds present pages (and
 * swapped ones on request) with PAGEMAP_SCAN and reads only those, so unpopulated memory
 * is never faulted in and page tables do not grow. A page reclaimed between the scan and
 * the read can still be faulted back in: the window is one chunk.
 */
typedef struct ml_populated ml_populated;

/**
 * Starts iterating [start, end) of @p (rounded outward to pages).
 * @return 0; -ESRCH; -EACCES/-EPERM; -EINVAL start > end; -ENOMEM.
 */
ML_API int ml_populated_open(const ml_proc *p, uint64_t start, uint64_t end,
			     const ml_populated_opts *o, ml_populated **ret);

/** A piece of memory: @len bytes at @addr. */
typedef struct ml_mem_span {
	uint64_t addr;
	uint64_t len;
} ml_mem_span;

/**
 * Reads the next populated memory into @buf (at most @cap bytes; @cap >= 4096) as up to
 * @nspans spans: spans[i] describes the next spans[i].len bytes of @buf, in address
 * order, each a run of populated pages (or the part of it that fits). Many small runs
 * are read with one system call. Pages that turn out unreadable (unmapped meanwhile,
 * secret memory, I/O error) are skipped and counted in ml_populated_skipped().
 * @return bytes in @buf (> 0) with *ret_nspans set; 0 at the end; -ESRCH gone;
 *         -EINVAL @cap < 4096 or @nspans 0; -ENOMEM.
 */
ML_API ssize_t ml_populated_next(ml_populated *it, void *buf, size_t cap, ml_mem_span *spans,
				 size_t nspans, size_t *ret_nspans);

/** Bytes of populated pages skipped because they could not be read. */
ML_API uint64_t ml_populated_skipped(const ml_populated *it);

/** Frees the iterator (NULL is fine). */
ML_API void ml_populated_free(ml_populated *it);

#ifdef __cplusplus
}
#endif
#endif
