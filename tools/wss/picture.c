/* memlens wss --svg: the series of each window and region kept for the chart, and the chart written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "common/svg.h"
#include "svg/pictures.h"
#include "wss/wss.h"

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
int wss_svg_record(const opts *o, target *t, const ml_wss_sample *s, uint64_t t0)
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
int wss_svg_write(const opts *o)
{
	pic_wss_panel *p = calloc(o->nt ? o->nt : 1, sizeof(*p));
	char **titles = calloc(o->nt ? o->nt : 1, sizeof(char *));
	size_t n = 0;
	int rc = 0;
	if (!p || !titles) {
		free(p);
		free(titles);
		fprintf(stderr, "memlens: %s: out of memory\n", o->svg);
		return CLI_EXIT_ERROR;
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
		snprintf(title, sizeof(title), "memlens wss: %s windows of %s, backend %s, scope %s", wss_mode_names[o->mode],
			 iv, o->svg_backend ? o->svg_backend : "?", wss_scope_name(o->scope));
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

void wss_svg_free(target *t)
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
