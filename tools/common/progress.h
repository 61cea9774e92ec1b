/* A progress line on stderr for long work, shown only when stderr is a terminal. */
#ifndef MEMLENS_TOOLS_PROGRESS_H
#define MEMLENS_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ml_progress {
	bool on;        /* stderr is a terminal (or forced) */
	bool shown;     /* a line is on the screen */
	uint64_t last;  /* CLOCK_MONOTONIC ns of the last update */
	uint64_t start;
	const char *what; /* "grep", "core expand" */
} ml_progress;

/* Starts a progress line for @what: on when stderr is a terminal, or when @force. */
void ml_progress_init(ml_progress *p, const char *what, bool force);
/* Redraws the line (at most 10 times a second): "memlens WHAT: LABEL DONE/TOTAL (N%) ETA". */
void ml_progress_update(ml_progress *p, const char *label, uint64_t done, uint64_t total);
/* As ml_progress_update() for work counted in items: "memlens WHAT: DONE UNIT". */
void ml_progress_count(ml_progress *p, const char *unit, uint64_t done);
/* Erases the line (before other output on the terminal, and at the end). */
void ml_progress_clear(ml_progress *p);

#endif
