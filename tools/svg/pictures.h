/* The pictures memlens draws: the address space as a map (pagemap), WSS over time (wss). */
#ifndef MEMLENS_TOOLS_PICTURES_H
#define MEMLENS_TOOLS_PICTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Page classes of the map, each page in exactly one. */
enum {
	PIC_PRESENT,  /* present, anonymous (or, for a snapshot, captured data) */
	PIC_FILE,     /* present, file-backed page cache */
	PIC_THP,      /* present in a transparent huge page */
	PIC_ZERO,     /* mapped to the shared zero page */
	PIC_SWAPPED,  /* swapped out (or a swap entry of shmem) */
	PIC_EXCLUDED, /* snapshot: not captured or unreadable */
	PIC_UNPOP,    /* never touched: no page */
	PIC_NCLASS,
};

typedef struct pic_mapping {
	uint64_t start, end;
	const char *name; /* exact bytes, shown escaped */
	size_t name_len;
	bool deleted;      /* shown as " (deleted)" after the name */
	char perms[5];
	uint64_t pages[PIC_NCLASS];
} pic_mapping;

typedef struct pic_map_opts {
	const char *title;   /* "pid 123 (cat)" or the snapshot's file name */
	bool log_axis;       /* width by log2(size) instead of to scale with the gaps folded */
	bool snapshot;       /* the classes a snapshot has (data, zero, swapped, excluded, unpopulated) */
	bool zero_unknown;   /* zero-page pages could not be told apart (no PFNs): counted as present */
	bool thp_unknown;    /* THP could not be told apart: counted as present */
	size_t unread;       /* mappings that could not be read (not drawn) */
} pic_map_opts;

/* Draws @n mappings (sorted by address) into @path (atomically). Returns 0 or CLI_EXIT_ERROR. */
int pic_map_write(const char *path, bool force, const pic_map_opts *o, const pic_mapping *v, size_t n);

/* One curve: a value per sample (a sample where it was not measured is NAN: a break in the line). */
typedef struct pic_series {
	char *label;
	double *v;
} pic_series;

typedef struct pic_wss_panel {
	char *title;         /* "pid 123 (cat)" */
	size_t n;            /* samples */
	double *t;           /* seconds since the start, per sample */
	double *wss, *rss;   /* bytes per sample */
	pic_series *regions; /* per mapping, if asked */
	size_t nregions;
} pic_wss_panel;

/* Draws one chart per panel into @path (atomically). Returns 0 or CLI_EXIT_ERROR. */
int pic_wss_write(const char *path, bool force, const char *title, const pic_wss_panel *p, size_t n);

#endif
