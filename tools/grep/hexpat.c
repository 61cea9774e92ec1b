/* Hex byte patterns with wildcards, nibble wildcards and bounded jumps: parser and matcher. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; }

/* Parses a decimal number of at most 5 digits at s[*i]. */
static int parse_num(const char *s, size_t len, size_t *i, unsigned *ret)
{
	unsigned v = 0;
	size_t start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 5)
		v = v * 10 + (unsigned)(s[(*i)++] - '0');
	if (*i == start || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
		return -1;
	*ret = v;
	return 0;
}

static int fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -EINVAL;
}

void gp_hexpat_free(gp_hexpat *h)
{
	if (!h)
		return;
	free(h->el);
	free(h->anchor);
	free(h);
}

int gp_hexpat_parse(const char *s, size_t len, gp_hexpat **ret, const char **err)
{
	if (!s || !ret)
		return fail(err, "no pattern");
	gp_hexel *el = calloc(GP_HEX_MAX_ELEMS, sizeof(*el));
	if (!el)
		return -ENOMEM;
	size_t n = 0, i = 0;
	const char *msg = NULL;
	while (i < len) {
		char c = s[i];
		if (is_space(c)) {
			i++;
			continue;
		}
		if (n == GP_HEX_MAX_ELEMS) {
			msg = "hex pattern has too many elements";
			goto bad;
		}
		if (c == '[') {
			unsigned lo, hi;
			i++;
			while (i < len && s[i] == ' ')
				i++;
			if (parse_num(s, len, &i, &lo) < 0) {
				msg = "jump needs a number: [N] or [N-M]";
				goto bad;
			}
			while (i < len && s[i] == ' ')
				i++;
			hi = lo;
			if (i < len && s[i] == '-') {
				i++;
				while (i < len && s[i] == ' ')
					i++;
				if (parse_num(s, len, &i, &hi) < 0) {
					msg = "jumps must be bounded: [N-M]";
					goto bad;
				}
				while (i < len && s[i] == ' ')
					i++;
			}
			if (i >= len || s[i] != ']') {
				msg = "unterminated jump: expected ']'";
				goto bad;
			}
			i++;
			if (hi < lo) {
				msg = "jump [N-M] needs N <= M";
				goto bad;
			}
			if (hi > GP_HEX_MAX_LEN) {
				msg = "jump is longer than 4096 bytes";
				goto bad;
			}
			if (n == 0) {
				msg = "hex pattern cannot start with a jump";
				goto bad;
			}
			if (el[n - 1].jump) { /* two jumps in a row add up */
				el[n - 1].min = (uint16_t)(el[n - 1].min + lo > GP_HEX_MAX_LEN ? GP_HEX_MAX_LEN + 1 : el[n - 1].min + lo);
				el[n - 1].max = (uint16_t)(el[n - 1].max + hi > GP_HEX_MAX_LEN ? GP_HEX_MAX_LEN + 1 : el[n - 1].max + hi);
			} else {
				el[n++] = (gp_hexel){ .jump = 1, .min = (uint16_t)lo, .max = (uint16_t)hi };
			}
			continue;
		}
		if (i + 1 >= len) {
			msg = "hex byte needs two digits";
			goto bad;
		}
		char d = s[i + 1];
		int hv = hexval(c), lv = hexval(d);
		gp_hexel e = { 0 };
		if (c == '?' && d == '?') {
			e.mask = 0;
		} else if (c == '?' && lv >= 0) {
			e.mask = 0x0f;
			e.val = (uint8_t)lv;
		} else if (hv >= 0 && d == '?') {
			e.mask = 0xf0;
			e.val = (uint8_t)(hv << 4);
		} else if (hv >= 0 && lv >= 0) {
			e.mask = 0xff;
			e.val = (uint8_t)(hv << 4 | lv);
		} else {
			msg = "not a hex byte (use 2 hex digits, ?? or a nibble wildcard like ?5)";
			goto bad;
		}
		el[n++] = e;
		i += 2;
	}
	if (n == 0) {
		msg = "empty hex pattern";
		goto bad;
	}
	if (el[n - 1].jump) {
		msg = "hex pattern cannot end with a jump";
		goto bad;
	}
	gp_hexpat *h = calloc(1, sizeof(*h));
	if (!h) {
		free(el);
		return -ENOMEM;
	}
	h->el = el;
	h->n = n;
	size_t best_off = 0, best_len = 0, off = 0, run_off = 0, run_len = 0;
	bool before_jump = true, prefix = true;
	for (size_t k = 0; k < n; k++) {
		if (el[k].jump) {
			h->minlen += el[k].min;
			h->maxlen += el[k].max;
			before_jump = false;
			prefix = false;
			continue;
		}
		h->minlen++;
		h->maxlen++;
		if (prefix && el[k].mask == 0xff)
			h->fixed_prefix++;
		else
			prefix = false;
		if (before_jump) {
			if (el[k].mask == 0xff) {
				if (!run_len)
					run_off = off;
				run_len++;
				if (run_len > best_len) {
					best_len = run_len;
					best_off = run_off;
				}
			} else {
				run_len = 0;
			}
			off++;
		}
	}
	if (h->maxlen > GP_HEX_MAX_LEN) {
		gp_hexpat_free(h);
		return fail(err, "hex pattern can match more than 4096 bytes");
	}
	if (best_len) {
		h->anchor = malloc(best_len);
		if (!h->anchor) {
			gp_hexpat_free(h);
			return -ENOMEM;
		}
		for (size_t k = 0; k < best_len; k++)
			h->anchor[k] = el[best_off + k].val;
		h->anchor_off = best_off;
		h->anchor_len = best_len;
	}
	*ret = h;
	return 0;
bad:
	free(el);
	return fail(err, msg);
}

