/* Literal search without Vectorscan: a SIMD two-byte filter for one literal, a prefix hash for many. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#include "grep.h"

const uint8_t gp_fold[256] = {
#define R16(b) b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15
	R16(0x00), R16(0x10), R16(0x20), R16(0x30),
	0x40, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	R16(0x60), R16(0x70), R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0), R16(0xd0),
	R16(0xe0), R16(0xf0),
#undef R16
};

bool gp_eq_icase(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gp_fold[a[i]] != gp_fold[b[i]])
			return false;
	return true;
}

static uint8_t upper(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c; }

/*
 * How common a byte is in process memory (higher = more common). Zeros dominate, then
 * 0xff, spaces, lowercase letters and digits; the filter bytes are the two rarest of the
 * needle so that few positions survive it in real memory, not just in random data.
 */
static int byte_rank(uint8_t c)
{
	if (c == 0)
		return 1000;
	if (c == 0xff)
		return 900;
	if (c == ' ' || c == '\n')
		return 700;
	if (c >= 'a' && c <= 'z')
		return 500 + (strchr("etaoinshrdlu", c) ? 50 : 0);
	if (c >= '0' && c <= '9')
		return 450;
	if (c >= 'A' && c <= 'Z')
		return 350;
	if (c >= 0x20 && c < 0x7f)
		return 300;
	if (c < 0x20)
		return 250;
	return 100;
}

void gp_lit1_init(gp_lit1 *l, const uint8_t *needle, size_t len, bool icase)
{
	memset(l, 0, sizeof(*l));
	l->needle = needle;
	l->len = len;
	l->icase = icase;
	size_t best = 0, second = len > 1 ? 1 : 0;
	for (size_t i = 0; i < len; i++)
		if (byte_rank(needle[i]) < byte_rank(needle[best]))
			best = i;
	if (len > 1) {
		second = best == 0 ? 1 : 0;
		for (size_t i = 0; i < len; i++)
			if (i != best && byte_rank(needle[i]) < byte_rank(needle[second]))
				second = i;
	}
	l->i1 = best < second ? best : second;
	l->i2 = best < second ? second : best;
	uint8_t c1 = needle[l->i1], c2 = needle[l->i2];
	l->a1 = icase ? gp_fold[c1] : c1;
	l->b1 = icase ? upper(c1) : c1;
	l->a2 = icase ? gp_fold[c2] : c2;
	l->b2 = icase ? upper(c2) : c2;
}

static inline bool verify(const gp_lit1 *l, const uint8_t *p)
{
	return l->icase ? gp_eq_icase(p, l->needle, l->len) : memcmp(p, l->needle, l->len) == 0;
}

__attribute__((target("avx2"))) static int lit1_avx2(const gp_lit1 *l, const uint8_t *hay, size_t len,
						       size_t from, size_t to, gp_pos_fn fn, void *ctx,
						       size_t *done)
{
	/* candidate start p is tested via bytes hay[p+i1] and hay[p+i2]; need p + len <= len */
	size_t last = len - l->len; /* last possible start */
	if (to > last + 1)
		to = last + 1;
	const __m256i A1 = _mm256_set1_epi8((char)l->a1), B1 = _mm256_set1_epi8((char)l->b1);
	const __m256i A2 = _mm256_set1_epi8((char)l->a2), B2 = _mm256_set1_epi8((char)l->b2);
	size_t p = from;
	if (l->a1 == l->b1 && l->a2 == l->b2) {
		/* exact bytes (no case folding): one compare per filter byte, 64 positions a turn */
		while (p + 64 <= to && p + l->i2 + 64 <= len) {
			const uint8_t *q1 = hay + p + l->i1, *q2 = hay + p + l->i2;
			__m256i x0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)q1), A1),
						      _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)q2), A2));
			__m256i x1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(q1 + 32)), A1),
						      _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(q2 + 32)), A2));
			uint64_t m = (uint32_t)_mm256_movemask_epi8(x0) | (uint64_t)(uint32_t)_mm256_movemask_epi8(x1) << 32;
			while (m) {
				unsigned b = (unsigned)__builtin_ctzll(m);
				m &= m - 1;
				if (verify(l, hay + p + b)) {
					int r = fn(ctx, p + b);
					if (r)
						return r;
				}
			}
			p += 64;
		}
	}
	/* loads of 32 bytes at p+i2 must stay inside the buffer: p + i2 + 32 <= len */
	while (p + 32 <= to && p + l->i2 + 32 <= len) {
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(hay + p + l->i1));
		__m256i v2 = _mm256_loadu_si256((const __m256i *)(hay + p + l->i2));
		__m256i m1 = _mm256_or_si256(_mm256_cmpeq_epi8(v1, A1), _mm256_cmpeq_epi8(v1, B1));
		__m256i m2 = _mm256_or_si256(_mm256_cmpeq_epi8(v2, A2), _mm256_cmpeq_epi8(v2, B2));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(m1, m2));
		while (m) {
			unsigned b = (unsigned)__builtin_ctz(m);
			m &= m - 1;
			if (verify(l, hay + p + b)) {
				int r = fn(ctx, p + b);
				if (r)
					return r;
			}
		}
		p += 32;
	}
	*done = p;
	return 0;
}

