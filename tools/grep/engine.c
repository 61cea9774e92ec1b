/* Pattern sets and the window scanner: literals, hex patterns and PCRE2 regexes, with or without Vectorscan. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef MEMLENS_HAVE_VECTORSCAN
#include <hs/hs.h>
#endif

#include "grep.h"

/* Up to this many literal/hex variants are searched one by one with the SIMD filter. */
#define GP_LIT1_MAX 4

struct gp_set {
	gp_set_opts o;
	gp_user *users;
	size_t nusers;
	gp_pat *pats;
	size_t npats;
	size_t overlap;
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
	hs_database_t *db;
#endif
};

struct gp_scratch {
	const gp_set *set;
	gp_hit *hits;
	size_t nhits, cap;
	uint64_t *re_next;      /* per pattern: absolute address where the regex resumes */
	size_t *hex_next;       /* per pattern: next start to test (Vectorscan hex confirm) */
	pcre2_match_data *md;
	/* current scan, for callbacks */
	const uint8_t *buf;
	size_t len, report_lo, hi;
	uint32_t cur_pat;
	bool oom;
#ifdef MEMLENS_HAVE_VECTORSCAN
	hs_scratch_t *hs;
	gp_hit *raw;            /* Vectorscan reports (end offsets) */
	size_t nraw, rawcap;
#endif
};

static char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msgf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	return m;
}

gp_set *gp_set_new(const gp_set_opts *o)
{
	gp_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->o = *o;
	if (!s->o.enc)
		s->o.enc = GP_ENC_ASCII;
	if (!s->o.max_regex_len)
		s->o.max_regex_len = 4096;
	return s;
}

size_t gp_set_users(const gp_set *s) { return s->nusers; }
const gp_user *gp_set_user(const gp_set *s, size_t i) { return &s->users[i]; }
const gp_pat *gp_set_pat(const gp_set *s, size_t i) { return &s->pats[i]; }
size_t gp_set_pats(const gp_set *s) { return s->npats; }
size_t gp_set_overlap(const gp_set *s) { return s->overlap; }
const char *gp_set_engine_name(const gp_set *s) { return s->use_vs ? "vectorscan" : "portable"; }

static int push_pat(gp_set *s, gp_pat p)
{
	if ((s->npats & (s->npats + 1)) == 0 || s->npats == 0) {
		size_t cap = s->npats ? 2 * (s->npats + 1) : 8;
		gp_pat *n = realloc(s->pats, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->pats = n;
	}
	s->pats[s->npats++] = p;
	return 0;
}

/* Decodes one UTF-8 sequence (invalid bytes stand for themselves as U+00xx). */
static size_t utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (n <= 1 || n > len) {
		*cp = c;
		return 1;
	}
	uint32_t v = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = c;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

static uint8_t *to_utf16le(const uint8_t *s, size_t len, size_t *ret_len)
{
	uint8_t *out = malloc(4 * len + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, len - i, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			uint32_t hi = 0xd800 + (cp >> 10), lo = 0xdc00 + (cp & 0x3ff);
			*p++ = (uint8_t)hi;
			*p++ = (uint8_t)(hi >> 8);
			*p++ = (uint8_t)lo;
			*p++ = (uint8_t)(lo >> 8);
		} else {
			*p++ = (uint8_t)cp;
			*p++ = (uint8_t)(cp >> 8);
		}
	}
	*ret_len = (size_t)(p - out);
	return out;
}