/*
 * The set of offsets reachable after each element is a bitmap over [0, maxlen]; jumps
 * widen it, byte tests filter it. This is linear in the pattern size whatever the jumps,
 * where backtracking would be exponential in the number of jumps.
 */
long gp_hexpat_match_at(const gp_hexpat *h, const uint8_t *buf, size_t avail)
{
	if (avail < h->minlen)
		return -1;
	/* quick reject on the exact prefix */
	for (size_t k = 0; k < h->fixed_prefix; k++)
		if (buf[k] != h->el[k].val)
			return -1;
	size_t lim = h->maxlen < avail ? h->maxlen : avail; /* positions 0..lim */
	size_t words = lim / 64 + 1;
	uint64_t stackbuf[2 * 66];
	uint64_t *cur = stackbuf, *nxt = stackbuf + 66, *heap = NULL;
	if (words > 66) {
		heap = calloc(2 * words, sizeof(uint64_t));
		if (!heap)
			return -1;
		cur = heap;
		nxt = heap + words;
	}
	memset(cur, 0, words * sizeof(uint64_t));
	cur[0] = 1;
	size_t lo = 0, hi = 0; /* bounds of set bits in cur */
	long result = -1;
	bool any = true;
	for (size_t k = 0; k < h->n && any; k++) {
		const gp_hexel *e = &h->el[k];
		memset(nxt, 0, words * sizeof(uint64_t));
		size_t nlo = (size_t)-1, nhi = 0;
		any = false;
		if (!e->jump) {
			for (size_t p = lo; p <= hi; p++) {
				if (!(cur[p / 64] >> (p % 64) & 1) || p >= lim)
					continue;
				if ((buf[p] & e->mask) != e->val)
					continue;
				size_t q = p + 1;
				nxt[q / 64] |= 1ull << (q % 64);
				if (q < nlo)
					nlo = q;
				nhi = q;
				any = true;
			}
		} else {
			for (size_t p = lo; p <= hi; p++) {
				if (!(cur[p / 64] >> (p % 64) & 1))
					continue;
				size_t a = p + e->min, b = p + e->max;
				if (a > lim)
					break;
				if (b > lim)
					b = lim;
				for (size_t q = a; q <= b; q++)
					nxt[q / 64] |= 1ull << (q % 64);
				if (a < nlo)
					nlo = a;
				if (b > nhi)
					nhi = b;
				any = true;
			}
		}
		uint64_t *t = cur;
		cur = nxt;
		nxt = t;
		lo = nlo;
		hi = nhi;
	}
	if (any)
		result = (long)lo;
	free(heap);
	return result;
}

char *gp_hexpat_to_regex(const gp_hexpat *h)
{
	/* worst case per element: a 16-entry class "[\xNN...]" = 4*16+2, a jump "(?s:.){N,M}" */
	size_t cap = h->n * 80 + 1;
	char *r = malloc(cap), *p = r;
	if (!r)
		return NULL;
	for (size_t k = 0; k < h->n; k++) {
		const gp_hexel *e = &h->el[k];
		if (e->jump) {
			if (e->max) /* [0] skips nothing; Vectorscan refuses {0,0} */
				p += sprintf(p, "[\\x00-\\xff]{%u,%u}", e->min, e->max);
		} else if (e->mask == 0xff) {
			p += sprintf(p, "\\x%02x", e->val);
		} else if (e->mask == 0) {
			p += sprintf(p, "[\\x00-\\xff]");
		} else {
			*p++ = '[';
			for (unsigned v = 0; v < 256; v++)
				if ((v & e->mask) == e->val)
					p += sprintf(p, "\\x%02x", v);
			*p++ = ']';
		}
	}
	*p = '\0';
	return r;
}
