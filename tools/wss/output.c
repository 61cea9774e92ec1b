/* memlens wss: what a sample is shown as: text rows and --regions, JSON, CSV, Prometheus rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <time.h>

#include "common/json.h"
#include "common/prom.h"
#include "common/table.h"
#include "wss/wss.h"

const char *const wss_mode_names[] = { "oneshot", "repeat", "cumulative", "profile" };

/* The category a mapping kind is reported under in --regions. */
static const char *kind_group(ml_vma_kind k)
{
	switch (k) {
	case ML_VMA_HEAP: return "heap";
	case ML_VMA_STACK: return "stack";
	case ML_VMA_ANON: return "anon";
	case ML_VMA_ANON_NAMED: return "named";
	case ML_VMA_FILE: return "file";
	case ML_VMA_SHMEM:
	case ML_VMA_SYSV:
	case ML_VMA_MEMFD: return "shmem";
	default: return "special";
	}
}
static const char *const groups[] = { "heap", "stack", "anon", "named", "file", "shmem", "special" };
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static size_t group_index(ml_vma_kind k)
{
	const char *g = kind_group(k);
	for (size_t i = 0; i < NGROUPS; i++)
		if (!strcmp(g, groups[i]))
			return i;
	return NGROUPS - 1;
}

typedef struct group_tot {
	size_t n;
	uint64_t rss, wss;
} group_tot;

static void group_totals(const ml_wss_sample *s, group_tot g[NGROUPS])
{
	memset(g, 0, NGROUPS * sizeof(*g));
	for (size_t i = 0; i < s->nregions; i++) {
		group_tot *t = &g[group_index(s->regions[i].kind)];
		t->n++;
		t->rss += s->regions[i].rss;
		t->wss += s->regions[i].wss;
	}
}

static int cmp_region(const void *a, const void *b)
{
	const ml_wss_region *x = *(const ml_wss_region *const *)a, *y = *(const ml_wss_region *const *)b;
	if (x->wss != y->wss)
		return x->wss < y->wss ? 1 : -1;
	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Regions sorted by WSS (largest first), limited to --top. */
static const ml_wss_region **sorted_regions(const ml_wss_sample *s, const opts *o, size_t *n)
{
	const ml_wss_region **v = calloc(s->nregions ? s->nregions : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nregions; i++)
		v[i] = &s->regions[i];
	qsort(v, s->nregions, sizeof(*v), cmp_region);
	*n = s->nregions;
	if (o->top > 0 && (size_t)o->top < *n)
		*n = (size_t)o->top;
	return v;
}

/* What a sample warns about, one message per entry (NULL-terminated, static or into @buf). */
typedef struct warnings {
	const char *w[8];
	char buf[4][192];
	size_t n, nbuf;
} warnings;

static char *wbuf(warnings *w) { return w->nbuf < 4 ? w->buf[w->nbuf++] : NULL; }

static void sample_warnings(const ml_wss_sample *s, uint64_t nominal, warnings *w)
{
	memset(w, 0, sizeof(*w));
	uint64_t walk = (s->clear_end - s->clear_start) + (s->read_end - s->read_start);
	uint64_t eff_min = s->read_start > s->clear_end ? s->read_start - s->clear_end : 0;
	char *b;
	if (walk > eff_min && (b = wbuf(w))) {
		snprintf(b, 192, "the window (%.1f ms) is shorter than the measurement walk (%.1f ms): "
			 "mappings are measured over different spans", ms(eff_min), ms(walk));
		w->w[w->n++] = b;
	}
	(void)nominal;
	if (s->undercount_possible)
		w->w[w->n++] = s->backend == ML_WSS_REFERENCED || s->backend == ML_WSS_IDLE
			? "TLB not flushed after the clear: pages touched through cached translations "
			  "may be missed (WSS can be undercounted)"
			: "TLB not flushed after the clear: WSS can be undercounted";
	if (s->writes_only)
		w->w[w->n++] = "soft-dirty sees writes only: pages only read are not counted";
	if (s->tot.disappeared && (b = wbuf(w))) {
		snprintf(b, 192, "%zu mapping(s) lost range during the window (%llu bytes unmapped): "
			 "accesses to it are not counted", s->tot.disappeared,
			 (unsigned long long)s->tot.lost_bytes);
		w->w[w->n++] = b;
	}
	if (s->tot.appeared && (b = wbuf(w))) {
		snprintf(b, 192, "%zu mapping(s) appeared during the window (%llu bytes of WSS in them)",
			 s->tot.appeared, (unsigned long long)s->tot.wss_appeared);
		w->w[w->n++] = b;
	}
	if (s->scope != ML_WSS_SCOPE_ALL)
		w->w[w->n++] = s->scope == ML_WSS_SCOPE_ANON ? "anon-only: file-backed mappings not measured"
							       : "file-only: anonymous mappings not measured";
}

const char *wss_scope_name(ml_wss_scope s)
{
	return s == ML_WSS_SCOPE_ANON ? "anon" : s == ML_WSS_SCOPE_FILE ? "file" : "all";
}

static void iso_time(char buf[40], int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 40 - n, ".%03dZ", (int)(ns / 1000000 % 1000));
}

