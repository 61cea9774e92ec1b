/* memlens pagemap: per-mapping page-state breakdown, and a run-length page listing of one range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/table.h"

#define PG 4096u

int cmd_pagemap(int argc, char **argv);
#define ENTRY_CHUNK 65536u

enum { OPT_JSON = 256, OPT_BYTES, OPT_ADDR, OPT_NOKPAGE, OPT_EMULATE, OPT_POPULATED, OPT_PAGES };

static const ml_opt opts[] = {
	{ "json", OPT_JSON, 0, NULL, "one JSON document (schema memlens.pagemap/1)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts, also on a terminal" },
	{ "pages", OPT_PAGES, 0, NULL, "counts in pages instead of sizes" },
	{ "addr", OPT_ADDR, 1, "A-B", "list the page runs of [A, B) (hex), like page-types -l" },
	{ "populated", OPT_POPULATED, 0, NULL, "only mappings with present or swapped pages" },
	{ "no-kpage", OPT_NOKPAGE, 0, NULL, "do not read /proc/kpageflags and kpagecount (root)" },
	{ "emulate", OPT_EMULATE, 0, NULL, "find pages with plain pagemap reads, not PAGEMAP_SCAN" },
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd cmd = {
	.name = "pagemap",
	.usage = "[options] <PID | snapshot>",
	.summary = "Counts, per mapping, the pages that are present, swapped, mapped to the zero page, "
		   "in transparent huge pages, file-backed, exclusive, soft-dirty and uffd write-protected; "
		   "as root also KSM, dirty, LRU, active, referenced, idle and shared pages from "
		   "/proc/kpageflags and /proc/kpagecount. Nothing is faulted in. With --addr, lists the "
		   "runs of pages of one range with their flags and PFNs. For a snapshot, counts pages "
		   "by what the snapshot holds (data, zero, unpopulated, excluded, unreadable).",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};

typedef struct args {
	bool json, bytes, pages, populated, nokpage, emulate, have_addr;
	uint64_t lo, hi;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->bytes = true; break;
	case OPT_PAGES: a->pages = true; break;
	case OPT_POPULATED: a->populated = true; break;
	case OPT_NOKPAGE: a->nokpage = true; break;
	case OPT_EMULATE: a->emulate = true; break;
	case OPT_ADDR:
		if (!ml_cli_parse_range(arg, &a->lo, &a->hi) || a->hi <= a->lo) {
			ml_cli_usage_error(&cmd, "bad range '%s' (want A-B, hex, A < B)", arg);
			return -1;
		}
		a->have_addr = true;
		break;
	default: return -1;
	}
	return 0;
}

/* ---- counters ---- */

enum {
	C_MAPPED, C_PRESENT, C_SWAPPED, C_ZERO, C_THP, C_FILE, C_EXCL, C_SDIRTY, C_UFFDWP, C_GUARD,
	C_KSM, C_DIRTY, C_LRU, C_ACTIVE, C_REFERENCED, C_IDLE, C_SHARED,
	C_NLIVE,
};
static const char *const live_names[C_NLIVE] = {
	"mapped", "present", "swapped", "zero", "thp", "file", "exclusive", "soft_dirty", "uffd_wp", "guard",
	"ksm", "dirty", "lru", "active", "referenced", "idle", "shared",
};
static const char *const live_heads[C_NLIVE] = {
	"MAPPED", "PRESENT", "SWAP", "ZERO", "THP", "FILE", "EXCL", "SDIRTY", "UFFDWP", "GUARD",
	"KSM", "DIRTY", "LRU", "ACTIVE", "REF", "IDLE", "SHARED",
};
#define C_FIRST_KPAGE C_KSM

typedef struct counts {
	uint64_t v[C_NLIVE > ML_RUN_KIND_COUNT + 1 ? C_NLIVE : ML_RUN_KIND_COUNT + 1];
} counts;

typedef struct ctx {
	args a;
	ml_source *src;
	const ml_proc *proc; /* NULL for a snapshot */
	ml_pagemap *pm;
	ml_kpage *kp;        /* NULL unless root and wanted */
	uint64_t scan_cats;
	uint64_t *ent, *pfn, *kf, *kc;
} ctx;

