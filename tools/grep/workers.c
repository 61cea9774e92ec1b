/* memlens grep: the worker pool: units of work made in address order, each read in windows and searched. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep/command.h"

const char *const grep_err_reason[8] = { "unreadable", "vanished", "denied", "other", "damaged" };
static int err_slot(int err)
{
	switch (-err) {
	case EIO: return ERR_UNREADABLE;
	case EFAULT: case ESRCH: case ENOENT: return 1;
	case EACCES: case EPERM: return 2;
	case EBADMSG: return ERR_DAMAGED;
	default: return ERR_OTHER; /* GREP_ERR_SCAN too */
	}
}

typedef struct worker {
	src *s;
	const ml_source *via;   /* the source as this worker reads it */
	ml_source *own;
	gp_scratch *sc;
	uint8_t *buf;
	size_t cap;
	ml_run *runs;
	size_t nruns, capruns;
	stats st;
	int err;
	uint64_t fail_addr;     /* where the last failed read of fill() started */
	int read_err;           /* and its error */
	/* The regexes' chains at the unit's start, when a run crosses it: guessed by searching
	 * from the context before it (spec), then checked against where the previous unit left
	 * them; if they differ the unit is searched again from there (seeded). */
	bool spec, seeded, crossed;
	uint32_t *gpat;         /* the guess, then the seeds */
	uint64_t *gnext;
	size_t gn, gcap;
	uint64_t damage_said;   /* damaged ranges starting below this were named already */
	/* Starts PCRE2 could not try, found while the chains at the unit's start are a guess:
	 * named and counted once the guess holds, dropped when the unit is searched again (which
	 * finds them again), so that each range is named once */
	gp_fail *held;
	size_t nheld, capheld;
} worker;

/* scan_segment(): the unit must be searched again (its chains at its start were wrong) */
#define RESCAN 2
/* Ranges of failed starts held at most before the search waits for the check of its guess. */
#define HELD_MAX 1024

static void note_err(worker *w, int err, uint64_t bytes)
{
	w->st.err_bytes[err_slot(err)] += bytes;
	if (!w->err)
		w->err = err;
	if (err == -ESRCH)
		atomic_store(&w->s->gone, true);
}

