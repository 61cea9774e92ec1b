/* WSS over time: one chart per process, the WSS curve, RSS for reference, mappings if asked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/svg.h"
#include "svg/pictures.h"

#define WIDTH 1000.0
#define PANEL_H 330.0
#define TOP 36.0
#define PLOT_X0 90.0
#define PLOT_X1 (WIDTH - 240.0) /* the legend is on the right */
#define PLOT_DY 40.0            /* from the panel's top to the plot's */
#define PLOT_H 240.0

static const char *const region_colours[] = {
	"#2a9d8f", "#8e44ad", "#e67e22", "#7f8c8d", "#c2185b", "#2c3e50", "#6d4c41", "#b7950b",
};
#define NCOLOURS (sizeof(region_colours) / sizeof(region_colours[0]))

/* A round step for about @n ticks over [0, max]. */
static double nice_step(double max, int n)
{
	if (max <= 0)
		return 1;
	double raw = max / n, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* A round step in bytes (powers of two times 1, 2 or 5 of a binary unit). */
static double byte_step(double max, int n)
{
	double unit = 1;
	while (max / unit >= 1024 * n && unit < 1099511627776.0)
		unit *= 1024;
	return nice_step(max / unit, n) * unit;
}

typedef struct frame {
	double y0;       /* the plot's top */
	double tmax, vmax;
} frame;

static double px(const frame *fr, double t) { return PLOT_X0 + (fr->tmax > 0 ? t / fr->tmax : 0) * (PLOT_X1 - PLOT_X0); }
static double py(const frame *fr, double v) { return fr->y0 + PLOT_H - (fr->vmax > 0 ? v / fr->vmax : 0) * PLOT_H; }

/* Draws @v as polylines (a NAN ends one), with the raw values in data-values. */
static void curve(FILE *f, const frame *fr, const pic_wss_panel *p, const double *v, const char *cls,
		  const char *colour, const char *extra, const char *label)
{
	size_t i = 0;
	while (i < p->n) {
		while (i < p->n && isnan(v[i]))
			i++;
		if (i == p->n)
			break;
		size_t j = i;
		while (j < p->n && !isnan(v[j]))
			j++;
		fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"", cls,
			colour, !strcmp(cls, "wss") ? "2" : "1.5", extra);
		for (size_t k = i; k < j; k++)
			fprintf(f, "%s%.2f,%.2f", k > i ? " " : "", px(fr, p->t[k]), py(fr, v[k]));
		fputs("\" data-values=\"", f);
		for (size_t k = i; k < j; k++)
			fprintf(f, "%s%.0f", k > i ? " " : "", v[k]);
		fputs("\"><title>", f);
		svg_ctext(f, label);
		fputs("</title></polyline>\n", f);
		/* a single sample is a point, not a line: mark it */
		if (j - i == 1)
			fprintf(f, "<circle class=\"%s-point\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", cls,
				px(fr, p->t[i]), py(fr, v[i]), colour);
		i = j;
	}
}

static void legend_entry(FILE *f, double x, double y, const char *colour, const char *dash, const char *label)
{
	fprintf(f, "<g class=\"legend\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		   "stroke-width=\"2\"%s/><text x=\"%.1f\" y=\"%.1f\">", x, y - 4, x + 22, y - 4, colour, dash,
		x + 28, y);
	svg_ctext(f, label);
	fputs("</text></g>\n", f);
}

