/* The window scanner: a scratch per thread, searching buffers with a compiled pattern set (the portable engine or Vectorscan streams). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep/engine.h"

/* anchored[] of a regex whose anchored form could not be made */
static char no_code;
#define NO_CODE ((pcre2_code *)(void *)&no_code)

gp_scratch *gp_scratch_new(const gp_set *s)
{
	gp_scratch *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->set = s;
	sc->re_next = calloc(s->npats ? s->npats : 1, sizeof(uint64_t));
	sc->re_run = calloc(s->npats ? s->npats : 1, sizeof(uint32_t));
	sc->run = 1;
	sc->hex_next = calloc(s->npats ? s->npats : 1, sizeof(size_t));
	sc->md = gp_dl_pcre2_loaded() ? pcre2_match_data_create(1, NULL) : NULL; /* for regexes only */
#ifdef MEMLENS_HAVE_VECTORSCAN
	sc->cb_limit = UINT64_MAX;
#endif
	if (!sc->re_next || !sc->re_run || !sc->hex_next || (!sc->md && gp_dl_pcre2_loaded())) {
		gp_scratch_free(sc);
		return NULL;
	}
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (s->ndb) {
		sc->stream = calloc(s->ndb, sizeof(*sc->stream));
		sc->once = calloc(s->ndb, sizeof(*sc->once));
		if (!sc->stream || !sc->once) {
			gp_scratch_free(sc);
			return NULL;
		}
	}
	for (size_t i = 0; i < s->ndb; i++)
		if (hs_alloc_scratch(s->db[i], &sc->hs) != HS_SUCCESS || /* one scratch, grown to fit each */
		    hs_open_stream(s->db[i], 0, &sc->stream[i]) != HS_SUCCESS ||
		    hs_open_stream(s->db[i], 0, &sc->once[i]) != HS_SUCCESS) {
			gp_scratch_free(sc);
			return NULL;
		}
#endif
	return sc;
}

void gp_scratch_free(gp_scratch *sc)
{
	if (!sc)
		return;
	free(sc->hits);
	free(sc->re_next);
	free(sc->re_run);
	free(sc->hex_next);
	if (sc->md)
		pcre2_match_data_free(sc->md);
	if (sc->mctx)
		pcre2_match_context_free(sc->mctx);
	if (sc->jstack)
		pcre2_jit_stack_free(sc->jstack);
	for (size_t i = 0; sc->settle && i < sc->set->npats; i++)
		if (sc->settle[i])
			pcre2_code_free(sc->settle[i]);
	free(sc->settle);
	for (size_t i = 0; sc->anchored && i < sc->set->npats; i++)
		if (sc->anchored[i] && sc->anchored[i] != NO_CODE)
			pcre2_code_free(sc->anchored[i]);
	free(sc->anchored);
	free(sc->fails);
#ifdef MEMLENS_HAVE_VECTORSCAN
	for (size_t i = 0; i < sc->set->ndb; i++) {
		if (sc->stream && sc->stream[i])
			hs_close_stream(sc->stream[i], NULL, NULL, NULL);
		if (sc->once && sc->once[i])
			hs_close_stream(sc->once[i], NULL, NULL, NULL);
	}
	free(sc->stream);
	free(sc->once);
	if (sc->hs)
		hs_free_scratch(sc->hs);
	free(sc->raw);
	free(sc->seams);
	free(sc->pad);
#endif
	free(sc);
}

void gp_scratch_reset(gp_scratch *sc, uint64_t run_start)
{
	sc->run_lo = run_start;
	if (++sc->run == 0) { /* wrapped: forget every pattern's run once */
		memset(sc->re_run, 0, (sc->set->npats ? sc->set->npats : 1) * sizeof(uint32_t));
		sc->run = 1;
	}
#ifdef MEMLENS_HAVE_VECTORSCAN
	sc->vs_open = false; /* the stream restarts at the next scan */
#endif
}

/* Room for one more element in the growing array *@arr of *@cap (doubling, from @first). */
static int room(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : first;
	void *old, *p;
	memcpy(&old, arr, sizeof(old)); /* any object pointer, read as the void * it converts to */
	if (!(p = realloc(old, c * elem)))
		return -ENOMEM;
	memcpy(arr, &p, sizeof(p));
	*cap = c;
	return 0;
}

static int add_hit(gp_scratch *sc, size_t start, size_t end, uint32_t pat)
{
	if (room(&sc->hits, &sc->cap, sc->nhits, sizeof(*sc->hits), 256) < 0) {
		sc->oom = true;
		return -ENOMEM;
	}
	sc->hits[sc->nhits++] = (gp_hit){ start, end, pat };
	return 0;
}

static int on_lit1(void *ctx, size_t pos)
{
	gp_scratch *sc = ctx;
	const gp_pat *p = &sc->set->pats[sc->cur_pat];
	return add_hit(sc, pos, pos + p->len, sc->cur_pat) ? 1 : 0;
}

