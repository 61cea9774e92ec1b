/* snapshot: write and read "mlcore" snapshot files (compressed, seekable ELF cores) and expand them. */
#ifndef MEMLENS_SNAPSHOT_H
#define MEMLENS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/maps.h>
#include <memlens/source.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An mlcore file is an ELF ET_CORE file (so readelf -n lists its notes) with no PT_LOAD
 * segment. It holds, in its PT_NOTE segment, the canonical notes of the core it expands
 * to (NT_PRSTATUS, NT_PRPSINFO, ...) followed by memlens notes (owner "MEMLENS": the
 * mapping table, copies of /proc files, a JSON manifest); memory lives in a data segment
 * of independently compressed chunks and an index segment of sorted entries. The byte
 * layout is specified in docs/snapshot-format.md and memlens-snapshot(5).
 *
 * Every byte of every mapping is described by exactly one index entry, of one kind:
 * ML_RUN_DATA (stored bytes), ML_RUN_ZERO, ML_RUN_UNPOPULATED, ML_RUN_EXCLUDED or
 * ML_RUN_UNREADABLE (the last four store no bytes). ML_RUN_SWAPPED never appears.
 */

/** Smallest, default and largest chunk size in bytes (chunks are page multiples). */
#define ML_SNAPSHOT_CHUNK_MIN     (64u << 10)
#define ML_SNAPSHOT_CHUNK_DEFAULT (256u << 10)
#define ML_SNAPSHOT_CHUNK_MAX     (4u << 20)

/** The format version this library writes (docs/snapshot-format.md). */
#define ML_SNAPSHOT_FORMAT_VERSION 1

/** Owner name of memlens's own notes in the PT_NOTE segment. */
#define ML_SNAPSHOT_NOTE_OWNER "MEMLENS"

/* ======================================================================= */
/* Mappings                                                                 */
/* ======================================================================= */

/** The mapping was left out by a filter (coredump_filter, VM_DONTDUMP): its PT_LOAD has
 *  p_filesz 0 and all of it is ML_RUN_EXCLUDED. */
#define ML_SNAPSHOT_VMA_EXCLUDED  0x1u
/** Only the first @dump_size bytes are dumped (e.g. one page of ELF headers of a file
 *  mapping, as the kernel does with coredump_filter bit 4); the rest is excluded. */
#define ML_SNAPSHOT_VMA_DUMP_SIZE 0x2u

/** A mapping of a snapshot: the VMA and how much of it is dumped. */
typedef struct ml_snapshot_vma {
	/** start, end, perms, offset, dev, inode, kind, name, deleted, build ID. */
	ml_vma vma;
	/** Bytes from vma.start that are dumped (the PT_LOAD's p_filesz). Read by the writer
	 *  only with ML_SNAPSHOT_VMA_DUMP_SIZE (then a multiple of the page size, <= size);
	 *  otherwise the whole mapping, or 0 with ML_SNAPSHOT_VMA_EXCLUDED. The reader always
	 *  fills it in. */
	uint64_t dump_size;
	uint32_t flags; /**< ML_SNAPSHOT_VMA_* */
} ml_snapshot_vma;

/* ======================================================================= */
/* Writer                                                                   */
/* ======================================================================= */

/** A snapshot being written. Thread-safe where noted. */
typedef struct ml_snapshot_writer ml_snapshot_writer;

typedef enum ml_snapshot_format {
	ML_SNAPSHOT_FORMAT_MLCORE = 0, /**< compressed, seekable mlcore (the default) */
	ML_SNAPSHOT_FORMAT_ELF,        /**< the plain kernel-layout ELF core, written in
					    place (sparse), byte for byte what
					    ml_snapshot_expand() makes of the mlcore */
} ml_snapshot_format;

