/* Internal interfaces of memlens grep: pattern parsing, search engines over buffers, heap walking. */
#ifndef MEMLENS_TOOLS_GREP_H
#define MEMLENS_TOOLS_GREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hex byte patterns ("4d 45 ?? 4c ?5 [0-8] 2d") ---- */

/* Longest a hex pattern may match, in bytes (bounds the overlap between windows). */
#define GP_HEX_MAX_LEN 4096
/* Most elements a hex pattern may have. */
#define GP_HEX_MAX_ELEMS 1024

typedef struct gp_hexel {
	uint8_t jump;       /* 0: a byte test, 1: a jump of [min, max] arbitrary bytes */
	uint8_t val, mask;  /* byte test: (b & mask) == val */
	uint16_t min, max;  /* jump bounds */
} gp_hexel;

typedef struct gp_hexpat {
	gp_hexel *el;
	size_t n;
	size_t minlen, maxlen;     /* shortest and longest possible match */
	/* The longest run of fully known bytes before the first jump, used to find candidates. */
	size_t anchor_off, anchor_len;
	uint8_t *anchor;
	/* The fully known prefix (elements before the first non-exact one), for a quick check. */
	size_t fixed_prefix;
} gp_hexpat;

/*
 * Parses a hex pattern of @len bytes (need not be NUL-terminated). Bytes are two hex
 * digits; "??" any byte; "?5"/"4?" a nibble wildcard; "[N-M]" or "[N]" a jump of N to M
 * arbitrary bytes. Whitespace between tokens is optional. The pattern starts and ends
 * with a byte. On error returns -EINVAL and, if @err is given, a static message.
 */
int gp_hexpat_parse(const char *s, size_t len, gp_hexpat **ret, const char **err);
void gp_hexpat_free(gp_hexpat *h);
/* The end (exclusive, offset from @buf) of the shortest match starting at @buf[0], or -1. */
long gp_hexpat_match_at(const gp_hexpat *h, const uint8_t *buf, size_t avail);
/* A regular expression (Vectorscan/PCRE syntax, for DOTALL mode) equivalent to @h. malloc'd. */
char *gp_hexpat_to_regex(const gp_hexpat *h);

/* ---- literal search ---- */

/* One literal, found with a two-byte SIMD filter on its two rarest bytes. */
typedef struct gp_lit1 {
	const uint8_t *needle;
	size_t len;
	bool icase;
	size_t i1, i2;          /* filter positions */
	uint8_t a1, b1, a2, b2; /* accepted bytes at i1 (a1|b1) and at i2 (a2|b2) */
} gp_lit1;

void gp_lit1_init(gp_lit1 *l, const uint8_t *needle, size_t len, bool icase);
/* Calls @fn(ctx, pos) for every occurrence starting in [from, to) of @hay (of @len bytes;
 * occurrences may extend past @to up to @len). Stops when @fn returns nonzero. */
typedef int (*gp_pos_fn)(void *ctx, size_t pos);
int gp_lit1_scan(const gp_lit1 *l, const uint8_t *hay, size_t len, size_t from, size_t to,
		 gp_pos_fn fn, void *ctx);

/* Many literals: a two-byte prefix bitmap, then a hash of the first bytes. */
typedef struct gp_litn gp_litn;
int gp_litn_new(const uint8_t *const *needles, const size_t *lens, size_t n, bool icase, gp_litn **ret);
void gp_litn_free(gp_litn *m);
typedef int (*gp_litn_fn)(void *ctx, size_t id, size_t pos);
int gp_litn_scan(const gp_litn *m, const uint8_t *hay, size_t len, size_t from, size_t to,
		 gp_litn_fn fn, void *ctx);

/* ASCII case folding table. */
extern const uint8_t gp_fold[256];
bool gp_eq_icase(const uint8_t *a, const uint8_t *b, size_t n);

/* ---- pattern sets and the scanner ---- */