static int on_litn(void *ctx, size_t id, size_t pos)
{
	gp_scratch *sc = ctx;
	size_t pi = sc->set->lit_ids[id];
	return add_hit(sc, pos, pos + sc->set->pats[pi].len, (uint32_t)pi) ? 1 : 0;
}

static int on_hex_anchor(void *ctx, size_t pos)
{
	gp_scratch *sc = ctx;
	const gp_pat *p = &sc->set->pats[sc->cur_pat];
	size_t off = p->hex->anchor_off;
	if (pos < off)
		return 0;
	size_t s = pos - off;
	if (s < sc->report_lo || s >= sc->hi)
		return 0;
	long e = gp_hexpat_match_at(p->hex, sc->buf + s, sc->len - s);
	if (e >= 0 && add_hit(sc, s, s + (size_t)e, sc->cur_pat))
		return 1;
	return 0;
}

static int scan_hex(gp_scratch *sc, uint32_t pi)
{
	const gp_set *s = sc->set;
	const gp_pat *p = &s->pats[pi];
	sc->cur_pat = pi;
	if (p->hex->anchor_len) {
		size_t off = p->hex->anchor_off;
		gp_lit1_scan(&s->hex_anchor[pi], sc->buf, sc->len, sc->report_lo + off,
			     sc->hi + off, on_hex_anchor, sc);
	} else {
		const gp_hexel *e0 = &p->hex->el[0];
		for (size_t st = sc->report_lo; st < sc->hi && st < sc->len; st++) {
			if ((sc->buf[st] & e0->mask) != e0->val)
				continue;
			long e = gp_hexpat_match_at(p->hex, sc->buf + st, sc->len - st);
			if (e >= 0 && add_hit(sc, st, st + (size_t)e, pi))
				break;
		}
	}
	return sc->oom ? -ENOMEM : 0;
}

void gp_scratch_seed(gp_scratch *sc, uint64_t at, const uint32_t *pats, const uint64_t *next, size_t n)
{
	sc->re_floor = at;
	sc->floor_run = sc->run;
	for (size_t i = 0; i < n; i++) {
		sc->re_next[pats[i]] = next[i];
		sc->re_run[pats[i]] = sc->run;
	}
}

int gp_scratch_chains(const gp_scratch *sc, uint64_t at, uint32_t **pats, uint64_t **next, size_t *n,
		      size_t *cap)
{
	*n = 0;
	for (uint32_t i = 0; i < sc->set->npats; i++) {
		if (sc->set->pats[i].kind != GP_REGEX || sc->re_run[i] != sc->run || sc->re_next[i] <= at)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 16;
			uint32_t *p = realloc(*pats, c * sizeof(*p));
			if (p)
				*pats = p;
			uint64_t *x = realloc(*next, c * sizeof(*x));
			if (x)
				*next = x;
			if (!p || !x)
				return -ENOMEM;
			*cap = c;
		}
		(*pats)[*n] = i;
		(*next)[(*n)++] = sc->re_next[i];
	}
	return 0;
}

void gp_scratch_restream(gp_scratch *sc)
{
#ifdef MEMLENS_HAVE_VECTORSCAN
	sc->vs_open = false;
#else
	(void)sc;
#endif
}

const gp_fail *gp_scan_fails(const gp_scratch *sc, size_t *n)
{
	*n = sc->nfails;
	return sc->fails;
}

void gp_regex_error(int err, char *buf, size_t size)
{
	if (pcre2_get_error_message(err, (PCRE2_UCHAR *)buf, size) < 0)
		snprintf(buf, size, "PCRE2 error %d", err);
}

/* Start @at of regex @pi (absolute @base + at) could not be tried. */
static int fail_add(gp_scratch *sc, uint32_t pi, uint64_t at, int err)
{
	gp_fail *f = sc->nfails ? &sc->fails[sc->nfails - 1] : NULL;
	if (f && f->pat == pi && f->err == err && f->hi == at) {
		f->hi = at + 1;
		return 0;
	}
	if (room(&sc->fails, &sc->capfails, sc->nfails, sizeof(*sc->fails), 8) < 0)
		return -ENOMEM;
	sc->fails[sc->nfails++] = (gp_fail){ pi, err, at, at + 1 };
	return 0;
}

/* A match context with a JIT stack larger than PCRE2's default 32 KiB (which a backtracking
 * regex exhausts on a few thousand bytes) and re_settle()'s callout; NULL without memory. */
static int settle_callout(pcre2_callout_block *cb, void *ctx)
{
	const gp_scratch *sc = ctx;
	return cb->current_position <= sc->settle_limit ? 0 : 1; /* no end past the buffer */
}

