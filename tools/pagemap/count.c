/* memlens pagemap: counting pages per mapping (pagemap scan runs, entries, kpage flags in batches) and the counts as shown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagemap/pagemap.h"

const char *const pagemap_live_names[C_NLIVE] = {
	"mapped", "present", "swapped", "zero", "thp", "file", "exclusive", "soft_dirty", "uffd_wp", "guard",
	"ksm", "dirty", "lru", "active", "referenced", "idle", "shared",
};
const char *const pagemap_live_heads[C_NLIVE] = {
	"MAPPED", "PRESENT", "SWAP", "ZERO", "THP", "FILE", "EXCL", "SDIRTY", "UFFDWP", "GUARD",
	"KSM", "DIRTY", "LRU", "ACTIVE", "REF", "IDLE", "SHARED",
};

/*
 * The kpage counters need one lookup per present page. PFNs are gathered across runs and
 * mappings (each with the index of the mapping it counts for) and looked up a batch at a
 * time, so that the library can sort them and read kpageflags and kpagecount by window.
 */
static int kpage_flush(pagemap_ctx *c, counts *k)
{
	if (!c->npend)
		return 0;
	int r = ml_kpage_lookup(c->kp, ML_KPAGE_FLAGS, c->pfn, c->npend, c->kf);
	if (r >= 0)
		r = ml_kpage_lookup(c->kp, ML_KPAGE_COUNT, c->pfn, c->npend, c->kc);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->npend; i++) {
		uint64_t f = c->kf[i];
		counts *o = &k[c->owner[i]];
		o->v[C_KSM] += (f >> ML_KPF_KSM) & 1;
		o->v[C_DIRTY] += (f >> ML_KPF_DIRTY) & 1;
		o->v[C_LRU] += (f >> ML_KPF_LRU) & 1;
		o->v[C_ACTIVE] += (f >> ML_KPF_ACTIVE) & 1;
		o->v[C_REFERENCED] += (f >> ML_KPF_REFERENCED) & 1;
		o->v[C_IDLE] += (f >> ML_KPF_IDLE) & 1;
		o->v[C_SHARED] += c->kc[i] > 1;
	}
	c->npend = 0;
	return 0;
}

/* Per-page facts that need the entries: exclusive, uffd-wp, and (queued) the kpage counters. */
static int count_entries(pagemap_ctx *c, uint64_t s, uint64_t n, bool present, counts *k, size_t mi)
{
	while (n) {
		size_t m = n < ENTRY_CHUNK ? (size_t)n : ENTRY_CHUNK;
		ssize_t r = ml_pagemap_read(c->pm, s, c->ent, m);
		if (r < 0)
			return (int)r;
		if ((size_t)r < m)
			m = (size_t)r;
		if (!m)
			break;
		for (size_t i = 0; i < m; i++) {
			uint64_t e = c->ent[i];
			k[mi].v[C_EXCL] += ml_pme_exclusive(e);
			k[mi].v[C_UFFDWP] += ml_pme_uffd_wp(e);
			if (c->kp && present && ml_pme_present(e) && ml_pme_pfn(e) &&
			    !ml_pagemap_pfn_is_zero(ml_pme_pfn(e))) {
				if (c->npend == KPAGE_BATCH) {
					int rr = kpage_flush(c, k);
					if (rr < 0)
						return rr;
				}
				c->pfn[c->npend] = ml_pme_pfn(e);
				c->owner[c->npend++] = (uint32_t)mi;
			}
		}
		s += (uint64_t)m * PG;
		n -= m;
	}
	return 0;
}

/* Counts one run the scan found (within mapping @mi). */
static int count_region(pagemap_ctx *c, uint64_t s, uint64_t e, uint64_t cat, counts *k, size_t mi)
{
	uint64_t np = (e - s) / PG;
	counts *o = &k[mi];
	bool present = cat & ML_PAGE_PRESENT;
	if (present) {
		o->v[C_PRESENT] += np;
		if (cat & ML_PAGE_PFNZERO)
			o->v[C_ZERO] += np;
		else if (cat & ML_PAGE_HUGE)
			o->v[C_THP] += np;
		else if (cat & ML_PAGE_FILE)
			o->v[C_XFILE] += np;
	} else if (cat & ML_PAGE_GUARD) {
		o->v[C_GUARD] += np;
		return 0;
	} else {
		o->v[C_SWAPPED] += np;
	}
	if (cat & ML_PAGE_FILE)
		o->v[C_FILE] += np;
	if (cat & ML_PAGE_SOFT_DIRTY)
		o->v[C_SDIRTY] += np;
	return count_entries(c, s, np, present, k, mi);
}