/* Per-page facts that need the entries: exclusive, uffd-wp, and the kpage counters. */
static int count_entries(ctx *c, uint64_t s, uint64_t n, bool present, counts *k)
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
		size_t np = 0;
		for (size_t i = 0; i < m; i++) {
			uint64_t e = c->ent[i];
			k->v[C_EXCL] += ml_pme_exclusive(e);
			k->v[C_UFFDWP] += ml_pme_uffd_wp(e);
			c->pfn[i] = 0;
			if (present && ml_pme_present(e) && !ml_pagemap_pfn_is_zero(ml_pme_pfn(e))) {
				c->pfn[i] = ml_pme_pfn(e);
				np++;
			}
		}
		if (c->kp && np) {
			int r1 = ml_kpage_lookup(c->kp, ML_KPAGE_FLAGS, c->pfn, m, c->kf);
			int r2 = ml_kpage_lookup(c->kp, ML_KPAGE_COUNT, c->pfn, m, c->kc);
			if (r1 < 0 || r2 < 0)
				return r1 < 0 ? r1 : r2;
			for (size_t i = 0; i < m; i++) {
				if (!c->pfn[i])
					continue;
				uint64_t f = c->kf[i];
				k->v[C_KSM] += (f >> ML_KPF_KSM) & 1;
				k->v[C_DIRTY] += (f >> ML_KPF_DIRTY) & 1;
				k->v[C_LRU] += (f >> ML_KPF_LRU) & 1;
				k->v[C_ACTIVE] += (f >> ML_KPF_ACTIVE) & 1;
				k->v[C_REFERENCED] += (f >> ML_KPF_REFERENCED) & 1;
				k->v[C_IDLE] += (f >> ML_KPF_IDLE) & 1;
				k->v[C_SHARED] += c->kc[i] > 1;
			}
		}
		s += (uint64_t)m * PG;
		n -= m;
	}
	return 0;
}

/* Counts [s, e) of a live process: the scan finds populated runs, entries are read only there. */
static int count_live(ctx *c, uint64_t s, uint64_t e, counts *k)
{
	k->v[C_MAPPED] += (e - s) / PG;
	ML_OPTS(ml_scan_opts, o, .start = s, .end = e, .force_emulation = c->a.emulate,
		.category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED,
		.return_mask = c->scan_cats & (ML_PAGE_PRESENT | ML_PAGE_SWAPPED | ML_PAGE_PFNZERO | ML_PAGE_HUGE |
					       ML_PAGE_FILE | ML_PAGE_SOFT_DIRTY | ML_PAGE_GUARD));
	ml_page_region v[512];
	while (o.start < e) {
		uint64_t next;
		ssize_t n = ml_pagemap_scan(c->pm, &o, v, 512, &next);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i < n; i++) {
			uint64_t cat = v[i].categories, np = (v[i].end - v[i].start) / PG;
			bool present = cat & ML_PAGE_PRESENT;
			if (present) {
				k->v[C_PRESENT] += np;
				if (cat & ML_PAGE_PFNZERO)
					k->v[C_ZERO] += np;
				else if (cat & ML_PAGE_HUGE)
					k->v[C_THP] += np;
			} else if (cat & ML_PAGE_GUARD) {
				k->v[C_GUARD] += np;
				continue;
			} else {
				k->v[C_SWAPPED] += np;
			}
			if (cat & ML_PAGE_FILE)
				k->v[C_FILE] += np;
			if (cat & ML_PAGE_SOFT_DIRTY)
				k->v[C_SDIRTY] += np;
			int r = count_entries(c, v[i].start, np, present, k);
			if (r < 0)
				return r;
		}
		if (next <= o.start)
			break;
		o.start = next;
	}
	return 0;
}

/* Counts [s, e) of any source by run kind (index = kind + 1; v[0] = mapped). */
static int count_runs(ctx *c, uint64_t s, uint64_t e, counts *k)
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

/* The snapshot columns: mapped, then the kinds a snapshot stores (ML_RUN_FILE is live only). */
#define C_NSNAP (ML_RUN_UNREADABLE + 2)
static const char *const run_names[C_NSNAP] = {
	"mapped", "data", "zero", "unpopulated", "swapped", "excluded", "unreadable",
};
static const char *const run_heads[C_NSNAP] = {
	"MAPPED", "DATA", "ZERO", "UNPOP", "SWAP", "EXCLUDED", "UNREAD",
};