int gp_set_add(gp_set *s, gp_kind kind, const char *text, size_t len, char **err)
{
	*err = NULL;
	gp_user *u = realloc(s->users, (s->nusers + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	s->users = u;
	size_t ui = s->nusers;
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	s->users[ui] = (gp_user){ copy, len, kind };
	s->nusers++;
	if (kind == GP_LITERAL) {
		if (!len) {
			*err = msgf("empty pattern");
			return -EINVAL;
		}
		for (int e = GP_ENC_ASCII; e <= GP_ENC_UTF16LE; e <<= 1) {
			if (!(s->o.enc & e))
				continue;
			gp_pat p = { .kind = GP_LITERAL, .enc = (gp_enc)e, .user = ui };
			if (e == GP_ENC_ASCII) {
				p.bytes = malloc(len);
				if (!p.bytes)
					return -ENOMEM;
				memcpy(p.bytes, text, len);
				p.len = len;
			} else {
				p.bytes = to_utf16le((const uint8_t *)text, len, &p.len);
				if (!p.bytes)
					return -ENOMEM;
			}
			if (p.len > GP_HEX_MAX_LEN) {
				free(p.bytes);
				*err = msgf("pattern '%s' is longer than 4096 bytes", copy);
				return -EINVAL;
			}
			p.minlen = p.maxlen = p.len;
			if (push_pat(s, p) < 0) {
				free(p.bytes);
				return -ENOMEM;
			}
		}
		return 0;
	}
	if (kind == GP_HEX) {
		gp_hexpat *h;
		const char *m = NULL;
		int r = gp_hexpat_parse(text, len, &h, &m);
		if (r < 0) {
			*err = msgf("hex pattern '%s': %s", copy, m ? m : "out of memory");
			return r;
		}
		gp_pat p = { .kind = GP_HEX, .enc = GP_ENC_ASCII, .user = ui, .hex = h,
			     .minlen = h->minlen, .maxlen = h->maxlen };
		if (push_pat(s, p) < 0) {
			gp_hexpat_free(h);
			return -ENOMEM;
		}
		return 0;
	}
	int ec;
	PCRE2_SIZE eo;
	uint32_t fl = s->o.icase ? PCRE2_CASELESS : 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)text, len, fl, &ec, &eo, NULL);
	if (!re) {
		char m[256];
		pcre2_get_error_message(ec, (PCRE2_UCHAR *)m, sizeof(m));
		*err = msgf("regex '%s': %s", copy, m);
		return -EINVAL;
	}
	uint32_t minlen = 0;
	pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH, &minlen);
	if (minlen == 0) {
		/* an empty match would be reported at every byte */
		pcre2_code_free(re);
		*err = msgf("regex '%s' can match the empty string", copy);
		return -EINVAL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT it still works, slower */
	gp_pat p = { .kind = GP_REGEX, .enc = GP_ENC_ASCII, .user = ui, .re = re,
		     .minlen = minlen, .maxlen = s->o.max_regex_len };
	if (push_pat(s, p) < 0) {
		pcre2_code_free(re);
		return -ENOMEM;
	}
	return 0;
}

#ifdef MEMLENS_HAVE_VECTORSCAN
static char *lit_to_regex(const uint8_t *b, size_t n)
{
	char *r = malloc(4 * n + 1), *p = r;
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "\\x%02x", b[i]);
	*p = '\0';
	return r;
}

static int vs_compile(gp_set *s, char **err)
{
	const char **exprs = calloc(s->npats, sizeof(char *));
	unsigned *flags = calloc(s->npats, sizeof(unsigned));
	unsigned *ids = calloc(s->npats, sizeof(unsigned));
	int rc = -ENOMEM;
	size_t n = 0;
	if (!exprs || !flags || !ids)
		goto out;
	for (size_t i = 0; i < s->npats; i++) {
		gp_pat *p = &s->pats[i];
		char *e = NULL;
		unsigned f = 0;
		if (p->kind == GP_LITERAL) {
			e = lit_to_regex(p->bytes, p->len);
			f = s->o.icase ? HS_FLAG_CASELESS : 0;
		} else if (p->kind == GP_HEX) {
			e = gp_hexpat_to_regex(p->hex);
		} else {
			e = strdup(s->users[p->user].text);
			f = s->o.icase ? HS_FLAG_CASELESS : 0;
			/* Vectorscan must understand it the way PCRE2 does, or PCRE2 alone scans it */
			hs_database_t *t = NULL;
			hs_compile_error_t *ce = NULL;
			if (e && hs_compile(e, f, HS_MODE_BLOCK, NULL, &t, &ce) != HS_SUCCESS) {
				hs_free_compile_error(ce);
				free(e);
				continue;
			}
			hs_free_database(t);
		}
		if (!e)
			goto out;
		exprs[n] = e;
		flags[n] = f;
		ids[n] = (unsigned)i;
		n++;
		p->vs = true;
	}
	if (n) {
		hs_compile_error_t *ce = NULL;
		if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &s->db, &ce) != HS_SUCCESS) {
			*err = msgf("vectorscan: %s", ce && ce->message ? ce->message : "compile failed");
			hs_free_compile_error(ce);
			rc = -EINVAL;
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; exprs && i < n; i++)
		free((char *)exprs[i]);
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}
#endif

