/* Pattern sets: literals, hex patterns and PCRE2 regexes parsed, expanded into variants and compiled, with or without Vectorscan. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep/engine.h"
/* Up to this many literal/hex variants are searched one by one with the SIMD filter. */
#define GP_LIT1_MAX 4

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
/* Vectorscan reads ahead; a regex match that reaches the end of a buffer where memory goes on
 * is settled with the bytes that follow (scan.c, re_settle()) */
size_t gp_set_margin(const gp_set *s) { return s->use_vs || s->nregex ? GP_VS_MARGIN : 0; }
bool gp_set_has_regex(const gp_set *s) { return s->nregex > 0; }
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
	if (gp_dl_pcre2(err) < 0)
		return -ENOENT;
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
	/* PCRE2 starts such a regex (.* first, without (?s)) at the start offset and after
	 * each newline only; the other starts cannot begin a leftmost match */
	uint32_t first = 0, nl = 0, all = 0;
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &first);
	pcre2_pattern_info(re, PCRE2_INFO_NEWLINE, &nl);
	pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &all);
	gp_pat p = { .kind = GP_REGEX, .enc = GP_ENC_ASCII, .user = ui, .re = re,
		     .minlen = minlen, .maxlen = s->o.max_regex_len,
		     .line_starts = first == 2 && nl == PCRE2_NEWLINE_LF && !(all & PCRE2_NO_START_OPTIMIZE) };
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

/* Regexes refused by a compilation of a database before the rest are tested one by one. */
#define VS_RETRIES 8
/*
 * Regexes per database. Vectorscan's compile time grows faster than the number of regexes
 * (here, 1,000 typical ones took 0.4 s, 5,000 2.7 s, 10,000 10.4 s, and 100,000 did not end
 * within 300 s at 660 MB), while a scan costs about the same per database whatever it holds:
 * groups of this many keep both linear (docs/benchmarks.md, "Many regexes").
 */
#define VS_GROUP 2000

/*
 * Compiles @n expressions into one database. A regex Vectorscan does not take (a construct
 * it lacks, or reads otherwise than PCRE2) is named by the failed compilation: it is left to
 * PCRE2 alone and the rest compiled again. (Testing each regex on its own first would
 * compile every pattern twice.) After VS_RETRIES such failures the remaining regexes are
 * tested one by one, so a list full of them costs one compilation each, not one of the
 * whole list each. Frees the expressions it drops; *n is what is left.
 */
static int vs_compile_group(gp_set *s, const char **exprs, unsigned *flags, unsigned *ids, size_t *n,
			    hs_database_t **ret, char **err)
{
	size_t fails = 0;
	bool tested = false;
	*ret = NULL;
	while (*n) {
		hs_compile_error_t *ce = NULL;
		/* streaming, without start-of-match tracking: only ends are reported, and the
		 * matchers of the portable engine confirm them and find the starts */
		if (hs_compile_multi(exprs, flags, ids, (unsigned)*n, HS_MODE_STREAM, NULL, ret, &ce) == HS_SUCCESS)
			return 0;
		int bad = ce ? ce->expression : -1;
		if (bad < 0 || (size_t)bad >= *n || s->pats[ids[bad]].kind != GP_REGEX || tested) {
			*err = msgf("vectorscan: %s", ce && ce->message ? ce->message : "compile failed");
			hs_free_compile_error(ce);
			return -EINVAL;
		}
		hs_free_compile_error(ce);
		size_t k = 0;
		for (size_t j = 0; j < *n; j++) {
			gp_pat *p = &s->pats[ids[j]];
			bool drop = j == (size_t)bad;
			if (!drop && fails >= VS_RETRIES && p->kind == GP_REGEX) {
				hs_database_t *t = NULL;
				hs_compile_error_t *te = NULL;
				if (hs_compile(exprs[j], flags[j], HS_MODE_STREAM, NULL, &t, &te) != HS_SUCCESS)
					drop = true;
				hs_free_compile_error(te);
				hs_free_database(t);
			}
			if (drop) {
				p->vs = false; /* PCRE2 alone scans it */
				free((char *)exprs[j]);
				continue;
			}
			exprs[k] = exprs[j];
			flags[k] = flags[j];
			ids[k] = ids[j];
			k++;
		}
		tested = fails >= VS_RETRIES;
		fails++;
		*n = k;
	}
	return 0;
}

