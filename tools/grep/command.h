/* memlens grep, the command: options, sources, units of work and what the files of tools/grep/ share. */
#ifndef MEMLENS_TOOLS_GREP_COMMAND_H
#define MEMLENS_TOOLS_GREP_COMMAND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/progress.h"
#include "grep/grep.h"

#define WINDOW (512u << 10)      /* bytes read and searched per window: fewer, larger reads */
#define SUBWINDOW (256u << 10) /* bytes searched per engine call within a window */
#define SLICE (64ull << 20)    /* work unit: regions are split at multiples of this address */
#define RUNS_BATCH 256

typedef struct upat { gp_kind kind; char *text; size_t len; } upat;

typedef struct gopts {
	gp_set_opts so;
	bool regex;
	upat *pats;
	size_t npats;
	const char **pattern_files;
	size_t nfiles;
	uint32_t kinds;         /* bit per ml_vma_kind; 0 = default selection */
	const char *perm;
	const char *name;
	uint64_t alo, ahi;
	bool have_addr, swapped, all, raw, only, count, list, quiet, json, redact, where, stats, resident;
	uint64_t base, max;
	unsigned ctx;
	unsigned jobs;
	pid_t *pids;
	size_t npids;
	bool error;
} gopts;

typedef struct region {
	ml_vma v;
	uint64_t lo, hi;        /* the part searched (clipped by --addr) */
} region;

typedef struct stats {
	uint64_t scanned;                 /* bytes searched */
	uint64_t skipped[ML_RUN_KIND_COUNT];
	uint64_t err_bytes[8];            /* bytes not read because of an error, by reason */
	uint64_t regions;
} stats;

#define ERR_REASONS 5
#define ERR_UNREADABLE 0
#define ERR_OTHER 3
#define ERR_DAMAGED 4
/* What workers record when the search itself failed (gp_scan()'s -EIO: Vectorscan refused a
 * scan), so that it is neither counted nor described as memory that could not be read. */
#define GREP_ERR_SCAN (-ENOTRECOVERABLE)

typedef struct unit {
	size_t idx;             /* order of the unit among all units of the source */
	size_t region;
	uint64_t a, b;
	/* output, filled by a worker, printed in order */
	char *out;
	size_t outlen;
	FILE *f;
	struct uhit { uint32_t user; size_t end; } *hits;
	size_t nhits, caphits;
	bool done;
} unit;

/* Where the regexes' chains of matches stand at the end of a unit, for the unit after it
 * (workers.c): the patterns whose last match crosses @at, and where those matches end. */
typedef struct handoff {
	size_t idx;             /* the unit it is for */
	uint64_t at;            /* that unit's start */
	bool ready, known;
	uint32_t *pat;
	uint64_t *next;
	size_t n, cap;
} handoff;

typedef struct src {
	const gopts *o;
	const gp_set *set;
	ml_source *s;           /* NULL for --raw */
	int raw_fd;
	const char *label;      /* "1234" or the file name */
	pid_t pid;
	region *regions;
	size_t nregions;
	ml_maps *maps;
	/* Units are made as they are claimed, walking the regions' page runs in address order,
	 * so a huge sparse reservation costs one page-table walk and no memory; only units
	 * waiting to be printed hold a slot in the ring. */
	unit *ring;
	size_t nring;
	size_t produced;        /* units handed out so far */
	size_t prod_region;
	uint64_t prod_pos;
	pthread_cond_t cv;      /* a ring slot was freed, a unit finished */
	handoff *hand;          /* 2 * nring: the one for unit i is hand[i % (2 * nring)] */
	/* Each worker and the unit maker read a live process through their own ml_source on
	 * the shared handle: each then walks addresses forward only, which keeps the source's
	 * cached view of the mappings valid instead of making it re-read them at every call. */
	const ml_source *prod_via;
	ml_source *prod_own;
	atomic_bool stop;
	atomic_bool gone;
	pthread_mutex_t mu;     /* printing, stats, heap walks */
	size_t next_print;
	uint64_t printed;
	uint64_t *counts;       /* per user pattern */
	stats st;
	uint64_t total, done;   /* bytes of the regions to search, of the units finished */
	int first_err;
	/* heap walks, one per [heap] region, made when first needed */
	struct { uint64_t start; gp_heap *h; bool tried; } heaps[4];
	size_t nheaps;
} src;
/* Bytes failed, by reason (the slots workers.c sorts errors into). */
extern const char *const grep_err_reason[8];

/* A unit whose pending output grows past these prints what it has once it is next. */
#define SPILL_BYTES (8u << 20)
#define SPILL_HITS (256u << 10)

/* grep_source()'s result when damaged stored data was skipped (a partial result). */
#define GREP_DAMAGED 3

/* options.c */
extern const cli_cmd grep_cmd;
int grep_on_opt(int key, const char *arg, void *ctx);
int grep_add_pattern(gopts *o, gp_kind k, const char *s, size_t len);
int grep_read_pattern_file(gopts *o, const char *path);

/* source.c */
ssize_t grep_read(const src *s, const ml_source *via, uint64_t addr, void *buf, size_t len, bool populated);
long grep_heap_read(void *ctx, uint64_t addr, void *buf, size_t len);
int grep_source(const gopts *o, const gp_set *set, const char *spec, pid_t pid, bool quiet_errors,
		atomic_bool *global_stop);

/* output.c */
extern progress_line grep_progress;
void grep_format_hit(src *s, FILE *f, const region *r, const gp_hit *h, const uint8_t *buf, size_t len,
		     uint64_t base, const char *from);
void grep_flush_units(src *s);
/* Prints the pending hits of @u once it is the next unit to print (see output.c); 1 when
 * nothing more is to be printed, so its search can stop. */
int grep_spill_unit(src *s, unit *u);
/* The stream @u's text goes to, opened on first use; NULL on ENOMEM. The text written to it
 * before each grep_unit_add_hit() is that hit's. */
FILE *grep_unit_stream(unit *u);
int grep_unit_add_hit(unit *u, uint32_t user);
void grep_print_summary(src *s, double secs);
/* Whether the process exited before any of its memory was read (exit 2, no counts). */
bool grep_gone_unread(src *s);
/* The source's first error in words. */
const char *grep_strerror(const src *s);

/* workers.c */
int grep_run_workers(src *s, unsigned jobs);

#endif