int gp_set_compile(gp_set *s, char **err)
{
	*err = NULL;
	size_t ov = 1;
	bool any_re = false;
	size_t nlit = 0, nhex = 0;
	for (size_t i = 0; i < s->npats; i++) {
		if (s->pats[i].maxlen > ov)
			ov = s->pats[i].maxlen;
		any_re |= s->pats[i].kind == GP_REGEX;
		nlit += s->pats[i].kind == GP_LITERAL;
		nhex += s->pats[i].kind == GP_HEX;
	}
	s->overlap = ov;
	bool want_vs = s->o.engine == GP_ENGINE_VECTORSCAN ||
		       (s->o.engine == GP_ENGINE_AUTO && (any_re || nlit + nhex > GP_LIT1_MAX));
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (want_vs) {
		int r = vs_compile(s, err);
		if (r < 0)
			return r;
		s->use_vs = true;
	}
#else
	if (s->o.engine == GP_ENGINE_VECTORSCAN) {
		*err = msgf("this memlens was built without Vectorscan");
		return -EOPNOTSUPP;
	}
	(void)want_vs;
#endif
	/* portable structures for everything Vectorscan does not handle */
	s->lit_ids = calloc(nlit ? nlit : 1, sizeof(size_t));
	s->hex_anchor = calloc(s->npats ? s->npats : 1, sizeof(gp_lit1));
	if (!s->lit_ids || !s->hex_anchor)
		return -ENOMEM;
	for (size_t i = 0; i < s->npats; i++) {
		gp_pat *p = &s->pats[i];
		if (p->vs)
			continue;
		if (p->kind == GP_LITERAL)
			s->lit_ids[s->nlits++] = i;
		else if (p->kind == GP_HEX && p->hex->anchor_len)
			gp_lit1_init(&s->hex_anchor[i], p->hex->anchor, p->hex->anchor_len, false);
	}
	if (s->nlits && s->nlits <= GP_LIT1_MAX) {
		s->lit1 = calloc(s->nlits, sizeof(gp_lit1));
		if (!s->lit1)
			return -ENOMEM;
		for (size_t k = 0; k < s->nlits; k++) {
			gp_pat *p = &s->pats[s->lit_ids[k]];
			gp_lit1_init(&s->lit1[k], p->bytes, p->len, s->o.icase);
		}
	} else if (s->nlits) {
		s->litn_needles = calloc(s->nlits, sizeof(uint8_t *));
		s->litn_lens = calloc(s->nlits, sizeof(size_t));
		if (!s->litn_needles || !s->litn_lens)
			return -ENOMEM;
		for (size_t k = 0; k < s->nlits; k++) {
			s->litn_needles[k] = s->pats[s->lit_ids[k]].bytes;
			s->litn_lens[k] = s->pats[s->lit_ids[k]].len;
		}
		int r = gp_litn_new(s->litn_needles, s->litn_lens, s->nlits, s->o.icase, &s->litn);
		if (r < 0)
			return r;
	}
	return 0;
}

void gp_set_free(gp_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npats; i++) {
		free(s->pats[i].bytes);
		gp_hexpat_free(s->pats[i].hex);
		pcre2_code_free(s->pats[i].re);
	}
	for (size_t i = 0; i < s->nusers; i++)
		free(s->users[i].text);
	free(s->users);
	free(s->pats);
	free(s->lit1);
	free(s->lit_ids);
	gp_litn_free(s->litn);
	free(s->litn_needles);
	free(s->litn_lens);
	free(s->hex_anchor);
#ifdef MEMLENS_HAVE_VECTORSCAN
	hs_free_database(s->db);
#endif
	free(s);
}

