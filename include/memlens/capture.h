/* ml_capture: a live process into a snapshot file (or plain ELF core), frozen briefly and read without faulting anything in. */
#ifndef MEMLENS_CAPTURE_H
#define MEMLENS_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How the target is held still while its memory is read. */
typedef enum ml_capture_freeze {
	/** PTRACE_SEIZE + PTRACE_INTERRUPT every thread (see ml_freeze_start()); registers
	 *  are read; released as soon as the memory has been read. */
	ML_CAPTURE_FREEZE_PTRACE = 0,
	/** Not stopped at all: memory is read while the process runs, so the snapshot may
	 *  mix moments ("smeared", said in its manifest); no registers (zeroed NT_PRSTATUS). */
	ML_CAPTURE_FREEZE_NONE = 1,
	/** Copy-on-write: every thread is held (as ML_CAPTURE_FREEZE_PTRACE) only while its
	 *  registers and mappings are read and one held thread is made to fork (a clone system
	 *  call run in it through ptrace, with exit signal 0 and CLONE_FILES); then the target
	 *  runs on and memory is read from the copy, which never runs (held in a ptrace stop
	 *  from birth, killed if the capturing process dies) and is killed and reaped in the
	 *  target at the end. Mappings a fork does not copy (shared, MADV_DONTFORK,
	 *  MADV_WIPEONFORK, hugetlb) are read from the target while it is held. Where a fork
	 *  is not possible (ml_capture_opts.cow_fallback decides) the reason is in
	 *  ml_capture_result.why_not_cow. See docs/architecture.md. */
	ML_CAPTURE_FREEZE_COW = 2,
} ml_capture_freeze;

/** Counters handed to the progress callback. */
typedef struct ml_capture_progress {
	uint64_t bytes_total;   /**< bytes of the mappings' dumped parts */
	uint64_t bytes_scanned; /**< of those, examined so far */
	uint64_t bytes_read;    /**< data bytes read from the target */
	uint64_t bytes_done;    /**< data bytes compressed/written by the snapshot writer */
	uint64_t bytes_stored;  /**< bytes written to the file so far */
	bool released;          /**< the target runs again */
} ml_capture_progress;

/** Called now and then from the capturing thread; return nonzero to cancel (-ECANCELED). */
typedef int (*ml_capture_progress_fn)(void *ctx, const ml_capture_progress *p);

/** Options of ml_capture(); zero fields mean the default. */
typedef struct ml_capture_opts {
	size_t sz;
	ml_capture_freeze freeze;
	/** Write the plain kernel-layout ELF core instead of a compressed snapshot. */
	bool elf;
	/** Replace an existing output (atomically; a symlink is still refused). */
	bool overwrite;
	/** Use @filter instead of the process's /proc/PID/coredump_filter. */
	bool has_filter;
	uint64_t filter;
	/** Also capture mappings marked MADV_DONTDUMP (VmFlags "dd"). */
	bool include_dontdump;
	/** Read swapped-out pages (this swaps them in); by default they are recorded as excluded. */
	bool read_swapped;
	/** Snapshot writer settings (see ml_snapshot_writer_opts): chunk size, level of @codec,
	 *  worker threads, and how much captured memory may wait for compression before
	 *  reading blocks: the larger, the sooner the target is released (0 = 64 MiB). With
	 *  ML_CAPTURE_FREEZE_PTRACE a staging area of about the target's VmRSS (within
	 *  this budget, and at most half of MemAvailable and of the headroom of our own
	 *  cgroup) is mapped and faulted in before the freeze (on every core), read
	 *  into while the target is held, and compressed (or written) by the writer
	 *  straight from there (ml_snapshot_writer_add_data_ref()), each 2 MiB freed as
	 *  soon as it is done; the writer keeps the rest of the budget (at least 32 MiB, or half of a smaller one)
	 *  for what is not staged. */
	uint32_t chunk_size;
	int level;
	unsigned threads;
	uint64_t max_buffer;
	/** How long to wait for every thread to stop (ns); 0 = 5 s. */
	uint64_t freeze_timeout_ns;
	ml_capture_progress_fn progress;
	void *progress_ctx;
	/** Chunk codec (an ml_snapshot_codec value: ML_SNAPSHOT_CODEC_LZ4, _ZSTD or _ZLIB);
	 *  0 = LZ4. */
	int codec;
	/** With ML_CAPTURE_FREEZE_COW: where the fork is not possible, capture with
	 *  ML_CAPTURE_FREEZE_PTRACE instead of failing with -EOPNOTSUPP. */
	bool cow_fallback;
	/** Which chunks are compressed (an ml_snapshot_compress value); 0 = every chunk. */
	int compress;
	/** Do not compute the SHA-256 of the expanded core (ml_snapshot_writer_opts.no_sha256):
	 *  one pass over the data fewer at the end, after the process is released. */
	bool no_sha256;
} ml_capture_opts;