static pcre2_match_context *mctx(gp_scratch *sc)
{
	if (sc->mctx)
		return sc->mctx;
	sc->mctx = pcre2_match_context_create(NULL);
	if (!sc->mctx)
		return NULL;
	sc->jstack = pcre2_jit_stack_create(32 << 10, 1 << 20, NULL);
	if (sc->jstack)
		pcre2_jit_stack_assign(sc->mctx, NULL, sc->jstack);
	pcre2_set_callout(sc->mctx, settle_callout, sc);
	return sc->mctx;
}

/* Regex @pi followed by a callout (see re_settle()); NULL if it cannot be made. */
static pcre2_code *settle_re(gp_scratch *sc, uint32_t pi)
{
	const gp_set *s = sc->set;
	if (!sc->settle && !(sc->settle = calloc(s->npats, sizeof(*sc->settle))))
		return NULL;
	if (sc->settle[pi])
		return sc->settle[pi];
	const gp_user *u = &s->users[s->pats[pi].user];
	/* "\E" ends a \Q the regex leaves open; a "#" comment under (?x) would swallow the
	 * callout, so such a regex is left without one */
	if (memchr(u->text, '#', u->len) && memmem(u->text, u->len, "(?", 2))
		return NULL;
	size_t n = u->len + 16;
	char *t = malloc(n);
	if (!t)
		return NULL;
	memcpy(t, "(?:", 3);
	memcpy(t + 3, u->text, u->len);
	memcpy(t + 3 + u->len, "\\E)(?C1)", 8);
	int ec;
	PCRE2_SIZE eo;
	/* no auto-possessive repeats: the callout must be able to make a repeat give back */
	sc->settle[pi] = pcre2_compile((PCRE2_SPTR)t, u->len + 11, PCRE2_NO_AUTO_POSSESS | (s->o.icase ? PCRE2_CASELESS : 0),
				      &ec, &eo, NULL);
	free(t);
	return sc->settle[pi];
}

/* pcre2_match() from @pos; an error (a resource limit) is tried again with a larger JIT stack. */
static int re_exec(gp_scratch *sc, const gp_pat *p, size_t pos, uint32_t opts, bool retry)
{
	int r = pcre2_match(p->re, sc->buf, sc->len, pos, opts, sc->md, NULL);
	if (r < 0 && r != PCRE2_ERROR_NOMATCH && r != PCRE2_ERROR_PARTIAL && retry && mctx(sc))
		r = pcre2_match(p->re, sc->buf, sc->len, pos, opts, sc->md, sc->mctx);
	return r;
}

/*
 * The match of regex @pi at @at, whose search reached the end of the buffer where memory goes
 * on: what PCRE2 finds there depends on the bytes that follow (\z, \b, a lookahead, a repeat
 * running on). It is settled with the bytes the buffer has after its end (gp_set_margin()):
 * the first match at @at on those, as PCRE2 orders them, that ends by the end of the buffer
 * (a callout refuses later ends). A repeat running past the end is so cut there (the
 * --max-len rule), while a+\z or a+\b, which need the memory to end or change there, do not
 * match. False when nothing matches at @at (unanchored: at or after @at, the leftmost).
 */
static bool re_settle(gp_scratch *sc, uint32_t pi, size_t at, bool anchored, size_t *ms, size_t *me)
{
	const gp_pat *p = &sc->set->pats[pi];
	pcre2_code *re = mctx(sc) ? settle_re(sc, pi) : NULL;
	uint32_t anchor = anchored ? PCRE2_ANCHORED : 0;
	int r;
	if (re) {
		sc->settle_limit = sc->len;
		/* $ holds at the end of the bytes there only where the run ends */
		uint32_t o = (sc->re_opts & PCRE2_NOTBOL) | (sc->eod ? 0 : PCRE2_NOTEOL);
		r = pcre2_match(re, sc->buf, sc->avail, at, o | anchor, sc->md, sc->mctx);
	} else {
		r = re_exec(sc, p, at, sc->re_opts | anchor, true);
	}
	if (r < 0) {
		if (r != PCRE2_ERROR_NOMATCH)
			fail_add(sc, pi, sc->base + at, r);
		return false;
	}
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
	*ms = ov[0];
	*me = ov[1];
	return *me > *ms;
}

/* Whether pcre2_match() returned @r for want of a resource, not with an answer. */
static bool limit_hit(int r)
{
	return r < 0 && r != PCRE2_ERROR_NOMATCH && r != PCRE2_ERROR_PARTIAL;
}

/* Regex @pi compiled anchored, JIT-compiled as the regex is: PCRE2_ANCHORED given at match
 * time makes pcre2_match() leave JIT code for the interpreter, whose limits are others (a
 * start that fails in the one may take long in the other). NULL if it cannot be made. */