/** How a data chunk is stored (the codec byte of an index entry). */
typedef enum ml_snapshot_codec {
	ML_SNAPSHOT_CODEC_NONE = 0, /**< no stored bytes (non-data kinds); as a writer
				         option: the default, LZ4 */
	ML_SNAPSHOT_CODEC_ZLIB = 1, /**< a zlib stream (RFC 1950) */
	ML_SNAPSHOT_CODEC_RAW = 2,  /**< the bytes as they are (incompressible) */
	ML_SNAPSHOT_CODEC_LZ4 = 3,  /**< one LZ4 block (no frame) */
	ML_SNAPSHOT_CODEC_ZSTD = 4, /**< one Zstandard frame (RFC 8878) */
} ml_snapshot_codec;

/** The codec's name: "none", "zlib", "raw", "lz4", "zstd"; "?" for other values. */
ML_API const char *ml_snapshot_codec_name(ml_snapshot_codec c);

/** Which chunks the writer compresses (ml_snapshot_writer_opts.compress). Whatever the
 *  policy, a chunk that does not shrink is stored raw. */
typedef enum ml_snapshot_compress {
	ML_SNAPSHOT_COMPRESS_ALWAYS = 0, /**< every chunk (the library's default) */
	ML_SNAPSHOT_COMPRESS_AUTO = 1,   /**< every chunk, except that a chunk is stored raw
					      while the compression threads are behind (more
					      chunks wait for them, staged ones included, than
					      half the buffer budget holds) and
					      the output keeps up: its writeback is not
					      behind, it is not in memory (tmpfs, ramfs) and
					      its file system has room for the rest raw.
					      The capture then runs at the speed of reading
					      and writing, not of compressing. */
	ML_SNAPSHOT_COMPRESS_NEVER = 2,  /**< no chunk: everything stored raw */
} ml_snapshot_compress;

/** The policy's name: "always", "auto", "never"; "?" for other values. */
ML_API const char *ml_snapshot_compress_name(ml_snapshot_compress c);

typedef struct ml_snapshot_writer_opts {
	size_t sz;
	ml_snapshot_format format;
	/** Chunk size in bytes: a multiple of 4096 in [64 KiB, 4 MiB]; 0 = 256 KiB. */
	uint32_t chunk_size;
	/** Compression level of @codec; 0 = 1 (the fastest): zlib 1-9, LZ4 1-12 (1-2 the
	 *  fast compressor, 3-12 LZ4 HC), zstd 1-22. */
	int level;
	/** Compression (or, for ELF, writing) worker threads; 0 = online CPUs (max 64). */
	unsigned threads;
	/** Memory for chunks waiting to be compressed, in bytes: when it is used up, the
	 *  data calls block until a worker frees a buffer. 0 = 64 MiB; at least two
	 *  chunks per worker are always allowed. This is how long a capture can run
	 *  ahead of compression, i.e. how early the target can be released. */
	uint64_t max_buffer;
	/** Replace an existing output file (it is replaced atomically; a symlink is still
	 *  refused). Without it an existing output gives -EEXIST. */
	bool overwrite;
	/** Do not compute the SHA-256 of the expanded core. Computing it costs a pass over
	 *  the expanded size at finish, after the target is released: zero, unpopulated and
	 *  excluded ranges are hashed as the zeros they expand to (about 1.5 GB/s with
	 *  SHA-NI, 0.3 GB/s without), data is re-read from the file. */
	bool no_sha256;
	/** Compute the SHA-256 only when the expanded core is at most this many bytes (a
	 *  process with terabytes of reserved address space expands to a sparse core of
	 *  that size); 0 = 1 GiB, UINT64_MAX = always. The manifest then has no digest. */
	uint64_t sha256_max;
	/** Chunk codec: ML_SNAPSHOT_CODEC_LZ4 (also for 0: about 1 GB/s per core),
	 *  ML_SNAPSHOT_CODEC_ZSTD (about 1.7x smaller at 2.5x the CPU) or
	 *  ML_SNAPSHOT_CODEC_ZLIB (about 80 MB/s per core). Chunks that do not shrink are
	 *  stored raw whatever the codec. Ignored for ML_SNAPSHOT_FORMAT_ELF. */
	ml_snapshot_codec codec;
	/** Zero. (A field added later starts past the struct's earlier size, not in its
	 *  padding, so that an older library sees it was set.) */
	uint32_t reserved0;
	/** Which chunks are compressed: ML_SNAPSHOT_COMPRESS_ALWAYS (0), _AUTO or _NEVER.
	 *  Ignored for ML_SNAPSHOT_FORMAT_ELF. */
	ml_snapshot_compress compress;
} ml_snapshot_writer_opts;