gp_scratch *gp_scratch_new(const gp_set *s)
{
	gp_scratch *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->set = s;
	sc->re_next = calloc(s->npats ? s->npats : 1, sizeof(uint64_t));
	sc->hex_next = calloc(s->npats ? s->npats : 1, sizeof(size_t));
	sc->md = pcre2_match_data_create(1, NULL);
	if (!sc->re_next || !sc->hex_next || !sc->md) {
		gp_scratch_free(sc);
		return NULL;
	}
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (s->db && hs_alloc_scratch(s->db, &sc->hs) != HS_SUCCESS) {
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
	free(sc->hex_next);
	pcre2_match_data_free(sc->md);
#ifdef MEMLENS_HAVE_VECTORSCAN
	hs_free_scratch(sc->hs);
	free(sc->raw);
#endif
	free(sc);
}

void gp_scratch_reset(gp_scratch *sc)
{
	memset(sc->re_next, 0, (sc->set->npats ? sc->set->npats : 1) * sizeof(uint64_t));
}

static int add_hit(gp_scratch *sc, size_t start, size_t end, uint32_t pat)
{
	if (sc->nhits == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 256;
		gp_hit *n = realloc(sc->hits, cap * sizeof(*n));
		if (!n) {
			sc->oom = true;
			return -ENOMEM;
		}
		sc->hits = n;
		sc->cap = cap;
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

/* The leftmost match of regex @pi starting at or after @pos: true with [*ms, *me). */
static bool re_find(gp_scratch *sc, const gp_pat *p, size_t pos, size_t *ms, size_t *me)
{
	if (pos >= sc->len)
		return false;
	int r = pcre2_match(p->re, sc->buf, sc->len, pos, 0, sc->md, NULL);
	if (r < 0)
		return false;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
	*ms = ov[0];
	*me = ov[1];
	return *me > *ms;
}

/* The first position a regex may start at: its previous match's end, or @scan_lo. */
static size_t re_from(gp_scratch *sc, uint32_t pi, uint64_t base, size_t scan_lo)
{
	uint64_t nx = sc->re_next[pi];
	if (nx > base + scan_lo)
		return nx - base < sc->len ? (size_t)(nx - base) : sc->len;
	return scan_lo;
}

static int re_report(gp_scratch *sc, uint32_t pi, uint64_t base, size_t ms, size_t me)
{
	sc->re_next[pi] = base + me;
	if (ms >= sc->report_lo)
		return add_hit(sc, ms, me, pi);
	return 0;
}

static int scan_regex(gp_scratch *sc, uint32_t pi, uint64_t base, size_t scan_lo)
{
	const gp_pat *p = &sc->set->pats[pi];
	size_t pos = re_from(sc, pi, base, scan_lo), ms, me;
	while (pos < sc->hi && re_find(sc, p, pos, &ms, &me)) {
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
	if (sc->nraw == sc->rawcap) {
		size_t cap = sc->rawcap ? 2 * sc->rawcap : 1024;
		gp_hit *n = realloc(sc->raw, cap * sizeof(*n));
		if (!n) {
			sc->oom = true;
			return 1;
		}
		sc->raw = n;
		sc->rawcap = cap;
	}
	sc->raw[sc->nraw++] = (gp_hit){ 0, (size_t)to, id };
	return 0;
}

static int cmp_raw(const void *a, const void *b)
{
	const gp_hit *x = a, *y = b;
	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Vectorscan reports only where matches end (start-of-match tracking is slow). Literals
 * start len bytes earlier; hex and regex hits are confirmed, and their starts found, by
 * the same matchers the portable engine uses, in a window before the end.
 */
static int vs_scan(gp_scratch *sc, uint64_t base, size_t scan_lo)
{
	const gp_set *s = sc->set;
	sc->nraw = 0;
	/* Vectorscan sees from the earliest byte any reported match can start at */
	size_t from = scan_lo < sc->report_lo ? scan_lo : sc->report_lo;
	hs_error_t e = hs_scan(s->db, (const char *)sc->buf + from, (unsigned)(sc->len - from), 0, sc->hs, on_vs, sc);
	if (sc->oom)
		return -ENOMEM;
	if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
		return -EIO;
	if (sc->nraw > 1)
		qsort(sc->raw, sc->nraw, sizeof(*sc->raw), cmp_raw);
	for (size_t i = 0; i < sc->nraw; i++)
		sc->raw[i].end += from;
	size_t i = 0;
	while (i < sc->nraw) {
		uint32_t pi = sc->raw[i].pat;
		const gp_pat *p = &s->pats[pi];
		size_t j = i;
		while (j < sc->nraw && sc->raw[j].pat == pi)
			j++;
		if (p->kind == GP_LITERAL) {
			for (size_t k = i; k < j; k++) {
				size_t st = sc->raw[k].end - p->len;
				if (st >= sc->report_lo && st < sc->hi && add_hit(sc, st, sc->raw[k].end, pi))
					return -ENOMEM;
			}
		} else if (p->kind == GP_HEX) {
			size_t next = sc->report_lo;
			for (size_t k = i; k < j; k++) {
				size_t end = sc->raw[k].end;
				size_t a = end >= p->maxlen ? end - p->maxlen : 0, b = end - p->minlen;
				if (a < next)
					a = next;
				if (b >= sc->hi)
					b = sc->hi - 1;
				for (size_t st = a; st <= b && st < sc->hi; st++) {
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
			for (size_t k = i; k < j && !stop; k++) {
				size_t end = sc->raw[k].end;
				for (;;) {
					size_t pos = re_from(sc, pi, base, scan_lo), ms, me;
					if (end <= pos)
						break;
					if (end > win && end - win > pos)
						pos = end - win;
					if (!re_find(sc, p, pos, &ms, &me) || ms >= end)
						break;
					if (ms >= sc->hi) {
						stop = true;
						break;
					}
					if (re_report(sc, pi, base, ms, me) < 0)
						return -ENOMEM;
					if (me >= end)
						break;
				}
			}
		}
		i = j;
	}
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

int gp_scan(const gp_set *s, gp_scratch *sc, const uint8_t *buf, size_t len, uint64_t base,
	    size_t scan_lo, size_t report_lo, size_t hi, const gp_hit **hits, size_t *nhits)
{
	sc->nhits = 0;
	sc->oom = false;
	sc->buf = buf;
	sc->len = len;
	sc->report_lo = report_lo;
	sc->hi = hi < len ? hi : len;
	int r = 0;
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (s->db && (r = vs_scan(sc, base, scan_lo)) < 0)
		return r;
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
	if (sc->nhits > 1)
		qsort(sc->hits, sc->nhits, sizeof(*sc->hits), cmp_hit);
	*hits = sc->hits;
	*nhits = sc->nhits;
	return 0;
}
