/* memlens pagemap: per-mapping page-state breakdown, and a run-length page listing of one range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"
#include "common/table.h"
#include "svg/pictures.h"

#define PG 4096u

int cmd_pagemap(int argc, char **argv);
#define ENTRY_CHUNK 16384u  /* pagemap entries per read (64 MiB of address space) */
#define KPAGE_BATCH 65536u  /* PFNs per kpage lookup: more sort into fewer windows */
#define REGIONS 4096u       /* page runs per scan call */

enum { OPT_JSON = 256, OPT_BYTES, OPT_ADDR, OPT_NOKPAGE, OPT_EMULATE, OPT_POPULATED, OPT_PAGES, OPT_SVG,
       OPT_SVG_AXIS, OPT_SORT };

static const ml_opt opts[] = {
	{ "json", OPT_JSON, 0, NULL, "one JSON document (schema memlens.pagemap/1)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts, also on a terminal" },
	{ "pages", OPT_PAGES, 0, NULL, "counts in pages instead of sizes" },
	{ "addr", OPT_ADDR, 1, "A-B", "list the page runs of [A, B) (hex), like page-types -l" },
	{ "populated", OPT_POPULATED, 0, NULL, "only mappings with present or swapped pages" },
	{ "sort", 's', 1, "KEY", "order rows by a column, largest first (present, swapped, zero, thp, file, mapped, ...; data, unpopulated, excluded for a snapshot) or addr" },
	{ "reverse", 'r', 0, NULL, "reverse the order (smallest first; with addr, highest address first)" },
	{ "no-kpage", OPT_NOKPAGE, 0, NULL, "do not read /proc/kpageflags and kpagecount (root)" },
	{ "emulate", OPT_EMULATE, 0, NULL, "find pages with plain pagemap reads, not PAGEMAP_SCAN" },
	ML_SEL_OPT_PID,
	ML_SEL_OPT_PGREP,
	ML_SEL_OPT_FULL_LONG, /* -f is --force, as in every command that writes a file */
	ML_SEL_OPT_ALL,
	{ "svg", OPT_SVG, 1, "FILE", "also draw the address space as a map into FILE (SVG)" },
	{ "svg-axis", OPT_SVG_AXIS, 1, "AXIS", "folded (default: mappings to scale, gaps folded) or log (box width by log2 of size)" },
	{ "force", 'f', 0, NULL, "replace an existing regular --svg file (never a symlink, directory, device or FIFO)" },
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd cmd = {
	.name = "pagemap",
	.usage = "[options] <PID | NAME | snapshot>\n       memlens pagemap [options] -p PID,... | --pgrep REGEX [-f] | --all",
	.summary = "Counts, per mapping, the pages that are present, swapped, mapped to the zero page, "
		   "in transparent huge pages, file-backed, exclusive, soft-dirty and uffd write-protected; "
		   "as root also KSM, dirty, LRU, active, referenced, idle and shared pages from "
		   "/proc/kpageflags and /proc/kpagecount. Nothing is faulted in. With --addr, lists the "
		   "runs of pages of one range with their flags and PFNs. For a snapshot, counts pages "
		   "by what the snapshot holds (data, zero, unpopulated, excluded, unreadable).",
	.opts = opts,
	.min_args = 0,
	.max_args = -1,
};

typedef struct args {
	bool json, bytes, pages, populated, nokpage, emulate, have_addr, force, svg_log;
	uint64_t lo, hi;
	ml_sel sel;
	const char *svg;
	const char *sort; /* a column name, resolved once the source's columns are known */
	bool reverse;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	if (key == 'f') { /* --force here; --full is long-only (select.c takes -f as --full) */
		a->force = true;
		return 0;
	}
	int sr = ml_sel_opt(&a->sel, &cmd, key, arg);
	if (sr)
		return sr < 0 ? -1 : 0;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->bytes = true; break;
	case OPT_PAGES: a->pages = true; break;
	case OPT_POPULATED: a->populated = true; break;
	case OPT_NOKPAGE: a->nokpage = true; break;
	case OPT_EMULATE: a->emulate = true; break;
	case 'f': a->force = true; break;
	case 's': a->sort = arg; break;
	case 'r': a->reverse = true; break;
	case OPT_SVG:
		if (!*arg || !strcmp(arg, "-")) {
			ml_cli_usage_error(&cmd, "--svg needs a file name");
			return -1;
		}
		a->svg = arg;
		break;
	case OPT_SVG_AXIS:
		if (strcmp(arg, "folded") && strcmp(arg, "log")) {
			ml_cli_usage_error(&cmd, "--svg-axis must be folded or log, not '%s'", arg);
			return -1;
		}
		a->svg_log = !strcmp(arg, "log");
		break;
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
	C_XFILE = C_NLIVE, /* present file pages, neither zero nor THP (the picture's classes) */
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
	uint64_t v[C_NLIVE + 1 > ML_RUN_KIND_COUNT + 1 ? C_NLIVE + 1 : ML_RUN_KIND_COUNT + 1];
} counts;

typedef struct ctx {
	args a;
	ml_source *src;
	const ml_proc *proc; /* NULL for a snapshot */
	ml_pagemap *pm;
	ml_kpage *kp;        /* NULL unless root and wanted */
	uint64_t scan_cats;
	uint64_t *ent, *pfn, *kf, *kc;
	uint32_t *owner;     /* the mapping each queued PFN counts for */
	size_t npend;        /* queued PFNs */
	ml_page_region *reg;
} ctx;

/*
 * The kpage counters need one lookup per present page. PFNs are gathered across runs and
 * mappings (each with the index of the mapping it counts for) and looked up a batch at a
 * time, so that the library can sort them and read kpageflags and kpagecount by window.
 */
static int kpage_flush(ctx *c, counts *k)
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
static int count_entries(ctx *c, uint64_t s, uint64_t n, bool present, counts *k, size_t mi)
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
static int count_region(ctx *c, uint64_t s, uint64_t e, uint64_t cat, counts *k, size_t mi)
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
static int count_live(ctx *c, const ml_maps *m, size_t first, size_t last, counts *k)
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

/*
 * Whether counter @x was measured: the plain-read path tells zero pages and PMD mappings
 * only with visible PFNs (and kpageflags for THPs), and a count it could not take is
 * shown as unknown ("-", JSON null), never as 0.
 */
static bool known(const ctx *c, bool live, size_t x)
{
	if (!live)
		return true;
	if (x == C_ZERO)
		return c->scan_cats & ML_PAGE_PFNZERO;
	if (x == C_THP)
		return c->scan_cats & ML_PAGE_HUGE;
	return true;
}

static void put_json(const ctx *c, ml_json *j, bool live, size_t x, const char *name, uint64_t pages)
{
	ml_json_key(j, name);
	if (known(c, live, x))
		ml_json_u64(j, pages * PG);
	else
		ml_json_null(j);
}

/* ---- the picture ---- */

/* The picture's classes of one mapping, each page in exactly one. */
static void pic_classes(bool live, const counts *k, pic_mapping *p)
{
	uint64_t *g = p->pages, mapped = k->v[0];
	if (live) {
		g[PIC_ZERO] = k->v[C_ZERO];
		g[PIC_THP] = k->v[C_THP];
		g[PIC_FILE] = k->v[C_XFILE];
		g[PIC_PRESENT] = k->v[C_PRESENT] - g[PIC_ZERO] - g[PIC_THP] - g[PIC_FILE];
		g[PIC_SWAPPED] = k->v[C_SWAPPED];
	} else {
		g[PIC_PRESENT] = k->v[1 + ML_RUN_DATA];
		g[PIC_ZERO] = k->v[1 + ML_RUN_ZERO];
		g[PIC_SWAPPED] = k->v[1 + ML_RUN_SWAPPED];
		g[PIC_EXCLUDED] = k->v[1 + ML_RUN_EXCLUDED] + k->v[1 + ML_RUN_UNREADABLE];
	}
	uint64_t used = 0;
	for (int i = 0; i < PIC_NCLASS; i++)
		used += g[i];
	g[PIC_UNPOP] = mapped > used ? mapped - used : 0;
}

static int draw_map(ctx *c, const char *spec, const pic_mapping *v, size_t n, size_t unread)
{
	char title[300], comm[64] = "";
	bool live = c->proc != NULL;
	char *buf;
	size_t len;
	if (live && ml_proc_read_file(c->proc, "comm", &buf, &len) == 0) {
		size_t k = 0;
		for (size_t i = 0; i < len && buf[i] != '\n' && k + 1 < sizeof(comm); i++)
			comm[k++] = buf[i];
		comm[k] = '\0';
		free(buf);
	}
	if (live)
		snprintf(title, sizeof(title), "pid %d (%s)", (int)ml_source_pid(c->src), comm);
	else
		snprintf(title, sizeof(title), "%s (pid %d)", spec, (int)ml_source_pid(c->src));
	pic_map_opts o = {
		.title = title,
		.log_axis = c->a.svg_log,
		.snapshot = !live,
		.zero_unknown = live && !known(c, true, C_ZERO),
		.thp_unknown = live && !known(c, true, C_THP),
		.unread = unread,
	};
	return pic_map_write(c->a.svg, c->a.force, &o, v, n);
}

/* ---- the per-mapping report ---- */

/* The column --sort names (its JSON key or its heading, any case, "swap" for swapped, "size"
 * for mapped), -1 for addr, or -2 if there is none. */
static int sort_column(const char *key, bool live, size_t nc)
{
	if (!strcasecmp(key, "addr") || !strcasecmp(key, "address"))
		return -1;
	if (!strcasecmp(key, "size"))
		return 0;
	if (live && !strcasecmp(key, "swap"))
		return C_SWAPPED;
	if (!live && !strcasecmp(key, "swap"))
		return 1 + ML_RUN_SWAPPED;
	for (size_t x = 0; x < nc; x++)
		if (!strcasecmp(key, live ? live_names[x] : run_names[x]) ||
		    !strcasecmp(key, live ? live_heads[x] : run_heads[x]))
			return (int)x;
	return -2;
}

typedef struct sort_ctx {
	const counts *all;
	const ml_maps *m;
	int col;
	bool reverse;
} sort_ctx;

static int by_column(const void *pa, const void *pb, void *arg)
{
	const sort_ctx *sc = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int r = 0;
	if (sc->col >= 0) {
		uint64_t x = sc->all[a].v[sc->col], y = sc->all[b].v[sc->col];
		r = x > y ? -1 : x < y;
	}
	if (!r) /* ties, and addr: by address */
		r = ml_maps_get(sc->m, a)->start < ml_maps_get(sc->m, b)->start ? -1 : 1;
	return sc->reverse ? -r : r;
}

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
	counts tot = { { 0 } };
	int rc = ML_EXIT_OK;
	size_t nmaps = ml_maps_count(m);
	counts *all = calloc(nmaps ? nmaps : 1, sizeof(*all));
	bool *bad = calloc(nmaps ? nmaps : 1, sizeof(*bad));
	pic_mapping *pics = c->a.svg ? calloc(nmaps ? nmaps : 1, sizeof(*pics)) : NULL;
	size_t npics = 0;
	if (!all || !bad || (c->a.svg && !pics)) {
		free(pics);
		free(all);
		free(bad);
		ml_maps_free(m);
		return ml_cli_pid_error(ml_source_pid(c->src), "pagemap", -ENOMEM);
	}
	if (live && nmaps) {
		r = count_live(c, m, 0, nmaps - 1, all);
		if (r < 0 && r != -ESRCH) {
			/* mapping by mapping, to name the one that fails */
			memset(all, 0, nmaps * sizeof(*all));
			c->npend = 0;
			for (size_t i = 0; i < nmaps && r != -ESRCH; i++) {
				r = count_live(c, m, i, i, all);
				if (r < 0 && r != -ESRCH) {
					const ml_vma *v = ml_maps_get(m, i);
					ml_cli_warn("%s: mapping %llx-%llx: %s", spec, (unsigned long long)v->start,
						    (unsigned long long)v->end, ml_strerror(r));
					rc = ML_EXIT_PARTIAL;
					bad[i] = true;
				}
			}
		}
		if (r == -ESRCH) {
			/* nothing printed: a table of what was counted so far would look complete */
			free(pics);
			free(all);
			free(bad);
			ml_maps_free(m);
			return ml_cli_pid_error(ml_source_pid(c->src), "reading pages", r);
		}
	}
	/* every mapping's counts first (a snapshot's are read here), then the rows in order */
	size_t *order = calloc(nmaps ? nmaps : 1, sizeof(*order)), nshown = 0;
	int col = -1;
	if (c->a.sort && (col = sort_column(c->a.sort, live, nc)) == -2) {
		rc = ml_cli_usage_error(&cmd, "--sort: no column '%s' %s", c->a.sort,
					live ? "(present, swapped, zero, thp, file, exclusive, mapped, addr, ...)"
					     : "in a snapshot (data, zero, unpopulated, swapped, excluded, unreadable, mapped, addr)");
		nmaps = 0;
	}
	if (!order) {
		rc = ml_cli_pid_error(ml_source_pid(c->src), "pagemap", -ENOMEM);
		nmaps = 0;
	}
	for (size_t i = 0; i < nmaps; i++) {
		const ml_vma *v = ml_maps_get(m, i);
		counts *k = &all[i];
		if (!live) {
			r = count_runs(c, v->start, v->end, k);
			if (r == -ESRCH) {
				rc = ml_cli_pid_error(ml_source_pid(c->src), "reading pages", r);
				break;
			}
			if (r < 0) {
				ml_cli_warn("%s: mapping %llx-%llx: %s", spec, (unsigned long long)v->start,
					    (unsigned long long)v->end, ml_strerror(r));
				rc = ML_EXIT_PARTIAL;
				bad[i] = true;
				continue;
			}
		} else if (bad[i]) {
			continue;
		}
		bool populated = live ? k->v[C_PRESENT] || k->v[C_SWAPPED] : k->v[1] || k->v[2] || k->v[4];
		if (c->a.populated && !populated)
			continue;
		order[nshown++] = i;
		if (pics) { /* the picture is in address order, whatever the table's */
			pic_mapping *pm = &pics[npics++];
			pm->start = v->start;
			pm->end = v->end;
			pm->name = v->name ? v->name : "";
			pm->name_len = v->name ? v->name_len : 0;
			pm->deleted = v->deleted;
			ml_vma_perms_str(v->perms, pm->perms);
			pic_classes(live, k, pm);
		}
	}
	if (rc == ML_EXIT_ERROR || rc == ML_EXIT_USAGE) {
		free(order);
		free(pics);
		free(all);
		free(bad);
		ml_maps_free(m);
		return rc;
	}
	if (c->a.sort || c->a.reverse) {
		sort_ctx sc = { all, m, col, c->a.reverse };
		qsort_r(order, nshown, sizeof(*order), by_column, &sc);
	}
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
			free(order);
			free(pics);
			free(all);
			free(bad);
			ml_maps_free(m);
			return ML_EXIT_ERROR;
		}
	}
	for (size_t oi = 0; oi < nshown; oi++) {
		size_t i = order[oi];
		const ml_vma *v = ml_maps_get(m, i);
		const counts k = all[i];
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
				put_json(c, &j, live, x, names[x], k.v[x]);
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
				cells[q++] = known(c, live, x) ? fmt_count(c, nums[x], k.v[x]) : "-";
			char *nm = ml_cli_vma_name(v->name, v->name_len, v->deleted);
			cells[q++] = nm ? nm : "?";
			ml_table_add(t, cells);
			free(nm);
		}
	}
	if (c->a.json) {
		ml_json_arr_end(&j);
		ml_json_key(&j, "totals");
		ml_json_obj_begin(&j);
		for (size_t x = 0; x < nc; x++)
			put_json(c, &j, live, x, names[x], tot.v[x]);
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
			cells[q++] = known(c, live, x) ? fmt_count(c, nums[x], tot.v[x]) : "-";
		cells[q++] = "";
		ml_table_rule(t);
		ml_table_add(t, cells);
		ml_table_print(t, stdout);
		ml_table_free(t);
	}
	if (pics && rc != ML_EXIT_ERROR) {
		size_t unread = 0;
		for (size_t i = 0; i < nmaps; i++)
			unread += bad[i];
		int pr = draw_map(c, spec, pics, npics, unread);
		if (pr)
			rc = pr;
	}
	free(order);
	free(pics);
	free(all);
	free(bad);
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
			if ((s->kpf >> b) & 1 && ml_kpage_flag_name(b))
				ADD(ml_kpage_flag_name(b));
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