/** Describes the capture, for the manifest. Strings may be NULL (left out). */
typedef struct ml_snapshot_info {
	size_t sz;
	pid_t pid;
	const char *comm;              /**< /proc/PID/comm without the newline */
	const char *exe;               /**< path of the executable */
	const uint8_t *exe_build_id;   /**< ELF build ID of the executable */
	size_t exe_build_id_len;       /**< 0..32 */
	int64_t capture_time_ns;       /**< CLOCK_REALTIME when capture started, ns since the epoch */
	const char *freeze;            /**< "ptrace", "none", ... */
	uint64_t stop_ns;              /**< how long the target was stopped; 0 with a freeze
					    other than "none": not known (no "stop_ns" in the manifest) */
	bool smeared;                  /**< memory was read while the target ran */
	const char *kernel;            /**< NULL: uname -r of this machine */
	const char *tool;              /**< NULL: "memlens <version>" */
	uint32_t page_size;            /**< 0: sysconf(_SC_PAGESIZE) */
	uint64_t coredump_filter;      /**< the filter applied */
	bool has_coredump_filter;
	/** e_machine of the memory (EM_*: what its registers and layout are); 0: this
	 *  machine's. An imported core gives its own, which may not be this machine's. */
	uint16_t e_machine;
	/** The manifest's "machine" (uname -m of where the memory was); NULL: this machine's
	 *  when @e_machine is 0 or this machine's, else the name of @e_machine. */
	const char *machine;
} ml_snapshot_info;

/** Counters of a writer, for progress displays. */
typedef struct ml_snapshot_progress {
	uint64_t bytes_in;      /**< data bytes accepted (copied or committed) */
	uint64_t bytes_done;    /**< data bytes compressed (or written) */
	uint64_t bytes_stored;  /**< bytes written to the data segment so far */
	uint64_t bytes_nodata;  /**< bytes of zero/unpopulated/excluded/unreadable runs */
	uint64_t buffered;      /**< bytes held in buffers, waiting for a worker */
	uint64_t chunks;        /**< data chunks stored */
	uint64_t raw_chunks;    /**< of which stored uncompressed (they did not shrink, or
				     the policy did not compress them) */
	uint64_t raw_to_keep_up; /**< of which ML_SNAPSHOT_COMPRESS_AUTO did not try to
				      compress, to keep up with the capture */
} ml_snapshot_progress;

/**
 * Creates a snapshot at @path. Nothing appears at @path until ml_snapshot_writer_finish()
 * succeeds: data goes to an unnamed file (O_TMPFILE) in @path's directory, or a hidden
 * temporary ".NAME.XXXXXX" created O_EXCL|O_NOFOLLOW where O_TMPFILE is unsupported; the
 * file has mode 0600. Worker threads start here.
 * @opts may be NULL (all defaults).
 * @return 0; -EEXIST @path exists (and !overwrite, or it is not a regular file: only those are replaced); -EISDIR a directory; -ELOOP @path is a symlink;
 *         -EINVAL bad options; -ENOENT/-EACCES/-EROFS/... from creating the file in the
 *         directory; -ELIBACC a compression library could not be loaded (detail: which,
 *         and why; nothing is created); -ENOMEM.
 */
ML_API int ml_snapshot_writer_open(const char *path, const ml_snapshot_writer_opts *opts,
				   ml_snapshot_writer **ret);