static pcre2_code *anchored_re(gp_scratch *sc, uint32_t pi)
{
	const gp_set *s = sc->set;
	if (!sc->anchored && !(sc->anchored = calloc(s->npats, sizeof(*sc->anchored))))
		return NULL;
	if (sc->anchored[pi])
		return sc->anchored[pi] == NO_CODE ? NULL : sc->anchored[pi];
	const gp_user *u = &s->users[s->pats[pi].user];
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)u->text, u->len, PCRE2_ANCHORED | (s->o.icase ? PCRE2_CASELESS : 0),
				       &ec, &eo, NULL);
	if (re && !s->pats[pi].vs)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
	sc->anchored[pi] = re ? re : NO_CODE; /* not made: not tried again */
	return re;
}

/* pcre2_match() of regex @pi at @pos only (see anchored_re()). */
static int re_exec_at(gp_scratch *sc, uint32_t pi, size_t pos, uint32_t opts)
{
	pcre2_code *re = anchored_re(sc, pi);
	if (!re)
		return re_exec(sc, &sc->set->pats[pi], pos, opts | PCRE2_ANCHORED, false);
	return pcre2_match(re, sc->buf, sc->len, pos, opts, sc->md, NULL);
}

/* Failed starts in a row tried one by one before the tries spread out (re_failed()), and how
 * far apart they may get: starts between two failed ones are named as not searched, so a
 * pocket of starts that would not fail, narrower than that, between failing ones is too. */
#define GP_FAIL_STREAK 8
#define GP_FAIL_STEP_MAX 256

/* The start of the line after the one @pos is in, or sc->hi. */
static size_t next_line(const gp_scratch *sc, size_t pos)
{
	const uint8_t *nl = memchr(sc->buf + pos, '\n', sc->hi - pos);
	return nl ? (size_t)(nl - sc->buf) + 1 : sc->hi;
}

/*
 * After a search of regex @pi from @pos failed (a resource limit: the JIT stack, the match or
 * heap limit): PCRE2 does not say at which start. No start before that one has a match (it
 * would have been returned), so the starts from @pos that the search tried are tried one at
 * a time, anchored (a start that cannot begin a match costs one call), up to the one that
 * fails again, which is recorded as not searched (gp_fail): every start, or, for a regex
 * that PCRE2 starts at line starts only (gp_pat.line_starts), @pos and each line's start.
 * For such a regex, the rest of the failing start's line is not searched, nor are the lines
 * after it whose starts fail too: one try a line. For any other regex, a repeat that runs
 * on for thousands of bytes fails at every start until what is left of the run is short
 * enough, each failure costing what the limit allows: after GP_FAIL_STREAK failed starts in
 * a row the tries double their spacing up to GP_FAIL_STEP_MAX, the starts skipped between
 * two that failed are recorded as not searched with them, and the first start that does
 * not fail is then found by halving the last gap. So a run of failing starts costs a try
 * per GP_FAIL_STEP_MAX bytes, not one per byte, nor (as a search from @pos again would) its
 * every start's search from @pos. Returns where the search goes on: the first start after
 * the failed ones that does not fail (it may match), or sc->hi.
 */
static size_t re_failed(gp_scratch *sc, uint32_t pi, size_t pos, uint32_t opts)
{
	int r = 0;
	while (pos < sc->hi) {
		r = re_exec_at(sc, pi, pos, opts);
		if (limit_hit(r))
			break;
		if (r != PCRE2_ERROR_NOMATCH)
			return pos; /* a match (or one that depends on what follows) */
		if (sc->set->pats[pi].line_starts) {
			/* the search tried no start up to the next line's (a regex that begins
			 * with .* costs the rest of the line at each: tried at every byte, a
			 * long line took time growing as its length squared) */
			pos = next_line(sc, pos);
		} else {
			pos++;
		}
	}
	if (pos >= sc->hi)
		return sc->hi;
	if (fail_add(sc, pi, sc->base + pos, r) < 0) {
		sc->oom = true;
		return sc->hi;
	}
	gp_fail *f = &sc->fails[sc->nfails - 1]; /* the range of failed starts, grown below */
	if (sc->set->pats[pi].line_starts) {
		/* PCRE2 starts it at no other byte of the line: the rest of the line is not
		 * searched with it, and the search goes on at the first line start that does
		 * not fail (one try a line) */
		for (;;) {
			size_t next = next_line(sc, pos);
			f->hi = sc->base + next;
			if (next >= sc->hi || !limit_hit(re_exec_at(sc, pi, next, opts)))
				return next;
			pos = next;
		}
	}
	size_t last = pos, step = 1;
	for (unsigned streak = 1;; streak++) {
		size_t t = last + step;
		if (t >= sc->hi) {
			f->hi = sc->base + sc->hi;
			return sc->hi;
		}
		if (!limit_hit(re_exec_at(sc, pi, t, opts)))
			break;
		f->hi = sc->base + t + 1;
		last = t;
		if (streak >= GP_FAIL_STREAK && step < GP_FAIL_STEP_MAX)
			step *= 2;
	}
	/* last failed, last + step did not: the first start between them that does not fail */
	size_t ok = last + step;
	while (ok - last > 1) {
		size_t mid = last + (ok - last) / 2;
		if (limit_hit(re_exec_at(sc, pi, mid, opts))) {
			f->hi = sc->base + mid + 1;
			last = mid;
		} else {
			ok = mid;
		}
	}
	return ok;
}

