/* smaps: per-mapping memory accounting from /proc/PID/smaps and the totals of smaps_rollup. */
#ifndef MEMLENS_SMAPS_H
#define MEMLENS_SMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/maps.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The numeric fields the kernel documents for smaps and smaps_rollup
 * (Documentation/filesystems/proc.rst), in this order. All are in bytes: the kernel's
 * "N kB" values are multiplied by 1024 here.
 */
typedef enum ml_smaps_field {
	ML_SMAPS_SIZE = 0,         /**< Size */
	ML_SMAPS_KERNEL_PAGE_SIZE, /**< KernelPageSize */
	ML_SMAPS_MMU_PAGE_SIZE,    /**< MMUPageSize */
	ML_SMAPS_RSS,              /**< Rss */
	ML_SMAPS_PSS,              /**< Pss */
	ML_SMAPS_PSS_DIRTY,        /**< Pss_Dirty */
	ML_SMAPS_PSS_ANON,         /**< Pss_Anon (smaps_rollup only) */
	ML_SMAPS_PSS_FILE,         /**< Pss_File (smaps_rollup only) */
	ML_SMAPS_PSS_SHMEM,        /**< Pss_Shmem (smaps_rollup only) */
	ML_SMAPS_SHARED_CLEAN,     /**< Shared_Clean */
	ML_SMAPS_SHARED_DIRTY,     /**< Shared_Dirty */
	ML_SMAPS_PRIVATE_CLEAN,    /**< Private_Clean */
	ML_SMAPS_PRIVATE_DIRTY,    /**< Private_Dirty */
	ML_SMAPS_REFERENCED,       /**< Referenced */
	ML_SMAPS_ANONYMOUS,        /**< Anonymous */
	ML_SMAPS_KSM,              /**< KSM */
	ML_SMAPS_LAZYFREE,         /**< LazyFree */
	ML_SMAPS_ANON_HUGE_PAGES,  /**< AnonHugePages */
	ML_SMAPS_SHMEM_PMD_MAPPED, /**< ShmemPmdMapped */
	ML_SMAPS_FILE_PMD_MAPPED,  /**< FilePmdMapped */
	ML_SMAPS_SHARED_HUGETLB,   /**< Shared_Hugetlb */
	ML_SMAPS_PRIVATE_HUGETLB,  /**< Private_Hugetlb */
	ML_SMAPS_SWAP,             /**< Swap */
	ML_SMAPS_SWAP_PSS,         /**< SwapPss */
	ML_SMAPS_LOCKED,           /**< Locked */
	ML_SMAPS_NFIELDS
} ml_smaps_field;

/**
 * The numeric fields, by name or by index (`f.rss` is `f.v[ML_SMAPS_RSS]`). A field the
 * text did not contain reads 0 and has its bit (1 << index) clear in @present, so a
 * kernel that lacks a field (Pss_Dirty before 6.0, ...) can be told from a real zero.
 */
typedef struct ml_smaps_fields {
	union {
		struct {
			uint64_t size, kernel_page_size, mmu_page_size, rss, pss, pss_dirty,
				pss_anon, pss_file, pss_shmem, shared_clean, shared_dirty,
				private_clean, private_dirty, referenced, anonymous, ksm, lazyfree,
				anon_huge_pages, shmem_pmd_mapped, file_pmd_mapped, shared_hugetlb,
				private_hugetlb, swap, swap_pss, locked;
		};
		uint64_t v[ML_SMAPS_NFIELDS];
	};
	uint64_t present; /**< bit (1 << ml_smaps_field) set when the field was in the text */
} ml_smaps_fields;

/** A "Key: value" line the parser does not know, kept so newer kernels lose nothing. */
typedef struct ml_smaps_extra {
	const char *key;    /**< exact bytes, NUL-terminated (the part before ':') */
	size_t key_len;
	const char *value;  /**< the text after ':' with surrounding blanks removed */
	size_t value_len;
	uint64_t bytes;     /**< the value in bytes when it is "N kB" (x1024) or a plain number */
	bool numeric;       /**< @bytes is meaningful */
} ml_smaps_extra;