/**
 * Adds a canonical core note (copied): owner @name ("CORE", "LINUX"), @type (NT_PRSTATUS,
 * ...), @desc of @len bytes. Notes are kept, and expanded, in the order they are added;
 * add them in the kernel's order: NT_PRSTATUS of the first thread, NT_PRPSINFO,
 * NT_SIGINFO, NT_AUXV, NT_FILE, the first thread's NT_FPREGSET, NT_X86_XSTATE, ...,
 * then each further thread's NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE.
 * Must come before ml_snapshot_writer_set_mappings(). Not thread-safe.
 * @return 0; -EINVAL (empty or too long name, @owner "MEMLENS", after set_mappings,
 *         @len > 1 GiB); -ENOMEM; or the writer's earlier error.
 */
ML_API int ml_snapshot_writer_add_note(ml_snapshot_writer *w, const char *name, uint32_t type,
				       const void *desc, size_t len);

/**
 * Saves a copy of a /proc file of the process (copied): @name is its name under
 * /proc/PID ("maps", "smaps", "status", "cmdline", "limits", "coredump_filter", "auxv",
 * ...; 1-255 bytes, no NUL), @buf its exact bytes. ml_source_read_file() on the
 * snapshot returns them. "maps" in particular is what ml_source_maps() parses. At any
 * time before finish. Not thread-safe.
 * @return 0; -EEXIST same name added twice; -EINVAL; -ENOMEM.
 */
ML_API int ml_snapshot_writer_add_file(ml_snapshot_writer *w, const char *name,
				       const void *buf, size_t len);

/**
 * Sets the manifest's description of the capture (copied; may be called again to
 * update, e.g. the stop time once the target is released). At any time before finish.
 * Not thread-safe. @return 0; -EINVAL; -ENOMEM.
 */
ML_API int ml_snapshot_writer_set_info(ml_snapshot_writer *w, const ml_snapshot_info *info);

/**
 * Adds a string field to the manifest's "extra" object (copied; @key 1-64 bytes of
 * [a-z0-9_], replacing an earlier value of the same key). @return 0; -EINVAL; -ENOMEM.
 */
ML_API int ml_snapshot_writer_set_field(ml_snapshot_writer *w, const char *key, const char *value);

/**
 * Declares every mapping, once, before any data (@v copied, names included): sorted by
 * start, not overlapping, page-aligned, start < end. For ML_SNAPSHOT_FORMAT_ELF this
 * writes the ELF header, program headers and notes, so the data offsets are fixed from
 * here on. Not thread-safe.
 * @return 0; -EINVAL (unsorted, overlapping, bad dump_size, called twice, more than
 *         2^28 mappings); -ENOSPC/-EIO writing; -ENOMEM.
 */
ML_API int ml_snapshot_writer_set_mappings(ml_snapshot_writer *w, const ml_snapshot_vma *v, size_t n);

/**
 * Adds captured memory: @len bytes at @addr, copied from @buf. The range must lie in the
 * dumped part of one mapping (but any length: the writer cuts it into chunks, and joins
 * consecutive calls at adjacent addresses into one chunk). Blocks while the buffer
 * budget is used up. All-zero chunks are stored as ML_RUN_ZERO, incompressible ones raw.
 * Thread-safe: several threads may add different ranges at once, in any order.
 * @return 0; -EINVAL (outside a dumped range, before set_mappings; overlaps with
 *         other data or runs are found by ml_snapshot_writer_finish()); -ENOMEM; -ENOSPC/-EIO (a worker failed to write: the writer
 *         is then dead, every call returns the error).
 */
ML_API int ml_snapshot_writer_add_data(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len);

/** Hands back bytes given with ml_snapshot_writer_add_data_ref(): @len bytes at @buf,
 *  the memory at @addr, are no longer needed. */
typedef void (*ml_snapshot_release_fn)(void *ctx, uint64_t addr, const void *buf, size_t len);

