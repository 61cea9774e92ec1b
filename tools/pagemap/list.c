/* memlens pagemap --addr: the run-length listing of one range of a live process, page flags and PFNs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagemap/pagemap.h"

/* Flags of one page for the listing: pagemap bits in the high half, kpageflags below. */
typedef struct pstate {
	uint64_t pme;  /* pagemap flag bits (55-63), no PFN */
	uint64_t kpf;  /* kpageflags, 0 without */
	uint64_t pfn;
} pstate;

static void flag_names(const pagemap_ctx *c, const pstate *s, char *out, size_t cap, json_writer *j)
{
	static const struct { uint64_t bit; const char *name; } pm[] = {
		{ ML_PME_PRESENT, "present" }, { ML_PME_SWAPPED, "swapped" }, { ML_PME_FILE, "file" },
		{ ML_PME_GUARD, "guard" }, { ML_PME_UFFD_WP, "uffd_wp" }, { ML_PME_EXCLUSIVE, "exclusive" },
		{ ML_PME_SOFT_DIRTY, "soft_dirty" },
	};
	size_t len = 0;
	out[0] = '\0';
#define ADD(nm) do { \
		if (j) json_cstr(j, nm); \
		else len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", nm); \
	} while (0)
	for (size_t i = 0; i < sizeof(pm) / sizeof(pm[0]); i++)
		if (s->pme & pm[i].bit) {
			if (pm[i].bit == ML_PME_SWAPPED && (s->pme & ML_PME_GUARD))
				continue;
			ADD(pm[i].name);
		}
	if ((s->pme & ML_PME_PRESENT) && ml_pagemap_pfn_is_zero(s->pfn))
		ADD("zero_pfn");
	if (c->kp)
		for (unsigned b = 0; b < ML_KPF_BITS; b++)
			if ((s->kpf >> b) & 1 && ml_kpage_flag_name(b))
				ADD(ml_kpage_flag_name(b));
#undef ADD
	if (len >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

static void emit_run(pagemap_ctx *c, json_writer *j, bool pfn, uint64_t start, uint64_t pages, const pstate *first)
{
	char fl[512];
	uint64_t end = start + pages * PG;
	if (c->a.json) {
		json_obj_begin(j);
		JSON_KADDR(j, "start", start);
		JSON_KADDR(j, "end", end);
		JSON_KU64(j, "pages", pages);
		if (pfn && first->pfn)
			JSON_KU64(j, "pfn", first->pfn);
		json_key(j, "flags");
		json_arr_begin(j);
		flag_names(c, first, fl, sizeof(fl), j);
		json_arr_end(j);
		json_obj_end(j);
	} else {
		char pf[24] = "-";
		if (pfn && first->pfn)
			snprintf(pf, sizeof(pf), "%llx", (unsigned long long)first->pfn);
		flag_names(c, first, fl, sizeof(fl), NULL);
		printf("%014llx %014llx %8llu %-12s %s\n", (unsigned long long)start, (unsigned long long)end,
		       (unsigned long long)pages, pf, *fl ? fl : "none");
	}
}

/* A page continues a run when its flags are equal and its frame follows (or is the same zero page). */
static bool continues(bool pfn, const pstate *cur, const pstate *s)
{
	if (s->pme != cur->pme || s->kpf != cur->kpf)
		return false;
	if (!pfn || !s->pfn)
		return true;
	return s->pfn == cur->pfn + 1 || (s->pfn == cur->pfn && ml_pagemap_pfn_is_zero(s->pfn));
}

/* The run being built by the listing. */
typedef struct lister {
	pagemap_ctx *c;
	json_writer *j;
	bool pfn;
	pstate cur, first;
	uint64_t run_start, run_pages;
} lister;

static void list_page(lister *l, uint64_t addr, const pstate *s, uint64_t pages)
{
	if (l->run_pages && continues(l->pfn, &l->cur, s)) {
		l->run_pages += pages;
		l->cur = *s;
		return;
	}
	if (l->run_pages)
		emit_run(l->c, l->j, l->pfn, l->run_start, l->run_pages, &l->first);
	l->run_start = addr;
	l->run_pages = pages;
	l->cur = l->first = *s;
}

/* Lists [a, b) inside one mapping from its entries, read 8 bytes a page. */
static int list_read(lister *l, uint64_t a, uint64_t b)
{
	pagemap_ctx *c = l->c;
	while (a < b) {
		size_t m = (size_t)((b - a) / PG < ENTRY_CHUNK ? (b - a) / PG : ENTRY_CHUNK);
		ssize_t r = ml_pagemap_read(c->pm, a, c->ent, m);
		if (r < 0)
			return (int)r;
		m = (size_t)r;
		if (!m)
			return 1; /* the end of the address space */
		for (size_t i = 0; i < m; i++)
			c->pfn[i] = ml_pme_present(c->ent[i]) ? ml_pme_pfn(c->ent[i]) : 0;
		if (c->kp && ml_kpage_lookup(c->kp, ML_KPAGE_FLAGS, c->pfn, m, c->kf) < 0)
			memset(c->kf, 0, m * 8);
		for (size_t i = 0; i < m; i++) {
			pstate s = { c->ent[i] & ~ML_PME_PFN_MASK, c->kp ? c->kf[i] : 0, c->pfn[i] };
			list_page(l, a + i * PG, &s, 1);
		}
		a += (uint64_t)m * PG;
	}
	return 0;
}

/*
 * Lists [a, b) inside one mapping. With PAGEMAP_SCAN only the populated runs (present or
 * swapped, which includes uffd-wp and guard markers) are read; every other page of a
 * mapping has the same entry (0, or soft-dirty where the mapping is VM_SOFTDIRTY), learnt
 * from one of them.
 */
static int list_mapped(lister *l, uint64_t a, uint64_t b)
{
	pagemap_ctx *c = l->c;
	if (c->a.emulate || !ml_pagemap_has_scan(c->pm))
		return list_read(l, a, b);
	ML_OPTS(ml_scan_opts, o, .start = a, .end = b, .category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED,
		.return_mask = ML_PAGE_PRESENT);
	bool have_hole = false;
	pstate hole = { 0, 0, 0 };
	uint64_t at = a;
	while (at < b) {
		uint64_t next;
		ssize_t n = ml_pagemap_scan(c->pm, &o, c->reg, REGIONS, &next);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i <= n; i++) {
			uint64_t rs = i < n ? c->reg[i].start : next, re = i < n ? c->reg[i].end : next;
			if (rs > at) {
				/* not populated: the mapping's hole entry */
				if (!have_hole) {
					uint64_t e;
					ssize_t r = ml_pagemap_read(c->pm, at, &e, 1);
					if (r < 0)
						return (int)r;
					if (r == 0)
						return 1;
					if (e & (ML_PME_PRESENT | ML_PME_SWAPPED)) {
						/* populated since the scan: read this gap */
						int rr = list_read(l, at, rs);
						if (rr)
							return rr;
						at = rs;
						goto run;
					}
					hole.pme = e & ~ML_PME_PFN_MASK;
					have_hole = true;
				}
				list_page(l, at, &hole, (rs - at) / PG);
				at = rs;
			}
run:
			if (re > at) {
				int r = list_read(l, at, re);
				if (r)
					return r;
				at = re;
			}
		}
		if (next <= o.start)
			break;
		o.start = next;
	}
	return 0;
}

/* Lists [a, b), all inside one mapping (or entirely outside every mapping: @mapped false). */
static int list_span(lister *l, uint64_t a, uint64_t b, bool mapped)
{
	if (!mapped) {
		/* no mapping: pagemap reads 0 there, known without reading 8 bytes a page */
		static const pstate none = { 0, 0, 0 };
		list_page(l, a, &none, (b - a) / PG);
		return 0;
	}
	return list_mapped(l, a, b);
}

/* The first page address where pagemap has no entries (the top of the user address space). */
static int pagemap_top(pagemap_ctx *c, uint64_t *ret)
{
	uint64_t lo = 0, hi = UINT64_C(1) << 52; /* in pages: entries of lo exist, of hi do not */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2, e;
		ssize_t r = ml_pagemap_read(c->pm, mid * PG, &e, 1);
		if (r < 0)
			return (int)r;
		if (r)
			lo = mid;
		else
			hi = mid;
	}
	*ret = hi * PG;
	return 0;
}

