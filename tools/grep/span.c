/* Address arithmetic of memlens grep's work units, exact up to the top of the address space. */
#include "grep/grep.h"

uint64_t gp_slice_end(uint64_t pos, uint64_t hi, uint64_t slice)
{
	uint64_t start = pos - pos % slice;
	/* the slice holding the last addresses ends at 2^64, which does not fit: hi then */
	if (hi - start <= slice)
		return hi;
	return start + slice;
}

void gp_unit_span(uint64_t a, uint64_t b, uint64_t vs, uint64_t ve, uint64_t before, uint64_t after,
		  uint64_t *ret_lo, uint64_t *ret_hi)
{
	uint64_t lo = vs, hi = ve;
	if (a - vs > before) {
		lo = (a - before) & ~(uint64_t)4095;
		if (lo < vs)
			lo = vs;
	}
	if (ve - b > after) {
		uint64_t e = b + after; /* < ve: no overflow */
		hi = e > UINT64_MAX - 4095 ? ve : (e + 4095) & ~(uint64_t)4095;
		if (hi > ve)
			hi = ve;
	}
	*ret_lo = lo;
	*ret_hi = hi;
}

bool gp_image_end(uint64_t base, uint64_t size, uint64_t *ret_end)
{
	/* an exclusive end of 2^64 cannot be represented: the image must end below it */
	if (size > UINT64_MAX - base)
		return false;
	*ret_end = base + size;
	return true;
}

uint64_t gp_hex_lines(uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	uint64_t first = from & ~(uint64_t)15, last = (to - 1) & ~(uint64_t)15;
	return (last - first) / 16 + 1;
}