/**
 * Adds captured memory without copying it: @len bytes at @addr, read from @buf where
 * they stay the caller's. The range must lie in the dumped part of one mapping. The
 * writer cuts it into pieces of at most the chunk size (each its own chunk; they do not
 * join other data), queues them for the workers, which compress (or, for the ELF
 * format, write) straight from @buf, and calls @release(@ctx, ...) once for each piece
 * when it is done with it: from a worker thread, in any order, possibly before this
 * call returns, and also for pieces dropped when the writer fails or is freed. Until
 * then the piece must stay readable and unchanged. Does not wait for the buffer budget
 * (it uses none). Thread-safe.
 * @return 0; -EINVAL (as ml_snapshot_writer_add_data(), or no @buf/@release/@len);
 *         -ENOMEM; the writer's error. On failure nothing was taken: @release is not
 *         called.
 */
ML_API int ml_snapshot_writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
					   ml_snapshot_release_fn release, void *ctx);

/**
 * Zero-copy variant of add_data: lends a buffer for memory starting at @addr, of up to
 * @want bytes (*ret_len, > 0, may be less: at most the rest of the current chunk and of
 * the mapping's dumped part). Read the memory straight into it (process_vm_readv), then
 * hand it back with ml_snapshot_writer_commit(). Blocks while the budget is used up.
 * A thread holds at most one lent buffer at a time. Thread-safe.
 * @return 0; as ml_snapshot_writer_add_data().
 */
ML_API int ml_snapshot_writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want,
				      void **ret, size_t *ret_len);

/**
 * Returns the buffer lent by ml_snapshot_writer_reserve() for @addr, keeping the first @len
 * bytes (<= the lent length; 0 keeps nothing, e.g. when the read failed and the range is
 * then added as ML_RUN_UNREADABLE). Thread-safe.
 * @return 0; -EINVAL no buffer is lent at @addr or @len too big; the writer's error.
 */
ML_API int ml_snapshot_writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len);

/**
 * Records a range that stores no bytes: @kind is ML_RUN_ZERO (reads as zeros),
 * ML_RUN_UNPOPULATED (never touched), ML_RUN_EXCLUDED (filtered out) or
 * ML_RUN_UNREADABLE (could not be read). [addr, addr+len) must lie in one mapping and
 * not overlap other runs or data. Adjacent runs of one kind are merged. Thread-safe.
 * @return 0; -EINVAL (ML_RUN_DATA, ML_RUN_SWAPPED, outside a mapping, before
 *         set_mappings); -ENOMEM; the writer's error.
 */
ML_API int ml_snapshot_writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind);

/** Fills *ret with the writer's counters. Thread-safe. @return 0; -EINVAL. */
ML_API int ml_snapshot_writer_progress(const ml_snapshot_writer *w, ml_snapshot_progress *ret);

/**
 * Completes the snapshot: waits for the workers, checks that every byte of every
 * mapping's dumped part was given exactly once (the undumped rest of a mapping becomes
 * ML_RUN_EXCLUDED by itself), writes the notes, manifest and index, computes the SHA-256
 * of the expanded core (unless opts.no_sha256), fsyncs the file, publishes it at the
 * path (link, or rename when overwriting), and fsyncs the directory. Call once, then
 * ml_snapshot_writer_free(). On failure nothing is left at the path.
 * @return 0; 1 the file is complete and in place, but syncing its directory (or closing
 *         it) failed afterwards, so it may not survive a system crash (ml_error_detail()
 *         says what failed); -EINVAL ranges not covered (ml_error_detail() names the first),
 *         or no mappings set; -ENOSPC disk full; -EIO; -EEXIST the path appeared
 *         meanwhile; the first worker error.
 */
ML_API int ml_snapshot_writer_finish(ml_snapshot_writer *w);

/**
 * Stops the workers and frees the writer. If finish did not succeed, the temporary file
 * is removed: nothing is left at the path. NULL is fine.
 */
ML_API void ml_snapshot_writer_free(ml_snapshot_writer *w);

/* ======================================================================= */
/* Reader                                                                   */
/* ======================================================================= */

/** An opened snapshot file. All functions taking a `const ml_snapshot *` are thread-safe. */
typedef struct ml_snapshot ml_snapshot;

