/* memlens wss: working-set size over measured windows: one shot, repeated, cumulative, profile, per region. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memlens/memlens.h>

#include <pwd.h>
#include <stddef.h>

#include "common/cli.h"
#include "common/prom.h"
#include "common/select.h"
#include "common/json.h"
#include "common/table.h"
#include "svg/pictures.h"

enum {
	OPT_JSON = 256, OPT_CSV, OPT_BYTES, OPT_NO_FLUSH, OPT_PROBE, OPT_RESET_PEAK, OPT_FILE_ONLY, OPT_PROM, OPT_TEXTFILE,
	OPT_TOP, OPT_SVG,
};

static const ml_opt wss_opts[] = {
	{ "interval", 'i', 1, "DUR", "window length: 250ms, 1s, 1.5s, 2m (default 1s)" },
	{ "count", 'n', 1, "N", "windows (-C, -P: reads); 0 = until interrupted (default 1; -C 0; -P 8)" },
	{ "cumulative", 'C', 0, NULL, "one clear, then read every interval: growth since the clear" },
	{ "profile", 'P', 0, NULL, "one clear, reads after 1, 2, 4, 8... intervals: WSS vs window" },
	{ "pids", 'p', 1, "PID,PID", "measure several processes over the same window" },
	{ "backend", 'b', 1, "NAME", "referenced, idle or soft-dirty (default: best available)" },
	{ "anon-only", 'a', 0, NULL, "anonymous mappings only (clear_refs 2): ignores page-cache use by others" },
	{ "file-only", OPT_FILE_ONLY, 0, NULL, "file-backed mappings only, shmem included (clear_refs 3)" },
	{ "regions", 'r', 0, NULL, "break WSS down per mapping and per kind" },
	{ "top", OPT_TOP, 1, "N", "with --regions: show the N mappings with the largest WSS" },
	{ "json", OPT_JSON, 0, NULL, "JSON Lines, one record per process and sample (schema memlens.wss/1)" },
	{ "csv", OPT_CSV, 0, NULL, "CSV, one row per process and sample" },
	{ "prometheus", OPT_PROM, 0, NULL, "one window, written in the Prometheus text format (gauges per process)" },
	{ "textfile", OPT_TEXTFILE, 1, "FILE", "with --prometheus: write FILE atomically (node_exporter's textfile collector)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts instead of human units" },
	{ "svg", OPT_SVG, 1, "FILE", "also draw WSS and RSS over time into FILE (SVG; with --regions, the mappings' WSS too)" },
	{ "force", 'f', 0, NULL, "replace an existing regular --svg file (never a symlink, directory, device or FIFO)" },
	{ "no-flush", OPT_NO_FLUSH, 0, NULL, "do not flush the TLB after the clear (shows the undercount)" },
	{ "probe", OPT_PROBE, 0, NULL, "list the backends this kernel offers, and why others are unavailable" },
	{ "reset-peak", OPT_RESET_PEAK, 0, NULL, "reset the peak RSS (VmHWM) to the current RSS (clear_refs 5)" },
	ML_SEL_OPT_PGREP,
	ML_SEL_OPT_FULL_LONG, /* -f is --force, as in every command that writes a file */
	ML_SEL_OPT_ALL,
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd wss_cmd = {
	"wss", "[options] PID | NAME | -p PID,PID... | --pgrep REGEX [-f] | --all | --probe [PID] | --reset-peak PID",
	"Working-set size: the memory a process touches within a window. Clears the kernel's\n"
	"accessed state (this changes the target's page-table bits, which cannot be undone,\n"
	"and costs it a TLB flush), waits, then reads what was touched since. Reports RSS, PSS\n"
	"and WSS (anonymous, file, total; THP share), the real window and what the\n"
	"measurement cost. See memlens-wss(1) for the method and its caveats.",
	wss_opts, 0, 1,
};

enum mode { MODE_ONESHOT, MODE_REPEAT, MODE_CUMULATIVE, MODE_PROFILE };
static const char *const mode_names[] = { "oneshot", "repeat", "cumulative", "profile" };

/* One mapping's WSS over the samples of a picture (NAN where it was not measured). */
typedef struct rseries {
	uint64_t start;
	char *label;
	double *v, peak;
} rseries;

typedef struct target {
	pid_t pid;
	ml_proc *p;
	ml_wss *w;
	char comm[64];
	bool dead;
	/* what --svg draws */
	size_t ns, scap;
	double *st, *swss, *srss;
	rseries *rs;
	size_t nrs;
} target;

typedef struct opts {
	uint64_t interval;
	long count;
	bool count_set;
	enum mode mode;
	ml_wss_backend backend;
	ml_wss_scope scope;
	ml_wss_flush flush;
	bool regions, json, csv, bytes, human, probe, reset_peak, prom;
	const char *textfile;
	long top;
	const char *svg;
	bool force;
	const char *svg_backend;
	target *t;
	size_t nt;
	ml_sel sel;
} opts;

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { (void)sig; interrupted = 1; }

