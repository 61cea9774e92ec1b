/* Bitmaps in the kernel's two print formats: hex mask words and range lists. */
#include <string.h>

#include <memlens/bitmap.h>

#include "internal/internal.h"

#define LIST_MAX (1u << 24)

struct ml_bitmap {
	size_t nbits;
	uint64_t w[]; /* (nbits + 63) / 64 words, bit i in w[i / 64] */
};

static ml_bitmap *bm_new(size_t nbits)
{
	size_t nw = (nbits + 63) / 64;
	ml_bitmap *b = calloc(1, sizeof(*b) + (nw ? nw : 1) * sizeof(uint64_t));
	if (b)
		b->nbits = nbits;
	return b;
}

static void bm_set(ml_bitmap *b, size_t i) { b->w[i / 64] |= 1ull << (i % 64); }

static size_t trim_nl(const char *buf, size_t len)
{
	return len && buf[len - 1] == '\n' ? len - 1 : len;
}

int ml_bitmap_parse_mask(const char *buf, size_t len, ml_bitmap **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	len = trim_nl(buf, len);
	if (!len)
		return -EBADMSG;
	size_t nwords = 1;
	for (size_t i = 0; i < len; i++)
		nwords += buf[i] == ',';
	if (nwords > LIST_MAX / 32)
		return -EBADMSG;
	ml_bitmap *b = bm_new(nwords * 32);
	if (!b)
		return -ENOMEM;
	/* Walk from the end: the last word holds bits 0-31. */
	size_t word = 0, e = len;
	while (1) {
		size_t s = e;
		while (s > 0 && buf[s - 1] != ',')
			s--;
		if (e == s || e - s > 8) {
			ml_bitmap_free(b);
			return -EBADMSG;
		}
		uint64_t v = 0;
		for (size_t i = s; i < e; i++) {
			int h = ml__hexval(buf[i]);
			if (h < 0) {
				ml_bitmap_free(b);
				return -EBADMSG;
			}
			v = v << 4 | (uint64_t)h;
		}
		b->w[word / 2] |= v << (32 * (word % 2));
		word++;
		if (s == 0)
			break;
		e = s - 1;
	}
	*ret = b;
	return 0;
}

static int list_num(const char **p, const char *e, uint64_t *v)
{
	const char *q = *p;
	if (q == e || *q < '0' || *q > '9')
		return -EBADMSG;
	if (ml__parse_dec(&q, e, v) < 0 || *v >= LIST_MAX)
		return -EBADMSG;
	*p = q;
	return 0;
}

/* One pass to size, one to set: the same walk with @b NULL or not. */
static int list_walk(const char *buf, size_t len, ml_bitmap *b, size_t *nbits)
{
	const char *p = buf, *e = buf + len;
	size_t top = 0;
	while (p < e) {
		uint64_t lo, hi;
		if (list_num(&p, e, &lo) < 0)
			return -EBADMSG;
		hi = lo;
		if (p < e && *p == '-') {
			p++;
			if (list_num(&p, e, &hi) < 0 || hi < lo)
				return -EBADMSG;
		}
		if (p < e) {
			if (*p != ',' || p + 1 == e)
				return -EBADMSG;
			p++;
		}
		if (hi + 1 > top)
			top = (size_t)hi + 1;
		for (uint64_t i = lo; b && i <= hi; i++)
			bm_set(b, (size_t)i);
	}
	*nbits = top;
	return 0;
}

int ml_bitmap_parse_list(const char *buf, size_t len, ml_bitmap **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	len = trim_nl(buf, len);
	size_t nbits;
	int r = list_walk(buf, len, NULL, &nbits);
	if (r < 0)
		return r;
	ml_bitmap *b = bm_new(nbits);
	if (!b)
		return -ENOMEM;
	list_walk(buf, len, b, &nbits);
	*ret = b;
	return 0;
}

size_t ml_bitmap_size(const ml_bitmap *b) { return b ? b->nbits : 0; }

bool ml_bitmap_test(const ml_bitmap *b, size_t bit)
{
	return b && bit < b->nbits && (b->w[bit / 64] >> (bit % 64) & 1);
}

size_t ml_bitmap_count(const ml_bitmap *b)
{
	size_t n = 0;
	for (size_t i = 0; b && i < (b->nbits + 63) / 64; i++)
		n += (size_t)__builtin_popcountll(b->w[i]);
	return n;
}

ssize_t ml_bitmap_next(const ml_bitmap *b, size_t from)
{
	if (!b)
		return -1;
	for (size_t i = from; i < b->nbits; i++) {
		uint64_t w = b->w[i / 64] >> (i % 64);
		if (!w) {
			i = (i / 64) * 64 + 63;
			continue;
		}
		return (ssize_t)(i + (size_t)__builtin_ctzll(w));
	}
	return -1;
}

bool ml_bitmap_equal(const ml_bitmap *a, const ml_bitmap *b)
{
	if (!a || !b)
		return a == b;
	size_t na = (a->nbits + 63) / 64, nb = (b->nbits + 63) / 64;
	for (size_t i = 0; i < (na > nb ? na : nb); i++)
		if ((i < na ? a->w[i] : 0) != (i < nb ? b->w[i] : 0))
			return false;
	return true;
}

void ml_bitmap_free(ml_bitmap *b) { free(b); }