/** One index entry: a range of one kind within one mapping. */
typedef struct ml_snapshot_entry {
	uint64_t addr, len;
	ml_run_kind kind;
	ml_snapshot_codec codec;
	uint64_t offset;       /**< file offset of the stored bytes (0 if none) */
	uint32_t stored_size;  /**< stored bytes (0 if none) */
	uint32_t crc;          /**< CRC-32 (zlib's) of the uncompressed bytes; 0 if none */
} ml_snapshot_entry;

/** Byte counts of a snapshot or one mapping. */
typedef struct ml_snapshot_stats {
	uint64_t bytes[ML_RUN_KIND_COUNT]; /**< by kind (of the address space) */
	uint64_t stored;                   /**< data-segment bytes */
	uint64_t chunks;                   /**< data entries */
	uint64_t raw_chunks;               /**< of which stored uncompressed */
	uint64_t entries;                  /**< index entries */
} ml_snapshot_stats;

/** One note of the PT_NOTE segment (borrowed from the snapshot). */
typedef struct ml_snapshot_note {
	const char *name;   /**< owner, NUL-terminated */
	uint32_t type;
	const void *desc;
	size_t len;
} ml_snapshot_note;

/**
 * Opens and validates a snapshot: ELF and program headers, the index (checksum, sort
 * order, overlaps, bounds of every stored chunk, exact tiling of every mapping), the
 * notes (checksum, bounds), the mapping table and the manifest. Data chunks are only
 * checked when read (or by ml_snapshot_verify()).
 * @return 0; -ENOENT/-EACCES/... from open(2); -EBADMSG not a valid snapshot
 *         (detail: ml_error_detail() says what is wrong); -ELIBACC a compression or
 *         ELF library could not be loaded (detail: which, and why); -ENOMEM.
 */
ML_API int ml_snapshot_open(const char *path, ml_snapshot **ret);

/** Format version of the file. */
ML_API unsigned ml_snapshot_version(const ml_snapshot *s);
/** Chunk size the file was written with, in bytes. */
ML_API uint32_t ml_snapshot_chunk_size(const ml_snapshot *s);
/** Page size of the captured process, in bytes. */
ML_API uint32_t ml_snapshot_page_size(const ml_snapshot *s);
/** PID of the captured process (0 if the manifest has none). */
ML_API pid_t ml_snapshot_pid(const ml_snapshot *s);
/** Size of the file, in bytes. */
ML_API uint64_t ml_snapshot_file_size(const ml_snapshot *s);
/** Size of the expanded ELF core, in bytes. */
ML_API uint64_t ml_snapshot_expanded_size(const ml_snapshot *s);

/** The JSON manifest (borrowed, NUL-terminated; *len set when @len is not NULL). */
ML_API const char *ml_snapshot_manifest(const ml_snapshot *s, size_t *len);
/**
 * A field of the manifest as text (borrowed): a string's bytes (exactly, also where the
 * JSON holds them only as "\xNN" text: docs/snapshot-format.md), or a number / true /
 * false / null as written. Nested objects are reached with dots: "bytes.data", "extra.KEY".
 * Keys written by this version: schema, format_version, tool, kernel, machine, page_size,
 * pid, comm, exe, exe_build_id, capture_time_ns, capture_time, freeze, stop_ns, smeared,
 * coredump_filter, threads, mappings, codec, level, chunk_size, bytes.{data,zero,
 * unpopulated,excluded,unreadable}, stored_bytes, chunks, raw_chunks, compress, raw_to_keep_up, expanded_size,
 * expanded_sha256, extra.*. @return NULL when absent.
 */
ML_API const char *ml_snapshot_field(const ml_snapshot *s, const char *key);

/**
 * The SHA-256 of the expanded core recorded in the manifest, into @ret.
 * @return 0; -ENOENT not recorded.
 */
ML_API int ml_snapshot_sha256(const ml_snapshot *s, uint8_t ret[32]);

/** Number of canonical (non-memlens) notes, and note @i of them in file order. */
ML_API size_t ml_snapshot_note_count(const ml_snapshot *s);
/** @return 0; -ERANGE @i out of range. */
ML_API int ml_snapshot_note_get(const ml_snapshot *s, size_t i, ml_snapshot_note *ret);
/** Number of threads (NT_PRSTATUS notes). */
ML_API size_t ml_snapshot_thread_count(const ml_snapshot *s);