/**
 * VmFlags mnemonics as bits (our own numbering: the kernel's bit positions differ by
 * architecture and version). Mnemonics this list does not know set ML_VMF_UNKNOWN and
 * are still in the raw string.
 */
#define ML_VMF_RD (1ull << 0)  /**< readable */
#define ML_VMF_WR (1ull << 1)  /**< writable */
#define ML_VMF_EX (1ull << 2)  /**< executable */
#define ML_VMF_SH (1ull << 3)  /**< shared */
#define ML_VMF_MR (1ull << 4)  /**< may read */
#define ML_VMF_MW (1ull << 5)  /**< may write */
#define ML_VMF_ME (1ull << 6)  /**< may execute */
#define ML_VMF_MS (1ull << 7)  /**< may share */
#define ML_VMF_GD (1ull << 8)  /**< stack grows down */
#define ML_VMF_PF (1ull << 9)  /**< pure PFN range */
#define ML_VMF_DW (1ull << 10) /**< disabled write to the mapped file (old kernels) */
#define ML_VMF_LO (1ull << 11) /**< locked (mlock) */
#define ML_VMF_IO (1ull << 12) /**< memory-mapped I/O */
#define ML_VMF_SR (1ull << 13) /**< sequential-read advice */
#define ML_VMF_RR (1ull << 14) /**< random-read advice */
#define ML_VMF_DC (1ull << 15) /**< not copied on fork */
#define ML_VMF_DE (1ull << 16) /**< not expanded on remap */
#define ML_VMF_AC (1ull << 17) /**< accountable */
#define ML_VMF_NR (1ull << 18) /**< swap not reserved */
#define ML_VMF_HT (1ull << 19) /**< hugetlb */
#define ML_VMF_SF (1ull << 20) /**< synchronous page faults */
#define ML_VMF_NL (1ull << 21) /**< non-linear (old kernels) */
#define ML_VMF_AR (1ull << 22) /**< architecture specific */
#define ML_VMF_WF (1ull << 23) /**< wiped on fork */
#define ML_VMF_DD (1ull << 24) /**< not in core dumps (MADV_DONTDUMP) */
#define ML_VMF_SD (1ull << 25) /**< soft-dirty */
#define ML_VMF_MM (1ull << 26) /**< mixed map */
#define ML_VMF_HG (1ull << 27) /**< MADV_HUGEPAGE */
#define ML_VMF_NH (1ull << 28) /**< MADV_NOHUGEPAGE */
#define ML_VMF_MG (1ull << 29) /**< KSM-mergeable */
#define ML_VMF_UM (1ull << 30) /**< userfaultfd missing */
#define ML_VMF_UW (1ull << 31) /**< userfaultfd write-protect */
#define ML_VMF_UI (1ull << 32) /**< userfaultfd minor */
#define ML_VMF_BT (1ull << 33) /**< arm64 BTI guarded */
#define ML_VMF_MT (1ull << 34) /**< arm64 MTE */
#define ML_VMF_SS (1ull << 35) /**< shadow stack */
#define ML_VMF_SL (1ull << 36) /**< sealed (mseal) */
#define ML_VMF_LF (1ull << 37) /**< lock on fault */
#define ML_VMF_DP (1ull << 38) /**< droppable */
#define ML_VMF_UNKNOWN (1ull << 63) /**< a mnemonic not in this list was present */

/** One mapping of smaps: its maps-line record plus its accounting. */
typedef struct ml_smaps_vma {
	ml_vma vma;              /**< the header line, named as ml_maps_parse() names it */
	ml_smaps_fields f;
	int thp_eligible;        /**< THPeligible: 0 or 1; -1 if absent */
	int protection_key;      /**< ProtectionKey; -1 if absent */
	uint64_t vm_flags;       /**< ML_VMF_* bits */
	const char *vm_flags_raw; /**< the VmFlags text exactly ("rd wr mr mw me ac"), NUL-terminated */
	size_t vm_flags_raw_len;
	bool has_vm_flags;       /**< a VmFlags line was present */
	const ml_smaps_extra *extra; /**< unknown keys, in text order (borrowed) */
	size_t n_extra;
	/** Where the header line (with its '\n', if any) is in the text parsed: joined in
	 *  record order, these lines are the maps text of the same moment. */
	size_t line_off, line_len;
} ml_smaps_vma;

