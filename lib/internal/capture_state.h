/* The state of one ml_capture(), shared by lib/capture.c (the run, reading memory),
 * lib/capture_stage.c (the staging area), lib/capture_cow.c (the copy-on-write copy) and
 * lib/capture_threads.c (the notes of the process and its threads). */
#ifndef MEMLENS_INTERNAL_CAPTURE_STATE_H
#define MEMLENS_INTERNAL_CAPTURE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal/internal.h"
#include "internal/capture_impl.h"
#include "internal/page.h"
#include "internal/inject.h"
#include <memlens/capture.h>
#include <memlens/freeze.h>
#include <memlens/maps.h>
#include <memlens/pagemap.h>
#include <memlens/smaps.h>
#include <memlens/snapshot.h>

#define CAP_NREG 512

typedef struct cap {
	const ml_proc *p;
	pid_t pid;
	/* What memory is read from: the target, or (--freeze=cow, once it runs again) its copy. */
	const ml_proc *rp;
	ml_pagemap *rpm;
	ml_proc *child;       /* the copy-on-write copy, held by us */
	ml_pagemap *child_pm;
	int child_mem;        /* its /proc/PID/mem */
	pid_t child_pid;      /* set as soon as it exists: killed and reaped on every path */
	ml__gadgets gad;
	ml_capture_opts o;
	ml_snapshot_writer *w;
	ml_freeze *fz;
	ml_smaps *sm;       /* the mappings, read once the target is held */
	ml_maps *exact;     /* exact names for what smaps text left ambiguous (see exact_names) */
	ml_buf resolved;    /* "START-END\n" of each mapping whose ambiguous name was resolved */
	size_t nv;
	ml_pagemap *pm;
	ml_scan_opts so;
	uint64_t page;
	ml_capture_result res;
	ml_capture_progress prog;
	uint64_t next_prog;
	ml_page_region reg[CAP_NREG];
	/* Staging area: memory read while the target is held lands here (faulted in before
	 * the freeze). After the release the writer compresses (or writes) straight from it;
	 * each 2 MiB block is freed once the writer has released all of it. (Handing it over
	 * while the target is held, for a core the reading leaves idle, made the stop 11%
	 * longer and the wall time no shorter: docs/benchmarks.md.) */
	unsigned char *stage;
	size_t stage_cap, stage_used;
	uint32_t *blk;      /* per block: bytes released by the writer (atomic) */
	size_t nblk;
	struct stage_seg {
		uint64_t addr;
		size_t off, len, vma;
	} *seg;
	size_t nseg, capseg, cur_vma;
} cap;

#define STAGE_BLOCK (2u << 20)

/* Sets the capture's error detail unless one is set already (the first, innermost reason
 * wins); returns @err. */
int ml__cap_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t ml__cap_now_ns(void);
uint64_t ml__cap_meminfo_available(void);

/* ---- the staging area (capture_stage.c) ---- */
void ml__cap_stage_alloc(cap *c, const char *status, size_t status_len, uint64_t budget);
int ml__cap_stage_note(cap *c, uint64_t addr, size_t off, size_t len);
int ml__cap_stage_feed(cap *c);

/* ---- the copy-on-write copy (capture_cow.c) ---- */
int ml__cap_cow_refuse(cap *c, const char *why);
const char *ml__cap_cow_precheck(cap *c, const char *status, size_t status_len);
const char *ml__cap_cow_vmcheck(cap *c);
bool ml__cap_held_in_target(const ml_smaps_vma *v);
void ml__cap_cow_end(cap *c);

/* ---- the notes (capture_threads.c) ---- */
int ml__cap_build_notes(cap *c, const char *cmdline, size_t cmdline_len, const char *comm, size_t comm_len,
			const char *auxv, size_t auxv_len, const char *status, size_t status_len);

#endif