/*
 * Counts the mappings [first, last] of @m of a live process (k[i] for mapping i) with one
 * walk: one scan over their whole span finds the populated runs (a run may cross mapping
 * boundaries: it is split), entries are read only there.
 */
int pagemap_count_live(pagemap_ctx *c, const ml_maps *m, size_t first, size_t last, counts *k)
{
	for (size_t i = first; i <= last; i++) {
		const ml_vma *v = ml_maps_get(m, i);
		k[i].v[C_MAPPED] += (v->end - v->start) / PG;
	}
	uint64_t end = ml_maps_get(m, last)->end;
	ML_OPTS(ml_scan_opts, o, .start = ml_maps_get(m, first)->start, .end = end,
		.force_emulation = c->a.emulate, .category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED,
		.return_mask = c->scan_cats & (ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_PFNZERO | ML_PAGE_HUGE |
					       ML_PAGE_FILE | ML_PAGE_SOFT_DIRTY | ML_PAGE_GUARD));
	size_t mi = first;
	while (o.start < end) {
		uint64_t next;
		ssize_t n = ml_pagemap_scan(c->pm, &o, c->reg, REGIONS, &next);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i < n; i++) {
			uint64_t rs = c->reg[i].start, re = c->reg[i].end;
			while (rs < re) {
				while (mi <= last && ml_maps_get(m, mi)->end <= rs)
					mi++;
				if (mi > last)
					break;
				const ml_vma *v = ml_maps_get(m, mi);
				if (v->start >= re)
					break; /* in no mapping the text showed (mapped since) */
				uint64_t ps = rs > v->start ? rs : v->start, pe = re < v->end ? re : v->end;
				int r = count_region(c, ps, pe, c->reg[i].categories, k, mi);
				if (r < 0)
					return r;
				rs = pe;
			}
		}
		if (next <= o.start)
			break;
		o.start = next;
	}
	return c->kp ? kpage_flush(c, k) : 0;
}

/* Counts [s, e) of any source by run kind (index = kind + 1; v[0] = mapped). */
int pagemap_count_runs(pagemap_ctx *c, uint64_t s, uint64_t e, counts *k)
{
	k->v[0] += (e - s) / PG;
	ml_run v[256];
	while (s < e) {
		uint64_t next;
		ssize_t n = ml_source_runs(c->src, s, e, ML_RUNS_SPLIT_ZERO, v, 256, &next);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i < n; i++)
			k->v[1 + v[i].kind] += (v[i].end - v[i].start) / PG;
		if (next <= s)
			break;
		s = next;
	}
	return 0;
}

const char *const pagemap_run_names[C_NSNAP] = {
	"mapped", "data", "zero", "unpopulated", "swapped", "excluded", "unreadable",
};
const char *const pagemap_run_heads[C_NSNAP] = {
	"MAPPED", "DATA", "ZERO", "UNPOP", "SWAP", "EXCLUDED", "UNREAD",
};

const char *pagemap_fmt_count(pagemap_ctx *c, char buf[32], uint64_t pages)
{
	if (c->a.pages) {
		snprintf(buf, 32, "%llu", (unsigned long long)pages);
		return buf;
	}
	return cli_fmt_size(buf, pages * PG, !c->a.bytes && !c->a.json && cli_stdout_tty());
}

/*
 * Whether counter @x was measured: the plain-read path tells zero pages and PMD mappings
 * only with visible PFNs (and kpageflags for THPs), and a count it could not take is
 * shown as unknown ("-", JSON null), never as 0.
 */
bool pagemap_known(const pagemap_ctx *c, bool live, size_t x)
{
	if (!live)
		return true;
	if (x == C_ZERO)
		return c->scan_cats & ML_PAGE_PFNZERO;
	if (x == C_THP)
		return c->scan_cats & ML_PAGE_HUGE;
	return true;
}

void pagemap_put_json(const pagemap_ctx *c, json_writer *j, bool live, size_t x, const char *name, uint64_t pages)
{
	json_key(j, name);
	if (pagemap_known(c, live, x))
		json_u64(j, pages * PG);
	else
		json_null(j);
}