static const char *fmt_count(ctx *c, char buf[32], uint64_t pages)
{
	if (c->a.pages) {
		snprintf(buf, 32, "%llu", (unsigned long long)pages);
		return buf;
	}
	return ml_cli_fmt_size(buf, pages * PG, !c->a.bytes && !c->a.json && ml_cli_stdout_tty());
}

/* ---- the per-mapping report ---- */

static int report(ctx *c, const char *spec)
{
	ml_maps *m;
	int r = ml_source_maps(c->src, &m);
	if (r < 0)
		return ml_cli_pid_error(ml_source_pid(c->src), "cannot read mappings", r);
	bool live = c->proc != NULL;
	size_t nc = live ? (c->kp ? C_NLIVE : C_FIRST_KPAGE) : C_NSNAP;
	const char *const *names = live ? live_names : run_names;
	const char *const *heads = live ? live_heads : run_heads;
	ml_json j;
	ml_table *t = NULL;
	if (c->a.json) {
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.pagemap/1");
		ML_JSON_KI64(&j, "pid", ml_source_pid(c->src));
		ML_JSON_KSTR(&j, "source", live ? "live" : "snapshot");
		if (live) {
			ML_JSON_KSTR(&j, "method", c->a.emulate || !ml_pagemap_has_scan(c->pm) ? "pagemap" : "PAGEMAP_SCAN");
			ML_JSON_KBOOL(&j, "pfn_visible", ml_pagemap_pfn_visible(c->pm));
			ML_JSON_KBOOL(&j, "kpageflags", c->kp != NULL);
		}
		ML_JSON_KU64(&j, "page_size", PG);
		ml_json_key(&j, "mappings");
		ml_json_arr_begin(&j);
	} else {
		const char *h[24];
		bool right[24];
		size_t k = 0;
		h[k] = "ADDRESS"; right[k++] = false;
		h[k] = "PERM"; right[k++] = false;
		for (size_t i = 0; i < nc; i++) {
			h[k] = heads[i];
			right[k++] = true;
		}
		h[k] = "MAPPING"; right[k++] = false;
		t = ml_table_new(k, h, right);
		if (!t) {
			ml_maps_free(m);
			return ML_EXIT_ERROR;
		}
	}
	counts tot = { { 0 } };
	int rc = ML_EXIT_OK;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		counts k = { { 0 } };
		r = live ? count_live(c, v->start, v->end, &k) : count_runs(c, v->start, v->end, &k);
		if (r == -ESRCH) {
			rc = ml_cli_pid_error(ml_source_pid(c->src), "reading pages", r);
			break;
		}
		if (r < 0) {
			ml_cli_warn("%s: mapping %llx-%llx: %s", spec, (unsigned long long)v->start,
				    (unsigned long long)v->end, ml_strerror(r));
			rc = ML_EXIT_PARTIAL;
			continue;
		}
		bool populated = live ? k.v[C_PRESENT] || k.v[C_SWAPPED] : k.v[1] || k.v[2] || k.v[4];
		if (c->a.populated && !populated)
			continue;
		for (size_t x = 0; x < nc; x++)
			tot.v[x] += k.v[x];
		char perms[5];
		ml_vma_perms_str(v->perms, perms);
		if (c->a.json) {
			ml_json_obj_begin(&j);
			ML_JSON_KADDR(&j, "start", v->start);
			ML_JSON_KADDR(&j, "end", v->end);
			ML_JSON_KSTR(&j, "perms", perms);
			ML_JSON_KSTR(&j, "kind", ml_vma_kind_name(v->kind));
			ml_json_key(&j, "name");
			ml_json_str(&j, v->name ? v->name : "", v->name ? v->name_len : 0);
			for (size_t x = 0; x < nc; x++)
				ML_JSON_KU64(&j, names[x], k.v[x] * PG);
			ml_json_obj_end(&j);
		} else {
			char range[48], nums[24][32];
			const char *cells[24];
			size_t q = 0;
			snprintf(range, sizeof(range), "%012llx-%012llx", (unsigned long long)v->start,
				 (unsigned long long)v->end);
			cells[q++] = range;
			cells[q++] = perms;
			for (size_t x = 0; x < nc; x++)
				cells[q++] = fmt_count(c, nums[x], k.v[x]);
			char *nm = strndup(v->name ? v->name : "", v->name ? v->name_len : 0);
			for (char *p = nm; p && *p; p++)
				if (*p == '\n')
					*p = '?';
			cells[q++] = nm && *nm ? nm : (v->kind == ML_VMA_ANON ? "[anon]" : ml_vma_kind_name(v->kind));
			ml_table_add(t, cells);
			free(nm);
		}
	}
	if (c->a.json) {
		ml_json_arr_end(&j);
		ml_json_key(&j, "totals");
		ml_json_obj_begin(&j);
		for (size_t x = 0; x < nc; x++)
			ML_JSON_KU64(&j, names[x], tot.v[x] * PG);
		ml_json_obj_end(&j);
		ml_json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		char nums[24][32];
		const char *cells[24];
		size_t q = 0;
		cells[q++] = "total";
		cells[q++] = "";
		for (size_t x = 0; x < nc; x++)
			cells[q++] = fmt_count(c, nums[x], tot.v[x]);
		cells[q++] = "";
		ml_table_rule(t);
		ml_table_add(t, cells);
		ml_table_print(t, stdout);
		ml_table_free(t);
	}
	ml_maps_free(m);
	return rc;
}