typedef enum gp_kind { GP_LITERAL, GP_HEX, GP_REGEX } gp_kind;
typedef enum gp_enc { GP_ENC_ASCII = 1, GP_ENC_UTF16LE = 2, GP_ENC_BOTH = 3 } gp_enc;
typedef enum gp_engine { GP_ENGINE_AUTO, GP_ENGINE_PORTABLE, GP_ENGINE_VECTORSCAN } gp_engine;

/* One searched variant (a user pattern in one encoding). */
typedef struct gp_pat {
	gp_kind kind;
	gp_enc enc;            /* GP_ENC_ASCII or GP_ENC_UTF16LE */
	size_t user;           /* index of the user pattern it came from */
	uint8_t *bytes;        /* literal bytes (encoded) */
	size_t len;
	gp_hexpat *hex;
	void *re;              /* pcre2_code_8 * */
	size_t minlen, maxlen; /* match length bounds (regex: maxlen = window) */
	bool vs;               /* handled by Vectorscan in this set */
	bool line_starts;      /* regex: PCRE2 tries it at the start offset and after a '\n' only */
} gp_pat;

typedef struct gp_user {
	char *text;            /* as given */
	size_t len;
	gp_kind kind;
} gp_user;

typedef struct gp_set gp_set;

typedef struct gp_set_opts {
	bool icase;
	gp_enc enc;
	gp_engine engine;
	size_t max_regex_len;  /* longest regex match considered (the confirm window) */
} gp_set_opts;

/* Adds a user pattern; returns 0 or -EINVAL with *err set to a message (malloc'd). */
gp_set *gp_set_new(const gp_set_opts *o);
int gp_set_add(gp_set *s, gp_kind kind, const char *text, size_t len, char **err);
/* Compiles everything; 0 or negative with *err (malloc'd). */
int gp_set_compile(gp_set *s, char **err);
void gp_set_free(gp_set *s);
size_t gp_set_users(const gp_set *s);
const gp_user *gp_set_user(const gp_set *s, size_t i);
const gp_pat *gp_set_pat(const gp_set *s, size_t i);
size_t gp_set_pats(const gp_set *s);
/* Bytes of context the scanner needs on each side of a window: the longest match. */
size_t gp_set_overlap(const gp_set *s);
/* Bytes Vectorscan needs after the trailing context (0 without it): see gp_scan(). */
#define GP_VS_MARGIN 256
size_t gp_set_margin(const gp_set *s);
/* "vectorscan" or "portable" (what the compiled set uses). */
const char *gp_set_engine_name(const gp_set *s);

/* A hit, in buffer offsets. */
typedef struct gp_hit {
	size_t start, end;
	uint32_t pat;
} gp_hit;

/* Whether the set has regexes (whose matches chain: see gp_scan()). */
bool gp_set_has_regex(const gp_set *s);

/* Starts [lo, hi) (absolute) where PCRE2 could not try regex @pat (error @err, a PCRE2 code:
 * a resource limit), so neither a match nor its absence is known there. */
typedef struct gp_fail {
	uint32_t pat;
	int err;
	uint64_t lo, hi;
} gp_fail;

/* Per-thread scanning state. */
typedef struct gp_scratch gp_scratch;
gp_scratch *gp_scratch_new(const gp_set *s);
void gp_scratch_free(gp_scratch *sc);
/* Forget the regex continuation state (a new stream: after a hole or at a new range);
 * @run_start is where the run of memory starts (^ holds there, and $ only at its end). */
void gp_scratch_reset(gp_scratch *sc, uint64_t run_start);

/* Where each regex resumes after @at in the current run: the patterns whose last match
 * (starting before @at) ends after it, and those ends; *@pats and *@next (capacity *@cap) are
 * grown as needed. 0 or -ENOMEM. */
int gp_scratch_chains(const gp_scratch *sc, uint64_t at, uint32_t **pats, uint64_t **next, size_t *n,
		      size_t *cap);
