/* The address space as a map: one box per mapping, coloured by what its pages are. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/svg.h"
#include "svg/pictures.h"

#define PG 4096.0
#define WIDTH 1200.0
#define MARGIN 20.0
#define ROW_W (WIDTH - 2 * MARGIN)
#define BOX_H 30.0
#define ROW_H 52.0   /* box, label, space */
#define TOP 78.0     /* title, summary, legend */
#define FOLD_W 10.0  /* a gap between mappings, whatever its size */
#define MIN_W 3.0
#define MAX_ROWS_LINEAR 16.0

static const struct {
	const char *cls, *live, *snap, *fill;
} classes[PIC_NCLASS] = {
	[PIC_PRESENT] = { "present", "present (anonymous)", "captured data", "#d9534f" },
	[PIC_FILE] = { "file", "present (file or shared memory)", NULL, "#4a90d9" },
	[PIC_THP] = { "thp", "transparent huge page", NULL, "#8e44ad" },
	[PIC_ZERO] = { "zero", "zero page", "zero", "#f0c419" },
	[PIC_SWAPPED] = { "swapped", "swapped out", "swapped out (not captured)", "#2a9d8f" },
	[PIC_EXCLUDED] = { "excluded", NULL, "excluded or unreadable", "#7f7f7f" },
	[PIC_UNPOP] = { "unpopulated", "not populated", "not populated", "#e8e8e8" },
};

static uint64_t total_pages(const pic_mapping *m)
{
	uint64_t n = 0;
	for (int c = 0; c < PIC_NCLASS; c++)
		n += m->pages[c];
	return n;
}

/* The width of a mapping's box, before wrapping. */
static double box_w(const pic_map_opts *o, const pic_mapping *m, double px_per_byte)
{
	double size = (double)(m->end - m->start);
	double w = o->log_axis ? 6 + 9 * log2(size / PG < 1 ? 1 : size / PG) : size * px_per_byte;
	return w < MIN_W ? MIN_W : w;
}

/* A piece of a box on one row. */
typedef struct piece {
	size_t m;
	double x, w;
	int row;
} piece;

typedef struct layout {
	piece *p;
	size_t n, cap;
	double *fold_x; /* where a gap's fold mark goes */
	int *fold_row;
	size_t nfold;
	int rows;
} layout;

static int add_piece(layout *l, size_t m, double x, double w, int row)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 256;
		piece *np = realloc(l->p, nc * sizeof(*np));
		if (!np)
			return -1;
		l->p = np;
		l->cap = nc;
	}
	l->p[l->n++] = (piece){ m, x, w, row };
	return 0;
}

/* Lays the boxes out left to right in rows; a box wider than what is left of a row goes on
 * to the next (split only when it is wider than a quarter of a row). */
static int lay_out(const pic_map_opts *o, const pic_mapping *v, size_t n, layout *l)
{
	double bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += (double)(v[i].end - v[i].start);
	double ppb = bytes > 0 ? MAX_ROWS_LINEAR * ROW_W / bytes : 1;
	l->fold_x = calloc(n ? n : 1, sizeof(double));
	l->fold_row = calloc(n ? n : 1, sizeof(int));
	if (!l->fold_x || !l->fold_row)
		return -1;
	double x = 0;
	int row = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			double gap = v[i].start > v[i - 1].end ? FOLD_W : 1;
			if (x + gap >= ROW_W) {
				row++;
				x = 0;
			} else {
				if (gap == FOLD_W) {
					l->fold_x[l->nfold] = x + FOLD_W / 2;
					l->fold_row[l->nfold++] = row;
				}
				x += gap;
			}
		}
		double w = box_w(o, &v[i], ppb);
		if (x + w > ROW_W && w <= ROW_W / 4 && x > 0) {
			row++;
			x = 0;
		}
		while (x + w > ROW_W) {
			double part = ROW_W - x;
			if (add_piece(l, i, x, part, row) < 0)
				return -1;
			w -= part;
			row++;
			x = 0;
		}
		if (add_piece(l, i, x, w, row) < 0)
			return -1;
		x += w;
	}
	l->rows = row + 1;
	return 0;
}