/* ---- JSON ---- */

static void json_region(json_writer *j, const ml_wss_region *r)
{
	char perms[8];
	static const char pc[4] = { 'r', 'w', 'x', 's' };
	static const uint32_t pb[4] = { ML_PERM_READ, ML_PERM_WRITE, ML_PERM_EXEC, ML_PERM_SHARED };
	for (int i = 0; i < 4; i++)
		perms[i] = (r->perms & pb[i]) ? pc[i] : (i == 3 ? 'p' : '-');
	perms[4] = '\0';
	json_obj_begin(j);
	JSON_KADDR(j, "start", r->start);
	JSON_KADDR(j, "end", r->end);
	JSON_KSTR(j, "perms", perms);
	JSON_KSTR(j, "kind", kind_group(r->kind));
	json_key(j, "name");
	json_str(j, r->name, r->name_len);
	JSON_KBOOL(j, "deleted", r->deleted);
	JSON_KBOOL(j, "file_backed", r->file_backed);
	JSON_KBOOL(j, "measured", r->measured);
	JSON_KBOOL(j, "appeared", r->appeared);
	JSON_KU64(j, "rss", r->rss);
	JSON_KU64(j, "pss", r->pss);
	JSON_KU64(j, "anonymous", r->anonymous);
	JSON_KU64(j, "huge", r->huge);
	JSON_KU64(j, "wss", r->wss);
	JSON_KU64(j, "wss_thp_min", r->wss_huge_min);
	JSON_KU64(j, "wss_thp_max", r->wss_huge_max);
	json_obj_end(j);
}