/** Number of saved /proc files, and the name of file @i (borrowed), or NULL. */
ML_API size_t ml_snapshot_file_count(const ml_snapshot *s);
ML_API const char *ml_snapshot_file_name(const ml_snapshot *s, size_t i);
/**
 * A copy of saved /proc file @name (malloc'd, NUL-terminated; *ret_len excludes the NUL).
 * @return 0; -ENOENT not saved; -ENOMEM.
 */
ML_API int ml_snapshot_read_file(const ml_snapshot *s, const char *name, char **ret, size_t *ret_len);

/** Number of mappings, and mapping @i (borrowed; sorted by start), or NULL. */
ML_API size_t ml_snapshot_vma_count(const ml_snapshot *s);
ML_API const ml_snapshot_vma *ml_snapshot_vma_get(const ml_snapshot *s, size_t i);
/** The mapping containing @addr (binary search), or NULL. */
ML_API const ml_snapshot_vma *ml_snapshot_vma_find(const ml_snapshot *s, uint64_t addr);

/** Number of index entries, and entry @i (sorted by address). @return 0; -ERANGE. */
ML_API size_t ml_snapshot_entry_count(const ml_snapshot *s);
ML_API int ml_snapshot_entry_get(const ml_snapshot *s, size_t i, ml_snapshot_entry *ret);
/** Index of the entry containing @addr (binary search). @return 0; -EFAULT unmapped. */
ML_API int ml_snapshot_entry_find(const ml_snapshot *s, uint64_t addr, size_t *ret);

/**
 * Totals over the whole snapshot (@vma_index == SIZE_MAX) or over mapping @vma_index.
 * @return 0; -ERANGE.
 */
ML_API int ml_snapshot_stats_get(const ml_snapshot *s, size_t vma_index, ml_snapshot_stats *ret);

/**
 * Reads captured memory [addr, addr+len) into @buf, inflating only the chunks needed
 * (a few recently inflated chunks are cached). Zero, unpopulated and excluded ranges read
 * as zeros. Every inflate is checked against the chunk's CRC.
 * @return bytes read (< len when the range runs into an unmapped or unreadable range, or
 *         into a corrupt chunk: the readable prefix); -EFAULT @addr not in a mapping; -EIO
 *         @addr unreadable; -EBADMSG the chunk holding @addr is corrupt
 *         (ml_error_detail() names it); -EIO/-ENOMEM.
 */
ML_API ssize_t ml_snapshot_read(const ml_snapshot *s, uint64_t addr, void *buf, size_t len);

/**
 * Page runs of [start, end), as ml_source_runs(): adjacent entries of one kind within a
 * mapping are merged; with ML_RUNS_SPLIT_ZERO zero ranges are ML_RUN_ZERO, without it
 * they count as ML_RUN_DATA. @return runs written (0 when done); -EINVAL.
 */
ML_API ssize_t ml_snapshot_runs(const ml_snapshot *s, uint64_t start, uint64_t end, unsigned flags,
				ml_run *vec, size_t n, uint64_t *next);

/** Checks for ml_snapshot_verify(). */
#define ML_SNAPSHOT_VERIFY_SHA256 0x1u /**< also hash the expanded core against the manifest */

/**
 * Checks the ELF header and program headers field by field, that every padding byte is
 * zero and the seal (ml_snapshot_sealed()), then inflates and CRC-checks every data chunk,
 * in file order, and re-checks the index.
 * @bad (may be NULL) gets the index of the first bad entry (SIZE_MAX if the problem is
 * not one entry). @return 0 all good; -EBADMSG corruption (ml_error_detail() names
 * the chunk: index, address, offset); -EIO/-ENOMEM.
 */
ML_API int ml_snapshot_verify(const ml_snapshot *s, unsigned flags, size_t *bad);