/** What a capture did. */
typedef struct ml_capture_result {
	uint64_t stop_ns;      /**< how long the target was held (0 with ML_CAPTURE_FREEZE_NONE); with
				    ML_CAPTURE_FREEZE_COW the freeze for the fork plus the moment one
				    thread is held to reap the copy */
	uint64_t total_ns;     /**< wall time of the whole capture */
	uint64_t read_ns;      /**< time spent examining and reading memory */
	size_t threads;        /**< threads captured */
	size_t mappings;       /**< mappings listed */
	uint64_t bytes_mapped; /**< size of all mappings */
	uint64_t bytes_data;   /**< bytes read (the writer stores all-zero chunks of them as zero ranges) */
	uint64_t bytes_zero;   /**< bytes known to be zero (zero page, all-zero chunks, file holes) */
	uint64_t bytes_unpopulated; /**< bytes never touched (nothing read) */
	uint64_t bytes_excluded;    /**< bytes left out by coredump_filter / DONTDUMP / swap */
	uint64_t bytes_unreadable;  /**< bytes that could not be read */
	uint64_t file_size;    /**< size of the output file */
	uint64_t disk_bytes;   /**< space it takes on disk (less than file_size when sparse) */
	uint64_t filter;       /**< coredump_filter applied */
	bool smeared;          /**< read while the target ran */
	ml_capture_freeze freeze; /**< the freeze used (PTRACE after a COW fallback) */
	char why_not_cow[160]; /**< why ML_CAPTURE_FREEZE_COW was not used, or "" */
	uint64_t bytes_held;   /**< cow: bytes read from the target while it was held */
	uint64_t bytes_copied; /**< cow: memory the kernel copied because the target wrote to it
	                            during the capture (the copy's private pages at the end) */
	uint64_t cow_headroom; /**< cow: memory that could be copied before a limit (MemAvailable,
	                            the cgroup's memory.max) was reached, at the start */
	uint64_t chunks;       /**< mlcore: data chunks stored */
	uint64_t raw_chunks;   /**< mlcore: of which stored uncompressed */
	uint64_t raw_to_keep_up; /**< mlcore: of which ML_SNAPSHOT_COMPRESS_AUTO stored raw without
	                              trying, because compressing held the capture back */
} ml_capture_result;

/**
 * Captures the live process @p into @path: freezes it (per @o->freeze), reads its
 * mappings (smaps), registers (NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE per thread),
 * NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE and NT_X86_XSAVE_LAYOUT in the kernel's layouts and order, picks
 * mappings as the kernel's core dump would (coredump_filter, VM_DONTDUMP), reads only
 * populated pages (PAGEMAP_SCAN; pages of file and shared mappings that are not mapped
 * in the target are read from the file through /proc/PID/map_files, never faulted in),
 * releases the target as soon as everything is read, and publishes the file atomically
 * (mode 0600; nothing is left at @path on failure).
 * @param o options or NULL; @param ret result or NULL.
 * On failure ml_error_detail() names the step that failed and why ("reading smaps: ...").
 * @return 0;
 *   1 the file is complete and in place (and *ret filled), but syncing its directory
 *    (or closing it) failed afterwards, so it may not survive a system crash:
 *    ml_error_detail() says what failed;
 *   -ESRCH the process does not exist or exited during the capture (before it was
 *    released: a failure after that, such as a full disk, is returned as itself);
 *   -EPERM/-EACCES not allowed (ptrace access: same uid and kernel.yama.ptrace_scope,
 *    or CAP_SYS_PTRACE);
 *   -EBUSY already traced (a debugger is attached);
 *   -EEXIST @path exists and !overwrite, or is not a regular file (only those are replaced); -ELOOP @path is a symbolic link;
 *   -ENOSPC/-EDQUOT/-EIO writing; -ETIMEDOUT a thread would not stop;
 *   -ECANCELED the progress callback cancelled;
 *   -EOPNOTSUPP ML_CAPTURE_FREEZE_COW without cow_fallback, and the fork is not possible
 *    (ml_error_detail() says why: seccomp filter, 32-bit program, userfaultfd, shadow
 *    stack, process limits, not enough memory for the copies, ...);
 *   -EINVAL; -ENOMEM.
 */
ML_API int ml_capture(const ml_proc *p, const char *path, const ml_capture_opts *o,
		      ml_capture_result *ret);

#ifdef __cplusplus
}
#endif
#endif