static void print_json(const opts *o, const target *t, long idx, const ml_wss_sample *s, uint64_t nominal,
		       uint64_t t0)
{
	json_writer j;
	json_init(&j, stdout);
	warnings w;
	sample_warnings(s, nominal, &w);
	char when[40];
	iso_time(when, s->clear_realtime_ns);
	json_obj_begin(&j);
	JSON_KSTR(&j, "schema", "memlens.wss/1");
	JSON_KI64(&j, "pid", t->pid);
	JSON_KSTR(&j, "comm", t->comm);
	JSON_KSTR(&j, "mode", wss_mode_names[o->mode]);
	JSON_KI64(&j, "sample", idx);
	JSON_KSTR(&j, "backend", ml_wss_backend_name(s->backend));
	JSON_KSTR(&j, "scope", wss_scope_name(s->scope));
	JSON_KBOOL(&j, "tlb_flushed", s->flushed);
	JSON_KBOOL(&j, "undercount_possible", s->undercount_possible);
	JSON_KBOOL(&j, "writes_only", s->writes_only);
	json_key(&j, "window");
	json_obj_begin(&j);
	JSON_KSTR(&j, "clear_time", when);
	JSON_KU64(&j, "nominal_ns", nominal);
	JSON_KU64(&j, "clear_start_ns", s->clear_start - t0);
	JSON_KU64(&j, "clear_end_ns", s->clear_end - t0);
	JSON_KU64(&j, "read_start_ns", s->read_start - t0);
	JSON_KU64(&j, "read_end_ns", s->read_end - t0);
	JSON_KU64(&j, "effective_min_ns", s->read_start > s->clear_end ? s->read_start - s->clear_end : 0);
	JSON_KU64(&j, "effective_max_ns", s->read_end - s->clear_start);
	json_obj_end(&j);
	json_key(&j, "cost");
	json_obj_begin(&j);
	JSON_KU64(&j, "clear_ns", s->clear_end - s->clear_start);
	JSON_KU64(&j, "read_ns", s->read_end - s->read_start);
	JSON_KU64(&j, "pages_scanned", s->pages_scanned);
	json_obj_end(&j);
	JSON_KU64(&j, "rss", s->tot.rss);
	JSON_KU64(&j, "pss", s->tot.pss);
	JSON_KU64(&j, "wss", s->tot.wss);
	JSON_KU64(&j, "wss_anon", s->tot.wss_anon);
	JSON_KU64(&j, "wss_file", s->tot.wss_file);
	JSON_KU64(&j, "wss_shmem", s->tot.wss_shmem);
	JSON_KU64(&j, "wss_thp_min", s->tot.wss_huge_min);
	JSON_KU64(&j, "wss_thp_max", s->tot.wss_huge_max);
	json_key(&j, "mappings");
	json_obj_begin(&j);
	JSON_KU64(&j, "count", s->nregions);
	JSON_KU64(&j, "appeared", s->tot.appeared);
	JSON_KU64(&j, "disappeared", s->tot.disappeared);
	JSON_KU64(&j, "unmapped_bytes", s->tot.lost_bytes);
	JSON_KU64(&j, "wss_in_appeared", s->tot.wss_appeared);
	json_obj_end(&j);
	json_key(&j, "warnings");
	json_arr_begin(&j);
	for (size_t i = 0; i < w.n; i++)
		json_cstr(&j, w.w[i]);
	json_arr_end(&j);
	if (o->regions) {
		group_tot g[NGROUPS];
		group_totals(s, g);
		json_key(&j, "kinds");
		json_arr_begin(&j);
		for (size_t i = 0; i < NGROUPS; i++) {
			if (!g[i].n)
				continue;
			json_obj_begin(&j);
			JSON_KSTR(&j, "kind", groups[i]);
			JSON_KU64(&j, "mappings", g[i].n);
			JSON_KU64(&j, "rss", g[i].rss);
			JSON_KU64(&j, "wss", g[i].wss);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		size_t n = 0;
		const ml_wss_region **v = sorted_regions(s, o, &n);
		json_key(&j, "regions");
		json_arr_begin(&j);
		for (size_t i = 0; v && i < n; i++)
			json_region(&j, v[i]);
		json_arr_end(&j);
		free(v);
	}
	json_obj_end(&j);
	json_line_end(&j);
}

/* ---- CSV ---- */

void wss_print_csv_header(void)
{
	printf("pid,sample,mode,backend,scope,t_s,window_s,effective_min_s,effective_max_s,rss,pss,wss,"
	       "wss_anon,wss_file,wss_shmem,wss_thp_min,wss_thp_max,clear_ms,read_ms,tlb_flushed,"
	       "appeared,disappeared\n");
}

static void print_csv(const opts *o, const target *t, long idx, const ml_wss_sample *s, uint64_t nominal,
		      uint64_t t0)
{
	printf("%d,%ld,%s,%s,%s,%.6f,%.6f,%.6f,%.6f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f,%d,%zu,%zu\n",
	       (int)t->pid, idx, wss_mode_names[o->mode], ml_wss_backend_name(s->backend), wss_scope_name(s->scope),
	       (double)(s->read_end - t0) / 1e9, (double)nominal / 1e9,
	       (double)(s->read_start > s->clear_end ? s->read_start - s->clear_end : 0) / 1e9,
	       (double)(s->read_end - s->clear_start) / 1e9, (unsigned long long)s->tot.rss,
	       (unsigned long long)s->tot.pss, (unsigned long long)s->tot.wss,
	       (unsigned long long)s->tot.wss_anon, (unsigned long long)s->tot.wss_file,
	       (unsigned long long)s->tot.wss_shmem, (unsigned long long)s->tot.wss_huge_min,
	       (unsigned long long)s->tot.wss_huge_max, ms(s->clear_end - s->clear_start),
	       ms(s->read_end - s->read_start), s->flushed, s->tot.appeared, s->tot.disappeared);
}

/* ---- text ---- */

static const char *const text_cols[] = { "PID", "SAMPLE", "T(s)", "WINDOW(s)", "EFFECTIVE(s)", "RSS", "PSS",
					 "WSS", "ANON", "FILE", "THP", "CLEAR(ms)", "READ(ms)", "COMM" };
#define NTEXT (sizeof(text_cols) / sizeof(text_cols[0]))

static void thp_cell(char *buf, size_t len, const opts *o, const ml_wss_sample *s)
{
	char a[32], b[32];
	if (s->tot.wss_huge_min == s->tot.wss_huge_max)
		snprintf(buf, len, "%s", sz(a, o, s->tot.wss_huge_min));
	else
		snprintf(buf, len, "%s-%s", sz(a, o, s->tot.wss_huge_min), sz(b, o, s->tot.wss_huge_max));
}

/* Rows are printed as each window closes (a series can run until interrupted), so the
 * columns have fixed widths rather than widths fitted to all rows. */
static const int text_w[NTEXT] = { 7, 6, 8, 9, 13, 8, 8, 8, 8, 8, 9, 9, 9, 0 };

static void text_line(const char *const *cells)
{
	for (size_t i = 0; i < NTEXT; i++) {
		if (i + 1 < NTEXT)
			printf("%*s ", text_w[i], cells[i]);
		else
			printf("%s\n", cells[i]);
	}
}

static void text_row(const opts *o, const target *t, long idx, const ml_wss_sample *s, uint64_t nominal,
		     uint64_t t0)
{
	char c[NTEXT][72];
	snprintf(c[0], 48, "%d", (int)t->pid);
	snprintf(c[1], 48, "%ld", idx);
	snprintf(c[2], 48, "%.3f", (double)(s->read_end - t0) / 1e9);
	snprintf(c[3], 48, "%.3f", (double)nominal / 1e9);
	snprintf(c[4], 48, "%.3f-%.3f",
		 (double)(s->read_start > s->clear_end ? s->read_start - s->clear_end : 0) / 1e9,
		 (double)(s->read_end - s->clear_start) / 1e9);
	sz(c[5], o, s->tot.rss);
	sz(c[6], o, s->tot.pss);
	sz(c[7], o, s->tot.wss);
	if (s->scope == ML_WSS_SCOPE_FILE)
		snprintf(c[8], 48, "-");
	else
		sz(c[8], o, s->tot.wss_anon);
	if (s->scope == ML_WSS_SCOPE_ANON)
		snprintf(c[9], 48, "-");
	else
		sz(c[9], o, s->tot.wss_file);
	thp_cell(c[10], 48, o, s);
	snprintf(c[11], 48, "%.1f", ms(s->clear_end - s->clear_start));
	snprintf(c[12], 48, "%.1f", ms(s->read_end - s->read_start));
	snprintf(c[13], 72, "%s", t->comm);
	const char *cells[NTEXT];
	for (size_t i = 0; i < NTEXT; i++)
		cells[i] = c[i];
	text_line(cells);
}

static void print_regions_text(const opts *o, const target *t, const ml_wss_sample *s)
{
	static const char *const hc[] = { "START", "END", "PERM", "KIND", "RSS", "WSS", "THP", "NAME" };
	static const bool hr[] = { false, false, false, false, true, true, true, false };
	table *tb = table_new(8, hc, hr);
	size_t n = 0;
	const ml_wss_region **v = sorted_regions(s, o, &n);
	if (!tb || !v) {
		table_free(tb);
		free(v);
		return;
	}
	printf("\npid %d: mappings by WSS%s\n", (int)t->pid, o->top > 0 ? " (top)" : "");
	for (size_t i = 0; i < n; i++) {
		const ml_wss_region *r = v[i];
		char c[7][48];
		snprintf(c[0], 48, "%llx", (unsigned long long)r->start);
		snprintf(c[1], 48, "%llx", (unsigned long long)r->end);
		static const char pc[4] = { 'r', 'w', 'x', 's' };
		static const uint32_t pb[4] = { ML_PERM_READ, ML_PERM_WRITE, ML_PERM_EXEC, ML_PERM_SHARED };
		for (int k = 0; k < 4; k++)
			c[2][k] = (r->perms & pb[k]) ? pc[k] : (k == 3 ? 'p' : '-');
		c[2][4] = '\0';
		snprintf(c[3], 48, "%s%s", kind_group(r->kind), r->appeared ? "*" : "");
		sz(c[4], o, r->rss);
		if (r->measured)
			sz(c[5], o, r->wss);
		else
			snprintf(c[5], 48, "-");
		if (r->wss_huge_min == r->wss_huge_max) {
			sz(c[6], o, r->wss_huge_min);
		} else {
			char a[32], b[32];
			snprintf(c[6], 48, "%s-%s", sz(a, o, r->wss_huge_min), sz(b, o, r->wss_huge_max));
		}
		char *name = cli_vma_name(r->name, r->name_len, r->deleted);
		const char *cells[8] = { c[0], c[1], c[2], c[3], c[4], c[5], c[6], name ? name : "?" };
		table_add(tb, cells);
		free(name);
	}
	table_print(tb, stdout);
	table_free(tb);
	free(v);

	static const char *const gc[] = { "KIND", "MAPPINGS", "RSS", "WSS" };
	static const bool gr[] = { false, true, true, true };
	table *gt = table_new(4, gc, gr);
	group_tot g[NGROUPS];
	group_totals(s, g);
	printf("\npid %d: by kind\n", (int)t->pid);
	for (size_t i = 0; gt && i < NGROUPS; i++) {
		if (!g[i].n)
			continue;
		char c[3][48];
		snprintf(c[0], 48, "%zu", g[i].n);
		sz(c[1], o, g[i].rss);
		sz(c[2], o, g[i].wss);
		const char *cells[4] = { groups[i], c[0], c[1], c[2] };
		table_add(gt, cells);
	}
	if (gt)
		table_print(gt, stdout);
	table_free(gt);
}

/* ---- Prometheus ---- */

/* --prometheus: one row per process of the window, written when every process was read. */
typedef struct prom_row {
	pid_t pid;
	char comm[ML_STAT_COMM_MAX + 1];
	size_t comm_len;
	char user[64];
	char *cgroup;
	size_t cgroup_len;
	uint64_t rss, pss, wss, anon, file, shmem;
	double window_s;
} prom_row;
static prom_row *prom_rows;
static size_t prom_n;

static void prom_add(const target *t, const ml_wss_sample *s)
{
	prom_row *n = realloc(prom_rows, (prom_n + 1) * sizeof(*n));
	if (!n)
		return;
	prom_rows = n;
	prom_row *r = &n[prom_n++];
	memset(r, 0, sizeof(*r));
	r->pid = t->pid;
	ml_stat st;
	if (ml_stat_read(t->p, &st) == 0) {
		memcpy(r->comm, st.comm, st.comm_len + 1);
		r->comm_len = st.comm_len;
	}
	ml_status *stt;
	if (ml_status_read(t->p, &stt) == 0) {
		struct passwd *pw = getpwuid(stt->uid[1]);
		if (pw)
			snprintf(r->user, sizeof(r->user), "%s", pw->pw_name);
		else
			snprintf(r->user, sizeof(r->user), "%u", (unsigned)stt->uid[1]);
		ml_status_free(stt);
	}
	ml_cgroups *cg;
	if (ml_cgroups_read(t->p, &cg) == 0) {
		const ml_cgroup *v2 = ml_cgroups_v2(cg);
		if (v2 && (r->cgroup = malloc(v2->path_len + 1))) {
			memcpy(r->cgroup, v2->path, v2->path_len + 1);
			r->cgroup_len = v2->path_len;
		}
		ml_cgroups_free(cg);
	}
	r->rss = s->tot.rss;
	r->pss = s->tot.pss;
	r->wss = s->tot.wss;
	r->anon = s->tot.wss_anon;
	r->file = s->tot.wss_file;
	r->shmem = s->tot.wss_shmem;
	r->window_s = (double)(s->read_end - s->clear_start) / 1e9;
}

static void prom_write(FILE *f, void *ctx)
{
	(void)ctx;
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
		{ "memlens_wss_bytes", "Working-set size: memory the process touched within the window.", offsetof(prom_row, wss) },
		{ "memlens_wss_anon_bytes", "Working-set size in anonymous mappings.", offsetof(prom_row, anon) },
		{ "memlens_wss_file_bytes", "Working-set size in file mappings.", offsetof(prom_row, file) },
		{ "memlens_wss_shmem_bytes", "Working-set size in shared memory.", offsetof(prom_row, shmem) },
		{ "memlens_wss_rss_bytes", "Resident set size at the end of the window.", offsetof(prom_row, rss) },
		{ "memlens_wss_pss_bytes", "Proportional set size at the end of the window.", offsetof(prom_row, pss) },
		{ "memlens_wss_window_seconds", "Length of the measured window, from the start of the clear to the end of the read.",
		  offsetof(prom_row, window_s) },
	};
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		prom_family(f, m[k].name, m[k].help, "gauge");
		for (size_t i = 0; i < prom_n; i++) {
			const prom_row *r = &prom_rows[i];
			char pid[16];
			snprintf(pid, sizeof(pid), "%d", (int)r->pid);
			const prom_label l[] = {
				{ "pid", pid, strlen(pid) },
				{ "comm", r->comm, r->comm_len },
				{ "user", r->user, strlen(r->user) },
				{ "cgroup", r->cgroup ? r->cgroup : "", r->cgroup_len },
			};
			if (m[k].off == offsetof(prom_row, window_s)) {
				prom_sample_double(f, m[k].name, l, 4, r->window_s);
				continue;
			}
			uint64_t v;
			memcpy(&v, (const char *)r + m[k].off, sizeof(v));
			prom_sample(f, m[k].name, l, 4, v);
		}
	}
}

