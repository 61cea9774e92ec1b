/* A progress line on stderr for long work, shown only when stderr is a terminal. */
#ifndef MEMLENS_TOOLS_PROGRESS_H
#define MEMLENS_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress_line {
	bool on;        /* stderr is a terminal (or forced) */
	bool shown;     /* a line is on the screen */
	uint64_t last;  /* CLOCK_MONOTONIC ns of the last update */
	uint64_t start;
	const char *what; /* "grep", "core expand" */
} progress_line;

/* Starts a progress line for @what: on when stderr is a terminal, or when @force. */
void progress_init(progress_line *p, const char *what, bool force);
/* Redraws the line (at most 10 times a second): "memlens WHAT: LABEL DONE/TOTAL (N%) ETA". */
void progress_update(progress_line *p, const char *label, uint64_t done, uint64_t total);
/* As progress_update() for work counted in items: "memlens WHAT: DONE UNIT". */
void progress_count(progress_line *p, const char *unit, uint64_t done);
/* Erases the line (before other output on the terminal, and at the end). */
void progress_clear(progress_line *p);

#endif
