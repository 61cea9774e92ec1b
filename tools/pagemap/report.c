/* memlens pagemap: the per-mapping report (table, JSON, sorting) and its --svg map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/table.h"
#include "svg/pictures.h"
#include "pagemap/pagemap.h"

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

static int draw_map(pagemap_ctx *c, const char *spec, const pic_mapping *v, size_t n, size_t unread)
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
		.zero_unknown = live && !pagemap_known(c, true, C_ZERO),
		.thp_unknown = live && !pagemap_known(c, true, C_THP),
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
		if (!strcasecmp(key, live ? pagemap_live_names[x] : pagemap_run_names[x]) ||
		    !strcasecmp(key, live ? pagemap_live_heads[x] : pagemap_run_heads[x]))
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

int pagemap_report(pagemap_ctx *c, const char *spec)
{
	ml_maps *m;
	int r = ml_source_maps(c->src, &m);
	if (r < 0)
		return cli_pid_error(ml_source_pid(c->src), "cannot read mappings", r);
	bool live = c->proc != NULL;
	size_t nc = live ? (c->kp ? C_NLIVE : C_FIRST_KPAGE) : C_NSNAP;
	const char *const *names = live ? pagemap_live_names : pagemap_run_names;
	const char *const *heads = live ? pagemap_live_heads : pagemap_run_heads;
	counts tot = { { 0 } };
	int rc = CLI_EXIT_OK;
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
		return cli_pid_error(ml_source_pid(c->src), "pagemap", -ENOMEM);
	}
	if (live && nmaps) {
		r = pagemap_count_live(c, m, 0, nmaps - 1, all);
		if (r < 0 && r != -ESRCH) {
			/* mapping by mapping, to name the one that fails */
			memset(all, 0, nmaps * sizeof(*all));
			c->npend = 0;
			for (size_t i = 0; i < nmaps && r != -ESRCH; i++) {
				r = pagemap_count_live(c, m, i, i, all);
				if (r < 0 && r != -ESRCH) {
					const ml_vma *v = ml_maps_get(m, i);
					cli_warn("%s: mapping %llx-%llx: %s", spec, (unsigned long long)v->start,
						 (unsigned long long)v->end, ml_strerror(r));
					rc = CLI_EXIT_PARTIAL;
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
			return cli_pid_error(ml_source_pid(c->src), "reading pages", r);
		}
	}
	/* every mapping's counts first (a snapshot's are read here), then the rows in order */
	size_t *order = calloc(nmaps ? nmaps : 1, sizeof(*order)), nshown = 0;
	int col = -1;
	if (c->a.sort && (col = sort_column(c->a.sort, live, nc)) == -2) {
		rc = cli_usage_error(&pagemap_cmd, "--sort: no column '%s' %s", c->a.sort,
				     live ? "(present, swapped, zero, thp, file, exclusive, mapped, addr, ...)"
					     : "in a snapshot (data, zero, unpopulated, swapped, excluded, unreadable, mapped, addr)");
		nmaps = 0;
	}
	if (!order) {
		rc = cli_pid_error(ml_source_pid(c->src), "pagemap", -ENOMEM);
		nmaps = 0;
	}
	for (size_t i = 0; i < nmaps; i++) {
		const ml_vma *v = ml_maps_get(m, i);
		counts *k = &all[i];
		if (!live) {
			r = pagemap_count_runs(c, v->start, v->end, k);
			if (r == -ESRCH) {
				rc = cli_pid_error(ml_source_pid(c->src), "reading pages", r);
				break;
			}
			if (r < 0) {
				cli_warn("%s: mapping %llx-%llx: %s", spec, (unsigned long long)v->start,
					 (unsigned long long)v->end, ml_strerror(r));
				rc = CLI_EXIT_PARTIAL;
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
	if (rc == CLI_EXIT_ERROR || rc == CLI_EXIT_USAGE) {
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
	json_writer j;
	table *t = NULL;
	if (c->a.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.pagemap/1");
		JSON_KI64(&j, "pid", ml_source_pid(c->src));
		JSON_KSTR(&j, "source", live ? "live" : "snapshot");
		if (live) {
			JSON_KSTR(&j, "method", c->a.emulate || !ml_pagemap_has_scan(c->pm) ? "pagemap" : "PAGEMAP_SCAN");
			JSON_KBOOL(&j, "pfn_visible", ml_pagemap_pfn_visible(c->pm));
			JSON_KBOOL(&j, "kpageflags", c->kp != NULL);
		}
		JSON_KU64(&j, "page_size", PG);
		json_key(&j, "mappings");
		json_arr_begin(&j);
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
		t = table_new(k, h, right);
		if (!t) {
			free(order);
			free(pics);
			free(all);
			free(bad);
			ml_maps_free(m);
			return CLI_EXIT_ERROR;
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
			json_obj_begin(&j);
			JSON_KADDR(&j, "start", v->start);
			JSON_KADDR(&j, "end", v->end);
			JSON_KSTR(&j, "perms", perms);
			JSON_KSTR(&j, "kind", ml_vma_kind_name(v->kind));
			json_key(&j, "name");
			json_str(&j, v->name ? v->name : "", v->name ? v->name_len : 0);
			for (size_t x = 0; x < nc; x++)
				pagemap_put_json(c, &j, live, x, names[x], k.v[x]);
			json_obj_end(&j);
		} else {
			char range[48], nums[24][32];
			const char *cells[24];
			size_t q = 0;
			snprintf(range, sizeof(range), "%012llx-%012llx", (unsigned long long)v->start,
				 (unsigned long long)v->end);
			cells[q++] = range;
			cells[q++] = perms;
			for (size_t x = 0; x < nc; x++)
				cells[q++] = pagemap_known(c, live, x) ? pagemap_fmt_count(c, nums[x], k.v[x]) : "-";
			char *nm = cli_vma_name(v->name, v->name_len, v->deleted);
			cells[q++] = nm ? nm : "?";
			table_add(t, cells);
			free(nm);
		}
	}
	if (c->a.json) {
		json_arr_end(&j);
		json_key(&j, "totals");
		json_obj_begin(&j);
		for (size_t x = 0; x < nc; x++)
			pagemap_put_json(c, &j, live, x, names[x], tot.v[x]);
		json_obj_end(&j);
		json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		char nums[24][32];
		const char *cells[24];
		size_t q = 0;
		cells[q++] = "total";
		cells[q++] = "";
		for (size_t x = 0; x < nc; x++)
			cells[q++] = pagemap_known(c, live, x) ? pagemap_fmt_count(c, nums[x], tot.v[x]) : "-";
		cells[q++] = "";
		table_rule(t);
		table_add(t, cells);
		table_print(t, stdout);
		table_free(t);
	}
	if (pics && rc != CLI_EXIT_ERROR) {
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