int wss_prom_flush(const opts *o)
{
	if (!prom_n)
		return 0;
	return o->textfile ? prom_textfile_write(o->textfile, prom_write, NULL) : (prom_write(stdout, NULL), 0);
}

void wss_prom_free(void)
{
	for (size_t i = 0; i < prom_n; i++)
		free(prom_rows[i].cgroup);
	free(prom_rows);
	prom_rows = NULL;
	prom_n = 0;
}

/* ---- one sample, in the chosen format ---- */

void wss_emit(opts *o, emitter *e, target *t, long idx, const ml_wss_sample *s, uint64_t nominal)
{
	if (o->svg) {
		o->svg_backend = ml_wss_backend_name(s->backend);
		if (wss_svg_record(o, t, s, e->t0) < 0) {
			fprintf(stderr, "memlens: %s: out of memory: the picture is not drawn\n", o->svg);
			o->svg = NULL;
		}
	}
	if (o->prom) {
		prom_add(t, s);
		return;
	} else if (o->json) {
		print_json(o, t, idx, s, nominal, e->t0);
	} else if (o->csv) {
		print_csv(o, t, idx, s, nominal, e->t0);
	} else {
		if (!e->header) {
			char when[40];
			iso_time(when, s->clear_realtime_ns);
			printf("# %s window, backend %s, scope %s, TLB %s after the clear; first clear at %s\n",
			       wss_mode_names[o->mode], ml_wss_backend_name(s->backend), wss_scope_name(s->scope),
			       s->flushed ? "flushed" : "NOT flushed", when);
			text_line(text_cols);
			e->header = true;
		}
		text_row(o, t, idx, s, nominal, e->t0);
		e->rows++;
		warnings w;
		sample_warnings(s, nominal, &w);
		for (size_t i = 0; i < w.n; i++)
			fprintf(stderr, "memlens: pid %d sample %ld: %s\n", (int)t->pid, idx, w.w[i]);
		if (o->regions) {
			print_regions_text(o, t, s);
			printf("\n");
			e->header = false; /* repeat the column header after the detail */
		}
	}
	fflush(stdout);
}
