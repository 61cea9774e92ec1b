/* memlens pagemap: the options, the counters and what the files of tools/pagemap/ share. */
#ifndef MEMLENS_TOOLS_PAGEMAP_PAGEMAP_H
#define MEMLENS_TOOLS_PAGEMAP_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"

#define PG 4096u
#define ENTRY_CHUNK 16384u  /* pagemap entries per read (64 MiB of address space) */
#define KPAGE_BATCH 65536u  /* PFNs per kpage lookup: more sort into fewer windows */
#define REGIONS 4096u       /* page runs per scan call */

extern const cli_cmd pagemap_cmd;

typedef struct args {
	bool json, bytes, pages, populated, nokpage, emulate, have_addr, force, svg_log;
	uint64_t lo, hi;
	selection sel;
	const char *svg;
	const char *sort; /* a column name, resolved once the source's columns are known */
	bool reverse;
} args;

/* The live counters (with the kpage ones from C_FIRST_KPAGE on). */
enum {
	C_MAPPED, C_PRESENT, C_SWAPPED, C_ZERO, C_THP, C_FILE, C_EXCL, C_SDIRTY, C_UFFDWP, C_GUARD,
	C_KSM, C_DIRTY, C_LRU, C_ACTIVE, C_REFERENCED, C_IDLE, C_SHARED,
	C_NLIVE,
	C_XFILE = C_NLIVE, /* present file pages, neither zero nor THP (the picture's classes) */
};
#define C_FIRST_KPAGE C_KSM
extern const char *const pagemap_live_names[C_NLIVE];
extern const char *const pagemap_live_heads[C_NLIVE];
/* The snapshot columns: mapped, then the kinds a snapshot stores (ML_RUN_FILE is live only). */
#define C_NSNAP (ML_RUN_UNREADABLE + 2)
extern const char *const pagemap_run_names[C_NSNAP];
extern const char *const pagemap_run_heads[C_NSNAP];

typedef struct counts {
	uint64_t v[C_NLIVE + 1 > ML_RUN_KIND_COUNT + 1 ? C_NLIVE + 1 : ML_RUN_KIND_COUNT + 1];
} counts;

typedef struct pagemap_ctx {
	args a;
	ml_source *src;
	const ml_proc *proc; /* NULL for a snapshot */
	ml_pagemap *pm;
	ml_kpage *kp;        /* NULL unless root and wanted */
	uint64_t scan_cats;
	uint64_t *ent, *pfn, *kf, *kc;
	uint32_t *owner;     /* the mapping each queued PFN counts for */
	size_t npend;        /* queued PFNs */
	ml_page_region *reg;
} pagemap_ctx;

/* count.c: the counts of mappings first..last of a live process into k[first..], of a snapshot's [s, e) into *k. */
int pagemap_count_live(pagemap_ctx *c, const ml_maps *m, size_t first, size_t last, counts *k);
int pagemap_count_runs(pagemap_ctx *c, uint64_t s, uint64_t e, counts *k);
const char *pagemap_fmt_count(pagemap_ctx *c, char buf[32], uint64_t pages);
bool pagemap_known(const pagemap_ctx *c, bool live, size_t x);
void pagemap_put_json(const pagemap_ctx *c, json_writer *j, bool live, size_t x, const char *name, uint64_t pages);

/* report.c: the per-mapping table (and --svg) of source @spec. */
int pagemap_report(pagemap_ctx *c, const char *spec);
/* list.c: --addr: the run-length listing of one range of a live process. */
int pagemap_list_range(pagemap_ctx *c);

#endif
