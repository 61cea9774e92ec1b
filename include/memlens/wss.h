/* wss: one working-set measurement window on a process (clear, then read what was accessed). */
#ifndef MEMLENS_WSS_H
#define MEMLENS_WSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <memlens/clear_refs.h>
#include <memlens/common.h>
#include <memlens/maps.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * How accesses are observed.
 * - REFERENCED: write clear_refs, later sum smaps "Referenced" per mapping. Counts reads
 *   and writes; per mapping (not per page); a THP counts as a whole 2 MiB; file pages
 *   count page-cache accesses by any process. Works for the owner of the target.
 * - IDLE: mark the target's present frames idle in /sys/kernel/mm/page_idle/bitmap, later
 *   test them. Per page; reads and writes; root; CONFIG_IDLE_PAGE_TRACKING.
 * - SOFT_DIRTY: clear_refs 4, later count pagemap bit 55. Per page; writes only;
 *   CONFIG_MEM_SOFT_DIRTY (which the kernel does not advertise: it is probed).
 */
typedef enum ml_wss_backend {
	ML_WSS_AUTO = 0, /**< the best available: referenced, else idle, else soft-dirty */
	ML_WSS_REFERENCED,
	ML_WSS_IDLE,
	ML_WSS_SOFT_DIRTY,
	ML_WSS_BACKEND_COUNT
} ml_wss_backend;

/** Which pages a window covers (the clear_refs value written for REFERENCED). */
typedef enum ml_wss_scope {
	ML_WSS_SCOPE_ALL = 0, /**< every mapping (clear_refs 1) */
	ML_WSS_SCOPE_ANON,    /**< mappings without a backing file only (clear_refs 2) */
	ML_WSS_SCOPE_FILE,    /**< file-backed mappings only, shmem included (clear_refs 3) */
} ml_wss_scope;

/**
 * The TLB flush after clear_refs 1-3. Since about Linux 5.11 those clears do not flush
 * the TLB, so a page touched right after the clear through a cached translation never
 * gets its accessed bit set again and is missed. Writing clear_refs 4 flushes the TLB;
 * where soft-dirty is compiled out that is its only effect. Where soft-dirty exists the
 * same write would wipe soft-dirty state others may rely on, so AUTO does not flush
 * there and the sample says an undercount is possible.
 */
typedef enum ml_wss_flush {
	ML_WSS_FLUSH_AUTO = 0, /**< flush where that has no side effect */
	ML_WSS_FLUSH_NEVER,    /**< never (shows the undercount; for tests and comparisons) */
} ml_wss_flush;

/** Options of a window. Declare with ML_OPTS(ml_wss_opts, o, ...). */
typedef struct ml_wss_opts {
	size_t sz;
	ml_wss_backend backend;
	ml_wss_scope scope;
	ml_wss_flush flush;
	/** IDLE only: a file laid out like the kernel's bitmap to use instead of it (a replay,
	 *  a test). The kernel never clears its bits, so only what the caller clears there
	 *  (and pages new since the window opened) counts as accessed. NULL: the kernel's. */
	const char *idle_bitmap_path;
} ml_wss_opts;

/** Availability of one backend, from ml_wss_probe(). */
typedef struct ml_wss_probe_info {
	ml_wss_backend backend;
	int status;          /**< 0 available; else why not as -errno (-EOPNOTSUPP, -EACCES) */
	const char *reason;  /**< static text: what it needs, or why it is unavailable */
} ml_wss_probe_info;

/**
 * Probes backend @b (not AUTO) on this kernel: for REFERENCED that clear_refs and smaps
 * exist (and, with @p, that @p's clear_refs can be opened for writing); for IDLE that the
 * bitmap exists and is writable and pagemap shows PFNs; for SOFT_DIRTY that a page this
 * process writes shows bit 55 in its pagemap and loses it on clear_refs 4
 * (ml_clear_refs_probe()). @p may be NULL.
 * @return 0 (the verdict is in *ret); -EINVAL.
 */
ML_API int ml_wss_probe(ml_wss_backend b, const ml_proc *p, ml_wss_probe_info *ret);

/** "referenced", "idle", "soft-dirty" ("auto" for AUTO). */
ML_API const char *ml_wss_backend_name(ml_wss_backend b);
/** The backend named @s, or -EINVAL. */
ML_API int ml_wss_backend_parse(const char *s);

/** What a sample says about the target. */
typedef enum ml_wss_target {
	ML_WSS_TARGET_OK = 0,   /**< same process, same image, alive */
	ML_WSS_TARGET_ZOMBIE,   /**< exited, not yet reaped (clear_refs does nothing on it) */
	ML_WSS_TARGET_GONE,     /**< exited and reaped */
	ML_WSS_TARGET_EXECED,   /**< running a new image: the address space measured is gone */
} ml_wss_target;

