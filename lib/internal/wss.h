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
/*
 * Marks idle the frames of the present pages among @n entries (@scratch holds @n PFNs).
 * Returns the number of frames marked or -errno.
 */
ssize_t ml__wss_idle_mark_entries(ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
				  uint64_t *scratch);
/*
 * Counts the present pages among @n entries whose frame is no longer idle (accessed, or
 * new since the marking: a frame never marked reads 0). @scratch holds @n PFNs, @flags @n
 * bytes. Returns 0 and *ret, or -errno.
 */
int ml__wss_idle_count(const ml_idle *b, const uint64_t *e, size_t n, uint64_t zero_pfn,
		       uint64_t *scratch, uint8_t *flags, size_t *ret);

#endif