static int add_pid(opts *o, const char *s)
{
	pid_t pid;
	if (!ml_cli_parse_pid(s, &pid))
		return ml_cli_usage_error(&wss_cmd, "'%s' is not a PID", s), -1;
	for (size_t i = 0; i < o->nt; i++)
		if (o->t[i].pid == pid)
			return 0;
	target *n = realloc(o->t, (o->nt + 1) * sizeof(*n));
	if (!n)
		return ml_cli_usage_error(&wss_cmd, "out of memory"), -1;
	o->t = n;
	o->t[o->nt++] = (target){ .pid = pid };
	return 0;
}

static int parse_long(const char *s, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*ret = v;
	return 0;
}

static int on_opt(int key, const char *arg, void *ctx)
{
	opts *o = ctx;
	if (key == ML_SEL_O_PGREP || key == ML_SEL_O_FULL || key == ML_SEL_O_ALL)
		return ml_sel_opt(&o->sel, &wss_cmd, key, arg) < 0 ? -1 : 0;
	switch (key) {
	case 'i':
		if (!ml_cli_parse_duration(arg, &o->interval) || o->interval == 0)
			return ml_cli_usage_error(&wss_cmd, "bad interval '%s'", arg), -1;
		return 0;
	case 'n':
		if (parse_long(arg, &o->count) < 0)
			return ml_cli_usage_error(&wss_cmd, "bad count '%s'", arg), -1;
		o->count_set = true;
		return 0;
	case 'C':
	case 'P': {
		enum mode m = key == 'C' ? MODE_CUMULATIVE : MODE_PROFILE;
		if (o->mode != MODE_ONESHOT && o->mode != m)
			return ml_cli_usage_error(&wss_cmd, "-C and -P exclude each other"), -1;
		o->mode = m;
		return 0;
	}
	case 'p': {
		char *dup = strdup(arg), *save = NULL;
		if (!dup)
			return -1;
		int r = 0;
		for (char *s = strtok_r(dup, ",", &save); s && r == 0; s = strtok_r(NULL, ",", &save))
			r = add_pid(o, s);
		free(dup);
		return r;
	}
	case 'b': {
		int b = ml_wss_backend_parse(arg);
		if (b < 0)
			return ml_cli_usage_error(&wss_cmd, "unknown backend '%s' (referenced, idle, soft-dirty)", arg), -1;
		o->backend = (ml_wss_backend)b;
		return 0;
	}
	case 'a':
	case OPT_FILE_ONLY: {
		ml_wss_scope s = key == 'a' ? ML_WSS_SCOPE_ANON : ML_WSS_SCOPE_FILE;
		if (o->scope != ML_WSS_SCOPE_ALL && o->scope != s)
			return ml_cli_usage_error(&wss_cmd, "--anon-only and --file-only exclude each other"), -1;
		o->scope = s;
		return 0;
	}
	case 'r': o->regions = true; return 0;
	case OPT_TOP:
		if (parse_long(arg, &o->top) < 0 || o->top == 0)
			return ml_cli_usage_error(&wss_cmd, "bad --top '%s'", arg), -1;
		return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_SVG:
		if (!*arg || !strcmp(arg, "-"))
			return ml_cli_usage_error(&wss_cmd, "--svg needs a file name"), -1;
		o->svg = arg;
		return 0;
	case 'f': o->force = true; return 0;
	case OPT_CSV: o->csv = true; return 0;
	case OPT_PROM: o->prom = true; return 0;
	case OPT_TEXTFILE: o->textfile = arg; o->prom = true; return 0;
	case OPT_BYTES: o->bytes = true; return 0;
	case OPT_NO_FLUSH: o->flush = ML_WSS_FLUSH_NEVER; return 0;
	case OPT_PROBE: o->probe = true; return 0;
	case OPT_RESET_PEAK: o->reset_peak = true; return 0;
	}
	return -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reaches @deadline, or a signal asks to stop. */
static void sleep_until(uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };
	while (!interrupted && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const char *sz(char buf[32], const opts *o, uint64_t v) { return ml_cli_fmt_size(buf, v, o->human); }

static double ms(uint64_t ns) { return (double)ns / 1e6; }

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

static const char *scope_name(ml_wss_scope s)
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

static void json_region(ml_json *j, const ml_wss_region *r)
{
	char perms[8];
	static const char pc[4] = { 'r', 'w', 'x', 's' };
	static const uint32_t pb[4] = { ML_PERM_READ, ML_PERM_WRITE, ML_PERM_EXEC, ML_PERM_SHARED };
	for (int i = 0; i < 4; i++)
		perms[i] = (r->perms & pb[i]) ? pc[i] : (i == 3 ? 'p' : '-');
	perms[4] = '\0';
	ml_json_obj_begin(j);
	ML_JSON_KADDR(j, "start", r->start);
	ML_JSON_KADDR(j, "end", r->end);
	ML_JSON_KSTR(j, "perms", perms);
	ML_JSON_KSTR(j, "kind", kind_group(r->kind));
	ml_json_key(j, "name");
	ml_json_str(j, r->name, r->name_len);
	ML_JSON_KBOOL(j, "deleted", r->deleted);
	ML_JSON_KBOOL(j, "file_backed", r->file_backed);
	ML_JSON_KBOOL(j, "measured", r->measured);
	ML_JSON_KBOOL(j, "appeared", r->appeared);
	ML_JSON_KU64(j, "rss", r->rss);
	ML_JSON_KU64(j, "pss", r->pss);
	ML_JSON_KU64(j, "anonymous", r->anonymous);
	ML_JSON_KU64(j, "huge", r->huge);
	ML_JSON_KU64(j, "wss", r->wss);
	ML_JSON_KU64(j, "wss_thp_min", r->wss_huge_min);
	ML_JSON_KU64(j, "wss_thp_max", r->wss_huge_max);
	ml_json_obj_end(j);
}

static void print_json(const opts *o, const target *t, long idx, const ml_wss_sample *s, uint64_t nominal,
		       uint64_t t0)
{
	ml_json j;
	ml_json_init(&j, stdout);
	warnings w;
	sample_warnings(s, nominal, &w);
	char when[40];
	iso_time(when, s->clear_realtime_ns);
	ml_json_obj_begin(&j);
	ML_JSON_KSTR(&j, "schema", "memlens.wss/1");
	ML_JSON_KI64(&j, "pid", t->pid);
	ML_JSON_KSTR(&j, "comm", t->comm);
	ML_JSON_KSTR(&j, "mode", mode_names[o->mode]);
	ML_JSON_KI64(&j, "sample", idx);
	ML_JSON_KSTR(&j, "backend", ml_wss_backend_name(s->backend));
	ML_JSON_KSTR(&j, "scope", scope_name(s->scope));
	ML_JSON_KBOOL(&j, "tlb_flushed", s->flushed);
	ML_JSON_KBOOL(&j, "undercount_possible", s->undercount_possible);
	ML_JSON_KBOOL(&j, "writes_only", s->writes_only);
	ml_json_key(&j, "window");
	ml_json_obj_begin(&j);
	ML_JSON_KSTR(&j, "clear_time", when);
	ML_JSON_KU64(&j, "nominal_ns", nominal);
	ML_JSON_KU64(&j, "clear_start_ns", s->clear_start - t0);
	ML_JSON_KU64(&j, "clear_end_ns", s->clear_end - t0);
	ML_JSON_KU64(&j, "read_start_ns", s->read_start - t0);
	ML_JSON_KU64(&j, "read_end_ns", s->read_end - t0);
	ML_JSON_KU64(&j, "effective_min_ns", s->read_start > s->clear_end ? s->read_start - s->clear_end : 0);
	ML_JSON_KU64(&j, "effective_max_ns", s->read_end - s->clear_start);
	ml_json_obj_end(&j);
	ml_json_key(&j, "cost");
	ml_json_obj_begin(&j);
	ML_JSON_KU64(&j, "clear_ns", s->clear_end - s->clear_start);
	ML_JSON_KU64(&j, "read_ns", s->read_end - s->read_start);
	ML_JSON_KU64(&j, "pages_scanned", s->pages_scanned);
	ml_json_obj_end(&j);
	ML_JSON_KU64(&j, "rss", s->tot.rss);
	ML_JSON_KU64(&j, "pss", s->tot.pss);
	ML_JSON_KU64(&j, "wss", s->tot.wss);
	ML_JSON_KU64(&j, "wss_anon", s->tot.wss_anon);
	ML_JSON_KU64(&j, "wss_file", s->tot.wss_file);
	ML_JSON_KU64(&j, "wss_shmem", s->tot.wss_shmem);
	ML_JSON_KU64(&j, "wss_thp_min", s->tot.wss_huge_min);
	ML_JSON_KU64(&j, "wss_thp_max", s->tot.wss_huge_max);
	ml_json_key(&j, "mappings");
	ml_json_obj_begin(&j);
	ML_JSON_KU64(&j, "count", s->nregions);
	ML_JSON_KU64(&j, "appeared", s->tot.appeared);
	ML_JSON_KU64(&j, "disappeared", s->tot.disappeared);
	ML_JSON_KU64(&j, "unmapped_bytes", s->tot.lost_bytes);
	ML_JSON_KU64(&j, "wss_in_appeared", s->tot.wss_appeared);
	ml_json_obj_end(&j);
	ml_json_key(&j, "warnings");
	ml_json_arr_begin(&j);
	for (size_t i = 0; i < w.n; i++)
		ml_json_cstr(&j, w.w[i]);
	ml_json_arr_end(&j);
	if (o->regions) {
		group_tot g[NGROUPS];
		group_totals(s, g);
		ml_json_key(&j, "kinds");
		ml_json_arr_begin(&j);
		for (size_t i = 0; i < NGROUPS; i++) {
			if (!g[i].n)
				continue;
			ml_json_obj_begin(&j);
			ML_JSON_KSTR(&j, "kind", groups[i]);
			ML_JSON_KU64(&j, "mappings", g[i].n);
			ML_JSON_KU64(&j, "rss", g[i].rss);
			ML_JSON_KU64(&j, "wss", g[i].wss);
			ml_json_obj_end(&j);
		}
		ml_json_arr_end(&j);
		size_t n = 0;
		const ml_wss_region **v = sorted_regions(s, o, &n);
		ml_json_key(&j, "regions");
		ml_json_arr_begin(&j);
		for (size_t i = 0; v && i < n; i++)
			json_region(&j, v[i]);
		ml_json_arr_end(&j);
		free(v);
	}
	ml_json_obj_end(&j);
	ml_json_line_end(&j);
}

/* ---- CSV ---- */

static void print_csv_header(void)
{
	printf("pid,sample,mode,backend,scope,t_s,window_s,effective_min_s,effective_max_s,rss,pss,wss,"
	       "wss_anon,wss_file,wss_shmem,wss_thp_min,wss_thp_max,clear_ms,read_ms,tlb_flushed,"
	       "appeared,disappeared\n");
}

static void print_csv(const opts *o, const target *t, long idx, const ml_wss_sample *s, uint64_t nominal,
		      uint64_t t0)
{
	printf("%d,%ld,%s,%s,%s,%.6f,%.6f,%.6f,%.6f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f,%d,%zu,%zu\n",
	       (int)t->pid, idx, mode_names[o->mode], ml_wss_backend_name(s->backend), scope_name(s->scope),
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
	ml_table *tb = ml_table_new(8, hc, hr);
	size_t n = 0;
	const ml_wss_region **v = sorted_regions(s, o, &n);
	if (!tb || !v) {
		ml_table_free(tb);
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
		char *name = ml_cli_vma_name(r->name, r->name_len, r->deleted);
		const char *cells[8] = { c[0], c[1], c[2], c[3], c[4], c[5], c[6], name ? name : "?" };
		ml_table_add(tb, cells);
		free(name);
	}
	ml_table_print(tb, stdout);
	ml_table_free(tb);
	free(v);

	static const char *const gc[] = { "KIND", "MAPPINGS", "RSS", "WSS" };
	static const bool gr[] = { false, true, true, true };
	ml_table *gt = ml_table_new(4, gc, gr);
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
		ml_table_add(gt, cells);
	}
	if (gt)
		ml_table_print(gt, stdout);
	ml_table_free(gt);
}

/* ---- the picture ---- */

static int grow(double **v, size_t cap)
{
	double *n = realloc(*v, cap * sizeof(double));
	if (!n)
		return -1;
	*v = n;
	return 0;
}

static char *region_label(const ml_wss_region *r)
{
	const char *n = r->name;
	size_t len = r->name_len;
	const char *slash = len && n[0] == '/' ? memrchr(n, '/', len) : NULL;
	if (slash) {
		len -= (size_t)(slash + 1 - n);
		n = slash + 1;
	}
	char perms[5];
	static const char pc[4] = { 'r', 'w', 'x', 's' };
	static const uint32_t pb[4] = { ML_PERM_READ, ML_PERM_WRITE, ML_PERM_EXEC, ML_PERM_SHARED };
	for (int i = 0; i < 4; i++)
		perms[i] = (r->perms & pb[i]) ? pc[i] : (i == 3 ? 'p' : '-');
	perms[4] = '\0';
	char *s = NULL;
	if (asprintf(&s, "%.*s %s %llx", len ? (int)len : 6, len ? n : "[anon]", perms,
		     (unsigned long long)r->start) < 0)
		return NULL;
	return s;
}

/* Keeps a sample for the picture: RSS, WSS and, with --regions, each mapping's WSS. */
static int svg_record(const opts *o, target *t, const ml_wss_sample *s, uint64_t t0)
{
	if (t->ns == t->scap) {
		size_t nc = t->scap ? 2 * t->scap : 64;
		if (grow(&t->st, nc) || grow(&t->swss, nc) || grow(&t->srss, nc))
			return -1;
		for (size_t i = 0; i < t->nrs; i++)
			if (grow(&t->rs[i].v, nc))
				return -1;
		t->scap = nc;
	}
	size_t k = t->ns;
	t->st[k] = (double)(s->read_end - t0) / 1e9;
	t->swss[k] = (double)s->tot.wss;
	t->srss[k] = (double)s->tot.rss;
	for (size_t i = 0; i < t->nrs; i++)
		t->rs[i].v[k] = NAN;
	for (size_t i = 0; o->regions && i < s->nregions; i++) {
		const ml_wss_region *r = &s->regions[i];
		if (!r->measured)
			continue;
		char *label = region_label(r);
		if (!label)
			return -1;
		size_t j = 0;
		while (j < t->nrs && !(t->rs[j].start == r->start && !strcmp(t->rs[j].label, label)))
			j++;
		if (j == t->nrs) {
			rseries *n = realloc(t->rs, (t->nrs + 1) * sizeof(*n));
			if (!n) {
				free(label);
				return -1;
			}
			t->rs = n;
			n[j] = (rseries){ .start = r->start, .label = label };
			label = NULL;
			if (grow(&n[j].v, t->scap))
				return -1;
			for (size_t q = 0; q < k; q++)
				n[j].v[q] = NAN;
			t->nrs++;
		}
		free(label);
		t->rs[j].v[k] = (double)r->wss;
		if ((double)r->wss > t->rs[j].peak)
			t->rs[j].peak = (double)r->wss;
	}
	t->ns++;
	return 0;
}

static int cmp_peak(const void *a, const void *b)
{
	const rseries *x = a, *y = b;
	return x->peak < y->peak ? 1 : x->peak > y->peak ? -1 : (x->start > y->start) - (x->start < y->start);
}

/* Draws what was measured (nothing when no window closed). */
static int svg_write(const opts *o)
{
	pic_wss_panel *p = calloc(o->nt ? o->nt : 1, sizeof(*p));
	char **titles = calloc(o->nt ? o->nt : 1, sizeof(char *));
	size_t n = 0;
	int rc = 0;
	if (!p || !titles) {
		free(p);
		free(titles);
		fprintf(stderr, "memlens: %s: out of memory\n", o->svg);
		return ML_EXIT_ERROR;
	}
	for (size_t i = 0; i < o->nt; i++) {
		target *t = &o->t[i];
		if (!t->ns)
			continue;
		if (t->nrs)
			qsort(t->rs, t->nrs, sizeof(*t->rs), cmp_peak);
		size_t keep = t->nrs < 8 ? t->nrs : 8;
		if (o->top > 0 && (size_t)o->top < keep)
			keep = (size_t)o->top;
		if (asprintf(&titles[n], "pid %d (%s)%s", (int)t->pid, t->comm, t->dead ? ": lost during the run" : "") < 0)
			titles[n] = NULL;
		pic_series *rs = keep ? calloc(keep, sizeof(*rs)) : NULL;
		for (size_t r = 0; rs && r < keep; r++)
			rs[r] = (pic_series){ t->rs[r].label, t->rs[r].v };
		char *pt = titles[n] ? titles[n] : (char *)"?";
		p[n] = (pic_wss_panel){ pt, t->ns, t->st, t->swss, t->srss, rs, rs ? keep : 0 };
		n++;
	}
	if (n) {
		char title[160], iv[32];
		snprintf(iv, sizeof(iv), "%g s", (double)o->interval / 1e9);
		snprintf(title, sizeof(title), "memlens wss: %s windows of %s, backend %s, scope %s", mode_names[o->mode],
			 iv, o->svg_backend ? o->svg_backend : "?", scope_name(o->scope));
		rc = pic_wss_write(o->svg, o->force, title, p, n);
	} else {
		fprintf(stderr, "memlens: %s: not written: no window was measured\n", o->svg);
	}
	for (size_t i = 0; i < n; i++) {
		free(titles[i]);
		free(p[i].regions);
	}
	free(titles);
	free(p);
	return rc;
}

static void svg_free(target *t)
{
	free(t->st);
	free(t->swss);
	free(t->srss);
	for (size_t i = 0; i < t->nrs; i++) {
		free(t->rs[i].label);
		free(t->rs[i].v);
	}
	free(t->rs);
}

/* ---- the measurement ---- */

static void read_comm(target *t)
{
	char *buf;
	size_t len;
	snprintf(t->comm, sizeof(t->comm), "?");
	if (ml_proc_read_file(t->p, "comm", &buf, &len) == 0) {
		size_t k = 0;
		for (size_t i = 0; i < len && buf[i] != '\n' && k + 1 < sizeof(t->comm); i++)
			t->comm[k++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
		t->comm[k] = '\0';
		free(buf);
	}
}

/* Reports why a target can no longer be measured; marks it dead. */
static void target_lost(target *t, const char *what, int err)
{
	t->dead = true;
	if (err != -ESRCH) {
		if (err == -EACCES || err == -EPERM)
			fprintf(stderr, "memlens: pid %d: %s: %s (clear_refs needs the process's owner or "
				"CAP_SYS_ADMIN; smaps needs ptrace read access)\n", (int)t->pid, what,
				ml_strerror(err));
		else
			ml_cli_pid_error(t->pid, what, err);
		return;
	}
	switch (ml_wss_target_state(t->p)) {
	case ML_WSS_TARGET_ZOMBIE:
		fprintf(stderr, "memlens: pid %d: %s: the process exited (a zombie: clear_refs would do "
			"nothing, smaps is empty)\n", (int)t->pid, what);
		break;
	case ML_WSS_TARGET_EXECED:
		fprintf(stderr, "memlens: pid %d: %s: the process exec'd a new program during the window: "
			"the address space measured is gone\n", (int)t->pid, what);
		break;
	default:
		fprintf(stderr, "memlens: pid %d: %s: the process exited during the window\n", (int)t->pid, what);
		break;
	}
}

static int start_all(opts *o)
{
	ML_OPTS(ml_wss_opts, wo, .backend = o->backend, .scope = o->scope, .flush = o->flush);
	size_t ok = 0;
	for (size_t i = 0; i < o->nt; i++) {
		target *t = &o->t[i];
		if (t->dead)
			continue;
		int r = t->w ? ml_wss_restart(t->w) : ml_wss_start(t->p, &wo, &t->w);
		if (r < 0) {
			if (r == -EOPNOTSUPP) {
				ml_wss_probe_info pi = { 0 };
				if (o->backend != ML_WSS_AUTO)
					ml_wss_probe(o->backend, t->p, &pi);
				fprintf(stderr, "memlens: pid %d: backend %s unavailable: %s\n", (int)t->pid,
					ml_wss_backend_name(o->backend), pi.reason ? pi.reason : "no backend works here "
					"(see memlens wss --probe)");
				t->dead = true;
			} else {
				target_lost(t, "cannot open the window", r);
			}
			continue;
		}
		ok++;
	}
	return ok ? 0 : -1;
}

typedef struct emitter {
	size_t rows;
	uint64_t t0;
	bool header;
} emitter;

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
		ml_prom_family(f, m[k].name, m[k].help, "gauge");
		for (size_t i = 0; i < prom_n; i++) {
			const prom_row *r = &prom_rows[i];
			char pid[16];
			snprintf(pid, sizeof(pid), "%d", (int)r->pid);
			const ml_prom_label l[] = {
				{ "pid", pid, strlen(pid) },
				{ "comm", r->comm, r->comm_len },
				{ "user", r->user, strlen(r->user) },
				{ "cgroup", r->cgroup ? r->cgroup : "", r->cgroup_len },
			};
			if (m[k].off == offsetof(prom_row, window_s)) {
				ml_prom_sample_double(f, m[k].name, l, 4, r->window_s);
				continue;
			}
			uint64_t v;
			memcpy(&v, (const char *)r + m[k].off, sizeof(v));
			ml_prom_sample(f, m[k].name, l, 4, v);
		}
	}
}
static void emit(opts *o, emitter *e, target *t, long idx, const ml_wss_sample *s, uint64_t nominal)
{
	if (o->svg) {
		o->svg_backend = ml_wss_backend_name(s->backend);
		if (svg_record(o, t, s, e->t0) < 0) {
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
			       mode_names[o->mode], ml_wss_backend_name(s->backend), scope_name(s->scope),
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

static size_t read_all(opts *o, emitter *e, long idx, uint64_t nominal)
{
	size_t ok = 0;
	for (size_t i = 0; i < o->nt; i++) {
		target *t = &o->t[i];
		if (t->dead || !t->w)
			continue;
		ml_wss_sample *s = NULL;
		int r = ml_wss_read(t->w, &s);
		if (r < 0) {
			target_lost(t, "cannot read the window", r);
			continue;
		}
		emit(o, e, t, idx, s, nominal);
		ml_wss_sample_free(s);
		ok++;
	}
	return ok;
}

static int alive_count(const opts *o)
{
	int n = 0;
	for (size_t i = 0; i < o->nt; i++)
		n += !o->t[i].dead;
	return n;
}

static int measure(opts *o)
{
	emitter e = { 0 };
	if (o->csv)
		print_csv_header();
	long count = o->count_set ? o->count : o->mode == MODE_PROFILE ? 8 : o->mode == MODE_CUMULATIVE ? 0 : 1;
	int rc = ML_EXIT_OK;
	e.t0 = mono_ns();
	if (start_all(o) < 0) {
		rc = ML_EXIT_ERROR;
		goto out;
	}
	/* cumulative and profile windows are timed from the end of the clears */
	uint64_t origin = mono_ns();
	for (long i = 0; (count == 0 || i < count) && !interrupted && alive_count(o); i++) {
		uint64_t nominal;
		if (o->mode == MODE_REPEAT || o->mode == MODE_ONESHOT) {
			if (i > 0 && start_all(o) < 0)
				break;
			origin = mono_ns();
			nominal = o->interval;
		} else if (o->mode == MODE_CUMULATIVE) {
			nominal = o->interval * (uint64_t)(i + 1);
		} else {
			nominal = o->interval << (i < 40 ? i : 40);
		}
		sleep_until(origin + nominal);
		/* interrupted mid-window: still report it (its real length is in the record) */
		if (!read_all(o, &e, i, nominal) || interrupted)
			break;
		if (o->prom && prom_n) {
			int pr = o->textfile ? ml_prom_textfile_write(o->textfile, prom_write, NULL) : (prom_write(stdout, NULL), 0);
			if (pr)
				rc = ML_EXIT_ERROR;
		}
		if (ml_cli_stdout_failed())
			break; /* nobody gets the samples: stop (reported at exit) */
	}
out:;
	size_t dead = 0;
	for (size_t i = 0; i < o->nt; i++)
		dead += o->t[i].dead;
	if (rc == ML_EXIT_OK && dead)
		rc = dead == o->nt ? ML_EXIT_ERROR : ML_EXIT_PARTIAL;
	return rc;
}

/* ---- --probe and --reset-peak ---- */

static int do_probe(const opts *o, ml_proc *p)
{
	ml_wss_probe_info pi[ML_WSS_BACKEND_COUNT];
	ml_wss_backend best = ML_WSS_AUTO;
	for (int b = ML_WSS_REFERENCED; b < ML_WSS_BACKEND_COUNT; b++) {
		ml_wss_probe((ml_wss_backend)b, p, &pi[b]);
		if (pi[b].status == 0 && best == ML_WSS_AUTO)
			best = (ml_wss_backend)b;
	}
	ml_soft_dirty_state sds = ML_SOFT_DIRTY_UNKNOWN;
	int sd = ml_clear_refs_probe(&sds) < 0 ? -1 : sds == ML_SOFT_DIRTY_ABSENT ? 0 : sds == ML_SOFT_DIRTY_WORKS ? 1 : -1;
	const char *flush = sd == 0 ? "yes: soft-dirty is compiled out, so clear_refs 4 after the clear flushes "
				      "the TLB with no other effect"
			  : sd == 1 ? "no: soft-dirty is compiled in and clear_refs 4 would wipe its state; "
				      "accesses right after a clear may be missed"
				    : "unknown: soft-dirty could not be probed";
	if (o->json) {
		ml_json j;
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.wss-probe/1");
		if (p)
			ML_JSON_KI64(&j, "pid", ml_proc_pid(p));
		ML_JSON_KSTR(&j, "default", best == ML_WSS_AUTO ? "none" : ml_wss_backend_name(best));
		ML_JSON_KBOOL(&j, "tlb_flush", sd == 0);
		ML_JSON_KSTR(&j, "tlb_flush_reason", flush);
		ml_json_key(&j, "backends");
		ml_json_arr_begin(&j);
		for (int b = ML_WSS_REFERENCED; b < ML_WSS_BACKEND_COUNT; b++) {
			ml_json_obj_begin(&j);
			ML_JSON_KSTR(&j, "name", ml_wss_backend_name((ml_wss_backend)b));
			ML_JSON_KBOOL(&j, "available", pi[b].status == 0);
			ML_JSON_KSTR(&j, "reason", pi[b].reason);
			if (pi[b].status)
				ML_JSON_KSTR(&j, "error", ml_strerror(pi[b].status));
			ml_json_obj_end(&j);
		}
		ml_json_arr_end(&j);
		ml_json_obj_end(&j);
		ml_json_line_end(&j);
	} else {
		static const char *const hc[] = { "BACKEND", "STATUS", "DETAIL" };
		static const bool hr[] = { false, false, false };
		ml_table *tb = ml_table_new(3, hc, hr);
		for (int b = ML_WSS_REFERENCED; tb && b < ML_WSS_BACKEND_COUNT; b++) {
			char st[48];
			snprintf(st, sizeof(st), "%s%s", pi[b].status == 0 ? "available" : "not available",
				 (ml_wss_backend)b == best ? " (default)" : "");
			const char *cells[3] = { ml_wss_backend_name((ml_wss_backend)b), st, pi[b].reason };
			ml_table_add(tb, cells);
		}
		ml_table_print(tb, stdout);
		ml_table_free(tb);
		printf("\nTLB flush after clear_refs 1-3: %s\n", flush);
		if (p)
			printf("checked against pid %d\n", (int)ml_proc_pid(p));
	}
	return best == ML_WSS_AUTO ? ML_EXIT_PARTIAL : ML_EXIT_OK;
}

static long status_kb(ml_proc *p, const char *key)
{
	char *buf;
	size_t len;
	if (ml_proc_read_file(p, "status", &buf, &len) < 0)
		return -1;
	long v = -1;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			v = strtol(l + kl + 1, NULL, 10);
			break;
		}
	free(buf);
	return v;
}

static int do_reset_peak(const opts *o, target *t)
{
	long before = status_kb(t->p, "VmHWM");
	int r = ml_clear_refs_write(t->p, ML_CLEAR_REFS_PEAK_RSS);
	if (r < 0) {
		target_lost(t, "cannot reset the peak RSS", r);
		return ML_EXIT_ERROR;
	}
	long after = status_kb(t->p, "VmHWM");
	if (o->json) {
		ml_json j;
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.wss-reset-peak/1");
		ML_JSON_KI64(&j, "pid", t->pid);
		ML_JSON_KI64(&j, "vmhwm_before", before < 0 ? -1 : before * 1024);
		ML_JSON_KI64(&j, "vmhwm_after", after < 0 ? -1 : after * 1024);
		ml_json_obj_end(&j);
		ml_json_line_end(&j);
	} else {
		char a[32], b[32];
		printf("pid %d: peak RSS (VmHWM) reset: %s -> %s\n", (int)t->pid,
		       before < 0 ? "?" : sz(a, o, (uint64_t)before * 1024),
		       after < 0 ? "?" : sz(b, o, (uint64_t)after * 1024));
	}
	return ML_EXIT_OK;
}

int cmd_wss(int argc, char **argv);
int cmd_wss(int argc, char **argv)
{
	opts o = { .interval = 1000000000ull, .count = 1, .backend = ML_WSS_AUTO };
	int first;
	int pr = ml_cli_parse(&wss_cmd, argc, argv, on_opt, &o, &first);
	int rc = ML_EXIT_OK;
	if (pr != 0) {
		free(o.t);
		return pr > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	}
	pid_t one;
	if (first < argc && ml_cli_parse_pid(argv[first], &one) && !o.sel.pgrep && !o.sel.all) {
		if (add_pid(&o, argv[first]) < 0) {
			free(o.t);
			return ML_EXIT_USAGE;
		}
	} else if (first < argc || o.sel.pgrep || o.sel.all || o.sel.full) {
		/* a NAME, --pgrep or --all: resolved to PIDs now (a path names no process here) */
		if (o.nt) {
			free(o.t);
			return ml_cli_usage_error(&wss_cmd, "give one of a PID or NAME, -p, --pgrep and --all");
		}
		const char *spec = first < argc ? argv[first] : NULL;
		if (spec && strchr(spec, '/')) {
			free(o.t);
			return ml_cli_usage_error(&wss_cmd, "'%s' is not a PID or a process name (wss measures live processes)", spec);
		}
		ml_sel_list l;
		int sr = ml_sel_resolve(&o.sel, &wss_cmd, spec, o.probe || o.reset_peak, &l);
		if (sr == 0 && l.file) {
			ml_sel_list_free(&l);
			free(o.t);
			return ml_cli_usage_error(&wss_cmd, "'%s' is a file; wss measures live processes", spec);
		}
		for (size_t i = 0; sr == 0 && i < l.n; i++) {
			char pid[16];
			if (add_pid(&o, ml_sel_pidstr(&l.procs[i], pid)) < 0)
				sr = ML_EXIT_USAGE;
		}
		ml_sel_list_free(&l);
		if (sr) {
			free(o.t);
			return sr;
		}
	}
	o.human = !o.bytes && ml_cli_stdout_tty();
	if (o.prom && (o.json || o.csv || o.regions || o.mode != MODE_ONESHOT || (o.count_set && o.count != 1) || o.probe || o.reset_peak)) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "--prometheus writes one window of totals: not with --json, --csv, --regions, -n, -C, -P, --probe or --reset-peak");
	}
	if (o.textfile && ml_prom_textfile_check(o.textfile)) {
		free(o.t);
		return ML_EXIT_ERROR;
	}
	if (o.json && o.csv) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "--json and --csv exclude each other");
	}
	if (o.mode == MODE_ONESHOT && o.count_set && o.count != 1)
		o.mode = MODE_REPEAT;
	if (o.top && !o.regions) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "--top needs --regions");
	}
	if (!o.probe && o.nt == 0) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "missing PID");
	}
	if (o.svg && (o.probe || o.reset_peak)) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "--svg draws measured windows; it does not go with --probe or --reset-peak");
	}
	if (o.svg && (rc = ml_cli_output_check(o.svg, o.force))) {
		free(o.t);
		return rc;
	}
	if ((o.probe || o.reset_peak) && o.nt > 1) {
		free(o.t);
		return ml_cli_usage_error(&wss_cmd, "--probe and --reset-peak take one PID");
	}
	for (size_t i = 0; i < o.nt; i++) {
		int r = ml_proc_open(o.t[i].pid, &o.t[i].p);
		if (r < 0) {
			ml_cli_pid_error(o.t[i].pid, "cannot open", r);
			o.t[i].dead = true;
			continue;
		}
		read_comm(&o.t[i]);
	}
	if (o.probe) {
		rc = (o.nt && o.t[0].dead) ? ML_EXIT_ERROR : do_probe(&o, o.nt ? o.t[0].p : NULL);
	} else if (o.reset_peak) {
		rc = o.t[0].dead ? ML_EXIT_ERROR : do_reset_peak(&o, &o.t[0]);
	} else if (alive_count(&o) == 0) {
		rc = ML_EXIT_ERROR;
	} else {
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = measure(&o);
		if (o.svg && rc != ML_EXIT_ERROR) {
			int r = svg_write(&o);
			if (r)
				rc = r;
		}
	}
	for (size_t i = 0; i < o.nt; i++) {
		ml_wss_free(o.t[i].w);
		ml_proc_free(o.t[i].p);
		svg_free(&o.t[i]);
	}
	for (size_t i = 0; i < prom_n; i++)
		free(prom_rows[i].cgroup);
	free(prom_rows);
	free(o.t);
	return rc;
}