/* The last path component of a name, for a label (the tooltip has the whole name). */
static void label_of(const pic_mapping *m, const char **s, size_t *len)
{
	*s = m->name;
	*len = m->name_len;
	if (*len && m->name[0] == '/') {
		const char *slash = memrchr(m->name, '/', m->name_len);
		*s = slash + 1;
		*len = m->name_len - (size_t)(slash + 1 - m->name);
	}
}

static void tooltip(FILE *f, const pic_map_opts *o, const pic_mapping *m)
{
	char a[32];
	fputs("<title>", f);
	if (m->name_len)
		svg_text(f, m->name, m->name_len);
	else
		fputs("[anon]", f);
	if (m->deleted)
		fputs(" (deleted)", f);
	fprintf(f, "\n%llx-%llx %s, %s", (unsigned long long)m->start, (unsigned long long)m->end, m->perms,
		svg_fmt_bytes(a, (double)(m->end - m->start)));
	for (int c = 0; c < PIC_NCLASS; c++) {
		const char *name = o->snapshot ? classes[c].snap : classes[c].live;
		if (name && m->pages[c])
			fprintf(f, "\n%s: %s", name, svg_fmt_bytes(a, (double)m->pages[c] * PG));
	}
	fputs("</title>\n", f);
}

static void draw_piece(FILE *f, const pic_map_opts *o, const pic_mapping *m, const piece *p, bool first)
{
	double x = MARGIN + p->x, y = TOP + p->row * ROW_H;
	uint64_t tot = total_pages(m);
	/* the classes stacked top to bottom, each as tall as its share of the pages */
	double at = y;
	for (int c = 0; c < PIC_NCLASS; c++) {
		if (!m->pages[c] || !tot)
			continue;
		double h = BOX_H * (double)m->pages[c] / (double)tot;
		fprintf(f, "<rect class=\"%s\" x=\"%.2f\" y=\"%.3f\" width=\"%.2f\" height=\"%.3f\" fill=\"%s\"/>\n",
			classes[c].cls, x, at, p->w, h, classes[c].fill);
		at += h;
	}
	fprintf(f, "<rect class=\"outline\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
		   "stroke=\"#333333\" stroke-width=\"0.5\"/>\n", x, y, p->w, BOX_H);
	if (first && p->w >= 36) {
		const char *s;
		size_t len;
		label_of(m, &s, &len);
		size_t fit = (size_t)(p->w / 6.5);
		if (!len) {
			s = "[anon]";
			len = 6;
		}
		fprintf(f, "<text class=\"label\" x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#222222\">", x + 1,
			y + BOX_H + 12);
		if (len > fit) {
			/* cut on a character boundary */
			size_t k = fit > 1 ? fit - 1 : 0;
			while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
				k--;
			svg_text(f, s, k);
			fputs("\xe2\x80\xa6", f);
		} else {
			svg_text(f, s, len);
		}
		fputs("</text>\n", f);
	}
	(void)o;
}