/*
 * The leftmost match of regex @pi starting at or after @pos: true with [*ms, *me). Where PCRE2
 * fails (a resource limit: the JIT stack, the match or heap limit), the start that failed is
 * recorded as not searched (gp_fail, re_failed()) and the search goes on from the next, so a
 * failure never reads as "no match"; a run of failing starts is crossed as re_failed() says,
 * and named. Where memory goes on past the buffer, partial
 * matching finds a start whose match depends on what follows: from the window that reports
 * it, it is settled (re_settle()); past that window, a later one, which holds more, finds it.
 */
static bool re_find(gp_scratch *sc, uint32_t pi, size_t pos, size_t *ms, size_t *me)
{
	const gp_pat *p = &sc->set->pats[pi];
	bool open = sc->re_opts & PCRE2_NOTEOL;
	uint32_t opts = sc->re_opts | (open ? PCRE2_PARTIAL_HARD : 0);
	while (pos < sc->len) {
		int r = re_exec(sc, p, pos, opts, false);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
		if (r >= 0) {
			*ms = ov[0];
			*me = ov[1];
			/* found without partial matching (below): one that reaches the buffer's end
			 * may depend on what follows, and is settled */
			if (open && !(opts & PCRE2_PARTIAL_HARD) && *me >= sc->len)
				return *ms < sc->hi && re_settle(sc, pi, *ms, true, ms, me);
			return *me > *ms;
		}
		if (r == PCRE2_ERROR_PARTIAL) {
			size_t at = ov[0] > pos ? ov[0] : pos;
			if (at >= sc->hi)
				return false;
			if (re_settle(sc, pi, at, true, ms, me))
				return true;
			/* Nothing at @at. PCRE2 stopped at that first partial start and tried none
			 * after it: search on without partial matching. A match that ends before the
			 * buffer's end does not depend on what follows (and no start before it has
			 * one that ends by then) */
			opts = sc->re_opts;
			pos = at + 1;
			continue;
		}
		if (r == PCRE2_ERROR_NOMATCH)
			return false;
		size_t at = re_failed(sc, pi, pos, opts);
		if (at >= sc->hi)
			return false;
		if (at > pos) {
			pos = at;
			continue;
		}
		/* The search from @at fails, a try of @at alone does not (they disagree where the
		 * anchored regex could not be made and the interpreter tried it): its answer is
		 * taken, and the search goes on after it */
		r = re_exec_at(sc, pi, at, opts);
		if (r >= 0 && !(open && ov[1] >= sc->len)) {
			*ms = ov[0];
			*me = ov[1];
			return *me > *ms;
		}
		if ((r >= 0 || r == PCRE2_ERROR_PARTIAL) && re_settle(sc, pi, at, true, ms, me))
			return true;
		if (limit_hit(r) && fail_add(sc, pi, sc->base + at, r) < 0)
			sc->oom = true;
		if (r == PCRE2_ERROR_PARTIAL || r >= 0)
			opts = sc->re_opts; /* as after a partial start above */
		pos = at + 1;
	}
	return false;
}

/* The first position a regex may start at: its previous match's end, or @scan_lo. */
static size_t re_from(gp_scratch *sc, uint32_t pi, uint64_t base, size_t scan_lo)
{
	uint64_t nx = sc->re_run[pi] == sc->run ? sc->re_next[pi] : 0;
	if (sc->floor_run == sc->run && sc->re_floor > nx)
		nx = sc->re_floor;
	if (nx > base + scan_lo)
		return nx - base < sc->len ? (size_t)(nx - base) : sc->len;
	return scan_lo;
}

static int re_report(gp_scratch *sc, uint32_t pi, uint64_t base, size_t ms, size_t me)
{
	sc->re_next[pi] = base + me;
	sc->re_run[pi] = sc->run;
	if (ms >= sc->report_lo)
		return add_hit(sc, ms, me, pi);
	return 0;
}

static int scan_regex(gp_scratch *sc, uint32_t pi, uint64_t base, size_t scan_lo)
{
	size_t pos = re_from(sc, pi, base, scan_lo), ms, me;
	while (pos < sc->hi && re_find(sc, pi, pos, &ms, &me)) {
		if (ms >= sc->hi)
			break;
		if (re_report(sc, pi, base, ms, me) < 0)
			return -ENOMEM;
		pos = me;
	}
	return 0;
}