/** One mapping's share of a sample. Sizes in bytes. */
typedef struct ml_wss_region {
	uint64_t start, end;
	uint32_t perms;           /**< ML_PERM_* */
	ml_vma_kind kind;
	const char *name;         /**< exact bytes, NUL-terminated (borrowed from the sample), as ml_maps names it */
	size_t name_len;
	bool deleted;             /**< the backing file was unlinked (" (deleted)" removed from name) */
	bool file_backed;         /**< has a backing file (shmem counts): clear_refs 3 covers it */
	bool measured;            /**< false when the window's scope did not clear it, or the page backends cannot see its accesses ([vdso]): no WSS */
	bool appeared;            /**< some of its range was not mapped when the window opened */
	uint64_t rss, pss;
	uint64_t anonymous;       /**< smaps Anonymous */
	uint64_t huge;            /**< PMD-mapped bytes: AnonHugePages + ShmemPmdMapped + FilePmdMapped */
	uint64_t wss;             /**< bytes accessed in the window (0 when !measured) */
	uint64_t wss_huge_min, wss_huge_max; /**< how much of wss can be, at least / at most, huge pages */
} ml_wss_region;

/** Totals of a sample, in bytes. */
typedef struct ml_wss_totals {
	uint64_t rss, pss;
	uint64_t wss;             /**< all measured mappings */
	uint64_t wss_anon;        /**< mappings without a file: heap, stacks, anon, named anon, vdso */
	uint64_t wss_file;        /**< file-backed mappings, shmem included */
	uint64_t wss_shmem;       /**< the shmem/SysV/memfd part of wss_file */
	uint64_t wss_huge_min, wss_huge_max; /**< THP share of wss (exact when equal) */
	uint64_t wss_appeared;    /**< part of wss in mappings that appeared during the window */
	uint64_t lost_bytes;      /**< address range unmapped during the window (accesses to it are lost) */
	size_t appeared;          /**< mappings that cover range unmapped when the window opened */
	size_t disappeared;       /**< mappings of the window's start that lost range (unmapped in whole or part) */
} ml_wss_totals;

/** The result of reading a window. Times are CLOCK_MONOTONIC nanoseconds. */
typedef struct ml_wss_sample {
	ml_wss_backend backend;
	ml_wss_scope scope;
	bool flushed;             /**< the TLB was flushed right after the clear */
	bool undercount_possible; /**< no flush (soft-dirty present, or FLUSH_NEVER): accesses right after the clear may be missed */
	bool writes_only;         /**< SOFT_DIRTY: reads are not seen */
	uint64_t clear_start, clear_end; /**< the clear (window opens during it) */
	uint64_t read_start, read_end;   /**< the read (window closes during it) */
	int64_t clear_realtime_ns;       /**< CLOCK_REALTIME at clear_start (wall clock) */
	uint64_t pages_scanned;   /**< IDLE/SOFT_DIRTY: pagemap entries read */
	ml_wss_totals tot;
	size_t nregions;
	ml_wss_region *regions;   /**< sorted by address, owned by the sample */
} ml_wss_sample;

/** A measurement window on one process. */
typedef struct ml_wss ml_wss;

/**
 * Opens a window on @p now: records the mappings, clears the access state of the pages
 * in scope (and flushes, see ml_wss_flush), recording how long that took. @p must outlive
 * the window. A zombie target is refused (clear_refs would silently do nothing).
 * @return 0; -EOPNOTSUPP backend unavailable (AUTO: none is); -ESRCH target gone or a
 *         zombie (see ml_wss_target_state()); -EACCES/-EPERM not allowed (AUTO: the best
 *         backend the kernel has is not allowed to this caller); -EINVAL; -ENOMEM.
 */
ML_API int ml_wss_start(const ml_proc *p, const ml_wss_opts *o, ml_wss **ret);

/** Clears again: a new window on the same target with the same options. @return as ml_wss_start(). */
ML_API int ml_wss_restart(ml_wss *w);

/**
 * Reads what was accessed since the window opened. The window stays open: reading again
 * later gives the cumulative working set since the same clear.
 * For REFERENCED this is one read of smaps (streamed); for IDLE and SOFT_DIRTY also a
 * pagemap walk of every mapping in scope. read_start/read_end in the sample bracket it.
 * @return 0; -ESRCH the target exited, exec'd or became a zombie (ml_wss_target_state()
 *         says which); -EACCES/-EPERM; -EBADMSG smaps text that does not parse; -EIO;
 *         -ENOMEM.
 */
ML_API int ml_wss_read(ml_wss *w, ml_wss_sample **ret);

/** The backend the window really uses (AUTO resolved). */
ML_API ml_wss_backend ml_wss_backend_of(const ml_wss *w);

/** What became of the target (checks now). */
ML_API ml_wss_target ml_wss_target_state(const ml_proc *p);
/** "ok", "zombie", "gone", "exec'd". */
ML_API const char *ml_wss_target_name(ml_wss_target t);

/** Frees a sample (NULL is fine). */
ML_API void ml_wss_sample_free(ml_wss_sample *s);
/** Frees a window (NULL is fine). Does not undo the clear (it cannot be undone). */
ML_API void ml_wss_free(ml_wss *w);

#ifdef __cplusplus
}
#endif
#endif
