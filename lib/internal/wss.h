/* Private, pure helpers of the working-set window (lib/wss*.c), shared with unit tests and the fuzzer. */
#ifndef MEMLENS_INTERNAL_WSS_H
#define MEMLENS_INTERNAL_WSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "internal/internal.h"

#include <memlens/idle.h>
#include <memlens/wss.h>

/* One mapping as smaps (or maps: then every size is 0) describes it. */
typedef struct ml__wss_vma {
	uint64_t start, end, offset, inode;
	uint32_t perms;
	ml_vma_kind kind;
	bool deleted;              /* " (deleted)" was stripped from the name */
	size_t name_off, name_len; /* into the parse's name storage */
	uint64_t rss, pss, referenced, anonymous, huge;
	bool untracked; /* the page backends cannot see its accesses ([vdso], [vvar]): no WSS */
	size_t order; /* position in the text, for ml__wss_vmas_normalize() */
} ml__wss_vma;

typedef struct ml__wss_vmas {
	ml__wss_vma *v;
	size_t n, cap;
	ml_buf names;       /* NUL-separated exact name bytes */
} ml__wss_vmas;

/*
 * Parses smaps text (or maps text, whose lines are smaps's header lines) from @buf of @len
 * bytes, appending to @out. Header lines are parsed and named exactly as ml_maps_parse()
 * does (lib/vma_text.c): "\012" decoded, " (deleted)" stripped into @deleted, same kinds. Sizes are in bytes. Unknown keys are ignored; a key line before
 * any header, or a malformed header, is -EBADMSG. Never reads past @len.
 */
int ml__wss_smaps_parse(const char *buf, size_t len, ml__wss_vmas *out);
void ml__wss_vmas_free(ml__wss_vmas *v);
/*
 * Makes @m sorted and free of overlaps. The kernel emits mappings in address order, but
 * under concurrent mmap/munmap a read that spans several read(2)s can list a mapping
 * twice (or a mapping and the pieces it was split into); of overlapping records the one
 * that came later in the text wins, so nothing is counted twice.
 */
void ml__wss_vmas_normalize(ml__wss_vmas *m);
/* True for kinds with a backing file (what clear_refs 3 covers, shmem included). */
bool ml__wss_kind_file_backed(ml_vma_kind k);
/* True if scope @s clears a mapping of that file-backedness. */
bool ml__wss_scope_covers(ml_wss_scope s, bool file_backed);

/* A sample with the storage its regions' names borrow. */
struct ml__wss_sample_priv {
	ml_wss_sample pub; /* first: a sample pointer is a pointer to this */
	char *names;
};
/* A zeroed sample freed with ml_wss_sample_free(), or NULL. */
ml_wss_sample *ml__wss_sample_new(void);

/*
 * Builds a sample's regions and totals from the mappings read at the end of a window
 * (@after) and those present when it opened (@before, may have n == 0 meaning unknown).
 * For REFERENCED, @after's referenced is the WSS; for the page backends the caller has
 * put the per-page count (bytes) in referenced. Fills s->regions, s->nregions, s->tot.
 */
int ml__wss_build(ml_wss_sample *s, const ml__wss_vmas *before, const ml__wss_vmas *after);

/* pagemap entry bits */
#define ML__PM_PRESENT (1ull << 63)
#define ML__PM_SWAP (1ull << 62)
#define ML__PM_SOFT_DIRTY (1ull << 55)
#define ML__PM_PFN_MASK ((1ull << 55) - 1)

/* Present pages among @n pagemap entries with soft-dirty set. */
size_t ml__wss_count_soft_dirty(const uint64_t *e, size_t n);
/*
 * Writes the PFNs of present pages among @n entries to @pfns, except @zero_pfn (the shared
 * zero page, which is never on an LRU list and so can never be marked idle; 0 = unknown);
 * returns how many.
 */
size_t ml__wss_present_pfns(const uint64_t *e, size_t n, uint64_t zero_pfn, uint64_t *pfns);
/* Reads the kpageflags of the @n frames from @pfn into @buf: how many (fewer past the end of
 * memory) or -errno. */
typedef ssize_t (*ml__kpf_fn)(void *ctx, uint64_t pfn, uint64_t *buf, size_t n);

/* Frames of kpageflags read at once by ml__wss_idle_heads() (@kbuf's size in words). */
#define ML__KPF_BLOCK 512u

/*
 * The frames whose idle bits stand for @k PFNs sorted ascending. The kernel tracks a folio
 * by its head frame: a bit written for a tail frame is ignored and one read for it is
 * always 0 (so a huge page's 511 tail frames would read "accessed" in every window). It
 * never tracks a zero page, a frame without a struct page (ZONE_DEVICE, offline) or one
 * past the end of memory (where a write even fails with ENXIO). heads[i] is the head frame
 * of pfns[i]'s folio, pfns[i] itself for an ordinary page, or 0 for a frame the bitmap
 * cannot track; nonzero heads ascend with i. @fn reads kpageflags into @kbuf
 * (ML__KPF_BLOCK words). @return 0, or -errno from @fn.
 */
int ml__wss_idle_heads(ml__kpf_fn fn, void *ctx, const uint64_t *pfns, size_t k, uint64_t *heads,
		       uint64_t *kbuf);

/* What the idle backend's walk needs besides the bitmap: kpageflags and room for a batch. */
typedef struct ml__idle_scratch {
	ml__kpf_fn kpf;
	void *kpf_ctx;
	uint64_t *pfns, *heads, *kbuf; /* @cap, @cap, ML__KPF_BLOCK words */
	uint8_t *flags;                /* @cap bytes */
	size_t cap;
} ml__idle_scratch;

/*
 * Marks idle the folios of the present pages among @n entries (n <= sc->cap), each once by
 * its head frame (ml__wss_idle_heads). Returns the number of frames that can be tracked
 * (marked directly or through their head) or -errno.
 */
ssize_t ml__wss_idle_mark_entries(ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
				  ml__idle_scratch *sc);
/*
 * Counts the present pages among @n entries (n <= sc->cap) whose folio is no longer idle
 * (accessed, or new since the marking: a frame never marked reads 0). A page of a huge or
 * large folio counts with its folio, as smaps's Referenced counts a PMD-mapped page; frames
 * the bitmap cannot track are not counted. Returns 0 and *ret, or -errno.
 */
int ml__wss_idle_count(const ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
		       ml__idle_scratch *sc, size_t *ret);

#endif