#ifdef MEMLENS_HAVE_VECTORSCAN
static int on_vs(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	(void)from;
	(void)flags;
	gp_scratch *sc = ctx;
	if (room(&sc->raw, &sc->rawcap, sc->nraw, sizeof(*sc->raw), 1024) < 0) {
		sc->oom = true;
		return 1;
	}
	if (sc->cb_base + to > sc->cb_limit)
		return 0; /* in the padding */
	sc->raw[sc->nraw++] = (struct gp_end){ sc->cb_base + to, id };
	return 0;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct gp_end *x = a, *y = b;
	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Vectorscan 5.4.9 can lose a match that starts shortly before the end of what it is given,
 * depending on the buffer's alignment: measured with A[^\x00]{1,40}B on random bytes, up to
 * 40 bytes before the end of a chunk in streaming mode (and up to 512 in block mode, which
 * is not used). Upstream knows it: the double-shufti accelerator mishandles the last byte of
 * a buffer (vectorscan pull requests 325 and 368 for block mode, 402 for chunk boundaries
 * in streaming mode, fixed after 5.4.9). So no hit is taken from where a scan ends: every chunk end X is a seam,
 * and once the bytes after it are there,
 * [X - GP_VS_MARGIN, X + longest match + GP_VS_MARGIN) is scanned again on its own, the
 * ends found joining the stream's (duplicates dropped); at the end of the run, the last
 * bytes are scanned again followed by padding. The caller gives GP_VS_MARGIN bytes beyond
 * the usual context (gp_set_margin()), so a seam is checked before its hits are due. The
 * second scans are one-chunk streams of the same database (block mode would need a second
 * compilation), whose end of data is never signalled: nothing is taken near their end.
 */

/* Scans [p, p + n) (at absolute address @at) on its own; ends past @limit are dropped. */
static int vs_once(gp_scratch *sc, const uint8_t *p, size_t n, uint64_t at, uint64_t limit)
{
	sc->cb_base = at;
	sc->cb_limit = limit;
	hs_error_t e = HS_SUCCESS;
	for (size_t i = 0; i < sc->set->ndb && !sc->oom && (e == HS_SUCCESS || e == HS_SCAN_TERMINATED); i++) {
		hs_reset_stream(sc->once[i], 0, NULL, NULL, NULL);
		e = hs_scan_stream(sc->once[i], (const char *)p, (unsigned)n, 0, sc->hs, on_vs, sc);
	}
	sc->cb_limit = UINT64_MAX;
	if (sc->oom)
		return -ENOMEM;
	return e != HS_SUCCESS && e != HS_SCAN_TERMINATED ? -EIO : 0;
}

static int seam_push(gp_scratch *sc, uint64_t x)
{
	if (room(&sc->seams, &sc->capseams, sc->nseams, sizeof(*sc->seams), 8) < 0)
		return -ENOMEM;
	sc->seams[sc->nseams++] = x;
	return 0;
}

/* Scans the seams whose window the buffer [base, end) now holds (all of them at @eod). */
static int seams_scan(gp_scratch *sc, uint64_t base, uint64_t end, bool eod)
{
	size_t keep = 0;
	for (size_t i = 0; i < sc->nseams; i++) {
		uint64_t x = sc->seams[i];
		uint64_t lo = x - sc->vs_base > GP_VS_MARGIN ? x - GP_VS_MARGIN : sc->vs_base;
		uint64_t hi = x + sc->set->overlap + GP_VS_MARGIN;
		if (lo < base)
			lo = base;
		if (hi > end) {
			if (!eod) {
				sc->seams[keep++] = x;
				continue;
			}
			hi = end;
		}
		if (lo >= hi)
			continue;
		int r = vs_once(sc, sc->buf + (lo - base), (size_t)(hi - lo), lo, UINT64_MAX);
		if (r < 0)
			return r;
	}
	sc->nseams = keep;
	return 0;
}

/* At the end of the run [.., end): its last bytes again, followed by zeros. */
static int tail_scan(gp_scratch *sc, uint64_t base, uint64_t end)
{
	size_t w = sc->set->overlap + GP_VS_MARGIN;
	uint64_t lo = end - base > w ? end - w : base;
	if (lo < sc->vs_base)
		lo = sc->vs_base;
	if (lo >= end)
		return 0;
	if (!sc->pad && !(sc->pad = malloc(2 * w)))
		return -ENOMEM;
	size_t n = (size_t)(end - lo);
	memcpy(sc->pad, sc->buf + (lo - base), n);
	memset(sc->pad + n, 0, w);
	return vs_once(sc, sc->pad, n + w, lo, end);
}

/* Starts the stream afresh at absolute address @at, forgetting pending ends. */
static void vs_restart(gp_scratch *sc, uint64_t at)
{
	for (size_t i = 0; i < sc->set->ndb; i++)
		hs_reset_stream(sc->stream[i], 0, NULL, NULL, NULL);
	sc->vs_base = sc->fed = at;
	sc->nraw = 0;
	sc->nseams = 0;
	sc->vs_open = true;
	sc->vs_eod = false;
}

/*
 * Vectorscan scans a contiguous run of memory as one stream, each byte once, and reports
 * only where matches end (start-of-match tracking is slow). The ends are kept until no match
 * ending there can start in a later window; literals start len bytes earlier; hex and regex
 * ends are confirmed, and their starts found, by the matchers the portable engine uses, in
 * the part of the buffer before the end (which holds at least the longest match's length of
 * the previous window), so hits are those of the portable engine.
 */
static int vs_scan(gp_scratch *sc, uint64_t base, size_t scan_lo, size_t avail, bool eod)
{
	const gp_set *s = sc->set;
	uint64_t end = base + avail;
	/* the stream starts at the earliest byte any reported match can start at */
	size_t from = scan_lo < sc->report_lo ? scan_lo : sc->report_lo;
	if (!sc->vs_open || sc->fed < base)
		vs_restart(sc, base + from);
	else if (sc->vs_eod && sc->fed < end) { /* more after the end: not a caller of gp_scan */
		uint64_t keep = sc->fed;
		size_t n = sc->nraw, ns = sc->nseams;
		vs_restart(sc, keep);
		sc->nraw = n;
		sc->nseams = ns;
	}
	if (sc->fed < end) {
		sc->cb_base = sc->vs_base;
		hs_error_t e = HS_SUCCESS;
		for (size_t i = 0; i < s->ndb && !sc->oom && (e == HS_SUCCESS || e == HS_SCAN_TERMINATED); i++)
			e = hs_scan_stream(sc->stream[i], (const char *)sc->buf + (sc->fed - base),
					   (unsigned)(end - sc->fed), 0, sc->hs, on_vs, sc);
		if (sc->oom)
			return -ENOMEM;
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
			return -EIO;
		sc->fed = end;
		if (!eod && seam_push(sc, end) < 0)
			return -ENOMEM;
	}
	if (eod && !sc->vs_eod) { /* matches that need the end of the data ($, \b) */
		sc->cb_base = sc->vs_base;
		hs_error_t e = HS_SUCCESS;
		for (size_t i = 0; i < s->ndb && !sc->oom && (e == HS_SUCCESS || e == HS_SCAN_TERMINATED); i++)
			e = hs_reset_stream(sc->stream[i], 0, sc->hs, on_vs, sc);
		if (sc->oom)
			return -ENOMEM;
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
			return -EIO;
		sc->vs_eod = true;
		int r = tail_scan(sc, base, end);
		if (r < 0)
			return r;
	}
	int r = seams_scan(sc, base, end, eod);
	if (r < 0)
		return r;
	if (sc->nraw > 1) {
		qsort(sc->raw, sc->nraw, sizeof(*sc->raw), cmp_raw);
		size_t u = 1; /* the seams report some ends twice */
		for (size_t k = 1; k < sc->nraw; k++)
			if (sc->raw[k].end != sc->raw[u - 1].end || sc->raw[k].pat != sc->raw[u - 1].pat)
				sc->raw[u++] = sc->raw[k];
		sc->nraw = u;
	}
	uint64_t lim = base + sc->hi;
	size_t i = 0, keep = 0;
	while (i < sc->nraw) {
		uint32_t pi = sc->raw[i].pat;
		const gp_pat *p = &s->pats[pi];
		size_t j = i, jl;
		while (j < sc->nraw && sc->raw[j].pat == pi)
			j++;
		/* ends in the margin past the logical buffer are for later windows */
		for (jl = i; jl < j && sc->raw[jl].end - base <= sc->len; jl++)
			;
		if (p->kind == GP_LITERAL) {
			for (size_t k = i; k < jl; k++) {
				size_t e = (size_t)(sc->raw[k].end - base);
				if (e < p->len)
					continue;
				size_t st = e - p->len;
				if (st >= sc->report_lo && st < sc->hi && add_hit(sc, st, e, pi))
					return -ENOMEM;
			}
		} else if (p->kind == GP_HEX) {
			size_t next = sc->report_lo;
			for (size_t k = i; k < jl; k++) {
				size_t e = (size_t)(sc->raw[k].end - base);
				if (e < p->minlen)
					continue;
				size_t a = e >= p->maxlen ? e - p->maxlen : 0, b = e - p->minlen;
				if (a < next)
					a = next;
				if (b >= sc->hi)
					b = sc->hi - 1;
				for (size_t st = a; st <= b; st++) {
					long m = gp_hexpat_match_at(p->hex, sc->buf + st, sc->len - st);
					if (m >= 0 && add_hit(sc, st, st + (size_t)m, pi))
						return -ENOMEM;
				}
				if (b + 1 > next)
					next = b + 1;
			}
		} else {
			size_t win = p->maxlen;
			bool stop = false;
			for (size_t k = i; k < jl && !stop; k++) {
				size_t e = (size_t)(sc->raw[k].end - base);
				for (;;) {
					size_t rfrom = re_from(sc, pi, base, scan_lo), pos = rfrom, ms, me;
					if (e <= pos)
						break;
					if (e > win && e - win > pos)
						pos = e - win;
					bool found = re_find(sc, pi, pos, &ms, &me) && ms < e;
					/* A match longer than --max-len ending at e starts before pos: none
					 * there, or one that starts right at pos, may be its tail. Search again
					 * from where the portable engine searches, so both report the same
					 * match; this costs a second search only for such long matches. */
					if (pos > rfrom && (!found || ms == pos))
						found = re_find(sc, pi, rfrom, &ms, &me) && ms < e;
					if (!found)
						break;
					if (ms >= sc->hi) { /* a later window reports it */
						stop = true;
						break;
					}
					if (re_report(sc, pi, base, ms, me) < 0)
						return -ENOMEM;
					if (me >= e)
						break;
				}
			}
		}
		/* keep the ends of matches that may start in a later window */
		for (size_t k = i; k < j; k++)
			if (sc->raw[k].end >= lim + p->minlen)
				sc->raw[keep++] = sc->raw[k];
		i = j;
	}
	sc->nraw = keep;
	return 0;
}
#endif

static int cmp_hit(const void *a, const void *b)
{
	const gp_hit *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_fail(const void *a, const void *b)
{
	const gp_fail *x = a, *y = b;
	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->err > y->err) - (x->err < y->err);
}

/*
 * The failed starts as gp_scan_fails() gives them: within the scan's [report_lo, hi) (a
 * start before it, searched on the way from scan_lo, is named by the scan whose range holds
 * it), and per regex sorted and merged, so that no start is named twice (a start that
 * re_failed() passed over can fail again as re_settle() tries it, and Vectorscan's ends
 * each search again from the same start): overlapping ranges become one (the first's
 * reason stays), adjacent ones only for the same reason.
 */
static void fails_settle(gp_scratch *sc)
{
	uint64_t lo = sc->base + sc->report_lo, hi = sc->base + sc->hi;
	size_t n = 0;
	for (size_t i = 0; i < sc->nfails; i++) {
		gp_fail f = sc->fails[i];
		if (f.lo < lo)
			f.lo = lo;
		if (f.hi > hi)
			f.hi = hi;
		if (f.lo < f.hi)
			sc->fails[n++] = f;
	}
	if (n > 1)
		qsort(sc->fails, n, sizeof(*sc->fails), cmp_fail);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		gp_fail *p = m ? &sc->fails[m - 1] : NULL;
		if (p && p->pat == sc->fails[i].pat &&
		    (sc->fails[i].lo < p->hi || (sc->fails[i].lo == p->hi && sc->fails[i].err == p->err))) {
			if (sc->fails[i].hi > p->hi)
				p->hi = sc->fails[i].hi;
		} else {
			sc->fails[m++] = sc->fails[i];
		}
	}
	sc->nfails = m;
}

