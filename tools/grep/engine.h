/* The pattern set and the scratch of grep's search engines, shared by engine.c (building a set) and scan.c (searching with it). */
#ifndef MEMLENS_TOOLS_GREP_ENGINE_H
#define MEMLENS_TOOLS_GREP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef MEMLENS_HAVE_VECTORSCAN
#include <hs/hs.h>
#endif
#define GP_DL_REDIRECT
#include "grep/dl.h"

#include "grep/grep.h"

struct gp_set {
	gp_set_opts o;
	gp_user *users;
	size_t nusers;
	gp_pat *pats;
	size_t npats;
	size_t overlap;
	size_t nregex;
	bool use_vs;
	/* portable engine */
	gp_lit1 *lit1;          /* one per literal variant when few */
	size_t *lit_ids;        /* pattern ids of literal variants */
	size_t nlits;
	gp_litn *litn;          /* when many */
	const uint8_t **litn_needles;
	size_t *litn_lens;
	gp_lit1 *hex_anchor;    /* per pattern (only hex entries used) */
#ifdef MEMLENS_HAVE_VECTORSCAN
	hs_database_t **db;     /* streaming; several when there are many regexes (VS_GROUP) */
	size_t ndb;
#endif
};

struct gp_scratch {
	const gp_set *set;
	gp_hit *hits;
	size_t nhits, cap;
	uint64_t *re_next;      /* per pattern: absolute address where the regex resumes, */
	uint32_t *re_run;       /* if set in the current run (so a reset costs nothing per pattern) */
	uint32_t run;
	size_t *hex_next;       /* per pattern: next start to test (Vectorscan hex confirm) */
	uint64_t re_floor;      /* no regex resumes before this in run floor_run (a unit's start) */
	uint32_t floor_run;
	pcre2_match_data *md;
	pcre2_match_context *mctx; /* a larger JIT stack and the callout of re_settle(), made when needed */
	pcre2_jit_stack *jstack;
	pcre2_code **settle;    /* per pattern: the regex followed by a callout (re_settle()), when needed */
	pcre2_code **anchored;  /* per pattern: the regex compiled anchored (re_failed()), when needed */
	size_t settle_limit;    /* the callout's bound: the end of the buffer */
	size_t avail;           /* bytes of the buffer there (>= len) */
	bool eod;               /* the run ends where those bytes end */
	uint64_t base;          /* absolute address of the buffer */
	gp_fail *fails;         /* starts PCRE2 could not try, in the current scan */
	size_t nfails, capfails;
	/* current scan, for callbacks */
	const uint8_t *buf;
	size_t len, report_lo, hi;
	uint32_t cur_pat;
	bool oom;
	uint64_t run_lo;        /* where the run being scanned starts */
	uint32_t re_opts;       /* PCRE2_NOTBOL / PCRE2_NOTEOL where the buffer does not start / end the run */
#ifdef MEMLENS_HAVE_VECTORSCAN
	hs_scratch_t *hs;
	hs_stream_t **stream;   /* per database: one stream per contiguous run of memory */
	hs_stream_t **once;     /* per database, for the seams: one chunk each, its end not taken */
	bool vs_open;           /* the stream holds the data fed since vs_base */
	bool vs_eod;            /* the end of the data has been signalled: nothing more to feed */
	uint64_t vs_base;       /* absolute address of stream offset 0 */
	uint64_t fed;           /* absolute address up to which the stream has been fed */
	uint64_t cb_base;       /* absolute address of offset 0 of what Vectorscan scans now */
	uint64_t cb_limit;      /* ends past this are dropped */
	uint8_t *pad;           /* the last bytes of a run followed by padding */
	uint64_t *seams;        /* chunk ends still to be checked (see VS_SEAM) */
	size_t nseams, capseams;
	struct gp_end { uint64_t end; uint32_t pat; } *raw; /* reported match ends, pending */
	size_t nraw, rawcap;
#endif
};

#endif