int gp_lit1_scan(const gp_lit1 *l, const uint8_t *hay, size_t len, size_t from, size_t to,
		 gp_pos_fn fn, void *ctx)
{
	if (!l->len || len < l->len || from >= to)
		return 0;
	size_t last = len - l->len;
	if (to > last + 1)
		to = last + 1;
	if (from >= to)
		return 0;
	size_t p = from;
	static int have_avx2 = -1;
	if (have_avx2 < 0)
		have_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	if (have_avx2) {
		int r = lit1_avx2(l, hay, len, from, to, fn, ctx, &p);
		if (r)
			return r;
	}
	for (; p < to; p++) {
		uint8_t c1 = hay[p + l->i1];
		if (c1 != l->a1 && c1 != l->b1)
			continue;
		uint8_t c2 = hay[p + l->i2];
		if (c2 != l->a2 && c2 != l->b2)
			continue;
		if (verify(l, hay + p)) {
			int r = fn(ctx, p);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ---- many literals ---- */

struct gp_litn {
	bool icase;
	size_t keylen;            /* 1..4 bytes hashed */
	uint64_t bitmap[65536 / 64]; /* two-byte prefixes that start some needle (keylen >= 2) */
	uint8_t first[256];       /* first bytes (keylen 1) */
	uint32_t nbuckets;        /* power of two */
	uint32_t *head;           /* bucket -> first entry + 1 (0 = empty) */
	struct ent { uint32_t key, id, next; } *ents;
	const uint8_t *const *needles;
	const size_t *lens;
	size_t n;
};

static inline uint32_t key_of(const gp_litn *m, const uint8_t *p)
{
	uint32_t k = 0;
	for (size_t i = 0; i < m->keylen; i++)
		k = k << 8 | (m->icase ? gp_fold[p[i]] : p[i]);
	return k;
}

static inline uint32_t hash32(uint32_t k) { return (k * 2654435761u) ^ (k >> 15); }

int gp_litn_new(const uint8_t *const *needles, const size_t *lens, size_t n, bool icase, gp_litn **ret)
{
	gp_litn *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->icase = icase;
	m->needles = needles;
	m->lens = lens;
	m->n = n;
	size_t minlen = 4;
	for (size_t i = 0; i < n; i++)
		if (lens[i] < minlen)
			minlen = lens[i];
	m->keylen = minlen ? minlen : 1;
	m->nbuckets = 16;
	while (m->nbuckets < 2 * n)
		m->nbuckets <<= 1;
	m->head = calloc(m->nbuckets, sizeof(uint32_t));
	m->ents = calloc(n ? n : 1, sizeof(*m->ents));
	if (!m->head || !m->ents) {
		gp_litn_free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *s = needles[i];
		if (m->keylen >= 2) {
			uint8_t c0[2] = { s[0], icase ? upper(s[0]) : s[0] };
			uint8_t c1[2] = { s[1], icase ? upper(s[1]) : s[1] };
			if (icase) {
				c0[0] = gp_fold[s[0]];
				c1[0] = gp_fold[s[1]];
			}
			for (int a = 0; a < 2; a++)
				for (int b = 0; b < 2; b++) {
					unsigned v = (unsigned)c0[a] | (unsigned)c1[b] << 8;
					m->bitmap[v / 64] |= 1ull << (v % 64);
				}
		} else {
			m->first[s[0]] = 1;
			if (icase) {
				m->first[gp_fold[s[0]]] = 1;
				m->first[upper(s[0])] = 1;
			}
		}
		uint32_t k = key_of(m, s);
		uint32_t b = hash32(k) & (m->nbuckets - 1);
		/* keep each chain in increasing id order: append at the tail */
		m->ents[i] = (struct ent){ k, (uint32_t)i, 0 };
		if (!m->head[b]) {
			m->head[b] = (uint32_t)i + 1;
		} else {
			uint32_t e = m->head[b] - 1;
			while (m->ents[e].next)
				e = m->ents[e].next - 1;
			m->ents[e].next = (uint32_t)i + 1;
		}
	}
	*ret = m;
	return 0;
}

void gp_litn_free(gp_litn *m)
{
	if (!m)
		return;
	free(m->head);
	free(m->ents);
	free(m);
}

static inline int litn_check(const gp_litn *m, const uint8_t *hay, size_t len, size_t p,
			     gp_litn_fn fn, void *ctx)
{
	if (p + m->keylen > len)
		return 0;
	uint32_t k = key_of(m, hay + p);
	uint32_t e = m->head[hash32(k) & (m->nbuckets - 1)];
	while (e) {
		const struct ent *x = &m->ents[e - 1];
		e = x->next;
		if (x->key != k)
			continue;
		size_t l = m->lens[x->id];
		if (p + l > len)
			continue;
		const uint8_t *nd = m->needles[x->id];
		if (m->icase ? gp_eq_icase(hay + p, nd, l) : memcmp(hay + p, nd, l) == 0) {
			int r = fn(ctx, x->id, p);
			if (r)
				return r;
		}
	}
	return 0;
}

int gp_litn_scan(const gp_litn *m, const uint8_t *hay, size_t len, size_t from, size_t to,
		 gp_litn_fn fn, void *ctx)
{
	if (to > len)
		to = len;
	if (m->keylen >= 2) {
		size_t end2 = len >= 1 ? len - 1 : 0; /* positions with two bytes */
		size_t stop = to < end2 ? to : end2;
		const uint64_t *bm = m->bitmap;
		for (size_t p = from; p < stop; p++) {
			unsigned v = (unsigned)hay[p] | (unsigned)hay[p + 1] << 8;
			if (__builtin_expect(bm[v >> 6] >> (v & 63) & 1, 0)) {
				int r = litn_check(m, hay, len, p, fn, ctx);
				if (r)
					return r;
			}
		}
	} else {
		for (size_t p = from; p < to; p++)
			if (m->first[hay[p]]) {
				int r = litn_check(m, hay, len, p, fn, ctx);
				if (r)
					return r;
			}
	}
	return 0;
}