int gp_scan(const gp_set *s, gp_scratch *sc, const uint8_t *buf, size_t len, size_t avail, uint64_t base,
	    size_t scan_lo, size_t report_lo, size_t hi, bool eod, const gp_hit **hits, size_t *nhits)
{
	sc->nhits = 0;
	sc->nfails = 0;
	sc->oom = false;
	sc->avail = avail;
	sc->eod = eod;
	sc->base = base;
	sc->buf = buf;
	sc->len = len;
	sc->report_lo = report_lo;
	sc->hi = hi < len ? hi : len;
	sc->re_opts = (base == sc->run_lo ? 0 : PCRE2_NOTBOL) | (eod && len == avail ? 0 : PCRE2_NOTEOL);
	int r = 0;
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (s->ndb && (r = vs_scan(sc, base, scan_lo, avail, eod)) < 0)
		return r;
#else
	(void)avail;
	(void)eod;
#endif
	if (s->lit1) {
		for (size_t k = 0; k < s->nlits; k++) {
			sc->cur_pat = (uint32_t)s->lit_ids[k];
			gp_lit1_scan(&s->lit1[k], buf, len, report_lo, sc->hi, on_lit1, sc);
		}
	} else if (s->litn) {
		gp_litn_scan(s->litn, buf, len, report_lo, sc->hi, on_litn, sc);
	}
	if (sc->oom)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->npats; i++) {
		const gp_pat *p = &s->pats[i];
		if (p->vs)
			continue;
		if (p->kind == GP_HEX)
			r = scan_hex(sc, i);
		else if (p->kind == GP_REGEX)
			r = scan_regex(sc, i, base, scan_lo);
		if (r < 0)
			return r;
	}
	if (sc->oom)
		return -ENOMEM;
	if (sc->nhits > 1)
		qsort(sc->hits, sc->nhits, sizeof(*sc->hits), cmp_hit);
	fails_settle(sc);
	*hits = sc->hits;
	*nhits = sc->nhits;
	return 0;
}