static int vs_compile(gp_set *s, char **err)
{
	const char **exprs = calloc(s->npats, sizeof(char *));
	unsigned *flags = calloc(s->npats, sizeof(unsigned));
	unsigned *ids = calloc(s->npats, sizeof(unsigned));
	size_t nre = 0;
	for (size_t i = 0; i < s->npats; i++)
		nre += s->pats[i].kind == GP_REGEX;
	s->db = calloc(nre / VS_GROUP + 1, sizeof(*s->db));
	int rc = -ENOMEM;
	if (!exprs || !flags || !ids || !s->db)
		goto out;
	/* literals and hex patterns do not count towards a group's size: Vectorscan compiles
	 * those in time linear in their number */
	size_t i = 0;
	while (i < s->npats) {
		size_t n = 0, re = 0;
		for (; i < s->npats && (s->pats[i].kind != GP_REGEX || re < VS_GROUP); i++) {
			gp_pat *p = &s->pats[i];
			char *e = NULL;
			unsigned f = 0;
			if (p->kind == GP_LITERAL) {
				e = lit_to_regex(p->bytes, p->len);
				f = s->o.icase ? HS_FLAG_CASELESS : 0;
			} else if (p->kind == GP_HEX) {
				e = gp_hexpat_to_regex(p->hex);
			} else if (memchr(s->users[p->user].text, '\0', s->users[p->user].len)) {
				/* Vectorscan takes a NUL-terminated expression: PCRE2 alone searches
				 * for one holding a NUL byte (from a pattern file), whole */
				continue;
			} else {
				e = strdup(s->users[p->user].text);
				f = s->o.icase ? HS_FLAG_CASELESS : 0;
				re++;
			}
			if (!e) {
				for (size_t k = 0; k < n; k++)
					free((char *)exprs[k]);
				goto out;
			}
			exprs[n] = e;
			flags[n] = f;
			ids[n] = (unsigned)i;
			n++;
			p->vs = true;
		}
		hs_database_t *db = NULL;
		int r = vs_compile_group(s, exprs, flags, ids, &n, &db, err);
		for (size_t k = 0; k < n; k++)
			free((char *)exprs[k]);
		if (r < 0) {
			rc = r;
			goto out;
		}
		if (db)
			s->db[s->ndb++] = db;
	}
	rc = 0;
out:
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
		s->nregex += s->pats[i].kind == GP_REGEX;
		nlit += s->pats[i].kind == GP_LITERAL;
		nhex += s->pats[i].kind == GP_HEX;
	}
	s->overlap = ov;
	bool want_vs = s->o.engine == GP_ENGINE_VECTORSCAN ||
		       (s->o.engine == GP_ENGINE_AUTO && (any_re || nlit + nhex > GP_LIT1_MAX));
#ifdef MEMLENS_HAVE_VECTORSCAN
	if (want_vs) {
		char *lerr = NULL;
		if (gp_dl_hs(&lerr) < 0) {
			if (s->o.engine == GP_ENGINE_VECTORSCAN) {
				*err = lerr;
				return -ENOENT;
			}
			free(lerr); /* the portable engine does it all, as in a build without Vectorscan */
			want_vs = false;
		}
	}
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
	/* PCRE2 scans the regexes Vectorscan does not take; those it takes PCRE2 only confirms
	 * where Vectorscan reported an end, which the interpreter does as well: JIT code costs
	 * several KiB per regex (hundreds of MB for 100,000), so only the scanned ones get it */
	for (size_t i = 0; i < s->npats; i++)
		if (s->pats[i].kind == GP_REGEX && !s->pats[i].vs)
			/* without JIT it still works, slower; partial matching settles matches that
			 * reach the end of a buffer (scan.c) */
			pcre2_jit_compile(s->pats[i].re, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
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
		if (s->pats[i].re)
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
	for (size_t i = 0; i < s->ndb; i++)
		hs_free_database(s->db[i]);
	free(s->db);
#endif
	free(s);
}