/*
 * Lists the runs of [lo, hi). The cost follows what is mapped: entries are read only
 * inside mappings; between them (and up to the top of the address space) pagemap holds
 * zeros, which are listed as such without reading them.
 */
int pagemap_list_range(pagemap_ctx *c)
{
	uint64_t lo = c->a.lo & ~(uint64_t)(PG - 1);
	uint64_t hi = c->a.hi > UINT64_MAX - (PG - 1) ? UINT64_MAX & ~(uint64_t)(PG - 1)
						   : (c->a.hi + PG - 1) & ~(uint64_t)(PG - 1);
	pid_t pid = ml_source_pid(c->src);
	bool pfn = ml_pagemap_pfn_visible(c->pm);
	ml_maps *maps;
	uint64_t top = 0;
	int r = ml_maps_read(c->proc, ML_MAPS_TEXT, &maps);
	if (r < 0)
		return cli_pid_error(pid, "cannot read mappings", r);
	r = pagemap_top(c, &top);
	if (r < 0) {
		ml_maps_free(maps);
		return cli_pid_error(pid, "reading pagemap", r);
	}
	json_writer j;
	if (c->a.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.pagemap-runs/1");
		JSON_KI64(&j, "pid", pid);
		JSON_KADDR(&j, "start", lo);
		JSON_KADDR(&j, "end", hi);
		JSON_KBOOL(&j, "pfn_visible", pfn);
		JSON_KBOOL(&j, "kpageflags", c->kp != NULL);
		json_key(&j, "runs");
		json_arr_begin(&j);
	} else {
		printf("%-14s %-14s %8s %-12s %s\n", "START", "END", "PAGES", "PFN", "FLAGS");
	}
	lister l = { .c = c, .j = &j, .pfn = pfn, .run_start = lo };
	uint64_t end = hi < top ? hi : top;
	size_t i = 0, n = ml_maps_count(maps);
	for (uint64_t a = lo; a < end && r == 0;) {
		while (i < n && ml_maps_get(maps, i)->end <= a)
			i++;
		const ml_vma *v = i < n ? ml_maps_get(maps, i) : NULL;
		bool in = v && v->start <= a;
		uint64_t b = !v ? end : in ? v->end : v->start;
		if (b > end)
			b = end;
		r = list_span(&l, a, b, in);
		a = b;
	}
	ml_maps_free(maps);
	if (r < 0)
		return cli_pid_error(pid, "reading pagemap", r);
	if (l.run_pages)
		emit_run(c, &j, pfn, l.run_start, l.run_pages, &l.first);
	if (c->a.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		fputc('\n', stdout);
	}
	return CLI_EXIT_OK;
}
