/* ml_source: a live process or a snapshot file, read the same way. */
#ifndef MEMLENS_SOURCE_H
#define MEMLENS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/maps.h>
#include <memlens/proc.h>
#include <memlens/smaps.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A source of process memory: a live process (through an ml_proc) or a snapshot file.
 * Read-only commands take either. All functions taking a `const ml_source *` are safe to
 * call from several threads at once.
 */
typedef struct ml_source ml_source;

typedef enum ml_source_type {
	ML_SOURCE_LIVE = 1,
	ML_SOURCE_SNAPSHOT = 2,
	/** an ELF core file (ET_CORE with PT_LOAD segments: the kernel's, gdb's gcore,
	 *  `memlens core expand`), plain or compressed (zstd, LZ4 frame, xz, gzip) */
	ML_SOURCE_CORE = 3,
} ml_source_type;

/**
 * The state of a run of pages, and (ml_source_read_runs()) where the bytes of a read came
 * from. See docs/pagemap.md, "Where the bytes come from".
 */
typedef enum ml_run_kind {
	ML_RUN_DATA = 0,     /**< populated: present in RAM (live) or stored bytes (snapshot) */
	ML_RUN_ZERO,         /**< known to read as zeros (zero page, or stored as zero) */
	/** no page: nothing to read. Anonymous memory never written reads as zeros; a live
	 *  file mapping's bytes are its file's (ML_RUNS_FILE tells these apart) */
	ML_RUN_UNPOPULATED,
	ML_RUN_SWAPPED,      /**< swapped out (live only; reading it would swap it in) */
	/** not available: left out of a snapshot by filter (coredump_filter, DONTDUMP); live,
	 *  with ML_RUNS_FILE, a page that is not resident and whose bytes cannot be had without
	 *  faulting it in (a special mapping such as [vdso]; a file mapping whose file cannot
	 *  be opened, or is no longer the mapped file) */
	ML_RUN_EXCLUDED,
	ML_RUN_UNREADABLE,   /**< could not be read ([vvar], I/O error, a file mapping past its file's end) */
	/** live, with ML_RUNS_FILE: a page of a file mapping (shared, or private and never
	 *  written) that is not resident: its bytes are the file's, read from the file */
	ML_RUN_FILE,
	ML_RUN_KIND_COUNT
} ml_run_kind;

/** A run of pages [start, end) in one state. */
typedef struct ml_run {
	uint64_t start, end;
	ml_run_kind kind;
} ml_run;

/** Opens a live process by PID. @return as ml_proc_open(). */
ML_API int ml_source_open_pid(pid_t pid, ml_source **ret);
/** Opens a live process through an existing handle (borrowed: it must outlive the source). */
ML_API int ml_source_open_proc(const ml_proc *p, ml_source **ret);
/**
 * Opens a file: an mlcore snapshot, a `memlens core export` gzip file, or any ELF core
 * (ML_SOURCE_CORE), plain or compressed with zstd, LZ4 (frame format), xz or gzip; the
 * format is told by the file's first bytes, never by its name. A compressed core that
 * cannot be read at random (one zstd or xz frame, linked LZ4 blocks, a gzip stream) is
 * decompressed once into an unnamed temporary file in $TMPDIR (else /var/tmp), holes
 * where the core has zeros: ml_source_notice() then says so.
 * @return 0; -ENOENT/-EACCES from open(2); -EBADMSG not a valid snapshot or core
 *         (detail: ml_error_detail() says what is wrong, e.g. which segment runs past
 *         the end of a truncated file; "" where the errno says it all); -ENOSPC/-EIO
 *         making the temporary file; -ELIBACC a compression or ELF library could not be
 *         loaded (detail: which, and why).
 */
ML_API int ml_source_open_file(const char *path, ml_source **ret);
/** Opens @spec: a PID if it is all digits, else a file as ml_source_open_file() (detail). */
ML_API int ml_source_open(const char *spec, ml_source **ret);

ML_API ml_source_type ml_source_get_type(const ml_source *s);
/** The PID the memory belongs (or belonged, for a snapshot) to. */
ML_API pid_t ml_source_pid(const ml_source *s);
/** The live handle (borrowed), or NULL for a file. */
ML_API const ml_proc *ml_source_proc(const ml_source *s);

/**
 * The mappings (caller-owned; free with ml_maps_free()). For a snapshot, those captured.
 * @return 0; -ESRCH; -EACCES; -ENOMEM.
 */
ML_API int ml_source_maps(const ml_source *s, ml_maps **ret);

/**
 * The text of a /proc file of the process, e.g. "smaps", "smaps_rollup", "status",
 * "cmdline", "limits", "coredump_filter", "auxv". For a snapshot: the copy saved at
 * capture time. NUL-terminated malloc'd buffer.
 * @return 0; -ENOENT when the snapshot holds no copy; otherwise as ml_proc_read_file().
 */
ML_API int ml_source_read_file(const ml_source *s, const char *name, char **ret, size_t *ret_len);

/**
 * The whole-process totals of the source, as smaps_rollup gives them: live, the kernel's
 * smaps_rollup; a snapshot, its saved copy, or, when it saved smaps but no smaps_rollup,
 * the sum of its smaps (@ret_summed true; no Size/KernelPageSize/MMUPageSize and no
 * Pss_Anon/File/Shmem split, which only the kernel's rollup has). Free with
 * ml_smaps_rollup_free(). @ret_summed may be NULL.
 * @return 0; -ENOENT a snapshot with neither file; otherwise as ml_smaps_rollup_read().
 */