/** All mappings of an smaps file, sorted by start address, no duplicates. */
typedef struct ml_smaps ml_smaps;

/**
 * Reads /proc/PID/smaps of @p. Like ml_maps_read() on the text path, records are sorted
 * and a torn read's duplicates resolved.
 * @return 0; -ESRCH gone (a zombie's smaps read empty); -EACCES/-EPERM denied
 *         (needs PTRACE_MODE_READ: same user, or CAP_SYS_PTRACE); -EBADMSG malformed;
 *         -ENOMEM.
 */
ML_API int ml_smaps_read(const ml_proc *p, ml_smaps **ret);

/**
 * Parses smaps text from @buf of @len bytes (need not be NUL-terminated). Header lines
 * are parsed like ml_maps_parse() lines; "Key: N kB" lines into the typed fields;
 * unknown keys into extras. A field line before the first header, or a header that does
 * not parse, fails the whole parse with -EBADMSG.
 */
ML_API int ml_smaps_parse(const char *buf, size_t len, ml_smaps **ret);

/** Number of mappings. */
ML_API size_t ml_smaps_count(const ml_smaps *s);
/** Mapping @i (borrowed), or NULL if out of range. */
ML_API const ml_smaps_vma *ml_smaps_get(const ml_smaps *s, size_t i);
/** The mapping containing @addr (binary search), or NULL. Join with ml_maps by `vma->start`. */
ML_API const ml_smaps_vma *ml_smaps_find(const ml_smaps *s, uint64_t addr);
/**
 * The record describing exactly the mapping @v (same start and end), or NULL: the join of
 * an ml_maps record with its accounting. maps and smaps are separate reads, so a mapping
 * that changed in between has no match rather than a wrong one.
 */
ML_API const ml_smaps_vma *ml_smaps_match(const ml_smaps *s, const ml_vma *v);
/** The sum of every mapping's fields (present = union of the mappings'). */
ML_API void ml_smaps_total(const ml_smaps *s, ml_smaps_fields *ret);
ML_API void ml_smaps_free(ml_smaps *s);

/** The whole-process totals of /proc/PID/smaps_rollup. */
typedef struct ml_smaps_rollup {
	uint64_t start, end;     /**< lowest mapping start, highest mapping end (the header line) */
	ml_smaps_fields f;
	const ml_smaps_extra *extra; /**< unknown keys (borrowed from this object) */
	size_t n_extra;
} ml_smaps_rollup;

/**
 * Reads /proc/PID/smaps_rollup of @p.
 * @return 0; -ESRCH gone (zombies give ESRCH here); -EACCES/-EPERM denied;
 *         -EOPNOTSUPP the file does not exist (kernel before 4.14); -EBADMSG; -ENOMEM.
 *         A kernel thread (no address space) reads as an empty rollup: all fields 0,
 *         present 0.
 */
ML_API int ml_smaps_rollup_read(const ml_proc *p, ml_smaps_rollup **ret);
/** Parses smaps_rollup text. An empty buffer gives an empty rollup. @return 0; -EBADMSG. */
ML_API int ml_smaps_rollup_parse(const char *buf, size_t len, ml_smaps_rollup **ret);
ML_API void ml_smaps_rollup_free(ml_smaps_rollup *r);

/** The kernel's key for field @f ("Rss", "Pss_Dirty", ...), or NULL out of range. */
ML_API const char *ml_smaps_field_name(ml_smaps_field f);
/** Unique set size: Private_Clean + Private_Dirty + Private_Hugetlb, in bytes. */
ML_API uint64_t ml_smaps_uss(const ml_smaps_fields *f);
/** The two-letter mnemonic of a single ML_VMF_* bit, or NULL. */
ML_API const char *ml_vmflag_name(uint64_t bit);

#ifdef __cplusplus
}
#endif
#endif