/**
 * True when the file carries a seal: a SHA-256 over every byte but the data segment (whose
 * chunks the sealed index checks by CRC), which ml_snapshot_verify() checks, so that a file
 * that verifies holds exactly the memory and metadata it was written with. Files written
 * before seals were added have none: verify then checks the layout, padding and
 * checksums only.
 */
ML_API bool ml_snapshot_sealed(const ml_snapshot *s);

/** Progress callback of expand/export: bytes of the expanded core done out of @total.
 *  Return nonzero to cancel (the call then returns -ECANCELED). */
typedef int (*ml_snapshot_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct ml_snapshot_expand_opts {
	size_t sz;
	/** Write real zeros instead of seeking over non-data ranges (automatic when @fd
	 *  cannot seek, e.g. a pipe). */
	bool no_sparse;
	ml_snapshot_progress_fn progress;
	void *progress_ctx;
	/** gzip level for ml_snapshot_export_gzip(), 1-9; 0 = 6. */
	int level;
	/** Uncompressed bytes per gzip member for export; 0 = 4 MiB (at most 256 MiB). */
	uint64_t member_size;
	/** Check the SHA-256 of what was written against the manifest's (when it has one):
	 *  a mismatch is -EBADMSG, and ml_snapshot_expand_path() then publishes nothing. */
	bool verify;
	/** ml_snapshot_expand_path() only: write the gzip export (ml_snapshot_export_gzip())
	 *  instead of the ELF core. */
	bool gzip;
	/** ml_snapshot_expand_path() only: replace an existing regular file at the path
	 *  (atomically); without it an existing path gives -EEXIST. */
	bool overwrite;
} ml_snapshot_expand_opts;

/**
 * Writes the kernel-layout ELF core to @fd from its current position (which must be 0
 * for a seekable file): ELF header, PT_NOTE then one PT_LOAD per mapping (p_filesz 0
 * for excluded mappings), the canonical notes, page-aligned data at
 * p_offset + (addr - p_vaddr). Non-data ranges are holes (lseek; the file is extended
 * with ftruncate at the end) or real zeros on a pipe. Deterministic: the same snapshot
 * always gives the same bytes. @ret_sha256 (may be NULL) gets the SHA-256 of the bytes.
 * @opts may be NULL.
 * @return 0; -EBADMSG corrupt chunk; -ENOSPC/-EIO/-EPIPE writing; -ECANCELED.
 */
ML_API int ml_snapshot_expand(const ml_snapshot *s, int fd, const ml_snapshot_expand_opts *opts,
			      uint8_t ret_sha256[32]);

/**
 * Writes a standard gzip stream of the expanded core to @fd (zcat gives the core byte
 * for byte), as independent gzip members of opts.member_size uncompressed bytes each, so
 * memlens can still seek in it. @return as ml_snapshot_expand().
 */
ML_API int ml_snapshot_export_gzip(const ml_snapshot *s, int fd, const ml_snapshot_expand_opts *opts,
				   uint8_t ret_sha256[32]);

/**
 * Creates @path like the writer does (temporary file, mode 0600, fsync, atomic publish,
 * O_NOFOLLOW; -EEXIST unless opts.overwrite and it is a regular file; -ELOOP for a
 * symlink) and fills it with ml_snapshot_expand(), or ml_snapshot_export_gzip() with
 * opts.gzip. On failure nothing is left at @path. @opts may be NULL.
 * @return as those (detail), plus open/link errors; or 1 as ml_snapshot_writer_finish():
 *         complete and in place, but the directory could not be synced (detail).
 */
ML_API int ml_snapshot_expand_path(const ml_snapshot *s, const char *path, const ml_snapshot_expand_opts *opts,
				   uint8_t ret_sha256[32]);

/** Closes the snapshot. NULL is fine. */
ML_API void ml_snapshot_free(ml_snapshot *s);

/** A short name of an index kind: "data", "zero", "unpopulated", "excluded", "unreadable". */
ML_API const char *ml_snapshot_kind_name(ml_run_kind k);

#ifdef __cplusplus
}
#endif
#endif
