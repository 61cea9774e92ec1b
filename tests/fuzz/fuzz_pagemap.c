/* Fuzz target: random pagemap entry arrays through the decoders, the emulation's categories and its run builder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/pagemap.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PG 4096u
#define MAXN 4096u

static uint64_t take64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	for (int i = 0; i < 8 && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

/* The filter, page by page, as the scan documents it. */
static int wanted(const ml_scan_opts *o, uint64_t c)
{
	uint64_t t = c ^ o->category_inverted;
	if ((t & o->category_mask) != o->category_mask)
		return 0;
	return !o->category_anyof_mask || (t & o->category_anyof_mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	if (size < 16)
		return 0;
	uint64_t ctl = take64(&p, end);
	uint64_t pfns = take64(&p, end);
	ML_OPTS(ml_scan_opts, o, .category_inverted = ctl & ML_PAGE_STATE_MASK,
		.category_mask = (ctl >> 12) & ML_PAGE_STATE_MASK,
		.category_anyof_mask = (ctl >> 24) & ML_PAGE_STATE_MASK,
		.return_mask = (ctl >> 36) & ML_PAGE_STATE_MASK, .max_pages = (ctl >> 48) & 0xff);
	bool visible = ctl & (UINT64_C(1) << 60);
	size_t vec_n = 1 + ((ctl >> 56) & 0xf);
	uint64_t zero = pfns & 0xffffff, hzero = (pfns >> 24) & ~UINT64_C(511) & 0xffffffff;
	uint64_t base = (uint64_t)((ctl >> 61) & 7) * 0x1ff000 + 0x40000000;

	size_t n = (size_t)(end - p) / 8;
	if (n > MAXN)
		n = MAXN;
	uint64_t *e = calloc(n ? n : 1, 8), *c = calloc(n ? n : 1, 8);
	for (size_t i = 0; i < n; i++) {
		e[i] = take64(&p, end);
		/* the decoders never disagree with the raw bits */
		uint64_t x = e[i];
		if (ml_pme_present(x) != (x >> 63) || ml_pme_file(x) != ((x >> 61) & 1) ||
		    ml_pme_exclusive(x) != ((x >> 56) & 1) || ml_pme_uffd_wp(x) != ((x >> 57) & 1))
			abort();
		if (ml_pme_swapped(x) && ml_pme_guard(x))
			abort();
		if (!ml_pme_present(x) && ml_pme_pfn(x))
			abort();
		if (ml_pme_swap_offset(x) >= (UINT64_C(1) << 50) || ml_pme_swap_type(x) > 31)
			abort();
	}
	ml_pagemap_categories(e, n, base, visible, zero, hzero, c);
	for (size_t i = 0; i < n; i++) {
		if (c[i] & ~ML_PAGE_STATE_MASK)
			abort(); /* never WRITTEN/WPALLOWED */
		if ((c[i] & ML_PAGE_PRESENT) && (c[i] & ML_PAGE_SWAPPED))
			abort();
		if (!visible && (c[i] & (ML_PAGE_PFNZERO | ML_PAGE_HUGE)))
			abort();
		if ((c[i] & ML_PAGE_HUGE) && !(c[i] & ML_PAGE_PRESENT))
			abort();
		if ((c[i] & ML_PAGE_PFNZERO) && (c[i] & ML_PAGE_FILE))
			abort();
	}
	/* Build runs through a small vector, resuming where each call stopped, and check
	 * that the pages reported are exactly the wanted ones with their masked categories,
	 * in maximal runs. */
	ml_page_region *v = malloc(vec_n * sizeof(*v));
	size_t i = 0, expect = 0;
	uint64_t done = 0, prev_end = 0, prev_cat = 0;
	int have_prev = 0;
	while (i < n) {
		size_t used = 0;
		size_t k = ml_pagemap_build_runs(&o, base + i * PG, c + i, n - i, v, vec_n, &used, &done);
		if (k > n - i || used > vec_n)
			abort();
		for (size_t r = 0; r < used; r++) {
			if (v[r].end <= v[r].start || (v[r].end - v[r].start) % PG)
				abort();
			if (have_prev && v[r].start < prev_end)
				abort();
			if (r && v[r].start == v[r - 1].end && v[r].categories == v[r - 1].categories)
				abort(); /* not maximal */
			for (uint64_t a = v[r].start; a < v[r].end; a += PG) {
				size_t pg = (size_t)((a - base) / PG);
				while (expect < pg) {
					if (wanted(&o, c[expect]) && !(o.max_pages && done >= o.max_pages))
						abort(); /* a wanted page was left out */
					expect++;
				}
				if (pg >= n || !wanted(&o, c[pg]) || (c[pg] & o.return_mask) != v[r].categories)
					abort();
				expect = pg + 1;
			}
			prev_end = v[r].end;
			prev_cat = v[r].categories;
			have_prev = 1;
		}
		(void)prev_cat;
		if (o.max_pages && done >= o.max_pages)
			break;
		if (k == 0 && used == 0)
			abort(); /* no progress with an empty vector */
		i += k;
	}
	if (!(o.max_pages && done >= o.max_pages))
		for (; expect < n; expect++)
			if (wanted(&o, c[expect]))
				abort();
	free(v);
	free(e);
	free(c);
	return 0;
}