/* After gp_scratch_reset(): no regex resumes before @at, and @pats[i] resumes at @next[i]
 * (as gp_scratch_chains() gave them), as if the run had been searched up to @at. */
void gp_scratch_seed(gp_scratch *sc, uint64_t at, const uint32_t *pats, const uint64_t *next, size_t n);
/* Restarts the Vectorscan stream, keeping where each regex resumes (after data skipped). */
void gp_scratch_restream(gp_scratch *sc);
/* The starts the last gp_scan() could not try (see gp_fail): within its [report_lo, hi), per
 * regex in address order, none twice; owned by @sc. */
const gp_fail *gp_scan_fails(const gp_scratch *sc, size_t *n);
/* PCRE2's message for error @err, in @buf. */
void gp_regex_error(int err, char *buf, size_t size);

/*
 * Scans @buf (@len bytes, at absolute address @base). Matches are searched starting at
 * @scan_lo; those starting in [report_lo, hi) are returned (sorted by start, then
 * pattern) in *hits / *nhits (owned by @sc, valid until the next call). Regex matches do not
 * overlap: each regex continues after its previous match (state kept in @sc across calls).
 * Matches are those found in the @len bytes; @avail (>= len) bytes are there, which must
 * be min(len + gp_set_margin(), what the run holds): Vectorscan reads ahead.
 * Successive calls between two gp_scratch_reset() walk one contiguous run of memory
 * forwards: each buffer starts at or before the end of the previous one and at least the
 * overlap (gp_set_overlap()) before its @report_lo (or at the run's start), and ends no
 * earlier than the previous one; Vectorscan scans the run as one stream. @eod: the
 * buffer's @avail bytes end where the run ends.
 * @return 0, -ENOMEM, or -EIO (Vectorscan failed).
 */
int gp_scan(const gp_set *s, gp_scratch *sc, const uint8_t *buf, size_t len, size_t avail, uint64_t base,
	    size_t scan_lo, size_t report_lo, size_t hi, bool eod, const gp_hit **hits, size_t *nhits);

/* ---- address arithmetic (span.c): exact at the top of the address space ---- */

/* The end of the @slice-aligned slice holding @pos, or @hi if that comes first (also when
 * the slice would end at 2^64). @pos < @hi. */
uint64_t gp_slice_end(uint64_t pos, uint64_t hi, uint64_t slice);
/* The page-aligned range a unit [a, b) of region [vs, ve) reads: @before bytes of context
 * before it, @after after it, clipped to the region. */
void gp_unit_span(uint64_t a, uint64_t b, uint64_t vs, uint64_t ve, uint64_t before, uint64_t after,
		  uint64_t *ret_lo, uint64_t *ret_hi);
/* The end of an image of @size bytes at @base; false when it would reach or pass 2^64. */
bool gp_image_end(uint64_t base, uint64_t size, uint64_t *ret_end);
/* Number of 16-byte aligned hexdump lines holding [from, to). */
uint64_t gp_hex_lines(uint64_t from, uint64_t to);

/* ---- glibc heap chunks ---- */

typedef struct gp_chunk {
	uint64_t start, size;
	bool in_use;
} gp_chunk;

/* Reads @len bytes at @addr into @buf; returns bytes read or negative. */
typedef long (*gp_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
typedef struct gp_heap gp_heap;
/* Walks the glibc main-arena heap [start, end) once, keeping checkpoints. NULL if it does not
 * look like a glibc heap. */
gp_heap *gp_heap_walk(uint64_t start, uint64_t end, gp_read_fn rd, void *ctx);
/* The chunk containing @addr; false when unknown (outside the walked part). */
bool gp_heap_find(const gp_heap *h, uint64_t addr, gp_read_fn rd, void *ctx, gp_chunk *ret);
void gp_heap_free(gp_heap *h);

#endif