static int collect_runs(worker *w, uint64_t a, uint64_t b)
{
	src *s = w->s;
	w->nruns = 0;
	if (!s->s) { /* a raw image is all data */
		w->runs[0] = (ml_run){ a, b, ML_RUN_DATA };
		w->nruns = 1;
		return 0;
	}
	uint64_t at = a;
	while (at < b) {
		if (w->capruns - w->nruns < RUNS_BATCH) {
			size_t cap = w->capruns * 2;
			ml_run *n = realloc(w->runs, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			w->runs = n;
			w->capruns = cap;
		}
		uint64_t next = b;
		ssize_t n = ml_source_runs(w->via, at, b, ML_RUNS_FILE, w->runs + w->nruns, RUNS_BATCH, &next);
		if (n < 0)
			return (int)n;
		if (n == 0 || next <= at)
			break;
		w->nruns += (size_t)n;
		at = next;
	}
	return 0;
}

/* Searched: resident memory (zero pages included), pages of file mappings that are not
 * resident (read from the file) unless --resident-only, swapped pages with --swapped. */
static bool readable(const src *s, ml_run_kind k)
{
	return k == ML_RUN_DATA || k == ML_RUN_ZERO || (k == ML_RUN_FILE && !s->o->resident) ||
	       (k == ML_RUN_SWAPPED && s->o->swapped);
}

/* Fills buf with [x, y) of the segment whose runs are runs[r0..r1). */
static int fill(worker *w, size_t r0, size_t r1, uint64_t x, uint64_t y, uint8_t *dst)
{
	for (size_t i = r0; i < r1 && x < y; i++) {
		const ml_run *r = &w->runs[i];
		if (r->end <= x)
			continue;
		uint64_t e = r->end < y ? r->end : y;
		if (r->kind == ML_RUN_ZERO) {
			memset(dst, 0, (size_t)(e - x));
		} else {
			size_t want = (size_t)(e - x), got = 0;
			while (got < want) {
				ssize_t n = grep_read(w->s, w->via, x + got, dst + got, want - got,
						     r->kind == ML_RUN_DATA);
				if (n <= 0) {
					w->fail_addr = x + got;
					w->read_err = n < 0 ? (int)n : -EIO;
					return w->read_err;
				}
				got += (size_t)n;
			}
		}
		dst += e - x;
		x = e;
	}
	return 0;
}

/* Where the bytes [a, b) of the segment of runs r0..r1 came from (NULL for a raw image). */
static const char *hit_from(const worker *w, size_t r0, size_t r1, uint64_t a, uint64_t b)
{
	if (!w->s->s)
		return NULL;
	bool mem = false, file = false;
	for (size_t i = r0; i < r1; i++) {
		const ml_run *rn = &w->runs[i];
		if (rn->end <= a || rn->start >= b)
			continue;
		if (rn->kind == ML_RUN_FILE)
			file = true;
		else
			mem = true;
	}
	return file ? (mem ? "memory+file" : "file") : "memory";
}

static int emit_hits(worker *w, unit *u, const region *r, const gp_hit *hits, size_t n,
		     const uint8_t *buf, size_t len, uint64_t base, size_t r0, size_t r1)
{
	src *s = w->s;
	const gopts *o = s->o;
	bool text = !o->count && !o->list && !o->quiet;
	for (size_t i = 0; i < n; i++) {
		if (text) {
			FILE *f = grep_unit_stream(u);
			if (!f)
				return -ENOMEM;
			grep_format_hit(s, f, r, &hits[i], buf, len, base,
					hit_from(w, r0, r1, base + hits[i].start, base + hits[i].end));
		}
		if (grep_unit_add_hit(u, (uint32_t)gp_set_pat(s->set, hits[i].pat)->user) < 0)
			return -ENOMEM;
		if ((u->outlen > SPILL_BYTES || u->nhits > SPILL_HITS) && grep_spill_unit(s, u) > 0)
			return 1; /* nothing more is printed */
		if (o->max && u->nhits >= o->max)
			return 1; /* no unit prints more than -m hits */
		if (o->quiet || o->list)
			return 1;
	}
	return 0;
}

/* Bytes read around each window beyond what the search needs, so that the text and the
 * -C context printed around a match are whole wherever the match lies. */
static size_t ctx_bytes(const src *s)
{
	return (size_t)s->o->ctx + 96; /* 48 characters of text each side, UTF-16 ones too */
}

/* Whether the regex chains of the unit, guessed at its start, are those the previous unit
 * left there: 0 (or not known yet, unless @wait), RESCAN if not. */
static int check_guess(worker *w, unit *u, bool wait)
{
	src *s = w->s;
	handoff *h = &s->hand[u->idx % (2 * s->nring)];
	if (!u->idx) { /* no unit before it */
		w->spec = false;
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	while (wait && !(h->idx == u->idx && h->ready) && !atomic_load(&s->stop) && !atomic_load(&s->gone))
		pthread_cond_wait(&s->cv, &s->mu);
	int r = 0;
	if (h->idx == u->idx && h->ready) {
		w->spec = false;
		if (h->known && h->at == u->a &&
		    (h->n != w->gn || (h->n && (memcmp(h->pat, w->gpat, h->n * sizeof(*h->pat)) ||
						memcmp(h->next, w->gnext, h->n * sizeof(*h->next)))))) {
			/* the seeds: where the previous unit left them */
			if (w->gcap < h->n) {
				uint32_t *p = realloc(w->gpat, h->n * sizeof(*p));
				if (p)
					w->gpat = p;
				uint64_t *x = realloc(w->gnext, h->n * sizeof(*x));
				if (x)
					w->gnext = x;
				if (p && x)
					w->gcap = h->n;
			}
			if (w->gcap >= h->n) {
				if (h->n) {
					memcpy(w->gpat, h->pat, h->n * sizeof(*h->pat));
					memcpy(w->gnext, h->next, h->n * sizeof(*h->next));
				}
				w->gn = h->n;
				r = RESCAN;
			} else {
				r = -ENOMEM;
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Whether emitting @nh more hits could make unit u print some (grep_spill_unit()): conservative,
 * from the most a hit's output takes. */
static bool may_spill(const worker *w, const unit *u, size_t nh)
{
	size_t per = 16 * (2 * (size_t)w->s->o->ctx + gp_set_overlap(w->s->set) + 256) + (64u << 10);
	return u->nhits + nh > SPILL_HITS / 2 || u->outlen + nh * per > SPILL_BYTES / 2;
}

/* Names the starts [f->lo, f->hi) where PCRE2 could not try its regex (a resource limit):
 * those bytes were not searched for that regex. */
static void say_fail(worker *w, const gp_fail *f)
{
	src *s = w->s;
	const gp_user *usr = gp_set_user(s->set, gp_set_pat(s->set, f->pat)->user);
	char why[128];
	gp_regex_error(f->err, why, sizeof(why));
	w->st.err_bytes[3] += f->hi - f->lo;
	if (!w->err)
		w->err = -ECANCELED; /* a search abandoned there */
	pthread_mutex_lock(&s->mu);
	fprintf(stderr, "memlens grep: %s: 0x%" PRIx64 "-0x%" PRIx64 " not searched for regex ", s->label,
		f->lo, f->hi);
	if (s->o->redact)
		fprintf(stderr, "#%zu", gp_set_pat(s->set, f->pat)->user + 1);
	else
		cli_put_escaped(stderr, usr->text, usr->len);
	fprintf(stderr, ": %s\n", why);
	pthread_mutex_unlock(&s->mu);
}

/* The starts the last search could not try: named now, or held while the unit's chains are a
 * guess (a unit searched again would name them again). -ENOMEM when they cannot be held. */
static int note_fails(worker *w)
{
	size_t n;
	const gp_fail *f = gp_scan_fails(w->sc, &n);
	for (size_t i = 0; i < n; i++) {
		if (!w->spec) {
			say_fail(w, &f[i]);
			continue;
		}
		if (w->nheld == w->capheld) {
			size_t c = w->capheld ? 2 * w->capheld : 16;
			gp_fail *p = realloc(w->held, c * sizeof(*p));
			if (!p)
				return -ENOMEM;
			w->held = p;
			w->capheld = c;
		}
		w->held[w->nheld++] = f[i];
	}
	return 0;
}

/* Names the failed starts held (the guess they were found with held). */
static void say_held(worker *w)
{
	for (size_t i = 0; i < w->nheld; i++)
		say_fail(w, &w->held[i]);
	w->nheld = 0;
}

/* Searches [ss, se) of one segment (readable runs r0..r1, contiguous) of unit u, reporting
 * hits from @from on. *@resume gets the first address whose hits were not reported yet.
 * @open: the run goes on past @se. @keep: the regexes go on from where the scratch has them
 * (the segment was searched up to @from before). */
static int scan_segment(worker *w, unit *u, const region *r, size_t r0, size_t r1, uint64_t ss, uint64_t se,
			bool open, uint64_t from, bool keep, uint64_t *resume)
{
	src *s = w->s;
	size_t O = gp_set_overlap(s->set), M = gp_set_margin(s->set), X = ctx_bytes(s);
	uint64_t rlo = ss > u->a ? ss : u->a, rend = se < u->b ? se : u->b;
	if (rlo < from)
		rlo = from;
	*resume = rlo;
	if (rlo >= rend)
		return 0;
	/* a regex match may begin before the unit: start scanning (not reporting) earlier */
	uint64_t scan_lo = rlo - ss > O ? rlo - O : ss;
	/* the run crosses the unit's start: the regexes' chains there are those the previous
	 * unit leaves; searched again with them (seeded), or guessed from the context before */
	bool guess = false;
	if (keep) {
		gp_scratch_restream(w->sc);
		scan_lo = rlo;
	} else {
		gp_scratch_reset(w->sc, ss);
		if (ss < u->a && rlo == u->a && gp_set_has_regex(s->set)) {
			if (w->seeded)
				gp_scratch_seed(w->sc, u->a, w->gpat, w->gnext, w->gn);
			else
				guess = true;
		}
	}
	uint64_t bs = scan_lo - ss > O ? scan_lo - O : ss;
	uint64_t have_lo = 0, have_hi = 0; /* bytes in w->buf now */
	while (rlo < rend && !atomic_load(&s->stop)) {
		*resume = rlo;
		uint64_t hi = rend - rlo > WINDOW ? rlo + WINDOW : rend;
		uint64_t be = se - hi > O + M + X ? hi + O + M + X : se;
		uint64_t rs = bs - ss > X ? bs - X : ss; /* read from here: the text before a match */
		/* keep what overlaps, read the rest */
		if (have_hi > rs && have_lo <= rs) {
			memmove(w->buf, w->buf + (rs - have_lo), (size_t)(have_hi - rs));
			int e = fill(w, r0, r1, have_hi, be, w->buf + (have_hi - rs));
			if (e < 0)
				return e;
		} else {
			int e = fill(w, r0, r1, rs, be, w->buf);
			if (e < 0)
				return e;
		}
		have_lo = rs;
		have_hi = be;
		bs = rs;
		/* searched in sub-windows, so that the hits held at once stay few even when a
		 * pattern matches at every byte */
		for (uint64_t slo = rlo, sscan = scan_lo; slo < hi;) {
			uint64_t shi = hi - slo > SUBWINDOW ? slo + SUBWINDOW : hi;
			uint64_t send = se - shi > O ? shi + O : se;
			uint64_t savail = se - shi > O + M ? shi + O + M : se;
			bool eod = savail == se && !open;
			const gp_hit *hits;
			size_t nh;
			int e;
			if (guess) {
				/* the chains up to the unit's start, nothing reported: the guess */
				e = gp_scan(s->set, w->sc, w->buf, (size_t)(send - bs), (size_t)(savail - bs), bs,
					    (size_t)(sscan - bs), (size_t)(slo - bs), (size_t)(slo - bs), eod, &hits, &nh);
				if (e < 0 || (e = gp_scratch_chains(w->sc, u->a, &w->gpat, &w->gnext, &w->gn, &w->gcap)) < 0)
					return e;
				guess = false;
				w->spec = true;
				sscan = slo;
			}
			e = gp_scan(s->set, w->sc, w->buf, (size_t)(send - bs), (size_t)(savail - bs), bs,
				    (size_t)(sscan - bs), (size_t)(slo - bs), (size_t)(shi - bs), eod, &hits, &nh);
			if (e < 0 || (e = note_fails(w)) < 0)
				return e;
			w->st.scanned += shi - slo;
			if (w->spec && (nh || w->nheld > HELD_MAX) &&
			    (e = check_guess(w, u, may_spill(w, u, nh) || w->nheld > HELD_MAX)) != 0)
				return e;
			if (!w->spec)
				say_held(w);
			/* hits that could not be kept (-ENOMEM) are a failed search, never "no match" */
			if (nh && (e = emit_hits(w, u, r, hits, nh, w->buf, (size_t)(be - bs), bs, r0, r1)) != 0)
				return e > 0 ? 1 : e;
			slo = sscan = shi;
		}
		rlo = scan_lo = hi;
		bs = rlo - ss > O ? rlo - O : ss;
	}
	if (rlo >= rend && rend == u->b && se > u->b)
		w->crossed = true; /* the chains at the unit's end are known */
	return 0;
}

/* Damaged stored data [bl, bh) (a snapshot chunk, an export's member) met by unit u: the
 * part inside the unit is counted as not searched, and the unit holding its start names it. */
static void note_damage(worker *w, unit *u, const region *r, uint64_t bl, uint64_t bh)
{
	src *s = w->s;
	uint64_t a = bl > u->a ? bl : u->a, b = bh < u->b ? bh : u->b;
	if (a < b)
		w->st.err_bytes[ERR_DAMAGED] += b - a;
	if (!w->err)
		w->err = -EBADMSG;
	uint64_t first = bl > r->lo ? bl : r->lo;
	if (first >= u->a && first < u->b && first >= w->damage_said) { /* once, a unit searched again too */
		w->damage_said = first + 1;
		const char *why = ml_error_detail(); /* of the failed read */
		pthread_mutex_lock(&s->mu);
		fprintf(stderr, "memlens grep: %s: 0x%" PRIx64 "-0x%" PRIx64 " not searched: damaged data%s%s\n",
			s->label, bl, bh, *why ? ": " : "", why);
		pthread_mutex_unlock(&s->mu);
	}
}

/*
 * Searches [ss, se) of a segment, reporting hits from @from on. A read that meets damaged
 * stored data skips exactly the damaged range (the source says which): what lies before it
 * is searched up to it, what lies after it from its end, as if it were a hole.
 */
static int scan_range(worker *w, unit *u, const region *r, size_t r0, size_t r1, uint64_t ss, uint64_t se,
		      bool open, uint64_t from, bool keep)
{
	while (ss < se) {
		uint64_t resume = from, bl, bh, at;
		uint64_t first = ss > u->a ? ss : u->a; /* where scan_segment() starts reporting */
		if (first < from)
			first = from;
		int e = scan_segment(w, u, r, r0, r1, ss, se, open, from, keep, &resume);
		if (e != -EBADMSG || !w->s->s)
			return e;
		at = w->fail_addr;
		if (at < ss || at >= se || ml_source_damage(w->via, at, &bl, &bh) < 0 || bl > at || bh <= at)
			return e; /* no known extent: the rest of the segment is lost */
		note_damage(w, u, r, bl, bh);
		/* up to the damage, the search goes on where it stopped, its regexes' chains too;
		 * where it stopped before its first window, it starts as it would have (the chains
		 * at the unit's start guessed and checked, or seeded) */
		if (bl > ss && resume < bl) {
			e = scan_range(w, u, r, r0, r1, ss, bl, false, resume, keep || resume > first);
			if (e)
				return e;
		}
		if (bh <= ss)
			return e;
		ss = from = bh;
		keep = false;
	}
	return 0;
}

/* Searches the readable segments of the unit's runs; >0 when the unit stops (RESCAN: to be
 * searched again). @ce: where the runs collected end; @open: the region goes on past it. */
static int scan_runs(worker *w, unit *u, const region *r, uint64_t ce, bool open)
{
	src *s = w->s;
	size_t i = 0;
	w->crossed = false;
	while (i < w->nruns && !atomic_load(&s->stop)) {
		if (!readable(s, w->runs[i].kind)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < w->nruns && readable(s, w->runs[j].kind) && w->runs[j].start == w->runs[j - 1].end)
			j++;
		uint64_t se = w->runs[j - 1].end;
		w->read_err = 0;
		int e = scan_range(w, u, r, i, j, w->runs[i].start, se, open && se == ce, 0, false);
		if (e > 0)
			return e;
		/* an error that no read returned is the search's own: gp_scan()'s -EIO is not
		 * memory that cannot be read */
		if (e == -EIO && w->read_err != -EIO)
			e = GREP_ERR_SCAN;
		if (e < 0) {
			uint64_t a = w->runs[i].start > u->a ? w->runs[i].start : u->a;
			uint64_t b = se < u->b ? se : u->b;
			note_err(w, e, b > a ? b - a : 0);
			if (e == -ESRCH)
				return 1;
		}
		i = j;
	}
	return 0;
}

static void scan_unit(worker *w, unit *u)
{
	src *s = w->s;
	const region *r = &s->regions[u->region];
	size_t O = gp_set_overlap(s->set), M = gp_set_margin(s->set);
	/* page-aligned (mappings are), so the pagemap walk takes the range as it is; a page
	 * more, to know whether the run ends where the context does ($ holds at its end only) */
	uint64_t cs, ce;
	gp_unit_span(u->a, u->b, r->v.start, r->v.end, 2 * O, O + M, &cs, &ce);
	ce = r->v.end - ce > 4096 ? ce + 4096 : r->v.end;
	int e = collect_runs(w, cs, ce);
	if (e < 0) {
		note_err(w, e, u->b - u->a);
		return;
	}
	bool open = ce < r->v.end;
	/* account for what is not read, inside the unit only (units overlap through context) */
	for (size_t i = 0; i < w->nruns; i++) {
		const ml_run *rn = &w->runs[i];
		uint64_t a = rn->start > u->a ? rn->start : u->a, b = rn->end < u->b ? rn->end : u->b;
		if (a < b && !readable(s, rn->kind))
			w->st.skipped[rn->kind] += b - a;
	}
	stats st = w->st;
	int err = w->err;
	w->spec = w->seeded = false;
	w->damage_said = 0;
	w->nheld = 0;
	for (;;) {
		e = scan_runs(w, u, r, ce, open);
		if (e != RESCAN && w->spec)
			e = check_guess(w, u, true) == RESCAN ? RESCAN : e;
		if (e != RESCAN)
			break;
		w->nheld = 0; /* found again by the search from the right chains */
		/* nothing of the unit was printed yet: search it again from the right chains */
		if (u->f) {
			fclose(u->f);
			u->f = NULL;
		}
		free(u->out);
		u->out = NULL;
		u->outlen = u->nhits = 0;
		w->st = st;
		w->err = err;
		w->seeded = true;
		w->spec = false;
	}
	/* the guess held (or could not be checked: the search stopped) */
	say_held(w);
}

/* Hands the regexes' chains at the end of unit u to the unit after it. */
static void hand_over(worker *w, unit *u, bool searched)
{
	src *s = w->s;
	handoff *h = &s->hand[(u->idx + 1) % (2 * s->nring)];
	pthread_mutex_lock(&s->mu);
	h->idx = u->idx + 1;
	h->at = u->b;
	h->known = searched && !atomic_load(&s->stop);
	h->n = 0;
	if (h->known && w->crossed && gp_set_has_regex(s->set) &&
	    gp_scratch_chains(w->sc, u->b, &h->pat, &h->next, &h->n, &h->cap) < 0)
		h->known = false;
	h->ready = true;
	pthread_mutex_unlock(&s->mu);
}

/* The next unit: the next 64 MiB slice (at absolute multiples) holding a readable run. Called
 * with s->mu held. False when there is none left. */
static bool next_unit_locked(src *s, unit *u)
{
	while (s->prod_region < s->nregions) {
		const region *r = &s->regions[s->prod_region];
		if (s->prod_pos < r->lo)
			s->prod_pos = r->lo;
		if (s->prod_pos >= r->hi) {
			s->prod_region++;
			continue;
		}
		uint64_t first = s->prod_pos; /* where readable memory may start */
		if (s->s) {
			ml_run runs[RUNS_BATCH];
			uint64_t from = s->prod_pos & ~(uint64_t)4095;
			if (from < r->v.start)
				from = r->v.start;
			/* up to the end of this slice only: walking on to the region's end for every
			 * unit would walk a large populated region over and over */
			uint64_t qend = gp_slice_end(s->prod_pos, r->hi, SLICE);
			uint64_t next = qend;
			ssize_t n = ml_source_runs(s->prod_via, from, qend, ML_RUNS_FILE, runs, RUNS_BATCH, &next);
			if (n < 0 && n == -ESRCH) {
				atomic_store(&s->gone, true);
				return false;
			}
			if (n == 0) {
				s->prod_pos = qend;
				continue;
			}
			if (n > 0) {
				ssize_t i = 0;
				while (i < n && (!readable(s, runs[i].kind) || runs[i].end <= s->prod_pos))
					i++;
				uint64_t upto = i == n ? (next > s->prod_pos ? next : qend) : runs[i].start;
				if (i < n && runs[i].start > first)
					first = runs[i].start;
				/* what is skipped before the unit is accounted here; the worker does the rest */
				uint64_t ustart = i == n ? upto : (first / SLICE * SLICE > r->lo ? first / SLICE * SLICE : r->lo);
				if (ustart > upto)
					ustart = upto;
				for (ssize_t k = 0; k < i; k++) {
					uint64_t x = runs[k].start > s->prod_pos ? runs[k].start : s->prod_pos;
					uint64_t y = runs[k].end < ustart ? runs[k].end : ustart;
					if (x < y && !readable(s, runs[k].kind))
						s->st.skipped[runs[k].kind] += y - x;
				}
				if (i == n) { /* nothing readable in this batch: go on after it */
					s->prod_pos = upto;
					continue;
				}
			}
			/* an error: hand the slice out anyway; the worker meets it and accounts for it */
		}
		uint64_t a = first - first % SLICE > r->lo ? first - first % SLICE : r->lo;
		uint64_t b = gp_slice_end(first, r->hi, SLICE);
		if (a < s->prod_pos)
			a = s->prod_pos;
		*u = (unit){ .region = s->prod_region, .a = a, .b = b };
		s->prod_pos = b;
		return true;
	}
	return false;
}

/* Claims the next unit (its ring slot), waiting while the ring is full of unprinted units. */
static unit *claim_unit(src *s)
{
	unit *u = NULL;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (atomic_load(&s->stop) || atomic_load(&s->gone))
			break;
		if (s->produced - s->next_print >= s->nring) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		unit nu;
		if (!next_unit_locked(s, &nu))
			break;
		nu.idx = s->produced;
		u = &s->ring[s->produced++ % s->nring];
		*u = nu;
		break;
	}
	pthread_mutex_unlock(&s->mu);
	return u;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	src *s = w->s;
	unit *u;
	while ((u = claim_unit(s))) {
		bool searched = !atomic_load(&s->stop) && !atomic_load(&s->gone);
		if (searched)
			scan_unit(w, u);
		hand_over(w, u, searched);
		if (u->f) {
			fclose(u->f);
			u->f = NULL;
		}
		pthread_mutex_lock(&s->mu);
		u->done = true;
		s->done += u->b - u->a;
		progress_update(&grep_progress, s->label, s->done, s->total);
		grep_flush_units(s);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv); /* others may wait for slots that will never come */
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int grep_run_workers(src *s, unsigned jobs)
{
	size_t O = gp_set_overlap(s->set);
	s->prod_via = s->s;
	if (s->s && ml_source_get_type(s->s) == ML_SOURCE_LIVE &&
	    ml_source_open_proc(ml_source_proc(s->s), &s->prod_own) == 0)
		s->prod_via = s->prod_own;
	s->nring = 4 * (size_t)jobs + 4;
	s->ring = calloc(s->nring, sizeof(unit));
	s->hand = calloc(2 * s->nring, sizeof(handoff));
	if (!s->ring || !s->hand) {
		free(s->hand);
		s->hand = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < 2 * s->nring; i++)
		s->hand[i].idx = SIZE_MAX; /* for no unit yet */
	worker *ws = calloc(jobs, sizeof(*ws));
	pthread_t *th = calloc(jobs, sizeof(*th));
	int rc = 0;
	if (!ws || !th) {
		free(ws);
		free(th);
		return -ENOMEM;
	}
	unsigned started = 0;
	for (unsigned i = 0; i < jobs; i++) {
		worker *w = &ws[i];
		w->s = s;
		w->cap = WINDOW + 4 * O + gp_set_margin(s->set) + 2 * ctx_bytes(s) + 64;
		w->buf = malloc(w->cap);
		w->capruns = 4 * RUNS_BATCH;
		w->runs = malloc(w->capruns * sizeof(ml_run));
		w->sc = gp_scratch_new(s->set);
		w->via = s->s;
		if (s->s && ml_source_get_type(s->s) == ML_SOURCE_LIVE &&
		    ml_source_open_proc(ml_source_proc(s->s), &w->own) == 0)
			w->via = w->own;
		if (!w->buf || !w->runs || !w->sc) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!rc) {
		for (unsigned i = 1; i < jobs; i++) {
			if (pthread_create(&th[i], NULL, worker_main, &ws[i]))
				break;
			started++;
		}
		worker_main(&ws[0]);
		for (unsigned i = 1; i <= started; i++)
			pthread_join(th[i], NULL);
	}
	for (unsigned i = 0; i < jobs; i++) {
		worker *w = &ws[i];
		s->st.scanned += w->st.scanned;
		for (int k = 0; k < ML_RUN_KIND_COUNT; k++)
			s->st.skipped[k] += w->st.skipped[k];
		for (int k = 0; k < 8; k++)
			s->st.err_bytes[k] += w->st.err_bytes[k];
		if (w->err && !s->first_err)
			s->first_err = w->err;
		free(w->buf);
		free(w->runs);
		gp_scratch_free(w->sc);
		ml_source_free(w->own);
		free(w->gpat);
		free(w->gnext);
		free(w->held);
	}
	for (size_t i = 0; i < 2 * s->nring; i++) {
		free(s->hand[i].pat);
		free(s->hand[i].next);
	}
	free(s->hand);
	s->hand = NULL;
	free(ws);
	free(th);
	return rc;
}