/* The run being built by the listing. */
typedef struct lister {
	ctx *c;
	ml_json *j;
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
	ctx *c = l->c;
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
	ctx *c = l->c;
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
static int pagemap_top(ctx *c, uint64_t *ret)
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
static int list_range(ctx *c)
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
		return ml_cli_pid_error(pid, "cannot read mappings", r);
	r = pagemap_top(c, &top);
	if (r < 0) {
		ml_maps_free(maps);
		return ml_cli_pid_error(pid, "reading pagemap", r);
	}
	ml_json j;
	if (c->a.json) {
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.pagemap-runs/1");
		ML_JSON_KI64(&j, "pid", pid);
		ML_JSON_KADDR(&j, "start", lo);
		ML_JSON_KADDR(&j, "end", hi);
		ML_JSON_KBOOL(&j, "pfn_visible", pfn);
		ML_JSON_KBOOL(&j, "kpageflags", c->kp != NULL);
		ml_json_key(&j, "runs");
		ml_json_arr_begin(&j);
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
		return ml_cli_pid_error(pid, "reading pagemap", r);
	if (l.run_pages)
		emit_run(c, &j, pfn, l.run_start, l.run_pages, &l.first);
	if (c->a.json) {
		ml_json_arr_end(&j);
		ml_json_obj_end(&j);
		fputc('\n', stdout);
	}
	return ML_EXIT_OK;
}

static int pagemap_one(args a, const char *spec)
{
	ctx c = { 0 };
	c.a = a;
	int r;
	pid_t pid = 0;
	if (c.a.svg && c.a.have_addr)
		return ml_cli_usage_error(&cmd, "--svg draws the whole address space; it does not go with --addr");
	if (c.a.svg && (r = ml_cli_output_check(c.a.svg, c.a.force)))
		return r;
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
		c.reg = malloc(REGIONS * sizeof(*c.reg));
		if (c.kp || c.a.have_addr) {
			c.pfn = malloc(KPAGE_BATCH * 8);
			c.kf = malloc(KPAGE_BATCH * 8);
			c.kc = malloc(KPAGE_BATCH * 8);
			c.owner = malloc(KPAGE_BATCH * sizeof(*c.owner));
		}
		if (!c.ent || !c.reg || ((c.kp || c.a.have_addr) && (!c.pfn || !c.kf || !c.kc || !c.owner))) {
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
	free(c.owner);
	free(c.reg);
	ml_kpage_free(c.kp);
	ml_pagemap_free(c.pm);
	if (rc == ML_EXIT_OK && c.src && ml_source_partial(c.src))
		rc = ML_EXIT_PARTIAL; /* an incomplete core: said when opened */
	ml_source_free(c.src);
	return rc;
}

static int pagemap_one_cb(void *argp, const char *spec) { return pagemap_one(*(const args *)argp, spec); }

int cmd_pagemap(int argc, char **argv)
{
	args a = { 0 };
	int first;
	int pr = ml_cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (pr != 0) {
		ml_sel_free(&a.sel);
		return pr > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	}
	return ml_sel_run(&a.sel, &cmd, argc, argv, first, a.json, pagemap_one_cb, &a);
}