int pic_map_write(const char *path, bool force, const pic_map_opts *o, const pic_mapping *v, size_t n)
{
	layout l = { 0 };
	if (lay_out(o, v, n, &l) < 0) {
		free(l.p);
		free(l.fold_x);
		free(l.fold_row);
		fprintf(stderr, "memlens: %s: out of memory\n", path);
		return CLI_EXIT_ERROR;
	}
	double height = TOP + l.rows * ROW_H + 40;
	svg_doc s;
	char title[512];
	snprintf(title, sizeof(title), "memlens pagemap: %s", o->title);
	if (svg_begin(&s, WIDTH, height, title) < 0) {
		free(l.p);
		free(l.fold_x);
		free(l.fold_row);
		fprintf(stderr, "memlens: %s: out of memory\n", path);
		return CLI_EXIT_ERROR;
	}
	FILE *f = s.f;
	uint64_t sum[PIC_NCLASS] = { 0 }, mapped = 0;
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < PIC_NCLASS; c++)
			sum[c] += v[i].pages[c];
		mapped += v[i].end - v[i].start;
	}
	char a[32], b[32];
	fprintf(f, "<text class=\"heading\" x=\"%.0f\" y=\"22\" font-size=\"16\" font-weight=\"bold\">", MARGIN);
	svg_ctext(f, title);
	fputs("</text>\n", f);
	uint64_t resident = sum[PIC_PRESENT] + sum[PIC_FILE] + sum[PIC_THP] + sum[PIC_ZERO];
	fprintf(f, "<text class=\"summary\" x=\"%.0f\" y=\"40\">%zu mappings, %s mapped, %s %s; boxes %s, "
		   "gaps between mappings folded; colours stacked by share of pages, not by position</text>\n",
		MARGIN, n, svg_fmt_bytes(a, (double)mapped), svg_fmt_bytes(b, (double)resident * PG),
		o->snapshot ? "captured or zero" : "present",
		o->log_axis ? "sized by log2 of their size" : "to scale (3 px at least)");
	if (o->unread)
		fprintf(f, "<text class=\"unread\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" font-size=\"11\" fill=\"#b00000\">"
			   "partial: %zu mapping(s) could not be read and are not drawn</text>\n",
			WIDTH - MARGIN, 22.0, o->unread);
	/* the legend: only the classes this kind of source has */
	double lx = MARGIN;
	for (int c = 0; c < PIC_NCLASS; c++) {
		const char *name = o->snapshot ? classes[c].snap : classes[c].live;
		if (!name)
			continue;
		char lab[96];
		snprintf(lab, sizeof(lab), "%s%s", name,
			 (c == PIC_ZERO && o->zero_unknown) || (c == PIC_THP && o->thp_unknown)
				 ? " (not told apart here: in present)" : "");
		fprintf(f, "<g class=\"legend\"><rect x=\"%.1f\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\" "
			   "stroke=\"#333333\" stroke-width=\"0.5\"/><text x=\"%.1f\" y=\"60\">%s</text></g>\n",
			lx, classes[c].fill, lx + 16, lab);
		lx += 16 + 6.6 * (double)strlen(lab) + 14;
	}
	for (size_t i = 0, k = 0; i < n; i++) {
		fprintf(f, "<g class=\"mapping\" data-start=\"0x%llx\" data-end=\"0x%llx\">\n",
			(unsigned long long)v[i].start, (unsigned long long)v[i].end);
		tooltip(f, o, &v[i]);
		for (bool first = true; k < l.n && l.p[k].m == i; k++, first = false)
			draw_piece(f, o, &v[i], &l.p[k], first);
		fputs("</g>\n", f);
	}
	for (size_t i = 0; i < l.nfold; i++) {
		double x = MARGIN + l.fold_x[i], y = TOP + l.fold_row[i] * ROW_H;
		fprintf(f, "<path class=\"fold\" d=\"M%.1f %.1f l-3 6 l6 6 l-6 6 l6 6 l-3 6\" fill=\"none\" "
			   "stroke=\"#999999\" stroke-width=\"1\"/>\n", x, y);
	}
	fprintf(f, "<text class=\"footer\" x=\"%.0f\" y=\"%.0f\" font-size=\"10\" fill=\"#555555\">"
		   "addresses rise left to right, row by row; a zigzag is a gap in the address space; "
		   "hover a box for its name, range and page counts</text>\n", MARGIN, height - 14);
	free(l.p);
	free(l.fold_x);
	free(l.fold_row);
	return svg_finish(&s, path, force);
}
