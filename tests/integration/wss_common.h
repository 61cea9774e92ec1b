/* Shared helpers of the working-set integration suites: the calibration child and one window. */
#ifndef ML_TEST_WSS_COMMON_H
#define ML_TEST_WSS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define PG 4096ull
#define HPG (2ull << 20)
#define RUNS 20

typedef struct cal {
	mlt_child *c;
	ml_proc *p;
} cal;

static inline cal cal_new(void)
{
	cal k;
	k.c = mlt_spawn("ml_wsscal", NULL);
	ck_assert_int_eq(ml_proc_open(k.c->pid, &k.p), 0);
	return k;
}

static inline void cal_free(cal *k)
{
	ml_proc_free(k->p);
	mlt_child_free(k->c);
}

/* Maps a region in the child; returns its id, sets *addr. */
static inline int cal_map(cal *k, uint64_t npages, const char *mode, uint64_t *addr)
{
	const char *r = mlt_cmd_ok(k->c, "map %llu %s", (unsigned long long)npages, mode);
	*addr = mlt_kv(r, "addr");
	return (int)mlt_kv(r, "id");
}

static inline const ml_wss_region *region_at(const ml_wss_sample *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].start <= addr && addr < s->regions[i].end)
			return &s->regions[i];
	return NULL;
}

static inline ml_wss *open_window(cal *k, ml_wss_scope scope, ml_wss_flush flush)
{
	ML_OPTS(ml_wss_opts, o, .backend = ML_WSS_REFERENCED, .scope = scope, .flush = flush);
	ml_wss *w = NULL;
	int r = ml_wss_start(k->p, &o, &w);
	ck_assert_msg(r == 0, "ml_wss_start: %s", ml_strerror(r));
	return w;
}

static inline ml_wss_sample *close_window(ml_wss *w)
{
	ml_wss_sample *s = NULL;
	int r = ml_wss_read(w, &s);
	ck_assert_msg(r == 0, "ml_wss_read: %s", ml_strerror(r));
	return s;
}

/* The region's WSS after the child touches @k pages (@mode r|w, @stride apart) in one window. */
static inline uint64_t window_touch(cal *k, int id, uint64_t addr, uint64_t n, const char *mode,
			     uint64_t stride, ml_wss_flush flush, const ml_wss_sample **keep)
{
	ml_wss *w = open_window(k, ML_WSS_SCOPE_ALL, flush);
	mlt_cmd_ok(k->c, "touch %d %llu %s %llu", id, (unsigned long long)n, mode, (unsigned long long)stride);
	ml_wss_sample *s = close_window(w);
	const ml_wss_region *r = region_at(s, addr);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->measured);
	uint64_t v = r->wss;
	if (keep)
		*keep = s;
	else
		ml_wss_sample_free(s);
	ml_wss_free(w);
	return v;
}


#endif