/* ---- run-length listing of one range (live) ---- */

/* Flags of one page for the listing: pagemap bits in the high half, kpageflags below. */
typedef struct pstate {
	uint64_t pme;  /* pagemap flag bits (55-63), no PFN */
	uint64_t kpf;  /* kpageflags, 0 without */
	uint64_t pfn;
} pstate;

static void flag_names(const ctx *c, const pstate *s, char *out, size_t cap, ml_json *j)
{
	static const struct { uint64_t bit; const char *name; } pm[] = {
		{ ML_PME_PRESENT, "present" }, { ML_PME_SWAPPED, "swapped" }, { ML_PME_FILE, "file" },
		{ ML_PME_GUARD, "guard" }, { ML_PME_UFFD_WP, "uffd_wp" }, { ML_PME_EXCLUSIVE, "exclusive" },
		{ ML_PME_SOFT_DIRTY, "soft_dirty" },
	};
	size_t len = 0;
	out[0] = '\0';
#define ADD(nm) do { \
		if (j) ml_json_cstr(j, nm); \
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
			if ((s->kpf >> b) & 1 && ml_kpf_name(b))
				ADD(ml_kpf_name(b));
#undef ADD
	if (len >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

static void emit_run(ctx *c, ml_json *j, bool pfn, uint64_t start, uint64_t pages, const pstate *first)
{
	char fl[512];
	uint64_t end = start + pages * PG;
	if (c->a.json) {
		ml_json_obj_begin(j);
		ML_JSON_KADDR(j, "start", start);
		ML_JSON_KADDR(j, "end", end);
		ML_JSON_KU64(j, "pages", pages);
		if (pfn && first->pfn)
			ML_JSON_KU64(j, "pfn", first->pfn);
		ml_json_key(j, "flags");
		ml_json_arr_begin(j);
		flag_names(c, first, fl, sizeof(fl), j);
		ml_json_arr_end(j);
		ml_json_obj_end(j);
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

static int list_range(ctx *c)
{
	uint64_t lo = c->a.lo & ~(uint64_t)(PG - 1), hi = (c->a.hi + PG - 1) & ~(uint64_t)(PG - 1);
	bool pfn = ml_pagemap_pfn_visible(c->pm);
	ml_json j;
	if (c->a.json) {
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.pagemap-runs/1");
		ML_JSON_KI64(&j, "pid", ml_source_pid(c->src));
		ML_JSON_KADDR(&j, "start", lo);
		ML_JSON_KADDR(&j, "end", hi);
		ML_JSON_KBOOL(&j, "pfn_visible", pfn);
		ML_JSON_KBOOL(&j, "kpageflags", c->kp != NULL);
		ml_json_key(&j, "runs");
		ml_json_arr_begin(&j);
	} else {
		printf("%-14s %-14s %8s %-12s %s\n", "START", "END", "PAGES", "PFN", "FLAGS");
	}
	pstate cur = { 0 }, first = { 0 };
	uint64_t run_start = lo, run_pages = 0;
	for (uint64_t a = lo; a < hi;) {
		size_t m = (size_t)((hi - a) / PG < ENTRY_CHUNK ? (hi - a) / PG : ENTRY_CHUNK);
		ssize_t r = ml_pagemap_read(c->pm, a, c->ent, m);
		if (r < 0)
			return ml_cli_pid_error(ml_source_pid(c->src), "reading pagemap", (int)r);
		m = (size_t)r;
		if (!m)
			break;
		for (size_t i = 0; i < m; i++)
			c->pfn[i] = ml_pme_present(c->ent[i]) ? ml_pme_pfn(c->ent[i]) : 0;
		if (c->kp && ml_kpage_lookup(c->kp, ML_KPAGE_FLAGS, c->pfn, m, c->kf) < 0)
			memset(c->kf, 0, m * 8);
		for (size_t i = 0; i < m; i++) {
			pstate s = { c->ent[i] & ~ML_PME_PFN_MASK, c->kp ? c->kf[i] : 0, c->pfn[i] };
			if (run_pages && continues(pfn, &cur, &s)) {
				run_pages++;
				cur = s;
				continue;
			}
			if (run_pages)
				emit_run(c, &j, pfn, run_start, run_pages, &first);
			run_start = a + i * PG;
			run_pages = 1;
			cur = first = s;
		}
		a += (uint64_t)m * PG;
	}
	if (run_pages)
		emit_run(c, &j, pfn, run_start, run_pages, &first);
	if (c->a.json) {
		ml_json_arr_end(&j);
		ml_json_obj_end(&j);
		fputc('\n', stdout);
	}
	return ML_EXIT_OK;
}

int cmd_pagemap(int argc, char **argv)
{
	ctx c = { 0 };
	int first;
	int r = ml_cli_parse(&cmd, argc, argv, on_opt, &c.a, &first);
	if (r)
		return r > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	const char *spec = argv[first];
	pid_t pid = 0;
	r = ml_cli_source_open(spec, &c.src);
	if (r)
		return r;
	pid = ml_source_pid(c.src);
	c.proc = ml_source_proc(c.src);
	int rc;
	if (c.proc) {
		r = ml_pagemap_open(c.proc, &c.pm);
		if (r < 0) {
			rc = ml_cli_pid_error(pid, "cannot open pagemap", r);
			goto out;
		}
		c.scan_cats = ml_pagemap_scan_categories(c.pm, c.a.emulate || !ml_pagemap_has_scan(c.pm));
		if (!c.a.nokpage && ml_pagemap_pfn_visible(c.pm)) {
			r = ml_kpage_open(ML_KPAGE_FLAGS | ML_KPAGE_COUNT, &c.kp);
			if (r < 0) {
				ml_cli_warn("no physical page flags: /proc/kpageflags: %s", ml_strerror(r));
				c.kp = NULL;
			}
		}
		c.ent = malloc(ENTRY_CHUNK * 8);
		c.pfn = malloc(ENTRY_CHUNK * 8);
		c.kf = malloc(ENTRY_CHUNK * 8);
		c.kc = malloc(ENTRY_CHUNK * 8);
		if (!c.ent || !c.pfn || !c.kf || !c.kc) {
			rc = ml_cli_pid_error(pid, "pagemap", -ENOMEM);
			goto out;
		}
	} else if (c.a.have_addr) {
		rc = ml_cli_usage_error(&cmd, "--addr needs a live process (a snapshot keeps no page flags)");
		goto out;
	}
	rc = c.a.have_addr ? list_range(&c) : report(&c, spec);
out:
	free(c.ent);
	free(c.pfn);
	free(c.kf);
	free(c.kc);
	ml_kpage_free(c.kp);
	ml_pagemap_free(c.pm);
	if (rc == ML_EXIT_OK && c.src && ml_source_partial(c.src))
		rc = ML_EXIT_PARTIAL; /* an incomplete core: said when opened */
	ml_source_free(c.src);
	return rc;
}
