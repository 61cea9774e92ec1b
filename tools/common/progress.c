/* A progress line on stderr for long work, shown only when stderr is a terminal. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/progress.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void progress_init(progress_line *p, const char *what, bool force)
{
	*p = (progress_line){ .on = force || isatty(STDERR_FILENO), .what = what, .start = now_ns() };
}

void progress_update(progress_line *p, const char *label, uint64_t done, uint64_t total)
{
	if (!p->on)
		return;
	uint64_t t = now_ns();
	/* at most 10 redraws a second; the line is erased when the work ends */
	if (p->shown && t - p->last < 100000000u)
		return;
	p->last = t;
	char a[32], b[32];
	double frac = total ? (double)done / (double)total : 0;
	fprintf(stderr, "\r\033[Kmemlens %s: %s%s%s", p->what, label ? label : "", label ? " " : "",
		cli_fmt_size(a, done, true));
	if (total) {
		fprintf(stderr, "/%s (%.0f%%)", cli_fmt_size(b, total, true), 100 * frac);
		double el = (double)(t - p->start) / 1e9;
		if (frac > 0.02 && frac < 1)
			fprintf(stderr, ", %.0fs left", el / frac - el);
	}
	fflush(stderr);
	p->shown = true;
}

void progress_count(progress_line *p, const char *unit, uint64_t done)
{
	if (!p->on)
		return;
	uint64_t t = now_ns();
	if (p->shown && t - p->last < 100000000u)
		return;
	p->last = t;
	fprintf(stderr, "\r\033[Kmemlens %s: %llu %s", p->what, (unsigned long long)done, unit);
	fflush(stderr);
	p->shown = true;
}

void progress_clear(progress_line *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}
