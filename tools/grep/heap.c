/* Which glibc malloc chunk a [heap] address lies in, found by walking boundary tags read from the source. */
#include <stdlib.h>
#include <string.h>

#include "grep.h"

#define CHUNK_MIN 32u     /* MINSIZE on 64-bit glibc */
#define CHUNK_ALIGN 16u   /* MALLOC_ALIGNMENT */
#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define FLAG_MASK 7u
#define CHECK_EVERY 256   /* chunks between checkpoints */

struct gp_heap {
	uint64_t start, end;      /* the heap mapping */
	uint64_t walked;          /* chunks are known in [start, walked) */
	uint64_t top;             /* start of the last (top) chunk, or 0 when the walk stopped early */
	uint64_t *cp;             /* every CHECK_EVERY-th chunk start, ascending */
	size_t ncp, capcp;
};

/* Reads the size field of the chunk at @c (flags kept), or 0 when unreadable. */
static uint64_t size_field(uint64_t c, gp_read_fn rd, void *ctx)
{
	uint64_t v = 0;
	if (rd(ctx, c + 8, &v, sizeof(v)) != (long)sizeof(v))
		return 0;
	return v;
}

/* A chunk size that fits: aligned, at least the minimum, not mmapped, inside the heap. */
static bool size_ok(const gp_heap *h, uint64_t c, uint64_t field)
{
	uint64_t sz = field & ~(uint64_t)FLAG_MASK;
	return !(field & IS_MMAPPED) && sz >= CHUNK_MIN && sz % CHUNK_ALIGN == 0 && sz <= h->end - c;
}

gp_heap *gp_heap_walk(uint64_t start, uint64_t end, gp_read_fn rd, void *ctx)
{
	if (start % CHUNK_ALIGN || end <= start + CHUNK_MIN)
		return NULL;
	gp_heap *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->start = start;
	h->end = end;
	/* read headers a block at a time: a heap of small chunks has millions of them */
	enum { BLK = 64 << 10 };
	uint8_t *blk = malloc(BLK);
	uint64_t blk_at = 0, blk_len = 0;
	if (!blk) {
		free(h);
		return NULL;
	}
	uint64_t c = start;
	size_t n = 0;
	bool first = true;
	while (c + 16 <= end) {
		if (c < blk_at || c + 16 > blk_at + blk_len) {
			uint64_t want = end - c < BLK ? end - c : BLK;
			long got = rd(ctx, c, blk, (size_t)want);
			if (got < 16)
				break;
			blk_at = c;
			blk_len = (uint64_t)got;
		}
		uint64_t field;
		memcpy(&field, blk + (c - blk_at) + 8, 8);
		/* glibc marks the first chunk's predecessor as in use */
		if (!size_ok(h, c, field) || (first && !(field & PREV_INUSE)))
			break;
		first = false;
		if (n % CHECK_EVERY == 0) {
			if (h->ncp == h->capcp) {
				size_t cap = h->capcp ? 2 * h->capcp : 64;
				uint64_t *p = realloc(h->cp, cap * sizeof(*p));
				if (!p)
					break;
				h->cp = p;
				h->capcp = cap;
			}
			h->cp[h->ncp++] = c;
		}
		n++;
		uint64_t sz = field & ~(uint64_t)FLAG_MASK;
		if (c + sz == end) { /* the top chunk reaches the end of the heap */
			h->top = c;
			c = end;
			break;
		}
		c += sz;
	}
	free(blk);
	h->walked = c;
	if (!h->ncp) {
		gp_heap_free(h);
		return NULL;
	}
	return h;
}

bool gp_heap_find(const gp_heap *h, uint64_t addr, gp_read_fn rd, void *ctx, gp_chunk *ret)
{
	if (!h || addr < h->start || addr >= h->walked)
		return false;
	size_t lo = 0, hi = h->ncp;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (h->cp[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t c = h->cp[lo];
	/* the heap may have changed since the walk: re-validate every header on the way */
	for (int steps = 0; steps <= CHECK_EVERY + 1 && c < h->walked; steps++) {
		uint64_t f = size_field(c, rd, ctx);
		if (!size_ok(h, c, f))
			return false;
		uint64_t sz = f & ~(uint64_t)FLAG_MASK;
		if (addr < c + sz) {
			bool in_use = false;
			if (c != h->top && c + sz < h->end) {
				uint64_t nf = size_field(c + sz, rd, ctx);
				if (!size_ok(h, c + sz, nf))
					return false;
				in_use = nf & PREV_INUSE;
			}
			*ret = (gp_chunk){ c, sz, in_use };
			return true;
		}
		c += sz;
	}
	return false;
}

void gp_heap_free(gp_heap *h)
{
	if (!h)
		return;
	free(h->cp);
	free(h);
}
