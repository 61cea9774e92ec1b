/* Fuzzes the address arithmetic of memlens grep's work units: slices, context spans, raw images and hexdump lines, up to 2^64. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grep/span.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;
	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

/* Walks units over [lo, hi) from @pos as grep's unit maker does for a raw image: each unit
 * starts where the last ended, is not empty, stays in its slice and in the range; with
 * @must_end the walk ends within @steps units. */
static void walk(uint64_t pos, uint64_t lo, uint64_t hi, uint64_t slice, uint64_t vs, uint64_t ve,
		 uint64_t before, uint64_t after, unsigned steps, bool must_end)
{
	while (pos < hi) {
		if (!steps--) {
			if (must_end)
				abort(); /* no progress: the walk would spin */
			return;
		}
		uint64_t a = pos - pos % slice > lo ? pos - pos % slice : lo;
		if (a < pos)
			a = pos;
		uint64_t b = gp_slice_end(pos, hi, slice);
		if (b <= a || b > hi || (b != hi && b % slice) || b - a > slice)
			abort();
		uint64_t cs, ce;
		gp_unit_span(a, b, vs, ve, before, after, &cs, &ce);
		if (cs > a || ce < b || cs < vs || ce > ve)
			abort();
		if ((cs != vs && cs % 4096) || (ce != ve && ce % 4096))
			abort();
		pos = b;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	uint64_t base = take(&p, &n), len = take(&p, &n), sel = take(&p, &n);
	uint64_t slice = 4096ull << (sel % 40);
	uint64_t before = (sel >> 8) % (1u << 22), after = (sel >> 32) % (1u << 22);
	uint64_t end;
	bool ok = gp_image_end(base, len, &end);
	if (ok != (len <= UINT64_MAX - base) || (ok && end - base != len))
		abort();
	if (!ok || !len)
		return 0;
	/* a region [vs, ve) and a searched part [lo, hi) inside it (--addr) */
	uint64_t vs = base, ve = end, lo = vs, hi = ve;
	if (n >= 2) {
		lo = vs + take(&p, &n) % (ve - vs);
		hi = lo + 1 + take(&p, &n) % (ve - lo);
	}
	walk(lo, lo, hi, slice, vs, ve, before, after, 130, false);
	/* the last slices, wherever the range ends */
	uint64_t last = (hi - 1) - (hi - 1) % slice;
	uint64_t from = last > lo && last - lo > 64 * slice ? last - 64 * slice : lo;
	walk(from, lo, hi, slice, vs, ve, before, after, 70, true);
	/* hexdump lines of a hit's context */
	uint64_t a = lo + (n ? take(&p, &n) % (hi - lo) : 0);
	uint64_t b = a + (hi - a < 4096 ? hi - a : 4096);
	uint64_t nl = gp_hex_lines(a, b);
	if (a < b && (nl == 0 || nl > (b - a) / 16 + 2 || (a & ~15ull) + (nl - 1) * 16 > b - 1))
		abort();
	return 0;
}