ML_API int ml_source_read_rollup(const ml_source *s, ml_smaps_rollup **ret, bool *ret_summed);

/** Flags for ml_source_runs(). */
#define ML_RUNS_SPLIT_ZERO 0x1u /**< report zero-page runs (live: PFN-zero pages) separately */
/**
 * Live: tell apart what pages without a page table entry hold: ML_RUN_FILE where the
 * mapped file holds their bytes (past the file's end: ML_RUN_UNREADABLE), ML_RUN_EXCLUDED
 * where nothing can be had without faulting them in, ML_RUN_UNPOPULATED (zeros) for
 * anonymous memory. Without it they are all ML_RUN_UNPOPULATED. Snapshots ignore it.
 */
#define ML_RUNS_FILE 0x2u

/**
 * Streams the page runs of [start, end) into @vec (at most @n). Adjacent runs of one
 * kind are merged; runs never cross a mapping boundary; unmapped gaps are not reported.
 * *next is set to where to resume (== @end when done).
 * @return the number of runs written (0 only when done); -ESRCH; -EACCES; -ENOMEM.
 */
ML_API ssize_t ml_source_runs(const ml_source *s, uint64_t start, uint64_t end, unsigned flags,
			      ml_run *vec, size_t n, uint64_t *next);

/** Flags for ml_source_read(). */
#define ML_READ_SWAPPED 0x1u   /**< also read swapped pages (this swaps them in) */
/**
 * The caller knows the range is populated (it was just reported as ML_RUN_DATA by
 * ml_source_runs()): a live source then reads it as it is, without walking the page
 * tables again (saves a PAGEMAP_SCAN per read when the caller has walked the runs
 * already). A page that has stopped being present since is faulted in, so pass only
 * ranges seen as data. Snapshots ignore the flag.
 */
#define ML_READ_POPULATED 0x2u

/**
 * Reads [addr, addr+len) into @buf without disturbing the target: populated pages are
 * read; pages of file mappings that are not resident (shared, or private and never
 * written) are read from the mapped file (through /proc/PID/map_files, never by faulting
 * them in); anonymous pages never written and zero pages are filled with zeros; swapped
 * pages are not read unless @ML_READ_SWAPPED is given (@flags: ML_READ_*). Bytes that are
 * not available (swapped, excluded: see ml_source_read_runs()) are filled with zeros,
 * which are not the target's bytes: ml_source_read_runs() says where they are.
 * @return bytes read (< len when the range runs into an unmapped or unreadable page, or
 *         into damaged stored data: the readable prefix); -EIO if the first page is
 *         unreadable; -EFAULT if @addr is not mapped; -EBADMSG (a snapshot) the stored
 *         data holding @addr is corrupt (ml_error_detail() names it,
 *         ml_source_damage() gives its range); -ESRCH; -EACCES.
 */
ML_API ssize_t ml_source_read(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags);

/**
 * After a read at @addr failed with -EBADMSG: the damaged range holding @addr,
 * [*ret_start, *ret_end), so that a caller can skip exactly it: a snapshot's chunk, or the
 * addresses of a gzip export's member (within the mapping holding @addr). Reads outside it
 * are not affected by it. The stored data is decoded again to confirm the damage.
 * @return 0; -ENOENT nothing stored at @addr is damaged; -EOPNOTSUPP a live process;
 *         -EINVAL; -ENOMEM; -EIO.
 */
ML_API int ml_source_damage(const ml_source *s, uint64_t addr, uint64_t *ret_start, uint64_t *ret_end);

/**
 * As ml_source_read(), and says where each byte came from: @runs[0..*ret_nruns) cover
 * [addr, addr + return value) in order, adjacent runs of one kind merged, with kinds
 *   ML_RUN_DATA        read from memory (live: resident, or swapped in with
 *                      ML_READ_SWAPPED; snapshot: its stored bytes);
 *   ML_RUN_FILE        read from the mapped file (live: the page is not resident);
 *   ML_RUN_ZERO, ML_RUN_UNPOPULATED  zero-fill: zeros known without reading (the zero
 *                      page, anonymous memory never written, stored as zero);
 *   ML_RUN_SWAPPED, ML_RUN_EXCLUDED  not available: the buffer holds zeros there, which
 *                      are not the target's bytes.
 * When @nruns runs are not enough the read stops early, at the end of the last run: a
 * short read that is not an error (the next call goes on from there).
 * @return as ml_source_read(); -EINVAL @runs NULL or @nruns 0.
 */
ML_API ssize_t ml_source_read_runs(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags,
				   ml_run *runs, size_t nruns, size_t *ret_nruns);

/**
 * Why the source is incomplete, when it is (a core file that ends before its segments
 * do, a compressed stream cut short or corrupt): a sentence, or NULL when it is whole.
 * Commands then print it and exit 1 (partial result). What is missing reads as
 * ML_RUN_UNREADABLE, never as zeros.
 */
ML_API const char *ml_source_partial(const ml_source *s);

/**
 * A sentence about how the source is read when that has a cost the user should know of
 * (a compressed core decompressed into a temporary file), or NULL.
 */
ML_API const char *ml_source_notice(const ml_source *s);

ML_API void ml_source_free(ml_source *s);

#ifdef __cplusplus
}
#endif
#endif
