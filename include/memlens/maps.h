/* maps: the process's memory mappings (VMAs), from PROCMAP_QUERY or /proc/PID/maps text. */
#ifndef MEMLENS_MAPS_H
#define MEMLENS_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a mapping is, decided from its name, inode and flags. */
typedef enum ml_vma_kind {
	ML_VMA_ANON = 0,    /**< private anonymous, no name */
	ML_VMA_FILE,        /**< file-backed */
	ML_VMA_HEAP,        /**< [heap] */
	ML_VMA_STACK,       /**< [stack] (and [stack:TID] on old kernels) */
	ML_VMA_VDSO,        /**< [vdso] */
	ML_VMA_VVAR,        /**< [vvar], [vvar_vclock] */
	ML_VMA_VSYSCALL,    /**< [vsyscall] */
	ML_VMA_ANON_NAMED,  /**< [anon:NAME] */
	ML_VMA_SHMEM,       /**< shared anonymous: /dev/zero (deleted), [anon_shmem:NAME] */
	ML_VMA_SYSV,        /**< /SYSV... System V shared memory */
	ML_VMA_MEMFD,       /**< /memfd:NAME (deleted) */
	ML_VMA_OTHER,       /**< any other [bracketed] special mapping */
	ML_VMA_KIND_COUNT
} ml_vma_kind;

#define ML_PERM_READ   0x1u
#define ML_PERM_WRITE  0x2u
#define ML_PERM_EXEC   0x4u
#define ML_PERM_SHARED 0x8u /**< 's' rather than 'p' */

/** One mapping. Records are owned by their ml_maps. */
typedef struct ml_vma {
	uint64_t start, end;      /**< [start, end) */
	uint64_t offset;          /**< file offset in bytes */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t perms;           /**< ML_PERM_* */
	ml_vma_kind kind;
	/** The name as exact bytes, NUL-terminated (name_len excludes the NUL; a name can't
	 *  contain NUL). Text-path names have the kernel's "\012" turned back into '\n'; a
	 *  trailing " (deleted)" is removed from the name and reported in @deleted.
	 *  See "Names" below for how both paths agree. */
	const char *name;
	size_t name_len;
	bool deleted;             /**< the backing file was unlinked */
	uint8_t build_id_len;     /**< 0 when unknown (text path, or no build ID) */
	uint8_t build_id[32];     /**< ELF build ID of a file mapping (PROCMAP_QUERY) */
	/** The name could not be verified (see "Names"): it is the most likely reading of
	 *  ambiguous text, e.g. "\012" taken as a newline without access to map_files. */
	bool name_uncertain;
} ml_vma;

/*
 * Names: how the text path and the PROCMAP_QUERY path agree.
 *
 * Both paths give the kernel's d_path() bytes for file mappings and the same bracketed
 * names ("[heap]", "[vvar_vclock]", "[anon:x]") for special ones; records from the two
 * paths on the same process are identical except for build IDs (ioctl only).
 *
 * - Newlines: the text shows '\n' as the four bytes "\012" and leaves backslashes alone,
 *   so a literal "\012" in a name looks the same. The text path decodes every "\012" to
 *   '\n'; on a live process it then replaces such a name by the exact bytes read from
 *   /proc/PID/map_files/START-END (readable by whoever may read the maps on current
 *   kernels; older ones required CAP_SYS_ADMIN) and sets @name_uncertain when it cannot. The ioctl gives exact bytes already. Pure text
 *   (ml_maps_parse, ml_smaps_parse, fixtures) is decoded and such names are marked
 *   @name_uncertain.
 * - " (deleted)": the kernel appends it to unlinked files on both paths, and a file can
 *   really be named "x (deleted)". Both paths strip one trailing " (deleted)" into
 *   @deleted; on a live process, when the target's root (/proc/PID/root) still holds
 *   the unstripped path with the mapping's inode, the suffix is put back into the name
 *   and @deleted is false. If that check is denied, @name_uncertain is set.
 *   Shared anonymous memory is "/dev/zero" (deleted, ML_VMA_SHMEM), memfd "/memfd:NAME"
 *   (deleted, ML_VMA_MEMFD), System V segments "/SYSVkkkkkkkk" (deleted, ML_VMA_SYSV);
 *   these names are never checked against the file system.
 * - Leading blanks: the text pads the name column; a name never starts with a blank
 *   (paths start with '/', special names with '['), so all blanks before it are
 *   padding. Trailing blanks are part of the name.
 */

/** An array of mappings sorted by start address, no duplicates. */
typedef struct ml_maps ml_maps;

/** Where ml_maps_read() got its records. */
typedef enum ml_maps_source {
	/** The default. On a live process: the text for the layout, then PROCMAP_QUERY on
	 *  each file-backed mapping for its exact name and build ID (one ioctl per VMA over
	 *  the whole address space costs about twice the text here; see docs/benchmarks.md).
	 *  The records equal ML_MAPS_PROCMAP_QUERY's (a mapping that changed between the two
	 *  reads keeps the text's record); without the ioctl, those of the text. */
	ML_MAPS_AUTO = 0,
	ML_MAPS_TEXT,            /**< parse /proc/PID/maps only (no build IDs) */
	ML_MAPS_PROCMAP_QUERY,   /**< only the ioctl, one call per VMA (-EOPNOTSUPP without it) */
} ml_maps_source;

/**
 * Reads the mappings of @p. Records are sorted and deduplicated (the text can be torn
 * by concurrent mmap/munmap; the kernel returns about a page per read). The
 * `[vsyscall]` gate mapping, which PROCMAP_QUERY does not return, is included either way.
 * A kernel thread (no address space) reads as zero mappings.
 * @return 0; -ESRCH gone (or a zombie, whose maps read empty); -EACCES/-EPERM denied
 *         (needs PTRACE_MODE_READ: the same user, or CAP_SYS_PTRACE);
 *         -EOPNOTSUPP (ML_MAPS_PROCMAP_QUERY only) no ioctl; -EBADMSG malformed text
 *         (a directory handle on a damaged tree); -EINVAL; -ENOMEM.
 */
ML_API int ml_maps_read(const ml_proc *p, ml_maps_source how, ml_maps **ret);

/**
 * Parses maps text (the /proc/PID/maps format) from @buf of @len bytes (need not be
 * NUL-terminated). Lines that do not parse make the whole parse fail with -EBADMSG.
 */
ML_API int ml_maps_parse(const char *buf, size_t len, ml_maps **ret);

/** Number of mappings. */
ML_API size_t ml_maps_count(const ml_maps *m);
/** Mapping @i (borrowed), or NULL if out of range. */
ML_API const ml_vma *ml_maps_get(const ml_maps *m, size_t i);
/** The mapping containing @addr (binary search), or NULL. */
ML_API const ml_vma *ml_maps_find(const ml_maps *m, uint64_t addr);
/** The source the records came from: ML_MAPS_PROCMAP_QUERY when the ioctl supplied names
 *  and build IDs (fully, or for the file mappings under ML_MAPS_AUTO), else ML_MAPS_TEXT. */
ML_API ml_maps_source ml_maps_origin(const ml_maps *m);
/** A short name of a kind: "anon", "file", "heap", "stack", ... */
ML_API const char *ml_vma_kind_name(ml_vma_kind k);
/** Formats perms as "rw-p" into @buf (5 bytes with NUL). */
ML_API const char *ml_vma_perms_str(uint32_t perms, char buf[5]);
ML_API void ml_maps_free(ml_maps *m);

#ifdef __cplusplus
}
#endif
#endif