static void panel(FILE *f, const pic_wss_panel *p, double top)
{
	frame fr = { .y0 = top + PLOT_DY };
	for (size_t i = 0; i < p->n; i++) {
		if (p->t[i] > fr.tmax)
			fr.tmax = p->t[i];
		if (p->wss[i] > fr.vmax)
			fr.vmax = p->wss[i];
		if (p->rss[i] > fr.vmax)
			fr.vmax = p->rss[i];
		for (size_t r = 0; r < p->nregions; r++)
			if (!isnan(p->regions[r].v[i]) && p->regions[r].v[i] > fr.vmax)
				fr.vmax = p->regions[r].v[i];
	}
	double ystep = byte_step(fr.vmax, 5);
	fr.vmax = ystep * ceil(fr.vmax / ystep);
	if (fr.vmax <= 0)
		fr.vmax = ystep;
	double tstep = nice_step(fr.tmax, 8);
	fr.tmax = fr.tmax > 0 ? tstep * ceil(fr.tmax / tstep) : 1;
	fprintf(f, "<g class=\"panel\">\n<text class=\"panel-title\" x=\"%.0f\" y=\"%.0f\" font-size=\"14\" "
		   "font-weight=\"bold\">", PLOT_X0, top + 22);
	svg_ctext(f, p->title);
	fputs("</text>\n", f);
	/* grid and axes */
	char b[32];
	for (double v = 0; v <= fr.vmax + ystep / 2; v += ystep) {
		double y = py(&fr, v);
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#dddddd\"/>"
			   "<text x=\"%.1f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"10\">%s</text>\n",
			PLOT_X0, y, PLOT_X1, y, PLOT_X0 - 6, y + 4, svg_fmt_bytes(b, v));
	}
	for (double t = 0; t <= fr.tmax + tstep / 2; t += tstep) {
		double x = px(&fr, t);
		fprintf(f, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>"
			   "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%g s</text>\n",
			x, fr.y0, x, fr.y0 + PLOT_H, x, fr.y0 + PLOT_H + 14, t);
	}
	fprintf(f, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		   "stroke=\"#555555\"/>\n", PLOT_X0, fr.y0, PLOT_X1 - PLOT_X0, PLOT_H);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">time since the first "
		   "clear (end of each window)</text>\n", (PLOT_X0 + PLOT_X1) / 2, fr.y0 + PLOT_H + 30);
	/* curves: RSS under WSS, regions under both */
	for (size_t r = 0; r < p->nregions; r++)
		curve(f, &fr, p, p->regions[r].v, "region", region_colours[r % NCOLOURS], "", p->regions[r].label);
	curve(f, &fr, p, p->rss, "rss", "#4a90d9", " stroke-dasharray=\"6 4\"", "RSS");
	curve(f, &fr, p, p->wss, "wss", "#d9534f", "", "WSS");
	double lx = PLOT_X1 + 16, ly = fr.y0 + 8;
	legend_entry(f, lx, ly, "#d9534f", "", "WSS");
	legend_entry(f, lx, ly + 18, "#4a90d9", " stroke-dasharray=\"6 4\"", "RSS");
	for (size_t r = 0; r < p->nregions && r < 12; r++) {
		char lab[40];
		const char *s = p->regions[r].label;
		size_t n = strlen(s);
		/* long names are cut on the left: the file's own name is at the end */
		if (n > 30) {
			s += n - 29;
			while (((unsigned char)*s & 0xc0) == 0x80)
				s++;
			snprintf(lab, sizeof(lab), "\xe2\x80\xa6%s", s);
		} else {
			snprintf(lab, sizeof(lab), "%s", s);
		}
		legend_entry(f, lx, ly + 36 + 18 * (double)r, region_colours[r % NCOLOURS], "", lab);
	}
	fputs("</g>\n", f);
}

int pic_wss_write(const char *path, bool force, const char *title, const pic_wss_panel *p, size_t n)
{
	svg_doc s;
	double h = TOP + PANEL_H * (double)(n ? n : 1) + 10;
	if (svg_begin(&s, WIDTH, h, title) < 0) {
		fprintf(stderr, "memlens: %s: out of memory\n", path);
		return CLI_EXIT_ERROR;
	}
	fprintf(s.f, "<text class=\"heading\" x=\"20\" y=\"24\" font-size=\"16\" font-weight=\"bold\">");
	svg_ctext(s.f, title);
	fputs("</text>\n", s.f);
	for (size_t i = 0; i < n; i++)
		panel(s.f, &p[i], TOP + PANEL_H * (double)i);
	return svg_finish(&s, path, force);
}
